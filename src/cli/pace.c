/* pace.c - the purge's pacing rules (pure: no clock, no I/O; see pace.h
 * for the modes and README "Large purges" for what they mean to a user). */
#include "pace.h"

#include <stdlib.h>
#include <string.h>

void cli_pace_init(struct cli_pace *p, enum cli_pace_mode mode, double rate,
                   double baseline, unsigned chunk_max)
{
    memset(p, 0, sizeof(*p));
    p->mode = mode;
    p->rate = rate;
    p->baseline = baseline;
    p->chunk_max = chunk_max > 0 ? chunk_max : 1;
    p->chunk = p->chunk_max;
    p->share = CLI_PACE_SHARE_MAX;
    /* a rate spreads over about 20 pipelines a second, so a low rate
     * pauses often and briefly rather than bursting a full chunk */
    if (mode == CLI_PACE_RATE && rate / 20 < p->chunk)
        p->chunk = rate >= 40 ? (unsigned)(rate / 20) : 1;
    p->least_share = p->share;
    p->least_chunk = p->chunk;
}

int cli_pace_parse_rate(const char *s, enum cli_pace_mode *mode, double *rate)
{
    char *end;
    double v;

    if (strcmp(s, "max") == 0 || strcmp(s, "0") == 0) {
        *mode = CLI_PACE_OFF;
        *rate = 0;
        return 0;
    }
    if (s[0] < '1' || s[0] > '9' || strlen(s) > 8)
        return -1;
    v = strtod(s, &end);
    if (*end != '\0' || strspn(s, "0123456789") != strlen(s) ||
        v > CLI_PACE_RATE_MAX)
        return -1;
    *mode = CLI_PACE_RATE;
    *rate = v;
    return 0;
}

/* Ascending order of doubles, for qsort. */
static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double cli_pace_baseline(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Whether the smoothed latency is up against the idle one: twice as
 * long, and by more than scheduling noise. */
static bool raised(const struct cli_pace *p, double latency)
{
    return latency > CLI_PACE_RAISED * p->baseline &&
           latency - p->baseline > CLI_PACE_NOISE;
}

/* Whether the latency is back near idle, so the pace may grow. */
static bool quiet(const struct cli_pace *p, double latency)
{
    return latency < CLI_PACE_QUIET * p->baseline ||
           latency - p->baseline < CLI_PACE_NOISE / 2;
}

/* Records a probe and sets the latency to the median of the last
 * CLI_PACE_WINDOW probes (of those taken, at the start). */
static void take_probe(struct cli_pace *p, double probe)
{
    double v[CLI_PACE_WINDOW];
    unsigned n;

    p->recent[p->probes % CLI_PACE_WINDOW] = probe;
    p->probes++;
    n = p->probes < CLI_PACE_WINDOW ? p->probes : CLI_PACE_WINDOW;
    memcpy(v, p->recent, n * sizeof(*v));
    p->latency = cli_pace_baseline(v, n);
}

/*
 * Adaptive: the latency is the median of the last few probes, so a PING
 * the OS did not schedule in time moves nothing.  A raised latency halves
 * the share and the chunk, then again once a whole window of probes
 * taken since still says raised, down to their floors; they grow back a
 * step at a time while the latency is near idle.  The pause keeps the
 * purge's part of the time at the share.
 */
static double adapt(struct cli_pace *p, double seconds, double probe)
{
    double pause;

    if (probe > 0) {
        take_probe(p, probe);
        if (raised(p, p->latency) && p->probes >= p->next_backoff) {
            p->next_backoff = p->probes + CLI_PACE_WINDOW;
            p->share /= 2;
            if (p->share < CLI_PACE_SHARE_MIN)
                p->share = CLI_PACE_SHARE_MIN;
            p->chunk = p->chunk > 1 ? p->chunk / 2 : 1;
            p->backoffs++;
        } else if (quiet(p, p->latency)) {
            p->share += CLI_PACE_SHARE_STEP;
            if (p->share > CLI_PACE_SHARE_MAX)
                p->share = CLI_PACE_SHARE_MAX;
            if (p->chunk < p->chunk_max)
                p->chunk++;
        }
    }
    if (p->share < p->least_share)
        p->least_share = p->share;
    pause = seconds > 0 ? seconds * (1 - p->share) / p->share : 0;
    return pause < CLI_PACE_PAUSE_MAX ? pause : CLI_PACE_PAUSE_MAX;
}

/* Rate: each session removed is due 1/rate after the one before; the
 * schedule never lags the clock by more than CLI_PACE_CREDIT, so a slow
 * step is not followed by a long burst. */
static double keep_rate(struct cli_pace *p, unsigned long long removed,
                        double elapsed)
{
    if (p->due < elapsed - CLI_PACE_CREDIT)
        p->due = elapsed - CLI_PACE_CREDIT;
    p->due += (double)removed / p->rate;
    return p->due > elapsed ? p->due - elapsed : 0;
}

double cli_pace_after(struct cli_pace *p, unsigned long long removed,
                      double seconds, double elapsed, double probe)
{
    double pause = 0;

    p->steps++;
    if (p->mode == CLI_PACE_ADAPTIVE)
        pause = adapt(p, seconds, probe);
    else if (p->mode == CLI_PACE_RATE)
        pause = keep_rate(p, removed, elapsed);
    if (p->chunk < p->least_chunk)
        p->least_chunk = p->chunk;
    p->paused += pause;
    return pause;
}

unsigned cli_pace_users(const struct cli_pace *p, double sessions_per_user)
{
    double n;

    if (sessions_per_user <= 0)
        return 1;
    n = ((double)p->chunk + sessions_per_user / 2) / sessions_per_user;
    return n >= 1 ? (unsigned)n : 1;
}

const char *cli_pace_mode_name(enum cli_pace_mode mode)
{
    switch (mode) {
    case CLI_PACE_RATE:
        return "rate";
    case CLI_PACE_OFF:
        return "off";
    case CLI_PACE_ADAPTIVE:
        break;
    }
    return "adaptive";
}
