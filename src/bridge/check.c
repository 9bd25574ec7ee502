/* check.c - is a credential valid, and whose is it: decoding with one
 * error-ranking rule, the framework record of formats that keep one, and
 * the store's verdict (revocation, not-before, ownership of the sid). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/bridge.h"
#include "sessionbridge/cache.h"
#include "sessionbridge/clock.h"
#include "sessionbridge/log.h"

static atomic_bool layout_checked;

/* The layout is checked once per process: every connection of it talks
 * to the same store. */
struct sb_redis *sb_bridge_store(struct sb_bridge *b, struct sb_err *err)
{
    const struct sb_config *cfg = b->cfg;

    if (b->offline) {
        sb_err_set(err, SB_ERR_STORE, "this needs Redis, and --offline was "
                   "given");
        return NULL;
    }
    if (b->r == NULL)
        b->r = sb_redis_thread(&cfg->redis, cfg->connect_timeout_ms,
                               cfg->command_timeout_ms, err);
    if (b->r == NULL)
        return NULL;
    if (!atomic_load_explicit(&layout_checked, memory_order_acquire)) {
        if (sb_store_layout_ensure(b->r, cfg->prefix, err) != 0) {
            if (err->code == SB_ERR_CONFIG)
                sb_log(SB_LOG_ERROR, "Redis layout mismatch", "detail",
                       err->msg, NULL);
            return NULL;
        }
        atomic_store_explicit(&layout_checked, true, memory_order_release);
    }
    return b->r;
}

int sb_bridge_error_rank(enum sb_err_code code)
{
    switch (code) {
    case SB_OK: return 0;
    case SB_ERR_NO_CREDENTIAL: return 1;
    case SB_ERR_MALFORMED: return 2;
    case SB_ERR_EXPIRED:
    case SB_ERR_NOT_YET_VALID:
    case SB_ERR_INVALID_CLAIM:
    case SB_ERR_UNSUPPORTED: return 4;
    case SB_ERR_REVOKED: return 5;
    default: return 3;
    }
}

/* Keeps e in *best when it is more telling. */
static void keep_best(struct sb_err *best, const struct sb_err *e)
{
    if (sb_bridge_error_rank(e->code) > sb_bridge_error_rank(best->code))
        *best = *e;
}

int sb_bridge_decode(const struct sb_config *cfg, const struct sb_profile *p,
                     const char *token, size_t len,
                     const struct sb_codec_ctx *ctx, struct sb_session *out,
                     const struct sb_profile **used, struct sb_err *err)
{
    struct sb_err e;
    size_t i;

    *used = NULL;
    if (p != NULL) {
        if (sb_credential_decode(p, token, len, ctx, out, err) != 0)
            return -1;
        *used = p;
        return 0;
    }
    sb_err_set(err, SB_ERR_NO_CREDENTIAL, "no profile is configured");
    for (i = 0; i < cfg->profile_count; i++) {
        sb_err_clear(&e);
        if (sb_credential_decode(&cfg->profiles[i], token, len, ctx, out,
                                 &e) == 0) {
            *used = &cfg->profiles[i];
            return 0;
        }
        keep_best(err, &e);
    }
    return -1;
}

/* Reads the framework record of s into it (formats whose data lives
 * there).  Without one the session is over: revoked when the store says
 * so, else expired. */
static int load_record(struct sb_redis *r, const struct sb_config *cfg,
                       const struct sb_profile *p, struct sb_session *s,
                       struct sb_err *err)
{
    const struct sb_codec_records *rec = p->codec->records;
    bool revoked = false;
    char *key = NULL;
    const char *argv[2] = {"GET", NULL};
    redisReply *rep;
    int rc = -1;

    if (rec->key(p, s->sid, &key, err) != 0)
        return -1;
    argv[1] = key;
    rep = sb_redis_commandv(r, 2, argv, NULL, err);
    if (rep == NULL)
        goto out_free;
    if (rep->type == REDIS_REPLY_STRING)
        rc = rec->parse(p, rep->str, rep->len, sb_clock_now_ms(), s, err);
    else if (rep->type == REDIS_REPLY_NIL &&
             sb_store_sid_revoked(r, cfg->prefix, s->sid, &revoked,
                                  err) == 0)
        sb_err_set(err, revoked ? SB_ERR_REVOKED : SB_ERR_EXPIRED,
                   revoked ? "the session has been revoked"
                           : "the session is over (its framework record is "
                             "gone)");
    else if (rep->type != REDIS_REPLY_NIL)
        sb_err_set(err, SB_ERR_STORE, "unexpected reply from Redis");
    freeReplyObject(rep);
out_free:
    free(key);
    return rc;
}

int sb_bridge_check(struct sb_bridge *b, const struct sb_profile *p,
                    struct sb_session *s, int64_t now, bool *created,
                    struct sb_err *err)
{
    struct sb_redis *r = sb_bridge_store(b, err);
    bool inserted = false;

    if (created != NULL)
        *created = false;
    if (r == NULL)
        goto err_reset;
    if (p->codec->records != NULL && json_object_size(s->data) == 0 &&
        load_record(r, b->cfg, p, s, err) != 0)
        goto err_reset;
    if (sb_store_record(r, b->cfg->prefix, s, now, &inserted, err) != 0)
        goto err_reset;
    if (created != NULL)
        *created = inserted;
    return 0;

err_reset:
    sb_session_reset(s);
    return -1;
}

/* The cache's name for how a credential was tried: the profile's index,
 * or every profile. */
static unsigned cache_kind(const struct sb_config *cfg,
                           const struct sb_profile *p)
{
    return p != NULL ? (unsigned)(p - cfg->profiles) : SB_CACHE_ANY_PROFILE;
}

/* Decodes and checks one credential as tried with p (NULL: any), the
 * verdict cache first: a hit answers without decoding or Redis; a miss
 * that validates is cached under the ticket taken before the store was
 * asked.  key[0..len) is the credential as presented (a cookie value
 * before percent-decoding), token[0..tlen) as its codec reads it. */
static int validate_cached(struct sb_bridge *b, const struct sb_profile *p,
                           const char *key, size_t len, const char *token,
                           size_t tlen, const struct sb_codec_ctx *ctx,
                           struct sb_session *out,
                           const struct sb_profile **used, bool *created,
                           struct sb_err *err)
{
    unsigned kind = cache_kind(b->cfg, p);
    uint64_t ticket;

    *created = false;
    if (sb_cache_lookup(b->cfg, kind, key, len, ctx, out, used))
        return 0;
    ticket = sb_cache_ticket();
    if (sb_bridge_decode(b->cfg, p, token, tlen, ctx, out, used, err) != 0 ||
        sb_bridge_check(b, *used, out, ctx->now, created, err) != 0)
        return -1;
    sb_cache_insert(b->cfg, ticket, kind, key, len, ctx, out, *used);
    return 0;
}

int sb_bridge_validate(struct sb_bridge *b, const struct sb_profile *p,
                       const char *token, size_t len,
                       const struct sb_codec_ctx *ctx, struct sb_session *out,
                       const struct sb_profile **used, bool *created,
                       struct sb_err *err)
{
    bool fresh;
    int rc = validate_cached(b, p, token, len, token, len, ctx, out, used,
                             &fresh, err);

    if (created != NULL)
        *created = fresh;
    return rc;
}

/* A cookie value is percent-decoded here before a codec sees it. */
static __thread char cookie_buf[SB_COOKIE_MAX + 1];

/* Validates candidate c (validate_cached): a cookie of profile c->p, or a
 * bearer token tried with c->p, or every profile when that is NULL. */
static int validate_candidate(struct sb_bridge *b,
                              const struct sb_bridge_candidate *c,
                              const struct sb_codec_ctx *ctx,
                              struct sb_session *out,
                              const struct sb_profile **used, bool *created,
                              struct sb_err *err)
{
    long n;

    if (c->bearer)
        return validate_cached(b, c->p, c->value, c->len, c->value, c->len,
                               ctx, out, used, created, err);
    if (sb_cache_lookup(b->cfg, cache_kind(b->cfg, c->p), c->value, c->len,
                        ctx, out, used)) {
        *created = false;
        return 0;
    }
    n = sb_cookie_value_decode(c->p, c->value, c->len, cookie_buf,
                               sizeof(cookie_buf), err);
    if (n < 0)
        return -1;
    return validate_cached(b, c->p, c->value, c->len, cookie_buf, (size_t)n,
                           ctx, out, used, created, err);
}

int sb_bridge_find(struct sb_bridge *b, const struct sb_bridge_request *rq,
                   const struct sb_profile *only,
                   const struct sb_codec_ctx *ctx, struct sb_session *out,
                   struct sb_bridge_found *f, struct sb_err *err)
{
    const struct sb_profile *used;
    struct sb_err e;
    size_t i;

    f->which = NULL;
    f->used = NULL;
    f->created = false;
    f->n = sb_bridge_candidates(b->cfg, rq, only, f->cands,
                                SB_BRIDGE_CANDIDATES_MAX);
    sb_err_set(err, SB_ERR_NO_CREDENTIAL,
               "the request carries no credential of a configured profile");
    for (i = 0; i < f->n; i++) {
        sb_err_clear(&e);
        used = NULL;
        if (validate_candidate(b, &f->cands[i], ctx, out, &used, &f->created,
                               &e) == 0) {
            f->used = used;
            f->which = &f->cands[i];
            return 0;
        }
        if (used != NULL)
            f->used = used;
        if (e.code == SB_ERR_STORE || e.code == SB_ERR_CONFIG) {
            *err = e;
            return -1;
        }
        keep_best(err, &e);
    }
    return -1;
}

int sb_bridge_apikey(struct sb_bridge *b, const char *key, size_t len,
                     int64_t now, struct sb_apikey *out, struct sb_err *err)
{
    struct sb_redis *r = sb_bridge_store(b, err);

    if (r == NULL)
        return -1;
    return sb_store_apikey_get(r, b->cfg->prefix, key, len, now, out, err);
}
