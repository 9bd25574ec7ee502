/*
 * store_internal.h - what the files of src/store/ share: the Lua scripts
 * of the layout (scripts.c) and how they are run.
 */
#ifndef SB_STORE_INTERNAL_H
#define SB_STORE_INTERNAL_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "sessionbridge/err.h"
#include "sessionbridge/redis.h"
#include "sessionbridge/session.h"
#include "sessionbridge/store.h"

/* The scripts, by what they do (each documented in scripts.c). */
enum sb_script {
    SB_SCRIPT_RECORD,
    SB_SCRIPT_CLAIM,
    SB_SCRIPT_DELETE,
    SB_SCRIPT_LOGOUT,
    SB_SCRIPT_LIST,
    SB_SCRIPT_CAS,
    SB_SCRIPT_APIKEY_PUT,
    SB_SCRIPT_APIKEY_DELETE,
    SB_SCRIPT_APIKEY_LIST,
    SB_SCRIPT__COUNT
};

#define SB_SCRIPT_ARGS_MAX 12

/* Runs script `id` (EVALSHA; SCRIPT LOAD and once more on NOSCRIPT) with
 * numkeys keys then arguments in argv[0..argc), argc <= SB_SCRIPT_ARGS_MAX.
 * Builds the command on the stack: no allocation besides hiredis's.
 * Returns the reply (caller frees) or NULL with SB_ERR_STORE; an error
 * reply from the script also becomes SB_ERR_STORE (and NULL). */
redisReply *sb_store_eval(struct sb_redis *r, enum sb_script id, int numkeys,
                          int argc, const char **argv, const size_t *argvlen,
                          struct sb_err *err);

/* Loads script id into the server's script cache (SCRIPT LOAD). */
int sb_store_load_script(struct sb_redis *r, enum sb_script id,
                         struct sb_err *err);

/* The text and SHA-1 of script id, for callers that pipeline it
 * (sb_redis_eval_batch). */
const char *sb_store_script_text(enum sb_script id);
const char *sb_store_script_sha(enum sb_script id);

/* ---- recording a session (records.c; admin.c's batches too) ------------ */

#define SB_RECORD_ARGC 16 /* keys + arguments of one record script call */

/* The keys and arguments of one claim + record pair for a session, laid
 * out for sb_redis_append_evalsha.  Large (its keys are fixed buffers):
 * the hot path keeps one per thread. */
struct sb_record_call {
    char tag[SB_STORE_TAG_MAX];
    struct sb_store_keys k;
    char ptr[SB_STORE_KEY_MAX];   /* P sid:SID */
    char sessp[SB_STORE_KEY_MAX]; /* P{T}:sess: */
    char revp[SB_STORE_KEY_MAX];  /* P{T}:rev: */
    char channel[SB_STORE_KEY_MAX]; /* P invalidate */
    char ttl[24], score[24], issued[24], now[24], cap[24];
    const char *argv[SB_RECORD_ARGC]; /* record: 4 keys, 12 arguments */
    size_t argvlen[SB_RECORD_ARGC];
    const char *claim_argv[3];        /* claim: the pointer, tag, ttl */
};

/* Fills c for session s, whose canonical JSON is json[0..json_len)
 * (borrowed, as s is).  SB_ERR_EXPIRED when s has expired by now. */
int sb_record_call_build(struct sb_record_call *c, const char *prefix,
                         const struct sb_session *s, const char *json,
                         size_t json_len, int64_t now, struct sb_err *err);

/* Reads the answers of one claim + record pair (the caller frees them):
 * *result is the record script's (1 inserted, 0 present, < 0 revoked);
 * SB_ERR_INVALID_CLAIM when the pointer names another owner than tag,
 * SB_ERR_REVOKED, SB_ERR_STORE for error replies. */
int sb_record_result(redisReply *claim, redisReply *record, const char *tag,
                     long long *result, struct sb_err *err);

#endif
