/*
 * jwt_internal.h - what the jwt codec (jwt.c) shares with its key loading
 * and JWKS code (jwt_keys.c).  Internal to src/codec/.
 */
#ifndef SB_CODEC_JWT_INTERNAL_H
#define SB_CODEC_JWT_INTERNAL_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mac_internal.h"
#include "sessionbridge/profile.h"

enum sb_jwt_kind { SB_JWT_HMAC, SB_JWT_RSA, SB_JWT_EC };

/* One JWS algorithm the bridge implements. */
struct sb_jwt_alg {
    const char *name;      /* "HS256" ... "ES512", the header's alg */
    enum sb_jwt_kind kind;
    enum sb_digest digest;
    const char *md_name;   /* OpenSSL digest name */
    const char *crv;       /* EC: JWK crv ("P-256"); NULL otherwise */
    const char *group;     /* EC: OpenSSL group name ("prime256v1") */
    size_t coord;          /* EC: bytes per coordinate (32, 48, 66) */
};

/* One verification key.  Every key of a profile has the profile's alg:
 * the algorithm is pinned per key, never taken from the token. */
struct sb_jwt_key {
    char *kid;              /* NULL when the key has none; owned */
    struct sb_mac_key mac;  /* HS*: the secret */
    EVP_PKEY *pkey;         /* RS* / ES*: public (or private) key; owned */
};

/* A header the profile accepts, byte for byte, in b64url: the layouts
 * jsonwebtoken, PyJWT and the bridge write for the profile's alg and each
 * configured kid.  A token whose header segment is one of these needs no
 * JSON parse on the hot path: it says exactly alg and kid. */
struct sb_jwt_known_header {
    char *b64;         /* owned */
    size_t len;
    const char *kid;   /* borrowed from the key table; NULL = no kid */
};

/* p->codec_state of a jwt profile.  Config values first (configure()),
 * then what prepare() derives from them; read-only afterwards. */
struct sb_jwt_state {
    const struct sb_jwt_alg *alg;
    char *kid;                /* names the signing key; owned */
    char *issuer;             /* required iss when set; owned */
    char *audience;           /* required aud when set; owned */
    int64_t leeway;           /* seconds of clock skew allowed */
    char *private_key_file;   /* RS/ES signing key; owned */
    char **public_key_files;  /* files or directories; owned */
    size_t public_key_file_count;

    EVP_MD *md;               /* fetched once for the alg's digest */
    struct sb_jwt_key *keys;  /* every key that verifies; owned */
    size_t key_count;
    bool any_kid;             /* some key has a kid: a token's kid must
                                 then name one of them */
    EVP_PKEY *signing_key;    /* RS/ES private key, NULL = verify only;
                                 also referenced by keys[0] */
    struct sb_jwt_known_header *known; /* owned */
    size_t known_count;
};

/* The algorithm called name (exact, case-sensitive), or NULL. */
const struct sb_jwt_alg *sb_jwt_alg_find(const char *name);

/* Builds st->keys: HS* from p->secrets (every secret carries st->kid);
 * RS/ES from private_key_file (kid = st->kid) and each public_key_file
 * (a PEM file, or a directory whose *.pem files are read in name order).
 * A public key equal to one already loaded is skipped; the first public
 * key of a verify-only profile takes st->kid, every other one the name of
 * its file without ".pem" / ".pub.pem".  Checks each key against the alg
 * (RSA of at least 2048 bits, EC on the alg's curve). */
int sb_jwt_keys_load(struct sb_profile *p, struct sb_jwt_state *st,
                     struct sb_err *err);

/* Frees st->keys and st->signing_key. */
void sb_jwt_keys_free(struct sb_jwt_state *st);

/* The codec itself, so JWKS code can recognise jwt profiles. */
extern const struct sb_codec sb_codec_jwt;

#endif
