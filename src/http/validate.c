/* validate.c - POST /v1/validate: is this credential valid, and whose is
 * it?  The token comes in the body or, without one, from the request's
 * Cookie / Authorization headers; either way the session is recorded and
 * checked against revocation in the same Redis round trip. */
#include <string.h>

#include "api.h"
#include "endpoints.h"
#include "metrics.h"

#define VALIDATE_DESC (&sessionbridge__v1__validate_response__descriptor)

/* Answers 401 {"active": false, ...}, or 503 / 413 for store and size
 * errors, and counts the result. */
static void reply_inactive(struct sb_http_req *req, const char *profile,
                           const struct sb_err *err)
{
    unsigned status = err->code == SB_ERR_STORE       ? 503
                      : err->code == SB_ERR_TOO_LARGE ? 413
                                                      : 401;

    sb_metrics_credential("validate", profile, err->code);
    sb_api_reply(req, status, sb_credential_result_json(NULL, err),
                 VALIDATE_DESC);
}

void sb_ep_validate(struct sb_http_req *req)
{
    struct sb_api_candidate cands[SB_API_COOKIES_MAX + 1];
    const struct sb_api_candidate *which;
    const struct sb_profile *p = NULL, *used = NULL;
    const char *token = NULL, *pname = NULL;
    struct sb_codec_ctx ctx;
    struct sb_session s;
    struct sb_err err = {0};
    struct sb_redis *r = NULL;
    json_t *body = NULL;
    char addr[64];
    size_t n;

    if (!sb_api_authorize(req, SB_API_OPEN_VALIDATE))
        return;
    if (sb_api_body(req, &sessionbridge__v1__validate_request__descriptor,
                    true, &body) != 0)
        return;
    if (sb_api_string(req, body, "token", false, SB_TOKEN_MAX, &token) != 0 ||
        sb_api_string(req, body, "profile", false, SB_PROFILE_NAME_MAX - 1,
                      &pname) != 0)
        goto out_free;
    if (pname != NULL && (p = sb_api_profile(req, pname)) == NULL)
        goto out_free;
    sb_api_codec_ctx(req, &ctx, addr, sizeof(addr));
    sb_session_init(&s);
    if (token == NULL) {
        if (sb_api_find(req, &ctx, p, &r, &s, &used, &which, cands, &n,
                        &err) != 0) {
            reply_inactive(req, used ? used->name : pname ? pname : "none",
                           &err);
            goto out_free;
        }
    } else {
        if (sb_api_decode_any(req->cfg, p, token, strlen(token), &ctx, &s,
                              &used, &err) != 0) {
            reply_inactive(req, pname ? pname : "none", &err);
            goto out_free;
        }
        if ((r = sb_api_redis(req)) == NULL) {
            sb_metrics_credential("validate", used->name, SB_ERR_STORE);
            goto out_reset;
        }
        if (sb_api_check(r, req->cfg, used, &s, ctx.now, &err) != 0) {
            reply_inactive(req, used->name, &err);
            goto out_reset;
        }
    }
    sb_metrics_credential("validate", used->name, SB_OK);
    sb_api_reply(req, 200, sb_credential_result_json(&s, NULL),
                 VALIDATE_DESC);
out_reset:
    sb_session_reset(&s);
out_free:
    json_decref(body);
}
