/* SPDX-License-Identifier: MIT */
/* Unit tests of the log-linear histogram (src/core/hist.c) and the small
 * statistics helpers (src/core/stats.c). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"
#include "core/stats.h"
#include "nd_test.h"

#define NVALUES 100000

/* --- deterministic pseudo-random numbers (64-bit LCG, MMIX constants) --- */

static uint64_t lcg_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
	lcg_state = lcg_state * 6364136223846793005u + 1442695040888963407u;
	/* The low bits of an LCG are weak: fold the high half down. */
	return lcg_state ^ (lcg_state >> 29);
}

static double rnd_unit(void)   /* [0, 1) */
{
	return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0);
}

/* --- helpers --- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Both histograms hold the same data: every field and every bucket. */
static int hist_equal(const struct nd_hist *a, const struct nd_hist *b)
{
	size_t i;

	if (a->count != b->count || a->min_inv != b->min_inv || a->max != b->max ||
	    a->overflow != b->overflow || a->sum_lo != b->sum_lo ||
	    a->sum_hi != b->sum_hi)
		return 0;
	for (i = 0; i < ND_HIST_NBUCKETS; i++)
		if (a->counts[i] != b->counts[i])
			return 0;
	return 1;
}

/* The bucket of v obeys the contract: contains v (clamped), exact below
 * 256, relative width <= 1/128 above. Returns 1 if so. */
static int bounds_ok(uint64_t v)
{
	uint64_t lo, hi, c = v > ND_HIST_MAX_VALUE ? ND_HIST_MAX_VALUE : v;

	nd_hist_bucket_bounds(v, &lo, &hi);
	if (!(lo <= c && c <= hi))
		return 0;
	if (c < 256)
		return lo == c && hi == c;
	/* width is a power of two, lo a multiple of it, width <= lo / 128 */
	if (((hi - lo + 1) & (hi - lo)) != 0 || lo % (hi - lo + 1) != 0)
		return 0;
	return (hi - lo + 1) * 128 <= lo;
}

static const double pcts[] = { 0, 50, 90, 99, 99.9, 99.99, 100 };
static const uint64_t pcts_e4[] = { 0, 5000, 9000, 9900, 9990, 9999, 10000 };

/* ceil(p_e4 * n / 10000) in integers, at least 1: the rank of the
 * smallest value with at least p% of the values <= it. */
static size_t rank_of(uint64_t p_e4, size_t n)
{
	uint64_t r = (p_e4 * n + 9999) / 10000;

	return r ? (size_t)r : 1;
}

/* The histogram's answer for a rank whose exact value is `exact`. */
static int pct_ok(uint64_t got, uint64_t exact)
{
	if (got < exact)
		return 0;
	if (exact < 256)
		return got == exact;
	return (got - exact) * 128 <= exact;   /* within 1/128 < 1% */
}

/*
 * Record v[0..n) and compare against the sorted values: count, min, max,
 * mean exact; percentiles of pcts[] and of every integer p in 1..99 are
 * >= the exact value and within 1/128 of it. Returns the number of
 * mismatches (and prints them).
 */
static int check_against_sort(uint64_t *v, size_t n)
{
	struct nd_hist *h = malloc(sizeof(*h));
	uint64_t sum = 0;
	long double exact_mean;
	double mean;
	int bad = 0;
	size_t i;

	if (!h)
		return 1;
	nd_hist_init(h);
	for (i = 0; i < n; i++) {
		nd_hist_record(h, v[i]);
		sum += v[i];   /* test data keeps this below 2^64 */
	}
	qsort(v, n, sizeof(*v), cmp_u64);

	ND_CHECK_EQ(nd_hist_count(h), n);
	ND_CHECK(nd_hist_min(h) == v[0]);
	ND_CHECK(nd_hist_max(h) == v[n - 1]);
	ND_CHECK_EQ(nd_hist_overflow(h), 0);
	exact_mean = (long double)sum / (long double)n;
	mean = nd_hist_mean(h);
	ND_CHECK(fabsl((long double)mean - exact_mean) <= exact_mean * 4 * DBL_EPSILON);

	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		uint64_t exact = v[rank_of(pcts_e4[i], n) - 1];
		uint64_t got = nd_hist_percentile(h, pcts[i]);

		if (!pct_ok(got, exact)) {
			printf("# p%g: got %" PRIu64 ", exact %" PRIu64 "\n", pcts[i], got, exact);
			bad++;
		}
	}
	ND_CHECK(nd_hist_percentile(h, 0) == v[0]);
	ND_CHECK(nd_hist_percentile(h, 100) == v[n - 1]);
	for (i = 1; i < 100; i++) {
		uint64_t exact = v[rank_of(i * 100, n) - 1];
		uint64_t got = nd_hist_percentile(h, (double)i);

		if (!pct_ok(got, exact)) {
			printf("# p%zu: got %" PRIu64 ", exact %" PRIu64 "\n", i, got, exact);
			bad++;
		}
	}
	free(h);
	return bad;
}

/* foreach collector */
struct bucket {
	uint64_t lo, hi, count;
};
struct collect {
	struct bucket b[ND_HIST_NBUCKETS];
	size_t n;
	int overrun;
};

static void collect_fn(void *ctx, uint64_t lo, uint64_t hi, uint64_t count)
{
	struct collect *c = ctx;

	if (c->n >= ND_HIST_NBUCKETS) {
		c->overrun = 1;
		return;
	}
	c->b[c->n].lo = lo;
	c->b[c->n].hi = hi;
	c->b[c->n].count = count;
	c->n++;
}

/* --- histogram tests --- */

static void test_empty(void)
{
	struct nd_hist h;
	struct collect *c = calloc(1, sizeof(*c));

	memset(&h, 0xab, sizeof(h));
	nd_hist_init(&h);
	ND_CHECK_EQ(nd_hist_count(&h), 0);
	ND_CHECK_EQ(nd_hist_min(&h), 0);
	ND_CHECK_EQ(nd_hist_max(&h), 0);
	ND_CHECK_EQ(nd_hist_overflow(&h), 0);
	ND_CHECK(nd_hist_mean(&h) == 0.0);
	ND_CHECK_EQ(nd_hist_percentile(&h, 0), 0);
	ND_CHECK_EQ(nd_hist_percentile(&h, 50), 0);
	ND_CHECK_EQ(nd_hist_percentile(&h, 100), 0);
	ND_CHECK(c != NULL);
	if (c) {
		nd_hist_foreach(&h, collect_fn, c);
		ND_CHECK_EQ(c->n, 0);
	}
	free(c);
}

/* A zero-filled struct (no init call) is a valid empty histogram. */
static void test_zeroed_is_empty(void)
{
	struct nd_hist h;

	memset(&h, 0, sizeof(h));
	ND_CHECK_EQ(nd_hist_min(&h), 0);
	nd_hist_record(&h, 5000);
	nd_hist_record(&h, 7);
	ND_CHECK_EQ(nd_hist_count(&h), 2);
	ND_CHECK_EQ(nd_hist_min(&h), 7);
	ND_CHECK_EQ(nd_hist_max(&h), 5000);
}

/* Every value 0 .. 2^20 lands in a bucket that obeys the bounds contract. */
static void test_bounds_exhaustive_low(void)
{
	uint64_t v;
	size_t bad = 0;

	for (v = 0; v <= (1u << 20); v++)
		bad += !bounds_ok(v);
	ND_CHECK_EQ(bad, 0);
}

/* Walking bucket by bucket from 0 tiles [0, 2^47) with no gap or overlap
 * in exactly ND_HIST_NBUCKETS buckets, each obeying the contract. */
static void test_bounds_tiling(void)
{
	uint64_t v = 0, lo, hi, tlo, thi;
	size_t n = 0, bad = 0;

	while (v <= ND_HIST_MAX_VALUE && n <= ND_HIST_NBUCKETS) {
		nd_hist_bucket_bounds(v, &lo, &hi);
		bad += lo != v || hi < lo || !bounds_ok(v) || !bounds_ok(hi);
		n++;
		v = hi + 1;
	}
	ND_CHECK_EQ(bad, 0);
	ND_CHECK_EQ(n, ND_HIST_NBUCKETS);
	ND_CHECK(v == ND_HIST_MAX_VALUE + 1);
	/* Out-of-range values map to the top bucket. */
	nd_hist_bucket_bounds(ND_HIST_MAX_VALUE, &tlo, &thi);
	ND_CHECK(thi == ND_HIST_MAX_VALUE);
	nd_hist_bucket_bounds(ND_HIST_MAX_VALUE + 1, &lo, &hi);
	ND_CHECK(lo == tlo && hi == thi);
	nd_hist_bucket_bounds(UINT64_MAX, &lo, &hi);
	ND_CHECK(lo == tlo && hi == thi);
}

/* Random values at every magnitude, and each power of two +-2. */
static void test_bounds_random(void)
{
	size_t i, bad = 0;
	unsigned e;
	int d;

	for (i = 0; i < 200000; i++)
		bad += !bounds_ok(rnd() >> (rnd() % 64));
	for (e = 0; e < 64; e++)
		for (d = -2; d <= 2; d++)
			bad += !bounds_ok((UINT64_C(1) << e) + (uint64_t)(int64_t)d);
	ND_CHECK_EQ(bad, 0);
}

/* foreach reports exactly the recorded values' buckets, in order, with
 * the right counts; its bounds agree with nd_hist_bucket_bounds. */
static void test_foreach(void)
{
	static const uint64_t vals[] = { 0, 1, 1, 255, 256, 257, 258, 1000, 1003,
					 1u << 20, (1u << 20) + 9000, 123456789,
					 ND_HIST_MAX_VALUE, ND_HIST_MAX_VALUE + 1 };
	const size_t nv = sizeof(vals) / sizeof(vals[0]);
	struct nd_hist h;
	struct collect *c = calloc(1, sizeof(*c));
	uint64_t total = 0;
	size_t i, j;

	ND_CHECK(c != NULL);
	if (!c)
		return;
	nd_hist_init(&h);
	for (i = 0; i < nv; i++)
		nd_hist_record(&h, vals[i]);
	nd_hist_foreach(&h, collect_fn, c);
	ND_CHECK(!c->overrun);
	/* distinct buckets: 0, 1, 255, 256-257, 258-259, 1000-1003, 2^20,
	 * 2^20+9000, 123456789, top */
	ND_CHECK_EQ(c->n, 10);
	for (i = 0; i < c->n; i++) {
		uint64_t n = 0, lo, hi;

		total += c->b[i].count;
		ND_CHECK(c->b[i].count > 0);
		ND_CHECK(c->b[i].lo <= c->b[i].hi);
		if (i)
			ND_CHECK(c->b[i].lo > c->b[i - 1].hi);
		for (j = 0; j < nv; j++)
			n += vals[j] >= c->b[i].lo && vals[j] <= c->b[i].hi;
		ND_CHECK_EQ(n, c->b[i].count);
		nd_hist_bucket_bounds(c->b[i].lo, &lo, &hi);
		ND_CHECK(lo == c->b[i].lo);
		if (i + 1 < c->n)
			ND_CHECK(hi == c->b[i].hi);
	}
	ND_CHECK_EQ(total, nv);
	/* the top bucket holds an overflowed value: its hi is the exact max */
	ND_CHECK(c->b[c->n - 1].hi == ND_HIST_MAX_VALUE + 1);
	ND_CHECK_EQ(c->b[c->n - 1].count, 2);
	free(c);
}

static void test_percentile_uniform(void)
{
	uint64_t *v = malloc(NVALUES * sizeof(*v));
	size_t i;

	ND_CHECK(v != NULL);
	if (!v)
		return;
	for (i = 0; i < NVALUES; i++)
		v[i] = rnd() % 1000000000u;   /* up to 1 s */
	ND_CHECK_EQ(check_against_sort(v, NVALUES), 0);
	free(v);
}

static void test_percentile_exponential(void)
{
	uint64_t *v = malloc(NVALUES * sizeof(*v));
	size_t i;

	ND_CHECK(v != NULL);
	if (!v)
		return;
	for (i = 0; i < NVALUES; i++)   /* mean 2 ms */
		v[i] = (uint64_t)(-2e6 * log(1.0 - rnd_unit()));
	ND_CHECK_EQ(check_against_sort(v, NVALUES), 0);
	free(v);
}

/* 60% around 50 us, 39% around 5 ms, 1% Pareto (alpha 1.1) tail from 10 ms. */
static void test_percentile_bimodal(void)
{
	uint64_t *v = malloc(NVALUES * sizeof(*v));
	size_t i;

	ND_CHECK(v != NULL);
	if (!v)
		return;
	for (i = 0; i < NVALUES; i++) {
		uint64_t k = rnd() % 100;

		if (k < 60) {
			v[i] = 40000 + rnd() % 20000;
		} else if (k < 99) {
			v[i] = 4000000 + rnd() % 2000000;
		} else {
			double x = 1e7 / pow(1.0 - rnd_unit(), 1.0 / 1.1);

			v[i] = x > 1e13 ? (uint64_t)1e13 : (uint64_t)x;
		}
	}
	ND_CHECK_EQ(check_against_sort(v, NVALUES), 0);
	free(v);
}

/* Log-uniform over the whole range, including the exact values < 256. */
static void test_percentile_loguniform(void)
{
	uint64_t *v = malloc(NVALUES * sizeof(*v));
	size_t i;

	ND_CHECK(v != NULL);
	if (!v)
		return;
	for (i = 0; i < NVALUES; i++)
		v[i] = rnd() >> (17 + rnd() % 47);   /* < 2^47 */
	ND_CHECK_EQ(check_against_sort(v, NVALUES), 0);
	free(v);
}

static void test_percentile_edges(void)
{
	struct nd_hist h;

	nd_hist_init(&h);
	nd_hist_record(&h, 1000);   /* bucket 1000..1003: capped at max */
	ND_CHECK_EQ(nd_hist_percentile(&h, 0), 1000);
	ND_CHECK_EQ(nd_hist_percentile(&h, 50), 1000);
	ND_CHECK_EQ(nd_hist_percentile(&h, 100), 1000);
	ND_CHECK_EQ(nd_hist_percentile(&h, -5), 1000);
	ND_CHECK_EQ(nd_hist_percentile(&h, 150), 1000);
	ND_CHECK_EQ(nd_hist_percentile(&h, NAN), 1000);

	/* Ranks with exact (< 256) values: 9998 x 10, 2 x 200. */
	nd_hist_init(&h);
	nd_hist_record_n(&h, 10, 9998);
	nd_hist_record_n(&h, 200, 2);
	ND_CHECK_EQ(nd_hist_percentile(&h, 1e-9), 10);
	ND_CHECK_EQ(nd_hist_percentile(&h, 99.98), 10);    /* rank 9998, though 99.98 > 9998/100 in binary */
	ND_CHECK_EQ(nd_hist_percentile(&h, 99.985), 200);  /* rank 9998.5 -> 9999 */
	ND_CHECK_EQ(nd_hist_percentile(&h, 99.99), 200);
	ND_CHECK_EQ(nd_hist_percentile(&h, 100), 200);
	ND_CHECK_EQ(nd_hist_percentile(&h, 0), 10);

	/* A percentile inside a wide bucket is capped at the exact max. */
	nd_hist_init(&h);
	nd_hist_record(&h, 100);
	nd_hist_record(&h, (UINT64_C(1) << 40) + 1);   /* bucket width 2^33 */
	ND_CHECK(nd_hist_percentile(&h, 99) == (UINT64_C(1) << 40) + 1);
	ND_CHECK_EQ(nd_hist_percentile(&h, 50), 100);
}

static void test_min_max_count_mean(void)
{
	struct nd_hist h;

	nd_hist_init(&h);
	nd_hist_record(&h, 300);
	nd_hist_record(&h, 1000001);
	nd_hist_record(&h, 299);
	nd_hist_record(&h, 77777);
	ND_CHECK_EQ(nd_hist_count(&h), 4);
	ND_CHECK_EQ(nd_hist_min(&h), 299);
	ND_CHECK_EQ(nd_hist_max(&h), 1000001);
	ND_CHECK(nd_hist_mean(&h) == (300.0 + 1000001.0 + 299.0 + 77777.0) / 4);
}

/* The running sum is 128-bit: it neither wraps nor loses the carry. */
static void test_mean_no_wrap(void)
{
	struct nd_hist h;
	double m;

	nd_hist_init(&h);
	nd_hist_record(&h, UINT64_MAX);
	nd_hist_record(&h, UINT64_MAX);
	nd_hist_record(&h, 2);
	m = nd_hist_mean(&h);   /* 2^65 / 3 */
	ND_CHECK(fabs(m - 36893488147419103232.0 / 3) <= m * 2 * DBL_EPSILON);

	nd_hist_init(&h);
	nd_hist_record_n(&h, UINT64_MAX, UINT64_C(1) << 40);
	nd_hist_record_n(&h, 1, UINT64_C(1) << 40);
	ND_CHECK(nd_hist_mean(&h) == 9223372036854775808.0);   /* 2^104 / 2^41 */
	ND_CHECK(h.sum_hi == UINT64_C(1) << 40 && h.sum_lo == 0);

#ifdef __SIZEOF_INT128__
	{
		__extension__ typedef unsigned __int128 u128;
		u128 want = 0;
		size_t i;

		nd_hist_init(&h);
		for (i = 0; i < 10000; i++) {
			uint64_t v = rnd() >> (rnd() % 64), n = rnd() >> (16 + rnd() % 48);

			nd_hist_record_n(&h, v, n % 4 ? n : 1);
			want += (u128)v * (n % 4 ? n : 1);
		}
		ND_CHECK(h.sum_lo == (uint64_t)want);
		ND_CHECK(h.sum_hi == (uint64_t)(want >> 64));
	}
#endif
}

static void test_record_n(void)
{
	static const uint64_t vals[] = { 0, 1, 255, 256, 1000, 123456789, ND_HIST_MAX_VALUE,
					 ND_HIST_MAX_VALUE + 1, UINT64_MAX };
	static const uint64_t ns[] = { 1, 2, 3, 17, 1000 };
	struct nd_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	size_t i, j, k;

	ND_CHECK(a && b);
	if (!a || !b)
		goto out;
	nd_hist_init(a);
	nd_hist_init(b);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		for (j = 0; j < sizeof(ns) / sizeof(ns[0]); j++) {
			nd_hist_record_n(a, vals[i], ns[j]);
			for (k = 0; k < ns[j]; k++)
				nd_hist_record(b, vals[i]);
		}
	}
	ND_CHECK(hist_equal(a, b));
	ND_CHECK_EQ(nd_hist_overflow(a), 2 * (1 + 2 + 3 + 17 + 1000));

	/* n == 0 changes nothing, not even min or max. */
	nd_hist_init(a);
	nd_hist_record(a, 500);
	nd_hist_record_n(a, 3, 0);
	nd_hist_record_n(a, UINT64_MAX, 0);
	nd_hist_init(b);
	nd_hist_record(b, 500);
	ND_CHECK(hist_equal(a, b));
out:
	free(a);
	free(b);
}

static void test_merge(void)
{
	struct nd_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct nd_hist *c = malloc(sizeof(*c)), *d = malloc(sizeof(*d));
	size_t i;

	ND_CHECK(a && b && c && d);
	if (!a || !b || !c || !d)
		goto out;
	nd_hist_init(a);
	nd_hist_init(b);
	nd_hist_init(c);
	for (i = 0; i < 50000; i++) {
		uint64_t x = rnd() % 1000000, y = 50000000 + (rnd() >> (rnd() % 64));

		nd_hist_record(a, x);
		nd_hist_record(c, x);
		nd_hist_record(b, y);
		nd_hist_record(c, y);
	}
	ND_CHECK(nd_hist_overflow(b) > 0);   /* the merge carries overflow too */
	memcpy(d, a, sizeof(*d));
	nd_hist_merge(a, b);
	ND_CHECK(hist_equal(a, c));
	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		ND_CHECK(nd_hist_percentile(a, pcts[i]) == nd_hist_percentile(c, pcts[i]));
	ND_CHECK(nd_hist_mean(a) == nd_hist_mean(c));

	/* merging the other way round gives the same */
	nd_hist_merge(b, d);
	ND_CHECK(hist_equal(b, c));

	/* empty into full and full into empty */
	nd_hist_init(d);
	nd_hist_merge(a, d);
	ND_CHECK(hist_equal(a, c));
	nd_hist_merge(d, c);
	ND_CHECK(hist_equal(d, c));

	/* self-merge doubles: same as merging a copy */
	memcpy(d, c, sizeof(*d));
	nd_hist_merge(d, c);
	nd_hist_merge(c, c);
	ND_CHECK(hist_equal(c, d));
	ND_CHECK_EQ(nd_hist_count(c), 200000);

	/* the 128-bit sums add with carry */
	nd_hist_init(a);
	nd_hist_init(b);
	nd_hist_init(c);
	nd_hist_record(a, UINT64_MAX);
	nd_hist_record(b, 3);
	nd_hist_record(c, UINT64_MAX);
	nd_hist_record(c, 3);
	nd_hist_merge(a, b);
	ND_CHECK(hist_equal(a, c));
	ND_CHECK(a->sum_hi == 1 && a->sum_lo == 2);
out:
	free(a);
	free(b);
	free(c);
	free(d);
}

static void test_overflow(void)
{
	struct nd_hist h;
	double m;

	nd_hist_init(&h);
	nd_hist_record(&h, ND_HIST_MAX_VALUE);        /* in range */
	ND_CHECK_EQ(nd_hist_overflow(&h), 0);
	nd_hist_record(&h, ND_HIST_MAX_VALUE + 1);    /* 2^47 */
	nd_hist_record(&h, UINT64_MAX);
	ND_CHECK_EQ(nd_hist_overflow(&h), 2);
	ND_CHECK_EQ(nd_hist_count(&h), 3);
	ND_CHECK(nd_hist_min(&h) == ND_HIST_MAX_VALUE);
	ND_CHECK(nd_hist_max(&h) == UINT64_MAX);
	ND_CHECK(h.counts[ND_HIST_NBUCKETS - 1] == 3);   /* clamped to the top bucket */
	/* rank 1 is the in-range value; ranks 2 and 3 overflowed: the max */
	ND_CHECK(nd_hist_percentile(&h, 10) == ND_HIST_MAX_VALUE);
	ND_CHECK(nd_hist_percentile(&h, 50) == UINT64_MAX);
	ND_CHECK(nd_hist_percentile(&h, 100) == UINT64_MAX);
	m = nd_hist_mean(&h);
	ND_CHECK(fabs(m - ((double)ND_HIST_MAX_VALUE * 2 + 1 + 18446744073709551615.0) / 3) <=
		 m * 2 * DBL_EPSILON);
}

static void test_extremes(void)
{
	struct nd_hist h;

	nd_hist_init(&h);
	nd_hist_record(&h, 0);
	nd_hist_record(&h, UINT64_MAX);
	ND_CHECK_EQ(nd_hist_count(&h), 2);
	ND_CHECK_EQ(nd_hist_min(&h), 0);
	ND_CHECK(nd_hist_max(&h) == UINT64_MAX);
	ND_CHECK_EQ(nd_hist_overflow(&h), 1);
	ND_CHECK_EQ(h.counts[0], 1);
	ND_CHECK_EQ(nd_hist_percentile(&h, 0), 0);
	ND_CHECK_EQ(nd_hist_percentile(&h, 50), 0);
	ND_CHECK(nd_hist_percentile(&h, 50.1) == UINT64_MAX);
	ND_CHECK(nd_hist_percentile(&h, 100) == UINT64_MAX);
	ND_CHECK(nd_hist_mean(&h) == 9223372036854775808.0);   /* (2^64-1)/2, rounded */
}

/* --- stats tests --- */

static void test_jain_equal(void)
{
	double x[7];
	size_t i;

	for (i = 0; i < 7; i++)
		x[i] = 3.7;
	ND_CHECK(nd_stats_jain(x, 7) == 1.0);
	ND_CHECK(nd_stats_jain(x, 1) == 1.0);
	for (i = 0; i < 7; i++)
		x[i] = 1e300;   /* squares would overflow without scaling */
	ND_CHECK(nd_stats_jain(x, 7) == 1.0);
}

static void test_jain_one_nonzero(void)
{
	double x[10] = { 0 };

	x[6] = 42.0;
	ND_CHECK(fabs(nd_stats_jain(x, 10) - 0.1) < 1e-15);
	ND_CHECK(fabs(nd_stats_jain(x, 7) - 1.0 / 7) < 1e-15);
}

static void test_jain_example(void)
{
	static const double x[] = { 1, 2, 3, 4 };
	static const double y[] = { 10, 0, 5 };   /* 225 / (3 * 125) = 0.6 */

	ND_CHECK(fabs(nd_stats_jain(x, 4) - 100.0 / 120.0) < 1e-12);
	ND_CHECK(fabs(nd_stats_jain(y, 3) - 0.6) < 1e-12);
}

static void test_jain_nan(void)
{
	static const double zeros[] = { 0, 0, 0 };
	static const double neg[] = { 1, -1, 2 };
	double bad[] = { 1, 2, 0 };

	ND_CHECK(isnan(nd_stats_jain(zeros, 0)));
	ND_CHECK(isnan(nd_stats_jain(NULL, 0)));
	ND_CHECK(isnan(nd_stats_jain(zeros, 3)));
	ND_CHECK(isnan(nd_stats_jain(neg, 3)));
	bad[2] = NAN;
	ND_CHECK(isnan(nd_stats_jain(bad, 3)));
	bad[2] = INFINITY;
	ND_CHECK(isnan(nd_stats_jain(bad, 3)));
}

static void test_mean_stddev(void)
{
	static const double x[] = { 2, 4, 4, 4, 5, 5, 7, 9 };

	ND_CHECK(nd_stats_mean(x, 8) == 5.0);
	ND_CHECK(fabs(nd_stats_stddev(x, 8) - sqrt(32.0 / 7)) < 1e-12);
	ND_CHECK(nd_stats_mean(x, 1) == 2.0);
	ND_CHECK(isnan(nd_stats_stddev(x, 1)));
	ND_CHECK(isnan(nd_stats_mean(x, 0)));
	ND_CHECK(isnan(nd_stats_stddev(x, 0)));
	ND_CHECK(nd_stats_stddev(x + 1, 3) == 0.0);   /* {4, 4, 4} */
}

int main(void)
{
	ND_RUN(test_empty);
	ND_RUN(test_zeroed_is_empty);
	ND_RUN(test_bounds_exhaustive_low);
	ND_RUN(test_bounds_tiling);
	ND_RUN(test_bounds_random);
	ND_RUN(test_foreach);
	ND_RUN(test_percentile_uniform);
	ND_RUN(test_percentile_exponential);
	ND_RUN(test_percentile_bimodal);
	ND_RUN(test_percentile_loguniform);
	ND_RUN(test_percentile_edges);
	ND_RUN(test_min_max_count_mean);
	ND_RUN(test_mean_no_wrap);
	ND_RUN(test_record_n);
	ND_RUN(test_merge);
	ND_RUN(test_overflow);
	ND_RUN(test_extremes);
	ND_RUN(test_jain_equal);
	ND_RUN(test_jain_one_nonzero);
	ND_RUN(test_jain_example);
	ND_RUN(test_jain_nan);
	ND_RUN(test_mean_stddev);
	return nd_test_done();
}
