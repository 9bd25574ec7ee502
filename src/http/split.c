/* split.c - forward-auth requests per minute by the router's backend
 * (split.h). */
#include "split.h"

#include <stdatomic.h>
#include <time.h>

#include "backend_label.h"

#define MINUTES 60
#define SLOTS SB_BACKEND_SLOTS

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
    atomic_fetch_add_explicit(&s->n[sb_backend_slot(backend)], 1,
                              memory_order_relaxed);
}

json_t *sb_split_json(void)
{
    unsigned long minute[SLOTS] = {0}, hour[SLOTS] = {0};
    long long now = this_minute();
    size_t i, k;
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
        const char *name = sb_backend_label(k);
        if (name == NULL || (k >= SB_BACKEND_NAMES && hour[k] == 0))
            continue;
        json_array_append_new(out, json_pack("{s:s, s:I, s:I}", "backend",
                                             name, "last_minute",
                                             (json_int_t)minute[k],
                                             "last_hour", (json_int_t)hour[k]));
    }
    return out;
}
