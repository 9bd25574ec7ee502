/*
 * service.h - what the gRPC service files share: what a handler sees of a
 * call, how it answers, the method table, and caller authentication.
 *
 * A handler translates one unary call: the request message's bytes in,
 * a status and (when OK) the response message's bytes out.  It knows
 * nothing of completion queues or HTTP/2 (server.c owns those), so the
 * translation can be driven without a network (tests/fuzz/fuzz_grpc.c).
 */
#ifndef SB_GRPC_SERVICE_H
#define SB_GRPC_SERVICE_H

#include <grpc/status.h>
#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envoy/service/auth/v3/external_auth.pb-c.h"
#include "sessionbridge/bridge.h"
#include "sessionbridge/config.h"

#define SB_GRPC_TOKEN_MAX 512    /* longest x-bridge-token value read */
#define SB_GRPC_DETAILS_MAX 256  /* status message bytes */

/* What a handler sees of a call; everything borrowed for the call. */
struct sb_grpc_call_info {
    const struct sb_config *cfg; /* this thread's live config */
    const char *peer;            /* "ipv4:127.0.0.1:5555", or NULL */
    const char *bridge_token;    /* x-bridge-token metadata, or NULL */
};

/* A handler's answer: a status, and the packed response message (owned,
 * malloc'ed) when status is GRPC_STATUS_OK. */
struct sb_grpc_answer {
    grpc_status_code status;
    char details[SB_GRPC_DETAILS_MAX]; /* never holds a credential */
    uint8_t *msg;
    size_t len;
};

typedef void (*sb_grpc_handler)(const struct sb_grpc_call_info *call,
                                const uint8_t *req, size_t len,
                                struct sb_grpc_answer *ans);

/* One method of the table: its full path ("/package.Service/Method"). */
struct sb_grpc_method {
    const char *path;
    sb_grpc_handler handler;
};

/* The method table (methods.c) and its size. */
extern const struct sb_grpc_method sb_grpc_methods[];
extern const size_t sb_grpc_method_count;

/* The method of path[0..len), or NULL. */
const struct sb_grpc_method *sb_grpc_method_find(const char *path,
                                                 size_t len);

/* Sets a non-OK status with a printf-style message. */
void sb_grpc_fail(struct sb_grpc_answer *ans, grpc_status_code status,
                  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The gRPC status of a bridge error that is not a verdict on a
 * credential: UNAVAILABLE for the store and overload, INTERNAL for the
 * rest. */
grpc_status_code sb_grpc_status_of(enum sb_err_code code);

/* True when code is a verdict on a credential (answered in the message,
 * not as a failed call). */
bool sb_grpc_is_verdict(enum sb_err_code code);

/* The answer OK with message d packed from body, the HTTP API's JSON
 * answer (reference stolen) (answer.c); fails the answer otherwise. */
int sb_grpc_answer_json(json_t *body, const ProtobufCMessageDescriptor *d,
                        struct sb_grpc_answer *ans);

/* ---- callers (caller.c) ---------------------------------------------------- */

/* Checks the caller as the HTTP API does: an x-bridge-token of [api]
 * tokens_file, or, when [api] open_on_loopback has open_bit (0: never), a
 * loopback peer without a token.  Fails the answer with UNAUTHENTICATED
 * and returns false when it may not call. */
bool sb_grpc_authorize(const struct sb_grpc_call_info *call,
                       unsigned open_bit, struct sb_grpc_answer *ans);

/* True when peer ("ipv4:127.0.0.1:1234", "ipv6:[::1]:1234", percent-
 * encoded or not) is a loopback address. */
bool sb_grpc_peer_is_loopback(const char *peer);

/* ---- the services ---------------------------------------------------------- */

/* What Check reads of a CheckRequest (ext_authz.c): the request as the
 * bridge sees it, and the client's address and User-Agent for the codec
 * context.  Strings are borrowed from msg or owned copies. */
struct sb_grpc_check_in {
    Envoy__Service__Auth__V3__CheckRequest *msg; /* owned */
    struct sb_bridge_request rq;
    const char *user_agent;   /* NULL when absent */
    const char *backend;      /* x-sessionbridge-backend, NULL when absent */
    char addr[64];            /* "" when unknown */
    char *cookie_joined;      /* owned: raw "cookie" headers joined */
    char *raw[6];             /* owned copies of raw header values */
};

/* Unpacks a CheckRequest and reads its headers (the map, or Envoy's raw
 * header list) into in.  SB_ERR_INVALID_REQUEST for bytes that are no
 * CheckRequest or a header value holding a NUL byte.  Release in with
 * sb_grpc_check_in_free whatever the outcome. */
int sb_grpc_check_read(const uint8_t *req, size_t len,
                       struct sb_grpc_check_in *in, struct sb_err *err);
void sb_grpc_check_in_free(struct sb_grpc_check_in *in);

/* ext_authz.c: envoy.service.auth.v3.Authorization/Check */
void sb_grpc_ext_authz_check(const struct sb_grpc_call_info *call,
                             const uint8_t *req, size_t len,
                             struct sb_grpc_answer *ans);

/* apikeys.c: sessionbridge.v1.ApiKeys/Validate */
void sb_grpc_apikeys_validate(const struct sb_grpc_call_info *call,
                              const uint8_t *req, size_t len,
                              struct sb_grpc_answer *ans);

/* sessions.c: sessionbridge.v1.Sessions/Validate */
void sb_grpc_sessions_validate(const struct sb_grpc_call_info *call,
                               const uint8_t *req, size_t len,
                               struct sb_grpc_answer *ans);

/* health.c: grpc.health.v1.Health/Check */
void sb_grpc_health_check(const struct sb_grpc_call_info *call,
                          const uint8_t *req, size_t len,
                          struct sb_grpc_answer *ans);

#endif
