/*
 * codec_fixture.h - helpers for the codec unit tests: profiles built the
 * way config.c builds them (generic defaults and keys, codec keys through
 * configure(), then prepare()), the vectors of tests/vectors/, the decode
 * verdict a bad-input case expects, and independent signers (OpenSSL
 * directly, not the code under test).
 */
#ifndef SB_TEST_CODEC_FIXTURE_H
#define SB_TEST_CODEC_FIXTURE_H

#include <check.h>
#include <jansson.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/b64.h"
#include "sessionbridge/codec.h"
#include "sessionbridge/profile.h"

#define FIX_T0 1793491200LL
#define FIX_VERIFY_NOW (FIX_T0 + 3600)
#define FIX_SECRET "s3cr3t-test-key"
#define FIX_OLD_SECRET "old-test-key"
#define FIX_VECTORS SB_VECTORS_DIR "/public.json"
#define FIX_KEYS SB_VECTORS_DIR "/"

/* config.c's generic string keys a test may give in kv (applied before
 * prepare(), as config.c does): the field each sets, else NULL. */
static inline char **fix_generic_field(struct sb_profile *p, const char *key)
{
    if (strcmp(key, "cookie_name") == 0)
        return &p->cookie.name;
    if (strcmp(key, "salt") == 0)
        return &p->salt;
    if (strcmp(key, "digest") == 0)
        return &p->digest;
    if (strcmp(key, "serializer") == 0)
        return &p->serializer;
    return NULL;
}

/* Builds profile `name` of `format` into p: secrets (NULL-terminated, may
 * be NULL), then kv as "key", "value" pairs ending with NULL: the generic
 * cookie_name, salt, digest, serializer and max_age, and codec keys
 * through configure().  Returns 0, or -1 with err set (p is then freed). */
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
        char **field = fix_generic_field(p, kv[i]);
        if (field != NULL) {
            free(*field);
            *field = strdup(kv[i + 1]);
        } else if (strcmp(kv[i], "max_age") == 0) {
            p->max_age = strtoll(kv[i + 1], NULL, 10);
        } else if (p->codec->configure == NULL) {
            sb_err_set(err, SB_ERR_CONFIG, "unknown key for format %s",
                       format);
            goto err_free;
        } else if (p->codec->configure(p, kv[i], kv[i + 1], err) != 0) {
            goto err_free;
        }
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

/* The vector called `name` in vs (borrowed); the test fails without it. */
static inline json_t *fix_vector(const json_t *vs, const char *name)
{
    size_t i;

    for (i = 0; i < json_array_size(vs); i++) {
        json_t *v = json_array_get(vs, i);
        if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
            return v;
    }
    ck_abort_msg("no vector %s", name);
    return NULL;
}

/* A vector's verify_now, else FORMATS.md's VERIFY_NOW. */
static inline int64_t fix_vector_now(const json_t *v)
{
    const json_t *n = json_object_get(v, "verify_now");

    return json_is_integer(n) ? json_integer_value(n) : FIX_VERIFY_NOW;
}

/* The string member `key` of a vector (or any object), else NULL. */
static inline const char *fix_str(const json_t *v, const char *key)
{
    return json_string_value(json_object_get(v, key));
}

/* JSON text the test wrote itself (any value), as a new reference. */
static inline json_t *fix_parse(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);

    ck_assert_msg(v != NULL, "bad test JSON %s: %s", text, jerr.text);
    return v;
}

/* Decodes a hex string into a new buffer; *n gets its length. */
static inline unsigned char *fix_unhex(const char *hex, size_t *n)
{
    size_t len = strlen(hex) / 2, i;
    unsigned char *b = malloc(len + 1);

    ck_assert_ptr_nonnull(b);
    for (i = 0; i < len; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        b[i] = (unsigned char)v;
    }
    *n = len;
    return b;
}

/* Decodes token with p at now and expects `code` (SB_OK = success); a
 * failure must carry msg (when not NULL) in its message and leave no
 * data.  label names the case in a failing assertion. */
static inline void fix_expect(const struct sb_profile *p, const char *token,
                              int64_t now, enum sb_err_code code,
                              const char *msg, const char *label)
{
    struct sb_codec_ctx ctx = {.now = now};
    struct sb_session s;
    struct sb_err err = {0};
    int rc;

    sb_session_init(&s);
    rc = sb_credential_decode(p, token, strlen(token), &ctx, &s, &err);
    if (code == SB_OK) {
        ck_assert_msg(rc == 0, "%s: %s", label, err.msg);
    } else {
        ck_assert_msg(rc == -1 && err.code == code &&
                          (msg == NULL || strstr(err.msg, msg) != NULL),
                      "%s: got %s \"%s\", want %s", label,
                      rc == 0 ? "success" : sb_err_code_name(err.code),
                      err.msg, sb_err_code_name(code));
        ck_assert_ptr_null(s.data);
    }
    sb_session_reset(&s);
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
