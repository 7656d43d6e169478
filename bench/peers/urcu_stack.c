/* liburcu (userspace-rcu, LGPL-2.1, linked dynamically, its inline _LGPL_SOURCE versions NOT
 * used) as a peer stack: cds_lfs (lock-free Treiber stack) with the memory-barrier RCU flavour
 * (urcu-memb): pop inside urcu_memb_read_lock/unlock (__cds_lfs_pop needs RCU or a mutex
 * against ABA), the node freed through urcu_memb_call_rcu (liburcu's call_rcu worker thread
 * waits for the grace period). Registered as `urcu`. Pending nodes: not observable through
 * liburcu's API, reported as 0. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <urcu/urcu-memb.h>
#include <urcu/lfstack.h>

#include "peers.h"

typedef struct urcu_node {
    struct cds_lfs_node node;
    void *item;
    struct rcu_head rcu;
} urcu_node;

typedef struct urcu_stack {
    struct __cds_lfs_stack stack;
} urcu_stack;

static char urcu_handle;

static void urcu_node_free(struct rcu_head *h)
{
    free((urcu_node *)((char *)h - offsetof(urcu_node, rcu)));
}

static void *us_create(const ct_stack_allocator *a)
{
    if (a) { /* call_rcu's callback has no context: malloc only */
        errno = EINVAL;
        return NULL;
    }
    urcu_stack *s = malloc(sizeof *s);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    __cds_lfs_init(&s->stack);
    return s;
}

static void us_destroy(void *p)
{
    urcu_stack *s = p;
    if (!s)
        return;
    urcu_memb_barrier(); /* every call_rcu callback queued so far has run */
    struct cds_lfs_head *head = __cds_lfs_pop_all(&s->stack);
    for (struct cds_lfs_node *n = head ? &head->node : NULL; n;) {
        struct cds_lfs_node *next = n->next;
        free((urcu_node *)n);
        n = next;
    }
    free(s);
}

static void *us_join(void *p)
{
    (void)p;
    urcu_memb_register_thread();
    return &urcu_handle;
}

static void us_leave(void *p, void *h)
{
    (void)p;
    (void)h;
    urcu_memb_unregister_thread();
}

static bool us_push(void *p, void *h, void *item)
{
    urcu_stack *s = p;
    (void)h;
    urcu_node *n = malloc(sizeof *n);
    if (!n) {
        errno = ENOMEM;
        return false;
    }
    cds_lfs_node_init(&n->node);
    n->item = item;
    cds_lfs_push(&s->stack, &n->node);
    return true;
}

static bool us_pop(void *p, void *h, void **item)
{
    urcu_stack *s = p;
    (void)h;
    urcu_memb_read_lock();
    struct cds_lfs_node *n = __cds_lfs_pop(&s->stack);
    urcu_memb_read_unlock();
    if (!n)
        return false;
    urcu_node *un = (urcu_node *)n;
    *item = un->item;
    urcu_memb_call_rcu(&un->rcu, urcu_node_free);
    return true;
}

static size_t us_pending(void *p) { (void)p; return 0; }
static void us_reclaim(void *p, void *h) { (void)p; (void)h; }
static void us_set_pause(void *s, ct_stack_pause_fn fn, void *arg)
{
    (void)s;
    (void)fn;
    (void)arg;
}

static size_t us_bound(void *s) { (void)s; return SIZE_MAX; }

const ct_stack_class ct_peer_urcu_stack = {
    "urcu", "liburcu cds_lfs Treiber stack, RCU (memb flavour) + call_rcu reclamation",
    false, us_create, us_destroy, us_join, us_leave, us_push, us_pop, us_pending, us_bound, us_reclaim,
    us_set_pause};
