/* The machine probe: the physical limits a contention result is judged by.
 *
 *  - core-to-core latency: two threads pinned to two CPUs bounce one cache line (each waits
 *    for the other's value, then writes its own); one-way time = round trip / 2, median over
 *    batches. It bounds from below the hand-off time of any lock and the round trip of any
 *    queue between those two CPUs.
 *  - the cost of an uncontended atomic RMW (fetch_add on a line this core owns);
 *  - clock resolution and the cost of one clock read (what a latency sample costs);
 *  - the derived ceiling: one contended line can change owner at most 1e9 / one-way ns times a
 *    second, so no lock or shared counter that moves one line per op can exceed that.
 */
#ifndef CONTEND_PROBE_H
#define CONTEND_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* One-way cache-line transfer time between CPUs a and b (OS indices), ns, the median of
 * `batches` batches of `round_trips` round trips. -1 when the threads cannot be pinned. */
double ct_probe_pingpong_ns(int cpu_a, int cpu_b, unsigned batches, unsigned round_trips);

typedef struct ct_probe {
    unsigned ncpus;             /* CPUs in the matrix */
    int *cpus;                  /* their OS indices */
    double *matrix;             /* ncpus x ncpus one-way ns; diagonal 0; -1 not measured */
    unsigned pairs_measured;
    double one_way_min, one_way_median, one_way_max;
    double atomic_rmw_ns;       /* uncontended fetch_add */
    double clock_read_ns;       /* clock_gettime(CLOCK_MONOTONIC) */
    double clock_resolution_ns; /* clock_getres */
    double line_ceiling_ops_per_s; /* 1e9 / one_way_median */
    double seconds;             /* how long the probe took */
} ct_probe;

/* Measures all pairs up to max_cpus CPUs (a deterministic sample of pairs beyond), stopping
 * early at time_budget_s. quick: fewer round trips, for the summary in every JSON report.
 * 0, or -1 (ENOMEM). */
int ct_probe_run(ct_probe *p, unsigned max_cpus, double time_budget_s, bool quick);
void ct_probe_free(ct_probe *p);

/* The probe summary every report's machine section carries, measured once per process
 * (quick mode, a few pairs). NULL if it could not be measured. */
const ct_probe *ct_probe_summary(void);

void ct_probe_write_json(FILE *f, const ct_probe *p, bool with_matrix, int indent);
void ct_probe_write_table(FILE *f, const ct_probe *p);

#endif
