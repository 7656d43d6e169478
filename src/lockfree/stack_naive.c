/* Stack `naive`: Treiber's stack with a plain CAS on the head pointer and popped nodes freed
 * at once. DELIBERATELY BROKEN (contend/stack.h): between pop's read of head/next and its CAS
 * the node can be freed and reused, the CAS then succeeds on the reused address (ABA) and
 * installs a stale next; and the read of h->next itself may touch freed memory. It exists so
 * that `contend lab aba` and tests/test_aba.c can show the failure; no benchmark runs it. */
#include <errno.h>

#include "contend/arch.h"
#include "contend/chaos.h"
#include "stack_common.h"

typedef struct naive_stack {
    CT_PAD_ALIGNED ct__snode *_Atomic head;
    CT_PAD_ALIGNED ct__salloc al;
    ct_stack_pause_fn pause; /* set while no thread uses the stack */
    void *pause_arg;
} naive_stack;

static void *naive_create(const ct_stack_allocator *a)
{
    naive_stack *s = aligned_alloc(CT_PAD, sizeof *s);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    atomic_init(&s->head, NULL);
    ct__salloc_init(&s->al, a);
    s->pause = NULL;
    s->pause_arg = NULL;
    return s;
}

static void naive_destroy(void *p)
{
    naive_stack *s = p;
    if (!s)
        return;
    ct__snode_free_list(&s->al, atomic_load_explicit(&s->head, memory_order_relaxed));
    free(s);
}

static void *naive_join(void *s) { (void)s; return &ct__stack_dummy_handle; }
static void naive_leave(void *s, void *h) { (void)s; (void)h; }

static bool naive_push(void *p, void *h, void *item)
{
    naive_stack *s = p;
    (void)h; /* push dereferences nothing shared: no protection needed */
    ct__snode *n = ct__snode_new(&s->al, item);
    if (!n)
        return false;
    ct__snode_push(&s->head, n);
    return true;
}

static bool naive_pop(void *p, void *h, void **item)
{
    naive_stack *s = p;
    (void)h;
    ct__snode *top = atomic_load_explicit(&s->head, memory_order_acquire);
    for (;;) {
        if (!top)
            return false;
        /* The bug, part 1: top may have been popped and freed already: this read may be a use
         * after free. */
        ct__snode *next = atomic_load_explicit(&top->next, memory_order_relaxed);
        CT_CHAOS();
        if (s->pause)
            s->pause(s->pause_arg, top);
        /* The bug, part 2: succeeds whenever head holds the same ADDRESS, even if that address
         * was freed and reused and its next is no longer `next` (ABA). */
        if (atomic_compare_exchange_weak_explicit(&s->head, &top, next, memory_order_acq_rel,
                                                  memory_order_acquire))
            break;
    }
    *item = top->item;
    ct__snode_free(&s->al, top);
    return true;
}

static size_t naive_pending(void *s) { (void)s; return 0; }
static void naive_reclaim(void *s, void *h) { (void)s; (void)h; }
static void naive_set_pause(void *p, ct_stack_pause_fn fn, void *arg)
{
    naive_stack *s = p;
    s->pause = fn;
    s->pause_arg = arg;
}

static size_t naive_bound(void *s) { (void)s; return 0; }

const ct_stack_class ct_stack_naive = {
    "naive", "Treiber stack, plain CAS, immediate free: BROKEN by ABA (demonstrations only)",
    true, naive_create, naive_destroy, naive_join, naive_leave, naive_push, naive_pop,
    naive_pending, naive_bound, naive_reclaim, naive_set_pause};
