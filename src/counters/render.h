/* SPDX-License-Identifier: MIT */
/*
 * render: the views of `netdx counters` on a stream: a readable table or
 * NDJSON (one object per line, each with "type"), over the same structs.
 *
 *   {"type":"meta","schema":1,"tool":"netdx","command":"counters delta",...}
 *   {"type":"netns","name":"ci-a","inode":4026532290,"pid":0,"named":true}
 *   {"type":"counter","netns":"ci-a","source":"qdisc","device":"va","qdisc":"tbf",
 *    "handle":"8001:","parent":"root","name":"drops","value":487}
 *   {"type":"interval","seq":1,"t":1.0,"dt":1.0,"counters":1234,"moving":5}
 *   {"type":"delta","seq":1,...,"name":"drops","delta":487,"rate":487.0,"value":487}
 *   {"type":"anomaly","seq":1,"event":"raised","rule":"zero-start",...,"evidence":"..."}
 *   {"type":"correlation","seq":1,"window_s":1.0,"drop":{...},"symptom":{...},"text":"..."}
 *   {"type":"summary",...}
 */
#ifndef NETDX_COUNTERS_RENDER_H
#define NETDX_COUNTERS_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "counters/anomaly.h"
#include "counters/correl.h"
#include "counters/ctr.h"

#define ND_COUNTERS_SCHEMA 1

struct nd_view {
	FILE *f;
	bool json;
};

void nd_view_init(struct nd_view *v, FILE *f, bool json);

/* The first line: what ran, with which settings (@kv: NULL-terminated
 * pairs of strings, name then value). JSON only. */
void nd_view_meta(struct nd_view *v, const char *version, const char *command, const char *const *kv);

/* nd_describe - "rx_dropped on dev va in ns ci-a", "Tcp.RetransSegs in ns
 * ci-a", "qdisc tbf 8001: drops on dev va in ns ci-a". */
void nd_describe(const struct nd_snap *s, const struct nd_ctr *c, char *buf, size_t len);

/* Every row of @s (only non-zero ones when @nonzero), and its namespaces. */
void nd_view_snapshot(struct nd_view *v, const struct nd_snap *s, bool nonzero);

/* One interval: a header and the rows that moved (every row when @all);
 * with @top, the first @top of them, drop and error counters first, then
 * by the size of the change (0: all, in table order); @clear redraws a
 * terminal. */
void nd_view_interval(struct nd_view *v, uint64_t seq, double t, const struct nd_snap *s,
		      const struct nd_diff *d, bool all, size_t top, bool clear);

/* An alarm raised or cleared for row @row of @s (@dr its difference). */
void nd_view_anomaly(struct nd_view *v, uint64_t seq, double t, const struct nd_snap *s,
		     const struct nd_diff_row *dr, const struct nd_anom_result *r);

/* Correlated pairs; @ix indexes @s by key to name them. */
void nd_view_correlation(struct nd_view *v, uint64_t seq, double t, const struct nd_snap *s,
			 const struct nd_key_index *ix, const struct nd_corr_match *m, size_t n,
			 double window_s);

/* The last line: what was read and what was skipped, of the last snapshot,
 * the detector's and the correlation's figures (NULL: none). */
void nd_view_summary(struct nd_view *v, const struct nd_snap *s, const struct nd_anom_stats *as,
		     const struct nd_corr_stats *cs, uint64_t intervals);

#endif
