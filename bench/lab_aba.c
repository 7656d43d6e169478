/* Lab `aba`: watch ABA corrupt a naive Treiber stack, then watch tags, hazard pointers and
 * epochs hold (notes/aba_problem.md).
 *
 * Scripted mode (default). The stack starts as A -> B -> C holding items a, b, c. Thread 1
 * pops: it reads head A and A->next = B, and the stack's pause hook parks it right before its
 * CAS. Thread 2 then pops A, pops B, lets the reclamation scheme reclaim what it can, and
 * pushes x (tagged: pushes x and y, so that its LIFO free list hands A back and A is the head
 * again). Thread 1 resumes and its CAS runs. Then the stack is drained single-threaded and
 * everything is checked.
 *
 * Nodes come from a private pool: free() poisons a slot (zeroes it: next = NULL, item = NULL)
 * and marks it freed, and allocation reuses freed slots in FIFO order, so for `naive` the push
 * of x gets A's slot back, exactly the reuse that makes ABA. A pop that later reads a freed slot
 * reads the poison (deterministic, no crash, nothing for ASan to abort on) and then frees the
 * slot again, which the pool records as a double free: that is how a use after free shows.
 *
 * Stress mode (--stress). No pause points: threads pop an item and push it back, on a stack
 * holding 8 items, until damage shows (an invalid or duplicated item, a double free, a lost
 * item at the end of the trial) or the trial's 200 ms pass; then a fresh stack and pool.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contend/chaos.h"
#include "contend/harness.h"
#include "contend/hazard.h"
#include "lab.h"
#include "lab_aba.h"

/* ---- the poisoning pool ------------------------------------------------------------- */

enum { SLOT_UNUSED = 0, SLOT_LIVE = 1, SLOT_FREED = 2 };

typedef struct pool {
    pthread_mutex_t lock;
    unsigned char *arena;
    size_t slot, n;
    unsigned char *state;
    size_t *fifo, fh, fcount; /* freed slots, reused oldest first */
    size_t next_fresh;
    size_t live, double_frees, foreign_frees;
    long first_double_free; /* slot index, -1 = none */
} pool;

static int pool_init(pool *p, size_t n)
{
    memset(p, 0, sizeof *p);
    p->slot = (ct_stack_node_size() + 15) / 16 * 16;
    p->n = n;
    p->arena = aligned_alloc(16, n * p->slot);
    p->state = calloc(n, 1);
    p->fifo = calloc(n, sizeof *p->fifo);
    p->first_double_free = -1;
    if (!p->arena || !p->state || !p->fifo || pthread_mutex_init(&p->lock, NULL)) {
        free(p->arena);
        free(p->state);
        free(p->fifo);
        errno = ENOMEM;
        return -1;
    }
    memset(p->arena, 0, n * p->slot);
    return 0;
}

static void pool_fini(pool *p)
{
    pthread_mutex_destroy(&p->lock);
    free(p->arena);
    free(p->state);
    free(p->fifo);
}

static void *pool_alloc(size_t size, void *ctx)
{
    pool *p = ctx;
    void *r = NULL;
    if (size > p->slot)
        return NULL;
    pthread_mutex_lock(&p->lock);
    size_t idx = p->n;
    if (p->fcount) {
        idx = p->fifo[p->fh];
        p->fh = (p->fh + 1) % p->n;
        p->fcount--;
    } else if (p->next_fresh < p->n) {
        idx = p->next_fresh++;
    }
    if (idx < p->n) {
        p->state[idx] = SLOT_LIVE;
        p->live++;
        r = p->arena + idx * p->slot;
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

static long pool_index(const pool *p, const void *ptr)
{
    const unsigned char *c = ptr;
    if (c < p->arena || c >= p->arena + p->n * p->slot || (size_t)(c - p->arena) % p->slot)
        return -1;
    return (long)((size_t)(c - p->arena) / p->slot);
}

static void pool_free(void *ptr, void *ctx)
{
    pool *p = ctx;
    pthread_mutex_lock(&p->lock);
    long idx = pool_index(p, ptr);
    if (idx < 0) {
        p->foreign_frees++;
    } else if (p->state[idx] != SLOT_LIVE) {
        /* Poison again: a thread that got the slot through a corrupted list may have written
         * to it since (a push retrying its CAS on a node someone else already popped). */
        memset(p->arena + (size_t)idx * p->slot, 0, p->slot);
        __atomic_fetch_add(&p->double_frees, 1, __ATOMIC_RELAXED);
        if (p->first_double_free < 0)
            p->first_double_free = idx;
    } else {
        p->state[idx] = SLOT_FREED;
        p->live--;
        memset(p->arena + (size_t)idx * p->slot, 0, p->slot); /* the poison */
        p->fifo[(p->fh + p->fcount) % p->n] = (size_t)idx;
        p->fcount++;
    }
    pthread_mutex_unlock(&p->lock);
}

/* ---- the script --------------------------------------------------------------------- */

#define ITEM(ch) ((void *)(uintptr_t)(ch))

typedef struct script {
    const ct_stack_class *c;
    void *s;
    pthread_mutex_t m;
    pthread_cond_t cv;
    int phase; /* 0 start, 1 thread 1 parked, 2 thread 1 may go */
    unsigned pause_calls;
    const void *first_node, *last_node;
    bool t1_ok;
    void *t1_item;
    int t1_err;
} script;

static _Thread_local bool is_thread1;

static void script_pause(void *arg, const void *node)
{
    script *sc = arg;
    if (!is_thread1)
        return;
    pthread_mutex_lock(&sc->m);
    sc->pause_calls++;
    sc->last_node = node;
    if (sc->pause_calls == 1) {
        sc->first_node = node;
        sc->phase = 1;
        pthread_cond_broadcast(&sc->cv);
        while (sc->phase != 2)
            pthread_cond_wait(&sc->cv, &sc->m);
    }
    pthread_mutex_unlock(&sc->m);
}

static void *thread1_main(void *arg)
{
    script *sc = arg;
    is_thread1 = true;
    void *h = sc->c->join(sc->s);
    if (!h) {
        sc->t1_err = errno ? errno : ENOMEM;
        pthread_mutex_lock(&sc->m);
        sc->phase = 1; /* let thread 2 see the failure instead of waiting forever */
        pthread_cond_broadcast(&sc->cv);
        pthread_mutex_unlock(&sc->m);
        return NULL;
    }
    sc->t1_ok = sc->c->pop(sc->s, h, &sc->t1_item);
    sc->c->leave(sc->s, h);
    return NULL;
}

static const char *slot_name(long idx)
{
    static const char *const names[] = {"C", "B", "A"}; /* pushed c, b, a: fresh slots 0,1,2 */
    return idx >= 0 && idx < 3 ? names[idx] : "a later node";
}

static void add_item(char *list, size_t len, void *item)
{
    size_t used = strlen(list);
    uintptr_t v = (uintptr_t)item;
    if (v == 0)
        snprintf(list + used, len - used, "%sNULL (the poison of a freed node)", used ? ", " : "");
    else if (v >= 'a' && v <= 'z')
        snprintf(list + used, len - used, "%s'%c'", used ? ", " : "", (char)v);
    else
        snprintf(list + used, len - used, "%s%p", used ? ", " : "", item);
}

int ct_aba_script(const ct_stack_class *c, ct_aba_outcome *out)
{
    memset(out, 0, sizeof *out);
    pool p;
    if (pool_init(&p, 16))
        return -1;
    ct_stack_allocator alloc = {pool_alloc, pool_free, &p};
    script sc;
    memset(&sc, 0, sizeof sc);
    sc.c = c;
    sc.s = c->create(&alloc);
    if (!sc.s) {
        pool_fini(&p);
        return -1;
    }
    pthread_mutex_init(&sc.m, NULL);
    pthread_cond_init(&sc.cv, NULL);
    bool tagged = strcmp(c->name, "tagged") == 0;
    int rc = -1;
    void *h2 = c->join(sc.s);
    if (!h2)
        goto out;
    /* A -> B -> C holding a, b, c. */
    if (!c->push(sc.s, h2, ITEM('c')) || !c->push(sc.s, h2, ITEM('b')) ||
        !c->push(sc.s, h2, ITEM('a'))) {
        c->leave(sc.s, h2);
        goto out;
    }
    c->set_pause(sc.s, script_pause, &sc);
    pthread_t t1;
    int e = pthread_create(&t1, NULL, thread1_main, &sc);
    if (e) {
        c->leave(sc.s, h2);
        errno = e;
        goto out;
    }
    pthread_mutex_lock(&sc.m);
    while (sc.phase != 1)
        pthread_cond_wait(&sc.cv, &sc.m);
    pthread_mutex_unlock(&sc.m);

    /* Thread 2 (this thread): pop A, pop B, reclaim, push x (tagged: x and y). */
    void *popped[2] = {NULL, NULL};
    bool ok2 = c->pop(sc.s, h2, &popped[0]) && c->pop(sc.s, h2, &popped[1]);
    c->reclaim(sc.s, h2);
    ok2 = ok2 && c->push(sc.s, h2, ITEM('x'));
    if (tagged)
        ok2 = ok2 && c->push(sc.s, h2, ITEM('y'));
    out->pending_at_resume = c->pending(sc.s);

    pthread_mutex_lock(&sc.m);
    sc.phase = 2;
    pthread_cond_broadcast(&sc.cv);
    pthread_mutex_unlock(&sc.m);
    pthread_join(t1, NULL);
    c->set_pause(sc.s, NULL, NULL);
    c->reclaim(sc.s, h2);
    if (sc.t1_err || !ok2) {
        c->leave(sc.s, h2);
        errno = sc.t1_err ? sc.t1_err : ENOMEM;
        goto out;
    }

    /* Drain single-threaded. Poisoned slots have next == NULL, so this ends within n pops. */
    size_t freed_before = p.double_frees;
    void *drained[32];
    size_t nd = 0;
    void *it;
    while (nd < 32 && c->pop(sc.s, h2, &it))
        drained[nd++] = it;
    out->freed_reads = p.double_frees - freed_before + p.foreign_frees;
    long bad_slot = p.first_double_free;
    c->leave(sc.s, h2);

    /* Account: pushed a, b, c, x (y); popped 2 by thread 2, 1 by thread 1, nd by the drain. */
    const char *pushed = tagged ? "abcxy" : "abcx";
    size_t count[128] = {0};
    count[(uintptr_t)popped[0] & 127]++;
    count[(uintptr_t)popped[1] & 127]++;
    if (sc.t1_ok)
        count[(uintptr_t)sc.t1_item & 127]++;
    char lost[64] = "", garbage[64] = "";
    for (size_t i = 0; i < nd; i++) {
        uintptr_t v = (uintptr_t)drained[i];
        if (v < 'a' || v > 'z' || !strchr(pushed, (int)v)) {
            out->garbage++;
            add_item(garbage, sizeof garbage, drained[i]);
        } else {
            count[v]++;
        }
    }
    for (const char *q = pushed; *q; q++) {
        if (count[(unsigned char)*q] == 0) {
            out->lost++;
            add_item(lost, sizeof lost, ITEM(*q));
        } else if (count[(unsigned char)*q] > 1) {
            out->duplicates += count[(unsigned char)*q] - 1;
        }
    }
    c->destroy(sc.s);
    sc.s = NULL;
    out->leaked = p.live;
    out->pause_calls = sc.pause_calls;
    out->head_was_a_again = sc.pause_calls >= 2 && sc.last_node == sc.first_node;
    long a_idx = pool_index(&p, sc.first_node);
    out->intact = out->lost == 0 && out->duplicates == 0 && out->garbage == 0 &&
                  out->freed_reads == 0 && out->leaked == 0 && p.double_frees == 0 &&
                  p.foreign_frees == 0;
    out->broken_as_scripted = sc.pause_calls == 1 && a_idx == 2 && bad_slot == 1 &&
                              out->freed_reads > 0 && count['c'] == 0;
    if (out->intact) {
        snprintf(out->detail, sizeof out->detail,
                 "intact: thread 1's first CAS failed%s, it retried and popped '%c'; every "
                 "item came out exactly once, no freed node was read, nothing leaked "
                 "(%zu node(s) were awaiting reclamation when thread 1 resumed)",
                 tagged && out->head_was_a_again
                     ? " although the head was node A again (the tag had moved on)"
                 : sc.pause_calls >= 2 ? " (the head was no longer A)" : "",
                 sc.t1_ok && (uintptr_t)sc.t1_item < 128 ? (char)(uintptr_t)sc.t1_item : '?',
                 out->pending_at_resume);
    } else {
        snprintf(out->detail, sizeof out->detail,
                 "BROKEN%s: thread 1's CAS %s on node %s and installed %s as the head; the next "
                 "pop read a freed node %zu time(s) (use after free: the pool saw node %s "
                 "freed twice); lost: %s; garbage items: %s; duplicates: %zu; leaked nodes: %zu",
                 out->broken_as_scripted ? " (as scripted)" : "",
                 sc.pause_calls == 1 ? "succeeded at once" : "succeeded after retries",
                 slot_name(a_idx), bad_slot >= 0 ? "freed node B" : "a stale next",
                 out->freed_reads, slot_name(bad_slot), *lost ? lost : "none",
                 *garbage ? garbage : "none", out->duplicates, out->leaked);
    }
    rc = 0;
out:
    if (sc.s)
        c->destroy(sc.s);
    pthread_mutex_destroy(&sc.m);
    pthread_cond_destroy(&sc.cv);
    pool_fini(&p);
    return rc;
}

/* ---- stress --------------------------------------------------------------------------- */

#define STRESS_ITEMS 8
#define STRESS_TRIAL_NS 200000000ull

typedef struct stress_trial {
    const ct_stack_class *c;
    void *s;
    pool *p;
    _Atomic int out[STRESS_ITEMS + 1];
    _Atomic int damage; /* 0 none; else a reason code */
    _Atomic int stop;
    _Atomic uint64_t ops;
    _Atomic unsigned held; /* items a thread still held at the stop (push had no memory) */
    uint64_t start_ns;
    _Atomic uint64_t damage_ns;
} stress_trial;

enum { DMG_NONE, DMG_GARBAGE, DMG_DUPLICATE, DMG_DOUBLE_FREE, DMG_LOST, DMG_PUSH_FAILED };
static const char *const dmg_text[] = {
    "none", "a pop returned a poisoned (freed) node's item",
    "an item was popped twice (a node reachable twice: a cycle or a stale head)",
    "a node was freed twice (a pop used a freed node)", "items lost (unreachable at the end)",
    "a push found the pool exhausted (nodes leaked by a corrupted list)"};

static void report_damage(stress_trial *t, int kind)
{
    int none = DMG_NONE;
    if (atomic_compare_exchange_strong(&t->damage, &none, kind))
        atomic_store(&t->damage_ns, ct_now_ns() - t->start_ns);
}

static void *stress_main(void *arg)
{
    stress_trial *t = arg;
    void *h = t->c->join(t->s);
    if (!h) {
        report_damage(t, DMG_PUSH_FAILED);
        return NULL;
    }
    uint64_t ops = 0;
    while (!atomic_load_explicit(&t->stop, memory_order_relaxed) &&
           !atomic_load_explicit(&t->damage, memory_order_relaxed)) {
        void *it;
        if (!t->c->pop(t->s, h, &it)) {
            sched_yield();
            continue;
        }
        ops++;
        uintptr_t v = (uintptr_t)it;
        if (v < 1 || v > STRESS_ITEMS) {
            report_damage(t, DMG_GARBAGE);
            break;
        }
        if (atomic_exchange(&t->out[v], 1) != 0) {
            report_damage(t, DMG_DUPLICATE);
            break;
        }
        if (__atomic_load_n(&t->p->double_frees, __ATOMIC_RELAXED)) {
            report_damage(t, DMG_DOUBLE_FREE);
            break;
        }
        atomic_store(&t->out[v], 0);
        bool pushed;
        /* A reclaiming stack may hold the pool's slots pending (epoch: without bound while a
         * preempted thread sits inside a pop): reclaim and wait for memory, as a real
         * program would. Only a push with nothing pending is damage (leaked nodes). */
        while (!(pushed = t->c->push(t->s, h, it)) && t->c->pending(t->s) > 0 &&
               !atomic_load_explicit(&t->stop, memory_order_relaxed)) {
            t->c->reclaim(t->s, h);
            sched_yield();
        }
        if (!pushed) {
            if (!atomic_load_explicit(&t->stop, memory_order_relaxed))
                report_damage(t, DMG_PUSH_FAILED);
            else if (t->c->push(t->s, h, it)) /* one last try after the stop */
                pushed = true;
            if (!pushed) {
                atomic_store(&t->out[v], 1); /* held: not lost, not in the stack */
                atomic_fetch_add(&t->held, 1);
                break;
            }
        }
        ops++;
    }
    atomic_fetch_add(&t->ops, ops);
    t->c->leave(t->s, h);
    return NULL;
}

static _Thread_local uint64_t jitter_state;

static void jitter_pause(void *arg, const void *node)
{
    (void)node;
    uintptr_t every = (uintptr_t)arg;
    if (!jitter_state)
        jitter_state = (uint64_t)(uintptr_t)&jitter_state * 0x9E3779B97F4A7C15ull | 1;
    jitter_state ^= jitter_state << 13;
    jitter_state ^= jitter_state >> 7;
    jitter_state ^= jitter_state << 17;
    if (jitter_state % every == 0)
        sched_yield();
}

int ct_aba_stress(const ct_stack_class *c, unsigned threads, double seconds, unsigned jitter,
                  ct_aba_stress_result *out)
{
    memset(out, 0, sizeof *out);
    if (threads < 1 || threads > 64 || !(seconds > 0)) {
        errno = EINVAL;
        return -1;
    }
    uint64_t end = ct_now_ns() + (uint64_t)(seconds * 1e9), begin = ct_now_ns();
    double damage_ms_sum = 0;
    pthread_t tids[64];
    while (ct_now_ns() < end) {
        /* Few spare slots, so a freed node comes back within a few allocations (FIFO): the
         * reuse ABA needs. Reclaiming stacks get room for what they may hold pending. */
        size_t slots = STRESS_ITEMS + threads + 2;
        if (!strcmp(c->name, "hazard"))
            slots += (size_t)threads * (2 * threads + CT_HP_SCAN_SLACK);
        else if (!strcmp(c->name, "epoch"))
            slots += (size_t)1 << 16; /* unbounded in principle: see contend/epoch.h */
        pool p;
        if (pool_init(&p, slots))
            return -1;
        ct_stack_allocator alloc = {pool_alloc, pool_free, &p};
        stress_trial *t = calloc(1, sizeof *t);
        if (!t) {
            pool_fini(&p);
            errno = ENOMEM;
            return -1;
        }
        t->c = c;
        t->p = &p;
        t->s = c->create(&alloc);
        void *h = t->s ? c->join(t->s) : NULL;
        bool filled = h != NULL;
        for (uintptr_t i = 1; filled && i <= STRESS_ITEMS; i++)
            filled = c->push(t->s, h, (void *)i);
        if (h)
            c->leave(t->s, h);
        if (filled && jitter)
            c->set_pause(t->s, jitter_pause, (void *)(uintptr_t)jitter);
        if (!filled) {
            if (t->s)
                c->destroy(t->s);
            free(t);
            pool_fini(&p);
            errno = ENOMEM;
            return -1;
        }
        t->start_ns = ct_now_ns();
        unsigned started = 0;
        for (; started < threads; started++)
            if (pthread_create(&tids[started], NULL, stress_main, t))
                break;
        uint64_t trial_end = t->start_ns + STRESS_TRIAL_NS;
        if (trial_end > end)
            trial_end = end;
        while (ct_now_ns() < trial_end && !atomic_load(&t->damage)) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
        atomic_store(&t->stop, 1);
        for (unsigned i = 0; i < started; i++)
            pthread_join(tids[i], NULL);
        if (started < threads) {
            c->destroy(t->s);
            free(t);
            pool_fini(&p);
            errno = EAGAIN;
            return -1;
        }
        /* End of trial: drain (terminates: poisoned nodes end the list) and count. */
        c->set_pause(t->s, NULL, NULL);
        h = c->join(t->s);
        size_t seen = 0, pops = 0;
        void *it;
        /* Bounded: each pop frees a live node or re-poisons a freed one (whose next then
         * reads NULL), so 2 * slots + 2 pops empty any list; the bound is only a backstop. */
        while (h && pops++ < 4 * p.n + 16 && c->pop(t->s, h, &it)) {
            uintptr_t v = (uintptr_t)it;
            if (v >= 1 && v <= STRESS_ITEMS && !atomic_load(&t->out[v])) {
                atomic_store(&t->out[v], 1);
                seen++;
            }
        }
        if (h)
            c->leave(t->s, h);
        seen += atomic_load(&t->held);
        if (!atomic_load(&t->damage) && (seen != STRESS_ITEMS || p.double_frees))
            report_damage(t, seen != STRESS_ITEMS ? DMG_LOST : DMG_DOUBLE_FREE);
        c->destroy(t->s);
        out->trials++;
        out->ops += atomic_load(&t->ops);
        int kind = atomic_load(&t->damage);
        if (kind) {
            double ms = (double)atomic_load(&t->damage_ns) / 1e6;
            if (out->damaged++ == 0) {
                out->first_damage_ms = (double)(ct_now_ns() - begin) / 1e6;
                snprintf(out->first_kind, sizeof out->first_kind, "%s", dmg_text[kind]);
            }
            damage_ms_sum += ms;
        }
        free(t);
        pool_fini(&p);
    }
    out->seconds = (double)(ct_now_ns() - begin) / 1e9;
    out->mean_damage_ms = out->damaged ? damage_ms_sum / (double)out->damaged : 0;
    return 0;
}

/* ---- the command line --------------------------------------------------------------- */

static void aba_help(void)
{
    puts("usage: contend lab aba                      scripted ABA on naive, tagged, hazard, epoch\n"
         "       contend lab aba --stress [--seconds N] [--threads T] [--impl NAME] [--jitter J]\n"
         "\n"
         "Scripted: thread 1 pops (reads head A and A->next = B, then is parked before its CAS);\n"
         "thread 2 pops A, pops B and pushes x (its node reuses A's memory); thread 1's CAS\n"
         "runs. One verdict line per stack. Exit 0 only when naive broke as scripted and every\n"
         "other stack came out intact; 1 otherwise.\n"
         "Stress: threads (default 4) pop and push back 8 items with no pause points, on fresh\n"
         "stacks in trials of up to 200 ms, for N seconds (default 2); reports how many trials\n"
         "showed damage. Default impl naive: exit 0 when damage was found. Any other impl:\n"
         "exit 0 when none was. The chaos build (-DCONTEND_CHAOS=ON) widens the windows;\n"
         "--jitter J makes a thread at pop's ABA window yield the CPU with probability 1/J\n"
         "(random, not scripted: what a preemption there does) in any build.");
}

static int aba_usage(const char *fmt, const char *value)
{
    fputs("contend: lab aba: ", stderr);
    fprintf(stderr, fmt, value);
    fputc('\n', stderr);
    return 2;
}

static int aba_main(int argc, char **argv)
{
    bool stress = false, seconds_given = false, threads_given = false, impl_given = false;
    bool jitter_given = false;
    unsigned long jitter = 0;
    double seconds = 2;
    unsigned long threads = 4;
    const ct_stack_class *impl = ct_stack_class_find("naive");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--stress")) {
            stress = true;
        } else if (!strcmp(a, "--seconds") || !strcmp(a, "--threads") || !strcmp(a, "--impl") ||
                   !strcmp(a, "--jitter")) {
            if (i + 1 >= argc)
                return aba_usage("%s needs a value", a);
            const char *v = argv[++i];
            char *end;
            errno = 0;
            if (!strcmp(a, "--seconds")) {
                seconds = strtod(v, &end);
                if (!*v || *end || errno || !isfinite(seconds) || seconds <= 0 || seconds > 3600)
                    return aba_usage("--seconds: '%s' is not a positive number of seconds "
                                     "(at most 3600)", v);
                seconds_given = true;
            } else if (!strcmp(a, "--jitter")) {
                jitter = strtoul(v, &end, 10);
                if (!*v || *v == '-' || *v == '+' || *end || errno || jitter < 1 ||
                    jitter > 1000000)
                    return aba_usage("--jitter: '%s' is not a yield period (1..1000000)", v);
                jitter_given = true;
            } else if (!strcmp(a, "--threads")) {
                threads = strtoul(v, &end, 10);
                if (!*v || *v == '-' || *v == '+' || *end || errno || threads < 1 || threads > 64)
                    return aba_usage("--threads: '%s' is not a thread count (1..64)", v);
                threads_given = true;
            } else {
                impl = ct_stack_class_find(v);
                if (!impl)
                    return aba_usage("--impl: unknown stack '%s' (naive, tagged, hazard, epoch, "
                                     "mutex)", v);
                impl_given = true;
            }
        } else if (!strcmp(a, "--help")) {
            aba_help();
            return 0;
        } else {
            return aba_usage("unknown option '%s' (see contend lab aba --help)", a);
        }
    }
    if (!stress && (seconds_given || threads_given || impl_given || jitter_given))
        return aba_usage("%s: needs --stress", seconds_given   ? "--seconds"
                                               : threads_given ? "--threads"
                                               : impl_given    ? "--impl"
                                                               : "--jitter");
    if (stress) {
        ct_aba_stress_result r;
        char jit[64] = "none";
        if (jitter)
            snprintf(jit, sizeof jit, "yield 1 in %lu at the window", jitter);
        printf("ABA stress: %s stack, %lu threads, %.1f s, trials of up to 200 ms, jitter: %s, "
               "chaos build: %s\n", impl->name, threads, seconds, jit,
#ifdef CT_CHAOS_BUILD
               "yes"
#else
               "no"
#endif
        );
        fflush(stdout);
        if (ct_aba_stress(impl, (unsigned)threads, seconds, (unsigned)jitter, &r)) {
            fprintf(stderr, "contend: lab aba: stress could not run: %s\n", strerror(errno));
            return 1;
        }
        printf("%-7s damage in %llu of %llu trials (%.2f M ops in %.1f s)", impl->name,
               (unsigned long long)r.damaged, (unsigned long long)r.trials, (double)r.ops / 1e6,
               r.seconds);
        if (r.damaged)
            printf("; first after %.1f ms: %s; mean %.1f ms into a trial\n", r.first_damage_ms,
                   r.first_kind, r.mean_damage_ms);
        else
            printf("\n");
        if (impl->broken) {
            if (!r.damaged)
                printf("verdict: ABA not caught in %.1f s: run longer, with more threads, or in "
                       "the chaos build\n", r.seconds);
            return r.damaged ? 0 : 1;
        }
        return r.damaged ? 1 : 0;
    }

    printf("ABA, scripted: stack A -> B -> C (items a, b, c). Thread 1 pops: reads head A and "
           "A->next = B, parks.\nThread 2 pops A, pops B, reclaims what it may, pushes x "
           "(tagged: x and y). Thread 1's CAS runs.\n\n");
    static const char *const order[] = {"naive", "tagged", "hazard", "epoch"};
    bool all = true;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const ct_stack_class *c = ct_stack_class_find(order[i]);
        ct_aba_outcome o;
        if (!c || ct_aba_script(c, &o)) {
            printf("%-7s ERROR: could not run the script: %s\n", order[i], strerror(errno));
            all = false;
            continue;
        }
        bool want = c->broken ? o.broken_as_scripted : o.intact;
        printf("%-7s %s %s\n", c->name, want ? "[as expected]" : "[UNEXPECTED]", o.detail);
        all = all && want;
    }
    printf("\nverdict: %s\n", all ? "naive broke as scripted; tagged, hazard and epoch held"
                                  : "UNEXPECTED outcome (see above)");
    return all ? 0 : 1;
}

const ct_lab ct_lab_aba = {
    "aba", "ABA on a naive Treiber stack, and tags / hazard pointers / epochs holding",
    aba_main, aba_help};
