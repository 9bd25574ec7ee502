/* err.c - the error shape: codes, their stable names, bounded messages. */
#include "sessionbridge/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const code_names[SB_ERR__COUNT] = {
    [SB_OK] = "ok",
    [SB_ERR_MALFORMED] = "malformed",
    [SB_ERR_BAD_SIGNATURE] = "bad_signature",
    [SB_ERR_EXPIRED] = "expired",
    [SB_ERR_NOT_YET_VALID] = "not_yet_valid",
    [SB_ERR_INVALID_CLAIM] = "invalid_claim",
    [SB_ERR_UNKNOWN_KEY] = "unknown_key",
    [SB_ERR_UNSUPPORTED] = "unsupported",
    [SB_ERR_TOO_LARGE] = "too_large",
    [SB_ERR_REVOKED] = "revoked",
    [SB_ERR_NO_CREDENTIAL] = "no_credential",
    [SB_ERR_CONFIG] = "config",
    [SB_ERR_INVALID_REQUEST] = "invalid_request",
    [SB_ERR_NOT_FOUND] = "not_found",
    [SB_ERR_STORE] = "store_unavailable",
    [SB_ERR_IO] = "io",
    [SB_ERR_NOMEM] = "out_of_memory",
    [SB_ERR_INTERNAL] = "internal",
    [SB_ERR_OVERLOADED] = "overloaded",
};

int sb_err_set(struct sb_err *err, enum sb_err_code code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return -1;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

void sb_err_clear(struct sb_err *err)
{
    if (err == NULL)
        return;
    err->code = SB_OK;
    err->msg[0] = '\0';
}

const char *sb_err_code_name(enum sb_err_code code)
{
    if ((unsigned)code >= SB_ERR__COUNT || code_names[code] == NULL)
        return "internal";
    return code_names[code];
}
