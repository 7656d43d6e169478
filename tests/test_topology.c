// ctest-label: quick
/* Topology and pinning on whatever machine runs the test: the summary is self-consistent, both
 * pin orders are permutations of the machine's PUs that wrap around past the PU count, scatter
 * puts its first min(cores, pus) threads on distinct cores (checked against the kernel's own
 * thread_siblings_list, independently of hwloc), pinning binds exactly the calling thread to
 * exactly the chosen PU, and pin mode names parse strictly. The original affinity is restored
 * after each pin so later checks (and a shared machine) are unaffected.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getcpu, CPU_* macros */
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "topology.h"

static cpu_set_t original;

static void restore_affinity(void)
{
    CT_CHECK(sched_setaffinity(0, sizeof original, &original) == 0, "restore affinity: %s",
             strerror(errno));
}

/* The kernel's name for the core of a CPU: its thread_siblings_list (identical for all SMT
 * siblings of one core). Empty when sysfs does not say. */
static void core_key(int cpu, char *out, size_t size)
{
    char path[128];
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list",
             cpu);
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (!fgets(out, (int)size, f))
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

static void test_summary(const ct_topology_summary *s)
{
    printf("test_topology: %u package(s), %u NUMA node(s), %u core(s), %u PU(s), smt %u, "
           "line %u B, L1d %llu, L2 %llu, L3 %llu x %u, \"%s\"\n",
           s->packages, s->numa_nodes, s->cores, s->pus, s->smt_per_core, s->cache_line,
           s->l1d_bytes, s->l2_bytes, s->l3_bytes, s->l3_count, s->cpu_model);
    CT_CHECK(s->pus >= 1, "pus %u", s->pus);
    CT_CHECK(s->cores >= 1, "cores %u", s->cores);
    CT_CHECK(s->pus >= s->cores, "pus %u < cores %u", s->pus, s->cores);
    CT_CHECK(s->packages >= 1 && s->packages <= s->cores, "packages %u", s->packages);
    CT_CHECK(s->numa_nodes >= 1, "numa nodes %u", s->numa_nodes);
    CT_CHECK(s->smt_per_core >= 1 && s->smt_per_core * s->cores <= s->pus, "smt %u",
             s->smt_per_core);
    CT_CHECK(s->cache_line == 0 || (s->cache_line & (s->cache_line - 1)) == 0,
             "cache line %u not a power of two", s->cache_line);
    CT_CHECK(s->cpu_model[0] != '\0', "empty cpu model");
    CT_CHECK((s->l3_bytes == 0) == (s->l3_count == 0), "L3 size %llu but count %u", s->l3_bytes,
             s->l3_count);
}

static void test_orders(const ct_topology_summary *s)
{
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    CT_CHECK(ncpu >= 1, "sysconf");
    unsigned pus = s->pus;
    int *compact = calloc(pus, sizeof *compact);
    int *scatter = calloc(pus, sizeof *scatter);
    CT_CHECK(compact && scatter, "out of memory");

    for (unsigned i = 0; i < 2 * pus + 1; i++) {
        int c = ct_topology_pu_for(CT_PIN_COMPACT, i);
        int x = ct_topology_pu_for(CT_PIN_SCATTER, i);
        CT_CHECK(c >= 0 && c < ncpu && c < CPU_SETSIZE, "compact(%u) = %d", i, c);
        CT_CHECK(x >= 0 && x < ncpu && x < CPU_SETSIZE, "scatter(%u) = %d", i, x);
        if (i < pus) {
            compact[i] = c;
            scatter[i] = x;
        } else {
            CT_CHECK(c == compact[i % pus], "compact(%u) does not wrap", i);
            CT_CHECK(x == scatter[i % pus], "scatter(%u) does not wrap", i);
        }
    }
    CT_CHECK(ct_topology_pu_for(CT_PIN_NONE, 0) == -1, "none has a PU");
    errno = 0;
    CT_CHECK(ct_topology_pu_for((ct_pin_mode)42, 0) == -1 && errno == EINVAL, "bad mode");

    /* Both are permutations of the same PU set. */
    for (unsigned i = 0; i < pus; i++) {
        unsigned in_compact = 0, in_scatter = 0;
        for (unsigned j = 0; j < pus; j++) {
            in_compact += compact[j] == compact[i];
            in_scatter += scatter[j] == compact[i];
        }
        CT_CHECK(in_compact == 1, "compact repeats PU %d", compact[i]);
        CT_CHECK(in_scatter == 1, "PU %d appears %u times in scatter", compact[i], in_scatter);
    }

    /* Scatter's first min(cores, pus) choices sit on distinct cores. */
    unsigned first = s->cores < pus ? s->cores : pus;
    char (*keys)[256] = calloc(first, sizeof *keys);
    CT_CHECK(keys != NULL, "out of memory");
    int known = 1;
    for (unsigned i = 0; i < first && known; i++) {
        core_key(scatter[i], keys[i], sizeof keys[i]);
        known = keys[i][0] != '\0';
    }
    if (known) {
        for (unsigned i = 0; i < first; i++)
            for (unsigned j = 0; j < i; j++)
                CT_CHECK(strcmp(keys[i], keys[j]) != 0,
                         "scatter threads %u and %u share a core (PUs %d, %d: siblings %s)", j,
                         i, scatter[j], scatter[i], keys[i]);
    } else {
        printf("test_topology: no sysfs thread_siblings_list; distinct-core check skipped\n");
    }
    printf("test_topology: scatter order:");
    for (unsigned i = 0; i < pus && i < 32; i++)
        printf(" %d", scatter[i]);
    printf("%s\n", pus > 32 ? " ..." : "");
    free(keys);
    free(compact);
    free(scatter);
}

static void expect_bound_to(int pu, const char *what)
{
    cpu_set_t now;
    CT_CHECK(sched_getaffinity(0, sizeof now, &now) == 0, "getaffinity");
    CT_CHECK(CPU_COUNT(&now) == 1 && CPU_ISSET(pu, &now), "%s: not bound to exactly PU %d", what,
             pu);
    sched_yield(); /* the mask is in force from now on: the next schedule is on pu */
    CT_CHECK(sched_getcpu() == pu, "%s: running on %d, not %d", what, sched_getcpu(), pu);
}

static void test_pin_main(void)
{
    ct_pin_mode modes[] = {CT_PIN_COMPACT, CT_PIN_SCATTER};
    for (size_t m = 0; m < 2; m++) {
        int pu = ct_topology_pu_for(modes[m], 0);
        CT_CHECK(ct_topology_pin_self(modes[m], 0) == 0, "pin %s: %s",
                 ct_pin_mode_name(modes[m]), strerror(errno));
        expect_bound_to(pu, ct_pin_mode_name(modes[m]));
        restore_affinity();
    }
    /* none leaves the affinity alone */
    CT_CHECK(ct_topology_pin_self(CT_PIN_NONE, 3) == 0, "pin none");
    cpu_set_t now;
    CT_CHECK(sched_getaffinity(0, sizeof now, &now) == 0, "getaffinity");
    CT_CHECK(CPU_EQUAL(&now, &original), "pin none changed the affinity");
}

typedef struct pin_arg {
    unsigned index;
    int pu;
} pin_arg;

static void *pin_thread(void *p)
{
    pin_arg *a = p;
    ct_test_start_barrier();
    CT_CHECK(ct_topology_pin_self(CT_PIN_SCATTER, a->index) == 0, "thread %u: pin: %s",
             a->index, strerror(errno));
    expect_bound_to(a->pu, "thread");
    return NULL;
}

/* Pinning binds the calling thread only: concurrent pins from several threads each get their
 * own PU, and the main thread's affinity is untouched. */
static void test_pin_threads(unsigned pus)
{
    unsigned n = pus < 4 ? pus : 4;
    pin_arg args[4];
    for (unsigned i = 0; i < n; i++) {
        args[i].index = i;
        args[i].pu = ct_topology_pu_for(CT_PIN_SCATTER, i);
    }
    ct_test_run_threads(n, pin_thread, args, sizeof args[0]);
    cpu_set_t now;
    CT_CHECK(sched_getaffinity(0, sizeof now, &now) == 0, "getaffinity");
    CT_CHECK(CPU_EQUAL(&now, &original), "a thread's pin changed the main thread's affinity");
}

static void test_parse(void)
{
    static const char *good[] = {"none", "compact", "scatter"};
    static const ct_pin_mode want[] = {CT_PIN_NONE, CT_PIN_COMPACT, CT_PIN_SCATTER};
    for (size_t i = 0; i < 3; i++) {
        ct_pin_mode m = (ct_pin_mode)42;
        CT_CHECK(ct_pin_mode_parse(good[i], &m) == 0 && m == want[i], "parse %s", good[i]);
        CT_CHECK(strcmp(ct_pin_mode_name(m), good[i]) == 0, "name of %s", good[i]);
    }
    static const char *bad[] = {"Compact", "", "fast", "none ", "scatter2", "SCATTER"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ct_pin_mode m = CT_PIN_SCATTER;
        errno = 0;
        CT_CHECK(ct_pin_mode_parse(bad[i], &m) == -1 && errno == EINVAL, "accepted \"%s\"",
                 bad[i]);
        CT_CHECK(m == CT_PIN_SCATTER, "rejected \"%s\" but wrote the output", bad[i]);
    }
    ct_pin_mode m;
    CT_CHECK(ct_pin_mode_parse(NULL, &m) == -1, "accepted NULL");
    CT_CHECK(ct_pin_mode_parse("none", NULL) == -1, "accepted a NULL output");
}

int main(void)
{
    test_parse();
    CT_CHECK(sched_getaffinity(0, sizeof original, &original) == 0, "getaffinity");
    CT_CHECK(ct_topology_init() == 0, "init: %s", strerror(errno));
    CT_CHECK(ct_topology_init() == 0, "second init");
    const ct_topology_summary *s = ct_topology_summary_get();
    CT_CHECK(s != NULL, "summary");
    test_summary(s);
    test_orders(s);
    test_pin_main();
    test_pin_threads(s->pus);
    printf("test_topology: ok\n");
    return 0;
}
