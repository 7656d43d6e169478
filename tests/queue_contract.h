/* queue_contract.h: the ct_queue_class contract (contend/queue.h) as checks any queue class
 * must pass, shared by tests/test_queues.c (the library's classes) and
 * tests/test_peer_queues.c (the peers'): bad capacities, single-thread FIFO (NULL is an item
 * like any other), try_* semantics on full and empty, close semantics, close racing a running
 * producer and consumer, and a stress of (producers, consumers) in {(1,1), (2,2), (1,3), (3,1),
 * (4,4)} (as far as the class's max_producers / max_consumers allow) at capacities 1, 2 and
 * 64, once with try_push/try_pop and once with the blocking push/pop.
 *
 * The stress checks, for every item: popped exactly once (a bitmap per producer, set with an
 * atomic fetch_or: a bit already set is a duplicate, a bit never set is a loss), and popped in
 * its producer's order by every consumer (per consumer and producer, sequence numbers must
 * strictly increase). In blocking mode the last producer to finish closes the queue and the
 * consumers pop until pop() returns false, so "items pushed before close all come out" is
 * checked on every run; a lost wakeup hangs, and the ctest TIMEOUT turns the hang into a
 * failure. In blocking mode producers and consumers also pause now and then (20 us), so that
 * queues that sleep when empty or full really go to sleep on both sides, not only in the
 * chaos build. Items are (producer << 40 | sequence), so producer 0's first item is NULL.
 *
 * Header-only (static functions) because every tests/test_*.c is its own program.
 * ct_queue_contract(c, flags) runs all of it; flags relax what a class documents it does
 * not give (CT_CONTRACT_BLOCK_ROOM: room comes back a block of items at a time, not per pop, so
 * only "an emptied queue takes at least the capacity asked for again" is checked;
 * CT_CONTRACT_PREEMPT_STALL: a thread spins inside the library, without yielding, on another
 * that was preempted mid-operation, so with more threads than CPUs an item can cost a
 * scheduler time slice: the stress points with more threads than CPUs run 1/32 of the items,
 * with the same checks).
 */
#ifndef CONTEND_TEST_QUEUE_CONTRACT_H
#define CONTEND_TEST_QUEUE_CONTRACT_H

#include <errno.h>
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
#include "contend/harness.h" /* ct_now_ns */
#include "contend/queue.h"
#include "test_util.h"

#define CT_CONTRACT_BLOCK_ROOM 1u
#define CT_CONTRACT_PREEMPT_STALL 2u

#define MAX_SIDE 4u
#define SEQ_BITS 40u

static void sleep_us(unsigned us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000L};
    nanosleep(&ts, NULL);
}

static void *item_of(uint64_t producer, uint64_t seq)
{
    return (void *)(uintptr_t)(producer << SEQ_BITS | seq);
}

static bool side_allowed(unsigned max, unsigned n) { return max == 0 || n <= max; }

/* ---- single thread --------------------------------------------------------------------- */

static void test_bad_capacity(const ct_queue_class *c)
{
    errno = 0;
    void *q = c->create(0);
    CT_CHECK(q == NULL && errno == EINVAL, "%s: create(0) = %p, errno %d", c->name, q, errno);
    errno = 0;
    q = c->create(((size_t)1 << 30) + 1);
    CT_CHECK(q == NULL && errno == EINVAL, "%s: create(2^30+1) = %p, errno %d", c->name, q,
             errno);
}

/* Fills q with try_push until it refuses; returns how many went in (items 0, 1, ...; 0 is
 * NULL). The class may round the capacity up, never down. */
static size_t fill(const ct_queue_class *c, void *q, size_t requested)
{
    size_t n = 0;
    while (n < 4096 && c->try_push(q, item_of(0, n)))
        n++;
    CT_CHECK(n >= requested && n < 4096, "%s: capacity %zu took %zu items", c->name, requested,
             n);
    return n;
}

static void expect_pop(const ct_queue_class *c, void *q, bool blocking, uint64_t seq)
{
    void *it = (void *)0x5a5a;
    bool ok = blocking ? c->pop(q, &it) : c->try_pop(q, &it);
    CT_CHECK(ok, "%s: %s failed, expected item %llu", c->name, blocking ? "pop" : "try_pop",
             (unsigned long long)seq);
    CT_CHECK(it == item_of(0, seq), "%s: got %p, expected item %llu (FIFO)", c->name, it,
             (unsigned long long)seq);
}

static void test_single_thread(const ct_queue_class *c, unsigned flags)
{
    void *it;
    void *q = c->create(4);
    CT_CHECK(q != NULL, "%s: create(4): errno %d", c->name, errno);
    CT_CHECK(!c->try_pop(q, &it), "%s: try_pop on a new queue succeeded", c->name);

    /* Full, then empty, in FIFO order, NULL first. */
    size_t cap = fill(c, q, 4);
    CT_CHECK(!c->try_push(q, item_of(0, 999)), "%s: try_push on a full queue", c->name);
    for (size_t i = 0; i < cap; i++)
        expect_pop(c, q, false, i);
    CT_CHECK(!c->try_pop(q, &it), "%s: try_pop on an emptied queue succeeded", c->name);

    /* Many laps around the ring with a varying fill level, blocking and try calls mixed (none
     * of them has to wait). */
    uint64_t in = 0, out = 0;
    for (unsigned round = 0; round < 200; round++) {
        size_t k = 1 + round % cap;
        for (size_t i = 0; i < k; i++) {
            bool ok = round & 1 ? c->push(q, item_of(0, in)) : c->try_push(q, item_of(0, in));
            CT_CHECK(ok, "%s: push %llu into a non-full queue", c->name, (unsigned long long)in);
            in++;
        }
        for (size_t i = 0; i < k; i++)
            expect_pop(c, q, round % 3 == 0, out++);
    }
    CT_CHECK(!c->try_pop(q, &it), "%s: try_pop on an empty queue succeeded", c->name);

    /* One slot freed on a full queue: exactly one try_push fits again (with block-granular
     * room: an emptied queue takes at least the capacity asked for again). */
    if (!(flags & CT_CONTRACT_BLOCK_ROOM)) {
        fill(c, q, 4);
        expect_pop(c, q, false, 0);
        CT_CHECK(c->try_push(q, item_of(0, 777)), "%s: try_push after a pop freed a slot",
                 c->name);
        CT_CHECK(!c->try_push(q, item_of(0, 778)), "%s: try_push past capacity", c->name);
        for (size_t i = 1; i < cap; i++)
            expect_pop(c, q, false, i);
        CT_CHECK(c->try_pop(q, &it) && it == item_of(0, 777), "%s: last item", c->name);
    } else {
        size_t again = fill(c, q, 4); /* checks that at least the capacity asked for fits */
        for (size_t i = 0; i < again; i++)
            expect_pop(c, q, false, i);
        CT_CHECK(!c->try_pop(q, &it), "%s: try_pop on an emptied queue succeeded", c->name);
    }

    /* Close: pushes fail (even blocking ones: no wait), items stay poppable, then pops fail. */
    CT_CHECK(c->try_push(q, item_of(0, 0)) && c->push(q, item_of(0, 1)), "%s: push", c->name);
    c->close(q);
    c->close(q); /* idempotent */
    CT_CHECK(!c->try_push(q, item_of(0, 2)), "%s: try_push after close succeeded", c->name);
    CT_CHECK(!c->push(q, item_of(0, 2)), "%s: push after close succeeded", c->name);
    expect_pop(c, q, false, 0);
    expect_pop(c, q, true, 1);
    CT_CHECK(!c->pop(q, &it), "%s: pop on a closed empty queue succeeded", c->name);
    CT_CHECK(!c->try_pop(q, &it), "%s: try_pop on a closed empty queue succeeded", c->name);
    c->destroy(q);
}

/* ---- stress ---------------------------------------------------------------------------- */

typedef struct stress {
    const ct_queue_class *cls;
    void *q;
    bool blocking;
    unsigned producers, consumers;
    uint64_t per_producer, words; /* items per producer; bitmap words per producer */
    _Atomic uint64_t *seen;       /* producers * words bits: item popped */
    CT_CACHE_ALIGNED _Atomic uint64_t popped;
    CT_CACHE_ALIGNED _Atomic unsigned producers_done;
} stress;

typedef struct role {
    CT_CACHE_ALIGNED stress *st; /* each role on its own line */
    unsigned id;
    bool producer;
} role;

static void *producer_main(stress *st, unsigned id)
{
    const ct_queue_class *c = st->cls;
    ct_test_start_barrier();
    for (uint64_t seq = 0; seq < st->per_producer; seq++) {
        void *it = item_of(id, seq);
        if (st->blocking) {
            if (seq % 101 == 100)
                sleep_us(20); /* now and then an empty queue: consumers go to sleep */
            CT_CHECK(c->push(st->q, it), "%s: push failed on an open queue", c->name);
        } else {
            for (unsigned fails = 0; !c->try_push(st->q, it); fails++)
                if (fails % 16 == 15)
                    sched_yield(); /* 2 cores, up to 8 threads: let a consumer run */
                else
                    ct_cpu_relax();
        }
    }
    /* acq_rel: the closer is the last to finish, after every producer's last push. */
    if (atomic_fetch_add_explicit(&st->producers_done, 1, memory_order_acq_rel) + 1 ==
        st->producers)
        c->close(st->q);
    return NULL;
}

static void *consumer_main(stress *st, unsigned id)
{
    const ct_queue_class *c = st->cls;
    uint64_t total = st->per_producer * st->producers;
    uint64_t last[MAX_SIDE]; /* per producer: the last sequence this consumer saw, + 1 */
    memset(last, 0, sizeof last);
    ct_test_start_barrier();
    for (unsigned tick = 0;;) {
        void *it;
        if (st->blocking) {
            if (++tick % 89 == 0)
                sleep_us(20); /* now and then a full queue: producers go to sleep */
            if (!c->pop(st->q, &it))
                break; /* closed and empty */
        } else if (!c->try_pop(st->q, &it)) {
            /* Relaxed: only decides when to stop; the bitmap check after the join is exact. */
            if (atomic_load_explicit(&st->popped, memory_order_relaxed) >= total)
                break;
            if (++tick % 16 == 0)
                sched_yield();
            else
                ct_cpu_relax();
            continue;
        }
        uint64_t v = (uint64_t)(uintptr_t)it;
        uint64_t p = v >> SEQ_BITS, seq = v & (((uint64_t)1 << SEQ_BITS) - 1);
        CT_CHECK(p < st->producers && seq < st->per_producer, "%s: consumer %u got a bogus item %p",
                 c->name, id, it);
        CT_CHECK(seq + 1 > last[p], "%s: consumer %u saw producer %llu's item %llu after %llu",
                 c->name, id, (unsigned long long)p, (unsigned long long)seq,
                 (unsigned long long)(last[p] - 1));
        last[p] = seq + 1;
        uint64_t bit = (uint64_t)1 << (seq % 64);
        /* Relaxed: atomicity is all the duplicate check needs. */
        uint64_t old = atomic_fetch_or_explicit(&st->seen[p * st->words + seq / 64], bit,
                                                memory_order_relaxed);
        CT_CHECK(!(old & bit), "%s: producer %llu's item %llu popped twice", c->name,
                 (unsigned long long)p, (unsigned long long)seq);
        atomic_fetch_add_explicit(&st->popped, 1, memory_order_relaxed);
    }
    return NULL;
}

static void *role_main(void *arg)
{
    role *r = arg;
    return r->producer ? producer_main(r->st, r->id) : consumer_main(r->st, r->id);
}

static void run_stress(const ct_queue_class *c, unsigned producers, unsigned consumers,
                       size_t capacity, bool blocking, uint64_t total)
{
    stress *st = aligned_alloc(CT_CACHE_LINE, (sizeof *st + CT_CACHE_LINE - 1) / CT_CACHE_LINE *
                                                   CT_CACHE_LINE);
    CT_CHECK(st != NULL, "out of memory");
    memset(st, 0, sizeof *st);
    st->cls = c;
    st->blocking = blocking;
    st->producers = producers;
    st->consumers = consumers;
    st->per_producer = total / producers;
    st->words = (st->per_producer + 63) / 64;
    st->seen = calloc(producers * st->words, sizeof *st->seen);
    CT_CHECK(st->seen != NULL, "out of memory");
    st->q = c->create(capacity);
    CT_CHECK(st->q != NULL, "%s: create(%zu): errno %d", c->name, capacity, errno);

    unsigned n = producers + consumers;
    role *roles = aligned_alloc(CT_CACHE_LINE, n * sizeof *roles);
    CT_CHECK(roles != NULL, "out of memory");
    memset(roles, 0, n * sizeof *roles);
    for (unsigned i = 0; i < n; i++) {
        roles[i].st = st;
        roles[i].producer = i < producers;
        roles[i].id = i < producers ? i : i - producers;
    }
    ct_test_run_threads(n, role_main, roles, sizeof *roles);

    uint64_t popped = atomic_load_explicit(&st->popped, memory_order_relaxed);
    CT_CHECK(popped == st->per_producer * producers,
             "%s %uP/%uC cap %zu %s: popped %llu of %llu", c->name, producers, consumers,
             capacity, blocking ? "blocking" : "try", (unsigned long long)popped,
             (unsigned long long)(st->per_producer * producers));
    for (unsigned p = 0; p < producers; p++)
        for (uint64_t s = 0; s < st->per_producer; s++)
            CT_CHECK(atomic_load_explicit(&st->seen[p * st->words + s / 64],
                                          memory_order_relaxed) >> (s % 64) & 1,
                     "%s: producer %u's item %llu lost", c->name, p, (unsigned long long)s);
    void *it;
    CT_CHECK(!c->try_pop(st->q, &it), "%s: queue not empty after the run", c->name);
    c->destroy(st->q);
    free(roles);
    free(st->seen);
    free(st);
}

static void test_stress(const ct_queue_class *c, unsigned flags)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    static const unsigned shapes[][2] = {{1, 1}, {2, 2}, {1, 3}, {3, 1}, {4, 4}};
    static const size_t capacities[] = {1, 2, 64};
    /* Items per (shape, capacity, mode) point in a normal build. Fewer at capacities 1 and 2:
     * there a blocking run can cost a sleep/wake round trip per item (the mutex queue does,
     * with several threads per core), and that is what bounds the file's running time. */
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        unsigned p = shapes[s][0], k = shapes[s][1];
        if (!side_allowed(c->max_producers, p) || !side_allowed(c->max_consumers, k))
            continue;
        for (size_t i = 0; i < sizeof capacities / sizeof capacities[0]; i++) {
            uint64_t total = ct_test_scale(capacities[i] < 64 ? 16000 : 96000);
            if ((flags & CT_CONTRACT_PREEMPT_STALL) && (long)(p + k) > cpus)
                total = total / 32 > p * k ? total / 32 : p * k;
            run_stress(c, p, k, capacities[i], false, total);
            run_stress(c, p, k, capacities[i], true, total);
        }
    }
}

/* ---- close wakes waiters ----------------------------------------------------------------- */

typedef struct closer_arg {
    CT_CACHE_ALIGNED const ct_queue_class *cls;
    void *q;
    bool closer; /* else: a waiter */
    bool push;   /* waiters: push (queue full) or pop (queue empty) */
    _Atomic unsigned *released;
} closer_arg;

static void *close_main(void *arg)
{
    closer_arg *a = arg;
    ct_test_start_barrier();
    if (a->closer) {
        sleep_us(30000); /* long enough for the waiters to be asleep in push/pop */
        a->cls->close(a->q);
        return NULL;
    }
    void *it;
    bool ok = a->push ? a->cls->push(a->q, item_of(1, 1)) : a->cls->pop(a->q, &it);
    CT_CHECK(!ok, "%s: blocked %s returned true after close", a->cls->name,
             a->push ? "push" : "pop");
    atomic_fetch_add_explicit(a->released, 1, memory_order_relaxed);
    return NULL;
}

static void run_close(const ct_queue_class *c, bool push, unsigned waiters)
{
    void *q = c->create(2);
    CT_CHECK(q != NULL, "%s: create(2)", c->name);
    size_t n = push ? fill(c, q, 2) : 0;
    _Atomic unsigned released = 0;
    closer_arg args[MAX_SIDE + 1];
    memset(args, 0, sizeof args);
    for (unsigned i = 0; i <= waiters; i++) {
        args[i].cls = c;
        args[i].q = q;
        args[i].closer = i == waiters;
        args[i].push = push;
        args[i].released = &released;
    }
    ct_test_run_threads(waiters + 1, close_main, args, sizeof args[0]);
    CT_CHECK(atomic_load(&released) == waiters, "%s: close released %u of %u", c->name,
             atomic_load(&released), waiters);
    /* Everything pushed before close comes out, in order, and nothing else. */
    for (size_t i = 0; i < n; i++)
        expect_pop(c, q, i & 1, i);
    void *it;
    CT_CHECK(!c->try_pop(q, &it) && !c->pop(q, &it), "%s: extra item after close", c->name);
    c->destroy(q);
}

static void test_close(const ct_queue_class *c)
{
    unsigned np = c->max_producers ? c->max_producers : 3;
    unsigned nc = c->max_consumers ? c->max_consumers : 3;
    run_close(c, false, nc < 3 ? nc : 3);
    run_close(c, true, np < 3 ? np : 3);
}

/* ---- close racing a running producer and consumer ---------------------------------------- */

/* One producer pushes 0, 1, 2, ... until push() fails (every other item first tries try_push),
 * one consumer pops until pop() fails (every other item first tries try_pop), and a third
 * thread closes the queue at a varying moment. Every push that returned true must come out,
 * in order, before the consumer's pop reports closed and empty: a push racing close either got
 * its item in or failed. Capacity 2, so both sides often find the ring full or empty and sleep. */
typedef struct race_arg {
    CT_CACHE_ALIGNED const ct_queue_class *cls;
    void *q;
    int role;          /* 0 producer, 1 consumer, 2 closer */
    unsigned delay_us; /* closer: before close */
    uint64_t count;    /* producer: successful pushes; consumer: items popped */
} race_arg;

static void *race_main(void *arg)
{
    race_arg *a = arg;
    ct_test_start_barrier();
    if (a->role == 2) {
        sleep_us(a->delay_us);
        a->cls->close(a->q);
    } else if (a->role == 0) {
        for (uint64_t i = 0;; i++) {
            bool ok;
            /* The class API promises no errno: on a try failure (full or closed) let the
             * blocking call decide. */
            ok = (i & 1) && a->cls->try_push(a->q, item_of(0, a->count));
            if (!ok)
                ok = a->cls->push(a->q, item_of(0, a->count));
            if (!ok)
                break;
            a->count++;
        }
        void *it = NULL;
        CT_CHECK(!a->cls->push(a->q, it) && !a->cls->try_push(a->q, it),
                 "%s: push succeeded after a push failed on close", a->cls->name);
    } else {
        for (uint64_t i = 0;; i++) {
            void *it;
            bool ok;
            ok = (i & 1) && a->cls->try_pop(a->q, &it);
            if (!ok)
                ok = a->cls->pop(a->q, &it);
            if (!ok)
                break;
            CT_CHECK(it == item_of(0, a->count), "%s: close race: popped %p, expected item %llu",
                     a->cls->name, it, (unsigned long long)a->count);
            a->count++;
        }
    }
    return NULL;
}

static void test_close_race(const ct_queue_class *c)
{
    for (unsigned round = 0; round < 60; round++) {
        void *q = c->create(2);
        CT_CHECK(q != NULL, "%s: create(2)", c->name);
        race_arg args[3];
        memset(args, 0, sizeof args);
        for (int i = 0; i < 3; i++) {
            args[i].cls = c;
            args[i].q = q;
            args[i].role = i;
            args[i].delay_us = round * 37u % 700u;
        }
        ct_test_run_threads(3, race_main, args, sizeof args[0]);
        CT_CHECK(args[0].count == args[1].count,
                 "%s: close race round %u: %llu pushed, %llu popped", c->name, round,
                 (unsigned long long)args[0].count, (unsigned long long)args[1].count);
        c->destroy(q);
    }
}

/* Every check above on class c, with the relaxations in flags. */
static void ct_queue_contract(const ct_queue_class *c, unsigned flags)
{
    test_bad_capacity(c);
    test_single_thread(c, flags);
    test_close(c);
    test_close_race(c);
    test_stress(c, flags);
}

#endif
