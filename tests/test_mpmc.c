// ctest-timeout: 240
/* The bounded MPMC queue (contend/mpmc.h): argument checks, single-thread FIFO and full/empty
 * semantics, then the invariants under contention, the way the header states them:
 *  - every item popped exactly once (a bitmap per producer, set with an atomic fetch_or: a
 *    duplicate finds its bit already set; at the end every bit must be set);
 *  - per producer, the sequence numbers one consumer sees increase (FIFO in head order implies
 *    it: a producer's items occupy increasing positions, a consumer claims increasing ones);
 *  - close releases every blocked pop and push; items pushed before close stay poppable;
 *  - deadlines time out with ETIMEDOUT no earlier than the deadline; closed gives EPIPE;
 *  - no lost wakeup: hand-offs through capacity 1 and 2 where every operation sleeps; a lost
 *    wakeup hangs, and the ctest TIMEOUT turns the hang into a failure.
 * Modes: TRY (try_push/try_pop in a yield loop), BLOCK (push/pop; the last producer closes the
 * queue and consumers run until pop returns false), DEADLINE (push_until/pop_until with short
 * deadlines that often expire, so timeouts race with wakeups).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "contend/arch.h"
#include "contend/mpmc.h"
#include "contend/harness.h" /* ct_now_ns */
#include "test_util.h"

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void *item_of(uintptr_t v) { return (void *)v; }

/* ---- arguments, capacity, single-thread semantics ------------------------------------- */

static void test_create(void)
{
    errno = 0;
    CT_CHECK(ct_mpmc_create(0) == NULL && errno == EINVAL, "create(0): errno %d", errno);
    errno = 0;
    CT_CHECK(ct_mpmc_create(CT_MPMC_MAX_CAPACITY + 1) == NULL && errno == EINVAL,
             "create(2^30 + 1): errno %d", errno);
    errno = 0;
    CT_CHECK(ct_mpmc_create(SIZE_MAX) == NULL && errno == EINVAL, "create(SIZE_MAX)");
    static const size_t req[] = {1, 2, 3, 4, 5, 63, 64, 65, 1000, 1024};
    static const size_t want[] = {2, 2, 4, 4, 8, 64, 64, 128, 1024, 1024};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        ct_mpmc *q = ct_mpmc_create(req[i]);
        CT_CHECK(q != NULL, "create(%zu)", req[i]);
        CT_CHECK(ct_mpmc_capacity(q) == want[i], "capacity(%zu) = %zu, want %zu", req[i],
                 ct_mpmc_capacity(q), want[i]);
        CT_CHECK(ct_mpmc_size(q) == 0, "size of a new queue");
        ct_mpmc_destroy(q);
    }
    ct_mpmc_destroy(NULL);
}

static void test_single_thread(void)
{
    ct_mpmc *q = ct_mpmc_create(4);
    CT_CHECK(q != NULL, "create");
    void *out = item_of(0xdead);
    CT_CHECK(!ct_mpmc_try_pop(q, &out), "try_pop on empty");
    CT_CHECK(out == item_of(0xdead), "failed try_pop wrote the output");
    /* Several laps, NULL among the items, full and empty each lap. */
    for (uintptr_t lap = 0; lap < 5; lap++) {
        for (uintptr_t i = 0; i < 4; i++) {
            void *it = (i == 1) ? NULL : item_of(lap * 100 + i);
            CT_CHECK(ct_mpmc_try_push(q, it), "lap %lu push %lu", (unsigned long)lap,
                     (unsigned long)i);
            CT_CHECK(ct_mpmc_size(q) == i + 1, "size %zu after %lu pushes", ct_mpmc_size(q),
                     (unsigned long)i + 1);
        }
        CT_CHECK(!ct_mpmc_try_push(q, item_of(1)), "try_push on full");
        CT_CHECK(ct_mpmc_size(q) == 4, "size when full");
        for (uintptr_t i = 0; i < 4; i++) {
            void *want = (i == 1) ? NULL : item_of(lap * 100 + i);
            CT_CHECK(ct_mpmc_try_pop(q, &out), "lap %lu pop %lu", (unsigned long)lap,
                     (unsigned long)i);
            CT_CHECK(out == want, "FIFO: got %p want %p", out, want);
        }
        CT_CHECK(!ct_mpmc_try_pop(q, &out), "try_pop on empty after a lap");
        CT_CHECK(ct_mpmc_size(q) == 0, "size when empty");
    }
    /* Interleaved, so the positions are not lap-aligned; blocking calls that need not wait. */
    for (uintptr_t i = 0; i < 50; i++) {
        CT_CHECK(ct_mpmc_push(q, item_of(i)), "push %lu", (unsigned long)i);
        CT_CHECK(ct_mpmc_push_until(q, NULL, 1), "push_until with a past deadline and room");
        CT_CHECK(ct_mpmc_pop(q, &out) && out == item_of(i), "pop %lu", (unsigned long)i);
        CT_CHECK(ct_mpmc_pop_until(q, &out, 1) && out == NULL, "pop_until, past deadline");
    }
    /* Capacity 1 is rounded up to 2 (mpmc.h). */
    ct_mpmc *one = ct_mpmc_create(1);
    CT_CHECK(one != NULL && ct_mpmc_capacity(one) == 2, "create(1)");
    for (uintptr_t i = 0; i < 10; i++) {
        CT_CHECK(ct_mpmc_try_push(one, item_of(i)) && ct_mpmc_try_push(one, NULL), "push");
        CT_CHECK(!ct_mpmc_try_push(one, item_of(i)), "cap 2 full");
        CT_CHECK(ct_mpmc_try_pop(one, &out) && out == item_of(i), "cap 2 pop");
        CT_CHECK(ct_mpmc_try_pop(one, &out) && out == NULL, "cap 2 pop NULL");
        CT_CHECK(!ct_mpmc_try_pop(one, &out), "cap 2 empty");
    }
    ct_mpmc_destroy(one);
    ct_mpmc_destroy(q);
}

/* ---- stress ----------------------------------------------------------------------------- */

enum mode { MODE_TRY, MODE_BLOCK, MODE_DEADLINE };
static const char *const mode_name[] = {"try", "block", "deadline"};

#define SEQ_BITS 40 /* item = (producer << SEQ_BITS) | sequence */

typedef struct stress {
    ct_mpmc *q;
    enum mode mode;
    unsigned producers;
    uint64_t per_producer;
    _Atomic uint64_t *seen;        /* producers * words bitmap of popped sequences */
    size_t words;                  /* bitmap words per producer */
    _Atomic uint64_t popped;       /* total items popped */
    _Atomic unsigned producers_done;
    _Atomic uint64_t failures;
} stress;

typedef struct worker {
    CT_PAD_ALIGNED stress *st;
    unsigned id;
    bool producer;
} worker;

/* 100 us: short enough that deadline mode times out often on a busy 2-core machine. */
#define SHORT_WAIT_NS 100000u

static void produce(worker *w)
{
    stress *st = w->st;
    for (uint64_t s = 0; s < st->per_producer; s++) {
        void *it = item_of(((uintptr_t)w->id << SEQ_BITS) | (uintptr_t)s);
        switch (st->mode) {
        case MODE_TRY:
            while (!ct_mpmc_try_push(st->q, it))
                sched_yield();
            break;
        case MODE_BLOCK:
            if (!ct_mpmc_push(st->q, it)) {
                atomic_fetch_add(&st->failures, 1);
                fprintf(stderr, "push returned false on an open queue\n");
                return;
            }
            break;
        case MODE_DEADLINE:
            while (!ct_mpmc_push_until(st->q, it, ct_now_ns() + SHORT_WAIT_NS)) {
                if (errno != ETIMEDOUT) {
                    atomic_fetch_add(&st->failures, 1);
                    fprintf(stderr, "push_until: errno %d, want ETIMEDOUT\n", errno);
                    return;
                }
            }
            break;
        }
    }
    /* The last producer closes: consumers in BLOCK mode then drain and see false. */
    if (atomic_fetch_add(&st->producers_done, 1) + 1 == st->producers)
        ct_mpmc_close(st->q);
}

static bool record(stress *st, uint64_t *last, void *it)
{
    uintptr_t v = (uintptr_t)it;
    uint64_t p = v >> SEQ_BITS, s = v & (((uintptr_t)1 << SEQ_BITS) - 1);
    if (p >= st->producers || s >= st->per_producer) {
        fprintf(stderr, "popped a value never pushed: %#lx\n", (unsigned long)v);
        return false;
    }
    if (last[p] != UINT64_MAX && s <= last[p]) {
        fprintf(stderr, "producer %lu: sequence %lu after %lu (per-producer FIFO)\n",
                (unsigned long)p, (unsigned long)s, (unsigned long)last[p]);
        return false;
    }
    last[p] = s;
    uint64_t bit = (uint64_t)1 << (s % 64);
    uint64_t old = atomic_fetch_or_explicit(&st->seen[p * st->words + s / 64], bit,
                                            memory_order_relaxed);
    if (old & bit) {
        fprintf(stderr, "producer %lu sequence %lu popped twice\n", (unsigned long)p,
                (unsigned long)s);
        return false;
    }
    atomic_fetch_add_explicit(&st->popped, 1, memory_order_relaxed);
    return true;
}

static void consume(worker *w)
{
    stress *st = w->st;
    uint64_t total = st->per_producer * st->producers;
    uint64_t last[8];
    for (unsigned i = 0; i < 8; i++)
        last[i] = UINT64_MAX;
    void *it;
    for (;;) {
        bool got;
        switch (st->mode) {
        case MODE_TRY:
            got = ct_mpmc_try_pop(st->q, &it);
            if (!got) {
                if (atomic_load_explicit(&st->popped, memory_order_relaxed) >= total)
                    return;
                sched_yield();
                continue;
            }
            break;
        case MODE_BLOCK:
            got = ct_mpmc_pop(st->q, &it);
            if (!got)
                return; /* closed and empty */
            break;
        default:
            got = ct_mpmc_pop_until(st->q, &it, ct_now_ns() + SHORT_WAIT_NS);
            if (!got) {
                if (errno == EPIPE)
                    return;
                if (errno != ETIMEDOUT) {
                    atomic_fetch_add(&st->failures, 1);
                    fprintf(stderr, "pop_until: errno %d\n", errno);
                    return;
                }
                continue;
            }
            break;
        }
        if (!record(st, last, it)) {
            atomic_fetch_add(&st->failures, 1);
            return;
        }
    }
}

static void *stress_thread(void *arg)
{
    worker *w = arg;
    ct_test_start_barrier();
    if (w->producer)
        produce(w);
    else
        consume(w);
    return NULL;
}

static void run_stress(unsigned producers, unsigned consumers, size_t cap, enum mode mode,
                       uint64_t total_items)
{
    stress *st = aligned_alloc(CT_PAD, (sizeof *st + CT_PAD - 1) / CT_PAD * CT_PAD);
    CT_CHECK(st != NULL, "out of memory");
    memset(st, 0, sizeof *st);
    st->q = ct_mpmc_create(cap);
    CT_CHECK(st->q != NULL, "create(%zu)", cap);
    st->mode = mode;
    st->producers = producers;
    st->per_producer = total_items / producers ? total_items / producers : 1;
    st->words = (size_t)(st->per_producer + 63) / 64;
    st->seen = calloc(producers * st->words, sizeof *st->seen);
    CT_CHECK(st->seen != NULL, "out of memory");

    unsigned n = producers + consumers;
    worker *ws = aligned_alloc(CT_PAD, n * sizeof *ws);
    CT_CHECK(ws != NULL, "out of memory");
    for (unsigned i = 0; i < n; i++) {
        ws[i].st = st;
        ws[i].producer = i < producers;
        ws[i].id = i < producers ? i : i - producers;
    }
    uint64_t t0 = ct_now_ns();
    ct_test_run_threads(n, stress_thread, ws, sizeof *ws);
    uint64_t dt = ct_now_ns() - t0;

    uint64_t total = st->per_producer * producers;
    CT_CHECK(atomic_load(&st->failures) == 0, "%s %uP/%uC cap %zu: failures above",
             mode_name[mode], producers, consumers, cap);
    CT_CHECK(atomic_load(&st->popped) == total, "%s %uP/%uC cap %zu: popped %lu of %lu",
             mode_name[mode], producers, consumers, cap, (unsigned long)atomic_load(&st->popped),
             (unsigned long)total);
    for (unsigned p = 0; p < producers; p++)
        for (uint64_t s = 0; s < st->per_producer; s++)
            CT_CHECK(atomic_load_explicit(&st->seen[p * st->words + s / 64],
                                          memory_order_relaxed) &
                         ((uint64_t)1 << (s % 64)),
                     "producer %u sequence %lu never popped", p, (unsigned long)s);
    void *it;
    CT_CHECK(!ct_mpmc_try_pop(st->q, &it), "queue not empty at the end");
    printf("  %-8s %uP/%uC cap %-3zu %8lu items  %6.1f ms\n", mode_name[mode], producers,
           consumers, cap, (unsigned long)total, (double)dt / 1e6);
    ct_mpmc_destroy(st->q);
    free(st->seen);
    free(ws);
    free(st);
}

static void test_stress(void)
{
    static const unsigned pc[][2] = {{1, 1}, {2, 2}, {1, 3}, {3, 1}, {4, 4}};
    static const size_t caps[] = {2, 4, 64};
    for (int mode = MODE_TRY; mode <= MODE_DEADLINE; mode++)
        for (size_t i = 0; i < sizeof pc / sizeof pc[0]; i++)
            for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++)
                run_stress(pc[i][0], pc[i][1], caps[c], (enum mode)mode,
                           ct_test_scale(mode == MODE_DEADLINE ? 40000 : 120000));
}

/* ---- lost-wakeup hammer ------------------------------------------------------------------ */

/* Capacity 1 and 2, blocking hand-offs where most operations find the queue full or empty and
 * sleep. 1+1 and 2+2 through the stress machinery (BLOCK mode), then a ping-pong through two
 * capacity-1 queues, where each round trip needs two wakeups in sequence. */
typedef struct pingpong {
    ct_mpmc *there, *back;
    uint64_t rounds;
    bool starter;
} pingpong;

static void *pingpong_thread(void *arg)
{
    pingpong *pp = arg;
    ct_test_start_barrier();
    void *it;
    for (uint64_t r = 0; r < pp->rounds; r++) {
        if (pp->starter) {
            CT_CHECK(ct_mpmc_push(pp->there, item_of(r)), "ping push");
            CT_CHECK(ct_mpmc_pop(pp->back, &it) && it == item_of(r), "ping pop");
        } else {
            CT_CHECK(ct_mpmc_pop(pp->there, &it) && it == item_of(r), "pong pop");
            CT_CHECK(ct_mpmc_push(pp->back, it), "pong push");
        }
    }
    return NULL;
}

static void test_lost_wakeup(void)
{
    for (size_t cap = 1; cap <= 2; cap++) {
        run_stress(1, 1, cap, MODE_BLOCK, ct_test_scale(200000));
        run_stress(2, 2, cap, MODE_BLOCK, ct_test_scale(200000));
    }
    ct_mpmc *a = ct_mpmc_create(1), *b = ct_mpmc_create(1);
    CT_CHECK(a && b, "create");
    pingpong pp[2] = {{a, b, ct_test_scale(50000), true}, {a, b, ct_test_scale(50000), false}};
    uint64_t t0 = ct_now_ns();
    ct_test_run_threads(2, pingpong_thread, pp, sizeof pp[0]);
    printf("  ping-pong cap 1: %lu round trips  %.1f ms\n", (unsigned long)pp[0].rounds,
           (double)(ct_now_ns() - t0) / 1e6);
    ct_mpmc_destroy(a);
    ct_mpmc_destroy(b);
}

/* ---- close ------------------------------------------------------------------------------ */

typedef struct blocked {
    ct_mpmc *q;
    _Atomic unsigned *started;
    bool push;     /* push (on a full queue) or pop (on an empty one) */
    bool result;
    void *item;
    int err;
} blocked;

static void *blocked_thread(void *arg)
{
    blocked *b = arg;
    atomic_fetch_add(b->started, 1);
    errno = 0;
    if (b->push)
        b->result = ct_mpmc_push(b->q, item_of(7));
    else
        b->result = ct_mpmc_pop(b->q, &b->item);
    b->err = errno;
    return NULL;
}

static void start_blocked(pthread_t *tid, blocked *b)
{
    CT_CHECK(pthread_create(tid, NULL, blocked_thread, b) == 0, "pthread_create");
}

static void test_close(void)
{
    enum { NB = 3 };
    _Atomic unsigned started = 0;
    void *it;

    /* Consumers blocked on an empty queue are all released and return false. */
    ct_mpmc *q = ct_mpmc_create(4);
    CT_CHECK(q != NULL, "create");
    pthread_t tid[NB];
    blocked b[NB];
    for (int i = 0; i < NB; i++) {
        b[i] = (blocked){.q = q, .started = &started, .push = false, .result = true};
        start_blocked(&tid[i], &b[i]);
    }
    while (atomic_load(&started) < NB)
        sched_yield();
    sleep_ms(50); /* most likely asleep by now; correct either way */
    ct_mpmc_close(q);
    for (int i = 0; i < NB; i++) {
        pthread_join(tid[i], NULL);
        CT_CHECK(!b[i].result, "pop %d on a closed empty queue returned true", i);
    }
    CT_CHECK(!ct_mpmc_try_push(q, NULL) && !ct_mpmc_push(q, NULL), "push after close");
    errno = 0;
    CT_CHECK(!ct_mpmc_push_until(q, NULL, ct_now_ns() + 1000000) && errno == EPIPE,
             "push_until after close: errno %d", errno);
    errno = 0;
    CT_CHECK(!ct_mpmc_pop_until(q, &it, ct_now_ns() + 1000000) && errno == EPIPE,
             "pop_until on closed and empty: errno %d", errno);
    ct_mpmc_close(q); /* idempotent */
    ct_mpmc_destroy(q);

    /* Items pushed before close stay poppable, in order; then pop returns false. */
    q = ct_mpmc_create(8);
    CT_CHECK(q != NULL, "create");
    for (uintptr_t i = 0; i < 5; i++)
        CT_CHECK(ct_mpmc_push(q, item_of(i)), "push before close");
    ct_mpmc_close(q);
    CT_CHECK(!ct_mpmc_push(q, item_of(9)), "push after close");
    CT_CHECK(ct_mpmc_size(q) == 5, "size after close: %zu", ct_mpmc_size(q));
    CT_CHECK(ct_mpmc_try_pop(q, &it) && it == item_of(0), "try_pop after close");
    CT_CHECK(ct_mpmc_pop_until(q, &it, ct_now_ns() + 1000000) && it == item_of(1),
             "pop_until after close");
    for (uintptr_t i = 2; i < 5; i++)
        CT_CHECK(ct_mpmc_pop(q, &it) && it == item_of(i), "pop %lu after close",
                 (unsigned long)i);
    CT_CHECK(!ct_mpmc_pop(q, &it) && !ct_mpmc_try_pop(q, &it), "pop on closed and empty");
    ct_mpmc_destroy(q);

    /* A producer blocked on a full queue is released by close; the items stay poppable. */
    q = ct_mpmc_create(2);
    CT_CHECK(q != NULL, "create");
    CT_CHECK(ct_mpmc_try_push(q, item_of(1)) && ct_mpmc_try_push(q, item_of(2)), "fill");
    atomic_store(&started, 0);
    for (int i = 0; i < NB; i++) {
        b[i] = (blocked){.q = q, .started = &started, .push = true, .result = true};
        start_blocked(&tid[i], &b[i]);
    }
    while (atomic_load(&started) < NB)
        sched_yield();
    sleep_ms(50);
    ct_mpmc_close(q);
    for (int i = 0; i < NB; i++) {
        pthread_join(tid[i], NULL);
        CT_CHECK(!b[i].result, "push %d on a closed full queue returned true", i);
    }
    CT_CHECK(ct_mpmc_pop(q, &it) && it == item_of(1), "item 1 after close");
    CT_CHECK(ct_mpmc_pop(q, &it) && it == item_of(2), "item 2 after close");
    CT_CHECK(!ct_mpmc_pop(q, &it), "closed and empty");
    ct_mpmc_destroy(q);

    /* Blocked consumers, one item, then close: exactly one consumer gets it. */
    q = ct_mpmc_create(4);
    CT_CHECK(q != NULL, "create");
    atomic_store(&started, 0);
    for (int i = 0; i < NB; i++) {
        b[i] = (blocked){.q = q, .started = &started, .push = false, .result = false};
        start_blocked(&tid[i], &b[i]);
    }
    while (atomic_load(&started) < NB)
        sched_yield();
    sleep_ms(20);
    CT_CHECK(ct_mpmc_push(q, item_of(42)), "push");
    ct_mpmc_close(q);
    int got = 0;
    for (int i = 0; i < NB; i++) {
        pthread_join(tid[i], NULL);
        if (b[i].result) {
            got++;
            CT_CHECK(b[i].item == item_of(42), "wrong item");
        }
    }
    CT_CHECK(got == 1, "%d consumers got the one item", got);
    ct_mpmc_destroy(q);
}

/* ---- deadlines -------------------------------------------------------------------------- */

static void test_deadlines(void)
{
    const uint64_t wait = 20000000; /* 20 ms */
    void *it;
    ct_mpmc *q = ct_mpmc_create(2);
    CT_CHECK(q != NULL, "create");

    uint64_t deadline = ct_now_ns() + wait;
    errno = 0;
    CT_CHECK(!ct_mpmc_pop_until(q, &it, deadline), "pop_until on empty succeeded");
    uint64_t t = ct_now_ns();
    CT_CHECK(errno == ETIMEDOUT, "pop_until: errno %d, want ETIMEDOUT", errno);
    CT_CHECK(t >= deadline, "pop_until returned %lu ns before its deadline",
             (unsigned long)(deadline - t));

    CT_CHECK(ct_mpmc_try_push(q, NULL) && ct_mpmc_try_push(q, NULL), "fill");
    deadline = ct_now_ns() + wait;
    errno = 0;
    CT_CHECK(!ct_mpmc_push_until(q, item_of(3), deadline), "push_until on full succeeded");
    t = ct_now_ns();
    CT_CHECK(errno == ETIMEDOUT, "push_until: errno %d, want ETIMEDOUT", errno);
    CT_CHECK(t >= deadline, "push_until returned %lu ns before its deadline",
             (unsigned long)(deadline - t));

    /* A deadline already in the past: one attempt, then ETIMEDOUT. */
    errno = 0;
    CT_CHECK(!ct_mpmc_push_until(q, NULL, 1) && errno == ETIMEDOUT, "past deadline, full");

    ct_mpmc_close(q);
    errno = 0;
    CT_CHECK(!ct_mpmc_push_until(q, NULL, ct_now_ns() + wait) && errno == EPIPE,
             "push_until on closed: errno %d", errno);
    CT_CHECK(ct_mpmc_pop_until(q, &it, ct_now_ns() + wait) && it == NULL, "closed, not empty");
    CT_CHECK(ct_mpmc_pop_until(q, &it, ct_now_ns() + wait) && it == NULL, "closed, not empty");
    errno = 0;
    t = ct_now_ns();
    CT_CHECK(!ct_mpmc_pop_until(q, &it, t + wait) && errno == EPIPE,
             "pop_until on closed and empty: errno %d", errno);
    ct_mpmc_destroy(q);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_create();
    test_single_thread();
    printf("test_mpmc: unit tests passed\n");
    test_deadlines();
    printf("test_mpmc: deadlines passed\n");
    test_close();
    printf("test_mpmc: close passed\n");
    test_lost_wakeup();
    printf("test_mpmc: lost-wakeup hammer passed\n");
    test_stress();
    printf("test_mpmc: all passed (chaos seed %lu)\n", (unsigned long)ct_chaos_seed());
    return 0;
}
