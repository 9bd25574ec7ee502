/*
 * progress.h - the one-line progress bar long CLI operations draw on a
 * terminal.  Rendering is a pure function of a snapshot, so it is unit
 * tested without a terminal; the caller decides when and where to draw.
 */
#ifndef SB_CLI_PROGRESS_H
#define SB_CLI_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

/* What the bar shows at one moment. */
struct cli_progress {
    const char *label;            /* first word, e.g. "purging" */
    unsigned long long done;      /* units of work done (keys scanned) */
    unsigned long long total;     /* estimate of all units; 0 = unknown */
    unsigned long long count;     /* what the user cares about (sessions
                                     removed); shown with the rate */
    const char *count_unit;       /* "sessions" */
    double elapsed;               /* seconds since the start */
    bool finished;                /* the work is over: 100%, no ETA */
};

/* Writes one line for p into buf (size bytes, NUL-terminated, truncated
 * to fit) that occupies at most `width` columns on screen:
 *   "purging [#########>          ]  45% 123,456 sessions 41,152/s ETA 0:03"
 * Parts are dropped from the right, then the bar is narrowed, when the
 * width is small.  With a zero total the bar and percentage give way to
 * the count and rate.  done at or past total shows as 99% (an estimate is
 * not a promise) until p->finished says 100%.  With `color` the bar is green and the numbers
 * bold (ANSI escapes, which take no columns).  Returns the length written
 * into buf. */
size_t cli_progress_render(const struct cli_progress *p, unsigned width,
                           bool color, char *buf, size_t size);

/* Where a SCAN cursor (decimal text) is in the keyspace, as a fraction of
 * CLI_SCAN_SPAN; CLI_SCAN_SPAN when done.  A true position without
 * counting the keys first. */
#define CLI_SCAN_SPAN (1ull << 20)
unsigned long long cli_scan_position(const char *cursor, bool done);

/* Formats n with thousands separators ("1,234,567") into buf; returns buf. */
char *cli_progress_thousands(unsigned long long n, char *buf, size_t size);

#endif
