/* Lock class "mcs": the registry's wrapper around contend/lock/mcs.h. The node argument is
 * the caller's ct_mcs_node_t (node_size bytes, aligned to CT_CACHE_LINE), the same one for a
 * lock/trylock and its unlock. */
#include "contend/lock/mcs.h"

#include "contend/lock.h"
#include "lock_classes.h"

static int cls_init(void *lock)
{
    ct_mcs_init((ct_mcs_lock_t *)lock);
    return 0;
}

static void cls_destroy(void *lock) { (void)lock; }

static void cls_lock(void *lock, void *node) { ct_mcs_lock((ct_mcs_lock_t *)lock, node); }

static bool cls_trylock(void *lock, void *node)
{
    return ct_mcs_trylock((ct_mcs_lock_t *)lock, node);
}

static void cls_unlock(void *lock, void *node) { ct_mcs_unlock((ct_mcs_lock_t *)lock, node); }

const ct_lock_class ct_lock_mcs = {
    .name = "mcs",
    .summary = "fair (FIFO), spins on its own queue node (MCS; collapses past the cores)",
    .size = sizeof(ct_mcs_lock_t),
    .node_size = sizeof(ct_mcs_node_t),
    .init = cls_init,
    .destroy = cls_destroy,
    .lock = cls_lock,
    .trylock = cls_trylock,
    .unlock = cls_unlock,
};
