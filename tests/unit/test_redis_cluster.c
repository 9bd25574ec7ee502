/* test_redis_cluster.c - what cluster mode parses and computes on its
 * own: hash slots (the values Redis documents), MOVED / ASK redirects,
 * and CLUSTER SLOTS answers fed through the store's reply reader as a
 * node sends them; and that reader's cap on announced arrays. */
#include <check.h>
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/redis_internal.h"
#include "unit_run.h"

static unsigned slot_of(const char *key)
{
    return sb_redis_key_slot(key, strlen(key));
}

START_TEST(test_key_slot)
{
    ck_assert_uint_eq(slot_of("123456789"), 0x31C3);
    ck_assert_uint_eq(slot_of("foo"), 12182);
    /* the tag decides; an empty tag or no closing brace: the whole key */
    ck_assert_uint_eq(slot_of("sb:{u:alice}:sess:1"), slot_of("u:alice"));
    ck_assert_uint_eq(slot_of("sb:{u:alice}:idx"), slot_of("x{u:alice}"));
    ck_assert_uint_eq(slot_of("a{}b"), sb_redis_key_slot("a{}b", 4));
    ck_assert_uint_ne(slot_of("a{}b"), slot_of(""));
    ck_assert_uint_eq(slot_of("{open"), sb_redis_key_slot("{open", 5));
}
END_TEST

START_TEST(test_redirect)
{
    char host[SB_CLUSTER_HOST_MAX];
    unsigned slot, port;
    bool ask;
    const char *s = "MOVED 3999 127.0.0.1:6381";

    ck_assert_int_eq(sb_redis_parse_redirect(s, strlen(s), &ask, &slot, host,
                                             sizeof(host), &port), 0);
    ck_assert(!ask);
    ck_assert_uint_eq(slot, 3999);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_uint_eq(port, 6381);
    s = "ASK 16383 ::1:7000";
    ck_assert_int_eq(sb_redis_parse_redirect(s, strlen(s), &ask, &slot, host,
                                             sizeof(host), &port), 0);
    ck_assert(ask);
    ck_assert_str_eq(host, "::1");
    s = "MOVED 1 :7000"; /* no host: the node that answered */
    ck_assert_int_eq(sb_redis_parse_redirect(s, strlen(s), &ask, &slot, host,
                                             sizeof(host), &port), 0);
    ck_assert_str_eq(host, "");
    s = "MOVED 16384 h:1";
    ck_assert_int_eq(sb_redis_parse_redirect(s, strlen(s), &ask, &slot, host,
                                             sizeof(host), &port), -1);
    s = "MOVED 12 h:0";
    ck_assert_int_eq(sb_redis_parse_redirect(s, strlen(s), &ask, &slot, host,
                                             sizeof(host), &port), -1);
    s = "MOVED 12 h:65536";
    ck_assert_int_eq(sb_redis_parse_redirect(s, strlen(s), &ask, &slot, host,
                                             sizeof(host), &port), -1);
    s = "ERR MOVED 1 h:1";
    ck_assert_int_eq(sb_redis_parse_redirect(s, strlen(s), &ask, &slot, host,
                                             sizeof(host), &port), -1);
    s = "MOVED x h:1";
    ck_assert_int_eq(sb_redis_parse_redirect(s, strlen(s), &ask, &slot, host,
                                             sizeof(host), &port), -1);
}
END_TEST

/* One reply read from RESP text. */
static redisReply *resp(const char *text)
{
    redisReader *rd = sb_redis_reader_new();
    void *rep = NULL;

    ck_assert_ptr_nonnull(rd);
    ck_assert_int_eq(redisReaderFeed(rd, text, strlen(text)), REDIS_OK);
    ck_assert_int_eq(redisReaderGetReply(rd, &rep), REDIS_OK);
    ck_assert_ptr_nonnull(rep);
    redisReaderFree(rd);
    return rep;
}

START_TEST(test_slots)
{
    redisReply *rep = resp(
        "*2\r\n"
        "*4\r\n:0\r\n:8000\r\n*3\r\n$8\r\n10.0.0.1\r\n:7000\r\n$2\r\nid\r\n"
        "*2\r\n$8\r\n10.0.0.4\r\n:7003\r\n"
        "*3\r\n:8001\r\n:16383\r\n*2\r\n$1\r\n?\r\n:7001\r\n");
    struct sb_redis_slot_range *v = NULL;
    struct sb_err err = {0};
    size_t n = 0;

    ck_assert_int_eq(sb_redis_parse_slots(rep, "seed", &v, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(v[0].start, 0);
    ck_assert_uint_eq(v[0].end, 8000);
    ck_assert_str_eq(v[0].host, "10.0.0.1");
    ck_assert_uint_eq(v[0].port, 7000);
    ck_assert_uint_eq(v[0].replicas, 1);
    ck_assert_str_eq(v[0].replica_host[0], "10.0.0.4");
    ck_assert_str_eq(v[1].host, "seed"); /* "?": the node asked */
    ck_assert_uint_eq(v[1].replicas, 0);
    free(v);
    freeReplyObject(rep);
    rep = resp("*1\r\n*3\r\n:9\r\n:3\r\n*2\r\n$1\r\nh\r\n:1\r\n");
    ck_assert_int_eq(sb_redis_parse_slots(rep, "seed", &v, &n, &err), -1);
    ck_assert_ptr_null(strstr(err.msg, "seed"));
    ck_assert_ptr_nonnull(strstr(err.msg, "range 0 is malformed"));
    freeReplyObject(rep);
    rep = resp("-ERR This instance has cluster support disabled\r\n");
    ck_assert_int_eq(sb_redis_parse_slots(rep, "seed", &v, &n, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "cluster support disabled"));
    freeReplyObject(rep);
}
END_TEST

/* An array may announce up to SB_REDIS_REPLY_ARRAY_MAX elements; one
 * announcing more fails the reply before anything is allocated for it
 * (hiredis alone would allocate the table at once: 3 GB here). */
START_TEST(test_reader_caps_arrays)
{
    char text[64];
    redisReader *rd;
    redisReply *rep;
    void *out = NULL;

    snprintf(text, sizeof(text), "*%d\r\n", SB_REDIS_REPLY_ARRAY_MAX);
    rd = sb_redis_reader_new();
    ck_assert_int_eq(redisReaderFeed(rd, text, strlen(text)), REDIS_OK);
    ck_assert_int_eq(redisReaderGetReply(rd, &out), REDIS_OK);
    ck_assert_ptr_null(out); /* waits for its elements */
    redisReaderFree(rd);
    rd = sb_redis_reader_new();
    snprintf(text, sizeof(text), "*%d\r\n", SB_REDIS_REPLY_ARRAY_MAX + 1);
    ck_assert_int_eq(redisReaderFeed(rd, text, strlen(text)), REDIS_OK);
    ck_assert_int_eq(redisReaderGetReply(rd, &out), REDIS_ERR);
    redisReaderFree(rd);
    rd = sb_redis_reader_new();
    ck_assert_int_eq(redisReaderFeed(rd, "*400000000\r\n", 13), REDIS_OK);
    ck_assert_int_eq(redisReaderGetReply(rd, &out), REDIS_ERR);
    redisReaderFree(rd);
    rep = resp("*2\r\n*1\r\n:7\r\n$2\r\nok\r\n"); /* nested: as before */
    ck_assert_int_eq(rep->type, REDIS_REPLY_ARRAY);
    ck_assert_int_eq(rep->element[0]->element[0]->integer, 7);
    ck_assert_str_eq(rep->element[1]->str, "ok");
    freeReplyObject(rep);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("redis_cluster");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_key_slot);
    tcase_add_test(tc, test_redirect);
    tcase_add_test(tc, test_slots);
    tcase_add_test(tc, test_reader_caps_arrays);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
