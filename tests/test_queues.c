// ctest-timeout: 240
/* Every registered queue class: the registry contract, then the class contract of
 * queue_contract.h (bad capacities, single-thread FIFO, try_* on full and empty, close, close
 * racing, and the exactly-once / per-producer-order stress in try and blocking modes). Then
 * the typed extras of the queues that have them (deadlines, errno values, capacity, size).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "contend/mutex_queue.h"
#include "contend/queue.h"
#include "contend/spsc.h"
#include "queue_contract.h"
#include "test_util.h"

/* ---- registry ------------------------------------------------------------------------ */

static void test_registry(void)
{
    size_t n = ct_queue_class_count();
    CT_CHECK(n >= 3, "only %zu queue classes", n);
    CT_CHECK(ct_queue_class_get(n) == NULL, "get(count) must be NULL");
    CT_CHECK(ct_queue_class_find(NULL) == NULL, "find(NULL)");
    CT_CHECK(ct_queue_class_find("no-such-queue") == NULL, "find(unknown)");
    static const char *const expected[] = {"mpmc", "mutex", "spsc"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        CT_CHECK(ct_queue_class_find(expected[i]) != NULL, "%s not registered", expected[i]);
    for (size_t i = 0; i < n; i++) {
        const ct_queue_class *c = ct_queue_class_get(i);
        CT_CHECK(c && c->name && c->summary && c->create && c->destroy && c->try_push &&
                     c->try_pop && c->push && c->pop && c->close,
                 "class %zu incomplete", i);
        CT_CHECK(ct_queue_class_find(c->name) == c, "%s: find does not return it", c->name);
        for (size_t j = 0; j < i; j++)
            CT_CHECK(strcmp(ct_queue_class_get(j)->name, c->name) != 0, "%s twice", c->name);
    }
    const ct_queue_class *spsc = ct_queue_class_find("spsc");
    CT_CHECK(spsc->max_producers == 1 && spsc->max_consumers == 1, "spsc limits");
}

/* ---- typed extras ------------------------------------------------------------------------ */

static void test_mutexq_typed(void)
{
    void *it;
    ct_mutexq *q = ct_mutexq_create(5);
    CT_CHECK(q && ct_mutexq_capacity(q) == 5, "mutexq: capacity 5 exactly");
    uint64_t deadline = ct_now_ns() + 20000000u;
    CT_CHECK(!ct_mutexq_pop_until(q, &it, deadline) && errno == ETIMEDOUT,
             "mutexq: pop_until on empty: errno %d", errno);
    CT_CHECK(ct_now_ns() >= deadline, "mutexq: pop_until returned before its deadline");
    CT_CHECK(!ct_mutexq_try_pop(q, &it) && errno == EAGAIN, "mutexq: try_pop empty: EAGAIN");
    for (uintptr_t i = 0; i < 5; i++)
        CT_CHECK(ct_mutexq_try_push(q, (void *)i), "mutexq: try_push %zu", (size_t)i);
    CT_CHECK(ct_mutexq_size(q) == 5, "mutexq: size 5");
    CT_CHECK(!ct_mutexq_try_push(q, NULL) && errno == EAGAIN, "mutexq: try_push full: EAGAIN");
    deadline = ct_now_ns() + 20000000u;
    CT_CHECK(!ct_mutexq_push_until(q, NULL, deadline) && errno == ETIMEDOUT,
             "mutexq: push_until on full: errno %d", errno);
    CT_CHECK(ct_now_ns() >= deadline, "mutexq: push_until returned before its deadline");
    ct_mutexq_close(q);
    CT_CHECK(!ct_mutexq_try_push(q, NULL) && errno == EPIPE, "mutexq: try_push closed: EPIPE");
    CT_CHECK(!ct_mutexq_push_until(q, NULL, ct_now_ns() + 1000000000u) && errno == EPIPE,
             "mutexq: push_until closed: EPIPE");
    for (uintptr_t i = 0; i < 5; i++)
        CT_CHECK(ct_mutexq_pop_until(q, &it, ct_now_ns() + 1000000000u) && it == (void *)i,
                 "mutexq: pop after close");
    CT_CHECK(!ct_mutexq_pop_until(q, &it, ct_now_ns() + 1000000000u) && errno == EPIPE,
             "mutexq: pop_until closed and empty: EPIPE");
    CT_CHECK(!ct_mutexq_try_pop(q, &it) && errno == EPIPE, "mutexq: try_pop closed: EPIPE");
    CT_CHECK(ct_mutexq_size(q) == 0, "mutexq: size 0");
    ct_mutexq_destroy(q);
}

static void test_spsc_typed(void)
{
    void *it;
    errno = 0;
    CT_CHECK(ct_spsc_create(0) == NULL && errno == EINVAL, "spsc: create(0)");
    ct_spsc *q = ct_spsc_create(5);
    CT_CHECK(q && ct_spsc_capacity(q) == 8, "spsc: capacity 5 rounds up to 8");
    uint64_t deadline = ct_now_ns() + 20000000u;
    CT_CHECK(!ct_spsc_pop_until(q, &it, deadline) && errno == ETIMEDOUT,
             "spsc: pop_until on empty: errno %d", errno);
    CT_CHECK(ct_now_ns() >= deadline, "spsc: pop_until returned before its deadline");
    CT_CHECK(!ct_spsc_try_pop(q, &it) && errno == EAGAIN, "spsc: try_pop empty: EAGAIN");
    for (uintptr_t i = 0; i < 8; i++)
        CT_CHECK(ct_spsc_try_push(q, (void *)i), "spsc: try_push %zu", (size_t)i);
    CT_CHECK(ct_spsc_size(q) == 8, "spsc: size 8");
    CT_CHECK(!ct_spsc_try_push(q, NULL) && errno == EAGAIN, "spsc: try_push full: EAGAIN");
    deadline = ct_now_ns() + 20000000u;
    CT_CHECK(!ct_spsc_push_until(q, NULL, deadline) && errno == ETIMEDOUT,
             "spsc: push_until on full: errno %d", errno);
    CT_CHECK(ct_now_ns() >= deadline, "spsc: push_until returned before its deadline");
    ct_spsc_close(q);
    CT_CHECK(!ct_spsc_try_push(q, NULL) && errno == EPIPE, "spsc: try_push closed: EPIPE");
    CT_CHECK(!ct_spsc_push_until(q, NULL, ct_now_ns() + 1000000000u) && errno == EPIPE,
             "spsc: push_until closed: EPIPE");
    for (uintptr_t i = 0; i < 8; i++)
        CT_CHECK(ct_spsc_pop_until(q, &it, ct_now_ns() + 1000000000u) && it == (void *)i,
                 "spsc: pop after close");
    CT_CHECK(!ct_spsc_pop_until(q, &it, ct_now_ns() + 1000000000u) && errno == EPIPE,
             "spsc: pop_until closed and empty: EPIPE");
    CT_CHECK(!ct_spsc_try_pop(q, &it) && errno == EPIPE, "spsc: try_pop closed: EPIPE");
    CT_CHECK(ct_spsc_size(q) == 0, "spsc: size 0");
    ct_spsc_destroy(q);
}

int main(void)
{
    test_registry();
    test_mutexq_typed();
    test_spsc_typed();
    for (size_t i = 0; i < ct_queue_class_count(); i++) {
        const ct_queue_class *c = ct_queue_class_get(i);
        uint64_t t0 = ct_now_ns();
        ct_queue_contract(c, 0);
        printf("queue %-8s ok (%.1f s)\n", c->name, (double)(ct_now_ns() - t0) / 1e9);
        fflush(stdout);
    }
    /* spsc again as if membarrier failed after registration: the blocking paths' degraded
     * mode (bounded sleeps, rechecks) must still deliver everything and close cleanly. */
    ct__spsc_force_degraded(true);
    const ct_queue_class *spsc = ct_queue_class_find("spsc");
    test_close(spsc);
    test_close_race(spsc);
    test_stress(spsc, 0);
    ct__spsc_force_degraded(false);
    printf("queue spsc     ok in degraded mode (membarrier failing)\n");
    printf("test_queues: %zu classes ok\n", ct_queue_class_count());
    return 0;
}
