/* Concurrency Kit (concurrencykit/ck, BSD-2-Clause) spinlocks as peers, through its installed
 * headers (Debian libck-dev). Same class-table contract as our locks. ck implements its
 * atomics in inline assembly, which ThreadSanitizer cannot see, so peers are left out of the
 * sanitizer builds. ck's CLH lock has no trylock, so it is not registered. */
#include <ck_spinlock.h>
#include <errno.h>

#include "contend/lock.h"

#define CK_SIMPLE_LOCK(sym, ckname, label, text)                                            \
    CT_LOCK_CLASS_DEFINE(sym, label, text, struct ck_spinlock_##ckname,                       \
                         ck_spinlock_##ckname##_init, ck_spinlock_##ckname##_lock,            \
                         ck_spinlock_##ckname##_trylock, ck_spinlock_##ckname##_unlock);

#if defined(CK_F_SPINLOCK_TICKET_TRYLOCK)
CK_SIMPLE_LOCK(ct_peer_ck_ticket, ticket, "ck-ticket", "Concurrency Kit ticket lock: FIFO, spins")
#endif
CK_SIMPLE_LOCK(ct_peer_ck_fas, fas, "ck-fas", "Concurrency Kit fetch-and-store lock: unfair, spins")
CK_SIMPLE_LOCK(ct_peer_ck_cas, cas, "ck-cas", "Concurrency Kit compare-and-swap lock: unfair, spins")
CK_SIMPLE_LOCK(ct_peer_ck_dec, dec, "ck-dec", "Concurrency Kit decrement lock: unfair, spins")

/* MCS: the lock is the queue tail pointer; the node is the caller's per-acquisition context. */
static int ck_mcs_init(void *l) { ck_spinlock_mcs_init(l); return 0; }
static void ck_mcs_destroy(void *l) { (void)l; }
static void ck_mcs_lock(void *l, void *n) { ck_spinlock_mcs_lock(l, n); }
static bool ck_mcs_trylock(void *l, void *n) { return ck_spinlock_mcs_trylock(l, n); }
static void ck_mcs_unlock(void *l, void *n) { ck_spinlock_mcs_unlock(l, n); }
const ct_lock_class ct_peer_ck_mcs = {
    "ck-mcs", "Concurrency Kit MCS queue lock: FIFO, spins on its own node",
    sizeof(struct ck_spinlock_mcs *), sizeof(struct ck_spinlock_mcs),
    ck_mcs_init, ck_mcs_destroy, ck_mcs_lock, ck_mcs_trylock, ck_mcs_unlock};
