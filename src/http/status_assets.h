/*
 * status_assets.h - the status page's files (src/http/status/), embedded
 * into the binary at build time by src/http/status/embed.cmake, which
 * writes status_assets.c in the build directory: for each file NAME.EXT,
 * sb_status_NAME_EXT[] (its bytes, NUL-terminated) and
 * sb_status_NAME_EXT_len (without the NUL).  Nothing is read from disk
 * at run time.
 */
#ifndef SB_HTTP_STATUS_ASSETS_H
#define SB_HTTP_STATUS_ASSETS_H

#include <stddef.h>

extern const unsigned char sb_status_index_html[];
extern const size_t sb_status_index_html_len;
extern const unsigned char sb_status_status_css[];
extern const size_t sb_status_status_css_len;
extern const unsigned char sb_status_status_js[];
extern const size_t sb_status_status_js_len;

#endif
