/*
 * percent.h - the one percent codec (%XX escapes) behind cookie values,
 * form fields, Redis key subjects and response headers.
 *
 * What differs between those uses is only which bytes stay as they are;
 * the caller says so with a predicate.  Escapes are written in upper-case
 * hex, and read in either case.
 */
#ifndef SESSIONBRIDGE_PERCENT_H
#define SESSIONBRIDGE_PERCENT_H

#include <stdbool.h>
#include <stddef.h>

/* True when byte c may appear as itself; arg is the caller's. */
typedef bool (*sb_percent_keep_fn)(unsigned char c, const void *arg);

/* Writes s[0..n) into buf (NUL-terminated), every byte keep() refuses as
 * %XX.  Returns the length written, or -1 when it does not fit in size. */
long sb_percent_encode(const char *s, size_t n, sb_percent_keep_fn keep,
                       const void *arg, char *buf, size_t size);

/* Decodes s[0..n) into buf (NUL-terminated): %XX becomes its byte, and
 * '+' a space when plus_is_space (form encoding).  Returns the length
 * written; -1 when an escape is malformed (*bad_at receives its offset),
 * -2 when the result does not fit in size. */
long sb_percent_decode(const char *s, size_t n, bool plus_is_space,
                       char *buf, size_t size, size_t *bad_at);

#endif
