/* sessions.c - sessionbridge.v1.Sessions/Validate: POST /v1/validate over
 * gRPC.  {token, profile} goes to the same bridge call
 * (sb_bridge_validate) and comes back as the same ValidateResponse; a
 * credential that does not pass is {active: false, error} in an OK call,
 * a store outage is UNAVAILABLE. */
#include <string.h>

#include "http/metrics.h"
#include "service.h"
#include "sessionbridge/clock.h"
#include "sessionbridge/v1/api.pb-c.h"

#define VALIDATE_DESC (&sessionbridge__v1__validate_response__descriptor)

/* The request's fields, checked as the HTTP API checks them; fails the
 * answer and returns -1 when one is wrong. */
static int read_request(const struct sb_config *cfg,
                        const Sessionbridge__V1__ValidateRequest *in,
                        const struct sb_profile **p,
                        struct sb_grpc_answer *ans)
{
    size_t tlen = strlen(in->token);

    *p = NULL;
    if (tlen == 0 || tlen > SB_TOKEN_MAX) {
        sb_grpc_fail(ans, GRPC_STATUS_INVALID_ARGUMENT,
                     "%s: field 'token' must be 1-%d bytes",
                     tlen ? "too_large" : "missing_field", SB_TOKEN_MAX);
        return -1;
    }
    if (in->profile[0] != '\0' &&
        (*p = sb_config_profile(cfg, in->profile)) == NULL) {
        sb_grpc_fail(ans, GRPC_STATUS_INVALID_ARGUMENT,
                     "unknown_profile: no profile named '%.64s' is "
                     "configured", in->profile);
        return -1;
    }
    return 0;
}

void sb_grpc_sessions_validate(const struct sb_grpc_call_info *call,
                               const uint8_t *req, size_t len,
                               struct sb_grpc_answer *ans)
{
    Sessionbridge__V1__ValidateRequest *in;
    const struct sb_profile *p, *used = NULL;
    struct sb_bridge b = {call->cfg, NULL, false};
    struct sb_codec_ctx ctx = {0};
    struct sb_err err = {0};
    struct sb_session s;
    bool created = false;

    if (!sb_grpc_authorize(call, SB_OPEN_VALIDATE, ans))
        return;
    in = sessionbridge__v1__validate_request__unpack(NULL, len, req);
    if (in == NULL) {
        sb_grpc_fail(ans, GRPC_STATUS_INVALID_ARGUMENT,
                     "invalid_protobuf: not a sessionbridge.v1."
                     "ValidateRequest");
        return;
    }
    if (read_request(call->cfg, in, &p, ans) != 0)
        goto out;
    ctx.now = sb_clock_now();
    sb_session_init(&s);
    if (sb_bridge_validate(&b, p, in->token, strlen(in->token), &ctx, &s,
                           &used, &created, &err) != 0) {
        sb_metrics_credential("validate",
                              used ? used->name : p ? p->name : "none",
                              err.code);
        if (sb_grpc_is_verdict(err.code))
            sb_grpc_answer_json(sb_credential_result_json(NULL, &err),
                                VALIDATE_DESC, ans);
        else
            sb_grpc_fail(ans, sb_grpc_status_of(err.code), "%s: %s",
                         sb_err_code_name(err.code), err.msg);
        goto out_reset;
    }
    sb_metrics_credential("validate", used->name, SB_OK);
    if (created)
        sb_metrics_session_created(used->name);
    sb_grpc_answer_json(sb_credential_result_json(&s, NULL), VALIDATE_DESC,
                        ans);
out_reset:
    sb_session_reset(&s);
out:
    sessionbridge__v1__validate_request__free_unpacked(in, NULL);
}
