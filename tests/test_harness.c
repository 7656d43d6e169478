// ctest-timeout: 300
/* The harness itself: statistics helpers, the runner's accounting (ops, windows, fairness,
 * latency samples), verification failures reported as failures, and every counter
 * implementation verifying its exact count on 1 to 4 threads (the workload is the lock
 * benchmark users run, so its self-check must hold in every build, TSan included). */
#include <math.h>
#include <string.h>

#include "contend/harness.h"
#include "contend/lock.h"
#include "contend/queue.h"
#include "test_util.h"

/* A workload whose verify step always fails: the runner must report it, not hide it. */
static size_t one_impl(void) { return 1; }
static const char *impl_name(size_t i) { return i == 0 ? "only" : NULL; }
static int dummy_state;
static void *setup(const char *impl, unsigned n, const ct_params *p, char *err, size_t len)
{
    (void)impl; (void)n; (void)p; (void)err; (void)len;
    return &dummy_state;
}
static void spin_main(ct_thread *t)
{
    while (ct_thread_running(t)) {
        uint64_t s = ct_op_begin(t);
        ct_work_ns(100);
        ct_op_end(t, s);
    }
}
static bool verify_fails(void *s, const ct_thread *th, unsigned n, char *msg, size_t len)
{
    (void)s; (void)th; (void)n;
    snprintf(msg, len, "deliberate failure");
    return false;
}
static bool verify_ok(void *s, const ct_thread *th, unsigned n, char *msg, size_t len)
{
    (void)s; (void)msg; (void)len;
    for (unsigned i = 0; i < n; i++)
        if (th[i].ops_at_measure_end < th[i].ops_at_measure_start || th[i].ops < th[i].ops_at_measure_end)
            return false;
    return true;
}
static void teardown(void *s) { (void)s; }

static ct_workload test_workload = {"test", "test", false, "one op", one_impl, impl_name, impl_name,
                                    setup, spin_main, verify_ok, teardown, NULL, NULL, NULL, NULL,
                                    NULL, NULL, NULL};

static void test_stats(void)
{
    uint64_t even[4] = {10, 10, 10, 10}, skew[4] = {40, 0, 0, 0};
    double j, lo, hi;
    ct_fairness(even, 4, &j, &lo, &hi);
    CT_CHECK(fabs(j - 1) < 1e-12 && fabs(lo - 0.25) < 1e-12 && fabs(hi - 0.25) < 1e-12, "even");
    ct_fairness(skew, 4, &j, &lo, &hi);
    CT_CHECK(fabs(j - 0.25) < 1e-12 && lo == 0 && fabs(hi - 1) < 1e-12, "skewed: jain %g", j);
    double v[5] = {5, 1, 4, 2, 3};
    CT_CHECK(ct_median(v, 5) == 3, "odd median");
    double w[4] = {4, 1, 3, 2};
    CT_CHECK(ct_median(w, 4) == 2.5, "even median");
}

static void test_runner_accounting(void)
{
    ct_run_config cfg;
    ct_run_config_defaults(&cfg);
    cfg.duration_s = 0.05;
    cfg.warmup_s = 0.01;
    cfg.repeat = 3;
    cfg.sample_period = 16;
    ct_result r;
    char err[256];
    CT_CHECK(ct_run_point(&test_workload, "only", 3, &cfg, &r, err, sizeof err) == 0, "%s", err);
    CT_CHECK(r.verified, "verify_ok failed: %s", r.verify_msg);
    CT_CHECK(r.ops_per_s > 0, "no throughput");
    CT_CHECK(r.ops_per_s_min <= r.ops_per_s && r.ops_per_s <= r.ops_per_s_max, "median order");
    CT_CHECK(r.latency.samples > 0, "no latency samples");
    CT_CHECK(r.latency.p50 <= r.latency.p99 && r.latency.p99 <= r.latency.max, "percentiles");
    CT_CHECK(r.jain > 0 && r.jain <= 1.0000001, "jain %g", r.jain);
    CT_CHECK(r.min_share <= r.max_share, "shares");
    CT_CHECK(r.hw_valid || r.hw_reason, "hw null without a reason");

    test_workload.verify = verify_fails;
    CT_CHECK(ct_run_point(&test_workload, "only", 2, &cfg, &r, err, sizeof err) == 0, "%s", err);
    CT_CHECK(!r.verified && strstr(r.verify_msg, "deliberate"), "failure not reported");
    test_workload.verify = verify_ok;

    CT_CHECK(ct_run_point(&test_workload, "nope", 2, &cfg, &r, err, sizeof err) == -1, "bad impl");
    cfg.repeat = 0;
    CT_CHECK(ct_run_point(&test_workload, "only", 2, &cfg, &r, err, sizeof err) == -1, "repeat 0");
}

/* Every registered workload, every implementation, 1, 2 and 4 threads: the self-check must
 * hold in every build (normal, chaos, TSan, ASan). */
static void test_every_workload_verifies(void)
{
    CT_CHECK(ct_workload_find("counter") != NULL, "counter workload missing");
    CT_CHECK(ct_workload_find("false-sharing") != NULL, "false-sharing workload missing");
    CT_CHECK(ct_workload_find("nope") == NULL && ct_workload_get(ct_workload_count()) == NULL,
             "registry bounds");
    ct_run_config cfg;
    ct_run_config_defaults(&cfg);
    cfg.duration_s = 0.03;
    cfg.warmup_s = 0.005;
    cfg.repeat = 1;
    const unsigned threads[] = {1, 2, 4};
    for (size_t wi = 0; wi < ct_workload_count(); wi++) {
        const ct_workload *w = ct_workload_get(wi);
        for (size_t i = 0; i < w->impl_count(); i++) {
            for (size_t k = 0; k < sizeof threads / sizeof threads[0]; k++) {
                unsigned n = threads[k];
                memset(&cfg.params, 0, sizeof cfg.params);
                cfg.params.cs_ns = k == 2 ? 50 : 0;
                cfg.params.think_ns = k == 1 ? 20 : 0;
                if (w->producer_consumer) {
                    /* 1:1, 1:2 and 2:2, small capacity, try, blocking and spin modes. */
                    const ct_queue_class *qc = ct_queue_class_find(w->impl_name(i));
                    cfg.params.producers = k == 2 ? 2 : 1;
                    cfg.params.consumers = k == 0 ? 1 : 2;
                    if (qc && qc->max_consumers && cfg.params.consumers > qc->max_consumers)
                        continue;
                    cfg.params.capacity = 4;
                    cfg.params.mode = k == 1 ? CT_MODE_TRY : k == 2 ? CT_MODE_SPIN : CT_MODE_BLOCKING;
                    n = cfg.params.producers + cfg.params.consumers;
                }
                /* Fixed-work workloads (the pool): every --workload, each at a small size. */
                static const struct { const char *name; uint64_t n; } small[] = {
                    {"fib", 12}, {"uts", 20}, {"sort", 20000}, {"imbalanced-for", 3000},
                    {"latency", 200}, {"sparse", 20}, {"idle", 20}, {NULL, 0}};
                for (size_t v = 0; w->variants ? small[v].name != NULL : v == 0; v++) {
                    if (w->variants) {
                        cfg.params.workload = small[v].name;
                        cfg.params.n = small[v].n;
                    }
                    ct_result r;
                    char err[256];
                    int rc = ct_run_point(w, w->impl_name(i), n, &cfg, &r, err, sizeof err);
                    if (rc != 0 && w->variants && strstr(err, "cannot take tasks"))
                        continue; /* a peer without outside submission (OpenMP) */
                    CT_CHECK(rc == 0, "%s %s x%u: %s", w->name, w->impl_name(i), n, err);
                    CT_CHECK(r.verified, "%s %s x%u %s: %s", w->name, w->impl_name(i), n,
                             w->variants ? small[v].name : "", r.verify_msg);
                }
            }
        }
    }
}

int main(void)
{
    test_stats();
    test_runner_accounting();
    test_every_workload_verifies();
    printf("test_harness: ok\n");
    return 0;
}
