/* test_codec_express.c - the express codec against the public vectors
 * (cookie-signature sids, rotation, wire escaping, cookie-parser JSON) and
 * the connect-redis record helpers of express.h (layout, TTL, parsing). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_fixture.h"
#include "sessionbridge/express.h"
#include "sessionbridge/jsonutil.h"
#include "unit_run.h"

static const char *const vector_secrets[] = {FIX_SECRET, FIX_OLD_SECRET, NULL};

/* The express-plain record as connect-redis wrote it, with the
 * milliseconds of `expires` cut to .000 (the canonical session counts
 * whole seconds). */
#define PLAIN_RECORD                                                        \
    "{\"cookie\":{\"originalMaxAge\":86400000,\"expires\":"                \
    "\"2026-11-23T10:30:17.000Z\",\"httpOnly\":true,\"path\":\"/\"},"       \
    "\"user_id\":42,\"username\":\"alice\"}"
#define PLAIN_EXPIRES 1795429817LL /* 2026-11-23T10:30:17Z */

/* Every express vector: decode with the vector's secret list at its time,
 * and check what the bridge can judge from the cookie alone. */
START_TEST(test_vectors)
{
    json_t *vs = fix_vectors("express"), *v;
    struct sb_profile p;
    size_t i, checked = 0;

    fix_profile(&p, "ex", "express", vector_secrets, NULL);
    json_array_foreach(vs, i, v) {
        const char *name = fix_str(v, "name");
        const char *token = fix_str(v, "token");
        const char *expect = fix_str(v, "expect");
        struct sb_codec_ctx ctx = {.now = fix_vector_now(v)};
        struct sb_session s;
        struct sb_err err = {0};
        int rc;

        sb_session_init(&s);
        rc = sb_credential_decode(&p, token, strlen(token), &ctx, &s, &err);
        if (strcmp(expect, "bad_signature") == 0) {
            ck_assert_msg(rc == -1 && err.code == SB_ERR_BAD_SIGNATURE,
                          "%s: got %s", name, sb_err_code_name(err.code));
            ck_assert_ptr_null(s.data);
        } else {
            /* valid, and expired (the signature verifies; the expiry is
             * the record's, checked in test_record_vectors) */
            ck_assert_msg(rc == 0, "%s: %s", name, err.msg);
            ck_assert_str_eq(s.profile, "ex");
            if (strncmp(token, "s:j:", 4) == 0) {
                ck_assert(json_equal(s.data,
                                     json_object_get(v, "expected_payload")));
            } else {
                const char *key = fix_str(v, "redis_key");
                ck_assert_uint_eq(json_object_size(s.data), 0);
                ck_assert_mem_eq(token + 2, s.sid, strlen(s.sid));
                ck_assert_int_eq(token[2 + strlen(s.sid)], '.');
                if (key != NULL)
                    ck_assert_str_eq(key + strlen("sess:"), s.sid);
            }
        }
        sb_session_reset(&s);
        checked++;
    }
    ck_assert_uint_eq(checked, 5);
    sb_profile_free(&p);
    json_decref(vs);
}
END_TEST

/* The bridge signs with the first secret exactly as express-session:
 * express-plain's cookie re-encodes byte for byte, and the wire form and
 * Set-Cookie value are the vector's. */
START_TEST(test_vector_reencode)
{
    json_t *vs = fix_vectors("express"), *v;
    struct sb_profile p;
    size_t i;

    fix_profile(&p, "ex", "express", vector_secrets, NULL);
    json_array_foreach(vs, i, v) {
        const char *token = fix_str(v, "token");
        const char *wire = fix_str(v, "token_on_wire");
        const char *hdr = fix_str(v, "set_cookie_header");
        struct sb_codec_ctx ctx = {.now = FIX_VERIFY_NOW};
        struct sb_session s;
        struct sb_err err = {0};
        char buf[SB_COOKIE_MAX + 1], *out = NULL, *cookie = NULL;
        long n;

        n = sb_cookie_value_decode(&p, wire, strlen(wire), buf, sizeof(buf),
                                   &err);
        ck_assert_int_eq(n, (long)strlen(token));
        ck_assert_str_eq(buf, token);
        if (strcmp(fix_str(v, "name"), "express-plain") != 0)
            continue;
        sb_session_init(&s);
        ck_assert_int_eq(sb_credential_decode(&p, token, strlen(token), &ctx,
                                              &s, &err), 0);
        ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &out, &err), 0);
        ck_assert_str_eq(out, token);
        ck_assert_int_eq(sb_cookie_build(&p, out, FIX_VERIFY_NOW, &cookie,
                                         &err), 0);
        /* "connect.sid=s%3A...; Path=/" is the vector's header up to
         * the attributes the profile configures */
        ck_assert_msg(strncmp(cookie, hdr, strlen("connect.sid=") +
                                               strlen(wire) + 8) == 0,
                      "%s", cookie);
        free(cookie);
        free(out);
        sb_session_reset(&s);
    }
    sb_profile_free(&p);
    json_decref(vs);
}
END_TEST

/* The record of express-plain: parsed into canonical data (cookie
 * stripped, subject from user_id), rebuilt in connect-redis's exact layout
 * with its TTL; express-expired's record is past its expiry. */
START_TEST(test_record_vectors)
{
    json_t *vs = fix_vectors("express");
    const json_t *plain = fix_vector(vs, "express-plain");
    const json_t *expired = fix_vector(vs, "express-expired");
    const char *rec_json = fix_str(plain, "expected_payload_json");
    char *text = json_dumps(json_object_get(expired, "rejected_store_value"),
                            JSON_COMPACT | JSON_PRESERVE_ORDER);
    int64_t now_ms = fix_vector_now(plain) * 1000;
    struct sb_codec_record rec;
    struct sb_profile p;
    struct sb_session s;
    struct sb_err err = {0};

    fix_profile(&p, "ex", "express", vector_secrets, NULL);
    sb_session_init(&s);
    ck_assert_ptr_nonnull(rec_json);
    strcpy(s.sid, "Xq3RfZ2vN8kLpW4tY7uB1cD5eG9hJ0mA");
    ck_assert_int_eq(sb_express_record_parse(&p, rec_json, strlen(rec_json),
                                             now_ms, &s, &err), 0);
    ck_assert_str_eq(s.sid, "Xq3RfZ2vN8kLpW4tY7uB1cD5eG9hJ0mA");
    ck_assert_str_eq(s.subject, "42");
    ck_assert_int_eq(s.expires_at, PLAIN_EXPIRES + 1);
    ck_assert_ptr_null(json_object_get(s.data, "cookie"));
    ck_assert_int_eq(json_integer_value(json_object_get(s.data, "user_id")),
                     42);
    s.expires_at = PLAIN_EXPIRES;
    ck_assert_int_eq(sb_express_record_build(&p, &s,
                                             PLAIN_EXPIRES * 1000 - 86400000,
                                             &rec, &err), 0);
    ck_assert_str_eq(rec.key, fix_str(plain, "redis_key"));
    ck_assert_str_eq(rec.value, PLAIN_RECORD);
    ck_assert_uint_eq(rec.value_len, strlen(PLAIN_RECORD));
    ck_assert_int_eq(rec.ttl, json_integer_value(
                                  json_object_get(plain, "redis_ttl_s")));
    sb_codec_record_free(&rec);
    sb_session_reset(&s);

    now_ms = fix_vector_now(expired) * 1000;
    sb_session_init(&s);
    ck_assert_int_eq(sb_express_record_parse(&p, text, strlen(text), now_ms,
                                             &s, &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_EXPIRED);
    ck_assert_ptr_null(s.data);
    /* connect-redis would DEL instead of SET */
    ck_assert_int_le(sb_express_record_ttl(&p, 1790035200000LL, now_ms), 0);
    sb_session_reset(&s);
    free(text);
    sb_profile_free(&p);
    json_decref(vs);
}
END_TEST

/* Field order of the cookie object with every attribute set, a custom
 * prefix, renames and an integer subject; null expiry without max_age. */
START_TEST(test_record_layout)
{
    static const char *const kv[] = {"store_prefix", "app:sess:",
                                     "store_ttl", "600", NULL};
    struct sb_profile p;
    struct sb_session s;
    struct sb_codec_record rec;
    struct sb_err err = {0};
    char *key;

    fix_profile(&p, "ex", "express", vector_secrets, kv);
    ck_assert_str_eq(p.cookie.name, "connect.sid");
    ck_assert_int_eq(p.cookie.max_age, -1);
    p.cookie.secure = true;
    p.cookie.domain = strdup("example.com");
    p.cookie.samesite = SB_SAMESITE_LAX;
    p.renames = calloc(1, sizeof(*p.renames));
    p.renames[0].profile_field = strdup("name");
    p.renames[0].canonical_field = strdup("display_name");
    p.rename_count = 1;

    sb_session_init(&s);
    strcpy(s.sid, "abc");
    s.subject = strdup("7");
    s.data = json_pack("{s:s, s:s, s:i}", "display_name", "Zoë",
                       "cookie", "dropped", "n", 1);
    ck_assert_int_eq(sb_express_record_build(&p, &s, 1000, &rec, &err), 0);
    ck_assert_str_eq(rec.key, "app:sess:abc");
    ck_assert_str_eq(rec.value,
                     "{\"cookie\":{\"originalMaxAge\":null,\"expires\":null,"
                     "\"secure\":true,\"httpOnly\":true,\"domain\":"
                     "\"example.com\",\"path\":\"/\",\"sameSite\":\"lax\"},"
                     "\"n\":1,\"name\":\"Zoë\",\"user_id\":\"7\"}");
    ck_assert_int_eq(rec.ttl, 600);
    sb_codec_record_free(&rec);

    /* parse back: canonical names again, subject from user_id */
    ck_assert_int_eq(sb_express_record_parse(&p, PLAIN_RECORD,
                                             strlen(PLAIN_RECORD), 0, &s,
                                             &err), 0);
    ck_assert_str_eq(s.subject, "42");
    ck_assert_str_eq(s.sid, "abc");

    /* an expiry in ms, and max_age giving one */
    s.expires_at = 0;
    p.max_age = 3600;
    ck_assert_int_eq(sb_express_record_build(&p, &s, 1793491200123LL, &rec,
                                             &err), 0);
    ck_assert_ptr_nonnull(strstr(rec.value,
                                 "\"originalMaxAge\":3600000,\"expires\":"
                                 "\"2026-11-01T01:00:00.123Z\""));
    ck_assert_int_eq(rec.ttl, 3600);
    sb_codec_record_free(&rec);

    ck_assert_int_eq(sb_express_record_key(&p, "a b", &key, &err), -1);
    ck_assert_int_eq(sb_express_record_key(&p, "xyz", &key, &err), 0);
    ck_assert_str_eq(key, "app:sess:xyz");
    free(key);
    sb_session_reset(&s);
    sb_profile_free(&p);
}
END_TEST

/* connect-redis's Math.ceil on both sides of zero. */
START_TEST(test_record_ttl)
{
    struct sb_profile p;

    fix_profile(&p, "ex", "express", vector_secrets, NULL);
    ck_assert_int_eq(sb_express_record_ttl(&p, -1, 5000), 86400);
    ck_assert_int_eq(sb_express_record_ttl(&p, 10001, 5000), 6);
    ck_assert_int_eq(sb_express_record_ttl(&p, 10000, 5000), 5);
    ck_assert_int_eq(sb_express_record_ttl(&p, 5001, 5000), 1);
    ck_assert_int_eq(sb_express_record_ttl(&p, 5000, 5000), 0);
    ck_assert_int_eq(sb_express_record_ttl(&p, 4001, 5000), 0);
    ck_assert_int_eq(sb_express_record_ttl(&p, 3000, 5000), -2);
    sb_profile_free(&p);
}
END_TEST

/* Records express-session would throw on or Redis would have dropped. */
START_TEST(test_record_parse_errors)
{
    static const struct {
        const char *json;
        enum sb_err_code code;
    } bad[] = {
        {"[1]", SB_ERR_MALFORMED},
        {"{\"user_id\":1}", SB_ERR_MALFORMED},
        {"{\"cookie\":\"x\"}", SB_ERR_MALFORMED},
        {"{\"cookie\":{\"expires\":\"tomorrow\"}}", SB_ERR_MALFORMED},
        {"{\"cookie\":{\"expires\":\"2026-11-01T00:00:00.00Z\"}}",
         SB_ERR_MALFORMED},
        {"{\"cookie\":{\"expires\":17}}", SB_ERR_MALFORMED},
        {"{\"cookie\":{}", SB_ERR_MALFORMED},
        {"{\"cookie\":{\"expires\":\"2026-11-01T00:00:00.000Z\"}}",
         SB_ERR_EXPIRED},
        {"{\"cookie\":{},\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]"
         "]]]]]]]]]]]]]]]]]]]]]]]]}", SB_ERR_TOO_LARGE},
    };
    struct sb_profile p;
    struct sb_session s;
    struct sb_err err = {0};
    size_t i;
    char *big;

    fix_profile(&p, "ex", "express", vector_secrets, NULL);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sb_session_init(&s);
        strcpy(s.sid, "abc");
        ck_assert_int_eq(sb_express_record_parse(&p, bad[i].json,
                                                 strlen(bad[i].json),
                                                 FIX_T0 * 1000, &s, &err), -1);
        ck_assert_msg(err.code == bad[i].code, "%s: %s", bad[i].json,
                      sb_err_code_name(err.code));
        ck_assert_ptr_null(s.data);
        ck_assert_str_eq(s.sid, "");
    }
    /* a null expiry never expires by itself; a future one is kept */
    sb_session_init(&s);
    big = "{\"cookie\":{\"expires\":null},\"a\":1}";
    ck_assert_int_eq(sb_express_record_parse(&p, big, strlen(big), FIX_T0, &s,
                                             &err), 0);
    ck_assert_int_eq(s.expires_at, 0);
    sb_session_reset(&s);
    big = malloc((1u << 20) + 2);
    memset(big, ' ', (1u << 20) + 1);
    ck_assert_int_eq(sb_express_record_parse(&p, big, (1u << 20) + 1, 0, &s,
                                             &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_TOO_LARGE);
    free(big);
    sb_profile_free(&p);
}
END_TEST

START_TEST(test_config_errors)
{
    static const char *const unknown[] = {"secret", "x", NULL};
    static const char *const bad_ttl[] = {"store_ttl", "0", NULL};
    static const char *const bad_prefix[] = {"store_prefix", "a b", NULL};
    struct sb_profile p;
    struct sb_err err = {0};

    ck_assert_int_eq(fix_profile_v(&p, "ex", "express", vector_secrets,
                                   unknown, &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "unknown key 'secret' for format express");
    ck_assert_int_eq(fix_profile_v(&p, "ex", "express", vector_secrets,
                                   bad_ttl, &err), -1);
    ck_assert_int_eq(fix_profile_v(&p, "ex", "express", vector_secrets,
                                   bad_prefix, &err), -1);
    ck_assert_int_eq(fix_profile_v(&p, "ex", "express", NULL, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "secrets_file"));
}
END_TEST

/* Encoding needs a sid; the cookie never carries the data. */
START_TEST(test_encode)
{
    struct sb_profile p;
    struct sb_session s, back;
    struct sb_codec_ctx ctx = {.now = FIX_T0};
    struct sb_err err = {0};
    char *out = NULL;

    fix_profile(&p, "ex", "express", vector_secrets, NULL);
    sb_session_init(&s);
    s.data = json_pack("{s:i}", "user_id", 42);
    ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &out, &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_INVALID_REQUEST);
    ck_assert_int_eq(sb_sid_generate(s.sid, &err), 0);
    ck_assert_int_eq(sb_credential_encode(&p, &s, &ctx, &out, &err), 0);
    ck_assert_uint_eq(strlen(out), 2 + 32 + 1 + 43);
    sb_session_init(&back);
    ck_assert_int_eq(sb_credential_decode(&p, out, strlen(out), &ctx, &back,
                                          &err), 0);
    ck_assert_str_eq(back.sid, s.sid);
    ck_assert_uint_eq(json_object_size(back.data), 0);
    free(out);
    sb_session_reset(&back);
    sb_session_reset(&s);
    sb_profile_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("codec_express");
    TCase *tc = tcase_create("express");

    tcase_add_test(tc, test_vectors);
    tcase_add_test(tc, test_vector_reencode);
    tcase_add_test(tc, test_record_vectors);
    tcase_add_test(tc, test_record_layout);
    tcase_add_test(tc, test_record_ttl);
    tcase_add_test(tc, test_record_parse_errors);
    tcase_add_test(tc, test_config_errors);
    tcase_add_test(tc, test_encode);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
