/* introspect.c - POST /v1/introspect (RFC 7662 token introspection) and
 * POST /v1/revoke (RFC 7009 token revocation): form-encoded `token`, for
 * callers that speak OAuth. */
#include <string.h>

#include "api.h"
#include "endpoints.h"
#include "metrics.h"

/* What the two endpoints learn about the form's token (form_checked). */
struct form_check {
    struct sb_codec_ctx ctx;
    char addr[64];                  /* ctx.client_addr points here */
    struct sb_bridge b;
    struct sb_session s;            /* reset by the endpoint */
    const struct sb_profile *used;  /* the profile that decoded it */
    struct sb_err err;              /* why it is not live */
};

/*
 * What both endpoints start with: the caller is checked, the form's token
 * read (400 invalid_request when absent) and validated by the bridge:
 * with the profile named by token_type_hint first, then every profile.
 * Returns 1 for a live credential, 0 when it is not one (c->err says why:
 * invalid, expired, revoked...), -1 after answering (401, 400, 415, 503).
 * c->s is initialised first thing, whatever the outcome.
 */
static int form_checked(struct sb_http_req *req, struct form_check *c)
{
    static __thread char token[SB_TOKEN_MAX + 1];
    char hint[SB_PROFILE_NAME_MAX];
    const struct sb_profile *hp;
    bool present, hint_present;
    long n;

    memset(c, 0, sizeof(*c));
    sb_session_init(&c->s);
    if (!sb_api_authorize(req, SB_API_BACKEND))
        return -1;
    n = sb_api_form_field(req, "token", token, sizeof(token), &present);
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
    sb_api_codec_ctx(req, &c->ctx, c->addr, sizeof(c->addr));
    sb_api_bridge(req, &c->b);
    hp = hint_present ? sb_config_profile(req->cfg, hint) : NULL;
    if (hp != NULL &&
        sb_bridge_validate(&c->b, hp, token, (size_t)n, &c->ctx, &c->s,
                           &c->used, NULL, &c->err) == 0)
        return 1;
    if ((hp == NULL || (c->err.code != SB_ERR_STORE &&
                        c->err.code != SB_ERR_CONFIG)) &&
        sb_bridge_validate(&c->b, NULL, token, (size_t)n, &c->ctx, &c->s,
                           &c->used, NULL, &c->err) == 0)
        return 1;
    if (c->err.code != SB_ERR_STORE && c->err.code != SB_ERR_CONFIG)
        return 0;
    sb_api_fail(req, &c->err);
    return -1;
}

void sb_ep_introspect(struct sb_http_req *req)
{
    struct form_check c;
    int live = form_checked(req, &c);

    if (live < 0)
        goto out_reset;
    if (live == 0)
        goto inactive;
    sb_metrics_credential("introspect", c.used->name, SB_OK);
    sb_api_reply(req, 200,
                 json_pack("{s:b, s:s?, s:s, s:I, s:I, s:s, s:s}", "active", 1,
                           "sub", c.s.subject, "sid", c.s.sid, "iat",
                           (json_int_t)c.s.issued_at, "exp",
                           (json_int_t)c.s.expires_at, "token_type",
                           c.used->codec->name, "profile", c.used->name),
                 &sessionbridge__v1__introspect_response__descriptor);
    goto out_reset;

inactive:
    sb_metrics_credential("introspect", c.used ? c.used->name : "none",
                          c.err.code);
    sb_api_reply(req, 200, json_pack("{s:b}", "active", 0),
                 &sessionbridge__v1__introspect_response__descriptor);
out_reset:
    sb_session_reset(&c.s);
}

void sb_ep_revoke(struct sb_http_req *req)
{
    struct form_check c;
    int live = form_checked(req, &c);

    if (live < 0)
        goto out_reset;
    if (live == 0)
        goto done; /* already revoked or over: nothing to do */
    if (sb_bridge_revoke_session(&c.b, &c.s, c.ctx.now, NULL, &c.err) != 0) {
        sb_api_fail(req, &c.err);
        goto out_reset;
    }
    sb_metrics_revocation("token");
done:
    sb_http_reply_raw(req, 200, "application/json", "{}", 2);
out_reset:
    sb_session_reset(&c.s);
}
