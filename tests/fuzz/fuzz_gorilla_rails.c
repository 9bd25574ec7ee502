/* fuzz_gorilla_rails.c - libFuzzer target for the gorilla and rails
 * decoders.  The first input byte picks a mode:
 *   0: the rest is a gorilla cookie (gob profile, then the encrypting one);
 *   1: the rest is a gob or JSON value, MACed as securecookie would, so
 *      the deserializers behind the MAC run (gob, json, and AES-CTR
 *      decryption of it);
 *   2: the rest is a rails cookie;
 *   3: the rest is a plaintext, AES-256-GCM encrypted with the profile's
 *      key, so the envelope, purpose, expiry and session JSON paths run.
 * A cookie that decodes must encode, and decode again to the same data.
 * Nothing may crash, leak or trip a sanitizer. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_profile.h"
#include "sessionbridge/b64.h"

#define SECRET "s3cr3t-test-key"
#define BLOCK_KEY "0123456789abcdef0123456789abcdef"
#define RAW_MAX 3072

static struct sb_profile go_gob, go_enc, go_json, rails, rails_none;
static unsigned char rails_key[32];

/* A key file holding text, for the profiles' *_keys_file keys. */
static char *key_file(const char *text)
{
    char *path = strdup("/tmp/sb-fuzz-key-XXXXXX");
    int fd = path ? mkstemp(path) : -1;

    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    close(fd);
    return path;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const secrets[] = {SECRET, NULL};
    char *block = key_file(BLOCK_KEY "\n");
    const char *kv_go[] = {"cookie_name", "session", NULL};
    const char *kv_enc[] = {"cookie_name", "session", "block_keys_file",
                            block, NULL};
    const char *kv_json[] = {"cookie_name", "session", "serializer", "json",
                             NULL};
    const char *kv_rails[] = {"cookie_name", "_myapp_session", NULL};
    const char *kv_none[] = {"cookie_name", "_myapp_session", "envelope",
                             "none", NULL};

    (void)argc;
    (void)argv;
    fuzz_profile(&go_gob, "gorilla", secrets, kv_go);
    fuzz_profile(&go_enc, "gorilla", secrets, kv_enc);
    fuzz_profile(&go_json, "gorilla", secrets, kv_json);
    fuzz_profile(&rails, "rails", secrets, kv_rails);
    fuzz_profile(&rails_none, "rails", secrets, kv_none);
    unlink(block);
    free(block);
    if (PKCS5_PBKDF2_HMAC(SECRET, (int)strlen(SECRET),
                          (const unsigned char *)"authenticated encrypted "
                          "cookie", 30, 1000, EVP_sha1(), 32,
                          rails_key) != 1)
        abort();
    return 0;
}

/* Decodes tok with p; a success must re-encode and decode to the same
 * data (encode may refuse data it cannot write, never crash). */
static void decode_one(const struct sb_profile *p, const char *tok,
                       size_t len)
{
    struct sb_codec_ctx ctx = {.now = FUZZ_NOW};
    struct sb_session s, again;
    struct sb_err err;
    char *out = NULL;

    sb_session_init(&s);
    if (sb_credential_decode(p, tok, len, &ctx, &s, &err) != 0) {
        if (s.data != NULL || s.subject != NULL || s.sid[0] != '\0')
            abort(); /* a failed decode left a partial session */
        return;
    }
    s.expires_at = 0;
    s.issued_at = FUZZ_NOW;
    /* Go's encoding/json writes reals past 2^63 as plain digits, which
     * jansson cannot read back as an integer (fuzz_profile.h) */
    if (!fuzz_has_huge_real(s.data) &&
        sb_credential_encode(p, &s, &ctx, &out, &err) == 0) {
        sb_session_init(&again);
        if (sb_credential_decode(p, out, strlen(out), &ctx, &again,
                                 &err) != 0 ||
            !fuzz_json_same(again.data, s.data))
            abort();
        sb_session_reset(&again);
        free(out);
    }
    sb_session_reset(&s);
}

/* securecookie's token for value[0..n) at FUZZ_NOW under "session". */
static char *go_token(const unsigned char *val, size_t n)
{
    char head[64], *v, *body, *tok;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mlen = 0;
    size_t hl, vl, bl;

    v = malloc(sb_b64_encoded_size(n));
    hl = (size_t)snprintf(head, sizeof(head), "session|%d|", FUZZ_NOW);
    vl = sb_b64_encode(SB_B64_URL_PAD, val, n, v);
    body = malloc(hl + vl + 1 + EVP_MAX_MD_SIZE);
    memcpy(body, head, hl);
    memcpy(body + hl, v, vl);
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (unsigned char *)body,
         hl + vl, mac, &mlen);
    body[hl + vl] = '|';
    memcpy(body + hl + vl + 1, mac, mlen);
    bl = hl + vl + 1 + mlen - strlen("session|");
    tok = malloc(sb_b64_encoded_size(bl));
    sb_b64_encode(SB_B64_URL_PAD, body + strlen("session|"), bl, tok);
    free(body);
    free(v);
    return tok;
}

static void gorilla_value_mode(const uint8_t *data, size_t size)
{
    static const unsigned char iv[16] = {1, 2, 3, 4};
    unsigned char *sealed;
    EVP_CIPHER_CTX *c;
    char *tok;
    int len = 0;

    if (size > RAW_MAX)
        return;
    tok = go_token(data, size);
    decode_one(&go_gob, tok, strlen(tok));
    decode_one(&go_json, tok, strlen(tok));
    free(tok);
    sealed = malloc(16 + size + 1);
    c = EVP_CIPHER_CTX_new();
    memcpy(sealed, iv, 16);
    if (EVP_EncryptInit_ex(c, EVP_aes_256_ctr(), NULL,
                           (const unsigned char *)BLOCK_KEY, iv) != 1 ||
        EVP_EncryptUpdate(c, sealed + 16, &len, data, (int)size) != 1)
        abort();
    EVP_CIPHER_CTX_free(c);
    tok = go_token(sealed, 16 + size);
    decode_one(&go_enc, tok, strlen(tok));
    free(tok);
    free(sealed);
}

/* b64(AES-256-GCM(plain))--b64(iv)--b64(tag) with the rails key. */
static void rails_plain_mode(const uint8_t *data, size_t size)
{
    static const unsigned char iv[12] = {5, 6, 7};
    unsigned char tag[16], *ct;
    EVP_CIPHER_CTX *c;
    char *tok;
    size_t o;
    int len = 0, fin = 0;

    if (size > RAW_MAX)
        return;
    ct = malloc(size + 16);
    c = EVP_CIPHER_CTX_new();
    if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, rails_key, iv) != 1 ||
        EVP_EncryptUpdate(c, ct, &len, data, (int)size) != 1 ||
        EVP_EncryptFinal_ex(c, ct + len, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1)
        abort();
    EVP_CIPHER_CTX_free(c);
    tok = malloc(sb_b64_encoded_size(size) + 64);
    o = sb_b64_encode(SB_B64_STD_PAD, ct, (size_t)(len + fin), tok);
    memcpy(tok + o, "--", 2);
    o += 2 + sb_b64_encode(SB_B64_STD_PAD, iv, 12, tok + o + 2);
    memcpy(tok + o, "--", 2);
    o += 2 + sb_b64_encode(SB_B64_STD_PAD, tag, 16, tok + o + 2);
    decode_one(&rails, tok, o);
    decode_one(&rails_none, tok, o);
    free(tok);
    free(ct);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 4) {
    case 0:
        decode_one(&go_gob, (const char *)data + 1, size - 1);
        decode_one(&go_enc, (const char *)data + 1, size - 1);
        break;
    case 1:
        gorilla_value_mode(data + 1, size - 1);
        break;
    case 2:
        decode_one(&rails, (const char *)data + 1, size - 1);
        break;
    default:
        rails_plain_mode(data + 1, size - 1);
        break;
    }
    return 0;
}
