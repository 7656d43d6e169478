/* The machine probe: see probe.h.
 *
 * Ping-pong protocol on one line-pair-aligned word: the initiator writes 2k+1 when it sees
 * 2k, the responder writes 2k+2 when it sees 2k+1. Each write must fetch the line from the
 * other core's cache, so one round trip is two transfers. Waiting uses plain loads with no
 * pause, as the cheapest possible spin (the probe measures the hardware, not a policy).
 * Acquire/release: each side must see the other's write before writing, the usual hand-off;
 * on x86 both are plain moves, so the probe measures the coherence traffic alone.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "probe.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contend/harness.h"
#include "topology.h"

typedef struct pingpong {
    CT_PAD_ALIGNED _Atomic uint64_t word;
    CT_PAD_ALIGNED _Atomic int ready;
    int cpu;
    uint64_t rounds; /* total round trips */
    int pin_failed;
} pingpong;

static int pin_to(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *responder(void *arg)
{
    pingpong *pp = arg;
    if (pin_to(pp->cpu))
        pp->pin_failed = 1;
    atomic_store_explicit(&pp->ready, 1, memory_order_release);
    for (uint64_t k = 0; k < pp->rounds; k++) {
        uint64_t want = 2 * k + 1;
        while (atomic_load_explicit(&pp->word, memory_order_acquire) != want)
            if (atomic_load_explicit(&pp->ready, memory_order_relaxed) < 0)
                return NULL; /* the initiator gave up */
        atomic_store_explicit(&pp->word, want + 1, memory_order_release);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ct_probe_pingpong_ns(int cpu_a, int cpu_b, unsigned batches, unsigned round_trips)
{
    pingpong *pp = aligned_alloc(CT_PAD, sizeof *pp);
    double *samples = calloc(batches ? batches : 1, sizeof *samples);
    cpu_set_t saved;
    double result = -1;
    if (!pp || !samples || batches == 0 || round_trips == 0)
        goto out;
    memset(pp, 0, sizeof *pp);
    pp->cpu = cpu_b;
    pp->rounds = (uint64_t)batches * round_trips + round_trips; /* + one warm-up batch */
    pthread_getaffinity_np(pthread_self(), sizeof saved, &saved);
    if (pin_to(cpu_a))
        goto out;
    pthread_t tid;
    if (pthread_create(&tid, NULL, responder, pp))
        goto restore;
    while (atomic_load_explicit(&pp->ready, memory_order_acquire) == 0)
        sched_yield();
    uint64_t k = 0;
    for (unsigned b = 0; b <= batches; b++) {
        uint64_t t0 = ct_now_ns();
        for (unsigned i = 0; i < round_trips; i++, k++) {
            atomic_store_explicit(&pp->word, 2 * k + 1, memory_order_release);
            while (atomic_load_explicit(&pp->word, memory_order_acquire) != 2 * k + 2)
                ;
        }
        if (b > 0) /* batch 0 warms the line and the frequency */
            samples[b - 1] = (double)(ct_now_ns() - t0) / (2.0 * round_trips);
    }
    pthread_join(tid, NULL);
    if (!pp->pin_failed) {
        qsort(samples, batches, sizeof *samples, cmp_double);
        result = samples[batches / 2];
    }
restore:
    pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
out:
    free(pp);
    free(samples);
    return result;
}

static double atomic_rmw_cost(void)
{
    static _Atomic uint64_t x;
    double best = INFINITY;
    for (int r = 0; r < 5; r++) {
        uint64_t t0 = ct_now_ns();
        for (int i = 0; i < 200000; i++)
            atomic_fetch_add_explicit(&x, 1, memory_order_relaxed);
        double ns = (double)(ct_now_ns() - t0) / 200000;
        if (ns < best)
            best = ns;
    }
    return best;
}

static double clock_read_cost(void)
{
    double best = INFINITY;
    for (int r = 0; r < 5; r++) {
        uint64_t t0 = ct_now_ns(), sink = 0;
        for (int i = 0; i < 20000; i++)
            sink += ct_now_ns();
        double ns = (double)(ct_now_ns() - t0) / 20000;
        if (ns < best && sink)
            best = ns;
    }
    return best;
}

int ct_probe_run(ct_probe *p, unsigned max_cpus, double time_budget_s, bool quick)
{
    memset(p, 0, sizeof *p);
    uint64_t start = ct_now_ns();
    ct_topology_init();
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    sched_getaffinity(0, sizeof allowed, &allowed);
    unsigned n = 0;
    int all[CPU_SETSIZE];
    /* The CPUs in compact order (hwloc), restricted to those we may run on. */
    const ct_topology_summary *ts = ct_topology_summary_get();
    unsigned pus = ts ? ts->pus : 0;
    for (unsigned i = 0; i < pus; i++) {
        int cpu = ct_topology_pu_for(CT_PIN_COMPACT, i);
        if (cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &allowed))
            all[n++] = cpu;
    }
    if (n == 0)
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &allowed))
                all[n++] = c;
    unsigned m = n < max_cpus ? n : max_cpus;
    p->ncpus = m;
    p->cpus = calloc(m ? m : 1, sizeof *p->cpus);
    p->matrix = calloc((size_t)(m ? m : 1) * (m ? m : 1), sizeof *p->matrix);
    if (!p->cpus || !p->matrix) {
        ct_probe_free(p);
        errno = ENOMEM;
        return -1;
    }
    /* Beyond max_cpus, spread the sample over the whole machine. */
    for (unsigned i = 0; i < m; i++)
        p->cpus[i] = all[(size_t)i * n / m];
    for (size_t i = 0; i < (size_t)m * m; i++)
        p->matrix[i] = -1;
    unsigned batches = quick ? 9 : 31, rounds = quick ? 200 : 1000;
    double *vals = calloc((size_t)m * m + 1, sizeof *vals);
    unsigned nv = 0;
    uint64_t budget = (uint64_t)(time_budget_s * 1e9);
    for (unsigned i = 0; i < m; i++) {
        p->matrix[(size_t)i * m + i] = 0;
        for (unsigned j = i + 1; j < m; j++) {
            if (ct_now_ns() - start > budget)
                continue;
            double ns = ct_probe_pingpong_ns(p->cpus[i], p->cpus[j], batches, rounds);
            p->matrix[(size_t)i * m + j] = p->matrix[(size_t)j * m + i] = ns;
            if (ns > 0 && vals)
                vals[nv++] = ns;
        }
    }
    p->pairs_measured = nv;
    if (nv) {
        qsort(vals, nv, sizeof *vals, cmp_double);
        p->one_way_min = vals[0];
        p->one_way_max = vals[nv - 1];
        p->one_way_median = vals[nv / 2];
        p->line_ceiling_ops_per_s = 1e9 / p->one_way_median;
    }
    free(vals);
    p->atomic_rmw_ns = atomic_rmw_cost();
    p->clock_read_ns = clock_read_cost();
    struct timespec res;
    clock_getres(CLOCK_MONOTONIC, &res);
    p->clock_resolution_ns = (double)res.tv_sec * 1e9 + (double)res.tv_nsec;
    p->seconds = (double)(ct_now_ns() - start) / 1e9;
    return 0;
}

void ct_probe_free(ct_probe *p)
{
    free(p->cpus);
    free(p->matrix);
    p->cpus = NULL;
    p->matrix = NULL;
}

static ct_probe summary_probe;
static int summary_ok;
static pthread_once_t summary_once = PTHREAD_ONCE_INIT;

static void summary_measure(void) { summary_ok = ct_probe_run(&summary_probe, 4, 0.5, true) == 0; }

const ct_probe *ct_probe_summary(void)
{
    pthread_once(&summary_once, summary_measure);
    return summary_ok ? &summary_probe : NULL;
}

static void num(FILE *f, double v)
{
    if (v < 0 || !isfinite(v))
        fputs("null", f);
    else
        fprintf(f, "%.1f", v);
}

void ct_probe_write_json(FILE *f, const ct_probe *p, bool with_matrix, int indent)
{
    char pad[32];
    snprintf(pad, sizeof pad, "%*s", indent, "");
    fprintf(f, "{\"cpus\": %u, \"pairs_measured\": %u, \"one_way_ns\": {\"min\": ", p->ncpus,
            p->pairs_measured);
    num(f, p->pairs_measured ? p->one_way_min : -1);
    fputs(", \"median\": ", f);
    num(f, p->pairs_measured ? p->one_way_median : -1);
    fputs(", \"max\": ", f);
    num(f, p->pairs_measured ? p->one_way_max : -1);
    fprintf(f, "},\n%s  \"atomic_rmw_ns\": ", pad);
    num(f, p->atomic_rmw_ns);
    fputs(", \"clock_read_ns\": ", f);
    num(f, p->clock_read_ns);
    fputs(", \"clock_resolution_ns\": ", f);
    num(f, p->clock_resolution_ns);
    fprintf(f, ",\n%s  \"line_ceiling_ops_per_s\": ", pad);
    if (p->pairs_measured)
        fprintf(f, "%.0f", p->line_ceiling_ops_per_s);
    else
        fputs("null", f);
    fprintf(f, ", \"seconds\": %.3f", p->seconds);
    if (with_matrix) {
        fprintf(f, ",\n%s  \"cpu_os_index\": [", pad);
        for (unsigned i = 0; i < p->ncpus; i++)
            fprintf(f, "%s%d", i ? ", " : "", p->cpus[i]);
        fprintf(f, "],\n%s  \"one_way_ns_matrix\": [", pad);
        for (unsigned i = 0; i < p->ncpus; i++) {
            fprintf(f, "%s\n%s    [", i ? "," : "", pad);
            for (unsigned j = 0; j < p->ncpus; j++) {
                if (j)
                    fputs(", ", f);
                num(f, p->matrix[(size_t)i * p->ncpus + j]);
            }
            fputs("]", f);
        }
        fprintf(f, "\n%s  ]", pad);
    }
    fputs("}", f);
}

void ct_probe_write_table(FILE *f, const ct_probe *p)
{
    fprintf(f, "core-to-core one-way latency, ns (cache-line ping-pong, median)\n      ");
    for (unsigned j = 0; j < p->ncpus && j < 16; j++)
        fprintf(f, " %6d", p->cpus[j]);
    fputc('\n', f);
    for (unsigned i = 0; i < p->ncpus && i < 16; i++) {
        fprintf(f, "%5d ", p->cpus[i]);
        for (unsigned j = 0; j < p->ncpus && j < 16; j++) {
            double v = p->matrix[(size_t)i * p->ncpus + j];
            if (v < 0)
                fprintf(f, " %6s", "-");
            else
                fprintf(f, " %6.1f", v);
        }
        fputc('\n', f);
    }
    if (p->ncpus > 16)
        fprintf(f, "(first 16 of %u CPUs shown; --format json has all)\n", p->ncpus);
    if (p->pairs_measured)
        fprintf(f, "one-way min/median/max: %.1f / %.1f / %.1f ns over %u pairs\n"
                   "ceiling for one contended line: %.1f M transfers/s\n",
                p->one_way_min, p->one_way_median, p->one_way_max, p->pairs_measured,
                p->line_ceiling_ops_per_s / 1e6);
    else
        fprintf(f, "fewer than 2 CPUs: no core-to-core pair to measure\n");
    fprintf(f, "uncontended atomic fetch_add: %.1f ns\nclock read: %.1f ns (resolution %.0f ns)\n",
            p->atomic_rmw_ns, p->clock_read_ns, p->clock_resolution_ns);
}
