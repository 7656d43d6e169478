/* Peer queue `tbb-bounded`: oneTBB's tbb::concurrent_bounded_queue (oneapi-src/oneTBB,
 * Apache-2.0, Debian libtbb-dev), behind ct_queue_class through an extern "C" table.
 *
 * The library: every push takes a ticket from one tail counter, every pop one from one head
 * counter; ticket k's item goes to micro-queue k mod 8 (each a list of pages under a small
 * lock), and the pop holding ticket k waits for it. Blocking push (while full) and pop (while
 * empty) spin a little, then sleep on TBB's concurrent monitors. Items leave in ticket order;
 * the documented guarantee is only that two items pushed by one thread and popped by one
 * thread keep their order: PER-PRODUCER FIFO (TBB developer guide, "Concurrent Queue Classes").
 * Not lock-free: a micro-queue's page list is guarded by a spin mutex, and a push or pop that
 * holds a ticket but is preempted holds up the pop of that ticket.
 *
 * Configuration, as the oneTBB reference describes a bounded queue: default construction,
 * then set_capacity(N): exactly N items fit. try_push / try_pop are the library's
 * try_push / try_pop (failing only when full / empty); push and pop are its blocking push and
 * pop. TBB allocates pages of items as they are needed (cache_aligned_allocator) and offers no
 * pre-sizing; a bad_alloc from push is reported as a failed push.
 *
 * Added by the adapter: close. TBB's own abort() makes every thread waiting inside push or pop
 * at that moment throw tbb::user_abort, but it is not sticky (a call that starts after it waits
 * as usual), and an aborted pop gives its ticket back (head_counter--), which is only safe when
 * no push can land meanwhile. So:
 *  - the gate of peer_gate.h (closed flag + striped in-flight count) fronts every push: after
 *    close no push starts, and a pop that finds the queue closed and empty waits (yielding)
 *    until the pushes in flight are done, then tries once more;
 *  - a thread about to block inside TBB first counts itself in `push_waiters`/`pop_waiters`,
 *    then re-checks `closed` (Dekker against close: one of the two sees the other);
 *  - close() sets `closed`, then, yielding between rounds until every waiter has left: calls
 *    abort() while a push waits (a full queue: consumers are not waiting then), or while a pop
 *    waits once no push is in flight (the tail can no longer move, so giving tickets back is
 *    safe). So close() itself waits, briefly, for the pushes in flight and the waiters.
 *  On the fast path (try succeeds) push pays the gate (two uncontended RMWs); pop pays nothing.
 */
#include <oneapi/tbb/concurrent_queue.h>

#include <atomic>
#include <cerrno>
#include <new>

extern "C" {
#include "contend/queue.h"
}
#include "peer_gate.h"

namespace {

struct TbbQ {
    ct_peer_gate gate;
    tbb::concurrent_bounded_queue<void *> q;
    alignas(CT_PEER_GATE_LINE) std::atomic<unsigned> push_waiters{0};
    std::atomic<unsigned> pop_waiters{0};
    explicit TbbQ(size_t capacity)
    {
        ct_peer_gate_init(&gate);
        q.set_capacity(static_cast<std::ptrdiff_t>(capacity));
    }
};

void *tbb_create(size_t capacity)
{
    if (capacity == 0 || capacity > (size_t(1) << 30)) {
        errno = EINVAL;
        return nullptr;
    }
    try {
        return new TbbQ(capacity);
    } catch (const std::bad_alloc &) {
        errno = ENOMEM;
        return nullptr;
    }
}
void tbb_destroy(void *q) { delete static_cast<TbbQ *>(q); }

bool tbb_try_push(void *p, void *item)
{
    TbbQ *q = static_cast<TbbQ *>(p);
    return ct_peer_gated_try_push(&q->gate, [&] {
        try {
            return q->q.try_push(item);
        } catch (const std::bad_alloc &) {
            return false;
        }
    });
}

bool tbb_try_pop(void *p, void **item) { return static_cast<TbbQ *>(p)->q.try_pop(*item); }

bool tbb_push(void *p, void *item)
{
    TbbQ *q = static_cast<TbbQ *>(p);
    unsigned stripe;
    if (!ct_peer_gate_enter(&q->gate, &stripe))
        return false;
    bool ok = false;
    try {
        ok = q->q.try_push(item);
    } catch (const std::bad_alloc &) { /* a page for the item could not be allocated */
        ct_peer_gate_leave(&q->gate, stripe);
        return false;
    }
    if (!ok) {
        q->push_waiters.fetch_add(1, std::memory_order_seq_cst);
        if (!ct_peer_gate_closed(&q->gate)) {
            try {
                q->q.push(item);
                ok = true;
            } catch (const tbb::user_abort &) {
                /* only close() aborts: closed, and the item was not enqueued */
            } catch (const std::bad_alloc &) {
            }
        }
        q->push_waiters.fetch_sub(1, std::memory_order_release);
    }
    ct_peer_gate_leave(&q->gate, stripe);
    return ok;
}

bool tbb_pop(void *p, void **item)
{
    TbbQ *q = static_cast<TbbQ *>(p);
    for (;;) {
        if (q->q.try_pop(*item))
            return true;
        if (ct_peer_gate_closed(&q->gate)) {
            if (ct_peer_gate_drained(&q->gate))
                return q->q.try_pop(*item);
            sched_yield(); /* a push in flight will land (or fail) soon */
            continue;
        }
        q->pop_waiters.fetch_add(1, std::memory_order_seq_cst);
        bool got = false;
        if (!ct_peer_gate_closed(&q->gate)) {
            try {
                q->q.pop(*item);
                got = true;
            } catch (const tbb::user_abort &) {
                /* closed: loop, take what is left */
            }
        }
        q->pop_waiters.fetch_sub(1, std::memory_order_release);
        if (got)
            return true;
    }
}

void tbb_close(void *p)
{
    TbbQ *q = static_cast<TbbQ *>(p);
    ct_peer_gate_close(&q->gate);
    for (;;) {
        unsigned pushers = q->push_waiters.load(std::memory_order_seq_cst);
        unsigned poppers = q->pop_waiters.load(std::memory_order_seq_cst);
        bool drained = ct_peer_gate_drained(&q->gate);
        if (!pushers && !poppers && drained)
            return;
        if (pushers || (poppers && drained))
            q->q.abort();
        sched_yield();
    }
}

} // namespace

extern "C" {
extern const ct_queue_class ct_peer_tbb_bounded;
const ct_queue_class ct_peer_tbb_bounded = {
    "tbb-bounded",
    "tbb::concurrent_bounded_queue, set_capacity(N): per-producer FIFO; push/pop sleep; "
    "close added via abort()",
    0, 0, tbb_create, tbb_destroy, tbb_try_push, tbb_try_pop, tbb_push, tbb_pop, tbb_close};
}
