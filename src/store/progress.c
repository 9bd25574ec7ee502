/* progress.c - the migration's per-minute HyperLogLogs
 * (sessionbridge/store_progress.h): PFADD + EXPIRE, PFCOUNT. */
#include "sessionbridge/store_progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/store.h"

#define PFADD_CHUNK 256      /* elements per PFADD command */
#define GROUP_MAX 16         /* windows one PFCOUNT may union */

/* P{progress}:W:KIND into buf. */
static int progress_key(const char *prefix, int64_t w, const char *kind,
                        char *buf, size_t size, struct sb_err *err)
{
    int n = snprintf(buf, size, "%s{progress}:%" PRId64 ":%s", prefix, w,
                     kind);

    if (n < 0 || (size_t)n >= size)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "progress key too long");
    return 0;
}

/* Appends PFADD key elems (in chunks) and EXPIRE key to the pipeline;
 * *queued counts the replies owed. */
static int append_kind(struct sb_redis *r, const char *key, const char *elems,
                       size_t n, size_t *queued, struct sb_err *err)
{
    const char *argv[PFADD_CHUNK + 2];
    size_t argvlen[PFADD_CHUNK + 2];
    char ttl[16];
    size_t i, done = 0;

    while (done < n) {
        size_t take = n - done > PFADD_CHUNK ? PFADD_CHUNK : n - done;
        argv[0] = "PFADD";
        argvlen[0] = 5;
        argv[1] = key;
        argvlen[1] = strlen(key);
        for (i = 0; i < take; i++) {
            argv[2 + i] = elems + (done + i) * SB_PROGRESS_ELEMENT_LEN;
            argvlen[2 + i] = SB_PROGRESS_ELEMENT_LEN;
        }
        if (sb_redis_append(r, (int)(take + 2), argv, argvlen, err) != 0)
            return -1;
        (*queued)++;
        done += take;
    }
    snprintf(ttl, sizeof(ttl), "%d", SB_PROGRESS_KEEP_SECONDS);
    argv[0] = "EXPIRE";
    argv[1] = key;
    argv[2] = ttl;
    if (sb_redis_append(r, 3, argv, NULL, err) != 0)
        return -1;
    (*queued)++;
    return 0;
}

/* Reads the n replies owed; fails on the first error reply. */
static int read_replies(struct sb_redis *r, size_t n, struct sb_err *err)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < n; i++) {
        redisReply *rep = sb_redis_read(r, err);
        if (rep == NULL)
            return -1; /* the connection is dropped: nothing more owed */
        if (rep->type == REDIS_REPLY_ERROR && rc == 0)
            rc = sb_err_set(err, SB_ERR_STORE, "Redis refused a progress "
                            "command");
        freeReplyObject(rep);
    }
    return rc;
}

int sb_store_progress_add(struct sb_redis *r, const char *prefix, int64_t w,
                          const char *all, size_t nall, const char *fresh,
                          size_t nnew, struct sb_err *err)
{
    char key[SB_STORE_KEY_MAX];
    size_t queued = 0;

    if (nall > 0 &&
        (progress_key(prefix, w, "all", key, sizeof(key), err) != 0 ||
         append_kind(r, key, all, nall, &queued, err) != 0))
        goto fail;
    if (nnew > 0 &&
        (progress_key(prefix, w, "new", key, sizeof(key), err) != 0 ||
         append_kind(r, key, fresh, nnew, &queued, err) != 0))
        goto fail;
    return read_replies(r, queued, err);
fail:
    sb_redis_discard(r, queued, NULL);
    return -1;
}

/* Appends PFCOUNT over windows[0..n) of kind. */
static int append_count(struct sb_redis *r, const char *prefix,
                        const int64_t *windows, size_t n, const char *kind,
                        struct sb_err *err)
{
    char keys[GROUP_MAX][SB_STORE_KEY_MAX];
    const char *argv[GROUP_MAX + 1];
    size_t i;

    if (n == 0 || n > GROUP_MAX)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "a progress count takes 1-%d windows", GROUP_MAX);
    argv[0] = "PFCOUNT";
    for (i = 0; i < n; i++) {
        if (progress_key(prefix, windows[i], kind, keys[i], sizeof(keys[i]),
                         err) != 0)
            return -1;
        argv[1 + i] = keys[i];
    }
    return sb_redis_append(r, (int)n + 1, argv, NULL, err);
}

int sb_store_progress_count(struct sb_redis *r, const char *prefix,
                            const int64_t *windows, const size_t *starts,
                            size_t n, uint64_t *any, uint64_t *fresh,
                            struct sb_err *err)
{
    size_t g, queued = 0;
    int rc = 0;

    for (g = 0; g < n; g++) {
        const int64_t *ws = windows + starts[g];
        size_t nw = starts[g + 1] - starts[g];
        if (append_count(r, prefix, ws, nw, "all", err) != 0)
            goto fail;
        queued++;
        if (append_count(r, prefix, ws, nw, "new", err) != 0)
            goto fail;
        queued++;
    }
    for (g = 0; g < 2 * n; g++) {
        redisReply *rep = sb_redis_read(r, err);
        if (rep == NULL)
            return -1;
        if (rep->type == REDIS_REPLY_INTEGER && rep->integer >= 0)
            (g % 2 == 0 ? any : fresh)[g / 2] = (uint64_t)rep->integer;
        else if (rc == 0)
            rc = sb_err_set(err, SB_ERR_STORE, "Redis answered PFCOUNT with "
                            "no count");
        freeReplyObject(rep);
    }
    return rc;
fail:
    sb_redis_discard(r, queued, NULL);
    return -1;
}
