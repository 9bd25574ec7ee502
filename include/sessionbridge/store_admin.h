/*
 * store_admin.h - what the admin CLI needs from Redis beyond the request
 * path's store API: cursor-based iteration (SCAN, never KEYS), running one
 * Lua script many times in a pipeline, and the admin operations built on
 * them (batch reads and removals of sessions, log-out-everywhere, API
 * keys, statistics), so that whole-store operations proceed in small
 * batches and never block other clients.
 *
 * Removals themselves are the store's (sb_store_delete_many,
 * sb_store_logout_many in store.h), so a purge has exactly the effect of
 * the HTTP API: a session is deleted atomically with its index entry and
 * leaves a revocation marker, a user's log-out-everywhere sets the user's
 * not-before time, and stateless credentials of what was removed validate
 * as revoked at once.
 */
#ifndef SESSIONBRIDGE_STORE_ADMIN_H
#define SESSIONBRIDGE_STORE_ADMIN_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "sessionbridge/err.h"
#include "sessionbridge/redis.h"
#include "sessionbridge/session.h"
#include "sessionbridge/store.h"

/* A SCAN cursor over the keys that match a pattern.  Redis guarantees
 * every key present for the whole iteration is returned at least once
 * (possibly more than once); keys added meanwhile may or may not be. */
struct sb_scan {
    char cursor[32];                /* "0" before the first step */
    bool done;                      /* the server answered cursor 0 (in
                                     * cluster mode: the last primary) */
    size_t node;                    /* cluster: the primary walked now */
    unsigned long long steps;       /* SCAN calls made */
    unsigned long long keys_seen;   /* keys returned so far */
};

void sb_scan_init(struct sb_scan *it);

/* One SCAN step: SCAN cursor MATCH match COUNT count [TYPE type].  On
 * success *keys is the array reply of key names (possibly empty), owned
 * by the caller (freeReplyObject), and it->done tells whether this was the
 * last step.  type may be NULL. */
int sb_scan_step(struct sb_redis *r, struct sb_scan *it, const char *match,
                 unsigned count, const char *type, redisReply **keys,
                 struct sb_err *err);

/* Escapes the glob characters *?[]\ of s (a configured prefix, a profile
 * name) for a SCAN MATCH pattern.  Writes at most size-1 bytes and a NUL;
 * returns -1 when it does not fit. */
int sb_scan_escape(const char *s, char *out, size_t size);

/* One call of a script in a batch: its keys, then its arguments. */
struct sb_eval_call {
    int argc;             /* numkeys keys + arguments */
    const char **argv;
    const size_t *argvlen; /* NULL: strlen of each */
};

/*
 * Runs script (with sha = sb_redis_script_sha(script)) once per call, all
 * in one pipeline: n EVALSHA written, then n replies read in order into
 * replies[] (caller frees each).  Makes sure the script is loaded first,
 * and re-runs a call answered NOSCRIPT (script cache flushed meanwhile).
 * Each call is atomic in Redis; the batch as a whole is not.  On a
 * connection error every reply is freed and set to NULL: the calls that
 * reached Redis ran, the rest did not, and a re-run finishes the job.
 */
int sb_redis_eval_batch(struct sb_redis *r, const char *script,
                        const char *sha, int numkeys,
                        const struct sb_eval_call *calls, size_t n,
                        redisReply **replies, struct sb_err *err);

/* ---- sessions (layout v1, proto/REDIS-LAYOUT.md) ------------------------ */

/* What the admin operations read of a session (not its data). */
struct sb_admin_session {
    char sid[SB_SID_MAX];
    char tag[SB_STORE_TAG_MAX];         /* owner tag: "u:<escaped subject>"
                                           or "s:<sid>" */
    char subject[SB_SUBJECT_MAX + 1];   /* "" when anonymous (or when only
                                           the key was read) */
    char profile[SB_PROFILE_NAME_MAX];
    int64_t issued_at;                  /* 0 when unknown */
    int64_t expires_at;                 /* 0 when it never expires */
    int64_t updated_at;
};

/* One SCAN step over the session keys under prefix.  Fills *out (a new
 * array of *n entries, caller frees with free()) with the sessions the
 * step returned that still exist; with `meta` false only sid and tag are
 * filled (from the key names: no read of the values, enough to remove
 * them). */
int sb_admin_scan_sessions(struct sb_redis *r, const char *prefix,
                           struct sb_scan *it, unsigned count, bool meta,
                           struct sb_admin_session **out, size_t *n,
                           struct sb_err *err);

/* The sessions among the key names of keys (an array reply, e.g. of one
 * SCAN step over every key under the prefix), read in one pipeline: a new
 * array of *n entries (free()), for those that still exist. */
int sb_admin_sessions_of_keys(struct sb_redis *r, const char *prefix,
                              const redisReply *keys,
                              struct sb_admin_session **out, size_t *n,
                              struct sb_err *err);

/* Reads the sessions sids[0..n) through their sid pointers, pipelined:
 * found[i] tells whether sids[i] exists; out[i] is filled when it does.
 * SB_ERR_INVALID_REQUEST when a sid is malformed (sb_store_owners). */
int sb_admin_get_sessions(struct sb_redis *r, const char *prefix,
                          const char *const *sids, size_t n,
                          struct sb_admin_session *out, bool *found,
                          struct sb_err *err);

/* The live sessions in subject's index, as a new array (free()). */
int sb_admin_user_sessions(struct sb_redis *r, const char *prefix,
                           const char *subject,
                           struct sb_admin_session **out, size_t *n,
                           struct sb_err *err);

/* One SCAN step over the user indexes under prefix: the subjects they
 * belong to (unescaped), as a new array of new strings
 * (sb_admin_free_strings).  Removals go through the store's batch
 * primitives, sb_store_delete_many and sb_store_logout_many. */
int sb_admin_scan_users(struct sb_redis *r, const char *prefix,
                        struct sb_scan *it, unsigned count, char ***subjects,
                        size_t *n, struct sb_err *err);
void sb_admin_free_strings(char **v, size_t n);

/* Records sessions[0..n) through the store's own record script (as if the
 * daemon had validated their credentials), pipelined, with their sid
 * pointers: bulk loading for benchmarks and tests.  Each needs a sid. */
int sb_admin_put_sessions(struct sb_redis *r, const char *prefix,
                          const struct sb_session *sessions, size_t n,
                          int64_t now, struct sb_err *err);

/* What a key under the prefix is, by its name. */
enum sb_admin_kind {
    SB_ADMIN_KEY_SESSION,     /* P{T}:sess:SID */
    SB_ADMIN_KEY_INDEX,       /* P{u:S}:idx */
    SB_ADMIN_KEY_REVOKED,     /* P{T}:rev:SID */
    SB_ADMIN_KEY_NOT_BEFORE,  /* P{u:S}:nbf */
    SB_ADMIN_KEY_SID,         /* P sid:SID */
    SB_ADMIN_KEY_APIKEY,      /* P{k}:apikey:H */
    SB_ADMIN_KEY_APIKEY_META, /* P{k}:apikey-id:ID, P{k}:apikeys */
    SB_ADMIN_KEY_LAYOUT,      /* P layout */
    SB_ADMIN_KEY_OTHER        /* anything else under the prefix */
};

enum sb_admin_kind sb_admin_key_kind(const char *prefix, const char *key,
                                     size_t len);

#endif
