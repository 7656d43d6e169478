/* contend/eventcount.h: an eventcount: sleep until a condition that lives elsewhere may have
 * changed, with no system call and no read-modify-write on the notify side while nobody sleeps.
 *
 * Sources. The eventcount of D. P. Reed and R. K. Kanodia ("Synchronization with eventcounts
 * and sequencers", CACM 1979), in the lock-free form D. Vyukov describes (1024cores.net,
 * "Eventcount") and folly implements (folly/experimental/EventCount.h): a waiter count that
 * notifiers read, and an epoch word the sleepers futex-wait on. Used by the bounded MPMC queue
 * (contend/mpmc.h: one for "not empty", one for "not full") and meant for the work-stealing
 * pool's idle workers.
 *
 * Use (the condition C is any predicate on other atomics, e.g. "the queue is not empty"):
 *
 *   waiter                                        notifier
 *   for (;;) {                                    make C true (any atomic store / RMW)
 *       if (C) break;          // fast path       ct_eventcount_notify(ec)  // or _all
 *       key = ct_eventcount_prepare_wait(ec);
 *       if (C) { ct_eventcount_cancel_wait(ec); break; }
 *       ct_eventcount_commit_wait(ec, key, deadline);
 *   }
 *
 * State: two 32-bit words on one line.
 *   waiters  threads between prepare_wait and the end of cancel_wait / commit_wait. Only a
 *            hint for notifiers: too high costs a useless wake system call, never correctness;
 *            it must simply not read 0 while a waiter that will sleep is announced (below).
 *   epoch    the futex word. notify adds 1 (only when waiters > 0) and then wakes; a waiter
 *            sleeps only while the epoch still equals the key it read in prepare_wait, so a
 *            notify that happens after prepare_wait makes commit_wait return at once.
 *
 * No lost wakeup. The outcome to exclude: the waiter's recheck of C reads "false" (old state)
 * AND the notifier's read of waiters reads 0 (old state). That is the store-buffering (Dekker)
 * shape, two threads each writing one location and then reading the other's:
 *   waiter W:    waiters += 1 (seq_cst RMW);  fence(seq_cst);  recheck C   (loads)
 *   notifier N:  change C (a store or RMW);   fence(seq_cst);  r = waiters (relaxed load)
 * Release/acquire cannot exclude it: a store may wait in the store buffer while a later load
 * of another location runs (StoreLoad reordering, allowed even on x86-TSO). Two seq_cst fences
 * do: they are totally ordered in S. If N's fence precedes W's in S, W's recheck reads N's
 * change of C or a later value (C11 7.17.3, the fence-to-fence rule, also C++ [atomics.order]:
 * "A sequenced before X, Y sequenced before B, X precedes Y in S => B observes A or a later
 * modification"); otherwise W's fence precedes
 * N's and by the same rule N's load reads W's increment or a later value, so N bumps the epoch
 * and wakes. Then W is either not yet asleep (key != epoch: futex_wait returns at once; the
 * kernel compares the word atomically with queueing the waiter) or asleep and woken.
 * A waiter whose prepare_wait reads an epoch that a notify already bumped needs no wake: its
 * acquire load of epoch reads from that notify's release RMW, so N's change of C happens before
 * W's recheck, which sees it.
 *
 * Cost. ct_eventcount_notify with nobody waiting: one seq_cst fence and one load of a line
 * that is only read (on x86-64 gcc emits `lock or $0,(%rsp)`, a core-local locked op: no
 * shared line written, no system call).
 * ct_eventcount_notify_sc: ONE seq_cst load and nothing else (a plain MOV on x86-64, LDAR on
 * aarch64), for callers that make C true with a seq_cst RMW (or store) and whose waiters
 * recheck C with seq_cst loads. Then all four accesses of the Dekker pair are seq_cst and
 * totally ordered in S: if W's recheck reads the old value of C, it precedes N's change in S
 * (a seq_cst load reads the last modification before it in S, provided every modification of
 * that word is seq_cst: the caller's duty), so W's announce precedes N's load of waiters,
 * which reads it (every modification of waiters is seq_cst too, for the same reason). The
 * bounded MPMC queue uses this form: its claim CAS is the change, and on x86 a locked CAS
 * is a full barrier already, so the fence would be paid twice.
 * ThreadSanitizer does not model standalone fences; under CT_TSAN the notifier uses an RMW of
 * waiters (fetch_add 0, seq_cst) instead: RMWs of one word are totally ordered, so either N's
 * RMW reads W's increment, or W's acquire RMW reads from N's release RMW and N's change of C
 * happens before W's recheck. Same property, modeled by TSan, one contended RMW slower.
 *
 * Wake one or all. notify wakes one sleeper: correct only when whoever wakes always rechecks
 * C and consumes what it was woken for or finds it consumed, and never leaves without
 * rechecking (commit_wait's callers must retry after a timeout too). notify_all wakes every
 * sleeper (shutdown, close).
 *
 * Epoch wrap: a waiter preempted between prepare_wait and its futex call for exactly 2^32
 * notifies would miss one; not a practical concern.
 */
#ifndef CONTEND_EVENTCOUNT_H
#define CONTEND_EVENTCOUNT_H

#include <stdatomic.h>
#include <stdint.h>

#include "contend/arch.h"
#include "contend/chaos.h"

typedef struct ct_eventcount {
    _Atomic uint32_t epoch;   /* futex word; bumped by notify when waiters > 0 */
    _Atomic uint32_t waiters; /* announced waiters (a hint, see above) */
} ct_eventcount;

#define CT_EVENTCOUNT_INIT {0, 0}

void ct_eventcount_init(ct_eventcount *ec);

/* Announce this thread as a waiter and return the key for commit_wait. The caller must then
 * recheck its condition, and either cancel_wait (condition true) or commit_wait. */
uint32_t ct_eventcount_prepare_wait(ct_eventcount *ec);

/* Withdraw the announcement of prepare_wait without sleeping. */
void ct_eventcount_cancel_wait(ct_eventcount *ec);

/* Sleep until a notify after prepare_wait (returns at once if one already happened), or until
 * the CLOCK_MONOTONIC deadline (0: none). Withdraws the announcement. Returns 0 when notified
 * (the condition may be false again: recheck), -1 with errno ETIMEDOUT when the deadline
 * passed first. Signals do not end the wait early. */
int ct_eventcount_commit_wait(ct_eventcount *ec, uint32_t key, uint64_t deadline_ns);

/* Slow path of notify: bump the epoch and wake n sleepers. */
void ct__eventcount_wake(ct_eventcount *ec, int n);

/* Notify for callers whose change of the condition was a seq_cst RMW or store (sequenced
 * before this call) on a word that is only ever modified with seq_cst operations, and whose
 * waiters recheck it with seq_cst loads (header comment): one load on the fast path. */
static inline void ct_eventcount_notify_sc(ct_eventcount *ec)
{
    /* seq_cst: the notifier's read of the all-seq_cst Dekker pair; pairs with the seq_cst RMW
     * in ct_eventcount_prepare_wait(). Not a fence: a plain MOV on x86-64. */
    if (atomic_load_explicit(&ec->waiters, memory_order_seq_cst) != 0)
        ct__eventcount_wake(ec, 1);
}

static inline uint32_t ct__eventcount_waiters_after_change(ct_eventcount *ec)
{
#ifdef CT_TSAN
    /* TSan fallback (header comment): an RMW instead of fence + load. seq_cst: release pairs
     * with the acquire half of prepare_wait's RMW, acquire with its release half. */
    return atomic_fetch_add_explicit(&ec->waiters, 0, memory_order_seq_cst);
#else
    /* The StoreLoad barrier of the Dekker pair: pairs with the seq_cst fence in
     * ct_eventcount_prepare_wait(). Orders the caller's change of the condition (before this
     * call) before the load of waiters below. */
    atomic_thread_fence(memory_order_seq_cst);
    CT_CHAOS();
    /* Relaxed: the fence pair above is what makes a nonzero count visible; this load only
     * decides whether to enter the slow path, whose RMW of epoch carries the ordering. */
    return atomic_load_explicit(&ec->waiters, memory_order_relaxed);
#endif
}

/* Call after making the condition true: wakes one sleeper if any is announced. No system
 * call and no write to a shared line when nobody waits. */
static inline void ct_eventcount_notify(ct_eventcount *ec)
{
    if (ct__eventcount_waiters_after_change(ec) != 0)
        ct__eventcount_wake(ec, 1);
}

/* Like notify, but wakes every sleeper. (No _sc form: closing and shutting down are rare.) */
static inline void ct_eventcount_notify_all(ct_eventcount *ec)
{
    if (ct__eventcount_waiters_after_change(ec) != 0)
        ct__eventcount_wake(ec, INT32_MAX);
}

#endif
