/* redis.c - per-thread Redis connections over the project's own transport
 * (redis_conn.c: plain or TLS): timeouts, AUTH/SELECT, sentinel discovery
 * with a ROLE check, the layout key after every connect, reconnect with
 * backoff, error replies that mean "unavailable", pipelining and EVALSHA. */
#include "sessionbridge/redis.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redis_internal.h"
#include "sessionbridge/crypto.h"
#include "sessionbridge/log.h"
#include "sessionbridge/store.h"

atomic_ulong sb_redis_errors_total;
atomic_ulong sb_redis_reconnects_total;
atomic_ulong sb_redis_unavailable_replies_total;
atomic_ulong sb_redis_failovers_total;

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000
#define ADDR_MAX 256

atomic_ulong sb_redis_redirects_moved_total;
atomic_ulong sb_redis_redirects_ask_total;
atomic_ulong sb_redis_cluster_nodes;
atomic_ulong sb_redis_cluster_primaries;
atomic_ulong sb_redis_wait_short_total;

int64_t sb_redis_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct sb_redis *sb_redis_new(const struct sb_redis_conf *conf,
                              unsigned connect_timeout_ms,
                              unsigned command_timeout_ms, struct sb_err *err)
{
    struct sb_redis *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (sb_redis_conf_copy(&r->conf, conf, err) != 0) {
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
    sb_redis_conn_close(r->c);
    r->c = NULL;
}

void sb_redis_free(struct sb_redis *r)
{
    if (r == NULL)
        return;
    drop(r);
    sb_redis_cluster_free(r->cl);
    SSL_CTX_free(r->tls);
    sb_redis_conf_free(&r->conf);
    free(r);
}

void sb_redis_first_word(const redisReply *rep, char *word, size_t size)
{
    size_t n = strcspn(rep->str, " ");

    if (n >= size)
        n = size - 1;
    memcpy(word, rep->str, n);
    word[n] = '\0';
}

/* One warning line naming the reply's first word (what follows it may
 * hold values); the same reply again is logged at most once a second per
 * handle, so an outage under load does not flood the log, but a new kind
 * of reply always is. */
void sb_redis_log_reply(struct sb_redis *r, const char *msg,
                        const char *word)
{
    int64_t t = sb_redis_now_ms();

    if (t - r->logged_ms < 1000 && strcmp(word, r->logged_word) == 0)
        return;
    r->logged_ms = t;
    snprintf(r->logged_word, sizeof(r->logged_word), "%s", word);
    sb_log(SB_LOG_WARN, msg, "reply", word, NULL);
}

int sb_redis_handshake(struct sb_redis *r, struct sb_redis_conn *c,
                       struct sb_err *err)
{
    const struct sb_redis_url *u = &r->conf.url;
    redisReply *rep;
    char db[16], word[24];

    if (u->password != NULL) {
        const char *auth[3] = {"AUTH", u->user ? u->user : u->password,
                               u->password};
        rep = sb_redis_conn_command(c, u->user ? 3 : 2, auth, NULL, err);
        if (rep == NULL)
            return -1;
        if (rep->type == REDIS_REPLY_ERROR) {
            sb_redis_first_word(rep, word, sizeof(word));
            freeReplyObject(rep);
            sb_redis_log_reply(r, "Redis refused authentication; failing closed",
                      word);
            return sb_err_set(err, SB_ERR_STORE, "Redis refused "
                              "authentication (%s)", word);
        }
        freeReplyObject(rep);
    }
    if (u->db != 0) {
        const char *sel[2] = {"SELECT", db};
        snprintf(db, sizeof(db), "%u", u->db);
        rep = sb_redis_conn_command(c, 2, sel, NULL, err);
        if (rep == NULL)
            return -1;
        if (rep->type == REDIS_REPLY_ERROR) {
            sb_redis_first_word(rep, word, sizeof(word));
            freeReplyObject(rep);
            return sb_err_set(err, SB_ERR_STORE, "Redis SELECT %s failed (%s)",
                              db, word);
        }
        freeReplyObject(rep);
    }
    return 0;
}

/* Sentinel mode: the server we reached must say it is the master now (a
 * sentinel that has not seen the failover yet may name the old one). */
static int check_role(struct sb_redis *r, const char *addr, struct sb_err *err)
{
    const char *role[1] = {"ROLE"};
    redisReply *rep = sb_redis_conn_command(r->c, 1, role, NULL, err);
    int rc = 0;

    if (rep == NULL)
        return -1;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(rep->element[0]->str, "master") != 0)
        rc = sb_err_set(err, SB_ERR_STORE, "the sentinels named %s as master "
                        "of %.64s, but it is not the master (yet)", addr,
                        r->conf.sentinel_master);
    freeReplyObject(rep);
    return rc;
}

/* The master the sentinels name, process-wide, to count and log a change
 * once (not once per worker). */
static pthread_mutex_t master_lock = PTHREAD_MUTEX_INITIALIZER;
static char master_addr[ADDR_MAX + 8];

static void note_master(const char *addr)
{
    bool changed;

    pthread_mutex_lock(&master_lock);
    changed = strcmp(master_addr, addr) != 0;
    if (changed && master_addr[0] != '\0') {
        atomic_fetch_add(&sb_redis_failovers_total, 1);
        sb_log(SB_LOG_WARN, "Redis master changed (sentinel failover)",
               "from", master_addr, "to", addr, NULL);
    }
    if (changed)
        snprintf(master_addr, sizeof(master_addr), "%s", addr);
    pthread_mutex_unlock(&master_lock);
}

int sb_redis_current_master(char *buf, size_t size)
{
    int n;

    pthread_mutex_lock(&master_lock);
    n = snprintf(buf, size, "%s", master_addr);
    pthread_mutex_unlock(&master_lock);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int sb_redis_tls_ready(struct sb_redis *r, struct sb_err *err)
{
    if (r->conf.tls.on && r->tls == NULL &&
        (r->tls = sb_redis_tls_ctx_new(&r->conf.tls, err)) == NULL)
        return -1;
    return 0;
}

/* One connect attempt: find the server (sentinel mode asks the
 * sentinels), dial it (TLS when on), AUTH/SELECT, ROLE in sentinel mode,
 * then the layout key.  On failure r->c is NULL and err says why. */
static int connect_once(struct sb_redis *r, struct sb_err *err)
{
    struct sb_redis_dial d = {r->conf.url.host, r->conf.url.port,
                              r->conf.url.socket, NULL,
                              r->conf.tls.server_name, r->connect_timeout_ms,
                              r->command_timeout_ms};
    char host[ADDR_MAX], addr[ADDR_MAX + 8];

    if (sb_redis_tls_ready(r, err) != 0)
        return -1;
    d.tls = r->tls;
    if (r->conf.mode == SB_REDIS_SENTINEL) {
        if (sb_redis_sentinel_master(&r->conf, r->tls, r->connect_timeout_ms,
                                     r->command_timeout_ms, host,
                                     sizeof(host), &d.port, err) != 0)
            return -1;
        d.host = host;
        d.socket = NULL;
    }
    r->c = sb_redis_conn_open(&d, err);
    if (r->c == NULL)
        return -1;
    if (sb_redis_handshake(r, r->c, err) != 0)
        goto fail;
    if (r->conf.mode == SB_REDIS_SENTINEL) {
        snprintf(addr, sizeof(addr), "%s:%u", host, d.port);
        if (check_role(r, addr, err) != 0)
            goto fail;
        note_master(addr);
    }
    /* Every new connection: a Redis that restarted empty gets the layout
     * key back before the first request relies on it. */
    if (r->conf.layout_prefix != NULL &&
        sb_store_layout_ensure(r, r->conf.layout_prefix, err) != 0)
        goto fail;
    if (r->c == NULL)
        return sb_err_set(err, SB_ERR_STORE, "Redis connection was lost");
    return 0;

fail:
    drop(r);
    return -1;
}

int sb_redis_ensure(struct sb_redis *r, struct sb_err *err)
{
    int64_t t;

    if (r->conf.mode == SB_REDIS_CLUSTER)
        return sb_redis_cluster_ensure(r, err);
    if (r->c != NULL)
        return 0;
    t = sb_redis_now_ms();
    if (t < r->next_attempt_ms)
        return sb_err_set(err, SB_ERR_STORE,
                          "Redis is unreachable (retrying shortly)");
    if (connect_once(r, err) != 0) {
        r->failed_since_connect = true;
        r->next_attempt_ms = t + r->backoff_ms;
        r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS
                            ? BACKOFF_MAX_MS : r->backoff_ms * 2;
        atomic_fetch_add(&sb_redis_errors_total, 1);
        return -1;
    }
    if (r->failed_since_connect)
        atomic_fetch_add(&sb_redis_reconnects_total, 1);
    r->failed_since_connect = false;
    r->backoff_ms = BACKOFF_MIN_MS;
    return 0;
}

/* A command failed at the connection level: drop the connection so the
 * next call reconnects, count it; err was filled by the transport. */
static redisReply *failed(struct sb_redis *r)
{
    atomic_fetch_add(&sb_redis_errors_total, 1);
    drop(r);
    r->failed_since_connect = true;
    return NULL;
}

/* Error replies that say the server cannot serve us now (not that the
 * command was wrong): authentication lost, loading, a replica, a busy
 * script, out of memory, a failing disk, a cluster redirect. */
static bool word_unavailable(const char *w)
{
    static const char *const words[] = {
        "NOAUTH", "WRONGPASS", "NOPERM", "LOADING", "READONLY", "MASTERDOWN",
        "BUSY", "OOM", "MISCONF", "NOREPLICAS", "CLUSTERDOWN", "TRYAGAIN",
        "MOVED", "ASK", NULL};
    size_t i;

    for (i = 0; words[i] != NULL; i++) {
        if (strcmp(w, words[i]) == 0)
            return true;
    }
    return false;
}

/* An "unavailable" error reply becomes SB_ERR_STORE (fail closed: the
 * caller answers 503), logged by its first word only (values may follow
 * it). */
redisReply *sb_redis_screen_reply(struct sb_redis *r, redisReply *rep,
                                  struct sb_err *err)
{
    char word[24];

    if (rep->type != REDIS_REPLY_ERROR)
        return rep;
    sb_redis_first_word(rep, word, sizeof(word));
    if (!word_unavailable(word))
        return rep;
    freeReplyObject(rep);
    atomic_fetch_add(&sb_redis_unavailable_replies_total, 1);
    sb_redis_log_reply(r, "Redis answered an error reply; failing closed",
                       word);
    sb_err_set(err, SB_ERR_STORE, "Redis is unavailable: it answered %s",
               word);
    return NULL;
}

/* Screens rep; an "unavailable" reply also drops the connection: the
 * reconnect re-runs AUTH, finds the master again in sentinel mode, and
 * writes the layout key again. */
static redisReply *check_reply(struct sb_redis *r, redisReply *rep,
                               struct sb_err *err)
{
    rep = sb_redis_screen_reply(r, rep, err);
    return rep != NULL ? rep : failed(r);
}

/* Queues one formatted command on a connected handle (in cluster mode,
 * on the connection of the node its key's slot lives on). */
static int queue(struct sb_redis *r, char *cmd, int len, struct sb_err *err)
{
    int rc;

    if (len < 0)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    if (r->conf.mode == SB_REDIS_CLUSTER)
        return sb_redis_cluster_queue(r, cmd, (size_t)len, err);
    rc = sb_redis_conn_append(r->c, cmd, (size_t)len, err);
    redisFreeCommand(cmd);
    return rc;
}

redisReply *sb_redis_read(struct sb_redis *r, struct sb_err *err)
{
    redisReply *rep;

    if (r->conf.mode == SB_REDIS_CLUSTER)
        return sb_redis_cluster_read(r, err);
    if (r->c == NULL) {
        sb_err_set(err, SB_ERR_STORE, "Redis connection was lost");
        return NULL;
    }
    rep = sb_redis_conn_read(r->c, err);
    if (rep == NULL)
        return failed(r);
    return check_reply(r, rep, err);
}

/* The connection a subscription reads from: the one connection, or in
 * cluster mode the node's the SUBSCRIBE went to. */
static const struct sb_redis_conn *reading_conn(const struct sb_redis *r)
{
    return r->conf.mode == SB_REDIS_CLUSTER ? sb_redis_cluster_subscription(r)
                                            : r->c;
}

int sb_redis_fd(const struct sb_redis *r)
{
    const struct sb_redis_conn *c = reading_conn(r);

    return c != NULL ? sb_redis_conn_fd(c) : -1;
}

bool sb_redis_buffered(const struct sb_redis *r)
{
    const struct sb_redis_conn *c = reading_conn(r);

    return c != NULL && sb_redis_conn_buffered(c);
}

int sb_redis_append(struct sb_redis *r, int argc, const char **argv,
                    const size_t *argvlen, struct sb_err *err)
{
    char *cmd = NULL;

    if (sb_redis_ensure(r, err) != 0)
        return -1;
    return queue(r, cmd, redisFormatCommandArgv(&cmd, argc, argv, argvlen),
                 err);
}

redisReply *sb_redis_commandv(struct sb_redis *r, int argc, const char **argv,
                              const size_t *argvlen, struct sb_err *err)
{
    if (sb_redis_append(r, argc, argv, argvlen, err) != 0)
        return NULL;
    return sb_redis_read(r, err);
}

redisReply *sb_redis_command(struct sb_redis *r, struct sb_err *err,
                             const char *fmt, ...)
{
    char *cmd = NULL;
    va_list ap;
    int len;

    if (sb_redis_ensure(r, err) != 0)
        return NULL;
    va_start(ap, fmt);
    len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    if (queue(r, cmd, len, err) != 0)
        return NULL;
    return sb_redis_read(r, err);
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

/* ---- every mode: readiness, WAIT, walks ------------------------------------ */

int sb_redis_ping(struct sb_redis *r, struct sb_err *err)
{
    redisReply *rep;
    bool pong;

    if (r->conf.mode == SB_REDIS_CLUSTER)
        return sb_redis_cluster_ping(r, err);
    rep = sb_redis_command(r, err, "PING");
    if (rep == NULL)
        return -1;
    pong = rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;
    freeReplyObject(rep);
    return pong ? 0 : sb_err_set(err, SB_ERR_STORE, "Redis answered PING "
                                 "with an error");
}

/* WAIT on the connection the write went through (standalone, sentinel):
 * a connection lost since then cannot vouch for it. */
static int wait_one(struct sb_redis *r, long long *acked, struct sb_err *err)
{
    char n[16], ms[16];
    const char *argv[3] = {"WAIT", n, ms};
    redisReply *rep;

    if (r->c == NULL)
        return sb_err_set(err, SB_ERR_STORE, "Redis connection was lost "
                          "before WAIT");
    snprintf(n, sizeof(n), "%u", r->conf.wait_replicas);
    snprintf(ms, sizeof(ms), "%u", r->conf.wait_timeout_ms);
    rep = sb_redis_commandv(r, 3, argv, NULL, err);
    if (rep == NULL)
        return -1;
    if (rep->type != REDIS_REPLY_INTEGER) {
        freeReplyObject(rep);
        return sb_err_set(err, SB_ERR_STORE, "WAIT: unexpected reply");
    }
    *acked = rep->integer;
    freeReplyObject(rep);
    return 0;
}

void sb_redis_wait_begin(struct sb_redis *r)
{
    if (r->conf.mode == SB_REDIS_CLUSTER)
        sb_redis_cluster_wait_begin(r);
}

int sb_redis_wait_acked(struct sb_redis *r, struct sb_err *err)
{
    long long acked = 0;
    char want[16];

    if (r->conf.wait_replicas == 0)
        return 0;
    if ((r->conf.mode == SB_REDIS_CLUSTER
             ? sb_redis_cluster_wait(r, &acked, err)
             : wait_one(r, &acked, err)) != 0)
        return -1;
    if (acked >= (long long)r->conf.wait_replicas)
        return 0;
    atomic_fetch_add(&sb_redis_wait_short_total, 1);
    snprintf(want, sizeof(want), "%u", r->conf.wait_replicas);
    sb_redis_log_reply(r, "a write was not acknowledged by [redis] "
                       "wait_replicas replicas in time; answering it as "
                       "unavailable", "WAIT");
    return sb_err_set(err, SB_ERR_STORE, "the write is kept on the Redis "
                      "primary, but only %lld of %s replicas acknowledged it "
                      "within %u ms ([redis] wait_replicas): it may not "
                      "survive a failover", acked, want,
                      r->conf.wait_timeout_ms);
}

int sb_redis_primary_count(struct sb_redis *r, struct sb_err *err)
{
    if (r->conf.mode == SB_REDIS_CLUSTER)
        return sb_redis_cluster_primary_count(r, err);
    return 1;
}

redisReply *sb_redis_commandv_primary(struct sb_redis *r, size_t i, int argc,
                                      const char **argv,
                                      const size_t *argvlen,
                                      struct sb_err *err)
{
    if (r->conf.mode == SB_REDIS_CLUSTER)
        return sb_redis_cluster_commandv_primary(r, i, argc, argv, argvlen,
                                                 err);
    if (i != 0) {
        sb_err_set(err, SB_ERR_INTERNAL, "one server has one primary");
        return NULL;
    }
    return sb_redis_commandv(r, argc, argv, argvlen, err);
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

static bool same_target(const struct sb_redis *r,
                        const struct sb_redis_conf *conf, unsigned cto,
                        unsigned mto)
{
    return sb_redis_conf_equal(&r->conf, conf) &&
           r->connect_timeout_ms == cto && r->command_timeout_ms == mto;
}

struct sb_redis *sb_redis_thread(const struct sb_redis_conf *conf,
                                 unsigned connect_timeout_ms,
                                 unsigned command_timeout_ms,
                                 struct sb_err *err)
{
    if (thread_redis != NULL &&
        same_target(thread_redis, conf, connect_timeout_ms,
                    command_timeout_ms))
        return thread_redis;
    pthread_once(&key_once, make_key);
    pthread_setspecific(release_key, (void *)1);
    sb_redis_free(thread_redis);
    thread_redis = sb_redis_new(conf, connect_timeout_ms, command_timeout_ms,
                                err);
    return thread_redis;
}

void sb_redis_thread_release(void)
{
    sb_redis_free(thread_redis);
    thread_redis = NULL;
}
