/*
 * redis_latency.h - the histogram of Redis round trips
 * (sessionbridge_redis_latency_seconds): from sending what a connection
 * had queued to reading the last reply owed for it, so a pipeline is one
 * round trip.  Observed by the transport (redis_conn.c) on every
 * connection of the process, the CLI's too; reads a subscriber blocks in
 * while nothing was sent are not round trips and are not observed.  One
 * relaxed atomic add per bucket and sum: no lock.
 */
#ifndef SESSIONBRIDGE_REDIS_LATENCY_H
#define SESSIONBRIDGE_REDIS_LATENCY_H

#include <stdint.h>

#define SB_REDIS_LATENCY_BUCKETS 13

/* The buckets' upper bounds, in seconds (0.0001 ... 1). */
extern const double sb_redis_latency_bounds[SB_REDIS_LATENCY_BUCKETS];

/* Counts one round trip of us microseconds. */
void sb_redis_latency_observe(uint64_t us);

/* A copy of the histogram: counts per bucket (not cumulative; the last,
 * index SB_REDIS_LATENCY_BUCKETS, is beyond the largest bound), and the
 * sum in microseconds. */
struct sb_redis_latency {
    uint64_t counts[SB_REDIS_LATENCY_BUCKETS + 1];
    uint64_t sum_us;
};

void sb_redis_latency_read(struct sb_redis_latency *out);

#endif
