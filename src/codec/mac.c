/* mac.c - HMAC with one reusable OpenSSL context per digest and thread,
 * kept keyed with the last key used so a profile with one secret never
 * re-keys on the hot path. */
#include "mac_internal.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST_COUNT 4 /* enum sb_digest values */

/* This thread's contexts, one per digest, and the id of the key each one
 * is keyed with (0 = none). */
struct mac_thread {
    EVP_MAC_CTX *ctx[DIGEST_COUNT];
    uint64_t keyed[DIGEST_COUNT];
};

static atomic_uint_fast64_t next_key_id = 1;
static pthread_once_t mac_once = PTHREAD_ONCE_INIT;
static pthread_key_t mac_tls_key;
static EVP_MAC *hmac_alg;         /* fetched once, shared by all threads */
static _Thread_local struct mac_thread *mac_tls; /* also a root for LSan */

static const char *digest_name(enum sb_digest d)
{
    switch (d) {
    case SB_SHA1: return "SHA1";
    case SB_SHA256: return "SHA256";
    case SB_SHA384: return "SHA384";
    case SB_SHA512: return "SHA512";
    }
    return NULL;
}

/* pthread key destructor: frees a finished thread's contexts. */
static void mac_thread_free(void *arg)
{
    struct mac_thread *t = arg;
    size_t i;

    for (i = 0; i < DIGEST_COUNT; i++)
        EVP_MAC_CTX_free(t->ctx[i]);
    free(t);
}

static void mac_global_init(void)
{
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    pthread_key_create(&mac_tls_key, mac_thread_free);
}

int sb_mac_key_init(struct sb_mac_key *k, enum sb_digest digest,
                    const void *key, size_t len, struct sb_err *err)
{
    memset(k, 0, sizeof(*k));
    k->key = malloc(len + 1);
    if (k->key == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    memcpy(k->key, key, len);
    k->len = len;
    k->digest = digest;
    k->id = atomic_fetch_add(&next_key_id, 1);
    return 0;
}

void sb_mac_key_clear(struct sb_mac_key *k)
{
    if (k->key != NULL)
        OPENSSL_cleanse(k->key, k->len);
    free(k->key);
    memset(k, 0, sizeof(*k));
}

/* This thread's context for digest d, created on first use. */
static EVP_MAC_CTX *thread_ctx(enum sb_digest d, uint64_t **keyed)
{
    struct mac_thread *t = mac_tls;
    OSSL_PARAM params[2];

    pthread_once(&mac_once, mac_global_init);
    if (hmac_alg == NULL)
        return NULL;
    if (t == NULL) {
        t = calloc(1, sizeof(*t));
        if (t == NULL)
            return NULL;
        mac_tls = t;
        pthread_setspecific(mac_tls_key, t);
    }
    if (t->ctx[d] == NULL) {
        t->ctx[d] = EVP_MAC_CTX_new(hmac_alg);
        params[0] = OSSL_PARAM_construct_utf8_string(
            OSSL_MAC_PARAM_DIGEST, (char *)digest_name(d), 0);
        params[1] = OSSL_PARAM_construct_end();
        if (t->ctx[d] == NULL || EVP_MAC_CTX_set_params(t->ctx[d], params) != 1) {
            EVP_MAC_CTX_free(t->ctx[d]);
            t->ctx[d] = NULL;
            return NULL;
        }
        t->keyed[d] = 0;
    }
    *keyed = &t->keyed[d];
    return t->ctx[d];
}

size_t sb_mac_compute(const struct sb_mac_key *k, const void *msg, size_t len,
                      unsigned char *out)
{
    uint64_t *keyed;
    EVP_MAC_CTX *ctx = thread_ctx(k->digest, &keyed);
    size_t n = 0;
    int ok;

    if (ctx == NULL)
        return 0;
    if (*keyed == k->id) {
        ok = EVP_MAC_init(ctx, NULL, 0, NULL);
    } else {
        *keyed = 0;
        ok = EVP_MAC_init(ctx, k->key, k->len, NULL);
    }
    if (ok != 1 || EVP_MAC_update(ctx, msg, len) != 1 ||
        EVP_MAC_final(ctx, out, &n, SB_DIGEST_MAX) != 1) {
        *keyed = 0;
        return 0;
    }
    *keyed = k->id;
    return n;
}
