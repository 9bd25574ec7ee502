/*
 * observe.h - what a forward-auth answer tells the observers: the access
 * line's profile, the migration's progress figure
 * (sessionbridge/progress.h) and the router's split (split.h).  Called once by the forward-auth surface
 * after the bridge decided; no lock, no Redis.
 */
#ifndef SB_HTTP_OBSERVE_H
#define SB_HTTP_OBSERVE_H

#include "http.h"
#include "sessionbridge/bridge.h"

/* a: the bridge's answer (before sb_bridge_auth_free); result SB_OK or
 * the error code sb_bridge_auth failed with. */
void sb_observe_auth(struct sb_http_req *req, const struct sb_bridge_auth *a,
                     enum sb_err_code result);

#endif
