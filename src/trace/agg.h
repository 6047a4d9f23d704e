/* SPDX-License-Identifier: MIT */
/*
 * agg: the drop and signal aggregation engine of `netdx drops`.
 *
 * It takes snapshots of the kernel's maps (key and value arrays) and makes
 * the report model: every row with its change since the previous
 * snapshot, sorted for display; the places (drops by reason, location,
 * device, namespace and protocol, across flows) and the signal places
 * (signals by kind, TCP state and namespace, across flows); and, when the
 * snapshots carry flows, the retransmissions on each drop row's flow and
 * on the flows behind each place, matched in either direction and across
 * namespaces (the sender's retransmission and the receiver side's drop are
 * seen in different namespaces).
 *
 * The kernel keeps places and flows in separate maps (src/bpf/drops.h):
 * the place maps count every drop and signal, the flow maps (flows on)
 * only those they had room for. So with flows on a place's totals come
 * from the place map, exact, and its flow rows may hold less: the
 * difference is the place's "unattributed" count (drops, or signals, that
 * have no flow row because the flow map was full). Without a place map
 * (flows off, or old callers) the places are the rows summed without
 * their flows, as the rows are the places then.
 *
 * The two maps are read one after the other while the kernel counts on:
 * read the flows first (a drop is added to its place before its flow), so
 * a place holds at least its flow rows; the difference may then include
 * drops counted between the two reads. Any input is accepted: a flow row
 * whose place is not in the place snapshot makes a place of its own (from
 * its rows), and flow rows holding more than their place give an
 * unattributed count of zero.
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
	uint64_t unattributed;  /* packets in none of its drop rows (flow map full) */
};

/* Signals of one kind, TCP state and namespace, across flows. */
struct nd_sig_place_row {
	uint32_t netns;
	uint8_t type;           /* enum nd_sig */
	uint8_t state;
	uint64_t count, delta, last_ns;
	uint64_t flows;         /* distinct flows behind it (flows on) */
	uint64_t unattributed;  /* signals in none of its rows (flow map full) */
};

/* Totals over the places (exact when the snapshot has a place map). */
struct nd_agg_totals {
	uint64_t drops, drop_delta;
	uint64_t unattributed;          /* drops in no drop row */
	uint64_t signals[ND_SIG_MAX];   /* by enum nd_sig */
	uint64_t signal_delta[ND_SIG_MAX];
	uint64_t syn_sent_retrans;      /* retransmissions in SYN-SENT */
	uint64_t sig_unattributed;      /* signals in no signal row */
};

/*
 * One snapshot of the kernel's maps (the arrays are copied).
 *   dk/dv/nd    the drop rows: the flow map with flows on, else the places
 *   pk/pv/np    the place map when the rows are flows; NULL: the places
 *               are the rows summed without their flows
 *   sk/sv/ns    the signal rows (the signal flow map with flows on)
 *   spk/spv/nsp the signal place map, or NULL as for pk
 */
struct nd_agg_snap {
	const struct nd_drop_key *dk;
	const struct nd_drop_val *dv;
	size_t nd;
	const struct nd_drop_key *pk;
	const struct nd_drop_val *pv;
	size_t np;
	const struct nd_sig_key *sk;
	const struct nd_sig_val *sv;
	size_t ns;
	const struct nd_sig_key *spk;
	const struct nd_sig_val *spv;
	size_t nsp;
};

struct nd_agg;

/* nd_agg_new - an empty aggregation; NULL + errno. */
struct nd_agg *nd_agg_new(void);
void nd_agg_free(struct nd_agg *a);

/*
 * nd_agg_snapshot - take a new snapshot. Deltas are against the previous
 * one, key by key (a key not seen before counts from zero; a place's delta
 * is its place-map entry's, not its rows', so flows coming and going do
 * not move it). Rows, places, joins and totals are rebuilt. -ENOMEM
 * leaves the previous report in place.
 */
int nd_agg_snapshot(struct nd_agg *a, const struct nd_agg_snap *s);

/* nd_agg_update - a snapshot without place maps: @nd drop entries and @ns
 * signal entries, the places summed from them. */
int nd_agg_update(struct nd_agg *a, const struct nd_drop_key *dk, const struct nd_drop_val *dv,
		  size_t nd, const struct nd_sig_key *sk, const struct nd_sig_val *sv, size_t ns);

/* The rows, sorted: most recent change first, then largest total. */
const struct nd_drop_row *nd_agg_drops(const struct nd_agg *a, size_t *n);
const struct nd_sig_row *nd_agg_sigs(const struct nd_agg *a, size_t *n);
const struct nd_place_row *nd_agg_places(const struct nd_agg *a, size_t *n);
const struct nd_sig_place_row *nd_agg_sig_places(const struct nd_agg *a, size_t *n);
const struct nd_agg_totals *nd_agg_totals(const struct nd_agg *a);

/* Whether any row carries a flow (the kernel ran with flows on). */
bool nd_agg_has_flows(const struct nd_agg *a);

#endif
