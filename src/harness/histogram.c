/* Log-linear latency histogram: see contend/histogram.h for the contract.
 *
 * Buckets (one flat array of counters, in increasing value order, so a prefix sum over the
 * array is a walk through the sorted samples):
 *   index v              for v < 128                 exact
 *   index 64*(e-6) + (v >> (e-6))   for 2^e <= v < 2^(e+1), 7 <= e < 44
 *                        v >> (e-6) is in [64, 128): 64 sub-buckets of width 2^(e-6), so
 *                        e = 7 maps to 128..191, e = 8 to 192..255, ... e = 43 to ..2495
 *   index 2496 (TOP)     for v >= 2^44: an overflow bucket, reported as the exact max
 * A bucketed value v lies in [lo, lo + w) with lo >= 2^e and w = 2^(e-6); the reported value
 * is the midpoint lo + w/2, which is at most w/2 = 2^(e-7) <= v/128 away from v. Reported
 * values are also clamped to [min, max], which can only move them closer to the truth.
 *
 * Stats are exact integers, not floating-point running sums: sum of values in 128 bits
 * (< 2^64 values of < 2^64 each cannot overflow it) and sum of squares in 192 bits (squares
 * are < 2^128). Recording costs one 64x64->128 multiply and a few carrying adds; merging is
 * exact addition. The variance is then (n*S2 - S1^2) / n^2 with the numerator computed
 * exactly in 256 bits, so there is no cancellation however small the spread is next to the
 * mean, and the only rounding is the final conversion to long double (relative error ~1e-19
 * on x86_64, less on aarch64). The total count itself is a uint64_t and wraps after 2^64.
 *
 * Percentiles are nearest-rank: rank = ceil(p/100 * n), where p/100*n within a relative 1e-12
 * of an integer is taken as that integer so that e.g. p = 99.9 (not exact in binary) on
 * n = 1000 gives rank 999, not 1000. p = 0 gives min, p = 100 gives max; p outside [0, 100]
 * or NaN sets errno = EINVAL and returns 0. A NULL histogram reads as empty and is ignored by
 * the mutating calls: nothing here aborts.
 */
#include "contend/histogram.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 ct_u128;

#define CT_HIST_EXACT CT_HIST_SUB_BUCKETS               /* values below are their own bucket */
#define CT_HIST_HALF (CT_HIST_SUB_BUCKETS / 2u)         /* sub-buckets per power of two */
#define CT_HIST_LOG_HALF 6u                             /* log2(CT_HIST_HALF) */
#define CT_HIST_FIRST_EXP 7u                            /* log2(CT_HIST_EXACT) */
#define CT_HIST_TOP (CT_HIST_EXACT + (CT_HIST_MAX_EXP - CT_HIST_FIRST_EXP) * CT_HIST_HALF)
#define CT_HIST_NBUCKETS (CT_HIST_TOP + 1u)

_Static_assert(CT_HIST_HALF == 1u << CT_HIST_LOG_HALF, "sub-bucket count must match its log");
_Static_assert(CT_HIST_EXACT == 1u << CT_HIST_FIRST_EXP, "exact range must be a power of two");
_Static_assert(CT_HIST_MAX_EXP < 64u, "bucketed range must fit in 64 bits");

struct ct_hist {
    uint64_t count;
    uint64_t min; /* UINT64_MAX when empty */
    uint64_t max;
    ct_u128 sum;
    ct_u128 sumsq_lo; /* sum of squares = sumsq_hi * 2^128 + sumsq_lo */
    uint64_t sumsq_hi;
    uint64_t counts[CT_HIST_NBUCKETS];
};

static inline unsigned bucket_of(uint64_t v)
{
    if (v < CT_HIST_EXACT)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* v != 0 here */
    if (e >= CT_HIST_MAX_EXP)
        return CT_HIST_TOP;
    unsigned shift = e - CT_HIST_LOG_HALF;
    return (shift << CT_HIST_LOG_HALF) + (unsigned)(v >> shift);
}

/* Midpoint of a bucket below TOP (exact buckets: the value itself). */
static uint64_t bucket_value(unsigned idx)
{
    if (idx < CT_HIST_EXACT)
        return idx;
    unsigned shift = idx / CT_HIST_HALF - 1u; /* = e - 6 */
    uint64_t lo = (uint64_t)(idx % CT_HIST_HALF + CT_HIST_HALF) << shift;
    return lo + ((uint64_t)1 << (shift - 1u));
}

static void clear(ct_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

ct_hist *ct_hist_create(void)
{
    ct_hist *h = calloc(1, sizeof *h);
    if (!h) {
        errno = ENOMEM;
        return NULL;
    }
    h->min = UINT64_MAX;
    return h;
}

void ct_hist_destroy(ct_hist *h) { free(h); }

void ct_hist_reset(ct_hist *h)
{
    if (h)
        clear(h);
}

static inline void add_sumsq(ct_hist *h, ct_u128 lo, uint64_t hi)
{
    ct_u128 old = h->sumsq_lo;
    h->sumsq_lo = old + lo;
    h->sumsq_hi += hi + (h->sumsq_lo < old);
}

void ct_hist_record(ct_hist *h, uint64_t value)
{
    if (!h)
        return;
    h->counts[bucket_of(value)]++;
    h->count++;
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
    h->sum += value;
    add_sumsq(h, (ct_u128)value * value, 0);
}

void ct_hist_record_n(ct_hist *h, uint64_t value, uint64_t count)
{
    if (!h || count == 0)
        return;
    h->counts[bucket_of(value)] += count;
    h->count += count;
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
    h->sum += (ct_u128)value * count;
    /* value^2 * count as 192 bits: (sq1:sq0) * count */
    ct_u128 sq = (ct_u128)value * value;
    ct_u128 p0 = (ct_u128)(uint64_t)sq * count;
    ct_u128 p1 = (ct_u128)(uint64_t)(sq >> 64) * count + (uint64_t)(p0 >> 64);
    ct_u128 lo = ((ct_u128)(uint64_t)p1 << 64) | (uint64_t)p0;
    add_sumsq(h, lo, (uint64_t)(p1 >> 64));
}

void ct_hist_merge(ct_hist *into, const ct_hist *from)
{
    if (!into || !from || from->count == 0)
        return;
    for (unsigned i = 0; i < CT_HIST_NBUCKETS; i++)
        into->counts[i] += from->counts[i];
    into->count += from->count;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
    into->sum += from->sum;
    add_sumsq(into, from->sumsq_lo, from->sumsq_hi);
}

uint64_t ct_hist_count(const ct_hist *h) { return h ? h->count : 0; }

uint64_t ct_hist_min(const ct_hist *h) { return h && h->count ? h->min : 0; }

uint64_t ct_hist_max(const ct_hist *h) { return h && h->count ? h->max : 0; }

static long double u128_to_ld(ct_u128 x)
{
    return ldexpl((long double)(uint64_t)(x >> 64), 64) + (long double)(uint64_t)x;
}

double ct_hist_mean(const ct_hist *h)
{
    if (!h || h->count == 0)
        return 0.0;
    return (double)(u128_to_ld(h->sum) / (long double)h->count);
}

/* 256-bit helpers, little-endian 64-bit limbs. */
static void mul_1x3(uint64_t a, const uint64_t b[3], uint64_t out[4])
{
    uint64_t carry = 0;
    for (int i = 0; i < 3; i++) {
        ct_u128 p = (ct_u128)a * b[i] + carry;
        out[i] = (uint64_t)p;
        carry = (uint64_t)(p >> 64);
    }
    out[3] = carry;
}

static void mul_2x2(const uint64_t a[2], const uint64_t b[2], uint64_t out[4])
{
    memset(out, 0, 4 * sizeof out[0]);
    for (int i = 0; i < 2; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < 2; j++) {
            ct_u128 p = (ct_u128)a[i] * b[j] + out[i + j] + carry;
            out[i + j] = (uint64_t)p;
            carry = (uint64_t)(p >> 64);
        }
        out[i + 2] = carry;
    }
}

double ct_hist_stdev(const ct_hist *h)
{
    if (!h || h->count < 2)
        return 0.0;
    /* D = n*S2 - S1^2 >= 0 (Cauchy-Schwarz), exact in 256 bits. */
    const uint64_t s2[3] = {(uint64_t)h->sumsq_lo, (uint64_t)(h->sumsq_lo >> 64), h->sumsq_hi};
    const uint64_t s1[2] = {(uint64_t)h->sum, (uint64_t)(h->sum >> 64)};
    uint64_t a[4], b[4], d[4];
    mul_1x3(h->count, s2, a);
    mul_2x2(s1, s1, b);
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        ct_u128 diff = (ct_u128)a[i] - b[i] - borrow;
        d[i] = (uint64_t)diff;
        borrow = (uint64_t)(diff >> 64) & 1u;
    }
    if (borrow) /* impossible for consistent sums; guard against a wrapped count */
        return 0.0;
    long double num = 0.0L;
    for (int i = 3; i >= 0; i--)
        num = ldexpl(num, 64) + (long double)d[i];
    long double n = (long double)h->count;
    return (double)sqrtl(num / n / n);
}

/* Nearest rank in 1..count of percentile p in (0, 100). */
static uint64_t nearest_rank(double p, uint64_t count)
{
    long double x = (long double)p / 100.0L * (long double)count;
    long double r = nearbyintl(x);
    if (fabsl(x - r) <= x * 1e-12L)
        x = r;
    long double c = ceill(x);
    if (c < 1.0L)
        return 1;
    if (c >= (long double)count)
        return count;
    return (uint64_t)c;
}

uint64_t ct_hist_percentile(const ct_hist *h, double p)
{
    if (!(p >= 0.0 && p <= 100.0)) {
        errno = EINVAL;
        return 0;
    }
    if (!h || h->count == 0)
        return 0;
    if (p == 0.0)
        return h->min;
    if (p == 100.0)
        return h->max;
    uint64_t rank = nearest_rank(p, h->count);
    uint64_t seen = 0;
    for (unsigned i = 0; i < CT_HIST_NBUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            if (i == CT_HIST_TOP)
                return h->max;
            uint64_t v = bucket_value(i);
            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max; /* unreachable while counts sum to count */
}
