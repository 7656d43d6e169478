/* Eventcount slow paths: announce, sleep, wake. The no-lost-wakeup argument is in
 * contend/eventcount.h. */
#include "contend/eventcount.h"

#include <errno.h>
#include <sched.h>

#include "contend/wait.h"

void ct_eventcount_init(ct_eventcount *ec)
{
    atomic_init(&ec->epoch, 0);
    atomic_init(&ec->waiters, 0);
}

uint32_t ct_eventcount_prepare_wait(ct_eventcount *ec)
{
    /* Announce. seq_cst RMW: the waiter's write of the Dekker pair. Under TSan its acquire
     * half pairs with the notifier's release RMW (the fallback in the header). */
    atomic_fetch_add_explicit(&ec->waiters, 1, memory_order_seq_cst);
#ifndef CT_TSAN
    /* Pairs with the seq_cst fence in ct__eventcount_waiters_after_change(): orders the
     * announce above before the caller's recheck of its condition (StoreLoad). On x86-64 the
     * locked RMW above already is a full barrier; the fence is for the C11 argument and for
     * weaker machines, and costs little on this slow path. */
    atomic_thread_fence(memory_order_seq_cst);
#endif
    CT_CHAOS();
    /* Acquire: pairs with the release RMW of epoch in ct__eventcount_wake(). A key that
     * already includes a notify carries that notifier's change of the condition with it, so
     * the caller's recheck sees it. */
    return atomic_load_explicit(&ec->epoch, memory_order_acquire);
}

void ct_eventcount_cancel_wait(ct_eventcount *ec)
{
    /* seq_cst although waiters is only a hint: ct_eventcount_notify_sc()'s argument needs
     * every modification of waiters to be seq_cst (a seq_cst load may otherwise read a
     * relaxed decrement that precedes our increment in modification order). The same locked
     * RMW on x86-64 either way, on this slow path. */
    atomic_fetch_sub_explicit(&ec->waiters, 1, memory_order_seq_cst);
}

int ct_eventcount_commit_wait(ct_eventcount *ec, uint32_t key, uint64_t deadline_ns)
{
    int rc = 0;
    CT_CHAOS();
    /* Acquire: pairs with the release RMW in ct__eventcount_wake(): once we see the new
     * epoch, the notifier's change of the condition is visible to the caller's recheck.
     * Loop: futex_wait also returns on EINTR and spurious wakeups; only an epoch change or
     * the deadline ends the wait. */
    while (atomic_load_explicit(&ec->epoch, memory_order_acquire) == key) {
        if (ct_futex_wait(&ec->epoch, key, deadline_ns) != 0) {
            if (errno != ETIMEDOUT) {
                /* An unexpected futex error (EFAULT, ENOSYS under a seccomp filter...): the
                 * caller rechecks and may wait again; yield so that such a loop does not
                 * spin a CPU at full speed. */
                sched_yield();
            }
            /* ETIMEDOUT, or the error above, reported the same way. */
            if (atomic_load_explicit(&ec->epoch, memory_order_acquire) == key) {
                rc = -1;
                break;
            }
        }
        CT_CHAOS();
    }
    atomic_fetch_sub_explicit(&ec->waiters, 1, memory_order_seq_cst); /* as in cancel_wait */
    if (rc != 0)
        errno = ETIMEDOUT;
    return rc;
}

void ct__eventcount_wake(ct_eventcount *ec, int n)
{
    /* Release: pairs with the acquire loads of epoch in prepare_wait / commit_wait, so a
     * waiter that sees the new epoch sees the condition change made before notify. */
    atomic_fetch_add_explicit(&ec->epoch, 1, memory_order_release);
    CT_CHAOS();
    ct_futex_wake(&ec->epoch, n);
}
