// ctest-label: quick
/* The latency histogram against exact references.
 *
 * For several distributions (small integers in and just above the exact region, log-uniform
 * over ten decades, bimodal, constant) every percentile the harness reports is compared with
 * nearest-rank on the sorted samples: equal below 128, within the documented 1/128 above.
 * Count, min and max must be exact, the mean within 1e-9 and the standard deviation within
 * 1e-6 of a two-pass reference. Merging must give the very histogram of the union, record_n
 * the same as n records, reset an empty histogram; values past 2^44 must still count with an
 * exact max, and sums of squares past 2^128 must not overflow. Randomness is a fixed-seed
 * xorshift64*, so a failure reproduces exactly.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contend/histogram.h"
#include "test_util.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static double rng_unit(void) { return (double)(rng_next() >> 11) * 0x1.0p-53; } /* [0, 1) */

static const double percentiles[] = {0, 1, 10, 50, 90, 99, 99.9, 99.99, 100};
#define NPERCENTILES (sizeof percentiles / sizeof percentiles[0])

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank on sorted samples, with the documented rule: rank = ceil(p/100 * n), a product
 * within 1e-12 (relative) of an integer counting as that integer; p = 0 is the minimum. */
static uint64_t reference_percentile(const uint64_t *sorted, size_t n, double p)
{
    if (p == 0.0)
        return sorted[0];
    long double x = (long double)p / 100.0L * (long double)n;
    long double r = nearbyintl(x);
    if (fabsl(x - r) <= x * 1e-12L)
        x = r;
    long double c = ceill(x);
    size_t rank = c < 1.0L ? 1 : c > (long double)n ? n : (size_t)c;
    return sorted[rank - 1];
}

static void check_against_reference(const char *name, uint64_t *values, size_t n)
{
    ct_hist *h = ct_hist_create();
    CT_CHECK(h != NULL, "create");
    for (size_t i = 0; i < n; i++)
        ct_hist_record(h, values[i]);
    qsort(values, n, sizeof values[0], cmp_u64);

    long double sum = 0.0L;
    for (size_t i = 0; i < n; i++)
        sum += (long double)values[i];
    long double mean = sum / (long double)n;
    long double sq = 0.0L;
    for (size_t i = 0; i < n; i++) {
        long double d = (long double)values[i] - mean;
        sq += d * d;
    }
    double stdev = (double)sqrtl(sq / (long double)n);

    CT_CHECK(ct_hist_count(h) == n, "%s: count %llu != %zu", name,
             (unsigned long long)ct_hist_count(h), n);
    CT_CHECK(ct_hist_min(h) == values[0], "%s: min", name);
    CT_CHECK(ct_hist_max(h) == values[n - 1], "%s: max", name);
    double m = ct_hist_mean(h);
    CT_CHECK(fabs(m - (double)mean) <= 1e-9 * (double)mean, "%s: mean %.17g vs %.17g", name,
             m, (double)mean);
    double s = ct_hist_stdev(h);
    if (stdev == 0.0)
        CT_CHECK(s == 0.0, "%s: stdev %.17g of a constant", name, s);
    else
        CT_CHECK(fabs(s - stdev) <= 1e-6 * stdev, "%s: stdev %.17g vs %.17g", name, s, stdev);

    for (size_t k = 0; k < NPERCENTILES; k++) {
        double p = percentiles[k];
        uint64_t want = reference_percentile(values, n, p);
        uint64_t got = ct_hist_percentile(h, p);
        if (want < 128 || p == 0.0 || p == 100.0) {
            CT_CHECK(got == want, "%s: p%g = %llu, exact %llu", name, p,
                     (unsigned long long)got, (unsigned long long)want);
        } else {
            double err = fabs((double)got - (double)want) / (double)want;
            CT_CHECK(err <= 1.0 / 128 + 1e-12 && err <= 0.01, "%s: p%g = %llu vs %llu (%.4f%%)",
                     name, p, (unsigned long long)got, (unsigned long long)want, 100 * err);
        }
        CT_CHECK(got >= values[0] && got <= values[n - 1], "%s: p%g outside [min, max]", name,
                 p);
    }
    ct_hist_destroy(h);
}

static void test_distributions(void)
{
    size_t n = (size_t)ct_test_scale(400000);
    uint64_t *v = malloc(n * sizeof *v);
    CT_CHECK(v != NULL, "out of memory");

    for (size_t i = 0; i < n; i++)
        v[i] = rng_next() % 201; /* 0..200: exact region and the first buckets above it */
    check_against_reference("uniform 0..200", v, n);

    for (size_t i = 0; i < n; i++)
        v[i] = (uint64_t)exp(rng_unit() * log(1e10)); /* log-uniform 1..1e10 */
    check_against_reference("log-uniform 1..1e10", v, n);

    for (size_t i = 0; i < n; i++) { /* fast path around 300 ns, slow path around 2 ms */
        if (rng_next() % 10 < 9)
            v[i] = 250 + rng_next() % 100;
        else
            v[i] = 1500000 + rng_next() % 1000000;
    }
    check_against_reference("bimodal", v, n);

    for (size_t i = 0; i < n; i++)
        v[i] = 12345;
    check_against_reference("constant", v, n);

    for (size_t i = 0; i < n; i++) /* tight spread far from zero: cancellation in the stdev */
        v[i] = 1000000000ull + rng_next() % 3;
    check_against_reference("1e9 + {0,1,2}", v, n);

    v[0] = 7;
    check_against_reference("single", v, 1);
    free(v);
}

/* Every value, bucketed alone between 0 and UINT64_MAX (so the [min, max] clamp cannot hide
 * the bucket), is reported within 1/128 of itself, exactly below 128, monotonically. */
static void test_bucket_bounds(void)
{
    ct_hist *h = ct_hist_create();
    CT_CHECK(h != NULL, "create");
    uint64_t prev = 0;
    uint64_t exhaustive = ct_test_scale(1u << 16) < 4096 ? 4096 : ct_test_scale(1u << 16);
    uint64_t randoms = ct_test_scale(20000);
    for (uint64_t i = 0; i < exhaustive + randoms; i++) {
        uint64_t v = i < exhaustive ? i : rng_next() >> (20 + rng_next() % 44); /* < 2^44 */
        ct_hist_reset(h);
        ct_hist_record(h, 0);
        ct_hist_record(h, v);
        ct_hist_record(h, UINT64_MAX);
        uint64_t got = ct_hist_percentile(h, 50);
        if (v < 128)
            CT_CHECK(got == v, "value %llu reported as %llu", (unsigned long long)v,
                     (unsigned long long)got);
        else
            CT_CHECK(fabs((double)got - (double)v) <= (double)v / 128,
                     "value %llu reported as %llu", (unsigned long long)v,
                     (unsigned long long)got);
        if (i < exhaustive) {
            CT_CHECK(got >= prev, "not monotonic at %llu", (unsigned long long)v);
            prev = got;
        }
    }
    ct_hist_destroy(h);
}

static void expect_same(const ct_hist *a, const ct_hist *b, const char *what)
{
    CT_CHECK(ct_hist_count(a) == ct_hist_count(b), "%s: count", what);
    CT_CHECK(ct_hist_min(a) == ct_hist_min(b), "%s: min", what);
    CT_CHECK(ct_hist_max(a) == ct_hist_max(b), "%s: max", what);
    CT_CHECK(ct_hist_mean(a) == ct_hist_mean(b), "%s: mean %.17g vs %.17g", what,
             ct_hist_mean(a), ct_hist_mean(b));
    CT_CHECK(ct_hist_stdev(a) == ct_hist_stdev(b), "%s: stdev %.17g vs %.17g", what,
             ct_hist_stdev(a), ct_hist_stdev(b));
    for (double p = 0; p <= 100; p += 0.25)
        CT_CHECK(ct_hist_percentile(a, p) == ct_hist_percentile(b, p), "%s: p%g", what, p);
}

static void test_merge(void)
{
    ct_hist *a = ct_hist_create(), *b = ct_hist_create(), *all = ct_hist_create();
    CT_CHECK(a && b && all, "create");
    size_t n = (size_t)ct_test_scale(100000);
    for (size_t i = 0; i < n; i++) {
        uint64_t v = (uint64_t)exp(rng_unit() * log(1e9));
        ct_hist_record(rng_next() % 3 == 0 ? a : b, v);
        ct_hist_record(all, v);
    }
    ct_hist_record(b, 1ull << 50); /* the overflow bucket merges too */
    ct_hist_record(all, 1ull << 50);
    ct_hist_merge(a, b);
    expect_same(a, all, "merge");

    ct_hist *empty = ct_hist_create();
    CT_CHECK(empty != NULL, "create");
    ct_hist_merge(a, empty); /* merging nothing changes nothing, min included */
    expect_same(a, all, "merge empty");
    ct_hist_merge(empty, all); /* merging into an empty one copies */
    expect_same(empty, all, "merge into empty");
    ct_hist_destroy(empty);
    ct_hist_destroy(a);
    ct_hist_destroy(b);
    ct_hist_destroy(all);
}

static void expect_empty(const ct_hist *h, const char *what)
{
    CT_CHECK(ct_hist_count(h) == 0, "%s: count", what);
    CT_CHECK(ct_hist_min(h) == 0 && ct_hist_max(h) == 0, "%s: min/max", what);
    CT_CHECK(ct_hist_mean(h) == 0.0 && ct_hist_stdev(h) == 0.0, "%s: mean/stdev", what);
    for (size_t k = 0; k < NPERCENTILES; k++)
        CT_CHECK(ct_hist_percentile(h, percentiles[k]) == 0, "%s: p%g", what, percentiles[k]);
}

static void test_empty_reset_record_n(void)
{
    ct_hist *h = ct_hist_create();
    CT_CHECK(h != NULL, "create");
    expect_empty(h, "fresh");
    for (uint64_t v = 1; v < 100000; v += 7)
        ct_hist_record(h, v * 13);
    ct_hist_reset(h);
    expect_empty(h, "reset");
    ct_hist_record(h, 500);
    CT_CHECK(ct_hist_min(h) == 500 && ct_hist_max(h) == 500, "min/max after reset");
    ct_hist_record_n(h, 3, 0); /* zero count: no sample, min unchanged */
    CT_CHECK(ct_hist_count(h) == 1 && ct_hist_min(h) == 500, "record_n with count 0");

    ct_hist *one = ct_hist_create(), *many = ct_hist_create();
    CT_CHECK(one && many, "create");
    static const uint64_t vals[] = {0, 1, 127, 128, 129, 1000, 123456789, 1ull << 43,
                                    (1ull << 44) + 5, UINT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint64_t k = 1 + i * 3;
        ct_hist_record_n(one, vals[i], k);
        for (uint64_t j = 0; j < k; j++)
            ct_hist_record(many, vals[i]);
    }
    expect_same(one, many, "record_n");
    ct_hist_destroy(one);
    ct_hist_destroy(many);

    /* Sums past 2^64 (values) and 2^128 (squares): two groups of 2^40 samples at 2^50 and
     * 3*2^50: mean 2^51, stdev 2^50 exactly. */
    ct_hist_reset(h);
    ct_hist_record_n(h, 1ull << 50, 1ull << 40);
    ct_hist_record_n(h, 3ull << 50, 1ull << 40);
    CT_CHECK(ct_hist_count(h) == 1ull << 41, "big count");
    CT_CHECK(ct_hist_mean(h) == 0x1p51, "big mean %.17g", ct_hist_mean(h));
    CT_CHECK(fabs(ct_hist_stdev(h) - 0x1p50) <= 1e-12 * 0x1p50, "big stdev %.17g",
             ct_hist_stdev(h));

    ct_hist_destroy(h);
    ct_hist_destroy(NULL); /* like free */
}

static void test_huge_and_invalid(void)
{
    ct_hist *h = ct_hist_create();
    CT_CHECK(h != NULL, "create");
    uint64_t big = (1ull << 44) + 12345;
    ct_hist_record(h, 10);
    ct_hist_record(h, big);
    ct_hist_record(h, 1ull << 60);
    CT_CHECK(ct_hist_count(h) == 3, "count with huge values");
    CT_CHECK(ct_hist_max(h) == 1ull << 60, "max exact");
    CT_CHECK(ct_hist_percentile(h, 100) == 1ull << 60, "p100 is max");
    CT_CHECK(ct_hist_percentile(h, 10) == 10, "p10");
    uint64_t mid = ct_hist_percentile(h, 50);
    CT_CHECK(mid >= big && mid <= 1ull << 60, "p50 in the overflow bucket: %llu",
             (unsigned long long)mid);
    double mean = ((double)big + 10.0 + 0x1p60) / 3.0;
    CT_CHECK(fabs(ct_hist_mean(h) - mean) <= 1e-12 * mean, "mean with huge values");

    ct_hist_reset(h);
    ct_hist_record(h, UINT64_MAX);
    ct_hist_record(h, UINT64_MAX);
    CT_CHECK(ct_hist_max(h) == UINT64_MAX && ct_hist_min(h) == UINT64_MAX, "UINT64_MAX");
    CT_CHECK(ct_hist_percentile(h, 50) == UINT64_MAX, "p50 of UINT64_MAX");
    CT_CHECK(ct_hist_stdev(h) == 0.0, "stdev of equal huge values");

    static const double bad[] = {-1.0, 100.5, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        CT_CHECK(ct_hist_percentile(h, bad[i]) == 0 && errno == EINVAL, "p = %g accepted",
                 bad[i]);
    }

    /* NULL reads as empty and is ignored, never a crash. */
    ct_hist_record(NULL, 1);
    ct_hist_record_n(NULL, 1, 2);
    ct_hist_merge(NULL, h);
    ct_hist_merge(h, NULL);
    ct_hist_reset(NULL);
    CT_CHECK(ct_hist_count(NULL) == 0 && ct_hist_percentile(NULL, 50) == 0, "NULL");
    ct_hist_destroy(h);
}

int main(void)
{
    test_distributions();
    test_bucket_bounds();
    test_merge();
    test_empty_reset_record_n();
    test_huge_and_invalid();
    printf("test_histogram: ok\n");
    return 0;
}
