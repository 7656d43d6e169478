/* Lock class "futex": the registry's wrapper around contend/lock/futex.h. */
#include "contend/lock/futex.h"

#include "contend/lock.h"
#include "lock_classes.h"

static int cls_init(void *lock)
{
    ct_futex_init((ct_futex_lock_t *)lock);
    return 0;
}

static void cls_destroy(void *lock) { (void)lock; }

static void cls_lock(void *lock, void *node)
{
    (void)node;
    ct_futex_lock((ct_futex_lock_t *)lock);
}

static bool cls_trylock(void *lock, void *node)
{
    (void)node;
    return ct_futex_trylock((ct_futex_lock_t *)lock);
}

static void cls_unlock(void *lock, void *node)
{
    (void)node;
    ct_futex_unlock((ct_futex_lock_t *)lock);
}

const ct_lock_class ct_lock_futex = {
    .name = "futex",
    .summary = "unfair, short spin then sleeps (Drepper three-state futex mutex)",
    .size = sizeof(ct_futex_lock_t),
    .node_size = 0,
    .init = cls_init,
    .destroy = cls_destroy,
    .lock = cls_lock,
    .trylock = cls_trylock,
    .unlock = cls_unlock,
};
