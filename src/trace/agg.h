/* SPDX-License-Identifier: MIT */
/*
 * agg: the drop and signal aggregation engine of `netdx drops`.
 *
 * It takes snapshots of the kernel's maps (key and value arrays, as read
 * from the "drops" and "sigs" maps) and makes the report model: every row
 * with its change since the previous snapshot, sorted for display; the
 * places (drops grouped by reason, location, device, namespace and
 * protocol, across flows); and, when the snapshots carry flows, the
 * retransmissions on each drop row's flow and on the flows behind each
 * place, matched in either direction and across namespaces (the sender's
 * retransmission and the receiver side's drop are seen in different
 * namespaces).
 *
 * Pure: no I/O, no clock. Functions return 0 or -errno.
 */
#ifndef NETDX_TRACE_AGG_H
#define NETDX_TRACE_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/drops.h"

struct nd_drop_row {
	struct nd_drop_key key;
	struct nd_drop_val val;
	uint64_t delta;         /* packets since the previous snapshot */
	uint64_t retrans;       /* retransmissions on key.flow (either direction) */
	bool has_flow;          /* key.flow is set (flows on and parsed) */
};

struct nd_sig_row {
	struct nd_sig_key key;
	struct nd_sig_val val;
	uint64_t delta;
};

/* Drops at one place: reason, location, device, namespace, protocol. */
struct nd_place_row {
	uint64_t location;
	uint32_t reason, ifindex, netns;
	uint16_t ethertype;
	uint8_t l4proto;
	uint64_t packets, bytes, delta;
	uint64_t first_ns, last_ns;
	uint64_t flows;         /* distinct flows behind it (flows on) */
	uint64_t retrans;       /* retransmissions on those flows */
};

struct nd_agg_totals {
	uint64_t drops, drop_delta;     /* over the drop rows */
	uint64_t signals[ND_SIG_MAX];   /* by enum nd_sig */
	uint64_t signal_delta[ND_SIG_MAX];
	uint64_t syn_sent_retrans;      /* retransmissions in SYN-SENT */
};

struct nd_agg;

/* nd_agg_new - an empty aggregation; NULL + errno. */
struct nd_agg *nd_agg_new(void);
void nd_agg_free(struct nd_agg *a);

/*
 * nd_agg_update - take a new snapshot: @nd drop entries and @ns signal
 * entries (copied). Deltas are against the previous update (a key not
 * seen before counts from zero). Rows, places, joins and totals are
 * rebuilt. -ENOMEM leaves the previous report in place.
 */
int nd_agg_update(struct nd_agg *a, const struct nd_drop_key *dk, const struct nd_drop_val *dv,
		  size_t nd, const struct nd_sig_key *sk, const struct nd_sig_val *sv, size_t ns);

/* The rows, sorted: most recent change first, then largest total. */
const struct nd_drop_row *nd_agg_drops(const struct nd_agg *a, size_t *n);
const struct nd_sig_row *nd_agg_sigs(const struct nd_agg *a, size_t *n);
const struct nd_place_row *nd_agg_places(const struct nd_agg *a, size_t *n);
const struct nd_agg_totals *nd_agg_totals(const struct nd_agg *a);

/* Whether any row carries a flow (the kernel ran with flows on). */
bool nd_agg_has_flows(const struct nd_agg *a);

#endif
