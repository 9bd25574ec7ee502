/*
 * backend_label.h - the router's backend names (the X-Sessionbridge-Backend
 * header the shipped nginx snippets set from their split variable) as
 * bounded label values, shared by sessionbridge_auth_requests_total and
 * the status page's split.  A name is 1-32 bytes of [a-z0-9_-]; the first
 * SB_BACKEND_NAMES names seen get a slot each, later ones share "other",
 * and a missing or unsafe value is "unknown".  Lock-free on the request
 * path: a lock only while a new name is claimed, never once every slot
 * is taken.
 */
#ifndef SB_HTTP_BACKEND_LABEL_H
#define SB_HTTP_BACKEND_LABEL_H

#include <stddef.h>

#define SB_BACKEND_NAMES 16
#define SB_BACKEND_NAME_LEN 32
#define SB_BACKEND_UNKNOWN SB_BACKEND_NAMES
#define SB_BACKEND_OTHER (SB_BACKEND_NAMES + 1)
#define SB_BACKEND_SLOTS (SB_BACKEND_NAMES + 2)

/* The slot of header value v (NULL when absent): below SB_BACKEND_SLOTS. */
size_t sb_backend_slot(const char *v);

/* The label of a slot: its name, "unknown", "other", or NULL for a name
 * slot not claimed yet. */
const char *sb_backend_label(size_t slot);

#endif
