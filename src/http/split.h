/*
 * split.h - the router's split as the bridge sees it, for the status
 * page: forward-auth requests per minute over the last hour by the
 * X-Sessionbridge-Backend header the shipped nginx snippets set from
 * their split variable ($sb_upstream).  Bounded: the first
 * SB_SPLIT_BACKENDS names seen (1-32 bytes of [a-z0-9_-]), then "other";
 * no header or an unsafe value is "unknown".  Lock-free on the request
 * path (a lock only the first time a name is seen).
 */
#ifndef SB_HTTP_SPLIT_H
#define SB_HTTP_SPLIT_H

#include <jansson.h>

#define SB_SPLIT_BACKENDS 4

/* Counts one forward-auth request routed to backend (header value or
 * NULL). */
void sb_split_note(const char *backend);

/* [{"backend", "last_minute", "last_hour"}...] for every backend seen,
 * "unknown" and "other" when they have counts.  New reference. */
json_t *sb_split_json(void);

#endif
