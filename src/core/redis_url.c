/* redis_url.c - parses redis:// and unix:// URLs. */
#include "sessionbridge/redis_url.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* Parses a decimal number in s[0..n) no larger than max. */
static int parse_num(const char *s, size_t n, unsigned max, unsigned *out)
{
    unsigned long v = 0;
    size_t i;

    if (n == 0 || n > 10)
        return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static char *dup_range(const char *s, size_t n)
{
    return strndup(s, n);
}

int sb_redis_url_parse(const char *url, struct sb_redis_url *out,
                       struct sb_err *err)
{
    const char *p, *end, *at, *colon, *slash;

    memset(out, 0, sizeof(*out));
    out->port = 6379;
    if (strncmp(url, "unix://", 7) == 0) {
        const char *q;
        p = url + 7;
        if (*p != '/')
            return sb_err_set(err, SB_ERR_CONFIG,
                              "unix URL needs an absolute path "
                              "(unix:///path/redis.sock?db=N)");
        q = strchr(p, '?');
        out->socket = dup_range(p, q ? (size_t)(q - p) : strlen(p));
        if (q != NULL) {
            if (strncmp(q, "?db=", 4) != 0 ||
                parse_num(q + 4, strlen(q + 4), 65535, &out->db) != 0) {
                sb_redis_url_free(out);
                return sb_err_set(err, SB_ERR_CONFIG,
                                  "unix URL query must be ?db=N");
            }
        }
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "Redis URL must start with redis:// or unix://");
    p = url + 8;
    end = p + strlen(p);
    slash = strchr(p, '/');
    if (slash == NULL)
        slash = end;
    at = memrchr(p, '@', (size_t)(slash - p));
    if (at != NULL) {
        colon = memchr(p, ':', (size_t)(at - p));
        if (colon != NULL) {
            if (colon > p)
                out->user = dup_range(p, (size_t)(colon - p));
            out->password = dup_range(colon + 1, (size_t)(at - colon - 1));
        } else {
            out->password = dup_range(p, (size_t)(at - p));
        }
        p = at + 1;
    }
    colon = memrchr(p, ':', (size_t)(slash - p));
    if (colon != NULL) {
        if (parse_num(colon + 1, (size_t)(slash - colon - 1), 65535,
                      &out->port) != 0 || out->port == 0) {
            sb_redis_url_free(out);
            return sb_err_set(err, SB_ERR_CONFIG,
                              "Redis URL port must be 1-65535");
        }
    } else {
        colon = slash;
    }
    if (colon == p) {
        sb_redis_url_free(out);
        return sb_err_set(err, SB_ERR_CONFIG, "Redis URL has no host");
    }
    out->host = dup_range(p, (size_t)(colon - p));
    if (*slash == '/' && slash[1] != '\0' &&
        parse_num(slash + 1, strlen(slash + 1), 65535, &out->db) != 0) {
        sb_redis_url_free(out);
        return sb_err_set(err, SB_ERR_CONFIG,
                          "Redis URL database must be a number (/0)");
    }
    return 0;
}

int sb_redis_url_copy(struct sb_redis_url *dst, const struct sb_redis_url *src,
                      struct sb_err *err)
{
    memset(dst, 0, sizeof(*dst));
    dst->port = src->port;
    dst->db = src->db;
    if ((src->host && !(dst->host = strdup(src->host))) ||
        (src->socket && !(dst->socket = strdup(src->socket))) ||
        (src->user && !(dst->user = strdup(src->user))) ||
        (src->password && !(dst->password = strdup(src->password)))) {
        sb_redis_url_free(dst);
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    }
    return 0;
}

void sb_redis_url_free(struct sb_redis_url *u)
{
    if (u->password != NULL)
        OPENSSL_cleanse(u->password, strlen(u->password));
    free(u->host);
    free(u->socket);
    free(u->user);
    free(u->password);
    memset(u, 0, sizeof(*u));
}
