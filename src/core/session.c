/* session.c - the canonical session: lifetime, sids, JSON form. */
#include "sessionbridge/session.h"

#include <stdlib.h>
#include <string.h>

#include "sessionbridge/b64.h"
#include "sessionbridge/crypto.h"

void sb_session_init(struct sb_session *s)
{
    memset(s, 0, sizeof(*s));
}

void sb_session_reset(struct sb_session *s)
{
    free(s->subject);
    json_decref(s->data);
    sb_session_init(s);
}

int sb_session_set_subject(struct sb_session *s, const char *subject,
                           struct sb_err *err)
{
    char *copy = NULL;

    if (subject != NULL) {
        copy = strdup(subject);
        if (copy == NULL)
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    }
    free(s->subject);
    s->subject = copy;
    return 0;
}

bool sb_sid_is_valid(const char *sid)
{
    size_t i, n = strlen(sid);

    if (n == 0 || n >= SB_SID_MAX)
        return false;
    for (i = 0; i < n; i++) {
        char c = sid[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
              c == ':'))
            return false;
    }
    return true;
}

int sb_session_set_sid(struct sb_session *s, const char *sid,
                       struct sb_err *err)
{
    if (!sb_sid_is_valid(sid))
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "session id must be 1-%d characters of "
                          "[A-Za-z0-9._:-]", SB_SID_MAX - 1);
    memcpy(s->sid, sid, strlen(sid) + 1);
    return 0;
}

void sb_session_set_profile(struct sb_session *s, const char *name)
{
    size_t n = strnlen(name, sizeof(s->profile) - 1);

    memcpy(s->profile, name, n);
    s->profile[n] = '\0';
}

int sb_sid_generate(char *buf, struct sb_err *err)
{
    unsigned char raw[24];

    if (sb_random_bytes(raw, sizeof(raw), err) != 0)
        return -1;
    sb_b64_encode(SB_B64_URL_NOPAD, raw, sizeof(raw), buf);
    return 0;
}

/* "o" steals the data reference: a shared s->data gets one taken for it, a
 * fresh empty object is handed over (with "O" it would leak). */
json_t *sb_session_to_json(const struct sb_session *s)
{
    return json_pack("{s:s, s:s?, s:I, s:I, s:s, s:o, s:I, s:I}",
                     "sid", s->sid, "subject", s->subject,
                     "issued_at", (json_int_t)s->issued_at,
                     "expires_at", (json_int_t)s->expires_at,
                     "profile", s->profile,
                     "data", s->data ? json_incref(s->data) : json_object(),
                     "version", (json_int_t)s->version,
                     "updated_at", (json_int_t)s->updated_at);
}

/* Reads an optional non-negative integer field. */
static int opt_time(const json_t *obj, const char *key, int64_t *out,
                    struct sb_err *err)
{
    json_t *v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "field '%s' must be a non-negative integer", key);
    *out = json_integer_value(v);
    return 0;
}

int sb_session_from_json(const json_t *obj, bool partial,
                         struct sb_session *out, struct sb_err *err)
{
    json_t *v;

    if (!json_is_object(obj))
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "a session must be a JSON object");
    v = json_object_get(obj, "sid");
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v) || !sb_sid_is_valid(json_string_value(v))) {
            sb_err_set(err, SB_ERR_INVALID_REQUEST,
                       "field 'sid' must be 1-%d characters of "
                       "[A-Za-z0-9._:-]", SB_SID_MAX - 1);
            goto err_reset;
        }
        strcpy(out->sid, json_string_value(v));
    }
    v = json_object_get(obj, "subject");
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > 256) {
            sb_err_set(err, SB_ERR_INVALID_REQUEST,
                       "field 'subject' must be a non-empty string of at "
                       "most 256 bytes");
            goto err_reset;
        }
        if (sb_session_set_subject(out, json_string_value(v), err) != 0)
            goto err_reset;
    } else if (!partial) {
        sb_err_set(err, SB_ERR_INVALID_REQUEST, "field 'subject' is required");
        goto err_reset;
    }
    v = json_object_get(obj, "data");
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_object(v)) {
            sb_err_set(err, SB_ERR_INVALID_REQUEST,
                       "field 'data' must be a JSON object");
            goto err_reset;
        }
        out->data = json_deep_copy(v);
    } else if (!partial) {
        out->data = json_object();
    }
    v = json_object_get(obj, "profile");
    if (v != NULL && json_is_string(v) &&
        json_string_length(v) < SB_PROFILE_NAME_MAX)
        strcpy(out->profile, json_string_value(v));
    if (opt_time(obj, "issued_at", &out->issued_at, err) != 0 ||
        opt_time(obj, "expires_at", &out->expires_at, err) != 0 ||
        opt_time(obj, "version", &out->version, err) != 0 ||
        opt_time(obj, "updated_at", &out->updated_at, err) != 0)
        goto err_reset;
    return 0;

err_reset:
    sb_session_reset(out);
    return -1;
}
