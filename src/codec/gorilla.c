/* gorilla.c - the `gorilla` format: gorilla/securecookie values as
 * gorilla/sessions' CookieStore writes them (FORMATS.md section 4): HMAC
 * over name|date|value, optional AES-CTR, gob or JSON serializer, key
 * pair rotation. */
#include "gorilla_internal.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gob.h"
#include "mac_internal.h"
#include "sessionbridge/b64.h"
#include "sessionbridge/codec.h"
#include "sessionbridge/crypto.h"
#include "sessionbridge/jsonutil.h"

#define GORILLA_DEFAULT_MAX_AGE (86400 * 30) /* securecookie / sessions */
#define GORILLA_NAME_MAX 256                 /* cookie name bytes */
#define GORILLA_RAW_MAX (SB_COOKIE_MAX / 4 * 3)
#define GORILLA_GO_TYPES_MAX 64

/* One hash/block key pair (securecookie.CodecsFromPairs). */
struct gorilla_pair {
    struct sb_mac_key hash;
    unsigned char block[32];
    size_t block_len;   /* 0: this pair does not encrypt */
    EVP_CIPHER *cipher; /* AES-128/192/256-CTR; owned reference */
};

/* A field whose Go number type the profile pins (go_types). */
struct gorilla_go_type {
    char *field; /* owned */
    char *type;  /* owned; a name sb_gob_is_number_type() accepts */
};

/* What configure() and prepare() build for one gorilla profile. */
struct gorilla_state {
    char *hash_keys_file;  /* owned; NULL = use secrets_file */
    char *block_keys_file; /* owned; NULL = no encryption */
    struct gorilla_go_type *go_types; /* owned array */
    size_t go_type_count;
    int64_t min_age;       /* securecookie MinAge; 0 = off */
    bool json;             /* serializer = json (else gob) */
    struct gorilla_pair *pairs; /* owned; [0] encodes, all decode */
    size_t pair_count;
};

/* go_types = field:type[, field:type...]; may be given more than once. */
static int add_go_types(struct gorilla_state *st, const char *value,
                        struct sb_err *err)
{
    const char *s = value;

    while (*s != '\0') {
        size_t n = strcspn(s, ","), flen;
        const char *colon = memchr(s, ':', n), *f = s, *t;
        struct gorilla_go_type *arr;
        char type[32];

        while (n > 0 && (*f == ' ' || *f == '\t')) {
            f++;
            n--;
        }
        if (colon == NULL || colon == f)
            return sb_err_set(err, SB_ERR_CONFIG,
                              "go_types expects field:type[, field:type]");
        flen = (size_t)(colon - f);
        t = colon + 1;
        n -= flen + 1;
        while (flen > 0 && (f[flen - 1] == ' ' || f[flen - 1] == '\t'))
            flen--;
        if (flen == 0)
            return sb_err_set(err, SB_ERR_CONFIG,
                              "go_types expects field:type[, field:type]");
        while (n > 0 && (*t == ' ' || *t == '\t')) {
            t++;
            n--;
        }
        while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
            n--;
        if (n == 0 || n >= sizeof(type))
            return sb_err_set(err, SB_ERR_CONFIG,
                              "go_types expects field:type[, field:type]");
        memcpy(type, t, n);
        type[n] = '\0';
        if (!sb_gob_is_number_type(type))
            return sb_err_set(err, SB_ERR_CONFIG,
                              "go_types: '%s' is not int, int8, int16, "
                              "int32, int64, uint, uint8, uint16, uint32, "
                              "uint64, float32 or float64", type);
        if (st->go_type_count == GORILLA_GO_TYPES_MAX)
            return sb_err_set(err, SB_ERR_CONFIG,
                              "go_types: more than %d fields",
                              GORILLA_GO_TYPES_MAX);
        arr = realloc(st->go_types, (st->go_type_count + 1) * sizeof(*arr));
        if (arr == NULL)
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        st->go_types = arr;
        arr[st->go_type_count].field = strndup(f, flen);
        arr[st->go_type_count].type = strdup(type);
        st->go_type_count++;
        if (arr[st->go_type_count - 1].field == NULL ||
            arr[st->go_type_count - 1].type == NULL)
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        s += strcspn(s, ",");
        if (*s == ',')
            s++;
    }
    return 0;
}

static int gorilla_configure(struct sb_profile *p, const char *key,
                             const char *value, struct sb_err *err)
{
    struct gorilla_state *st = sb_codec_state(p, sizeof(*st), err);

    if (st == NULL)
        return -1;
    if (strcmp(key, "hash_keys_file") == 0)
        return sb_codec_set_string(&st->hash_keys_file, value, err);
    if (strcmp(key, "block_keys_file") == 0)
        return sb_codec_set_string(&st->block_keys_file, value, err);
    if (strcmp(key, "go_types") == 0)
        return add_go_types(st, value, err);
    if (strcmp(key, "min_age") == 0)
        return sb_codec_parse_seconds(key, value, 0, 10LL * 365 * 86400,
                                      "0 to 10 years", &st->min_age, err);
    return sb_err_set(err, SB_ERR_CONFIG, "unknown key '%s' for format gorilla",
                      key);
}

static void gorilla_release(struct sb_profile *p)
{
    struct gorilla_state *st = p->codec_state;
    size_t i;

    if (st == NULL)
        return;
    for (i = 0; i < st->pair_count; i++) {
        sb_mac_key_clear(&st->pairs[i].hash);
        OPENSSL_cleanse(st->pairs[i].block, sizeof(st->pairs[i].block));
        EVP_CIPHER_free(st->pairs[i].cipher);
    }
    free(st->pairs);
    for (i = 0; i < st->go_type_count; i++) {
        free(st->go_types[i].field);
        free(st->go_types[i].type);
    }
    free(st->go_types);
    free(st->hash_keys_file);
    free(st->block_keys_file);
    free(st);
    p->codec_state = NULL;
}

/* Loads the key pairs: hash key N (hash_keys_file, else secrets_file) with
 * block key N (block_keys_file line N; "-" = none). */
static int load_pairs(struct sb_profile *p, struct gorilla_state *st,
                      enum sb_digest digest, struct sb_err *err)
{
    static const char *const ctr_names[] = {"AES-128-CTR", "AES-192-CTR",
                                            "AES-256-CTR"};
    struct sb_secret_list hash = {0}, block = {0};
    const struct sb_secret_list *hk = &p->secrets;
    size_t i;
    long n;
    int rc = -1;

    if (st->hash_keys_file != NULL) {
        if (sb_secrets_load_file(st->hash_keys_file, &hash, err) != 0)
            return -1;
        hk = &hash;
    }
    if (hk->count == 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "format gorilla needs hash_keys_file (one hash key "
                          "per line)");
    if (st->block_keys_file != NULL) {
        if (sb_secrets_load_file(st->block_keys_file, &block, err) != 0)
            goto out_clear;
        if (block.count != hk->count) {
            sb_err_set(err, SB_ERR_CONFIG,
                       "block_keys_file has %zu keys and the hash keys %zu; "
                       "line N pairs with hash key N ('-' for none)",
                       block.count, hk->count);
            goto out_clear;
        }
    }
    st->pairs = calloc(hk->count, sizeof(*st->pairs));
    if (st->pairs == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_clear;
    }
    for (i = 0; i < hk->count; i++) {
        struct gorilla_pair *pair = &st->pairs[i];
        if (sb_mac_key_init(&pair->hash, digest, hk->items[i].bytes,
                            hk->items[i].len, err) != 0)
            goto out_clear;
        st->pair_count++;
        if (i >= block.count ||
            (block.items[i].len == 1 && block.items[i].bytes[0] == '-'))
            continue;
        n = (long)block.items[i].len;
        if (n != 16 && n != 24 && n != 32) {
            sb_err_set(err, SB_ERR_CONFIG,
                       "block key %zu is %ld bytes; AES needs 16, 24 or 32",
                       i + 1, n);
            goto out_clear;
        }
        memcpy(pair->block, block.items[i].bytes, (size_t)n);
        pair->block_len = (size_t)n;
        pair->cipher = EVP_CIPHER_fetch(NULL, ctr_names[n / 8 - 2], NULL);
        if (pair->cipher == NULL) {
            sb_err_set(err, SB_ERR_INTERNAL, "OpenSSL has no %s",
                       ctr_names[n / 8 - 2]);
            goto out_clear;
        }
    }
    rc = 0;
out_clear:
    sb_secrets_clear(&hash);
    sb_secrets_clear(&block);
    return rc;
}

/* Loads the keys and fills gorilla/sessions' defaults: MaxAge 30 days for
 * both the timestamp check and the cookie, subject field user_id.  The
 * cookie name (the session name) has no default. */
static int gorilla_prepare(struct sb_profile *p, struct sb_err *err)
{
    struct gorilla_state *st = sb_codec_state(p, sizeof(*st), err);
    enum sb_digest digest = SB_SHA256;

    if (st == NULL)
        return -1;
    if (p->digest != NULL && sb_digest_parse(p->digest, &digest, err) != 0)
        return -1;
    if (p->serializer == NULL || strcmp(p->serializer, "gob") == 0)
        st->json = false;
    else if (strcmp(p->serializer, "json") == 0)
        st->json = true;
    else
        return sb_err_set(err, SB_ERR_CONFIG,
                          "serializer '%s' is not gob or json", p->serializer);
    if (p->cookie.name != NULL && strlen(p->cookie.name) > GORILLA_NAME_MAX)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "cookie_name is longer than %d bytes",
                          GORILLA_NAME_MAX);
    if (load_pairs(p, st, digest, err) != 0)
        return -1;
    if (p->max_age == 0)
        p->max_age = GORILLA_DEFAULT_MAX_AGE;
    if (p->cookie.max_age == -2)
        p->cookie.max_age = p->max_age;
    return sb_codec_default_string(&p->subject_field, "user_id", err);
}

/* ---- decode ------------------------------------------------------------ */

/* Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits. */
static int parse_ts(const unsigned char *s, size_t n, int64_t *out)
{
    uint64_t v = 0, limit = INT64_MAX;
    bool neg = false;
    size_t i = 0;

    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        limit += neg;
        i = 1;
    }
    if (i == n)
        return -1;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (limit - (s[i] - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* AES-CTR with the pair's block key and iv over in[0..n) into out (the
 * same operation both ways). */
static int aes_ctr(const struct gorilla_pair *pair, const unsigned char *iv,
                   const unsigned char *in, size_t n, unsigned char *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, ok;

    ok = c != NULL &&
         EVP_EncryptInit_ex2(c, pair->cipher, pair->block, iv, NULL) == 1 &&
         EVP_EncryptUpdate(c, out, &len, in, (int)n) == 1 && (size_t)len == n;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

/* Decrypts (when the pair has a block key) and deserializes a verified
 * value into a new object *data. */
static int open_value(const struct gorilla_state *st,
                      const struct gorilla_pair *pair,
                      const unsigned char *val, size_t n, json_t **data,
                      struct sb_err *err)
{
    unsigned char plain[GORILLA_RAW_MAX];

    *data = NULL;
    if (pair->block_len != 0) {
        if (n <= SB_GORILLA_IV_LEN)
            return sb_err_set(err, SB_ERR_MALFORMED,
                              "gorilla: the encrypted value is %zu bytes, "
                              "too short for its IV", n);
        if (aes_ctr(pair, val, val + SB_GORILLA_IV_LEN,
                    n - SB_GORILLA_IV_LEN, plain) != 0)
            return sb_err_set(err, SB_ERR_INTERNAL, "AES-CTR failed");
        val = plain;
        n -= SB_GORILLA_IV_LEN;
    }
    if (!st->json)
        return sb_gob_decode_values(val, n, data, err);
    /* json.Unmarshal ignores the Encoder's trailing newline */
    while (n > 0 && (val[n - 1] == '\n' || val[n - 1] == ' ' ||
                     val[n - 1] == '\r' || val[n - 1] == '\t'))
        n--;
    *data = sb_json_parse((const char *)val, n, SB_ERR_MALFORMED,
                          "gorilla JSON value", err);
    if (*data == NULL)
        return -1;
    if (!json_is_object(*data)) {
        json_decref(*data);
        *data = NULL;
        return sb_err_set(err, SB_ERR_UNSUPPORTED,
                          "gorilla JSON value is not an object");
    }
    return 0;
}

/* Replaces the typed form {" T": x} of every go_types field by x, so a
 * field the profile pins reads as a plain number. */
static int untype_fields(const struct gorilla_state *st, json_t *data)
{
    char tag[40];
    size_t i;

    for (i = 0; i < st->go_type_count; i++) {
        json_t *v = json_object_get(data, st->go_types[i].field), *x;
        snprintf(tag, sizeof(tag), " %s", st->go_types[i].type);
        if (!json_is_object(v) || json_object_size(v) != 1 ||
            (x = json_object_get(v, tag)) == NULL)
            continue;
        if (json_object_set(data, st->go_types[i].field, x) != 0)
            return -1;
    }
    return 0;
}

/* The subject from a typed integer ({" int64": 42}) in the subject field;
 * plain strings and integers are left to the generic mapping. */
static int typed_subject(const struct sb_profile *p, struct sb_session *out,
                         struct sb_err *err)
{
    json_t *v = json_object_get(out->data, p->subject_field);
    void *it;
    char num[32];

    if (!json_is_object(v) || json_object_size(v) != 1)
        return 0;
    it = json_object_iter(v);
    if (json_object_iter_key(it)[0] != ' ' ||
        !json_is_integer(json_object_iter_value(it)))
        return 0;
    snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_iter_value(it)));
    return sb_session_set_subject(out, num, err);
}

/* securecookie.DecodeMulti: base64, split date|value|mac, MAC over
 * name|date|value with each hash key in turn, the age checks, then
 * decrypt and deserialize with the first pair that verifies (trying later
 * pairs with the same hash key when that fails, as DecodeMulti does). */
static int gorilla_decode(const struct sb_profile *p, const char *token,
                          size_t len, const struct sb_codec_ctx *ctx,
                          struct sb_session *out, struct sb_err *err)
{
    const struct gorilla_state *st = p->codec_state;
    unsigned char raw[GORILLA_RAW_MAX], val[GORILLA_RAW_MAX];
    unsigned char mac[SB_DIGEST_MAX];
    char msg[GORILLA_NAME_MAX + 1 + GORILLA_RAW_MAX];
    const unsigned char *bar1, *bar2, *mac_part;
    size_t name_len, signed_len, mac_len, i;
    struct sb_err first = {0}, e;
    json_t *data = NULL;
    long n, vlen = -1;
    int64_t ts = 0;
    bool matched = false;

    if (p->cookie.name == NULL)
        return sb_err_set(err, SB_ERR_CONFIG, "gorilla profile has no "
                          "cookie_name");
    if (len > SB_COOKIE_MAX)
        return sb_err_set(err, SB_ERR_TOO_LARGE,
                          "gorilla cookie is %zu bytes; securecookie's limit "
                          "is %d", len, SB_COOKIE_MAX);
    n = sb_b64_decode(SB_B64_URL_PAD, token, len, raw);
    if (n < 0)
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "gorilla cookie is not padded URL-safe base64");
    bar1 = memchr(raw, '|', (size_t)n);
    bar2 = bar1 ? memchr(bar1 + 1, '|', (size_t)(raw + n - bar1 - 1)) : NULL;
    if (bar2 == NULL)
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "gorilla cookie does not hold date|value|mac");
    signed_len = (size_t)(bar2 - raw);
    mac_part = bar2 + 1;
    mac_len = (size_t)n - signed_len - 1;
    name_len = strlen(p->cookie.name);
    memcpy(msg, p->cookie.name, name_len);
    msg[name_len] = '|';
    memcpy(msg + name_len + 1, raw, signed_len);
    for (i = 0; i < st->pair_count; i++) {
        const struct gorilla_pair *pair = &st->pairs[i];
        size_t m = sb_mac_compute(&pair->hash, msg, name_len + 1 + signed_len,
                                  mac);
        if (m == 0)
            return sb_err_set(err, SB_ERR_INTERNAL, "HMAC failed");
        if (m != mac_len || !sb_ct_equal(mac, mac_part, m))
            continue;
        if (!matched) {
            matched = true;
            if (parse_ts(raw, (size_t)(bar1 - raw), &ts) != 0)
                return sb_err_set(err, SB_ERR_MALFORMED,
                                  "gorilla cookie has an invalid timestamp");
            if (st->min_age != 0 && ts > ctx->now - st->min_age)
                return sb_err_set(err, SB_ERR_NOT_YET_VALID,
                                  "gorilla cookie timestamp is too new");
            if (p->max_age != 0 && ts < ctx->now - p->max_age)
                return sb_err_set(err, SB_ERR_EXPIRED,
                                  "gorilla cookie expired %" PRId64 " s ago "
                                  "(max_age %" PRId64 ")",
                                  ctx->now - p->max_age - ts, p->max_age);
            vlen = sb_b64_decode(SB_B64_URL_PAD, (const char *)bar1 + 1,
                                 (size_t)(bar2 - bar1 - 1), val);
            if (vlen < 0)
                return sb_err_set(err, SB_ERR_MALFORMED,
                                  "gorilla cookie value is not padded "
                                  "URL-safe base64");
        }
        sb_err_clear(&e);
        if (open_value(st, pair, val, (size_t)vlen, &data, &e) == 0)
            break;
        if (first.code == SB_OK)
            first = e;
    }
    if (!matched)
        return sb_err_set(err, SB_ERR_BAD_SIGNATURE,
                          "gorilla cookie MAC does not verify with any of "
                          "%zu hash keys", st->pair_count);
    if (data == NULL) {
        if (err != NULL)
            *err = first;
        return -1;
    }
    out->data = data;
    out->issued_at = ts;
    out->expires_at = p->max_age != 0 ? ts + p->max_age : 0;
    if (untype_fields(st, data) != 0)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    return p->subject_field != NULL ? typed_subject(p, out, err) : 0;
}

/* ---- encode ------------------------------------------------------------ */

/* A shallow copy of data with every go_types field holding a plain
 * number (or a decimal string, as a subject may be) in its typed form. */
static json_t *type_fields(const struct gorilla_state *st, const json_t *data,
                           struct sb_err *err)
{
    json_t *copy = json_copy((json_t *)data);
    char tag[40], *end;
    size_t i;

    if (copy == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (i = 0; i < st->go_type_count; i++) {
        json_t *v = json_object_get(copy, st->go_types[i].field), *x = NULL;
        if (json_is_number(v)) {
            x = json_incref(v);
        } else if (json_is_string(v) && strcmp(st->go_types[i].type, "float32")
                   && strcmp(st->go_types[i].type, "float64")) {
            long long n = strtoll(json_string_value(v), &end, 10);
            if (end != json_string_value(v) && *end == '\0')
                x = json_integer(n);
        }
        if (x == NULL)
            continue;
        snprintf(tag, sizeof(tag), " %s", st->go_types[i].type);
        if (json_object_set_new(copy, st->go_types[i].field,
                                json_pack("{s:o}", tag, x)) != 0) {
            json_decref(copy);
            sb_err_set(err, SB_ERR_NOMEM, "out of memory");
            return NULL;
        }
    }
    return copy;
}

/* The serializer's bytes for data: gob, or encoding/json's Encoder output
 * (sorted keys, <>& escaped, trailing newline). */
static int serialize(const struct gorilla_state *st, const json_t *data,
                     struct sb_buf *b, struct sb_err *err)
{
    if (!json_is_object(data))
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "gorilla session data must be an object");
    if (!st->json)
        return sb_gob_encode_values(data, b, err);
    if (sb_json_dump(data, SB_JSON_GO, b, err) != 0)
        return -1;
    return sb_buf_append(b, "\n", 1) == 0
               ? 0
               : sb_err_set(err, SB_ERR_NOMEM, "out of memory");
}

int sb_gorilla_encode_with_iv(const struct sb_profile *p, const json_t *data,
                              int64_t ts, const unsigned char *iv,
                              char **out, struct sb_err *err)
{
    const struct gorilla_state *st = p->codec_state;
    const struct gorilla_pair *pair = &st->pairs[0];
    unsigned char mac[SB_DIGEST_MAX];
    struct sb_buf ser, msg;
    json_t *typed = NULL;
    unsigned char *sealed = NULL;
    size_t sealed_len, name_len = strlen(p->cookie.name), m;
    char *v = NULL;
    int rc = -1;

    *out = NULL;
    sb_buf_init(&ser);
    sb_buf_init(&msg);
    if (!st->json && st->go_type_count > 0 && json_is_object(data)) {
        typed = type_fields(st, data, err);
        if (typed == NULL)
            return -1;
        data = typed;
    }
    if (serialize(st, data, &ser, err) != 0)
        goto out_free;
    if (ser.len > SB_COOKIE_MAX) {
        sb_err_set(err, SB_ERR_TOO_LARGE,
                   "gorilla value of %zu bytes cannot fit a %d-byte cookie",
                   ser.len, SB_COOKIE_MAX);
        goto out_free;
    }
    sealed_len = ser.len + (pair->block_len ? SB_GORILLA_IV_LEN : 0);
    sealed = malloc(sealed_len);
    v = malloc(sb_b64_encoded_size(sealed_len));
    if (sealed == NULL || v == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    if (pair->block_len != 0) {
        memcpy(sealed, iv, SB_GORILLA_IV_LEN);
        if (aes_ctr(pair, iv, (unsigned char *)ser.data, ser.len,
                    sealed + SB_GORILLA_IV_LEN) != 0) {
            sb_err_set(err, SB_ERR_INTERNAL, "AES-CTR failed");
            goto out_free;
        }
    } else {
        memcpy(sealed, ser.data, ser.len);
    }
    sb_b64_encode(SB_B64_URL_PAD, sealed, sealed_len, v);
    /* name|date|value, MACed; then date|value|mac without the name */
    if (sb_buf_printf(&msg, "%s|%" PRId64 "|%s", p->cookie.name, ts, v) != 0) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    m = sb_mac_compute(&pair->hash, msg.data, msg.len, mac);
    if (m == 0) {
        sb_err_set(err, SB_ERR_INTERNAL, "HMAC failed");
        goto out_free;
    }
    if (sb_buf_append(&msg, "|", 1) != 0 || sb_buf_append(&msg, mac, m) != 0) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    if (sb_b64_encoded_size(msg.len - name_len - 1) - 1 > SB_COOKIE_MAX) {
        sb_err_set(err, SB_ERR_TOO_LARGE,
                   "gorilla cookie would be %zu bytes; securecookie's limit "
                   "is %d", sb_b64_encoded_size(msg.len - name_len - 1) - 1,
                   SB_COOKIE_MAX);
        goto out_free;
    }
    *out = malloc(sb_b64_encoded_size(msg.len - name_len - 1));
    if (*out == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    sb_b64_encode(SB_B64_URL_PAD, msg.data + name_len + 1,
                  msg.len - name_len - 1, *out);
    rc = 0;
out_free:
    free(v);
    free(sealed);
    sb_buf_free(&msg);
    sb_buf_free(&ser);
    json_decref(typed);
    return rc;
}

/* Encodes s at its issued_at (else now).  gorilla has no expiry of its
 * own beyond max_age, so a session that must end sooner (a translated one)
 * gets its timestamp moved back: ts = expires_at - max_age. */
static int gorilla_encode(const struct sb_profile *p,
                          const struct sb_session *s,
                          const struct sb_codec_ctx *ctx, char **out,
                          struct sb_err *err)
{
    const struct gorilla_state *st = p->codec_state;
    unsigned char iv[SB_GORILLA_IV_LEN];
    int64_t ts = s->issued_at > 0 ? s->issued_at : ctx->now;

    *out = NULL;
    if (p->cookie.name == NULL)
        return sb_err_set(err, SB_ERR_CONFIG, "gorilla profile has no "
                          "cookie_name");
    if (s->expires_at > 0 && p->max_age > 0 && ts + p->max_age > s->expires_at)
        ts = s->expires_at - p->max_age;
    if (st->pairs[0].block_len != 0 &&
        sb_random_bytes(iv, sizeof(iv), err) != 0)
        return -1;
    return sb_gorilla_encode_with_iv(p, s->data, ts, iv, out, err);
}

const struct sb_codec sb_codec_gorilla = {
    .name = "gorilla",
    .native_sid = false,
    .cookie_escape = NULL,
    .configure = gorilla_configure,
    .prepare = gorilla_prepare,
    .release = gorilla_release,
    .decode = gorilla_decode,
    .encode = gorilla_encode,
};
