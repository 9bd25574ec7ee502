/* mint.c - the one policy for writing a session as another profile's
 * credential (translate, forward-auth, login), and the framework records
 * that go with it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/bridge.h"
#include "sessionbridge/cache.h"
#include "sessionbridge/clock.h"
#include "sessionbridge/jsonutil.h"
#include "sessionbridge/log.h"

/* Writes record `rec` with SET and the given flags (NX: only when absent;
 * XX KEEPTTL: only over an existing one). */
static int write_record(struct sb_redis *r, const struct sb_codec_record *rec,
                        bool keep_existing, struct sb_err *err)
{
    char ttl[24];
    const char *argv[6] = {"SET", rec->key, rec->value, NULL, NULL, NULL};
    size_t argvlen[6];
    redisReply *rep;
    int argc, i, rc;

    if (keep_existing) {
        snprintf(ttl, sizeof(ttl), "%" PRId64, rec->ttl);
        argv[3] = "EX";
        argv[4] = ttl;
        argv[5] = "NX";
        argc = 6;
    } else {
        argv[3] = "XX";
        argv[4] = "KEEPTTL";
        argc = 5;
    }
    for (i = 0; i < argc; i++)
        argvlen[i] = i == 2 ? rec->value_len : strlen(argv[i]);
    rep = sb_redis_commandv(r, argc, argv, argvlen, err);
    if (rep == NULL)
        return -1;
    rc = rep->type == REDIS_REPLY_ERROR
             ? sb_err_set(err, SB_ERR_STORE,
                          "Redis refused a framework record")
             : 0;
    freeReplyObject(rep);
    return rc;
}

/* Writes the framework record of s for profile p unless one exists (the
 * framework may have changed it since). */
static int store_record(struct sb_bridge *b, const struct sb_profile *p,
                        const struct sb_session *s, struct sb_err *err)
{
    struct sb_codec_record rec = {0};
    struct sb_redis *r;
    int rc = 0;

    if (p->codec->records->build(p, s, sb_clock_now_ms(), &rec, err) != 0)
        return -1;
    if (rec.ttl > 0) {
        r = sb_bridge_store(b, err);
        rc = r != NULL ? write_record(r, &rec, true, err) : -1;
    }
    sb_codec_record_free(&rec);
    return rc;
}

/* A copy of s->data without the subject fields other profiles put there
 * (the subject travels in its own field of the canonical session), so a
 * translation P -> Q -> P gives back P's data exactly.  New reference. */
static json_t *data_for(const struct sb_config *cfg,
                        const struct sb_profile *to, const struct sb_session *s)
{
    json_t *d = json_deep_copy(s->data);
    size_t i;

    for (i = 0; d != NULL && s->subject != NULL && i < cfg->profile_count;
         i++) {
        const char *f = cfg->profiles[i].subject_field;
        json_t *v;
        if (f == NULL || &cfg->profiles[i] == to ||
            (to->subject_field != NULL && strcmp(f, to->subject_field) == 0))
            continue;
        v = json_object_get(d, f);
        if (v != NULL && sb_json_names_subject(v, s->subject))
            json_object_del(d, f);
    }
    return d;
}

/* The session as minted for `to` into *m (which borrows s's subject and
 * owns a new data object): issued now, expiring no later than s and to's
 * max_age, without other profiles' subject fields. */
static int minted_view(const struct sb_config *cfg,
                       const struct sb_profile *to, const struct sb_session *s,
                       int64_t now, struct sb_session *m, struct sb_err *err)
{
    int64_t cap = to->max_age > 0 ? now + to->max_age : 0;

    *m = *s;
    m->issued_at = now;
    if (m->expires_at == 0 || (cap != 0 && cap < m->expires_at))
        m->expires_at = cap;
    m->data = s->data != NULL ? data_for(cfg, to, s) : json_object();
    if (m->data == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    return 0;
}

int sb_bridge_encode_for(const struct sb_config *cfg,
                         const struct sb_profile *to,
                         const struct sb_session *s,
                         const struct sb_codec_ctx *ctx, char **token,
                         struct sb_session *view, struct sb_err *err)
{
    struct sb_session m;
    int rc;

    *token = NULL;
    if (minted_view(cfg, to, s, ctx->now, &m, err) != 0)
        return -1;
    rc = sb_credential_encode(to, &m, ctx, token, err);
    if (rc == 0 && view != NULL) {
        sb_session_reset(view);
        *view = m;
        view->subject = s->subject != NULL ? strdup(s->subject) : NULL;
        if (s->subject != NULL && view->subject == NULL) {
            sb_session_reset(view);
            free(*token);
            *token = NULL;
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        }
        return 0;
    }
    json_decref(m.data);
    return rc;
}

int sb_bridge_mint(struct sb_bridge *b, const struct sb_profile *to,
                   const struct sb_session *s, const struct sb_codec_ctx *ctx,
                   char **token, char **set_cookie, struct sb_err *err)
{
    struct sb_session m;
    int rc = -1;

    *token = NULL;
    if (set_cookie != NULL)
        *set_cookie = NULL;
    if (minted_view(b->cfg, to, s, ctx->now, &m, err) != 0)
        return -1;
    if (sb_credential_encode(to, &m, ctx, token, err) != 0)
        goto out_free;
    if (to->codec->records != NULL && store_record(b, to, &m, err) != 0)
        goto err_free;
    if (set_cookie != NULL &&
        sb_cookie_build(to, *token, ctx->now, set_cookie, err) != 0)
        goto err_free;
    rc = 0;
    goto out_free;

err_free:
    free(*token);
    *token = NULL;
out_free:
    json_decref(m.data);
    return rc;
}

int sb_bridge_translate(struct sb_bridge *b, const struct sb_profile *from,
                        const struct sb_profile *to, const char *token,
                        size_t len, const struct sb_codec_ctx *ctx,
                        struct sb_session *out, const struct sb_profile **used,
                        char **out_token, char **set_cookie,
                        struct sb_err *err)
{
    *out_token = NULL;
    if (set_cookie != NULL)
        *set_cookie = NULL;
    if (sb_bridge_validate(b, from, token, len, ctx, out, used, NULL,
                           err) != 0)
        return -1;
    return sb_bridge_mint(b, to, out, ctx, out_token, set_cookie, err);
}

int sb_bridge_mint_all(struct sb_bridge *b, const struct sb_session *s,
                       const struct sb_codec_ctx *ctx, json_t **out,
                       struct sb_err *err)
{
    const struct sb_config *cfg = b->cfg;
    json_t *creds = json_object();
    size_t i;

    *out = NULL;
    for (i = 0; i < cfg->profile_count && creds != NULL; i++) {
        const struct sb_profile *p = &cfg->profiles[i];
        char *token = NULL, *cookie = NULL;
        if (sb_bridge_mint(b, p, s, ctx, &token, &cookie, err) != 0) {
            if (err->code == SB_ERR_STORE || err->code == SB_ERR_NOMEM) {
                json_decref(creds);
                return -1;
            }
            sb_log(SB_LOG_WARN, "cannot mint a credential", "profile",
                   p->name, "reason", err->msg, NULL);
            continue;
        }
        json_object_set_new(creds, p->name,
                            json_pack("{s:s, s:s}", "token", token,
                                      "set_cookie", cookie));
        free(token);
        free(cookie);
    }
    if (creds == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    sb_err_clear(err);
    *out = creds;
    return 0;
}

int sb_bridge_create(struct sb_bridge *b, struct sb_session *s,
                     const struct sb_codec_ctx *ctx, json_t **credentials,
                     struct sb_err *err)
{
    struct sb_redis *r = sb_bridge_store(b, err);

    *credentials = NULL;
    if (r == NULL || sb_store_create(r, b->cfg->prefix, s, ctx->now, err) != 0)
        return -1;
    return sb_bridge_mint_all(b, s, ctx, credentials, err);
}

/* Rewrites the framework records that exist for s after a PATCH (never
 * creates one); a record that cannot be written is left as it was. */
static void refresh_records(struct sb_bridge *b, const struct sb_session *s)
{
    const struct sb_config *cfg = b->cfg;
    size_t i;

    for (i = 0; i < cfg->profile_count; i++) {
        const struct sb_profile *p = &cfg->profiles[i];
        struct sb_codec_record rec = {0};
        struct sb_err e;

        if (p->codec->records == NULL ||
            p->codec->records->build(p, s, sb_clock_now_ms(), &rec, &e) != 0)
            continue;
        write_record(b->r, &rec, false, &e);
        sb_codec_record_free(&rec);
    }
}

int sb_bridge_patch(struct sb_bridge *b, const char *sid, const json_t *data,
                    int64_t now, struct sb_session *out, struct sb_err *err)
{
    struct sb_redis *r = sb_bridge_store(b, err);

    if (r == NULL ||
        sb_store_patch(r, b->cfg->prefix, sid, data, now, out, err) != 0)
        return -1;
    sb_cache_invalidate_sid(sid, strlen(sid));
    refresh_records(b, out);
    return 0;
}
