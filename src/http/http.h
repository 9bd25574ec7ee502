/*
 * http.h - the HTTP layer shared by every endpoint file: the request a
 * handler sees, how it answers, the route table, the live configuration.
 *
 * Lifetime (libmicrohttpd's rules): a struct sb_http_req is created on the
 * first access-handler call of a request, collects the body on the next
 * calls, is dispatched once the body is complete, and is freed in the
 * NOTIFY_COMPLETED callback.  A handler runs on one of MHD's pool threads;
 * everything it borrows from req is valid until it returns.
 */
#ifndef SB_HTTP_H
#define SB_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "sessionbridge/config.h"
#include "sessionbridge/err.h"
#include "sessionbridge/jsonutil.h"
#include "sessionbridge/trace.h"

#define SB_HTTP_MAX_HEADERS 12

struct sb_http_route;

struct sb_http_req {
    struct MHD_Connection *conn;
    const char *method;                /* borrowed from MHD */
    const char *path;                  /* URL path, borrowed from MHD */
    const struct sb_http_route *route; /* matched route, NULL for 404 */
    const struct sb_config *cfg;       /* this thread's live config */
    struct sb_buf body;                /* request body as received */
    bool body_too_large;               /* more than cfg->max_body came */
    double started_ms;                 /* monotonic, for the access log */
    char request_id[SB_REQUEST_ID_MAX + 1]; /* X-Request-Id if sane, else
                                               generated; answered back */
    char trace_id[SB_TRACE_ID_HEX + 1];     /* of a valid traceparent */
    char log_error[32];                /* the answer's error code, or "" */
    char log_profile[64];              /* the credential's profile, or "" */
    char peer[INET6_ADDRSTRLEN];       /* sb_http_peer's text, once known */
    bool peer_loopback;

    /* The response being built. */
    unsigned status;
    struct sb_buf out;
    const char *content_type;          /* static string */
    char *header_names[SB_HTTP_MAX_HEADERS];  /* static strings */
    char *header_values[SB_HTTP_MAX_HEADERS]; /* copies: in header_text,
                                                 else heap (heap_values) */
    unsigned heap_values;                     /* bit i: value i is malloc'd */
    size_t header_count;
    size_t header_text_len;
    /* Last, so that resetting a request for reuse does not clear it. */
    char header_text[1024];
};

/* A handler answers by calling one of the sb_http_reply_* functions (or
 * filling status/out itself); it returns nothing: every outcome, errors
 * included, is an HTTP answer. */
typedef void (*sb_http_handler)(struct sb_http_req *req);

/* Methods a route accepts, as bits. */
#define SB_M_GET 0x1u
#define SB_M_POST 0x2u
#define SB_M_PUT 0x4u
#define SB_M_PATCH 0x8u
#define SB_M_DELETE 0x10u
#define SB_M_HEAD 0x20u
#define SB_M_OPTIONS 0x40u /* forward-auth only: CORS preflights */

struct sb_http_route {
    const char *name;     /* metrics label, e.g. "/v1/sessions/{sid}" */
    const char *pattern;  /* path; "{x}" matches one segment, a trailing
                             "*" any rest (including none) */
    unsigned methods;     /* SB_M_* bits */
    sb_http_handler handler;
};

/* The route table (routes.c) and its size. */
extern const struct sb_http_route sb_http_routes[];
extern const size_t sb_http_route_count;

/* Finds the route for path; *path_matched tells whether any route matched
 * the path at all (so a method mismatch is a 405, not a 404). */
const struct sb_http_route *sb_http_route_find(const char *path,
                                               unsigned method_bit,
                                               bool *path_matched);

/* The methods allowed for path, as an "Allow" header value. */
void sb_http_route_allow(const char *path, char *buf, size_t size);

/* Copies the n-th "{...}" segment of req->path (0-based) into buf (MHD
 * has percent-decoded the path once already, so "%2F" in a segment cannot
 * be told from "/"); returns its length or -1 when missing or too long. */
long sb_http_path_param(const struct sb_http_req *req, unsigned n, char *buf,
                        size_t size);

/* A request header, or NULL. */
const char *sb_http_header(const struct sb_http_req *req, const char *name);

/* The peer's address as text ("127.0.0.1", "unknown" when MHD cannot
 * say), owned by req, and whether it is loopback.  Worked out once per
 * request: the hot path asks twice (caller rules, then the codecs). */
const char *sb_http_peer(struct sb_http_req *req, bool *loopback);

/* Adds a response header; value is copied.  Repeats are allowed
 * (Set-Cookie).  Returns -1 when the header table is full. */
int sb_http_add_header(struct sb_http_req *req, const char *name,
                       const char *value);

/* Answers with status and the JSON text of body (reference stolen). */
void sb_http_reply_json(struct sb_http_req *req, unsigned status,
                        json_t *body);

/* Answers with the standard error body {"error": code, "message": msg}. */
void sb_http_reply_error(struct sb_http_req *req, unsigned status,
                         const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Names the credential's profile in the request's access line. */
void sb_http_log_profile(struct sb_http_req *req, const char *profile);

/* Answers with plain bytes and a static content type. */
void sb_http_reply_raw(struct sb_http_req *req, unsigned status,
                       const char *content_type, const char *body,
                       size_t len);

/* ---- the live configuration (live.c) ------------------------------------ */

/* Installs cfg (one reference is taken over) as the live config; worker
 * threads pick it up on their next request.  The previous one is released
 * once no thread uses it. */
void sb_live_install(struct sb_config *cfg);

/* This thread's snapshot of the live config: one atomic load per call,
 * a lock only when a reload happened since the thread's last request. */
const struct sb_config *sb_live_config(void);

/* How many configs were installed: 1 after start, +1 per reload. */
unsigned sb_live_generation(void);

/* Drops this thread's reference (thread exit, shutdown). */
void sb_live_thread_release(void);

/* Drops the process's reference at shutdown. */
void sb_live_shutdown(void);

/* ---- the server (server.c) ----------------------------------------------- */

struct sb_http_server;

/* Starts listening on cfg's [http] address with cfg->threads workers.
 * Writes the bound port to *port (useful with listen port 0). */
struct sb_http_server *sb_http_start(const struct sb_config *cfg,
                                     unsigned *port, struct sb_err *err);

/* Stops accepting new connections, waits until in-flight requests finish
 * or drain_seconds pass, then closes everything and frees the server. */
void sb_http_stop(struct sb_http_server *srv, unsigned drain_seconds);

/* Requests being handled right now (for draining and /metrics). */
long sb_http_inflight(void);

/* Open client connections (for /metrics). */
long sb_http_open_connections(void);

/* Connections the slow-client watchdog has closed (for /metrics). */
unsigned long sb_http_slow_clients_closed(void);

#endif
