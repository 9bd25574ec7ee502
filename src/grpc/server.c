/* server.c - the gRPC listener's life: the gRPC core server, one
 * completion queue per worker thread, each unary call's three steps (a
 * call arrives, its message arrives, the answer is sent), and the drain on
 * SIGTERM.  What a call means is the method table's (methods.c); this
 * file only moves bytes.
 *
 * Each worker keeps CALLS_REQUESTED calls requested on its queue, so a
 * call waiting for its message never holds a thread; a handler runs on
 * the worker that received the message and may block on Redis (bounded by
 * the store's timeouts), as an HTTP worker does. */
#include "sessionbridge/grpc_server.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"
#include "sessionbridge/log.h"
#include "sessionbridge/redis.h"

#define CALLS_REQUESTED 8 /* calls each worker keeps requested */
#define BRIDGE_TOKEN_KEY "x-bridge-token"

struct sb_grpc_server;

struct worker {
    struct sb_grpc_server *srv;
    grpc_completion_queue *cq;
    pthread_t thread;
    bool started;
};

struct sb_grpc_server {
    grpc_server *server;
    grpc_completion_queue *shutdown_cq; /* receives the shutdown tag */
    struct worker *workers;
    unsigned nworkers;
    atomic_bool stopping;
    bool shutdown_begun;
    const struct sb_config *(*live)(void);
    void (*release)(void);
};

enum call_step { STEP_NEW, STEP_MESSAGE, STEP_SENT };

/* One unary call, from its request to its answer sent; the tag of every
 * batch of the call. */
struct call {
    enum call_step step;
    struct worker *w;
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array md;
    grpc_byte_buffer *request;
    grpc_byte_buffer *response;
    grpc_slice status_details;
    int cancelled;
};

static void call_free(struct call *c)
{
    if (c->call != NULL)
        grpc_call_unref(c->call);
    grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->md);
    if (c->request != NULL)
        grpc_byte_buffer_destroy(c->request);
    if (c->response != NULL)
        grpc_byte_buffer_destroy(c->response);
    grpc_slice_unref(c->status_details);
    free(c);
}

/* Asks the server for the next call on w's queue. */
static void request_call(struct worker *w)
{
    struct call *c = calloc(1, sizeof(*c));
    grpc_call_error e;

    if (c == NULL) {
        sb_log(SB_LOG_ERROR, "grpc: out of memory requesting a call", NULL);
        return;
    }
    c->w = w;
    c->step = STEP_NEW;
    c->status_details = grpc_empty_slice();
    grpc_call_details_init(&c->details);
    grpc_metadata_array_init(&c->md);
    e = grpc_server_request_call(w->srv->server, &c->call, &c->details,
                                 &c->md, w->cq, w->cq, c);
    if (e != GRPC_CALL_OK) {
        sb_log(SB_LOG_ERROR, "grpc: cannot request a call", "reason",
               grpc_call_error_to_string(e), NULL);
        call_free(c);
    }
}

/* A call arrived: read its message. */
static void on_new(struct call *c)
{
    grpc_op op;

    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &c->request;
    c->step = STEP_MESSAGE;
    if (grpc_call_start_batch(c->call, &op, 1, c, NULL) != GRPC_CALL_OK)
        call_free(c);
}

/* The x-bridge-token metadata of c copied into buf, or NULL. */
static const char *bridge_token(const struct call *c, char *buf, size_t size)
{
    size_t i, n;

    for (i = 0; i < c->md.count; i++) {
        const grpc_metadata *m = &c->md.metadata[i];
        if (grpc_slice_str_cmp(m->key, BRIDGE_TOKEN_KEY) != 0)
            continue;
        n = GRPC_SLICE_LENGTH(m->value);
        if (n >= size)
            n = size - 1; /* too long for any token: stays unknown */
        memcpy(buf, GRPC_SLICE_START_PTR(m->value), n);
        buf[n] = '\0';
        return buf;
    }
    return NULL;
}

/* The request message as one contiguous slice. */
static grpc_slice request_bytes(grpc_byte_buffer *bb)
{
    grpc_byte_buffer_reader reader;
    grpc_slice s;

    if (!grpc_byte_buffer_reader_init(&reader, bb))
        return grpc_empty_slice();
    s = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    return s;
}

/* True when the call's deadline has passed: its answer would be late,
 * and the work (a Redis round trip) is not done. */
static bool deadline_passed(const struct call *c)
{
    gpr_timespec now = gpr_now(GPR_CLOCK_MONOTONIC);
    gpr_timespec dl = gpr_convert_clock_type(c->details.deadline,
                                             GPR_CLOCK_MONOTONIC);

    return gpr_time_cmp(dl, now) <= 0;
}

/* The access line of a call, as the HTTP API writes one per request: the
 * method, the status code and the handling time (never a credential). */
static void log_call(const struct call *c, const struct sb_grpc_answer *ans,
                     gpr_timespec started)
{
    char code[16], ms[32], method[128];
    gpr_timespec took;
    size_t n = GRPC_SLICE_LENGTH(c->details.method);

    if (!sb_log_enabled(SB_LOG_INFO))
        return;
    took = gpr_time_sub(gpr_now(GPR_CLOCK_MONOTONIC), started);
    if (n >= sizeof(method))
        n = sizeof(method) - 1;
    memcpy(method, GRPC_SLICE_START_PTR(c->details.method), n);
    method[n] = '\0';
    snprintf(code, sizeof(code), "%d", (int)ans->status);
    snprintf(ms, sizeof(ms), "%.3f", gpr_timespec_to_micros(took) / 1000.0);
    sb_log(SB_LOG_INFO, "grpc", "method",
           sb_grpc_method_find(method, n) ? method : "(unknown)", "code",
           code, "ms", ms, NULL);
}

/* Runs the method of c on its message into ans. */
static void run_method(struct call *c, struct sb_grpc_answer *ans)
{
    const struct sb_grpc_method *m = sb_grpc_method_find(
        (const char *)GRPC_SLICE_START_PTR(c->details.method),
        GRPC_SLICE_LENGTH(c->details.method));
    char token[SB_GRPC_TOKEN_MAX + 1];
    struct sb_grpc_call_info info;
    grpc_slice msg;

    if (m == NULL) {
        sb_grpc_fail(ans, GRPC_STATUS_UNIMPLEMENTED, "unknown method");
        return;
    }
    if (c->request == NULL) {
        sb_grpc_fail(ans, GRPC_STATUS_INVALID_ARGUMENT,
                     "missing_body: the call carried no request message");
        return;
    }
    if (deadline_passed(c)) {
        sb_grpc_fail(ans, GRPC_STATUS_DEADLINE_EXCEEDED,
                     "the deadline passed before the call was handled");
        return;
    }
    info.cfg = c->w->srv->live();
    info.peer = grpc_call_get_peer(c->call);
    info.bridge_token = bridge_token(c, token, sizeof(token));
    msg = request_bytes(c->request);
    m->handler(&info, GRPC_SLICE_START_PTR(msg), GRPC_SLICE_LENGTH(msg),
               ans);
    grpc_slice_unref(msg);
    gpr_free((void *)info.peer);
}

/* The message arrived (or the call ended without one): answer it. */
static void on_message(struct call *c, bool ok)
{
    struct sb_grpc_answer ans = {GRPC_STATUS_OK, "", NULL, 0};
    grpc_op ops[4];
    size_t n = 0;
    grpc_slice out;
    gpr_timespec started = gpr_now(GPR_CLOCK_MONOTONIC);

    if (!ok) { /* cancelled: too large, deadline, client gone */
        call_free(c);
        return;
    }
    run_method(c, &ans);
    log_call(c, &ans, started);
    memset(ops, 0, sizeof(ops));
    ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (ans.status == GRPC_STATUS_OK) {
        out = grpc_slice_from_copied_buffer((const char *)ans.msg, ans.len);
        c->response = grpc_raw_byte_buffer_create(&out, 1);
        grpc_slice_unref(out);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = c->response;
    }
    free(ans.msg);
    c->status_details = grpc_slice_from_copied_string(ans.details);
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = ans.status;
    ops[n++].data.send_status_from_server.status_details = &c->status_details;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;
    c->step = STEP_SENT;
    if (grpc_call_start_batch(c->call, ops, n, c, NULL) != GRPC_CALL_OK)
        call_free(c);
}

/* A worker: takes its queue's events until the queue shuts down. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    unsigned i;

    for (i = 0; i < CALLS_REQUESTED; i++)
        request_call(w);
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(
            w->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        struct call *c = ev.tag;
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        switch (c->step) {
        case STEP_NEW:
            if (!ev.success) { /* the server is shutting down */
                call_free(c);
                break;
            }
            if (!atomic_load(&w->srv->stopping))
                request_call(w);
            on_new(c);
            break;
        case STEP_MESSAGE: on_message(c, ev.success); break;
        case STEP_SENT: call_free(c); break;
        }
    }
    w->srv->release();
    sb_redis_thread_release();
    return NULL;
}

/* The server's channel arguments: the limits of [grpc] and [http]. */
static grpc_server *create_server(const struct sb_config *cfg)
{
    grpc_arg args[4];
    grpc_channel_args ca = {4, args};

    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[0].value.integer = (int)cfg->grpc_max_message;
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = GRPC_ARG_MAX_METADATA_SIZE;
    args[1].value.integer = (int)cfg->max_header;
    args[2].type = GRPC_ARG_INTEGER;
    args[2].key = GRPC_ARG_MAX_CONNECTION_IDLE_MS;
    args[2].value.integer = (int)(cfg->idle_timeout * 1000);
    args[3].type = GRPC_ARG_INTEGER;
    args[3].key = GRPC_ARG_ALLOW_REUSEPORT;
    args[3].value.integer = 0;
    return grpc_server_create(&ca, NULL);
}

/* Waits for the shutdown tag until deadline; true when it came. */
static bool shutdown_done(struct sb_grpc_server *srv, gpr_timespec deadline)
{
    grpc_event ev =
        grpc_completion_queue_pluck(srv->shutdown_cq, srv, deadline, NULL);

    return ev.type == GRPC_OP_COMPLETE;
}

/* Frees what sb_grpc_start set up; the server has shut down or never
 * started. */
static void destroy(struct sb_grpc_server *srv)
{
    unsigned i;

    for (i = 0; i < srv->nworkers; i++) {
        if (srv->workers[i].cq != NULL)
            grpc_completion_queue_shutdown(srv->workers[i].cq);
    }
    for (i = 0; i < srv->nworkers; i++) {
        if (srv->workers[i].started)
            pthread_join(srv->workers[i].thread, NULL);
    }
    if (srv->server != NULL)
        grpc_server_destroy(srv->server);
    for (i = 0; i < srv->nworkers; i++) {
        if (srv->workers[i].cq != NULL)
            grpc_completion_queue_destroy(srv->workers[i].cq);
    }
    grpc_completion_queue_shutdown(srv->shutdown_cq);
    grpc_completion_queue_destroy(srv->shutdown_cq);
    free(srv->workers);
    free(srv);
    grpc_shutdown();
}

struct sb_grpc_server *sb_grpc_start(const struct sb_config *cfg,
                                     const struct sb_config *(*live)(void),
                                     void (*release)(void), unsigned *port,
                                     struct sb_err *err)
{
    struct sb_grpc_server *srv;
    grpc_server_credentials *creds;
    char addr[300];
    unsigned i;
    int bound;

    grpc_init();
    srv = calloc(1, sizeof(*srv));
    if (srv != NULL)
        srv->workers = calloc(cfg->grpc_threads, sizeof(*srv->workers));
    if (srv == NULL || srv->workers == NULL) {
        free(srv);
        grpc_shutdown();
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    srv->nworkers = cfg->grpc_threads;
    srv->live = live;
    srv->release = release;
    atomic_init(&srv->stopping, false);
    srv->server = create_server(cfg);
    srv->shutdown_cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_server_register_completion_queue(srv->server, srv->shutdown_cq,
                                          NULL);
    for (i = 0; i < srv->nworkers; i++) {
        srv->workers[i].srv = srv;
        srv->workers[i].cq = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(srv->server,
                                              srv->workers[i].cq, NULL);
    }
    snprintf(addr, sizeof(addr),
             strchr(cfg->grpc_listen_host, ':') ? "[%s]:%u" : "%s:%u",
             cfg->grpc_listen_host, cfg->grpc_listen_port);
    creds = grpc_insecure_server_credentials_create();
    bound = grpc_server_add_http2_port(srv->server, addr, creds);
    grpc_server_credentials_release(creds);
    if (bound <= 0) {
        sb_err_set(err, SB_ERR_IO, "[grpc] listen: cannot listen on %s",
                   addr);
        grpc_server_destroy(srv->server);
        srv->server = NULL;
        destroy(srv);
        return NULL;
    }
    grpc_server_start(srv->server);
    for (i = 0; i < srv->nworkers; i++) {
        srv->workers[i].started =
            pthread_create(&srv->workers[i].thread, NULL, worker_main,
                           &srv->workers[i]) == 0;
        if (!srv->workers[i].started) {
            sb_err_set(err, SB_ERR_INTERNAL, "cannot start gRPC workers");
            sb_grpc_stop(srv, 0);
            return NULL;
        }
    }
    *port = (unsigned)bound;
    return srv;
}

void sb_grpc_drain_begin(struct sb_grpc_server *srv)
{
    if (srv->shutdown_begun)
        return;
    srv->shutdown_begun = true;
    atomic_store(&srv->stopping, true);
    grpc_server_shutdown_and_notify(srv->server, srv->shutdown_cq, srv);
}

void sb_grpc_stop(struct sb_grpc_server *srv, unsigned drain_seconds)
{
    gpr_timespec deadline = gpr_time_add(
        gpr_now(GPR_CLOCK_MONOTONIC),
        gpr_time_from_seconds(drain_seconds, GPR_TIMESPAN));

    if (srv == NULL)
        return;
    sb_grpc_drain_begin(srv);
    if (!shutdown_done(srv, deadline)) {
        sb_log(SB_LOG_WARN, "grpc: calls still in flight after the drain "
               "timeout; cancelling them", NULL);
        grpc_server_cancel_all_calls(srv->server);
        shutdown_done(srv, gpr_inf_future(GPR_CLOCK_MONOTONIC));
    }
    destroy(srv);
}
