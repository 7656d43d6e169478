/* Workload `pool`: task runtimes on fixed amounts of fork-join and submitted work.
 *
 * A run is one computation, timed from its start to its end (the runtime is created before and
 * destroyed after, untimed); `seconds` is the median over --repeat runs. ops_per_s = work
 * items per second (tasks, tree nodes or elements). A serial run of the same kernel with no
 * runtime (median of --repeat, once per process per workload and size) gives speedup =
 * Tserial / Tp; ct_report_finish adds work_overhead = T1 / Tserial from the 1-thread point.
 *
 * --workload (and --n):
 *   fib             fib(n), default 30: a task at EVERY call (both children spawned, then a
 *                   join), no cutoff: 2 fib(n+1) - 1 tasks, so spawn + join cost dominates.
 *                   Verify: the value.
 *   uts             unbalanced tree search, binomial (UTS T3-like): n root children (default
 *                   2000), then m = 8 children with probability q = 0.124 (critical-ish, very
 *                   irregular subtrees), a task per node. Verify: node count == serial count.
 *   sort            parallel quicksort of n ints (default 10^7, random, fixed seed): the left
 *                   part spawned above 4096 elements. Verify: sorted, and the multiset kept
 *                   (sum and sum of squares of the values).
 *   imbalanced-for  parallel_for over n indices (default 200000), automatic grain, index i
 *                   costs (1 + 99 i / n) x 10 ns of work: 100x across the range, the expensive
 *                   end last. Verify: each index run exactly once.
 *   latency         the calling thread submits n independent tasks (default 10000) from
 *                   outside, one every 50 us (open loop, absolute deadlines); each records
 *                   submit-to-start latency (every task, into the latency histogram: max is the
 *                   worst wait, i.e. fairness) and works 1 us. Verify: each task ran once.
 *   sparse          the same with one task every 1 ms, n default 5000 (5 s): the pool's own CPU
 *                   use between tasks (cpu_util: process CPU minus the submitting thread's).
 *   idle            n ms (default 1000) with nothing to do after one small job: CPU use of an
 *                   idle runtime.
 * Implementations: steal, steal-fifo, central (contend/pool.h), and peers when built: OpenMP
 * tasks (omp-gcc with gcc's libgomp, or omp-llvm when the build's compiler is clang, whose
 * -fopenmp means libomp: one OpenMP runtime per process, never both).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "contend/harness.h"
#include "contend/pool.h"
#include "pool_backend.h"

/* ---- our pool as a backend ------------------------------------------------------------- */

typedef struct our_rt {
    ct_pool *p;
    ct_group submitted;
} our_rt;

static void *our_create(const char *impl, unsigned threads, bool pin, char *err, size_t errlen)
{
    ct_pool_config c = {.threads = threads, .pin = pin};
    if (ct_sched_parse(impl, &c.sched)) {
        snprintf(err, errlen, "pool: unknown scheduler '%s'", impl);
        return NULL;
    }
    our_rt *rt = calloc(1, sizeof *rt);
    if (!rt || !(rt->p = ct_pool_create_with(&c))) {
        snprintf(err, errlen, "pool: cannot create %u workers: %s", threads, strerror(errno));
        free(rt);
        return NULL;
    }
    ct_group_init(&rt->submitted);
    return rt;
}

static void our_destroy(void *x)
{
    our_rt *rt = x;
    ct_pool_destroy(rt->p);
    free(rt);
}

typedef struct fib_t {
    ct_pool *p;
    unsigned n;
    uint64_t r;
} fib_t;

static void fib_task(void *x)
{
    fib_t *a = x;
    if (a->n < 2) {
        a->r = a->n;
        return;
    }
    fib_t l = {a->p, a->n - 1, 0}, r = {a->p, a->n - 2, 0};
    ct_group g = CT_GROUP_INIT;
    if (ct_spawn(a->p, &g, fib_task, &l))
        fib_task(&l);
    if (ct_spawn(a->p, &g, fib_task, &r))
        fib_task(&r);
    ct_group_wait(a->p, &g);
    a->r = l.r + r.r;
}

/* Runs fn(arg) as a task of p and waits for it (from outside the pool). */
static void our_run_root(ct_pool *p, void (*fn)(void *), void *arg)
{
    ct_group g = CT_GROUP_INIT;
    if (ct_spawn(p, &g, fn, arg))
        fn(arg);
    ct_group_wait(p, &g);
}

static uint64_t our_fib(void *x, unsigned n)
{
    our_rt *rt = x;
    fib_t root = {rt->p, n, 0};
    our_run_root(rt->p, fib_task, &root);
    return root.r;
}

typedef struct uts_t {
    ct_pool *p;
    const uts_cfg *c;
    uint64_t state;
    bool root;
    uint64_t count;
    uint64_t sink;
} uts_t;

static void uts_task(void *x)
{
    uts_t *a = x;
    uint64_t w;
    unsigned k = uts_children(a->c, a->state, a->root, &w);
    a->sink = w;
    a->count = 1;
    if (k == 0)
        return;
    uts_t small[8];
    uts_t *kids = k <= 8 ? small : malloc(k * sizeof *kids); /* the root only */
    if (!kids) {
        a->count = 0; /* verification will fail: out of memory is not a silent success */
        return;
    }
    ct_group g = CT_GROUP_INIT;
    for (unsigned i = 0; i < k; i++) {
        kids[i] = (uts_t){a->p, a->c, uts_child_state(a->state, i), false, 0, 0};
        if (ct_spawn(a->p, &g, uts_task, &kids[i]))
            uts_task(&kids[i]);
    }
    ct_group_wait(a->p, &g);
    for (unsigned i = 0; i < k; i++)
        a->count += kids[i].count;
    if (kids != small)
        free(kids);
}

static uint64_t our_uts(void *x, const uts_cfg *c)
{
    our_rt *rt = x;
    uts_t root = {rt->p, c, 42, true, 0, 0};
    our_run_root(rt->p, uts_task, &root);
    return root.count;
}

typedef struct sort_t {
    ct_pool *p;
    int *a;
    size_t n;
} sort_t;

static void sort_task(void *x)
{
    sort_t *s = x;
    int *a = s->a;
    size_t n = s->n;
    sort_t kids[48];
    unsigned nk = 0;
    ct_group g = CT_GROUP_INIT;
    while (n > SORT_SPAWN) {
        size_t k = sort_partition(a, n);
        if (nk < sizeof kids / sizeof kids[0]) {
            kids[nk] = (sort_t){s->p, a, k};
            if (ct_spawn(s->p, &g, sort_task, &kids[nk]) == 0)
                nk++;
            else
                sort_serial(a, k);
        } else {
            sort_serial(a, k);
        }
        a += k;
        n -= k;
    }
    sort_serial(a, n);
    if (nk)
        ct_group_wait(s->p, &g);
}

static void our_sort(void *x, int *a, size_t n)
{
    our_rt *rt = x;
    sort_t root = {rt->p, a, n};
    our_run_root(rt->p, sort_task, &root);
}

static void our_pfor(void *x, size_t n, void (*body)(size_t, size_t, void *), void *arg)
{
    our_rt *rt = x;
    ct_parallel_for(rt->p, 0, n, 0, body, arg);
}

static int our_submit(void *x, void (*fn)(void *), void *arg)
{
    our_rt *rt = x;
    return ct_spawn(rt->p, &rt->submitted, fn, arg);
}

static void our_drain(void *x)
{
    our_rt *rt = x;
    ct_group_wait(rt->p, &rt->submitted);
}

static bool our_stats(void *x, ct_pool_stats *out)
{
    our_rt *rt = x;
    ct_pool_total_stats(rt->p, out);
    return true;
}

#define OUR_BACKEND(nm, sum)                                                                   \
    {nm, sum, our_create, our_destroy, our_fib, our_uts, our_sort, our_pfor, our_submit,      \
     our_drain, our_stats}

#ifdef CT_HAVE_OMP
extern const pool_backend ct_pool_backend_omp;
#endif
#ifdef CT_HAVE_TBB
extern const pool_backend ct_pool_backend_tbb;
#endif

/* Peers, in the order listed after our three. */
static const pool_backend *const peers[] = {
#ifdef CT_HAVE_OMP
    &ct_pool_backend_omp,
#endif
#ifdef CT_HAVE_TBB
    &ct_pool_backend_tbb,
#endif
    NULL,
};

static const pool_backend backends[] = {
    OUR_BACKEND("steal", "contend pool: Chase-Lev deque per worker, LIFO own, random stealing"),
    OUR_BACKEND("steal-fifo", "contend pool: the same deques, own tasks oldest-first"),
    OUR_BACKEND("central", "contend pool: one FIFO under a mutex + condvar (the baseline)"),
};

static size_t pool_impl_count(void) { return 3 + sizeof peers / sizeof peers[0] - 1; }

static const pool_backend *backend_get(size_t i)
{
    if (i < 3)
        return &backends[i];
    return i < pool_impl_count() ? peers[i - 3] : NULL;
}

static const char *pool_impl_name(size_t i)
{
    const pool_backend *b = backend_get(i);
    return b ? b->name : NULL;
}

static const char *pool_impl_summary(size_t i)
{
    const pool_backend *b = backend_get(i);
    return b ? b->summary : NULL;
}

static const pool_backend *backend_find(const char *name)
{
    for (size_t i = 0; i < pool_impl_count(); i++)
        if (!strcmp(backend_get(i)->name, name))
            return backend_get(i);
    return NULL;
}

/* ---- workloads ---------------------------------------------------------------------------- */

enum { W_FIB, W_UTS, W_SORT, W_FOR, W_LATENCY, W_SPARSE, W_IDLE, W_COUNT };

static const char *const variants[] = {"fib", "uts", "sort", "imbalanced-for", "latency",
                                       "sparse", "idle", NULL};
static const uint64_t defaults[W_COUNT] = {30, 2000, 10000000, 200000, 10000, 5000, 1000};
static const uint64_t max_n[W_COUNT] = {40, 100000, 500000000, 100000000, 10000000, 10000000,
                                        600000};
static const uint64_t interval_ns[W_COUNT] = {0, 0, 0, 0, 50000, 1000000, 0};

#define UTS_M 8
#define UTS_Q 0.124
/* Hash rounds per node: about 0.25 us here, the cost of the SHA-1 that the original UTS
 * computes per node (Olivier et al.), so the tree has UTS's granularity (16 rounds, 43 ns, made
 * it a task-overhead benchmark like fib). */
#define UTS_WORK 96
#define FOR_BASE_NS 10
#define TASK_WORK_NS 1000

static int variant_index(const char *name)
{
    for (int i = 0; variants[i]; i++)
        if (!strcmp(variants[i], name))
            return i;
    return -1;
}

static bool pool_check_params(const ct_params *p, char *err, size_t errlen)
{
    int wi = variant_index(p->workload ? p->workload : "fib");
    if (wi < 0) {
        snprintf(err, errlen, "--workload: '%s' is not fib, uts, sort, imbalanced-for, latency,"
                              " sparse or idle", p->workload);
        return false;
    }
    if (p->n > max_n[wi]) {
        snprintf(err, errlen, "--n: '%llu' is too large for %s (at most %llu)",
                 (unsigned long long)p->n, variants[wi], (unsigned long long)max_n[wi]);
        return false;
    }
    return true;
}

static void uts_config(uts_cfg *c, uint64_t n)
{
    c->root = n;
    c->m = UTS_M;
    c->q_scaled = (uint64_t)(UTS_Q * 4294967296.0);
    c->work = UTS_WORK;
}

static uint64_t uts_serial(const uts_cfg *c, uint64_t state, bool root, uint64_t *sink)
{
    uint64_t w;
    unsigned k = uts_children(c, state, root, &w);
    *sink ^= w;
    uint64_t count = 1;
    for (unsigned i = 0; i < k; i++)
        count += uts_serial(c, uts_child_state(state, i), false, sink);
    return count;
}

static uint64_t fib_iter(unsigned n)
{
    uint64_t a = 0, b = 1;
    for (unsigned i = 0; i < n; i++) {
        uint64_t c = a + b;
        a = b;
        b = c;
    }
    return a;
}

static void sort_fill(int *a, size_t n, uint64_t *sum, uint64_t *sumsq)
{
    uint64_t s = 0, q = 0;
    for (size_t i = 0; i < n; i++) {
        a[i] = (int)(uint32_t)pool_mix(i * 0x2545f4914f6cdd1dull);
        s += (uint64_t)(int64_t)a[i];
        q += (uint64_t)((int64_t)a[i] * (int64_t)a[i]);
    }
    *sum = s;
    *sumsq = q;
}

static bool sort_check(const int *a, size_t n, uint64_t sum, uint64_t sumsq, char *msg,
                       size_t len)
{
    uint64_t s = 0, q = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && a[i - 1] > a[i]) {
            snprintf(msg, len, "not sorted at index %zu", i);
            return false;
        }
        s += (uint64_t)(int64_t)a[i];
        q += (uint64_t)((int64_t)a[i] * (int64_t)a[i]);
    }
    if (s != sum || q != sumsq) {
        snprintf(msg, len, "sorted array is not a permutation of the input");
        return false;
    }
    return true;
}

typedef struct for_ctx {
    _Atomic uint8_t *hits;
    size_t n;
    double iters_per_ns;
} for_ctx;

static void for_body(size_t lo, size_t hi, void *arg)
{
    for_ctx *c = arg;
    for (size_t i = lo; i < hi; i++) {
        double ns = FOR_BASE_NS * (1.0 + 99.0 * (double)i / (double)c->n);
        ct_work_iters((uint64_t)(ns * c->iters_per_ns));
        atomic_fetch_add_explicit(&c->hits[i], 1, memory_order_relaxed);
    }
}

static bool for_check(_Atomic uint8_t *hits, size_t n, char *msg, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t h = atomic_load_explicit(&hits[i], memory_order_relaxed);
        if (h != 1) {
            snprintf(msg, len, "index %zu ran %u times", i, h);
            return false;
        }
        atomic_store_explicit(&hits[i], 0, memory_order_relaxed);
    }
    return true;
}

typedef struct sub_rec {
    uint64_t submit_ns; /* written by the submitter before the submit publishes the task */
    uint64_t start_ns;  /* written by the task */
    uint32_t ran;
} sub_rec;

static double sub_iters;

static void sub_task(void *x)
{
    sub_rec *r = x;
    r->start_ns = ct_now_ns();
    r->ran++;
    ct_work_iters((uint64_t)(TASK_WORK_NS * sub_iters));
}

static double cpu_s(int who)
{
    struct rusage u;
    getrusage(who, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
           ((double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_usec) / 1e6;
}

static void sleep_until(uint64_t t)
{
    struct timespec ts = {(time_t)(t / 1000000000u), (long)(t % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* One timed run's outcome. */
typedef struct run_out {
    double seconds, cpu, pool_cpu;
    uint64_t items;
    bool ok;
    char msg[200];
    bool have_stats;
    ct_pool_stats st;
    uint64_t value;
} run_out;

/* The serial baseline: seconds of one run (median of `repeat`), once per (workload, n). */
typedef struct serial_entry {
    int wi;
    uint64_t n;
    double seconds;
    uint64_t value;
} serial_entry;
static serial_entry serial_cache[32];
static unsigned serial_cached;
static pthread_mutex_t serial_lock = PTHREAD_MUTEX_INITIALIZER;

static double serial_once(int wi, uint64_t n, uint64_t *value, int *buf, _Atomic uint8_t *hits)
{
    uint64_t t0 = 0, t1 = 0, sink = 0;
    switch (wi) {
    case W_FIB:
        t0 = ct_now_ns();
        *value = fib_serial_rec((unsigned)n);
        t1 = ct_now_ns();
        break;
    case W_UTS: {
        uts_cfg c;
        uts_config(&c, n);
        t0 = ct_now_ns();
        *value = uts_serial(&c, 42, true, &sink);
        t1 = ct_now_ns();
        break;
    }
    case W_SORT: {
        uint64_t s, q;
        sort_fill(buf, n, &s, &q);
        t0 = ct_now_ns();
        sort_serial(buf, n);
        t1 = ct_now_ns();
        *value = (uint64_t)buf[n / 2];
        break;
    }
    case W_FOR: {
        for_ctx c = {hits, n, ct_work_iters_per_ns()};
        t0 = ct_now_ns();
        for_body(0, n, &c);
        t1 = ct_now_ns();
        char msg[64];
        *value = for_check(hits, n, msg, sizeof msg);
        break;
    }
    default:
        return -1;
    }
    return (double)(t1 - t0) / 1e9;
}

static double serial_seconds(int wi, uint64_t n, unsigned repeat, uint64_t *value, int *buf,
                             _Atomic uint8_t *hits)
{
    if (wi != W_FIB && wi != W_UTS && wi != W_SORT && wi != W_FOR)
        return -1;
    pthread_mutex_lock(&serial_lock);
    for (unsigned i = 0; i < serial_cached; i++)
        if (serial_cache[i].wi == wi && serial_cache[i].n == n) {
            *value = serial_cache[i].value;
            double s = serial_cache[i].seconds;
            pthread_mutex_unlock(&serial_lock);
            return s;
        }
    pthread_mutex_unlock(&serial_lock);
    double runs[CT_MAX_REPEAT];
    for (unsigned r = 0; r < repeat; r++)
        runs[r] = serial_once(wi, n, value, buf, hits);
    double s = ct_median(runs, repeat);
    pthread_mutex_lock(&serial_lock);
    if (serial_cached < sizeof serial_cache / sizeof serial_cache[0])
        serial_cache[serial_cached++] = (serial_entry){wi, n, s, *value};
    pthread_mutex_unlock(&serial_lock);
    return s;
}

static int run_once(const pool_backend *b, void *rt, int wi, uint64_t n, uint64_t expect,
                    int *buf, _Atomic uint8_t *hits, sub_rec *recs, ct_hist *lat, run_out *o)
{
    memset(o, 0, sizeof *o);
    o->ok = true;
    uint64_t sum = 0, sumsq = 0;
    if (wi == W_SORT)
        sort_fill(buf, n, &sum, &sumsq);
    if (wi == W_LATENCY || wi == W_SPARSE)
        memset(recs, 0, n * sizeof *recs);
    double c0 = cpu_s(RUSAGE_SELF), me0 = cpu_s(RUSAGE_THREAD);
    uint64_t t0 = ct_now_ns();
    switch (wi) {
    case W_FIB:
        o->value = b->fib(rt, (unsigned)n);
        o->items = 2 * fib_iter((unsigned)n + 1) - 1;
        break;
    case W_UTS: {
        uts_cfg c;
        uts_config(&c, n);
        o->value = b->uts(rt, &c);
        o->items = o->value;
        break;
    }
    case W_SORT:
        b->sort(rt, buf, n);
        o->items = n;
        break;
    case W_FOR: {
        for_ctx c = {hits, n, ct_work_iters_per_ns()};
        b->pfor(rt, n, for_body, &c);
        o->items = n;
        break;
    }
    case W_LATENCY:
    case W_SPARSE: {
        uint64_t start = ct_now_ns() + 1000000;
        for (uint64_t i = 0; i < n; i++) {
            sleep_until(start + i * interval_ns[wi]);
            recs[i].submit_ns = ct_now_ns();
            int e = b->submit(rt, sub_task, &recs[i]);
            if (e) {
                recs[i].ran = 1; /* not submitted: counted as a failure below, not a hang */
                recs[i].start_ns = recs[i].submit_ns;
                o->ok = false;
                snprintf(o->msg, sizeof o->msg, "submit %llu failed: %s",
                         (unsigned long long)i, strerror(e));
            }
        }
        b->drain(rt);
        o->items = n;
        break;
    }
    case W_IDLE: {
        sleep_until(ct_now_ns() + n * 1000000ull);
        break;
    }
    }
    uint64_t t1 = ct_now_ns();
    double c1 = cpu_s(RUSAGE_SELF), me1 = cpu_s(RUSAGE_THREAD);
    o->seconds = (double)(t1 - t0) / 1e9;
    o->cpu = c1 - c0;
    o->pool_cpu = (c1 - c0) - (me1 - me0);
    if (b->stats)
        o->have_stats = b->stats(rt, &o->st);
    /* Verify. */
    switch (wi) {
    case W_FIB:
        if (o->value != fib_iter((unsigned)n)) {
            o->ok = false;
            snprintf(o->msg, sizeof o->msg, "fib(%llu) = %llu, want %llu",
                     (unsigned long long)n, (unsigned long long)o->value,
                     (unsigned long long)fib_iter((unsigned)n));
        }
        break;
    case W_UTS:
        if (o->value != expect) {
            o->ok = false;
            snprintf(o->msg, sizeof o->msg, "tree has %llu nodes, want %llu",
                     (unsigned long long)o->value, (unsigned long long)expect);
        }
        break;
    case W_SORT:
        o->ok = sort_check(buf, n, sum, sumsq, o->msg, sizeof o->msg);
        break;
    case W_FOR:
        o->ok = for_check(hits, n, o->msg, sizeof o->msg);
        break;
    case W_LATENCY:
    case W_SPARSE:
        for (uint64_t i = 0; i < n && o->ok; i++) {
            if (recs[i].ran != 1) {
                o->ok = false;
                snprintf(o->msg, sizeof o->msg, "task %llu ran %u times",
                         (unsigned long long)i, recs[i].ran);
            } else {
                ct_hist_record(lat, recs[i].start_ns - recs[i].submit_ns);
            }
        }
        break;
    default:
        break;
    }
    return 0;
}

static bool pool_impl_supports(const char *impl, const ct_params *params)
{
    const pool_backend *b = backend_find(impl);
    int wi = variant_index(params->workload ? params->workload : "fib");
    return b && wi >= 0 && (b->submit || (wi != W_LATENCY && wi != W_SPARSE));
}

static int pool_run_point(const char *impl, unsigned threads, const ct_run_config *cfg,
                          ct_result *out, char *err, size_t errlen)
{
    const pool_backend *b = backend_find(impl);
    if (!b) {
        snprintf(err, errlen, "pool: unknown implementation '%s'", impl);
        return -1;
    }
    if (!pool_check_params(&cfg->params, err, errlen))
        return -1;
    int wi = variant_index(cfg->params.workload ? cfg->params.workload : "fib");
    uint64_t n = cfg->params.n ? cfg->params.n : defaults[wi];
    out->params.workload = variants[wi];
    out->params.n = n;
    if ((wi == W_LATENCY || wi == W_SPARSE) && !b->submit) {
        snprintf(err, errlen, "pool: %s cannot take tasks from a thread outside the runtime (%s)",
                 impl, variants[wi]);
        return -1;
    }
    sub_iters = ct_work_iters_per_ns();
    int rc = -1;
    int *buf = NULL;
    _Atomic uint8_t *hits = NULL;
    sub_rec *recs = NULL;
    ct_hist *lat = ct_hist_create();
    run_out *runs = calloc(cfg->repeat, sizeof *runs);
    if (wi == W_SORT)
        buf = malloc(n * sizeof *buf);
    if (wi == W_FOR)
        hits = calloc(n, sizeof *hits);
    if (wi == W_LATENCY || wi == W_SPARSE)
        recs = calloc(n, sizeof *recs);
    if (!lat || !runs || (wi == W_SORT && !buf) || (wi == W_FOR && !hits) ||
        ((wi == W_LATENCY || wi == W_SPARSE) && !recs)) {
        snprintf(err, errlen, "pool: out of memory for %s n=%llu", variants[wi],
                 (unsigned long long)n);
        goto out;
    }
    uint64_t expect = 0;
    out->serial_seconds = serial_seconds(wi, n, cfg->repeat, &expect, buf, hits);
    for (unsigned r = 0; r < cfg->repeat; r++) {
        void *rt = b->create(impl, threads, cfg->pin != 0, err, errlen);
        if (!rt)
            goto out;
        /* One small job first (untimed): every runtime has started its threads (OpenMP and
         * TBB create them lazily), and for `idle` the workers have run and gone idle. */
        (void)b->fib(rt, 10);
        run_once(b, rt, wi, n, expect, buf, hits, recs, lat, &runs[r]);
        b->destroy(rt);
        if (!runs[r].ok && out->verified) {
            out->verified = false;
            snprintf(out->verify_msg, sizeof out->verify_msg, "repeat %u: %s", r + 1,
                     runs[r].msg);
        }
    }
    double secs[CT_MAX_REPEAT], ops[CT_MAX_REPEAT];
    for (unsigned r = 0; r < cfg->repeat; r++) {
        secs[r] = runs[r].seconds;
        ops[r] = runs[r].seconds > 0 ? (double)runs[r].items / runs[r].seconds : 0;
        out->ops_per_s_runs[r] = ops[r];
        out->ops_checked += runs[r].items; /* each run's result was verified (run_once) */
    }
    out->seconds = ct_median(secs, cfg->repeat);
    out->seconds_min = secs[0];
    out->seconds_max = secs[cfg->repeat - 1];
    out->ops_per_s = ct_median(ops, cfg->repeat);
    out->ops_per_s_min = ops[0];
    out->ops_per_s_max = ops[cfg->repeat - 1];
    unsigned pick = 0; /* the run whose time is the median: its CPU and counters */
    for (unsigned r = 0; r < cfg->repeat; r++)
        if (fabs(runs[r].seconds - out->seconds) < fabs(runs[pick].seconds - out->seconds))
            pick = r;
    const run_out *m = &runs[pick];
    out->cpu_util = m->seconds > 0 ? m->cpu / m->seconds : -1;
    out->cpu_ns_per_op = m->items ? m->cpu * 1e9 / (double)m->items : -1;
    if (out->serial_seconds > 0 && out->seconds > 0)
        out->speedup = out->serial_seconds / out->seconds;
    out->jain = 1;
    out->min_share = out->max_share = 1;
    out->latency.samples = ct_hist_count(lat);
    if (out->latency.samples) {
        out->latency.p50 = ct_hist_percentile(lat, 50);
        out->latency.p90 = ct_hist_percentile(lat, 90);
        out->latency.p99 = ct_hist_percentile(lat, 99);
        out->latency.p999 = ct_hist_percentile(lat, 99.9);
        out->latency.max = ct_hist_max(lat);
        out->latency.mean = ct_hist_mean(lat);
        out->latency.stdev = ct_hist_stdev(lat);
        out->sample_period = 1;
        out->latency_note = "submit to start of every task (outside submitter)";
    }
    int len = snprintf(out->extra_json, sizeof out->extra_json,
                       "{\"items\": %llu, \"pool_cpu_util\": %.5f",
                       (unsigned long long)m->items, m->seconds > 0 ? m->pool_cpu / m->seconds : 0);
    if (wi == W_FIB || wi == W_UTS)
        len += snprintf(out->extra_json + len, sizeof out->extra_json - (size_t)len,
                        ", \"value\": %llu", (unsigned long long)m->value);
    if (m->items && out->serial_seconds > 0 && threads == 1)
        len += snprintf(out->extra_json + len, sizeof out->extra_json - (size_t)len,
                        ", \"overhead_ns_per_item\": %.2f",
                        (m->seconds - out->serial_seconds) * 1e9 / (double)m->items);
    if (m->have_stats)
        len += snprintf(out->extra_json + len, sizeof out->extra_json - (size_t)len,
                        ", \"tasks_run\": %llu, \"steals\": %llu, \"steal_failures\": %llu,"
                        " \"sleeps\": %llu, \"injected_taken\": %llu",
                        (unsigned long long)m->st.tasks_run, (unsigned long long)m->st.steals,
                        (unsigned long long)m->st.steal_failures,
                        (unsigned long long)m->st.sleeps,
                        (unsigned long long)m->st.injected_taken);
    if (len > 0 && (size_t)len < sizeof out->extra_json - 2)
        snprintf(out->extra_json + len, sizeof out->extra_json - (size_t)len, "}");
    else
        out->extra_json[0] = 0;
    rc = 0;
out:
    ct_hist_destroy(lat);
    free(runs);
    free(buf);
    free((void *)hits);
    free(recs);
    return rc;
}

const ct_workload ct_workload_pool = {
    .name = "pool",
    .summary = "task runtimes on fixed work: fib, uts, sort, imbalanced-for, latency, sparse,"
               " idle (--workload, --n)",
    .latency_note = "submit to start of every task (latency, sparse)",
    .impl_count = pool_impl_count,
    .impl_name = pool_impl_name,
    .impl_summary = pool_impl_summary,
    .run_point = pool_run_point,
    .variants = variants,
    .check_params = pool_check_params,
    .impl_supports = pool_impl_supports,
};
