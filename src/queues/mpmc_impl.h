/* The bounded MPMC queue's code (D. Vyukov's per-cell sequence numbers) with eventcount
 * sleeping and close. Invariants, linearization points and the waiting argument: contend/mpmc.h.
 *
 * Why a header: src/queues/mpmc.c includes it once and is the library's queue. A lab
 * (bench/lab_stalled_producer.c) includes it a second time, with renamed static symbols and
 * CT_MPMC_AFTER_CLAIM defined, to stall a producer between its claim and its publish. The
 * library's instantiation defines nothing, so the hook is ((void)0): zero instructions on the
 * hot path, the same object code as before (no flag test, no function pointer, no weak
 * symbol). Knobs, all optional, to define before including:
 *   CT_MPMC_NAME(x)            the public names (default ct_mpmc_##x)
 *   CT_MPMC_TYPE               the struct tag and typedef (default ct_mpmc)
 *   CT_MPMC_API                storage class of the public functions (default: none, extern)
 *   CT_MPMC_AFTER_CLAIM(q,pos) runs right after a producer's claim CAS on head succeeded,
 *                              before it writes the cell (default: nothing)
 *
 * Everything lives here, hot paths included: the queue type is opaque (its layout can change
 * without recompiling users), and a call costs ~1-2 ns next to the ~20+ ns of the claim CAS
 * and the cell's cache-line transfer, which dominate every operation.
 */
#ifndef CONTEND_MPMC_IMPL_H
#define CONTEND_MPMC_IMPL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "contend/mpmc.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contend/arch.h"
#include "contend/chaos.h"
#include "contend/eventcount.h"
#include "contend/wait.h"

#ifndef CT_MPMC_NAME
#define CT_MPMC_NAME(x) ct_mpmc_##x
#endif
#ifndef CT_MPMC_TYPE
#define CT_MPMC_TYPE ct_mpmc
#endif
#ifndef CT_MPMC_API
#define CT_MPMC_API
#endif
#ifndef CT_MPMC_AFTER_CLAIM
#define CT_MPMC_AFTER_CLAIM(q, pos) ((void)0)
#endif

typedef struct CT_MPMC_TYPE CT_MPMC_TYPE; /* a repeated typedef: allowed in C11 */

/* Cell layout: NOT padded. A cell is 16 bytes (seq + data), four per 64-byte line, aligned
 * so none straddles two lines, as in Vyukov's original; rigtorp/MPMCQueue pads each slot to a
 * line instead. Why not pad: when the queue runs near empty (the 1:1 case), the consumer's
 * next cell is the producer's next cell, so the line moves between them once per hand-off
 * padded or not, and sharing it with the neighbouring cells only batches the next transfers;
 * with a backlog, producer and consumer work on cells far apart. Padding costs 4x the memory
 * (8x at CT_PAD) and a quarter of the cells per line of cache. Measured on the 2-vCPU VM
 * (1 producer, 1 consumer, capacity 1024, best of 7 runs; shared, noisy machine, medians
 * overlap): 16-byte cells 69 M items/s try / 50 M blocking, 64-byte cells 58 M / 43 M; no
 * gain from padding that the noise could hide. -DCT_MPMC_CELL_ALIGN=64 (or 128) pads, to
 * re-measure on a bigger machine. */
#ifndef CT_MPMC_CELL_ALIGN
#define CT_MPMC_CELL_ALIGN 16
#endif
_Static_assert(CT_MPMC_CELL_ALIGN >= 16 && CT_CACHE_LINE % 16 == 0, "a cell never straddles lines");
/* The cell array starts CT_PAD-aligned (aligned_alloc(CT_PAD), header a multiple of CT_PAD), so
 * no cell can ask for more alignment than that. */
_Static_assert(CT_MPMC_CELL_ALIGN <= CT_PAD, "CT_MPMC_CELL_ALIGN may not exceed CT_PAD");

typedef struct cell {
    _Alignas(CT_MPMC_CELL_ALIGN) _Atomic uint64_t seq; /* whose turn: see mpmc.h */
    void *data; /* plain: owned by the thread that claimed the cell (mpmc.h) */
} cell;

/* The CLOSED flag: the top bit of head. Positions stay below 2^63 (at 10^10 pushes a second,
 * 29 years). */
#define CLOSED ((uint64_t)1 << 63)

struct CT_MPMC_TYPE {
    /* Read-only after create: shared by every thread, never written, so on a line of its
     * own (a write to head or tail nearby would invalidate it in every reader). */
    CT_PAD_ALIGNED cell *cells;
    uint64_t mask;     /* capacity - 1 */
    uint64_t capacity; /* a power of two */
    /* Written by every producer claim (and close). */
    CT_PAD_ALIGNED _Atomic uint64_t head;
    /* Written by every consumer claim. */
    CT_PAD_ALIGNED _Atomic uint64_t tail;
    /* Read (waiters) by every pop's notify; written only by sleeping producers. */
    CT_PAD_ALIGNED ct_eventcount not_full;
    /* Read (waiters) by every push's notify; written only by sleeping consumers. */
    CT_PAD_ALIGNED ct_eventcount not_empty;
};

CT_ASSERT_SEPARATE_LINES(struct CT_MPMC_TYPE, head, tail);
CT_ASSERT_SEPARATE_LINES(struct CT_MPMC_TYPE, cells, head);
CT_ASSERT_SEPARATE_LINES(struct CT_MPMC_TYPE, capacity, head);
CT_ASSERT_SEPARATE_LINES(struct CT_MPMC_TYPE, capacity, tail);
CT_ASSERT_SEPARATE_LINES(struct CT_MPMC_TYPE, head, not_empty);
CT_ASSERT_SEPARATE_LINES(struct CT_MPMC_TYPE, head, not_full);
CT_ASSERT_SEPARATE_LINES(struct CT_MPMC_TYPE, tail, not_empty);
CT_ASSERT_SEPARATE_LINES(struct CT_MPMC_TYPE, tail, not_full);
CT_ASSERT_SEPARATE_LINES(struct CT_MPMC_TYPE, not_empty, not_full);
CT_ASSERT_SEPARATE_LINES(struct CT_MPMC_TYPE, capacity, not_full);
_Static_assert(sizeof(struct CT_MPMC_TYPE) % CT_PAD == 0, "cells start on a fresh prefetch pair");
_Static_assert(CT_MPMC_MAX_CAPACITY <= (CLOSED >> 1), "positions must stay below CLOSED");

enum op_result { OP_OK, OP_EMPTY, OP_FULL, OP_CLOSED };

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wait out another thread's claim-to-store window on the cell we need (the non-lock-free spot,
 * mpmc.h): spin, then yield so a preempted owner can run. The try calls keep yielding. The
 * blocking calls (may_sleep), once they have yielded for IN_PROGRESS_YIELD_NS, nap: 50 us
 * doubling to 1 ms. An owner stalled that long is stopped or descheduled for a long time (a
 * page fault, a signal handler, a debugger, a long preemption), and spinning or sched_yield()
 * (which returns at once when nothing else is runnable) only burns a CPU it may need. The
 * eventcount cannot serve here: its wake comes with the claim, which has already happened, and
 * a wake at the publish would put a full fence on every push (mpmc.h, "Waiting"). A nap
 * delays the waiter at most 1 ms past the publish; the yield phase first keeps ordinary
 * preemption (an owner waiting for a CPU that a yield hands it) off the sleeping path.
 * Measured with `contend lab stalled-producer` (notes/locks_vs_lockfree.md). */
typedef struct in_progress_wait {
    ct_backoff b;
    bool may_sleep;
    unsigned naps;
    uint64_t yield_since; /* 0: not yielding yet */
} in_progress_wait;

#define IN_PROGRESS_WAIT_INIT(sleep) {CT_BACKOFF_INIT, (sleep), 0, 0}
#define IN_PROGRESS_YIELD_NS 200000u
#define IN_PROGRESS_NAP_MIN_NS 50000u
#define IN_PROGRESS_NAP_MAX_NS 1000000u

static void wait_in_progress(in_progress_wait *w)
{
    if (!ct_backoff_snooze(&w->b))
        return;
    if (w->may_sleep) {
        uint64_t now = now_ns();
        if (w->yield_since == 0)
            w->yield_since = now;
        if (now - w->yield_since >= IN_PROGRESS_YIELD_NS) {
            uint64_t ns = (uint64_t)IN_PROGRESS_NAP_MIN_NS << (w->naps < 5 ? w->naps : 5);
            if (ns > IN_PROGRESS_NAP_MAX_NS)
                ns = IN_PROGRESS_NAP_MAX_NS;
            w->naps++;
            struct timespec ts = {0, (long)ns};
            nanosleep(&ts, NULL);
            return;
        }
    }
    sched_yield();
}

/* One push attempt that never waits for room: OP_OK, OP_FULL or OP_CLOSED. */
static enum op_result push_once(CT_MPMC_TYPE *q, void *item, bool may_sleep)
{
    in_progress_wait b = IN_PROGRESS_WAIT_INIT(may_sleep);
    /* Relaxed: head is only a candidate position; the acquire load of the cell's seq below
     * decides. (It orders that load's consumers; this load feeds its address.) */
    uint64_t pos = atomic_load_explicit(&q->head, memory_order_relaxed);
    for (;;) {
        if (pos & CLOSED)
            return OP_CLOSED;
        cell *c = &q->cells[pos & q->mask];
        /* Acquire: pairs with the consumer's release store of seq = pos (free, from position
         * pos - cap) in pop_once(): its read of the old data happens before our write. */
        uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        int64_t dif = (int64_t)(seq - pos);
        if (dif == 0) {
            /* Claim. No data travels through head (the cell's seq carries it), so relaxed
             * would do for the queue itself; seq_cst because this CAS is the "change" of
             * the not_empty eventcount's all-seq_cst Dekker pair (ct_eventcount_notify_sc
             * below; the waiter's side is the seq_cst load of head in pop_once()). Same
             * LOCK CMPXCHG on x86-64; CASAL instead of CAS on aarch64. A failed CAS (a rival
             * claimed pos, or close set the bit) reloads pos and retries; a weak CAS's
             * spurious failure leaves pos as it was and retries too: never reported full. */
            if (atomic_compare_exchange_weak_explicit(&q->head, &pos, pos + 1,
                                                      memory_order_seq_cst,
                                                      memory_order_relaxed)) {
                CT_CHAOS(); /* claimed, not published: the window that stalls consumers */
                CT_MPMC_AFTER_CLAIM(q, pos); /* the stalled-producer lab's hook (top) */
                c->data = item;
                CT_CHAOS();
                /* Publish. Release: pairs with the acquire load of seq in pop_once(); a
                 * consumer that sees seq == pos + 1 also sees data. */
                atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
                /* A consumer sleeps only after reading head == tail; our claim CAS above
                 * ended that, so the claim (not this store) is the eventcount's change: a
                 * woken consumer that finds the cell still unpublished waits out our window
                 * instead of sleeping again. One seq_cst load when nobody sleeps. */
                ct_eventcount_notify_sc(&q->not_empty);
                return OP_OK;
            }
        } else if (dif < 0) {
            /* The cell still holds position pos - cap: not yet popped (full) or popped but
             * not yet freed (a consumer in its window). seq_cst: the waiter's recheck in the
             * not_full eventcount's all-seq_cst Dekker pair (pairs with the seq_cst claim
             * CAS on tail in pop_once() and its ct_eventcount_notify_sc); it is also ordered
             * after the seq load (acquire; with that load's address dependency on pos the
             * three loads run in order), which the FULL linearization point needs. A plain
             * MOV on x86-64; LDAR on aarch64, as acquire would be. */
            uint64_t t = atomic_load_explicit(&q->tail, memory_order_seq_cst);
            if (t + q->capacity == pos)
                return OP_FULL; /* tail + capacity == head: full at this load */
            wait_in_progress(&b);
            pos = atomic_load_explicit(&q->head, memory_order_relaxed);
        } else {
            /* pos is stale: another producer claimed it already. */
            pos = atomic_load_explicit(&q->head, memory_order_relaxed);
        }
    }
}

/* One pop attempt that never waits for an item: OP_OK, OP_EMPTY or OP_CLOSED (closed, empty). */
static enum op_result pop_once(CT_MPMC_TYPE *q, void **item, bool may_sleep)
{
    in_progress_wait b = IN_PROGRESS_WAIT_INIT(may_sleep);
    /* Relaxed: a candidate position, as in push_once(). */
    uint64_t pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
    for (;;) {
        cell *c = &q->cells[pos & q->mask];
        /* Acquire: pairs with the producer's release store of seq = pos + 1 in push_once():
         * seeing it, we see data. */
        uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        int64_t dif = (int64_t)(seq - (pos + 1));
        if (dif == 0) {
            /* Claim. seq_cst for the same reason as in push_once(): this CAS is the change
             * of the not_full eventcount's Dekker pair (a producer sleeps only after reading
             * tail + capacity == head). */
            if (atomic_compare_exchange_weak_explicit(&q->tail, &pos, pos + 1,
                                                      memory_order_seq_cst,
                                                      memory_order_relaxed)) {
                CT_CHAOS(); /* claimed, not freed: the window that stalls producer pos + cap */
                *item = c->data;
                CT_CHAOS();
                /* Free for the next lap. Release: pairs with the acquire load of seq in
                 * push_once(); the read of data above is the producer's permission to
                 * overwrite it, so that read must come first. */
                atomic_store_explicit(&c->seq, pos + q->capacity, memory_order_release);
                ct_eventcount_notify_sc(&q->not_full); /* the claim was the change */
                return OP_OK;
            }
        } else if (dif < 0) {
            /* Position pos not published: nobody claimed it (empty) or a producer is in its
             * window. seq_cst: the waiter's recheck of the not_empty Dekker pair (pairs with
             * the seq_cst claim CAS in push_once()); ordered after the seq load, as there. */
            uint64_t h = atomic_load_explicit(&q->head, memory_order_seq_cst);
            if ((h & ~CLOSED) == pos) /* head == tail: empty at this load */
                return (h & CLOSED) ? OP_CLOSED : OP_EMPTY;
            wait_in_progress(&b);
            pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
        } else {
            /* pos is stale: another consumer took it. */
            pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
        }
    }
}

/* ---- public API ------------------------------------------------------------------------ */

CT_MPMC_API CT_MPMC_TYPE *CT_MPMC_NAME(create)(size_t capacity)
{
    if (capacity == 0 || capacity > CT_MPMC_MAX_CAPACITY) {
        errno = EINVAL;
        return NULL;
    }
    /* At least 2: with one cell, "full for position p" (seq == p + 1) and "free for the
     * producer of p + 1" (seq == p + cap) would be the same number (mpmc.h). */
    size_t cap = 2;
    while (cap < capacity)
        cap <<= 1;
    /* cap <= 2^30, but cap * sizeof(cell) can still overflow a 32-bit size_t. */
    if (cap > (SIZE_MAX - sizeof(struct CT_MPMC_TYPE) - CT_PAD) / sizeof(cell)) {
        errno = ENOMEM;
        return NULL;
    }
    size_t bytes = sizeof(struct CT_MPMC_TYPE) + cap * sizeof(cell);
    bytes = (bytes + CT_PAD - 1) / CT_PAD * CT_PAD; /* aligned_alloc wants a multiple */
    CT_MPMC_TYPE *q = aligned_alloc(CT_PAD, bytes);
    if (!q) {
        errno = ENOMEM;
        return NULL;
    }
    memset(q, 0, sizeof *q);
    q->cells = (cell *)((char *)q + sizeof *q);
    q->mask = cap - 1;
    q->capacity = cap;
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    ct_eventcount_init(&q->not_full);
    ct_eventcount_init(&q->not_empty);
    for (size_t i = 0; i < cap; i++) {
        atomic_init(&q->cells[i].seq, (uint64_t)i); /* free for the producer of position i */
        q->cells[i].data = NULL;
    }
    /* Published to other threads by whatever hands them q (thread creation, a release). */
    return q;
}

CT_MPMC_API void CT_MPMC_NAME(destroy)(CT_MPMC_TYPE *q)
{
    free(q);
}

CT_MPMC_API size_t CT_MPMC_NAME(capacity)(const CT_MPMC_TYPE *q)
{
    return (size_t)q->capacity;
}

CT_MPMC_API size_t CT_MPMC_NAME(size)(const CT_MPMC_TYPE *q)
{
    /* Relaxed: an estimate. tail first, so that head (which only grows) is no older than
     * tail and the difference is rarely negative; clamped anyway. */
    uint64_t t = atomic_load_explicit((_Atomic uint64_t *)&q->tail, memory_order_relaxed);
    uint64_t h = atomic_load_explicit((_Atomic uint64_t *)&q->head, memory_order_relaxed) &
                 ~CLOSED;
    if (h <= t)
        return 0;
    return h - t > q->capacity ? (size_t)q->capacity : (size_t)(h - t);
}

CT_MPMC_API bool CT_MPMC_NAME(try_push)(CT_MPMC_TYPE *q, void *item)
{
    return push_once(q, item, false) == OP_OK;
}

CT_MPMC_API bool CT_MPMC_NAME(try_pop)(CT_MPMC_TYPE *q, void **item)
{
    return pop_once(q, item, false) == OP_OK;
}

CT_MPMC_API bool CT_MPMC_NAME(push_until)(CT_MPMC_TYPE *q, void *item, uint64_t deadline_ns)
{
    ct_backoff b = CT_BACKOFF_INIT;
    for (;;) {
        enum op_result r = push_once(q, item, true);
        if (r == OP_OK)
            return true;
        if (r == OP_CLOSED) {
            errno = EPIPE;
            return false;
        }
        /* Checked after an attempt, so a call whose deadline has passed still succeeds
         * when there is room, and a waiter woken at its deadline still takes its turn. */
        if (deadline_ns != 0 && now_ns() >= deadline_ns) {
            errno = ETIMEDOUT;
            return false;
        }
        if (!ct_backoff_snooze(&b))
            continue; /* spin, then yield, a bounded time before sleeping */
        /* Announce, recheck, sleep (contend/eventcount.h). */
        uint32_t key = ct_eventcount_prepare_wait(&q->not_full);
        CT_CHAOS();
        r = push_once(q, item, true);
        if (r != OP_FULL) {
            ct_eventcount_cancel_wait(&q->not_full);
            if (r == OP_OK)
                return true;
            errno = EPIPE;
            return false;
        }
        CT_CHAOS();
        /* Woken or timed out: either way the loop retries once before giving up. */
        (void)ct_eventcount_commit_wait(&q->not_full, key, deadline_ns);
    }
}

CT_MPMC_API bool CT_MPMC_NAME(pop_until)(CT_MPMC_TYPE *q, void **item, uint64_t deadline_ns)
{
    ct_backoff b = CT_BACKOFF_INIT;
    for (;;) {
        enum op_result r = pop_once(q, item, true);
        if (r == OP_OK)
            return true;
        if (r == OP_CLOSED) {
            errno = EPIPE;
            return false;
        }
        if (deadline_ns != 0 && now_ns() >= deadline_ns) {
            errno = ETIMEDOUT;
            return false;
        }
        if (!ct_backoff_snooze(&b))
            continue;
        uint32_t key = ct_eventcount_prepare_wait(&q->not_empty);
        CT_CHAOS();
        r = pop_once(q, item, true);
        if (r != OP_EMPTY) {
            ct_eventcount_cancel_wait(&q->not_empty);
            if (r == OP_OK)
                return true;
            errno = EPIPE;
            return false;
        }
        CT_CHAOS();
        (void)ct_eventcount_commit_wait(&q->not_empty, key, deadline_ns);
    }
}

CT_MPMC_API bool CT_MPMC_NAME(push)(CT_MPMC_TYPE *q, void *item)
{
    return CT_MPMC_NAME(push_until)(q, item, 0);
}

CT_MPMC_API bool CT_MPMC_NAME(pop)(CT_MPMC_TYPE *q, void **item)
{
    return CT_MPMC_NAME(pop_until)(q, item, 0);
}

CT_MPMC_API void CT_MPMC_NAME(close)(CT_MPMC_TYPE *q)
{
    /* One RMW sets the bit: every later claim CAS on head fails and sees it (mpmc.h, Close).
     * seq_cst: every modification of head must be seq_cst for ct_eventcount_notify_sc's
     * argument (a waiter's seq_cst recheck load must not read past this write). The
     * notify_all calls below are the general, fenced form: this RMW is the change for both
     * eventcounts; the waiters' rechecks load head (push_once first thing, pop_once when it
     * finds the queue empty). */
    atomic_fetch_or_explicit(&q->head, CLOSED, memory_order_seq_cst);
    CT_CHAOS();
    ct_eventcount_notify_all(&q->not_empty);
    ct_eventcount_notify_all(&q->not_full);
}

#endif
