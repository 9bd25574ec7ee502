/* bare_mhd.c - the benchmark's floor: libmicrohttpd configured as the
 * daemon configures it (epoll, internal thread pool, turbo), answering
 * every request 200 with an empty body and doing nothing else.  What the
 * bridge's /v1/auth costs above this is the bridge's own work.
 *
 *   bare_mhd PORT_FILE [THREADS]
 * Listens on 127.0.0.1 on a free port, writes the port to PORT_FILE, runs
 * until SIGTERM or SIGINT. */
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct MHD_Response *empty_ok;

/* Every request: one shared, prebuilt empty response. */
static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    if (*con_cls == NULL) { /* headers seen; a body, if any, follows */
        *con_cls = conn;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        *upload_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(conn, MHD_HTTP_OK, empty_ok);
}

int main(int argc, char **argv)
{
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
    struct sockaddr_in sa;
    sigset_t set;
    int sig;
    FILE *f;

    if (argc < 2) {
        fprintf(stderr, "usage: bare_mhd PORT_FILE [THREADS]\n");
        return 2;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    empty_ok = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(empty_ok, "Content-Type", "text/plain");
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                             MHD_USE_TURBO,
                         0, NULL, NULL, answer, NULL,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_THREAD_POOL_SIZE, threads,
                         MHD_OPTION_CONNECTION_LIMIT, 1024u,
                         MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
                         MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "bare_mhd: cannot start libmicrohttpd\n");
        return 1;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    f = fopen(argv[1], "w");
    if (info == NULL || f == NULL) {
        fprintf(stderr, "bare_mhd: cannot report the port\n");
        MHD_stop_daemon(d);
        return 1;
    }
    fprintf(f, "%u\n", (unsigned)info->port);
    fclose(f);
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(empty_ok);
    return 0;
}
