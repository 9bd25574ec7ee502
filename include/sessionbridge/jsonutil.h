/*
 * jsonutil.h - JSON helpers shared by the codecs and the API: a depth check
 * run before jansson parses anything, strict parsing, and serialisers that
 * reproduce the byte layouts of other languages' JSON encoders.
 */
#ifndef SESSIONBRIDGE_JSONUTIL_H
#define SESSIONBRIDGE_JSONUTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sessionbridge/err.h"

/* True when the nesting of [ and { in buf[0..n) (strings skipped) stays at
 * or below max_depth. */
int sb_json_depth_ok(const char *buf, size_t n, int max_depth);

/* Parses buf[0..n) as one JSON value with SB_JSON_DEPTH_MAX enforced first;
 * rejects NUL bytes inside strings and trailing data.  Errors are
 * SB_ERR_TOO_LARGE (depth) or `bad_code` with a message naming `what`
 * (e.g. "session payload").  Returns a new reference or NULL. */
json_t *sb_json_parse(const char *buf, size_t n, enum sb_err_code bad_code,
                      const char *what, struct sb_err *err);

/* A growable byte buffer for serialisers. */
struct sb_buf {
    char *data; /* owned; NUL-terminated while len < cap */
    size_t len;
    size_t cap;
};

/* True when v is a JSON string that reads the same as a C string: it
 * holds no NUL byte (JSON's \u0000), so strlen() does not cut it short. */
bool sb_json_is_c_string(const json_t *v);

/* True when v holds the user id subject: as a string, or as an integer
 * written out in decimal (a session field a format keeps the subject in). */
bool sb_json_names_subject(const json_t *v, const char *subject);

void sb_buf_init(struct sb_buf *b);
void sb_buf_free(struct sb_buf *b);
int sb_buf_append(struct sb_buf *b, const void *p, size_t n);
int sb_buf_append_str(struct sb_buf *b, const char *s);
int sb_buf_printf(struct sb_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the data to the caller (NUL-terminated, free() it) and resets b. */
char *sb_buf_steal(struct sb_buf *b, size_t *len);

/* Dialects of JSON text other frameworks produce byte for byte. */
enum sb_json_style {
    SB_JSON_PY_COMPACT_SORTED, /* Flask: sort_keys, (",",":"), ASCII only */
    SB_JSON_PY_COMPACT,        /* Django: (",",":"), ASCII, insertion order */
    SB_JSON_PY_DEFAULT,        /* Starlette: (", ",": "), ASCII, insertion */
    SB_JSON_GO,                /* Go encoding/json: compact, sorted keys,
                                  <>& and U+2028/9 escaped, UTF-8 kept */
    SB_JSON_JS,                /* JSON.stringify: compact, insertion order,
                                  UTF-8 kept */
    SB_JSON_RUBY,              /* ActiveSupport::JSON: compact, insertion
                                  order, <>& and U+2028/9 escaped */
    SB_JSON_CANONICAL          /* sessionbridge's own answers and stored
                                  sessions: JSON.stringify's layout, but a
                                  real keeps a fraction or exponent (2.0,
                                  not 2), so a Go float64 stays one */
};

/* Appends the JSON text of v in the given style to b.  Reals are written
 * the shortest way that round-trips, as Python repr / Go / JS would. */
int sb_json_dump(const json_t *v, enum sb_json_style style, struct sb_buf *b,
                 struct sb_err *err);

#endif
