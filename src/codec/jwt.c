/* jwt.c - the `jwt` format: compact JWS tokens with HS256/384/512,
 * RS256/384/512 and ES256/384/512 (FORMATS.md section 7), verified with
 * keys parsed once in prepare() and the algorithm pinned per key. */
#include <inttypes.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jwt_internal.h"
#include "sessionbridge/b64.h"
#include "sessionbridge/codec.h"
#include "sessionbridge/crypto.h"
#include "sessionbridge/jsonutil.h"
#include "sessionbridge/ratelimit.h"

#define JWT_HEADER_MAX 1024  /* decoded header bytes */
#define JWT_SIG_MAX 1024     /* decoded signature bytes (RSA-8192) */
#define JWT_KID_MAX 256
#define JWT_DEFAULT_MAX_AGE 3600
#define JWT_LEEWAY_MAX (365LL * 86400)
#define JWT_TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */

/* Claims the codec maps to canonical fields or checks itself; they never
 * appear in the session data. */
static const char *const registered_claims[] = {
    "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", NULL};

static bool is_registered(const char *name)
{
    size_t i;

    for (i = 0; registered_claims[i] != NULL; i++) {
        if (strcmp(registered_claims[i], name) == 0)
            return true;
    }
    return false;
}

static int jwt_configure(struct sb_profile *p, const char *key,
                         const char *value, struct sb_err *err)
{
    struct sb_jwt_state *st = sb_codec_state(p, sizeof(*st), err);
    char **files;

    if (st == NULL)
        return -1;
    if (strcmp(key, "alg") == 0) {
        st->alg = sb_jwt_alg_find(value);
        if (st->alg == NULL)
            return sb_err_set(err, SB_ERR_CONFIG,
                              "alg '%s' is not one of HS256 HS384 HS512 RS256 "
                              "RS384 RS512 ES256 ES384 ES512", value);
        return 0;
    }
    if (strcmp(key, "leeway") == 0)
        return sb_codec_parse_seconds(key, value, 0, JWT_LEEWAY_MAX,
                                      "0 to 1 year", &st->leeway, err);
    if (*value == '\0')
        return sb_err_set(err, SB_ERR_CONFIG, "%s must not be empty", key);
    if (strcmp(key, "kid") == 0) {
        if (strlen(value) > JWT_KID_MAX)
            return sb_err_set(err, SB_ERR_CONFIG,
                              "kid is longer than %d bytes", JWT_KID_MAX);
        return sb_codec_set_string(&st->kid, value, err);
    }
    if (strcmp(key, "issuer") == 0)
        return sb_codec_set_string(&st->issuer, value, err);
    if (strcmp(key, "audience") == 0)
        return sb_codec_set_string(&st->audience, value, err);
    if (strcmp(key, "private_key_file") == 0)
        return sb_codec_set_string(&st->private_key_file, value, err);
    if (strcmp(key, "public_key_file") == 0) {
        files = realloc(st->public_key_files,
                        (st->public_key_file_count + 1) * sizeof(*files));
        if (files == NULL)
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        st->public_key_files = files;
        files[st->public_key_file_count] = strdup(value);
        if (files[st->public_key_file_count] == NULL)
            return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        st->public_key_file_count++;
        return 0;
    }
    return sb_err_set(err, SB_ERR_CONFIG, "unknown key '%s' for format jwt",
                      key);
}

static void jwt_release(struct sb_profile *p)
{
    struct sb_jwt_state *st = p->codec_state;
    size_t i;

    if (st == NULL)
        return;
    sb_jwt_keys_free(st);
    for (i = 0; i < st->known_count; i++)
        free(st->known[i].b64);
    free(st->known);
    EVP_MD_free(st->md);
    for (i = 0; i < st->public_key_file_count; i++)
        free(st->public_key_files[i]);
    free(st->public_key_files);
    free(st->private_key_file);
    free(st->kid);
    free(st->issuer);
    free(st->audience);
    free(st);
    p->codec_state = NULL;
}

/* Adds the b64url of header text h, naming kid, to st->known. */
static int add_known(struct sb_jwt_state *st, const char *h, const char *kid,
                     struct sb_err *err)
{
    struct sb_jwt_known_header *k;
    size_t n = strlen(h);

    k = realloc(st->known, (st->known_count + 1) * sizeof(*k));
    if (k == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    st->known = k;
    k = &st->known[st->known_count];
    k->b64 = malloc(sb_b64_encoded_size(n));
    if (k->b64 == NULL)
        return sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    k->len = sb_b64_encode(SB_B64_URL_NOPAD, h, n, k->b64);
    k->kid = kid;
    st->known_count++;
    return 0;
}

/* The headers jsonwebtoken ({"alg","typ","kid"}), PyJWT (sorted keys) and
 * the bridge write for this alg, without a kid and with each key's kid
 * (kids that need JSON escaping are left to the parser). */
static int build_known_headers(struct sb_jwt_state *st, struct sb_err *err)
{
    const char *alg = st->alg->name;
    char h[JWT_KID_MAX + 64];
    size_t i, j;

    snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
    if (add_known(st, h, NULL, err) != 0)
        return -1;
    for (i = 0; i < st->key_count; i++) {
        const char *kid = st->keys[i].kid;
        bool seen = false;
        if (kid == NULL ||
            strspn(kid, " !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRST"
                        "UVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~") !=
                strlen(kid))
            continue;
        for (j = 0; j < i && !seen; j++)
            seen = st->keys[j].kid && strcmp(st->keys[j].kid, kid) == 0;
        if (seen)
            continue;
        snprintf(h, sizeof(h),
                 "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", alg, kid);
        if (add_known(st, h, kid, err) != 0)
            return -1;
        snprintf(h, sizeof(h),
                 "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg, kid);
        if (add_known(st, h, kid, err) != 0)
            return -1;
    }
    return 0;
}

/* Loads the keys once and fills defaults: max_age 3600, cookie
 * "access_token" living as long as the token. */
static int jwt_prepare(struct sb_profile *p, struct sb_err *err)
{
    struct sb_jwt_state *st = sb_codec_state(p, sizeof(*st), err);

    if (st == NULL)
        return -1;
    if (st->alg == NULL)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "format jwt needs alg (HS256 HS384 HS512 RS256 "
                          "RS384 RS512 ES256 ES384 ES512)");
    st->md = EVP_MD_fetch(NULL, st->alg->md_name, NULL);
    if (st->md == NULL)
        return sb_err_set(err, SB_ERR_INTERNAL, "OpenSSL has no %s",
                          st->alg->md_name);
    if (sb_jwt_keys_load(p, st, err) != 0 ||
        build_known_headers(st, err) != 0)
        return -1;
    if (p->max_age == 0)
        p->max_age = JWT_DEFAULT_MAX_AGE;
    if (p->cookie.max_age == -2)
        p->cookie.max_age = p->max_age;
    return sb_codec_default_string(&p->cookie.name, "access_token", err);
}

/* ---- signatures ------------------------------------------------------- */

/* Appends one DER INTEGER holding the unsigned big-endian v[0..n). */
static size_t der_integer(const unsigned char *v, size_t n, unsigned char *out)
{
    size_t pad, o = 0;

    while (n > 1 && v[0] == 0) {
        v++;
        n--;
    }
    pad = (v[0] & 0x80) ? 1 : 0;
    out[o++] = 0x02;
    out[o++] = (unsigned char)(n + pad);
    if (pad)
        out[o++] = 0x00;
    memcpy(out + o, v, n);
    return o + n;
}

/* JWS raw r||s (2 * coord bytes) to the DER ECDSA-Sig-Value OpenSSL
 * verifies; out holds 2 * (coord + 3) + 3 bytes. */
static size_t ec_raw_to_der(const unsigned char *sig, size_t coord,
                            unsigned char *out)
{
    unsigned char body[2 * (66 + 3)];
    size_t n = der_integer(sig, coord, body);
    size_t o = 0;

    n += der_integer(sig + coord, coord, body + n);
    out[o++] = 0x30;
    if (n >= 0x80)
        out[o++] = 0x81;
    out[o++] = (unsigned char)n;
    memcpy(out + o, body, n);
    return o + n;
}

/* True when sig verifies input with one key (the profile's alg only). */
static bool verify_with(const struct sb_jwt_state *st,
                        const struct sb_jwt_key *key, const char *input,
                        size_t input_len, const unsigned char *sig,
                        size_t sig_len)
{
    unsigned char mac[SB_DIGEST_MAX], der[2 * (66 + 3) + 3];
    const unsigned char *s = sig;
    size_t n = sig_len;
    EVP_MD_CTX *md;
    bool ok;

    if (st->alg->kind == SB_JWT_HMAC) {
        n = sb_mac_compute(&key->mac, input, input_len, mac);
        return n != 0 && n == sig_len && sb_ct_equal(mac, sig, n);
    }
    if (st->alg->kind == SB_JWT_EC) {
        if (sig_len != 2 * st->alg->coord)
            return false;
        n = ec_raw_to_der(sig, st->alg->coord, der);
        s = der;
    } else if (sig_len != (size_t)EVP_PKEY_get_size(key->pkey)) {
        return false;
    }
    md = EVP_MD_CTX_new();
    ok = md != NULL &&
         EVP_DigestVerifyInit(md, NULL, st->md, NULL, key->pkey) == 1 &&
         EVP_DigestVerify(md, s, n, (const unsigned char *)input,
                          input_len) == 1;
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

/* Signs input with the profile's signing key into sig (JWT_SIG_MAX
 * bytes); ES signatures are converted from DER to raw r||s. */
static int sign_input(const struct sb_jwt_state *st, const char *input,
                      size_t input_len, unsigned char *sig, size_t *sig_len,
                      struct sb_err *err)
{
    unsigned char der[JWT_SIG_MAX];
    const unsigned char *d = der;
    size_t n = sizeof(der);
    ECDSA_SIG *es = NULL;
    EVP_MD_CTX *md;
    int ok;

    if (st->alg->kind == SB_JWT_HMAC) {
        *sig_len = sb_mac_compute(&st->keys[0].mac, input, input_len, sig);
        return *sig_len ? 0 : sb_err_set(err, SB_ERR_INTERNAL, "HMAC failed");
    }
    if (st->signing_key == NULL)
        return sb_err_set(err, SB_ERR_CONFIG,
                          "this jwt profile has no private_key_file: it "
                          "verifies but cannot sign");
    md = EVP_MD_CTX_new();
    ok = md != NULL &&
         EVP_DigestSignInit(md, NULL, st->md, NULL, st->signing_key) == 1 &&
         EVP_DigestSign(md, st->alg->kind == SB_JWT_EC ? der : sig, &n,
                        (const unsigned char *)input, input_len) == 1;
    EVP_MD_CTX_free(md);
    if (ok && st->alg->kind == SB_JWT_EC) {
        const BIGNUM *r, *s;
        es = d2i_ECDSA_SIG(NULL, &d, (long)n);
        ok = es != NULL;
        if (ok) {
            ECDSA_SIG_get0(es, &r, &s);
            ok = BN_bn2binpad(r, sig, (int)st->alg->coord) >= 0 &&
                 BN_bn2binpad(s, sig + st->alg->coord,
                              (int)st->alg->coord) >= 0;
            n = 2 * st->alg->coord;
        }
        ECDSA_SIG_free(es);
    }
    ERR_clear_error();
    if (!ok)
        return sb_err_set(err, SB_ERR_INTERNAL, "%s signing failed",
                          st->alg->name);
    *sig_len = n;
    return 0;
}

/* ---- decode ----------------------------------------------------------- */

/* Checks the protected header: alg pinned to the profile's (none never
 * accepted), no crit extension, kid a string.  *kid borrows from hdr. */
static int check_header(const struct sb_jwt_state *st, const json_t *hdr,
                        const char **kid, struct sb_err *err)
{
    const json_t *alg = json_object_get(hdr, "alg");
    const json_t *k = json_object_get(hdr, "kid");
    const struct sb_jwt_alg *a;

    *kid = NULL;
    if (!json_is_object(hdr))
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "JWT header is not a JSON object");
    if (!json_is_string(alg))
        return sb_err_set(err, SB_ERR_MALFORMED, "JWT header has no alg");
    if (strcasecmp(json_string_value(alg), "none") == 0)
        return sb_err_set(err, SB_ERR_BAD_SIGNATURE,
                          "unsigned JWT (alg none) is never accepted");
    a = sb_jwt_alg_find(json_string_value(alg));
    if (a == NULL)
        return sb_err_set(err, SB_ERR_UNSUPPORTED,
                          "JWT alg is not one of HS256..ES512");
    if (a != st->alg)
        return sb_err_set(err, SB_ERR_BAD_SIGNATURE,
                          "JWT alg %s is not this profile's key alg %s",
                          a->name, st->alg->name);
    if (json_object_get(hdr, "crit") != NULL)
        return sb_err_set(err, SB_ERR_UNSUPPORTED,
                          "JWT header lists crit extensions the bridge does "
                          "not implement");
    if (k != NULL) {
        if (!json_is_string(k) || json_string_length(k) == 0 ||
            json_string_length(k) > JWT_KID_MAX)
            return sb_err_set(err, SB_ERR_MALFORMED,
                              "JWT kid is not a string of 1-%d bytes",
                              JWT_KID_MAX);
        *kid = json_string_value(k);
    }
    return 0;
}

/* Verifies the signature with the keys the kid allows: a kid must name a
 * configured key when any key has one (unknown_key otherwise); with no kid,
 * or no kids configured, every key is tried.  Each RSA / EC check takes a
 * token from limit first (overloaded when none is left): forged tokens
 * cannot make the daemon do unbounded public-key work. */
static int verify_signature(const struct sb_jwt_state *st,
                            struct sb_ratelimit *limit, const char *kid,
                            const char *input, size_t input_len,
                            const unsigned char *sig, size_t sig_len,
                            struct sb_err *err)
{
    bool named = kid != NULL && st->any_kid, found = false;
    size_t i;

    for (i = 0; i < st->key_count; i++) {
        const struct sb_jwt_key *key = &st->keys[i];
        if (named && (key->kid == NULL || strcmp(key->kid, kid) != 0))
            continue;
        found = true;
        if (st->alg->kind != SB_JWT_HMAC && !sb_ratelimit_take(limit))
            return sb_err_set(err, SB_ERR_OVERLOADED,
                              "asymmetric signature checks are over "
                              "[http] max_asym_verifications_per_second; "
                              "try again later");
        if (verify_with(st, key, input, input_len, sig, sig_len))
            return 0;
    }
    if (named && !found)
        return sb_err_set(err, SB_ERR_UNKNOWN_KEY,
                          "JWT kid names none of this profile's keys");
    return sb_err_set(err, SB_ERR_BAD_SIGNATURE,
                      "JWT signature does not verify");
}

/* Reads NumericDate claim `name` (integer or real, truncated to whole
 * seconds as PyJWT does).  *present is false when it is absent. */
static int time_claim(const json_t *claims, const char *name, bool *present,
                      int64_t *out, struct sb_err *err)
{
    const json_t *v = json_object_get(claims, name);
    double d;

    *present = v != NULL;
    *out = 0;
    if (v == NULL)
        return 0;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
    } else if (json_is_real(v)) {
        d = json_real_value(v);
        if (!(d > -(double)JWT_TIME_MAX && d < (double)JWT_TIME_MAX))
            return sb_err_set(err, SB_ERR_MALFORMED,
                              "JWT claim %s is out of range", name);
        *out = (int64_t)d;
    } else {
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "JWT claim %s is not a NumericDate", name);
    }
    if (*out < -JWT_TIME_MAX || *out > JWT_TIME_MAX)
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "JWT claim %s is out of range", name);
    return 0;
}

/* True when string claim v equals want (constant time in want's length). */
static bool claim_equals(const json_t *v, const char *want)
{
    size_t n = strlen(want);

    return json_is_string(v) && json_string_length(v) == n &&
           sb_ct_equal(json_string_value(v), want, n);
}

/* aud may be one string or an array of strings (RFC 7519 4.1.3). */
static bool audience_ok(const json_t *aud, const char *want)
{
    size_t i;
    const json_t *v;

    if (json_is_array(aud)) {
        json_array_foreach(aud, i, v) {
            if (claim_equals(v, want))
                return true;
        }
        return false;
    }
    return claim_equals(aud, want);
}

/* The claim checks, in PyJWT's order: exp present, iat not in the future,
 * nbf reached, exp not passed (each with the leeway), iss and aud. */
static int check_claims(const struct sb_jwt_state *st, const json_t *claims,
                        int64_t now, int64_t *iat, int64_t *exp,
                        struct sb_err *err)
{
    const json_t *aud = json_object_get(claims, "aud");
    bool has_iat, has_nbf, has_exp;
    int64_t nbf;

    if (time_claim(claims, "exp", &has_exp, exp, err) != 0 ||
        time_claim(claims, "iat", &has_iat, iat, err) != 0 ||
        time_claim(claims, "nbf", &has_nbf, &nbf, err) != 0)
        return -1;
    if (!has_exp)
        return sb_err_set(err, SB_ERR_INVALID_CLAIM,
                          "JWT has no exp claim; the bridge requires one");
    if (has_iat && *iat > now + st->leeway)
        return sb_err_set(err, SB_ERR_NOT_YET_VALID,
                          "JWT was issued %" PRId64 " s in the future (iat)",
                          *iat - now);
    if (has_nbf && nbf > now + st->leeway)
        return sb_err_set(err, SB_ERR_NOT_YET_VALID,
                          "JWT is not valid for another %" PRId64 " s (nbf)",
                          nbf - now);
    if (*exp <= now - st->leeway)
        return sb_err_set(err, SB_ERR_EXPIRED,
                          "JWT expired %" PRId64 " s ago", now - *exp);
    if (st->issuer != NULL &&
        !claim_equals(json_object_get(claims, "iss"), st->issuer))
        return sb_err_set(err, SB_ERR_INVALID_CLAIM,
                          "JWT iss is not this profile's issuer");
    if (st->audience != NULL ? !audience_ok(aud, st->audience)
                             : aud != NULL && !json_is_null(aud))
        return sb_err_set(err, SB_ERR_INVALID_CLAIM,
                          st->audience ? "JWT aud does not include this "
                                         "profile's audience"
                                       : "JWT has an aud claim but the "
                                         "profile configures no audience");
    return 0;
}

/* Moves the verified claims into out: sub -> subject, sid (else jti) ->
 * sid, and the claims that are not registered -> data. */
static int fill_session(json_t *claims, int64_t iat, int64_t exp,
                        struct sb_session *out, struct sb_err *err)
{
    const json_t *sub = json_object_get(claims, "sub");
    const json_t *sid = json_object_get(claims, "sid");
    char num[32];
    size_t i;

    if ((json_is_string(sid) && !sb_json_is_c_string(sid)) ||
        (json_is_string(sub) && !sb_json_is_c_string(sub)))
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "JWT sub or sid holds a NUL byte");
    if (!json_is_string(sid) || !sb_sid_is_valid(json_string_value(sid)))
        sid = json_object_get(claims, "jti");
    if (json_is_string(sid) && !sb_json_is_c_string(sid))
        return sb_err_set(err, SB_ERR_MALFORMED, "JWT jti holds a NUL byte");
    if (json_is_string(sid) && sb_sid_is_valid(json_string_value(sid)))
        strcpy(out->sid, json_string_value(sid));
    if (json_is_string(sub) && json_string_length(sub) > 0) {
        if (sb_session_set_subject(out, json_string_value(sub), err) != 0)
            return -1;
    } else if (json_is_integer(sub)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(sub));
        if (sb_session_set_subject(out, num, err) != 0)
            return -1;
    } else if (sub != NULL) {
        return sb_err_set(err, SB_ERR_MALFORMED, "JWT sub is not a string");
    }
    for (i = 0; registered_claims[i] != NULL; i++)
        json_object_del(claims, registered_claims[i]);
    out->issued_at = iat;
    out->expires_at = exp;
    out->data = json_incref(claims);
    return 0;
}

/* True when the header segment h[0..n) is one of the profile's known
 * headers; *kid is then the kid it names (NULL for none). */
static bool known_header(const struct sb_jwt_state *st, const char *h,
                         size_t n, const char **kid)
{
    size_t i;

    for (i = 0; i < st->known_count; i++) {
        if (st->known[i].len == n && memcmp(st->known[i].b64, h, n) == 0) {
            *kid = st->known[i].kid;
            return true;
        }
    }
    return false;
}

/* Splits header.claims.signature, verifies the signature over the first
 * two parts with the pinned alg and the kid's keys, then checks the claims
 * (all before anything is returned). */
static int jwt_decode(const struct sb_profile *p, const char *token,
                      size_t len, const struct sb_codec_ctx *ctx,
                      struct sb_session *out, struct sb_err *err)
{
    const struct sb_jwt_state *st = p->codec_state;
    unsigned char hbuf[JWT_HEADER_MAX + 3], sig[JWT_SIG_MAX + 3];
    unsigned char cbuf[SB_TOKEN_MAX / 4 * 3 + 3];
    const char *d1, *d2, *end = token + len, *kid;
    json_t *hdr = NULL, *claims = NULL;
    long hn, sn, cn;
    int64_t iat = 0, exp = 0;
    int rc = -1;

    if (len > SB_TOKEN_MAX)
        return sb_err_set(err, SB_ERR_TOO_LARGE,
                          "JWT is %zu bytes; the limit is %d", len,
                          SB_TOKEN_MAX);
    d1 = memchr(token, '.', len);
    d2 = d1 ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;
    if (d2 == NULL || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) != NULL)
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "a JWT has exactly three dot-separated parts");
    if (sb_b64_decoded_max((size_t)(d1 - token)) > sizeof(hbuf) ||
        sb_b64_decoded_max((size_t)(end - d2 - 1)) > sizeof(sig))
        return sb_err_set(err, SB_ERR_TOO_LARGE,
                          "JWT header or signature is too long");
    sn = sb_b64_decode(SB_B64_URL_NOPAD, d2 + 1, (size_t)(end - d2 - 1), sig);
    if (sn < 0)
        return sb_err_set(err, SB_ERR_MALFORMED,
                          "JWT signature is not base64url");
    if (!known_header(st, token, (size_t)(d1 - token), &kid)) {
        hn = sb_b64_decode(SB_B64_URL_NOPAD, token, (size_t)(d1 - token),
                           hbuf);
        if (hn <= 0)
            return sb_err_set(err, SB_ERR_MALFORMED,
                              "JWT header is not base64url");
        hdr = sb_json_parse((const char *)hbuf, (size_t)hn, SB_ERR_MALFORMED,
                            "JWT header", err);
        if (hdr == NULL || check_header(st, hdr, &kid, err) != 0)
            goto out_free;
    }
    if (verify_signature(st, p->verify_limit, kid, token, (size_t)(d2 - token), sig,
                         (size_t)sn, err) != 0)
        goto out_free;
    cn = sb_b64_decode(SB_B64_URL_NOPAD, d1 + 1, (size_t)(d2 - d1 - 1), cbuf);
    if (cn <= 0) {
        sb_err_set(err, SB_ERR_MALFORMED, "JWT claims are not base64url");
        goto out_free;
    }
    claims = sb_json_parse((const char *)cbuf, (size_t)cn, SB_ERR_MALFORMED,
                           "JWT claims", err);
    if (claims == NULL)
        goto out_free;
    if (!json_is_object(claims)) {
        sb_err_set(err, SB_ERR_MALFORMED, "JWT claims are not a JSON object");
        goto out_free;
    }
    if (check_claims(st, claims, ctx->now, &iat, &exp, err) != 0 ||
        fill_session(claims, iat, exp, out, err) != 0)
        goto out_free;
    rc = 0;
out_free:
    json_decref(claims);
    json_decref(hdr);
    return rc;
}

/* ---- encode ----------------------------------------------------------- */

/* Appends b64url_nopad of the JS-style JSON of v to b. */
static int append_b64_json(struct sb_buf *b, const json_t *v,
                           struct sb_err *err)
{
    struct sb_buf text;
    char *enc;
    int rc = -1;

    sb_buf_init(&text);
    if (sb_json_dump(v, SB_JSON_JS, &text, err) != 0)
        goto out_free;
    enc = malloc(sb_b64_encoded_size(text.len));
    if (enc == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    sb_b64_encode(SB_B64_URL_NOPAD, text.data, text.len, enc);
    rc = sb_buf_append_str(b, enc) == 0
             ? 0 : sb_err_set(err, SB_ERR_NOMEM, "out of memory");
    free(enc);
out_free:
    sb_buf_free(&text);
    return rc;
}

/* The claims of s in jsonwebtoken's layout: sub, sid, iat, exp, iss, aud,
 * then the data (registered names in the data are dropped). */
static json_t *build_claims(const struct sb_profile *p,
                            const struct sb_jwt_state *st,
                            const struct sb_session *s, int64_t now)
{
    json_t *c = json_object();
    const char *k;
    json_t *v;
    int rc = 0;

    if (c == NULL)
        return NULL;
    if (s->subject != NULL)
        rc |= json_object_set_new(c, "sub", json_string(s->subject));
    if (s->sid[0] != '\0')
        rc |= json_object_set_new(c, "sid", json_string(s->sid));
    rc |= json_object_set_new(c, "iat",
                              json_integer(s->issued_at ? s->issued_at : now));
    rc |= json_object_set_new(c, "exp",
                              json_integer(s->expires_at ? s->expires_at
                                                         : now + p->max_age));
    if (st->issuer != NULL)
        rc |= json_object_set_new(c, "iss", json_string(st->issuer));
    if (st->audience != NULL)
        rc |= json_object_set_new(c, "aud", json_string(st->audience));
    json_object_foreach(s->data, k, v) {
        if (!is_registered(k))
            rc |= json_object_set(c, k, v);
    }
    if (rc != 0) {
        json_decref(c);
        return NULL;
    }
    return c;
}

static int jwt_encode(const struct sb_profile *p, const struct sb_session *s,
                      const struct sb_codec_ctx *ctx, char **out,
                      struct sb_err *err)
{
    const struct sb_jwt_state *st = p->codec_state;
    unsigned char sig[JWT_SIG_MAX];
    char sig64[JWT_SIG_MAX / 3 * 4 + 8];
    json_t *hdr, *claims = NULL;
    size_t sig_len;
    struct sb_buf b;
    int rc = -1;

    *out = NULL;
    sb_buf_init(&b);
    hdr = json_pack("{s:s, s:s}", "alg", st->alg->name, "typ", "JWT");
    if (hdr != NULL && st->kid != NULL &&
        json_object_set_new(hdr, "kid", json_string(st->kid)) != 0) {
        json_decref(hdr);
        hdr = NULL;
    }
    claims = hdr ? build_claims(p, st, s, ctx->now) : NULL;
    if (claims == NULL) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    if (append_b64_json(&b, hdr, err) != 0 ||
        sb_buf_append_str(&b, ".") != 0 ||
        append_b64_json(&b, claims, err) != 0)
        goto out_free;
    if (sign_input(st, b.data, b.len, sig, &sig_len, err) != 0)
        goto out_free;
    sb_b64_encode(SB_B64_URL_NOPAD, sig, sig_len, sig64);
    if (sb_buf_append_str(&b, ".") != 0 || sb_buf_append_str(&b, sig64) != 0) {
        sb_err_set(err, SB_ERR_NOMEM, "out of memory");
        goto out_free;
    }
    if (b.len > SB_TOKEN_MAX) {
        sb_err_set(err, SB_ERR_TOO_LARGE,
                   "JWT would be %zu bytes; the limit is %d", b.len,
                   SB_TOKEN_MAX);
        goto out_free;
    }
    *out = sb_buf_steal(&b, NULL);
    rc = *out ? 0 : sb_err_set(err, SB_ERR_NOMEM, "out of memory");
out_free:
    sb_buf_free(&b);
    json_decref(claims);
    json_decref(hdr);
    return rc;
}

/* A JWT's identity is header.payload: what the signature covers, without
 * the signature bytes (ECDSA's (r, s) and (r, n - s) both verify). */
static size_t jwt_signed_span(const char *token, size_t len)
{
    const char *dot = memrchr(token, '.', len);

    return dot != NULL ? (size_t)(dot - token) : len;
}

const struct sb_codec sb_codec_jwt = {
    .name = "jwt",
    .native_sid = true,
    .signed_span = jwt_signed_span,
    .cookie_escape = NULL,
    .configure = jwt_configure,
    .prepare = jwt_prepare,
    .release = jwt_release,
    .decode = jwt_decode,
    .encode = jwt_encode,
};
