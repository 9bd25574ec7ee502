/* api.c - what the /v1 endpoints share: caller authentication, body
 * parsing and answer negotiation, the store connection, credential search,
 * check and minting. */
#include "api.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "metrics.h"
#include "sessionbridge/crypto.h"
#include "sessionbridge/express.h"
#include "sessionbridge/log.h"

static const char protobuf_type[] = "application/x-protobuf";

/* ---- callers ---------------------------------------------------------------- */

bool sb_api_authorize(struct sb_http_req *req, enum sb_api_access access)
{
    const struct sb_config *cfg = req->cfg;
    const char *tok = sb_http_header(req, "X-Bridge-Token");
    unsigned open_bit = access == SB_API_OPEN_AUTH       ? SB_OPEN_AUTH
                        : access == SB_API_OPEN_VALIDATE ? SB_OPEN_VALIDATE
                                                         : 0;
    enum sb_role role;
    char peer[64];
    bool loopback;

    if (tok != NULL) {
        role = sb_config_token_role(cfg, tok, strlen(tok));
        if (role == SB_ROLE_NONE) {
            sb_api_error(req, 401, "unauthenticated",
                         "the X-Bridge-Token is not a configured caller "
                         "token");
            return false;
        }
        return true;
    }
    if (open_bit != 0 && (cfg->open_on_loopback & open_bit)) {
        sb_http_peer(req, peer, sizeof(peer), &loopback);
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
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        char c = s[i];
        if (o + 1 >= size)
            return -1;
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= n || sb_hex_digit(s[i + 1]) < 0 ||
                sb_hex_digit(s[i + 2]) < 0)
                return -1;
            c = (char)(sb_hex_digit(s[i + 1]) << 4 |
                       sb_hex_digit(s[i + 2]));
            i += 2;
        }
        buf[o++] = c;
    }
    buf[o] = '\0';
    return (long)o;
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
    case SB_ERR_STORE: return 503;
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

/* ---- the store ---------------------------------------------------------------- */

static atomic_bool layout_checked;

/* This thread's connection, the layout version checked once per process;
 * NULL with err filled. */
static struct sb_redis *store_handle(const struct sb_config *cfg,
                                     struct sb_err *err)
{
    struct sb_redis *r;

    r = sb_redis_thread(&cfg->redis, cfg->connect_timeout_ms,
                        cfg->command_timeout_ms, err);
    if (r == NULL)
        return NULL;
    if (!atomic_load_explicit(&layout_checked, memory_order_relaxed)) {
        if (sb_store_layout_ensure(r, cfg->prefix, err) != 0) {
            if (err->code == SB_ERR_CONFIG)
                sb_log(SB_LOG_ERROR, "Redis layout mismatch", "detail",
                       err->msg, NULL);
            return NULL;
        }
        atomic_store(&layout_checked, true);
    }
    return r;
}

struct sb_redis *sb_api_redis(struct sb_http_req *req)
{
    struct sb_err err = {0};
    struct sb_redis *r = store_handle(req->cfg, &err);

    if (r == NULL)
        sb_api_fail(req, &err);
    return r;
}

/* The precise clock: time() reads the coarse one, which lags by up to a
 * tick, so a cookie an app signed a millisecond ago looked future-dated
 * (not_yet_valid) in the first milliseconds of each second. */
int64_t sb_api_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

/* Copies the first comma-separated entry of v, trimmed, into buf. */
static void first_entry(const char *v, char *buf, size_t size)
{
    size_t n;

    while (*v == ' ' || *v == '\t')
        v++;
    n = strcspn(v, ", \t");
    if (n >= size)
        n = size - 1;
    memcpy(buf, v, n);
    buf[n] = '\0';
}

void sb_api_codec_ctx(struct sb_http_req *req, struct sb_codec_ctx *ctx,
                      char *addr, size_t addr_size)
{
    const char *xff = sb_http_header(req, "X-Forwarded-For");
    const char *xri = sb_http_header(req, "X-Real-IP");
    bool loopback;

    ctx->now = sb_api_now();
    if (xff != NULL && *xff != '\0')
        first_entry(xff, addr, addr_size);
    else if (xri != NULL && *xri != '\0')
        first_entry(xri, addr, addr_size);
    else
        sb_http_peer(req, addr, addr_size, &loopback);
    ctx->client_addr = addr;
    ctx->user_agent = sb_http_header(req, "User-Agent");
}

/* ---- credentials ------------------------------------------------------------ */

/* How telling an error is when several profiles were tried: a verdict on
 * a credential whose signature verified (expired, revoked...) beats a
 * signature that did not, which beats a layout that did not parse. */
static int error_rank(enum sb_err_code code)
{
    switch (code) {
    case SB_OK: return 0;
    case SB_ERR_NO_CREDENTIAL: return 1;
    case SB_ERR_MALFORMED: return 2;
    case SB_ERR_EXPIRED:
    case SB_ERR_NOT_YET_VALID:
    case SB_ERR_INVALID_CLAIM:
    case SB_ERR_UNSUPPORTED: return 4;
    case SB_ERR_REVOKED: return 5;
    default: return 3;
    }
}

int sb_api_decode_any(const struct sb_config *cfg, const struct sb_profile *p,
                      const char *token, size_t len,
                      const struct sb_codec_ctx *ctx, struct sb_session *out,
                      const struct sb_profile **used, struct sb_err *err)
{
    struct sb_err e;
    size_t i;

    *used = NULL;
    if (p != NULL) {
        if (sb_credential_decode(p, token, len, ctx, out, err) != 0)
            return -1;
        *used = p;
        return 0;
    }
    sb_err_set(err, SB_ERR_NO_CREDENTIAL, "no profile is configured");
    for (i = 0; i < cfg->profile_count; i++) {
        sb_err_clear(&e);
        if (sb_credential_decode(&cfg->profiles[i], token, len, ctx, out,
                                 &e) == 0) {
            *used = &cfg->profiles[i];
            return 0;
        }
        if (error_rank(e.code) > error_rank(err->code))
            *err = e;
    }
    return -1;
}

static bool is_express(const struct sb_profile *p)
{
    return strcmp(p->codec->name, "express") == 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the connect-redis record of an express session into s.  Without
 * one the session is over: revoked when the store says so, else expired. */
static int load_express(struct sb_redis *r, const struct sb_config *cfg,
                        const struct sb_profile *p, struct sb_session *s,
                        struct sb_err *err)
{
    bool revoked = false;
    char *key = NULL;
    const char *argv[2] = {"GET", NULL};
    redisReply *rep;
    int rc = -1;

    if (sb_express_record_key(p, s->sid, &key, err) != 0)
        return -1;
    argv[1] = key;
    rep = sb_redis_commandv(r, 2, argv, NULL, err);
    if (rep == NULL)
        goto out_free;
    if (rep->type == REDIS_REPLY_STRING)
        rc = sb_express_record_parse(p, rep->str, rep->len, now_ms(), s, err);
    else if (rep->type == REDIS_REPLY_NIL &&
             sb_store_sid_revoked(r, cfg->prefix, s->sid, &revoked,
                                  err) == 0)
        sb_err_set(err, revoked ? SB_ERR_REVOKED : SB_ERR_EXPIRED,
                   revoked ? "the session has been revoked"
                           : "the express session is over (no connect-redis "
                             "record)");
    else
        sb_err_set(err, SB_ERR_STORE, "unexpected reply from Redis");
    freeReplyObject(rep);
out_free:
    free(key);
    return rc;
}

int sb_api_check(struct sb_redis *r, const struct sb_config *cfg,
                 const struct sb_profile *p, struct sb_session *s,
                 int64_t now, struct sb_err *err)
{
    bool inserted = false;

    if (is_express(p) && json_object_size(s->data) == 0 &&
        load_express(r, cfg, p, s, err) != 0)
        return -1;
    if (sb_store_record(r, cfg->prefix, s, now, &inserted, err) != 0)
        return -1;
    if (inserted)
        sb_metrics_session_created(p->name);
    return 0;
}

/* Writes the connect-redis record of s for express profile p unless one
 * exists (the express backend may have changed it since). */
static int store_express(struct sb_redis *r, const struct sb_profile *p,
                         const struct sb_session *s, struct sb_err *err)
{
    struct sb_express_record rec = {0};
    char ttl[24];
    const char *argv[6] = {"SET", NULL, NULL, "EX", ttl, "NX"};
    size_t argvlen[6];
    redisReply *rep;
    int i, rc = -1;

    if (sb_express_record_build(p, s, now_ms(), &rec, err) != 0)
        return -1;
    if (rec.ttl <= 0) {
        rc = 0;
        goto out_free;
    }
    snprintf(ttl, sizeof(ttl), "%lld", (long long)rec.ttl);
    argv[1] = rec.key;
    argv[2] = rec.value;
    for (i = 0; i < 6; i++)
        argvlen[i] = i == 2 ? rec.value_len : strlen(argv[i]);
    rep = sb_redis_commandv(r, 6, argv, argvlen, err);
    if (rep != NULL) {
        rc = rep->type == REDIS_REPLY_ERROR
                 ? sb_err_set(err, SB_ERR_STORE, "Redis refused the "
                              "connect-redis record")
                 : 0;
        freeReplyObject(rep);
    }
out_free:
    sb_express_record_free(&rec);
    return rc;
}

/* True when v holds subject (as a string, or an integer written out). */
static bool holds_subject(const json_t *v, const char *subject)
{
    char num[32];

    if (json_is_string(v))
        return strcmp(json_string_value(v), subject) == 0;
    if (!json_is_integer(v))
        return false;
    snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return strcmp(num, subject) == 0;
}

/* A copy of s->data without the subject fields other profiles put there
 * (the subject travels in its own field of the canonical session), so a
 * translation P -> Q -> P gives back P's data exactly.  New reference. */
static json_t *data_for(const struct sb_config *cfg,
                        const struct sb_profile *to, const struct sb_session *s)
{
    json_t *d = json_copy(s->data);
    size_t i;

    for (i = 0; d != NULL && s->subject != NULL && i < cfg->profile_count;
         i++) {
        const char *f = cfg->profiles[i].subject_field;
        json_t *v;
        if (f == NULL || &cfg->profiles[i] == to ||
            (to->subject_field != NULL && strcmp(f, to->subject_field) == 0))
            continue;
        v = json_object_get(d, f);
        if (v != NULL && holds_subject(v, s->subject))
            json_object_del(d, f);
    }
    return d;
}

int sb_api_mint(struct sb_redis *r, const struct sb_config *cfg,
                const struct sb_profile *to, const struct sb_session *s,
                const struct sb_codec_ctx *ctx, char **token,
                char **set_cookie, struct sb_err *err)
{
    struct sb_session m = *s;
    int64_t cap = to->max_age > 0 ? ctx->now + to->max_age : 0;
    int rc = -1;

    *token = NULL;
    if (set_cookie != NULL)
        *set_cookie = NULL;
    m.issued_at = ctx->now;
    if (m.expires_at == 0 || (cap != 0 && cap < m.expires_at))
        m.expires_at = cap;
    m.data = data_for(cfg, to, s);
    if (m.data == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    if (sb_credential_encode(to, &m, ctx, token, err) != 0)
        goto out_free;
    if (is_express(to) && store_express(r, to, &m, err) != 0)
        goto err_free;
    if (set_cookie != NULL &&
        sb_cookie_build(to, *token, ctx->now, set_cookie, err) != 0)
        goto err_free;
    rc = 0;
    goto out_free;

err_free:
    free(*token);
    *token = NULL;
out_free:
    json_decref(m.data);
    return rc;
}

size_t sb_api_cookies(const struct sb_http_req *req,
                      struct sb_api_cookie *out, size_t max)
{
    return sb_api_cookies_split(sb_http_header(req, "Cookie"), out, max);
}

size_t sb_api_cookies_split(const char *h, struct sb_api_cookie *out,
                            size_t max)
{
    size_t n = 0;

    while (h != NULL && *h != '\0' && n < max) {
        const char *end, *eq;
        size_t len;

        while (*h == ' ' || *h == ';')
            h++;
        end = strchr(h, ';');
        len = end ? (size_t)(end - h) : strlen(h);
        eq = memchr(h, '=', len);
        if (eq != NULL && eq > h) {
            struct sb_api_cookie *c = &out[n++];
            c->name = h;
            c->name_len = (size_t)(eq - h);
            while (c->name_len > 0 && h[c->name_len - 1] == ' ')
                c->name_len--;
            c->value = eq + 1;
            c->value_len = len - (size_t)(eq + 1 - h);
            while (c->value_len > 0 && c->value[c->value_len - 1] == ' ')
                c->value_len--;
            if (c->value_len >= 2 && c->value[0] == '"' &&
                c->value[c->value_len - 1] == '"') {
                c->value++;
                c->value_len -= 2;
            }
        }
        h = end;
    }
    return n;
}

const char *sb_api_bearer(const struct sb_http_req *req, size_t *len)
{
    const char *h = sb_http_header(req, "Authorization");

    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    *len = strlen(h);
    while (*len > 0 && h[*len - 1] == ' ')
        (*len)--;
    return *len ? h : NULL;
}

/* Cookie values are percent-decoded here before a codec sees them. */
static __thread char cookie_buf[SB_COOKIE_MAX + 1];

/* Decodes candidate c: a cookie for profile c->p, or a bearer token tried
 * with c->p, or with every profile when that is NULL. */
static int decode_candidate(const struct sb_config *cfg,
                            const struct sb_api_candidate *c,
                            const struct sb_codec_ctx *ctx,
                            struct sb_session *out,
                            const struct sb_profile **used,
                            struct sb_err *err)
{
    long n;

    if (c->bearer)
        return sb_api_decode_any(cfg, NULL, c->value, c->len, ctx, out, used,
                                 err);
    n = sb_cookie_value_decode(c->p, c->value, c->len, cookie_buf,
                               sizeof(cookie_buf), err);
    if (n < 0)
        return -1;
    return sb_api_decode_any(cfg, c->p, cookie_buf, (size_t)n, ctx, out, used,
                             err);
}

size_t sb_api_candidates(const struct sb_http_req *req,
                         const struct sb_profile *only,
                         struct sb_api_candidate *out, size_t max)
{
    const struct sb_config *cfg = req->cfg;
    struct sb_api_cookie cookies[SB_API_COOKIES_MAX];
    size_t nc = sb_api_cookies(req, cookies, SB_API_COOKIES_MAX);
    size_t i, k, n = 0, blen = 0;
    const char *bearer = sb_api_bearer(req, &blen);

    for (i = 0; i < cfg->profile_count; i++) {
        const struct sb_profile *p = &cfg->profiles[i];
        size_t name_len = p->cookie.name ? strlen(p->cookie.name) : 0;
        if (only != NULL && p != only)
            continue;
        for (k = 0; k < nc && n < max && name_len > 0; k++) {
            if (cookies[k].name_len != name_len ||
                memcmp(cookies[k].name, p->cookie.name, name_len) != 0)
                continue;
            out[n].p = p;
            out[n].value = cookies[k].value;
            out[n].len = cookies[k].value_len;
            out[n].bearer = false;
            n++;
        }
    }
    if (bearer != NULL && n < max) {
        out[n].p = only;
        out[n].value = bearer;
        out[n].len = blen;
        out[n].bearer = true;
        n++;
    }
    return n;
}

int sb_api_find(struct sb_http_req *req, const struct sb_codec_ctx *ctx,
                const struct sb_profile *only, struct sb_redis **r,
                struct sb_session *out, const struct sb_profile **used,
                const struct sb_api_candidate **which,
                struct sb_api_candidate *cands, size_t *ncands,
                struct sb_err *err)
{
    const struct sb_config *cfg = req->cfg;
    struct sb_err e;
    size_t i;

    *r = NULL;
    *which = NULL;
    *ncands = sb_api_candidates(req, only, cands, SB_API_COOKIES_MAX + 1);
    sb_err_set(err, SB_ERR_NO_CREDENTIAL,
               "the request carries no credential of a configured profile");
    for (i = 0; i < *ncands; i++) {
        sb_err_clear(&e);
        if (decode_candidate(cfg, &cands[i], ctx, out, used, &e) != 0)
            goto next;
        if (*r == NULL && (*r = store_handle(cfg, &e)) == NULL) {
            sb_session_reset(out);
            *err = e;
            return -1;
        }
        if (sb_api_check(*r, cfg, *used, out, ctx->now, &e) == 0) {
            *which = &cands[i];
            return 0;
        }
        sb_session_reset(out);
        if (e.code == SB_ERR_STORE) {
            *err = e;
            return -1;
        }
next:
        if (error_rank(e.code) > error_rank(err->code))
            *err = e;
    }
    return -1;
}

int sb_api_candidate_token(const struct sb_api_candidate *c, char *buf,
                           size_t size, struct sb_err *err)
{
    long n;

    if (c->bearer) {
        if (c->len >= size)
            return sb_err_set(err, SB_ERR_TOO_LARGE, "credential too large");
        memcpy(buf, c->value, c->len);
        buf[c->len] = '\0';
        return 0;
    }
    n = sb_cookie_value_decode(c->p, c->value, c->len, buf, size, err);
    return n < 0 ? -1 : 0;
}
