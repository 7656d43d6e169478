// ctest-timeout: 240
/* Safe memory reclamation (contend/hazard.h, contend/epoch.h):
 *  - hazard: argument errors; a protected node survives scans and is freed once cleared;
 *  - hazard bound: threads retire nodes while others protect random live ones; at every
 *    retire the record holds at most ct_hp_bound() nodes and the domain at most N times that;
 *  - epoch: a node is not freed while a thread that entered before its retire is inside;
 *  - epoch stall: a participant parked inside a critical section blocks reclamation, the
 *    pending count shows the growth and ct_epoch_laggards() names it; once it leaves,
 *    reclamation resumes and pending drops back;
 *  - join/leave churn: threads join and leave both kinds of domain repeatedly while retiring;
 *    records are reused (their number stays at most the number of threads), and destroy frees
 *    every node ever retired exactly once (counted by the free function; ASan checks the rest).
 * Every node carries a magic word the free function overwrites before free(): a reader that
 * sees a dead magic while protected (or inside) has found a premature free (ASan: a UAF).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contend/epoch.h"
#include "contend/hazard.h"
#include "test_util.h"

#define LIVE 0x11FE11FEu
#define DEAD 0xDEADDEADu

typedef struct node {
    _Atomic unsigned magic;
    ct_hp_node hp;
    ct_epoch_node ep;
} node;

static _Atomic uint64_t allocated, freed;

static node *node_new(void)
{
    node *n = malloc(sizeof *n);
    CT_CHECK(n != NULL, "out of memory");
    atomic_init(&n->magic, LIVE);
    atomic_fetch_add(&allocated, 1);
    return n;
}

static void node_free(void *p, void *ctx)
{
    (void)ctx;
    node *n = p;
    CT_CHECK(atomic_load(&n->magic) == LIVE, "node freed twice");
    atomic_store(&n->magic, DEAD);
    atomic_fetch_add(&freed, 1);
    free(n);
}

static void expect_balanced(const char *what)
{
    CT_CHECK(atomic_load(&allocated) == atomic_load(&freed), "%s: %llu allocated, %llu freed",
             what, (unsigned long long)atomic_load(&allocated),
             (unsigned long long)atomic_load(&freed));
}

/* ---- hazard pointers ------------------------------------------------------------------ */

static void test_hp_basics(void)
{
    errno = 0;
    CT_CHECK(!ct_hp_domain_create(0, node_free, NULL) && errno == EINVAL, "0 slots");
    CT_CHECK(!ct_hp_domain_create(CT_HP_MAX_SLOTS + 1, node_free, NULL), "too many slots");
    CT_CHECK(!ct_hp_domain_create(1, NULL, NULL), "no free function");
    errno = 0;
    CT_CHECK(!ct_hp_join(NULL) && errno == EINVAL, "join(NULL)");
    ct_hp_domain_destroy(NULL);

    ct_hp_domain *d = ct_hp_domain_create(2, node_free, NULL);
    CT_CHECK(d, "create");
    ct_hp_record *r1 = ct_hp_join(d), *r2 = ct_hp_join(d);
    CT_CHECK(r1 && r2 && r1 != r2 && ct_hp_records(d) == 2, "two records");
    node *a = node_new();
    void *_Atomic src = a;
    CT_CHECK(ct_hp_protect(r1, 1, &src) == a, "protect returns the pointer");
    atomic_store(&src, NULL); /* unlink */
    ct_hp_retire(r2, a, &a->hp);
    CT_CHECK(ct_hp_scan(r2) == 0 && ct_hp_pending(d) == 1, "protected node survives a scan");
    ct_hp_clear(r1, 1);
    CT_CHECK(ct_hp_scan(r2) == 1 && ct_hp_pending(d) == 0, "freed once cleared");
    /* Leave with a protected node pending: the next joiner inherits it. */
    node *b = node_new();
    ct_hp_set(r1, 0, b);
    ct_hp_retire(r2, b, &b->hp);
    ct_hp_leave(r2);
    CT_CHECK(ct_hp_pending(d) == 1, "pending kept across leave");
    ct_hp_record *r3 = ct_hp_join(d);
    CT_CHECK(r3 == r2 && ct_hp_records(d) == 2, "record reused");
    CT_CHECK(ct_hp_record_pending(r3) == 1, "inherited pending node");
    ct_hp_clear(r1, 0);
    CT_CHECK(ct_hp_scan(r3) == 1, "inherited node freed");
    CT_CHECK(ct_hp_bound(d) == 2 * 2 * 2 + CT_HP_SCAN_SLACK, "bound formula");
    ct_hp_leave(r1);
    ct_hp_leave(r3);
    ct_hp_domain_destroy(d);
    expect_balanced("hp basics");
}

#define HP_THREADS 4
#define SHARED_CELLS 16

typedef struct hp_shared {
    ct_hp_domain *d;
    node *_Atomic cells[SHARED_CELLS]; /* void * in spirit; protect needs void *_Atomic */
    uint64_t rounds;
    _Atomic uint64_t bound_violations, dead_seen;
    _Atomic size_t max_record_pending;
} hp_shared;

typedef struct hp_arg {
    hp_shared *sh;
    unsigned id;
} hp_arg;

static void *hp_worker(void *p)
{
    hp_arg *a = p;
    hp_shared *sh = a->sh;
    uint64_t x = 0x9E3779B97F4A7C15ull * (a->id + 1);
    ct_test_start_barrier();
    for (uint64_t i = 0; i < sh->rounds; i++) {
        /* Churn: rejoin now and then (records reused). */
        ct_hp_record *r = ct_hp_join(sh->d);
        CT_CHECK(r != NULL, "join");
        for (unsigned k = 0; k < 64; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            unsigned cell = (unsigned)(x % SHARED_CELLS);
            /* Read: protect a cell's node and check it is alive. */
            node *n = ct_hp_protect(r, 0, (void *_Atomic *)&sh->cells[cell]);
            if (n && atomic_load(&n->magic) != LIVE)
                atomic_fetch_add(&sh->dead_seen, 1);
            ct_hp_clear(r, 0);
            /* Write: replace another cell's node and retire the old one. */
            node *fresh = node_new();
            node *old = atomic_exchange(&sh->cells[(cell + 1) % SHARED_CELLS], fresh);
            if (old) {
                ct_hp_retire(r, old, &old->hp);
                size_t pend = ct_hp_record_pending(r), bound = ct_hp_bound(sh->d);
                if (pend > bound)
                    atomic_fetch_add(&sh->bound_violations, 1);
                size_t m = atomic_load(&sh->max_record_pending);
                while (pend > m && !atomic_compare_exchange_weak(&sh->max_record_pending, &m,
                                                                 pend)) {
                }
                if (ct_hp_pending(sh->d) > ct_hp_records(sh->d) * bound)
                    atomic_fetch_add(&sh->bound_violations, 1);
            }
        }
        ct_hp_leave(r);
    }
    return NULL;
}

static void test_hp_stress(void)
{
    hp_shared sh;
    memset(&sh, 0, sizeof sh);
    sh.d = ct_hp_domain_create(1, node_free, NULL);
    CT_CHECK(sh.d, "create");
    sh.rounds = ct_test_scale(6000);
    hp_arg args[HP_THREADS];
    for (unsigned i = 0; i < HP_THREADS; i++)
        args[i] = (hp_arg){&sh, i};
    ct_test_run_threads(HP_THREADS, hp_worker, args, sizeof args[0]);
    CT_CHECK(atomic_load(&sh.dead_seen) == 0, "%llu protected nodes were already freed",
             (unsigned long long)atomic_load(&sh.dead_seen));
    CT_CHECK(atomic_load(&sh.bound_violations) == 0, "bound exceeded %llu times",
             (unsigned long long)atomic_load(&sh.bound_violations));
    CT_CHECK(ct_hp_records(sh.d) <= HP_THREADS, "%zu records for %d threads (no reuse?)",
             ct_hp_records(sh.d), HP_THREADS);
    printf("hazard: %d threads, %llu join/leave rounds each: max %zu pending per record "
           "(bound %zu), %zu records\n", HP_THREADS, (unsigned long long)sh.rounds,
           atomic_load(&sh.max_record_pending), ct_hp_bound(sh.d), ct_hp_records(sh.d));
    for (unsigned c = 0; c < SHARED_CELLS; c++) {
        node *n = atomic_load(&sh.cells[c]);
        if (n)
            node_free(n, NULL);
    }
    ct_hp_domain_destroy(sh.d);
    expect_balanced("hp stress");
}

/* ---- epochs --------------------------------------------------------------------------- */

static void test_epoch_basics(void)
{
    errno = 0;
    CT_CHECK(!ct_epoch_domain_create(NULL, NULL) && errno == EINVAL, "no free function");
    CT_CHECK(!ct_epoch_join(NULL), "join(NULL)");
    ct_epoch_domain_destroy(NULL);
    ct_epoch_domain *d = ct_epoch_domain_create(node_free, NULL);
    ct_epoch_record *reader = ct_epoch_join(d), *writer = ct_epoch_join(d);
    CT_CHECK(d && reader && writer, "create/join");
    ct_epoch_enter(reader);
    CT_CHECK(ct_epoch_inside(reader), "inside");
    node *a = node_new();
    ct_epoch_retire(writer, a, &a->ep);
    for (int i = 0; i < 10; i++) {
        ct_epoch_advance(d);
        ct_epoch_collect(writer);
    }
    CT_CHECK(ct_epoch_pending(d) == 1 && atomic_load(&a->magic) == LIVE,
             "freed under a reader that entered before the retire");
    CT_CHECK(ct_epoch_laggards(d) == 1, "the reader blocks: %zu laggards",
             ct_epoch_laggards(d));
    ct_epoch_exit(reader);
    for (int i = 0; i < 3; i++) {
        ct_epoch_advance(d);
        ct_epoch_collect(writer);
    }
    CT_CHECK(ct_epoch_pending(d) == 0, "not freed after the reader left: %zu",
             ct_epoch_pending(d));
    ct_epoch_leave(reader);
    ct_epoch_leave(writer);
    CT_CHECK(ct_epoch_join(d) != NULL && ct_epoch_records(d) == 2, "reuse");
    ct_epoch_domain_destroy(d); /* destroy with a record still joined but idle: frees all */
    expect_balanced("epoch basics");
}

typedef struct stall_ctl {
    ct_epoch_domain *d;
    pthread_mutex_t m;
    pthread_cond_t cv;
    int phase; /* 0 start, 1 stalled inside, 2 may leave */
} stall_ctl;

static void *staller(void *p)
{
    stall_ctl *s = p;
    ct_epoch_record *r = ct_epoch_join(s->d);
    CT_CHECK(r, "join");
    ct_epoch_enter(r);
    pthread_mutex_lock(&s->m);
    s->phase = 1;
    pthread_cond_broadcast(&s->cv);
    while (s->phase != 2)
        pthread_cond_wait(&s->cv, &s->m);
    pthread_mutex_unlock(&s->m);
    ct_epoch_exit(r);
    ct_epoch_leave(r);
    return NULL;
}

static void test_epoch_stall(void)
{
    stall_ctl s;
    memset(&s, 0, sizeof s);
    s.d = ct_epoch_domain_create(node_free, NULL);
    CT_CHECK(s.d, "create");
    pthread_mutex_init(&s.m, NULL);
    pthread_cond_init(&s.cv, NULL);
    ct_epoch_record *w = ct_epoch_join(s.d);
    /* Before the stall: retiring 2000 nodes keeps pending small. */
    for (int i = 0; i < 2000; i++) {
        ct_epoch_enter(w);
        node *n = node_new();
        ct_epoch_retire(w, n, &n->ep);
        ct_epoch_exit(w);
    }
    size_t before = ct_epoch_pending(s.d);
    CT_CHECK(before <= 4 * CT_EPOCH_ADVANCE_EVERY, "pending %zu with nobody stalled", before);
    pthread_t t;
    CT_CHECK(pthread_create(&t, NULL, staller, &s) == 0, "thread");
    pthread_mutex_lock(&s.m);
    while (s.phase != 1)
        pthread_cond_wait(&s.cv, &s.m);
    pthread_mutex_unlock(&s.m);
    const int during = 5000;
    for (int i = 0; i < during; i++) {
        ct_epoch_enter(w);
        node *n = node_new();
        ct_epoch_retire(w, n, &n->ep);
        ct_epoch_exit(w);
    }
    size_t stalled = ct_epoch_pending(s.d);
    size_t lag = ct_epoch_laggards(s.d);
    CT_CHECK(stalled >= (size_t)during - 2 * CT_EPOCH_ADVANCE_EVERY,
             "a stalled participant should block reclamation: only %zu of %d pending", stalled,
             during);
    CT_CHECK(lag == 1, "laggards %zu", lag);
    pthread_mutex_lock(&s.m);
    s.phase = 2;
    pthread_cond_broadcast(&s.cv);
    pthread_mutex_unlock(&s.m);
    pthread_join(t, NULL);
    for (int i = 0; i < 4 * CT_EPOCH_ADVANCE_EVERY; i++) {
        ct_epoch_enter(w);
        node *n = node_new();
        ct_epoch_retire(w, n, &n->ep);
        ct_epoch_exit(w);
    }
    size_t after = ct_epoch_pending(s.d);
    CT_CHECK(after <= 4 * CT_EPOCH_ADVANCE_EVERY, "reclamation did not resume: %zu pending",
             after);
    CT_CHECK(ct_epoch_laggards(s.d) == 0, "laggards after leave");
    printf("epoch stall: pending %zu before, %zu while one participant stalled inside "
           "(%d retired), %zu after it left\n", before, stalled, during, after);
    ct_epoch_leave(w);
    ct_epoch_domain_destroy(s.d);
    pthread_mutex_destroy(&s.m);
    pthread_cond_destroy(&s.cv);
    expect_balanced("epoch stall");
}

#define EP_THREADS 4

typedef struct ep_shared {
    ct_epoch_domain *d;
    node *_Atomic cells[SHARED_CELLS];
    uint64_t rounds;
    _Atomic uint64_t dead_seen;
} ep_shared;

typedef struct ep_arg {
    ep_shared *sh;
    unsigned id;
} ep_arg;

static void *ep_worker(void *p)
{
    ep_arg *a = p;
    ep_shared *sh = a->sh;
    uint64_t x = 0xD1B54A32D192ED03ull * (a->id + 1);
    ct_test_start_barrier();
    for (uint64_t i = 0; i < sh->rounds; i++) {
        ct_epoch_record *r = ct_epoch_join(sh->d);
        CT_CHECK(r != NULL, "join");
        for (unsigned k = 0; k < 64; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            unsigned cell = (unsigned)(x % SHARED_CELLS);
            ct_epoch_enter(r);
            node *n = atomic_load_explicit(&sh->cells[cell], memory_order_acquire);
            if (n && atomic_load(&n->magic) != LIVE)
                atomic_fetch_add(&sh->dead_seen, 1);
            node *fresh = node_new();
            node *old = atomic_exchange(&sh->cells[(cell + 3) % SHARED_CELLS], fresh);
            if (old)
                ct_epoch_retire(r, old, &old->ep);
            ct_epoch_exit(r);
        }
        ct_epoch_leave(r);
    }
    return NULL;
}

static void test_epoch_stress(void)
{
    ep_shared sh;
    memset(&sh, 0, sizeof sh);
    sh.d = ct_epoch_domain_create(node_free, NULL);
    CT_CHECK(sh.d, "create");
    sh.rounds = ct_test_scale(6000);
    ep_arg args[EP_THREADS];
    for (unsigned i = 0; i < EP_THREADS; i++)
        args[i] = (ep_arg){&sh, i};
    ct_test_run_threads(EP_THREADS, ep_worker, args, sizeof args[0]);
    CT_CHECK(atomic_load(&sh.dead_seen) == 0, "%llu nodes read after their free",
             (unsigned long long)atomic_load(&sh.dead_seen));
    CT_CHECK(ct_epoch_records(sh.d) <= EP_THREADS, "%zu records", ct_epoch_records(sh.d));
    printf("epoch: %d threads, %llu join/leave rounds each: %zu pending at the end, %zu "
           "records\n", EP_THREADS, (unsigned long long)sh.rounds, ct_epoch_pending(sh.d),
           ct_epoch_records(sh.d));
    for (unsigned c = 0; c < SHARED_CELLS; c++) {
        node *n = atomic_load(&sh.cells[c]);
        if (n)
            node_free(n, NULL);
    }
    ct_epoch_domain_destroy(sh.d);
    expect_balanced("epoch stress");
}

int main(void)
{
    test_hp_basics();
    test_hp_stress();
    test_epoch_basics();
    test_epoch_stall();
    test_epoch_stress();
    puts("test_smr: ok");
    return 0;
}
