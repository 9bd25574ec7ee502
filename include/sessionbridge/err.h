/*
 * err.h - the one error shape used across sessionbridge.
 *
 * Functions that can fail return 0 on success and -1 on failure, and fill a
 * caller-owned struct sb_err with a code and a bounded, human-readable
 * message.  Messages never contain a secret, a cookie or a token value:
 * callers pass lengths, names and positions, never the credential itself.
 */
#ifndef SESSIONBRIDGE_ERR_H
#define SESSIONBRIDGE_ERR_H

#include <stddef.h>

/* Error codes.  The snake_case name of each (sb_err_code_name) is part of the
 * public API: it is the "error" field of every JSON error body. */
enum sb_err_code {
    SB_OK = 0,
    SB_ERR_MALFORMED,       /* credential is not in the format's layout */
    SB_ERR_BAD_SIGNATURE,   /* MAC / signature / AEAD tag does not verify */
    SB_ERR_EXPIRED,         /* older than max age, or past exp */
    SB_ERR_NOT_YET_VALID,   /* nbf in the future, or a future timestamp where
                               the framework rejects those */
    SB_ERR_INVALID_CLAIM,   /* verified, but for another issuer / audience /
                               purpose / cookie name */
    SB_ERR_UNKNOWN_KEY,     /* kid (or key id) not among the configured keys */
    SB_ERR_UNSUPPORTED,     /* valid for the framework, but a feature we do
                               not implement (pickle, Marshal, gob struct...) */
    SB_ERR_TOO_LARGE,       /* over a size, depth or decompression cap */
    SB_ERR_REVOKED,         /* verified, but revoked in the store */
    SB_ERR_NO_CREDENTIAL,   /* the request carried no credential at all */
    SB_ERR_CONFIG,          /* configuration file or value is wrong */
    SB_ERR_INVALID_REQUEST, /* an API request body or argument is wrong */
    SB_ERR_NOT_FOUND,       /* no such session, key, route or profile */
    SB_ERR_STORE,           /* Redis unreachable or failed (fail closed) */
    SB_ERR_IO,              /* reading a file failed */
    SB_ERR_NOMEM,           /* allocation failed */
    SB_ERR_INTERNAL,        /* a bug: an invariant did not hold */
    SB_ERR_OVERLOADED,      /* a rate cap refused the work (asymmetric
                               signature checks per second): 503 */
    SB_ERR__COUNT
};

#define SB_ERR_MSG_MAX 192

struct sb_err {
    enum sb_err_code code;
    char msg[SB_ERR_MSG_MAX];
};

/* Sets code and a printf-formatted message (truncated to fit) and returns -1,
 * so that error paths can read `return sb_err_set(err, ...);`.  err may be
 * NULL, in which case only -1 is returned. */
int sb_err_set(struct sb_err *err, enum sb_err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Resets err to SB_OK with an empty message. */
void sb_err_clear(struct sb_err *err);

/* The stable snake_case name of a code ("bad_signature"); never NULL. */
const char *sb_err_code_name(enum sb_err_code code);

#endif
