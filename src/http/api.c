/* api.c - what the /v1 endpoints share: caller authentication, body
 * parsing and answer negotiation, and the request's parts the bridge
 * needs. */
#include "api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sessionbridge/clock.h"
#include "sessionbridge/percent.h"

static const char protobuf_type[] = "application/x-protobuf";

/* ---- callers ---------------------------------------------------------------- */

bool sb_api_authorize(struct sb_http_req *req, enum sb_api_access access)
{
    const struct sb_config *cfg = req->cfg;
    const char *tok = sb_http_header(req, "X-Bridge-Token");
    unsigned open_bit = access == SB_API_OPEN_AUTH       ? SB_OPEN_AUTH
                        : access == SB_API_OPEN_VALIDATE ? SB_OPEN_VALIDATE
                        : access == SB_API_STATUS        ? SB_OPEN_STATUS
                                                         : 0;
    enum sb_role role;
    bool loopback;

    if (tok != NULL) {
        role = sb_config_token_role(cfg, tok, strlen(tok));
        if (role == SB_ROLE_NONE) {
            sb_api_error(req, 401, "unauthenticated",
                         "the X-Bridge-Token is not a configured caller "
                         "token");
            return false;
        }
        if (access == SB_API_STATUS && role != SB_ROLE_ADMIN) {
            sb_api_error(req, 403, "forbidden",
                         "this endpoint needs an admin X-Bridge-Token");
            return false;
        }
        return true;
    }
    if (open_bit != 0 && (cfg->open_on_loopback & open_bit)) {
        sb_http_peer(req, &loopback);
        if (loopback)
            return true;
    }
    sb_api_error(req, 401, "unauthenticated",
                 "this endpoint needs an X-Bridge-Token header");
    return false;
}

/* ---- bodies and answers ------------------------------------------------------ */

/* True when a Content-Type or Accept value names protobuf. */
static bool names_protobuf(const char *v)
{
    return v != NULL && (strstr(v, "application/x-protobuf") != NULL ||
                         strstr(v, "application/protobuf") != NULL);
}

/* True when the media type v (parameters ignored) is `type`. */
static bool media_is(const char *v, const char *type)
{
    size_t n = strlen(type);

    while (*v == ' ')
        v++;
    return strncasecmp(v, type, n) == 0 &&
           (v[n] == '\0' || v[n] == ';' || v[n] == ' ');
}

bool sb_api_wants_protobuf(const struct sb_http_req *req)
{
    const char *accept = sb_http_header(req, "Accept");

    if (names_protobuf(accept))
        return true;
    if (accept != NULL && strstr(accept, "*/*") == NULL &&
        strstr(accept, "application/*") == NULL)
        return false;
    return names_protobuf(sb_http_header(req, "Content-Type"));
}

int sb_api_body(struct sb_http_req *req, const ProtobufCMessageDescriptor *d,
                bool optional, json_t **out)
{
    const char *ct = sb_http_header(req, "Content-Type");
    struct sb_err err = {0};
    json_t *j;

    *out = NULL;
    if (req->body.len == 0) {
        if (optional)
            return 0;
        sb_api_error(req, 400, "missing_body", "this endpoint needs a body");
        return -1;
    }
    if (ct != NULL && names_protobuf(ct)) {
        j = sb_wire_unpack((const uint8_t *)req->body.data, req->body.len, d,
                           &err);
        if (j == NULL) {
            sb_api_error(req, 400, "invalid_protobuf", "%s", err.msg);
            return -1;
        }
        *out = j;
        return 0;
    }
    /* JSON by default: whatever else the Content-Type says (curl -d sends
     * a form type), the body is read as JSON and refused if it is not. */
    j = sb_json_parse(req->body.data, req->body.len, SB_ERR_INVALID_REQUEST,
                      "request body", &err);
    if (j == NULL) {
        if (err.code == SB_ERR_TOO_LARGE)
            sb_api_error(req, 413, "too_large", "%s", err.msg);
        else
            sb_api_error(req, 400, "invalid_json", "%s", err.msg);
        return -1;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        sb_api_error(req, 400, "invalid_json",
                     "the request body must be a JSON object");
        return -1;
    }
    *out = j;
    return 0;
}

/* URL-decodes s[0..n) ('+' is a space) into buf; -1 when it does not fit
 * or has a bad escape. */
static long form_decode(const char *s, size_t n, char *buf, size_t size)
{
    size_t bad_at;
    long len = sb_percent_decode(s, n, true, buf, size, &bad_at);

    return len < 0 ? -1 : len;
}

long sb_api_form_lookup(const char *body, size_t len, const char *name,
                        char *buf, size_t size, bool *present)
{
    const char *p = body, *end = body + len;
    size_t nlen = strlen(name);

    *present = false;
    buf[0] = '\0';
    while (p != NULL && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq != NULL && (size_t)(eq - p) == nlen &&
            memcmp(p, name, nlen) == 0) {
            *present = true;
            return form_decode(eq + 1, (size_t)(stop - eq - 1), buf, size);
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

long sb_api_form_field(struct sb_http_req *req, const char *name, char *buf,
                       size_t size, bool *present)
{
    const char *ct = sb_http_header(req, "Content-Type");
    long n;

    *present = false;
    buf[0] = '\0';
    if (req->body.len > 0 &&
        (ct == NULL || !media_is(ct, "application/x-www-form-urlencoded"))) {
        sb_api_error(req, 415, "unsupported_media_type",
                     "send application/x-www-form-urlencoded");
        return -1;
    }
    n = sb_api_form_lookup(req->body.data, req->body.len, name, buf, size,
                           present);
    if (n < 0) {
        *present = false;
        sb_api_error(req, 400, "invalid_request",
                     "form field '%s' is too long or badly escaped", name);
    }
    return n;
}

/* The field `name` of body (which may be NULL), or NULL when it is absent
 * or null: then *rc is 0 for an optional field, and -1 for a required one
 * after answering 400 missing_field. */
static const json_t *body_field(struct sb_http_req *req, const json_t *body,
                                const char *name, bool required, int *rc)
{
    const json_t *v = body ? json_object_get(body, name) : NULL;

    *rc = 0;
    if (v != NULL && !json_is_null(v))
        return v;
    if (required) {
        sb_api_error(req, 400, "missing_field", "field '%s' is required",
                     name);
        *rc = -1;
    }
    return NULL;
}

int sb_api_string(struct sb_http_req *req, const json_t *body,
                  const char *name, bool required, size_t max,
                  const char **out)
{
    int rc;
    const json_t *v = body_field(req, body, name, required, &rc);

    if (v == NULL)
        return rc;
    if (!json_is_string(v)) {
        sb_api_error(req, 400, "wrong_type", "field '%s' must be a string",
                     name);
        return -1;
    }
    if (json_string_length(v) == 0 || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        sb_api_error(req, json_string_length(v) > max ? 413 : 400,
                     json_string_length(v) > max ? "too_large"
                                                 : "invalid_field",
                     "field '%s' must be 1-%zu bytes without NUL", name, max);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

int sb_api_integer(struct sb_http_req *req, const json_t *body,
                   const char *name, int64_t min, int64_t max, int64_t *out)
{
    int rc;
    const json_t *v = body_field(req, body, name, false, &rc);

    if (v == NULL)
        return rc;
    if (!json_is_integer(v)) {
        sb_api_error(req, 400, "wrong_type", "field '%s' must be an integer",
                     name);
        return -1;
    }
    if (json_integer_value(v) < min || json_integer_value(v) > max) {
        sb_api_error(req, 400, "invalid_field",
                     "field '%s' must be between %lld and %lld", name,
                     (long long)min, (long long)max);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

int sb_api_object(struct sb_http_req *req, const json_t *body,
                  const char *name, bool required, const json_t **out)
{
    int rc;
    const json_t *v = body_field(req, body, name, required, &rc);

    if (v == NULL)
        return rc;
    if (!json_is_object(v)) {
        sb_api_error(req, 400, "wrong_type",
                     "field '%s' must be a JSON object", name);
        return -1;
    }
    *out = v;
    return 0;
}

const struct sb_profile *sb_api_profile(struct sb_http_req *req,
                                        const char *name)
{
    const struct sb_profile *p = sb_config_profile(req->cfg, name);

    if (p == NULL)
        sb_api_error(req, 400, "unknown_profile",
                     "no profile named '%.64s' is configured", name);
    return p;
}

void sb_api_reply(struct sb_http_req *req, unsigned status, json_t *body,
                  const ProtobufCMessageDescriptor *d)
{
    struct sb_err err = {0};
    uint8_t *bin = NULL;
    size_t len = 0;

    if (d == NULL || body == NULL || !sb_api_wants_protobuf(req)) {
        sb_http_reply_json(req, status, body);
        return;
    }
    if (sb_wire_pack(body, d, &bin, &len, &err) != 0) {
        json_decref(body);
        sb_http_reply_error(req, 500, "internal", "%s", err.msg);
        return;
    }
    json_decref(body);
    sb_http_reply_raw(req, status, protobuf_type, (const char *)bin, len);
    free(bin);
}

void sb_api_error(struct sb_http_req *req, unsigned status, const char *code,
                  const char *fmt, ...)
{
    char msg[SB_ERR_MSG_MAX];
    va_list ap;

    snprintf(req->log_error, sizeof(req->log_error), "%s", code);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sb_api_reply(req, status,
                 json_pack("{s:s, s:s}", "error", code, "message", msg),
                 &sessionbridge__v1__error__descriptor);
}

/* The HTTP status of an error code. */
static unsigned status_of(enum sb_err_code code)
{
    switch (code) {
    case SB_ERR_STORE:
    case SB_ERR_OVERLOADED: return 503;
    case SB_ERR_TOO_LARGE: return 413;
    case SB_ERR_NOT_FOUND: return 404;
    case SB_ERR_INVALID_REQUEST: return 400;
    case SB_ERR_NOMEM:
    case SB_ERR_INTERNAL:
    case SB_ERR_IO:
    case SB_ERR_CONFIG: return 500;
    default: return 401;
    }
}

void sb_api_fail(struct sb_http_req *req, const struct sb_err *err)
{
    sb_api_error(req, status_of(err->code), sb_err_code_name(err->code), "%s",
                 err->msg);
}

/* ---- the bridge ---------------------------------------------------------------- */

void sb_api_bridge(struct sb_http_req *req, struct sb_bridge *b)
{
    b->cfg = req->cfg;
    b->r = NULL;
    b->offline = false;
}

struct sb_redis *sb_api_store(struct sb_http_req *req, struct sb_bridge *b)
{
    struct sb_err err = {0};
    struct sb_redis *r = sb_bridge_store(b, &err);

    if (r == NULL)
        sb_api_fail(req, &err);
    return r;
}

void sb_api_codec_ctx(struct sb_http_req *req, struct sb_codec_ctx *ctx,
                      char *addr, size_t addr_size)
{
    const char *xff = sb_http_header(req, "X-Forwarded-For");
    const char *xri = sb_http_header(req, "X-Real-IP");
    bool loopback;

    ctx->now = sb_clock_now();
    if (sb_bridge_client_addr(xff, xri, addr, addr_size))
        ctx->client_addr = addr;
    else
        ctx->client_addr = sb_http_peer(req, &loopback);
    ctx->user_agent = sb_http_header(req, "User-Agent");
}

void sb_api_bridge_request(const struct sb_http_req *req,
                           struct sb_bridge_request *rq)
{
    rq->cookie = sb_http_header(req, "Cookie");
    rq->authorization = sb_http_header(req, "Authorization");
}
