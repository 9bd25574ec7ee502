/* test_cli_pace.c - the purge's pacing rules: --rate values, the idle
 * baseline, the schedule of a fixed rate, and the adaptive pace backing
 * off when the latency rises and growing back when it falls.  pace.c
 * belongs to the CLI binary, not to sbcore, so it is compiled in here.
 * Times are given, never measured: no clock is read. */
#include <check.h>
#include <math.h>

#include "cli/pace.c"
#include "unit_run.h"

#define IDLE 100e-6 /* an idle PING: 0.1 ms */

START_TEST(test_parse_rate)
{
    enum cli_pace_mode m = CLI_PACE_ADAPTIVE;
    double r = -1;

    ck_assert_int_eq(cli_pace_parse_rate("max", &m, &r), 0);
    ck_assert_int_eq(m, CLI_PACE_OFF);
    m = CLI_PACE_ADAPTIVE;
    ck_assert_int_eq(cli_pace_parse_rate("0", &m, &r), 0);
    ck_assert_int_eq(m, CLI_PACE_OFF);
    ck_assert_int_eq(cli_pace_parse_rate("200", &m, &r), 0);
    ck_assert_int_eq(m, CLI_PACE_RATE);
    ck_assert(r == 200);
    ck_assert_int_eq(cli_pace_parse_rate("1", &m, &r), 0);
    ck_assert(r == 1);
    ck_assert_int_eq(cli_pace_parse_rate("10000000", &m, &r), 0);
    ck_assert(r == CLI_PACE_RATE_MAX);
    m = CLI_PACE_ADAPTIVE;
    r = -1;
    static const char *const bad[] = {
        "", "-5", "+5", "1.5", "1e3", "10000001", "99999999999", "00",
        "007", "5 ", " 5", "max ", "MAX", "fast", "0x10", "inf", "nan"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(cli_pace_parse_rate(bad[i], &m, &r) == -1,
                      "'%s' accepted", bad[i]);
        ck_assert_int_eq(m, CLI_PACE_ADAPTIVE); /* nothing set */
        ck_assert(r == -1);
    }
}
END_TEST

START_TEST(test_baseline_is_the_median)
{
    double one[] = {0.5e-3};
    double odd[] = {9e-3, 1e-4, 2e-4, 1.5e-4, 30e-3}; /* two descheduled */
    double even[] = {4e-4, 1e-4, 3e-4, 2e-4};

    ck_assert(cli_pace_baseline(one, 1) == 0.5e-3);
    ck_assert(cli_pace_baseline(odd, 5) == 2e-4);
    ck_assert(fabs(cli_pace_baseline(even, 4) - 2.5e-4) < 1e-12);
}
END_TEST

/* A fixed rate: sessions are due 1/rate apart, whatever a step took. */
START_TEST(test_rate_schedule)
{
    struct cli_pace p;
    double t = 0, pause;
    unsigned long long removed = 0;
    int i;

    cli_pace_init(&p, CLI_PACE_RATE, 200, 0, CLI_PACE_CHUNK_MAX);
    ck_assert_uint_eq(p.chunk, 10); /* 200/s: 20 pipelines a second */
    /* 10 sessions in 5 ms: due at 50 ms, so pause 45 ms */
    t = 0.005;
    pause = cli_pace_after(&p, 10, 0.005, t, 0);
    ck_assert(fabs(pause - 0.045) < 1e-9);
    /* 100 steps of 10 sessions, each 5 ms of work plus the pause asked
     * for: 1000 sessions in 5 s exactly, never faster */
    t += pause;
    removed = 10;
    for (i = 0; i < 99; i++) {
        t += 0.005;
        pause = cli_pace_after(&p, 10, 0.005, t, 0);
        t += pause;
        removed += 10;
        ck_assert((double)removed / t <= 200 + 1e-6);
    }
    ck_assert(fabs(t - 5.0) < 1e-6);
    /* a read step (nothing removed) pauses nothing more */
    ck_assert(cli_pace_after(&p, 0, 0.001, t + 0.001, 0) == 0);
    ck_assert_uint_eq(p.steps, 101);
    ck_assert(fabs(p.paused - 4.5) < 1e-6);
}
END_TEST

/* After a stall the rate catches up at most CLI_PACE_CREDIT seconds. */
START_TEST(test_rate_credit_is_bounded)
{
    struct cli_pace p;
    double t = 10.0; /* 10 s stuck in the first step */
    double pause;
    unsigned long long burst = 0;

    cli_pace_init(&p, CLI_PACE_RATE, 100, 0, CLI_PACE_CHUNK_MAX);
    ck_assert_uint_eq(p.chunk, 5);
    pause = cli_pace_after(&p, 5, 10.0, t, 0);
    ck_assert(pause == 0); /* 5 sessions were due at 0.05 s */
    /* fast steps now: only ~CLI_PACE_CREDIT * rate sessions go without a
     * pause, then the rate holds again */
    for (;;) {
        t += 1e-4;
        pause = cli_pace_after(&p, 1, 1e-4, t, 0);
        if (pause > 0)
            break;
        burst++;
    }
    ck_assert_uint_le(burst, (unsigned long long)(CLI_PACE_CREDIT * 100));
}
END_TEST

START_TEST(test_rate_chunk)
{
    struct cli_pace p;

    cli_pace_init(&p, CLI_PACE_RATE, 1, 0, CLI_PACE_CHUNK_MAX);
    ck_assert_uint_eq(p.chunk, 1);
    cli_pace_init(&p, CLI_PACE_RATE, 39, 0, CLI_PACE_CHUNK_MAX);
    ck_assert_uint_eq(p.chunk, 1);
    cli_pace_init(&p, CLI_PACE_RATE, 100000, 0, CLI_PACE_CHUNK_MAX);
    ck_assert_uint_eq(p.chunk, CLI_PACE_CHUNK_MAX);
    /* a slow rate: one session a second, each pause a whole second */
    cli_pace_init(&p, CLI_PACE_RATE, 1, 0, CLI_PACE_CHUNK_MAX);
    ck_assert(fabs(cli_pace_after(&p, 1, 0.001, 0.001, 0) - 0.999) < 1e-9);
}
END_TEST

START_TEST(test_off_never_pauses)
{
    struct cli_pace p;

    cli_pace_init(&p, CLI_PACE_OFF, 0, 0, CLI_PACE_CHUNK_MAX);
    ck_assert_uint_eq(p.chunk, CLI_PACE_CHUNK_MAX);
    ck_assert(cli_pace_after(&p, 16, 5.0, 5.0, 1.0) == 0);
    ck_assert_uint_eq(p.chunk, CLI_PACE_CHUNK_MAX);
    ck_assert_uint_eq(p.backoffs, 0);
}
END_TEST

/* Idle store: the purge keeps Redis busy half the time at most. */
START_TEST(test_adaptive_share_at_idle)
{
    struct cli_pace p;
    double pause;
    int i;

    cli_pace_init(&p, CLI_PACE_ADAPTIVE, 0, IDLE, CLI_PACE_CHUNK_MAX);
    for (i = 0; i < 50; i++) {
        pause = cli_pace_after(&p, 16, 0.002, i * 0.004, IDLE * 1.1);
        ck_assert(fabs(pause - 0.002) < 1e-12); /* share 1/2 */
    }
    ck_assert_uint_eq(p.backoffs, 0);
    ck_assert_uint_eq(p.chunk, CLI_PACE_CHUNK_MAX);
    ck_assert(p.least_share == CLI_PACE_SHARE_MAX);
    /* a long step pauses at most CLI_PACE_PAUSE_MAX */
    ck_assert(cli_pace_after(&p, 16, 30.0, 30.0, IDLE) ==
              CLI_PACE_PAUSE_MAX);
}
END_TEST

/* The latency rises (another client keeps Redis busy): the share and the
 * chunk halve, once per window of probes, down to their floors; the
 * pauses grow accordingly; when it falls they grow back. */
START_TEST(test_adaptive_backs_off_and_recovers)
{
    struct cli_pace p;
    double pause = 0;
    int i;

    cli_pace_init(&p, CLI_PACE_ADAPTIVE, 0, IDLE, CLI_PACE_CHUNK_MAX);
    /* two slow probes out of the window of five: the median holds */
    cli_pace_after(&p, 16, 0.002, 0, IDLE);
    cli_pace_after(&p, 16, 0.002, 0, IDLE);
    cli_pace_after(&p, 16, 0.002, 0, IDLE);
    cli_pace_after(&p, 16, 0.002, 0, 50 * IDLE);
    cli_pace_after(&p, 16, 0.002, 0, 50 * IDLE);
    ck_assert_uint_eq(p.backoffs, 0);
    /* the third: the median is raised, back off once */
    cli_pace_after(&p, 16, 0.002, 0, 50 * IDLE);
    ck_assert_uint_eq(p.backoffs, 1);
    ck_assert(p.share == CLI_PACE_SHARE_MAX / 2);
    ck_assert_uint_eq(p.chunk, CLI_PACE_CHUNK_MAX / 2);
    /* it stays raised: another halving per window, down to the floors */
    for (i = 0; i < 40; i++)
        pause = cli_pace_after(&p, 1, 0.002, 0, 50 * IDLE);
    ck_assert(p.share == CLI_PACE_SHARE_MIN);
    ck_assert_uint_eq(p.chunk, 1);
    ck_assert(p.least_share == CLI_PACE_SHARE_MIN);
    ck_assert_uint_eq(p.least_chunk, 1);
    ck_assert_uint_ge(p.backoffs, 4);
    ck_assert_uint_le(p.backoffs, 1 + 40 / CLI_PACE_WINDOW);
    /* at 1/16 of the time, a 2 ms step is followed by 30 ms of pause */
    ck_assert(fabs(pause - 0.030) < 1e-9);
    /* the latency falls back: once the median is quiet, +1 per step */
    for (i = 0; i < 3; i++)
        cli_pace_after(&p, 1, 0.002, 0, IDLE);
    ck_assert_uint_eq(p.chunk, 2);
    for (i = 0; i < 100; i++)
        cli_pace_after(&p, 1, 0.002, 0, IDLE);
    ck_assert(p.share == CLI_PACE_SHARE_MAX);
    ck_assert_uint_eq(p.chunk, CLI_PACE_CHUNK_MAX);
    ck_assert(p.least_share == CLI_PACE_SHARE_MIN); /* remembered */
}
END_TEST

/* A rise below the noise floor (a 20 us baseline, 60 us probes) is not a
 * rise; a missing probe (0) changes nothing. */
START_TEST(test_adaptive_ignores_noise)
{
    struct cli_pace p;
    int i;

    cli_pace_init(&p, CLI_PACE_ADAPTIVE, 0, 20e-6, CLI_PACE_CHUNK_MAX);
    for (i = 0; i < 20; i++)
        cli_pace_after(&p, 16, 0.001, 0, 60e-6);
    for (i = 0; i < 20; i++)
        cli_pace_after(&p, 16, 0.001, 0, 0);
    ck_assert_uint_eq(p.backoffs, 0);
    ck_assert(p.share == CLI_PACE_SHARE_MAX);
}
END_TEST

START_TEST(test_users_per_pipeline)
{
    struct cli_pace p;

    cli_pace_init(&p, CLI_PACE_ADAPTIVE, 0, IDLE, 16);
    ck_assert_uint_eq(cli_pace_users(&p, 0), 1);   /* none seen yet */
    ck_assert_uint_eq(cli_pace_users(&p, 1), 16);
    ck_assert_uint_eq(cli_pace_users(&p, 10), 2);
    ck_assert_uint_eq(cli_pace_users(&p, 100), 1); /* never 0 */
    p.chunk = 1;
    ck_assert_uint_eq(cli_pace_users(&p, 0.5), 2);
}
END_TEST

START_TEST(test_mode_names)
{
    ck_assert_str_eq(cli_pace_mode_name(CLI_PACE_ADAPTIVE), "adaptive");
    ck_assert_str_eq(cli_pace_mode_name(CLI_PACE_RATE), "rate");
    ck_assert_str_eq(cli_pace_mode_name(CLI_PACE_OFF), "off");
}
END_TEST

static Suite *pace_suite(void)
{
    Suite *s = suite_create("cli_pace");
    TCase *tc = tcase_create("pace");

    tcase_add_test(tc, test_parse_rate);
    tcase_add_test(tc, test_baseline_is_the_median);
    tcase_add_test(tc, test_rate_schedule);
    tcase_add_test(tc, test_rate_credit_is_bounded);
    tcase_add_test(tc, test_rate_chunk);
    tcase_add_test(tc, test_off_never_pauses);
    tcase_add_test(tc, test_adaptive_share_at_idle);
    tcase_add_test(tc, test_adaptive_backs_off_and_recovers);
    tcase_add_test(tc, test_adaptive_ignores_noise);
    tcase_add_test(tc, test_users_per_pipeline);
    tcase_add_test(tc, test_mode_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(pace_suite());
}
