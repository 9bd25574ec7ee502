/* observe.c - hands a forward-auth verdict to the metrics, the progress
 * figure, the router's split and the access log (observe.h). */
#include "observe.h"

#include "http.h"
#include "metrics.h"
#include "sessionbridge/progress.h"
#include "split.h"

void sb_observe_auth_outcome(const struct sb_config *cfg, const char *backend,
                             const struct sb_bridge_auth *a,
                             enum sb_err_code result)
{
    size_t i;

    sb_metrics_auth_request(backend, a->presented, result, a->minted);
    sb_metrics_shadow(a->shadow);
    sb_progress_note(cfg, a, result);
    sb_split_note(backend);
    if (result != SB_OK) {
        sb_metrics_credential("auth", a->used ? a->used->name : "none",
                              result);
        return;
    }
    for (i = 0; i < a->nvalid; i++)
        sb_metrics_credential("auth", a->valid[i]->name, SB_OK);
    if (a->created)
        sb_metrics_session_created(a->used->name);
}

void sb_observe_auth(struct sb_http_req *req, const struct sb_bridge_auth *a,
                     enum sb_err_code result)
{
    if (a->used != NULL)
        sb_http_log_profile(req, a->used->name);
    sb_observe_auth_outcome(req->cfg,
                            sb_http_header(req, "X-Sessionbridge-Backend"), a,
                            result);
}
