/* progress.c - the migration's progress figure (sessionbridge/progress.h):
 * per-process hash tables the request path fills without a lock, a
 * thread that flushes them into the store's per-minute HyperLogLogs and
 * reads the counts back, and per-minute traffic counters for the status
 * page. */
#include "sessionbridge/progress.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sessionbridge/log.h"
#include "sessionbridge/redis.h"
#include "sessionbridge/store_progress.h"

#define FLUSH_MS 1000
#define PROBES 16              /* slots tried before a hash is dropped */
#define HISTORY_EVERY 10       /* flushes between two history reads */
#define MINUTE SB_PROGRESS_WINDOW_SECONDS

enum { KIND_ALL = 0, KIND_NEW = 1 };

/* Two generations of (all, new) tables: requests fill the current one
 * while the flusher drains the other.  A slot holds a hash or 0. */
static atomic_uint_least64_t tables[2][2][SB_PROGRESS_TABLE_SLOTS];
static atomic_uint current;            /* generation requests fill */
static atomic_uint writers[2];         /* requests inside a generation */
static atomic_ullong dropped;
static atomic_ullong by_code[SB_ERR__COUNT];

/* The last hour of this process's forward-auth traffic, one slot per
 * minute (slot = minute % 60), reset by the first request of a minute. */
struct minute_slot {
    atomic_llong minute;
    atomic_ullong served_new, served_legacy, refused, unavailable;
};
static struct minute_slot ring[SB_PROGRESS_MINUTES];

/* What the flusher read from the store; under view_lock. */
static pthread_mutex_t view_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    bool counted;
    int64_t counted_at;
    uint64_t active_any, active_new;
    uint64_t flushes_ok, flushes_failed;
    int64_t hist_minute[SB_PROGRESS_MINUTES];
    uint64_t hist_any[SB_PROGRESS_MINUTES], hist_new[SB_PROGRESS_MINUTES];
} view;

static sb_config_source config_of;
static sb_config_release release_config;
static atomic_bool stopping;
static pthread_t flusher;
static bool started;

/* Unix seconds (the minute a count belongs to is wall-clock time). */
static int64_t now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

/* FNV-1a over tag and s, then a 64-bit finaliser (so the low bits that
 * pick a slot are well mixed); never 0, the empty slot. */
static uint64_t hash_who(char tag, const char *s)
{
    uint64_t h = 1469598103934665603ull;

    h = (h ^ (unsigned char)tag) * 1099511628211ull;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h != 0 ? h : 1;
}

/* Puts h into table t unless it is there already; counts a drop when
 * PROBES slots from its own are taken by others. */
static void table_add(atomic_uint_least64_t *t, uint64_t h)
{
    size_t i = (size_t)h & (SB_PROGRESS_TABLE_SLOTS - 1), p;

    for (p = 0; p < PROBES; p++) {
        uint_least64_t v = atomic_load_explicit(&t[i], memory_order_relaxed);
        if (v == h)
            return;
        if (v == 0) {
            if (atomic_compare_exchange_strong(&t[i], &v, h) || v == h)
                return;
        }
        i = (i + 1) & (SB_PROGRESS_TABLE_SLOTS - 1);
    }
    atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
}

/* True when a held a valid credential of [route] new. */
static bool served_new(const struct sb_config *cfg,
                       const struct sb_bridge_auth *a)
{
    const struct sb_profile *p;
    size_t i;

    if (cfg->route_new == NULL ||
        (p = sb_config_profile(cfg, cfg->route_new)) == NULL)
        return false;
    if (a->used == p)
        return true;
    for (i = 0; i < a->nvalid; i++) {
        if (a->valid[i] == p)
            return true;
    }
    return false;
}

/* True when code is answered 503 (or 500): the bridge could not judge. */
static bool is_unavailable(enum sb_err_code code)
{
    return code == SB_ERR_STORE || code == SB_ERR_OVERLOADED ||
           code == SB_ERR_NOMEM || code == SB_ERR_INTERNAL ||
           code == SB_ERR_IO || code == SB_ERR_CONFIG;
}

/* Counts the verdict in this minute's slot. */
static void count_minute(enum sb_err_code result, bool fresh)
{
    long long m = (long long)(now_s() / MINUTE * MINUTE);
    struct minute_slot *s = &ring[(m / MINUTE) % SB_PROGRESS_MINUTES];
    long long seen = atomic_load_explicit(&s->minute, memory_order_acquire);
    atomic_ullong *c;

    /* The first request of a minute resets the slot of an hour ago; a
     * request racing the reset may lose its count (a chart, not a bill). */
    if (seen != m && atomic_compare_exchange_strong(&s->minute, &seen, m)) {
        atomic_store(&s->served_new, 0);
        atomic_store(&s->served_legacy, 0);
        atomic_store(&s->refused, 0);
        atomic_store(&s->unavailable, 0);
    }
    c = result == SB_OK      ? (fresh ? &s->served_new : &s->served_legacy)
        : is_unavailable(result) ? &s->unavailable
                                 : &s->refused;
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

void sb_progress_note(const struct sb_config *cfg,
                      const struct sb_bridge_auth *a,
                      enum sb_err_code result)
{
    bool fresh = result == SB_OK && served_new(cfg, a);
    unsigned g;
    uint64_t h;

    if ((unsigned)result < SB_ERR__COUNT)
        atomic_fetch_add_explicit(&by_code[result], 1, memory_order_relaxed);
    count_minute(result, fresh);
    if (result != SB_OK)
        return;
    if (a->s.subject != NULL && a->s.subject[0] != '\0')
        h = hash_who('u', a->s.subject);
    else if (a->s.sid[0] != '\0')
        h = hash_who('s', a->s.sid);
    else
        return;
    /* Enter the current generation; if the flusher swapped it meanwhile,
     * leave and enter the new one (the flusher waits for writers). */
    for (;;) {
        g = atomic_load(&current);
        atomic_fetch_add(&writers[g], 1);
        if (atomic_load(&current) == g)
            break;
        atomic_fetch_sub(&writers[g], 1);
    }
    table_add(tables[g][KIND_ALL], h);
    if (fresh)
        table_add(tables[g][KIND_NEW], h);
    atomic_fetch_sub(&writers[g], 1);
}

/* Swaps the generations, waits for the requests still in the old one,
 * and empties its tables into all / fresh (hex elements, packed). */
static void drain(char *all, size_t *nall, char *fresh, size_t *nnew)
{
    unsigned g = atomic_load(&current), k;
    char *out[2] = {all, fresh};
    size_t *n[2] = {nall, nnew}, i;

    atomic_store(&current, 1u - g);
    while (atomic_load(&writers[g]) != 0)
        sched_yield();
    for (k = 0; k < 2; k++) {
        *n[k] = 0;
        for (i = 0; i < SB_PROGRESS_TABLE_SLOTS; i++) {
            uint_least64_t v = atomic_exchange(&tables[g][k][i], 0);
            char hex[SB_PROGRESS_ELEMENT_LEN + 1];
            if (v == 0)
                continue;
            snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)v);
            memcpy(out[k] + *n[k] * SB_PROGRESS_ELEMENT_LEN, hex,
                   SB_PROGRESS_ELEMENT_LEN);
            (*n[k])++;
        }
    }
}

/* Reads the active counts (the last SB_PROGRESS_ACTIVE_WINDOWS minutes
 * as one union) and, when `history`, each of the last hour's minutes. */
static int read_counts(struct sb_redis *r, const char *prefix, int64_t w,
                       bool history, struct sb_err *err)
{
    int64_t windows[SB_PROGRESS_ACTIVE_WINDOWS + SB_PROGRESS_MINUTES];
    size_t starts[SB_PROGRESS_MINUTES + 2], groups = 1, i;
    uint64_t any[SB_PROGRESS_MINUTES + 1], fresh[SB_PROGRESS_MINUTES + 1];

    for (i = 0; i < SB_PROGRESS_ACTIVE_WINDOWS; i++)
        windows[i] = w - (int64_t)i * MINUTE;
    starts[0] = 0;
    starts[1] = SB_PROGRESS_ACTIVE_WINDOWS;
    if (history) {
        for (i = 0; i < SB_PROGRESS_MINUTES; i++) {
            windows[SB_PROGRESS_ACTIVE_WINDOWS + i] =
                w - (int64_t)(SB_PROGRESS_MINUTES - 1 - i) * MINUTE;
            starts[2 + i] = SB_PROGRESS_ACTIVE_WINDOWS + i + 1;
        }
        groups += SB_PROGRESS_MINUTES;
    }
    if (sb_store_progress_count(r, prefix, windows, starts, groups, any,
                                fresh, err) != 0)
        return -1;
    pthread_mutex_lock(&view_lock);
    view.counted = true;
    view.counted_at = now_s();
    view.active_any = any[0];
    view.active_new = fresh[0];
    for (i = 0; history && i < SB_PROGRESS_MINUTES; i++) {
        view.hist_minute[i] = windows[SB_PROGRESS_ACTIVE_WINDOWS + i];
        view.hist_any[i] = any[1 + i];
        view.hist_new[i] = fresh[1 + i];
    }
    pthread_mutex_unlock(&view_lock);
    return 0;
}

/* Hex elements of one drain: two tables' worth. */
static char pending_all[SB_PROGRESS_TABLE_SLOTS * SB_PROGRESS_ELEMENT_LEN];
static char pending_new[SB_PROGRESS_TABLE_SLOTS * SB_PROGRESS_ELEMENT_LEN];

/* One flush: drain, PFADD, read the counts.  A failure loses that
 * second's hashes (the figure dips; it never blocks a request). */
static void flush_once(struct sb_redis *r, const struct sb_config *cfg,
                       bool history)
{
    struct sb_err err = {0};
    size_t nall, nnew;
    int64_t w = now_s() / MINUTE * MINUTE;
    int rc = 0;

    drain(pending_all, &nall, pending_new, &nnew);
    if (r == NULL)
        rc = -1;
    else if (nall + nnew > 0)
        rc = sb_store_progress_add(r, cfg->prefix, w, pending_all, nall,
                                   pending_new, nnew, &err);
    if (rc == 0)
        rc = read_counts(r, cfg->prefix, w, history, &err);
    pthread_mutex_lock(&view_lock);
    if (rc == 0)
        view.flushes_ok++;
    else
        view.flushes_failed++;
    pthread_mutex_unlock(&view_lock);
}

/* The flusher: every FLUSH_MS one flush_once, on a connection of its
 * own (replaced when a reload installs another config); one last flush
 * when stopping. */
static void *flusher_main(void *unused)
{
    const struct sb_config *last = NULL;
    struct sb_redis *r = NULL;
    unsigned tick = 0;
    int64_t last_minute = 0;

    for (;;) {
        const struct sb_config *cfg;
        struct sb_err err = {0};
        struct timespec ts = {0, 100 * 1000000L};
        bool stop;
        unsigned i;
        int64_t minute = now_s() / MINUTE;

        for (i = 0; i < FLUSH_MS / 100 && !atomic_load(&stopping); i++)
            nanosleep(&ts, NULL);
        stop = atomic_load(&stopping);
        cfg = config_of();
        if (cfg == NULL)
            break;
        if (cfg != last) {
            sb_redis_free(r);
            r = sb_redis_new(&cfg->redis, cfg->connect_timeout_ms,
                             cfg->command_timeout_ms, &err);
            last = cfg;
            tick = 0;
        }
        flush_once(r, cfg, tick % HISTORY_EVERY == 0 || minute != last_minute);
        last_minute = minute;
        tick++;
        if (stop)
            break;
    }
    sb_redis_free(r);
    release_config();
    return NULL;
}

int sb_progress_start(sb_config_source config, sb_config_release release)
{
    config_of = config;
    release_config = release;
    atomic_store(&stopping, false);
    if (pthread_create(&flusher, NULL, flusher_main, NULL) != 0)
        return -1;
    started = true;
    return 0;
}

void sb_progress_stop(void)
{
    if (!started)
        return;
    atomic_store(&stopping, true);
    pthread_join(flusher, NULL);
    started = false;
}

void sb_progress_read(struct sb_progress_view *out)
{
    int64_t cur = now_s() / MINUTE * MINUTE;
    size_t i;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < SB_ERR__COUNT; i++)
        out->errors[i] = atomic_load_explicit(&by_code[i],
                                              memory_order_relaxed);
    out->dropped = atomic_load(&dropped);
    for (i = 0; i < SB_PROGRESS_MINUTES; i++) {
        struct sb_progress_minute *m = &out->minutes[i];
        int64_t t = cur - (int64_t)(SB_PROGRESS_MINUTES - 1 - i) * MINUTE;
        const struct minute_slot *s = &ring[(t / MINUTE) % SB_PROGRESS_MINUTES];
        m->minute = t;
        if (atomic_load(&s->minute) != t)
            continue;
        m->served_new = atomic_load(&s->served_new);
        m->served_legacy = atomic_load(&s->served_legacy);
        m->refused = atomic_load(&s->refused);
        m->unavailable = atomic_load(&s->unavailable);
    }
    pthread_mutex_lock(&view_lock);
    out->counted = view.counted;
    out->counted_at = view.counted_at;
    out->active_any = view.active_any;
    out->active_new = view.active_new;
    out->flushes_ok = view.flushes_ok;
    out->flushes_failed = view.flushes_failed;
    for (i = 0; i < SB_PROGRESS_MINUTES; i++) {
        size_t j;
        for (j = 0; j < SB_PROGRESS_MINUTES; j++) {
            if (view.hist_minute[j] == out->minutes[i].minute) {
                out->minutes[i].active_any = view.hist_any[j];
                out->minutes[i].active_new = view.hist_new[j];
                break;
            }
        }
    }
    pthread_mutex_unlock(&view_lock);
}
