/* stats.c - `stats`: what the store holds under the prefix, counted with
 * SCAN (sessions by profile, users, markers, API keys, oldest and newest
 * session) and the memory it uses, sampled. */
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "progress.h"
#include "sessionbridge/store.h"
#include "sessionbridge/store_admin.h"

#define STATS_SCAN_COUNT 1000
#define STATS_PROFILES_MAX 64   /* distinct profiles counted by name */
#define STATS_SAMPLE_DEFAULT 1000

struct profile_count {
    char name[SB_PROFILE_NAME_MAX];
    unsigned long long n;
};

struct stats {
    unsigned long long keys;        /* every key under the prefix */
    unsigned long long kinds[SB_ADMIN_KEY_OTHER + 1];
    struct profile_count profiles[STATS_PROFILES_MAX];
    size_t profile_count;
    unsigned long long other_profiles; /* past STATS_PROFILES_MAX names */
    struct sb_admin_session oldest, newest;
    bool have_session;
    unsigned long long sampled;     /* keys whose memory was measured */
    unsigned long long sampled_bytes;
    char layout[16];
};

static void count_profile(struct stats *st, const char *name)
{
    size_t i;

    for (i = 0; i < st->profile_count; i++)
        if (strcmp(st->profiles[i].name, name) == 0) {
            st->profiles[i].n++;
            return;
        }
    if (st->profile_count == STATS_PROFILES_MAX) {
        st->other_profiles++;
        return;
    }
    snprintf(st->profiles[st->profile_count].name,
             sizeof(st->profiles[0].name), "%s", name);
    st->profiles[st->profile_count++].n = 1;
}

/* Session metadata of one batch: by profile, oldest and newest. */
static int account_sessions(struct sb_redis *r, const char *prefix,
                            const redisReply *keys, struct stats *st,
                            struct sb_err *err)
{
    struct sb_admin_session *meta;
    size_t i, n;

    if (sb_admin_sessions_of_keys(r, prefix, keys, &meta, &n, err) != 0)
        return -1;
    for (i = 0; i < n; i++) {
        count_profile(st, meta[i].profile);
        if (!st->have_session || meta[i].issued_at < st->oldest.issued_at)
            st->oldest = meta[i];
        if (!st->have_session || meta[i].issued_at > st->newest.issued_at)
            st->newest = meta[i];
        st->have_session = true;
    }
    free(meta);
    return 0;
}

/* MEMORY USAGE of every stride-th key of the batch, pipelined. */
static int sample_memory(struct sb_redis *r, const redisReply *keys,
                         unsigned long long *seen, unsigned long long stride,
                         struct stats *st, struct sb_err *err)
{
    size_t i, sent = 0;

    for (i = 0; i < keys->elements; i++, (*seen)++) {
        const char *argv[3] = {"MEMORY", "USAGE", keys->element[i]->str};
        if (*seen % stride != 0)
            continue;
        if (sb_redis_append(r, 3, argv, NULL, err) != 0)
            return -1;
        sent++;
    }
    for (i = 0; i < sent; i++) {
        redisReply *rep = sb_redis_read(r, err);
        if (rep == NULL)
            return -1;
        if (rep->type == REDIS_REPLY_INTEGER) {
            st->sampled++;
            st->sampled_bytes += (unsigned long long)rep->integer;
        }
        freeReplyObject(rep);
    }
    return 0;
}

/* DBSIZE, to space the memory samples over the whole walk. */
static unsigned long long db_size(struct sb_redis *r)
{
    struct sb_err err = {0};
    redisReply *rep = sb_redis_command(r, &err, "DBSIZE");
    unsigned long long n = 0;

    if (rep != NULL && rep->type == REDIS_REPLY_INTEGER)
        n = (unsigned long long)rep->integer;
    freeReplyObject(rep);
    return n;
}

/* Walks every key under the prefix once. */
static int collect(struct sb_redis *r, const char *prefix,
                   unsigned long long sample, struct stats *st,
                   struct sb_err *err)
{
    char esc[SB_STORE_PREFIX_MAX * 2 + 2], match[SB_STORE_PREFIX_MAX * 2 + 4];
    unsigned long long dbsize = db_size(r), stride, seen = 0;
    struct cli_bar bar;
    struct sb_scan it;
    redisReply *rep;
    int rc = 0;

    stride = sample > 0 && dbsize > sample ? dbsize / sample : 1;
    if (sb_scan_escape(prefix, esc, sizeof(esc)) != 0)
        return sb_err_set(err, SB_ERR_CONFIG, "[redis] prefix too long");
    snprintf(match, sizeof(match), "%s*", esc);
    cli_catch_sigint();
    cli_bar_start(&bar, "scanning", "keys");
    sb_scan_init(&it);
    do {
        size_t i;
        if (sb_scan_step(r, &it, match, STATS_SCAN_COUNT, NULL, &rep, err) !=
            0) {
            rc = -1;
            break;
        }
        st->keys += rep->elements;
        for (i = 0; i < rep->elements; i++)
            st->kinds[sb_admin_key_kind(prefix, rep->element[i]->str,
                                        rep->element[i]->len)]++;
        if (account_sessions(r, prefix, rep, st, err) != 0 ||
            (sample > 0 && sample_memory(r, rep, &seen, stride, st, err) != 0))
            rc = -1;
        freeReplyObject(rep);
        cli_bar_update(&bar, cli_scan_position(it.cursor, it.done),
                       CLI_SCAN_SPAN, st->keys, false);
    } while (rc == 0 && !it.done && !cli_interrupted);
    cli_bar_clear(&bar);
    cli_release_sigint();
    if (rc == 0 && cli_interrupted)
        rc = sb_err_set(err, SB_ERR_INTERNAL, "interrupted");
    return rc;
}

static void read_layout(struct sb_redis *r, const char *prefix,
                        struct stats *st)
{
    char key[SB_STORE_KEY_MAX];
    const char *argv[2] = {"GET", key};
    struct sb_err err = {0};
    redisReply *rep;

    strcpy(st->layout, "none");
    if (sb_store_key_layout(prefix, key, sizeof(key), &err) != 0 ||
        (rep = sb_redis_commandv(r, 2, argv, NULL, &err)) == NULL)
        return;
    if (rep->type == REDIS_REPLY_STRING)
        snprintf(st->layout, sizeof(st->layout), "%s", rep->str);
    freeReplyObject(rep);
}

static unsigned long long memory_estimate(const struct stats *st)
{
    if (st->sampled == 0)
        return 0;
    return (unsigned long long)((double)st->sampled_bytes /
                                (double)st->sampled * (double)st->keys);
}

static json_t *session_json(const struct sb_admin_session *s)
{
    return json_pack("{s:s, s:s?, s:s, s:I}", "sid", s->sid, "subject",
                     s->subject[0] ? s->subject : NULL, "profile", s->profile,
                     "issued_at", (json_int_t)s->issued_at);
}

static void print_json(const struct stats *st, const char *prefix)
{
    json_t *by = json_object();
    size_t i;

    for (i = 0; i < st->profile_count; i++)
        json_object_set_new(by, st->profiles[i].name,
                            json_integer((json_int_t)st->profiles[i].n));
    cli_print_json(json_pack(
        "{s:s, s:s, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, "
        "s:{s:I, s:I}}",
        "prefix", prefix, "layout", st->layout, "keys", (json_int_t)st->keys,
        "sessions", (json_int_t)st->kinds[SB_ADMIN_KEY_SESSION],
        "sessions_by_profile", by,
        "users", (json_int_t)st->kinds[SB_ADMIN_KEY_INDEX],
        "revocation_markers", (json_int_t)st->kinds[SB_ADMIN_KEY_REVOKED],
        "not_before_markers", (json_int_t)st->kinds[SB_ADMIN_KEY_NOT_BEFORE],
        "sid_pointers", (json_int_t)st->kinds[SB_ADMIN_KEY_SID],
        "api_keys", (json_int_t)st->kinds[SB_ADMIN_KEY_APIKEY],
        "other_keys", (json_int_t)st->kinds[SB_ADMIN_KEY_OTHER],
        "oldest_session",
        st->have_session ? session_json(&st->oldest) : json_null(),
        "newest_session",
        st->have_session ? session_json(&st->newest) : json_null(),
        "memory", "bytes_estimate", (json_int_t)memory_estimate(st),
        "sampled_keys", (json_int_t)st->sampled));
}

/* One "label  value" line, the value right-aligned. */
static void line(const char *label, unsigned long long v)
{
    char n[32];

    printf("%-28s %14s\n", label, cli_progress_thousands(v, n, sizeof(n)));
}

static void print_text(const struct stats *st, const char *prefix)
{
    const char *b = cli_sgr(stdout, "\033[1m"), *o = cli_sgr(stdout,
                                                            "\033[0m");
    char t[32], label[96];
    double mib = (double)memory_estimate(st) / (1024.0 * 1024.0);
    size_t i;

    printf("%sstore under prefix '%s'%s (layout version %s)\n", b, prefix, o,
           st->layout);
    line("sessions", st->kinds[SB_ADMIN_KEY_SESSION]);
    for (i = 0; i < st->profile_count; i++) {
        snprintf(label, sizeof(label), "  profile %s",
                 st->profiles[i].name[0] ? st->profiles[i].name : "(none)");
        line(label, st->profiles[i].n);
    }
    if (st->other_profiles)
        line("  other profiles", st->other_profiles);
    line("users with sessions", st->kinds[SB_ADMIN_KEY_INDEX]);
    line("revocation markers", st->kinds[SB_ADMIN_KEY_REVOKED]);
    line("users logged out (not-before)", st->kinds[SB_ADMIN_KEY_NOT_BEFORE]);
    line("sid pointers", st->kinds[SB_ADMIN_KEY_SID]);
    line("API keys", st->kinds[SB_ADMIN_KEY_APIKEY]);
    if (st->kinds[SB_ADMIN_KEY_OTHER])
        line("other keys", st->kinds[SB_ADMIN_KEY_OTHER]);
    line("keys in all", st->keys);
    if (st->have_session) {
        cli_format_time(st->oldest.issued_at, t, sizeof(t));
        printf("%-28s %s (%s)\n", "oldest session", t, st->oldest.sid);
        cli_format_time(st->newest.issued_at, t, sizeof(t));
        printf("%-28s %s (%s)\n", "newest session", t, st->newest.sid);
    }
    if (st->sampled > 0)
        printf("%-28s %14.1f MiB (estimated from %llu sampled keys)\n",
               "memory", mib, st->sampled);
}

int cli_cmd_stats(struct cli_ctx *ctx, int argc, char **argv)
{
    unsigned long long sample = STATS_SAMPLE_DEFAULT;
    const char *sample_s = NULL;
    struct sb_redis *r = NULL;
    struct sb_err err = {0};
    struct stats *st = NULL;
    bool json = false;
    int i, m, rc;

    for (i = 0; i < argc; i++) {
        if ((m = cli_opt_value(argc, argv, &i, "--sample", &sample_s)) != 0) {
            char *end;
            if (m < 0)
                return CLI_USAGE;
            sample = strtoull(sample_s, &end, 10);
            if (*end != '\0' || sample_s[0] == '-' || sample_s[0] == '+')
                return cli_error(CLI_USAGE, "--sample: '%s' is not a number "
                                 "(0 = no memory figure)", sample_s);
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else {
            return cli_bad_word("stats", argv[i]);
        }
    }
    if ((rc = cli_redis_open(ctx, &r)) != CLI_OK)
        return rc;
    if ((st = calloc(1, sizeof(*st))) == NULL) {
        rc = cli_error(CLI_FAILED, "out of memory");
        goto out;
    }
    read_layout(r, ctx->cfg->prefix, st);
    if (collect(r, ctx->cfg->prefix, sample, st, &err) != 0) {
        rc = cli_store_error("stats: ", &err);
        goto out;
    }
    if (json)
        print_json(st, ctx->cfg->prefix);
    else
        print_text(st, ctx->cfg->prefix);
    rc = CLI_OK;
out:
    free(st);
    sb_redis_free(r);
    return rc;
}
