/* Peer queue `ck-ring`: Concurrency Kit's ck_ring (concurrencykit/ck, BSD-2-Clause, Debian
 * libck-dev) in its MPMC form, ck_ring_enqueue_mpmc / ck_ring_dequeue_mpmc, behind
 * ct_queue_class.
 *
 * The library: a power-of-two ring of pointer slots and three counters. A producer claims a
 * position by CAS on p_head, writes the slot, waits until p_tail reaches its position and
 * publishes by storing p_tail = position + 1, so items become visible in claim order; a
 * consumer reads the slot at c_head and claims it by CAS on c_head. Hence GLOBAL FIFO
 * (linearizable). Not lock-free for producers: one preempted between its claim and its
 * publication holds up every later producer (they spin in ck_pr_stall) and every consumer.
 * ck_ring keeps one slot free, so a ring of size S holds S - 1 items.
 *
 * Configuration: capacity N gets the smallest power-of-two ring holding N items (size >= N + 1;
 * ck_ring_init requires a power of two), so the real capacity is that size - 1 >= N. The buffer
 * is allocated once at create; the ring never allocates afterwards.
 *
 * try_pop uses ck_ring_dequeue_mpmc, which retries a lost CAS internally and fails only when
 * empty; ck_ring_trydequeue_mpmc also fails when it loses the CAS race, which the class
 * contract ("a failure is never spurious") forbids. try_push: ck_ring_enqueue_mpmc fails only
 * when full.
 *
 * Added by the adapter (ck_ring has neither): close is the gate of peer_gate.h (a closed flag and
 * a striped in-flight count: two uncontended RMWs per push); push and pop wait by retrying the
 * try operation with ct_peer_backoff (64 pauses, then sched_yield per retry; never sleeps).
 *
 * ck's atomics are inline assembly, invisible to ThreadSanitizer: peers stay out of the TSan
 * build (Makefile).
 */
#include <ck_ring.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "contend/queue.h"
#include "peer_gate.h"

typedef struct ck_ring_queue {
    ct_peer_gate gate;
    ck_ring_t ring;
    ck_ring_buffer_t *buf;
} ck_ring_queue;

static void *ck_ring_q_create(size_t capacity)
{
    if (capacity == 0 || capacity > ((size_t)1 << 30)) {
        errno = EINVAL;
        return NULL;
    }
    size_t size = 2;
    while (size < capacity + 1)
        size <<= 1;
    ck_ring_queue *q = aligned_alloc(CT_PEER_GATE_LINE,
                                     (sizeof *q + CT_PEER_GATE_LINE - 1) / CT_PEER_GATE_LINE *
                                         CT_PEER_GATE_LINE);
    if (!q) {
        errno = ENOMEM;
        return NULL;
    }
    q->buf = calloc(size, sizeof *q->buf);
    if (!q->buf) {
        free(q);
        errno = ENOMEM;
        return NULL;
    }
    ct_peer_gate_init(&q->gate);
    ck_ring_init(&q->ring, (unsigned)size);
    return q;
}

static void ck_ring_q_destroy(void *p)
{
    ck_ring_queue *q = p;
    if (!q)
        return;
    free(q->buf);
    free(q);
}

static bool ck_ring_q_try_push(void *p, void *item)
{
    ck_ring_queue *q = p;
    unsigned stripe;
    if (!ct_peer_gate_enter(&q->gate, &stripe))
        return false;
    bool ok = ck_ring_enqueue_mpmc(&q->ring, q->buf, item);
    ct_peer_gate_leave(&q->gate, stripe);
    return ok;
}

static bool ck_ring_q_try_pop(void *p, void **item)
{
    ck_ring_queue *q = p;
    return ck_ring_dequeue_mpmc(&q->ring, q->buf, item);
}

static bool ck_ring_q_push(void *p, void *item)
{
    ck_ring_queue *q = p;
    unsigned stripe, n = 0;
    if (!ct_peer_gate_enter(&q->gate, &stripe))
        return false;
    /* Inside the gate for the whole wait: a consumer that finds the queue closed and empty
     * waits for us, and we see the close at the next retry and leave without an item. */
    while (!ck_ring_enqueue_mpmc(&q->ring, q->buf, item)) {
        if (ct_peer_gate_closed(&q->gate)) {
            ct_peer_gate_leave(&q->gate, stripe);
            return false;
        }
        ct_peer_backoff(&n);
    }
    ct_peer_gate_leave(&q->gate, stripe);
    return true;
}

static bool ck_ring_q_pop(void *p, void **item)
{
    ck_ring_queue *q = p;
    for (unsigned n = 0;; ct_peer_backoff(&n)) {
        if (ck_ring_dequeue_mpmc(&q->ring, q->buf, item))
            return true;
        if (ct_peer_gate_closed(&q->gate) && ct_peer_gate_drained(&q->gate))
            return ck_ring_dequeue_mpmc(&q->ring, q->buf, item);
    }
}

static void ck_ring_q_close(void *p)
{
    ck_ring_queue *q = p;
    ct_peer_gate_close(&q->gate);
}

const ct_queue_class ct_peer_ck_ring = {
    "ck-ring",
    "Concurrency Kit ck_ring MPMC: global FIFO; adapter adds close, spin/yield waits",
    0,
    0,
    ck_ring_q_create,
    ck_ring_q_destroy,
    ck_ring_q_try_push,
    ck_ring_q_try_pop,
    ck_ring_q_push,
    ck_ring_q_pop,
    ck_ring_q_close,
};
