/* Lock class "ticket": the registry's wrapper around contend/lock/ticket.h. */
#include "contend/lock/ticket.h"

#include "contend/lock.h"
#include "lock_classes.h"

static int cls_init(void *lock)
{
    ct_ticket_init((ct_ticket_lock_t *)lock);
    return 0;
}

static void cls_destroy(void *lock) { (void)lock; }

static void cls_lock(void *lock, void *node)
{
    (void)node;
    ct_ticket_lock((ct_ticket_lock_t *)lock);
}

static bool cls_trylock(void *lock, void *node)
{
    (void)node;
    return ct_ticket_trylock((ct_ticket_lock_t *)lock);
}

static void cls_unlock(void *lock, void *node)
{
    (void)node;
    ct_ticket_unlock((ct_ticket_lock_t *)lock);
}

const ct_lock_class ct_lock_ticket = {
    .name = "ticket",
    .summary = "fair (FIFO), spins (ticket counters; collapses past the cores)",
    .size = sizeof(ct_ticket_lock_t),
    .node_size = 0,
    .init = cls_init,
    .destroy = cls_destroy,
    .lock = cls_lock,
    .trylock = cls_trylock,
    .unlock = cls_unlock,
};
