/* `contend lab stalled-producer`: what one descheduled producer does to the bounded MPMC queue
 * (Vyukov's design is not lock-free at exactly this step, contend/mpmc.h) and to the mutex
 * queue. Core: ct_stall_run (lab_stalled_producer.h); the lab prints its results.
 *
 * How the stall is injected. The queues' code lives in src/queues/mpmc_impl.h and
 * mutex_queue_impl.h; this file includes each a second time with renamed static symbols
 * (lab_mpmc_*, lab_mutexq_*) and the hook macro defined. Producer 0 arms a thread-local flag
 * every every_ms; the hook, reached by every producer at the injection step, does nothing
 * unless its thread's flag is armed, and then sleeps stall_ms with the cell claimed (mpmc) or
 * the mutex held (mutex). The library's own instantiation has no hook at all.
 *
 * What is measured, per run:
 *  - per consumer: pop / try_pop call latency (max, p99, calls >= stall/2), the longest gap
 *    between two items, and, inside stall windows only, its thread CPU time (read by the
 *    stalled producer from the consumer's CPU clock at the window's start and end) and its
 *    voluntary context switches (sleeps: /proc/self/task/TID/status, same two instants);
 *  - items popped and pushed inside stall windows vs outside (per-thread counters summed at
 *    the window's edges), as items/s;
 *  - the blocking path at the end of each stall: sleepers announced on the mpmc eventcounts
 *    (not_empty: consumers, not_full: producers) or waiting on the mutex queue's condvars; the
 *    mpmc eventcounts' epoch (one bump per wake call) over the run;
 *  - verification: every item (producer id << 40 | sequence) popped exactly once (a bitmap per
 *    producer, atomic fetch_or), and each consumer sees each producer's sequence increase.
 * Not reentrant: one run at a time per process (the hook reaches the run through statics).
 */
#include "lab_stalled_producer.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "contend/arch.h"
#include "contend/harness.h"
#include "contend/histogram.h"
#include "lab.h"

/* ---- the two instrumented instantiations ---------------------------------------------------- */

struct lab_mpmc;
struct lab_mutexq;
static void stall_hook_mpmc(struct lab_mpmc *q);
static void stall_hook_mutexq(struct lab_mutexq *q);

#define CT_MPMC_NAME(x) lab_mpmc_##x
#define CT_MPMC_TYPE lab_mpmc
#define CT_MPMC_API static __attribute__((unused))
#define CT_MPMC_AFTER_CLAIM(q, pos) stall_hook_mpmc(q)
#include "../src/queues/mpmc_impl.h"

#define CT_MUTEXQ_NAME(x) lab_mutexq_##x
#define CT_MUTEXQ_TYPE lab_mutexq
#define CT_MUTEXQ_API static __attribute__((unused))
#define CT_MUTEXQ_PUT_LOCKED(q) stall_hook_mutexq(q)
#include "../src/queues/mutex_queue_impl.h"

typedef struct lab_queue_ops {
    void *(*create)(size_t capacity);
    void (*destroy)(void *q);
    bool (*try_push)(void *q, void *item);
    bool (*try_pop)(void *q, void **item);
    bool (*push)(void *q, void *item);
    bool (*pop)(void *q, void **item);
    void (*close)(void *q);
} lab_queue_ops;

static void *m_create(size_t c) { return lab_mpmc_create(c); }
static void m_destroy(void *q) { lab_mpmc_destroy(q); }
static bool m_try_push(void *q, void *i) { return lab_mpmc_try_push(q, i); }
static bool m_try_pop(void *q, void **i) { return lab_mpmc_try_pop(q, i); }
static bool m_push(void *q, void *i) { return lab_mpmc_push(q, i); }
static bool m_pop(void *q, void **i) { return lab_mpmc_pop(q, i); }
static void m_close(void *q) { lab_mpmc_close(q); }
static const lab_queue_ops mpmc_ops = {m_create, m_destroy,
                                       m_try_push, m_try_pop, m_push, m_pop, m_close};

static void *x_create(size_t c) { return lab_mutexq_create(c); }
static void x_destroy(void *q) { lab_mutexq_destroy(q); }
static bool x_try_push(void *q, void *i) { return lab_mutexq_try_push(q, i); }
static bool x_try_pop(void *q, void **i) { return lab_mutexq_try_pop(q, i); }
static bool x_push(void *q, void *i) { return lab_mutexq_push(q, i); }
static bool x_pop(void *q, void **i) { return lab_mutexq_pop(q, i); }
static void x_close(void *q) { lab_mutexq_close(q); }
static const lab_queue_ops mutex_ops = {x_create, x_destroy, x_try_push, x_try_pop,
                                        x_push,   x_pop,     x_close};

/* ---- run state ------------------------------------------------------------------------------ */

#define SEQ_BITS 40
#define MAX_SEQ ((uint64_t)1 << 26) /* items per producer (an 8 MiB bitmap each) */

typedef struct counter {
    CT_PAD_ALIGNED _Atomic uint64_t n; /* written by its owner only */
} counter;

typedef struct consumer_state {
    CT_PAD_ALIGNED pthread_t thread;
    pid_t tid;
    unsigned id;
    ct_hist *calls;
    uint64_t *last_seq; /* per producer, + 1 (0 = none yet) */
    ct_stall_consumer out;
    uint64_t cpu_at, vcsw_at; /* stall-window snapshots (staller only) */
} consumer_state;

static struct {
    const ct_stall_config *cfg;
    const lab_queue_ops *ops;
    void *q;
    uint64_t stall_ns, every_ns;
    _Atomic bool stop, done, go;
    _Atomic unsigned ready; /* threads started (consumers: with their tid recorded) */
    counter pushed[CT_STALL_MAX_THREADS], popped[CT_STALL_MAX_THREADS];
    consumer_state cons[CT_STALL_MAX_THREADS];
    _Atomic uint64_t *bits[CT_STALL_MAX_THREADS];
    _Atomic uint64_t dups, order_errors, foreign;
    /* written by the stalling producer only, read after join */
    unsigned stalls;
    uint64_t stall_total_ns, popped_in, pushed_in;
    double asleep_c, asleep_p;
} L;

/* Armed by producer 0 (the only thread that sets or clears it; is_staller marks it) for its
 * next pass through the hook. An atomic, not a plain thread-local: the producer's loop reads it
 * across calls into the queue that clear it, and a plain static was cached in a register
 * across those calls by gcc -O2 (the lab then stalled once per run). Relaxed: one thread. */
static _Atomic bool stall_armed;
static _Thread_local bool is_staller;

static uint64_t sum(const counter *c, unsigned n)
{
    uint64_t s = 0;
    for (unsigned i = 0; i < n; i++)
        s += atomic_load_explicit(&c[i].n, memory_order_relaxed);
    return s;
}

static uint64_t thread_cpu_ns(pthread_t t)
{
    clockid_t id;
    struct timespec ts;
    if (pthread_getcpuclockid(t, &id) != 0 || clock_gettime(id, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_vcsw(pid_t tid)
{
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    unsigned long long v = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1)
            break;
    fclose(f);
    return v;
}

static void sleep_until(uint64_t t)
{
    struct timespec ts = {(time_t)(t / 1000000000u), (long)(t % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* The stall itself, run by the armed producer at the injection step. sample() reads the
 * queue's sleepers at the stall's end (before the cell is published / the mutex released). */
static void stall(void (*sample)(void *q, unsigned *c, unsigned *p), void *q)
{
    atomic_store_explicit(&stall_armed, false, memory_order_relaxed);
    unsigned nc = L.cfg->consumers, np = L.cfg->producers;
    uint64_t s = ct_now_ns();
    uint64_t popped0 = sum(L.popped, nc), pushed0 = sum(L.pushed, np);
    for (unsigned i = 0; i < nc; i++) {
        L.cons[i].cpu_at = thread_cpu_ns(L.cons[i].thread);
        L.cons[i].vcsw_at = thread_vcsw(L.cons[i].tid);
    }
    sleep_until(s + L.stall_ns);
    unsigned c = 0, p = 0;
    sample(q, &c, &p);
    for (unsigned i = 0; i < nc; i++) {
        L.cons[i].out.stall_cpu_ns += thread_cpu_ns(L.cons[i].thread) - L.cons[i].cpu_at;
        L.cons[i].out.stall_vcsw += thread_vcsw(L.cons[i].tid) - L.cons[i].vcsw_at;
    }
    L.popped_in += sum(L.popped, nc) - popped0;
    L.pushed_in += sum(L.pushed, np) - pushed0;
    L.asleep_c += c;
    L.asleep_p += p;
    L.stall_total_ns += ct_now_ns() - s;
    L.stalls++;
}

static void sample_mpmc(void *qv, unsigned *c, unsigned *p)
{
    struct lab_mpmc *q = qv;
    *c = atomic_load_explicit(&q->not_empty.waiters, memory_order_relaxed);
    *p = atomic_load_explicit(&q->not_full.waiters, memory_order_relaxed);
}

static void sample_mutexq(void *qv, unsigned *c, unsigned *p)
{
    struct lab_mutexq *q = qv; /* we hold q->mu: the counts are ours to read */
    *c = q->waiting_pop;
    *p = q->waiting_push;
}

static void stall_hook_mpmc(struct lab_mpmc *q)
{
    if (is_staller && atomic_load_explicit(&stall_armed, memory_order_relaxed))
        stall(sample_mpmc, q);
}

static void stall_hook_mutexq(struct lab_mutexq *q)
{
    if (is_staller && atomic_load_explicit(&stall_armed, memory_order_relaxed))
        stall(sample_mutexq, q);
}

/* ---- threads -------------------------------------------------------------------------------- */

/* Start together. A flag, not a barrier: if a thread fails to start, the others still get
 * released (and stop at once). Acquire pairs with the release store of go in ct_stall_run. */
static void wait_for_go(void)
{
    atomic_fetch_add_explicit(&L.ready, 1, memory_order_release);
    while (!atomic_load_explicit(&L.go, memory_order_acquire))
        sched_yield();
}

static void *producer(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    const lab_queue_ops *ops = L.ops;
    bool blocking = L.cfg->blocking;
    is_staller = id == 0;
    wait_for_go();
    uint64_t next_stall = ct_now_ns() + L.every_ns;
    uint64_t seq = 0;
    unsigned fails = 0;
    bool armed = false;
    while (!atomic_load_explicit(&L.stop, memory_order_relaxed) && seq < MAX_SEQ) {
        /* Arm at the deadline; the next claim (mpmc) / store under the lock (mutex) stalls. */
        if (is_staller && !armed && ct_now_ns() >= next_stall) {
            atomic_store_explicit(&stall_armed, true, memory_order_relaxed);
            armed = true;
        }
        void *item = (void *)(uintptr_t)(((uint64_t)id << SEQ_BITS) | seq);
        if (blocking) {
            if (!ops->push(L.q, item))
                break;
        } else if (!ops->try_push(L.q, item)) {
            if (++fails % 64 == 0)
                sched_yield(); /* full: let a consumer run (2 cores, more threads) */
            continue;
        }
        if (armed && !atomic_load_explicit(&stall_armed, memory_order_relaxed)) {
            armed = false; /* it stalled in that push: the next one every_ms from now */
            next_stall = ct_now_ns() + L.every_ns;
        }
        seq++;
        atomic_store_explicit(&L.pushed[id].n, seq, memory_order_relaxed);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    consumer_state *cs = arg;
    const lab_queue_ops *ops = L.ops;
    bool blocking = L.cfg->blocking;
    unsigned np = L.cfg->producers;
    uint64_t long_ns = L.stall_ns / 2;
    cs->tid = (pid_t)syscall(SYS_gettid);
    wait_for_go();
    uint64_t last_item = ct_now_ns(), n = 0, fails = 0;
    for (;;) {
        void *item;
        bool done = atomic_load_explicit(&L.done, memory_order_acquire);
        uint64_t t0 = ct_now_ns();
        bool ok = blocking ? ops->pop(L.q, &item) : ops->try_pop(L.q, &item);
        uint64_t t1 = ct_now_ns();
        ct_hist_record(cs->calls, t1 - t0);
        cs->out.calls++;
        if (t1 - t0 >= long_ns)
            cs->out.long_calls++;
        if (t1 - t0 > cs->out.max_call_ns)
            cs->out.max_call_ns = t1 - t0;
        if (!ok) {
            /* blocking: closed and empty. try: empty after every push completed. */
            if (blocking || done)
                break;
            if (++fails % 64 == 0)
                sched_yield();
            continue;
        }
        if (t1 - last_item > cs->out.max_gap_ns && !atomic_load_explicit(&L.stop, memory_order_relaxed))
            cs->out.max_gap_ns = t1 - last_item;
        last_item = t1;
        uint64_t v = (uint64_t)(uintptr_t)item;
        unsigned p = (unsigned)(v >> SEQ_BITS);
        uint64_t seq = v & (((uint64_t)1 << SEQ_BITS) - 1);
        if (p >= np || seq >= MAX_SEQ) {
            atomic_fetch_add_explicit(&L.foreign, 1, memory_order_relaxed);
        } else {
            uint64_t bit = (uint64_t)1 << (seq % 64);
            if (atomic_fetch_or_explicit(&L.bits[p][seq / 64], bit, memory_order_relaxed) & bit)
                atomic_fetch_add_explicit(&L.dups, 1, memory_order_relaxed);
            if (cs->last_seq[p] > seq) /* last_seq holds the last seen + 1 */
                atomic_fetch_add_explicit(&L.order_errors, 1, memory_order_relaxed);
            cs->last_seq[p] = seq + 1;
        }
        atomic_store_explicit(&L.popped[cs->id].n, ++n, memory_order_relaxed);
    }
    cs->out.items = n;
    return NULL;
}

/* ---- the run ------------------------------------------------------------------------------- */

int ct_stall_run(const ct_stall_config *cfg, ct_stall_result *out)
{
    if (!cfg || !out || !cfg->queue || cfg->producers < 1 || cfg->consumers < 1 ||
        cfg->producers + cfg->consumers > CT_STALL_MAX_THREADS || !(cfg->stall_ms > 0) ||
        !(cfg->every_ms > 0) || !(cfg->seconds > 0) || cfg->capacity == 0 ||
        cfg->capacity > CT_MPMC_MAX_CAPACITY) {
        errno = EINVAL;
        return -1;
    }
    const lab_queue_ops *ops = !strcmp(cfg->queue, "mpmc")    ? &mpmc_ops
                               : !strcmp(cfg->queue, "mutex") ? &mutex_ops
                                                              : NULL;
    if (!ops) {
        errno = EINVAL;
        return -1;
    }
    memset(&L, 0, sizeof L);
    atomic_store_explicit(&stall_armed, false, memory_order_relaxed);
    memset(out, 0, sizeof *out);
    L.cfg = cfg;
    L.ops = ops;
    L.stall_ns = (uint64_t)(cfg->stall_ms * 1e6);
    L.every_ns = (uint64_t)(cfg->every_ms * 1e6);
    unsigned np = cfg->producers, nc = cfg->consumers;
    int rc = -1, err = ENOMEM;
    pthread_t prod[CT_STALL_MAX_THREADS];
    unsigned started_p = 0, started_c = 0;

    L.q = ops->create(cfg->capacity);
    if (!L.q) {
        err = errno;
        goto out;
    }
    for (unsigned p = 0; p < np; p++)
        if (!(L.bits[p] = calloc(MAX_SEQ / 64, sizeof(uint64_t))))
            goto out;
    for (unsigned c = 0; c < nc; c++) {
        L.cons[c].id = c;
        if (!(L.cons[c].calls = ct_hist_create()) ||
            !(L.cons[c].last_seq = calloc(np, sizeof(uint64_t))))
            goto out;
    }
    for (; started_c < nc; started_c++)
        if ((err = pthread_create(&L.cons[started_c].thread, NULL, consumer, &L.cons[started_c])))
            break;
    for (; err == 0 && started_p < np; started_p++)
        if ((err = pthread_create(&prod[started_p], NULL, producer, (void *)(uintptr_t)started_p)))
            break;
    if (err) { /* release the ones that started: they stop at once */
        atomic_store_explicit(&L.stop, true, memory_order_relaxed);
        atomic_store_explicit(&L.done, true, memory_order_release);
        ops->close(L.q);
        atomic_store_explicit(&L.go, true, memory_order_release);
        for (unsigned p = 0; p < started_p; p++)
            pthread_join(prod[p], NULL);
        for (unsigned c = 0; c < started_c; c++)
            pthread_join(L.cons[c].thread, NULL);
        goto out;
    }
    /* Acquire: pairs with wait_for_go's release; the consumers' tids are visible after it. */
    while (atomic_load_explicit(&L.ready, memory_order_acquire) < np + nc)
        sched_yield();
    atomic_store_explicit(&L.go, true, memory_order_release);
    uint64_t t0 = ct_now_ns();
    sleep_until(t0 + (uint64_t)(cfg->seconds * 1e9));
    atomic_store_explicit(&L.stop, true, memory_order_relaxed);
    uint64_t popped_at_stop = sum(L.popped, nc);
    out->wall_s = (double)(ct_now_ns() - t0) / 1e9;
    for (unsigned p = 0; p < np; p++)
        pthread_join(prod[p], NULL);
    /* Every push has returned: a try-mode consumer that reads done and then finds the queue
     * empty is finished; blocking consumers are released by close once the queue drains. */
    atomic_store_explicit(&L.done, true, memory_order_release);
    ops->close(L.q);
    for (unsigned c = 0; c < nc; c++)
        pthread_join(L.cons[c].thread, NULL);

    /* Verify: producer p pushed pushed[p] items, sequences 0 .. pushed[p] - 1, each popped once. */
    out->verified = true;
    uint64_t total = 0;
    for (unsigned p = 0; p < np && out->verified; p++) {
        uint64_t n = atomic_load_explicit(&L.pushed[p].n, memory_order_relaxed);
        total += n;
        for (uint64_t w = 0; w < MAX_SEQ / 64; w++) {
            uint64_t want = w < n / 64 ? ~(uint64_t)0
                            : w == n / 64 && n % 64 ? (((uint64_t)1 << (n % 64)) - 1)
                                                  : 0;
            uint64_t got = atomic_load_explicit(&L.bits[p][w], memory_order_relaxed);
            if (got != want) {
                out->verified = false;
                uint64_t diff = got ^ want;
                uint64_t seq = w * 64 + (uint64_t)__builtin_ctzll(diff);
                snprintf(out->failure, sizeof out->failure, "producer %u item %llu %s", p,
                         (unsigned long long)seq, (got & diff) ? "popped but never pushed"
                                                               : "pushed but never popped");
                break;
            }
        }
    }
    uint64_t popped = sum(L.popped, nc);
    uint64_t dups = atomic_load(&L.dups), order = atomic_load(&L.order_errors),
             foreign = atomic_load(&L.foreign);
    if (out->verified && (dups || order || foreign || popped != total)) {
        out->verified = false;
        snprintf(out->failure, sizeof out->failure,
                 "%llu duplicates, %llu order errors, %llu unknown items, %llu popped of %llu",
                 (unsigned long long)dups, (unsigned long long)order,
                 (unsigned long long)foreign, (unsigned long long)popped,
                 (unsigned long long)total);
    }
    out->items = total;
    out->stalls = L.stalls;
    out->stall_ms_mean = L.stalls ? (double)L.stall_total_ns / L.stalls / 1e6 : 0;
    out->popped_in_stalls = L.popped_in;
    out->pushed_in_stalls = L.pushed_in;
    double stall_s = (double)L.stall_total_ns / 1e9;
    out->items_per_s_during = stall_s > 0 ? (double)L.popped_in / stall_s : 0;
    out->items_per_s_outside = out->wall_s > stall_s
                                   ? (double)(popped_at_stop - L.popped_in) / (out->wall_s - stall_s)
                                   : 0;
    out->consumers_asleep = L.stalls ? L.asleep_c / L.stalls : 0;
    out->producers_asleep = L.stalls ? L.asleep_p / L.stalls : 0;
    if (ops == &mpmc_ops) {
        struct lab_mpmc *q = L.q;
        out->wakes = atomic_load(&q->not_empty.epoch) + (uint64_t)atomic_load(&q->not_full.epoch);
    }
    out->consumers = nc;
    for (unsigned c = 0; c < nc; c++) {
        out->consumer[c] = L.cons[c].out;
        out->consumer[c].p99_call_ns = ct_hist_percentile(L.cons[c].calls, 99.0);
    }
    rc = 0;
out:
    for (unsigned c = 0; c < nc; c++) {
        ct_hist_destroy(L.cons[c].calls);
        free(L.cons[c].last_seq);
    }
    for (unsigned p = 0; p < np; p++)
        free(L.bits[p]);
    if (L.q)
        ops->destroy(L.q);
    if (rc != 0)
        errno = err;
    return rc;
}

/* ---- the lab's command line ----------------------------------------------------------------- */

static void help(void)
{
    puts("usage: contend lab stalled-producer [options]\n"
         "  One producer stalls between claiming an mpmc cell and publishing it (for the mutex\n"
         "  queue: while holding the lock); shows which consumers stall, for how long, what the\n"
         "  waiting costs, and verifies exactly-once delivery.\n"
         "  --queue mpmc|mutex|both    (default both)\n"
         "  --mode try|blocking|both   (default both)\n"
         "  --producers N              (default 2; producer 0 stalls)\n"
         "  --consumers N              (default 2)\n"
         "  --stall-ms X               stall length (default 10)\n"
         "  --every-ms X               time between stalls (default 50)\n"
         "  --seconds X                per run (default 1)\n"
         "  --capacity N               (default 1024)\n"
         "  Exit status: 0 verified, 1 a run failed verification, 2 bad input.");
}

static int bad(const char *flag, const char *value)
{
    fprintf(stderr, "contend lab stalled-producer: bad value '%s' for %s\n", value, flag);
    return 2;
}

static bool parse_pos_double(const char *s, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_pos_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == 0 || v > max)
        return false;
    *out = v;
    return true;
}

static void print_result(const ct_stall_config *c, const ct_stall_result *r)
{
    printf("\n%s, %s mode: %u producers, %u consumers, capacity %zu, stall %.3g ms every %.3g "
           "ms, %.3g s\n",
           c->queue, c->blocking ? "blocking" : "try", c->producers, c->consumers, c->capacity,
           c->stall_ms, c->every_ms, c->seconds);
    printf("  stalls %u (mean %.2f ms); %llu items, %s\n", r->stalls, r->stall_ms_mean,
           (unsigned long long)r->items,
           r->verified ? "each popped exactly once, in order per producer" : "VERIFICATION FAILED");
    if (!r->verified)
        printf("  failure: %s\n", r->failure);
    printf("  items/s: outside stalls %.3g, during stalls %.3g (popped %llu, other producers "
           "pushed %llu during all stalls)\n",
           r->items_per_s_outside, r->items_per_s_during,
           (unsigned long long)r->popped_in_stalls, (unsigned long long)r->pushed_in_stalls);
    printf("  %-8s %10s %10s %10s %12s %11s %12s %14s %12s\n", "consumer", "items", "calls",
           "calls>=s/2", "max call ms", "p99 call us", "max gap ms", "cpu ms/stall",
           "sleeps/stall");
    for (unsigned i = 0; i < r->consumers; i++) {
        const ct_stall_consumer *k = &r->consumer[i];
        double per = r->stalls ? 1.0 / r->stalls : 0;
        printf("  %-8u %10llu %10llu %10llu %12.2f %11.1f %12.2f %14.2f %12.1f\n", i,
               (unsigned long long)k->items, (unsigned long long)k->calls,
               (unsigned long long)k->long_calls, (double)k->max_call_ns / 1e6,
               (double)k->p99_call_ns / 1e3, (double)k->max_gap_ns / 1e6,
               (double)k->stall_cpu_ns / 1e6 * per, (double)k->stall_vcsw * per);
    }
    printf("  at each stall's end (mean): %.2f consumers and %.2f producers asleep on the %s",
           r->consumers_asleep, r->producers_asleep,
           !strcmp(c->queue, "mpmc") ? "eventcounts" : "condition variables");
    if (!strcmp(c->queue, "mpmc"))
        printf("; %llu eventcount wakes in the run\n", (unsigned long long)r->wakes);
    else
        printf(" (threads blocked on the mutex itself: see sleeps/stall)\n");
}

static int lab_main(int argc, char **argv)
{
    ct_stall_config base = {.queue = "mpmc", .producers = 2, .consumers = 2, .stall_ms = 10,
                            .every_ms = 50, .seconds = 1, .capacity = 1024};
    const char *queue = "both", *mode = "both";
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
            help();
            return 0;
        }
        if (f[0] != '-' || f[1] != '-') {
            fprintf(stderr, "contend lab stalled-producer: unexpected argument '%s'\n", f);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "contend lab stalled-producer: %s needs a value\n", f);
            return 2;
        }
        const char *v = argv[++i];
        unsigned long long u;
        if (!strcmp(f, "--queue")) {
            if (strcmp(v, "mpmc") && strcmp(v, "mutex") && strcmp(v, "both"))
                return bad(f, v);
            queue = v;
        } else if (!strcmp(f, "--mode")) {
            if (strcmp(v, "try") && strcmp(v, "blocking") && strcmp(v, "both"))
                return bad(f, v);
            mode = v;
        } else if (!strcmp(f, "--producers") || !strcmp(f, "--consumers")) {
            if (!parse_pos_uint(v, CT_STALL_MAX_THREADS / 2, &u))
                return bad(f, v);
            *(f[2] == 'p' ? &base.producers : &base.consumers) = (unsigned)u;
        } else if (!strcmp(f, "--stall-ms")) {
            if (!parse_pos_double(v, 10000, &base.stall_ms))
                return bad(f, v);
        } else if (!strcmp(f, "--every-ms")) {
            if (!parse_pos_double(v, 100000, &base.every_ms))
                return bad(f, v);
        } else if (!strcmp(f, "--seconds")) {
            if (!parse_pos_double(v, 3600, &base.seconds))
                return bad(f, v);
        } else if (!strcmp(f, "--capacity")) {
            if (!parse_pos_uint(v, CT_MPMC_MAX_CAPACITY, &u))
                return bad(f, v);
            base.capacity = (size_t)u;
        } else {
            fprintf(stderr, "contend lab stalled-producer: unknown option '%s'\n", f);
            return 2;
        }
    }
    printf("stalled-producer: producer 0 stalls %.3g ms every %.3g ms at the worst step "
           "(mpmc: claimed, not published; mutex: lock held)\n",
           base.stall_ms, base.every_ms);
    int status = 0;
    const char *queues[] = {"mpmc", "mutex"};
    for (int qi = 0; qi < 2; qi++) {
        if (strcmp(queue, "both") && strcmp(queue, queues[qi]))
            continue;
        for (int b = 0; b < 2; b++) {
            if (!strcmp(mode, b ? "try" : "blocking"))
                continue;
            ct_stall_config c = base;
            c.queue = queues[qi];
            c.blocking = b;
            static ct_stall_result r;
            if (ct_stall_run(&c, &r) != 0) {
                fprintf(stderr, "contend lab stalled-producer: run failed: %s\n", strerror(errno));
                return 1;
            }
            print_result(&c, &r);
            if (!r.verified)
                status = 1;
        }
    }
    return status;
}

const ct_lab ct_lab_stalled_producer = {"stalled-producer",
                                        "a producer descheduled between claim and publish: who "
                                        "waits, how long, at what CPU cost (mpmc vs mutex)",
                                        lab_main, help};
