/*
 * redis.h - one Redis connection per thread, with connect and command
 * timeouts, TLS, AUTH (ACL user) / SELECT, sentinel master discovery, and
 * reconnect with backoff.  All Redis I/O of the daemon and the CLI goes
 * through here.
 *
 * The daemon's worker threads each own one (sb_redis_thread), so the hot
 * path takes no lock.  A connection that fails is dropped; the next call
 * reconnects, but not sooner than the backoff allows, so an outage costs a
 * worker at most one connect timeout per backoff period and never a crash.
 *
 * Every new connection (first use, or after a failure) runs AUTH, SELECT,
 * in sentinel mode asks the sentinels for the master and checks ROLE, and
 * when conf->layout_prefix is set writes and checks the layout key.  Error
 * replies that mean the server cannot serve now (NOAUTH, WRONGPASS,
 * NOPERM, LOADING, READONLY, MASTERDOWN, BUSY, OOM, MISCONF, NOREPLICAS,
 * CLUSTERDOWN, TRYAGAIN, MOVED, ASK) are not returned: the call fails with
 * SB_ERR_STORE, the reply's first word is logged, and the connection is
 * dropped so the next call starts over (and finds a new master).
 *
 * Cluster mode (redis_cluster.c): a handle holds one connection per node
 * it has used, and the slot map it loaded (CLUSTER SLOTS) from the seeds
 * or a node it knows.  Each command goes to the primary that serves the
 * hash slot of its key ({tag} of the key: argv[1], the first key of
 * EVALSHA, the key of MEMORY USAGE); commands without a key go to the
 * node that answered last (so SCRIPT LOAD after NOSCRIPT, WAIT after a
 * write, and a subscription's messages stay on one connection), and
 * SCRIPT LOAD also goes to every other primary.  A pipeline is split over
 * the nodes and its replies come back in the order of the calls.  MOVED
 * updates the slot and sends the command there (the whole map is loaded
 * again before the next pipeline), ASK sends ASKING then the command to
 * the node named, TRYAGAIN (a slot being moved) is retried after a short
 * pause; each at most a few times, then SB_ERR_STORE.  A node that fails
 * is dropped and the map reloaded; its commands fail with SB_ERR_STORE
 * (the caller answers 503), never with a wrong answer.
 */
#ifndef SESSIONBRIDGE_REDIS_H
#define SESSIONBRIDGE_REDIS_H

#include <hiredis/hiredis.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "sessionbridge/err.h"
#include "sessionbridge/redis_url.h"

struct sb_redis;

/* Process-wide counters, read by /metrics. */
extern atomic_ulong sb_redis_errors_total;     /* failed commands */
extern atomic_ulong sb_redis_reconnects_total; /* successful re-connects */
extern atomic_ulong sb_redis_unavailable_replies_total; /* NOAUTH, READONLY..*/
extern atomic_ulong sb_redis_failovers_total;  /* sentinel master changes,
                                                * cluster promotions */
extern atomic_ulong sb_redis_redirects_moved_total; /* cluster: MOVED */
extern atomic_ulong sb_redis_redirects_ask_total;   /* cluster: ASK */
extern atomic_ulong sb_redis_cluster_nodes;     /* nodes in the last map */
extern atomic_ulong sb_redis_cluster_primaries; /* primaries in it */
extern atomic_ulong sb_redis_wait_short_total; /* WAITs fewer replicas
                                                * acknowledged */

/* Sentinel mode: the master's host:port the workers last connected to,
 * into buf; -1 when none is known yet (or not in sentinel mode). */
int sb_redis_current_master(char *buf, size_t size);

/* Loads the TLS files of tls (when on) into a throw-away context, so a
 * wrong path or a key that does not match fails at config load; the error
 * names the key and the file. */
int sb_redis_tls_check(const struct sb_redis_tls *tls, struct sb_err *err);

/* Opens a handle for conf (copied) with the given timeouts; it connects on
 * first use.  Caller frees with sb_redis_free. */
struct sb_redis *sb_redis_new(const struct sb_redis_conf *conf,
                              unsigned connect_timeout_ms,
                              unsigned command_timeout_ms, struct sb_err *err);
void sb_redis_free(struct sb_redis *r);

/* This thread's handle for conf, created on first use and replaced when
 * conf or the timeouts differ from the last call's (after a config
 * reload).  Owned by the thread; freed by sb_redis_thread_release(). */
struct sb_redis *sb_redis_thread(const struct sb_redis_conf *conf,
                                 unsigned connect_timeout_ms,
                                 unsigned command_timeout_ms,
                                 struct sb_err *err);
void sb_redis_thread_release(void);

/* Connects now if not connected (subject to backoff).  0 when connected. */
int sb_redis_ensure(struct sb_redis *r, struct sb_err *err);

/* Runs one command (hiredis argv form).  Returns the reply, which the
 * caller frees with freeReplyObject, or NULL with SB_ERR_STORE in err.  A
 * REDIS_REPLY_ERROR reply is returned as is (the command ran), except the
 * "unavailable" ones listed above. */
redisReply *sb_redis_commandv(struct sb_redis *r, int argc, const char **argv,
                              const size_t *argvlen, struct sb_err *err);

/* Printf-style variant for fixed commands ("PING", "SCAN %s ..."). */
redisReply *sb_redis_command(struct sb_redis *r, struct sb_err *err,
                             const char *fmt, ...);

/* Pipelining: append n commands, then read n replies in order. */
int sb_redis_append(struct sb_redis *r, int argc, const char **argv,
                    const size_t *argvlen, struct sb_err *err);
redisReply *sb_redis_read(struct sb_redis *r, struct sb_err *err);

/* For a connection that only reads (the cache's invalidation subscriber):
 * its socket, -1 when there is none to watch (not connected; in cluster
 * mode, no subscription made yet: the socket is the node's the SUBSCRIBE
 * went to), and whether a reply is already buffered, so that
 * sb_redis_read will not wait for the socket. */
int sb_redis_fd(const struct sb_redis *r);
bool sb_redis_buffered(const struct sb_redis *r);

/* Reads and frees the next n replies of the pipeline (replies nobody
 * needs, or what a pipeline cut short still owes, so the connection stays
 * in step).  Stops at the first failure: -1 with SB_ERR_STORE in err (err
 * may be NULL to keep an earlier error). */
int sb_redis_discard(struct sb_redis *r, size_t n, struct sb_err *err);

/* Readiness: PING answered PONG; in cluster mode, every hash slot has a
 * primary in the slot map and every primary answers PONG.  0 when ready,
 * else -1 with SB_ERR_STORE naming what is not. */
int sb_redis_ping(struct sb_redis *r, struct sb_err *err);

/* Before the writes of an operation that must survive a failover (a
 * revocation): from here on sb_redis_wait_acked covers these writes only
 * (cluster mode: the nodes written to from now). */
void sb_redis_wait_begin(struct sb_redis *r);

/* After those writes: when conf->wait_replicas > 0, WAIT wait_replicas
 * wait_timeout_ms on every connection written to since
 * sb_redis_wait_begin (standalone / sentinel: the one connection;
 * cluster: each node written to, side by side; a node written to and
 * lost since fails it).  0 when enough replicas
 * acknowledged (or WAIT is off); else -1 with SB_ERR_STORE saying the
 * write is kept but not acknowledged (counted in
 * sb_redis_wait_short_total). */
int sb_redis_wait_acked(struct sb_redis *r, struct sb_err *err);

/* Whole-store walks (SCAN per primary).  The number of primaries to walk
 * (1 outside cluster mode), loading the slot map if needed; -1 on error. */
int sb_redis_primary_count(struct sb_redis *r, struct sb_err *err);

/* One command on the i-th primary (cluster mode; the order of the slot
 * map, by first slot); outside cluster mode i must be 0 and this is
 * sb_redis_commandv.  NULL with SB_ERR_STORE when there is no such
 * primary (the map changed: a failover during the walk) or it fails. */
redisReply *sb_redis_commandv_primary(struct sb_redis *r, size_t i, int argc,
                                      const char **argv,
                                      const size_t *argvlen,
                                      struct sb_err *err);

/* Writes the hex SHA-1 of a Lua script (what EVALSHA wants) into sha,
 * 41 bytes.  Compute it once per script, at start-up. */
void sb_redis_script_sha(const char *script, char sha[41]);

/* The most keys + arguments one script call may have. */
#define SB_REDIS_EVAL_ARGS_MAX 61

/* Runs a Lua script by SHA (EVALSHA sha numkeys argv...), loading it with
 * SCRIPT LOAD and running it once more when the server answers NOSCRIPT.
 * argv holds the numkeys keys followed by the arguments, argc of them (at
 * most SB_REDIS_EVAL_ARGS_MAX; argvlen NULL: strlen of each).  The command
 * is built on the stack: no allocation besides hiredis's.  Returns the
 * reply as sb_redis_commandv does (an error reply, NOSCRIPT included when
 * the load did not help, is returned as is). */
redisReply *sb_redis_eval(struct sb_redis *r, const char *script,
                          const char *sha, int numkeys, int argc,
                          const char **argv, const size_t *argvlen,
                          struct sb_err *err);

/* True when rep (may be NULL) is the server's NOSCRIPT error: it does not
 * have the script (its cache was flushed, or never had it). */
bool sb_redis_is_noscript(const redisReply *rep);

/* Appends EVALSHA sha numkeys argv... to the pipeline (arguments as for
 * sb_redis_eval); the caller reads its reply, and loads the script first
 * or handles NOSCRIPT itself. */
int sb_redis_append_evalsha(struct sb_redis *r, const char *sha, int numkeys,
                            int argc, const char **argv,
                            const size_t *argvlen, struct sb_err *err);

#endif
