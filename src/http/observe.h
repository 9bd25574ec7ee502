/*
 * observe.h - what a forward-auth answer tells the observers: the
 * metrics of a migration (sessionbridge_auth_requests_total, the shadow
 * and credential counters), the migration's progress figure
 * (sessionbridge/progress.h), the router's split (split.h) and, over
 * HTTP, the access line's profile.  Called once per forward-auth request
 * by its surface (GET /v1/auth, gRPC Check) after the bridge decided, so
 * both count alike; no lock, no Redis.
 */
#ifndef SB_HTTP_OBSERVE_H
#define SB_HTTP_OBSERVE_H

#include "sessionbridge/bridge.h"
#include "sessionbridge/config.h"

struct sb_http_req;

/* a: the bridge's answer (before sb_bridge_auth_free); result SB_OK or
 * the error code sb_bridge_auth failed with; backend the request's
 * X-Sessionbridge-Backend (NULL when absent). */
void sb_observe_auth_outcome(const struct sb_config *cfg, const char *backend,
                             const struct sb_bridge_auth *a,
                             enum sb_err_code result);

/* The same for GET /v1/auth, and the profile for req's access line. */
void sb_observe_auth(struct sb_http_req *req, const struct sb_bridge_auth *a,
                     enum sb_err_code result);

#endif
