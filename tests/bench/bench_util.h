/*
 * bench_util.h - what the codec benches share: their command line
 * ([SECONDS [NAME]]), one core, a logged-in user's session, and the timed
 * decode+verify and encode loops behind each line of their tables (each
 * bench prints its lines in its own format).  Profiles come from the fuzz
 * targets' fuzz_profile(), built as config.c builds them.  A bench that
 * cannot build or run a case stops: it must not print a number for it.
 */
#ifndef SB_BENCH_UTIL_H
#define SB_BENCH_UTIL_H

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../fuzz/fuzz_profile.h"
#include "sessionbridge/codec.h"
#include "sessionbridge/log.h"
#include "sessionbridge/profile.h"

#define BENCH_NOW 1793491200

/* The command line. */
struct bench_args {
    double seconds;   /* per measurement; 1 unless a positive number */
    const char *only; /* the one line to run; NULL = every line */
};

/* Reads [SECONDS [NAME]], keeps the log to errors and pins the process to
 * core 0 (the README's numbers are one core's). */
static inline void bench_start(int argc, char **argv, struct bench_args *a)
{
    cpu_set_t one;

    a->seconds = argc > 1 && atof(argv[1]) > 0 ? atof(argv[1]) : 1.0;
    a->only = argc > 2 ? argv[2] : NULL;
    sb_log_set_level(SB_LOG_ERROR);
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    sched_setaffinity(0, sizeof(one), &one);
}

/* Whether the line `name` runs. */
static inline bool bench_wanted(const struct bench_args *a, const char *name)
{
    return a->only == NULL || strcmp(a->only, name) == 0;
}

/* A logged-in user's session: sid, subject, a name and a role, issued at
 * BENCH_NOW for an hour. */
static inline void bench_session(struct sb_session *s)
{
    sb_session_init(s);
    strcpy(s->sid, "Xq3RfZ2vN8kLpW4tY7uB1cD5eG9hJ0mA");
    s->subject = strdup("42");
    s->issued_at = BENCH_NOW;
    s->expires_at = BENCH_NOW + 3600;
    s->data = json_pack("{s:s, s:s}", "name", "alice", "role", "admin");
}

static inline double bench_now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One timed operation on arg: 0, or -1 after saying why on stderr. */
typedef int (*bench_op)(void *arg);

/* Runs op in batches of `batch` (the clock is read between batches) until
 * `seconds` have passed: operations per second, or -1 when one failed. */
static inline double bench_rate(double seconds, int batch, bench_op op,
                                void *arg)
{
    double t0 = bench_now_s(), dt;
    long n = 0;
    int i;

    do {
        for (i = 0; i < batch; i++, n++) {
            if (op(arg) != 0)
                return -1;
        }
    } while ((dt = bench_now_s() - t0) < seconds);
    return n / dt;
}

/* What a codec line times: profile p decoding tok (s encoded once) and
 * encoding s, at ctx. */
struct bench_codec {
    const char *what; /* the line, for error messages */
    const struct sb_profile *p;
    const struct sb_codec_ctx *ctx;
    const struct sb_session *s;
    const char *tok;
};

/* The full sb_credential_decode path, as a request would take it. */
static inline int bench_decode_op(void *arg)
{
    const struct bench_codec *c = arg;
    struct sb_session out;
    struct sb_err err = {0};
    int rc;

    sb_session_init(&out);
    rc = sb_credential_decode(c->p, c->tok, strlen(c->tok), c->ctx, &out,
                              &err);
    if (rc != 0)
        fprintf(stderr, "%s: decode: %s\n", c->what, err.msg);
    sb_session_reset(&out);
    return rc;
}

static inline int bench_encode_op(void *arg)
{
    const struct bench_codec *c = arg;
    struct sb_err err = {0};
    char *tok = NULL;

    if (sb_credential_encode(c->p, c->s, c->ctx, &tok, &err) != 0) {
        fprintf(stderr, "%s: encode: %s\n", c->what, err.msg);
        return -1;
    }
    free(tok);
    return 0;
}

/* Prints one line of a bench's table: the rate of operation `op` of line
 * `what`, whose token is cookie_len bytes. */
typedef void (*bench_report)(const char *what, const char *op, double rate,
                             size_t cookie_len);

/* Encodes s with p once, then times decode+verify of that token (batches
 * of 64) and encode of s (batches of 16), reporting each as it is done.
 * Returns the token (caller frees); exits when the codec fails. */
static inline char *bench_codec(const char *what, const struct sb_profile *p,
                                const struct sb_codec_ctx *ctx,
                                const struct sb_session *s, double seconds,
                                bench_report report)
{
    struct bench_codec c = {.what = what, .p = p, .ctx = ctx, .s = s};
    struct sb_err err = {0};
    char *tok = NULL;
    double rate;

    if (sb_credential_encode(p, s, ctx, &tok, &err) != 0) {
        fprintf(stderr, "%s: encode: %s\n", what, err.msg);
        exit(1);
    }
    c.tok = tok;
    rate = bench_rate(seconds, 64, bench_decode_op, &c);
    if (rate < 0)
        exit(1);
    report(what, "decode+verify", rate, strlen(tok));
    rate = bench_rate(seconds, 16, bench_encode_op, &c);
    if (rate < 0)
        exit(1);
    report(what, "encode", rate, strlen(tok));
    return tok;
}

#endif
