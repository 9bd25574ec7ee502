/*
 * config.h - the daemon's and the CLI's configuration, read from one INI
 * file.  A struct sb_config is immutable once loaded and reference-counted,
 * so a SIGHUP reload can swap it while requests still use the old one.
 *
 * Every key can be overridden by SESSIONBRIDGE_<SECTION>_<KEY> in the
 * environment (section and key upper-cased, '.' and '-' as '_', so
 * [profile.legacy] salt is SESSIONBRIDGE_PROFILE_LEGACY_SALT), and a key
 * may be set there only, format keys too.  Secrets are only ever read from
 * files (*_file keys).  Unknown sections and keys are errors, in the file
 * and in the environment alike (a SESSIONBRIDGE_* variable that names no
 * key of the fixed table or of a profile's format); every error names
 * file:line or the variable, section and key.
 */
#ifndef SESSIONBRIDGE_CONFIG_H
#define SESSIONBRIDGE_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sessionbridge/err.h"
#include "sessionbridge/log.h"
#include "sessionbridge/profile.h"
#include "sessionbridge/ratelimit.h"
#include "sessionbridge/redis_url.h"

/* Roles a caller of the HTTP API can hold (X-Bridge-Token). */
enum sb_role { SB_ROLE_NONE = 0, SB_ROLE_BACKEND = 1, SB_ROLE_ADMIN = 2 };

struct sb_api_token {
    enum sb_role role;
    unsigned char digest[32]; /* SHA-256 of the token; the token itself is
                                 not kept */
};

/* Endpoint families that may be opened to loopback callers. */
#define SB_OPEN_AUTH 0x1u
#define SB_OPEN_VALIDATE 0x2u
#define SB_OPEN_EXT_AUTHZ 0x4u /* gRPC envoy.service.auth.v3 Check */
#define SB_OPEN_APIKEYS 0x8u   /* gRPC sessionbridge.v1.ApiKeys */
#define SB_OPEN_STATUS 0x10u   /* GET /status, /status.json */

struct sb_config {
    char *path;                  /* file it was read from; owned */

    /* [http] */
    char *listen_host;           /* "127.0.0.1" */
    unsigned listen_port;        /* 8080; 0 = any free port */
    unsigned threads;            /* worker threads; 0 in the file = cores */
    size_t max_body;             /* bytes; 413 beyond */
    size_t max_header;           /* per-connection memory for headers */
    unsigned max_connections;
    unsigned idle_timeout;       /* seconds a keep-alive connection may idle */
    unsigned max_connections_per_ip; /* 0 = no per-address limit */
    unsigned request_timeout;    /* seconds from a request line to the end
                                    of its headers and body */
    unsigned max_asym_verifications; /* per second, all profiles; 0 = no
                                        cap */
    struct sb_ratelimit verify_limit; /* that cap, shared by the profiles */
    unsigned drain_timeout;      /* seconds SIGTERM waits for requests */
    char *port_file;             /* write the bound port here (tests) */

    /* [redis] */
    struct sb_redis_conf redis;  /* mode, url, nodes, TLS, ACL user; the
                                  * passwords from password_file and
                                  * sentinel_password_file */
    char *prefix;                /* key prefix, "sb:" */
    unsigned connect_timeout_ms;
    unsigned command_timeout_ms;

    /* [log] */
    enum sb_log_level log_level;

    /* [api] */
    struct sb_api_token *tokens; /* from tokens_file; owned */
    size_t token_count;
    unsigned open_on_loopback;   /* SB_OPEN_* bits */

    /* [route] */
    char *route_legacy;          /* profile names; NULL when unset */
    char *route_new;
    char *route_mint;
    bool route_shadow;           /* shadow = on: legacy-authenticated
                                    requests are also translated to the new
                                    format and compared (sb_bridge_shadow) */
    bool route_retire_legacy;    /* retire = legacy: expire the legacy
                                    cookie once a valid new one is held */

    /* [cache] (read at start; a reload keeps the running values) */
    unsigned cache_entries;      /* most credentials the verdict cache
                                    holds; 0 disables it */
    unsigned cache_ttl;          /* backstop seconds an entry may live;
                                    0 disables the cache */
    size_t cache_max_memory;     /* bytes the verdict cache may hold */

    /* [grpc] (listen, threads and max_message_bytes read at start) */
    char *grpc_listen_host;      /* NULL: no gRPC listener (the default) */
    unsigned grpc_listen_port;   /* 0 = any free port */
    unsigned grpc_threads;       /* 0 in the file = cores */
    size_t grpc_max_message;     /* bytes a request message may have */

    /* [profile.NAME] sections, in file order */
    struct sb_profile *profiles; /* owned array */
    size_t profile_count;

    atomic_int refs;             /* sb_config_ref / sb_config_unref */
};

/* Reads, validates and prepares the config at path (profiles' keys
 * derived, PEMs parsed).  *out has one reference.  On failure err holds
 * "file:line: [section] key: what is wrong". */
int sb_config_load(const char *path, struct sb_config **out,
                   struct sb_err *err);

/* Takes / drops a reference; the last unref frees everything and wipes
 * the secrets. */
struct sb_config *sb_config_ref(struct sb_config *cfg);
void sb_config_unref(struct sb_config *cfg);

/* The profile called name, or NULL. */
const struct sb_profile *sb_config_profile(const struct sb_config *cfg,
                                           const char *name);

/* The role of the caller token tok[0..n), SB_ROLE_NONE when unknown
 * (compared in constant time against every configured token). */
enum sb_role sb_config_token_role(const struct sb_config *cfg,
                                  const char *tok, size_t n);

#endif
