/* progress.c - renders the one-line progress bar (pure: no I/O). */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BAR_MIN 10 /* narrowest bar worth drawing (inside the brackets) */
#define BAR_MAX 40 /* widest bar, however wide the terminal */
#define PART_MAX 64

#define ANSI_GREEN "\033[32m"
#define ANSI_BOLD "\033[1m"
#define ANSI_RESET "\033[0m"

char *cli_progress_thousands(unsigned long long n, char *buf, size_t size)
{
    char digits[32];
    size_t len, i, o = 0;

    len = (size_t)snprintf(digits, sizeof(digits), "%llu", n);
    for (i = 0; i < len && o + 1 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 2 < size)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    if (size > 0)
        buf[o] = '\0';
    return buf;
}

/* Redis walks its hash table in reverse-binary cursor order (the high
 * bits of the bucket index change fastest), so the cursor's 64 bits
 * reversed grow steadily from 0 towards 2^64 over one walk, whatever the
 * table size; the top 20 bits of that are the fraction covered. */
unsigned long long cli_scan_position(const char *cursor, bool done)
{
    unsigned long long v = strtoull(cursor, NULL, 10), rev = 0;
    int i;

    if (done)
        return CLI_SCAN_SPAN;
    for (i = 0; i < 64; i++) {
        rev = (rev << 1) | (v & 1);
        v >>= 1;
    }
    return rev >> 44;
}

/* "M:SS" below an hour, else "H:MM:SS". */
static void format_eta(double seconds, char *buf, size_t size)
{
    unsigned long long s = seconds > 0 ? (unsigned long long)(seconds + 0.5)
                                       : 0;

    if (s < 3600)
        snprintf(buf, size, "ETA %llu:%02llu", s / 60, s % 60);
    else
        snprintf(buf, size, "ETA %llu:%02llu:%02llu", s / 3600,
                 s / 60 % 60, s % 60);
}

/* Appends s (visible width = strlen) with optional escapes around it. */
static void put(char *buf, size_t size, size_t *o, const char *pre,
                const char *s, const char *post)
{
    int n = snprintf(buf + *o, size - *o, "%s%s%s", pre, s, post);

    if (n < 0)
        return;
    *o += (size_t)n < size - *o ? (size_t)n : size - *o - 1;
}

/* The bar "[====>     ]" with `inner` columns between the brackets. */
static void put_bar(char *buf, size_t size, size_t *o, unsigned inner,
                    double fraction, bool color)
{
    char bar[BAR_MAX + 1];
    unsigned filled = (unsigned)(fraction * inner), i;

    if (filled > inner)
        filled = inner;
    for (i = 0; i < inner; i++)
        bar[i] = i < filled ? '=' : ' ';
    if (filled < inner)
        bar[filled] = '>';
    bar[inner] = '\0';
    put(buf, size, o, "[", "", "");
    put(buf, size, o, color ? ANSI_GREEN : "", bar, color ? ANSI_RESET : "");
    put(buf, size, o, "]", "", "");
}

/*
 * Builds the parts (label, percentage, count, rate, ETA), then decides
 * what fits: ETA goes first, then the rate, then the bar shrinks from
 * BAR_MAX to BAR_MIN and disappears.  Whatever is left is cut at width.
 */
size_t cli_progress_render(const struct cli_progress *p, unsigned width,
                           bool color, char *buf, size_t size)
{
    char pct[8] = "", count[PART_MAX], rate[PART_MAX] = "", eta[PART_MAX] = "";
    char num[32];
    const char *label = p->label ? p->label : "";
    double fraction = 0, per_sec = 0;
    size_t fixed, o = 0, cut, vis;
    unsigned inner = 0;
    bool known = p->total > 0, show_rate, show_eta;

    if (size == 0)
        return 0;
    buf[0] = '\0';
    if (known) {
        unsigned percent;
        fraction = p->finished ? 1.0 : (double)p->done / (double)p->total;
        if (fraction > 0.99 && !p->finished)
            fraction = 0.99;
        percent = (unsigned)(fraction * 100.0);
        snprintf(pct, sizeof(pct), "%3u%%", percent);
    }
    snprintf(count, sizeof(count), "%s %s",
             cli_progress_thousands(p->count, num, sizeof(num)),
             p->count_unit ? p->count_unit : "");
    if (p->elapsed > 0) {
        per_sec = (double)p->count / p->elapsed;
        snprintf(rate, sizeof(rate), "%s/s",
                 cli_progress_thousands((unsigned long long)per_sec, num,
                                        sizeof(num)));
        if (known && !p->finished && p->done > 0 && p->done < p->total)
            format_eta(p->elapsed * (double)(p->total - p->done) /
                           (double)p->done, eta, sizeof(eta));
    }

    /* Visible columns of everything but the bar, with one space between. */
    fixed = strlen(label) + strlen(count);
    if (known)
        fixed += 1 + strlen(pct);
    show_rate = rate[0] != '\0';
    show_eta = eta[0] != '\0';
    if (show_rate)
        fixed += 1 + strlen(rate);
    if (show_eta)
        fixed += 1 + strlen(eta);
    if (known) {
        /* the bar takes 3 columns more than inner: brackets and a space */
        if (show_eta && fixed + 1 + 3 + BAR_MIN > width) {
            show_eta = false;
            fixed -= 1 + strlen(eta);
        }
        if (show_rate && fixed + 1 + 3 + BAR_MIN > width) {
            show_rate = false;
            fixed -= 1 + strlen(rate);
        }
        if (fixed + 1 + 3 + BAR_MIN <= width) {
            inner = width - (unsigned)fixed - 1 - 3;
            if (inner > BAR_MAX)
                inner = BAR_MAX;
        }
    } else {
        if (show_rate && fixed + 1 > width) {
            show_rate = false;
            fixed -= 1 + strlen(rate);
        }
    }

    put(buf, size, &o, "", label, "");
    if (inner > 0) {
        put(buf, size, &o, " ", "", "");
        put_bar(buf, size, &o, inner, fraction, color);
    }
    if (known)
        put(buf, size, &o, " ", pct, "");
    put(buf, size, &o, " ", "", "");
    put(buf, size, &o, color ? ANSI_BOLD : "", count, color ? ANSI_RESET : "");
    if (show_rate)
        put(buf, size, &o, " ", rate, "");
    if (show_eta)
        put(buf, size, &o, " ", eta, "");

    /* Still too wide (a tiny terminal): cut at width visible columns,
     * skipping escapes, and close any colour left open. */
    vis = 0;
    for (cut = 0; cut < o; cut++) {
        if (buf[cut] == '\033') {
            while (cut < o && buf[cut] != 'm')
                cut++;
            continue;
        }
        if (vis == width)
            break;
        vis++;
    }
    if (cut < o) {
        o = cut;
        buf[o] = '\0';
        if (color)
            put(buf, size, &o, ANSI_RESET, "", "");
    }
    return o;
}
