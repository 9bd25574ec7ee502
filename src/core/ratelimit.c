/* ratelimit.c - the lock-free token bucket of ratelimit.h. */
#include "sessionbridge/ratelimit.h"

#include <time.h>

static atomic_ulong refused;

void sb_ratelimit_init(struct sb_ratelimit *rl, unsigned per_second)
{
    rl->interval_ns = per_second ? 1000000000LL / per_second : 0;
    if (per_second > 0 && rl->interval_ns == 0)
        rl->interval_ns = 1;
    rl->burst_ns = 1000000000LL;
    atomic_init(&rl->tat_ns, 0);
}

/* GCRA: a token is there when taking it moves tat no further than one
 * burst ahead of now; the CAS retries only when another thread took one
 * in between. */
bool sb_ratelimit_take_at(struct sb_ratelimit *rl, long long now_ns)
{
    long long tat, next;

    if (rl == NULL || rl->interval_ns == 0)
        return true;
    tat = atomic_load_explicit(&rl->tat_ns, memory_order_relaxed);
    do {
        next = (tat > now_ns ? tat : now_ns) + rl->interval_ns;
        if (next - now_ns > rl->burst_ns) {
            atomic_fetch_add_explicit(&refused, 1, memory_order_relaxed);
            return false;
        }
    } while (!atomic_compare_exchange_weak_explicit(
        &rl->tat_ns, &tat, next, memory_order_relaxed, memory_order_relaxed));
    return true;
}

bool sb_ratelimit_take(struct sb_ratelimit *rl)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return sb_ratelimit_take_at(rl, (long long)ts.tv_sec * 1000000000LL +
                                        ts.tv_nsec);
}

unsigned long sb_ratelimit_refused_total(void)
{
    return atomic_load(&refused);
}
