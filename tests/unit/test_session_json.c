/* test_session_json.c - the canonical session's JSON form owns exactly
 * what it allocates: every jansson allocation made by sb_session_to_json
 * is freed with the result (counted through json_set_alloc_funcs, so the
 * check fails in a plain build too, not only under LeakSanitizer). */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>

#include "sessionbridge/session.h"
#include "unit_run.h"

static long live_blocks;

static void *counting_malloc(size_t n)
{
    void *p = malloc(n);

    if (p != NULL)
        live_blocks++;
    return p;
}

static void counting_free(void *p)
{
    if (p != NULL)
        live_blocks--;
    free(p);
}

/* A session without data used to hand a fresh {} to json_pack's "O",
 * which took a second reference: the object outlived the result. */
START_TEST(test_to_json_without_data_frees_all)
{
    struct sb_session s;
    json_t *doc;

    json_set_alloc_funcs(counting_malloc, counting_free);
    sb_session_init(&s);
    ck_assert_int_eq(sb_session_set_sid(&s, "abc", NULL), 0);
    live_blocks = 0;
    doc = sb_session_to_json(&s);
    ck_assert_ptr_nonnull(doc);
    ck_assert(json_is_object(json_object_get(doc, "data")));
    json_decref(doc);
    ck_assert_int_eq(live_blocks, 0);
    sb_session_reset(&s);
}
END_TEST

/* With data the result shares it: one reference more while the result
 * lives, none after. */
START_TEST(test_to_json_with_data_shares_it)
{
    struct sb_session s;
    json_t *doc;

    sb_session_init(&s);
    ck_assert_int_eq(sb_session_set_sid(&s, "abc", NULL), 0);
    s.data = json_pack("{s:i}", "n", 1);
    doc = sb_session_to_json(&s);
    ck_assert_ptr_eq(json_object_get(doc, "data"), s.data);
    ck_assert_int_eq((int)s.data->refcount, 2);
    json_decref(doc);
    ck_assert_int_eq((int)s.data->refcount, 1);
    sb_session_reset(&s);
}
END_TEST

static Suite *session_json_suite(void)
{
    Suite *s = suite_create("session_json");
    TCase *tc = tcase_create("to_json");

    tcase_add_test(tc, test_to_json_without_data_frees_all);
    tcase_add_test(tc, test_to_json_with_data_shares_it);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(session_json_suite());
}
