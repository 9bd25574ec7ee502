/* health.c - grpc.health.v1.Health/Check: SERVING while Redis answers
 * PING within the command timeout (what /ready says), NOT_SERVING
 * otherwise.  The service name "" is the whole server; the names of the
 * served services answer the same; any other name is NOT_FOUND, as the
 * health protocol asks.  Open to every caller, like /ready. */
#include <stdlib.h>
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "service.h"
#include "sessionbridge/redis.h"

/* True when name is "" or a service of the method table. */
static bool known_service(const char *name)
{
    size_t i, n = strlen(name);

    if (n == 0)
        return true;
    for (i = 0; i < sb_grpc_method_count; i++) {
        const char *path = sb_grpc_methods[i].path;
        if (strncmp(path + 1, name, n) == 0 && path[1 + n] == '/')
            return true;
    }
    return false;
}

/* True when this thread's Redis connection answers PING. */
static bool redis_ready(const struct sb_config *cfg)
{
    struct sb_err err = {0};
    struct sb_redis *r;
    redisReply *rep;
    bool ok;

    r = sb_redis_thread(&cfg->redis, cfg->connect_timeout_ms,
                        cfg->command_timeout_ms, &err);
    if (r == NULL)
        return false;
    rep = sb_redis_command(r, &err, "PING");
    ok = rep != NULL && rep->type == REDIS_REPLY_STATUS &&
         strcmp(rep->str, "PONG") == 0;
    freeReplyObject(rep);
    return ok;
}

void sb_grpc_health_check(const struct sb_grpc_call_info *call,
                          const uint8_t *req, size_t len,
                          struct sb_grpc_answer *ans)
{
    Grpc__Health__V1__HealthCheckRequest *in;
    Grpc__Health__V1__HealthCheckResponse out =
        GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;

    in = grpc__health__v1__health_check_request__unpack(NULL, len, req);
    if (in == NULL) {
        sb_grpc_fail(ans, GRPC_STATUS_INVALID_ARGUMENT,
                     "invalid_protobuf: not a grpc.health.v1."
                     "HealthCheckRequest");
        return;
    }
    if (!known_service(in->service)) {
        sb_grpc_fail(ans, GRPC_STATUS_NOT_FOUND,
                     "unknown service '%.64s'", in->service);
        goto out;
    }
    out.status = redis_ready(call->cfg)
                     ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
                     : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
    ans->len = grpc__health__v1__health_check_response__get_packed_size(&out);
    ans->msg = malloc(ans->len > 0 ? ans->len : 1);
    if (ans->msg == NULL) {
        sb_grpc_fail(ans, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    grpc__health__v1__health_check_response__pack(&out, ans->msg);
    ans->status = GRPC_STATUS_OK;
out:
    grpc__health__v1__health_check_request__free_unpacked(in, NULL);
}
