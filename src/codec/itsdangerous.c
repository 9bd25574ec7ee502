/* itsdangerous.c - the timestamp signer shared by the flask, starlette and
 * django formats: key derivation, split from the right, MAC check, TS
 * encodings, the age rule and the '.'-marks-zlib payload
 * (FORMATS.md sections 1-3). */
#include "itsdangerous_internal.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "sessionbridge/b64.h"
#include "sessionbridge/codec.h"
#include "sessionbridge/crypto.h"
#include "sessionbridge/zbuf.h"

#define TS_B64_MAX 11    /* b64url_nopad of 8 bytes */
#define TS_B62_MAX 11    /* 62^11 > 2^63 */
#define SIG_B64_MAX 86   /* b64url_nopad of SB_DIGEST_MAX bytes */

static const char b62_digits[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

int sb_itsd_signer_add_keys(struct sb_itsd_signer *s,
                            const struct sb_secret_list *secrets,
                            enum sb_digest d, enum sb_itsd_kdf kdf,
                            const char *salt, struct sb_err *err)
{
    unsigned char key[SB_DIGEST_MAX];
    struct sb_mac_key *keys;
    size_t i, n = 0;
    int rc = -1;

    keys = realloc(s->keys, (s->key_count + secrets->count) * sizeof(*keys));
    if (keys == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    s->keys = keys;
    for (i = 0; i < secrets->count; i++) {
        const struct sb_secret *sec = &secrets->items[i];
        if (kdf == SB_ITSD_KDF_HMAC) {
            n = sb_hmac(d, sec->bytes, sec->len, salt, strlen(salt), key);
        } else {
            const void *parts[3] = {salt, "signer", sec->bytes};
            size_t lens[3] = {strlen(salt), 6, sec->len};
            n = sb_hash(d, parts, lens, 3, key);
        }
        if (n == 0) {
            sb_err_set(err, SB_ERR_INTERNAL, "key derivation failed");
            goto out_wipe;
        }
        if (sb_mac_key_init(&s->keys[s->key_count], d, key, n, err) != 0)
            goto out_wipe;
        s->key_count++;
    }
    rc = 0;
out_wipe:
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

void sb_itsd_signer_clear(struct sb_itsd_signer *s)
{
    size_t i;

    for (i = 0; i < s->key_count; i++)
        sb_mac_key_clear(&s->keys[i]);
    free(s->keys);
    memset(s, 0, sizeof(*s));
}

/* itsdangerous TS: b64url_nopad of a big-endian integer (0 to 8 bytes). */
static int ts_b64_decode(const char *ts, size_t n, int64_t *out)
{
    unsigned char raw[TS_B64_MAX];
    uint64_t v = 0;
    long m, i;

    if (n > TS_B64_MAX)
        return -1;
    m = sb_b64_decode(SB_B64_URL_NOPAD, ts, n, raw);
    if (m < 0 || m > 8)
        return -1;
    for (i = 0; i < m; i++)
        v = v << 8 | raw[i];
    if (v > INT64_MAX)
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* Django TS: base62, with Django's optional leading '-'. */
static int ts_b62_decode(const char *ts, size_t n, int64_t *out)
{
    int64_t v = 0;
    bool neg = n > 0 && ts[0] == '-';
    size_t i = neg ? 1 : 0;

    if (n == i || n - i > TS_B62_MAX)
        return -1;
    for (; i < n; i++) {
        const char *d = ts[i] != '\0' ? strchr(b62_digits, ts[i]) : NULL;
        if (d == NULL || v > (INT64_MAX - (d - b62_digits)) / 62)
            return -1;
        v = v * 62 + (d - b62_digits);
    }
    *out = neg ? -v : v;
    return 0;
}

/* Writes TS for t (>= 0) into buf (TS_B64_MAX + 1 bytes); returns length. */
static size_t ts_encode(enum sb_itsd_ts style, int64_t t, char *buf)
{
    unsigned char raw[8];
    char tmp[TS_B62_MAX];
    size_t n = 0, i;
    uint64_t v = (uint64_t)t;

    if (style == SB_ITSD_TS_BASE62) {
        do {
            tmp[n++] = b62_digits[v % 62];
            v /= 62;
        } while (v != 0);
        for (i = 0; i < n; i++)
            buf[i] = tmp[n - 1 - i];
        buf[n] = '\0';
        return n;
    }
    for (i = 8; i-- > 0;) {
        raw[i] = (unsigned char)(v & 0xFF);
        v >>= 8;
    }
    while (n < 8 && raw[n] == 0)
        n++;
    return sb_b64_encode(SB_B64_URL_NOPAD, raw + n, 8 - n, buf);
}

/* memrchr over [0..n), or NULL. */
static const char *find_last(const char *s, size_t n, char c)
{
    return n > 0 ? memrchr(s, c, n) : NULL;
}

int sb_itsd_unsign(const struct sb_itsd_signer *s, const char *what,
                   const char *token, size_t len, struct sb_itsd_parts *out,
                   struct sb_err *err)
{
    unsigned char raw[SB_DIGEST_MAX + 3], mac[SB_DIGEST_MAX];
    const char *sig_sep, *ts_sep, *ts;
    size_t signed_len, sig_len, ts_len, i;
    long raw_len;
    bool ok = false;

    if (len > SB_COOKIE_MAX)
        return sb_err_set(err, SB_ERR_TOO_LARGE,
                          "%s is %zu bytes; the limit is %d", what, len,
                          SB_COOKIE_MAX);
    sig_sep = find_last(token, len, s->sep);
    if (sig_sep == NULL)
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "%s has no '%c' before its signature", what, s->sep);
    signed_len = (size_t)(sig_sep - token);
    sig_len = len - signed_len - 1;
    ts_sep = find_last(token, signed_len, s->sep);
    if (ts_sep == NULL)
        return sb_err_set(err, SB_ERR_MALFORMED, "%s has no timestamp", what);
    if (sig_len == 0 || sig_len > SIG_B64_MAX ||
        (raw_len = sb_b64_decode(SB_B64_URL_NOPAD, sig_sep + 1, sig_len,
                                 raw)) <= 0)
        return sb_err_set(err, SB_ERR_BAD_SIGNATURE,
                          "%s signature is not base64url of a MAC", what);
    for (i = 0; i < s->key_count && !ok; i++) {
        if (sb_digest_size(s->keys[i].digest) != (size_t)raw_len)
            continue;
        if (sb_mac_compute(&s->keys[i], token, signed_len, mac) !=
            (size_t)raw_len)
            return sb_err_set(err, SB_ERR_INTERNAL, "HMAC failed");
        ok = sb_ct_equal(mac, raw, (size_t)raw_len);
    }
    if (!ok)
        return sb_err_set(err, SB_ERR_BAD_SIGNATURE,
                          "%s signature does not match any configured secret",
                          what);
    ts = ts_sep + 1;
    ts_len = signed_len - (size_t)(ts - token);
    if ((s->ts_style == SB_ITSD_TS_BASE62 ? ts_b62_decode(ts, ts_len, &out->ts)
                                         : ts_b64_decode(ts, ts_len, &out->ts))
        != 0)
        return sb_err_set(err, SB_ERR_MALFORMED, "%s has a malformed timestamp",
                          what);
    out->value = token;
    out->value_len = (size_t)(ts_sep - token);
    return 0;
}

int sb_itsd_sign(const struct sb_itsd_signer *s, int64_t issued_at,
                 int64_t now, struct sb_buf *b, char **out, struct sb_err *err)
{
    unsigned char mac[SB_DIGEST_MAX];
    char tsbuf[TS_B64_MAX + 1], sig[SIG_B64_MAX + 3];
    int64_t ts = issued_at > 0 ? issued_at : now;
    size_t n, ts_len;

    *out = NULL;
    if (s->key_count == 0 || ts < 0)
        return sb_err_set(err, SB_ERR_INTERNAL,
                          "no signing key or a negative timestamp");
    ts_len = ts_encode(s->ts_style, ts, tsbuf);
    if (sb_buf_append(b, &s->sep, 1) != 0 ||
        sb_buf_append(b, tsbuf, ts_len) != 0)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    n = sb_mac_compute(&s->keys[0], b->data, b->len, mac);
    if (n == 0)
        return sb_err_set(err, SB_ERR_INTERNAL, "HMAC failed");
    n = sb_b64_encode(SB_B64_URL_NOPAD, mac, n, sig);
    if (sb_buf_append(b, &s->sep, 1) != 0 || sb_buf_append(b, sig, n) != 0)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    *out = sb_buf_steal(b, NULL);
    return *out ? 0 : sb_err_set(err, SB_ERR_NOMEM, "out of memory");
}

int sb_itsd_check_age(const char *what, int64_t ts, int64_t now,
                      int64_t max_age, bool reject_future,
                      struct sb_err *err)
{
    int64_t age;

    if (__builtin_sub_overflow(now, ts, &age))
        age = ts < 0 ? INT64_MAX : INT64_MIN;
    if (age > max_age)
        return sb_err_set(err, SB_ERR_EXPIRED,
                          "%s is %lld s old; max_age is %lld s", what,
                          (long long)age, (long long)max_age);
    if (reject_future && age < 0)
        return sb_err_set(err, SB_ERR_NOT_YET_VALID,
                          "%s timestamp is in the future (the framework "
                          "rejects those)", what);
    return 0;
}

int sb_itsd_payload_decode(const char *what, const char *value, size_t len,
                           unsigned char **out, size_t *out_len,
                           struct sb_err *err)
{
    bool compressed = len > 0 && value[0] == '.';
    unsigned char *raw;
    long n;
    int rc;

    *out = NULL;
    *out_len = 0;
    if (compressed) {
        value++;
        len--;
    }
    raw = malloc(sb_b64_decoded_max(len) + 1);
    if (raw == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    n = sb_b64_decode(SB_B64_URL_NOPAD, value, len, raw);
    if (n < 0) {
        free(raw);
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "%s payload is not base64url", what);
    }
    if (!compressed) {
        raw[n] = '\0';
        *out = raw;
        *out_len = (size_t)n;
        return 0;
    }
    rc = sb_zlib_inflate(raw, (size_t)n, SB_DECOMPRESSED_MAX, out, out_len,
                         err);
    free(raw);
    return rc;
}

/* This thread's deflate stream, kept between calls: deflateInit allocates
 * and clears about 270 KB, which would dominate every encode. */
struct itsd_deflater {
    z_stream zs;
};

static pthread_once_t deflater_once = PTHREAD_ONCE_INIT;
static pthread_key_t deflater_key;
static _Thread_local struct itsd_deflater *deflater_tls; /* a root for LSan */

/* pthread key destructor: frees a finished thread's stream. */
static void deflater_free(void *arg)
{
    struct itsd_deflater *d = arg;

    deflateEnd(&d->zs);
    free(d);
}

static void deflater_key_init(void)
{
    pthread_key_create(&deflater_key, deflater_free);
}

/* This thread's stream, reset; NULL when it cannot be created. */
static z_stream *thread_deflater(void)
{
    struct itsd_deflater *d = deflater_tls;

    if (d != NULL) {
        deflateReset(&d->zs);
        return &d->zs;
    }
    pthread_once(&deflater_once, deflater_key_init);
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    /* The parameters of zlib.compress(data) and compress2(level 6). */
    if (deflateInit(&d->zs, Z_DEFAULT_COMPRESSION) != Z_OK) {
        free(d);
        return NULL;
    }
    deflater_tls = d;
    pthread_setspecific(deflater_key, d);
    return &d->zs;
}

/* zlib.compress(src): a new buffer *out of *out_len bytes. */
static int deflate_python(const char *src, size_t n, unsigned char **out,
                          size_t *out_len, struct sb_err *err)
{
    z_stream *zs = thread_deflater();
    unsigned char *buf;
    size_t cap;

    if (zs == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "zlib: out of memory");
    cap = deflateBound(zs, (uLong)n);
    buf = malloc(cap);
    if (buf == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "zlib: out of memory");
    zs->next_in = (unsigned char *)src;
    zs->avail_in = (uInt)n;
    zs->next_out = buf;
    zs->avail_out = (uInt)cap;
    if (deflate(zs, Z_FINISH) != Z_STREAM_END) {
        free(buf);
        return sb_err_set(err, SB_ERR_INTERNAL, "zlib: compress failed");
    }
    *out = buf;
    *out_len = zs->total_out;
    return 0;
}

/* Appends the payload for json[0..len) to b: '.' b64url_nopad(zlib(json))
 * when that is shorter than len - 1 bytes of zlib output (the rule both
 * itsdangerous and Django apply), else b64url_nopad(json). */
static int payload_encode(const char *json, size_t len, struct sb_buf *b,
                          struct sb_err *err)
{
    unsigned char *z = NULL;
    const void *src = json;
    size_t zlen = 0, n = len;
    char *text = NULL;
    int rc = -1;

    if (deflate_python(json, len, &z, &zlen, err) != 0)
        return -1;
    if (zlen + 1 < len) {
        src = z;
        n = zlen;
    }
    text = malloc(sb_b64_encoded_size(n));
    if (text == NULL)
        goto err_nomem;
    n = sb_b64_encode(SB_B64_URL_NOPAD, src, n, text);
    if ((src == z && sb_buf_append(b, ".", 1) != 0) ||
        sb_buf_append(b, text, n) != 0)
        goto err_nomem;
    rc = 0;
    goto out_free;
err_nomem:
    sb_err_set(err, SB_ERR_NOMEM, "out of memory");
out_free:
    free(text);
    free(z);
    return rc;
}

json_t *sb_itsd_parse_session(const char *what, const char *json,
                              size_t len, struct sb_err *err)
{
    json_t *v = sb_json_parse(json, len, SB_ERR_MALFORMED, what, err);

    if (v != NULL && !json_is_object(v)) {
        json_decref(v);
        sb_err_set(err, SB_ERR_MALFORMED, "%s is not a JSON object", what);
        return NULL;
    }
    return v;
}

int sb_itsd_dumps(const struct sb_itsd_signer *s, const json_t *data,
                  enum sb_json_style style, int64_t issued_at, int64_t now,
                  char **out, struct sb_err *err)
{
    struct sb_buf json, token;
    int rc = -1;

    *out = NULL;
    sb_buf_init(&json);
    sb_buf_init(&token);
    if (sb_json_dump(data, style, &json, err) == 0 &&
        payload_encode(json.data, json.len, &token, err) == 0)
        rc = sb_itsd_sign(s, issued_at, now, &token, out, err);
    sb_buf_free(&token);
    sb_buf_free(&json);
    return rc;
}

int sb_itsd_parse_bool(const char *value, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    size_t i;

    for (i = 0; i < 4; i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(value, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}
