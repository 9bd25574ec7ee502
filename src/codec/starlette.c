/* starlette.c - the `starlette` format: Starlette / FastAPI
 * SessionMiddleware cookies (itsdangerous TimestampSigner over b64std
 * padded JSON, FORMATS.md section 2). */
#include <stdlib.h>
#include <string.h>

#include "itsdangerous_internal.h"
#include "sessionbridge/b64.h"
#include "sessionbridge/codec.h"
#include "sessionbridge/crypto.h"

#define STARLETTE_DEFAULT_SALT "itsdangerous.Signer"
#define STARLETTE_DEFAULT_MAX_AGE 1209600 /* 14 days */
#define STARLETTE_WHAT "starlette session"

/* What prepare() derives for one starlette profile (p->codec_state). */
struct starlette_state {
    struct sb_itsd_signer signer;
};

static void starlette_release(struct sb_profile *p)
{
    struct starlette_state *st = p->codec_state;

    if (st == NULL)
        return;
    sb_itsd_signer_clear(&st->signer);
    free(st);
    p->codec_state = NULL;
}

/* Derives one key per secret with TimestampSigner's defaults
 * ("django-concat" with salt itsdangerous.Signer, sha1, both overridable)
 * and fills SessionMiddleware's defaults: cookie "session", max_age 14
 * days also written as Max-Age, SameSite=Lax, HttpOnly. */
static int starlette_prepare(struct sb_profile *p, struct sb_err *err)
{
    struct starlette_state *st = sb_codec_state(p, sizeof(*st), err);
    enum sb_digest d = SB_SHA1;

    if (st == NULL)
        return -1;
    if (p->secrets.count == 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "format starlette needs secrets_file (the "
                          "SessionMiddleware secret_key)");
    if (p->digest != NULL && sb_digest_parse(p->digest, &d, err) != 0)
        return -1;
    if (p->serializer != NULL && strcmp(p->serializer, "json") != 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "format starlette supports serializer json only");
    st->signer.sep = '.';
    st->signer.ts_style = SB_ITSD_TS_B64INT;
    if (sb_itsd_signer_add_keys(&st->signer, &p->secrets, d,
                                SB_ITSD_KDF_CONCAT,
                                p->salt ? p->salt : STARLETTE_DEFAULT_SALT,
                                err) != 0)
        return -1;
    if (p->max_age == 0)
        p->max_age = STARLETTE_DEFAULT_MAX_AGE;
    if (p->cookie.max_age == -2)
        p->cookie.max_age = p->max_age;
    if (p->cookie.samesite == SB_SAMESITE_UNSET)
        p->cookie.samesite = SB_SAMESITE_LAX;
    return sb_codec_default_string(&p->cookie.name, "session", err);
}

/* Verifies a SessionMiddleware cookie: signature, then the age rule
 * (expired past max_age, future rejected), then b64std padded JSON. */
static int starlette_decode(const struct sb_profile *p, const char *token,
                            size_t len, const struct sb_codec_ctx *ctx,
                            struct sb_session *out, struct sb_err *err)
{
    const struct starlette_state *st = p->codec_state;
    struct sb_itsd_parts parts;
    unsigned char *json;
    long n;

    if (sb_itsd_unsign(&st->signer, STARLETTE_WHAT, token, len, &parts,
                       err) != 0 ||
        sb_itsd_check_age(STARLETTE_WHAT, parts.ts, ctx->now, p->max_age, true,
                          err) != 0)
        return -1;
    json = malloc(sb_b64_decoded_max(parts.value_len) + 1);
    if (json == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    n = sb_b64_decode(SB_B64_STD_PAD, parts.value, parts.value_len, json);
    if (n < 0) {
        free(json);
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "%s payload is not padded standard base64",
                          STARLETTE_WHAT);
    }
    out->data = sb_itsd_parse_session(STARLETTE_WHAT, (const char *)json,
                                      (size_t)n, err);
    free(json);
    if (out->data == NULL)
        return -1;
    out->issued_at = parts.ts;
    out->expires_at = parts.ts + p->max_age;
    return 0;
}

/* json.dumps(session) with Python's default separators, insertion order,
 * b64std padded, signed at s->issued_at (or now) with the first secret. */
static int starlette_encode(const struct sb_profile *p,
                            const struct sb_session *s,
                            const struct sb_codec_ctx *ctx, char **out,
                            struct sb_err *err)
{
    const struct starlette_state *st = p->codec_state;
    struct sb_buf json, token;
    char *text = NULL;
    size_t n;
    int rc = -1;

    *out = NULL;
    sb_buf_init(&json);
    sb_buf_init(&token);
    if (sb_json_dump(s->data, SB_JSON_PY_DEFAULT, &json, err) != 0)
        goto out_free;
    text = malloc(sb_b64_encoded_size(json.len));
    if (text == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    n = sb_b64_encode(SB_B64_STD_PAD, json.data, json.len, text);
    if (sb_buf_append(&token, text, n) != 0) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    rc = sb_itsd_sign(&st->signer, s->issued_at, ctx->now, &token, out, err);
out_free:
    free(text);
    sb_buf_free(&token);
    sb_buf_free(&json);
    return rc;
}

const struct sb_codec sb_codec_starlette = {
    .name = "starlette",
    .native_sid = false,
    .cookie_escape = NULL,
    .configure = NULL,
    .prepare = starlette_prepare,
    .release = starlette_release,
    .decode = starlette_decode,
    .encode = starlette_encode,
};
