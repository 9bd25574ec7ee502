/* test_cache.c - the verdict cache on its own (src/bridge/cache.c): hits
 * compare the exact credential bytes and request context; invalidation
 * by sid and by owner drops exactly the entries they name; the entry and
 * byte bounds hold; an answer that raced an invalidation or arrived while
 * unsubscribed is not kept; nothing is served while the invalidation feed
 * holds bytes or messages not applied yet. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sessionbridge/cache.h"
#include "sessionbridge/config.h"
#include "sessionbridge/store.h"
#include "unit_run.h"

static struct sb_profile profiles[1] = {{.name = "legacy"}};
static struct sb_config cfg = {.profiles = profiles, .profile_count = 1};

/* A session of subject with sid, and data holding `pad` bytes of text. */
static void make_session(struct sb_session *s, const char *subject,
                         const char *sid, size_t pad)
{
    char text[8192];

    sb_session_init(s);
    ck_assert(pad < sizeof(text));
    memset(text, 'x', pad);
    text[pad] = '\0';
    ck_assert_int_eq(sb_session_set_subject(s, subject, NULL), 0);
    ck_assert_int_eq(sb_session_set_sid(s, sid, NULL), 0);
    s->issued_at = 1700000000;
    s->expires_at = 0;
    s->data = json_pack("{s:s}", "pad", text);
}

/* Inserts credential `cred` for a session of subject/sid in context ua. */
static void put(const char *cred, const char *ua, const char *subject,
                const char *sid, size_t pad)
{
    struct sb_codec_ctx ctx = {.now = 1700000000, .client_addr = "10.0.0.1",
                               .user_agent = ua};
    struct sb_session s;

    make_session(&s, subject, sid, pad);
    sb_cache_insert(&cfg, sb_cache_ticket(), 0, cred, strlen(cred), &ctx, &s,
                    &profiles[0]);
    sb_session_reset(&s);
}

/* Whether `cred` in context ua hits at time now; on a hit checks it
 * names subject. */
static bool hit_at(const char *cred, const char *ua, const char *subject,
                   int64_t now)
{
    struct sb_codec_ctx ctx = {.now = now, .client_addr = "10.0.0.1",
                               .user_agent = ua};
    const struct sb_profile *used = NULL;
    struct sb_session s;
    bool found;

    sb_session_init(&s);
    found = sb_cache_lookup(&cfg, 0, cred, strlen(cred), &ctx, &s, &used);
    if (found) {
        ck_assert_str_eq(s.subject, subject);
        ck_assert_ptr_eq(used, &profiles[0]);
        ck_assert_str_eq(s.profile, "legacy");
    }
    sb_session_reset(&s);
    return found;
}

/* hit_at a second after put's time, within the backstop ttl. */
static bool hit(const char *cred, const char *ua, const char *subject)
{
    return hit_at(cred, ua, subject, 1700000001);
}

static unsigned long held(void)
{
    struct sb_cache_stats st;

    sb_cache_stats(&st);
    return st.entries;
}

static void start(unsigned entries, size_t max_memory)
{
    ck_assert_int_eq(sb_cache_init(entries, 5, max_memory), 0);
    sb_cache_set_subscribed(true);
}

START_TEST(test_exact_key)
{
    start(1000, 1 << 24);
    put("cookie-a", "UA/1", "alice", "sid-a", 10);
    ck_assert(hit("cookie-a", "UA/1", "alice"));
    ck_assert(!hit("cookie-b", "UA/1", "alice"));
    ck_assert(!hit("cookie-a", "UA/2", "alice")); /* another browser */
    ck_assert(!hit("cookie-", "UA/1", "alice"));
    sb_cache_shutdown();
}
END_TEST

/* Past the backstop ttl (5 s here) an entry misses and is gone at once,
 * not left to the ring; a second insert of one key replaces the first. */
START_TEST(test_expired_dropped)
{
    start(1000, 1 << 24);
    put("hank-1", "UA", "hank", "sid-h", 10);
    ck_assert(hit_at("hank-1", "UA", "hank", 1700000004));
    ck_assert_uint_eq(held(), 1);
    ck_assert(!hit_at("hank-1", "UA", "hank", 1700000005));
    ck_assert_uint_eq(held(), 0);
    /* two workers that missed together both insert: one entry stays */
    put("hank-1", "UA", "hank", "sid-h", 10);
    put("hank-1", "UA", "hank", "sid-h", 10);
    ck_assert_uint_eq(held(), 1);
    ck_assert(hit("hank-1", "UA", "hank"));
    sb_cache_shutdown();
}
END_TEST

START_TEST(test_invalidate_sid_and_owner)
{
    char tag[SB_STORE_TAG_MAX];
    struct sb_err err;
    int i;

    start(1000, 1 << 24);
    /* many entries, so that they land in every shard */
    for (i = 0; i < 200; i++) {
        char cred[32], sid[32];
        snprintf(cred, sizeof(cred), "bob-%d", i);
        snprintf(sid, sizeof(sid), "sid-bob-%d", i % 4);
        put(cred, "UA", "bob", sid, 10);
    }
    put("alice-1", "UA", "alice", "sid-alice", 10);
    put("alice-2", "UA", "alice", "sid-alice", 10);
    put("carol-1", "UA", "carol", "sid-carol", 10);
    ck_assert_uint_eq(held(), 203);

    sb_cache_invalidate_sid("sid-alice", 9);
    ck_assert(!hit("alice-1", "UA", "alice"));
    ck_assert(!hit("alice-2", "UA", "alice"));
    ck_assert(hit("carol-1", "UA", "carol"));
    ck_assert_uint_eq(held(), 201);

    sb_cache_invalidate_sid("sid-bob-1", 9);
    ck_assert_uint_eq(held(), 151);
    ck_assert(hit("bob-0", "UA", "bob"));
    ck_assert(!hit("bob-1", "UA", "bob"));

    ck_assert_int_eq(sb_store_tag("bob", "sid-bob-0", tag, sizeof(tag), &err), 0);
    sb_cache_invalidate_owner(tag, strlen(tag));
    ck_assert_uint_eq(held(), 1);
    ck_assert(!hit("bob-0", "UA", "bob"));
    ck_assert(hit("carol-1", "UA", "carol"));
    sb_cache_shutdown();
}
END_TEST

START_TEST(test_bounds)
{
    struct sb_cache_stats st;
    int i;

    /* entries: 64 shards of 2 */
    start(128, 1 << 24);
    for (i = 0; i < 1000; i++) {
        char cred[32];
        snprintf(cred, sizeof(cred), "c-%d", i);
        put(cred, "UA", "u", "sid-u", 10);
    }
    sb_cache_stats(&st);
    ck_assert_uint_le(st.entries, 128);
    ck_assert(hit("c-999", "UA", "u")); /* the newest stays */
    sb_cache_shutdown();

    /* bytes: 64 KiB in all, 1 KiB a shard; each entry ~600 bytes */
    start(100000, 64 * 1024);
    for (i = 0; i < 1000; i++) {
        char cred[32];
        snprintf(cred, sizeof(cred), "c-%d", i);
        put(cred, "UA", "u", "sid-u", 200);
    }
    sb_cache_stats(&st);
    ck_assert_uint_gt(st.entries, 0);
    ck_assert_uint_le(st.entries, 64);
    ck_assert(hit("c-999", "UA", "u"));
    /* an entry bigger than a shard's budget is never kept */
    put("huge", "UA", "u", "sid-u", 4000);
    ck_assert(!hit("huge", "UA", "u"));
    sb_cache_shutdown();
}
END_TEST

START_TEST(test_races_and_subscription)
{
    struct sb_codec_ctx ctx = {.now = 1700000000, .client_addr = "10.0.0.1",
                               .user_agent = "UA"};
    struct sb_session s;
    uint64_t ticket;

    start(1000, 1 << 24);
    /* an invalidation between the ticket and the insert: not kept */
    ticket = sb_cache_ticket();
    sb_cache_invalidate_sid("other", 5);
    make_session(&s, "dave", "sid-d", 10);
    sb_cache_insert(&cfg, ticket, 0, "dave-1", 6, &ctx, &s, &profiles[0]);
    ck_assert(!hit("dave-1", "UA", "dave"));
    /* an expired credential is not kept */
    s.expires_at = ctx.now;
    sb_cache_insert(&cfg, sb_cache_ticket(), 0, "dave-2", 6, &ctx, &s,
                    &profiles[0]);
    ck_assert(!hit("dave-2", "UA", "dave"));
    sb_session_reset(&s);

    put("erin-1", "UA", "erin", "sid-e", 10);
    ck_assert(hit("erin-1", "UA", "erin"));
    sb_cache_set_subscribed(false); /* lost: empty, and no hits */
    ck_assert_uint_eq(held(), 0);
    ck_assert_uint_eq(sb_cache_ticket(), 0);
    put("erin-1", "UA", "erin", "sid-e", 10);
    ck_assert(!hit("erin-1", "UA", "erin"));
    sb_cache_set_subscribed(true);
    ck_assert(!hit("erin-1", "UA", "erin"));
    sb_cache_shutdown();
}
END_TEST

START_TEST(test_feed_pending)
{
    int fds[2];
    char c;

    ck_assert_int_eq(pipe(fds), 0);
    start(1000, 1 << 24);
    put("frank-1", "UA", "frank", "sid-f", 10);
    sb_cache_set_feed(fds[0], 0);
    ck_assert(hit("frank-1", "UA", "frank"));
    /* bytes on the socket: maybe a revocation, not read yet */
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    ck_assert(!hit("frank-1", "UA", "frank"));
    /* read, but not applied yet */
    sb_cache_feed_busy(true);
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    ck_assert(!hit("frank-1", "UA", "frank"));
    sb_cache_feed_busy(false);
    ck_assert(hit("frank-1", "UA", "frank"));
    /* the feed's socket closed under us: not served */
    close(fds[1]);
    ck_assert(!hit("frank-1", "UA", "frank"));
    sb_cache_set_feed(-1, 0);
    ck_assert(hit("frank-1", "UA", "frank"));
    close(fds[0]);
    sb_cache_shutdown();
}
END_TEST

/* With a recheck interval, a thread that just found the feed empty does
 * not look again within it (an hour here, so the test never races it);
 * the busy flag still counts on every lookup. */
START_TEST(test_feed_recheck)
{
    int fds[2];

    ck_assert_int_eq(pipe(fds), 0);
    start(1000, 1 << 24);
    put("gina-1", "UA", "gina", "sid-g", 10);
    sb_cache_set_feed(fds[0], 3600u * 1000000u);
    ck_assert(hit("gina-1", "UA", "gina"));   /* looked: empty */
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    ck_assert(hit("gina-1", "UA", "gina"));   /* within the interval */
    sb_cache_feed_busy(true);
    ck_assert(!hit("gina-1", "UA", "gina"));  /* the reader is at it */
    sb_cache_feed_busy(false);
    /* a new feed (a resubscription) is looked at every time again */
    sb_cache_set_feed(fds[0], 0);
    ck_assert(!hit("gina-1", "UA", "gina"));
    sb_cache_set_feed(-1, 0);
    close(fds[0]);
    close(fds[1]);
    sb_cache_shutdown();
}
END_TEST

static Suite *cache_suite(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("cache");

    tcase_add_test(tc, test_exact_key);
    tcase_add_test(tc, test_invalidate_sid_and_owner);
    tcase_add_test(tc, test_bounds);
    tcase_add_test(tc, test_races_and_subscription);
    tcase_add_test(tc, test_expired_dropped);
    tcase_add_test(tc, test_feed_pending);
    tcase_add_test(tc, test_feed_recheck);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(cache_suite());
}
