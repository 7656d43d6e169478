/* pool_backend.h: what the `pool` workload needs from a task runtime, so that our pool and the
 * peers (OpenMP tasks, ...) run the very same computations, and the shared kernels.
 *
 * Every kernel here is the same code for every runtime; only "spawn and wait" differs. The
 * serial baselines are the same recursions with no runtime at all.
 */
#ifndef CONTEND_BENCH_POOL_BACKEND_H
#define CONTEND_BENCH_POOL_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
/* The C++ peer adapters cannot parse contend/pool.h (C11 _Atomic); they only pass pointers. */
extern "C" {
typedef struct ct_pool_stats ct_pool_stats;
#else
#include "contend/pool.h"
#endif

/* Unbalanced tree search, binomial (UTS, Olivier et al., LCPC 2006): the root has `root`
 * children; every other node has `m` children with probability q, else none (m * q just
 * below 1: a critical branching process, so subtree sizes vary wildly). A node's identity is
 * a 64-bit state; child i's state is a hash of the parent's and i (a splittable RNG in place of
 * UTS's SHA-1), so the tree is the same for every runtime and every run. */
typedef struct uts_cfg {
    uint64_t root;       /* children of the root (--n) */
    unsigned m;          /* children of a non-leaf node */
    uint64_t q_scaled;   /* q * 2^32 */
    unsigned work;       /* hash rounds per node: the node's own work */
} uts_cfg;

static inline uint64_t pool_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The node's work and its number of children. */
static inline unsigned uts_children(const uts_cfg *c, uint64_t state, bool is_root,
                                    uint64_t *work_out)
{
    uint64_t h = state;
    for (unsigned i = 0; i < c->work; i++)
        h = pool_mix(h);
    *work_out = h;
    if (is_root)
        return (unsigned)c->root;
    return (pool_mix(state ^ 0x5851f42d4c957f2dull) & 0xffffffffu) < c->q_scaled ? c->m : 0;
}

/* Keeps a node's work (w) from being optimized away when nothing else uses it (a leaf): every
 * runtime, and the serial reference, must do the same work per node. An empty asm that takes
 * w as input costs nothing but forces w to be computed. */
static inline void uts_keep(uint64_t w) { __asm__ __volatile__("" : : "r"(w)); }

static inline uint64_t uts_child_state(uint64_t parent, uint64_t i)
{
    return pool_mix(parent * 31 + i + 1);
}

/* Sorting: quicksort with median-of-three and insertion sort below SORT_LEAF; the parallel
 * versions spawn the left part as a task and go on with the right one while a part has more
 * than SORT_SPAWN elements (below that a task costs more than it saves). */
#define SORT_LEAF 32
#define SORT_SPAWN 4096

static inline void sort_insertion(int *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        int v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* Partitions a[0..n) (n > SORT_LEAF) around a median of three; returns the split k: every
 * element of a[0..k) <= every element of a[k..n), 0 < k < n. */
static inline size_t sort_partition(int *a, size_t n)
{
    /* Median of three moved to a[0], then Hoare's scheme with pivot a[0]: it stops with
     * 0 <= j < n - 1, so both parts are non-empty. */
    size_t mid = n / 2, m;
    int x = a[0], y = a[mid], z = a[n - 1];
    if (x < y)
        m = y < z ? mid : (x < z ? n - 1 : 0);
    else
        m = x < z ? 0 : (y < z ? n - 1 : mid);
    int t = a[0];
    a[0] = a[m];
    a[m] = t;
    int pivot = a[0];
    size_t i = (size_t)-1, j = n;
    for (;;) {
        do
            i++;
        while (a[i] < pivot);
        do
            j--;
        while (a[j] > pivot);
        if (i >= j)
            return j + 1;
        t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

static inline void sort_serial(int *a, size_t n)
{
    while (n > SORT_LEAF) {
        size_t k = sort_partition(a, n);
        sort_serial(a, k);
        a += k;
        n -= k;
    }
    sort_insertion(a, n);
}

static inline uint64_t fib_serial_rec(unsigned n)
{
    return n < 2 ? n : fib_serial_rec(n - 1) + fib_serial_rec(n - 2);
}

/* A runtime. create/destroy are outside the timed region. */
typedef struct pool_backend {
    const char *name;
    const char *summary;
    void *(*create)(const char *impl, unsigned threads, bool pin, char *err, size_t errlen);
    void (*destroy)(void *rt);
    uint64_t (*fib)(void *rt, unsigned n);                /* returns fib(n); one task per call */
    uint64_t (*uts)(void *rt, const uts_cfg *cfg);        /* returns the node count */
    void (*sort)(void *rt, int *a, size_t n);
    void (*pfor)(void *rt, size_t n, void (*body)(size_t lo, size_t hi, void *arg), void *arg);
    /* Outside submission of independent tasks (latency, sparse); NULL when the runtime has no
     * such thing (OpenMP tasks are created by team threads only). */
    int (*submit)(void *rt, void (*fn)(void *arg), void *arg);
    void (*drain)(void *rt);                               /* wait for every submitted task */
    bool (*stats)(void *rt, ct_pool_stats *out);           /* NULL or false: none */
} pool_backend;

#ifdef __cplusplus
}
#endif

#endif
