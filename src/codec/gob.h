/*
 * gob.h - Go's encoding/gob for the one value gorilla/sessions stores in a
 * cookie, session.Values (a map[interface{}]interface{} with string keys),
 * to and from a JSON object (FORMATS.md 4.1).  Internal to src/codec/.
 *
 * The JSON form of each Go value (the canonical data of a gorilla profile;
 * README "gorilla" documents it for users):
 *
 *   Go value                      JSON
 *   string                        string
 *   bool                          true / false
 *   int                           integer
 *   float64                       real (1.0 stays 1.0)
 *   nil                           null
 *   []string                      array of strings
 *   map[string]interface {}       object, its values by these same rules
 *   []byte ([]uint8)              {" b": "<standard base64, padded>"}
 *                                 (Flask's tag for bytes, so bytes keep
 *                                 their type between the two formats)
 *   int8 int16 int32 int64        {" <type>": number}, e.g.
 *   uint uint8 uint16 uint32      {" int64": 9007199254740993},
 *   uint64 float32                {" uint": 7}, {" float32": 1.5}
 *
 * A one-key object whose key is one of those tags is a typed value; any
 * other object is a nested map.  Encoding is the inverse: a JSON integer
 * becomes int, a real float64, an array of strings (or an empty array)
 * []string; an array holding anything else has no Go type gob knows
 * without registration and is unsupported.  Typed values also accept the
 * redundant tags " int" and " float64".
 *
 * The decoder reads type ids from the stream's definitions (never assumes
 * 65), bounds-checks every count and length against its message, and fails
 * with a specific error: malformed (truncated, lengths past the end, unknown
 * or mismatched type ids), too_large (nesting, too many definitions) or
 * unsupported (a Go type outside the table, naming it).
 */
#ifndef SB_CODEC_GOB_H
#define SB_CODEC_GOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sessionbridge/err.h"
#include "sessionbridge/jsonutil.h"

#define SB_GOB_DEPTH_MAX 16 /* session map plus nested maps, at most */

/* Decodes the gob stream buf[0..len) (type definitions, then one
 * map[interface{}]interface{} value) into a new JSON object *out, which
 * the caller json_decref()s.  On failure *out is NULL and err says why. */
int sb_gob_decode_values(const unsigned char *buf, size_t len, json_t **out,
                         struct sb_err *err);

/* Appends to b the gob stream of the JSON object obj as one Encoder.Encode
 * of a map[interface{}]interface{} writes it: the map's definition as type
 * 65, the definitions of []string and map[string]interface {} when used,
 * then the value with its keys sorted.  On failure b may hold part of the
 * stream; errors are invalid_request (a malformed typed value),
 * unsupported and too_large. */
int sb_gob_encode_values(const json_t *obj, struct sb_buf *b,
                         struct sb_err *err);

/* True when name is a Go number type with a typed JSON form ("int64",
 * "uint", "float32", ...; also "int" and "float64"). */
bool sb_gob_is_number_type(const char *name);

#endif
