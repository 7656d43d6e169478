/* Hazard pointers (contend/hazard.h): the domain, records, retire and scan. */
#include "contend/hazard.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "contend/chaos.h"

struct ct_hp_domain {
    ct_hp_record *_Atomic records; /* push-only list */
    _Atomic size_t nrecords;
    unsigned slots;
    ct_hp_free_fn free_fn;
    void *ctx;
};

ct_hp_domain *ct_hp_domain_create(unsigned slots, ct_hp_free_fn free_fn, void *ctx)
{
    if (slots == 0 || slots > CT_HP_MAX_SLOTS || free_fn == NULL) {
        errno = EINVAL;
        return NULL;
    }
    ct_hp_domain *d = calloc(1, sizeof *d);
    if (!d) {
        errno = ENOMEM;
        return NULL;
    }
    atomic_init(&d->records, NULL);
    atomic_init(&d->nrecords, 0);
    d->slots = slots;
    d->free_fn = free_fn;
    d->ctx = ctx;
    return d;
}

void ct_hp_domain_destroy(ct_hp_domain *d)
{
    if (!d)
        return;
    ct_hp_record *r = atomic_load_explicit(&d->records, memory_order_acquire);
    while (r) {
        ct_hp_record *next = atomic_load_explicit(&r->next, memory_order_relaxed);
        for (ct_hp_node *n = r->retired; n;) {
            ct_hp_node *nn = n->next;
            d->free_fn(n->ptr, d->ctx);
            n = nn;
        }
        free(r->scratch);
        free(r);
        r = next;
    }
    free(d);
}

size_t ct_hp_records(const ct_hp_domain *d)
{
    return atomic_load_explicit(&((ct_hp_domain *)d)->nrecords, memory_order_relaxed);
}

size_t ct_hp_bound(const ct_hp_domain *d)
{
    return 2 * (size_t)d->slots * ct_hp_records(d) + CT_HP_SCAN_SLACK;
}

ct_hp_record *ct_hp_join(ct_hp_domain *d)
{
    if (!d) {
        errno = EINVAL;
        return NULL;
    }
    /* Reuse: a CAS 0 -> 1 on in_use; acquire pairs with the release in leave, so the new
     * owner sees the previous owner's retired list. */
    for (ct_hp_record *r = atomic_load_explicit(&d->records, memory_order_acquire); r;
         r = atomic_load_explicit(&r->next, memory_order_acquire)) {
        int expect = 0;
        if (atomic_load_explicit(&r->in_use, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong_explicit(&r->in_use, &expect, 1,
                                                    memory_order_acquire, memory_order_relaxed))
            return r;
    }
    ct_hp_record *r = calloc(1, sizeof *r);
    if (!r) {
        errno = ENOMEM;
        return NULL;
    }
    for (unsigned k = 0; k < CT_HP_MAX_SLOTS; k++)
        atomic_init(&r->slot[k], NULL);
    r->domain = d;
    r->nslots = d->slots;
    atomic_init(&r->pending, 0);
    atomic_init(&r->in_use, 1);
    /* Count first, then publish: a scan that sees the record sized its snapshot for it or
     * falls back to a direct walk. Relaxed: the count is a size hint and the bound's N. */
    atomic_fetch_add_explicit(&d->nrecords, 1, memory_order_relaxed);
    ct_hp_record *head = atomic_load_explicit(&d->records, memory_order_relaxed);
    do {
        atomic_store_explicit(&r->next, head, memory_order_relaxed);
        CT_CHAOS();
        /* release: the initialized record is visible to whoever walks to it (acquire). */
    } while (!atomic_compare_exchange_weak_explicit(&d->records, &head, r, memory_order_release,
                                                    memory_order_relaxed));
    return r;
}

void ct_hp_leave(ct_hp_record *r)
{
    if (!r)
        return;
    for (unsigned k = 0; k < r->nslots; k++)
        atomic_store_explicit(&r->slot[k], NULL, memory_order_release);
    ct_hp_scan(r);
    /* release: the retired list and counts are handed to the next owner (acquire CAS). */
    atomic_store_explicit(&r->in_use, 0, memory_order_release);
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

static bool protected_direct(ct_hp_domain *d, void *p)
{
    for (ct_hp_record *q = atomic_load_explicit(&d->records, memory_order_acquire); q;
         q = atomic_load_explicit(&q->next, memory_order_acquire))
        for (unsigned k = 0; k < q->nslots; k++)
            if (atomic_load_explicit(&q->slot[k], memory_order_acquire) == p)
                return true;
    return false;
}

size_t ct_hp_scan(ct_hp_record *r)
{
    ct_hp_domain *d = r->domain;
    if (!r->retired)
        return 0;
    /* Orders the unlinks that preceded every retire on this list before the slot loads below
     * (the scan half of the store-load pair; see the header). */
    atomic_thread_fence(memory_order_seq_cst);
    CT_CHAOS();
    size_t want = ct_hp_records(d) * d->slots;
    if (want > r->scratch_cap) {
        void **grown = realloc(r->scratch, want * sizeof *grown);
        if (grown) {
            r->scratch = grown;
            r->scratch_cap = want;
        }
    }
    /* Snapshot the hazards. A record published after nrecords was read would overflow the
     * snapshot: then fall back to the direct walk (no allocation needed). */
    size_t n = 0;
    bool snapshot = r->scratch_cap >= want;
    for (ct_hp_record *q = atomic_load_explicit(&d->records, memory_order_acquire);
         snapshot && q; q = atomic_load_explicit(&q->next, memory_order_acquire)) {
        for (unsigned k = 0; k < q->nslots; k++) {
            void *p = atomic_load_explicit(&q->slot[k], memory_order_acquire);
            if (!p)
                continue;
            if (n == r->scratch_cap) {
                snapshot = false;
                break;
            }
            r->scratch[n++] = p;
        }
    }
    if (snapshot)
        qsort(r->scratch, n, sizeof *r->scratch, cmp_ptr);
    ct_hp_node *keep = NULL;
    size_t kept = 0, freed = 0;
    for (ct_hp_node *x = r->retired; x;) {
        ct_hp_node *next = x->next;
        bool hazard = snapshot ? bsearch(&x->ptr, r->scratch, n, sizeof *r->scratch, cmp_ptr) != NULL
                               : protected_direct(d, x->ptr);
        if (hazard) {
            x->next = keep;
            keep = x;
            kept++;
        } else {
            d->free_fn(x->ptr, d->ctx);
            freed++;
        }
        x = next;
    }
    r->retired = keep;
    r->nretired = kept;
    atomic_store_explicit(&r->pending, kept, memory_order_relaxed);
    return freed;
}

void ct_hp_retire(ct_hp_record *r, void *ptr, ct_hp_node *hook)
{
    hook->ptr = ptr;
    hook->next = r->retired;
    r->retired = hook;
    r->nretired++;
    atomic_store_explicit(&r->pending, r->nretired, memory_order_relaxed);
    if (r->nretired >= ct_hp_bound(r->domain))
        ct_hp_scan(r);
}

size_t ct_hp_record_pending(const ct_hp_record *r)
{
    return atomic_load_explicit(&((ct_hp_record *)r)->pending, memory_order_relaxed);
}

size_t ct_hp_pending(const ct_hp_domain *d)
{
    size_t total = 0;
    for (ct_hp_record *q = atomic_load_explicit(&((ct_hp_domain *)d)->records,
                                                memory_order_acquire);
         q; q = atomic_load_explicit(&q->next, memory_order_acquire))
        total += atomic_load_explicit(&q->pending, memory_order_relaxed);
    return total;
}
