/* backend_label.c - the router's backend names as bounded label values
 * (backend_label.h). */
#include "backend_label.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static char names[SB_BACKEND_NAMES][SB_BACKEND_NAME_LEN + 1];
static atomic_size_t published; /* names readable without the lock */
static pthread_mutex_t claim_lock = PTHREAD_MUTEX_INITIALIZER;

/* True when v may be a label value: 1 to SB_BACKEND_NAME_LEN bytes of
 * [a-z0-9_-]. */
static bool name_ok(const char *v)
{
    size_t n;

    for (n = 0; v[n] != '\0'; n++) {
        char c = v[n];
        if (n == SB_BACKEND_NAME_LEN ||
            !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-'))
            return false;
    }
    return n > 0;
}

size_t sb_backend_slot(const char *v)
{
    size_t i, n;

    if (v == NULL || !name_ok(v))
        return SB_BACKEND_UNKNOWN;
    n = atomic_load_explicit(&published, memory_order_acquire);
    for (i = 0; i < n; i++) {
        if (strcmp(names[i], v) == 0)
            return i;
    }
    if (n == SB_BACKEND_NAMES) /* full: no lock for a flood of new names */
        return SB_BACKEND_OTHER;
    pthread_mutex_lock(&claim_lock);
    n = atomic_load_explicit(&published, memory_order_relaxed);
    for (i = 0; i < n && strcmp(names[i], v) != 0; i++)
        ;
    if (i == n && n < SB_BACKEND_NAMES) {
        snprintf(names[n], sizeof(names[n]), "%s", v);
        atomic_store_explicit(&published, n + 1, memory_order_release);
    } else if (i == n) {
        i = SB_BACKEND_OTHER;
    }
    pthread_mutex_unlock(&claim_lock);
    return i;
}

const char *sb_backend_label(size_t slot)
{
    if (slot == SB_BACKEND_UNKNOWN)
        return "unknown";
    if (slot == SB_BACKEND_OTHER)
        return "other";
    if (slot < atomic_load_explicit(&published, memory_order_acquire))
        return names[slot];
    return NULL;
}
