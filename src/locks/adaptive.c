/* The adaptive mutex's slow paths and its lock class. The state machine, its invariants and
 * its sources are in contend/lock/adaptive.h; the comments here name which transition each
 * atomic performs. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "contend/lock/adaptive.h"

#include <time.h>

#include "contend/lock.h"
#include "lock_classes.h"

#define LOCKED CT_ADAPTIVE_LOCKED
#define SPINNER CT_ADAPTIVE_SPINNER
#define STARVE CT_ADAPTIVE_STARVE
#define WAITER CT_ADAPTIVE_WAITER

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the token semaphore ------------------------------------------------------------ */

/* Take one token, sleeping while there is none. Acquire on the decrement pairs with the
 * release increment in post_token(): the poster's wake CAS on state happens-before our
 * return, so our next load of state sees at least that value. */
static void wait_token(ct_adaptive_lock_t *l)
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
        ct_futex_wait(&l->tokens, 0, 0);
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

void ct__adaptive_lock_slow(ct_adaptive_lock_t *l, uint32_t s)
{
    bool spinner = false;  /* we own SPINNER */
    bool starving = false; /* we have waited CT_ADAPTIVE_STARVE_NS since we first parked */
    uint64_t wait_start = 0;
    uint32_t budget = 0, spun = 0, delay = 1;

    /* short spin: while the lock is merely held (no spinner, nobody parked: s == LOCKED), poll
     * it a few times before claiming anything. A short critical section often ends sooner
     * than a SPINNER claim would pay off, and the claim is a CAS that takes the line from the
     * holder just before its unlock needs it. Relaxed: only decides when to try; the CAS in
     * the loop acquires. */
    for (uint32_t i = 0, d = 1; i < CT_ADAPTIVE_SHORT_SPINS && s == LOCKED; i += d) {
        for (uint32_t k = 0; k < d; k++)
            ct_cpu_relax();
        if (d < CT_ADAPTIVE_SHORT_POLL_MAX)
            d <<= 1;
        s = atomic_load_explicit(&l->state, memory_order_relaxed);
    }
    for (;;) {
        /* acquire: free and not reserved for a handoff. We release SPINNER in the same CAS if
         * we own it. Acquire pairs with the release fetch_sub in ct_adaptive_unlock() (all
         * later RMWs on state extend its release sequence). Relaxed on failure: s reloads and
         * we re-decide. */
        if (!(s & (LOCKED | STARVE))) {
            uint32_t want = (s | LOCKED) & ~(spinner ? SPINNER : 0u);
            if (atomic_compare_exchange_weak_explicit(&l->state, &s, want, memory_order_acquire,
                                                      memory_order_relaxed))
                return;
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
            s |= SPINNER;
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
                 * only decides when to try; the acquire CAS above acquires. */
                do {
                    for (uint32_t i = 0; i < delay; i++)
                        ct_cpu_relax();
                    spun += delay;
                    if (delay < CT_ADAPTIVE_SPIN_POLL_MAX)
                        delay <<= 1;
                    s = atomic_load_explicit(&l->state, memory_order_relaxed);
                } while ((s & LOCKED) && spun < budget);
                CT_CHAOS();
                continue;
            }
        }
        /* park: register as a waiter while the lock is held (or reserved for a handoff), so
         * its holder's unlock sees us. Drop SPINNER if ours. Relaxed: bookkeeping; the token
         * or handoff word carries the wakeup. */
        uint32_t want = s + WAITER;
        if (spinner)
            want &= ~SPINNER;
        /* starve: a woken waiter (the SPINNER owner, so no other spinner exists and STARVE is
         * clear) that has waited CT_ADAPTIVE_STARVE_NS reserves the next release for itself:
         * (1, 1, 0, w) -> (1, 0, 1, w+1). Only while LOCKED, so a holder exists whose unlock
         * sees STARVE. */
        bool starve = spinner && starving && (s & LOCKED);
        if (starve)
            want |= STARVE;
        if (!atomic_compare_exchange_weak_explicit(&l->state, &s, want, memory_order_relaxed,
                                                   memory_order_relaxed))
            continue;
        spinner = false;
        if (wait_start == 0)
            wait_start = now_ns();
        CT_CHAOS();
        if (starve) {
            /* handoff: wait for the holder's unlock to flag the lock as ours. Acquire pairs
             * with the release store in ct__adaptive_unlock_slow(), which follows its release
             * fetch_sub: the previous critical section happens-before ours. */
            while (atomic_load_explicit(&l->handoff, memory_order_acquire) == 0)
                ct_futex_wait(&l->handoff, 0, 0);
            /* Reset for the next handoff. Relaxed: the next handoff's unlocker is a later
             * holder, ordered after this store by our unlock's release and its acquire. */
            atomic_store_explicit(&l->handoff, 0, memory_order_relaxed);
            /* (0, 0, 1, w) -> (1, 0, 0, w-1): take the reserved lock, end handoff mode.
             * Nobody else sets LOCKED or touches STARVE meanwhile; the CAS loop only absorbs
             * waiters arriving. Acquire: same pairing as above, through state. */
            s = atomic_load_explicit(&l->state, memory_order_relaxed);
            while (!atomic_compare_exchange_weak_explicit(&l->state, &s,
                                                          ((s | LOCKED) & ~STARVE) - WAITER,
                                                          memory_order_acquire,
                                                          memory_order_relaxed)) {
            }
            return;
        }
        wait_token(l);
        starving = starving || now_ns() - wait_start >= CT_ADAPTIVE_STARVE_NS;
        /* wake: the unlocker made us the SPINNER owner (and already counted us out of
         * waiters). Spin again, then compete or park again. Relaxed load: wait_token()'s
         * acquire ordered it after the unlocker's update. */
        s = atomic_load_explicit(&l->state, memory_order_relaxed);
        spinner = true;
        spun = 0;
        delay = 1;
    }
}

void ct__adaptive_unlock_slow(ct_adaptive_lock_t *l, uint32_t s)
{
    if (s & STARVE) {
        /* handoff: the released lock is reserved for the starving waiter (STARVE stays set,
         * so nobody else takes it); tell it. Release: our critical section and our release
         * fetch_sub happen-before its acquire load of handoff. */
        atomic_store_explicit(&l->handoff, 1, memory_order_release);
        CT_CHAOS();
        ct_futex_wake(&l->handoff, 1);
        return;
    }
    /* wake: (0, 0, 0, w) -> (0, 1, 0, w-1), only while nobody holds it, nobody is awake to
     * take it and someone waits. If the lock was retaken meanwhile, its holder's unlock will
     * do this instead. Relaxed: bookkeeping; post_token()'s release publishes it to the
     * woken thread. */
    for (;;) {
        if (s < WAITER || (s & (LOCKED | SPINNER | STARVE)))
            return;
        if (atomic_compare_exchange_weak_explicit(&l->state, &s, (s - WAITER) | SPINNER,
                                                  memory_order_relaxed, memory_order_relaxed))
            break;
    }
    CT_CHAOS();
    post_token(l);
}

void ct_adaptive_init(ct_adaptive_lock_t *l)
{
    /* Relaxed: the lock is not shared yet; whatever shares it carries the ordering. */
    atomic_store_explicit(&l->state, 0, memory_order_relaxed);
    atomic_store_explicit(&l->tokens, 0, memory_order_relaxed);
    atomic_store_explicit(&l->handoff, 0, memory_order_relaxed);
    (void)ct_wait_adaptive_spins(); /* calibrate now, not inside the first contended lock */
}

/* ---- lock class --------------------------------------------------------------------- */

static int cls_init(void *lock)
{
    ct_adaptive_init(lock);
    return 0;
}

static void cls_destroy(void *lock) { (void)lock; }

static void cls_lock(void *lock, void *node)
{
    (void)node;
    ct_adaptive_lock(lock);
}

static bool cls_trylock(void *lock, void *node)
{
    (void)node;
    return ct_adaptive_trylock(lock);
}

static void cls_unlock(void *lock, void *node)
{
    (void)node;
    ct_adaptive_unlock(lock);
}

const ct_lock_class ct_lock_adaptive = {
    .name = "adaptive",
    .summary = "unfair (bounded by handoff), one spinner then sleeps: futex parking, no "
               "collapse past the cores",
    .size = sizeof(ct_adaptive_lock_t),
    .node_size = 0,
    .init = cls_init,
    .destroy = cls_destroy,
    .lock = cls_lock,
    .trylock = cls_trylock,
    .unlock = cls_unlock,
};
