/* The backpressure lab's engine (bench/lab_backpressure.c), for the lab's command line and for
 * tests: one open-loop run of a pipeline (contend/pipeline.h) with a time series, and the
 * closed-loop capacity measurement that the load sweep is scaled by.
 *
 * A run: a source thread follows an arrival schedule (constant or Poisson at `rate`) and stamps
 * each item with its INTENDED arrival time before it submits it, so time the source spends
 * blocked (policy block) or late is charged to the items' latency (no coordinated omission).
 * Each item carries a payload (payload_bytes, written by the source so it is resident) and
 * one service time per stage drawn from the service distribution; a stage's worker spins that
 * long (ct_work_ns: CPU time, so preemption stretches it as it would real work). The sink
 * records end-to-end latency (from the intended time) and in-system time (from admission).
 * A monitor thread samples the number of items in the system (admitted, not yet departed) at
 * randomized ~1 ms ticks for Little's law, checks RSS every ~10 ms against max_rss (the guard
 * stops the run), and closes a window of the time series every window_ns.
 * Verification: every item generated ends exactly once (sink, a policy drop, or cancelled at
 * the end of the run), checked with a bitmap, and the pipeline's counters agree.
 */
#ifndef CONTEND_LAB_BACKPRESSURE_H
#define CONTEND_LAB_BACKPRESSURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contend/pipeline.h"

#define CT_BP_MAX_STAGES 3

typedef enum ct_bp_dist { CT_BP_CONSTANT = 0, CT_BP_EXPONENTIAL, CT_BP_BIMODAL } ct_bp_dist;
typedef enum ct_bp_arrival { CT_BP_ARRIVE_CONSTANT = 0, CT_BP_ARRIVE_POISSON } ct_bp_arrival;

typedef struct ct_bp_config {
    ct_policy policy;
    unsigned stages;        /* 1..CT_BP_MAX_STAGES, one worker each */
    size_t capacity;        /* per stage, bounded policies */
    uint64_t service_ns;    /* mean service time per stage */
    ct_bp_dist service;
    ct_bp_arrival arrival;
    double rate;            /* offered items/s; 0: saturate (closed loop, capacity runs) */
    uint64_t deadline_ns;   /* goodput: completed within this of the intended arrival */
    double duration_s;
    uint64_t max_rss;       /* bytes; 0: no guard */
    uint64_t seed;
    size_t payload_bytes;
    uint64_t window_ns;     /* time-series window (100 ms) */
    uint64_t codel_target_ns, codel_interval_ns; /* codel only */
} ct_bp_config;

typedef struct ct_bp_window {
    double t_s;             /* end of the window, from the start of the run */
    double offered_per_s;   /* intended arrivals in the window */
    double completed_per_s, goodput_per_s;
    uint64_t drops;         /* policy drops in the window (all stages) */
    uint64_t depth[CT_BP_MAX_STAGES];
    uint64_t rss;
    uint64_t p50_ns, p99_ns, max_ns; /* end-to-end latency of items completed in the window */
    uint64_t source_lag_ns; /* how far the source was behind its schedule at the window's end */
    uint64_t in_system;     /* items admitted and not yet departed, at the window's end */
} ct_bp_window;

typedef struct ct_bp_result {
    ct_bp_config cfg;
    double elapsed_s;
    uint64_t generated, admitted, completed, good, dropped, cancelled_at_end;
    uint64_t never_submitted; /* arrivals due before the end that a late source never reached */
    double offered_per_s, completed_per_s, goodput_per_s, drop_fraction;
    uint64_t p50_ns, p99_ns, p999_ns, max_ns;   /* end-to-end, completed items */
    uint64_t insys_p99_ns;                      /* admission to sink */
    uint64_t max_depth;                         /* largest depth seen in any window, any stage */
    uint64_t rss_start, rss_peak, rss_end;
    /* Little's law: L sampled directly (the number in the system at randomized ~1 ms ticks,
     * averaged); lambda = admitted / elapsed; W = mean time in system of the items that
     * departed (sink or drop) during the run; rel_err = |L - lambda W| / L.
     * little_L_exact: the time integral of N from the items' own admission and departure
     * stamps (items still inside at the end count up to the end), divided by the elapsed time:
     * what the sampled L estimates. */
    double little_L, little_lambda, little_W_s, little_rel_err, little_L_exact;
    /* Steady: the number in the system at the end is not above 1.2 x its mean over the second
     * half of the run (+2): no growing backlog. Little's law holds for steady runs. */
    bool steady;
    uint64_t in_system_at_stop; /* admitted, not departed when the run stopped */
    bool guard_tripped;
    double guard_at_s;
    bool verified;
    char verify_msg[200];
    ct_bp_window *series;
    size_t nseries;
} ct_bp_result;

/* Defaults: block, 1 stage, capacity 64, 100 us constant service, Poisson arrivals, deadline
 * 3 x stages x capacity x service, 2 s, no guard, payload 1 KiB, 100 ms windows. rate 0. */
void ct_bp_config_defaults(ct_bp_config *cfg);

/* One run. 0 (out filled; check out->verified), or -1 with a one-line reason in err (bad
 * configuration, out of memory, a thread that could not start). Free with ct_bp_result_free. */
int ct_bp_run(const ct_bp_config *cfg, ct_bp_result *out, char *err, size_t errlen);
void ct_bp_result_free(ct_bp_result *r);

/* Service capacity of cfg's pipeline shape (policy block, closed loop, `seconds` long):
 * completions per second after a short warm-up. -1 with err on failure. */
double ct_bp_measure_capacity(const ct_bp_config *cfg, double seconds, char *err, size_t errlen);

/* Resident set size of this process in bytes (0 if unknown), and the guard's default:
 * min(1 GiB, physical RAM / 4). */
uint64_t ct_bp_rss_bytes(void);
uint64_t ct_bp_default_max_rss(void);

#endif
