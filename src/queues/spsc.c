/* The SPSC ring's cold paths: create/destroy, blocking push/pop, close, and the wake. The hot
 * paths (try_push/try_pop) are static inline in contend/spsc.h, which also states the
 * invariants, the role contract and the no-lost-wakeup argument these functions rely on. */
#include "contend/spsc.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "contend/queue.h"
#include "contend/wait.h"

ct_spsc *ct_spsc_create(size_t capacity)
{
    if (capacity == 0 || capacity > CT_SPSC_MAX_CAPACITY) {
        errno = EINVAL;
        return NULL;
    }
    size_t cap = 1;
    while (cap < capacity)
        cap <<= 1;
    ct_spsc *q = aligned_alloc(CT_PAD, sizeof *q); /* sizeof is a multiple of CT_PAD */
    if (q == NULL)
        return NULL; /* errno = ENOMEM */
    /* The slots on lines of their own too: the first and last slot written every lap must not
     * share a line with some unrelated hot object. */
    size_t bytes = (cap * sizeof(void *) + CT_PAD - 1) / CT_PAD * CT_PAD;
    q->slots = aligned_alloc(CT_PAD, bytes);
    if (q->slots == NULL) {
        free(q);
        errno = ENOMEM;
        return NULL;
    }
    q->mask = cap - 1;
    /* Relaxed: the queue is not shared yet; whatever shares it (thread creation, a release
     * store of the pointer) carries the ordering. */
    atomic_store_explicit(&q->tail, 0, memory_order_relaxed);
    atomic_store_explicit(&q->head, 0, memory_order_relaxed);
    atomic_store_explicit(&q->producer_sleeping, 0, memory_order_relaxed);
    atomic_store_explicit(&q->consumer_sleeping, 0, memory_order_relaxed);
    q->head_cache = 0;
    q->tail_cache = 0;
    return q;
}

void ct_spsc_destroy(ct_spsc *q)
{
    if (q == NULL)
        return;
    free(q->slots);
    free(q);
}

size_t ct_spsc_capacity(const ct_spsc *q) { return (size_t)q->mask + 1; }

size_t ct_spsc_size(ct_spsc *q)
{
    /* Acquire, head first: tail only grows, so tail_index >= the head we read, and the result
     * is a value the size had at some instant between the loads (clamped: the consumer may pop
     * between them, letting the producer push past head + cap). */
    uint64_t h = atomic_load_explicit(&q->head, memory_order_acquire);
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_acquire) & CT_SPSC__INDEX;
    uint64_t n = t - h;
    return n > q->mask + 1 ? (size_t)q->mask + 1 : (size_t)n;
}

void ct__spsc_wake(_Atomic uint32_t *flag)
{
    /* Seq_cst: in the order S of the header's argument this exchange follows the waker's
     * publish, so a sleeper that re-announces after it (its exchange reads our 0) then sees
     * that publish with its seq_cst re-check. Only the thread that turns 1 into 0 makes the
     * system call, so concurrent wakers (the other side and a closer) wake once. INT_MAX:
     * the role contract allows one sleeper per flag, but waking all costs nothing extra. */
    if (atomic_exchange_explicit(flag, 0, memory_order_seq_cst))
        ct_futex_wake(flag, INT_MAX);
}

/* Sleep on flag (ours) unless ready() says the wait is over. Returns 0 after a wake, a spurious
 * return or a condition that turned true, ETIMEDOUT once the deadline has passed. */
static int sleep_on(_Atomic uint32_t *flag, bool ready, uint64_t deadline_ns)
{
    if (ready) {
        /* Relaxed: we are not going to sleep; a waker that still reads our stale 1 only makes
         * a useless wake call. Nobody else writes 1. */
        atomic_store_explicit(flag, 0, memory_order_relaxed);
        return 0;
    }
    if (ct_futex_wait(flag, 1, deadline_ns) != 0 && errno == ETIMEDOUT) {
        atomic_store_explicit(flag, 0, memory_order_relaxed); /* as above */
        return ETIMEDOUT;
    }
    return 0;
}

bool ct_spsc_push_until(ct_spsc *q, void *item, uint64_t deadline_ns)
{
    ct_backoff b = CT_BACKOFF_INIT;
    for (;;) {
        int err = ct__spsc_push(q, item);
        if (err == 0)
            return true;
        if (err == EPIPE)
            break;
        if (!ct_backoff_snooze(&b))
            continue;
        /* Announce, then re-check (header: A then B). Seq_cst RMW: the announcement enters S
         * before the re-check loads. */
        atomic_exchange_explicit(&q->producer_sleeping, 1, memory_order_seq_cst);
        CT_CHAOS();
        /* Seq_cst loads: the re-check half; a consumer's exchange of head (or a closer's
         * fetch_or of tail) that they miss comes later in S than our announcement, and its
         * seq_cst load of producer_sleeping will see it. */
        uint64_t t = atomic_load_explicit(&q->tail, memory_order_seq_cst);
        uint64_t h = atomic_load_explicit(&q->head, memory_order_seq_cst);
        bool ready = (t & CT_SPSC__CLOSED) || t - h <= q->mask;
        if (sleep_on(&q->producer_sleeping, ready, deadline_ns) == ETIMEDOUT) {
            err = ct__spsc_push(q, item); /* one last look after the deadline */
            if (err == 0)
                return true;
            errno = err == EPIPE ? EPIPE : ETIMEDOUT;
            return false;
        }
        CT_CHAOS();
    }
    errno = EPIPE;
    return false;
}

bool ct_spsc_pop_until(ct_spsc *q, void **item, uint64_t deadline_ns)
{
    ct_backoff b = CT_BACKOFF_INIT;
    for (;;) {
        int err = ct__spsc_pop(q, item);
        if (err == 0)
            return true;
        if (err == EPIPE)
            break;
        if (!ct_backoff_snooze(&b))
            continue;
        /* Announce, then re-check: the consumer side of the header's argument (A, B). */
        atomic_exchange_explicit(&q->consumer_sleeping, 1, memory_order_seq_cst);
        CT_CHAOS();
        /* Seq_cst: B. Head is ours, so only tail needs looking at. */
        uint64_t t = atomic_load_explicit(&q->tail, memory_order_seq_cst);
        uint64_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
        bool ready = (t & CT_SPSC__CLOSED) || (t & CT_SPSC__INDEX) != h;
        if (sleep_on(&q->consumer_sleeping, ready, deadline_ns) == ETIMEDOUT) {
            err = ct__spsc_pop(q, item);
            if (err == 0)
                return true;
            errno = err == EPIPE ? EPIPE : ETIMEDOUT;
            return false;
        }
        CT_CHAOS();
    }
    errno = EPIPE;
    return false;
}

bool ct_spsc_push(ct_spsc *q, void *item) { return ct_spsc_push_until(q, item, 0); }
bool ct_spsc_pop(ct_spsc *q, void **item) { return ct_spsc_pop_until(q, item, 0); }

void ct_spsc_close(ct_spsc *q)
{
    /* Seq_cst RMW: a publish of tail like the producer's CAS (the closer plays the producer's
     * part in the argument towards both sleepers); release so a consumer seeing CLOSED also
     * sees what the closer did before. An RMW, so it cannot erase a concurrent push. */
    atomic_fetch_or_explicit(&q->tail, CT_SPSC__CLOSED, memory_order_seq_cst);
    CT_CHAOS();
    /* Seq_cst loads after the fetch_or in S: each sees its side's announcement if that side's
     * re-check missed CLOSED. The producer re-checks tail too, so it is covered the same way. */
    if (atomic_load_explicit(&q->consumer_sleeping, memory_order_seq_cst))
        ct__spsc_wake(&q->consumer_sleeping);
    if (atomic_load_explicit(&q->producer_sleeping, memory_order_seq_cst))
        ct__spsc_wake(&q->producer_sleeping);
}

/* ---- queue class "spsc" -------------------------------------------------------------- */

static void *spsc_create(size_t capacity) { return ct_spsc_create(capacity); }
static void spsc_destroy(void *q) { ct_spsc_destroy((ct_spsc *)q); }
static bool spsc_try_push(void *q, void *item) { return ct_spsc_try_push((ct_spsc *)q, item); }
static bool spsc_try_pop(void *q, void **item) { return ct_spsc_try_pop((ct_spsc *)q, item); }
static bool spsc_push(void *q, void *item) { return ct_spsc_push((ct_spsc *)q, item); }
static bool spsc_pop(void *q, void **item) { return ct_spsc_pop((ct_spsc *)q, item); }
static void spsc_close(void *q) { ct_spsc_close((ct_spsc *)q); }

extern const ct_queue_class ct_queue_spsc; /* listed in queue_list.h */
const ct_queue_class ct_queue_spsc = {
    .name = "spsc",
    .summary = "Lamport ring with cached indices, 1 producer + 1 consumer, capacity 2^k",
    .max_producers = 1,
    .max_consumers = 1,
    .create = spsc_create,
    .destroy = spsc_destroy,
    .try_push = spsc_try_push,
    .try_pop = spsc_try_pop,
    .push = spsc_push,
    .pop = spsc_pop,
    .close = spsc_close,
};
