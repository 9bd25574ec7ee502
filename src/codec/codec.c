/* codec.c - the codec registry and what every format shares: size caps,
 * subject and sid placement, renames, Set-Cookie headers. */
#include "sessionbridge/codec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sessionbridge/crypto.h"
#include "sessionbridge/jsonutil.h"
#include "sessionbridge/percent.h"

extern const struct sb_codec sb_codec_django;
extern const struct sb_codec sb_codec_express;
extern const struct sb_codec sb_codec_flask;
extern const struct sb_codec sb_codec_gorilla;
extern const struct sb_codec sb_codec_jwt;
extern const struct sb_codec sb_codec_rails;
extern const struct sb_codec sb_codec_starlette;

/* The registry: one line per format, nothing else switches on formats. */
static const struct sb_codec *const registry[] = {
    &sb_codec_flask,
    &sb_codec_starlette,
    &sb_codec_django,
    &sb_codec_gorilla,
    &sb_codec_express,
    &sb_codec_rails,
    &sb_codec_jwt,
    NULL
};

const struct sb_codec *sb_codec_find(const char *name)
{
    size_t i;

    for (i = 0; registry[i] != NULL; i++) {
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    }
    return NULL;
}

void sb_codec_list_names(char *buf, size_t size)
{
    size_t i, o = 0;

    buf[0] = '\0';
    for (i = 0; registry[i] != NULL && o < size; i++) {
        int n = snprintf(buf + o, size - o, "%s%s", i ? " | " : "",
                         registry[i]->name);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

/* The subject as a string, from a string or integer JSON value.  A string
 * with a NUL byte is refused: as a C string it would name another user
 * ("admin\0x" read as "admin"). */
static int subject_from_value(struct sb_session *s, const json_t *v,
                              struct sb_err *err)
{
    char num[32];

    if (json_is_string(v) && json_string_length(v) > 0) {
        if (!sb_json_is_c_string(v))
            return sb_err_set(err, SB_ERR_MALFORMED,
                              "the subject holds a NUL byte");
        return sb_session_set_subject(s, json_string_value(v), err);
    }
    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        return sb_session_set_subject(s, num, err);
    }
    return 0;
}

/* Moves data[from] to data[to] when present. */
static int rename_field(json_t *data, const char *from, const char *to)
{
    json_t *v = json_object_get(data, from);

    if (v == NULL)
        return 0;
    json_incref(v);
    json_object_del(data, from);
    return json_object_set_new(data, to, v);
}

/* The sid of a credential that carries none: the first 32 hex characters
 * of SHA-256("sid2" NUL profile name NUL identity), where the identity is
 * the codec's signed span of the token, else the decoded data (before
 * renames) as sorted compact JSON, which re-signing does not change.
 * "sid2" keeps these sids apart from the v1 ones (a hash of the whole
 * token). */
static int derive_sid(const struct sb_profile *p, const char *token,
                      size_t len, const json_t *data, char *sid,
                      struct sb_err *err)
{
    unsigned char md[SB_DIGEST_MAX];
    const void *parts[5] = {"sid2", "", p->name, "", NULL};
    size_t lens[5] = {4, 1, strlen(p->name), 1, 0};
    char *text = NULL;

    if (p->codec->signed_span != NULL) {
        parts[4] = token;
        lens[4] = p->codec->signed_span(token, len);
    } else {
        text = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS |
                                    JSON_ENCODE_ANY);
        if (text == NULL)
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        parts[4] = text;
        lens[4] = strlen(text);
    }
    sb_hash(SB_SHA256, parts, lens, 5, md);
    sb_hex_encode(md, 16, sid);
    free(text);
    return 0;
}

int sb_credential_decode(const struct sb_profile *p, const char *token,
                         size_t len, const struct sb_codec_ctx *ctx,
                         struct sb_session *out, struct sb_err *err)
{
    json_t *v;

    if (len > SB_TOKEN_MAX)
        return sb_err_set(err, SB_ERR_TOO_LARGE,
                          "credential is %zu bytes; the limit is %d", len,
                          SB_TOKEN_MAX);
    if (len == 0)
        return sb_err_set(err, SB_ERR_MALFORMED, "credential is empty");
    if (p->codec->decode(p, token, len, ctx, out, err) != 0) {
        sb_session_reset(out);
        return -1;
    }
    if (out->data == NULL)
        out->data = json_object();
    if (out->data == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto err_reset;
    }
    if (out->sid[0] == '\0' && p->sid_field != NULL &&
        (v = json_object_get(out->data, p->sid_field)) != NULL) {
        if (json_is_string(v) && !sb_json_is_c_string(v)) {
            sb_err_set(err, SB_ERR_MALFORMED,
                       "the session id field holds a NUL byte");
            goto err_reset;
        }
        if (json_is_string(v) && sb_sid_is_valid(json_string_value(v)))
            strcpy(out->sid, json_string_value(v));
        json_object_del(out->data, p->sid_field);
    }
    if (out->sid[0] == '\0') {
        if (derive_sid(p, token, len, out->data, out->sid, err) != 0)
            goto err_reset;
        out->derived_sid = true;
    }
    if (sb_credential_map_in(p, out, err) != 0)
        goto err_reset;
    sb_session_set_profile(out, p->name);
    return 0;

err_reset:
    sb_session_reset(out);
    return -1;
}

int sb_credential_map_in(const struct sb_profile *p, struct sb_session *s,
                         struct sb_err *err)
{
    size_t i;
    json_t *v;

    if (s->subject == NULL && p->subject_field != NULL &&
        (v = json_object_get(s->data, p->subject_field)) != NULL &&
        subject_from_value(s, v, err) != 0)
        return -1;
    for (i = 0; i < p->rename_count; i++) {
        if (rename_field(s->data, p->renames[i].profile_field,
                         p->renames[i].canonical_field) != 0)
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    }
    return 0;
}

/* Writes the subject into data[field], keeping an integer field an integer
 * when the subject is one. */
static int place_subject(const struct sb_profile *p, json_t *data,
                         const char *subject)
{
    json_t *old = json_object_get(data, p->subject_field);
    bool as_int = p->subject_type == SB_SUBJECT_INT ||
                  (old != NULL && json_is_integer(old));
    char *end = NULL;
    long long n;

    if (as_int) {
        n = strtoll(subject, &end, 10);
        if (end != subject && *end == '\0')
            return json_object_set_new(data, p->subject_field,
                                       json_integer(n));
    }
    return json_object_set_new(data, p->subject_field, json_string(subject));
}

int sb_credential_map_out(const struct sb_profile *p,
                          const struct sb_session *s, json_t **out,
                          struct sb_err *err)
{
    json_t *data;
    size_t i;

    *out = NULL;
    data = s->data ? json_deep_copy(s->data) : json_object();
    if (data == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    for (i = p->rename_count; i-- > 0;) {
        if (rename_field(data, p->renames[i].canonical_field,
                         p->renames[i].profile_field) != 0)
            goto err_nomem;
    }
    if (s->subject != NULL && p->subject_field != NULL &&
        place_subject(p, data, s->subject) != 0)
        goto err_nomem;
    *out = data;
    return 0;

err_nomem:
    json_decref(data);
    return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
}

int sb_credential_encode(const struct sb_profile *p,
                         const struct sb_session *s,
                         const struct sb_codec_ctx *ctx, char **out,
                         struct sb_err *err)
{
    struct sb_session view = *s;
    json_t *data;
    int rc = -1;

    *out = NULL;
    if (sb_credential_map_out(p, s, &data, err) != 0)
        return -1;
    if (!p->codec->native_sid && p->sid_field != NULL && s->sid[0] != '\0' &&
        json_object_set_new(data, p->sid_field, json_string(s->sid)) != 0) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free_data;
    }
    view.data = data;
    sb_session_set_profile(&view, p->name);
    rc = p->codec->encode(p, &view, ctx, out, err);
out_free_data:
    json_decref(data);
    return rc;
}

json_t *sb_credential_result_json(const struct sb_session *s,
                                  const struct sb_err *err)
{
    if (s != NULL)
        return json_pack("{s:b, s:s, s:o}", "active", 1, "profile",
                         s->profile, "session", sb_session_to_json(s));
    return json_pack("{s:b, s:s, s:s}", "active", 0, "error",
                     sb_err_code_name(err->code), "message", err->msg);
}

void sb_codec_record_free(struct sb_codec_record *r)
{
    free(r->key);
    free(r->value);
    memset(r, 0, sizeof(*r));
}

/* True when byte c goes on the wire as itself in a cookie value of
 * profile arg: RFC 6265 cookie-octets, less what the framework escapes. */
static bool cookie_octet_kept(unsigned char c, const void *arg)
{
    const struct sb_profile *p = arg;

    if (c == '%')
        return p->codec->cookie_escape == NULL;
    return c >= 0x21 && c <= 0x7E && c != '"' && c != ',' && c != ';' &&
           c != '\\' &&
           (p->codec->cookie_escape == NULL ||
            strchr(p->codec->cookie_escape, c) == NULL);
}

int sb_cookie_build(const struct sb_profile *p, const char *value,
                    int64_t now, char **out, struct sb_err *err)
{
    static const char *const samesite[] = {NULL, "Lax", "Strict", "None"};
    const struct sb_cookie_attrs *c = &p->cookie;
    size_t vlen = strlen(value);
    char *escaped = malloc(3 * vlen + 1);
    struct sb_buf b;

    sb_buf_init(&b);
    if (escaped == NULL ||
        sb_percent_encode(value, vlen, cookie_octet_kept, p, escaped,
                          3 * vlen + 1) < 0 ||
        sb_buf_printf(&b, "%s=%s", c->name, escaped) != 0)
        goto err_nomem;
    free(escaped);
    escaped = NULL;
    if (sb_buf_printf(&b, "; Path=%s", c->path ? c->path : "/") != 0)
        goto err_nomem;
    if (c->domain != NULL && sb_buf_printf(&b, "; Domain=%s", c->domain) != 0)
        goto err_nomem;
    if (c->max_age >= 0) {
        char date[64];
        time_t t = (time_t)(now + c->max_age);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        if (sb_buf_printf(&b, "; Max-Age=%" PRId64 "; Expires=%s", c->max_age,
                          date) != 0)
            goto err_nomem;
    }
    if (c->secure && sb_buf_append_str(&b, "; Secure") != 0)
        goto err_nomem;
    if (c->httponly && sb_buf_append_str(&b, "; HttpOnly") != 0)
        goto err_nomem;
    if (c->samesite != SB_SAMESITE_UNSET &&
        sb_buf_printf(&b, "; SameSite=%s", samesite[c->samesite]) != 0)
        goto err_nomem;
    *out = sb_buf_steal(&b, NULL);
    return 0;

err_nomem:
    free(escaped);
    sb_buf_free(&b);
    return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
}

int sb_cookie_build_expired(const struct sb_profile *p, char **out,
                            struct sb_err *err)
{
    static const char *const samesite[] = {NULL, "Lax", "Strict", "None"};
    const struct sb_cookie_attrs *c = &p->cookie;
    struct sb_buf b;

    sb_buf_init(&b);
    if (sb_buf_printf(&b, "%s=; Path=%s", c->name, c->path ? c->path : "/") !=
            0 ||
        (c->domain != NULL &&
         sb_buf_printf(&b, "; Domain=%s", c->domain) != 0) ||
        sb_buf_append_str(&b, "; Max-Age=0; Expires=Thu, 01 Jan 1970 "
                              "00:00:00 GMT") != 0 ||
        (c->secure && sb_buf_append_str(&b, "; Secure") != 0) ||
        (c->httponly && sb_buf_append_str(&b, "; HttpOnly") != 0) ||
        (c->samesite != SB_SAMESITE_UNSET &&
         sb_buf_printf(&b, "; SameSite=%s", samesite[c->samesite]) != 0)) {
        sb_buf_free(&b);
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    }
    *out = sb_buf_steal(&b, NULL);
    return 0;
}

long sb_cookie_value_decode(const struct sb_profile *p, const char *value,
                            size_t len, char *buf, size_t size,
                            struct sb_err *err)
{
    size_t bad_at = 0;
    long n;

    if (len > SB_COOKIE_MAX)
        return sb_err_set(err, SB_ERR_TOO_LARGE,
                          "cookie is %zu bytes; the limit is %d", len,
                          SB_COOKIE_MAX);
    if (p->codec->cookie_escape == NULL) {
        if (len + 1 > size)
            return sb_err_set(err, SB_ERR_TOO_LARGE, "cookie too large");
        memcpy(buf, value, len);
        buf[len] = '\0';
        return (long)len;
    }
    n = sb_percent_decode(value, len, false, buf, size, &bad_at);
    if (n == -1)
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "cookie has a bad percent-escape at byte %zu",
                          bad_at);
    if (n < 0)
        return sb_err_set(err, SB_ERR_TOO_LARGE, "cookie too large");
    return n;
}

void *sb_codec_state(struct sb_profile *p, size_t size, struct sb_err *err)
{
    if (p->codec_state == NULL) {
        p->codec_state = calloc(1, size);
        if (p->codec_state == NULL)
            sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    }
    return p->codec_state;
}

int sb_codec_parse_seconds(const char *key, const char *value, int64_t min,
                           int64_t max, const char *range, int64_t *out,
                           struct sb_err *err)
{
    char *end;
    long long n;

    errno = 0;
    n = strtoll(value, &end, 10);
    if (end == value || *end != '\0' || errno != 0 || n < min || n > max)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "%s '%s' is not a number of seconds (%s)", key,
                          value, range);
    *out = n;
    return 0;
}

int sb_codec_set_string(char **field, const char *value, struct sb_err *err)
{
    char *copy;

    if (*value == '\0')
        return sb_err_set(err, SB_ERR_CONFIG, "must not be empty");
    copy = strdup(value);
    if (copy == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    free(*field);
    *field = copy;
    return 0;
}

int sb_codec_default_string(char **field, const char *value,
                            struct sb_err *err)
{
    if (*field != NULL)
        return 0;
    *field = strdup(value);
    return *field ? 0 : sb_err_set(err, SB_ERR_NOMEM, "out of memory");
}
