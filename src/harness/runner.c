/* The runner: one point = `repeat` fresh runs of one workload implementation on N threads.
 *
 * One run:
 *   setup -> create N threads (each pins itself, opens its counters, then waits at the gate)
 *   -> open the gate (all released together) -> warm-up -> phase MEASURE (t0, rusage0)
 *   -> sleep for the duration -> (t1, rusage1) phase STOP -> join -> verify -> teardown.
 *
 * Threads take their own snapshots (op count, histogram reset, counters on/off) when they see
 * the phase change, so the runner never reads a live per-thread slot; it reads them only after
 * pthread_join, which orders all of the thread's writes before the runner's reads. A thread that
 * is blocked (waiting for a lock, or preempted) when the phase changes takes its snapshot when
 * it next runs; a thread that never saw MEASURE contributes zero measured ops.
 *
 * Throughput counts every thread's ops over the runner's window [t0, t1]; the window is the
 * runner's, not the threads', so threads that stall are not averaged away (lockhammer#66).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "contend/harness.h"
#include "contend/wait.h"
#include "hw_counters.h"
#include "topology.h"

void ct_run_config_defaults(ct_run_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->duration_s = 1.0;
    cfg->warmup_s = 0.1;
    cfg->repeat = 3;
    cfg->pin = CT_PIN_NONE;
    cfg->sample_period = 4096;
    cfg->hw_counters = true;
}

/* The phase word has a line pair to itself: every thread reads it on every op, and a write
 * to a neighbouring field would invalidate it in every reader's cache. */
typedef struct run_control {
    CT_PAD_ALIGNED _Atomic unsigned phase;
    CT_PAD_ALIGNED _Atomic uint32_t gate;  /* 0 closed, 1 go, 2 abort */
    _Atomic unsigned ready;
    const ct_workload *workload;
    ct_pin_mode pin;
    bool hw;
} run_control;
CT_ASSERT_SEPARATE_LINES(run_control, phase, gate);

typedef struct thread_arg {
    ct_thread *t;
    run_control *ctl;
} thread_arg;

void ct__thread_phase_change(ct_thread *t, unsigned phase)
{
    if (t->phase_seen < CT_PHASE_MEASURE && phase >= CT_PHASE_MEASURE) {
        t->ops_at_measure_start = t->ops;
        t->measure_start_ns = ct_now_ns();
        ct_hist_reset(t->hist);
        /* Time the first op of the window, so that every thread that makes progress at all
         * contributes a sample, however slow its ops are; then every sample_period-th. */
        if (t->sample_period)
            t->sample_countdown = 1;
        if (t->hw)
            ct_hw_start(t->hw);
    }
    if (phase == CT_PHASE_STOP) {
        if (t->hw)
            ct_hw_stop(t->hw);
        t->ops_at_measure_end = t->ops;
        t->measure_end_ns = ct_now_ns();
    }
    t->phase_seen = phase;
}

static void *thread_start(void *p)
{
    thread_arg *a = p;
    ct_thread *t = a->t;
    run_control *ctl = a->ctl;
    if (ctl->pin != CT_PIN_NONE && ct_topology_pin_self(ctl->pin, t->index) != 0)
        t->pin_error = errno ? errno : EINVAL;
    if (ctl->hw) {
        ct_hw_session *s = malloc(sizeof *s);
        if (s && ct_hw_open(s) == 0)
            t->hw = s;
        else
            free(s);
    }
    /* Gate: count ourselves ready, then sleep until the runner opens it. The acquire load
     * pairs with the runner's release store, so setup's writes are visible to us. */
    atomic_fetch_add_explicit(&ctl->ready, 1, memory_order_release);
    uint32_t g;
    while ((g = atomic_load_explicit(&ctl->gate, memory_order_acquire)) == 0)
        ct_futex_wait(&ctl->gate, 0, 0);
    if (g == 1)
        ctl->workload->thread_main(t);
    if (t->phase_seen != CT_PHASE_STOP) /* the workload returned early or the run aborted */
        ct__thread_phase_change(t, CT_PHASE_STOP);
    return NULL;
}

static void sleep_seconds(double s)
{
    uint64_t end = ct_now_ns() + (uint64_t)(s * 1e9);
    for (;;) {
        uint64_t now = ct_now_ns();
        if (now >= end)
            return;
        uint64_t left = end - now;
        struct timespec ts = {(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
        nanosleep(&ts, NULL);
    }
}

static double tv_ns(struct timeval tv) { return (double)tv.tv_sec * 1e9 + (double)tv.tv_usec * 1e3; }

typedef struct run_outcome {
    double ops_per_s, cpu_ns_per_op;
    long ctx_vol, ctx_invol;
    double jain, min_share, max_share;
    bool hw_valid;
    uint64_t hw[CT_HW_NCOUNTERS];
    uint64_t measured_ops;
    uint64_t all_ops; /* every op of the counted threads, warm-up included */
    int pin_error;
    ct_extra extra[CT_MAX_EXTRA];
    size_t nextra;
} run_outcome;

/* One run. Merges latency into `lat`. Returns 0, or -1 with err. */
static int run_once(const ct_workload *w, const char *impl, unsigned n, const ct_run_config *cfg,
                    ct_hist *lat, run_outcome *out, bool *verified, char *vmsg, size_t vmsglen,
                    char *err, size_t errlen)
{
    void *shared = w->setup(impl, n, &cfg->params, err, errlen);
    if (!shared)
        return -1;
    int rc = -1;
    run_control *ctl = aligned_alloc(CT_PAD, sizeof *ctl);
    ct_thread *threads = aligned_alloc(CT_PAD, sizeof(ct_thread) * n);
    thread_arg *args = calloc(n, sizeof *args);
    pthread_t *tids = calloc(n, sizeof *tids);
    uint64_t *counts = calloc(n, sizeof *counts);
    unsigned created = 0;
    if (!ctl || !threads || !args || !tids || !counts) {
        snprintf(err, errlen, "out of memory for %u threads", n);
        goto out;
    }
    memset(ctl, 0, sizeof *ctl);
    memset(threads, 0, sizeof(ct_thread) * n);
    ctl->workload = w;
    ctl->pin = (ct_pin_mode)cfg->pin;
    ctl->hw = cfg->hw_counters && ct_hw_unavailable_reason() == NULL;
    for (unsigned i = 0; i < n; i++) {
        ct_thread *t = &threads[i];
        t->phase = &ctl->phase;
        t->phase_seen = CT_PHASE_WARMUP;
        t->sample_period = cfg->sample_period;
        /* Stagger the first sample so threads do not all read the clock together. */
        t->sample_countdown = cfg->sample_period ? 1 + (i * 7919u) % cfg->sample_period : UINT64_MAX;
        t->index = i;
        t->nthreads = n;
        t->shared = shared;
        t->params_ptr = &cfg->params;
        t->hist = ct_hist_create();
        if (!t->hist) {
            snprintf(err, errlen, "out of memory for histograms");
            goto out;
        }
        args[i].t = t;
        args[i].ctl = ctl;
    }
    for (; created < n; created++) {
        int e = pthread_create(&tids[created], NULL, thread_start, &args[created]);
        if (e) {
            snprintf(err, errlen, "cannot start thread %u of %u: %s", created + 1, n, strerror(e));
            /* Release the threads already waiting, telling them to leave at once. */
            atomic_store_explicit(&ctl->phase, CT_PHASE_STOP, memory_order_relaxed);
            atomic_store_explicit(&ctl->gate, 2, memory_order_release);
            ct_futex_wake(&ctl->gate, INT32_MAX);
            goto join;
        }
    }
    while (atomic_load_explicit(&ctl->ready, memory_order_acquire) < n)
        sleep_seconds(50e-6);
    /* Release pairs with each thread's acquire load of the gate. */
    atomic_store_explicit(&ctl->gate, 1, memory_order_release);
    ct_futex_wake(&ctl->gate, INT32_MAX);

    sleep_seconds(cfg->warmup_s);
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    uint64_t t0 = ct_now_ns();
    atomic_store_explicit(&ctl->phase, CT_PHASE_MEASURE, memory_order_relaxed);
    sleep_seconds(cfg->duration_s);
    uint64_t t1 = ct_now_ns();
    getrusage(RUSAGE_SELF, &r1);
    atomic_store_explicit(&ctl->phase, CT_PHASE_STOP, memory_order_relaxed);
    if (w->stop)
        w->stop(shared);
    rc = 0;

join:
    for (unsigned i = 0; i < created; i++)
        pthread_join(tids[i], NULL);
    if (rc == 0) {
        memset(out, 0, sizeof *out);
        out->hw_valid = ctl->hw;
        unsigned ncounted = 0;
        for (unsigned i = 0; i < n; i++) {
            ct_thread *t = &threads[i];
            if (!t->uncounted) {
                counts[ncounted] = t->ops_at_measure_end - t->ops_at_measure_start;
                out->measured_ops += counts[ncounted++];
                out->all_ops += t->ops; /* warm-up included: verify covers every op */
            }
            ct_hist_merge(lat, t->hist);
            if (t->pin_error && !out->pin_error)
                out->pin_error = t->pin_error;
            if (t->hw) {
                ct_hw_values v;
                ct_hw_read(t->hw, &v);
                for (int k = 0; k < CT_HW_NCOUNTERS; k++)
                    out->hw[k] += v.value[k];
            } else {
                out->hw_valid = false;
            }
        }
        double window = (double)(t1 - t0);
        out->ops_per_s = window > 0 ? (double)out->measured_ops * 1e9 / window : 0;
        double cpu = tv_ns(r1.ru_utime) - tv_ns(r0.ru_utime) + tv_ns(r1.ru_stime) - tv_ns(r0.ru_stime);
        out->cpu_ns_per_op = out->measured_ops ? cpu / (double)out->measured_ops : -1;
        out->ctx_vol = r1.ru_nvcsw - r0.ru_nvcsw;
        out->ctx_invol = r1.ru_nivcsw - r0.ru_nivcsw;
        ct_fairness(counts, ncounted, &out->jain, &out->min_share, &out->max_share);
        *verified = w->verify(shared, threads, n, vmsg, vmsglen);
        if (w->extras) {
            out->nextra = w->extras(shared, out->extra, CT_MAX_EXTRA);
            if (out->nextra > CT_MAX_EXTRA)
                out->nextra = CT_MAX_EXTRA;
        }
    }
out:
    if (threads) {
        for (unsigned i = 0; i < n; i++) {
            ct_hist_destroy(threads[i].hist);
            if (threads[i].hw) {
                ct_hw_close(threads[i].hw);
                free(threads[i].hw);
            }
        }
    }
    w->teardown(shared);
    free(ctl);
    free(threads);
    free(args);
    free(tids);
    free(counts);
    return rc;
}

int ct_run_point(const ct_workload *w, const char *impl, unsigned threads,
                 const ct_run_config *cfg, ct_result *out, char *err, size_t errlen)
{
    if (!ct_workload_has_impl(w, impl)) {
        snprintf(err, errlen, "%s has no implementation '%s'", w->name, impl);
        return -1;
    }
    if (threads == 0 || cfg->repeat == 0 || cfg->repeat > CT_MAX_REPEAT || cfg->duration_s <= 0) {
        snprintf(err, errlen, "bad run configuration (threads %u, repeat %u, duration %g)",
                 threads, cfg->repeat, cfg->duration_s);
        return -1;
    }
    ct_work_calibrate();
    memset(out, 0, sizeof *out);
    out->bench = w->name;
    out->impl = impl;
    out->threads = threads;
    out->params = cfg->params;
    out->latency_note = w->latency_note;
    out->baseline_impl = w->baseline ? w->baseline(impl) : NULL;
    out->duration_s = cfg->duration_s;
    out->warmup_s = cfg->warmup_s;
    out->repeat = cfg->repeat;
    out->pin = cfg->pin;
    out->sample_period = cfg->sample_period;
    out->verified = true;
    out->hw_reason = ct_hw_unavailable_reason();
    if (!out->hw_reason && !cfg->hw_counters)
        out->hw_reason = "hardware counters disabled (--no-hw)";
    out->serial_seconds = out->speedup = out->work_overhead = -1;
    if (w->run_point) { /* fixed work: the workload times its own runs */
        out->fixed_work = true;
        if (!out->hw_reason)
            out->hw_reason = "not collected for fixed-work workloads";
        return w->run_point(impl, threads, cfg, out, err, errlen);
    }

    ct_hist *lat = ct_hist_create();
    run_outcome *runs = calloc(cfg->repeat, sizeof *runs);
    double *sorted = calloc(cfg->repeat, sizeof *sorted);
    if (!lat || !runs || !sorted) {
        snprintf(err, errlen, "out of memory");
        ct_hist_destroy(lat);
        free(runs);
        free(sorted);
        return -1;
    }
    int rc = 0;
    for (unsigned r = 0; r < cfg->repeat; r++) {
        bool ok = true;
        char msg[sizeof out->verify_msg] = "";
        if (run_once(w, impl, threads, cfg, lat, &runs[r], &ok, msg, sizeof msg, err, errlen)) {
            rc = -1;
            break;
        }
        if (!ok && out->verified) {
            out->verified = false;
            snprintf(out->verify_msg, sizeof out->verify_msg, "repeat %u: %s", r + 1, msg);
        }
        out->ops_per_s_runs[r] = runs[r].ops_per_s;
        out->ops_checked += runs[r].all_ops;
        sorted[r] = runs[r].ops_per_s;
    }
    if (rc == 0) {
        double median = ct_median(sorted, cfg->repeat);
        out->ops_per_s = median;
        out->ops_per_s_min = sorted[0];
        out->ops_per_s_max = sorted[cfg->repeat - 1];
        /* The other per-run figures come from the run closest to the median throughput. */
        unsigned pick = 0;
        for (unsigned r = 1; r < cfg->repeat; r++) {
            double dr = runs[r].ops_per_s - median, dp = runs[pick].ops_per_s - median;
            if ((dr < 0 ? -dr : dr) < (dp < 0 ? -dp : dp))
                pick = r;
        }
        const run_outcome *m = &runs[pick];
        out->cpu_ns_per_op = m->cpu_ns_per_op;
        out->ctx_voluntary = m->ctx_vol;
        out->ctx_involuntary = m->ctx_invol;
        out->jain = m->jain;
        out->min_share = m->min_share;
        out->max_share = m->max_share;
        out->pin_error = m->pin_error;
        out->nextra = m->nextra;
        memcpy(out->extra, m->extra, sizeof out->extra);
        out->hw_valid = m->hw_valid && m->measured_ops > 0;
        if (out->hw_valid) {
            double ops = (double)m->measured_ops;
            out->hw_cycles_per_op = (double)m->hw[CT_HW_CYCLES] / ops;
            out->hw_instructions_per_op = (double)m->hw[CT_HW_INSTRUCTIONS] / ops;
            out->hw_cache_misses_per_op = (double)m->hw[CT_HW_CACHE_MISSES] / ops;
        } else if (!out->hw_reason) {
            out->hw_reason = "counters could not be opened in every thread";
        }
        out->latency.samples = ct_hist_count(lat);
        out->latency.p50 = ct_hist_percentile(lat, 50);
        out->latency.p90 = ct_hist_percentile(lat, 90);
        out->latency.p99 = ct_hist_percentile(lat, 99);
        out->latency.p999 = ct_hist_percentile(lat, 99.9);
        out->latency.max = ct_hist_max(lat);
        out->latency.mean = ct_hist_mean(lat);
        out->latency.stdev = ct_hist_stdev(lat);
    }
    ct_hist_destroy(lat);
    free(runs);
    free(sorted);
    return rc;
}
