/* health.c - /health (the process serves), /ready (Redis answers PING
 * within the command timeout, in every mode; the body names the mode) and
 * /metrics. */
#include <string.h>

#include "endpoints.h"
#include "metrics.h"
#include "sessionbridge/redis.h"

void sb_ep_health(struct sb_http_req *req)
{
    static const char body[] = "{\"status\":\"ok\"}";

    sb_http_reply_raw(req, 200, "application/json", body, sizeof(body) - 1);
}

/* What /ready says about the Redis deployment: the mode, TLS, and in
 * sentinel mode the master the workers last reached.  New reference. */
static json_t *redis_info(const struct sb_config *cfg)
{
    char master[300];
    json_t *o = json_pack("{s:s, s:b}", "mode",
                          cfg->redis.mode == SB_REDIS_SENTINEL ? "sentinel"
                                                               : "standalone",
                          "tls", cfg->redis.tls.on);

    if (o != NULL && cfg->redis.mode == SB_REDIS_SENTINEL &&
        sb_redis_current_master(master, sizeof(master)) == 0)
        json_object_set_new(o, "master", json_string(master));
    return o;
}

void sb_ep_ready(struct sb_http_req *req)
{
    const struct sb_config *cfg = req->cfg;
    struct sb_err err = {0};
    struct sb_redis *r;
    redisReply *rep = NULL;

    r = sb_redis_thread(&cfg->redis, cfg->connect_timeout_ms,
                        cfg->command_timeout_ms, &err);
    if (r != NULL)
        rep = sb_redis_command(r, &err, "PING");
    if (rep != NULL && rep->type == REDIS_REPLY_STATUS &&
        strcmp(rep->str, "PONG") == 0) {
        freeReplyObject(rep);
        sb_http_reply_json(req, 200,
                           json_pack("{s:s, s:{s:s}, s:o}", "status", "ready",
                                     "checks", "redis", "ok", "redis",
                                     redis_info(cfg)));
        return;
    }
    if (rep != NULL)
        sb_err_set(&err, SB_ERR_STORE, "Redis answered PING with an error");
    freeReplyObject(rep);
    sb_http_reply_json(req, 503,
                       json_pack("{s:s, s:s, s:{s:s}, s:o}", "error",
                                 "not_ready", "message", err.msg, "checks",
                                 "redis", "failed", "redis",
                                 redis_info(cfg)));
}

void sb_ep_metrics(struct sb_http_req *req)
{
    req->out.len = 0;
    if (sb_metrics_render(&req->out) != 0) {
        sb_http_reply_error(req, 500, "internal", "cannot render metrics");
        return;
    }
    req->status = 200;
    req->content_type = "text/plain; version=0.0.4";
}
