/* Workload `false-sharing`: threads that share nothing logically, but may share a cache line.
 *
 * Every thread increments its own counter. Where those counters sit decides everything:
 *   packed   8 bytes apart: up to 8 threads' counters in one 64-byte line. Each write needs the
 *            line in Modified state, so it ping-pongs between cores as if the counter were
 *            shared (false sharing).
 *   line     64 bytes apart: one counter per line, but adjacent lines. Cores whose L2
 *            prefetcher fetches 128-byte pairs (Intel since Sandy Bridge, several AMD and Arm
 *            cores) still drag the neighbour's line along, so some coupling can remain.
 *   padded   128 bytes apart (CT_PAD): no line and no prefetch pair is shared. The baseline.
 * with two kinds of increment: `-store` (a relaxed load and store: a plain memory increment)
 * and `-rmw` (an atomic fetch_add). Contrasts:
 *   shared-rmw           true sharing: every thread increments ONE counter (fetch_add)
 *   rw-packed, rw-padded thread 0 writes its counter; every other thread only reads a field
 *                        next to it (8 bytes away, or 128): readers that write nothing still
 *                        miss on every write of the writer when they share its line.
 * Each implementation names its baseline (the padded one), so reports show the slowdown and an
 * estimate of extra line transfers per op: the extra CPU time per op over the baseline divided
 * by the probed one-way line transfer time.
 *
 * Verify: each thread's counter equals its own op count (shared-rmw: the sum); rw readers saw
 * the untouched field keep its value on every read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contend/harness.h"

enum mode { MODE_STORE, MODE_RMW, MODE_SHARED, MODE_READERS };

typedef struct fs_impl {
    const char *name, *summary, *baseline;
    enum mode mode;
    size_t stride; /* bytes between neighbouring threads' fields */
} fs_impl;

static const fs_impl impls[] = {
    {"packed-store", "own counter, 8 B apart, load+store", "padded-store", MODE_STORE, 8},
    {"line-store", "own counter, 64 B apart (adjacent lines), load+store", "padded-store",
     MODE_STORE, 64},
    {"padded-store", "own counter, 128 B apart (CT_PAD), load+store", NULL, MODE_STORE, CT_PAD},
    {"packed-rmw", "own counter, 8 B apart, atomic fetch_add", "padded-rmw", MODE_RMW, 8},
    {"line-rmw", "own counter, 64 B apart (adjacent lines), atomic fetch_add", "padded-rmw",
     MODE_RMW, 64},
    {"padded-rmw", "own counter, 128 B apart (CT_PAD), atomic fetch_add", NULL, MODE_RMW, CT_PAD},
    {"shared-rmw", "true sharing: one counter for all, atomic fetch_add", "padded-rmw",
     MODE_SHARED, 0},
    {"rw-packed", "thread 0 writes; the others read a field 8 B away", "rw-padded", MODE_READERS,
     8},
    {"rw-padded", "thread 0 writes; the others read a field 128 B away", NULL, MODE_READERS,
     CT_PAD},
};
#define NIMPLS (sizeof impls / sizeof impls[0])

#define UNTOUCHED 0x5A5A5A5A5A5A5A5Aull /* the value rw readers must always see */

typedef struct fs_state {
    const fs_impl *impl;
    unsigned char *buf; /* CT_PAD-aligned; field i at buf + i * stride */
    size_t bytes;
    uint64_t think_iters;
    _Atomic uint64_t bad_reads; /* rw readers that saw the untouched field change (never) */
} fs_state;

static _Atomic uint64_t *field(const fs_state *s, size_t i)
{
    return (_Atomic uint64_t *)(s->buf + i * s->impl->stride);
}

static size_t fs_impl_count(void) { return NIMPLS; }
static const char *fs_impl_name(size_t i) { return i < NIMPLS ? impls[i].name : NULL; }
static const char *fs_impl_summary(size_t i) { return i < NIMPLS ? impls[i].summary : NULL; }

static const char *fs_baseline(const char *impl)
{
    for (size_t i = 0; i < NIMPLS; i++)
        if (strcmp(impls[i].name, impl) == 0)
            return impls[i].baseline;
    return NULL;
}

static void fs_teardown(void *p)
{
    fs_state *s = p;
    if (s) {
        free(s->buf);
        free(s);
    }
}

static void *fs_setup(const char *name, unsigned threads, const ct_params *params, char *err,
                      size_t errlen)
{
    const fs_impl *impl = NULL;
    for (size_t i = 0; i < NIMPLS; i++)
        if (strcmp(impls[i].name, name) == 0)
            impl = &impls[i];
    if (!impl) {
        snprintf(err, errlen, "false-sharing: unknown implementation '%s'", name);
        return NULL;
    }
    fs_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->impl = impl;
    /* Room for threads + 1 fields (rw readers read field 1) at the widest stride, whatever
     * the layout: every layout then gets the same allocation, so none is slowed by where the
     * allocator happened to put it (4 KiB aliasing with a thread's own slot, for one). */
    s->bytes = (threads + 1) * (size_t)CT_PAD;
    s->buf = aligned_alloc(CT_PAD, s->bytes);
    if (!s->buf) {
        snprintf(err, errlen, "out of memory");
        fs_teardown(s);
        return NULL;
    }
    memset(s->buf, 0, s->bytes);
    if (impl->mode == MODE_READERS)
        atomic_store_explicit(field(s, 1), UNTOUCHED, memory_order_relaxed);
    s->think_iters = (uint64_t)((double)params->think_ns * ct_work_iters_per_ns() + 0.5);
    return s;
}

static void fs_main(ct_thread *t)
{
    fs_state *s = t->shared;
    const uint64_t think = s->think_iters;
    enum mode mode = s->impl->mode;
    if (mode == MODE_READERS && t->index > 0) {
        /* A reader: its op is one load of the untouched neighbour of the writer's field. */
        _Atomic uint64_t *f = field(s, 1);
        uint64_t bad = 0;
        while (ct_thread_running(t)) {
            uint64_t start = ct_op_begin(t);
            if (atomic_load_explicit(f, memory_order_relaxed) != UNTOUCHED)
                bad++;
            ct_op_end(t, start);
            if (think)
                ct_work_iters(think);
        }
        if (bad)
            atomic_fetch_add_explicit(&s->bad_reads, bad, memory_order_relaxed);
        return;
    }
    /* MODE_SHARED: everyone on field 0 (stride 0); rw writer: field 0; else field index. */
    _Atomic uint64_t *mine = field(s, mode == MODE_READERS ? 0 : t->index);
    if (mode == MODE_STORE) {
        while (ct_thread_running(t)) {
            uint64_t start = ct_op_begin(t);
            /* Only this thread writes its field: a relaxed load + store is a plain increment
             * that the compiler must still perform in memory every time. */
            atomic_store_explicit(mine, atomic_load_explicit(mine, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
            ct_op_end(t, start);
            if (think)
                ct_work_iters(think);
        }
    } else {
        while (ct_thread_running(t)) {
            uint64_t start = ct_op_begin(t);
            /* Relaxed: the counts are read after join, which synchronizes. */
            atomic_fetch_add_explicit(mine, 1, memory_order_relaxed);
            ct_op_end(t, start);
            if (think)
                ct_work_iters(think);
        }
    }
}

static bool fs_verify(void *p, const ct_thread *threads, unsigned n, char *msg, size_t len)
{
    fs_state *s = p;
    enum mode mode = s->impl->mode;
    if (mode == MODE_SHARED) {
        uint64_t want = 0, got = atomic_load_explicit(field(s, 0), memory_order_relaxed);
        for (unsigned i = 0; i < n; i++)
            want += threads[i].ops;
        if (got != want) {
            snprintf(msg, len, "shared counter is %llu after %llu increments",
                     (unsigned long long)got, (unsigned long long)want);
            return false;
        }
        return true;
    }
    unsigned writers = mode == MODE_READERS ? 1 : n;
    for (unsigned i = 0; i < writers; i++) {
        uint64_t got = atomic_load_explicit(field(s, i), memory_order_relaxed);
        if (got != threads[i].ops) {
            snprintf(msg, len, "thread %u's counter is %llu after %llu increments", i,
                     (unsigned long long)got, (unsigned long long)threads[i].ops);
            return false;
        }
    }
    uint64_t bad = atomic_load_explicit(&s->bad_reads, memory_order_relaxed);
    if (mode == MODE_READERS &&
        (bad || atomic_load_explicit(field(s, 1), memory_order_relaxed) != UNTOUCHED)) {
        snprintf(msg, len, "readers saw the untouched field change %llu times",
                 (unsigned long long)bad);
        return false;
    }
    return true;
}

const ct_workload ct_workload_false_sharing = {
    .name = "false-sharing",
    .summary = "threads increment their own counters, packed, on adjacent lines, or padded",
    .latency_note = "one sampled op = one increment (or one read, for rw readers)",
    .impl_count = fs_impl_count,
    .impl_name = fs_impl_name,
    .impl_summary = fs_impl_summary,
    .setup = fs_setup,
    .thread_main = fs_main,
    .verify = fs_verify,
    .teardown = fs_teardown,
    .baseline = fs_baseline,
};
