/* methods.c - the gRPC method table: every method the listener serves, in
 * one place, and what the service files share to answer. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "service.h"

const struct sb_grpc_method sb_grpc_methods[] = {
    {"/envoy.service.auth.v3.Authorization/Check", sb_grpc_ext_authz_check},
    {"/sessionbridge.v1.ApiKeys/Validate", sb_grpc_apikeys_validate},
    {"/sessionbridge.v1.Sessions/Validate", sb_grpc_sessions_validate},
    {"/grpc.health.v1.Health/Check", sb_grpc_health_check},
};

const size_t sb_grpc_method_count =
    sizeof(sb_grpc_methods) / sizeof(sb_grpc_methods[0]);

const struct sb_grpc_method *sb_grpc_method_find(const char *path, size_t len)
{
    size_t i;

    for (i = 0; i < sb_grpc_method_count; i++) {
        if (strlen(sb_grpc_methods[i].path) == len &&
            memcmp(sb_grpc_methods[i].path, path, len) == 0)
            return &sb_grpc_methods[i];
    }
    return NULL;
}

void sb_grpc_fail(struct sb_grpc_answer *ans, grpc_status_code status,
                  const char *fmt, ...)
{
    va_list ap;

    ans->status = status;
    va_start(ap, fmt);
    vsnprintf(ans->details, sizeof(ans->details), fmt, ap);
    va_end(ap);
}

bool sb_grpc_is_verdict(enum sb_err_code code)
{
    switch (code) {
    case SB_ERR_STORE:
    case SB_ERR_OVERLOADED:
    case SB_ERR_CONFIG:
    case SB_ERR_IO:
    case SB_ERR_NOMEM:
    case SB_ERR_INTERNAL: return false;
    default: return true;
    }
}

grpc_status_code sb_grpc_status_of(enum sb_err_code code)
{
    switch (code) {
    case SB_ERR_STORE:
    case SB_ERR_OVERLOADED: return GRPC_STATUS_UNAVAILABLE;
    case SB_ERR_NOMEM: return GRPC_STATUS_RESOURCE_EXHAUSTED;
    default: return GRPC_STATUS_INTERNAL;
    }
}
