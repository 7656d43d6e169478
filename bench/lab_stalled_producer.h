/* The stalled-producer lab's core (`contend lab stalled-producer`, bench/lab_stalled_producer.c),
 * callable from tests: P producers and C consumers pass items through one queue while producer
 * 0 stalls for stall_ms every every_ms, at the worst moment each queue has:
 *   mpmc   between its claim CAS on head and its publish (mpmc_impl.h, CT_MPMC_AFTER_CLAIM):
 *          the cell is claimed, not full; every consumer needs that cell next (FIFO), none
 *          can pass it, and consumers of later positions queue up behind it.
 *   mutex  inside the critical section, just before storing its item (mutex_queue_impl.h,
 *          CT_MUTEXQ_PUT_LOCKED): the mutex is held, so every push and pop waits.
 * Both run from second instantiations of the library's own code compiled into the lab with the
 * hook defined; the library's copies have no hook (zero cost, same object code).
 * Every run verifies exactly-once delivery and per-producer order. */
#ifndef CONTEND_LAB_STALLED_PRODUCER_H
#define CONTEND_LAB_STALLED_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CT_STALL_MAX_THREADS 64

typedef struct ct_stall_config {
    const char *queue;   /* "mpmc" or "mutex" */
    unsigned producers;  /* >= 1; producer 0 stalls */
    unsigned consumers;  /* >= 1 */
    bool blocking;       /* push/pop (true) or try_push/try_pop in a loop (false) */
    double stall_ms;     /* how long each stall lasts (> 0) */
    double every_ms;     /* from the end of one stall to the next one's arming (> 0) */
    double seconds;      /* run length (> 0) */
    size_t capacity;     /* queue capacity (requested) */
} ct_stall_config;

typedef struct ct_stall_consumer {
    uint64_t items;            /* items popped */
    uint64_t calls;            /* pop / try_pop calls */
    uint64_t long_calls;       /* calls that lasted >= stall_ms / 2 */
    uint64_t max_call_ns, p99_call_ns;
    uint64_t max_gap_ns;       /* longest time between two items (or start and first item) */
    uint64_t stall_cpu_ns;     /* thread CPU time spent inside stall windows */
    uint64_t stall_vcsw;       /* voluntary context switches (sleeps) inside stall windows */
} ct_stall_consumer;

typedef struct ct_stall_result {
    unsigned stalls;                 /* stall windows completed */
    double stall_ms_mean;            /* their measured mean length */
    double wall_s;                   /* run length measured */
    uint64_t items;                  /* pushed = popped (when verified) */
    uint64_t popped_in_stalls;       /* items popped while a stall was in progress */
    uint64_t pushed_in_stalls;       /* items pushed (by the other producers) meanwhile */
    double items_per_s_outside;      /* pops per second outside stall windows */
    double items_per_s_during;       /* pops per second inside them */
    /* Sleepers seen at the end of each stall (mean): mpmc: threads announced on the not_empty /
     * not_full eventcounts; mutex: threads in pthread_cond_wait (threads blocked on the mutex
     * itself are not counted there: see the consumers' voluntary switches). */
    double consumers_asleep, producers_asleep;
    uint64_t wakes;                  /* mpmc: eventcount epoch bumps (wake calls); mutex: 0 */
    unsigned consumers;
    ct_stall_consumer consumer[CT_STALL_MAX_THREADS];
    bool verified;                   /* exactly once, per-producer order */
    char failure[200];               /* why not, when !verified */
} ct_stall_result;

/* Runs one configuration. Returns 0 (ran; see verified), or -1 with errno: EINVAL (bad
 * config), ENOMEM, or the error of pthread_create. */
int ct_stall_run(const ct_stall_config *cfg, ct_stall_result *out);

#endif
