/* Stack `mutex`: a plain linked list under one pthread mutex, the baseline for `stack`.
 * Blocking; nodes freed at once (the mutex makes that safe). */
#include <errno.h>
#include <pthread.h>

#include "contend/arch.h"
#include "stack_common.h"

typedef struct mutex_stack {
    CT_PAD_ALIGNED pthread_mutex_t lock;
    ct__snode *head; /* guarded by lock */
    ct__salloc al;
} mutex_stack;

static void *mstack_create(const ct_stack_allocator *a)
{
    mutex_stack *s = aligned_alloc(CT_PAD, sizeof *s);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    int e = pthread_mutex_init(&s->lock, NULL);
    if (e) {
        free(s);
        errno = e;
        return NULL;
    }
    s->head = NULL;
    ct__salloc_init(&s->al, a);
    return s;
}

static void mstack_destroy(void *p)
{
    mutex_stack *s = p;
    if (!s)
        return;
    for (ct__snode *n = s->head; n;) {
        ct__snode *next = atomic_load_explicit(&n->next, memory_order_relaxed);
        ct__snode_free(&s->al, n);
        n = next;
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void *mstack_join(void *s) { (void)s; return &ct__stack_dummy_handle; }
static void mstack_leave(void *s, void *h) { (void)s; (void)h; }

static bool mstack_push(void *p, void *h, void *item)
{
    mutex_stack *s = p;
    (void)h;
    ct__snode *n = ct__snode_alloc(&s->al); /* outside the lock */
    if (!n) {
        errno = ENOMEM;
        return false;
    }
    n->item = item;
    pthread_mutex_lock(&s->lock);
    atomic_store_explicit(&n->next, s->head, memory_order_relaxed);
    s->head = n;
    pthread_mutex_unlock(&s->lock);
    return true;
}

static bool mstack_pop(void *p, void *h, void **item)
{
    mutex_stack *s = p;
    (void)h;
    pthread_mutex_lock(&s->lock);
    ct__snode *n = s->head;
    if (n)
        s->head = atomic_load_explicit(&n->next, memory_order_relaxed);
    pthread_mutex_unlock(&s->lock);
    if (!n)
        return false;
    *item = n->item;
    ct__snode_free(&s->al, n);
    return true;
}

static size_t mstack_pending(void *s) { (void)s; return 0; }
static void mstack_reclaim(void *s, void *h) { (void)s; (void)h; }
/* No window to pause in: pop is atomic under the lock. The hook is accepted and never called. */
static void mstack_set_pause(void *s, ct_stack_pause_fn fn, void *arg)
{
    (void)s;
    (void)fn;
    (void)arg;
}

static size_t mstack_bound(void *s) { (void)s; return 0; }

const ct_stack_class ct_stack_mutex = {
    "mutex", "linked list under one pthread mutex: the baseline (blocking)",
    false, mstack_create, mstack_destroy, mstack_join, mstack_leave, mstack_push, mstack_pop,
    mstack_pending, mstack_bound, mstack_reclaim, mstack_set_pause};
