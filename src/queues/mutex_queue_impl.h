/* The mutex queue's code: see contend/mutex_queue.h for the algorithm, invariants and
 * contracts. A header for the same reason as mpmc_impl.h: src/queues/mutex_queue.c includes it
 * once (the library's queue, no hooks); the stalled-producer lab includes it again with renamed
 * static symbols and CT_MUTEXQ_PUT_LOCKED defined, to stall a producer while it holds the
 * mutex. Knobs (optional, before including): CT_MUTEXQ_NAME(x) (default ct_mutexq_##x),
 * CT_MUTEXQ_TYPE (default ct_mutexq), CT_MUTEXQ_API (default none), CT_MUTEXQ_PUT_LOCKED(q)
 * (runs under the mutex just before an item is stored; default nothing).
 *
 * No atomics here: the mutex orders everything (its lock is an acquire, its unlock a release),
 * so the CT_CHAOS() points sit just before taking the mutex, where a preemption changes who
 * gets it next. */
#ifndef CONTEND_MUTEX_QUEUE_IMPL_H
#define CONTEND_MUTEX_QUEUE_IMPL_H

#include "contend/mutex_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "contend/arch.h"
#include "contend/chaos.h"

#ifndef CT_MUTEXQ_NAME
#define CT_MUTEXQ_NAME(x) ct_mutexq_##x
#endif
#ifndef CT_MUTEXQ_TYPE
#define CT_MUTEXQ_TYPE ct_mutexq
#endif
#ifndef CT_MUTEXQ_API
#define CT_MUTEXQ_API
#endif
#ifndef CT_MUTEXQ_PUT_LOCKED
#define CT_MUTEXQ_PUT_LOCKED(q) ((void)0)
#endif

typedef struct CT_MUTEXQ_TYPE CT_MUTEXQ_TYPE; /* a repeated typedef: allowed in C11 */

#define CT_MUTEXQ_MAX_CAPACITY ((size_t)1 << 30)

struct CT_MUTEXQ_TYPE {
    CT_CACHE_ALIGNED pthread_mutex_t mu;
    pthread_cond_t not_empty; /* consumers wait here while count == 0 && !closed */
    pthread_cond_t not_full;  /* producers wait here while count == cap && !closed */
    size_t head;              /* index of the oldest item */
    size_t count;             /* items in the ring */
    unsigned waiting_pop;     /* threads in pthread_cond_(timed)wait on not_empty */
    unsigned waiting_push;    /* threads in pthread_cond_(timed)wait on not_full */
    bool closed;
    size_t cap;               /* read-only after create */
    void **buf;               /* read-only pointer after create; slots under mu */
};

CT_MUTEXQ_API CT_MUTEXQ_TYPE *CT_MUTEXQ_NAME(create)(size_t capacity)
{
    if (capacity == 0 || capacity > CT_MUTEXQ_MAX_CAPACITY) {
        errno = EINVAL;
        return NULL;
    }
    CT_MUTEXQ_TYPE *q = aligned_alloc(CT_CACHE_LINE, (sizeof *q + CT_CACHE_LINE - 1) /
                                                    CT_CACHE_LINE * CT_CACHE_LINE);
    if (q == NULL)
        return NULL; /* errno = ENOMEM */
    q->buf = malloc(capacity * sizeof *q->buf);
    if (q->buf == NULL) {
        free(q);
        errno = ENOMEM;
        return NULL;
    }
    q->cap = capacity;
    q->head = q->count = 0;
    q->waiting_pop = q->waiting_push = 0;
    q->closed = false;

    int err;
    pthread_condattr_t ca;
    if ((err = pthread_condattr_init(&ca)) != 0)
        goto fail_buf;
    /* Deadlines are CLOCK_MONOTONIC: a wall-clock jump must not stretch or cut a wait. */
    if ((err = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) != 0)
        goto fail_attr;
    if ((err = pthread_mutex_init(&q->mu, NULL)) != 0)
        goto fail_attr;
    if ((err = pthread_cond_init(&q->not_empty, &ca)) != 0)
        goto fail_mu;
    if ((err = pthread_cond_init(&q->not_full, &ca)) != 0)
        goto fail_ne;
    pthread_condattr_destroy(&ca);
    return q;

fail_ne:
    pthread_cond_destroy(&q->not_empty);
fail_mu:
    pthread_mutex_destroy(&q->mu);
fail_attr:
    pthread_condattr_destroy(&ca);
fail_buf:
    free(q->buf);
    free(q);
    errno = err;
    return NULL;
}

CT_MUTEXQ_API void CT_MUTEXQ_NAME(destroy)(CT_MUTEXQ_TYPE *q)
{
    if (q == NULL)
        return;
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    pthread_mutex_destroy(&q->mu);
    free(q->buf);
    free(q);
}

CT_MUTEXQ_API size_t CT_MUTEXQ_NAME(capacity)(const CT_MUTEXQ_TYPE *q) { return q->cap; }

CT_MUTEXQ_API size_t CT_MUTEXQ_NAME(size)(CT_MUTEXQ_TYPE *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->count;
    pthread_mutex_unlock(&q->mu);
    return n;
}

/* Under mu, with count < cap. Wakes one consumer if any waits: each item can satisfy exactly
 * one pop, so one signal per item is enough and wakes no thread in vain. */
static void put_locked(CT_MUTEXQ_TYPE *q, void *item)
{
    CT_MUTEXQ_PUT_LOCKED(q); /* the stalled-producer lab's hook (top) */
    size_t tail = q->head + q->count;
    if (tail >= q->cap)
        tail -= q->cap;
    q->buf[tail] = item;
    q->count++;
    if (q->waiting_pop)
        pthread_cond_signal(&q->not_empty);
}

/* Under mu, with count > 0. Wakes one producer if any waits (one freed slot, one push). */
static void *take_locked(CT_MUTEXQ_TYPE *q)
{
    void *item = q->buf[q->head];
    if (++q->head == q->cap)
        q->head = 0;
    q->count--;
    if (q->waiting_push)
        pthread_cond_signal(&q->not_full);
    return item;
}

CT_MUTEXQ_API bool CT_MUTEXQ_NAME(try_push)(CT_MUTEXQ_TYPE *q, void *item)
{
    CT_CHAOS();
    pthread_mutex_lock(&q->mu);
    int err = q->closed ? EPIPE : q->count == q->cap ? EAGAIN : 0;
    if (err == 0)
        put_locked(q, item);
    pthread_mutex_unlock(&q->mu);
    if (err)
        errno = err;
    return err == 0;
}

CT_MUTEXQ_API bool CT_MUTEXQ_NAME(try_pop)(CT_MUTEXQ_TYPE *q, void **item)
{
    CT_CHAOS();
    pthread_mutex_lock(&q->mu);
    /* Items stay poppable after close: closed matters only once the queue is empty. */
    int err = q->count ? 0 : q->closed ? EPIPE : EAGAIN;
    if (err == 0)
        *item = take_locked(q);
    pthread_mutex_unlock(&q->mu);
    if (err)
        errno = err;
    return err == 0;
}

/* Wait on cv under mu until woken or the deadline (0 = none). Returns 0 or ETIMEDOUT; the
 * caller re-checks its condition either way (wakeups may be spurious or stolen). */
static int wait_locked(CT_MUTEXQ_TYPE *q, pthread_cond_t *cv, unsigned *waiting, uint64_t deadline_ns)
{
    int r = 0;
    (*waiting)++;
    if (deadline_ns == 0) {
        pthread_cond_wait(cv, &q->mu);
    } else {
        struct timespec ts = {(time_t)(deadline_ns / 1000000000u),
                              (long)(deadline_ns % 1000000000u)};
        r = pthread_cond_timedwait(cv, &q->mu, &ts);
    }
    (*waiting)--;
    return r == ETIMEDOUT ? ETIMEDOUT : 0;
}

CT_MUTEXQ_API bool CT_MUTEXQ_NAME(push_until)(CT_MUTEXQ_TYPE *q, void *item,
                                             uint64_t deadline_ns)
{
    int err = 0;
    CT_CHAOS();
    pthread_mutex_lock(&q->mu);
    for (;;) {
        if (q->closed) {
            err = EPIPE;
            break;
        }
        if (q->count < q->cap) {
            put_locked(q, item);
            err = 0;
            break;
        }
        if (err == ETIMEDOUT) /* deadline passed and re-checked once after it: give up */
            break;
        err = wait_locked(q, &q->not_full, &q->waiting_push, deadline_ns);
    }
    pthread_mutex_unlock(&q->mu);
    if (err)
        errno = err;
    return err == 0;
}

CT_MUTEXQ_API bool CT_MUTEXQ_NAME(pop_until)(CT_MUTEXQ_TYPE *q, void **item,
                                            uint64_t deadline_ns)
{
    int err = 0;
    CT_CHAOS();
    pthread_mutex_lock(&q->mu);
    for (;;) {
        if (q->count) {
            *item = take_locked(q);
            err = 0;
            break;
        }
        if (q->closed) {
            err = EPIPE;
            break;
        }
        if (err == ETIMEDOUT)
            break;
        err = wait_locked(q, &q->not_empty, &q->waiting_pop, deadline_ns);
    }
    pthread_mutex_unlock(&q->mu);
    if (err)
        errno = err;
    return err == 0;
}

CT_MUTEXQ_API bool CT_MUTEXQ_NAME(push)(CT_MUTEXQ_TYPE *q, void *item)
{
    return CT_MUTEXQ_NAME(push_until)(q, item, 0);
}
CT_MUTEXQ_API bool CT_MUTEXQ_NAME(pop)(CT_MUTEXQ_TYPE *q, void **item)
{
    return CT_MUTEXQ_NAME(pop_until)(q, item, 0);
}

CT_MUTEXQ_API void CT_MUTEXQ_NAME(close)(CT_MUTEXQ_TYPE *q)
{
    CT_CHAOS();
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    /* Everyone: every waiting pop may now return (remaining items or false), every waiting
     * push must return false. */
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

#endif
