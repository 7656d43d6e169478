// ctest-timeout: 300
/* Linearizability of the library's queues, checked on thousands of small recorded histories
 * with the Wing & Gong / Lowe checker (src/harness/linearize.h), and proof that the checker
 * catches what it must:
 *  1. hand-written histories with known answers (linearizable or not: FIFO order, real-time
 *     order, "full" and "empty" answers that need justifying, close, capacity, bad input);
 *  2. deliberately broken queues that look sequential (a LIFO, one that loses every third item,
 *     one whose try_pop says "empty" while it holds an item): the checker must reject some of
 *     their random histories;
 *  3. mpmc and mutex (3 to 4 threads) and spsc (1 producer, 1 consumer), all through the queue
 *     registry, with capacities 1 to 3 requested (the checker uses the REAL capacity, probed
 *     by filling a fresh queue), 2 to 5 operations per thread. Half of the rounds use only
 *     try_push / try_pop; the other half mix in blocking push / pop and a close by the main
 *     thread at a random moment (the close is what ends blocked calls).
 * Times are tickets of one global seq_cst counter taken just before each call and just after
 * it returns. On failure: the class, the capacities, the history, the plan seed (CT_LIN_SEED)
 * and the chaos seed (CT_CHAOS_SEED). CT_LIN_ROUNDS overrides the number of rounds per class.
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

#include "contend/arch.h"
#include "contend/harness.h" /* ct_now_ns */
#include "contend/queue.h"
#include "linearize.h"
#include "test_util.h"

/* ---- 1. hand-written histories ------------------------------------------------------------ */

#define OP(th, k, r, v, i, o)                                                                  \
    {.thread = (th), .kind = CT_LIN_##k, .result = CT_LIN_##r, .value = (v), .invoke = (i),    \
     .response = (o)}
#define CASE(expect, cap, ...)                                                                 \
    do {                                                                                     \
        const ct_lin_op h_[] = {__VA_ARGS__};                                                \
        expect_case(__LINE__, (expect), (cap), h_, sizeof h_ / sizeof h_[0]);                \
    } while (0)

static void expect_case(int line, int expect, size_t cap, const ct_lin_op *h, size_t n)
{
    size_t order[64];
    int got = ct_lin_check_fifo(h, n, cap, order);
    if (got != expect) {
        fprintf(stderr, "hand-written case at line %d (capacity %zu): expected %d, got %d\n",
                line, cap, expect, got);
        ct_lin_print(stderr, h, n);
        exit(1);
    }
    if (got == 1) { /* the witness order must respect real time */
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                CT_CHECK(!(h[order[j]].response < h[order[i]].invoke),
                         "line %d: witness puts op %zu before op %zu, which precedes it", line,
                         order[i], order[j]);
    }
}

static void test_hand_written(void)
{
    CT_CHECK(ct_lin_check_fifo(NULL, 0, 1, NULL) == 1, "the empty history is linearizable");
    /* Sequential FIFO, and its LIFO violation. */
    CASE(1, 4, OP(0, PUSH, OK, 1, 0, 1), OP(0, PUSH, OK, 2, 2, 3), OP(0, POP, OK, 1, 4, 5),
         OP(0, POP, OK, 2, 6, 7));
    CASE(0, 4, OP(0, PUSH, OK, 1, 0, 1), OP(0, PUSH, OK, 2, 2, 3), OP(0, POP, OK, 2, 4, 5));
    /* Overlapping pushes may take effect in either order... */
    CASE(1, 4, OP(0, PUSH, OK, 1, 0, 3), OP(1, PUSH, OK, 2, 1, 2), OP(0, POP, OK, 2, 4, 5),
         OP(0, POP, OK, 1, 6, 7));
    /* ...but a push that completed before the other began goes first. */
    CASE(0, 4, OP(0, PUSH, OK, 1, 0, 1), OP(1, PUSH, OK, 2, 2, 3), OP(0, POP, OK, 2, 4, 5),
         OP(0, POP, OK, 1, 6, 7));
    /* Two overlapping pops of two overlapping pushes: any pairing works. */
    CASE(1, 2, OP(0, TRY_PUSH, OK, 1, 0, 5), OP(1, TRY_PUSH, OK, 2, 1, 6),
         OP(2, TRY_POP, OK, 2, 2, 8), OP(3, TRY_POP, OK, 1, 3, 7));
    /* "empty" needs a justifying instant: not after a completed push with no pop... */
    CASE(0, 4, OP(0, PUSH, OK, 1, 0, 1), OP(1, TRY_POP, EMPTY, 0, 2, 3));
    /* ...fine while the push is still in flight, or after the item left again. */
    CASE(1, 4, OP(0, PUSH, OK, 1, 0, 3), OP(1, TRY_POP, EMPTY, 0, 1, 2));
    CASE(1, 4, OP(0, PUSH, OK, 1, 0, 1), OP(1, TRY_POP, OK, 1, 2, 5),
         OP(2, TRY_POP, EMPTY, 0, 3, 4));
    /* ...but not when it must both be empty and have been popped from: here the item was
     * pushed, and the pop that took it came after the empty answer completed. */
    CASE(0, 4, OP(0, PUSH, OK, 1, 0, 1), OP(2, TRY_POP, EMPTY, 0, 2, 3),
         OP(1, TRY_POP, OK, 1, 4, 5));
    /* "full" needs one too. Capacity 1. */
    CASE(1, 1, OP(0, PUSH, OK, 1, 0, 1), OP(1, TRY_PUSH, FULL, 2, 2, 3));
    CASE(0, 1, OP(0, PUSH, OK, 1, 0, 1), OP(1, POP, OK, 1, 2, 3), OP(1, TRY_PUSH, FULL, 2, 4, 5));
    CASE(1, 1, OP(0, PUSH, OK, 1, 0, 1), OP(1, POP, OK, 1, 2, 5), OP(2, TRY_PUSH, FULL, 2, 3, 4));
    CASE(0, 2, OP(0, PUSH, OK, 1, 0, 1), OP(1, TRY_PUSH, FULL, 2, 2, 3));
    /* Capacity: three items never fit in two, however the pushes overlap. */
    CASE(0, 2, OP(0, TRY_PUSH, OK, 1, 0, 9), OP(1, TRY_PUSH, OK, 2, 1, 9),
         OP(2, TRY_PUSH, OK, 3, 2, 9));
    /* ...unless a pop overlapping them makes room. */
    CASE(1, 2, OP(0, TRY_PUSH, OK, 1, 0, 9), OP(1, TRY_PUSH, OK, 2, 1, 9),
         OP(2, TRY_PUSH, OK, 3, 2, 9), OP(3, TRY_POP, OK, 2, 3, 9));
    /* A value that was never pushed, a value popped twice, a lost item. */
    CASE(0, 4, OP(0, PUSH, OK, 1, 0, 1), OP(1, POP, OK, 7, 2, 3));
    CASE(0, 4, OP(0, PUSH, OK, 1, 0, 1), OP(1, POP, OK, 1, 2, 3), OP(2, POP, OK, 1, 2, 4));
    CASE(0, 4, OP(0, PUSH, OK, 1, 0, 1), OP(0, PUSH, OK, 2, 2, 3), OP(1, POP, OK, 2, 4, 5),
         OP(1, TRY_POP, EMPTY, 0, 6, 7));
    /* Blocking pop waits for an item pushed during the wait: fine. */
    CASE(1, 1, OP(0, POP, OK, 5, 0, 9), OP(1, PUSH, OK, 5, 3, 4));
    /* Close. Items pushed before it stay poppable; pushes after it fail; "closed" from pop
     * only once empty; try_push's false may mean closed. */
    CASE(1, 4, OP(0, PUSH, OK, 1, 0, 1), OP(1, CLOSE, OK, 0, 2, 3), OP(2, POP, OK, 1, 4, 5),
         OP(2, POP, CLOSED, 0, 6, 7), OP(0, PUSH, CLOSED, 2, 8, 9),
         OP(0, TRY_PUSH, FULL, 3, 10, 11));
    CASE(0, 4, OP(0, PUSH, OK, 1, 0, 1), OP(1, CLOSE, OK, 0, 2, 3), OP(2, POP, CLOSED, 0, 4, 5));
    CASE(0, 4, OP(1, CLOSE, OK, 0, 0, 1), OP(0, PUSH, OK, 1, 2, 3));
    CASE(0, 4, OP(0, PUSH, CLOSED, 1, 0, 1));
    CASE(1, 4, OP(0, PUSH, CLOSED, 1, 0, 3), OP(1, CLOSE, OK, 0, 1, 2));
    CASE(0, 4, OP(0, TRY_PUSH, FULL, 1, 0, 1)); /* neither full nor closed */
    /* Search depth: 6 overlapping pushes (6! = 720 orders), then pops in one order only one
     * push order explains: the search must find it; with one value popped twice, it must
     * exhaust every order and answer no. */
    {
        ct_lin_op h[12];
        for (unsigned i = 0; i < 6; i++) {
            h[i] = (ct_lin_op){.thread = i, .kind = CT_LIN_TRY_PUSH, .result = CT_LIN_OK,
                               .value = i, .invoke = i, .response = 100};
            h[6 + i] = (ct_lin_op){.thread = 0, .kind = CT_LIN_POP, .result = CT_LIN_OK,
                                   .value = (i * 5) % 6, .invoke = 200 + 2 * i,
                                   .response = 201 + 2 * i};
        }
        expect_case(__LINE__, 1, 8, h, 12);
        h[11].value = h[10].value;
        expect_case(__LINE__, 0, 8, h, 12);
    }
    /* Bad input. */
    {
        ct_lin_op h[] = {OP(0, PUSH, OK, 1, 5, 4)};
        errno = 0;
        CT_CHECK(ct_lin_check_fifo(h, 1, 4, NULL) == -1 && errno == EINVAL, "response < invoke");
        h[0].response = 6;
        errno = 0;
        CT_CHECK(ct_lin_check_fifo(h, 1, 0, NULL) == -1 && errno == EINVAL, "capacity 0");
        h[0].result = CT_LIN_EMPTY;
        errno = 0;
        CT_CHECK(ct_lin_check_fifo(h, 1, 4, NULL) == -1 && errno == EINVAL, "push -> empty");
        CT_CHECK(ct_lin_check_fifo(NULL, 1, 4, NULL) == -1 && errno == EINVAL, "ops NULL");
    }
}

/* ---- 2. broken queues, sequential-looking (one mutex) ---------------------------------------- */

enum bug { BUG_LIFO, BUG_LOSE, BUG_FALSE_EMPTY };

typedef struct broken {
    pthread_mutex_t mu;
    enum bug bug;
    size_t cap, count, head;
    unsigned long pushes, empty_lies;
    bool closed;
    void *buf[8];
} broken;

static void *broken_create(enum bug bug, size_t capacity)
{
    if (capacity == 0 || capacity > 8) {
        errno = EINVAL;
        return NULL;
    }
    broken *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    pthread_mutex_init(&b->mu, NULL);
    b->bug = bug;
    b->cap = capacity;
    return b;
}
static void *lifo_create(size_t c) { return broken_create(BUG_LIFO, c); }
static void *lose_create(size_t c) { return broken_create(BUG_LOSE, c); }
static void *false_empty_create(size_t c) { return broken_create(BUG_FALSE_EMPTY, c); }

static void broken_destroy(void *q)
{
    broken *b = q;
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* 1 ok, 0 full, -1 closed */
static int broken_push_once(broken *b, void *item)
{
    pthread_mutex_lock(&b->mu);
    int r = b->closed ? -1 : b->count == b->cap ? 0 : 1;
    if (r == 1 && !(b->bug == BUG_LOSE && ++b->pushes % 3 == 0)) /* LOSE: drops every third */
        b->buf[(b->head + b->count++) % b->cap] = item;
    pthread_mutex_unlock(&b->mu);
    return r;
}

/* 1 ok, 0 empty, -1 closed and empty; lie: FALSE_EMPTY may say empty while holding one item */
static int broken_pop_once(broken *b, void **item, bool may_lie)
{
    pthread_mutex_lock(&b->mu);
    int r;
    if (b->count == 0) {
        r = b->closed ? -1 : 0;
    } else if (may_lie && b->bug == BUG_FALSE_EMPTY && b->count == 1 && ++b->empty_lies % 2) {
        r = 0; /* every other time the last item is asked for: "empty" */
    } else {
        r = 1;
        if (b->bug == BUG_LIFO) {
            *item = b->buf[(b->head + b->count - 1) % b->cap];
        } else {
            *item = b->buf[b->head];
            b->head = (b->head + 1) % b->cap;
        }
        b->count--;
    }
    pthread_mutex_unlock(&b->mu);
    return r;
}

static bool broken_try_push(void *q, void *item) { return broken_push_once(q, item) == 1; }
static bool broken_try_pop(void *q, void **item) { return broken_pop_once(q, item, true) == 1; }
static bool broken_push(void *q, void *item)
{
    int r;
    while ((r = broken_push_once(q, item)) == 0)
        sched_yield();
    return r == 1;
}
static bool broken_pop(void *q, void **item)
{
    int r;
    while ((r = broken_pop_once(q, item, false)) == 0)
        sched_yield();
    return r == 1;
}
static void broken_close(void *q)
{
    broken *b = q;
    pthread_mutex_lock(&b->mu);
    b->closed = true;
    pthread_mutex_unlock(&b->mu);
}

static const ct_queue_class broken_classes[] = {
    {"broken-lifo", "pops the newest item", 0, 0, lifo_create, broken_destroy, broken_try_push,
     broken_try_pop, broken_push, broken_pop, broken_close},
    {"broken-lose", "drops every third pushed item", 0, 0, lose_create, broken_destroy,
     broken_try_push, broken_try_pop, broken_push, broken_pop, broken_close},
    {"broken-false-empty", "try_pop says empty every other time one item is left", 0, 0,
     false_empty_create, broken_destroy, broken_try_push, broken_try_pop, broken_push,
     broken_pop, broken_close},
};

/* ---- 3. recorded histories ------------------------------------------------------------------ */

#define MAX_THREADS 4
#define MAX_PER_THREAD 5

typedef struct round_plan {
    unsigned nthreads;
    unsigned nops[MAX_THREADS];
    ct_lin_kind kind[MAX_THREADS][MAX_PER_THREAD];
    unsigned spin[MAX_THREADS][MAX_PER_THREAD]; /* pause iterations before each operation */
    int close_spin;                             /* -1: no close this round */
} round_plan;

static struct {
    const ct_queue_class *cls;
    void *q;
    round_plan plan;
    ct_lin_op rec[MAX_THREADS][MAX_PER_THREAD];
    ct_lin_op close_rec;
    _Atomic uint64_t clock;
    bool quit;
} R;

static pthread_barrier_t round_start, round_end;

static uint64_t tick(void) { return atomic_fetch_add_explicit(&R.clock, 1, memory_order_seq_cst); }

static void spin(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        ct_cpu_relax();
}

static void *worker(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    for (;;) {
        pthread_barrier_wait(&round_start); /* R is written before this, read after */
        if (R.quit)
            return NULL;
        if (t < R.plan.nthreads) {
            const ct_queue_class *cls = R.cls;
            for (unsigned j = 0; j < R.plan.nops[t]; j++) {
                spin(R.plan.spin[t][j]);
                ct_lin_op *op = &R.rec[t][j];
                op->thread = t;
                op->kind = R.plan.kind[t][j];
                op->value = 100 * (t + 1) + j;
                void *item = NULL;
                bool ok = false;
                op->invoke = tick();
                switch (op->kind) {
                case CT_LIN_PUSH: ok = cls->push(R.q, (void *)(uintptr_t)op->value); break;
                case CT_LIN_TRY_PUSH: ok = cls->try_push(R.q, (void *)(uintptr_t)op->value); break;
                case CT_LIN_POP: ok = cls->pop(R.q, &item); break;
                case CT_LIN_TRY_POP: ok = cls->try_pop(R.q, &item); break;
                case CT_LIN_CLOSE: break;
                }
                op->response = tick();
                if (op->kind == CT_LIN_POP || op->kind == CT_LIN_TRY_POP)
                    op->value = ok ? (uint64_t)(uintptr_t)item : 0;
                op->result = ok ? CT_LIN_OK
                             : op->kind == CT_LIN_TRY_PUSH ? CT_LIN_FULL
                             : op->kind == CT_LIN_TRY_POP  ? CT_LIN_EMPTY
                                                           : CT_LIN_CLOSED;
            }
        }
        pthread_barrier_wait(&round_end);
    }
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}
static unsigned rnd_below(unsigned n) { return (unsigned)(rnd() >> 33) % n; }

/* The real capacity: fill a fresh queue with try_push (contend/queue.h: classes may round up). */
static size_t probe_capacity(const ct_queue_class *cls, size_t requested)
{
    void *q = cls->create(requested);
    CT_CHECK(q != NULL, "%s: create(%zu) failed", cls->name, requested);
    size_t n = 0;
    while (n < 64 && cls->try_push(q, (void *)(uintptr_t)n))
        n++;
    cls->destroy(q);
    CT_CHECK(n >= requested && n < 64, "%s: capacity %zu for %zu requested", cls->name, n,
             requested);
    return n;
}

static void make_plan(round_plan *p, bool spsc, bool with_close)
{
    memset(p, 0, sizeof *p);
    p->nthreads = spsc ? 2 : 3 + rnd_below(2);
    for (unsigned t = 0; t < p->nthreads; t++) {
        p->nops[t] = 2 + rnd_below(4);
        for (unsigned j = 0; j < p->nops[t]; j++) {
            bool push = spsc ? t == 0 : rnd_below(2) == 0;
            bool blocking = with_close && rnd_below(2) == 0;
            p->kind[t][j] = push ? (blocking ? CT_LIN_PUSH : CT_LIN_TRY_PUSH)
                                 : (blocking ? CT_LIN_POP : CT_LIN_TRY_POP);
            p->spin[t][j] = rnd_below(4) == 0 ? 0 : rnd_below(200);
        }
    }
    p->close_spin = with_close ? (int)rnd_below(3000) : -1;
}

/* Runs one round; returns the number of recorded operations in ops. */
static size_t run_round(const ct_queue_class *cls, size_t requested, ct_lin_op *ops,
                        bool spsc, bool with_close)
{
    R.cls = cls;
    R.q = cls->create(requested);
    CT_CHECK(R.q != NULL, "%s: create(%zu)", cls->name, requested);
    make_plan(&R.plan, spsc, with_close);
    atomic_store_explicit(&R.clock, 0, memory_order_relaxed);
    pthread_barrier_wait(&round_start);
    if (R.plan.close_spin >= 0) {
        spin((unsigned)R.plan.close_spin);
        R.close_rec = (ct_lin_op){.thread = MAX_THREADS, .kind = CT_LIN_CLOSE,
                                  .result = CT_LIN_OK};
        R.close_rec.invoke = tick();
        cls->close(R.q);
        R.close_rec.response = tick();
    }
    pthread_barrier_wait(&round_end);
    size_t n = 0;
    for (unsigned t = 0; t < R.plan.nthreads; t++)
        for (unsigned j = 0; j < R.plan.nops[t]; j++)
            ops[n++] = R.rec[t][j];
    if (R.plan.close_spin >= 0)
        ops[n++] = R.close_rec;
    cls->destroy(R.q);
    return n;
}

static uint64_t plan_seed;

/* Runs `rounds` histories of cls; returns how many were NOT linearizable. When must_pass, the
 * first such history fails the test with the history and the seeds. */
static unsigned check_class(const ct_queue_class *cls, unsigned rounds, bool must_pass)
{
    bool spsc = cls->max_producers == 1 || cls->max_consumers == 1;
    size_t real[4];
    for (size_t c = 1; c <= 3; c++)
        real[c] = probe_capacity(cls, c);
    ct_lin_op ops[MAX_THREADS * MAX_PER_THREAD + 1];
    unsigned rejected = 0, with_full = 0, with_empty = 0, overlapped = 0;
    for (unsigned r = 0; r < rounds; r++) {
        size_t requested = 1 + rnd_below(3);
        bool with_close = rnd_below(2) == 0;
        size_t n = run_round(cls, requested, ops, spsc, with_close);
        for (size_t i = 0; i < n; i++) {
            with_full += ops[i].result == CT_LIN_FULL;
            with_empty += ops[i].result == CT_LIN_EMPTY;
        }
        bool overlap = false; /* two threads' operations in flight at once */
        for (size_t i = 0; i < n && !overlap; i++)
            for (size_t j = 0; j < n && !overlap; j++)
                overlap = ops[i].thread != ops[j].thread && ops[i].invoke < ops[j].invoke &&
                          ops[j].invoke < ops[i].response;
        overlapped += overlap;
        int v = ct_lin_check_fifo(ops, n, real[requested], NULL);
        CT_CHECK(v >= 0, "%s: checker error %d", cls->name, errno);
        if (v == 0) {
            rejected++;
            if (must_pass) {
                fprintf(stderr,
                        "%s: round %u NOT linearizable (capacity %zu requested, %zu real; "
                        "plan seed CT_LIN_SEED=%llu):\n",
                        cls->name, r, requested, real[requested],
                        (unsigned long long)plan_seed);
                ct_lin_print(stderr, ops, n);
                ct_chaos_report_seed("test_linearizability");
                exit(1);
            }
        }
    }
    printf("%-20s %5u histories (%u with overlapping operations), %u not linearizable; "
           "%u full and %u empty answers\n",
           cls->name, rounds, overlapped, rejected, with_full, with_empty);
    fflush(stdout);
    if (must_pass)
        CT_CHECK(with_full > 0 && with_empty > 0,
                 "%s: no full or no empty answer in %u rounds: the test explores too little",
                 cls->name, rounds);
    return rejected;
}

static unsigned env_unsigned(const char *name, unsigned dflt)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    CT_CHECK(*end == 0 && v > 0 && v < 100000000, "bad %s='%s'", name, s);
    return (unsigned)v;
}

int main(void)
{
    test_hand_written();
    printf("hand-written histories: all answers as expected\n");

    const char *seed_env = getenv("CT_LIN_SEED");
    plan_seed = seed_env && *seed_env ? strtoull(seed_env, NULL, 0) : ct_now_ns();
    plan_seed |= 1;
    rng_state = plan_seed;
    printf("plan seed CT_LIN_SEED=%llu\n", (unsigned long long)plan_seed);

#if defined(CT_SANITIZED)
    unsigned dflt = 5000;
#elif defined(CT_CHAOS_BUILD)
    unsigned dflt = 10000;
#else
    unsigned dflt = 20000;
#endif
    unsigned rounds = env_unsigned("CT_LIN_ROUNDS", dflt);

    CT_CHECK(pthread_barrier_init(&round_start, NULL, MAX_THREADS + 1) == 0, "barrier");
    CT_CHECK(pthread_barrier_init(&round_end, NULL, MAX_THREADS + 1) == 0, "barrier");
    pthread_t tid[MAX_THREADS];
    for (unsigned t = 0; t < MAX_THREADS; t++)
        CT_CHECK(pthread_create(&tid[t], NULL, worker, (void *)(uintptr_t)t) == 0, "create");

    /* The checker must reject broken queues (within a bounded number of histories). */
    for (size_t i = 0; i < sizeof broken_classes / sizeof broken_classes[0]; i++) {
        unsigned rej = check_class(&broken_classes[i], rounds < 400 ? rounds : 400, false);
        CT_CHECK(rej > 0, "%s: the checker accepted every history of a broken queue",
                 broken_classes[i].name);
    }

    const char *names[] = {"mpmc", "mutex", "spsc"};
    for (size_t i = 0; i < 3; i++) {
        const ct_queue_class *cls = ct_queue_class_find(names[i]);
        CT_CHECK(cls != NULL, "queue class %s not registered", names[i]);
        check_class(cls, rounds, true);
    }

    R.quit = true;
    pthread_barrier_wait(&round_start);
    for (unsigned t = 0; t < MAX_THREADS; t++)
        pthread_join(tid[t], NULL);
    pthread_barrier_destroy(&round_start);
    pthread_barrier_destroy(&round_end);
    printf("linearizability: all histories of mpmc, mutex and spsc linearizable\n");
    return 0;
}
