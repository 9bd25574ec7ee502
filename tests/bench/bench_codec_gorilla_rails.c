/* bench_codec_gorilla_rails.c - decode+verify and encode operations per
 * second of the gorilla codec (gob signed, gob AES-256 encrypted, JSON
 * signed) and the rails codec (AES-256-GCM, 6.x envelope), on one core.
 *
 * Usage: bench_codec_gorilla_rails [SECONDS [NAME]]
 *   SECONDS per measurement (default 1); NAME runs only that line
 *   (gob, gob-aes, json, rails). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

#define BLOCK_KEY "0123456789abcdef0123456789abcdef"

static const char *const hash_key[] = {
    "bench-hash-key-0123456789abcdef0123456789abcdef", NULL};
static const char *const secret_key_base[] = {
    "bench-secret-key-base-0123456789abcdef", NULL};

static struct bench_args args;

/* A logged-in user's session: sid, subject, a name and a role. */
static void make_session(struct sb_session *s)
{
    sb_session_init(s);
    strcpy(s->sid, "0123456789abcdef0123456789abcdef");
    s->subject = strdup("42");
    s->issued_at = BENCH_NOW;
    s->data = json_pack("{s:i, s:s, s:s}", "user_id", 42, "name", "alice",
                        "role", "admin");
}

/* This table's line: name, operation, rate and cookie size. */
static void report(const char *what, const char *op, double rate,
                   size_t cookie_len)
{
    printf("%-8s %-14s %12.0f ops/s   (cookie %zu bytes)\n", what, op, rate,
           cookie_len);
    fflush(stdout);
}

/* Times decode+verify and encode of profile p, when its line runs. */
static void bench_profile_line(const char *what, struct sb_profile *p)
{
    struct sb_codec_ctx ctx = {.now = BENCH_NOW + 10};
    struct sb_session s;

    if (!bench_wanted(&args, what))
        return;
    make_session(&s);
    free(bench_codec(what, p, &ctx, &s, args.seconds, report));
    sb_session_reset(&s);
}

int main(int argc, char **argv)
{
    static const char *const kv_gob[] = {"cookie_name", "session", NULL};
    static const char *const kv_json[] = {"cookie_name", "session",
                                          "serializer", "json", NULL};
    static const char *const kv_rails[] = {"cookie_name", "_myapp_session",
                                           NULL};
    char block[] = "/tmp/sb-bench-block-XXXXXX";
    const char *kv_block[] = {"cookie_name", "session", "block_keys_file",
                              block, NULL};
    struct sb_profile gob, gob_aes, json, rails;
    int fd;

    bench_start(argc, argv, &args);
    fd = mkstemp(block);
    if (fd < 0 || write(fd, BLOCK_KEY "\n", 33) != 33)
        return 1;
    close(fd);
    fuzz_profile(&gob, "gorilla", hash_key, kv_gob);
    fuzz_profile(&gob_aes, "gorilla", hash_key, kv_block);
    fuzz_profile(&json, "gorilla", hash_key, kv_json);
    fuzz_profile(&rails, "rails", secret_key_base, kv_rails);
    unlink(block);
    bench_profile_line("gob", &gob);
    bench_profile_line("gob-aes", &gob_aes);
    bench_profile_line("json", &json);
    bench_profile_line("rails", &rails);
    sb_profile_free(&gob);
    sb_profile_free(&gob_aes);
    sb_profile_free(&json);
    sb_profile_free(&rails);
    return 0;
}
