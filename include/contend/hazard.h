/* contend/hazard.h: hazard pointers, safe memory reclamation for lock-free structures.
 *
 * Source. M. M. Michael, "Hazard Pointers: Safe Memory Reclamation for Lock-Free Objects",
 * IEEE TPDS 15(6), 2004. Related: Concurrency Kit ck_hp, folly hazptr, C++26 <hazard_pointer>.
 *
 * Model. A domain owns a list of per-thread records. A thread joins (gets a record) before
 * it touches the structure and leaves when done; it may join and leave any number of times.
 * Records are never freed while the domain lives: a left record is marked free and the next
 * join reuses it, together with whatever nodes the previous owner retired but could not yet
 * free (Michael's paper does the same). Each record has K hazard slots (K chosen at create).
 *
 *   protect(r, k, src)  publish "I am about to use *src" in slot k and return the pointer, only
 *                       once a re-read of src confirms the pointer was still there AFTER the
 *                       publication (the re-validation loop). From then until clear(r, k) or
 *                       the next protect on slot k, the node cannot be freed.
 *   clear(r, k)         withdraw slot k.
 *   retire(r, p, hook)  p was unlinked (no new reader can reach it from the structure): free it
 *                       once no slot protects it. The hook lives inside the node (intrusive),
 *                       so retire never allocates and never fails.
 *   scan(r)             free every node retired by r that no slot of any record protects.
 *
 * Invariant (safety). A node retired by r is freed only by a scan that loaded every hazard
 * slot after the node was unlinked and found none equal to it. A reader whose re-validation
 * saw the node still linked published its hazard before that re-read; the unlink came later,
 * so the scan's later load of the slot sees the hazard (or a later value of the slot, written
 * only after the reader stopped using the node).
 *
 * Memory orders. protect: the hazard store and the re-read of src are seq_cst: the store must
 * be ordered before the re-read (a store-load pair, which only seq_cst, or a full fence, gives;
 * on x86 the store becomes an XCHG). This is the "fence per protected load" cost of hazard
 * pointers. scan: an atomic_thread_fence(seq_cst) between the caller's unlink (its CAS) and the
 * loads of the slots closes the other half of the Dekker pair; slot loads are acquire so a
 * cleared (release) slot orders the reader's last use of the node before the free. clear is a
 * release store. The record list is push-only: records are published with a release CAS and
 * walked with acquire loads.
 *
 * Bound (stated, and checked by tests/test_smr.c). Let N be the number of records the domain
 * has (ct_hp_records) and H = K * N the number of hazard slots. A record scans when its
 * retired count reaches T = 2 * H + CT_HP_SCAN_SLACK (ct_hp_bound). After a scan at most H
 * nodes remain (each is protected by a distinct slot), so at every instant each record holds
 * at most T unreclaimed nodes and the domain at most N * T. Per scan, at least T - H = H + 16
 * nodes are freed, so the amortized scan cost per retire is O(1) slot reads (sorted snapshot
 * plus binary search: O(log H) per node).
 *
 * Progress. protect is lock-free (it retries only when src changed, i.e. another thread made
 * progress); clear is wait-free; retire and scan are wait-free (bounded by N*K + T steps);
 * join is lock-free (a CAS to push a new record) and may allocate; leave is wait-free.
 * A stalled reader holds at most K nodes: reclamation of everything else continues.
 *
 * Errors: create/join return NULL with errno (EINVAL, ENOMEM); nothing aborts.
 */
#ifndef CONTEND_HAZARD_H
#define CONTEND_HAZARD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define CT_HP_MAX_SLOTS 8   /* K at most (a Treiber pop needs 1, a Michael-Scott queue 2) */
#define CT_HP_SCAN_SLACK 16 /* T = 2 * K * N + this */

typedef struct ct_hp_domain ct_hp_domain;
typedef struct ct_hp_record ct_hp_record;

/* The hook a retired node carries (embed it in the node). */
typedef struct ct_hp_node {
    struct ct_hp_node *next;
    void *ptr;               /* the pointer readers protect: usually the node itself */
} ct_hp_node;

/* Frees one node: ptr is what was passed to retire. */
typedef void (*ct_hp_free_fn)(void *ptr, void *ctx);

/* A domain with `slots` hazard slots per record (1..CT_HP_MAX_SLOTS). NULL + EINVAL / ENOMEM. */
ct_hp_domain *ct_hp_domain_create(unsigned slots, ct_hp_free_fn free_fn, void *ctx);

/* Frees every retired node still pending and the records. No thread may be joined. NULL ok. */
void ct_hp_domain_destroy(ct_hp_domain *d);

/* A record for the calling thread: a free one is reused (with the nodes its last owner left
 * pending), else a new one is allocated. NULL + ENOMEM (or EINVAL for a NULL domain). */
ct_hp_record *ct_hp_join(ct_hp_domain *d);

/* Clears every slot, scans, and hands the record back for reuse. The record's remaining
 * pending nodes (at most H, each protected right now) stay with it for the next owner. */
void ct_hp_leave(ct_hp_record *r);

/* Hot-path calls take r from ct_hp_join (not NULL) and k < the domain's slot count: not
 * checked (undefined behaviour otherwise), as for any inline fast path.
 * The re-validation loop: loads *src, publishes it in slot k, reloads *src, repeats until
 * both loads agree, and returns the protected pointer (NULL: nothing to protect; the slot
 * holds NULL). */
static inline void *ct_hp_protect(ct_hp_record *r, unsigned k, void *_Atomic *src);

/* Publishes p in slot k without validation: for a caller that re-validates itself. */
static inline void ct_hp_set(ct_hp_record *r, unsigned k, void *p);

static inline void ct_hp_clear(ct_hp_record *r, unsigned k);

/* Hands an unlinked node to the domain; scans when the record holds ct_hp_bound() nodes. */
void ct_hp_retire(ct_hp_record *r, void *ptr, ct_hp_node *hook);

/* Frees every node this record retired that no slot protects now. Returns how many it freed. */
size_t ct_hp_scan(ct_hp_record *r);

/* Observability. pending: retired, not yet freed (all records; each count is read once,
 * relaxed, so under concurrency it is a snapshot of moving values). */
size_t ct_hp_pending(const ct_hp_domain *d);
size_t ct_hp_record_pending(const ct_hp_record *r);
size_t ct_hp_records(const ct_hp_domain *d);
size_t ct_hp_bound(const ct_hp_domain *d); /* T: the most one record ever holds */

/* ---- inline hot path ---------------------------------------------------------------- */

/* The layout is public only so the hot path can be inline; use the functions above. */
struct ct_hp_record {
    void *_Atomic slot[CT_HP_MAX_SLOTS];
    ct_hp_domain *domain;
    unsigned nslots;
    /* Owner-only below (the owner is whoever holds in_use). */
    ct_hp_node *retired;
    size_t nretired;
    _Atomic size_t pending;   /* mirror of nretired for observers (relaxed) */
    void **scratch;           /* hazard snapshot for scan */
    size_t scratch_cap;
    _Atomic int in_use;
    struct ct_hp_record *_Atomic next;
};

static inline void *ct_hp_protect(ct_hp_record *r, unsigned k, void *_Atomic *src)
{
    /* The first load may be relaxed: the value is only trusted after the seq_cst re-read. */
    void *p = atomic_load_explicit(src, memory_order_relaxed);
    for (;;) {
        /* seq_cst store then seq_cst load: the publication is ordered before the re-read. */
        atomic_store_explicit(&r->slot[k], p, memory_order_seq_cst);
        void *again = atomic_load_explicit(src, memory_order_seq_cst);
        if (again == p)
            return p;
        p = again;
    }
}

static inline void ct_hp_set(ct_hp_record *r, unsigned k, void *p)
{
    atomic_store_explicit(&r->slot[k], p, memory_order_seq_cst);
}

static inline void ct_hp_clear(ct_hp_record *r, unsigned k)
{
    /* release: the caller's last access to the node happens before a scan that reads NULL. */
    atomic_store_explicit(&r->slot[k], NULL, memory_order_release);
}

#endif
