// Peer for the `pool` workload: oneTBB task_group (libtbb-dev), a C++ adapter behind an
// extern "C" backend table. Compiled only when CMake finds TBB.
//
// A runtime is a task_arena of T slots (the calling thread takes one of them while it executes
// a computation, as OpenMP's master does; TBB's workers fill the rest) plus a global_control
// that allows T threads even beyond the core count. Fork-join: a task_group per frame, run()
// per spawn, wait() per join, exactly the shapes of bench/pool.c (both fib children as tasks,
// a task per tree node, the left part of each quicksort partition, recursive halving for the
// imbalanced for down to the same grain n / 8T). Outside submission (latency, sparse):
// task_arena::enqueue, fire and forget, with a count and a condition variable to drain.
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include "../pool_backend.h"

namespace {

struct tbb_rt {
    explicit tbb_rt(unsigned n)
        : gc(tbb::global_control::max_allowed_parallelism, n),
          arena(static_cast<int>(n)), threads(n)
    {
        arena.initialize();
    }
    tbb::global_control gc;
    tbb::task_arena arena;
    unsigned threads;
    std::mutex m;
    std::condition_variable cv;
    std::atomic<uint64_t> pending{0};
};

uint64_t fib_tbb(unsigned n)
{
    if (n < 2)
        return n;
    uint64_t x = 0, y = 0;
    tbb::task_group g;
    g.run([&] { x = fib_tbb(n - 1); });
    g.run([&] { y = fib_tbb(n - 2); });
    g.wait();
    return x + y;
}

uint64_t uts_tbb(const uts_cfg *c, uint64_t state, bool root)
{
    uint64_t w;
    unsigned k = uts_children(c, state, root, &w);
    uts_keep(w); /* the node's work, as in every runtime (pool_backend.h) */
    if (k == 0)
        return 1;
    uint64_t small[8];
    uint64_t *counts = k <= 8 ? small : static_cast<uint64_t *>(calloc(k, sizeof(uint64_t)));
    if (!counts)
        return 0;
    tbb::task_group g;
    for (unsigned i = 0; i < k; i++)
        g.run([=] { counts[i] = uts_tbb(c, uts_child_state(state, i), false); });
    g.wait();
    uint64_t sum = 1;
    for (unsigned i = 0; i < k; i++)
        sum += counts[i];
    if (counts != small)
        free(counts);
    return sum;
}

void sort_tbb(int *a, size_t n)
{
    tbb::task_group g;
    while (n > SORT_SPAWN) {
        size_t k = sort_partition(a, n);
        int *left = a;
        g.run([=] { sort_tbb(left, k); });
        a += k;
        n -= k;
    }
    sort_serial(a, n);
    g.wait();
}

typedef void (*body_fn)(size_t, size_t, void *);

void pfor_tbb(size_t lo, size_t hi, size_t grain, body_fn body, void *arg)
{
    tbb::task_group g;
    while (hi - lo > grain) {
        size_t mid = lo + (hi - lo) / 2, h2 = hi;
        g.run([=] { pfor_tbb(mid, h2, grain, body, arg); });
        hi = mid;
    }
    body(lo, hi, arg);
    g.wait();
}

void *tbb_create(const char *, unsigned threads, bool, char *err, size_t errlen)
{
    try {
        return new tbb_rt(threads);
    } catch (...) {
        snprintf(err, errlen, "tbb: cannot create an arena of %u threads", threads);
        return nullptr;
    }
}

void tbb_destroy(void *x) { delete static_cast<tbb_rt *>(x); }

uint64_t tbb_fib(void *x, unsigned n)
{
    auto *rt = static_cast<tbb_rt *>(x);
    uint64_t r = 0;
    rt->arena.execute([&] { r = fib_tbb(n); });
    return r;
}

uint64_t tbb_uts(void *x, const uts_cfg *c)
{
    auto *rt = static_cast<tbb_rt *>(x);
    uint64_t r = 0;
    rt->arena.execute([&] { r = uts_tbb(c, 42, true); });
    return r;
}

void tbb_sort(void *x, int *a, size_t n)
{
    auto *rt = static_cast<tbb_rt *>(x);
    rt->arena.execute([&] { sort_tbb(a, n); });
}

void tbb_pfor(void *x, size_t n, body_fn body, void *arg)
{
    auto *rt = static_cast<tbb_rt *>(x);
    size_t grain = n / (static_cast<size_t>(rt->threads) * 8);
    if (grain == 0)
        grain = 1;
    rt->arena.execute([&] { pfor_tbb(0, n, grain, body, arg); });
}

int tbb_submit(void *x, void (*fn)(void *), void *arg)
{
    auto *rt = static_cast<tbb_rt *>(x);
    rt->pending.fetch_add(1, std::memory_order_relaxed);
    try {
        rt->arena.enqueue([rt, fn, arg] {
            fn(arg);
            if (rt->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                std::lock_guard<std::mutex> lk(rt->m);
                rt->cv.notify_all();
            }
        });
    } catch (...) {
        rt->pending.fetch_sub(1, std::memory_order_relaxed);
        return ENOMEM;
    }
    return 0;
}

void tbb_drain(void *x)
{
    auto *rt = static_cast<tbb_rt *>(x);
    std::unique_lock<std::mutex> lk(rt->m);
    rt->cv.wait(lk, [rt] { return rt->pending.load(std::memory_order_acquire) == 0; });
}

} // namespace

extern "C" {
extern const pool_backend ct_pool_backend_tbb;
const pool_backend ct_pool_backend_tbb = {
    "tbb",        "oneTBB task_group in a task_arena (C++ adapter)",
    tbb_create,   tbb_destroy,
    tbb_fib,      tbb_uts,
    tbb_sort,     tbb_pfor,
    tbb_submit,   tbb_drain,
    nullptr,
};
}
