/* contend/lock/ticket.h: ticket spinlock (FIFO).
 *
 * Algorithm: the ticket lock as presented by J. M. Mellor-Crummey & M. L. Scott, "Algorithms
 * for scalable synchronization on shared-memory multiprocessors", ACM TOCS 9(1), 1991 (after
 * Reed & Kanodia's sequencers, 1979), against the test-and-set locks of T. E. Anderson, "The
 * performance of spin lock alternatives for shared-memory multiprocessors", IEEE TPDS 1(1),
 * 1990. Like a bakery queue: an arriving thread takes the next ticket with one
 * fetch_add, then waits until the "now serving" counter shows its number; unlock advances the
 * counter by one. Only one atomic RMW per acquisition, and waiters only read.
 *
 * State: (next, owner), two 32-bit counters that wrap together.
 *   next - owner = number of threads holding or waiting (0: free, 1: held, k: held + k-1 queued)
 *   lock:    t := next++ (fetch_add), then wait until owner == t
 *   trylock: (o, o) -> (o + 1, o) by CAS on next, only when next == owner
 *   unlock:  owner++ (holder only, so a plain load + release store)
 * Invariants: owner <= next (mod 2^32); the holder is the thread whose ticket == owner; the
 * waiters are exactly the tickets in (owner, next). 2^32 threads would be needed to wrap a
 * ticket into ambiguity.
 *
 * Fairness: strict FIFO by ticket order. That is also its weakness:
 *
 * Past the core count it collapses. The lock can only pass to the thread holding ticket
 * owner + 1. If that thread is preempted (likely when threads outnumber cores: most threads
 * are not running at any instant), the lock sits free while every running waiter spins on a
 * number that cannot change until the scheduler runs the one successor; all the threads queued
 * behind it wait too, and each handoff can cost a scheduler time slice. A TAS/TTAS lock would
 * let any running waiter take it instead. Use it only with threads <= cores (or pinned).
 *
 * Layout: next and owner share a line, so each arrival's fetch_add invalidates the line the
 * waiters spin on (one extra miss per waiter per arrival). Splitting them onto separate lines
 * would need CT_PAD alignment, more than the CT_CACHE_LINE alignment the lock registry
 * promises; Linux's ticket spinlock also kept both halves in one word.
 */
#ifndef CONTEND_LOCK_TICKET_H
#define CONTEND_LOCK_TICKET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "contend/arch.h"
#include "contend/chaos.h"

typedef struct ct_ticket_lock {
    _Atomic uint32_t next;  /* the next ticket to hand out */
    _Atomic uint32_t owner; /* the ticket now being served */
} ct_ticket_lock_t;

#define CT_TICKET_LOCK_INIT {0, 0}

static inline void ct_ticket_init(ct_ticket_lock_t *l)
{
    /* Relaxed: the lock is not shared yet; whatever shares it carries the ordering. */
    atomic_store_explicit(&l->next, 0, memory_order_relaxed);
    atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
}

static inline void ct_ticket_lock(ct_ticket_lock_t *l)
{
    /* Relaxed: taking a ticket only needs atomicity (each ticket handed out once); it
     * synchronizes with nothing. The ordering that protects the critical section is the
     * acquire load of owner below. */
    uint32_t t = atomic_fetch_add_explicit(&l->next, 1, memory_order_relaxed);
    CT_CHAOS();
    /* Acquire: seeing owner == t means we read the value the previous holder stored with
     * release in ct_ticket_unlock(), so its critical section happens-before ours. */
    while (atomic_load_explicit(&l->owner, memory_order_acquire) != t) {
        CT_CHAOS();
        ct_cpu_relax();
    }
}

static inline bool ct_ticket_trylock(ct_ticket_lock_t *l)
{
    /* Acquire: if the CAS below succeeds, the o read here is the value stored by the last
     * ct_ticket_unlock() (release): owner cannot move while next == owner, because moving it
     * needs a holder, and a holder means next > owner. That pairing is what orders the previous
     * critical section before ours. */
    uint32_t o = atomic_load_explicit(&l->owner, memory_order_acquire);
    uint32_t expect = o;
    CT_CHAOS();
    /* Take ticket o only if nobody holds or waits (next == owner == o). Acquire on success
     * keeps our critical section after the claim; the happens-before edge with the previous
     * holder came from the owner load above. Relaxed on failure: we return false, ordering
     * nothing. */
    return atomic_compare_exchange_strong_explicit(&l->next, &expect, o + 1,
                                                   memory_order_acquire, memory_order_relaxed);
}

static inline void ct_ticket_unlock(ct_ticket_lock_t *l)
{
    /* Only the holder writes owner, so a relaxed load reads our own ticket (we saw it with
     * acquire when we took the lock) and a plain store suffices: no RMW needed. */
    uint32_t o = atomic_load_explicit(&l->owner, memory_order_relaxed);
    CT_CHAOS();
    /* Release: our critical section completes before the next ticket holder sees its number;
     * pairs with the acquire load of owner in ct_ticket_lock()/ct_ticket_trylock(). */
    atomic_store_explicit(&l->owner, o + 1, memory_order_release);
}

#endif
