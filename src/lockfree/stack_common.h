/* Internal to the Treiber stack family (contend/stack.h): the node every variant uses and the
 * allocator plumbing. */
#ifndef CONTEND_STACK_COMMON_H
#define CONTEND_STACK_COMMON_H

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "contend/chaos.h"
#include "contend/epoch.h"
#include "contend/hazard.h"
#include "contend/stack.h"

typedef struct ct__snode {
    /* Atomic in every variant: in `tagged` a stale pop reads it while a recycling push writes
     * it; in the others the relaxed load costs nothing and keeps one layout. */
    struct ct__snode *_Atomic next;
    void *item;
    union {
        ct_hp_node hp;
        ct_epoch_node ep;
        struct ct__snode *spare;
    } hook;
} ct__snode;

typedef struct ct__salloc {
    ct_stack_allocator a;
    int custom;
} ct__salloc;

static inline void ct__salloc_init(ct__salloc *s, const ct_stack_allocator *a)
{
    s->custom = a != NULL;
    if (a)
        s->a = *a;
}

static inline ct__snode *ct__snode_alloc(const ct__salloc *s)
{
    return s->custom ? s->a.alloc(sizeof(ct__snode), s->a.ctx) : malloc(sizeof(ct__snode));
}

static inline void ct__snode_free(const ct__salloc *s, ct__snode *n)
{
    if (s->custom)
        s->a.free(n, s->a.ctx);
    else
        free(n);
}

/* A node holding item, or NULL with errno ENOMEM. */
static inline ct__snode *ct__snode_new(const ct__salloc *s, void *item)
{
    ct__snode *n = ct__snode_alloc(s);
    if (!n) {
        errno = ENOMEM;
        return NULL;
    }
    n->item = item;
    return n;
}

/* Treiber's push of a fresh node (naive, epoch; hazard has the same loop on its void * head).
 * A push dereferences nothing shared, so it needs no protection in any variant. */
static inline void ct__snode_push(ct__snode *_Atomic *head, ct__snode *n)
{
    ct__snode *old = atomic_load_explicit(head, memory_order_relaxed);
    do {
        atomic_store_explicit(&n->next, old, memory_order_relaxed);
        CT_CHAOS();
        /* release: n's fields before n is reachable. */
    } while (!atomic_compare_exchange_weak_explicit(head, &old, n, memory_order_release,
                                                    memory_order_relaxed));
}

/* Frees a list of nodes (destroy: no thread uses the stack any more). */
static inline void ct__snode_free_list(const ct__salloc *s, ct__snode *n)
{
    while (n) {
        ct__snode *next = atomic_load_explicit(&n->next, memory_order_relaxed);
        ct__snode_free(s, n);
        n = next;
    }
}

/* Handle for variants that need no per-thread state: any non-NULL pointer. */
extern char ct__stack_dummy_handle;

#endif
