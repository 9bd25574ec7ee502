/* bench_populate.c - fills a Redis with synthetic sessions through the
 * store's own write path, pipelined, for the purge benchmark and the CLI
 * tests.  Deterministic: session i belongs to user (i mod users), profile
 * (i mod profiles) and was issued (i * 7919 mod spread) seconds ago;
 * with --users 0 the sessions are anonymous (no subject).
 *
 *   bench_populate --redis URL [--prefix sb:] --sessions N [--users U]
 *                  [--profiles a,b,...] [--spread SECONDS] [--ttl SECONDS]
 *                  [--sid-prefix S] [--batch B]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sessionbridge/redis.h"
#include "sessionbridge/store.h"
#include "sessionbridge/store_admin.h"

#define MAX_PROFILES 16

struct opts {
    const char *url, *prefix, *sid_prefix;
    unsigned long long sessions, users, spread, ttl, batch;
    char *profiles[MAX_PROFILES];
    size_t profile_count;
};

static int usage(void)
{
    fprintf(stderr, "usage: bench_populate --redis URL [--prefix sb:] "
            "--sessions N [--users U] [--profiles a,b] [--spread SECONDS] "
            "[--ttl SECONDS] [--sid-prefix S] [--batch B]\n");
    return 2;
}

static int number(const char *s, unsigned long long *out)
{
    char *end;

    *out = strtoull(s, &end, 10);
    return *end == '\0' && end != s ? 0 : -1;
}

static int parse(int argc, char **argv, struct opts *o)
{
    static char profiles_default[] = "legacy,new";
    char *list = profiles_default, *tok, *save;
    int i;

    memset(o, 0, sizeof(*o));
    o->prefix = "sb:";
    o->sid_prefix = "bench";
    o->users = 1000;
    o->spread = 30 * 86400;
    o->ttl = 60 * 86400;
    o->batch = 1000;
    for (i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        int bad = 0;
        if (strcmp(k, "--redis") == 0)
            o->url = v;
        else if (strcmp(k, "--prefix") == 0)
            o->prefix = v;
        else if (strcmp(k, "--sid-prefix") == 0)
            o->sid_prefix = v;
        else if (strcmp(k, "--profiles") == 0)
            list = argv[i + 1];
        else if (strcmp(k, "--sessions") == 0)
            bad = number(v, &o->sessions);
        else if (strcmp(k, "--users") == 0)
            bad = number(v, &o->users);
        else if (strcmp(k, "--spread") == 0)
            bad = number(v, &o->spread);
        else if (strcmp(k, "--ttl") == 0)
            bad = number(v, &o->ttl);
        else if (strcmp(k, "--batch") == 0)
            bad = number(v, &o->batch);
        else
            return usage();
        if (bad)
            return usage();
    }
    if (i != argc || o->url == NULL || o->batch == 0 ||
        o->spread == 0)
        return usage();
    for (tok = strtok_r(list, ",", &save); tok && o->profile_count <
         MAX_PROFILES; tok = strtok_r(NULL, ",", &save))
        o->profiles[o->profile_count++] = tok;
    return o->profile_count ? 0 : usage();
}

int main(int argc, char **argv)
{
    struct opts o;
    struct sb_redis_conf url = {0};
    struct sb_redis *r = NULL;
    struct sb_session *batch = NULL;
    struct sb_err err = {0};
    char subject[64];
    int64_t now = (int64_t)time(NULL);
    unsigned long long i, n = 0;
    struct timespec t0, t1;
    int rc = 1;

    if (parse(argc, argv, &o) != 0)
        return 2;
    if (sb_redis_conf_from_url(o.url, &url, &err) != 0 ||
        (r = sb_redis_new(&url, 2000, 30000, &err)) == NULL)
        goto out;
    if (sb_store_layout_ensure(r, o.prefix, &err) != 0)
        goto out;
    batch = calloc(o.batch, sizeof(*batch));
    if (batch == NULL)
        goto out;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < o.sessions; i++) {
        struct sb_session *s = &batch[n++];
        sb_session_init(s);
        snprintf(s->sid, sizeof(s->sid), "%s-%llu", o.sid_prefix, i);
        if (o.users > 0) {
            snprintf(subject, sizeof(subject), "user%llu", i % o.users);
            s->subject = strdup(subject);
        } else {
            snprintf(subject, sizeof(subject), "anonymous");
        }
        snprintf(s->profile, sizeof(s->profile), "%s",
                 o.profiles[i % o.profile_count]);
        s->issued_at = now - (int64_t)(i * 7919 % o.spread);
        s->expires_at = now + (int64_t)o.ttl;
        s->updated_at = s->issued_at;
        s->version = 1;
        s->data = json_pack("{s:s, s:I}", "name", subject, "n", (json_int_t)i);
        if (n == o.batch || i + 1 == o.sessions) {
            int failed = sb_admin_put_sessions(r, o.prefix, batch, n, now,
                                               &err);
            while (n > 0)
                sb_session_reset(&batch[--n]);
            if (failed)
                goto out;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%llu sessions written in %.2f s\n", o.sessions,
           (double)(t1.tv_sec - t0.tv_sec) +
               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "bench_populate: %s\n", err.msg[0] ? err.msg
                                                          : "failed");
    free(batch);
    sb_redis_free(r);
    sb_redis_conf_free(&url);
    return rc;
}
