/*
 * cache.h - the verdict cache: credentials the bridge has verified and
 * recorded, so that at steady state forward-auth, validate and
 * introspect answer without a Redis round trip.
 *
 * One per process, shared by every worker thread: 64 shards, each with its
 * own mutex (no global lock), bounded in entries and bytes (FIFO
 * eviction per shard).  A lookup hashes the exact credential bytes and compares them on
 * a hit.  An entry lives no longer than its credential, nor than the
 * backstop TTL.
 *
 * Coherence: the store's scripts publish every revocation in the same
 * atomic step as the write (src/bridge/invalidation.c subscribes).  The
 * cache serves only while that subscription stands: sb_cache_subscribed()
 * false empties it and every lookup misses.  A miss takes a ticket before
 * it asks the store; its answer is kept only if no invalidation (nor
 * unsubscription) happened since, so an answer that raced a revocation is
 * never cached.
 *
 * Ownership: the cache copies what it keeps (the credential bytes, sid,
 * subject) and takes a reference on the session data, which it never
 * changes; a hit hands out a new copy of the subject and a new reference
 * on the data (the session owns them as usual).
 */
#ifndef SESSIONBRIDGE_CACHE_H
#define SESSIONBRIDGE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sessionbridge/codec.h"
#include "sessionbridge/config.h"
#include "sessionbridge/session.h"

#define SB_CACHE_ANY_PROFILE 0xffffu /* `kind` of a token tried with every
                                        profile */

/* Sizes the cache: at most `entries` credentials and about max_memory
 * bytes (an entry is charged its key bytes, subject and twice its data's
 * JSON text; one too big for a 64th of max_memory is never kept), each
 * kept at most ttl seconds.  0 entries or ttl disables it (every lookup
 * misses).  Call once at start, before any worker runs. */
int sb_cache_init(unsigned entries, unsigned ttl, size_t max_memory);

/* Frees every entry (at exit, after the workers stopped). */
void sb_cache_shutdown(void);

/* Whether the cache may serve: it is enabled and the invalidation
 * subscription stands. */
bool sb_cache_active(void);

/* The subscription's state, set by the invalidation subscriber: false
 * empties the cache at once. */
void sb_cache_set_subscribed(bool subscribed);

/* The invalidation feed's socket (-1: none to watch) and whether its
 * reader holds messages it has not applied yet.  A lookup misses while
 * the reader is busy, or while the socket has unread bytes: a revocation
 * Redis has already sent this process is not answered from the cache,
 * even when the subscriber thread has not run yet (a loaded machine).
 * Looking at the socket is a system call, so a thread that found it empty
 * less than recheck_us microseconds ago trusts that (0: look every time):
 * bytes that arrived meanwhile can go unnoticed for at most that long. */
void sb_cache_set_feed(int fd, unsigned recheck_us);
void sb_cache_feed_busy(bool busy);

/* The recheck_us the invalidation subscriber gives: 0.1 ms, far below the
 * time a caller needs to hear a revocation's acknowledgement and ask
 * another bridge, and it spares most hits the poll at full load. */
#define SB_CACHE_FEED_RECHECK_US 100

/* A miss's ticket, taken before it asks the store (0: do not keep the
 * answer, the cache is not active). */
uint64_t sb_cache_ticket(void);

/* Looks up credential key[0..len) as tried with profile `kind` (an index
 * into cfg->profiles, or SB_CACHE_ANY_PROFILE) under config cfg, in the
 * request context ctx (its client address and User-Agent are part of the
 * key: a codec may bind a session to them), at ctx->now.  On a hit fills
 * out (initialised by the caller) and *used, and returns true. */
bool sb_cache_lookup(const struct sb_config *cfg, unsigned kind,
                     const char *key, size_t len,
                     const struct sb_codec_ctx *ctx, struct sb_session *out,
                     const struct sb_profile **used);

/* Keeps the verdict "valid, session s of profile used" for the credential
 * (as sb_cache_lookup names it), unless ticket is 0 or stale. */
void sb_cache_insert(const struct sb_config *cfg, uint64_t ticket,
                     unsigned kind, const char *key, size_t len,
                     const struct sb_codec_ctx *ctx,
                     const struct sb_session *s,
                     const struct sb_profile *used);

/* Drops every entry of session sid / of every session of owner tag
 * ("u:" + escaped subject, as the store names owners) / everything. */
void sb_cache_invalidate_sid(const char *sid, size_t len);
void sb_cache_invalidate_owner(const char *tag, size_t len);
void sb_cache_clear(void);

/* For /metrics. */
struct sb_cache_stats {
    unsigned long hits;
    unsigned long misses;
    unsigned long invalidations; /* messages applied (sid, owner, clear) */
    unsigned long entries;       /* entries held now */
    unsigned long subscriptions; /* times the subscription (re)started */
    bool subscribed;
    unsigned capacity;           /* [cache] entries; 0 when disabled */
};

void sb_cache_stats(struct sb_cache_stats *out);

#endif
