/* fuzz_store_reply.c - libFuzzer target for what the store parses out of
 * Redis answers: a reply array built from the input (elements split at
 * '\n'; an element starting with '#' is an integer reply, '!' an error,
 * '_' a nil, else a bulk string) goes through sb_store_parse_records with
 * the stored-session parser (sb_json_parse, then sb_session_from_json as
 * records.c reads a stored session), and each parsed session back through
 * sb_session_to_json.  Nothing may crash, leak or trip a sanitizer. */
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/jsonutil.h"
#include "sessionbridge/session.h"
#include "sessionbridge/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A stored session record, as records.c reads one (sb_store_record_parser). */
static bool parse_session(const char *text, size_t len, void *item)
{
    struct sb_session *s = item;
    struct sb_err err;
    json_t *doc = sb_json_parse(text, len, SB_ERR_STORE, "stored session",
                                &err);
    int rc;

    if (doc == NULL)
        return false;
    sb_session_init(s);
    rc = sb_session_from_json(doc, true, s, &err);
    json_decref(doc);
    return rc == 0;
}

/* One reply element from line[0..n), allocated as hiredis does (so
 * freeReplyObject frees it). */
static redisReply *element(const char *line, size_t n)
{
    redisReply *r = calloc(1, sizeof(*r));

    if (r == NULL)
        abort();
    if (n > 0 && line[0] == '#') {
        r->type = REDIS_REPLY_INTEGER;
        r->integer = (long long)n;
        return r;
    }
    if (n > 0 && line[0] == '_') {
        r->type = REDIS_REPLY_NIL;
        return r;
    }
    r->type = n > 0 && line[0] == '!' ? REDIS_REPLY_ERROR : REDIS_REPLY_STRING;
    r->str = malloc(n + 1);
    if (r->str == NULL)
        abort();
    memcpy(r->str, line, n);
    r->str[n] = '\0';
    r->len = n;
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    redisReply *rep = calloc(1, sizeof(*rep));
    struct sb_session *v = NULL;
    struct sb_err err = {0};
    size_t i, n = 0;
    void *out = NULL;

    if (rep == NULL)
        abort();
    rep->type = REDIS_REPLY_ARRAY;
    rep->element = calloc(size + 1, sizeof(*rep->element));
    if (rep->element == NULL)
        abort();
    while (p <= end && size > 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        rep->element[rep->elements++] = element(p, len);
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    if (sb_store_parse_records(rep, sizeof(*v), parse_session, &out, &n,
                               &err) != 0)
        return 0;
    v = out;
    for (i = 0; i < n; i++) {
        json_decref(sb_session_to_json(&v[i]));
        sb_session_reset(&v[i]);
    }
    free(v);
    return 0;
}
