/* bench_codec_itsdangerous.c - decode+verify and encode operations per
 * second of the flask, starlette and django codecs on one core, for a
 * small logged-in session and for one large enough to be compressed.
 *
 * Usage: bench_codec_itsdangerous [SECONDS [NAME]]
 *   SECONDS per measurement (default 1); NAME runs only that line
 *   (flask, flask-zlib, flask-login, starlette, starlette-big, django,
 *   django-zlib). */
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sessionbridge/codec.h"
#include "sessionbridge/log.h"
#include "sessionbridge/profile.h"

#define NOW 1793491200
#define SECRET "bench-secret-0123456789abcdef0123456789"

/* One line of the table. */
struct bench_case {
    const char *name;
    const char *format;
    const char *const *kv; /* codec options */
    bool big;              /* 40-entry history: compressed where the
                              format compresses */
};

static double seconds = 1.0;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A prepared profile, as config.c builds one; exits on failure. */
static void make_profile(struct sb_profile *p, const struct bench_case *c)
{
    struct sb_err err = {0};
    size_t i;

    memset(p, 0, sizeof(*p));
    p->cookie.httponly = true;
    p->cookie.max_age = -2;
    p->name = strdup("bench");
    p->codec = sb_codec_find(c->format);
    p->sid_field = strdup("_sb_sid");
    p->cookie.path = strdup("/");
    sb_secrets_append(&p->secrets, SECRET, strlen(SECRET), &err);
    for (i = 0; c->kv != NULL && c->kv[i] != NULL; i += 2) {
        if (p->codec->configure(p, c->kv[i], c->kv[i + 1], &err) != 0)
            goto fail;
    }
    if (p->codec->prepare(p, &err) == 0)
        return;
fail:
    fprintf(stderr, "profile %s: %s\n", c->name, err.msg);
    exit(1);
}

/* A logged-in user's session: sid, subject, two fields, and with `big` a
 * 40-entry page history (about 600 bytes of JSON). */
static void make_session(struct sb_session *s, bool big)
{
    json_t *hist;
    char page[32];
    int i;

    sb_session_init(s);
    strcpy(s->sid, "Xq3RfZ2vN8kLpW4tY7uB1cD5eG9hJ0mA");
    s->subject = strdup("42");
    s->issued_at = NOW;
    s->expires_at = NOW + 3600;
    s->data = json_pack("{s:s, s:s}", "name", "alice", "role", "admin");
    if (big) {
        hist = json_array();
        for (i = 0; i < 40; i++) {
            snprintf(page, sizeof(page), "/page/%d", i);
            json_array_append_new(hist, json_string(page));
        }
        json_object_set_new(s->data, "history", hist);
    }
}

static void report(const char *what, const char *op, long n, double dt,
                   size_t len)
{
    printf("%-14s %-14s %12.0f ops/s   (%zu-byte cookie)\n", what, op,
           n / dt, len);
    fflush(stdout);
}

/* Encodes once, then times decode+verify (the full sb_credential_decode
 * path) and encode of case c. */
static void bench_case(const struct bench_case *c)
{
    struct sb_codec_ctx ctx = {.now = NOW + 10,
                               .client_addr = "203.0.113.7",
                               .user_agent = "Mozilla/5.0 (bench)"};
    struct sb_profile p;
    struct sb_session s, out;
    struct sb_err err = {0};
    char *tok = NULL, *again;
    double t0, dt;
    long n = 0, i;

    make_profile(&p, c);
    make_session(&s, c->big);
    if (sb_credential_encode(&p, &s, &ctx, &tok, &err) != 0) {
        fprintf(stderr, "%s: encode: %s\n", c->name, err.msg);
        exit(1);
    }
    t0 = now_s();
    do {
        for (i = 0; i < 64; i++, n++) {
            sb_session_init(&out);
            if (sb_credential_decode(&p, tok, strlen(tok), &ctx, &out,
                                     &err) != 0) {
                fprintf(stderr, "%s: decode: %s\n", c->name, err.msg);
                exit(1);
            }
            sb_session_reset(&out);
        }
    } while ((dt = now_s() - t0) < seconds);
    report(c->name, "decode+verify", n, dt, strlen(tok));
    n = 0;
    t0 = now_s();
    do {
        for (i = 0; i < 16; i++, n++) {
            if (sb_credential_encode(&p, &s, &ctx, &again, &err) != 0)
                exit(1);
            free(again);
        }
    } while ((dt = now_s() - t0) < seconds);
    report(c->name, "encode", n, dt, strlen(tok));
    free(tok);
    sb_session_reset(&s);
    sb_profile_free(&p);
}

int main(int argc, char **argv)
{
    static const char *const strong[] = {"session_protection", "strong",
                                         NULL};
    static const char *const django_kv[] = {"require_auth_user_hash", "false",
                                            NULL};
    static const struct bench_case cases[] = {
        {"flask", "flask", NULL, false},
        {"flask-zlib", "flask", NULL, true},
        {"flask-login", "flask", strong, false},
        {"starlette", "starlette", NULL, false},
        {"starlette-big", "starlette", NULL, true},
        {"django", "django", django_kv, false},
        {"django-zlib", "django", django_kv, true},
    };
    const char *only = argc > 2 ? argv[2] : NULL;
    cpu_set_t one;
    size_t i;

    if (argc > 1)
        seconds = atof(argv[1]) > 0 ? atof(argv[1]) : 1.0;
    sb_log_set_level(SB_LOG_ERROR);
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    sched_setaffinity(0, sizeof(one), &one);
    printf("one core, %.1f s per measurement\n", seconds);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (only == NULL || strcmp(only, cases[i].name) == 0)
            bench_case(&cases[i]);
    }
    return 0;
}
