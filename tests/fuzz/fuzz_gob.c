/* fuzz_gob.c - libFuzzer target for the gob decoder and encoder of
 * session.Values (src/codec/gob.c).  The first input byte picks a mode:
 *   0: the rest is a gob stream: decoded; when it decodes, its JSON must
 *      encode, unless a nested map collides with a typed tag (invalid
 *      request), and the encoding must decode to the same JSON;
 *   1: the rest is JSON text: when it is an object that encodes, the
 *      decoded value must encode and decode to itself again (typed
 *      float32 and redundant " int" tags settle after one round).
 * Nothing may crash, leak or trip a sanitizer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/codec/gob.h"
#include "sessionbridge/jsonutil.h"

/* encode(v) decoded again into *out; 0, or -1 with err set. */
static int round_trip(const json_t *v, json_t **out, struct sb_err *err)
{
    struct sb_buf b;
    int rc;

    *out = NULL;
    sb_buf_init(&b);
    rc = sb_gob_encode_values(v, &b, err);
    if (rc == 0 &&
        sb_gob_decode_values((const unsigned char *)b.data, b.len, out,
                             err) != 0)
        abort(); /* the encoder wrote what the decoder refuses */
    sb_buf_free(&b);
    return rc;
}

static void stream_mode(const uint8_t *data, size_t size)
{
    struct sb_err err = {0};
    json_t *v = NULL, *again = NULL;

    if (sb_gob_decode_values(data, size, &v, &err) != 0) {
        if (v != NULL || err.code == SB_OK)
            abort();
        return;
    }
    if (round_trip(v, &again, &err) != 0) {
        if (err.code != SB_ERR_INVALID_REQUEST)
            abort();
    } else if (!json_equal(v, again)) {
        abort();
    }
    json_decref(again);
    json_decref(v);
}

static void json_mode(const uint8_t *data, size_t size)
{
    struct sb_err err = {0};
    json_t *v = sb_json_parse((const char *)data, size, SB_ERR_MALFORMED,
                              "fuzz JSON", &err), *once = NULL, *twice = NULL;

    if (v == NULL || !json_is_object(v)) {
        json_decref(v);
        return;
    }
    if (round_trip(v, &once, &err) == 0) {
        if (round_trip(once, &twice, &err) != 0 || !json_equal(once, twice))
            abort();
    }
    json_decref(twice);
    json_decref(once);
    json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] % 2 == 0)
        stream_mode(data + 1, size - 1);
    else
        json_mode(data + 1, size - 1);
    return 0;
}
