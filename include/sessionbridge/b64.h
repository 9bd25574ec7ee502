/*
 * b64.h - strict base64 in the four variants the formats use (RFC 4648):
 * standard or URL-safe alphabet, with or without '=' padding.
 *
 * Decoding is strict, unlike Python's: a character outside the alphabet,
 * a wrong amount of padding, or non-zero trailing bits is an error.
 */
#ifndef SESSIONBRIDGE_B64_H
#define SESSIONBRIDGE_B64_H

#include <stdbool.h>
#include <stddef.h>

enum sb_b64_variant {
    SB_B64_STD_PAD,     /* + / with = padding */
    SB_B64_STD_NOPAD,   /* + / without padding */
    SB_B64_URL_PAD,     /* - _ with = padding */
    SB_B64_URL_NOPAD    /* - _ without padding */
};

/* Bytes needed to encode n bytes, including the NUL. */
size_t sb_b64_encoded_size(size_t n);

/* Upper bound on bytes decoded from n characters. */
size_t sb_b64_decoded_max(size_t n);

/* Encodes src[0..n) into dst (sb_b64_encoded_size(n) bytes), NUL-terminated;
 * returns the length without the NUL. */
size_t sb_b64_encode(enum sb_b64_variant v, const void *src, size_t n,
                     char *dst);

/* Decodes src[0..n) into dst (at least sb_b64_decoded_max(n) bytes).
 * Returns the decoded length, or -1 when src is not strictly valid in that
 * variant. */
long sb_b64_decode(enum sb_b64_variant v, const char *src, size_t n,
                   unsigned char *dst);

#endif
