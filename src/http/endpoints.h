/*
 * endpoints.h - the handlers the route table (routes.c) points at, one
 * group per endpoint file.
 */
#ifndef SB_ENDPOINTS_H
#define SB_ENDPOINTS_H

#include "http.h"

/* health.c: liveness, readiness, Prometheus metrics */
void sb_ep_health(struct sb_http_req *req);
void sb_ep_ready(struct sb_http_req *req);
void sb_ep_metrics(struct sb_http_req *req);

/* validate.c, translate.c, forward_auth.c: credentials */
void sb_ep_validate(struct sb_http_req *req);
void sb_ep_translate(struct sb_http_req *req);
void sb_ep_auth(struct sb_http_req *req);

/* sessions.c: sessions and a user's sessions */
void sb_ep_sessions_create(struct sb_http_req *req);
void sb_ep_session(struct sb_http_req *req);
void sb_ep_user_sessions(struct sb_http_req *req);

/* introspect.c: RFC 7662 introspection, RFC 7009 revocation */
void sb_ep_introspect(struct sb_http_req *req);
void sb_ep_revoke(struct sb_http_req *req);

/* status.c: the status page and its JSON */
void sb_ep_status_page(struct sb_http_req *req);
void sb_ep_status_asset(struct sb_http_req *req);
void sb_ep_status_json(struct sb_http_req *req);

/* apikeys.c, jwks.c */
void sb_ep_apikeys_validate(struct sb_http_req *req);
void sb_ep_jwks(struct sb_http_req *req);

#endif
