/* The SPSC ring's cold paths: create/destroy, blocking push/pop, close, and the wake. The hot
 * paths (try_push/try_pop) are static inline in contend/spsc.h, which also states the
 * invariants, the role contract and the no-lost-wakeup argument these functions rely on. */
#include "contend/spsc.h"

#include <errno.h>
#include <limits.h>
#include <linux/membarrier.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "contend/queue.h"
#include "contend/wait.h"

/* Process-wide: 0 not yet asked, 1 membarrier(PRIVATE_EXPEDITED) registered, 2 unavailable.
 * Racing first calls both register (idempotent) and store the same answer. */
static _Atomic int membarrier_state;

static bool membarrier_ready(void)
{
    int s = atomic_load_explicit(&membarrier_state, memory_order_acquire);
    if (s == 0) {
        const char *off = getenv("CONTEND_SPSC_NO_MEMBARRIER");
        bool ok = !(off && *off && strcmp(off, "0") != 0) &&
                  syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
        s = ok ? 1 : 2;
        atomic_store_explicit(&membarrier_state, s, memory_order_release);
    }
    return s == 1;
}

/* The heavy half of the asymmetric barrier (header): after it, every other thread of the
 * process has executed a full barrier. Nothing to do in the fallback, where the other side's
 * stores are seq_cst exchanges. Returns true when the barrier happened (or was not needed).
 *
 * Once registered, MEMBARRIER_CMD_PRIVATE_EXPEDITED cannot fail on a kernel that accepted the
 * registration; the one case we know of is a child after fork() whose registration did not
 * carry over, so register again and retry. Should it still fail, the library must not abort:
 * we fall back to "visible within bounded time". Real store buffers drain in well under a
 * microsecond, so after a 1 ms pause every store the other side made before our announcement
 * is visible; and callers bound every sleep that followed a failed barrier to 1 ms, so a wake
 * it may have lost costs at most that delay, never a hang. (Outside the C11 model, hence only
 * the last resort.) */
static _Atomic bool force_degraded; /* tests: act as if membarrier had failed */

void ct__spsc_force_degraded(bool on)
{
    /* Relaxed: a test switch, set before the threads that read it start. */
    atomic_store_explicit(&force_degraded, on, memory_order_relaxed);
}

static bool heavy_barrier(const ct_spsc *q)
{
    if (q->asym && atomic_load_explicit(&force_degraded, memory_order_relaxed))
        return false;
    if (!q->asym || syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
        return true;
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 &&
        syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
        return true;
    struct timespec pause = {0, 1000000};
    nanosleep(&pause, NULL);
    return false;
}

#define DEGRADED_SLEEP_NS 1000000u /* the longest sleep after a failed barrier (above) */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The deadline for one sleep: the caller's, or at most DEGRADED_SLEEP_NS away when the barrier
 * before it failed. */
static uint64_t sleep_deadline(bool barrier_ok, uint64_t deadline_ns)
{
    if (barrier_ok)
        return deadline_ns;
    uint64_t cap = mono_ns() + DEGRADED_SLEEP_NS;
    return deadline_ns == 0 || cap < deadline_ns ? cap : deadline_ns;
}

/* After a bounded sleep timed out: true when it was only the degraded bound, not the caller's
 * deadline, so the caller should loop rather than report ETIMEDOUT. */
static bool only_degraded_bound(bool barrier_ok, uint64_t deadline_ns)
{
    return !barrier_ok && (deadline_ns == 0 || mono_ns() < deadline_ns);
}

ct_spsc *ct_spsc_create(size_t capacity)
{
    if (capacity == 0 || capacity > CT_SPSC_MAX_CAPACITY) {
        errno = EINVAL;
        return NULL;
    }
    size_t cap = 1;
    while (cap < capacity)
        cap <<= 1;
    ct_spsc *q = aligned_alloc(CT_PAD, sizeof *q); /* sizeof is a multiple of CT_PAD */
    if (q == NULL)
        return NULL; /* errno = ENOMEM */
    /* The slots on lines of their own too: the first and last slot written every lap must not
     * share a line with some unrelated hot object. */
    size_t bytes = (cap * sizeof(void *) + CT_PAD - 1) / CT_PAD * CT_PAD;
    q->slots = aligned_alloc(CT_PAD, bytes);
    if (q->slots == NULL) {
        free(q);
        errno = ENOMEM;
        return NULL;
    }
    q->mask = cap - 1;
    q->asym = membarrier_ready();
    /* Relaxed: the queue is not shared yet; whatever shares it (thread creation, a release
     * store of the pointer) carries the ordering. */
    atomic_store_explicit(&q->closed, 0, memory_order_relaxed);
    atomic_store_explicit(&q->tail, 0, memory_order_relaxed);
    atomic_store_explicit(&q->pushing, 0, memory_order_relaxed);
    atomic_store_explicit(&q->head, 0, memory_order_relaxed);
    atomic_store_explicit(&q->producer_sleeping, 0, memory_order_relaxed);
    atomic_store_explicit(&q->consumer_sleeping, 0, memory_order_relaxed);
    q->head_cache = 0;
    q->tail_cache = 0;
    return q;
}

void ct_spsc_destroy(ct_spsc *q)
{
    if (q == NULL)
        return;
    free(q->slots);
    free(q);
}

size_t ct_spsc_capacity(const ct_spsc *q) { return (size_t)q->mask + 1; }

size_t ct_spsc_size(ct_spsc *q)
{
    /* Acquire, head first: tail only grows, so tail >= the head we read, and the result is a
     * value the size had at some instant between the loads (clamped: the consumer may pop
     * between them, letting the producer push past head + cap). */
    uint64_t h = atomic_load_explicit(&q->head, memory_order_acquire);
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
    uint64_t n = t - h;
    return n > q->mask + 1 ? (size_t)q->mask + 1 : (size_t)n;
}

void ct__spsc_wake(_Atomic uint32_t *flag)
{
    /* Seq_cst: a sleeper that re-announces after this exchange (its exchange reads our 0)
     * then runs its barrier and re-check after it, and so sees the publish that preceded this
     * wake. Only the thread that turns 1 into 0 makes the system call, so concurrent wakers
     * (the other side and a closer) wake once. INT_MAX: the role contract allows one sleeper
     * per flag, but waking all costs nothing extra. */
    if (atomic_exchange_explicit(flag, 0, memory_order_seq_cst))
        ct_futex_wake(flag, INT_MAX);
}

/* Sleep on flag (ours) unless ready() says the wait is over. Returns 0 after a wake, a spurious
 * return or a condition that turned true, ETIMEDOUT once the deadline has passed. */
static int sleep_on(_Atomic uint32_t *flag, bool ready, uint64_t deadline_ns)
{
    if (ready) {
        /* Relaxed: we are not going to sleep; a waker that still reads our stale 1 only makes
         * a useless wake call. Nobody else writes 1. */
        atomic_store_explicit(flag, 0, memory_order_relaxed);
        return 0;
    }
    if (ct_futex_wait(flag, 1, deadline_ns) != 0 && errno == ETIMEDOUT) {
        atomic_store_explicit(flag, 0, memory_order_relaxed); /* as above */
        return ETIMEDOUT;
    }
    return 0;
}

bool ct_spsc_push_until(ct_spsc *q, void *item, uint64_t deadline_ns)
{
    ct_backoff b = CT_BACKOFF_INIT;
    for (;;) {
        int err = ct__spsc_push(q, item);
        if (err == 0)
            return true;
        if (err == EPIPE)
            break;
        if (!ct_backoff_snooze(&b))
            continue;
        /* Announce (header: A), heavy barrier, then re-check (R). Seq_cst RMW: with the
         * closer's seq_cst fetch_or and loads, a plain C11 Dekker pair. */
        atomic_exchange_explicit(&q->producer_sleeping, 1, memory_order_seq_cst);
        bool barrier_ok = heavy_barrier(q);
        CT_CHAOS();
        /* Seq_cst loads: R. After the barrier (asym) or after A in S (fallback), a release
         * store of head that they miss is followed by the consumer's load of our flag, which
         * sees the 1; likewise for a closer's fetch_or of closed. */
        uint32_t c = atomic_load_explicit(&q->closed, memory_order_seq_cst);
        uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed); /* ours */
        uint64_t h = atomic_load_explicit(&q->head, memory_order_seq_cst);
        bool ready = (c & CT_SPSC__CLOSING) || t - h <= q->mask;
        if (sleep_on(&q->producer_sleeping, ready, sleep_deadline(barrier_ok, deadline_ns)) ==
                ETIMEDOUT &&
            !only_degraded_bound(barrier_ok, deadline_ns)) {
            err = ct__spsc_push(q, item); /* one last look after the deadline */
            if (err == 0)
                return true;
            errno = err == EPIPE ? EPIPE : ETIMEDOUT;
            return false;
        }
        CT_CHAOS();
    }
    errno = EPIPE;
    return false;
}

bool ct_spsc_pop_until(ct_spsc *q, void **item, uint64_t deadline_ns)
{
    ct_backoff b = CT_BACKOFF_INIT;
    for (;;) {
        int err = ct__spsc_pop(q, item);
        if (err == 0)
            return true;
        if (err == EPIPE)
            break;
        if (!ct_backoff_snooze(&b))
            continue;
        /* Announce (A), heavy barrier, re-check (R): the consumer side of the header's
         * argument. */
        atomic_exchange_explicit(&q->consumer_sleeping, 1, memory_order_seq_cst);
        bool barrier_ok = heavy_barrier(q);
        CT_CHAOS();
        /* Seq_cst: R. Head is ours, so only tail and closed need looking at. */
        uint32_t c = atomic_load_explicit(&q->closed, memory_order_seq_cst);
        uint64_t t = atomic_load_explicit(&q->tail, memory_order_seq_cst);
        uint64_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
        bool ready = (c & CT_SPSC__SEALED) || t != h;
        if (sleep_on(&q->consumer_sleeping, ready, sleep_deadline(barrier_ok, deadline_ns)) ==
                ETIMEDOUT &&
            !only_degraded_bound(barrier_ok, deadline_ns)) {
            err = ct__spsc_pop(q, item);
            if (err == 0)
                return true;
            errno = err == EPIPE ? EPIPE : ETIMEDOUT;
            return false;
        }
        CT_CHAOS();
    }
    errno = EPIPE;
    return false;
}

bool ct_spsc_push(ct_spsc *q, void *item) { return ct_spsc_push_until(q, item, 0); }
bool ct_spsc_pop(ct_spsc *q, void **item) { return ct_spsc_pop_until(q, item, 0); }

void ct_spsc_close(ct_spsc *q)
{
    /* C1. Seq_cst RMW: the store half of the close Dekker pair with the producer's pushing
     * flag (fallback), and of the pair with a sleeping producer's re-check. fetch_or, so
     * concurrent closers only ever add bits. */
    atomic_fetch_or_explicit(&q->closed, CT_SPSC__CLOSING, memory_order_seq_cst);
    /* C2: a push attempt that misses CLOSING had set pushing before the producer's barrier
     * point, so C3 sees it. */
    (void)heavy_barrier(q); /* on failure it paused: see heavy_barrier() */
    CT_CHAOS();
    /* C3. Acquire (seq_cst for the fallback's Dekker pair): a 0 written by U3 brings that
     * attempt's publish with it. The attempt is bounded (no wait inside it), so this only
     * waits for a preempted producer to be scheduled. */
    ct_backoff b = CT_BACKOFF_INIT;
    while (atomic_load_explicit(&q->pushing, memory_order_seq_cst) != 0)
        (void)ct_backoff_snooze(&b);
    /* C4. Release: a consumer's acquire of SEALED sees every successful publish. Seq_cst RMW:
     * the store half towards a sleeping consumer's re-check of closed. */
    atomic_fetch_or_explicit(&q->closed, CT_SPSC__SEALED, memory_order_seq_cst);
    CT_CHAOS();
    /* C5. Seq_cst loads after C1 and C4 in S: each sees its side's announcement if that
     * side's re-check missed CLOSING (producer) or SEALED (consumer). */
    if (atomic_load_explicit(&q->consumer_sleeping, memory_order_seq_cst))
        ct__spsc_wake(&q->consumer_sleeping);
    if (atomic_load_explicit(&q->producer_sleeping, memory_order_seq_cst))
        ct__spsc_wake(&q->producer_sleeping);
}

/* ---- queue class "spsc" -------------------------------------------------------------- */

CT_QUEUE_CLASS_DEFINE(ct_queue_spsc, "spsc",
                      "Lamport ring with cached indices, 1 producer + 1 consumer, capacity 2^k",
                      1, 1, ct_spsc, ct_spsc);
