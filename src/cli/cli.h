/*
 * cli.h - what every sessionbridgectl command shares: the global options,
 * the command table, exit codes, and loading the config.
 */
#ifndef SB_CLI_H
#define SB_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "sessionbridge/config.h"

/* Exit codes (documented in the README's Operating section). */
#define CLI_OK 0            /* success */
#define CLI_FAILED 1        /* the operation failed, or found nothing where
                               something was asked for */
#define CLI_USAGE 2         /* bad arguments: nothing was changed */
#define CLI_UNREACHABLE 3   /* cannot reach Redis */

struct cli_ctx {
    const char *config_path; /* -c; default /etc/sessionbridge/sessionbridge.ini */
    const char *redis_url;   /* --redis: overrides [redis] url */
    struct sb_config *cfg;   /* loaded by cli_config(); owned */
};

struct cli_command {
    const char *name;     /* first word, e.g. "decode" */
    const char *sub;      /* second word or NULL, e.g. "check" for config */
    int (*run)(struct cli_ctx *ctx, int argc, char **argv);
    const char *synopsis; /* one line: arguments */
    const char *help;     /* what it does, options, an example */
};

extern const struct cli_command cli_commands[];
extern const size_t cli_command_count;

/* Loads the config once (applying --redis); on failure prints the reason
 * and returns NULL (callers exit CLI_FAILED, or CLI_USAGE for bad -c). */
const struct sb_config *cli_config(struct cli_ctx *ctx);

/* Prints "sessionbridgectl: <message>" on stderr and returns code. */
int cli_error(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints a command's help (synopsis, text) to out. */
void cli_print_help(const struct cli_command *cmd, FILE *out);

/* True when argv[i] is -h or --help. */
bool cli_is_help(const char *arg);

/* Parses a duration such as 90, 90s, 15m, 12h, 7d, 2w into seconds. */
int cli_parse_duration(const char *s, long long *seconds);

/* Reads all of stdin into a new NUL-terminated buffer (at most max bytes);
 * strips one trailing newline.  Returns NULL on error or overflow. */
char *cli_read_stdin(size_t max, size_t *len);

/* Prints v as one line of compact JSON on stdout and drops the reference
 * (v may be NULL: nothing is printed). */
void cli_print_json(json_t *v);

/* Commands: offline.c */
int cli_cmd_decode(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_encode(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_translate(struct cli_ctx *ctx, int argc, char **argv);
/* config_cmd.c */
int cli_cmd_config_check(struct cli_ctx *ctx, int argc, char **argv);
/* purge.c */
int cli_cmd_purge(struct cli_ctx *ctx, int argc, char **argv);
/* sessions.c */
int cli_cmd_sessions_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_sessions_show(struct cli_ctx *ctx, int argc, char **argv);
/* stats.c */
int cli_cmd_stats(struct cli_ctx *ctx, int argc, char **argv);
/* revoke.c */
int cli_cmd_revoke(struct cli_ctx *ctx, int argc, char **argv);
/* apikey.c */
int cli_cmd_apikey_create(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_apikey_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_apikey_revoke(struct cli_ctx *ctx, int argc, char **argv);
/* keys.c */
int cli_cmd_keys_generate(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_keys_jwks(struct cli_ctx *ctx, int argc, char **argv);

#endif
