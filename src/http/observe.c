/* observe.c - hands a forward-auth verdict to the access log, the
 * progress figure and the router's split (observe.h). */
#include "observe.h"

#include "sessionbridge/progress.h"
#include "split.h"

void sb_observe_auth(struct sb_http_req *req, const struct sb_bridge_auth *a,
                     enum sb_err_code result)
{
    if (a->used != NULL)
        sb_http_log_profile(req, a->used->name);
    sb_progress_note(req->cfg, a, result);
    sb_split_note(sb_http_header(req, "X-Sessionbridge-Backend"));
}
