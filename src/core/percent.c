/* percent.c - %XX escapes, both ways, for every caller. */
#include "sessionbridge/percent.h"

#include "sessionbridge/crypto.h"

long sb_percent_encode(const char *s, size_t n, sb_percent_keep_fn keep,
                       const void *arg, char *buf, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (keep(c, arg)) {
            if (o + 1 >= size)
                return -1;
            buf[o++] = (char)c;
            continue;
        }
        if (o + 3 >= size)
            return -1;
        buf[o++] = '%';
        buf[o++] = hex[c >> 4];
        buf[o++] = hex[c & 15];
    }
    if (o >= size)
        return -1;
    buf[o] = '\0';
    return (long)o;
}

long sb_percent_decode(const char *s, size_t n, bool plus_is_space,
                       char *buf, size_t size, size_t *bad_at)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        char c = s[i];
        if (o + 1 >= size)
            return -2;
        if (c == '+' && plus_is_space) {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? sb_hex_digit(s[i + 1]) : -1;
            int lo = i + 2 < n ? sb_hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *bad_at = i;
                return -1;
            }
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        buf[o++] = c;
    }
    if (o >= size)
        return -2;
    buf[o] = '\0';
    return (long)o;
}
