/* fuzz_cluster_reply.c - libFuzzer target for what cluster mode parses
 * out of server answers: the input is fed to hiredis's reply reader (RESP
 * from a node), and every reply it yields goes through the CLUSTER SLOTS
 * parser; the input is also read as an error reply's text by the MOVED /
 * ASK parser, and as a key by the hash slot function.  Nothing may crash,
 * leak or trip a sanitizer, and what is parsed must hold its promises (a
 * slot below 16384, ranges in order, ports 1-65535). */
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/redis_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks what sb_redis_parse_slots promised about its ranges. */
static void check_ranges(const struct sb_redis_slot_range *v, size_t n)
{
    size_t i, k;

    for (i = 0; i < n; i++) {
        if (v[i].start > v[i].end || v[i].end >= 16384 || v[i].port == 0 ||
            v[i].port > 65535 || memchr(v[i].host, '\0',
                                        sizeof(v[i].host)) == NULL ||
            v[i].replicas > SB_CLUSTER_REPLICAS_MAX)
            abort();
        for (k = 0; k < v[i].replicas; k++) {
            if (v[i].replica_port[k] == 0 || v[i].replica_port[k] > 65535)
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    redisReader *rd = sb_redis_reader_new();
    char host[SB_CLUSTER_HOST_MAX];
    struct sb_err err = {0};
    unsigned slot, port;
    void *rep = NULL;
    bool ask;
    int i;

    if (rd == NULL)
        abort();
    if (redisReaderFeed(rd, (const char *)data, size) == REDIS_OK) {
        for (i = 0; i < 16; i++) {
            struct sb_redis_slot_range *v = NULL;
            size_t n = 0;
            rep = NULL;
            if (redisReaderGetReply(rd, &rep) != REDIS_OK || rep == NULL)
                break;
            if (sb_redis_parse_slots(rep, "127.0.0.1", &v, &n, &err) == 0)
                check_ranges(v, n);
            free(v);
            freeReplyObject(rep);
        }
    }
    redisReaderFree(rd);
    if (sb_redis_parse_redirect((const char *)data, size, &ask, &slot, host,
                                sizeof(host), &port) == 0 &&
        (slot >= 16384 || port == 0 || port > 65535 ||
         memchr(host, '\0', sizeof(host)) == NULL))
        abort();
    if (sb_redis_key_slot((const char *)data, size) >= 16384)
        abort();
    return 0;
}
