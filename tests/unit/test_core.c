/* test_core.c - base64, the framework-exact JSON serialisers, zlib caps,
 * the canonical session's JSON form, and the metrics exposition. */
#include <check.h>
#include <string.h>

#include "http/metrics.h"
#include "sessionbridge/b64.h"
#include "sessionbridge/jsonutil.h"
#include "sessionbridge/session.h"
#include "sessionbridge/zbuf.h"
#include "unit_run.h"

START_TEST(test_b64_roundtrip)
{
    static const enum sb_b64_variant vs[] = {SB_B64_STD_PAD, SB_B64_STD_NOPAD,
                                             SB_B64_URL_PAD, SB_B64_URL_NOPAD};
    unsigned char src[64], dst[64];
    char enc[128];
    size_t n, v;

    for (n = 0; n < sizeof(src); n++)
        src[n] = (unsigned char)(n * 37 + 250);
    for (v = 0; v < 4; v++) {
        for (n = 0; n <= sizeof(src); n++) {
            size_t len = sb_b64_encode(vs[v], src, n, enc);
            ck_assert_int_eq(sb_b64_decode(vs[v], enc, len, dst), (long)n);
            ck_assert_mem_eq(src, dst, n);
        }
    }
    sb_b64_encode(SB_B64_URL_NOPAD, "\xfb\xff", 2, enc);
    ck_assert_str_eq(enc, "-_8");
    sb_b64_encode(SB_B64_STD_PAD, "\xfb\xff", 2, enc);
    ck_assert_str_eq(enc, "+/8=");
}
END_TEST

START_TEST(test_b64_strict)
{
    unsigned char dst[16];

    ck_assert_int_eq(sb_b64_decode(SB_B64_URL_NOPAD, "ab+c", 4, dst), -1);
    ck_assert_int_eq(sb_b64_decode(SB_B64_STD_PAD, "ab-c", 4, dst), -1);
    ck_assert_int_eq(sb_b64_decode(SB_B64_STD_PAD, "abc", 3, dst), -1);
    ck_assert_int_eq(sb_b64_decode(SB_B64_STD_PAD, "a===", 4, dst), -1);
    ck_assert_int_eq(sb_b64_decode(SB_B64_URL_NOPAD, "a", 1, dst), -1);
    ck_assert_int_eq(sb_b64_decode(SB_B64_URL_NOPAD, "ab=", 3, dst), -1);
    ck_assert_int_eq(sb_b64_decode(SB_B64_URL_NOPAD, "ab c", 4, dst), -1);
    /* non-zero trailing bits: "QR" decodes to 'A' only with "QQ" */
    ck_assert_int_eq(sb_b64_decode(SB_B64_URL_NOPAD, "QR", 2, dst), -1);
    ck_assert_int_eq(sb_b64_decode(SB_B64_URL_NOPAD, "QQ", 2, dst), 1);
}
END_TEST

/* Serialises the JSON text `in` in `style` and compares with `want`. */
static void check_dump(const char *in, enum sb_json_style style,
                       const char *want)
{
    json_error_t jerr;
    json_t *v = json_loads(in, JSON_DECODE_ANY, &jerr);
    struct sb_buf b;

    ck_assert_ptr_nonnull(v);
    sb_buf_init(&b);
    ck_assert_int_eq(sb_json_dump(v, style, &b, NULL), 0);
    ck_assert_str_eq(b.data, want);
    sb_buf_free(&b);
    json_decref(v);
}

START_TEST(test_json_styles)
{
    const char *in = "{\"b\":1,\"a\":[true,null,1.5],\"u\":\"Zo\\u00eb "
                     "\\ud83d\\ude00 <&>\\u2028\\u0001\\b\\u007f\"}";

    check_dump(in, SB_JSON_PY_COMPACT_SORTED,
               "{\"a\":[true,null,1.5],\"b\":1,\"u\":\"Zo\\u00eb "
               "\\ud83d\\ude00 <&>\\u2028\\u0001\\b\\u007f\"}");
    check_dump(in, SB_JSON_PY_DEFAULT,
               "{\"b\": 1, \"a\": [true, null, 1.5], \"u\": \"Zo\\u00eb "
               "\\ud83d\\ude00 <&>\\u2028\\u0001\\b\\u007f\"}");
    check_dump(in, SB_JSON_GO,
               "{\"a\":[true,null,1.5],\"b\":1,\"u\":\"Zo\xc3\xab "
               "\xf0\x9f\x98\x80 \\u003c\\u0026\\u003e\\u2028\\u0001\\u0008"
               "\x7f\"}");
    check_dump(in, SB_JSON_JS,
               "{\"b\":1,\"a\":[true,null,1.5],\"u\":\"Zo\xc3\xab "
               "\xf0\x9f\x98\x80 <&>\xe2\x80\xa8\\u0001\\b\x7f\"}");
}
END_TEST

START_TEST(test_json_reals)
{
    check_dump("[1.0,1e16,1e-05,0.0001,123.456,-2.5e-7]",
               SB_JSON_PY_COMPACT, "[1.0,1e+16,1e-05,0.0001,123.456,-2.5e-07]");
    check_dump("[1.0,1e21,1e-7,0.000001,123.456,1e20]", SB_JSON_GO,
               "[1,1e+21,1e-7,0.000001,123.456,100000000000000000000]");
    check_dump("[1.0,1e21,1e-7,0.000001,123.456]", SB_JSON_JS,
               "[1,1e+21,1e-7,0.000001,123.456]");
}
END_TEST

START_TEST(test_json_depth)
{
    char deep[200];
    struct sb_err err = {0};

    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    ck_assert_ptr_null(sb_json_parse(deep, 200, SB_ERR_MALFORMED, "x", &err));
    ck_assert_int_eq(err.code, SB_ERR_TOO_LARGE);
    ck_assert_int_eq(sb_json_depth_ok("[\"[[[[\"]", 8, 1), 1);
}
END_TEST

START_TEST(test_zlib_cap)
{
    unsigned char *z, *out;
    size_t zlen, outlen;
    static unsigned char zeros[1 << 16];
    struct sb_err err = {0};

    ck_assert_int_eq(sb_zlib_deflate(zeros, sizeof(zeros), &z, &zlen, &err), 0);
    ck_assert_int_eq(sb_zlib_inflate(z, zlen, sizeof(zeros), &out, &outlen,
                                     &err), 0);
    ck_assert_uint_eq(outlen, sizeof(zeros));
    free(out);
    ck_assert_int_eq(sb_zlib_inflate(z, zlen, 1000, &out, &outlen, &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_TOO_LARGE);
    ck_assert_int_eq(sb_zlib_inflate(z, zlen / 2, sizeof(zeros), &out,
                                     &outlen, &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_MALFORMED);
    free(z);
}
END_TEST

START_TEST(test_session_json)
{
    struct sb_session s;
    struct sb_err err = {0};
    json_t *in = json_loads("{\"subject\":\"42\",\"data\":{\"k\":1},"
                            "\"sid\":\"abc\",\"issued_at\":5}", 0, NULL);
    json_t *out;

    sb_session_init(&s);
    ck_assert_int_eq(sb_session_from_json(in, false, &s, &err), 0);
    ck_assert_str_eq(s.subject, "42");
    ck_assert_str_eq(s.sid, "abc");
    ck_assert_int_eq(s.issued_at, 5);
    out = sb_session_to_json(&s);
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_object_get(out, "data"), "k")), 1);
    json_decref(out);
    sb_session_reset(&s);
    json_decref(in);
    in = json_loads("{\"data\":{}}", 0, NULL);
    ck_assert_int_eq(sb_session_from_json(in, false, &s, &err), -1);
    ck_assert_str_eq(err.msg, "field 'subject' is required");
    ck_assert_ptr_null(s.subject);
    json_decref(in);
    in = json_loads("{\"subject\":\"1\",\"sid\":\"a/b\"}", 0, NULL);
    ck_assert_int_eq(sb_session_from_json(in, false, &s, &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_INVALID_REQUEST);
    json_decref(in);
}
END_TEST

START_TEST(test_metrics_render)
{
    static const char *const want[] = {
        "sessionbridge_http_requests_total{route=\"/health\","
        "status=\"200\"} 2\n",
        "sessionbridge_http_requests_total{route=\"/health\","
        "status=\"other\"} 1\n",
        "sessionbridge_http_request_duration_seconds_bucket{route=\"/health\","
        "le=\"0.0005\"} 1\n",
        "sessionbridge_http_request_duration_seconds_bucket{route=\"/health\","
        "le=\"+Inf\"} 3\n",
        "sessionbridge_http_request_duration_seconds_count{"
        "route=\"/health\"} 3\n",
        "sessionbridge_credentials_total{op=\"validate\",profile=\"legacy\","
        "result=\"expired\"} 2\n",
        "sessionbridge_credentials_total{op=\"validate\",profile=\"legacy\","
        "result=\"active\"} 1\n",
        "sessionbridge_revocations_total{kind=\"user\"} 1\n",
        "# TYPE sessionbridge_http_request_duration_seconds histogram\n",
    };
    struct sb_buf b;
    size_t i;

    sb_metrics_request(0, 200, 0.3);
    sb_metrics_request(0, 200, 7.0);
    sb_metrics_request(0, 418, 1.0);
    sb_metrics_credential("validate", "legacy", SB_OK);
    sb_metrics_credential("validate", "legacy", SB_ERR_EXPIRED);
    sb_metrics_credential("validate", "legacy", SB_ERR_EXPIRED);
    sb_metrics_revocation("user");
    sb_buf_init(&b);
    ck_assert_int_eq(sb_metrics_render(&b), 0);
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_msg(strstr(b.data, want[i]) != NULL, "missing %s", want[i]);
    sb_buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_b64_roundtrip);
    tcase_add_test(tc, test_b64_strict);
    tcase_add_test(tc, test_json_styles);
    tcase_add_test(tc, test_json_reals);
    tcase_add_test(tc, test_json_depth);
    tcase_add_test(tc, test_zlib_cap);
    tcase_add_test(tc, test_session_json);
    tcase_add_test(tc, test_metrics_render);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
