/* contend/queue.h: the bounded-queue family and its registry.
 *
 * Every queue is reachable two ways:
 *  - typed, for users who want no indirection: contend/mpmc.h (ct_mpmc_*, lock-free, any
 *    number of producers and consumers), contend/spsc.h (ct_spsc_*, one producer and one
 *    consumer, hot paths inline), contend/mutex_queue.h (ct_mutexq_*, one mutex and two
 *    condition variables: the baseline);
 *  - through the registry below, a class table per queue, which the harness and users' own
 *    benchmarks use to treat all queues alike.
 *
 * Semantics common to every class (and to the typed APIs behind them):
 *  - An item is any void *, NULL included: the queue never looks at it, never frees it, and
 *    has no "empty" marker value. Items come out in FIFO order: all items pushed by one
 *    producer are popped in the order that producer pushed them (by one consumer, or spread
 *    over several consumers each of which sees them in that order).
 *  - Bounded: create(capacity) fails with NULL and errno EINVAL for capacity 0 or above 2^30,
 *    ENOMEM when memory runs out. A class may round capacity up (spsc: to a power of two),
 *    never down: at least `capacity` items fit.
 *  - try_push / try_pop never wait for room or for an item: no sleep, and no waiting on a
 *    full or empty queue. (mpmc's, like most bounded lock-free rings', may spin and yield
 *    for the few instructions another thread needs to finish publishing or freeing the one
 *    cell it needs: not lock-free there, as mpmc.h says; peers' adapters say theirs.)
 *    They fail only when the queue really is full (try_push) or empty (try_pop), or closed:
 *    a failure is never spurious. After close, try_push always fails and try_pop still
 *    returns the remaining items, failing once the queue is empty.
 *  - push / pop wait as long as needed (each class chooses how: spin, yield, sleep). push
 *    returns false once the queue is closed (the item was not enqueued); pop returns false
 *    once the queue is closed and empty. Neither fails for any other reason.
 *  - close is idempotent, may be called from any thread, wakes every waiter in push and pop,
 *    and leaves the items already in the queue poppable: every push that returned true
 *    yields an item that a pop or try_pop will return.
 *  - destroy frees the queue, not the items. Call it only when no thread is inside any
 *    operation on it any more (joined, or synchronized with after its last return).
 *  - max_producers / max_consumers: how many threads may push / pop concurrently (0 = any
 *    number). Using more is undefined behaviour, not a checked error: spsc says 1 and 1.
 *
 * Registered names: mpmc, mutex, spsc (src/queues/queue_list.h).
 */
#ifndef CONTEND_QUEUE_H
#define CONTEND_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ct_queue_class {
    const char *name, *summary;
    unsigned max_producers, max_consumers;   /* 0 = any number; spsc says 1 and 1 */
    void *(*create)(size_t capacity);        /* NULL + errno on bad capacity */
    void  (*destroy)(void *q);
    bool  (*try_push)(void *q, void *item);
    bool  (*try_pop)(void *q, void **item);
    bool  (*push)(void *q, void *item);      /* waits; false once closed */
    bool  (*pop)(void *q, void **item);      /* waits; false once closed and empty */
    void  (*close)(void *q);
} ct_queue_class;

/* Defines `const ct_queue_class sym` from a queue's typed API: prefix##_create(size_t),
 * prefix##_destroy, _try_push, _try_pop, _push, _pop and _close, on `type *`. The library's
 * queues are registered this way, and a user can wrap a queue of their own the same way. */
#define CT_QUEUE_CLASS_DEFINE(sym, queue_name, queue_summary, maxp, maxc, type, prefix)      \
    static void *sym##_create(size_t capacity) { return prefix##_create(capacity); }        \
    static void sym##_destroy(void *q) { prefix##_destroy((type *)q); }                      \
    static bool sym##_try_push(void *q, void *item) { return prefix##_try_push((type *)q, item); } \
    static bool sym##_try_pop(void *q, void **item) { return prefix##_try_pop((type *)q, item); } \
    static bool sym##_push(void *q, void *item) { return prefix##_push((type *)q, item); }  \
    static bool sym##_pop(void *q, void **item) { return prefix##_pop((type *)q, item); }   \
    static void sym##_close(void *q) { prefix##_close((type *)q); }                          \
    extern const ct_queue_class sym;                                                         \
    const ct_queue_class sym = {queue_name,     queue_summary, maxp,          maxc,         \
                                sym##_create,   sym##_destroy, sym##_try_push, sym##_try_pop, \
                                sym##_push,     sym##_pop,     sym##_close}

size_t ct_queue_class_count(void);
const ct_queue_class *ct_queue_class_get(size_t i);          /* NULL when i >= count */
const ct_queue_class *ct_queue_class_find(const char *name); /* NULL when unknown */

#endif
