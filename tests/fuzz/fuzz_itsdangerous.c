/* fuzz_itsdangerous.c - libFuzzer target for the flask, starlette and
 * django decoders.  The first input byte picks the format (byte % 3) and
 * the mode ((byte / 3) % 3):
 *   0: the rest is a token, decoded as is;
 *   1: the rest is a session payload (JSON text, compressed when bit 7 of
 *      the first byte is set) that is encoded as the format does and
 *      signed here, so the payload, JSON, tag and protection paths behind
 *      the MAC run; when it decodes, it is re-encoded by the codec and
 *      decoded again, and a second round must give the same data;
 *   2: the rest is the signed VALUE (payload text as is), signed here.
 * Nothing may crash, leak, trip a sanitizer or leave a partial session. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_profile.h"
#include "sessionbridge/b64.h"
#include "sessionbridge/jsonutil.h"

#define SECRET "s3cr3t-test-key"

static struct sb_profile profiles[3];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const secrets[] = {SECRET, "old-test-key", NULL};
    static const char *const flask_kv[] = {"session_protection", "basic",
                                           NULL};
    static const char *const django_kv[] = {"require_auth_user_hash", "false",
                                            "auth_user_backend", "none", NULL};

    (void)argc; (void)argv;
    fuzz_profile(&profiles[0], "flask", secrets, flask_kv);
    fuzz_profile(&profiles[1], "starlette", secrets, NULL);
    fuzz_profile(&profiles[2], "django", secrets, django_kv);
    return 0;
}

static const struct sb_codec_ctx fuzz_ctx = {
    .now = FUZZ_NOW, .client_addr = "203.0.113.7",
    .user_agent = "fuzz-agent/1.0"};

/* Decodes tok with profile p into s; a failure must leave s reset. */
static int decode_one(const struct sb_profile *p, const char *tok, size_t len,
                      struct sb_session *s, struct sb_err *err)
{
    sb_session_init(s);
    if (p->codec->decode(p, tok, len, &fuzz_ctx, s, err) == 0)
        return 0;
    if (s->data != NULL || s->subject != NULL || s->sid[0] != '\0')
        abort(); /* a failed decode left a partial session */
    return -1;
}

/* value SEP TS SEP b64url(HMAC(key, value SEP TS)), with the key derived
 * as the framework does; TS is FORMATS.md's T0.  A new string. */
static char *sign_value(int f, const char *value, size_t len)
{
    unsigned char key[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
    unsigned int key_len = 0, mac_len = 0;
    const EVP_MD *md = f == 2 ? EVP_sha256() : EVP_sha1();
    const char *ts = f == 2 ? "1xNIzQ" : "auaBAA";
    char sep = f == 2 ? ':' : '.';
    size_t n = len + 1 + strlen(ts);
    char *tok = malloc(n + 2 + 90);
    EVP_MD_CTX *h;

    if (tok == NULL)
        return NULL;
    if (f == 0) {
        HMAC(md, SECRET, (int)strlen(SECRET),
             (const unsigned char *)"cookie-session", 14, key, &key_len);
    } else {
        const char *salt = f == 2
            ? "django.contrib.sessions.backends.signed_cookies"
            : "itsdangerous.Signer";
        h = EVP_MD_CTX_new();
        EVP_DigestInit_ex(h, md, NULL);
        EVP_DigestUpdate(h, salt, strlen(salt));
        EVP_DigestUpdate(h, "signer", 6);
        EVP_DigestUpdate(h, SECRET, strlen(SECRET));
        EVP_DigestFinal_ex(h, key, &key_len);
        EVP_MD_CTX_free(h);
    }
    memcpy(tok, value, len);
    tok[len] = sep;
    memcpy(tok + len + 1, ts, strlen(ts));
    HMAC(md, key, (int)key_len, (const unsigned char *)tok, n, mac, &mac_len);
    tok[n] = sep;
    sb_b64_encode(SB_B64_URL_NOPAD, mac, mac_len, tok + n + 1);
    return tok;
}

/* The payload text as format f writes it: b64std padded (starlette), or
 * b64url with an optional '.' and zlib (flask, django).  A new string. */
static char *payload_of(int f, const uint8_t *data, size_t size, bool zip)
{
    unsigned char *z = NULL;
    uLongf zlen;
    char *out;

    if (zip && f != 1) {
        zlen = compressBound(size);
        z = malloc(zlen);
        if (z == NULL || compress2(z, &zlen, data, size, 6) != Z_OK) {
            free(z);
            return NULL;
        }
        data = z;
        size = zlen;
    }
    out = malloc(sb_b64_encoded_size(size) + 1);
    if (out != NULL) {
        out[0] = '.';
        sb_b64_encode(f == 1 ? SB_B64_STD_PAD : SB_B64_URL_NOPAD, data, size,
                      out + (z != NULL));
    }
    free(z);
    return out;
}

/* Encodes s with p and decodes the result into again; 0 when both worked,
 * 1 when the re-encoded token is legitimately refused (over the cookie or
 * depth cap after Flask's " di" wrapping).  Anything else aborts. */
static int round_trip(const struct sb_profile *p, const struct sb_session *s,
                      struct sb_session *again)
{
    struct sb_err err = {0};
    char *tok = NULL;
    int rc;

    if (p->codec->encode(p, s, &fuzz_ctx, &tok, &err) != 0)
        abort(); /* data that decoded must encode */
    rc = decode_one(p, tok, strlen(tok), again, &err);
    free(tok);
    if (rc == 0)
        return 0;
    if (err.code != SB_ERR_TOO_LARGE)
        abort();
    return 1;
}

static void signed_mode(int f, const char *value, size_t len)
{
    const struct sb_profile *p = &profiles[f];
    struct sb_session s, once, twice;
    struct sb_err err;
    char *tok = sign_value(f, value, len);

    if (tok == NULL)
        return;
    if (decode_one(p, tok, strlen(tok), &s, &err) == 0) {
        if (round_trip(p, &s, &once) == 0) {
            if (round_trip(p, &once, &twice) == 0) {
                if (!json_equal(once.data, twice.data))
                    abort(); /* encode(decode(x)) is not stable */
                sb_session_reset(&twice);
            }
            sb_session_reset(&once);
        }
        sb_session_reset(&s);
    }
    free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_session s;
    struct sb_err err;
    int f, mode;
    char *payload;

    if (size < 1 || size > SB_COOKIE_MAX)
        return 0;
    f = data[0] % 3;
    mode = (data[0] / 3) % 3;
    if (mode == 0) {
        if (decode_one(&profiles[f], (const char *)data + 1, size - 1, &s,
                       &err) == 0)
            sb_session_reset(&s);
    } else if (mode == 1) {
        payload = payload_of(f, data + 1, size - 1, (data[0] & 0x80) != 0);
        if (payload != NULL)
            signed_mode(f, payload, strlen(payload));
        free(payload);
    } else {
        signed_mode(f, (const char *)data + 1, size - 1);
    }
    return 0;
}
