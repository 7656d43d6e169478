/* Workload `stack`: every thread alternates push and pop on one Treiber-family stack
 * (contend/stack.h), prefilled with 1024 items so pops rarely find it empty: the 50/50 push/pop
 * mix of the SMR literature (Michael 2004; Hart, McKenney, Brown 2007; kaist-cp smr-benchmark).
 * Implementations: every registered stack except `naive` (broken by design), the baseline
 * being `mutex`, then the peers that were found at build time (bench/peers/peer_stack_list.h:
 * `ck-epoch`, Concurrency Kit's ck_stack + ck_epoch; `urcu`, liburcu's cds_lfs + RCU).
 *
 * --think-ns adds private work after each push+pop pair (lower contention); --cs-ns does not
 * apply (there is no critical section to lengthen) and is ignored.
 *
 * Throughput counts pushes and pops (one op each). Latency: one op in `--sample` is timed.
 * Extra figures (JSON "extra"), sampled over time by thread 0 every 1024 of its ops: peak and
 * mean nodes pending reclamation (ct_stack_class.pending: hazard and epoch; 0 for tagged, whose
 * nodes go to its free list and stay allocated, and mutex, which frees at once), the number of
 * samples, and the process's peak resident set (VmHWM, kB; reset through /proc/self/clear_refs
 * at setup where the kernel allows, else the process's high-water mark so far: see
 * peak_rss_reset).
 *
 * Verify also checks every pending sample against the implementation's stated bound
 * (ct_stack_class.pending_bound: hazard pointers N * T; none for epochs): a sample above it
 * fails the run, so every hazard run, a long soak included, checks the bound.
 *
 * Verify (no loss, no duplicate, no invented item) without a bitmap: item = thread << 40 |
 * sequence (1-based). Each thread keeps, over what it popped, the count, the sum and the sum of
 * squares of the items; after the run the stack is drained into the same sums. Pushed items
 * are known exactly (thread t pushed 1..n_t, plus the prefill), so counts and both sums must
 * match: a lost or duplicated item cannot satisfy all three.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contend/harness.h"
#include "contend/stack.h"
#include "peers/peers.h"

#define PREFILL 1024u
#define PREFILL_ID 0xFFFFFu /* the "thread" that pushed the prefill */
#define SAMPLE_EVERY 1024u

typedef struct per_thread {
    _Alignas(CT_PAD) uint64_t pushed; /* its items 1..pushed */
    uint64_t popped;
    unsigned __int128 sum, sum_sq;
    void *handle;
    int push_errno;
} per_thread;

typedef struct stack_state {
    const ct_stack_class *c;
    void *s;
    unsigned n;
    per_thread *pt;
    /* Thread 0's samples of pending(). */
    uint64_t pend_peak, pend_samples, pend_over_bound, pend_bound_seen;
    double pend_sum;
    bool rss_reset;
} stack_state;

static const ct_stack_class *impl_at(size_t i)
{
    /* Registry order, skipping broken stacks, then the peers that were built. */
    size_t seen = 0;
    for (size_t k = 0; k < ct_stack_class_count(); k++) {
        const ct_stack_class *c = ct_stack_class_get(k);
        if (c->broken)
            continue;
        if (seen++ == i)
            return c;
    }
    return ct_peer_stack_class_get(i - seen);
}

static const ct_stack_class *impl_find(const char *name)
{
    const ct_stack_class *c = ct_stack_class_find(name);
    return c ? c : ct_peer_stack_class_find(name);
}

static size_t st_impl_count(void)
{
    size_t n = 0;
    while (impl_at(n))
        n++;
    return n;
}
static const char *st_impl_name(size_t i) { return impl_at(i) ? impl_at(i)->name : NULL; }
static const char *st_impl_summary(size_t i) { return impl_at(i) ? impl_at(i)->summary : NULL; }
static const char *st_baseline(const char *impl) { (void)impl; return "mutex"; }

/* Writing "5" to /proc/self/clear_refs resets VmHWM to the current RSS (Linux >= 4.0), so the
 * peak reported is this run's. Where that fails the figure is the process's peak so far. */
static bool peak_rss_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return false;
    bool ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

static double peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    double kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) {
            kb = strtod(line + 6, NULL);
            break;
        }
    fclose(f);
    return kb;
}

static void st_teardown(void *p)
{
    stack_state *st = p;
    if (!st)
        return;
    if (st->s)
        st->c->destroy(st->s);
    free(st->pt);
    free(st);
}

static void *st_setup(const char *impl, unsigned threads, const ct_params *params, char *err,
                      size_t errlen)
{
    (void)params;
    const ct_stack_class *c = impl_find(impl);
    if (!c || c->broken) {
        snprintf(err, errlen, "stack: unknown implementation '%s'", impl);
        return NULL;
    }
    stack_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    st->c = c;
    st->n = threads;
    st->pt = aligned_alloc(CT_PAD, threads * sizeof *st->pt);
    st->s = c->create(NULL);
    if (!st->pt || !st->s) {
        snprintf(err, errlen, "stack: cannot create %s: %s", impl, strerror(errno));
        st_teardown(st);
        return NULL;
    }
    memset(st->pt, 0, threads * sizeof *st->pt);
    void *h = c->join(st->s);
    bool ok = h != NULL;
    for (uint64_t i = 1; ok && i <= PREFILL; i++)
        ok = c->push(st->s, h, (void *)(uintptr_t)(((uint64_t)PREFILL_ID << 40) | i));
    if (h)
        c->leave(st->s, h);
    if (!ok) {
        snprintf(err, errlen, "stack: cannot prefill %s: %s", impl, strerror(errno));
        st_teardown(st);
        return NULL;
    }
    st->rss_reset = peak_rss_reset();
    return st;
}

static void st_main(ct_thread *t)
{
    stack_state *st = t->shared;
    per_thread *me = &st->pt[t->index];
    void *h = st->c->join(st->s);
    if (!h) {
        me->push_errno = errno ? errno : ENOMEM;
        return;
    }
    const uint64_t id = (uint64_t)t->index << 40;
    uint64_t seq = 0, count = 0;
    unsigned __int128 sum = 0, sum_sq = 0;
    unsigned until_sample = SAMPLE_EVERY;
    const uint64_t think = ct_thread_params(t)->think_ns;
    while (ct_thread_running(t)) {
        uint64_t start = ct_op_begin(t);
        if (!st->c->push(st->s, h, (void *)(uintptr_t)(id | (seq + 1)))) {
            me->push_errno = errno ? errno : ENOMEM;
            break;
        }
        seq++;
        ct_op_end(t, start);
        start = ct_op_begin(t);
        void *it;
        if (st->c->pop(st->s, h, &it)) {
            uint64_t v = (uint64_t)(uintptr_t)it;
            count++;
            sum += v;
            sum_sq += (unsigned __int128)v * v;
        }
        ct_op_end(t, start);
        ct_work_ns(think);
        if (t->index == 0 && --until_sample == 0) {
            until_sample = SAMPLE_EVERY;
            uint64_t p = st->c->pending(st->s);
            size_t bound = st->c->pending_bound(st->s); /* read after: records only grow */
            if (p > bound) {
                st->pend_over_bound++;
                st->pend_bound_seen = bound;
            }
            if (p > st->pend_peak)
                st->pend_peak = p;
            st->pend_sum += (double)p;
            st->pend_samples++;
        }
    }
    me->pushed = seq;
    me->popped = count;
    me->sum = sum;
    me->sum_sq = sum_sq;
    st->c->leave(st->s, h);
}

static void add_expected(uint64_t id, uint64_t n, unsigned __int128 *sum, unsigned __int128 *sq)
{
    /* Items id<<40 | k for k = 1..n: sum = n*B + n(n+1)/2; squares = n*B^2 + 2B*S1 + S2. */
    unsigned __int128 b = (unsigned __int128)id << 40;
    unsigned __int128 s1 = (unsigned __int128)n * (n + 1) / 2;
    unsigned __int128 s2 = (unsigned __int128)n * (n + 1) * (2 * n + 1) / 6;
    *sum += n * b + s1;
    *sq += n * b * b + 2 * b * s1 + s2;
}

static bool st_verify(void *p, const ct_thread *threads, unsigned n, char *msg, size_t len)
{
    stack_state *st = p;
    (void)threads;
    uint64_t count = 0, want_count = PREFILL;
    unsigned __int128 sum = 0, sq = 0, want_sum = 0, want_sq = 0;
    add_expected(PREFILL_ID, PREFILL, &want_sum, &want_sq);
    for (unsigned i = 0; i < n; i++) {
        const per_thread *me = &st->pt[i];
        if (me->push_errno) {
            snprintf(msg, len, "thread %u: push failed: %s", i, strerror(me->push_errno));
            return false;
        }
        count += me->popped;
        sum += me->sum;
        sq += me->sum_sq;
        want_count += me->pushed;
        add_expected(i, me->pushed, &want_sum, &want_sq);
    }
    if (st->pend_over_bound) {
        snprintf(msg, len, "pending nodes exceeded the stated bound (%llu) in %llu samples",
                 (unsigned long long)st->pend_bound_seen,
                 (unsigned long long)st->pend_over_bound);
        return false;
    }
    void *h = st->c->join(st->s);
    if (!h) {
        snprintf(msg, len, "cannot join the stack to drain it");
        return false;
    }
    void *it;
    while (st->c->pop(st->s, h, &it)) {
        uint64_t v = (uint64_t)(uintptr_t)it;
        count++;
        sum += v;
        sq += (unsigned __int128)v * v;
        if (count > want_count + 1)
            break; /* a cycle would never end */
    }
    st->c->leave(st->s, h);
    if (count != want_count || sum != want_sum || sq != want_sq) {
        snprintf(msg, len, "%llu items pushed (prefill included), %llu came out (sums %s)",
                 (unsigned long long)want_count, (unsigned long long)count,
                 sum == want_sum && sq == want_sq ? "match" : "differ");
        return false;
    }
    return true;
}

static size_t st_extras(void *p, ct_extra *out, size_t max)
{
    stack_state *st = p;
    ct_extra e[] = {
        {"pending_peak", (double)st->pend_peak},
        {"pending_mean", st->pend_samples ? st->pend_sum / (double)st->pend_samples : 0},
        {"pending_samples", (double)st->pend_samples},
        {st->rss_reset ? "peak_rss_kb" : "peak_rss_kb_process", peak_rss_kb()},
    };
    size_t n = sizeof e / sizeof e[0];
    if (n > max)
        n = max;
    memcpy(out, e, n * sizeof *e);
    return n;
}

const ct_workload ct_workload_stack = {
    .name = "stack",
    .summary = "threads alternate push and pop on one Treiber stack (prefilled 1024)",
    .latency_note = "one sampled op = one push or one pop",
    .impl_count = st_impl_count,
    .impl_name = st_impl_name,
    .impl_summary = st_impl_summary,
    .setup = st_setup,
    .thread_main = st_main,
    .verify = st_verify,
    .teardown = st_teardown,
    .baseline = st_baseline,
    .extras = st_extras,
};
