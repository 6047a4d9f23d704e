/* SPDX-License-Identifier: MIT */
/* TCP inference per direction; the rules are in infer.h. */
#include "tcp/infer.h"

#include <stdlib.h>
#include <string.h>

#include "tcp/conn.h"
#include "tcp/seq.h"

#define MS_NS 1000000ull
#define RTO_MIN_NS (200 * MS_NS)
#define FAST_WINDOW_MIN_NS (20 * MS_NS)
/* An ACK or SACK edge further than this from what was seen is not trusted. */
#define SANE_SPAN (1u << 30)
#define DUP_FRAME_NS MS_NS


/* ---- RTT histogram ---- */

static unsigned rh_bucket(uint32_t v)
{
	unsigned e;

	if (v < 8)
		return v;
	e = 31u - (unsigned)__builtin_clz(v);           /* 2^e <= v */
	if (e > 22)
		return ND_RH_NBUCKETS - 1;
	return 8 + (e - 3) * ND_RH_SUB + ((v >> (e - 3)) & (ND_RH_SUB - 1));
}

/* Middle of bucket @b. */
static double rh_mid(unsigned b)
{
	unsigned e, s;
	double lo, w;

	if (b < 8)
		return b;
	e = 3 + (b - 8) / ND_RH_SUB;
	s = (b - 8) % ND_RH_SUB;
	w = (double)(1u << (e - 3));
	lo = (double)(1u << e) + s * w;
	return lo + (w - 1) / 2;
}

void nd_rh_record(struct nd_rtt_hist *h, uint32_t us)
{
	unsigned b = rh_bucket(us);

	if (h->c[b] == UINT16_MAX)
		for (unsigned i = 0; i < ND_RH_NBUCKETS; i++)
			h->c[i] = (uint16_t)((h->c[i] + 1) / 2);
	h->c[b]++;
}

uint32_t nd_rh_quantile(const struct nd_rtt_hist *h, double q, uint32_t min, uint32_t max)
{
	uint64_t tot = 0, acc = 0, rank;
	double v;

	for (unsigned i = 0; i < ND_RH_NBUCKETS; i++)
		tot += h->c[i];
	if (!tot)
		return 0;
	/* nearest rank: the ceil(q * n)-th smallest */
	rank = (uint64_t)(q * (double)tot + 0.999999);
	rank = rank ? rank - 1 : 0;
	if (rank >= tot)
		rank = tot - 1;
	for (unsigned i = 0; i < ND_RH_NBUCKETS; i++) {
		acc += h->c[i];
		if (acc > rank) {
			v = i == ND_RH_NBUCKETS - 1 ? max : rh_mid(i);
			if (v < min)
				v = min;
			if (v > max)
				v = max;
			return (uint32_t)(v + 0.5);
		}
	}
	return max;
}

struct nd_infer_ext *nd_infer_ext_get(struct nd_infer_dir *d)
{
	if (!d->ext && !d->nomem) {
		d->ext = calloc(1, sizeof(*d->ext));
		if (!d->ext)
			d->nomem = true;
	}
	return d->ext;
}

static struct nd_infer_ext *ext(struct nd_infer_dir *d)
{
	return nd_infer_ext_get(d);
}

uint32_t nd_rh_small_quantile(const uint32_t *in, uint32_t n, double q)
{
	uint32_t v[ND_RH_INLINE], rank;

	if (!n)
		return 0;
	if (n > ND_RH_INLINE)
		n = ND_RH_INLINE;
	memcpy(v, in, n * sizeof(v[0]));
	for (uint32_t i = 1; i < n; i++)        /* insertion sort of <= 4 */
		for (uint32_t k = i; k > 0 && v[k - 1] > v[k]; k--) {
			uint32_t x = v[k];
			v[k] = v[k - 1];
			v[k - 1] = x;
		}
	rank = (uint32_t)(q * n + 0.999999);    /* nearest rank */
	return v[(rank ? (rank > n ? n : rank) : 1) - 1];
}

uint32_t nd_infer_rtt_p50(const struct nd_infer_dir *d)
{
	if (d->rtt_n > ND_RTT_INLINE && d->ext)
		return nd_rh_quantile(&d->ext->rtt, 0.5, d->rtt_min_us, d->rtt_max_us);
	return nd_rh_small_quantile(d->rtt_first, d->rtt_n, 0.5);
}

/* ---- RTT estimator (RFC 6298) ---- */

static void rtt_sample(struct nd_infer_dir *d, uint64_t ns)
{
	uint32_t us = ns / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(ns / 1000);

	if (d->rtt_n < ND_RTT_INLINE) {
		d->rtt_first[d->rtt_n] = us;
	} else if (ext(d)) {
		if (d->rtt_n == ND_RTT_INLINE)
			for (unsigned i = 0; i < ND_RTT_INLINE; i++)
				nd_rh_record(&d->ext->rtt, d->rtt_first[i]);
		nd_rh_record(&d->ext->rtt, us);
	}
	if (!d->rtt_n || us < d->rtt_min_us)
		d->rtt_min_us = us;
	if (us > d->rtt_max_us)
		d->rtt_max_us = us;
	d->rtt_n++;
	if (d->rtt_n == 1) {
		d->srtt_us = us;
		d->rttvar_us = us / 2;
	} else {
		uint32_t err = us > d->srtt_us ? us - d->srtt_us : d->srtt_us - us;
		d->rttvar_us = (uint32_t)(((uint64_t)d->rttvar_us * 3 + err) / 4);
		d->srtt_us = (uint32_t)(((uint64_t)d->srtt_us * 7 + us) / 8);
	}
}

uint64_t nd_infer_rto_ns(const struct nd_infer_dir *d)
{
	uint64_t r;

	if (!d->rtt_n)
		return RTO_MIN_NS;
	r = ((uint64_t)d->srtt_us + 4ull * d->rttvar_us) * 1000;
	return r > RTO_MIN_NS ? r : RTO_MIN_NS;
}

/* ---- the ring of outstanding ranges ---- */

static inline struct nd_seg *at(struct nd_infer_dir *d, unsigned i)
{
	return &d->ring[(d->head + i) & (d->cap - 1u)];
}

static bool ring_grow(struct nd_infer_dir *d)
{
	unsigned ncap = d->cap ? d->cap * 2u : ND_INFER_RING_MIN;
	struct nd_seg *n;

	if (d->nomem || ncap > ND_INFER_RING_MAX)
		return false;
	n = malloc(ncap * sizeof(*n));
	if (!n) {
		d->nomem = true;
		return false;
	}
	for (unsigned i = 0; i < d->count; i++)
		n[i] = *at(d, i);
	free(d->ring);
	d->ring = n;
	d->head = 0;
	d->cap = (uint8_t)ncap;
	return true;
}

static void ring_remove(struct nd_infer_dir *d, unsigned i)
{
	for (unsigned k = i; k + 1 < d->count; k++)
		*at(d, k) = *at(d, k + 1);
	d->count--;
}

/* Make room for one more entry: grow, else merge two neighbours (a
 * contiguous pair if there is one, else the two newest). */
static bool ring_room(struct nd_infer_dir *d)
{
	unsigned i;

	if (d->count < d->cap || ring_grow(d))
		return true;
	if (d->count < 2)
		return false;
	for (i = 0; i + 1 < d->count; i++)
		if (at(d, i)->end == at(d, i + 1)->seq)
			break;
	if (i + 1 >= d->count)
		i = d->count - 2u;
	d->rtt_untracked++;
	at(d, i)->end = at(d, i + 1)->end;
	at(d, i)->flags |= (uint8_t)(at(d, i + 1)->flags | ND_SEG_MERGED);
	ring_remove(d, i + 1);
	return true;
}

static void seg_fill(struct nd_seg *s, uint32_t seq, uint32_t end, uint64_t ts,
		     const struct nd_pkt *p, uint8_t flags)
{
	s->seq = seq;
	s->end = end;
	s->t = ts;
	s->tsval = p->opt.has_ts ? p->opt.tsval : 0;
	s->flags = (uint8_t)(flags | (p->opt.has_ts ? ND_SEG_TS : 0));
}

/* Append new data [seq, end) at the top. */
static void ring_append(struct nd_infer_dir *d, uint32_t seq, uint32_t end, uint64_t ts,
			const struct nd_pkt *p)
{
	if (d->count == d->cap && d->cap == ND_INFER_RING_MAX && d->count) {
		struct nd_seg *last = at(d, d->count - 1u);
		if (last->end == seq) {        /* full: extend the newest range */
			last->end = end;
			last->flags |= ND_SEG_MERGED;
			d->rtt_untracked++;
			return;
		}
	}
	if (!ring_room(d)) {
		d->rtt_untracked++;
		return;
	}
	seg_fill(at(d, d->count), seq, end, ts, p, 0);
	d->count++;
}

/* Insert [seq, end) (inside a hole) in sequence order. */
static void ring_insert(struct nd_infer_dir *d, uint32_t seq, uint32_t end, uint64_t ts,
			const struct nd_pkt *p, uint8_t flags)
{
	unsigned i;

	if (!ring_room(d)) {
		d->rtt_untracked++;
		return;
	}
	for (i = 0; i < d->count; i++)
		if (sgt(at(d, i)->seq, seq))
			break;
	d->count++;
	for (unsigned k = d->count - 1u; k > i; k--)
		*at(d, k) = *at(d, k - 1);
	seg_fill(at(d, i), seq, end, ts, p, flags);
}

/* ---- the sender side ---- */

static void note_retrans(struct nd_infer_dir *d, uint32_t seq, uint32_t end, bool spurious)
{
	struct nd_infer_ext *x = ext(d);
	unsigned n;

	if (!x)
		return;
	n = x->recent_n < ND_INFER_RECENT ? x->recent_n + 1u : ND_INFER_RECENT;
	for (unsigned k = n - 1; k > 0; k--)
		x->recent[k] = x->recent[k - 1];
	x->recent[0].seq = seq;
	x->recent[0].end = end;
	x->recent[0].spurious = spurious;
	x->recent_n = (uint8_t)n;
}

/* Did the receiver @r ask for [seq, ...) recently: >= @ndup dupacks at seq,
 * or SACK above it? */
static bool receiver_asked(const struct nd_infer_dir *s, const struct nd_infer_dir *r,
			   uint32_t seq, unsigned ndup)
{
	if (r->ack_init && r->last_ack == seq && r->dup_streak >= ndup)
		return true;
	return s->sack_high_valid && sgt(s->sack_high, seq);
}

static void classify_retrans(struct nd_infer_dir *d, const struct nd_infer_dir *o, uint32_t seq,
			     uint64_t ts)
{
	uint64_t quiet = d->last_tx_ts > o->last_ack_ts ? d->last_tx_ts : o->last_ack_ts;
	uint64_t win = 2ull * d->srtt_us * 1000;

	if (win < FAST_WINDOW_MIN_NS)
		win = FAST_WINDOW_MIN_NS;
	if (ts >= quiet && ts - quiet >= nd_infer_rto_ns(d))
		d->rto_retrans++;
	else if (receiver_asked(d, o, seq, 3) && o->evidence_ts && ts >= o->evidence_ts &&
		 ts - o->evidence_ts <= win)
		d->fast_retrans++;
}

static void sender(struct nd_infer_dir *d, const struct nd_infer_dir *o, const struct nd_pkt *p,
		   uint64_t ts)
{
	uint32_t len = p->payload_len, s = p->seq, e;
	bool fin = p->flags & ND_TH_FIN;
	unsigned i;
	bool seen = false, zw, below_ack;

	if (p->flags & ND_TH_SYN) {
		if (!d->seq_init) {
			d->seq_init = true;
			d->snd_nxt = s + 1u + len + fin;
		} else if (d->syn_retrans < UINT32_MAX && s + 1u == d->snd_nxt) {
			d->syn_retrans++;
		}
		d->last_tx_ts = ts;
		return;
	}
	e = s + len + fin;
	if (!d->seq_init) {
		d->seq_init = true;
		d->snd_nxt = s;
		d->pre_valid = true;
		d->pre_start = s;
	}
	if (d->pre_valid && d->una_init && sge(d->snd_una, d->pre_start))
		d->pre_valid = false;
	zw = o->win_seen && o->last_win == 0;
	below_ack = d->una_init && s + 1u == d->snd_una;
	if (!fin && len <= 1 &&
	    (below_ack || (s + 1u == d->snd_nxt && (len == 0 || zw || !d->una_init)))) {
		/* One byte (or none) just below what was acknowledged (a
		 * keep-alive), or the last byte again while the window is shut
		 * (a window probe). The last byte again while it is still
		 * unacknowledged and the window open is a retransmission (a
		 * one-byte request, say). */
		if (zw)
			d->zero_window_probes++;
		else
			d->keep_alives++;
		return;
	}
	if (e == s)
		return;                 /* no sequence space: nothing to track */
	if (d->zwp_pending && s == d->zwp_seq && len > 1) {
		/* The data after a one-byte window probe starts with that byte. */
		d->zwp_pending = false;
		if (sgt(e, d->snd_nxt)) {
			ring_append(d, s, e, ts, p);
			d->snd_nxt = e;
		}
		d->last_tx_ts = ts;
		return;
	}
	if (sge(s, d->snd_nxt)) {
		/* New data (a gap before it is a hole the capture missed). */
		if (!fin && len == 1 && zw && s == d->snd_nxt) {
			/* A probe of one new byte: not sent until accepted. */
			d->zero_window_probes++;
			d->zwp_pending = true;
			d->zwp_seq = s;
			d->last_tx_ts = ts;
			return;
		}
		d->zwp_pending = false;
		ring_append(d, s, e, ts, p);
		d->snd_nxt = e;
		d->last_tx_ts = ts;
		return;
	}
	if (sgt(e, d->snd_nxt))
		d->snd_nxt = e;
	if (!fin && len <= 1 && zw) {
		d->zero_window_probes++;
		return;
	}
	if (d->una_init && sle(e, d->snd_una)) {
		/* Wholly acknowledged already: a spurious retransmission. */
		d->retrans_pkts++;
		d->spurious_retrans++;
		classify_retrans(d, o, s, ts);
		note_retrans(d, s, e, true);
		d->last_tx_ts = ts;
		return;
	}
	/* Ranges it overlaps: mark them retransmitted. */
	for (i = 0; i < d->count; i++) {
		struct nd_seg *g = at(d, i);
		if (slt(g->seq, e) && sgt(g->end, s)) {
			seen = true;
			g->flags |= ND_SEG_RETX;
			g->t = ts;
			g->tsval = p->opt.has_ts ? p->opt.tsval : 0;
			g->flags = (uint8_t)((g->flags & ~ND_SEG_TS) | (p->opt.has_ts ? ND_SEG_TS : 0));
		}
	}
	if (d->pre_valid && slt(s, d->pre_start))
		seen = true;            /* sent before the capture started */
	if (!seen && d->ring && !(d->una_init && slt(s, d->snd_una))) {
		/* Inside a hole: never seen before. */
		d->out_of_order++;
		if (receiver_asked(d, o, s, 1))
			d->out_of_order_retrans++;
		ring_insert(d, s, e, ts, p, 0);
		d->last_tx_ts = ts;
		return;
	}
	/* Seen before (or partly below snd_una; or no ring to tell). */
	d->retrans_pkts++;
	classify_retrans(d, o, s, ts);
	note_retrans(d, s, e, false);
	d->last_tx_ts = ts;
	/* Parts of it inside holes are now seen. */
	if (d->ring) {
		uint32_t cur = d->una_init && slt(s, d->snd_una) ? d->snd_una : s;

		if (d->pre_valid && slt(cur, d->pre_start))
			cur = d->pre_start;
		uint32_t holes[4][2];
		unsigned nh = 0;

		for (i = 0; i < d->count && slt(cur, e) && nh < 4; i++) {
			struct nd_seg *g = at(d, i);
			if (sle(g->end, cur))
				continue;
			if (sgt(g->seq, cur)) {
				holes[nh][0] = cur;
				holes[nh++][1] = slt(g->seq, e) ? g->seq : e;
			}
			if (sgt(g->end, cur))
				cur = g->end;
		}
		if (nh < 4 && slt(cur, e)) {
			holes[nh][0] = cur;
			holes[nh++][1] = e;
		}
		for (i = 0; i < nh; i++)
			ring_insert(d, holes[i][0], holes[i][1], ts, p, ND_SEG_RETX);
	}
}

/* ---- the receiver side: ACK @ack from side r for data of sender s ---- */

static void pop(struct nd_infer_dir *d)
{
	d->head = (uint8_t)((d->head + 1u) & (d->cap - 1u));
	d->count--;
}

static void acked(struct nd_infer_dir *s, const struct nd_pkt *p, uint32_t ack, uint64_t ts)
{
	uint32_t una = s->snd_una;
	bool karn = false, have = false, ts_ok = false;
	uint64_t last_t = 0, ts_t = 0;
	uint8_t last_fl = 0;
	unsigned npop = 0;
	uint32_t last_len = 0;

	if (s->zwp_pending && s->snd_nxt == s->zwp_seq && ack == s->zwp_seq + 1u)
		s->snd_nxt = ack;       /* the probe byte was accepted */
	if (s->seq_init && sgt(ack, s->snd_nxt)) {
		s->capture_loss_bytes += (uint32_t)(ack - s->snd_nxt);
		s->capture_loss_events++;
		s->snd_nxt = ack;
	}
	while (s->count) {
		struct nd_seg *g = at(s, 0);

		if (s->pre_valid && slt(una, s->pre_start) && sle(s->pre_start, g->seq))
			una = s->pre_start;     /* before the capture: not a hole */
		if (sgt(g->seq, una) && slt(una, ack)) {
			/* A hole below this range: acked (partly), never seen. */
			uint32_t top = slt(g->seq, ack) ? g->seq : ack;
			s->capture_loss_bytes += (uint32_t)(top - una);
			s->capture_loss_events++;
		}
		if (sgt(g->end, ack)) {
			if (slt(g->seq, ack))
				g->seq = ack;           /* partly acked */
			break;
		}
		karn |= (g->flags & ND_SEG_RETX) != 0;
		if (!ts_ok && p->opt.has_ts && (g->flags & ND_SEG_TS) && g->tsval == p->opt.tsecr) {
			ts_ok = true;
			ts_t = g->t;
		}
		have = true;
		last_t = g->t;
		last_fl = g->flags;
		last_len = g->end - g->seq;
		una = g->end;
		npop++;
		pop(s);
	}
	if (have && !karn && !(last_fl & (ND_SEG_SACKED | ND_SEG_MERGED | ND_SEG_RETX)) &&
	    ts >= last_t) {
		rtt_sample(s, ts - last_t);
		s->ev_sample = true;
		s->ev_sample_us = (ts - last_t) / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)((ts - last_t) / 1000);
		/* one short segment, everything that was out: a delayed-ACK candidate */
		s->ev_single = npop == 1 && ack == s->snd_nxt && last_len < 2u * (s->max_seg ? s->max_seg : 1460u);
	} else if (ts_ok && ts >= ts_t) {
		rtt_sample(s, ts - ts_t);
		s->rtt_ts_samples++;
		s->ev_sample = true;
		s->ev_sample_us = (ts - ts_t) / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)((ts - ts_t) / 1000);
	}
	s->snd_una = ack;
	if (s->sack_high_valid && sge(ack, s->sack_high))
		s->sack_high_valid = false;
}

static void sack_blocks(struct nd_infer_dir *s, const struct nd_pkt *p, uint32_t ack, uint64_t ts,
			struct nd_infer_dir *r)
{
	const struct nd_tcp_opts *o = &p->opt;
	unsigned first = 0;

	if (!o->nsack)
		return;
	/* D-SACK (RFC 2883) */
	if (sle(o->sack[0][1], ack) ||
	    (o->nsack >= 2 && sge(o->sack[0][0], o->sack[1][0]) && sle(o->sack[0][1], o->sack[1][1]))) {
		uint32_t l = o->sack[0][0], h = o->sack[0][1];
		first = 1;
		if (slt(l, h)) {
			s->dsack++;
			for (unsigned k = 0; s->ext && k < s->ext->recent_n; k++)
				if (slt(s->ext->recent[k].seq, h) && sgt(s->ext->recent[k].end, l)) {
					if (!s->ext->recent[k].spurious) {
						s->ext->recent[k].spurious = true;
						s->spurious_retrans++;
					}
					break;
				}
		}
	}
	for (unsigned b = first; b < o->nsack; b++) {
		uint32_t l = o->sack[b][0], h = o->sack[b][1];
		if (!sgt(h, l) || !sgt(l, ack) || (uint32_t)(h - ack) > SANE_SPAN)
			continue;
		if (!s->sack_high_valid || sgt(h, s->sack_high)) {
			s->sack_high = h;
			s->sack_high_valid = true;
		}
		r->evidence_ts = ts;
		for (unsigned i = 0; i < s->count; i++) {
			struct nd_seg *g = at(s, i);
			if (sge(g->seq, l) && sle(g->end, h))
				g->flags |= ND_SEG_SACKED;
		}
	}
}

static void receiver(struct nd_infer_dir *r, struct nd_infer_dir *s, const struct nd_dir *rd,
		     const struct nd_dir *sd, const struct nd_pkt *p, uint64_t ts)
{
	uint32_t ack = p->ack, win;
	uint8_t f = p->flags;
	bool pure = !(f & (ND_TH_SYN | ND_TH_FIN | ND_TH_RST)) && p->payload_len == 0;

	/* Window, scaled when both SYNs told the shifts. */
	r->win_scaled = rd->syn_seen && sd->syn_seen;
	win = p->window;
	if (!(f & ND_TH_SYN) && r->win_scaled && rd->has_wscale && sd->has_wscale)
		win <<= (rd->wscale > 14 ? 14 : rd->wscale);
	if (!r->win_seen || win < r->win_min)
		r->win_min = win;
	if (win > r->win_max)
		r->win_max = win;
	r->win_seen = true;
	if (p->window == 0 && !(f & (ND_TH_SYN | ND_TH_FIN | ND_TH_RST)))
		r->zero_window++;

	if (!(f & ND_TH_ACK)) {
		r->last_win = p->window;
		return;
	}
	if (r->ack_init && pure && ack == r->last_ack && p->window == r->last_win && p->window &&
	    s->seq_init && sgt(s->snd_nxt, ack)) {
		r->dupacks++;
		r->dup_streak++;
		r->evidence_ts = ts;
	} else if (!r->ack_init || ack != r->last_ack) {
		r->dup_streak = 0;
	}
	/* The window the sender uses (RFC 793 SND.WL1/WL2, as Linux's
	 * tcp_may_update_window): from a newer ACK or newer sequence, or
	 * grown (or closed) at the same ones. */
	if (!r->ws_win_init || !s->una_init || sgt(ack, s->snd_una) || sgt(p->seq, r->ws_wl1) ||
	    (p->seq == r->ws_wl1 && (p->window > r->ws_win || !p->window))) {
		r->ws_win_init = true;
		r->ws_win = p->window;
		r->ws_wl1 = p->seq;
	}
	if (!s->una_init) {
		s->una_init = true;
		s->snd_una = ack;
		if (s->seq_init && sgt(ack, s->snd_nxt) && (uint32_t)(ack - s->snd_nxt) < SANE_SPAN) {
			s->capture_loss_bytes += (uint32_t)(ack - s->snd_nxt);
			s->capture_loss_events++;
			s->snd_nxt = ack;
		}
		/* ranges wholly below the first ACK seen */
		while (s->count && sle(at(s, 0)->end, ack)) {
			s->head = (uint8_t)((s->head + 1u) & (s->cap - 1u));
			s->count--;
		}
	} else if (sgt(ack, s->snd_una) && (uint32_t)(ack - s->snd_una) < SANE_SPAN) {
		acked(s, p, ack, ts);
	}
	sack_blocks(s, p, ack, ts, r);
	r->ack_init = true;
	r->last_ack = ack;
	r->last_win = p->window;
	r->last_ack_ts = ts;
}

/* Window scale inference (see infer.h): data sender @d, advertiser @o. */
static void ws_sample(struct nd_infer_dir *d, struct nd_infer_dir *o, const struct nd_pkt *p,
		      bool new_data)
{
	uint32_t flight, raw = o->ws_win;
	unsigned s = 0;

	if (p->payload_len > d->max_seg)
		d->max_seg = p->payload_len;
	/* Only new data: it was sent within the window of the latest ACK; a
	 * retransmission may lie beyond a window that has shrunk since. */
	if (!new_data || !d->seq_init || !d->una_init || !o->ws_win_init || !raw || !sgt(d->snd_nxt, d->snd_una))
		return;
	flight = d->snd_nxt - d->snd_una;
	if (flight > SANE_SPAN)
		return;
	while (s < 14 && ((uint64_t)raw << s) + d->max_seg < flight)
		s++;
	if (o->ws_samples < UINT32_MAX)
		o->ws_samples++;
	if (s > 0)
		o->ws_exceeded = true;
	if (s > o->ws_need)
		o->ws_need = (uint8_t)s;
	/* The window full at this shift, within max(3 MSS, 1/32 of it): the
	 * sender was held by it, which a larger true shift would not explain
	 * (see infer.h). */
	uint64_t wnd = (uint64_t)raw << s, slack = 3ull * d->max_seg > wnd / 32 ? 3ull * d->max_seg : wnd / 32;
	bool tight = s > 0 && flight + slack >= wnd;
	struct nd_infer_ext *x = ext(o);

	if (x) {
		x->ws_need_n[s]++;
		x->ws_tight_n[s] += tight;
		x->ws_held = x->ws_held - x->ws_held / 16 + (tight ? 65536u / 16 : 0);
	}
	if (tight) {
		if (s > o->ws_tight_s) {
			o->ws_tight_s = (uint8_t)s;
			o->ws_tight_n = 0;
		}
		if (s == o->ws_tight_s && o->ws_tight_n < UINT8_MAX)
			o->ws_tight_n++;
	}
}

void nd_infer_packet(struct nd_conn *c, int side, const struct nd_pkt *p, uint64_t ts)
{
	struct nd_infer_dir *d = &c->dir[side].inf, *o = &c->dir[!side].inf;
	struct nd_lim_ev ev = { 0 };
	uint32_t fp, nxt, o_una, rto0, fast0, retx0, sp0;
	bool nxt_ok, o_una_ok;

	if (p->flags & ND_TH_RST)
		return;                 /* RST sequence numbers are not data */
	/* The same frame captured twice? (see infer.h) */
	fp = p->seq * 0x9e3779b1u ^ p->ack * 0x85ebca6bu ^ p->payload_len * 0xc2b2ae35u ^
	     ((uint32_t)p->flags << 16 | p->window) ^
	     (p->opt.has_ts ? p->opt.tsval * 0x27d4eb2fu ^ p->opt.tsecr : 0);
	if (d->last_pkt_ts && fp == d->fp && (p->payload_len || (p->flags & (ND_TH_SYN | ND_TH_FIN))) &&
	    ts >= d->last_pkt_ts && ts - d->last_pkt_ts < DUP_FRAME_NS &&
	    o->last_pkt_ts <= d->last_pkt_ts) {
		d->dup_frames++;
		return;
	}
	d->fp = fp;
	d->last_pkt_ts = ts;
	nxt = d->snd_nxt;
	nxt_ok = d->seq_init;
	o_una = o->snd_una;
	o_una_ok = o->una_init;
	rto0 = d->rto_retrans;
	fast0 = d->fast_retrans;
	retx0 = d->retrans_pkts;
	sp0 = d->spurious_retrans;
	ev.quiet_since = d->last_tx_ts > o->last_ack_ts ? d->last_tx_ts : o->last_ack_ts;
	ev.prev_flight = o->seq_init && o_una_ok && sgt(o->snd_nxt, o_una) ? o->snd_nxt - o_una : 0;
	o->ev_sample = o->ev_single = false;
	sender(d, o, p, ts);
	receiver(d, o, &c->dir[side], &c->dir[!side], p, ts);
	if (p->payload_len && !c->dir[!side].syn_seen)
		ws_sample(d, o, p, !nxt_ok || sgt(d->snd_nxt, nxt));
	if (p->payload_len > d->max_seg)
		d->max_seg = p->payload_len;
	if (p->flags & ND_TH_SYN) {
		nd_lim_packet(c, side, p, ts, &ev);     /* a SYN answered after retries */
		return;
	}
	ev.new_data = (p->payload_len || (p->flags & ND_TH_FIN)) && d->seq_init &&
		      (!nxt_ok || sgt(d->snd_nxt, nxt)) && d->retrans_pkts == retx0;
	ev.retrans = d->retrans_pkts != retx0;
	ev.rto = d->rto_retrans != rto0;
	ev.fast = d->fast_retrans != fast0;
	ev.spurious = d->spurious_retrans != sp0;
	ev.advanced = o_una_ok && o->una_init && sgt(o->snd_una, o_una);
	ev.acked = ev.advanced ? o->snd_una - o_una : 0;
	ev.sample = o->ev_sample;
	ev.single = o->ev_single;
	ev.sample_us = o->ev_sample_us;
	nd_lim_packet(c, side, p, ts, &ev);
}

int nd_infer_wscale(const struct nd_dir *d, bool *lower_bound)
{
	const struct nd_infer_dir *i = &d->inf;
	const struct nd_infer_ext *x = i->ext;
	unsigned s = i->ws_need;
	uint32_t tight = i->ws_tight_s == i->ws_need ? i->ws_tight_n : 0;

	if (d->syn_seen || !i->ws_samples)
		return -1;
	if (x) {
		/* the smallest shift that fits all but the few that need the most */
		uint32_t allowed = i->ws_samples / 100 > 2 ? i->ws_samples / 100 : 2, above = 0;

		while (s > 0 && above + x->ws_need_n[s] <= allowed)
			above += x->ws_need_n[s--];
		tight = x->ws_held >= 32768 ? x->ws_tight_n[s] : 0;
	}
	if (lower_bound)
		*lower_bound = i->ws_samples < ND_WS_MIN_SAMPLES || s == 0 || tight < ND_WS_MIN_TIGHT;
	return (int)s;
}

bool nd_infer_window(const struct nd_dir *d, uint32_t *min, uint32_t *max, bool *scaled)
{
	bool lb = true;
	int ws;

	if (!d->inf.win_seen)
		return false;
	*min = d->inf.win_min;
	*max = d->inf.win_max;
	*scaled = d->inf.win_scaled;
	ws = nd_infer_wscale(d, &lb);
	if (!*scaled && ws >= 0 && !lb) {
		/* Without its SYN every window of this side is a raw 16-bit value. */
		*min <<= ws;
		*max <<= ws;
		*scaled = true;
	}
	return true;
}

void nd_infer_release(struct nd_conn *c)
{
	nd_lim_release(c);
	for (int i = 0; i < 2; i++) {
		struct nd_infer_dir *d = &c->dir[i].inf;
		free(d->ring);
		free(d->ext);
		d->ring = NULL;
		d->ext = NULL;
		d->cap = d->count = d->head = 0;
	}
}
