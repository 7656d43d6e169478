/* peer_gate.h: close and waiting for peer queues whose library has neither.
 *
 * ct_queue_class (contend/queue.h) asks every queue for close(): try_push/push fail once it
 * happened, pop returns false once the queue is closed AND empty, and every push that returned
 * true yields an item that some pop returns. None of the peer libraries has a close, so each
 * adapter puts this gate in front of its queue. The gate is shared by C (ck-ring) and C++
 * adapters, so it uses the GCC/Clang __atomic builtins, which both languages (and TSan)
 * understand, instead of <stdatomic.h> (C only) or <atomic> (C++ only).
 *
 * The race the gate closes: a producer checks `closed`, is preempted, the queue is closed, a
 * consumer finds it empty and closed and returns false, then the producer's item lands: a push
 * that returned true whose item no pop returned. So a producer announces itself before it
 * looks at `closed` (enter: +1 on an in-flight counter), and a consumer that finds the queue
 * closed and empty waits until no announced producer remains (drained), then looks once more.
 *
 * Why the orders suffice (Dekker's pattern; all four accesses seq_cst):
 *   producer: F = inflight += 1; L1 = load closed        closer: S = store closed = 1
 *   consumer: L2 = load closed (sees 1); L3 = load inflight (all stripes)
 * If L1 read 0, L1 precedes S in the single total order of seq_cst operations, hence
 * F < L1 < S < L2 < L3: L3 sees F's increment, or a later decrement. The decrement (leave) is
 * a release that follows the producer's enqueue, and L3 is an acquire, so if L3 sees it the
 * enqueue happens-before the consumer's final dequeue attempt, which therefore finds the item
 * (or another consumer already has it). If L1 read 1 the producer enqueues nothing.
 *
 * Cost: the counter is striped (CT_PEER_GATE_STRIPES lines, a thread picks one by a
 * thread-local index), so the two RMWs a push pays hit a line that usually stays in its own
 * cache; `closed` sits on a read-mostly line of its own. Consumers pay nothing on the fast
 * path: they read the gate only when the queue is empty.
 *
 * ct_peer_backoff: the waiting that a library without blocking operations gets: spin
 * CT_PEER_SPINS times with the CPU's pause hint, then sched_yield() on every further retry.
 * It never sleeps, so oversubscribed runs of those peers burn CPU by design of the library.
 */
#ifndef CONTEND_PEER_GATE_H
#define CONTEND_PEER_GATE_H

#include <sched.h>
#include <stdbool.h>
#include <string.h>

#define CT_PEER_GATE_STRIPES 16u
#define CT_PEER_GATE_LINE 128 /* CT_PAD: a line and its adjacent-prefetch neighbour */
#define CT_PEER_SPINS 64u

typedef struct ct_peer_gate_stripe {
    unsigned long inflight;
    char pad[CT_PEER_GATE_LINE - sizeof(unsigned long)];
} __attribute__((aligned(CT_PEER_GATE_LINE))) ct_peer_gate_stripe;

typedef struct ct_peer_gate {
    ct_peer_gate_stripe stripe[CT_PEER_GATE_STRIPES];
    int closed __attribute__((aligned(CT_PEER_GATE_LINE)));
    char pad[CT_PEER_GATE_LINE - sizeof(int)];
} ct_peer_gate;

static inline void ct_peer_gate_init(ct_peer_gate *g) { memset(g, 0, sizeof *g); }

static inline unsigned ct_peer_gate_stripe_of_thread(void)
{
    static unsigned next;          /* per translation unit: only spreads threads */
    static __thread unsigned mine; /* 0 = not assigned yet, else stripe + 1 */
    if (!mine) /* relaxed: any value spreads; atomicity only avoids a data race */
        mine = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) % CT_PEER_GATE_STRIPES + 1;
    return mine - 1;
}

/* Announces a push. Returns false (and announces nothing) when the queue is closed; else the
 * caller enqueues, or fails, and then calls ct_peer_gate_leave(g, *stripe). */
static inline bool ct_peer_gate_enter(ct_peer_gate *g, unsigned *stripe)
{
    unsigned s = ct_peer_gate_stripe_of_thread();
    __atomic_fetch_add(&g->stripe[s].inflight, 1, __ATOMIC_SEQ_CST);  /* F above */
    if (__atomic_load_n(&g->closed, __ATOMIC_SEQ_CST)) {               /* L1 above */
        __atomic_fetch_sub(&g->stripe[s].inflight, 1, __ATOMIC_RELAXED); /* enqueued nothing */
        return false;
    }
    *stripe = s;
    return true;
}

/* Release: the enqueue before it is visible to a consumer whose drained() sees the decrement. */
static inline void ct_peer_gate_leave(ct_peer_gate *g, unsigned stripe)
{
    __atomic_fetch_sub(&g->stripe[stripe].inflight, 1, __ATOMIC_RELEASE);
}

static inline void ct_peer_gate_close(ct_peer_gate *g) /* S above; idempotent */
{
    __atomic_store_n(&g->closed, 1, __ATOMIC_SEQ_CST);
}

static inline bool ct_peer_gate_closed(const ct_peer_gate *g) /* L2 above */
{
    return __atomic_load_n(&g->closed, __ATOMIC_SEQ_CST) != 0;
}

/* Closed and no push in flight: every push that will ever succeed has enqueued. Call only
 * after ct_peer_gate_closed() returned true; then one more dequeue attempt decides. */
static inline bool ct_peer_gate_drained(const ct_peer_gate *g) /* L3 above */
{
    for (unsigned i = 0; i < CT_PEER_GATE_STRIPES; i++)
        if (__atomic_load_n(&g->stripe[i].inflight, __ATOMIC_SEQ_CST) != 0)
            return false;
    return true;
}

static inline void ct_peer_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

/* One failed attempt: pause while *n < CT_PEER_SPINS, then yield the CPU. */
static inline void ct_peer_backoff(unsigned *n)
{
    if (*n < CT_PEER_SPINS) {
        ++*n;
        ct_peer_pause();
    } else {
        sched_yield();
    }
}

#ifdef __cplusplus
/* The same waiting for the C++ adapters, over any try-enqueue / try-dequeue callable. */

/* try_push: enqueue only while open. */
template <class Enq> static inline bool ct_peer_gated_try_push(ct_peer_gate *g, Enq enq)
{
    unsigned stripe;
    if (!ct_peer_gate_enter(g, &stripe))
        return false;
    bool ok = enq();
    ct_peer_gate_leave(g, stripe);
    return ok;
}

/* push for a library without a blocking enqueue: retry with backoff, inside the gate for the
 * whole wait, until it fits or the queue is closed. */
template <class Enq> static inline bool ct_peer_gated_push(ct_peer_gate *g, Enq enq)
{
    unsigned stripe, n = 0;
    if (!ct_peer_gate_enter(g, &stripe))
        return false;
    while (!enq()) {
        if (ct_peer_gate_closed(g)) {
            ct_peer_gate_leave(g, stripe);
            return false;
        }
        ct_peer_backoff(&n);
    }
    ct_peer_gate_leave(g, stripe);
    return true;
}

/* pop for a library without a blocking dequeue: retry with backoff until an item comes, or
 * the queue is closed, no push is in flight and one last attempt finds nothing. */
template <class Deq> static inline bool ct_peer_polled_pop(ct_peer_gate *g, Deq deq)
{
    for (unsigned n = 0;; ct_peer_backoff(&n)) {
        if (deq())
            return true;
        if (ct_peer_gate_closed(g) && ct_peer_gate_drained(g))
            return deq();
    }
}
#endif

#endif
