/* SPDX-License-Identifier: MIT */
/*
 * conn_report: the report model of `netdx tcp` and its renderers.
 * The same structs render as a readable table, NDJSON (the output contract
 * in docs/ARCHITECTURE.md) or CSV.
 */
#ifndef NETDX_REPORT_CONN_REPORT_H
#define NETDX_REPORT_CONN_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/source.h"
#include "core/decode.h"
#include "report/json.h"
#include "tcp/conn.h"

#define ND_SCHEMA_VERSION 1

enum nd_fmt { ND_FMT_TEXT = 0, ND_FMT_JSON, ND_FMT_CSV };

/* One input as the summary lists it. */
struct nd_input_report {
	const char *name;
	const char *link;       /* link type name */
	uint64_t frames;
	const char *error;      /* NULL, or why reading stopped early */
};

struct nd_tcp_summary {
	uint64_t frames;                    /* frames read from all inputs */
	uint64_t tcp, udp;                  /* decoded */
	uint64_t skipped[ND_SKIP__COUNT];   /* by reason (index ND_SKIP_NONE unused) */
	uint64_t snap_cut;                  /* decoded frames cut by the snapshot length */
	uint64_t malformed[ND_SKIP__COUNT]; /* decoded, but with an anomaly (nd_pkt.anomaly) */
	uint64_t first_ts, last_ts;         /* capture time span, ns (0 if no frame) */
	struct nd_tracker_stats trk;
	struct nd_capture_stats cap;        /* live only (cap.valid) */
	const struct nd_input_report *inputs;
	size_t ninputs;
	bool interrupted;                   /* stopped by SIGINT/SIGTERM */
};

/* One of the worst connections, for the findings that lead the text view. */
#define ND_FINDINGS_MAX 10
struct nd_finding {
	double score;
	char text[480];
};

struct nd_conn_writer {
	enum nd_fmt fmt;
	FILE *f;
	FILE *out;              /* the real output when the table is deferred */
	struct nd_finding find[ND_FINDINGS_MAX];
	unsigned nfind;
	uint64_t flagged;       /* connections with findings (all, not only the worst) */
	uint64_t verdicts[ND_V_COUNT];      /* directions with data, by verdict */
	uint64_t stalls[ND_STALL_COUNT];    /* by cause */
	struct nd_json j;
	uint64_t rows;
	bool header_done;
	const char *version, *command;  /* for the JSON meta line */
	bool meta_done;
};

void nd_cw_init(struct nd_conn_writer *w, enum nd_fmt fmt, FILE *f);

/* Text view of a whole input (not live): hold the table in a temporary
 * file so the findings (the worst connections and why) come first. Without
 * a temporary file the table streams and the findings follow it. */
void nd_cw_defer_table(struct nd_conn_writer *w);

/* Remember what the JSON {"type":"meta"} first line says; it is written
 * before the first other line, so an input that fails to open leaves
 * stdout empty. Other formats: nothing. */
void nd_cw_meta(struct nd_conn_writer *w, const char *version, const char *command);

/* One connection. @snapshot marks a periodic view of a connection that is
 * still going on. */
void nd_cw_conn(struct nd_conn_writer *w, const struct nd_conn *c, bool snapshot);

/* A periodic report's header (live capture with --interval). */
void nd_cw_interval(struct nd_conn_writer *w, uint64_t seq, const struct nd_tcp_summary *s);

/* The closing summary. */
void nd_cw_summary(struct nd_conn_writer *w, const struct nd_tcp_summary *s);

/* "a.b.c.d:port" or "[v6]:port" of one side of @c's key (0 = A, 1 = B). */
char *nd_endpoint_str(const struct nd_flow_key *k, int side, char *buf, size_t len);

#endif
