/* offline.c - decode, encode and translate credentials from the command
 * line with the config's profiles.  decode and translate answer through
 * the bridge, as the HTTP API does (the configured Redis included, unless
 * --offline); encode writes a credential for a session given on stdin. */
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cli.h"
#include "sessionbridge/bridge.h"
#include "sessionbridge/clock.h"
#include "sessionbridge/jsonutil.h"

/* Options shared by the three commands. */
struct offline_opts {
    const char *profile;   /* --profile / --from */
    const char *to;        /* --to */
    const char *token;     /* positional, else stdin */
    bool set_cookie;       /* --set-cookie */
    bool offline;          /* --offline: no Redis */
    struct sb_codec_ctx ctx;
};

static int parse_opts(int argc, char **argv, bool allow_token,
                      struct offline_opts *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->ctx.now = sb_clock_now();
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--set-cookie") == 0) {
            o->set_cookie = true;
            continue;
        }
        if (strcmp(a, "--offline") == 0) {
            o->offline = true;
            continue;
        }
        if (a[0] == '-' && a[1] == '-' && v == NULL)
            return cli_error(CLI_USAGE, "%s needs a value", a);
        if (strcmp(a, "--profile") == 0 || strcmp(a, "--from") == 0) {
            o->profile = v;
        } else if (strcmp(a, "--to") == 0) {
            o->to = v;
        } else if (strcmp(a, "--now") == 0) {
            char *end;
            long long n = strtoll(v, &end, 10);
            if (*end != '\0' || end == v || n < 0)
                return cli_error(CLI_USAGE,
                                 "--now needs Unix seconds, not '%s'", v);
            o->ctx.now = n;
        } else if (strcmp(a, "--client-addr") == 0) {
            o->ctx.client_addr = v;
        } else if (strcmp(a, "--user-agent") == 0) {
            o->ctx.user_agent = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_error(CLI_USAGE, "unknown option '%s'", a);
        } else if (allow_token && o->token == NULL) {
            o->token = a;
            continue;
        } else {
            return cli_error(CLI_USAGE, "unexpected argument");
        }
        i++;
    }
    return CLI_OK;
}

/* The named profile (NULL when name is NULL and not required), or a
 * usage error naming it (*rc set, NULL returned). */
static const struct sb_profile *find_profile(struct cli_ctx *ctx,
                                             const char *name,
                                             const char *flag, bool required,
                                             int *rc)
{
    const struct sb_config *cfg;
    const struct sb_profile *p;

    *rc = CLI_OK;
    if (name == NULL) {
        if (required)
            *rc = cli_error(CLI_USAGE, "%s is required", flag);
        else if (cli_config(ctx) == NULL)
            *rc = CLI_FAILED;
        return NULL;
    }
    cfg = cli_config(ctx);
    if (cfg == NULL) {
        *rc = CLI_FAILED;
        return NULL;
    }
    p = sb_config_profile(cfg, name);
    if (p == NULL)
        *rc = cli_error(CLI_USAGE, "%s: no profile named '%s' in %s", flag,
                        name, ctx->config_path);
    return p;
}

/* A bridge over the config: on the configured Redis, or offline (the
 * store refused with a message saying so).  *r receives the connection
 * to free. */
static int open_bridge(struct cli_ctx *ctx, const struct offline_opts *o,
                       struct sb_bridge *b, struct sb_redis **r)
{
    int rc;

    *r = NULL;
    b->cfg = cli_config(ctx);
    b->r = NULL;
    b->offline = o->offline;
    if (o->offline)
        return CLI_OK;
    if ((rc = cli_redis_open(ctx, r)) != CLI_OK)
        return rc;
    b->r = *r;
    return CLI_OK;
}

/* Exit code and output of a failed validation: the API's inactive answer
 * on stdout, exit 3 when it was the store that failed. */
static int not_active(const struct sb_err *err)
{
    cli_print_json(sb_credential_result_json(NULL, err));
    if (err->code == SB_ERR_STORE)
        return cli_error(CLI_UNREACHABLE, "%s (use --offline to verify "
                         "without Redis)", err->msg);
    return CLI_FAILED;
}

/* The token from argv or stdin; *owned is set when it must be freed. */
static const char *get_token(const struct offline_opts *o, char **owned,
                             size_t *len)
{
    *owned = NULL;
    if (o->token != NULL) {
        *len = strlen(o->token);
        return o->token;
    }
    *owned = cli_read_stdin(SB_TOKEN_MAX + 2, len);
    return *owned;
}

int cli_cmd_decode(struct cli_ctx *ctx, int argc, char **argv)
{
    struct offline_opts o;
    const struct sb_profile *p, *used = NULL;
    struct sb_session s;
    struct sb_err err = {0};
    struct sb_bridge b;
    struct sb_redis *r = NULL;
    const char *token;
    char *owned = NULL;
    size_t len;
    int rc, vrc;

    if ((rc = parse_opts(argc, argv, true, &o)) != CLI_OK)
        return rc;
    p = find_profile(ctx, o.profile, "--profile", false, &rc);
    if (rc != CLI_OK)
        return rc;
    if ((token = get_token(&o, &owned, &len)) == NULL)
        return cli_error(CLI_USAGE, "cannot read the token from stdin (at "
                         "most %d bytes)", SB_TOKEN_MAX);
    if ((rc = open_bridge(ctx, &o, &b, &r)) != CLI_OK)
        goto out_free;
    sb_session_init(&s);
    if (o.offline)
        vrc = sb_bridge_decode(b.cfg, p, token, len, &o.ctx, &s, &used, &err);
    else
        vrc = sb_bridge_validate(&b, p, token, len, &o.ctx, &s, &used, NULL,
                                 &err);
    if (vrc == 0) {
        cli_print_json(sb_credential_result_json(&s, NULL));
        rc = CLI_OK;
    } else {
        rc = not_active(&err);
    }
    sb_session_reset(&s);
out_free:
    sb_redis_free(r);
    free(owned);
    return rc;
}

/* Prints a credential, or its Set-Cookie header with --set-cookie. */
static int print_credential(const struct sb_profile *p,
                            const struct offline_opts *o, const char *cred)
{
    struct sb_err err = {0};
    char *cookie;

    if (!o->set_cookie) {
        printf("%s\n", cred);
        return CLI_OK;
    }
    if (sb_cookie_build(p, cred, o->ctx.now, &cookie, &err) != 0)
        return cli_error(CLI_FAILED, "%s", err.msg);
    printf("%s\n", cookie);
    free(cookie);
    return CLI_OK;
}

int cli_cmd_encode(struct cli_ctx *ctx, int argc, char **argv)
{
    struct offline_opts o;
    const struct sb_profile *p;
    struct sb_session s;
    struct sb_err err = {0};
    json_t *doc = NULL, *session;
    char *input = NULL, *cred = NULL;
    size_t len;
    int rc;

    if ((rc = parse_opts(argc, argv, false, &o)) != CLI_OK)
        return rc;
    if ((p = find_profile(ctx, o.profile, "--profile", true, &rc)) == NULL)
        return rc;
    input = cli_read_stdin(1 << 20, &len);
    if (input == NULL)
        return cli_error(CLI_USAGE, "cannot read the session JSON from "
                         "stdin (at most 1 MiB)");
    sb_session_init(&s);
    doc = sb_json_parse(input, len, SB_ERR_INVALID_REQUEST, "session JSON",
                        &err);
    if (doc != NULL && json_is_object(json_object_get(doc, "session")) &&
        json_object_get(doc, "active") != NULL)
        session = json_object_get(doc, "session");
    else
        session = doc;
    if (doc == NULL || sb_session_from_json(session, true, &s, &err) != 0) {
        rc = cli_error(CLI_USAGE, "stdin: %s", err.msg);
        goto out;
    }
    if (s.data == NULL && (s.data = json_object()) == NULL) {
        rc = cli_error(CLI_FAILED, "out of memory");
        goto out;
    }
    if (s.sid[0] == '\0' && sb_sid_generate(s.sid, &err) != 0) {
        rc = cli_error(CLI_FAILED, "%s", err.msg);
        goto out;
    }
    if (s.issued_at == 0)
        s.issued_at = o.ctx.now;
    if (s.expires_at == 0 && p->max_age > 0)
        s.expires_at = s.issued_at + p->max_age;
    if (sb_credential_encode(p, &s, &o.ctx, &cred, &err) != 0) {
        rc = cli_error(CLI_FAILED, "encode for profile %s: %s (%s)", p->name,
                       err.msg, sb_err_code_name(err.code));
        goto out;
    }
    rc = print_credential(p, &o, cred);
out:
    free(cred);
    sb_session_reset(&s);
    json_decref(doc);
    free(input);
    return rc;
}

int cli_cmd_translate(struct cli_ctx *ctx, int argc, char **argv)
{
    struct offline_opts o;
    const struct sb_profile *from, *to, *used = NULL;
    struct sb_session s;
    struct sb_err err = {0};
    struct sb_bridge b;
    struct sb_redis *r = NULL;
    const char *token;
    char *owned = NULL, *cred = NULL;
    size_t len;
    int rc;

    if ((rc = parse_opts(argc, argv, true, &o)) != CLI_OK)
        return rc;
    from = find_profile(ctx, o.profile, "--from", false, &rc);
    if (rc != CLI_OK ||
        (to = find_profile(ctx, o.to, "--to", true, &rc)) == NULL)
        return rc;
    if ((token = get_token(&o, &owned, &len)) == NULL)
        return cli_error(CLI_USAGE, "cannot read the token from stdin");
    if ((rc = open_bridge(ctx, &o, &b, &r)) != CLI_OK)
        goto out_free;
    sb_session_init(&s);
    if (o.offline) {
        if (sb_bridge_decode(b.cfg, from, token, len, &o.ctx, &s, &used,
                             &err) == 0)
            sb_bridge_mint(&b, to, &s, &o.ctx, &cred, NULL, &err);
    } else {
        sb_bridge_translate(&b, from, to, token, len, &o.ctx, &s, &used,
                            &cred, NULL, &err);
    }
    if (cred != NULL)
        rc = print_credential(to, &o, cred);
    else if (s.sid[0] == '\0' || err.code == SB_ERR_STORE)
        rc = not_active(&err);
    else
        rc = cli_error(CLI_FAILED, "the session cannot be written as "
                       "profile %s: %s (%s)", to->name, err.msg,
                       sb_err_code_name(err.code));
    sb_session_reset(&s);
out_free:
    sb_redis_free(r);
    free(cred);
    free(owned);
    return rc;
}
