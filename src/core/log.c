/* log.c - JSON-lines logging on stderr, one write(2) per line. */
#include "sessionbridge/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static atomic_int min_level = SB_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

bool sb_log_level_parse(const char *name, enum sb_log_level *out)
{
    int i;

    for (i = 0; i <= SB_LOG_ERROR; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum sb_log_level)i;
            return true;
        }
    }
    return false;
}

const char *sb_log_level_name(enum sb_log_level level)
{
    return level_names[level];
}

void sb_log_set_level(enum sb_log_level level)
{
    atomic_store(&min_level, (int)level);
}

bool sb_log_enabled(enum sb_log_level level)
{
    return (int)level >= atomic_load_explicit(&min_level, memory_order_relaxed);
}

/* Appends s as a JSON string body (without quotes) to line. */
static size_t put_escaped(char *line, size_t o, size_t cap, const char *s)
{
    for (; *s && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            line[o++] = '\\';
            line[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(line + o, cap - o, "\\u%04x", c);
        } else {
            line[o++] = (char)c;
        }
    }
    return o;
}

static size_t put_raw(char *line, size_t o, size_t cap, const char *s)
{
    size_t n = strlen(s);

    if (o + n >= cap)
        n = cap - o - 1;
    memcpy(line + o, s, n);
    return o + n;
}

static size_t put_prefix(char *line, size_t cap, enum sb_log_level level,
                         const char *msg)
{
    struct timeval tv;
    struct tm tm;
    char ts[40];
    size_t o = 0;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    o += (size_t)snprintf(line, cap, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":\"",
                          ts, (long)(tv.tv_usec / 1000), level_names[level]);
    o = put_escaped(line, o, cap, msg);
    return put_raw(line, o, cap, "\"");
}

static void put_line(char *line, size_t o, size_t cap)
{
    ssize_t w;

    o = put_raw(line, o, cap - 1, "}");
    line[o++] = '\n';
    w = write(STDERR_FILENO, line, o);
    (void)w;
}

void sb_log(enum sb_log_level level, const char *msg, ...)
{
    char line[2048];
    size_t o;
    const char *key;
    va_list ap;

    if (!sb_log_enabled(level))
        return;
    o = put_prefix(line, sizeof(line) - 64, level, msg);
    va_start(ap, msg);
    while ((key = va_arg(ap, const char *)) != NULL) {
        const char *val = va_arg(ap, const char *);
        o = put_raw(line, o, sizeof(line) - 64, ",\"");
        o = put_escaped(line, o, sizeof(line) - 64, key);
        if (val == NULL) {
            o = put_raw(line, o, sizeof(line) - 64, "\":null");
        } else {
            o = put_raw(line, o, sizeof(line) - 64, "\":\"");
            o = put_escaped(line, o, sizeof(line) - 64, val);
            o = put_raw(line, o, sizeof(line) - 64, "\"");
        }
    }
    va_end(ap);
    put_line(line, o, sizeof(line));
}

/* Appends ,"key":"value" when value is set and not empty. */
static size_t put_field(char *line, size_t o, size_t cap, const char *key,
                        const char *value)
{
    if (value == NULL || value[0] == '\0')
        return o;
    o = put_raw(line, o, cap, ",\"");
    o = put_raw(line, o, cap, key);
    o = put_raw(line, o, cap, "\":\"");
    o = put_escaped(line, o, cap, value);
    return put_raw(line, o, cap, "\"");
}

void sb_log_access(const struct sb_log_access_line *a)
{
    char line[768];
    size_t o, cap = sizeof(line) - 64;

    if (!sb_log_enabled(SB_LOG_INFO))
        return;
    o = put_prefix(line, cap, SB_LOG_INFO, "access");
    o = put_field(line, o, cap, "method", a->method);
    o = put_field(line, o, cap, "route", a->route);
    o += (size_t)snprintf(line + o, sizeof(line) - o,
                          ",\"status\":%u,\"duration_ms\":%.3f", a->status,
                          a->duration_ms);
    o = put_field(line, o, cap, "error", a->error);
    o = put_field(line, o, cap, "profile", a->profile);
    o = put_field(line, o, cap, "request_id", a->request_id);
    o = put_field(line, o, cap, "trace_id", a->trace_id);
    put_line(line, o, sizeof(line));
}
