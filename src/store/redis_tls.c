/* redis_tls.c - the OpenSSL client context for Redis connections: which
 * CA to trust, which client certificate to show (mTLS), and the check of
 * those files at config load, so a wrong path fails at start-up with a
 * message naming the file instead of at the first request. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "redis_internal.h"
#include "sessionbridge/redis.h"

/* Fails naming the key, the file and the reason: errno when the file
 * cannot be opened, else OpenSSL's first queued error. */
static int file_error(const char *key, const char *path, struct sb_err *err)
{
    char why[128];
    unsigned long e = ERR_peek_last_error();
    FILE *f = fopen(path, "r");

    if (f == NULL)
        snprintf(why, sizeof(why), "%s", strerror(errno));
    else if (e != 0)
        ERR_error_string_n(e, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "not usable");
    if (f != NULL)
        fclose(f);
    ERR_clear_error();
    return sb_err_set(err, SB_ERR_CONFIG, "[redis] %s %.96s: %s", key, path,
                      why);
}

SSL_CTX *sb_redis_tls_ctx_new(const struct sb_redis_tls *tls,
                              struct sb_err *err)
{
    SSL_CTX *ctx;

    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
    if (tls->ca_file != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, tls->ca_file, NULL) != 1) {
            file_error("tls_ca_file", tls->ca_file, err);
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        sb_err_set(err, SB_ERR_CONFIG, "[redis] no tls_ca_file and the "
                   "system CA store cannot be loaded");
        goto fail;
    }
    if (tls->cert_file != NULL &&
        SSL_CTX_use_certificate_chain_file(ctx, tls->cert_file) != 1) {
        file_error("tls_cert_file", tls->cert_file, err);
        goto fail;
    }
    if (tls->key_file != NULL &&
        SSL_CTX_use_PrivateKey_file(ctx, tls->key_file, SSL_FILETYPE_PEM) !=
            1 &&
        ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
        file_error("tls_key_file", tls->key_file, err);
        goto fail;
    }
    if (tls->key_file != NULL && SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        sb_err_set(err, SB_ERR_CONFIG, "[redis] tls_key_file %.96s does not "
                   "match the certificate in tls_cert_file", tls->key_file);
        goto fail;
    }
    return ctx;

fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int sb_redis_tls_check(const struct sb_redis_tls *tls, struct sb_err *err)
{
    SSL_CTX *ctx;

    if (!tls->on)
        return 0;
    ctx = sb_redis_tls_ctx_new(tls, err);
    if (ctx == NULL)
        return -1;
    SSL_CTX_free(ctx);
    return 0;
}
