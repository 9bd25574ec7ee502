/*
 * codec_fixture.h - helpers for the codec unit tests: profiles built the
 * way config.c builds them (generic defaults, codec keys through
 * configure(), then prepare()), the shared vectors, and independent
 * signers (OpenSSL directly, not the code under test).
 */
#ifndef SB_TEST_CODEC_FIXTURE_H
#define SB_TEST_CODEC_FIXTURE_H

#include <check.h>
#include <jansson.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/b64.h"
#include "sessionbridge/codec.h"
#include "sessionbridge/profile.h"

#define FIX_T0 1793491200LL
#define FIX_VERIFY_NOW (FIX_T0 + 3600)
#define FIX_SECRET "s3cr3t-test-key"
#define FIX_OLD_SECRET "old-test-key"
#define FIX_VECTORS SB_SHARED_DIR "/vectors/public.json"
#define FIX_KEYS SB_SHARED_DIR "/vectors/"

/* Builds profile `name` of `format` into p: secrets (NULL-terminated, may
 * be NULL), then codec keys as "key", "value" pairs ending with NULL.
 * Returns 0, or -1 with err set (p is then freed). */
static inline int fix_profile_v(struct sb_profile *p, const char *name,
                                const char *format, const char *const *secrets,
                                const char *const *kv, struct sb_err *err)
{
    size_t i;

    memset(p, 0, sizeof(*p));
    p->cookie.httponly = true;
    p->cookie.max_age = -2;
    p->name = strdup(name);
    p->codec = sb_codec_find(format);
    ck_assert_ptr_nonnull(p->codec);
    p->sid_field = strdup("_sb_sid");
    p->cookie.path = strdup("/");
    for (i = 0; secrets != NULL && secrets[i] != NULL; i++)
        ck_assert_int_eq(sb_secrets_append(&p->secrets, secrets[i],
                                           strlen(secrets[i]), err), 0);
    for (i = 0; kv != NULL && kv[i] != NULL; i += 2) {
        if (p->codec->configure(p, kv[i], kv[i + 1], err) != 0)
            goto err_free;
    }
    if (p->codec->prepare != NULL && p->codec->prepare(p, err) != 0)
        goto err_free;
    if (p->cookie.max_age == -2)
        p->cookie.max_age = -1;
    return 0;

err_free:
    sb_profile_free(p);
    return -1;
}

/* The same, failing the test when the profile does not build. */
static inline void fix_profile(struct sb_profile *p, const char *name,
                               const char *format, const char *const *secrets,
                               const char *const *kv)
{
    struct sb_err err = {0};

    if (fix_profile_v(p, name, format, secrets, kv, &err) != 0)
        ck_abort_msg("profile %s: %s", name, err.msg);
}

/* Every vector of `format` from public.json (a new reference). */
static inline json_t *fix_vectors(const char *format)
{
    json_error_t jerr;
    json_t *all = json_load_file(FIX_VECTORS, 0, &jerr), *out = json_array();
    size_t i;
    json_t *v;

    ck_assert_msg(all != NULL, "%s: %s", FIX_VECTORS, jerr.text);
    json_array_foreach(all, i, v) {
        if (strcmp(json_string_value(json_object_get(v, "format")), format) == 0)
            json_array_append(out, v);
    }
    json_decref(all);
    ck_assert_int_gt(json_array_size(out), 0);
    return out;
}

/* A vector's verify_now, else FORMATS.md's VERIFY_NOW. */
static inline int64_t fix_vector_now(const json_t *v)
{
    const json_t *n = json_object_get(v, "verify_now");

    return json_is_integer(n) ? json_integer_value(n) : FIX_VERIFY_NOW;
}

/* b64 of src[0..n) in variant v appended to a malloc'd string *acc. */
static inline void fix_append_b64(char **acc, enum sb_b64_variant v,
                                  const void *src, size_t n)
{
    size_t old = *acc ? strlen(*acc) : 0;
    char *p = realloc(*acc, old + sb_b64_encoded_size(n));

    ck_assert_ptr_nonnull(p);
    sb_b64_encode(v, src, n, p + old);
    *acc = p;
}

static inline void fix_append(char **acc, const char *s)
{
    size_t old = *acc ? strlen(*acc) : 0;
    char *p = realloc(*acc, old + strlen(s) + 1);

    ck_assert_ptr_nonnull(p);
    memcpy(p + old, s, strlen(s) + 1);
    *acc = p;
}

/* A JWS b64url(header).b64url(claims).b64url(HMAC-md(secret)), made with
 * OpenSSL's one-shot HMAC (independent of the codec).  Caller frees. */
static inline char *fix_jwt_hmac(const EVP_MD *md, const char *header,
                                 const char *claims, const char *secret)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char *tok = NULL;

    fix_append_b64(&tok, SB_B64_URL_NOPAD, header, strlen(header));
    fix_append(&tok, ".");
    fix_append_b64(&tok, SB_B64_URL_NOPAD, claims, strlen(claims));
    HMAC(md, secret, (int)strlen(secret), (const unsigned char *)tok,
         strlen(tok), mac, &n);
    fix_append(&tok, ".");
    fix_append_b64(&tok, SB_B64_URL_NOPAD, mac, n);
    return tok;
}

/* cookie-signature: "s:" val "." b64std_nopad(HMAC-SHA256(secret, val)).
 * Caller frees. */
static inline char *fix_express_sign(const char *val, const char *secret)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char *tok = NULL;

    HMAC(EVP_sha256(), secret, (int)strlen(secret),
         (const unsigned char *)val, strlen(val), mac, &n);
    fix_append(&tok, "s:");
    fix_append(&tok, val);
    fix_append(&tok, ".");
    fix_append_b64(&tok, SB_B64_STD_NOPAD, mac, n);
    return tok;
}

#endif
