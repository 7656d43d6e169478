/* contend/lock/mcs.h: MCS queue spinlock (FIFO, local spinning).
 *
 * Algorithm: J. M. Mellor-Crummey & M. L. Scott, "Algorithms for scalable synchronization on
 * shared-memory multiprocessors", ACM TOCS 9(1), 1991: the list-based queuing lock, in the
 * variant whose release uses compare_and_swap. Each acquisition brings a queue node owned by
 * the caller; the lock itself is one pointer to the tail of the queue of holders and waiters.
 * An arriving
 * thread swaps its node into the tail; if there was a predecessor, it links itself behind it
 * and spins on a flag in ITS OWN node, which only its predecessor writes once. So each waiter
 * spins on a line nobody else touches until the handoff: one cache miss per handoff, no matter
 * how many wait (the ticket lock has every waiter re-read the shared counter on each release).
 * Linux's qspinlock (kernel/locking/qspinlock.c) builds on the same queue.
 *
 * Nodes: the caller owns them (ct_mcs_node_t, aligned to CT_CACHE_LINE so two threads' nodes
 * never share a line). A node is in use from ct_mcs_lock()/ct_mcs_trylock() until the matching
 * ct_mcs_unlock() returns; pass the same node to both, and do not reuse it meanwhile. A thread
 * holding several MCS locks at once needs one node per lock held.
 *
 * State: the tail pointer, plus each queued node's (locked, next).
 *   tail == NULL                  free, nobody queued
 *   tail == n, n the only node    held by n's thread, no waiters
 *   queue n1 -> n2 -> ... -> nk   n1 holds; n2..nk wait, each spinning on its own locked == 1;
 *                                 tail == nk; a link n(i)->next may lag behind the tail swap
 *                                 (the window between the exchange and the link store below).
 *   lock:   init node (locked 1, next NULL); pred := exchange(tail, node);
 *           pred == NULL: held. Else pred->next := node, wait until node->locked == 0.
 *   unlock: next == NULL and CAS(tail, node -> NULL) succeeds: free.
 *           Otherwise wait for the successor's link, then next->locked := 0 (handoff).
 * Invariants: exactly one node in the queue holds the lock (the head); a node's locked flag is
 * written 1 by its owner before it is published and 0 once, by its predecessor, as the
 * handoff; tail is NULL iff the queue is empty.
 *
 * Fairness: strict FIFO in the order of the tail exchanges.
 *
 * Past the core count: like the ticket lock it hands the lock to one fixed successor, so a
 * preempted successor stalls everyone queued behind it, and so does a new waiter preempted
 * between its tail swap and its link (the holder's unlock must wait for that link). Use it
 * with threads <= cores.
 */
#ifndef CONTEND_LOCK_MCS_H
#define CONTEND_LOCK_MCS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contend/arch.h"
#include "contend/chaos.h"

/* The alignment on the first member makes the whole node line-aligned and line-sized. */
typedef struct ct_mcs_node {
    CT_CACHE_ALIGNED _Atomic(struct ct_mcs_node *) next; /* successor, linked by itself */
    _Atomic uint32_t locked; /* 1 while waiting; the predecessor writes 0 */
} ct_mcs_node_t;

_Static_assert(sizeof(ct_mcs_node_t) == CT_CACHE_LINE && _Alignof(ct_mcs_node_t) == CT_CACHE_LINE,
               "an MCS node is exactly one cache line");

typedef struct ct_mcs_lock {
    _Atomic(ct_mcs_node_t *) tail; /* NULL: free */
} ct_mcs_lock_t;

#define CT_MCS_LOCK_INIT {NULL}

static inline void ct_mcs_init(ct_mcs_lock_t *l)
{
    /* Relaxed: the lock is not shared yet; whatever shares it carries the ordering. */
    atomic_store_explicit(&l->tail, NULL, memory_order_relaxed);
}

static inline void ct__mcs_node_reset(ct_mcs_node_t *n)
{
    /* Relaxed: the node is private until the tail exchange/CAS publishes it with release. */
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    atomic_store_explicit(&n->locked, 1, memory_order_relaxed);
}

static inline void ct_mcs_lock(ct_mcs_lock_t *l, ct_mcs_node_t *n)
{
    ct__mcs_node_reset(n);
    /* acq_rel. Release: publishes the node's initialization to the thread that swaps in after
     * us and reads our node as its predecessor (its exchange reads ours), so its link store
     * into n->next lands after our NULL. Acquire: when pred == NULL we take the lock directly,
     * and the NULL we read was written by the release CAS in ct_mcs_unlock(), so the previous
     * holder's critical section happens-before ours. */
    ct_mcs_node_t *pred = atomic_exchange_explicit(&l->tail, n, memory_order_acq_rel);
    if (pred == NULL)
        return;
    CT_CHAOS(); /* the window where the queue is linked by tail but not yet by pred->next */
    /* Release: our locked = 1 (above) is visible before the predecessor can find us; pairs
     * with the acquire load of n->next in ct_mcs_unlock(), so the predecessor's handoff store
     * of 0 cannot be overwritten by our initial 1. */
    atomic_store_explicit(&pred->next, n, memory_order_release);
    /* Acquire: pairs with the release store of locked = 0 by our predecessor in
     * ct_mcs_unlock(); its critical section happens-before ours. */
    while (atomic_load_explicit(&n->locked, memory_order_acquire) != 0) {
        CT_CHAOS();
        ct_cpu_relax();
    }
}

static inline bool ct_mcs_trylock(ct_mcs_lock_t *l, ct_mcs_node_t *n)
{
    ct__mcs_node_reset(n);
    ct_mcs_node_t *expect = NULL;
    /* Succeeds only on an empty queue. acq_rel on success: acquire pairs with the release CAS
     * (tail -> NULL) in ct_mcs_unlock(); release publishes our node's initialization to the
     * next thread whose exchange reads it, as in ct_mcs_lock(). Relaxed on failure: nothing
     * was published or acquired. */
    return atomic_compare_exchange_strong_explicit(&l->tail, &expect, n, memory_order_acq_rel,
                                                   memory_order_relaxed);
}

static inline void ct_mcs_unlock(ct_mcs_lock_t *l, ct_mcs_node_t *n)
{
    /* Acquire: pairs with the release store of pred->next in the successor's ct_mcs_lock():
     * the successor's locked = 1 happens-before our handoff store of 0 below. */
    ct_mcs_node_t *next = atomic_load_explicit(&n->next, memory_order_acquire);
    if (next == NULL) {
        ct_mcs_node_t *expect = n;
        /* No successor linked: try to empty the queue. Release: our critical section
         * completes before the NULL is visible; pairs with the acquire exchange/CAS of the next
         * thread to find the queue empty. Relaxed on failure: someone swapped in behind us,
         * and we synchronize with it through the acquire load of n->next below. */
        if (atomic_compare_exchange_strong_explicit(&l->tail, &expect, NULL,
                                                    memory_order_release, memory_order_relaxed))
            return;
        CT_CHAOS();
        /* A successor took the tail but has not linked yet: wait for its link (acquire, same
         * pairing as above). The wait is bounded by the successor's two steps, unless it is
         * preempted in between. */
        while ((next = atomic_load_explicit(&n->next, memory_order_acquire)) == NULL)
            ct_cpu_relax();
    }
    CT_CHAOS();
    /* Handoff. Release: our critical section completes before the successor sees 0; pairs
     * with its acquire load of locked in ct_mcs_lock(). After this store the successor may
     * return and reuse its node, and our own node is free for reuse. */
    atomic_store_explicit(&next->locked, 0, memory_order_release);
}

#endif
