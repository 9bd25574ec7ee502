/* wire.c - the API's messages in binary protobuf: one generic converter
 * between a message (walked through its protobuf-c descriptor) and the JSON
 * form the handlers work with, so no endpoint needs protobuf code. */
#include "api.h"

#include <stdlib.h>
#include <string.h>

#include "sessionbridge/jsonutil.h"

#define WIRE_DEPTH_MAX 8

static const char json_suffix[] = "_json";

/* The JSON name of field f into buf ("data_json" -> "data"). */
static const char *json_name(const ProtobufCFieldDescriptor *f, char *buf,
                             size_t size, bool *is_json)
{
    size_t n = strlen(f->name), sl = sizeof(json_suffix) - 1;

    *is_json = f->type == PROTOBUF_C_TYPE_STRING && n > sl &&
               strcmp(f->name + n - sl, json_suffix) == 0 && n - sl < size;
    if (!*is_json)
        return f->name;
    memcpy(buf, f->name, n - sl);
    buf[n - sl] = '\0';
    return buf;
}

/* A repeated message field that protoc generated for a map<,>. */
static bool is_map(const ProtobufCFieldDescriptor *f)
{
    const ProtobufCMessageDescriptor *d = f->descriptor;

    return f->label == PROTOBUF_C_LABEL_REPEATED &&
           f->type == PROTOBUF_C_TYPE_MESSAGE && d->n_fields == 2 &&
           strcmp(d->fields[0].name, "key") == 0 &&
           strcmp(d->fields[1].name, "value") == 0 &&
           strlen(d->name) > 5 &&
           strcmp(d->name + strlen(d->name) - 5, "Entry") == 0;
}

static int wrong_type(struct sb_err *err, const char *name, const char *want)
{
    return sb_err_set(err, SB_ERR_INVALID_REQUEST,
                      "field '%s' must be %s", name, want);
}

static ProtobufCMessage *message_from_json(const json_t *j,
                                           const ProtobufCMessageDescriptor *d,
                                           int depth, struct sb_err *err);

/* Stores one JSON value into the scalar or message slot at p. */
static int value_from_json(const ProtobufCFieldDescriptor *f, const char *name,
                           bool is_json, const json_t *v, void *p, int depth,
                           struct sb_err *err)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        char *s;
        if (is_json)
            s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        else if (json_is_string(v))
            s = strdup(json_string_value(v));
        else
            return wrong_type(err, name, "a string");
        if (s == NULL)
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        *(char **)p = s;
        return 0;
    }
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return wrong_type(err, name, "a boolean");
        *(protobuf_c_boolean *)p = json_is_true(v);
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
        if (!json_is_integer(v))
            return wrong_type(err, name, "an integer");
        *(int64_t *)p = json_integer_value(v);
        return 0;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
        if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
            json_integer_value(v) > INT32_MAX)
            return wrong_type(err, name, "a 32-bit integer");
        *(int32_t *)p = (int32_t)json_integer_value(v);
        return 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        if (!json_is_object(v))
            return wrong_type(err, name, "an object");
        *(ProtobufCMessage **)p = message_from_json(v, f->descriptor,
                                                    depth + 1, err);
        return *(ProtobufCMessage **)p ? 0 : -1;
    default:
        return sb_err_set(err, SB_ERR_INTERNAL,
                          "field '%s' has a type the wire layer lacks", name);
    }
}

/* Size of one element of a repeated field of f's type. */
static size_t element_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32: return sizeof(int32_t);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64: return sizeof(int64_t);
    default: return sizeof(void *);
    }
}

/* Fills a map field from a JSON object: one entry message per member. */
static int map_from_json(const ProtobufCFieldDescriptor *f, const char *name,
                         const json_t *v, ProtobufCMessage *m, int depth,
                         struct sb_err *err)
{
    const ProtobufCMessageDescriptor *ed = f->descriptor;
    size_t *n = (size_t *)((char *)m + f->quantifier_offset);
    ProtobufCMessage ***arr = (ProtobufCMessage ***)((char *)m + f->offset);
    const char *key;
    json_t *val;

    if (!json_is_object(v))
        return wrong_type(err, name, "an object");
    *arr = calloc(json_object_size(v) + 1, sizeof(**arr));
    if (*arr == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    json_object_foreach((json_t *)v, key, val) {
        ProtobufCMessage *e = calloc(1, ed->sizeof_message);
        char *k = strdup(key);
        if (e == NULL || k == NULL) {
            free(e);
            free(k);
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        }
        ed->message_init(e);
        (*arr)[(*n)++] = e;
        *(char **)((char *)e + ed->fields[0].offset) = k;
        if (value_from_json(&ed->fields[1], name, false, val,
                            (char *)e + ed->fields[1].offset, depth, err) != 0)
            return -1;
    }
    return 0;
}

static int field_from_json(const ProtobufCFieldDescriptor *f,
                           const json_t *obj, ProtobufCMessage *m, int depth,
                           struct sb_err *err)
{
    char nbuf[64];
    bool is_json;
    const char *name = json_name(f, nbuf, sizeof(nbuf), &is_json);
    const json_t *v = json_object_get(obj, name);
    void *slot = (char *)m + f->offset;
    size_t i, es;

    if (v == NULL || json_is_null(v))
        return 0;
    if (is_map(f))
        return map_from_json(f, name, v, m, depth, err);
    if (f->label != PROTOBUF_C_LABEL_REPEATED)
        return value_from_json(f, name, is_json, v, slot, depth, err);
    if (!json_is_array(v))
        return wrong_type(err, name, "an array");
    es = element_size(f);
    *(void **)slot = calloc(json_array_size(v) + 1, es);
    if (*(void **)slot == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    for (i = 0; i < json_array_size(v); i++) {
        size_t *n = (size_t *)((char *)m + f->quantifier_offset);
        if (value_from_json(f, name, false, json_array_get(v, i),
                            (char *)*(void **)slot + i * es, depth,
                            err) != 0)
            return -1;
        (*n)++;
    }
    return 0;
}

/* A new message of descriptor d from JSON object j (malloc'd throughout,
 * so protobuf_c_message_free_unpacked frees it). */
static ProtobufCMessage *message_from_json(const json_t *j,
                                           const ProtobufCMessageDescriptor *d,
                                           int depth, struct sb_err *err)
{
    ProtobufCMessage *m;
    unsigned i;

    if (depth > WIRE_DEPTH_MAX) {
        sb_err_set(err, SB_ERR_TOO_LARGE, "message nests too deep");
        return NULL;
    }
    m = calloc(1, d->sizeof_message);
    if (m == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    d->message_init(m);
    for (i = 0; i < d->n_fields; i++) {
        if (field_from_json(&d->fields[i], j, m, depth, err) != 0) {
            protobuf_c_message_free_unpacked(m, NULL);
            return NULL;
        }
    }
    return m;
}

int sb_wire_pack(const json_t *j, const ProtobufCMessageDescriptor *d,
                 uint8_t **out, size_t *len, struct sb_err *err)
{
    ProtobufCMessage *m = message_from_json(j, d, 0, err);

    *out = NULL;
    if (m == NULL)
        return -1;
    *len = protobuf_c_message_get_packed_size(m);
    *out = malloc(*len ? *len : 1);
    if (*out == NULL) {
        protobuf_c_message_free_unpacked(m, NULL);
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    }
    protobuf_c_message_pack(m, *out);
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}

static json_t *message_to_json(const ProtobufCMessage *m, bool *bad);

/* The JSON of one scalar or message value at p; NULL when it is the
 * proto3 default (omitted), or a JSON null.  A `_json` field that is not
 * JSON sets *bad. */
static json_t *value_to_json(const ProtobufCFieldDescriptor *f, bool is_json,
                             const void *p, bool keep_default, bool *bad)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        json_t *v;
        if (s == NULL || (s[0] == '\0' && !keep_default))
            return NULL;
        if (!is_json)
            return json_string(s);
        v = sb_json_parse(s, strlen(s), SB_ERR_INVALID_REQUEST, "field",
                          NULL);
        if (v == NULL)
            *bad = true;
        if (json_is_null(v)) {
            json_decref(v);
            v = NULL;
        }
        return v;
    }
    case PROTOBUF_C_TYPE_BOOL:
        if (!*(const protobuf_c_boolean *)p && !keep_default)
            return NULL;
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
        if (*(const int64_t *)p == 0 && !keep_default)
            return NULL;
        return json_integer(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
        if (*(const int32_t *)p == 0 && !keep_default)
            return NULL;
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_MESSAGE:
        if (*(ProtobufCMessage *const *)p == NULL)
            return NULL;
        return message_to_json(*(ProtobufCMessage *const *)p, bad);
    default:
        return NULL;
    }
}

static json_t *message_to_json(const ProtobufCMessage *m, bool *bad)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    json_t *obj = json_object();
    unsigned i;

    for (i = 0; i < d->n_fields && obj != NULL; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const void *slot = (const char *)m + f->offset;
        char nbuf[64];
        bool is_json;
        const char *name = json_name(f, nbuf, sizeof(nbuf), &is_json);
        json_t *v;

        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            size_t k, es = element_size(f);
            const char *base = *(char *const *)slot;
            v = is_map(f) ? json_object() : json_array();
            for (k = 0; k < n && v != NULL; k++) {
                const void *ep = base + k * es;
                if (is_map(f)) {
                    const ProtobufCMessage *e = *(ProtobufCMessage *const *)ep;
                    const ProtobufCMessageDescriptor *ed = f->descriptor;
                    const char *key =
                        *(char *const *)((const char *)e + ed->fields[0].offset);
                    json_t *ev = value_to_json(&ed->fields[1], false,
                                               (const char *)e +
                                                   ed->fields[1].offset,
                                               true, bad);
                    if (key != NULL && ev != NULL)
                        json_object_set_new(v, key, ev);
                    else
                        json_decref(ev);
                } else {
                    json_array_append_new(v, value_to_json(f, false, ep,
                                                           true, bad));
                }
            }
            if (v != NULL && n == 0) {
                json_decref(v);
                v = NULL;
            }
        } else {
            v = value_to_json(f, is_json, slot, false, bad);
        }
        if (v != NULL)
            json_object_set_new(obj, name, v);
    }
    return obj;
}

json_t *sb_wire_unpack(const uint8_t *buf, size_t len,
                       const ProtobufCMessageDescriptor *d, struct sb_err *err)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, buf);
    bool bad = false;
    json_t *j;

    if (m == NULL) {
        sb_err_set(err, SB_ERR_INVALID_REQUEST,
                   "body is not a valid %s protobuf message", d->short_name);
        return NULL;
    }
    j = message_to_json(m, &bad);
    protobuf_c_message_free_unpacked(m, NULL);
    if (j == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    } else if (bad) {
        json_decref(j);
        j = NULL;
        sb_err_set(err, SB_ERR_INVALID_REQUEST,
                   "a *_json field of the %s message is not valid JSON "
                   "(or nested too deep)", d->short_name);
    }
    return j;
}
