/* SPDX-License-Identifier: MIT */
/*
 * stats: small statistics helpers over arrays of doubles (fairness across
 * flows, spread of per-run measurements). Pure functions: no allocation,
 * the caller owns the arrays, which are only read. Meant for small
 * arrays; everything is O(n).
 */
#ifndef NETDX_CORE_STATS_H
#define NETDX_CORE_STATS_H

#include <stddef.h>

/*
 * nd_stats_jain - Jain's fairness index (sum x)^2 / (n * sum x^2) of the
 * @n values @x, which must be >= 0. In [1/n, 1]: 1.0 when all values are
 * equal, 1/n when only one is non-zero. Returns NAN when n == 0, when all
 * values are 0 (the index is undefined), or when a value is negative,
 * NaN or infinite. Values are scaled by their maximum first, so huge
 * values cannot overflow the sum of squares.
 */
double nd_stats_jain(const double *x, size_t n);

/* nd_stats_mean - arithmetic mean of @n values; NAN if n == 0. */
double nd_stats_mean(const double *x, size_t n);

/* nd_stats_stddev - sample standard deviation (n - 1 denominator, two
 * passes); NAN if n < 2. */
double nd_stats_stddev(const double *x, size_t n);

#endif
