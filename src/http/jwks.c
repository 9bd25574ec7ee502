/* jwks.c - GET /.well-known/jwks.json: the public keys of every RS / ES
 * jwt profile (jwks.h), for services that verify the bridge's tokens. */
#include "api.h"
#include "endpoints.h"
#include "sessionbridge/jwks.h"

void sb_ep_jwks(struct sb_http_req *req)
{
    struct sb_err err = {0};
    json_t *doc = NULL;

    if (sb_jwks_build_config(req->cfg, &doc, &err) != 0) {
        sb_api_fail(req, &err);
        return;
    }
    sb_http_add_header(req, "Cache-Control", "public, max-age=300");
    sb_http_reply_json(req, 200, doc);
}
