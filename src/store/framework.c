/* framework.c - the server-side records frameworks keep beside their
 * cookies (connect-redis for express profiles), which go when the bridge
 * deletes a session or logs a user out, so the framework itself stops
 * accepting the cookie too.  The HTTP API and the admin CLI both call it. */
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/codec.h"
#include "sessionbridge/express.h"
#include "sessionbridge/store.h"

/* True when profile p keeps its session data in a framework record. */
static bool has_framework_record(const struct sb_profile *p)
{
    return strcmp(p->codec->name, "express") == 0;
}

int sb_store_drop_framework_records(struct sb_redis *r,
                                    const struct sb_config *cfg,
                                    const char *const *sids, size_t n,
                                    struct sb_err *err)
{
    size_t i, k, sent = 0;
    int rc = 0;

    for (i = 0; i < cfg->profile_count; i++) {
        const struct sb_profile *p = &cfg->profiles[i];
        if (!has_framework_record(p))
            continue;
        for (k = 0; k < n; k++) {
            char *key = NULL;
            const char *argv[2] = {"UNLINK", NULL};
            if (sb_express_record_key(p, sids[k], &key, err) != 0) {
                rc = -1;
                continue;
            }
            argv[1] = key;
            if (sb_redis_append(r, 2, argv, NULL, err) == 0)
                sent++;
            else
                rc = -1;
            free(key);
        }
    }
    if (sb_redis_discard(r, sent, err) != 0)
        return -1;
    return rc;
}
