/* Peer queues `moodycamel`, `moodycamel-tok` and `moodycamel-blocking`: Cameron Desrochers'
 * moodycamel::ConcurrentQueue and BlockingConcurrentQueue (cameron314/concurrentqueue,
 * BSD-2-Clause / Boost, Debian libconcurrentqueue-dev, <concurrentqueue/concurrentqueue.h>),
 * behind ct_queue_class through extern "C" tables.
 *
 * The library: one sub-queue per producer (a circular list of 32-item blocks), consumers
 * scan the producers' sub-queues. Items of one producer come out in its order; items of
 * different producers in no defined order: PER-PRODUCER FIFO only, not linearizable (its
 * README says so). try_dequeue may also return false while an item is being published ("all
 * producer streams appeared empty at the time they were checked", header comment), so these
 * classes' try_pop can fail on a queue that is not empty: weaker than contend/queue.h asks.
 *
 * Configuration, as the README's "preallocation (correctly using try_enqueue)" recommends for
 * a bounded queue: the three-argument constructor (minCapacity, maxExplicitProducers,
 * maxImplicitProducers) pre-allocates ((ceil(N/32) - 1) * (E + 1) + 2 * (E + I)) blocks, and
 * every enqueue is first try_enqueue, which never allocates a block and fails when the
 * pre-allocated ones are used up. We size for up to MC_MAX_PRODUCERS (16) producers: E = 0,
 * I = 16 for the plain API (implicit, per-thread producers), E = 16, I = 0 with tokens. The
 * real capacity is therefore >= N and can be much larger (at N = 1024: 63 blocks = 2016 items,
 * plain API); room comes back a whole block at a time (a pop frees a slot only when its block
 * empties). try_enqueue also fails when the producer's block index is full (it does not grow
 * it), so the Traits below raise the initial index sizes from 32 to 32768 blocks: one producer
 * holds up to 2^20 items without allocating. create refuses (ENOMEM) a pre-allocation above
 * 1 GiB.
 *
 * The starved producer: explicit producers (tokens) never give blocks back to the pool, and
 * try_enqueue never bounds a producer's backlog, so one producer that ran ahead of the
 * consumers can own every pre-allocated block; another producer then fails try_enqueue
 * forever on an EMPTY queue (seen in tests/test_peer_queues.c at 2:2, capacity 1: the second
 * producer never pushed). Implicit producers return emptied blocks, but partly used blocks can
 * still leave less than N items of room. So when try_enqueue fails and size_approx() < N, the
 * adapters fall back to enqueue, which allocates a block (or a bigger block index) for this
 * producer; a push fails as "full" only when try_enqueue failed and size_approx() >= N. In
 * steady state nothing allocates; the fallback costs a size_approx() scan of the producers and
 * runs only when the pre-allocated pool is exhausted. What else allocates, once per thread:
 * its implicit producer (plain API) or the ProducerToken's explicit producer.
 *
 * Added by the adapters:
 *  - close: the gate of peer_gate.h (closed flag + striped in-flight count of pushes).
 *  - `moodycamel`, `moodycamel-tok`: push and pop retry the try operation with ct_peer_backoff
 *    (64 pauses, then sched_yield per retry; never sleeps): the library has no blocking call.
 *  - `moodycamel-blocking`: pop is the library's wait_dequeue_timed (a semaphore: spins, then
 *    sleeps), in slices of MC_CLOSE_POLL_US (1 ms) so that a consumer notices close within a
 *    slice: the library cannot wake a waiter without an item. push retries try_enqueue with
 *    backoff: BlockingConcurrentQueue blocks consumers only, never producers.
 *  - `moodycamel-tok`: one ProducerToken and one ConsumerToken per (thread, queue), each
 *    created on the thread's first push or pop on that queue and kept in a thread_local cache.
 *    A token must die before its queue (its destructor writes to the queue's producer), so a
 *    global mutex (taken only to create tokens, at thread exit and at destroy) pairs them: a
 *    thread's exit deletes its tokens of queues still alive; destroy deletes the tokens of
 *    threads still alive (the main thread that drained the queue in verify, for instance) and
 *    marks their cache slots dead; a queue id, not its address, keys the cache, so a new queue
 *    at a recycled address never meets an old token.
 */
#include <concurrentqueue/blockingconcurrentqueue.h>
#include <concurrentqueue/concurrentqueue.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

extern "C" {
#include "contend/queue.h"
}
#include "peer_gate.h"

namespace {

struct McTraits : moodycamel::ConcurrentQueueDefaultTraits {
    static const size_t EXPLICIT_INITIAL_INDEX_SIZE = 32768; /* blocks per producer */
    static const size_t IMPLICIT_INITIAL_INDEX_SIZE = 32768;
};
using McQueue = moodycamel::ConcurrentQueue<void *, McTraits>;
using McBlockingQueue = moodycamel::BlockingConcurrentQueue<void *, McTraits>;

constexpr size_t MC_MAX_PRODUCERS = 16;
constexpr size_t MC_MAX_PREALLOC = size_t(1) << 30;
constexpr std::int64_t MC_CLOSE_POLL_US = 1000;

/* EINVAL / ENOMEM per the header comment; true when (capacity, E, I) may be built. */
bool mc_capacity_ok(size_t capacity, size_t explicit_producers, size_t implicit_producers)
{
    if (capacity == 0 || capacity > (size_t(1) << 30)) {
        errno = EINVAL;
        return false;
    }
    const size_t bs = McTraits::BLOCK_SIZE;
    size_t blocks = ((capacity + bs - 1) / bs - 1) * (explicit_producers + 1) +
                    2 * (explicit_producers + implicit_producers);
    if (blocks * (bs * sizeof(void *) + 64) > MC_MAX_PREALLOC) {
        errno = ENOMEM;
        return false;
    }
    return true;
}

/* ---- moodycamel: the plain API ------------------------------------------------------------ */

struct McPlain {
    ct_peer_gate gate;
    McQueue q;
    size_t capacity;
    explicit McPlain(size_t n) : q(n, 0, MC_MAX_PRODUCERS), capacity(n) { ct_peer_gate_init(&gate); }
    bool enqueue(void *item) /* see "starved producer" in the header comment */
    {
        return q.try_enqueue(item) || (q.size_approx() < capacity && q.enqueue(item));
    }
};

void *mc_create(size_t capacity)
{
    if (!mc_capacity_ok(capacity, 0, MC_MAX_PRODUCERS))
        return nullptr;
    McPlain *q = new (std::nothrow) McPlain(capacity);
    if (!q)
        errno = ENOMEM;
    return q;
}
void mc_destroy(void *q) { delete static_cast<McPlain *>(q); }
bool mc_try_push(void *p, void *item)
{
    McPlain *q = static_cast<McPlain *>(p);
    return ct_peer_gated_try_push(&q->gate, [&] { return q->enqueue(item); });
}
bool mc_try_pop(void *p, void **item) { return static_cast<McPlain *>(p)->q.try_dequeue(*item); }
bool mc_push(void *p, void *item)
{
    McPlain *q = static_cast<McPlain *>(p);
    return ct_peer_gated_push(&q->gate, [&] { return q->enqueue(item); });
}
bool mc_pop(void *p, void **item)
{
    McPlain *q = static_cast<McPlain *>(p);
    return ct_peer_polled_pop(&q->gate, [&] { return q->q.try_dequeue(*item); });
}
void mc_close(void *p) { ct_peer_gate_close(&static_cast<McPlain *>(p)->gate); }

/* ---- moodycamel-blocking: BlockingConcurrentQueue ----------------------------------------- */

struct McBlocking {
    ct_peer_gate gate;
    McBlockingQueue q;
    size_t capacity;
    explicit McBlocking(size_t n) : q(n, 0, MC_MAX_PRODUCERS), capacity(n) { ct_peer_gate_init(&gate); }
    bool enqueue(void *item) /* see "starved producer" in the header comment */
    {
        return q.try_enqueue(item) || (q.size_approx() < capacity && q.enqueue(item));
    }
};

void *mcb_create(size_t capacity)
{
    if (!mc_capacity_ok(capacity, 0, MC_MAX_PRODUCERS))
        return nullptr;
    try { /* the constructor throws bad_alloc when its semaphore cannot be allocated */
        return new McBlocking(capacity);
    } catch (const std::bad_alloc &) {
        errno = ENOMEM;
        return nullptr;
    }
}
void mcb_destroy(void *q) { delete static_cast<McBlocking *>(q); }
bool mcb_try_push(void *p, void *item)
{
    McBlocking *q = static_cast<McBlocking *>(p);
    return ct_peer_gated_try_push(&q->gate, [&] { return q->enqueue(item); });
}
bool mcb_try_pop(void *p, void **item)
{
    return static_cast<McBlocking *>(p)->q.try_dequeue(*item);
}
bool mcb_push(void *p, void *item)
{
    McBlocking *q = static_cast<McBlocking *>(p);
    return ct_peer_gated_push(&q->gate, [&] { return q->enqueue(item); });
}
bool mcb_pop(void *p, void **item)
{
    McBlocking *q = static_cast<McBlocking *>(p);
    for (;;) {
        if (q->q.wait_dequeue_timed(*item, MC_CLOSE_POLL_US))
            return true;
        /* The semaphore counts every enqueued item, so after the gate drained try_dequeue is
         * exact: it fails only when nothing is left. Until then, wait another slice. */
        if (ct_peer_gate_closed(&q->gate) && ct_peer_gate_drained(&q->gate))
            return q->q.try_dequeue(*item);
    }
}
void mcb_close(void *p) { ct_peer_gate_close(&static_cast<McBlocking *>(p)->gate); }

/* ---- moodycamel-tok: explicit tokens per (thread, queue) ----------------------------------- */

struct McTok;

struct TokSlot {
    McTok *queue; /* nullptr once the queue was destroyed (guarded by tok_mutex) */
    moodycamel::ProducerToken *ptok;
    moodycamel::ConsumerToken *ctok;
};

struct McTok {
    ct_peer_gate gate;
    McQueue q;
    size_t capacity;
    std::uint64_t id;
    std::vector<TokSlot *> slots; /* guarded by tok_mutex */
    McTok(size_t n, std::uint64_t qid) : q(n, MC_MAX_PRODUCERS, 0), capacity(n), id(qid)
    {
        ct_peer_gate_init(&gate);
    }
    bool enqueue(moodycamel::ProducerToken &t, void *item) /* see "starved producer" */
    {
        return q.try_enqueue(t, item) || (q.size_approx() < capacity && q.enqueue(t, item));
    }
};

std::mutex tok_mutex;
std::uint64_t tok_next_id = 1; /* guarded by tok_mutex */

void slot_free_tokens(TokSlot *s)
{
    delete s->ptok;
    delete s->ctok;
    s->ptok = nullptr;
    s->ctok = nullptr;
}

struct ThreadTokens {
    std::vector<TokSlot *> slots; /* this thread's slots, live and dead */
    McTok *last_queue = nullptr;  /* the fast path: the queue used last, by address and id */
    std::uint64_t last_id = 0;
    TokSlot *last_slot = nullptr;
    ~ThreadTokens()
    {
        std::lock_guard<std::mutex> lock(tok_mutex);
        for (TokSlot *s : slots) {
            if (s->queue) {
                slot_free_tokens(s);
                auto &v = s->queue->slots;
                v.erase(std::find(v.begin(), v.end(), s));
            }
            delete s;
        }
    }
};
thread_local ThreadTokens thread_tokens;

/* This thread's slot for q; nullptr when out of memory. */
TokSlot *tok_slot(McTok *q)
{
    ThreadTokens &t = thread_tokens;
    if (t.last_queue == q && t.last_id == q->id)
        return t.last_slot;
    std::lock_guard<std::mutex> lock(tok_mutex);
    TokSlot *found = nullptr;
    for (auto it = t.slots.begin(); it != t.slots.end();) {
        if (!(*it)->queue) { /* its queue was destroyed: forget it */
            delete *it;
            it = t.slots.erase(it);
            continue;
        }
        if ((*it)->queue == q)
            found = *it;
        ++it;
    }
    if (!found) {
        found = new (std::nothrow) TokSlot{q, nullptr, nullptr};
        if (!found)
            return nullptr;
        try {
            t.slots.push_back(found);
            q->slots.push_back(found);
        } catch (const std::bad_alloc &) {
            if (!t.slots.empty() && t.slots.back() == found)
                t.slots.pop_back();
            delete found;
            return nullptr;
        }
    }
    t.last_queue = q;
    t.last_id = q->id;
    t.last_slot = found;
    return found;
}

moodycamel::ProducerToken *tok_producer(McTok *q)
{
    TokSlot *s = tok_slot(q);
    if (!s)
        return nullptr;
    if (!s->ptok) {
        s->ptok = new (std::nothrow) moodycamel::ProducerToken(q->q);
        if (s->ptok && !s->ptok->valid()) { /* its explicit producer could not be allocated */
            delete s->ptok;
            s->ptok = nullptr;
        }
    }
    return s->ptok;
}

moodycamel::ConsumerToken *tok_consumer(McTok *q)
{
    TokSlot *s = tok_slot(q);
    if (!s)
        return nullptr;
    if (!s->ctok)
        s->ctok = new (std::nothrow) moodycamel::ConsumerToken(q->q);
    return s->ctok;
}

void *mct_create(size_t capacity)
{
    if (!mc_capacity_ok(capacity, MC_MAX_PRODUCERS, 0))
        return nullptr;
    std::uint64_t id;
    {
        std::lock_guard<std::mutex> lock(tok_mutex);
        id = tok_next_id++;
    }
    McTok *q = new (std::nothrow) McTok(capacity, id);
    if (!q)
        errno = ENOMEM;
    return q;
}

void mct_destroy(void *p)
{
    McTok *q = static_cast<McTok *>(p);
    if (!q)
        return;
    {
        std::lock_guard<std::mutex> lock(tok_mutex);
        for (TokSlot *s : q->slots) {
            slot_free_tokens(s);
            s->queue = nullptr;
        }
        q->slots.clear();
    }
    delete q;
}

/* Out of memory for a token: the push or pop fails, as if full or empty (rare, once). */
bool mct_try_push(void *p, void *item)
{
    McTok *q = static_cast<McTok *>(p);
    return ct_peer_gated_try_push(&q->gate, [&] {
        moodycamel::ProducerToken *t = tok_producer(q);
        return t && q->enqueue(*t, item);
    });
}
bool mct_try_pop(void *p, void **item)
{
    McTok *q = static_cast<McTok *>(p);
    moodycamel::ConsumerToken *t = tok_consumer(q);
    return t && q->q.try_dequeue(*t, *item);
}
bool mct_push(void *p, void *item)
{
    McTok *q = static_cast<McTok *>(p);
    moodycamel::ProducerToken *t = tok_producer(q);
    if (!t)
        return false;
    return ct_peer_gated_push(&q->gate, [&] { return q->enqueue(*t, item); });
}
bool mct_pop(void *p, void **item)
{
    McTok *q = static_cast<McTok *>(p);
    moodycamel::ConsumerToken *t = tok_consumer(q);
    if (!t)
        return false;
    return ct_peer_polled_pop(&q->gate, [&] { return q->q.try_dequeue(*t, *item); });
}
void mct_close(void *p) { ct_peer_gate_close(&static_cast<McTok *>(p)->gate); }

} // namespace

extern "C" {
extern const ct_queue_class ct_peer_moodycamel, ct_peer_moodycamel_tok, ct_peer_moodycamel_blocking;

const ct_queue_class ct_peer_moodycamel = {
    "moodycamel",
    "moodycamel ConcurrentQueue, plain API, pre-sized: per-producer FIFO; adds close, "
    "spin/yield waits",
    0, 0, mc_create, mc_destroy, mc_try_push, mc_try_pop, mc_push, mc_pop, mc_close};

const ct_queue_class ct_peer_moodycamel_tok = {
    "moodycamel-tok",
    "moodycamel ConcurrentQueue, tokens per thread, pre-sized: per-producer FIFO; adds close, "
    "spin/yield waits",
    0, 0, mct_create, mct_destroy, mct_try_push, mct_try_pop, mct_push, mct_pop, mct_close};

const ct_queue_class ct_peer_moodycamel_blocking = {
    "moodycamel-blocking",
    "moodycamel BlockingConcurrentQueue, pre-sized: per-producer FIFO; pop sleeps (semaphore), "
    "close polled every 1 ms, push spins/yields",
    0, 0, mcb_create, mcb_destroy, mcb_try_push, mcb_try_pop, mcb_push, mcb_pop, mcb_close};
}
