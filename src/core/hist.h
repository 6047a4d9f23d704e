/* SPDX-License-Identifier: MIT */
/*
 * hist: a fixed-size, HdrHistogram-style log-linear histogram of uint64_t
 * values (typically latencies in nanoseconds).
 *
 * Values 0..255 each have their own bucket (exact). Above that, every
 * power-of-two range [2^e, 2^(e+1)) is split into 128 equal sub-buckets,
 * so a bucket [lo, hi] always has (hi - lo + 1) <= lo / 128: any value
 * reported for a bucket is within 1/128 (< 0.79%) of every value recorded
 * into it. This is HdrHistogram with 2 significant digits (256
 * sub-buckets, half of them per magnitude) and unit resolution.
 *
 * Values 0 .. ND_HIST_MAX_VALUE (2^47 - 1, about 39 hours in ns) are in
 * range. Larger values are clamped into the top bucket and also counted in
 * `overflow`, so they are never lost silently; min, max, count and mean
 * stay exact for them.
 *
 * The struct has no pointers and needs no allocation: embed it, copy it,
 * merge it. An all-zero struct (memset, calloc, a zeroed flow-table value)
 * is a valid empty histogram; nd_hist_init just produces one. Not thread
 * safe: one writer, or external locking. Counts are uint64_t and are not
 * checked for wrap-around (that needs 2^64 records).
 */
#ifndef NETDX_CORE_HIST_H
#define NETDX_CORE_HIST_H

#include <stdint.h>

#define ND_HIST_SUB_BITS 7                          /* 128 sub-buckets per magnitude */
#define ND_HIST_RANGE_BITS 47
#define ND_HIST_MAX_VALUE ((UINT64_C(1) << ND_HIST_RANGE_BITS) - 1)
#define ND_HIST_NBUCKETS                                                       \
	((ND_HIST_RANGE_BITS - ND_HIST_SUB_BITS + 1) << ND_HIST_SUB_BITS)  /* 5248 */

struct nd_hist {
	uint64_t count;         /* values recorded, overflow included */
	uint64_t min_inv;       /* ~min, so that all-zero means "no minimum yet" */
	uint64_t max;
	uint64_t overflow;      /* values > ND_HIST_MAX_VALUE (also in the top bucket) */
	uint64_t sum_lo, sum_hi;  /* exact 128-bit sum of all values */
	uint64_t counts[ND_HIST_NBUCKETS];
};

/* nd_hist_init - make @h an empty histogram (same as zero-filling it). */
void nd_hist_init(struct nd_hist *h);

/* nd_hist_record - record one value @v. O(1), no branches on the data
 * beyond min/max selects. Values above ND_HIST_MAX_VALUE go to the top
 * bucket and are counted in the overflow counter. */
void nd_hist_record(struct nd_hist *h, uint64_t v);

/* nd_hist_record_n - record @v @n times; same result as @n calls of
 * nd_hist_record. @n == 0 does nothing. */
void nd_hist_record_n(struct nd_hist *h, uint64_t v, uint64_t n);

/* nd_hist_merge - add every value of @src into @dst; the result equals
 * recording both sets into one histogram. @dst and @src may be the same
 * histogram (it then doubles). */
void nd_hist_merge(struct nd_hist *dst, const struct nd_hist *src);

/* nd_hist_count - number of values recorded (overflowed ones included). */
uint64_t nd_hist_count(const struct nd_hist *h);

/* nd_hist_min - the exact smallest value recorded; 0 if empty. */
uint64_t nd_hist_min(const struct nd_hist *h);

/* nd_hist_max - the exact largest value recorded (even above the range);
 * 0 if empty. */
uint64_t nd_hist_max(const struct nd_hist *h);

/*
 * nd_hist_mean - the mean of the recorded values; 0.0 if empty. The sum is
 * kept exactly in 128 bits (two uint64_t with carry, products split into
 * 32-bit halves), so it cannot overflow before the count does; the only
 * error is the final division, done in long double.
 */
double nd_hist_mean(const struct nd_hist *h);

/* nd_hist_overflow - number of values recorded above ND_HIST_MAX_VALUE. */
uint64_t nd_hist_overflow(const struct nd_hist *h);

/*
 * nd_hist_percentile - the value at percentile @p: the upper bound of the
 * first bucket at which at least @p% of the values are <= it, capped at
 * the exact max. So the result is >= the exact percentile of the recorded
 * values and at most 1/128 above it. 0 if empty. @p <= 0 (or NaN) returns
 * the exact min, @p >= 100 the exact max. A rank a few ulps above an
 * integer is rounded down, so decimal percentiles (99.99) mean what they
 * say despite binary rounding. If the rank falls among overflowed values,
 * the result is the exact max (an upper bound, not within 1/128).
 */
uint64_t nd_hist_percentile(const struct nd_hist *h, double p);

/*
 * nd_hist_foreach - call @fn(@ctx, lo, hi, count) for each non-empty
 * bucket in increasing order; every value counted in that bucket lies in
 * [lo, hi]. When values overflowed, the top bucket is reported with
 * hi = the exact max so that this still holds. @fn must not be NULL and
 * must not modify @h.
 */
void nd_hist_foreach(const struct nd_hist *h,
		     void (*fn)(void *ctx, uint64_t lo, uint64_t hi, uint64_t count),
		     void *ctx);

/*
 * nd_hist_bucket_bounds - the bounds [*lo, *hi] of the bucket @v is
 * recorded into (for values above the range: the top bucket, whose hi is
 * ND_HIST_MAX_VALUE). For v < 256, lo == hi == v; otherwise
 * hi - lo + 1 <= lo / 128. Useful for axis labels and for tests.
 */
void nd_hist_bucket_bounds(uint64_t v, uint64_t *lo, uint64_t *hi);

#endif
