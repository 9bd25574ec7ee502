/* jsonutil.c - JSON depth check, strict parsing, a byte buffer, and
 * serialisers that write JSON byte for byte as Python, Go, JavaScript and
 * Ruby do, so signed payloads re-encode exactly. */
#include "sessionbridge/jsonutil.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/codec.h"

int sb_json_depth_ok(const char *buf, size_t n, int max_depth)
{
    int depth = 0;
    bool in_string = false;
    size_t i;

    for (i = 0; i < n; i++) {
        char c = buf[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return 0;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 1;
}

json_t *sb_json_parse(const char *buf, size_t n, enum sb_err_code bad_code,
                      const char *what, struct sb_err *err)
{
    json_error_t jerr;
    json_t *v;

    if (!sb_json_depth_ok(buf, n, SB_JSON_DEPTH_MAX)) {
        sb_err_set(err, SB_ERR_TOO_LARGE, "%s nests deeper than %d levels",
                   what, SB_JSON_DEPTH_MAX);
        return NULL;
    }
    v = json_loadb(buf, n, JSON_DECODE_ANY, &jerr);
    if (v == NULL) {
        sb_err_set(err, bad_code, "%s is not valid JSON (at byte %d)", what,
                   jerr.position);
        return NULL;
    }
    return v;
}

bool sb_json_is_c_string(const json_t *v)
{
    return json_is_string(v) &&
           strlen(json_string_value(v)) == json_string_length(v);
}

bool sb_json_names_subject(const json_t *v, const char *subject)
{
    char num[32];

    if (json_is_string(v))
        return strcmp(json_string_value(v), subject) == 0;
    if (!json_is_integer(v))
        return false;
    snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return strcmp(num, subject) == 0;
}

void sb_buf_init(struct sb_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void sb_buf_free(struct sb_buf *b)
{
    free(b->data);
    sb_buf_init(b);
}

static int buf_reserve(struct sb_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    char *p;

    if (need <= b->cap)
        return 0;
    if (need < 256)
        need = 256;
    if (need < b->cap * 2)
        need = b->cap * 2;
    p = realloc(b->data, need);
    if (p == NULL)
        return -1;
    b->data = p;
    b->cap = need;
    return 0;
}

int sb_buf_append(struct sb_buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return -1;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int sb_buf_append_str(struct sb_buf *b, const char *s)
{
    return sb_buf_append(b, s, strlen(s));
}

int sb_buf_printf(struct sb_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_reserve(b, (size_t)n) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *sb_buf_steal(struct sb_buf *b, size_t *len)
{
    char *p = b->data;

    if (p == NULL) {
        p = calloc(1, 1);
        if (p == NULL)
            return NULL;
    }
    if (len != NULL)
        *len = b->len;
    sb_buf_init(b);
    return p;
}

/* ---- serialisers ------------------------------------------------------ */

struct style_rules {
    bool sort_keys;
    bool ascii_only;     /* Python ensure_ascii: \uXXXX beyond 0x7E */
    bool escape_html;    /* < > & as \u003c \u003e \u0026 */
    bool escape_lsep;    /* U+2028 / U+2029 */
    bool short_bf;       /* \b and \f rather than \u0008 \u000c */
    const char *item_sep;
    const char *key_sep;
};

static const struct style_rules *style_rules(enum sb_json_style s)
{
    static const struct style_rules py_sorted = {true, true, false, false,
                                                 true, ",", ":"};
    static const struct style_rules py_compact = {false, true, false, false,
                                                  true, ",", ":"};
    static const struct style_rules py_default = {false, true, false, false,
                                                  true, ", ", ": "};
    static const struct style_rules go = {true, false, true, true, false,
                                          ",", ":"};
    static const struct style_rules js = {false, false, false, false, true,
                                          ",", ":"};
    static const struct style_rules ruby = {false, false, true, true, true,
                                            ",", ":"};
    switch (s) {
    case SB_JSON_PY_COMPACT_SORTED: return &py_sorted;
    case SB_JSON_PY_COMPACT: return &py_compact;
    case SB_JSON_PY_DEFAULT: return &py_default;
    case SB_JSON_GO: return &go;
    case SB_JSON_JS:
    case SB_JSON_CANONICAL: return &js;
    case SB_JSON_RUBY: return &ruby;
    }
    return &js;
}

/* Decodes one UTF-8 sequence at s[0..n); returns its length and the code
 * point in *cp, or 0 for an invalid sequence.  jansson only holds valid
 * UTF-8, so 0 is a bug guard. */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0 && n >= 2) {
        *cp = (unsigned)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
        return 2;
    }
    if ((s[0] & 0xF0) == 0xE0 && n >= 3) {
        *cp = (unsigned)(s[0] & 0x0F) << 12 | (unsigned)(s[1] & 0x3F) << 6 |
              (s[2] & 0x3F);
        return 3;
    }
    if ((s[0] & 0xF8) == 0xF0 && n >= 4) {
        *cp = (unsigned)(s[0] & 0x07) << 18 | (unsigned)(s[1] & 0x3F) << 12 |
              (unsigned)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
        return 4;
    }
    return 0;
}

static int dump_string(const char *str, size_t n,
                       const struct style_rules *r, struct sb_buf *b)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    if (sb_buf_append(b, "\"", 1) != 0)
        return -1;
    while (i < n) {
        unsigned cp;
        size_t len = utf8_next(s + i, n - i, &cp);
        char esc[16];
        const char *lit = NULL;

        if (len == 0)
            return -1;
        switch (cp) {
        case '"': lit = "\\\""; break;
        case '\\': lit = "\\\\"; break;
        case '\n': lit = "\\n"; break;
        case '\r': lit = "\\r"; break;
        case '\t': lit = "\\t"; break;
        case '\b': lit = r->short_bf ? "\\b" : NULL; break;
        case '\f': lit = r->short_bf ? "\\f" : NULL; break;
        default: break;
        }
        if (lit != NULL) {
            if (sb_buf_append_str(b, lit) != 0)
                return -1;
        } else if (cp < 0x20 || (r->ascii_only && cp == 0x7F) ||
                   (r->escape_html && (cp == '<' || cp == '>' || cp == '&')) ||
                   (r->escape_lsep && (cp == 0x2028 || cp == 0x2029)) ||
                   (r->ascii_only && cp > 0x7F && cp < 0x10000)) {
            snprintf(esc, sizeof(esc), "\\u%04x", cp);
            if (sb_buf_append_str(b, esc) != 0)
                return -1;
        } else if (r->ascii_only && cp >= 0x10000) {
            unsigned v = cp - 0x10000;
            snprintf(esc, sizeof(esc), "\\u%04x\\u%04x", 0xD800 + (v >> 10),
                     0xDC00 + (v & 0x3FF));
            if (sb_buf_append_str(b, esc) != 0)
                return -1;
        } else if (sb_buf_append(b, s + i, len) != 0) {
            return -1;
        }
        i += len;
    }
    return sb_buf_append(b, "\"", 1);
}

/* Writes the shortest digits that round-trip x into digits (no dot) and
 * returns the decimal exponent of the first digit (x = 0.d1d2... * 10^(e+1)
 * i.e. d1.d2... * 10^e). */
static int shortest_digits(double x, char *digits, size_t size)
{
    char tmp[40];
    int prec, e = 0;

    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    {
        char *p = tmp, *exp = strchr(tmp, 'e');
        size_t o = 0;
        if (*p == '-')
            p++;
        for (; p < exp && o + 1 < size; p++) {
            if (*p != '.')
                digits[o++] = *p;
        }
        digits[o] = '\0';
        e = atoi(exp + 1);
    }
    /* strip trailing zeros */
    {
        size_t l = strlen(digits);
        while (l > 1 && digits[l - 1] == '0')
            digits[--l] = '\0';
    }
    return e;
}

/* Formats a real as Python repr (py), Go/JS (!py) or Ruby to_s. */
static int dump_real(double x, enum sb_json_style style, struct sb_buf *b)
{
    char digits[32];
    int e, nd, i;
    bool py = style == SB_JSON_PY_COMPACT_SORTED ||
              style == SB_JSON_PY_COMPACT || style == SB_JSON_PY_DEFAULT;
    bool ruby = style == SB_JSON_RUBY;
    bool canonical = style == SB_JSON_CANONICAL;
    bool sci;
    struct sb_buf out;

    if (!isfinite(x))
        return -1;
    if (x == 0) {
        const char *z = signbit(x) ? "-0" : "0";
        if (sb_buf_append_str(b, z) != 0)
            return -1;
        return (py || ruby || canonical) ? sb_buf_append_str(b, ".0") : 0;
    }
    e = shortest_digits(x, digits, sizeof(digits));
    nd = (int)strlen(digits);
    if (py || ruby)
        sci = e < -4 || e >= 16;
    else if (style == SB_JSON_GO)
        sci = fabs(x) < 1e-6 || fabs(x) >= 1e21;
    else
        sci = e < -6 || e >= 21;
    sb_buf_init(&out);
    if (x < 0 && sb_buf_append(&out, "-", 1) != 0)
        goto err;
    if (sci) {
        if (sb_buf_append(&out, digits, 1) != 0)
            goto err;
        if (nd > 1) {
            if (sb_buf_append(&out, ".", 1) != 0 ||
                sb_buf_append(&out, digits + 1, (size_t)nd - 1) != 0)
                goto err;
        } else if (ruby && sb_buf_append_str(&out, ".0") != 0) {
            goto err;
        }
        if (sb_buf_printf(&out, (py || ruby) ? "e%c%02d" : "e%c%d",
                          e < 0 ? '-' : '+', abs(e)) != 0)
            goto err;
    } else if (e < 0) {
        if (sb_buf_append_str(&out, "0.") != 0)
            goto err;
        for (i = -1; i > e; i--)
            if (sb_buf_append(&out, "0", 1) != 0)
                goto err;
        if (sb_buf_append(&out, digits, (size_t)nd) != 0)
            goto err;
    } else {
        for (i = 0; i <= e || i < nd; i++) {
            if (i == e + 1 && sb_buf_append(&out, ".", 1) != 0)
                goto err;
            if (sb_buf_append(&out, i < nd ? &digits[i] : "0", 1) != 0)
                goto err;
        }
        if (nd <= e + 1 && (py || ruby || canonical) &&
            sb_buf_append_str(&out, ".0") != 0)
            goto err;
    }
    if (sb_buf_append(b, out.data, out.len) != 0)
        goto err;
    sb_buf_free(&out);
    return 0;
err:
    sb_buf_free(&out);
    return -1;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int dump_value(const json_t *v, enum sb_json_style style,
                      const struct style_rules *r, struct sb_buf *b, int depth);

static int dump_object(const json_t *v, enum sb_json_style style,
                       const struct style_rules *r, struct sb_buf *b,
                       int depth)
{
    size_t n = json_object_size(v), i = 0;
    const char **keys;
    const char *key;
    json_t *val;
    int rc = -1;

    keys = calloc(n ? n : 1, sizeof(*keys));
    if (keys == NULL)
        return -1;
    json_object_foreach((json_t *)v, key, val)
        keys[i++] = key;
    if (r->sort_keys)
        qsort(keys, n, sizeof(*keys), key_cmp);
    if (sb_buf_append(b, "{", 1) != 0)
        goto out;
    for (i = 0; i < n; i++) {
        if (i > 0 && sb_buf_append_str(b, r->item_sep) != 0)
            goto out;
        if (dump_string(keys[i], strlen(keys[i]), r, b) != 0 ||
            sb_buf_append_str(b, r->key_sep) != 0 ||
            dump_value(json_object_get(v, keys[i]), style, r, b, depth + 1) != 0)
            goto out;
    }
    rc = sb_buf_append(b, "}", 1);
out:
    free(keys);
    return rc;
}

static int dump_value(const json_t *v, enum sb_json_style style,
                      const struct style_rules *r, struct sb_buf *b, int depth)
{
    size_t i;

    if (depth > SB_JSON_DEPTH_MAX * 2)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return dump_object(v, style, r, b, depth);
    case JSON_ARRAY:
        if (sb_buf_append(b, "[", 1) != 0)
            return -1;
        for (i = 0; i < json_array_size(v); i++) {
            if (i > 0 && sb_buf_append_str(b, r->item_sep) != 0)
                return -1;
            if (dump_value(json_array_get(v, i), style, r, b, depth + 1) != 0)
                return -1;
        }
        return sb_buf_append(b, "]", 1);
    case JSON_STRING:
        return dump_string(json_string_value(v), json_string_length(v), r, b);
    case JSON_INTEGER:
        return sb_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        return dump_real(json_real_value(v), style, b);
    case JSON_TRUE:
        return sb_buf_append_str(b, "true");
    case JSON_FALSE:
        return sb_buf_append_str(b, "false");
    case JSON_NULL:
        return sb_buf_append_str(b, "null");
    }
    return -1;
}

int sb_json_dump(const json_t *v, enum sb_json_style style, struct sb_buf *b,
                 struct sb_err *err)
{
    if (dump_value(v, style, style_rules(style), b, 0) != 0)
        return sb_err_set(err, SB_ERR_INTERNAL,
                          "cannot serialise session data as JSON");
    return 0;
}
