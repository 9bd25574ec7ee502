/*
 * invalidation.h - keeps the verdict cache (cache.h) coherent with the
 * store: one thread subscribes to the store's invalidation channel
 * (sb_store_key_channel) and applies what the scripts publish there;
 * another publishes a heartbeat on it, so a subscription that stopped
 * delivering is noticed within the read timeout.
 *
 * Why a channel the scripts publish to, and not CLIENT TRACKING: the
 * publish happens in the same atomic script as the revocation it reports,
 * names the session (sid) or the user (owner tag) rather than keys, so one
 * message drops every cached credential of that session in every format;
 * it works unchanged on Redis Cluster (PUBLISH reaches every node) and
 * needs no RESP3.  Its one blind spot, a gap in delivery, is closed by
 * the safety rule: whenever the subscriber is not subscribed (start,
 * reconnect, a read error, a heartbeat not seen in time), the cache is
 * empty and every request asks Redis.
 */
#ifndef SESSIONBRIDGE_INVALIDATION_H
#define SESSIONBRIDGE_INVALIDATION_H

#include "sessionbridge/config.h"

/* The live config for this thread (the daemon's sb_live_config), and the
 * release of this thread's reference at its exit. */
typedef const struct sb_config *(*sb_config_source)(void);
typedef void (*sb_config_release)(void);

/* Starts the subscriber and heartbeat threads (a no-op when the cache is
 * disabled).  0, or -1 when a thread cannot start. */
int sb_invalidation_start(sb_config_source config,
                          sb_config_release release);

/* Stops both threads and waits for them (the cache stops serving). */
void sb_invalidation_stop(void);

#endif
