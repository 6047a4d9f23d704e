/* SPDX-License-Identifier: MIT */
/*
 * load: the recordings of one doctor run, read into the model (dx.h).
 *
 * Each collector writes NDJSON (one object per line, each with "type");
 * the line parsers below take one line each (json-c), keep what the
 * diagnosis uses and drop the rest. They are pure: no I/O, no clock, so the
 * unit tests feed them hand-written lines. nd_dx_load_file() reads a
 * recording from disk with them.
 *
 * What is kept:
 *  - counters: "delta" rows of the counters the engine reads (TCP
 *    retransmission, timeout, listen and window counters; link and qdisc
 *    drops; conntrack drop, entries and its limit; ethtool drop counters)
 *    that moved, plus the conntrack gauges; deltas of several intervals
 *    are summed;
 *  - drops: "place" rows, "signal" rows summed per (signal, state,
 *    namespace), the "summary";
 *  - tcp: per connection ("conn" rows, not interval snapshots) the totals,
 *    stall durations by cause and the connections per server endpoint;
 *    connections that stalled, retransmitted, saw a zero window or moved
 *    at least ND_DX_BIG_BYTES are kept whole; the "summary";
 *  - bench: the whole document: mode, totals, latency, TCP_INFO per flow.
 *
 * Return values: 0 when the line was used or deliberately skipped,
 * -EINVAL when it is not a JSON object with "type" (counted in
 * in->bad_lines), -ENOMEM.
 */
#ifndef NETDX_DOCTOR_LOAD_H
#define NETDX_DOCTOR_LOAD_H

#include "doctor/dx.h"

int nd_dx_counters_line(struct nd_dx_input *in, const char *line);
int nd_dx_drops_line(struct nd_dx_input *in, const char *line);
int nd_dx_tcp_line(struct nd_dx_input *in, unsigned cap, const char *line);
int nd_dx_bench_doc(struct nd_dx_input *in, const char *doc);

/*
 * nd_dx_meta_doc - the run description doctor writes next to the
 * recordings (meta.json): duration, namespaces (name and inode), capture
 * points, and why a source is missing. Fills @in's run fields; the
 * captures' files are returned through @files (up to ND_DX_CAP_MAX
 * strings of @flen bytes, "" when a capture has no file). -EINVAL if it is
 * not a doctor meta document.
 */
int nd_dx_meta_doc(struct nd_dx_input *in, const char *doc, char (*files)[256], size_t flen);

/*
 * nd_dx_load_file - read @path as a recording of @src (for tcp, capture
 * point @cap) line by line (bench: as one document). Sets in->have[@src]
 * when the recording is complete (its "summary" line, or a bench
 * document). Returns 0, -errno if the file cannot be read, -ENOMEM.
 */
int nd_dx_load_file(struct nd_dx_input *in, enum nd_dx_src src, unsigned cap, const char *path);

/* nd_dx_add_netns - remember a namespace named by the user (and its inode,
 * 0 if unknown). -ENOSPC beyond ND_DX_NETNS_MAX. */
int nd_dx_add_netns(struct nd_dx_input *in, const char *name, uint64_t ino);

/* nd_dx_add_capture - a capture point; returns its index or -ENOSPC. */
int nd_dx_add_capture(struct nd_dx_input *in, const char *iface, const char *netns);

#endif
