/* SPDX-License-Identifier: MIT */
/* rtthist: a small histogram of microsecond times (RTTs, reaction times,
 * transaction latencies), defined in infer.c. */
#ifndef NETDX_TCP_RTTHIST_H
#define NETDX_TCP_RTTHIST_H

#include <stdint.h>

/*
 * A compact log-linear histogram of RTTs in microseconds: values 0..7 have
 * their own bucket; above, each power-of-two range [2^e, 2^(e+1)) for
 * e = 3..22 is split into 8 equal sub-buckets; values >= 2^23 us (8.4 s)
 * share the top bucket. A value reported for a bucket (its middle) is
 * within 1/16 (6.25 %) of every value recorded in it; min, max and count
 * are exact. Counters are 16-bit and halve together when one would
 * overflow (the shape, hence the percentiles, is kept).
 */
#define ND_RH_SUB 8
#define ND_RH_NBUCKETS (8 + 20 * ND_RH_SUB)     /* 168 */

struct nd_rtt_hist {
	uint16_t c[ND_RH_NBUCKETS];
};

void nd_rh_record(struct nd_rtt_hist *h, uint32_t us);
/* Value at quantile @q (0..1), in us, clamped to [@min, @max]; 0 when empty. */
uint32_t nd_rh_quantile(const struct nd_rtt_hist *h, double q, uint32_t min, uint32_t max);

/* Value at quantile @q (nearest rank) of the @n <= 4 exact values kept
 * before a histogram is worth allocating; 0 when @n is 0. */
#define ND_RH_INLINE 4
uint32_t nd_rh_small_quantile(const uint32_t *v, uint32_t n, double q);

#endif
