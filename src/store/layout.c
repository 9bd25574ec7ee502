/* layout.c - key names of Redis layout v1 (proto/REDIS-LAYOUT.md): hash
 * tags per owner, subject escaping, lifetimes, the layout version key. */
#include "sessionbridge/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sessionbridge/codec.h"
#include "sessionbridge/percent.h"

/* Formats a key into buf; fails when it does not fit or the prefix could
 * break the hash tags. */
static int key_printf(char *buf, size_t size, struct sb_err *err,
                      const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int key_printf(char *buf, size_t size, struct sb_err *err,
                      const char *prefix, const char *fmt, ...)
{
    va_list ap;
    size_t plen = strlen(prefix);
    int n;

    if (plen > SB_STORE_PREFIX_MAX || strpbrk(prefix, "{}") != NULL)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "[redis] prefix must be at most %d bytes without "
                          "'{' or '}'", SB_STORE_PREFIX_MAX);
    if (plen >= size)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST, "key too long");
    memcpy(buf, prefix, plen);
    va_start(ap, fmt);
    n = vsnprintf(buf + plen, size - plen, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size - plen)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST, "key too long");
    return 0;
}

/* The bytes a subject keeps in a key (the rest become %XX). */
static bool subject_byte_plain(unsigned char c, const void *unused)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~' || c == '@' || c == '+' || c == '=';
}

int sb_store_escape_subject(const char *subject, char *buf, size_t size,
                            struct sb_err *err)
{
    size_t len = strlen(subject);

    if (len == 0 || len > SB_SUBJECT_MAX)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "subject must be 1-%d bytes", SB_SUBJECT_MAX);
    if (sb_percent_encode(subject, len, subject_byte_plain, NULL, buf,
                          size) < 0)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST, "key too long");
    return 0;
}

int sb_store_tag(const char *subject, const char *sid, char *buf, size_t size,
                 struct sb_err *err)
{
    if (size < 3)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST, "key too long");
    if (subject != NULL) {
        memcpy(buf, "u:", 2);
        return sb_store_escape_subject(subject, buf + 2, size - 2, err);
    }
    if (!sb_sid_is_valid(sid))
        return sb_err_set(err, SB_ERR_INVALID_REQUEST, "invalid session id");
    if ((size_t)snprintf(buf, size, "s:%s", sid) >= size)
        return sb_err_set(err, SB_ERR_INVALID_REQUEST, "key too long");
    return 0;
}

int sb_store_key_session(const char *prefix, const char *tag, const char *sid,
                         char *buf, size_t size, struct sb_err *err)
{
    return key_printf(buf, size, err, prefix, "{%s}:sess:%s", tag, sid);
}

int sb_store_key_index(const char *prefix, const char *tag, char *buf,
                       size_t size, struct sb_err *err)
{
    return key_printf(buf, size, err, prefix, "{%s}:idx", tag);
}

int sb_store_key_revoked(const char *prefix, const char *tag, const char *sid,
                         char *buf, size_t size, struct sb_err *err)
{
    return key_printf(buf, size, err, prefix, "{%s}:rev:%s", tag, sid);
}

int sb_store_key_not_before(const char *prefix, const char *tag, char *buf,
                            size_t size, struct sb_err *err)
{
    return key_printf(buf, size, err, prefix, "{%s}:nbf", tag);
}

int sb_store_key_set(const char *prefix, const char *tag, const char *sid,
                     struct sb_store_keys *k, struct sb_err *err)
{
    if (sb_store_key_session(prefix, tag, sid, k->sess, sizeof(k->sess),
                             err) != 0 ||
        sb_store_key_index(prefix, tag, k->idx, sizeof(k->idx), err) != 0 ||
        sb_store_key_revoked(prefix, tag, sid, k->rev, sizeof(k->rev),
                             err) != 0 ||
        sb_store_key_not_before(prefix, tag, k->nbf, sizeof(k->nbf), err) != 0)
        return -1;
    return 0;
}

int sb_store_key_sid(const char *prefix, const char *sid, char *buf,
                     size_t size, struct sb_err *err)
{
    return key_printf(buf, size, err, prefix, "sid:%s", sid);
}

int sb_store_key_channel(const char *prefix, char *buf, size_t size,
                         struct sb_err *err)
{
    return key_printf(buf, size, err, prefix, "invalidate");
}

int sb_store_key_layout(const char *prefix, char *buf, size_t size,
                        struct sb_err *err)
{
    return key_printf(buf, size, err, prefix, "layout");
}

int sb_store_key_apikey(const char *prefix, const char *hash_hex, char *buf,
                        size_t size, struct sb_err *err)
{
    return key_printf(buf, size, err, prefix, "{k}:apikey:%s", hash_hex);
}

int sb_store_key_apikey_id(const char *prefix, const char *key_id, char *buf,
                           size_t size, struct sb_err *err)
{
    return key_printf(buf, size, err, prefix, "{k}:apikey-id:%s", key_id);
}

int sb_store_key_apikeys(const char *prefix, char *buf, size_t size,
                         struct sb_err *err)
{
    return key_printf(buf, size, err, prefix, "{k}:apikeys");
}

int64_t sb_store_max_lifetime(const struct sb_config *cfg)
{
    int64_t longest = 0;
    size_t i;

    if (cfg == NULL || cfg->profile_count == 0)
        return SB_STORE_UNBOUNDED_TTL;
    for (i = 0; i < cfg->profile_count; i++) {
        int64_t m = cfg->profiles[i].max_age;
        if (m <= 0 || m > SB_STORE_UNBOUNDED_TTL)
            return SB_STORE_UNBOUNDED_TTL;
        if (m > longest)
            longest = m;
    }
    return longest;
}

int sb_store_layout_ensure(struct sb_redis *r, const char *prefix,
                           struct sb_err *err)
{
    char key[SB_STORE_KEY_MAX], want[8];
    const char *set[4] = {"SET", key, want, "NX"};
    const char *get[2] = {"GET", key};
    redisReply *rep;
    int rc = 0;

    if (sb_store_key_layout(prefix, key, sizeof(key), err) != 0)
        return -1;
    snprintf(want, sizeof(want), "%d", SB_STORE_LAYOUT_VERSION);
    rep = sb_redis_commandv(r, 4, set, NULL, err);
    if (rep == NULL)
        return -1;
    freeReplyObject(rep);
    rep = sb_redis_commandv(r, 2, get, NULL, err);
    if (rep == NULL)
        return -1;
    if (rep->type != REDIS_REPLY_STRING || strcmp(rep->str, want) != 0)
        rc = sb_err_set(err, SB_ERR_CONFIG,
                        "Redis holds sessionbridge layout version %.16s under "
                        "this prefix; this build writes version %s",
                        rep->type == REDIS_REPLY_STRING ? rep->str : "?",
                        want);
    freeReplyObject(rep);
    return rc;
}
