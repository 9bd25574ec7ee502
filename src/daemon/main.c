/* main.c - the sessionbridge daemon: arguments, start-up, signals
 * (SIGTERM/SIGINT drain and exit, SIGHUP reload), shutdown. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc_module.h"
#include "http/http.h"
#include "http/metrics.h"
#include "sessionbridge/cache.h"
#include "sessionbridge/config.h"
#include "sessionbridge/invalidation.h"
#include "sessionbridge/log.h"
#include "sessionbridge/progress.h"
#include "sessionbridge/redis.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sessionbridge -c CONFIG [--check-config]\n"
            "\n"
            "Runs the sessionbridge daemon in the foreground.\n"
            "\n"
            "  -c, --config PATH   configuration file (INI)\n"
            "      --check-config  validate the configuration and exit:\n"
            "                      0 when valid, 1 with the reason\n"
            "  -h, --help          this text\n"
            "  -V, --version       print the version\n"
            "\n"
            "Signals: SIGTERM/SIGINT stop accepting connections, let requests\n"
            "in flight finish ([http] drain_timeout) and exit 0; SIGHUP\n"
            "reloads the configuration (a bad one is logged and ignored).\n");
}

/* Writes the bound port for scripts that started us on port 0. */
static void write_port_file(const char *path, unsigned port)
{
    FILE *f = fopen(path, "w");

    if (f == NULL) {
        sb_log(SB_LOG_WARN, "cannot write port_file", "path", path, "reason",
               strerror(errno), NULL);
        return;
    }
    fprintf(f, "%u\n", port);
    fclose(f);
}

/* Loads the gRPC module and starts the listener of [grpc] listen, and
 * logs where it listens; -1 after logging why it cannot. */
static int start_grpc(const struct sb_config *cfg, struct sb_grpc_module *m,
                      struct sb_grpc_server **out)
{
    struct sb_err err = {0};
    char port[16], threads[16];
    unsigned bound = 0;

    if (sb_grpc_module_load(m, &err) != 0) {
        sb_log(SB_LOG_ERROR, "cannot start the gRPC listener", "reason",
               err.msg, NULL);
        return -1;
    }
    *out = m->start(cfg, sb_live_config, sb_live_thread_release, &bound,
                    &err);
    if (*out == NULL) {
        sb_log(SB_LOG_ERROR, "cannot start the gRPC listener", "reason",
               err.msg, NULL);
        return -1;
    }
    snprintf(port, sizeof(port), "%u", bound);
    snprintf(threads, sizeof(threads), "%u", cfg->grpc_threads);
    sb_log(SB_LOG_INFO, "gRPC listening", "host", cfg->grpc_listen_host,
           "port", port, "threads", threads, NULL);
    return 0;
}

/* SIGHUP: load the file again; keep the old config if the new one is bad
 * or changes what only a restart can change. */
static void reload(const char *path, const struct sb_config *running)
{
    struct sb_config *cfg;
    struct sb_err err = {0};

    if (sb_config_load(path, &cfg, &err) != 0) {
        sb_log(SB_LOG_ERROR, "reload rejected; keeping the running config",
               "reason", err.msg, NULL);
        sb_metrics_config_reloaded(false);
        return;
    }
    if (strcmp(cfg->listen_host, running->listen_host) != 0 ||
        cfg->listen_port != running->listen_port ||
        cfg->threads != running->threads)
        sb_log(SB_LOG_WARN,
               "reload: [http] listen and threads change only on restart",
               NULL);
    if ((cfg->grpc_listen_host == NULL) != (running->grpc_listen_host == NULL) ||
        (cfg->grpc_listen_host != NULL &&
         (strcmp(cfg->grpc_listen_host, running->grpc_listen_host) != 0 ||
          cfg->grpc_listen_port != running->grpc_listen_port)) ||
        cfg->grpc_threads != running->grpc_threads ||
        cfg->grpc_max_message != running->grpc_max_message)
        sb_log(SB_LOG_WARN,
               "reload: [grpc] listen, threads and max_message_bytes change "
               "only on restart", NULL);
    sb_log_set_level(cfg->log_level);
    sb_live_install(cfg);
    sb_cache_clear(); /* verdicts of the old profiles go */
    sb_metrics_config_reloaded(true);
    sb_log(SB_LOG_INFO, "configuration reloaded", "path", path, NULL);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    const char *path = NULL;
    bool check_only = false;
    struct sb_config *cfg;
    struct sb_err err = {0};
    struct sb_http_server *srv;
    struct sb_grpc_module grpc_module;
    struct sb_grpc_server *grpc = NULL;
    sigset_t sigs;
    unsigned port = 0, drain;
    char portbuf[16];
    int opt, sig;

    while ((opt = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 'k': check_only = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("sessionbridge %s\n", SB_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (path == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (sb_config_load(path, &cfg, &err) != 0) {
        fprintf(stderr, "sessionbridge: %s\n", err.msg);
        return 1;
    }
    if (check_only && cfg->grpc_listen_host != NULL &&
        sb_grpc_module_load(&grpc_module, &err) != 0) {
        fprintf(stderr, "sessionbridge: %s\n", err.msg);
        sb_config_unref(cfg);
        return 1;
    }
    if (check_only) {
        printf("%s: configuration OK (%zu profile%s)\n", path,
               cfg->profile_count, cfg->profile_count == 1 ? "" : "s");
        sb_config_unref(cfg);
        return 0;
    }
    sb_log_set_level(cfg->log_level);

    /* Block the signals in every thread; the main thread takes them with
     * sigwait, so handlers never run inside MHD's threads. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (sb_cache_init(cfg->cache_entries, cfg->cache_ttl,
                      cfg->cache_max_memory) != 0) {
        sb_log(SB_LOG_ERROR, "cannot size the cache", NULL);
        sb_config_unref(cfg);
        return 1;
    }
    srv = sb_http_start(cfg, &port, &err);
    if (srv == NULL) {
        sb_log(SB_LOG_ERROR, "cannot start", "reason", err.msg, NULL);
        sb_config_unref(cfg);
        return 1;
    }
    if (cfg->port_file != NULL)
        write_port_file(cfg->port_file, port);
    snprintf(portbuf, sizeof(portbuf), "%u", port);
    {
        char threads[16];
        snprintf(threads, sizeof(threads), "%u", cfg->threads);
        sb_log(SB_LOG_INFO, "listening", "host", cfg->listen_host, "port",
               portbuf, "threads", threads, "version", SB_VERSION, NULL);
    }
    sb_live_install(cfg);
    if (cfg->grpc_listen_host != NULL &&
        start_grpc(sb_live_config(), &grpc_module, &grpc) != 0) {
        sb_http_stop(srv, 0);
        sb_live_shutdown();
        return 1;
    }
    if (sb_invalidation_start(sb_live_config, sb_live_thread_release) != 0)
        sb_log(SB_LOG_WARN, "cannot start the cache's invalidation "
               "subscriber; every request asks Redis", NULL);
    sb_metrics_config_loaded();
    if (sb_progress_start(sb_live_config, sb_live_thread_release) != 0)
        sb_log(SB_LOG_WARN, "cannot start the progress flusher; "
               "sessionbridge_migration_active_users stays 0", NULL);

    for (;;) {
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload(path, sb_live_config());
            continue;
        }
        break;
    }
    drain = sb_live_config()->drain_timeout;
    sb_log(SB_LOG_INFO, "stopping: draining requests in flight", "signal",
           sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
    if (grpc != NULL)
        grpc_module.drain_begin(grpc);
    sb_http_stop(srv, drain);
    if (grpc != NULL)
        grpc_module.stop(grpc, drain);
    sb_invalidation_stop();
    sb_progress_stop();
    sb_cache_shutdown();
    sb_live_shutdown();
    sb_redis_thread_release();
    sb_log(SB_LOG_INFO, "stopped", NULL);
    return 0;
}
