/* SPDX-License-Identifier: MIT */
#include "core/hist.h"

#include <float.h>
#include <string.h>

/*
 * Bucket index: with e = floor(log2(max(v, 128))) and shift = e - 7, the
 * index is shift * 128 + (v >> shift). For v < 256 the shift is 0 and the
 * index is v itself; for e >= 8, v >> shift is in [128, 256), so each
 * magnitude takes 128 consecutive indices and the ranges tile [0, 2^47).
 */
#define SUB_HALF (UINT64_C(1) << ND_HIST_SUB_BITS)   /* 128 */
#define TOP_INDEX (ND_HIST_NBUCKETS - 1)

_Static_assert(ND_HIST_NBUCKETS == 5248, "bucket count");

static unsigned msb64(uint64_t x)   /* x != 0 */
{
#if defined(__GNUC__) || defined(__clang__)
	return 63u - (unsigned)__builtin_clzll(x);
#else
	unsigned r = 0;

	while (x >>= 1)
		r++;
	return r;
#endif
}

static unsigned index_of(uint64_t v)
{
	uint64_t c = v > ND_HIST_MAX_VALUE ? ND_HIST_MAX_VALUE : v;
	unsigned shift = msb64(c | (2 * SUB_HALF - 1)) - ND_HIST_SUB_BITS;

	return (unsigned)(((uint64_t)shift << ND_HIST_SUB_BITS) + (c >> shift));
}

static uint64_t bucket_lo(unsigned i)
{
	unsigned shift;

	if (i < 2 * SUB_HALF)
		return i;
	shift = (i >> ND_HIST_SUB_BITS) - 1;
	return (uint64_t)(i - (shift << ND_HIST_SUB_BITS)) << shift;
}

static uint64_t bucket_hi(unsigned i)
{
	unsigned shift;

	if (i < 2 * SUB_HALF)
		return i;
	shift = (i >> ND_HIST_SUB_BITS) - 1;
	return bucket_lo(i) + (UINT64_C(1) << shift) - 1;
}

/* *lo:*hi += a * b, exactly, without a 128-bit type. */
static void add_product(uint64_t *lo, uint64_t *hi, uint64_t a, uint64_t b)
{
	const uint64_t m = 0xffffffffu;
	uint64_t a0 = a & m, a1 = a >> 32, b0 = b & m, b1 = b >> 32;
	uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
	uint64_t mid = (p00 >> 32) + (p01 & m) + (p10 & m);  /* < 3 * 2^32 */
	uint64_t plo = (mid << 32) | (p00 & m);
	uint64_t phi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);

	*lo += plo;
	*hi += phi + (*lo < plo);
}

void nd_hist_init(struct nd_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void nd_hist_record(struct nd_hist *h, uint64_t v)
{
	uint64_t inv = ~v;

	h->counts[index_of(v)]++;
	h->count++;
	h->overflow += v > ND_HIST_MAX_VALUE;
	h->min_inv = inv > h->min_inv ? inv : h->min_inv;
	h->max = v > h->max ? v : h->max;
	h->sum_lo += v;
	h->sum_hi += h->sum_lo < v;
}

void nd_hist_record_n(struct nd_hist *h, uint64_t v, uint64_t n)
{
	uint64_t inv = ~v;

	if (n == 0)
		return;
	h->counts[index_of(v)] += n;
	h->count += n;
	if (v > ND_HIST_MAX_VALUE)
		h->overflow += n;
	h->min_inv = inv > h->min_inv ? inv : h->min_inv;
	h->max = v > h->max ? v : h->max;
	add_product(&h->sum_lo, &h->sum_hi, v, n);
}

void nd_hist_merge(struct nd_hist *dst, const struct nd_hist *src)
{
	/* Read src's scalars first: dst and src may alias. */
	uint64_t count = src->count, min_inv = src->min_inv, max = src->max;
	uint64_t overflow = src->overflow, slo = src->sum_lo, shi = src->sum_hi;
	size_t i;

	for (i = 0; i < ND_HIST_NBUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->count += count;
	dst->overflow += overflow;
	dst->min_inv = min_inv > dst->min_inv ? min_inv : dst->min_inv;
	dst->max = max > dst->max ? max : dst->max;
	dst->sum_lo += slo;
	dst->sum_hi += shi + (dst->sum_lo < slo);
}

uint64_t nd_hist_count(const struct nd_hist *h)
{
	return h->count;
}

uint64_t nd_hist_min(const struct nd_hist *h)
{
	return h->count ? ~h->min_inv : 0;
}

uint64_t nd_hist_max(const struct nd_hist *h)
{
	return h->count ? h->max : 0;
}

double nd_hist_mean(const struct nd_hist *h)
{
	long double sum;

	if (h->count == 0)
		return 0.0;
	sum = (long double)h->sum_hi * 18446744073709551616.0L +
	      (long double)h->sum_lo;
	return (double)(sum / (long double)h->count);
}

uint64_t nd_hist_overflow(const struct nd_hist *h)
{
	return h->overflow;
}

uint64_t nd_hist_percentile(const struct nd_hist *h, double p)
{
	uint64_t rank, cum = 0, max = h->max;
	long double t;
	unsigned i, last;

	if (h->count == 0)
		return 0;
	if (!(p > 0))
		return ~h->min_inv;
	if (p >= 100)
		return max;

	/* rank = ceil(p% of count), tolerant of binary rounding in p. */
	t = (long double)p * (long double)h->count / 100.0L;
	if (t >= (long double)h->count) {
		rank = h->count;
	} else {
		rank = (uint64_t)t;
		if (t - (long double)rank > t * (4 * DBL_EPSILON))
			rank++;
	}
	if (rank == 0)
		rank = 1;

	last = index_of(max);
	for (i = index_of(~h->min_inv); i <= last; i++) {
		uint64_t c = h->counts[i];
		uint64_t hi;

		if (cum + c < rank) {
			cum += c;
			continue;
		}
		/* Overflowed values sit above the in-range ones of the top bucket. */
		if (i == TOP_INDEX && rank > cum + (c - h->overflow))
			return max;
		hi = bucket_hi(i);
		return hi < max ? hi : max;
	}
	return max;   /* unreachable while counts and count agree */
}

void nd_hist_foreach(const struct nd_hist *h,
		     void (*fn)(void *ctx, uint64_t lo, uint64_t hi, uint64_t count),
		     void *ctx)
{
	unsigned i, last;

	if (h->count == 0)
		return;
	last = index_of(h->max);
	for (i = index_of(~h->min_inv); i <= last; i++) {
		uint64_t hi;

		if (h->counts[i] == 0)
			continue;
		hi = bucket_hi(i);
		if (i == TOP_INDEX && h->overflow && h->max > hi)
			hi = h->max;
		fn(ctx, bucket_lo(i), hi, h->counts[i]);
	}
}

void nd_hist_bucket_bounds(uint64_t v, uint64_t *lo, uint64_t *hi)
{
	unsigned i = index_of(v);

	*lo = bucket_lo(i);
	*hi = bucket_hi(i);
}
