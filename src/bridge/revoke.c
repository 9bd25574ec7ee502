/* revoke.c - what a revocation removes: the sid in every format (the
 * store's marker), and the records frameworks keep beside their cookies,
 * so the framework itself stops accepting the cookie too.  With [redis]
 * wait_replicas, a revocation is acknowledged only once that many
 * replicas have it (WAIT); short of that it is answered as unavailable
 * (503), the write kept. */
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/bridge.h"
#include "sessionbridge/cache.h"

/* Unlinks the framework records (every profile whose format keeps them)
 * of sids[0..n), in one pipeline; sends nothing when no profile has any. */
static int drop_records(struct sb_redis *r, const struct sb_config *cfg,
                        const char *const *sids, size_t n, struct sb_err *err)
{
    size_t i, k, sent = 0;
    int rc = 0;

    for (i = 0; i < cfg->profile_count; i++) {
        const struct sb_profile *p = &cfg->profiles[i];
        if (p->codec->records == NULL)
            continue;
        for (k = 0; k < n; k++) {
            char *key = NULL;
            const char *argv[2] = {"UNLINK", NULL};
            if (p->codec->records->key(p, sids[k], &key, err) != 0) {
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

/* This process's cache forgets sids[0..n) at once (the other bridges hear
 * of it on the invalidation channel), so a caller that revoked through
 * this bridge never sees its own revocation served from the cache. */
static void forget_sids(const char *const *sids, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        sb_cache_invalidate_sid(sids[i], strlen(sids[i]));
}

/* forget_sids for every session of subjects[0..n) (their owner tags). */
static void forget_owners(const char *const *subjects, size_t n)
{
    char tag[SB_STORE_TAG_MAX];
    struct sb_err err;
    size_t i;

    for (i = 0; i < n; i++) {
        if (sb_store_tag(subjects[i], NULL, tag, sizeof(tag), &err) == 0)
            sb_cache_invalidate_owner(tag, strlen(tag));
    }
}

int sb_bridge_revoke_session(struct sb_bridge *b, const struct sb_session *s,
                             int64_t now, struct sb_store_removed *removed,
                             struct sb_err *err)
{
    struct sb_redis *r = sb_bridge_store(b, err);
    const char *sid = s->sid;

    if (r != NULL)
        sb_redis_wait_begin(r);
    if (r == NULL ||
        sb_store_revoke(r, b->cfg->prefix, s, now,
                        sb_store_max_lifetime(b->cfg), removed, err) != 0)
        return -1;
    forget_sids(&sid, 1);
    if (drop_records(r, b->cfg, &sid, 1, err) != 0)
        return -1;
    return sb_redis_wait_acked(r, err);
}

int sb_bridge_revoke(struct sb_bridge *b, const struct sb_profile *p,
                     const char *token, size_t len,
                     const struct sb_codec_ctx *ctx, struct sb_session *s,
                     const struct sb_profile **used,
                     struct sb_store_removed *removed, struct sb_err *err)
{
    if (removed != NULL)
        memset(removed, 0, sizeof(*removed));
    if (sb_bridge_decode(b->cfg, p, token, len, ctx, s, used, err) != 0)
        return -1;
    return sb_bridge_revoke_session(b, s, ctx->now, removed, err);
}

int sb_bridge_delete(struct sb_bridge *b, const char *const *sids, size_t n,
                     const char *subject, int64_t now,
                     struct sb_store_removed *removed, struct sb_err *err)
{
    struct sb_redis *r = sb_bridge_store(b, err);
    int64_t least = sb_store_max_lifetime(b->cfg);
    int rc;

    if (r == NULL)
        return -1;
    sb_redis_wait_begin(r);
    if (n == 1)
        rc = sb_store_delete(r, b->cfg->prefix, sids[0], subject, now, least,
                             removed, err);
    else
        rc = sb_store_delete_many(r, b->cfg->prefix, sids, n, now, least,
                                  removed, err);
    if (rc != 0)
        return -1;
    forget_sids(sids, n);
    if (drop_records(r, b->cfg, sids, n, err) != 0)
        return -1;
    return sb_redis_wait_acked(r, err);
}

int sb_bridge_logout(struct sb_bridge *b, const char *const *subjects,
                     size_t n, int64_t now, long long *removed,
                     struct sb_err *err)
{
    struct sb_redis *r = sb_bridge_store(b, err);
    char **sids = NULL;
    size_t nsids = 0;
    int rc;

    if (r == NULL)
        return -1;
    sb_redis_wait_begin(r);
    rc = sb_store_logout_many(r, b->cfg->prefix, subjects, n, now,
                              sb_store_max_lifetime(b->cfg), removed, &sids,
                              &nsids, err);
    if (rc == 0) {
        forget_sids((const char *const *)sids, nsids);
        forget_owners(subjects, n);
        rc = drop_records(r, b->cfg, (const char *const *)sids, nsids, err);
    }
    if (rc == 0)
        rc = sb_redis_wait_acked(r, err);
    sb_store_free_strings(sids, nsids);
    return rc;
}
