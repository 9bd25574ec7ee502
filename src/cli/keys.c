/* keys.c - `keys generate` (a new signing key, written with safe
 * permissions) and `keys jwks` (the public JWKS of the configured keys). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "sessionbridge/b64.h"
#include "sessionbridge/crypto.h"
#include "sessionbridge/jwks.h"

/* What each accepted algorithm needs. */
struct key_alg {
    const char *name;    /* JWT "alg" */
    char kind;           /* 'H' secret, 'R' RSA, 'E' EC */
    const char *curve;   /* EC group */
    size_t secret_len;   /* random bytes of an HMAC secret */
};

static const struct key_alg key_algs[] = {
    {"HS256", 'H', NULL, 32},      {"HS384", 'H', NULL, 48},
    {"HS512", 'H', NULL, 64},      {"RS256", 'R', NULL, 0},
    {"RS384", 'R', NULL, 0},       {"RS512", 'R', NULL, 0},
    {"ES256", 'E', "P-256", 0},    {"ES384", 'E', "P-384", 0},
    {"ES512", 'E', "P-521", 0},
};

static const struct key_alg *find_alg(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(key_algs) / sizeof(key_algs[0]); i++)
        if (strcmp(key_algs[i].name, name) == 0)
            return &key_algs[i];
    return NULL;
}

/*
 * Writes data[0..len) to path with the given mode, atomically: into a
 * temporary file in the same directory first (created 0600 by mkstemp,
 * then chmod to mode), then linked to path, which fails when path exists
 * unless `force`, in which case it is renamed over it.  A reader never
 * sees a partial key and the mode never is wider than asked, whatever the
 * umask.
 */
static int write_file(const char *path, const void *data, size_t len,
                      mode_t mode, bool force)
{
    char tmp[PATH_MAX], dir_buf[PATH_MAX];
    int fd, rc = CLI_FAILED;

    if (strlen(path) >= sizeof(dir_buf))
        return cli_error(CLI_USAGE, "--out: path too long");
    memcpy(dir_buf, path, strlen(path) + 1);
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.sbkey.XXXXXX",
                         dirname(dir_buf)) >= sizeof(tmp))
        return cli_error(CLI_USAGE, "--out: path too long");
    fd = mkstemp(tmp);
    if (fd < 0)
        return cli_error(CLI_FAILED, "cannot create a file next to %s: %s",
                         path, strerror(errno));
    if (fchmod(fd, mode) != 0 || write(fd, data, len) != (ssize_t)len ||
        fsync(fd) != 0) {
        cli_error(CLI_FAILED, "cannot write %s: %s", path, strerror(errno));
        goto out_unlink;
    }
    if (force) {
        if (rename(tmp, path) != 0) {
            cli_error(CLI_FAILED, "cannot write %s: %s", path,
                      strerror(errno));
            goto out_unlink;
        }
        rc = CLI_OK;
        goto out_close;
    }
    if (link(tmp, path) != 0) {
        if (errno == EEXIST)
            cli_error(CLI_FAILED, "%s exists: not overwriting it (--force "
                      "replaces it)", path);
        else
            cli_error(CLI_FAILED, "cannot write %s: %s", path,
                      strerror(errno));
        goto out_unlink;
    }
    rc = CLI_OK;
out_unlink:
    unlink(tmp);
out_close:
    close(fd);
    return rc;
}

/* A new RSA or EC key pair for alg; NULL after printing why. */
static EVP_PKEY *generate_pair(const struct key_alg *alg, unsigned bits)
{
    EVP_PKEY *pkey;

    if (alg->kind == 'R')
        pkey = EVP_RSA_gen(bits);
    else
        pkey = EVP_EC_gen(alg->curve);
    if (pkey == NULL)
        cli_error(CLI_FAILED, "OpenSSL could not generate the %s key",
                  alg->name);
    return pkey;
}

/* The PEM text of pkey's private (PKCS#8) or public (SPKI) half, in a
 * secure-memory BIO the caller frees with BIO_free (which wipes it). */
static BIO *pem_of(EVP_PKEY *pkey, bool private_half)
{
    BIO *bio = BIO_new(BIO_s_secmem());
    int ok;

    if (bio == NULL)
        return NULL;
    if (private_half)
        ok = PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
    else
        ok = PEM_write_bio_PUBKEY(bio, pkey);
    if (!ok) {
        BIO_free(bio);
        return NULL;
    }
    return bio;
}

/* Sends text to path (mode) or, when path is NULL, to stdout. */
static int emit(const char *path, const char *text, size_t len, mode_t mode,
                bool force)
{
    if (path != NULL)
        return write_file(path, text, len, mode, force);
    if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
        return cli_error(CLI_FAILED, "cannot write to stdout");
    return CLI_OK;
}

/* HS*: a random secret written as one line of base64url (the line's bytes
 * are the secret, as every secrets_file reads them). */
static int generate_secret(const struct key_alg *alg, const char *out,
                           bool force)
{
    unsigned char raw[64];
    char line[96];
    struct sb_err err = {0};
    size_t n;
    int rc;

    if (sb_random_bytes(raw, alg->secret_len, &err) != 0)
        return cli_error(CLI_FAILED, "%s", err.msg);
    n = sb_b64_encode(SB_B64_URL_NOPAD, raw, alg->secret_len, line);
    line[n++] = '\n';
    rc = emit(out, line, n, 0600, force);
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(line, sizeof(line));
    if (rc == CLI_OK && out != NULL)
        fprintf(stderr, "wrote a new %s secret to %s (mode 0600); use it as\n"
                "  secrets_file = %s\nin a [profile.NAME] section with "
                "format = jwt and alg = %s\n", alg->name, out, out,
                alg->name);
    return rc;
}

static int generate_pair_files(const struct key_alg *alg, unsigned bits,
                               const char *out, const char *pub, bool force)
{
    EVP_PKEY *pkey = generate_pair(alg, bits);
    BIO *priv_pem = NULL, *pub_pem = NULL;
    char *text;
    long len;
    int rc = CLI_FAILED;

    if (pkey == NULL)
        return CLI_FAILED;
    priv_pem = pem_of(pkey, true);
    pub_pem = pem_of(pkey, false);
    if (priv_pem == NULL || pub_pem == NULL) {
        cli_error(CLI_FAILED, "OpenSSL could not write the %s key as PEM",
                  alg->name);
        goto out_free;
    }
    len = BIO_get_mem_data(priv_pem, &text);
    if ((rc = emit(out, text, (size_t)len, 0600, force)) != CLI_OK)
        goto out_free;
    if (pub != NULL) {
        len = BIO_get_mem_data(pub_pem, &text);
        if ((rc = emit(pub, text, (size_t)len, 0644, force)) != CLI_OK)
            goto out_free;
    }
    if (out != NULL)
        fprintf(stderr, "wrote a new %s private key to %s (mode 0600)%s%s%s; "
                "use it as\n  private_key_file = %s\n%s%s%sin a "
                "[profile.NAME] section with format = jwt and alg = %s\n",
                alg->name, out, pub ? " and its public key to " : "",
                pub ? pub : "", pub ? " (mode 0644)" : "", out,
                pub ? "  public_key_file = " : "", pub ? pub : "",
                pub ? "\n" : "", alg->name);
out_free:
    BIO_free(priv_pem);
    BIO_free(pub_pem);
    EVP_PKEY_free(pkey);
    return rc;
}

int cli_cmd_keys_generate(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *alg_name = NULL, *out = NULL, *pub = NULL, *bits_s = NULL;
    const struct key_alg *alg;
    unsigned bits = 2048;
    bool force = false;
    int i, m;

    for (i = 0; i < argc; i++) {
        if ((m = cli_opt_value(argc, argv, &i, "--alg", &alg_name)) != 0 ||
            (m = cli_opt_value(argc, argv, &i, "--out", &out)) != 0 ||
            (m = cli_opt_value(argc, argv, &i, "--pub", &pub)) != 0 ||
            (m = cli_opt_value(argc, argv, &i, "--bits", &bits_s)) != 0) {
            if (m < 0)
                return CLI_USAGE;
        } else if (strcmp(argv[i], "--force") == 0) {
            force = true;
        } else {
            return cli_bad_word("keys generate", argv[i]);
        }
    }
    if (alg_name == NULL)
        return cli_error(CLI_USAGE, "keys generate: --alg is required "
                         "(RS256, ES256 or HS256)");
    if ((alg = find_alg(alg_name)) == NULL)
        return cli_error(CLI_USAGE, "--alg: '%s' is not one of HS256 HS384 "
                         "HS512 RS256 RS384 RS512 ES256 ES384 ES512",
                         alg_name);
    if (bits_s != NULL) {
        if (alg->kind != 'R')
            return cli_error(CLI_USAGE, "--bits: only for RS* keys");
        if (strcmp(bits_s, "2048") == 0)
            bits = 2048;
        else if (strcmp(bits_s, "3072") == 0)
            bits = 3072;
        else if (strcmp(bits_s, "4096") == 0)
            bits = 4096;
        else
            return cli_error(CLI_USAGE, "--bits: '%s' is not 2048, 3072 or "
                             "4096", bits_s);
    }
    if (pub != NULL && alg->kind == 'H')
        return cli_error(CLI_USAGE, "--pub: an %s secret has no public half",
                         alg->name);
    if (pub != NULL && out != NULL && strcmp(pub, out) == 0)
        return cli_error(CLI_USAGE, "--pub and --out name the same file");
    if (force && out == NULL)
        return cli_error(CLI_USAGE, "--force: only with --out");
    (void)ctx;
    if (alg->kind == 'H')
        return generate_secret(alg, out, force);
    return generate_pair_files(alg, bits, out, pub, force);
}

int cli_cmd_keys_jwks(struct cli_ctx *ctx, int argc, char **argv)
{
    const struct sb_config *cfg;
    struct sb_err err = {0};
    json_t *doc;

    if (argc > 0)
        return cli_bad_word("keys jwks", argv[0]);
    if ((cfg = cli_config(ctx)) == NULL)
        return CLI_FAILED;
    if (sb_jwks_build_config(cfg, &doc, &err) != 0)
        return cli_error(CLI_FAILED, "%s", err.msg);
    cli_print_json(doc);
    return CLI_OK;
}
