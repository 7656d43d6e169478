/* contend/histogram.h: a log-linear latency histogram (HdrHistogram-style).
 *
 * Values are unsigned 64-bit (the harness records nanoseconds). Layout: values below
 * CT_HIST_SUB_BUCKETS are counted exactly; above, each power-of-two range [2^e, 2^(e+1)) is
 * split into CT_HIST_SUB_BUCKETS/2 equal sub-buckets, so a bucket is at most 1/64 of its
 * lower bound wide and the value reported for it (its midpoint) is within 1/128 < 0.8% of
 * any value recorded into it. Values up to 2^CT_HIST_MAX_EXP are bucketed; larger values are
 * counted in the top bucket, and max stays exact.
 *
 * Recording is wait-free and touches only the histogram: one histogram per thread, merged
 * after the threads are joined. Not thread-safe: callers serialize (one owner thread).
 * Count, min, max, mean and standard deviation are exact (running sums), percentiles carry the
 * bucket error above.
 */
#ifndef CONTEND_HISTOGRAM_H
#define CONTEND_HISTOGRAM_H

#include <stdbool.h>
#include <stdint.h>

#define CT_HIST_SUB_BUCKETS 128u /* per power of two: 64 in the upper half -> error <= 1/128 */
#define CT_HIST_MAX_EXP 44u      /* 2^44 ns ~ 4.9 hours */

typedef struct ct_hist ct_hist;

ct_hist *ct_hist_create(void);          /* NULL + errno ENOMEM */
void ct_hist_destroy(ct_hist *h);
void ct_hist_reset(ct_hist *h);
void ct_hist_record(ct_hist *h, uint64_t value);
void ct_hist_record_n(ct_hist *h, uint64_t value, uint64_t count);
void ct_hist_merge(ct_hist *into, const ct_hist *from);

uint64_t ct_hist_count(const ct_hist *h);
uint64_t ct_hist_min(const ct_hist *h);  /* 0 when empty */
uint64_t ct_hist_max(const ct_hist *h);  /* 0 when empty */
double ct_hist_mean(const ct_hist *h);   /* 0 when empty */
double ct_hist_stdev(const ct_hist *h);  /* population standard deviation; 0 when empty */
/* The value at percentile p in [0, 100]: the smallest bucket value v such that at least
 * p% of the recorded values are <= v (nearest-rank). p = 100 returns the exact max. */
uint64_t ct_hist_percentile(const ct_hist *h, double p);

#endif
