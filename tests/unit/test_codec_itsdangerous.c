/* test_codec_itsdangerous.c - the flask, starlette and django codecs: every
 * public vector (decode, then re-encode byte for byte), a table of bad
 * inputs each with its error code, rotation, Flask tagged JSON and
 * Flask-Login protection, Django login completion and legacy sha1, config
 * errors.  Bad tokens are signed here with OpenSSL directly, not with the
 * code under test. */
#include <check.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "codec_fixture.h"
#include "sessionbridge/jsonutil.h"
#include "unit_run.h"

static const char *const one_secret[] = {FIX_SECRET, NULL};

/* ---- independent signer ----------------------------------------------- */

/* value SEP ts SEP b64url(HMAC(key derived as the framework does)), signed
 * with OpenSSL here.  format: flask (hmac kdf, sha1), starlette (concat,
 * sha1), django (concat, sha256), django-sha1.  Returns a new string. */
static char *sign_raw(const char *format, const char *secret,
                      const char *value, const char *ts)
{
    unsigned char key[64], mac[64];
    unsigned int key_len = 0, mac_len = 0;
    const EVP_MD *md = EVP_sha1();
    char sep = strncmp(format, "django", 6) == 0 ? ':' : '.';
    char *signed_part, *out;
    size_t n;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (strcmp(format, "flask") == 0) {
        HMAC(md, secret, (int)strlen(secret),
             (const unsigned char *)"cookie-session", 14, key, &key_len);
    } else {
        const char *salt = sep == ':'
            ? "django.contrib.sessions.backends.signed_cookies"
            : "itsdangerous.Signer";
        if (strcmp(format, "django") == 0)
            md = EVP_sha256();
        EVP_DigestInit_ex(ctx, md, NULL);
        EVP_DigestUpdate(ctx, salt, strlen(salt));
        EVP_DigestUpdate(ctx, "signer", 6);
        EVP_DigestUpdate(ctx, secret, strlen(secret));
        EVP_DigestFinal_ex(ctx, key, &key_len);
    }
    EVP_MD_CTX_free(ctx);
    n = strlen(value) + strlen(ts) + 2;
    signed_part = malloc(n);
    snprintf(signed_part, n, "%s%c%s", value, sep, ts);
    HMAC(md, key, (int)key_len, (const unsigned char *)signed_part,
         strlen(signed_part), mac, &mac_len);
    out = malloc(n + sb_b64_encoded_size(mac_len) + 1);
    n = (size_t)sprintf(out, "%s%c", signed_part, sep);
    sb_b64_encode(SB_B64_URL_NOPAD, mac, mac_len, out + n);
    free(signed_part);
    return out;
}

/* b64 of raw[0..n) in variant v, optionally zlib-compressed first (with a
 * leading '.'), as a new string. */
static char *b64_of(enum sb_b64_variant v, const void *raw, size_t n,
                    bool compress)
{
    unsigned char *z = NULL;
    uLongf zlen;
    char *out;

    if (compress) {
        zlen = compressBound(n);
        z = malloc(zlen);
        ck_assert_int_eq(compress2(z, &zlen, raw, n, 6), Z_OK);
        raw = z;
        n = zlen;
    }
    out = malloc(sb_b64_encoded_size(n) + 1);
    out[0] = '.';
    sb_b64_encode(v, raw, n, out + (compress ? 1 : 0));
    free(z);
    return out;
}

/* Signs the JSON text (or any bytes) as a payload of format. */
static char *sign_payload(const char *format, const void *raw, size_t n,
                          bool compress, const char *ts)
{
    enum sb_b64_variant v = strcmp(format, "starlette") == 0
                                ? SB_B64_STD_PAD : SB_B64_URL_NOPAD;
    char *payload = b64_of(v, raw, n, compress);
    char *tok = sign_raw(format, FIX_SECRET, payload, ts);

    free(payload);
    return tok;
}

/* ---- vectors ------------------------------------------------------------ */

/* Decodes one vector with its verify_now and checks the verdict; valid ones
 * must carry expected_payload and re-encode to the same token. */
static void check_vector(const json_t *v)
{
    const char *format = fix_str(v, "format");
    const char *name = fix_str(v, "name");
    const char *token = fix_str(v, "token");
    const char *expect = fix_str(v, "expect");
    json_t *params = json_object_get(v, "secret_or_key_params");
    const char *secrets[] = {fix_str(params, "secret_key"), NULL};
    int64_t ts = json_integer_value(json_object_get(v, "timestamp"));
    struct sb_codec_ctx ctx = {
        .now = json_integer_value(json_object_get(v, "verify_now"))};
    struct sb_session s, raw;
    struct sb_err err = {0};
    struct sb_profile p;
    char *again = NULL;
    int rc;

    fix_profile(&p, format, format, secrets, NULL);
    sb_session_init(&s);
    rc = sb_credential_decode(&p, token, strlen(token), &ctx, &s, &err);
    if (strcmp(expect, "valid") == 0) {
        ck_assert_msg(rc == 0, "%s: %s", name, err.msg);
        ck_assert_msg(json_equal(s.data, json_object_get(v, "expected_payload")),
                      "%s: payload differs", name);
        ck_assert_int_eq(s.issued_at, ts);
        ck_assert_int_eq(s.expires_at, ts + p.max_age);
        /* Re-encode the format's own data, as decoded. */
        sb_session_init(&raw);
        ck_assert_int_eq(p.codec->decode(&p, token, strlen(token), &ctx, &raw,
                                         &err), 0);
        raw.issued_at = ts;
        ck_assert_int_eq(p.codec->encode(&p, &raw, &ctx, &again, &err), 0);
        if (strcmp(name, "django-legacy-sha1") != 0)
            ck_assert_msg(strcmp(again, token) == 0,
                          "%s: re-encoded\n %s\nexpected\n %s", name, again,
                          token);
        free(again);
        sb_session_reset(&raw);
    } else {
        enum sb_err_code want = SB_ERR_BAD_SIGNATURE;
        if (strcmp(expect, "expired") == 0)
            want = ts > ctx.now ? SB_ERR_NOT_YET_VALID : SB_ERR_EXPIRED;
        ck_assert_msg(rc == -1 && err.code == want, "%s: got %s (%s)", name,
                      sb_err_code_name(err.code), err.msg);
        ck_assert_ptr_null(s.data);
        ck_assert_ptr_null(s.subject);
        if (strcmp(expect, "expired") == 0) {
            /* The same token is good when read soon after it was made. */
            ctx.now = ts + 60;
            ck_assert_int_eq(sb_credential_decode(&p, token, strlen(token),
                                                  &ctx, &s, &err), 0);
            ck_assert(json_equal(s.data,
                                 json_object_get(v, "expected_payload")));
        }
    }
    sb_session_reset(&s);
    sb_profile_free(&p);
}

START_TEST(test_public_vectors)
{
    static const char *const formats[] = {"flask", "starlette", "django"};
    size_t f, i, seen = 0;
    json_t *vs, *v;

    for (f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
        vs = fix_vectors(formats[f]);
        json_array_foreach(vs, i, v) {
            check_vector(v);
            seen++;
        }
        json_decref(vs);
    }
    ck_assert_uint_eq(seen, 18);
}
END_TEST

/* The django-legacy-sha1 vector is accepted by default (Django 3.x) and
 * refused with legacy_sha1 = false (the Django 4.0 rule); the bridge
 * itself signs with sha256. */
START_TEST(test_django_legacy_sha1)
{
    static const char *const no_legacy[] = {"legacy_sha1", "false", NULL};
    const char *tok = "eyJ1c2VyX2lkIjo0MiwidXNlcm5hbWUiOiJhbGljZSJ9:1xNIzQ:"
                      "CNpEKqyiy0rq_1zRFyznWaSrVE0";
    struct sb_codec_ctx ctx = {.now = FIX_VERIFY_NOW};
    struct sb_profile p, q;
    struct sb_session s;
    struct sb_err err = {0};
    char *again = NULL;

    fix_profile(&p, "django", "django", one_secret, NULL);
    fix_profile(&q, "django", "django", one_secret, no_legacy);
    sb_session_init(&s);
    ck_assert_int_eq(sb_credential_decode(&p, tok, strlen(tok), &ctx, &s, &err),
                     0);
    ck_assert_int_eq(p.codec->encode(&p, &s, &ctx, &again, &err), 0);
    ck_assert_uint_eq(strlen(strrchr(again, ':') + 1), 43);
    sb_session_reset(&s);
    ck_assert_int_eq(sb_credential_decode(&q, tok, strlen(tok), &ctx, &s, &err),
                     -1);
    ck_assert_int_eq(err.code, SB_ERR_BAD_SIGNATURE);
    free(again);
    sb_profile_free(&p);
    sb_profile_free(&q);
}
END_TEST

/* ---- bad inputs --------------------------------------------------------- */

/* A bad-input case.  Its token is `token` as written; or `value` (a
 * payload already in base64) or `json` (JSON text, base64'd here, not
 * compressed), signed as `format` with the test secret at timestamp `ts`;
 * or what `make` builds. */
struct bad_case {
    const char *name;
    const char *format;
    const char *const *kv; /* codec options, or NULL */
    enum sb_err_code want;
    const char *token;
    const char *value, *json, *ts;
    char *(*make)(void);
};

static const char flask_plain[] =
    "eyJfcGVybWFuZW50Ijp0cnVlLCJ1c2VyX2lkIjo0MiwidXNlcm5hbWUiOiJhbGljZSJ9."
    "auaBAA.3puZbWJIW4x5w1LY51cqO-TN0vw";

static char *json_signed(const char *format, const char *json, bool compress,
                         const char *ts)
{
    return sign_payload(format, json, strlen(json), compress, ts);
}

static char *mk_flask_expired_wrong_secret(void)
{
    /* The signature is checked before the age. */
    return sign_raw("flask", "not-the-secret", "eyJhIjoxfQ", "arHFAA");
}
static char *mk_flask_wrong_secret(void)
{
    return sign_raw("flask", "not-the-secret", "eyJhIjoxfQ", "auaBAA");
}
/* 2 MiB of one byte inside a JSON string: ~2 KB of zlib. */
static char *mk_bomb(const char *format, const char *ts)
{
    size_t n = 2u << 20;
    char *json = malloc(n + 16), *tok;

    strcpy(json, "{\"a\":\"");
    memset(json + 6, 'a', n);
    strcpy(json + 6 + n, "\"}");
    tok = sign_payload(format, json, strlen(json), true, ts);
    free(json);
    return tok;
}
static char *mk_flask_bomb(void) { return mk_bomb("flask", "auaBAA"); }
static char *mk_django_bomb(void) { return mk_bomb("django", "1xNIzQ"); }
static char *mk_flask_corrupt_zlib(void)
{
    static const unsigned char junk[] = {0x78, 0x9c, 0xde, 0xad, 0xbe, 0xef,
                                         0x01, 0x02, 0x03, 0x04};
    char *payload = b64_of(SB_B64_URL_NOPAD, junk, sizeof(junk), false);
    char *dotted = malloc(strlen(payload) + 2), *tok;

    sprintf(dotted, ".%s", payload);
    tok = sign_raw("flask", FIX_SECRET, dotted, "auaBAA");
    free(payload);
    free(dotted);
    return tok;
}
static char *mk_flask_truncated_zlib(void)
{
    const char *json = "{\"history\":[\"/page/0\",\"/page/1\",\"/page/2\","
                       "\"/page/3\",\"/page/4\",\"/page/5\"]}";
    unsigned char z[256];
    uLongf zlen = sizeof(z);
    char *payload, *dotted, *tok;

    ck_assert_int_eq(compress2(z, &zlen, (const unsigned char *)json,
                               strlen(json), 6), Z_OK);
    payload = b64_of(SB_B64_URL_NOPAD, z, zlen / 2, false);
    dotted = malloc(strlen(payload) + 2);
    sprintf(dotted, ".%s", payload);
    tok = sign_raw("flask", FIX_SECRET, dotted, "auaBAA");
    free(payload);
    free(dotted);
    return tok;
}
static char *deep_json(void)
{
    static char json[128];
    int i, o = 0;

    o += sprintf(json, "{\"a\":");
    for (i = 0; i < 40; i++)
        json[o++] = '[';
    for (i = 0; i < 40; i++)
        json[o++] = ']';
    strcpy(json + o, "}");
    return json;
}
static char *mk_flask_deep(void)
{
    return json_signed("flask", deep_json(), false, "auaBAA");
}
static char *mk_django_deep_compressed(void)
{
    return json_signed("django", deep_json(), true, "1xNIzQ");
}
static char *mk_oversize(void)
{
    char *tok = malloc(5001);

    memset(tok, 'A', 5000);
    tok[5000] = '\0';
    return tok;
}
static char *mk_starlette_compressed(void)
{
    /* Starlette has no compression: ".eJ..." is not standard base64. */
    const char *json = "{\"a\": 1}";
    char *payload = b64_of(SB_B64_URL_NOPAD, json, strlen(json), true);
    char *tok = sign_raw("starlette", FIX_SECRET, payload, "auaBAA");

    free(payload);
    return tok;
}
static char *mk_django_pickle(void)
{
    static const unsigned char pickle[] = {0x80, 0x04, 0x95, 0x0b, 0x00, 0x00,
                                           0x00, 0x00, 0x00, 0x00, 0x00, 0x7d,
                                           0x94, 0x8c, 0x01, 0x61, 0x94, 0x4b,
                                           0x01, 0x73, 0x2e};
    return sign_payload("django", pickle, sizeof(pickle), false, "1xNIzQ");
}
static char *mk_django_pickle_compressed(void)
{
    unsigned char pickle[200];

    memset(pickle, 0x2e, sizeof(pickle));
    pickle[0] = 0x80;
    pickle[1] = 0x04;
    return sign_payload("django", pickle, sizeof(pickle), true, "1xNIzQ");
}
static char *mk_django_sha1(void)
{
    return sign_raw("django-sha1", FIX_SECRET, "eyJhIjoxfQ", "1xNIzQ");
}
static char *mk_django_flask_layout(void)
{
    return json_signed("flask", "{\"a\":1}", false, "auaBAA");
}

static const char *const strong[] = {"session_protection", "strong", NULL};
static const char *const no_legacy[] = {"legacy_sha1", "false", NULL};

static const struct bad_case bad_cases[] = {
    {"flask empty", "flask", NULL, SB_ERR_MALFORMED, .token = ""},
    {"flask no dot", "flask", NULL, SB_ERR_MALFORMED, .token = "eyJhIjoxfQ"},
    {"flask no timestamp", "flask", NULL, SB_ERR_MALFORMED,
     .token = "eyJhIjoxfQ.3puZbWJIW4x5w1LY51cqO-TN0vw"},
    {"flask empty signature", "flask", NULL, SB_ERR_BAD_SIGNATURE,
     .token = "eyJhIjoxfQ.auaBAA."},
    {"flask signature bad char", "flask", NULL, SB_ERR_BAD_SIGNATURE,
     .token = "eyJfcGVybWFuZW50Ijp0cnVlLCJ1c2VyX2lkIjo0MiwidXNlcm5hbWUi"
              "OiJhbGljZSJ9.auaBAA.3puZbWJIW4x5w1LY51cqO+TN0vw"},
    {"flask signature truncated", "flask", NULL, SB_ERR_BAD_SIGNATURE,
     .token = "eyJfcGVybWFuZW50Ijp0cnVlLCJ1c2VyX2lkIjo0MiwidXNlcm5hbWUi"
              "OiJhbGljZSJ9.auaBAA.3puZbWJIW4x5w1LY51cqO-TN0v"},
    {"flask signature too long", "flask", NULL, SB_ERR_BAD_SIGNATURE,
     .token = "eyJhIjoxfQ.auaBAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
    {"flask tampered payload", "flask", NULL, SB_ERR_BAD_SIGNATURE,
     .token = "eyJfcAVybWFuZW50Ijp0cnVlLCJ1c2VyX2lkIjo0MiwidXNlcm5hbWUi"
              "OiJhbGljZSJ9.auaBAA.3puZbWJIW4x5w1LY51cqO-TN0vw"},
    {"flask tampered timestamp", "flask", NULL, SB_ERR_BAD_SIGNATURE,
     .token = "eyJfcGVybWFuZW50Ijp0cnVlLCJ1c2VyX2lkIjo0MiwidXNlcm5hbWUi"
              "OiJhbGljZSJ9.auaBAB.3puZbWJIW4x5w1LY51cqO-TN0vw"},
    {"flask wrong secret", "flask", NULL, SB_ERR_BAD_SIGNATURE,
     .make = mk_flask_wrong_secret},
    {"flask expired and wrong secret", "flask", NULL, SB_ERR_BAD_SIGNATURE,
     .make = mk_flask_expired_wrong_secret},
    {"flask bad timestamp char", "flask", NULL, SB_ERR_MALFORMED,
     .value = "eyJhIjoxfQ", .ts = "au!BAA"},
    {"flask timestamp too long", "flask", NULL, SB_ERR_MALFORMED,
     .value = "eyJhIjoxfQ", .ts = "AAAAAAAAAAAA"},
    {"flask timestamp past int64", "flask", NULL, SB_ERR_MALFORMED,
     .value = "eyJhIjoxfQ", .ts = "__________8"},
    {"flask payload bad base64", "flask", NULL, SB_ERR_MALFORMED,
     .value = "eyJh*joxfQ", .ts = "auaBAA"},
    {"flask payload padded", "flask", NULL, SB_ERR_MALFORMED,
     .value = "eyJhIjoxfQ==", .ts = "auaBAA"},
    {"flask expired", "flask", NULL, SB_ERR_EXPIRED,
     .value = "eyJhIjoxfQ", .ts = "arHFAA"},
    {"flask future", "flask", NULL, SB_ERR_NOT_YET_VALID,
     .value = "eyJhIjoxfQ", .ts = "auaRaA"},
    {"flask zlib bomb", "flask", NULL, SB_ERR_TOO_LARGE,
     .make = mk_flask_bomb},
    {"flask corrupt zlib", "flask", NULL, SB_ERR_MALFORMED,
     .make = mk_flask_corrupt_zlib},
    {"flask truncated zlib", "flask", NULL, SB_ERR_MALFORMED,
     .make = mk_flask_truncated_zlib},
    {"flask deep JSON", "flask", NULL, SB_ERR_TOO_LARGE,
     .make = mk_flask_deep},
    {"flask JSON array", "flask", NULL, SB_ERR_MALFORMED,
     .json = "[1,2,3]", .ts = "auaBAA"},
    {"flask truncated JSON", "flask", NULL, SB_ERR_MALFORMED,
     .json = "{\"a\":", .ts = "auaBAA"},
    {"flask NaN", "flask", NULL, SB_ERR_MALFORMED,
     .json = "{\"a\":NaN}", .ts = "auaBAA"},
    {"flask trailing JSON", "flask", NULL, SB_ERR_MALFORMED,
     .json = "{\"a\":1}{}", .ts = "auaBAA"},
    {"flask oversize cookie", "flask", NULL, SB_ERR_TOO_LARGE,
     .make = mk_oversize},
    /* _id of b'203.0.113.7'|b'test-agent/1.0', read from 198.51.100.9. */
    {"flask strong protection, other client", "flask", strong,
     SB_ERR_INVALID_CLAIM,
     .json = "{\"_fresh\":true,\"_id\":\"d63bb08e37dde0458edcc7c916fd2b6e7223"
             "1c4b34c3862db47477d9dad8f09ba78b48f98db175d27c13e5a11e6fe77b22d"
             "bee127b577d325a9ea624148cd346\",\"_user_id\":\"42\"}",
     .ts = "auaBAA"},
    {"starlette no dots", "starlette", NULL, SB_ERR_MALFORMED,
     .token = "eyJhIjogMX0="},
    {"starlette tampered", "starlette", NULL, SB_ERR_BAD_SIGNATURE,
     .token = "eyJ1c2AyX2lkIjogNDIsICJ1c2VybmFtZSI6ICJhbGljZSJ9.auaBAA."
              "B2VXwaSuTmdxKw0vbXG7FQFkNC4"},
    {"starlette given a flask cookie", "starlette", NULL, SB_ERR_BAD_SIGNATURE,
     .token = flask_plain},
    /* b64 of {"a": "?>"} has '+' / '/' in std; '-' '_' here. */
    {"starlette url-safe payload", "starlette", NULL, SB_ERR_MALFORMED,
     .value = "eyJhIjogIj8-In0=", .ts = "auaBAA"},
    {"starlette unpadded payload", "starlette", NULL, SB_ERR_MALFORMED,
     .value = "eyJhIjogMX0", .ts = "auaBAA"},
    {"starlette compressed payload", "starlette", NULL, SB_ERR_MALFORMED,
     .make = mk_starlette_compressed},
    {"starlette expired", "starlette", NULL, SB_ERR_EXPIRED,
     .json = "{\"a\": 1}", .ts = "arHFAA"},
    {"starlette future", "starlette", NULL, SB_ERR_NOT_YET_VALID,
     .json = "{\"a\": 1}", .ts = "auaRaA"},
    {"starlette JSON string", "starlette", NULL, SB_ERR_MALFORMED,
     .json = "\"just a string\"", .ts = "auaBAA"},
    {"starlette oversize cookie", "starlette", NULL, SB_ERR_TOO_LARGE,
     .make = mk_oversize},
    {"django no colon", "django", NULL, SB_ERR_MALFORMED,
     .token = flask_plain},
    {"django flask layout", "django", NULL, SB_ERR_MALFORMED,
     .make = mk_django_flask_layout},
    {"django one colon", "django", NULL, SB_ERR_MALFORMED,
     .token = "eyJhIjoxfQ:wew0o_sGxyOuGyA5bDs4OQclvTPMcYa_640N1Eo4nXw"},
    {"django tampered", "django", NULL, SB_ERR_BAD_SIGNATURE,
     .token = "eyJ1A2VyX2lkIjo0MiwidXNlcm5hbWUiOiJhbGljZSJ9:1xNIzQ:"
              "wew0o_sGxyOuGyA5bDs4OQclvTPMcYa_640N1Eo4nXw"},
    {"django legacy sha1 refused", "django", no_legacy, SB_ERR_BAD_SIGNATURE,
     .make = mk_django_sha1},
    {"django pickle", "django", NULL, SB_ERR_UNSUPPORTED,
     .make = mk_django_pickle},
    {"django compressed pickle", "django", NULL, SB_ERR_UNSUPPORTED,
     .make = mk_django_pickle_compressed},
    {"django bad base62", "django", NULL, SB_ERR_MALFORMED,
     .value = "eyJhIjoxfQ", .ts = "1xN!zQ"},
    {"django empty timestamp", "django", NULL, SB_ERR_MALFORMED,
     .value = "eyJhIjoxfQ", .ts = ""},
    {"django base62 past int64", "django", NULL, SB_ERR_MALFORMED,
     .value = "eyJhIjoxfQ", .ts = "zzzzzzzzzzzz"},
    {"django expired", "django", NULL, SB_ERR_EXPIRED,
     .value = "eyJhIjoxfQ", .ts = "1x8nvU"},
    {"django negative timestamp", "django", NULL, SB_ERR_EXPIRED,
     .value = "eyJhIjoxfQ", .ts = "-1xNIzQ"},
    {"django payload bad base64", "django", NULL, SB_ERR_MALFORMED,
     .value = "eyJhIjox+Q", .ts = "1xNIzQ"},
    {"django JSON number", "django", NULL, SB_ERR_MALFORMED,
     .json = "42", .ts = "1xNIzQ"},
    {"django zlib bomb", "django", NULL, SB_ERR_TOO_LARGE,
     .make = mk_django_bomb},
    {"django deep compressed JSON", "django", NULL, SB_ERR_TOO_LARGE,
     .make = mk_django_deep_compressed},
};

/* Case c's token, as a new string. */
static char *bad_token(const struct bad_case *c)
{
    if (c->make != NULL)
        return c->make();
    if (c->value != NULL)
        return sign_raw(c->format, FIX_SECRET, c->value, c->ts);
    if (c->json != NULL)
        return json_signed(c->format, c->json, false, c->ts);
    return strdup(c->token);
}

START_TEST(test_bad_input)
{
    const struct bad_case *c = &bad_cases[_i];
    struct sb_codec_ctx ctx = {.now = FIX_VERIFY_NOW,
                               .client_addr = "198.51.100.9",
                               .user_agent = "test-agent/1.0"};
    char *tok = bad_token(c);
    struct sb_profile p;
    struct sb_session s;
    struct sb_err err = {0};

    fix_profile(&p, c->format, c->format, one_secret, c->kv);
    sb_session_init(&s);
    ck_assert_msg(sb_credential_decode(&p, tok, strlen(tok), &ctx, &s, &err)
                  == -1, "%s: accepted", c->name);
    ck_assert_msg(err.code == c->want, "%s: got %s (%s), want %s", c->name,
                  sb_err_code_name(err.code), err.msg,
                  sb_err_code_name(c->want));
    ck_assert_ptr_null(s.data);
    ck_assert_ptr_null(s.subject);
    ck_assert_msg(strstr(err.msg, FIX_SECRET) == NULL, "%s: secret in message",
                  c->name);
    ck_assert_msg(strlen(tok) < 12 || strstr(err.msg, tok) == NULL,
                  "%s: token in message", c->name);
    sb_profile_free(&p);
    free(tok);
}
END_TEST

/* Django accepts future timestamps, unlike Flask and Starlette. */
START_TEST(test_django_future_accepted)
{
    char *tok = json_signed("django", "{\"a\":1}", false, "1xNKrY");
    struct sb_codec_ctx ctx = {.now = FIX_T0};
    struct sb_profile p;
    struct sb_session s;
    struct sb_err err = {0};

    fix_profile(&p, "django", "django", one_secret, NULL);
    sb_session_init(&s);
    ck_assert_int_eq(sb_credential_decode(&p, tok, strlen(tok), &ctx, &s, &err),
                     0);
    ck_assert_int_gt(s.issued_at, FIX_T0);
    sb_session_reset(&s);
    sb_profile_free(&p);
    free(tok);
}
END_TEST

/* ---- rotation ----------------------------------------------------------- */

/* A token signed with the second secret verifies; new tokens are signed
 * with the first. */
START_TEST(test_rotation)
{
    static const char *const formats[] = {"flask", "starlette", "django"};
    static const char *const rotated[] = {"new-key", FIX_SECRET, NULL};
    static const char *const only_new[] = {"new-key", NULL};
    const char *fmt = formats[_i];
    struct sb_codec_ctx ctx = {.now = FIX_VERIFY_NOW};
    struct sb_profile p, q, old;
    struct sb_session s;
    struct sb_err err = {0};
    char *tok, *minted = NULL;

    tok = json_signed(fmt, strcmp(fmt, "starlette") == 0 ? "{\"a\": 1}"
                                                         : "{\"a\":1}",
                      false, strcmp(fmt, "django") == 0 ? "1xNIzQ" : "auaBAA");
    fix_profile(&p, fmt, fmt, rotated, NULL);
    fix_profile(&q, fmt, fmt, only_new, NULL);
    fix_profile(&old, fmt, fmt, one_secret, NULL);
    sb_session_init(&s);
    ck_assert_int_eq(sb_credential_decode(&p, tok, strlen(tok), &ctx, &s, &err),
                     0);
    ck_assert_int_eq(json_integer_value(json_object_get(s.data, "a")), 1);
    ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &minted, &err), 0);
    sb_session_reset(&s);
    ck_assert_int_eq(sb_credential_decode(&q, minted, strlen(minted), &ctx, &s,
                                          &err), 0);
    sb_session_reset(&s);
    ck_assert_int_eq(sb_credential_decode(&old, minted, strlen(minted), &ctx,
                                          &s, &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_BAD_SIGNATURE);
    ck_assert_int_eq(sb_credential_decode(&q, tok, strlen(tok), &ctx, &s, &err),
                     -1);
    ck_assert_int_eq(err.code, SB_ERR_BAD_SIGNATURE);
    free(minted);
    free(tok);
    sb_profile_free(&p);
    sb_profile_free(&q);
    sb_profile_free(&old);
}
END_TEST

/* ---- flask tagged JSON and Flask-Login ---------------------------------- */

/* Encodes data (JSON text) with a flask profile, then returns the payload
 * JSON of the token as a new string (decoded by the independent path). */
static char *flask_wire_json(struct sb_profile *p, const char *data_json,
                             const struct sb_codec_ctx *ctx)
{
    struct sb_session s;
    struct sb_err err = {0};
    char *tok = NULL, *json;
    unsigned char *raw, *out;
    const char *end;
    long n;
    uLongf outlen = 1 << 16;
    bool compressed;

    sb_session_init(&s);
    s.data = json_loads(data_json, 0, NULL);
    ck_assert_ptr_nonnull(s.data);
    s.issued_at = FIX_T0;
    ck_assert_msg(p->codec->encode(p, &s, ctx, &tok, &err) == 0, "%s",
                  err.msg);
    sb_session_reset(&s);
    compressed = tok[0] == '.';
    end = strchr(tok + 1, '.');
    raw = malloc(strlen(tok));
    n = sb_b64_decode(SB_B64_URL_NOPAD, tok + compressed,
                      (size_t)(end - tok) - compressed, raw);
    ck_assert_int_ge(n, 0);
    if (compressed) {
        out = malloc(outlen + 1);
        ck_assert_int_eq(uncompress(out, &outlen, raw, (uLong)n), Z_OK);
        out[outlen] = '\0';
        json = (char *)out;
    } else {
        json = strndup((const char *)raw, (size_t)n);
    }
    free(raw);
    free(tok);
    return json;
}

START_TEST(test_flask_tags)
{
    static const struct {
        const char *canonical;
        const char *wire;
    } cases[] = {
        /* Tagged values pass through. */
        {"{\"r\":{\" t\":[\"a\",{\" b\":\"AAE=\"}]}}",
         "{\"r\":{\" t\":[\"a\",{\" b\":\"AAE=\"}]}}"},
        {"{\"e\":{\" di\":{\" t__\":\"not a tuple\"}}}",
         "{\"e\":{\" di\":{\" t__\":\"not a tuple\"}}}"},
        {"{\"u\":{\" u\":\"12345678123456781234567812345678\"},"
         "\"d\":{\" d\":\"Sun, 01 Nov 2026 00:00:00 GMT\"},\"m\":{\" m\":\"<b>\"}}",
         "{\"d\":{\" d\":\"Sun, 01 Nov 2026 00:00:00 GMT\"},\"m\":{\" m\":\"<b>\"},"
         "\"u\":{\" u\":\"12345678123456781234567812345678\"}}"},
        /* Plain data that only looks tagged gets " di". */
        {"{\"x\":{\" t\":\"str\"}}", "{\"x\":{\" di\":{\" t__\":\"str\"}}}"},
        {"{\"x\":{\" u\":\"NOT-A-UUID\"}}",
         "{\"x\":{\" di\":{\" u__\":\"NOT-A-UUID\"}}}"},
        {"{\"x\":{\" b\":\"not base64!\"}}",
         "{\"x\":{\" di\":{\" b__\":\"not base64!\"}}}"},
        {"{\"x\":{\" d\":\"yesterday\"}}",
         "{\"x\":{\" di\":{\" d__\":\"yesterday\"}}}"},
        {"{\"x\":{\" m\":5}}", "{\"x\":{\" di\":{\" m__\":5}}}"},
        {"{\"x\":{\" di\":5}}", "{\"x\":{\" di\":{\" di__\":5}}}"},
        {"{\"x\":[{\" t\":{\"k\":1}}]}",
         "{\"x\":[{\" di\":{\" t__\":{\"k\":1}}}]}"},
        /* Nested: the inside of a wrapped value is tagged too. */
        {"{\"x\":{\" t\":[{\" m\":null}]}}",
         "{\"x\":{\" t\":[{\" di\":{\" m__\":null}}]}}"},
        /* The session itself is a dict: only " di" is a tag at the top. */
        {"{\" t\":[1]}", "{\" di\":{\" t__\":[1]}}"},
        /* Two keys: never a tag. */
        {"{\"x\":{\" t\":1,\"y\":2}}", "{\"x\":{\" t\":1,\"y\":2}}"},
    };
    struct sb_codec_ctx ctx = {.now = FIX_VERIFY_NOW};
    struct sb_profile p;
    size_t i;

    fix_profile(&p, "flask", "flask", one_secret, NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *wire = flask_wire_json(&p, cases[i].canonical, &ctx);
        ck_assert_msg(strcmp(wire, cases[i].wire) == 0, "case %zu: %s", i,
                      wire);
        free(wire);
    }
    sb_profile_free(&p);
}
END_TEST

/* Flask-Login: a minted login carries _id for this client and _fresh;
 * strong mode rejects another client, basic mode marks it not fresh, a
 * permanent session is treated as basic even in strong mode. */
START_TEST(test_flask_login)
{
    static const char *const basic[] = {"session_protection", "basic", NULL};
    const char *vec_id = "d63bb08e37dde0458edcc7c916fd2b6e72231c4b34c3862db474"
                         "77d9dad8f09ba78b48f98db175d27c13e5a11e6fe77b22dbee1"
                         "27b577d325a9ea624148cd346";
    struct sb_codec_ctx me = {.now = FIX_VERIFY_NOW,
                              .client_addr = "203.0.113.7",
                              .user_agent = "test-agent/1.0"};
    struct sb_codec_ctx xff = {.now = FIX_VERIFY_NOW,
                               .client_addr = " 203.0.113.7 , 10.0.0.1",
                               .user_agent = "test-agent/1.0"};
    struct sb_codec_ctx other = {.now = FIX_VERIFY_NOW,
                                 .client_addr = "198.51.100.9",
                                 .user_agent = "test-agent/1.0"};
    struct sb_profile ps, pb;
    struct sb_session s;
    struct sb_err err = {0};
    char *tok = NULL, *perm;

    fix_profile(&ps, "flask", "flask", one_secret, strong);
    fix_profile(&pb, "flask", "flask", one_secret, basic);
    sb_session_init(&s);
    ck_assert_int_eq(sb_session_set_subject(&s, "42", &err), 0);
    s.data = json_object();
    ck_assert_int_eq(sb_credential_encode(&ps, &s, &xff, &tok, &err), 0);
    sb_session_reset(&s);
    ck_assert_int_eq(sb_credential_decode(&ps, tok, strlen(tok), &me, &s, &err),
                     0);
    ck_assert_str_eq(json_string_value(json_object_get(s.data, "_id")), vec_id);
    ck_assert(json_is_true(json_object_get(s.data, "_fresh")));
    ck_assert_str_eq(s.subject, "42");
    sb_session_reset(&s);
    ck_assert_int_eq(sb_credential_decode(&ps, tok, strlen(tok), &other, &s,
                                          &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_INVALID_CLAIM);
    ck_assert_int_eq(sb_credential_decode(&pb, tok, strlen(tok), &other, &s,
                                          &err), 0);
    ck_assert(json_is_false(json_object_get(s.data, "_fresh")));
    sb_session_reset(&s);
    /* Permanent: strong behaves as basic. */
    perm = json_signed("flask", "{\"_id\":\"x\",\"_permanent\":true,"
                       "\"_user_id\":\"42\"}", false, "auaBAA");
    ck_assert_int_eq(sb_credential_decode(&ps, perm, strlen(perm), &other, &s,
                                          &err), 0);
    ck_assert(json_is_false(json_object_get(s.data, "_fresh")));
    sb_session_reset(&s);
    free(perm);
    free(tok);
    sb_profile_free(&ps);
    sb_profile_free(&pb);
}
END_TEST

/* Python bytes reprs of odd addresses and agents: None, quotes, escapes. */
START_TEST(test_flask_login_repr)
{
    /* Values from hashlib.sha512(f"{a}|{u}".encode()).hexdigest() with
     * a, u the bytes (or None) below, computed with Python 3.11. */
    static const struct {
        const char *addr, *ua, *prefix;
    } cases[] = {
        {NULL, NULL, "892f7fec"},          /* None|None */
        {"10.0.0.1", NULL, "177a1bd3"},    /* b'10.0.0.1'|None */
        {"::1", "it's \"q\"\t\xc3\xa9\\", "ad6abec2"},
        {"::1", "it's", "eca18740"},
    };
    struct sb_profile p;
    size_t i;

    fix_profile(&p, "flask", "flask", one_secret, strong);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sb_codec_ctx ctx = {.now = FIX_VERIFY_NOW,
                                   .client_addr = cases[i].addr,
                                   .user_agent = cases[i].ua};
        struct sb_session s;
        struct sb_err err = {0};
        char *tok = NULL;
        const char *id;

        sb_session_init(&s);
        s.data = json_pack("{s:s}", "_user_id", "1");
        ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &tok, &err), 0);
        sb_session_reset(&s);
        ck_assert_int_eq(sb_credential_decode(&p, tok, strlen(tok), &ctx, &s,
                                              &err), 0);
        id = json_string_value(json_object_get(s.data, "_id"));
        ck_assert_msg(strncmp(id, cases[i].prefix, 8) == 0, "case %zu: %s", i,
                      id);
        sb_session_reset(&s);
        free(tok);
    }
    sb_profile_free(&p);
}
END_TEST

/* ---- django logins ------------------------------------------------------- */

START_TEST(test_django_login)
{
    static const char *const lax[] = {"require_auth_user_hash", "false",
                                      "auth_user_backend", "none", NULL};
    struct sb_codec_ctx ctx = {.now = FIX_VERIFY_NOW};
    struct sb_profile p, q;
    struct sb_session s;
    struct sb_err err = {0};
    char *tok = NULL;

    fix_profile(&p, "django", "django", one_secret, NULL);
    fix_profile(&q, "django", "django", one_secret, lax);
    sb_session_init(&s);
    ck_assert_int_eq(sb_session_set_subject(&s, "42", &err), 0);
    s.data = json_object();
    ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &tok, &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_INVALID_REQUEST);
    ck_assert_int_eq(sb_credential_encode(&q, &s, &ctx, &tok, &err), 0);
    free(tok);
    json_object_set_new(s.data, "_auth_user_hash", json_string("abc"));
    ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &tok, &err), 0);
    sb_session_reset(&s);
    ck_assert_int_eq(sb_credential_decode(&p, tok, strlen(tok), &ctx, &s, &err),
                     0);
    ck_assert_str_eq(s.subject, "42");
    ck_assert_str_eq(json_string_value(json_object_get(s.data,
                                                       "_auth_user_id")), "42");
    ck_assert_str_eq(json_string_value(json_object_get(s.data,
                                                       "_auth_user_backend")),
                     "django.contrib.auth.backends.ModelBackend");
    ck_assert_str_eq(json_string_value(json_object_get(s.data,
                                                       "_auth_user_hash")),
                     "abc");
    sb_session_reset(&s);
    free(tok);
    sb_profile_free(&p);
    sb_profile_free(&q);
}
END_TEST

/* ---- options and config ------------------------------------------------- */

/* digest and salt options change the key; both sides agree. */
START_TEST(test_digest_and_salt)
{
    static const char *const formats[] = {"flask", "starlette", "django"};
    static const char *const custom[] = {"digest", "sha512", "salt",
                                         "my-salt", NULL};
    struct sb_codec_ctx ctx = {.now = FIX_VERIFY_NOW};
    struct sb_profile p, dflt;
    struct sb_session s;
    struct sb_err err = {0};
    char *tok = NULL;

    fix_profile(&p, "custom", formats[_i], one_secret, custom);
    fix_profile(&dflt, formats[_i], formats[_i], one_secret, NULL);
    sb_session_init(&s);
    s.data = json_pack("{s:i}", "a", 1);
    ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &tok, &err), 0);
    ck_assert_uint_eq(strlen(strrchr(tok, formats[_i][0] == 'd' ? ':' : '.')
                             + 1), 86);
    sb_session_reset(&s);
    ck_assert_int_eq(sb_credential_decode(&p, tok, strlen(tok), &ctx, &s, &err),
                     0);
    sb_session_reset(&s);
    ck_assert_int_eq(sb_credential_decode(&dflt, tok, strlen(tok), &ctx, &s,
                                          &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_BAD_SIGNATURE);
    free(tok);
    sb_profile_free(&p);
    sb_profile_free(&dflt);
}
END_TEST

START_TEST(test_config_errors)
{
    static const struct {
        const char *format;
        const char *const *secrets;
        const char *kv[5];
        const char *needle;
    } cases[] = {
        {"flask", one_secret, {"colour", "blue", NULL}, "unknown key 'colour'"},
        {"starlette", one_secret, {"session_protection", "strong", NULL},
         "unknown key"},
        {"django", one_secret, {"legacy_sha1", "perhaps", NULL},
         "not true or false"},
        {"flask", one_secret, {"session_protection", "paranoid", NULL},
         "not off, basic or strong"},
        {"flask", NULL, {NULL}, "needs secrets_file"},
        {"starlette", NULL, {NULL}, "needs secrets_file"},
        {"django", NULL, {NULL}, "needs secrets_file"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sb_profile p;
        struct sb_err err = {0};
        ck_assert_int_eq(fix_profile_v(&p, cases[i].format, cases[i].format,
                                       cases[i].secrets, cases[i].kv, &err),
                         -1);
        ck_assert_int_eq(err.code, SB_ERR_CONFIG);
        ck_assert_msg(strstr(err.msg, cases[i].needle) != NULL, "case %zu: %s",
                      i, err.msg);
    }
}
END_TEST

/* Defaults each framework writes: cookie name, Max-Age, SameSite, subject. */
START_TEST(test_defaults)
{
    struct sb_profile f, s, d;
    struct sb_err err = {0};
    char *cookie = NULL;

    fix_profile(&f, "flask", "flask", one_secret, NULL);
    fix_profile(&s, "starlette", "starlette", one_secret, NULL);
    fix_profile(&d, "django", "django", one_secret, NULL);
    ck_assert_str_eq(f.cookie.name, "session");
    ck_assert_int_eq(f.max_age, 2678400);
    ck_assert_int_eq(f.cookie.max_age, -1);
    ck_assert_str_eq(f.subject_field, "_user_id");
    ck_assert_str_eq(s.cookie.name, "session");
    ck_assert_int_eq(s.max_age, 1209600);
    ck_assert_ptr_null(s.subject_field);
    ck_assert_str_eq(d.cookie.name, "sessionid");
    ck_assert_int_eq(d.max_age, 1209600);
    ck_assert_str_eq(d.subject_field, "_auth_user_id");
    ck_assert_int_eq(sb_cookie_build(&s, "v", FIX_T0, &cookie, &err), 0);
    ck_assert_str_eq(cookie, "session=v; Path=/; Max-Age=1209600; Expires=Sun, "
                             "15 Nov 2026 00:00:00 GMT; HttpOnly; SameSite=Lax");
    free(cookie);
    ck_assert_int_eq(sb_cookie_build(&f, "v", FIX_T0, &cookie, &err), 0);
    ck_assert_str_eq(cookie, "session=v; Path=/; HttpOnly");
    free(cookie);
    sb_profile_free(&f);
    sb_profile_free(&s);
    sb_profile_free(&d);
}
END_TEST

static Suite *itsd_suite(void)
{
    Suite *s = suite_create("codec_itsdangerous");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_public_vectors);
    tcase_add_test(tc, test_django_legacy_sha1);
    tcase_add_loop_test(tc, test_bad_input, 0,
                        sizeof(bad_cases) / sizeof(bad_cases[0]));
    tcase_add_test(tc, test_django_future_accepted);
    tcase_add_loop_test(tc, test_rotation, 0, 3);
    tcase_add_test(tc, test_flask_tags);
    tcase_add_test(tc, test_flask_login);
    tcase_add_test(tc, test_flask_login_repr);
    tcase_add_test(tc, test_django_login);
    tcase_add_loop_test(tc, test_digest_and_salt, 0, 3);
    tcase_add_test(tc, test_config_errors);
    tcase_add_test(tc, test_defaults);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(itsd_suite());
}
