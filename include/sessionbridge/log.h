/*
 * log.h - structured logs: one JSON object per line on stderr,
 * {"ts","level","msg", field: value ...}.
 *
 * Never pass a secret, cookie, token or API key as a field value: log
 * lengths, profile names, error codes and request routes instead.
 */
#ifndef SESSIONBRIDGE_LOG_H
#define SESSIONBRIDGE_LOG_H

#include <stdbool.h>

enum sb_log_level { SB_LOG_DEBUG = 0, SB_LOG_INFO, SB_LOG_WARN, SB_LOG_ERROR };

/* Parses "debug" / "info" / "warn" / "error". */
bool sb_log_level_parse(const char *name, enum sb_log_level *out);
const char *sb_log_level_name(enum sb_log_level level);

/* Sets the minimum level written (atomic; safe from any thread). */
void sb_log_set_level(enum sb_log_level level);
bool sb_log_enabled(enum sb_log_level level);

/* Writes one line: msg plus string fields given as key, value pairs and
 * ended by NULL, e.g. sb_log(SB_LOG_INFO, "listening", "addr", a, NULL).
 * A NULL value is written as JSON null.  One write(2) per line, so lines
 * from different threads never interleave. */
void sb_log(enum sb_log_level level, const char *msg, ...)
    __attribute__((sentinel));

/* What the access line of one HTTP request says.  Every string is
 * borrowed; error, profile and trace_id may be NULL or "" (left out).
 * None may hold a credential: error is an error code, profile a profile
 * name, request_id and trace_id are checked by sessionbridge/trace.h. */
struct sb_log_access_line {
    const char *method;
    const char *route;       /* the route table's name, not the path */
    unsigned status;
    double duration_ms;
    const char *error;       /* the answer's error code */
    const char *profile;     /* the credential's profile (forward-auth) */
    const char *request_id;
    const char *trace_id;    /* of a valid W3C traceparent */
};

/* Writes the access line of one HTTP request. */
void sb_log_access(const struct sb_log_access_line *a);

#endif
