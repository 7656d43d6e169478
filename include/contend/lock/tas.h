/* contend/lock/tas.h: test-and-set spinlock.
 *
 * Algorithm: the oldest spinlock. Every attempt, spinning ones included, is an atomic exchange
 * of 1 into the lock word; whoever reads back 0 owns the lock. It is the baseline the others
 * improve on: T. E. Anderson, "The performance of spin lock alternatives for shared-memory
 * multiprocessors", IEEE TPDS 1(1), 1990, measures why it scales worst: each exchange needs
 * the line in exclusive state, so N waiters keep stealing the line from each other and from
 * the holder, and the holder's release waits in that queue too.
 *
 * State (the lock word):
 *   0  free
 *   1  held; who holds it is not recorded
 *   transitions: lock 0 -> 1 (exchange reads 0), unlock 1 -> 0 (store, holder only).
 * Invariant: at most one thread has read 0 from an exchange since the last unlock store.
 *
 * Fairness: none. Whichever exchange reaches the line first after the release wins, which
 * favours the releasing thread (its cache still holds the line) and nearby cores.
 *
 * Past the core count: waiters burn whole time slices; when the holder is preempted every
 * waiter spins uselessly until the scheduler runs the holder again. Use a sleeping lock there.
 */
#ifndef CONTEND_LOCK_TAS_H
#define CONTEND_LOCK_TAS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "contend/arch.h"
#include "contend/chaos.h"

typedef struct ct_tas_lock {
    _Atomic uint32_t word; /* 0 free, 1 held */
} ct_tas_lock_t;

#define CT_TAS_LOCK_INIT {0}

static inline void ct_tas_init(ct_tas_lock_t *l)
{
    /* Relaxed: initialization happens before the lock is shared, and whatever shares it (a
     * thread start, a release store of a pointer) carries the ordering. */
    atomic_store_explicit(&l->word, 0, memory_order_relaxed);
}

static inline bool ct_tas_trylock(ct_tas_lock_t *l)
{
    /* Acquire: reading 0 means we read the 0 stored by the release in ct_tas_unlock(), so the
     * previous holder's critical section happens-before ours. */
    return atomic_exchange_explicit(&l->word, 1, memory_order_acquire) == 0;
}

static inline void ct_tas_lock(ct_tas_lock_t *l)
{
    /* Acquire on the winning exchange pairs with the release in ct_tas_unlock(); a losing
     * exchange wrote 1 over 1 and orders nothing, which is fine since we retry. */
    while (atomic_exchange_explicit(&l->word, 1, memory_order_acquire) != 0) {
        CT_CHAOS();
        ct_cpu_relax();
    }
}

static inline void ct_tas_unlock(ct_tas_lock_t *l)
{
    /* Release: our critical section's reads and writes complete before the 0 is visible;
     * pairs with the acquire exchange in ct_tas_lock()/ct_tas_trylock(). */
    atomic_store_explicit(&l->word, 0, memory_order_release);
}

#endif
