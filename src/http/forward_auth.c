/* forward_auth.c - GET|POST /v1/auth and every path below it: the
 * forward-auth answer for nginx auth_request, Traefik ForwardAuth and
 * Envoy ext_authz (HTTP mode).  200 with the identity in X-Session-*
 * headers, the credential minted for [route] mint, and Set-Cookie for each
 * [route] profile whose cookie the browser lacks; 401 without a valid
 * credential; 503 when the store cannot be asked (and then no Set-Cookie,
 * so an outage never replaces anyone's cookie). */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "endpoints.h"
#include "metrics.h"
#include "sessionbridge/log.h"

#define AUTH_TOKEN_MAX (SB_TOKEN_MAX + 1)

/* Per-thread scratch for the credential as presented. */
static __thread char presented[AUTH_TOKEN_MAX];

/* Copies v into buf with '%', control bytes and non-ASCII as %XX, so a
 * header never carries what the credential smuggled in. */
static void header_safe(const char *v, char *buf, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *v != '\0' && o + 4 <= size; v++) {
        unsigned char c = (unsigned char)*v;
        if (c < 0x20 || c >= 0x7f || c == '%') {
            buf[o++] = '%';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o] = '\0';
}

/* The browser's cookie of profile q for the same session (it verifies
 * and carries sid), or NULL. */
static const struct sb_api_candidate *
held_cookie(struct sb_http_req *req, const struct sb_api_candidate *cands,
            size_t n, const struct sb_profile *q, const char *sid,
            const struct sb_codec_ctx *ctx)
{
    const struct sb_profile *used;
    struct sb_session t;
    struct sb_err e;
    size_t i;
    bool same = false;

    for (i = 0; i < n; i++) {
        if (cands[i].bearer || cands[i].p != q)
            continue;
        sb_session_init(&t);
        if (sb_api_candidate_token(&cands[i], presented, sizeof(presented),
                                   &e) == 0 &&
            sb_api_decode_any(req->cfg, q, presented, strlen(presented), ctx,
                              &t, &used, &e) == 0)
            same = strcmp(t.sid, sid) == 0;
        sb_session_reset(&t);
        if (same)
            return &cands[i];
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

/* Adds X-Session-Token (the credential as the codec reads it) and
 * X-Session-Cookie (name=value as on the wire) for a credential the
 * browser presented. */
static int add_presented(struct sb_http_req *req, const struct sb_profile *q,
                         const struct sb_api_candidate *c, struct sb_err *err)
{
    char *pair = NULL;

    if (sb_api_candidate_token(c, presented, sizeof(presented), err) != 0)
        return -1;
    sb_http_add_header(req, "X-Session-Token", presented);
    if (!c->bearer && asprintf(&pair, "%s=%.*s", q->cookie.name, (int)c->len,
                               c->value) > 0)
        sb_http_add_header(req, "X-Session-Cookie", pair);
    free(pair);
    return 0;
}

/* Adds X-Session-Token and X-Session-Cookie for a minted credential. */
static void add_minted(struct sb_http_req *req, const char *token,
                       const char *set_cookie)
{
    char *pair = strndup(set_cookie, strcspn(set_cookie, ";"));

    sb_http_add_header(req, "X-Session-Token", token);
    if (pair != NULL)
        sb_http_add_header(req, "X-Session-Cookie", pair);
    free(pair);
}

/*
 * The route part of a 200: the credential for [route] mint (the browser's
 * own cookie of that profile when it holds one for this session, else a
 * new one), and a Set-Cookie for each route profile the browser lacks (no
 * cookie of that profile for this session; never when that profile's
 * cookie is the found one's: the browser can hold only one).  Returns -1
 * only for a store error (the caller then answers 503 instead); a profile
 * that cannot encode the session is logged and skipped.
 */
static int add_route_headers(struct sb_http_req *req, struct sb_redis *r,
                             const struct sb_profile *found,
                             const struct sb_session *s,
                             const struct sb_api_candidate *which,
                             const struct sb_api_candidate *cands, size_t n,
                             const struct sb_codec_ctx *ctx,
                             struct sb_err *err)
{
    const struct sb_config *cfg = req->cfg;
    const char *names[3] = {cfg->route_mint, cfg->route_legacy,
                            cfg->route_new};
    const struct sb_profile *done[3] = {NULL, NULL, NULL};
    size_t i, k;

    for (i = 0; i < 3; i++) {
        const struct sb_profile *q = names[i] ? sb_config_profile(cfg, names[i])
                                              : NULL;
        const struct sb_api_candidate *held;
        char *token = NULL, *cookie = NULL;
        bool dup = false, mint = i == 0, give_cookie;

        for (k = 0; k < i; k++)
            dup = dup || done[k] == q;
        if (q == NULL || dup)
            continue;
        done[i] = q;
        held = q == found ? which : held_cookie(req, cands, n, q, s->sid, ctx);
        give_cookie = held == NULL && !same_cookie(q, found);
        if (mint && held != NULL && add_presented(req, q, held, err) != 0)
            return -1;
        if (!give_cookie && (held != NULL || !mint))
            continue;
        if (sb_api_mint(r, cfg, q, s, ctx, &token, &cookie, err) != 0) {
            if (err->code == SB_ERR_STORE)
                return -1;
            sb_log(SB_LOG_WARN, "forward-auth: cannot mint a credential",
                   "profile", q->name, "reason", err->msg, NULL);
            continue;
        }
        if (mint)
            add_minted(req, token, cookie);
        if (give_cookie)
            sb_http_add_header(req, "Set-Cookie", cookie);
        free(token);
        free(cookie);
    }
    return 0;
}

void sb_ep_auth(struct sb_http_req *req)
{
    struct sb_api_candidate cands[SB_API_COOKIES_MAX + 1];
    const struct sb_api_candidate *which = NULL;
    const struct sb_profile *used = NULL;
    struct sb_codec_ctx ctx;
    struct sb_session s;
    struct sb_err err = {0};
    struct sb_redis *r = NULL;
    char addr[64], subject[3 * 256 + 1];
    size_t n = 0, i;

    if (!sb_api_authorize(req, SB_API_OPEN_AUTH))
        return;
    sb_api_codec_ctx(req, &ctx, addr, sizeof(addr));
    sb_session_init(&s);
    if (sb_api_find(req, &ctx, NULL, &r, &s, &used, &which, cands, &n,
                    &err) != 0)
        goto err_reply;
    if (add_route_headers(req, r, used, &s, which, cands, n, &ctx,
                          &err) != 0) {
        for (i = 0; i < req->header_count; i++)
            free(req->header_values[i]);
        req->header_count = 0;
        goto err_reply;
    }
    if (s.subject != NULL) {
        header_safe(s.subject, subject, sizeof(subject));
        sb_http_add_header(req, "X-Session-Subject", subject);
    }
    sb_http_add_header(req, "X-Session-Id", s.sid);
    sb_http_add_header(req, "X-Session-Profile", used->name);
    sb_metrics_credential("auth", used->name, SB_OK);
    sb_session_reset(&s);
    sb_http_reply_raw(req, 200, "text/plain", "", 0);
    return;

err_reply:
    sb_session_reset(&s);
    sb_metrics_credential("auth", used ? used->name : "none", err.code);
    sb_http_add_header(req, "X-Session-Error", sb_err_code_name(err.code));
    sb_api_fail(req, &err);
    if (req->status == 413 || req->status == 404 || req->status == 400)
        req->status = 401;
}
