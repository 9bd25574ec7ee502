/* ext_authz.c - envoy.service.auth.v3.Authorization/Check: Envoy's
 * external authorizer over gRPC.  The request's Cookie, Authorization,
 * X-Forwarded-For / X-Real-IP and User-Agent come from
 * attributes.request.http (the header map, or Envoy's raw header list);
 * the bridge decides exactly as for GET /v1/auth (sb_bridge_auth), and
 * this file turns its answer into a CheckResponse: OK with the X-Session-*
 * headers for the upstream and Set-Cookie for the client, a denial 401
 * with X-Session-Error, or the call failing UNAVAILABLE when the store
 * cannot be asked (Envoy then fails closed unless failure_mode_allow). */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/observe.h"
#include "service.h"
#include "sessionbridge/clock.h"

#define RAW_MAX (sizeof(((struct sb_grpc_check_in *)0)->raw) / \
                 sizeof(char *))

/* The slot of in for header name (the ones Check reads), or NULL. */
static const char **slot_of(struct sb_grpc_check_in *in, const char *name,
                            const char **xff, const char **xri)
{
    if (strcasecmp(name, "cookie") == 0)
        return &in->rq.cookie;
    if (strcasecmp(name, "authorization") == 0)
        return &in->rq.authorization;
    if (strcasecmp(name, "user-agent") == 0)
        return &in->user_agent;
    if (strcasecmp(name, "x-forwarded-for") == 0)
        return xff;
    if (strcasecmp(name, "x-real-ip") == 0)
        return xri;
    if (strcasecmp(name, "x-sessionbridge-backend") == 0)
        return &in->backend;
    return NULL;
}

/* Appends a raw "cookie" header to the ones already read ("; " between,
 * as HTTP/2 splits one Cookie header into several). */
static int join_cookie(struct sb_grpc_check_in *in, const char *v,
                       struct sb_err *err)
{
    char *joined;

    if (in->cookie_joined == NULL && in->rq.cookie == NULL) {
        in->rq.cookie = v;
        return 0;
    }
    if (asprintf(&joined, "%s; %s", in->rq.cookie, v) < 0)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    free(in->cookie_joined);
    in->cookie_joined = joined;
    in->rq.cookie = joined;
    return 0;
}

/* The value of a raw header: value, or raw_value copied (refused when it
 * holds a NUL byte).  NULL with err on failure. */
static const char *raw_header_value(struct sb_grpc_check_in *in,
                                    const Envoy__Config__Core__V3__HeaderValue *h,
                                    size_t *nraw, struct sb_err *err)
{
    const ProtobufCBinaryData *rv = &h->raw_value;

    if (rv->len == 0)
        return h->value;
    if (memchr(rv->data, '\0', rv->len) != NULL) {
        sb_err_set(err, SB_ERR_INVALID_REQUEST,
                   "a header value holds a NUL byte");
        return NULL;
    }
    if (*nraw == RAW_MAX) {
        sb_err_set(err, SB_ERR_INVALID_REQUEST,
                   "a header Check reads is repeated too often");
        return NULL;
    }
    in->raw[*nraw] = strndup((const char *)rv->data, rv->len);
    if (in->raw[*nraw] == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return in->raw[(*nraw)++];
}

/* Reads Envoy's raw header list (encode_raw_headers): every "cookie"
 * header joined, the first of each other header kept. */
static int read_header_map(struct sb_grpc_check_in *in,
                           const Envoy__Config__Core__V3__HeaderMap *map,
                           const char **xff, const char **xri,
                           struct sb_err *err)
{
    size_t i, nraw = 0;

    for (i = 0; i < map->n_headers; i++) {
        const Envoy__Config__Core__V3__HeaderValue *h = map->headers[i];
        const char **slot = slot_of(in, h->key, xff, xri);
        const char *v;
        bool cookie = slot == &in->rq.cookie;
        if (slot == NULL || (*slot != NULL && !cookie))
            continue;
        v = raw_header_value(in, h, &nraw, err);
        if (v == NULL)
            return -1;
        if (cookie) {
            if (join_cookie(in, v, err) != 0)
                return -1;
        } else {
            *slot = v;
        }
    }
    return 0;
}

int sb_grpc_check_read(const uint8_t *req, size_t len,
                       struct sb_grpc_check_in *in, struct sb_err *err)
{
    const Envoy__Service__Auth__V3__AttributeContext *attrs;
    const Envoy__Service__Auth__V3__AttributeContext__HttpRequest *http = NULL;
    const char *xff = NULL, *xri = NULL;
    size_t i;

    memset(in, 0, sizeof(*in));
    in->msg = envoy__service__auth__v3__check_request__unpack(NULL, len, req);
    if (in->msg == NULL)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "the request is not an envoy.service.auth.v3."
                          "CheckRequest");
    attrs = in->msg->attributes;
    if (attrs != NULL && attrs->request != NULL)
        http = attrs->request->http;
    if (http != NULL) {
        for (i = 0; i < http->n_headers; i++) {
            const char **slot = slot_of(in, http->headers[i]->key, &xff,
                                        &xri);
            if (slot != NULL && *slot == NULL)
                *slot = http->headers[i]->value;
        }
        if (http->header_map != NULL &&
            read_header_map(in, http->header_map, &xff, &xri, err) != 0)
            return -1;
    }
    if (!sb_bridge_client_addr(xff, xri, in->addr, sizeof(in->addr)) &&
        attrs != NULL && attrs->source != NULL &&
        attrs->source->address != NULL &&
        attrs->source->address->socket_address != NULL)
        sb_bridge_client_addr(attrs->source->address->socket_address->address,
                              NULL, in->addr, sizeof(in->addr));
    return 0;
}

void sb_grpc_check_in_free(struct sb_grpc_check_in *in)
{
    size_t i;

    if (in->msg != NULL)
        envoy__service__auth__v3__check_request__free_unpacked(in->msg, NULL);
    free(in->cookie_joined);
    for (i = 0; i < RAW_MAX; i++)
        free(in->raw[i]);
    memset(in, 0, sizeof(*in));
}

/* ---- the answer ------------------------------------------------------------- */

/* Header options of an answer, in one block: at most
 * SB_BRIDGE_AUTH_HEADERS_MAX + 2 (the denial's two). */
struct header_set {
    Envoy__Config__Core__V3__HeaderValueOption opts[SB_BRIDGE_AUTH_HEADERS_MAX + 2];
    Envoy__Config__Core__V3__HeaderValue values[SB_BRIDGE_AUTH_HEADERS_MAX + 2];
    char names[SB_BRIDGE_AUTH_HEADERS_MAX + 2][48];
    size_t n;
};

/* Adds name: value (borrowed) with an append action to set and to the
 * list *list / *count points at; the name is lower-cased (HTTP/2). */
static void add_option(struct header_set *set, const char *name,
                       const char *value,
                       Envoy__Config__Core__V3__HeaderValueOption__HeaderAppendAction act,
                       Envoy__Config__Core__V3__HeaderValueOption **list,
                       size_t *count)
{
    Envoy__Config__Core__V3__HeaderValueOption *o = &set->opts[set->n];
    Envoy__Config__Core__V3__HeaderValue *v = &set->values[set->n];
    char *lower = set->names[set->n];
    size_t i;

    for (i = 0; name[i] != '\0' && i + 1 < sizeof(set->names[0]); i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = '\0';
    envoy__config__core__v3__header_value__init(v);
    envoy__config__core__v3__header_value_option__init(o);
    v->key = lower;
    v->value = (char *)value;
    o->header = v;
    o->append_action = act;
    list[(*count)++] = o;
    set->n++;
}

/* Packs resp into ans (status OK: Envoy reads the verdict from the
 * message). */
static void pack_answer(const Envoy__Service__Auth__V3__CheckResponse *resp,
                        struct sb_grpc_answer *ans)
{
    size_t n = envoy__service__auth__v3__check_response__get_packed_size(resp);

    ans->msg = malloc(n > 0 ? n : 1);
    if (ans->msg == NULL) {
        sb_grpc_fail(ans, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    ans->len = envoy__service__auth__v3__check_response__pack(resp, ans->msg);
    ans->status = GRPC_STATUS_OK;
}

/* OK: the identity and minted credential to the upstream (replacing
 * whatever the client sent under those names), Set-Cookie to the client
 * (appended: one per cookie). */
static void answer_ok(const struct sb_bridge_auth *a,
                      struct sb_grpc_answer *ans)
{
    Envoy__Service__Auth__V3__CheckResponse resp =
        ENVOY__SERVICE__AUTH__V3__CHECK_RESPONSE__INIT;
    Envoy__Service__Auth__V3__OkHttpResponse ok =
        ENVOY__SERVICE__AUTH__V3__OK_HTTP_RESPONSE__INIT;
    Google__Rpc__Status status = GOOGLE__RPC__STATUS__INIT;
    Envoy__Config__Core__V3__HeaderValueOption *up[SB_BRIDGE_AUTH_HEADERS_MAX];
    Envoy__Config__Core__V3__HeaderValueOption *down[SB_BRIDGE_AUTH_HEADERS_MAX];
    static __thread struct header_set set;
    size_t i;

    set.n = 0;
    ok.headers = up;
    ok.response_headers_to_add = down;
    for (i = 0; i < a->nheaders; i++) {
        if (strcasecmp(a->headers[i].name, "Set-Cookie") == 0)
            add_option(&set, a->headers[i].name, a->headers[i].value,
                       ENVOY__CONFIG__CORE__V3__HEADER_VALUE_OPTION__HEADER_APPEND_ACTION__APPEND_IF_EXISTS_OR_ADD,
                       down, &ok.n_response_headers_to_add);
        else
            add_option(&set, a->headers[i].name, a->headers[i].value,
                       ENVOY__CONFIG__CORE__V3__HEADER_VALUE_OPTION__HEADER_APPEND_ACTION__OVERWRITE_IF_EXISTS_OR_ADD,
                       up, &ok.n_headers);
    }
    status.code = GRPC_STATUS_OK;
    resp.status = &status;
    resp.http_response_case =
        ENVOY__SERVICE__AUTH__V3__CHECK_RESPONSE__HTTP_RESPONSE_OK_RESPONSE;
    resp.ok_response = &ok;
    pack_answer(&resp, ans);
}

/* Denied: 401 with X-Session-Error and the HTTP API's error body, as GET
 * /v1/auth answers; the google.rpc.Status says UNAUTHENTICATED. */
static void answer_denied(const struct sb_err *err,
                          struct sb_grpc_answer *ans)
{
    Envoy__Service__Auth__V3__CheckResponse resp =
        ENVOY__SERVICE__AUTH__V3__CHECK_RESPONSE__INIT;
    Envoy__Service__Auth__V3__DeniedHttpResponse denied =
        ENVOY__SERVICE__AUTH__V3__DENIED_HTTP_RESPONSE__INIT;
    Envoy__Type__V3__HttpStatus http = ENVOY__TYPE__V3__HTTP_STATUS__INIT;
    Google__Rpc__Status status = GOOGLE__RPC__STATUS__INIT;
    Envoy__Config__Core__V3__HeaderValueOption *hdrs[2];
    static __thread struct header_set set;
    const char *code = sb_err_code_name(err->code);
    json_t *body = json_pack("{s:s, s:s}", "error", code, "message",
                             err->msg);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

    json_decref(body);
    if (text == NULL) {
        sb_grpc_fail(ans, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    set.n = 0;
    denied.headers = hdrs;
    add_option(&set, "X-Session-Error", code,
               ENVOY__CONFIG__CORE__V3__HEADER_VALUE_OPTION__HEADER_APPEND_ACTION__OVERWRITE_IF_EXISTS_OR_ADD,
               hdrs, &denied.n_headers);
    add_option(&set, "Content-Type", "application/json",
               ENVOY__CONFIG__CORE__V3__HEADER_VALUE_OPTION__HEADER_APPEND_ACTION__OVERWRITE_IF_EXISTS_OR_ADD,
               hdrs, &denied.n_headers);
    http.code = ENVOY__TYPE__V3__STATUS_CODE__Unauthorized;
    denied.status = &http;
    denied.body = text;
    status.code = GRPC_STATUS_UNAUTHENTICATED;
    status.message = (char *)code;
    resp.status = &status;
    resp.http_response_case =
        ENVOY__SERVICE__AUTH__V3__CHECK_RESPONSE__HTTP_RESPONSE_DENIED_RESPONSE;
    resp.denied_response = &denied;
    pack_answer(&resp, ans);
    free(text);
}

void sb_grpc_ext_authz_check(const struct sb_grpc_call_info *call,
                             const uint8_t *req, size_t len,
                             struct sb_grpc_answer *ans)
{
    struct sb_grpc_check_in in;
    struct sb_bridge_auth a;
    struct sb_codec_ctx ctx;
    struct sb_bridge b = {call->cfg, NULL, false};
    struct sb_err err = {0};

    if (!sb_grpc_authorize(call, SB_OPEN_EXT_AUTHZ, ans))
        return;
    if (sb_grpc_check_read(req, len, &in, &err) != 0) {
        sb_grpc_fail(ans, err.code == SB_ERR_NOMEM
                              ? GRPC_STATUS_RESOURCE_EXHAUSTED
                              : GRPC_STATUS_INVALID_ARGUMENT,
                     "invalid_request: %s", err.msg);
        goto out;
    }
    ctx.now = sb_clock_now();
    ctx.client_addr = in.addr;
    ctx.user_agent = in.user_agent;
    if (sb_bridge_auth(&b, &in.rq, &ctx, &a, &err) != 0) {
        sb_observe_auth_outcome(call->cfg, in.backend, &a, err.code);
        sb_bridge_auth_free(&a);
        if (sb_grpc_is_verdict(err.code))
            answer_denied(&err, ans);
        else
            sb_grpc_fail(ans, sb_grpc_status_of(err.code), "%s: %s",
                         sb_err_code_name(err.code), err.msg);
        goto out;
    }
    sb_observe_auth_outcome(call->cfg, in.backend, &a, SB_OK);
    answer_ok(&a, ans);
    sb_bridge_auth_free(&a);
out:
    sb_grpc_check_in_free(&in);
}
