/* profile.c - secrets lists and a profile's lifetime. */
#include "sessionbridge/profile.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/codec.h"

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

int sb_secrets_load_file(const char *path, struct sb_secret_list *list,
                         struct sb_err *err)
{
    FILE *f;
    char *line = NULL;
    size_t cap = 0, before = list->count;
    ssize_t n;
    int rc = -1;

    f = fopen(path, "r");
    if (f == NULL)
        return sb_err_set(err, SB_ERR_IO, "cannot read secrets file %s: %s",
                          path, strerror(errno));
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        if (sb_secrets_append(list, line, (size_t)n, err) != 0)
            goto out;
    }
    if (list->count == before) {
        sb_err_set(err, SB_ERR_CONFIG, "secrets file %s holds no secret", path);
        goto out;
    }
    rc = 0;
out:
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
