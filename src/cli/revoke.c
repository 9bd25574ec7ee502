/* revoke.c - `revoke TOKEN`: decode a credential with the configured
 * profiles and revoke its session, as the API's POST /v1/revoke does. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "sessionbridge/codec.h"
#include "sessionbridge/store.h"

/*
 * Decodes token with the named profile, or with each configured profile
 * in turn until one accepts it.  On failure *err holds the error of the
 * named profile, or of the first profile that got past the format check
 * (a bad signature says more than "not my format").
 */
static const struct sb_profile *decode_any(const struct sb_config *cfg,
                                           const char *profile,
                                           const char *token, size_t len,
                                           struct sb_session *s,
                                           struct sb_err *err)
{
    struct sb_codec_ctx cctx = {(int64_t)time(NULL), NULL, NULL};
    struct sb_err first = {0}, e;
    size_t i;

    if (profile != NULL) {
        const struct sb_profile *p = sb_config_profile(cfg, profile);
        return sb_credential_decode(p, token, len, &cctx, s, err) == 0 ? p
                                                                       : NULL;
    }
    for (i = 0; i < cfg->profile_count; i++) {
        const struct sb_profile *p = &cfg->profiles[i];
        sb_err_clear(&e);
        if (sb_credential_decode(p, token, len, &cctx, s, &e) == 0)
            return p;
        if (first.code == SB_OK ||
            (first.code == SB_ERR_MALFORMED && e.code != SB_ERR_MALFORMED))
            first = e;
    }
    if (first.code == SB_OK)
        sb_err_set(&first, SB_ERR_CONFIG, "no profile is configured");
    *err = first;
    return NULL;
}

int cli_cmd_revoke(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *profile = NULL, *token = NULL;
    const struct sb_config *cfg;
    const struct sb_profile *p;
    struct sb_store_removed removed = {0};
    struct sb_redis *r = NULL;
    struct sb_session s;
    struct sb_err err = {0};
    const char *sid;
    char *owned = NULL;
    bool json = false;
    int64_t now = (int64_t)time(NULL);
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
    if (profile != NULL && sb_config_profile(cfg, profile) == NULL)
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
    if ((p = decode_any(cfg, profile, token, len, &s, &err)) == NULL) {
        rc = cli_error(CLI_FAILED, "the credential is not valid%s%s: %s (%s); "
                       "nothing revoked", profile ? " for profile " : "",
                       profile ? profile : "", err.msg,
                       sb_err_code_name(err.code));
        goto out;
    }
    if ((rc = cli_redis_open(ctx, &r)) != CLI_OK)
        goto out;
    sid = s.sid;
    if (sb_store_revoke(r, cfg->prefix, &s, now, &removed, &err) != 0 ||
        sb_store_drop_framework_records(r, cfg, &sid, 1, &err) != 0) {
        rc = cli_store_error("", &err);
        goto out;
    }
    if (json)
        cli_print_json(json_pack("{s:b, s:s, s:s?, s:s, s:b}", "revoked", 1,
                                 "sid", s.sid, "subject", s.subject,
                                 "profile", p->name, "was_stored",
                                 removed.existed));
    else
        printf("revoked session %s of %s (a %s credential)%s\n", s.sid,
               s.subject ? s.subject : "an anonymous user", p->name,
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
