/* Small statistics over per-thread and per-repeat figures. */
#include <stdlib.h>

#include "contend/harness.h"

void ct_fairness(const uint64_t *counts, unsigned n, double *jain, double *min_share,
                 double *max_share)
{
    double sum = 0, sum_sq = 0, lo = 0, hi = 0;
    for (unsigned i = 0; i < n; i++) {
        double x = (double)counts[i];
        sum += x;
        sum_sq += x * x;
        if (i == 0 || x < lo)
            lo = x;
        if (i == 0 || x > hi)
            hi = x;
    }
    if (n == 0 || sum == 0) { /* nobody did anything: fairness is undefined, say "even" */
        *jain = n ? 1.0 : 0.0;
        *min_share = *max_share = n ? 1.0 / n : 0.0;
        return;
    }
    *jain = sum * sum / ((double)n * sum_sq);
    *min_share = lo / sum;
    *max_share = hi / sum;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ct_median(double *values, unsigned n)
{
    if (n == 0)
        return 0;
    qsort(values, n, sizeof *values, cmp_double);
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

const char *ct_queue_mode_name(ct_queue_mode m)
{
    return m == CT_MODE_BLOCKING ? "blocking" : m == CT_MODE_SPIN ? "spin" : "try";
}
