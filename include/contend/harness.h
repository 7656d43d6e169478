/* contend/harness.h: the stress harness, for the CLI and for users who plug in their own code.
 *
 * A workload (bench/<name>.c) is a descriptor: its implementations, a setup that builds the
 * shared state for one run, a per-thread main loop, a verify step that checks the workload's
 * invariant after the threads are joined, and a teardown. The runner (src/harness/runner.c)
 * owns everything else: threads, pinning, the start barrier, warm-up, the measured window,
 * the stop flag, repeats, rusage, hardware counters, latency histograms and fairness.
 *
 * A thread's main loop looks like this (one op = one increment, one push, one acquire...):
 *
 *     while (ct_thread_running(t)) {
 *         uint64_t start = ct_op_begin(t);   // a timestamp on sampled ops, else 0
 *         ... the operation ...
 *         ct_op_end(t, start);               // counts the op; records latency if sampled
 *         ct_work_ns(think);                 // private work between ops
 *     }
 *
 * Each ct_thread is owned by one thread and padded to CT_PAD, so recording shares nothing.
 * Latency is sampled: one op in `sample_period` is timed with two clock reads (a clock read
 * costs ~20 ns, more than an uncontended atomic increment, so timing every op would measure the
 * clock). The first sampled op of each thread is chosen at a per-thread offset so the threads
 * do not all sample in lockstep.
 */
#ifndef CONTEND_HARNESS_H
#define CONTEND_HARNESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "contend/arch.h"
#include "contend/histogram.h"

/* ---- clocks and synthetic work ------------------------------------------------------- */

static inline uint64_t ct_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Busy work that takes about ns nanoseconds of CPU on an idle core: a dependent arithmetic
 * loop calibrated once per process (ct_work_calibrate), so it touches no memory and shares no
 * line. Under preemption it takes longer in wall time, exactly like real work would. */
void ct_work_calibrate(void);
double ct_work_iters_per_ns(void);
void ct_work_iters(uint64_t iters);
static inline void ct_work_ns(uint64_t ns)
{
    if (ns)
        ct_work_iters((uint64_t)((double)ns * ct_work_iters_per_ns() + 0.5));
}

/* ---- parameters, threads ------------------------------------------------------------- */

/* Queue workloads: how a thread that cannot push (full) or pop (empty) goes on.
 *   try       try_push/try_pop in a retry loop that backs off: exponential pause spinning
 *             (up to 64 pauses), then sched_yield() on every further failure; never sleeps.
 *   blocking  push/pop: the queue's own waiting (spin, then sleep where it can).
 *   spin      try_push/try_pop retried after one pause, forever: the naive caller. */
typedef enum ct_queue_mode { CT_MODE_TRY = 0, CT_MODE_BLOCKING = 1, CT_MODE_SPIN = 2 } ct_queue_mode;
const char *ct_queue_mode_name(ct_queue_mode m); /* "try", "blocking", "spin" */

typedef struct ct_params {
    uint64_t cs_ns;    /* extra work while holding the shared resource (critical section) */
    uint64_t think_ns; /* private work between operations */
    /* Queue workloads (0 producers: not a queue run): threads = producers + consumers. */
    unsigned producers, consumers;
    uint64_t capacity;
    ct_queue_mode mode;
    /* Fixed-work workloads (the pool): which computation (--workload; NULL = the default) and
     * its size (--n; 0 = the workload's default). */
    const char *workload;
    uint64_t n;
} ct_params;

enum { CT_PHASE_WARMUP = 0, CT_PHASE_MEASURE = 1, CT_PHASE_STOP = 2 };

typedef struct ct_thread {
    /* Owner-only, hot. */
    CT_PAD_ALIGNED uint64_t ops;     /* every op this thread completed, warm-up included */
    uint64_t sample_countdown;       /* ops until the next timed op */
    uint64_t sample_period;          /* 0: latency sampling off */
    unsigned phase_seen;
    const _Atomic unsigned *phase;   /* the runner's phase word (read-mostly line) */
    ct_hist *hist;                   /* sampled op latency, ns, measured window only */
    /* Set by the runner before start. */
    unsigned index, nthreads;
    void *shared;                    /* the workload's state from setup() */
    const void *params_ptr;          /* const ct_params * */
    /* Written by the owner at phase changes, read by the runner after join. */
    uint64_t ops_at_measure_start, ops_at_measure_end;
    uint64_t measure_start_ns, measure_end_ns;
    void *hw;                        /* ct_hw_session *, NULL when counters are off */
    bool uncounted;                  /* set by the workload: this thread's ops are not the
                                      * figure of merit (a queue's producers: items/s counts
                                      * pops), so throughput and fairness leave it out */
    int pin_error;                   /* errno from pinning, 0 = fine */
} ct_thread;

void ct__thread_phase_change(ct_thread *t, unsigned phase);

/* True while the run goes on. Cheap: one relaxed load of a line that is written twice per
 * run; the rare phase change is handled out of line. Relaxed is enough: the phase only tells
 * a thread when to take its snapshots; no data is published through it (the runner reads the
 * snapshots after pthread_join, which synchronizes). */
static inline bool ct_thread_running(ct_thread *t)
{
    unsigned ph = atomic_load_explicit(t->phase, memory_order_relaxed);
    if (__builtin_expect(ph != t->phase_seen, 0))
        ct__thread_phase_change(t, ph);
    return ph != CT_PHASE_STOP;
}

static inline uint64_t ct_op_begin(ct_thread *t)
{
    if (__builtin_expect(--t->sample_countdown != 0, 1))
        return 0;
    t->sample_countdown = t->sample_period ? t->sample_period : UINT64_MAX;
    return ct_now_ns();
}

static inline void ct_op_end(ct_thread *t, uint64_t start)
{
    t->ops++;
    if (__builtin_expect(start != 0, 0))
        ct_hist_record(t->hist, ct_now_ns() - start);
}

static inline const ct_params *ct_thread_params(const ct_thread *t)
{
    return (const ct_params *)t->params_ptr;
}

/* ---- workloads ------------------------------------------------------------------------ */

struct ct_run_config;
struct ct_result;
#define CT_MAX_EXTRA 8
typedef struct ct_extra {
    const char *name; /* static string, a JSON key */
    double value;
} ct_extra;

typedef struct ct_workload {
    const char *name;
    const char *summary;
    bool producer_consumer;        /* threads = producers + consumers (--producers/--consumers) */
    const char *latency_note;      /* what one timed op spans, e.g. "lock..unlock" */
    size_t (*impl_count)(void);
    const char *(*impl_name)(size_t i);
    const char *(*impl_summary)(size_t i);
    /* Build shared state for one run; NULL with a one-line reason in err on failure. */
    void *(*setup)(const char *impl, unsigned threads, const ct_params *params, char *err,
                   size_t errlen);
    void (*thread_main)(ct_thread *t);
    /* After join: check the invariant. true = holds; false with a one-line reason. */
    bool (*verify)(void *shared, const ct_thread *threads, unsigned nthreads, char *msg,
                   size_t msglen);
    void (*teardown)(void *shared);
    /* Optional: called by the runner right after it raises the stop flag, before joining, to
     * release threads that may be blocked inside the workload (a queue closes itself). */
    void (*stop)(void *shared);
    /* Optional: the implementation this one is judged against (reports show the slowdown and
     * the extra line transfers per op against it); NULL, or returning NULL, for none. */
    const char *(*baseline)(const char *impl);
    /* Optional, for fixed-work workloads that own their threads (the pool: a run is one
     * computation, timed from start to finish, not a time window over threads the runner
     * starts). When set, ct_run_point fills the common fields of `out` and hands the whole point
     * (every repeat) to it: it fills ops_per_s (work items per second), the fixed-work fields
     * (seconds, serial_seconds, speedup, cpu_util, extra_json), latency if any, and verified.
     * setup, thread_main, verify and teardown may then be NULL. 0, or -1 with err. */
    int (*run_point)(const char *impl, unsigned threads, const struct ct_run_config *cfg,
                     struct ct_result *out, char *err, size_t errlen);
    /* Optional: the names --workload accepts (NULL-terminated; the first is the default), and
     * a check of the parameters before any run (false with a one-line reason: bad input). */
    const char *const *variants;
    bool (*check_params)(const ct_params *params, char *err, size_t errlen);
    /* Optional: false when impl cannot run with these parameters (the CLI skips it, or refuses
     * it when asked for by name). NULL: every impl runs everything. */
    bool (*impl_supports)(const char *impl, const ct_params *params);
    /* Optional: workload-specific figures of one run (after verify, before teardown), e.g.
     * the stack's nodes pending reclamation. Fills at most max entries, returns how many.
     * The result keeps those of the run nearest the median; JSON shows them under "extra". */
    size_t (*extras)(void *shared, struct ct_extra *out, size_t max);
} ct_workload;

size_t ct_workload_count(void);
const ct_workload *ct_workload_get(size_t i);          /* NULL when i >= count */
const ct_workload *ct_workload_find(const char *name); /* NULL when unknown */
bool ct_workload_has_impl(const ct_workload *w, const char *impl);

/* ---- running ------------------------------------------------------------------------- */

typedef struct ct_run_config {
    double duration_s;       /* measured window per repeat (default 1) */
    double warmup_s;         /* before the window (default 0.1) */
    unsigned repeat;         /* default 3 */
    int pin;                 /* ct_pin_mode (topology.h): 0 none, 1 compact, 2 scatter */
    uint64_t sample_period;  /* time one op in this many; 0 = no latency (default 4096:
                              * measured cost 3.3% of an uncontended atomic increment) */
    bool hw_counters;        /* try perf_event_open (default true) */
    ct_params params;
} ct_run_config;

void ct_run_config_defaults(ct_run_config *cfg);

typedef struct ct_latency {
    uint64_t samples, p50, p90, p99, p999, max;
    double mean, stdev;
} ct_latency;

#define CT_MAX_REPEAT 100

typedef struct ct_result {
    const char *bench, *impl;
    const char *latency_note;        /* the workload's: what one timed op spans */
    unsigned threads;
    ct_params params;
    double duration_s, warmup_s;
    unsigned repeat;
    int pin;                         /* ct_pin_mode */
    uint64_t sample_period;
    double ops_per_s, ops_per_s_min, ops_per_s_max; /* median, min, max over repeats */
    double ops_per_s_runs[CT_MAX_REPEAT];
    ct_latency latency;              /* merged over all threads and repeats */
    double cpu_ns_per_op;            /* (user + sys) / ops, median repeat */
    long ctx_voluntary, ctx_involuntary; /* over the measured window, median repeat */
    double jain, min_share, max_share;   /* per-thread op counts, median repeat */
    bool hw_valid;
    double hw_cycles_per_op, hw_instructions_per_op, hw_cache_misses_per_op;
    const char *hw_reason;           /* why hw is null */
    int pin_error;                   /* first pinning errno seen, 0 = none */
    bool verified;
    char verify_msg[256];
    uint64_t ops_checked;            /* ops the verify step covered, all repeats, warm-up in */
    /* Filled by ct_report_finish() when the baseline ran in the same report: */
    const char *baseline_impl;       /* NULL: none */
    bool has_baseline;
    double slowdown;                 /* baseline ops/s / this ops/s */
    double extra_transfers_per_op;   /* (cpu ns/op - baseline's) / probed one-way ns; -1 n/a */
    /* Fixed-work workloads (ct_workload.run_point): */
    bool fixed_work;
    double seconds, seconds_min, seconds_max; /* wall time of one run: median, min, max */
    double serial_seconds;           /* the same work done serially, no runtime; -1 n/a */
    double speedup;                  /* serial_seconds / seconds; -1 n/a */
    double work_overhead;            /* T1 / Tserial (ct_report_finish: from the 1-thread run of
                                      * the same impl in the report); -1 n/a */
    double cpu_util;                 /* process CPU seconds / wall seconds, median run */
    char extra_json[512];            /* a JSON object with workload-specific figures, or "" */
    /* The workload's own figures (ct_workload.extras), from the run nearest the median. */
    ct_extra extra[CT_MAX_EXTRA];
    size_t nextra;
} ct_result;

/* Runs one point: `repeat` fresh runs of workload w / impl on `threads` threads.
 * 0, or -1 with a one-line reason in err (bad impl, setup failure, thread creation failure).
 * A verification failure is not an error here: it returns 0 with out->verified false. */
int ct_run_point(const ct_workload *w, const char *impl, unsigned threads,
                 const ct_run_config *cfg, ct_result *out, char *err, size_t errlen);

/* ---- statistics ---------------------------------------------------------------------- */

/* Jain's fairness index (sum x)^2 / (n * sum x^2): 1 = perfectly even, 1/n = one thread did
 * everything. Also the smallest and largest share of the total. */
void ct_fairness(const uint64_t *counts, unsigned n, double *jain, double *min_share,
                 double *max_share);
double ct_median(double *values, unsigned n); /* sorts values in place */

/* ---- reports ------------------------------------------------------------------------- */

typedef enum ct_format { CT_FORMAT_TABLE, CT_FORMAT_CSV, CT_FORMAT_JSON } ct_format;
int ct_format_parse(const char *text, ct_format *out); /* 0, or -1 */

typedef struct ct_report {
    ct_result *results;
    size_t count, cap;
} ct_report;

int ct_report_add(ct_report *r, const ct_result *res); /* 0, or -1 ENOMEM */
/* Pairs every result with its baseline run in the same report (same bench, threads and
 * parameters) and computes the slowdown and the extra line transfers per op. */
void ct_report_finish(ct_report *r);
void ct_report_free(ct_report *r);

void ct_write_machine_json(FILE *f, int indent);
void ct_report_write(FILE *f, const ct_report *r, ct_format fmt);
void ct_report_write_table_header(FILE *f);
void ct_report_write_table_row(FILE *f, const ct_result *res);

#endif
