/*
 * progress.h - how far the migration is, without scanning Redis and
 * without a Redis round trip on the request path.
 *
 * Each forward-auth verdict is noted here (sb_progress_note): the served
 * user's (or, without a subject, the session's) 64-bit hash goes into a
 * bounded lock-free table of this process, in the "new" table too when
 * the request held a valid credential of [route] new.  A background
 * thread swaps the tables every second and adds what they hold to the
 * minute's HyperLogLogs in Redis (store_progress.h), then reads back the
 * counts of every bridge sharing the store.  The request path pays a hash
 * and a few atomic operations; Redis sees one pipelined PFADD round trip
 * per second per process, whatever the traffic.
 *
 * Beside it, per-minute counters of this process's forward-auth traffic
 * for the last hour (what the status page charts) and the error codes
 * answered since start.
 */
#ifndef SESSIONBRIDGE_PROGRESS_H
#define SESSIONBRIDGE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "sessionbridge/bridge.h"
#include "sessionbridge/config.h"
#include "sessionbridge/err.h"
#include "sessionbridge/invalidation.h"

#define SB_PROGRESS_TABLE_SLOTS 4096  /* distinct users per second per
                                         process before some are dropped */
#define SB_PROGRESS_ACTIVE_WINDOWS 5  /* "active": the last 5 minutes */
#define SB_PROGRESS_MINUTES 60        /* the history kept: one hour */

/* One forward-auth verdict: a (the bridge's answer, after sb_bridge_auth
 * returned) and its result (SB_OK or the error code).  Lock-free; never
 * blocks, never asks Redis. */
void sb_progress_note(const struct sb_config *cfg,
                      const struct sb_bridge_auth *a,
                      enum sb_err_code result);

/* Starts the flushing thread.  0, or -1 when it cannot start. */
int sb_progress_start(sb_config_source config, sb_config_release release);

/* Stops it (after one last flush) and waits for it. */
void sb_progress_stop(void);

/* One minute of this process's forward-auth traffic. */
struct sb_progress_minute {
    int64_t minute;          /* Unix second the minute starts at; 0: none */
    uint64_t served_new;     /* 200 with a valid [route] new credential */
    uint64_t served_legacy;  /* 200 with the legacy credential only (or
                                another profile) */
    uint64_t refused;        /* 401 */
    uint64_t unavailable;    /* 503 and other failures */
    uint64_t active_any;     /* the minute's HyperLogLog counts (every */
    uint64_t active_new;     /* bridge of the store); 0 until read */
};

/* What the gauges and the status page show. */
struct sb_progress_view {
    bool counted;              /* the counts were read from Redis */
    int64_t counted_at;        /* Unix seconds of that read */
    uint64_t active_any;       /* users served in the last
                                  SB_PROGRESS_ACTIVE_WINDOWS minutes */
    uint64_t active_new;       /* of them, with a new credential */
    uint64_t flushes_ok, flushes_failed;
    uint64_t dropped;          /* hashes the full tables could not take */
    uint64_t errors[SB_ERR__COUNT]; /* forward-auth answers by code since
                                       start (SB_OK: served) */
    struct sb_progress_minute minutes[SB_PROGRESS_MINUTES]; /* oldest
                                       first; the last is the current one */
};

/* A copy of the current figures (takes the history's lock briefly). */
void sb_progress_read(struct sb_progress_view *out);

#endif
