/* metrics.c - fixed-slot atomic counters and their Prometheus text. */
#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "backend_label.h"
#include "http.h"
#include "sessionbridge/cache.h"
#include "sessionbridge/ratelimit.h"
#include "sessionbridge/redis.h"

static const unsigned status_codes[] = {200, 201, 204, 400, 401, 403, 404,
                                        405, 409, 413, 415, 500, 503};
#define STATUS_COUNT (sizeof(status_codes) / sizeof(status_codes[0]))
#define STATUS_OTHER STATUS_COUNT

static const double latency_bounds_ms[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10,
                                           25, 50, 100, 250, 1000};
#define BUCKETS (sizeof(latency_bounds_ms) / sizeof(latency_bounds_ms[0]))

#define MAX_ROUTES 64

struct route_counters {
    atomic_ulong by_status[STATUS_COUNT + 1];
    atomic_ulong latency[BUCKETS + 1]; /* per bucket, not cumulative */
    atomic_ullong latency_sum_us;
};

static struct route_counters routes[MAX_ROUTES + 1];

/* A label slot: (op, profile) pair with counts per result. */
struct label_slot {
    _Atomic(const char *) op;   /* static string, published last */
    char profile[64];
    atomic_ulong results[SB_ERR__COUNT];
};

/* sessionbridge_auth_requests_total: counts per backend slot
 * (backend_label.h), presented value and result (the error codes, then
 * "minted"). */
#define AUTH_MINTED SB_ERR__COUNT

static atomic_ulong auth_requests[SB_BACKEND_SLOTS][SB_PRESENTED_COUNT]
                                 [SB_ERR__COUNT + 1];
static atomic_ulong shadow_verdicts[SB_SHADOW_CANNOT_ENCODE + 1];

static struct label_slot cred_slots[SB_METRICS_LABEL_SLOTS];
static struct label_slot created_slots[SB_METRICS_LABEL_SLOTS];
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong revocations[3];
static const char *const revocation_kinds[3] = {"session", "user", "token"};

static size_t status_slot(unsigned status)
{
    size_t i;

    for (i = 0; i < STATUS_COUNT; i++) {
        if (status_codes[i] == status)
            return i;
    }
    return STATUS_OTHER;
}

void sb_metrics_request(size_t route_index, unsigned status, double ms)
{
    struct route_counters *c = &routes[route_index < MAX_ROUTES ? route_index
                                                                : MAX_ROUTES];
    size_t b;

    atomic_fetch_add_explicit(&c->by_status[status_slot(status)], 1,
                              memory_order_relaxed);
    for (b = 0; b < BUCKETS && ms > latency_bounds_ms[b]; b++)
        ;
    atomic_fetch_add_explicit(&c->latency[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->latency_sum_us,
                              (unsigned long long)(ms * 1000.0),
                              memory_order_relaxed);
}

/* Finds or claims the slot for (op, profile).  Lookups read published
 * slots without the lock; claiming a new slot takes it (once per pair). */
static struct label_slot *find_slot(struct label_slot *slots, const char *op,
                                    const char *profile)
{
    size_t i;
    struct label_slot *hit = NULL;

    if (profile == NULL)
        profile = "";
    for (i = 0; i < SB_METRICS_LABEL_SLOTS; i++) {
        const char *o = atomic_load_explicit(&slots[i].op,
                                             memory_order_acquire);
        if (o == NULL)
            break;
        if (strcmp(o, op) == 0 && strcmp(slots[i].profile, profile) == 0)
            return &slots[i];
    }
    pthread_mutex_lock(&slot_lock);
    for (i = 0; i < SB_METRICS_LABEL_SLOTS - 1; i++) {
        const char *o = atomic_load(&slots[i].op);
        if (o == NULL) {
            snprintf(slots[i].profile, sizeof(slots[i].profile), "%s",
                     profile);
            atomic_store_explicit(&slots[i].op, op, memory_order_release);
            hit = &slots[i];
            break;
        }
        if (strcmp(o, op) == 0 && strcmp(slots[i].profile, profile) == 0) {
            hit = &slots[i];
            break;
        }
    }
    if (hit == NULL) {
        hit = &slots[SB_METRICS_LABEL_SLOTS - 1];
        if (atomic_load(&hit->op) == NULL) {
            snprintf(hit->profile, sizeof(hit->profile), "other");
            atomic_store_explicit(&hit->op, "other", memory_order_release);
        }
    }
    pthread_mutex_unlock(&slot_lock);
    return hit;
}

void sb_metrics_credential(const char *op, const char *profile,
                           enum sb_err_code result)
{
    struct label_slot *s = find_slot(cred_slots, op, profile);

    atomic_fetch_add_explicit(&s->results[result], 1, memory_order_relaxed);
}

void sb_metrics_auth_request(const char *backend,
                             enum sb_bridge_presented presented,
                             enum sb_err_code result, bool minted)
{
    size_t r = result == SB_OK && minted ? AUTH_MINTED : (size_t)result;

    if ((unsigned)presented >= SB_PRESENTED_COUNT || r > AUTH_MINTED)
        return;
    atomic_fetch_add_explicit(&auth_requests[sb_backend_slot(backend)][presented]
                                            [r],
                              1, memory_order_relaxed);
}

void sb_metrics_shadow(enum sb_bridge_shadow verdict)
{
    if (verdict > SB_SHADOW_NONE && verdict <= SB_SHADOW_CANNOT_ENCODE)
        atomic_fetch_add_explicit(&shadow_verdicts[verdict], 1,
                                  memory_order_relaxed);
}

void sb_metrics_session_created(const char *profile)
{
    struct label_slot *s = find_slot(created_slots, "created", profile);

    atomic_fetch_add_explicit(&s->results[SB_OK], 1, memory_order_relaxed);
}

void sb_metrics_revocation(const char *kind)
{
    size_t i;

    for (i = 0; i < 3; i++) {
        if (strcmp(kind, revocation_kinds[i]) == 0)
            atomic_fetch_add_explicit(&revocations[i], 1,
                                      memory_order_relaxed);
    }
}

void sb_metrics_revocations_read(unsigned long out[3])
{
    size_t i;

    for (i = 0; i < 3; i++)
        out[i] = atomic_load(&revocations[i]);
}

static const char *route_label(size_t i)
{
    return i < sb_http_route_count ? sb_http_routes[i].name : "unmatched";
}

static int render_requests(struct sb_buf *out)
{
    size_t r, s, b;
    int rc = 0;

    rc |= sb_buf_append_str(out,
        "# HELP sessionbridge_http_requests_total HTTP requests by route and "
        "status.\n# TYPE sessionbridge_http_requests_total counter\n");
    for (r = 0; r <= sb_http_route_count && r <= MAX_ROUTES; r++) {
        size_t idx = r == sb_http_route_count ? MAX_ROUTES : r;
        for (s = 0; s <= STATUS_COUNT; s++) {
            unsigned long n = atomic_load(&routes[idx].by_status[s]);
            if (n == 0)
                continue;
            if (s == STATUS_OTHER)
                rc |= sb_buf_printf(out,
                    "sessionbridge_http_requests_total{route=\"%s\","
                    "status=\"other\"} %lu\n", route_label(r), n);
            else
                rc |= sb_buf_printf(out,
                    "sessionbridge_http_requests_total{route=\"%s\","
                    "status=\"%u\"} %lu\n", route_label(r),
                    status_codes[s], n);
        }
    }
    rc |= sb_buf_append_str(out,
        "# HELP sessionbridge_http_request_duration_seconds Request latency.\n"
        "# TYPE sessionbridge_http_request_duration_seconds histogram\n");
    for (r = 0; r <= sb_http_route_count && r <= MAX_ROUTES; r++) {
        size_t idx = r == sb_http_route_count ? MAX_ROUTES : r;
        unsigned long cum = 0, total = 0;
        for (b = 0; b <= BUCKETS; b++)
            total += atomic_load(&routes[idx].latency[b]);
        if (total == 0)
            continue;
        for (b = 0; b <= BUCKETS; b++) {
            cum += atomic_load(&routes[idx].latency[b]);
            if (b < BUCKETS)
                rc |= sb_buf_printf(out,
                    "sessionbridge_http_request_duration_seconds_bucket{"
                    "route=\"%s\",le=\"%g\"} %lu\n", route_label(r),
                    latency_bounds_ms[b] / 1000.0, cum);
            else
                rc |= sb_buf_printf(out,
                    "sessionbridge_http_request_duration_seconds_bucket{"
                    "route=\"%s\",le=\"+Inf\"} %lu\n", route_label(r), cum);
        }
        rc |= sb_buf_printf(out,
            "sessionbridge_http_request_duration_seconds_sum{route=\"%s\"} "
            "%.6f\nsessionbridge_http_request_duration_seconds_count{"
            "route=\"%s\"} %lu\n", route_label(r),
            (double)atomic_load(&routes[idx].latency_sum_us) / 1e6,
            route_label(r), cum);
    }
    return rc;
}

static int render_slots(struct sb_buf *out, struct label_slot *slots,
                        const char *metric, bool by_result)
{
    size_t i;
    int e, rc = 0;

    for (i = 0; i < SB_METRICS_LABEL_SLOTS; i++) {
        const char *op = atomic_load(&slots[i].op);
        if (op == NULL)
            continue;
        for (e = 0; e < SB_ERR__COUNT; e++) {
            unsigned long n = atomic_load(&slots[i].results[e]);
            if (n == 0)
                continue;
            if (by_result)
                rc |= sb_buf_printf(out,
                    "%s{op=\"%s\",profile=\"%s\",result=\"%s\"} %lu\n",
                    metric, op, slots[i].profile,
                    e == SB_OK ? "active" : sb_err_code_name(e), n);
            else
                rc |= sb_buf_printf(out, "%s{profile=\"%s\"} %lu\n", metric,
                                    slots[i].profile, n);
        }
    }
    return rc;
}

/* sessionbridge_auth_requests_total (the series that counted) and
 * sessionbridge_shadow_total (every verdict, zeros too). */
static int render_migration(struct sb_buf *out)
{
    size_t k, p, r;
    int v, rc = 0;

    rc |= sb_buf_append_str(out,
        "# HELP sessionbridge_auth_requests_total Forward-auth requests by "
        "backend (X-Sessionbridge-Backend), the route formats presented "
        "and the result.\n"
        "# TYPE sessionbridge_auth_requests_total counter\n");
    for (k = 0; k < SB_BACKEND_SLOTS; k++) {
        const char *name = sb_backend_label(k);
        for (p = 0; name != NULL && p < SB_PRESENTED_COUNT; p++) {
            for (r = 0; r <= AUTH_MINTED; r++) {
                unsigned long c = atomic_load(&auth_requests[k][p][r]);
                if (c == 0)
                    continue;
                rc |= sb_buf_printf(out,
                    "sessionbridge_auth_requests_total{backend=\"%s\","
                    "presented=\"%s\",result=\"%s\"} %lu\n", name,
                    sb_bridge_presented_name((enum sb_bridge_presented)p),
                    r == AUTH_MINTED ? "minted"
                    : r == SB_OK     ? "ok"
                                     : sb_err_code_name((enum sb_err_code)r),
                    c);
            }
        }
    }
    rc |= sb_buf_append_str(out,
        "# HELP sessionbridge_shadow_total Shadow checks ([route] shadow): "
        "would the new profile see the legacy-authenticated session the "
        "same.\n# TYPE sessionbridge_shadow_total counter\n");
    for (v = SB_SHADOW_AGREE; v <= SB_SHADOW_CANNOT_ENCODE; v++)
        rc |= sb_buf_printf(out, "sessionbridge_shadow_total{result=\"%s\"} "
                            "%lu\n",
                            sb_bridge_shadow_name((enum sb_bridge_shadow)v),
                            atomic_load(&shadow_verdicts[v]));
    return rc;
}

/* The verdict cache's counters and gauges (sessionbridge/cache.h). */
static int render_cache(struct sb_buf *out)
{
    struct sb_cache_stats st;

    sb_cache_stats(&st);
    return sb_buf_printf(out,
        "# HELP sessionbridge_cache_hits_total Credentials answered from "
        "the verdict cache.\n"
        "# TYPE sessionbridge_cache_hits_total counter\n"
        "sessionbridge_cache_hits_total %lu\n"
        "# HELP sessionbridge_cache_misses_total Credentials the cache did "
        "not hold (asked Redis).\n"
        "# TYPE sessionbridge_cache_misses_total counter\n"
        "sessionbridge_cache_misses_total %lu\n"
        "# HELP sessionbridge_cache_invalidations_total Invalidations "
        "applied (revoked sessions, logged-out users, clears).\n"
        "# TYPE sessionbridge_cache_invalidations_total counter\n"
        "sessionbridge_cache_invalidations_total %lu\n"
        "# HELP sessionbridge_cache_entries Credentials the cache holds.\n"
        "# TYPE sessionbridge_cache_entries gauge\n"
        "sessionbridge_cache_entries %lu\n"
        "# HELP sessionbridge_cache_capacity [cache] entries (0: "
        "disabled).\n"
        "# TYPE sessionbridge_cache_capacity gauge\n"
        "sessionbridge_cache_capacity %u\n"
        "# HELP sessionbridge_cache_subscribed 1 while the invalidation "
        "subscription stands (the cache serves), else 0.\n"
        "# TYPE sessionbridge_cache_subscribed gauge\n"
        "sessionbridge_cache_subscribed %d\n"
        "# HELP sessionbridge_cache_subscriptions_total Times the "
        "invalidation subscription (re)started (each empties the cache).\n"
        "# TYPE sessionbridge_cache_subscriptions_total counter\n"
        "sessionbridge_cache_subscriptions_total %lu\n",
        st.hits, st.misses, st.invalidations, st.entries, st.capacity,
        st.subscribed ? 1 : 0, st.subscriptions);
}

int sb_metrics_render(struct sb_buf *out)
{
    char master[300];
    size_t i;
    int rc = 0;

    rc |= render_requests(out);
    rc |= sb_buf_append_str(out,
        "# HELP sessionbridge_credentials_total Credential checks by "
        "operation, profile and result (op auth: each valid credential a "
        "request carried for its session; a failure once).\n"
        "# TYPE sessionbridge_credentials_total counter\n");
    rc |= render_slots(out, cred_slots, "sessionbridge_credentials_total",
                       true);
    rc |= sb_buf_append_str(out,
        "# HELP sessionbridge_sessions_created_total Sessions created by "
        "profile.\n# TYPE sessionbridge_sessions_created_total counter\n");
    rc |= render_slots(out, created_slots,
                       "sessionbridge_sessions_created_total", false);
    rc |= sb_buf_append_str(out,
        "# HELP sessionbridge_revocations_total Revocations by kind.\n"
        "# TYPE sessionbridge_revocations_total counter\n");
    for (i = 0; i < 3; i++)
        rc |= sb_buf_printf(out,
                            "sessionbridge_revocations_total{kind=\"%s\"} "
                            "%lu\n", revocation_kinds[i],
                            atomic_load(&revocations[i]));
    rc |= render_migration(out);
    rc |= render_cache(out);
    if (sb_redis_current_master(master, sizeof(master)) == 0 &&
        strpbrk(master, "\"\\\n") == NULL)
        rc |= sb_buf_printf(out,
            "# HELP sessionbridge_redis_master Sentinel mode: the master "
            "the workers last connected to.\n"
            "# TYPE sessionbridge_redis_master gauge\n"
            "sessionbridge_redis_master{addr=\"%s\"} 1\n", master);
    rc |= sb_buf_printf(out,
        "# HELP sessionbridge_redis_errors_total Failed Redis commands and "
        "connects.\n# TYPE sessionbridge_redis_errors_total counter\n"
        "sessionbridge_redis_errors_total %lu\n"
        "# HELP sessionbridge_redis_reconnects_total Successful Redis "
        "reconnects.\n# TYPE sessionbridge_redis_reconnects_total counter\n"
        "sessionbridge_redis_reconnects_total %lu\n"
        "# HELP sessionbridge_redis_unavailable_replies_total Error replies "
        "that failed a request closed (NOAUTH, LOADING, READONLY, OOM ...).\n"
        "# TYPE sessionbridge_redis_unavailable_replies_total counter\n"
        "sessionbridge_redis_unavailable_replies_total %lu\n"
        "# HELP sessionbridge_redis_failovers_total Sentinel master changes "
        "seen; in cluster mode, replicas seen promoted to primary.\n"
        "# TYPE sessionbridge_redis_failovers_total counter\n"
        "sessionbridge_redis_failovers_total %lu\n"
        "# HELP sessionbridge_open_connections Open client connections.\n"
        "# TYPE sessionbridge_open_connections gauge\n"
        "sessionbridge_open_connections %ld\n"
        "# HELP sessionbridge_build_info Build information.\n"
        "# TYPE sessionbridge_build_info gauge\n"
        "sessionbridge_build_info{version=\"%s\"} 1\n",
        atomic_load(&sb_redis_errors_total),
        atomic_load(&sb_redis_reconnects_total),
        atomic_load(&sb_redis_unavailable_replies_total),
        atomic_load(&sb_redis_failovers_total), sb_http_open_connections(),
        SB_VERSION);
    rc |= sb_buf_printf(out,
        "# HELP sessionbridge_redis_redirects_total Redis Cluster redirects "
        "followed (MOVED: the slot map changed; ASK: a slot being moved).\n"
        "# TYPE sessionbridge_redis_redirects_total counter\n"
        "sessionbridge_redis_redirects_total{kind=\"moved\"} %lu\n"
        "sessionbridge_redis_redirects_total{kind=\"ask\"} %lu\n"
        "# HELP sessionbridge_redis_cluster_nodes Redis Cluster: nodes in the "
        "last slot map loaded (0 in other modes).\n"
        "# TYPE sessionbridge_redis_cluster_nodes gauge\n"
        "sessionbridge_redis_cluster_nodes %lu\n"
        "# HELP sessionbridge_redis_cluster_primaries Redis Cluster: "
        "primaries in the last slot map loaded.\n"
        "# TYPE sessionbridge_redis_cluster_primaries gauge\n"
        "sessionbridge_redis_cluster_primaries %lu\n"
        "# HELP sessionbridge_redis_wait_short_total Writes that fewer "
        "replicas than [redis] wait_replicas acknowledged in time (answered "
        "503).\n# TYPE sessionbridge_redis_wait_short_total counter\n"
        "sessionbridge_redis_wait_short_total %lu\n",
        atomic_load(&sb_redis_redirects_moved_total),
        atomic_load(&sb_redis_redirects_ask_total),
        atomic_load(&sb_redis_cluster_nodes),
        atomic_load(&sb_redis_cluster_primaries),
        atomic_load(&sb_redis_wait_short_total));
    rc |= sb_buf_printf(out,
        "# HELP sessionbridge_http_slow_clients_closed_total Connections "
        "closed for not sending a whole request within idle_timeout / "
        "request_timeout.\n"
        "# TYPE sessionbridge_http_slow_clients_closed_total counter\n"
        "sessionbridge_http_slow_clients_closed_total %lu\n",
        sb_http_slow_clients_closed());
    rc |= sb_buf_printf(out,
        "# HELP sessionbridge_asym_verifications_refused_total Asymmetric "
        "signature checks refused by max_asym_verifications_per_second "
        "(error overloaded).\n"
        "# TYPE sessionbridge_asym_verifications_refused_total counter\n"
        "sessionbridge_asym_verifications_refused_total %lu\n",
        sb_ratelimit_refused_total());
    rc |= sb_metrics_render_process(out);
    return rc ? -1 : 0;
}
