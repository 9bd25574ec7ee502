/*
 * metrics.h - Prometheus counters of the daemon.  Every update is one
 * relaxed atomic add on a fixed slot: no lock, no allocation on the hot
 * path.  Label sets are bounded: routes come from the route table, profiles
 * from the config (at most SB_METRICS_LABEL_SLOTS distinct op/profile pairs
 * are tracked; beyond that updates go to an "other" slot).
 */
#ifndef SB_METRICS_H
#define SB_METRICS_H

#include <stddef.h>

#include "sessionbridge/err.h"
#include "sessionbridge/jsonutil.h"

#define SB_METRICS_LABEL_SLOTS 64

/* One finished HTTP request: route index into sb_http_routes (or
 * sb_http_route_count for an unmatched path), status, duration. */
void sb_metrics_request(size_t route_index, unsigned status, double ms);

/* One credential check: op is "validate", "translate", "auth", ...;
 * result SB_OK counts as "active", other codes by their name. */
void sb_metrics_credential(const char *op, const char *profile,
                           enum sb_err_code result);

/* A session created for profile (login or first sight of a credential). */
void sb_metrics_session_created(const char *profile);

/* A revocation: kind is "session", "user" or "token". */
void sb_metrics_revocation(const char *kind);

/* Appends the whole exposition (text format 0.0.4) to out. */
int sb_metrics_render(struct sb_buf *out);

#endif
