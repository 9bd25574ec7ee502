/* bench_shadow.c - what [route] shadow = on adds to a request the legacy
 * credential authenticated: one sb_bridge_shadow call (encode for the new
 * profile as a mint would, decode back, compare), next to the legacy
 * decode+verify that a request without a cache hit pays anyway, on one
 * core.  The pair is the e2e test's: Flask (legacy) and gorilla gob, with
 * and without AES (new).
 *
 * Usage: bench_shadow [SECONDS [NAME]]
 *   SECONDS per measurement (default 1); NAME runs only that line
 *   (gob, gob-aes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "sessionbridge/bridge.h"
#include "sessionbridge/config.h"

#define BLOCK_KEY "0123456789abcdef0123456789abcdef"

static const char *const flask_key[] = {
    "bench-flask-secret-0123456789abcdef0123456789abcdef", NULL};
static const char *const hash_key[] = {
    "bench-hash-key-0123456789abcdef0123456789abcdef", NULL};

static struct bench_args args;

/* One timed shadow check of the legacy session in a config. */
struct shadow_case {
    const struct sb_config *cfg;
    const struct sb_session *s;
    const struct sb_codec_ctx *ctx;
};

static int shadow_op(void *arg)
{
    const struct shadow_case *c = arg;
    char fields[256];
    enum sb_bridge_shadow v = sb_bridge_shadow(c->cfg, &c->cfg->profiles[1],
                                               c->s, c->ctx, fields,
                                               sizeof(fields));

    if (v != SB_SHADOW_AGREE) {
        fprintf(stderr, "shadow: %s (%s), expected agree\n",
                sb_bridge_shadow_name(v), fields);
        return -1;
    }
    return 0;
}

/* Renames profile p and sets where it keeps the subject. */
static void name_profile(struct sb_profile *p, const char *name,
                         const char *subject_field)
{
    free(p->name);
    p->name = strdup(name);
    p->subject_field = strdup(subject_field);
}

/* Times the legacy decode and the shadow check with `fresh` as the new
 * profile, when the line runs. */
static void bench_line(const char *what, struct sb_profile *legacy,
                       struct sb_profile *fresh)
{
    struct sb_profile pair[2];
    struct sb_config cfg = {0};
    struct sb_codec_ctx ctx = {.now = BENCH_NOW + 10};
    struct sb_session s, legacy_s;
    struct shadow_case c = {&cfg, &legacy_s, &ctx};
    struct bench_codec dec = {what, legacy, &ctx, NULL, NULL};
    struct sb_err err = {0};
    char *tok = NULL;
    double decode_rate, shadow_rate;

    if (!bench_wanted(&args, what))
        return;
    pair[0] = *legacy;
    pair[1] = *fresh;
    cfg.profiles = pair;
    cfg.profile_count = 2;
    cfg.route_legacy = legacy->name;
    cfg.route_new = fresh->name;
    bench_session(&s);
    sb_session_init(&legacy_s);
    if (sb_credential_encode(legacy, &s, &ctx, &tok, &err) != 0 ||
        sb_credential_decode(legacy, tok, strlen(tok), &ctx, &legacy_s,
                             &err) != 0) {
        fprintf(stderr, "%s: legacy cookie: %s\n", what, err.msg);
        exit(1);
    }
    dec.s = &s;
    dec.tok = tok;
    decode_rate = bench_rate(args.seconds, 64, bench_decode_op, &dec);
    shadow_rate = bench_rate(args.seconds, 16, shadow_op, &c);
    if (decode_rate < 0 || shadow_rate < 0)
        exit(1);
    printf("%-8s legacy decode+verify %9.0f ops/s %6.2f us   shadow check "
           "%9.0f ops/s %6.2f us\n",
           what, decode_rate, 1e6 / decode_rate, shadow_rate,
           1e6 / shadow_rate);
    fflush(stdout);
    free(tok);
    sb_session_reset(&s);
    sb_session_reset(&legacy_s);
}

int main(int argc, char **argv)
{
    static const char *const kv_flask[] = {"cookie_name", "session", NULL};
    static const char *const kv_gob[] = {"cookie_name", "gsession", NULL};
    char block[] = "/tmp/sb-bench-block-XXXXXX";
    const char *kv_block[] = {"cookie_name", "gsession", "block_keys_file",
                              block, NULL};
    struct sb_profile legacy, gob, gob_aes;
    int fd;

    bench_start(argc, argv, &args);
    fd = mkstemp(block);
    if (fd < 0 || write(fd, BLOCK_KEY "\n", 33) != 33)
        return 1;
    close(fd);
    fuzz_profile(&legacy, "flask", flask_key, kv_flask);
    fuzz_profile(&gob, "gorilla", hash_key, kv_gob);
    fuzz_profile(&gob_aes, "gorilla", hash_key, kv_block);
    unlink(block);
    name_profile(&legacy, "legacy", "_user_id");
    name_profile(&gob, "new", "user_id");
    name_profile(&gob_aes, "new", "user_id");
    bench_line("gob", &legacy, &gob);
    bench_line("gob-aes", &legacy, &gob_aes);
    sb_profile_free(&legacy);
    sb_profile_free(&gob);
    sb_profile_free(&gob_aes);
    return 0;
}
