/* scan.c - SCAN cursors and pipelined batches of one Lua script, for the
 * admin CLI's whole-store operations. */
#include "sessionbridge/store_admin.h"

#include <stdlib.h>
#include <string.h>

void sb_scan_init(struct sb_scan *it)
{
    memset(it, 0, sizeof(*it));
    strcpy(it->cursor, "0");
}

/*
 * Sends one SCAN and splits the reply: the new cursor is kept in it, the
 * key array is detached from the reply and handed to the caller.  A
 * cluster is walked one primary after another (each holds its slots'
 * keys): a cursor back at 0 moves on to the next primary.
 */
int sb_scan_step(struct sb_redis *r, struct sb_scan *it, const char *match,
                 unsigned count, const char *type, redisReply **keys,
                 struct sb_err *err)
{
    const char *argv[8];
    char count_s[16];
    redisReply *rep, *cur;
    int argc = 0;

    *keys = NULL;
    snprintf(count_s, sizeof(count_s), "%u", count ? count : 100);
    argv[argc++] = "SCAN";
    argv[argc++] = it->cursor;
    argv[argc++] = "MATCH";
    argv[argc++] = match;
    argv[argc++] = "COUNT";
    argv[argc++] = count_s;
    if (type != NULL) {
        argv[argc++] = "TYPE";
        argv[argc++] = type;
    }
    rep = sb_redis_commandv_primary(r, it->node, argc, argv, NULL, err);
    if (rep == NULL)
        return -1;
    if (rep->type == REDIS_REPLY_ERROR) {
        sb_err_set(err, SB_ERR_STORE, "SCAN failed: %.120s", rep->str);
        freeReplyObject(rep);
        return -1;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[0]->len >= sizeof(it->cursor) ||
        rep->element[1]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(rep);
        return sb_err_set(err, SB_ERR_STORE, "SCAN: unexpected reply");
    }
    cur = rep->element[0];
    memcpy(it->cursor, cur->str, cur->len + 1);
    it->done = strcmp(it->cursor, "0") == 0;
    if (it->done) {
        int primaries = sb_redis_primary_count(r, err);
        if (primaries < 0) {
            freeReplyObject(rep);
            return -1;
        }
        if (it->node + 1 < (size_t)primaries) {
            it->node++;
            it->done = false;
        }
    }
    it->steps++;
    *keys = rep->element[1];
    rep->element[1] = NULL;
    freeReplyObject(rep);
    it->keys_seen += (*keys)->elements;
    return 0;
}

int sb_scan_escape(const char *s, char *out, size_t size)
{
    size_t o = 0;

    for (; *s; s++) {
        if (strchr("*?[]\\", *s) != NULL) {
            if (o + 1 >= size)
                return -1;
            out[o++] = '\\';
        }
        if (o + 1 >= size)
            return -1;
        out[o++] = *s;
    }
    if (size == 0)
        return -1;
    out[o] = '\0';
    return 0;
}

/* Frees replies[0..n) and NULLs them. */
static void free_replies(redisReply **replies, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        freeReplyObject(replies[i]);
        replies[i] = NULL;
    }
}

/*
 * Two rounds at most: the first sends every call; when some came back
 * NOSCRIPT, the script is loaded and only those are sent again.  Replies
 * are read even after a failed append so the connection stays in step
 * (a failed append drops the connection, and the reads then fail too).
 */
int sb_redis_eval_batch(struct sb_redis *r, const char *script,
                        const char *sha, int numkeys,
                        const struct sb_eval_call *calls, size_t n,
                        redisReply **replies, struct sb_err *err)
{
    size_t i, missing = 0;
    redisReply *rep;
    int round;

    for (i = 0; i < n; i++)
        replies[i] = NULL;
    for (round = 0; round < 2; round++) {
        for (i = 0; i < n; i++) {
            if (round == 1 && !sb_redis_is_noscript(replies[i]))
                continue;
            if (sb_redis_append_evalsha(r, sha, numkeys, calls[i].argc,
                                        calls[i].argv, calls[i].argvlen,
                                        err) != 0)
                goto err_free;
        }
        missing = 0;
        for (i = 0; i < n; i++) {
            if (round == 1 && !sb_redis_is_noscript(replies[i]))
                continue;
            rep = sb_redis_read(r, err);
            if (rep == NULL)
                goto err_free;
            freeReplyObject(replies[i]);
            replies[i] = rep;
            if (sb_redis_is_noscript(rep))
                missing++;
        }
        if (missing == 0)
            return 0;
        if (round == 0) {
            rep = sb_redis_command(r, err, "SCRIPT LOAD %s", script);
            if (rep == NULL)
                goto err_free;
            freeReplyObject(rep);
        }
    }
    sb_err_set(err, SB_ERR_STORE, "Redis keeps forgetting a script");
err_free:
    free_replies(replies, n);
    return -1;
}
