/* SPDX-License-Identifier: MIT */
/*
 * conn: TCP connection tracking over the bounded flow table.
 *
 * Fed decoded packets with their timestamps (nanoseconds; the same code
 * serves files and live capture), it keeps per-connection, per-direction
 * counts and handshake facts and hands every connection, exactly once, to
 * the caller's `done` callback when it ends:
 *   - closed (FIN both ways) or reset, after a linger time in capture time,
 *     so the last ACK and retransmitted FINs still land on it;
 *   - idle for longer than the idle timeout;
 *   - evicted because the table is full (closed ones first, then the least
 *     recently active open one);
 *   - replaced by a new SYN on the same 4-tuple after FIN/RST (port reuse);
 *   - still open when the input ends (nd_tracker_flush).
 * Nothing is dropped silently: every end is counted in nd_tracker_stats.
 * The engine never prints, exits or reads the clock.
 */
#ifndef NETDX_TCP_CONN_H
#define NETDX_TCP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/decode.h"
#include "core/flow.h"
#include "tcp/infer.h"

/* How the client (the active opener) was identified. */
enum nd_client_by {
	ND_CLIENT_SYN = 0,      /* sent a SYN without ACK */
	ND_CLIENT_SYNACK,       /* received a SYN/ACK */
	ND_CLIENT_PORT,         /* handshake missed: the side with the ephemeral port */
	ND_CLIENT_FIRST,        /* handshake missed, ports inconclusive: sender of the first packet */
};

/* TCP state as observed at the end. */
enum nd_conn_state {
	ND_CS_OPEN = 0,
	ND_CS_HALF_CLOSED,      /* FIN seen one way only */
	ND_CS_CLOSED,           /* FIN seen both ways */
	ND_CS_RESET,            /* RST seen */
	ND_CS_TIMEOUT,          /* ended by the idle timeout while open */
};

/* Why the connection left the table. */
enum nd_conn_end {
	ND_END_FINISHED = 0,    /* closed or reset, and the linger time passed */
	ND_END_TIMEOUT,         /* idle timeout */
	ND_END_EVICTED,         /* table full: removed to make room */
	ND_END_REUSED,          /* a new SYN on the same 4-tuple after FIN/RST */
	ND_END_INPUT_END,       /* still in the table when the input ended */
};

const char *nd_conn_state_name(enum nd_conn_state s);
const char *nd_conn_end_name(enum nd_conn_end e);
const char *nd_client_by_name(enum nd_client_by b);

/* What one side sent. */
struct nd_dir {
	uint64_t pkts, bytes, payload_bytes;  /* bytes = wire length of the frames */
	uint32_t syn, fin, rst;
	uint32_t ts_pkts;       /* segments carrying the timestamp option */
	uint32_t sack_pkts;     /* segments carrying SACK blocks */
	uint32_t bad_opts;      /* segments with a malformed option area */
	uint32_t malformed;     /* segments with a decoder anomaly (nd_pkt.anomaly): counted
				 * in pkts and bytes, otherwise ignored, as a receiver would */
	uint16_t mss;           /* from this side's SYN or SYN/ACK */
	uint8_t wscale;
	bool has_mss, has_wscale, sack_perm, ts_on_syn;
	bool syn_seen;
	uint32_t isn;           /* sequence number of its first SYN */
	/* Handshake round trip of this side's SYN (or SYN/ACK): from it to the
	 * packet of the other side that answers it, as seen at the capture
	 * point; -1 when not seen, -2 when ambiguous because the SYN was
	 * retransmitted before the answer (Karn's rule). */
	int64_t hs_rtt_ns;
	uint32_t syn_sent;      /* SYNs (or SYN/ACKs) sent, retransmissions included */
	bool syn_stall_done;    /* its retransmissions were reported as a stall */
	uint64_t syn_ts;        /* time of the first of them */
	/* Inference (tcp/infer.h): RTT, retransmissions, dupacks, windows.
	 * Its ring of outstanding ranges is freed when the connection leaves
	 * the table, right after the `done` callback: a copy of the struct
	 * keeps the counters but must not use inf.ring. */
	struct nd_infer_dir inf;
};

struct nd_conn {
	struct nd_flow_key key;
	uint64_t id;            /* 1, 2, ... in order of creation */
	uint64_t first_ts, last_ts, close_ts;
	uint8_t client;         /* 0: key side A is the client; 1: side B */
	enum nd_client_by client_by;
	enum nd_conn_state state;
	enum nd_conn_end end;
	bool reset;
	struct nd_dir dir[2];   /* indexed by key side: dir[0] is what A sent */
	bool timeline;          /* keep the limits timeline (nd_tracker_cfg.timeline) */
	bool lc_nomem;
	struct nd_lim_conn *lc; /* stalls and transactions (limits.h), on demand */
};

struct nd_tracker_cfg {
	size_t max_flows;           /* table cap (> 0) */
	uint64_t idle_timeout_ns;   /* 0 = never */
	uint64_t linger_ns;         /* how long closed/reset connections stay */
	uint64_t seed;              /* hash seed; take it from getrandom() */
	bool timeline;              /* keep each direction's limits timeline */
	/* Called once per connection as it leaves the table; @c is valid only
	 * during the call. */
	void (*done)(void *ctx, const struct nd_conn *c);
	void *ctx;
};

struct nd_tracker_stats {
	uint64_t packets;           /* TCP packets given to the tracker */
	uint64_t conns;             /* connections created */
	uint64_t finished;          /* closed or reset, reported after the linger */
	uint64_t timed_out;
	uint64_t evicted_open;      /* open connections evicted because the table was full */
	uint64_t evicted_closed;    /* closed ones reported early because the table was full */
	uint64_t reused;            /* ended by a new SYN on the same 4-tuple */
	uint64_t input_end;         /* still open when the input ended */
	uint64_t nomem;             /* packets not tracked because memory ran out */
	uint64_t backwards;         /* packets whose timestamp went back in time */
	size_t active, peak, cap;
};

struct nd_tracker;

/* nd_tracker_new - NULL with errno EINVAL on a bad config, ENOMEM. */
struct nd_tracker *nd_tracker_new(const struct nd_tracker_cfg *cfg);

/* nd_tracker_packet - account one decoded TCP packet (p->l4 must be 6) of
 * @wirelen bytes captured at @ts_ns. Non-TCP packets are ignored. */
void nd_tracker_packet(struct nd_tracker *t, const struct nd_pkt *p, uint64_t ts_ns,
		       uint32_t wirelen);

/* nd_tracker_advance - tell the tracker that time @now_ns has come even
 * without packets (live capture on a quiet link), so idle and closed
 * connections end on time. */
void nd_tracker_advance(struct nd_tracker *t, uint64_t now_ns);

/* nd_tracker_flush - end every connection still in the table
 * (ND_END_INPUT_END), calling `done` for each, oldest activity first. */
void nd_tracker_flush(struct nd_tracker *t);

/* nd_tracker_foreach - call @fn for every connection in the table, without
 * ending them (for periodic reports). */
void nd_tracker_foreach(struct nd_tracker *t, void (*fn)(void *ctx, const struct nd_conn *c),
			void *ctx);

void nd_tracker_get_stats(const struct nd_tracker *t, struct nd_tracker_stats *out);

/* nd_tracker_free - free everything without calling `done`. Accepts NULL. */
void nd_tracker_free(struct nd_tracker *t);

#endif
