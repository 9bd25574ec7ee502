/* rails.c - the `rails` format: Rails 5.2+ / 6.x / 7.x encrypted cookie
 * store (FORMATS.md section 6): AES-256-GCM with PBKDF2 keys from
 * secret_key_base, the _rails metadata envelope, the JSON serializer. */
#include "rails_internal.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sessionbridge/b64.h"
#include "sessionbridge/codec.h"
#include "sessionbridge/crypto.h"
#include "sessionbridge/jsonutil.h"

#define RAILS_KEY_LEN 32
#define RAILS_TAG_LEN 16
#define RAILS_ITERATIONS 1000
#define RAILS_DEFAULT_SALT "authenticated encrypted cookie"
#define RAILS_RAW_MAX (SB_COOKIE_MAX / 4 * 3)
#define RAILS_KDF_MAX 4
#define RAILS_SID_HEX 32

/* How the session sits in the encrypted plaintext. */
enum rails_envelope {
    RAILS_ENVELOPE_MESSAGE, /* 6.0-7.0:
                               {"_rails":{"message":b64,"exp","pur"}} */
    RAILS_ENVELOPE_DATA,    /* 7.1 use_message_serializer_for_metadata:
                               {"_rails":{"data":{...},"exp"?,"pur"}} */
    RAILS_ENVELOPE_NONE     /* 5.2, or cookie metadata off: the bare JSON */
};

/* What configure() and prepare() build for one rails profile. */
struct rails_state {
    char *secret_key_base_file;      /* owned; NULL = use secrets_file */
    enum sb_digest kdf[RAILS_KDF_MAX]; /* PBKDF2 digests; [0] encrypts */
    size_t kdf_count;
    enum rails_envelope envelope;
    unsigned char (*keys)[RAILS_KEY_LEN]; /* owned; secret x digest, [0]
                                             encrypts, all decrypt */
    size_t key_count;
    EVP_CIPHER *gcm;                 /* AES-256-GCM, fetched once */
};

/* kdf_digest = sha1 | sha256 [, more]: the first derives the key that
 * encrypts, every one derives keys that decrypt (a 6.1 -> 7.0 upgrade
 * rotates "sha256, sha1"). */
static int parse_kdf(struct rails_state *st, const char *value,
                     struct sb_err *err)
{
    char name[16];
    const char *s = value;

    st->kdf_count = 0;
    while (*s != '\0') {
        size_t n;
        while (*s == ' ' || *s == '\t')
            s++;
        n = strcspn(s, ", \t");
        if (n == 0 || n >= sizeof(name) || st->kdf_count == RAILS_KDF_MAX)
            return sb_err_set(err, SB_ERR_CONFIG,
                              "kdf_digest expects sha1 or sha256 (or a "
                              "comma list, the first encrypting)");
        memcpy(name, s, n);
        name[n] = '\0';
        if (sb_digest_parse(name, &st->kdf[st->kdf_count], err) != 0)
            return sb_err_set(err, SB_ERR_CONFIG,
                              "kdf_digest '%s' is not sha1, sha256, sha384 "
                              "or sha512", name);
        st->kdf_count++;
        s += n;
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
    }
    if (st->kdf_count == 0)
        return sb_err_set(err, SB_ERR_CONFIG, "kdf_digest is empty");
    return 0;
}

static int rails_configure(struct sb_profile *p, const char *key,
                           const char *value, struct sb_err *err)
{
    struct rails_state *st = sb_codec_state(p, sizeof(*st), err);

    if (st == NULL)
        return -1;
    if (strcmp(key, "secret_key_base_file") == 0)
        return sb_codec_set_string(&st->secret_key_base_file, value, err);
    if (strcmp(key, "kdf_digest") == 0)
        return parse_kdf(st, value, err);
    if (strcmp(key, "envelope") == 0) {
        if (strcmp(value, "message") == 0)
            st->envelope = RAILS_ENVELOPE_MESSAGE;
        else if (strcmp(value, "data") == 0)
            st->envelope = RAILS_ENVELOPE_DATA;
        else if (strcmp(value, "none") == 0)
            st->envelope = RAILS_ENVELOPE_NONE;
        else
            return sb_err_set(err, SB_ERR_CONFIG,
                              "envelope '%s' is not message (Rails 6.0-7.0), "
                              "data (7.1) or none (5.2)", value);
        return 0;
    }
    return sb_err_set(err, SB_ERR_CONFIG, "unknown key '%s' for format rails",
                      key);
}

static void rails_release(struct sb_profile *p)
{
    struct rails_state *st = p->codec_state;

    if (st == NULL)
        return;
    if (st->keys != NULL)
        OPENSSL_cleanse(st->keys, st->key_count * RAILS_KEY_LEN);
    free(st->keys);
    EVP_CIPHER_free(st->gcm);
    free(st->secret_key_base_file);
    free(st);
    p->codec_state = NULL;
}

/* Derives one key per secret_key_base and KDF digest with
 * ActiveSupport::KeyGenerator's PBKDF2 (1000 iterations, 32 bytes) and
 * fills Rails' defaults: SameSite=Lax, no expire_after, subject field
 * user_id.  The cookie name (the session store's key) has no default. */
static int rails_prepare(struct sb_profile *p, struct sb_err *err)
{
    struct rails_state *st = sb_codec_state(p, sizeof(*st), err);
    struct sb_secret_list file = {0};
    const struct sb_secret_list *secrets = &p->secrets;
    const char *salt = p->salt ? p->salt : RAILS_DEFAULT_SALT;
    size_t i, j;
    int rc = -1;

    if (st == NULL)
        return -1;
    if (p->serializer != NULL && strcmp(p->serializer, "json") != 0 &&
        strcmp(p->serializer, "hybrid") != 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "serializer '%s': only the json cookies serializer "
                          "(or hybrid, which writes JSON) is supported",
                          p->serializer);
    if (p->cookie.name != NULL && strlen(p->cookie.name) > 256)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "cookie_name is longer than 256 bytes");
    if (st->kdf_count == 0) {
        st->kdf[0] = SB_SHA1;
        st->kdf_count = 1;
    }
    if (st->secret_key_base_file != NULL) {
        if (sb_secrets_load_file(st->secret_key_base_file, &file, err) != 0)
            return -1;
        secrets = &file;
    }
    if (secrets->count == 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "format rails needs secret_key_base_file (one "
                          "secret_key_base per line)");
    st->gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    st->keys = calloc(secrets->count * st->kdf_count, RAILS_KEY_LEN);
    if (st->gcm == NULL || st->keys == NULL) {
        sb_err_set(err, st->keys ? SB_ERR_INTERNAL : SB_ERR_NOMEM,
                   st->keys ? "OpenSSL has no AES-256-GCM" : "out of memory");
        goto out_clear;
    }
    for (i = 0; i < secrets->count; i++) {
        for (j = 0; j < st->kdf_count; j++) {
            if (PKCS5_PBKDF2_HMAC((const char *)secrets->items[i].bytes,
                                  (int)secrets->items[i].len,
                                  (const unsigned char *)salt,
                                  (int)strlen(salt), RAILS_ITERATIONS,
                                  sb_digest_md(st->kdf[j]), RAILS_KEY_LEN,
                                  st->keys[st->key_count]) != 1) {
                sb_err_set(err, SB_ERR_INTERNAL, "PBKDF2 failed");
                goto out_clear;
            }
            st->key_count++;
        }
    }
    if (p->cookie.max_age == -2)
        p->cookie.max_age = p->max_age > 0 ? p->max_age : -1;
    if (p->cookie.samesite == SB_SAMESITE_UNSET)
        p->cookie.samesite = SB_SAMESITE_LAX;
    if (sb_codec_default_string(&p->subject_field, "user_id", err) != 0)
        goto out_clear;
    rc = 0;
out_clear:
    sb_secrets_clear(&file);
    return rc;
}

/* ---- time -------------------------------------------------------------- */

/* Ruby's Time.iso8601 for what Rails writes ("2026-11-01T01:00:00.000Z",
 * also other fractions and +hh:mm offsets) into Unix milliseconds,
 * rounding a finer fraction up.  Returns -1 when s is not one. */
static int parse_iso8601_ms(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec, n = 0, frac = 0, digits = 0, oh, om;
    bool round_up = false;
    struct tm tm;
    int64_t t;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
               &n) != 6 || n != 19 || y < 1970 || mo < 1 || mo > 12 ||
        d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
        sec > 60)
        return -1;
    s += 19;
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
            if (digits < 3)
                frac = frac * 10 + (*s - '0');
            else if (*s != '0')
                round_up = true;
        }
        if (digits == 0)
            return -1;
        for (; digits < 3; digits++)
            frac *= 10;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = (int64_t)timegm(&tm);
    if (strcmp(s, "Z") != 0) {
        if ((s[0] != '+' && s[0] != '-') ||
            sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 ||
            s[6] != '\0' || oh > 23 || om > 59)
            return -1;
        t -= (s[0] == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
    }
    *ms = t * 1000 + frac + (round_up ? 1 : 0);
    return 0;
}

/* Time#utc.iso8601(3) of Unix ms into buf (64 bytes). */
static void format_iso8601_ms(int64_t ms, char *buf)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(buf, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* ---- decode ------------------------------------------------------------ */

/* AES-256-GCM open with empty AAD; 0 when the tag verifies. */
static int gcm_open(const struct rails_state *st, const unsigned char *key,
                    const unsigned char *iv, const unsigned char *ct,
                    size_t n, const unsigned char *tag, unsigned char *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0, ok;

    ok = c != NULL && EVP_DecryptInit_ex2(c, st->gcm, key, iv, NULL) == 1 &&
         EVP_DecryptUpdate(c, out, &len, ct, (int)n) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, RAILS_TAG_LEN,
                             (void *)tag) == 1 &&
         EVP_DecryptFinal_ex(c, out + len, &fin) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

/* Serializers the bridge does not read, by their first bytes. */
static int check_serializer(const unsigned char *b, size_t n,
                            struct sb_err *err)
{
    if (n >= 2 && b[0] == 0x04 && b[1] == 0x08)
        return sb_err_set(err, SB_ERR_UNSUPPORTED,
                          "rails cookie holds a Ruby Marshal session "
                          "(cookies_serializer :marshal); only :json is "
                          "supported");
    if (n >= 2 && b[0] == 0xCC && b[1] == 0x80)
        return sb_err_set(err, SB_ERR_UNSUPPORTED,
                          "rails cookie holds a MessagePack session "
                          "(cookies_serializer :message_pack); only :json "
                          "is supported");
    return 0;
}

/* Parses serialized session JSON (Marshal refused) into a new object. */
static json_t *parse_session(const unsigned char *b, size_t n,
                             struct sb_err *err)
{
    json_t *v;

    if (check_serializer(b, n, err) != 0)
        return NULL;
    v = sb_json_parse((const char *)b, n, SB_ERR_MALFORMED,
                      "rails session JSON", err);
    if (v != NULL && !json_is_object(v)) {
        json_decref(v);
        sb_err_set(err, SB_ERR_MALFORMED, "rails session is not a JSON "
                   "object");
        return NULL;
    }
    return v;
}

/* Opens the _rails envelope as Messages::Metadata#verify does, but with
 * the exact purpose required: pur == "cookie.<name>", then exp null or in
 * the future.  *session gets a new reference; *exp_ms is -1 without exp. */
static int open_envelope(const struct sb_profile *p, const json_t *env,
                         int64_t now, json_t **session, int64_t *exp_ms,
                         struct sb_err *err)
{
    unsigned char raw[RAILS_RAW_MAX];
    const json_t *pur, *exp, *msg, *data;
    const char *name = p->cookie.name;
    long n;

    *session = NULL;
    *exp_ms = -1;
    if (!json_is_object(env))
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "rails cookie _rails envelope is not an object");
    pur = json_object_get(env, "pur");
    if (!json_is_string(pur))
        return sb_err_set(err, SB_ERR_INVALID_CLAIM,
                          "rails cookie has no purpose; cookie.%s is "
                          "required", name);
    if (strncmp(json_string_value(pur), "cookie.", 7) != 0 ||
        json_string_length(pur) != 7 + strlen(name) ||
        strcmp(json_string_value(pur) + 7, name) != 0)
        return sb_err_set(err, SB_ERR_INVALID_CLAIM,
                          "rails cookie was made for another purpose than "
                          "cookie.%s", name);
    exp = json_object_get(env, "exp");
    if (exp != NULL && !json_is_null(exp)) {
        if (!json_is_string(exp) ||
            parse_iso8601_ms(json_string_value(exp), exp_ms) != 0)
            return sb_err_set(err, SB_ERR_MALFORMED,
                              "rails cookie exp is not an ISO-8601 time");
        if (now * 1000 >= *exp_ms)
            return sb_err_set(err, SB_ERR_EXPIRED,
                              "rails cookie expired %" PRId64 " s ago",
                              (now * 1000 - *exp_ms) / 1000);
    }
    msg = json_object_get(env, "message");
    data = json_object_get(env, "data");
    if (json_is_string(msg)) {
        if (json_string_length(msg) > SB_COOKIE_MAX ||
            (n = sb_b64_decode(SB_B64_STD_PAD, json_string_value(msg),
                               json_string_length(msg), raw)) < 0)
            return sb_err_set(err, SB_ERR_MALFORMED,
                              "rails cookie message is not strict base64");
        *session = parse_session(raw, (size_t)n, err);
        return *session ? 0 : -1;
    }
    if (json_is_object(data)) {
        *session = json_incref((json_t *)data);
        return 0;
    }
    return sb_err_set(err, SB_ERR_MALFORMED,
                      "rails cookie envelope has neither message nor data");
}

/* Moves session_id (Rails' sid) and the bridge's sid_field out of the
 * data into out->sid; sid_field wins, it holds a canonical sid that is
 * not 32 hex characters.  Both leave the data even when unusable (the
 * encoder writes them from the sid, never from the data). */
static void take_sid(const struct sb_profile *p, json_t *session,
                     struct sb_session *out)
{
    const char *fields[2] = {"session_id", p->sid_field};
    size_t i;

    for (i = 0; i < 2; i++) {
        json_t *v = fields[i] ? json_object_get(session, fields[i]) : NULL;
        if (v == NULL)
            continue;
        if (json_is_string(v) && sb_json_is_c_string(v) &&
            sb_sid_is_valid(json_string_value(v)))
            strcpy(out->sid, json_string_value(v));
        json_object_del(session, fields[i]);
    }
}

/* Splits data--iv--tag, decrypts with each derived key in turn, then
 * opens the envelope (or, with envelope = none, takes the bare JSON). */
static int rails_decode(const struct sb_profile *p, const char *token,
                        size_t len, const struct sb_codec_ctx *ctx,
                        struct sb_session *out, struct sb_err *err)
{
    const struct rails_state *st = p->codec_state;
    unsigned char ct[RAILS_RAW_MAX], plain[RAILS_RAW_MAX];
    unsigned char iv[RAILS_RAW_MAX], tag[RAILS_RAW_MAX];
    const char *d1, *d2;
    json_t *doc, *env, *session = NULL;
    int64_t exp_ms = -1;
    long nct, niv, ntag;
    size_t i;
    bool ok = false;

    if (p->cookie.name == NULL)
        return sb_err_set(err, SB_ERR_CONFIG, "rails profile has no "
                          "cookie_name");
    if (len > SB_COOKIE_MAX)
        return sb_err_set(err, SB_ERR_TOO_LARGE,
                          "rails cookie is %zu bytes; the limit is %d", len,
                          SB_COOKIE_MAX);
    d1 = memmem(token, len, "--", 2);
    d2 = d1 ? memmem(d1 + 2, (size_t)(token + len - d1 - 2), "--", 2) : NULL;
    if (d2 == NULL ||
        memmem(d2 + 2, (size_t)(token + len - d2 - 2), "--", 2) != NULL)
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "rails cookie is not data--iv--tag");
    nct = sb_b64_decode(SB_B64_STD_PAD, token, (size_t)(d1 - token), ct);
    niv = sb_b64_decode(SB_B64_STD_PAD, d1 + 2, (size_t)(d2 - d1 - 2), iv);
    ntag = sb_b64_decode(SB_B64_STD_PAD, d2 + 2,
                         (size_t)(token + len - d2 - 2), tag);
    if (nct <= 0 || niv < 0 || ntag < 0)
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "rails cookie %s is not strict base64",
                          nct <= 0 ? "data" : niv < 0 ? "IV" : "tag");
    if (niv != SB_RAILS_IV_LEN)
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "rails cookie IV is %ld bytes, not %d", niv,
                          SB_RAILS_IV_LEN);
    if (ntag != RAILS_TAG_LEN)
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "rails cookie GCM tag is %ld bytes, not %d", ntag,
                          RAILS_TAG_LEN);
    for (i = 0; i < st->key_count && !ok; i++)
        ok = gcm_open(st, st->keys[i], iv, ct, (size_t)nct, tag, plain) == 0;
    if (!ok)
        return sb_err_set(err, SB_ERR_BAD_SIGNATURE,
                          "rails cookie does not decrypt with any of %zu "
                          "keys (GCM tag mismatch)", st->key_count);
    if (check_serializer(plain, (size_t)nct, err) != 0)
        return -1;
    doc = sb_json_parse((const char *)plain, (size_t)nct, SB_ERR_MALFORMED,
                        "rails cookie plaintext", err);
    if (doc == NULL)
        return -1;
    env = json_is_object(doc) ? json_object_get(doc, "_rails") : NULL;
    if (env != NULL) {
        if (open_envelope(p, env, ctx->now, &session, &exp_ms, err) != 0)
            goto err_free;
    } else if (st->envelope != RAILS_ENVELOPE_NONE) {
        sb_err_set(err, SB_ERR_INVALID_CLAIM,
                   "rails cookie has no _rails envelope, so no purpose "
                   "(envelope = none reads such cookies)");
        goto err_free;
    } else if (!json_is_object(doc)) {
        sb_err_set(err, SB_ERR_MALFORMED, "rails session is not a JSON "
                   "object");
        goto err_free;
    } else {
        session = json_incref(doc);
    }
    json_decref(doc);
    take_sid(p, session, out);
    out->data = session;
    out->expires_at = exp_ms < 0 ? 0 : (exp_ms + 999) / 1000;
    return 0;

err_free:
    json_decref(doc);
    return -1;
}

/* ---- encode ------------------------------------------------------------ */

static bool is_rails_sid(const char *sid)
{
    return strlen(sid) == RAILS_SID_HEX &&
           strspn(sid, "0123456789abcdef") == RAILS_SID_HEX;
}

/* Rails' session_id for s: its sid when that is 32 lower-case hex; for
 * another canonical sid, 32 hex characters derived from it (the same sid
 * always gives the same id) with *keep_sid set so the canonical sid also
 * travels in sid_field; with no sid, a random one. */
static int session_id_for(const struct sb_session *s, char *hex,
                          bool *keep_sid, struct sb_err *err)
{
    static const char label[] = "sessionbridge rails session_id";
    unsigned char md[SB_DIGEST_MAX];
    const void *parts[2] = {label, s->sid};
    size_t lens[2] = {sizeof(label), strlen(s->sid)};

    *keep_sid = false;
    if (is_rails_sid(s->sid)) {
        strcpy(hex, s->sid);
        return 0;
    }
    if (s->sid[0] == '\0') {
        if (sb_random_bytes(md, RAILS_SID_HEX / 2, err) != 0)
            return -1;
    } else {
        sb_hash(SB_SHA256, parts, lens, 2, md);
        *keep_sid = true;
    }
    sb_hex_encode(md, RAILS_SID_HEX / 2, hex);
    return 0;
}

/* The session hash as Rails keeps it: session_id first, then the data in
 * its order.  A new reference. */
static json_t *session_hash(const struct sb_profile *p,
                            const struct sb_session *s, struct sb_err *err)
{
    char hex[RAILS_SID_HEX + 1];
    json_t *h, *v;
    const char *k;
    bool keep_sid;

    if (session_id_for(s, hex, &keep_sid, err) != 0)
        return NULL;
    h = json_pack("{s:s}", "session_id", hex);
    if (h == NULL)
        goto err_nomem;
    json_object_foreach(s->data, k, v) {
        if (strcmp(k, "session_id") == 0 ||
            (p->sid_field != NULL && strcmp(k, p->sid_field) == 0))
            continue;
        if (json_object_set(h, k, v) != 0)
            goto err_nomem;
    }
    if (keep_sid && p->sid_field != NULL &&
        json_object_set_new(h, p->sid_field, json_string(s->sid)) != 0)
        goto err_nomem;
    return h;

err_nomem:
    json_decref(h);
    sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    return NULL;
}

/* The plaintext: Messages::Metadata's envelope around the session JSON,
 * keys in Rails' order, written by ActiveSupport::JSON. */
static int build_plaintext(const struct sb_profile *p,
                           const struct rails_state *st, json_t *session,
                           int64_t exp_ms, struct sb_buf *out,
                           struct sb_err *err)
{
    struct sb_buf inner;
    char *b64 = NULL, exp[64], pur[300];
    json_t *env = NULL, *meta;
    int rc = -1;

    if (st->envelope == RAILS_ENVELOPE_NONE)
        return sb_json_dump(session, SB_JSON_RUBY, out, err);
    snprintf(pur, sizeof(pur), "cookie.%s", p->cookie.name);
    if (exp_ms >= 0)
        format_iso8601_ms(exp_ms, exp);
    sb_buf_init(&inner);
    if (st->envelope == RAILS_ENVELOPE_MESSAGE) {
        if (sb_json_dump(session, SB_JSON_RUBY, &inner, err) != 0)
            goto out_free;
        b64 = malloc(sb_b64_encoded_size(inner.len));
        if (b64 == NULL)
            goto err_nomem;
        sb_b64_encode(SB_B64_STD_PAD, inner.data, inner.len, b64);
        meta = json_pack("{s:s, s:o, s:s}", "message", b64, "exp",
                         exp_ms >= 0 ? json_string(exp) : json_null(),
                         "pur", pur);
    } else if (exp_ms >= 0) {
        meta = json_pack("{s:O, s:s, s:s}", "data", session, "exp", exp,
                         "pur", pur);
    } else {
        meta = json_pack("{s:O, s:s}", "data", session, "pur", pur);
    }
    env = meta ? json_pack("{s:o}", "_rails", meta) : NULL;
    if (env == NULL)
        goto err_nomem;
    rc = sb_json_dump(env, SB_JSON_RUBY, out, err);
    goto out_free;

err_nomem:
    sb_err_set(err, SB_ERR_NOMEM, "out of memory");
out_free:
    json_decref(env);
    free(b64);
    sb_buf_free(&inner);
    return rc;
}

int sb_rails_encode_with_iv(const struct sb_profile *p,
                            const struct sb_session *s, int64_t now,
                            const unsigned char *iv, char **out,
                            struct sb_err *err)
{
    const struct rails_state *st = p->codec_state;
    unsigned char tag[RAILS_TAG_LEN], *ct = NULL;
    struct sb_buf pt, tok;
    EVP_CIPHER_CTX *c = NULL;
    json_t *session;
    int64_t exp_ms = -1;
    int len = 0, fin = 0, rc = -1;

    *out = NULL;
    if (p->cookie.name == NULL)
        return sb_err_set(err, SB_ERR_CONFIG, "rails profile has no "
                          "cookie_name");
    if (!json_is_object(s->data))
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "rails session data must be an object");
    if (s->expires_at > 0)
        exp_ms = s->expires_at * 1000;
    else if (p->max_age > 0)
        exp_ms = (now + p->max_age) * 1000;
    session = session_hash(p, s, err);
    if (session == NULL)
        return -1;
    sb_buf_init(&pt);
    sb_buf_init(&tok);
    if (build_plaintext(p, st, session, exp_ms, &pt, err) != 0)
        goto out_free;
    if (pt.len > RAILS_RAW_MAX) {
        sb_err_set(err, SB_ERR_TOO_LARGE,
                   "rails session of %zu bytes cannot fit a %d-byte cookie",
                   pt.len, SB_COOKIE_MAX);
        goto out_free;
    }
    ct = malloc(pt.len + 16);
    c = EVP_CIPHER_CTX_new();
    if (ct == NULL || c == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    if (EVP_EncryptInit_ex2(c, st->gcm, st->keys[0], iv, NULL) != 1 ||
        EVP_EncryptUpdate(c, ct, &len, (unsigned char *)pt.data,
                          (int)pt.len) != 1 ||
        EVP_EncryptFinal_ex(c, ct + len, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, RAILS_TAG_LEN, tag) !=
            1) {
        sb_err_set(err, SB_ERR_INTERNAL, "AES-256-GCM failed");
        goto out_free;
    }
    {
        size_t n = (size_t)(len + fin);
        char *b = malloc(sb_b64_encoded_size(n) + 64);
        if (b == NULL) {
            sb_err_set(err, SB_ERR_NOMEM, "out of memory");
            goto out_free;
        }
        sb_b64_encode(SB_B64_STD_PAD, ct, n, b);
        rc = sb_buf_append_str(&tok, b);
        sb_b64_encode(SB_B64_STD_PAD, iv, SB_RAILS_IV_LEN, b);
        rc |= sb_buf_append_str(&tok, "--") | sb_buf_append_str(&tok, b);
        sb_b64_encode(SB_B64_STD_PAD, tag, RAILS_TAG_LEN, b);
        rc |= sb_buf_append_str(&tok, "--") | sb_buf_append_str(&tok, b);
        free(b);
        if (rc != 0) {
            rc = -1;
            sb_err_set(err, SB_ERR_NOMEM, "out of memory");
            goto out_free;
        }
    }
    rc = -1;
    if (tok.len > SB_COOKIE_MAX) {
        sb_err_set(err, SB_ERR_TOO_LARGE,
                   "rails cookie would be %zu bytes; Rails raises "
                   "CookieOverflow past %d", tok.len, SB_COOKIE_MAX);
        goto out_free;
    }
    *out = sb_buf_steal(&tok, NULL);
    rc = 0;
out_free:
    EVP_CIPHER_CTX_free(c);
    free(ct);
    sb_buf_free(&tok);
    sb_buf_free(&pt);
    json_decref(session);
    return rc;
}

static int rails_encode(const struct sb_profile *p,
                        const struct sb_session *s,
                        const struct sb_codec_ctx *ctx, char **out,
                        struct sb_err *err)
{
    unsigned char iv[SB_RAILS_IV_LEN];

    *out = NULL;
    if (sb_random_bytes(iv, sizeof(iv), err) != 0)
        return -1;
    return sb_rails_encode_with_iv(p, s, ctx->now, iv, out, err);
}

const struct sb_codec sb_codec_rails = {
    .name = "rails",
    .native_sid = true,
    .cookie_escape = "+/=",
    .configure = rails_configure,
    .prepare = rails_prepare,
    .release = rails_release,
    .decode = rails_decode,
    .encode = rails_encode,
};
