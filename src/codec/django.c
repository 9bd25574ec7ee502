/* django.c - the `django` format: the signed_cookies session backend
 * (django.core.signing TimestampSigner, base62 timestamps, sha256 with the
 * legacy sha1 still accepted as Django 3.x does, FORMATS.md section 3). */
#include <stdlib.h>
#include <string.h>

#include "itsdangerous_internal.h"
#include "sessionbridge/codec.h"
#include "sessionbridge/crypto.h"

#define DJANGO_DEFAULT_SALT "django.contrib.sessions.backends.signed_cookies"
#define DJANGO_DEFAULT_MAX_AGE 1209600 /* SESSION_COOKIE_AGE, 14 days */
#define DJANGO_DEFAULT_BACKEND "django.contrib.auth.backends.ModelBackend"
#define DJANGO_WHAT "django session"

/* What configure() and prepare() set for one django profile. */
struct django_state {
    bool legacy_sha1_set;      /* legacy_sha1 given in the config */
    bool legacy_sha1;          /* verify sha1 signatures too (Django 3.x) */
    bool require_auth_hash;    /* refuse to mint a login without
                                  `_auth_user_hash` */
    char *auth_backend;        /* `_auth_user_backend` written when a login
                                  lacks one; NULL = never; owned */
    struct sb_itsd_signer signer; /* digest keys first, then sha1 keys */
};

/* The profile's state, with Django's defaults on first use. */
static struct django_state *state_get(struct sb_profile *p, struct sb_err *err)
{
    bool fresh = p->codec_state == NULL;
    struct django_state *st = sb_codec_state(p, sizeof(*st), err);

    if (st == NULL || !fresh)
        return st;
    st->require_auth_hash = true;
    if (sb_codec_default_string(&st->auth_backend, DJANGO_DEFAULT_BACKEND,
                                err) != 0) {
        free(st);
        p->codec_state = NULL;
        return NULL;
    }
    return st;
}

static int django_configure(struct sb_profile *p, const char *key,
                            const char *value, struct sb_err *err)
{
    struct django_state *st = state_get(p, err);
    bool b;

    if (st == NULL)
        return -1;
    if (strcmp(key, "legacy_sha1") == 0 ||
        strcmp(key, "require_auth_user_hash") == 0) {
        if (sb_itsd_parse_bool(value, &b) != 0)
            return sb_err_set(err, SB_ERR_CONFIG, "%s '%s' is not true or "
                              "false", key, value);
        if (key[0] == 'l') {
            st->legacy_sha1 = b;
            st->legacy_sha1_set = true;
        } else {
            st->require_auth_hash = b;
        }
        return 0;
    }
    if (strcmp(key, "auth_user_backend") == 0) {
        free(st->auth_backend);
        st->auth_backend = NULL;
        if (strcmp(value, "none") == 0)
            return 0;
        st->auth_backend = strdup(value);
        return st->auth_backend ? 0
                                : sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    }
    return sb_err_set(err, SB_ERR_CONFIG, "unknown key '%s' for format django",
                      key);
}

static void django_release(struct sb_profile *p)
{
    struct django_state *st = p->codec_state;

    if (st == NULL)
        return;
    sb_itsd_signer_clear(&st->signer);
    free(st->auth_backend);
    free(st);
    p->codec_state = NULL;
}

/* Derives Django's salted_hmac keys, H(salt "signer" secret), for the
 * digest (sha256 unless configured) and, unless legacy_sha1 = false, sha1
 * verify-only keys after them; fills the backend's defaults: cookie
 * "sessionid", max_age = SESSION_COOKIE_AGE (14 days) also written as
 * Max-Age, SameSite=Lax, subject field `_auth_user_id`. */
static int django_prepare(struct sb_profile *p, struct sb_err *err)
{
    struct django_state *st = state_get(p, err);
    const char *salt = p->salt ? p->salt : DJANGO_DEFAULT_SALT;
    enum sb_digest d = SB_SHA256;

    if (st == NULL)
        return -1;
    if (p->secrets.count == 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "format django needs secrets_file (SECRET_KEY, then "
                          "SECRET_KEY_FALLBACKS)");
    if (p->digest != NULL && sb_digest_parse(p->digest, &d, err) != 0)
        return -1;
    if (p->serializer != NULL && strcmp(p->serializer, "json") != 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "format django supports serializer json only "
                          "(PickleSerializer sessions are refused)");
    if (!st->legacy_sha1_set)
        st->legacy_sha1 = true;
    st->signer.sep = ':';
    st->signer.ts_style = SB_ITSD_TS_BASE62;
    if (sb_itsd_signer_add_keys(&st->signer, &p->secrets, d,
                                SB_ITSD_KDF_CONCAT, salt, err) != 0 ||
        (st->legacy_sha1 && d != SB_SHA1 &&
         sb_itsd_signer_add_keys(&st->signer, &p->secrets, SB_SHA1,
                                 SB_ITSD_KDF_CONCAT, salt, err) != 0))
        return -1;
    if (p->max_age == 0)
        p->max_age = DJANGO_DEFAULT_MAX_AGE;
    if (p->cookie.max_age == -2)
        p->cookie.max_age = p->max_age;
    if (p->cookie.samesite == SB_SAMESITE_UNSET)
        p->cookie.samesite = SB_SAMESITE_LAX;
    if (sb_codec_default_string(&p->cookie.name, "sessionid", err) != 0 ||
        sb_codec_default_string(&p->subject_field, "_auth_user_id", err) != 0)
        return -1;
    return 0;
}

/* JSONSerializer.loads decodes the bytes as latin-1: returns a new
 * NUL-terminated UTF-8 copy of raw[0..n) read that way. */
static char *latin1_to_utf8(const unsigned char *raw, size_t n, size_t *len)
{
    char *out = malloc(n * 2 + 1);
    size_t i, o = 0;

    if (out == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        if (raw[i] < 0x80) {
            out[o++] = (char)raw[i];
        } else {
            out[o++] = (char)(0xC0 | raw[i] >> 6);
            out[o++] = (char)(0x80 | (raw[i] & 0x3F));
        }
    }
    out[o] = '\0';
    *len = o;
    return out;
}

/* Verifies a signed_cookies session key: signature (digest or legacy
 * sha1), the age rule (expired past max_age; future timestamps accepted,
 * as Django does), then the payload; pickle payloads are unsupported. */
static int django_decode(const struct sb_profile *p, const char *token,
                         size_t len, const struct sb_codec_ctx *ctx,
                         struct sb_session *out, struct sb_err *err)
{
    const struct django_state *st = p->codec_state;
    struct sb_itsd_parts parts;
    unsigned char *raw;
    char *text;
    size_t raw_len, text_len;

    if (sb_itsd_unsign(&st->signer, DJANGO_WHAT, token, len, &parts, err) != 0 ||
        sb_itsd_check_age(DJANGO_WHAT, parts.ts, ctx->now, p->max_age, false,
                          err) != 0 ||
        sb_itsd_payload_decode(DJANGO_WHAT, parts.value, parts.value_len, &raw,
                               &raw_len, err) != 0)
        return -1;
    if (raw_len > 0 && raw[0] == 0x80) {
        free(raw);
        return sb_err_set(err, SB_ERR_UNSUPPORTED,
                          "%s is a pickle (PickleSerializer); only JSON "
                          "sessions are supported", DJANGO_WHAT);
    }
    text = latin1_to_utf8(raw, raw_len, &text_len);
    free(raw);
    if (text == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    out->data = sb_itsd_parse_session(DJANGO_WHAT, text, text_len, err);
    free(text);
    if (out->data == NULL)
        return -1;
    out->issued_at = parts.ts;
    out->expires_at = parts.ts + p->max_age;
    return 0;
}

/* Checks and completes the auth keys of a login being minted: Django's
 * get_user() needs `_auth_user_backend` (filled from auth_user_backend)
 * and flushes a session whose `_auth_user_hash` does not match the user's
 * password hash, which only the Django side can compute, so the caller
 * must supply it in the data (unless require_auth_user_hash = false).
 * *data is replaced by a new reference when a key is added. */
static int django_complete_login(const struct django_state *st, json_t **data,
                                 struct sb_err *err)
{
    json_t *copy;

    if (json_object_get(*data, "_auth_user_id") == NULL)
        return 0;
    if (st->require_auth_hash &&
        !json_is_string(json_object_get(*data, "_auth_user_hash")))
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "a Django login needs _auth_user_hash in the session "
                          "data (Django derives it from the password hash; "
                          "the backend must supply it)");
    if (st->auth_backend == NULL ||
        json_object_get(*data, "_auth_user_backend") != NULL)
        return 0;
    copy = json_copy(*data);
    if (copy == NULL ||
        json_object_set_new(copy, "_auth_user_backend",
                            json_string(st->auth_backend)) != 0) {
        json_decref(copy);
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    }
    json_decref(*data);
    *data = copy;
    return 0;
}

/* signing.dumps(session, compress=True): compact JSON in insertion order,
 * zlib when shorter, b64url, then TimestampSigner with ':' and base62 TS
 * at s->issued_at (or now), signed with the first secret. */
static int django_encode(const struct sb_profile *p, const struct sb_session *s,
                         const struct sb_codec_ctx *ctx, char **out,
                         struct sb_err *err)
{
    const struct django_state *st = p->codec_state;
    json_t *data = json_incref(s->data);
    int rc;

    *out = NULL;
    rc = django_complete_login(st, &data, err);
    if (rc == 0)
        rc = sb_itsd_dumps(&st->signer, data, SB_JSON_PY_COMPACT, s->issued_at,
                           ctx->now, out, err);
    json_decref(data);
    return rc;
}

const struct sb_codec sb_codec_django = {
    .name = "django",
    .native_sid = false,
    .cookie_escape = NULL,
    .configure = django_configure,
    .prepare = django_prepare,
    .release = django_release,
    .decode = django_decode,
    .encode = django_encode,
};
