/* records.c - canonical sessions in Redis (layout v1): record-and-check,
 * create, read, patch, delete / revoke, a user's sessions, log-out-
 * everywhere, and their batch forms for the admin CLI. */
#include "sessionbridge/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/jsonutil.h"
#include "store_internal.h"

#define PATCH_ATTEMPTS 8

/* The hot path serialises sessions and lays out its script calls here;
 * both keep their memory for the thread's life. */
static __thread struct sb_buf tl_json;
static __thread struct sb_record_call *tl_call;
static pthread_once_t tl_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t tl_key;

static void free_tl_at_exit(void *unused)
{
    sb_buf_free(&tl_json);
    free(tl_call);
    tl_call = NULL;
}

static void make_tl_key(void)
{
    pthread_key_create(&tl_key, free_tl_at_exit);
}

/* Registers the thread's exit hook once, before its first allocation. */
static void thread_hook(void)
{
    pthread_once(&tl_key_once, make_tl_key);
    pthread_setspecific(tl_key, (void *)1);
}

static struct sb_buf *thread_buf(void)
{
    if (tl_json.data == NULL)
        thread_hook();
    tl_json.len = 0;
    return &tl_json;
}

/* This thread's record call; NULL when out of memory. */
static struct sb_record_call *thread_call(void)
{
    if (tl_call == NULL) {
        thread_hook();
        tl_call = malloc(sizeof(*tl_call));
    }
    return tl_call;
}

/* Appends s as a JSON string (", \, control bytes escaped; UTF-8 kept). */
static int append_json_string(struct sb_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;

    if (sb_buf_append(b, "\"", 1) != 0)
        return -1;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (sb_buf_append(b, run, (size_t)(s - run)) != 0)
            return -1;
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            esc[2] = '\0';
        }
        if (sb_buf_append_str(b, esc) != 0)
            return -1;
        run = s + 1;
    }
    if (sb_buf_append(b, run, (size_t)(s - run)) != 0)
        return -1;
    return sb_buf_append(b, "\"", 1);
}

/* The canonical JSON of s as first written (version 1, updated_at now),
 * without building a jansson object. */
static int session_text(struct sb_buf *b, const struct sb_session *s,
                        int64_t now, struct sb_err *err)
{
    if (sb_buf_append_str(b, "{\"sid\":") != 0 ||
        append_json_string(b, s->sid) != 0 ||
        sb_buf_append_str(b, ",\"subject\":") != 0 ||
        (s->subject ? append_json_string(b, s->subject)
                    : sb_buf_append_str(b, "null")) != 0 ||
        sb_buf_printf(b, ",\"issued_at\":%lld,\"expires_at\":%lld,"
                      "\"profile\":", (long long)s->issued_at,
                      (long long)s->expires_at) != 0 ||
        append_json_string(b, s->profile) != 0 ||
        sb_buf_append_str(b, ",\"data\":") != 0)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    if (s->data != NULL) {
        if (sb_json_dump(s->data, SB_JSON_CANONICAL, b, err) != 0)
            return -1;
    } else if (sb_buf_append_str(b, "{}") != 0) {
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    }
    if (sb_buf_printf(b, ",\"version\":1,\"updated_at\":%lld}",
                      (long long)now) != 0)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    return 0;
}

/* A reply that is not what a script documents. */
static int unexpected(redisReply *rep, struct sb_err *err)
{
    freeReplyObject(rep);
    return sb_err_set(err, SB_ERR_STORE, "unexpected reply from Redis");
}

static int delete_tagged(struct sb_redis *r, const char *prefix,
                         const char *tag, const char *sid, int64_t now,
                         int64_t least_ttl, struct sb_store_removed *removed,
                         struct sb_err *err);

static int keep_logged_out(struct sb_redis *r, const char *prefix,
                           const char *subject, const redisReply *sids,
                           long long ttl, struct sb_err *err);

int sb_record_call_build(struct sb_record_call *c, const char *prefix,
                         const struct sb_session *s, const char *json,
                         size_t json_len, int64_t now, struct sb_err *err)
{
    int64_t ttl, score;
    int i;

    if (!sb_sid_is_valid(s->sid))
        return sb_err_set(err, SB_ERR_INTERNAL, "session has no valid sid");
    if (sb_store_tag(s->subject, s->sid, c->tag, sizeof(c->tag), err) != 0 ||
        sb_store_key_set(prefix, c->tag, s->sid, &c->k, err) != 0 ||
        sb_store_key_session(prefix, c->tag, "", c->sessp, sizeof(c->sessp),
                             err) != 0 ||
        sb_store_key_revoked(prefix, c->tag, "", c->revp, sizeof(c->revp),
                             err) != 0 ||
        sb_store_key_sid(prefix, s->sid, c->ptr, sizeof(c->ptr), err) != 0 ||
        sb_store_key_channel(prefix, c->channel, sizeof(c->channel),
                             err) != 0)
        return -1;
    ttl = s->expires_at > 0 ? s->expires_at - now : SB_STORE_UNBOUNDED_TTL;
    if (ttl <= 0)
        return sb_err_set(err, SB_ERR_EXPIRED, "the session has expired");
    score = s->expires_at > 0 ? s->expires_at : now + SB_STORE_UNBOUNDED_TTL;
    snprintf(c->ttl, sizeof(c->ttl), "%lld", (long long)ttl);
    snprintf(c->score, sizeof(c->score), "%lld", (long long)score);
    snprintf(c->issued, sizeof(c->issued), "%lld", (long long)s->issued_at);
    snprintf(c->now, sizeof(c->now), "%lld", (long long)now);
    snprintf(c->cap, sizeof(c->cap), "%d", SB_STORE_USER_SESSIONS_MAX);
    c->argv[0] = c->k.sess;
    c->argv[1] = c->k.idx;
    c->argv[2] = c->k.rev;
    c->argv[3] = c->k.nbf;
    c->argv[4] = s->sid;
    c->argv[5] = json;
    c->argv[6] = c->ttl;
    c->argv[7] = c->score;
    c->argv[8] = c->issued;
    c->argv[9] = c->now;
    c->argv[10] = s->subject ? "r" : "a";
    c->argv[11] = c->cap;
    c->argv[12] = c->sessp;
    c->argv[13] = c->revp;
    c->argv[14] = c->channel;
    c->argv[15] = s->derived_sid ? "d" : "s";
    for (i = 0; i < SB_RECORD_ARGC; i++)
        c->argvlen[i] = i == 5 ? json_len : strlen(c->argv[i]);
    c->claim_argv[0] = c->ptr;
    c->claim_argv[1] = c->tag;
    c->claim_argv[2] = c->ttl;
    return 0;
}

int sb_record_result(redisReply *claim, redisReply *record,
                     const char *tag, long long *result, struct sb_err *err)
{
    if (claim->type == REDIS_REPLY_ERROR || record->type == REDIS_REPLY_ERROR)
        return sb_err_set(err, SB_ERR_STORE, "Redis script failed: %.100s",
                          claim->type == REDIS_REPLY_ERROR ? claim->str
                                                           : record->str);
    if (claim->type != REDIS_REPLY_STRING ||
        record->type != REDIS_REPLY_INTEGER)
        return sb_err_set(err, SB_ERR_STORE, "unexpected reply from Redis");
    *result = record->integer;
    if (strcmp(claim->str, tag) != 0)
        return sb_err_set(err, SB_ERR_INVALID_CLAIM,
                          "the session id belongs to %s",
                          tag[0] == 'u' && claim->str[0] == 'u'
                              ? "another user"
                          : claim->str[0] == 'u'
                              ? "a signed-in user; this credential names "
                                "none"
                              : "an anonymous session; this credential "
                                "names a user");
    if (*result == -1)
        return sb_err_set(err, SB_ERR_REVOKED, "the session has been revoked");
    if (*result == -2)
        return sb_err_set(err, SB_ERR_REVOKED,
                          "the user logged out everywhere after this "
                          "credential was issued");
    return 0;
}

/*
 * Sends the claim and the record scripts for c in one pipeline and reads
 * both answers: one round trip, first sight or not.  A NOSCRIPT answer
 * (a flushed script cache) loads both and sends the pair once more; both
 * scripts are idempotent, so that is safe.
 */
static int record_round_trip(struct sb_redis *r, struct sb_record_call *c,
                             long long *result, struct sb_err *err)
{
    redisReply *claim = NULL, *rec = NULL;
    int attempt, rc = -1;

    for (attempt = 0; attempt < 2; attempt++) {
        if (sb_redis_append_evalsha(r, sb_store_script_sha(SB_SCRIPT_CLAIM),
                                    1, 3, c->claim_argv, NULL, err) != 0 ||
            sb_redis_append_evalsha(r, sb_store_script_sha(SB_SCRIPT_RECORD),
                                    4, SB_RECORD_ARGC, c->argv, c->argvlen,
                                    err) != 0 ||
            (claim = sb_redis_read(r, err)) == NULL ||
            (rec = sb_redis_read(r, err)) == NULL)
            goto out_free;
        if (!sb_redis_is_noscript(claim) && !sb_redis_is_noscript(rec))
            break;
        freeReplyObject(claim);
        freeReplyObject(rec);
        claim = rec = NULL;
        if (attempt == 0 && (sb_store_load_script(r, SB_SCRIPT_CLAIM, err) != 0 ||
                             sb_store_load_script(r, SB_SCRIPT_RECORD, err) != 0))
            goto out_free;
    }
    if (claim == NULL) {
        sb_err_set(err, SB_ERR_STORE, "Redis keeps forgetting a script");
        goto out_free;
    }
    rc = sb_record_result(claim, rec, c->tag, result, err);
out_free:
    freeReplyObject(claim);
    freeReplyObject(rec);
    return rc;
}

/*
 * Records s: the claim of its sid and the record script, in one round
 * trip.  When the sid belongs to another owner the credential is refused
 * (SB_ERR_INVALID_CLAIM); a session the record script inserted for it
 * meanwhile is removed again and its sid revoked under the claiming tag,
 * so nothing of the refused credential stays valid.
 */
static int record(struct sb_redis *r, const char *prefix,
                  const struct sb_session *s, int64_t now, long long *result,
                  struct sb_err *err)
{
    struct sb_buf *b = thread_buf();
    struct sb_record_call *c = thread_call();
    struct sb_err ignored;

    if (c == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    if (session_text(b, s, now, err) != 0 ||
        sb_record_call_build(c, prefix, s, b->data, b->len, now, err) != 0)
        return -1;
    if (record_round_trip(r, c, result, err) == 0)
        return 0;
    if (err->code == SB_ERR_INVALID_CLAIM && *result == 1)
        delete_tagged(r, prefix, c->tag, s->sid, now, 0, NULL, &ignored);
    return -1;
}

int sb_store_record(struct sb_redis *r, const char *prefix,
                    const struct sb_session *s, int64_t now, bool *inserted,
                    struct sb_err *err)
{
    long long result = 0;

    *inserted = false;
    if (record(r, prefix, s, now, &result, err) != 0)
        return -1;
    *inserted = result == 1;
    return 0;
}

int sb_store_create(struct sb_redis *r, const char *prefix,
                    struct sb_session *s, int64_t now, struct sb_err *err)
{
    long long result = 0;

    s->version = 1;
    s->updated_at = now;
    if (record(r, prefix, s, now, &result, err) != 0)
        return -1;
    if (result != 1)
        return sb_err_set(err, SB_ERR_INTERNAL, "session id collision");
    return 0;
}

int sb_store_owner(struct sb_redis *r, const char *prefix, const char *sid,
                   char *tag, size_t size, struct sb_err *err)
{
    char key[SB_STORE_KEY_MAX];
    const char *argv[2] = {"GET", key};
    redisReply *rep;

    if (!sb_sid_is_valid(sid))
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "session id must be 1-%d characters of "
                          "[A-Za-z0-9._:-]", SB_SID_MAX - 1);
    if (sb_store_key_sid(prefix, sid, key, sizeof(key), err) != 0)
        return -1;
    rep = sb_redis_commandv(r, 2, argv, NULL, err);
    if (rep == NULL)
        return -1;
    if (rep->type == REDIS_REPLY_NIL) {
        freeReplyObject(rep);
        return sb_err_set(err, SB_ERR_NOT_FOUND, "no session with that id");
    }
    if (rep->type != REDIS_REPLY_STRING || rep->len >= size ||
        (strncmp(rep->str, "u:", 2) != 0 && strncmp(rep->str, "s:", 2) != 0))
        return unexpected(rep, err);
    memcpy(tag, rep->str, rep->len + 1);
    freeReplyObject(rep);
    return 0;
}

/* Every GET is sent before the first reply is read; after a failed send
 * the replies already owed are still read, so the connection stays in
 * step. */
int sb_store_owners(struct sb_redis *r, const char *prefix,
                    const char *const *sids, size_t n,
                    char (*tags)[SB_STORE_TAG_MAX], struct sb_err *err)
{
    char key[SB_STORE_KEY_MAX];
    size_t i, sent = 0;

    for (i = 0; i < n; i++)
        if (!sb_sid_is_valid(sids[i]))
            return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                              "invalid session id");
    for (i = 0; i < n; i++) {
        const char *argv[2] = {"GET", key};
        if (sb_store_key_sid(prefix, sids[i], key, sizeof(key), err) != 0 ||
            sb_redis_append(r, 2, argv, NULL, err) != 0)
            break;
        sent++;
    }
    if (sent < n) {
        sb_redis_discard(r, sent, NULL);
        return -1;
    }
    for (i = 0; i < n; i++) {
        redisReply *rep = sb_redis_read(r, err);
        if (rep == NULL)
            return -1;
        tags[i][0] = '\0';
        if (rep->type == REDIS_REPLY_STRING && rep->len < SB_STORE_TAG_MAX)
            memcpy(tags[i], rep->str, rep->len + 1);
        freeReplyObject(rep);
    }
    return 0;
}

int sb_store_sid_revoked(struct sb_redis *r, const char *prefix,
                         const char *sid, bool *revoked, struct sb_err *err)
{
    char tag[SB_STORE_TAG_MAX], key[SB_STORE_KEY_MAX];
    const char *argv[2] = {"EXISTS", key};
    redisReply *rep;

    *revoked = false;
    if (sb_store_owner(r, prefix, sid, tag, sizeof(tag), err) != 0)
        return err->code == SB_ERR_NOT_FOUND ? 0 : -1;
    if (sb_store_key_revoked(prefix, tag, sid, key, sizeof(key), err) != 0)
        return -1;
    rep = sb_redis_commandv(r, 2, argv, NULL, err);
    if (rep == NULL)
        return -1;
    if (rep->type != REDIS_REPLY_INTEGER)
        return unexpected(rep, err);
    *revoked = rep->integer == 1;
    freeReplyObject(rep);
    return 0;
}

/* Parses a stored session value into out (initialised); sid defaults to
 * the one asked for. */
static int parse_stored(const char *text, size_t len, const char *sid,
                        struct sb_session *out, struct sb_err *err)
{
    json_t *doc = sb_json_parse(text, len, SB_ERR_STORE, "stored session",
                                err);
    int rc;

    if (doc == NULL)
        return -1;
    rc = sb_session_from_json(doc, true, out, err);
    json_decref(doc);
    if (rc != 0) {
        err->code = SB_ERR_STORE;
        return -1;
    }
    if (out->data == NULL)
        out->data = json_object();
    if (out->sid[0] == '\0' && sid != NULL)
        return sb_session_set_sid(out, sid, err);
    return 0;
}

/* GETs the session value of sid (owner from the pointer) into *rep, and
 * its key into key. */
static int get_value(struct sb_redis *r, const char *prefix, const char *sid,
                     char *key, redisReply **rep, struct sb_err *err)
{
    char tag[SB_STORE_TAG_MAX];
    const char *argv[2] = {"GET", key};

    *rep = NULL;
    if (sb_store_owner(r, prefix, sid, tag, sizeof(tag), err) != 0 ||
        sb_store_key_session(prefix, tag, sid, key, SB_STORE_KEY_MAX,
                             err) != 0)
        return -1;
    *rep = sb_redis_commandv(r, 2, argv, NULL, err);
    if (*rep == NULL)
        return -1;
    if ((*rep)->type == REDIS_REPLY_NIL) {
        freeReplyObject(*rep);
        *rep = NULL;
        return sb_err_set(err, SB_ERR_NOT_FOUND, "no session with that id");
    }
    if ((*rep)->type != REDIS_REPLY_STRING) {
        unexpected(*rep, err);
        *rep = NULL;
        return -1;
    }
    return 0;
}

int sb_store_get(struct sb_redis *r, const char *prefix, const char *sid,
                 struct sb_session *out, struct sb_err *err)
{
    char key[SB_STORE_KEY_MAX];
    redisReply *rep;
    int rc;

    if (get_value(r, prefix, sid, key, &rep, err) != 0)
        return -1;
    rc = parse_stored(rep->str, rep->len, sid, out, err);
    freeReplyObject(rep);
    return rc;
}

/* Applies a top-level merge of patch into data: null removes a key. */
static int merge_data(json_t *data, const json_t *patch, struct sb_err *err)
{
    const char *name;
    json_t *v;

    json_object_foreach((json_t *)patch, name, v) {
        if (json_is_null(v)) {
            json_object_del(data, name);
        } else if (json_object_set_new(data, name, json_deep_copy(v)) != 0) {
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        }
    }
    return 0;
}

int sb_store_patch(struct sb_redis *r, const char *prefix, const char *sid,
                   const json_t *data, int64_t now, struct sb_session *out,
                   struct sb_err *err)
{
    char key[SB_STORE_KEY_MAX], channel[SB_STORE_KEY_MAX];
    struct sb_buf text;
    int attempt;

    if (!json_is_object(data))
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "field 'data' must be a JSON object");
    if (sb_store_key_channel(prefix, channel, sizeof(channel), err) != 0)
        return -1;
    sb_buf_init(&text);
    for (attempt = 0; attempt < PATCH_ATTEMPTS; attempt++) {
        redisReply *old, *rep;
        const char *argv[5];
        size_t argvlen[5];
        json_t *doc;
        long long result;

        sb_session_reset(out);
        if (get_value(r, prefix, sid, key, &old, err) != 0)
            goto err_free;
        if (parse_stored(old->str, old->len, sid, out, err) != 0 ||
            merge_data(out->data, data, err) != 0) {
            freeReplyObject(old);
            goto err_free;
        }
        out->version++;
        out->updated_at = now;
        doc = sb_session_to_json(out);
        text.len = 0;
        if (doc == NULL || sb_json_dump(doc, SB_JSON_CANONICAL, &text, err) != 0) {
            json_decref(doc);
            freeReplyObject(old);
            sb_err_set(err, SB_ERR_NOMEM, "out of memory");
            goto err_free;
        }
        json_decref(doc);
        argv[0] = key;
        argvlen[0] = strlen(key);
        argv[1] = old->str;
        argvlen[1] = old->len;
        argv[2] = text.data;
        argvlen[2] = text.len;
        argv[3] = channel;
        argvlen[3] = strlen(channel);
        argv[4] = sid;
        argvlen[4] = strlen(sid);
        rep = sb_store_eval(r, SB_SCRIPT_CAS, 1, 5, argv, argvlen, err);
        freeReplyObject(old);
        if (rep == NULL)
            goto err_free;
        if (rep->type != REDIS_REPLY_INTEGER) {
            unexpected(rep, err);
            goto err_free;
        }
        result = rep->integer;
        freeReplyObject(rep);
        if (result == 1) {
            sb_buf_free(&text);
            return 0;
        }
        if (result == -1) {
            sb_err_set(err, SB_ERR_NOT_FOUND, "no session with that id");
            goto err_free;
        }
    }
    sb_err_set(err, SB_ERR_STORE, "session kept changing; giving up after "
               "%d attempts", PATCH_ATTEMPTS);
err_free:
    sb_buf_free(&text);
    sb_session_reset(out);
    return -1;
}

/* Builds the delete script's arguments for sid of owner tag. */
struct delete_args {
    struct sb_store_keys k;
    char channel[SB_STORE_KEY_MAX];
    char now_s[24];
    char ttl_s[24];
    const char *argv[8];
};

static int delete_args(const char *prefix, const char *tag, const char *sid,
                       int64_t now, int64_t least_ttl,
                       struct delete_args *a, struct sb_err *err)
{
    if (sb_store_key_set(prefix, tag, sid, &a->k, err) != 0 ||
        sb_store_key_channel(prefix, a->channel, sizeof(a->channel),
                             err) != 0)
        return -1;
    snprintf(a->now_s, sizeof(a->now_s), "%lld", (long long)now);
    snprintf(a->ttl_s, sizeof(a->ttl_s), "%lld",
             (long long)(least_ttl > 0 ? least_ttl : 0));
    a->argv[0] = a->k.sess;
    a->argv[1] = a->k.idx;
    a->argv[2] = a->k.rev;
    a->argv[3] = sid;
    a->argv[4] = a->now_s;
    a->argv[5] = a->ttl_s;
    a->argv[6] = tag[0] == 's' ? "a" : "u";
    a->argv[7] = a->channel;
    return 0;
}

/* Reads the delete script's {existed, profile, marker ttl} answer. */
static int delete_result(redisReply *rep, struct sb_store_removed *removed,
                         long long *marker_ttl, struct sb_err *err)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER ||
        rep->element[1]->type != REDIS_REPLY_STRING ||
        rep->element[2]->type != REDIS_REPLY_INTEGER)
        return unexpected(rep, err);
    if (removed != NULL) {
        memset(removed, 0, sizeof(*removed));
        removed->existed = rep->element[0]->integer == 1;
        if (rep->element[1]->len < sizeof(removed->profile))
            memcpy(removed->profile, rep->element[1]->str,
                   rep->element[1]->len + 1);
    }
    *marker_ttl = rep->element[2]->integer;
    freeReplyObject(rep);
    return 0;
}

/* The claim arguments that keep sid's pointer (owner tag) alive for ttl
 * seconds: as long as its revocation marker, so no credential of another
 * owner can take the sid over while the marker stands. */
struct keep_args {
    char ptr[SB_STORE_KEY_MAX];
    char ttl_s[24];
    const char *argv[3];
};

static int keep_args(const char *prefix, const char *tag, const char *sid,
                     long long ttl, struct keep_args *a, struct sb_err *err)
{
    if (sb_store_key_sid(prefix, sid, a->ptr, sizeof(a->ptr), err) != 0)
        return -1;
    snprintf(a->ttl_s, sizeof(a->ttl_s), "%lld", ttl > 0 ? ttl : 1);
    a->argv[0] = a->ptr;
    a->argv[1] = tag;
    a->argv[2] = a->ttl_s;
    return 0;
}

/* Runs the claim for a revoked sid (see keep_args). */
static int keep_pointer(struct sb_redis *r, const char *prefix,
                        const char *tag, const char *sid, long long ttl,
                        struct sb_err *err)
{
    struct keep_args a;
    redisReply *rep;

    if (ttl <= 0)
        return 0;
    if (keep_args(prefix, tag, sid, ttl, &a, err) != 0)
        return -1;
    rep = sb_store_eval(r, SB_SCRIPT_CLAIM, 1, 3, a.argv, NULL, err);
    if (rep == NULL)
        return -1;
    freeReplyObject(rep);
    return 0;
}

static int delete_tagged(struct sb_redis *r, const char *prefix,
                         const char *tag, const char *sid, int64_t now,
                         int64_t least_ttl, struct sb_store_removed *removed,
                         struct sb_err *err)
{
    struct delete_args a;
    long long marker_ttl = 0;
    redisReply *rep;

    if (delete_args(prefix, tag, sid, now, least_ttl, &a, err) != 0)
        return -1;
    rep = sb_store_eval(r, SB_SCRIPT_DELETE, 3, 8, a.argv, NULL, err);
    if (rep == NULL || delete_result(rep, removed, &marker_ttl, err) != 0)
        return -1;
    return keep_pointer(r, prefix, tag, sid, marker_ttl, err);
}

int sb_store_delete(struct sb_redis *r, const char *prefix, const char *sid,
                    const char *subject, int64_t now, int64_t least_ttl,
                    struct sb_store_removed *removed, struct sb_err *err)
{
    char tag[SB_STORE_TAG_MAX];

    if (!sb_sid_is_valid(sid))
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "session id must be 1-%d characters of "
                          "[A-Za-z0-9._:-]", SB_SID_MAX - 1);
    if (subject != NULL) {
        if (sb_store_tag(subject, sid, tag, sizeof(tag), err) != 0)
            return -1;
    } else if (sb_store_owner(r, prefix, sid, tag, sizeof(tag), err) != 0) {
        return -1;
    }
    return delete_tagged(r, prefix, tag, sid, now, least_ttl, removed, err);
}

/* The marker lives at least as long as the credential itself could, and
 * as long as least_ttl. */
int sb_store_revoke(struct sb_redis *r, const char *prefix,
                    const struct sb_session *s, int64_t now,
                    int64_t least_ttl, struct sb_store_removed *removed,
                    struct sb_err *err)
{
    char tag[SB_STORE_TAG_MAX];
    int64_t own = s->expires_at > now ? s->expires_at - now
                  : s->expires_at == 0 ? SB_STORE_UNBOUNDED_TTL
                                       : 0;

    if (own > least_ttl)
        least_ttl = own;
    if (removed != NULL)
        memset(removed, 0, sizeof(*removed));
    if (sb_store_tag(s->subject, s->sid, tag, sizeof(tag), err) != 0)
        return -1;
    return delete_tagged(r, prefix, tag, s->sid, now, least_ttl,
                         s->subject != NULL ? removed : NULL, err);
}

void sb_store_free_sessions(struct sb_session *v, size_t n)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < n; i++)
        sb_session_reset(&v[i]);
    free(v);
}

void sb_store_free_strings(char **v, size_t n)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* One session of the list script's answer (sb_store_record_parser);
 * a value that does not parse is skipped. */
static bool parse_listed(const char *text, size_t len, void *item)
{
    struct sb_err ignored;

    if (parse_stored(text, len, NULL, item, &ignored) == 0)
        return true;
    sb_session_reset(item);
    return false;
}

int sb_store_list_user(struct sb_redis *r, const char *prefix,
                       const char *subject, int64_t now, size_t limit,
                       struct sb_session **out, size_t *n,
                       struct sb_err *err)
{
    char tag[SB_STORE_TAG_MAX], idx[SB_STORE_KEY_MAX];
    char sessp[SB_STORE_KEY_MAX], now_s[24], limit_s[24];
    const char *argv[4] = {idx, now_s, sessp, limit_s};
    redisReply *rep;
    void *v;

    *out = NULL;
    *n = 0;
    if (subject == NULL)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST, "subject required");
    if (sb_store_tag(subject, NULL, tag, sizeof(tag), err) != 0 ||
        sb_store_key_index(prefix, tag, idx, sizeof(idx), err) != 0 ||
        sb_store_key_session(prefix, tag, "", sessp, sizeof(sessp), err) != 0)
        return -1;
    snprintf(now_s, sizeof(now_s), "%lld", (long long)now);
    snprintf(limit_s, sizeof(limit_s), "%lld",
             limit ? (long long)limit : -1LL);
    rep = sb_store_eval(r, SB_SCRIPT_LIST, 1, 4, argv, NULL, err);
    if (rep == NULL ||
        sb_store_parse_records(rep, sizeof(**out), parse_listed, &v, n,
                               err) != 0)
        return -1;
    *out = v;
    return 0;
}

/* Copies the sids of logout answers reps[0..nreps) (string arrays) into
 * one new array. */
static int take_sids(redisReply *const *reps, size_t nreps, char ***out,
                     size_t *n, struct sb_err *err)
{
    size_t i, j, total = 0, k = 0;
    char **v;

    for (i = 0; i < nreps; i++)
        total += reps[i]->elements;
    v = calloc(total + 1, sizeof(*v));
    if (v == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    for (i = 0; i < nreps; i++) {
        for (j = 0; j < reps[i]->elements; j++, k++) {
            const redisReply *e = reps[i]->element[j];
            v[k] = strndup(e->str, e->len);
            if (v[k] == NULL) {
                sb_store_free_strings(v, k);
                return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
            }
        }
    }
    *out = v;
    *n = total;
    return 0;
}

/* The logout script's arguments for subject: the user's keys, with the
 * session and marker keys as prefixes (sid ""). */
struct logout_args {
    char tag[SB_STORE_TAG_MAX];
    struct sb_store_keys k;
    char channel[SB_STORE_KEY_MAX];
    char now_s[24];
    char ttl_s[24];
    const char *argv[8];
};

static int logout_args(const char *prefix, const char *subject, int64_t now,
                       int64_t nbf_ttl, struct logout_args *a,
                       struct sb_err *err)
{
    if (subject == NULL)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST, "subject required");
    if (sb_store_tag(subject, NULL, a->tag, sizeof(a->tag), err) != 0 ||
        sb_store_key_set(prefix, a->tag, "", &a->k, err) != 0 ||
        sb_store_key_channel(prefix, a->channel, sizeof(a->channel),
                             err) != 0)
        return -1;
    snprintf(a->now_s, sizeof(a->now_s), "%lld", (long long)now);
    snprintf(a->ttl_s, sizeof(a->ttl_s), "%lld",
             (long long)(nbf_ttl > 0 ? nbf_ttl : SB_STORE_UNBOUNDED_TTL));
    a->argv[0] = a->k.idx;
    a->argv[1] = a->k.nbf;
    a->argv[2] = a->now_s;
    a->argv[3] = a->ttl_s;
    a->argv[4] = a->k.sess;
    a->argv[5] = a->k.rev;
    a->argv[6] = a->channel;
    a->argv[7] = a->tag;
    return 0;
}

static bool is_string_array(const redisReply *rep)
{
    size_t i;

    if (rep->type != REDIS_REPLY_ARRAY)
        return false;
    for (i = 0; i < rep->elements; i++) {
        if (rep->element[i]->type != REDIS_REPLY_STRING)
            return false;
    }
    return true;
}

int sb_store_logout_user(struct sb_redis *r, const char *prefix,
                         const char *subject, int64_t now, int64_t nbf_ttl,
                         char ***sids, size_t *n, struct sb_err *err)
{
    struct logout_args a;
    redisReply *rep;
    char **v = NULL;
    size_t k = 0;
    int rc;

    if (sids != NULL)
        *sids = NULL;
    if (n != NULL)
        *n = 0;
    if (logout_args(prefix, subject, now, nbf_ttl, &a, err) != 0)
        return -1;
    rep = sb_store_eval(r, SB_SCRIPT_LOGOUT, 2, 8, a.argv, NULL, err);
    if (rep == NULL)
        return -1;
    if (!is_string_array(rep))
        return unexpected(rep, err);
    rc = keep_logged_out(r, prefix, subject, rep, nbf_ttl, err);
    if (rc == 0)
        rc = take_sids(&rep, 1, &v, &k, err);
    freeReplyObject(rep);
    if (rc != 0)
        return -1;
    if (sids != NULL) {
        *sids = v;
        v = NULL;
    }
    if (n != NULL)
        *n = k;
    sb_store_free_strings(v, k);
    return rc;
}

/* ---- batches for the admin CLI ------------------------------------------ */

/* Appends SCRIPT LOAD of id to the pipeline, so the EVALSHAs after it in
 * the same pipeline cannot meet NOSCRIPT. */
static int append_load(struct sb_redis *r, enum sb_script id,
                       struct sb_err *err)
{
    const char *argv[3] = {"SCRIPT", "LOAD", sb_store_script_text(id)};

    return sb_redis_append(r, 3, argv, NULL, err);
}

/* Reads n replies, keeping them in out[] (NULL where Redis errored). */
static int read_replies(struct sb_redis *r, size_t n, redisReply **out,
                        struct sb_err *err)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out[i] = sb_redis_read(r, err);
        if (out[i] == NULL) {
            while (i-- > 0) {
                freeReplyObject(out[i]);
                out[i] = NULL;
            }
            return -1;
        }
    }
    return 0;
}

/* Appends the claim that keeps sid's pointer alive for ttl seconds
 * (keep_args) to the pipeline. */
static int append_keep(struct sb_redis *r, const char *prefix,
                       const char *tag, const char *sid, long long ttl,
                       struct sb_err *err)
{
    struct keep_args a;

    if (keep_args(prefix, tag, sid, ttl, &a, err) != 0)
        return -1;
    return sb_redis_append_evalsha(r, sb_store_script_sha(SB_SCRIPT_CLAIM), 1,
                                   3, a.argv, NULL, err);
}

/* keep_pointer for sids[0..n) of owners tags[] (skipping "") in one
 * pipeline. */
static int keep_pointers(struct sb_redis *r, const char *prefix,
                         const char (*tags)[SB_STORE_TAG_MAX],
                         const char *const *sids, const long long *ttls,
                         size_t n, struct sb_err *err)
{
    size_t i, sent = 0;
    int rc = 0;

    if (append_load(r, SB_SCRIPT_CLAIM, err) != 0)
        return -1;
    sent = 1;
    for (i = 0; i < n; i++) {
        if (tags[i][0] == '\0' || ttls[i] <= 0)
            continue;
        if (append_keep(r, prefix, tags[i], sids[i], ttls[i], err) != 0) {
            rc = -1;
            break;
        }
        sent++;
    }
    if (sb_redis_discard(r, sent, err) != 0)
        return -1;
    return rc;
}

/* keep_pointer, in one pipeline, for every sid of a logout answer (a
 * string array) of the user whose tag is "u:" + escaped subject. */
static int keep_logged_out(struct sb_redis *r, const char *prefix,
                           const char *subject, const redisReply *sids,
                           long long ttl, struct sb_err *err)
{
    char tag[SB_STORE_TAG_MAX];
    size_t i, sent = 0;
    int rc = 0;

    if (sids->elements == 0 || ttl <= 0)
        return 0;
    if (sb_store_tag(subject, NULL, tag, sizeof(tag), err) != 0 ||
        append_load(r, SB_SCRIPT_CLAIM, err) != 0)
        return -1;
    sent = 1;
    for (i = 0; i < sids->elements; i++) {
        if (append_keep(r, prefix, tag, sids->element[i]->str, ttl,
                        err) != 0) {
            rc = -1;
            break;
        }
        sent++;
    }
    if (sb_redis_discard(r, sent, err) != 0)
        return -1;
    return rc;
}

int sb_store_delete_many(struct sb_redis *r, const char *prefix,
                         const char *const *sids, size_t n, int64_t now,
                         int64_t least_ttl, struct sb_store_removed *removed,
                         struct sb_err *err)
{
    redisReply **reps = calloc(n + 1, sizeof(*reps));
    char (*tags)[SB_STORE_TAG_MAX] = calloc(n + 1, sizeof(*tags));
    long long *ttls = calloc(n + 1, sizeof(*ttls));
    struct delete_args a;
    size_t i, nf = 0, sent = 0;
    int rc = -1;

    if (reps == NULL || tags == NULL || ttls == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    memset(removed, 0, n * sizeof(*removed));
    /* 1: the owners, from the sid pointers */
    if (sb_store_owners(r, prefix, sids, n, tags, err) != 0)
        goto out_free;
    /* 2: one atomic delete per session that has an owner */
    if (append_load(r, SB_SCRIPT_DELETE, err) != 0)
        goto out_free;
    sent = 1;
    for (i = 0; i < n; i++) {
        if (tags[i][0] == '\0')
            continue;
        if (delete_args(prefix, tags[i], sids[i], now, least_ttl, &a,
                        err) != 0 ||
            sb_redis_append_evalsha(r, sb_store_script_sha(SB_SCRIPT_DELETE),
                                    3, 8, a.argv, NULL, err) != 0)
            goto out_drain;
        sent++;
    }
    if (read_replies(r, sent, reps, err) != 0)
        goto out_free;
    for (i = 0, nf = 1; i < n; i++) {
        if (tags[i][0] == '\0')
            continue;
        if (reps[nf]->type == REDIS_REPLY_ERROR) {
            sb_err_set(err, SB_ERR_STORE, "Redis script failed: %.100s",
                       reps[nf]->str);
            goto out_free;
        }
        if (delete_result(reps[nf], &removed[i], &ttls[i], err) != 0) {
            reps[nf] = NULL;
            goto out_free;
        }
        reps[nf++] = NULL;
    }
    /* 3: the pointers stay as long as the markers */
    rc = keep_pointers(r, prefix, tags, sids, ttls, n, err);
    goto out_free;

out_drain:
    sb_redis_discard(r, sent, NULL);
out_free:
    for (i = 0; i <= n; i++)
        freeReplyObject(reps[i]);
    free(reps);
    free(tags);
    free(ttls);
    return rc;
}

int sb_store_logout_many(struct sb_redis *r, const char *prefix,
                         const char *const *subjects, size_t n, int64_t now,
                         int64_t nbf_ttl, long long *removed, char ***sids,
                         size_t *nsids, struct sb_err *err)
{
    redisReply **reps = calloc(n + 2, sizeof(*reps));
    struct logout_args a;
    size_t i, sent = 0;
    int rc = -1;

    if (reps == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    if (append_load(r, SB_SCRIPT_LOGOUT, err) != 0)
        goto out_free;
    sent = 1;
    for (i = 0; i < n; i++) {
        if (logout_args(prefix, subjects[i], now, nbf_ttl, &a, err) != 0 ||
            sb_redis_append_evalsha(r, sb_store_script_sha(SB_SCRIPT_LOGOUT),
                                    2, 8, a.argv, NULL, err) != 0) {
            sb_redis_discard(r, sent, NULL);
            goto out_free;
        }
        sent++;
    }
    if (read_replies(r, sent, reps, err) != 0)
        goto out_free;
    rc = 0;
    for (i = 0; i < n; i++) {
        redisReply *rep = reps[i + 1];

        if (!is_string_array(rep)) {
            rc = sb_err_set(err, SB_ERR_STORE, "Redis script failed: %.100s",
                            rep->type == REDIS_REPLY_ERROR ? rep->str
                                                           : "bad reply");
            break;
        }
        removed[i] = (long long)rep->elements;
        if ((rc = keep_logged_out(r, prefix, subjects[i], rep, nbf_ttl,
                                  err)) != 0)
            break;
    }
    if (rc == 0 && sids != NULL)
        rc = take_sids(reps + 1, n, sids, nsids, err);
out_free:
    for (i = 0; i < n + 2; i++)
        freeReplyObject(reps[i]);
    free(reps);
    return rc;
}
