/* Machine topology and pinning through hwloc 2.x: see topology.h.
 *
 * The topology is loaded once (pthread_once) and never modified afterwards, so every later
 * query and hwloc_set_cpubind call may run concurrently from the measuring threads. hwloc
 * restricts it to the CPUs this process may use (cgroup cpusets), so a container that gets
 * 4 of 64 CPUs is reported and pinned as a 4-CPU machine.
 *
 * Both pin orders are permutations of all PUs (OS indices), computed at load:
 *   compact: hwloc's logical PU order, which walks the tree depth-first: SMT siblings, then
 *            cores of one L2/L3, then the next cache, then the next package.
 *   scatter: every core first gets one PU before any core gets a second (SMT level s = 0, then
 *            1, ...), and the cores are ordered by interleaving recursively at every level of
 *            the tree: at the machine, round-robin over packages; inside a package,
 *            round-robin over its L3s (or NUMA groups, dies...); and so on. So on 2 packages
 *            x 2 L3s, threads 0..3 land on 4 different L3s spread over both packages before
 *            any L3 gets a second thread: thread i shares as little as possible with 0..i-1.
 * Thread index i uses entry i mod pus (oversubscription wraps around). A machine whose hwloc
 * reports no Core objects is treated as one core per PU.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "topology.h"

#include <errno.h>
#include <hwloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_result = -1;
static int load_errno = EAGAIN;
static hwloc_topology_t topo;
static ct_topology_summary summary;
static unsigned *compact_order; /* OS index of the PU for thread i, i < summary.pus */
static unsigned *scatter_order;
static int have_cores;           /* hwloc reports Core objects */

int ct_pin_mode_parse(const char *text, ct_pin_mode *out)
{
    if (!text || !out) {
        errno = EINVAL;
        return -1;
    }
    if (strcmp(text, "none") == 0)
        *out = CT_PIN_NONE;
    else if (strcmp(text, "compact") == 0)
        *out = CT_PIN_COMPACT;
    else if (strcmp(text, "scatter") == 0)
        *out = CT_PIN_SCATTER;
    else {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

const char *ct_pin_mode_name(ct_pin_mode mode)
{
    switch (mode) {
    case CT_PIN_NONE: return "none";
    case CT_PIN_COMPACT: return "compact";
    case CT_PIN_SCATTER: return "scatter";
    }
    return "unknown";
}

/* The leaf type the scatter order spreads over: cores, or PUs when hwloc shows no cores. */
static hwloc_obj_type_t leaf_type(void)
{
    return have_cores ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
}

/* Writes the leaves (cores) under obj into out in scatter order; returns how many. out must
 * have room for every leaf under obj. -1 on ENOMEM. */
static int scatter_leaves(hwloc_obj_t obj, hwloc_obj_t *out)
{
    hwloc_obj_type_t leaf = leaf_type();
    if (obj->type == leaf || obj->type == HWLOC_OBJ_PU) {
        out[0] = obj;
        return 1;
    }
    int total = hwloc_get_nbobjs_inside_cpuset_by_type(topo, obj->cpuset, leaf);
    if (total <= 0 || obj->arity == 0)
        return 0;
    unsigned arity = obj->arity;
    hwloc_obj_t *buf = malloc((size_t)total * sizeof *buf);
    int *start = malloc((size_t)arity * sizeof *start);
    int *len = malloc((size_t)arity * sizeof *len);
    if (!buf || !start || !len) {
        free(buf);
        free(start);
        free(len);
        return -1;
    }
    int used = 0;
    int rc = 0;
    for (unsigned c = 0; c < arity; c++) {
        start[c] = used;
        len[c] = 0;
        hwloc_obj_t child = obj->children[c];
        int room = hwloc_get_nbobjs_inside_cpuset_by_type(topo, child->cpuset, leaf);
        if (room <= 0 || used + room > total)
            continue;
        int n = scatter_leaves(child, buf + used);
        if (n < 0) {
            rc = -1;
            break;
        }
        len[c] = n;
        used += n;
    }
    int written = 0;
    if (rc == 0) {
        /* Round-robin over the children: the k-th leaf of each child, for k = 0, 1, ... */
        for (int k = 0; written < used; k++)
            for (unsigned c = 0; c < arity; c++)
                if (k < len[c])
                    out[written++] = buf[start[c] + k];
    }
    free(buf);
    free(start);
    free(len);
    return rc < 0 ? -1 : written;
}

static int build_orders(void)
{
    unsigned pus = summary.pus;
    compact_order = calloc(pus, sizeof *compact_order);
    scatter_order = calloc(pus, sizeof *scatter_order);
    if (!compact_order || !scatter_order)
        return -1;
    for (unsigned i = 0; i < pus; i++)
        compact_order[i] = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, i)->os_index;

    int nleaves = hwloc_get_nbobjs_by_type(topo, leaf_type());
    if (nleaves <= 0)
        return -1;
    hwloc_obj_t *leaves = calloc((size_t)nleaves, sizeof *leaves);
    if (!leaves)
        return -1;
    int n = scatter_leaves(hwloc_get_root_obj(topo), leaves);
    if (n < 0) {
        free(leaves);
        return -1;
    }
    unsigned filled = 0;
    for (unsigned s = 0; filled < pus; s++) {
        unsigned before = filled;
        for (int i = 0; i < n && filled < pus; i++) {
            hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(topo, leaves[i]->cpuset,
                                                                 HWLOC_OBJ_PU, s);
            if (pu)
                scatter_order[filled++] = pu->os_index;
        }
        if (filled == before)
            break; /* every core exhausted */
    }
    free(leaves);
    /* PUs the walk missed (not under any leaf: should not happen) keep logical order. */
    for (unsigned i = 0; filled < pus && i < pus; i++) {
        unsigned os = compact_order[i];
        int seen = 0;
        for (unsigned j = 0; j < filled && !seen; j++)
            seen = scatter_order[j] == os;
        if (!seen)
            scatter_order[filled++] = os;
    }
    return 0;
}

static unsigned count_of(hwloc_obj_type_t type)
{
    int n = hwloc_get_nbobjs_by_type(topo, type);
    return n > 0 ? (unsigned)n : 0;
}

/* The first cache object of `type` that holds data (data or unified), NULL if none. */
static hwloc_obj_t data_cache(hwloc_obj_type_t type)
{
    for (hwloc_obj_t o = hwloc_get_next_obj_by_type(topo, type, NULL); o;
         o = hwloc_get_next_obj_by_type(topo, type, o))
        if (o->attr && o->attr->cache.type != HWLOC_OBJ_CACHE_INSTRUCTION)
            return o;
    return NULL;
}

static void cpu_model(char *out, size_t size)
{
    const char *model = hwloc_obj_get_info_by_name(hwloc_get_root_obj(topo), "CPUModel");
    hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
    if ((!model || !*model) && pkg)
        model = hwloc_obj_get_info_by_name(pkg, "CPUModel");
    if (model && *model) {
        snprintf(out, size, "%s", model);
        return;
    }
    snprintf(out, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\n")] = '\0';
        if (*v) {
            snprintf(out, size, "%s", v);
            break;
        }
    }
    fclose(f);
}

static void fill_summary(void)
{
    ct_topology_summary *s = &summary;
    s->packages = count_of(HWLOC_OBJ_PACKAGE);
    s->numa_nodes = count_of(HWLOC_OBJ_NUMANODE);
    s->pus = count_of(HWLOC_OBJ_PU);
    s->cores = count_of(HWLOC_OBJ_CORE);
    have_cores = s->cores > 0;
    if (s->cores == 0)
        s->cores = s->pus;
    if (s->packages == 0)
        s->packages = 1;
    if (s->numa_nodes == 0)
        s->numa_nodes = 1;
    s->smt_per_core = s->cores ? s->pus / s->cores : 1;
    if (s->smt_per_core == 0)
        s->smt_per_core = 1;

    static const hwloc_obj_type_t levels[] = {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE,
                                              HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L4CACHE,
                                              HWLOC_OBJ_L5CACHE};
    hwloc_obj_t l1 = data_cache(HWLOC_OBJ_L1CACHE);
    hwloc_obj_t l2 = data_cache(HWLOC_OBJ_L2CACHE);
    hwloc_obj_t l3 = data_cache(HWLOC_OBJ_L3CACHE);
    s->l1d_bytes = l1 ? (unsigned long long)l1->attr->cache.size : 0;
    s->l2_bytes = l2 ? (unsigned long long)l2->attr->cache.size : 0;
    s->l3_bytes = l3 ? (unsigned long long)l3->attr->cache.size : 0;
    s->l3_count = count_of(HWLOC_OBJ_L3CACHE);
    s->cache_line = 0;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0] && s->cache_line == 0; i++) {
        hwloc_obj_t c = data_cache(levels[i]);
        if (c && c->attr->cache.linesize > 0)
            s->cache_line = c->attr->cache.linesize;
    }
    if (s->cache_line == 0) {
        long line = sysconf(_SC_LEVEL1_DCACHE_LINESIZE);
        if (line > 0)
            s->cache_line = (unsigned)line;
    }
    cpu_model(s->cpu_model, sizeof s->cpu_model);
}

static void load(void)
{
    if (hwloc_topology_init(&topo) != 0) {
        load_errno = errno ? errno : ENOMEM;
        fprintf(stderr, "contend: hwloc_topology_init failed: %s\n", strerror(load_errno));
        return;
    }
    if (hwloc_topology_load(topo) != 0) {
        load_errno = errno ? errno : EIO;
        fprintf(stderr, "contend: hwloc_topology_load failed: %s\n", strerror(load_errno));
        hwloc_topology_destroy(topo);
        return;
    }
    fill_summary();
    if (summary.pus == 0) {
        load_errno = ENODEV;
        fprintf(stderr, "contend: hwloc found no processing units\n");
        hwloc_topology_destroy(topo);
        return;
    }
    if (build_orders() != 0) {
        load_errno = ENOMEM;
        fprintf(stderr, "contend: topology: out of memory building pin orders\n");
        free(compact_order);
        free(scatter_order);
        compact_order = scatter_order = NULL;
        hwloc_topology_destroy(topo);
        return;
    }
    load_result = 0;
}

int ct_topology_init(void)
{
    pthread_once(&load_once, load);
    if (load_result != 0)
        errno = load_errno;
    return load_result;
}

const ct_topology_summary *ct_topology_summary_get(void)
{
    return ct_topology_init() == 0 ? &summary : NULL;
}

int ct_topology_pu_for(ct_pin_mode mode, unsigned index)
{
    if (mode != CT_PIN_COMPACT && mode != CT_PIN_SCATTER) {
        if (mode != CT_PIN_NONE)
            errno = EINVAL;
        return -1;
    }
    if (ct_topology_init() != 0)
        return -1;
    const unsigned *order = mode == CT_PIN_COMPACT ? compact_order : scatter_order;
    return (int)order[index % summary.pus];
}

int ct_topology_pin_self(ct_pin_mode mode, unsigned index)
{
    if (mode == CT_PIN_NONE)
        return 0;
    int pu = ct_topology_pu_for(mode, index);
    if (pu < 0)
        return -1;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (!set) {
        errno = ENOMEM;
        return -1;
    }
    hwloc_bitmap_only(set, (unsigned)pu);
    int rc = hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_THREAD);
    int e = errno;
    hwloc_bitmap_free(set);
    if (rc != 0) {
        errno = e ? e : EINVAL;
        return -1;
    }
    return 0;
}
