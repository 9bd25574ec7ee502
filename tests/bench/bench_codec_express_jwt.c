/* bench_codec_express_jwt.c - decode+verify and encode operations per
 * second of the express and jwt codecs, per JWT algorithm, on one core;
 * libjwt 1.10's jwt_decode on the same tokens as the named peer.
 *
 * Usage: bench_codec_express_jwt [SECONDS [NAME]]
 *   SECONDS per measurement (default 1); NAME runs only that line
 *   (express, HS256 ... ES512). */
#include <jwt.h>
#include <openssl/pem.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sessionbridge/codec.h"
#include "sessionbridge/log.h"
#include "sessionbridge/profile.h"

#define NOW 1793491200
#define SECRET "bench-secret-0123456789abcdef0123456789"

static double seconds = 1.0;
static const char *only; /* NULL = every format and alg */

static bool wanted(const char *what)
{
    return only == NULL || strcmp(only, what) == 0;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A prepared profile, as config.c builds one; exits on failure. */
static void make_profile(struct sb_profile *p, const char *format,
                         const char *secret, const char *const *kv)
{
    struct sb_err err = {0};
    size_t i;

    memset(p, 0, sizeof(*p));
    p->cookie.httponly = true;
    p->cookie.max_age = -2;
    p->name = strdup("bench");
    p->codec = sb_codec_find(format);
    p->sid_field = strdup("_sb_sid");
    p->cookie.path = strdup("/");
    if (secret != NULL)
        sb_secrets_append(&p->secrets, secret, strlen(secret), &err);
    for (i = 0; kv != NULL && kv[i] != NULL; i += 2) {
        if (p->codec->configure(p, kv[i], kv[i + 1], &err) != 0)
            goto fail;
    }
    if (p->codec->prepare(p, &err) == 0)
        return;
fail:
    fprintf(stderr, "profile %s: %s\n", format, err.msg);
    exit(1);
}

/* A session like a logged-in user's: sid, subject, two data fields. */
static void make_session(struct sb_session *s)
{
    sb_session_init(s);
    strcpy(s->sid, "Xq3RfZ2vN8kLpW4tY7uB1cD5eG9hJ0mA");
    s->subject = strdup("42");
    s->issued_at = NOW;
    s->expires_at = NOW + 3600;
    s->data = json_pack("{s:s, s:s}", "name", "alice", "role", "admin");
}

static void report(const char *what, const char *op, long n, double dt)
{
    printf("%-10s %-16s %12.0f ops/s\n", what, op, n / dt);
    fflush(stdout);
}

/* Encodes once, then times decode+verify and encode of profile p. */
static char *bench_profile(const char *what, struct sb_profile *p)
{
    struct sb_codec_ctx ctx = {.now = NOW + 10};
    struct sb_session s, out;
    struct sb_err err = {0};
    char *tok = NULL, *again;
    double t0, dt;
    long n = 0, i;

    make_session(&s);
    if (sb_credential_encode(p, &s, &ctx, &tok, &err) != 0) {
        fprintf(stderr, "%s: encode: %s\n", what, err.msg);
        exit(1);
    }
    t0 = now_s();
    do {
        for (i = 0; i < 64; i++, n++) {
            sb_session_init(&out);
            if (sb_credential_decode(p, tok, strlen(tok), &ctx, &out,
                                     &err) != 0) {
                fprintf(stderr, "%s: decode: %s\n", what, err.msg);
                exit(1);
            }
            sb_session_reset(&out);
        }
    } while ((dt = now_s() - t0) < seconds);
    report(what, "decode+verify", n, dt);
    n = 0;
    t0 = now_s();
    do {
        for (i = 0; i < 16; i++, n++) {
            if (sb_credential_encode(p, &s, &ctx, &again, &err) != 0)
                exit(1);
            free(again);
        }
    } while ((dt = now_s() - t0) < seconds);
    report(what, "encode", n, dt);
    sb_session_reset(&s);
    return tok;
}

/* libjwt 1.10 jwt_decode of the same token with the key as bytes (it
 * parses a PEM on every call). */
static void bench_libjwt(const char *what, const char *tok,
                         const unsigned char *key, int key_len)
{
    double t0, dt;
    long n = 0, i;
    jwt_t *j;

    t0 = now_s();
    do {
        for (i = 0; i < 16; i++, n++) {
            if (jwt_decode(&j, tok, key, key_len) != 0) {
                fprintf(stderr, "%s: libjwt refused the token\n", what);
                return;
            }
            jwt_free(j);
        }
    } while ((dt = now_s() - t0) < seconds);
    report(what, "libjwt decode", n, dt);
}

static char *read_file(const char *path, int *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 65536);

    *len = f ? (int)fread(buf, 1, 65535, f) : 0;
    if (f)
        fclose(f);
    return buf;
}

/* A fresh private key in PEM under dir, for the algs without test keys. */
static void write_key(const char *path, EVP_PKEY *k)
{
    BIO *b = BIO_new_file(path, "w");

    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    BIO_free(b);
    EVP_PKEY_free(k);
}

int main(int argc, char **argv)
{
    static const char *const hs[] = {"HS256", "HS384", "HS512"};
    static const char *const kv_ex[] = {NULL};
    char dir[] = "/tmp/sbbenchXXXXXX", rs384[64], es384[64], es512[64];
    const char *keys[][2] = {
        {"RS256", SB_SHARED_DIR "/vectors/test-only-jwt-rs256-private.pem"},
        {"RS384", rs384},
        {"RS512", rs384},
        {"ES256", SB_SHARED_DIR "/vectors/test-only-jwt-es256-private.pem"},
        {"ES384", es384},
        {"ES512", es512},
    };
    struct sb_profile p;
    cpu_set_t one;
    size_t i;
    char *tok;
    int len;
    char *pem;

    if (argc > 1)
        seconds = atof(argv[1]) > 0 ? atof(argv[1]) : 1.0;
    if (argc > 2)
        only = argv[2];
    sb_log_set_level(SB_LOG_ERROR);
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    sched_setaffinity(0, sizeof(one), &one);
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(rs384, sizeof(rs384), "%s/rs.pem", dir);
    snprintf(es384, sizeof(es384), "%s/es384.pem", dir);
    snprintf(es512, sizeof(es512), "%s/es512.pem", dir);
    write_key(rs384, EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
    write_key(es384, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
    write_key(es512, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"));

    printf("one core, %.1f s per measurement\n", seconds);
    if (wanted("express")) {
        make_profile(&p, "express", SECRET, kv_ex);
        free(bench_profile("express", &p));
        sb_profile_free(&p);
    }

    for (i = 0; i < 3; i++) {
        const char *kv[] = {"alg", hs[i], NULL};
        if (!wanted(hs[i]))
            continue;
        make_profile(&p, "jwt", SECRET, kv);
        tok = bench_profile(hs[i], &p);
        if (i == 0)
            bench_libjwt(hs[i], tok, (const unsigned char *)SECRET,
                         (int)strlen(SECRET));
        free(tok);
        sb_profile_free(&p);
    }
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *kv[] = {"alg", keys[i][0], "private_key_file", keys[i][1],
                            NULL};
        if (!wanted(keys[i][0]))
            continue;
        make_profile(&p, "jwt", NULL, kv);
        tok = bench_profile(keys[i][0], &p);
        if (i == 0 || i == 3) {
            pem = read_file(i == 0 ? SB_SHARED_DIR
                            "/vectors/test-only-jwt-rs256-public.pem"
                                   : SB_SHARED_DIR
                            "/vectors/test-only-jwt-es256-public.pem", &len);
            bench_libjwt(keys[i][0], tok, (unsigned char *)pem, len);
            free(pem);
        }
        free(tok);
        sb_profile_free(&p);
    }
    unlink(rs384);
    unlink(es384);
    unlink(es512);
    rmdir(dir);
    return 0;
}
