/* fuzz_grpc.c - libFuzzer target for what the gRPC listener reads from a
 * caller before the bridge runs.  The first input byte picks a mode:
 *   0: the rest is an envoy.service.auth.v3.CheckRequest: unpacked and its
 *      headers read (the header map and Envoy's raw header list, raw
 *      values with NUL bytes refused, repeated cookies joined); the Cookie
 *      header found is split into pairs, which must lie inside it, and the
 *      client address must be a bounded string;
 *   1: the rest is a peer string as gRPC reports it ("ipv4:...",
 *      "ipv6:%5B...%5D:..."), judged loopback or not;
 *   2: the rest is unpacked as each sessionbridge.v1 / grpc.health.v1
 *      request message the services take.
 * Nothing may crash, leak or trip a sanitizer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "grpc/service.h"
#include "sessionbridge/v1/api.pb-c.h"

static void check_mode(const uint8_t *data, size_t len)
{
    struct sb_bridge_cookie pairs[SB_BRIDGE_COOKIES_MAX];
    struct sb_grpc_check_in in;
    struct sb_err err = {0};
    size_t n, i, clen;

    if (sb_grpc_check_read(data, len, &in, &err) == 0) {
        if (strlen(in.addr) >= sizeof(in.addr))
            abort();
        if (in.rq.cookie != NULL) {
            clen = strlen(in.rq.cookie);
            n = sb_bridge_cookies_split(in.rq.cookie, pairs,
                                        SB_BRIDGE_COOKIES_MAX);
            for (i = 0; i < n; i++) {
                if (pairs[i].value < in.rq.cookie ||
                    pairs[i].value + pairs[i].value_len >
                        in.rq.cookie + clen)
                    abort();
            }
        }
        if (in.rq.authorization != NULL)
            (void)sb_bridge_bearer(in.rq.authorization, &n);
    }
    sb_grpc_check_in_free(&in);
}

static void peer_mode(const uint8_t *data, size_t len)
{
    char *peer = strndup((const char *)data, len);

    if (peer == NULL)
        return;
    (void)sb_grpc_peer_is_loopback(peer);
    free(peer);
}

static void messages_mode(const uint8_t *data, size_t len)
{
    Sessionbridge__V1__ValidateRequest *v;
    Sessionbridge__V1__ApiKeyValidateRequest *k;
    Grpc__Health__V1__HealthCheckRequest *h;

    v = sessionbridge__v1__validate_request__unpack(NULL, len, data);
    if (v != NULL)
        sessionbridge__v1__validate_request__free_unpacked(v, NULL);
    k = sessionbridge__v1__api_key_validate_request__unpack(NULL, len, data);
    if (k != NULL)
        sessionbridge__v1__api_key_validate_request__free_unpacked(k, NULL);
    h = grpc__health__v1__health_check_request__unpack(NULL, len, data);
    if (h != NULL)
        grpc__health__v1__health_check_request__free_unpacked(h, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] % 3) {
    case 0: check_mode(data + 1, size - 1); break;
    case 1: peer_mode(data + 1, size - 1); break;
    default: messages_mode(data + 1, size - 1); break;
    }
    return 0;
}
