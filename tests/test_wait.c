// ctest-timeout: 60
// ctest-label: quick
/* contend/wait.h: futex wait/wake (a sleeper is woken, a deadline times out, a value mismatch
 * returns at once), bounded backoff, ct_wait_while_eq() under each policy, and the
 * calibrations. A lost wakeup hangs a sleeper; the ctest timeout turns that into a failure. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "contend/wait.h"
#include "contend/harness.h" /* ct_now_ns */
#include "test_util.h"

#define MS 1000000ull

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static pthread_t spawn(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    CT_CHECK(pthread_create(&t, NULL, fn, arg) == 0, "pthread_create");
    return t;
}

/* ---- futex -------------------------------------------------------------------------- */

typedef struct sleeper {
    _Atomic uint32_t word;
    _Atomic uint32_t returned; /* set once the single futex wait returned */
    int rc;
} sleeper;

static void *one_wait(void *arg)
{
    sleeper *s = arg;
    s->rc = ct_futex_wait(&s->word, 0, 0);
    atomic_store_explicit(&s->returned, 1, memory_order_release);
    return NULL;
}

/* A thread asleep in ct_futex_wait() is woken by ct_futex_wake() without the word changing:
 * keep waking until a wake reports one woken thread (it was asleep) or the sleeper returned on
 * its own (a spurious return, allowed by the contract). */
static void test_futex_wake_sleeper(void)
{
    sleeper s = {0};
    pthread_t t = spawn(one_wait, &s);
    uint64_t give_up = ct_now_ns() + 20000 * MS;
    int woken = 0;
    while (woken == 0 && !atomic_load_explicit(&s.returned, memory_order_acquire)) {
        CT_CHECK(ct_now_ns() < give_up, "the sleeper never went to sleep");
        sleep_ns(MS);
        woken = ct_futex_wake(&s.word, 1);
        CT_CHECK(woken == 0 || woken == 1, "wake(1) reported %d woken", woken);
    }
    pthread_join(t, NULL);
    CT_CHECK(s.rc == 0, "a woken wait returned %d", s.rc);
    CT_CHECK(ct_futex_wake(&s.word, 1) == 0, "wake with no sleeper reported someone");
    CT_CHECK(ct_futex_wake(&s.word, 0) == 0, "wake(0) woke someone");
    CT_CHECK(ct_futex_wake(&s.word, -1) == 0, "wake(-1) woke someone");
}

typedef struct changer {
    _Atomic uint32_t word;
    uint32_t payload; /* plain: published by the release store of word */
    unsigned waiters;
    _Atomic uint32_t done;
} changer;

static void *wait_for_change(void *arg)
{
    changer *c = arg;
    while (atomic_load_explicit(&c->word, memory_order_acquire) == 0)
        ct_futex_wait(&c->word, 0, 0);
    CT_CHECK(c->payload == 42, "payload %u after the change", c->payload);
    atomic_fetch_add_explicit(&c->done, 1, memory_order_relaxed);
    return NULL;
}

/* Several sleepers, one change, wake all: every one returns. */
static void test_futex_wake_all(void)
{
    enum { N = 4 };
    changer c = {0};
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        t[i] = spawn(wait_for_change, &c);
    sleep_ns(5 * MS);
    c.payload = 42;
    atomic_store_explicit(&c.word, 1, memory_order_release);
    int woken = ct_futex_wake(&c.word, INT32_MAX);
    CT_CHECK(woken >= 0 && woken <= N, "wake(all) reported %d", woken);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    CT_CHECK(atomic_load(&c.done) == N, "%u of %d sleepers returned", atomic_load(&c.done), N);
}

static void test_futex_deadline(void)
{
    _Atomic uint32_t w = 0;
    uint64_t t0 = ct_now_ns();
    uint64_t deadline = t0 + 20 * MS;
    errno = 0;
    int rc = ct_futex_wait(&w, 0, deadline);
    uint64_t t1 = ct_now_ns();
    CT_CHECK(rc == -1 && errno == ETIMEDOUT, "deadline wait returned %d, errno %d", rc, errno);
    CT_CHECK(t1 >= deadline, "returned %llu ns before the deadline",
             (unsigned long long)(deadline - t1));
    CT_CHECK(t1 - t0 < 5000 * MS, "a 20 ms deadline took %llu ms",
             (unsigned long long)((t1 - t0) / MS));

    /* A deadline already past times out at once. */
    errno = 0;
    rc = ct_futex_wait(&w, 0, ct_now_ns() - MS);
    CT_CHECK(rc == -1 && errno == ETIMEDOUT, "past deadline returned %d, errno %d", rc, errno);
}

static void test_futex_mismatch(void)
{
    _Atomic uint32_t w = 5;
    uint64_t t0 = ct_now_ns();
    int rc = ct_futex_wait(&w, 4, t0 + 10000 * MS);
    CT_CHECK(rc == 0, "mismatched wait returned %d", rc);
    CT_CHECK(ct_now_ns() - t0 < 1000 * MS, "mismatched wait slept");
    rc = ct_futex_wait(&w, 4, 0);
    CT_CHECK(rc == 0, "mismatched wait without deadline returned %d", rc);
}

/* ---- backoff ------------------------------------------------------------------------ */

static void test_backoff(void)
{
    ct_backoff b = CT_BACKOFF_INIT;
    unsigned calls = 0;
    while (!ct_backoff_snooze(&b)) {
        calls++;
        CT_CHECK(calls < 1000, "snooze never says done");
    }
    CT_CHECK(calls == CT_BACKOFF_SPIN_STEPS + 1 + CT_BACKOFF_YIELD_STEPS,
             "snooze said done after %u calls", calls);
    CT_CHECK(ct_backoff_snooze(&b), "snooze not done after it said so");
    ct_backoff_reset(&b);
    CT_CHECK(!ct_backoff_snooze(&b), "snooze done right after reset");

    ct_backoff s = CT_BACKOFF_INIT;
    for (int i = 0; i < 100; i++)
        ct_backoff_spin(&s); /* bounded: must return, step capped */
    CT_CHECK(s.step <= CT_BACKOFF_SPIN_STEPS + 1, "spin step grew to %u", s.step);
}

/* ---- ct_wait_while_eq --------------------------------------------------------------- */

typedef struct waiter {
    ct_wait_policy policy;
    _Atomic uint32_t word;
    uint32_t payload;
    uint32_t seen;
} waiter;

static void *wait_eq(void *arg)
{
    waiter *w = arg;
    w->seen = ct_wait_while_eq(&w->word, 0, &w->policy);
    CT_CHECK(w->payload == 7, "payload %u: the acquire load did not order it", w->payload);
    return NULL;
}

static void test_wait_policy(ct_wait_kind kind, uint32_t spins, uint64_t delay_ns)
{
    waiter w = {.policy = {kind, spins}};
    pthread_t t = spawn(wait_eq, &w);
    sleep_ns(delay_ns);
    w.payload = 7;
    atomic_store_explicit(&w.word, 3, memory_order_release);
    ct_futex_wake(&w.word, INT32_MAX); /* required for CT_WAIT_SPIN_PARK, harmless otherwise */
    pthread_join(t, NULL);
    CT_CHECK(w.seen == 3, "policy %d/%u returned %u", (int)kind, spins, w.seen);

    /* Already different: returns at once with the current value. */
    _Atomic uint32_t x = 9;
    ct_wait_policy p = {kind, spins};
    CT_CHECK(ct_wait_while_eq(&x, 0, &p) == 9, "policy %d: no immediate return", (int)kind);
}

static void test_wait_policies(void)
{
    const ct_wait_kind kinds[] = {CT_WAIT_SPIN, CT_WAIT_SPIN_YIELD, CT_WAIT_SPIN_PARK};
    for (unsigned k = 0; k < 3; k++) {
        test_wait_policy(kinds[k], 0, 0);      /* changes while (probably) still spinning */
        test_wait_policy(kinds[k], 0, 5 * MS); /* changes after the spin phase */
        test_wait_policy(kinds[k], 1, 5 * MS); /* one spin, then yield or park at once */
    }
    /* NULL policy: spin then yield, never needs a wake. */
    _Atomic uint32_t x = 1;
    CT_CHECK(ct_wait_while_eq(&x, 0, NULL) == 1, "NULL policy");
}

/* ---- calibrations ------------------------------------------------------------------- */

static void test_calibration(void)
{
    uint64_t park = ct_wait_park_cost_ns();
    CT_CHECK(park > 0, "park cost 0");
    CT_CHECK(park <= 1000 * 1000, "park cost %llu ns is not plausible", (unsigned long long)park);
    CT_CHECK(ct_wait_park_cost_ns() == park, "park cost changed between calls");

    uint32_t prev = 0;
    const uint64_t ns[] = {0, 10, 100, 1000, 10000, 100000, 1000000};
    for (unsigned i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        uint32_t s = ct_wait_spins_for_ns(ns[i]);
        CT_CHECK(s >= prev, "spins_for_ns(%llu) = %u < %u", (unsigned long long)ns[i], s, prev);
        prev = s;
    }
    CT_CHECK(ct_wait_spins_for_ns(1000000) > 0, "1 ms is 0 spins");
    CT_CHECK(ct_wait_spins_for_ns(UINT64_MAX) == UINT32_MAX, "huge ns does not saturate");

    uint32_t a = ct_wait_adaptive_spins();
    CT_CHECK(a >= 64 && a <= 65536, "adaptive spins %u out of [64, 65536]", a);
    printf("park cost %llu ns, %u spins per us, adaptive spins %u\n", (unsigned long long)park,
           ct_wait_spins_for_ns(1000), a);
}

int main(void)
{
    test_futex_mismatch();
    test_futex_deadline();
    test_futex_wake_sleeper();
    test_futex_wake_all();
    test_backoff();
    test_calibration();
    test_wait_policies();
    printf("test_wait: passed\n");
    return 0;
}
