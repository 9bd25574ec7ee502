/* test_ratelimit.c - the token bucket (with an explicit clock, so nothing
 * depends on how fast the test runs) and the cap on asymmetric JWT
 * signature checks it enforces: a forged ES256 token is bad_signature
 * while tokens last, then overloaded. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sessionbridge/codec.h"
#include "sessionbridge/config.h"
#include "sessionbridge/ratelimit.h"
#include "unit_run.h"

#define SEC 1000000000LL

START_TEST(test_bucket)
{
    struct sb_ratelimit rl;
    unsigned long refused = sb_ratelimit_refused_total();
    int i, ok = 0;

    sb_ratelimit_init(&rl, 10);
    for (i = 0; i < 25; i++)
        ok += sb_ratelimit_take_at(&rl, 100 * SEC);
    ck_assert_int_eq(ok, 10); /* one second's burst */
    ck_assert_uint_eq(sb_ratelimit_refused_total() - refused, 15);
    ck_assert(!sb_ratelimit_take_at(&rl, 100 * SEC + SEC / 20));
    ck_assert(sb_ratelimit_take_at(&rl, 100 * SEC + SEC / 10)); /* refilled */
    ck_assert(!sb_ratelimit_take_at(&rl, 100 * SEC + SEC / 10));
    ok = 0;
    for (i = 0; i < 25; i++)
        ok += sb_ratelimit_take_at(&rl, 200 * SEC);
    ck_assert_int_eq(ok, 10);
    sb_ratelimit_init(&rl, 0);
    for (i = 0; i < 1000; i++)
        ck_assert(sb_ratelimit_take_at(&rl, 0));
    ck_assert(sb_ratelimit_take_at(NULL, 0));
}
END_TEST

/* A JWT header {"alg":"ES256"}, claims {}, and 64 zero signature bytes. */
#define FORGED "eyJhbGciOiJFUzI1NiJ9.e30." \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
    "AAAAAAAAAAAAAAA"

START_TEST(test_jwt_asym_checks_are_capped)
{
    struct sb_codec_ctx ctx = {.now = 1700000000};
    struct sb_config *cfg = NULL;
    struct sb_err err = {0};
    struct sb_session s;
    char path[64];
    FILE *f;
    int i;

    strcpy(path, "/tmp/sbrlXXXXXX");
    f = fdopen(mkstemp(path), "w");
    fprintf(f, "[http]\nmax_asym_verifications_per_second = 1\n"
               "[profile.es]\nformat = jwt\nalg = ES256\ncookie_name = t\n"
               "public_key_file = %s/"
               "test-only-jwt-es256-public.pem\n", SB_VECTORS_DIR);
    fclose(f);
    ck_assert_msg(sb_config_load(path, &cfg, &err) == 0, "%s", err.msg);
    for (i = 0; i < 4; i++) {
        sb_session_init(&s);
        ck_assert_int_eq(sb_credential_decode(sb_config_profile(cfg, "es"),
                                              FORGED, strlen(FORGED), &ctx,
                                              &s, &err), -1);
        ck_assert_str_eq(sb_err_code_name(err.code),
                         i < 1 ? "bad_signature" : "overloaded");
        sb_session_reset(&s);
    }
    sb_config_unref(cfg);
    unlink(path);
}
END_TEST

static Suite *ratelimit_suite(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("bucket");

    tcase_add_test(tc, test_bucket);
    tcase_add_test(tc, test_jwt_asym_checks_are_capped);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(ratelimit_suite());
}
