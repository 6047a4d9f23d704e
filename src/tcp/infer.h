/* SPDX-License-Identifier: MIT */
/*
 * infer: per-direction TCP inference (RTT, retransmissions, dupacks,
 * zero windows, reordering, capture loss), fed by the connection tracker
 * (conn.c) with every decoded segment of a connection. Pure: no I/O, no
 * clock, no printing. All sequence arithmetic is modulo 2^32.
 *
 * Rules (the "sender" of a direction is the side that sends its data; the
 * "receiver" is the other side, whose ACKs cover it):
 *  - Sequence space: the first SYN (or, without a handshake, the first
 *    segment seen) starts a direction; SYN and FIN take one sequence
 *    number; snd_nxt is the highest sequence end seen, snd_una the highest
 *    cumulative ACK seen from the receiver.
 *  - Outstanding data is kept in a ring of ranges per direction (2 entries,
 *    grown on demand up to ND_INFER_RING_MAX). When the ring is full, a
 *    new segment extends the newest range (or two neighbouring ranges are
 *    merged): coverage stays known, but the merged segments give no
 *    data-to-ACK sample (counted in rtt_untracked).
 *  - RTT (data-to-ACK): an ACK that advances snd_una gives one sample, from
 *    the newest range it fully covers to the ACK, unless any range it
 *    covers was retransmitted (Karn), was SACKed before, or is a merged
 *    range. Failing that, when the ACK carries timestamps and its TSecr
 *    equals the TSval of a range it covers (as last sent), the sample runs
 *    from that transmission to the ACK (RFC 7323; Karn-free, first echo
 *    only because covered ranges are dropped). At most one sample per ACK.
 *  - Retransmission: a segment with sequence space below snd_nxt that
 *    overlaps a range already seen (or lies wholly below snd_una).
 *    Keep-alives (<= 1 byte at snd_nxt - 1, no FIN) and zero-window probes
 *    (<= 1 byte while the receiver advertises a zero window) are not.
 *    SYN retransmissions are counted apart (syn_retrans).
 *  - rto_retrans: the sender was silent (no segment sent by it, no ACK
 *    from the receiver) for at least max(200 ms, srtt + 4 * rttvar).
 *  - fast_retrans: not rto, and the receiver sent >= 3 dupacks for the
 *    segment's start or SACKed data above it, the latest such evidence
 *    within max(2 * srtt, 20 ms) before the retransmission. Others (tail
 *    loss probes, go-back-N after a timeout without SACK) are in neither.
 *  - spurious_retrans: the segment was wholly below snd_una when sent, or
 *    a later D-SACK (RFC 2883: first block below the ACK or inside the
 *    second block) covers one of the last ND_INFER_RECENT retransmissions.
 *    Each retransmission is spurious at most once.
 *  - out_of_order: a segment wholly inside a never-seen hole below snd_nxt
 *    (reordering, or the original was lost before the capture point; not
 *    a retransmission here). out_of_order_retrans: those of them that
 *    came after the receiver asked for them (dupacks at their start, or
 *    SACK above them): most likely retransmissions of segments lost
 *    upstream of the capture point.
 *  - capture_loss: bytes an ACK covers that the capture never saw (holes
 *    and data beyond snd_nxt), with the number of such holes; not network
 *    loss.
 *  - dupacks (counted for the side that sends them): pure ACK (no data,
 *    SYN, FIN, RST), same ACK number as that side's previous ACK, while
 *    the other side has data outstanding, the window not zero (those are
 *    zero-window probe ACKs) and the same window (RFC 5681; RFC 6675 would
 *    also count an ACK with new SACK blocks whose window changed: not done).
 *  - zero_window (side that advertises it): window field 0 on a segment
 *    without SYN, FIN or RST.
 *  - A segment with sequence space (data, SYN or FIN) identical to the previous one of the connection (same
 *    direction, seq, ack, length, flags, window, timestamps) captured less
 *    than 1 ms after it, with nothing in between, is the same frame
 *    captured twice (mirror ports, several interfaces): counted in
 *    dup_frames and otherwise ignored (no sender retransmits that fast).
 *  - Without the handshake, sequence space below the first sequence number
 *    seen was sent before the capture started: a segment there is a
 *    retransmission, and ACKing it is not capture loss.
 *  - Window: scaled by the sender's shift when both SYNs were seen (RFC
 *    7323), else raw and win_scaled false.
 *  - Window scale without the SYN of the side advertising the windows: on
 *    every segment of new data of the other side (sent within the window
 *    of the latest ACK; retransmissions are not), once both ACKs and windows are
 *    known, the flight (snd_nxt - snd_una as the capture sees them) against
 *    the raw window W (> 0) the sender uses (updated as RFC 793 SND.WL1/
 *    WL2: a reordered or duplicate ACK does not shrink it) gives the smallest shift s in
 *    0..14 with flight <= (W << s) + MSS (MSS: the largest payload that
 *    side sent); the inferred shift is the largest such s over the
 *    connection (O(1) per packet), leaving out up to max(2, 1 %) of the
 *    samples that need the most: a capture that lost a burst of ACKs shows
 *    one inflated flight after it (counts per shift, in the extension
 *    block, which only connections without the handshake get). It is exact after ND_WS_MIN_SAMPLES
 *    samples with at least one flight above W + MSS and at least
 *    ND_WS_MIN_TIGHT flights that filled the window at that shift (within
 *    max(3 MSS, 1/32 of it)),
 *    and the flights still doing so at the end (an average over the last
 *    ~16 samples of at least one half): the sender was held by the window,
 *    following it, which a larger true shift would not explain (a window
 *    that grows past a steady flight fills 7/8 of it now and then by
 *    coincidence, not lastingly); otherwise, as when the flight stays far below the
 *    window (a cwnd- or application-limited sender), it is only a lower
 *    bound. Exact shifts also scale the reported windows.
 */
#ifndef NETDX_TCP_INFER_H
#define NETDX_TCP_INFER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/decode.h"
#include "tcp/limits.h"
#include "tcp/rtthist.h"

#define ND_INFER_RING_MIN 2
#define ND_INFER_RING_MAX 64
#define ND_INFER_RECENT 4
#define ND_WS_MIN_SAMPLES 10
#define ND_WS_MIN_TIGHT 3

/* Allocated on demand (the 5th RTT sample, or the first retransmission),
 * so short connections stay small. */
#define ND_RTT_INLINE 4
struct nd_infer_ext {
	struct nd_rtt_hist rtt;
	struct nd_rtt_hist react;   /* the sender's reaction times (limits.c) */
	/* window scale inference: flights that needed shift s (and filled 7/8
	 * of the window at it), so a few inflated by ACKs the capture lost
	 * do not decide it */
	uint32_t ws_need_n[15], ws_tight_n[15];
	uint32_t ws_held;           /* EWMA (1/16, Q16) of "this flight filled the window" */
	uint8_t recent_n;           /* recent retransmissions, [0] newest */
	struct { uint32_t seq, end; bool spurious; } recent[ND_INFER_RECENT];
};

/* One range of sequence space the sender sent, still not cumulatively ACKed. */
struct nd_seg {
	uint32_t seq, end;
	uint64_t t;             /* time of its latest transmission */
	uint32_t tsval;         /* TSval of that transmission (if ND_SEG_TS) */
	uint8_t flags;          /* ND_SEG_* */
};

#define ND_SEG_RETX 0x01    /* (partly) retransmitted: no seq-based RTT sample */
#define ND_SEG_SACKED 0x02  /* covered by a SACK block */
#define ND_SEG_MERGED 0x04  /* several segments merged (ring full): no seq sample */
#define ND_SEG_TS 0x08

struct nd_infer_dir {
	/* --- results --- */
	uint32_t retrans_pkts, fast_retrans, rto_retrans, spurious_retrans;
	uint32_t syn_retrans;
	uint32_t dupacks;           /* sent by this side */
	uint32_t zero_window;       /* advertised by this side */
	uint32_t zero_window_probes, keep_alives;
	uint32_t out_of_order, out_of_order_retrans;
	uint32_t capture_loss_events, dsack;
	uint64_t capture_loss_bytes;
	uint32_t dup_frames;        /* the same frame captured again: ignored */
	uint32_t rtt_untracked;     /* segments merged or not tracked: no seq-based sample */
	uint32_t rtt_ts_samples;    /* samples taken from timestamps */
	uint32_t win_min, win_max;  /* advertised by this side (scaled if win_scaled) */
	bool win_scaled, win_seen;
	uint32_t rtt_n, rtt_min_us, rtt_max_us;     /* exact */
	uint32_t rtt_first[ND_RTT_INLINE];          /* the first samples, exact */

	/* --- state: this side as sender --- */
	bool seq_init, una_init, sack_high_valid, nomem, pre_valid, zwp_pending;
	uint32_t zwp_seq;           /* one-byte window probe of new data, not yet sent for good */
	uint32_t pre_start;         /* no handshake: sequence below it was sent before the capture */
	uint32_t fp;                /* fingerprint of the last segment sent */
	uint64_t last_pkt_ts;       /* and its time */
	uint32_t snd_nxt, snd_una, sack_high;   /* sack_high: from the receiver */
	uint64_t last_tx_ts;        /* last segment with sequence space sent */
	uint32_t srtt_us, rttvar_us;
	struct nd_seg *ring;
	uint8_t head, count, cap;
	struct nd_infer_ext *ext;

	/* --- state: this side as receiver (its ACKs) --- */
	bool ack_init;
	uint16_t last_win;          /* raw */
	uint32_t last_ack;
	uint32_t dup_streak;        /* dupacks in a row at last_ack */
	uint64_t last_ack_ts;       /* last ACK sent */
	uint64_t evidence_ts;       /* last dupack or SACK sent */

	/* --- window scale inference (no SYN from this side) --- */
	uint32_t max_seg;           /* as sender: largest payload sent */
	uint32_t ws_samples;        /* flights of the other side measured against our windows */
	uint8_t ws_need;            /* smallest shift that fits every flight so far */
	bool ws_exceeded;           /* a flight was above raw window + MSS */
	uint8_t ws_tight_s, ws_tight_n;     /* largest shift at which a flight filled the window; how often */
	bool ws_win_init;
	uint16_t ws_win;            /* raw window the other side uses (RFC 793 WL1/WL2 rule) */
	uint32_t ws_wl1;            /* sequence number of the segment it came from */

	/* --- the last packet's RTT sample, for limits.c --- */
	bool ev_sample, ev_single;
	uint32_t ev_sample_us;

	/* --- what limits this direction (limits.h) --- */
	struct nd_lim lim;
};

struct nd_conn;
struct nd_dir;

/* nd_infer_wscale - window scale of the windows side @d advertises,
 * inferred when its SYN was not seen: the shift, or -1 when not inferred
 * (SYN seen, or no flight measured). *@lower_bound tells whether the
 * evidence only gives a lower bound. */
int nd_infer_wscale(const struct nd_dir *d, bool *lower_bound);

/* nd_infer_window - min and max window @d advertised, scaled by the shift
 * from both SYNs or an exact inferred one; returns whether scaled. False
 * (and nothing set) when no window was seen. */
bool nd_infer_window(const struct nd_dir *d, uint32_t *min, uint32_t *max, bool *scaled);

/* nd_infer_packet - account segment @p sent by key side @side at @ts.
 * Called by the tracker after its own accounting (not for malformed
 * segments). */
void nd_infer_packet(struct nd_conn *c, int side, const struct nd_pkt *p, uint64_t ts);

/* RTT median of @d in us (exact up to ND_RTT_INLINE samples, from the
 * histogram above); 0 without samples. Valid until nd_infer_release. */
uint32_t nd_infer_rtt_p50(const struct nd_infer_dir *d);

/* The direction's extension block, allocated on first use (NULL when out
 * of memory). */
struct nd_infer_ext *nd_infer_ext_get(struct nd_infer_dir *d);

/* nd_infer_release - free the per-direction memory of @c (idempotent). */
void nd_infer_release(struct nd_conn *c);

/* Current RTO threshold used for the rto rule, in ns. */
uint64_t nd_infer_rto_ns(const struct nd_infer_dir *d);

#endif
