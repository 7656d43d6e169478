/* Epoch-based reclamation (contend/epoch.h): three bins per record, stamped with the epoch. */
#include "contend/epoch.h"

#include <errno.h>
#include <stdlib.h>

#include "contend/arch.h"
#include "contend/chaos.h"

typedef struct bin {
    ct_epoch_node *head;
    size_t count;
    uint64_t stamp;
} bin;

struct ct_epoch_record {
    /* Announcement: (epoch << 1) | active. Written by the owner, read by advancers. */
    CT_PAD_ALIGNED _Atomic uint64_t state;
    ct_epoch_domain *domain;
    /* Owner-only below. */
    bin bins[3];
    /* Retired since the last seal, not stamped yet (see ct_epoch_retire). */
    ct_epoch_node *open, *open_tail;
    size_t open_count;
    unsigned since_advance;
    _Atomic size_t pending; /* mirror of the bins' counts for observers (relaxed) */
    _Atomic int in_use;
    struct ct_epoch_record *_Atomic next;
};

struct ct_epoch_domain {
    CT_PAD_ALIGNED _Atomic uint64_t epoch;
    CT_PAD_ALIGNED ct_epoch_record *_Atomic records;
    _Atomic size_t nrecords;
    ct_epoch_free_fn free_fn;
    void *ctx;
};

ct_epoch_domain *ct_epoch_domain_create(ct_epoch_free_fn free_fn, void *ctx)
{
    if (!free_fn) {
        errno = EINVAL;
        return NULL;
    }
    ct_epoch_domain *d = aligned_alloc(CT_PAD, sizeof *d);
    if (!d) {
        errno = ENOMEM;
        return NULL;
    }
    atomic_init(&d->epoch, 0);
    atomic_init(&d->records, NULL);
    atomic_init(&d->nrecords, 0);
    d->free_fn = free_fn;
    d->ctx = ctx;
    return d;
}

static size_t free_bin(ct_epoch_domain *d, bin *b)
{
    size_t n = 0;
    for (ct_epoch_node *x = b->head; x;) {
        ct_epoch_node *next = x->next;
        d->free_fn(x->ptr, d->ctx);
        x = next;
        n++;
    }
    b->head = NULL;
    b->count = 0;
    return n;
}

void ct_epoch_domain_destroy(ct_epoch_domain *d)
{
    if (!d)
        return;
    ct_epoch_record *r = atomic_load_explicit(&d->records, memory_order_acquire);
    while (r) {
        ct_epoch_record *next = atomic_load_explicit(&r->next, memory_order_relaxed);
        for (int i = 0; i < 3; i++)
            free_bin(d, &r->bins[i]);
        for (ct_epoch_node *x = r->open; x;) {
            ct_epoch_node *nx = x->next;
            d->free_fn(x->ptr, d->ctx);
            x = nx;
        }
        free(r);
        r = next;
    }
    free(d);
}

ct_epoch_record *ct_epoch_join(ct_epoch_domain *d)
{
    if (!d) {
        errno = EINVAL;
        return NULL;
    }
    /* Reuse: acquire pairs with leave's release; the bins come with the record. */
    for (ct_epoch_record *r = atomic_load_explicit(&d->records, memory_order_acquire); r;
         r = atomic_load_explicit(&r->next, memory_order_acquire)) {
        int expect = 0;
        if (atomic_load_explicit(&r->in_use, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong_explicit(&r->in_use, &expect, 1,
                                                    memory_order_acquire, memory_order_relaxed))
            return r;
    }
    ct_epoch_record *r = aligned_alloc(CT_PAD, sizeof *r);
    if (!r) {
        errno = ENOMEM;
        return NULL;
    }
    atomic_init(&r->state, 0);
    r->domain = d;
    for (int i = 0; i < 3; i++)
        r->bins[i] = (bin){NULL, 0, 0};
    r->open = r->open_tail = NULL;
    r->open_count = 0;
    r->since_advance = 0;
    atomic_init(&r->pending, 0);
    atomic_init(&r->in_use, 1);
    atomic_fetch_add_explicit(&d->nrecords, 1, memory_order_relaxed);
    ct_epoch_record *head = atomic_load_explicit(&d->records, memory_order_relaxed);
    do {
        atomic_store_explicit(&r->next, head, memory_order_relaxed);
        CT_CHAOS();
        /* release: advancers walking the list (acquire) see an initialized, inactive record. */
    } while (!atomic_compare_exchange_weak_explicit(&d->records, &head, r, memory_order_release,
                                                    memory_order_relaxed));
    return r;
}

void ct_epoch_leave(ct_epoch_record *r)
{
    if (!r)
        return;
    if (atomic_load_explicit(&r->state, memory_order_relaxed) & 1)
        ct_epoch_exit(r);
    ct_epoch_collect(r);
    atomic_store_explicit(&r->in_use, 0, memory_order_release);
}

static void publish_pending(ct_epoch_record *r)
{
    atomic_store_explicit(&r->pending, r->bins[0].count + r->bins[1].count + r->bins[2].count +
                                           r->open_count,
                          memory_order_relaxed);
}

/* Stamps the open batch and moves it into its bin. The seq_cst fence orders every unlink that
 * preceded the batch's retires before the load of E (see "Memory orders" in the header);
 * a stamp taken later than the retire is only larger, which is safe. */
static void seal(ct_epoch_record *r)
{
    if (!r->open)
        return;
    atomic_thread_fence(memory_order_seq_cst);
    uint64_t e = atomic_load_explicit(&r->domain->epoch, memory_order_relaxed);
    bin *b = &r->bins[e % 3];
    if (b->head && b->stamp != e) /* stamp <= e - 3: long expired */
        free_bin(r->domain, b);
    r->open_tail->next = b->head;
    b->head = r->open;
    b->count += r->open_count;
    b->stamp = e;
    r->open = r->open_tail = NULL;
    r->open_count = 0;
}

static size_t collect_sealed(ct_epoch_record *r);

size_t ct_epoch_collect(ct_epoch_record *r)
{
    seal(r);
    return collect_sealed(r);
}

static size_t collect_sealed(ct_epoch_record *r)
{
    /* acquire: the advance that made E this large is ordered before the frees. */
    uint64_t e = atomic_load_explicit(&r->domain->epoch, memory_order_acquire);
    size_t n = 0;
    for (int i = 0; i < 3; i++)
        if (r->bins[i].head && r->bins[i].stamp + 2 <= e)
            n += free_bin(r->domain, &r->bins[i]);
    if (n)
        publish_pending(r);
    return n;
}

void ct_epoch_enter(ct_epoch_record *r)
{
    uint64_t e = atomic_load_explicit(&r->domain->epoch, memory_order_acquire);
    /* release: an advancer that reads this announcement also orders this record's previous
     * section before its advance, as exit's store does. */
    atomic_store_explicit(&r->state, (e << 1) | 1, memory_order_release);
    /* The announcement before any load from the structure (store-load: full fence). */
    atomic_thread_fence(memory_order_seq_cst);
    CT_CHAOS();
    /* Cheap: three compares unless a bin is due. */
    if ((r->bins[0].head && r->bins[0].stamp + 2 <= e) ||
        (r->bins[1].head && r->bins[1].stamp + 2 <= e) ||
        (r->bins[2].head && r->bins[2].stamp + 2 <= e))
        collect_sealed(r);
}

void ct_epoch_exit(ct_epoch_record *r)
{
    uint64_t s = atomic_load_explicit(&r->state, memory_order_relaxed);
    /* release: the section's reads happen before an advance that sees us inactive. */
    atomic_store_explicit(&r->state, s & ~(uint64_t)1, memory_order_release);
}

bool ct_epoch_inside(const ct_epoch_record *r)
{
    return atomic_load_explicit(&((ct_epoch_record *)r)->state, memory_order_relaxed) & 1;
}

bool ct_epoch_advance(ct_epoch_domain *d)
{
    atomic_thread_fence(memory_order_seq_cst);
    uint64_t e = atomic_load_explicit(&d->epoch, memory_order_relaxed);
    for (ct_epoch_record *r = atomic_load_explicit(&d->records, memory_order_acquire); r;
         r = atomic_load_explicit(&r->next, memory_order_acquire)) {
        uint64_t s = atomic_load_explicit(&r->state, memory_order_acquire);
        if ((s & 1) && (s >> 1) != e)
            return false;
    }
    CT_CHAOS();
    /* seq_cst: retire's and enter's fences order against this modification (see header).
     * A failed CAS means another thread advanced: also success for the caller. */
    atomic_compare_exchange_strong_explicit(&d->epoch, &e, e + 1, memory_order_seq_cst,
                                            memory_order_relaxed);
    return true;
}

void ct_epoch_retire(ct_epoch_record *r, void *ptr, ct_epoch_node *hook)
{
    /* Into the open batch: no fence here; seal() stamps the batch (one fence per
     * CT_EPOCH_ADVANCE_EVERY retires). */
    hook->ptr = ptr;
    hook->next = r->open;
    if (!r->open)
        r->open_tail = hook;
    r->open = hook;
    r->open_count++;
    publish_pending(r);
    if (++r->since_advance >= CT_EPOCH_ADVANCE_EVERY) {
        r->since_advance = 0;
        seal(r);
        ct_epoch_advance(r->domain);
        collect_sealed(r);
    }
}

uint64_t ct_epoch_now(const ct_epoch_domain *d)
{
    return atomic_load_explicit(&((ct_epoch_domain *)d)->epoch, memory_order_relaxed);
}

size_t ct_epoch_record_pending(const ct_epoch_record *r)
{
    return atomic_load_explicit(&((ct_epoch_record *)r)->pending, memory_order_relaxed);
}

size_t ct_epoch_records(const ct_epoch_domain *d)
{
    return atomic_load_explicit(&((ct_epoch_domain *)d)->nrecords, memory_order_relaxed);
}

size_t ct_epoch_pending(const ct_epoch_domain *d)
{
    size_t n = 0;
    for (ct_epoch_record *r = atomic_load_explicit(&((ct_epoch_domain *)d)->records,
                                                   memory_order_acquire);
         r; r = atomic_load_explicit(&r->next, memory_order_acquire))
        n += atomic_load_explicit(&r->pending, memory_order_relaxed);
    return n;
}

size_t ct_epoch_laggards(const ct_epoch_domain *d)
{
    uint64_t e = ct_epoch_now(d);
    size_t n = 0;
    for (ct_epoch_record *r = atomic_load_explicit(&((ct_epoch_domain *)d)->records,
                                                   memory_order_acquire);
         r; r = atomic_load_explicit(&r->next, memory_order_acquire)) {
        uint64_t s = atomic_load_explicit(&r->state, memory_order_relaxed);
        if ((s & 1) && (s >> 1) != e)
            n++;
    }
    return n;
}
