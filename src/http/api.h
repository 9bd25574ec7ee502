/*
 * api.h - what the /v1 endpoint files share: caller authentication, request
 * bodies in JSON, protobuf or form encoding, answers in the format the
 * caller asked for, and the request's parts the bridge needs.  Every
 * decision about a credential is the bridge's (sessionbridge/bridge.h).
 *
 * Every sb_api_* function that can fail answers the request itself (the
 * standard error body, in the negotiated format) and returns -1 / false,
 * so a handler only returns.
 */
#ifndef SB_API_H
#define SB_API_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "http.h"
#include "sessionbridge/bridge.h"
#include "sessionbridge/codec.h"
#include "sessionbridge/session.h"
#include "sessionbridge/v1/api.pb-c.h"

/* ---- wire formats (wire.c) ------------------------------------------------ */

/* Converts JSON to a packed protobuf message of descriptor d, following the
 * JSON mapping of api.proto (a field "x_json" is JSON value "x", a map is
 * an object).  Fields the message lacks are ignored.  *out is a new buffer
 * the caller frees. */
int sb_wire_pack(const json_t *j, const ProtobufCMessageDescriptor *d,
                 uint8_t **out, size_t *len, struct sb_err *err);

/* Unpacks a binary message of descriptor d into its JSON form (fields left
 * at their proto3 defaults are omitted).  Returns a new reference or NULL
 * with SB_ERR_INVALID_REQUEST. */
json_t *sb_wire_unpack(const uint8_t *buf, size_t len,
                       const ProtobufCMessageDescriptor *d, struct sb_err *err);

/* ---- requests and answers (api.c) ----------------------------------------- */

/* Who may call an endpoint.  The admin role may call whatever a backend
 * may: no HTTP endpoint of v1 is admin-only (managing API keys and purges
 * are the admin CLI's, straight on Redis). */
enum sb_api_access {
    SB_API_BACKEND,        /* a backend or admin X-Bridge-Token */
    SB_API_OPEN_AUTH,      /* same, or a loopback peer when [api]
                              open_on_loopback lists auth */
    SB_API_OPEN_VALIDATE,  /* same with validate */
    SB_API_STATUS          /* an admin X-Bridge-Token (a backend one is
                              403), or a loopback peer when [api]
                              open_on_loopback lists status */
};

/* Checks the caller; answers 401 (no or unknown token) or 403 (a token
 * of too small a role) and returns false when it may not call. */
bool sb_api_authorize(struct sb_http_req *req, enum sb_api_access access);

/* True when the caller asked for protobuf answers. */
bool sb_api_wants_protobuf(const struct sb_http_req *req);

/* Reads the request body as protobuf message d when the Content-Type names
 * protobuf, else as a JSON object (whatever the Content-Type), into *out.
 * An empty body gives NULL when `optional`, else 400 missing_body.  Bad
 * input answers 400 invalid_json / invalid_protobuf / 413. */
int sb_api_body(struct sb_http_req *req, const ProtobufCMessageDescriptor *d,
                bool optional, json_t **out);

/* Reads an application/x-www-form-urlencoded body (RFC 7662 / 7009): the
 * value of `name`, URL-decoded, into buf.  Returns its length, or -1 after
 * answering 400 / 415.  *present tells whether the field came at all. */
long sb_api_form_field(struct sb_http_req *req, const char *name, char *buf,
                       size_t size, bool *present);

/* The parser behind sb_api_form_field, on a body alone: the first field
 * `name` of body[0..len), URL-decoded into buf (NUL-terminated).  Returns
 * its length (0 when absent: *present false), or -1 when it is badly
 * escaped or does not fit in size. */
long sb_api_form_lookup(const char *body, size_t len, const char *name,
                        char *buf, size_t size, bool *present);

/* Field accessors for a JSON request: each answers 400 (missing_field,
 * wrong_type, invalid_field) and returns -1 on failure.  An absent optional
 * field leaves *out as it was. */
int sb_api_string(struct sb_http_req *req, const json_t *body,
                  const char *name, bool required, size_t max,
                  const char **out);
int sb_api_integer(struct sb_http_req *req, const json_t *body,
                   const char *name, int64_t min, int64_t max, int64_t *out);
int sb_api_object(struct sb_http_req *req, const json_t *body,
                  const char *name, bool required, const json_t **out);

/* The profile called name, or answers 400 unknown_profile and NULL. */
const struct sb_profile *sb_api_profile(struct sb_http_req *req,
                                        const char *name);

/* Answers status with body (reference stolen), as JSON or as protobuf
 * message d when the caller asked for it. */
void sb_api_reply(struct sb_http_req *req, unsigned status, json_t *body,
                  const ProtobufCMessageDescriptor *d);

/* The standard error body {"error": code, "message": ...}. */
void sb_api_error(struct sb_http_req *req, unsigned status, const char *code,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* An error from a struct sb_err: store -> 503 store_unavailable, too_large
 * -> 413, not_found -> 404, invalid_request -> 400, credential errors ->
 * 401, the rest 500. */
void sb_api_fail(struct sb_http_req *req, const struct sb_err *err);

/* A bridge over this request's config and this thread's store
 * connection (opened on first need). */
void sb_api_bridge(struct sb_http_req *req, struct sb_bridge *b);

/* The store connection of b, or answers 503 (500 on a layout mismatch)
 * and returns NULL. */
struct sb_redis *sb_api_store(struct sb_http_req *req, struct sb_bridge *b);

/* The request's context for codecs: now (sb_clock_now), the client
 * address (first X-Forwarded-For entry, else X-Real-IP, else the peer)
 * and User-Agent; addr is the caller's buffer for a forwarded address
 * (the peer's stays in req).  ctx borrows from both and from req. */
void sb_api_codec_ctx(struct sb_http_req *req, struct sb_codec_ctx *ctx,
                      char *addr, size_t addr_size);

/* The request's Cookie and Authorization headers, for the bridge. */
void sb_api_bridge_request(const struct sb_http_req *req,
                           struct sb_bridge_request *rq);

#endif
