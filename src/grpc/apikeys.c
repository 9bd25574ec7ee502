/* apikeys.c - sessionbridge.v1.ApiKeys/Validate: POST /v1/apikeys/validate
 * over gRPC for the services that check API keys on port 50053.  The same
 * bridge call (sb_bridge_apikey) and the same answer message: a key that
 * is unknown, revoked or expired is a {valid: false, error} answer, not a
 * failed call; a store outage is UNAVAILABLE. */
#include <string.h>

#include "service.h"
#include "sessionbridge/clock.h"
#include "sessionbridge/v1/api.pb-c.h"

#define APIKEY_LEN_MAX 512 /* as POST /v1/apikeys/validate */
#define APIKEY_DESC (&sessionbridge__v1__api_key_validate_response__descriptor)

void sb_grpc_apikeys_validate(const struct sb_grpc_call_info *call,
                              const uint8_t *req, size_t len,
                              struct sb_grpc_answer *ans)
{
    Sessionbridge__V1__ApiKeyValidateRequest *in;
    struct sb_bridge b = {call->cfg, NULL, false};
    struct sb_err err = {0};
    struct sb_apikey k;
    size_t klen;

    if (!sb_grpc_authorize(call, SB_OPEN_APIKEYS, ans))
        return;
    in = sessionbridge__v1__api_key_validate_request__unpack(NULL, len, req);
    if (in == NULL) {
        sb_grpc_fail(ans, GRPC_STATUS_INVALID_ARGUMENT,
                     "invalid_protobuf: not a sessionbridge.v1."
                     "ApiKeyValidateRequest");
        return;
    }
    klen = strlen(in->key);
    if (klen == 0 || klen > APIKEY_LEN_MAX) {
        sb_grpc_fail(ans, GRPC_STATUS_INVALID_ARGUMENT,
                     "%s: field 'key' must be 1-%d bytes",
                     klen ? "too_large" : "missing_field", APIKEY_LEN_MAX);
        goto out;
    }
    if (sb_bridge_apikey(&b, in->key, klen, sb_clock_now(), &k, &err) != 0) {
        if (err.code == SB_ERR_NOT_FOUND || err.code == SB_ERR_EXPIRED)
            sb_grpc_answer_json(
                json_pack("{s:b, s:s, s:s}", "valid", 0, "error",
                          err.code == SB_ERR_EXPIRED ? "expired"
                                                     : "unknown_key",
                          "message", err.msg),
                APIKEY_DESC, ans);
        else
            sb_grpc_fail(ans, sb_grpc_status_of(err.code), "%s: %s",
                         sb_err_code_name(err.code), err.msg);
        goto out;
    }
    sb_grpc_answer_json(json_pack("{s:b, s:s, s:s, s:O, s:I}", "valid", 1,
                                  "key_id", k.key_id, "subject", k.subject,
                                  "scopes", k.scopes, "expires_at",
                                  (json_int_t)k.expires_at),
                        APIKEY_DESC, ans);
    sb_apikey_reset(&k);
out:
    sessionbridge__v1__api_key_validate_request__free_unpacked(in, NULL);
}
