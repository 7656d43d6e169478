// ctest-timeout: 300
/* The pipeline (contend/pipeline.h): configuration checks, each admission policy's semantics
 * with a gated worker (so the test decides exactly when the input is full), then the stress
 * invariant under contention for every policy, with and without cancel:
 *  - every item submitted and not returned CLOSED ends exactly once, in the sink or in on_drop
 *    (a bitmap set with atomic fetch_or: a second ending finds its bit already set);
 *  - after join, per stage: offered = admitted + rejected + refused, admitted = completed +
 *    evicted + codel_dropped + cancelled, offered(i+1) = completed(i), sink = completed(last);
 *  - with one worker per stage, items of one producer reach the sink in submission order.
 * Blocking paths (block waits, gated workers) run under the ctest TIMEOUT: a lost wakeup
 * hangs and fails.
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

#include "contend/harness.h" /* ct_now_ns */
#include "contend/pipeline.h"
#include "test_util.h"

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- configuration --------------------------------------------------------------------- */

static ct_pipeline_config one_stage(ct_stage_config *sc)
{
    return (ct_pipeline_config){.nstages = 1, .stages = sc};
}

static void expect_bad(const ct_pipeline_config *cfg, const char *what, const char *needle)
{
    char buf[160];
    const char *why = ct_pipeline_config_error(cfg, buf, sizeof buf);
    CT_CHECK(why != NULL, "%s accepted by config_error", what);
    CT_CHECK(strstr(why, needle) != NULL, "%s: message '%s' lacks '%s'", what, why, needle);
    errno = 0;
    ct_pipeline *p = ct_pipeline_create(cfg);
    CT_CHECK(p == NULL && errno == EINVAL, "%s: create gave %p errno %d", what, (void *)p, errno);
}

static void test_config(void)
{
    ct_policy pol;
    for (int i = 0; i < CT_POLICY_COUNT; i++) {
        const char *n = ct_policy_name((ct_policy)i);
        CT_CHECK(n && ct_policy_parse(n, &pol) == 0 && pol == (ct_policy)i, "policy %d", i);
    }
    errno = 0;
    CT_CHECK(ct_policy_parse("lifo", &pol) == -1 && errno == EINVAL, "parse lifo");
    CT_CHECK(ct_policy_parse(NULL, &pol) == -1, "parse NULL");
    CT_CHECK(ct_policy_name((ct_policy)99) == NULL, "name of 99");

    ct_stage_config sc = {.policy = CT_POLICY_BLOCK, .capacity = 4, .workers = 1};
    ct_pipeline_config cfg = one_stage(&sc);
    CT_CHECK(ct_pipeline_config_error(&cfg, NULL, 0) == NULL, "valid config rejected");
    expect_bad(NULL, "NULL config", "no configuration");
    cfg.nstages = 0;
    expect_bad(&cfg, "0 stages", "0 stages");
    cfg.nstages = CT_PIPELINE_MAX_STAGES + 1;
    expect_bad(&cfg, "too many stages", "stages");
    cfg = one_stage(NULL);
    expect_bad(&cfg, "NULL stages", "no stage");
    cfg = one_stage(&sc);
    sc.workers = 0;
    expect_bad(&cfg, "0 workers", "0 workers");
    sc.workers = 1;
    for (int i = CT_POLICY_BLOCK; i < CT_POLICY_COUNT; i++) {
        sc.policy = (ct_policy)i;
        sc.capacity = 0;
        expect_bad(&cfg, "capacity 0", "capacity 0");
        sc.capacity = CT_PIPELINE_MAX_CAPACITY + 1;
        expect_bad(&cfg, "capacity too large", "capacity");
    }
    sc.policy = CT_POLICY_UNBOUNDED;
    sc.capacity = 8;
    expect_bad(&cfg, "unbounded with capacity", "unbounded");
    sc.capacity = 4;
    sc.policy = (ct_policy)99;
    expect_bad(&cfg, "unknown policy", "unknown policy");
    sc.policy = CT_POLICY_BLOCK;
    sc.codel_target_ns = 1000;
    expect_bad(&cfg, "codel params on block", "CoDel");
    sc.policy = CT_POLICY_CODEL;
    sc.codel_target_ns = 10000000;
    sc.codel_interval_ns = 5000000;
    expect_bad(&cfg, "target >= interval", "below interval");
    ct_stage_config two[2] = {{.policy = CT_POLICY_BLOCK, .capacity = 2, .workers = 1},
                              {.policy = CT_POLICY_DROP_OLDEST, .capacity = 2, .workers = 0}};
    ct_pipeline_config c2 = {.nstages = 2, .stages = two};
    expect_bad(&c2, "stage 2 with 0 workers", "stage 2");
    CT_CHECK(ct_pipeline_stats(NULL, 0, &(ct_stage_stats){0}) == -1, "stats(NULL)");
    ct_pipeline_destroy(NULL);
}

/* ---- semantics with a gated worker ------------------------------------------------------- */

typedef struct gate {
    _Atomic int open;       /* the worker may finish its current item */
    _Atomic int entered;    /* items the worker has started */
    _Atomic uint64_t first_drop_ns;
    pthread_mutex_t mu;
    uintptr_t sunk[256], dropped[256];
    unsigned nsunk, ndropped;
    ct_drop_reason reasons[256];
    uint64_t process_ns;    /* extra time per item after the gate */
} gate;

static void *gated_process(void *arg, void *item)
{
    gate *g = arg;
    atomic_fetch_add(&g->entered, 1);
    while (!atomic_load(&g->open))
        sched_yield();
    if (g->process_ns)
        sleep_ms((unsigned)(g->process_ns / 1000000));
    return item;
}

static void gate_sink(void *arg, void *item)
{
    gate *g = arg;
    pthread_mutex_lock(&g->mu);
    if (g->nsunk < 256)
        g->sunk[g->nsunk] = (uintptr_t)item;
    g->nsunk++;
    pthread_mutex_unlock(&g->mu);
}

static void gate_drop(void *arg, void *item, unsigned stage, ct_drop_reason why)
{
    gate *g = arg;
    (void)stage;
    uint64_t zero = 0;
    atomic_compare_exchange_strong(&g->first_drop_ns, &zero, ct_now_ns());
    pthread_mutex_lock(&g->mu);
    if (g->ndropped < 256) {
        g->dropped[g->ndropped] = (uintptr_t)item;
        g->reasons[g->ndropped] = why;
    }
    g->ndropped++;
    pthread_mutex_unlock(&g->mu);
}

static ct_pipeline *gated_pipeline(gate *g, ct_stage_config *sc)
{
    memset(g, 0, sizeof *g);
    pthread_mutex_init(&g->mu, NULL);
    sc->workers = 1;
    sc->process = gated_process;
    sc->arg = g;
    ct_pipeline_config cfg = {.nstages = 1, .stages = sc, .sink = gate_sink, .sink_arg = g,
                              .on_drop = gate_drop, .drop_arg = g};
    ct_pipeline *p = ct_pipeline_create(&cfg);
    CT_CHECK(p != NULL, "create: errno %d", errno);
    return p;
}

/* Submit item 0 and wait until the worker holds it in process(): the input is then empty. */
static void hold_first(ct_pipeline *p, gate *g)
{
    CT_CHECK(ct_pipeline_submit(p, (void *)(uintptr_t)0) == CT_SUBMIT_ADMITTED, "submit 0");
    while (atomic_load(&g->entered) == 0)
        sched_yield();
}

typedef struct blocked_submit {
    ct_pipeline *p;
    uintptr_t item;
    _Atomic int done;
    ct_submit_result r;
} blocked_submit;

static void *submit_thread(void *arg)
{
    blocked_submit *b = arg;
    b->r = ct_pipeline_submit(b->p, (void *)b->item);
    atomic_store(&b->done, 1);
    return NULL;
}

static void test_block_waits(void)
{
    gate g;
    ct_stage_config sc = {.policy = CT_POLICY_BLOCK, .capacity = 2};
    ct_pipeline *p = gated_pipeline(&g, &sc);
    hold_first(p, &g);
    CT_CHECK(ct_pipeline_submit(p, (void *)1) == CT_SUBMIT_ADMITTED, "submit 1");
    CT_CHECK(ct_pipeline_submit(p, (void *)2) == CT_SUBMIT_ADMITTED, "submit 2");
    blocked_submit b = {.p = p, .item = 3};
    pthread_t t;
    CT_CHECK(pthread_create(&t, NULL, submit_thread, &b) == 0, "thread");
    sleep_ms(50);
    CT_CHECK(!atomic_load(&b.done), "submit to a full block input returned (%d)", b.r);
    ct_stage_stats st;
    ct_pipeline_stats(p, 0, &st);
    CT_CHECK(st.depth == 2 && st.capacity == 2 && st.dropped == 0, "depth %llu cap %zu",
             (unsigned long long)st.depth, st.capacity);
    atomic_store(&g.open, 1);
    pthread_join(t, NULL);
    CT_CHECK(b.r == CT_SUBMIT_ADMITTED, "blocked submit gave %d", b.r);
    ct_pipeline_join(p);
    CT_CHECK(g.nsunk == 4 && g.ndropped == 0, "sunk %u dropped %u", g.nsunk, g.ndropped);
    for (unsigned i = 0; i < 4; i++)
        CT_CHECK(g.sunk[i] == i, "order: position %u holds %lu", i, (unsigned long)g.sunk[i]);
    CT_CHECK(ct_pipeline_submit(p, (void *)9) == CT_SUBMIT_CLOSED, "submit after join");
    ct_pipeline_destroy(p);

    /* Cancel releases a submit blocked on a full input: CLOSED, the item not taken. */
    p = gated_pipeline(&g, &sc);
    hold_first(p, &g);
    ct_pipeline_submit(p, (void *)1);
    ct_pipeline_submit(p, (void *)2);
    blocked_submit b2 = {.p = p, .item = 3};
    CT_CHECK(pthread_create(&t, NULL, submit_thread, &b2) == 0, "thread");
    sleep_ms(20);
    ct_pipeline_cancel(p);
    pthread_join(t, NULL);
    CT_CHECK(b2.r == CT_SUBMIT_CLOSED, "cancelled blocked submit gave %d", b2.r);
    atomic_store(&g.open, 1);
    ct_pipeline_join(p);
    ct_pipeline_stats(p, 0, &st);
    /* Item 0 was in process() at cancel: completed; 1 and 2 cancelled. */
    CT_CHECK(st.completed == 1 && st.cancelled == 2 && g.nsunk == 1 && g.ndropped == 2,
             "completed %llu cancelled %llu sunk %u dropped %u",
             (unsigned long long)st.completed, (unsigned long long)st.cancelled, g.nsunk,
             g.ndropped);
    CT_CHECK(g.reasons[0] == CT_DROP_CANCELLED && g.reasons[1] == CT_DROP_CANCELLED, "reasons");
    ct_pipeline_destroy(p);
}

static void test_drop_newest(void)
{
    gate g;
    ct_stage_config sc = {.policy = CT_POLICY_DROP_NEWEST, .capacity = 2};
    ct_pipeline *p = gated_pipeline(&g, &sc);
    hold_first(p, &g);
    CT_CHECK(ct_pipeline_submit(p, (void *)1) == CT_SUBMIT_ADMITTED, "submit 1");
    CT_CHECK(ct_pipeline_submit(p, (void *)2) == CT_SUBMIT_ADMITTED, "submit 2");
    for (uintptr_t i = 3; i < 10; i++)
        CT_CHECK(ct_pipeline_submit(p, (void *)i) == CT_SUBMIT_DROPPED, "submit %lu",
                 (unsigned long)i);
    ct_stage_stats st;
    ct_pipeline_stats(p, 0, &st);
    CT_CHECK(st.rejected == 7 && st.dropped == 7 && st.admitted == 3 && st.offered == 10,
             "rejected %llu admitted %llu", (unsigned long long)st.rejected,
             (unsigned long long)st.admitted);
    CT_CHECK(g.ndropped == 7, "on_drop called %u times", g.ndropped);
    for (unsigned i = 0; i < 7; i++)
        CT_CHECK(g.dropped[i] == i + 3 && g.reasons[i] == CT_DROP_REJECTED, "drop %u: %lu", i,
                 (unsigned long)g.dropped[i]);
    atomic_store(&g.open, 1);
    ct_pipeline_join(p);
    CT_CHECK(g.nsunk == 3 && g.sunk[0] == 0 && g.sunk[1] == 1 && g.sunk[2] == 2, "sunk %u",
             g.nsunk);
    ct_pipeline_destroy(p);
}

static void test_drop_oldest(void)
{
    gate g;
    ct_stage_config sc = {.policy = CT_POLICY_DROP_OLDEST, .capacity = 2};
    ct_pipeline *p = gated_pipeline(&g, &sc);
    hold_first(p, &g);
    for (uintptr_t i = 1; i < 10; i++)
        CT_CHECK(ct_pipeline_submit(p, (void *)i) == CT_SUBMIT_ADMITTED, "submit %lu",
                 (unsigned long)i);
    ct_stage_stats st;
    ct_pipeline_stats(p, 0, &st);
    CT_CHECK(st.evicted == 7 && st.depth == 2 && st.admitted == 10, "evicted %llu depth %llu",
             (unsigned long long)st.evicted, (unsigned long long)st.depth);
    /* The oldest went first: 1, 2, ..., 7 evicted in that order; 8 and 9 remain. */
    CT_CHECK(g.ndropped == 7, "on_drop called %u times", g.ndropped);
    for (unsigned i = 0; i < 7; i++)
        CT_CHECK(g.dropped[i] == i + 1 && g.reasons[i] == CT_DROP_EVICTED, "evict %u: %lu", i,
                 (unsigned long)g.dropped[i]);
    atomic_store(&g.open, 1);
    ct_pipeline_join(p);
    CT_CHECK(g.nsunk == 3 && g.sunk[0] == 0 && g.sunk[1] == 8 && g.sunk[2] == 9,
             "sunk %u: %lu %lu %lu", g.nsunk, (unsigned long)g.sunk[0],
             (unsigned long)g.sunk[1], (unsigned long)g.sunk[2]);
    ct_pipeline_destroy(p);
}

static void test_codel(void)
{
    /* 1. A queue that never holds more than the item being popped never drops, whatever the
     *    clock says (the "last item" rule): closed loop, one item in flight. */
    gate g;
    ct_stage_config sc = {.policy = CT_POLICY_CODEL, .capacity = 64,
                          .codel_target_ns = 1, .codel_interval_ns = 2};
    ct_pipeline *p = gated_pipeline(&g, &sc);
    atomic_store(&g.open, 1);
    for (uintptr_t i = 0; i < 50; i++) {
        CT_CHECK(ct_pipeline_submit(p, (void *)i) == CT_SUBMIT_ADMITTED, "submit %lu",
                 (unsigned long)i);
        while (atomic_load(&g.entered) <= (int)i)
            sched_yield();
    }
    ct_pipeline_join(p);
    CT_CHECK(g.ndropped == 0 && g.nsunk == 50, "closed loop: %u dropped", g.ndropped);
    ct_pipeline_destroy(p);

    /* 2. A standing queue: every item waits far above target. No drop may happen before the
     *    sojourn has stayed above target for an interval, counted from the first dequeue that
     *    saw it (which is after the gate opens); then drops follow the control law. */
    const uint64_t target = 2000000, interval = 40000000; /* 2 ms, 40 ms */
    ct_stage_config sc2 = {.policy = CT_POLICY_CODEL, .capacity = 256,
                           .codel_target_ns = target, .codel_interval_ns = interval};
    p = gated_pipeline(&g, &sc2);
    g.process_ns = 1000000; /* 1 ms per item: 200 items are 200 ms of work */
    hold_first(p, &g);
    for (uintptr_t i = 1; i <= 200; i++)
        CT_CHECK(ct_pipeline_submit(p, (void *)i) == CT_SUBMIT_ADMITTED, "submit %lu",
                 (unsigned long)i);
    sleep_ms(10); /* every queued item is now above target */
    uint64_t opened = ct_now_ns();
    atomic_store(&g.open, 1);
    ct_pipeline_join(p);
    uint64_t ended = ct_now_ns();
    ct_stage_stats st;
    ct_pipeline_stats(p, 0, &st);
    uint64_t first = atomic_load(&g.first_drop_ns);
    CT_CHECK(st.codel_dropped > 0 && first != 0, "a standing queue of 200 ms never dropped");
    CT_CHECK(first - opened >= interval, "first drop %.1f ms after the first dequeue (< %.0f)",
             (double)(first - opened) / 1e6, (double)interval / 1e6);
    CT_CHECK(st.codel_dropped + st.completed == 201 && g.nsunk + g.ndropped == 201,
             "accounting: %llu + %llu", (unsigned long long)st.codel_dropped,
             (unsigned long long)st.completed);
    /* Before the first drop the items came out in order and complete (items 0..k-1), and
     * the first item dropped is the head that followed them. */
    unsigned k = 0;
    while (k < g.nsunk && k < 256 && g.sunk[k] == k)
        k++;
    CT_CHECK(k >= 2 && g.dropped[0] == k, "first drop is item %lu after %u in-order items",
             (unsigned long)g.dropped[0], k);
    for (unsigned i = 0; i < g.ndropped && i < 256; i++)
        CT_CHECK(g.reasons[i] == CT_DROP_CODEL, "reason %d", g.reasons[i]);
    /* The control law spaces the n-th drop interval/sqrt(n) after the previous one, so n
     * drops take at least about 2 * interval * (sqrt(n) - 1): bound n by the time elapsed. */
    double el = (double)(ended - first), iv = (double)interval;
    double max_drops = (el / (2.0 * iv) + 1.0) * (el / (2.0 * iv) + 1.0) + 2.0;
    CT_CHECK((double)st.codel_dropped <= max_drops,
             "%llu drops in %.0f ms: faster than the control law allows (%.0f)",
             (unsigned long long)st.codel_dropped, el / 1e6, max_drops);
    ct_pipeline_destroy(p);

    /* 3. The hard limit rejects. */
    ct_stage_config sc3 = {.policy = CT_POLICY_CODEL, .capacity = 2};
    p = gated_pipeline(&g, &sc3);
    hold_first(p, &g);
    ct_pipeline_submit(p, (void *)1);
    ct_pipeline_submit(p, (void *)2);
    CT_CHECK(ct_pipeline_submit(p, (void *)3) == CT_SUBMIT_DROPPED, "codel over its limit");
    atomic_store(&g.open, 1);
    ct_pipeline_destroy(p);
}

/* ---- stress: nothing lost or duplicated ------------------------------------------------- */

#define PRODUCERS 3u

typedef struct stress {
    ct_pipeline *p;
    uint64_t per_producer;
    _Atomic uint64_t *seen;   /* bitmap over PRODUCERS * per_producer items */
    _Atomic uint64_t ended, dup, sunk, dropped;
    _Atomic uint64_t closed_returns, admitted, rejected;
    _Atomic uint64_t order_errors;
    uint64_t last_seq[PRODUCERS]; /* sink-side, only with one worker in the last stage */
    bool check_order;
    _Atomic uint64_t *closed_bits; /* items returned CLOSED: must never end anywhere */
} stress;

typedef struct producer_arg {
    stress *s;
    unsigned id;
} producer_arg;

static void mark(stress *s, void *item)
{
    uint64_t id = (uint64_t)(uintptr_t)item - 1; /* +1 so that no item is NULL... */
    uint64_t bit = (uint64_t)1 << (id % 64);
    uint64_t old = atomic_fetch_or(&s->seen[id / 64], bit);
    if (old & bit)
        atomic_fetch_add(&s->dup, 1);
    atomic_fetch_add(&s->ended, 1);
}

static void stress_sink(void *arg, void *item)
{
    stress *s = arg;
    mark(s, item);
    atomic_fetch_add(&s->sunk, 1);
    if (s->check_order) {
        uint64_t id = (uint64_t)(uintptr_t)item - 1;
        unsigned prod = (unsigned)(id / s->per_producer);
        uint64_t seq = id % s->per_producer + 1;
        if (seq <= s->last_seq[prod])
            atomic_fetch_add(&s->order_errors, 1);
        s->last_seq[prod] = seq;
    }
}

static void stress_drop(void *arg, void *item, unsigned stage, ct_drop_reason why)
{
    stress *s = arg;
    (void)stage;
    (void)why;
    mark(s, item);
    atomic_fetch_add(&s->dropped, 1);
}

static void *stress_spin(void *arg, void *item)
{
    (void)arg;
    for (volatile int i = 0; i < 50; i++) {
    }
    return item;
}

static void *producer(void *arg)
{
    producer_arg *a = arg;
    stress *s = a->s;
    ct_test_start_barrier();
    for (uint64_t i = 0; i < s->per_producer; i++) {
        uint64_t id = a->id * s->per_producer + i;
        ct_submit_result r = ct_pipeline_submit(s->p, (void *)(uintptr_t)(id + 1));
        if (r == CT_SUBMIT_CLOSED) {
            atomic_fetch_add(&s->closed_returns, 1);
            atomic_fetch_or(&s->closed_bits[id / 64], (uint64_t)1 << (id % 64));
        } else if (r == CT_SUBMIT_DROPPED) {
            atomic_fetch_add(&s->rejected, 1);
        } else {
            atomic_fetch_add(&s->admitted, 1);
        }
        if ((i & 255) == 0)
            sched_yield(); /* let workers interleave on 2 cores */
    }
    return NULL;
}

typedef struct canceller {
    ct_pipeline *p;
    unsigned delay_ms;
} canceller;

static void *cancel_thread(void *arg)
{
    canceller *c = arg;
    sleep_ms(c->delay_ms);
    ct_pipeline_cancel(c->p);
    return NULL;
}

static void stress_run(ct_policy p0, ct_policy p1, unsigned workers, bool cancel)
{
    stress s;
    memset(&s, 0, sizeof s);
    s.per_producer = ct_test_scale(40000);
    uint64_t total = PRODUCERS * s.per_producer;
    s.seen = calloc(total / 64 + 1, sizeof *s.seen);
    s.closed_bits = calloc(total / 64 + 1, sizeof *s.closed_bits);
    CT_CHECK(s.seen && s.closed_bits, "calloc");
    s.check_order = workers == 1 && !cancel;
    ct_stage_config sc[2] = {
        {.policy = p0, .capacity = p0 == CT_POLICY_UNBOUNDED ? 0 : 8, .workers = workers,
         .process = stress_spin},
        {.policy = p1, .capacity = p1 == CT_POLICY_UNBOUNDED ? 0 : 4, .workers = workers,
         .process = stress_spin},
    };
    /* CoDel: a limit well above the standing queue, and a short target/interval, so that
     * drops at dequeue (not the limit) do the shedding. */
    for (unsigned i = 0; i < 2; i++)
        if (sc[i].policy == CT_POLICY_CODEL) {
            sc[i].capacity = 1024;
            sc[i].codel_target_ns = 20000;
            sc[i].codel_interval_ns = 200000;
        }
    ct_pipeline_config cfg = {.nstages = 2, .stages = sc, .sink = stress_sink, .sink_arg = &s,
                              .on_drop = stress_drop, .drop_arg = &s};
    s.p = ct_pipeline_create(&cfg);
    CT_CHECK(s.p != NULL, "create: errno %d", errno);
    producer_arg args[PRODUCERS];
    for (unsigned i = 0; i < PRODUCERS; i++)
        args[i] = (producer_arg){&s, i};
    pthread_t ct;
    canceller cc = {s.p, 5};
    if (cancel)
        CT_CHECK(pthread_create(&ct, NULL, cancel_thread, &cc) == 0, "cancel thread");
    ct_test_run_threads(PRODUCERS, producer, args, sizeof args[0]);
    if (cancel)
        pthread_join(ct, NULL);
    ct_pipeline_join(s.p);

    const char *n0 = ct_policy_name(p0), *n1 = ct_policy_name(p1);
    uint64_t closed = atomic_load(&s.closed_returns);
    CT_CHECK(atomic_load(&s.dup) == 0, "%s/%s: %llu items ended twice", n0, n1,
             (unsigned long long)s.dup);
    CT_CHECK(s.ended + closed == total, "%s/%s: %llu ended + %llu closed != %llu", n0, n1,
             (unsigned long long)s.ended, (unsigned long long)closed,
             (unsigned long long)total);
    for (uint64_t w = 0; w <= total / 64; w++)
        CT_CHECK((s.seen[w] & s.closed_bits[w]) == 0, "%s/%s: an item returned CLOSED ended",
                 n0, n1);
    ct_stage_stats st[2];
    for (unsigned i = 0; i < 2; i++) {
        ct_pipeline_stats(s.p, i, &st[i]);
        CT_CHECK(st[i].offered == st[i].admitted + st[i].rejected + st[i].refused,
                 "%s/%s stage %u: offered %llu != admitted %llu + rejected %llu + refused %llu",
                 n0, n1, i, (unsigned long long)st[i].offered,
                 (unsigned long long)st[i].admitted, (unsigned long long)st[i].rejected,
                 (unsigned long long)st[i].refused);
        CT_CHECK(st[i].admitted == st[i].completed + st[i].evicted + st[i].codel_dropped +
                                       st[i].cancelled && st[i].depth == 0,
                 "%s/%s stage %u: admitted %llu != completed %llu + evicted %llu + codel %llu"
                 " + cancelled %llu (depth %llu)",
                 n0, n1, i, (unsigned long long)st[i].admitted,
                 (unsigned long long)st[i].completed, (unsigned long long)st[i].evicted,
                 (unsigned long long)st[i].codel_dropped, (unsigned long long)st[i].cancelled,
                 (unsigned long long)st[i].depth);
        if (!cancel)
            CT_CHECK(st[i].cancelled == 0 && st[i].refused == 0, "%s/%s: cancelled without cancel",
                     n0, n1);
    }
    CT_CHECK(st[0].offered == s.admitted + s.rejected, "%s/%s: stage 1 offered %llu", n0, n1,
             (unsigned long long)st[0].offered);
    CT_CHECK(st[1].offered == st[0].completed, "%s/%s: stage 2 offered %llu, stage 1 completed "
             "%llu", n0, n1, (unsigned long long)st[1].offered,
             (unsigned long long)st[0].completed);
    CT_CHECK(s.sunk == st[1].completed, "%s/%s: sink %llu != completed %llu", n0, n1,
             (unsigned long long)s.sunk, (unsigned long long)st[1].completed);
    CT_CHECK(s.order_errors == 0, "%s/%s: %llu items out of producer order", n0, n1,
             (unsigned long long)s.order_errors);
    if (!cancel && p0 == CT_POLICY_BLOCK && p1 == CT_POLICY_BLOCK)
        CT_CHECK(s.sunk == total, "block/block lost %llu", (unsigned long long)(total - s.sunk));
    if (getenv("CT_TEST_VERBOSE"))
        printf("%-11s/%-11s w%u%s: sunk %llu dropped %llu closed %llu (evicted %llu+%llu codel "
               "%llu+%llu rejected %llu+%llu cancelled %llu+%llu refused %llu)\n",
               n0, n1, workers, cancel ? " cancel" : "", (unsigned long long)s.sunk,
               (unsigned long long)s.dropped, (unsigned long long)closed,
               (unsigned long long)st[0].evicted, (unsigned long long)st[1].evicted,
               (unsigned long long)st[0].codel_dropped, (unsigned long long)st[1].codel_dropped,
               (unsigned long long)st[0].rejected, (unsigned long long)st[1].rejected,
               (unsigned long long)st[0].cancelled, (unsigned long long)st[1].cancelled,
               (unsigned long long)st[1].refused);
    ct_pipeline_destroy(s.p);
    free(s.seen);
    free(s.closed_bits);
}

int main(void)
{
    test_config();
    test_block_waits();
    test_drop_newest();
    test_drop_oldest();
    test_codel();
    for (int a = 0; a < CT_POLICY_COUNT; a++) {
        /* Each policy at stage 1 and stage 2 (paired with the next one), one worker (order
         * checked) and two, and once with a cancel racing the producers. */
        ct_policy p0 = (ct_policy)a, p1 = (ct_policy)((a + 1) % CT_POLICY_COUNT);
        stress_run(p0, p1, 1, false);
        stress_run(p1, p0, 2, false);
        stress_run(p0, p0, 2, true);
    }
    puts("test_pipeline: ok");
    return 0;
}
