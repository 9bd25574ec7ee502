/* apikeys.c - POST /v1/apikeys/validate: is this API key valid, and whose
 * is it?  Keys are looked up by their SHA-256 (store.h); creating and
 * revoking them is the admin CLI's job. */
#include <string.h>

#include "api.h"
#include "endpoints.h"
#include "sessionbridge/clock.h"

#define APIKEY_LEN_MAX 512
#define APIKEY_DESC (&sessionbridge__v1__api_key_validate_response__descriptor)

void sb_ep_apikeys_validate(struct sb_http_req *req)
{
    const char *key = sb_http_header(req, "X-API-Key");
    struct sb_apikey k;
    struct sb_err err = {0};
    struct sb_bridge b;
    json_t *body = NULL;

    if (!sb_api_authorize(req, SB_API_BACKEND))
        return;
    if (sb_api_body(req,
                    &sessionbridge__v1__api_key_validate_request__descriptor,
                    key != NULL, &body) != 0)
        return;
    if (body != NULL &&
        sb_api_string(req, body, "key", key == NULL, APIKEY_LEN_MAX,
                      &key) != 0)
        goto out_free;
    if (key == NULL || key[0] == '\0' || strlen(key) > APIKEY_LEN_MAX) {
        sb_api_error(req, key && key[0] ? 413 : 400,
                     key && key[0] ? "too_large" : "missing_field",
                     "send the key as {\"key\": ...} or in X-API-Key (1-%d "
                     "bytes)", APIKEY_LEN_MAX);
        goto out_free;
    }
    sb_api_bridge(req, &b);
    if (sb_bridge_apikey(&b, key, strlen(key), sb_clock_now(), &k,
                         &err) != 0) {
        if (err.code == SB_ERR_NOT_FOUND || err.code == SB_ERR_EXPIRED)
            sb_api_reply(req, 401,
                         json_pack("{s:b, s:s, s:s}", "valid", 0, "error",
                                   err.code == SB_ERR_EXPIRED ? "expired"
                                                              : "unknown_key",
                                   "message", err.msg),
                         APIKEY_DESC);
        else
            sb_api_fail(req, &err);
        goto out_free;
    }
    sb_api_reply(req, 200,
                 json_pack("{s:b, s:s, s:s, s:O, s:I}", "valid", 1, "key_id",
                           k.key_id, "subject", k.subject, "scopes", k.scopes,
                           "expires_at", (json_int_t)k.expires_at),
                 APIKEY_DESC);
    sb_apikey_reset(&k);
out_free:
    json_decref(body);
}
