/* bench_grpc_client.c - a load generator for the gRPC listener: Envoy's
 * Check with one Cookie header, CONCURRENCY calls in flight on one channel
 * (one HTTP/2 connection), for SECONDS; prints "calls N seconds S rate R
 * errors E".  The gRPC core C API on the client side too, so the figure is
 * the listener's, not a slow client's (tests/bench/bench_grpc.sh).
 *
 *   bench_grpc_client HOST:PORT SECONDS CONCURRENCY COOKIE CALLER_TOKEN
 */
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envoy/service/auth/v3/external_auth.pb-c.h"

#define CHECK_METHOD "/envoy.service.auth.v3.Authorization/Check"

/* One call in flight. */
struct slot {
    grpc_call *call;
    grpc_metadata_array initial, trailing;
    grpc_byte_buffer *response;
    grpc_status_code status;
    grpc_slice details;
};

static grpc_channel *channel;
static grpc_completion_queue *cq;
static grpc_byte_buffer *request;
static grpc_metadata token_md;

/* The packed CheckRequest carrying cookie. */
static grpc_byte_buffer *check_request(const char *cookie)
{
    Envoy__Service__Auth__V3__CheckRequest req =
        ENVOY__SERVICE__AUTH__V3__CHECK_REQUEST__INIT;
    Envoy__Service__Auth__V3__AttributeContext attrs =
        ENVOY__SERVICE__AUTH__V3__ATTRIBUTE_CONTEXT__INIT;
    Envoy__Service__Auth__V3__AttributeContext__Request r =
        ENVOY__SERVICE__AUTH__V3__ATTRIBUTE_CONTEXT__REQUEST__INIT;
    Envoy__Service__Auth__V3__AttributeContext__HttpRequest http =
        ENVOY__SERVICE__AUTH__V3__ATTRIBUTE_CONTEXT__HTTP_REQUEST__INIT;
    Envoy__Service__Auth__V3__AttributeContext__HttpRequest__HeadersEntry h =
        ENVOY__SERVICE__AUTH__V3__ATTRIBUTE_CONTEXT__HTTP_REQUEST__HEADERS_ENTRY__INIT;
    Envoy__Service__Auth__V3__AttributeContext__HttpRequest__HeadersEntry *hs[1] = {&h};
    size_t len;
    uint8_t *buf;
    grpc_slice s;
    grpc_byte_buffer *bb;

    h.key = "cookie";
    h.value = (char *)cookie;
    http.method = "GET";
    http.path = "/";
    http.n_headers = 1;
    http.headers = hs;
    r.http = &http;
    attrs.request = &r;
    req.attributes = &attrs;
    len = envoy__service__auth__v3__check_request__get_packed_size(&req);
    buf = malloc(len);
    if (buf == NULL)
        return NULL;
    envoy__service__auth__v3__check_request__pack(&req, buf);
    s = grpc_slice_from_copied_buffer((const char *)buf, len);
    bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    free(buf);
    return bb;
}

/* Starts one Check on slot sl. */
static int start(struct slot *sl)
{
    grpc_op ops[6];
    grpc_slice method = grpc_slice_from_static_string(CHECK_METHOD);

    memset(sl, 0, sizeof(*sl));
    memset(ops, 0, sizeof(ops));
    grpc_metadata_array_init(&sl->initial);
    grpc_metadata_array_init(&sl->trailing);
    sl->call = grpc_channel_create_call(
        channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq, method, NULL,
        gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                     gpr_time_from_seconds(10, GPR_TIMESPAN)),
        NULL);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = 1;
    ops[0].data.send_initial_metadata.metadata = &token_md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &sl->initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &sl->response;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &sl->trailing;
    ops[5].data.recv_status_on_client.status = &sl->status;
    ops[5].data.recv_status_on_client.status_details = &sl->details;
    return grpc_call_start_batch(sl->call, ops, 6, sl, NULL) == GRPC_CALL_OK
               ? 0
               : -1;
}

/* Releases what a finished call of sl holds; true when it was answered OK
 * with a message. */
static int finish(struct slot *sl)
{
    int ok = sl->status == GRPC_STATUS_OK && sl->response != NULL;

    if (sl->response != NULL)
        grpc_byte_buffer_destroy(sl->response);
    grpc_metadata_array_destroy(&sl->initial);
    grpc_metadata_array_destroy(&sl->trailing);
    grpc_slice_unref(sl->details);
    grpc_call_unref(sl->call);
    return ok;
}

int main(int argc, char **argv)
{
    grpc_channel_credentials *creds;
    struct slot *slots;
    gpr_timespec t0, stop, t1;
    long calls = 0, errors = 0, inflight = 0, i, n;
    double secs;

    if (argc != 6) {
        fprintf(stderr, "usage: %s HOST:PORT SECONDS CONCURRENCY COOKIE "
                        "CALLER_TOKEN\n", argv[0]);
        return 2;
    }
    n = atol(argv[3]);
    if (n < 1)
        n = 1;
    grpc_init();
    creds = grpc_insecure_credentials_create();
    channel = grpc_channel_create(argv[1], creds, NULL);
    grpc_channel_credentials_release(creds);
    cq = grpc_completion_queue_create_for_next(NULL);
    request = check_request(argv[4]);
    token_md.key = grpc_slice_from_static_string("x-bridge-token");
    token_md.value = grpc_slice_from_copied_string(argv[5]);
    slots = calloc((size_t)n, sizeof(*slots));
    if (request == NULL || slots == NULL)
        return 1;
    t0 = gpr_now(GPR_CLOCK_MONOTONIC);
    stop = gpr_time_add(t0, gpr_time_from_millis(
                                (int64_t)(atof(argv[2]) * 1000), GPR_TIMESPAN));
    for (i = 0; i < n; i++)
        inflight += start(&slots[i]) == 0;
    while (inflight > 0) {
        grpc_event ev = grpc_completion_queue_next(
            cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        struct slot *sl = ev.tag;
        if (ev.type != GRPC_OP_COMPLETE)
            break;
        inflight--;
        if (ev.success && finish(sl))
            calls++;
        else
            errors++;
        if (gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), stop) < 0)
            inflight += start(sl) == 0;
    }
    t1 = gpr_now(GPR_CLOCK_MONOTONIC);
    secs = gpr_timespec_to_micros(gpr_time_sub(t1, t0)) / 1e6;
    printf("calls %ld seconds %.2f rate %.0f errors %ld\n", calls, secs,
           calls / secs, errors);
    grpc_byte_buffer_destroy(request);
    grpc_slice_unref(token_md.value);
    free(slots);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME),
                                      NULL).type != GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
    grpc_channel_destroy(channel);
    grpc_shutdown();
    return errors > 0;
}
