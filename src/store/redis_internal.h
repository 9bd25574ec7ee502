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
#include <stddef.h>

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

/* Sends what is queued, then reads the next reply (the caller frees it
 * with freeReplyObject).  NULL with SB_ERR_STORE on a timeout, a closed
 * connection or a protocol error: the connection is then unusable. */
redisReply *sb_redis_conn_read(struct sb_redis_conn *c, struct sb_err *err);

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

#endif
