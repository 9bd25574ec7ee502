/*
 * pace.h - how fast a purge goes: how many sessions one pipeline carries
 * and how long the purge pauses after each step it sends to Redis.  Pure
 * (no clock, no I/O): the purge measures round trips and sleeps, this
 * decides, so the rules are unit tested without a Redis or a clock.
 *
 * Three modes:
 *  - adaptive (the default): the purge keeps Redis busy for at most a
 *    share of the time (pausing after each step in proportion to how long
 *    the step took), and halves that share and the chunk whenever the
 *    store's latency, measured with a PING before each step (the median
 *    of the last CLI_PACE_WINDOW, so one PING the OS did not schedule
 *    does not count), rises to twice its idle value (the median of PINGs
 *    at the start); it grows them back a little at a time while the
 *    latency stays near idle.
 *  - rate (--rate N): at most N sessions removed per second, on average
 *    over the run, with at most CLI_PACE_CREDIT seconds of burst after a
 *    slow step.
 *  - off (--rate max or --rate 0): no pauses, the largest chunk.
 */
#ifndef SB_CLI_PACE_H
#define SB_CLI_PACE_H

#include <stdbool.h>
#include <stddef.h>

enum cli_pace_mode {
    CLI_PACE_ADAPTIVE,
    CLI_PACE_RATE,
    CLI_PACE_OFF
};

/* Sessions (or, logging users out, about that many users' sessions) one
 * pipeline of removal scripts carries, at most.  One delete script takes
 * ~30 us of Redis time, one user's log-out ~13 us per session; Redis runs
 * a client's pipeline without serving others in between, so 16 keeps the
 * longest wait another client sees from a purge pipeline near 0.5 ms. */
#define CLI_PACE_CHUNK_MAX 16

#define CLI_PACE_RATE_MAX 10000000.0 /* --rate beyond this is a typo */
#define CLI_PACE_SHARE_MAX 0.5   /* adaptive: Redis busy for us at most half
                                    the time */
#define CLI_PACE_SHARE_MIN (1.0 / 16) /* ... and, backed off, 1/16 of it */
#define CLI_PACE_SHARE_STEP (1.0 / 32) /* regained per quiet step */
#define CLI_PACE_RAISED 2.0      /* latency over 2x idle backs off */
#define CLI_PACE_QUIET 1.5       /* latency under 1.5x idle lets it grow */
#define CLI_PACE_NOISE 50e-6     /* a rise smaller than 50 us is noise */
#define CLI_PACE_WINDOW 5        /* probes the latency is the median of */
#define CLI_PACE_PAUSE_MAX 1.0   /* the longest pause after one step, s */
#define CLI_PACE_CREDIT 0.1      /* rate: seconds of lag it may catch up */

struct cli_pace {
    enum cli_pace_mode mode;
    double rate;         /* rate: sessions per second */
    double baseline;     /* adaptive: idle PING round trip, seconds */
    double recent[CLI_PACE_WINDOW]; /* adaptive: the last probes, s */
    unsigned probes;     /* adaptive: probes taken so far */
    unsigned next_backoff; /* adaptive: no back-off before this many */
    double latency;      /* adaptive: the median of recent[] (0 = none
                            yet), seconds */
    double share;        /* adaptive: the part of the time the purge may
                            keep Redis busy */
    double due;          /* rate: when (seconds since the start) the
                            sessions removed so far are due by the rate */
    unsigned chunk;      /* sessions in the next pipeline */
    unsigned chunk_max;
    /* what happened, for the summary */
    unsigned long long steps;    /* steps paced */
    unsigned long long backoffs; /* adaptive: times it backed off */
    double least_share;          /* adaptive: the lowest share reached */
    unsigned least_chunk;        /* the smallest chunk used */
    double paused;               /* seconds of pauses asked for */
};

/* Sets p up for mode.  rate is for CLI_PACE_RATE (sessions per second,
 * > 0); baseline (seconds, > 0) for CLI_PACE_ADAPTIVE; chunk_max (>= 1)
 * caps the chunk, which starts there (rate: about 20 chunks a second). */
void cli_pace_init(struct cli_pace *p, enum cli_pace_mode mode, double rate,
                   double baseline, unsigned chunk_max);

/* Reads a --rate value: "max" or "0" is CLI_PACE_OFF, a whole number from
 * 1 to CLI_PACE_RATE_MAX is CLI_PACE_RATE with *rate set.  -1 for
 * anything else (nothing set). */
int cli_pace_parse_rate(const char *s, enum cli_pace_mode *mode,
                        double *rate);

/* The idle round trip from n PING samples (seconds; n >= 1): their
 * median, which one descheduled sample does not move.  Sorts v. */
double cli_pace_baseline(double *v, size_t n);

/*
 * Called after each step the purge sent to Redis: `removed` sessions went
 * in it, it took `seconds` (its round trips), `elapsed` seconds have
 * passed since the purge started, and `probe` is the PING round trip
 * measured just before it (adaptive; ignored otherwise, and a probe <= 0
 * counts as none).  Updates the chunk for the next step and returns how
 * long to pause now (seconds, 0 .. CLI_PACE_PAUSE_MAX).
 */
double cli_pace_after(struct cli_pace *p, unsigned long long removed,
                      double seconds, double elapsed, double probe);

/* How many users' log-outs the next pipeline carries when each user has
 * had sessions_per_user sessions so far (0 = none seen yet): about a
 * chunk of sessions, at least one user. */
unsigned cli_pace_users(const struct cli_pace *p, double sessions_per_user);

/* "adaptive", "rate" or "off". */
const char *cli_pace_mode_name(enum cli_pace_mode mode);

#endif
