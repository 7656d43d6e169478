/* Hardware performance counters through perf_event_open(2), per thread.
 *
 * Each measuring thread opens its own counters (pid 0, any CPU, user+kernel where allowed,
 * falling back to user-only when perf_event_paranoid forbids kernel counting), enables them when
 * the measured window opens and disables them when it closes. Many virtual machines expose no
 * PMU: then opening fails and the harness reports `hw: null` with the reason.
 */
#ifndef CONTEND_HW_COUNTERS_H
#define CONTEND_HW_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { CT_HW_CYCLES, CT_HW_INSTRUCTIONS, CT_HW_CACHE_MISSES, CT_HW_NCOUNTERS };

typedef struct ct_hw_values {
    uint64_t value[CT_HW_NCOUNTERS];
} ct_hw_values;

typedef struct ct_hw_session {
    int fd[CT_HW_NCOUNTERS]; /* -1 when closed */
    /* {value, time_enabled, time_running} at ct_hw_start: RESET zeroes only the value, so the
     * multiplexing scale of a window needs the times' deltas. Private to hw_counters.c. */
    uint64_t base[CT_HW_NCOUNTERS][3];
} ct_hw_session;

/* Whether this process can count at all: NULL when yes, otherwise a static one-line reason
 * naming the errno (e.g. "perf_event_open(cycles): ENOENT: no PMU exposed (virtual machine?)").
 * Probed once, thread-safe. */
const char *ct_hw_unavailable_reason(void);

/* Open the counters for the calling thread, disabled. 0, or -1 (session left closed). */
int ct_hw_open(ct_hw_session *s);
void ct_hw_start(ct_hw_session *s); /* reset + enable */
void ct_hw_stop(ct_hw_session *s);  /* disable */
void ct_hw_read(const ct_hw_session *s, ct_hw_values *out); /* scaled for multiplexing */
void ct_hw_close(ct_hw_session *s);
static inline bool ct_hw_is_open(const ct_hw_session *s) { return s->fd[0] >= 0; }

#endif
