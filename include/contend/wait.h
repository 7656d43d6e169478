/* contend/wait.h: waiting policies, kept apart from the algorithms that wait.
 *
 * A lock algorithm (or a queue, or a pool) decides *what* to wait for: a word to change.
 * This header decides *how* to wait. The pieces:
 *
 *  ct_backoff      bounded exponential spinning with cpu_relax, then sched_yield, then a
 *                  "done" signal meaning: stop burning CPU, go to sleep (crossbeam Backoff).
 *  ct_futex_*      the Linux futex system call on a 32-bit atomic word.
 *  ct_wait_policy  spin / spin-then-yield / spin-then-park, applied by ct_wait_while_eq().
 *  ct_wait_park_cost_ns()  what one sleep/wake round trip costs on this machine, measured
 *                  once per process; adaptive waiters spin about that long before parking,
 *                  because spinning longer than a round trip costs more than sleeping would.
 */
#ifndef CONTEND_WAIT_H
#define CONTEND_WAIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "contend/arch.h"

/* ---- futex -------------------------------------------------------------------------- */

/* Sleep while *word == expected, until woken, a signal, or the CLOCK_MONOTONIC deadline
 * (deadline_ns == 0: no deadline). Returns 0 when woken or when the value already differed
 * (the caller re-checks its condition either way: wakeups may be spurious), or -1 with errno
 * ETIMEDOUT once the deadline has passed. Private futex: the word is not shared across
 * processes. */
int ct_futex_wait(_Atomic uint32_t *word, uint32_t expected, uint64_t deadline_ns);

/* Wake up to n sleepers on word (n = INT32_MAX: all). Returns the number woken. */
int ct_futex_wake(_Atomic uint32_t *word, int n);

/* ---- bounded exponential backoff ---------------------------------------------------- */

/* Tuning constants, named so they can be argued about:
 * CT_BACKOFF_SPIN_STEPS   2^6 = 64 pauses at the longest spin step. A PAUSE is ~40 cycles on
 *                         Skylake-and-later Intel and ~10-70 on AMD Zen, so the longest step
 *                         is a few microseconds: around one sleep/wake round trip.
 * CT_BACKOFF_YIELD_STEPS  after spinning, this many more steps call sched_yield(), which lets
 *                         a preempted lock holder or producer run when threads outnumber cores.
 */
#define CT_BACKOFF_SPIN_STEPS 6u
#define CT_BACKOFF_YIELD_STEPS 10u

typedef struct ct_backoff {
    uint32_t step;
} ct_backoff;

#define CT_BACKOFF_INIT {0}

static inline void ct_backoff_reset(ct_backoff *b) { b->step = 0; }

/* Spin 2^step pauses (step capped at CT_BACKOFF_SPIN_STEPS). For CAS-retry loops: after a
 * failed CAS, back off so the winner's line is not stolen right back. */
void ct_backoff_spin(ct_backoff *b);

/* For waiting on another thread's progress: spin while step <= CT_BACKOFF_SPIN_STEPS, then
 * sched_yield(). Returns true once spinning and yielding are both exhausted: the caller should
 * now block (futex) instead of burning more CPU. */
bool ct_backoff_snooze(ct_backoff *b);

/* ---- waiting policies --------------------------------------------------------------- */

typedef enum ct_wait_kind {
    CT_WAIT_SPIN = 0,   /* cpu_relax forever: lowest hand-off latency, collapses past the cores */
    CT_WAIT_SPIN_YIELD, /* spin `spins` rounds, then sched_yield() between checks */
    CT_WAIT_SPIN_PARK,  /* spin `spins` rounds, then sleep on the futex word */
} ct_wait_kind;

typedef struct ct_wait_policy {
    ct_wait_kind kind;
    uint32_t spins; /* cpu_relax rounds before yielding or parking; 0 = ct_wait_adaptive_spins() */
} ct_wait_policy;

/* Wait while *word == val, the way the policy says. Returns the first value seen that differs
 * from val, loaded with memory_order_acquire (so everything the changer wrote before its
 * release store is visible). With CT_WAIT_SPIN_PARK the thread that changes *word must call
 * ct_futex_wake(word, ...) afterwards, or a parked waiter sleeps forever. */
uint32_t ct_wait_while_eq(_Atomic uint32_t *word, uint32_t val, const ct_wait_policy *policy);

/* One sleep/wake round trip between two threads on this machine, in ns, measured once per
 * process (futex ping-pong, median of a few dozen round trips; a few ms on first call). */
uint64_t ct_wait_park_cost_ns(void);

/* How many ct_cpu_relax() calls take about ns nanoseconds (calibrated once per process). */
uint32_t ct_wait_spins_for_ns(uint64_t ns);

/* Spins an adaptive waiter should use: about one park round trip, clamped to [64, 1<<16]. */
uint32_t ct_wait_adaptive_spins(void);

#endif
