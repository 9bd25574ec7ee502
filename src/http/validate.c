/* validate.c - POST /v1/validate: is this credential valid, and whose is
 * it?  The token comes in the body or, without one, from the request's
 * Cookie / Authorization headers; either way the bridge checks it against
 * the store (and records it) in one round trip. */
#include <string.h>

#include "api.h"
#include "endpoints.h"
#include "metrics.h"

#define VALIDATE_DESC (&sessionbridge__v1__validate_response__descriptor)

/* Answers 401 {"active": false, ...}, or 503 / 413 for store and size
 * errors (500 for a layout mismatch), and counts the result. */
static void reply_inactive(struct sb_http_req *req, const char *profile,
                           const struct sb_err *err)
{
    unsigned status = err->code == SB_ERR_STORE       ? 503
                      : err->code == SB_ERR_CONFIG    ? 500
                      : err->code == SB_ERR_TOO_LARGE ? 413
                                                      : 401;

    sb_metrics_credential("validate", profile, err->code);
    sb_api_reply(req, status, sb_credential_result_json(NULL, err),
                 VALIDATE_DESC);
}

void sb_ep_validate(struct sb_http_req *req)
{
    static __thread struct sb_bridge_found found;
    const struct sb_profile *p = NULL, *used = NULL;
    const char *token = NULL, *pname = NULL;
    struct sb_bridge_request rq;
    struct sb_codec_ctx ctx;
    struct sb_bridge b;
    struct sb_session s;
    struct sb_err err = {0};
    json_t *body = NULL;
    bool created = false;
    char addr[64];
    int rc;

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
    sb_api_bridge(req, &b);
    sb_session_init(&s);
    if (token == NULL) {
        sb_api_bridge_request(req, &rq);
        rc = sb_bridge_find(&b, &rq, p, &ctx, &s, &found, &err);
        used = found.used;
        created = found.created;
    } else {
        rc = sb_bridge_validate(&b, p, token, strlen(token), &ctx, &s, &used,
                                &created, &err);
    }
    if (rc != 0) {
        reply_inactive(req, used ? used->name : pname ? pname : "none", &err);
        goto out_reset;
    }
    sb_metrics_credential("validate", used->name, SB_OK);
    if (created)
        sb_metrics_session_created(used->name);
    sb_api_reply(req, 200, sb_credential_result_json(&s, NULL),
                 VALIDATE_DESC);
out_reset:
    sb_session_reset(&s);
out_free:
    json_decref(body);
}
