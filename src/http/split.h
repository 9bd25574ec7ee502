/*
 * split.h - the router's split as the bridge sees it, for the status
 * page: forward-auth requests per minute over the last hour by the
 * X-Sessionbridge-Backend header the shipped nginx snippets set from
 * their split variable ($sb_upstream), with the label values of
 * backend_label.h (the same as sessionbridge_auth_requests_total's).
 */
#ifndef SB_HTTP_SPLIT_H
#define SB_HTTP_SPLIT_H

#include <jansson.h>

/* Counts one forward-auth request routed to backend (header value or
 * NULL). */
void sb_split_note(const char *backend);

/* [{"backend", "last_minute", "last_hour"}...] for every backend seen,
 * "unknown" and "other" when they have counts.  New reference. */
json_t *sb_split_json(void);

#endif
