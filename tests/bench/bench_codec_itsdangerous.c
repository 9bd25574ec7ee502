/* bench_codec_itsdangerous.c - decode+verify and encode operations per
 * second of the flask, starlette and django codecs on one core, for a
 * small logged-in session and for one large enough to be compressed.
 *
 * Usage: bench_codec_itsdangerous [SECONDS [NAME]]
 *   SECONDS per measurement (default 1); NAME runs only that line
 *   (flask, flask-zlib, flask-login, starlette, starlette-big, django,
 *   django-zlib). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define SECRET "bench-secret-0123456789abcdef0123456789"

static const char *const secrets[] = {SECRET, NULL};

/* One line of the table. */
struct bench_case {
    const char *name;
    const char *format;
    const char *const *kv; /* codec options */
    bool big;              /* 40-entry history: compressed where the
                              format compresses */
};

static struct bench_args args;

/* bench_session(), and with `big` a 40-entry page history (about 600
 * bytes of JSON). */
static void make_session(struct sb_session *s, bool big)
{
    json_t *hist;
    char page[32];
    int i;

    bench_session(s);
    if (big) {
        hist = json_array();
        for (i = 0; i < 40; i++) {
            snprintf(page, sizeof(page), "/page/%d", i);
            json_array_append_new(hist, json_string(page));
        }
        json_object_set_new(s->data, "history", hist);
    }
}

/* This table's line: name, operation, rate and cookie size. */
static void report(const char *what, const char *op, double rate,
                   size_t cookie_len)
{
    printf("%-14s %-14s %12.0f ops/s   (%zu-byte cookie)\n", what, op, rate,
           cookie_len);
    fflush(stdout);
}

/* Times decode+verify (the full sb_credential_decode path) and encode of
 * case c. */
static void bench_case(const struct bench_case *c)
{
    struct sb_codec_ctx ctx = {.now = BENCH_NOW + 10,
                               .client_addr = "203.0.113.7",
                               .user_agent = "Mozilla/5.0 (bench)"};
    struct sb_profile p;
    struct sb_session s;

    fuzz_profile(&p, c->format, secrets, c->kv);
    make_session(&s, c->big);
    free(bench_codec(c->name, &p, &ctx, &s, args.seconds, report));
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
    size_t i;

    bench_start(argc, argv, &args);
    printf("one core, %.1f s per measurement\n", args.seconds);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (bench_wanted(&args, cases[i].name))
            bench_case(&cases[i]);
    }
    return 0;
}
