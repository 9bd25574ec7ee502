/*
 * session.h - the canonical session: the one model every format is
 * translated through (format -> canonical -> format, no pairwise converters).
 *
 * A struct sb_session owns its subject string and its data object.  Start
 * with sb_session_init(), end with sb_session_reset().  A function that
 * fails while filling a session leaves it reset (never partially filled).
 */
#ifndef SESSIONBRIDGE_SESSION_H
#define SESSIONBRIDGE_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "sessionbridge/err.h"

#define SB_SID_MAX 129          /* longest sid accepted, plus NUL */
#define SB_PROFILE_NAME_MAX 64  /* longest profile name, plus NUL */

struct sb_session {
    char sid[SB_SID_MAX];              /* session id; "" when not known yet */
    char *subject;                     /* user id as a string; owned; NULL
                                          when the credential names no user */
    int64_t issued_at;                 /* Unix seconds; 0 when unknown */
    int64_t expires_at;                /* Unix seconds; 0 when it never
                                          expires by itself */
    char profile[SB_PROFILE_NAME_MAX]; /* profile it came from / is for */
    json_t *data;                      /* owned; a JSON object (never NULL
                                          after a successful fill) */
    int64_t version;                   /* store: bumped on every update */
    int64_t updated_at;                /* store: Unix seconds of last write */
    bool derived_sid;                  /* the sid was derived from the
                                          credential's content (it carries
                                          none): a revocation then ends the
                                          copies issued up to it, and the
                                          same content issued later is a
                                          new login */
};

/* Zeroes s; it then owns nothing. */
void sb_session_init(struct sb_session *s);

/* Frees what s owns and zeroes it again.  Safe on an initialised session. */
void sb_session_reset(struct sb_session *s);

/* Replaces s->subject with a copy of subject (NULL clears it). */
int sb_session_set_subject(struct sb_session *s, const char *subject,
                           struct sb_err *err);

/* Sets s->sid from sid (at most SB_SID_MAX-1 bytes of [A-Za-z0-9._:-]). */
int sb_session_set_sid(struct sb_session *s, const char *sid,
                       struct sb_err *err);

/* Sets s->profile to name (a configured profile's, so it fits; a longer
 * one is cut at SB_PROFILE_NAME_MAX-1 bytes). */
void sb_session_set_profile(struct sb_session *s, const char *name);

/* True when sid is non-empty, short enough and uses only [A-Za-z0-9._:-]. */
bool sb_sid_is_valid(const char *sid);

/* Writes a new random sid (32 chars of base64url, 192 bits) into buf, which
 * must hold SB_SID_MAX bytes. */
int sb_sid_generate(char *buf, struct sb_err *err);

/* The canonical JSON form: {"sid","subject","issued_at","expires_at",
 * "profile","data","version","updated_at"}.  Returns a new reference. */
json_t *sb_session_to_json(const struct sb_session *s);

/* Parses the canonical JSON form into out (which must be initialised).
 * Requires subject (string) and data (object) unless `partial` is true;
 * other fields are optional.  Copies what it keeps. */
int sb_session_from_json(const json_t *obj, bool partial,
                         struct sb_session *out, struct sb_err *err);

#endif
