/* revoke.c - `revoke TOKEN`: the bridge decodes a credential with the
 * configured profiles and revokes its session, as for POST /v1/revoke. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "sessionbridge/bridge.h"
#include "sessionbridge/clock.h"

int cli_cmd_revoke(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *profile = NULL, *token = NULL;
    const struct sb_config *cfg;
    const struct sb_profile *p = NULL, *used = NULL;
    struct sb_store_removed removed = {0};
    struct sb_codec_ctx cctx = {sb_clock_now(), NULL, NULL};
    struct sb_redis *r = NULL;
    struct sb_bridge b;
    struct sb_session s;
    struct sb_err err = {0};
    char *owned = NULL;
    bool json = false;
    size_t len;
    int i, m, rc;

    for (i = 0; i < argc; i++) {
        if ((m = cli_opt_value(argc, argv, &i, "--profile", &profile)) != 0) {
            if (m < 0)
                return CLI_USAGE;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (!cli_operand(argc, argv, &i, &token)) {
            return cli_bad_word("revoke", argv[i]);
        }
    }
    if ((cfg = cli_config(ctx)) == NULL)
        return CLI_FAILED;
    if (profile != NULL && (p = sb_config_profile(cfg, profile)) == NULL)
        return cli_error(CLI_USAGE, "--profile: no profile named '%s' in %s",
                         profile, ctx->config_path);
    if (token == NULL || strcmp(token, "-") == 0) {
        owned = cli_read_stdin(SB_TOKEN_MAX + 2, &len);
        if (owned == NULL || len == 0) {
            free(owned);
            return cli_error(CLI_USAGE, "revoke: no TOKEN (give it as the "
                             "argument or on stdin, at most %d bytes)",
                             SB_TOKEN_MAX);
        }
        token = owned;
    } else {
        len = strlen(token);
    }
    sb_session_init(&s);
    if (sb_bridge_decode(cfg, p, token, len, &cctx, &s, &used, &err) != 0) {
        rc = cli_error(CLI_FAILED, "the credential is not valid%s%s: %s (%s); "
                       "nothing revoked", profile ? " for profile " : "",
                       profile ? profile : "", err.msg,
                       sb_err_code_name(err.code));
        goto out;
    }
    if ((rc = cli_redis_open(ctx, &r)) != CLI_OK)
        goto out;
    b.cfg = cfg;
    b.r = r;
    b.offline = false;
    if (sb_bridge_revoke_session(&b, &s, cctx.now, &removed, &err) != 0) {
        rc = cli_store_error("", &err);
        goto out;
    }
    if (json)
        cli_print_json(json_pack("{s:b, s:s, s:s?, s:s, s:b}", "revoked", 1,
                                 "sid", s.sid, "subject", s.subject,
                                 "profile", used->name, "was_stored",
                                 removed.existed));
    else
        printf("revoked session %s of %s (a %s credential)%s\n", s.sid,
               s.subject ? s.subject : "an anonymous user", used->name,
               removed.existed ? "; its stored session was deleted" : "");
    rc = CLI_OK;
out:
    sb_session_reset(&s);
    if (owned != NULL) {
        OPENSSL_cleanse(owned, len);
        free(owned);
    }
    sb_redis_free(r);
    return rc;
}
