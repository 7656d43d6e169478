/* The staged pipeline and its admission policies (contend/pipeline.h has the contract).
 *
 * Two queue structures:
 *  - block, drop-newest: the bounded MPMC ring (contend/mpmc.h). Its push waits while full
 *    (block), its try_push reports full (drop-newest), its close releases every waiter and
 *    keeps the items inside poppable: exactly the drain this file needs.
 *  - unbounded, drop-oldest, codel: `lq`, a FIFO of {item, enqueue time} entries in chunks of
 *    LQ_CHUNK, under a pthread mutex, with a condition variable for idle workers. Why a lock:
 *    drop-oldest's producer must take the oldest entry away from the consumers' end, and
 *    CoDel's consumer reads the head's timestamp and may remove several entries in one
 *    decision; both are multi-entry transactions that the MPMC ring's per-cell ownership
 *    (a cell belongs to one side at a time) cannot express. The lock is held O(1) per call
 *    (CoDel: at most CT_CODEL_MAX_DROPS_PER_POP + 1 entries) and never across a callback:
 *    dropped items are collected and handed to on_drop after unlock.
 *
 * lq invariants (all under mu): count = entries in [head.hpos, tail.tpos); head == NULL iff
 * count == 0 and no chunk is held; limit == 0 or count <= limit; closed only goes false->true;
 * the entries' timestamps are non-decreasing from head to tail up to clock reads racing
 * between producers (CoDel only needs each entry's own sojourn). `depth` mirrors count for
 * lock-free readers (relaxed store under mu, relaxed load by ct_pipeline_stats: a statistic,
 * nothing is published through it).
 *
 * Stage states: open -> closed (by ct_pipeline_close for stage 1, by the last exiting worker
 * of stage i for stage i+1, by cancel for all). A worker exits when its input is closed and
 * empty. The `live` count of a stage's workers is decremented with acq_rel: the decrement that
 * reaches 0 acquires every other worker's release decrement, so each worker's last offer to
 * the next input happens before the close of that input, and no offer of a draining pipeline
 * ever meets a closed input (only cancel produces `refused`).
 *
 * Counters are relaxed atomics: statistics, exact after join (pthread_join synchronizes).
 * Producer-side counters and consumer-side counters sit on separate CT_PAD blocks.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contend/arch.h"
#include "contend/chaos.h"
#include "contend/mpmc.h"
#include "contend/pipeline.h"

#define LQ_CHUNK 255u /* 255 entries of 16 bytes + next pointer: one 4 KiB page per chunk */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the locked FIFO ------------------------------------------------------------------- */

typedef struct lq_entry {
    void *item;
    uint64_t ts; /* enqueue time, ns */
} lq_entry;

typedef struct lq_chunk {
    struct lq_chunk *next;
    lq_entry e[LQ_CHUNK];
} lq_chunk;

typedef struct lq {
    pthread_mutex_t mu;
    pthread_cond_t not_empty;
    lq_chunk *head, *tail, *spare; /* spare: one freed chunk kept to avoid malloc churn */
    unsigned hpos, tpos;           /* next entry to pop in head, next free entry in tail */
    size_t count, limit;           /* limit 0: unbounded */
    bool closed;
    /* CoDel state (RFC 8289 section 5), consumer side, under mu. */
    bool codel, dropping;
    uint64_t target, interval, first_above, drop_next;
    uint32_t cd_count, cd_lastcount;
} lq;

static int lq_init(lq *q, size_t limit, bool codel, uint64_t target, uint64_t interval)
{
    memset(q, 0, sizeof *q);
    if (pthread_mutex_init(&q->mu, NULL) != 0)
        return -1;
    if (pthread_cond_init(&q->not_empty, NULL) != 0) {
        pthread_mutex_destroy(&q->mu);
        return -1;
    }
    q->limit = limit;
    q->codel = codel;
    q->target = target;
    q->interval = interval;
    return 0;
}

static void lq_free_chunks(lq *q)
{
    for (lq_chunk *c = q->head; c;) {
        lq_chunk *n = c->next;
        free(c);
        c = n;
    }
    free(q->spare);
    q->head = q->tail = q->spare = NULL;
}

static void lq_destroy(lq *q)
{
    lq_free_chunks(q);
    pthread_cond_destroy(&q->not_empty);
    pthread_mutex_destroy(&q->mu);
}

/* Under mu. false: out of memory. */
static bool lq_push_raw(lq *q, void *item, uint64_t ts)
{
    if (!q->tail || q->tpos == LQ_CHUNK) {
        lq_chunk *c = q->spare;
        if (c)
            q->spare = NULL;
        else if (!(c = malloc(sizeof *c)))
            return false;
        c->next = NULL;
        if (q->tail)
            q->tail->next = c;
        else {
            q->head = c;
            q->hpos = 0;
        }
        q->tail = c;
        q->tpos = 0;
    }
    q->tail->e[q->tpos++] = (lq_entry){item, ts};
    q->count++;
    return true;
}

/* Under mu, count > 0. */
static lq_entry lq_pop_raw(lq *q)
{
    lq_entry e = q->head->e[q->hpos++];
    q->count--;
    if (q->hpos == LQ_CHUNK || q->count == 0) {
        lq_chunk *c = q->head;
        if (q->count == 0) {
            q->head = q->tail = NULL;
        } else {
            q->head = c->next;
        }
        q->hpos = 0;
        if (!q->spare)
            q->spare = c;
        else
            free(c);
    }
    return e;
}

/* interval / sqrt(count) in integers (the library does not link libm): isqrt(count << 32) is
 * sqrt(count) * 2^16; interval <= 2^42 ns (checked at create) keeps interval << 16 in range. */
static uint64_t isqrt64(uint64_t x)
{
    uint64_t r = 0, bit = (uint64_t)1 << 62;
    while (bit > x)
        bit >>= 2;
    while (bit) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return r;
}

static uint64_t codel_control_law(const lq *q, uint64_t t, uint32_t count)
{
    uint64_t root = isqrt64((uint64_t)(count ? count : 1) << 32); /* sqrt(count) * 2^16 */
    return t + ((q->interval << 16) / root);
}

/* RFC 8289 dodequeue(): pop the head and decide whether it may be dropped. Under mu. */
static bool codel_dodequeue(lq *q, uint64_t now, lq_entry *e, bool *ok_to_drop)
{
    *ok_to_drop = false;
    if (q->count == 0) {
        q->first_above = 0;
        return false;
    }
    *e = lq_pop_raw(q);
    uint64_t sojourn = now >= e->ts ? now - e->ts : 0;
    if (sojourn < q->target || q->count == 0) {
        /* Below target, or it was the last item: no standing queue (the RFC's "bytes <=
         * maxpacket", counted in items). */
        q->first_above = 0;
    } else if (q->first_above == 0) {
        q->first_above = now + q->interval; /* above target: start the interval */
    } else if (now >= q->first_above) {
        *ok_to_drop = true; /* above target for a whole interval */
    }
    return true;
}

/* RFC 8289 dequeue(), with drops collected in drops[] (at most CT_CODEL_MAX_DROPS_PER_POP).
 * Under mu, count > 0. Returns true with *out when an item is delivered. */
static bool codel_dequeue(lq *q, void **out, void **drops, unsigned *ndrops)
{
    uint64_t now = now_ns();
    lq_entry e;
    bool ok;
    *ndrops = 0;
    if (!codel_dodequeue(q, now, &e, &ok)) {
        q->dropping = false;
        return false;
    }
    if (q->dropping) {
        if (!ok) {
            q->dropping = false; /* sojourn fell below target: leave the dropping state */
        } else {
            while (q->dropping && now >= q->drop_next) {
                if (*ndrops == CT_CODEL_MAX_DROPS_PER_POP)
                    break; /* bounded work per pop: deliver e, the schedule stays due */
                drops[(*ndrops)++] = e.item;
                q->cd_count++;
                if (!codel_dodequeue(q, now, &e, &ok)) {
                    q->dropping = false;
                    return false;
                }
                if (!ok)
                    q->dropping = false;
                else
                    q->drop_next = codel_control_law(q, q->drop_next, q->cd_count);
            }
        }
    } else if (ok) {
        /* Enter the dropping state: drop this head, deliver the next one. */
        drops[(*ndrops)++] = e.item;
        bool got = codel_dodequeue(q, now, &e, &ok);
        q->dropping = true;
        /* Resume near the last drop rate if we were dropping recently (RFC 8289 5.5). */
        uint32_t delta = q->cd_count - q->cd_lastcount;
        q->cd_count = 1;
        if (delta > 1 && (int64_t)(now - q->drop_next) < (int64_t)(16 * q->interval))
            q->cd_count = delta;
        q->drop_next = codel_control_law(q, now, q->cd_count);
        q->cd_lastcount = q->cd_count;
        if (!got)
            return false;
    }
    *out = e.item;
    return true;
}

/* ---- stages ----------------------------------------------------------------------------- */

typedef struct stage {
    /* Producer side: written by whoever offers to this input. */
    CT_PAD_ALIGNED _Atomic uint64_t offered, admitted, rejected, evicted, refused;
    /* Consumer side: written by this stage's workers. */
    CT_PAD_ALIGNED _Atomic uint64_t completed, codel_dropped, cancelled;
    _Atomic uint64_t depth; /* lq only (mirrors count) */
    _Atomic unsigned live;  /* workers not yet exited */
    _Atomic bool closed;
    /* Read-only after create. */
    CT_PAD_ALIGNED ct_policy policy;
    size_t capacity;
    unsigned workers, index;
    ct_mpmc *q; /* block, drop-newest */
    lq *l;      /* unbounded, drop-oldest, codel */
    void *(*process)(void *, void *);
    void *arg;
    struct ct_pipeline *p;
    pthread_t *threads;
    unsigned started;
} stage;

CT_ASSERT_SEPARATE_LINES(stage, offered, completed);
CT_ASSERT_SEPARATE_LINES(stage, completed, policy);

struct ct_pipeline {
    unsigned nstages;
    stage *stages;
    void (*sink)(void *, void *);
    void *sink_arg;
    void (*on_drop)(void *, void *, unsigned, ct_drop_reason);
    void *drop_arg;
    _Atomic bool cancelled;
    bool joined; /* join is called by one thread (header's table) */
};

static const char *const policy_names[CT_POLICY_COUNT] = {"unbounded", "block", "drop-newest",
                                                         "drop-oldest", "codel"};

const char *ct_policy_name(ct_policy p)
{
    return (unsigned)p < CT_POLICY_COUNT ? policy_names[p] : NULL;
}

int ct_policy_parse(const char *name, ct_policy *out)
{
    for (unsigned i = 0; name && i < CT_POLICY_COUNT; i++)
        if (strcmp(name, policy_names[i]) == 0) {
            *out = (ct_policy)i;
            return 0;
        }
    errno = EINVAL;
    return -1;
}

static void count(_Atomic uint64_t *c)
{
    /* Relaxed: a statistic; exact after join, monotonic while running. */
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static void drop(ct_pipeline *p, stage *s, void *item, ct_drop_reason why)
{
    if (p->on_drop)
        p->on_drop(p->drop_arg, item, s->index, why);
}

static void close_stage(stage *s)
{
    /* Release: pairs with nothing that needs data; the queues' own close carries the
     * ordering for their items. The flag only classifies a failed try_push as refused. */
    atomic_store_explicit(&s->closed, true, memory_order_release);
    if (s->q) {
        ct_mpmc_close(s->q);
    } else {
        pthread_mutex_lock(&s->l->mu);
        s->l->closed = true;
        pthread_cond_broadcast(&s->l->not_empty);
        pthread_mutex_unlock(&s->l->mu);
    }
}

enum offer_result { OFFER_ADMITTED, OFFER_REJECTED, OFFER_CLOSED };

/* Offer item to stage s's input under its policy. An evicted item (drop-oldest) is handed to
 * on_drop here, after unlock. OFFER_REJECTED: the caller drops item; OFFER_CLOSED: the caller
 * keeps it. Counts offered/admitted/rejected/evicted (not refused: the caller decides). */
static enum offer_result offer(ct_pipeline *p, stage *s, void *item)
{
    CT_CHAOS();
    if (s->q) {
        bool ok = s->policy == CT_POLICY_BLOCK ? ct_mpmc_push(s->q, item)
                                               : ct_mpmc_try_push(s->q, item);
        if (ok) {
            count(&s->offered);
            count(&s->admitted);
            return OFFER_ADMITTED;
        }
        /* block: push fails only when closed. drop-newest: full, or closed (checked after the
         * failure: a close racing with a full queue may be classified either way; both are
         * honest outcomes of that race). Acquire pairs with close_stage's release. */
        if (s->policy == CT_POLICY_BLOCK || atomic_load_explicit(&s->closed, memory_order_acquire))
            return OFFER_CLOSED;
        count(&s->offered);
        count(&s->rejected);
        return OFFER_REJECTED;
    }
    lq *q = s->l;
    uint64_t ts = now_ns();
    void *evicted = NULL;
    bool have_evicted = false;
    pthread_mutex_lock(&q->mu);
    if (q->closed) {
        pthread_mutex_unlock(&q->mu);
        return OFFER_CLOSED;
    }
    if (q->limit && q->count == q->limit) {
        if (s->policy != CT_POLICY_DROP_OLDEST) { /* codel: the hard limit rejects */
            pthread_mutex_unlock(&q->mu);
            count(&s->offered);
            count(&s->rejected);
            return OFFER_REJECTED;
        }
        evicted = lq_pop_raw(q).item;
        have_evicted = true;
    }
    if (!lq_push_raw(q, item, ts)) {
        /* Out of memory (unbounded growth, or a new chunk for a bounded one): reject the
         * item rather than crash. An eviction already done stands (it is counted below). */
        atomic_store_explicit(&s->depth, q->count, memory_order_relaxed);
        pthread_mutex_unlock(&q->mu);
        if (have_evicted) {
            count(&s->evicted);
            drop(p, s, evicted, CT_DROP_EVICTED);
        }
        count(&s->offered);
        count(&s->rejected);
        return OFFER_REJECTED;
    }
    atomic_store_explicit(&s->depth, q->count, memory_order_relaxed);
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
    count(&s->offered);
    count(&s->admitted);
    if (have_evicted) {
        count(&s->evicted);
        drop(p, s, evicted, CT_DROP_EVICTED);
    }
    return OFFER_ADMITTED;
}

/* Pop for a worker: false once the input is closed and empty. CoDel drops happen here. */
static bool take(ct_pipeline *p, stage *s, void **item)
{
    if (s->q)
        return ct_mpmc_pop(s->q, item);
    lq *q = s->l;
    void *drops[CT_CODEL_MAX_DROPS_PER_POP];
    for (;;) {
        unsigned ndrops = 0;
        bool got = false;
        pthread_mutex_lock(&q->mu);
        while (q->count == 0 && !q->closed)
            pthread_cond_wait(&q->not_empty, &q->mu);
        if (q->count == 0) { /* closed and empty */
            pthread_mutex_unlock(&q->mu);
            return false;
        }
        if (q->codel && !atomic_load_explicit(&p->cancelled, memory_order_relaxed)) {
            got = codel_dequeue(q, item, drops, &ndrops);
        } else {
            *item = lq_pop_raw(q).item;
            got = true;
        }
        atomic_store_explicit(&s->depth, q->count, memory_order_relaxed);
        pthread_mutex_unlock(&q->mu);
        for (unsigned i = 0; i < ndrops; i++) {
            count(&s->codel_dropped);
            drop(p, s, drops[i], CT_DROP_CODEL);
        }
        if (got)
            return true;
    }
}

static void *worker_main(void *arg)
{
    stage *s = arg;
    ct_pipeline *p = s->p;
    bool last = s->index + 1 == p->nstages;
    stage *next = last ? NULL : &p->stages[s->index + 1];
    void *item;
    while (take(p, s, &item)) {
        CT_CHAOS();
        /* Relaxed: cancel is a request to stop soon; nothing is published through it (the
         * queues' close, which cancel does after setting it, carries the wakeups). */
        if (atomic_load_explicit(&p->cancelled, memory_order_relaxed)) {
            count(&s->cancelled);
            drop(p, s, item, CT_DROP_CANCELLED);
            continue;
        }
        void *out = s->process ? s->process(s->arg, item) : item;
        count(&s->completed);
        if (last) {
            if (p->sink)
                p->sink(p->sink_arg, out);
            continue;
        }
        enum offer_result r = offer(p, next, out);
        if (r == OFFER_REJECTED) {
            drop(p, next, out, CT_DROP_REJECTED);
        } else if (r == OFFER_CLOSED) {
            count(&next->offered);
            count(&next->refused);
            drop(p, next, out, CT_DROP_CANCELLED);
        }
    }
    CT_CHAOS();
    /* acq_rel: the decrement that reaches 0 acquires every sibling's release decrement, so
     * all their offers to next happen before the close below (header comment). */
    if (atomic_fetch_sub_explicit(&s->live, 1, memory_order_acq_rel) == 1 && next)
        close_stage(next);
    return NULL;
}

/* ---- configuration ---------------------------------------------------------------------- */

const char *ct_pipeline_config_error(const ct_pipeline_config *cfg, char *buf, size_t len)
{
    if (!cfg)
        return "no configuration";
    if (cfg->nstages == 0 || cfg->nstages > CT_PIPELINE_MAX_STAGES) {
        snprintf(buf, len, "%u stages (1..%u)", cfg->nstages, CT_PIPELINE_MAX_STAGES);
        return buf;
    }
    if (!cfg->stages)
        return "no stage configurations";
    for (unsigned i = 0; i < cfg->nstages; i++) {
        const ct_stage_config *c = &cfg->stages[i];
        const char *name = ct_policy_name(c->policy);
        if (!name) {
            snprintf(buf, len, "stage %u: unknown policy %d", i + 1, (int)c->policy);
            return buf;
        }
        if (c->workers == 0 || c->workers > CT_PIPELINE_MAX_WORKERS) {
            snprintf(buf, len, "stage %u: %u workers (1..%u)", i + 1, c->workers,
                     CT_PIPELINE_MAX_WORKERS);
            return buf;
        }
        if (c->policy == CT_POLICY_UNBOUNDED && c->capacity != 0) {
            snprintf(buf, len, "stage %u: capacity %zu for policy unbounded (must be 0)", i + 1,
                     c->capacity);
            return buf;
        }
        if (c->policy != CT_POLICY_UNBOUNDED &&
            (c->capacity == 0 || c->capacity > CT_PIPELINE_MAX_CAPACITY)) {
            snprintf(buf, len, "stage %u: capacity %zu for policy %s (1..%zu)", i + 1,
                     c->capacity, name, CT_PIPELINE_MAX_CAPACITY);
            return buf;
        }
        if (c->policy != CT_POLICY_CODEL && (c->codel_target_ns || c->codel_interval_ns)) {
            snprintf(buf, len, "stage %u: CoDel target/interval given for policy %s", i + 1,
                     name);
            return buf;
        }
        if (c->policy == CT_POLICY_CODEL) {
            uint64_t t = c->codel_target_ns ? c->codel_target_ns : CT_CODEL_TARGET_NS;
            uint64_t iv = c->codel_interval_ns ? c->codel_interval_ns : CT_CODEL_INTERVAL_NS;
            if (t >= iv || iv > ((uint64_t)1 << 42)) {
                snprintf(buf, len,
                         "stage %u: CoDel target %llu ns must be below interval %llu ns "
                         "(at most 2^42 ns)",
                         i + 1, (unsigned long long)t, (unsigned long long)iv);
                return buf;
            }
        }
    }
    return NULL;
}

static size_t round_pow2(size_t c)
{
    size_t r = 2;
    while (r < c)
        r <<= 1;
    return r;
}

/* Joins every started worker, then hands anything left in an input (only possible for a
 * stage whose workers never started) to on_drop as cancelled. Idempotent. */
static void join_all(ct_pipeline *p)
{
    if (p->joined)
        return;
    p->joined = true;
    for (unsigned i = 0; i < p->nstages; i++) {
        stage *s = &p->stages[i];
        for (unsigned w = 0; w < s->started; w++)
            pthread_join(s->threads[w], NULL);
    }
    for (unsigned i = 0; i < p->nstages; i++) {
        stage *s = &p->stages[i];
        void *item;
        if (s->q) {
            while (ct_mpmc_try_pop(s->q, &item)) {
                count(&s->cancelled);
                drop(p, s, item, CT_DROP_CANCELLED);
            }
        } else if (s->l) {
            while (s->l->count) {
                count(&s->cancelled);
                drop(p, s, lq_pop_raw(s->l).item, CT_DROP_CANCELLED);
            }
            atomic_store_explicit(&s->depth, 0, memory_order_relaxed);
        }
    }
}

static void stop_and_free(ct_pipeline *p)
{
    join_all(p);
    for (unsigned i = 0; i < p->nstages; i++) {
        stage *s = &p->stages[i];
        if (s->q) {
            ct_mpmc_destroy(s->q);
        } else if (s->l) {
            lq_destroy(s->l);
            free(s->l);
        }
        free(s->threads);
    }
    free(p->stages);
    free(p);
}

ct_pipeline *ct_pipeline_create(const ct_pipeline_config *cfg)
{
    char why[160];
    if (ct_pipeline_config_error(cfg, why, sizeof why)) {
        errno = EINVAL;
        return NULL;
    }
    ct_pipeline *p = calloc(1, sizeof *p);
    stage *st = p ? aligned_alloc(CT_PAD, sizeof(stage) * cfg->nstages) : NULL;
    if (!st) {
        free(p);
        errno = ENOMEM;
        return NULL;
    }
    memset(st, 0, sizeof(stage) * cfg->nstages);
    p->nstages = cfg->nstages;
    p->stages = st;
    p->sink = cfg->sink;
    p->sink_arg = cfg->sink_arg;
    p->on_drop = cfg->on_drop;
    p->drop_arg = cfg->drop_arg;
    int err = 0;
    for (unsigned i = 0; i < cfg->nstages && !err; i++) {
        const ct_stage_config *c = &cfg->stages[i];
        stage *s = &st[i];
        s->policy = c->policy;
        s->workers = c->workers;
        s->index = i;
        s->process = c->process;
        s->arg = c->arg;
        s->p = p;
        s->capacity = c->policy == CT_POLICY_UNBOUNDED ? 0 : round_pow2(c->capacity);
        atomic_init(&s->live, c->workers);
        s->threads = calloc(c->workers, sizeof *s->threads);
        if (!s->threads) {
            err = ENOMEM;
            break;
        }
        if (c->policy == CT_POLICY_BLOCK || c->policy == CT_POLICY_DROP_NEWEST) {
            if (!(s->q = ct_mpmc_create(s->capacity)))
                err = errno ? errno : ENOMEM;
        } else {
            s->l = malloc(sizeof *s->l);
            bool cd = c->policy == CT_POLICY_CODEL;
            if (!s->l ||
                lq_init(s->l, s->capacity, cd,
                        cd ? (c->codel_target_ns ? c->codel_target_ns : CT_CODEL_TARGET_NS) : 0,
                        cd ? (c->codel_interval_ns ? c->codel_interval_ns
                                                   : CT_CODEL_INTERVAL_NS)
                           : 0) != 0) {
                free(s->l);
                s->l = NULL;
                err = ENOMEM;
            }
        }
    }
    /* Start workers only once every stage exists (a worker may offer to the next one). */
    for (unsigned i = 0; i < cfg->nstages && !err; i++) {
        stage *s = &st[i];
        for (unsigned w = 0; w < s->workers; w++) {
            if (pthread_create(&s->threads[w], NULL, worker_main, s) != 0) {
                err = EAGAIN;
                break;
            }
            s->started++;
        }
    }
    if (err) {
        /* Stop what started: cancel closes every built input, so started workers exit;
         * unbuilt stages are skipped. */
        atomic_store_explicit(&p->cancelled, true, memory_order_seq_cst);
        for (unsigned i = 0; i < cfg->nstages; i++)
            if (st[i].q || st[i].l)
                close_stage(&st[i]);
        stop_and_free(p);
        errno = err;
        return NULL;
    }
    return p;
}

ct_submit_result ct_pipeline_submit(ct_pipeline *p, void *item)
{
    stage *s = &p->stages[0];
    switch (offer(p, s, item)) {
    case OFFER_ADMITTED:
        return CT_SUBMIT_ADMITTED;
    case OFFER_REJECTED:
        drop(p, s, item, CT_DROP_REJECTED);
        return CT_SUBMIT_DROPPED;
    default:
        return CT_SUBMIT_CLOSED;
    }
}

unsigned ct_pipeline_stage_count(const ct_pipeline *p) { return p ? p->nstages : 0; }

int ct_pipeline_stats(const ct_pipeline *p, unsigned i, ct_stage_stats *out)
{
    if (!p || !out || i >= p->nstages) {
        errno = EINVAL;
        return -1;
    }
    /* The counters are only read; const is cast away for the atomic loads' signature. */
    stage *s = (stage *)&p->stages[i];
#define LD(f) atomic_load_explicit(&s->f, memory_order_relaxed)
    memset(out, 0, sizeof *out);
    out->policy = s->policy;
    out->capacity = s->capacity;
    out->workers = s->workers;
    out->offered = LD(offered);
    out->admitted = LD(admitted);
    out->rejected = LD(rejected);
    out->evicted = LD(evicted);
    out->refused = LD(refused);
    out->completed = LD(completed);
    out->codel_dropped = LD(codel_dropped);
    out->cancelled = LD(cancelled);
    out->dropped = out->rejected + out->evicted + out->codel_dropped;
    out->depth = s->q ? ct_mpmc_size(s->q) : LD(depth);
#undef LD
    return 0;
}

void ct_pipeline_close(ct_pipeline *p)
{
    if (p)
        close_stage(&p->stages[0]);
}

void ct_pipeline_cancel(ct_pipeline *p)
{
    if (!p)
        return;
    /* seq_cst store before the closes: a worker woken by a close (which synchronizes through
     * the queue's mutex or eventcount) reads cancelled == true. */
    atomic_store_explicit(&p->cancelled, true, memory_order_seq_cst);
    for (unsigned i = 0; i < p->nstages; i++)
        close_stage(&p->stages[i]);
}

void ct_pipeline_join(ct_pipeline *p)
{
    if (!p)
        return;
    if (!atomic_load_explicit(&p->cancelled, memory_order_relaxed))
        ct_pipeline_close(p);
    join_all(p);
}

void ct_pipeline_destroy(ct_pipeline *p)
{
    if (!p)
        return;
    ct_pipeline_join(p);
    stop_and_free(p);
}
