/* SPDX-License-Identifier: MIT */
/*
 * correl: which drop counters moved together with TCP's retransmission and
 * timeout counters?
 *
 * The caller pushes, once per interval, the series that moved: each with
 * its key, a group (the namespace's inode), its increase and its class:
 * a drop (a drop/error counter) or a symptom (a retransmission or timeout
 * counter). The engine keeps the last @window intervals and pairs every
 * symptom with the drops of the window:
 *
 *   together  intervals in which both moved
 *   score     together / intervals in which either moved
 *             x min(drops, symptoms) / max(drops, symptoms)
 *             x 1 in the same namespace, 0.5 across namespaces
 *
 * so "152 RX drops on dev X in ns Y and 150 RetransSegs in ns Y, in the
 * same three seconds" scores near 1, and a drop counter that moves at
 * other times or by other amounts scores low. For each symptom the @top
 * best drops with a score of at least @min_score are kept.
 *
 * Pure: no clock, no I/O. Items beyond @max_items in one interval are
 * counted and left out.
 */
#ifndef NETDX_COUNTERS_CORREL_H
#define NETDX_COUNTERS_CORREL_H

#include <stddef.h>
#include <stdint.h>

enum nd_corr_cls { ND_CORR_DROP, ND_CORR_SYMPTOM };

struct nd_corr_cfg {
	uint32_t window;        /* intervals kept, 1..64 */
	size_t max_items;       /* moving series kept per interval */
	uint32_t top;           /* drops kept per symptom */
	double min_score;       /* (0, 1] */
};

void nd_corr_cfg_default(struct nd_corr_cfg *cfg);   /* 10, 65536, 3, 0.05 */

struct nd_corr_item {
	uint64_t key;           /* the series */
	uint64_t group;         /* its namespace */
	uint64_t delta;         /* its increase in the interval (> 0) */
	uint8_t cls;            /* enum nd_corr_cls */
};

struct nd_corr_match {
	uint64_t sym_key, sym_group, sym_total;
	uint64_t drop_key, drop_group, drop_total;
	uint32_t together;      /* intervals both moved */
	uint32_t sym_intervals, drop_intervals;
	uint32_t intervals;     /* intervals in the window */
	double score;
};

struct nd_corr_stats {
	uint64_t items_skipped;         /* beyond max_items in an interval */
	uint64_t matches_dropped;       /* beyond the caller's array */
};

struct nd_corr;

int nd_corr_new(const struct nd_corr_cfg *cfg, struct nd_corr **out);   /* -EINVAL, -ENOMEM */
void nd_corr_free(struct nd_corr *c);                                     /* accepts NULL */

/* nd_corr_push - one interval of @dt seconds: the @n items that moved
 * (items with delta 0 are ignored). The oldest interval leaves the window.
 * 0 or -ENOMEM. */
int nd_corr_push(struct nd_corr *c, const struct nd_corr_item *items, size_t n, double dt);

/* nd_corr_window_seconds - the length of the intervals in the window. */
double nd_corr_window_seconds(const struct nd_corr *c);

/*
 * nd_corr_matches - the pairs of the window, best first, at most @cap of
 * them in @out. Returns how many were stored, or -ENOMEM. Pairs beyond
 * @cap are counted in the statistics.
 */
long nd_corr_matches(struct nd_corr *c, struct nd_corr_match *out, size_t cap);

void nd_corr_get_stats(const struct nd_corr *c, struct nd_corr_stats *st);

#endif
