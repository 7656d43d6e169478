/* contend/lock/ttas.h: test-and-test-and-set spinlock with bounded exponential backoff.
 *
 * Algorithm: Rudolph & Segall (1984) "test-and-test-and-set", with the exponential backoff
 * that T. E. Anderson, "The performance of spin lock alternatives for shared-memory
 * multiprocessors", IEEE TPDS 1(1), 1990, shows is needed on top of it. Waiters spin on
 * plain loads, which hit their own cached (shared) copy of the line and generate no traffic
 * while the lock is held; only when a load sees 0 do they try the exchange. When the holder
 * releases, every waiter sees 0 at once and all exchange together (the "thundering herd");
 * the losers back off for a growing, bounded number of pauses (ct_backoff_spin: 1, 2, 4 ...
 * 2^CT_BACKOFF_SPIN_STEPS) so the winner's critical section is not slowed by the herd
 * stealing its line back.
 *
 * State (the lock word):
 *   0  free
 *   1  held
 *   transitions: lock 0 -> 1 (exchange reads 0), unlock 1 -> 0 (store, holder only).
 * Invariant: at most one thread has read 0 from an exchange since the last unlock store.
 *
 * Fairness: none; backoff makes it less fair still (a waiter deep in backoff loses to fresh
 * arrivals). Starvation is possible in theory, rare in practice.
 *
 * Past the core count: spins, never yields, so a preempted holder stalls every waiter for the
 * rest of their time slices. Better than a ticket lock there (any running waiter can take the
 * lock once the holder runs again; there is no fixed successor), still far worse than a lock
 * that sleeps.
 */
#ifndef CONTEND_LOCK_TTAS_H
#define CONTEND_LOCK_TTAS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "contend/arch.h"
#include "contend/chaos.h"
#include "contend/wait.h"

typedef struct ct_ttas_lock {
    _Atomic uint32_t word; /* 0 free, 1 held */
} ct_ttas_lock_t;

#define CT_TTAS_LOCK_INIT {0}

static inline void ct_ttas_init(ct_ttas_lock_t *l)
{
    /* Relaxed: the lock is not shared yet; whatever shares it carries the ordering. */
    atomic_store_explicit(&l->word, 0, memory_order_relaxed);
}

static inline bool ct_ttas_trylock(ct_ttas_lock_t *l)
{
    /* Test first (relaxed: only a hint, it orders nothing) so a failing trylock on a held
     * lock does not take the line exclusive. The acquire exchange is the real attempt; reading
     * 0 pairs with the release store in ct_ttas_unlock(). */
    if (atomic_load_explicit(&l->word, memory_order_relaxed) != 0)
        return false;
    return atomic_exchange_explicit(&l->word, 1, memory_order_acquire) == 0;
}

static inline void ct__ttas_lock_slow(ct_ttas_lock_t *l)
{
    ct_backoff b = CT_BACKOFF_INIT;
    for (;;) {
        /* Test: relaxed loads, local to our cache until the holder's release store
         * invalidates the line. Relaxed is enough because the exchange below, not this load,
         * is what acquires. */
        while (atomic_load_explicit(&l->word, memory_order_relaxed) != 0)
            ct_cpu_relax();
        CT_CHAOS();
        /* Test-and-set: acquire pairs with the release store in ct_ttas_unlock(). */
        if (atomic_exchange_explicit(&l->word, 1, memory_order_acquire) == 0)
            return;
        CT_CHAOS();
        ct_backoff_spin(&b); /* lost to another waiter: let the winner run */
    }
}

static inline void ct_ttas_lock(ct_ttas_lock_t *l)
{
    /* Fast path: one exchange on a free lock. Acquire pairs with the release store in
     * ct_ttas_unlock(). */
    if (atomic_exchange_explicit(&l->word, 1, memory_order_acquire) == 0)
        return;
    ct__ttas_lock_slow(l);
}

static inline void ct_ttas_unlock(ct_ttas_lock_t *l)
{
    /* Release: the critical section completes before the 0 is visible; pairs with the acquire
     * exchange in ct_ttas_lock()/ct_ttas_trylock(). */
    atomic_store_explicit(&l->word, 0, memory_order_release);
}

#endif
