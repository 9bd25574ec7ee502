/* scripts.c - the Lua scripts of Redis layout v1 (proto/REDIS-LAYOUT.md),
 * their SHA-1s, running them by SHA, and reading the answers of those
 * that list stored records. */
#include "store_internal.h"

#include <pthread.h>
#include <stdlib.h>

#include "sessionbridge/store.h"

/*
 * record: the hot path's check-and-insert over one owner's slot.
 * KEYS: sess, idx, rev, nbf.  ARGV: sid, session JSON, ttl, index score,
 * issued_at, now, mode ("r" record, "a" anonymous: no index, no nbf),
 * the most live sessions the user may have, the session and marker key
 * prefixes P{T}:sess: and P{T}:rev: (for sessions evicted past that), and
 * the invalidation channel (an evicted sid is published there), and "d"
 * when the sid was derived from the credential's content: a marker then
 * refuses only credentials issued at or before the revocation (the same
 * content issued later, e.g. the same user logging in again, is a new
 * login, and the marker goes).
 * Returns -1 revoked (marker), -2 revoked (not-before), 0 already there,
 * 1 inserted.
 *
 * A marker outlives every copy of the credential presented while it
 * stands: a re-signed copy (same sid, later expiry) extends it to its own
 * lifetime.  The not-before time only judges sessions not recorded yet:
 * log-out-everywhere deletes every recorded session, so one that exists
 * was recorded after it (a new login), whatever issue time a format
 * writes into its credential (gorilla back-dates its timestamp to encode
 * expiry).  Past the cap the sessions expiring soonest are revoked as a
 * DELETE would (session gone, marker written), so the index stays bounded
 * and every session in the user's slot stays in it.
 */
static const char record_lua[] =
    "local ttl = tonumber(ARGV[3])\n"
    "local rev = redis.call('GET', KEYS[3])\n"
    "if rev and ARGV[12] == 'd' and tonumber(ARGV[5]) > tonumber(rev) then\n"
    "  redis.call('DEL', KEYS[3])\n"
    "  rev = false\n"
    "end\n"
    "if rev then\n"
    "  if redis.call('TTL', KEYS[3]) < ttl then\n"
    "    redis.call('EXPIRE', KEYS[3], ttl)\n"
    "  end\n"
    "  return -1\n"
    "end\n"
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
    "local anon = ARGV[7] == 'a'\n"
    "if not anon then\n"
    "  local nbf = redis.call('GET', KEYS[4])\n"
    "  local ia = tonumber(ARGV[5])\n"
    "  if nbf and ia > 0 and ia < tonumber(nbf) then return -2 end\n"
    "end\n"
    "redis.call('SET', KEYS[1], ARGV[2], 'EX', ttl)\n"
    "if not anon then\n"
    "  local now = tonumber(ARGV[6])\n"
    "  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])\n"
    "  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)\n"
    "  local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[8])\n"
    "  if over > 0 then\n"
    "    local old = redis.call('ZPOPMIN', KEYS[2], over)\n"
    "    for i = 1, #old, 2 do\n"
    "      local left = math.ceil(tonumber(old[i + 1]) - now)\n"
    "      redis.call('DEL', ARGV[9] .. old[i])\n"
    "      if left > 0 then\n"
    "        redis.call('SET', ARGV[10] .. old[i], ARGV[6], 'EX', left)\n"
    "      end\n"
    "      redis.call('PUBLISH', ARGV[11], 'i ' .. old[i])\n"
    "    end\n"
    "  end\n"
    "  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')\n"
    "  if last[2] then\n"
    "    redis.call('EXPIRE', KEYS[2],\n"
    "               math.max(1, math.ceil(tonumber(last[2]) - now)))\n"
    "  end\n"
    "end\n"
    "return 1\n";

/*
 * claim: the sid pointer, fixed at first sight.  KEYS: P sid:SID.
 * ARGV: owner tag, ttl.  Writes the pointer when there is none; when it
 * names this owner, extends it to ttl if that is longer.  Returns the
 * owner it names afterwards: another owner's tag means the credential
 * claims a session that is not its owner's, and is refused.
 */
static const char claim_lua[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if not cur then\n"
    "  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])\n"
    "  return ARGV[1]\n"
    "end\n"
    "if cur == ARGV[1] and\n"
    "   redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
    "end\n"
    "return cur\n";

/*
 * delete: removes one session and revokes its sid.
 * KEYS: sess, idx, rev.  ARGV: sid, now, least marker ttl, mode ("u" /
 * "a"), the invalidation channel (the sid is published there, in the same
 * atomic step, for every bridge's cache).  The marker lives as long as the session had left (the key's TTL,
 * else its index score minus now), and never less than the least ttl
 * (the longest life a credential of any profile can have, so a copy the
 * app re-signed meanwhile is caught too); a sid already revoked (and no
 * longer stored) keeps its marker as it is.  Returns {existed 0/1,
 * profile, marker ttl}.
 */
static const char delete_lua[] =
    "local now = tonumber(ARGV[2])\n"
    "local least = tonumber(ARGV[3])\n"
    "local v = redis.call('GET', KEYS[1])\n"
    "local mttl = redis.call('TTL', KEYS[3])\n"
    "redis.call('PUBLISH', ARGV[5], 'i ' .. ARGV[1])\n"
    "if not v and mttl > 0 then return {0, '', mttl} end\n"
    "local ttl = redis.call('TTL', KEYS[1])\n"
    "local prof = ''\n"
    "if v then\n"
    "  local ok, s = pcall(cjson.decode, v)\n"
    "  if ok and type(s) == 'table' and type(s.profile) == 'string' then\n"
    "    prof = s.profile\n"
    "  end\n"
    "end\n"
    "if ttl < 0 and ARGV[4] ~= 'a' then\n"
    "  local sc = redis.call('ZSCORE', KEYS[2], ARGV[1])\n"
    "  if sc then ttl = math.ceil(tonumber(sc) - now) end\n"
    "end\n"
    "ttl = math.max(ttl, least, mttl)\n"
    "if v then redis.call('DEL', KEYS[1]) end\n"
    "if ARGV[4] ~= 'a' then redis.call('ZREM', KEYS[2], ARGV[1]) end\n"
    "if mttl > 0 then redis.call('EXPIRE', KEYS[3], ttl)\n"
    "elseif ttl > 0 then redis.call('SET', KEYS[3], ARGV[2], 'EX', ttl) end\n"
    "return {v and 1 or 0, prof, ttl}\n";

/*
 * logout: log-out-everywhere of one user.
 * KEYS: idx, nbf.  ARGV: now, nbf ttl, session key prefix P{u:S}:sess:,
 * marker prefix P{u:S}:rev:, the invalidation channel and the owner tag
 * u:S (published there: every session of the user leaves the caches).  The per-sid keys share the user's hash tag
 * (same slot), built from the prefixes because their number varies.
 * Each marker lives as long as its session had left, and at least the nbf
 * ttl (as delete's do).  Returns the sids removed.
 */
static const char logout_lua[] =
    "local now = tonumber(ARGV[1])\n"
    "local old = tonumber(redis.call('GET', KEYS[2]) or '0') or 0\n"
    "redis.call('SET', KEYS[2], tostring(math.max(now, old)), 'EX', ARGV[2])\n"
    "local items = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')\n"
    "local sids = {}\n"
    "for i = 1, #items, 2 do\n"
    "  local sid = items[i]\n"
    "  local ttl = math.max(math.ceil(tonumber(items[i + 1]) - now),\n"
    "                       tonumber(ARGV[2]))\n"
    "  redis.call('SET', ARGV[4] .. sid, ARGV[1], 'EX', ttl)\n"
    "  redis.call('DEL', ARGV[3] .. sid)\n"
    "  sids[#sids + 1] = sid\n"
    "end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('PUBLISH', ARGV[5], 'o ' .. ARGV[6])\n"
    "return sids\n";

/*
 * list: a user's live sessions.  KEYS: idx.  ARGV: now, session key
 * prefix, limit (-1 = all).  Returns the session JSON values, soonest
 * expiry first.
 */
static const char list_lua[] =
    "local sids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1],\n"
    "                        '+inf', 'LIMIT', 0, tonumber(ARGV[3]))\n"
    "local out = {}\n"
    "for _, sid in ipairs(sids) do\n"
    "  local v = redis.call('GET', ARGV[2] .. sid)\n"
    "  if v then out[#out + 1] = v end\n"
    "end\n"
    "return out\n";

/*
 * cas: compare-and-set of a session keeping its TTL.  KEYS: key.
 * ARGV: expected old value, new value, the invalidation channel and the
 * sid (published: cached answers carry the session's data).  Returns 1
 * set, 0 changed meanwhile, -1 gone.
 */
static const char cas_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then return -1 end\n"
    "if v ~= ARGV[1] then return 0 end\n"
    "redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')\n"
    "redis.call('PUBLISH', ARGV[3], 'i ' .. ARGV[4])\n"
    "return 1\n";

/*
 * apikey_put: KEYS: record, id key, id list.  ARGV: record JSON, hash,
 * key id, ttl (0 = none), score, now.  Returns 1 stored, 0 id taken,
 * -1 the same key is already stored under another id.
 */
static const char apikey_put_lua[] =
    "redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[6])\n"
    "if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end\n"
    "if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end\n"
    "if tonumber(ARGV[4]) > 0 then\n"
    "  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4])\n"
    "  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[4])\n"
    "else\n"
    "  redis.call('SET', KEYS[1], ARGV[1])\n"
    "  redis.call('SET', KEYS[2], ARGV[2])\n"
    "end\n"
    "redis.call('ZADD', KEYS[3], ARGV[5], ARGV[3])\n"
    "return 1\n";

/*
 * apikey_delete: KEYS: id key, id list.  ARGV: record key prefix
 * P{k}:apikey:, key id.  Returns 1 deleted, 0 unknown.
 */
static const char apikey_delete_lua[] =
    "local h = redis.call('GET', KEYS[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[2])\n"
    "if not h then return 0 end\n"
    "redis.call('DEL', KEYS[1], ARGV[1] .. h)\n"
    "return 1\n";

/*
 * apikey_list: KEYS: id list.  ARGV: now, id key prefix, record key
 * prefix.  Prunes expired ids; returns the live records.
 */
static const char apikey_list_lua[] =
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])\n"
    "local out = {}\n"
    "for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do\n"
    "  local h = redis.call('GET', ARGV[2] .. id)\n"
    "  if h then\n"
    "    local v = redis.call('GET', ARGV[3] .. h)\n"
    "    if v then out[#out + 1] = v end\n"
    "  end\n"
    "end\n"
    "return out\n";

static const char *const texts[SB_SCRIPT__COUNT] = {
    [SB_SCRIPT_RECORD] = record_lua,
    [SB_SCRIPT_CLAIM] = claim_lua,
    [SB_SCRIPT_DELETE] = delete_lua,
    [SB_SCRIPT_LOGOUT] = logout_lua,
    [SB_SCRIPT_LIST] = list_lua,
    [SB_SCRIPT_CAS] = cas_lua,
    [SB_SCRIPT_APIKEY_PUT] = apikey_put_lua,
    [SB_SCRIPT_APIKEY_DELETE] = apikey_delete_lua,
    [SB_SCRIPT_APIKEY_LIST] = apikey_list_lua,
};

static char shas[SB_SCRIPT__COUNT][41];
static pthread_once_t shas_once = PTHREAD_ONCE_INIT;

static void compute_shas(void)
{
    int i;

    for (i = 0; i < SB_SCRIPT__COUNT; i++)
        sb_redis_script_sha(texts[i], shas[i]);
}

int sb_store_load_script(struct sb_redis *r, enum sb_script id,
                         struct sb_err *err)
{
    const char *argv[3] = {"SCRIPT", "LOAD", texts[id]};
    redisReply *rep = sb_redis_commandv(r, 3, argv, NULL, err);

    if (rep == NULL)
        return -1;
    if (rep->type == REDIS_REPLY_ERROR) {
        sb_err_set(err, SB_ERR_STORE, "Redis refused a script: %.100s",
                   rep->str);
        freeReplyObject(rep);
        return -1;
    }
    freeReplyObject(rep);
    return 0;
}

const char *sb_store_script_text(enum sb_script id)
{
    return texts[id];
}

const char *sb_store_script_sha(enum sb_script id)
{
    pthread_once(&shas_once, compute_shas);
    return shas[id];
}

/* The store's scripts run through sb_redis_eval; an error reply (a script
 * that failed in Redis) becomes SB_ERR_STORE here, so callers see replies
 * of the documented shapes only. */
redisReply *sb_store_eval(struct sb_redis *r, enum sb_script id, int numkeys,
                          int argc, const char **argv, const size_t *argvlen,
                          struct sb_err *err)
{
    redisReply *rep;

    if (argc > SB_SCRIPT_ARGS_MAX) {
        sb_err_set(err, SB_ERR_INTERNAL, "too many script arguments");
        return NULL;
    }
    rep = sb_redis_eval(r, texts[id], sb_store_script_sha(id), numkeys, argc,
                        argv, argvlen, err);
    if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
        sb_err_set(err, SB_ERR_STORE, "Redis script failed: %.100s", rep->str);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

/* The list scripts (list, apikey_list) answer the stored JSON values as
 * they are; which of them still parse is the C side's business, the same
 * way for every kind of record. */
int sb_store_parse_records(redisReply *rep, size_t item_size,
                           sb_store_record_parser parse, void **out,
                           size_t *n, struct sb_err *err)
{
    unsigned char *v = NULL;
    size_t i, k = 0;
    int rc = -1;

    *out = NULL;
    *n = 0;
    if (rep->type != REDIS_REPLY_ARRAY) {
        sb_err_set(err, SB_ERR_STORE, "unexpected reply from Redis");
        goto out_free;
    }
    v = calloc(rep->elements + 1, item_size);
    if (v == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    for (i = 0; i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        if (e->type == REDIS_REPLY_STRING &&
            parse(e->str, e->len, v + k * item_size))
            k++;
    }
    *out = v;
    *n = k;
    rc = 0;
out_free:
    freeReplyObject(rep);
    return rc;
}
