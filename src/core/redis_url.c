/* redis_url.c - parses redis://, rediss:// and unix:// URLs, and holds
 * the [redis] connection contract (mode, sentinels or cluster seeds, ACL
 * user, TLS, WAIT). */
#include "sessionbridge/redis_url.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    if (strncmp(url, "rediss://", 9) == 0) {
        out->tls = true;
        p = url + 9;
    } else if (strncmp(url, "redis://", 8) == 0) {
        p = url + 8;
    } else {
        return sb_err_set(err, SB_ERR_CONFIG, "Redis URL must start with "
                          "redis://, rediss:// or unix://");
    }
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
            if (at > colon + 1)
                out->password = dup_range(colon + 1,
                                          (size_t)(at - colon - 1));
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
    dst->tls = src->tls;
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

/* ---- the [redis] connection contract ------------------------------------- */

int sb_redis_conf_from_url(const char *url, struct sb_redis_conf *out,
                           struct sb_err *err)
{
    memset(out, 0, sizeof(*out));
    if (sb_redis_url_parse(url, &out->url, err) != 0)
        return -1;
    out->tls.on = out->url.tls;
    return 0;
}

static void free_nodes(struct sb_redis_conf *c)
{
    size_t i;

    for (i = 0; i < c->node_count; i++)
        free(c->nodes[i].host);
    free(c->nodes);
    c->nodes = NULL;
    c->node_count = 0;
}

/* Parses one "host:port" or "[v6]:port" of nodes (n bytes at s). */
static int parse_node(const char *s, size_t n, struct sb_redis_node *out,
                      struct sb_err *err)
{
    const char *colon = n ? memrchr(s, ':', n) : NULL;
    const char *host = s;
    size_t hlen;

    if (colon == NULL || colon == s ||
        parse_num(colon + 1, (size_t)(s + n - colon - 1), 65535,
                  &out->port) != 0 || out->port == 0)
        return sb_err_set(err, SB_ERR_CONFIG, "'%.*s' is not host:port "
                          "(e.g. 10.0.0.5:26379)", (int)(n > 64 ? 64 : n), s);
    hlen = (size_t)(colon - s);
    if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    out->host = strndup(host, hlen);
    return out->host ? 0 : sb_err_set(err, SB_ERR_NOMEM, "out of memory");
}

/* nodes = host:port, host:port ... (spaces around commas are fine). */
static int parse_nodes(struct sb_redis_conf *c, const char *v,
                       struct sb_err *err)
{
    const char *p = v;

    free_nodes(c);
    while (*p != '\0') {
        const char *end;
        size_t n;
        struct sb_redis_node *arr;

        p += strspn(p, " \t,");
        if (*p == '\0')
            break;
        end = p + strcspn(p, ",");
        n = (size_t)(end - p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        arr = realloc(c->nodes, (c->node_count + 1) * sizeof(*arr));
        if (arr == NULL)
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        c->nodes = arr;
        memset(&arr[c->node_count], 0, sizeof(*arr));
        if (parse_node(p, n, &arr[c->node_count], err) != 0)
            return -1;
        c->node_count++;
        p = end;
    }
    if (c->node_count == 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "expected host:port, host:port ...");
    return 0;
}

static int set_owned(char **field, const char *v, struct sb_err *err)
{
    if (*v == '\0')
        return sb_err_set(err, SB_ERR_CONFIG, "must not be empty");
    free(*field);
    *field = strdup(v);
    return *field ? 0 : sb_err_set(err, SB_ERR_NOMEM, "out of memory");
}

int sb_redis_conf_set(struct sb_redis_conf *c, const char *key,
                      const char *v, struct sb_err *err)
{
    if (strcmp(key, "mode") == 0) {
        if (strcmp(v, "standalone") == 0)
            c->mode = SB_REDIS_STANDALONE;
        else if (strcmp(v, "sentinel") == 0)
            c->mode = SB_REDIS_SENTINEL;
        else if (strcmp(v, "cluster") == 0)
            c->mode = SB_REDIS_CLUSTER;
        else
            return sb_err_set(err, SB_ERR_CONFIG, "'%.32s' is not "
                              "standalone, sentinel or cluster", v);
        return 0;
    }
    if (strcmp(key, "nodes") == 0)
        return parse_nodes(c, v, err);
    if (strcmp(key, "sentinel_master") == 0)
        return set_owned(&c->sentinel_master, v, err);
    if (strcmp(key, "username") == 0)
        return set_owned(&c->url.user, v, err);
    if (strcmp(key, "tls") == 0) {
        if (!strcasecmp(v, "on") || !strcasecmp(v, "true") ||
            !strcmp(v, "1") || !strcasecmp(v, "yes"))
            c->tls.on = true;
        else if (!strcasecmp(v, "off") || !strcasecmp(v, "false") ||
                 !strcmp(v, "0") || !strcasecmp(v, "no"))
            c->tls.on = c->url.tls; /* rediss:// still means TLS */
        else
            return sb_err_set(err, SB_ERR_CONFIG,
                              "'%.32s' is not on or off", v);
        return 0;
    }
    if (strcmp(key, "tls_ca_file") == 0)
        return set_owned(&c->tls.ca_file, v, err);
    if (strcmp(key, "tls_cert_file") == 0)
        return set_owned(&c->tls.cert_file, v, err);
    if (strcmp(key, "tls_key_file") == 0)
        return set_owned(&c->tls.key_file, v, err);
    if (strcmp(key, "tls_server_name") == 0)
        return set_owned(&c->tls.server_name, v, err);
    if (strcmp(key, "wait_replicas") == 0)
        return parse_num(v, strlen(v), 16, &c->wait_replicas) == 0
                   ? 0 : sb_err_set(err, SB_ERR_CONFIG, "'%.32s' is not a "
                                    "number of replicas from 0 to 16", v);
    if (strcmp(key, "wait_timeout_ms") == 0)
        return parse_num(v, strlen(v), 60000, &c->wait_timeout_ms) == 0 &&
                       c->wait_timeout_ms > 0
                   ? 0 : sb_err_set(err, SB_ERR_CONFIG, "'%.32s' is not a "
                                    "time in ms from 1 to 60000", v);
    return sb_err_set(err, SB_ERR_INTERNAL, "unknown [redis] key %s", key);
}

int sb_redis_conf_check(const struct sb_redis_conf *c, struct sb_err *err)
{
    if (c->mode == SB_REDIS_SENTINEL &&
        (c->node_count == 0 || c->sentinel_master == NULL))
        return sb_err_set(err, SB_ERR_CONFIG, "[redis] mode = sentinel needs "
                          "nodes (the sentinels) and sentinel_master");
    if (c->mode == SB_REDIS_STANDALONE && c->node_count > 0)
        return sb_err_set(err, SB_ERR_CONFIG, "[redis] nodes is for mode = "
                          "sentinel or cluster; standalone uses url");
    if (c->mode == SB_REDIS_CLUSTER && c->node_count == 0)
        return sb_err_set(err, SB_ERR_CONFIG, "[redis] mode = cluster needs "
                          "nodes (seed nodes, host:port, host:port); url "
                          "only gives the user, password and TLS");
    if (c->mode == SB_REDIS_CLUSTER && c->url.socket != NULL)
        return sb_err_set(err, SB_ERR_CONFIG, "[redis] mode = cluster "
                          "cannot use a unix:// url");
    if (c->mode == SB_REDIS_CLUSTER && c->url.db != 0)
        return sb_err_set(err, SB_ERR_CONFIG, "[redis] mode = cluster has "
                          "database 0 only (the url names database %u)",
                          c->url.db);
    if (c->mode == SB_REDIS_SENTINEL && c->url.socket != NULL)
        return sb_err_set(err, SB_ERR_CONFIG, "[redis] mode = sentinel "
                          "cannot use a unix:// url");
    if ((c->tls.cert_file == NULL) != (c->tls.key_file == NULL))
        return sb_err_set(err, SB_ERR_CONFIG, "[redis] tls_cert_file and "
                          "tls_key_file go together (mTLS needs both)");
    if (!c->tls.on && (c->tls.ca_file || c->tls.cert_file ||
                       c->tls.server_name))
        return sb_err_set(err, SB_ERR_CONFIG, "[redis] tls_* files are set "
                          "but TLS is off: set tls = on or use rediss://");
    if (c->tls.on && c->url.socket != NULL && c->mode == SB_REDIS_STANDALONE)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "[redis] TLS over a unix socket is not supported");
    return 0;
}

static int dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    return src != NULL && (*dst = strdup(src)) == NULL ? -1 : 0;
}

int sb_redis_conf_copy(struct sb_redis_conf *dst,
                       const struct sb_redis_conf *src, struct sb_err *err)
{
    size_t i;

    memset(dst, 0, sizeof(*dst));
    dst->mode = src->mode;
    dst->tls.on = src->tls.on;
    dst->wait_replicas = src->wait_replicas;
    dst->wait_timeout_ms = src->wait_timeout_ms;
    if (sb_redis_url_copy(&dst->url, &src->url, err) != 0)
        return -1;
    if (src->node_count > 0) {
        dst->nodes = calloc(src->node_count, sizeof(*dst->nodes));
        if (dst->nodes == NULL)
            goto oom;
        dst->node_count = src->node_count;
        for (i = 0; i < src->node_count; i++) {
            dst->nodes[i].port = src->nodes[i].port;
            if (dup_opt(&dst->nodes[i].host, src->nodes[i].host) != 0)
                goto oom;
        }
    }
    if (dup_opt(&dst->sentinel_master, src->sentinel_master) != 0 ||
        dup_opt(&dst->sentinel_password, src->sentinel_password) != 0 ||
        dup_opt(&dst->tls.ca_file, src->tls.ca_file) != 0 ||
        dup_opt(&dst->tls.cert_file, src->tls.cert_file) != 0 ||
        dup_opt(&dst->tls.key_file, src->tls.key_file) != 0 ||
        dup_opt(&dst->tls.server_name, src->tls.server_name) != 0 ||
        dup_opt(&dst->layout_prefix, src->layout_prefix) != 0)
        goto oom;
    return 0;

oom:
    sb_redis_conf_free(dst);
    return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

bool sb_redis_conf_equal(const struct sb_redis_conf *a,
                         const struct sb_redis_conf *b)
{
    size_t i;

    if (a->mode != b->mode || a->node_count != b->node_count ||
        a->tls.on != b->tls.on || a->url.port != b->url.port ||
        a->wait_replicas != b->wait_replicas ||
        a->wait_timeout_ms != b->wait_timeout_ms ||
        a->url.db != b->url.db || a->url.tls != b->url.tls ||
        !same_str(a->url.host, b->url.host) ||
        !same_str(a->url.socket, b->url.socket) ||
        !same_str(a->url.user, b->url.user) ||
        !same_str(a->url.password, b->url.password) ||
        !same_str(a->sentinel_master, b->sentinel_master) ||
        !same_str(a->sentinel_password, b->sentinel_password) ||
        !same_str(a->tls.ca_file, b->tls.ca_file) ||
        !same_str(a->tls.cert_file, b->tls.cert_file) ||
        !same_str(a->tls.key_file, b->tls.key_file) ||
        !same_str(a->tls.server_name, b->tls.server_name) ||
        !same_str(a->layout_prefix, b->layout_prefix))
        return false;
    for (i = 0; i < a->node_count; i++) {
        if (a->nodes[i].port != b->nodes[i].port ||
            !same_str(a->nodes[i].host, b->nodes[i].host))
            return false;
    }
    return true;
}

void sb_redis_conf_free(struct sb_redis_conf *c)
{
    sb_redis_url_free(&c->url);
    free_nodes(c);
    free(c->sentinel_master);
    if (c->sentinel_password != NULL)
        OPENSSL_cleanse(c->sentinel_password, strlen(c->sentinel_password));
    free(c->sentinel_password);
    free(c->tls.ca_file);
    free(c->tls.cert_file);
    free(c->tls.key_file);
    free(c->tls.server_name);
    free(c->layout_prefix);
    memset(c, 0, sizeof(*c));
}
