/* contend/stack.h: the Treiber stack family and its registry.
 *
 * Source. R. K. Treiber, "Systems Programming: Coping with Parallelism", IBM Almaden RJ 5118,
 * 1986: a singly linked list whose head is swung by compare-and-swap. push: n->next = head;
 * CAS(head, n->next, n). pop: h = head; next = h->next; CAS(head, h, next). Push is safe as is;
 * pop is where the trouble lives: between reading h and next and the CAS, h may be popped,
 * freed, reallocated and pushed again (the ABA problem, notes/aba_problem.md), and reading
 * h->next at all touches memory another thread may have freed. The variants differ only in how
 * they answer that:
 *
 *   naive   plain CAS on the head pointer, popped nodes freed at once. DELIBERATELY BROKEN:
 *           for `contend lab aba` and the tests that show the failure. Never benchmarked.
 *   tagged  the head is (pointer, counter) and every change increments the counter, so a CAS
 *           with a stale counter fails even when the pointer is the same again. x86_64: a
 *           16-byte CMPXCHG16B in inline assembly (always lock-free; gcc's __atomic on 16
 *           bytes would call libatomic, which may take a lock). Elsewhere, and in the TSan
 *           build (which cannot see inline assembly), a packed 64-bit word: 48-bit pointer and
 *           16-bit tag (nodes whose address does not fit are refused: push fails, EOVERFLOW;
 *           the tag wraps after 65536 changes, so a pop stalled across exactly a multiple of
 *           that could still be fooled: negligible, not impossible). Nodes are recycled
 *           through a per-thread cache (up to 64 nodes per handle, returned at leave) and a
 *           second tagged stack (the shared free list), and never returned to the allocator
 *           while the stack lives, so a stale reader's load of h->next reads a node of this
 *           stack (an atomic field, relaxed: the value is only trusted if the CAS succeeds).
 *   hazard  Michael's hazard pointers (contend/hazard.h, one slot per thread): pop protects h
 *           (re-validated), so h cannot be freed or reused while the CAS is pending.
 *   epoch   Fraser's epochs (contend/epoch.h): pop runs inside a critical section, so nothing
 *           popped since it entered can be freed before it leaves.
 *   mutex   one pthread mutex around a plain list: the baseline.
 *
 * Invariants (every correct variant): every pushed item is popped exactly once or is still in
 * the stack (no loss, no duplicate); LIFO per linearization order; no node is read after it is
 * freed. Linearization points: the successful CAS on head (push and pop); an empty pop at its
 * load of head that read NULL.
 *
 * Memory orders (lock-free variants). push: the node's fields are written, then the CAS on
 * head is release (acq_rel for tagged/cmpxchg16b, a full barrier anyway): a pop that reads
 * the new head with acquire sees them. pop: head is loaded with acquire (hazard: seq_cst,
 * inside protect) so h->next and h->item are the pusher's values; the CAS is acq_rel; failed
 * CASes reload with acquire. The free list of `tagged` follows the same rules.
 *
 * Progress. tagged/hazard/epoch push and pop are lock-free (a failed CAS means another thread's
 * CAS succeeded); naive is lock-free and wrong; mutex is blocking. Memory: tagged holds the
 * stack's peak size forever; hazard holds at most ct_hp_bound() unreclaimed nodes per thread;
 * epoch holds an unbounded number while a thread stalls inside a pop.
 *
 * Per-thread handles. A thread calls join once before using a stack and leave when done (the
 * hazard and epoch variants give it a reclamation record there, tagged its node cache; the
 * others return a dummy). Handles are not shared between threads; every handle must be left
 * before destroy (a tagged handle's cached nodes are returned to the stack only by leave).
 *
 * Pause hook (for scripted interleavings: `contend lab aba`, tests/test_aba.c). When set,
 * pop calls hook(arg, node) after it has read head and head->next and before its CAS: the window
 * where ABA strikes. Cost when unset: one load and a predictable branch per pop attempt.
 *
 * Allocator. create takes an optional allocator for nodes (NULL: malloc/free). The lab uses a
 * private pool that poisons freed nodes so a use after free is observable and harmless.
 * Node size: ct_stack_node_size(). Errors: create returns NULL + errno; push returns false +
 * errno (ENOMEM, EOVERFLOW); pop returns false only when the stack is empty.
 */
#ifndef CONTEND_STACK_H
#define CONTEND_STACK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ct_stack_allocator {
    void *(*alloc)(size_t size, void *ctx); /* NULL when out of memory */
    void (*free)(void *p, void *ctx);
    void *ctx;
} ct_stack_allocator;

typedef void (*ct_stack_pause_fn)(void *arg, const void *node); /* node: the head it read */

typedef struct ct_stack_class {
    const char *name, *summary;
    bool broken;                                     /* naive: demonstrations only */
    void *(*create)(const ct_stack_allocator *alloc); /* NULL alloc: malloc/free */
    void (*destroy)(void *s);                        /* frees nodes left inside, not items */
    void *(*join)(void *s);                          /* per-thread handle; NULL + errno */
    void (*leave)(void *s, void *h);
    bool (*push)(void *s, void *h, void *item);
    bool (*pop)(void *s, void *h, void **item);
    size_t (*pending)(void *s);                      /* nodes awaiting reclamation */
    size_t (*pending_bound)(void *s);                /* most pending() may say now;
                                                      * SIZE_MAX: no bound (epoch) */
    void (*reclaim)(void *s, void *h);               /* reclaim what can be now (scan/advance) */
    void (*set_pause)(void *s, ct_stack_pause_fn fn, void *arg);
} ct_stack_class;

size_t ct_stack_class_count(void);
const ct_stack_class *ct_stack_class_get(size_t i);          /* NULL when i >= count */
const ct_stack_class *ct_stack_class_find(const char *name); /* NULL when unknown */

/* Bytes per node (the same for every variant), for allocators that hand out fixed slots. */
size_t ct_stack_node_size(void);

#endif
