/* redis_cluster.c - Redis Cluster under sb_redis: the slot map (CLUSTER
 * SLOTS, loaded from the seeds or a known node), one connection per node,
 * routing by the hash slot of each command's key, pipelines split over
 * the nodes with their replies handed back in call order, MOVED / ASK /
 * TRYAGAIN, and the walks, PING and WAIT over every primary.
 *
 * Every handle (one per worker thread) owns its map and connections: no
 * lock on the hot path.  The process-wide part is only what /metrics
 * shows (nodes, primaries, promotions seen). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "redis_internal.h"
#include "sessionbridge/log.h"
#include "sessionbridge/redis.h"
#include "sessionbridge/store.h"
#include "store_internal.h"

#define SLOT_COUNT 16384
#define NODES_MAX 64
#define REDIRECTS_MAX 5
#define TRYAGAIN_MAX 8    /* pauses of 2, 4 ... 256 ms: about half a second */
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000
#define ARGS_SEEN 4       /* arguments the router looks at */
#define MAP_MAX_AGE_MS 60000 /* a map is reloaded at least this often, to
                              * learn of replicas that joined since */

/* One node the handle knows: its address, role in the last map, and the
 * connection with how many replies were asked for and read on it (a
 * reply's position on its connection says which call it answers). */
struct cl_node {
    char host[SB_CLUSTER_HOST_MAX];
    unsigned port;
    bool primary;
    struct sb_redis_conn *c;
    uint64_t sent, received;
    bool written;            /* used since the last WAIT */
    int64_t next_attempt_ms; /* connect backoff */
    unsigned backoff_ms;
};

/* One call whose reply the caller has not read yet.  cmd is kept to send
 * it again after a redirect. */
struct cl_call {
    char *cmd;
    size_t len;
    int node;         /* -1: its connection was lost */
    uint64_t pos;     /* its reply's position on that connection */
    redisReply *stash; /* read early (while reading a reply behind it) */
    int slot;         /* -1: no key */
    bool pinned;      /* sent to one node on purpose: no redirects */
    unsigned redirects, retries;
};

struct sb_redis_cluster {
    struct cl_node nodes[NODES_MAX];
    size_t n;
    unsigned char owner[SLOT_COUNT]; /* node index + 1; 0: nobody */
    bool loaded, stale, in_layout;
    bool subscribed;   /* a SUBSCRIBE was sent: reads may wait for pushes */
    bool unconfirmed;  /* a node written to was closed before a WAIT */
    int64_t next_refresh_ms;
    int64_t loaded_ms;     /* when the map was loaded */
    unsigned refresh_backoff_ms;
    struct cl_call *q; /* calls in order, q[head .. head+len) */
    size_t head, len, cap;
    int last;          /* node that answered last, or -1 */
};

static const char asking_cmd[] = "*1\r\n$6\r\nASKING\r\n";

/* ---- parsing (untrusted: what servers answer) ------------------------------ */

/* CRC16-CCITT (XModem: polynomial 0x1021, initial 0), as Redis Cluster
 * hashes keys, bit by bit. */
static unsigned crc16(const unsigned char *p, size_t n)
{
    unsigned crc = 0;
    size_t i;
    int b;

    for (i = 0; i < n; i++) {
        crc ^= (unsigned)p[i] << 8;
        for (b = 0; b < 8; b++)
            crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff
                               : (crc << 1) & 0xffff;
    }
    return crc;
}

unsigned sb_redis_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len), *close;

    if (open != NULL) {
        close = memchr(open + 1, '}', len - (size_t)(open + 1 - key));
        if (close != NULL && close > open + 1) {
            key = open + 1;
            len = (size_t)(close - key);
        }
    }
    return crc16((const unsigned char *)key, len) & (SLOT_COUNT - 1);
}

/* Parses "host:port" (the last colon splits, so an IPv6 address works)
 * of s[0..n); an empty host is allowed (the caller fills it). */
static int parse_addr(const char *s, size_t n, char *host, size_t size,
                      unsigned *port)
{
    const char *colon = n ? memrchr(s, ':', n) : NULL;
    unsigned long v = 0;
    const char *p;
    size_t hlen;

    if (colon == NULL || colon + 1 == s + n)
        return -1;
    for (p = colon + 1; p < s + n; p++) {
        if (*p < '0' || *p > '9' || v > 65535)
            return -1;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    hlen = (size_t)(colon - s);
    if (v == 0 || v > 65535 || hlen >= size)
        return -1;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    *port = (unsigned)v;
    return 0;
}

int sb_redis_parse_redirect(const char *str, size_t len, bool *ask,
                            unsigned *slot, char *host, size_t size,
                            unsigned *port)
{
    const char *p, *sp;
    unsigned long v = 0;

    if (len > 6 && memcmp(str, "MOVED ", 6) == 0) {
        *ask = false;
        p = str + 6;
    } else if (len > 4 && memcmp(str, "ASK ", 4) == 0) {
        *ask = true;
        p = str + 4;
    } else {
        return -1;
    }
    sp = memchr(p, ' ', (size_t)(str + len - p));
    if (sp == NULL || sp == p)
        return -1;
    for (; p < sp; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned long)(*p - '0');
        if (v >= SLOT_COUNT)
            return -1;
    }
    *slot = (unsigned)v;
    return parse_addr(sp + 1, (size_t)(str + len - sp - 1), host, size, port);
}

/* host and port of a node entry [host, port, id, ...] of CLUSTER SLOTS. */
static int slot_node(const redisReply *e, const char *asked, char *host,
                     size_t size, unsigned *port)
{
    const redisReply *h, *p;

    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2)
        return -1;
    h = e->element[0];
    p = e->element[1];
    if (h->type != REDIS_REPLY_STRING || p->type != REDIS_REPLY_INTEGER ||
        p->integer <= 0 || p->integer > 65535)
        return -1;
    if (h->len == 0 || (h->len == 1 && h->str[0] == '?'))
        snprintf(host, size, "%s", asked);
    else if (h->len >= size)
        return -1;
    else
        memcpy(host, h->str, h->len + 1);
    *port = (unsigned)p->integer;
    return 0;
}

int sb_redis_parse_slots(const redisReply *rep, const char *asked_host,
                         struct sb_redis_slot_range **out, size_t *n,
                         struct sb_err *err)
{
    struct sb_redis_slot_range *v;
    size_t i, k;

    *out = NULL;
    *n = 0;
    if (rep->type != REDIS_REPLY_ARRAY)
        return sb_err_set(err, SB_ERR_STORE, "CLUSTER SLOTS: unexpected "
                          "reply%s%.80s", rep->type == REDIS_REPLY_ERROR
                          ? ": " : "", rep->type == REDIS_REPLY_ERROR
                          ? rep->str : "");
    v = calloc(rep->elements + 1, sizeof(*v));
    if (v == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    for (i = 0; i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        struct sb_redis_slot_range *r = &v[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
            e->element[0]->type != REDIS_REPLY_INTEGER ||
            e->element[1]->type != REDIS_REPLY_INTEGER ||
            e->element[0]->integer < 0 ||
            e->element[1]->integer < e->element[0]->integer ||
            e->element[1]->integer >= SLOT_COUNT ||
            slot_node(e->element[2], asked_host, r->host, sizeof(r->host),
                      &r->port) != 0) {
            free(v);
            return sb_err_set(err, SB_ERR_STORE, "CLUSTER SLOTS: range %zu "
                              "is malformed", i);
        }
        r->start = (unsigned)e->element[0]->integer;
        r->end = (unsigned)e->element[1]->integer;
        for (k = 3; k < e->elements && r->replicas < SB_CLUSTER_REPLICAS_MAX;
             k++) {
            if (slot_node(e->element[k], asked_host,
                          r->replica_host[r->replicas],
                          sizeof(r->replica_host[0]),
                          &r->replica_port[r->replicas]) == 0)
                r->replicas++;
        }
    }
    *out = v;
    *n = rep->elements;
    return 0;
}

/* ---- the process-wide view, for /metrics ----------------------------------- */

static pthread_mutex_t view_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sb_redis_slot_range *view;
static size_t view_n;

static bool same_addr(const char *h1, unsigned p1, const char *h2,
                      unsigned p2)
{
    return p1 == p2 && strcmp(h1, h2) == 0;
}

/* True when host:port was a replica of the range of view that starts at
 * start, and that range had another primary: a promotion. */
static bool promoted(const struct sb_redis_slot_range *r)
{
    size_t i, k;

    for (i = 0; i < view_n; i++) {
        const struct sb_redis_slot_range *o = &view[i];
        if (o->start != r->start ||
            same_addr(o->host, o->port, r->host, r->port))
            continue;
        for (k = 0; k < o->replicas; k++) {
            if (same_addr(o->replica_host[k], o->replica_port[k], r->host,
                          r->port))
                return true;
        }
    }
    return false;
}

/* Counts the promotions between the last map any handle loaded and this
 * one (a failover: a replica now serves its primary's slots), logs each,
 * and keeps this one.  Takes ownership of v. */
static void note_view(struct sb_redis_slot_range *v, size_t n)
{
    char addr[SB_CLUSTER_HOST_MAX + 8];
    size_t i;

    pthread_mutex_lock(&view_lock);
    for (i = 0; i < n; i++) {
        if (!promoted(&v[i]))
            continue;
        atomic_fetch_add(&sb_redis_failovers_total, 1);
        snprintf(addr, sizeof(addr), "%s:%u", v[i].host, v[i].port);
        sb_log(SB_LOG_WARN, "Redis Cluster failover: a replica now serves "
               "a primary's slots", "primary", addr, NULL);
    }
    free(view);
    view = v;
    view_n = n;
    pthread_mutex_unlock(&view_lock);
}

/* ---- nodes and connections ------------------------------------------------- */

static void node_close(struct sb_redis_cluster *cl, int i)
{
    struct cl_node *nd = &cl->nodes[i];

    if (nd->written)
        cl->unconfirmed = true;
    sb_redis_conn_close(nd->c);
    nd->c = NULL;
    nd->sent = nd->received = 0;
    nd->written = false;
}

static int find_node(const struct sb_redis_cluster *cl, const char *host,
                     unsigned port)
{
    size_t i;

    for (i = 0; i < cl->n; i++) {
        if (same_addr(cl->nodes[i].host, cl->nodes[i].port, host, port))
            return (int)i;
    }
    return -1;
}

/* The index of host:port, added (not a primary yet) when new. */
static int add_node(struct sb_redis_cluster *cl, const char *host,
                    unsigned port, struct sb_err *err)
{
    int i = find_node(cl, host, port);

    if (i >= 0)
        return i;
    if (cl->n == NODES_MAX)
        return sb_err_set(err, SB_ERR_STORE, "Redis Cluster: more than %d "
                          "nodes", NODES_MAX);
    memset(&cl->nodes[cl->n], 0, sizeof(cl->nodes[0]));
    snprintf(cl->nodes[cl->n].host, sizeof(cl->nodes[0].host), "%s", host);
    cl->nodes[cl->n].port = port;
    cl->nodes[cl->n].backoff_ms = BACKOFF_MIN_MS;
    return (int)cl->n++;
}

/* A fresh connection to host:port: dial (TLS when on), AUTH. */
static struct sb_redis_conn *dial(struct sb_redis *r, const char *host,
                                  unsigned port, struct sb_err *err)
{
    struct sb_redis_dial d = {host, port, NULL, NULL,
                              r->conf.tls.server_name, r->connect_timeout_ms,
                              r->command_timeout_ms};
    struct sb_redis_conn *c;

    if (sb_redis_tls_ready(r, err) != 0)
        return NULL;
    d.tls = r->tls;
    c = sb_redis_conn_open(&d, err);
    if (c != NULL && sb_redis_handshake(r, c, err) != 0) {
        sb_redis_conn_close(c);
        c = NULL;
    }
    return c;
}

/* Loads every script of the layout on a new node connection, in one
 * round trip, so the pipelines that run them by SHA do not meet NOSCRIPT
 * on a node they have not used yet (a promoted replica, a new node). */
static int load_scripts(struct sb_redis_conn *c, struct sb_err *err)
{
    int id, rc = 0;

    for (id = 0; id < SB_SCRIPT__COUNT; id++) {
        const char *argv[3] = {"SCRIPT", "LOAD", sb_store_script_text(id)};
        char *cmd = NULL;
        int len = redisFormatCommandArgv(&cmd, 3, argv, NULL);
        if (len < 0)
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        rc = sb_redis_conn_append(c, cmd, (size_t)len, err);
        redisFreeCommand(cmd);
        if (rc != 0)
            return -1;
    }
    for (id = 0; id < SB_SCRIPT__COUNT; id++) {
        redisReply *rep = sb_redis_conn_read(c, err);
        if (rep == NULL)
            return -1;
        if (rep->type == REDIS_REPLY_ERROR && rc == 0)
            rc = sb_err_set(err, SB_ERR_STORE, "Redis refused a script: "
                            "%.100s", rep->str);
        freeReplyObject(rep);
    }
    return rc;
}

/* Connects node i when it is not (no sooner than its backoff allows). */
static int node_ready(struct sb_redis *r, int i, struct sb_err *err)
{
    struct sb_redis_cluster *cl = r->cl;
    struct cl_node *nd = &cl->nodes[i];
    int64_t t;

    if (nd->c != NULL)
        return 0;
    t = sb_redis_now_ms();
    if (t < nd->next_attempt_ms)
        return sb_err_set(err, SB_ERR_STORE, "Redis node %.64s:%u is "
                          "unreachable (retrying shortly)", nd->host,
                          nd->port);
    nd->c = dial(r, nd->host, nd->port, err);
    if (nd->c != NULL && load_scripts(nd->c, err) != 0)
        node_close(cl, i);
    if (nd->c == NULL) {
        atomic_fetch_add(&sb_redis_errors_total, 1);
        nd->next_attempt_ms = t + nd->backoff_ms;
        nd->backoff_ms = nd->backoff_ms * 2 > BACKOFF_MAX_MS
                             ? BACKOFF_MAX_MS : nd->backoff_ms * 2;
        cl->stale = true;
        r->failed_since_connect = true;
        return -1;
    }
    nd->sent = nd->received = 0;
    nd->backoff_ms = BACKOFF_MIN_MS;
    if (r->failed_since_connect)
        atomic_fetch_add(&sb_redis_reconnects_total, 1);
    r->failed_since_connect = false;
    return 0;
}

/* Node i's connection failed (or answered "unavailable"): drop it, fail
 * the calls still waiting on it, and reload the map before the next
 * pipeline (a failover moves its slots). */
static void node_lost(struct sb_redis *r, int i)
{
    struct sb_redis_cluster *cl = r->cl;
    size_t k;

    for (k = cl->head; k < cl->head + cl->len; k++) {
        if (cl->q[k].node == i && cl->q[k].stash == NULL)
            cl->q[k].node = -1;
    }
    node_close(cl, i);
    if (cl->last == i)
        cl->last = -1;
    cl->stale = true;
    r->failed_since_connect = true;
    atomic_fetch_add(&sb_redis_errors_total, 1);
}

/* ---- the slot map ---------------------------------------------------------- */

/* Asks host:port for CLUSTER SLOTS on a connection of its own: -1 when
 * it cannot be reached, -2 when it answered something else than a map
 * (not a cluster node, no slots yet). */
static int ask_slots(struct sb_redis *r, const char *host, unsigned port,
                     struct sb_redis_slot_range **v, size_t *n,
                     struct sb_err *err)
{
    const char *argv[2] = {"CLUSTER", "SLOTS"};
    struct sb_redis_conn *c = dial(r, host, port, err);
    redisReply *rep;
    int rc;

    if (c == NULL)
        return -1;
    rep = sb_redis_conn_command(c, 2, argv, NULL, err);
    sb_redis_conn_close(c);
    if (rep == NULL)
        return -1;
    rc = sb_redis_parse_slots(rep, host, v, n, err);
    freeReplyObject(rep);
    if (rc == 0 && *n == 0) {
        free(*v);
        *v = NULL;
        sb_err_set(err, SB_ERR_STORE, "Redis node %.64s:%u serves no slots "
                   "(is the cluster created?)", host, port);
        return -2;
    }
    return rc == 0 ? 0 : -2;
}

/* Keeps in why the most telling failure: a node that answered without
 * a map says more than one that could not be reached. */
static void keep_why(int rc, const struct sb_err *one, struct sb_err *why,
                     bool *answered)
{
    if (rc == -2 || !*answered) {
        *why = *one;
        *answered = rc == -2 || *answered;
    }
}

/* The map from the first node that answers: the nodes this handle is
 * connected to, then the others it knows, then the seeds. */
static int fetch_slots(struct sb_redis *r, struct sb_redis_slot_range **v,
                       size_t *n, struct sb_err *err)
{
    struct sb_redis_cluster *cl = r->cl;
    struct sb_err last = {0}, one = {0};
    bool answered = false;
    size_t i;
    int pass, rc;

    int64_t t = sb_redis_now_ms();

    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < cl->n; i++) {
            struct cl_node *nd = &cl->nodes[i];
            if ((nd->c != NULL) != (pass == 0) ||
                (pass == 1 && t < nd->next_attempt_ms))
                continue;
            if ((rc = ask_slots(r, nd->host, nd->port, v, n, &one)) == 0)
                return 0;
            keep_why(rc, &one, &last, &answered);
        }
    }
    for (i = 0; i < r->conf.node_count; i++) {
        const struct sb_redis_node *s = &r->conf.nodes[i];
        if (find_node(cl, s->host, s->port) >= 0)
            continue;
        if ((rc = ask_slots(r, s->host, s->port, v, n, &one)) == 0)
            return 0;
        keep_why(rc, &one, &last, &answered);
    }
    return sb_err_set(err, SB_ERR_STORE, "Redis Cluster: no node gave a slot "
                      "map (%.180s)", last.msg);
}

/* Rebuilds nodes[] and owner[] from ranges v[0..n): primaries in the
 * order of their first slot, then replicas; connections of nodes still
 * there are kept, the others closed.  Only between pipelines. */
static int apply_slots(struct sb_redis_cluster *cl,
                       const struct sb_redis_slot_range *v, size_t n,
                       struct sb_err *err)
{
    struct cl_node old[NODES_MAX];
    size_t old_n = cl->n, i, k, primaries = 0;
    int j;

    memcpy(old, cl->nodes, sizeof(old[0]) * old_n);
    cl->n = 0;
    memset(cl->owner, 0, sizeof(cl->owner));
    for (i = 0; i < n; i++) {
        int p = add_node(cl, v[i].host, v[i].port, err);
        if (p < 0)
            goto fail;
        if (!cl->nodes[p].primary)
            primaries++;
        cl->nodes[p].primary = true;
        memset(cl->owner + v[i].start, p + 1, v[i].end - v[i].start + 1);
    }
    for (i = 0; i < n; i++) {
        for (k = 0; k < v[i].replicas; k++) {
            if (add_node(cl, v[i].replica_host[k], v[i].replica_port[k],
                         err) < 0)
                goto fail;
        }
    }
    for (i = 0; i < old_n; i++) {
        j = find_node(cl, old[i].host, old[i].port);
        if (j < 0) {
            if (old[i].written)
                cl->unconfirmed = true;
            sb_redis_conn_close(old[i].c);
            continue;
        }
        cl->nodes[j].c = old[i].c;
        cl->nodes[j].sent = old[i].sent;
        cl->nodes[j].received = old[i].received;
        cl->nodes[j].written = old[i].written;
        cl->nodes[j].next_attempt_ms = old[i].next_attempt_ms;
        cl->nodes[j].backoff_ms = old[i].backoff_ms;
    }
    atomic_store(&sb_redis_cluster_nodes, cl->n);
    atomic_store(&sb_redis_cluster_primaries, primaries);
    return 0;

fail:
    /* the old table stays as it was; the map is loaded again next time */
    memcpy(cl->nodes, old, sizeof(old[0]) * old_n);
    cl->n = old_n;
    cl->loaded = false;
    return -1;
}

/* No new map before the backoff allows (each failure doubles it). */
static void refresh_later(struct sb_redis_cluster *cl)
{
    cl->next_refresh_ms = sb_redis_now_ms() + cl->refresh_backoff_ms;
    cl->refresh_backoff_ms = cl->refresh_backoff_ms * 2 > BACKOFF_MAX_MS
                                 ? BACKOFF_MAX_MS
                                 : cl->refresh_backoff_ms * 2;
}

/* Loads the map, then checks the layout key (a node that restarted empty
 * gets it back), as a standalone connect does.  -1 when no map could be
 * loaded, -2 when the layout key names another layout (nothing may be
 * served); an unreachable layout key is checked at the next load. */
static int refresh(struct sb_redis *r, struct sb_err *err)
{
    struct sb_redis_cluster *cl = r->cl;
    struct sb_redis_slot_range *v = NULL;
    struct sb_err lerr = {0};
    size_t n = 0;
    int rc;

    if (fetch_slots(r, &v, &n, err) != 0 || apply_slots(cl, v, n, err) != 0) {
        free(v);
        refresh_later(cl);
        atomic_fetch_add(&sb_redis_errors_total, 1);
        return -1;
    }
    note_view(v, n);
    cl->loaded = true;
    cl->loaded_ms = sb_redis_now_ms();
    cl->stale = false;
    cl->refresh_backoff_ms = BACKOFF_MIN_MS;
    cl->last = -1;
    if (r->conf.layout_prefix == NULL)
        return 0;
    cl->in_layout = true;
    rc = sb_store_layout_ensure(r, r->conf.layout_prefix, &lerr);
    cl->in_layout = false;
    if (rc == 0)
        return 0;
    cl->stale = true;
    refresh_later(cl);
    if (lerr.code != SB_ERR_CONFIG)
        return 0;
    if (err != NULL)
        *err = lerr;
    return -2;
}

static struct sb_redis_cluster *router(struct sb_redis *r, struct sb_err *err)
{
    if (r->cl == NULL) {
        r->cl = calloc(1, sizeof(*r->cl));
        if (r->cl == NULL) {
            sb_err_set(err, SB_ERR_NOMEM, "out of memory");
            return NULL;
        }
        r->cl->last = -1;
        r->cl->refresh_backoff_ms = BACKOFF_MIN_MS;
    }
    return r->cl;
}

int sb_redis_cluster_ensure(struct sb_redis *r, struct sb_err *err)
{
    struct sb_redis_cluster *cl = router(r, err);
    int rc;

    if (cl == NULL)
        return -1;
    if (cl->loaded && sb_redis_now_ms() - cl->loaded_ms > MAP_MAX_AGE_MS)
        cl->stale = true;
    if (cl->len > 0 || cl->in_layout || (cl->loaded && !cl->stale))
        return 0;
    if (sb_redis_now_ms() < cl->next_refresh_ms)
        return cl->loaded ? 0 : sb_err_set(err, SB_ERR_STORE, "Redis "
                                           "Cluster is unreachable "
                                           "(retrying shortly)");
    rc = refresh(r, err);
    if (rc == -2 || (rc != 0 && !cl->loaded))
        return -1;
    return 0; /* a stale map still routes; MOVED corrects it */
}

void sb_redis_cluster_free(struct sb_redis_cluster *cl)
{
    size_t i;

    if (cl == NULL)
        return;
    for (i = 0; i < cl->n; i++)
        sb_redis_conn_close(cl->nodes[i].c);
    for (i = cl->head; i < cl->head + cl->len; i++) {
        redisFreeCommand(cl->q[i].cmd);
        freeReplyObject(cl->q[i].stash);
    }
    free(cl->q);
    free(cl);
}

/* ---- routing ---------------------------------------------------------------- */

/* The first ARGS_SEEN arguments of a formatted command (the project's
 * own redisFormatCommandArgv output: *N then $len / bytes pairs). */
struct args {
    int argc;
    const char *p[ARGS_SEEN];
    size_t n[ARGS_SEEN];
};

static void split_args(const char *cmd, size_t len, struct args *a)
{
    const char *p = cmd, *end = cmd + len;
    int i;

    memset(a, 0, sizeof(*a));
    if (len < 2 || *p != '*')
        return;
    a->argc = atoi(p + 1);
    p = memchr(p, '\n', len);
    for (i = 0; p != NULL && i < a->argc && i < ARGS_SEEN; i++) {
        size_t n;
        p++;
        if (p >= end || *p != '$')
            break;
        n = strtoul(p + 1, NULL, 10);
        p = memchr(p, '\n', (size_t)(end - p));
        if (p == NULL || (size_t)(end - p - 1) < n)
            break;
        a->p[i] = p + 1;
        a->n[i] = n;
        p = p + 1 + n + 1; /* \r then the \n found next round */
    }
}

static bool arg_is(const struct args *a, int i, const char *word)
{
    return i < a->argc && i < ARGS_SEEN && a->p[i] != NULL &&
           a->n[i] == strlen(word) && strncasecmp(a->p[i], word, a->n[i]) == 0;
}

/* The hash slot the command's key decides, or -1 for a command without
 * one.  Multi-key commands and scripts keep their keys in one slot (the
 * layout's hash tags), so the first key decides. */
static int command_slot(const struct args *a)
{
    static const char *const keyless[] = {
        "PING", "SCRIPT", "PUBLISH", "SUBSCRIBE", "UNSUBSCRIBE", "DBSIZE",
        "INFO", "ROLE", "AUTH", "SELECT", "CLIENT", "WAIT", "ASKING",
        "CLUSTER", "SCAN", "CONFIG", "COMMAND", "HELLO", "ECHO", "TIME",
        "FLUSHALL", "FLUSHDB", "READONLY", "READWRITE", NULL};
    int i, key = 1;

    if (a->argc < 1)
        return -1;
    for (i = 0; keyless[i] != NULL; i++) {
        if (arg_is(a, 0, keyless[i]))
            return -1;
    }
    if (arg_is(a, 0, "EVALSHA") || arg_is(a, 0, "EVAL")) {
        if (a->argc < 4 || a->p[2] == NULL || a->n[2] == 0 ||
            a->p[2][0] == '0')
            return -1;
        key = 3;
    } else if (arg_is(a, 0, "MEMORY")) {
        key = 2;
    }
    if (key >= a->argc || a->p[key] == NULL)
        return -1;
    return (int)sb_redis_key_slot(a->p[key], a->n[key]);
}

/* False for the commands that change nothing (reads, admin, WAIT
 * itself): a node they went to needs no WAIT after a revocation (a node
 * without replicas would answer WAIT with 0 for a read as well). */
static bool is_write(const struct args *a)
{
    static const char *const reads[] = {
        "GET", "EXISTS", "TTL", "PTTL", "ZRANGEBYSCORE", "ZRANGE", "ZSCORE",
        "ZCARD", "MGET", "SCAN", "MEMORY", "PING", "WAIT", "SCRIPT", "DBSIZE",
        "INFO", "PFCOUNT", "TYPE", "STRLEN", "CLUSTER", "ROLE", "SUBSCRIBE",
        "PUBLISH", "ASKING", "ECHO", "TIME", NULL};
    int i;

    for (i = 0; reads[i] != NULL; i++) {
        if (arg_is(a, 0, reads[i]))
            return false;
    }
    return true;
}

/* A node for a command without a key: the one that answered last, else
 * one already connected, else the first primary that accepts a
 * connection. */
static int any_node(struct sb_redis *r, struct sb_err *err)
{
    struct sb_redis_cluster *cl = r->cl;
    struct sb_err last = {0};
    size_t i;

    if (cl->last >= 0 && cl->nodes[cl->last].c != NULL)
        return cl->last;
    for (i = 0; i < cl->n; i++) {
        if (cl->nodes[i].primary && cl->nodes[i].c != NULL)
            return (int)i;
    }
    for (i = 0; i < cl->n; i++) {
        if (cl->nodes[i].primary && node_ready(r, (int)i, &last) == 0)
            return (int)i;
    }
    return sb_err_set(err, SB_ERR_STORE, "Redis Cluster: no primary is "
                      "reachable (last: %.160s)", last.msg);
}

/* Sends cmd to node i (ASKING first when asking); the position of its
 * reply on that connection. */
static int send_to(struct sb_redis *r, int i, const char *cmd, size_t len,
                   bool asking, uint64_t *pos, struct sb_err *err)
{
    struct cl_node *nd = &r->cl->nodes[i];

    if (node_ready(r, i, err) != 0)
        return -1;
    if (asking) {
        if (sb_redis_conn_append(nd->c, asking_cmd, sizeof(asking_cmd) - 1,
                                 err) != 0)
            return -1;
        nd->sent++; /* its reply is read and dropped: no call claims it */
    }
    if (sb_redis_conn_append(nd->c, cmd, len, err) != 0)
        return -1;
    *pos = nd->sent++;
    if (!nd->written) {
        struct args a;
        split_args(cmd, len, &a);
        nd->written = is_write(&a);
    }
    return 0;
}

static int push_call(struct sb_redis_cluster *cl, struct cl_call *call,
                     struct sb_err *err)
{
    if (cl->len == 0)
        cl->head = 0;
    if (cl->head + cl->len == cl->cap) {
        size_t cap = cl->cap ? cl->cap * 2 : 16;
        struct cl_call *q = realloc(cl->q, cap * sizeof(*q));
        if (q == NULL)
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        cl->q = q;
        cl->cap = cap;
    }
    cl->q[cl->head + cl->len++] = *call;
    return 0;
}

/* SCRIPT LOAD goes to every primary (each has its own script cache); the
 * replies of the others are read and dropped like ASKING's. */
static void broadcast(struct sb_redis *r, int except, const char *cmd,
                      size_t len)
{
    struct sb_redis_cluster *cl = r->cl;
    struct sb_err ignored = {0};
    uint64_t pos;
    size_t i;

    for (i = 0; i < cl->n; i++) {
        if ((int)i != except && cl->nodes[i].primary)
            send_to(r, (int)i, cmd, len, false, &pos, &ignored);
    }
}

static void abandon(struct sb_redis_cluster *cl);

/* Queues cmd (owned from here) on node `pinned` (>= 0), or where its
 * key's slot lives. */
static int queue_on(struct sb_redis *r, int pinned, char *cmd, size_t len,
                    struct sb_err *err)
{
    struct sb_redis_cluster *cl = r->cl;
    struct cl_call call = {cmd, len, -1, 0, NULL, -1, pinned >= 0, 0, 0};
    struct args a;
    int node = pinned;

    split_args(cmd, len, &a);
    if (pinned < 0) {
        call.slot = command_slot(&a);
        if (call.slot >= 0) {
            node = cl->owner[call.slot] - 1;
            if (node < 0) {
                cl->stale = true;
                sb_err_set(err, SB_ERR_STORE, "Redis Cluster: no node "
                           "serves hash slot %d (cluster down?)", call.slot);
                goto fail;
            }
        } else if ((node = any_node(r, err)) < 0) {
            goto fail;
        }
    }
    if (send_to(r, node, cmd, len, false, &call.pos, err) != 0)
        goto fail;
    call.node = node;
    if (pinned < 0 && arg_is(&a, 0, "SCRIPT") && arg_is(&a, 1, "LOAD"))
        broadcast(r, node, cmd, len);
    if (arg_is(&a, 0, "SUBSCRIBE"))
        cl->subscribed = true;
    if (push_call(cl, &call, err) != 0)
        goto fail; /* sent but unclaimed: its reply is dropped when read */
    return 0;

fail:
    redisFreeCommand(cmd);
    abandon(cl);
    return -1;
}

int sb_redis_cluster_queue(struct sb_redis *r, char *cmd, size_t len,
                           struct sb_err *err)
{
    if (router(r, err) == NULL) {
        redisFreeCommand(cmd);
        return -1;
    }
    return queue_on(r, -1, cmd, len, err);
}

/* The call at position pos on node i, if one is waiting. */
static struct cl_call *call_at(struct sb_redis_cluster *cl, int i,
                               uint64_t pos)
{
    size_t k;

    for (k = cl->head; k < cl->head + cl->len; k++) {
        if (cl->q[k].node == i && cl->q[k].pos == pos &&
            cl->q[k].stash == NULL)
            return &cl->q[k];
    }
    return NULL;
}

/* Reads node i until the reply at position pos comes; replies before it
 * go to the calls they answer (or are dropped: ASKING, broadcasts). */
static redisReply *read_at(struct sb_redis *r, int i, uint64_t pos,
                           struct sb_err *err)
{
    struct sb_redis_cluster *cl = r->cl;
    struct cl_node *nd = &cl->nodes[i];

    for (;;) {
        redisReply *rep;
        struct cl_call *early;
        uint64_t at;

        if (nd->c == NULL) {
            sb_err_set(err, SB_ERR_STORE, "Redis connection was lost");
            return NULL;
        }
        rep = sb_redis_conn_read(nd->c, err);
        if (rep == NULL) {
            node_lost(r, i);
            return NULL;
        }
        at = nd->received++;
        if (at == pos)
            return rep;
        early = call_at(cl, i, at);
        if (early != NULL)
            early->stash = rep;
        else
            freeReplyObject(rep);
    }
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Sends the call again after a MOVED / ASK (to the node named) or a
 * TRYAGAIN (to the slot's node, after a pause).  0 when resent, 1 when
 * rep is final (not a redirect, or the bound is reached), -1 when the
 * resend failed. */
static int follow(struct sb_redis *r, struct cl_call *call,
                  const redisReply *rep, struct sb_err *err)
{
    struct sb_redis_cluster *cl = r->cl;
    char host[SB_CLUSTER_HOST_MAX];
    unsigned slot, port;
    bool ask;
    int node;

    if (rep->type != REDIS_REPLY_ERROR || call->pinned)
        return 1;
    if (strncmp(rep->str, "TRYAGAIN", 8) == 0) {
        if (call->retries >= TRYAGAIN_MAX)
            return 1;
        sleep_ms(2u << call->retries++);
        node = call->slot >= 0 && cl->owner[call->slot] > 0
                   ? cl->owner[call->slot] - 1 : call->node;
        if (send_to(r, node, call->cmd, call->len, false, &call->pos,
                    err) != 0)
            return -1;
        call->node = node;
        return 0;
    }
    if (sb_redis_parse_redirect(rep->str, rep->len, &ask, &slot, host,
                                sizeof(host), &port) != 0 ||
        call->redirects >= REDIRECTS_MAX)
        return 1;
    call->redirects++;
    if (host[0] == '\0')
        snprintf(host, sizeof(host), "%s", cl->nodes[call->node].host);
    if ((node = add_node(cl, host, port, err)) < 0)
        return -1;
    if (ask) {
        atomic_fetch_add(&sb_redis_redirects_ask_total, 1);
    } else {
        atomic_fetch_add(&sb_redis_redirects_moved_total, 1);
        cl->nodes[node].primary = true;
        cl->owner[slot] = (unsigned char)(node + 1);
        cl->stale = true;
    }
    if (send_to(r, node, call->cmd, call->len, ask, &call->pos, err) != 0)
        return -1;
    call->node = node;
    return 0;
}

/* Takes the head call off the queue. */
static void pop_call(struct sb_redis_cluster *cl)
{
    redisFreeCommand(cl->q[cl->head].cmd);
    freeReplyObject(cl->q[cl->head].stash);
    cl->head++;
    cl->len--;
}

/* A failure abandons the whole pipeline, as a dropped connection does in
 * the other modes: the calls still queued are forgotten (a reply of
 * theirs that comes later is read and dropped, by its position), and the
 * reads their caller may still make fail at once.  So a caller that
 * stops reading at the first failure leaves nothing behind for the next
 * request to read. */
static void abandon(struct sb_redis_cluster *cl)
{
    while (cl->len > 0)
        pop_call(cl);
    cl->head = 0;
}

redisReply *sb_redis_cluster_read(struct sb_redis *r, struct sb_err *err)
{
    struct sb_redis_cluster *cl = router(r, err);
    redisReply *rep = NULL;
    struct cl_call *call;
    int node, step;

    if (cl == NULL)
        return NULL;
    if (cl->len == 0) {
        /* a subscription: the next message where it was made; else the
         * pipeline was abandoned */
        if (!cl->subscribed || cl->last < 0 ||
            cl->nodes[cl->last].c == NULL) {
            sb_err_set(err, SB_ERR_STORE, "Redis connection was lost");
            return NULL;
        }
        node = cl->last;
        rep = sb_redis_conn_read(cl->nodes[node].c, err);
        if (rep == NULL) {
            node_lost(r, node);
            return NULL;
        }
        goto screen;
    }
    call = &cl->q[cl->head];
    for (;;) {
        if (call->stash != NULL) {
            rep = call->stash;
            call->stash = NULL;
        } else if (call->node < 0) {
            sb_err_set(err, SB_ERR_STORE, "Redis connection was lost");
            abandon(cl);
            return NULL;
        } else if ((rep = read_at(r, call->node, call->pos, err)) == NULL) {
            abandon(cl);
            return NULL;
        }
        step = follow(r, call, rep, err);
        if (step == 1)
            break;
        freeReplyObject(rep);
        rep = NULL;
        if (step < 0) {
            abandon(cl);
            return NULL;
        }
    }
    node = call->node;
    pop_call(cl);
    cl->last = node;
screen:
    rep = sb_redis_screen_reply(r, rep, err);
    if (rep == NULL) {
        /* the node cannot serve now (CLUSTERDOWN, LOADING, a redirect
         * past the bound ...): start over on it with a new map */
        node_lost(r, node);
        abandon(cl);
    }
    return rep;
}

/* ---- walks, readiness, WAIT ------------------------------------------------- */

/* The index of the i-th primary in nodes[] (the map's order), or -1. */
static int nth_primary(const struct sb_redis_cluster *cl, size_t i)
{
    size_t k;

    for (k = 0; k < cl->n; k++) {
        if (cl->nodes[k].primary && i-- == 0)
            return (int)k;
    }
    return -1;
}

int sb_redis_cluster_primary_count(struct sb_redis *r, struct sb_err *err)
{
    size_t k, n = 0;

    if (sb_redis_cluster_ensure(r, err) != 0)
        return -1;
    for (k = 0; k < r->cl->n; k++)
        n += r->cl->nodes[k].primary;
    return (int)n;
}

/* One command on node i, with nothing else queued (walks, PING, WAIT). */
static redisReply *command_on(struct sb_redis *r, int node, int argc,
                              const char **argv, const size_t *argvlen,
                              struct sb_err *err)
{
    char *cmd = NULL;
    int len;

    if (r->cl->len > 0) {
        sb_err_set(err, SB_ERR_INTERNAL, "a node command inside a pipeline");
        return NULL;
    }
    len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (len < 0) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (queue_on(r, node, cmd, (size_t)len, err) != 0)
        return NULL;
    return sb_redis_cluster_read(r, err);
}

redisReply *sb_redis_cluster_commandv_primary(struct sb_redis *r, size_t i,
                                              int argc, const char **argv,
                                              const size_t *argvlen,
                                              struct sb_err *err)
{
    int node;

    if (sb_redis_cluster_ensure(r, err) != 0)
        return NULL;
    node = nth_primary(r->cl, i);
    if (node < 0) {
        sb_err_set(err, SB_ERR_STORE, "Redis Cluster changed during the walk "
                   "(a failover): run it again");
        return NULL;
    }
    return command_on(r, node, argc, argv, argvlen, err);
}

int sb_redis_cluster_ping(struct sb_redis *r, struct sb_err *err)
{
    const char *ping[1] = {"PING"};
    size_t s, i;
    int n;

    if ((n = sb_redis_cluster_primary_count(r, err)) < 0)
        return -1;
    for (s = 0; s < SLOT_COUNT; s++) {
        if (r->cl->owner[s] == 0)
            return sb_err_set(err, SB_ERR_STORE, "Redis Cluster: no primary "
                              "serves hash slot %zu", s);
    }
    for (i = 0; i < (size_t)n; i++) {
        redisReply *rep = sb_redis_cluster_commandv_primary(r, i, 1, ping,
                                                            NULL, err);
        bool pong = rep != NULL && rep->type == REDIS_REPLY_STATUS &&
                    strcmp(rep->str, "PONG") == 0;
        freeReplyObject(rep);
        if (rep != NULL && !pong)
            sb_err_set(err, SB_ERR_STORE, "a Redis Cluster primary answered "
                       "PING with an error");
        if (!pong)
            return -1;
    }
    return 0;
}

const struct sb_redis_conn *
sb_redis_cluster_subscription(const struct sb_redis *r)
{
    const struct sb_redis_cluster *cl = r->cl;

    if (cl == NULL || !cl->subscribed || cl->len > 0 || cl->last < 0)
        return NULL;
    return cl->nodes[cl->last].c;
}

void sb_redis_cluster_wait_begin(struct sb_redis *r)
{
    size_t k;

    if (r->cl == NULL)
        return;
    for (k = 0; k < r->cl->n; k++)
        r->cl->nodes[k].written = false;
    r->cl->unconfirmed = false;
}

int sb_redis_cluster_wait(struct sb_redis *r, long long *acked,
                          struct sb_err *err)
{
    struct sb_redis_cluster *cl = router(r, err);
    char n[16], ms[16];
    const char *argv[3] = {"WAIT", n, ms};
    size_t k, sent = 0;

    if (cl == NULL)
        return -1;
    snprintf(n, sizeof(n), "%u", r->conf.wait_replicas);
    snprintf(ms, sizeof(ms), "%u", r->conf.wait_timeout_ms);
    *acked = r->conf.wait_replicas;
    if (cl->len > 0)
        return sb_err_set(err, SB_ERR_INTERNAL, "WAIT inside a pipeline");
    if (cl->unconfirmed) {
        /* a write may have gone through a connection lost since */
        cl->unconfirmed = false;
        return sb_err_set(err, SB_ERR_STORE, "a Redis node written to was "
                          "lost before WAIT could confirm the write");
    }
    /* one WAIT per node written to, all sent before the first is read:
     * they wait side by side */
    for (k = 0; k < cl->n; k++) {
        char *cmd = NULL;
        int len;
        if (!cl->nodes[k].written || cl->nodes[k].c == NULL)
            continue;
        cl->nodes[k].written = false;
        len = redisFormatCommandArgv(&cmd, 3, argv, NULL);
        if (len < 0) {
            abandon(cl);
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        }
        if (queue_on(r, (int)k, cmd, (size_t)len, err) != 0)
            return -1;
        sent++;
    }
    for (k = 0; k < sent; k++) {
        redisReply *rep = sb_redis_cluster_read(r, err);
        if (rep == NULL)
            return -1;
        if (rep->type != REDIS_REPLY_INTEGER) {
            freeReplyObject(rep);
            abandon(cl);
            return sb_err_set(err, SB_ERR_STORE, "WAIT: unexpected reply");
        }
        if (rep->integer < *acked)
            *acked = rep->integer;
        freeReplyObject(rep);
    }
    return 0;
}
