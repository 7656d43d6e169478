// ctest-timeout: 240
/* The Chase-Lev deque (src/thread_pool/chase_lev.h), its invariants under contention:
 *  - single thread: LIFO take, FIFO steal, empty answers, growth keeps every task (I3);
 *  - I2, every index taken exactly once: one owner pushes bursts (growing the array while
 *    thieves steal from it, I4) and takes, three thieves steal; each task is a number whose
 *    slot in a table of counters must end at exactly 1 (a duplicate makes 2, a loss 0);
 *  - the last-element race: the owner pushes ONE task and takes it at once while thieves
 *    hammer the top, many thousand times; exactly one side gets it each time.
 * The task's three words are checked too (fn, arg, group all derived from the number), so a
 * torn read that was wrongly accepted would show.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../src/thread_pool/chase_lev.h"
#include "test_util.h"

static void fn_a(void *x) { (void)x; }

static ct_task task_of(uint64_t v)
{
    ct_task t = {fn_a, (void *)(uintptr_t)v, (struct ct_group *)(uintptr_t)(v * 8 + 8)};
    return t;
}

static uint64_t check_task(const ct_task *t)
{
    uint64_t v = (uint64_t)(uintptr_t)t->arg;
    CT_CHECK(t->fn == fn_a && (uintptr_t)t->group == (uintptr_t)(v * 8 + 8),
             "torn task for %llu", (unsigned long long)v);
    return v;
}

static void test_single(void)
{
    ct_cl_deque d;
    CT_CHECK(ct_cl_init(&d, 1) == 0, "init");
    ct_task t;
    CT_CHECK(ct_cl_take(&d, &t) == CT_CL_EMPTY, "take empty");
    CT_CHECK(ct_cl_steal(&d, &t, NULL) == CT_CL_EMPTY, "steal empty");
    for (uint64_t i = 0; i < 1000; i++) { /* grows 64 -> 1024 */
        ct_task x = task_of(i);
        CT_CHECK(ct_cl_push(&d, &x) == (int64_t)i, "push %llu", (unsigned long long)i);
    }
    for (uint64_t i = 0; i < 10; i++) {
        CT_CHECK(ct_cl_steal(&d, &t, NULL) == CT_CL_OK && check_task(&t) == i, "steal FIFO");
    }
    for (uint64_t i = 999; i >= 10; i--) {
        CT_CHECK(ct_cl_take(&d, &t) == CT_CL_OK && check_task(&t) == i, "take LIFO %llu",
                 (unsigned long long)i);
    }
    CT_CHECK(ct_cl_take(&d, &t) == CT_CL_EMPTY, "empty again");
    CT_CHECK(ct_cl_steal(&d, &t, NULL) == CT_CL_EMPTY, "empty again (steal)");
    ct_cl_destroy(&d);
}

typedef struct shared {
    ct_cl_deque d;
    _Atomic uint8_t *seen;
    _Atomic int done;
    _Atomic uint64_t stolen;
} shared;

typedef struct targ {
    shared *s;
    unsigned id;
} targ;

static void mark(shared *s, const ct_task *t)
{
    uint64_t v = check_task(t);
    uint8_t old = atomic_fetch_add_explicit(&s->seen[v], 1, memory_order_relaxed);
    CT_CHECK(old == 0, "task %llu taken twice", (unsigned long long)v);
}

static void *thief(void *x)
{
    targ *a = x;
    shared *s = a->s;
    ct_test_start_barrier();
    uint64_t got = 0;
    for (;;) {
        ct_task t;
        int r = ct_cl_steal(&s->d, &t, NULL);
        if (r == CT_CL_OK) {
            mark(s, &t);
            got++;
        } else if (r == CT_CL_EMPTY && atomic_load(&s->done)) {
            break;
        }
    }
    atomic_fetch_add(&s->stolen, got);
    return NULL;
}

static void *owner(void *x)
{
    targ *a = x;
    shared *s = a->s;
    const uint64_t n = ct_test_scale(2000000);
    ct_test_start_barrier();
    uint64_t next = 0, rng = 88172645463325252ull;
    while (next < n) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        unsigned burst = (unsigned)(rng % 300) + 1; /* sometimes past the capacity: grow */
        for (unsigned i = 0; i < burst && next < n; i++) {
            ct_task t = task_of(next++);
            CT_CHECK(ct_cl_push(&s->d, &t) >= 0, "push");
        }
        unsigned takes = (unsigned)((rng >> 20) % (burst + 1));
        for (unsigned i = 0; i < takes; i++) {
            ct_task t;
            if (ct_cl_take(&s->d, &t) != CT_CL_OK)
                break;
            mark(s, &t);
        }
    }
    ct_task t;
    while (ct_cl_take(&s->d, &t) == CT_CL_OK)
        mark(s, &t);
    atomic_store(&s->done, 1);
    return NULL;
}

static void *dispatch(void *x)
{
    targ *a = x;
    return a->id == 0 ? owner(x) : thief(x);
}

static void test_contended(void)
{
    const uint64_t n = ct_test_scale(2000000);
    shared s;
    CT_CHECK(ct_cl_init(&s.d, 64) == 0, "init");
    s.seen = calloc(n, 1);
    CT_CHECK(s.seen, "oom");
    atomic_init(&s.done, 0);
    atomic_init(&s.stolen, 0);
    targ args[4];
    for (unsigned i = 0; i < 4; i++)
        args[i] = (targ){&s, i};
    ct_test_run_threads(4, dispatch, args, sizeof args[0]);
    for (uint64_t i = 0; i < n; i++)
        CT_CHECK(atomic_load(&s.seen[i]) == 1, "task %llu taken %u times",
                 (unsigned long long)i, atomic_load(&s.seen[i]));
    printf("contended: %llu tasks, %llu stolen\n", (unsigned long long)n,
           (unsigned long long)atomic_load(&s.stolen));
    free((void *)s.seen);
    ct_cl_destroy(&s.d);
}

/* The last element: the owner pushes one task and takes it at once. */
static void *last_owner(void *x)
{
    targ *a = x;
    shared *s = a->s;
    const uint64_t n = ct_test_scale(400000);
    ct_test_start_barrier();
    for (uint64_t i = 0; i < n; i++) {
        ct_task t = task_of(i);
        CT_CHECK(ct_cl_push(&s->d, &t) >= 0, "push");
        for (uint64_t k = 0; k < (i * 7) % 97; k++) /* vary the window thieves have */
            ct_cpu_relax();
        if (ct_cl_take(&s->d, &t) == CT_CL_OK)
            mark(s, &t);
        /* Lost: a thief has it (it will mark it). The deque is empty either way. */
    }
    atomic_store(&s->done, 1);
    return NULL;
}

static void *last_dispatch(void *x)
{
    targ *a = x;
    return a->id == 0 ? last_owner(x) : thief(x);
}

static void test_last_element(void)
{
    const uint64_t n = ct_test_scale(400000);
    shared s;
    CT_CHECK(ct_cl_init(&s.d, 64) == 0, "init");
    s.seen = calloc(n, 1);
    CT_CHECK(s.seen, "oom");
    atomic_init(&s.done, 0);
    atomic_init(&s.stolen, 0);
    targ args[3];
    for (unsigned i = 0; i < 3; i++)
        args[i] = (targ){&s, i};
    ct_test_run_threads(3, last_dispatch, args, sizeof args[0]);
    for (uint64_t i = 0; i < n; i++)
        CT_CHECK(atomic_load(&s.seen[i]) == 1, "last-element task %llu taken %u times",
                 (unsigned long long)i, atomic_load(&s.seen[i]));
    printf("last element: %llu races, %llu won by thieves\n", (unsigned long long)n,
           (unsigned long long)atomic_load(&s.stolen));
    free((void *)s.seen);
    ct_cl_destroy(&s.d);
}

int main(void)
{
    test_single();
    test_contended();
    test_last_element();
    printf("test_chase_lev: ok\n");
    return 0;
}
