/* fuzz_http.c - libFuzzer target for what the HTTP API parses from a
 * client before any codec runs.  The first input byte picks a mode:
 *   0: the rest is a Cookie header: split into pairs (each pair must lie
 *      inside the header), and every value percent-decoded as a rails and
 *      an express cookie are;
 *   1: the rest is a JSON request body (depth cap, NULs, trailing data);
 *   2: the rest is a form body (RFC 7662 / 7009): `token` and
 *      `token_type_hint` looked up and URL-decoded into a bounded buffer;
 *   3: the rest is a binary protobuf request, unpacked as each request
 *      message; what unpacks is packed again and must unpack to the same
 *      JSON;
 *   4 (this value only; 8, 12 ... are mode 0): the rest is an
 *      X-Sessionbridge-Backend header counted by the metrics: every
 *      backend label rendered must be 1-32 bytes of [a-z0-9_-].
 * Nothing may crash, leak or trip a sanitizer. */

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_profile.h"
#include "http/api.h"
#include "http/backend_label.h"
#include "http/metrics.h"
#include "sessionbridge/jsonutil.h"

static struct sb_profile rails, express;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const secrets[] = {"s3cr3t-test-key", NULL};
    static const char *const rails_kv[] = {"cookie_name", "_app_session",
                                           NULL};

    (void)argc; (void)argv;
    fuzz_profile(&rails, "rails", secrets, rails_kv);
    fuzz_profile(&express, "express", secrets, NULL);
    return 0;
}

static void cookie_mode(const char *header, size_t len)
{
    struct sb_bridge_cookie pairs[SB_BRIDGE_COOKIES_MAX];
    char buf[SB_COOKIE_MAX + 1];
    struct sb_err err;
    size_t n = sb_bridge_cookies_split(header, pairs, SB_BRIDGE_COOKIES_MAX);
    size_t i;

    if (n > SB_BRIDGE_COOKIES_MAX)
        abort();
    for (i = 0; i < n; i++) {
        const struct sb_bridge_cookie *c = &pairs[i];
        if (c->name_len == 0 || c->name < header ||
            c->name + c->name_len > header + len || c->value < header ||
            c->value + c->value_len > header + len)
            abort(); /* a pair outside the header */
        sb_cookie_value_decode(&rails, c->value, c->value_len, buf,
                               sizeof(buf), &err);
        sb_cookie_value_decode(&express, c->value, c->value_len, buf,
                               sizeof(buf), &err);
    }
}

static void json_mode(const char *body, size_t len)
{
    struct sb_err err;
    json_t *j = sb_json_parse(body, len, SB_ERR_INVALID_REQUEST,
                              "request body", &err);

    json_decref(j);
}

static void form_mode(const char *body, size_t len)
{
    static const char *const names[] = {"token", "token_type_hint"};
    char buf[64];
    bool present;
    size_t i;

    for (i = 0; i < 2; i++) {
        long n = sb_api_form_lookup(body, len, names[i], buf, sizeof(buf),
                                    &present);
        if (n >= (long)sizeof(buf) || (n > 0 && !present) ||
            (n >= 0 && buf[n] != '\0'))
            abort();
    }
}

static void protobuf_mode(const uint8_t *buf, size_t len)
{
    static const ProtobufCMessageDescriptor *const requests[] = {
        &sessionbridge__v1__validate_request__descriptor,
        &sessionbridge__v1__translate_request__descriptor,
        &sessionbridge__v1__create_session_request__descriptor,
        &sessionbridge__v1__patch_session_request__descriptor,
        &sessionbridge__v1__api_key_validate_request__descriptor,
    };
    size_t i;

    for (i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
        struct sb_err err;
        uint8_t *packed = NULL;
        size_t plen = 0;
        json_t *j = sb_wire_unpack(buf, len, requests[i], &err), *again;

        if (j == NULL)
            continue;
        if (sb_wire_pack(j, requests[i], &packed, &plen, &err) == 0) {
            again = sb_wire_unpack(packed, plen, requests[i], &err);
            if (again == NULL || !json_equal(j, again))
                abort(); /* a message that does not survive its own JSON */
            json_decref(again);
            free(packed);
        }
        json_decref(j);
    }
}

/* True when every backend="..." label of the exposition is 1-32 bytes of
 * [a-z0-9_-]. */
static bool backend_labels_safe(const char *text, size_t len)
{
    const char *p = text, *end = text + len;

    while ((p = memmem(p, (size_t)(end - p), "backend=\"", 9)) != NULL) {
        size_t n = 0;
        for (p += 9; p < end && *p != '"'; p++, n++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                  *p == '_' || *p == '-'))
                return false;
        }
        if (n == 0 || n > SB_BACKEND_NAME_LEN)
            return false;
    }
    return true;
}

static void backend_mode(const char *header)
{
    struct sb_buf out;

    sb_metrics_auth_request(header, SB_PRESENTED_BOTH, SB_OK, false);
    sb_buf_init(&out);
    if (sb_metrics_render(&out) == 0 && !backend_labels_safe(out.data, out.len))
        abort(); /* a label a router could inject */
    sb_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;

    if (size == 0)
        return 0;
    text = malloc(size); /* the rest, NUL-terminated, as headers are */
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (data[0] == 4) {
        backend_mode(text);
        free(text);
        return 0;
    }
    switch (data[0] % 4) {
    case 0:
        cookie_mode(text, strlen(text));
        break;
    case 1:
        json_mode(text, size - 1);
        break;
    case 2:
        form_mode(text, size - 1);
        break;
    default:
        protobuf_mode(data + 1, size - 1);
        break;
    }
    free(text);
    return 0;
}
