/* cache.c - the verdict cache (sessionbridge/cache.h): 64 shards of
 * chained hash buckets, each shard with its own mutex, a FIFO ring of its
 * entries for eviction and a byte budget; two more chains per shard index
 * the entries by sid and by owner, so an invalidation costs a bucket walk
 * per shard, not a walk of the whole cache (a purge of a million sessions
 * publishes as many); a process-wide generation counter that every
 * invalidation bumps, so a miss's answer that raced one is not kept. */
#include "sessionbridge/cache.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sessionbridge/crypto.h"
#include "sessionbridge/store.h"

#define SHARDS 64

struct entry {
    struct entry *next;          /* bucket chain (by credential) */
    struct entry *sid_next;      /* chain of by_sid */
    struct entry *owner_next;    /* chain of by_owner */
    size_t cost;                 /* bytes charged to the shard's budget */
    uint64_t hash;               /* of kind and key */
    uint64_t sid_hash;
    uint64_t owner_hash;         /* of the owner tag */
    const struct sb_config *cfg; /* the config it was decided under */
    int64_t deadline;            /* Unix seconds: gone from then on */
    unsigned kind;
    unsigned used;               /* profile index */
    unsigned slot;               /* its place in the shard's ring */
    int64_t issued_at;
    int64_t expires_at;
    char sid[SB_SID_MAX];
    char *subject;               /* owned; NULL when anonymous */
    json_t *data;                /* a reference, never changed */
    size_t len;                  /* of the credential */
    size_t addr_len, ua_len;     /* of the request's context after it */
    char key[];                  /* the credential bytes, then the client
                                    address and User-Agent it was judged
                                    with (a codec may bind a session to
                                    them: Flask-Login's strong mode) */
};

struct shard {
    pthread_mutex_t lock;
    struct entry **buckets;      /* nbuckets chains, by credential */
    struct entry **by_sid;       /* nbuckets chains, by sid_hash */
    struct entry **by_owner;     /* nbuckets chains, by owner_hash */
    size_t nbuckets;             /* a power of two */
    size_t bytes;                /* sum of the entries' cost */
    struct entry **ring;         /* cap slots, FIFO order of insertion */
    unsigned cap;
    unsigned hand;               /* next slot to fill (and evict) */
    unsigned count;
};

static struct shard shards[SHARDS];
static size_t shard_budget;      /* bytes per shard */
static unsigned ttl_seconds;
static bool enabled;
static uint64_t seed;
static atomic_bool subscribed;
static atomic_uint_fast64_t generation = 1;
static atomic_ulong hits, misses, invalidations, held, subscriptions;
static atomic_int feed_fd = -1;
static atomic_uint feed_recheck_us;
static atomic_bool feed_busy;
static __thread int64_t feed_seen_empty_us; /* this thread's last poll that
                                               found the feed empty */

/* A 64-bit hash of data with the process's seed: multiply-xorshift over
 * 8-byte words.  Only credentials that verified are ever stored, so
 * chosen collisions buy an attacker nothing but a longer chain walk. */
static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t w;

    h ^= len * 0x9e3779b97f4a7c15ull;
    while (len >= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        p += 8;
        len -= 8;
    }
    w = 0;
    memcpy(&w, p, len);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return h;
}

/* The request context a verdict depends on: the client address and
 * User-Agent ("" when unknown). */
struct context {
    const char *addr;
    size_t addr_len;
    const char *ua;
    size_t ua_len;
};

static void context_of(const struct sb_codec_ctx *ctx, struct context *c)
{
    c->addr = ctx->client_addr ? ctx->client_addr : "";
    c->addr_len = strlen(c->addr);
    c->ua = ctx->user_agent ? ctx->user_agent : "";
    c->ua_len = strlen(c->ua);
}

static uint64_t key_hash(unsigned kind, const char *key, size_t len,
                         const struct context *c)
{
    uint64_t h = hash_bytes(seed ^ kind, key, len);

    h = hash_bytes(h, c->addr, c->addr_len);
    return hash_bytes(h, c->ua, c->ua_len);
}

/* True when e is the entry of this credential and context. */
static bool same_key(const struct entry *e, const char *key, size_t len,
                     const struct context *c)
{
    return e->len == len && e->addr_len == c->addr_len &&
           e->ua_len == c->ua_len && memcmp(e->key, key, len) == 0 &&
           memcmp(e->key + len, c->addr, c->addr_len) == 0 &&
           memcmp(e->key + len + c->addr_len, c->ua, c->ua_len) == 0;
}

/* Every shard's chain heads and ring, in one zeroed block: large enough
 * for calloc to map it, so pages nobody touched cost no memory (a cache
 * sized for 100000 entries starts at a few kB, not 4 MB). */
static struct entry **slots;

int sb_cache_init(unsigned entries, unsigned ttl, size_t max_memory)
{
    struct sb_err err;
    unsigned per, i;
    size_t nb, each;

    if (entries == 0 || ttl == 0)
        return 0;
    if (sb_random_bytes(&seed, sizeof(seed), &err) != 0)
        return -1;
    per = (entries + SHARDS - 1) / SHARDS;
    for (nb = 1; nb < per; nb <<= 1)
        ;
    each = 3 * nb + per;
    slots = calloc((size_t)SHARDS * each, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (i = 0; i < SHARDS; i++) {
        struct shard *sh = &shards[i];
        pthread_mutex_init(&sh->lock, NULL);
        sh->buckets = slots + i * each;
        sh->by_sid = sh->buckets + nb;
        sh->by_owner = sh->by_sid + nb;
        sh->ring = sh->by_owner + nb;
        sh->nbuckets = nb;
        sh->cap = per;
    }
    shard_budget = max_memory / SHARDS;
    ttl_seconds = ttl;
    enabled = true;
    return 0;
}

static void entry_free(struct entry *e)
{
    free(e->subject);
    json_decref(e->data);
    free(e);
}

/* Links e into its shard's three chains (the ring slot is the caller's);
 * the caller holds the shard's lock. */
static void link_entry(struct shard *sh, struct entry *e)
{
    size_t mask = sh->nbuckets - 1;

    e->next = sh->buckets[e->hash & mask];
    sh->buckets[e->hash & mask] = e;
    e->sid_next = sh->by_sid[e->sid_hash & mask];
    sh->by_sid[e->sid_hash & mask] = e;
    e->owner_next = sh->by_owner[e->owner_hash & mask];
    sh->by_owner[e->owner_hash & mask] = e;
    sh->bytes += e->cost;
    sh->count++;
    atomic_fetch_add_explicit(&held, 1, memory_order_relaxed);
}

/* Unlinks e from its chains and ring; the caller holds the shard's lock
 * and frees e. */
static void unlink_entry(struct shard *sh, struct entry *e)
{
    size_t mask = sh->nbuckets - 1;
    struct entry **pp = &sh->buckets[e->hash & mask];

    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    pp = &sh->by_sid[e->sid_hash & mask];
    while (*pp != e)
        pp = &(*pp)->sid_next;
    *pp = e->sid_next;
    pp = &sh->by_owner[e->owner_hash & mask];
    while (*pp != e)
        pp = &(*pp)->owner_next;
    *pp = e->owner_next;
    sh->ring[e->slot] = NULL;
    sh->bytes -= e->cost;
    sh->count--;
    atomic_fetch_sub_explicit(&held, 1, memory_order_relaxed);
}

/* Drops every entry of sh. */
static void empty_shard(struct shard *sh)
{
    unsigned i;

    pthread_mutex_lock(&sh->lock);
    for (i = 0; i < sh->cap && sh->count > 0; i++) {
        struct entry *e = sh->ring[i];
        if (e == NULL)
            continue;
        unlink_entry(sh, e);
        entry_free(e);
    }
    pthread_mutex_unlock(&sh->lock);
}

void sb_cache_shutdown(void)
{
    unsigned i;

    if (!enabled)
        return;
    for (i = 0; i < SHARDS; i++) {
        empty_shard(&shards[i]);
        pthread_mutex_destroy(&shards[i].lock);
    }
    free(slots);
    slots = NULL;
    enabled = false;
}

bool sb_cache_active(void)
{
    return enabled && atomic_load_explicit(&subscribed, memory_order_acquire);
}

/* Every invalidation bumps the generation before it drops entries, so a miss
 * holding an older ticket does not keep its answer. */
static void bump(void)
{
    atomic_fetch_add_explicit(&generation, 1, memory_order_acq_rel);
    atomic_fetch_add_explicit(&invalidations, 1, memory_order_relaxed);
}

void sb_cache_clear(void)
{
    unsigned i;

    if (!enabled)
        return;
    bump();
    for (i = 0; i < SHARDS; i++)
        empty_shard(&shards[i]);
}

void sb_cache_set_subscribed(bool on)
{
    if (!enabled)
        return;
    if (!on) {
        atomic_store_explicit(&subscribed, false, memory_order_release);
        sb_cache_clear();
        return;
    }
    sb_cache_clear();
    atomic_fetch_add_explicit(&subscriptions, 1, memory_order_relaxed);
    atomic_store_explicit(&subscribed, true, memory_order_release);
}

uint64_t sb_cache_ticket(void)
{
    if (!sb_cache_active())
        return 0;
    return atomic_load_explicit(&generation, memory_order_acquire);
}

void sb_cache_set_feed(int fd, unsigned recheck_us)
{
    atomic_store_explicit(&feed_recheck_us, recheck_us, memory_order_relaxed);
    atomic_store_explicit(&feed_fd, fd, memory_order_release);
}

/* A monotonic clock in microseconds. */
static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void sb_cache_feed_busy(bool busy)
{
    atomic_store_explicit(&feed_busy, busy, memory_order_seq_cst);
}

/* True when the feed may hold an invalidation not applied yet: bytes on
 * its socket (or the socket in error; not looked at again within
 * recheck_us of finding it empty), else its reader busy.  In that order:
 * the subscriber marks itself busy before it reads the socket. */
static bool feed_pending(void)
{
    struct pollfd p;
    unsigned recheck = atomic_load_explicit(&feed_recheck_us,
                                            memory_order_relaxed);
    int64_t now = 0;

    p.fd = atomic_load_explicit(&feed_fd, memory_order_acquire);
    if (p.fd < 0)
        return false;
    if (recheck > 0)
        now = mono_us();
    if (recheck == 0 || now - feed_seen_empty_us >= (int64_t)recheck) {
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, 0) != 0)
            return true;
        feed_seen_empty_us = now;
    }
    return atomic_load_explicit(&feed_busy, memory_order_seq_cst);
}

bool sb_cache_lookup(const struct sb_config *cfg, unsigned kind,
                     const char *key, size_t len,
                     const struct sb_codec_ctx *ctx, struct sb_session *out,
                     const struct sb_profile **used)
{
    struct context c;
    uint64_t h;
    struct shard *sh;
    struct entry *e;
    bool hit = false;

    if (!sb_cache_active())
        return false;
    if (feed_pending()) {
        atomic_fetch_add_explicit(&misses, 1, memory_order_relaxed);
        return false;
    }
    context_of(ctx, &c);
    h = key_hash(kind, key, len, &c);
    sh = &shards[h % SHARDS];
    pthread_mutex_lock(&sh->lock);
    for (e = sh->buckets[h & (sh->nbuckets - 1)]; e != NULL; e = e->next) {
        if (e->hash != h || e->kind != kind || e->cfg != cfg ||
            !same_key(e, key, len, &c))
            continue;
        if (e->deadline <= ctx->now) {
            /* dropped now: an expired entry's memory does not wait for
             * the ring to come round (the miss inserts a fresh one) */
            unlink_entry(sh, e);
            entry_free(e);
            break;
        }
        out->subject = e->subject ? strdup(e->subject) : NULL;
        if (e->subject != NULL && out->subject == NULL)
            break;
        memcpy(out->sid, e->sid, sizeof(out->sid));
        out->issued_at = e->issued_at;
        out->expires_at = e->expires_at;
        out->data = json_incref(e->data);
        sb_session_set_profile(out, cfg->profiles[e->used].name);
        *used = &cfg->profiles[e->used];
        hit = true;
        break;
    }
    pthread_mutex_unlock(&sh->lock);
    atomic_fetch_add_explicit(hit ? &hits : &misses, 1, memory_order_relaxed);
    return hit;
}

/* The owner tag of s as the store names it ("u:" + escaped subject, or
 * "s:" + sid), hashed; 0 when it cannot be formed. */
static uint64_t owner_hash(const struct sb_session *s)
{
    char tag[SB_STORE_TAG_MAX];
    struct sb_err err;

    if (sb_store_tag(s->subject, s->sid, tag, sizeof(tag), &err) != 0)
        return 0;
    return hash_bytes(seed, tag, strlen(tag));
}

/* What e is charged against the byte budget: the entry with its key
 * bytes and subject, plus twice the session data's compact JSON text (an
 * estimate of the decoded tree, which the cache shares with the codec's
 * answer). */
static size_t entry_cost(const struct entry *e, const struct sb_session *s)
{
    size_t cost = sizeof(*e) + e->len + e->addr_len + e->ua_len;

    if (e->subject != NULL)
        cost += strlen(e->subject) + 1;
    return cost + 2 * json_dumpb(s->data, NULL, 0, JSON_COMPACT);
}

/* A new entry for the credential and session; NULL when out of memory. */
static struct entry *entry_new(const struct sb_config *cfg, unsigned kind,
                               const char *key, size_t len,
                               const struct context *c,
                               const struct sb_session *s,
                               const struct sb_profile *used, int64_t now)
{
    struct entry *e = calloc(1, sizeof(*e) + len + c->addr_len + c->ua_len);
    int64_t deadline = now + ttl_seconds;

    if (e == NULL)
        return NULL;
    if (s->subject != NULL && (e->subject = strdup(s->subject)) == NULL) {
        free(e);
        return NULL;
    }
    if (s->expires_at > 0 && s->expires_at < deadline)
        deadline = s->expires_at;
    e->hash = key_hash(kind, key, len, c);
    e->sid_hash = hash_bytes(seed, s->sid, strlen(s->sid));
    e->owner_hash = owner_hash(s);
    e->cfg = cfg;
    e->deadline = deadline;
    e->kind = kind;
    e->used = (unsigned)(used - cfg->profiles);
    e->issued_at = s->issued_at;
    e->expires_at = s->expires_at;
    memcpy(e->sid, s->sid, sizeof(e->sid));
    e->data = json_incref(s->data);
    e->len = len;
    e->addr_len = c->addr_len;
    e->ua_len = c->ua_len;
    e->cost = entry_cost(e, s);
    memcpy(e->key, key, len);
    memcpy(e->key + len, c->addr, c->addr_len);
    memcpy(e->key + len + c->addr_len, c->ua, c->ua_len);
    return e;
}

void sb_cache_insert(const struct sb_config *cfg, uint64_t ticket,
                     unsigned kind, const char *key, size_t len,
                     const struct sb_codec_ctx *ctx,
                     const struct sb_session *s,
                     const struct sb_profile *used)
{
    struct context c;
    struct entry *e, *old;
    struct shard *sh;
    unsigned i;

    if (ticket == 0 || !sb_cache_active() || s->data == NULL ||
        (s->expires_at > 0 && s->expires_at <= ctx->now))
        return;
    context_of(ctx, &c);
    if ((e = entry_new(cfg, kind, key, len, &c, s, used, ctx->now)) == NULL)
        return;
    if (e->cost > shard_budget) { /* too big to keep: it stays a miss */
        entry_free(e);
        return;
    }
    sh = &shards[e->hash % SHARDS];
    pthread_mutex_lock(&sh->lock);
    /* under the lock: an invalidation that bumped the generation after
     * this check sweeps this shard after we release it */
    if (atomic_load_explicit(&generation, memory_order_acquire) != ticket ||
        !atomic_load_explicit(&subscribed, memory_order_acquire)) {
        pthread_mutex_unlock(&sh->lock);
        entry_free(e);
        return;
    }
    /* it replaces the entry of the same key: two workers that missed on
     * one credential together both insert, and the older copy would
     * only wait for the ring */
    for (old = sh->buckets[e->hash & (sh->nbuckets - 1)]; old != NULL;
         old = old->next) {
        if (old->hash == e->hash && old->kind == kind && old->cfg == cfg &&
            same_key(old, key, len, &c)) {
            unlink_entry(sh, old);
            entry_free(old);
            break;
        }
    }
    /* the oldest entries go until the new one has a slot and fits */
    for (i = 0; i < sh->cap; i++) {
        old = sh->ring[(sh->hand + i) % sh->cap];
        if (i > 0 && sh->bytes + e->cost <= shard_budget)
            break;
        if (old != NULL) {
            unlink_entry(sh, old);
            entry_free(old);
        }
    }
    e->slot = sh->hand;
    sh->ring[sh->hand] = e;
    sh->hand = (sh->hand + 1) % sh->cap;
    link_entry(sh, e);
    pthread_mutex_unlock(&sh->lock);
}

/* What an invalidation names: a sid, or an owner tag. */
struct target {
    uint64_t hash;
    const char *text;
    size_t len;
};

/* Drops the entries of sid (by_owner false) or of an owner tag (true)
 * from every shard, walking one chain of each.  An owner is matched by
 * its hash only: a collision just drops more. */
static void drop_matching(const struct target *t, bool by_owner)
{
    unsigned i;

    if (!enabled)
        return;
    bump();
    for (i = 0; i < SHARDS; i++) {
        struct shard *sh = &shards[i];
        struct entry *e, *next;
        pthread_mutex_lock(&sh->lock);
        e = by_owner ? sh->by_owner[t->hash & (sh->nbuckets - 1)]
                     : sh->by_sid[t->hash & (sh->nbuckets - 1)];
        for (; e != NULL; e = next) {
            next = by_owner ? e->owner_next : e->sid_next;
            if (by_owner ? e->owner_hash != t->hash
                         : e->sid_hash != t->hash ||
                               strlen(e->sid) != t->len ||
                               memcmp(e->sid, t->text, t->len) != 0)
                continue;
            unlink_entry(sh, e);
            entry_free(e);
        }
        pthread_mutex_unlock(&sh->lock);
    }
}

void sb_cache_invalidate_sid(const char *sid, size_t len)
{
    struct target t = {hash_bytes(seed, sid, len), sid, len};

    drop_matching(&t, false);
}

void sb_cache_invalidate_owner(const char *tag, size_t len)
{
    struct target t = {hash_bytes(seed, tag, len), tag, len};

    drop_matching(&t, true);
}

void sb_cache_stats(struct sb_cache_stats *out)
{
    out->hits = atomic_load_explicit(&hits, memory_order_relaxed);
    out->misses = atomic_load_explicit(&misses, memory_order_relaxed);
    out->invalidations =
        atomic_load_explicit(&invalidations, memory_order_relaxed);
    out->entries = atomic_load_explicit(&held, memory_order_relaxed);
    out->subscriptions =
        atomic_load_explicit(&subscriptions, memory_order_relaxed);
    out->subscribed = sb_cache_active();
    out->capacity = enabled ? SHARDS * shards[0].cap : 0;
}
