/* flask.c - the `flask` format: Flask's default signed cookie session
 * (itsdangerous URLSafeTimedSerializer, salt "cookie-session", Flask's
 * tagged JSON) and Flask-Login's `_id` session protection
 * (FORMATS.md section 1). */
#include <stdlib.h>
#include <string.h>

#include "itsdangerous_internal.h"
#include "sessionbridge/b64.h"
#include "sessionbridge/codec.h"
#include "sessionbridge/crypto.h"

#define FLASK_DEFAULT_SALT "cookie-session"
#define FLASK_DEFAULT_MAX_AGE 2678400 /* PERMANENT_SESSION_LIFETIME, 31 d */
#define FLASK_WHAT "flask session"

/* Flask-Login's SESSION_PROTECTION as the bridge applies it. */
enum flask_protection {
    FLASK_PROTECT_OFF = 0, /* `_id` neither written nor checked */
    FLASK_PROTECT_BASIC,   /* mint `_id`; a mismatch only clears `_fresh` */
    FLASK_PROTECT_STRONG   /* mint `_id`; a mismatch on a non-permanent
                              session is invalid_claim (logged out) */
};

/* What prepare() derives for one flask profile (p->codec_state). */
struct flask_state {
    enum flask_protection protection;
    struct sb_itsd_signer signer;
};

/* The tags of flask.json.tag's default serializer. */
static const char *const flask_tags[] = {" di", " t", " b", " m", " u", " d",
                                         NULL};

static int flask_configure(struct sb_profile *p, const char *key,
                           const char *value, struct sb_err *err)
{
    struct flask_state *st = sb_codec_state(p, sizeof(*st), err);

    if (st == NULL)
        return -1;
    if (strcmp(key, "session_protection") == 0) {
        if (strcmp(value, "off") == 0)
            st->protection = FLASK_PROTECT_OFF;
        else if (strcmp(value, "basic") == 0)
            st->protection = FLASK_PROTECT_BASIC;
        else if (strcmp(value, "strong") == 0)
            st->protection = FLASK_PROTECT_STRONG;
        else
            return sb_err_set(err, SB_ERR_CONFIG,
                              "session_protection '%s' is not off, basic or "
                              "strong", value);
        return 0;
    }
    return sb_err_set(err, SB_ERR_CONFIG, "unknown key '%s' for format flask",
                      key);
}

static void flask_release(struct sb_profile *p)
{
    struct flask_state *st = p->codec_state;

    if (st == NULL)
        return;
    sb_itsd_signer_clear(&st->signer);
    free(st);
    p->codec_state = NULL;
}

/* Derives one HMAC key per secret (itsdangerous "hmac" derivation with the
 * salt, digest sha1 unless configured) and fills Flask's defaults: cookie
 * "session" as a browser-session cookie, max_age 31 days, subject field
 * `_user_id` (Flask-Login). */
static int flask_prepare(struct sb_profile *p, struct sb_err *err)
{
    struct flask_state *st = sb_codec_state(p, sizeof(*st), err);
    enum sb_digest d = SB_SHA1;

    if (st == NULL)
        return -1;
    if (p->secrets.count == 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "format flask needs secrets_file (SECRET_KEY)");
    if (p->digest != NULL && sb_digest_parse(p->digest, &d, err) != 0)
        return -1;
    if (p->serializer != NULL && strcmp(p->serializer, "json") != 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "format flask supports serializer json (Flask's "
                          "tagged JSON) only");
    st->signer.sep = '.';
    st->signer.ts_style = SB_ITSD_TS_B64INT;
    if (sb_itsd_signer_add_keys(&st->signer, &p->secrets, d, SB_ITSD_KDF_HMAC,
                                p->salt ? p->salt : FLASK_DEFAULT_SALT,
                                err) != 0)
        return -1;
    if (p->max_age == 0)
        p->max_age = FLASK_DEFAULT_MAX_AGE;
    if (p->cookie.max_age == -2)
        p->cookie.max_age = -1;
    if (sb_codec_default_string(&p->cookie.name, "session", err) != 0 ||
        sb_codec_default_string(&p->subject_field, "_user_id", err) != 0)
        return -1;
    return 0;
}

/* Appends the Python bytes repr of s (b'...', or None for NULL) to b, as
 * Flask-Login's f"{addr}|{ua}" writes it. */
static int py_bytes_repr(struct sb_buf *b, const char *s, size_t n)
{
    char quote = '\'';
    size_t i;
    int rc = 0;

    if (s == NULL)
        return sb_buf_append_str(b, "None");
    if (memchr(s, '\'', n) != NULL && memchr(s, '"', n) == NULL)
        quote = '"';
    rc |= sb_buf_append(b, "b", 1);
    rc |= sb_buf_append(b, &quote, 1);
    for (i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == (unsigned char)quote || c == '\\')
            rc |= sb_buf_printf(b, "\\%c", c);
        else if (c == '\t')
            rc |= sb_buf_append_str(b, "\\t");
        else if (c == '\n')
            rc |= sb_buf_append_str(b, "\\n");
        else if (c == '\r')
            rc |= sb_buf_append_str(b, "\\r");
        else if (c < 0x20 || c >= 0x7F)
            rc |= sb_buf_printf(b, "\\x%02x", c);
        else
            rc |= sb_buf_append(b, &s[i], 1);
    }
    rc |= sb_buf_append(b, &quote, 1);
    return rc;
}

/* True for the bytes Python's bytes.strip() removes. */
static bool py_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* Flask-Login's session identifier for this client:
 * hex(SHA-512(repr(addr) "|" repr(ua))), where addr is the first
 * comma-separated entry of the client address, stripped.  hex holds 129
 * bytes. */
static int flask_login_id(const struct sb_codec_ctx *ctx, char *hex,
                          struct sb_err *err)
{
    unsigned char md[SB_DIGEST_MAX];
    const char *addr = ctx->client_addr;
    size_t addr_len = 0;
    struct sb_buf b;
    const void *part;
    size_t len;
    int rc = -1;

    if (addr != NULL) {
        addr_len = strcspn(addr, ",");
        while (addr_len > 0 && py_space(*addr)) {
            addr++;
            addr_len--;
        }
        while (addr_len > 0 && py_space(addr[addr_len - 1]))
            addr_len--;
    }
    sb_buf_init(&b);
    if (py_bytes_repr(&b, addr, addr_len) != 0 ||
        sb_buf_append(&b, "|", 1) != 0 ||
        py_bytes_repr(&b, ctx->user_agent,
                      ctx->user_agent ? strlen(ctx->user_agent) : 0) != 0) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    part = b.data;
    len = b.len;
    if (sb_hash(SB_SHA512, &part, &len, 1, md) != 64) {
        sb_err_set(err, SB_ERR_INTERNAL, "SHA-512 failed");
        goto out_free;
    }
    sb_hex_encode(md, 64, hex);
    rc = 0;
out_free:
    sb_buf_free(&b);
    return rc;
}

/* Flask-Login's _session_protection_failed() on a decoded session that
 * carries `_user_id`: when `_id` differs from this client's identifier,
 * strong mode on a non-permanent session logs the user out (invalid_claim);
 * basic mode, or a permanent session, only marks it not fresh. */
static int flask_check_protection(const struct flask_state *st, json_t *data,
                                  const struct sb_codec_ctx *ctx,
                                  struct sb_err *err)
{
    char ident[129];
    json_t *id;

    if (st->protection == FLASK_PROTECT_OFF ||
        json_object_get(data, "_user_id") == NULL)
        return 0;
    if (flask_login_id(ctx, ident, err) != 0)
        return -1;
    id = json_object_get(data, "_id");
    if (json_is_string(id) && strcmp(json_string_value(id), ident) == 0)
        return 0;
    if (st->protection == FLASK_PROTECT_STRONG &&
        !json_is_true(json_object_get(data, "_permanent")))
        return sb_err_set(err, SB_ERR_INVALID_CLAIM,
                          "flask-login session protection: _id does not "
                          "match this client's address and User-Agent");
    if (!json_is_false(json_object_get(data, "_fresh")) &&
        json_object_set_new(data, "_fresh", json_false()) != 0)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    return 0;
}

/* Verifies a Flask session cookie: signature first, then the age rule
 * (expired past max_age, future timestamps rejected as Flask does), then
 * the payload.  Tagged values stay in the data as their tag objects. */
static int flask_decode(const struct sb_profile *p, const char *token,
                        size_t len, const struct sb_codec_ctx *ctx,
                        struct sb_session *out, struct sb_err *err)
{
    const struct flask_state *st = p->codec_state;
    struct sb_itsd_parts parts;
    unsigned char *json;
    size_t json_len;
    json_t *data;

    if (sb_itsd_unsign(&st->signer, FLASK_WHAT, token, len, &parts, err) != 0 ||
        sb_itsd_check_age(FLASK_WHAT, parts.ts, ctx->now, p->max_age, true,
                          err) != 0 ||
        sb_itsd_payload_decode(FLASK_WHAT, parts.value, parts.value_len, &json,
                               &json_len, err) != 0)
        return -1;
    data = sb_itsd_parse_session(FLASK_WHAT, (const char *)json, json_len,
                                 err);
    free(json);
    if (data == NULL)
        return -1;
    if (flask_check_protection(st, data, ctx, err) != 0) {
        json_decref(data);
        return -1;
    }
    out->data = data;
    out->issued_at = parts.ts;
    out->expires_at = parts.ts + p->max_age;
    return 0;
}

/* True when s is an HTTP date as werkzeug's http_date writes it:
 * "Sun, 01 Nov 2026 00:00:00 GMT". */
static bool is_http_date(const char *s)
{
    static const char shape[] = "Aaa, 00 Aaa 0000 00:00:00 GMT";
    size_t i;

    if (strlen(s) != sizeof(shape) - 1)
        return false;
    for (i = 0; shape[i] != '\0'; i++) {
        char c = s[i];
        bool ok = shape[i] == 'A'   ? (c >= 'A' && c <= 'Z')
                  : shape[i] == 'a' ? (c >= 'a' && c <= 'z')
                  : shape[i] == '0' ? (c >= '0' && c <= '9')
                                    : c == shape[i];
        if (!ok)
            return false;
    }
    return true;
}

/* True when the tag name `key` (without any "__") is a flask tag. */
static bool is_tag_name(const char *key, size_t len)
{
    size_t i;

    for (i = 0; flask_tags[i] != NULL; i++) {
        if (strlen(flask_tags[i]) == len && memcmp(flask_tags[i], key, len) == 0)
            return true;
    }
    return false;
}

/* True when {key: v} is a tagged value exactly as Flask writes one (so it
 * passes through unchanged), false when it is plain data that only looks
 * like a tag (and has to be wrapped in " di"). */
static bool is_tag_value(const char *key, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), i;

    if (strcmp(key, " t") == 0)
        return json_is_array(v);
    if (strcmp(key, " m") == 0)
        return s != NULL;
    if (strcmp(key, " d") == 0)
        return s != NULL && is_http_date(s);
    if (strcmp(key, " u") == 0) {
        if (s == NULL || n != 32)
            return false;
        for (i = 0; i < n; i++) {
            if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                return false;
        }
        return true;
    }
    if (strcmp(key, " b") == 0) {
        unsigned char *raw;
        long m;
        if (s == NULL || (raw = malloc(sb_b64_decoded_max(n))) == NULL)
            return false;
        m = sb_b64_decode(SB_B64_STD_PAD, s, n, raw);
        free(raw);
        return m >= 0;
    }
    if (strcmp(key, " di") == 0) {
        const char *inner;
        size_t len;
        if (!json_is_object(v) || json_object_size(v) != 1)
            return false;
        inner = json_object_iter_key(json_object_iter((json_t *)v));
        len = strlen(inner);
        return len > 2 && strcmp(inner + len - 2, "__") == 0 &&
               is_tag_name(inner, len - 2);
    }
    return false;
}

static json_t *tag_value(const json_t *v, int depth);

/* The tagged form of a one-key object {key: v} whose key is a tag.  At the
 * top (the session itself, always a dict for Flask) only " di" can be a
 * tagged value. */
static json_t *tag_one_key(const char *key, const json_t *v, int depth)
{
    json_t *inner, *out;
    char *wrapped;
    size_t len;

    if ((depth > 0 || strcmp(key, " di") == 0) && is_tag_value(key, v)) {
        if (strcmp(key, " di") == 0) {
            const char *k = json_object_iter_key(json_object_iter((json_t *)v));
            inner = json_object();
            if (inner == NULL ||
                json_object_set_new(inner, k,
                                    tag_value(json_object_get(v, k),
                                              depth + 1)) != 0) {
                json_decref(inner);
                return NULL;
            }
        } else {
            inner = tag_value(v, depth + 1);
        }
        out = json_object();
        if (out == NULL || inner == NULL ||
            json_object_set_new(out, key, inner) != 0) {
            json_decref(out);
            return NULL;
        }
        return out;
    }
    len = strlen(key);
    wrapped = malloc(len + 3);
    if (wrapped == NULL)
        return NULL;
    memcpy(wrapped, key, len);
    memcpy(wrapped + len, "__", 3);
    inner = json_object();
    out = json_object();
    if (inner == NULL || out == NULL ||
        json_object_set_new(inner, wrapped, tag_value(v, depth + 1)) != 0 ||
        json_object_set(out, " di", inner) != 0) {
        json_decref(out);
        out = NULL;
    }
    json_decref(inner);
    free(wrapped);
    return out;
}

/* Returns a new value that Flask's tagged JSON would write for v (taken
 * from the canonical data): tagged values pass through; a one-key object
 * whose key is a tag but whose value does not fit that tag is plain data
 * and gets the " di" wrapper.  NULL when out of memory or too deep. */
static json_t *tag_value(const json_t *v, int depth)
{
    const char *key;
    json_t *val, *out;
    size_t i;

    if (depth > SB_JSON_DEPTH_MAX * 2)
        return NULL;
    if (json_is_object(v)) {
        if (json_object_size(v) == 1) {
            key = json_object_iter_key(json_object_iter((json_t *)v));
            if (is_tag_name(key, strlen(key)))
                return tag_one_key(key, json_object_get(v, key), depth);
        }
        out = json_object();
        json_object_foreach((json_t *)v, key, val) {
            if (out == NULL ||
                json_object_set_new(out, key, tag_value(val, depth + 1)) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (json_is_array(v)) {
        out = json_array();
        for (i = 0; i < json_array_size(v); i++) {
            if (out == NULL ||
                json_array_append_new(out, tag_value(json_array_get(v, i),
                                                     depth + 1)) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    return json_incref((json_t *)v);
}

/* Serialises s->data with Flask's tagged JSON (sorted keys, compact, ASCII),
 * adds Flask-Login's `_id` and `_fresh` when session protection is on and
 * the session has a `_user_id`, compresses when that is shorter, and signs
 * with the first secret at s->issued_at (or now). */
static int flask_encode(const struct sb_profile *p, const struct sb_session *s,
                        const struct sb_codec_ctx *ctx, char **out,
                        struct sb_err *err)
{
    const struct flask_state *st = p->codec_state;
    char ident[129];
    json_t *data;
    int rc = -1;

    *out = NULL;
    data = tag_value(s->data, 0);
    if (data == NULL)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "session data cannot be tagged (out of memory or "
                          "nested deeper than %d)", SB_JSON_DEPTH_MAX);
    if (st->protection != FLASK_PROTECT_OFF &&
        json_object_get(data, "_user_id") != NULL) {
        if (flask_login_id(ctx, ident, err) != 0)
            goto out_free;
        if (json_object_set_new(data, "_id", json_string(ident)) != 0 ||
            (json_object_get(data, "_fresh") == NULL &&
             json_object_set_new(data, "_fresh", json_true()) != 0)) {
            sb_err_set(err, SB_ERR_NOMEM, "out of memory");
            goto out_free;
        }
    }
    rc = sb_itsd_dumps(&st->signer, data, SB_JSON_PY_COMPACT_SORTED,
                       s->issued_at, ctx->now, out, err);
out_free:
    json_decref(data);
    return rc;
}

const struct sb_codec sb_codec_flask = {
    .name = "flask",
    .native_sid = false,
    .cookie_escape = NULL,
    .configure = flask_configure,
    .prepare = flask_prepare,
    .release = flask_release,
    .decode = flask_decode,
    .encode = flask_encode,
};
