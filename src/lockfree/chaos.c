/* Chaos points: see contend/chaos.h. The per-thread generator is xorshift64*, seeded from the
 * process seed mixed with a per-thread counter, so runs with the same CT_CHAOS_SEED draw the
 * same decision sequence per thread (the OS scheduler still adds its own nondeterminism). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "contend/chaos.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "contend/arch.h"

#ifdef CT_CHAOS_BUILD
static _Atomic uint64_t process_seed;      /* 0 = not chosen yet */
static _Atomic uint64_t thread_counter;

static uint64_t choose_seed(void)
{
    uint64_t seed = atomic_load_explicit(&process_seed, memory_order_acquire);
    if (seed)
        return seed;
    const char *env = getenv("CT_CHAOS_SEED");
    uint64_t fresh = 0;
    if (env && *env)
        fresh = strtoull(env, NULL, 0);
    if (!fresh) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        fresh = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec;
        fresh |= 1;
    }
    /* First chooser wins; the acq_rel CAS makes every thread agree on one seed. */
    uint64_t expected = 0;
    if (atomic_compare_exchange_strong_explicit(&process_seed, &expected, fresh,
                                                memory_order_acq_rel, memory_order_acquire))
        return fresh;
    return expected;
}
#endif

uint64_t ct_chaos_seed(void)
{
#ifdef CT_CHAOS_BUILD
    return choose_seed();
#else
    return 0;
#endif
}

void ct_chaos_report_seed(const char *test_name)
{
#ifdef CT_CHAOS_BUILD
    fprintf(stderr, "%s: chaos seed %llu (rerun with CT_CHAOS_SEED=%llu)\n", test_name,
            (unsigned long long)choose_seed(), (unsigned long long)choose_seed());
#else
    (void)test_name;
#endif
}

#ifdef CT_CHAOS_BUILD
static _Thread_local uint64_t rng_state;

static uint64_t next_random(void)
{
    if (!rng_state) {
        uint64_t n = atomic_fetch_add_explicit(&thread_counter, 1, memory_order_relaxed);
        rng_state = choose_seed() ^ ((n + 1) * 0x9E3779B97F4A7C15ull);
        if (!rng_state)
            rng_state = 1;
    }
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Decision mix per point: ~75% nothing, ~17% a short spin (0-255 pauses), ~6% sched_yield,
 * ~2% a sleep of 1-50 us (long enough that the OS runs someone else in the window). */
void ct_chaos_point(void)
{
    uint64_t r = next_random();
    unsigned pick = (unsigned)(r & 1023);
    if (pick < 768)
        return;
    if (pick < 944) {
        unsigned spins = (unsigned)((r >> 10) & 255);
        for (unsigned i = 0; i < spins; i++)
            ct_cpu_relax();
    } else if (pick < 1004) {
        sched_yield();
    } else {
        struct timespec ts = {0, (long)(1000 + ((r >> 20) % 49000))};
        nanosleep(&ts, NULL);
    }
}
#endif
