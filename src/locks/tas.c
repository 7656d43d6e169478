/* Lock class "tas": the registry's wrapper around contend/lock/tas.h. */
#include "contend/lock/tas.h"

#include "contend/lock.h"
#include "lock_classes.h"

static int cls_init(void *lock)
{
    ct_tas_init((ct_tas_lock_t *)lock);
    return 0;
}

static void cls_destroy(void *lock) { (void)lock; }

static void cls_lock(void *lock, void *node)
{
    (void)node;
    ct_tas_lock((ct_tas_lock_t *)lock);
}

static bool cls_trylock(void *lock, void *node)
{
    (void)node;
    return ct_tas_trylock((ct_tas_lock_t *)lock);
}

static void cls_unlock(void *lock, void *node)
{
    (void)node;
    ct_tas_unlock((ct_tas_lock_t *)lock);
}

const ct_lock_class ct_lock_tas = {
    .name = "tas",
    .summary = "unfair, spins (exchange loop, no backoff)",
    .size = sizeof(ct_tas_lock_t),
    .node_size = 0,
    .init = cls_init,
    .destroy = cls_destroy,
    .lock = cls_lock,
    .trylock = cls_trylock,
    .unlock = cls_unlock,
};
