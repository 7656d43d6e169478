/* Stack `epoch`: Treiber's stack with nodes reclaimed through epochs (contend/epoch.h,
 * contend/stack.h). pop runs inside a critical section: a node popped by anyone after it
 * entered is not freed before it exits, so the node it read next from cannot be reused while
 * its CAS is pending. One full fence per pop (enter) and per retire is the price; a thread
 * stalled inside stops all reclamation. */
#include <errno.h>
#include <stdint.h>

#include "contend/arch.h"
#include "contend/chaos.h"
#include "stack_common.h"

typedef struct epoch_stack {
    CT_PAD_ALIGNED ct__snode *_Atomic head;
    CT_PAD_ALIGNED ct__salloc al;
    ct_epoch_domain *domain;
    ct_stack_pause_fn pause; /* set while no thread uses the stack */
    void *pause_arg;
} epoch_stack;

static void es_free_node(void *ptr, void *ctx)
{
    epoch_stack *s = ctx;
    ct__snode_free(&s->al, ptr);
}

static void *es_create(const ct_stack_allocator *a)
{
    epoch_stack *s = aligned_alloc(CT_PAD, sizeof *s);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    atomic_init(&s->head, NULL);
    ct__salloc_init(&s->al, a);
    s->pause = NULL;
    s->pause_arg = NULL;
    s->domain = ct_epoch_domain_create(es_free_node, s);
    if (!s->domain) {
        free(s);
        errno = ENOMEM;
        return NULL;
    }
    return s;
}

static void es_destroy(void *p)
{
    epoch_stack *s = p;
    if (!s)
        return;
    ct__snode_free_list(&s->al, atomic_load_explicit(&s->head, memory_order_relaxed));
    ct_epoch_domain_destroy(s->domain);
    free(s);
}

static void *es_join(void *p) { return ct_epoch_join(((epoch_stack *)p)->domain); }
static void es_leave(void *p, void *h) { (void)p; ct_epoch_leave(h); }

static bool es_push(void *p, void *h, void *item)
{
    epoch_stack *s = p;
    (void)h; /* push dereferences nothing shared: no protection needed */
    ct__snode *n = ct__snode_new(&s->al, item);
    if (!n)
        return false;
    ct__snode_push(&s->head, n);
    return true;
}

static bool es_pop(void *p, void *h, void **item)
{
    epoch_stack *s = p;
    ct_epoch_record *r = h;
    ct_epoch_enter(r);
    ct__snode *top = atomic_load_explicit(&s->head, memory_order_acquire);
    for (;;) {
        if (!top) {
            ct_epoch_exit(r);
            return false;
        }
        ct__snode *next = atomic_load_explicit(&top->next, memory_order_relaxed);
        CT_CHAOS();
        if (s->pause)
            s->pause(s->pause_arg, top);
        if (atomic_compare_exchange_weak_explicit(&s->head, &top, next, memory_order_acq_rel,
                                                  memory_order_acquire))
            break;
    }
    *item = top->item;
    ct_epoch_retire(r, top, &top->hook.ep);
    ct_epoch_exit(r);
    return true;
}

static size_t es_pending(void *p) { return ct_epoch_pending(((epoch_stack *)p)->domain); }
static void es_reclaim(void *p, void *h)
{
    epoch_stack *s = p;
    ct_epoch_advance(s->domain);
    ct_epoch_collect(h);
}
static void es_set_pause(void *p, ct_stack_pause_fn fn, void *arg)
{
    epoch_stack *s = p;
    s->pause = fn;
    s->pause_arg = arg;
}

static size_t es_bound(void *s) { (void)s; return SIZE_MAX; }

const ct_stack_class ct_stack_epoch = {
    "epoch", "Treiber stack, nodes freed through epoch-based reclamation (3 epochs)",
    false, es_create, es_destroy, es_join, es_leave, es_push, es_pop, es_pending, es_bound, es_reclaim,
    es_set_pause};
