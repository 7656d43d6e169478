/* contend/spsc.h: bounded single-producer single-consumer ring.
 *
 * Algorithm: L. Lamport, "Specifying concurrent program modules", ACM TOPLAS 5(2), 1983: a
 * ring with two free-running indices, head written only by the consumer and tail only by the
 * producer, so neither side needs a read-modify-write to claim a slot; each side only reads
 * the other's index. With index caching as in E. Rigtorp's SPSCQueue and folly's
 * ProducerConsumerQueue: the producer keeps a private copy of head (head_cache) and re-reads
 * the consumer's line only when the ring looks full against that copy, and vice versa with
 * tail_cache, so in steady state each side touches the other's line about once per lap
 * instead of once per item.
 *
 * Role contract: at any moment at most one thread pushes (try_push, push, push_until) and at
 * most one thread pops (try_pop, pop, pop_until). The roles may pass to another thread only
 * through some synchronization (a join, a mutex, a release/acquire pair). Violating it is
 * undefined behaviour: lost or duplicated items, torn cached indices; it is not detected.
 * close, capacity and size may be called from any thread (not from a signal handler that
 * interrupted this queue's producer: close waits for an in-flight push attempt to finish).
 *
 * State:
 *   slots[0 .. cap), cap a power of two (the requested capacity rounded up), mask = cap - 1.
 *   tail    = index of the next slot to write; only the producer writes it (plain stores).
 *   head    = index of the next slot to read; only the consumer writes it (plain stores).
 *   closed  = bits CT_SPSC__CLOSING | CT_SPSC__SEALED, set (fetch_or) by ct_spsc_close() only.
 *   pushing = 1 while the producer is inside a push attempt (between its check of closed and
 *             its publish of tail), else 0; only the producer writes it.
 * Indices run free and name slot index & mask. Invariants: head <= tail <= head + cap; the
 * items, oldest first, are slots[i & mask] for i in [head, tail); head_cache <= head and
 * tail_cache <= tail (the caches only lag). CLOSING makes every later push attempt fail;
 * SEALED is set only after every push attempt that saw CLOSING clear has published (close
 * waits for pushing == 0 after a barrier, see "Close"), so pop may report "closed and empty"
 * only after an acquire load that sees SEALED followed by a load of tail that finds empty.
 *
 * Per-item cost: a publish (either side) is a plain release store of its index, a compiler
 * barrier, and a load of the other side's sleep flag (a shared-clean line while nobody
 * sleeps); the producer also writes pushing twice (its own line) and loads closed (read-mostly
 * line). No locked instruction, no fence instruction, no system call. The store->load
 * (Dekker) ordering that a sleeper and a closer need is supplied by *them*, on their cold path,
 * with an asymmetric barrier: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) (Linux >= 4.14,
 * registered once per process by ct_spsc_create). Its guarantee: when it returns, every other
 * thread of the process has passed a point B at which it executed a full memory barrier (or a
 * context switch, which implies one), ordered after everything the caller did before the call
 * and before everything the caller does after it. A thread whose store S and load L are in
 * that program order (a compiler barrier, atomic_signal_fence, keeps them so) therefore has
 * either S before B (the caller's later loads see S) or L after B (L sees the caller's earlier
 * stores). This is the pattern of Linux's sys_membarrier, liburcu and folly's
 * asymmetricHeavyBarrier. Without membarrier (old kernel, seccomp) the queue falls back, per
 * queue at create time (q->asym false), to the symmetric C11 form: each such store becomes a
 * seq_cst exchange and the barrier call is skipped, so all four accesses of each Dekker pair
 * are seq_cst and lie in the single total order S (one locked instruction per publish, as
 * before). Setting CONTEND_SPSC_NO_MEMBARRIER in the environment forces that fallback. Should
 * membarrier fail after a successful registration (not seen on any kernel; a forked child is
 * re-registered), the queue does not abort: that wait is bounded to 1 ms and rechecked
 * (degraded mode, src/queues/spsc.c).
 *
 * No lost wakeup (the consumer sleeping on empty; the producer on full is symmetric with head
 * in place of tail):
 *   consumer: A: exchange(consumer_sleeping, 1) seq_cst; heavy barrier;  R: load tail and
 *             closed; if still empty and not SEALED, futex-wait while consumer_sleeping == 1
 *   producer: P: store tail release; compiler barrier;  Q: load consumer_sleeping; if 1:
 *             ct__spsc_wake (exchange it to 0 and, if the exchange saw 1, futex-wake)
 * asym: the producer's P and Q straddle its barrier point B. If P is before B, R (after the
 * barrier returned) sees the item. Otherwise Q is after B and sees A's 1 or a later value; the
 * only later writes are 0 by a waker (who then wakes) or by the consumer itself on its way
 * out of the sleep path. Fallback: A, R, P (an exchange) and Q are seq_cst; if R missed P then
 * A < R < P < Q in S and Q sees A. Either way the consumer sees the item or the producer sees
 * the flag; the kernel compares the flag with 1 atomically with queueing the sleeper, so a
 * clear before the wait makes the wait return at once and a clear after it is followed by the
 * wake. Close towards a sleeper needs no asymmetry (close is cold): its fetch_or of closed
 * and loads of the flags are seq_cst, as are A and the sleeper's load of closed.
 *
 * Close (ct_spsc_close): C1: fetch_or(closed, CLOSING) seq_cst; C2: heavy barrier; C3: wait
 * until pushing == 0 (acquire); C4: fetch_or(closed, SEALED) seq_cst; C5: wake both sides.
 * A push attempt: U1: store pushing = 1 (fallback: seq_cst exchange); compiler barrier;
 * U2: load closed, EPIPE if CLOSING; write the slot; publish tail (release); U3: store
 * pushing = 0 (release). If U1 is before the producer's barrier point B (fallback: if U2
 * misses C1, then U1 < U2 < C1 < C3 in S), C3 reads U1's 1 or the later U3 0 and waits for U3: the publish happens before C3's acquire, before C4's release,
 * before a consumer's acquire of SEALED and its re-read of tail, which then sees the item.
 * Otherwise U2 is after B and sees CLOSING: the attempt fails and enqueues nothing. So a push
 * racing close either gets its item in, poppable, or returns false, and pop never reports
 * "closed and empty" while a pushed item is in the ring. C3 waits at most for one bounded
 * push attempt (no sleep inside pushing == 1). While a close is in progress (C1..C4) a
 * try_pop of an empty ring still says EAGAIN and pop keeps waiting; C5 follows C4.
 *
 * Lifetime: a wake may touch the flag after the woken side has returned, so destroy the queue
 * only when both sides (and any closer) have returned from their last call (contend/queue.h).
 * Failures set errno: EAGAIN (try_*: full / empty), EPIPE (closed; for pop: closed and empty),
 * ETIMEDOUT (*_until: the CLOCK_MONOTONIC deadline in ns passed; 0 = no deadline).
 */
#ifndef CONTEND_SPSC_H
#define CONTEND_SPSC_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contend/arch.h"
#include "contend/chaos.h"

#define CT_SPSC_MAX_CAPACITY ((size_t)1 << 30)
#define CT_SPSC__CLOSING 1u /* closed: push attempts from now on fail */
#define CT_SPSC__SEALED 2u  /* closed and every successful push published: pop may say EPIPE */

typedef struct ct_spsc {
    /* Read-mostly: written at create, and closed once more by ct_spsc_close(). */
    CT_PAD_ALIGNED void **slots;
    uint64_t mask;            /* capacity - 1 */
    bool asym;                /* membarrier available: publishes need no fence (header) */
    _Atomic uint32_t closed;  /* CT_SPSC__CLOSING | CT_SPSC__SEALED; close only, fetch_or */
    /* The producer's line pair. */
    CT_PAD_ALIGNED _Atomic uint64_t tail; /* next index to write */
    _Atomic uint64_t pushing;             /* 1 inside a push attempt (the close handshake) */
    uint64_t head_cache;                  /* producer only: a head value read earlier */
    /* The consumer's line pair. */
    CT_PAD_ALIGNED _Atomic uint64_t head; /* next index to read */
    uint64_t tail_cache;                  /* consumer only: a tail value read earlier */
    /* Sleep flags (0 awake, 1 asleep or about to be), also the futex words: read after every
     * publish by the other side, written only around a sleep. */
    CT_PAD_ALIGNED _Atomic uint32_t producer_sleeping;
    _Atomic uint32_t consumer_sleeping;
} ct_spsc;

CT_ASSERT_SEPARATE_LINES(ct_spsc, tail, head);
CT_ASSERT_SEPARATE_LINES(ct_spsc, tail, mask);
CT_ASSERT_SEPARATE_LINES(ct_spsc, head, mask);
CT_ASSERT_SEPARATE_LINES(ct_spsc, tail, consumer_sleeping);
CT_ASSERT_SEPARATE_LINES(ct_spsc, head, producer_sleeping);

/* NULL + errno: EINVAL for 0 or > 2^30, ENOMEM. */
/* For tests: blocking paths behave as if membarrier had failed after registration (bounded
 * sleeps and rechecks, src/queues/spsc.c), instead of aborting. */
void ct__spsc_force_degraded(bool on);

ct_spsc *ct_spsc_create(size_t capacity);
void ct_spsc_destroy(ct_spsc *q);
size_t ct_spsc_capacity(const ct_spsc *q); /* the requested capacity rounded up to 2^k */
size_t ct_spsc_size(ct_spsc *q);           /* items now in the ring (a snapshot) */
bool ct_spsc_push(ct_spsc *q, void *item);  /* false: EPIPE */
bool ct_spsc_pop(ct_spsc *q, void **item);  /* false: EPIPE */
bool ct_spsc_push_until(ct_spsc *q, void *item, uint64_t deadline_ns);  /* + ETIMEDOUT */
bool ct_spsc_pop_until(ct_spsc *q, void **item, uint64_t deadline_ns);  /* + ETIMEDOUT */
void ct_spsc_close(ct_spsc *q);

/* Internal: turns *flag from 1 to 0 and wakes its sleeper (out of line: the cold path). */
void ct__spsc_wake(_Atomic uint32_t *flag);

/* Internal: a store that a later load of another location must not pass (the store half of
 * a Dekker pair, header). asym: a release store then a compiler barrier; the other side's
 * heavy barrier does the rest. Fallback: a seq_cst exchange (one locked instruction). */
static inline void ct__spsc_store_dekker(const ct_spsc *q, _Atomic uint64_t *p, uint64_t v)
{
    if (q->asym) {
        atomic_store_explicit(p, v, memory_order_release);
        atomic_signal_fence(memory_order_seq_cst);
    } else {
        atomic_exchange_explicit(p, v, memory_order_seq_cst);
    }
}

/* Internal: one push attempt by the producer. 0, EAGAIN (full) or EPIPE (closed). */
static inline int ct__spsc_push(ct_spsc *q, void *item)
{
    /* Relaxed: only the producer writes tail, so this reads our own last store. */
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    /* U1 (header, "Close"): enter the attempt before looking at closed. */
    ct__spsc_store_dekker(q, &q->pushing, 1);
    int err = 0;
    /* U2. Seq_cst (a plain load on x86): the load half of the close Dekker pair; in the
     * fallback it must be seq_cst, with asym the barrier makes relaxed enough. */
    if (atomic_load_explicit(&q->closed, memory_order_seq_cst) & CT_SPSC__CLOSING) {
        err = EPIPE;
    } else if (t - q->head_cache > q->mask) {
        /* Full against the cached head: look at the real one. Acquire: pairs with the
         * consumer's release store of head in ct__spsc_pop(), so its read of the slot we are
         * about to overwrite happens before our write. */
        q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
        if (t - q->head_cache > q->mask)
            err = EAGAIN;
    }
    if (err == 0) {
        q->slots[t & q->mask] = item;
        CT_CHAOS();
        /* P, the publish. Release: the slot write above happens before the consumer's acquire
         * load of tail that sees t + 1. Dekker store half towards consumer_sleeping. */
        ct__spsc_store_dekker(q, &q->tail, t + 1);
    }
    /* U3. Release: a closer whose acquire load (C3) sees this 0 also sees our publish. */
    atomic_store_explicit(&q->pushing, 0, memory_order_release);
    if (err)
        return err;
    CT_CHAOS();
    /* Q. Seq_cst (a plain load on x86): the load half of the Dekker pair (header). */
    if (atomic_load_explicit(&q->consumer_sleeping, memory_order_seq_cst))
        ct__spsc_wake(&q->consumer_sleeping);
    return 0;
}

/* Internal: one pop attempt by the consumer. 0, EAGAIN (empty) or EPIPE (closed and empty). */
static inline int ct__spsc_pop(ct_spsc *q, void **item)
{
    /* Relaxed: only the consumer writes head, so this reads our own last store. */
    uint64_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (h == q->tail_cache) {
        /* Empty against the cached tail: look at the real one. Acquire: pairs with the
         * producer's release publish of tail, so the slot writes before it happen before our
         * reads. */
        q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (h == q->tail_cache) {
            /* Acquire SEALED, then re-read tail: SEALED was set after every successful push
             * had published (header, "Close"), so the re-read sees all their items. */
            if (!(atomic_load_explicit(&q->closed, memory_order_acquire) & CT_SPSC__SEALED))
                return EAGAIN;
            q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
            if (h == q->tail_cache)
                return EPIPE;
        }
    }
    *item = q->slots[h & q->mask];
    CT_CHAOS();
    /* Hand the slot back. Release: our read of the slot happens before the producer's
     * overwrite (its acquire load of head). Dekker store half towards producer_sleeping. */
    ct__spsc_store_dekker(q, &q->head, h + 1);
    CT_CHAOS();
    /* Seq_cst (a plain load on x86): the load half of the Dekker pair. */
    if (atomic_load_explicit(&q->producer_sleeping, memory_order_seq_cst))
        ct__spsc_wake(&q->producer_sleeping);
    return 0;
}

/* Never waits. False + errno EAGAIN when full, EPIPE when closed. Producer only. */
static inline bool ct_spsc_try_push(ct_spsc *q, void *item)
{
    int err = ct__spsc_push(q, item);
    if (err)
        errno = err;
    return err == 0;
}

/* Never waits. False + errno EAGAIN when empty, EPIPE when closed and empty. Consumer only. */
static inline bool ct_spsc_try_pop(ct_spsc *q, void **item)
{
    int err = ct__spsc_pop(q, item);
    if (err)
        errno = err;
    return err == 0;
}

#endif
