/* SPDX-License-Identifier: MIT */
#include "core/stats.h"

#include <math.h>

double nd_stats_jain(const double *x, size_t n)
{
	double max = 0, sum = 0, sumsq = 0, r;
	size_t i;

	if (n == 0)
		return NAN;
	for (i = 0; i < n; i++) {
		if (!(x[i] >= 0) || !isfinite(x[i]))
			return NAN;
		if (x[i] > max)
			max = x[i];
	}
	if (max == 0)
		return NAN;
	for (i = 0; i < n; i++) {
		double s = x[i] / max;   /* in [0, 1] */

		sum += s;
		sumsq += s * s;
	}
	r = sum * sum / ((double)n * sumsq);
	return r > 1.0 ? 1.0 : r;   /* rounding only; Cauchy-Schwarz gives <= 1 */
}

double nd_stats_mean(const double *x, size_t n)
{
	double sum = 0;
	size_t i;

	if (n == 0)
		return NAN;
	for (i = 0; i < n; i++)
		sum += x[i];
	return sum / (double)n;
}

double nd_stats_stddev(const double *x, size_t n)
{
	double mean, ss = 0;
	size_t i;

	if (n < 2)
		return NAN;
	mean = nd_stats_mean(x, n);
	for (i = 0; i < n; i++) {
		double d = x[i] - mean;

		ss += d * d;
	}
	return sqrt(ss / (double)(n - 1));
}
