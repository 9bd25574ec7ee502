/* profile.c - secrets lists and a profile's lifetime. */
#include "sessionbridge/profile.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sessionbridge/b64.h"
#include "sessionbridge/codec.h"
#include "sessionbridge/crypto.h"
#include "sessionbridge/log.h"

int sb_secrets_append(struct sb_secret_list *list, const void *bytes,
                      size_t len, struct sb_err *err)
{
    struct sb_secret *items;
    unsigned char *copy;

    copy = malloc(len + 1);
    if (copy == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    items = realloc(list->items, (list->count + 1) * sizeof(*items));
    if (items == NULL) {
        free(copy);
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    }
    memcpy(copy, bytes, len);
    copy[len] = '\0';
    list->items = items;
    list->items[list->count].bytes = copy;
    list->items[list->count].len = len;
    list->count++;
    return 0;
}

/* Decodes n hex digits (an even number) into out; the length or -1. */
static long hex_decode(const char *s, size_t n, unsigned char *out)
{
    size_t i;

    if (n % 2 != 0)
        return -1;
    for (i = 0; i < n / 2; i++) {
        int hi = sb_hex_digit(s[2 * i]), lo = sb_hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return (long)(n / 2);
}

/* The bytes one secrets-file line stands for, appended to list: "hex:" and
 * "base64:" (standard or URL-safe alphabet, padded or not) decode to binary,
 * any other line is its own bytes.  path:lineno name the line in errors. */
static int append_line(struct sb_secret_list *list, const char *path,
                       size_t lineno, const char *s, size_t n,
                       struct sb_err *err)
{
    static const enum sb_b64_variant b64s[] = {
        SB_B64_STD_PAD, SB_B64_STD_NOPAD, SB_B64_URL_PAD, SB_B64_URL_NOPAD};
    unsigned char *buf;
    long len = -1;
    size_t i;
    int rc;

    if (strncmp(s, "hex:", 4) != 0 && strncmp(s, "base64:", 7) != 0)
        return sb_secrets_append(list, s, n, err);
    buf = malloc(n + 1);
    if (buf == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    if (s[0] == 'h')
        len = hex_decode(s + 4, n - 4, buf);
    for (i = 0; s[0] == 'b' && n > 7 && len < 0 && i < 4; i++)
        len = sb_b64_decode(b64s[i], s + 7, n - 7, buf);
    if (len > 0)
        rc = sb_secrets_append(list, buf, (size_t)len, err);
    else
        rc = sb_err_set(err, SB_ERR_CONFIG,
                        "%s:%zu: %s value is empty or not valid %s", path,
                        lineno, s[0] == 'h' ? "hex:" : "base64:",
                        s[0] == 'h' ? "hex (an even number of digits)"
                                    : "base64");
    OPENSSL_cleanse(buf, n + 1);
    free(buf);
    return rc;
}

/* A secret file others may write lets them choose the key: refused.  One
 * others or the group may read is a warning (container secret mounts are
 * often 0444), naming the file and its mode, never the content. */
static int check_mode(FILE *f, const char *path, struct sb_err *err)
{
    struct stat st;
    char mode[8];

    if (fstat(fileno(f), &st) != 0)
        return sb_err_set(err, SB_ERR_IO, "cannot stat secrets file %s: %s",
                          path, strerror(errno));
    snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return sb_err_set(err, SB_ERR_CONFIG,
                          "secrets file %s is writable by group or others "
                          "(mode %s): chmod go-w it", path, mode);
    if (st.st_mode & (S_IRGRP | S_IROTH))
        sb_log(SB_LOG_WARN, "secrets file is readable by group or others; "
               "chmod go-r it", "path", path, "mode", mode, NULL);
    return 0;
}

int sb_secrets_load_file(const char *path, struct sb_secret_list *list,
                         struct sb_err *err)
{
    FILE *f;
    char *line = NULL;
    size_t cap = 0, before = list->count, lineno = 0;
    ssize_t n;
    int rc = -1;

    f = fopen(path, "r");
    if (f == NULL)
        return sb_err_set(err, SB_ERR_IO, "cannot read secrets file %s: %s",
                          path, strerror(errno));
    if (check_mode(f, path, err) != 0)
        goto out;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        if (line[0] == '#') {
            sb_err_set(err, SB_ERR_CONFIG,
                       "%s:%zu: a secrets file has no comments; a secret "
                       "starting with '#' must be written as hex: or "
                       "base64:", path, lineno);
            goto out;
        }
        if (memchr(line, '\0', (size_t)n) != NULL) {
            sb_err_set(err, SB_ERR_CONFIG,
                       "%s:%zu: holds a NUL byte; write a binary secret as "
                       "hex: or base64:", path, lineno);
            goto out;
        }
        if (append_line(list, path, lineno, line, (size_t)n, err) != 0)
            goto out;
    }
    if (list->count == before) {
        sb_err_set(err, SB_ERR_CONFIG, "secrets file %s holds no secret", path);
        goto out;
    }
    rc = 0;
out:
    while (rc != 0 && list->count > before) {
        struct sb_secret *last = &list->items[--list->count];
        OPENSSL_cleanse(last->bytes, last->len);
        free(last->bytes);
    }
    if (rc != 0 && list->count == 0) {
        free(list->items);
        list->items = NULL;
    }
    if (line != NULL)
        OPENSSL_cleanse(line, cap);
    free(line);
    fclose(f);
    return rc;
}

void sb_secrets_clear(struct sb_secret_list *list)
{
    size_t i;

    for (i = 0; i < list->count; i++) {
        OPENSSL_cleanse(list->items[i].bytes, list->items[i].len);
        free(list->items[i].bytes);
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

void sb_profile_free(struct sb_profile *p)
{
    size_t i;

    if (p->codec != NULL && p->codec->release != NULL)
        p->codec->release(p);
    free(p->name);
    free(p->cookie.name);
    free(p->cookie.path);
    free(p->cookie.domain);
    sb_secrets_clear(&p->secrets);
    free(p->salt);
    free(p->digest);
    free(p->serializer);
    free(p->subject_field);
    free(p->sid_field);
    for (i = 0; i < p->rename_count; i++) {
        free(p->renames[i].profile_field);
        free(p->renames[i].canonical_field);
    }
    free(p->renames);
    memset(p, 0, sizeof(*p));
}
