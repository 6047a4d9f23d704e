/* SPDX-License-Identifier: MIT */
/*
 * sched: the pure packet pipeline of one direction of `netdx emu`, the
 * user-space bottleneck-link emulator.
 *
 *   arrival -> loss model -> queue discipline (buffer limit, AQM)
 *           -> token-bucket rate shaper -> delay line (delay + jitter)
 *           -> handed back to the caller when due
 *
 * The engine never sees frame bytes: a packet is an opaque slot index the
 * caller owns, its length, a flow hash (for FQ-CoDel) and its arrival
 * time. Every slot given to nd_emu_enqueue comes back exactly once: as a
 * drop verdict of that call, in the dropped array of a later poll, or in
 * the out array of a later poll when its departure time has come.
 *
 * Time is a uint64_t in nanoseconds passed in by the caller (any
 * monotonic origin); the engine reads no clock, does no I/O, keeps no
 * globals and allocates only in nd_emu_init (and in nd_emu_reconfigure
 * when it switches to FQ-CoDel with more flows than ever before). Times
 * must not go backwards; an earlier time is treated as the latest one
 * seen. All events are computed at their exact instants (the instant a
 * packet's tokens are complete, a PIE update tick, ...), and each call
 * first brings the engine up to its `now`, so the result does not depend
 * on how often or how late the caller polls, only on the arrival times.
 *
 * Rate: a token bucket counted in bit-nanoseconds (rate_bps units per ns,
 * 8e9 units per byte), so refill is exact integer arithmetic with no
 * drift. A packet leaves the queue at the first nanosecond at which the
 * bucket holds (len + overhead_bytes) bytes; the bucket starts full.
 * Jitter is uniform in [-jitter_ns, +jitter_ns]; a departure is never
 * earlier than the packet's dequeue time.
 *
 * Queue discipline details:
 *  - FIFO: tail drop at the buffer limit.
 *  - CoDel: RFC 8289 (drop at dequeue, control law interval/sqrt(count),
 *    the Linux count re-use rule; "maxpacket" is cfg.mtu).
 *  - PIE: RFC 8033 with timestamps: the queue delay is the sojourn of the
 *    last dequeued packet (0 when that dequeue emptied the queue), as
 *    Linux does without dq_rate_estimator. Drop probability updated every
 *    tupdate with the auto-tuned alpha/beta scaling, the 2% cap above 10%,
 *    the 0.98 decay when idle, burst allowance, derandomisation
 *    (accu_prob), drop at enqueue (counted as AQM drops).
 *  - FQ-CoDel: RFC 8290 (flow = hash % flows, DRR with quantum, new and
 *    old lists, CoDel per flow with the total backlog as its "bytes()").
 *    On overflow it drops one packet at a time from the head of the flow
 *    with the largest byte backlog (O(flows) scan per overflow, no batch
 *    drop), counted as buffer drops; if that is the arriving packet the
 *    verdict says so, other victims come back through poll.
 *
 * Buffer limits (limit_bytes, limit_pkts) count every packet that has not
 * yet left through the shaper, including one that the queue discipline
 * has already handed out and that waits for tokens; queue_bytes never
 * exceeds limit_bytes. The engine's own capacity (max_pkts) counts
 * queued packets, the delay line and dropped slots not yet handed back;
 * beyond it arrivals are dropped as ND_EMU_DROP_ENGINE_FULL.
 *
 * Random numbers: xoshiro256** seeded through splitmix64 from cfg.seed,
 * one stream each for loss, jitter and PIE, so the same seed and the same
 * arrivals give the same result, and enabling jitter does not change which
 * packets are lost.
 *
 * Not thread safe: one thread drives an nd_emu.
 */
#ifndef NETDX_EMU_SCHED_H
#define NETDX_EMU_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hist.h"

/* Limits checked by nd_emu_cfg_resolve. */
#define ND_EMU_RATE_MAX UINT64_C(1000000000000)        /* 1 Tbit/s */
#define ND_EMU_BURST_MAX (UINT64_C(1) << 30)           /* 1 GiB */
#define ND_EMU_MTU_MAX 65536u
#define ND_EMU_OVERHEAD_MAX 256u
#define ND_EMU_TIME_MAX UINT64_C(3600000000000)        /* 1 h: delays, jitter, AQM times */
#define ND_EMU_FLOWS_MAX 65536u
#define ND_EMU_PKTS_MAX (1u << 24)                     /* max_pkts of nd_emu_init */

enum nd_emu_qdisc { ND_QD_FIFO = 0, ND_QD_CODEL, ND_QD_PIE, ND_QD_FQ_CODEL };

enum nd_emu_verdict {
	ND_EMU_QUEUED = 0,
	ND_EMU_DROP_LOSS,        /* loss model (random or Gilbert-Elliott) */
	ND_EMU_DROP_BUFFER,      /* buffer limit (FQ-CoDel: fattest flow) */
	ND_EMU_DROP_AQM,         /* PIE at enqueue (CoDel drops at dequeue) */
	ND_EMU_DROP_ENGINE_FULL, /* max_pkts of the engine reached */
	ND_EMU_DROP_MTU,         /* len > cfg.mtu: the link cannot carry it */
};

/*
 * Settings of one direction. Zero means "default" or "off" everywhere, so
 * a zeroed struct is an unlimited FIFO link with no delay and no loss.
 */
struct nd_emu_cfg {
	uint64_t rate_bps;          /* 0 = unlimited */
	uint64_t burst_bytes;       /* bucket depth; 0 = max(2 * (mtu + overhead), rate * 1 ms) */
	uint32_t overhead_bytes;    /* added to each packet for the rate (24: Ethernet on the wire) */
	uint32_t mtu;               /* largest packet length accepted; 0 = 1514 */
	uint64_t delay_ns, jitter_ns;
	bool reorder;               /* false: departures are made monotonic */
	uint64_t limit_bytes, limit_pkts;   /* buffer; 0 = none (limit_bytes >= mtu) */
	double loss_random;         /* probability 0..1 per packet */
	double ge_p, ge_r;          /* Gilbert-Elliott good->bad, bad->good; on if ge_p > 0 */
	double ge_loss_good;        /* loss probability in the good state (1 - k) */
	double ge_loss_bad;         /* loss probability in the bad state (1 - h) */
	enum nd_emu_qdisc qdisc;
	uint64_t target_ns;         /* 0 = 5 ms (CoDel, FQ-CoDel), 15 ms (PIE) */
	uint64_t interval_ns;       /* CoDel, FQ-CoDel; 0 = 100 ms */
	uint32_t flows;             /* FQ-CoDel; 0 = 1024 */
	uint32_t quantum;           /* FQ-CoDel; 0 = 1514 */
	uint64_t pie_tupdate_ns;    /* 0 = 15 ms */
	uint64_t pie_max_burst_ns;  /* 0 = 150 ms (use 1 for "no burst allowance") */
	double pie_alpha, pie_beta; /* 1/s; 0 = 0.125 and 1.25 */
	uint64_t seed;              /* PRNG seed; used by nd_emu_init only */
};

/* Statistics of one direction (see nd_emu_get_stats). */
struct nd_emu_stats {
	uint64_t in_pkts, in_bytes;     /* every packet offered to nd_emu_enqueue */
	uint64_t out_pkts, out_bytes;   /* handed out by poll as due */
	uint64_t drop_loss, drop_buffer, drop_aqm, drop_engine_full, drop_mtu;
	uint64_t queue_bytes, queue_pkts;           /* now: waiting for the shaper */
	uint64_t queue_bytes_max, queue_pkts_max;   /* largest ever */
	uint64_t delay_line_pkts;                   /* now: past the shaper, not yet due */
	uint64_t drop_pending;                      /* now: dropped slots not yet handed back */
	uint64_t busy_ns;   /* sum of (len + overhead) * 8 / rate over sent packets: the
			     * time the link spent sending (0 when unlimited) */
	struct nd_hist sojourn_ns;      /* per packet: arrival -> leaving the shaper */
};

/* Private parts of struct nd_emu. */
struct nd_emu_pkt;
struct nd_emu_flow;

struct nd_emu_codel {
	uint64_t first_above, drop_next;
	uint32_t count, lastcount;
	bool dropping;
};

struct nd_emu_pie {
	double drop_prob, accu_prob;
	uint64_t qdelay, qdelay_old, burst_left, next_update;
	bool armed;
};

/* One direction's engine. The caller owns the struct; fields are private. */
struct nd_emu {
	struct nd_emu_cfg cfg;          /* resolved (defaults filled in) */
	uint32_t max_pkts;
	struct nd_emu_pkt *pkts;        /* max_pkts descriptors */
	uint32_t free_head;
	uint32_t *ring;                 /* FIFO/CoDel/PIE queue */
	uint32_t ring_head, ring_len;
	struct nd_emu_flow *flows;      /* FQ-CoDel */
	uint32_t flows_cap;
	uint32_t new_head, new_tail, old_head, old_tail;
	uint64_t qd_bytes, qd_pkts;     /* inside the queue discipline */
	uint32_t staged;                /* dequeued by the qdisc, waiting for tokens */
	struct nd_emu_codel codel;
	struct nd_emu_pie pie;
	uint32_t *heap;                 /* delay line, by (departure, send order) */
	uint32_t heap_len;
	uint64_t last_dep;
	uint32_t *drops;                /* dropped slots to hand back */
	uint32_t drop_head, drop_len;
	uint32_t *scratch;
	uint64_t tokens, tb_time, t_free, busy_rem;
	uint64_t now, seq, oseq;
	uint64_t rng_loss[4], rng_jit[4], rng_aqm[4];
	bool ge_bad;
	struct nd_emu_stats st;
};

/*
 * nd_emu_cfg_resolve - check @in and write it to @out with every default
 * filled in (@out may be @in). Returns 0, or -1 with a one-line reason in
 * @err (when @errlen > 0) and @out untouched.
 */
int nd_emu_cfg_resolve(const struct nd_emu_cfg *in, struct nd_emu_cfg *out, char *err, size_t errlen);

/*
 * nd_emu_bdp_bytes - the bandwidth-delay product of @rate_bps over
 * @rtt_ns, in bytes (rounded down): for buffer sizes such as "0.5bdp".
 */
uint64_t nd_emu_bdp_bytes(uint64_t rate_bps, uint64_t rtt_ns);

/*
 * nd_emu_init - set up @e for settings @c, holding at most @max_pkts
 * (1..ND_EMU_PKTS_MAX) packets in queue, delay line and pending drops
 * together. All memory is allocated here. Returns 0, or -1 with a reason
 * in @err; on failure @e needs no nd_emu_free (calling it is harmless).
 */
int nd_emu_init(struct nd_emu *e, const struct nd_emu_cfg *c, uint32_t max_pkts, char *err,
		size_t errlen);

/* nd_emu_free - release @e's memory. Slots still held are simply
 * forgotten (the caller owns them). Safe on a zeroed or freed struct. */
void nd_emu_free(struct nd_emu *e);

/*
 * nd_emu_reconfigure - apply @c from time @now on, keeping every packet.
 * The engine is first brought up to @now under the old settings; tokens
 * earned until @now are kept (clamped to the new depth; from unlimited,
 * the bucket starts full). A new rate applies to every packet not yet
 * sent, including one waiting for tokens. A new delay or jitter applies
 * to packets dequeued from @now on. A change of queue discipline (or of
 * the FQ-CoDel flow count) moves the queued packets, in arrival order and
 * with their arrival times, into the new discipline's fresh state (no AQM
 * drops while doing so). Then, if the queue is above the (new) buffer
 * limit, packets are dropped as buffer drops (FIFO/CoDel/PIE: the newest;
 * FQ-CoDel: heads of the fattest flow) and come back through poll. The
 * seed is not changed. Returns 0, or -1 with a reason and @e unchanged.
 */
int nd_emu_reconfigure(struct nd_emu *e, const struct nd_emu_cfg *c, uint64_t now, char *err,
		       size_t errlen);

/*
 * nd_emu_enqueue - packet @slot of @len bytes in flow @flow_hash arrives
 * at @now. Returns ND_EMU_QUEUED (the engine holds the slot) or the drop
 * reason (the slot is the caller's again). Drops of other packets that
 * this arrival causes (FQ-CoDel overflow) come back through poll.
 */
enum nd_emu_verdict nd_emu_enqueue(struct nd_emu *e, uint32_t slot, uint32_t len, uint32_t flow_hash,
				   uint64_t now);

/*
 * nd_emu_poll - advance to @now (dequeue through the shaper into the
 * delay line, AQM drops), then hand back up to @max_dropped dropped slots
 * in @dropped (count in *@ndropped; @dropped may be NULL with
 * @max_dropped 0, @ndropped may be NULL) and up to @max slots whose
 * departure time is <= @now in @out, in departure order. Returns the
 * number written to @out. What does not fit stays for the next call.
 */
uint32_t nd_emu_poll(struct nd_emu *e, uint64_t now, uint32_t *out, uint32_t max, uint32_t *dropped,
		     uint32_t max_dropped, uint32_t *ndropped);

/* nd_emu_poll_due - nd_emu_poll that also writes each packet's exact
 * departure time to @due[i] (@due may be NULL). */
uint32_t nd_emu_poll_due(struct nd_emu *e, uint64_t now, uint32_t *out, uint64_t *due, uint32_t max,
			 uint32_t *dropped, uint32_t max_dropped, uint32_t *ndropped);

/*
 * nd_emu_next_event - when poll will next make progress: the earliest of
 * the next departure, the instant the next packet's tokens are complete
 * (its dequeue), and @now if dropped slots wait to be handed back.
 * UINT64_MAX if there is nothing. May be <= @now: poll right away.
 */
uint64_t nd_emu_next_event(const struct nd_emu *e, uint64_t now);

/* nd_emu_get_stats - copy the statistics of @e to @s. */
void nd_emu_get_stats(const struct nd_emu *e, struct nd_emu_stats *s);

#endif
