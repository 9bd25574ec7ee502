/*
 * codec.h - the credential codec API.
 *
 * Every format (flask, starlette, django, express, jwt, gorilla, rails)
 * fills one struct sb_codec and is listed once in the registry in
 * src/codec/codec.c; nothing else switches on the format.
 *
 * Two layers:
 *  - the format ops (struct sb_codec) turn credential bytes into the
 *    format's session data plus timestamps, and back, verifying signatures
 *    and the framework's own validity rules;
 *  - sb_credential_decode() / sb_credential_encode() wrap them with what is
 *    the same for every format: size caps, subject extraction, field
 *    renames and the canonical sid.
 *
 * Thread safety: decode and encode may run on many threads at once with the
 * same profile.  A codec keeps per-thread scratch (MAC contexts) in
 * thread-local storage, never in the shared profile.
 */
#ifndef SESSIONBRIDGE_CODEC_H
#define SESSIONBRIDGE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sessionbridge/err.h"
#include "sessionbridge/profile.h"
#include "sessionbridge/session.h"

/* Caps applied to every credential (FORMATS.md section 0). */
#define SB_TOKEN_MAX 8192             /* longest credential string accepted
                                         (a JWT in a header may exceed the
                                         4096 of a cookie) */
#define SB_COOKIE_MAX 4096            /* longest cookie value accepted */
#define SB_DECOMPRESSED_MAX (1u << 20) /* inflate stops with too_large past
                                          this many bytes */
#define SB_JSON_DEPTH_MAX 32          /* deepest JSON nesting accepted */

/* What the caller knows about the request the credential came with. */
struct sb_codec_ctx {
    int64_t now;             /* Unix seconds used for every time check */
    const char *client_addr; /* first X-Forwarded-For entry, else the peer
                                address; NULL when unknown */
    const char *user_agent;  /* User-Agent header; NULL when absent */
};

/* A server-side record a framework keeps beside its cookie (connect-redis
 * for express), ready for `SET key value EX ttl`. */
struct sb_codec_record {
    char *key;        /* owned */
    char *value;      /* owned, NUL-terminated */
    size_t value_len; /* bytes of value without the NUL */
    int64_t ttl;      /* seconds for EX; <= 0: the session is already over
                         (delete the key instead of writing it) */
};

/* Frees what a record owns and zeroes it. */
void sb_codec_record_free(struct sb_codec_record *r);

/*
 * The capability of a format whose session data lives in a server-side
 * record in the same Redis, the cookie carrying only the sid.  The bridge
 * reads the record when it checks such a credential, writes it when it
 * mints one (unless one exists), and unlinks it when the session is
 * deleted or its user logged out.
 */
struct sb_codec_records {
    /* The record's Redis key for sid, as a new string in *out. */
    int (*key)(const struct sb_profile *p, const char *sid, char **out,
               struct sb_err *err);

    /* Parses a record read from Redis into s (which holds the sid and
     * profile from the cookie): data, subject and expires_at.  now_ms is
     * Unix milliseconds.  SB_ERR_EXPIRED when the record says the session
     * is over.  On failure s is reset. */
    int (*parse)(const struct sb_profile *p, const char *value, size_t len,
                 int64_t now_ms, struct sb_session *s, struct sb_err *err);

    /* Builds the record of canonical session s at now_ms into *out. */
    int (*build)(const struct sb_profile *p, const struct sb_session *s,
                 int64_t now_ms, struct sb_codec_record *out,
                 struct sb_err *err);
};

struct sb_codec {
    const char *name; /* the value of "format = ..." */

    /* True when the format carries a session id of its own (express sid,
     * rails session_id, jwt sid/jti); false when the canonical sid has to
     * travel in profile->sid_field of the data. */
    bool native_sid;

    /* For a credential without a session id: the length of the prefix of
     * token that its signature covers and that its issuer writes the same
     * way for the same session (JWT: header.payload, never the signature
     * bytes, which ECDSA lets anyone re-shape).  NULL: such a credential's
     * identity is its decoded data, which a re-signed cookie (a new
     * timestamp or nonce, the same session) keeps. */
    size_t (*signed_span)(const char *token, size_t len);

    /* Set when the session data lives in a framework record (express);
     * NULL for formats that carry their data in the credential. */
    const struct sb_codec_records *records;

    /* Characters the framework percent-encodes in the cookie value on the
     * wire (express: ":+/", rails: "+/="), and so percent-decodes when it
     * reads a Cookie header; NULL when the value goes on the wire as is. */
    const char *cookie_escape;

    /* Accepts one format-specific config key of a [profile.X] section
     * (generic keys never reach it).  Unknown keys: fail with SB_ERR_CONFIG
     * and a message naming the key.  May be NULL: no extra keys. */
    int (*configure)(struct sb_profile *p, const char *key, const char *value,
                     struct sb_err *err);

    /* Runs once after the section is read: validate, derive keys, parse
     * PEMs into p->codec_state.  May be NULL. */
    int (*prepare)(struct sb_profile *p, struct sb_err *err);

    /* Frees p->codec_state.  May be NULL. */
    void (*release)(struct sb_profile *p);

    /* Verifies token[0..len) and fills out: data (the format's session
     * data, a JSON object), issued_at, expires_at, and sid / subject when
     * the format has them natively.  On failure out is left reset. */
    int (*decode)(const struct sb_profile *p, const char *token, size_t len,
                  const struct sb_codec_ctx *ctx, struct sb_session *out,
                  struct sb_err *err);

    /* Serialises and signs s (data already in the format's field names,
     * the sid already placed for formats without a native one) into a new
     * NUL-terminated string in *out, which the caller frees with free(). */
    int (*encode)(const struct sb_profile *p, const struct sb_session *s,
                  const struct sb_codec_ctx *ctx, char **out,
                  struct sb_err *err);
};

/* The codec named `name`, or NULL. */
const struct sb_codec *sb_codec_find(const char *name);

/* The names of every registered codec, for error messages: writes
 * "flask | starlette | ..." into buf. */
void sb_codec_list_names(char *buf, size_t size);

/* Decodes a credential with profile p into the canonical session `out`
 * (initialised by the caller): enforces SB_TOKEN_MAX, runs codec->decode,
 * then fills subject from p->subject_field, applies renames, sets
 * out->profile and the sid (native; else data[p->sid_field], removed from
 * the data; else derived, see below).  A subject or sid that holds a NUL
 * byte is SB_ERR_MALFORMED: read as a C string it would name someone else.
 *
 * A derived sid is a hash of the profile name and the credential's
 * identity: what its signer authenticated less what a re-issue changes
 * (codec->signed_span of the token, else the decoded data as sorted
 * compact JSON).  So every re-signed copy of one app session is the same
 * session, and no re-shaping of a signature makes a new one. */
int sb_credential_decode(const struct sb_profile *p, const char *token,
                         size_t len, const struct sb_codec_ctx *ctx,
                         struct sb_session *out, struct sb_err *err);

/* Encodes the canonical session s for profile p: copies the data, applies
 * renames in reverse, writes the subject into p->subject_field and the sid
 * into p->sid_field (formats without a native sid), then codec->encode.
 * *out is a new string the caller frees. */
int sb_credential_encode(const struct sb_profile *p,
                         const struct sb_session *s,
                         const struct sb_codec_ctx *ctx, char **out,
                         struct sb_err *err);

/* The field mapping of both functions above, for data that reaches the
 * bridge by another way than a credential (a framework's server-side
 * store record, e.g. express.h):
 * map_in turns the format's data in s->data into canonical form in place
 * (s->subject from p->subject_field when unset, renames profile ->
 * canonical); map_out writes into *out a new copy of s->data in the
 * profile's field names (renames canonical -> profile, the subject placed
 * in p->subject_field), which the caller json_decref()s. */
int sb_credential_map_in(const struct sb_profile *p, struct sb_session *s,
                         struct sb_err *err);
int sb_credential_map_out(const struct sb_profile *p,
                          const struct sb_session *s, json_t **out,
                          struct sb_err *err);

/* The JSON answer of a validation, shared by the CLI and the HTTP API:
 * {"active":true,"profile":P,"session":{...}} when s is not NULL, else
 * {"active":false,"error":code,"message":msg}.  Returns a new reference. */
json_t *sb_credential_result_json(const struct sb_session *s,
                                  const struct sb_err *err);

/* Writes the full Set-Cookie header value for p's cookie carrying the
 * credential `value` (percent-encoding codec->cookie_escape characters) into
 * a new string.  now is used for Expires.  Caller frees. */
int sb_cookie_build(const struct sb_profile *p, const char *value,
                    int64_t now, char **out, struct sb_err *err);

/* Writes the Set-Cookie header value that makes a browser drop p's
 * cookie (empty value, p's Path and Domain, Max-Age=0 and an Expires in
 * 1970, and p's Secure, HttpOnly and SameSite so it replaces the cookie
 * it names) into a new string.  Caller frees. */
int sb_cookie_build_expired(const struct sb_profile *p, char **out,
                            struct sb_err *err);

/* Turns a cookie value as read from a Cookie header into the credential:
 * percent-decodes it when the codec escapes on the wire, else copies it.
 * Writes at most size-1 bytes and a NUL into buf; returns the length or -1
 * (too_large / malformed). */
long sb_cookie_value_decode(const struct sb_profile *p, const char *value,
                            size_t len, char *buf, size_t size,
                            struct sb_err *err);

/* ---- helpers for format implementations ---------------------------------- */

/* p's codec state: allocated zeroed (size bytes) on the first call, the
 * same pointer afterwards; NULL with err set when out of memory.  The
 * codec's release() frees it. */
void *sb_codec_state(struct sb_profile *p, size_t size, struct sb_err *err);

/* Parses a configure() value that must be a whole number of seconds from
 * min to max into *out; otherwise a config error naming key, the value and
 * `range` (the bounds in words, e.g. "0 to 1 year"). */
int sb_codec_parse_seconds(const char *key, const char *value, int64_t min,
                           int64_t max, const char *range, int64_t *out,
                           struct sb_err *err);

/* Replaces *field (owned) with a copy of value, which must not be empty. */
int sb_codec_set_string(char **field, const char *value, struct sb_err *err);

/* Sets *field (owned) to a copy of value when it is NULL: a format's
 * default for a key the profile left out. */
int sb_codec_default_string(char **field, const char *value,
                            struct sb_err *err);

#endif
