/* jwt_keys.c - the jwt codec's keys: algorithms, PEM files parsed once
 * into EVP_PKEYs, kid assignment, and the JWKS (RFC 7517) document of
 * every RS/ES profile. */
#include "jwt_internal.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sessionbridge/b64.h"
#include "sessionbridge/codec.h"
#include "sessionbridge/config.h"
#include "sessionbridge/jwks.h"
#include "sessionbridge/log.h"

#define JWT_MIN_RSA_BITS 2048
#define JWT_HMAC_SECRET_ADVISED 32
#define JWT_DIR_KEYS_MAX 64

static const struct sb_jwt_alg algs[] = {
    {"HS256", SB_JWT_HMAC, SB_SHA256, "SHA256", NULL, NULL, 0},
    {"HS384", SB_JWT_HMAC, SB_SHA384, "SHA384", NULL, NULL, 0},
    {"HS512", SB_JWT_HMAC, SB_SHA512, "SHA512", NULL, NULL, 0},
    {"RS256", SB_JWT_RSA, SB_SHA256, "SHA256", NULL, NULL, 0},
    {"RS384", SB_JWT_RSA, SB_SHA384, "SHA384", NULL, NULL, 0},
    {"RS512", SB_JWT_RSA, SB_SHA512, "SHA512", NULL, NULL, 0},
    {"ES256", SB_JWT_EC, SB_SHA256, "SHA256", "P-256", "prime256v1", 32},
    {"ES384", SB_JWT_EC, SB_SHA384, "SHA384", "P-384", "secp384r1", 48},
    {"ES512", SB_JWT_EC, SB_SHA512, "SHA512", "P-521", "secp521r1", 66},
};

const struct sb_jwt_alg *sb_jwt_alg_find(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (strcmp(algs[i].name, name) == 0)
            return &algs[i];
    }
    return NULL;
}

/* PEM password callback: encrypted keys are refused instead of prompting
 * on a terminal. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf; (void)size; (void)rwflag; (void)u;
    return -1;
}

/* Reads a private key PEM (PKCS#8 or traditional). */
static EVP_PKEY *read_private(const char *path, struct sb_err *err)
{
    BIO *bio = BIO_new_file(path, "r");
    EVP_PKEY *k;

    if (bio == NULL) {
        sb_err_set(err, SB_ERR_IO, "cannot read %s: %s", path,
                   strerror(errno));
        return NULL;
    }
    k = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (k == NULL)
        sb_err_set(err, SB_ERR_CONFIG,
                   "%s holds no unencrypted PEM private key", path);
    return k;
}

/* Reads a "PUBLIC KEY" PEM, or the key of a "CERTIFICATE" PEM. */
static EVP_PKEY *read_public(const char *path, struct sb_err *err)
{
    BIO *bio = BIO_new_file(path, "r");
    EVP_PKEY *k;
    X509 *cert;

    if (bio == NULL) {
        sb_err_set(err, SB_ERR_IO, "cannot read %s: %s", path,
                   strerror(errno));
        return NULL;
    }
    k = PEM_read_bio_PUBKEY(bio, NULL, no_password, NULL);
    if (k == NULL && BIO_reset(bio) == 0) {
        cert = PEM_read_bio_X509(bio, NULL, no_password, NULL);
        if (cert != NULL)
            k = X509_get_pubkey(cert);
        X509_free(cert);
    }
    BIO_free(bio);
    ERR_clear_error();
    if (k == NULL)
        sb_err_set(err, SB_ERR_CONFIG,
                   "%s holds no PEM public key or certificate", path);
    return k;
}

/* True when k is a key of alg's type: RSA of at least 2048 bits, or EC on
 * the alg's curve. */
static int check_key_type(const struct sb_jwt_alg *alg, EVP_PKEY *k,
                          const char *path, struct sb_err *err)
{
    char group[64];
    size_t n = 0;

    if (alg->kind == SB_JWT_RSA) {
        if (!EVP_PKEY_is_a(k, "RSA"))
            return sb_err_set(err, SB_ERR_CONFIG,
                              "%s is not an RSA key (alg %s)", path,
                              alg->name);
        if (EVP_PKEY_get_bits(k) < JWT_MIN_RSA_BITS)
            return sb_err_set(err, SB_ERR_CONFIG,
                              "%s is a %d-bit RSA key; %s needs at least %d",
                              path, EVP_PKEY_get_bits(k), alg->name,
                              JWT_MIN_RSA_BITS);
        return 0;
    }
    if (!EVP_PKEY_is_a(k, "EC") ||
        EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof(group), &n) != 1 ||
        strcmp(group, alg->group) != 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "%s is not an EC key on curve %s (alg %s)", path,
                          alg->crv, alg->name);
    return 0;
}

/* The kid of a key file without one configured: its file name without the
 * directory and without ".pem", then without ".pub". */
static char *kid_from_path(const char *path)
{
    const char *base = strrchr(path, '/');
    size_t n;

    base = base ? base + 1 : path;
    n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".pem") == 0)
        n -= 4;
    if (n > 4 && strncmp(base + n - 4, ".pub", 4) == 0)
        n -= 4;
    return strndup(base, n);
}

/* Appends a key to the table; takes ownership of pkey and kid (both freed
 * on failure). */
static int add_key(struct sb_jwt_state *st, EVP_PKEY *pkey, char *kid,
                   struct sb_err *err)
{
    struct sb_jwt_key *keys;

    keys = realloc(st->keys, (st->key_count + 1) * sizeof(*keys));
    if (keys == NULL) {
        EVP_PKEY_free(pkey);
        free(kid);
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    }
    st->keys = keys;
    memset(&keys[st->key_count], 0, sizeof(*keys));
    keys[st->key_count].pkey = pkey;
    keys[st->key_count].kid = kid;
    st->key_count++;
    if (kid != NULL)
        st->any_kid = true;
    return 0;
}

/* Adds the public key in file `path`, unless an equal key is already in
 * the table.  A file named directly that is the profile's first key (no
 * private key) takes the configured kid; any other key is named after its
 * file. */
static int add_public_file(struct sb_jwt_state *st, const char *path,
                           bool from_dir, struct sb_err *err)
{
    EVP_PKEY *k = read_public(path, err);
    char *kid = NULL;
    size_t i;

    if (k == NULL)
        return -1;
    if (check_key_type(st->alg, k, path, err) != 0)
        goto err_free_key;
    for (i = 0; i < st->key_count; i++) {
        if (EVP_PKEY_eq(st->keys[i].pkey, k) == 1) {
            EVP_PKEY_free(k);
            return 0;
        }
    }
    if (from_dir || st->key_count > 0)
        kid = kid_from_path(path);
    else if (st->kid != NULL)
        kid = strdup(st->kid);
    if (kid == NULL && (from_dir || st->key_count > 0 || st->kid != NULL)) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto err_free_key;
    }
    for (i = 0; kid != NULL && i < st->key_count; i++) {
        if (st->keys[i].kid != NULL && strcmp(st->keys[i].kid, kid) == 0) {
            sb_err_set(err, SB_ERR_CONFIG,
                       "%s: kid '%s' already names another key", path, kid);
            free(kid);
            goto err_free_key;
        }
    }
    return add_key(st, k, kid, err);

err_free_key:
    EVP_PKEY_free(k);
    return -1;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds every *.pem file of directory `dir`, in name order. */
static int add_public_dir(struct sb_jwt_state *st, const char *dir,
                          struct sb_err *err)
{
    char *names[JWT_DIR_KEYS_MAX];
    size_t count = 0, i;
    struct dirent *e;
    DIR *d = opendir(dir);
    int rc = -1;

    if (d == NULL)
        return sb_err_set(err, SB_ERR_IO, "cannot read directory %s: %s",
                          dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || n <= 4 ||
            strcmp(e->d_name + n - 4, ".pem") != 0)
            continue;
        if (count == JWT_DIR_KEYS_MAX) {
            sb_err_set(err, SB_ERR_CONFIG, "%s holds more than %d keys", dir,
                       JWT_DIR_KEYS_MAX);
            goto out_free_names;
        }
        if (asprintf(&names[count], "%s/%s", dir, e->d_name) < 0) {
            sb_err_set(err, SB_ERR_NOMEM, "out of memory");
            goto out_free_names;
        }
        count++;
    }
    if (count == 0) {
        sb_err_set(err, SB_ERR_CONFIG, "directory %s holds no *.pem key", dir);
        goto out_free_names;
    }
    qsort(names, count, sizeof(names[0]), name_cmp);
    for (i = 0; i < count; i++) {
        if (add_public_file(st, names[i], true, err) != 0)
            goto out_free_names;
    }
    rc = 0;
out_free_names:
    for (i = 0; i < count; i++)
        free(names[i]);
    closedir(d);
    return rc;
}

/* HS*: one key per secret, all carrying the configured kid. */
static int load_hmac_keys(struct sb_profile *p, struct sb_jwt_state *st,
                          struct sb_err *err)
{
    size_t i, short_secrets = 0;

    if (st->private_key_file != NULL || st->public_key_file_count > 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "alg %s takes its secrets from secrets_file, not "
                          "from key files", st->alg->name);
    if (p->secrets.count == 0)
        return sb_err_set(err, SB_ERR_CONFIG, "alg %s needs secrets_file",
                          st->alg->name);
    for (i = 0; i < p->secrets.count; i++) {
        const struct sb_secret *s = &p->secrets.items[i];
        char *kid = NULL;
        if (s->len >= 10 && memcmp(s->bytes, "-----BEGIN", 10) == 0)
            return sb_err_set(err, SB_ERR_CONFIG,
                              "secret %zu of secrets_file is a PEM block: "
                              "an %s secret must not be a key file", i + 1,
                              st->alg->name);
        if (s->len < JWT_HMAC_SECRET_ADVISED)
            short_secrets++;
        if (st->kid != NULL && (kid = strdup(st->kid)) == NULL)
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        if (add_key(st, NULL, kid, err) != 0)
            return -1;
        if (sb_mac_key_init(&st->keys[i].mac, st->alg->digest, s->bytes,
                            s->len, err) != 0)
            return -1;
    }
    if (short_secrets > 0)
        sb_log(SB_LOG_WARN, "jwt HMAC secrets shorter than 32 bytes are "
               "guessable offline; use 32 random bytes or more",
               "profile", p->name, NULL);
    return 0;
}

int sb_jwt_keys_load(struct sb_profile *p, struct sb_jwt_state *st,
                     struct sb_err *err)
{
    struct stat sb;
    size_t i;

    if (st->alg->kind == SB_JWT_HMAC)
        return load_hmac_keys(p, st, err);
    if (p->secrets.count > 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "alg %s verifies with public_key_file; "
                          "secrets_file is for HS256/384/512", st->alg->name);
    if (st->private_key_file != NULL) {
        EVP_PKEY *k = read_private(st->private_key_file, err);
        char *kid = NULL;
        if (k == NULL)
            return -1;
        if (check_key_type(st->alg, k, st->private_key_file, err) != 0) {
            EVP_PKEY_free(k);
            return -1;
        }
        if (st->kid != NULL && (kid = strdup(st->kid)) == NULL) {
            EVP_PKEY_free(k);
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        }
        if (add_key(st, k, kid, err) != 0)
            return -1;
        EVP_PKEY_up_ref(k);
        st->signing_key = k;
    }
    for (i = 0; i < st->public_key_file_count; i++) {
        const char *path = st->public_key_files[i];
        int rc;
        if (stat(path, &sb) != 0)
            return sb_err_set(err, SB_ERR_IO, "cannot read %s: %s", path,
                              strerror(errno));
        rc = S_ISDIR(sb.st_mode) ? add_public_dir(st, path, err)
                                 : add_public_file(st, path, false, err);
        if (rc != 0)
            return -1;
    }
    if (st->key_count == 0)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "alg %s needs private_key_file (signs) or "
                          "public_key_file (verifies)", st->alg->name);
    return 0;
}

void sb_jwt_keys_free(struct sb_jwt_state *st)
{
    size_t i;

    for (i = 0; i < st->key_count; i++) {
        free(st->keys[i].kid);
        sb_mac_key_clear(&st->keys[i].mac);
        EVP_PKEY_free(st->keys[i].pkey);
    }
    free(st->keys);
    st->keys = NULL;
    st->key_count = 0;
    EVP_PKEY_free(st->signing_key);
    st->signing_key = NULL;
}

/* ---- JWKS ------------------------------------------------------------- */

/* b64url_nopad of big-endian bytes as a new JSON string. */
static json_t *b64url_string(const unsigned char *bytes, size_t n)
{
    char buf[1400];

    if (sb_b64_encoded_size(n) > sizeof(buf))
        return NULL;
    sb_b64_encode(SB_B64_URL_NOPAD, bytes, n, buf);
    return json_string(buf);
}

/* A BIGNUM parameter of k as b64url_nopad: minimal bytes when pad is 0,
 * else left-padded to exactly `pad` bytes. */
static json_t *bn_param(const EVP_PKEY *k, const char *name, size_t pad)
{
    unsigned char buf[1024];
    BIGNUM *bn = NULL;
    json_t *s = NULL;
    int n;

    if (EVP_PKEY_get_bn_param(k, name, &bn) != 1)
        return NULL;
    if ((size_t)BN_num_bytes(bn) <= sizeof(buf) && pad <= sizeof(buf)) {
        n = pad ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
        if (n >= 0)
            s = b64url_string(buf, (size_t)n);
    }
    BN_free(bn);
    return s;
}

/* The JWK of one key, members in the order of vectors/test-only-jwks.json:
 * kty, n, e (or crv, x, y), kid, use, alg. */
static json_t *key_jwk(const struct sb_jwt_alg *alg,
                       const struct sb_jwt_key *key)
{
    json_t *o = json_object();
    int rc = 0;

    if (o == NULL)
        return NULL;
    if (alg->kind == SB_JWT_RSA) {
        rc |= json_object_set_new(o, "kty", json_string("RSA"));
        rc |= json_object_set_new(o, "n",
                                  bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_N, 0));
        rc |= json_object_set_new(o, "e",
                                  bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_E, 0));
    } else {
        rc |= json_object_set_new(o, "kty", json_string("EC"));
        rc |= json_object_set_new(o, "crv", json_string(alg->crv));
        rc |= json_object_set_new(o, "x", bn_param(key->pkey,
                                                   OSSL_PKEY_PARAM_EC_PUB_X,
                                                   alg->coord));
        rc |= json_object_set_new(o, "y", bn_param(key->pkey,
                                                   OSSL_PKEY_PARAM_EC_PUB_Y,
                                                   alg->coord));
    }
    if (key->kid != NULL)
        rc |= json_object_set_new(o, "kid", json_string(key->kid));
    rc |= json_object_set_new(o, "use", json_string("sig"));
    rc |= json_object_set_new(o, "alg", json_string(alg->name));
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* True when the same key with the same kid was already published. */
static bool already_listed(const struct sb_jwt_key *const *seen, size_t n,
                           const struct sb_jwt_key *key)
{
    size_t i;

    for (i = 0; i < n; i++) {
        bool same_kid = (seen[i]->kid == NULL && key->kid == NULL) ||
                        (seen[i]->kid != NULL && key->kid != NULL &&
                         strcmp(seen[i]->kid, key->kid) == 0);
        if (same_kid && EVP_PKEY_eq(seen[i]->pkey, key->pkey) == 1)
            return true;
    }
    return false;
}

int sb_jwks_build(const struct sb_profile *const *profiles, size_t n,
                  json_t **out, struct sb_err *err)
{
    const struct sb_jwt_key **seen = NULL, **grown;
    size_t seen_count = 0, i, j;
    json_t *keys = json_array();

    *out = NULL;
    if (keys == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        const struct sb_jwt_state *st = profiles[i]->codec_state;
        if (profiles[i]->codec != &sb_codec_jwt || st == NULL ||
            st->alg->kind == SB_JWT_HMAC)
            continue;
        for (j = 0; j < st->key_count; j++) {
            const struct sb_jwt_key *key = &st->keys[j];
            json_t *jwk;
            if (already_listed(seen, seen_count, key))
                continue;
            grown = realloc(seen, (seen_count + 1) * sizeof(*seen));
            if (grown == NULL)
                goto err_nomem;
            seen = grown;
            seen[seen_count++] = key;
            jwk = key_jwk(st->alg, key);
            if (jwk == NULL || json_array_append_new(keys, jwk) != 0)
                goto err_nomem;
        }
    }
    free(seen);
    *out = json_pack("{s:o}", "keys", keys);
    return *out ? 0 : sb_err_set(err, SB_ERR_NOMEM, "out of memory");

err_nomem:
    free(seen);
    json_decref(keys);
    return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
}

int sb_jwks_build_config(const struct sb_config *cfg, json_t **out,
                         struct sb_err *err)
{
    const struct sb_profile **list;
    size_t i;
    int rc;

    list = calloc(cfg->profile_count + 1, sizeof(*list));
    if (list == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    for (i = 0; i < cfg->profile_count; i++)
        list[i] = &cfg->profiles[i];
    rc = sb_jwks_build(list, cfg->profile_count, out, err);
    free(list);
    return rc;
}
