/* b64.c - strict RFC 4648 base64 in four variants. */
#include "sessionbridge/b64.h"

#include <stdint.h>

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static bool variant_is_url(enum sb_b64_variant v)
{
    return v == SB_B64_URL_PAD || v == SB_B64_URL_NOPAD;
}

static bool variant_pads(enum sb_b64_variant v)
{
    return v == SB_B64_STD_PAD || v == SB_B64_URL_PAD;
}

size_t sb_b64_encoded_size(size_t n)
{
    return (n + 2) / 3 * 4 + 1;
}

size_t sb_b64_decoded_max(size_t n)
{
    return n / 4 * 3 + 3;
}

size_t sb_b64_encode(enum sb_b64_variant v, const void *src, size_t n,
                     char *dst)
{
    const unsigned char *s = src;
    const char *alpha = variant_is_url(v) ? url_alphabet : std_alphabet;
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t w = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        dst[o++] = alpha[w >> 18];
        dst[o++] = alpha[(w >> 12) & 63];
        dst[o++] = alpha[(w >> 6) & 63];
        dst[o++] = alpha[w & 63];
    }
    if (n - i == 1) {
        uint32_t w = (uint32_t)s[i] << 16;
        dst[o++] = alpha[w >> 18];
        dst[o++] = alpha[(w >> 12) & 63];
        if (variant_pads(v)) {
            dst[o++] = '=';
            dst[o++] = '=';
        }
    } else if (n - i == 2) {
        uint32_t w = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        dst[o++] = alpha[w >> 18];
        dst[o++] = alpha[(w >> 12) & 63];
        dst[o++] = alpha[(w >> 6) & 63];
        if (variant_pads(v))
            dst[o++] = '=';
    }
    dst[o] = '\0';
    return o;
}

/* The 6-bit value of c in the variant's alphabet, or -1. */
static int sextet(bool url, unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (url ? c == '-' : c == '+')
        return 62;
    if (url ? c == '_' : c == '/')
        return 63;
    return -1;
}

long sb_b64_decode(enum sb_b64_variant v, const char *src, size_t n,
                   unsigned char *dst)
{
    bool url = variant_is_url(v);
    size_t body = n, i, o = 0, rem;
    uint32_t acc = 0;
    int bits = 0;

    if (variant_pads(v)) {
        if (n % 4 != 0)
            return -1;
        while (body > 0 && n - body < 2 && src[body - 1] == '=')
            body--;
    }
    rem = body % 4;
    if (rem == 1)
        return -1;
    if (variant_pads(v) && n - body != (rem == 0 ? 0 : 4 - rem))
        return -1;
    for (i = 0; i < body; i++) {
        int s = sextet(url, (unsigned char)src[i]);
        if (s < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)s;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-zero trailing bits: not a canonical encoding */
        return -1;
    return (long)o;
}
