/*
 * store.h - the canonical sessions, revocations and API keys in Redis,
 * as documented in proto/REDIS-LAYOUT.md (layout version 1).
 *
 * Used by the HTTP endpoints and by the admin CLI alike, so both change
 * Redis in exactly the same way.  Every multi-key operation is one Lua
 * script (loaded once, called by SHA) over keys of one hash slot.
 *
 * Every function returns 0 or -1 and fills a caller-owned struct sb_err:
 * SB_ERR_STORE when Redis is unreachable or answers with an error (callers
 * fail closed on it), SB_ERR_NOT_FOUND, SB_ERR_REVOKED,
 * SB_ERR_INVALID_REQUEST (an argument that cannot form a key), SB_ERR_NOMEM.
 * `prefix` is the configured key prefix ([redis] prefix); `r` a connection
 * (sb_redis_thread in the daemon).  None of them keeps a pointer to its
 * arguments.
 */
#ifndef SESSIONBRIDGE_STORE_H
#define SESSIONBRIDGE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sessionbridge/config.h"
#include "sessionbridge/err.h"
#include "sessionbridge/redis.h"
#include "sessionbridge/session.h"

#define SB_STORE_LAYOUT_VERSION 1
#define SB_STORE_KEY_MAX 1024         /* longest key built, plus NUL */
#define SB_STORE_PREFIX_MAX 64        /* longest [redis] prefix accepted */
#define SB_STORE_TAG_MAX 800          /* "u:" + escaped 256-byte subject */
#define SB_STORE_UNBOUNDED_TTL 34560000 /* 400 days: the lifetime given to
                                           what has no expiry of its own
                                           (browsers cap cookies there) */
#define SB_SUBJECT_MAX 256            /* longest subject, in bytes */
#define SB_STORE_USER_SESSIONS_MAX 100 /* live sessions one user may have;
                                          past it the ones expiring soonest
                                          are revoked */
#define SB_APIKEY_ID_MAX 65           /* key id: 1-64 of [A-Za-z0-9._-] */

/* ---- key names ----------------------------------------------------------- */

/* The owner tag of a session (the text inside the braces): "u:" + the
 * escaped subject when subject is not NULL, else "s:" + sid.  Fails when
 * the subject is empty or longer than SB_SUBJECT_MAX. */
int sb_store_tag(const char *subject, const char *sid, char *buf, size_t size,
                 struct sb_err *err);

/* Escapes a subject for a key: bytes outside A-Za-z0-9-._~@+= become %XX. */
int sb_store_escape_subject(const char *subject, char *buf, size_t size,
                            struct sb_err *err);

/* P{tag}:sess:SID, P{tag}:idx, P{tag}:rev:SID, P{tag}:nbf.  Each writes
 * a NUL-terminated key into buf (SB_STORE_KEY_MAX is always enough). */
int sb_store_key_session(const char *prefix, const char *tag, const char *sid,
                         char *buf, size_t size, struct sb_err *err);
int sb_store_key_index(const char *prefix, const char *tag, char *buf,
                       size_t size, struct sb_err *err);
int sb_store_key_revoked(const char *prefix, const char *tag, const char *sid,
                         char *buf, size_t size, struct sb_err *err);
int sb_store_key_not_before(const char *prefix, const char *tag, char *buf,
                            size_t size, struct sb_err *err);
/* The keys one session's scripts take (record, delete, log-out): those of
 * session sid of owner tag.  With sid "", sess and rev are the prefixes a
 * script appends sids to (log-out-everywhere). */
struct sb_store_keys {
    char sess[SB_STORE_KEY_MAX]; /* P{tag}:sess:SID */
    char idx[SB_STORE_KEY_MAX];  /* P{tag}:idx */
    char rev[SB_STORE_KEY_MAX];  /* P{tag}:rev:SID */
    char nbf[SB_STORE_KEY_MAX];  /* P{tag}:nbf */
};

int sb_store_key_set(const char *prefix, const char *tag, const char *sid,
                     struct sb_store_keys *k, struct sb_err *err);

/* P invalidate: the channel every revocation is published on, in the
 * same script as the write ("i SID": a session; "o TAG": every session of
 * an owner), for the caches of every bridge sharing the store. */
int sb_store_key_channel(const char *prefix, char *buf, size_t size,
                         struct sb_err *err);

/* P sid:SID (the sid pointer), P layout. */
int sb_store_key_sid(const char *prefix, const char *sid, char *buf,
                     size_t size, struct sb_err *err);
int sb_store_key_layout(const char *prefix, char *buf, size_t size,
                        struct sb_err *err);
/* P{k}:apikey:HEX, P{k}:apikey-id:ID, P{k}:apikeys. */
int sb_store_key_apikey(const char *prefix, const char *hash_hex, char *buf,
                        size_t size, struct sb_err *err);
int sb_store_key_apikey_id(const char *prefix, const char *key_id, char *buf,
                           size_t size, struct sb_err *err);
int sb_store_key_apikeys(const char *prefix, char *buf, size_t size,
                         struct sb_err *err);

/* ---- lifetimes ------------------------------------------------------------ */

/* The longest lifetime a credential of any configured profile can have:
 * the largest max_age, SB_STORE_UNBOUNDED_TTL when some profile has none
 * (max_age 0) or there is no profile.  The TTL of not-before keys. */
int64_t sb_store_max_lifetime(const struct sb_config *cfg);

/* ---- layout version ------------------------------------------------------- */

/* Writes P layout = "1" when absent; fails with SB_ERR_CONFIG when Redis
 * holds another layout version. */
int sb_store_layout_ensure(struct sb_redis *r, const char *prefix,
                           struct sb_err *err);

/* ---- sessions -------------------------------------------------------------- */

/*
 * The hot path: records the session of a credential that just verified
 * and checks it against revocation and ownership, in one round trip (a
 * pipeline of two scripts: the claim of the sid pointer P sid:SID, and the
 * record over the owner's slot).  Fails with SB_ERR_REVOKED when the sid
 * has a revocation marker or the subject's not-before is later than
 * s->issued_at (when known), and with SB_ERR_INVALID_CLAIM when the sid
 * already belongs to another owner (another user, or a user when s names
 * none, or none when s names one): the pointer is fixed at first sight and
 * never re-pointed.  Otherwise inserts s when absent (version 1,
 * updated_at now, TTL from expires_at) with its index entry, and sets
 * *inserted.  s->sid must be set.  Serialises into thread-local buffers:
 * no allocation once they have grown.
 */
int sb_store_record(struct sb_redis *r, const char *prefix,
                    const struct sb_session *s, int64_t now, bool *inserted,
                    struct sb_err *err);

/* Creates a new session (a login): like sb_store_record but s->sid is
 * new (the caller generated it), so an existing key is an error
 * (SB_ERR_INTERNAL: a sid collision).  Sets s->version = 1 and
 * s->updated_at = now. */
int sb_store_create(struct sb_redis *r, const char *prefix,
                    struct sb_session *s, int64_t now, struct sb_err *err);

/* The owner tag of sid from its pointer (tag: SB_STORE_TAG_MAX bytes).
 * SB_ERR_NOT_FOUND when there is none. */
int sb_store_owner(struct sb_redis *r, const char *prefix, const char *sid,
                   char *tag, size_t size, struct sb_err *err);

/* sb_store_owner for sids[0..n) in one pipeline: tags[i] receives the
 * owner tag of sids[i], "" when it has no pointer (or an unreadable one).
 * SB_ERR_INVALID_REQUEST, before anything is sent, when a sid is
 * malformed. */
int sb_store_owners(struct sb_redis *r, const char *prefix,
                    const char *const *sids, size_t n,
                    char (*tags)[SB_STORE_TAG_MAX], struct sb_err *err);

/* Sets *revoked when sid, looked up by its pointer, has a revocation
 * marker (false when the store knows nothing of it).  For credentials
 * whose owner is not known without the session (express). */
int sb_store_sid_revoked(struct sb_redis *r, const char *prefix,
                         const char *sid, bool *revoked, struct sb_err *err);

/* Reads session sid into out (initialised by the caller).  SB_ERR_NOT_FOUND
 * when it does not exist (or has expired). */
int sb_store_get(struct sb_redis *r, const char *prefix, const char *sid,
                 struct sb_session *out, struct sb_err *err);

/* Merges `data` (a JSON object; a key with null is removed, others replace)
 * into session sid's data, bumps version, sets updated_at = now; the TTL is
 * kept.  Retries on a concurrent write.  out (initialised) receives the
 * new session. */
int sb_store_patch(struct sb_redis *r, const char *prefix, const char *sid,
                   const json_t *data, int64_t now, struct sb_session *out,
                   struct sb_err *err);

/* What a removal of one session reports. */
struct sb_store_removed {
    bool existed;                  /* the session key was there */
    char profile[SB_PROFILE_NAME_MAX]; /* its profile, "" when unknown */
};

/*
 * Deletes session sid and revokes it: one atomic script over the owner's
 * slot removes the session and its index entry and writes the revocation
 * marker, with a TTL of the session's remaining lifetime and at least
 * least_ttl (callers pass sb_store_max_lifetime(), so a copy of the
 * credential the app re-signed meanwhile is caught too).  A sid already
 * revoked (and no longer stored) keeps its marker as it is.  The sid pointer is then
 * kept as long as the marker, so a bare sid still leads to it and no
 * other owner can claim the sid.  subject: the owner when known (NULL:
 * read it from the pointer; then SB_ERR_NOT_FOUND when there is none).
 * This is also the CLI's purge of one session.  removed may be NULL.
 */
int sb_store_delete(struct sb_redis *r, const char *prefix, const char *sid,
                    const char *subject, int64_t now, int64_t least_ttl,
                    struct sb_store_removed *removed, struct sb_err *err);

/*
 * Revokes the session of a credential that just decoded into s (the API's
 * POST /v1/revoke and the CLI's revoke alike) as sb_store_delete does,
 * under its owner tag (its subject's, or the anonymous one of its sid).
 * The marker lives at least as long as the credential could (400 days
 * when it never expires) and least_ttl.  removed (may be NULL) is filled
 * for a session with a subject and zeroed for an anonymous one.
 */
int sb_store_revoke(struct sb_redis *r, const char *prefix,
                    const struct sb_session *s, int64_t now,
                    int64_t least_ttl, struct sb_store_removed *removed,
                    struct sb_err *err);

/* The live sessions of subject at now (at most `limit`; 0 = all), soonest
 * expiry first, as a new array of *n sessions the caller frees with
 * sb_store_free_sessions. */
int sb_store_list_user(struct sb_redis *r, const char *prefix,
                       const char *subject, int64_t now, size_t limit,
                       struct sb_session **out, size_t *n,
                       struct sb_err *err);
void sb_store_free_sessions(struct sb_session *v, size_t n);

/*
 * Logs subject out everywhere: not-before = now (TTL nbf_ttl, see
 * sb_store_max_lifetime), a revocation marker for every indexed sid
 * (living at least nbf_ttl), every session and the index deleted, in one
 * atomic script; then the sid pointers are kept as long as the markers.
 * *sids (may be NULL) receives the removed sids as a new array of *n new
 * strings (sb_store_free_strings), so the caller can drop framework
 * records (connect-redis) too.
 */
int sb_store_logout_user(struct sb_redis *r, const char *prefix,
                         const char *subject, int64_t now, int64_t nbf_ttl,
                         char ***sids, size_t *n, struct sb_err *err);
void sb_store_free_strings(char **v, size_t n);

/* ---- list answers -------------------------------------------------------- */

/* Parses one stored JSON record into item (zeroed); false when the text
 * is not a record, which is then skipped (item must hold nothing to free
 * then). */
typedef bool (*sb_store_record_parser)(const char *text, size_t len,
                                       void *item);

/*
 * Reads rep, a script's answer listing stored JSON records (a user's
 * sessions, the API keys), and takes it over (it is freed whatever the
 * outcome).  *out receives a new zeroed array of item_size-byte items, one
 * per string element parse accepts, *n of them (and a spare zeroed one at
 * the end); the caller releases each item as its type says, then frees
 * the array.  SB_ERR_STORE when rep is not an array, SB_ERR_NOMEM.
 */
int sb_store_parse_records(redisReply *rep, size_t item_size,
                           sb_store_record_parser parse, void **out,
                           size_t *n, struct sb_err *err);

/* ---- batches (the admin CLI's purges) ------------------------------------ */

/*
 * sb_store_delete for sids[0..n) in three pipelines (owners, one atomic
 * script per session, the pointers kept): removed[i] tells whether sids[i] existed
 * and its profile.  A sid without a pointer is not touched (its owner is
 * unknown).  Each session's removal is atomic, the batch is not: after a
 * failure a re-run finishes the job.
 */
int sb_store_delete_many(struct sb_redis *r, const char *prefix,
                         const char *const *sids, size_t n, int64_t now,
                         int64_t least_ttl, struct sb_store_removed *removed,
                         struct sb_err *err);

/* sb_store_logout_user for subjects[0..n), one script each in one
 * pipeline; removed[i] receives the number of sessions removed, and *sids
 * (when sids is not NULL) all their sids as a new array of *nsids new
 * strings (sb_store_free_strings). */
int sb_store_logout_many(struct sb_redis *r, const char *prefix,
                         const char *const *subjects, size_t n, int64_t now,
                         int64_t nbf_ttl, long long *removed, char ***sids,
                         size_t *nsids, struct sb_err *err);

/* ---- API keys ------------------------------------------------------------- */

#define SB_APIKEY_SCOPES_MAX 16

struct sb_apikey {
    char key_id[SB_APIKEY_ID_MAX];
    char subject[SB_SUBJECT_MAX + 1];
    json_t *scopes;      /* array of strings; owned (NULL = none) */
    int64_t created_at;
    int64_t expires_at;  /* 0 = never */
};

void sb_apikey_reset(struct sb_apikey *k);

/* Stores key k under the SHA-256 of the secret key[0..len) (the key itself
 * is not stored).  Fails with SB_ERR_INVALID_REQUEST when key_id is taken
 * or malformed, or expires_at is past. */
int sb_store_apikey_put(struct sb_redis *r, const char *prefix,
                        const struct sb_apikey *k, const char *key,
                        size_t len, int64_t now, struct sb_err *err);

/* Looks the secret key[0..len) up: SB_ERR_NOT_FOUND when unknown or
 * expired.  The stored hash is compared in constant time.  out is reset
 * first. */
int sb_store_apikey_get(struct sb_redis *r, const char *prefix,
                        const char *key, size_t len, int64_t now,
                        struct sb_apikey *out, struct sb_err *err);

/* Deletes key key_id (both keys and its list entry); SB_ERR_NOT_FOUND when
 * there is none. */
int sb_store_apikey_delete(struct sb_redis *r, const char *prefix,
                           const char *key_id, struct sb_err *err);

/* Every live key, ordered by expiry, as a new array (free each with
 * sb_apikey_reset, then free()). */
int sb_store_apikey_list(struct sb_redis *r, const char *prefix, int64_t now,
                         struct sb_apikey **out, size_t *n,
                         struct sb_err *err);

#endif
