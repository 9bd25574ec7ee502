/* auth.c - the forward-auth decision (nginx auth_request, Traefik
 * ForwardAuth, Envoy ext_authz): whose request it is, the credential for
 * [route] mint, and the cookies the browser lacks for the route's
 * profiles.  The answer is a list of headers any surface can send. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/bridge.h"
#include "sessionbridge/cache.h"
#include "sessionbridge/log.h"
#include "sessionbridge/percent.h"

/* Scratch for a credential as presented, per thread. */
static __thread char presented[SB_TOKEN_MAX + 1];

/* Room for n bytes at the end of a's header text, or NULL. */
static char *text_room(struct sb_bridge_auth *a, size_t n)
{
    return n <= sizeof(a->text) - a->text_len ? a->text + a->text_len : NULL;
}

/* Appends header name: value as stored: in a's text, or on the heap when
 * heap (then a frees it, also when the table is full). */
static int push_header(struct sb_bridge_auth *a, const char *name,
                       char *value, bool heap, struct sb_err *err)
{
    if (a->nheaders == SB_BRIDGE_AUTH_HEADERS_MAX) {
        if (heap)
            free(value);
        return sb_err_set(err, SB_ERR_INTERNAL, "too many headers");
    }
    if (heap)
        a->heap_values |= 1u << a->nheaders;
    a->headers[a->nheaders].name = name;
    a->headers[a->nheaders].value = value;
    a->nheaders++;
    return 0;
}

/* Appends header name: value; value is copied (into a's text when it
 * fits), or taken when owned (a malloc'd string). */
static int add_header(struct sb_bridge_auth *a, const char *name,
                      char *value, bool owned, struct sb_err *err)
{
    size_t n;
    char *room, *copy;

    if (owned)
        return push_header(a, name, value, true, err);
    n = strlen(value) + 1;
    if ((room = text_room(a, n)) != NULL) {
        memcpy(room, value, n);
        a->text_len += n;
        return push_header(a, name, room, false, err);
    }
    if ((copy = strdup(value)) == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    return push_header(a, name, copy, true, err);
}

/* The bytes a header value keeps: printable ASCII but '%'. */
static bool header_byte_kept(unsigned char c, const void *unused)
{
    return c >= 0x20 && c < 0x7f && c != '%';
}

/* Adds a header whose value came from a credential, with '%', control
 * bytes and non-ASCII as %XX, so a header never carries what the
 * credential smuggled in. */
static int add_safe_header(struct sb_bridge_auth *a, const char *name,
                           const char *value, struct sb_err *err)
{
    size_t n = strlen(value);
    char *room = text_room(a, 3 * n + 1);
    char *buf = room != NULL ? room : malloc(3 * n + 1);
    long written = -1;

    if (buf != NULL)
        written = sb_percent_encode(value, n, header_byte_kept, NULL, buf,
                                    3 * n + 1);
    if (written < 0) {
        if (room == NULL)
            free(buf);
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    }
    if (room != NULL)
        a->text_len += (size_t)written + 1;
    return push_header(a, name, buf, room == NULL, err);
}

/* True when a and b name the same owner (both no one, or one subject). */
static bool same_owner(const struct sb_session *a, const struct sb_session *b)
{
    return (a->subject == NULL && b->subject == NULL) ||
           (a->subject != NULL && b->subject != NULL &&
            strcmp(a->subject, b->subject) == 0);
}

/* The browser's cookie of profile q for the same session (it verifies and
 * carries the sid and owner of s), or NULL.  A cookie the cache holds
 * needs no decoding; one that had to be decoded is cached as s's, which
 * the store just judged (under ticket, taken before it was asked). */
static const struct sb_bridge_candidate *
held_cookie(const struct sb_config *cfg, const struct sb_bridge_found *f,
            const struct sb_profile *q, const struct sb_session *s,
            uint64_t ticket, const struct sb_codec_ctx *ctx)
{
    const struct sb_profile *used;
    struct sb_session t;
    struct sb_err e;
    unsigned kind = (unsigned)(q - cfg->profiles);
    size_t i;
    bool same = false, hit;

    for (i = 0; i < f->n; i++) {
        const struct sb_bridge_candidate *c = &f->cands[i];
        if (c->bearer || c->p != q)
            continue;
        sb_session_init(&t);
        hit = sb_cache_lookup(cfg, kind, c->value, c->len, ctx, &t, &used);
        if (hit ||
            (sb_bridge_candidate_token(c, presented, sizeof(presented),
                                       &e) == 0 &&
             sb_bridge_decode(cfg, q, presented, strlen(presented), ctx, &t,
                              &used, &e) == 0))
            same = strcmp(t.sid, s->sid) == 0 && same_owner(&t, s);
        if (same && !hit)
            sb_cache_insert(cfg, ticket, kind, c->value, c->len, ctx, &t,
                            used);
        sb_session_reset(&t);
        if (same)
            return c;
    }
    return NULL;
}

/* True when profiles a and b write the same cookie (name, path, domain):
 * a browser can hold only one of them. */
static bool same_cookie(const struct sb_profile *a, const struct sb_profile *b)
{
    const char *pa = a->cookie.path ? a->cookie.path : "/";
    const char *pb = b->cookie.path ? b->cookie.path : "/";

    return a->cookie.name != NULL && b->cookie.name != NULL &&
           strcmp(a->cookie.name, b->cookie.name) == 0 &&
           strcmp(pa, pb) == 0 &&
           ((a->cookie.domain == NULL && b->cookie.domain == NULL) ||
            (a->cookie.domain != NULL && b->cookie.domain != NULL &&
             strcmp(a->cookie.domain, b->cookie.domain) == 0));
}

/* X-Session-Token (the credential as the codec reads it) and
 * X-Session-Cookie (name=value as on the wire) of a presented credential. */
static int add_presented(struct sb_bridge_auth *a, const struct sb_profile *q,
                         const struct sb_bridge_candidate *c,
                         struct sb_err *err)
{
    char *pair = NULL;

    if (sb_bridge_candidate_token(c, presented, sizeof(presented), err) != 0 ||
        add_header(a, "X-Session-Token", presented, false, err) != 0)
        return -1;
    if (c->bearer)
        return 0;
    if (asprintf(&pair, "%s=%.*s", q->cookie.name, (int)c->len, c->value) < 0)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    return add_header(a, "X-Session-Cookie", pair, true, err);
}

/* X-Session-Token and X-Session-Cookie of a minted credential. */
static int add_minted(struct sb_bridge_auth *a, const char *token,
                      const char *set_cookie, struct sb_err *err)
{
    char *pair = strndup(set_cookie, strcspn(set_cookie, ";"));

    if (pair == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    if (add_header(a, "X-Session-Token", (char *)token, false, err) != 0) {
        free(pair);
        return -1;
    }
    return add_header(a, "X-Session-Cookie", pair, true, err);
}

/* Records q among the profiles whose credential in the request is valid
 * for the session (once). */
static void add_valid(struct sb_bridge_auth *a, const struct sb_profile *q)
{
    size_t i;

    for (i = 0; i < a->nvalid; i++) {
        if (a->valid[i] == q)
            return;
    }
    if (a->nvalid < sizeof(a->valid) / sizeof(a->valid[0]))
        a->valid[a->nvalid++] = q;
}

/* True when the request carries a cookie of profile p (valid or not). */
static bool carries_cookie(const struct sb_bridge_found *f,
                           const struct sb_profile *p)
{
    size_t i;

    for (i = 0; i < f->n; i++) {
        if (!f->cands[i].bearer && f->cands[i].p == p)
            return true;
    }
    return false;
}

/*
 * [route] retire = legacy: once the browser holds a valid new credential
 * for this session (found, or a cookie of the new profile carrying the
 * same session), a legacy cookie it still sends is expired (its name,
 * path and domain from the legacy profile).  Never while the legacy
 * credential is the only valid one: an invalid or revoked new cookie
 * retires nothing.
 */
static int retire_legacy(const struct sb_config *cfg,
                         const struct sb_bridge_found *f, bool new_held,
                         struct sb_bridge_auth *a, struct sb_err *err)
{
    const struct sb_profile *legacy = sb_config_profile(cfg, cfg->route_legacy);
    const struct sb_profile *fresh = sb_config_profile(cfg, cfg->route_new);
    char *expired = NULL;

    if (legacy == NULL || fresh == NULL || !new_held ||
        !carries_cookie(f, legacy))
        return 0;
    if (sb_cookie_build_expired(legacy, &expired, err) != 0)
        return -1;
    if (add_header(a, "Set-Cookie", expired, true, err) != 0)
        return -1;
    a->retired = true;
    return 0;
}

/*
 * The route part of a 200: the credential for [route] mint (the browser's
 * own cookie of that profile when it holds one for this session, else a
 * new one), and a Set-Cookie for each route profile the browser lacks (no
 * cookie of that profile for this session; never when that profile's
 * cookie is the found one's: the browser can hold only one; never the
 * legacy one with [route] retire = legacy, which then expires it once a
 * valid new one is held).  Fails only for store and memory errors; a
 * profile that cannot carry the session is logged and skipped.
 */
static int route_headers(struct sb_bridge *b, const struct sb_bridge_found *f,
                         uint64_t ticket, const struct sb_codec_ctx *ctx,
                         struct sb_bridge_auth *a, struct sb_err *err)
{
    const struct sb_config *cfg = b->cfg;
    const char *names[3] = {cfg->route_mint, cfg->route_legacy,
                            cfg->route_new};
    const struct sb_profile *done[3] = {NULL, NULL, NULL};
    const struct sb_profile *fresh =
        cfg->route_new ? sb_config_profile(cfg, cfg->route_new) : NULL;
    const struct sb_profile *retired =
        cfg->route_retire_legacy ? sb_config_profile(cfg, cfg->route_legacy)
                                 : NULL;
    bool new_held = f->used == fresh;
    size_t i, k;

    add_valid(a, f->used);
    for (i = 0; i < 3; i++) {
        const struct sb_profile *q = names[i] ? sb_config_profile(cfg, names[i])
                                              : NULL;
        const struct sb_bridge_candidate *held;
        char *token = NULL, *cookie = NULL;
        bool dup = false, mint = i == 0, give_cookie;
        int rc = 0;

        for (k = 0; k < i; k++)
            dup = dup || done[k] == q;
        if (q == NULL || dup)
            continue;
        done[i] = q;
        held = q == f->used ? f->which
                            : held_cookie(cfg, f, q, &a->s, ticket, ctx);
        if (held != NULL)
            add_valid(a, q);
        new_held = new_held || (held != NULL && q == fresh);
        give_cookie = held == NULL && !same_cookie(q, f->used) &&
                      q != retired;
        if (mint && held != NULL && add_presented(a, q, held, err) != 0)
            return -1;
        if (!give_cookie && (held != NULL || !mint))
            continue;
        if (sb_bridge_mint(b, q, &a->s, ctx, &token, &cookie, err) != 0) {
            if (err->code == SB_ERR_STORE || err->code == SB_ERR_NOMEM)
                return -1;
            sb_log(SB_LOG_WARN, "forward-auth: cannot mint a credential",
                   "profile", q->name, "reason", err->msg, NULL);
            continue;
        }
        a->minted = true;
        if (mint)
            rc = add_minted(a, token, cookie, err);
        if (rc == 0 && give_cookie) {
            rc = add_header(a, "Set-Cookie", cookie, true, err);
            cookie = NULL;
        }
        free(token);
        free(cookie);
        if (rc != 0)
            return -1;
    }
    if (cfg->route_retire_legacy)
        return retire_legacy(cfg, f, new_held, a, err);
    return 0;
}

/* Logs a shadow disagreement: which fields, never their values; at most
 * one line a second per worker thread, with how many were not logged. */
static void log_disagreement(const struct sb_config *cfg, int64_t now,
                             const char *fields)
{
    static __thread int64_t last;
    static __thread unsigned long quiet;
    char count[24];

    if (now == last) {
        quiet++;
        return;
    }
    snprintf(count, sizeof(count), "%lu", quiet);
    sb_log(SB_LOG_WARN, "shadow: the new profile would see this session "
           "differently", "legacy", cfg->route_legacy, "new", cfg->route_new,
           "fields", fields, "not_logged_before", count, NULL);
    last = now;
    quiet = 0;
}

/* [route] shadow = on: a request the legacy credential authenticated is
 * also checked against the new format (sb_bridge_shadow). */
static void shadow_check(const struct sb_config *cfg,
                         const struct sb_codec_ctx *ctx,
                         struct sb_bridge_auth *a)
{
    const struct sb_profile *legacy, *fresh;
    char fields[256];

    if (!cfg->route_shadow)
        return;
    legacy = sb_config_profile(cfg, cfg->route_legacy);
    fresh = sb_config_profile(cfg, cfg->route_new);
    if (legacy == NULL || fresh == NULL || a->used != legacy)
        return;
    a->shadow = sb_bridge_shadow(cfg, fresh, &a->s, ctx, fields,
                                 sizeof(fields));
    if (a->shadow == SB_SHADOW_DISAGREE)
        log_disagreement(cfg, ctx->now, fields);
}

/* Drops every header (a failure hands out nothing). */
static void clear_headers(struct sb_bridge_auth *a)
{
    size_t i;

    for (i = 0; i < a->nheaders; i++)
        if (a->heap_values & (1u << i))
            free(a->headers[i].value);
    a->nheaders = 0;
    a->heap_values = 0;
    a->text_len = 0;
}

int sb_bridge_auth(struct sb_bridge *b, const struct sb_bridge_request *rq,
                   const struct sb_codec_ctx *ctx, struct sb_bridge_auth *a,
                   struct sb_err *err)
{
    static __thread struct sb_bridge_found f;
    uint64_t ticket = sb_cache_ticket();

    memset(a, 0, sizeof(*a));
    sb_session_init(&a->s);
    if (sb_bridge_find(b, rq, NULL, ctx, &a->s, &f, err) != 0) {
        a->used = f.used;
        a->presented = sb_bridge_presented(b->cfg, f.cands, f.n);
        return -1;
    }
    a->used = f.used;
    a->created = f.created;
    a->presented = sb_bridge_presented(b->cfg, f.cands, f.n);
    if (f.which->bearer)
        a->presented = sb_bridge_presented_add(b->cfg, a->presented, f.used);
    shadow_check(b->cfg, ctx, a);
    if (route_headers(b, &f, ticket, ctx, a, err) != 0 ||
        (a->s.subject != NULL &&
         add_safe_header(a, "X-Session-Subject", a->s.subject, err) != 0) ||
        add_header(a, "X-Session-Id", a->s.sid, false, err) != 0 ||
        add_header(a, "X-Session-Profile", (char *)a->used->name, false,
                   err) != 0) {
        clear_headers(a);
        sb_session_reset(&a->s);
        return -1;
    }
    return 0;
}

void sb_bridge_auth_free(struct sb_bridge_auth *a)
{
    clear_headers(a);
    sb_session_reset(&a->s);
}
