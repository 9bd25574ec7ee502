/*
 * store_progress.h - the migration's progress in Redis: per-minute
 * HyperLogLogs of who was served, shared by every bridge on the store
 * (proto/REDIS-LAYOUT.md):
 *   P{progress}:W:all   every user (or session) served in the minute
 *                       starting at Unix second W
 *   P{progress}:W:new   those served with a credential of [route] new
 * Elements are 16 hex digits of a 64-bit hash of "u:SUBJECT" or "s:SID",
 * never the subject; a HyperLogLog keeps no element anyway (12 KiB at
 * most per key, ~0.8% standard error).  Every key lives
 * SB_PROGRESS_KEEP_SECONDS.  The hash tag puts them in one slot, so one
 * PFCOUNT can take the union of several windows on Redis Cluster too.
 */
#ifndef SESSIONBRIDGE_STORE_PROGRESS_H
#define SESSIONBRIDGE_STORE_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "sessionbridge/err.h"
#include "sessionbridge/redis.h"

#define SB_PROGRESS_WINDOW_SECONDS 60   /* one key pair per minute */
#define SB_PROGRESS_KEEP_SECONDS 3900   /* an hour of history, and a bit */
#define SB_PROGRESS_ELEMENT_LEN 16      /* hex digits of an element */

/* Adds the elements to window w's keys (PFADD, then EXPIRE; one pipelined
 * round trip for both kinds): all[0..nall) to :all, fresh[0..nnew) to
 * :new (elements of :new should be in :all too).  Each element is
 * SB_PROGRESS_ELEMENT_LEN bytes, not NUL-terminated: elements are packed
 * one after the other. */
int sb_store_progress_add(struct sb_redis *r, const char *prefix, int64_t w,
                          const char *all, size_t nall, const char *fresh,
                          size_t nnew, struct sb_err *err);

/* Counts, for each of n window groups, the union of its windows: group g
 * is windows[starts[g] .. starts[g + 1]) (starts has n + 1 entries, each
 * group at most 16 windows).  Writes the :all count to any[g] and the :new
 * count to fresh[g]; one pipelined round trip. */
int sb_store_progress_count(struct sb_redis *r, const char *prefix,
                            const int64_t *windows, const size_t *starts,
                            size_t n, uint64_t *any, uint64_t *fresh,
                            struct sb_err *err);

#endif
