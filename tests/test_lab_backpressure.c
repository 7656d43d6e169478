// ctest-timeout: 300
/* The backpressure lab's engine (bench/lab_backpressure.h) and its command line:
 *  - bad configurations are errors with a one-line reason, never a crash;
 *  - every run verifies itself: each item generated ends exactly once (sink, policy drop or
 *    cancelled at the end) and the pipeline's counters agree; at 2x overload bounded policies
 *    keep every input within its capacity, the drop policies drop, block and unbounded do not;
 *  - Little's law on a deterministic run (constant arrivals, constant service, load 0.4):
 *    the time integral of N from the items' stamps within 10% of lambda x W, and the directly
 *    sampled L within 10% of it. The sampled L is a measurement on a shared 2-core machine: a
 *    run that the machine starved into a growing backlog (not steady) is retried, up to 3
 *    times; if no attempt was steady the check is reported as not made;
 *  - the --max-rss guard stops an unbounded run under overload, and says so;
 *  - the lab's main: a bad option returns 2, a short run writes JSON with a time series.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab.h"
#include "lab_backpressure.h"
#include "contend/chaos.h"
#include "test_util.h"

static void test_bad_config(void)
{
    ct_bp_config c;
    ct_bp_result r;
    char err[256];
    ct_bp_config_defaults(&c);
    c.rate = 1000;
    c.stages = 0;
    CT_CHECK(ct_bp_run(&c, &r, err, sizeof err) == -1 && strstr(err, "stages"), "stages 0: %s",
             err);
    ct_bp_config_defaults(&c);
    c.rate = 0;
    CT_CHECK(ct_bp_run(&c, &r, err, sizeof err) == -1 && strstr(err, "rate"), "rate 0: %s", err);
    ct_bp_config_defaults(&c);
    c.rate = 1000;
    c.capacity = 0;
    CT_CHECK(ct_bp_run(&c, &r, err, sizeof err) == -1 && strstr(err, "capacity 0"),
             "capacity 0: %s", err);
    ct_bp_config_defaults(&c);
    c.rate = 1000;
    c.policy = (ct_policy)42;
    CT_CHECK(ct_bp_run(&c, &r, err, sizeof err) == -1 && strstr(err, "unknown policy"),
             "policy 42: %s", err);
}

static void test_policies_at_overload(void)
{
    for (int p = 0; p < CT_POLICY_COUNT; p++) {
        ct_bp_config c;
        ct_bp_config_defaults(&c);
        c.policy = (ct_policy)p;
        c.service_ns = 200000; /* 5000/s per stage at most */
        c.rate = 10000;
        c.capacity = 32;
        c.stages = 2;
        c.duration_s = 0.5;
        c.payload_bytes = 64;
        c.deadline_ns = 3ull * 2 * 32 * c.service_ns;
        if (c.policy == CT_POLICY_CODEL) {
            c.codel_interval_ns = c.deadline_ns / 4;
            c.codel_target_ns = c.codel_interval_ns / 10;
        }
        ct_bp_result r;
        char err[256];
        CT_CHECK(ct_bp_run(&c, &r, err, sizeof err) == 0, "%s: %s", ct_policy_name(c.policy),
                 err);
        const char *n = ct_policy_name(c.policy);
        CT_CHECK(r.verified, "%s: %s", n, r.verify_msg);
        CT_CHECK(r.generated > 0 && r.nseries >= 4, "%s: %llu items, %zu windows", n,
                 (unsigned long long)r.generated, r.nseries);
        CT_CHECK(r.generated == r.completed + r.dropped + r.cancelled_at_end, "%s: accounting",
                 n);
        if (c.policy == CT_POLICY_UNBOUNDED || c.policy == CT_POLICY_BLOCK)
            CT_CHECK(r.dropped == 0, "%s dropped %llu", n, (unsigned long long)r.dropped);
        else
            CT_CHECK(r.dropped > 0, "%s at 2x dropped nothing", n);
        if (c.policy != CT_POLICY_UNBOUNDED)
            CT_CHECK(r.max_depth <= 32, "%s: depth %llu above capacity 32", n,
                     (unsigned long long)r.max_depth);
        else
            CT_CHECK(r.max_depth > 32, "unbounded at 2x: depth only %llu",
                     (unsigned long long)r.max_depth);
        for (size_t w = 0; w < r.nseries; w++)
            CT_CHECK(r.series[w].p50_ns <= r.series[w].p99_ns &&
                         r.series[w].p99_ns <= r.series[w].max_ns + r.series[w].max_ns / 64,
                     "%s window %zu: percentiles out of order", n, w);
        ct_bp_result_free(&r);
    }
}

static void test_little(void)
{
    bool checked = false;
    int usable_runs = 0;
    for (int attempt = 1; attempt <= 3 && !checked; attempt++) {
        ct_bp_config c;
        ct_bp_config_defaults(&c);
        c.policy = CT_POLICY_BLOCK;
        c.arrival = CT_BP_ARRIVE_CONSTANT;
        c.service = CT_BP_CONSTANT;
        c.service_ns = 400000;
        c.rate = 1000; /* load 0.4: N alternates 1 (0.4 ms) and 0 (0.6 ms) */
        c.duration_s = 1.5;
        c.payload_bytes = 64;
        ct_bp_result r;
        char err[256];
        CT_CHECK(ct_bp_run(&c, &r, err, sizeof err) == 0, "run: %s", err);
        CT_CHECK(r.verified, "%s", r.verify_msg);
        double lw = r.little_lambda * r.little_W_s;
        printf("little attempt %d: L sampled %.3f, L exact %.3f, lambda %.1f/s, W %.3f ms, "
               "lambda W %.3f, steady %d, inside at the stop %llu\n",
               attempt, r.little_L, r.little_L_exact, r.little_lambda, r.little_W_s * 1e3, lw,
               r.steady, (unsigned long long)r.in_system_at_stop);
        /* Usable: no growing backlog, and the run did not stop in the middle of a burst
         * (items inside at the stop are the finite-horizon error of Little's law: their time
         * so far is in the integral of N but not in W). */
        bool usable = r.steady && (double)r.in_system_at_stop <= 3.0 * r.little_L_exact + 2.0;
        if (usable) {
            CT_CHECK(r.completed > 100 && lw > 0, "%llu completed: the run did not flow",
                     (unsigned long long)r.completed);
            CT_CHECK(fabs(r.little_L_exact - lw) <= 0.10 * lw,
                     "integral of N %.3f vs lambda W %.3f: more than 10%% apart",
                     r.little_L_exact, lw);
            usable_runs++;
            if (fabs(r.little_L - lw) <= 0.10 * lw)
                checked = true;
        }
        ct_bp_result_free(&r);
    }
    /* The sampled L is a statistical estimate read by a sampling thread; in the chaos build
     * the random sleeps between the pipeline's counter updates bias what it sees (low, by up
     * to 30% in one run of 3 x 3 attempts), so there it is printed, not asserted. The exact
     * integral above is asserted in every build. */
    CT_CHECK(checked || usable_runs == 0 || ct_chaos_seed() != 0,
             "sampled L more than 10%% from lambda W in all %d usable runs", usable_runs);
    if (!checked)
        printf("little: no usable run in 3 attempts (machine overloaded); check not made\n");
}

static void test_guard(void)
{
    ct_bp_config c;
    ct_bp_config_defaults(&c);
    c.policy = CT_POLICY_UNBOUNDED;
    c.service_ns = 1000000; /* 1000/s */
    c.rate = 20000;         /* ~19000 items/s pile up, 4 KiB each: ~80 MB/s */
    c.payload_bytes = 4096;
    c.duration_s = 20;
    uint64_t now = ct_bp_rss_bytes();
    CT_CHECK(now > 0, "RSS unreadable");
    c.max_rss = now + 16u * 1024 * 1024;
    ct_bp_result r;
    char err[256];
    CT_CHECK(ct_bp_run(&c, &r, err, sizeof err) == 0, "run: %s", err);
    CT_CHECK(r.verified, "%s", r.verify_msg);
    CT_CHECK(r.guard_tripped, "unbounded run not stopped by a 16 MiB guard (peak %llu)",
             (unsigned long long)r.rss_peak);
    CT_CHECK(r.elapsed_s < 15, "guard took %.1f s", r.elapsed_s);
    CT_CHECK(r.rss_peak > c.max_rss, "peak %llu below the limit %llu",
             (unsigned long long)r.rss_peak, (unsigned long long)c.max_rss);
    CT_CHECK(r.cancelled_at_end > 0, "nothing left inside when the guard stopped it");
    printf("guard: stopped at %.2f s, peak RSS %.1f MiB (limit %.1f MiB)\n", r.guard_at_s,
           (double)r.rss_peak / 1048576.0, (double)c.max_rss / 1048576.0);
    ct_bp_result_free(&r);
    CT_CHECK(ct_bp_default_max_rss() > 0 && ct_bp_default_max_rss() <= ((uint64_t)1 << 30),
             "default guard %llu", (unsigned long long)ct_bp_default_max_rss());
}

static void test_lab_main(void)
{
    const ct_lab *lab = ct_lab_find("backpressure");
    CT_CHECK(lab != NULL, "lab not registered");
    char *bad1[] = {"backpressure", "--policy", "lifo", NULL};
    CT_CHECK(lab->main(3, bad1) == 2, "--policy lifo");
    char *bad2[] = {"backpressure", "--rate", "100", "--load", "1", NULL};
    CT_CHECK(lab->main(5, bad2) == 2, "--rate with --load");
    char path[] = "/tmp/contend_test_bp_XXXXXX";
    int fd = mkstemp(path);
    CT_CHECK(fd >= 0, "mkstemp");
    close(fd);
    char *args[] = {"backpressure", "--duration", "short", "--policy", "drop-oldest", "--load",
                    "2", "--format", "json", "--out", path, NULL};
    CT_CHECK(lab->main(11, args) == 0, "short json run");
    FILE *f = fopen(path, "r");
    CT_CHECK(f != NULL, "no output");
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    unlink(path);
    CT_CHECK(strstr(buf, "\"series\": [") && strstr(buf, "\"little\"") &&
                 strstr(buf, "\"capacity_per_s\"") && strstr(buf, "\"verified\": true"),
             "JSON lacks fields (%zu bytes)", n);
}

int main(void)
{
    test_bad_config();
    test_policies_at_overload();
    test_little();
    test_guard();
    test_lab_main();
    puts("test_lab_backpressure: ok");
    return 0;
}
