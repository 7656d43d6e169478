// ctest-timeout: 300
/* The `stack` benchmark verifies itself: every implementation it lists (ours except naive,
 * and the peers that were built: ck-epoch, urcu) runs on 1, 2 and 4 threads for a short
 * window and must verify (no loss, no duplicate, exact sums), and report its extra figures
 * (pending peak/mean, samples, peak RSS) in the result. naive must not be listed. */
#include <string.h>

#include "contend/harness.h"
#include "test_util.h"

int main(void)
{
    const ct_workload *w = ct_workload_find("stack");
    CT_CHECK(w != NULL, "stack workload registered");
    CT_CHECK(!ct_workload_has_impl(w, "naive"), "naive must not be benchmarked");
    CT_CHECK(ct_workload_has_impl(w, "tagged") && ct_workload_has_impl(w, "mutex"), "impls");
    ct_run_config cfg;
    ct_run_config_defaults(&cfg);
    cfg.duration_s = 0.1;
    cfg.warmup_s = 0.02;
    cfg.repeat = 1;
    cfg.hw_counters = false;
    static const unsigned threads[] = {1, 2, 4};
    for (size_t i = 0; i < w->impl_count(); i++) {
        for (size_t k = 0; k < 3; k++) {
            ct_result r;
            char err[256] = "";
            int rc = ct_run_point(w, w->impl_name(i), threads[k], &cfg, &r, err, sizeof err);
            CT_CHECK(rc == 0, "%s x%u: %s", w->impl_name(i), threads[k], err);
            CT_CHECK(r.verified, "%s x%u: %s", w->impl_name(i), threads[k], r.verify_msg);
            CT_CHECK(r.nextra == 4 && !strcmp(r.extra[0].name, "pending_peak") &&
                         r.extra[1].value <= r.extra[0].value,
                     "%s: extras", w->impl_name(i));
            CT_CHECK(r.ops_per_s > 0, "%s: no ops", w->impl_name(i));
            printf("%-9s x%u  %8.2f M ops/s  pending peak %.0f\n", w->impl_name(i), threads[k],
                   r.ops_per_s / 1e6, r.extra[0].value);
        }
    }
    /* A bad implementation name is an error, not a crash. */
    ct_result r;
    char err[256];
    CT_CHECK(ct_run_point(w, "naive", 1, &cfg, &r, err, sizeof err) == -1, "naive refused");
    puts("test_stack_bench: ok");
    return 0;
}
