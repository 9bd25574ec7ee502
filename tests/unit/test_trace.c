/* test_trace.c - request ids and W3C traceparent trace ids
 * (sessionbridge/trace.h): what is passed through, what is replaced. */
#include <check.h>
#include <string.h>

#include "sessionbridge/trace.h"
#include "unit_run.h"

START_TEST(test_request_id_sane)
{
    char max[SB_REQUEST_ID_MAX + 2];

    ck_assert(sb_request_id_sane("req-1"));
    ck_assert(sb_request_id_sane("f47ac10b-58cc-4372-a567-0e02b2c3d479"));
    ck_assert(sb_request_id_sane("host/42:a.b_c@d+e="));
    ck_assert(!sb_request_id_sane(NULL));
    ck_assert(!sb_request_id_sane(""));
    ck_assert(!sb_request_id_sane("has space"));
    ck_assert(!sb_request_id_sane("quote\"d"));
    ck_assert(!sb_request_id_sane("new\nline"));
    ck_assert(!sb_request_id_sane("caf\xc3\xa9"));
    memset(max, 'a', SB_REQUEST_ID_MAX);
    max[SB_REQUEST_ID_MAX] = '\0';
    ck_assert(sb_request_id_sane(max));
    max[SB_REQUEST_ID_MAX] = 'a';
    max[SB_REQUEST_ID_MAX + 1] = '\0';
    ck_assert(!sb_request_id_sane(max));
}
END_TEST

START_TEST(test_request_id_new)
{
    char a[SB_REQUEST_ID_MAX + 1], b[SB_REQUEST_ID_MAX + 1];

    sb_request_id_new(a);
    sb_request_id_new(b);
    ck_assert_uint_eq(strlen(a), 32);
    ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 32);
    ck_assert(sb_request_id_sane(a));
    ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(test_traceparent)
{
    char id[SB_TRACE_ID_HEX + 1];

    ck_assert(sb_traceparent_trace_id(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", id));
    ck_assert_str_eq(id, "4bf92f3577b34da6a3ce929d0e0e4736");
    /* a later version may append fields */
    ck_assert(sb_traceparent_trace_id(
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz", id));
    /* refused: version 00 with more, version ff, zero ids, upper case,
     * wrong separators or lengths, absent */
    ck_assert(!sb_traceparent_trace_id(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz", id));
    ck_assert_str_eq(id, "");
    ck_assert(!sb_traceparent_trace_id(
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", id));
    ck_assert(!sb_traceparent_trace_id(
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", id));
    ck_assert(!sb_traceparent_trace_id(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", id));
    ck_assert(!sb_traceparent_trace_id(
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", id));
    ck_assert(!sb_traceparent_trace_id(
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", id));
    ck_assert(!sb_traceparent_trace_id(
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", id));
    ck_assert(!sb_traceparent_trace_id("", id));
    ck_assert(!sb_traceparent_trace_id(NULL, id));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_request_id_sane);
    tcase_add_test(tc, test_request_id_new);
    tcase_add_test(tc, test_traceparent);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
