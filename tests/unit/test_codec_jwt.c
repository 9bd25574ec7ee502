/* test_codec_jwt.c - the jwt codec against the public vectors, every
 * algorithm round trip with fresh keys, key rotation by directory, the
 * JWKS document, config errors, and the bad-input table of both the jwt
 * and express formats (each entry asserting its specific error). */
#include <check.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec_fixture.h"
#include "sessionbridge/jsonutil.h"
#include "sessionbridge/jwks.h"
#include "unit_run.h"

#define RS_PUB FIX_KEYS "test-only-jwt-rs256-public.pem"
#define RS_PRIV FIX_KEYS "test-only-jwt-rs256-private.pem"
#define ES_PUB FIX_KEYS "test-only-jwt-es256-public.pem"
#define ES_PRIV FIX_KEYS "test-only-jwt-es256-private.pem"

/* Builds the profile a vector's secret_or_key_params describe. */
static void vector_profile(const json_t *v, struct sb_profile *p)
{
    const json_t *params = json_object_get(v, "secret_or_key_params");
    const char *alg = json_string_value(
        json_array_get(json_object_get(params, "algorithms_allowed"), 0));
    const char *secret = fix_str(params, "secret_utf8");
    const char *pem = fix_str(params, "public_key_pem");
    const char *kid = fix_str(params, "kid");
    const char *secrets[] = {secret, NULL};
    const char *kv[10];
    char leeway[32], path[512];
    size_t n = 0;

    snprintf(leeway, sizeof(leeway), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(params, "leeway")));
    kv[n++] = "alg";
    kv[n++] = alg;
    kv[n++] = "leeway";
    kv[n++] = leeway;
    if (pem != NULL) {
        snprintf(path, sizeof(path), "%s%s", FIX_KEYS, pem);
        kv[n++] = "public_key_file";
        kv[n++] = path;
    }
    if (kid != NULL) {
        kv[n++] = "kid";
        kv[n++] = kid;
    }
    kv[n] = NULL;
    fix_profile(p, fix_str(v, "name"), "jwt", secret ? secrets : NULL, kv);
}

static enum sb_err_code expected_code(const char *expect)
{
    if (strcmp(expect, "valid") == 0)
        return SB_OK;
    if (strcmp(expect, "expired") == 0)
        return SB_ERR_EXPIRED;
    if (strcmp(expect, "not_yet_valid") == 0)
        return SB_ERR_NOT_YET_VALID;
    /* bad_signature, and rejected:InvalidAlgorithmError (alg none, alg
     * other than the key's) */
    return SB_ERR_BAD_SIGNATURE;
}

/* Every jwt vector at its verify_now with its own key and leeway; valid
 * ones map to the canonical session (sub, sid, iat, exp, other claims). */
START_TEST(test_vectors)
{
    json_t *vs = fix_vectors("jwt"), *v;
    size_t i;

    json_array_foreach(vs, i, v) {
        const char *name = fix_str(v, "name");
        const char *token = fix_str(v, "token");
        enum sb_err_code want = expected_code(fix_str(v, "expect"));
        struct sb_codec_ctx ctx = {.now = fix_vector_now(v)};
        const json_t *claims = json_object_get(v, "expected_payload");
        struct sb_profile p;
        struct sb_session s;
        struct sb_err err = {0};
        int rc;

        vector_profile(v, &p);
        sb_session_init(&s);
        rc = sb_credential_decode(&p, token, strlen(token), &ctx, &s, &err);
        if (want != SB_OK) {
            ck_assert_msg(rc == -1 && err.code == want, "%s: got %s (%s)",
                          name, sb_err_code_name(err.code), err.msg);
            ck_assert_ptr_null(s.data);
            ck_assert_ptr_null(s.subject);
        } else {
            ck_assert_msg(rc == 0, "%s: %s", name, err.msg);
            ck_assert_str_eq(s.subject, fix_str(claims, "sub"));
            ck_assert_str_eq(s.sid, fix_str(claims, "sid"));
            ck_assert_int_eq(s.issued_at,
                             json_integer_value(json_object_get(claims, "iat")));
            ck_assert_int_eq(s.expires_at,
                             json_integer_value(json_object_get(claims, "exp")));
            ck_assert_uint_eq(json_object_size(s.data), 1);
            ck_assert_str_eq(fix_str(s.data, "name"), "alice");
        }
        sb_session_reset(&s);
        sb_profile_free(&p);
    }
    ck_assert_uint_eq(json_array_size(vs), 12);
    json_decref(vs);
}
END_TEST

/* Writes a fresh private key and its public half as PEM files. */
static void write_keypair(EVP_PKEY *k, const char *priv, const char *pub)
{
    BIO *b = BIO_new_file(priv, "w");

    ck_assert_int_eq(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
                                              NULL), 1);
    BIO_free(b);
    b = BIO_new_file(pub, "w");
    ck_assert_int_eq(PEM_write_bio_PUBKEY(b, k), 1);
    BIO_free(b);
}

#define HDR_THREADS "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define OK_CLAIMS_THREADS "{\"sub\":\"1\",\"exp\":1793498400}"

static char tmpdir[64];

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/sbjwtXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* The b64url-decoded first segment of token. */
static char *token_header(const char *token)
{
    const char *dot = strchr(token, '.');
    unsigned char *buf = calloc(1, sb_b64_decoded_max((size_t)(dot - token)) + 1);

    ck_assert_int_gt(sb_b64_decode(SB_B64_URL_NOPAD, token,
                                   (size_t)(dot - token), buf), 0);
    return (char *)buf;
}

/* Every algorithm with fresh keys: encode, check the header and signature
 * size, decode back to the same session; a verify-only profile accepts
 * the token and refuses to sign. */
START_TEST(test_roundtrip_all_algs)
{
    static const struct {
        const char *alg;
        const char *keytype; /* NULL = HMAC */
        const char *param;
        size_t sig_len;
    } algs[] = {
        {"HS256", NULL, NULL, 32}, {"HS384", NULL, NULL, 48},
        {"HS512", NULL, NULL, 64},
        {"RS256", "RSA", NULL, 256}, {"RS384", "RSA", NULL, 256},
        {"RS512", "RSA", NULL, 256},
        {"ES256", "EC", "P-256", 64}, {"ES384", "EC", "P-384", 96},
        {"ES512", "EC", "P-521", 132},
    };
    static const char *const secrets[] = {
        "0123456789abcdef0123456789abcdef-new", "old-0123456789abcdef0123456789",
        NULL};
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    size_t i;

    make_tmpdir();
    ck_assert_ptr_nonnull(rsa);
    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        char priv[128], pub[128], *tok = NULL, *hdr, want[128];
        const char *kv[] = {"alg", algs[i].alg, "kid", "k-1", "issuer",
                            "https://app.example", "audience", "app",
                            algs[i].keytype ? "private_key_file" : NULL, priv,
                            NULL};
        const char *kv_pub[] = {"alg", algs[i].alg, "kid", "k-1", "issuer",
                                "https://app.example", "audience", "app",
                                "public_key_file", pub, NULL};
        struct sb_profile p, vp;
        struct sb_session s, back;
        struct sb_codec_ctx ctx = {.now = FIX_T0};
        struct sb_err err = {0};
        const char *last;
        EVP_PKEY *k = NULL;

        snprintf(priv, sizeof(priv), "%s/%s.key.pem", tmpdir, algs[i].alg);
        snprintf(pub, sizeof(pub), "%s/%s.pub.pem", tmpdir, algs[i].alg);
        if (algs[i].keytype != NULL) {
            k = algs[i].param ? EVP_PKEY_Q_keygen(NULL, NULL, "EC",
                                                  algs[i].param)
                              : rsa;
            ck_assert_ptr_nonnull(k);
            write_keypair(k, priv, pub);
            if (k != rsa)
                EVP_PKEY_free(k);
        }
        fix_profile(&p, "rt", "jwt", algs[i].keytype ? NULL : secrets, kv);
        ck_assert_str_eq(p.cookie.name, "access_token");
        ck_assert_int_eq(p.max_age, 3600);
        sb_session_init(&s);
        strcpy(s.sid, "sid-1");
        s.subject = strdup("u1");
        s.issued_at = FIX_T0;
        s.data = json_pack("{s:s, s:[i,i], s:s}", "role", "admin", "n", 1, 2,
                           "exp", "dropped");
        ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &tok, &err), 0);
        hdr = token_header(tok);
        snprintf(want, sizeof(want),
                 "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"k-1\"}",
                 algs[i].alg);
        ck_assert_str_eq(hdr, want);
        free(hdr);
        last = strrchr(tok, '.') + 1;
        ck_assert_uint_eq(strlen(last), (algs[i].sig_len * 4 + 2) / 3);

        sb_session_init(&back);
        ctx.now = FIX_T0 + 10;
        ck_assert_msg(sb_credential_decode(&p, tok, strlen(tok), &ctx, &back,
                                           &err) == 0, "%s: %s", algs[i].alg,
                      err.msg);
        ck_assert_str_eq(back.sid, "sid-1");
        ck_assert_str_eq(back.subject, "u1");
        ck_assert_int_eq(back.issued_at, FIX_T0);
        ck_assert_int_eq(back.expires_at, FIX_T0 + 3600);
        json_object_del(s.data, "exp");
        ck_assert(json_equal(back.data, s.data));
        sb_session_reset(&back);

        if (algs[i].keytype != NULL) {
            char *again = NULL;
            fix_profile(&vp, "verify-only", "jwt", NULL, kv_pub);
            ck_assert_int_eq(sb_credential_decode(&vp, tok, strlen(tok), &ctx,
                                                  &back, &err), 0);
            sb_session_reset(&back);
            ck_assert_int_eq(sb_credential_encode(&vp, &s, &ctx, &again,
                                                  &err), -1);
            ck_assert_int_eq(err.code, SB_ERR_CONFIG);
            ck_assert_ptr_null(again);
            sb_profile_free(&vp);
        }
        free(tok);
        sb_session_reset(&s);
        sb_profile_free(&p);
    }
    EVP_PKEY_free(rsa);
    remove_tmpdir();
}
END_TEST

/* HS rotation: a token signed with the second secret still verifies; the
 * first signs. */
START_TEST(test_hs_rotation)
{
    static const char *const kv[] = {"alg", "HS256", NULL};
    static const char *const secrets[] = {"new-secret-0123456789abcdef012345",
                                          FIX_SECRET, NULL};
    json_t *vs = fix_vectors("jwt"), *v;
    struct sb_codec_ctx ctx = {.now = FIX_VERIFY_NOW};
    struct sb_profile p;
    struct sb_session s;
    struct sb_err err = {0};
    size_t i;
    char *mine = NULL, *ref;

    fix_profile(&p, "rot", "jwt", secrets, kv);
    json_array_foreach(vs, i, v) {
        if (strcmp(fix_str(v, "name"), "jwt-hs256") != 0)
            continue;
        sb_session_init(&s);
        ck_assert_int_eq(sb_credential_decode(&p, fix_str(v, "token"),
                                              strlen(fix_str(v, "token")),
                                              &ctx, &s, &err), 0);
        ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &mine, &err), 0);
        ref = fix_jwt_hmac(EVP_sha256(),
                           "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                           "{\"sub\":\"42\",\"sid\":\"9f1c2d3e\",\"iat\":"
                           "1793491200,\"exp\":1793498400,\"name\":\"alice\"}",
                           secrets[0]);
        ck_assert_str_eq(mine, ref);
        free(ref);
        free(mine);
        sb_session_reset(&s);
    }
    sb_profile_free(&p);
    json_decref(vs);
}
END_TEST

/* A directory of public keys named by kid, next to the signing key. */
START_TEST(test_key_directory)
{
    EVP_PKEY *old = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *cur = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char dir[128], old_priv[160], old_pub[160], cur_priv[160], cur_pub[160];
    const char *kv_cur[] = {"alg", "ES256", "kid", "2026-11",
                            "private_key_file", cur_priv, "public_key_file",
                            dir, NULL};
    const char *kv_old[] = {"alg", "ES256", "kid", "2026-10",
                            "private_key_file", old_priv, NULL};
    const char *kv_nokid[] = {"alg", "ES256", "private_key_file", old_priv,
                              NULL};
    const struct sb_profile *list[1];
    struct sb_profile p, signer, anon;
    struct sb_session s;
    struct sb_codec_ctx ctx = {.now = FIX_T0};
    struct sb_err err = {0};
    json_t *jwks;
    char *tok = NULL;

    make_tmpdir();
    snprintf(dir, sizeof(dir), "%s/pub", tmpdir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    snprintf(old_priv, sizeof(old_priv), "%s/old.key", tmpdir);
    snprintf(cur_priv, sizeof(cur_priv), "%s/cur.key", tmpdir);
    snprintf(old_pub, sizeof(old_pub), "%s/2026-10.pem", dir);
    snprintf(cur_pub, sizeof(cur_pub), "%s/2026-11.pub.pem", dir);
    write_keypair(old, old_priv, old_pub);
    write_keypair(cur, cur_priv, cur_pub);
    fix_profile(&p, "cur", "jwt", NULL, kv_cur);
    fix_profile(&signer, "old", "jwt", NULL, kv_old);
    fix_profile(&anon, "anon", "jwt", NULL, kv_nokid);

    /* two keys: the signing key (its file in the directory is the same
     * key, listed once) and 2026-10 */
    list[0] = &p;
    ck_assert_int_eq(sb_jwks_build(list, 1, &jwks, &err), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(jwks, "keys")), 2);
    ck_assert_str_eq(fix_str(json_array_get(json_object_get(jwks, "keys"), 0),
                             "kid"), "2026-11");
    ck_assert_str_eq(fix_str(json_array_get(json_object_get(jwks, "keys"), 1),
                             "kid"), "2026-10");
    json_decref(jwks);

    sb_session_init(&s);
    strcpy(s.sid, "x");
    s.data = json_object();
    /* old key, kid 2026-10: verifies */
    ck_assert_int_eq(sb_credential_encode(&signer, &s, &ctx, &tok, &err), 0);
    sb_session_reset(&s);
    ck_assert_int_eq(sb_credential_decode(&p, tok, strlen(tok), &ctx, &s,
                                          &err), 0);
    sb_session_reset(&s);
    free(tok);
    /* old key, no kid: every key is tried */
    strcpy(s.sid, "x");
    ck_assert_int_eq(sb_credential_encode(&anon, &s, &ctx, &tok, &err), 0);
    ck_assert_int_eq(sb_credential_decode(&p, tok, strlen(tok), &ctx, &s,
                                          &err), 0);
    sb_session_reset(&s);
    free(tok);
    /* a kid naming no configured key */
    sb_profile_free(&signer);
    kv_old[3] = "2026-09";
    fix_profile(&signer, "old", "jwt", NULL, kv_old);
    strcpy(s.sid, "x");
    ck_assert_int_eq(sb_credential_encode(&signer, &s, &ctx, &tok, &err), 0);
    ck_assert_int_eq(sb_credential_decode(&p, tok, strlen(tok), &ctx, &s,
                                          &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_UNKNOWN_KEY);
    free(tok);

    sb_profile_free(&p);
    sb_profile_free(&signer);
    sb_profile_free(&anon);
    EVP_PKEY_free(old);
    EVP_PKEY_free(cur);
    remove_tmpdir();
}
END_TEST

/* The JWKS of the RS256 and ES256 test profiles is test-only-jwks.json,
 * member for member and in order; HS and express profiles add nothing. */
START_TEST(test_jwks)
{
    static const char *const kv_rs[] = {"alg", "RS256", "kid", "test-rsa-1",
                                        "public_key_file", RS_PUB, NULL};
    static const char *const kv_es[] = {"alg", "ES256", "kid", "test-ec-1",
                                        "private_key_file", ES_PRIV,
                                        "public_key_file", ES_PUB, NULL};
    static const char *const kv_hs[] = {"alg", "HS256", "kid", "h", NULL};
    static const char *const secrets[] = {FIX_SECRET, NULL};
    struct sb_profile rs, es, hs, ex;
    const struct sb_profile *list[5] = {&hs, &rs, &ex, &es, &rs};
    json_error_t jerr;
    json_t *want = json_load_file(FIX_KEYS "test-only-jwks.json", 0, &jerr);
    json_t *got;
    struct sb_err err = {0};
    struct sb_buf a, b;

    ck_assert_ptr_nonnull(want);
    fix_profile(&rs, "rs", "jwt", NULL, kv_rs);
    fix_profile(&es, "es", "jwt", NULL, kv_es);
    fix_profile(&hs, "hs", "jwt", secrets, kv_hs);
    fix_profile(&ex, "ex", "express", secrets, NULL);
    ck_assert_int_eq(sb_jwks_build(list, 5, &got, &err), 0);
    ck_assert(json_equal(got, want));
    sb_buf_init(&a);
    sb_buf_init(&b);
    ck_assert_int_eq(sb_json_dump(got, SB_JSON_JS, &a, &err), 0);
    ck_assert_int_eq(sb_json_dump(want, SB_JSON_JS, &b, &err), 0);
    ck_assert_str_eq(a.data, b.data);
    sb_buf_free(&a);
    sb_buf_free(&b);
    json_decref(got);
    json_decref(want);
    sb_profile_free(&rs);
    sb_profile_free(&es);
    sb_profile_free(&hs);
    sb_profile_free(&ex);
}
END_TEST

/* Profiles that must not load, each with its reason. */
START_TEST(test_config_errors)
{
    static const char *const hs_secret[] = {FIX_SECRET, NULL};
    static const char *const pem_secret[] = {
        "-----BEGIN PUBLIC KEY-----MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
        NULL};
    static const struct {
        const char *what;
        const char *const *secrets;
        const char *kv[9];
        const char *in_msg;
    } bad[] = {
        {"no alg", hs_secret, {NULL}, "needs alg"},
        {"alg none", hs_secret, {"alg", "none", NULL}, "not one of"},
        {"alg lower case", hs_secret, {"alg", "hs256", NULL}, "not one of"},
        {"unknown key", hs_secret, {"alg", "HS256", "algorithm", "x", NULL},
         "unknown key 'algorithm' for format jwt"},
        {"HS without secrets", NULL, {"alg", "HS256", NULL},
         "needs secrets_file"},
        {"HS with a key file", hs_secret,
         {"alg", "HS256", "public_key_file", RS_PUB, NULL}, "not from key"},
        {"HS secret that is a PEM", pem_secret, {"alg", "HS256", NULL},
         "PEM block"},
        {"RS with secrets", hs_secret,
         {"alg", "RS256", "public_key_file", RS_PUB, NULL}, "HS256/384/512"},
        {"RS without keys", NULL, {"alg", "RS256", NULL}, "private_key_file"},
        {"EC key for RS256", NULL,
         {"alg", "RS256", "public_key_file", ES_PUB, NULL}, "not an RSA key"},
        {"RSA key for ES256", NULL,
         {"alg", "ES256", "public_key_file", RS_PUB, NULL}, "P-256"},
        {"P-256 key for ES384", NULL,
         {"alg", "ES384", "private_key_file", ES_PRIV, NULL}, "P-384"},
        {"public key as private", NULL,
         {"alg", "RS256", "private_key_file", RS_PUB, NULL},
         "no unencrypted PEM private key"},
        {"missing file", NULL,
         {"alg", "RS256", "public_key_file", "/nonexistent.pem", NULL},
         "cannot read"},
        {"negative leeway", hs_secret, {"alg", "HS256", "leeway", "-1", NULL},
         "leeway"},
        {"empty issuer", hs_secret, {"alg", "HS256", "issuer", "", NULL},
         "must not be empty"},
    };
    struct sb_profile p;
    struct sb_err err;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sb_err_clear(&err);
        ck_assert_msg(fix_profile_v(&p, "bad", "jwt", bad[i].secrets,
                                    bad[i].kv, &err) == -1,
                      "%s: loaded", bad[i].what);
        ck_assert_msg(strstr(err.msg, bad[i].in_msg) != NULL, "%s: %s",
                      bad[i].what, err.msg);
        ck_assert_msg(err.code == SB_ERR_CONFIG || err.code == SB_ERR_IO,
                      "%s: %s", bad[i].what, sb_err_code_name(err.code));
    }
}
END_TEST

/* An encrypted private key is refused at once (no passphrase prompt), and
 * a 1024-bit RSA key is too short. */
START_TEST(test_config_key_files)
{
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char enc[128], pub[128], priv[128];
    const char *kv_enc[] = {"alg", "ES256", "private_key_file", enc, NULL};
    const char *kv_small[] = {"alg", "RS256", "public_key_file", pub, NULL};
    struct sb_profile p;
    struct sb_err err = {0};
    BIO *b;

    make_tmpdir();
    snprintf(enc, sizeof(enc), "%s/enc.pem", tmpdir);
    snprintf(pub, sizeof(pub), "%s/small.pub.pem", tmpdir);
    snprintf(priv, sizeof(priv), "%s/small.pem", tmpdir);
    b = BIO_new_file(enc, "w");
    ck_assert_int_eq(PEM_write_bio_PrivateKey(b, ec, EVP_aes_256_cbc(),
                                              (unsigned char *)"pw", 2, NULL,
                                              NULL), 1);
    BIO_free(b);
    write_keypair(small, priv, pub);
    ck_assert_int_eq(fix_profile_v(&p, "enc", "jwt", NULL, kv_enc, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "no unencrypted PEM private key"));
    ck_assert_int_eq(fix_profile_v(&p, "small", "jwt", NULL, kv_small, &err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "1024-bit"));
    EVP_PKEY_free(small);
    EVP_PKEY_free(ec);
    remove_tmpdir();
}
END_TEST

/* ---- threads ------------------------------------------------------------ */

struct thread_job {
    const struct sb_profile *jwt, *express;
    const char *tokens[3]; /* jwt: secret 1, secret 2; express cookie */
    const char *forged;    /* jwt MACed with a secret not in the list */
    int failures;
};

/* Alternating keys on every call, so each thread's cached HMAC context is
 * re-keyed over and over while other threads do the same. */
static void *thread_main(void *arg)
{
    struct thread_job *job = arg;
    struct sb_codec_ctx ctx = {.now = FIX_VERIFY_NOW};
    int i;

    for (i = 0; i < 3000; i++) {
        struct sb_session s;
        struct sb_err err;
        const char *tok = job->tokens[i % 3];
        const struct sb_profile *p = i % 3 == 2 ? job->express : job->jwt;
        sb_session_init(&s);
        if (sb_credential_decode(p, tok, strlen(tok), &ctx, &s, &err) != 0)
            job->failures++;
        sb_session_reset(&s);
        if (i % 50 == 0 &&
            sb_credential_decode(job->jwt, job->forged, strlen(job->forged),
                                 &ctx, &s, &err) == 0)
            job->failures++;
    }
    return NULL;
}

/* Four threads share one profile of each format, as the daemon's workers
 * do: every decode gives the right answer. */
START_TEST(test_threads)
{
    static const char *const secrets[] = {"first-secret-0123456789abcdef01",
                                          FIX_SECRET, NULL};
    static const char *const kv[] = {"alg", "HS256", NULL};
    struct sb_profile jwt_p, ex_p;
    struct thread_job jobs[4];
    pthread_t th[4];
    char *t1, *t2, *t3, *forged;
    size_t i;

    fix_profile(&jwt_p, "hs", "jwt", secrets, kv);
    fix_profile(&ex_p, "ex", "express", secrets, NULL);
    t1 = fix_jwt_hmac(EVP_sha256(), HDR_THREADS, OK_CLAIMS_THREADS, secrets[0]);
    t2 = fix_jwt_hmac(EVP_sha256(), HDR_THREADS, OK_CLAIMS_THREADS, secrets[1]);
    t3 = fix_express_sign("Xq3RfZ2vN8kLpW4tY7uB1cD5eG9hJ0mA", secrets[1]);
    forged = fix_jwt_hmac(EVP_sha256(), HDR_THREADS, OK_CLAIMS_THREADS, "x");
    for (i = 0; i < 4; i++) {
        jobs[i] = (struct thread_job){&jwt_p, &ex_p, {t1, t2, t3}, forged, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, thread_main, &jobs[i]),
                         0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(jobs[i].failures, 0);
    }
    free(t1);
    free(t2);
    free(t3);
    free(forged);
    sb_profile_free(&jwt_p);
    sb_profile_free(&ex_p);
}
END_TEST

/* ---- the bad-input table ---------------------------------------------- */

enum table_profile {
    P_HS,       /* HS256, the vectors' secret, no kid, leeway 0 */
    P_HS_CLAIMS, /* HS256, kid k1, issuer and audience configured */
    P_HS_LEEWAY, /* HS256, leeway 3601 */
    P_RS,       /* RS256 public key, kid test-rsa-1 */
    P_ES,       /* ES256 private key, kid test-ec-1 */
    P_EX,       /* express, the vectors' two secrets */
    P_COUNT
};

enum table_token {
    T_VECTOR,   /* `a` names a public vector; its token */
    T_RAW,      /* `a` is the token */
    T_HS256,    /* HS256 over header `a` and claims `b`, the test secret */
    T_HS256_KEY, /* the same with secret `c` */
    T_ES_DER,   /* ES256 with the test key, DER signature (not raw r||s) */
    T_EXPRESS,  /* cookie-signature of value `a` with secret `c` (or the
                   test secret) */
    T_PAD,      /* a valid HS256 token with `=` padding on its signature */
    T_LONG      /* `a` repeated to at least `b` bytes */
};

struct bad_input {
    const char *what;
    enum table_profile profile;
    enum table_token kind;
    const char *a, *b, *c;
    enum sb_err_code code; /* SB_OK: must be accepted */
};

#define HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define HDR_K1 "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}"
#define CLAIMS_BASE "\"sub\":\"42\",\"sid\":\"9f1c2d3e\""
#define OK_CLAIMS "{" CLAIMS_BASE ",\"iat\":1793491200,\"exp\":1793498400}"
#define ISS_AUD ",\"iss\":\"https://app.example\""
#define DEEP "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"

static const struct bad_input bad_inputs[] = {
    /* jwt: algorithms and keys */
    {"alg none (vector)", P_HS, T_VECTOR, "jwt-alg-none", 0, 0,
     SB_ERR_BAD_SIGNATURE},
    {"alg None, mixed case", P_HS, T_HS256, "{\"alg\":\"None\"}", OK_CLAIMS, 0,
     SB_ERR_BAD_SIGNATURE},
    {"alg none on an RS key", P_RS, T_RAW,
     "eyJhbGciOiJub25lIn0.eyJleHAiOjk5OTk5OTk5OTl9.", 0, 0,
     SB_ERR_BAD_SIGNATURE},
    {"HS256 MACed with the RSA public key PEM (vector)", P_RS, T_VECTOR,
     "jwt-hs-rs-confusion", 0, 0, SB_ERR_BAD_SIGNATURE},
    {"HS384 token on an HS256 key", P_HS, T_VECTOR, "jwt-hs384", 0, 0,
     SB_ERR_BAD_SIGNATURE},
    {"RS256 token on an ES256 key", P_ES, T_VECTOR, "jwt-rs256", 0, 0,
     SB_ERR_BAD_SIGNATURE},
    {"PS256 is not implemented", P_RS, T_HS256, "{\"alg\":\"PS256\"}",
     OK_CLAIMS, 0, SB_ERR_UNSUPPORTED},
    {"kid injection with kids configured", P_HS_CLAIMS, T_HS256_KEY,
     "{\"alg\":\"HS256\",\"kid\":\"../../../../dev/null\"}", OK_CLAIMS, "",
     SB_ERR_UNKNOWN_KEY},
    {"kid injection without kids configured (vector)", P_HS, T_VECTOR,
     "jwt-kid-injection", 0, 0, SB_ERR_BAD_SIGNATURE},
    {"kid that is a URL", P_RS, T_HS256,
     "{\"alg\":\"RS256\",\"kid\":\"https://evil.example/k.pem\"}", OK_CLAIMS,
     0, SB_ERR_UNKNOWN_KEY},
    {"unknown kid", P_RS, T_HS256, "{\"alg\":\"RS256\",\"kid\":\"test-rsa-2\"}",
     OK_CLAIMS, 0, SB_ERR_UNKNOWN_KEY},
    {"kid not a string", P_RS, T_HS256, "{\"alg\":\"RS256\",\"kid\":7}",
     OK_CLAIMS, 0, SB_ERR_MALFORMED},
    {"embedded jwk / jku headers are never used", P_RS, T_HS256,
     "{\"alg\":\"RS256\",\"kid\":\"test-rsa-1\",\"jku\":\"https://evil.example"
     "\",\"jwk\":{\"kty\":\"oct\",\"k\":\"AA\"}}", OK_CLAIMS, 0,
     SB_ERR_BAD_SIGNATURE},
    {"crit extension", P_HS, T_HS256,
     "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", OK_CLAIMS, 0,
     SB_ERR_UNSUPPORTED},
    {"ES256 signature in DER", P_ES, T_ES_DER, 0, 0, 0, SB_ERR_BAD_SIGNATURE},
    {"tampered claims (vector)", P_HS, T_VECTOR, "jwt-tampered", 0, 0,
     SB_ERR_BAD_SIGNATURE},
    {"signed with another secret", P_HS, T_HS256_KEY, HDR, OK_CLAIMS,
     "another-secret", SB_ERR_BAD_SIGNATURE},
    /* jwt: time and claims */
    {"expired (vector)", P_HS, T_VECTOR, "jwt-expired", 0, 0, SB_ERR_EXPIRED},
    {"expired within leeway (vector)", P_HS_LEEWAY, T_VECTOR,
     "jwt-expired-within-leeway", 0, 0, SB_OK},
    {"exp equal to now", P_HS, T_HS256, HDR,
     "{" CLAIMS_BASE ",\"exp\":1793494800}", 0, SB_ERR_EXPIRED},
    {"exp one second ahead, fractional", P_HS, T_HS256, HDR,
     "{" CLAIMS_BASE ",\"exp\":1793494801.5}", 0, SB_OK},
    {"nbf in the future (vector)", P_HS, T_VECTOR, "jwt-nbf-future", 0, 0,
     SB_ERR_NOT_YET_VALID},
    {"iat beyond the leeway", P_HS, T_HS256, HDR,
     "{" CLAIMS_BASE ",\"iat\":1793494801,\"exp\":1793498400}", 0,
     SB_ERR_NOT_YET_VALID},
    {"iat in the future within the leeway", P_HS_LEEWAY, T_HS256, HDR,
     "{" CLAIMS_BASE ",\"iat\":1793495800,\"exp\":1793498400}", 0, SB_OK},
    {"missing exp", P_HS, T_HS256, HDR,
     "{" CLAIMS_BASE ",\"iat\":1793491200}", 0, SB_ERR_INVALID_CLAIM},
    {"exp not a number", P_HS, T_HS256, HDR,
     "{" CLAIMS_BASE ",\"exp\":\"1793498400\"}", 0, SB_ERR_MALFORMED},
    {"issuer and audience right", P_HS_CLAIMS, T_HS256, HDR_K1,
     "{" CLAIMS_BASE ",\"exp\":1793498400" ISS_AUD ",\"aud\":\"app\"}", 0,
     SB_OK},
    {"wrong issuer", P_HS_CLAIMS, T_HS256, HDR_K1,
     "{" CLAIMS_BASE ",\"exp\":1793498400,\"iss\":\"https://app.example.evil\""
     ",\"aud\":\"app\"}", 0, SB_ERR_INVALID_CLAIM},
    {"missing issuer", P_HS_CLAIMS, T_HS256, HDR_K1,
     "{" CLAIMS_BASE ",\"exp\":1793498400,\"aud\":\"app\"}", 0,
     SB_ERR_INVALID_CLAIM},
    {"wrong audience", P_HS_CLAIMS, T_HS256, HDR_K1,
     "{" CLAIMS_BASE ",\"exp\":1793498400" ISS_AUD ",\"aud\":\"ap\"}", 0,
     SB_ERR_INVALID_CLAIM},
    {"audience list holding ours", P_HS_CLAIMS, T_HS256, HDR_K1,
     "{" CLAIMS_BASE ",\"exp\":1793498400" ISS_AUD ",\"aud\":[\"x\",\"app\"]}",
     0, SB_OK},
    {"aud where none is configured", P_HS, T_HS256, HDR,
     "{" CLAIMS_BASE ",\"exp\":1793498400,\"aud\":\"app\"}", 0,
     SB_ERR_INVALID_CLAIM},
    /* jwt: layout and caps */
    {"header not base64url", P_HS, T_RAW, "eyJhbGciOiJIUzI1NiJ9!.e30.AAAA", 0,
     0, SB_ERR_MALFORMED},
    {"padded signature", P_HS, T_PAD, 0, 0, 0, SB_ERR_MALFORMED},
    {"two segments", P_HS, T_RAW, "eyJhbGciOiJIUzI1NiJ9.e30", 0, 0,
     SB_ERR_MALFORMED},
    {"five segments (JWE)", P_HS, T_RAW, "eyJhbGciOiJIUzI1NiJ9.a.b.c.d", 0, 0,
     SB_ERR_MALFORMED},
    {"header not JSON", P_HS, T_HS256, "{alg:HS256}", OK_CLAIMS, 0,
     SB_ERR_MALFORMED},
    {"claims an array", P_HS, T_HS256, HDR, "[1]", 0, SB_ERR_MALFORMED},
    {"claims nested 40 deep", P_HS, T_HS256, HDR,
     "{\"exp\":1793498400,\"a\":" DEEP "}", 0, SB_ERR_TOO_LARGE},
    {"token over 8192 bytes", P_HS, T_LONG, "eyJh", "9000", 0,
     SB_ERR_TOO_LARGE},
    /* express */
    {"express: no s: prefix", P_EX, T_RAW,
     "Xq3RfZ2vN8kLpW4tY7uB1cD5eG9hJ0mA.ujWfdjbHcC0N9EUP9C3GeEbpN3NDGK3wcpj6bbD"
     "2AfU", 0, 0, SB_ERR_MALFORMED},
    {"express: tampered signature (vector)", P_EX, T_VECTOR,
     "express-tampered", 0, 0, SB_ERR_BAD_SIGNATURE},
    {"express: unknown secret", P_EX, T_EXPRESS, "Xq3RfZ2vN8kLpW4t", 0,
     "not-our-secret", SB_ERR_BAD_SIGNATURE},
    {"express: rotated secret (vector)", P_EX, T_VECTOR,
     "express-rotated-secret", 0, 0, SB_OK},
    {"express: signed with the old secret", P_EX, T_EXPRESS,
     "Xq3RfZ2vN8kLpW4t", 0, FIX_OLD_SECRET, SB_OK},
    {"express: last signature character changed", P_EX, T_RAW,
     "s:Xq3RfZ2vN8kLpW4tY7uB1cD5eG9hJ0mA.ujWfdjbHcC0N9EUP9C3GeEbpN3NDGK3wcpj6b"
     "bD2AfV", 0, 0, SB_ERR_BAD_SIGNATURE},
    {"express: no dot", P_EX, T_RAW, "s:Xq3RfZ2vN8kLpW4t", 0, 0,
     SB_ERR_MALFORMED},
    {"express: truncated signature", P_EX, T_RAW,
     "s:Xq3RfZ2vN8kLpW4tY7uB1cD5eG9hJ0mA.ujWfdjbHcC0N9EUP9C3GeEbpN3NDGK3wcpj6b"
     "bD2Af", 0, 0, SB_ERR_BAD_SIGNATURE},
    {"express: still percent-encoded", P_EX, T_RAW,
     "s%3AXq3RfZ2vN8kLpW4tY7uB1cD5eG9hJ0mA.ujWfdjbHcC0N9EUP9C3GeEbpN3NDGK3wcpj"
     "6bbD2AfU", 0, 0, SB_ERR_MALFORMED},
    {"express: sid with a space", P_EX, T_EXPRESS, "a b", 0, 0,
     SB_ERR_UNSUPPORTED},
    {"express: cookie-parser array", P_EX, T_EXPRESS, "j:[1,2]", 0, 0,
     SB_ERR_UNSUPPORTED},
    {"express: cookie-parser JSON nested 40 deep", P_EX, T_EXPRESS,
     "j:{\"a\":" DEEP "}", 0, 0, SB_ERR_TOO_LARGE},
    {"express: cookie-parser bad JSON", P_EX, T_EXPRESS, "j:{nope}", 0, 0,
     SB_ERR_MALFORMED},
    {"express: cookie over 4096 bytes", P_EX, T_LONG, "s:aa", "5000", 0,
     SB_ERR_TOO_LARGE},
};

/* ES256 over header.claims with the test key, leaving OpenSSL's DER
 * signature as is. */
static char *es_der_token(void)
{
    BIO *bio = BIO_new_file(ES_PRIV, "r");
    EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char sig[256];
    size_t n = sizeof(sig);
    char *tok = NULL;
    const char *h = "{\"alg\":\"ES256\",\"kid\":\"test-ec-1\"}";

    ck_assert_ptr_nonnull(k);
    fix_append_b64(&tok, SB_B64_URL_NOPAD, h, strlen(h));
    fix_append(&tok, ".");
    fix_append_b64(&tok, SB_B64_URL_NOPAD, OK_CLAIMS, strlen(OK_CLAIMS));
    ck_assert_int_eq(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
    ck_assert_int_eq(EVP_DigestSign(md, sig, &n, (unsigned char *)tok,
                                    strlen(tok)), 1);
    fix_append(&tok, ".");
    fix_append_b64(&tok, SB_B64_URL_NOPAD, sig, n);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    BIO_free(bio);
    return tok;
}

/* The token of one table entry; caller frees. */
static char *table_token(const struct bad_input *b, const json_t *vectors)
{
    size_t i;
    json_t *v;
    char *tok = NULL;

    switch (b->kind) {
    case T_VECTOR:
        json_array_foreach(vectors, i, v) {
            if (strcmp(fix_str(v, "name"), b->a) == 0)
                return strdup(fix_str(v, "token"));
        }
        ck_abort_msg("no vector %s", b->a);
        return NULL;
    case T_RAW:
        return strdup(b->a);
    case T_HS256:
        return fix_jwt_hmac(EVP_sha256(), b->a, b->b, FIX_SECRET);
    case T_HS256_KEY:
        return fix_jwt_hmac(EVP_sha256(), b->a, b->b, b->c);
    case T_ES_DER:
        return es_der_token();
    case T_EXPRESS:
        return fix_express_sign(b->a, b->c ? b->c : FIX_SECRET);
    case T_PAD:
        tok = fix_jwt_hmac(EVP_sha256(), HDR, OK_CLAIMS, FIX_SECRET);
        fix_append(&tok, "=");
        return tok;
    case T_LONG:
        while (tok == NULL || strlen(tok) < strtoul(b->b, NULL, 10))
            fix_append(&tok, b->a);
        return tok;
    }
    return NULL;
}

START_TEST(test_bad_inputs)
{
    static const char *const hs_secret[] = {FIX_SECRET, NULL};
    static const char *const ex_secrets[] = {FIX_SECRET, FIX_OLD_SECRET, NULL};
    static const char *const kv_hs[] = {"alg", "HS256", NULL};
    static const char *const kv_claims[] = {"alg", "HS256", "kid", "k1",
                                            "issuer", "https://app.example",
                                            "audience", "app", NULL};
    static const char *const kv_leeway[] = {"alg", "HS256", "leeway", "3601",
                                            NULL};
    static const char *const kv_rs[] = {"alg", "RS256", "kid", "test-rsa-1",
                                        "public_key_file", RS_PUB, NULL};
    static const char *const kv_es[] = {"alg", "ES256", "kid", "test-ec-1",
                                        "private_key_file", ES_PRIV, NULL};
    struct sb_profile profiles[P_COUNT];
    json_t *vectors = json_array(), *jv = fix_vectors("jwt");
    json_t *ev = fix_vectors("express");
    size_t i, failures = 0, n = sizeof(bad_inputs) / sizeof(bad_inputs[0]);

    json_array_extend(vectors, jv);
    json_array_extend(vectors, ev);
    fix_profile(&profiles[P_HS], "hs", "jwt", hs_secret, kv_hs);
    fix_profile(&profiles[P_HS_CLAIMS], "claims", "jwt", hs_secret, kv_claims);
    fix_profile(&profiles[P_HS_LEEWAY], "leeway", "jwt", hs_secret, kv_leeway);
    fix_profile(&profiles[P_RS], "rs", "jwt", NULL, kv_rs);
    fix_profile(&profiles[P_ES], "es", "jwt", NULL, kv_es);
    fix_profile(&profiles[P_EX], "ex", "express", ex_secrets, NULL);
    ck_assert_uint_ge(n, 40);
    for (i = 0; i < n; i++) {
        const struct bad_input *b = &bad_inputs[i];
        struct sb_codec_ctx ctx = {.now = FIX_VERIFY_NOW};
        char *tok = table_token(b, vectors);
        size_t len = strlen(tok);
        struct sb_session s;
        struct sb_err err = {0};
        int rc;

        sb_session_init(&s);
        rc = sb_credential_decode(&profiles[b->profile], tok, len, &ctx, &s,
                                  &err);
        if (b->code == SB_OK ? rc != 0
                             : rc != -1 || err.code != b->code) {
            fprintf(stderr, "bad input '%s': want %s, got %s (%s)\n", b->what,
                    sb_err_code_name(b->code),
                    rc == 0 ? "ok" : sb_err_code_name(err.code), err.msg);
            failures++;
        }
        if (rc != 0) {
            /* nothing partial, and the message never quotes the token */
            ck_assert_ptr_null(s.data);
            ck_assert_ptr_null(s.subject);
            ck_assert_str_eq(s.sid, "");
            ck_assert(len < 12 || strstr(err.msg, tok + len - 12) == NULL);
        }
        sb_session_reset(&s);
        free(tok);
    }
    ck_assert_uint_eq(failures, 0);
    for (i = 0; i < P_COUNT; i++)
        sb_profile_free(&profiles[i]);
    json_decref(vectors);
    json_decref(jv);
    json_decref(ev);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("codec_jwt");
    TCase *tc = tcase_create("jwt");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_vectors);
    tcase_add_test(tc, test_roundtrip_all_algs);
    tcase_add_test(tc, test_hs_rotation);
    tcase_add_test(tc, test_key_directory);
    tcase_add_test(tc, test_jwks);
    tcase_add_test(tc, test_config_errors);
    tcase_add_test(tc, test_config_key_files);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_bad_inputs);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
