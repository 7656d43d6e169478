/* Synthetic work for --cs-ns and --think-ns: a dependent multiply-add chain whose cost per
 * iteration is fixed by the core's multiplier latency, so it is independent of memory and
 * touches no shared line. Calibrated once: the fastest of several timed batches, because
 * interference only ever makes a batch slower. */
#include <pthread.h>

#include "contend/harness.h"

static double iters_per_ns;
static pthread_once_t calibrate_once = PTHREAD_ONCE_INIT;

void ct_work_iters(uint64_t iters)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (uint64_t i = 0; i < iters; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        __asm__ __volatile__("" : "+r"(x)); /* keeps the chain: the compiler cannot fold it */
    }
}

static void calibrate(void)
{
    const uint64_t batch = 200000;
    uint64_t best = UINT64_MAX;
    ct_work_iters(batch); /* warm the frequency governor and the branch predictor */
    for (int i = 0; i < 7; i++) {
        uint64_t t0 = ct_now_ns();
        ct_work_iters(batch);
        uint64_t dt = ct_now_ns() - t0;
        if (dt && dt < best)
            best = dt;
    }
    iters_per_ns = best == UINT64_MAX ? 1.0 : (double)batch / (double)best;
}

void ct_work_calibrate(void) { pthread_once(&calibrate_once, calibrate); }

double ct_work_iters_per_ns(void)
{
    ct_work_calibrate();
    return iters_per_ns;
}
