/* SPDX-License-Identifier: MIT */
/*
 * drops_report: the views of `netdx drops` over the aggregation engine's
 * report model: the live top-like table (every --interval), the final
 * summary, the event stream, each as text or NDJSON (one object per
 * line, "type" on every line, a "meta" line first).
 *
 * Names come through the caches the caller owns (drop reasons from BTF,
 * kernel symbols, namespace and device names); the writer only formats.
 */
#ifndef NETDX_TRACE_DROPS_REPORT_H
#define NETDX_TRACE_DROPS_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bpf/drops.h"
#include "report/json.h"
#include "trace/agg.h"
#include "trace/bpf_drops.h"

struct nd_reasons;
struct nd_ksyms;
struct nd_names;

struct nd_drops_writer {
	FILE *f;
	bool json;
	bool tty;               /* live table redraws the screen */
	bool flows;             /* the kernel keyed by flow */
	size_t top;             /* table rows shown (0: all) */
	const struct nd_reasons *reasons;
	const struct nd_ksyms *ksyms;
	struct nd_names *names;
	int64_t mono_to_real_ns;        /* bpf_ktime_get_ns() + this = wall clock */
	struct nd_json j;
	uint64_t events_written;
};

/* What the summary says beside the tables. */
struct nd_drops_summary {
	double seconds;
	const char *ended_by;           /* "duration", "SIGINT", "SIGTERM", "error" */
	uint64_t st[ND_ST_MAX];         /* the kernel's counters */
	uint64_t missed;                /* program runs the kernel skipped */
	uint32_t max_keys;              /* cap of the place maps */
	uint32_t max_flows;             /* cap of the flow maps (0: flows off) */
	size_t drop_keys, sig_keys;     /* keys behind the drop and signal rows */
	size_t place_keys, sig_place_keys;      /* entries in the place maps */
	uint64_t ksyms_overflow, names_overflow;
	bool kallsyms_hidden;
	bool events;
	const struct nd_bpf_info *info;
};

/* The filters, echoed in the meta line and the text header. */
struct nd_drops_filters {
	const char *netns, *dev, *reason, *host, *proto;
	uint64_t port;
};

void nd_dw_init(struct nd_drops_writer *w, FILE *f, bool json);

/* Meta line (JSON) or a one-line header (text). */
void nd_dw_meta(struct nd_drops_writer *w, const char *version, const struct nd_bpf_info *info,
		const struct nd_drops_filters *flt, uint32_t max_keys, uint32_t max_flows,
		bool events);

/* One live refresh: changes since the last one. */
void nd_dw_interval(struct nd_drops_writer *w, const struct nd_agg *a, uint64_t seq,
		    double elapsed, double interval, const uint64_t st[ND_ST_MAX]);

/* One event from the ring buffer. */
void nd_dw_event(struct nd_drops_writer *w, const struct nd_event *e);

/* The final report: totals over the whole run. */
void nd_dw_summary(struct nd_drops_writer *w, const struct nd_agg *a,
		   const struct nd_drops_summary *s);

/* Helpers shared with the CLI. */
const char *nd_dw_signal_name(unsigned type);
const char *nd_dw_tcp_state(unsigned state);

#endif
