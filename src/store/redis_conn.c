/* redis_conn.c - the socket (and TLS) transport under sb_redis: connect
 * with a deadline, optional TLS handshake and certificate check, buffered
 * writes, and hiredis's reply reader fed from the socket. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "redis_internal.h"
#include "sessionbridge/jsonutil.h"
#include "sessionbridge/redis_latency.h"

#define READ_CHUNK 16384

/* hiredis's reply functions with arrays capped (sb_redis_reader_new),
 * filled from the first reader made; whether this thread's reader last
 * refused an array, to say so instead of hiredis's "Out of memory". */
static redisReplyObjectFunctions capped_functions;
static void *(*default_create_array)(const redisReadTask *, int);
static pthread_mutex_t capped_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread bool array_refused;

/* hiredis's own array constructor, up to SB_REDIS_REPLY_ARRAY_MAX
 * elements; NULL beyond, which fails the reply. */
static void *create_capped_array(const redisReadTask *task, int elements)
{
    if (elements > SB_REDIS_REPLY_ARRAY_MAX) {
        array_refused = true;
        return NULL;
    }
    return default_create_array(task, elements);
}

redisReader *sb_redis_reader_new(void)
{
    redisReader *r = redisReaderCreate();

    if (r == NULL)
        return NULL;
    pthread_mutex_lock(&capped_lock);
    if (default_create_array == NULL) {
        capped_functions = *r->fn;
        default_create_array = capped_functions.createArray;
        capped_functions.createArray = create_capped_array;
    }
    pthread_mutex_unlock(&capped_lock);
    r->fn = &capped_functions;
    return r;
}

struct sb_redis_conn {
    int fd;
    SSL *ssl;           /* NULL for a plain connection */
    redisReader *reader;
    struct sb_buf out;  /* commands queued by append, sent by read */
    unsigned owed;      /* replies owed for the commands sent or queued */
    uint64_t sent_us;   /* when the round trip they belong to was sent */
    char where[96];     /* host:port or the socket path, for errors */
};

static void set_timeouts(int fd, unsigned ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Non-blocking connect of one address, waiting at most ms. */
static int connect_deadline(int fd, const struct sockaddr *sa, socklen_t len,
                            unsigned ms)
{
    int flags = fcntl(fd, F_GETFL), soerr = 0;
    socklen_t elen = sizeof(soerr);
    struct pollfd p = {fd, POLLOUT, 0};
    int rc;

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
        return -1;
    rc = connect(fd, sa, len);
    if (rc != 0 && errno == EINPROGRESS) {
        do {
            rc = poll(&p, 1, (int)ms);
        } while (rc < 0 && errno == EINTR);
        if (rc == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) != 0)
            return -1;
        if (soerr != 0) {
            errno = soerr;
            return -1;
        }
        rc = 0;
    }
    if (rc != 0)
        return -1;
    return fcntl(fd, F_SETFL, flags);
}

/* A TCP connection to host:port (every address getaddrinfo gives, in
 * order); -1 with err filled. */
static int dial_tcp(const struct sb_redis_dial *d, struct sb_err *err)
{
    struct addrinfo hints = {0}, *res = NULL, *ai;
    char port[8];
    int fd = -1, gai, one = 1, saved = 0;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%u", d->port);
    gai = getaddrinfo(d->host, port, &hints, &res);
    if (gai != 0)
        return sb_err_set(err, SB_ERR_STORE, "cannot resolve Redis host %.64s: "
                          "%s", d->host, gai_strerror(gai));
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect_deadline(fd, ai->ai_addr, ai->ai_addrlen,
                             d->connect_ms) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return sb_err_set(err, SB_ERR_STORE, "cannot connect to Redis at "
                          "%.64s:%u: %s", d->host, d->port,
                          strerror(saved ? saved : EHOSTUNREACH));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    return fd;
}

static int dial_unix(const struct sb_redis_dial *d, struct sb_err *err)
{
    struct sockaddr_un sa = {0};
    int fd;

    if (strlen(d->socket) >= sizeof(sa.sun_path))
        return sb_err_set(err, SB_ERR_STORE, "Redis socket path too long");
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, d->socket);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect_deadline(fd, (struct sockaddr *)&sa, sizeof(sa),
                                   d->connect_ms) != 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        return sb_err_set(err, SB_ERR_STORE, "cannot connect to Redis at "
                          "%.64s: %s", d->socket, strerror(saved));
    }
    return fd;
}

/* Why a TLS handshake failed, in words: the certificate check's verdict
 * when there is one, else OpenSSL's first queued error. */
static void tls_reason(SSL *ssl, char *buf, size_t size)
{
    long v = SSL_get_verify_result(ssl);
    unsigned long e = ERR_peek_error();

    if (v != X509_V_OK)
        snprintf(buf, size, "certificate verification failed: %s",
                 X509_verify_cert_error_string(v));
    else if (e != 0)
        ERR_error_string_n(e, buf, size);
    else
        snprintf(buf, size, "connection closed or timed out");
    ERR_clear_error();
}

/* Wraps fd in TLS: SNI, the name (or IP address) to check, handshake
 * within the connect deadline. */
static int tls_start(struct sb_redis_conn *c, const struct sb_redis_dial *d,
                     struct sb_err *err)
{
    const char *name = d->server_name ? d->server_name : d->host;
    unsigned char ip[16];
    bool is_ip = inet_pton(AF_INET, name, ip) == 1 ||
                 inet_pton(AF_INET6, name, ip) == 1;
    char why[160];

    ERR_clear_error();
    c->ssl = SSL_new(d->tls);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
        return sb_err_set(err, SB_ERR_STORE, "TLS setup failed");
    if (is_ip) {
        X509_VERIFY_PARAM *p = SSL_get0_param(c->ssl);
        if (X509_VERIFY_PARAM_set1_ip_asc(p, name) != 1)
            return sb_err_set(err, SB_ERR_STORE, "TLS setup failed");
    } else if (SSL_set_tlsext_host_name(c->ssl, name) != 1 ||
               SSL_set1_host(c->ssl, name) != 1) {
        return sb_err_set(err, SB_ERR_STORE, "TLS setup failed");
    }
    if (SSL_connect(c->ssl) != 1) {
        tls_reason(c->ssl, why, sizeof(why));
        return sb_err_set(err, SB_ERR_STORE, "TLS handshake with Redis at "
                          "%s (expecting name %.64s) failed: %s", c->where,
                          name, why);
    }
    return 0;
}

struct sb_redis_conn *sb_redis_conn_open(const struct sb_redis_dial *d,
                                         struct sb_err *err)
{
    struct sb_redis_conn *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->fd = -1;
    sb_buf_init(&c->out);
    if (d->socket != NULL)
        snprintf(c->where, sizeof(c->where), "%.90s", d->socket);
    else
        snprintf(c->where, sizeof(c->where), "%.64s:%u", d->host, d->port);
    c->fd = d->socket ? dial_unix(d, err) : dial_tcp(d, err);
    if (c->fd < 0)
        goto fail;
    set_timeouts(c->fd, d->connect_ms);
    if (d->tls != NULL && tls_start(c, d, err) != 0)
        goto fail;
    set_timeouts(c->fd, d->command_ms);
    c->reader = sb_redis_reader_new();
    if (c->reader == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto fail;
    }
    return c;

fail:
    sb_redis_conn_close(c);
    return NULL;
}

void sb_redis_conn_close(struct sb_redis_conn *c)
{
    if (c == NULL)
        return;
    if (c->ssl != NULL) {
        SSL_free(c->ssl);
        ERR_clear_error();
    }
    if (c->fd >= 0)
        close(c->fd);
    if (c->reader != NULL)
        redisReaderFree(c->reader);
    sb_buf_free(&c->out);
    free(c);
}

int sb_redis_conn_append(struct sb_redis_conn *c, const char *cmd, size_t len,
                         struct sb_err *err)
{
    if (sb_buf_append(&c->out, cmd, len) != 0)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    c->owed++;
    return 0;
}

/* Sends the queued commands. */
static int flush_out(struct sb_redis_conn *c, struct sb_err *err)
{
    size_t off = 0;

    while (off < c->out.len) {
        ssize_t n;
        if (c->ssl != NULL) {
            int w = SSL_write(c->ssl, c->out.data + off,
                              (int)(c->out.len - off > 1 << 30
                                        ? 1 << 30 : c->out.len - off));
            n = w > 0 ? w : -1;
        } else {
            n = send(c->fd, c->out.data + off, c->out.len - off, MSG_NOSIGNAL);
        }
        if (n < 0 && errno == EINTR && c->ssl == NULL)
            continue;
        if (n <= 0) {
            ERR_clear_error();
            return sb_err_set(err, SB_ERR_STORE, "writing to Redis at %s "
                              "failed: %s", c->where,
                              errno == EAGAIN ? "timed out" : strerror(errno));
        }
        off += (size_t)n;
    }
    c->out.len = 0;
    return 0;
}

/* Reads what the socket has (waiting up to the command timeout) into the
 * reply reader. */
static int fill(struct sb_redis_conn *c, struct sb_err *err)
{
    char buf[READ_CHUNK];
    ssize_t n;

    do {
        if (c->ssl != NULL) {
            int r = SSL_read(c->ssl, buf, sizeof(buf));
            n = r > 0 ? r : (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN
                                 ? 0 : -1);
        } else {
            n = recv(c->fd, buf, sizeof(buf), 0);
        }
    } while (n < 0 && errno == EINTR && c->ssl == NULL);
    if (n == 0)
        return sb_err_set(err, SB_ERR_STORE, "Redis at %s closed the "
                          "connection", c->where);
    if (n < 0) {
        ERR_clear_error();
        return sb_err_set(err, SB_ERR_STORE, "reading from Redis at %s "
                          "failed: %s", c->where,
                          errno == EAGAIN ? "timed out" : strerror(errno));
    }
    if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK)
        return sb_err_set(err, SB_ERR_STORE, "Redis reply too large");
    return 0;
}

/* Monotonic microseconds, for the round-trip histogram. */
static uint64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A reply arrived: the round trip ends with the last one owed. */
static void reply_arrived(struct sb_redis_conn *c)
{
    if (c->owed == 0)
        return; /* a subscriber's message: nothing was asked */
    if (--c->owed == 0)
        sb_redis_latency_observe(mono_us() - c->sent_us);
}

redisReply *sb_redis_conn_read(struct sb_redis_conn *c, struct sb_err *err)
{
    void *rep = NULL;

    if (c->out.len > 0) {
        c->sent_us = mono_us();
        if (flush_out(c, err) != 0)
            return NULL;
    }
    for (;;) {
        array_refused = false;
        if (redisReaderGetReply(c->reader, &rep) != REDIS_OK) {
            if (array_refused)
                sb_err_set(err, SB_ERR_STORE, "Redis protocol error: a "
                           "reply announced an array of over %d elements",
                           SB_REDIS_REPLY_ARRAY_MAX);
            else
                sb_err_set(err, SB_ERR_STORE, "Redis protocol error: %.80s",
                           c->reader->errstr);
            return NULL;
        }
        if (rep != NULL) {
            reply_arrived(c);
            return rep;
        }
        if (fill(c, err) != 0)
            return NULL;
    }
}

int sb_redis_conn_fd(const struct sb_redis_conn *c)
{
    return c->fd;
}

bool sb_redis_conn_buffered(const struct sb_redis_conn *c)
{
    return c->reader->len > c->reader->pos ||
           (c->ssl != NULL && SSL_pending(c->ssl) > 0);
}

redisReply *sb_redis_conn_command(struct sb_redis_conn *c, int argc,
                                  const char **argv, const size_t *argvlen,
                                  struct sb_err *err)
{
    char *cmd = NULL;
    int len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    int rc;

    if (len < 0) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    rc = sb_redis_conn_append(c, cmd, (size_t)len, err);
    redisFreeCommand(cmd);
    return rc == 0 ? sb_redis_conn_read(c, err) : NULL;
}
