/* test_codec_rails.c - the rails codec against the public vectors (real
 * Rails 6.1 cookies, re-encrypted byte for byte with their IVs), the
 * envelopes, KDF digests and secret rotation, sids, and a bad-input table
 * encrypted with an independent AES-256-GCM (OpenSSL directly). */
#include <check.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/rails_internal.h"
#include "codec_fixture.h"
#include "unit_run.h"

#define COOKIE "_myapp_session"
/* PBKDF2-HMAC-SHA1("s3cr3t-test-key", "authenticated encrypted cookie",
 * 1000, 32), as the vectors state */
#define KEY_HEX                                                            \
    "ed21a929c3802965ef8b7b0b555939664b41d5e7ee4aa51dc9519b4c46abd309"
#define NOW FIX_VERIFY_NOW

static const char *const secret[] = {FIX_SECRET, NULL};

/* Rails has no default cookie name (the purpose names it): the one every
 * profile here uses unless a test says otherwise. */
static const char *const kv_cookie[] = {"cookie_name", COOKIE, NULL};

/* MessageEncryptor#encrypt_and_sign by hand with the vectors' derived key
 * (or `key` when not NULL): b64(ct)--b64(iv)--b64(tag), the tag cut to
 * tag_len bytes.  Caller frees. */
static char *seal(const void *plain, size_t n, const unsigned char *key,
                  size_t tag_len)
{
    static const unsigned char iv[12] = {7, 7, 7, 7};
    unsigned char tag[16], *ct = malloc(n + 16), *k;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    char *tok = NULL;
    int len = 0, fin = 0;
    size_t kn;

    k = fix_unhex(KEY_HEX, &kn);
    ck_assert_uint_eq(kn, 32);
    ck_assert_int_eq(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL,
                                        key ? key : k, iv), 1);
    ck_assert_int_eq(EVP_EncryptUpdate(c, ct, &len, plain, (int)n), 1);
    ck_assert_int_eq(EVP_EncryptFinal_ex(c, ct + len, &fin), 1);
    ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag),
                     1);
    EVP_CIPHER_CTX_free(c);
    fix_append_b64(&tok, SB_B64_STD_PAD, ct, (size_t)(len + fin));
    fix_append(&tok, "--");
    fix_append_b64(&tok, SB_B64_STD_PAD, iv, 12);
    fix_append(&tok, "--");
    fix_append_b64(&tok, SB_B64_STD_PAD, tag, tag_len);
    free(ct);
    free(k);
    return tok;
}

/* Decrypts a bridge-made token independently; returns the plaintext
 * (caller frees). */
static char *open_token(const char *tok, const unsigned char *key)
{
    unsigned char ct[4096], iv[64], tag[64], *k;
    char *plain = malloc(4096);
    const char *d1 = strstr(tok, "--"), *d2 = strstr(d1 + 2, "--");
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    long nct, niv, ntag;
    int len = 0, fin = 0;
    size_t kn;

    k = fix_unhex(KEY_HEX, &kn);
    ck_assert_uint_eq(kn, 32);
    nct = sb_b64_decode(SB_B64_STD_PAD, tok, (size_t)(d1 - tok), ct);
    niv = sb_b64_decode(SB_B64_STD_PAD, d1 + 2, (size_t)(d2 - d1 - 2), iv);
    ntag = sb_b64_decode(SB_B64_STD_PAD, d2 + 2, strlen(d2 + 2), tag);
    ck_assert_int_eq(niv, 12);
    ck_assert_int_eq(ntag, 16);
    ck_assert_int_eq(EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL,
                                        key ? key : k, iv), 1);
    ck_assert_int_eq(EVP_DecryptUpdate(c, (unsigned char *)plain, &len, ct,
                                       (int)nct), 1);
    ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, tag),
                     1);
    ck_assert_int_eq(EVP_DecryptFinal_ex(c, (unsigned char *)plain + len,
                                         &fin), 1);
    EVP_CIPHER_CTX_free(c);
    free(k);
    plain[len + fin] = '\0';
    return plain;
}

/* The legacy envelope around session JSON, purpose and exp as given. */
static char *envelope(const char *session, const char *pur, const char *exp)
{
    char *b64 = NULL, *out = malloc(4096);

    fix_append_b64(&b64, SB_B64_STD_PAD, session, strlen(session));
    snprintf(out, 4096, "{\"_rails\":{\"message\":\"%s\",\"exp\":%s,"
             "\"pur\":%s}}", b64, exp, pur);
    free(b64);
    return out;
}

/* The profile a vector needs: its cookie name (inside the purpose). */
static void vector_profile(struct sb_profile *p, const json_t *v)
{
    const char *kv[] = {"cookie_name", fix_str(v, "cookie_name"), NULL};

    fix_profile(p, "rails", "rails", secret, kv);
}

/* Every rails vector at its verify_now.  Rails answers the wrong purpose
 * with a nil cookie (the vector's bad_signature); the bridge says
 * invalid_claim, the specific reason. */
START_TEST(test_vectors)
{
    json_t *vs = fix_vectors("rails"), *v;
    size_t i, checked = 0;

    json_array_foreach(vs, i, v) {
        const char *name = fix_str(v, "name");
        const char *token = fix_str(v, "token");
        const char *want = fix_str(v, "expect");
        struct sb_codec_ctx ctx = {.now = fix_vector_now(v)};
        struct sb_profile p;
        struct sb_session s;
        struct sb_err err = {0};
        int rc;

        vector_profile(&p, v);
        sb_session_init(&s);
        rc = sb_credential_decode(&p, token, strlen(token), &ctx, &s, &err);
        if (strcmp(want, "valid") == 0) {
            json_t *exp = json_deep_copy(json_object_get(v,
                                                         "expected_payload"));
            ck_assert_msg(rc == 0, "%s: %s", name, err.msg);
            ck_assert_str_eq(s.sid, fix_str(exp, "session_id"));
            json_object_del(exp, "session_id");
            ck_assert_msg(json_equal(s.data, exp), "%s: data", name);
            ck_assert_str_eq(s.subject, "42");
            ck_assert_int_eq(s.expires_at,
                             strcmp(name, "rails-plain") == 0 ? 0
                                                              : FIX_T0 + 3600);
            json_decref(exp);
        } else {
            enum sb_err_code code =
                strcmp(want, "expired") == 0 ? SB_ERR_EXPIRED
                : strcmp(name, "rails-wrong-purpose") == 0
                    ? SB_ERR_INVALID_CLAIM
                    : SB_ERR_BAD_SIGNATURE;
            ck_assert_msg(rc == -1 && err.code == code, "%s: got %s %s", name,
                          sb_err_code_name(err.code), err.msg);
            ck_assert_ptr_null(s.data);
        }
        sb_session_reset(&s);
        sb_profile_free(&p);
        checked++;
    }
    ck_assert_uint_eq(checked, 5);
    json_decref(vs);
}
END_TEST

/* The valid vectors re-encrypt byte for byte with their own IVs at T0 (the
 * envelope, the session JSON and exp come out as Rails wrote them); the
 * wire form and the Set-Cookie value match Rack's escaping. */
START_TEST(test_vectors_reencode)
{
    json_t *vs = fix_vectors("rails"), *v;
    size_t i, exact = 0;

    json_array_foreach(vs, i, v) {
        const char *token = fix_str(v, "token");
        const char *wire = fix_str(v, "token_on_wire");
        const char *hdr = fix_str(v, "set_cookie_header");
        struct sb_codec_ctx ctx = {.now = fix_vector_now(v)};
        unsigned char raw[64];
        struct sb_profile p;
        struct sb_session s;
        struct sb_err err = {0};
        char buf[SB_COOKIE_MAX + 1], *out = NULL, *cookie = NULL;
        const char *d2;
        long n;

        vector_profile(&p, v);
        n = sb_cookie_value_decode(&p, wire, strlen(wire), buf, sizeof(buf),
                                   &err);
        ck_assert_int_eq(n, (long)strlen(token));
        ck_assert_str_eq(buf, token);
        if (strcmp(fix_str(v, "expect"), "valid") != 0) {
            sb_profile_free(&p);
            continue;
        }
        sb_session_init(&s);
        ck_assert_int_eq(sb_credential_decode(&p, token, strlen(token), &ctx,
                                              &s, &err), 0);
        d2 = strstr(token, "--");
        n = sb_b64_decode(SB_B64_STD_PAD, d2 + 2,
                          (size_t)(strstr(d2 + 2, "--") - d2 - 2), raw);
        ck_assert_int_eq(n, 12);
        ck_assert_int_eq(sb_rails_encode_with_iv(&p, &s, FIX_T0, raw, &out,
                                                 &err), 0);
        ck_assert_str_eq(out, token);
        exact++;
        ck_assert_int_eq(sb_cookie_build(&p, out, FIX_T0, &cookie, &err), 0);
        ck_assert_msg(strncmp(cookie, hdr, strlen(COOKIE "=") + strlen(wire) +
                                               1) == 0, "%s", cookie);
        ck_assert_ptr_nonnull(strstr(cookie, "; HttpOnly; SameSite=Lax"));
        free(cookie);
        free(out);
        sb_session_reset(&s);
        sb_profile_free(&p);
    }
    ck_assert_uint_eq(exact, 2);
    json_decref(vs);
}
END_TEST

/* Bad input, each with its specific error. */
START_TEST(test_bad_input)
{
    static const char *const session =
        "{\"session_id\":\"0123456789abcdef0123456789abcdef\",\"user_id\":42}";
    static const char *const pur = "\"cookie." COOKIE "\"";
    struct sb_profile p, bare;
    const char *kv_none[] = {"cookie_name", COOKIE, "envelope", "none", NULL};
    char *env, *tok, *t2;
    unsigned char wrong[32] = {1};

    fix_profile(&p, "rails", "rails", secret, kv_cookie);
    fix_profile(&bare, "rails", "rails", secret, kv_none);

    env = envelope(session, pur, "null");
    tok = seal(env, strlen(env), NULL, 16);
    fix_expect(&p, tok, NOW, SB_OK, NULL, "independent encryptor");
    /* truncated GCM tag: Rails checks 16 bytes before OpenSSL does */
    free(tok);
    tok = seal(env, strlen(env), NULL, 12);
    fix_expect(&p, tok, NOW, SB_ERR_MALFORMED, "GCM tag is 12 bytes, not 16",
               "truncated tag");
    free(tok);
    /* tampered IV: the tag no longer verifies */
    tok = seal(env, strlen(env), NULL, 16);
    t2 = strdup(tok);
    {
        char *ivc = strstr(t2, "--") + 2;
        *ivc = *ivc == 'A' ? 'B' : 'A';
    }
    fix_expect(&p, t2, NOW, SB_ERR_BAD_SIGNATURE, "GCM tag mismatch",
               "tampered IV");
    free(t2);
    /* a tampered tag and ciphertext */
    t2 = strdup(tok);
    t2[strlen(t2) - 4] = t2[strlen(t2) - 4] == 'A' ? 'B' : 'A';
    fix_expect(&p, t2, NOW, SB_ERR_BAD_SIGNATURE, NULL, "tampered tag");
    t2[strlen(t2) - 4] = tok[strlen(tok) - 4];
    t2[0] = t2[0] == 'A' ? 'B' : 'A';
    fix_expect(&p, t2, NOW, SB_ERR_BAD_SIGNATURE, NULL, "tampered data");
    free(t2);
    /* layout */
    t2 = strdup(tok);
    *strrchr(t2, '-') = '\0';
    t2[strlen(t2) - 1] = '\0';
    fix_expect(&p, t2, NOW, SB_ERR_MALFORMED, "not data--iv--tag",
               "two parts");
    free(t2);
    t2 = NULL;
    fix_append(&t2, tok);
    fix_append(&t2, "--AAAA");
    fix_expect(&p, t2, NOW, SB_ERR_MALFORMED, "not data--iv--tag",
               "four parts");
    free(t2);
    fix_expect(&p, "YWJj--AAAA--AAAA", NOW, SB_ERR_MALFORMED,
               "IV is 3 bytes, not 12", "short IV");
    fix_expect(&p, "YW?j--AAAAAAAAAAAAAAAA--AAAAAAAAAAAAAAAAAAAAAA==", NOW,
               SB_ERR_MALFORMED, "data is not strict base64", "bad base64");
    fix_expect(&p, "--AAAAAAAAAAAAAAAA--AAAAAAAAAAAAAAAAAAAAAA==", NOW,
               SB_ERR_MALFORMED, "data is not strict base64", "empty data");
    fix_expect(&p, "YWJj--AAAAAAAAAAAAAAAA--AAAAAAAAAAAAAAAAAAAAAA", NOW,
               SB_ERR_MALFORMED, "tag is not strict base64", "unpadded tag");
    {
        char *big = malloc(4098);
        memset(big, 'A', 4097);
        big[4097] = '\0';
        fix_expect(&p, big, NOW, SB_ERR_TOO_LARGE, "4096", "4097 bytes");
        free(big);
    }
    free(tok);
    /* another secret_key_base */
    tok = seal(env, strlen(env), wrong, 16);
    fix_expect(&p, tok, NOW, SB_ERR_BAD_SIGNATURE, "any of 1 keys",
               "wrong key");
    free(tok);
    free(env);

    /* purpose: other cookie, null, missing, non-string */
    env = envelope(session, "\"cookie.other\"", "null");
    tok = seal(env, strlen(env), NULL, 16);
    fix_expect(&p, tok, NOW, SB_ERR_INVALID_CLAIM, "another purpose",
               "wrong purpose");
    free(tok);
    free(env);
    env = envelope(session, "\"cookie." COOKIE "x\"", "null");
    tok = seal(env, strlen(env), NULL, 16);
    fix_expect(&p, tok, NOW, SB_ERR_INVALID_CLAIM, "another purpose",
               "purpose with a suffix");
    free(tok);
    free(env);
    env = envelope(session, "null", "null");
    tok = seal(env, strlen(env), NULL, 16);
    fix_expect(&p, tok, NOW, SB_ERR_INVALID_CLAIM, "no purpose", "pur null");
    free(tok);
    free(env);
    /* expiry: ms precision, offsets, garbage */
    env = envelope(session, pur, "\"2026-11-01T01:00:00.500Z\"");
    tok = seal(env, strlen(env), NULL, 16);
    fix_expect(&p, tok, FIX_T0 + 3600, SB_OK, NULL, "exp .500 at .000");
    fix_expect(&p, tok, FIX_T0 + 3601, SB_ERR_EXPIRED, "expired",
               "exp passed");
    free(tok);
    free(env);
    env = envelope(session, pur, "\"2026-11-01T02:00:00+01:00\"");
    tok = seal(env, strlen(env), NULL, 16);
    fix_expect(&p, tok, FIX_T0 + 3599, SB_OK, NULL, "exp with offset");
    fix_expect(&p, tok, FIX_T0 + 3600, SB_ERR_EXPIRED, NULL,
               "exp with offset");
    free(tok);
    free(env);
    env = envelope(session, pur, "\"tomorrow\"");
    tok = seal(env, strlen(env), NULL, 16);
    fix_expect(&p, tok, NOW, SB_ERR_MALFORMED, "ISO-8601", "bad exp");
    free(tok);
    free(env);
    /* Marshal, inside the envelope and bare */
    env = envelope("\x04\x08{\x06I\"\x0fsession_id\x06:\x06" "ET", pur,
                   "null");
    tok = seal(env, strlen(env), NULL, 16);
    fix_expect(&p, tok, NOW, SB_ERR_UNSUPPORTED, "Ruby Marshal", "Marshal");
    free(tok);
    free(env);
    tok = seal("\x04\x08{\x00", 4, NULL, 16);
    fix_expect(&p, tok, NOW, SB_ERR_UNSUPPORTED, "Ruby Marshal",
               "bare Marshal");
    fix_expect(&bare, tok, NOW, SB_ERR_UNSUPPORTED, "Ruby Marshal",
               "bare Marshal, envelope none");
    free(tok);
    /* no envelope: refused unless envelope = none */
    tok = seal(session, strlen(session), NULL, 16);
    fix_expect(&p, tok, NOW, SB_ERR_INVALID_CLAIM, "no _rails envelope",
               "bare JSON");
    fix_expect(&bare, tok, NOW, SB_OK, NULL, "bare JSON, envelope none");
    free(tok);
    /* session_id and _sb_sid that are no sids still leave the data (the
     * encoder writes both from the sid; found by fuzz_gorilla_rails) */
    tok = seal("{\"session_id\":5,\"_sb_sid\":42,\"user_id\":1}", 41,
               NULL, 16);
    {
        struct sb_codec_ctx ctx = {.now = NOW};
        struct sb_session s;
        struct sb_err err = {0};
        json_t *want = fix_parse("{\"user_id\":1}");
        sb_session_init(&s);
        ck_assert_int_eq(sb_credential_decode(&bare, tok, strlen(tok), &ctx,
                                              &s, &err), 0);
        ck_assert(json_equal(s.data, want));
        ck_assert_uint_eq(strlen(s.sid), 32); /* derived by codec.c */
        json_decref(want);
        sb_session_reset(&s);
    }
    free(tok);
    /* plaintext that is not JSON, a session that is not an object, an
     * envelope with neither message nor data */
    tok = seal("not json", 8, NULL, 16);
    fix_expect(&p, tok, NOW, SB_ERR_MALFORMED, NULL, "not JSON");
    free(tok);
    env = envelope("[1,2]", pur, "null");
    tok = seal(env, strlen(env), NULL, 16);
    fix_expect(&p, tok, NOW, SB_ERR_MALFORMED, "not a JSON object", "array");
    free(tok);
    free(env);
    env = strdup("{\"_rails\":{\"exp\":null,\"pur\":\"cookie." COOKIE "\"}}");
    tok = seal(env, strlen(env), NULL, 16);
    fix_expect(&p, tok, NOW, SB_ERR_MALFORMED, "neither message nor data",
               "empty envelope");
    free(tok);
    free(env);
    env = strdup("{\"_rails\":{\"message\":\"!!!\",\"pur\":\"cookie." COOKIE
                 "\"}}");
    tok = seal(env, strlen(env), NULL, 16);
    fix_expect(&p, tok, NOW, SB_ERR_MALFORMED, "message is not strict base64",
               "bad message");
    free(tok);
    free(env);
    sb_profile_free(&p);
    sb_profile_free(&bare);
}
END_TEST

/* Rotation: secret_key_base lines, first encrypts, all decrypt; KDF
 * digests: sha256 for Rails 7.0, a list while rotating from sha1. */
START_TEST(test_rotation_and_kdf)
{
    static const char *const rotated[] = {"new-secret-key-base", FIX_SECRET,
                                          NULL};
    static const char *const only_new[] = {"new-secret-key-base", NULL};
    const char *kv256[] = {"cookie_name", COOKIE, "kdf_digest", "sha256",
                           NULL};
    const char *kv_both[] = {"cookie_name", COOKIE, "kdf_digest",
                             "sha256, sha1", NULL};
    json_t *vs = fix_vectors("rails"), *v = json_array_get(vs, 0);
    const char *token = fix_str(v, "token");
    struct sb_profile p, fresh, p256, both;
    struct sb_codec_ctx ctx = {.now = fix_vector_now(v)};
    struct sb_session s;
    struct sb_err err = {0};
    char *out = NULL;

    ck_assert_str_eq(fix_str(v, "name"), "rails-plain");
    fix_profile(&p, "rails", "rails", rotated, kv_cookie);
    fix_profile(&fresh, "rails", "rails", only_new, kv_cookie);
    fix_profile(&p256, "rails", "rails", secret, kv256);
    fix_profile(&both, "rails", "rails", secret, kv_both);
    fix_expect(&p, token, ctx.now, SB_OK, NULL, "old secret_key_base");
    fix_expect(&fresh, token, ctx.now, SB_ERR_BAD_SIGNATURE, NULL, "dropped");
    fix_expect(&p256, token, ctx.now, SB_ERR_BAD_SIGNATURE, NULL,
               "sha256 KDF");
    fix_expect(&both, token, ctx.now, SB_OK, NULL, "sha256 then sha1");
    sb_session_init(&s);
    ck_assert_int_eq(sb_credential_decode(&p, token, strlen(token), &ctx, &s,
                                          &err), 0);
    ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &out, &err), 0);
    fix_expect(&fresh, out, ctx.now, SB_OK, NULL, "re-encrypted with new");
    free(out);
    ck_assert_int_eq(sb_credential_encode(&both, &s, &ctx, &out, &err), 0);
    fix_expect(&p256, out, ctx.now, SB_OK, NULL, "written with sha256");
    free(out);
    sb_session_reset(&s);
    sb_profile_free(&p);
    sb_profile_free(&fresh);
    sb_profile_free(&p256);
    sb_profile_free(&both);
    json_decref(vs);
}
END_TEST

/* Envelopes on the write side: 6.x message with exp from max_age or the
 * session, 7.1 data (no exp key when none), none (bare JSON). */
START_TEST(test_envelopes)
{
    const char *kv_msg[] = {"cookie_name", COOKIE, "max_age", "1209600", NULL};
    const char *kv_data[] = {"cookie_name", COOKIE, "envelope", "data", NULL};
    const char *kv_none[] = {"cookie_name", COOKIE, "envelope", "none", NULL};
    static const unsigned char iv[12] = {1};
    struct sb_profile msg, data, none;
    struct sb_session s;
    struct sb_err err = {0};
    char *out = NULL, *plain;

    fix_profile(&msg, "rails", "rails", secret, kv_msg);
    fix_profile(&data, "rails", "rails", secret, kv_data);
    fix_profile(&none, "rails", "rails", secret, kv_none);
    ck_assert_int_eq(msg.cookie.max_age, 1209600);
    ck_assert_int_eq(data.cookie.max_age, -1);
    sb_session_init(&s);
    strcpy(s.sid, "0123456789abcdef0123456789abcdef");
    s.data = fix_parse("{\"user_id\":42,\"name\":\"<Zo\\u00eb>\",\"r\":1.5}");
    /* message: exp = now + max_age */
    ck_assert_int_eq(sb_rails_encode_with_iv(&msg, &s, FIX_T0, iv, &out, &err),
                     0);
    plain = open_token(out, NULL);
    ck_assert_str_eq(plain,
                     "{\"_rails\":{\"message\":\""
                     "eyJzZXNzaW9uX2lkIjoiMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3"
                     "ODlhYmNkZWYiLCJ1c2VyX2lkIjo0MiwibmFtZSI6Ilx1MDAzY1pv"
                     "w6tcdTAwM2UiLCJyIjoxLjV9"
                     "\",\"exp\":"
                     "\"2026-11-15T00:00:00.000Z\",\"pur\":\"cookie."
                     COOKIE "\"}}");
    free(plain);
    fix_expect(&msg, out, FIX_T0 + 1209599, SB_OK, NULL, "before exp");
    fix_expect(&msg, out, FIX_T0 + 1209600, SB_ERR_EXPIRED, NULL, "at exp");
    free(out);
    /* data (7.1): no exp without one; with the session's expires_at */
    ck_assert_int_eq(sb_rails_encode_with_iv(&data, &s, FIX_T0, iv, &out,
                                             &err), 0);
    plain = open_token(out, NULL);
    ck_assert_str_eq(plain,
                     "{\"_rails\":{\"data\":{\"session_id\":\"0123456789abcdef"
                     "0123456789abcdef\",\"user_id\":42,\"name\":"
                     "\"\\u003cZo\xc3\xab\\u003e\",\"r\":1.5},"
                     "\"pur\":\"cookie." COOKIE "\"}}");
    free(plain);
    fix_expect(&data, out, NOW, SB_OK, NULL, "data envelope");
    fix_expect(&msg, out, NOW, SB_OK, NULL, "data envelope, message profile");
    free(out);
    s.expires_at = FIX_T0 + 60;
    ck_assert_int_eq(sb_rails_encode_with_iv(&data, &s, FIX_T0, iv, &out,
                                             &err), 0);
    plain = open_token(out, NULL);
    ck_assert_ptr_nonnull(strstr(plain, ",\"exp\":\"2026-11-01T00:01:00.000Z"
                                        "\",\"pur\":"));
    free(plain);
    fix_expect(&data, out, FIX_T0 + 60, SB_ERR_EXPIRED, NULL, "data exp");
    free(out);
    /* none: the bare session JSON */
    ck_assert_int_eq(sb_rails_encode_with_iv(&none, &s, FIX_T0, iv, &out,
                                             &err), 0);
    plain = open_token(out, NULL);
    ck_assert_str_eq(plain, "{\"session_id\":\"0123456789abcdef0123456789abcdef"
                            "\",\"user_id\":42,\"name\":\"\\u003cZo\xc3\xab"
                            "\\u003e\",\"r\":1.5}");
    free(plain);
    fix_expect(&none, out, NOW, SB_OK, NULL, "none");
    fix_expect(&msg, out, NOW, SB_ERR_INVALID_CLAIM, NULL, "none, message");
    free(out);
    sb_session_reset(&s);
    sb_profile_free(&msg);
    sb_profile_free(&data);
    sb_profile_free(&none);
}
END_TEST

/* Sids: a 32-hex sid is Rails' session_id; another canonical sid maps to a
 * stable derived session_id and rides in _sb_sid, coming back as the sid;
 * no sid gets a fresh random session_id; a too-large session is refused. */
START_TEST(test_sids)
{
    struct sb_profile p;
    struct sb_codec_ctx ctx = {.now = NOW};
    struct sb_session s, back;
    struct sb_err err = {0};
    char *a = NULL, *b = NULL, *plain, *big;
    json_t *inner, *env;

    fix_profile(&p, "rails", "rails", secret, kv_cookie);
    sb_session_init(&s);
    s.data = fix_parse("{\"user_id\":7,\"session_id\":\"ignored\"}");
    strcpy(s.sid, "Xq3RfZ2vN8kLpW4tY7uB1cD5eG9hJ0mA");
    ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &a, &err), 0);
    ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &b, &err), 0);
    ck_assert_str_ne(a, b); /* random IVs */
    plain = open_token(a, NULL);
    env = fix_parse(plain);
    {
        const char *m = fix_str(json_object_get(env, "_rails"), "message");
        unsigned char raw[1024];
        long n = sb_b64_decode(SB_B64_STD_PAD, m, strlen(m), raw);
        ck_assert_int_gt(n, 0);
        inner = json_loadb((char *)raw, (size_t)n, 0, NULL);
    }
    ck_assert_uint_eq(strlen(fix_str(inner, "session_id")), 32);
    ck_assert_str_ne(fix_str(inner, "session_id"), "ignored");
    ck_assert_str_eq(fix_str(inner, "_sb_sid"), s.sid);
    sb_session_init(&back);
    ck_assert_int_eq(sb_credential_decode(&p, b, strlen(b), &ctx, &back, &err),
                     0);
    ck_assert_str_eq(back.sid, s.sid);
    ck_assert_ptr_null(json_object_get(back.data, "_sb_sid"));
    ck_assert_ptr_null(json_object_get(back.data, "session_id"));
    ck_assert_str_eq(back.subject, "7");
    sb_session_reset(&back);
    free(plain);
    json_decref(env);
    json_decref(inner);
    free(a);
    free(b);
    /* no sid: a random 32-hex session_id, which comes back as the sid */
    s.sid[0] = '\0';
    ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &a, &err), 0);
    sb_session_init(&back);
    ck_assert_int_eq(sb_credential_decode(&p, a, strlen(a), &ctx, &back, &err),
                     0);
    ck_assert_uint_eq(strlen(back.sid), 32);
    ck_assert_uint_eq(strspn(back.sid, "0123456789abcdef"), 32);
    sb_session_reset(&back);
    free(a);
    /* too large for a cookie */
    big = malloc(3001);
    memset(big, 'z', 3000);
    big[3000] = '\0';
    json_object_set_new(s.data, "big", json_string(big));
    ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &a, &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_TOO_LARGE);
    free(big);
    sb_session_reset(&s);
    sb_profile_free(&p);
}
END_TEST

/* Two encodes of one canonical sid carry the same derived session_id. */
START_TEST(test_sid_stable)
{
    static const unsigned char iv[12] = {3};
    struct sb_profile p;
    struct sb_session s;
    struct sb_err err = {0};
    char *a = NULL, *b = NULL;

    fix_profile(&p, "rails", "rails", secret, kv_cookie);
    sb_session_init(&s);
    s.data = json_object();
    strcpy(s.sid, "some-canonical-sid");
    ck_assert_int_eq(sb_rails_encode_with_iv(&p, &s, NOW, iv, &a, &err), 0);
    ck_assert_int_eq(sb_rails_encode_with_iv(&p, &s, NOW, iv, &b, &err), 0);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    sb_session_reset(&s);
    sb_profile_free(&p);
}
END_TEST

START_TEST(test_config_errors)
{
    static const struct {
        const char *kv[3];
        const char *msg;
    } cases[] = {
        {{"colour", "red", NULL}, "unknown key 'colour' for format rails"},
        {{"kdf_digest", "md5", NULL}, "kdf_digest 'md5'"},
        {{"kdf_digest", "", NULL}, "kdf_digest is empty"},
        {{"envelope", "v2", NULL}, "envelope 'v2'"},
        {{"secret_key_base_file", "/nonexistent/sb", NULL}, "cannot read"},
    };
    struct sb_profile p;
    struct sb_err err;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sb_err_clear(&err);
        ck_assert_int_eq(fix_profile_v(&p, "rails", "rails", secret,
                                       cases[i].kv, &err), -1);
        ck_assert_msg(strstr(err.msg, cases[i].msg) != NULL, "%s", err.msg);
    }
    ck_assert_int_eq(fix_profile_v(&p, "rails", "rails", NULL, kv_cookie,
                                   &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "needs secret_key_base_file"));
    /* secret_key_base_file: first line encrypts */
    {
        char path[] = "/tmp/sb-rails-test-XXXXXX";
        int fd = mkstemp(path);
        const char *kv[] = {"cookie_name", COOKIE, "secret_key_base_file",
                            path, NULL};
        json_t *vs = fix_vectors("rails");
        const json_t *v = json_array_get(vs, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "other\n" FIX_SECRET "\n", 22), 22);
        close(fd);
        fix_profile(&p, "rails", "rails", NULL, kv);
        fix_expect(&p, fix_str(v, "token"), fix_vector_now(v), SB_OK, NULL,
                   "from file");
        sb_profile_free(&p);
        unlink(path);
        json_decref(vs);
    }
}
END_TEST

static Suite *rails_suite(void)
{
    Suite *s = suite_create("codec_rails");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_vectors);
    tcase_add_test(tc, test_vectors_reencode);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_rotation_and_kdf);
    tcase_add_test(tc, test_envelopes);
    tcase_add_test(tc, test_sids);
    tcase_add_test(tc, test_sid_stable);
    tcase_add_test(tc, test_config_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(rails_suite());
}
