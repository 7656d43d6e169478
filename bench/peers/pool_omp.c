/* Peer for the `pool` workload: OpenMP tasks, compiled with the build compiler's -fopenmp.
 * gcc links libgomp (impl `omp-gcc`); clang links LLVM's libomp (impl `omp-llvm`). One OpenMP
 * runtime per process: the two must never load together (each keeps its own thread team and
 * their symbols collide), so a gcc build offers omp-gcc and a clang build omp-llvm.
 *
 * Every computation runs inside `#pragma omp parallel num_threads(T)` + `single`: the
 * encountering thread is one of the T (OpenMP's master takes part), so T threads work, as
 * with our pool's T workers (whose caller sleeps). Tasks: `omp task` per spawn, `taskwait`
 * per join, exactly the shape of bench/pool.c (both fib children as tasks, a task per tree
 * node, the left part of a quicksort partition). parallel_for: recursive halving with tasks
 * down to the same automatic grain as ours (n / 8T), as the work is imbalanced and a static
 * `omp for` schedule would be a different algorithm. OpenMP offers no submission from a thread
 * outside the team, so latency and sparse are not run for it. Pinning: left to OMP_PROC_BIND.
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../pool_backend.h"

typedef struct omp_rt {
    int threads;
} omp_rt;

#if defined(__clang__)
#define OMP_NAME "omp-llvm"
#define OMP_SUMMARY "OpenMP tasks, LLVM libomp (clang -fopenmp)"
#else
#define OMP_NAME "omp-gcc"
#define OMP_SUMMARY "OpenMP tasks, GNU libgomp (gcc -fopenmp)"
#endif

static void *omp_create(const char *impl, unsigned threads, bool pin, char *err, size_t errlen)
{
    (void)impl;
    (void)pin;
    (void)err;
    (void)errlen;
    omp_rt *rt = malloc(sizeof *rt);
    if (rt)
        rt->threads = (int)threads;
    return rt;
}

static void omp_destroy(void *rt) { free(rt); }

static uint64_t fib_omp(unsigned n)
{
    if (n < 2)
        return n;
    uint64_t x = 0, y = 0;
#pragma omp task shared(x) firstprivate(n)
    x = fib_omp(n - 1);
#pragma omp task shared(y) firstprivate(n)
    y = fib_omp(n - 2);
#pragma omp taskwait
    return x + y;
}

static uint64_t omp_fib(void *x, unsigned n)
{
    omp_rt *rt = x;
    uint64_t r = 0;
#pragma omp parallel num_threads(rt->threads) shared(r)
#pragma omp single
    r = fib_omp(n);
    return r;
}

static uint64_t uts_omp(const uts_cfg *c, uint64_t state, bool root)
{
    uint64_t w;
    unsigned k = uts_children(c, state, root, &w);
    uts_keep(w); /* the node's work, as in every runtime (pool_backend.h) */
    if (k == 0)
        return 1;
    uint64_t small[8];
    uint64_t *counts = k <= 8 ? small : calloc(k, sizeof *counts);
    if (!counts)
        return 0;
    for (unsigned i = 0; i < k; i++) {
#pragma omp task shared(counts) firstprivate(i)
        counts[i] = uts_omp(c, uts_child_state(state, i), false);
    }
#pragma omp taskwait
    uint64_t sum = 1;
    for (unsigned i = 0; i < k; i++)
        sum += counts[i];
    if (counts != small)
        free(counts);
    return sum;
}

static uint64_t omp_uts(void *x, const uts_cfg *c)
{
    omp_rt *rt = x;
    uint64_t r = 0;
#pragma omp parallel num_threads(rt->threads) shared(r)
#pragma omp single
    r = uts_omp(c, 42, true);
    return r;
}

static void sort_omp(int *a, size_t n)
{
    while (n > SORT_SPAWN) {
        size_t k = sort_partition(a, n);
        int *left = a;
#pragma omp task firstprivate(left, k)
        sort_omp(left, k);
        a += k;
        n -= k;
    }
    sort_serial(a, n);
#pragma omp taskwait
}

static void omp_sort(void *x, int *a, size_t n)
{
    omp_rt *rt = x;
#pragma omp parallel num_threads(rt->threads)
#pragma omp single
    sort_omp(a, n);
}

typedef void (*body_fn)(size_t, size_t, void *);

static void pfor_omp(size_t lo, size_t hi, size_t grain, body_fn body, void *arg)
{
    while (hi - lo > grain) {
        size_t mid = lo + (hi - lo) / 2;
        size_t l2 = mid, h2 = hi;
#pragma omp task firstprivate(l2, h2)
        pfor_omp(l2, h2, grain, body, arg);
        hi = mid;
    }
    body(lo, hi, arg);
#pragma omp taskwait
}

static void omp_pfor(void *x, size_t n, body_fn body, void *arg)
{
    omp_rt *rt = x;
    size_t grain = n / ((size_t)rt->threads * 8);
    if (grain == 0)
        grain = 1;
#pragma omp parallel num_threads(rt->threads)
#pragma omp single
    pfor_omp(0, n, grain, body, arg);
}

const pool_backend ct_pool_backend_omp = {
    OMP_NAME, OMP_SUMMARY, omp_create, omp_destroy, omp_fib, omp_uts, omp_sort, omp_pfor,
    NULL, NULL, NULL,
};
