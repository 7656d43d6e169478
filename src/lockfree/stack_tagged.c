/* Stack `tagged`: Treiber's stack with a (pointer, tag) head and a tagged free list
 * (contend/stack.h). Every successful CAS on a head increments its tag, so a pop that read
 * (A, t) cannot succeed once the head changed, even if it holds A again: it holds (A, t + k).
 * Nodes are recycled (through a per-thread cache of up to 64, then the free list) and returned
 * to the allocator only by destroy, so
 * a stale pop's read of A->next always reads a node of this stack (never freed memory); the
 * value may be stale, and is then discarded because the CAS fails.
 *
 * Two encodings of the head:
 *  - x86_64 (not TSan): 16 bytes {ptr, tag}, changed by CMPXCHG16B in inline assembly. LOCK
 *    CMPXCHG16B is a full barrier (stronger than the acq_rel we need) and, on failure, returns
 *    the current 16 bytes atomically. The head is read as two 8-byte acquire loads, tag first:
 *    a torn pair (tag at t1, ptr at t2 > t1) can only pass the CAS if the tag did not change
 *    since t1, i.e. nothing changed, so the pair was consistent after all.
 *  - elsewhere and under TSan: one _Atomic uint64_t, ptr in the low 48 bits, tag in the high
 *    16 (C11 CAS: acq_rel on success, acquire on failure; loads acquire).
 */
#include <errno.h>
#include <stdint.h>

#include "contend/arch.h"
#include "contend/chaos.h"
#include "stack_common.h"

#if defined(__x86_64__) && !defined(CT_TSAN)
#define CT_TAGGED_DWCAS 1
#endif

typedef struct tval {
    ct__snode *ptr;
    uint64_t tag;
} tval;

#ifdef CT_TAGGED_DWCAS
typedef struct thead {
    _Alignas(16) uint64_t ptr; /* low 8 bytes: RAX/RBX in CMPXCHG16B */
    uint64_t tag;              /* high 8 bytes: RDX/RCX */
} thead;

static inline void thead_init(thead *h) { h->ptr = 0; h->tag = 0; }

static inline tval tload(thead *h)
{
    tval v;
    v.tag = __atomic_load_n(&h->tag, __ATOMIC_ACQUIRE);
    v.ptr = (ct__snode *)(uintptr_t)__atomic_load_n(&h->ptr, __ATOMIC_ACQUIRE);
    return v;
}

/* On failure *expect receives the current value. */
static inline bool tcas(thead *h, tval *expect, tval want)
{
    uint64_t lo = (uint64_t)(uintptr_t)expect->ptr, hi = expect->tag;
    bool ok;
    __asm__ __volatile__("lock cmpxchg16b %1"
                         : "=@ccz"(ok), "+m"(*h), "+a"(lo), "+d"(hi)
                         : "b"((uint64_t)(uintptr_t)want.ptr), "c"(want.tag)
                         : "memory");
    if (!ok) {
        expect->ptr = (ct__snode *)(uintptr_t)lo;
        expect->tag = hi;
    }
    return ok;
}

static inline bool tfits(const ct__snode *n) { (void)n; return true; }
#else
#define PTR_BITS 48
#define PTR_MASK ((UINT64_C(1) << PTR_BITS) - 1)
typedef struct thead {
    _Atomic uint64_t word;
} thead;

static inline void thead_init(thead *h) { atomic_init(&h->word, 0); }

static inline tval unpack(uint64_t w)
{
    return (tval){(ct__snode *)(uintptr_t)(w & PTR_MASK), w >> PTR_BITS};
}

static inline uint64_t pack(tval v)
{
    return ((v.tag & 0xffff) << PTR_BITS) | ((uint64_t)(uintptr_t)v.ptr & PTR_MASK);
}

static inline tval tload(thead *h)
{
    return unpack(atomic_load_explicit(&h->word, memory_order_acquire));
}

static inline bool tcas(thead *h, tval *expect, tval want)
{
    uint64_t e = pack(*expect);
    if (atomic_compare_exchange_weak_explicit(&h->word, &e, pack(want), memory_order_acq_rel,
                                              memory_order_acquire))
        return true;
    *expect = unpack(e);
    return false;
}

static inline bool tfits(const ct__snode *n) { return ((uintptr_t)n >> PTR_BITS) == 0; }
#endif

typedef struct tagged_stack {
    CT_PAD_ALIGNED thead head;
    CT_PAD_ALIGNED thead free_list;
    CT_PAD_ALIGNED ct__salloc al;
    ct_stack_pause_fn pause; /* set while no thread uses the stack */
    void *pause_arg;
} tagged_stack;

/* Treiber push onto either head. release (or the full barrier): n's fields first. */
static void tpush(thead *h, ct__snode *n)
{
    tval v = tload(h);
    for (;;) {
        atomic_store_explicit(&n->next, v.ptr, memory_order_relaxed);
        CT_CHAOS();
        if (tcas(h, &v, (tval){n, v.tag + 1}))
            return;
    }
}

/* Treiber pop from either head; NULL when empty. */
static ct__snode *tpop(thead *h, ct_stack_pause_fn pause, void *arg)
{
    tval v = tload(h);
    for (;;) {
        if (!v.ptr)
            return NULL;
        /* v.ptr may have been popped (and even pushed again) since: it is still a node of this
         * stack, never freed, so the read is safe; a stale value fails the CAS below. */
        ct__snode *next = atomic_load_explicit(&v.ptr->next, memory_order_relaxed);
        CT_CHAOS();
        if (pause)
            pause(arg, v.ptr);
        if (tcas(h, &v, (tval){next, v.tag + 1}))
            return v.ptr;
    }
}

static void *tagged_create(const ct_stack_allocator *a)
{
    tagged_stack *s = aligned_alloc(CT_PAD, sizeof *s);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    thead_init(&s->head);
    thead_init(&s->free_list);
    ct__salloc_init(&s->al, a);
    s->pause = NULL;
    s->pause_arg = NULL;
    return s;
}

static void free_chain(tagged_stack *s, ct__snode *n)
{
    while (n) {
        ct__snode *next = atomic_load_explicit(&n->next, memory_order_relaxed);
        ct__snode_free(&s->al, n);
        n = next;
    }
}

static void tagged_destroy(void *p)
{
    tagged_stack *s = p;
    if (!s)
        return;
    free_chain(s, tload(&s->head).ptr);
    free_chain(s, tload(&s->free_list).ptr);
    free(s);
}

/* Per-thread node cache: up to TAGGED_CACHE popped nodes stay with the thread that popped
 * them and feed its next pushes, so a push/pop pair touches one shared line (the head), not
 * two (head and free list). Cached nodes are still this stack's nodes, never freed, so stale
 * readers stay safe; the tag still guards every CAS on the head. leave returns the cache to
 * the shared free list. */
#define TAGGED_CACHE 64

typedef struct tagged_handle {
    ct__snode *cache;
    unsigned n;
} tagged_handle;

static void *tagged_join(void *s)
{
    (void)s;
    tagged_handle *h = malloc(sizeof *h);
    if (!h) {
        errno = ENOMEM;
        return NULL;
    }
    h->cache = NULL;
    h->n = 0;
    return h;
}

static void tagged_leave(void *p, void *hp)
{
    tagged_stack *s = p;
    tagged_handle *h = hp;
    if (!h)
        return;
    while (h->cache) {
        ct__snode *n = h->cache;
        h->cache = atomic_load_explicit(&n->next, memory_order_relaxed);
        tpush(&s->free_list, n);
    }
    free(h);
}

static bool tagged_push(void *p, void *hp, void *item)
{
    tagged_stack *s = p;
    tagged_handle *h = hp;
    ct__snode *n = h->cache;
    if (n) {
        h->cache = atomic_load_explicit(&n->next, memory_order_relaxed);
        h->n--;
    } else {
        n = tpop(&s->free_list, NULL, NULL);
    }
    if (!n) {
        n = ct__snode_alloc(&s->al);
        if (!n) {
            errno = ENOMEM;
            return false;
        }
        if (!tfits(n)) {
            ct__snode_free(&s->al, n);
            errno = EOVERFLOW;
            return false;
        }
    }
    n->item = item;
    tpush(&s->head, n);
    return true;
}

static bool tagged_pop(void *p, void *hp, void **item)
{
    tagged_stack *s = p;
    tagged_handle *h = hp;
    ct__snode *n = tpop(&s->head, s->pause, s->pause_arg);
    if (!n)
        return false;
    *item = n->item;
    if (h->n < TAGGED_CACHE) {
        /* Atomic store: a stale pop may still be reading n->next (and will fail its CAS). */
        atomic_store_explicit(&n->next, h->cache, memory_order_relaxed);
        h->cache = n;
        h->n++;
    } else {
        tpush(&s->free_list, n);
    }
    return true;
}

static size_t tagged_pending(void *s) { (void)s; return 0; }
static void tagged_reclaim(void *s, void *h) { (void)s; (void)h; }
static void tagged_set_pause(void *p, ct_stack_pause_fn fn, void *arg)
{
    tagged_stack *s = p;
    s->pause = fn;
    s->pause_arg = arg;
}

static size_t tagged_bound(void *s) { (void)s; return 0; }

const ct_stack_class ct_stack_tagged = {
    "tagged",
#ifdef CT_TAGGED_DWCAS
    "Treiber stack, (pointer, tag) head by CMPXCHG16B, nodes recycled via a tagged free list",
#else
    "Treiber stack, 48-bit pointer + 16-bit tag in one CAS word, nodes recycled via a free list",
#endif
    false, tagged_create, tagged_destroy, tagged_join, tagged_leave, tagged_push, tagged_pop,
    tagged_pending, tagged_bound, tagged_reclaim, tagged_set_pause};
