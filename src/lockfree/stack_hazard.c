/* Stack `hazard`: Treiber's stack with nodes reclaimed through hazard pointers
 * (contend/hazard.h, contend/stack.h). pop protects the head with slot 0 (re-validated), so
 * the node it reads next from cannot be freed, hence not reused, while its CAS is pending:
 * the CAS can only succeed on the very node it read, with next still current (a node's next
 * never changes while the node is reachable or protected). One seq_cst store (XCHG on x86)
 * per pop attempt is the price. */
#include <errno.h>

#include "contend/arch.h"
#include "contend/chaos.h"
#include "stack_common.h"

typedef struct hazard_stack {
    CT_PAD_ALIGNED void *_Atomic head; /* ct__snode * */
    CT_PAD_ALIGNED ct__salloc al;
    ct_hp_domain *domain;
    ct_stack_pause_fn pause; /* set while no thread uses the stack */
    void *pause_arg;
} hazard_stack;

static void hs_free_node(void *ptr, void *ctx)
{
    hazard_stack *s = ctx;
    ct__snode_free(&s->al, ptr);
}

static void *hs_create(const ct_stack_allocator *a)
{
    hazard_stack *s = aligned_alloc(CT_PAD, sizeof *s);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    atomic_init(&s->head, NULL);
    ct__salloc_init(&s->al, a);
    s->pause = NULL;
    s->pause_arg = NULL;
    s->domain = ct_hp_domain_create(1, hs_free_node, s);
    if (!s->domain) {
        free(s);
        errno = ENOMEM;
        return NULL;
    }
    return s;
}

static void hs_destroy(void *p)
{
    hazard_stack *s = p;
    if (!s)
        return;
    ct__snode_free_list(&s->al, atomic_load_explicit(&s->head, memory_order_relaxed));
    ct_hp_domain_destroy(s->domain);
    free(s);
}

static void *hs_join(void *p) { return ct_hp_join(((hazard_stack *)p)->domain); }
static void hs_leave(void *p, void *h) { (void)p; ct_hp_leave(h); }

static bool hs_push(void *p, void *h, void *item)
{
    hazard_stack *s = p;
    (void)h;
    ct__snode *n = ct__snode_new(&s->al, item);
    if (!n)
        return false;
    void *old = atomic_load_explicit(&s->head, memory_order_relaxed);
    do {
        atomic_store_explicit(&n->next, old, memory_order_relaxed);
        CT_CHAOS();
        /* release: n's fields before n is reachable. */
    } while (!atomic_compare_exchange_weak_explicit(&s->head, &old, n, memory_order_release,
                                                    memory_order_relaxed));
    return true;
}

static bool hs_pop(void *p, void *h, void **item)
{
    hazard_stack *s = p;
    ct_hp_record *r = h;
    ct__snode *top;
    for (;;) {
        /* protect's re-read is seq_cst (acquire included): top's fields are the pusher's. */
        top = ct_hp_protect(r, 0, &s->head);
        if (!top) {
            ct_hp_clear(r, 0);
            return false;
        }
        ct__snode *next = atomic_load_explicit(&top->next, memory_order_relaxed);
        CT_CHAOS();
        if (s->pause)
            s->pause(s->pause_arg, top);
        void *expect = top;
        if (atomic_compare_exchange_strong_explicit(&s->head, &expect, next,
                                                    memory_order_acq_rel, memory_order_relaxed))
            break;
    }
    *item = top->item;
    ct_hp_clear(r, 0);
    ct_hp_retire(r, top, &top->hook.hp);
    return true;
}

static size_t hs_pending(void *p) { return ct_hp_pending(((hazard_stack *)p)->domain); }
static void hs_reclaim(void *p, void *h) { (void)p; ct_hp_scan(h); }
static void hs_set_pause(void *p, ct_stack_pause_fn fn, void *arg)
{
    hazard_stack *s = p;
    s->pause = fn;
    s->pause_arg = arg;
}

/* N records x T each (contend/hazard.h "Bound"). */
static size_t hs_bound(void *p)
{
    ct_hp_domain *d = ((hazard_stack *)p)->domain;
    return ct_hp_records(d) * ct_hp_bound(d);
}

const ct_stack_class ct_stack_hazard = {
    "hazard", "Treiber stack, nodes freed through hazard pointers (bounded garbage)",
    false, hs_create, hs_destroy, hs_join, hs_leave, hs_push, hs_pop, hs_pending, hs_bound, hs_reclaim,
    hs_set_pause};
