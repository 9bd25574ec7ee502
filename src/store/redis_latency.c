/* redis_latency.c - the Redis round-trip histogram
 * (sessionbridge/redis_latency.h): fixed buckets of relaxed atomics. */
#include "sessionbridge/redis_latency.h"

#include <stdatomic.h>

const double sb_redis_latency_bounds[SB_REDIS_LATENCY_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,  0.05,    0.1,    0.25,  0.5,    1};

static atomic_ullong counts[SB_REDIS_LATENCY_BUCKETS + 1];
static atomic_ullong sum_us;

void sb_redis_latency_observe(uint64_t us)
{
    double s = (double)us / 1e6;
    unsigned b;

    for (b = 0; b < SB_REDIS_LATENCY_BUCKETS && s > sb_redis_latency_bounds[b];
         b++)
        ;
    atomic_fetch_add_explicit(&counts[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&sum_us, us, memory_order_relaxed);
}

void sb_redis_latency_read(struct sb_redis_latency *out)
{
    unsigned b;

    for (b = 0; b <= SB_REDIS_LATENCY_BUCKETS; b++)
        out->counts[b] = atomic_load_explicit(&counts[b],
                                              memory_order_relaxed);
    out->sum_us = atomic_load_explicit(&sum_us, memory_order_relaxed);
}
