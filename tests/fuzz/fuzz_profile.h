/*
 * fuzz_profile.h - builds prepared profiles for the codec fuzz targets the
 * way config.c does (generic defaults, codec keys, prepare()), aborting on
 * failure: a fuzz target without its profiles must not run.
 */
#ifndef SB_FUZZ_PROFILE_H
#define SB_FUZZ_PROFILE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/codec.h"
#include "sessionbridge/profile.h"

#define FUZZ_NOW 1793494800 /* FORMATS.md VERIFY_NOW */

/* secrets and kv ("key", "value", ..., NULL) may be NULL.  kv holds codec
 * keys and the generic cookie_name and serializer. */
static inline void fuzz_profile(struct sb_profile *p, const char *format,
                                const char *const *secrets,
                                const char *const *kv)
{
    struct sb_err err = {0};
    size_t i;

    memset(p, 0, sizeof(*p));
    p->cookie.httponly = true;
    p->cookie.max_age = -2;
    p->name = strdup("fuzz");
    p->codec = sb_codec_find(format);
    p->sid_field = strdup("_sb_sid");
    p->cookie.path = strdup("/");
    if (p->codec == NULL)
        abort();
    for (i = 0; secrets != NULL && secrets[i] != NULL; i++) {
        if (sb_secrets_append(&p->secrets, secrets[i], strlen(secrets[i]),
                              &err) != 0)
            abort();
    }
    for (i = 0; kv != NULL && kv[i] != NULL; i += 2) {
        if (strcmp(kv[i], "cookie_name") == 0)
            p->cookie.name = strdup(kv[i + 1]);
        else if (strcmp(kv[i], "serializer") == 0)
            p->serializer = strdup(kv[i + 1]);
        else if (p->codec->configure(p, kv[i], kv[i + 1], &err) != 0)
            goto fail;
    }
    if (p->codec->prepare != NULL && p->codec->prepare(p, &err) != 0)
        goto fail;
    if (p->cookie.max_age == -2)
        p->cookie.max_age = -1;
    return;
fail:
    fprintf(stderr, "fuzz profile %s: %s\n", format, err.msg);
    abort();
}

/* json_equal, except that numbers compare by value: the JavaScript
 * dialect writes a whole real (2.0) as 2, which reads back as an integer,
 * exactly as JSON.stringify does. */
static inline int fuzz_json_same(const json_t *a, const json_t *b)
{
    const char *k;
    json_t *v;
    size_t i;

    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (i = 0; i < json_array_size(a); i++) {
            if (!fuzz_json_same(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        }
        return 1;
    }
    if (json_is_object(a) && json_is_object(b)) {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        json_object_foreach((json_t *)a, k, v) {
            if (!fuzz_json_same(v, json_object_get(b, k)))
                return 0;
        }
        return 1;
    }
    return json_equal(a, b);
}

/* True when v holds a real of magnitude 2^63 or more: JSON.stringify
 * writes those as plain digits (1e20 -> "100000000000000000000"), which
 * jansson refuses to read back as an integer ("too big integer"), so such
 * data cannot round-trip through a JavaScript-dialect serialisation. */
static inline int fuzz_has_huge_real(const json_t *v)
{
    const char *k;
    json_t *x;
    size_t i;

    if (json_is_real(v))
        return json_real_value(v) >= 9.2e18 || json_real_value(v) <= -9.2e18;
    if (json_is_array(v)) {
        json_array_foreach((json_t *)v, i, x) {
            if (fuzz_has_huge_real(x))
                return 1;
        }
    }
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x) {
            if (fuzz_has_huge_real(x))
                return 1;
        }
    }
    return 0;
}

#endif
