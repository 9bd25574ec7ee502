/* test_progress.c - the request-path half of the progress figure
 * (sessionbridge/progress.h), without Redis: how a verdict is classified
 * in the minute's counters (new credential, legacy only, refused,
 * unavailable) and counted by error code; a user holding the new
 * credential beside the deciding legacy one counts as new. */
#include <check.h>
#include <string.h>

#include "sessionbridge/progress.h"
#include "unit_run.h"

static struct sb_profile profiles[2];
static struct sb_config cfg;

static void setup(void)
{
    profiles[0].name = "legacy";
    profiles[1].name = "new";
    cfg.profiles = profiles;
    cfg.profile_count = 2;
    cfg.route_legacy = "legacy";
    cfg.route_new = "new";
}

/* An answer for subject decided by profile `used`, with `also` (may be
 * NULL) valid beside it. */
static struct sb_bridge_auth answer(char *subject, int used, int also)
{
    struct sb_bridge_auth a;

    memset(&a, 0, sizeof(a));
    a.s.subject = subject;
    a.used = &profiles[used];
    a.valid[a.nvalid++] = &profiles[used];
    if (also >= 0)
        a.valid[a.nvalid++] = &profiles[also];
    return a;
}

/* The hour's totals of a view (the minute may turn between two reads:
 * the hour's totals do not care). */
static struct sb_progress_minute totals(const struct sb_progress_view *v)
{
    struct sb_progress_minute t = {0};
    size_t i;

    for (i = 0; i < SB_PROGRESS_MINUTES; i++) {
        t.served_new += v->minutes[i].served_new;
        t.served_legacy += v->minutes[i].served_legacy;
        t.refused += v->minutes[i].refused;
        t.unavailable += v->minutes[i].unavailable;
    }
    return t;
}

START_TEST(test_minute_counters)
{
    static struct sb_progress_view v0, v;
    struct sb_bridge_auth a;
    struct sb_progress_minute t, t0;

    setup();
    sb_progress_read(&v0);
    t0 = totals(&v0);
    a = answer("ann", 0, -1);
    sb_progress_note(&cfg, &a, SB_OK);          /* legacy only */
    a = answer("bob", 1, -1);
    sb_progress_note(&cfg, &a, SB_OK);          /* new */
    a = answer("cid", 0, 1);
    sb_progress_note(&cfg, &a, SB_OK);          /* legacy decided, new held */
    a = answer("dee", 0, -1);
    sb_progress_note(&cfg, &a, SB_ERR_REVOKED); /* 401 */
    sb_progress_note(&cfg, &a, SB_ERR_STORE);   /* 503 */
    sb_progress_read(&v);
    t = totals(&v);
    ck_assert_uint_eq(t.served_new - t0.served_new, 2);
    ck_assert_uint_eq(t.served_legacy - t0.served_legacy, 1);
    ck_assert_uint_eq(t.refused - t0.refused, 1);
    ck_assert_uint_eq(t.unavailable - t0.unavailable, 1);
    ck_assert_uint_eq(v.errors[SB_OK] - v0.errors[SB_OK], 3);
    ck_assert_uint_eq(v.errors[SB_ERR_REVOKED] - v0.errors[SB_ERR_REVOKED], 1);
    ck_assert_uint_eq(v.errors[SB_ERR_STORE] - v0.errors[SB_ERR_STORE], 1);
    ck_assert(!v.counted); /* no flusher ran: nothing read from Redis */
}
END_TEST

START_TEST(test_history_is_an_hour_oldest_first)
{
    static struct sb_progress_view v;
    size_t i;

    sb_progress_read(&v);
    for (i = 1; i < SB_PROGRESS_MINUTES; i++)
        ck_assert_int_eq(v.minutes[i].minute - v.minutes[i - 1].minute, 60);
    ck_assert_int_eq(v.minutes[0].minute % 60, 0);
}
END_TEST

START_TEST(test_no_route_new_counts_legacy)
{
    static struct sb_progress_view v0, v;
    struct sb_bridge_auth a;

    setup();
    cfg.route_new = NULL;
    sb_progress_read(&v0);
    a = answer("eve", 1, -1);
    sb_progress_note(&cfg, &a, SB_OK);
    sb_progress_read(&v);
    ck_assert_uint_eq(totals(&v).served_new, totals(&v0).served_new);
    ck_assert_uint_eq(totals(&v).served_legacy - totals(&v0).served_legacy, 1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("progress");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_minute_counters);
    tcase_add_test(tc, test_history_is_an_hour_oldest_first);
    tcase_add_test(tc, test_no_route_new_counts_legacy);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
