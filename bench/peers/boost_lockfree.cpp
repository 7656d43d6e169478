/* Peer queue `boost-lockfree`: boost::lockfree::queue (Tim Blechmann, Boost Software License,
 * Debian libboost-dev, header-only), behind ct_queue_class through an extern "C" table.
 *
 * The library: the Michael-Scott linked queue (Michael & Scott, PODC 1996) with nodes from a
 * lock-free free list, ABA avoided by tagged pointers (on x86_64 the tag lives in the unused
 * upper pointer bits, so no double-width CAS is needed). push links at the tail, pop unlinks
 * at the head: GLOBAL FIFO (linearizable). Lock-free on both sides; pop fails only when
 * empty, bounded_push only when the free list is empty.
 *
 * Configuration, as Boost.Lockfree's documentation recommends for a bounded queue sized at run
 * time: the variable-sized queue constructed with queue(N), which puts N + 1 nodes on its free
 * list (one is the dummy node every MS queue keeps), and every push is bounded_push ("if
 * internal memory pool is exhausted, operation will fail"): it never allocates. So exactly N
 * items fit, and a pop frees exactly one node. The alternative, fixed_sized<true> (nodes in one
 * array, 16-bit indices), limits the queue to 65534 items; the run-time sized queue has no such
 * limit, only memory: each node takes a cache line (64 bytes), so create refuses (ENOMEM) a
 * pool above 1 GiB (N > 2^24). The nodes are allocated one by one at create.
 *
 * Added by the adapter (the library has neither): close is the gate of peer_gate.h (closed
 * flag and striped in-flight count: two uncontended RMWs per push); push and pop retry with
 * ct_peer_backoff (64 pauses, then sched_yield per retry; never sleeps).
 */
#include <boost/lockfree/queue.hpp>

#include <cerrno>
#include <new>

extern "C" {
#include "contend/queue.h"
}
#include "peer_gate.h"

namespace {

using BoostQueue = boost::lockfree::queue<void *>;
constexpr size_t BL_MAX_POOL = size_t(1) << 30;

struct BoostLf {
    ct_peer_gate gate;
    BoostQueue q;
    explicit BoostLf(size_t capacity) : q(capacity) { ct_peer_gate_init(&gate); }
};

void *bl_create(size_t capacity)
{
    if (capacity == 0 || capacity > (size_t(1) << 30)) {
        errno = EINVAL;
        return nullptr;
    }
    if ((capacity + 1) * 64 > BL_MAX_POOL) {
        errno = ENOMEM;
        return nullptr;
    }
    try {
        return new BoostLf(capacity);
    } catch (const std::bad_alloc &) {
        errno = ENOMEM;
        return nullptr;
    }
}
void bl_destroy(void *q) { delete static_cast<BoostLf *>(q); }
bool bl_try_push(void *p, void *item)
{
    BoostLf *q = static_cast<BoostLf *>(p);
    return ct_peer_gated_try_push(&q->gate, [&] { return q->q.bounded_push(item); });
}
bool bl_try_pop(void *p, void **item) { return static_cast<BoostLf *>(p)->q.pop(*item); }
bool bl_push(void *p, void *item)
{
    BoostLf *q = static_cast<BoostLf *>(p);
    return ct_peer_gated_push(&q->gate, [&] { return q->q.bounded_push(item); });
}
bool bl_pop(void *p, void **item)
{
    BoostLf *q = static_cast<BoostLf *>(p);
    return ct_peer_polled_pop(&q->gate, [&] { return q->q.pop(*item); });
}
void bl_close(void *p) { ct_peer_gate_close(&static_cast<BoostLf *>(p)->gate); }

} // namespace

extern "C" {
extern const ct_queue_class ct_peer_boost_lockfree;
const ct_queue_class ct_peer_boost_lockfree = {
    "boost-lockfree",
    "boost::lockfree::queue (Michael-Scott), N nodes, bounded_push: global FIFO; adds close, "
    "spin/yield waits",
    0, 0, bl_create, bl_destroy, bl_try_push, bl_try_pop, bl_push, bl_pop, bl_close};
}
