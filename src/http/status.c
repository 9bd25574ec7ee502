/* status.c - GET /status (the page, its stylesheet and script, embedded
 * at build time) and GET /status.json (what the page and scripts read):
 * the live route, the migration's progress and traffic over the last
 * hour, error codes, revocations, the cache, Redis, the version and the
 * config's generation and reloads.  Callers: an admin token, or loopback
 * peers when [api] open_on_loopback lists status. */
#include <string.h>
#include <time.h>

#include "api.h"
#include "endpoints.h"
#include "metrics.h"
#include "sessionbridge/cache.h"
#include "sessionbridge/progress.h"
#include "sessionbridge/redis.h"
#include "sessionbridge/redis_latency.h"
#include "sessionbridge/store_progress.h"
#include "split.h"
#include "status_assets.h"

/* The page's own files only: no inline script or style, nothing from
 * elsewhere. */
static const char page_csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

/* Answers one embedded file with headers that keep it private. */
static void reply_asset(struct sb_http_req *req, const char *type,
                        const unsigned char *data, size_t len)
{
    sb_http_add_header(req, "Content-Security-Policy", page_csp);
    sb_http_add_header(req, "Cache-Control", "no-store");
    sb_http_add_header(req, "X-Content-Type-Options", "nosniff");
    sb_http_reply_raw(req, 200, type, (const char *)data, len);
}

void sb_ep_status_page(struct sb_http_req *req)
{
    if (sb_api_authorize(req, SB_API_STATUS))
        reply_asset(req, "text/html; charset=utf-8", sb_status_index_html,
                    sb_status_index_html_len);
}

void sb_ep_status_asset(struct sb_http_req *req)
{
    char name[32];

    if (!sb_api_authorize(req, SB_API_STATUS))
        return;
    if (sb_http_path_param(req, 0, name, sizeof(name)) < 0) {
        sb_api_error(req, 404, "not_found", "no such file");
        return;
    }
    if (strcmp(name, "status.css") == 0)
        reply_asset(req, "text/css; charset=utf-8", sb_status_status_css,
                    sb_status_status_css_len);
    else if (strcmp(name, "status.js") == 0)
        reply_asset(req, "text/javascript; charset=utf-8",
                    sb_status_status_js, sb_status_status_js_len);
    else
        sb_api_error(req, 404, "not_found", "no such file");
}

/* A JSON string or null. */
static json_t *string_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

/* The live [route]: both sides, what is minted, shadow and retire. */
static json_t *route_json(const struct sb_config *cfg)
{
    return json_pack("{s:o, s:o, s:o, s:b, s:o}",
                     "legacy", string_or_null(cfg->route_legacy),
                     "new", string_or_null(cfg->route_new),
                     "mint", string_or_null(cfg->route_mint),
                     "shadow", cfg->route_shadow,
                     "retire", cfg->route_retire_legacy ? json_string("legacy")
                                                        : json_null());
}

/* The config's generation, when it was loaded, and the reloads. */
static json_t *config_json(void)
{
    struct sb_metrics_reloads r;

    sb_metrics_reload_read(&r);
    return json_pack("{s:I, s:I, s:{s:I, s:I}, s:o}",
                     "generation", (json_int_t)sb_live_generation(),
                     "loaded_at", (json_int_t)r.last_success,
                     "reloads", "success", (json_int_t)r.ok,
                     "failure", (json_int_t)r.failed,
                     "last_reload", r.last_attempt == 0 ? json_null()
                     : json_pack("{s:I, s:s}", "at",
                                 (json_int_t)r.last_attempt, "result",
                                 r.last_attempt_ok ? "success" : "failure"));
}

/* The progress figure, the traffic split and the per-minute history. */
static void add_progress(json_t *o, const struct sb_progress_view *v)
{
    json_t *minutes = json_array(), *errors = json_object();
    uint64_t hour_new = 0, hour_legacy = 0;
    const struct sb_progress_minute *last = &v->minutes[SB_PROGRESS_MINUTES - 1];
    size_t i;

    for (i = 0; i < SB_PROGRESS_MINUTES; i++) {
        const struct sb_progress_minute *m = &v->minutes[i];
        hour_new += m->served_new;
        hour_legacy += m->served_legacy;
        json_array_append_new(minutes, json_pack(
            "{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "t", (json_int_t)m->minute,
            "served_new", (json_int_t)m->served_new,
            "served_legacy", (json_int_t)m->served_legacy,
            "refused", (json_int_t)m->refused,
            "unavailable", (json_int_t)m->unavailable,
            "active_any", (json_int_t)m->active_any,
            "active_new", (json_int_t)m->active_new));
    }
    for (i = 1; i < SB_ERR__COUNT; i++) {
        if (v->errors[i] > 0)
            json_object_set_new(errors, sb_err_code_name((enum sb_err_code)i),
                                json_integer((json_int_t)v->errors[i]));
    }
    json_object_set_new(o, "progress", json_pack(
        "{s:i, s:{s:I, s:I}, s:o, s:b, s:o, s:{s:I, s:I}, s:I}",
        "window_seconds",
        SB_PROGRESS_ACTIVE_WINDOWS * SB_PROGRESS_WINDOW_SECONDS,
        "active_users", "any", (json_int_t)v->active_any,
        "new", (json_int_t)v->active_new,
        "share_new", v->active_any > 0
                         ? json_real((double)v->active_new /
                                     (double)v->active_any)
                         : json_null(),
        "counted", v->counted,
        "counted_at", v->counted ? json_integer((json_int_t)v->counted_at)
                                 : json_null(),
        "flushes", "ok", (json_int_t)v->flushes_ok,
        "error", (json_int_t)v->flushes_failed,
        "dropped", (json_int_t)v->dropped));
    json_object_set_new(o, "split", json_pack(
        "{s:{s:I, s:I}, s:{s:I, s:I}, s:o}",
        "last_minute", "new", (json_int_t)last->served_new,
        "legacy", (json_int_t)last->served_legacy,
        "last_hour", "new", (json_int_t)hour_new,
        "legacy", (json_int_t)hour_legacy,
        "backends", sb_split_json()));
    json_object_set_new(o, "minutes", minutes);
    json_object_set_new(o, "errors", errors);
    json_object_set_new(o, "served", json_integer((json_int_t)v->errors[SB_OK]));
}

/* Revocations since start, by kind. */
static json_t *revocations_json(void)
{
    unsigned long n[3];

    sb_metrics_revocations_read(n);
    return json_pack("{s:I, s:I, s:I}", "session", (json_int_t)n[0], "user",
                     (json_int_t)n[1], "token", (json_int_t)n[2]);
}

/* The verdict cache's size and counters. */
static json_t *cache_json(void)
{
    struct sb_cache_stats st;

    sb_cache_stats(&st);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:b}",
                     "capacity", (json_int_t)st.capacity,
                     "entries", (json_int_t)st.entries,
                     "hits", (json_int_t)st.hits,
                     "misses", (json_int_t)st.misses,
                     "invalidations", (json_int_t)st.invalidations,
                     "subscribed", st.subscribed);
}

/* Round trips observed since start. */
static uint64_t round_trips(const struct sb_redis_latency *h)
{
    uint64_t total = 0;
    unsigned b;

    for (b = 0; b <= SB_REDIS_LATENCY_BUCKETS; b++)
        total += h->counts[b];
    return total;
}

/* The bound of the bucket where quantile q of h falls (seconds), or -1
 * when nothing was observed; beyond the last bound: that bound. */
static double latency_quantile(const struct sb_redis_latency *h, double q)
{
    uint64_t total = round_trips(h), cum = 0;
    unsigned b;

    if (total == 0)
        return -1;
    for (b = 0; b < SB_REDIS_LATENCY_BUCKETS; b++) {
        cum += h->counts[b];
        if ((double)cum >= q * (double)total)
            return sb_redis_latency_bounds[b];
    }
    return sb_redis_latency_bounds[SB_REDIS_LATENCY_BUCKETS - 1];
}

/* Redis: a PING on this worker's connection now, and the counters. */
static json_t *redis_json(const struct sb_config *cfg)
{
    struct sb_redis_latency h;
    struct sb_err err = {0};
    struct sb_redis *r;
    redisReply *rep = NULL;
    bool ok;
    double p50, p99;

    r = sb_redis_thread(&cfg->redis, cfg->connect_timeout_ms,
                        cfg->command_timeout_ms, &err);
    if (r != NULL)
        rep = sb_redis_command(r, &err, "PING");
    ok = rep != NULL && rep->type == REDIS_REPLY_STATUS &&
         strcmp(rep->str, "PONG") == 0;
    freeReplyObject(rep);
    sb_redis_latency_read(&h);
    p50 = latency_quantile(&h, 0.5);
    p99 = latency_quantile(&h, 0.99);
    return json_pack("{s:b, s:I, s:I, s:I, s:I, s:{s:I, s:o, s:o}}",
                     "ready", ok,
                     "errors", (json_int_t)atomic_load(&sb_redis_errors_total),
                     "reconnects",
                     (json_int_t)atomic_load(&sb_redis_reconnects_total),
                     "unavailable_replies",
                     (json_int_t)atomic_load(&sb_redis_unavailable_replies_total),
                     "failovers",
                     (json_int_t)atomic_load(&sb_redis_failovers_total),
                     "latency", "round_trips", (json_int_t)round_trips(&h),
                     "p50_seconds", p50 < 0 ? json_null() : json_real(p50),
                     "p99_seconds", p99 < 0 ? json_null() : json_real(p99));
}

void sb_ep_status_json(struct sb_http_req *req)
{
    static __thread struct sb_progress_view view; /* ~10 KiB: not on the
                                                     stack */
    json_t *o;

    if (!sb_api_authorize(req, SB_API_STATUS))
        return;
    sb_progress_read(&view);
    o = json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:o}",
                  "version", SB_VERSION,
                  "now", (json_int_t)time(NULL),
                  "config", config_json(),
                  "route", route_json(req->cfg),
                  "revocations", revocations_json(),
                  "cache", cache_json(),
                  "redis", redis_json(req->cfg));
    if (o != NULL)
        add_progress(o, &view);
    sb_http_add_header(req, "Cache-Control", "no-store");
    sb_http_reply_json(req, 200, o);
}
