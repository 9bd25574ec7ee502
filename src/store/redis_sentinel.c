/* redis_sentinel.c - master discovery: ask each sentinel in turn which
 * address the named master has now (SENTINEL get-master-addr-by-name).
 * The caller connects there and checks ROLE, so a sentinel that lags
 * behind a failover cannot point the bridge at a replica. */
#include <stdio.h>
#include <string.h>

#include "redis_internal.h"

/* One sentinel's answer: 0 with host/port, -1 with err. */
static int ask_one(const struct sb_redis_conf *conf,
                   const struct sb_redis_node *n, SSL_CTX *tls,
                   unsigned connect_ms, unsigned command_ms, char *host,
                   size_t size, unsigned *port, struct sb_err *err)
{
    struct sb_redis_dial d = {n->host, n->port, NULL, tls,
                              conf->tls.server_name, connect_ms, command_ms};
    const char *ask[3] = {"SENTINEL", "get-master-addr-by-name",
                          conf->sentinel_master};
    struct sb_redis_conn *c = sb_redis_conn_open(&d, err);
    redisReply *rep = NULL;
    int rc = -1;

    if (c == NULL)
        return -1;
    if (conf->sentinel_password != NULL) {
        const char *auth[2] = {"AUTH", conf->sentinel_password};
        rep = sb_redis_conn_command(c, 2, auth, NULL, err);
        if (rep == NULL)
            goto out;
        if (rep->type == REDIS_REPLY_ERROR) {
            sb_err_set(err, SB_ERR_STORE, "sentinel %.64s:%u refused "
                       "sentinel_password_file's password", n->host, n->port);
            goto out;
        }
        freeReplyObject(rep);
    }
    rep = sb_redis_conn_command(c, 3, ask, NULL, err);
    if (rep == NULL)
        goto out;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[1]->type != REDIS_REPLY_STRING ||
        sscanf(rep->element[1]->str, "%u", port) != 1 ||
        rep->element[0]->len >= size) {
        sb_err_set(err, SB_ERR_STORE, "sentinel %.64s:%u knows no master "
                   "named %.64s%s%.60s", n->host, n->port,
                   conf->sentinel_master,
                   rep->type == REDIS_REPLY_ERROR ? ": " : "",
                   rep->type == REDIS_REPLY_ERROR ? rep->str : "");
        goto out;
    }
    memcpy(host, rep->element[0]->str, rep->element[0]->len + 1);
    rc = 0;
out:
    freeReplyObject(rep);
    sb_redis_conn_close(c);
    return rc;
}

int sb_redis_sentinel_master(const struct sb_redis_conf *conf, SSL_CTX *tls,
                             unsigned connect_ms, unsigned command_ms,
                             char *host, size_t size, unsigned *port,
                             struct sb_err *err)
{
    struct sb_err last = {0};
    size_t i;

    for (i = 0; i < conf->node_count; i++) {
        if (ask_one(conf, &conf->nodes[i], tls, connect_ms, command_ms, host,
                    size, port, &last) == 0)
            return 0;
    }
    return sb_err_set(err, SB_ERR_STORE, "no sentinel named a master for "
                      "%.64s (last: %.120s)", conf->sentinel_master,
                      last.msg);
}
