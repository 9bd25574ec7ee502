/* redis.c - per-thread hiredis connections: timeouts, AUTH/SELECT,
 * reconnect with backoff, pipelining and EVALSHA. */
#include "sessionbridge/redis.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sessionbridge/crypto.h"
#include "sessionbridge/log.h"

atomic_ulong sb_redis_errors_total;
atomic_ulong sb_redis_reconnects_total;

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000

struct sb_redis {
    struct sb_redis_url url;
    unsigned connect_timeout_ms;
    unsigned command_timeout_ms;
    redisContext *ctx;         /* NULL while disconnected */
    bool failed_since_connect; /* a reconnect is due: count it */
    int64_t next_attempt_ms;   /* monotonic time before which we fail fast */
    unsigned backoff_ms;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval ms_to_tv(unsigned ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

struct sb_redis *sb_redis_new(const struct sb_redis_url *url,
                              unsigned connect_timeout_ms,
                              unsigned command_timeout_ms, struct sb_err *err)
{
    struct sb_redis *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (sb_redis_url_copy(&r->url, url, err) != 0) {
        free(r);
        return NULL;
    }
    r->connect_timeout_ms = connect_timeout_ms;
    r->command_timeout_ms = command_timeout_ms;
    r->backoff_ms = BACKOFF_MIN_MS;
    return r;
}

static void drop(struct sb_redis *r)
{
    if (r->ctx != NULL) {
        redisFree(r->ctx);
        r->ctx = NULL;
    }
}

void sb_redis_free(struct sb_redis *r)
{
    if (r == NULL)
        return;
    drop(r);
    sb_redis_url_free(&r->url);
    free(r);
}

/* Runs AUTH and SELECT on a fresh connection. */
static int handshake(struct sb_redis *r, struct sb_err *err)
{
    redisReply *rep = NULL;
    char db[16];

    if (r->url.password != NULL) {
        if (r->url.user != NULL)
            rep = redisCommand(r->ctx, "AUTH %s %s", r->url.user,
                               r->url.password);
        else
            rep = redisCommand(r->ctx, "AUTH %s", r->url.password);
        if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
            freeReplyObject(rep);
            return sb_err_set(err, SB_ERR_STORE,
                              "Redis refused authentication");
        }
        freeReplyObject(rep);
    }
    if (r->url.db != 0) {
        snprintf(db, sizeof(db), "%u", r->url.db);
        rep = redisCommand(r->ctx, "SELECT %s", db);
        if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
            freeReplyObject(rep);
            return sb_err_set(err, SB_ERR_STORE, "Redis SELECT %s failed", db);
        }
        freeReplyObject(rep);
    }
    return 0;
}

int sb_redis_ensure(struct sb_redis *r, struct sb_err *err)
{
    int64_t t;

    if (r->ctx != NULL)
        return 0;
    t = now_ms();
    if (t < r->next_attempt_ms)
        return sb_err_set(err, SB_ERR_STORE,
                          "Redis is unreachable (retrying shortly)");
    if (r->url.socket != NULL)
        r->ctx = redisConnectUnixWithTimeout(r->url.socket,
                                             ms_to_tv(r->connect_timeout_ms));
    else
        r->ctx = redisConnectWithTimeout(r->url.host, (int)r->url.port,
                                         ms_to_tv(r->connect_timeout_ms));
    if (r->ctx == NULL || r->ctx->err != 0) {
        sb_err_set(err, SB_ERR_STORE, "cannot connect to Redis: %s",
                   r->ctx ? r->ctx->errstr : "out of memory");
        goto err_backoff;
    }
    redisSetTimeout(r->ctx, ms_to_tv(r->command_timeout_ms));
    if (r->url.socket == NULL)
        redisEnableKeepAlive(r->ctx);
    if (handshake(r, err) != 0)
        goto err_backoff;
    if (r->failed_since_connect)
        atomic_fetch_add(&sb_redis_reconnects_total, 1);
    r->failed_since_connect = false;
    r->backoff_ms = BACKOFF_MIN_MS;
    return 0;

err_backoff:
    drop(r);
    r->failed_since_connect = true;
    r->next_attempt_ms = t + r->backoff_ms;
    r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                       : r->backoff_ms * 2;
    atomic_fetch_add(&sb_redis_errors_total, 1);
    return -1;
}

/* A command failed at the connection level: drop the connection so the
 * next call reconnects, count it, fill err. */
static redisReply *failed(struct sb_redis *r, struct sb_err *err)
{
    sb_err_set(err, SB_ERR_STORE, "Redis command failed: %s",
               r->ctx && r->ctx->errstr[0] ? r->ctx->errstr : "no reply");
    atomic_fetch_add(&sb_redis_errors_total, 1);
    drop(r);
    r->failed_since_connect = true;
    return NULL;
}

redisReply *sb_redis_commandv(struct sb_redis *r, int argc, const char **argv,
                              const size_t *argvlen, struct sb_err *err)
{
    redisReply *rep;

    if (sb_redis_ensure(r, err) != 0)
        return NULL;
    rep = redisCommandArgv(r->ctx, argc, argv, argvlen);
    if (rep == NULL)
        return failed(r, err);
    return rep;
}

redisReply *sb_redis_command(struct sb_redis *r, struct sb_err *err,
                             const char *fmt, ...)
{
    redisReply *rep;
    va_list ap;

    if (sb_redis_ensure(r, err) != 0)
        return NULL;
    va_start(ap, fmt);
    rep = redisvCommand(r->ctx, fmt, ap);
    va_end(ap);
    if (rep == NULL)
        return failed(r, err);
    return rep;
}

int sb_redis_append(struct sb_redis *r, int argc, const char **argv,
                    const size_t *argvlen, struct sb_err *err)
{
    if (sb_redis_ensure(r, err) != 0)
        return -1;
    if (redisAppendCommandArgv(r->ctx, argc, argv, argvlen) != REDIS_OK) {
        failed(r, err);
        return -1;
    }
    return 0;
}

redisReply *sb_redis_read(struct sb_redis *r, struct sb_err *err)
{
    void *rep = NULL;

    if (r->ctx == NULL) {
        sb_err_set(err, SB_ERR_STORE, "Redis connection was lost");
        return NULL;
    }
    if (redisGetReply(r->ctx, &rep) != REDIS_OK || rep == NULL)
        return failed(r, err);
    return rep;
}

int sb_redis_discard(struct sb_redis *r, size_t n, struct sb_err *err)
{
    size_t i;

    for (i = 0; i < n; i++) {
        redisReply *rep = sb_redis_read(r, err);
        if (rep == NULL)
            return -1;
        freeReplyObject(rep);
    }
    return 0;
}

void sb_redis_script_sha(const char *script, char sha[41])
{
    unsigned char md[SB_DIGEST_MAX];
    const void *part = script;
    size_t len = strlen(script);

    sb_hash(SB_SHA1, &part, &len, 1, md);
    sb_hex_encode(md, 20, sha);
}

/* One EVALSHA command in hiredis argv form, on the caller's stack. */
struct evalsha {
    const char *argv[SB_REDIS_EVAL_ARGS_MAX + 3];
    size_t argvlen[SB_REDIS_EVAL_ARGS_MAX + 3];
    char numkeys[12];
    int argc;
};

/* Fills c with EVALSHA sha numkeys argv[0..argc): the one place the
 * command of a script call is laid out, for sb_redis_eval and pipelines
 * alike.  c borrows sha and argv. */
static int evalsha_build(struct evalsha *c, const char *sha, int numkeys,
                         int argc, const char **argv, const size_t *argvlen,
                         struct sb_err *err)
{
    int i;

    if (argc > SB_REDIS_EVAL_ARGS_MAX)
        return sb_err_set(err, SB_ERR_INTERNAL, "script call too long");
    snprintf(c->numkeys, sizeof(c->numkeys), "%d", numkeys);
    c->argv[0] = "EVALSHA";
    c->argvlen[0] = 7;
    c->argv[1] = sha;
    c->argvlen[1] = 40;
    c->argv[2] = c->numkeys;
    c->argvlen[2] = strlen(c->numkeys);
    for (i = 0; i < argc; i++) {
        c->argv[i + 3] = argv[i];
        c->argvlen[i + 3] = argvlen ? argvlen[i] : strlen(argv[i]);
    }
    c->argc = argc + 3;
    return 0;
}

bool sb_redis_is_noscript(const redisReply *rep)
{
    return rep != NULL && rep->type == REDIS_REPLY_ERROR &&
           strncmp(rep->str, "NOSCRIPT", 8) == 0;
}

/* Two attempts at most: a NOSCRIPT answer (the server's script cache was
 * flushed, or never had it) loads the script and runs it again. */
redisReply *sb_redis_eval(struct sb_redis *r, const char *script,
                          const char *sha, int numkeys, int argc,
                          const char **argv, const size_t *argvlen,
                          struct sb_err *err)
{
    const char *load[3] = {"SCRIPT", "LOAD", script};
    struct evalsha c;
    redisReply *rep;

    if (evalsha_build(&c, sha, numkeys, argc, argv, argvlen, err) != 0)
        return NULL;
    rep = sb_redis_commandv(r, c.argc, c.argv, c.argvlen, err);
    if (rep == NULL || !sb_redis_is_noscript(rep))
        return rep;
    freeReplyObject(rep);
    rep = sb_redis_commandv(r, 3, load, NULL, err);
    if (rep == NULL)
        return NULL;
    freeReplyObject(rep);
    return sb_redis_commandv(r, c.argc, c.argv, c.argvlen, err);
}

int sb_redis_append_evalsha(struct sb_redis *r, const char *sha, int numkeys,
                            int argc, const char **argv,
                            const size_t *argvlen, struct sb_err *err)
{
    struct evalsha c;

    if (evalsha_build(&c, sha, numkeys, argc, argv, argvlen, err) != 0)
        return -1;
    return sb_redis_append(r, c.argc, c.argv, c.argvlen, err);
}

/* ---- the per-thread handle ------------------------------------------------- */

static __thread struct sb_redis *thread_redis;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t release_key;

/* Thread exit: close the thread's connection (pool threads end at
 * shutdown; without this their handles would leak). */
static void release_at_exit(void *unused)
{
    sb_redis_thread_release();
}

static void make_key(void)
{
    pthread_key_create(&release_key, release_at_exit);
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool same_target(const struct sb_redis *r, const struct sb_redis_url *u,
                        unsigned cto, unsigned mto)
{
    return same_str(r->url.host, u->host) && same_str(r->url.socket, u->socket) &&
           same_str(r->url.user, u->user) &&
           same_str(r->url.password, u->password) && r->url.port == u->port &&
           r->url.db == u->db && r->connect_timeout_ms == cto &&
           r->command_timeout_ms == mto;
}

struct sb_redis *sb_redis_thread(const struct sb_redis_url *url,
                                 unsigned connect_timeout_ms,
                                 unsigned command_timeout_ms,
                                 struct sb_err *err)
{
    if (thread_redis != NULL &&
        same_target(thread_redis, url, connect_timeout_ms, command_timeout_ms))
        return thread_redis;
    pthread_once(&key_once, make_key);
    pthread_setspecific(release_key, (void *)1);
    sb_redis_free(thread_redis);
    thread_redis = sb_redis_new(url, connect_timeout_ms, command_timeout_ms,
                                err);
    return thread_redis;
}

void sb_redis_thread_release(void)
{
    sb_redis_free(thread_redis);
    thread_redis = NULL;
}
