/*
 * gorilla_internal.h - the gorilla encoder with its timestamp and IV given,
 * so tests can reproduce securecookie's output byte for byte.  Internal to
 * src/codec/ (and the unit tests).
 */
#ifndef SB_CODEC_GORILLA_INTERNAL_H
#define SB_CODEC_GORILLA_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "sessionbridge/err.h"
#include "sessionbridge/profile.h"

#define SB_GORILLA_IV_LEN 16

/* Encodes data (the session values in the profile's field names) as
 * securecookie.Encode(cookie name, values) would at Unix time ts with the
 * profile's first key pair; iv (16 bytes) is used only when that pair has
 * a block key.  *out is a new string the caller frees. */
int sb_gorilla_encode_with_iv(const struct sb_profile *p, const json_t *data,
                              int64_t ts, const unsigned char *iv,
                              char **out, struct sb_err *err);

#endif
