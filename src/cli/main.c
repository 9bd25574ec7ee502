/* main.c - sessionbridgectl: global options, command dispatch, help. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sessionbridge/jsonutil.h"
#include "sessionbridge/redis_url.h"

#define DEFAULT_CONFIG "/etc/sessionbridge/sessionbridge.ini"

int cli_error(int code, const char *fmt, ...)
{
    va_list ap;

    fputs("sessionbridgectl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

bool cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

/* --redis URL: a usage error when the URL does not parse, or when it
 * holds a password (argv is visible to every user in ps). */
static int check_redis_option(const char *url)
{
    struct sb_redis_url u;
    struct sb_err err = {0};
    bool has_password;

    if (sb_redis_url_parse(url, &u, &err) != 0)
        return cli_error(CLI_USAGE, "--redis: %s", err.msg);
    has_password = u.password != NULL;
    sb_redis_url_free(&u);
    if (has_password)
        return cli_error(CLI_USAGE, "--redis: a password in the URL would be "
                         "visible in ps; put it in a file (mode 0600) named "
                         "by [redis] password_file in the config (and the "
                         "ACL user in [redis] username), then give --redis "
                         "without it (redis://host:port/db)");
    return CLI_OK;
}

const struct sb_config *cli_config(struct cli_ctx *ctx)
{
    struct sb_err err = {0};

    if (ctx->cfg != NULL)
        return ctx->cfg;
    if (ctx->redis_url != NULL &&
        setenv("SESSIONBRIDGE_REDIS_URL", ctx->redis_url, 1) != 0)
        return NULL;
    if (sb_config_load(ctx->config_path, &ctx->cfg, &err) != 0) {
        cli_error(CLI_FAILED, "%s", err.msg);
        return NULL;
    }
    return ctx->cfg;
}

int cli_parse_duration(const char *s, long long *seconds)
{
    char *end;
    long long n, unit = 1;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    n = strtoll(s, &end, 10);
    if (errno != 0)
        return -1;
    if (*end != '\0') {
        if (end[1] != '\0')
            return -1;
        switch (*end) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 7 * 86400; break;
        default: return -1;
        }
    }
    if (n > (long long)100 * 365 * 86400 / unit)
        return -1;
    *seconds = n * unit;
    return 0;
}

char *cli_read_stdin(size_t max, size_t *len)
{
    char *buf = malloc(max + 1);
    size_t n = 0;
    ssize_t r;

    if (buf == NULL)
        return NULL;
    while ((r = read(STDIN_FILENO, buf + n, max + 1 - n)) > 0) {
        n += (size_t)r;
        if (n > max) {
            free(buf);
            return NULL;
        }
    }
    if (r < 0) {
        free(buf);
        return NULL;
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* One line a value, so scripts can read the output line by line: compact,
 * keys in insertion order, UTF-8 kept (SB_JSON_CANONICAL). */
void cli_print_json(json_t *v)
{
    struct sb_buf b;

    sb_buf_init(&b);
    if (v != NULL && sb_json_dump(v, SB_JSON_CANONICAL, &b, NULL) == 0)
        printf("%s\n", b.data);
    sb_buf_free(&b);
    json_decref(v);
}

void cli_print_help(const struct cli_command *cmd, FILE *out)
{
    fprintf(out, "usage: sessionbridgectl [-c CONFIG] [--redis URL] %s%s%s%s%s"
            "\n\n%s\n", cmd->name, cmd->sub ? " " : "",
            cmd->sub ? cmd->sub : "", cmd->synopsis[0] ? " " : "",
            cmd->synopsis, cmd->help);
}

static void usage(FILE *out)
{
    size_t i;

    fprintf(out,
            "usage: sessionbridgectl [-c CONFIG] [--redis URL] COMMAND [ARGS]\n"
            "\n"
            "The admin CLI of sessionbridge.  It reads the daemon's config\n"
            "(default %s) and talks to Redis directly.\n"
            "\nCommands:\n", DEFAULT_CONFIG);
    for (i = 0; i < cli_command_count; i++)
        fprintf(out, "  %s%s%s%s%s\n", cli_commands[i].name,
                cli_commands[i].sub ? " " : "",
                cli_commands[i].sub ? cli_commands[i].sub : "",
                cli_commands[i].synopsis[0] ? " " : "",
                cli_commands[i].synopsis);
    fprintf(out,
            "\nGlobal options:\n"
            "  -c, --config PATH  configuration file\n"
            "  --redis URL        Redis to use instead of [redis] url\n"
            "  -h, --help         this text; COMMAND --help for a command's\n"
            "  -V, --version      print the version\n"
            "\nExit codes: 0 success, 1 failed or nothing found, 2 usage "
            "error,\n3 cannot reach Redis.\n");
}

/* The edit distance of a and b (insertions, deletions and substitutions
 * of one byte), to tell a typo from another word; words of 32 bytes or
 * more count as far apart. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[32], i, j, diag, up, best;

    if (la >= 32 || lb >= 32)
        return SIZE_MAX;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        diag = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            up = row[j];
            best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The command typed most likely meant: matched by name, or, with word
 * set, by the second word of word's subcommands.  A candidate that begins
 * with typed wins, else the nearest within two edits; NULL when none is
 * that close. */
static const struct cli_command *closest(const char *word, const char *typed)
{
    const struct cli_command *best = NULL;
    size_t i, d, best_d = 3, n = strlen(typed);

    for (i = 0; i < cli_command_count; i++) {
        const struct cli_command *c = &cli_commands[i];
        const char *cand = word ? c->sub : c->name;
        if (cand == NULL || (word != NULL && strcmp(c->name, word) != 0))
            continue;
        d = n > 0 && strncmp(cand, typed, n) == 0 ? 0
                                                  : edit_distance(typed, cand);
        if (d < best_d) {
            best = c;
            best_d = d;
        }
    }
    return best;
}

/* Answers a command word that needs a subcommand and got none, or one it
 * does not have: the likely one when sub is close to it, else all of
 * them. */
static int needs_subcommand(const char *word, const char *sub)
{
    const struct cli_command *near = sub ? closest(word, sub) : NULL;
    char list[256];
    size_t i, k = 0, total = 0, o = 0;

    if (near != NULL)
        return cli_error(CLI_USAGE, "'%s' needs a subcommand, not '%s' (did "
                         "you mean '%s %s'?)", word, sub, word, near->sub);
    for (i = 0; i < cli_command_count; i++)
        total += strcmp(cli_commands[i].name, word) == 0 &&
                 cli_commands[i].sub != NULL;
    list[0] = '\0';
    for (i = 0; i < cli_command_count && o < sizeof(list); i++) {
        const struct cli_command *c = &cli_commands[i];
        if (strcmp(c->name, word) != 0 || c->sub == NULL)
            continue;
        k++;
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s'%s %s'",
                              k == 1 ? "" : k == total ? " or " : ", ",
                              word, c->sub);
    }
    return cli_error(CLI_USAGE, "'%s' needs a subcommand%s%s%s (try %s)",
                     word, sub ? ", not '" : "", sub ? sub : "",
                     sub ? "'" : "", list);
}

int main(int argc, char **argv)
{
    struct cli_ctx ctx = {DEFAULT_CONFIG, NULL, NULL};
    const struct cli_command *near;
    const char *word, *sub;
    size_t i;
    int rc, argi = 1;

    while (argi < argc && argv[argi][0] == '-') {
        const char *a = argv[argi];
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            if (argi + 1 >= argc)
                return cli_error(CLI_USAGE, "%s needs a path", a);
            ctx.config_path = argv[argi + 1];
            argi += 2;
        } else if (strcmp(a, "--redis") == 0) {
            if (argi + 1 >= argc)
                return cli_error(CLI_USAGE, "--redis needs a URL");
            if (check_redis_option(argv[argi + 1]) != CLI_OK)
                return CLI_USAGE;
            ctx.redis_url = argv[argi + 1];
            argi += 2;
        } else if (cli_is_help(a)) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("sessionbridgectl %s\n", SB_VERSION);
            return CLI_OK;
        } else {
            usage(stderr);
            return cli_error(CLI_USAGE, "unknown option '%s'", a);
        }
    }
    if (argi >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    word = argv[argi];
    sub = argi + 1 < argc ? argv[argi + 1] : NULL;
    for (i = 0; i < cli_command_count; i++) {
        const struct cli_command *c = &cli_commands[i];
        int skip;
        if (strcmp(c->name, word) != 0)
            continue;
        if (c->sub != NULL && (sub == NULL || strcmp(c->sub, sub) != 0))
            continue;
        skip = c->sub ? 2 : 1;
        if (argi + skip < argc && cli_is_help(argv[argi + skip])) {
            cli_print_help(c, stdout);
            return CLI_OK;
        }
        rc = c->run(&ctx, argc - argi - skip, argv + argi + skip);
        sb_config_unref(ctx.cfg);
        return rc;
    }
    for (i = 0; i < cli_command_count; i++) {
        if (strcmp(cli_commands[i].name, word) == 0 && cli_commands[i].sub) {
            if (sub != NULL && cli_is_help(sub)) {
                cli_print_help(&cli_commands[i], stdout);
                return CLI_OK;
            }
            return needs_subcommand(word, sub);
        }
    }
    if ((near = closest(NULL, word)) != NULL)
        return cli_error(CLI_USAGE, "unknown command '%s' (did you mean "
                         "'%s'?)", word, near->name);
    return cli_error(CLI_USAGE, "unknown command '%s' (sessionbridgectl "
                     "--help lists them)", word);
}
