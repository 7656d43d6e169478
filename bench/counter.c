/* Workload `counter`: every thread increments one shared counter.
 *
 * Each op: acquire, counter++ (a plain, non-atomic increment: a broken lock loses updates and
 * ThreadSanitizer reports the race), --cs-ns of work while holding, release; then --think-ns of
 * private work. Implementations:
 *   atomic    one fetch_add on the shared counter: the floor every lock is judged against
 *   sharded   per-thread counters on their own line pairs, summed at the end: no sharing at all
 *   <lock>    every lock class of the library (contend/lock.h) and every peer lock found
 * The counter sits on its own line pair, apart from the lock word, so every lock pays the same
 * two-line traffic (lock line + data line) and the data line never slows the lock's spinners.
 *
 * Verify: the final counter equals the sum of every thread's completed ops (warm-up included):
 * a lost or doubled update fails the run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contend/harness.h"
#include "contend/lock.h"
#include "peers/peers.h"

enum { IMPL_ATOMIC, IMPL_SHARDED, IMPL_FIRST_LOCK };

typedef struct sharded_slot {
    CT_PAD_ALIGNED _Atomic uint64_t value;
} sharded_slot;

typedef struct counter_state {
    CT_PAD_ALIGNED _Atomic uint64_t atomic_value; /* impl atomic */
    CT_PAD_ALIGNED uint64_t value;                /* lock impls: guarded by the lock */
    CT_PAD_ALIGNED const ct_lock_class *lc;
    void *lock;
    unsigned char *nodes; /* per-thread lock context, node_stride bytes each */
    size_t node_stride;
    sharded_slot *slots;
    uint64_t cs_iters, think_iters;
    int impl;
} counter_state;
CT_ASSERT_SEPARATE_LINES(counter_state, atomic_value, value);
CT_ASSERT_SEPARATE_LINES(counter_state, value, lc);

static const ct_lock_class *lock_at(size_t i)
{
    size_t nl = ct_lock_class_count();
    return i < nl ? ct_lock_class_get(i) : ct_peer_lock_class_get(i - nl);
}

static size_t counter_impl_count(void)
{
    return IMPL_FIRST_LOCK + ct_lock_class_count() + ct_peer_lock_class_count();
}

static const char *counter_impl_name(size_t i)
{
    if (i == IMPL_ATOMIC)
        return "atomic";
    if (i == IMPL_SHARDED)
        return "sharded";
    const ct_lock_class *lc = lock_at(i - IMPL_FIRST_LOCK);
    return lc ? lc->name : NULL;
}

static const char *counter_impl_summary(size_t i)
{
    if (i == IMPL_ATOMIC)
        return "one atomic fetch_add on the shared counter";
    if (i == IMPL_SHARDED)
        return "per-thread padded counters, summed at the end (no sharing)";
    const ct_lock_class *lc = lock_at(i - IMPL_FIRST_LOCK);
    return lc ? lc->summary : NULL;
}

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

static void counter_teardown(void *p)
{
    counter_state *s = p;
    if (!s)
        return;
    if (s->lock) {
        s->lc->destroy(s->lock);
        free(s->lock);
    }
    free(s->nodes);
    free(s->slots);
    free(s);
}

static void *counter_setup(const char *impl, unsigned threads, const ct_params *params,
                           char *err, size_t errlen)
{
    counter_state *s = aligned_alloc(CT_PAD, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memset(s, 0, sizeof *s);
    s->cs_iters = (uint64_t)((double)params->cs_ns * ct_work_iters_per_ns() + 0.5);
    s->think_iters = (uint64_t)((double)params->think_ns * ct_work_iters_per_ns() + 0.5);
    if (strcmp(impl, "atomic") == 0) {
        s->impl = IMPL_ATOMIC;
        return s;
    }
    if (strcmp(impl, "sharded") == 0) {
        s->impl = IMPL_SHARDED;
        s->slots = aligned_alloc(CT_PAD, sizeof(sharded_slot) * threads);
        if (!s->slots) {
            snprintf(err, errlen, "out of memory");
            counter_teardown(s);
            return NULL;
        }
        memset(s->slots, 0, sizeof(sharded_slot) * threads);
        return s;
    }
    s->impl = IMPL_FIRST_LOCK;
    s->lc = ct_lock_class_find(impl);
    if (!s->lc)
        s->lc = ct_peer_lock_class_find(impl);
    if (!s->lc) {
        snprintf(err, errlen, "counter: unknown implementation '%s'", impl);
        counter_teardown(s);
        return NULL;
    }
    /* The lock gets a line pair to itself; each node too (MCS waiters spin on their node). */
    s->lock = aligned_alloc(CT_PAD, round_up(s->lc->size, CT_PAD));
    s->node_stride = round_up(s->lc->node_size, CT_PAD);
    if (s->node_stride)
        s->nodes = aligned_alloc(CT_PAD, s->node_stride * threads);
    if (!s->lock || (s->node_stride && !s->nodes)) {
        snprintf(err, errlen, "out of memory");
        counter_teardown(s);
        return NULL;
    }
    memset(s->lock, 0, round_up(s->lc->size, CT_PAD));
    if (s->nodes)
        memset(s->nodes, 0, s->node_stride * threads);
    int e = s->lc->init(s->lock);
    if (e) {
        snprintf(err, errlen, "%s: init failed: %s", impl, strerror(e));
        free(s->lock);
        s->lock = NULL;
        counter_teardown(s);
        return NULL;
    }
    return s;
}

static void counter_main(ct_thread *t)
{
    counter_state *s = t->shared;
    const uint64_t cs = s->cs_iters, think = s->think_iters;
    if (s->impl == IMPL_ATOMIC) {
        while (ct_thread_running(t)) {
            uint64_t start = ct_op_begin(t);
            /* Relaxed: only the final value matters, read after join. */
            atomic_fetch_add_explicit(&s->atomic_value, 1, memory_order_relaxed);
            if (cs)
                ct_work_iters(cs);
            ct_op_end(t, start);
            if (think)
                ct_work_iters(think);
        }
    } else if (s->impl == IMPL_SHARDED) {
        _Atomic uint64_t *mine = &s->slots[t->index].value;
        while (ct_thread_running(t)) {
            uint64_t start = ct_op_begin(t);
            /* Only this thread writes its slot: a relaxed load and store (no RMW) is a plain
             * memory increment that a concurrent reader could still sum safely. */
            atomic_store_explicit(mine, atomic_load_explicit(mine, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
            if (cs)
                ct_work_iters(cs);
            ct_op_end(t, start);
            if (think)
                ct_work_iters(think);
        }
    } else {
        const ct_lock_class *lc = s->lc;
        void *lock = s->lock;
        void *node = s->nodes ? s->nodes + s->node_stride * t->index : NULL;
        while (ct_thread_running(t)) {
            uint64_t start = ct_op_begin(t);
            lc->lock(lock, node);
            s->value++;
            if (cs)
                ct_work_iters(cs);
            lc->unlock(lock, node);
            ct_op_end(t, start);
            if (think)
                ct_work_iters(think);
        }
    }
}

static bool counter_verify(void *p, const ct_thread *threads, unsigned n, char *msg, size_t len)
{
    counter_state *s = p;
    uint64_t expected = 0, got = 0;
    for (unsigned i = 0; i < n; i++)
        expected += threads[i].ops;
    if (s->impl == IMPL_ATOMIC) {
        got = atomic_load_explicit(&s->atomic_value, memory_order_relaxed);
    } else if (s->impl == IMPL_SHARDED) {
        for (unsigned i = 0; i < n; i++)
            got += atomic_load_explicit(&s->slots[i].value, memory_order_relaxed);
    } else {
        got = s->value;
    }
    if (got == expected)
        return true;
    snprintf(msg, len, "counter is %llu after %llu increments (%lld lost)",
             (unsigned long long)got, (unsigned long long)expected,
             (long long)(expected - got));
    return false;
}

const ct_workload ct_workload_counter = {
    .name = "counter",
    .summary = "threads increment one shared counter behind each lock, an atomic, or shards",
    .latency_note = "one sampled op = acquire + increment + cs work + release",
    .impl_count = counter_impl_count,
    .impl_name = counter_impl_name,
    .impl_summary = counter_impl_summary,
    .setup = counter_setup,
    .thread_main = counter_main,
    .verify = counter_verify,
    .teardown = counter_teardown,
};
