/* Machine topology and thread pinning through hwloc.
 *
 * Pin modes: none (the OS scheduler places threads), compact (thread i on the i-th processing
 * unit in hwloc's logical order: SMT siblings and cores of one cache/package first), scatter
 * (spread over packages, then cores, then SMT siblings: thread i goes where it shares the least
 * with threads 0..i-1). Thread i beyond the number of PUs wraps around (oversubscription).
 */
#ifndef CONTEND_TOPOLOGY_H
#define CONTEND_TOPOLOGY_H

#include <stddef.h>

typedef enum ct_pin_mode { CT_PIN_NONE = 0, CT_PIN_COMPACT, CT_PIN_SCATTER } ct_pin_mode;

int ct_pin_mode_parse(const char *text, ct_pin_mode *out); /* 0, or -1 when unknown */
const char *ct_pin_mode_name(ct_pin_mode mode);

typedef struct ct_topology_summary {
    unsigned packages, numa_nodes, cores, pus; /* pus = hardware threads */
    unsigned smt_per_core;                     /* pus / cores, at least 1 */
    unsigned cache_line;                       /* bytes, from the L1d cache object; 0 unknown */
    unsigned long long l1d_bytes, l2_bytes, l3_bytes; /* size of one cache of each level; 0 none */
    unsigned l3_count;                         /* number of L3 caches (CCX/CCD count on AMD) */
    char cpu_model[128];                       /* from hwloc's CPUModel info, else /proc/cpuinfo */
} ct_topology_summary;

/* Loads the topology once per process (thread-safe); 0, or -1 with a reason on stderr. */
int ct_topology_init(void);
const ct_topology_summary *ct_topology_summary_get(void); /* after a successful init */

/* The PU (OS index) that thread `index` gets in `mode`; -1 for CT_PIN_NONE. */
int ct_topology_pu_for(ct_pin_mode mode, unsigned index);

/* Binds the calling thread to the PU chosen for `index`. 0, or -1 with errno. A no-op for
 * CT_PIN_NONE. */
int ct_topology_pin_self(ct_pin_mode mode, unsigned index);

#endif
