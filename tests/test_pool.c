// ctest-timeout: 300
/* The work-stealing pool (contend/pool.h), every scheduler:
 *  - arguments: bad configs, NULL pointers, scheduler names;
 *  - fib(n) with a task at every call is exact for n <= 25 on 1..8 workers (fork-join, help
 *    while waiting, stealing);
 *  - nested groups three levels deep, each level waiting on its own group;
 *  - several outside threads spawning at once (injection queue), each into its own group and
 *    all into one shared group;
 *  - ping-pong: an outside thread spawns one task and sleeps until it is done, many times, so
 *    every task starts with the workers asleep: a lost wakeup hangs (ctest TIMEOUT fails it);
 *  - parallel_for covers each index exactly once: empty range, grain larger than the range,
 *    grain 1, automatic grain, from outside and from inside a task;
 *  - create + destroy many times (ASan's leak check, the TIMEOUT for hangs);
 *  - destroy with pending work (and work that spawns more) runs all of it;
 *  - statistics: tasks run == tasks spawned; an idle pool sleeps instead of spinning.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "contend/harness.h" /* ct_now_ns */
#include "contend/pool.h"
#include "test_util.h"

static const ct_sched scheds[] = {CT_SCHED_STEAL, CT_SCHED_STEAL_FIFO, CT_SCHED_CENTRAL};

static ct_pool *make(unsigned threads, ct_sched s)
{
    ct_pool_config c = {.threads = threads, .sched = s, .pin = false};
    ct_pool *p = ct_pool_create_with(&c);
    CT_CHECK(p != NULL, "create %u %s: errno %d", threads, ct_sched_name(s), errno);
    return p;
}

static void nop(void *arg) { (void)arg; }

static void test_args(void)
{
    errno = 0;
    CT_CHECK(ct_pool_create_with(NULL) == NULL && errno == EINVAL, "NULL config");
    ct_pool_config bad = {.threads = 1, .sched = (ct_sched)7};
    errno = 0;
    CT_CHECK(ct_pool_create_with(&bad) == NULL && errno == EINVAL, "bad sched");
    ct_pool_config big = {.threads = CT_POOL_MAX_THREADS + 1, .sched = CT_SCHED_STEAL};
    errno = 0;
    CT_CHECK(ct_pool_create_with(&big) == NULL && errno == EINVAL, "too many threads");
    ct_sched s;
    CT_CHECK(ct_sched_parse("steal-fifo", &s) == 0 && s == CT_SCHED_STEAL_FIFO, "parse");
    errno = 0;
    CT_CHECK(ct_sched_parse("lifo", &s) == -1 && errno == EINVAL, "parse bad");
    ct_pool *p = ct_pool_create(0);
    CT_CHECK(p && ct_pool_size(p) >= 1, "create(0)");
    ct_group g;
    ct_group_init(&g);
    CT_CHECK(ct_spawn(NULL, &g, nop, NULL) == EINVAL, "spawn NULL pool");
    CT_CHECK(ct_spawn(p, NULL, nop, NULL) == EINVAL, "spawn NULL group");
    CT_CHECK(ct_spawn(p, &g, NULL, NULL) == EINVAL, "spawn NULL fn");
    CT_CHECK(ct_pool_worker_index(p) == -1, "main thread is not a worker");
    ct_pool_stats st;
    errno = 0;
    CT_CHECK(ct_pool_worker_stats(p, ct_pool_size(p), &st) == -1 && errno == EINVAL,
             "stats index");
    ct_group_wait(p, &g); /* empty group: returns at once */
    ct_pool_destroy(p);
    ct_pool_destroy(NULL);
}

/* ---- fib: a task at every call ------------------------------------------------------- */

typedef struct fib_arg {
    ct_pool *p;
    unsigned n;
    uint64_t result;
} fib_arg;

static void fib_task(void *x)
{
    fib_arg *a = x;
    if (a->n < 2) {
        a->result = a->n;
        return;
    }
    fib_arg l = {a->p, a->n - 1, 0}, r = {a->p, a->n - 2, 0};
    ct_group g;
    ct_group_init(&g);
    CT_CHECK(ct_spawn(a->p, &g, fib_task, &l) == 0, "spawn");
    CT_CHECK(ct_spawn(a->p, &g, fib_task, &r) == 0, "spawn");
    ct_group_wait(a->p, &g);
    a->result = l.result + r.result;
}

static uint64_t fib_serial(unsigned n)
{
    uint64_t a = 0, b = 1;
    for (unsigned i = 0; i < n; i++) {
        uint64_t c = a + b;
        a = b;
        b = c;
    }
    return a;
}

static void test_fib(void)
{
#if defined(CT_SANITIZED) || defined(CT_CHAOS_BUILD)
    const unsigned big = 17;
#else
    const unsigned big = 25;
#endif
    for (size_t s = 0; s < 3; s++)
        for (unsigned t = 1; t <= 8; t++) {
            ct_pool *p = make(t, scheds[s]);
            unsigned ns[] = {0, 1, 2, 7, big};
            uint64_t tasks = 0;
            for (size_t k = 0; k < 5; k++) {
                fib_arg root = {p, ns[k], 0};
                ct_group g = CT_GROUP_INIT;
                CT_CHECK(ct_spawn(p, &g, fib_task, &root) == 0, "spawn root");
                ct_group_wait(p, &g);
                CT_CHECK(root.result == fib_serial(ns[k]), "%s x%u fib(%u) = %llu, want %llu",
                         ct_sched_name(scheds[s]), t, ns[k], (unsigned long long)root.result,
                         (unsigned long long)fib_serial(ns[k]));
                tasks += 2 * fib_serial(ns[k] + 1) - 1; /* calls of fib(n) */
            }
            ct_pool_stats st;
            ct_pool_total_stats(p, &st);
            CT_CHECK(st.tasks_run == tasks, "%s x%u: tasks_run %llu, spawned %llu",
                     ct_sched_name(scheds[s]), t, (unsigned long long)st.tasks_run,
                     (unsigned long long)tasks);
            ct_pool_destroy(p);
        }
}

/* ---- nested groups ---------------------------------------------------------------------- */

typedef struct nest_arg {
    ct_pool *p;
    unsigned depth;
    _Atomic uint64_t *leaves;
    uint64_t done; /* set by the task; read by the parent after its wait */
} nest_arg;

static void nest_task(void *x)
{
    nest_arg *a = x;
    if (a->depth == 0) {
        atomic_fetch_add_explicit(a->leaves, 1, memory_order_relaxed);
        a->done = 1;
        return;
    }
    nest_arg kids[5];
    ct_group g = CT_GROUP_INIT;
    for (int i = 0; i < 5; i++) {
        kids[i] = (nest_arg){a->p, a->depth - 1, a->leaves, 0};
        CT_CHECK(ct_spawn(a->p, &g, nest_task, &kids[i]) == 0, "spawn");
    }
    ct_group_wait(a->p, &g);
    uint64_t sum = 0;
    for (int i = 0; i < 5; i++)
        sum += kids[i].done; /* plain fields: the wait must make them visible */
    CT_CHECK(sum == (a->depth == 1 ? 5 : 5 * kids[0].done), "depth %u: children not done",
             a->depth);
    a->done = sum;
}

static void test_nested(void)
{
    for (size_t s = 0; s < 3; s++) {
        ct_pool *p = make(4, scheds[s]);
        _Atomic uint64_t leaves = 0;
        nest_arg root = {p, 4, &leaves, 0};
        ct_group g = CT_GROUP_INIT;
        CT_CHECK(ct_spawn(p, &g, nest_task, &root) == 0, "spawn");
        ct_group_wait(p, &g);
        CT_CHECK(atomic_load(&leaves) == 625 && root.done == 625, "%s: leaves %llu",
                 ct_sched_name(scheds[s]), (unsigned long long)atomic_load(&leaves));
        ct_pool_destroy(p);
    }
}

/* ---- outside spawners --------------------------------------------------------------------- */

struct count_task;
typedef struct outside_arg {
    ct_pool *p;
    ct_group *shared;
    struct count_task *shared_task; /* outlives the spawner: its tasks may still be pending */
    unsigned id, per;
} outside_arg;

typedef struct count_task {
    _Atomic uint64_t *counter;
    uint64_t *plain; /* written by the task, read by the spawner after its wait */
} count_task;

static void count_fn(void *x)
{
    count_task *c = x;
    atomic_fetch_add_explicit(c->counter, 1, memory_order_relaxed);
    if (c->plain)
        *c->plain += 1;
}

static void *outside_main(void *x)
{
    outside_arg *a = x;
    _Atomic uint64_t mine = 0;
    uint64_t *plain = calloc(a->per, sizeof *plain);
    count_task *own = calloc(a->per, sizeof *own);
    CT_CHECK(plain && own, "oom");
    ct_group g = CT_GROUP_INIT;
    ct_test_start_barrier();
    for (unsigned i = 0; i < a->per; i++) {
        own[i] = (count_task){&mine, &plain[i]};
        CT_CHECK(ct_spawn(a->p, &g, count_fn, &own[i]) == 0, "spawn own");
        CT_CHECK(ct_spawn(a->p, a->shared, count_fn, a->shared_task) == 0, "spawn shared");
    }
    ct_group_wait(a->p, &g);
    CT_CHECK(atomic_load(&mine) == a->per, "spawner %u: %llu of %u ran", a->id,
             (unsigned long long)atomic_load(&mine), a->per);
    for (unsigned i = 0; i < a->per; i++)
        CT_CHECK(plain[i] == 1, "spawner %u: task %u's write not visible after wait", a->id, i);
    free(plain);
    free(own);
    return NULL;
}

static void test_outside_spawners(void)
{
    const unsigned spawners = 4, per = (unsigned)ct_test_scale(20000);
    for (size_t s = 0; s < 3; s++) {
        ct_pool *p = make(3, scheds[s]);
        ct_group shared = CT_GROUP_INIT;
        _Atomic uint64_t shared_count = 0;
        count_task sh = {&shared_count, NULL};
        outside_arg args[4];
        for (unsigned i = 0; i < spawners; i++)
            args[i] = (outside_arg){p, &shared, &sh, i, per};
        ct_test_run_threads(spawners, outside_main, args, sizeof args[0]);
        ct_group_wait(p, &shared);
        CT_CHECK(atomic_load(&shared_count) == (uint64_t)spawners * per, "%s: shared %llu",
                 ct_sched_name(scheds[s]), (unsigned long long)atomic_load(&shared_count));
        ct_pool_destroy(p);
    }
}

static void test_ping_pong(void)
{
    const unsigned rounds = (unsigned)ct_test_scale(3000);
    for (size_t s = 0; s < 3; s++) {
        ct_pool *p = make(2, scheds[s]);
        _Atomic uint64_t c = 0;
        uint64_t plain = 0;
        count_task t = {&c, &plain};
        for (unsigned i = 0; i < rounds; i++) {
            ct_group g = CT_GROUP_INIT;
            CT_CHECK(ct_spawn(p, &g, count_fn, &t) == 0, "spawn");
            ct_group_wait(p, &g);
            CT_CHECK(plain == i + 1, "%s round %u: task's write not visible",
                     ct_sched_name(scheds[s]), i);
            if (i % 500 == 0) { /* let the workers fall asleep */
                struct timespec ts = {0, 2000000};
                nanosleep(&ts, NULL);
            }
        }
        ct_pool_destroy(p);
    }
}

/* ---- parallel_for ------------------------------------------------------------------------ */

typedef struct pf_check {
    _Atomic uint32_t *hits;
    size_t begin, end;
    _Atomic uint64_t bad;
} pf_check;

static void pf_body(size_t lo, size_t hi, void *arg)
{
    pf_check *c = arg;
    if (lo >= hi || lo < c->begin || hi > c->end)
        atomic_fetch_add(&c->bad, 1);
    for (size_t i = lo; i < hi && i < c->end; i++)
        atomic_fetch_add_explicit(&c->hits[i], 1, memory_order_relaxed);
}

static void pf_run(ct_pool *p, size_t begin, size_t end, size_t grain, const char *what)
{
    size_t cap = end + 1;
    pf_check c = {calloc(cap, sizeof(_Atomic uint32_t)), begin, end, 0};
    CT_CHECK(c.hits, "oom");
    ct_parallel_for(p, begin, end, grain, pf_body, &c);
    CT_CHECK(atomic_load(&c.bad) == 0, "%s: bad subrange", what);
    for (size_t i = 0; i < cap; i++) {
        uint32_t want = i >= begin && i < end ? 1 : 0;
        CT_CHECK(atomic_load(&c.hits[i]) == want, "%s [%zu,%zu) grain %zu: index %zu hit %u",
                 what, begin, end, grain, i, atomic_load(&c.hits[i]));
    }
    free((void *)c.hits);
}

typedef struct pf_inside {
    ct_pool *p;
} pf_inside;

static void pf_inside_task(void *x)
{
    pf_inside *a = x;
    pf_run(a->p, 3, 5003, 0, "inside a task, auto grain");
    pf_run(a->p, 0, 777, 1, "inside a task, grain 1");
}

static void test_parallel_for(void)
{
    const size_t n = (size_t)ct_test_scale(100000);
    for (size_t s = 0; s < 3; s++) {
        const char *name = ct_sched_name(scheds[s]);
        ct_pool *p = make(3, scheds[s]);
        pf_run(p, 0, 0, 0, name);     /* empty */
        pf_run(p, 10, 10, 1, name);   /* empty, not at 0 */
        pf_run(p, 20, 10, 1, name);   /* begin > end: empty */
        pf_run(p, 0, 100, 1000, name); /* grain larger than the range */
        pf_run(p, 5, 6, 1, name);     /* one index */
        pf_run(p, 0, 1000, 1, name);  /* grain 1 */
        pf_run(p, 0, n, 0, name);     /* automatic */
        pf_run(p, 7, n, 333, name);
        pf_inside in = {p};
        ct_group g = CT_GROUP_INIT;
        CT_CHECK(ct_spawn(p, &g, pf_inside_task, &in) == 0, "spawn");
        ct_group_wait(p, &g);
        errno = 0;
        ct_parallel_for(NULL, 0, 10, 1, pf_body, NULL);
        CT_CHECK(errno == EINVAL, "parallel_for NULL pool");
        ct_pool_destroy(p);
    }
}

/* ---- lifetime ------------------------------------------------------------------------------ */

static void test_create_destroy(void)
{
    const unsigned rounds = (unsigned)ct_test_scale(1000);
    for (unsigned i = 0; i < rounds; i++) {
        ct_pool *p = make(1 + i % 4, scheds[i % 3]);
        if (i % 2) { /* half of them with a little work in flight */
            _Atomic uint64_t c = 0;
            count_task t = {&c, NULL};
            ct_group g = CT_GROUP_INIT;
            for (int k = 0; k < 4; k++)
                CT_CHECK(ct_spawn(p, &g, count_fn, &t) == 0, "spawn");
            ct_group_wait(p, &g);
            CT_CHECK(atomic_load(&c) == 4, "round %u", i);
        }
        ct_pool_destroy(p);
    }
}

typedef struct pending_arg {
    ct_pool *p;
    ct_group *g;
    _Atomic uint64_t *count;
    unsigned fanout;
} pending_arg;

static void pending_fn(void *x)
{
    pending_arg *a = x;
    atomic_fetch_add_explicit(a->count, 1, memory_order_relaxed);
    for (unsigned i = 0; i < a->fanout; i++) {
        pending_arg *leaf = a + 1 + i; /* the spawner laid out descriptors after ours */
        CT_CHECK(ct_spawn(a->p, a->g, pending_fn, leaf) == 0, "spawn child");
    }
}

static void test_destroy_pending(void)
{
    const unsigned roots = (unsigned)ct_test_scale(4000);
    for (size_t s = 0; s < 3; s++) {
        ct_pool *p = make(2, scheds[s]);
        _Atomic uint64_t count = 0;
        ct_group g = CT_GROUP_INIT;
        /* Each root: [root (fanout 3), leaf, leaf, leaf]. */
        pending_arg *d = calloc((size_t)roots * 4, sizeof *d);
        CT_CHECK(d, "oom");
        for (unsigned r = 0; r < roots; r++) {
            pending_arg *root = &d[r * 4];
            root[0] = (pending_arg){p, &g, &count, 3};
            for (int k = 1; k <= 3; k++)
                root[k] = (pending_arg){p, &g, &count, 0};
            CT_CHECK(ct_spawn(p, &g, pending_fn, root) == 0, "spawn root");
        }
        ct_pool_destroy(p); /* no wait: destroy must run all of it, children included */
        CT_CHECK(atomic_load(&count) == (uint64_t)roots * 4, "%s: %llu of %u tasks ran",
                 ct_sched_name(scheds[s]), (unsigned long long)atomic_load(&count), roots * 4);
        CT_CHECK((atomic_load(&g.state) & 0x7fffffffu) == 0, "group count not zero");
        free(d);
    }
}

/* ---- idle: sleeping, not spinning --------------------------------------------------------- */

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
           ((double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_usec) / 1e6;
}

static void test_idle_sleeps(void)
{
    for (size_t s = 0; s < 3; s++) {
        ct_pool *p = make(4, scheds[s]);
        _Atomic uint64_t c = 0;
        count_task t = {&c, NULL};
        ct_group g = CT_GROUP_INIT;
        CT_CHECK(ct_spawn(p, &g, count_fn, &t) == 0, "spawn");
        ct_group_wait(p, &g);
        struct timespec settle = {0, 100000000};
        nanosleep(&settle, NULL);
        double c0 = cpu_seconds();
        uint64_t w0 = ct_now_ns();
        struct timespec idle = {0, 300000000};
        nanosleep(&idle, NULL);
        double used = cpu_seconds() - c0, wall = (double)(ct_now_ns() - w0) / 1e9;
        /* 4 spinning workers would use ~4 CPUs (or both cores); sleeping ones ~nothing. */
        CT_CHECK(used < 0.25 * wall, "%s: idle pool of 4 used %.3f s CPU in %.3f s",
                 ct_sched_name(scheds[s]), used, wall);
        ct_pool_stats st;
        ct_pool_total_stats(p, &st);
        CT_CHECK(st.sleeps >= 1, "%s: no worker slept", ct_sched_name(scheds[s]));
        ct_pool_destroy(p);
    }
}

/* pin = true: every worker pins itself to one of the CPUs the process may use. */
static void test_pin(void)
{
    ct_pool_config c = {.threads = 3, .sched = CT_SCHED_STEAL, .pin = true};
    ct_pool *p = ct_pool_create_with(&c);
    CT_CHECK(p != NULL, "create pinned: errno %d", errno);
    uint64_t deadline = ct_now_ns() + 20000000000ull;
    for (unsigned i = 0; i < 3; i++) {
        ct_pool_stats st;
        for (;;) { /* a worker pins itself when it starts: wait for it */
            CT_CHECK(ct_pool_worker_stats(p, i, &st) == 0, "stats");
            if (st.pinned_cpu >= 0 || ct_now_ns() > deadline)
                break;
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        CT_CHECK(st.pinned_cpu >= 0, "worker %u not pinned", i);
    }
    ct_pool_destroy(p);
}

/* Deep fork-join on a few workers: nesting while waiting must stay bounded (fib(30) once
 * overflowed an 8 MiB stack under `central`: every waiter ran every other waiter's subtree). */
static void test_deep(void)
{
#if defined(CT_SANITIZED) || defined(CT_CHAOS_BUILD)
    const unsigned n = 22;
#else
    const unsigned n = 29;
#endif
    for (size_t s = 0; s < 3; s++)
        for (unsigned t = 2; t <= 4; t += 2) {
            ct_pool *p = make(t, scheds[s]);
            fib_arg root = {p, n, 0};
            ct_group g = CT_GROUP_INIT;
            CT_CHECK(ct_spawn(p, &g, fib_task, &root) == 0, "spawn root");
            ct_group_wait(p, &g);
            CT_CHECK(root.result == fib_serial(n), "%s x%u deep fib(%u) = %llu",
                     ct_sched_name(scheds[s]), t, n, (unsigned long long)root.result);
            ct_pool_destroy(p);
        }
}

int main(void)
{
    test_pin();
    test_deep();
    test_args();
    test_fib();
    test_nested();
    test_outside_spawners();
    test_ping_pong();
    test_parallel_for();
    test_create_destroy();
    test_destroy_pending();
    test_idle_sleeps();
    printf("test_pool: ok\n");
    return 0;
}
