/* routes.c - the route table: every endpoint of the daemon, in one place,
 * and path matching against it. */
#include "http.h"

#include <string.h>

#include "endpoints.h"

/* Forward-auth answers whatever method the original request had, OPTIONS
 * too: a CORS preflight passes through nginx or Envoy to the bridge like
 * any request. */
#define SB_M_ANY_AUTH (SB_M_GET | SB_M_POST | SB_M_PUT | SB_M_PATCH | \
                       SB_M_DELETE | SB_M_HEAD | SB_M_OPTIONS)

const struct sb_http_route sb_http_routes[] = {
    {"/health", "/health", SB_M_GET | SB_M_HEAD, sb_ep_health},
    {"/ready", "/ready", SB_M_GET | SB_M_HEAD, sb_ep_ready},
    {"/metrics", "/metrics", SB_M_GET, sb_ep_metrics},
    {"/status", "/status", SB_M_GET, sb_ep_status_page},
    {"/status.json", "/status.json", SB_M_GET, sb_ep_status_json},
    {"/status/{file}", "/status/{file}", SB_M_GET, sb_ep_status_asset},
    {"/v1/validate", "/v1/validate", SB_M_POST, sb_ep_validate},
    {"/v1/translate", "/v1/translate", SB_M_POST, sb_ep_translate},
    {"/v1/auth", "/v1/auth", SB_M_ANY_AUTH, sb_ep_auth},
    {"/v1/auth/*", "/v1/auth/*", SB_M_ANY_AUTH, sb_ep_auth},
    {"/v1/sessions", "/v1/sessions", SB_M_POST, sb_ep_sessions_create},
    {"/v1/sessions/{sid}", "/v1/sessions/{sid}",
     SB_M_GET | SB_M_PATCH | SB_M_DELETE, sb_ep_session},
    {"/v1/users/{subject}/sessions", "/v1/users/{subject}/sessions",
     SB_M_GET | SB_M_DELETE, sb_ep_user_sessions},
    {"/v1/introspect", "/v1/introspect", SB_M_POST, sb_ep_introspect},
    {"/v1/revoke", "/v1/revoke", SB_M_POST, sb_ep_revoke},
    {"/v1/apikeys/validate", "/v1/apikeys/validate", SB_M_POST,
     sb_ep_apikeys_validate},
    {"/.well-known/jwks.json", "/.well-known/jwks.json", SB_M_GET | SB_M_HEAD,
     sb_ep_jwks},
};

const size_t sb_http_route_count =
    sizeof(sb_http_routes) / sizeof(sb_http_routes[0]);

/* True when path matches pattern ("{x}" = one non-empty segment, trailing
 * "*" = anything). */
static bool path_matches(const char *pattern, const char *path)
{
    while (*pattern != '\0') {
        if (*pattern == '*')
            return true;
        if (*pattern == '{') {
            const char *end = strchr(pattern, '}');
            size_t seg = strcspn(path, "/");
            if (end == NULL || seg == 0)
                return false;
            pattern = end + 1;
            path += seg;
            continue;
        }
        if (*pattern != *path)
            return false;
        pattern++;
        path++;
    }
    return *path == '\0';
}

const struct sb_http_route *sb_http_route_find(const char *path,
                                               unsigned method_bit,
                                               bool *path_matched)
{
    size_t i;

    *path_matched = false;
    for (i = 0; i < sb_http_route_count; i++) {
        if (!path_matches(sb_http_routes[i].pattern, path))
            continue;
        *path_matched = true;
        if (sb_http_routes[i].methods & method_bit)
            return &sb_http_routes[i];
    }
    return NULL;
}

void sb_http_route_allow(const char *path, char *buf, size_t size)
{
    static const char *const names[] = {"GET", "POST", "PUT", "PATCH",
                                        "DELETE", "HEAD", "OPTIONS"};
    unsigned methods = 0;
    size_t i, o = 0;

    for (i = 0; i < sb_http_route_count; i++) {
        if (path_matches(sb_http_routes[i].pattern, path))
            methods |= sb_http_routes[i].methods;
    }
    buf[0] = '\0';
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (methods & (1u << i)) {
            int n = snprintf(buf + o, size - o, "%s%s", o ? ", " : "",
                             names[i]);
            if (n < 0 || (size_t)n >= size - o)
                break;
            o += (size_t)n;
        }
    }
}

long sb_http_path_param(const struct sb_http_req *req, unsigned n, char *buf,
                        size_t size)
{
    const char *pattern = req->route->pattern, *path = req->path;
    unsigned seen = 0;

    while (*pattern != '\0' && *pattern != '*') {
        if (*pattern == '{') {
            size_t seg = strcspn(path, "/");
            if (seen++ == n) {
                /* MHD has already percent-decoded the path: decoding
                 * again would turn a literal "%41" into "A". */
                if (seg + 1 > size)
                    return -1;
                memcpy(buf, path, seg);
                buf[seg] = '\0';
                return (long)seg;
            }
            pattern = strchr(pattern, '}') + 1;
            path += seg;
            continue;
        }
        pattern++;
        path++;
    }
    return -1;
}
