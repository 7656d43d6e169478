/* contend/lock/adaptive.h: adaptive mutex: one spinner at a time, everyone else sleeps.
 *
 * Goal: the latency of a spinlock when a handoff is imminent, the CPU thrift of a futex mutex
 * otherwise, and no collapse when threads outnumber cores (8 threads on 2 cores must run at
 * least as fast as the three-state futex mutex and glibc's pthread_mutex_t).
 *
 * Sources. The design combines:
 *  - WebKit's WTF::Lock and Rust's parking_lot (F. Pizlo, "Locking in WebKit", 2016;
 *    Amanieu d'Antras, parking_lot): a few bits of lock word, barging allowed, spin a bounded
 *    time, then park; eventual fairness by direct handoff after a waiter has starved.
 *  - Go's sync.Mutex (mutexWoken and starvation mode, Go 1.9): a "woken" bit tells the unlocker
 *    that an awake thread is already on its way, so it need not wake another. Here that bit
 *    doubles as the spinner token: at most ONE thread spins at a time, the others park at once.
 *    That is what keeps the lock from collapsing past the core count: at most holder + spinner
 *    compete for CPUs, so on 2 cores the two runnable threads are exactly the two that matter,
 *    and parked threads cost no CPU. Linux's mutex gets the same effect from its single
 *    optimistic spinner (the OSQ).
 *  - Spin with plain loads, CAS only when the lock is seen free: a CAS takes the line
 *    exclusive even when it fails, stealing it from the holder (LLVM libc PR #92168 on its
 *    mutex; the test-and-test-and-set argument of Anderson 1990).
 *  - Spin about as long as a sleep/wake round trip costs (ct_wait_adaptive_spins()): spinning
 *    longer costs more CPU than sleeping would; shorter sleeps needlessly (the two-competitive
 *    argument of Karlin et al., "Empirical studies of competitive spinning", SOSP 1991).
 *
 * State: one 32-bit word (LOCKED, SPINNER, STARVE, waiters) plus a wake-token count.
 *   LOCKED   someone holds the lock
 *   SPINNER  an awake contender exists: a spinner, or a parked thread an unlock has chosen and
 *            woken. Whoever owns it releases it when it acquires or parks. Unlock never wakes
 *            anyone while it is set: that thread will take the lock.
 *   STARVE   a woken waiter failed to get the lock for CT_ADAPTIVE_STARVE_NS: handoff mode.
 *            Unlock passes the lock straight to a parked thread; nobody barges or spins.
 *   waiters  threads parked, or about to park, on the token count (state >> 3)
 *   tokens   futex word parked threads sleep on: a counting semaphore. Each token is posted
 *            together with one decrement of waiters (or one handoff) and consumed by exactly
 *            one parked thread, so none is lost and none is left over.
 * Transitions (normal mode):
 *   acquire  (0, s, 0, w) -> (1, s', 0, w)   any thread that sees the lock free (barging);
 *                                            s' = 0 if the acquirer owned SPINNER
 *   spin     (1, 0, 0, w) -> (1, 1, 0, w)    a contender becomes the one spinner
 *   park     (1, s, 0, w) -> (1, 0, t, w+1)  only while LOCKED, so a holder exists whose
 *                                            unlock will see the waiter; s = 0 if the parker
 *                                            owned SPINNER, t = 1 if it is starving
 *   unlock   (1, s, 0, w) -> (0, s, 0, w)    then if s == 0 and w > 0:
 *   wake     (0, 0, 0, w) -> (0, 1, 0, w-1)  + post a token; the woken thread owns SPINNER
 * Handoff mode (STARVE set; SPINNER is then clear, as only a starving SPINNER owner sets it):
 *   unlock   (1, 0, 1, w) -> (0, 0, 1, w)    + post a token (w >= 1 by invariant)
 *   handoff  (0, 0, 1, w) -> (1, 0, t, w-1)  the woken thread takes the lock; t = 0 (back to
 *                                            normal) if it was the last waiter or had not
 *                                            starved itself
 * Invariants: (1) no lost wakeup: whenever waiters > 0 and the lock is released, either
 * SPINNER is set (an awake thread will retry), or the unlock posts a token, or the lock was
 * retaken first (that holder's unlock will check again). (2) at most one thread owns SPINNER.
 * (3) STARVE implies SPINNER clear and, while the lock is held, waiters >= 1.
 *
 * Fairness: unfair by design in normal mode (barging and a preferred spinner give the best
 * throughput: the lock rarely goes to a thread that is not running), bounded by handoff mode:
 * a waiter that has been woken and still failed for CT_ADAPTIVE_STARVE_NS turns the lock into
 * a FIFO handoff (futex wakes in arrival order) until the queue drains of starved waiters.
 *
 * Past the core count: parked threads consume nothing; at most one thread spins, for about one
 * sleep/wake round trip, so a preempted holder wastes at most that much of one CPU.
 *
 * Lifetime: unlock may touch the lock word and the token word after releasing the lock (as
 * glibc's mutex does), so free the lock only once every thread that used it has returned from
 * its last unlock.
 */
#ifndef CONTEND_LOCK_ADAPTIVE_H
#define CONTEND_LOCK_ADAPTIVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "contend/arch.h"
#include "contend/chaos.h"
#include "contend/wait.h"

#define CT_ADAPTIVE_LOCKED 1u
#define CT_ADAPTIVE_SPINNER 2u
#define CT_ADAPTIVE_STARVE 4u
#define CT_ADAPTIVE_WAITER 8u /* one parked thread: waiters = state / CT_ADAPTIVE_WAITER */

/* How long a woken waiter may fail to get the lock before it asks for handoff mode (Go uses
 * 1 ms, parking_lot 0.5 ms on average): long enough that handoff (a sleep/wake per
 * acquisition) is rare, short enough that nobody starves for long. */
#define CT_ADAPTIVE_STARVE_NS 1000000u

typedef struct ct_adaptive_lock {
    _Atomic uint32_t state;  /* LOCKED | SPINNER | STARVE | waiters * CT_ADAPTIVE_WAITER */
    _Atomic uint32_t tokens; /* wake tokens; the futex word parked threads sleep on */
} ct_adaptive_lock_t;

#define CT_ADAPTIVE_LOCK_INIT {0, 0}

/* Slow paths, in src/locks/adaptive.c (they read the clock and call into wait.c). */
void ct__adaptive_lock_slow(ct_adaptive_lock_t *l, uint32_t seen);
void ct__adaptive_unlock_slow(ct_adaptive_lock_t *l, uint32_t seen);

/* Initializes the lock and, on first use in the process, calibrates the spin budget (a few
 * ms, once) so that the first contended acquisition does not pay for it. */
void ct_adaptive_init(ct_adaptive_lock_t *l);

static inline bool ct_adaptive_trylock(ct_adaptive_lock_t *l)
{
    /* Relaxed: only picks the value to CAS from; the CAS acquires. */
    uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
    /* Free means not LOCKED and not reserved for a handoff (STARVE). Acquire on success pairs
     * with the release fetch_sub in ct_adaptive_unlock(): every later RMW on state continues
     * that release sequence, so reading any of them still synchronizes with it. On failure the
     * CAS reloads s (relaxed) and we retry while the lock still looks free, so trylock fails
     * only when the lock is really taken. */
    while (!(s & (CT_ADAPTIVE_LOCKED | CT_ADAPTIVE_STARVE))) {
        if (atomic_compare_exchange_weak_explicit(&l->state, &s, s | CT_ADAPTIVE_LOCKED,
                                                  memory_order_acquire, memory_order_relaxed))
            return true;
    }
    return false;
}

static inline void ct_adaptive_lock(ct_adaptive_lock_t *l)
{
    uint32_t s = 0;
    /* Fast path (0, 0, 0, 0) -> (1, 0, 0, 0). Acquire pairs with the release fetch_sub in
     * ct_adaptive_unlock(). Relaxed on failure: s only seeds the slow path. */
    if (atomic_compare_exchange_strong_explicit(&l->state, &s, CT_ADAPTIVE_LOCKED,
                                                memory_order_acquire, memory_order_relaxed))
        return;
    ct__adaptive_lock_slow(l, s);
}

static inline void ct_adaptive_unlock(ct_adaptive_lock_t *l)
{
    /* Release: the critical section completes before LOCKED clears; pairs with the acquire
     * CAS of the next owner (fast path, trylock, slow path or handoff). A fetch_sub, not a
     * store, because other bits change concurrently and we must see them atomically with the
     * release; LOCKED is set (we hold it), so subtracting it never borrows. On x86 this is one
     * LOCK XADD, like glibc's unlock exchange. */
    uint32_t s = atomic_fetch_sub_explicit(&l->state, CT_ADAPTIVE_LOCKED, memory_order_release) -
                 CT_ADAPTIVE_LOCKED;
    /* Nobody parked, or an awake thread (SPINNER) will take it: done, no system call. */
    if (s < CT_ADAPTIVE_WAITER || (s & CT_ADAPTIVE_SPINNER))
        return;
    ct__adaptive_unlock_slow(l, s);
}

#endif
