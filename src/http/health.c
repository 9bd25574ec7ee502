/* health.c - /health (the process serves), /ready (Redis answers PING
 * within the command timeout, in every mode: in cluster mode every slot
 * has a primary and every primary answers; the body names the mode) and
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

/* What /ready says about the Redis deployment: the mode, TLS, in
 * sentinel mode the master the workers last reached, in cluster mode the
 * nodes and primaries of the last slot map.  New reference. */
static json_t *redis_info(const struct sb_config *cfg)
{
    static const char *const modes[] = {
        [SB_REDIS_STANDALONE] = "standalone",
        [SB_REDIS_SENTINEL] = "sentinel",
        [SB_REDIS_CLUSTER] = "cluster"};
    char master[300];
    json_t *o = json_pack("{s:s, s:b}", "mode", modes[cfg->redis.mode],
                          "tls", cfg->redis.tls.on);

    if (o != NULL && cfg->redis.mode == SB_REDIS_SENTINEL &&
        sb_redis_current_master(master, sizeof(master)) == 0)
        json_object_set_new(o, "master", json_string(master));
    if (o != NULL && cfg->redis.mode == SB_REDIS_CLUSTER) {
        json_object_set_new(o, "nodes", json_integer((json_int_t)atomic_load(
                                            &sb_redis_cluster_nodes)));
        json_object_set_new(o, "primaries",
                            json_integer((json_int_t)atomic_load(
                                &sb_redis_cluster_primaries)));
    }
    return o;
}

void sb_ep_ready(struct sb_http_req *req)
{
    const struct sb_config *cfg = req->cfg;
    struct sb_err err = {0};
    struct sb_redis *r;

    r = sb_redis_thread(&cfg->redis, cfg->connect_timeout_ms,
                        cfg->command_timeout_ms, &err);
    if (r != NULL && sb_redis_ping(r, &err) == 0) {
        sb_http_reply_json(req, 200,
                           json_pack("{s:s, s:{s:s}, s:o}", "status", "ready",
                                     "checks", "redis", "ok", "redis",
                                     redis_info(cfg)));
        return;
    }
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
