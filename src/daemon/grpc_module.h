/*
 * grpc_module.h - the gRPC listener as a module the daemon loads only
 * when [grpc] listen is set.  The gRPC core and what it pulls in (abseil,
 * re2, c-ares, libstdc++) cost several MB of resident memory once mapped;
 * a daemon without the listener never maps them.  The module
 * (sessionbridge-grpc.so, built from src/grpc) calls into the daemon's own
 * code, which the daemon exports.
 */
#ifndef SESSIONBRIDGE_DAEMON_GRPC_MODULE_H
#define SESSIONBRIDGE_DAEMON_GRPC_MODULE_H

#include <stddef.h>

#include "sessionbridge/grpc_server.h"

/* The module's entry points (sessionbridge/grpc_server.h). */
struct sb_grpc_module {
    struct sb_grpc_server *(*start)(const struct sb_config *cfg,
                                    const struct sb_config *(*live)(void),
                                    void (*release)(void), unsigned *port,
                                    struct sb_err *err);
    void (*drain_begin)(struct sb_grpc_server *srv);
    void (*stop)(struct sb_grpc_server *srv, unsigned drain_seconds);
};

/* Loads the module: from the directory of the running executable (a build
 * tree), else from the install's module directory.  Never unloaded.  -1
 * with err naming the paths tried and why they failed. */
int sb_grpc_module_load(struct sb_grpc_module *m, struct sb_err *err);

#endif
