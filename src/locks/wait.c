/* Waiting policies: the futex system call, bounded backoff, ct_wait_while_eq() and the one-time
 * calibrations (PAUSE cost, sleep/wake round-trip cost). See contend/wait.h for the contracts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* syscall() */
#endif
#include "contend/wait.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "contend/chaos.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- futex -------------------------------------------------------------------------- */

int ct_futex_wait(_Atomic uint32_t *word, uint32_t expected, uint64_t deadline_ns)
{
    /* FUTEX_WAIT_BITSET takes an absolute deadline, on CLOCK_MONOTONIC unless
     * FUTEX_CLOCK_REALTIME is or-ed in; an absolute deadline makes retries after EINTR or a
     * spurious wakeup keep the caller's original deadline instead of restarting the wait. The
     * kernel compares *word with expected under its hash-bucket lock, atomically with queueing
     * this thread: a waker that changes *word and then calls FUTEX_WAKE cannot slip in between
     * (no lost wakeup). The comparison is a plain read in the kernel, so it is no ordering
     * point; callers re-check their condition with an acquire load after we return. */
    struct timespec ts, *tsp = NULL;
    if (deadline_ns != 0) {
        ts.tv_sec = (time_t)(deadline_ns / 1000000000u);
        ts.tv_nsec = (long)(deadline_ns % 1000000000u);
        tsp = &ts;
    }
    long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET_PRIVATE, expected, tsp,
                     NULL, FUTEX_BITSET_MATCH_ANY);
    if (r == 0)
        return 0;
    switch (errno) {
    case EAGAIN: /* *word != expected already */
    case EINTR:  /* a signal; the caller re-checks and waits again */
        return 0;
    case ETIMEDOUT:
        return -1;
    default: /* EFAULT, EINVAL, ENOSYS: report, never abort */
        return -1;
    }
}

int ct_futex_wake(_Atomic uint32_t *word, int n)
{
    /* The kernel wakes at least one waiter even when asked for 0, so answer n <= 0 here. */
    if (n <= 0)
        return 0;
    long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
    return r < 0 ? -1 : (int)r;
}

/* ---- bounded exponential backoff ---------------------------------------------------- */

static void spin_pauses(uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        ct_cpu_relax();
}

void ct_backoff_spin(ct_backoff *b)
{
    uint32_t step = b->step < CT_BACKOFF_SPIN_STEPS ? b->step : CT_BACKOFF_SPIN_STEPS;
    spin_pauses(1u << step);
    if (b->step <= CT_BACKOFF_SPIN_STEPS)
        b->step++;
}

bool ct_backoff_snooze(ct_backoff *b)
{
    /* Steps 0..SPIN spin 1, 2, ..., 2^SPIN pauses; the next YIELD steps call sched_yield();
     * after that every call answers true at once and costs nothing. */
    if (b->step > CT_BACKOFF_SPIN_STEPS + CT_BACKOFF_YIELD_STEPS)
        return true;
    if (b->step <= CT_BACKOFF_SPIN_STEPS)
        spin_pauses(1u << b->step);
    else
        sched_yield();
    b->step++;
    return false;
}

/* ---- calibration: the cost of one ct_cpu_relax() ------------------------------------ */

#define RELAX_CAL_CALLS 4096u /* per timed run; ~0.2 ms at ~40 ns per PAUSE */
#define RELAX_CAL_RUNS 3u     /* the minimum of 3 runs discards a run cut by preemption */

static pthread_once_t relax_once = PTHREAD_ONCE_INIT;
static uint64_t relax_ps; /* picoseconds per ct_cpu_relax(); written once under relax_once */

static void calibrate_relax(void)
{
    uint64_t best = UINT64_MAX;
    for (unsigned r = 0; r < RELAX_CAL_RUNS; r++) {
        uint64_t t0 = now_ns();
        spin_pauses(RELAX_CAL_CALLS);
        uint64_t dt = now_ns() - t0;
        if (dt < best)
            best = dt;
    }
    uint64_t ps = best * 1000u / RELAX_CAL_CALLS;
    relax_ps = ps ? ps : 1;
}

uint32_t ct_wait_spins_for_ns(uint64_t ns)
{
    /* pthread_once gives the happens-before edge from the calibrating thread's write of
     * relax_ps to every later reader. */
    pthread_once(&relax_once, calibrate_relax);
    if (ns > UINT64_MAX / 1000u)
        return UINT32_MAX;
    uint64_t spins = ns * 1000u / relax_ps;
    return spins > UINT32_MAX ? UINT32_MAX : (uint32_t)spins;
}

/* ---- calibration: one sleep/wake round trip ----------------------------------------- */

/* Two threads ping-pong on one futex word: the main thread ("ping") sets the word to an odd
 * value and wakes the helper, the helper ("pong") answers with the next even value and wakes
 * back. One ping-pong round as timed by the main thread holds two sleep/wake cycles (the
 * helper's and its own), so half the round is one round trip as a waiter experiences it: the
 * waker's FUTEX_WAKE, the scheduler putting the sleeper back on a CPU, and the sleeper's return
 * from FUTEX_WAIT. The median of PARK_CAL_ROUNDS rounds, after PARK_CAL_WARMUP unmeasured ones,
 * discards rounds hit by preemption. 34 rounds of ~2 x 5-20 us stay well under 5 ms. */
#define PARK_CAL_ROUNDS 32u
#define PARK_CAL_WARMUP 2u
#define PARK_CAL_ABORT UINT32_MAX
#define PARK_CAL_STEP_TIMEOUT_NS 100000000u /* 100 ms: a stuck partner aborts, never hangs */
#define PARK_COST_FALLBACK_NS 5000u         /* when the helper thread cannot be started */
#define PARK_COST_MAX_NS 1000000u           /* clamp: an overloaded machine is not the norm */

static pthread_once_t park_once = PTHREAD_ONCE_INIT;
static uint64_t park_ns; /* written once under park_once */

/* Waits while *w == val, up to PARK_CAL_STEP_TIMEOUT_NS. Returns the new value, or
 * PARK_CAL_ABORT on timeout. The acquire load pairs with the partner's release store; not
 * needed for data (there is none) but it keeps the ping-pong a clean happens-before chain. */
static uint32_t cal_wait(_Atomic uint32_t *w, uint32_t val)
{
    uint64_t deadline = now_ns() + PARK_CAL_STEP_TIMEOUT_NS;
    uint32_t v;
    while ((v = atomic_load_explicit(w, memory_order_acquire)) == val) {
        ct_futex_wait(w, val, deadline);
        if (now_ns() >= deadline) /* timed out, or futex unusable and we are busy-polling */
            return PARK_CAL_ABORT;
    }
    return v;
}

static void cal_post(_Atomic uint32_t *w, uint32_t val)
{
    atomic_store_explicit(w, val, memory_order_release);
    ct_futex_wake(w, 1);
}

static void *park_cal_pong(void *arg)
{
    _Atomic uint32_t *w = arg;
    for (uint32_t i = 0; i < PARK_CAL_WARMUP + PARK_CAL_ROUNDS; i++) {
        uint32_t v = cal_wait(w, 2 * i);
        if (v != 2 * i + 1) { /* timeout, or the ping side gave up */
            cal_post(w, PARK_CAL_ABORT);
            return NULL;
        }
        cal_post(w, 2 * i + 2);
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void calibrate_park(void)
{
    static _Atomic uint32_t word; /* only touched under park_once */
    atomic_store_explicit(&word, 0, memory_order_relaxed);
    park_ns = PARK_COST_FALLBACK_NS;

    pthread_t helper;
    if (pthread_create(&helper, NULL, park_cal_pong, (void *)&word) != 0)
        return;
    uint64_t samples[PARK_CAL_ROUNDS];
    bool ok = true;
    for (uint32_t i = 0; i < PARK_CAL_WARMUP + PARK_CAL_ROUNDS; i++) {
        uint64_t t0 = now_ns();
        cal_post(&word, 2 * i + 1);
        uint32_t v = cal_wait(&word, 2 * i + 1);
        uint64_t dt = now_ns() - t0;
        if (v != 2 * i + 2) {
            cal_post(&word, PARK_CAL_ABORT);
            ok = false;
            break;
        }
        if (i >= PARK_CAL_WARMUP)
            samples[i - PARK_CAL_WARMUP] = dt;
    }
    pthread_join(helper, NULL);
    if (!ok)
        return;
    qsort(samples, PARK_CAL_ROUNDS, sizeof samples[0], cmp_u64);
    uint64_t half = samples[PARK_CAL_ROUNDS / 2] / 2;
    if (half == 0)
        half = 1;
    park_ns = half > PARK_COST_MAX_NS ? PARK_COST_MAX_NS : half;
}

uint64_t ct_wait_park_cost_ns(void)
{
    pthread_once(&park_once, calibrate_park);
    return park_ns;
}

#define ADAPTIVE_SPINS_MIN 64u
#define ADAPTIVE_SPINS_MAX 65536u

uint32_t ct_wait_adaptive_spins(void)
{
    /* Cached after the first call; a racing first call computes the same value twice, which is
     * harmless. Relaxed: the value is self-contained (the calibrations it derives from are
     * published by their own pthread_once). */
    static _Atomic uint32_t cached;
    uint32_t s = atomic_load_explicit(&cached, memory_order_relaxed);
    if (s)
        return s;
    s = ct_wait_spins_for_ns(ct_wait_park_cost_ns());
    if (s < ADAPTIVE_SPINS_MIN)
        s = ADAPTIVE_SPINS_MIN;
    if (s > ADAPTIVE_SPINS_MAX)
        s = ADAPTIVE_SPINS_MAX;
    atomic_store_explicit(&cached, s, memory_order_relaxed);
    return s;
}

/* ---- waiting policies --------------------------------------------------------------- */

/* Memory order: every load of *word is an acquire load. The returned value must be an acquire
 * load by contract (the changer's release store, or release RMW, then happens-before
 * everything the caller does next); loading every probe with acquire rather than relaxed-then-
 * one-acquire keeps that true on whichever probe exits the loop, and costs nothing on x86
 * (plain MOV) and little on aarch64 (LDAR instead of LDR, in a loop that is waiting anyway). */
uint32_t ct_wait_while_eq(_Atomic uint32_t *word, uint32_t val, const ct_wait_policy *policy)
{
    /* No policy: spin then yield, which is safe whether or not the changer wakes. */
    ct_wait_kind kind = policy ? policy->kind : CT_WAIT_SPIN_YIELD;
    uint32_t spins = policy && policy->spins ? policy->spins : 0;
    uint32_t v;

    if (kind == CT_WAIT_SPIN) {
        while ((v = atomic_load_explicit(word, memory_order_acquire)) == val)
            ct_cpu_relax();
        return v;
    }
    if (spins == 0)
        spins = ct_wait_adaptive_spins();
    for (uint32_t i = 0; i < spins; i++) {
        if ((v = atomic_load_explicit(word, memory_order_acquire)) != val)
            return v;
        ct_cpu_relax();
    }
    CT_CHAOS();
    if (kind == CT_WAIT_SPIN_PARK) {
        /* The futex re-checks *word == val atomically with going to sleep, so a change made
         * (and woken) after our load but before the sleep is not lost. */
        while ((v = atomic_load_explicit(word, memory_order_acquire)) == val)
            ct_futex_wait(word, val, 0);
        return v;
    }
    /* CT_WAIT_SPIN_YIELD, and any unknown kind: the yield loop needs no wake from anyone. */
    while ((v = atomic_load_explicit(word, memory_order_acquire)) == val)
        sched_yield();
    return v;
}
