/* apikey.c - `apikey create | list | revoke`: API keys for the daemon's
 * /v1/apikeys/validate, kept in Redis only as SHA-256 hashes. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "sessionbridge/clock.h"
#include "sessionbridge/b64.h"
#include "sessionbridge/crypto.h"
#include "sessionbridge/jsonutil.h"
#include "sessionbridge/store.h"

#define KEY_PREFIX "sbk_"
#define KEY_RANDOM_BYTES 32 /* 256 bits */
#define ID_RANDOM_BYTES 6   /* 12 hex characters */

/* True when id is 1-64 characters of [A-Za-z0-9._-] (the store's rule). */
static bool id_valid(const char *id)
{
    size_t n = strlen(id);

    return n > 0 && n < SB_APIKEY_ID_MAX &&
           strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789._-") == n;
}

/* A fresh secret "sbk_" + 43 characters of base64url into key (64 bytes). */
static int new_key(char *key, struct sb_err *err)
{
    unsigned char raw[KEY_RANDOM_BYTES];

    if (sb_random_bytes(raw, sizeof(raw), err) != 0)
        return -1;
    memcpy(key, KEY_PREFIX, strlen(KEY_PREFIX));
    sb_b64_encode(SB_B64_URL_NOPAD, raw, sizeof(raw),
                  key + strlen(KEY_PREFIX));
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

/* A fresh key id of 12 hex characters into id (16 bytes). */
static int new_id(char *id, struct sb_err *err)
{
    unsigned char raw[ID_RANDOM_BYTES];

    if (sb_random_bytes(raw, sizeof(raw), err) != 0)
        return -1;
    sb_hex_encode(raw, sizeof(raw), id);
    return 0;
}

int cli_cmd_apikey_create(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *subject = NULL, *id = NULL, *expires = NULL, *scope;
    struct sb_apikey k;
    struct sb_redis *r = NULL;
    struct sb_err err = {0};
    char key[64], gen_id[16], when[32];
    long long ttl = 0;
    int64_t now = sb_clock_now();
    bool json = false;
    int i, m, rc = CLI_USAGE;

    memset(&k, 0, sizeof(k));
    if ((k.scopes = json_array()) == NULL)
        return cli_error(CLI_FAILED, "out of memory");
    for (i = 0; i < argc; i++) {
        if ((m = cli_opt_value(argc, argv, &i, "--subject", &subject)) != 0 ||
            (m = cli_opt_value(argc, argv, &i, "--id", &id)) != 0 ||
            (m = cli_opt_value(argc, argv, &i, "--expires", &expires)) != 0) {
            if (m < 0)
                goto out;
        } else if ((m = cli_opt_value(argc, argv, &i, "--scope", &scope)) !=
                   0) {
            if (m < 0)
                goto out;
            if (strlen(scope) > 64 || strpbrk(scope, " \t\r\n") != NULL) {
                rc = cli_error(CLI_USAGE, "--scope: '%.64s' is not a scope "
                               "(1-64 bytes, no spaces)", scope);
                goto out;
            }
            if (json_array_size(k.scopes) == SB_APIKEY_SCOPES_MAX) {
                rc = cli_error(CLI_USAGE, "--scope: at most %d scopes",
                               SB_APIKEY_SCOPES_MAX);
                goto out;
            }
            json_array_append_new(k.scopes, json_string(scope));
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else {
            rc = cli_bad_word("apikey create", argv[i]);
            goto out;
        }
    }
    if (subject == NULL) {
        rc = cli_error(CLI_USAGE, "apikey create: --subject is required");
        goto out;
    }
    if (strlen(subject) > SB_SUBJECT_MAX) {
        rc = cli_error(CLI_USAGE, "--subject: longer than %d bytes",
                       SB_SUBJECT_MAX);
        goto out;
    }
    if (id != NULL && !id_valid(id)) {
        rc = cli_error(CLI_USAGE, "--id: '%.64s' is not a key id (1-%d "
                       "characters of [A-Za-z0-9._-])", id,
                       SB_APIKEY_ID_MAX - 1);
        goto out;
    }
    if (expires != NULL &&
        (cli_parse_duration(expires, &ttl) != 0 || ttl == 0)) {
        rc = cli_error(CLI_USAGE, "--expires: '%s' is not a duration (e.g. "
                       "90d, 12h, 2w)", expires);
        goto out;
    }
    if ((rc = cli_redis_open(ctx, &r)) != CLI_OK)
        goto out;
    if ((id == NULL && new_id(gen_id, &err) != 0) || new_key(key, &err) != 0) {
        rc = cli_error(CLI_FAILED, "%s", err.msg);
        goto out;
    }
    snprintf(k.key_id, sizeof(k.key_id), "%s", id ? id : gen_id);
    snprintf(k.subject, sizeof(k.subject), "%s", subject);
    k.created_at = now;
    k.expires_at = ttl > 0 ? now + ttl : 0;
    if (sb_store_apikey_put(r, ctx->cfg->prefix, &k, key, strlen(key), now,
                            &err) != 0) {
        rc = cli_store_error("", &err);
        goto out_wipe;
    }
    if (json) {
        cli_print_json(json_pack("{s:s, s:s, s:s, s:O, s:I, s:I}", "key_id",
                                 k.key_id, "key", key, "subject", k.subject,
                                 "scopes", k.scopes, "created_at",
                                 (json_int_t)k.created_at, "expires_at",
                                 (json_int_t)k.expires_at));
    } else {
        printf("%s\n", key);
        cli_format_time(k.expires_at, when, sizeof(when));
        fprintf(stderr, "created API key '%s' for subject '%s' (expires: "
                "%s).  The key above is shown once: only its hash is "
                "stored.\n", k.key_id, k.subject,
                k.expires_at ? when : "never");
    }
    rc = CLI_OK;
out_wipe:
    OPENSSL_cleanse(key, sizeof(key));
out:
    sb_redis_free(r);
    json_decref(k.scopes);
    return rc;
}

static const char *list_headers[] = {"ID", "SUBJECT", "SCOPES", "CREATED",
                                     "EXPIRES"};

int cli_cmd_apikey_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct sb_apikey *keys = NULL;
    struct sb_redis *r = NULL;
    struct sb_err err = {0};
    struct cli_table t;
    bool json = false;
    size_t n = 0, i;
    int a, rc;

    for (a = 0; a < argc; a++) {
        if (strcmp(argv[a], "--json") == 0)
            json = true;
        else
            return cli_bad_word("apikey list", argv[a]);
    }
    if ((rc = cli_redis_open(ctx, &r)) != CLI_OK)
        return rc;
    if (sb_store_apikey_list(r, ctx->cfg->prefix, sb_clock_now(), &keys,
                             &n, &err) != 0) {
        rc = cli_store_error("", &err);
        goto out;
    }
    cli_table_init(&t, 5, list_headers);
    for (i = 0; i < n; i++) {
        char created[32], expires[32], *scopes = NULL;
        const char *row[5];
        size_t j;
        json_t *s;
        struct sb_buf b;

        if (json) {
            cli_print_json(json_pack("{s:s, s:s, s:o, s:I, s:I}", "key_id",
                                     keys[i].key_id, "subject",
                                     keys[i].subject, "scopes",
                                     keys[i].scopes
                                         ? json_incref(keys[i].scopes)
                                         : json_array(),
                                     "created_at",
                                     (json_int_t)keys[i].created_at,
                                     "expires_at",
                                     (json_int_t)keys[i].expires_at));
            continue;
        }
        sb_buf_init(&b);
        json_array_foreach(keys[i].scopes, j, s)
            sb_buf_printf(&b, "%s%s", j ? "," : "", json_string_value(s));
        scopes = b.len ? b.data : NULL;
        cli_format_time(keys[i].created_at, created, sizeof(created));
        cli_format_time(keys[i].expires_at, expires, sizeof(expires));
        row[0] = keys[i].key_id;
        row[1] = keys[i].subject;
        row[2] = scopes;
        row[3] = created;
        row[4] = keys[i].expires_at ? expires : "never";
        cli_table_add(&t, row);
        sb_buf_free(&b);
    }
    if (!json) {
        if (n > 0)
            cli_table_print(&t, stdout);
        fprintf(stderr, "%zu API key%s\n", n, n == 1 ? "" : "s");
    }
    cli_table_free(&t);
    rc = CLI_OK;
out:
    for (i = 0; i < n; i++)
        sb_apikey_reset(&keys[i]);
    free(keys);
    sb_redis_free(r);
    return rc;
}

int cli_cmd_apikey_revoke(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *id = NULL;
    struct sb_redis *r = NULL;
    struct sb_err err = {0};
    int i, rc;

    for (i = 0; i < argc; i++)
        if (!cli_operand(argc, argv, &i, &id))
            return cli_bad_word("apikey revoke", argv[i]);
    if (id == NULL)
        return cli_error(CLI_USAGE, "apikey revoke: which key? (KEY_ID, see "
                         "apikey list)");
    if (!id_valid(id))
        return cli_error(CLI_USAGE, "KEY_ID: '%.64s' is not a key id (1-%d "
                         "characters of [A-Za-z0-9._-])", id,
                         SB_APIKEY_ID_MAX - 1);
    if ((rc = cli_redis_open(ctx, &r)) != CLI_OK)
        return rc;
    if (sb_store_apikey_delete(r, ctx->cfg->prefix, id, &err) != 0) {
        if (err.code == SB_ERR_NOT_FOUND)
            rc = cli_error(CLI_FAILED, "no API key '%s'", id);
        else
            rc = cli_store_error("", &err);
    } else {
        printf("revoked API key '%s'\n", id);
        rc = CLI_OK;
    }
    sb_redis_free(r);
    return rc;
}
