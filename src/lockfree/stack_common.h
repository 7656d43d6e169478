/* Internal to the Treiber stack family (contend/stack.h): the node every variant uses and the
 * allocator plumbing. */
#ifndef CONTEND_STACK_COMMON_H
#define CONTEND_STACK_COMMON_H

#include <stdatomic.h>
#include <stdlib.h>

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

/* Handle for variants that need no per-thread state: any non-NULL pointer. */
extern char ct__stack_dummy_handle;

#endif
