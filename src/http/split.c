/* split.c - forward-auth requests per minute by the router's backend
 * (split.h). */
#include "split.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NAME_MAX_LEN 32
#define MINUTES 60
#define SLOT_UNKNOWN SB_SPLIT_BACKENDS
#define SLOT_OTHER (SB_SPLIT_BACKENDS + 1)
#define SLOTS (SB_SPLIT_BACKENDS + 2)

static char names[SB_SPLIT_BACKENDS][NAME_MAX_LEN + 1];
static atomic_size_t published;       /* names readable without the lock */
static pthread_mutex_t claim_lock = PTHREAD_MUTEX_INITIALIZER;

/* One minute's counts per slot (slot = minute % 60), reset by the first
 * request of a minute. */
struct split_minute {
    atomic_llong minute;
    atomic_ulong n[SLOTS];
};
static struct split_minute ring[MINUTES];

static long long this_minute(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec / 60 * 60;
}

/* True when v may be shown as a backend name. */
static bool name_ok(const char *v)
{
    size_t n;

    for (n = 0; v[n] != '\0'; n++) {
        char c = v[n];
        if (n == NAME_MAX_LEN ||
            !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-'))
            return false;
    }
    return n > 0;
}

/* The slot of backend: a published name's, a new one's (claimed under
 * the lock), "other" when all are taken, "unknown" when unusable. */
static size_t slot_of(const char *backend)
{
    size_t i, n;

    if (backend == NULL || !name_ok(backend))
        return SLOT_UNKNOWN;
    n = atomic_load_explicit(&published, memory_order_acquire);
    for (i = 0; i < n; i++) {
        if (strcmp(names[i], backend) == 0)
            return i;
    }
    pthread_mutex_lock(&claim_lock);
    n = atomic_load(&published);
    for (i = 0; i < n && strcmp(names[i], backend) != 0; i++)
        ;
    if (i == n && n < SB_SPLIT_BACKENDS) {
        snprintf(names[n], sizeof(names[n]), "%s", backend);
        atomic_store_explicit(&published, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&claim_lock);
    return i < SB_SPLIT_BACKENDS ? i : SLOT_OTHER;
}

void sb_split_note(const char *backend)
{
    long long m = this_minute(), seen;
    struct split_minute *s = &ring[(m / 60) % MINUTES];
    size_t k;

    seen = atomic_load_explicit(&s->minute, memory_order_acquire);
    if (seen != m && atomic_compare_exchange_strong(&s->minute, &seen, m)) {
        for (k = 0; k < SLOTS; k++)
            atomic_store(&s->n[k], 0);
    }
    atomic_fetch_add_explicit(&s->n[slot_of(backend)], 1,
                              memory_order_relaxed);
}

json_t *sb_split_json(void)
{
    unsigned long minute[SLOTS] = {0}, hour[SLOTS] = {0};
    long long now = this_minute();
    size_t i, k, n = atomic_load_explicit(&published, memory_order_acquire);
    json_t *out = json_array();

    for (i = 0; i < MINUTES; i++) {
        long long t = atomic_load(&ring[i].minute);
        if (t <= now - MINUTES * 60 || t > now)
            continue;
        for (k = 0; k < SLOTS; k++) {
            unsigned long c = atomic_load(&ring[i].n[k]);
            hour[k] += c;
            if (t == now)
                minute[k] += c;
        }
    }
    for (k = 0; k < SLOTS && out != NULL; k++) {
        const char *name = k < n ? names[k] : k == SLOT_UNKNOWN ? "unknown"
                         : k == SLOT_OTHER ? "other" : NULL;
        if (name == NULL || (k >= SB_SPLIT_BACKENDS && hour[k] == 0))
            continue;
        json_array_append_new(out, json_pack("{s:s, s:I, s:I}", "backend",
                                             name, "last_minute",
                                             (json_int_t)minute[k],
                                             "last_hour", (json_int_t)hour[k]));
    }
    return out;
}
