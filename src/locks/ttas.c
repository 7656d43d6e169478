/* Lock class "ttas": the registry's wrapper around contend/lock/ttas.h. */
#include "contend/lock/ttas.h"

#include "contend/lock.h"
#include "lock_classes.h"

static int cls_init(void *lock)
{
    ct_ttas_init((ct_ttas_lock_t *)lock);
    return 0;
}

static void cls_destroy(void *lock) { (void)lock; }

static void cls_lock(void *lock, void *node)
{
    (void)node;
    ct_ttas_lock((ct_ttas_lock_t *)lock);
}

static bool cls_trylock(void *lock, void *node)
{
    (void)node;
    return ct_ttas_trylock((ct_ttas_lock_t *)lock);
}

static void cls_unlock(void *lock, void *node)
{
    (void)node;
    ct_ttas_unlock((ct_ttas_lock_t *)lock);
}

const ct_lock_class ct_lock_ttas = {
    .name = "ttas",
    .summary = "unfair, spins (test-and-test-and-set, bounded exponential backoff)",
    .size = sizeof(ct_ttas_lock_t),
    .node_size = 0,
    .init = cls_init,
    .destroy = cls_destroy,
    .lock = cls_lock,
    .trylock = cls_trylock,
    .unlock = cls_unlock,
};
