/* The adaptive mutex's slow paths, its membarrier setup and its lock class. The state
 * machine, its invariants, the Dekker argument and the sources are in
 * contend/lock/adaptive.h; the comments here name which transition each atomic performs. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "contend/lock/adaptive.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "contend/lock.h"
#include "lock_classes.h"

#define SPINNER CT_ADAPTIVE_SPINNER
#define STARVE CT_ADAPTIVE_STARVE
#define WAITER CT_ADAPTIVE_WAITER
#define FENCE CT_ADAPTIVE_FENCE

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the asymmetric barrier --------------------------------------------------------- */

static pthread_once_t membarrier_once = PTHREAD_ONCE_INIT;
static bool membarrier_ok;                /* written once, under membarrier_once */
static _Atomic bool force_fence;          /* tests: initialize new locks in FENCE mode */
static _Atomic bool force_degraded;       /* tests: act as if membarrier had failed */

static long sys_membarrier(int cmd) { return syscall(SYS_membarrier, cmd, 0u, 0); }

/* Register this process for MEMBARRIER_CMD_PRIVATE_EXPEDITED (Linux >= 4.14; it covers
 * every thread of the process, present and future). */
static void membarrier_register(void)
{
    long cmds = sys_membarrier(MEMBARRIER_CMD_QUERY);
    membarrier_ok = cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
                    sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}

bool ct__adaptive_force_fence(bool on)
{
    /* Relaxed: only the thread that then initializes locks reads it (tests). */
    atomic_store_explicit(&force_fence, on, memory_order_relaxed);
    pthread_once(&membarrier_once, membarrier_register);
    return membarrier_ok;
}

void ct__adaptive_force_degraded(bool on)
{
    atomic_store_explicit(&force_degraded, on, memory_order_relaxed); /* see force_fence */
}

/* The parker's heavy barrier, between its RMW of state (which returned s) and its recheck of
 * locked: membarrier, a full barrier here and on every CPU running one of our threads (see
 * the header). FENCE mode needs none: the unlocker's RMW and ours order each other. */
static bool heavy_barrier(uint32_t s)
{
    if (s & FENCE)
        return true;
    /* Relaxed: a test switch, set before the threads that read it start. */
    if (atomic_load_explicit(&force_degraded, memory_order_relaxed))
        return false;
    if (sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
        return true;
    /* The lock is in this mode only if the process registered. Should a registration ever
     * be lost (a child after fork() is the one case we know), register again and retry. */
    if (sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 &&
        sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
        return true;
    /* Still failing: the library must not abort, and going on as if the barrier happened
     * could lose a wakeup. Degraded mode for this park (the caller's): every sleep is bounded
     * to DEGRADED_SLEEP_NS and followed by a recheck of locked, doing what a missed unlock
     * would have done. Store buffers drain in far less than that bound, so a missed wakeup
     * costs at most one bound, never a hang (outside the C11 model: the last resort). */
    return false;
}

#define DEGRADED_SLEEP_NS 1000000u

/* ---- the token semaphore ------------------------------------------------------------ */

/* Take one token, sleeping while there is none. Acquire on the decrement pairs with the
 * release increment in post_token(): the waker's update of state happens-before our
 * return. */
static void wait_token(ct_adaptive_lock_t *l, bool degraded)
{
    uint32_t t = atomic_load_explicit(&l->tokens, memory_order_relaxed);
    for (;;) {
        if (t != 0) {
            if (atomic_compare_exchange_weak_explicit(&l->tokens, &t, t - 1,
                                                      memory_order_acquire,
                                                      memory_order_relaxed))
                return;
            continue;
        }
        CT_CHAOS();
        /* Sleeps only while tokens == 0: a post between our load and the sleep makes the
         * kernel's check fail and we return at once (no lost wakeup). */
        if (!degraded) {
            ct_futex_wait(&l->tokens, 0, 0);
        } else if (ct_futex_wait(&l->tokens, 0, now_ns() + DEGRADED_SLEEP_NS) != 0 &&
                   errno == ETIMEDOUT &&
                   !atomic_load_explicit(&l->locked, memory_order_relaxed)) {
            /* Degraded (heavy_barrier()): the lock is free and we may have been missed;
             * do what the unlock would have done (it may post the token to us). */
            ct__adaptive_unlock_slow(l, atomic_load_explicit(&l->state, memory_order_relaxed));
        }
        t = atomic_load_explicit(&l->tokens, memory_order_relaxed);
    }
}

/* Release: pairs with the acquire decrement in wait_token() (see there). */
static void post_token(ct_adaptive_lock_t *l)
{
    atomic_fetch_add_explicit(&l->tokens, 1, memory_order_release);
    CT_CHAOS();
    ct_futex_wake(&l->tokens, 1);
}

/* ---- slow paths --------------------------------------------------------------------- */

/* handoff, second half: the lock is held for the starving thread (locked stays 1, so nobody
 * else takes it); tell it. Release: our critical section, or the one whose release our
 * re-take acquired, happens-before the starving thread's acquire load of handoff. */
static void handoff_give(ct_adaptive_lock_t *l)
{
    atomic_store_explicit(&l->handoff, 1, memory_order_release);
    CT_CHAOS();
    ct_futex_wake(&l->handoff, 1);
}

/* handoff, first half: STARVE was seen with the lock released. Re-take the lock on the
 * starving thread's behalf (the window between the release and this CAS is the only time a
 * barging acquire can still get in). If someone holds it, that holder acquired after the
 * starving thread's recheck or is the one it saw, so its unlock sees STARVE (header). */
static void handoff_released(ct_adaptive_lock_t *l)
{
    /* Acquire: pairs with the last release; we pass its critical section on. */
    uint32_t expect = 0;
    if (!atomic_compare_exchange_strong_explicit(&l->locked, &expect, 1, memory_order_acquire,
                                                 memory_order_relaxed))
        return;
    CT_CHAOS();
    /* Relaxed: if the starving thread took the lock itself meanwhile, its clearing of STARVE
     * happens-before its release, which our acquire read; so a STARVE seen here is current
     * (perhaps a new starving thread's, which waits for exactly this). */
    if (atomic_load_explicit(&l->state, memory_order_relaxed) & STARVE)
        handoff_give(l);
    else
        ct_adaptive_unlock(l); /* nobody to hand to: release what we took, with every check */
}

/* The wake check: run by an unlock that saw waiters and no SPINNER (or FENCE mode) after its
 * release, and by a parker whose recheck found the lock released. */
void ct__adaptive_unlock_slow(ct_adaptive_lock_t *l, uint32_t s)
{
    if (s & FENCE) {
        /* FENCE mode: r1 of the Dekker pair is this RMW's result (adding 0 changes nothing).
         * Release: pairs with the parker's acquire RMW (header), so if its RMW comes after
         * ours, our release store of locked happens-before its recheck. */
        s = atomic_fetch_add_explicit(&l->state, 0, memory_order_release);
    }
    for (;;) {
        if ((s & ~FENCE) < WAITER || (s & SPINNER))
            return; /* nobody to wake, or an awake SPINNER owner will see the waiters */
        if (s & STARVE) {
            handoff_released(l);
            return;
        }
        /* Retaken: its holder acquired after the value the parker's recheck read (or after
         * our release), so its unlock sees the waiters and wakes (header). Relaxed:
         * coherence alone keeps us from reading a value older than our own release (or, in
         * a parker, than the 0 its recheck read). */
        if (atomic_load_explicit(&l->locked, memory_order_relaxed))
            return;
        /* wake: waiters - 1, SPINNER 0 -> 1. Relaxed: bookkeeping; post_token()'s release
         * publishes it to the woken thread. On failure s reloads and we re-decide. */
        if (atomic_compare_exchange_weak_explicit(&l->state, &s, (s - WAITER) | SPINNER,
                                                  memory_order_relaxed, memory_order_relaxed))
            break;
    }
    CT_CHAOS();
    post_token(l);
}

void ct__adaptive_lock_slow(ct_adaptive_lock_t *l)
{
    bool spinner = false;  /* we own SPINNER */
    bool starving = false; /* we have waited CT_ADAPTIVE_STARVE_NS since we first parked */
    uint64_t wait_start = 0;
    uint32_t budget = 0, spun = 0, delay = 1;

    /* short spin: while the lock is merely held (no spinner, nobody parked), poll it a few
     * times before claiming anything. A short critical section often ends sooner than a
     * SPINNER claim would pay off, and the claim is a CAS that takes the line from the holder
     * just before its unlock needs it. Relaxed: only decides when to try; the CAS in the loop
     * acquires. */
    for (uint32_t i = 0, d = 1; i < CT_ADAPTIVE_SHORT_SPINS; i += d) {
        if (!atomic_load_explicit(&l->locked, memory_order_relaxed) ||
            (atomic_load_explicit(&l->state, memory_order_relaxed) & ~FENCE))
            break;
        for (uint32_t k = 0; k < d; k++)
            ct_cpu_relax();
        if (d < CT_ADAPTIVE_SHORT_POLL_MAX)
            d <<= 1;
    }
    for (;;) {
        /* Relaxed: s only decides what to try; each transition is an RMW that re-checks. */
        uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
        /* acquire: the lock looks free and is not reserved for a handoff. Acquire on success
         * pairs with the release store in ct_adaptive_unlock(). Then drop SPINNER if ours
         * (relaxed: bookkeeping; our own unlock's load comes after it). */
        if (!(s & STARVE) && !atomic_load_explicit(&l->locked, memory_order_relaxed)) {
            uint32_t expect = 0;
            if (atomic_compare_exchange_strong_explicit(&l->locked, &expect, 1,
                                                        memory_order_acquire,
                                                        memory_order_relaxed)) {
                if (spinner)
                    atomic_fetch_sub_explicit(&l->state, SPINNER, memory_order_relaxed);
                return;
            }
            continue;
        }
        /* spin: become the one spinner if there is none and no handoff is under way. Relaxed:
         * the bit is bookkeeping that protects no data; the CAS's atomicity is what makes the
         * spinner unique. */
        if (!spinner && !(s & (SPINNER | STARVE))) {
            if (!atomic_compare_exchange_weak_explicit(&l->state, &s, s | SPINNER,
                                                       memory_order_relaxed,
                                                       memory_order_relaxed))
                continue;
            spinner = true;
            spun = 0;
            delay = 1;
        }
        if (spinner) {
            if (budget == 0)
                budget = ct_wait_adaptive_spins();
            if (spun < budget) {
                /* Plain loads until the holder releases, with exponentially spaced polls
                 * (1, 2, 4 ... CT_ADAPTIVE_SPIN_POLL_MAX pauses): each poll pulls the line
                 * away from the holder, so fewer polls leave it a line to work in. Relaxed:
                 * only decides when to try; the acquiring CAS above acquires. */
                do {
                    for (uint32_t i = 0; i < delay; i++)
                        ct_cpu_relax();
                    spun += delay;
                    if (delay < CT_ADAPTIVE_SPIN_POLL_MAX)
                        delay <<= 1;
                } while (atomic_load_explicit(&l->locked, memory_order_relaxed) &&
                         spun < budget);
                CT_CHAOS();
                continue;
            }
        }
        /* park: register as a waiter, dropping SPINNER if ours. starve: a woken waiter (the
         * SPINNER owner, so no other spinner exists and STARVE is clear) that has waited
         * CT_ADAPTIVE_STARVE_NS also reserves the lock (STARVE). This is the parker's RMW of
         * the Dekker pair; acquire pairs with a FENCE-mode unlock's release RMW (header).
         * On failure we re-decide from the top. */
        bool starve = spinner && starving;
        uint32_t want = s + WAITER;
        if (spinner)
            want &= ~SPINNER;
        if (starve)
            want |= STARVE;
        if (!atomic_compare_exchange_weak_explicit(&l->state, &s, want, memory_order_acquire,
                                                   memory_order_relaxed))
            continue;
        /* Covered: the value we replaced shows another thread's SPINNER (ours is not in it
         * unless spinner) or a STARVE; that thread's next RMW of state comes after ours and
         * everything it does next sees us (header). Then no heavy barrier, no recheck. */
        bool covered = !spinner && (s & (SPINNER | STARVE));
        spinner = false;
        if (wait_start == 0)
            wait_start = now_ns();
        CT_CHAOS();
        bool degraded = false;
        if (!covered) {
            degraded = !heavy_barrier(s);
            CT_CHAOS();
            /* The recheck (r2 of the Dekker pair). Relaxed: ordered by the barrier (or, in
             * FENCE mode, by our acquire RMW). Held: the holder's unlock sees us. Free: an
             * unlock may have missed us, so do what it would have done. */
            if (!atomic_load_explicit(&l->locked, memory_order_relaxed)) {
                if (starve) {
                    /* Take the reserved lock ourselves if nobody has (if someone has, its
                     * unlock or a handoff on our behalf tells us through handoff).
                     * Acquire: pairs with the release store in ct_adaptive_unlock(). */
                    uint32_t expect = 0;
                    if (atomic_compare_exchange_strong_explicit(&l->locked, &expect, 1,
                                                                memory_order_acquire,
                                                                memory_order_relaxed)) {
                        /* STARVE -> 0, waiters - 1: ours; normal mode again. Relaxed:
                         * bookkeeping, published by our unlock's release. */
                        atomic_fetch_sub_explicit(&l->state, STARVE + WAITER,
                                                  memory_order_relaxed);
                        return;
                    }
                } else {
                    /* Relaxed: our own RMW is in what we read (coherence). */
                    ct__adaptive_unlock_slow(l, atomic_load_explicit(&l->state,
                                                                     memory_order_relaxed));
                }
            }
        }
        if (starve) {
            /* handoff: wait for the lock to be handed to us. Acquire pairs with the release
             * store in handoff_give(): the previous critical section happens-before ours. */
            while (atomic_load_explicit(&l->handoff, memory_order_acquire) == 0) {
                if (!degraded) {
                    ct_futex_wait(&l->handoff, 0, 0);
                    continue;
                }
                /* Degraded (heavy_barrier()): a bounded sleep, then take the reserved lock
                 * ourselves if it is free (as the recheck above does). Acquire: pairs with
                 * the release store in ct_adaptive_unlock(). */
                ct_futex_wait(&l->handoff, 0, now_ns() + DEGRADED_SLEEP_NS);
                uint32_t expect = 0;
                if (atomic_load_explicit(&l->handoff, memory_order_acquire) == 0 &&
                    atomic_compare_exchange_strong_explicit(&l->locked, &expect, 1,
                                                            memory_order_acquire,
                                                            memory_order_relaxed)) {
                    atomic_fetch_sub_explicit(&l->state, STARVE + WAITER, memory_order_relaxed);
                    return;
                }
            }
            /* Reset for the next handoff. Relaxed: the next handoff's giver is a later
             * holder, ordered after this store by our unlock's release and its acquire. */
            atomic_store_explicit(&l->handoff, 0, memory_order_relaxed);
            /* STARVE -> 0, waiters - 1: we own the lock (locked stayed 1); normal mode again.
             * Relaxed: bookkeeping, published by our unlock's release. */
            atomic_fetch_sub_explicit(&l->state, STARVE + WAITER, memory_order_relaxed);
            return;
        }
        wait_token(l, degraded);
        starving = starving || now_ns() - wait_start >= CT_ADAPTIVE_STARVE_NS;
        /* wake: the waker made us the SPINNER owner (and already counted us out of waiters).
         * Spin again, then compete or park again. */
        spinner = true;
        spun = 0;
        delay = 1;
    }
}

void ct_adaptive_init(ct_adaptive_lock_t *l)
{
    pthread_once(&membarrier_once, membarrier_register);
    bool fence = !membarrier_ok || atomic_load_explicit(&force_fence, memory_order_relaxed);
    /* Relaxed: the lock is not shared yet; whatever shares it carries the ordering. */
    atomic_store_explicit(&l->locked, 0, memory_order_relaxed);
    atomic_store_explicit(&l->state, fence ? FENCE : 0u, memory_order_relaxed);
    atomic_store_explicit(&l->tokens, 0, memory_order_relaxed);
    atomic_store_explicit(&l->handoff, 0, memory_order_relaxed);
    (void)ct_wait_adaptive_spins(); /* calibrate now, not inside the first contended lock */
}

/* ---- lock class --------------------------------------------------------------------- */

CT_LOCK_CLASS_DEFINE(ct_lock_adaptive, "adaptive",
                     "unfair (bounded by handoff), one spinner then sleeps: futex parking, no "
                     "collapse past the cores",
                     ct_adaptive_lock_t, ct_adaptive_init, ct_adaptive_lock, ct_adaptive_trylock,
                     ct_adaptive_unlock);
