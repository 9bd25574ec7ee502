/* express_record.c - test driver for the Express interop test: does with
 * express.h what the store layer will do for an express profile, against
 * a real Redis.
 *
 *   express_record CONFIG PROFILE write NOW_MS REDIS_PORT < session.json
 *     builds the connect-redis record of the canonical session, runs
 *     SET key value EX ttl (DEL key when ttl <= 0, as connect-redis), and
 *     prints {"key","ttl","value","cookie","wire"}: the cookie value and
 *     its percent-encoded Cookie-header form.
 *   express_record CONFIG PROFILE read NOW_MS REDIS_PORT COOKIE
 *     decodes the cookie value (as read from a Cookie header), GETs its
 *     record and prints the validation answer (the CLI decode shape).
 * Exit 0 on success / active, 1 otherwise, 2 on usage errors. */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/codec.h"
#include "sessionbridge/config.h"
#include "sessionbridge/express.h"
#include "sessionbridge/jsonutil.h"

static void print_json(json_t *v)
{
    struct sb_buf b;

    sb_buf_init(&b);
    if (sb_json_dump(v, SB_JSON_JS, &b, NULL) == 0)
        printf("%s\n", b.data);
    sb_buf_free(&b);
    json_decref(v);
}

static int fail(const struct sb_err *err)
{
    print_json(sb_credential_result_json(NULL, err));
    return 1;
}

static int cmd_write(const struct sb_profile *p, int64_t now_ms,
                     redisContext *rc)
{
    char input[65536], *cookie = NULL, *set_cookie = NULL, *wire, *end;
    size_t n = fread(input, 1, sizeof(input) - 1, stdin);
    struct sb_codec_ctx ctx = {.now = now_ms / 1000};
    struct sb_codec_record rec = {0};
    struct sb_session s;
    struct sb_err err = {0};
    redisReply *r = NULL;
    json_t *doc;
    int status = 1;

    input[n] = '\0';
    sb_session_init(&s);
    doc = sb_json_parse(input, n, SB_ERR_INVALID_REQUEST, "stdin", &err);
    if (doc == NULL || sb_session_from_json(doc, false, &s, &err) != 0 ||
        sb_express_record_build(p, &s, now_ms, &rec, &err) != 0 ||
        sb_credential_encode(p, &s, &ctx, &cookie, &err) != 0 ||
        sb_cookie_build(p, cookie, ctx.now, &set_cookie, &err) != 0) {
        status = fail(&err);
        goto out;
    }
    if (rec.ttl > 0)
        r = redisCommand(rc, "SET %s %b EX %lld", rec.key, rec.value,
                         rec.value_len, (long long)rec.ttl);
    else
        r = redisCommand(rc, "DEL %s", rec.key);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "redis: %s\n", r ? r->str : rc->errstr);
        goto out;
    }
    wire = strchr(set_cookie, '=') + 1;
    end = strchr(wire, ';');
    if (end != NULL)
        *end = '\0';
    print_json(json_pack("{s:s, s:I, s:s, s:s, s:s}", "key", rec.key, "ttl",
                         (json_int_t)rec.ttl, "value", rec.value, "cookie",
                         cookie, "wire", wire));
    status = 0;
out:
    freeReplyObject(r);
    sb_codec_record_free(&rec);
    sb_session_reset(&s);
    json_decref(doc);
    free(cookie);
    free(set_cookie);
    return status;
}

static int cmd_read(const struct sb_profile *p, int64_t now_ms,
                    redisContext *rc, const char *cookie)
{
    char token[SB_COOKIE_MAX + 1], *key = NULL;
    struct sb_codec_ctx ctx = {.now = now_ms / 1000};
    struct sb_session s;
    struct sb_err err = {0};
    redisReply *r = NULL;
    int status;
    long n;

    sb_session_init(&s);
    n = sb_cookie_value_decode(p, cookie, strlen(cookie), token,
                               sizeof(token), &err);
    if (n < 0 || sb_credential_decode(p, token, (size_t)n, &ctx, &s, &err) != 0 ||
        sb_express_record_key(p, s.sid, &key, &err) != 0) {
        status = fail(&err);
        goto out;
    }
    r = redisCommand(rc, "GET %s", key);
    if (r == NULL || r->type != REDIS_REPLY_STRING) {
        sb_err_set(&err, SB_ERR_NOT_FOUND, "no record for this session");
        status = fail(&err);
        goto out;
    }
    if (sb_express_record_parse(p, r->str, r->len, now_ms, &s, &err) != 0) {
        status = fail(&err);
        goto out;
    }
    print_json(sb_credential_result_json(&s, NULL));
    status = 0;
out:
    freeReplyObject(r);
    free(key);
    sb_session_reset(&s);
    return status;
}

int main(int argc, char **argv)
{
    const struct sb_profile *p;
    struct sb_config *cfg = NULL;
    struct sb_err err = {0};
    redisContext *rc;
    int64_t now_ms;
    int status;

    if (argc < 6 || (strcmp(argv[3], "read") == 0 && argc < 7)) {
        fprintf(stderr, "usage: express_record CONFIG PROFILE write|read "
                        "NOW_MS REDIS_PORT [COOKIE]\n");
        return 2;
    }
    if (sb_config_load(argv[1], &cfg, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    p = sb_config_profile(cfg, argv[2]);
    now_ms = strtoll(argv[4], NULL, 10);
    rc = redisConnect("127.0.0.1", atoi(argv[5]));
    if (p == NULL || rc == NULL || rc->err) {
        fprintf(stderr, "no profile %s or no Redis\n", argv[2]);
        return 2;
    }
    status = strcmp(argv[3], "write") == 0 ? cmd_write(p, now_ms, rc)
                                           : cmd_read(p, now_ms, rc, argv[6]);
    redisFree(rc);
    sb_config_unref(cfg);
    return status;
}
