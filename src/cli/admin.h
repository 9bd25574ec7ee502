/*
 * admin.h - what the online admin commands (purge, sessions, stats,
 * revoke, apikey, keys) share: option words, the Redis connection, the
 * terminal (colour, confirmation, Ctrl-C) and aligned tables.
 */
#ifndef SB_CLI_ADMIN_H
#define SB_CLI_ADMIN_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#include "sessionbridge/redis.h"

/* The CLI waits at least this long for one Redis command, whatever the
 * daemon's (latency-tuned) command_timeout_ms says. */
#define CLI_REDIS_TIMEOUT_MIN_MS 5000

/* When argv[*i] is the long option `name`, as "--name VALUE" or
 * "--name=VALUE", stores VALUE (borrowed from argv), moves *i to the last
 * word used and returns 1.  Returns 0 when argv[*i] is something else, and
 * -1 after printing a usage error when the value is missing or empty. */
int cli_opt_value(int argc, char **argv, int *i, const char *name,
                  const char **value);

/* True when a is a long option ("--name", "--name=v"): session ids, key
 * ids and tokens may start with one '-' (base64url), never parsed as
 * options; "--" alone ends the options. */
bool cli_is_long_option(const char *a);

/* Usage error for a word no option of the command matched. */
int cli_bad_word(const char *cmd, const char *word);

/* When argv[*i] may be the command's one operand (SID, KEY_ID, TOKEN) and
 * *operand is still unset, sets it (borrowed from argv) and returns true:
 * a word that is not a long option, or the last word after a "--" (*i
 * then moves onto it).  False for anything else, and for a second
 * operand. */
bool cli_operand(int argc, char **argv, int *i, const char **operand);

/* Loads the config, then opens the configured Redis (or --redis) and
 * checks it answers PING.  Returns CLI_OK and *out (caller frees with
 * sb_redis_free), CLI_FAILED for a bad config, or CLI_UNREACHABLE, each
 * with a message on stderr. */
int cli_redis_open(struct cli_ctx *ctx, struct sb_redis **out);

/* Prints lead + err's message and returns the exit code of a failed store
 * operation: CLI_UNREACHABLE when Redis failed (SB_ERR_STORE), else
 * CLI_FAILED. */
int cli_store_error(const char *lead, const struct sb_err *err);

/* True when colour may be written to f: f is a terminal, NO_COLOR is unset
 * or empty, and TERM is not "dumb". */
bool cli_color(FILE *f);

/* Starts and ends colour sequences on f when cli_color(f) allows it. */
const char *cli_sgr(FILE *f, const char *sgr);

/* Asks for confirmation before a destructive step.  With assume_yes
 * (--yes) answers CLI_OK at once.  Otherwise, when stdin and stderr are a
 * terminal, prints question + " [y/N] " on stderr and returns CLI_OK for
 * y/yes, CLI_FAILED ("aborted, nothing changed") for anything else.  Not
 * on a terminal: refuses with CLI_USAGE and a message naming --yes. */
int cli_confirm(bool assume_yes, const char *question);

/* Set by the SIGINT handler cli_catch_sigint() installs: long operations
 * finish their current batch and stop when it is non-zero.  A second
 * Ctrl-C ends the process at once (every step is atomic in Redis, so that
 * is safe too).  Catches SIGTERM the same way. */
extern volatile sig_atomic_t cli_interrupted;
void cli_catch_sigint(void);
/* Gives SIGINT and SIGTERM their default action back (a question on the
 * terminal is answered with Ctrl-C at once). */
void cli_release_sigint(void);

/* A progress bar on stderr, drawn only when stderr is a terminal, at most
 * ten times a second. */
struct cli_bar {
    bool on;            /* stderr is a terminal */
    bool color;
    bool drawn;         /* something is on the line */
    const char *label;
    const char *unit;   /* what the count counts */
    double t0;          /* monotonic seconds at start */
    double last;        /* last draw */
};

/* Monotonic seconds. */
double cli_now(void);

void cli_bar_start(struct cli_bar *b, const char *label, const char *unit);
/* Redraws with the given figures (total 0 = unknown) when due, or always
 * with force. */
void cli_bar_update(struct cli_bar *b, unsigned long long done,
                    unsigned long long total, unsigned long long count,
                    bool force);
/* Erases the bar so that the next line starts clean. */
void cli_bar_clear(struct cli_bar *b);

/* An aligned text table, filled row by row, printed once. */
struct cli_table {
    size_t ncols;
    const char **headers;   /* borrowed */
    char **cells;           /* rows * ncols strings, owned */
    size_t rows;
    size_t cap;             /* allocated rows */
};

void cli_table_init(struct cli_table *t, size_t ncols, const char **headers);
/* Appends a row of ncols strings (copied; NULL prints as "-"). */
int cli_table_add(struct cli_table *t, const char **row);
/* Prints headers (bold on a colour terminal) and rows, columns padded. */
void cli_table_print(const struct cli_table *t, FILE *out);
void cli_table_free(struct cli_table *t);

/* "2026-05-01 12:00:00Z" (UTC) for a Unix time, "-" for 0. */
void cli_format_time(long long t, char *buf, size_t size);

#endif
