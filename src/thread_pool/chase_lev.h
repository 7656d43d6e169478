/* chase_lev.h: the Chase-Lev work-stealing deque of tasks, in its C11 form (internal to
 * src/thread_pool; tests include it directly).
 *
 * Sources. D. Chase and Y. Lev, "Dynamic Circular Work-Stealing Deque", SPAA 2005: a growable
 * circular array, one owner that pushes and takes at the bottom, any number of thieves that
 * steal at the top with a CAS. N. M. Le, A. Pop, A. Cohen and F. Zappa Nardelli, "Correct and
 * Efficient Work-Stealing for Weak Memory Models", PPoPP 2013: the first proof of the deque on
 * a weak memory model, and the C11 version whose orders this file follows (their Figure 1),
 * step for step; comments at each atomic say why its order suffices.
 *
 * State.
 *   top      (thieves and the owner's last-element race) index of the oldest task; only grows,
 *            only by a successful CAS.
 *   bottom   (owner only writes) one past the newest task.
 *   array    the current circular buffer, capacity a power of two; element i lives in slot
 *            i & mask. Replaced (doubled) only by the owner, in push.
 * Invariants.
 *   I1  top <= bottom + 1 at every instant, and top <= bottom whenever the owner is not inside
 *       take (take lowers bottom first, then repairs it).
 *   I2  The tasks are the elements at indices [top, bottom); each index is taken exactly once:
 *       by the owner in take (index bottom - 1), or by exactly one successful CAS of top from
 *       that index (thieves, or the owner for the last element).
 *   I3  bottom - top <= capacity of the array the owner writes into: push grows the array
 *       before it would overwrite a slot whose index is still >= top.
 *   I4  An array is never written once it has been replaced, and never freed while the deque
 *       lives (retired arrays are kept on a list and freed by ct_cl_destroy), so a thief that
 *       loaded an old array pointer reads stable memory: a task it reads there is the task of
 *       that index, or its CAS on top fails.
 * Indices are 64-bit signed and only grow: they do not wrap in practice (2^63 pushes).
 *
 * The race on the last element. When one task is left (top == bottom - 1), the owner taking
 * it and a thief stealing it both want index t. take first lowers bottom to t (a store), then
 * reads top; steal reads top, then bottom. With the seq_cst fences between each store and load,
 * at least one of them sees the other (store-buffering: two fences are ordered in the single
 * total order S; whichever comes second reads the other's store or a later value). If the thief
 * sees bottom == t it reports empty. If the owner sees top == t it cannot know whether the thief
 * saw its store, so both CAS top t -> t+1: exactly one wins; the owner then restores bottom to
 * t + 1 (== new top: empty). If top > t already, the owner lost before it started and restores
 * bottom. A thief whose CAS fails reports "retry" (CT_CL_ABORT), never a task.
 *
 * The elements are three words (fn, arg, group) held in relaxed atomics: a thief may read a
 * slot while the owner rewrites it after the thief's index was taken by someone else (a
 * harmless race in the paper's terms: the thief's CAS then fails and it discards what it read).
 * Publication of the words is by the release fence in push and the acquire loads in steal.
 *
 * Synchronization table (X: callers must serialize; "-": may run concurrently)
 *             push  take  steal  destroy
 *   push       X     X     -      X
 *   take       X     X     -      X
 *   steal      -     -     -      X
 * push and take are the owner's; steal is anyone's (the FIFO scheduler's owner steals from its
 * own deque too).
 *
 * ThreadSanitizer does not model standalone fences (and gcc refuses them under
 * -fsanitize=thread). Under CT_TSAN: push's release fence + relaxed store of bottom becomes a
 * release store (at least as strong, and TSan sees the edge); the seq_cst fences of take and
 * steal go, and the four accesses of the store-buffering pair (take's store of bottom and load
 * of top, steal's loads of top and bottom) become seq_cst themselves: seq_cst accesses are
 * totally ordered in S and a seq_cst load reads the last store before it in S (every store of
 * top is a seq_cst CAS), so the two sides still cannot both miss each other. Same invariants,
 * one more locked instruction per take on x86; only the sanitizer build pays it.
 */
#ifndef CONTEND_CHASE_LEV_H
#define CONTEND_CHASE_LEV_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "contend/arch.h"
#include "contend/chaos.h"

typedef void (*ct_task_fn)(void *);
struct ct_group;

typedef struct ct_task {
    ct_task_fn fn;
    void *arg;
    struct ct_group *group;
} ct_task;

typedef struct ct_cl_slot {
    _Atomic(ct_task_fn) fn;
    void *_Atomic arg;
    struct ct_group *_Atomic group;
} ct_cl_slot;

typedef struct ct_cl_array {
    int64_t mask;                     /* capacity - 1 */
    struct ct_cl_array *retired_next; /* owner-only: older arrays, freed at destroy */
    ct_cl_slot slot[];
} ct_cl_array;

typedef struct ct_cl_deque {
    CT_PAD_ALIGNED _Atomic int64_t top;
    CT_PAD_ALIGNED _Atomic int64_t bottom;
    ct_cl_array *_Atomic array;
    ct_cl_array *retired;             /* owner-only */
} ct_cl_deque;
CT_ASSERT_SEPARATE_LINES(ct_cl_deque, top, bottom);

enum { CT_CL_OK = 0, CT_CL_EMPTY = 1, CT_CL_ABORT = 2 };

#define CT_CL_MIN_CAPACITY 64

static inline ct_cl_array *ct__cl_array_new(int64_t capacity)
{
    ct_cl_array *a = malloc(sizeof *a + (size_t)capacity * sizeof(ct_cl_slot));
    if (!a)
        return NULL;
    a->mask = capacity - 1;
    a->retired_next = NULL;
    /* Slots start unset; they are only read at indices a push wrote first. */
    for (int64_t i = 0; i < capacity; i++) {
        atomic_init(&a->slot[i].fn, (ct_task_fn)0);
        atomic_init(&a->slot[i].arg, (void *)0);
        atomic_init(&a->slot[i].group, (struct ct_group *)0);
    }
    return a;
}

/* 0, or -1 with errno ENOMEM (capacity rounded up to a power of two >= 64). */
static inline int ct_cl_init(ct_cl_deque *d, int64_t capacity)
{
    int64_t cap = CT_CL_MIN_CAPACITY;
    while (cap < capacity)
        cap *= 2;
    ct_cl_array *a = ct__cl_array_new(cap);
    if (!a) {
        errno = ENOMEM;
        return -1;
    }
    atomic_init(&d->top, 0);
    atomic_init(&d->bottom, 0);
    atomic_init(&d->array, a);
    d->retired = NULL;
    return 0;
}

static inline void ct_cl_destroy(ct_cl_deque *d)
{
    free(atomic_load_explicit(&d->array, memory_order_relaxed));
    for (ct_cl_array *a = d->retired, *next; a; a = next) {
        next = a->retired_next;
        free(a);
    }
    d->retired = NULL;
}

static inline void ct__cl_write(ct_cl_array *a, int64_t i, const ct_task *t)
{
    ct_cl_slot *s = &a->slot[i & a->mask];
    /* Relaxed: published by push's release fence (or release store) of bottom. */
    atomic_store_explicit(&s->fn, t->fn, memory_order_relaxed);
    atomic_store_explicit(&s->arg, t->arg, memory_order_relaxed);
    atomic_store_explicit(&s->group, t->group, memory_order_relaxed);
}

static inline void ct__cl_read(ct_cl_array *a, int64_t i, ct_task *t)
{
    ct_cl_slot *s = &a->slot[i & a->mask];
    /* Relaxed: ordered after the push that wrote them by the acquire load of bottom (thief)
     * or program order (owner); a stale read is discarded when the CAS on top fails. */
    t->fn = atomic_load_explicit(&s->fn, memory_order_relaxed);
    t->arg = atomic_load_explicit(&s->arg, memory_order_relaxed);
    t->group = atomic_load_explicit(&s->group, memory_order_relaxed);
}

/* Owner only: doubles the array, copying [t, b). 0 or -1 (ENOMEM, deque unchanged). */
static inline int ct__cl_grow(ct_cl_deque *d, ct_cl_array *a, int64_t t, int64_t b)
{
    ct_cl_array *n = ct__cl_array_new((a->mask + 1) * 2);
    if (!n) {
        errno = ENOMEM;
        return -1;
    }
    for (int64_t i = t; i < b; i++) {
        ct_task x;
        ct__cl_read(a, i, &x);
        ct__cl_write(n, i, &x);
    }
    /* Release: a thief that loads the new array (acquire) sees the copied slots. The old array
     * stays readable (I4): a thief that still holds it reads the same tasks there. */
    atomic_store_explicit(&d->array, n, memory_order_release);
    a->retired_next = d->retired;
    d->retired = a;
    return 0;
}

/* Owner only. Returns the number of tasks in the deque before this push (>= 0), or -1 with
 * errno ENOMEM when the array could not grow (nothing pushed). */
static inline int64_t ct_cl_push(ct_cl_deque *d, const ct_task *x)
{
    /* Relaxed: bottom is only written by the owner (us). */
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
    /* Acquire: pairs with the thieves' successful CAS on top (seq_cst, so also a release):
     * once we see top past an index, the thief's read of that slot happened before, so the
     * slot may be overwritten (I3). */
    int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
    ct_cl_array *a = atomic_load_explicit(&d->array, memory_order_relaxed);
    if (b - t > a->mask) {
        if (ct__cl_grow(d, a, t, b))
            return -1;
        a = atomic_load_explicit(&d->array, memory_order_relaxed);
    }
    ct__cl_write(a, b, x);
    CT_CHAOS();
#ifdef CT_TSAN
    atomic_store_explicit(&d->bottom, b + 1, memory_order_release);
#else
    /* Release fence: the slot's words (and everything the spawner wrote for the task before
     * calling push) are visible to a thief whose acquire load of bottom reads b + 1. */
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
#endif
    return b - t;
}

/* Owner only: the newest task. CT_CL_OK (task in *out) or CT_CL_EMPTY. */
static inline int ct_cl_take(ct_cl_deque *d, ct_task *out)
{
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed) - 1;
    ct_cl_array *a = atomic_load_explicit(&d->array, memory_order_relaxed);
#ifdef CT_TSAN
    /* TSan form (header): the store and the load both seq_cst, no fence. */
    atomic_store_explicit(&d->bottom, b, memory_order_seq_cst);
    CT_CHAOS();
    int64_t t = atomic_load_explicit(&d->top, memory_order_seq_cst);
#else
    /* Relaxed store, then a seq_cst fence: the store-buffering pair with steal (header). */
    atomic_store_explicit(&d->bottom, b, memory_order_relaxed);
    CT_CHAOS();
    atomic_thread_fence(memory_order_seq_cst);
    /* Relaxed: ordered after the bottom store by the fence; a thief that read our old bottom
     * has, by the fence pair, its CAS visible here or it will see the new bottom. */
    int64_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
#endif
    if (t > b) { /* empty: restore bottom (== t) */
        atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
        return CT_CL_EMPTY;
    }
    ct__cl_read(a, b, out);
    if (t < b)
        return CT_CL_OK; /* more than one left: no thief can reach index b (they CAS top < b) */
    CT_CHAOS();
    /* The last element: race the thieves for index t with the same CAS they use. seq_cst, as in
     * Le et al.: it is also what makes the winner unique (one RMW per value of top). */
    int64_t expected = t;
    bool won = atomic_compare_exchange_strong_explicit(&d->top, &expected, t + 1,
                                                       memory_order_seq_cst,
                                                       memory_order_relaxed);
    /* Relaxed: owner's own word; thieves read it with the fence pair above. */
    atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
    return won ? CT_CL_OK : CT_CL_EMPTY;
}

/* Anyone: the oldest task. CT_CL_OK (task in *out), CT_CL_EMPTY, or CT_CL_ABORT (lost a race:
 * the deque may still hold tasks). *left, when not NULL, gets the tasks seen left after ours. */
static inline int ct_cl_steal(ct_cl_deque *d, ct_task *out, int64_t *left)
{
    /* Acquire: pairs with other thieves' CAS (and the owner's), so the slot we read below is
     * not one whose index was taken before the top we read (with the acquire of bottom, the
     * push that wrote it happens before our read). */
#ifdef CT_TSAN
    int64_t t = atomic_load_explicit(&d->top, memory_order_seq_cst);
    CT_CHAOS();
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_seq_cst);
#else
    int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
    CT_CHAOS();
    /* seq_cst fence: the other half of the store-buffering pair with take (header). */
    atomic_thread_fence(memory_order_seq_cst);
    /* Acquire: pairs with push's release fence (or store): the slot words of every index below
     * the bottom we read are visible. */
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_acquire);
#endif
    if (t >= b)
        return CT_CL_EMPTY;
    /* Acquire (Le et al. use consume, which compilers promote to acquire): pairs with grow's
     * release store, so the copied slots of a new array are visible. */
    ct_cl_array *a = atomic_load_explicit(&d->array, memory_order_acquire);
    ct__cl_read(a, t, out);
    CT_CHAOS();
    int64_t expected = t;
    /* seq_cst CAS: the single point where index t is taken (I2); its release half lets the
     * owner's acquire load of top in push know the slot was read. */
    if (!atomic_compare_exchange_strong_explicit(&d->top, &expected, t + 1,
                                                 memory_order_seq_cst, memory_order_relaxed))
        return CT_CL_ABORT;
    if (left)
        *left = b - t - 1;
    return CT_CL_OK;
}

/* Anyone: a hint (may be stale by the time the caller acts). */
static inline bool ct_cl_maybe_nonempty(ct_cl_deque *d)
{
    int64_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
    return b > t;
}

#endif
