/* sessions.c - the session resource: POST /v1/sessions (a backend logs a
 * user in), GET / PATCH / DELETE /v1/sessions/{sid}, and a user's sessions:
 * GET / DELETE /v1/users/{subject}/sessions (log out everywhere). */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "endpoints.h"
#include "metrics.h"
#include "sessionbridge/clock.h"

#define SESSION_DESC (&sessionbridge__v1__session__descriptor)

/* POST /v1/sessions: {subject, data?, ttl?, profile?} -> 201 {session,
 * credentials}. */
void sb_ep_sessions_create(struct sb_http_req *req)
{
    const struct sb_profile *p = NULL;
    const char *subject = NULL, *pname = NULL;
    const json_t *data = NULL;
    int64_t ttl = 0;
    struct sb_codec_ctx ctx;
    struct sb_session s;
    struct sb_err err = {0};
    struct sb_bridge b;
    json_t *body = NULL, *creds = NULL;
    char addr[64];

    if (!sb_api_authorize(req, SB_API_BACKEND))
        return;
    if (sb_api_body(req,
                    &sessionbridge__v1__create_session_request__descriptor,
                    false, &body) != 0)
        return;
    if (sb_api_string(req, body, "subject", true, SB_SUBJECT_MAX,
                      &subject) != 0 ||
        sb_api_object(req, body, "data", false, &data) != 0 ||
        sb_api_integer(req, body, "ttl", 1, SB_STORE_UNBOUNDED_TTL,
                       &ttl) != 0 ||
        sb_api_string(req, body, "profile", false, SB_PROFILE_NAME_MAX - 1,
                      &pname) != 0)
        goto out_free;
    if (pname != NULL && (p = sb_api_profile(req, pname)) == NULL)
        goto out_free;
    if (ttl == 0)
        ttl = p != NULL && p->max_age > 0 ? p->max_age
                                          : sb_store_max_lifetime(req->cfg);
    sb_api_codec_ctx(req, &ctx, addr, sizeof(addr));
    sb_session_init(&s);
    if (sb_sid_generate(s.sid, &err) != 0 ||
        sb_session_set_subject(&s, subject, &err) != 0) {
        sb_api_fail(req, &err);
        goto out_reset;
    }
    s.data = data ? json_deep_copy(data) : json_object();
    s.issued_at = ctx.now;
    s.expires_at = ctx.now + ttl;
    sb_session_set_profile(&s, p ? p->name : "bridge");
    sb_api_bridge(req, &b);
    if (sb_bridge_create(&b, &s, &ctx, &creds, &err) != 0) {
        sb_api_fail(req, &err);
        goto out_reset;
    }
    sb_metrics_session_created(s.profile);
    sb_api_reply(req, 201,
                 json_pack("{s:o, s:o}", "session", sb_session_to_json(&s),
                           "credentials", creds),
                 &sessionbridge__v1__create_session_response__descriptor);
out_reset:
    sb_session_reset(&s);
out_free:
    json_decref(body);
}

/* The {sid} of the path, checked; answers 400 invalid_sid when bad. */
static bool path_sid(struct sb_http_req *req, char *sid)
{
    if (sb_http_path_param(req, 0, sid, SB_SID_MAX) < 0 ||
        !sb_sid_is_valid(sid)) {
        sb_api_error(req, 400, "invalid_sid",
                     "a session id is 1-%d characters of [A-Za-z0-9._:-]",
                     SB_SID_MAX - 1);
        return false;
    }
    return true;
}

static void session_get(struct sb_http_req *req, const char *sid)
{
    struct sb_session s;
    struct sb_err err = {0};
    struct sb_bridge b;
    struct sb_redis *r;

    sb_api_bridge(req, &b);
    if ((r = sb_api_store(req, &b)) == NULL)
        return;
    sb_session_init(&s);
    if (sb_store_get(r, req->cfg->prefix, sid, &s, &err) != 0)
        sb_api_fail(req, &err);
    else
        sb_api_reply(req, 200, sb_session_to_json(&s), SESSION_DESC);
    sb_session_reset(&s);
}

static void session_patch(struct sb_http_req *req, const char *sid)
{
    const json_t *data = NULL;
    struct sb_session s;
    struct sb_err err = {0};
    struct sb_bridge b;
    json_t *body = NULL;

    if (sb_api_body(req,
                    &sessionbridge__v1__patch_session_request__descriptor,
                    false, &body) != 0)
        return;
    if (sb_api_object(req, body, "data", true, &data) != 0)
        goto out_free;
    sb_api_bridge(req, &b);
    sb_session_init(&s);
    if (sb_bridge_patch(&b, sid, data, sb_clock_now(), &s, &err) != 0)
        sb_api_fail(req, &err);
    else
        sb_api_reply(req, 200, sb_session_to_json(&s), SESSION_DESC);
    sb_session_reset(&s);
out_free:
    json_decref(body);
}

/* The value of query parameter name, or NULL. */
static const char *query(const struct sb_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

static void session_delete(struct sb_http_req *req, char *sid)
{
    const char *one = sid;
    const char *subject = query(req, "subject");
    struct sb_store_removed removed;
    struct sb_err err = {0};
    struct sb_bridge b;

    if (subject != NULL &&
        (subject[0] == '\0' || strlen(subject) > SB_SUBJECT_MAX)) {
        sb_api_error(req, 400, "invalid_field",
                     "query parameter 'subject' must be 1-%d bytes",
                     SB_SUBJECT_MAX);
        return;
    }
    sb_api_bridge(req, &b);
    if (sb_bridge_delete(&b, &one, 1, subject, sb_clock_now(), &removed,
                         &err) != 0) {
        sb_api_fail(req, &err);
        return;
    }
    sb_metrics_revocation("session");
    sb_api_reply(req, 200,
                 json_pack("{s:s, s:b, s:b}", "sid", sid, "revoked", 1,
                           "existed", removed.existed),
                 &sessionbridge__v1__delete_session_response__descriptor);
}

/* GET / PATCH / DELETE /v1/sessions/{sid} */
void sb_ep_session(struct sb_http_req *req)
{
    char sid[SB_SID_MAX];

    if (!sb_api_authorize(req, SB_API_BACKEND) || !path_sid(req, sid))
        return;
    if (strcmp(req->method, "PATCH") == 0)
        session_patch(req, sid);
    else if (strcmp(req->method, "DELETE") == 0)
        session_delete(req, sid);
    else
        session_get(req, sid);
}

static void user_list(struct sb_http_req *req, const char *subject)
{
    struct sb_session *v = NULL;
    struct sb_err err = {0};
    struct sb_bridge b;
    struct sb_redis *r;
    json_t *list;
    size_t n = 0, i;

    sb_api_bridge(req, &b);
    if ((r = sb_api_store(req, &b)) == NULL)
        return;
    if (sb_store_list_user(r, req->cfg->prefix, subject, sb_clock_now(), 0,
                           &v, &n, &err) != 0) {
        sb_api_fail(req, &err);
        return;
    }
    list = json_array();
    for (i = 0; i < n && list != NULL; i++)
        json_array_append_new(list, sb_session_to_json(&v[i]));
    sb_store_free_sessions(v, n);
    sb_api_reply(req, 200, json_pack("{s:o}", "sessions", list),
                 &sessionbridge__v1__session_list__descriptor);
}

static void user_logout(struct sb_http_req *req, const char *subject)
{
    struct sb_err err = {0};
    struct sb_bridge b;
    int64_t now = sb_clock_now();
    long long n = 0;

    sb_api_bridge(req, &b);
    if (sb_bridge_logout(&b, &subject, 1, now, &n, &err) != 0) {
        sb_api_fail(req, &err);
        return;
    }
    sb_metrics_revocation("user");
    sb_api_reply(req, 200,
                 json_pack("{s:s, s:I, s:I}", "subject", subject,
                           "not_before", (json_int_t)now, "sessions_removed",
                           (json_int_t)n),
                 &sessionbridge__v1__logout_response__descriptor);
}

/* GET / DELETE /v1/users/{subject}/sessions; a ?subject= query
 * parameter wins over the path segment (for subjects with a '/', which a
 * path segment cannot carry). */
void sb_ep_user_sessions(struct sb_http_req *req)
{
    char subject[SB_SUBJECT_MAX + 1];
    const char *q = query(req, "subject");

    if (!sb_api_authorize(req, SB_API_BACKEND))
        return;
    if (q != NULL && strlen(q) < sizeof(subject))
        strcpy(subject, q);
    else if (q != NULL || sb_http_path_param(req, 0, subject,
                                             sizeof(subject)) < 0)
        subject[0] = '\0';
    if (strlen(subject) == 0) {
        sb_api_error(req, 400, "invalid_subject",
                     "a subject is 1-%d bytes", SB_SUBJECT_MAX);
        return;
    }
    if (strcmp(req->method, "DELETE") == 0)
        user_logout(req, subject);
    else
        user_list(req, subject);
}
