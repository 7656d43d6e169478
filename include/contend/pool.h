/* contend/pool.h: a work-stealing thread pool with fork-join groups and parallel_for.
 *
 * Model. A pool owns N worker threads. Work is a task: a function and its argument, spawned
 * into a group (caller-owned storage that counts the group's unfinished tasks). ct_group_wait
 * returns once every task spawned into the group has returned, including tasks spawned into it
 * by its own tasks. Tasks may spawn and wait (fork-join, to any depth).
 *
 * Schedulers (ct_pool_config.sched):
 *   CT_SCHED_STEAL       one Chase-Lev deque per worker (src/thread_pool/chase_lev.h): a
 *                        worker pushes what it spawns at the bottom of its own deque and runs
 *                        its own work newest-first (LIFO: the child it just spawned, whose
 *                        data is still in its cache); an idle worker steals the oldest task
 *                        (the top: usually the biggest piece left) from a victim chosen at
 *                        random, a bounded number of attempts per round (Blumofe & Leiserson,
 *                        "Scheduling multithreaded computations by work stealing", JACM 1999;
 *                        Cilk-5, Frigo, Leiserson & Randall, PLDI 1998).
 *   CT_SCHED_STEAL_FIFO  the same deques, but a worker runs its own tasks oldest-first (it
 *                        takes from its own top, like a thief): fairer to early tasks, worse
 *                        locality and far larger deques on recursive work (notes/work_stealing.md).
 *   CT_SCHED_CENTRAL     one shared FIFO under a mutex and a condition variable: the baseline
 *                        every spawn and every take goes through.
 * Threads that are not workers of the pool spawn into an injection queue (a FIFO under a
 * mutex) that workers check whenever their own deque is empty, and every 61 tasks (Go's
 * scheduler's figure, so a flood of local work cannot starve outside submissions forever).
 *
 * Idle workers sleep on a futex (an eventcount, contend/eventcount.h) and use no CPU while the
 * pool is idle; the no-lost-wakeup argument is in src/thread_pool/pool.c. No memory is
 * allocated per spawn on the hot path: tasks are stored by value in the deques (three words)
 * and the deques and queues grow by doubling, so allocation is amortized to nothing.
 *
 * Errors: functions that can fail return NULL / -1 with errno, or an errno value (ct_spawn);
 * none aborts the caller's process.
 *
 * Rules:
 *  - ct_group storage must stay valid until ct_group_wait on it has returned, and must not be
 *    re-initialized while tasks of it are pending.
 *  - ct_pool_destroy must not run concurrently with a ct_spawn from a thread that is not one
 *    of the pool's workers, nor be called from one of its own workers.
 *  - A worker of ANOTHER pool that waits on this pool's group sleeps like any outside thread
 *    (it runs nothing of either pool meanwhile).
 *  - A task that waits (ct_group_wait on a worker) runs other tasks meanwhile, on its own stack:
 *    deep fork-join recursion needs stack in proportion to its depth, as in Cilk and TBB.
 */
#ifndef CONTEND_POOL_H
#define CONTEND_POOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ct_pool ct_pool;

typedef enum { CT_SCHED_STEAL, CT_SCHED_STEAL_FIFO, CT_SCHED_CENTRAL } ct_sched;

typedef struct ct_pool_config {
    unsigned threads; /* 0 = online CPUs; at most CT_POOL_MAX_THREADS */
    ct_sched sched;
    bool pin;         /* worker i pins itself to the i-th CPU it may run on (sched_setaffinity),
                       * modulo their count; best effort: see ct_pool_stats.pinned_cpu */
} ct_pool_config;

#define CT_POOL_MAX_THREADS 1024u

/* 0 threads = online CPUs; CT_SCHED_STEAL, not pinned. NULL + errno (EINVAL, ENOMEM, EAGAIN
 * from thread creation) on failure. */
ct_pool *ct_pool_create(unsigned threads);
ct_pool *ct_pool_create_with(const ct_pool_config *config);

/* Runs every task already spawned (and every task those spawn), then joins the workers and
 * frees the pool. NULL is a no-op. From one of the pool's own workers it would wait for
 * itself: it then does nothing and sets errno to EDEADLK. */
void ct_pool_destroy(ct_pool *p);

/* A group: one 32-bit word, bits 0..30 the count of unfinished tasks, bit 31 "someone may
 * sleep waiting for this group" (the word is the futex an outside waiter sleeps on). */
typedef struct ct_group {
    _Atomic uint32_t state;
} ct_group;

#define CT_GROUP_INIT {0}
/* At most this many unfinished tasks per group; ct_spawn beyond it returns EAGAIN. */
#define CT_GROUP_MAX_PENDING (1u << 29)

void ct_group_init(ct_group *g);

/* Spawns fn(arg) into group g. From a worker of p: onto that worker's own deque (CT_SCHED_*
 * STEAL*) or the shared queue (CENTRAL); from any other thread: onto the injection queue.
 * Returns 0, EINVAL (a NULL argument), EAGAIN (CT_GROUP_MAX_PENDING reached) or ENOMEM (a
 * deque or queue could not grow). On failure nothing was spawned. */
int ct_spawn(ct_pool *p, ct_group *g, void (*fn)(void *arg), void *arg);

/* Returns once every task of g has returned (and everything they wrote happens before the
 * return). On a worker of p: runs other tasks (its own first) while waiting, and sleeps only
 * when none can be found. On any other thread: sleeps on the group's futex word until done. */
void ct_group_wait(ct_pool *p, ct_group *g);

/* Calls body(lo, hi, arg) on disjoint subranges covering [begin, end) exactly once each, in
 * parallel, and returns when all have returned. Ranges are split in halves recursively down to
 * `grain` indices (0 = automatic: about 8 pieces per worker, at least 1 index). From a
 * non-worker thread the work runs on the pool and the caller sleeps. Empty ranges return at
 * once. NULL p or body: returns with errno EINVAL. */
void ct_parallel_for(ct_pool *p, size_t begin, size_t end, size_t grain,
                     void (*body)(size_t lo, size_t hi, void *arg), void *arg);

/* ---- introspection -------------------------------------------------------------------- */

typedef struct ct_pool_stats {
    uint64_t tasks_run;       /* tasks this worker ran */
    uint64_t steals;          /* tasks taken from another worker's deque */
    uint64_t steal_failures;  /* steal attempts that found the victim empty or lost a race */
    uint64_t sleeps;          /* times this worker went to sleep (futex or condvar) */
    uint64_t injected_taken;  /* tasks taken from the injection (or central) queue */
    int pinned_cpu;           /* CPU this worker pinned itself to, -1 if not pinned */
} ct_pool_stats;

unsigned ct_pool_size(const ct_pool *p);         /* number of workers; 0 for NULL */
ct_sched ct_pool_sched(const ct_pool *p);
const char *ct_sched_name(ct_sched s);           /* "steal", "steal-fifo", "central"; NULL */
int ct_sched_parse(const char *name, ct_sched *out); /* 0, or -1 with errno EINVAL */

/* One worker's counters (0, or -1 with errno EINVAL for a bad pool or index). Counters are
 * written by their worker only; read while tasks run they are a recent snapshot, and exact
 * for everything that happened before a ct_group_wait that returned to the reader. */
int ct_pool_worker_stats(const ct_pool *p, unsigned worker, ct_pool_stats *out);
/* All workers summed (pinned_cpu: -1). */
void ct_pool_total_stats(const ct_pool *p, ct_pool_stats *out);

/* The index of the calling thread among p's workers, or -1 when it is not one of them. */
int ct_pool_worker_index(const ct_pool *p);

#endif
