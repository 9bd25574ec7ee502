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

/* The scripts, by what they do (each documented in scripts.c). */
enum sb_script {
    SB_SCRIPT_RECORD,
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

/* The text and SHA-1 of script id, for callers that pipeline it
 * (sb_redis_eval_batch). */
const char *sb_store_script_text(enum sb_script id);
const char *sb_store_script_sha(enum sb_script id);

#endif
