/*
 * ratelimit.h - a lock-free token bucket (GCRA: one atomic "theoretical
 * arrival time" moved by compare-and-swap), shared by every worker thread.
 * It caps work an unauthenticated request can make the daemon do, such as
 * asymmetric signature checks ([http] max_asym_verifications_per_second):
 * a burst of one second's worth, then the configured rate.
 */
#ifndef SESSIONBRIDGE_RATELIMIT_H
#define SESSIONBRIDGE_RATELIMIT_H

#include <stdatomic.h>
#include <stdbool.h>

struct sb_ratelimit {
    atomic_llong tat_ns;    /* when the bucket is next empty (monotonic) */
    long long interval_ns;  /* ns one token takes to refill; 0 = no limit */
    long long burst_ns;     /* how far ahead of now tat may run */
};

/* Sets rl to per_second tokens a second (0 = unlimited), full. */
void sb_ratelimit_init(struct sb_ratelimit *rl, unsigned per_second);

/* Takes one token at monotonic time now_ns: false when none is left (and
 * counted in sb_ratelimit_refused_total).  rl NULL: always true. */
bool sb_ratelimit_take_at(struct sb_ratelimit *rl, long long now_ns);

/* sb_ratelimit_take_at with CLOCK_MONOTONIC. */
bool sb_ratelimit_take(struct sb_ratelimit *rl);

/* Tokens refused by every bucket of the process (for /metrics). */
unsigned long sb_ratelimit_refused_total(void);

#endif
