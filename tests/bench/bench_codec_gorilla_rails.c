/* bench_codec_gorilla_rails.c - decode+verify and encode operations per
 * second of the gorilla codec (gob signed, gob AES-256 encrypted, JSON
 * signed) and the rails codec (AES-256-GCM, 6.x envelope), on one core.
 *
 * Usage: bench_codec_gorilla_rails [SECONDS [NAME]]
 *   SECONDS per measurement (default 1); NAME runs only that line
 *   (gob, gob-aes, json, rails). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sessionbridge/codec.h"
#include "sessionbridge/profile.h"

#define NOW 1793491200
#define HASH_KEY "bench-hash-key-0123456789abcdef0123456789abcdef"
#define BLOCK_KEY "0123456789abcdef0123456789abcdef"

static double seconds = 1.0;
static const char *only; /* NULL = every line */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A prepared profile, as config.c builds one; exits on failure. */
static void make_profile(struct sb_profile *p, const char *format,
                         const char *cookie, const char *serializer,
                         const char *const *kv)
{
    struct sb_err err = {0};
    const char *secret = strcmp(format, "rails") == 0
                             ? "bench-secret-key-base-0123456789abcdef"
                             : HASH_KEY;
    size_t i;

    memset(p, 0, sizeof(*p));
    p->cookie.httponly = true;
    p->cookie.max_age = -2;
    p->name = strdup("bench");
    p->codec = sb_codec_find(format);
    p->sid_field = strdup("_sb_sid");
    p->cookie.path = strdup("/");
    p->cookie.name = strdup(cookie);
    if (serializer != NULL)
        p->serializer = strdup(serializer);
    sb_secrets_append(&p->secrets, secret, strlen(secret), &err);
    for (i = 0; kv != NULL && kv[i] != NULL; i += 2) {
        if (p->codec->configure(p, kv[i], kv[i + 1], &err) != 0)
            goto fail;
    }
    if (p->codec->prepare(p, &err) == 0)
        return;
fail:
    fprintf(stderr, "profile %s: %s\n", format, err.msg);
    exit(1);
}

/* A logged-in user's session: sid, subject, a name and a role. */
static void make_session(struct sb_session *s)
{
    sb_session_init(s);
    strcpy(s->sid, "0123456789abcdef0123456789abcdef");
    s->subject = strdup("42");
    s->issued_at = NOW;
    s->data = json_pack("{s:i, s:s, s:s}", "user_id", 42, "name", "alice",
                        "role", "admin");
}

static void report(const char *what, const char *op, long n, double dt,
                   size_t bytes)
{
    printf("%-8s %-14s %12.0f ops/s   (cookie %zu bytes)\n", what, op,
           n / dt, bytes);
    fflush(stdout);
}

/* Encodes once, then times decode+verify and encode of profile p. */
static void bench_profile(const char *what, struct sb_profile *p)
{
    struct sb_codec_ctx ctx = {.now = NOW + 10};
    struct sb_session s, out;
    struct sb_err err = {0};
    char *tok = NULL, *again;
    double t0, dt;
    long n = 0, i;

    if (only != NULL && strcmp(only, what) != 0)
        return;
    make_session(&s);
    if (sb_credential_encode(p, &s, &ctx, &tok, &err) != 0) {
        fprintf(stderr, "%s: encode: %s\n", what, err.msg);
        exit(1);
    }
    t0 = now_s();
    do {
        for (i = 0; i < 64; i++, n++) {
            sb_session_init(&out);
            if (sb_credential_decode(p, tok, strlen(tok), &ctx, &out,
                                     &err) != 0) {
                fprintf(stderr, "%s: decode: %s\n", what, err.msg);
                exit(1);
            }
            sb_session_reset(&out);
        }
    } while ((dt = now_s() - t0) < seconds);
    report(what, "decode+verify", n, dt, strlen(tok));
    n = 0;
    t0 = now_s();
    do {
        for (i = 0; i < 64; i++, n++) {
            if (sb_credential_encode(p, &s, &ctx, &again, &err) != 0)
                exit(1);
            free(again);
        }
    } while ((dt = now_s() - t0) < seconds);
    report(what, "encode", n, dt, strlen(tok));
    free(tok);
    sb_session_reset(&s);
}

int main(int argc, char **argv)
{
    char block[] = "/tmp/sb-bench-block-XXXXXX";
    const char *kv_block[] = {"block_keys_file", block, NULL};
    struct sb_profile gob, gob_aes, json, rails;
    int fd;

    if (argc > 1)
        seconds = atof(argv[1]);
    if (argc > 2)
        only = argv[2];
    fd = mkstemp(block);
    if (fd < 0 || write(fd, BLOCK_KEY "\n", 33) != 33)
        return 1;
    close(fd);
    make_profile(&gob, "gorilla", "session", NULL, NULL);
    make_profile(&gob_aes, "gorilla", "session", NULL, kv_block);
    make_profile(&json, "gorilla", "session", "json", NULL);
    make_profile(&rails, "rails", "_myapp_session", NULL, NULL);
    unlink(block);
    bench_profile("gob", &gob);
    bench_profile("gob-aes", &gob_aes);
    bench_profile("json", &json);
    bench_profile("rails", &rails);
    sb_profile_free(&gob);
    sb_profile_free(&gob_aes);
    sb_profile_free(&json);
    sb_profile_free(&rails);
    return 0;
}
