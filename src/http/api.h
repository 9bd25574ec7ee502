/*
 * api.h - what the /v1 endpoint files share: caller authentication, request
 * bodies in JSON, protobuf or form encoding, answers in the format the
 * caller asked for, this thread's store connection, and the search for a
 * valid credential in a request (cookies, Authorization).
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
#include "sessionbridge/codec.h"
#include "sessionbridge/redis.h"
#include "sessionbridge/session.h"
#include "sessionbridge/store.h"
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
    SB_API_OPEN_VALIDATE   /* same with validate */
};

/* Checks the caller; answers 401 (no or unknown token) and returns false
 * when it may not call. */
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

/* This thread's Redis connection (layout version checked once per
 * process).  NULL after answering 503. */
struct sb_redis *sb_api_redis(struct sb_http_req *req);

/* The current Unix time. */
int64_t sb_api_now(void);

/* The request's context for codecs: now, the client address (first
 * X-Forwarded-For entry, else X-Real-IP, else the peer) and User-Agent;
 * addr is the caller's buffer for the address. */
void sb_api_codec_ctx(struct sb_http_req *req, struct sb_codec_ctx *ctx,
                      char *addr, size_t addr_size);

/* ---- credentials (api.c) ---------------------------------------------------- */

/* Decodes token with profile p, or with every profile in turn when p is
 * NULL (the first that verifies wins; on failure err holds the most
 * specific error: any other code beats malformed).  out must be
 * initialised. */
int sb_api_decode_any(const struct sb_config *cfg, const struct sb_profile *p,
                      const char *token, size_t len,
                      const struct sb_codec_ctx *ctx, struct sb_session *out,
                      const struct sb_profile **used, struct sb_err *err);

/*
 * Completes a decoded session with what lives in Redis, then records it and
 * checks revocation (sb_store_record): for an express profile the
 * connect-redis record is read first (subject and data live there; a
 * missing record is an expired session).  Counts a created session in the
 * metrics.  SB_ERR_REVOKED / SB_ERR_STORE / SB_ERR_EXPIRED on failure.
 */
int sb_api_check(struct sb_redis *r, const struct sb_config *cfg,
                 const struct sb_profile *p, struct sb_session *s,
                 int64_t now, struct sb_err *err);

/* Encodes s for profile `to` as a translation does (issued now, expiring no
 * later than s and to's max_age; other profiles' subject fields left out
 * of the data) into *token; for an express profile the connect-redis
 * record is written when absent.  *set_cookie (may be NULL) receives the
 * Set-Cookie value.  Both are new strings. */
int sb_api_mint(struct sb_redis *r, const struct sb_config *cfg,
                const struct sb_profile *to, const struct sb_session *s,
                const struct sb_codec_ctx *ctx, char **token,
                char **set_cookie, struct sb_err *err);

/* A Cookie header split into pairs, borrowed from the header. */
#define SB_API_COOKIES_MAX 32

struct sb_api_cookie {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* One credential found in a request: a cookie of profile p, or a bearer
 * token for p (NULL: every profile is tried). */
struct sb_api_candidate {
    const struct sb_profile *p;
    const char *value; /* borrowed from the request's headers */
    size_t len;
    bool bearer;
};

/* The credentials of the request, cookies first (profile order), then an
 * Authorization bearer token; with `only`, just that profile's. */
size_t sb_api_candidates(const struct sb_http_req *req,
                         const struct sb_profile *only,
                         struct sb_api_candidate *out, size_t max);

/*
 * Finds the request's first credential that verifies and passes the store
 * check (sb_api_check), trying the next one when a credential is revoked
 * or invalid.  cands must hold SB_API_COOKIES_MAX + 1 entries; it receives
 * every candidate (*ncands) and *which the one used.  *r receives this
 * thread's store connection when one was needed.  Fails with the most
 * telling error: SB_ERR_NO_CREDENTIAL when there was none, SB_ERR_STORE at
 * once when Redis fails (fail closed).
 */
int sb_api_find(struct sb_http_req *req, const struct sb_codec_ctx *ctx,
                const struct sb_profile *only, struct sb_redis **r,
                struct sb_session *out, const struct sb_profile **used,
                const struct sb_api_candidate **which,
                struct sb_api_candidate *cands, size_t *ncands,
                struct sb_err *err);

/* The credential of candidate c as the codec reads it (a cookie value
 * percent-decoded) into buf. */
int sb_api_candidate_token(const struct sb_api_candidate *c, char *buf,
                           size_t size, struct sb_err *err);

/* Splits the request's Cookie header; returns the number of pairs. */
size_t sb_api_cookies(const struct sb_http_req *req,
                      struct sb_api_cookie *out, size_t max);

/* Splits a Cookie header value (NUL-terminated; NULL gives 0) into at most
 * max name=value pairs pointing into it (quotes around a value dropped,
 * pairs without a name or '=' skipped). */
size_t sb_api_cookies_split(const char *header, struct sb_api_cookie *out,
                            size_t max);

/* The token of an "Authorization: Bearer ..." header, or NULL. */
const char *sb_api_bearer(const struct sb_http_req *req, size_t *len);

#endif
