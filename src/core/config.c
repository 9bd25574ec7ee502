/* config.c - reads the INI file into an immutable, reference-counted
 * struct sb_config: a declarative table for the fixed sections, generic
 * profile keys here, format-specific profile keys handed to the codec. */
#include "sessionbridge/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <ini.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sessionbridge/codec.h"
#include "sessionbridge/crypto.h"
#include "sessionbridge/redis.h"

extern char **environ;

/* One key = value line of the file, as read. */
struct entry {
    char *section;
    char *key;
    char *value;
    int line;
    bool used;
};

struct entries {
    struct entry *items;
    size_t count;
    const char *path;
    int line;        /* line the reader is on */
    bool line_too_long;
    FILE *f;
};

/* Where a value came from, for error messages: file:line or the
 * environment variable that overrode it. */
struct origin {
    const char *path;
    int line;
    const char *env; /* non-NULL when the value came from the environment */
};

static int fail_at(struct sb_err *err, const struct origin *o,
                   const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail_at(struct sb_err *err, const struct origin *o,
                   const char *section, const char *key, const char *fmt, ...)
{
    char what[SB_ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (o->env != NULL)
        return sb_err_set(err, SB_ERR_CONFIG, "environment %s: [%s] %s: %s",
                          o->env, section, key, what);
    return sb_err_set(err, SB_ERR_CONFIG, "%s:%d: [%s] %s: %s", o->path,
                      o->line, section, key, what);
}

/* ---- reading the file ---------------------------------------------------- */

/* inih reader that counts lines, so every entry knows its line number. */
static char *count_lines_reader(char *str, int num, void *stream)
{
    struct entries *es = stream;
    char *r = fgets(str, num, es->f);
    size_t n;

    if (r == NULL)
        return NULL;
    n = strlen(str);
    if (n > 0 && str[n - 1] == '\n')
        es->line++;
    else if (!feof(es->f))
        es->line_too_long = true;
    else
        es->line++;
    return r;
}

static int collect_entry(void *user, const char *section, const char *key,
                         const char *value)
{
    struct entries *es = user;
    struct entry *items;
    struct entry *e;

    if (es->line_too_long)
        return 0;
    items = realloc(es->items, (es->count + 1) * sizeof(*items));
    if (items == NULL)
        return 0;
    es->items = items;
    e = &es->items[es->count];
    e->section = strdup(section);
    e->key = strdup(key);
    e->value = strdup(value);
    e->line = es->line;
    e->used = false;
    if (!e->section || !e->key || !e->value) {
        free(e->section);
        free(e->key);
        free(e->value);
        return 0;
    }
    es->count++;
    return 1;
}

static void entries_free(struct entries *es)
{
    size_t i;

    for (i = 0; i < es->count; i++) {
        free(es->items[i].section);
        free(es->items[i].key);
        if (es->items[i].value != NULL)
            OPENSSL_cleanse(es->items[i].value, strlen(es->items[i].value));
        free(es->items[i].value);
    }
    free(es->items);
}

static int entries_read(const char *path, struct entries *es,
                        struct sb_err *err)
{
    int rc;

    memset(es, 0, sizeof(*es));
    es->path = path;
    es->f = fopen(path, "r");
    if (es->f == NULL)
        return sb_err_set(err, SB_ERR_CONFIG, "%s: cannot open: %s", path,
                          strerror(errno));
    rc = ini_parse_stream(count_lines_reader, es, collect_entry, es);
    fclose(es->f);
    es->f = NULL;
    if (es->line_too_long)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "%s:%d: line longer than %d characters", path,
                          es->line + 1, INI_MAX_LINE - 1);
    if (rc > 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "%s:%d: not a 'key = value' line or [section] header",
                          path, rc);
    if (rc < 0)
        return sb_err_set(err, SB_ERR_CONFIG, "%s: cannot read", path);
    return 0;
}

/* SESSIONBRIDGE_<SECTION>_<KEY> with '.' and '-' as '_', upper-cased. */
static void env_name(const char *section, const char *key, char *buf,
                     size_t size)
{
    size_t i;

    snprintf(buf, size, "SESSIONBRIDGE_%s_%s", section, key);
    for (i = 0; buf[i]; i++) {
        if (buf[i] == '.' || buf[i] == '-')
            buf[i] = '_';
        else
            buf[i] = (char)toupper((unsigned char)buf[i]);
    }
}

/* The effective value of section/key: the environment override, else the
 * last occurrence in the file (marked used), else NULL. */
static const char *lookup(struct entries *es, const char *section,
                          const char *key, struct origin *o, char *envbuf,
                          size_t envsize)
{
    const char *v;
    size_t i;
    const char *found = NULL;

    o->path = es->path;
    o->line = 0;
    o->env = NULL;
    for (i = 0; i < es->count; i++) {
        struct entry *e = &es->items[i];
        if (strcmp(e->section, section) == 0 && strcmp(e->key, key) == 0) {
            e->used = true;
            found = e->value;
            o->line = e->line;
        }
    }
    env_name(section, key, envbuf, envsize);
    v = getenv(envbuf);
    if (v != NULL) {
        o->env = envbuf;
        return v;
    }
    return found;
}

/* ---- value parsers --------------------------------------------------------- */

static int parse_uint(const char *v, unsigned long long min,
                      unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long n;

    if (*v == '\0' || *v == '-' || isspace((unsigned char)*v))
        return -1;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") ||
        !strcmp(v, "1")) {
        *out = true;
        return 0;
    }
    if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") ||
        !strcmp(v, "0")) {
        *out = false;
        return 0;
    }
    return -1;
}

/* Reads a one-line secret file (Redis password): the first line, without
 * its line ending. */
static int read_first_line(const char *path, char **out, struct sb_err *err)
{
    struct sb_secret_list list = {0};

    if (sb_secrets_load_file(path, &list, err) != 0)
        return -1;
    *out = strdup((const char *)list.items[0].bytes);
    sb_secrets_clear(&list);
    if (*out == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    return 0;
}

/* ---- the fixed sections ------------------------------------------------------ */

enum key_type {
    KT_STRING,   /* char * */
    KT_UINT,     /* unsigned, within min..max */
    KT_SIZE,     /* size_t, within min..max */
    KT_LISTEN,   /* host:port into listen_host / listen_port */
    KT_GRPC_LISTEN, /* host:port into grpc_listen_host / grpc_listen_port */
    KT_REDIS,    /* URL into redis */
    KT_REDIS_OPT, /* another [redis] connection key (sb_redis_conf_set) */
    KT_LOGLEVEL, /* enum sb_log_level */
    KT_OPEN,     /* comma list of auth,validate,ext_authz,apikeys */
    KT_FILE,     /* path read by a later step (kept as a string) */
    KT_BOOL,     /* on/off (true/false, yes/no, 1/0) into a bool */
    KT_RETIRE    /* [route] retire: "legacy" (or unset) */
};

struct key_spec {
    const char *section;
    const char *key;
    enum key_type type;
    size_t offset;
    const char *def;
    unsigned long long min, max;
};

#define OFF(field) offsetof(struct sb_config, field)

/* The keys of every fixed section, with defaults and bounds. */
static const struct key_spec fixed_keys[] = {
    {"http", "listen", KT_LISTEN, 0, "127.0.0.1:8080", 0, 0},
    {"http", "threads", KT_UINT, OFF(threads), "0", 0, 256},
    {"http", "max_body", KT_SIZE, OFF(max_body), "65536", 256, 16 << 20},
    {"http", "max_header", KT_SIZE, OFF(max_header), "32768", 4096, 1 << 20},
    {"http", "max_connections", KT_UINT, OFF(max_connections), "4096", 1,
     1000000},
    {"http", "idle_timeout", KT_UINT, OFF(idle_timeout), "60", 1, 86400},
    {"http", "max_connections_per_ip", KT_UINT, OFF(max_connections_per_ip),
     "256", 0, 1000000},
    {"http", "request_timeout", KT_UINT, OFF(request_timeout), "10", 1, 3600},
    {"http", "max_asym_verifications_per_second", KT_UINT,
     OFF(max_asym_verifications), "2000", 0, 10000000},
    {"http", "drain_timeout", KT_UINT, OFF(drain_timeout), "10", 0, 3600},
    {"http", "port_file", KT_STRING, OFF(port_file), NULL, 0, 0},
    {"redis", "url", KT_REDIS, 0, "redis://127.0.0.1:6379/0", 0, 0},
    {"redis", "password_file", KT_FILE, 0, NULL, 0, 0},
    {"redis", "mode", KT_REDIS_OPT, 0, "standalone", 0, 0},
    {"redis", "nodes", KT_REDIS_OPT, 0, NULL, 0, 0},
    {"redis", "sentinel_master", KT_REDIS_OPT, 0, NULL, 0, 0},
    {"redis", "sentinel_password_file", KT_FILE, 0, NULL, 0, 0},
    {"redis", "username", KT_REDIS_OPT, 0, NULL, 0, 0},
    {"redis", "tls", KT_REDIS_OPT, 0, NULL, 0, 0},
    {"redis", "tls_ca_file", KT_REDIS_OPT, 0, NULL, 0, 0},
    {"redis", "tls_cert_file", KT_REDIS_OPT, 0, NULL, 0, 0},
    {"redis", "tls_key_file", KT_REDIS_OPT, 0, NULL, 0, 0},
    {"redis", "tls_server_name", KT_REDIS_OPT, 0, NULL, 0, 0},
    {"redis", "wait_replicas", KT_REDIS_OPT, 0, "0", 0, 0},
    {"redis", "wait_timeout_ms", KT_REDIS_OPT, 0, "100", 0, 0},
    {"redis", "prefix", KT_STRING, OFF(prefix), "sb:", 0, 0},
    {"redis", "connect_timeout_ms", KT_UINT, OFF(connect_timeout_ms), "1000",
     1, 60000},
    {"redis", "command_timeout_ms", KT_UINT, OFF(command_timeout_ms), "1000",
     1, 60000},
    {"log", "level", KT_LOGLEVEL, 0, "info", 0, 0},
    {"api", "tokens_file", KT_FILE, 0, NULL, 0, 0},
    {"api", "open_on_loopback", KT_OPEN, 0, "", 0, 0},
    {"route", "legacy", KT_STRING, OFF(route_legacy), NULL, 0, 0},
    {"route", "new", KT_STRING, OFF(route_new), NULL, 0, 0},
    {"route", "mint", KT_STRING, OFF(route_mint), NULL, 0, 0},
    {"route", "shadow", KT_BOOL, OFF(route_shadow), "off", 0, 0},
    {"route", "retire", KT_RETIRE, OFF(route_retire_legacy), NULL, 0, 0},
    {"cache", "entries", KT_UINT, OFF(cache_entries), "100000", 0, 10000000},
    {"cache", "ttl", KT_UINT, OFF(cache_ttl), "5", 0, 3600},
    {"cache", "max_memory", KT_SIZE, OFF(cache_max_memory), "67108864",
     1 << 20, 1ull << 40},
    {"grpc", "listen", KT_GRPC_LISTEN, 0, NULL, 0, 0},
    {"grpc", "threads", KT_UINT, OFF(grpc_threads), "0", 0, 256},
    {"grpc", "max_message_bytes", KT_SIZE, OFF(grpc_max_message), "65536",
     256, 16 << 20},
};

/* Reads "host:port" of [section] listen into *host_out / *port_out. */
static int apply_listen(const char *section, char **host_out,
                        unsigned *port_out, const char *v,
                        const struct origin *o, struct sb_err *err)
{
    const char *colon = strrchr(v, ':');
    unsigned long long port;
    const char *host = v;
    size_t hlen;

    if (colon == NULL || colon == v ||
        parse_uint(colon + 1, 0, 65535, &port) != 0)
        return fail_at(err, o, section, "listen",
                       "expected host:port (e.g. 127.0.0.1:8080)");
    hlen = (size_t)(colon - v);
    if (host[0] == '[' && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    free(*host_out);
    *host_out = strndup(host, hlen);
    *port_out = (unsigned)port;
    return *host_out ? 0 : sb_err_set(err, SB_ERR_NOMEM, "out of memory");
}

static int apply_open(struct sb_config *cfg, const char *v,
                      const struct origin *o, struct sb_err *err)
{
    char *copy = strdup(v), *tok, *save = NULL;
    int rc = 0;

    if (copy == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    for (tok = strtok_r(copy, ", ", &save); tok != NULL;
         tok = strtok_r(NULL, ", ", &save)) {
        if (strcmp(tok, "auth") == 0)
            cfg->open_on_loopback |= SB_OPEN_AUTH;
        else if (strcmp(tok, "validate") == 0)
            cfg->open_on_loopback |= SB_OPEN_VALIDATE;
        else if (strcmp(tok, "ext_authz") == 0)
            cfg->open_on_loopback |= SB_OPEN_EXT_AUTHZ;
        else if (strcmp(tok, "apikeys") == 0)
            cfg->open_on_loopback |= SB_OPEN_APIKEYS;
        else if (strcmp(tok, "status") == 0)
            cfg->open_on_loopback |= SB_OPEN_STATUS;
        else {
            rc = fail_at(err, o, "api", "open_on_loopback",
                         "unknown endpoint family '%s' (auth, validate, "
                         "ext_authz, apikeys, status)", tok);
            break;
        }
    }
    free(copy);
    return rc;
}

/* Reads "role token" lines; keeps only SHA-256 digests of the tokens. */
static int load_tokens(struct sb_config *cfg, const char *path,
                       const struct origin *o, struct sb_err *err)
{
    struct sb_secret_list lines = {0};
    size_t i;
    int rc = -1;

    if (sb_secrets_load_file(path, &lines, err) != 0)
        return fail_at(err, o, "api", "tokens_file", "%s", err->msg);
    cfg->tokens = calloc(lines.count, sizeof(*cfg->tokens));
    if (cfg->tokens == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < lines.count; i++) {
        char *line = (char *)lines.items[i].bytes;
        char *sp = strchr(line, ' ');
        const void *part;
        size_t len;
        if (sp == NULL || sp[1] == '\0') {
            fail_at(err, o, "api", "tokens_file",
                    "%s line %zu: expected 'ROLE TOKEN'", path, i + 1);
            goto out;
        }
        *sp = '\0';
        if (strcmp(line, "admin") == 0)
            cfg->tokens[i].role = SB_ROLE_ADMIN;
        else if (strcmp(line, "backend") == 0)
            cfg->tokens[i].role = SB_ROLE_BACKEND;
        else {
            fail_at(err, o, "api", "tokens_file",
                    "%s line %zu: role must be admin or backend", path, i + 1);
            goto out;
        }
        part = sp + 1;
        len = strlen(sp + 1);
        sb_hash(SB_SHA256, &part, &len, 1, cfg->tokens[i].digest);
        cfg->token_count++;
    }
    rc = 0;
out:
    sb_secrets_clear(&lines);
    return rc;
}

static int apply_fixed(struct sb_config *cfg, struct entries *es,
                       struct sb_err *err)
{
    size_t i;
    char envbuf[256];
    struct origin o;

    for (i = 0; i < sizeof(fixed_keys) / sizeof(fixed_keys[0]); i++) {
        const struct key_spec *k = &fixed_keys[i];
        const char *v = lookup(es, k->section, k->key, &o, envbuf,
                               sizeof(envbuf));
        unsigned long long n;
        char *base = (char *)cfg;

        if (v == NULL)
            v = k->def;
        if (v == NULL)
            continue;
        switch (k->type) {
        case KT_STRING:
            if (*v == '\0')
                return fail_at(err, &o, k->section, k->key,
                               "must not be empty");
            *(char **)(base + k->offset) = strdup(v);
            break;
        case KT_UINT:
        case KT_SIZE:
            if (parse_uint(v, k->min, k->max, &n) != 0)
                return fail_at(err, &o, k->section, k->key,
                               "'%s' is not a whole number from %llu to %llu",
                               v, k->min, k->max);
            if (k->type == KT_UINT)
                *(unsigned *)(base + k->offset) = (unsigned)n;
            else
                *(size_t *)(base + k->offset) = (size_t)n;
            break;
        case KT_LISTEN:
            if (apply_listen("http", &cfg->listen_host, &cfg->listen_port, v,
                             &o, err) != 0)
                return -1;
            break;
        case KT_GRPC_LISTEN:
            if (apply_listen("grpc", &cfg->grpc_listen_host,
                             &cfg->grpc_listen_port, v, &o, err) != 0)
                return -1;
            break;
        case KT_REDIS:
            if (sb_redis_url_parse(v, &cfg->redis.url, err) != 0)
                return fail_at(err, &o, k->section, k->key, "%s", err->msg);
            /* A password in the environment is visible to other processes
             * (/proc/PID/environ, ps e); only files hold secrets. */
            if (o.env != NULL && cfg->redis.url.password != NULL)
                return fail_at(err, &o, k->section, k->key,
                               "a password inside the URL is refused here: "
                               "put it in a file (mode 0600) and name it "
                               "with [redis] password_file");
            cfg->redis.tls.on = cfg->redis.url.tls;
            break;
        case KT_REDIS_OPT:
            if (sb_redis_conf_set(&cfg->redis, k->key, v, err) != 0)
                return fail_at(err, &o, k->section, k->key, "%s", err->msg);
            break;
        case KT_LOGLEVEL:
            if (!sb_log_level_parse(v, &cfg->log_level))
                return fail_at(err, &o, k->section, k->key,
                               "'%s' is not debug, info, warn or error", v);
            break;
        case KT_OPEN:
            if (apply_open(cfg, v, &o, err) != 0)
                return -1;
            break;
        case KT_FILE:
            if (strcmp(k->key, "password_file") == 0 ||
                strcmp(k->key, "sentinel_password_file") == 0) {
                char **pw = k->key[0] == 'p' ? &cfg->redis.url.password
                                             : &cfg->redis.sentinel_password;
                free(*pw);
                *pw = NULL;
                if (read_first_line(v, pw, err) != 0)
                    return fail_at(err, &o, k->section, k->key, "%s",
                                   err->msg);
            } else if (load_tokens(cfg, v, &o, err) != 0) {
                return -1;
            }
            break;
        case KT_BOOL:
            if (parse_bool(v, (bool *)(base + k->offset)) != 0)
                return fail_at(err, &o, k->section, k->key,
                               "'%s' is not on or off", v);
            break;
        case KT_RETIRE:
            if (strcmp(v, "legacy") != 0)
                return fail_at(err, &o, k->section, k->key,
                               "'%s' is not a side that can be retired "
                               "(legacy, or leave the key out)", v);
            *(bool *)(base + k->offset) = true;
            break;
        }
    }
    if (sb_redis_conf_check(&cfg->redis, err) != 0 ||
        sb_redis_tls_check(&cfg->redis.tls, err) != 0)
        return -1;
    /* WAIT answers after up to wait_timeout_ms: the read must outlast it */
    if (cfg->redis.wait_replicas > 0 &&
        cfg->redis.wait_timeout_ms >= cfg->command_timeout_ms)
        return sb_err_set(err, SB_ERR_CONFIG, "[redis] wait_timeout_ms (%u) "
                          "must be less than command_timeout_ms (%u), which "
                          "bounds the wait for WAIT's answer",
                          cfg->redis.wait_timeout_ms, cfg->command_timeout_ms);
    cfg->redis.layout_prefix = strdup(cfg->prefix);
    if (cfg->redis.layout_prefix == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    sb_ratelimit_init(&cfg->verify_limit, cfg->max_asym_verifications);
    if (cfg->threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = cores > 0 ? (unsigned)cores : 2;
    }
    if (cfg->grpc_threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->grpc_threads = cores > 0 ? (unsigned)cores : 2;
    }
    return 0;
}

/* ---- profiles ---------------------------------------------------------------- */

static int set_string(char **field, const char *v)
{
    free(*field);
    *field = strdup(v);
    return *field ? 0 : -1;
}

static int add_rename(struct sb_profile *p, const char *v,
                      const struct origin *o, const char *section,
                      struct sb_err *err)
{
    const char *colon = strchr(v, ':');
    struct sb_rename *r;

    if (colon == NULL || colon == v || colon[1] == '\0')
        return fail_at(err, o, section, "rename",
                       "expected profile_field:canonical_field");
    r = realloc(p->renames, (p->rename_count + 1) * sizeof(*r));
    if (r == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    p->renames = r;
    r = &p->renames[p->rename_count];
    r->profile_field = strndup(v, (size_t)(colon - v));
    r->canonical_field = strdup(colon + 1);
    p->rename_count++;
    if (!r->profile_field || !r->canonical_field)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    return 0;
}

/* Applies one generic profile key; returns 1 when key is not generic. */
static int apply_profile_key(struct sb_profile *p, const char *section,
                             const char *key, const char *v,
                             const struct origin *o, struct sb_err *err)
{
    unsigned long long n;
    bool b;

    if (strcmp(key, "format") == 0)
        return 0;
    if (strcmp(key, "cookie_name") == 0 || strcmp(key, "cookie_path") == 0 ||
        strcmp(key, "cookie_domain") == 0) {
        char **field = key[7] == 'n' ? &p->cookie.name
                     : key[7] == 'p' ? &p->cookie.path : &p->cookie.domain;
        if (*v == '\0' || strpbrk(v, " ;,\"\\=") != NULL)
            return fail_at(err, o, section, key,
                           "must be non-empty, without spaces, ';', ',', "
                           "'=', quotes or backslashes");
        return set_string(field, v) ? sb_err_set(err, SB_ERR_NOMEM, "oom") : 0;
    }
    if (strcmp(key, "cookie_secure") == 0 ||
        strcmp(key, "cookie_httponly") == 0) {
        if (parse_bool(v, &b) != 0)
            return fail_at(err, o, section, key, "'%s' is not true or false",
                           v);
        *(key[7] == 's' ? &p->cookie.secure : &p->cookie.httponly) = b;
        return 0;
    }
    if (strcmp(key, "cookie_samesite") == 0) {
        if (!strcasecmp(v, "lax"))
            p->cookie.samesite = SB_SAMESITE_LAX;
        else if (!strcasecmp(v, "strict"))
            p->cookie.samesite = SB_SAMESITE_STRICT;
        else if (!strcasecmp(v, "none"))
            p->cookie.samesite = SB_SAMESITE_NONE;
        else if (!strcasecmp(v, "unset"))
            p->cookie.samesite = SB_SAMESITE_UNSET;
        else
            return fail_at(err, o, section, key,
                           "'%s' is not lax, strict, none or unset", v);
        return 0;
    }
    if (strcmp(key, "cookie_max_age") == 0) {
        if (strcmp(v, "session") == 0) {
            p->cookie.max_age = -1;
            return 0;
        }
        if (parse_uint(v, 0, 10LL * 365 * 86400, &n) != 0)
            return fail_at(err, o, section, key,
                           "'%s' is not a number of seconds or 'session'", v);
        p->cookie.max_age = (int64_t)n;
        return 0;
    }
    if (strcmp(key, "max_age") == 0) {
        if (parse_uint(v, 1, 10LL * 365 * 86400, &n) != 0)
            return fail_at(err, o, section, key,
                           "'%s' is not a number of seconds (1 to 10 years)",
                           v);
        p->max_age = (int64_t)n;
        return 0;
    }
    if (strcmp(key, "secrets_file") == 0) {
        if (sb_secrets_load_file(v, &p->secrets, err) != 0)
            return fail_at(err, o, section, key, "%s", err->msg);
        return 0;
    }
    if (strcmp(key, "subject_type") == 0) {
        if (strcmp(v, "string") == 0)
            p->subject_type = SB_SUBJECT_STRING;
        else if (strcmp(v, "int") == 0)
            p->subject_type = SB_SUBJECT_INT;
        else
            return fail_at(err, o, section, key, "'%s' is not string or int",
                           v);
        return 0;
    }
    if (strcmp(key, "rename") == 0)
        return add_rename(p, v, o, section, err);
    if (strcmp(key, "salt") == 0 || strcmp(key, "digest") == 0 ||
        strcmp(key, "serializer") == 0 || strcmp(key, "subject_field") == 0 ||
        strcmp(key, "sid_field") == 0) {
        char **field = key[1] == 'a' ? &p->salt
                     : key[0] == 'd' ? &p->digest
                     : key[1] == 'e' ? &p->serializer
                     : key[1] == 'u' ? &p->subject_field : &p->sid_field;
        if (*v == '\0')
            return fail_at(err, o, section, key, "must not be empty");
        return set_string(field, v) ? sb_err_set(err, SB_ERR_NOMEM, "oom") : 0;
    }
    return 1;
}

/* The [profile.*] section of es whose variable prefix
 * (SESSIONBRIDGE_PROFILE_<NAME>_) is the longest one var starts with, or
 * NULL: "go" and "go_block" both prefix SESSIONBRIDGE_PROFILE_GO_BLOCK_X,
 * and the variable belongs to go_block. */
static const char *env_profile_of(const struct entries *es, const char *var)
{
    char prefix[256];
    const char *best = NULL;
    size_t i, best_len = 0;

    for (i = 0; i < es->count; i++) {
        const char *section = es->items[i].section;
        size_t n;
        if (strncmp(section, "profile.", 8) != 0)
            continue;
        env_name(section, "", prefix, sizeof(prefix));
        n = strlen(prefix);
        if (strncmp(var, prefix, n) == 0 && n > best_len) {
            best = section;
            best_len = n;
        }
    }
    return best;
}

/* When the environment entry var ("NAME=value") sets a key of section that
 * the file does not: the key (lower-cased rest of the name) into key and
 * the value into *value, and 0.  1 otherwise ("format" is read by
 * lookup(); keys in the file take their override where they are read). */
static int env_profile_key(const struct entries *es, const char *section,
                           const char *var, char *key, size_t size,
                           const char **value)
{
    const char *eq = strchr(var, '=');
    const char *owner = env_profile_of(es, var);
    char prefix[256], name[256];
    size_t i, n;

    if (eq == NULL || owner == NULL || strcmp(owner, section) != 0)
        return 1;
    env_name(section, "", prefix, sizeof(prefix));
    n = (size_t)(eq - var) - strlen(prefix);
    if (n == 0 || n >= size)
        return 1;
    for (i = 0; i < n; i++)
        key[i] = (char)tolower((unsigned char)var[strlen(prefix) + i]);
    key[n] = '\0';
    if (strcmp(key, "format") == 0)
        return 1;
    for (i = 0; i < es->count; i++) {
        if (strcmp(es->items[i].section, section) != 0)
            continue;
        env_name(section, es->items[i].key, name, sizeof(name));
        if (strlen(name) == (size_t)(eq - var) &&
            strncmp(name, var, (size_t)(eq - var)) == 0)
            return 1;
    }
    *value = eq + 1;
    return 0;
}

/* Builds profile `name` from every entry of section "profile.<name>" (and
 * the environment overrides of those keys and of the generic keys). */
static int build_profile(struct entries *es, const char *section,
                         struct sb_profile *p, struct sb_err *err)
{
    const char *name = section + strlen("profile.");
    char envbuf[256], names[256];
    struct origin o;
    const char *format;
    size_t i;
    int rc;

    memset(p, 0, sizeof(*p));
    p->cookie.httponly = true;
    p->cookie.max_age = -2; /* not configured: the codec picks */
    if (*name == '\0' || strlen(name) >= SB_PROFILE_NAME_MAX ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_-") != strlen(name))
        return sb_err_set(err, SB_ERR_CONFIG,
                          "%s: [%s]: profile names are 1-%d characters of "
                          "[A-Za-z0-9_-]", es->path, section,
                          SB_PROFILE_NAME_MAX - 1);
    p->name = strdup(name);
    format = lookup(es, section, "format", &o, envbuf, sizeof(envbuf));
    if (format == NULL)
        return sb_err_set(err, SB_ERR_CONFIG, "%s: [%s] format: missing",
                          es->path, section);
    p->codec = sb_codec_find(format);
    if (p->codec == NULL) {
        sb_codec_list_names(names, sizeof(names));
        return fail_at(err, &o, section, "format",
                       "unknown format '%s' (%s)", format, names);
    }
    /* Entries in file order, each replaced by its env override if set. */
    for (i = 0; i < es->count; i++) {
        struct entry *e = &es->items[i];
        const char *v;
        if (strcmp(e->section, section) != 0 || strcmp(e->key, "format") == 0)
            continue;
        e->used = true;
        env_name(section, e->key, envbuf, sizeof(envbuf));
        v = getenv(envbuf);
        o.path = es->path;
        o.line = e->line;
        o.env = v ? envbuf : NULL;
        if (v == NULL)
            v = e->value;
        rc = apply_profile_key(p, section, e->key, v, &o, err);
        if (rc == 1) {
            if (p->codec->configure == NULL)
                return fail_at(err, &o, section, e->key,
                               "unknown key for format %s", p->codec->name);
            if (p->codec->configure(p, e->key, v, err) != 0)
                return fail_at(err, &o, section, e->key, "%s", err->msg);
        } else if (rc != 0) {
            return -1;
        }
    }
    /* Keys set only in the environment: generic or the format's own, each
     * checked as if it were in the file (an unknown one is an error). */
    for (i = 0; environ[i] != NULL; i++) {
        char key[128];
        const char *v;
        if (env_profile_key(es, section, environ[i], key, sizeof(key), &v) != 0)
            continue;
        o.path = es->path;
        o.line = 0;
        o.env = envbuf;
        snprintf(envbuf, sizeof(envbuf), "%.*s", (int)(v - 1 - environ[i]),
                 environ[i]);
        rc = apply_profile_key(p, section, key, v, &o, err);
        if (rc == 1) {
            if (p->codec->configure == NULL)
                return fail_at(err, &o, section, key,
                               "unknown key for format %s", p->codec->name);
            if (p->codec->configure(p, key, v, err) != 0)
                return fail_at(err, &o, section, key, "%s", err->msg);
        } else if (rc != 0) {
            return -1;
        }
    }
    if (p->sid_field == NULL && set_string(&p->sid_field, "_sb_sid") != 0)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    if (p->cookie.path == NULL && set_string(&p->cookie.path, "/") != 0)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    if (p->codec->prepare != NULL && p->codec->prepare(p, err) != 0) {
        char why[SB_ERR_MSG_MAX];

        /* err->msg is both the reason and the destination: copy it first. */
        snprintf(why, sizeof(why), "%s", err->msg);
        return sb_err_set(err, SB_ERR_CONFIG, "%s: [%s]: %s", es->path,
                          section, why);
    }
    if (p->cookie.max_age == -2)
        p->cookie.max_age = -1;
    if (p->cookie.name == NULL)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "%s: [%s] cookie_name: missing", es->path, section);
    return 0;
}

static int build_profiles(struct sb_config *cfg, struct entries *es,
                          struct sb_err *err)
{
    size_t i, j;

    for (i = 0; i < es->count; i++) {
        const char *section = es->items[i].section;
        bool seen = false;
        struct sb_profile *arr;
        if (strncmp(section, "profile.", 8) != 0)
            continue;
        for (j = 0; j < i && !seen; j++)
            seen = strcmp(es->items[j].section, section) == 0;
        if (seen)
            continue;
        arr = realloc(cfg->profiles, (cfg->profile_count + 1) * sizeof(*arr));
        if (arr == NULL)
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        cfg->profiles = arr;
        cfg->profile_count++;
        if (build_profile(es, section, &cfg->profiles[cfg->profile_count - 1],
                          err) != 0)
            return -1;
        cfg->profiles[cfg->profile_count - 1].verify_limit = &cfg->verify_limit;
    }
    return 0;
}

/* Every entry must have been consumed by a table or a profile. */
static int check_unknown(struct entries *es, struct sb_err *err)
{
    static const char *const sections[] = {"http", "redis", "log", "api",
                                           "route", "cache", "grpc",
                                           NULL};
    size_t i, j;

    for (i = 0; i < es->count; i++) {
        struct entry *e = &es->items[i];
        bool known = strncmp(e->section, "profile.", 8) == 0;
        if (e->used)
            continue;
        for (j = 0; sections[j] != NULL && !known; j++)
            known = strcmp(e->section, sections[j]) == 0;
        if (!known)
            return sb_err_set(err, SB_ERR_CONFIG,
                              "%s:%d: [%s]: unknown section", es->path,
                              e->line, e->section);
        return sb_err_set(err, SB_ERR_CONFIG, "%s:%d: [%s] %s: unknown key",
                          es->path, e->line, e->section, e->key);
    }
    return 0;
}

/* Every SESSIONBRIDGE_* variable must name a key, as every line of the
 * file must: one of the fixed table's, or one of a [profile.*] section of
 * the file (build_profile has applied those, refusing unknown keys). */
static int check_unknown_env(const struct entries *es, struct sb_err *err)
{
    char name[256];
    size_t i, j;

    for (i = 0; environ[i] != NULL; i++) {
        const char *var = environ[i], *eq = strchr(var, '=');
        bool known = false;
        if (strncmp(var, "SESSIONBRIDGE_", 14) != 0 || eq == NULL)
            continue;
        for (j = 0; j < sizeof(fixed_keys) / sizeof(fixed_keys[0]); j++) {
            env_name(fixed_keys[j].section, fixed_keys[j].key, name,
                     sizeof(name));
            known |= strlen(name) == (size_t)(eq - var) &&
                     strncmp(name, var, (size_t)(eq - var)) == 0;
        }
        if (!known && env_profile_of(es, var) == NULL)
            return sb_err_set(err, SB_ERR_CONFIG,
                              "environment %.*s: not a configuration key "
                              "(no such key of a fixed section, nor a "
                              "[profile.NAME] of %s)", (int)(eq - var), var,
                              es->path);
    }
    return 0;
}

/* True when profiles a and b write the same cookie (name, path and
 * domain): a browser holds one of them only. */
static bool same_cookie(const struct sb_profile *a, const struct sb_profile *b)
{
    const char *pa = a->cookie.path ? a->cookie.path : "/";
    const char *pb = b->cookie.path ? b->cookie.path : "/";
    const char *da = a->cookie.domain ? a->cookie.domain : "";
    const char *db = b->cookie.domain ? b->cookie.domain : "";

    return a->cookie.name != NULL && b->cookie.name != NULL &&
           strcmp(a->cookie.name, b->cookie.name) == 0 &&
           strcmp(pa, pb) == 0 && strcmp(da, db) == 0;
}

/* [route] shadow and retire need both sides, distinct; retiring also
 * needs distinct cookies (expiring the legacy one must not expire the new
 * one) and a mint that is not the side being retired. */
static int check_route_modes(const struct sb_config *cfg, struct entries *es,
                             struct sb_err *err)
{
    const struct sb_profile *legacy, *fresh;
    char envbuf[256];
    struct origin o;

    if (!cfg->route_shadow && !cfg->route_retire_legacy)
        return 0;
    legacy = cfg->route_legacy ? sb_config_profile(cfg, cfg->route_legacy)
                               : NULL;
    fresh = cfg->route_new ? sb_config_profile(cfg, cfg->route_new) : NULL;
    if (cfg->route_shadow) {
        lookup(es, "route", "shadow", &o, envbuf, sizeof(envbuf));
        if (legacy == NULL || fresh == NULL || legacy == fresh)
            return fail_at(err, &o, "route", "shadow",
                           "shadow = on needs [route] legacy and new set "
                           "to two different profiles");
    }
    if (!cfg->route_retire_legacy)
        return 0;
    lookup(es, "route", "retire", &o, envbuf, sizeof(envbuf));
    if (legacy == NULL || fresh == NULL || legacy == fresh)
        return fail_at(err, &o, "route", "retire",
                       "retire = legacy needs [route] legacy and new set to "
                       "two different profiles");
    if (legacy->cookie.name == NULL || same_cookie(legacy, fresh))
        return fail_at(err, &o, "route", "retire",
                       "retire = legacy needs a legacy cookie distinct from "
                       "the new one (cookie_name, cookie_path, "
                       "cookie_domain): expiring it would expire the new "
                       "cookie");
    if (cfg->route_mint != NULL && strcmp(cfg->route_mint, legacy->name) == 0)
        return fail_at(err, &o, "route", "retire",
                       "retire = legacy while [route] mint = %s (the legacy "
                       "side): cut over first (mint = %s)", legacy->name,
                       fresh->name);
    return 0;
}

static int check_route(struct sb_config *cfg, struct entries *es,
                       struct sb_err *err)
{
    const char *names[3] = {cfg->route_legacy, cfg->route_new,
                            cfg->route_mint};
    static const char *const keys[3] = {"legacy", "new", "mint"};
    char envbuf[256];
    struct origin o;
    size_t i;

    for (i = 0; i < 3; i++) {
        if (names[i] == NULL)
            continue;
        lookup(es, "route", keys[i], &o, envbuf, sizeof(envbuf));
        if (sb_config_profile(cfg, names[i]) == NULL)
            return fail_at(err, &o, "route", keys[i],
                           "no [profile.%s] section", names[i]);
    }
    return check_route_modes(cfg, es, err);
}

int sb_config_load(const char *path, struct sb_config **out,
                   struct sb_err *err)
{
    struct entries es;
    struct sb_config *cfg;

    *out = NULL;
    cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    atomic_init(&cfg->refs, 1);
    cfg->path = strdup(path);
    if (entries_read(path, &es, err) != 0)
        goto err_entries; /* what was read before the bad line */
    if (apply_fixed(cfg, &es, err) != 0 || build_profiles(cfg, &es, err) != 0 ||
        check_unknown(&es, err) != 0 || check_unknown_env(&es, err) != 0 ||
        check_route(cfg, &es, err) != 0)
        goto err_entries;
    entries_free(&es);
    *out = cfg;
    return 0;

err_entries:
    entries_free(&es);
    sb_config_unref(cfg);
    return -1;
}

struct sb_config *sb_config_ref(struct sb_config *cfg)
{
    atomic_fetch_add(&cfg->refs, 1);
    return cfg;
}

void sb_config_unref(struct sb_config *cfg)
{
    size_t i;

    if (cfg == NULL || atomic_fetch_sub(&cfg->refs, 1) != 1)
        return;
    for (i = 0; i < cfg->profile_count; i++)
        sb_profile_free(&cfg->profiles[i]);
    free(cfg->profiles);
    if (cfg->tokens != NULL)
        OPENSSL_cleanse(cfg->tokens, cfg->token_count * sizeof(*cfg->tokens));
    free(cfg->tokens);
    sb_redis_conf_free(&cfg->redis);
    free(cfg->path);
    free(cfg->listen_host);
    free(cfg->grpc_listen_host);
    free(cfg->port_file);
    free(cfg->prefix);
    free(cfg->route_legacy);
    free(cfg->route_new);
    free(cfg->route_mint);
    free(cfg);
}

const struct sb_profile *sb_config_profile(const struct sb_config *cfg,
                                           const char *name)
{
    size_t i;

    for (i = 0; i < cfg->profile_count; i++) {
        if (strcmp(cfg->profiles[i].name, name) == 0)
            return &cfg->profiles[i];
    }
    return NULL;
}

enum sb_role sb_config_token_role(const struct sb_config *cfg,
                                  const char *tok, size_t n)
{
    unsigned char md[SB_DIGEST_MAX];
    const void *part = tok;
    enum sb_role role = SB_ROLE_NONE;
    size_t i;

    if (sb_hash(SB_SHA256, &part, &n, 1, md) == 0)
        return SB_ROLE_NONE;
    /* Compare against every token so the time does not tell which matched. */
    for (i = 0; i < cfg->token_count; i++) {
        if (sb_ct_equal(md, cfg->tokens[i].digest, 32))
            role = cfg->tokens[i].role;
    }
    return role;
}
