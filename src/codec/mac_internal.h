/*
 * mac_internal.h - HMAC keys prepared once per profile and computed with
 * per-thread reusable OpenSSL contexts (the verify hot path of the HMAC
 * based formats).  Internal to src/codec/.
 */
#ifndef SB_CODEC_MAC_INTERNAL_H
#define SB_CODEC_MAC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sessionbridge/crypto.h"
#include "sessionbridge/err.h"

/* One HMAC key.  `id` is unique for the life of the process and never
 * reused, so a thread may keep an OpenSSL context keyed with it and skip
 * re-keying when the same key comes again. */
struct sb_mac_key {
    enum sb_digest digest;
    unsigned char *key; /* owned copy, wiped on clear */
    size_t len;
    uint64_t id;        /* 0 = not initialised */
};

/* Copies key[0..len) into k for HMAC-digest. */
int sb_mac_key_init(struct sb_mac_key *k, enum sb_digest digest,
                    const void *key, size_t len, struct sb_err *err);

/* Wipes and frees the key; k is zeroed.  Safe on a zeroed key. */
void sb_mac_key_clear(struct sb_mac_key *k);

/* out = HMAC(k, msg[0..len)), on this thread's context for k's digest.
 * Returns the MAC length, or 0 on an OpenSSL failure.  out holds
 * SB_DIGEST_MAX bytes. */
size_t sb_mac_compute(const struct sb_mac_key *k, const void *msg, size_t len,
                      unsigned char *out);

#endif
