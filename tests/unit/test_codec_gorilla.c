/* test_codec_gorilla.c - the gorilla codec against the public vectors
 * (real securecookie / CookieStore output, byte-exact re-encoding), key
 * pair rotation and key files, go_types, and a bad-input table signed with
 * an independent securecookie signer (OpenSSL directly). */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/gorilla_internal.h"
#include "codec_fixture.h"
#include "sessionbridge/jsonutil.h"
#include "unit_run.h"

#define BLOCK_KEY "0123456789abcdef0123456789abcdef"
#define NOW FIX_VERIFY_NOW

/* Writes text into a new 0600 temp file; returns its path (free it). */
static char *temp_file(const char *text)
{
    char *path = strdup("/tmp/sb-gorilla-test-XXXXXX");
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    return path;
}

/* The vectors' typed payload ({"k":{"type":T,"value":V}}) in the codec's
 * JSON form (gob.h): int, string, bool and float64 plain, others tagged. */
static json_t *canonical_payload(const json_t *expected, bool typed)
{
    json_t *out = json_object(), *ev;
    const char *key;
    char tag[40];

    json_object_foreach((json_t *)expected, key, ev) {
        const char *type = fix_str(ev, "type");
        json_t *val = json_object_get(ev, "value");
        if (!typed)
            json_object_set(out, key, ev);
        else if (!strcmp(type, "float64"))
            json_object_set_new(out, key, json_real(json_number_value(val)));
        else if (!strcmp(type, "int") || !strcmp(type, "string") ||
                 !strcmp(type, "bool"))
            json_object_set(out, key, val);
        else {
            snprintf(tag, sizeof(tag), " %s", type);
            json_object_set_new(out, key, json_pack("{s:O}", tag, val));
        }
    }
    return out;
}

/* securecookie.Encode by hand: b64url(ts|b64url(val)|HMAC-SHA256(key,
 * name|ts|b64url(val))), with ts as given (a bad one too) and key_len
 * bytes of key.  Caller frees. */
static char *go_sign_ts(const char *name, const char *ts, const void *val,
                        size_t n, const void *key, size_t key_len)
{
    char *v = NULL, *msg = NULL, *tok = NULL;
    unsigned char mac[EVP_MAX_MD_SIZE], *body;
    unsigned int mlen = 0;
    size_t blen;

    fix_append_b64(&v, SB_B64_URL_PAD, val, n);
    fix_append(&msg, name);
    fix_append(&msg, "|");
    fix_append(&msg, ts);
    fix_append(&msg, "|");
    fix_append(&msg, v);
    HMAC(EVP_sha256(), key, (int)key_len, (unsigned char *)msg, strlen(msg),
         mac, &mlen);
    blen = strlen(msg) - strlen(name) - 1;
    body = malloc(blen + 1 + mlen);
    memcpy(body, msg + strlen(name) + 1, blen);
    body[blen] = '|';
    memcpy(body + blen + 1, mac, mlen);
    fix_append_b64(&tok, SB_B64_URL_PAD, body, blen + 1 + mlen);
    free(body);
    free(msg);
    free(v);
    return tok;
}

/* The same at a numeric ts with a text key: what every good cookie and
 * most bad ones here are. */
static char *go_sign(const char *name, long long ts, const void *val,
                     size_t n, const char *key)
{
    char t[32];

    snprintf(t, sizeof(t), "%lld", ts);
    return go_sign_ts(name, t, val, n, key, strlen(key));
}

/* IV || AES-256-CTR(key, IV, plain), made with OpenSSL directly. */
static unsigned char *ctr_seal(const unsigned char *iv, const void *plain,
                               size_t n, size_t *out_len)
{
    unsigned char *out = malloc(16 + n);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0;

    memcpy(out, iv, 16);
    ck_assert_int_eq(EVP_EncryptInit_ex(c, EVP_aes_256_ctr(), NULL,
                                        (unsigned char *)BLOCK_KEY, iv), 1);
    ck_assert_int_eq(EVP_EncryptUpdate(c, out + 16, &len, plain, (int)n), 1);
    EVP_CIPHER_CTX_free(c);
    *out_len = 16 + n;
    return out;
}

static const char *const secret[] = {FIX_SECRET, NULL};
/* gorilla has no default cookie name (it is inside the MAC): the one every
 * profile here uses unless a test says otherwise. */
static const char *const kv_session[] = {"cookie_name", "session", NULL};

/* The profile a vector needs: its serializer, block key and cookie name. */
static void vector_profile(struct sb_profile *p, const json_t *v,
                           const char *block_file)
{
    const json_t *k = json_object_get(v, "secret_or_key_params");
    const char *kv[] = {"cookie_name", fix_str(v, "cookie_name"),
                        "serializer", fix_str(k, "serializer"),
                        "block_keys_file", block_file, NULL};

    if (json_object_get(k, "block_key_utf8") == NULL)
        kv[4] = NULL;
    fix_profile(p, "go", "gorilla", secret, kv);
}

/* Every gorilla vector at its verify_now: values in the typed JSON form,
 * timestamps, subject; expired, tampered and wrong-name as Go judged. */
START_TEST(test_vectors)
{
    json_t *vs = fix_vectors("gorilla"), *v;
    char *block = temp_file(BLOCK_KEY "\n");
    size_t i, checked = 0;

    json_array_foreach(vs, i, v) {
        const char *name = fix_str(v, "name");
        const char *token = fix_str(v, "token");
        const char *want = fix_str(v, "expect");
        const char *ser = fix_str(json_object_get(v, "secret_or_key_params"),
                                  "serializer");
        struct sb_codec_ctx ctx = {.now = fix_vector_now(v)};
        struct sb_profile p;
        struct sb_session s;
        struct sb_err err = {0};
        int rc;

        vector_profile(&p, v, block);
        sb_session_init(&s);
        rc = sb_credential_decode(&p, token, strlen(token), &ctx, &s, &err);
        if (strcmp(want, "valid") == 0) {
            json_t *exp = canonical_payload(json_object_get(v,
                                                            "expected_payload"),
                                            strcmp(ser, "gob") == 0);
            ck_assert_msg(rc == 0, "%s: %s", name, err.msg);
            ck_assert_msg(json_equal(s.data, exp), "%s: data", name);
            ck_assert_str_eq(s.subject, "42");
            ck_assert_int_eq(s.issued_at,
                             json_integer_value(json_object_get(v,
                                                                "timestamp")));
            ck_assert_int_eq(s.expires_at, s.issued_at + 2592000);
            ck_assert_str_eq(s.profile, "go");
            ck_assert_uint_eq(strlen(s.sid), 32);
            json_decref(exp);
        } else {
            enum sb_err_code code = strcmp(want, "expired") == 0
                                        ? SB_ERR_EXPIRED
                                        : SB_ERR_BAD_SIGNATURE;
            ck_assert_msg(rc == -1 && err.code == code, "%s: got %s", name,
                          sb_err_code_name(err.code));
            ck_assert_ptr_null(s.data);
        }
        sb_session_reset(&s);
        sb_profile_free(&p);
        checked++;
    }
    ck_assert_uint_eq(checked, 9);
    unlink(block);
    free(block);
    json_decref(vs);
}
END_TEST

/* The bridge writes what securecookie writes: every vector whose Go map
 * happened to iterate in sorted order (and gorilla-fixed-t0, made so)
 * re-encodes byte for byte at its timestamp, the encrypted one with its
 * IV; gorilla-types (random order) re-encodes to the same values. */
START_TEST(test_vectors_reencode)
{
    json_t *vs = fix_vectors("gorilla"), *v;
    char *block = temp_file(BLOCK_KEY "\n");
    size_t i, exact = 0;

    json_array_foreach(vs, i, v) {
        const char *name = fix_str(v, "name");
        const char *token = fix_str(v, "token");
        const char *ivhex = fix_str(v, "iv_hex");
        struct sb_codec_ctx ctx = {.now = fix_vector_now(v)};
        unsigned char iv[16] = {0}, *ivb = NULL;
        struct sb_profile p;
        struct sb_session s, back;
        struct sb_err err = {0};
        char *out = NULL;
        size_t n;

        if (strcmp(fix_str(v, "expect"), "valid") != 0)
            continue;
        vector_profile(&p, v, block);
        sb_session_init(&s);
        ck_assert_int_eq(sb_credential_decode(&p, token, strlen(token), &ctx,
                                              &s, &err), 0);
        if (ivhex != NULL) {
            ivb = fix_unhex(ivhex, &n);
            ck_assert_uint_eq(n, 16);
            memcpy(iv, ivb, 16);
            free(ivb);
        }
        ck_assert_int_eq(sb_gorilla_encode_with_iv(&p, s.data, s.issued_at,
                                                   iv, &out, &err), 0);
        if (strcmp(name, "gorilla-types") != 0) {
            ck_assert_msg(strcmp(out, token) == 0, "%s: %s", name, out);
            exact++;
        }
        sb_session_init(&back);
        ck_assert_int_eq(sb_credential_decode(&p, out, strlen(out), &ctx,
                                              &back, &err), 0);
        ck_assert(json_equal(back.data, s.data));
        free(out);
        out = NULL;
        /* the codec's own encode: same bytes when no IV is involved (and
         * no canonical sid to carry in _sb_sid) */
        if (ivhex == NULL) {
            s.sid[0] = '\0';
            ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &out, &err),
                             0);
            if (strcmp(name, "gorilla-types") != 0)
                ck_assert_str_eq(out, token);
            free(out);
        }
        sb_session_reset(&back);
        sb_session_reset(&s);
        sb_profile_free(&p);
    }
    ck_assert_uint_eq(exact, 5);
    unlink(block);
    free(block);
    json_decref(vs);
}
END_TEST

/* gorilla-cookiestore's Set-Cookie: the value, Path=/, Max-Age=2592000 and
 * the same Expires as sessions.CookieStore wrote. */
START_TEST(test_cookie_header)
{
    json_t *vs = fix_vectors("gorilla"), *v;
    size_t i;

    json_array_foreach(vs, i, v) {
        const char *hdr = fix_str(v, "set_cookie_header");
        struct sb_profile p;
        struct sb_err err = {0};
        char *cookie = NULL;
        int64_t ts;

        if (hdr == NULL)
            continue;
        ts = json_integer_value(json_object_get(v, "timestamp"));
        fix_profile(&p, "go", "gorilla", secret, kv_session);
        ck_assert_int_eq(p.cookie.max_age, 2592000);
        ck_assert_int_eq(sb_cookie_build(&p, fix_str(v, "token"), ts,
                                         &cookie, &err), 0);
        ck_assert_msg(strncmp(cookie, hdr, strlen("session=") +
                                               strlen(fix_str(v, "token")) +
                                               strlen("; Path=/")) == 0,
                      "%s", cookie);
        ck_assert_ptr_nonnull(strstr(cookie, "; Max-Age=2592000"));
        ck_assert_ptr_nonnull(strstr(cookie,
                                     "Expires=Tue, 22 Dec 2026 10:30:16 GMT"));
        ck_assert_ptr_nonnull(strstr(hdr,
                                     "Expires=Tue, 22 Dec 2026 10:30:16 GMT"));
        free(cookie);
        sb_profile_free(&p);
    }
    json_decref(vs);
}
END_TEST

/* Key files: hash key N pairs with block key N ("-" = none); the first
 * pair encodes, every pair decodes, including two pairs sharing a hash
 * key with different block keys (DecodeMulti tries the next); hex: and
 * base64: lines give binary keys. */
START_TEST(test_key_pairs)
{
    static const unsigned char iv[16] = {1, 2, 3};
    char *hash = temp_file("new-hash-key\n" FIX_SECRET "\nhex:00ff10\n");
    char *blocks = temp_file("base64:q83vASNFZ4mrze8BI0VniQ==\n" BLOCK_KEY
                             "\n-\n");
    char *old_hash = temp_file(FIX_SECRET "\n");
    char *old_block = temp_file(BLOCK_KEY "\n");
    char *shared_hash = temp_file(FIX_SECRET "\n" FIX_SECRET "\n");
    char *shared_block = temp_file("hex:00112233445566778899aabbccddeeff\n"
                                   BLOCK_KEY "\n");
    const char *kv[] = {"cookie_name", "session", "hash_keys_file", hash,
                        "block_keys_file", blocks, NULL};
    const char *kv_old[] = {"cookie_name", "session", "hash_keys_file",
                            old_hash, "block_keys_file", old_block, NULL};
    const char *kv_shared[] = {"cookie_name", "session", "hash_keys_file",
                               shared_hash, "block_keys_file", shared_block,
                               NULL};
    const char *kv_bin[] = {"cookie_name", "session", "hash_keys_file", hash,
                            NULL};
    struct sb_profile p, old, shared, bin;
    json_t *data = fix_parse("{\"user_id\":7}");
    struct sb_err err = {0};
    unsigned char key3[3] = {0x00, 0xff, 0x10};
    char *tok = NULL, ts[32];
    size_t n;
    unsigned char *gob;

    fix_profile(&p, "go", "gorilla", NULL, kv);
    fix_profile(&old, "go", "gorilla", NULL, kv_old);
    fix_profile(&shared, "go", "gorilla", NULL, kv_shared);
    /* the old pair's cookie decodes with the rotated profile */
    ck_assert_int_eq(sb_gorilla_encode_with_iv(&old, data, NOW, iv, &tok,
                                               &err), 0);
    fix_expect(&p, tok, NOW, SB_OK, NULL, "old pair");
    /* and with a profile whose first pair shares the hash key but has
     * another block key */
    fix_expect(&shared, tok, NOW, SB_OK, NULL, "shared hash key");
    free(tok);
    /* the new pair encodes; the old profile cannot read it */
    ck_assert_int_eq(sb_gorilla_encode_with_iv(&p, data, NOW, iv, &tok, &err),
                     0);
    fix_expect(&p, tok, NOW, SB_OK, NULL, "new pair");
    fix_expect(&old, tok, NOW, SB_ERR_BAD_SIGNATURE, "any of 1 hash keys",
               "new pair, old profile");
    free(tok);
    /* the third pair: a binary hash key from hex:, no block key */
    gob = fix_unhex("0eff81040102ff82000110011000001eff82000106737472696e670c"
                    "090007757365725f696403696e740402000e", &n);
    snprintf(ts, sizeof(ts), "%lld", (long long)NOW);
    tok = go_sign_ts("session", ts, gob, n, key3, sizeof(key3));
    fix_expect(&p, tok, NOW, SB_OK, NULL, "hex: hash key, no block key");
    fix_profile(&bin, "go", "gorilla", NULL, kv_bin);
    fix_expect(&bin, tok, NOW, SB_OK, NULL, "hex: hash key alone");
    free(tok);
    free(gob);
    sb_profile_free(&bin);
    sb_profile_free(&p);
    sb_profile_free(&old);
    sb_profile_free(&shared);
    json_decref(data);
    unlink(hash);
    unlink(blocks);
    unlink(old_hash);
    unlink(old_block);
    unlink(shared_hash);
    unlink(shared_block);
    free(hash);
    free(blocks);
    free(old_hash);
    free(old_block);
    free(shared_hash);
    free(shared_block);
}
END_TEST

/* Config errors name the problem. */
START_TEST(test_config_errors)
{
    char *hash = temp_file(FIX_SECRET "\n" FIX_SECRET "\n");
    char *short_block = temp_file("0123456789\n-\n");
    char *one_block = temp_file(BLOCK_KEY "\n");
    static const struct {
        const char *kv[5];
        const char *msg;
    } cases[] = {
        {{"colour", "blue", NULL}, "unknown key 'colour' for format gorilla"},
        {{"min_age", "-1", NULL}, "min_age"},
        {{"go_types", "user_id", NULL}, "field:type"},
        {{"go_types", "user_id:time.Time", NULL}, "'time.Time' is not"},
        {{"hash_keys_file", "/nonexistent/sb", NULL}, "cannot read"},
        {{"serializer", "nop", NULL}, "serializer 'nop'"},
        {{"digest", "md5", NULL}, "md5"},
    };
    const char *kv_short[] = {"hash_keys_file", hash, "block_keys_file",
                              short_block, NULL};
    const char *kv_count[] = {"hash_keys_file", hash, "block_keys_file",
                              one_block, NULL};
    struct sb_profile p;
    struct sb_err err;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sb_err_clear(&err);
        ck_assert_int_eq(fix_profile_v(&p, "go", "gorilla", secret,
                                       cases[i].kv, &err), -1);
        ck_assert_msg(err.code == SB_ERR_CONFIG || err.code == SB_ERR_IO,
                      "%s", err.msg);
        ck_assert_msg(strstr(err.msg, cases[i].msg) != NULL, "%s", err.msg);
    }
    ck_assert_int_eq(fix_profile_v(&p, "go", "gorilla", NULL, NULL, &err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "needs hash_keys_file"));
    ck_assert_int_eq(fix_profile_v(&p, "go", "gorilla", NULL, kv_short, &err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "block key 1 is 10 bytes"));
    ck_assert_int_eq(fix_profile_v(&p, "go", "gorilla", NULL, kv_count, &err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "has 1 keys and the hash keys 2"));
    unlink(hash);
    unlink(short_block);
    unlink(one_block);
    free(hash);
    free(short_block);
    free(one_block);
}
END_TEST

/* Bad input, each with its specific error. */
START_TEST(test_bad_input)
{
    static const unsigned char iv[16] = {9, 9, 9};
    /* {"user_id": int 42} as Go writes it */
    static const char *const good_gob =
        "0eff81040102ff82000110011000001eff82000106737472696e670c090007757365"
        "725f696403696e7404020054";
    /* gob faults, each behind a valid MAC */
    static const struct {
        const char *gob_hex;
        enum sb_err_code code;
        const char *msg, *label;
    } gob_faults[] = {
        /* the value's type id 70 is defined nowhere */
        {"0eff81040102ff82000110011000001eff8c000106737472696e670c0900077573"
         "65725f696403696e7404020054",
         SB_ERR_MALFORMED, "unknown type id 70", "unknown type id"},
        /* a string length (0x7f) past the end of its message */
        {"0eff81040102ff82000110011000001eff82000106737472696e670c09007f7573"
         "65725f696403696e7404020054",
         SB_ERR_MALFORMED, "points past the end", "length past the end"},
        /* time.Time in the map */
        {"0eff81040102ff820001100110000025ff82000106737472696e670c0900077573"
         "65725f69640974696d652e54696d65ff8a020054",
         SB_ERR_UNSUPPORTED, "Go type time.Time", "unsupported Go type"},
    };
    char *block = temp_file(BLOCK_KEY "\n");
    const char *kv_block[] = {"cookie_name", "session", "block_keys_file",
                              block, NULL};
    const char *kv_json[] = {"cookie_name", "session", "serializer", "json",
                             NULL};
    const char *kv_min[] = {"cookie_name", "session", "min_age", "60", NULL};
    const char *kv_other[] = {"cookie_name", "other", NULL};
    struct sb_profile p, enc, js, minp;
    unsigned char *b, *sealed;
    char *tok, *long_tok;
    size_t n, sn, i;

    fix_profile(&p, "go", "gorilla", secret, kv_session);
    fix_profile(&enc, "go", "gorilla", secret, kv_block);
    fix_profile(&js, "go", "gorilla", secret, kv_json);
    fix_profile(&minp, "go", "gorilla", secret, kv_min);

    b = fix_unhex(good_gob, &n);
    tok = go_sign("session", NOW, b, n, FIX_SECRET);
    fix_expect(&p, tok, NOW, SB_OK, NULL, "independent signer");
    /* future timestamps pass with min_age 0 (securecookie's default) */
    fix_expect(&p, tok, NOW - 86400, SB_OK, NULL, "future timestamp");
    /* min_age = 60 rejects a cookie 10 s old */
    fix_expect(&minp, tok, NOW + 10, SB_ERR_NOT_YET_VALID, "too new",
               "min_age");
    fix_expect(&minp, tok, NOW + 61, SB_OK, NULL, "past min_age");
    /* max_age: 30 days is the boundary, one second more is expired */
    fix_expect(&p, tok, NOW + 2592000, SB_OK, NULL, "at max_age");
    fix_expect(&p, tok, NOW + 2592001, SB_ERR_EXPIRED, "expired",
               "past max_age");
    /* the cookie name is inside the MAC */
    {
        struct sb_profile other;
        fix_profile(&other, "go", "gorilla", secret, kv_other);
        fix_expect(&other, tok, NOW, SB_ERR_BAD_SIGNATURE, NULL, "wrong name");
        sb_profile_free(&other);
    }
    /* a JSON profile reading a gob cookie */
    fix_expect(&js, tok, NOW, SB_ERR_MALFORMED, "gorilla JSON value",
               "gob under json");
    free(tok);
    free(b);

    /* gob faults behind a valid MAC */
    for (i = 0; i < sizeof(gob_faults) / sizeof(gob_faults[0]); i++) {
        b = fix_unhex(gob_faults[i].gob_hex, &n);
        tok = go_sign("session", NOW, b, n, FIX_SECRET);
        fix_expect(&p, tok, NOW, gob_faults[i].code, gob_faults[i].msg,
                   gob_faults[i].label);
        free(tok);
        free(b);
    }

    /* encryption: good, a tampered IV (the MAC covers it), an IV that is
     * re-signed (decrypts to garbage), a value too short for its IV */
    b = fix_unhex(good_gob, &n);
    sealed = ctr_seal(iv, b, n, &sn);
    tok = go_sign("session", NOW, sealed, sn, FIX_SECRET);
    fix_expect(&enc, tok, NOW, SB_OK, NULL, "encrypted");
    fix_expect(&p, tok, NOW, SB_ERR_MALFORMED, NULL,
               "encrypted, no block key");
    free(tok);
    {
        char *good = go_sign("session", NOW, sealed, sn, FIX_SECRET), *raw;
        unsigned char dec[4096];
        long dl = sb_b64_decode(SB_B64_URL_PAD, good, strlen(good), dec);
        /* flip a bit of the IV inside the base64 value: re-encode the
         * value part with the IV changed, keep the old MAC */
        size_t vstart = (size_t)(strchr((char *)dec, '|') - (char *)dec) + 1;
        size_t vend = (size_t)((char *)memchr(dec + vstart, '|',
                                              (size_t)dl - vstart) -
                               (char *)dec);
        char *vpart = NULL;
        sealed[0] ^= 1;
        fix_append_b64(&vpart, SB_B64_URL_PAD, sealed, sn);
        ck_assert_uint_eq(strlen(vpart), vend - vstart);
        memcpy(dec + vstart, vpart, vend - vstart);
        raw = NULL;
        fix_append_b64(&raw, SB_B64_URL_PAD, dec, (size_t)dl);
        fix_expect(&enc, raw, NOW, SB_ERR_BAD_SIGNATURE, NULL, "tampered IV");
        free(raw);
        free(vpart);
        free(good);
    }
    tok = go_sign("session", NOW, sealed, sn, FIX_SECRET);
    fix_expect(&enc, tok, NOW, SB_ERR_MALFORMED, NULL,
               "re-signed tampered IV");
    free(tok);
    tok = go_sign("session", NOW, sealed, 16, FIX_SECRET);
    fix_expect(&enc, tok, NOW, SB_ERR_MALFORMED, "too short for its IV",
               "IV only");
    free(tok);
    free(sealed);
    free(b);

    /* layout faults */
    fix_expect(&p, "bm90IGEgY29va2ll", NOW, SB_ERR_MALFORMED,
               "date|value|mac", "no bars");
    fix_expect(&p, "MTIzfGFiYw==", NOW, SB_ERR_MALFORMED, "date|value|mac",
               "one bar");
    fix_expect(&p, "not base64!", NOW, SB_ERR_MALFORMED, "URL-safe base64",
               "not base64");
    fix_expect(&p, "MTc5MzQ5MTIwMHxEdi1CQkFF", NOW, SB_ERR_MALFORMED,
               "date|value|mac", "truncated");
    long_tok = malloc(4098);
    memset(long_tok, 'A', 4097);
    long_tok[4097] = '\0';
    fix_expect(&p, long_tok, NOW, SB_ERR_TOO_LARGE, "4096", "4097 bytes");
    free(long_tok);
    tok = go_sign("session", NOW, "\x01", 1, "wrong key");
    fix_expect(&p, tok, NOW, SB_ERR_BAD_SIGNATURE, "any of 1 hash keys",
               "wrong key");
    free(tok);
    /* a bad timestamp behind a valid MAC */
    tok = go_sign_ts("session", "12ab", "x", 1, FIX_SECRET,
                     strlen(FIX_SECRET));
    fix_expect(&p, tok, NOW, SB_ERR_MALFORMED, "invalid timestamp", "bad ts");
    free(tok);
    /* JSON serializer faults */
    tok = go_sign("session", NOW, "[1,2]\n", 6, FIX_SECRET);
    fix_expect(&js, tok, NOW, SB_ERR_UNSUPPORTED, "not an object",
               "json array");
    free(tok);
    tok = go_sign("session", NOW, "{\"a\":", 5, FIX_SECRET);
    fix_expect(&js, tok, NOW, SB_ERR_MALFORMED, NULL, "json truncated");
    free(tok);
    tok = go_sign("session", NOW, "{\"user_id\":42}\n", 15, FIX_SECRET);
    fix_expect(&js, tok, NOW, SB_OK, NULL, "json good");
    free(tok);

    sb_profile_free(&p);
    sb_profile_free(&enc);
    sb_profile_free(&js);
    sb_profile_free(&minp);
    unlink(block);
    free(block);
}
END_TEST

/* go_types: a pinned field reads as a plain number and is written as its
 * Go type; other typed values keep their form; a typed subject works. */
START_TEST(test_go_types)
{
    const char *kv[] = {"cookie_name", "session",
                        "go_types", "user_id:uint, ratio : float32",
                        "go_types", "org:int64", NULL};
    struct sb_profile p, plain;
    struct sb_codec_ctx ctx = {.now = NOW};
    struct sb_session s, back, raw;
    struct sb_err err = {0};
    char *tok = NULL;

    fix_profile(&p, "go", "gorilla", secret, kv);
    fix_profile(&plain, "go", "gorilla", secret, kv_session);
    sb_session_init(&s);
    s.data = fix_parse("{\"ratio\":0.5,\"org\":\"12\",\"n\":{\" int16\":-3}}");
    s.subject = strdup("7");
    ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &tok, &err), 0);
    /* the profile without go_types sees the Go types */
    sb_session_init(&raw);
    ck_assert_int_eq(sb_credential_decode(&plain, tok, strlen(tok), &ctx,
                                          &raw, &err), 0);
    {
        json_t *want = fix_parse("{\"user_id\":{\" uint\":7},\"ratio\":"
                                 "{\" float32\":0.5},\"org\":{\" int64\":12},"
                                 "\"n\":{\" int16\":-3}}");
        char *got = json_dumps(raw.data, JSON_SORT_KEYS);
        ck_assert_msg(json_equal(raw.data, want), "%s", got);
        free(got);
        json_decref(want);
    }
    ck_assert_str_eq(raw.subject, "7");
    /* the profile with go_types sees plain numbers */
    sb_session_init(&back);
    ck_assert_int_eq(sb_credential_decode(&p, tok, strlen(tok), &ctx, &back,
                                          &err), 0);
    {
        json_t *want = fix_parse("{\"user_id\":7,\"ratio\":0.5,\"org\":12,"
                                 "\"n\":{\" int16\":-3}}");
        ck_assert(json_equal(back.data, want));
        json_decref(want);
    }
    ck_assert_str_eq(back.subject, "7");
    free(tok);
    sb_session_reset(&s);
    sb_session_reset(&back);
    sb_session_reset(&raw);
    sb_profile_free(&p);
    sb_profile_free(&plain);
}
END_TEST

/* Encode: the JSON serializer writes json.Encoder's bytes; a session that
 * must end before max_age gets its timestamp moved back; an oversized
 * session is too_large; the sid travels in _sb_sid. */
START_TEST(test_encode)
{
    const char *kv_json[] = {"cookie_name", "session", "serializer", "json",
                             "max_age", "3600", NULL};
    struct sb_profile js, p;
    struct sb_codec_ctx ctx = {.now = NOW};
    struct sb_session s, back;
    struct sb_err err = {0};
    unsigned char raw[4096];
    char *tok = NULL, *big;
    long n;

    fix_profile(&js, "go", "gorilla", secret, kv_json);
    fix_profile(&p, "go", "gorilla", secret, kv_session);
    sb_session_init(&s);
    s.data = fix_parse("{\"b\":\"<&>\",\"a\":1.0,\"c\":[1,2]}");
    s.issued_at = NOW;
    ck_assert_int_eq(sb_credential_encode(&js, &s, &ctx, &tok, &err), 0);
    n = sb_b64_decode(SB_B64_URL_PAD, tok, strlen(tok), raw);
    ck_assert_int_gt(n, 0);
    {
        /* ts|b64(value)|mac: check the value */
        char *bar1 = memchr(raw, '|', (size_t)n), *bar2;
        unsigned char val[512];
        long vl;
        bar2 = memchr(bar1 + 1, '|',
                      (size_t)(raw + n - (unsigned char *)bar1 - 1));
        vl = sb_b64_decode(SB_B64_URL_PAD, bar1 + 1, (size_t)(bar2 - bar1 - 1),
                           val);
        ck_assert_int_eq(vl, (long)strlen("{\"a\":1,\"b\":\"\\u003c\\u0026"
                                          "\\u003e\",\"c\":[1,2]}\n"));
        ck_assert_mem_eq(val, "{\"a\":1,\"b\":\"\\u003c\\u0026\\u003e\","
                              "\"c\":[1,2]}\n", (size_t)vl);
    }
    free(tok);
    /* expires_at 60 s after now with max_age 3600: ts = now + 60 - 3600 */
    s.expires_at = NOW + 60;
    ck_assert_int_eq(sb_credential_encode(&js, &s, &ctx, &tok, &err), 0);
    sb_session_init(&back);
    ck_assert_int_eq(sb_credential_decode(&js, tok, strlen(tok), &ctx, &back,
                                          &err), 0);
    ck_assert_int_eq(back.issued_at, NOW + 60 - 3600);
    ck_assert_int_eq(back.expires_at, NOW + 60);
    sb_session_reset(&back);
    fix_expect(&js, tok, NOW + 61, SB_ERR_EXPIRED, NULL,
               "moved back, expired");
    free(tok);
    /* gob of an array of numbers: unsupported */
    s.expires_at = 0;
    ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &tok, &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_UNSUPPORTED);
    /* the sid rides in _sb_sid (gorilla has none of its own) */
    json_object_del(s.data, "c");
    strcpy(s.sid, "sid-1234");
    ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &tok, &err), 0);
    sb_session_init(&back);
    ck_assert_int_eq(sb_credential_decode(&p, tok, strlen(tok), &ctx, &back,
                                          &err), 0);
    ck_assert_str_eq(back.sid, "sid-1234");
    ck_assert_ptr_null(json_object_get(back.data, "_sb_sid"));
    sb_session_reset(&back);
    free(tok);
    /* too large for a cookie */
    big = malloc(3001);
    memset(big, 'z', 3000);
    big[3000] = '\0';
    json_decref(s.data);
    s.data = json_pack("{s:s}", "big", big);
    ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &tok, &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_TOO_LARGE);
    free(big);
    sb_session_reset(&s);
    sb_profile_free(&js);
    sb_profile_free(&p);
}
END_TEST

static Suite *gorilla_suite(void)
{
    Suite *s = suite_create("codec_gorilla");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_vectors);
    tcase_add_test(tc, test_vectors_reencode);
    tcase_add_test(tc, test_cookie_header);
    tcase_add_test(tc, test_key_pairs);
    tcase_add_test(tc, test_config_errors);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_go_types);
    tcase_add_test(tc, test_encode);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(gorilla_suite());
}
