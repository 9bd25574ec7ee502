/* zbuf.c - zlib inflate with an output cap, and Python-compatible deflate. */
#include "sessionbridge/zbuf.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int sb_zlib_inflate(const unsigned char *src, size_t n, size_t cap,
                    unsigned char **out, size_t *out_len, struct sb_err *err)
{
    z_stream zs;
    unsigned char *buf = NULL;
    size_t size = n * 4 + 64;
    int rc;

    *out = NULL;
    *out_len = 0;
    if (size > cap + 1)
        size = cap + 1;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit(&zs) != Z_OK)
        return sb_err_set(err, SB_ERR_NOMEM, "zlib: cannot initialise");
    buf = malloc(size + 1);
    if (buf == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "zlib: out of memory");
        goto err_end;
    }
    zs.next_in = (unsigned char *)src;
    zs.avail_in = (uInt)n;
    for (;;) {
        zs.next_out = buf + zs.total_out;
        zs.avail_out = (uInt)(size - zs.total_out);
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END)
            break;
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            sb_err_set(err, SB_ERR_MALFORMED, "compressed payload is corrupt");
            goto err_free_buf;
        }
        if (zs.avail_out == 0) {
            unsigned char *bigger;
            if (zs.total_out > cap) {
                sb_err_set(err, SB_ERR_TOO_LARGE,
                           "decompressed payload exceeds %zu bytes", cap);
                goto err_free_buf;
            }
            size = size * 2 > cap + 1 ? cap + 1 : size * 2;
            bigger = realloc(buf, size + 1);
            if (bigger == NULL) {
                sb_err_set(err, SB_ERR_NOMEM, "zlib: out of memory");
                goto err_free_buf;
            }
            buf = bigger;
        } else if (zs.avail_in == 0) {
            sb_err_set(err, SB_ERR_MALFORMED, "compressed payload is truncated");
            goto err_free_buf;
        }
    }
    if (zs.total_out > cap) {
        sb_err_set(err, SB_ERR_TOO_LARGE,
                   "decompressed payload exceeds %zu bytes", cap);
        goto err_free_buf;
    }
    if (zs.avail_in != 0) {
        sb_err_set(err, SB_ERR_MALFORMED,
                   "trailing bytes after compressed payload");
        goto err_free_buf;
    }
    buf[zs.total_out] = '\0';
    *out = buf;
    *out_len = zs.total_out;
    inflateEnd(&zs);
    return 0;

err_free_buf:
    free(buf);
err_end:
    inflateEnd(&zs);
    return -1;
}

int sb_zlib_deflate(const unsigned char *src, size_t n, unsigned char **out,
                    size_t *out_len, struct sb_err *err)
{
    uLongf len = compressBound(n);
    unsigned char *buf = malloc(len);

    if (buf == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "zlib: out of memory");
    if (compress2(buf, &len, src, n, Z_DEFAULT_COMPRESSION) != Z_OK) {
        free(buf);
        return sb_err_set(err, SB_ERR_INTERNAL, "zlib: compress failed");
    }
    *out = buf;
    *out_len = len;
    return 0;
}
