/* linearize.h: a linearizability checker for recorded histories of a bounded FIFO queue.
 *
 * Sources. M. Herlihy and J. Wing, "Linearizability: a correctness condition for concurrent
 * objects" (TOPLAS 1990): a history is linearizable when every operation can be given one
 * instant between its invocation and its response such that the operations, run one at a
 * time in the order of those instants, are a legal run of the sequential specification.
 * J. Wing and C. Gong, "Testing and verifying concurrent objects" (JPDC 17(1), 1993): decide
 * it by a depth-first search over the operations that may go next. G. Lowe, "Testing for
 * linearizability" (Concurrency and Computation: Practice and Experience 29(4), 2017): two
 * improvements that make the search practical, both used here:
 *   - just-in-time linearization: events are walked in time order, and an operation is
 *     linearized only when it must be, at the latest before the first response that has not
 *     been linearized yet is passed (a pending response with no linearized operation means
 *     backtrack). Operations are never tried in an order that real time forbids.
 *   - memoization: the pair (set of operations linearized so far, specification state) is
 *     recorded the first time the search reaches it; reaching it again by another order
 *     cannot succeed where the first visit failed, so that branch is cut. This turns the
 *     search from "all interleavings" into "all distinct configurations", which is what lets
 *     thousands of histories of 10-25 operations check in milliseconds.
 * The same algorithm is in A. Athalye's Porcupine (Go) and in Lowe's Scala checkers; this is
 * our own C implementation of the published algorithm.
 *
 * The specification: a bounded FIFO queue of capacity C (the queue's REAL capacity: a class
 * that rounds up must be checked against the rounded figure) with a closed flag:
 *   push(v)      -> OK      when open and size < C: appends v. (A blocking push waits while the
 *                           queue is full: its linearization point is when it got room.)
 *                -> CLOSED  when closed.
 *   try_push(v)  -> OK      when open and size < C: appends v.
 *                -> FULL    when size == C OR closed: the bool API (contend/queue.h) answers
 *                           false for both and cannot tell them apart.
 *                -> CLOSED  when closed (for APIs that can tell).
 *   pop()        -> OK v    when size > 0 and the oldest item is v: removes it.
 *                -> CLOSED  when closed and size == 0.
 *   try_pop()    -> OK v    as pop; EMPTY when size == 0 (closed or not); CLOSED when closed and
 *                           size == 0.
 *   close()      -> OK      sets closed (idempotent).
 * So a try_push that answered "full" and a try_pop that answered "empty" need a justifying
 * instant inside their interval like every other operation: a queue that says "empty" while
 * an item is known to be inside is caught.
 *
 * Times. invoke and response of every operation come from ONE clock that never goes back and
 * is read by every thread: CLOCK_MONOTONIC, or (cheaper and exact) a global atomic counter
 * taken with a seq_cst fetch_add just before the call and just after it returns. Operation a
 * precedes b in real time iff a.response < b.invoke; equal times count as overlapping (the
 * permissive reading: a tie can never make a correct history fail). Every operation must have
 * completed (response >= invoke): record pending ones by waiting for them.
 *
 * Cost: checking linearizability is NP-complete (Gibbons and Korach, SIAM J. Comput. 1997);
 * with memoization the search is bounded by (distinct prefix sets) x (distinct states), small
 * for the histories this checker is meant for (a handful of threads, a few operations each).
 * Memory grows with the configurations visited; a limit on them makes the call give up (-1,
 * E2BIG) rather than run away.
 */
#ifndef CONTEND_LINEARIZE_H
#define CONTEND_LINEARIZE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum ct_lin_kind {
    CT_LIN_PUSH,     /* blocking push */
    CT_LIN_TRY_PUSH,
    CT_LIN_POP,      /* blocking pop */
    CT_LIN_TRY_POP,
    CT_LIN_CLOSE,
} ct_lin_kind;

typedef enum ct_lin_result {
    CT_LIN_OK,     /* push / try_push: the item went in; pop / try_pop: value came out */
    CT_LIN_FULL,   /* try_push only: full, or closed (see above) */
    CT_LIN_EMPTY,  /* try_pop only: empty */
    CT_LIN_CLOSED, /* push, try_push: closed; pop, try_pop: closed and empty */
} ct_lin_result;

typedef struct ct_lin_op {
    unsigned thread;      /* for printing only: the search does not need it */
    ct_lin_kind kind;
    ct_lin_result result;
    uint64_t value;       /* push / try_push: the argument; pop / try_pop with OK: what came out */
    uint64_t invoke;      /* clock value before the call */
    uint64_t response;    /* clock value after it returned; >= invoke */
} ct_lin_op;

/* Configurations (linearized set, state) the search may record before it gives up. */
#define CT_LIN_MAX_CONFIGS ((size_t)1 << 22)

/* Decides whether ops[0..n) is linearizable against the bounded FIFO specification above with
 * capacity `capacity`. Returns 1 (linearizable), 0 (not), or -1 with errno: EINVAL (capacity 0,
 * n > 0 with ops NULL, a response before its invocation, a result the kind cannot give, an
 * unknown kind), ENOMEM, E2BIG (more than CT_LIN_MAX_CONFIGS configurations). When it returns
 * 1 and order is not NULL, order[0..n) receives the indices of ops in one valid linearization
 * order. */
int ct_lin_check_fifo(const ct_lin_op *ops, size_t n, size_t capacity, size_t *order);

/* Prints the history, one operation a line, sorted by invocation, with its interval; for
 * failure reports. */
void ct_lin_print(FILE *f, const ct_lin_op *ops, size_t n);

const char *ct_lin_kind_name(ct_lin_kind kind);
const char *ct_lin_result_name(ct_lin_result result);

#endif
