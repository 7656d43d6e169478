/* Lock class "pthread-mutex": the baseline, glibc's pthread_mutex_t with default attributes
 * (on Linux a futex mutex much like contend/lock/futex.h, without the spin). */
#include <pthread.h>

#include "contend/lock.h"
#include "lock_classes.h"

static int cls_init(void *lock) { return pthread_mutex_init((pthread_mutex_t *)lock, NULL); }

static void cls_destroy(void *lock) { pthread_mutex_destroy((pthread_mutex_t *)lock); }

static void cls_lock(void *lock, void *node)
{
    (void)node;
    pthread_mutex_lock((pthread_mutex_t *)lock);
}

static bool cls_trylock(void *lock, void *node)
{
    (void)node;
    return pthread_mutex_trylock((pthread_mutex_t *)lock) == 0;
}

static void cls_unlock(void *lock, void *node)
{
    (void)node;
    pthread_mutex_unlock((pthread_mutex_t *)lock);
}

const ct_lock_class ct_lock_pthread_mutex = {
    .name = "pthread-mutex",
    .summary = "unfair, sleeps (glibc pthread_mutex_t, default attributes)",
    .size = sizeof(pthread_mutex_t),
    .node_size = 0,
    .init = cls_init,
    .destroy = cls_destroy,
    .lock = cls_lock,
    .trylock = cls_trylock,
    .unlock = cls_unlock,
};
