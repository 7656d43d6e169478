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
#include <time.h>
#include <unistd.h>

#include "contend/arch.h"
#include "contend/lock.h"
#include "contend/lock/adaptive.h"
#include "test_util.h"

#define OWNER_FREE 0u

typedef struct shared {
    const ct_lock_class *cls;
    void *lock;
    _Atomic uint32_t owner; /* OWNER_FREE, or the id + 1 of the thread inside */
    uint64_t counter;       /* plain on purpose: only the lock protects it */
    uint32_t last;          /* plain: the id + 1 of the previous holder */
    uint64_t handoffs;      /* plain: acquisitions by a different thread than the last */
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
        if (sh->last != me) {
            sh->last = me;
            sh->handoffs++;
        }
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
    uint64_t total = 2000000;
    if (spins_only(cls) && (long)threads > cpus)
        total = 200000;
    return ct_test_scale(total);
}

/* Returns the number of handoffs between threads: a diagnostic that the threads overlapped. */
static uint64_t stress(const ct_lock_class *cls, unsigned threads, long cpus)
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

    uint64_t handoffs = sh->handoffs;
    for (unsigned t = 0; t < threads; t++)
        free(ws[t].node);
    free(ws);
    cls->destroy(sh->lock);
    free(sh->lock);
    free(sh);
    return handoffs;
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

/* ---- bounded waiting under a lock hog ----------------------------------------------- */

/* A hog holds the lock for HOG_HOLD_NS at a time and re-takes it at once after each release
 * (barging beats a waiter to it). A lock that promises bounded waiting must still let the
 * waiters in while the hog runs: FIFO locks by construction, the adaptive lock through its
 * handoff mode (a woken waiter that fails for CT_ADAPTIVE_STARVE_NS, 1 ms, makes unlock hand
 * the lock over directly). The hog stops once the waiters are done, or after HOG_MAX_NS; the
 * check is that the waiters finished first. The margin is wide (expected: a few ms; allowed:
 * 2 s), so the check states the contract, not a speed. Also exercises mutual exclusion across
 * handoffs. */
#define HOG_HOLD_NS 200000ull
#define HOG_MAX_NS 2000000000ull
#define HOG_WAITER_ROUNDS 3

typedef struct hog_shared {
    shared sh;
    _Atomic uint32_t waiters_done;
    uint32_t waiters;
    uint64_t hog_rounds; /* written by the hog, read after the join */
    bool hog_timed_out;  /* likewise */
} hog_shared;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void enter(shared *sh, uint32_t me)
{
    if (atomic_load_explicit(&sh->owner, memory_order_relaxed) != OWNER_FREE)
        atomic_fetch_add_explicit(&sh->violations, 1, memory_order_relaxed);
    atomic_store_explicit(&sh->owner, me, memory_order_relaxed);
    sh->counter++;
}

static void leave(shared *sh, uint32_t me)
{
    if (atomic_load_explicit(&sh->owner, memory_order_relaxed) != me)
        atomic_fetch_add_explicit(&sh->violations, 1, memory_order_relaxed);
    atomic_store_explicit(&sh->owner, OWNER_FREE, memory_order_relaxed);
}

static void *hog_worker(void *arg)
{
    worker *w = arg;
    hog_shared *h = (hog_shared *)w->sh;
    const ct_lock_class *cls = h->sh.cls;
    uint32_t me = w->id + 1;
    ct_test_start_barrier();
    if (w->id == 0) {
        uint64_t give_up = mono_ns() + HOG_MAX_NS;
        uint64_t rounds = 0;
        while (atomic_load_explicit(&h->waiters_done, memory_order_relaxed) < h->waiters) {
            if (mono_ns() >= give_up) {
                h->hog_timed_out = true;
                break;
            }
            cls->lock(h->sh.lock, w->node);
            enter(&h->sh, me);
            uint64_t until = mono_ns() + HOG_HOLD_NS;
            while (mono_ns() < until)
                ct_cpu_relax();
            leave(&h->sh, me);
            cls->unlock(h->sh.lock, w->node);
            rounds++;
        }
        h->hog_rounds = rounds;
    } else {
        for (int i = 0; i < HOG_WAITER_ROUNDS; i++) {
            cls->lock(h->sh.lock, w->node);
            enter(&h->sh, me);
            leave(&h->sh, me);
            cls->unlock(h->sh.lock, w->node);
        }
        atomic_fetch_add_explicit(&h->waiters_done, 1, memory_order_relaxed);
    }
    return NULL;
}

static void bounded_waiting(const ct_lock_class *cls)
{
    enum { THREADS = 3 };
    hog_shared *h = alloc_lines(sizeof *h);
    h->sh.cls = cls;
    h->sh.lock = alloc_lines(cls->size);
    h->waiters = THREADS - 1;
    CT_CHECK(cls->init(h->sh.lock) == 0, "%s: init", cls->name);
    worker *ws = alloc_lines(sizeof *ws * THREADS);
    for (unsigned t = 0; t < THREADS; t++) {
        ws[t].sh = &h->sh;
        ws[t].node = cls->node_size ? alloc_lines(cls->node_size) : NULL;
        ws[t].id = t;
    }
    ct_test_run_threads(THREADS, hog_worker, ws, sizeof *ws);
    uint64_t v = atomic_load_explicit(&h->sh.violations, memory_order_relaxed);
    CT_CHECK(v == 0, "%s, hog: %llu mutual-exclusion violations", cls->name,
             (unsigned long long)v);
    CT_CHECK(h->sh.counter == h->hog_rounds + (THREADS - 1) * HOG_WAITER_ROUNDS,
             "%s, hog: counter %llu", cls->name, (unsigned long long)h->sh.counter);
    CT_CHECK(!h->hog_timed_out, "%s: waiters starved for %llu ms behind a lock hog", cls->name,
             (unsigned long long)(HOG_MAX_NS / 1000000u));
    printf("ok %-14s bounded waiting: waiters in after %llu hog rounds\n", cls->name,
           (unsigned long long)h->hog_rounds);
    for (unsigned t = 0; t < THREADS; t++)
        free(ws[t].node);
    free(ws);
    cls->destroy(h->sh.lock);
    free(h->sh.lock);
    free(h);
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
    /* Bounded waiting is a promise only of the locks that make it: FIFO locks trivially, and
     * the adaptive lock through its handoff mode. The barging locks (tas, futex, pthread)
     * promise nothing here. */
    static const char *const bounded[] = {"ticket", "mcs", "adaptive"};
    for (size_t i = 0; i < sizeof bounded / sizeof bounded[0]; i++)
        bounded_waiting(ct_lock_class_find(bounded[i]));
    static const unsigned thread_counts[] = {1, 2, 3, 4, 8};
    for (size_t i = 0; i < n; i++) {
        const ct_lock_class *cls = ct_lock_class_get(i);
        struct timespec t0, t1;
        uint64_t handoffs = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (size_t k = 0; k < sizeof thread_counts / sizeof thread_counts[0]; k++)
            handoffs += stress(cls, thread_counts[k], cpus);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("ok %-14s %8.1f ms, %llu handoffs between threads\n", cls->name,
               (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
               (unsigned long long)handoffs);
        fflush(stdout);
    }
    /* The adaptive lock again in its FENCE mode (an RMW after the release store instead of
     * the parker's membarrier), the mode it falls back to where membarrier is unavailable,
     * so that both sides of the Dekker pair are tested on every machine. */
    const ct_lock_class *adaptive = ct_lock_class_find("adaptive");
    bool membarrier = ct__adaptive_force_fence(true);
    trylock_semantics(adaptive);
    bounded_waiting(adaptive);
    uint64_t fence_handoffs = 0;
    for (size_t k = 0; k < sizeof thread_counts / sizeof thread_counts[0]; k++)
        fence_handoffs += stress(adaptive, thread_counts[k], cpus);
    ct__adaptive_force_fence(false);
    printf("ok %-14s FENCE mode, %llu handoffs between threads (membarrier mode %s)\n",
           adaptive->name, (unsigned long long)fence_handoffs,
           membarrier ? "available, tested above" : "unavailable here: FENCE mode above too");
    /* And in the degraded mode it would enter if membarrier failed after registration:
     * bounded sleeps with rechecks; mutual exclusion and progress must still hold. */
    ct__adaptive_force_degraded(true);
    uint64_t degraded_handoffs = 0;
    for (size_t k = 0; k < sizeof thread_counts / sizeof thread_counts[0]; k++)
        degraded_handoffs += stress(adaptive, thread_counts[k], cpus);
    ct__adaptive_force_degraded(false);
    printf("ok %-14s degraded mode (membarrier failing), %llu handoffs between threads\n",
           adaptive->name, (unsigned long long)degraded_handoffs);
    printf("test_locks: all %zu lock classes passed\n", n);
    return 0;
}
