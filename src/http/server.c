/* server.c - libmicrohttpd setup and the request lifecycle: collect the
 * body, dispatch to the route's handler, queue the answer, log and count. */
#include "http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "sessionbridge/log.h"
#include "sessionbridge/redis.h"

struct sb_http_server {
    struct MHD_Daemon *daemon;
    pthread_t watchdog;
    bool watchdog_running;
};

/* Where a connection is with its current request, for the slow-client
 * deadlines: libmicrohttpd's own timeout restarts on every byte, so a
 * client sending one header line every few seconds would hold its
 * connection for ever.  The watchdog thread closes (shutdown(2); the
 * library then closes and frees it) a connection that has been WAITING
 * for a complete request line longer than idle_timeout, or RECEIVING the
 * headers and body of a request longer than request_timeout. */
enum conn_phase { PHASE_WAITING, PHASE_RECEIVING, PHASE_HANDLING };

struct conn_watch {
    MHD_socket fd;
    atomic_int phase;          /* enum conn_phase */
    atomic_llong since_ms;     /* monotonic ms the phase began */
    struct conn_watch *prev, *next;
};

/* The watched connections: linked and unlinked under watch_lock, which
 * the watchdog holds while it shuts sockets down, so a socket is never
 * shut down after the library has closed (and maybe reused) its fd. */
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn_watch *watch_head;
static atomic_bool watchdog_stop;
static atomic_ulong slow_closed;
static long long idle_limit_ms, request_limit_ms;

static atomic_long inflight;
static atomic_long open_connections;
static atomic_bool draining;

/* Each pool thread keeps finished request objects for reuse, so the hot
 * path does not malloc one per request. */
#define REQ_CACHE 8
static __thread struct sb_http_req *req_cache[REQ_CACHE];
static __thread size_t req_cached;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t cache_key;

/* Thread exit: free the thread's cached request objects. */
static void free_cache_at_exit(void *unused)
{
    while (req_cached > 0) {
        struct sb_http_req *r = req_cache[--req_cached];
        sb_buf_free(&r->body);
        sb_buf_free(&r->out);
        free(r);
    }
}

static void make_cache_key(void)
{
    pthread_key_create(&cache_key, free_cache_at_exit);
}

static double mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

long sb_http_inflight(void)
{
    return atomic_load(&inflight);
}

long sb_http_open_connections(void)
{
    return atomic_load(&open_connections);
}

unsigned long sb_http_slow_clients_closed(void)
{
    return atomic_load(&slow_closed);
}

/* The watch record of conn (its socket context), or NULL. */
static struct conn_watch *watch_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci != NULL ? ci->socket_context : NULL;
}

static void watch_set(struct conn_watch *w, enum conn_phase phase)
{
    if (w == NULL)
        return;
    atomic_store(&w->since_ms, (long long)mono_ms());
    atomic_store(&w->phase, (int)phase);
}

/* Every 200 ms: shuts down the connections past their phase's deadline. */
static void *watchdog_main(void *unused)
{
    while (!atomic_load(&watchdog_stop)) {
        long long now = (long long)mono_ms();
        unsigned long closed = 0;
        struct conn_watch *w;

        pthread_mutex_lock(&watch_lock);
        for (w = watch_head; w != NULL; w = w->next) {
            int phase = atomic_load(&w->phase);
            long long limit = phase == PHASE_WAITING ? idle_limit_ms
                            : phase == PHASE_RECEIVING ? request_limit_ms
                            : -1;
            if (limit < 0 || now - atomic_load(&w->since_ms) <= limit)
                continue;
            shutdown(w->fd, SHUT_RDWR);
            atomic_store(&w->phase, (int)PHASE_HANDLING);
            closed++;
        }
        pthread_mutex_unlock(&watch_lock);
        if (closed > 0) {
            char n[32];
            snprintf(n, sizeof(n), "%lu", closed);
            atomic_fetch_add(&slow_closed, closed);
            sb_log(SB_LOG_WARN, "closed connections that did not send a "
                   "whole request in time", "count", n, NULL);
        }
        usleep(200000);
    }
    return NULL;
}

/* libmicrohttpd's URI log hook: the request line is complete, so the
 * request's headers and body are now due within request_timeout.  The
 * NULL returned starts the request's context (on_access) empty. */
static void *on_request_line(void *cls, const char *uri,
                             struct MHD_Connection *conn)
{
    watch_set(watch_of(conn), PHASE_RECEIVING);
    return NULL;
}

static unsigned method_bit(const char *m)
{
    if (strcmp(m, "GET") == 0)
        return SB_M_GET;
    if (strcmp(m, "POST") == 0)
        return SB_M_POST;
    if (strcmp(m, "PUT") == 0)
        return SB_M_PUT;
    if (strcmp(m, "PATCH") == 0)
        return SB_M_PATCH;
    if (strcmp(m, "DELETE") == 0)
        return SB_M_DELETE;
    if (strcmp(m, "HEAD") == 0)
        return SB_M_HEAD;
    if (strcmp(m, "OPTIONS") == 0)
        return SB_M_OPTIONS;
    return 0;
}

static struct sb_http_req *req_new(void)
{
    struct sb_http_req *r;

    pthread_once(&cache_key_once, make_cache_key);
    pthread_setspecific(cache_key, (void *)1);
    if (req_cached > 0) {
        r = req_cache[--req_cached];
    } else {
        r = calloc(1, sizeof(*r));
        if (r == NULL)
            return NULL;
        sb_buf_init(&r->body);
        sb_buf_init(&r->out);
    }
    return r;
}

/* Resets r for reuse (keeping its buffers' memory) or frees it. */
static void req_release(struct sb_http_req *r)
{
    size_t i;

    for (i = 0; i < r->header_count; i++)
        if (r->heap_values & (1u << i))
            free(r->header_values[i]);
    if (req_cached < REQ_CACHE && r->body.cap <= 65536 && r->out.cap <= 65536) {
        struct sb_buf body = r->body, out = r->out;
        body.len = 0;
        out.len = 0;
        memset(r, 0, offsetof(struct sb_http_req, header_text));
        r->body = body;
        r->out = out;
        req_cache[req_cached++] = r;
        return;
    }
    sb_buf_free(&r->body);
    sb_buf_free(&r->out);
    free(r);
}

const char *sb_http_header(const struct sb_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* Writes the IPv4 address a (host order) as dotted decimal; buf holds
 * INET_ADDRSTRLEN.  inet_ntop formats through sprintf, a cost on every
 * forward-auth request. */
static void format_ipv4(uint32_t a, char *buf)
{
    int shift;

    for (shift = 24; shift >= 0; shift -= 8) {
        unsigned octet = (a >> shift) & 0xff;
        if (octet >= 100)
            *buf++ = (char)('0' + octet / 100);
        if (octet >= 10)
            *buf++ = (char)('0' + octet / 10 % 10);
        *buf++ = (char)('0' + octet % 10);
        *buf++ = shift > 0 ? '.' : '\0';
    }
}

const char *sb_http_peer(struct sb_http_req *req, bool *loopback)
{
    const union MHD_ConnectionInfo *ci;
    const struct sockaddr *sa;

    if (req->peer[0] != '\0') {
        *loopback = req->peer_loopback;
        return req->peer;
    }
    ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    sa = ci ? ci->client_addr : NULL;
    strcpy(req->peer, "unknown");
    req->peer_loopback = false;
    if (sa != NULL && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        uint32_t a = ntohl(in->sin_addr.s_addr);
        format_ipv4(a, req->peer);
        req->peer_loopback = (a >> 24) == 127;
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, req->peer, sizeof(req->peer));
        req->peer_loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    *loopback = req->peer_loopback;
    return req->peer;
}

int sb_http_add_header(struct sb_http_req *req, const char *name,
                       const char *value)
{
    size_t len = strlen(value);
    char *copy;

    if (req->header_count == SB_HTTP_MAX_HEADERS)
        return -1;
    if (len < sizeof(req->header_text) - req->header_text_len) {
        copy = req->header_text + req->header_text_len;
        memcpy(copy, value, len + 1);
        req->header_text_len += len + 1;
    } else {
        copy = strdup(value);
        if (copy == NULL)
            return -1;
        req->heap_values |= 1u << req->header_count;
    }
    req->header_names[req->header_count] = (char *)name;
    req->header_values[req->header_count] = copy;
    req->header_count++;
    return 0;
}

void sb_http_reply_raw(struct sb_http_req *req, unsigned status,
                       const char *content_type, const char *body, size_t len)
{
    req->status = status;
    req->content_type = content_type;
    req->out.len = 0;
    if (sb_buf_append(&req->out, body, len) != 0)
        req->status = 500;
}

void sb_http_reply_json(struct sb_http_req *req, unsigned status, json_t *body)
{
    req->status = status;
    req->content_type = "application/json";
    req->out.len = 0;
    if (body == NULL ||
        sb_json_dump(body, SB_JSON_CANONICAL, &req->out, NULL) != 0) {
        req->out.len = 0;
        req->status = 500;
        sb_buf_append_str(&req->out,
                          "{\"error\":\"internal\",\"message\":\"cannot "
                          "serialise the response\"}");
    }
    json_decref(body);
}

void sb_http_log_profile(struct sb_http_req *req, const char *profile)
{
    snprintf(req->log_profile, sizeof(req->log_profile), "%s",
             profile != NULL ? profile : "");
}

void sb_http_reply_error(struct sb_http_req *req, unsigned status,
                         const char *code, const char *fmt, ...)
{
    char msg[SB_ERR_MSG_MAX];
    va_list ap;

    snprintf(req->log_error, sizeof(req->log_error), "%s", code);

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sb_http_reply_json(req, status,
                       json_pack("{s:s, s:s}", "error", code, "message", msg));
}

/* The request's id (X-Request-Id when sane, else a new one) and the
 * trace id of its traceparent, for the access line; never a value that
 * failed the checks of sessionbridge/trace.h. */
static void name_request(struct sb_http_req *req)
{
    const char *id = sb_http_header(req, "X-Request-Id");

    if (sb_request_id_sane(id))
        snprintf(req->request_id, sizeof(req->request_id), "%s", id);
    else
        sb_request_id_new(req->request_id);
    sb_traceparent_trace_id(sb_http_header(req, "traceparent"),
                            req->trace_id);
}

/* Runs the handler (or answers 404 / 405 / 413) for a complete request. */
static void dispatch(struct sb_http_req *req)
{
    bool path_matched = false;
    unsigned mbit = method_bit(req->method);
    char allow[128];

    req->cfg = sb_live_config();
    req->route = sb_http_route_find(req->path, mbit, &path_matched);
    name_request(req);
    if (req->body_too_large) {
        sb_http_reply_error(req, 413, "too_large",
                            "request body exceeds %zu bytes",
                            req->cfg->max_body);
        return;
    }
    if (req->route == NULL && path_matched) {
        sb_http_route_allow(req->path, allow, sizeof(allow));
        sb_http_add_header(req, MHD_HTTP_HEADER_ALLOW, allow);
        sb_http_reply_error(req, 405, "method_not_allowed",
                            "%s is not allowed here (allowed: %s)",
                            mbit ? req->method : "this method", allow);
        return;
    }
    if (req->route == NULL) {
        sb_http_reply_error(req, 404, "not_found", "no such endpoint");
        return;
    }
    req->route->handler(req);
    if (req->status == 0)
        sb_http_reply_error(req, 500, "internal", "handler gave no answer");
}

static enum MHD_Result queue_answer(struct sb_http_req *req)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    size_t i;

    /* an empty body (every forward-auth answer) needs no copy */
    if (req->out.len == 0)
        resp = MHD_create_response_from_buffer(0, (void *)"",
                                               MHD_RESPMEM_PERSISTENT);
    else
        resp = MHD_create_response_from_buffer(req->out.len, req->out.data,
                                               MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    if (req->content_type != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                req->content_type);
    for (i = 0; i < req->header_count; i++)
        MHD_add_response_header(resp, req->header_names[i],
                                req->header_values[i]);
    if (req->request_id[0] != '\0')
        MHD_add_response_header(resp, "X-Request-Id", req->request_id);
    if (atomic_load(&draining))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(req->conn, req->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* True when the request's Content-Length exceeds max_body. */
static bool declared_body_too_large(struct MHD_Connection *conn)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end;
    unsigned long long n;

    if (v == NULL || *v < '0' || *v > '9')
        return false;
    n = strtoull(v, &end, 10);
    return *end == '\0' && n > sb_live_config()->max_body;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    struct sb_http_req *req = *con_cls;
    const struct sb_config *cfg;

    if (req == NULL) {
        /* First call: headers only.  Answering now would make MHD close the
         * connection (PERF-NOTES), so only set up the request. */
        req = req_new();
        if (req == NULL)
            return MHD_NO;
        req->conn = conn;
        req->method = method;
        req->path = url;
        req->started_ms = mono_ms();
        atomic_fetch_add(&inflight, 1);
        *con_cls = req;
        if (!declared_body_too_large(conn))
            return MHD_YES;
        /* A body announced beyond max_body is answered 413 now, not after
         * the client has sent (or trickled) it; MHD then closes. */
        req->body_too_large = true;
        watch_set(watch_of(conn), PHASE_HANDLING);
        dispatch(req);
        return queue_answer(req);
    }
    if (*upload_data_size > 0) {
        cfg = sb_live_config();
        if (req->body.len + *upload_data_size > cfg->max_body)
            req->body_too_large = true;
        else if (sb_buf_append(&req->body, upload_data, *upload_data_size) != 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    watch_set(watch_of(conn), PHASE_HANDLING);
    dispatch(req);
    return queue_answer(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct sb_http_req *req = *con_cls;
    size_t route_index;
    double ms;

    if (req == NULL)
        return;
    ms = mono_ms() - req->started_ms;
    route_index = req->route ? (size_t)(req->route - sb_http_routes)
                             : sb_http_route_count;
    if (req->status != 0) {
        sb_metrics_request(route_index, req->status, ms);
        struct sb_log_access_line line = {
            req->method, req->route ? req->route->name : "unmatched",
            req->status, ms, req->log_error, req->log_profile,
            req->request_id, req->trace_id};
        sb_log_access(&line);
    }
    *con_cls = NULL;
    req_release(req);
    atomic_fetch_sub(&inflight, 1);
    watch_set(watch_of(conn), PHASE_WAITING);
}

/* Counts connections and links / unlinks each one's watch record.  The
 * library calls this with CLOSED before it closes the socket. */
static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct conn_watch *w = *socket_context;
    const union MHD_ConnectionInfo *ci;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&open_connections, 1);
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        w = ci != NULL ? calloc(1, sizeof(*w)) : NULL;
        if (w == NULL)
            return;
        w->fd = ci->connect_fd;
        watch_set(w, PHASE_WAITING);
        pthread_mutex_lock(&watch_lock);
        w->next = watch_head;
        if (watch_head != NULL)
            watch_head->prev = w;
        watch_head = w;
        pthread_mutex_unlock(&watch_lock);
        *socket_context = w;
        return;
    }
    atomic_fetch_sub(&open_connections, 1);
    if (w == NULL)
        return;
    pthread_mutex_lock(&watch_lock);
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        watch_head = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    pthread_mutex_unlock(&watch_lock);
    *socket_context = NULL;
    free(w);
}

/* libmicrohttpd's own diagnostics; fmt comes from the library, never from
 * a client, so it is safe as a format. */
__attribute__((format(printf, 2, 0)))
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256];
    size_t n;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    sb_log(SB_LOG_WARN, "libmicrohttpd", "detail", msg, NULL);
}

/* Resolves cfg's listen address into ss (numeric IPv4/IPv6 or localhost). */
static int listen_addr(const struct sb_config *cfg,
                       struct sockaddr_storage *ss, struct sb_err *err)
{
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    const char *host = cfg->listen_host;

    memset(ss, 0, sizeof(*ss));
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)cfg->listen_port);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)cfg->listen_port);
        return 0;
    }
    return sb_err_set(err, SB_ERR_CONFIG,
                      "[http] listen: host must be a numeric IPv4/IPv6 "
                      "address or localhost");
}

struct sb_http_server *sb_http_start(const struct sb_config *cfg,
                                     unsigned *port, struct sb_err *err)
{
    struct sb_http_server *srv;
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_TURBO;

    if (listen_addr(cfg, &ss, err) != 0)
        return NULL;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    atomic_store(&draining, false);
    idle_limit_ms = (long long)cfg->idle_timeout * 1000;
    request_limit_ms = (long long)cfg->request_timeout * 1000;
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->idle_timeout,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned int)cfg->max_connections_per_ip,
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, NULL,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->max_header,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
        MHD_OPTION_END);
    if (srv->daemon == NULL) {
        free(srv);
        sb_err_set(err, SB_ERR_CONFIG, "cannot listen on %s:%u",
                   cfg->listen_host, cfg->listen_port);
        return NULL;
    }
    info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : cfg->listen_port;
    atomic_store(&watchdog_stop, false);
    srv->watchdog_running =
        pthread_create(&srv->watchdog, NULL, watchdog_main, NULL) == 0;
    if (!srv->watchdog_running)
        sb_log(SB_LOG_WARN, "cannot start the slow-client watchdog; only "
               "libmicrohttpd's idle timeout applies", NULL);
    return srv;
}

void sb_http_stop(struct sb_http_server *srv, unsigned drain_seconds)
{
    double deadline = mono_ms() + drain_seconds * 1000.0;
    MHD_socket fd;

    atomic_store(&draining, true);
    fd = MHD_quiesce_daemon(srv->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    while (atomic_load(&inflight) > 0 && mono_ms() < deadline)
        usleep(10000);
    if (atomic_load(&inflight) > 0)
        sb_log(SB_LOG_WARN, "drain deadline passed; closing busy connections",
               NULL);
    atomic_store(&watchdog_stop, true);
    if (srv->watchdog_running)
        pthread_join(srv->watchdog, NULL);
    MHD_stop_daemon(srv->daemon);
    free(srv);
}
