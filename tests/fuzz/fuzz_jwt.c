/* fuzz_jwt.c - libFuzzer target for the jwt decoder.  The first input
 * byte picks a mode:
 *   0: the rest is a token, decoded by every profile (HS, RS, ES);
 *   1: the rest is "header \0 claims", MACed with the HS profiles' secret
 *      so the JSON and claim checks behind the signature are reached;
 *   2: the rest is session data JSON, encoded and decoded again: a token
 *      the bridge mints must decode to the same data.
 * Nothing may crash, leak or trip a sanitizer. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_profile.h"
#include "sessionbridge/b64.h"
#include "sessionbridge/jsonutil.h"

#define SECRET "s3cr3t-test-key"

enum { P_HS256, P_HS384_CLAIMS, P_RS256, P_ES256, P_ES512, P_COUNT };

static struct sb_profile profiles[P_COUNT];

/* A fresh private key written to dir/name for the profile to load. */
static void write_key(const char *dir, const char *name, EVP_PKEY *k,
                      char *path, size_t size)
{
    BIO *b;

    snprintf(path, size, "%s/%s", dir, name);
    b = BIO_new_file(path, "w");
    if (b == NULL || !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
        abort();
    BIO_free(b);
    EVP_PKEY_free(k);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const secrets[] = {SECRET, "old-test-key", NULL};
    static const char *const kv_hs[] = {"alg", "HS256", NULL};
    static const char *const kv_claims[] = {
        "alg", "HS384", "kid", "k1", "issuer", "https://app.example",
        "audience", "app", "leeway", "30", NULL};
    char dir[] = "/tmp/sbfuzzjwtXXXXXX", rs[64], es[64], es5[64];
    const char *kv_rs[] = {"alg", "RS256", "kid", "r1", "private_key_file",
                           rs, NULL};
    const char *kv_es[] = {"alg", "ES256", "private_key_file", es, NULL};
    const char *kv_es5[] = {"alg", "ES512", "kid", "e5", "private_key_file",
                            es5, NULL};

    (void)argc; (void)argv;
    if (mkdtemp(dir) == NULL)
        abort();
    write_key(dir, "rs.pem", EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
                                               (size_t)2048), rs, sizeof(rs));
    write_key(dir, "es.pem", EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), es,
              sizeof(es));
    write_key(dir, "es5.pem", EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"),
              es5, sizeof(es5));
    fuzz_profile(&profiles[P_HS256], "jwt", secrets, kv_hs);
    fuzz_profile(&profiles[P_HS384_CLAIMS], "jwt", secrets, kv_claims);
    fuzz_profile(&profiles[P_RS256], "jwt", NULL, kv_rs);
    fuzz_profile(&profiles[P_ES256], "jwt", NULL, kv_es);
    fuzz_profile(&profiles[P_ES512], "jwt", NULL, kv_es5);
    unlink(rs);
    unlink(es);
    unlink(es5);
    rmdir(dir);
    return 0;
}

static void decode_all(const char *tok, size_t len)
{
    struct sb_codec_ctx ctx = {.now = FUZZ_NOW};
    struct sb_session s;
    struct sb_err err;
    size_t i;

    for (i = 0; i < P_COUNT; i++) {
        sb_session_init(&s);
        if (sb_credential_decode(&profiles[i], tok, len, &ctx, &s, &err) != 0 &&
            (s.data != NULL || s.subject != NULL || s.sid[0] != '\0'))
            abort(); /* a failed decode left a partial session */
        sb_session_reset(&s);
    }
}

/* b64url(header) "." b64url(claims) "." b64url(HMAC-md(SECRET)). */
static void signed_mode(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t hl = nul ? (size_t)(nul - data) : size;
    size_t cl = nul ? size - hl - 1 : 0;
    char *tok = malloc(sb_b64_encoded_size(hl) + sb_b64_encoded_size(cl) +
                       sb_b64_encoded_size(EVP_MAX_MD_SIZE) + 2);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    size_t o;
    int which;

    if (tok == NULL)
        return;
    for (which = 0; which < 2; which++) {
        const EVP_MD *md = which ? EVP_sha384() : EVP_sha256();
        struct sb_codec_ctx ctx = {.now = FUZZ_NOW};
        struct sb_session s;
        struct sb_err err;

        o = sb_b64_encode(SB_B64_URL_NOPAD, data, hl, tok);
        tok[o++] = '.';
        o += sb_b64_encode(SB_B64_URL_NOPAD, nul ? nul + 1 : data, cl, tok + o);
        HMAC(md, SECRET, (int)strlen(SECRET), (unsigned char *)tok, o, mac, &n);
        tok[o++] = '.';
        o += sb_b64_encode(SB_B64_URL_NOPAD, mac, n, tok + o);
        sb_session_init(&s);
        sb_credential_decode(&profiles[which ? P_HS384_CLAIMS : P_HS256], tok,
                             o, &ctx, &s, &err);
        sb_session_reset(&s);
    }
    free(tok);
}

/* Encode then decode must give back the data (registered claim names
 * are dropped on the way in, so they are removed first). */
static void roundtrip_mode(const uint8_t *data, size_t size, uint8_t pick)
{
    static const char *const registered[] = {"iss", "sub", "aud", "exp",
                                             "nbf", "iat", "jti", "sid", NULL};
    struct sb_profile *p = &profiles[pick % P_COUNT];
    struct sb_codec_ctx ctx = {.now = FUZZ_NOW};
    struct sb_session s, back;
    struct sb_err err;
    json_t *doc = sb_json_parse((const char *)data, size, SB_ERR_MALFORMED,
                                "fuzz", &err);
    char *tok = NULL;
    size_t i;

    if (doc == NULL)
        return;
    sb_session_init(&s);
    sb_session_init(&back);
    if (!json_is_object(doc) || fuzz_has_huge_real(doc))
        goto out;
    for (i = 0; registered[i] != NULL; i++)
        json_object_del(doc, registered[i]);
    s.data = json_incref(doc);
    s.subject = strdup("u1");
    strcpy(s.sid, "sid-1");
    if (sb_credential_encode(p, &s, &ctx, &tok, &err) != 0)
        goto out; /* too large: fine */
    if (sb_credential_decode(p, tok, strlen(tok), &ctx, &back, &err) != 0)
        abort();
    if (!fuzz_json_same(back.data, doc) || strcmp(back.sid, "sid-1") != 0 ||
        strcmp(back.subject, "u1") != 0)
        abort();
out:
    free(tok);
    sb_session_reset(&back);
    sb_session_reset(&s);
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    switch (data[0] % 3) {
    case 0:
        decode_all((const char *)data + 1, size - 1);
        break;
    case 1:
        signed_mode(data + 1, size - 1);
        break;
    default:
        roundtrip_mode(data + 2, size - 2, data[1]);
        break;
    }
    return 0;
}
