/*
 * zbuf.h - zlib compression with a hard cap on what inflating may produce,
 * so a zlib bomb fails with too_large instead of eating memory.
 */
#ifndef SESSIONBRIDGE_ZBUF_H
#define SESSIONBRIDGE_ZBUF_H

#include <stddef.h>

#include "sessionbridge/err.h"

/* Inflates a zlib stream src[0..n) into a new buffer *out (NUL-terminated
 * for convenience) of length *out_len.  Fails with SB_ERR_TOO_LARGE as soon
 * as the output would pass `cap` bytes, SB_ERR_MALFORMED on a corrupt or
 * truncated stream or trailing bytes.  Caller frees *out. */
int sb_zlib_inflate(const unsigned char *src, size_t n, size_t cap,
                    unsigned char **out, size_t *out_len, struct sb_err *err);

/* Deflates src[0..n) as zlib.compress() does at level 6 (header 78 9C) into
 * a new buffer.  Caller frees *out. */
int sb_zlib_deflate(const unsigned char *src, size_t n, unsigned char **out,
                    size_t *out_len, struct sb_err *err);

#endif
