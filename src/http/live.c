/* live.c - the live configuration: installed by the main thread at start
 * and on SIGHUP, picked up by each worker thread on its next request. */
#include "http.h"

#include <pthread.h>
#include <stdatomic.h>

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sb_config *live;        /* the process's reference */
static atomic_uint live_generation;   /* bumped on every install */

static __thread struct sb_config *thread_cfg; /* this thread's reference */
static __thread unsigned thread_generation;

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t release_key;

/* Thread exit: drop the thread's reference so old configs are freed. */
static void release_at_exit(void *unused)
{
    sb_live_thread_release();
}

static void make_key(void)
{
    pthread_key_create(&release_key, release_at_exit);
}

void sb_live_install(struct sb_config *cfg)
{
    struct sb_config *old;

    pthread_mutex_lock(&live_lock);
    old = live;
    live = cfg;
    atomic_fetch_add(&live_generation, 1);
    pthread_mutex_unlock(&live_lock);
    sb_config_unref(old);
}

unsigned sb_live_generation(void)
{
    return atomic_load(&live_generation);
}

const struct sb_config *sb_live_config(void)
{
    unsigned gen = atomic_load_explicit(&live_generation, memory_order_acquire);

    if (thread_cfg != NULL && gen == thread_generation)
        return thread_cfg;
    pthread_once(&key_once, make_key);
    pthread_setspecific(release_key, (void *)1);
    pthread_mutex_lock(&live_lock);
    sb_config_unref(thread_cfg);
    thread_cfg = live ? sb_config_ref(live) : NULL;
    thread_generation = atomic_load(&live_generation);
    pthread_mutex_unlock(&live_lock);
    return thread_cfg;
}

void sb_live_thread_release(void)
{
    sb_config_unref(thread_cfg);
    thread_cfg = NULL;
    thread_generation = 0;
}

void sb_live_shutdown(void)
{
    sb_live_thread_release();
    pthread_mutex_lock(&live_lock);
    sb_config_unref(live);
    live = NULL;
    pthread_mutex_unlock(&live_lock);
}
