/* invalidation.c - the cache's subscription to the store's invalidation
 * channel (sessionbridge/invalidation.h): a subscriber thread that applies
 * "i SID" / "o TAG" messages and counts heartbeats, and a heartbeat thread
 * that publishes "h" every HEARTBEAT_MS.  The subscriber's reads time out
 * after READ_TIMEOUT_MS without a message: a silent channel is a gap. */
#include "sessionbridge/invalidation.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "sessionbridge/cache.h"
#include "sessionbridge/log.h"
#include "sessionbridge/redis.h"
#include "sessionbridge/store.h"

#define HEARTBEAT_MS 200
#define READ_TIMEOUT_MS 1000
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000

static sb_config_source config_of;
static sb_config_release release_config;
static atomic_bool stopping;
static pthread_t subscriber, heartbeat;
static bool started;

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Applies one message of the channel. */
static void apply(const char *msg, size_t len)
{
    if (len > 2 && msg[0] == 'i' && msg[1] == ' ')
        sb_cache_invalidate_sid(msg + 2, len - 2);
    else if (len > 2 && msg[0] == 'o' && msg[1] == ' ')
        sb_cache_invalidate_owner(msg + 2, len - 2);
    else if (len != 1 || msg[0] != 'h')
        sb_cache_clear(); /* unknown: assume the worst */
}

/* True when rep is ["message", channel, payload]. */
static bool is_message(const redisReply *rep)
{
    return rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
           rep->element[0]->type == REDIS_REPLY_STRING &&
           strcmp(rep->element[0]->str, "message") == 0 &&
           rep->element[2]->type == REDIS_REPLY_STRING;
}

/* Waits until the subscriber's socket fd is readable; -1 with err when
 * READ_TIMEOUT_MS pass without a byte (not even a heartbeat: a gap). */
static int wait_readable(int fd, struct sb_err *err)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n;

    do
        n = poll(&p, 1, READ_TIMEOUT_MS);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        return 0;
    return sb_err_set(err, SB_ERR_STORE, n == 0 ? "no message or heartbeat "
                      "within the read timeout" : "poll failed");
}

/* One subscription: SUBSCRIBE, then messages until a read fails (the
 * connection dropped, or nothing came within the read timeout, not even
 * a heartbeat) or the config is reloaded.  The cache serves only in
 * between. */
static void subscribe_once(const struct sb_config *cfg)
{
    char channel[SB_STORE_KEY_MAX];
    const char *argv[2] = {"SUBSCRIBE", channel};
    struct sb_err err = {0};
    struct sb_redis *r;
    redisReply *rep;
    int fd;

    if (sb_store_key_channel(cfg->prefix, channel, sizeof(channel), &err) != 0)
        return;
    r = sb_redis_new(&cfg->redis, cfg->connect_timeout_ms, READ_TIMEOUT_MS,
                     &err);
    if (r == NULL)
        return;
    if (sb_redis_append(r, 2, argv, NULL, &err) != 0 ||
        (rep = sb_redis_read(r, &err)) == NULL)
        goto out_free;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
        rep->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(rep->element[0]->str, "subscribe") != 0) {
        freeReplyObject(rep);
        goto out_free;
    }
    freeReplyObject(rep);
    fd = sb_redis_fd(r);
    sb_cache_feed_busy(false);
    sb_cache_set_feed(fd, SB_CACHE_FEED_RECHECK_US);
    sb_cache_set_subscribed(true);
    sb_log(SB_LOG_INFO, "cache: subscribed to invalidations", "channel",
           channel, NULL);
    while (!atomic_load(&stopping) && config_of() == cfg) {
        if (fd >= 0 && !sb_redis_buffered(r) && wait_readable(fd, &err) != 0)
            break;
        sb_cache_feed_busy(true); /* before the bytes leave the socket */
        if ((rep = sb_redis_read(r, &err)) == NULL)
            break;
        if (is_message(rep))
            apply(rep->element[2]->str, rep->element[2]->len);
        freeReplyObject(rep);
        if (!sb_redis_buffered(r))
            sb_cache_feed_busy(false);
    }
    sb_cache_set_subscribed(false);
    sb_cache_set_feed(-1, 0);
    if (!atomic_load(&stopping))
        sb_log(SB_LOG_WARN, "cache: invalidation subscription lost; "
               "serving from Redis until it is back", "reason", err.msg,
               NULL);
out_free:
    sb_redis_free(r);
}

static void *subscriber_main(void *unused)
{
    unsigned backoff = BACKOFF_MIN_MS;

    while (!atomic_load(&stopping)) {
        const struct sb_config *cfg = config_of();
        if (cfg != NULL)
            subscribe_once(cfg);
        if (atomic_load(&stopping))
            break;
        sleep_ms(backoff);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    release_config();
    return NULL;
}

/* Publishes "h" every HEARTBEAT_MS on a connection of its own; a failure
 * needs no handling here: the subscriber, hearing nothing, drops out. */
static void *heartbeat_main(void *unused)
{
    struct sb_redis *r = NULL;
    const struct sb_config *last = NULL;
    char channel[SB_STORE_KEY_MAX];

    while (!atomic_load(&stopping)) {
        const struct sb_config *cfg = config_of();
        const char *argv[3] = {"PUBLISH", channel, "h"};
        struct sb_err err = {0};
        redisReply *rep;

        if (cfg != last) {
            sb_redis_free(r);
            r = NULL;
            last = cfg;
        }
        if (cfg != NULL && r == NULL)
            r = sb_redis_new(&cfg->redis, cfg->connect_timeout_ms,
                             cfg->command_timeout_ms, &err);
        if (r != NULL &&
            sb_store_key_channel(cfg->prefix, channel, sizeof(channel),
                                 &err) == 0 &&
            (rep = sb_redis_commandv(r, 3, argv, NULL, &err)) != NULL)
            freeReplyObject(rep);
        sleep_ms(HEARTBEAT_MS);
    }
    sb_redis_free(r);
    release_config();
    return NULL;
}

int sb_invalidation_start(sb_config_source config, sb_config_release release)
{
    struct sb_cache_stats st;

    sb_cache_stats(&st);
    if (st.capacity == 0)
        return 0;
    config_of = config;
    release_config = release;
    atomic_store(&stopping, false);
    if (pthread_create(&subscriber, NULL, subscriber_main, NULL) != 0)
        return -1;
    if (pthread_create(&heartbeat, NULL, heartbeat_main, NULL) != 0) {
        atomic_store(&stopping, true);
        pthread_join(subscriber, NULL);
        return -1;
    }
    started = true;
    return 0;
}

void sb_invalidation_stop(void)
{
    if (!started)
        return;
    atomic_store(&stopping, true);
    pthread_join(heartbeat, NULL);
    pthread_join(subscriber, NULL);
    started = false;
    sb_cache_set_subscribed(false);
}
