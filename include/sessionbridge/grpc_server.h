/*
 * grpc_server.h - the gRPC listener of the daemon ([grpc] listen): Envoy's
 * ext_authz Check, sessionbridge.v1 ApiKeys and Sessions, and gRPC health,
 * served by the gRPC core library over the same bridge as the HTTP API.
 *
 * The server reads the live configuration through `live` on every call
 * (a SIGHUP reload applies to the next call) and calls `release` when a
 * worker thread ends, so its reference to the config goes.  Listen
 * address, threads and max_message_bytes are read once, at start.
 */
#ifndef SESSIONBRIDGE_GRPC_SERVER_H
#define SESSIONBRIDGE_GRPC_SERVER_H

#include "sessionbridge/config.h"
#include "sessionbridge/err.h"

struct sb_grpc_server;

/* Starts listening on cfg's [grpc] listen with cfg->grpc_threads workers;
 * *port receives the bound port (useful with port 0).  NULL with err
 * when the address cannot be bound. */
struct sb_grpc_server *sb_grpc_start(const struct sb_config *cfg,
                                     const struct sb_config *(*live)(void),
                                     void (*release)(void), unsigned *port,
                                     struct sb_err *err);

/* Stops admitting calls and connections; calls in flight go on.  Lets
 * SIGTERM drain the gRPC and HTTP listeners at the same time. */
void sb_grpc_drain_begin(struct sb_grpc_server *srv);

/* Waits until the calls in flight finish or drain_seconds pass (then
 * cancels what is left), stops the workers and frees the server. */
void sb_grpc_stop(struct sb_grpc_server *srv, unsigned drain_seconds);

#endif
