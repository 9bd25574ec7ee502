/* sessions.c - `sessions list` and `sessions show`: what the store holds,
 * as a table on a terminal or JSON for scripts. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "sessionbridge/clock.h"
#include "sessionbridge/store.h"
#include "sessionbridge/store_admin.h"

#define LIST_DEFAULT_LIMIT 100
#define LIST_SCAN_COUNT 500

struct list_opts {
    const char *user;
    const char *profile;
    unsigned long long limit; /* 0 = no limit */
    bool json;
};

/* One row of the listing, as a table row or a JSON line. */
struct list_out {
    const struct list_opts *o;
    struct cli_table table;
    unsigned long long shown;
};

static const char *list_headers[] = {"SID", "SUBJECT", "PROFILE", "ISSUED",
                                     "EXPIRES", "UPDATED"};

/* Shows one session, as a table row or a JSON line, when it passes
 * --profile (the store's listing and the scan alike). */
static void emit_row(struct list_out *out, const char *sid,
                     const char *subject, const char *profile,
                     int64_t issued_at, int64_t expires_at,
                     int64_t updated_at)
{
    char issued[32], expires[32], updated[32];
    const char *row[6];

    if (out->o->profile != NULL && strcmp(profile, out->o->profile) != 0)
        return;
    out->shown++;
    if (out->o->json) {
        cli_print_json(json_pack("{s:s, s:s?, s:s, s:I, s:I, s:I}", "sid",
                                 sid, "subject",
                                 subject && subject[0] ? subject : NULL,
                                 "profile", profile, "issued_at",
                                 (json_int_t)issued_at, "expires_at",
                                 (json_int_t)expires_at, "updated_at",
                                 (json_int_t)updated_at));
        return;
    }
    cli_format_time(issued_at, issued, sizeof(issued));
    cli_format_time(expires_at, expires, sizeof(expires));
    cli_format_time(updated_at, updated, sizeof(updated));
    row[0] = sid;
    row[1] = subject && subject[0] ? subject : "(anonymous)";
    row[2] = profile[0] ? profile : "-";
    row[3] = issued;
    row[4] = expires_at ? expires : "never";
    row[5] = updated;
    cli_table_add(&out->table, row);
}

static bool full(const struct list_out *out)
{
    return out->o->limit > 0 && out->shown >= out->o->limit;
}

/* --user: the user's index, through the store's own listing. */
static int list_user(struct sb_redis *r, const char *prefix,
                     struct list_out *out)
{
    struct sb_session *v = NULL;
    struct sb_err err = {0};
    size_t n = 0, i;

    if (sb_store_list_user(r, prefix, out->o->user, sb_clock_now(), 0,
                           &v, &n, &err) != 0)
        return cli_store_error("", &err);
    for (i = 0; i < n && !full(out); i++)
        emit_row(out, v[i].sid, v[i].subject, v[i].profile, v[i].issued_at,
                 v[i].expires_at, v[i].updated_at);
    sb_store_free_sessions(v, n);
    return CLI_OK;
}

/* Every session, in SCAN order, until the limit. */
static int list_scan(struct sb_redis *r, const char *prefix,
                     struct list_out *out)
{
    struct sb_scan it;
    struct sb_err err = {0};

    sb_scan_init(&it);
    do {
        struct sb_admin_session *b = NULL;
        size_t n = 0, i;
        if (sb_admin_scan_sessions(r, prefix, &it, LIST_SCAN_COUNT, true, &b,
                                   &n, &err) != 0)
            return cli_store_error("", &err);
        for (i = 0; i < n && !full(out); i++)
            emit_row(out, b[i].sid, b[i].subject, b[i].profile,
                     b[i].issued_at, b[i].expires_at, b[i].updated_at);
        free(b);
    } while (!it.done && !full(out));
    return CLI_OK;
}

int cli_cmd_sessions_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct list_opts o = {NULL, NULL, LIST_DEFAULT_LIMIT, false};
    struct list_out out;
    struct sb_redis *r = NULL;
    const char *limit = NULL;
    int i, m, rc;

    for (i = 0; i < argc; i++) {
        if ((m = cli_opt_value(argc, argv, &i, "--user", &o.user)) != 0 ||
            (m = cli_opt_value(argc, argv, &i, "--profile", &o.profile)) !=
                0 ||
            (m = cli_opt_value(argc, argv, &i, "--limit", &limit)) != 0) {
            if (m < 0)
                return CLI_USAGE;
        } else if (strcmp(argv[i], "--json") == 0) {
            o.json = true;
        } else {
            return cli_bad_word("sessions list", argv[i]);
        }
    }
    if (o.user != NULL && strlen(o.user) > SB_SUBJECT_MAX)
        return cli_error(CLI_USAGE, "--user: a subject longer than %d bytes",
                         SB_SUBJECT_MAX);
    if (limit != NULL) {
        char *end;
        o.limit = strtoull(limit, &end, 10);
        if (*end != '\0' || limit[0] == '-' || limit[0] == '+')
            return cli_error(CLI_USAGE, "--limit: '%s' is not a number "
                             "(0 = no limit)", limit);
    }
    if (o.profile != NULL) {
        const struct sb_config *cfg = cli_config(ctx);
        if (cfg == NULL)
            return CLI_FAILED;
        if (sb_config_profile(cfg, o.profile) == NULL)
            return cli_error(CLI_USAGE, "--profile: no profile named '%s' "
                             "in %s", o.profile, ctx->config_path);
    }
    if ((rc = cli_redis_open(ctx, &r)) != CLI_OK)
        return rc;
    memset(&out, 0, sizeof(out));
    out.o = &o;
    cli_table_init(&out.table, 6, list_headers);
    if (o.user != NULL)
        rc = list_user(r, ctx->cfg->prefix, &out);
    else
        rc = list_scan(r, ctx->cfg->prefix, &out);
    if (rc == CLI_OK && !o.json) {
        if (out.shown > 0)
            cli_table_print(&out.table, stdout);
        fprintf(stderr, "%llu session%s%s\n", out.shown,
                out.shown == 1 ? "" : "s",
                full(&out) ? " (the limit: --limit 0 shows all)" : "");
    }
    cli_table_free(&out.table);
    sb_redis_free(r);
    return rc;
}

/* The session as "field: value" lines and its data, indented. */
static void print_session(const struct sb_session *s)
{
    char t[32];
    const char *b = cli_sgr(stdout, "\033[1m"), *o = cli_sgr(stdout,
                                                            "\033[0m");
    char *data;

    printf("%ssid:%s        %s\n", b, o, s->sid);
    printf("%ssubject:%s    %s\n", b, o,
           s->subject ? s->subject : "(anonymous)");
    printf("%sprofile:%s    %s\n", b, o, s->profile[0] ? s->profile : "-");
    cli_format_time(s->issued_at, t, sizeof(t));
    printf("%sissued:%s     %s (%lld)\n", b, o, t, (long long)s->issued_at);
    cli_format_time(s->expires_at, t, sizeof(t));
    printf("%sexpires:%s    %s (%lld)\n", b, o,
           s->expires_at ? t : "never", (long long)s->expires_at);
    cli_format_time(s->updated_at, t, sizeof(t));
    printf("%supdated:%s    %s (version %lld)\n", b, o, t,
           (long long)s->version);
    data = json_dumps(s->data, JSON_INDENT(2) | JSON_SORT_KEYS);
    printf("%sdata:%s\n%s\n", b, o, data ? data : "{}");
    free(data);
}

int cli_cmd_sessions_show(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *sid = NULL;
    struct sb_redis *r = NULL;
    struct sb_session s;
    struct sb_err err = {0};
    bool json = false;
    int i, rc;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (!cli_operand(argc, argv, &i, &sid))
            return cli_bad_word("sessions show", argv[i]);
    }
    if (sid == NULL)
        return cli_error(CLI_USAGE, "sessions show: which session? (SID)");
    if (!sb_sid_is_valid(sid))
        return cli_error(CLI_USAGE, "SID: '%.*s' is not a session id (1-%d "
                         "characters of [A-Za-z0-9._:-])", SB_SID_MAX, sid,
                         SB_SID_MAX - 1);
    if ((rc = cli_redis_open(ctx, &r)) != CLI_OK)
        return rc;
    sb_session_init(&s);
    if (sb_store_get(r, ctx->cfg->prefix, sid, &s, &err) != 0) {
        if (err.code == SB_ERR_NOT_FOUND)
            rc = cli_error(CLI_FAILED, "no session '%s' in the store", sid);
        else
            rc = cli_store_error("", &err);
        goto out;
    }
    if (json)
        cli_print_json(sb_session_to_json(&s));
    else
        print_session(&s);
    rc = CLI_OK;
out:
    sb_session_reset(&s);
    sb_redis_free(r);
    return rc;
}
