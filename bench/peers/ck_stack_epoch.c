/* Concurrency Kit (concurrencykit/ck, BSD-2-Clause) as a peer stack: ck_stack's upmc Treiber
 * stack (ck_stack_push_upmc / ck_stack_pop_upmc) with nodes reclaimed through ck_epoch
 * (ck_epoch_begin/end around pop, ck_epoch_call to defer the free, ck_epoch_poll every 64
 * pops). Through its installed headers (Debian libck-dev); registered as `ck-epoch`. Records:
 * join recycles an unregistered ck_epoch record or registers a new one (kept on our list so
 * destroy can reclaim and free them); leave unregisters. Pending nodes: the records' n_pending
 * (ck's own count of deferred callbacks). */
#include <ck_epoch.h>
#include <ck_stack.h>
#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>

#include "peers.h"

typedef struct ck_node {
    ck_stack_entry_t entry; /* first: the entry pointer is the node pointer */
    void *item;
    ck_epoch_entry_t epoch_entry;
} ck_node;

CK_EPOCH_CONTAINER(ck_node, epoch_entry, ck_node_of_epoch_entry)

typedef struct ck_rec {
    ck_epoch_record_t record; /* first */
    unsigned pops;
    struct ck_rec *next_all;
} ck_rec;

typedef struct ck_estack {
    ck_stack_t stack CK_CC_CACHELINE;
    ck_epoch_t epoch CK_CC_CACHELINE;
    pthread_mutex_t lock; /* guards all (join/leave/destroy only) */
    ck_rec *all;
} ck_estack;

static void ck_node_free(ck_epoch_entry_t *e) { free(ck_node_of_epoch_entry(e)); }

static void *cke_create(const ct_stack_allocator *a)
{
    if (a) { /* ck_epoch_call's callback has no context: malloc only */
        errno = EINVAL;
        return NULL;
    }
    ck_estack *s = aligned_alloc(CK_MD_CACHELINE, (sizeof *s + CK_MD_CACHELINE - 1) /
                                                      CK_MD_CACHELINE * CK_MD_CACHELINE);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    ck_stack_init(&s->stack);
    ck_epoch_init(&s->epoch);
    pthread_mutex_init(&s->lock, NULL);
    s->all = NULL;
    return s;
}

static void cke_destroy(void *p)
{
    ck_estack *s = p;
    if (!s)
        return;
    for (ck_stack_entry_t *e = ck_stack_batch_pop_upmc(&s->stack); e;) {
        ck_stack_entry_t *next = e->next;
        free(e);
        e = next;
    }
    for (ck_rec *r = s->all; r;) {
        ck_rec *next = r->next_all;
        ck_epoch_reclaim(&r->record); /* no thread is inside: dispatch everything pending */
        free(r);
        r = next;
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void *cke_join(void *p)
{
    ck_estack *s = p;
    ck_rec *r = (ck_rec *)ck_epoch_recycle(&s->epoch, NULL);
    if (r)
        return r;
    r = aligned_alloc(CK_MD_CACHELINE,
                      (sizeof *r + CK_MD_CACHELINE - 1) / CK_MD_CACHELINE * CK_MD_CACHELINE);
    if (!r) {
        errno = ENOMEM;
        return NULL;
    }
    r->pops = 0;
    ck_epoch_register(&s->epoch, &r->record, NULL);
    pthread_mutex_lock(&s->lock);
    r->next_all = s->all;
    s->all = r;
    pthread_mutex_unlock(&s->lock);
    return r;
}

static void cke_leave(void *p, void *h)
{
    (void)p;
    ck_rec *r = h;
    /* ck_epoch_unregister() re-initializes the record's pending lists: whatever is still
     * deferred there would be dropped (leaked). So wait for a grace period and dispatch it
     * all first (ck_epoch_barrier = synchronize + reclaim); we are not inside a section. */
    ck_epoch_barrier(&r->record);
    ck_epoch_unregister(&r->record);
}

static bool cke_push(void *p, void *h, void *item)
{
    ck_estack *s = p;
    (void)h;
    ck_node *n = malloc(sizeof *n);
    if (!n) {
        errno = ENOMEM;
        return false;
    }
    n->item = item;
    ck_stack_push_upmc(&s->stack, &n->entry);
    return true;
}

static bool cke_pop(void *p, void *h, void **item)
{
    ck_estack *s = p;
    ck_rec *r = h;
    ck_epoch_begin(&r->record, NULL);
    ck_stack_entry_t *e = ck_stack_pop_upmc(&s->stack);
    ck_epoch_end(&r->record, NULL);
    if (!e)
        return false;
    ck_node *n = (ck_node *)e;
    *item = n->item;
    ck_epoch_call(&r->record, &n->epoch_entry, ck_node_free);
    if (++r->pops % 64 == 0)
        ck_epoch_poll(&r->record);
    return true;
}

static size_t cke_pending(void *p)
{
    ck_estack *s = p;
    size_t n = 0;
    pthread_mutex_lock(&s->lock);
    for (ck_rec *r = s->all; r; r = r->next_all)
        n += ck_pr_load_uint(&r->record.n_pending);
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void cke_reclaim(void *p, void *h)
{
    (void)p;
    ck_epoch_poll(&((ck_rec *)h)->record);
}

static void cke_set_pause(void *s, ct_stack_pause_fn fn, void *arg)
{
    (void)s; /* ck's pop has no hook: accepted and never called */
    (void)fn;
    (void)arg;
}

static size_t cke_bound(void *s) { (void)s; return SIZE_MAX; }

const ct_stack_class ct_peer_ck_epoch_stack = {
    "ck-epoch", "Concurrency Kit ck_stack (upmc Treiber) with ck_epoch reclamation",
    false, cke_create, cke_destroy, cke_join, cke_leave, cke_push, cke_pop, cke_pending, cke_bound,
    cke_reclaim, cke_set_pause};
