/*
 * redis_url.h - where Redis is: redis://[user:password@]host:port/db or
 * unix:///path/to/redis.sock?db=N
 */
#ifndef SESSIONBRIDGE_REDIS_URL_H
#define SESSIONBRIDGE_REDIS_URL_H

#include "sessionbridge/err.h"

struct sb_redis_url {
    char *host;     /* NULL for a unix socket; owned */
    unsigned port;  /* 6379 unless given */
    char *socket;   /* unix socket path, NULL for TCP; owned */
    unsigned db;    /* SELECT index; 0 unless given */
    char *user;     /* ACL user, NULL for the default user; owned */
    char *password; /* NULL for none; owned, wiped on free */
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

#endif
