/*
 * jwks.h - the public keys of the bridge's RS* / ES* jwt profiles as one
 * JWKS document (RFC 7517), for the JWKS endpoint and the CLI.
 *
 * {"keys":[{"kty":"RSA","n","e","kid","use":"sig","alg":"RS256"},
 *          {"kty":"EC","crv":"P-256","x","y","kid","use":"sig","alg":"ES256"}]}
 * Every verification key of every such profile is listed (rotation: old
 * public keys stay published while they verify), in profile order; a key
 * listed twice with the same kid appears once.  HS* profiles publish
 * nothing; profiles of other formats are skipped.  kid is omitted for a
 * key configured without one.
 */
#ifndef SESSIONBRIDGE_JWKS_H
#define SESSIONBRIDGE_JWKS_H

#include <jansson.h>
#include <stddef.h>

#include "sessionbridge/err.h"
#include "sessionbridge/profile.h"

struct sb_config;

/* Builds the document from profiles[0..n) (prepared profiles, borrowed)
 * into *out, a new reference the caller json_decref()s. */
int sb_jwks_build(const struct sb_profile *const *profiles, size_t n,
                  json_t **out, struct sb_err *err);

/* The same over every profile of a loaded config. */
int sb_jwks_build_config(const struct sb_config *cfg, json_t **out,
                         struct sb_err *err);

#endif
