/*
 * bridge.h - every decision about a credential, made once, for every
 * surface (the HTTP API, the gRPC services, sessionbridgectl).
 *
 * Which credentials a request carries and which of them counts, which
 * profile decodes a token and which error wins when none does, whose
 * session it is, whether the store still honours it, what gets minted for
 * another profile and which cookies the browser is handed, and what a
 * revocation removes besides the session: all of it lives here.  Surfaces
 * only translate their wire format into these calls and the answers back.
 *
 * Layering: the bridge sits on the codecs and the store and knows no
 * transport.  A codec's optional capabilities (struct sb_codec_records)
 * are how it learns about framework-side records; it never compares a
 * codec's name.
 *
 * Errors: every call fills a caller-owned struct sb_err.  SB_ERR_STORE
 * means the store could not be asked: callers fail closed (503, no
 * Set-Cookie).  Strings a call returns are new and owned by the caller.
 */
#ifndef SESSIONBRIDGE_BRIDGE_H
#define SESSIONBRIDGE_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sessionbridge/codec.h"
#include "sessionbridge/config.h"
#include "sessionbridge/err.h"
#include "sessionbridge/redis.h"
#include "sessionbridge/session.h"
#include "sessionbridge/store.h"

/* Where the bridge reaches the store.  r is a connection the caller owns
 * (the CLI), or NULL: this thread's connection, opened on first need (the
 * daemon's workers).  Either way the layout version is checked before the
 * first use.  An offline bridge (the CLI's --offline) has no store: what
 * needs one fails with SB_ERR_STORE saying so. */
struct sb_bridge {
    const struct sb_config *cfg; /* borrowed */
    struct sb_redis *r;          /* borrowed; set on first need when NULL */
    bool offline;
};

/* The store connection of b (see struct sb_bridge); NULL with
 * SB_ERR_STORE, or SB_ERR_CONFIG when Redis holds another layout. */
struct sb_redis *sb_bridge_store(struct sb_bridge *b, struct sb_err *err);

/* ---- credentials in a request (request.c) -------------------------------- */

#define SB_BRIDGE_COOKIES_MAX 32 /* Cookie pairs read from one request */
/* The work an unauthenticated request can ask for is bounded: at most this
 * many cookies of one profile are tried (browsers send duplicates when
 * paths or domains differ), and at most SB_BRIDGE_CANDIDATES_MAX
 * credentials in all, the last slot kept for the bearer token. */
#define SB_BRIDGE_PER_PROFILE_MAX 3
#define SB_BRIDGE_CANDIDATES_MAX 8

/* What a surface hands over of a request: its header values, borrowed,
 * NULL when absent. */
struct sb_bridge_request {
    const char *cookie;        /* Cookie */
    const char *authorization; /* Authorization */
};

/* One name=value pair of a Cookie header, borrowed from it. */
struct sb_bridge_cookie {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* Splits a Cookie header value (NULL gives 0) into at most max pairs
 * (quotes around a value dropped, pairs without a name or '=' skipped). */
size_t sb_bridge_cookies_split(const char *header,
                               struct sb_bridge_cookie *out, size_t max);

/* The token of an Authorization value "Bearer ...", or NULL. */
const char *sb_bridge_bearer(const char *authorization, size_t *len);

/* One credential found in a request: a cookie of profile p, or a bearer
 * token for p (NULL: every profile is tried). */
struct sb_bridge_candidate {
    const struct sb_profile *p;
    const char *value; /* borrowed from the request's headers */
    size_t len;
    bool bearer;
};

/* The credentials of rq, cookies first (in profile order, at most
 * SB_BRIDGE_PER_PROFILE_MAX of each profile, in the order sent), then the
 * bearer token; with `only`, just that profile's.  At most max (the last
 * slot kept for the bearer token).  Returns how many. */
size_t sb_bridge_candidates(const struct sb_config *cfg,
                            const struct sb_bridge_request *rq,
                            const struct sb_profile *only,
                            struct sb_bridge_candidate *out, size_t max);

/* Which of the route's two formats ([route] legacy and new) a request
 * carried, valid or not: what a migration's dashboards split traffic by. */
enum sb_bridge_presented {
    SB_PRESENTED_NONE = 0,
    SB_PRESENTED_LEGACY = 1,
    SB_PRESENTED_NEW = 2,
    SB_PRESENTED_BOTH = 3 /* LEGACY | NEW */
};
#define SB_PRESENTED_COUNT 4

/* What cands[0..n) carry of the route's formats: a cookie of [route]
 * legacy or new, or a bearer token tried with one of them (a bearer token
 * tried with every profile counts for neither: see sb_bridge_auth, which
 * adds it once decoded).  NONE when the route names neither side. */
enum sb_bridge_presented
sb_bridge_presented(const struct sb_config *cfg,
                    const struct sb_bridge_candidate *cands, size_t n);

/* Adds profile p's format to `was` when p is [route] legacy or new. */
enum sb_bridge_presented sb_bridge_presented_add(const struct sb_config *cfg,
                                                 enum sb_bridge_presented was,
                                                 const struct sb_profile *p);

/* "none", "legacy", "new" or "both". */
const char *sb_bridge_presented_name(enum sb_bridge_presented p);

/* The client's address as a codec binds sessions to it (Flask-Login's
 * strong mode): the first entry of X-Forwarded-For, else of X-Real-IP
 * (either may be NULL), into buf.  False when neither gives one: the
 * surface then uses the peer's address. */
bool sb_bridge_client_addr(const char *xff, const char *xri, char *buf,
                           size_t size);

/* The credential of c as its codec reads it (a cookie value
 * percent-decoded when the format escapes on the wire) into buf. */
int sb_bridge_candidate_token(const struct sb_bridge_candidate *c, char *buf,
                              size_t size, struct sb_err *err);

/* ---- decoding and checking (check.c) --------------------------------------- */

/* How telling an error is when several profiles or credentials were tried
 * (the higher wins): a verdict on a credential whose signature verified
 * (revoked, expired...) beats a signature that did not, which beats a
 * layout that did not parse, which beats having no credential. */
int sb_bridge_error_rank(enum sb_err_code code);

/* Decodes token with profile p, or with every profile in turn when p is
 * NULL (the first that verifies wins; else err holds the most telling
 * error).  out must be initialised; *used receives the profile. */
int sb_bridge_decode(const struct sb_config *cfg, const struct sb_profile *p,
                     const char *token, size_t len,
                     const struct sb_codec_ctx *ctx, struct sb_session *out,
                     const struct sb_profile **used, struct sb_err *err);

/*
 * Completes a decoded session with what the store knows, then records it
 * and checks it (sb_store_record: revocation, not-before, ownership of
 * the sid): for a format whose data lives in a framework record, that
 * record is read first (a missing one means the session is over: revoked
 * when the store says so, else expired).  *created (may be NULL) tells
 * whether this was the session's first sight.  On failure s is reset.
 */
int sb_bridge_check(struct sb_bridge *b, const struct sb_profile *p,
                    struct sb_session *s, int64_t now, bool *created,
                    struct sb_err *err);

/* sb_bridge_decode then sb_bridge_check: is this token valid now, and
 * whose is it?  POST /v1/validate, /v1/translate, /v1/introspect and the
 * CLI's decode and translate all answer from this. */
int sb_bridge_validate(struct sb_bridge *b, const struct sb_profile *p,
                       const char *token, size_t len,
                       const struct sb_codec_ctx *ctx, struct sb_session *out,
                       const struct sb_profile **used, bool *created,
                       struct sb_err *err);

/* What sb_bridge_find saw of a request. */
struct sb_bridge_found {
    struct sb_bridge_candidate cands[SB_BRIDGE_CANDIDATES_MAX];
    size_t n;                                /* candidates in cands */
    const struct sb_bridge_candidate *which; /* the one that counted */
    const struct sb_profile *used;           /* its profile */
    bool created;                            /* first sight of its session */
};

/*
 * Finds the request's first credential that verifies and passes the store
 * check, trying the next one when a credential is revoked or invalid.
 * Fails with the most telling error: SB_ERR_NO_CREDENTIAL when there was
 * none, SB_ERR_STORE at once when the store fails (fail closed).  f
 * receives every candidate whatever the outcome, and f->used the profile
 * of the last credential that decoded (NULL when none did).
 */
int sb_bridge_find(struct sb_bridge *b, const struct sb_bridge_request *rq,
                   const struct sb_profile *only,
                   const struct sb_codec_ctx *ctx, struct sb_session *out,
                   struct sb_bridge_found *f, struct sb_err *err);

/* Checks the API key key[0..len) (POST /v1/apikeys/validate, the gRPC
 * ApiKeys service): out (reset first) receives the key's record.
 * SB_ERR_NOT_FOUND for an unknown (or revoked) key, SB_ERR_EXPIRED for an
 * expired one, SB_ERR_STORE when the store cannot be asked. */
int sb_bridge_apikey(struct sb_bridge *b, const char *key, size_t len,
                     int64_t now, struct sb_apikey *out, struct sb_err *err);

/* ---- minting (mint.c) ------------------------------------------------------- */

/*
 * The one mint policy: encodes s for profile `to`, issued now, expiring
 * no later than s and to's max_age, with the subject fields other
 * profiles put into the data left out (so P -> Q -> P gives back P's data
 * exactly), into *token; when `to` keeps framework records, the record is
 * written unless one exists.  *set_cookie (may be NULL) receives the
 * Set-Cookie value.
 */
int sb_bridge_mint(struct sb_bridge *b, const struct sb_profile *to,
                   const struct sb_session *s, const struct sb_codec_ctx *ctx,
                   char **token, char **set_cookie, struct sb_err *err);

/*
 * Translates: validates token (profile `from`, or any) and mints the
 * session for `to`.  out (initialised) receives the source session.  A
 * session `to` cannot carry fails with its codec's error after the check
 * (callers tell it apart by *out being filled: out->sid[0] != '\0').
 */
int sb_bridge_translate(struct sb_bridge *b, const struct sb_profile *from,
                        const struct sb_profile *to, const char *token,
                        size_t len, const struct sb_codec_ctx *ctx,
                        struct sb_session *out, const struct sb_profile **used,
                        char **out_token, char **set_cookie,
                        struct sb_err *err);

/* The encoding half of sb_bridge_mint: the credential `to` would be
 * handed for s (same times, same data), into *token, with no framework
 * record written and no store asked.  *view (initialised, may be NULL)
 * receives the session as encoded (its data in canonical names), which a
 * records-keeping format needs to build its record. */
int sb_bridge_encode_for(const struct sb_config *cfg,
                         const struct sb_profile *to,
                         const struct sb_session *s,
                         const struct sb_codec_ctx *ctx, char **token,
                         struct sb_session *view, struct sb_err *err);

/* Mints for every configured profile: out receives a new JSON object
 * {profile: {token, set_cookie}}; a profile that cannot carry s is logged
 * and left out, a store error fails. */
int sb_bridge_mint_all(struct sb_bridge *b, const struct sb_session *s,
                       const struct sb_codec_ctx *ctx, json_t **out,
                       struct sb_err *err);

/* A login: records s (a new sid, subject, data, times set by the caller)
 * and mints every profile's credential as sb_bridge_mint_all does. */
int sb_bridge_create(struct sb_bridge *b, struct sb_session *s,
                     const struct sb_codec_ctx *ctx, json_t **credentials,
                     struct sb_err *err);

/* Merges data into session sid (sb_store_patch) and rewrites the
 * framework records that exist for it; out receives the new session. */
int sb_bridge_patch(struct sb_bridge *b, const char *sid, const json_t *data,
                    int64_t now, struct sb_session *out, struct sb_err *err);

/* ---- shadow checks (shadow.c) -------------------------------------------- */

/* The verdict of a shadow check ([route] shadow = on). */
enum sb_bridge_shadow {
    SB_SHADOW_NONE = 0,       /* not checked (off, not the legacy
                                 credential, or no verdict could be made) */
    SB_SHADOW_AGREE,          /* the new backend would see the same */
    SB_SHADOW_DISAGREE,       /* it would see another subject, sid or data,
                                 or refuse the credential */
    SB_SHADOW_CANNOT_ENCODE   /* the new format cannot carry the session */
};

/* "agree", "disagree", "cannot_encode" ("" for NONE). */
const char *sb_bridge_shadow_name(enum sb_bridge_shadow r);

/*
 * Would the new backend see session s (authenticated with a legacy
 * credential) as the legacy one does?  Encodes s for profile `to` exactly
 * as a mint would (sb_bridge_encode_for), decodes that credential back
 * with `to` (and, for a format that keeps framework records, builds and
 * parses the record), and compares the subject, the sid and the data
 * (less the subject fields each side keeps the subject in).  Codec work
 * only: no store is asked, nothing is written.  On DISAGREE, `fields`
 * receives the comma-separated names of what differs ("subject", "sid",
 * "data.KEY", or "credential" when `to` refuses its own credential),
 * never a value; "" otherwise.  NONE when out of memory or refused by the
 * asymmetric-signature cap (no verdict).
 */
enum sb_bridge_shadow sb_bridge_shadow(const struct sb_config *cfg,
                                       const struct sb_profile *to,
                                       const struct sb_session *s,
                                       const struct sb_codec_ctx *ctx,
                                       char *fields, size_t size);

/* ---- forward-auth (auth.c) ----------------------------------------------- */

#define SB_BRIDGE_AUTH_HEADERS_MAX 12

/* One header of a forward-auth answer. */
struct sb_bridge_header {
    const char *name; /* static */
    char *value;      /* owned by the answer (in its text, or on the heap);
                         safe for a header (no control bytes) */
};

/* The forward-auth answer of a request: on success the identity, the
 * credential for [route] mint, a Set-Cookie for each route profile the
 * browser lacks, and with [route] retire = legacy a Set-Cookie expiring
 * the legacy cookie once the browser holds a valid new one; headers to
 * pass upstream (X-Session-*) and to the browser (Set-Cookie) alike, in
 * order.  Beside them, what the metrics of a migration count. */
struct sb_bridge_auth {
    struct sb_session s;             /* the session (reset by _free) */
    const struct sb_profile *used;   /* the credential's profile */
    bool created;                    /* first sight of the session */
    enum sb_bridge_presented presented; /* the route's formats the request
                                           carried (set on failure too) */
    bool minted;                     /* a credential was minted for it */
    bool retired;                    /* the legacy cookie is expired */
    enum sb_bridge_shadow shadow;    /* [route] shadow's verdict */
    const struct sb_profile *valid[3]; /* profiles of the request's
                                          credentials valid for s: the
                                          deciding one, then route profiles
                                          the browser holds a cookie of */
    size_t nvalid;
    struct sb_bridge_header headers[SB_BRIDGE_AUTH_HEADERS_MAX];
    size_t nheaders;
    unsigned heap_values;            /* bit i: headers[i].value is malloc'd */
    size_t text_len;
    char text[512];                  /* the values that fit, so an answer
                                        costs no malloc per header */
};

/* Decides a forward-auth request (GET /v1/auth, Envoy's Check).  On
 * failure a holds no header and err the reason (SB_ERR_STORE: answer
 * 503 and hand out no cookie).  Release a with sb_bridge_auth_free
 * whatever the outcome. */
int sb_bridge_auth(struct sb_bridge *b, const struct sb_bridge_request *rq,
                   const struct sb_codec_ctx *ctx, struct sb_bridge_auth *a,
                   struct sb_err *err);
void sb_bridge_auth_free(struct sb_bridge_auth *a);

/* ---- revocation (revoke.c) ------------------------------------------------- */

/* Revokes the session of a credential (POST /v1/revoke, `revoke TOKEN`):
 * decodes it (profile p, or any), revokes its sid in every format, and
 * drops its framework records.  s (initialised) receives the session and
 * *used its profile; removed (may be NULL) what the store held. */
int sb_bridge_revoke(struct sb_bridge *b, const struct sb_profile *p,
                     const char *token, size_t len,
                     const struct sb_codec_ctx *ctx, struct sb_session *s,
                     const struct sb_profile **used,
                     struct sb_store_removed *removed, struct sb_err *err);

/* Revokes a session already checked into s (the API's revoke after its
 * introspection): the sid and its framework records. */
int sb_bridge_revoke_session(struct sb_bridge *b, const struct sb_session *s,
                             int64_t now, struct sb_store_removed *removed,
                             struct sb_err *err);

/* Deletes and revokes sessions sids[0..n) (DELETE /v1/sessions/SID with
 * subject as the owner when known, else NULL; `purge --session`), and
 * their framework records.  removed[i] tells what the store held. */
int sb_bridge_delete(struct sb_bridge *b, const char *const *sids, size_t n,
                     const char *subject, int64_t now,
                     struct sb_store_removed *removed, struct sb_err *err);

/* Logs subjects[0..n) out everywhere (DELETE /v1/users/S/sessions,
 * `purge --user`) and drops their sessions' framework records;
 * removed[i] receives how many sessions subject i had. */
int sb_bridge_logout(struct sb_bridge *b, const char *const *subjects,
                     size_t n, int64_t now, long long *removed,
                     struct sb_err *err);

#endif
