/* bench_progress.c - what the progress figure costs a forward-auth
 * request: nanoseconds per sb_progress_note (sessionbridge/progress.h),
 * no flusher running, for
 *   seen        a user already noted this second (the common case: a
 *               browser sends several requests a second), 1 thread;
 *   seen-2thr   the same from 2 threads on the same users (shared cache
 *               lines);
 *   first       a user's first request of the second (one CAS);
 *   refused     a 401 (only the per-minute and error counters).
 *
 * Usage: bench_progress [ROUNDS]  (default 200; prints one line each) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sessionbridge/progress.h"

#define USERS 2000

static struct sb_config cfg;
static struct sb_profile profiles[2];
static struct sb_bridge_auth auths[USERS];
static unsigned rounds;

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* USERS answers: every other one holds the new credential. */
static void setup(void)
{
    size_t i;
    char subject[32];

    profiles[0].name = "legacy";
    profiles[1].name = "new";
    cfg.profiles = profiles;
    cfg.profile_count = 2;
    cfg.route_legacy = "legacy";
    cfg.route_new = "new";
    for (i = 0; i < USERS; i++) {
        snprintf(subject, sizeof(subject), "user-%zu", i);
        auths[i].s.subject = strdup(subject);
        auths[i].used = &profiles[i % 2];
    }
}

static void *seen_loop(void *unused)
{
    unsigned r;
    size_t i;

    for (r = 0; r < rounds; r++) {
        for (i = 0; i < USERS; i++)
            sb_progress_note(&cfg, &auths[i], SB_OK);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t[2];
    double t0, ns;
    size_t i;

    rounds = argc > 1 && atoi(argv[1]) > 0 ? (unsigned)atoi(argv[1]) : 200;
    setup();
    t0 = now_ns();
    for (i = 0; i < USERS; i++)
        sb_progress_note(&cfg, &auths[i], SB_OK);
    ns = (now_ns() - t0) / USERS;
    printf("first       %6.1f ns/request (%d distinct users)\n", ns, USERS);
    t0 = now_ns();
    seen_loop(NULL);
    ns = (now_ns() - t0) / ((double)rounds * USERS);
    printf("seen        %6.1f ns/request\n", ns);
    t0 = now_ns();
    pthread_create(&t[0], NULL, seen_loop, NULL);
    pthread_create(&t[1], NULL, seen_loop, NULL);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    ns = (now_ns() - t0) / ((double)rounds * USERS);
    printf("seen-2thr   %6.1f ns/request (wall time per request, 2 threads)\n",
           ns);
    t0 = now_ns();
    for (i = 0; i < (size_t)rounds * USERS; i++)
        sb_progress_note(&cfg, &auths[i % USERS], SB_ERR_BAD_SIGNATURE);
    ns = (now_ns() - t0) / ((double)rounds * USERS);
    printf("refused     %6.1f ns/request\n", ns);
    return 0;
}
