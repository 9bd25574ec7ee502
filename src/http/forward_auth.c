/* forward_auth.c - GET|POST|OPTIONS /v1/auth and every path below it: the
 * forward-auth answer for nginx auth_request, Traefik ForwardAuth and
 * Envoy ext_authz (HTTP mode).  The bridge decides (sb_bridge_auth); this
 * file turns its answer into 200 with its headers, 401 with the reason in
 * X-Session-Error, or 503 when the store cannot be asked (and then no
 * Set-Cookie, so an outage never replaces anyone's cookie). */
#include "api.h"
#include "endpoints.h"
#include "observe.h"

void sb_ep_auth(struct sb_http_req *req)
{
    struct sb_bridge_request rq;
    struct sb_bridge_auth a;
    struct sb_bridge b;
    struct sb_codec_ctx ctx;
    struct sb_err err = {0};
    char addr[64];
    size_t i;
    int rc;

    if (!sb_api_authorize(req, SB_API_OPEN_AUTH))
        return;
    sb_api_codec_ctx(req, &ctx, addr, sizeof(addr));
    sb_api_bridge(req, &b);
    sb_api_bridge_request(req, &rq);
    rc = sb_bridge_auth(&b, &rq, &ctx, &a, &err);
    sb_observe_auth(req, &a, rc == 0 ? SB_OK : err.code);
    if (rc != 0) {
        sb_bridge_auth_free(&a);
        sb_http_add_header(req, "X-Session-Error", sb_err_code_name(err.code));
        sb_api_fail(req, &err);
        if (req->status == 413 || req->status == 404 || req->status == 400)
            req->status = 401;
        return;
    }
    for (i = 0; i < a.nheaders; i++)
        sb_http_add_header(req, a.headers[i].name, a.headers[i].value);
    sb_bridge_auth_free(&a);
    sb_http_reply_raw(req, 200, "text/plain", "", 0);
}
