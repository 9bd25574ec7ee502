/* test_gob.c - the gob decoder and encoder of session.Values: streams made
 * by real Go (encoding/gob of go 1.19), the vectors' gob bytes, the JSON
 * form of every supported Go type, round trips, and a bad-input table
 * built with a small gob writer of the test's own. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/gob.h"
#include "codec_fixture.h"
#include "sessionbridge/jsonutil.h"
#include "unit_run.h"

/* ---- helpers ----------------------------------------------------------- */

/* Decodes buf and expects the JSON text `want`. */
static void expect_decode(const unsigned char *buf, size_t n, const char *want,
                          const char *label)
{
    struct sb_err err = {0};
    json_t *got = NULL, *exp = fix_parse(want);
    char *text;

    ck_assert_msg(sb_gob_decode_values(buf, n, &got, &err) == 0, "%s: %s",
                  label, err.msg);
    text = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);
    ck_assert_msg(json_equal(got, exp), "%s: got %s", label, text);
    free(text);
    json_decref(got);
    json_decref(exp);
}

/* Decodes buf and expects failure with `code` and `msg` in the message. */
static void expect_fail(const unsigned char *buf, size_t n,
                        enum sb_err_code code, const char *msg,
                        const char *label)
{
    struct sb_err err = {0};
    json_t *got = NULL;

    ck_assert_msg(sb_gob_decode_values(buf, n, &got, &err) == -1,
                  "%s: decoded", label);
    ck_assert_ptr_null(got);
    ck_assert_msg(err.code == code && strstr(err.msg, msg) != NULL,
                  "%s: got %s \"%s\", want %s \"%s\"", label,
                  sb_err_code_name(err.code), err.msg, sb_err_code_name(code),
                  msg);
}

/* A gob writer independent of the code under test. */
struct w {
    unsigned char b[8192];
    size_t n;
};

static void w_byte(struct w *w, unsigned v)
{
    ck_assert_uint_lt(w->n, sizeof(w->b));
    w->b[w->n++] = (unsigned char)v;
}

static void w_uint(struct w *w, uint64_t v)
{
    int n = 0, i;

    if (v < 128) {
        w_byte(w, (unsigned)v);
        return;
    }
    for (i = 56; i >= 0; i -= 8)
        n += (n > 0 || (v >> i) != 0);
    w_byte(w, 256 - (unsigned)n);
    for (i = (n - 1) * 8; i >= 0; i -= 8)
        w_byte(w, (unsigned)(v >> i) & 0xFF);
}

static void w_int(struct w *w, int64_t v)
{
    w_uint(w, v < 0 ? (~(uint64_t)v << 1) | 1 : (uint64_t)v << 1);
}

static void w_str(struct w *w, const char *s)
{
    w_uint(w, strlen(s));
    memcpy(w->b + w->n, s, strlen(s));
    w->n += strlen(s);
}

static void w_raw(struct w *w, const struct w *src)
{
    memcpy(w->b + w->n, src->b, src->n);
    w->n += src->n;
}

/* Appends uint(len(msg)) msg. */
static void w_msg(struct w *w, const struct w *msg)
{
    w_uint(w, msg->n);
    w_raw(w, msg);
}

/* The definition message of map[interface{}]interface{} as id. */
static void w_session_def(struct w *w, int64_t id)
{
    struct w m = {.n = 0};

    w_int(&m, -id);
    w_uint(&m, 4);               /* MapT */
    w_uint(&m, 1);               /* CommonType */
    w_uint(&m, 2);               /* Id */
    w_int(&m, id);
    w_uint(&m, 0);
    w_uint(&m, 1);               /* Key = interface */
    w_int(&m, 8);
    w_uint(&m, 1);               /* Elem = interface */
    w_int(&m, 8);
    w_uint(&m, 0);
    w_uint(&m, 0);
    w_msg(w, &m);
}

/* An interface value: name, id, uint(len(data)), data. */
static void w_iface(struct w *w, const char *name, int64_t id,
                    const struct w *data)
{
    w_str(w, name);
    w_int(w, id);
    w_msg(w, data);
}

static void w_iface_string(struct w *w, const char *s)
{
    struct w d = {.n = 0};

    w_uint(&d, 0);
    w_str(&d, s);
    w_iface(w, "string", 6, &d);
}

/* A whole stream: definition of 65, then a value message holding `count`
 * entries whose bytes are `entries`. */
static void w_stream(struct w *w, uint64_t count, const struct w *entries)
{
    struct w m = {.n = 0};

    w_session_def(w, 65);
    w_int(&m, 65);
    w_uint(&m, 0);
    w_uint(&m, count);
    w_raw(&m, entries);
    w_msg(w, &m);
}

/* One entry "k" -> an interface value of `name` and `id` with data. */
static void w_entry(struct w *e, const char *name, int64_t id,
                    const struct w *data)
{
    w_iface_string(e, "k");
    w_iface(e, name, id, data);
}

/* ---- streams made by Go ------------------------------------------------ */

/* Each made by gob.NewEncoder(&b).Encode(map[interface{}]interface{}{...})
 * in go 1.19.8 with map[string]interface{} registered. */
static const struct {
    const char *label, *hex, *json;
} go_streams[] = {
    {"nested map",
     "0eff81040102ff820001100110000036ff82000106737472696e670c03000161176d61"
     "705b737472696e675d696e74657266616365207b7dff83040102ff8400010c01100000"
     "0fff840c0001017803696e7404020002",
     "{\"a\":{\"x\":1}}"},
    {"[]string",
     "0eff81040102ff820001100110000025ff82000106737472696e670c03000161085b5d"
     "737472696e67ff85020102ff8600010c000009ff8606000201700171",
     "{\"a\":[\"p\",\"q\"]}"},
    {"[]byte and uint",
     "0eff81040102ff820001100110000033ff82000206737472696e670c03000161075b5d"
     "75696e74380a040002010206737472696e670c030001620475696e7406020007",
     "{\"a\":{\" b\":\"AQI=\"},\"b\":{\" uint\":7}}"},
    {"nil",
     "0eff81040102ff820001100110000011ff82000106737472696e670c0300016100",
     "{\"a\":null}"},
    {"map in map",
     "0eff81040102ff820001100110000036ff82000106737472696e670c03000161176d61"
     "705b737472696e675d696e74657266616365207b7dff83040102ff8400010c01100000"
     "2fff842c00010178176d61705b737472696e675d696e74657266616365207b7dff84"
     "0d0001017904626f6f6c02020001",
     "{\"a\":{\"x\":{\"y\":true}}}"},
    {"int8 and float32",
     "0eff81040102ff820001100110000033ff82000206737472696e670c0300016207666c"
     "6f61743332080400fef83f06737472696e670c0300016104696e743804020005",
     "{\"a\":{\" int8\":-3},\"b\":{\" float32\":1.5}}"},
    /* the process had encoded a struct first: the map is type 66 */
    {"type id 66",
     "0eff83040102ff84000110011000001cff84000106737472696e670c0300016b06737472"
     "696e670c03000176",
     "{\"k\":\"v\"}"},
    /* []string first seen inside a nested map: its definition is inline,
     * followed by a count, within the value */
    {"definition inside a nested map",
     "0eff83040102ff840001100110000036ff84000106737472696e670c0300016d176d61"
     "705b737472696e675d696e74657266616365207b7dff85040102ff8600010c01100000"
     "33ff861c00020474616773085b5d737472696e67ff87020102ff8800010c000013ff88"
     "06000201610162016e03696e7404020004",
     "{\"m\":{\"tags\":[\"a\",\"b\"],\"n\":2}}"},
};

START_TEST(test_go_streams)
{
    size_t n;
    unsigned char *b = fix_unhex(go_streams[_i].hex, &n);

    expect_decode(b, n, go_streams[_i].json, go_streams[_i].label);
    free(b);
}
END_TEST

/* A real Go stream whose map[string]interface {} came first in Go's random
 * map order: the top-level message ends after that type's definition, and
 * the other 30 entries counted at its start are in the next message. */
static const char *const split_stream =
    "0eff81040102ff820001100110000036ff82001f06737472696e670c03000161176d"
    "61705b737472696e675d696e74657266616365207b7dff83040102ff8400010c0110"
    "0000fe02a3ff840c0001017803696e740402000206737472696e670c0500036b3034"
    "03696e740402000806737472696e670c0500036b303603696e740402000c06737472"
    "696e670c0500036b303703696e740402000e06737472696e670c0500036b31310369"
    "6e740402001606737472696e670c0500036b313803696e740402002406737472696e"
    "670c0500036b303103696e740402000206737472696e670c0500036b323103696e74"
    "0402002a06737472696e670c0500036b323303696e740402002e06737472696e670c"
    "0500036b323603696e740402003406737472696e670c0500036b303803696e740402"
    "001006737472696e670c0500036b313003696e740402001406737472696e670c0500"
    "036b323203696e740402002c06737472696e670c0500036b303503696e740402000a"
    "06737472696e670c0500036b303903696e740402001206737472696e670c0500036b"
    "313403696e740402001c06737472696e670c0500036b313203696e74040200180673"
    "7472696e670c0500036b313303696e740402001a06737472696e670c0500036b3234"
    "03696e740402003006737472696e670c0500036b323703696e740402003606737472"
    "696e670c0500036b323803696e740402003806737472696e670c0500036b31360369"
    "6e740402002006737472696e670c0500036b313703696e740402002206737472696e"
    "670c0500036b313903696e740402002606737472696e670c0500036b323003696e74"
    "0402002806737472696e670c0500036b323903696e740402003a06737472696e670c"
    "0500036b303003696e740402000006737472696e670c0500036b303203696e740402"
    "000406737472696e670c0500036b303303696e740402000606737472696e670c0500"
    "036b313503696e740402001e06737472696e670c0500036b323503696e7404020032";

START_TEST(test_go_split_message)
{
    json_t *want = json_pack("{s:{s:i}}", "a", "x", 1);
    char key[8], *text;
    size_t n, i;
    unsigned char *b = fix_unhex(split_stream, &n);

    for (i = 0; i < 30; i++) {
        snprintf(key, sizeof(key), "k%02zu", i);
        json_object_set_new(want, key, json_integer((json_int_t)i));
    }
    text = json_dumps(want, JSON_COMPACT);
    expect_decode(b, n, text, "split message");
    free(text);
    json_decref(want);
    free(b);
}
END_TEST

/* Go's stream with a 300-byte string, uint64 max and int64 min: the
 * uint64 has no JSON integer and is refused by name. */
START_TEST(test_go_uint64_max)
{
    static const char *const hex =
        "0eff83040102ff8400011001100000fe018cff84000306737472696e670c03000173"
        "06737472696e670cfe013000fe012c";
    struct w w = {.n = 0};
    size_t n, i;
    unsigned char *b = fix_unhex(hex, &n);

    memcpy(w.b, b, n);
    w.n = n;
    for (i = 0; i < 300; i++)
        w_byte(&w, 'x');
    free(b);
    b = fix_unhex("06737472696e670c0500037536340675696e743634060a00f8ffffffff"
                  "ffffffff06737472696e670c05000369363405696e743634040a00f8ff"
                  "ffffffffffffff", &n);
    memcpy(w.b + w.n, b, n);
    w.n += n;
    free(b);
    expect_fail(w.b, w.n, SB_ERR_UNSUPPORTED, "uint64 above 2^63-1",
                "uint64 max");
}
END_TEST

/* The vectors' real gob bytes decode to their typed expected payloads. */
START_TEST(test_vector_gob)
{
    json_t *vs = fix_vectors("gorilla"), *v;
    size_t i, checked = 0;

    json_array_foreach(vs, i, v) {
        const char *hex = json_string_value(json_object_get(v, "gob_hex"));
        const char *name = json_string_value(json_object_get(v, "name"));
        json_t *exp = json_object(), *ev, *got = NULL;
        const char *key;
        struct sb_err err = {0};
        unsigned char *b;
        size_t n;

        if (hex == NULL) {
            json_decref(exp);
            continue;
        }
        json_object_foreach(json_object_get(v, "expected_payload"), key, ev) {
            const char *type = json_string_value(json_object_get(ev, "type"));
            json_t *val = json_object_get(ev, "value");
            char tag[40];
            if (strcmp(type, "int") == 0 || strcmp(type, "string") == 0 ||
                strcmp(type, "bool") == 0) {
                json_object_set(exp, key, val);
            } else if (strcmp(type, "float64") == 0) {
                json_object_set_new(exp, key,
                                    json_real(json_number_value(val)));
            } else {
                snprintf(tag, sizeof(tag), " %s", type);
                json_object_set_new(exp, key, json_pack("{s:O}", tag, val));
            }
        }
        b = fix_unhex(hex, &n);
        ck_assert_msg(sb_gob_decode_values(b, n, &got, &err) == 0, "%s: %s",
                      name, err.msg);
        ck_assert_msg(json_equal(got, exp), "%s", name);
        /* float64 stays a real, int an integer */
        if (json_object_get(got, "score") != NULL)
            ck_assert(json_is_real(json_object_get(got, "score")));
        ck_assert(json_is_integer(json_object_get(got, "user_id")));
        json_decref(got);
        json_decref(exp);
        free(b);
        checked++;
    }
    ck_assert_uint_eq(checked, 4);
    json_decref(vs);
}
END_TEST

/* The encoder writes what securecookie's gob writes for int and string
 * values with sorted keys: the vectors' bytes exactly. */
START_TEST(test_encode_exact)
{
    static const struct {
        const char *json, *hex;
    } cases[] = {
        {"{\"username\":\"alice\",\"user_id\":42}",
         "0eff81040102ff820001100110000041ff82000206737472696e670c090007757365"
         "725f696403696e740402005406737472696e670c0a0008757365726e616d65067374"
         "72696e670c070005616c696365"},
        {"{\"user_id\":42}",
         "0eff81040102ff82000110011000001eff82000106737472696e670c090007757365"
         "725f696403696e7404020054"},
        {"{}", "0eff81040102ff820001100110000004ff820000"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = fix_parse(cases[i].json);
        struct sb_buf b;
        struct sb_err err = {0};
        size_t n;
        unsigned char *want = fix_unhex(cases[i].hex, &n);

        sb_buf_init(&b);
        ck_assert_int_eq(sb_gob_encode_values(v, &b, &err), 0);
        ck_assert_uint_eq(b.len, n);
        ck_assert_mem_eq(b.data, want, n);
        sb_buf_free(&b);
        free(want);
        json_decref(v);
    }
}
END_TEST

/* Every supported value survives encode -> decode, including the typed
 * forms, nesting at the cap, 2-byte lengths and the integer extremes. */
START_TEST(test_round_trip)
{
    static const char *const cases[] = {
        "{\"s\":\"Zo\\u00eb \\u2028 <&>\",\"t\":true,\"f\":false,\"i\":-5,"
        "\"z\":0,\"max\":9223372036854775807,\"min\":-9223372036854775808,"
        "\"r\":1.0,\"pi\":3.141592653589793,\"neg\":-2.5e-300,\"n\":null,"
        "\"tags\":[\"a\",\"\",\"c\"],\"empty\":[],"
        "\"m\":{\"x\":1,\"tags\":[\"q\"],"
        "\"deep\":{\"b\":{\" b\":\"AAFiaW4=\"}}}"
        ",\"raw\":{\" b\":\"\"},"
        "\"i8\":{\" int8\":-128},\"i16\":{\" int16\":32767},"
        "\"i32\":{\" int32\":-2147483648},"
        "\"i64\":{\" int64\":9007199254740993},"
        "\"u\":{\" uint\":9223372036854775807},\"u8\":{\" uint8\":255},"
        "\"u16\":{\" uint16\":65535},\"u32\":{\" uint32\":4294967295},"
        "\"u64\":{\" uint64\":0},\"f32\":{\" float32\":-0.5},"
        "\"not a tag\":{\" t\":[\"x\"]},\"two keys\":{\" b\":\"\",\"x\":1}}",
        "{}",
        "{\"\":\"\"}",
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = fix_parse(cases[i]), *got = NULL;
        struct sb_buf b;
        struct sb_err err = {0};

        sb_buf_init(&b);
        ck_assert_msg(sb_gob_encode_values(v, &b, &err) == 0, "%s", err.msg);
        ck_assert_msg(sb_gob_decode_values((unsigned char *)b.data, b.len,
                                           &got, &err) == 0, "%s", err.msg);
        ck_assert_msg(json_equal(got, v), "case %zu", i);
        ck_assert(json_is_real(json_object_get(got, "r")) ||
                  json_object_get(got, "r") == NULL);
        json_decref(got);
        json_decref(v);
        sb_buf_free(&b);
    }
}
END_TEST

/* A 300-byte string (2-byte length) and 200 entries (2-byte count). */
START_TEST(test_round_trip_sizes)
{
    json_t *v = json_object(), *got = NULL;
    struct sb_buf b;
    struct sb_err err = {0};
    char key[16], big[301];
    int i;

    memset(big, 'y', 300);
    big[300] = '\0';
    json_object_set_new(v, "big", json_string(big));
    for (i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "k%03d", i);
        json_object_set_new(v, key, json_integer(i * 1000003LL));
    }
    sb_buf_init(&b);
    ck_assert_int_eq(sb_gob_encode_values(v, &b, &err), 0);
    ck_assert_int_eq(sb_gob_decode_values((unsigned char *)b.data, b.len, &got,
                                          &err), 0);
    ck_assert(json_equal(got, v));
    json_decref(got);
    json_decref(v);
    sb_buf_free(&b);
}
END_TEST

/* Encoder refusals, each specific. */
START_TEST(test_encode_errors)
{
    static const struct {
        const char *json;
        enum sb_err_code code;
        const char *msg;
    } cases[] = {
        {"{\"a\":[1,2]}", SB_ERR_UNSUPPORTED, "[]interface {}"},
        {"{\"a\":[\"x\",null]}", SB_ERR_UNSUPPORTED, "[]interface {}"},
        {"{\"a\":{\" int8\":128}}", SB_ERR_INVALID_REQUEST, "int8"},
        {"{\"a\":{\" uint\":-1}}", SB_ERR_INVALID_REQUEST, "uint"},
        {"{\"a\":{\" uint16\":\"7\"}}", SB_ERR_INVALID_REQUEST, "uint16"},
        {"{\"a\":{\" float32\":1e39}}", SB_ERR_INVALID_REQUEST, "float32"},
        {"{\"a\":{\" float32\":true}}", SB_ERR_INVALID_REQUEST, "number"},
        {"{\"a\":{\" b\":\"!!!!\"}}", SB_ERR_INVALID_REQUEST, "base64"},
        {"{\"a\":{\" b\":\"AAE\"}}", SB_ERR_INVALID_REQUEST, "base64"},
        {"{\"a\":{\" b\":7}}", SB_ERR_INVALID_REQUEST, "base64"},
        {"[1]", SB_ERR_INVALID_REQUEST, "object"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = fix_parse(cases[i].json);
        struct sb_buf b;
        struct sb_err err = {0};

        sb_buf_init(&b);
        ck_assert_int_eq(sb_gob_encode_values(v, &b, &err), -1);
        ck_assert_msg(err.code == cases[i].code &&
                          strstr(err.msg, cases[i].msg) != NULL,
                      "%s: %s %s", cases[i].json, sb_err_code_name(err.code),
                      err.msg);
        sb_buf_free(&b);
        json_decref(v);
    }
}
END_TEST

/* Objects nested to the cap encode; one more level is too_large. */
START_TEST(test_encode_depth)
{
    json_t *v = json_object(), *inner = v, *next;
    struct sb_buf b;
    struct sb_err err = {0};
    int i;

    for (i = 1; i < SB_GOB_DEPTH_MAX; i++) {
        next = json_object();
        json_object_set_new(inner, "d", next);
        inner = next;
    }
    json_object_set_new(inner, "leaf", json_true());
    sb_buf_init(&b);
    ck_assert_int_eq(sb_gob_encode_values(v, &b, &err), 0);
    sb_buf_free(&b);
    json_object_set_new(inner, "d", json_pack("{s:b}", "leaf", 1));
    sb_buf_init(&b);
    ck_assert_int_eq(sb_gob_encode_values(v, &b, &err), -1);
    ck_assert_int_eq(err.code, SB_ERR_TOO_LARGE);
    sb_buf_free(&b);
    json_decref(v);
}
END_TEST

/* ---- bad input --------------------------------------------------------- */

/* Stream of one entry "k" -> (name, id, data). */
static void one_entry(struct w *w, const char *name, int64_t id,
                      const struct w *data)
{
    struct w e = {.n = 0};

    w_entry(&e, name, id, data);
    w_stream(w, 1, &e);
}

/* Makes d the data of a basic Go value: the singleton marker 0, then v as
 * a gob unsigned (value_uint) or signed (value_int) integer. */
static void value_uint(struct w *d, uint64_t v)
{
    d->n = 0;
    w_uint(d, 0);
    w_uint(d, v);
}

static void value_int(struct w *d, int64_t v)
{
    d->n = 0;
    w_uint(d, 0);
    w_int(d, v);
}

/* Expects the stream of one entry "k" -> (name, id, data) to fail with
 * code and msg. */
static void expect_entry_fail(const char *name, int64_t id,
                              const struct w *data, enum sb_err_code code,
                              const char *msg, const char *label)
{
    struct w w = {.n = 0};

    one_entry(&w, name, id, data);
    expect_fail(w.b, w.n, code, msg, label);
}

START_TEST(test_bad_streams)
{
    struct w w = {.n = 0}, d = {.n = 0}, e = {.n = 0}, m = {.n = 0};
    int i;

    expect_fail(w.b, 0, SB_ERR_MALFORMED, "ends before its value", "empty");

    /* a definition message longer than the stream */
    w_byte(&w, 0x0e);
    w_byte(&w, 0xff);
    w_byte(&w, 0x81);
    expect_fail(w.b, w.n, SB_ERR_MALFORMED,
                "message length (14) points past the end", "short message");

    /* an 8-byte length prefix */
    w.n = 0;
    w_uint(&w, UINT64_MAX - 5);
    w_byte(&w, 0);
    expect_fail(w.b, w.n, SB_ERR_MALFORMED, "points past the end",
                "huge message length");

    /* a length byte claiming 16 bytes */
    w.n = 0;
    w_byte(&w, 0xf0);
    expect_fail(w.b, w.n, SB_ERR_MALFORMED, "bad length byte 0xf0",
                "bad uint prefix");

    /* the value is of a type id nobody defined */
    w.n = 0;
    w_session_def(&w, 65);
    m.n = 0;
    w_int(&m, 70);
    w_uint(&m, 0);
    w_uint(&m, 0);
    w_msg(&w, &m);
    expect_fail(w.b, w.n, SB_ERR_MALFORMED, "unknown type id 70",
                "unknown value type");

    /* an interface value of an unknown concrete id */
    value_int(&d, 1);
    expect_entry_fail("int", 99, &d, SB_ERR_MALFORMED, "unknown type id 99",
                      "unknown interface type");

    /* a name that says int with the id of string */
    expect_entry_fail("int", 6, &d, SB_ERR_MALFORMED,
                      "does not match Go type int", "mismatched id");

    /* a string whose length points past the end */
    value_uint(&d, 200);
    w_byte(&d, 'x');
    expect_entry_fail("string", 6, &d, SB_ERR_MALFORMED,
                      "string length (200) points past the end",
                      "string length");

    /* a huge 8-byte string length */
    value_uint(&d, UINT64_MAX);
    expect_entry_fail("string", 6, &d, SB_ERR_MALFORMED,
                      "points past the end", "huge string length");

    /* a map count no message could hold */
    w.n = 0;
    e.n = 0;
    w_stream(&w, 1000000, &e);
    expect_fail(w.b, w.n, SB_ERR_MALFORMED,
                "map count (1000000) points past the end of the stream",
                "map count");

    /* an interface value length past the end */
    w.n = 0;
    e.n = 0;
    w_iface_string(&e, "k");
    w_str(&e, "int");
    w_int(&e, 2);
    w_uint(&e, 90);
    w_uint(&e, 0);
    w_int(&e, 1);
    w_stream(&w, 1, &e);
    expect_fail(w.b, w.n, SB_ERR_MALFORMED,
                "interface value length (90) points past", "value length");

    /* a Go type the bridge does not map, named */
    d.n = 0;
    w_uint(&d, 0);
    expect_entry_fail("time.Time", 70, &d, SB_ERR_UNSUPPORTED,
                      "Go type time.Time", "time.Time");
    expect_entry_fail("main.User", 70, &d, SB_ERR_UNSUPPORTED,
                      "Go type main.User", "struct");
    expect_entry_fail("[]int", 70, &d, SB_ERR_UNSUPPORTED, "Go type []int",
                      "[]int");
    expect_entry_fail("complex128", 7, &d, SB_ERR_UNSUPPORTED,
                      "Go type complex128", "complex");

    /* a non-string session key */
    w.n = 0;
    e.n = 0;
    value_int(&d, 7);
    w_iface(&e, "int", 2, &d);
    w_iface_string(&e, "v");
    w_stream(&w, 1, &e);
    expect_fail(w.b, w.n, SB_ERR_UNSUPPORTED, "session key of Go type int",
                "int key");

    /* a struct definition at the top */
    w.n = 0;
    m.n = 0;
    w_int(&m, -65);
    w_uint(&m, 3); /* StructT */
    w_uint(&m, 0);
    w_msg(&w, &m);
    expect_fail(w.b, w.n, SB_ERR_UNSUPPORTED,
                "struct type definitions are not supported", "struct def");

    /* a top-level value that is not the session map */
    w.n = 0;
    m.n = 0;
    w_int(&m, 6);
    w_uint(&m, 0);
    w_str(&m, "x");
    w_msg(&w, &m);
    expect_fail(w.b, w.n, SB_ERR_UNSUPPORTED, "not a map[interface {}]",
                "string at top");

    /* the same id defined twice, and a reserved id */
    w.n = 0;
    w_session_def(&w, 65);
    w_session_def(&w, 65);
    expect_fail(w.b, w.n, SB_ERR_MALFORMED, "type id 65 is defined twice",
                "duplicate definition");
    w.n = 0;
    w_session_def(&w, 5);
    expect_fail(w.b, w.n, SB_ERR_MALFORMED, "reserved type id 5",
                "reserved id");

    /* more definitions than the cap */
    w.n = 0;
    for (i = 0; i < 17; i++)
        w_session_def(&w, 65 + i);
    expect_fail(w.b, w.n, SB_ERR_TOO_LARGE, "more than 16 type definitions",
                "many definitions");

    /* a value out of its type's range, and a bool of 2 */
    value_int(&d, 128);
    expect_entry_fail("int8", 2, &d, SB_ERR_MALFORMED, "int8 out of range",
                      "int8");
    value_uint(&d, 65536);
    expect_entry_fail("uint16", 3, &d, SB_ERR_MALFORMED,
                      "uint16 out of range", "uint16");
    value_uint(&d, 2);
    expect_entry_fail("bool", 1, &d, SB_ERR_MALFORMED, "neither 0 nor 1",
                      "bool");

    /* NaN (bits 7ff8... reversed) */
    value_uint(&d, 0xf87f);
    expect_entry_fail("float64", 4, &d, SB_ERR_UNSUPPORTED, "NaN or infinite",
                      "NaN");

    /* a string that is not UTF-8 */
    value_uint(&d, 2);
    w_byte(&d, 0xc3);
    w_byte(&d, 0x28);
    expect_entry_fail("string", 6, &d, SB_ERR_UNSUPPORTED, "not valid UTF-8",
                      "UTF-8");

    /* a non-zero singleton marker */
    d.n = 0;
    w_uint(&d, 1);
    w_int(&d, 1);
    expect_entry_fail("int", 2, &d, SB_ERR_MALFORMED,
                      "non-zero singleton marker", "singleton");

    /* the same key twice */
    w.n = 0;
    e.n = 0;
    w_iface_string(&e, "k");
    w_iface_string(&e, "v");
    w_iface_string(&e, "k");
    w_iface_string(&e, "v");
    w_stream(&w, 2, &e);
    expect_fail(w.b, w.n, SB_ERR_MALFORMED, "map key repeats", "dup key");

    /* a type name longer than Go allows */
    w.n = 0;
    e.n = 0;
    w_iface_string(&e, "k");
    w_uint(&e, 1100);
    for (i = 0; i < 1100; i++)
        w_byte(&e, 'T');
    w_stream(&w, 1, &e);
    expect_fail(w.b, w.n, SB_ERR_TOO_LARGE, "type name of 1100 bytes",
                "long name");

    /* bytes after the value, inside its message and as another message */
    w.n = 0;
    e.n = 0;
    w_iface_string(&e, "k");
    w_iface_string(&e, "v");
    w_byte(&e, 0);
    w_stream(&w, 1, &e);
    expect_fail(w.b, w.n, SB_ERR_MALFORMED, "extra bytes after the value",
                "trailing byte");
    w.n = 0;
    e.n = 0;
    w_stream(&w, 0, &e);
    w_byte(&w, 1);
    w_byte(&w, 0);
    expect_fail(w.b, w.n, SB_ERR_MALFORMED, "extra bytes after the value",
                "trailing message");
}
END_TEST

/* Nested maps: the session map and 15 levels below it decode; one level
 * more is too_large. */
START_TEST(test_deep_nesting)
{
    static const char *const map_name = "map[string]interface {}";
    struct w *w = calloc(1, sizeof(*w)), *e = calloc(1, sizeof(*e));
    struct w m = {.n = 0};
    int levels, i;

    ck_assert_ptr_nonnull(w);
    ck_assert_ptr_nonnull(e);
    for (levels = 15; levels <= 16; levels++) {
        /* definition of 66 = map[string]interface{} in its own message */
        w->n = 0;
        e->n = 0;
        w_session_def(w, 65);
        m.n = 0;
        w_int(&m, -66);
        w_uint(&m, 4);
        w_uint(&m, 1);
        w_uint(&m, 2);
        w_int(&m, 66);
        w_uint(&m, 0);
        w_uint(&m, 1);
        w_int(&m, 6);
        w_uint(&m, 1);
        w_int(&m, 8);
        w_uint(&m, 0);
        w_uint(&m, 0);
        w_msg(w, &m);
        /* value: "k" -> map{"k" -> map{... -> true}} levels deep */
        w_int(e, 65);
        w_uint(e, 0);
        w_uint(e, 1);
        w_iface_string(e, "k");
        for (i = 0; i < levels; i++) {
            w_str(e, map_name);
            w_int(e, 66);
            w_uint(e, 0); /* byte count: ignored by Go and by the bridge */
            w_uint(e, 0);
            w_uint(e, 1);
            w_str(e, "k");
        }
        w_str(e, "bool");
        w_int(e, 1);
        w_uint(e, 2);
        w_uint(e, 0);
        w_uint(e, 1);
        w_msg(w, e);
        if (levels == 15) {
            json_t *got = NULL;
            struct sb_err err = {0};
            ck_assert_msg(sb_gob_decode_values(w->b, w->n, &got, &err) == 0,
                          "%s", err.msg);
            json_decref(got);
        } else {
            expect_fail(w->b, w->n, SB_ERR_TOO_LARGE,
                        "maps nested deeper than 16", "17 levels");
        }
    }
    free(w);
    free(e);
}
END_TEST

/* Every prefix of a rich stream fails cleanly; every one-byte change and
 * every inserted byte either decodes or fails with an error, never
 * crashes (the sanitizer build checks the memory side). */
START_TEST(test_truncation_and_mutation)
{
    json_t *v = fix_parse("{\"a\":{\"x\":[\"p\"],\"y\":{\" b\":\"AQI=\"}},"
                          "\"n\":null,\"i\":{\" int64\":-7},\"f\":2.5,"
                          "\"t\":true}"), *got;
    struct sb_buf b;
    struct sb_err err;
    unsigned char *buf;
    size_t n, i, bit;

    sb_buf_init(&b);
    ck_assert_int_eq(sb_gob_encode_values(v, &b, &err), 0);
    buf = malloc(b.len + 1);
    for (n = 0; n < b.len; n++) {
        memcpy(buf, b.data, n);
        got = NULL;
        sb_err_clear(&err);
        ck_assert_msg(sb_gob_decode_values(buf, n, &got, &err) == -1,
                      "prefix %zu decoded", n);
        ck_assert_int_eq(err.code, SB_ERR_MALFORMED);
    }
    for (i = 0; i < b.len; i++) {
        for (bit = 0; bit < 8; bit++) {
            memcpy(buf, b.data, b.len);
            buf[i] ^= (unsigned char)(1u << bit);
            got = NULL;
            sb_err_clear(&err);
            if (sb_gob_decode_values(buf, b.len, &got, &err) == 0)
                json_decref(got);
            else
                ck_assert_int_ne(err.code, SB_OK);
        }
    }
    free(buf);
    sb_buf_free(&b);
    json_decref(v);
}
END_TEST

/* A float32 sent with float64 precision reads as Go stores it: rounded to
 * float32 (found by fuzz_gob: otherwise it would not encode back the same). */
START_TEST(test_float32_rounding)
{
    struct w w = {.n = 0}, d = {.n = 0};
    double x = 0.1, tiny = 1e-77;
    uint64_t bits;
    char want[96];

    memcpy(&bits, &x, sizeof(bits));
    value_uint(&d, __builtin_bswap64(bits));
    one_entry(&w, "float32", 4, &d);
    snprintf(want, sizeof(want), "{\"k\":{\" float32\":%.17g}}",
             (double)(float)0.1);
    expect_decode(w.b, w.n, want, "float32 0.1");
    w.n = 0;
    memcpy(&bits, &tiny, sizeof(bits));
    value_uint(&d, __builtin_bswap64(bits));
    one_entry(&w, "float32", 4, &d);
    expect_decode(w.b, w.n, "{\"k\":{\" float32\":0.0}}", "float32 underflow");
}
END_TEST

START_TEST(test_number_types)
{
    ck_assert(sb_gob_is_number_type("int64"));
    ck_assert(sb_gob_is_number_type("uint"));
    ck_assert(sb_gob_is_number_type("float32"));
    ck_assert(sb_gob_is_number_type("int"));
    ck_assert(!sb_gob_is_number_type("string"));
    ck_assert(!sb_gob_is_number_type("[]uint8"));
    ck_assert(!sb_gob_is_number_type("uintptr"));
}
END_TEST

static Suite *gob_suite(void)
{
    Suite *s = suite_create("gob");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_go_streams, 0,
                        (int)(sizeof(go_streams) / sizeof(go_streams[0])));
    tcase_add_test(tc, test_go_split_message);
    tcase_add_test(tc, test_go_uint64_max);
    tcase_add_test(tc, test_vector_gob);
    tcase_add_test(tc, test_encode_exact);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_round_trip_sizes);
    tcase_add_test(tc, test_encode_errors);
    tcase_add_test(tc, test_encode_depth);
    tcase_add_test(tc, test_bad_streams);
    tcase_add_test(tc, test_deep_nesting);
    tcase_add_test(tc, test_truncation_and_mutation);
    tcase_add_test(tc, test_float32_rounding);
    tcase_add_test(tc, test_number_types);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(gob_suite());
}
