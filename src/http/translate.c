/* translate.c - POST /v1/translate: the same session as a credential of
 * another profile, after the source credential passed the store check
 * (and was recorded); the bridge's one mint policy decides the rest. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "endpoints.h"
#include "metrics.h"

void sb_ep_translate(struct sb_http_req *req)
{
    const struct sb_profile *from = NULL, *to, *used = NULL;
    const char *token = NULL, *from_name = NULL, *to_name = NULL;
    char *out = NULL, *cookie = NULL, addr[64];
    struct sb_codec_ctx ctx;
    struct sb_bridge b;
    struct sb_session s;
    struct sb_err err = {0};
    json_t *body = NULL;

    if (!sb_api_authorize(req, SB_API_BACKEND))
        return;
    if (sb_api_body(req, &sessionbridge__v1__translate_request__descriptor,
                    false, &body) != 0)
        return;
    if (sb_api_string(req, body, "token", true, SB_TOKEN_MAX, &token) != 0 ||
        sb_api_string(req, body, "from", false, SB_PROFILE_NAME_MAX - 1,
                      &from_name) != 0 ||
        sb_api_string(req, body, "to", true, SB_PROFILE_NAME_MAX - 1,
                      &to_name) != 0)
        goto out_free;
    if ((to = sb_api_profile(req, to_name)) == NULL ||
        (from_name != NULL && (from = sb_api_profile(req, from_name)) == NULL))
        goto out_free;
    sb_api_codec_ctx(req, &ctx, addr, sizeof(addr));
    sb_api_bridge(req, &b);
    sb_session_init(&s);
    if (sb_bridge_translate(&b, from, to, token, strlen(token), &ctx, &s,
                            &used, &out, &cookie, &err) != 0) {
        bool checked = s.sid[0] != '\0';
        sb_metrics_credential("translate",
                              used ? used->name : from ? from->name : "none",
                              checked ? SB_OK : err.code);
        if (!checked || err.code == SB_ERR_STORE || err.code == SB_ERR_NOMEM)
            sb_api_fail(req, &err);
        else
            sb_api_error(req, 422, "cannot_encode",
                         "the session cannot be written as profile '%s': "
                         "%s", to->name, err.msg);
        goto out_reset;
    }
    sb_metrics_credential("translate", used->name, SB_OK);
    sb_api_reply(req, 200,
                 json_pack("{s:s, s:s, s:s, s:o}", "token", out, "set_cookie",
                           cookie, "profile", used->name, "session",
                           sb_session_to_json(&s)),
                 &sessionbridge__v1__translate_response__descriptor);
    free(out);
    free(cookie);
out_reset:
    sb_session_reset(&s);
out_free:
    json_decref(body);
}
