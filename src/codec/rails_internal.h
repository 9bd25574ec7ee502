/*
 * rails_internal.h - the rails encoder with its IV and clock given, so
 * tests can reproduce ActiveSupport::MessageEncryptor's output byte for
 * byte.  Internal to src/codec/ (and the unit tests).
 */
#ifndef SB_CODEC_RAILS_INTERNAL_H
#define SB_CODEC_RAILS_INTERNAL_H

#include <stdint.h>

#include "sessionbridge/err.h"
#include "sessionbridge/profile.h"
#include "sessionbridge/session.h"

#define SB_RAILS_IV_LEN 12

/* Encodes s (data in the profile's field names) as Rails' encrypted cookie
 * jar would at Unix time now, encrypting with the first derived key and
 * the 12-byte iv.  *out is a new string (not yet Rack-escaped) the caller
 * frees. */
int sb_rails_encode_with_iv(const struct sb_profile *p,
                            const struct sb_session *s, int64_t now,
                            const unsigned char *iv, char **out,
                            struct sb_err *err);

#endif
