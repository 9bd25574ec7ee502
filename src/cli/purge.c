/* purge.c - `purge`: remove sessions by user, by id, by profile, by age
 * or all of them, in short steps paced so that Redis keeps answering its
 * other clients promptly (pace.h), with --dry-run, confirmation, a
 * progress bar and a clean stop on Ctrl-C. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "pace.h"
#include "progress.h"
#include "sessionbridge/bridge.h"
#include "sessionbridge/clock.h"
#include "sessionbridge/store.h"
#include "sessionbridge/store_admin.h"

#define PURGE_CONFIRM_OVER 1000 /* larger purges ask first (or need --yes) */
#define PURGE_BATCH 100     /* SCAN COUNT, and ids read per pipeline */
#define PURGE_BATCH_MAX 1000 /* SCAN COUNT 1000 with MATCH and TYPE takes
                                ~1-2 ms of Redis time on 2M keys */
#define PURGE_BASELINE_PINGS 16 /* PINGs that measure the idle latency, */
#define PURGE_BASELINE_GAP_NS 2000000 /* each after 2 ms */

struct purge_opts {
    const char **users;    /* --user subjects (borrowed from argv) */
    size_t user_count;
    const char **sids;     /* --session ids */
    size_t sid_count;
    const char **profiles; /* --profile names */
    size_t profile_count;
    long long older_than;  /* --older-than, seconds; 0 = not given */
    bool all, dry_run, yes, json;
    unsigned batch;
    enum cli_pace_mode pace;   /* --rate (adaptive when not given) */
    double rate;               /* --rate N */
};

/* What a pass did (or, dry, would do). */
struct purge_counts {
    unsigned long long users;       /* users logged out everywhere */
    unsigned long long by_user;     /* sessions removed through --user */
    unsigned long long by_sid;      /* sessions removed through --session */
    unsigned long long sid_missing; /* --session ids not in the store */
    unsigned long long by_scan;     /* sessions the scan removed */
    unsigned long long scanned;     /* session keys the scan looked at */
    bool interrupted;
};

struct purge {
    struct purge_opts o;
    struct sb_redis *r;
    const struct sb_config *cfg; /* profiles with framework records */
    const char *prefix;
    int64_t now;
    int64_t cutoff;          /* issued before this = old enough */
    bool dry;                /* this pass only counts */
    struct purge_counts c;
    struct sb_err err;
    struct cli_bar bar;      /* progress on a terminal */
    unsigned long long done, total;
    struct cli_pace pace;    /* this pass's pace */
    double pace_t0;          /* when the pass started (cli_now) */
    unsigned long long users_seen, user_sessions; /* logged out so far:
                                sessions per user sizes logout pipelines */
};

static unsigned long long removed_total(const struct purge_counts *c)
{
    return c->by_user + c->by_sid + c->by_scan;
}

/* ---- arguments ------------------------------------------------------------ */

/* Reads the command line into o.  Bare words after --user / --session add
 * more subjects / ids, so `--user 41 42` and `--user 41 --user 42` agree. */
static int parse_args(int argc, char **argv, struct purge_opts *o)
{
    const char ***list = NULL, *v, *batch = NULL, *older = NULL;
    const char *rate = NULL;
    size_t *list_count = NULL;
    int i, m;

    memset(o, 0, sizeof(*o));
    o->batch = PURGE_BATCH;
    o->users = calloc((size_t)argc + 1, sizeof(*o->users));
    o->sids = calloc((size_t)argc + 1, sizeof(*o->sids));
    o->profiles = calloc((size_t)argc + 1, sizeof(*o->profiles));
    if (o->users == NULL || o->sids == NULL || o->profiles == NULL)
        return cli_error(CLI_FAILED, "out of memory");
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if ((m = cli_opt_value(argc, argv, &i, "--user", &v)) != 0) {
            if (m < 0)
                return CLI_USAGE;
            o->users[o->user_count++] = v;
            list = &o->users;
            list_count = &o->user_count;
        } else if ((m = cli_opt_value(argc, argv, &i, "--session", &v)) !=
                   0) {
            if (m < 0)
                return CLI_USAGE;
            o->sids[o->sid_count++] = v;
            list = &o->sids;
            list_count = &o->sid_count;
        } else if ((m = cli_opt_value(argc, argv, &i, "--profile", &v)) !=
                   0) {
            if (m < 0)
                return CLI_USAGE;
            o->profiles[o->profile_count++] = v;
            list = NULL;
        } else if ((m = cli_opt_value(argc, argv, &i, "--older-than",
                                      &older)) != 0 ||
                   (m = cli_opt_value(argc, argv, &i, "--batch", &batch)) !=
                       0 ||
                   (m = cli_opt_value(argc, argv, &i, "--rate", &rate)) != 0) {
            if (m < 0)
                return CLI_USAGE;
            list = NULL;
        } else if (strcmp(a, "--all") == 0) {
            o->all = true;
        } else if (strcmp(a, "--dry-run") == 0 || strcmp(a, "-n") == 0) {
            o->dry_run = true;
        } else if (strcmp(a, "--yes") == 0 || strcmp(a, "-y") == 0) {
            o->yes = true;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (!cli_is_long_option(a) && list != NULL) {
            (*list)[(*list_count)++] = a;
        } else {
            return cli_bad_word("purge", a);
        }
    }
    if (older != NULL) {
        if (cli_parse_duration(older, &o->older_than) != 0)
            return cli_error(CLI_USAGE, "--older-than: '%s' is not a "
                             "duration (e.g. 90s, 15m, 12h, 7d, 2w)", older);
        if (o->older_than == 0)
            return cli_error(CLI_USAGE, "--older-than: must be more than 0");
    }
    if (batch != NULL) {
        char *end;
        long n = strtol(batch, &end, 10);
        if (*end != '\0' || n < 1 || n > PURGE_BATCH_MAX)
            return cli_error(CLI_USAGE, "--batch: '%s' is not a number from "
                             "1 to %d", batch, PURGE_BATCH_MAX);
        o->batch = (unsigned)n;
    }
    if (rate != NULL &&
        cli_pace_parse_rate(rate, &o->pace, &o->rate) != 0)
        return cli_error(CLI_USAGE, "--rate: '%s' is not a number of "
                         "sessions per second from 1 to %.0f, or max (or "
                         "0) for no pacing", rate, CLI_PACE_RATE_MAX);
    return CLI_OK;
}

/* Checks what parsing cannot: a mode is given, --all stands alone, the ids
 * and subjects are well-formed, the profiles exist in the config. */
static int validate(struct cli_ctx *ctx, const struct purge_opts *o)
{
    const struct sb_config *cfg;
    size_t i;

    if (!o->all && o->user_count == 0 && o->sid_count == 0 &&
        o->profile_count == 0 && o->older_than == 0)
        return cli_error(CLI_USAGE, "purge: say what to purge: --user, "
                         "--session, --profile, --older-than or --all");
    if (o->all && (o->user_count || o->sid_count || o->profile_count ||
                   o->older_than))
        return cli_error(CLI_USAGE, "--all: cannot be combined with --user, "
                         "--session, --profile or --older-than");
    for (i = 0; i < o->user_count; i++) {
        if (o->users[i][0] == '\0')
            return cli_error(CLI_USAGE, "--user: empty subject");
        if (strlen(o->users[i]) > SB_SUBJECT_MAX)
            return cli_error(CLI_USAGE, "--user: a subject longer than %d "
                             "bytes", SB_SUBJECT_MAX);
    }
    for (i = 0; i < o->sid_count; i++)
        if (!sb_sid_is_valid(o->sids[i]))
            return cli_error(CLI_USAGE, "--session: '%.*s' is not a session "
                             "id (1-%d characters of [A-Za-z0-9._:-])",
                             SB_SID_MAX, o->sids[i], SB_SID_MAX - 1);
    if (o->profile_count == 0)
        return CLI_OK;
    if ((cfg = cli_config(ctx)) == NULL)
        return CLI_FAILED;
    for (i = 0; i < o->profile_count; i++)
        if (sb_config_profile(cfg, o->profiles[i]) == NULL)
            return cli_error(CLI_USAGE, "--profile: no profile named '%s' in "
                             "%s", o->profiles[i], ctx->config_path);
    return CLI_OK;
}

static bool has_filters(const struct purge_opts *o)
{
    return o->profile_count > 0 || o->older_than > 0;
}

/* True when s passes --profile and --older-than.  A session whose
 * issue time is unknown is never "older than". */
static bool matches(const struct purge *p, const struct sb_admin_session *s)
{
    size_t i;
    bool ok = p->o.profile_count == 0;

    for (i = 0; i < p->o.profile_count && !ok; i++)
        ok = strcmp(s->profile, p->o.profiles[i]) == 0;
    if (ok && p->o.older_than > 0)
        ok = s->issued_at > 0 && s->issued_at < p->cutoff;
    return ok;
}

/* Redraws the progress bar when due. */
static void draw(struct purge *p)
{
    cli_bar_update(&p->bar, p->done, p->total, removed_total(&p->c), false);
}

/* ---- pacing --------------------------------------------------------------- */

/* One PING's round trip in seconds; 0 when it failed (the next command
 * reconnects or reports the error). */
static double ping_time(struct purge *p)
{
    struct sb_err err = {0};
    double t = cli_now();
    redisReply *rep = sb_redis_command(p->r, &err, "PING");

    if (rep == NULL)
        return 0;
    freeReplyObject(rep);
    return cli_now() - t;
}

/* Sets up this pass's pace; adaptive, it first measures the idle latency:
 * the median of a few PINGs, each after a pause as the probes during the
 * purge are (a PING that finds Redis asleep in its event loop takes
 * longer than one sent back-to-back, on a busy machine by 0.1 ms). */
static void pace_start(struct purge *p)
{
    const struct timespec gap = {0, PURGE_BASELINE_GAP_NS};
    double v[PURGE_BASELINE_PINGS], baseline = 0;
    size_t i, n = 0;

    if (p->o.pace == CLI_PACE_ADAPTIVE) {
        for (i = 0; i < PURGE_BASELINE_PINGS && !cli_interrupted; i++) {
            nanosleep(&gap, NULL);
            if ((v[n] = ping_time(p)) > 0)
                n++;
        }
        baseline = n > 0 ? cli_pace_baseline(v, n) : 0;
    }
    cli_pace_init(&p->pace, p->o.pace, p->o.rate, baseline,
                  CLI_PACE_CHUNK_MAX);
    if (p->o.pace == CLI_PACE_ADAPTIVE && baseline <= 0)
        p->pace.mode = CLI_PACE_OFF; /* Redis did not answer: the first
                                        step reports it */
    p->users_seen = p->user_sessions = 0;
    p->pace_t0 = cli_now();
}

/* One step sent to Redis: when it began and the PING probe before it. */
struct step {
    double t0, probe;
};

/* Begins a step: adaptive, a PING measures the store's latency first. */
static struct step step_begin(struct purge *p)
{
    struct step s = {0, 0};

    if (p->pace.mode == CLI_PACE_ADAPTIVE)
        s.probe = ping_time(p);
    s.t0 = cli_now();
    return s;
}

/* Ends a step that removed `removed` sessions: asks the pace how long to
 * pause, and pauses (Ctrl-C cuts the pause short). */
static void step_end(struct purge *p, const struct step *s,
                     unsigned long long removed)
{
    double now = cli_now(), pause;
    struct timespec ts;

    pause = cli_pace_after(&p->pace, removed, now - s->t0, now - p->pace_t0,
                           s->probe);
    if (pause <= 0 || cli_interrupted)
        return;
    ts.tv_sec = (time_t)pause;
    ts.tv_nsec = (long)((pause - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !cli_interrupted)
        ;
}

/* ---- the passes ----------------------------------------------------------- */

/* Removes the sessions sids[0..n) through the store's batch delete, in
 * pipelines of the pace's chunk, one paced step each; adds the number
 * that existed to *count.  Stops between chunks on Ctrl-C. */
static int delete_paced(struct purge *p, const char **sids, size_t n,
                        unsigned long long *count)
{
    struct sb_bridge bridge = {p->cfg, p->r, false};
    struct sb_store_removed *removed = calloc(n ? n : 1, sizeof(*removed));
    size_t at, i, len;
    int rc = -1;

    if (removed == NULL)
        return sb_err_set(&p->err, SB_ERR_NOMEM, "out of memory");
    for (at = 0; at < n && !cli_interrupted; at += len) {
        unsigned long long went = 0;
        struct step s = step_begin(p);
        len = n - at < p->pace.chunk ? n - at : p->pace.chunk;
        if (sb_bridge_delete(&bridge, sids + at, len, NULL, p->now, removed,
                             &p->err) != 0) {
            if (p->err.code != SB_ERR_NOT_FOUND)
                goto out;
            sb_err_clear(&p->err); /* one sid whose owner nobody recorded */
            removed[0].existed = false;
        }
        for (i = 0; i < len; i++)
            went += removed[i].existed;
        *count += went;
        step_end(p, &s, went);
    }
    rc = 0;
out:
    free(removed);
    return rc;
}

/* Removes (or, dry, counts) the sessions of b[0..n) that match the
 * filters; adds the number to *count. */
static int remove_matching(struct purge *p, const struct sb_admin_session *b,
                           size_t n, unsigned long long *count)
{
    const char **sids = calloc(n ? n : 1, sizeof(*sids));
    size_t i, k = 0;
    int rc;

    if (sids == NULL)
        return sb_err_set(&p->err, SB_ERR_NOMEM, "out of memory");
    for (i = 0; i < n; i++)
        if (matches(p, &b[i]))
            sids[k++] = b[i].sid;
    if (p->dry || k == 0) {
        *count += k;
        rc = 0;
    } else {
        rc = delete_paced(p, sids, k, count);
    }
    free(sids);
    return rc;
}

/* Counts subject's live sessions into *count (a dry log-out). */
static int count_user(struct purge *p, const char *subject, long long *count)
{
    struct sb_admin_session *v;
    size_t k;

    if (sb_admin_user_sessions(p->r, p->prefix, subject, &v, &k, &p->err) !=
        0)
        return -1;
    free(v);
    *count = (long long)k;
    return 0;
}

/* Logs subjects[0..n) out everywhere (or, dry, counts their sessions), a
 * pipeline of about a chunk of sessions' worth of users per paced step;
 * adds to the user and session counts.  Stops between steps on Ctrl-C. */
static int logout_subjects(struct purge *p, const char *const *subjects,
                           size_t n, unsigned long long *count)
{
    struct sb_bridge bridge = {p->cfg, p->r, false};
    long long *removed = calloc(n ? n : 1, sizeof(*removed));
    size_t at, i, len;
    int rc = -1;

    if (removed == NULL)
        return sb_err_set(&p->err, SB_ERR_NOMEM, "out of memory");
    for (at = 0; at < n && !cli_interrupted; at += len) {
        unsigned long long went = 0;
        struct step s = step_begin(p);
        len = cli_pace_users(&p->pace, p->users_seen
                                           ? (double)p->user_sessions /
                                                 (double)p->users_seen
                                           : 0);
        if (len > n - at)
            len = n - at;
        if (p->dry) {
            for (i = 0; i < len; i++)
                if (count_user(p, subjects[at + i], &removed[i]) != 0)
                    goto out;
        } else if (sb_bridge_logout(&bridge, subjects + at, len, p->now,
                                    removed, &p->err) != 0) {
            goto out;
        }
        for (i = 0; i < len; i++)
            went += (unsigned long long)removed[i];
        *count += went;
        p->c.users += len;
        p->users_seen += len;
        p->user_sessions += went;
        step_end(p, &s, p->dry ? 0 : went);
    }
    rc = 0;
out:
    free(removed);
    return rc;
}

/* With filters, a user's sessions that match (not a log-out: the user's
 * other credentials stay valid). */
static int filter_user(struct purge *p, const char *subject)
{
    struct sb_admin_session *v = NULL;
    size_t n = 0;
    struct step s = step_begin(p);
    int rc;

    if (sb_admin_user_sessions(p->r, p->prefix, subject, &v, &n, &p->err) !=
        0)
        return -1;
    step_end(p, &s, 0);
    rc = remove_matching(p, v, n, &p->c.by_user);
    free(v);
    return rc;
}

/* --user: log the users out everywhere, a batch at a time, or, with
 * filters, remove each user's sessions that match. */
static int pass_users(struct purge *p)
{
    size_t at, i;

    for (at = 0; at < p->o.user_count && !cli_interrupted; at += p->o.batch) {
        size_t len = p->o.user_count - at < p->o.batch
                         ? p->o.user_count - at
                         : p->o.batch;
        if (!has_filters(&p->o)) {
            if (logout_subjects(p, p->o.users + at, len, &p->c.by_user) != 0)
                return -1;
        } else {
            for (i = 0; i < len && !cli_interrupted; i++)
                if (filter_user(p, p->o.users[at + i]) != 0)
                    return -1;
        }
        p->done += len;
        draw(p);
    }
    return 0;
}

/* --session: remove the given sessions (those that match the filters,
 * when given). */
static int pass_sessions(struct purge *p)
{
    size_t n = p->o.sid_count, at, i;
    struct sb_admin_session *meta = calloc(n, sizeof(*meta));
    bool *found = calloc(n, sizeof(*found));
    int rc = -1;

    if (meta == NULL || found == NULL) {
        sb_err_set(&p->err, SB_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (at = 0; at < n && !cli_interrupted; at += p->o.batch) {
        size_t len = n - at < p->o.batch ? n - at : p->o.batch, k = 0;
        struct step s = step_begin(p);
        if (sb_admin_get_sessions(p->r, p->prefix, p->o.sids + at, len, meta,
                                  found, &p->err) != 0)
            goto out;
        step_end(p, &s, 0);
        for (i = 0; i < len; i++) {
            if (!found[i]) {
                p->c.sid_missing++;
                continue;
            }
            if (k != i)
                meta[k] = meta[i];
            k++;
        }
        if (remove_matching(p, meta, k, &p->c.by_sid) != 0)
            goto out;
        p->done += len;
        draw(p);
    }
    rc = 0;
out:
    free(meta);
    free(found);
    return rc;
}

/* One SCAN step of a walk over the store: reads the batch at it and acts
 * on it. */
typedef int (*purge_step)(struct purge *p, struct sb_scan *it);

/* Walks a SCAN from start to end, one step (one batch) at a time, showing
 * the cursor's progress under label; stops between batches when Ctrl-C
 * was pressed. */
static int walk(struct purge *p, const char *label, purge_step step)
{
    struct sb_scan it;

    sb_scan_init(&it);
    p->bar.label = label;
    p->done = 0;
    p->total = CLI_SCAN_SPAN;
    do {
        if (step(p, &it) != 0)
            return -1;
        p->done = cli_scan_position(it.cursor, it.done);
        draw(p);
    } while (!it.done && !cli_interrupted);
    return 0;
}

/* --all, first step: a batch of user indexes, every user logged out
 * everywhere (the not-before time revokes all their credentials with one
 * key per user rather than one marker per session). */
static int logout_scanned_users(struct purge *p, struct sb_scan *it)
{
    char **subjects = NULL;
    size_t n = 0;
    struct step s = step_begin(p);
    int rc;

    if (sb_admin_scan_users(p->r, p->prefix, it, p->o.batch, &subjects, &n,
                            &p->err) != 0)
        return -1;
    step_end(p, &s, 0);
    rc = logout_subjects(p, (const char *const *)subjects, n, &p->c.by_user);
    sb_admin_free_strings(subjects, n);
    return rc;
}

/* --profile / --older-than / --all: a batch of session keys, what matches
 * removed. */
static int remove_scanned_sessions(struct purge *p, struct sb_scan *it)
{
    struct sb_admin_session *b = NULL;
    size_t n = 0;
    struct step s = step_begin(p);
    int rc;

    if (sb_admin_scan_sessions(p->r, p->prefix, it, p->o.batch,
                               has_filters(&p->o), &b, &n, &p->err) != 0)
        return -1;
    step_end(p, &s, 0);
    p->c.scanned += n;
    rc = remove_matching(p, b, n, &p->c.by_scan);
    free(b);
    return rc;
}

/* --all logs users out first, then removes what is left (sessions without
 * a subject, and any written meanwhile); a dry run just counts sessions. */
static int pass_scan(struct purge *p)
{
    if (p->o.all && !p->dry && walk(p, "users", logout_scanned_users) != 0)
        return -1;
    if (cli_interrupted)
        return 0;
    return walk(p, p->dry ? "counting" : "sessions", remove_scanned_sessions);
}

/* One pass over everything the options select: dry (count only) or not. */
static int run_pass(struct purge *p, bool dry, const char *label)
{
    int rc = 0;

    memset(&p->c, 0, sizeof(p->c));
    cli_catch_sigint();
    p->dry = dry;
    pace_start(p);
    cli_bar_start(&p->bar, label, "sessions");
    p->done = 0;
    p->total = p->o.user_count + p->o.sid_count;
    if (p->o.user_count > 0)
        rc = pass_users(p);
    if (rc == 0 && p->o.sid_count > 0)
        rc = pass_sessions(p);
    if (rc == 0 && p->o.user_count == 0 && p->o.sid_count == 0)
        rc = pass_scan(p);
    p->c.interrupted = cli_interrupted != 0;
    cli_release_sigint();
    cli_bar_clear(&p->bar);
    return rc;
}

/* ---- output --------------------------------------------------------------- */

/* x rounded to 3 decimals, for the JSON summary. */
static double milli_round(double x)
{
    return (double)(long long)(x * 1000 + 0.5) / 1000;
}

/* The pace of the pass as a JSON object: its mode, the rate or the idle
 * latency, and what it did (steps, back-offs, the lowest share of the
 * time and the smallest pipeline it came down to, the pauses). */
static json_t *pace_json(const struct cli_pace *pc)
{
    return json_pack("{s:s, s:f, s:f, s:I, s:I, s:f, s:i, s:i, s:f}",
                     "mode", cli_pace_mode_name(pc->mode), "rate", pc->rate,
                     "baseline_ms", milli_round(pc->baseline * 1000),
                     "steps", (json_int_t)pc->steps, "backoffs",
                     (json_int_t)pc->backoffs, "least_share",
                     milli_round(pc->least_share), "chunk_max",
                     (int)pc->chunk_max, "least_chunk", (int)pc->least_chunk,
                     "paused_seconds", milli_round(pc->paused));
}

/* The summary's line about the pace. */
static void print_pace(const struct cli_pace *pc)
{
    if (pc->mode == CLI_PACE_OFF)
        printf("  pace:       unpaced (--rate max), pipelines of %u\n",
               pc->chunk_max);
    else if (pc->mode == CLI_PACE_RATE)
        printf("  pace:       --rate %.0f/s, pipelines of %u, paused %.1f s\n",
               pc->rate, pc->least_chunk, pc->paused);
    else
        printf("  pace:       adaptive (idle PING %.3f ms; backed off %llu "
               "time%s, down to %.0f%% of the time and pipelines of %u; "
               "paused %.1f s)\n", pc->baseline * 1000, pc->backoffs,
               pc->backoffs == 1 ? "" : "s", pc->least_share * 100,
               pc->least_chunk, pc->paused);
}

static void print_summary(const struct purge *p, double seconds)
{
    const struct purge_counts *c = &p->c;
    char n1[32], n2[32];
    const char *bold = cli_sgr(stdout, "\033[1m"), *off = cli_sgr(stdout,
                                                                 "\033[0m");

    if (p->o.json) {
        cli_print_json(json_pack(
            "{s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:o}",
            "dry_run", p->dry, "interrupted", c->interrupted, "sessions",
            (json_int_t)removed_total(c), "users", (json_int_t)c->users,
            "by_user", (json_int_t)c->by_user, "by_session",
            (json_int_t)c->by_sid, "sessions_not_found",
            (json_int_t)c->sid_missing, "by_scan", (json_int_t)c->by_scan,
            "scanned", (json_int_t)c->scanned, "seconds",
            (double)(long long)(seconds * 1000) / 1000, "pace",
            pace_json(&p->pace)));
        return;
    }
    cli_progress_thousands(removed_total(c), n1, sizeof(n1));
    printf("%s%s %s session%s%s%s in %.1f s\n", bold,
           p->dry ? "would purge" : "purged", n1,
           removed_total(c) == 1 ? "" : "s", off,
           p->dry ? " (dry run: nothing changed)" : "", seconds);
    if (p->o.user_count > 0 || c->users > 0) {
        cli_progress_thousands(c->by_user, n1, sizeof(n1));
        if (has_filters(&p->o))
            printf("  by user:    %s matching sessions of %zu user%s\n", n1,
                   p->o.user_count, p->o.user_count == 1 ? "" : "s");
        else
            printf("  by user:    %s user%s %s out everywhere "
                   "(%s sessions)\n",
                   cli_progress_thousands(c->users, n2, sizeof(n2)),
                   c->users == 1 ? "" : "s",
                   p->dry ? "to log" : "logged", n1);
    }
    if (p->o.sid_count > 0) {
        cli_progress_thousands(c->by_sid, n1, sizeof(n1));
        printf("  by session: %s of %zu (%llu not in the store)\n", n1,
               p->o.sid_count, c->sid_missing);
    }
    if (p->o.user_count == 0 && p->o.sid_count == 0) {
        cli_progress_thousands(c->by_scan, n1, sizeof(n1));
        cli_progress_thousands(c->scanned, n2, sizeof(n2));
        if (p->o.all && !p->dry)
            printf("  by scan:    %s more (sessions without a user, or "
                   "written meanwhile)\n", n1);
        else
            printf("  by %s %s of %s sessions scanned\n",
                   p->o.all ? "--all: " : "filter:", n1, n2);
    }
    print_pace(&p->pace);
}

/* The question asked before a large or --all purge. */
static int confirm(const struct purge *p, unsigned long long count)
{
    char q[256], n[32];

    cli_progress_thousands(count, n, sizeof(n));
    snprintf(q, sizeof(q), "%s %s session%s from the store (and revoke "
             "their credentials)?", p->o.all ? "Purge ALL" : "Purge", n,
             count == 1 ? "" : "s");
    return cli_confirm(p->o.yes, q);
}

/*
 * Order of events: arguments (exit 2), config and profiles (1 / 2), Redis
 * (3), then a counting pass when the size decides whether to ask (not with
 * --yes; --all without a terminal refuses before counting), the question,
 * and the real pass.  A dry run is the counting pass alone.
 */
int cli_cmd_purge(struct cli_ctx *ctx, int argc, char **argv)
{
    struct purge p;
    double t0;
    int rc;

    memset(&p, 0, sizeof(p));
    if ((rc = parse_args(argc, argv, &p.o)) != CLI_OK ||
        (rc = validate(ctx, &p.o)) != CLI_OK)
        goto out;
    if (p.o.all && !p.o.yes && !p.o.dry_run &&
        (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))) {
        rc = cli_error(CLI_USAGE, "purge --all: refusing without --yes when "
                       "stdin is not a terminal (nothing changed)");
        goto out;
    }
    if ((rc = cli_redis_open(ctx, &p.r)) != CLI_OK)
        goto out;
    p.cfg = ctx->cfg;
    p.prefix = ctx->cfg->prefix;
    p.now = sb_clock_now();
    p.cutoff = p.now - p.o.older_than;

    t0 = cli_now();
    if (p.o.dry_run || !p.o.yes) {
        if (run_pass(&p, true, "counting") != 0) {
            rc = cli_store_error("purge stopped: ", &p.err);
            goto out;
        }
        if (p.c.interrupted) {
            rc = cli_error(CLI_FAILED, "interrupted while counting: nothing "
                           "changed");
            goto out;
        }
        if (p.o.dry_run) {
            print_summary(&p, cli_now() - t0);
            rc = CLI_OK;
            goto out;
        }
        if ((p.o.all || removed_total(&p.c) > PURGE_CONFIRM_OVER) &&
            (rc = confirm(&p, removed_total(&p.c))) != CLI_OK)
            goto out;
        /* the question may have taken a while: a fresh clock for the
         * not-before times, and a fresh connection if Redis dropped the
         * idle one (a failed PING closes it; the next command reconnects) */
        p.now = sb_clock_now();
        freeReplyObject(sb_redis_command(p.r, &p.err, "PING"));
    }
    t0 = cli_now();
    if (run_pass(&p, false, "purging") != 0) {
        print_summary(&p, cli_now() - t0);
        rc = cli_store_error("purge stopped: ", &p.err);
        goto out;
    }
    print_summary(&p, cli_now() - t0);
    if (p.c.interrupted)
        rc = cli_error(CLI_FAILED, "interrupted: every session was removed "
                       "whole (the store is consistent); run the same "
                       "command again to finish");
    else if (p.o.sid_count > 0 && p.o.user_count == 0 && p.c.by_sid == 0)
        rc = cli_error(CLI_FAILED, "%s", has_filters(&p.o)
                       ? "none of the sessions given matched"
                       : "none of the sessions given was in the store (for "
                         "a credential the store never saw, use revoke "
                         "TOKEN)");
    else
        rc = CLI_OK;
out:
    sb_redis_free(p.r);
    free(p.o.users);
    free(p.o.sids);
    free(p.o.profiles);
    return rc;
}
