/* contend/lock/adaptive.h: adaptive mutex: one spinner at a time, everyone else sleeps.
 *
 * Goal: the latency of a spinlock when a handoff is imminent, the CPU thrift of a futex mutex
 * otherwise, and no collapse when threads outnumber cores (8 threads on 2 cores must run at
 * least as fast as the three-state futex mutex and glibc's pthread_mutex_t).
 *
 * Sources. The design combines:
 *  - WebKit's WTF::Lock and Rust's parking_lot (F. Pizlo, "Locking in WebKit", 2016;
 *    Amanieu d'Antras, parking_lot): a few bits of lock word, barging allowed, spin a bounded
 *    time, then park; eventual fairness by direct handoff after a waiter has starved.
 *  - Go's sync.Mutex (mutexWoken and starvation mode, Go 1.9): a "woken" bit tells the unlocker
 *    that an awake thread is already on its way, so it need not wake another. Here that bit
 *    doubles as the spinner token: at most ONE thread spins at a time, the others park at once.
 *    That is what keeps the lock from collapsing past the core count: at most holder + spinner
 *    compete for CPUs, so on 2 cores the two runnable threads are exactly the two that matter,
 *    and parked threads cost no CPU. Linux's mutex gets the same effect from its single
 *    optimistic spinner (the OSQ).
 *  - Spin with plain loads, CAS only when the lock is seen free: a CAS takes the line
 *    exclusive even when it fails, stealing it from the holder (LLVM libc PR #92168 on its
 *    mutex; the test-and-test-and-set argument of Anderson 1990), and polls are spaced out
 *    as a wait grows. Only the fast path's one exchange does not load first (see there).
 *  - Before claiming the spinner token, a contender polls a lock that is merely held (no
 *    spinner, nobody parked) for ~1.5 us, like the futex mutex's short spin: most short
 *    critical sections end within that, and the claim would cost a CAS on the holder's line.
 *  - Spin about as long as a sleep/wake round trip costs (ct_wait_adaptive_spins()): spinning
 *    longer costs more CPU than sleeping would; shorter sleeps needlessly (the two-competitive
 *    argument of Karlin et al., "Empirical studies of competitive spinning", SOSP 1991).
 *  - An uncontended acquisition costs ONE atomic RMW, as in a test-and-set lock: the lock bit
 *    is a word of its own that only its owner clears, with a plain release store, and unlock
 *    then reads the rest of the state with a plain load. The StoreLoad fence this
 *    store-then-load needs (Dekker's pattern: it meets a parker's announce-then-recheck) is
 *    paid by the parker alone, on the slow path, with membarrier(2): the asymmetric Dekker
 *    synchronization of D. Dice, H. Huang and M. Yang ("Asymmetric Dekker Synchronization",
 *    Sun Microsystems, 2001), as in folly's asymmetricHeavyBarrier and liburcu's membarrier
 *    flavour. Where membarrier cannot be registered (kernel < 4.14, seccomp) the lock is
 *    initialized in FENCE mode: unlock adds an RMW after its store (two RMWs, as before).
 *
 * State: a lock word, a state word, a wake-token count and a handoff word.
 *   locked   1 while someone holds the lock. Written only by acquiring RMWs (the fast path's
 *            exchange, which writes 1 over a held lock's 1 without changing it, and CASes
 *            0 -> 1) and by the owner's release store (1 -> 0): only the owner ever writes 0,
 *            so the release needs no RMW. A handoff keeps it 1 from one owner to the next.
 *   SPINNER  an awake contender exists: a spinner, or a parked thread a wake has chosen. Its
 *            owner releases it after it acquires, or when it parks. Nobody wakes anyone while
 *            it is set: that thread will take the lock or re-check when it parks.
 *   STARVE   a woken waiter failed to get the lock for CT_ADAPTIVE_STARVE_NS and reserved
 *            it: the lock goes to it by handoff (handoff word) at the next release; meanwhile
 *            nobody else spins or is woken, and every slow-path contender parks at once.
 *   FENCE    fixed at init (top bit, kept by every RMW): unlock must fence (no membarrier).
 *   waiters  threads parked or about to park, the starving one included:
 *            (state & ~FENCE) / CT_ADAPTIVE_WAITER
 *   tokens   futex word parked threads sleep on: a counting semaphore. Each token is posted
 *            together with one decrement of waiters and consumed by exactly one parked
 *            thread, so none is lost and none is left over. Which parked thread gets it is
 *            not controlled (a thread parking just then can take it first), which is why the
 *            handoff goes through its own word: only the starving thread waits on it.
 * Transitions ("RMW": one atomic read-modify-write of state):
 *   acquire  locked 0 -> 1 (fast-path exchange, or CAS: barging allowed; slow-path
 *            contenders leave it alone while STARVE is set); the SPINNER owner then clears
 *            SPINNER by RMW
 *   spin     RMW: SPINNER 0 -> 1, only while SPINNER and STARVE are clear
 *   park     RMW: waiters + 1, and SPINNER -> 0 if ours, STARVE 0 -> 1 if we starve; then,
 *            unless the value it replaced showed another thread's SPINNER or a STARVE, the
 *            heavy barrier and a recheck of locked (below); then sleep on tokens (or handoff)
 *   unlock   locked := 0 (release store); light barrier; s = load state (FENCE mode: s = an
 *            RMW of state instead); if waiters > 0 and SPINNER clear, then if STARVE:
 *            handoff, else wake
 *   wake     only while locked is still 0: RMW waiters - 1, SPINNER 0 -> 1, + post a token;
 *            the woken thread owns SPINNER. If the lock was retaken, its holder's unlock
 *            checks again.
 *   handoff  re-take the lock by CAS for the starving thread (if someone else holds it, that
 *            holder's unlock hands off instead), then handoff := 1 + wake it; it returns
 *            owning the lock and clears STARVE and itself from waiters (RMW).
 * The Dekker pair (the one place where two threads meet across different words):
 *   unlocker U:  locked := 0 (release);   light barrier;  r1 = state (waiters)
 *   parker   P:  state += WAITER (RMW);   heavy barrier;  r2 = locked
 * The outcome to exclude is r1 == 0 && r2 == 1: P sleeps, U wakes nobody. The light barrier
 * is a compiler barrier (atomic_signal_fence): it keeps U's load after its store in the
 * machine code, nothing more, so the store may still sit in U's store buffer while the load
 * runs. The heavy barrier is membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): a full barrier in
 * P and, before it returns, one on every other CPU running a thread of this process (an
 * IPI); a thread not running then passes a full barrier at its context switch. So U's
 * program gets a full barrier somewhere during P's call:
 *   - before U's load: that load comes after P's RMW was globally visible: r1 > 0;
 *   - after U's load, so after U's store too: the store is drained before membarrier
 *     returns, so r2 reads U's 0 or a later value (another holder's 1, whose own unlock is a
 *     later instance of the same pair).
 * FENCE mode: U's r1 is the result of an RMW (release) of state. The two RMWs are ordered:
 * if U's is later it reads P's increment; if P's (acquire) is later it reads from U's, so
 * U's store happens-before P's recheck and r2 == 0 or later. Plain C11, no membarrier.
 * When P's recheck finds the lock free, P runs the wake itself (P counts among the
 * waiters) and a starving P tries to take the lock itself, so the race costs a spurious
 * wake, never a lost one. A holder H whose acquiring RMW follows the value r2 read (in
 * locked's modification order) sees P too, so a wake that finds the lock retaken can leave
 * the wake to H's own unlock. Membarrier mode: that RMW is performed after P's barrier, so
 * after P's increment was visible to all, and H's unlock load is ordered after its acquire
 * (this step assumes multi-copy-atomic hardware: x86, ARMv8). FENCE mode: if H's unlock
 * RMW preceded P's, P's acquire RMW would synchronize with it and r2 could not read a value
 * older than H's release.
 * Why a parker that saw another thread's SPINNER or a STARVE skips the heavy barrier: the
 * SPINNER owner (awake) or the starving thread (to be handed the lock) performs an RMW of
 * state after ours (clearing its bit, or parking), so everything it does afterwards (its
 * unlock's load, or its own park's recheck) sees our increment by coherence alone. With
 * one spinner per lock, a contender that arrives while someone spins is the common case, so
 * membarrier (~0.3 us; ~9 us when it must IPI a busy CPU in a VM) is paid mainly by a
 * spinner that used up its budget. Measured on the counter benchmark (1 s, 2 vCPUs): 96
 * membarriers for 611k parks at 4 threads, 139 for 1.65M parks at 8.
 * Invariants: (1) no lost wakeup: every parked thread's registration is seen, with the lock
 * released and SPINNER clear, by an unlock or a recheck that then wakes or hands off (the
 * argument above). (2) at most one thread owns SPINNER (set only by an RMW that saw it
 * clear). (3) STARVE implies SPINNER clear (only the SPINNER owner sets STARVE, dropping
 * SPINNER in the same RMW, and nobody claims SPINNER while STARVE is set), waiters >= 1, and
 * exactly one starving thread; handoff is 0 outside a handoff.
 *
 * ThreadSanitizer does not model membarrier or store buffers, but it reports only data
 * races on non-atomic data, and every word here is atomic; the data a critical section
 * protects is ordered by the release/acquire pairs named at each atomic, which TSan checks.
 *
 * Fairness: unfair by design in normal mode (barging and a preferred spinner give the best
 * throughput: the lock rarely goes to a thread that is not running), bounded by handoff: a
 * waiter that has been woken and still failed for CT_ADAPTIVE_STARVE_NS gets the next release
 * directly (only a barging acquire in the few ns between a release and the handoff's re-take
 * can still get in first; that holder's unlock then hands off). Best effort, not a guarantee: which parked thread a wake reaches is the kernel's
 * (roughly FIFO) choice, and a thread parking at that moment may take the token first.
 *
 * Past the core count: parked threads consume nothing; at most one thread spins for long
 * (about one sleep/wake round trip), plus the ~1.5 us short poll that only a contender that
 * finds nobody spinning or parked does, so a preempted holder wastes about one round trip of
 * one CPU, where a spinlock would burn every waiter's whole time slice.
 *
 * Lifetime: unlock may touch the state, token and handoff words after releasing the lock (as
 * glibc's mutex does), so free the lock only once every thread that used it has returned from
 * its last unlock.
 */
#ifndef CONTEND_LOCK_ADAPTIVE_H
#define CONTEND_LOCK_ADAPTIVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "contend/arch.h"
#include "contend/chaos.h"
#include "contend/wait.h"

#define CT_ADAPTIVE_SPINNER 1u
#define CT_ADAPTIVE_STARVE 2u
#define CT_ADAPTIVE_WAITER 8u        /* one parked thread (bit 2 is unused) */
#define CT_ADAPTIVE_FENCE 0x80000000u /* FENCE mode: fixed at init */

/* Tuning, named so it can be argued about (measured on a 2-vCPU AMD EPYC VM, where a PAUSE is
 * ~24 ns and a futex sleep/wake round trip 2-25 us):
 * CT_ADAPTIVE_SHORT_SPINS     pauses a contender polls a merely-held lock (no spinner, nobody
 *                             parked) before it claims SPINNER: ~1.5 us. Polls are spaced
 *                             1, 2, 4 ... CT_ADAPTIVE_SHORT_POLL_MAX pauses apart.
 * CT_ADAPTIVE_SPIN_POLL_MAX   the widest spacing of the SPINNER owner's polls; its whole budget
 *                             is ct_wait_adaptive_spins() pauses (about one round trip).
 * Polling every pause hands over a few ns sooner but pulls the line from the holder on every
 * poll; for empty critical sections that halves throughput (the holder misses on its own
 * lock word each time), so polls thin out as the wait grows. */
#define CT_ADAPTIVE_SHORT_SPINS 64u
#define CT_ADAPTIVE_SHORT_POLL_MAX 16u
#define CT_ADAPTIVE_SPIN_POLL_MAX 64u

/* How long a woken waiter may fail to get the lock before it asks for handoff mode (Go uses
 * 1 ms, parking_lot 0.5 ms on average): long enough that handoff (a sleep/wake per
 * acquisition) is rare, short enough that nobody starves for long. */
#define CT_ADAPTIVE_STARVE_NS 1000000u

/* All four words share one cache line: unlock's store and load touch one line. */
typedef struct ct_adaptive_lock {
    _Atomic uint32_t locked;  /* 1 while held; only the owner clears it (plain store) */
    _Atomic uint32_t state;   /* FENCE | SPINNER | STARVE | waiters * CT_ADAPTIVE_WAITER */
    _Atomic uint32_t tokens;  /* wake tokens; the futex word parked threads sleep on */
    _Atomic uint32_t handoff; /* 1: the lock was handed to the starving waiter (futex word) */
} ct_adaptive_lock_t;

/* A statically initialized lock is in FENCE mode (correct without membarrier, one RMW
 * slower per unlock); ct_adaptive_init() picks the one-RMW mode where the kernel allows. */
#define CT_ADAPTIVE_LOCK_INIT {0, CT_ADAPTIVE_FENCE, 0, 0}

/* Slow paths, in src/locks/adaptive.c (they read the clock and call into wait.c). */
void ct__adaptive_lock_slow(ct_adaptive_lock_t *l);
void ct__adaptive_unlock_slow(ct_adaptive_lock_t *l, uint32_t seen);

/* Initializes the lock and, on first use in the process, registers for membarrier (see
 * above; if that fails every lock is initialized in FENCE mode) and calibrates the spin
 * budget (a few ms, once) so that the first contended acquisition does not pay for it. */
void ct_adaptive_init(ct_adaptive_lock_t *l);

/* For tests: locks initialized from now on use FENCE mode (on = true) or the membarrier mode
 * where available (false, the default). Returns whether the membarrier mode is available.
 * Locks already initialized keep their mode, so this is safe at any time. */
bool ct__adaptive_force_fence(bool on);

/* For tests: parks behave as if membarrier had failed after registration (the degraded mode
 * in src/locks/adaptive.c: bounded sleeps and rechecks instead of aborting). */
void ct__adaptive_force_degraded(bool on);

static inline bool ct_adaptive_trylock(ct_adaptive_lock_t *l)
{
    /* Relaxed load: only a hint (a CAS that fails takes the holder's line all the same). The
     * strong CAS fails only if locked is 1, so trylock fails only when the lock is really
     * held (a handoff keeps it held). Acquire on success pairs with the release store in
     * ct_adaptive_unlock(). */
    uint32_t expect = 0;
    return atomic_load_explicit(&l->locked, memory_order_relaxed) == 0 &&
           atomic_compare_exchange_strong_explicit(&l->locked, &expect, 1, memory_order_acquire,
                                                   memory_order_relaxed);
}

static inline void ct_adaptive_lock(ct_adaptive_lock_t *l)
{
    /* Fast path: one RMW, an exchange (on x86 an XCHG, measurably cheaper than the load and
     * LOCK CMPXCHG of a test-and-test-and-set: 400 vs 330 M uncontended ops/s on the 2-vCPU
     * EPYC). Storing 1 over a held lock's 1 changes nothing, so only an owner ever writes 0.
     * It does pull the line from a holder once per lock() call that finds the lock held;
     * the slow path then polls with plain loads and CASes only a free lock. Acquire on
     * success pairs with the release store in ct_adaptive_unlock(); reading 1 orders nothing.
     * Parked waiters do not stop a barging acquire. */
    if (atomic_exchange_explicit(&l->locked, 1, memory_order_acquire) == 0)
        return;
    ct__adaptive_lock_slow(l);
}

static inline void ct_adaptive_unlock(ct_adaptive_lock_t *l)
{
    /* Release: the critical section completes before locked clears; pairs with the acquiring
     * CAS of the next owner. A plain store (MOV on x86): we own the word, nobody else writes
     * it while it is 1. */
    atomic_store_explicit(&l->locked, 0, memory_order_release);
    /* The light barrier of the Dekker pair: keeps the load below after the store in the
     * machine code; the parker's membarrier does the rest (header comment). */
    atomic_signal_fence(memory_order_seq_cst);
    /* r1 of the Dekker pair. Relaxed: the barrier argument above orders it, and it only
     * decides whether to wake (the wake's RMW and the token carry the ordering). Done, with
     * no system call, when nobody is parked (and not FENCE mode: then s >= WAITER), or when
     * an awake thread (SPINNER) will take the lock. STARVE implies waiters >= 1. */
    uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
    if (s < CT_ADAPTIVE_WAITER ||
        (s & (CT_ADAPTIVE_SPINNER | CT_ADAPTIVE_FENCE)) == CT_ADAPTIVE_SPINNER)
        return;
    ct__adaptive_unlock_slow(l, s);
}

#endif
