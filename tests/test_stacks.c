// ctest-timeout: 300
/* The Treiber stack family (contend/stack.h) under contention: for tagged, hazard, epoch and
 * mutex, 4 threads (oversubscribed on small machines, on purpose) push unique items and pop,
 * in bursts so the stack grows and empties; every pushed item must come out exactly once (a
 * bitmap per pusher, set with atomic fetch_or: a duplicate finds its bit set; after a final
 * drain every bit must be set: no loss). Use after free is what ASan watches in that build:
 * hazard and epoch really free popped nodes, so a premature free is a read of freed memory on
 * the next pop. Also: the registry, argument handling, the pending count draining to zero.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contend/stack.h"
#include "test_util.h"

#define THREADS 4
#define BURST 64

typedef struct shared {
    const ct_stack_class *c;
    void *s;
    uint64_t per_thread;
    _Atomic uint64_t *seen[THREADS]; /* bitmaps */
    _Atomic uint64_t dup, bad;
} shared;

typedef struct arg {
    shared *sh;
    unsigned id;
} arg;

static void record(shared *sh, void *item)
{
    uint64_t v = (uint64_t)(uintptr_t)item;
    unsigned tid = (unsigned)(v >> 40);
    uint64_t seq = (v & ((1ull << 40) - 1)) - 1; /* items start at 1: NULL is never pushed */
    if (tid >= THREADS || seq >= sh->per_thread) {
        atomic_fetch_add(&sh->bad, 1);
        return;
    }
    uint64_t bit = 1ull << (seq % 64);
    if (atomic_fetch_or(&sh->seen[tid][seq / 64], bit) & bit)
        atomic_fetch_add(&sh->dup, 1);
}

static void *worker(void *p)
{
    arg *a = p;
    shared *sh = a->sh;
    void *h = sh->c->join(sh->s);
    CT_CHECK(h != NULL, "%s: join: %s", sh->c->name, strerror(errno));
    ct_test_start_barrier();
    uint64_t next = 0;
    unsigned round = 0;
    while (next < sh->per_thread) {
        /* Bursts of pushes then pops, sizes varying with the thread and round. */
        unsigned pushes = 1 + (a->id * 7 + round * 13) % BURST;
        for (unsigned i = 0; i < pushes && next < sh->per_thread; i++) {
            uint64_t item = ((uint64_t)a->id << 40) | (++next);
            CT_CHECK(sh->c->push(sh->s, h, (void *)(uintptr_t)item), "%s: push: %s",
                     sh->c->name, strerror(errno));
        }
        unsigned pops = 1 + (a->id * 11 + round * 5) % BURST;
        for (unsigned i = 0; i < pops; i++) {
            void *it;
            if (!sh->c->pop(sh->s, h, &it))
                break;
            record(sh, it);
        }
        round++;
    }
    sh->c->leave(sh->s, h);
    return NULL;
}

static void stress_one(const ct_stack_class *c, uint64_t per_thread)
{
    shared sh;
    memset(&sh, 0, sizeof sh);
    sh.c = c;
    sh.per_thread = per_thread;
    sh.s = c->create(NULL);
    CT_CHECK(sh.s != NULL, "%s: create", c->name);
    for (unsigned t = 0; t < THREADS; t++) {
        sh.seen[t] = calloc(per_thread / 64 + 1, sizeof(uint64_t));
        CT_CHECK(sh.seen[t] != NULL, "out of memory");
    }
    arg args[THREADS];
    for (unsigned t = 0; t < THREADS; t++)
        args[t] = (arg){&sh, t};
    ct_test_run_threads(THREADS, worker, args, sizeof args[0]);
    /* Drain. */
    void *h = c->join(sh.s);
    CT_CHECK(h != NULL, "join");
    void *it;
    while (c->pop(sh.s, h, &it))
        record(&sh, it);
    c->reclaim(sh.s, h);
    c->reclaim(sh.s, h);
    c->reclaim(sh.s, h);
    size_t pending = c->pending(sh.s);
    c->leave(sh.s, h);
    CT_CHECK(atomic_load(&sh.bad) == 0, "%s: %llu popped items were never pushed", c->name,
             (unsigned long long)atomic_load(&sh.bad));
    CT_CHECK(atomic_load(&sh.dup) == 0, "%s: %llu items popped twice", c->name,
             (unsigned long long)atomic_load(&sh.dup));
    uint64_t missing = 0;
    for (unsigned t = 0; t < THREADS; t++)
        for (uint64_t s = 0; s < per_thread; s++)
            if (!(atomic_load(&sh.seen[t][s / 64]) & (1ull << (s % 64))))
                missing++;
    CT_CHECK(missing == 0, "%s: %llu items lost", c->name, (unsigned long long)missing);
    /* Quiescent: one thread left, the others gone. Hazard: every scan can free all (no slot
     * is set). Epoch: three advances with nobody inside free everything this record holds;
     * the other records' bins wait for their next owner (or destroy). */
    CT_CHECK(pending <= c->pending_bound(sh.s), "%s: %zu pending, bound %zu", c->name, pending,
             c->pending_bound(sh.s));
    printf("%-7s %d threads x %llu items: no loss, no duplicate; %zu pending at the end\n",
           c->name, THREADS, (unsigned long long)per_thread, pending);
    c->destroy(sh.s);
    for (unsigned t = 0; t < THREADS; t++)
        free(sh.seen[t]);
}

static void test_registry(void)
{
    CT_CHECK(ct_stack_class_count() == 5, "count %zu", ct_stack_class_count());
    static const char *const names[] = {"tagged", "hazard", "epoch", "mutex", "naive"};
    for (size_t i = 0; i < 5; i++) {
        const ct_stack_class *c = ct_stack_class_find(names[i]);
        CT_CHECK(c && ct_stack_class_get(i) == c, "%s", names[i]);
        CT_CHECK(c->broken == (i == 4), "%s: broken flag", names[i]);
        /* Single thread: LIFO, empty pop leaves the output alone, NULL is a valid item. */
        void *s = c->create(NULL);
        CT_CHECK(s, "%s: create", names[i]);
        void *h = c->join(s);
        CT_CHECK(h, "%s: join", names[i]);
        void *out = (void *)0x1;
        CT_CHECK(!c->pop(s, h, &out) && out == (void *)0x1, "%s: pop on empty", names[i]);
        for (uintptr_t v = 0; v < 100; v++)
            CT_CHECK(c->push(s, h, (void *)v), "%s: push", names[i]);
        for (uintptr_t v = 100; v-- > 0;) {
            CT_CHECK(c->pop(s, h, &out) && out == (void *)v, "%s: LIFO at %lu", names[i],
                     (unsigned long)v);
        }
        CT_CHECK(!c->pop(s, h, &out), "%s: empty again", names[i]);
        for (uintptr_t v = 0; v < 10; v++) /* destroy frees what is left */
            CT_CHECK(c->push(s, h, (void *)v), "%s: push", names[i]);
        c->leave(s, h);
        c->destroy(s);
    }
    CT_CHECK(ct_stack_class_get(5) == NULL, "get past the end");
    CT_CHECK(ct_stack_class_find("nosuch") == NULL && ct_stack_class_find(NULL) == NULL, "find");
    CT_CHECK(ct_stack_node_size() >= 2 * sizeof(void *), "node size");
}

int main(void)
{
    test_registry();
    uint64_t n = ct_test_scale(500000);
    static const char *const correct[] = {"tagged", "hazard", "epoch", "mutex"};
    for (size_t i = 0; i < 4; i++)
        stress_one(ct_stack_class_find(correct[i]), n);
    puts("test_stacks: ok");
    return 0;
}
