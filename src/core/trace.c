/* trace.c - request ids and W3C traceparent trace ids for the access log
 * (sessionbridge/trace.h). */
#include "sessionbridge/trace.h"
#include "sessionbridge/crypto.h"

#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

bool sb_request_id_sane(const char *v)
{
    size_t n;

    if (v == NULL)
        return false;
    for (n = 0; v[n] != '\0'; n++) {
        unsigned char c = (unsigned char)v[n];
        if (n >= SB_REQUEST_ID_MAX)
            return false;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || strchr("-._:@+=/", c) != NULL)
            continue;
        return false;
    }
    return n > 0;
}

/* xorshift128+ state of this thread; zero until seeded. */
static __thread uint64_t id_state[2];

/* Seeds this thread's generator from getrandom(2), or from the clock and
 * the state's address when that fails (ids stay unique enough to trace). */
static void seed_thread(void)
{
    struct timespec ts;

    if (getrandom(id_state, sizeof(id_state), 0) == (ssize_t)sizeof(id_state) &&
        (id_state[0] | id_state[1]) != 0)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    id_state[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
    id_state[1] = (uint64_t)(uintptr_t)id_state | 1;
}

/* One xorshift128+ step of this thread's state. */
static uint64_t next_u64(void)
{
    uint64_t s1 = id_state[0];
    const uint64_t s0 = id_state[1];

    id_state[0] = s0;
    s1 ^= s1 << 23;
    id_state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return id_state[1] + s0;
}

void sb_request_id_new(char *buf)
{
    uint64_t ab[2];

    if ((id_state[0] | id_state[1]) == 0)
        seed_thread();
    ab[0] = next_u64();
    ab[1] = next_u64();
    sb_hex_encode(ab, sizeof(ab), buf);
}

/* True when v[0..n) are lower-case hex digits, not all '0'
 * (all_zero_ok: zeros allowed). */
static bool hex_field(const char *v, size_t n, bool all_zero_ok)
{
    bool nonzero = false;
    size_t i;

    for (i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        nonzero |= c != '0';
    }
    return nonzero || all_zero_ok;
}

bool sb_traceparent_trace_id(const char *v, char *buf)
{
    size_t len;

    buf[0] = '\0';
    if (v == NULL)
        return false;
    len = strnlen(v, 56);
    /* version(2) - trace-id(32) - parent-id(16) - flags(2) = 55 bytes */
    if (len < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-')
        return false;
    if (!hex_field(v, 2, true) || memcmp(v, "ff", 2) == 0 ||
        !hex_field(v + 3, 32, false) || !hex_field(v + 36, 16, false) ||
        !hex_field(v + 53, 2, true))
        return false;
    /* Version 00 is exactly 55 bytes; a later one may append "-...". */
    if (len > 55 && (memcmp(v, "00", 2) == 0 || v[55] != '-'))
        return false;
    memcpy(buf, v + 3, SB_TRACE_ID_HEX);
    buf[SB_TRACE_ID_HEX] = '\0';
    return true;
}
