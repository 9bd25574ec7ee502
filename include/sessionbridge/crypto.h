/*
 * crypto.h - small wrappers over OpenSSL 3 used by every codec: constant
 * time comparison, HMAC, digests, random bytes.
 */
#ifndef SESSIONBRIDGE_CRYPTO_H
#define SESSIONBRIDGE_CRYPTO_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

#include "sessionbridge/err.h"

#define SB_DIGEST_MAX 64 /* SHA-512 */

enum sb_digest { SB_SHA1, SB_SHA256, SB_SHA384, SB_SHA512 };

/* Parses "sha1" / "sha256" / "sha384" / "sha512" (case-insensitive). */
int sb_digest_parse(const char *name, enum sb_digest *out, struct sb_err *err);

/* OpenSSL's static method for d (never freed). */
const EVP_MD *sb_digest_md(enum sb_digest d);

/* Output length in bytes of a digest. */
size_t sb_digest_size(enum sb_digest d);

/* True when a[0..n) equals b[0..n); time depends only on n. */
bool sb_ct_equal(const void *a, const void *b, size_t n);

/* out = HMAC-d(key, msg); returns the MAC length, or 0 on an OpenSSL
 * failure.  out holds SB_DIGEST_MAX bytes. */
size_t sb_hmac(enum sb_digest d, const void *key, size_t key_len,
               const void *msg, size_t msg_len, unsigned char *out);

/* out = H(parts[0] || parts[1] || ...); returns the digest length or 0. */
size_t sb_hash(enum sb_digest d, const void *const *parts,
               const size_t *lens, size_t n, unsigned char *out);

/* Fills buf with n cryptographically random bytes. */
int sb_random_bytes(void *buf, size_t n, struct sb_err *err);

/* Writes the lower-case hex of src[0..n) into dst (2n+1 bytes). */
void sb_hex_encode(const void *src, size_t n, char *dst);

/* The value of one hex digit (either case), or -1 when c is not one. */
int sb_hex_digit(char c);

#endif
