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
 * close, capacity and size may be called from any thread.
 *
 * State:
 *   slots[0 .. cap), cap a power of two (the requested capacity rounded up), mask = cap - 1.
 *   tail  = (index of the next slot to write) | CT_SPSC__CLOSED once closed; producer writes
 *           the index, ct_spsc_close() sets the bit, both by RMW so neither loses the other's.
 *   head  = index of the next slot to read; consumer writes.
 * Indices run free (2^63 pushes would be needed to reach the CLOSED bit) and name slot
 * index & mask. Invariants: head <= tail_index <= head + cap; the items, oldest first, are
 * slots[i & mask] for i in [head, tail_index); head_cache <= head and tail_cache <= tail_index
 * (the caches only lag). A push succeeds only if the CLOSED bit is clear at its publishing
 * CAS, so "closed and empty" read from one load of tail is exact: pop never returns false
 * while a successful push's item is still in the ring.
 *
 * Blocking: push/pop spin and yield a little (ct_backoff_snooze), then sleep on a futex.
 * Each side has a sleep flag (producer_sleeping, consumer_sleeping; also the futex words) in a
 * line pair of their own, written only around a sleep and read by the other side after every
 * publish: while nobody sleeps a publish costs one plain load of a shared-clean line and no
 * system call.
 *
 * No lost wakeup (the consumer sleeping on empty; the producer on full is symmetric with head
 * in place of tail, and close is one more publisher of tail):
 *   consumer: A: exchange(consumer_sleeping, 1)  B: load tail; if still empty, futex-wait
 *             while consumer_sleeping == 1
 *   producer: P: CAS tail (publish)  Q: load consumer_sleeping; if 1: exchange it to 0 and,
 *             if the exchange saw 1, futex-wake
 * A, B, P, Q are all seq_cst, so they lie in one total order S that agrees with program order
 * (A before B, P before Q). If B missed the item, B precedes P in S, so A < B < P < Q and Q
 * reads A's 1 or a later value of the flag; the only later writes are 0 by a waker (who then
 * wakes) or by the consumer itself on its way out of the sleep path. So either the consumer
 * sees the item, or the producer sees the flag and clears it; the kernel compares the flag
 * with 1 atomically with queueing the sleeper, so a clear before the wait makes the wait
 * return at once and a clear after it is followed by the wake. The Dekker-style store->load
 * ordering needs the publish itself to be a seq_cst RMW (x86: one LOCK-ed instruction per
 * operation); a release store plus a seq_cst fence would do too, but ThreadSanitizer does
 * not model standalone fences, so RMWs it is.
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
#define CT_SPSC__CLOSED ((uint64_t)1 << 63)
#define CT_SPSC__INDEX (CT_SPSC__CLOSED - 1)

typedef struct ct_spsc {
    /* Read-only after ct_spsc_create(): shared-clean in both caches. */
    CT_PAD_ALIGNED void **slots;
    uint64_t mask; /* capacity - 1 */
    /* The producer's line pair. */
    CT_PAD_ALIGNED _Atomic uint64_t tail; /* next index to write, | CT_SPSC__CLOSED */
    uint64_t head_cache;                  /* producer only: a head value read earlier */
    /* The consumer's line pair. */
    CT_PAD_ALIGNED _Atomic uint64_t head; /* next index to read */
    uint64_t tail_cache;                  /* consumer only: a tail index read earlier */
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

/* Internal: one push attempt by the producer. 0, EAGAIN (full) or EPIPE (closed). */
static inline int ct__spsc_push(ct_spsc *q, void *item)
{
    /* Relaxed: the index bits are ours (only the producer moves them), so this reads our own
     * last CAS; the CLOSED bit set by a concurrent ct_spsc_close() may be missed here, and the
     * CAS below catches it. */
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (t & CT_SPSC__CLOSED)
        return EPIPE;
    if (t - q->head_cache > q->mask) {
        /* Full against the cached head: look at the real one. Acquire: pairs with the
         * consumer's seq_cst (hence release) exchange of head in ct__spsc_pop(), so its read of
         * the slot we are about to overwrite happens before our write. */
        q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
        if (t - q->head_cache > q->mask)
            return EAGAIN;
    }
    q->slots[t & q->mask] = item;
    CT_CHAOS();
    /* Publish. Release: the slot write above happens before the consumer's acquire load of
     * tail that sees t + 1. Seq_cst: the store half of the store->load (Dekker) pattern with
     * consumer_sleeping argued in the header comment. A CAS rather than a plain RMW because
     * it must fail if ct_spsc_close() set CLOSED since our load: the item is then not
     * enqueued (the slot write is dead, nobody reads past tail). Relaxed on failure: we return
     * EPIPE and order nothing. */
    uint64_t expect = t;
    if (!atomic_compare_exchange_strong_explicit(&q->tail, &expect, t + 1, memory_order_seq_cst,
                                                 memory_order_relaxed))
        return EPIPE;
    CT_CHAOS();
    /* Seq_cst: the load half of the Dekker pattern (after our seq_cst CAS in S): sees the
     * consumer's announcement if its re-check of tail missed our item. */
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
         * producer's seq_cst (hence release) CAS on tail in ct__spsc_push(), so the slot
         * writes before it happen before our reads. One load gives both the index and the
         * CLOSED bit, so "closed and empty" is exact. */
        uint64_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
        q->tail_cache = t & CT_SPSC__INDEX;
        if (h == q->tail_cache)
            return (t & CT_SPSC__CLOSED) ? EPIPE : EAGAIN;
    }
    *item = q->slots[h & q->mask];
    CT_CHAOS();
    /* Hand the slot back. Release: our read of the slot happens before the producer's
     * overwrite (its acquire load of head). Seq_cst: the store half of the Dekker pattern with
     * producer_sleeping. Only we write head, so a store would do for atomicity; the RMW is
     * what keeps the pattern visible to ThreadSanitizer without a standalone fence. */
    atomic_exchange_explicit(&q->head, h + 1, memory_order_seq_cst);
    CT_CHAOS();
    /* Seq_cst: the load half of the Dekker pattern, after our exchange in S. */
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
