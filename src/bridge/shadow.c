/* shadow.c - shadow checks ([route] shadow = on): before the cutover,
 * would the new backend see a legacy-authenticated session as the legacy
 * one does?  The session is encoded for the new profile as a mint would,
 * decoded back, and compared; codec work only, the store is never asked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/bridge.h"
#include "sessionbridge/clock.h"
#include "sessionbridge/jsonutil.h"

#define FIELD_NAME_MAX 48 /* longest data key written into `fields` */

const char *sb_bridge_shadow_name(enum sb_bridge_shadow r)
{
    switch (r) {
    case SB_SHADOW_AGREE: return "agree";
    case SB_SHADOW_DISAGREE: return "disagree";
    case SB_SHADOW_CANNOT_ENCODE: return "cannot_encode";
    default: return "";
    }
}

/* True when a and b are both NULL or the same string. */
static bool same_string(const char *a, const char *b)
{
    return (a == NULL && b == NULL) ||
           (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Removes from data (canonical names) the key `field` of profile p, or
 * the canonical name p renames it to, when it holds subject. */
static void drop_subject_field(json_t *data, const struct sb_profile *p,
                               const char *field, const char *subject)
{
    const char *name = field;
    json_t *v;
    size_t i;

    for (i = 0; i < p->rename_count; i++) {
        if (strcmp(p->renames[i].profile_field, field) == 0)
            name = p->renames[i].canonical_field;
    }
    v = json_object_get(data, name);
    if (v != NULL && sb_json_names_subject(v, subject))
        json_object_del(data, name);
}

/* A copy of data without the fields any profile keeps the subject in (each
 * side writes it under its own name; the subject is compared on its own).
 * New reference, NULL when out of memory. */
static json_t *comparable_data(const struct sb_config *cfg, const json_t *data,
                               const char *subject)
{
    json_t *d = data != NULL ? json_deep_copy(data) : json_object();
    size_t i;

    for (i = 0; d != NULL && subject != NULL && i < cfg->profile_count; i++) {
        const struct sb_profile *p = &cfg->profiles[i];
        if (p->subject_field != NULL)
            drop_subject_field(d, p, p->subject_field, subject);
    }
    return d;
}

/* Appends name to the comma-separated list in buf (at most size bytes);
 * a name that no longer fits ends the list with "...". */
static void add_field(char *buf, size_t size, const char *prefix,
                      const char *name)
{
    size_t used = strlen(buf);
    int n;

    if (size == 0 || (used >= 3 && strcmp(buf + used - 3, "...") == 0))
        return;
    n = snprintf(buf + used, size - used, "%s%s%.*s", used ? "," : "",
                 prefix, FIELD_NAME_MAX, name);
    if (n < 0 || (size_t)n >= size - used) {
        buf[used] = '\0';
        if (size - used > 4)
            snprintf(buf + used, size - used, "%s...", used ? "," : "");
    }
}

/* Names the keys whose values differ between a and b ("data.KEY"). */
static void diff_data(const json_t *a, const json_t *b, char *fields,
                      size_t size)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)a, key, v) {
        if (!json_equal(v, json_object_get(b, key)))
            add_field(fields, size, "data.", key);
    }
    json_object_foreach((json_t *)b, key, v) {
        if (json_object_get(a, key) == NULL)
            add_field(fields, size, "data.", key);
    }
}

/* Decodes token with `to` into out as its backend would see it: for a
 * format whose data lives in a framework record, the record view of m
 * (what a mint writes) is built and parsed too. */
static int decode_back(const struct sb_profile *to, const char *token,
                       const struct sb_session *m,
                       const struct sb_codec_ctx *ctx, struct sb_session *out,
                       struct sb_err *err)
{
    const struct sb_codec_records *rec = to->codec->records;
    struct sb_codec_record r = {0};
    int64_t now_ms = sb_clock_now_ms();
    int rc;

    if (sb_credential_decode(to, token, strlen(token), ctx, out, err) != 0)
        return -1;
    if (rec == NULL)
        return 0;
    if (rec->build(to, m, now_ms, &r, err) != 0) {
        sb_session_reset(out);
        return -1;
    }
    json_decref(out->data);
    out->data = NULL;
    rc = rec->parse(to, r.value, r.value_len, now_ms, out, err);
    sb_codec_record_free(&r);
    return rc;
}

enum sb_bridge_shadow sb_bridge_shadow(const struct sb_config *cfg,
                                       const struct sb_profile *to,
                                       const struct sb_session *s,
                                       const struct sb_codec_ctx *ctx,
                                       char *fields, size_t size)
{
    enum sb_bridge_shadow verdict = SB_SHADOW_NONE;
    struct sb_session m, t;
    json_t *a = NULL, *b = NULL;
    char *token = NULL;
    struct sb_err err;

    if (size > 0)
        fields[0] = '\0';
    sb_session_init(&m);
    sb_session_init(&t);
    if (sb_bridge_encode_for(cfg, to, s, ctx, &token, &m, &err) != 0) {
        if (err.code != SB_ERR_NOMEM)
            verdict = SB_SHADOW_CANNOT_ENCODE;
        goto out;
    }
    if (decode_back(to, token, &m, ctx, &t, &err) != 0) {
        if (err.code == SB_ERR_NOMEM || err.code == SB_ERR_OVERLOADED)
            goto out;
        add_field(fields, size, "", "credential");
        verdict = SB_SHADOW_DISAGREE;
        goto out;
    }
    a = comparable_data(cfg, s->data, s->subject);
    b = comparable_data(cfg, t.data, t.subject);
    if (a == NULL || b == NULL)
        goto out;
    verdict = SB_SHADOW_AGREE;
    if (!same_string(s->subject, t.subject)) {
        add_field(fields, size, "", "subject");
        verdict = SB_SHADOW_DISAGREE;
    }
    if (strcmp(s->sid, t.sid) != 0) {
        add_field(fields, size, "", "sid");
        verdict = SB_SHADOW_DISAGREE;
    }
    if (!json_equal(a, b)) {
        diff_data(a, b, fields, size);
        verdict = SB_SHADOW_DISAGREE;
    }
out:
    json_decref(a);
    json_decref(b);
    free(token);
    sb_session_reset(&m);
    sb_session_reset(&t);
    return verdict;
}
