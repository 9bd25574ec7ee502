/* test_cli_progress.c - the CLI's progress bar rendering: layout, widths,
 * estimates, colour.  progress.c belongs to the CLI binary, not to sbcore,
 * so it is compiled into this test directly. */
#include <check.h>
#include <string.h>

#include "cli/progress.c"
#include "unit_run.h"

/* Visible columns of s: every byte except ANSI escape sequences. */
static size_t visible(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        if (*s == '\033') {
            while (*s && *s != 'm')
                s++;
            if (!*s)
                break;
            continue;
        }
        n++;
    }
    return n;
}

static const struct cli_progress half = {
    "purging", 500000, 1000000, 250000, "sessions", 10.0, false};

START_TEST(test_thousands)
{
    char b[32];

    ck_assert_str_eq(cli_progress_thousands(0, b, sizeof(b)), "0");
    ck_assert_str_eq(cli_progress_thousands(999, b, sizeof(b)), "999");
    ck_assert_str_eq(cli_progress_thousands(1000, b, sizeof(b)), "1,000");
    ck_assert_str_eq(cli_progress_thousands(1234567, b, sizeof(b)),
                     "1,234,567");
    ck_assert_str_eq(cli_progress_thousands(100000, b, sizeof(b)), "100,000");
    ck_assert_str_eq(cli_progress_thousands(18446744073709551615ull, b,
                                            sizeof(b)),
                     "18,446,744,073,709,551,615");
    /* truncated, still terminated */
    ck_assert_str_eq(cli_progress_thousands(1234567, b, 4), "1,2");
}
END_TEST

START_TEST(test_full_line)
{
    char b[256];
    size_t n = cli_progress_render(&half, 100, false, b, sizeof(b));

    /* 40-column bar (the maximum), half full, head at column 20 */
    ck_assert_str_eq(b, "purging [====================>                   ]"
                        "  50% 250,000 sessions 25,000/s ETA 0:10");
    ck_assert_uint_eq(n, strlen(b));
    ck_assert_uint_le(visible(b), 100);
}
END_TEST

START_TEST(test_narrowing)
{
    char b[256];
    unsigned w;

    /* every width fits, and a line is never wider than the terminal */
    for (w = 0; w <= 120; w++) {
        cli_progress_render(&half, w, false, b, sizeof(b));
        ck_assert_msg(visible(b) <= w, "width %u: '%s'", w, b);
    }
    /* 60 columns: everything, with the narrowest bar */
    cli_progress_render(&half, 60, false, b, sizeof(b));
    ck_assert_str_eq(b, "purging [=====>    ]  50% 250,000 sessions "
                        "25,000/s ETA 0:10");
    /* 59: the ETA goes rather than the bar getting narrower than 10 */
    cli_progress_render(&half, 59, false, b, sizeof(b));
    ck_assert_str_eq(b, "purging [=========>        ]  50% 250,000 sessions "
                        "25,000/s");
    /* 45: the rate goes too, the bar stays */
    cli_progress_render(&half, 45, false, b, sizeof(b));
    ck_assert_str_eq(b, "purging [======>      ]  50% 250,000 sessions");
    /* 40: no room for a bar of 10; label, percentage and count remain */
    cli_progress_render(&half, 40, false, b, sizeof(b));
    ck_assert_str_eq(b, "purging  50% 250,000 sessions");
    /* 12: cut */
    cli_progress_render(&half, 12, false, b, sizeof(b));
    ck_assert_str_eq(b, "purging  50%");
}
END_TEST

START_TEST(test_unknown_total)
{
    struct cli_progress p = {"scanning", 0, 0, 1234, "keys", 2.0, false};
    char b[256];

    cli_progress_render(&p, 80, false, b, sizeof(b));
    ck_assert_str_eq(b, "scanning 1,234 keys 617/s");
    /* no time yet: no rate (and no division by zero) */
    p.elapsed = 0;
    cli_progress_render(&p, 80, false, b, sizeof(b));
    ck_assert_str_eq(b, "scanning 1,234 keys");
}
END_TEST

START_TEST(test_estimates)
{
    struct cli_progress p = half;
    char b[256];

    /* past the estimate: 99%, the bar not quite full, no ETA */
    p.done = 1200000;
    cli_progress_render(&p, 70, false, b, sizeof(b));
    ck_assert_str_eq(b, "purging [============================>]  99% "
                        "250,000 sessions 25,000/s");
    /* finished: 100%, full */
    p.finished = true;
    cli_progress_render(&p, 70, false, b, sizeof(b));
    ck_assert_str_eq(b, "purging [=============================] 100% "
                        "250,000 sessions 25,000/s");
    /* nothing done yet: empty bar, head at the start, no ETA */
    p = half;
    p.done = 0;
    p.count = 0;
    cli_progress_render(&p, 60, false, b, sizeof(b));
    ck_assert_str_eq(b, "purging [>                             ]   0% "
                        "0 sessions 0/s");
    /* an ETA above an hour */
    p = half;
    p.done = 1;
    cli_progress_render(&p, 120, false, b, sizeof(b));
    ck_assert_ptr_nonnull(strstr(b, "ETA 2777:46:30"));
}
END_TEST

START_TEST(test_color)
{
    char b[256], plain[256];

    cli_progress_render(&half, 100, true, b, sizeof(b));
    cli_progress_render(&half, 100, false, plain, sizeof(plain));
    ck_assert_ptr_nonnull(strstr(b, "\033[32m="));
    ck_assert_ptr_nonnull(strstr(b, "\033[1m250,000 sessions\033[0m"));
    /* escapes take no columns: the same layout as without colour */
    ck_assert_uint_eq(visible(b), strlen(plain));
    /* a cut line closes its colour */
    cli_progress_render(&half, 30, true, b, sizeof(b));
    ck_assert_uint_le(visible(b), 30);
    ck_assert_str_eq(b + strlen(b) - 4, "\033[0m");
}
END_TEST

START_TEST(test_small_buffer)
{
    char b[16];
    size_t n = cli_progress_render(&half, 100, true, b, sizeof(b));

    ck_assert_uint_lt(n, sizeof(b));
    ck_assert_uint_eq(strlen(b), n);
    ck_assert_uint_eq(cli_progress_render(&half, 100, false, b, 0), 0);
}
END_TEST

START_TEST(test_scan_position)
{
    /* table of 8 buckets: the cursor visits 0 4 2 6 1 5 3 7, i.e. the
     * reversed 3-bit counter; positions grow by 1/8 each step */
    static const char *order[] = {"0", "4", "2", "6", "1", "5", "3", "7"};
    unsigned long long last = 0;
    int i;

    for (i = 0; i < 8; i++) {
        unsigned long long pos = cli_scan_position(order[i], false);
        ck_assert_uint_eq(pos, (unsigned long long)i * (CLI_SCAN_SPAN / 8));
        ck_assert(i == 0 || pos > last);
        last = pos;
    }
    ck_assert_uint_eq(cli_scan_position("0", true), CLI_SCAN_SPAN);
    /* a 2^20-bucket table: cursor 1 (reversed: the middle) is half way */
    ck_assert_uint_eq(cli_scan_position("524288", false), 1);
    ck_assert_uint_eq(cli_scan_position("1", false), CLI_SCAN_SPAN / 2);
    ck_assert_uint_eq(cli_scan_position("garbage", false), 0);
}
END_TEST

static Suite *progress_suite(void)
{
    Suite *s = suite_create("cli_progress");
    TCase *tc = tcase_create("render");

    tcase_add_test(tc, test_thousands);
    tcase_add_test(tc, test_full_line);
    tcase_add_test(tc, test_narrowing);
    tcase_add_test(tc, test_unknown_total);
    tcase_add_test(tc, test_estimates);
    tcase_add_test(tc, test_color);
    tcase_add_test(tc, test_small_buffer);
    tcase_add_test(tc, test_scan_position);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(progress_suite());
}
