/* test_store_layout.c - key names of Redis layout v1 (layout.c): owner
 * tags, the subject escape the reader examples copy, prefix checks,
 * lifetimes; and the API's protobuf <-> JSON converter (wire.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "http/api.h"
#include "sessionbridge/store.h"
#include "unit_run.h"

START_TEST(test_escape)
{
    char b[SB_STORE_TAG_MAX];
    struct sb_err err = {0};

    ck_assert_int_eq(sb_store_escape_subject("alice@example.com", b,
                                             sizeof(b), &err), 0);
    ck_assert_str_eq(b, "alice@example.com");
    ck_assert_int_eq(sb_store_escape_subject("a:b{c}%", b, sizeof(b), &err),
                     0);
    ck_assert_str_eq(b, "a%3Ab%7Bc%7D%25");
    ck_assert_int_eq(sb_store_escape_subject("x y/+=~_-.", b, sizeof(b),
                                             &err), 0);
    ck_assert_str_eq(b, "x%20y%2F+=~_-.");
    ck_assert_int_eq(sb_store_escape_subject("Zo\xc3\xab\r\n", b, sizeof(b),
                                             &err), 0);
    ck_assert_str_eq(b, "Zo%C3%AB%0D%0A");
    ck_assert_int_eq(sb_store_escape_subject("", b, sizeof(b), &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_INVALID_REQUEST);
}
END_TEST

START_TEST(test_escape_limits)
{
    char subject[SB_SUBJECT_MAX + 2], b[SB_STORE_TAG_MAX], small[8];
    struct sb_err err = {0};

    memset(subject, '{', SB_SUBJECT_MAX);
    subject[SB_SUBJECT_MAX] = '\0';
    ck_assert_int_eq(sb_store_tag(subject, NULL, b, sizeof(b), &err), 0);
    ck_assert_uint_eq(strlen(b), 2 + 3 * SB_SUBJECT_MAX);
    subject[SB_SUBJECT_MAX] = 'x';
    subject[SB_SUBJECT_MAX + 1] = '\0';
    ck_assert_int_eq(sb_store_tag(subject, NULL, b, sizeof(b), &err), -1);
    ck_assert_int_eq(sb_store_escape_subject("abcdefgh", small, sizeof(small),
                                             &err), -1);
}
END_TEST

START_TEST(test_tags_and_keys)
{
    char tag[SB_STORE_TAG_MAX], k[SB_STORE_KEY_MAX];
    struct sb_err err = {0};

    ck_assert_int_eq(sb_store_tag("42", "s1", tag, sizeof(tag), &err), 0);
    ck_assert_str_eq(tag, "u:42");
    ck_assert_int_eq(sb_store_tag(NULL, "s1", tag, sizeof(tag), &err), 0);
    ck_assert_str_eq(tag, "s:s1");
    ck_assert_int_eq(sb_store_tag(NULL, "bad sid", tag, sizeof(tag), &err),
                     -1);
    sb_store_key_session("sb:", "u:42", "s1", k, sizeof(k), &err);
    ck_assert_str_eq(k, "sb:{u:42}:sess:s1");
    sb_store_key_index("sb:", "u:42", k, sizeof(k), &err);
    ck_assert_str_eq(k, "sb:{u:42}:idx");
    sb_store_key_revoked("sb:", "u:42", "s1", k, sizeof(k), &err);
    ck_assert_str_eq(k, "sb:{u:42}:rev:s1");
    sb_store_key_not_before("app1:", "u:42", k, sizeof(k), &err);
    ck_assert_str_eq(k, "app1:{u:42}:nbf");
    sb_store_key_sid("sb:", "s1", k, sizeof(k), &err);
    ck_assert_str_eq(k, "sb:sid:s1");
    sb_store_key_layout("sb:", k, sizeof(k), &err);
    ck_assert_str_eq(k, "sb:layout");
    sb_store_key_apikey("sb:", "ab12", k, sizeof(k), &err);
    ck_assert_str_eq(k, "sb:{k}:apikey:ab12");
    sb_store_key_apikey_id("sb:", "ci", k, sizeof(k), &err);
    ck_assert_str_eq(k, "sb:{k}:apikey-id:ci");
    sb_store_key_apikeys("", k, sizeof(k), &err);
    ck_assert_str_eq(k, "{k}:apikeys");
}
END_TEST

START_TEST(test_prefix_checked)
{
    char k[SB_STORE_KEY_MAX], longp[SB_STORE_PREFIX_MAX + 2];
    struct sb_err err = {0};

    ck_assert_int_eq(sb_store_key_index("a{b", "u:1", k, sizeof(k), &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_CONFIG);
    memset(longp, 'p', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    ck_assert_int_eq(sb_store_key_index(longp, "u:1", k, sizeof(k), &err), -1);
    ck_assert_int_eq(sb_store_key_index("sb:", "u:1", k, 8, &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_INVALID_REQUEST);
}
END_TEST

START_TEST(test_max_lifetime)
{
    struct sb_profile p[2];
    struct sb_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    memset(p, 0, sizeof(p));
    ck_assert_int_eq(sb_store_max_lifetime(&cfg), SB_STORE_UNBOUNDED_TTL);
    cfg.profiles = p;
    cfg.profile_count = 2;
    p[0].max_age = 3600;
    p[1].max_age = 86400;
    ck_assert_int_eq(sb_store_max_lifetime(&cfg), 86400);
    p[1].max_age = 0;
    ck_assert_int_eq(sb_store_max_lifetime(&cfg), SB_STORE_UNBOUNDED_TTL);
}
END_TEST

/* JSON -> protobuf -> JSON gives back the message's fields, with a map,
 * a nested message, a repeated string and a _json field. */
START_TEST(test_wire_round_trip)
{
    const char *in =
        "{\"session\":{\"sid\":\"s1\",\"subject\":\"42\",\"issued_at\":5,"
        "\"data\":{\"a\":[1,\"x\"],\"n\":12345678901234567}},"
        "\"credentials\":{\"legacy\":{\"token\":\"t1\",\"set_cookie\":\"c\"},"
        "\"new\":{\"token\":\"t2\"}},\"ignored\":true}";
    json_t *j = json_loads(in, 0, NULL), *back;
    struct sb_err err = {0};
    uint8_t *bin = NULL;
    size_t len = 0;
    char *text;

    ck_assert_int_eq(sb_wire_pack(j, &sessionbridge__v1__create_session_response__descriptor,
                                  &bin, &len, &err), 0);
    back = sb_wire_unpack(bin, len,
                          &sessionbridge__v1__create_session_response__descriptor,
                          &err);
    ck_assert_ptr_nonnull(back);
    text = json_dumps(back, JSON_COMPACT | JSON_SORT_KEYS);
    ck_assert_str_eq(text,
                     "{\"credentials\":{\"legacy\":{\"set_cookie\":\"c\","
                     "\"token\":\"t1\"},\"new\":{\"token\":\"t2\"}},"
                     "\"session\":{\"data\":{\"a\":[1,\"x\"],"
                     "\"n\":12345678901234567},\"issued_at\":5,\"sid\":\"s1\","
                     "\"subject\":\"42\"}}");
    free(text);
    free(bin);
    json_decref(back);
    json_decref(j);
}
END_TEST

START_TEST(test_wire_types)
{
    json_t *j = json_pack("{s:i}", "token", 5);
    struct sb_err err = {0};
    uint8_t *bin = NULL;
    size_t len = 0;
    const uint8_t junk[] = {0xff, 0xff, 0xff};

    ck_assert_int_eq(sb_wire_pack(j, &sessionbridge__v1__validate_request__descriptor,
                                  &bin, &len, &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_INVALID_REQUEST);
    ck_assert_str_eq(err.msg, "field 'token' must be a string");
    json_decref(j);
    j = json_pack("{s:[s,i]}", "scopes", "a", 1);
    ck_assert_int_eq(sb_wire_pack(j, &sessionbridge__v1__api_key_validate_response__descriptor,
                                  &bin, &len, &err), -1);
    json_decref(j);
    ck_assert_ptr_null(sb_wire_unpack(junk, sizeof(junk),
                                      &sessionbridge__v1__validate_request__descriptor,
                                      &err));
}
END_TEST

static Suite *store_layout_suite(void)
{
    Suite *s = suite_create("store_layout");
    TCase *tc = tcase_create("layout");

    tcase_add_test(tc, test_escape);
    tcase_add_test(tc, test_escape_limits);
    tcase_add_test(tc, test_tags_and_keys);
    tcase_add_test(tc, test_prefix_checked);
    tcase_add_test(tc, test_max_lifetime);
    tcase_add_test(tc, test_wire_round_trip);
    tcase_add_test(tc, test_wire_types);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(store_layout_suite());
}
