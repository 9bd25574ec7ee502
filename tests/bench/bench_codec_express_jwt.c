/* bench_codec_express_jwt.c - decode+verify and encode operations per
 * second of the express and jwt codecs, per JWT algorithm, on one core;
 * libjwt 1.10's jwt_decode on the same tokens as the named peer.
 *
 * Usage: bench_codec_express_jwt [SECONDS [NAME]]
 *   SECONDS per measurement (default 1); NAME runs only that line
 *   (express, HS256 ... ES512). */
#include <jwt.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

#define SECRET "bench-secret-0123456789abcdef0123456789"

static const char *const secrets[] = {SECRET, NULL};
static struct bench_args args;

/* This table's line: name, operation, rate (no cookie size). */
static void report(const char *what, const char *op, double rate,
                   size_t cookie_len)
{
    printf("%-10s %-16s %12.0f ops/s\n", what, op, rate);
    fflush(stdout);
}

/* Times decode+verify and encode of profile p; returns the token decoded
 * (caller frees), for libjwt. */
static char *bench_profile_line(const char *what, struct sb_profile *p)
{
    struct sb_codec_ctx ctx = {.now = BENCH_NOW + 10};
    struct sb_session s;
    char *tok;

    bench_session(&s);
    tok = bench_codec(what, p, &ctx, &s, args.seconds, report);
    sb_session_reset(&s);
    return tok;
}

/* A libjwt 1.10 jwt_decode call: the token and the key as bytes. */
struct libjwt_decode {
    const char *what;
    const char *tok;
    const unsigned char *key;
    int key_len;
};

static int libjwt_decode_op(void *arg)
{
    const struct libjwt_decode *d = arg;
    jwt_t *j;

    if (jwt_decode(&j, d->tok, d->key, d->key_len) != 0) {
        fprintf(stderr, "%s: libjwt refused the token\n", d->what);
        return -1;
    }
    jwt_free(j);
    return 0;
}

/* libjwt 1.10 jwt_decode of the same token with the key as bytes (it
 * parses a PEM on every call); no line when libjwt refuses it. */
static void bench_libjwt(const char *what, const char *tok,
                         const unsigned char *key, int key_len)
{
    struct libjwt_decode d = {what, tok, key, key_len};
    double rate = bench_rate(args.seconds, 16, libjwt_decode_op, &d);

    if (rate >= 0)
        report(what, "libjwt decode", rate, 0);
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
        {"RS256", SB_VECTORS_DIR "/test-only-jwt-rs256-private.pem"},
        {"RS384", rs384},
        {"RS512", rs384},
        {"ES256", SB_VECTORS_DIR "/test-only-jwt-es256-private.pem"},
        {"ES384", es384},
        {"ES512", es512},
    };
    struct sb_profile p;
    size_t i;
    char *tok;
    int len;
    char *pem;

    bench_start(argc, argv, &args);
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(rs384, sizeof(rs384), "%s/rs.pem", dir);
    snprintf(es384, sizeof(es384), "%s/es384.pem", dir);
    snprintf(es512, sizeof(es512), "%s/es512.pem", dir);
    write_key(rs384, EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
    write_key(es384, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
    write_key(es512, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"));

    printf("one core, %.1f s per measurement\n", args.seconds);
    if (bench_wanted(&args, "express")) {
        fuzz_profile(&p, "express", secrets, kv_ex);
        free(bench_profile_line("express", &p));
        sb_profile_free(&p);
    }

    for (i = 0; i < 3; i++) {
        const char *kv[] = {"alg", hs[i], NULL};
        if (!bench_wanted(&args, hs[i]))
            continue;
        fuzz_profile(&p, "jwt", secrets, kv);
        tok = bench_profile_line(hs[i], &p);
        if (i == 0)
            bench_libjwt(hs[i], tok, (const unsigned char *)SECRET,
                         (int)strlen(SECRET));
        free(tok);
        sb_profile_free(&p);
    }
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *kv[] = {"alg", keys[i][0], "private_key_file", keys[i][1],
                            NULL};
        if (!bench_wanted(&args, keys[i][0]))
            continue;
        fuzz_profile(&p, "jwt", NULL, kv);
        tok = bench_profile_line(keys[i][0], &p);
        if (i == 0 || i == 3) {
            pem = read_file(i == 0 ? SB_VECTORS_DIR
                            "/test-only-jwt-rs256-public.pem"
                                   : SB_VECTORS_DIR
                            "/test-only-jwt-es256-public.pem", &len);
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
