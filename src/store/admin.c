/* admin.c - the admin CLI's store operations over Redis layout v1
 * (proto/REDIS-LAYOUT.md): SCAN over sessions and users, and pipelined
 * batches of the store's own delete, log-out and record scripts, so a
 * purge has exactly the effect of the HTTP API. */
#include "sessionbridge/store_admin.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/clock.h"
#include "sessionbridge/jsonutil.h"
#include "sessionbridge/percent.h"
#include "store_internal.h"

/* Builds the SCAN pattern escaped(prefix) + rest. */
static int pattern(const char *prefix, const char *rest, char *buf,
                   size_t size, struct sb_err *err)
{
    char esc[SB_STORE_PREFIX_MAX * 2 + 1];

    if (sb_scan_escape(prefix, esc, sizeof(esc)) != 0 ||
        (size_t)snprintf(buf, size, "%s%s", esc, rest) >= size)
        return sb_err_set(err, SB_ERR_CONFIG, "[redis] prefix too long");
    return 0;
}

/* Splits "P{TAG}:<kind>SID" (kind e.g. ":sess:") into tag and sid; false
 * when key is not of that shape. */
static bool split_key(const char *prefix, const char *key, size_t len,
                      const char *kind, struct sb_admin_session *s)
{
    size_t plen = strlen(prefix), klen = strlen(kind);
    const char *tag, *end;

    if (len <= plen + 1 || memcmp(key, prefix, plen) != 0 ||
        key[plen] != '{')
        return false;
    tag = key + plen + 1;
    end = memchr(tag, '}', len - plen - 1);
    if (end == NULL || (size_t)(end - tag) >= sizeof(s->tag) ||
        (size_t)(key + len - end) <= 1 + klen ||
        memcmp(end + 1, kind, klen) != 0 ||
        (size_t)(key + len - end - 1 - klen) >= sizeof(s->sid))
        return false;
    memcpy(s->tag, tag, (size_t)(end - tag));
    s->tag[end - tag] = '\0';
    memcpy(s->sid, end + 1 + klen, (size_t)(key + len - end - 1 - klen));
    s->sid[key + len - end - 1 - klen] = '\0';
    return sb_sid_is_valid(s->sid);
}

/* Fills the metadata of m from a session's JSON text; false when it is
 * not a session. */
static bool parse_meta(const char *text, size_t len,
                       struct sb_admin_session *m)
{
    json_t *doc = json_loadb(text, len, 0, NULL), *v;
    bool ok = json_is_object(doc);

    if (!ok)
        goto out;
    v = json_object_get(doc, "subject");
    if (json_is_string(v) && json_string_length(v) < sizeof(m->subject))
        strcpy(m->subject, json_string_value(v));
    v = json_object_get(doc, "profile");
    if (json_is_string(v) && json_string_length(v) < sizeof(m->profile))
        strcpy(m->profile, json_string_value(v));
    m->issued_at = json_integer_value(json_object_get(doc, "issued_at"));
    m->expires_at = json_integer_value(json_object_get(doc, "expires_at"));
    m->updated_at = json_integer_value(json_object_get(doc, "updated_at"));
out:
    json_decref(doc);
    return ok;
}

/*
 * Reads the session values of s[0..n) (sid and tag set) in one pipeline;
 * found[i] tells whether s[i] still exists, and its metadata is filled.
 */
static int read_meta(struct sb_redis *r, const char *prefix,
                     struct sb_admin_session *s, size_t n, bool *found,
                     struct sb_err *err)
{
    char key[SB_STORE_KEY_MAX];
    size_t i, sent = 0;

    for (i = 0; i < n; i++) {
        const char *argv[2] = {"GET", key};
        if (sb_store_key_session(prefix, s[i].tag, s[i].sid, key,
                                 sizeof(key), err) != 0 ||
            sb_redis_append(r, 2, argv, NULL, err) != 0)
            break;
        sent++;
    }
    for (i = 0; i < sent; i++) {
        redisReply *rep = sb_redis_read(r, err);
        if (rep == NULL)
            return -1;
        found[i] = rep->type == REDIS_REPLY_STRING &&
                   parse_meta(rep->str, rep->len, &s[i]);
        freeReplyObject(rep);
    }
    return sent == n ? 0 : -1;
}

/* The session keys among the key names of keys, as sid and tag into a
 * new array (free()) of *n entries; NULL when out of memory. */
static struct sb_admin_session *split_session_keys(const char *prefix,
                                                   const redisReply *keys,
                                                   size_t *n)
{
    struct sb_admin_session *b = calloc(keys->elements + 1, sizeof(*b));
    size_t i;

    *n = 0;
    for (i = 0; b != NULL && i < keys->elements; i++) {
        const redisReply *e = keys->element[i];
        if (e->type == REDIS_REPLY_STRING &&
            split_key(prefix, e->str, e->len, ":sess:", &b[*n]))
            (*n)++;
    }
    return b;
}

/*
 * Reads the metadata of b[0..k) (sid and tag set) and keeps the sessions
 * that still exist, in order, at the front of b.  On success b is handed
 * to *out (the caller frees it) and *n counts them; on failure b is
 * freed.
 */
static int keep_existing(struct sb_redis *r, const char *prefix,
                         struct sb_admin_session *b, size_t k,
                         struct sb_admin_session **out, size_t *n,
                         struct sb_err *err)
{
    bool *found = calloc(k + 1, sizeof(*found));
    size_t i;
    int rc = -1;

    *n = 0;
    if (found == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    if (read_meta(r, prefix, b, k, found, err) != 0)
        goto out_free;
    for (i = 0; i < k; i++)
        if (found[i])
            b[(*n)++] = b[i];
    *out = b;
    b = NULL;
    rc = 0;
out_free:
    free(b);
    free(found);
    return rc;
}

int sb_admin_sessions_of_keys(struct sb_redis *r, const char *prefix,
                              const redisReply *keys,
                              struct sb_admin_session **out, size_t *n,
                              struct sb_err *err)
{
    struct sb_admin_session *b;
    size_t k;

    *out = NULL;
    *n = 0;
    if ((b = split_session_keys(prefix, keys, &k)) == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    return keep_existing(r, prefix, b, k, out, n, err);
}

int sb_admin_scan_sessions(struct sb_redis *r, const char *prefix,
                           struct sb_scan *it, unsigned count, bool meta,
                           struct sb_admin_session **out, size_t *n,
                           struct sb_err *err)
{
    char match[SB_STORE_KEY_MAX];
    redisReply *keys = NULL;
    int rc = 0;

    *out = NULL;
    *n = 0;
    if (pattern(prefix, "{*}:sess:*", match, sizeof(match), err) != 0 ||
        sb_scan_step(r, it, match, count, "string", &keys, err) != 0)
        return -1;
    if (meta)
        rc = sb_admin_sessions_of_keys(r, prefix, keys, out, n, err);
    else if ((*out = split_session_keys(prefix, keys, n)) == NULL)
        rc = sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    freeReplyObject(keys);
    return rc;
}

int sb_admin_get_sessions(struct sb_redis *r, const char *prefix,
                          const char *const *sids, size_t n,
                          struct sb_admin_session *out, bool *found,
                          struct sb_err *err)
{
    struct sb_admin_session *owned = calloc(n ? n : 1, sizeof(*owned));
    char (*tags)[SB_STORE_TAG_MAX] = calloc(n ? n : 1, sizeof(*tags));
    size_t *at = calloc(n ? n : 1, sizeof(*at));
    bool *here = calloc(n ? n : 1, sizeof(*here));
    size_t i, k = 0;
    int rc = -1;

    if (owned == NULL || tags == NULL || at == NULL || here == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        found[i] = false;
    }
    /* first round: the owner tags, from the sid pointers */
    if (sb_store_owners(r, prefix, sids, n, tags, err) != 0)
        goto out;
    for (i = 0; i < n; i++) {
        if (tags[i][0] == '\0')
            continue;
        strcpy(owned[k].tag, tags[i]);
        strcpy(owned[k].sid, sids[i]);
        at[k++] = i;
    }
    /* second round: the sessions of the sids that have an owner */
    if (read_meta(r, prefix, owned, k, here, err) != 0)
        goto out;
    for (i = 0; i < k; i++) {
        if (here[i]) {
            out[at[i]] = owned[i];
            found[at[i]] = true;
        }
    }
    rc = 0;
out:
    free(owned);
    free(tags);
    free(at);
    free(here);
    return rc;
}

int sb_admin_user_sessions(struct sb_redis *r, const char *prefix,
                           const char *subject,
                           struct sb_admin_session **out, size_t *n,
                           struct sb_err *err)
{
    char tag[SB_STORE_TAG_MAX], key[SB_STORE_KEY_MAX], now_s[24];
    const char *argv[4] = {"ZRANGEBYSCORE", key, now_s, "+inf"};
    struct sb_admin_session *b;
    redisReply *rep;
    size_t i, k = 0;
    int rc = -1;

    *out = NULL;
    *n = 0;
    if (sb_store_tag(subject, NULL, tag, sizeof(tag), err) != 0 ||
        sb_store_key_index(prefix, tag, key, sizeof(key), err) != 0)
        return -1;
    snprintf(now_s, sizeof(now_s), "(%lld", (long long)sb_clock_now());
    if ((rep = sb_redis_commandv(r, 4, argv, NULL, err)) == NULL)
        return -1;
    if (rep->type != REDIS_REPLY_ARRAY) {
        sb_err_set(err, SB_ERR_STORE, "user index: unexpected reply");
        goto out_free;
    }
    if ((b = calloc(rep->elements + 1, sizeof(*b))) == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    for (i = 0; i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        if (e->type != REDIS_REPLY_STRING || e->len >= sizeof(b[k].sid))
            continue;
        memcpy(b[k].sid, e->str, e->len + 1);
        strcpy(b[k].tag, tag);
        k++;
    }
    rc = keep_existing(r, prefix, b, k, out, n, err);
out_free:
    freeReplyObject(rep);
    return rc;
}

/* Decodes the %XX escapes of a subject in a key (sb_store_escape_subject
 * in reverse) into a new string; NULL when malformed or out of memory. */
static char *unescape_subject(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    size_t bad_at;
    long n;

    if (out == NULL)
        return NULL;
    n = sb_percent_decode(s, len, false, out, len + 1, &bad_at);
    if (n < 0 || strlen(out) != (size_t)n) {
        free(out);
        return NULL;
    }
    return out;
}

int sb_admin_scan_users(struct sb_redis *r, const char *prefix,
                        struct sb_scan *it, unsigned count, char ***subjects,
                        size_t *n, struct sb_err *err)
{
    char match[SB_STORE_KEY_MAX];
    size_t plen = strlen(prefix), i;
    redisReply *keys = NULL;

    *subjects = NULL;
    *n = 0;
    if (pattern(prefix, "{u:*}:idx", match, sizeof(match), err) != 0 ||
        sb_scan_step(r, it, match, count, "zset", &keys, err) != 0)
        return -1;
    *subjects = calloc(keys->elements + 1, sizeof(**subjects));
    if (*subjects == NULL)
        goto err_nomem;
    for (i = 0; i < keys->elements; i++) {
        const redisReply *e = keys->element[i];
        /* P{u:SUBJECT}:idx, the subject escaped */
        if (e->type != REDIS_REPLY_STRING || e->len < plen + 8 ||
            memcmp(e->str + plen, "{u:", 3) != 0 ||
            strcmp(e->str + e->len - 5, "}:idx") != 0)
            continue;
        (*subjects)[*n] = unescape_subject(e->str + plen + 3,
                                           e->len - plen - 8);
        if ((*subjects)[*n] != NULL)
            (*n)++;
    }
    freeReplyObject(keys);
    return 0;

err_nomem:
    freeReplyObject(keys);
    sb_admin_free_strings(*subjects, *n);
    *subjects = NULL;
    *n = 0;
    return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
}

void sb_admin_free_strings(char **v, size_t n)
{
    size_t i;

    for (i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

/* One session of a batch: its canonical JSON and its script calls. */
struct record_args {
    char *json;
    struct sb_record_call c;
};

/* Fills a for s (which a then borrows) the way the store's record path
 * does: TTL until expires_at (400 days without), index score = expiry;
 * SB_ERR_EXPIRED for a session already over. */
static int fill_record(struct record_args *a, const char *prefix,
                       const struct sb_session *s, int64_t now,
                       struct sb_err *err)
{
    struct sb_session copy = *s;
    struct sb_buf text;
    json_t *doc;
    size_t len = 0;
    int rc = -1;

    copy.version = 1;
    copy.updated_at = now;
    doc = sb_session_to_json(&copy);
    sb_buf_init(&text);
    if (doc == NULL || sb_json_dump(doc, SB_JSON_CANONICAL, &text, err) != 0)
        goto out;
    a->json = sb_buf_steal(&text, &len);
    rc = sb_record_call_build(&a->c, prefix, s, a->json, len, now, err);
out:
    sb_buf_free(&text);
    json_decref(doc);
    return rc;
}

/* Two batches: every sid's claim (its pointer, fixed at first sight),
 * then every record; a session whose sid belongs to another owner is
 * refused as the hot path refuses it. */
int sb_admin_put_sessions(struct sb_redis *r, const char *prefix,
                          const struct sb_session *sessions, size_t n,
                          int64_t now, struct sb_err *err)
{
    struct record_args *a = calloc(n ? n : 1, sizeof(*a));
    struct sb_eval_call *claims = calloc(n ? n : 1, sizeof(*claims));
    struct sb_eval_call *records = calloc(n ? n : 1, sizeof(*records));
    redisReply **owners = calloc(n ? n : 1, sizeof(*owners));
    redisReply **replies = calloc(n ? n : 1, sizeof(*replies));
    long long result;
    size_t i;
    int rc = -1;

    if (a == NULL || claims == NULL || records == NULL || owners == NULL ||
        replies == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (fill_record(&a[i], prefix, &sessions[i], now, err) != 0)
            goto out;
        claims[i].argc = 3;
        claims[i].argv = a[i].c.claim_argv;
        records[i].argc = SB_RECORD_ARGC;
        records[i].argv = a[i].c.argv;
        records[i].argvlen = a[i].c.argvlen;
    }
    if (sb_redis_eval_batch(r, sb_store_script_text(SB_SCRIPT_CLAIM),
                            sb_store_script_sha(SB_SCRIPT_CLAIM), 1, claims,
                            n, owners, err) != 0 ||
        sb_redis_eval_batch(r, sb_store_script_text(SB_SCRIPT_RECORD),
                            sb_store_script_sha(SB_SCRIPT_RECORD), 4, records,
                            n, replies, err) != 0)
        goto out;
    for (i = 0; i < n; i++) {
        if (sb_record_result(owners[i], replies[i], a[i].c.tag, &result,
                             err) != 0 &&
            err->code != SB_ERR_REVOKED)
            goto out;
    }
    sb_err_clear(err);
    rc = 0;
out:
    for (i = 0; i < n; i++) {
        if (owners != NULL)
            freeReplyObject(owners[i]);
        if (replies != NULL)
            freeReplyObject(replies[i]);
        if (a != NULL)
            free(a[i].json);
    }
    free(owners);
    free(replies);
    free(records);
    free(claims);
    free(a);
    return rc;
}

/* True when key[0..len) ends with the NUL-terminated suffix. */
static bool ends_with(const char *key, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);

    return len >= n && memcmp(key + len - n, suffix, n) == 0;
}

enum sb_admin_kind sb_admin_key_kind(const char *prefix, const char *key,
                                     size_t len)
{
    size_t plen = strlen(prefix);
    const char *rest = key + plen, *close;
    size_t rlen = len - plen;

    if (len < plen || memcmp(key, prefix, plen) != 0)
        return SB_ADMIN_KEY_OTHER;
    if (rlen == 6 && memcmp(rest, "layout", 6) == 0)
        return SB_ADMIN_KEY_LAYOUT;
    if (rlen > 4 && memcmp(rest, "sid:", 4) == 0)
        return SB_ADMIN_KEY_SID;
    if (rlen > 11 && memcmp(rest, "{k}:apikey:", 11) == 0)
        return SB_ADMIN_KEY_APIKEY;
    if (rlen > 4 && memcmp(rest, "{k}:", 4) == 0)
        return SB_ADMIN_KEY_APIKEY_META;
    if (rlen < 3 || rest[0] != '{' ||
        (close = memchr(rest, '}', rlen)) == NULL)
        return SB_ADMIN_KEY_OTHER;
    rlen -= (size_t)(close - rest);
    if (rlen > 7 && memcmp(close, "}:sess:", 7) == 0)
        return SB_ADMIN_KEY_SESSION;
    if (rlen > 6 && memcmp(close, "}:rev:", 6) == 0)
        return SB_ADMIN_KEY_REVOKED;
    if (ends_with(close, rlen, "}:idx") && rlen == 5)
        return SB_ADMIN_KEY_INDEX;
    if (ends_with(close, rlen, "}:nbf") && rlen == 5)
        return SB_ADMIN_KEY_NOT_BEFORE;
    return SB_ADMIN_KEY_OTHER;
}
