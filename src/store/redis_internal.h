/*
 * redis_internal.h - the transport under sb_redis: one socket (TCP or
 * unix), optionally wrapped in TLS, with hiredis's reply reader and command
 * formatter on top.  hiredis 0.14 has no TLS, so the project owns this
 * small layer and every connection (plain or TLS) goes through it.
 *
 * Not thread-safe: a connection belongs to one sb_redis handle.
 */
#ifndef SB_STORE_REDIS_INTERNAL_H
#define SB_STORE_REDIS_INTERNAL_H

#include <hiredis/hiredis.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sessionbridge/err.h"
#include "sessionbridge/redis_url.h"

struct sb_redis_conn;

/* Where to dial: host:port (TLS when tls is non-NULL, checking the
 * certificate against server_name, or host when server_name is NULL), or
 * a unix socket path.  connect_ms bounds the TCP connect and the TLS
 * handshake; command_ms bounds every later read and write. */
struct sb_redis_dial {
    const char *host;
    unsigned port;
    const char *socket;
    SSL_CTX *tls;
    const char *server_name;
    unsigned connect_ms;
    unsigned command_ms;
};

/* Connects; NULL with SB_ERR_STORE in err (naming the address and, for
 * TLS, the verification failure).  Caller closes with sb_redis_conn_close. */
struct sb_redis_conn *sb_redis_conn_open(const struct sb_redis_dial *d,
                                         struct sb_err *err);
void sb_redis_conn_close(struct sb_redis_conn *c);

/* Queues one formatted command (from redisFormatCommandArgv); sent by the
 * next read. */
int sb_redis_conn_append(struct sb_redis_conn *c, const char *cmd, size_t len,
                         struct sb_err *err);

/* The most elements one reply array may announce (see
 * sb_redis_reader_new). */
#define SB_REDIS_REPLY_ARRAY_MAX (1 << 20)

/* A hiredis reply reader that refuses an array announcing more than
 * SB_REDIS_REPLY_ARRAY_MAX elements: hiredis 0.14 allocates an array's
 * element table as soon as it reads the count, before any element
 * arrives, so "*400000000" alone would cost 3 GB (fuzz_cluster_reply
 * found it).  The largest reply the store asks for (a SCAN page, CLUSTER
 * SLOTS, one user's sessions) is far smaller.  NULL when out of memory;
 * free with redisReaderFree. */
redisReader *sb_redis_reader_new(void);

/* Sends what is queued, then reads the next reply (the caller frees it
 * with freeReplyObject).  NULL with SB_ERR_STORE on a timeout, a closed
 * connection or a protocol error: the connection is then unusable. */
redisReply *sb_redis_conn_read(struct sb_redis_conn *c, struct sb_err *err);

/* c's socket, and whether a reply is already buffered (bytes in the reply
 * reader, or decrypted TLS bytes) so that reading it does not wait. */
int sb_redis_conn_fd(const struct sb_redis_conn *c);
bool sb_redis_conn_buffered(const struct sb_redis_conn *c);

/* One command, argv form (argvlen NULL: strlen of each): append + read. */
redisReply *sb_redis_conn_command(struct sb_redis_conn *c, int argc,
                                  const char **argv, const size_t *argvlen,
                                  struct sb_err *err);

/* A TLS client context for tls: verification on (the CA file, else the
 * system store), TLS 1.2 at least, the client certificate and key when
 * given.  NULL with SB_ERR_CONFIG naming the file and what is wrong.
 * Caller frees with SSL_CTX_free. */
SSL_CTX *sb_redis_tls_ctx_new(const struct sb_redis_tls *tls,
                              struct sb_err *err);

/* Asks the sentinels in conf, in order, for the address of
 * conf->sentinel_master; the first that answers wins.  host gets the
 * address (size bytes).  -1 with SB_ERR_STORE when none knows a master. */
int sb_redis_sentinel_master(const struct sb_redis_conf *conf, SSL_CTX *tls,
                             unsigned connect_ms, unsigned command_ms,
                             char *host, size_t size, unsigned *port,
                             struct sb_err *err);

/* ---- the handle (redis.c), shared with the cluster router ------------------ */

struct sb_redis_cluster;

struct sb_redis {
    struct sb_redis_conf conf;
    unsigned connect_timeout_ms;
    unsigned command_timeout_ms;
    SSL_CTX *tls;              /* built on first connect when TLS is on */
    struct sb_redis_conn *c;   /* NULL while disconnected (not cluster) */
    struct sb_redis_cluster *cl; /* cluster mode: the nodes and slot map */
    bool failed_since_connect; /* a reconnect is due: count it */
    int64_t next_attempt_ms;   /* monotonic time before which we fail fast */
    unsigned backoff_ms;
    int64_t logged_ms;         /* last "unavailable" log line of this handle */
    char logged_word[24];      /* and the reply it named */
};

/* Monotonic milliseconds. */
int64_t sb_redis_now_ms(void);

/* Builds r->tls on first use when TLS is on; 0 when nothing to do. */
int sb_redis_tls_ready(struct sb_redis *r, struct sb_err *err);

/* AUTH (ACL user and password of r->conf) and SELECT on a fresh
 * connection c. */
int sb_redis_handshake(struct sb_redis *r, struct sb_redis_conn *c,
                       struct sb_err *err);

/* Screens an error reply that means "the server cannot serve now" (the
 * list in redis.h): frees rep, counts and logs it by its first word, and
 * returns NULL with SB_ERR_STORE; the caller drops the connection.  Any
 * other reply is returned as is. */
redisReply *sb_redis_screen_reply(struct sb_redis *r, redisReply *rep,
                                  struct sb_err *err);

/* The first word of an error reply, into word (size bytes). */
void sb_redis_first_word(const redisReply *rep, char *word, size_t size);

/* One rate-limited warning naming an error reply's first word. */
void sb_redis_log_reply(struct sb_redis *r, const char *msg,
                        const char *word);

/* ---- cluster mode (redis_cluster.c) ---------------------------------------- */

/* Frees the router of r (connections, queued commands); NULL is fine. */
void sb_redis_cluster_free(struct sb_redis_cluster *cl);

/* Loads the slot map when none is loaded or it went stale (only between
 * pipelines); 0 when commands can be routed. */
int sb_redis_cluster_ensure(struct sb_redis *r, struct sb_err *err);

/* Routes one formatted command (ownership of cmd passes here, freed
 * with redisFreeCommand) to the node that serves its key's slot. */
int sb_redis_cluster_queue(struct sb_redis *r, char *cmd, size_t len,
                           struct sb_err *err);

/* The reply of the oldest queued command, following MOVED / ASK and
 * retrying TRYAGAIN (bounded); with nothing queued, the next message on
 * the connection that answered last (a subscription). */
redisReply *sb_redis_cluster_read(struct sb_redis *r, struct sb_err *err);

/* Cluster mode's sb_redis_primary_count, sb_redis_commandv_primary,
 * sb_redis_ping; and WAIT on each node used since the last one, *acked
 * the fewest replicas any acknowledged. */
int sb_redis_cluster_primary_count(struct sb_redis *r, struct sb_err *err);
redisReply *sb_redis_cluster_commandv_primary(struct sb_redis *r, size_t i,
                                              int argc, const char **argv,
                                              const size_t *argvlen,
                                              struct sb_err *err);
int sb_redis_cluster_ping(struct sb_redis *r, struct sb_err *err);
int sb_redis_cluster_wait(struct sb_redis *r, long long *acked,
                          struct sb_err *err);
void sb_redis_cluster_wait_begin(struct sb_redis *r);

/* After a SUBSCRIBE: the connection its messages come on, else NULL. */
const struct sb_redis_conn *
sb_redis_cluster_subscription(const struct sb_redis *r);

/* The redirect of a MOVED or ASK error reply: "MOVED 3999 10.0.0.5:6379".
 * host gets the address (empty when the server left it out: the node
 * that answered).  -1 when str is not a well-formed redirect. */
int sb_redis_parse_redirect(const char *str, size_t len, bool *ask,
                            unsigned *slot, char *host, size_t size,
                            unsigned *port);

/* One slot range of a CLUSTER SLOTS answer. */
#define SB_CLUSTER_HOST_MAX 128
#define SB_CLUSTER_REPLICAS_MAX 4
struct sb_redis_slot_range {
    unsigned start, end;
    char host[SB_CLUSTER_HOST_MAX]; /* the primary */
    unsigned port;
    size_t replicas;
    char replica_host[SB_CLUSTER_REPLICAS_MAX][SB_CLUSTER_HOST_MAX];
    unsigned replica_port[SB_CLUSTER_REPLICAS_MAX];
};

/* Parses a CLUSTER SLOTS answer into a new array (free()) of *n ranges;
 * a node named "" or "?" is asked_host.  -1 with SB_ERR_STORE when the
 * answer has not that shape. */
int sb_redis_parse_slots(const redisReply *rep, const char *asked_host,
                         struct sb_redis_slot_range **out, size_t *n,
                         struct sb_err *err);

/* The hash slot of a key: CRC16 of its {tag} (or the whole key), 0-16383. */
unsigned sb_redis_key_slot(const char *key, size_t len);

#endif
