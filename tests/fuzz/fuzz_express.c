/* fuzz_express.c - libFuzzer target for the express decoder and the
 * connect-redis record parser.  The first input byte picks a mode:
 *   0: the rest is a cookie value as read from a Cookie header
 *      (percent-decoded, then decoded);
 *   1: the rest is the signed value: cookie-signature makes it valid, so
 *      the sid and cookie-parser "j:" JSON paths behind the MAC run;
 *   2: the rest is a Redis record: parsed, and when it parses, rebuilt
 *      and parsed again to the same data.
 * Nothing may crash, leak or trip a sanitizer. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_profile.h"
#include "sessionbridge/b64.h"
#include "sessionbridge/express.h"

#define SECRET "s3cr3t-test-key"

static struct sb_profile profile;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const secrets[] = {SECRET, "old-test-key", NULL};

    (void)argc; (void)argv;
    fuzz_profile(&profile, "express", secrets, NULL);
    return 0;
}

static void decode_one(const char *tok, size_t len)
{
    struct sb_codec_ctx ctx = {.now = FUZZ_NOW};
    struct sb_session s;
    struct sb_err err;

    sb_session_init(&s);
    if (sb_credential_decode(&profile, tok, len, &ctx, &s, &err) != 0 &&
        (s.data != NULL || s.subject != NULL || s.sid[0] != '\0'))
        abort(); /* a failed decode left a partial session */
    sb_session_reset(&s);
}

static void wire_mode(const uint8_t *data, size_t size)
{
    char buf[SB_COOKIE_MAX + 1];
    struct sb_err err;
    long n = sb_cookie_value_decode(&profile, (const char *)data, size, buf,
                                    sizeof(buf), &err);

    decode_one((const char *)data, size);
    if (n >= 0)
        decode_one(buf, (size_t)n);
}

/* "s:" value "." b64std_nopad(HMAC-SHA256(SECRET, value)). */
static void signed_mode(const uint8_t *data, size_t size)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char *tok = malloc(size + 2 + 1 + 45);

    if (tok == NULL)
        return;
    memcpy(tok, "s:", 2);
    memcpy(tok + 2, data, size);
    tok[2 + size] = '.';
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), data, size, mac, &n);
    sb_b64_encode(SB_B64_STD_NOPAD, mac, n, tok + 3 + size);
    decode_one(tok, strlen(tok + 3 + size) + 3 + size);
    free(tok);
}

/* A record that parses rebuilds to one that parses to the same data. */
static void record_mode(const uint8_t *data, size_t size)
{
    const int64_t now_ms = (int64_t)FUZZ_NOW * 1000;
    struct sb_session s, again;
    struct sb_codec_record rec;
    struct sb_err err;

    sb_session_init(&s);
    sb_session_init(&again);
    strcpy(s.sid, "fuzz-sid");
    if (sb_express_record_parse(&profile, (const char *)data, size, now_ms, &s,
                                &err) != 0) {
        if (s.data != NULL || s.subject != NULL)
            abort();
        return;
    }
    if (!fuzz_has_huge_real(s.data) &&
        sb_express_record_build(&profile, &s, now_ms, &rec, &err) == 0) {
        if (sb_express_record_parse(&profile, rec.value, rec.value_len,
                                    now_ms, &again, &err) != 0 ||
            !fuzz_json_same(again.data, s.data))
            abort();
        sb_codec_record_free(&rec);
    }
    sb_session_reset(&again);
    sb_session_reset(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0:
        wire_mode(data + 1, size - 1);
        break;
    case 1:
        signed_mode(data + 1, size - 1);
        break;
    default:
        record_mode(data + 1, size - 1);
        break;
    }
    return 0;
}
