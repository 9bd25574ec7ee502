/* metrics_process.c - the metric families of the process itself and of
 * what runs beside the requests: process_* (read from /proc at scrape
 * time), config reloads, the Redis round-trip histogram and the
 * migration's progress gauges (metrics.h). */
#include "metrics.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sessionbridge/progress.h"
#include "sessionbridge/redis_latency.h"

static atomic_ulong reloads_ok, reloads_failed;
static atomic_llong last_success_s; /* Unix seconds; the start counts */
static atomic_llong last_attempt_s; /* the last SIGHUP; 0 before one */
static atomic_bool last_attempt_ok;

void sb_metrics_config_loaded(void)
{
    atomic_store(&last_success_s, (long long)time(NULL));
}

void sb_metrics_config_reloaded(bool ok)
{
    long long now = (long long)time(NULL);

    atomic_fetch_add(ok ? &reloads_ok : &reloads_failed, 1);
    if (ok)
        atomic_store(&last_success_s, now);
    atomic_store(&last_attempt_ok, ok);
    atomic_store(&last_attempt_s, now);
}

void sb_metrics_reload_read(struct sb_metrics_reloads *out)
{
    out->ok = atomic_load(&reloads_ok);
    out->failed = atomic_load(&reloads_failed);
    out->last_success = atomic_load(&last_success_s);
    out->last_attempt = atomic_load(&last_attempt_s);
    out->last_attempt_ok = atomic_load(&last_attempt_ok);
}

/* What /proc says about this process; -1 fields when unreadable. */
struct proc_sample {
    double cpu_seconds;
    double start_time;  /* Unix seconds */
    long long rss_bytes;
    long long open_fds;
};

/* The boot time in Unix seconds: the wall clock less the time since boot
 * (CLOCK_BOOTTIME), so no /proc/stat is needed (the shipped unit's
 * ProcSubset=pid hides it). */
static double boot_time(void)
{
    struct timespec real, boot;

    if (clock_gettime(CLOCK_REALTIME, &real) != 0 ||
        clock_gettime(CLOCK_BOOTTIME, &boot) != 0)
        return -1;
    return (double)(real.tv_sec - boot.tv_sec) +
           (double)(real.tv_nsec - boot.tv_nsec) / 1e9;
}

/* Entries of /proc/self/fd, less the one reading it. */
static long long count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    long long n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.')
            n++;
    }
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

/* Fields 14, 15 (utime, stime) and 22 (starttime, in clock ticks since
 * boot) of /proc/self/stat, and the resident pages of statm. */
static void sample_proc(struct proc_sample *p)
{
    char buf[1024], *s;
    unsigned long long utime, stime, start;
    long long pages;
    long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    double btime = boot_time();
    size_t n;
    FILE *f;

    p->cpu_seconds = p->start_time = -1;
    p->rss_bytes = -1;
    p->open_fds = count_fds();
    f = fopen("/proc/self/stat", "r");
    if (f != NULL) {
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        /* The command name may hold spaces: fields count from its ')'. */
        s = strrchr(buf, ')');
        if (s != NULL && ticks > 0 &&
            sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                   "%llu %llu %*d %*d %*d %*d %*d %*d %llu",
                   &utime, &stime, &start) == 3) {
            p->cpu_seconds = (double)(utime + stime) / (double)ticks;
            if (btime >= 0)
                p->start_time = btime + (double)start / (double)ticks;
        }
    }
    f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%*d %lld", &pages) == 1 && page > 0)
            p->rss_bytes = pages * page;
        fclose(f);
    }
}

/* process_*: the names and meanings every Prometheus client library
 * uses, so stock dashboards work. */
static int render_process(struct sb_buf *out)
{
    struct proc_sample p;
    int rc = 0;

    sample_proc(&p);
    if (p.rss_bytes >= 0)
        rc |= sb_buf_printf(out,
            "# HELP process_resident_memory_bytes Resident memory size in "
            "bytes.\n# TYPE process_resident_memory_bytes gauge\n"
            "process_resident_memory_bytes %lld\n", p.rss_bytes);
    if (p.cpu_seconds >= 0)
        rc |= sb_buf_printf(out,
            "# HELP process_cpu_seconds_total Total user and system CPU time "
            "spent in seconds.\n# TYPE process_cpu_seconds_total counter\n"
            "process_cpu_seconds_total %.2f\n", p.cpu_seconds);
    if (p.open_fds >= 0)
        rc |= sb_buf_printf(out,
            "# HELP process_open_fds Number of open file descriptors.\n"
            "# TYPE process_open_fds gauge\nprocess_open_fds %lld\n",
            p.open_fds);
    if (p.start_time >= 0)
        rc |= sb_buf_printf(out,
            "# HELP process_start_time_seconds Start time of the process "
            "since unix epoch in seconds.\n"
            "# TYPE process_start_time_seconds gauge\n"
            "process_start_time_seconds %.2f\n", p.start_time);
    return rc;
}

/* sessionbridge_config_reload_total and the last good load. */
static int render_reloads(struct sb_buf *out)
{
    struct sb_metrics_reloads r;

    sb_metrics_reload_read(&r);
    return sb_buf_printf(out,
        "# HELP sessionbridge_config_reload_total Configuration reloads "
        "(SIGHUP) by result; a failed one keeps the running config.\n"
        "# TYPE sessionbridge_config_reload_total counter\n"
        "sessionbridge_config_reload_total{result=\"success\"} %lu\n"
        "sessionbridge_config_reload_total{result=\"failure\"} %lu\n"
        "# HELP sessionbridge_config_last_reload_success_timestamp_seconds "
        "When the running config was loaded (start or reload).\n"
        "# TYPE sessionbridge_config_last_reload_success_timestamp_seconds "
        "gauge\n"
        "sessionbridge_config_last_reload_success_timestamp_seconds %lld\n",
        r.ok, r.failed, r.last_success);
}

/* sessionbridge_redis_latency_seconds, cumulative as the format wants. */
static int render_redis_latency(struct sb_buf *out)
{
    struct sb_redis_latency h;
    unsigned long long cum = 0;
    unsigned b;
    int rc = 0;

    sb_redis_latency_read(&h);
    rc |= sb_buf_append_str(out,
        "# HELP sessionbridge_redis_latency_seconds Redis round trips (a "
        "pipeline is one), from sending to the last reply.\n"
        "# TYPE sessionbridge_redis_latency_seconds histogram\n");
    for (b = 0; b <= SB_REDIS_LATENCY_BUCKETS; b++) {
        cum += h.counts[b];
        if (b < SB_REDIS_LATENCY_BUCKETS)
            rc |= sb_buf_printf(out,
                "sessionbridge_redis_latency_seconds_bucket{le=\"%g\"} %llu\n",
                sb_redis_latency_bounds[b], cum);
        else
            rc |= sb_buf_printf(out,
                "sessionbridge_redis_latency_seconds_bucket{le=\"+Inf\"} "
                "%llu\n", cum);
    }
    rc |= sb_buf_printf(out,
        "sessionbridge_redis_latency_seconds_sum %.6f\n"
        "sessionbridge_redis_latency_seconds_count %llu\n",
        (double)h.sum_us / 1e6, cum);
    return rc;
}

/* The progress gauges (sessionbridge/progress.h). */
static int render_progress(struct sb_buf *out)
{
    static struct sb_progress_view v; /* large: not on a worker's stack */
    static pthread_mutex_t v_lock = PTHREAD_MUTEX_INITIALIZER;
    int rc;

    pthread_mutex_lock(&v_lock);
    sb_progress_read(&v);
    rc = sb_buf_printf(out,
        "# HELP sessionbridge_migration_active_users Users (or sessions "
        "without a user) served by forward-auth in the last %d minutes, by "
        "every bridge sharing the store; credential=\"new\": of them, those "
        "holding a valid [route] new credential.\n"
        "# TYPE sessionbridge_migration_active_users gauge\n"
        "sessionbridge_migration_active_users{credential=\"any\"} %llu\n"
        "sessionbridge_migration_active_users{credential=\"new\"} %llu\n"
        "# HELP sessionbridge_migration_progress_flushes_total Flushes of "
        "this process's served users into the store's HyperLogLogs.\n"
        "# TYPE sessionbridge_migration_progress_flushes_total counter\n"
        "sessionbridge_migration_progress_flushes_total{result=\"ok\"} %llu\n"
        "sessionbridge_migration_progress_flushes_total{result=\"error\"} "
        "%llu\n"
        "# HELP sessionbridge_migration_progress_dropped_total Served users "
        "not counted: the per-second table was full.\n"
        "# TYPE sessionbridge_migration_progress_dropped_total counter\n"
        "sessionbridge_migration_progress_dropped_total %llu\n",
        SB_PROGRESS_ACTIVE_WINDOWS, (unsigned long long)v.active_any,
        (unsigned long long)v.active_new, (unsigned long long)v.flushes_ok,
        (unsigned long long)v.flushes_failed,
        (unsigned long long)v.dropped);
    pthread_mutex_unlock(&v_lock);
    return rc;
}

int sb_metrics_render_process(struct sb_buf *out)
{
    int rc = 0;

    rc |= render_process(out);
    rc |= render_reloads(out);
    rc |= render_redis_latency(out);
    rc |= render_progress(out);
    return rc;
}
