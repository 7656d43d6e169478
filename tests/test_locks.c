// ctest-timeout: 300
/* Every registered lock class: the registry contract, init/destroy, trylock semantics, and a
 * mutual-exclusion stress at 1, 2, 3, 4 and 8 threads (8 is past the core count on small
 * machines, where spinning and FIFO locks are slow but must stay correct).
 *
 * The stress checks the invariant two ways:
 *  - an owner word, read and written with relaxed atomics inside the critical section: on
 *    entry it must hold the "free" marker, we write our id, and it must still hold our id just
 *    before we leave. A lock that lets two threads in is caught in any build, and the relaxed
 *    atomics keep ThreadSanitizer from reporting the check itself;
 *  - a plain, non-atomic counter incremented inside the critical section: the final total
 *    must be exact, and under TSan a lock that fails to order two critical sections makes the
 *    increment a reported data race even when the count happens to come out right.
 * Even rounds use lock(), odd rounds spin on trylock() until it succeeds.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "contend/arch.h"
#include "contend/lock.h"
#include "test_util.h"

#define OWNER_FREE 0u

typedef struct shared {
    const ct_lock_class *cls;
    void *lock;
    _Atomic uint32_t owner; /* OWNER_FREE, or the id + 1 of the thread inside */
    uint64_t counter;       /* plain on purpose: only the lock protects it */
    _Atomic uint64_t violations;
} shared;

typedef struct worker {
    CT_CACHE_ALIGNED shared *sh; /* each worker on its own line */
    void *node;
    uint32_t id;
    uint64_t iters;
} worker;

static size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

static void *alloc_lines(size_t n)
{
    void *p = aligned_alloc(CT_CACHE_LINE, round_up(n ? n : 1, CT_CACHE_LINE));
    CT_CHECK(p != NULL, "out of memory");
    memset(p, 0, round_up(n ? n : 1, CT_CACHE_LINE));
    return p;
}

static void acquire(const ct_lock_class *cls, void *lock, void *node, uint64_t round)
{
    if (round & 1) {
        /* Spin on trylock. Yield now and then: with more threads than cores the holder may
         * need our CPU to get out of its critical section. */
        for (unsigned fails = 0; !cls->trylock(lock, node); fails++) {
            ct_cpu_relax();
            if ((fails & 63) == 63)
                sched_yield();
        }
    } else {
        cls->lock(lock, node);
    }
}

static void *stress_worker(void *arg)
{
    worker *w = arg;
    shared *sh = w->sh;
    const ct_lock_class *cls = sh->cls;
    uint32_t me = w->id + 1;
    ct_test_start_barrier();
    for (uint64_t i = 0; i < w->iters; i++) {
        acquire(cls, sh->lock, w->node, i + w->id);
        if (atomic_load_explicit(&sh->owner, memory_order_relaxed) != OWNER_FREE)
            atomic_fetch_add_explicit(&sh->violations, 1, memory_order_relaxed);
        atomic_store_explicit(&sh->owner, me, memory_order_relaxed);
        sh->counter++;
        if (atomic_load_explicit(&sh->owner, memory_order_relaxed) != me)
            atomic_fetch_add_explicit(&sh->violations, 1, memory_order_relaxed);
        atomic_store_explicit(&sh->owner, OWNER_FREE, memory_order_relaxed);
        cls->unlock(sh->lock, w->node);
    }
    return NULL;
}

/* Locks that never sleep: with more threads than cores every handoff to a preempted thread
 * can cost a time slice, so they get far fewer operations there. */
static bool spins_only(const ct_lock_class *cls)
{
    return strcmp(cls->name, "pthread-mutex") != 0 && strcmp(cls->name, "futex") != 0 &&
           strcmp(cls->name, "adaptive") != 0;
}

static uint64_t total_ops(const ct_lock_class *cls, unsigned threads, long cpus)
{
    uint64_t total = getenv("OPS") ? strtoull(getenv("OPS"), 0, 0) : 200000;
    if (spins_only(cls) && (long)threads > cpus)
        total = getenv("SOPS") ? strtoull(getenv("SOPS"), 0, 0) : 20000;
    return ct_test_scale(total);
}

static void stress(const ct_lock_class *cls, unsigned threads, long cpus)
{
    shared *sh = alloc_lines(sizeof *sh);
    sh->cls = cls;
    sh->lock = alloc_lines(cls->size);
    CT_CHECK(cls->init(sh->lock) == 0, "%s: init", cls->name);

    uint64_t per = total_ops(cls, threads, cpus) / threads;
    if (per == 0)
        per = 1;
    worker *ws = alloc_lines(sizeof *ws * threads);
    for (unsigned t = 0; t < threads; t++) {
        ws[t].sh = sh;
        ws[t].node = cls->node_size ? alloc_lines(cls->node_size) : NULL;
        ws[t].id = t;
        ws[t].iters = per;
    }
    ct_test_run_threads(threads, stress_worker, ws, sizeof *ws);

    uint64_t v = atomic_load_explicit(&sh->violations, memory_order_relaxed);
    CT_CHECK(v == 0, "%s, %u threads: %llu mutual-exclusion violations", cls->name, threads,
             (unsigned long long)v);
    CT_CHECK(sh->counter == per * threads, "%s, %u threads: counter %llu, expected %llu",
             cls->name, threads, (unsigned long long)sh->counter,
             (unsigned long long)(per * threads));
    CT_CHECK(atomic_load_explicit(&sh->owner, memory_order_relaxed) == OWNER_FREE,
             "%s: owner word not free at the end", cls->name);

    for (unsigned t = 0; t < threads; t++)
        free(ws[t].node);
    free(ws);
    cls->destroy(sh->lock);
    free(sh->lock);
    free(sh);
}

/* ---- trylock semantics -------------------------------------------------------------- */

typedef struct try_arg {
    const ct_lock_class *cls;
    void *lock;
    void *node;
    bool got;
} try_arg;

/* In another thread: trylock, and unlock again if it succeeded. */
static void *try_other(void *arg)
{
    try_arg *a = arg;
    a->got = a->cls->trylock(a->lock, a->node);
    if (a->got)
        a->cls->unlock(a->lock, a->node);
    return NULL;
}

static bool trylock_in_other_thread(const ct_lock_class *cls, void *lock, void *node)
{
    try_arg a = {cls, lock, node, false};
    pthread_t t;
    CT_CHECK(pthread_create(&t, NULL, try_other, &a) == 0, "pthread_create");
    pthread_join(t, NULL);
    return a.got;
}

static void trylock_semantics(const ct_lock_class *cls)
{
    void *lock = alloc_lines(cls->size);
    void *node = cls->node_size ? alloc_lines(cls->node_size) : NULL;
    void *other = cls->node_size ? alloc_lines(cls->node_size) : NULL;
    CT_CHECK(cls->init(lock) == 0, "%s: init", cls->name);

    CT_CHECK(cls->trylock(lock, node), "%s: trylock on a free lock failed", cls->name);
    CT_CHECK(!trylock_in_other_thread(cls, lock, other),
             "%s: trylock by another thread succeeded while held", cls->name);
    cls->unlock(lock, node);
    CT_CHECK(trylock_in_other_thread(cls, lock, other),
             "%s: trylock by another thread failed after unlock", cls->name);
    CT_CHECK(cls->trylock(lock, node), "%s: trylock failed after the other's unlock",
             cls->name);
    cls->unlock(lock, node);
    cls->lock(lock, node);
    CT_CHECK(!trylock_in_other_thread(cls, lock, other),
             "%s: trylock by another thread succeeded while locked", cls->name);
    cls->unlock(lock, node);

    cls->destroy(lock);
    free(other);
    free(node);
    free(lock);
}

/* ---- init/destroy and the registry -------------------------------------------------- */

static void init_destroy(const ct_lock_class *cls)
{
    void *lock = alloc_lines(cls->size);
    void *node = cls->node_size ? alloc_lines(cls->node_size) : NULL;
    for (int round = 0; round < 3; round++) {
        CT_CHECK(cls->init(lock) == 0, "%s: init, round %d", cls->name, round);
        for (int k = 0; k < 4; k++) {
            cls->lock(lock, node);
            cls->unlock(lock, node);
        }
        cls->destroy(lock);
    }
    free(node);
    free(lock);
}

static void registry(void)
{
    static const char *const expected[] = {"pthread-mutex", "pthread-spin", "tas",   "ttas",
                                           "ticket",        "mcs",          "futex", "adaptive"};
    size_t n = ct_lock_class_count();
    CT_CHECK(n >= sizeof expected / sizeof expected[0], "only %zu lock classes", n);
    CT_CHECK(ct_lock_class_get(n) == NULL, "get(count) is not NULL");
    CT_CHECK(ct_lock_class_get((size_t)-1) == NULL, "get(SIZE_MAX) is not NULL");
    CT_CHECK(ct_lock_class_find("nope") == NULL, "find(\"nope\") is not NULL");
    CT_CHECK(ct_lock_class_find("") == NULL, "find(\"\") is not NULL");
    CT_CHECK(ct_lock_class_find(NULL) == NULL, "find(NULL) is not NULL");
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        const ct_lock_class *c = ct_lock_class_get(i);
        CT_CHECK(c != NULL && strcmp(c->name, expected[i]) == 0, "class %zu is %s, expected %s",
                 i, c ? c->name : "(null)", expected[i]);
    }
    for (size_t i = 0; i < n; i++) {
        const ct_lock_class *c = ct_lock_class_get(i);
        CT_CHECK(c != NULL, "get(%zu) is NULL", i);
        CT_CHECK(c->name && c->name[0], "class %zu has no name", i);
        CT_CHECK(c->summary && c->summary[0], "%s: empty summary", c->name);
        CT_CHECK(strchr(c->summary, '\n') == NULL, "%s: summary is not one line", c->name);
        CT_CHECK(c->size > 0, "%s: size 0", c->name);
        CT_CHECK(c->init && c->destroy && c->lock && c->trylock && c->unlock,
                 "%s: missing operation", c->name);
        CT_CHECK(ct_lock_class_find(c->name) == c, "find(%s) does not return it", c->name);
        for (size_t j = 0; j < i; j++)
            CT_CHECK(strcmp(ct_lock_class_get(j)->name, c->name) != 0, "duplicate name %s",
                     c->name);
    }
}

int main(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    registry();
    size_t n = ct_lock_class_count();
    for (size_t i = 0; i < n; i++) {
        init_destroy(ct_lock_class_get(i));
        trylock_semantics(ct_lock_class_get(i));
    }
    static const unsigned thread_counts[] = {1, 2, 3, 4, 8};
    for (size_t i = 0; i < n; i++) {
        const ct_lock_class *cls = ct_lock_class_get(i);
        for (size_t k = 0; k < sizeof thread_counts / sizeof thread_counts[0]; k++) {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            stress(cls, thread_counts[k], cpus);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            printf("  %s %u threads: %.1f ms\n", cls->name, thread_counts[k], (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
        }
        printf("ok %s\n", cls->name);
        fflush(stdout);
    }
    printf("test_locks: all %zu lock classes passed\n", n);
    return 0;
}
