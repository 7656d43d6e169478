/* contend/lock/futex.h: three-state futex mutex (sleeps).
 *
 * Algorithm: the three-state mutex of U. Drepper, "Futexes Are Tricky", Red Hat, 2004 (rev.
 * 2011), in its final form ("Mutex, Take 3": the lock slow path exchanges in 2), the design
 * behind glibc's low-level lock (lll_lock/lll_unlock). The lock word records not just
 * held/free but whether anyone MAY be asleep, so an uncontended unlock is one atomic and no
 * system call. The unlock here is the exchange form glibc uses (one atomic instead of the
 * paper's decrement, then store).
 *
 * State (the lock word, also the futex word):
 *   0  free
 *   1  held, no waiters
 *   2  held, waiters possible (some thread may be in FUTEX_WAIT or on its way there)
 *   lock fast path:   0 -> 1 by CAS.
 *   lock slow path:   exchange in 2; reading 0 means we took it (as "2": we cannot know if
 *                     others still sleep, so we keep the conservative state); reading 1 or 2
 *                     means sleep while the word is 2, then exchange again.
 *   unlock:           exchange in 0; if the old value was 2, wake one sleeper.
 * Invariants: whenever a thread sleeps in FUTEX_WAIT on the word, the word was 2 when the
 * kernel queued it, and every unlock that sees 2 wakes one. A thread that wrote 2 and then
 * acquired never downgrades to 1, so a sleeper's wakeup is never skipped; the price is a
 * possibly useless wake (system call) from the last waiter's own unlock.
 *
 * Short spin: before declaring itself a waiter, a contending thread spins up to
 * CT_FUTEX_LOCK_SPINS plain loads while the word is 1 (held, nobody asleep), as Rust's std
 * futex mutex does, because a short critical section often ends sooner than a sleep would.
 * It does not spin once the word is 2: there are sleepers, the unlock will wake one, and
 * spinning would only compete with it.
 *
 * Fairness: none. A running thread can take the lock between an unlock and the woken
 * sleeper's return (barging); FUTEX_WAKE itself wakes in roughly FIFO order.
 *
 * Past the core count: waiters sleep, so a preempted holder costs no CPU, only latency. Under
 * heavy contention the word stays 2 and many unlocks pay a FUTEX_WAKE system call whose woken
 * thread often finds the lock retaken and goes back to sleep: that churn is what the adaptive
 * lock (contend/lock/adaptive.h) is built to avoid.
 *
 * Lifetime: ct_futex_unlock() calls FUTEX_WAKE on the word after releasing it, so (as with
 * glibc's lock) free the lock only once every thread that used it has returned from its last
 * unlock (joined, or synchronized with after that return). The wake on freed memory is
 * harmless to the kernel but not to memory reused as another futex.
 */
#ifndef CONTEND_LOCK_FUTEX_H
#define CONTEND_LOCK_FUTEX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "contend/arch.h"
#include "contend/chaos.h"
#include "contend/wait.h"

/* Plain loads spent waiting for a held-without-waiters lock to be released (Rust std uses
 * 100). At ~10-40 ns per pause that is 1-4 us, about one sleep/wake round trip. */
#define CT_FUTEX_LOCK_SPINS 100u

typedef struct ct_futex_lock {
    _Atomic uint32_t word; /* 0 free, 1 held, 2 held + waiters possible */
} ct_futex_lock_t;

#define CT_FUTEX_LOCK_INIT {0}

static inline void ct_futex_init(ct_futex_lock_t *l)
{
    /* Relaxed: the lock is not shared yet; whatever shares it carries the ordering. */
    atomic_store_explicit(&l->word, 0, memory_order_relaxed);
}

static inline bool ct_futex_trylock(ct_futex_lock_t *l)
{
    uint32_t expect = 0;
    /* 0 -> 1. Acquire on success pairs with the release exchange in ct_futex_unlock(). */
    return atomic_compare_exchange_strong_explicit(&l->word, &expect, 1, memory_order_acquire,
                                                   memory_order_relaxed);
}

static inline void ct__futex_lock_slow(ct_futex_lock_t *l, uint32_t c)
{
    /* Short spin while held without waiters. Relaxed: these loads only decide when to retry;
     * the CAS that follows does the acquiring. */
    for (uint32_t i = 0; c == 1 && i < CT_FUTEX_LOCK_SPINS; i++) {
        ct_cpu_relax();
        c = atomic_load_explicit(&l->word, memory_order_relaxed);
    }
    if (c == 0) {
        /* Freed while we spun: 0 -> 1, acquire pairing with the release exchange in
         * ct_futex_unlock(). On failure c gets the current value and we go on to sleep. */
        if (atomic_compare_exchange_strong_explicit(&l->word, &c, 1, memory_order_acquire,
                                                    memory_order_relaxed))
            return;
    }
    CT_CHAOS();
    /* Declare ourselves a waiter. Acquire: if the old value was 0 we now hold the lock (in
     * state 2), having read the release exchange of ct_futex_unlock(). */
    if (c != 2)
        c = atomic_exchange_explicit(&l->word, 2, memory_order_acquire);
    while (c != 0) {
        /* Sleeps only if the word is still 2 when the kernel looks: an unlock in between makes
         * the wait return at once (no lost wakeup). */
        ct_futex_wait(&l->word, 2, 0);
        CT_CHAOS();
        /* Same acquire pairing as above. We write 2, not 1: other sleepers may remain. */
        c = atomic_exchange_explicit(&l->word, 2, memory_order_acquire);
    }
}

static inline void ct_futex_lock(ct_futex_lock_t *l)
{
    uint32_t c = 0;
    /* Fast path 0 -> 1. Acquire pairs with the release exchange in ct_futex_unlock(). Relaxed
     * on failure: c is only a hint for the slow path. */
    if (atomic_compare_exchange_strong_explicit(&l->word, &c, 1, memory_order_acquire,
                                                memory_order_relaxed))
        return;
    ct__futex_lock_slow(l, c);
}

static inline void ct_futex_unlock(ct_futex_lock_t *l)
{
    /* Release: the critical section completes before the 0 is visible; pairs with the
     * acquire CAS/exchange of the next locker. An exchange, not a store, because we must know
     * atomically whether the word was 2 (someone may sleep). */
    if (atomic_exchange_explicit(&l->word, 0, memory_order_release) == 2) {
        CT_CHAOS();
        ct_futex_wake(&l->word, 1);
    }
}

#endif
