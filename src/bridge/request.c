/* request.c - which credentials a request carries: its cookies of each
 * configured profile, then an Authorization bearer token. */
#include <string.h>
#include <strings.h>

#include "sessionbridge/bridge.h"

size_t sb_bridge_cookies_split(const char *h, struct sb_bridge_cookie *out,
                               size_t max)
{
    size_t n = 0;

    while (h != NULL && *h != '\0' && n < max) {
        const char *end, *eq;
        size_t len;

        while (*h == ' ' || *h == ';')
            h++;
        end = strchr(h, ';');
        len = end ? (size_t)(end - h) : strlen(h);
        eq = memchr(h, '=', len);
        if (eq != NULL && eq > h) {
            struct sb_bridge_cookie *c = &out[n++];
            c->name = h;
            c->name_len = (size_t)(eq - h);
            while (c->name_len > 0 && h[c->name_len - 1] == ' ')
                c->name_len--;
            c->value = eq + 1;
            c->value_len = len - (size_t)(eq + 1 - h);
            while (c->value_len > 0 && c->value[c->value_len - 1] == ' ')
                c->value_len--;
            if (c->value_len >= 2 && c->value[0] == '"' &&
                c->value[c->value_len - 1] == '"') {
                c->value++;
                c->value_len -= 2;
            }
        }
        h = end;
    }
    return n;
}

const char *sb_bridge_bearer(const char *h, size_t *len)
{
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    *len = strlen(h);
    while (*len > 0 && h[*len - 1] == ' ')
        (*len)--;
    return *len ? h : NULL;
}

size_t sb_bridge_candidates(const struct sb_config *cfg,
                            const struct sb_bridge_request *rq,
                            const struct sb_profile *only,
                            struct sb_bridge_candidate *out, size_t max)
{
    struct sb_bridge_cookie cookies[SB_BRIDGE_COOKIES_MAX];
    size_t nc = sb_bridge_cookies_split(rq->cookie, cookies,
                                        SB_BRIDGE_COOKIES_MAX);
    size_t i, k, n = 0, blen = 0;
    const char *bearer = sb_bridge_bearer(rq->authorization, &blen);

    size_t cookie_max = max > 0 ? max - 1 : 0; /* a slot for the bearer */

    for (i = 0; i < cfg->profile_count; i++) {
        const struct sb_profile *p = &cfg->profiles[i];
        size_t name_len = p->cookie.name ? strlen(p->cookie.name) : 0;
        size_t of_profile = 0;
        if (only != NULL && p != only)
            continue;
        for (k = 0; k < nc && n < cookie_max && name_len > 0 &&
                    of_profile < SB_BRIDGE_PER_PROFILE_MAX;
             k++) {
            if (cookies[k].name_len != name_len ||
                memcmp(cookies[k].name, p->cookie.name, name_len) != 0)
                continue;
            of_profile++;
            out[n].p = p;
            out[n].value = cookies[k].value;
            out[n].len = cookies[k].value_len;
            out[n].bearer = false;
            n++;
        }
    }
    if (bearer != NULL && n < max) {
        out[n].p = only;
        out[n].value = bearer;
        out[n].len = blen;
        out[n].bearer = true;
        n++;
    }
    return n;
}

/* Copies the first comma-separated entry of v, trimmed, into buf. */
static void first_entry(const char *v, char *buf, size_t size)
{
    size_t n;

    while (*v == ' ' || *v == '\t')
        v++;
    n = strcspn(v, ", \t");
    if (n >= size)
        n = size - 1;
    memcpy(buf, v, n);
    buf[n] = '\0';
}

bool sb_bridge_client_addr(const char *xff, const char *xri, char *buf,
                           size_t size)
{
    if (xff != NULL && *xff != '\0')
        first_entry(xff, buf, size);
    else if (xri != NULL && *xri != '\0')
        first_entry(xri, buf, size);
    else
        return false;
    return true;
}

int sb_bridge_candidate_token(const struct sb_bridge_candidate *c, char *buf,
                              size_t size, struct sb_err *err)
{
    if (c->bearer) {
        if (c->len >= size)
            return sb_err_set(err, SB_ERR_TOO_LARGE, "credential too large");
        memcpy(buf, c->value, c->len);
        buf[c->len] = '\0';
        return 0;
    }
    return sb_cookie_value_decode(c->p, c->value, c->len, buf, size, err) < 0
               ? -1
               : 0;
}

enum sb_bridge_presented sb_bridge_presented_add(const struct sb_config *cfg,
                                                 enum sb_bridge_presented was,
                                                 const struct sb_profile *p)
{
    unsigned bits = (unsigned)was; /* LEGACY = 1, NEW = 2, BOTH = 3 */

    if (p == NULL)
        return was;
    if (cfg->route_legacy != NULL && strcmp(p->name, cfg->route_legacy) == 0)
        bits |= SB_PRESENTED_LEGACY;
    if (cfg->route_new != NULL && strcmp(p->name, cfg->route_new) == 0)
        bits |= SB_PRESENTED_NEW;
    return (enum sb_bridge_presented)bits;
}

enum sb_bridge_presented
sb_bridge_presented(const struct sb_config *cfg,
                    const struct sb_bridge_candidate *cands, size_t n)
{
    enum sb_bridge_presented was = SB_PRESENTED_NONE;
    size_t i;

    for (i = 0; i < n; i++)
        was = sb_bridge_presented_add(cfg, was, cands[i].p);
    return was;
}

const char *sb_bridge_presented_name(enum sb_bridge_presented p)
{
    static const char *const names[SB_PRESENTED_COUNT] = {"none", "legacy",
                                                          "new", "both"};

    return (unsigned)p < SB_PRESENTED_COUNT ? names[p] : "none";
}
