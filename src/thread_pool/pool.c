/* The work-stealing pool (contend/pool.h): workers, scheduling, sleeping, groups, parallel_for.
 *
 * Finding work (CT_SCHED_STEAL and _FIFO), in this order:
 *   1. every 61st task, the injection queue first (so outside submissions are not starved by a
 *      worker that always has local work; the figure is Go's scheduler's);
 *   2. the worker's own deque: take (LIFO) or, for STEAL_FIFO, steal from its own top;
 *   3. the injection queue (a mutex-protected ring; an atomic count lets workers skip the lock
 *      when it is empty);
 *   4. up to 2N steal attempts on victims chosen uniformly at random (xorshift per worker).
 * A thief that got a task and saw more left in the victim's deque wakes one sleeper, and a
 * worker that pushes onto its own EMPTY deque wakes one: wakeups cascade as work spreads, and
 * a spawn onto a deque that already holds work costs no fence or wake at all.
 *
 * Sleeping without lost wakeups. A worker that found nothing spins and yields a little
 * (ct_backoff_snooze), then: ct_eventcount_prepare_wait (announce, seq_cst fence), rechecks
 * every source of work (each deque's top/bottom, the injection count, the stop flag; a
 * group-waiting worker also its group's count), and only then sleeps. Every action that makes
 * one of those true is followed by an eventcount notify (seq_cst fence, load of the waiter
 * count), so by the eventcount's store-buffering argument (contend/eventcount.h) either the
 * recheck sees the new work or the notifier sees the announcement and wakes a sleeper:
 *   - an outside spawn: count the injection queue (under its mutex), then notify (always);
 *   - destroy: set stop, then notify_all;
 *   - the last task of a group whose waiter bit is set: decrement, then notify_all (and a
 *     futex wake on the group word for an outside waiter);
 *   - a worker spawn onto an empty deque: push (store of bottom), then notify.
 * A worker spawn onto a NON-empty deque does not notify: that is not needed for progress,
 * only for parallelism. The pushing worker is awake and will run everything in its own deque
 * (it never sleeps or exits while its deque is non-empty: the recheck sees its own bottom);
 * and whoever was woken for the first task of that deque wakes the next sleeper when it
 * steals and sees tasks left. So no task is ever stranded with every worker asleep.
 *
 * Stack depth. A worker waiting on a group runs other tasks on its own stack, one frame
 * deeper each time one of them waits in turn. Taking the OLDEST task while waiting would walk
 * the task tree breadth-first, nesting a frame per task (fib(25) overflowed an 8 MiB stack
 * that way), so a waiting worker always takes the NEWEST task it can: its own deque's bottom
 * (its own children) under both STEAL schedulers, the back of the central queue under
 * CENTRAL. STEAL_FIFO's oldest-first order applies to the worker's main loop: to independent
 * tasks, not to joins. Newest-first is not a bound by itself: a waiter may still pick up
 * another worker's task (a steal, or the back of the shared queue), whose subtree then nests
 * on this stack, and with a shared queue two workers keep interleaving each other's subtrees
 * (fib(30) on `central` overflowed 8 MiB that way). So past HELP_DEPTH_LIMIT nested tasks a
 * waiting worker runs only tasks of the group it waits for (the bottom of its own deque, or
 * that group's entries in the central queue) and otherwise sleeps until the group is done.
 * That cannot deadlock: the group's other tasks are queued where their spawner's waiter can
 * run them, or running on other workers, and by induction on the task tree they finish. Stack
 * use is then at most HELP_DEPTH_LIMIT helper frames plus the task tree's own depth.
 *
 * Central scheduler: one ring under a mutex; waiting workers (idle or in ct_group_wait) sleep
 * on one condition variable, checking their condition under the mutex; spawns signal one,
 * group completion and destroy broadcast (under the mutex, so no wakeup is lost).
 *
 * Groups. state = count | WAITING. ct_spawn adds 1 (relaxed: the task is published afterwards
 * by the deque's release, and every later change is an RMW of the same word); the task's end
 * subtracts 1 with release (acq_rel), so a waiter's acquire load that reads count 0 sees
 * everything every task wrote (release sequence of RMWs). An outside waiter sets WAITING with
 * an RMW and futex-waits on the word with the value it saw: a decrement after that changes the
 * word, so the kernel's atomic compare refuses to sleep or the finisher's wake reaches it (no
 * Dekker pair needed: everything is one word). The finisher that takes the count to 0 with
 * WAITING set wakes the word; the group may already be gone by then (a spinning waiter saw 0
 * and returned): a private FUTEX_WAKE only hashes the address and never touches the memory,
 * and a wake that reaches a stranger sleeping on a reused address is a spurious wakeup that
 * every futex user rechecks (glibc's semaphores accept the same, "Futexes Are Tricky" 2011).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chase_lev.h"
#include "contend/chaos.h"
#include "contend/eventcount.h"
#include "contend/pool.h"
#include "contend/wait.h"

#define GROUP_WAITING 0x80000000u
#define GROUP_COUNT 0x7fffffffu
#define INJECT_EVERY 61u
#define HELP_DEPTH_LIMIT 128u /* see "Stack depth" */

/* ---- a FIFO ring of tasks (injection and central queues; caller holds the mutex) -------- */

typedef struct task_ring {
    ct_task *buf;
    size_t cap, head, count;
} task_ring;

static int ring_push(task_ring *r, const ct_task *t)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        ct_task *b = malloc(cap * sizeof *b);
        if (!b)
            return ENOMEM;
        for (size_t i = 0; i < r->count; i++)
            b[i] = r->buf[(r->head + i) % r->cap];
        free(r->buf);
        r->buf = b;
        r->cap = cap;
        r->head = 0;
    }
    r->buf[(r->head + r->count) % r->cap] = *t;
    r->count++;
    return 0;
}

/* Newest first: what a worker waiting on a group takes (see "Stack depth"). */
static bool ring_pop_back(task_ring *r, ct_task *t)
{
    if (!r->count)
        return false;
    r->count--;
    *t = r->buf[(r->head + r->count) % r->cap];
    return true;
}

/* The newest task of group g, wherever it is in the ring (a waiter past the depth limit). */
static bool ring_take_group(task_ring *r, const ct_group *g, ct_task *t)
{
    for (size_t i = r->count; i-- > 0;) {
        if (r->buf[(r->head + i) % r->cap].group != g)
            continue;
        *t = r->buf[(r->head + i) % r->cap];
        for (size_t k = i; k + 1 < r->count; k++)
            r->buf[(r->head + k) % r->cap] = r->buf[(r->head + k + 1) % r->cap];
        r->count--;
        return true;
    }
    return false;
}

static bool ring_pop(task_ring *r, ct_task *t)
{
    if (!r->count)
        return false;
    *t = r->buf[r->head];
    r->head = (r->head + 1) % r->cap;
    r->count--;
    return true;
}

/* ---- pool ------------------------------------------------------------------------------ */

typedef struct worker {
    ct_cl_deque dq;
    /* Owner-written counters (load + store, no RMW), read by ct_pool_*_stats. */
    CT_PAD_ALIGNED _Atomic uint64_t tasks_run;
    _Atomic uint64_t steals, steal_failures, sleeps, injected_taken;
    _Atomic int pinned_cpu; /* written once by the worker, read by stats */
    uint64_t rng;
    unsigned index, since_inject;
    unsigned depth; /* tasks run nested inside ct_group_wait on this worker's stack */
    struct ct_pool *pool;
    pthread_t tid;
} worker;

struct ct_pool {
    unsigned n;
    ct_sched sched;
    bool pin;
    worker *w;
    int *cpus;
    unsigned ncpus;
    CT_PAD_ALIGNED ct_eventcount ec;
    CT_PAD_ALIGNED pthread_mutex_t qlock;
    pthread_cond_t qcond;
    task_ring q;            /* injection queue (steal) or the central queue */
    unsigned q_sleepers;    /* central: threads in cond_wait (under qlock) */
    unsigned q_limited;     /* central: of those, waiters past the depth limit (under qlock) */
    _Atomic size_t qcount;  /* q.count, readable without the lock */
    CT_PAD_ALIGNED _Atomic uint32_t stop;
};

static _Thread_local worker *tl_self;

static inline void bump(_Atomic uint64_t *c)
{
    /* Owner-only counter: a plain increment, made atomic only so readers do not race. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static inline worker *self_in(const ct_pool *p)
{
    worker *s = tl_self;
    return s && s->pool == p ? s : NULL;
}

static inline uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Wake every thread that may sleep waiting for work or for a group. */
static void wake_all(ct_pool *p)
{
    if (p->sched == CT_SCHED_CENTRAL) {
        pthread_mutex_lock(&p->qlock);
        pthread_cond_broadcast(&p->qcond);
        pthread_mutex_unlock(&p->qlock);
    } else {
        ct_eventcount_notify_all(&p->ec);
    }
}

static void group_finish(ct_pool *p, ct_group *g)
{
    CT_CHAOS();
    /* acq_rel: release publishes the task's writes to the waiter (release sequence). */
    uint32_t old = atomic_fetch_sub_explicit(&g->state, 1, memory_order_acq_rel);
    if ((old & GROUP_WAITING) && (old & GROUP_COUNT) == 1) {
        ct_futex_wake(&g->state, INT32_MAX); /* may reach a freed group: benign (header) */
        wake_all(p);
    }
}

static void run_task(ct_pool *p, worker *self, const ct_task *t)
{
    t->fn(t->arg);
    bump(&self->tasks_run);
    group_finish(p, t->group);
}

/* A task run by a worker waiting on a group: one frame deeper on its stack. */
static void run_nested(ct_pool *p, worker *self, const ct_task *t)
{
    self->depth++;
    run_task(p, self, t);
    self->depth--;
}

static bool inject_pop(ct_pool *p, worker *self, ct_task *t)
{
    /* Relaxed hint: a stale zero only delays us (sleep rechecks run after a seq_cst fence). */
    if (atomic_load_explicit(&p->qcount, memory_order_relaxed) == 0)
        return false;
    pthread_mutex_lock(&p->qlock);
    bool ok = ring_pop(&p->q, t);
    atomic_store_explicit(&p->qcount, p->q.count, memory_order_relaxed);
    pthread_mutex_unlock(&p->qlock);
    if (ok)
        bump(&self->injected_taken);
    return ok;
}

static bool own_pop(ct_pool *p, worker *self, ct_task *t, bool waiting)
{
    if (p->sched == CT_SCHED_STEAL || waiting)
        return ct_cl_take(&self->dq, t) == CT_CL_OK;
    for (;;) { /* FIFO: oldest first, racing thieves for it */
        int r = ct_cl_steal(&self->dq, t, NULL);
        if (r != CT_CL_ABORT)
            return r == CT_CL_OK;
    }
}

static bool find_task(ct_pool *p, worker *self, ct_task *t, bool waiting)
{
    if (++self->since_inject >= INJECT_EVERY) {
        self->since_inject = 0;
        if (inject_pop(p, self, t))
            return true;
    }
    if (own_pop(p, self, t, waiting))
        return true;
    if (inject_pop(p, self, t))
        return true;
    unsigned n = p->n;
    if (n < 2)
        return false;
    for (unsigned attempt = 0; attempt < 2 * n; attempt++) {
        unsigned v = (unsigned)(xorshift(&self->rng) % (n - 1));
        if (v >= self->index)
            v++; /* uniform over the others */
        int64_t left = 0;
        int r = ct_cl_steal(&p->w[v].dq, t, &left);
        if (r == CT_CL_OK) {
            bump(&self->steals);
            if (left > 0)
                ct_eventcount_notify(&p->ec); /* more there: let another sleeper help */
            return true;
        }
        bump(&self->steal_failures);
    }
    return false;
}

/* After prepare_wait: is there anything that should keep us awake? */
static bool work_visible(ct_pool *p)
{
    if (atomic_load_explicit(&p->qcount, memory_order_relaxed) != 0)
        return true;
    for (unsigned i = 0; i < p->n; i++)
        if (ct_cl_maybe_nonempty(&p->w[i].dq))
            return true;
    return false;
}

static void *worker_main(void *arg)
{
    worker *self = arg;
    ct_pool *p = self->pool;
    tl_self = self;
    if (p->pin && p->ncpus) {
        int cpu = p->cpus[self->index % p->ncpus];
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        atomic_store_explicit(&self->pinned_cpu,
                              sched_setaffinity(0, sizeof set, &set) == 0 ? cpu : -1,
                              memory_order_relaxed);
    }
    ct_task t;
    if (p->sched == CT_SCHED_CENTRAL) {
        for (;;) {
            pthread_mutex_lock(&p->qlock);
            while (p->q.count == 0 && !atomic_load_explicit(&p->stop, memory_order_relaxed)) {
                p->q_sleepers++;
                bump(&self->sleeps);
                pthread_cond_wait(&p->qcond, &p->qlock);
                p->q_sleepers--;
            }
            bool ok = ring_pop(&p->q, &t);
            atomic_store_explicit(&p->qcount, p->q.count, memory_order_relaxed);
            pthread_mutex_unlock(&p->qlock);
            if (!ok)
                break; /* stop, and nothing queued: every spawned task has been taken */
            bump(&self->injected_taken);
            run_task(p, self, &t);
        }
        return NULL;
    }
    for (;;) {
        if (find_task(p, self, &t, false)) {
            run_task(p, self, &t);
            continue;
        }
        ct_backoff b = CT_BACKOFF_INIT;
        bool found = false;
        while (!ct_backoff_snooze(&b))
            if ((found = find_task(p, self, &t, false)))
                break;
        if (found) {
            run_task(p, self, &t);
            continue;
        }
        /* Acquire: pairs with destroy's seq_cst store; the spawns destroy's caller made before
         * it are visible to the find_task below. */
        if (atomic_load_explicit(&p->stop, memory_order_acquire)) {
            if (find_task(p, self, &t, false)) {
                run_task(p, self, &t);
                continue;
            }
            break; /* our deque is empty and nobody else can push onto it */
        }
        uint32_t key = ct_eventcount_prepare_wait(&p->ec);
        if (work_visible(p) || atomic_load_explicit(&p->stop, memory_order_relaxed)) {
            ct_eventcount_cancel_wait(&p->ec);
            continue;
        }
        bump(&self->sleeps);
        ct_eventcount_commit_wait(&p->ec, key, 0);
    }
    return NULL;
}

const char *ct_sched_name(ct_sched s)
{
    switch (s) {
    case CT_SCHED_STEAL:
        return "steal";
    case CT_SCHED_STEAL_FIFO:
        return "steal-fifo";
    case CT_SCHED_CENTRAL:
        return "central";
    }
    return NULL;
}

int ct_sched_parse(const char *name, ct_sched *out)
{
    static const ct_sched all[] = {CT_SCHED_STEAL, CT_SCHED_STEAL_FIFO, CT_SCHED_CENTRAL};
    for (size_t i = 0; name && out && i < 3; i++)
        if (strcmp(name, ct_sched_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    errno = EINVAL;
    return -1;
}

static void pool_free(ct_pool *p)
{
    if (p->w)
        for (unsigned i = 0; i < p->n; i++)
            ct_cl_destroy(&p->w[i].dq);
    free(p->w);
    free(p->q.buf);
    free(p->cpus);
    pthread_mutex_destroy(&p->qlock);
    pthread_cond_destroy(&p->qcond);
    free(p);
}

static void stop_and_join(ct_pool *p, unsigned started)
{
    /* seq_cst store, then notify_all (its fence): the Dekker pair with a worker's recheck. */
    atomic_store_explicit(&p->stop, 1, memory_order_seq_cst);
    wake_all(p);
    for (unsigned i = 0; i < started; i++)
        pthread_join(p->w[i].tid, NULL);
}

ct_pool *ct_pool_create_with(const ct_pool_config *config)
{
    if (!config || (config->sched != CT_SCHED_STEAL && config->sched != CT_SCHED_STEAL_FIFO &&
                    config->sched != CT_SCHED_CENTRAL)) {
        errno = EINVAL;
        return NULL;
    }
    unsigned n = config->threads;
    if (n == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (unsigned)c : 1;
        if (n > CT_POOL_MAX_THREADS)
            n = CT_POOL_MAX_THREADS;
    }
    if (n > CT_POOL_MAX_THREADS) {
        errno = EINVAL;
        return NULL;
    }
    ct_pool *p = aligned_alloc(CT_PAD, sizeof *p);
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    memset(p, 0, sizeof *p);
    p->n = n;
    p->sched = config->sched;
    p->pin = config->pin;
    ct_eventcount_init(&p->ec);
    atomic_init(&p->qcount, 0);
    atomic_init(&p->stop, 0);
    pthread_mutex_init(&p->qlock, NULL);
    pthread_cond_init(&p->qcond, NULL);
    p->w = aligned_alloc(CT_PAD, sizeof(worker) * n);
    if (!p->w) {
        pool_free(p);
        errno = ENOMEM;
        return NULL;
    }
    memset(p->w, 0, sizeof(worker) * n);
    if (p->pin) {
        cpu_set_t set;
        if (sched_getaffinity(0, sizeof set, &set) == 0) {
            p->cpus = calloc(CPU_SETSIZE, sizeof *p->cpus);
            for (int c = 0; p->cpus && c < CPU_SETSIZE; c++)
                if (CPU_ISSET(c, &set))
                    p->cpus[p->ncpus++] = c;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        worker *w = &p->w[i];
        if (ct_cl_init(&w->dq, CT_CL_MIN_CAPACITY)) {
            for (unsigned k = 0; k < i; k++)
                ct_cl_destroy(&p->w[k].dq);
            free(p->w);
            p->w = NULL;
            pool_free(p);
            errno = ENOMEM;
            return NULL;
        }
        w->pool = p;
        w->index = i;
        atomic_init(&w->pinned_cpu, -1);
        w->rng = 0x9e3779b97f4a7c15ull * (i + 1) + 1;
    }
    for (unsigned i = 0; i < n; i++) {
        int e = pthread_create(&p->w[i].tid, NULL, worker_main, &p->w[i]);
        if (e) {
            stop_and_join(p, i);
            pool_free(p);
            errno = e;
            return NULL;
        }
    }
    return p;
}

ct_pool *ct_pool_create(unsigned threads)
{
    ct_pool_config c = {.threads = threads, .sched = CT_SCHED_STEAL, .pin = false};
    return ct_pool_create_with(&c);
}

void ct_pool_destroy(ct_pool *p)
{
    if (!p)
        return;
    if (self_in(p)) {
        errno = EDEADLK;
        return;
    }
    stop_and_join(p, p->n);
    pool_free(p);
}

void ct_group_init(ct_group *g)
{
    if (g)
        atomic_init(&g->state, 0);
}

int ct_spawn(ct_pool *p, ct_group *g, void (*fn)(void *arg), void *arg)
{
    if (!p || !g || !fn)
        return EINVAL;
    /* Relaxed: see "Groups" above. */
    uint32_t old = atomic_fetch_add_explicit(&g->state, 1, memory_order_relaxed);
    if ((old & GROUP_COUNT) >= CT_GROUP_MAX_PENDING) {
        atomic_fetch_sub_explicit(&g->state, 1, memory_order_relaxed);
        return EAGAIN;
    }
    ct_task t = {fn, arg, g};
    worker *self = self_in(p);
    if (self && p->sched != CT_SCHED_CENTRAL) {
        int64_t before = ct_cl_push(&self->dq, &t);
        if (before < 0) {
            atomic_fetch_sub_explicit(&g->state, 1, memory_order_relaxed);
            return ENOMEM;
        }
        if (before == 0)
            ct_eventcount_notify(&p->ec); /* first task in our deque: wake a thief */
        return 0;
    }
    pthread_mutex_lock(&p->qlock);
    int e = ring_push(&p->q, &t);
    atomic_store_explicit(&p->qcount, p->q.count, memory_order_relaxed);
    if (!e && p->sched == CT_SCHED_CENTRAL && p->q_limited)
        pthread_cond_broadcast(&p->qcond); /* a limited waiter may decline it: wake all */
    else if (!e && p->sched == CT_SCHED_CENTRAL && p->q_sleepers)
        pthread_cond_signal(&p->qcond);
    pthread_mutex_unlock(&p->qlock);
    if (e) {
        atomic_fetch_sub_explicit(&g->state, 1, memory_order_relaxed);
        return e;
    }
    if (p->sched != CT_SCHED_CENTRAL)
        ct_eventcount_notify(&p->ec);
    return 0;
}

/* Outside the pool: sleep on the group word (see "Groups"). */
static void wait_outside(ct_group *g)
{
    for (;;) {
        /* Acquire: reading count 0 makes every task's writes visible (release sequence). */
        uint32_t v = atomic_load_explicit(&g->state, memory_order_acquire);
        if ((v & GROUP_COUNT) == 0)
            return;
        if (!(v & GROUP_WAITING)) {
            if (!atomic_compare_exchange_weak_explicit(&g->state, &v, v | GROUP_WAITING,
                                                       memory_order_acq_rel,
                                                       memory_order_relaxed))
                continue;
            v |= GROUP_WAITING;
        }
        CT_CHAOS();
        ct_futex_wait(&g->state, v, 0);
    }
}

static bool group_done(ct_group *g)
{
    return (atomic_load_explicit(&g->state, memory_order_acquire) & GROUP_COUNT) == 0;
}

static void wait_central(ct_pool *p, worker *self, ct_group *g)
{
    ct_task t;
    for (;;) {
        if (group_done(g))
            return;
        bool limited = self->depth >= HELP_DEPTH_LIMIT;
        pthread_mutex_lock(&p->qlock);
        bool ok;
        while (!(ok = limited ? ring_take_group(&p->q, g, &t) : ring_pop_back(&p->q, &t))) {
            atomic_fetch_or_explicit(&g->state, GROUP_WAITING, memory_order_relaxed);
            if (group_done(g)) { /* checked under the lock: the finisher broadcasts under it */
                pthread_mutex_unlock(&p->qlock);
                return;
            }
            p->q_sleepers++;
            p->q_limited += limited;
            bump(&self->sleeps);
            pthread_cond_wait(&p->qcond, &p->qlock);
            p->q_limited -= limited;
            p->q_sleepers--;
        }
        atomic_store_explicit(&p->qcount, p->q.count, memory_order_relaxed);
        pthread_mutex_unlock(&p->qlock);
        bump(&self->injected_taken);
        run_nested(p, self, &t);
    }
}

/* Past the depth limit: run only this group's own tasks (the bottom of our deque), else sleep
 * until the group is done. Progress: the group's other tasks run on other workers. */
static void wait_limited(ct_pool *p, worker *self, ct_group *g)
{
    ct_task t;
    for (;;) {
        if (group_done(g))
            return;
        if (ct_cl_take(&self->dq, &t) == CT_CL_OK) {
            if (t.group == g) {
                run_nested(p, self, &t);
                continue;
            }
            /* An outer frame's task: put it back (we just made room, so this cannot fail).
             * Awake workers may steal it; if none does, we run it once back in its own frame
             * (our group does not depend on it). No notify here: two limited waiters would
             * wake each other for tasks neither takes. */
            if (ct_cl_push(&self->dq, &t) < 0) {
                run_nested(p, self, &t); /* cannot happen; never drop a task */
                continue;
            }
        }
        ct_backoff b = CT_BACKOFF_INIT;
        while (!group_done(g) && !ct_backoff_snooze(&b)) {
        }
        uint32_t old = atomic_fetch_or_explicit(&g->state, GROUP_WAITING, memory_order_acq_rel);
        if ((old & GROUP_COUNT) == 0)
            return;
        uint32_t key = ct_eventcount_prepare_wait(&p->ec);
        if (group_done(g)) {
            ct_eventcount_cancel_wait(&p->ec);
            return;
        }
        bump(&self->sleeps);
        ct_eventcount_commit_wait(&p->ec, key, 0);
    }
}

static void wait_stealing(ct_pool *p, worker *self, ct_group *g)
{
    ct_task t;
    for (;;) {
        if (group_done(g))
            return;
        if (self->depth >= HELP_DEPTH_LIMIT) {
            wait_limited(p, self, g);
            return;
        }
        if (find_task(p, self, &t, true)) {
            run_nested(p, self, &t);
            continue;
        }
        ct_backoff b = CT_BACKOFF_INIT;
        bool found = false;
        while (!group_done(g) && !ct_backoff_snooze(&b))
            if ((found = find_task(p, self, &t, true)))
                break;
        if (found) {
            run_nested(p, self, &t);
            continue;
        }
        /* acq_rel RMW: if it reads count 0 the group is done (and its writes visible); else the
         * finisher's decrement comes later in the word's order and sees WAITING. */
        uint32_t old = atomic_fetch_or_explicit(&g->state, GROUP_WAITING, memory_order_acq_rel);
        if ((old & GROUP_COUNT) == 0)
            return;
        uint32_t key = ct_eventcount_prepare_wait(&p->ec);
        if (group_done(g) || work_visible(p)) {
            ct_eventcount_cancel_wait(&p->ec);
            continue;
        }
        bump(&self->sleeps);
        ct_eventcount_commit_wait(&p->ec, key, 0);
    }
}

void ct_group_wait(ct_pool *p, ct_group *g)
{
    if (!p || !g) {
        errno = EINVAL;
        return;
    }
    worker *self = self_in(p);
    if (!self)
        wait_outside(g);
    else if (p->sched == CT_SCHED_CENTRAL)
        wait_central(p, self, g);
    else
        wait_stealing(p, self, g);
    /* Done: nobody will decrement any more; drop the waiter bit so the group can be reused. */
    atomic_fetch_and_explicit(&g->state, GROUP_COUNT, memory_order_relaxed);
}

/* ---- parallel_for ---------------------------------------------------------------------- */

typedef struct pf_ctx {
    ct_pool *p;
    size_t grain;
    void (*body)(size_t lo, size_t hi, void *arg);
    void *arg;
} pf_ctx;

typedef struct pf_range {
    const pf_ctx *c;
    size_t lo, hi;
} pf_range;

/* Split off right halves as tasks down to the grain, run the leftmost piece here, wait. The
 * halves' descriptors live in this frame, which outlives them (we wait before returning). */
static void pf_task(void *x)
{
    const pf_range *r = x;
    const pf_ctx *c = r->c;
    size_t lo = r->lo, hi = r->hi;
    pf_range kids[8 * sizeof(size_t)];
    unsigned nk = 0;
    ct_group g = CT_GROUP_INIT;
    while (hi - lo > c->grain && nk < sizeof kids / sizeof kids[0]) {
        size_t mid = lo + (hi - lo) / 2;
        kids[nk] = (pf_range){c, mid, hi};
        if (ct_spawn(c->p, &g, pf_task, &kids[nk]) != 0)
            break; /* could not spawn: run [lo, hi) here, all of it */
        nk++;
        hi = mid;
    }
    c->body(lo, hi, c->arg);
    if (nk)
        ct_group_wait(c->p, &g);
}

void ct_parallel_for(ct_pool *p, size_t begin, size_t end, size_t grain,
                     void (*body)(size_t lo, size_t hi, void *arg), void *arg)
{
    if (!p || !body) {
        errno = EINVAL;
        return;
    }
    if (begin >= end)
        return;
    if (grain == 0) {
        grain = (end - begin) / ((size_t)p->n * 8);
        if (grain == 0)
            grain = 1;
    }
    pf_ctx c = {p, grain, body, arg};
    pf_range root = {&c, begin, end};
    if (self_in(p)) {
        pf_task(&root);
        return;
    }
    ct_group g = CT_GROUP_INIT;
    if (ct_spawn(p, &g, pf_task, &root) != 0) {
        pf_task(&root); /* the pool could not take it: do it here (still correct) */
        return;
    }
    ct_group_wait(p, &g);
}

/* ---- introspection ------------------------------------------------------------------------ */

unsigned ct_pool_size(const ct_pool *p) { return p ? p->n : 0; }
ct_sched ct_pool_sched(const ct_pool *p) { return p ? p->sched : CT_SCHED_STEAL; }

int ct_pool_worker_index(const ct_pool *p)
{
    worker *s = self_in(p);
    return s ? (int)s->index : -1;
}

int ct_pool_worker_stats(const ct_pool *p, unsigned i, ct_pool_stats *out)
{
    if (!p || !out || i >= p->n) {
        errno = EINVAL;
        return -1;
    }
    worker *w = &p->w[i];
    out->tasks_run = atomic_load_explicit(&w->tasks_run, memory_order_relaxed);
    out->steals = atomic_load_explicit(&w->steals, memory_order_relaxed);
    out->steal_failures = atomic_load_explicit(&w->steal_failures, memory_order_relaxed);
    out->sleeps = atomic_load_explicit(&w->sleeps, memory_order_relaxed);
    out->injected_taken = atomic_load_explicit(&w->injected_taken, memory_order_relaxed);
    out->pinned_cpu = atomic_load_explicit(&w->pinned_cpu, memory_order_relaxed);
    return 0;
}

void ct_pool_total_stats(const ct_pool *p, ct_pool_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    out->pinned_cpu = -1;
    for (unsigned i = 0; p && i < p->n; i++) {
        ct_pool_stats s;
        ct_pool_worker_stats(p, i, &s);
        out->tasks_run += s.tasks_run;
        out->steals += s.steals;
        out->steal_failures += s.steal_failures;
        out->sleeps += s.sleeps;
        out->injected_taken += s.injected_taken;
    }
}
