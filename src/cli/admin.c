/* admin.c - helpers the online admin commands share: option words, the
 * Redis connection, colour, confirmation, Ctrl-C, tables. */
#include "admin.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "sessionbridge/store.h"

#define BAR_INTERVAL 0.1 /* seconds between redraws */

volatile sig_atomic_t cli_interrupted;

int cli_opt_value(int argc, char **argv, int *i, const char *name,
                  const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);

    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
    } else if (a[n] == '\0') {
        if (*i + 1 >= argc) {
            cli_error(CLI_USAGE, "%s needs a value", name);
            return -1;
        }
        *value = argv[++*i];
    } else {
        return 0;
    }
    if ((*value)[0] == '\0') {
        cli_error(CLI_USAGE, "%s needs a non-empty value", name);
        return -1;
    }
    return 1;
}

bool cli_is_long_option(const char *a)
{
    return a[0] == '-' && a[1] == '-' && a[2] != '\0';
}

int cli_bad_word(const char *cmd, const char *word)
{
    if (word[0] == '-' && word[1] != '\0')
        return cli_error(CLI_USAGE, "%s: unknown option '%s' (see %s --help)",
                         cmd, word, cmd);
    return cli_error(CLI_USAGE, "%s: unexpected argument '%s' (see %s --help)",
                     cmd, word, cmd);
}

bool cli_operand(int argc, char **argv, int *i, const char **operand)
{
    if (*operand != NULL)
        return false;
    if (strcmp(argv[*i], "--") == 0 && *i + 1 == argc - 1) {
        *operand = argv[++*i];
        return true;
    }
    if (cli_is_long_option(argv[*i]))
        return false;
    *operand = argv[*i];
    return true;
}

/* Refuses a store written in a layout version this build does not know
 * (an empty store has no version yet, which is fine). */
static int check_layout(struct sb_redis *r, const char *prefix)
{
    char key[SB_STORE_KEY_MAX];
    const char *argv[2] = {"GET", key};
    struct sb_err err = {0};
    redisReply *rep;
    int rc = CLI_OK;

    if (sb_store_key_layout(prefix, key, sizeof(key), &err) != 0)
        return cli_error(CLI_FAILED, "%s", err.msg);
    if ((rep = sb_redis_commandv(r, 2, argv, NULL, &err)) == NULL)
        return cli_error(CLI_UNREACHABLE, "%s", err.msg);
    if (rep->type == REDIS_REPLY_STRING &&
        atoi(rep->str) != SB_STORE_LAYOUT_VERSION)
        rc = cli_error(CLI_FAILED, "the store under prefix '%s' has layout "
                       "version %.20s; this sessionbridgectl knows version %d",
                       prefix, rep->str, SB_STORE_LAYOUT_VERSION);
    freeReplyObject(rep);
    return rc;
}

int cli_redis_open(struct cli_ctx *ctx, struct sb_redis **out)
{
    const struct sb_config *cfg = cli_config(ctx);
    struct sb_redis_conf conf;
    struct sb_err err = {0};
    struct sb_redis *r;
    redisReply *rep;
    unsigned timeout;
    int rc;

    *out = NULL;
    if (cfg == NULL)
        return CLI_FAILED;
    timeout = cfg->command_timeout_ms > CLI_REDIS_TIMEOUT_MIN_MS
                  ? cfg->command_timeout_ms
                  : CLI_REDIS_TIMEOUT_MIN_MS;
    /* The CLI reads the layout key (check_layout) but never writes it, so
     * its connections skip the daemon's layout step.  A TLS write to a
     * closed socket must be an error, not a SIGPIPE. */
    if (sb_redis_conf_copy(&conf, &cfg->redis, &err) != 0)
        return cli_error(CLI_FAILED, "%s", err.msg);
    free(conf.layout_prefix);
    conf.layout_prefix = NULL;
    signal(SIGPIPE, SIG_IGN);
    r = sb_redis_new(&conf, cfg->connect_timeout_ms, timeout, &err);
    sb_redis_conf_free(&conf);
    if (r == NULL)
        return cli_error(CLI_FAILED, "%s", err.msg);
    rep = sb_redis_command(r, &err, "PING");
    if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
        if (rep != NULL)
            sb_err_set(&err, SB_ERR_STORE, "Redis answered PING with: %s",
                       rep->str);
        freeReplyObject(rep);
        sb_redis_free(r);
        return cli_error(CLI_UNREACHABLE, "%s", err.msg);
    }
    freeReplyObject(rep);
    if ((rc = check_layout(r, cfg->prefix)) != CLI_OK) {
        sb_redis_free(r);
        return rc;
    }
    *out = r;
    return CLI_OK;
}

int cli_store_error(const char *lead, const struct sb_err *err)
{
    return cli_error(err->code == SB_ERR_STORE ? CLI_UNREACHABLE : CLI_FAILED,
                     "%s%s", lead, err->msg);
}

bool cli_color(FILE *f)
{
    const char *no_color = getenv("NO_COLOR");
    const char *term = getenv("TERM");

    if (no_color != NULL && no_color[0] != '\0')
        return false;
    if (term != NULL && strcmp(term, "dumb") == 0)
        return false;
    return isatty(fileno(f)) == 1;
}

const char *cli_sgr(FILE *f, const char *sgr)
{
    return cli_color(f) ? sgr : "";
}

int cli_confirm(bool assume_yes, const char *question)
{
    char answer[16];

    if (assume_yes)
        return CLI_OK;
    if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
        return cli_error(CLI_USAGE, "refusing without --yes: stdin is not a "
                         "terminal to confirm on (nothing changed)");
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    if (fgets(answer, sizeof(answer), stdin) == NULL ||
        (strcmp(answer, "y\n") != 0 && strcmp(answer, "yes\n") != 0 &&
         strcmp(answer, "Y\n") != 0))
        return cli_error(CLI_FAILED, "aborted, nothing changed");
    return CLI_OK;
}

/* First Ctrl-C: ask the running operation to stop after its batch.  The
 * second one gets the default action (the process ends). */
static void on_sigint(int sig)
{
    static const char msg[] =
        "\nsessionbridgectl: interrupted: finishing the current batch "
        "(Ctrl-C again to quit at once)\n";
    ssize_t unused;

    cli_interrupted = 1;
    signal(sig, SIG_DFL);
    unused = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)unused;
}

void cli_catch_sigint(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void cli_release_sigint(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

double cli_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_bar_start(struct cli_bar *b, const char *label, const char *unit)
{
    memset(b, 0, sizeof(*b));
    b->on = isatty(STDERR_FILENO) == 1;
    b->color = cli_color(stderr);
    b->label = label;
    b->unit = unit;
    b->t0 = cli_now();
}

static unsigned term_width(void)
{
    struct winsize ws;

    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
        return ws.ws_col;
    return 80;
}

void cli_bar_update(struct cli_bar *b, unsigned long long done,
                    unsigned long long total, unsigned long long count,
                    bool force)
{
    struct cli_progress p;
    char line[512];
    double t = cli_now();

    if (!b->on || (!force && t - b->last < BAR_INTERVAL))
        return;
    b->last = t;
    p.label = b->label;
    p.done = done;
    p.total = total;
    p.count = count;
    p.count_unit = b->unit;
    p.elapsed = t - b->t0;
    p.finished = false;
    /* one column short: a line that fills the terminal would wrap */
    cli_progress_render(&p, term_width() - 1, b->color, line, sizeof(line));
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    b->drawn = true;
}

void cli_bar_clear(struct cli_bar *b)
{
    if (b->on && b->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    b->drawn = false;
}

void cli_table_init(struct cli_table *t, size_t ncols, const char **headers)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
    t->headers = headers;
}

int cli_table_add(struct cli_table *t, const char **row)
{
    size_t c;

    if (t->rows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **cells = realloc(t->cells, cap * t->ncols * sizeof(*cells));
        if (cells == NULL)
            return -1;
        t->cells = cells;
        t->cap = cap;
    }
    for (c = 0; c < t->ncols; c++) {
        char *s = strdup(row[c] ? row[c] : "-");
        if (s == NULL) {
            while (c-- > 0)
                free(t->cells[t->rows * t->ncols + c]);
            return -1;
        }
        t->cells[t->rows * t->ncols + c] = s;
    }
    t->rows++;
    return 0;
}

void cli_table_print(const struct cli_table *t, FILE *out)
{
    size_t width[16] = {0};
    size_t r, c, ncols = t->ncols < 16 ? t->ncols : 16;

    for (c = 0; c < ncols; c++)
        width[c] = strlen(t->headers[c]);
    for (r = 0; r < t->rows; r++)
        for (c = 0; c < ncols; c++) {
            size_t n = strlen(t->cells[r * t->ncols + c]);
            if (n > width[c])
                width[c] = n;
        }
    fputs(cli_sgr(out, "\033[1m"), out);
    for (c = 0; c < ncols; c++)
        fprintf(out, "%-*s%s", c + 1 < ncols ? (int)width[c] : 0,
                t->headers[c], c + 1 < ncols ? "  " : "");
    fprintf(out, "%s\n", cli_sgr(out, "\033[0m"));
    for (r = 0; r < t->rows; r++) {
        for (c = 0; c < ncols; c++)
            fprintf(out, "%-*s%s", c + 1 < ncols ? (int)width[c] : 0,
                    t->cells[r * t->ncols + c], c + 1 < ncols ? "  " : "");
        fputc('\n', out);
    }
}

void cli_table_free(struct cli_table *t)
{
    size_t i;

    for (i = 0; i < t->rows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

void cli_format_time(long long t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
        snprintf(buf, size, "-");
        return;
    }
    strftime(buf, size, "%Y-%m-%d %H:%M:%SZ", &tm);
}
