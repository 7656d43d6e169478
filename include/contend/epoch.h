/* contend/epoch.h: epoch-based reclamation (EBR).
 *
 * Source. K. Fraser, "Practical lock-freedom", PhD thesis, Cambridge, 2004 (section 5.2.3);
 * the three-epoch scheme as in crossbeam-epoch and Concurrency Kit's ck_epoch. Hart, McKenney
 * and Brown (JPDC 2007) compare it with hazard pointers and QSBR.
 *
 * Model. A domain has a global epoch E (a 64-bit counter; only E mod 3 matters to the bins)
 * and a push-only list of per-thread records; threads join and leave at any time, and left
 * records are reused by later joins.
 *
 *   enter(r)           start a critical section: announce (E, active) in the record. Every
 *                      pointer read from the structure inside it stays valid until exit.
 *   exit(r)            end it.
 *   retire(r, p, hook) p was unlinked: free it once every thread that could still hold it has
 *                      left the critical section it was in. The node is stamped with a
 *                      global epoch read after the retire (batched, see below) and kept in
 *                      one of three per-record bins.
 *   advance(d)         E -> E + 1, allowed only when every active record announced E.
 *
 * Invariant (safety). A node stamped s is freed only when E >= s + 2. Every thread that can
 * still hold the node entered before the unlink and announced an epoch <= s (see the retire
 * fence below). E moves from s + 1 to s + 2 only when every active record announced s + 1,
 * so each such reader had left its critical section by then: nobody holds the node.
 *
 * Memory orders. enter: acquire load of E (synchronizes with the advance that wrote it),
 * release store of the announcement, then atomic_thread_fence(seq_cst): the announcement is
 * ordered before every load from the structure (a store-load pair: only a full fence does it).
 * retire adds the node to an open batch; sealing the batch (every CT_EPOCH_ADVANCE_EVERY
 * retires, and in collect and leave) does atomic_thread_fence(seq_cst), then a relaxed load
 * of E as the stamp of the whole batch: one fence per 64 retires, and a stamp read after the
 * retire is only larger, which is safe. Why the fence:
 * a reader that still saw the node linked has its enter fence before this fence in the
 * seq_cst order (else its load would have seen the unlink), and the advance that produced
 * the reader's announced epoch happens before that fence; so this load returns at least the
 * reader's epoch (a relaxed load without the fence could return an older E, and the node would
 * be freed one epoch early, under a reader announced one epoch ahead). advance: seq_cst fence,
 * acquire loads of the announcements, then a seq_cst CAS of E (seq_cst so that the fences
 * above order against it). exit: release store (the section's reads happen before an advance
 * that sees the record inactive). collect frees after an acquire load of E.
 *
 * Bins. Each record keeps an open batch (retired, not yet stamped) and three bins (indexed by
 * stamp mod 3) holding nodes stamped with one epoch each; a bin is freed whole once
 * E >= its stamp + 2, checked at enter and retire. A record seals its batch and tries to
 * advance after every CT_EPOCH_ADVANCE_EVERY retires.
 *
 * The cost: a stalled thread. A thread that stops inside a critical section (preempted,
 * blocked on I/O, SIGSTOPped) pins E: at most one more advance succeeds, then no node retired
 * by ANY thread can be freed, and pending memory grows without bound for as long as it stays
 * inside. Hazard pointers do not have this failure mode (a stalled reader holds at most K
 * nodes). The API makes it visible: ct_epoch_pending() counts the nodes waiting and
 * ct_epoch_laggards() the active records behind E; tests/test_smr.c stalls a participant and
 * checks that pending grows, then that reclamation resumes once it leaves, and the `stack`
 * benchmark reports peak and mean pending nodes.
 *
 * Progress. enter, exit, retire and advance are wait-free given N records (advance reads each
 * record once; it fails rather than waits). Reclamation itself is blocking: it depends on every
 * thread leaving its critical section. join is lock-free and may allocate; leave wait-free.
 *
 * Errors: create/join return NULL with errno (EINVAL, ENOMEM); nothing aborts.
 */
#ifndef CONTEND_EPOCH_H
#define CONTEND_EPOCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CT_EPOCH_ADVANCE_EVERY 64 /* retires between a record's advance attempts */

typedef struct ct_epoch_domain ct_epoch_domain;
typedef struct ct_epoch_record ct_epoch_record;

typedef struct ct_epoch_node {
    struct ct_epoch_node *next;
    void *ptr;
} ct_epoch_node;

typedef void (*ct_epoch_free_fn)(void *ptr, void *ctx);

/* NULL + EINVAL (no free_fn) / ENOMEM. */
ct_epoch_domain *ct_epoch_domain_create(ct_epoch_free_fn free_fn, void *ctx);
/* Frees every pending node and the records. No thread may be joined. NULL ok. */
void ct_epoch_domain_destroy(ct_epoch_domain *d);

/* A record (a free one reused, with its bins, else a new one). NULL + EINVAL / ENOMEM. */
ct_epoch_record *ct_epoch_join(ct_epoch_domain *d);
/* Leaves (must not be inside a critical section); the record's pending nodes stay in its bins
 * for the next owner and are freed by ct_epoch_domain_destroy at the latest. */
void ct_epoch_leave(ct_epoch_record *r);

void ct_epoch_enter(ct_epoch_record *r); /* sections do not nest */
void ct_epoch_exit(ct_epoch_record *r);
bool ct_epoch_inside(const ct_epoch_record *r);

/* May be called inside or outside a critical section, after p was unlinked. */
void ct_epoch_retire(ct_epoch_record *r, void *ptr, ct_epoch_node *hook);

/* One attempt to move E forward: true when E advanced (by this call or another). */
bool ct_epoch_advance(ct_epoch_domain *d);
/* Stamps this record's open batch, then frees its bins that are old enough. Returns how many
 * nodes it freed. */
size_t ct_epoch_collect(ct_epoch_record *r);

uint64_t ct_epoch_now(const ct_epoch_domain *d);
size_t ct_epoch_pending(const ct_epoch_domain *d);
size_t ct_epoch_record_pending(const ct_epoch_record *r);
size_t ct_epoch_records(const ct_epoch_domain *d);
/* Active records whose announced epoch is behind E: each one blocks every advance. */
size_t ct_epoch_laggards(const ct_epoch_domain *d);

#endif
