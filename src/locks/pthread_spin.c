/* Lock class "pthread-spin": glibc's pthread_spinlock_t (a test-and-test-and-set spinlock
 * without backoff), process-private. */
#include <pthread.h>

#include "contend/lock.h"
#include "lock_classes.h"

static int cls_init(void *lock)
{
    return pthread_spin_init((pthread_spinlock_t *)lock, PTHREAD_PROCESS_PRIVATE);
}

static void cls_destroy(void *lock) { pthread_spin_destroy((pthread_spinlock_t *)lock); }

static void cls_lock(void *lock, void *node)
{
    (void)node;
    pthread_spin_lock((pthread_spinlock_t *)lock);
}

static bool cls_trylock(void *lock, void *node)
{
    (void)node;
    return pthread_spin_trylock((pthread_spinlock_t *)lock) == 0;
}

static void cls_unlock(void *lock, void *node)
{
    (void)node;
    pthread_spin_unlock((pthread_spinlock_t *)lock);
}

const ct_lock_class ct_lock_pthread_spin = {
    .name = "pthread-spin",
    .summary = "unfair, spins (glibc pthread_spinlock_t)",
    .size = sizeof(pthread_spinlock_t),
    .node_size = 0,
    .init = cls_init,
    .destroy = cls_destroy,
    .lock = cls_lock,
    .trylock = cls_trylock,
    .unlock = cls_unlock,
};
