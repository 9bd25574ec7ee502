/*
 * itsdangerous_internal.h - what the flask, starlette and django formats
 * share: itsdangerous / django.core.signing timestamp signers.  A token is
 * VALUE SEP TS SEP SIG, split from the right; the MAC covers VALUE SEP TS.
 * Internal to src/codec/.
 */
#ifndef SB_CODEC_ITSDANGEROUS_INTERNAL_H
#define SB_CODEC_ITSDANGEROUS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mac_internal.h"
#include "sessionbridge/err.h"
#include "sessionbridge/jsonutil.h"
#include "sessionbridge/profile.h"

/* How a signing key is derived from a secret and a salt. */
enum sb_itsd_kdf {
    SB_ITSD_KDF_HMAC,   /* itsdangerous "hmac": HMAC-H(secret, salt) */
    SB_ITSD_KDF_CONCAT  /* itsdangerous "django-concat" and Django's
                           salted_hmac: H(salt "signer" secret) */
};

/* How TS is written. */
enum sb_itsd_ts {
    SB_ITSD_TS_B64INT,  /* itsdangerous: b64url_nopad of the big-endian
                           seconds with leading zero bytes stripped */
    SB_ITSD_TS_BASE62   /* Django: base62 (0-9A-Za-z) of the seconds */
};

/* One timestamp signer, built once in prepare() and then read-only.
 * keys[0] signs; every key verifies, in order. */
struct sb_itsd_signer {
    char sep;                  /* '.' or ':' */
    enum sb_itsd_ts ts_style;
    struct sb_mac_key *keys;   /* owned array */
    size_t key_count;
};

/* A token split from the right; pointers into the caller's token. */
struct sb_itsd_parts {
    const char *value;  /* VALUE (may itself contain SEP) */
    size_t value_len;
    int64_t ts;         /* decoded TS, Unix seconds */
};

/* Appends to s one key per secret (in order) for digest d, derived with
 * kdf from salt.  Call it again with another digest to add verify-only
 * keys (Django's legacy SHA-1).  s must be zeroed before the first call. */
int sb_itsd_signer_add_keys(struct sb_itsd_signer *s,
                            const struct sb_secret_list *secrets,
                            enum sb_digest d, enum sb_itsd_kdf kdf,
                            const char *salt, struct sb_err *err);

/* Wipes and frees the keys; s is zeroed. */
void sb_itsd_signer_clear(struct sb_itsd_signer *s);

/* Splits token[0..len) (at most SB_COOKIE_MAX bytes) from the right,
 * checks SIG against every key in constant time over the exact bytes
 * received, then decodes TS.  Errors: too_large, malformed (missing
 * separators, bad TS), bad_signature (SIG of the wrong length or alphabet,
 * or no key matches).  `what` names the format in messages. */
int sb_itsd_unsign(const struct sb_itsd_signer *s, const char *what,
                   const char *token, size_t len, struct sb_itsd_parts *out,
                   struct sb_err *err);

/* Signs the VALUE that b holds at issued_at (now when it is not set)
 * with keys[0]: appends SEP TS SEP SIG and moves the token into *out, a
 * new string the caller frees; b is left empty. */
int sb_itsd_sign(const struct sb_itsd_signer *s, int64_t issued_at,
                 int64_t now, struct sb_buf *b, char **out, struct sb_err *err);

/* Applies the age rule: expired when now - ts > max_age; a timestamp in
 * the future is not_yet_valid when reject_future (itsdangerous), accepted
 * otherwise (Django). */
int sb_itsd_check_age(const char *what, int64_t ts, int64_t now,
                      int64_t max_age, bool reject_future,
                      struct sb_err *err);

/* Decodes an itsdangerous / Django payload: optional '.' (zlib), then
 * strict b64url_nopad.  *out is a new NUL-terminated buffer the caller
 * frees.  Errors: malformed (base64, zlib), too_large (inflate cap). */
int sb_itsd_payload_decode(const char *what, const char *value, size_t len,
                           unsigned char **out, size_t *out_len,
                           struct sb_err *err);

/* The token itsdangerous' URLSafeTimedSerializer.dumps and Django's
 * signing.dumps(compress=True) write for data: JSON in `style`, the
 * payload ('.' b64url_nopad(zlib(json)) when that is shorter, else
 * b64url_nopad(json)), signed as sb_itsd_sign() does.  *out is a new
 * string the caller frees. */
int sb_itsd_dumps(const struct sb_itsd_signer *s, const json_t *data,
                  enum sb_json_style style, int64_t issued_at, int64_t now,
                  char **out, struct sb_err *err);

/* Parses a decoded payload as the session: a JSON object within the depth
 * cap.  A non-object is malformed.  Returns a new reference or NULL. */
json_t *sb_itsd_parse_session(const char *what, const char *json,
                              size_t len, struct sb_err *err);

/* Parses a boolean option value (true/false/yes/no/on/off/1/0). */
int sb_itsd_parse_bool(const char *value, bool *out);

#endif
