/* crypto.c - constant-time compare, HMAC, hashes and randomness over
 * OpenSSL 3. */
#include "sessionbridge/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <strings.h>

const EVP_MD *sb_digest_md(enum sb_digest d)
{
    switch (d) {
    case SB_SHA1: return EVP_sha1();
    case SB_SHA256: return EVP_sha256();
    case SB_SHA384: return EVP_sha384();
    case SB_SHA512: return EVP_sha512();
    }
    return NULL;
}

int sb_digest_parse(const char *name, enum sb_digest *out, struct sb_err *err)
{
    static const struct { const char *name; enum sb_digest d; } names[] = {
        {"sha1", SB_SHA1}, {"sha256", SB_SHA256},
        {"sha384", SB_SHA384}, {"sha512", SB_SHA512},
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].d;
            return 0;
        }
    }
    return sb_err_set(err, SB_ERR_CONFIG,
                      "unknown digest '%s' (sha1 | sha256 | sha384 | sha512)",
                      name);
}

size_t sb_digest_size(enum sb_digest d)
{
    switch (d) {
    case SB_SHA1: return 20;
    case SB_SHA256: return 32;
    case SB_SHA384: return 48;
    case SB_SHA512: return 64;
    }
    return 0;
}

bool sb_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

size_t sb_hmac(enum sb_digest d, const void *key, size_t key_len,
               const void *msg, size_t msg_len, unsigned char *out)
{
    unsigned int len = 0;

    if (HMAC(sb_digest_md(d), key, (int)key_len, msg, msg_len, out,
             &len) == NULL)
        return 0;
    return len;
}

size_t sb_hash(enum sb_digest d, const void *const *parts,
               const size_t *lens, size_t n, unsigned char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    size_t i;

    if (ctx == NULL)
        return 0;
    if (EVP_DigestInit_ex(ctx, sb_digest_md(d), NULL) != 1)
        goto out_free_ctx;
    for (i = 0; i < n; i++) {
        if (EVP_DigestUpdate(ctx, parts[i], lens[i]) != 1)
            goto out_free_ctx;
    }
    if (EVP_DigestFinal_ex(ctx, out, &len) != 1)
        len = 0;
out_free_ctx:
    EVP_MD_CTX_free(ctx);
    return len;
}

int sb_random_bytes(void *buf, size_t n, struct sb_err *err)
{
    if (RAND_bytes(buf, (int)n) != 1)
        return sb_err_set(err, SB_ERR_INTERNAL, "no random bytes available");
    return 0;
}

void sb_hex_encode(const void *src, size_t n, char *dst)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = src;
    size_t i;

    for (i = 0; i < n; i++) {
        dst[2 * i] = hex[s[i] >> 4];
        dst[2 * i + 1] = hex[s[i] & 15];
    }
    dst[2 * n] = '\0';
}

int sb_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
