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
 *    mutex; the test-and-test-and-set argument of Anderson 1990). Even the fast path loads
 *    before its CAS, and polls are spaced out as a wait grows.
 *  - Before claiming the spinner token, a contender polls a lock that is merely held (no
 *    spinner, nobody parked) for ~1.5 us, like the futex mutex's short spin: most short
 *    critical sections end within that, and the claim would cost a CAS on the holder's line.
 *  - Spin about as long as a sleep/wake round trip costs (ct_wait_adaptive_spins()): spinning
 *    longer costs more CPU than sleeping would; shorter sleeps needlessly (the two-competitive
 *    argument of Karlin et al., "Empirical studies of competitive spinning", SOSP 1991).
 *
 * State: one 32-bit word (LOCKED, SPINNER, STARVE, waiters) plus a wake-token count.
 *   LOCKED   someone holds the lock
 *   SPINNER  an awake contender exists: a spinner, or a parked thread an unlock has chosen and
 *            woken. Whoever owns it releases it when it acquires or parks. Unlock never wakes
 *            anyone while it is set: that thread will take the lock.
 *   STARVE   a woken waiter failed to get the lock for CT_ADAPTIVE_STARVE_NS and reserved
 *            the next release: unlock hands the lock straight to it (handoff word); nobody
 *            else takes, spins on or is woken for the lock until it has.
 *   waiters  threads parked or about to park (state >> 3), the starving one included
 *   tokens   futex word parked threads sleep on: a counting semaphore. Each token is posted
 *            together with one decrement of waiters and consumed by exactly one parked
 *            thread, so none is lost and none is left over. Which parked thread gets it is
 *            not controlled (a thread parking just then can take it first), which is why the
 *            handoff goes through its own word: only the starving thread waits on it.
 * Tuples below are (LOCKED, SPINNER, STARVE, waiters).
 * Transitions (normal mode):
 *   acquire  (0, s, 0, w) -> (1, s', 0, w)   any thread that sees the lock free (barging);
 *                                            s' = 0 if the acquirer owned SPINNER
 *   spin     (1, 0, 0, w) -> (1, 1, 0, w)    a contender becomes the one spinner
 *   park     (1, s, 0, w) -> (1, 0, t, w+1)  only while LOCKED, so a holder exists whose
 *                                            unlock will see the waiter; s = 0 if the parker
 *                                            owned SPINNER, t = 1 if it is starving
 *   unlock   (1, s, 0, w) -> (0, s, 0, w)    then if s == 0 and w > 0:
 *   wake     (0, 0, 0, w) -> (0, 1, 0, w-1)  + post a token; the woken thread owns SPINNER
 *   starve   (1, 1, 0, w) -> (1, 0, 1, w+1)  the SPINNER owner, woken at least once and
 *                                            waiting for CT_ADAPTIVE_STARVE_NS, parks on the
 *                                            handoff word instead of the tokens
 * Handoff mode (STARVE set; SPINNER is then clear, as only the SPINNER owner sets STARVE):
 *   park     (x, 0, 1, w) -> (x, 0, 1, w+1)  every contender parks at once, no spinning
 *   unlock   (1, 0, 1, w) -> (0, 0, 1, w)    + handoff := 1, wake the starving thread
 *   handoff  (0, 0, 1, w) -> (1, 0, 0, w-1)  it takes the reserved lock; normal mode again
 * Invariants: (1) no lost wakeup: whenever waiters > 0 and the lock is released, either
 * SPINNER is set (an awake thread will retry), or the unlock posts a token or a handoff, or
 * the lock was retaken first (that holder's unlock will check again). (2) at most one thread
 * owns SPINNER. (3) STARVE implies SPINNER clear, waiters >= 1, and exactly one thread
 * waiting on (or about to read) the handoff word; handoff is 0 outside a handoff.
 *
 * Fairness: unfair by design in normal mode (barging and a preferred spinner give the best
 * throughput: the lock rarely goes to a thread that is not running), bounded by handoff: a
 * waiter that has been woken and still failed for CT_ADAPTIVE_STARVE_NS gets the next release
 * directly. Best effort, not a guarantee: which parked thread a wake reaches is the kernel's
 * (roughly FIFO) choice, and a thread parking at that moment may take the token first.
 *
 * Past the core count: parked threads consume nothing; at most one thread spins for long
 * (about one sleep/wake round trip), plus the ~1.5 us short poll that only a contender that
 * finds nobody spinning or parked does, so a preempted holder wastes about one round trip of
 * one CPU, where a spinlock would burn every waiter's whole time slice.
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

/* Tuning, named so it can be argued about (measured on a 2-vCPU AMD EPYC VM, where a PAUSE is
 * ~24 ns and a futex sleep/wake round trip 2-25 us):
 * CT_ADAPTIVE_SHORT_SPINS     pauses a contender polls a merely-held lock (no spinner, nobody
 *                             parked) before it claims SPINNER: ~1.5 us. Polls are spaced
 *                             1, 2, 4 ... CT_ADAPTIVE_SHORT_POLL_MAX pauses apart.
 * CT_ADAPTIVE_SPIN_POLL_MAX   the widest spacing of the SPINNER owner's polls; its whole budget
 *                             is ct_wait_adaptive_spins() pauses (about one round trip).
 * Polling every pause hands over a few ns sooner but pulls the line from the holder on every
 * poll; for empty critical sections that halves throughput (the holder misses on its own
 * lock word each time), so polls thin out as the wait grows. */
#define CT_ADAPTIVE_SHORT_SPINS 64u
#define CT_ADAPTIVE_SHORT_POLL_MAX 16u
#define CT_ADAPTIVE_SPIN_POLL_MAX 64u

/* How long a woken waiter may fail to get the lock before it asks for handoff mode (Go uses
 * 1 ms, parking_lot 0.5 ms on average): long enough that handoff (a sleep/wake per
 * acquisition) is rare, short enough that nobody starves for long. */
#define CT_ADAPTIVE_STARVE_NS 1000000u

typedef struct ct_adaptive_lock {
    _Atomic uint32_t state;   /* LOCKED | SPINNER | STARVE | waiters * CT_ADAPTIVE_WAITER */
    _Atomic uint32_t tokens;  /* wake tokens; the futex word parked threads sleep on */
    _Atomic uint32_t handoff; /* 1: the lock was handed to the starving waiter (futex word) */
} ct_adaptive_lock_t;

#define CT_ADAPTIVE_LOCK_INIT {0, 0, 0}

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
    /* Fast path: load first, CAS only if the lock looks free (a CAS that fails on a held lock
     * would still take the holder's line). Relaxed load: only a hint. The CAS sets LOCKED and
     * keeps the other bits (parked waiters do not stop a barging acquire). Acquire on success
     * pairs with the release fetch_sub in ct_adaptive_unlock(). Relaxed on failure: s only
     * seeds the slow path. */
    uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
    if (!(s & (CT_ADAPTIVE_LOCKED | CT_ADAPTIVE_STARVE)) &&
        atomic_compare_exchange_strong_explicit(&l->state, &s, s | CT_ADAPTIVE_LOCKED,
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
