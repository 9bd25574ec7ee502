/*
 * metrics.h - Prometheus counters of the daemon.  Every update is one
 * relaxed atomic add on a fixed slot: no lock, no allocation on the hot
 * path.  Label sets are bounded: routes come from the route table, profiles
 * from the config (at most SB_METRICS_LABEL_SLOTS distinct op/profile pairs
 * are tracked; beyond that updates go to an "other" slot).
 */
#ifndef SB_METRICS_H
#define SB_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "sessionbridge/bridge.h"
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

/* One forward-auth decision (sessionbridge_auth_requests_total): backend
 * is the X-Sessionbridge-Backend header (NULL when absent; only 1-32
 * bytes of [a-z0-9_-] are taken as a label), presented which of the
 * route's formats the request carried, result SB_OK ("ok", or "minted"
 * when a credential was minted for it) or the error code. */
void sb_metrics_auth_request(const char *backend,
                             enum sb_bridge_presented presented,
                             enum sb_err_code result, bool minted);

/* One shadow check's verdict (sessionbridge_shadow_total); NONE is not
 * counted. */
void sb_metrics_shadow(enum sb_bridge_shadow verdict);

/* A session created for profile (login or first sight of a credential). */
void sb_metrics_session_created(const char *profile);

/* A revocation: kind is "session", "user" or "token". */
void sb_metrics_revocation(const char *kind);

/* ---- metrics_process.c --------------------------------------------------- */

/* The config was loaded at start (the reload timestamp starts there). */
void sb_metrics_config_loaded(void);

/* A SIGHUP reload: ok when the new config was installed. */
void sb_metrics_config_reloaded(bool ok);

/* The reload counters, for the status page. */
struct sb_metrics_reloads {
    unsigned long ok, failed;
    long long last_success;  /* Unix seconds: start or the last good reload */
    long long last_attempt;  /* the last SIGHUP; 0 before one */
    bool last_attempt_ok;
};
void sb_metrics_reload_read(struct sb_metrics_reloads *out);

/* The revocations counted since start, by kind: session, user, token. */
void sb_metrics_revocations_read(unsigned long out[3]);

/* Appends process_*, the reload, Redis latency and migration progress
 * families (called by sb_metrics_render). */
int sb_metrics_render_process(struct sb_buf *out);

/* Appends the whole exposition (text format 0.0.4) to out. */
int sb_metrics_render(struct sb_buf *out);

#endif
