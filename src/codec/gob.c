/* gob.c - a gob decoder and encoder for gorilla/sessions' session.Values
 * (map[interface{}]interface{}), mapped to and from JSON as gob.h says. */
#include "gob.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/b64.h"

#define GOB_DEFS_MAX 16      /* type definitions one stream may carry */
#define GOB_NAME_MAX 1024    /* Go's own cap on an interface type name */
#define GOB_FIRST_USER_ID 64 /* ids below are Go's own (decoder.go) */
#define GOB_MAP_ID 65        /* the id the encoder gives the session map */

/* Predeclared type ids (encoding/gob type.go). */
enum gob_id {
    GOB_BOOL = 1,
    GOB_INT = 2,
    GOB_UINT = 3,
    GOB_FLOAT = 4,
    GOB_BYTES = 5,
    GOB_STRING = 6,
    GOB_INTERFACE = 8
};

/* What a registered Go type name stands for. */
enum gob_kind {
    K_BOOL,
    K_INT,
    K_UINT,
    K_FLOAT,
    K_BYTES,
    K_STRING,
    K_STRINGS, /* []string: a defined slice of string */
    K_MAP      /* map[string]interface {}: a defined map */
};

/* One Go type the bridge maps, by the name gob.Register gives it. */
struct gob_named {
    const char *name;
    enum gob_kind kind;
    int bits;   /* K_INT / K_UINT / K_FLOAT width */
    bool typed; /* JSON form is {" name": value} */
};

static const struct gob_named named_types[] = {
    {"string", K_STRING, 0, false},
    {"bool", K_BOOL, 0, false},
    {"int", K_INT, 64, false},
    {"int8", K_INT, 8, true},
    {"int16", K_INT, 16, true},
    {"int32", K_INT, 32, true},
    {"int64", K_INT, 64, true},
    {"uint", K_UINT, 64, true},
    {"uint8", K_UINT, 8, true},
    {"uint16", K_UINT, 16, true},
    {"uint32", K_UINT, 32, true},
    {"uint64", K_UINT, 64, true},
    {"float64", K_FLOAT, 64, false},
    {"float32", K_FLOAT, 32, true},
    {"[]uint8", K_BYTES, 0, true},
    {"[]string", K_STRINGS, 0, false},
    {"map[string]interface {}", K_MAP, 0, false},
};

#define NAMED_COUNT (sizeof(named_types) / sizeof(named_types[0]))
#define BYTES_TAG " b"

static const struct gob_named *named_find(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < NAMED_COUNT; i++) {
        if (strlen(named_types[i].name) == len &&
            memcmp(named_types[i].name, name, len) == 0)
            return &named_types[i];
    }
    return NULL;
}

bool sb_gob_is_number_type(const char *name)
{
    const struct gob_named *t = named_find(name, strlen(name));

    return t != NULL &&
           (t->kind == K_INT || t->kind == K_UINT || t->kind == K_FLOAT);
}

/* Copies up to 48 bytes of a name from the stream into buf for an error
 * message, with anything but printable ASCII shown as '?'. */
static const char *printable(const unsigned char *s, size_t n, char *buf,
                             size_t size)
{
    size_t i, o = 0;

    for (i = 0; i < n && o + 4 < size && i < 48; i++)
        buf[o++] = (s[i] >= 0x20 && s[i] < 0x7F) ? (char)s[i] : '?';
    if (i < n) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* The range of a signed / unsigned integer of `bits` bits. */
static bool int_fits(int64_t v, int bits)
{
    return bits >= 64 ||
           (v >= -(INT64_C(1) << (bits - 1)) && v < (INT64_C(1) << (bits - 1)));
}

static bool uint_fits(uint64_t v, int bits)
{
    return bits >= 64 || v < (UINT64_C(1) << bits);
}

/* ---- decoding ---------------------------------------------------------- */

/* A type the stream defined: a slice or a map of earlier ids. */
struct gob_def {
    int64_t id;
    enum gob_kind kind; /* K_STRINGS shape (slice) or K_MAP shape (map) */
    int64_t key;        /* map key type id; 0 for slices */
    int64_t elem;
};

/* The decoder's cursor.  A gob stream is a sequence of length-prefixed
 * messages; a value may continue in the next message after a type
 * definition sent inside an interface, so the cursor tracks the end of
 * the current message and the end of the whole stream. */
struct gob_in {
    const unsigned char *p;
    const unsigned char *end;        /* end of the current message */
    const unsigned char *stream_end;
    struct gob_def defs[GOB_DEFS_MAX];
    size_t def_count;
    struct sb_err *err;
};

static int truncated(struct gob_in *in, const char *what)
{
    return sb_err_set(in->err, SB_ERR_MALFORMED,
                      "gob: the %s runs past the end of its message", what);
}

/* Reads a gob uint: one byte below 128, else a byte 256-n and n
 * big-endian bytes (n <= 8). */
static int read_uint(struct gob_in *in, uint64_t *v, const char *what)
{
    unsigned n, b;

    if (in->p >= in->end)
        return truncated(in, what);
    b = *in->p++;
    if (b < 0x80) {
        *v = b;
        return 0;
    }
    n = 256 - b;
    if (n > 8)
        return sb_err_set(in->err, SB_ERR_MALFORMED,
                          "gob: the %s has a bad length byte 0x%02x", what, b);
    if ((size_t)(in->end - in->p) < n)
        return truncated(in, what);
    *v = 0;
    while (n-- > 0)
        *v = *v << 8 | *in->p++;
    return 0;
}

/* Reads a zig-zag encoded gob int. */
static int read_int(struct gob_in *in, int64_t *v, const char *what)
{
    uint64_t u;

    if (read_uint(in, &u, what) != 0)
        return -1;
    *v = (u & 1) ? (int64_t)~(u >> 1) : (int64_t)(u >> 1);
    return 0;
}

/* Reads a count or byte length and checks it against what is left of the
 * message: `unit` bytes at least per counted item. */
static int read_len(struct gob_in *in, size_t unit, size_t *n,
                    const char *what)
{
    uint64_t v;

    if (read_uint(in, &v, what) != 0)
        return -1;
    if (v > (uint64_t)(in->end - in->p) / unit)
        return sb_err_set(in->err, SB_ERR_MALFORMED,
                          "gob: the %s (%" PRIu64 ") points past the end of "
                          "its message", what, v);
    *n = (size_t)v;
    return 0;
}

/* Reads a map's entry count.  Entries may continue in the next message
 * (after a type definition sent inside one of them), so the count is
 * checked against the rest of the stream: two bytes at least per entry. */
static int read_count(struct gob_in *in, size_t *n)
{
    uint64_t v;

    if (read_uint(in, &v, "map count") != 0)
        return -1;
    if (v > (uint64_t)(in->stream_end - in->p) / 2)
        return sb_err_set(in->err, SB_ERR_MALFORMED,
                          "gob: the map count (%" PRIu64 ") points past the "
                          "end of the stream", v);
    *n = (size_t)v;
    return 0;
}

/* Starts the next message of the stream: its uint length, then that many
 * bytes become the current message. */
static int next_message(struct gob_in *in)
{
    size_t n;

    if (in->p >= in->stream_end)
        return sb_err_set(in->err, SB_ERR_MALFORMED,
                          "gob: the stream ends before its value");
    in->end = in->stream_end;
    if (read_len(in, 1, &n, "message length") != 0)
        return -1;
    if (n == 0)
        return sb_err_set(in->err, SB_ERR_MALFORMED, "gob: empty message");
    in->end = in->p + n;
    return 0;
}

static const struct gob_def *def_find(const struct gob_in *in, int64_t id)
{
    size_t i;

    for (i = 0; i < in->def_count; i++) {
        if (in->defs[i].id == id)
            return &in->defs[i];
    }
    return NULL;
}

/* Skips a CommonType {Name string; Id typeId}: the bridge identifies types
 * by the id the definition message carries. */
static int read_common_type(struct gob_in *in)
{
    int64_t field = -1, id;
    uint64_t delta;
    size_t n;

    for (;;) {
        if (read_uint(in, &delta, "type definition") != 0)
            return -1;
        if (delta == 0)
            return 0;
        if (delta > 2 || (field += (int64_t)delta) > 1)
            return sb_err_set(in->err, SB_ERR_MALFORMED,
                              "gob: unknown field in a CommonType");
        if (field == 0) {
            if (read_len(in, 1, &n, "type name") != 0)
                return -1;
            in->p += n;
        } else if (read_int(in, &id, "type id") != 0) {
            return -1;
        }
    }
}

/* Reads a sliceType {CommonType; Elem} (nfields 2) or a mapType
 * {CommonType; Key; Elem} (nfields 3) into ids[1..nfields). */
static int read_type_struct(struct gob_in *in, int64_t *ids, int64_t nfields)
{
    int64_t field = -1;
    uint64_t delta;

    for (;;) {
        if (read_uint(in, &delta, "type definition") != 0)
            return -1;
        if (delta == 0)
            return 0;
        if (delta > (uint64_t)nfields || (field += (int64_t)delta) >= nfields)
            return sb_err_set(in->err, SB_ERR_MALFORMED,
                              "gob: unknown field in a type definition");
        if (field == 0) {
            if (read_common_type(in) != 0)
                return -1;
        } else if (read_int(in, &ids[field], "type id") != 0) {
            return -1;
        }
    }
}

/* Reads the wireType defining type `id` (the body of a definition
 * message, after int(-id)).  Slices and maps are kept; arrays, structs
 * and custom encoders are unsupported. */
static int read_typedef(struct gob_in *in, int64_t id)
{
    static const char *const wire_kinds[] = {
        "array", "slice", "struct", "map", "GobEncoder", "BinaryMarshaler",
        "TextMarshaler"};
    struct gob_def *d;
    int64_t ids[3] = {0, 0, 0};
    uint64_t delta;

    if (id < GOB_FIRST_USER_ID)
        return sb_err_set(in->err, SB_ERR_MALFORMED,
                          "gob: a definition of reserved type id %" PRId64,
                          id);
    if (def_find(in, id) != NULL)
        return sb_err_set(in->err, SB_ERR_MALFORMED,
                          "gob: type id %" PRId64 " is defined twice", id);
    if (in->def_count == GOB_DEFS_MAX)
        return sb_err_set(in->err, SB_ERR_TOO_LARGE,
                          "gob: more than %d type definitions",
                          GOB_DEFS_MAX);
    if (read_uint(in, &delta, "type definition") != 0)
        return -1;
    if (delta == 0 || delta > 7)
        return sb_err_set(in->err, SB_ERR_MALFORMED,
                          "gob: a type definition of unknown kind");
    if (delta != 2 && delta != 4)
        return sb_err_set(in->err, SB_ERR_UNSUPPORTED,
                          "gob: %s type definitions are not supported",
                          wire_kinds[delta - 1]);
    d = &in->defs[in->def_count];
    d->id = id;
    d->kind = delta == 2 ? K_STRINGS : K_MAP;
    if (read_type_struct(in, ids, delta == 2 ? 2 : 3) != 0)
        return -1;
    d->key = delta == 2 ? 0 : ids[1];
    d->elem = delta == 2 ? ids[1] : ids[2];
    if (read_uint(in, &delta, "type definition") != 0)
        return -1;
    if (delta != 0)
        return sb_err_set(in->err, SB_ERR_MALFORMED,
                          "gob: a type definition with two kinds");
    in->def_count++;
    return 0;
}

/* Checks that the concrete type id sent with an interface value is the
 * Go type its name says. */
static int check_type_id(struct gob_in *in, const struct gob_named *t,
                         int64_t id)
{
    static const int64_t basic[] = {
        [K_BOOL] = GOB_BOOL, [K_INT] = GOB_INT, [K_UINT] = GOB_UINT,
        [K_FLOAT] = GOB_FLOAT, [K_BYTES] = GOB_BYTES,
        [K_STRING] = GOB_STRING};
    const struct gob_def *d = def_find(in, id);
    bool ok;

    if (d == NULL && (id < GOB_BOOL || id > GOB_INTERFACE))
        return sb_err_set(in->err, SB_ERR_MALFORMED,
                          "gob: unknown type id %" PRId64, id);
    if (t->kind == K_STRINGS)
        ok = d != NULL && d->kind == K_STRINGS && d->elem == GOB_STRING;
    else if (t->kind == K_MAP)
        ok = d != NULL && d->kind == K_MAP && d->key == GOB_STRING &&
             d->elem == GOB_INTERFACE;
    else
        ok = id == basic[t->kind];
    if (!ok)
        return sb_err_set(in->err, SB_ERR_MALFORMED,
                          "gob: type id %" PRId64 " does not match Go type "
                          "%s", id, t->name);
    return 0;
}

/* A new JSON string from bytes the stream calls a string. */
static json_t *string_value(struct gob_in *in, const unsigned char *s,
                            size_t n)
{
    json_t *v = json_stringn((const char *)s, n);

    if (v == NULL)
        sb_err_set(in->err, SB_ERR_UNSUPPORTED,
                   "gob: a Go string that is not valid UTF-8");
    return v;
}

/* {" <tag>": v}, taking ownership of v. */
static json_t *typed(const char *name, json_t *v)
{
    char tag[32];
    json_t *o;

    if (v == NULL)
        return NULL;
    o = json_object();
    tag[0] = ' ';
    strcpy(tag + 1, name);
    if (o == NULL || json_object_set_new(o, tag, v) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int read_interface(struct gob_in *in, int depth, json_t **out,
                          const struct gob_named **type);

/* Reads a map[string]interface {} (nested = true: plain string keys) or
 * the session map[interface{}]interface{} (string keys sent as interface
 * values) into a new object. */
static int read_map(struct gob_in *in, bool nested, int depth, json_t **out)
{
    const struct gob_named *kt;
    json_t *obj, *key = NULL, *val = NULL;
    size_t count = 0, n, i;

    if (depth > SB_GOB_DEPTH_MAX)
        return sb_err_set(in->err, SB_ERR_TOO_LARGE,
                          "gob: maps nested deeper than %d", SB_GOB_DEPTH_MAX);
    if (read_count(in, &count) != 0)
        return -1;
    obj = json_object();
    if (obj == NULL)
        return sb_err_set(in->err, SB_ERR_NOMEM, "out of memory");
    for (i = 0; i < count; i++) {
        if (nested) {
            if (read_len(in, 1, &n, "map key length") != 0)
                goto err_free;
            key = string_value(in, in->p, n);
            in->p += n;
            if (key == NULL)
                goto err_free;
        } else {
            if (read_interface(in, depth, &key, &kt) != 0)
                goto err_free;
            if (kt == NULL || kt->kind != K_STRING) {
                sb_err_set(in->err, SB_ERR_UNSUPPORTED,
                           "gob: a session key of Go type %s (only string "
                           "keys are supported)", kt ? kt->name : "nil");
                goto err_free;
            }
        }
        if (strlen(json_string_value(key)) != json_string_length(key)) {
            sb_err_set(in->err, SB_ERR_UNSUPPORTED,
                       "gob: a map key holding a NUL byte");
            goto err_free;
        }
        if (json_object_get(obj, json_string_value(key)) != NULL) {
            sb_err_set(in->err, SB_ERR_MALFORMED, "gob: a map key repeats");
            goto err_free;
        }
        if (read_interface(in, depth + 1, &val, NULL) != 0)
            goto err_free;
        if (json_object_set_new(obj, json_string_value(key), val) != 0) {
            sb_err_set(in->err, SB_ERR_NOMEM, "out of memory");
            goto err_free;
        }
        json_decref(key);
        key = NULL;
    }
    *out = obj;
    return 0;

err_free:
    json_decref(key);
    json_decref(obj);
    return -1;
}

/* Reads the value of a concrete type t (after the singleton marker). */
static int read_value(struct gob_in *in, const struct gob_named *t,
                      int depth, json_t **out)
{
    uint64_t u;
    int64_t i;
    size_t n, k;
    double f;
    json_t *v = NULL;

    switch (t->kind) {
    case K_BOOL:
        if (read_uint(in, &u, "bool") != 0)
            return -1;
        if (u > 1)
            return sb_err_set(in->err, SB_ERR_MALFORMED,
                              "gob: a bool that is neither 0 nor 1");
        v = json_boolean(u);
        break;
    case K_INT:
        if (read_int(in, &i, t->name) != 0)
            return -1;
        if (!int_fits(i, t->bits))
            return sb_err_set(in->err, SB_ERR_MALFORMED,
                              "gob: an %s out of range", t->name);
        v = json_integer(i);
        break;
    case K_UINT:
        if (read_uint(in, &u, t->name) != 0)
            return -1;
        if (!uint_fits(u, t->bits))
            return sb_err_set(in->err, SB_ERR_MALFORMED,
                              "gob: a %s out of range", t->name);
        if (u > INT64_MAX)
            return sb_err_set(in->err, SB_ERR_UNSUPPORTED,
                              "gob: a %s above 2^63-1", t->name);
        v = json_integer((json_int_t)u);
        break;
    case K_FLOAT:
        if (read_uint(in, &u, t->name) != 0)
            return -1;
        u = __builtin_bswap64(u);
        memcpy(&f, &u, sizeof(f));
        if (!isfinite(f))
            return sb_err_set(in->err, SB_ERR_UNSUPPORTED,
                              "gob: a %s that is NaN or infinite", t->name);
        if (t->bits == 32 && fabs(f) > FLT_MAX)
            return sb_err_set(in->err, SB_ERR_MALFORMED,
                              "gob: a float32 out of range");
        /* Go stores float32(f): finer bits are rounded away */
        v = json_real(t->bits == 32 ? (double)(float)f : f);
        break;
    case K_BYTES: {
        char *b64;
        if (read_len(in, 1, &n, "[]byte length") != 0)
            return -1;
        b64 = malloc(sb_b64_encoded_size(n));
        if (b64 == NULL)
            return sb_err_set(in->err, SB_ERR_NOMEM, "out of memory");
        sb_b64_encode(SB_B64_STD_PAD, in->p, n, b64);
        in->p += n;
        v = json_string(b64);
        free(b64);
        break;
    }
    case K_STRING:
        if (read_len(in, 1, &n, "string length") != 0)
            return -1;
        v = string_value(in, in->p, n);
        in->p += n;
        if (v == NULL)
            return -1;
        break;
    case K_STRINGS:
        if (read_len(in, 1, &n, "[]string count") != 0)
            return -1;
        v = json_array();
        for (k = 0; v != NULL && k < n; k++) {
            size_t len;
            json_t *s;
            if (read_len(in, 1, &len, "string length") != 0) {
                json_decref(v);
                return -1;
            }
            s = string_value(in, in->p, len);
            in->p += len;
            if (s == NULL) {
                json_decref(v);
                return -1;
            }
            if (json_array_append_new(v, s) != 0) {
                json_decref(v);
                v = NULL;
            }
        }
        break;
    case K_MAP:
        return read_map(in, true, depth, out);
    }
    if (v != NULL && t->typed)
        v = typed(t->kind == K_BYTES ? &BYTES_TAG[1] : t->name, v);
    if (v == NULL)
        return sb_err_set(in->err, SB_ERR_NOMEM, "out of memory");
    *out = v;
    return 0;
}

/* Reads one interface value: the registered type name (empty for nil),
 * any type definitions sent with it, the concrete type id, a byte count
 * and the value.  *type (when not NULL) gets the Go type, NULL for nil. */
static int read_interface(struct gob_in *in, int depth, json_t **out,
                          const struct gob_named **type)
{
    const struct gob_named *t;
    const unsigned char *name;
    char shown[64];
    size_t name_len, n;
    uint64_t marker;
    int64_t id;

    *out = NULL;
    if (type != NULL)
        *type = NULL;
    if (read_len(in, 1, &name_len, "interface type name") != 0)
        return -1;
    if (name_len > GOB_NAME_MAX)
        return sb_err_set(in->err, SB_ERR_TOO_LARGE,
                          "gob: a type name of %zu bytes", name_len);
    name = in->p;
    in->p += name_len;
    if (name_len == 0) {
        *out = json_null();
        return 0;
    }
    t = named_find((const char *)name, name_len);
    if (t == NULL)
        return sb_err_set(in->err, SB_ERR_UNSUPPORTED,
                          "gob: a value of Go type %s is not supported",
                          printable(name, name_len, shown, sizeof(shown)));
    /* Definitions may come first; after one, the value goes on after a
     * count (inline) or in the next message (at the top level). */
    for (;;) {
        if (in->p == in->end && next_message(in) != 0)
            return -1;
        if (read_int(in, &id, "type id") != 0)
            return -1;
        if (id >= 0)
            break;
        if (id == INT64_MIN || read_typedef(in, -id) != 0) {
            if (id == INT64_MIN)
                sb_err_set(in->err, SB_ERR_MALFORMED, "gob: bad type id");
            return -1;
        }
        if (in->p < in->end && read_uint(in, &marker, "value count") != 0)
            return -1;
    }
    if (check_type_id(in, t, id) != 0 ||
        read_len(in, 1, &n, "interface value length") != 0 ||
        read_uint(in, &marker, "singleton marker") != 0)
        return -1;
    if (marker != 0)
        return sb_err_set(in->err, SB_ERR_MALFORMED,
                          "gob: a non-zero singleton marker");
    if (type != NULL)
        *type = t;
    return read_value(in, t, depth, out);
}

int sb_gob_decode_values(const unsigned char *buf, size_t len, json_t **out,
                         struct sb_err *err)
{
    struct gob_in in = {.p = buf, .end = buf, .stream_end = buf + len,
                        .err = err};
    const struct gob_def *d;
    uint64_t marker;
    int64_t id;

    *out = NULL;
    for (;;) {
        if (next_message(&in) != 0 || read_int(&in, &id, "type id") != 0)
            return -1;
        if (id >= 0)
            break;
        if (id == INT64_MIN)
            return sb_err_set(err, SB_ERR_MALFORMED, "gob: bad type id");
        if (read_typedef(&in, -id) != 0)
            return -1;
        if (in.p != in.end)
            return sb_err_set(err, SB_ERR_MALFORMED,
                              "gob: extra bytes after a type definition");
    }
    d = def_find(&in, id);
    if (d == NULL && (id < GOB_BOOL || id > GOB_INTERFACE))
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "gob: unknown type id %" PRId64, id);
    if (d == NULL || d->kind != K_MAP || d->key != GOB_INTERFACE ||
        d->elem != GOB_INTERFACE)
        return sb_err_set(err, SB_ERR_UNSUPPORTED,
                          "gob: the value is not a map[interface {}]"
                          "interface {}");
    if (read_uint(&in, &marker, "singleton marker") != 0)
        return -1;
    if (marker != 0)
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "gob: a non-zero singleton marker");
    if (read_map(&in, false, 1, out) != 0)
        return -1;
    if (in.p != in.end || in.end != in.stream_end) {
        json_decref(*out);
        *out = NULL;
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "gob: extra bytes after the value");
    }
    return 0;
}

/* ---- encoding ---------------------------------------------------------- */

/* Ids the encoder gave the types it needed beyond the session map. */
struct gob_out {
    int64_t strings_id; /* []string; 0 until used */
    int64_t map_id;     /* map[string]interface {}; 0 until used */
    int64_t next_id;
    struct sb_err *err;
};

static int put_uint(struct sb_buf *b, uint64_t v)
{
    unsigned char tmp[9];
    int n = 0, i;

    if (v < 0x80) {
        tmp[0] = (unsigned char)v;
        return sb_buf_append(b, tmp, 1);
    }
    for (i = 56; i >= 0; i -= 8) {
        if (n > 0 || (v >> i) != 0)
            tmp[1 + n++] = (unsigned char)(v >> i);
    }
    tmp[0] = (unsigned char)(256 - n);
    return sb_buf_append(b, tmp, (size_t)n + 1);
}

static int put_int(struct sb_buf *b, int64_t v)
{
    uint64_t u = v < 0 ? (~(uint64_t)v << 1) | 1 : (uint64_t)v << 1;

    return put_uint(b, u);
}

static int put_bytes(struct sb_buf *b, const void *s, size_t n)
{
    return put_uint(b, n) != 0 || sb_buf_append(b, s, n) != 0 ? -1 : 0;
}

/* Appends uint(len(msg)) msg. */
static int put_message(struct sb_buf *b, const struct sb_buf *msg)
{
    return put_bytes(b, msg->data, msg->len);
}

/* The definition message of a map (key, elem) or, when key is 0, of a
 * slice of elem, as type id. */
static int put_typedef(struct sb_buf *b, int64_t id, int64_t key,
                       int64_t elem)
{
    struct sb_buf m;
    int rc;

    sb_buf_init(&m);
    rc = put_int(&m, -id) | put_uint(&m, key ? 4 : 2) | put_uint(&m, 1) |
         put_uint(&m, 2) | put_int(&m, id) | put_uint(&m, 0);
    if (key)
        rc |= put_uint(&m, 1) | put_int(&m, key);
    rc |= put_uint(&m, 1) | put_int(&m, elem) | put_uint(&m, 0) |
          put_uint(&m, 0);
    rc = rc != 0 ? -1 : put_message(b, &m);
    sb_buf_free(&m);
    return rc;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of obj sorted by byte value, in a new array the caller frees. */
static const char **sorted_keys(const json_t *obj)
{
    size_t n = json_object_size(obj), i = 0;
    const char **keys = calloc(n ? n : 1, sizeof(*keys));
    const char *k;
    json_t *v;

    if (keys == NULL)
        return NULL;
    json_object_foreach((json_t *)obj, k, v)
        keys[i++] = k;
    qsort(keys, n, sizeof(*keys), key_cmp);
    return keys;
}

static int put_interface(struct gob_out *o, struct sb_buf *b, const json_t *v,
                         int depth);

static int nomem(struct gob_out *o)
{
    return sb_err_set(o->err, SB_ERR_NOMEM, "out of memory");
}

/* The typed form {" <tag>": x}: the Go type, or NULL when v is a plain
 * object. */
static const struct gob_named *typed_of(const json_t *v, const json_t **x)
{
    const char *key;
    const struct gob_named *t;
    void *it;

    if (json_object_size(v) != 1)
        return NULL;
    it = json_object_iter((json_t *)v);
    key = json_object_iter_key(it);
    if (key[0] != ' ')
        return NULL;
    *x = json_object_iter_value(it);
    if (strcmp(key, BYTES_TAG) == 0)
        return named_find("[]uint8", 7);
    t = named_find(key + 1, strlen(key + 1));
    if (t == NULL ||
        (t->kind != K_INT && t->kind != K_UINT && t->kind != K_FLOAT))
        return NULL;
    return t;
}

/* Writes the data of a typed value (singleton marker, then the scalar). */
static int put_typed(struct gob_out *o, struct sb_buf *d,
                     const struct gob_named *t, const json_t *x)
{
    unsigned char raw[3072];
    const char *s;
    json_int_t i;
    double f;
    long n;
    int rc;

    if (put_uint(d, 0) != 0)
        return nomem(o);
    switch (t->kind) {
    case K_BYTES:
        s = json_string_value(x);
        if (s == NULL || json_string_length(x) > 4096 ||
            (n = sb_b64_decode(SB_B64_STD_PAD, s, json_string_length(x),
                               raw)) < 0)
            return sb_err_set(o->err, SB_ERR_INVALID_REQUEST,
                              "gob: a {\" b\": ...} value needs padded "
                              "standard base64 of at most 3072 bytes");
        rc = put_bytes(d, raw, (size_t)n);
        break;
    case K_INT:
    case K_UINT:
        i = json_integer_value(x);
        if (!json_is_integer(x) ||
            (t->kind == K_INT ? !int_fits(i, t->bits)
                              : (i < 0 || !uint_fits((uint64_t)i, t->bits))))
            return sb_err_set(o->err, SB_ERR_INVALID_REQUEST,
                              "gob: a {\" %s\": ...} value needs an integer "
                              "in the range of %s", t->name, t->name);
        rc = t->kind == K_INT ? put_int(d, i) : put_uint(d, (uint64_t)i);
        break;
    default: {
        uint64_t u;
        if (!json_is_number(x))
            return sb_err_set(o->err, SB_ERR_INVALID_REQUEST,
                              "gob: a {\" %s\": ...} value needs a number",
                              t->name);
        f = json_number_value(x);
        if (t->bits == 32) {
            if (fabs(f) > FLT_MAX)
                return sb_err_set(o->err, SB_ERR_INVALID_REQUEST,
                                  "gob: a float32 out of range");
            f = (double)(float)f;
        }
        memcpy(&u, &f, sizeof(u));
        rc = put_uint(d, __builtin_bswap64(u));
        break;
    }
    }
    return rc != 0 ? nomem(o) : 0;
}

/* Writes the data of a nested map[string]interface {} (marker, count,
 * sorted string keys with interface values). */
static int put_map(struct gob_out *o, struct sb_buf *d, const json_t *v,
                   int depth)
{
    const char **keys;
    size_t i, n = json_object_size(v);
    int rc = -1;

    if (depth > SB_GOB_DEPTH_MAX)
        return sb_err_set(o->err, SB_ERR_TOO_LARGE,
                          "gob: objects nested deeper than %d",
                          SB_GOB_DEPTH_MAX);
    keys = sorted_keys(v);
    if (keys == NULL)
        return nomem(o);
    if (put_uint(d, 0) != 0 || put_uint(d, n) != 0) {
        nomem(o);
        goto out_free_keys;
    }
    for (i = 0; i < n; i++) {
        if (put_bytes(d, keys[i], strlen(keys[i])) != 0) {
            nomem(o);
            goto out_free_keys;
        }
        if (put_interface(o, d, json_object_get(v, keys[i]), depth + 1) != 0)
            goto out_free_keys;
    }
    rc = 0;
out_free_keys:
    free(keys);
    return rc;
}

/* Writes v as an interface value: name, type id, byte count, data. */
static int put_interface(struct gob_out *o, struct sb_buf *b, const json_t *v,
                         int depth)
{
    const struct gob_named *t = NULL;
    const json_t *x = NULL;
    struct sb_buf d;
    int64_t id;
    size_t i;
    int rc = -1;

    if (json_is_null(v))
        return put_uint(b, 0);
    sb_buf_init(&d);
    switch (json_typeof(v)) {
    case JSON_STRING:
        t = named_find("string", 6);
        rc = put_uint(&d, 0) | put_bytes(&d, json_string_value(v),
                                         json_string_length(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        t = named_find("bool", 4);
        rc = put_uint(&d, 0) | put_uint(&d, json_is_true(v));
        break;
    case JSON_INTEGER:
        t = named_find("int", 3);
        rc = put_uint(&d, 0) | put_int(&d, json_integer_value(v));
        break;
    case JSON_REAL: {
        double f = json_real_value(v);
        uint64_t u;
        memcpy(&u, &f, sizeof(u));
        t = named_find("float64", 7);
        rc = put_uint(&d, 0) | put_uint(&d, __builtin_bswap64(u));
        break;
    }
    case JSON_ARRAY:
        for (i = 0; i < json_array_size(v); i++) {
            if (!json_is_string(json_array_get(v, i))) {
                sb_err_set(o->err, SB_ERR_UNSUPPORTED,
                           "gob: an array holding non-strings has no Go "
                           "type gob sends unregistered ([]interface {})");
                goto out_free;
            }
        }
        t = named_find("[]string", 8);
        rc = put_uint(&d, 0) | put_uint(&d, json_array_size(v));
        for (i = 0; rc == 0 && i < json_array_size(v); i++) {
            const json_t *s = json_array_get(v, i);
            rc = put_bytes(&d, json_string_value(s), json_string_length(s));
        }
        break;
    case JSON_OBJECT:
        t = typed_of(v, &x);
        if (t != NULL) {
            if (put_typed(o, &d, t, x) != 0)
                goto out_free;
        } else {
            t = named_find("map[string]interface {}", 23);
            if (put_map(o, &d, v, depth) != 0)
                goto out_free;
        }
        rc = 0;
        break;
    default:
        break;
    }
    if (rc != 0 || t == NULL) {
        sb_err_set(o->err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    switch (t->kind) {
    case K_STRINGS:
        if (o->strings_id == 0)
            o->strings_id = o->next_id++;
        id = o->strings_id;
        break;
    case K_MAP:
        if (o->map_id == 0)
            o->map_id = o->next_id++;
        id = o->map_id;
        break;
    case K_BOOL: id = GOB_BOOL; break;
    case K_INT: id = GOB_INT; break;
    case K_UINT: id = GOB_UINT; break;
    case K_FLOAT: id = GOB_FLOAT; break;
    case K_BYTES: id = GOB_BYTES; break;
    default: id = GOB_STRING; break;
    }
    rc = -1;
    if (put_bytes(b, t->name, strlen(t->name)) != 0 || put_int(b, id) != 0 ||
        put_message(b, &d) != 0) {
        sb_err_set(o->err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    rc = 0;
out_free:
    sb_buf_free(&d);
    return rc;
}

int sb_gob_encode_values(const json_t *obj, struct sb_buf *b,
                         struct sb_err *err)
{
    struct gob_out o = {.next_id = GOB_MAP_ID + 1, .err = err};
    struct sb_buf msg;
    const char **keys;
    json_t *key;
    size_t i, n = json_object_size(obj);
    int rc = -1;

    if (!json_is_object(obj))
        return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                          "gob: session data must be an object");
    keys = sorted_keys(obj);
    if (keys == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    sb_buf_init(&msg);
    if (put_int(&msg, GOB_MAP_ID) != 0 || put_uint(&msg, 0) != 0 ||
        put_uint(&msg, n) != 0)
        goto err_nomem;
    for (i = 0; i < n; i++) {
        key = json_string(keys[i]);
        if (key == NULL)
            goto err_nomem;
        rc = put_interface(&o, &msg, key, 1);
        json_decref(key);
        if (rc != 0 || put_interface(&o, &msg, json_object_get(obj, keys[i]),
                                     2) != 0) {
            rc = -1;
            goto out_free;
        }
    }
    rc = -1;
    if (put_typedef(b, GOB_MAP_ID, GOB_INTERFACE, GOB_INTERFACE) != 0 ||
        (o.strings_id &&
         put_typedef(b, o.strings_id, 0, GOB_STRING) != 0) ||
        (o.map_id &&
         put_typedef(b, o.map_id, GOB_STRING, GOB_INTERFACE) != 0) ||
        put_message(b, &msg) != 0)
        goto err_nomem;
    rc = 0;
    goto out_free;

err_nomem:
    sb_err_set(err, SB_ERR_NOMEM, "out of memory");
out_free:
    sb_buf_free(&msg);
    free(keys);
    return rc;
}
