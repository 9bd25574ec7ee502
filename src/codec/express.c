/* express.c - the `express` format: express-session's connect.sid cookie
 * ("s:" + cookie-signature of the sid) and the connect-redis 7 records that
 * hold the session data (FORMATS.md section 5). */
#include "sessionbridge/express.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mac_internal.h"
#include "sessionbridge/b64.h"
#include "sessionbridge/codec.h"
#include "sessionbridge/crypto.h"
#include "sessionbridge/jsonutil.h"

#define EXPRESS_SIG_LEN 43          /* b64std nopad of 32 bytes */
#define EXPRESS_DEFAULT_PREFIX "sess:"
#define EXPRESS_DEFAULT_TTL 86400   /* connect-redis `ttl` default */
#define EXPRESS_RECORD_MAX SB_DECOMPRESSED_MAX

/* What prepare() derives for one express profile (p->codec_state). */
struct express_state {
    char *store_prefix;        /* connect-redis `prefix`; owned */
    int64_t store_ttl;         /* connect-redis `ttl` in seconds */
    struct sb_mac_key *keys;   /* HMAC-SHA256, one per secret; [0] signs */
    size_t key_count;
};

static int express_configure(struct sb_profile *p, const char *key,
                             const char *value, struct sb_err *err)
{
    struct express_state *st = sb_codec_state(p, sizeof(*st), err);

    if (st == NULL)
        return -1;
    if (strcmp(key, "store_prefix") == 0) {
        if (strlen(value) > 64 || strpbrk(value, " \t\r\n") != NULL)
            return sb_err_set(err, SB_ERR_CONFIG,
                              "store_prefix must be at most 64 bytes "
                              "without spaces");
        free(st->store_prefix);
        st->store_prefix = strdup(value);
        return st->store_prefix ? 0
                                : sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    }
    if (strcmp(key, "store_ttl") == 0)
        return sb_codec_parse_seconds(key, value, 1, 10LL * 365 * 86400,
                                      "1 to 10 years", &st->store_ttl, err);
    return sb_err_set(err, SB_ERR_CONFIG, "unknown key '%s' for format express",
                      key);
}

static void express_release(struct sb_profile *p)
{
    struct express_state *st = p->codec_state;
    size_t i;

    if (st == NULL)
        return;
    for (i = 0; i < st->key_count; i++)
        sb_mac_key_clear(&st->keys[i]);
    free(st->keys);
    free(st->store_prefix);
    free(st);
    p->codec_state = NULL;
}

/* Checks the secrets, keys one HMAC-SHA256 per secret, fills defaults:
 * cookie connect.sid, prefix sess:, ttl 86400, subject field user_id, and
 * a browser-session cookie unless max_age or cookie_max_age is set. */
static int express_prepare(struct sb_profile *p, struct sb_err *err)
{
    struct express_state *st = sb_codec_state(p, sizeof(*st), err);
    size_t i;

    if (st == NULL)
        return -1;
    if (p->secrets.count == 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "format express needs secrets_file (the "
                          "express-session secret list)");
    st->keys = calloc(p->secrets.count, sizeof(*st->keys));
    if (st->keys == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    for (i = 0; i < p->secrets.count; i++) {
        if (sb_mac_key_init(&st->keys[i], SB_SHA256, p->secrets.items[i].bytes,
                            p->secrets.items[i].len, err) != 0)
            return -1;
        st->key_count++;
    }
    if (st->store_ttl == 0)
        st->store_ttl = EXPRESS_DEFAULT_TTL;
    if (sb_codec_default_string(&st->store_prefix, EXPRESS_DEFAULT_PREFIX,
                                err) != 0 ||
        sb_codec_default_string(&p->cookie.name, "connect.sid", err) != 0 ||
        sb_codec_default_string(&p->subject_field, "user_id", err) != 0)
        return -1;
    if (p->cookie.max_age == -2)
        p->cookie.max_age = p->max_age > 0 ? p->max_age : -1;
    return 0;
}

/* Writes cookie-signature's MAC of val with key k into sig (44 bytes):
 * b64std of HMAC-SHA256 without the trailing '='. */
static int express_sign(const struct sb_mac_key *k, const char *val,
                        size_t len, char *sig)
{
    unsigned char mac[SB_DIGEST_MAX];

    if (sb_mac_compute(k, val, len, mac) != 32)
        return -1;
    sb_b64_encode(SB_B64_STD_NOPAD, mac, 32, sig);
    return 0;
}

/* cookie-parser's "j:" values: the signed text is JSON; only an object can
 * be session data. */
static int decode_json_value(const char *val, size_t len,
                             struct sb_session *out, struct sb_err *err)
{
    json_t *v = sb_json_parse(val + 2, len - 2, SB_ERR_MALFORMED,
                              "cookie-parser JSON value", err);

    if (v == NULL)
        return -1;
    if (!json_is_object(v)) {
        json_decref(v);
        return sb_err_set(err, SB_ERR_UNSUPPORTED,
                          "cookie-parser JSON value is not an object");
    }
    out->data = v;
    return 0;
}

/* Verifies "s:" VAL "." SIG (already percent-decoded) the way
 * express-session's unsigncookie does: the whole string must equal
 * "s:" sign(VAL, secret) for one of the secrets.  VAL is the sid, or a
 * cookie-parser "j:" JSON object that becomes the data. */
static int express_decode(const struct sb_profile *p, const char *token,
                          size_t len, const struct sb_codec_ctx *ctx,
                          struct sb_session *out, struct sb_err *err)
{
    const struct express_state *st = p->codec_state;
    char sig[SB_DIGEST_MAX];
    const char *val, *dot;
    size_t val_len, sig_len, i;
    bool ok = false;

    if (len > SB_COOKIE_MAX)
        return sb_err_set(err, SB_ERR_TOO_LARGE,
                          "express cookie is %zu bytes; the limit is %d", len,
                          SB_COOKIE_MAX);
    if (len < 2 || token[0] != 's' || token[1] != ':')
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "express cookie value lacks the s: prefix");
    val = token + 2;
    dot = memrchr(val, '.', len - 2);
    if (dot == NULL)
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "express cookie value has no '.' before its "
                          "signature");
    val_len = (size_t)(dot - val);
    sig_len = len - 2 - val_len - 1;
    if (sig_len != EXPRESS_SIG_LEN)
        return sb_err_set(err, SB_ERR_BAD_SIGNATURE,
                          "express signature is %zu characters, not %d",
                          sig_len, EXPRESS_SIG_LEN);
    for (i = 0; i < st->key_count && !ok; i++) {
        if (express_sign(&st->keys[i], val, val_len, sig) != 0)
            return sb_err_set(err, SB_ERR_INTERNAL, "HMAC failed");
        ok = sb_ct_equal(sig, dot + 1, EXPRESS_SIG_LEN);
    }
    if (!ok)
        return sb_err_set(err, SB_ERR_BAD_SIGNATURE,
                          "express cookie signature does not verify with "
                          "any of %zu secrets", st->key_count);
    if (val_len >= 2 && val[0] == 'j' && val[1] == ':')
        return decode_json_value(val, val_len, out, err);
    if (val_len == 0 || val_len >= SB_SID_MAX)
        return sb_err_set(err, SB_ERR_UNSUPPORTED,
                          "express session id is %zu bytes; the bridge takes "
                          "1-%d", val_len, SB_SID_MAX - 1);
    memcpy(out->sid, val, val_len);
    out->sid[val_len] = '\0';
    if (strlen(out->sid) != val_len || !sb_sid_is_valid(out->sid))
        return sb_err_set(err, SB_ERR_UNSUPPORTED,
                          "express session id has characters outside "
                          "[A-Za-z0-9._:-]");
    out->data = json_object();
    return out->data ? 0 : sb_err_set(err, SB_ERR_NOMEM, "out of memory");
}

/* "s:" sid "." sig with the first secret.  The data is not in the cookie:
 * write it with sb_express_record_build(). */
static int express_encode(const struct sb_profile *p,
                          const struct sb_session *s,
                          const struct sb_codec_ctx *ctx, char **out,
                          struct sb_err *err)
{
    const struct express_state *st = p->codec_state;
    size_t n = strlen(s->sid);
    char sig[SB_DIGEST_MAX];

    *out = NULL;
    if (!sb_sid_is_valid(s->sid))
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "an express cookie needs a session id");
    if (express_sign(&st->keys[0], s->sid, n, sig) != 0)
        return sb_err_set(err, SB_ERR_INTERNAL, "HMAC failed");
    *out = malloc(2 + n + 1 + EXPRESS_SIG_LEN + 1);
    if (*out == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    sprintf(*out, "s:%s.%s", s->sid, sig);
    return 0;
}

/* The session data lives in connect-redis records. */
static const struct sb_codec_records express_records = {
    .key = sb_express_record_key,
    .parse = sb_express_record_parse,
    .build = sb_express_record_build,
};

const struct sb_codec sb_codec_express = {
    .name = "express",
    .native_sid = true,
    .records = &express_records,
    .cookie_escape = ":+/",
    .configure = express_configure,
    .prepare = express_prepare,
    .release = express_release,
    .decode = express_decode,
    .encode = express_encode,
};

/* ---- connect-redis records -------------------------------------------- */

int sb_express_record_key(const struct sb_profile *p, const char *sid,
                          char **out, struct sb_err *err)
{
    const struct express_state *st = p->codec_state;

    *out = NULL;
    if (p->codec != &sb_codec_express || st == NULL)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "profile %s is not an express profile", p->name);
    if (!sb_sid_is_valid(sid))
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "an express record needs a session id");
    if (asprintf(out, "%s%s", st->store_prefix, sid) < 0) {
        *out = NULL;
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    }
    return 0;
}

int64_t sb_express_record_ttl(const struct sb_profile *p, int64_t expires_ms,
                              int64_t now_ms)
{
    const struct express_state *st = p->codec_state;
    int64_t ms;

    if (expires_ms < 0)
        return st->store_ttl;
    ms = expires_ms - now_ms;
    /* Math.ceil(ms / 1000) for either sign */
    return ms > 0 ? (ms + 999) / 1000 : -((-ms) / 1000);
}

/* Date.prototype.toISOString of Unix ms: "2026-11-23T10:30:17.557Z". */
static json_t *iso_date(int64_t ms)
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    char buf[64];

    if (gmtime_r(&sec, &tm) == NULL)
        return NULL;
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return json_string(buf);
}

/* Parses the toISOString form back into Unix ms; -1 when it is not one. */
static int64_t parse_iso_date(const char *s)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, ms = 0, n = 0;
    time_t t;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
               &n) != 6 || n != 19)
        return -1;
    if (s[19] == '.') {
        if (strlen(s) != 24 || sscanf(s + 20, "%3d", &ms) != 1 ||
            strspn(s + 20, "0123456789") != 3)
            return -1;
        n = 23;
    }
    if (strcmp(s + n, "Z") != 0 || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
        d > 31 || h > 23 || mi > 59 || sec > 59 || h < 0 || mi < 0 || sec < 0)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t < 0)
        return -1;
    return (int64_t)t * 1000 + ms;
}

/* express-session's cookie object for a session expiring at expires_ms
 * (< 0: none), in Cookie.data's field order. */
static json_t *cookie_object(const struct sb_profile *p, int64_t expires_ms,
                             int64_t now_ms)
{
    static const char *const samesite[] = {NULL, "lax", "strict", "none"};
    const struct sb_cookie_attrs *c = &p->cookie;
    json_t *o = json_object();
    int rc = 0;

    if (o == NULL)
        return NULL;
    if (expires_ms >= 0) {
        rc |= json_object_set_new(o, "originalMaxAge",
                                  json_integer(expires_ms - now_ms));
        rc |= json_object_set_new(o, "expires", iso_date(expires_ms));
    } else {
        rc |= json_object_set_new(o, "originalMaxAge", json_null());
        rc |= json_object_set_new(o, "expires", json_null());
    }
    if (c->secure)
        rc |= json_object_set_new(o, "secure", json_true());
    rc |= json_object_set_new(o, "httpOnly", json_boolean(c->httponly));
    if (c->domain != NULL)
        rc |= json_object_set_new(o, "domain", json_string(c->domain));
    rc |= json_object_set_new(o, "path", json_string(c->path ? c->path : "/"));
    if (c->samesite != SB_SAMESITE_UNSET)
        rc |= json_object_set_new(o, "sameSite",
                                  json_string(samesite[c->samesite]));
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int sb_express_record_build(const struct sb_profile *p,
                            const struct sb_session *s, int64_t now_ms,
                            struct sb_codec_record *out,
                            struct sb_err *err)
{
    json_t *data = NULL, *rec = NULL, *cookie;
    int64_t expires_ms = -1;
    const char *k;
    json_t *v;
    struct sb_buf b;

    memset(out, 0, sizeof(*out));
    sb_buf_init(&b);
    if (sb_express_record_key(p, s->sid, &out->key, err) != 0)
        return -1;
    if (s->expires_at > 0)
        expires_ms = s->expires_at * 1000;
    else if (p->max_age > 0)
        expires_ms = now_ms + p->max_age * 1000;
    if (sb_credential_map_out(p, s, &data, err) != 0)
        goto err_free;
    rec = json_object();
    cookie = cookie_object(p, expires_ms, now_ms);
    if (rec == NULL || cookie == NULL ||
        json_object_set_new(rec, "cookie", cookie) != 0) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto err_free;
    }
    json_object_foreach(data, k, v) {
        if (strcmp(k, "cookie") == 0)
            continue; /* req.session.cookie is express-session's own */
        if (json_object_set(rec, k, v) != 0) {
            sb_err_set(err, SB_ERR_NOMEM, "out of memory");
            goto err_free;
        }
    }
    if (sb_json_dump(rec, SB_JSON_JS, &b, err) != 0)
        goto err_free;
    out->ttl = sb_express_record_ttl(p, expires_ms, now_ms);
    out->value = sb_buf_steal(&b, &out->value_len);
    json_decref(rec);
    json_decref(data);
    return out->value ? 0 : sb_err_set(err, SB_ERR_NOMEM, "out of memory");

err_free:
    sb_buf_free(&b);
    json_decref(rec);
    json_decref(data);
    sb_codec_record_free(out);
    return -1;
}

/* Reads cookie.expires of a record: Unix ms, -1 when null; -2 when it is
 * neither null nor a toISOString date. */
static int64_t record_expires(const json_t *cookie)
{
    const json_t *v = json_object_get(cookie, "expires");
    int64_t ms;

    if (v == NULL || json_is_null(v))
        return -1;
    if (!json_is_string(v))
        return -2;
    ms = parse_iso_date(json_string_value(v));
    return ms < 0 ? -2 : ms;
}

int sb_express_record_parse(const struct sb_profile *p, const char *value,
                            size_t len, int64_t now_ms, struct sb_session *s,
                            struct sb_err *err)
{
    json_t *rec, *cookie;
    int64_t expires_ms;

    json_decref(s->data);
    s->data = NULL;
    if (len > EXPRESS_RECORD_MAX) {
        sb_err_set(err, SB_ERR_TOO_LARGE,
                   "express record is %zu bytes; the limit is %u", len,
                   EXPRESS_RECORD_MAX);
        goto err_reset;
    }
    rec = sb_json_parse(value, len, SB_ERR_MALFORMED, "express record", err);
    if (rec == NULL)
        goto err_reset;
    s->data = rec;
    cookie = json_object_get(rec, "cookie");
    if (!json_is_object(rec) || !json_is_object(cookie)) {
        sb_err_set(err, SB_ERR_MALFORMED,
                   "express record is not an object with a cookie object");
        goto err_reset;
    }
    expires_ms = record_expires(cookie);
    if (expires_ms == -2) {
        sb_err_set(err, SB_ERR_MALFORMED,
                   "express record cookie.expires is not an ISO-8601 date");
        goto err_reset;
    }
    if (expires_ms >= 0 && expires_ms <= now_ms) {
        sb_err_set(err, SB_ERR_EXPIRED, "express session expired %" PRId64
                   " s ago", (now_ms - expires_ms) / 1000);
        goto err_reset;
    }
    json_object_del(rec, "cookie");
    s->expires_at = expires_ms >= 0 ? (expires_ms + 999) / 1000 : 0;
    free(s->subject);
    s->subject = NULL;
    if (sb_credential_map_in(p, s, err) != 0)
        goto err_reset;
    return 0;

err_reset:
    sb_session_reset(s);
    return -1;
}
