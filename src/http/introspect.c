/* introspect.c - POST /v1/introspect (RFC 7662 token introspection) and
 * POST /v1/revoke (RFC 7009 token revocation): form-encoded `token`, for
 * callers that speak OAuth. */
#include <string.h>

#include "api.h"
#include "endpoints.h"
#include "metrics.h"

/* Reads the form's token (answering 400 invalid_request when absent) and
 * decodes it: with the profile named by token_type_hint first, then every
 * profile.  Returns 1 decoded, 0 not a valid credential, -1 answered. */
static int form_credential(struct sb_http_req *req, char *token, size_t size,
                           const struct sb_codec_ctx *ctx,
                           struct sb_session *s, const struct sb_profile **used,
                           struct sb_err *err)
{
    char hint[SB_PROFILE_NAME_MAX];
    const struct sb_profile *hp;
    bool present, hint_present;
    long n;

    n = sb_api_form_field(req, "token", token, size, &present);
    if (n < 0)
        return -1;
    if (!present || n == 0) {
        sb_api_error(req, 400, "invalid_request",
                     "the form field 'token' is required");
        return -1;
    }
    if (sb_api_form_field(req, "token_type_hint", hint, sizeof(hint),
                          &hint_present) < 0)
        return -1;
    hp = hint_present ? sb_config_profile(req->cfg, hint) : NULL;
    if (hp != NULL && sb_api_decode_any(req->cfg, hp, token, (size_t)n, ctx,
                                        s, used, err) == 0)
        return 1;
    return sb_api_decode_any(req->cfg, NULL, token, (size_t)n, ctx, s, used,
                             err) == 0;
}

void sb_ep_introspect(struct sb_http_req *req)
{
    static __thread char token[SB_TOKEN_MAX + 1];
    const struct sb_profile *used = NULL;
    struct sb_codec_ctx ctx;
    struct sb_session s;
    struct sb_err err = {0};
    struct sb_redis *r;
    char addr[64];
    int found;

    if (!sb_api_authorize(req, SB_API_BACKEND))
        return;
    sb_api_codec_ctx(req, &ctx, addr, sizeof(addr));
    sb_session_init(&s);
    found = form_credential(req, token, sizeof(token), &ctx, &s, &used, &err);
    if (found < 0)
        return;
    if (found == 0)
        goto inactive;
    if ((r = sb_api_redis(req)) == NULL)
        goto out_reset;
    if (sb_api_check(r, req->cfg, used, &s, ctx.now, &err) != 0) {
        if (err.code == SB_ERR_STORE) {
            sb_api_fail(req, &err);
            goto out_reset;
        }
        goto inactive;
    }
    sb_metrics_credential("introspect", used->name, SB_OK);
    sb_api_reply(req, 200,
                 json_pack("{s:b, s:s?, s:s, s:I, s:I, s:s, s:s}", "active", 1,
                           "sub", s.subject, "sid", s.sid, "iat",
                           (json_int_t)s.issued_at, "exp",
                           (json_int_t)s.expires_at, "token_type",
                           used->codec->name, "profile", used->name),
                 &sessionbridge__v1__introspect_response__descriptor);
    goto out_reset;

inactive:
    sb_metrics_credential("introspect", used ? used->name : "none", err.code);
    sb_api_reply(req, 200, json_pack("{s:b}", "active", 0),
                 &sessionbridge__v1__introspect_response__descriptor);
out_reset:
    sb_session_reset(&s);
}

void sb_ep_revoke(struct sb_http_req *req)
{
    static __thread char token[SB_TOKEN_MAX + 1];
    const struct sb_profile *used = NULL;
    struct sb_codec_ctx ctx;
    struct sb_session s;
    struct sb_err err = {0};
    struct sb_redis *r;
    char addr[64], *sid = s.sid;
    int found;

    if (!sb_api_authorize(req, SB_API_BACKEND))
        return;
    sb_api_codec_ctx(req, &ctx, addr, sizeof(addr));
    sb_session_init(&s);
    found = form_credential(req, token, sizeof(token), &ctx, &s, &used, &err);
    if (found < 0)
        return;
    if (found == 0)
        goto done;
    if ((r = sb_api_redis(req)) == NULL)
        goto out_reset;
    if (sb_api_check(r, req->cfg, used, &s, ctx.now, &err) != 0) {
        if (err.code == SB_ERR_STORE) {
            sb_api_fail(req, &err);
            goto out_reset;
        }
        goto done; /* already revoked or over: nothing to do */
    }
    if ((s.subject != NULL
             ? sb_store_delete(r, req->cfg->prefix, s.sid, s.subject, ctx.now,
                               s.expires_at ? s.expires_at - ctx.now : 0,
                               NULL, &err)
             : sb_store_delete_anonymous(r, req->cfg->prefix, s.sid, ctx.now,
                                         s.expires_at ? s.expires_at - ctx.now
                                                      : 0,
                                         &err)) != 0 ||
        sb_api_drop_framework_records(r, req->cfg, &sid, 1, &err) != 0) {
        sb_api_fail(req, &err);
        goto out_reset;
    }
    sb_metrics_revocation("token");
done:
    sb_http_reply_raw(req, 200, "application/json", "{}", 2);
out_reset:
    sb_session_reset(&s);
}
