/* contend/mutex_queue.h: bounded FIFO queue under one mutex (the baseline).
 *
 * The textbook monitor solution of the bounded-buffer problem (C. A. R. Hoare, "Monitors: an
 * operating system structuring concept", CACM 17(10), 1974; in pthreads form, Butenhof,
 * "Programming with POSIX Threads", 1997, ch. 3): one pthread mutex guards a ring of exactly
 * the requested capacity, and two condition variables say "not empty" (consumers wait on it)
 * and "not full" (producers wait on it). Every operation takes the mutex, so producers and
 * consumers serialize on one lock and one cache line: this is what the lock-free queues are
 * measured against. It sleeps instead of spinning, so it degrades gracefully past the core
 * count, where spinning queues collapse.
 *
 * State (all under the mutex): buf[cap], head (index of the oldest item), count, closed, and
 * the number of threads waiting on each condition variable.
 * Invariants: 0 <= count <= cap; the items are buf[(head + i) % cap] for i in [0, count), in
 * FIFO order; closed never goes back to false; a thread waits on not_empty only while
 * count == 0 && !closed, on not_full only while count == cap && !closed.
 * Wakeups: a push signals not_empty when a consumer waits, a pop signals not_full when a
 * producer waits (under the mutex, so no signal can fall between a waiter's check and its
 * wait); close broadcasts both.
 *
 * Semantics: those of every queue (contend/queue.h): any void * (NULL included) is an item,
 * try_* never wait, push fails once closed, pop fails once closed and empty. Failures set
 * errno: EAGAIN (try_*: full / empty), EPIPE (closed), ETIMEDOUT (*_until: deadline passed).
 * Deadlines are absolute CLOCK_MONOTONIC times in ns (0 = none), so a caller retrying after a
 * failure keeps its original deadline. Any number of producers and consumers.
 */
#ifndef CONTEND_MUTEX_QUEUE_H
#define CONTEND_MUTEX_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ct_mutexq ct_mutexq;

/* NULL + errno: EINVAL for 0 or > 2^30, ENOMEM; or the pthread init error. */
ct_mutexq *ct_mutexq_create(size_t capacity);
void ct_mutexq_destroy(ct_mutexq *q);       /* no thread may be inside any call on q */
size_t ct_mutexq_capacity(const ct_mutexq *q); /* exactly the capacity asked for */
size_t ct_mutexq_size(ct_mutexq *q);        /* items now in the queue (a snapshot) */
bool ct_mutexq_try_push(ct_mutexq *q, void *item);   /* false: EAGAIN full, EPIPE closed */
bool ct_mutexq_try_pop(ct_mutexq *q, void **item);   /* false: EAGAIN empty, EPIPE closed+empty */
bool ct_mutexq_push(ct_mutexq *q, void *item);       /* false: EPIPE */
bool ct_mutexq_pop(ct_mutexq *q, void **item);       /* false: EPIPE */
bool ct_mutexq_push_until(ct_mutexq *q, void *item, uint64_t deadline_ns); /* + ETIMEDOUT */
bool ct_mutexq_pop_until(ct_mutexq *q, void **item, uint64_t deadline_ns); /* + ETIMEDOUT */
void ct_mutexq_close(ct_mutexq *q);

#endif
