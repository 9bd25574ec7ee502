/*
 * express.h - the server-side half of an Express session: connect-redis 7
 * records (FORMATS.md section 5).
 *
 * The `express` codec only carries the session id: its cookie is
 * "s:" sid "." HMAC.  The session data lives in Redis under
 * store_prefix + sid ("sess:" by default) as JSON.stringify output with a
 * `cookie` object first.  The codec offers them as its records capability
 * (struct sb_codec_records), which the bridge reads and writes in the same
 * Redis its own store uses.
 *
 * A record is what connect-redis's set() writes:
 *   {"cookie":{"originalMaxAge":86400000,"expires":"2026-11-23T10:30:17.557Z",
 *    "httpOnly":true,"path":"/"},"user_id":42,"username":"alice"}
 * stored with `SET key value EX ttl`, where ttl = ceil((expires - now)/1000)
 * when cookie.expires is set and the profile's store_ttl (86400) otherwise;
 * connect-redis DELetes the key instead when ttl <= 0.
 */
#ifndef SESSIONBRIDGE_EXPRESS_H
#define SESSIONBRIDGE_EXPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "sessionbridge/codec.h"
#include "sessionbridge/err.h"
#include "sessionbridge/profile.h"
#include "sessionbridge/session.h"

/* Writes the Redis key of `sid` for express profile p (store_prefix + sid)
 * into a new string *out; caller frees. */
int sb_express_record_key(const struct sb_profile *p, const char *sid,
                          char **out, struct sb_err *err);

/* Builds the record of canonical session s for express profile p at
 * now_ms (Unix milliseconds).  The data is mapped to the profile's field
 * names (renames, subject in subject_field) and written after a `cookie`
 * object in express-session's field order: originalMaxAge, expires,
 * secure (when set), httpOnly, domain (when set), path, sameSite (when set).
 * expires is s->expires_at, else now + max_age when the profile has one,
 * else null (a browser-session cookie; ttl = store_ttl).  originalMaxAge is
 * the lifetime left at now_ms in ms, or null.  s->sid must be set.
 * Fills *out (key: store_prefix + sid; ttl <= 0 when the session is
 * already over, so connect-redis would delete the key), which the caller
 * frees with sb_codec_record_free. */
int sb_express_record_build(const struct sb_profile *p,
                            const struct sb_session *s, int64_t now_ms,
                            struct sb_codec_record *out,
                            struct sb_err *err);

/* The TTL connect-redis gives a record whose cookie.expires is
 * expires_ms (Unix ms; < 0 when null) at now_ms: ceil((expires - now) /
 * 1000), or the profile's store_ttl when expires is null.  p must be an
 * express profile. */
int64_t sb_express_record_ttl(const struct sb_profile *p, int64_t expires_ms,
                              int64_t now_ms);

/* Parses a record value[0..len) read from Redis into s: the data without
 * its `cookie` object, mapped to canonical names (subject from
 * subject_field, renames), expires_at = cookie.expires rounded up to the
 * second (0 when null).  s must be initialised and normally already holds
 * the sid and profile from decoding the cookie; its data, subject and
 * expires_at are replaced, the rest is kept.  Fails with SB_ERR_EXPIRED
 * when cookie.expires is at or before now_ms (Redis would have dropped the
 * key), SB_ERR_MALFORMED when the record is not an object with a `cookie`
 * object (express-session throws on those) or cookie.expires is not a
 * toISOString date, SB_ERR_TOO_LARGE past 1 MiB or the depth cap.  On
 * failure s is reset (never partially filled). */
int sb_express_record_parse(const struct sb_profile *p, const char *value,
                            size_t len, int64_t now_ms, struct sb_session *s,
                            struct sb_err *err);

#endif
