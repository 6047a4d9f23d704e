/* SPDX-License-Identifier: MIT */
/*
 * limits: what limits each direction of a connection, over time (the Dapper
 * verdict), an inferred congestion window, the receiver's delayed ACKs, the
 * sender's behaviour, stalls and request/response transactions. Fed by
 * infer.c after it has accounted a segment; pure: no I/O, no clock.
 *
 * Labels. At every packet of the connection each direction (its sender
 * sending data, its receiver ACKing it) is in one state, held until the next
 * packet:
 *  - receiver: the receiver advertises a zero window, or the usable window
 *    (snd_una + rwnd - snd_nxt) is below one MSS while data is outstanding.
 *    rwnd is scaled by the shift from the handshake or an exactly inferred
 *    one; with an unknown shift only a zero window counts.
 *  - network: data outstanding and not receiver-limited: the sender waits
 *    on the path (its round trip, a queue, a loss and its recovery), as the
 *    kernel's chrono stats count such time "busy" (neither rwnd- nor
 *    sndbuf-limited). A closed-loop request/response client is network-
 *    limited by this rule: its rate is set by the round trip;
 *  - idle: nothing outstanding (the application gave nothing to send).
 * Short segments and reaction times are reported beside (the sender's
 * evidence); a send-buffer-limited sender, which the kernel counts apart,
 * cannot be told from the packets and shows as network-limited.
 * The transfer time of a direction runs from its first data to the last
 * moment it had data outstanding; idle time inside it counts as sender
 * time (as the kernel's chrono counts time not busy as application-limited),
 * trailing idle time does not count. limits = the three shares of it;
 * the verdict names a share >= 0.6, else "mixed"; "idle" without data.
 *
 * Congestion window estimate (bytes), per direction: 10 MSS at the first
 * data; on an ACK of new data while cwnd-limited (flight + MSS >= cwnd) and
 * not in recovery, + acked bytes below ssthresh (slow start), else
 * + MSS * acked / cwnd (avoidance); on the first fast retransmission of an
 * episode ssthresh = cwnd = max(0.7 * flight, 2 MSS) (Linux CUBIC's beta);
 * on a timeout retransmission ssthresh = max(0.7 * flight, 2 MSS), cwnd = 1
 * MSS; never below the flight the sender is seen to have out (a sender
 * whose algorithm keeps more out, BBR say, shows it). Reported as its
 * time-weighted mean while data is outstanding, max and final value.
 *
 * Delayed ACK (receiver of the direction): an ACK that covers exactly one
 * outstanding segment of less than two MSS, everything that was out, and
 * gives an RTT sample at least max(15 ms, min RTT / 2) above the minimum:
 * the receiver waited for a second segment that never came. added_us sums
 * the excess over the minimum RTT; share = added_us / sum of RTT samples.
 *
 * Sender: reaction time = from an ACK that advanced snd_una and left the
 * window open to the next new data; small segments = new data shorter than
 * MSS - 40 sent with at least an MSS of window left (nothing else queued);
 * idle gaps = periods with nothing outstanding of at least max(10 ms, srtt)
 * between data.
 *
 * Stalls (per connection, at most ND_STALLS_MAX, the rest counted):
 *  - rto: from the last progress (segment sent, or ACK received) to a
 *    timeout retransmission; back-to-back ones merge (retries counts them).
 *    When the retransmitted data was already acknowledged at the capture
 *    point, the ACK was lost beyond it: the stall is the other direction's
 *    (the data that carried the ACK) when that direction has data out;
 *  - syn-retrans / synack-retrans: from the first SYN (SYN/ACK) to the
 *    packet answering it, when it was sent more than once; unanswered: to
 *    the last one;
 *  - zero-window: from the receiver's first zero window to the window
 *    opening again (>= 1 ms);
 *  - idle: a response whose first byte came at least max(200 ms, 4 srtt)
 *    after the request was complete and acknowledged: the responding
 *    application was slow (not the network).
 *
 * Transactions: when data alternates between the sides, a request (client
 * data) followed by a response (server data) is one transaction; its
 * latency runs from the request's first segment to the response's last
 * (retransmissions included) as seen at the capture point. Percentiles come
 * from a log-linear histogram (6.25 %); the ND_TXN_SLOW slowest are kept,
 * each tied to the longest stall overlapping it, and every stall that
 * starts inside a transaction names that transaction (the one it delayed). Pipelined requests (a new request
 * before the response ended) close the previous transaction early.
 *
 * Timeline (optional): each direction's transfer cut into intervals of one
 * smoothed RTT (1 ms..1 s; 100 ms before a sample), each labelled with the
 * state that held longest in it; equal neighbours merge; at most
 * ND_TIMELINE_MAX runs, later ones counted as dropped.
 */
#ifndef NETDX_TCP_LIMITS_H
#define NETDX_TCP_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/decode.h"
#include "tcp/rtthist.h"

enum nd_lim_label {
	ND_LIM_SENDER = 0,
	ND_LIM_RECEIVER,
	ND_LIM_NETWORK,
	ND_LIM_IDLE,
	ND_LIM_NLABELS
};

const char *nd_lim_label_name(unsigned label);

#define ND_TIMELINE_MAX 4096
#define ND_STALLS_MAX 32
#define ND_TXN_SLOW 4

struct nd_lim_run {
	uint64_t start, end;
	uint8_t label;
};

struct nd_lim_timeline {
	uint32_t n, cap, dropped;
	struct nd_lim_run *run;
	uint64_t iv_start, iv_ns[ND_LIM_NLABELS];      /* the interval being cut */
};

/* Per direction, this side as the sender. */
struct nd_lim {
	uint64_t t_first;           /* first data sent (0: none yet) */
	uint64_t t_last;            /* accounted up to here */
	uint64_t ns[3];             /* sender, receiver, network time (committed) */
	uint64_t idle_pending;      /* nothing outstanding since the last data: sender time if data follows */
	double flight_int, cwnd_int, busy_ns;   /* integrals while data is outstanding */
	uint32_t flight, cwnd;      /* current */
	uint32_t flight_max, cwnd_max, ssthresh, recover;
	uint8_t label;              /* state since t_last */
	bool in_recovery, react_armed, cwnd_init;
	uint64_t react_from;
	uint32_t small_segs, idle_gaps, react_n, react_max_us;
	uint64_t react_sum_us, idle_gap_ns;
	uint32_t delack_n;
	uint64_t delack_added_us, rtt_sum_us;
	uint64_t zw_start;          /* the receiver's zero window since */
	struct nd_lim_timeline *tl; /* with nd_tracker_cfg.timeline */
};

enum nd_stall_cause {
	ND_STALL_RTO = 0,
	ND_STALL_SYN,
	ND_STALL_SYNACK,
	ND_STALL_ZERO_WINDOW,
	ND_STALL_IDLE,
	ND_STALL_COUNT
};

const char *nd_stall_cause_name(unsigned cause);

struct nd_stall {
	uint64_t start, dur;
	uint64_t txn_start, txn_lat;    /* the transaction it delayed (txn_lat 0: none) */
	uint32_t retries;
	uint8_t side;               /* key side whose data (or SYN) stalled */
	uint8_t cause;
};

struct nd_txn_slow {
	uint64_t start, lat_ns;
};

/* Per connection, allocated on the first stall or transaction. */
struct nd_lim_conn {
	uint32_t nstalls, cap, stalls_dropped;
	struct nd_stall *stall;     /* grown on demand up to ND_STALLS_MAX */
	/* transactions */
	uint8_t phase;              /* 0 none, 1 request, 2 response */
	bool req_acked;
	uint64_t req_start, req_last, resp_last;
	uint32_t req_end_seq;       /* client's snd_nxt at the end of the request */
	uint32_t txn_n;
	uint32_t txn_min_us, txn_max_us;
	uint32_t txn_first[ND_RH_INLINE];      /* exact latencies (us) of the first ones */
	uint32_t nslow;
	bool hist_nomem;
	struct nd_txn_slow slow[ND_TXN_SLOW];
	struct nd_rtt_hist *hist;   /* from the 5th transaction on */
};

/* What infer.c saw in one segment, for the limits engine. */
struct nd_lim_ev {
	/* the packet's side as the data sender */
	bool new_data, retrans, rto, fast;
	bool spurious;              /* already acknowledged when sent */
	uint64_t quiet_since;       /* last progress before it (for an rto) */
	/* the packet's side as the receiver: its ACK of the other side's data */
	bool advanced;              /* snd_una of the other side moved */
	uint32_t acked;             /* bytes newly acknowledged */
	uint32_t prev_flight;       /* the other side's flight before the ACK */
	bool sample, single;        /* an RTT sample; from an ACK of one short segment, all that was out */
	uint32_t sample_us;
};

struct nd_conn;

/* Account the packet of key side @side at @ts (after infer.c). */
void nd_lim_packet(struct nd_conn *c, int side, const struct nd_pkt *p, uint64_t ts,
		   const struct nd_lim_ev *ev);

/* The verdict of a direction; ND_V_SENDER..ND_V_NETWORK match the first
 * three labels. */
enum nd_verdict { ND_V_SENDER = 0, ND_V_RECEIVER, ND_V_NETWORK, ND_V_MIXED, ND_V_IDLE, ND_V_COUNT };

/* Results of one direction (key side @side as sender). */
struct nd_lim_result {
	bool data;                  /* any data: else verdict idle */
	double transfer_s;
	double frac[3];             /* sender, receiver, network */
	enum nd_verdict vid;
	const char *verdict;        /* its name: "sender-limited", ..., "mixed", "idle" */
	double flight_mean, cwnd_mean;
	uint32_t flight_max, cwnd_max, cwnd_final;
	uint32_t delack_n;
	uint64_t delack_added_us;
	double delack_share;
	uint32_t react_p50_us, react_max_us, react_n;   /* p50: 0 with <= 4 samples */
	double react_mean_us;
	uint32_t small_segs, idle_gaps;
	double idle_s;
};

void nd_lim_result(const struct nd_conn *c, int side, struct nd_lim_result *r);

const char *nd_lim_verdict_name(unsigned vid);

/* Transaction latency percentile @q in us (0 without transactions). */
uint32_t nd_lim_txn_quantile(const struct nd_lim_conn *lc, double q);

/* Index of a stall overlapping [start, start + dur], or -1. */
int nd_lim_stall_for(const struct nd_lim_conn *lc, uint64_t start, uint64_t dur);

/* End-of-connection work (an unanswered SYN, the last transaction); call
 * once before reporting. Idempotent. */
void nd_lim_finish(struct nd_conn *c);

/* Free what the connection allocated (idempotent). */
void nd_lim_release(struct nd_conn *c);

#endif
