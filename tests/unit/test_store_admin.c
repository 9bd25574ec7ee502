/* test_store_admin.c - the admin store helpers that need no Redis: SCAN
 * pattern escaping and telling the keys of layout v1 apart by name. */
#include <check.h>
#include <string.h>

#include "sessionbridge/store.h"
#include "sessionbridge/store_admin.h"
#include "unit_run.h"

START_TEST(test_scan_escape)
{
    char out[64];

    ck_assert_int_eq(sb_scan_escape("sb:", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "sb:");
    ck_assert_int_eq(sb_scan_escape("a*b?c[d]e\\f", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "a\\*b\\?c\\[d\\]e\\\\f");
    ck_assert_int_eq(sb_scan_escape("", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "");
    /* too small: refused, never truncated */
    ck_assert_int_eq(sb_scan_escape("abcd", out, 4), -1);
    ck_assert_int_eq(sb_scan_escape("ab*", out, 4), -1);
    ck_assert_int_eq(sb_scan_escape("ab", out, 3), 0);
    ck_assert_int_eq(sb_scan_escape("x", out, 0), -1);
}
END_TEST

/* The kind of key, by the name the store's own key builders make. */
static enum sb_admin_kind kind_of(const char *prefix, const char *key)
{
    return sb_admin_key_kind(prefix, key, strlen(key));
}

START_TEST(test_key_kinds_from_builders)
{
    static const char *prefixes[] = {"sb:", "", "app1:sessions:"};
    char tag[SB_STORE_TAG_MAX], anon[SB_STORE_TAG_MAX], k[SB_STORE_KEY_MAX];
    struct sb_err err = {0};
    size_t i;

    ck_assert_int_eq(sb_store_tag("alice@example.com", NULL, tag, sizeof(tag),
                                  &err), 0);
    ck_assert_int_eq(sb_store_tag(NULL, "sid-1", anon, sizeof(anon), &err), 0);
    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        const char *p = prefixes[i];
        ck_assert_int_eq(sb_store_key_session(p, tag, "sid-1", k, sizeof(k),
                                              &err), 0);
        ck_assert_int_eq(kind_of(p, k), SB_ADMIN_KEY_SESSION);
        ck_assert_int_eq(sb_store_key_session(p, anon, "sid-1", k, sizeof(k),
                                              &err), 0);
        ck_assert_int_eq(kind_of(p, k), SB_ADMIN_KEY_SESSION);
        ck_assert_int_eq(sb_store_key_index(p, tag, k, sizeof(k), &err), 0);
        ck_assert_int_eq(kind_of(p, k), SB_ADMIN_KEY_INDEX);
        ck_assert_int_eq(sb_store_key_revoked(p, tag, "sid-1", k, sizeof(k),
                                              &err), 0);
        ck_assert_int_eq(kind_of(p, k), SB_ADMIN_KEY_REVOKED);
        ck_assert_int_eq(sb_store_key_not_before(p, tag, k, sizeof(k), &err),
                         0);
        ck_assert_int_eq(kind_of(p, k), SB_ADMIN_KEY_NOT_BEFORE);
        ck_assert_int_eq(sb_store_key_sid(p, "sid-1", k, sizeof(k), &err), 0);
        ck_assert_int_eq(kind_of(p, k), SB_ADMIN_KEY_SID);
        ck_assert_int_eq(sb_store_key_apikey(p, "9f86d0", k, sizeof(k), &err),
                         0);
        ck_assert_int_eq(kind_of(p, k), SB_ADMIN_KEY_APIKEY);
        ck_assert_int_eq(sb_store_key_apikey_id(p, "ci", k, sizeof(k), &err),
                         0);
        ck_assert_int_eq(kind_of(p, k), SB_ADMIN_KEY_APIKEY_META);
        ck_assert_int_eq(sb_store_key_apikeys(p, k, sizeof(k), &err), 0);
        ck_assert_int_eq(kind_of(p, k), SB_ADMIN_KEY_APIKEY_META);
        ck_assert_int_eq(sb_store_key_layout(p, k, sizeof(k), &err), 0);
        ck_assert_int_eq(kind_of(p, k), SB_ADMIN_KEY_LAYOUT);
    }
}
END_TEST

START_TEST(test_key_kinds_other)
{
    /* not under the prefix, or not a shape of the layout */
    ck_assert_int_eq(kind_of("sb:", "other:{u:a}:sess:x"), SB_ADMIN_KEY_OTHER);
    ck_assert_int_eq(kind_of("sb:", "sess:abc"), SB_ADMIN_KEY_OTHER);
    ck_assert_int_eq(kind_of("sb:", "sb:"), SB_ADMIN_KEY_OTHER);
    ck_assert_int_eq(kind_of("sb:", "sb:{u:a}"), SB_ADMIN_KEY_OTHER);
    ck_assert_int_eq(kind_of("sb:", "sb:{u:a}:idx2"), SB_ADMIN_KEY_OTHER);
    ck_assert_int_eq(kind_of("sb:", "sb:{u:a}:sess:"), SB_ADMIN_KEY_OTHER);
    ck_assert_int_eq(kind_of("sb:", "sb:{u:a:sess:x"), SB_ADMIN_KEY_OTHER);
    ck_assert_int_eq(kind_of("sb:", "sb:layouts"), SB_ADMIN_KEY_OTHER);
    ck_assert_int_eq(kind_of("sb:", "sb:sid:"), SB_ADMIN_KEY_OTHER);
    ck_assert_int_eq(kind_of("sb:", "sb:{u:a}:nbfx"), SB_ADMIN_KEY_OTHER);
    /* a subject with a colon stays inside its braces */
    ck_assert_int_eq(kind_of("sb:", "sb:{u:a%3Ab}:rev:x"), SB_ADMIN_KEY_REVOKED);
}
END_TEST

static Suite *store_admin_suite(void)
{
    Suite *s = suite_create("store_admin");
    TCase *tc = tcase_create("names");

    tcase_add_test(tc, test_scan_escape);
    tcase_add_test(tc, test_key_kinds_from_builders);
    tcase_add_test(tc, test_key_kinds_other);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(store_admin_suite());
}
