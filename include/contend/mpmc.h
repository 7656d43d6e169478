/* contend/mpmc.h: bounded multi-producer multi-consumer queue of void * items, lock-free
 * claim, per-cell sequence numbers, with sleeping (futex) waits and close.
 *
 * Sources. D. Vyukov, "Bounded MPMC queue", 1024cores.net (2010): an array of cells, each with
 * a sequence number that says whose turn the cell is; producers claim positions with a CAS on
 * head, consumers with a CAS on tail. Related work: rigtorp/MPMCQueue (E. Rigtorp), the same
 * design with a per-slot "turn" counter (pos / capacity) instead of an absolute sequence,
 * slots padded to a cache line, and blocking push/pop that spin on the turn.
 *
 * Positions. head is the next position to push (its top bit is the CLOSED flag, see close),
 * tail the next position to pop; both only grow (64-bit: they do not wrap in practice). Item at
 * position p lives in cell p & mask, mask = capacity - 1, capacity a power of two.
 *
 * Cell states (seq is the cell's sequence number, p a position that maps to the cell):
 *   seq == p          free for the producer of position p (lap p / capacity)
 *   seq == p + 1      full: holds the item of position p, for the consumer of p
 *   seq == p + cap    freed by the consumer of p: free for the producer of p + cap
 *   seq < p           (producer of p) the cell still holds lap p - cap: full, or popped and
 *                     not yet freed; seq < p + 1 (consumer of p): not yet published
 *   seq > p (+ 1)     the reader's p is stale: another thread already claimed p
 * (capacity >= 2 keeps p + 1 and p + cap apart: with one cell "full for p" would read as
 * "free for p + 1", which is why create rounds 1 up to 2).
 * Transitions, each by the one thread that owns the cell at that moment:
 *   claim-push  CAS head p -> p + 1 (only after reading seq == p): the cell is ours to fill
 *   publish     data := item; seq := p + 1 (release store)
 *   claim-pop   CAS tail p -> p + 1 (only after reading seq == p + 1)
 *   free        item := data; seq := p + cap (release store)
 * Between a claim and the matching store the cell belongs to exactly one thread (the CAS made
 * it the only one with that position), so data is a plain field: the release store of seq and
 * the acquire load that reads it order every access to it.
 * Invariants: tail <= head <= tail + capacity (a producer claims p only after the consumer of
 * p - cap freed the cell, which it did after moving tail past p - cap); cells at positions in
 * [tail, head) are claimed-or-full, the others free.
 *
 * Linearizability. A push takes effect at its claim (CAS on head), a pop at its claim (CAS on
 * tail): FIFO order is head order. try_pop answers "empty" only after reading head == tail
 * (the answer's linearization point is that load of head: tail == p was read before it, tail
 * cannot pass head, so at that instant the queue holds nothing); try_push answers "full" only
 * after reading tail + capacity == head (the load of tail; symmetric). A CAS lost to another
 * thread is retried, never reported as full or empty (the spurious failures reported against
 * rigtorp/MPMCQueue in its issues #41 and #46).
 *
 * Where it is not lock-free (honestly): a producer preempted between its claim and its publish
 * leaves the cell claimed but not full. The consumer of that position cannot complete (the item
 * is not there yet, and skipping it would break FIFO order and linearizability), and every
 * later consumer queues up behind it, even if later producers have published. Symmetrically a
 * consumer preempted between its claim and its free stalls the producer of p + cap. These
 * waits spin, then sched_yield() (so a preempted thread can run when threads outnumber cores);
 * try_pop / try_push wait them out too rather than answer "empty" / "full" for a queue that is
 * neither: "never waits" means never for the queue to become non-empty / non-full, only for an
 * operation already in progress on the one cell it needs (a few instructions unless preempted).
 * Measured in notes/locks_vs_lockfree.md, "A stalled producer" (`contend lab stalled-producer`):
 * while one producer sleeps in that window, every consumer waits on that one cell (none can
 * pass it), spinning and yielding rather than sleeping; the mutex queue, stalled with its lock
 * held, stops everyone too but its waiters sleep.
 *
 * Waiting. push/pop spin and yield a little (ct_backoff_snooze), then sleep on an eventcount
 * (contend/eventcount.h): not_empty for consumers, not_full for producers. A consumer sleeps
 * only after it announced itself and its recheck read head == tail (a producer: tail +
 * capacity == head), so the change that ends its wait is the next claim CAS on head (tail).
 * Those CASes and the rechecking loads are seq_cst, so every push (pop), after publishing
 * (freeing) its cell, calls ct_eventcount_notify_sc: ONE load of the waiter count while
 * nobody sleeps (a plain MOV on x86-64), no fence, no shared write, no system call; by the
 * all-seq_cst Dekker argument it finds a sleeper's announcement and wakes one. A woken thread always
 * retries, and a waiter never sleeps while a claimed cell it needs is merely unpublished (it
 * spins on it instead), so one wake per item is enough (wake-one, no thundering herd).
 *
 * Close. close sets the CLOSED bit of head with one RMW, then wakes every waiter. The claim
 * CAS on head expects a value without the bit, so a push either claimed before the close (its
 * item is in the queue and will be popped: pop returns false only once closed AND empty) or
 * sees the bit and returns false; there is no third outcome. pop's "closed and empty" is
 * read from one load of head (CLOSED set and position == tail): final, since nothing can be
 * pushed after it.
 *
 * Layout: head, tail, the read-only fields (cells, mask, capacity) and each eventcount on
 * separate CT_PAD blocks (checked with CT_ASSERT_SEPARATE_LINES in src/queues/mpmc_impl.h,
 * which mpmc.c includes). Cells are 16 bytes, not padded to a line: why, and the measurement,
 * at the cell type there.
 *
 * Memory: the queue owns one allocation (header and cells). destroy frees it; nothing may be
 * in any call on the queue then. Items are opaque: the queue never dereferences them.
 */
#ifndef CONTEND_MPMC_H
#define CONTEND_MPMC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ct_mpmc ct_mpmc;

/* The largest capacity accepted by ct_mpmc_create(). */
#define CT_MPMC_MAX_CAPACITY ((size_t)1 << 30)

/* A queue for at least capacity items (rounded up to a power of two, and to at least 2:
 * Vyukov's cell states need two cells, see "Cell states"). NULL with errno EINVAL
 * for 0 or > CT_MPMC_MAX_CAPACITY, ENOMEM when out of memory. */
ct_mpmc *ct_mpmc_create(size_t capacity);

/* Frees the queue (NULL: no-op). No thread may be using it. Items still inside are dropped. */
void ct_mpmc_destroy(ct_mpmc *q);

/* The real capacity: a power of two >= the requested one. */
size_t ct_mpmc_capacity(const ct_mpmc *q);

/* Items inside (claimed positions included), clamped to [0, capacity]: exact when quiescent,
 * approximate under concurrency (head and tail are read one after the other). */
size_t ct_mpmc_size(const ct_mpmc *q);

/* Push without waiting for room. false when full (head == tail + capacity at the linearization
 * point) or closed. Any value, NULL included, is a valid item. */
bool ct_mpmc_try_push(ct_mpmc *q, void *item);

/* Pop without waiting for an item. false when empty (head == tail at the linearization
 * point), closed or not. */
bool ct_mpmc_try_pop(ct_mpmc *q, void **item);

/* Push, waiting (spin, then sleep) while full. false once the queue is closed. */
bool ct_mpmc_push(ct_mpmc *q, void *item);

/* Pop, waiting (spin, then sleep) while empty. false once the queue is closed and empty. */
bool ct_mpmc_pop(ct_mpmc *q, void **item);

/* As push / pop, until a CLOCK_MONOTONIC deadline (ns; 0 means no deadline). false with
 * errno ETIMEDOUT when the deadline passes first, EPIPE when closed (pop: closed and empty).
 * The deadline is checked between waits: a call may return somewhat after it, never before.
 * It is not checked while the call spins on a cell that another thread has claimed but not yet
 * published (or popped but not yet freed): a peer preempted in that window delays the return
 * for as long as it stays descheduled (the one place the queue is not lock-free, above).
 * errno is meaningful only when a call returns false. */
bool ct_mpmc_push_until(ct_mpmc *q, void *item, uint64_t deadline_ns);
bool ct_mpmc_pop_until(ct_mpmc *q, void **item, uint64_t deadline_ns);

/* Close: pushes fail from now on, items already inside stay poppable, every waiter wakes
 * (blocked pops return false once the queue is empty, blocked pushes return false).
 * Idempotent. */
void ct_mpmc_close(ct_mpmc *q);

#endif
