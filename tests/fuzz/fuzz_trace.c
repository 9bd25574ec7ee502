/* fuzz_trace.c - libFuzzer target for the request headers the access log
 * takes from a client (sessionbridge/trace.h): the input, as a string, is
 * an X-Request-Id and a traceparent.  Whatever passes must be what the
 * rules allow (a sane id is 1-64 bytes of the safe set; a trace id is 32
 * lower-case hex digits copied from the header); nothing may crash or
 * trip a sanitizer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sessionbridge/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    char id[SB_TRACE_ID_HEX + 1];
    size_t n;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    n = strlen(s);
    if (sb_request_id_sane(s) &&
        (n == 0 || n > SB_REQUEST_ID_MAX ||
         strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789-._:@+=/") != n))
        abort();
    if (sb_traceparent_trace_id(s, id) &&
        (strlen(id) != SB_TRACE_ID_HEX ||
         strspn(id, "0123456789abcdef") != SB_TRACE_ID_HEX ||
         memcmp(s + 3, id, SB_TRACE_ID_HEX) != 0))
        abort();
    free(s);
    return 0;
}
