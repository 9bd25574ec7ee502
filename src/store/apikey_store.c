/* apikey_store.c - API-key records (layout v1): stored under the SHA-256 of
 * the key, never the key itself; all in the {k} slot so that a key's
 * record, id and list entry change atomically. */
#include "sessionbridge/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/crypto.h"
#include "sessionbridge/jsonutil.h"
#include "store_internal.h"

void sb_apikey_reset(struct sb_apikey *k)
{
    json_decref(k->scopes);
    memset(k, 0, sizeof(*k));
}

/* Lower-case hex SHA-256 of key[0..len) into hex (65 bytes). */
static void key_hash(const char *key, size_t len, char hex[65])
{
    unsigned char md[SB_DIGEST_MAX];
    const void *part = key;

    sb_hash(SB_SHA256, &part, &len, 1, md);
    sb_hex_encode(md, 32, hex);
}

static bool key_id_valid(const char *id)
{
    size_t i, n = strlen(id);

    if (n == 0 || n >= SB_APIKEY_ID_MAX)
        return false;
    for (i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* Checks scopes: NULL or an array of at most SB_APIKEY_SCOPES_MAX short
 * strings. */
static int scopes_valid(const json_t *scopes, struct sb_err *err)
{
    size_t i;
    json_t *v;

    if (scopes == NULL)
        return 0;
    if (!json_is_array(scopes) || json_array_size(scopes) > SB_APIKEY_SCOPES_MAX)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "scopes must be an array of at most %d strings",
                          SB_APIKEY_SCOPES_MAX);
    json_array_foreach(scopes, i, v) {
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > 64)
            return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                              "each scope must be a string of 1-64 bytes");
    }
    return 0;
}

int sb_store_apikey_put(struct sb_redis *r, const char *prefix,
                        const struct sb_apikey *k, const char *key,
                        size_t len, int64_t now, struct sb_err *err)
{
    char hex[65], rec[SB_STORE_KEY_MAX], idk[SB_STORE_KEY_MAX];
    char list[SB_STORE_KEY_MAX], ttl_s[24], score_s[24], now_s[24];
    const char *argv[9];
    size_t argvlen[9];
    json_t *doc;
    char *text = NULL;
    redisReply *rep;
    int i, rc = -1;

    if (!key_id_valid(k->key_id))
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "key id must be 1-%d characters of [A-Za-z0-9._-]",
                          SB_APIKEY_ID_MAX - 1);
    if (k->subject[0] == '\0')
        return sb_err_set(err, SB_ERR_INVALID_REQUEST, "subject required");
    if (len < 16)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "an API key must be at least 16 bytes");
    if (k->expires_at != 0 && k->expires_at <= now)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "expires_at is in the past");
    if (scopes_valid(k->scopes, err) != 0)
        return -1;
    key_hash(key, len, hex);
    if (sb_store_key_apikey(prefix, hex, rec, sizeof(rec), err) != 0 ||
        sb_store_key_apikey_id(prefix, k->key_id, idk, sizeof(idk), err) != 0 ||
        sb_store_key_apikeys(prefix, list, sizeof(list), err) != 0)
        return -1;
    doc = json_pack("{s:s, s:s, s:o, s:I, s:I, s:s}", "key_id", k->key_id,
                    "subject", k->subject, "scopes",
                    k->scopes ? json_incref(k->scopes) : json_array(),
                    "created_at", (json_int_t)k->created_at,
                    "expires_at", (json_int_t)k->expires_at,
                    "key_hash", hex);
    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    snprintf(ttl_s, sizeof(ttl_s), "%lld",
             (long long)(k->expires_at ? k->expires_at - now : 0));
    if (k->expires_at)
        snprintf(score_s, sizeof(score_s), "%lld", (long long)k->expires_at);
    else
        snprintf(score_s, sizeof(score_s), "+inf");
    snprintf(now_s, sizeof(now_s), "%lld", (long long)now);
    argv[0] = rec;
    argv[1] = idk;
    argv[2] = list;
    argv[3] = text;
    argv[4] = hex;
    argv[5] = k->key_id;
    argv[6] = ttl_s;
    argv[7] = score_s;
    argv[8] = now_s;
    for (i = 0; i < 9; i++)
        argvlen[i] = strlen(argv[i]);
    rep = sb_store_eval(r, SB_SCRIPT_APIKEY_PUT, 3, 9, argv, argvlen, err);
    if (rep == NULL)
        goto out_free;
    if (rep->type != REDIS_REPLY_INTEGER)
        sb_err_set(err, SB_ERR_STORE, "unexpected reply from Redis");
    else if (rep->integer == 0)
        sb_err_set(err, SB_ERR_INVALID_REQUEST, "key id '%s' is taken",
                   k->key_id);
    else if (rep->integer == -1)
        sb_err_set(err, SB_ERR_INVALID_REQUEST,
                   "this key is already stored under another id");
    else
        rc = 0;
    freeReplyObject(rep);
out_free:
    free(text);
    return rc;
}

/* Fills out from a stored record; false when it is not one. */
static bool parse_record(const char *text, size_t len, struct sb_apikey *out,
                         char hash[65])
{
    json_t *doc = json_loadb(text, len, 0, NULL);
    const char *id = NULL, *sub = NULL, *h = NULL;
    json_int_t created = 0, expires = 0;
    json_t *scopes = NULL;
    bool ok;

    ok = doc != NULL &&
         json_unpack(doc, "{s:s, s:s, s?o, s?I, s?I, s:s}", "key_id", &id,
                     "subject", &sub, "scopes", &scopes, "created_at",
                     &created, "expires_at", &expires, "key_hash", &h) == 0 &&
         strlen(id) < sizeof(out->key_id) && strlen(sub) < sizeof(out->subject)
         && strlen(h) == 64;
    if (ok) {
        strcpy(out->key_id, id);
        strcpy(out->subject, sub);
        memcpy(hash, h, 65);
        out->scopes = json_is_array(scopes) ? json_incref(scopes)
                                            : json_array();
        out->created_at = created;
        out->expires_at = expires;
    }
    json_decref(doc);
    return ok;
}

int sb_store_apikey_get(struct sb_redis *r, const char *prefix,
                        const char *key, size_t len, int64_t now,
                        struct sb_apikey *out, struct sb_err *err)
{
    char hex[65], stored[65], rec[SB_STORE_KEY_MAX];
    const char *argv[2] = {"GET", rec};
    redisReply *rep;

    memset(out, 0, sizeof(*out));
    key_hash(key, len, hex);
    if (sb_store_key_apikey(prefix, hex, rec, sizeof(rec), err) != 0)
        return -1;
    rep = sb_redis_commandv(r, 2, argv, NULL, err);
    if (rep == NULL)
        return -1;
    if (rep->type != REDIS_REPLY_STRING) {
        int nil = rep->type == REDIS_REPLY_NIL;
        freeReplyObject(rep);
        return nil ? sb_err_set(err, SB_ERR_NOT_FOUND, "unknown API key")
                   : sb_err_set(err, SB_ERR_STORE,
                                "unexpected reply from Redis");
    }
    if (!parse_record(rep->str, rep->len, out, stored)) {
        freeReplyObject(rep);
        return sb_err_set(err, SB_ERR_STORE, "the stored API key record is "
                          "not valid");
    }
    freeReplyObject(rep);
    if (!sb_ct_equal(stored, hex, 64)) {
        sb_apikey_reset(out);
        return sb_err_set(err, SB_ERR_NOT_FOUND, "unknown API key");
    }
    if (out->expires_at != 0 && out->expires_at <= now) {
        sb_apikey_reset(out);
        return sb_err_set(err, SB_ERR_EXPIRED, "the API key has expired");
    }
    return 0;
}

int sb_store_apikey_delete(struct sb_redis *r, const char *prefix,
                           const char *key_id, struct sb_err *err)
{
    char idk[SB_STORE_KEY_MAX], list[SB_STORE_KEY_MAX], recp[SB_STORE_KEY_MAX];
    const char *argv[4] = {idk, list, recp, key_id};
    redisReply *rep;
    int rc = 0;

    if (!key_id_valid(key_id))
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "key id must be 1-%d characters of [A-Za-z0-9._-]",
                          SB_APIKEY_ID_MAX - 1);
    if (sb_store_key_apikey_id(prefix, key_id, idk, sizeof(idk), err) != 0 ||
        sb_store_key_apikeys(prefix, list, sizeof(list), err) != 0 ||
        sb_store_key_apikey(prefix, "", recp, sizeof(recp), err) != 0)
        return -1;
    rep = sb_store_eval(r, SB_SCRIPT_APIKEY_DELETE, 2, 4, argv, NULL, err);
    if (rep == NULL)
        return -1;
    if (rep->type != REDIS_REPLY_INTEGER)
        rc = sb_err_set(err, SB_ERR_STORE, "unexpected reply from Redis");
    else if (rep->integer == 0)
        rc = sb_err_set(err, SB_ERR_NOT_FOUND, "no API key with id '%s'",
                        key_id);
    freeReplyObject(rep);
    return rc;
}

/* One key of the apikey_list script's answer (sb_store_record_parser). */
static bool parse_listed(const char *text, size_t len, void *item)
{
    char hash[65];

    return parse_record(text, len, item, hash);
}

int sb_store_apikey_list(struct sb_redis *r, const char *prefix, int64_t now,
                         struct sb_apikey **out, size_t *n,
                         struct sb_err *err)
{
    char list[SB_STORE_KEY_MAX], idp[SB_STORE_KEY_MAX], recp[SB_STORE_KEY_MAX];
    char now_s[24];
    const char *argv[4] = {list, now_s, idp, recp};
    redisReply *rep;
    void *v;

    *out = NULL;
    *n = 0;
    if (sb_store_key_apikeys(prefix, list, sizeof(list), err) != 0 ||
        sb_store_key_apikey_id(prefix, "", idp, sizeof(idp), err) != 0 ||
        sb_store_key_apikey(prefix, "", recp, sizeof(recp), err) != 0)
        return -1;
    snprintf(now_s, sizeof(now_s), "%lld", (long long)now);
    rep = sb_store_eval(r, SB_SCRIPT_APIKEY_LIST, 1, 4, argv, NULL, err);
    if (rep == NULL ||
        sb_store_parse_records(rep, sizeof(**out), parse_listed, &v, n,
                               err) != 0)
        return -1;
    *out = v;
    return 0;
}
