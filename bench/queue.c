/* Workload `queue`: producers push numbered items through one queue to consumers.
 *
 * Threads 0..P-1 produce, P..P+C-1 consume (--producers, --consumers; threads = P + C).
 * An item is a pointer-sized value: producer id in the top 16 bits, its sequence number in
 * the low 48. Modes (contend/harness.h): `try` (try_push/try_pop; a thread that finds the queue
 * full/empty backs off: exponential pause spinning, then sched_yield(); it never sleeps),
 * `spin` (the same calls retried after a single pause, forever: what a naive caller writes, and
 * what collapses when threads outnumber cores) and `blocking` (push/pop: waiting as the queue
 * implements it).
 *
 * Throughput counts items popped (ops_per_s = items/s; producers are left out of the count and
 * of the fairness index). Latency is end to end: the producer of every 4096th item (and of its
 * first) stores the push time in a per-producer table indexed by sequence; the consumer that
 * pops it records pop time minus push time, so queueing delay is included (sampled, like every
 * contend latency).
 *
 * Verify, without a bitmap per item: each consumer keeps, per producer, the last sequence seen
 * (it must increase: per-producer order as seen by one consumer, a guarantee every registered
 * queue gives), the count, the sum and the sum of squares of the sequences. After the run the
 * queue is drained; then, per producer, count == pushed, sum == pushed(pushed-1)/2 and the sum
 * of squares matches too: a lost, duplicated or invented item cannot satisfy all three.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contend/harness.h"
#include "contend/queue.h"
#include "contend/wait.h"
#include "peers/peers.h"

#define SEQ_BITS 48
#define SEQ_MASK ((1ull << SEQ_BITS) - 1)
#define MAX_PRODUCERS 4096u
#define TS_TABLE 4096u /* sampled push times kept per producer */
#define TS_EVERY 4096u /* one item in this many carries a push time */

typedef struct per_producer { /* one consumer's view of one producer; 64 bytes, so whole
                               * rows round to CT_PAD (aligned_alloc needs a multiple) */
    _Alignas(64) uint64_t count;
    uint64_t last_plus_one;
    unsigned __int128 sum, sum_sq;
} per_producer;

typedef struct queue_state {
    const ct_queue_class *qc;
    void *q;
    unsigned producers, consumers;
    ct_queue_mode mode;
    /* Per producer: items pushed (written by the producer, read after join) and sampled push
     * times, CT_PAD-strided so producers do not falsely share. */
    uint64_t *pushed;            /* [producers * PUSHED_STRIDE] */
    _Atomic uint64_t *push_ts;   /* [producers * TS_TABLE] */
    per_producer *seen;          /* [consumers * producers], each consumer's row on its own */
    size_t seen_stride;          /* per_producer entries per consumer row (padded) */
    _Atomic uint64_t order_errors;
} queue_state;

#define PUSHED_STRIDE (CT_PAD / sizeof(uint64_t))

/* Implementations: the library's queue classes (contend/queue.h), then the peer queues that
 * were built (bench/peers/peer_queue_list.h), all in one run. */
static const ct_queue_class *queue_at(size_t i)
{
    size_t nl = ct_queue_class_count();
    return i < nl ? ct_queue_class_get(i) : ct_peer_queue_class_get(i - nl);
}
static const ct_queue_class *queue_named(const char *name)
{
    const ct_queue_class *c = ct_queue_class_find(name);
    return c ? c : ct_peer_queue_class_find(name);
}
static size_t q_impl_count(void) { return ct_queue_class_count() + ct_peer_queue_class_count(); }
static const char *q_impl_name(size_t i)
{
    const ct_queue_class *c = queue_at(i);
    return c ? c->name : NULL;
}
static const char *q_impl_summary(size_t i)
{
    const ct_queue_class *c = queue_at(i);
    return c ? c->summary : NULL;
}

static void q_teardown(void *p)
{
    queue_state *s = p;
    if (!s)
        return;
    if (s->q)
        s->qc->destroy(s->q);
    free(s->pushed);
    free(s->push_ts);
    free(s->seen);
    free(s);
}

static void *q_setup(const char *impl, unsigned threads, const ct_params *params, char *err,
                     size_t errlen)
{
    const ct_queue_class *qc = queue_named(impl);
    if (!qc) {
        snprintf(err, errlen, "queue: unknown implementation '%s'", impl);
        return NULL;
    }
    unsigned p = params->producers, c = params->consumers;
    if (p == 0 || c == 0 || p + c != threads || p > MAX_PRODUCERS) {
        snprintf(err, errlen, "queue: needs producers >= 1 and consumers >= 1 (got %u:%u)", p,
                 c);
        return NULL;
    }
    if ((qc->max_producers && p > qc->max_producers) ||
        (qc->max_consumers && c > qc->max_consumers)) {
        snprintf(err, errlen, "queue: %s allows at most %u producers and %u consumers", impl,
                 qc->max_producers, qc->max_consumers);
        return NULL;
    }
    queue_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->qc = qc;
    s->producers = p;
    s->consumers = c;
    s->mode = params->mode;
    s->seen_stride = (p * sizeof(per_producer) + CT_PAD - 1) / CT_PAD * CT_PAD /
                     sizeof(per_producer);
    s->pushed = aligned_alloc(CT_PAD, (size_t)p * CT_PAD);
    s->push_ts = calloc((size_t)p * TS_TABLE, sizeof *s->push_ts);
    s->seen = aligned_alloc(CT_PAD, (size_t)c * s->seen_stride * sizeof(per_producer));
    if (!s->pushed || !s->push_ts || !s->seen) {
        snprintf(err, errlen, "out of memory");
        q_teardown(s);
        return NULL;
    }
    memset(s->pushed, 0, (size_t)p * CT_PAD);
    memset(s->seen, 0, (size_t)c * s->seen_stride * sizeof(per_producer));
    s->q = qc->create(params->capacity);
    if (!s->q) {
        snprintf(err, errlen, "queue: %s cannot be created with capacity %llu", impl,
                 (unsigned long long)params->capacity);
        q_teardown(s);
        return NULL;
    }
    return s;
}

static void record(queue_state *s, per_producer *row, uint64_t item)
{
    unsigned pid = (unsigned)(item >> SEQ_BITS);
    uint64_t seq = item & SEQ_MASK;
    if (pid >= s->producers) {
        atomic_fetch_add_explicit(&s->order_errors, 1, memory_order_relaxed);
        return;
    }
    per_producer *pp = &row[pid];
    if (seq + 1 <= pp->last_plus_one)
        atomic_fetch_add_explicit(&s->order_errors, 1, memory_order_relaxed);
    pp->last_plus_one = seq + 1;
    pp->count++;
    pp->sum += seq;
    pp->sum_sq += (unsigned __int128)seq * seq;
}

/* A failed try_push/try_pop in try or spin mode (see the header). */
static void retry_wait(const queue_state *s, ct_backoff *b)
{
    if (s->mode == CT_MODE_SPIN)
        ct_cpu_relax();
    else if (ct_backoff_snooze(b)) /* spinning and the first yields are behind us */
        sched_yield();              /* try mode never sleeps: keep yielding */
}

static void producer_main(ct_thread *t, queue_state *s)
{
    t->uncounted = true;
    const unsigned pid = t->index;
    uint64_t *pushed = &s->pushed[pid * PUSHED_STRIDE];
    _Atomic uint64_t *ts = &s->push_ts[(size_t)pid * TS_TABLE];
    uint64_t seq = 0;
    while (ct_thread_running(t)) {
        uint64_t item = ((uint64_t)pid << SEQ_BITS) | seq;
        if (seq % TS_EVERY == 0) /* relaxed: the queue's push/pop orders it for the reader */
            atomic_store_explicit(&ts[(seq / TS_EVERY) % TS_TABLE], ct_now_ns(),
                                  memory_order_relaxed);
        if (s->mode != CT_MODE_BLOCKING) {
            ct_backoff b = CT_BACKOFF_INIT;
            while (!s->qc->try_push(s->q, (void *)(uintptr_t)item)) {
                if (!ct_thread_running(t))
                    goto done;
                retry_wait(s, &b);
            }
        } else if (!s->qc->push(s->q, (void *)(uintptr_t)item)) {
            break; /* closed: the run is over */
        }
        seq++;
        t->ops++;
    }
done:
    *pushed = seq;
}

static void consumer_main(ct_thread *t, queue_state *s)
{
    per_producer *row = &s->seen[(size_t)(t->index - s->producers) * s->seen_stride];
    void *item;
    ct_backoff b = CT_BACKOFF_INIT;
    for (;;) {
        if (s->mode != CT_MODE_BLOCKING) {
            if (!ct_thread_running(t))
                return;
            if (!s->qc->try_pop(s->q, &item)) {
                retry_wait(s, &b);
                continue;
            }
            ct_backoff_reset(&b);
        } else {
            /* Blocking: keep popping after the stop flag until the queue is closed and empty,
             * so that nothing is left behind; those items count after the window closed. */
            ct_thread_running(t);
            if (!s->qc->pop(s->q, &item))
                return;
        }
        uint64_t v = (uint64_t)(uintptr_t)item, seq = v & SEQ_MASK;
        record(s, row, v);
        t->ops++;
        if (seq % TS_EVERY == 0 && (v >> SEQ_BITS) < s->producers &&
            t->phase_seen == CT_PHASE_MEASURE) {
            uint64_t pushed_at = atomic_load_explicit(
                &s->push_ts[(size_t)(v >> SEQ_BITS) * TS_TABLE + (seq / TS_EVERY) % TS_TABLE],
                memory_order_relaxed);
            uint64_t now = ct_now_ns();
            if (pushed_at && now >= pushed_at)
                ct_hist_record(t->hist, now - pushed_at);
        }
    }
}

static void q_main(ct_thread *t)
{
    queue_state *s = t->shared;
    if (t->index < s->producers)
        producer_main(t, s);
    else
        consumer_main(t, s);
}

static void q_stop(void *p)
{
    queue_state *s = p;
    s->qc->close(s->q); /* releases every blocked producer and consumer */
}

static bool q_verify(void *p, const ct_thread *threads, unsigned n, char *msg, size_t len)
{
    queue_state *s = p;
    (void)threads;
    (void)n;
    /* Drain what the consumers left (try mode stops them with items inside). */
    per_producer *extra = aligned_alloc(_Alignof(per_producer), s->producers * sizeof *extra);
    if (extra)
        memset(extra, 0, s->producers * sizeof *extra);
    if (!extra) {
        snprintf(msg, len, "out of memory while verifying");
        return false;
    }
    void *item;
    while (s->qc->try_pop(s->q, &item)) {
        uint64_t v = (uint64_t)(uintptr_t)item;
        unsigned pid = (unsigned)(v >> SEQ_BITS);
        uint64_t seq = v & SEQ_MASK;
        if (pid >= s->producers) {
            snprintf(msg, len, "drained an item of unknown producer %u", pid);
            free(extra);
            return false;
        }
        extra[pid].count++;
        extra[pid].sum += seq;
        extra[pid].sum_sq += (unsigned __int128)seq * seq;
    }
    bool ok = true;
    uint64_t order = atomic_load_explicit(&s->order_errors, memory_order_relaxed);
    if (order) {
        snprintf(msg, len, "%llu items out of per-producer order (or of unknown producers)",
                 (unsigned long long)order);
        ok = false;
    }
    for (unsigned pid = 0; ok && pid < s->producers; pid++) {
        uint64_t count = extra[pid].count;
        unsigned __int128 sum = extra[pid].sum, sum_sq = extra[pid].sum_sq;
        for (unsigned c = 0; c < s->consumers; c++) {
            const per_producer *pp = &s->seen[(size_t)c * s->seen_stride + pid];
            count += pp->count;
            sum += pp->sum;
            sum_sq += pp->sum_sq;
        }
        uint64_t m = s->pushed[pid * PUSHED_STRIDE]; /* sequences 0..m-1 */
        unsigned __int128 want_sum = (unsigned __int128)m * (m ? m - 1 : 0) / 2;
        unsigned __int128 want_sq = m ? (unsigned __int128)(m - 1) * m * (2 * m - 1) / 6 : 0;
        if (count != m || sum != want_sum || sum_sq != want_sq) {
            snprintf(msg, len, "producer %u pushed %llu items, %llu came out (sums %s)", pid,
                     (unsigned long long)m, (unsigned long long)count,
                     sum == want_sum && sum_sq == want_sq ? "match" : "differ");
            ok = false;
        }
    }
    free(extra);
    return ok;
}

const ct_workload ct_workload_queue = {
    .name = "queue",
    .summary = "producers push numbered items through one queue to consumers",
    .producer_consumer = true,
    .latency_note = "one sampled item = push to pop, end to end (1 item in 4096)",
    .impl_count = q_impl_count,
    .impl_name = q_impl_name,
    .impl_summary = q_impl_summary,
    .setup = q_setup,
    .thread_main = q_main,
    .verify = q_verify,
    .teardown = q_teardown,
    .stop = q_stop,
};
