/*
 * profile.h - one credential format as one backend uses it.
 *
 * A profile is built by the config loader (config.c) from a [profile.NAME]
 * section: the generic keys below are parsed there, every other key is
 * handed to the format's codec->configure(), and codec->prepare() runs once
 * when the section is complete (derive keys, parse PEMs).  After that the
 * profile is read-only and shared by every worker thread.
 */
#ifndef SESSIONBRIDGE_PROFILE_H
#define SESSIONBRIDGE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sessionbridge/err.h"

struct sb_codec;
struct sb_ratelimit;

/* One secret or key: raw bytes (the UTF-8 of a line of a secrets file). */
struct sb_secret {
    unsigned char *bytes; /* owned; NUL-terminated for convenience */
    size_t len;           /* length without the NUL */
};

/* An ordered list of secrets: items[0] signs, every item verifies. */
struct sb_secret_list {
    struct sb_secret *items; /* owned array */
    size_t count;
};

enum sb_samesite {
    SB_SAMESITE_UNSET = 0, /* attribute not written */
    SB_SAMESITE_LAX,
    SB_SAMESITE_STRICT,
    SB_SAMESITE_NONE
};

/* Attributes of the Set-Cookie header the bridge writes for a profile. */
struct sb_cookie_attrs {
    char *name;      /* cookie name, e.g. "session"; owned */
    char *path;      /* "/" unless configured; owned */
    char *domain;    /* NULL = host-only cookie; owned */
    bool secure;
    bool httponly;   /* default true */
    enum sb_samesite samesite;
    int64_t max_age; /* Max-Age attribute; -1 = browser-session cookie.
                        While loading, -2 = not configured: prepare() may
                        set the format's default; -2 left becomes -1 */
};

/* A field rename between the profile's data and the canonical data. */
struct sb_rename {
    char *profile_field;   /* name in the format's session data; owned */
    char *canonical_field; /* name in the canonical data; owned */
};

enum sb_subject_type {
    SB_SUBJECT_STRING = 0, /* write the subject field as a JSON string */
    SB_SUBJECT_INT         /* write it as an integer (Go apps doing .(int)) */
};

struct sb_profile {
    char *name;                   /* NAME of [profile.NAME]; owned */
    const struct sb_codec *codec; /* from "format"; static, not owned */
    struct sb_cookie_attrs cookie;
    struct sb_secret_list secrets; /* secrets_file; empty when unused */
    int64_t max_age;               /* credential lifetime in seconds;
                                      0 = the format's default */
    char *salt;                    /* NULL = the format's default */
    char *digest;                  /* NULL = the format's default */
    char *serializer;              /* NULL = the format's default */
    char *subject_field;           /* where the user id lives in data;
                                      NULL = the format's default */
    enum sb_subject_type subject_type;
    char *sid_field;               /* data key carrying the canonical sid for
                                      formats without one of their own */
    struct sb_rename *renames;     /* owned array */
    size_t rename_count;
    void *codec_state;             /* owned by the codec (prepare/release) */
    struct sb_ratelimit *verify_limit; /* the config's cap on asymmetric
                                      signature checks, shared by its
                                      profiles; NULL = none; not owned */
};

/* Loads a secrets file, the one key-line syntax of every format: one
 * secret per line without its line ending; "hex:<hex digits>" and
 * "base64:<base64 or base64url, padded or not>" lines decode to binary,
 * any other line is its own bytes; blank lines are skipped.  A line
 * starting with '#' is an error (no comments: such a secret must be
 * written hex: or base64:), as are a bad hex:/base64: value, a raw NUL
 * byte, a file with no secret and a file writable by group or others; a
 * file readable by them is logged as a warning.  Errors name file:line.
 * Appends to list; on failure list is as it was. */
int sb_secrets_load_file(const char *path, struct sb_secret_list *list,
                         struct sb_err *err);

/* Appends a copy of bytes[0..len) to list. */
int sb_secrets_append(struct sb_secret_list *list, const void *bytes,
                      size_t len, struct sb_err *err);

/* Wipes (OPENSSL_cleanse) and frees every secret; leaves list empty. */
void sb_secrets_clear(struct sb_secret_list *list);

/* Frees everything a profile owns, calling codec->release first. */
void sb_profile_free(struct sb_profile *p);

#endif
