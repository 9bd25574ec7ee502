/*
 * redis_url.h - where Redis is and how to reach it.
 *
 * struct sb_redis_url is one server: redis://[user:password@]host:port/db,
 * rediss://... (the same over TLS) or unix:///path/to/redis.sock?db=N.
 * struct sb_redis_conf is the whole [redis] connection contract: the mode
 * (standalone, sentinel or cluster), the sentinels or the cluster's seed
 * nodes, the ACL user and password, TLS, and WAIT for acknowledged
 * writes; the daemon and sessionbridgectl build their connections from
 * it.
 */
#ifndef SESSIONBRIDGE_REDIS_URL_H
#define SESSIONBRIDGE_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "sessionbridge/err.h"

struct sb_redis_url {
    char *host;     /* NULL for a unix socket; owned */
    unsigned port;  /* 6379 unless given */
    char *socket;   /* unix socket path, NULL for TCP; owned */
    unsigned db;    /* SELECT index; 0 unless given */
    char *user;     /* ACL user, NULL for the default user; owned */
    char *password; /* NULL for none; owned, wiped on free */
    bool tls;       /* rediss:// */
};

enum sb_redis_mode {
    SB_REDIS_STANDALONE, /* one server: url */
    SB_REDIS_SENTINEL,   /* the master that the sentinels in nodes name */
    SB_REDIS_CLUSTER     /* Redis Cluster, found from the seeds in nodes */
};

/* host:port of a sentinel or a cluster seed node. */
struct sb_redis_node {
    char *host; /* owned */
    unsigned port;
};

struct sb_redis_tls {
    bool on;           /* every connection uses TLS (no plain fallback) */
    char *ca_file;     /* CA bundle to verify servers; NULL: system store */
    char *cert_file;   /* client certificate chain (mTLS), or NULL */
    char *key_file;    /* its private key, or NULL */
    char *server_name; /* SNI and the name checked; NULL: the host dialled */
};

struct sb_redis_conf {
    enum sb_redis_mode mode;
    struct sb_redis_url url;      /* standalone: the server; every mode: db,
                                   * user (username) and password */
    struct sb_redis_node *nodes;  /* sentinel: the sentinels; cluster: the
                                   * seed nodes; owned */
    size_t node_count;
    char *sentinel_master;        /* the master name sentinels know; owned */
    char *sentinel_password;      /* AUTH for the sentinels; owned, wiped */
    struct sb_redis_tls tls;      /* all strings owned */
    unsigned wait_replicas;       /* revocations WAIT for this many
                                   * replicas (0: off) */
    unsigned wait_timeout_ms;     /* ... at most this long */
    char *layout_prefix;          /* when set, every new connection writes
                                   * and checks the layout key under this
                                   * prefix (a Redis that restarted empty
                                   * gets it back); owned */
};

/* Parses url into out (zeroed first).  Errors name what is wrong but never
 * echo the password. */
int sb_redis_url_parse(const char *url, struct sb_redis_url *out,
                       struct sb_err *err);

/* Copies src into dst (deep). */
int sb_redis_url_copy(struct sb_redis_url *dst, const struct sb_redis_url *src,
                      struct sb_err *err);

/* Frees what u owns (wiping the password) and zeroes it. */
void sb_redis_url_free(struct sb_redis_url *u);

/* A standalone conf for url (the bench and tools that take a URL). */
int sb_redis_conf_from_url(const char *url, struct sb_redis_conf *out,
                           struct sb_err *err);

/* Applies one non-secret [redis] key: mode, nodes, sentinel_master,
 * username, tls, tls_ca_file, tls_cert_file, tls_key_file,
 * tls_server_name, wait_replicas or wait_timeout_ms.  The error message is about the value only (the caller
 * says where it came from). */
int sb_redis_conf_set(struct sb_redis_conf *c, const char *key,
                      const char *value, struct sb_err *err);

/* The rules across keys, once every key is applied: sentinel mode needs
 * nodes and sentinel_master, cluster mode needs nodes (the seeds) and
 * database 0, a client certificate needs its key, and the TLS files must
 * load (the error names the file and what is wrong). */
int sb_redis_conf_check(const struct sb_redis_conf *c, struct sb_err *err);

/* Deep copy, deep comparison (after a reload), and free (wiping secrets). */
int sb_redis_conf_copy(struct sb_redis_conf *dst,
                       const struct sb_redis_conf *src, struct sb_err *err);
bool sb_redis_conf_equal(const struct sb_redis_conf *a,
                         const struct sb_redis_conf *b);
void sb_redis_conf_free(struct sb_redis_conf *c);

#endif
