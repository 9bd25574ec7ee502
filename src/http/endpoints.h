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

#endif
