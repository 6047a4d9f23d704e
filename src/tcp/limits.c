/* SPDX-License-Identifier: MIT */
/* What limits each direction, over time; the rules are in limits.h. */
#include "tcp/limits.h"

#include <stdlib.h>
#include <string.h>

#include "tcp/conn.h"
#include "tcp/infer.h"
#include "tcp/seq.h"

#define MS_NS 1000000ull
#define DEFAULT_MSS 1460u
#define MIN_MSS 536u                    /* RFC 879's default */
#define SHORT_SLACK 40u                 /* option bytes a full segment may lack */
#define CUBIC_BETA 0.7
#define DELACK_MIN_US 15000u
#define IDLE_GAP_MIN_NS (10 * MS_NS)
#define SLOW_RESPONSE_MIN_NS (200 * MS_NS)
#define ZW_STALL_MIN_NS MS_NS
#define IV_MIN_NS MS_NS
#define IV_MAX_NS (1000 * MS_NS)
#define IV_DEFAULT_NS (100 * MS_NS)
#define VERDICT_SHARE 0.6

static const char *const label_names[ND_LIM_NLABELS] = { "sender", "receiver", "network", "idle" };
static const char *const verdict_names[ND_V_COUNT] = {
	"sender-limited", "receiver-limited", "network-limited", "mixed", "idle"
};
static const char *const cause_names[ND_STALL_COUNT] = { "rto", "syn-retrans", "synack-retrans", "zero-window", "idle" };

const char *nd_lim_label_name(unsigned label)
{
	return label < ND_LIM_NLABELS ? label_names[label] : "?";
}

const char *nd_lim_verdict_name(unsigned vid)
{
	return vid < ND_V_COUNT ? verdict_names[vid] : "?";
}

const char *nd_stall_cause_name(unsigned cause)
{
	return cause < ND_STALL_COUNT ? cause_names[cause] : "?";
}

static struct nd_lim_conn *lconn(struct nd_conn *c)
{
	if (!c->lc && !c->lc_nomem) {
		c->lc = calloc(1, sizeof(*c->lc));
		if (!c->lc)
			c->lc_nomem = true;
	}
	return c->lc;
}

/* The MSS the sender of @side uses: what the other side advertised, else
 * the largest segment seen, at most a standard Ethernet one. */
static uint32_t eff_mss(const struct nd_conn *c, int side)
{
	const struct nd_dir *o = &c->dir[!side];
	uint32_t m = c->dir[side].inf.max_seg;

	if (o->has_mss && o->mss >= 64)
		return o->mss - (c->dir[side].ts_on_syn && o->ts_on_syn ? 12u : 0u);
	/* no MSS option seen: the largest segment, within the usual bounds */
	return m < MIN_MSS ? MIN_MSS : m > DEFAULT_MSS ? DEFAULT_MSS : m;
}

/* The receive window the sender of @side may fill, in bytes; -1 when the
 * receiver's scale is unknown. */
static int64_t rwnd(const struct nd_conn *c, int side)
{
	const struct nd_dir *r = &c->dir[!side], *s = &c->dir[side];
	const struct nd_infer_dir *ri = &r->inf;
	bool lb = true;
	int ws;

	if (!ri->ws_win_init)
		return -1;
	if (r->syn_seen && s->syn_seen)
		return (int64_t)ri->ws_win << (r->has_wscale && s->has_wscale ? (r->wscale > 14 ? 14 : r->wscale) : 0);
	ws = nd_infer_wscale(r, &lb);
	if (ws >= 0 && !lb)
		return (int64_t)ri->ws_win << ws;
	return ri->ws_win ? -1 : 0;
}

static uint32_t flight_of(const struct nd_infer_dir *d)
{
	if (!d->seq_init || !d->una_init || !sgt(d->snd_nxt, d->snd_una))
		return 0;
	return d->snd_nxt - d->snd_una;
}

static uint8_t classify(const struct nd_conn *c, int side)
{
	const struct nd_infer_dir *d = &c->dir[side].inf;
	uint32_t fl = flight_of(d);
	int64_t w = rwnd(c, side);

	if (w == 0)
		return ND_LIM_RECEIVER;
	if (!fl)
		return ND_LIM_IDLE;
	if (w > 0 && w - (int64_t)fl < (int64_t)eff_mss(c, side))
		return ND_LIM_RECEIVER;
	/* Data out, not held by the window: waiting on the path (its RTT, a
	 * queue, a loss), as the kernel's chrono stats count it ("busy"). */
	return ND_LIM_NETWORK;
}

/* ---- timeline ---- */

static uint64_t iv_len(const struct nd_infer_dir *d)
{
	uint64_t v = d->srtt_us ? (uint64_t)d->srtt_us * 1000 : IV_DEFAULT_NS;

	return v < IV_MIN_NS ? IV_MIN_NS : v > IV_MAX_NS ? IV_MAX_NS : v;
}

static void tl_add(struct nd_lim *l, uint64_t start, uint64_t end, uint8_t label)
{
	struct nd_lim_timeline *t = l->tl;

	if (t->n && t->run[t->n - 1].label == label && t->run[t->n - 1].end >= start) {
		t->run[t->n - 1].end = end;
		return;
	}
	if (t->n == t->cap) {
		uint32_t nc = t->cap ? t->cap * 2 : 16;
		struct nd_lim_run *r;

		if (nc > ND_TIMELINE_MAX || !(r = realloc(t->run, nc * sizeof(*r)))) {
			t->dropped++;
			return;
		}
		t->run = r;
		t->cap = nc;
	}
	t->run[t->n++] = (struct nd_lim_run){ start, end, label };
}

/* Close the interval at l->tl->iv_start if @now is past its end (or
 * @force, at the end of the connection). */
static void tl_close(struct nd_lim *l, const struct nd_infer_dir *d, uint64_t now, bool force)
{
	uint64_t len = iv_len(d), best = 0;
	uint8_t lab = ND_LIM_IDLE;

	if (!force && now < l->tl->iv_start + len)
		return;
	for (unsigned i = 0; i < ND_LIM_NLABELS; i++)
		if (l->tl->iv_ns[i] > best) {
			best = l->tl->iv_ns[i];
			lab = (uint8_t)i;
		}
	if (best)
		tl_add(l, l->tl->iv_start, now, lab);
	memset(l->tl->iv_ns, 0, sizeof(l->tl->iv_ns));
	l->tl->iv_start = now;
}

/* ---- time accounting ---- */

/* Attribute [t_last, ts) to the state in force (or @force). */
static void advance(struct nd_conn *c, int side, uint64_t ts, int force)
{
	struct nd_infer_dir *d = &c->dir[side].inf;
	struct nd_lim *l = &d->lim;
	uint8_t lab = force >= 0 ? (uint8_t)force : l->label;
	uint64_t dt;

	if (!l->t_first || ts <= l->t_last) {
		if (l->t_first && ts < l->t_last)
			return;
		l->t_last = ts > l->t_last ? ts : l->t_last;
		return;
	}
	dt = ts - l->t_last;
	if (lab == ND_LIM_IDLE)
		l->idle_pending += dt;
	else
		l->ns[lab] += dt;
	if (l->flight) {
		l->flight_int += (double)l->flight * (double)dt;
		l->cwnd_int += (double)l->cwnd * (double)dt;
		l->busy_ns += (double)dt;
	}
	if (l->tl) {
		l->tl->iv_ns[lab] += dt;
		tl_close(l, d, ts, false);
	}
	l->t_last = ts;
}

/* Data follows an idle period: it was the application's (sender) time. */
static void commit_idle(struct nd_lim *l, const struct nd_infer_dir *d)
{
	uint64_t gap = d->srtt_us ? (uint64_t)d->srtt_us * 1000 : 0;

	if (!l->idle_pending)
		return;
	if (l->idle_pending >= (gap > IDLE_GAP_MIN_NS ? gap : IDLE_GAP_MIN_NS)) {
		l->idle_gaps++;
		l->idle_gap_ns += l->idle_pending;
	}
	l->ns[ND_LIM_SENDER] += l->idle_pending;
	l->idle_pending = 0;
}

/* ---- stalls ---- */

static void stall_add(struct nd_conn *c, int side, uint8_t cause, uint64_t start, uint64_t end,
		      uint32_t retries)
{
	struct nd_lim_conn *lc = lconn(c);
	struct nd_stall *s;

	if (!lc || end < start)
		return;
	if (cause == ND_STALL_RTO && lc->nstalls) {
		s = &lc->stall[lc->nstalls - 1];
		if (s->cause == ND_STALL_RTO && s->side == side && s->start + s->dur + MS_NS >= start) {
			s->dur = end - s->start;        /* backed-off retries of the same stall */
			s->retries += retries;
			return;
		}
	}
	if (lc->nstalls == lc->cap) {
		uint32_t nc = lc->cap ? lc->cap * 2 : 2;
		struct nd_stall *ns;

		if (nc > ND_STALLS_MAX || !(ns = realloc(lc->stall, nc * sizeof(*ns)))) {
			lc->stalls_dropped++;
			return;
		}
		lc->stall = ns;
		lc->cap = nc;
	}
	lc->stall[lc->nstalls++] = (struct nd_stall){ .start = start, .dur = end - start, .retries = retries,
						      .side = (uint8_t)side, .cause = cause };
}

int nd_lim_stall_for(const struct nd_lim_conn *lc, uint64_t start, uint64_t dur)
{
	int best = -1;
	uint64_t best_d = 0;

	for (uint32_t i = 0; lc && i < lc->nstalls; i++) {
		const struct nd_stall *s = &lc->stall[i];
		if (s->start <= start + dur && s->start + s->dur >= start && s->dur >= best_d) {
			best = (int)i;
			best_d = s->dur;
		}
	}
	return best;
}

/* ---- transactions ---- */

static void txn_done(struct nd_lim_conn *lc)
{
	uint64_t lat = lc->resp_last > lc->req_start ? lc->resp_last - lc->req_start : 0;
	uint32_t us = lat / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(lat / 1000);

	if (lc->txn_n < ND_RH_INLINE) {
		lc->txn_first[lc->txn_n] = us;
	} else {
		if (!lc->hist && !lc->hist_nomem) {
			lc->hist = calloc(1, sizeof(*lc->hist));
			lc->hist_nomem = !lc->hist;
			for (unsigned i = 0; lc->hist && i < ND_RH_INLINE; i++)
				nd_rh_record(lc->hist, lc->txn_first[i]);
		}
		if (lc->hist)
			nd_rh_record(lc->hist, us);
	}
	/* the stalls that began inside it delayed it */
	for (uint32_t i = 0; i < lc->nstalls; i++) {
		struct nd_stall *st = &lc->stall[i];
		if (!st->txn_lat && st->start >= lc->req_start && st->start <= lc->resp_last) {
			st->txn_start = lc->req_start;
			st->txn_lat = lat ? lat : 1;
		}
	}
	if (!lc->txn_n || us < lc->txn_min_us)
		lc->txn_min_us = us;
	if (us > lc->txn_max_us)
		lc->txn_max_us = us;
	lc->txn_n++;
	/* keep the slowest */
	if (lc->nslow < ND_TXN_SLOW) {
		lc->slow[lc->nslow++] = (struct nd_txn_slow){ lc->req_start, lat };
	} else {
		unsigned m = 0;
		for (unsigned i = 1; i < ND_TXN_SLOW; i++)
			if (lc->slow[i].lat_ns < lc->slow[m].lat_ns)
				m = i;
		if (lat > lc->slow[m].lat_ns)
			lc->slow[m] = (struct nd_txn_slow){ lc->req_start, lat };
	}
	lc->phase = 0;
}

uint32_t nd_lim_txn_quantile(const struct nd_lim_conn *lc, double q)
{
	if (!lc || !lc->txn_n)
		return 0;
	if (lc->txn_n > ND_RH_INLINE && lc->hist)
		return nd_rh_quantile(lc->hist, q, lc->txn_min_us, lc->txn_max_us);
	return nd_rh_small_quantile(lc->txn_first, lc->txn_n, q);
}

static void txn_data(struct nd_conn *c, int side, uint64_t ts, bool new_data)
{
	struct nd_lim_conn *lc;
	bool from_client = side == c->client;

	if (!c->lc && !(from_client && new_data))
		return;
	lc = lconn(c);
	if (!lc)
		return;
	if (from_client) {
		if (!new_data) {
			/* a request sent again ends when it was last sent */
			if (lc->phase == 1)
				lc->req_last = ts;
			return;
		}
		if (lc->phase == 2)
			txn_done(lc);
		if (lc->phase == 0) {
			lc->phase = 1;
			lc->req_start = ts;
			lc->req_acked = false;
		}
		lc->req_last = ts;
		lc->req_end_seq = c->dir[side].inf.snd_nxt;
		return;
	}
	if (lc->phase == 1 && new_data) {
		const struct nd_infer_dir *cd = &c->dir[c->client].inf;
		uint64_t srtt4 = 4ull * cd->srtt_us * 1000, lim;

		lim = srtt4 > SLOW_RESPONSE_MIN_NS ? srtt4 : SLOW_RESPONSE_MIN_NS;
		/* The request was complete and acknowledged, then nothing came
		 * for long: the responder was slow. */
		if (lc->req_acked && ts - lc->req_last >= lim)
			stall_add(c, side, ND_STALL_IDLE, lc->req_last, ts, 0);
		lc->phase = 2;
	}
	if (lc->phase == 2)
		lc->resp_last = ts;
}

/* ---- per packet ---- */

static void cwnd_on_ack(struct nd_lim *l, uint32_t mss, uint32_t acked, uint32_t prev_flight)
{
	if (!l->cwnd_init || l->in_recovery || !acked)
		return;
	if ((uint64_t)prev_flight + mss < l->cwnd)
		return;                 /* not cwnd-limited: Linux does not grow it */
	if (l->cwnd < l->ssthresh)
		l->cwnd += acked;
	else
		l->cwnd += (uint32_t)((uint64_t)mss * acked / (l->cwnd ? l->cwnd : 1));
	if (l->cwnd > (1u << 30))
		l->cwnd = 1u << 30;
}

static void cwnd_on_loss(struct nd_lim *l, uint32_t mss, uint32_t flight, bool rto, uint32_t nxt)
{
	uint32_t base = flight > l->cwnd ? flight : l->cwnd;
	uint32_t th = (uint32_t)(CUBIC_BETA * (rto ? base : flight ? flight : base));

	if (!l->cwnd_init)
		return;
	if (th < 2 * mss)
		th = 2 * mss;
	if (rto) {
		l->ssthresh = th;
		l->cwnd = mss;
	} else if (!l->in_recovery) {
		l->ssthresh = th;
		l->cwnd = th;
	}
	l->in_recovery = true;
	l->recover = nxt;
}

void nd_lim_packet(struct nd_conn *c, int side, const struct nd_pkt *p, uint64_t ts,
		   const struct nd_lim_ev *ev)
{
	struct nd_infer_dir *d = &c->dir[side].inf, *o = &c->dir[!side].inf;
	struct nd_lim *l = &d->lim, *ol = &o->lim;
	uint32_t mss = eff_mss(c, side), omss = eff_mss(c, !side);

	/* 1. time up to this packet, in the states that held */
	advance(c, side, ts, ev->rto ? ND_LIM_NETWORK : -1);
	advance(c, !side, ts, -1);

	/* 2. this side as the sender */
	if (ev->rto && ev->quiet_since && ts > ev->quiet_since) {
		/* A timeout retransmission of data the capture point already saw
		 * acknowledged: the ACK was lost beyond it, in the other
		 * direction, whose own data (the segment that carried that ACK)
		 * is what stalled, if it has any out. */
		int who = ev->spurious && flight_of(o) ? !side : side;
		stall_add(c, who, ND_STALL_RTO, ev->quiet_since, ts, 1);
	}
	if (ev->new_data) {
		if (!l->t_first) {
			l->t_first = l->t_last = ts;
			if (c->timeline && !l->tl && (l->tl = calloc(1, sizeof(*l->tl))))
				l->tl->iv_start = ts;
		}
		commit_idle(l, d);
		if (!l->cwnd_init) {
			l->cwnd_init = true;
			l->cwnd = 10 * mss;
			l->ssthresh = UINT32_MAX;
		}
		if (l->react_armed && ts >= l->react_from) {
			uint64_t us = (ts - l->react_from) / 1000;
			uint32_t v = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
			/* the histogram (in the extension block) from the 5th
			 * sample: short connections keep only count, sum, max */
			struct nd_infer_ext *x = l->react_n >= 4 ? nd_infer_ext_get(d) : NULL;

			if (x)
				nd_rh_record(&x->react, v);
			l->react_sum_us += v;
			if (v > l->react_max_us)
				l->react_max_us = v;
			l->react_n++;
			l->react_armed = false;
		}
		if (p->payload_len && p->payload_len + SHORT_SLACK < mss && !(p->flags & ND_TH_FIN)) {
			int64_t w = rwnd(c, side);
			if (w < 0 || w - (int64_t)flight_of(d) >= (int64_t)mss)
				l->small_segs++;
		}
	}
	if ((ev->rto || ev->fast) && l->t_first)
		cwnd_on_loss(l, mss, flight_of(d), ev->rto, d->snd_nxt);
	if (p->payload_len && (ev->new_data || ev->retrans))
		txn_data(c, side, ts, ev->new_data);

	/* 3. this side as the receiver of the other side's data */
	if (ev->advanced) {
		cwnd_on_ack(ol, omss, ev->acked, ev->prev_flight);
		if (ol->in_recovery && sge(o->snd_una, ol->recover))
			ol->in_recovery = false;
		int64_t w = rwnd(c, !side);

		if (ol->t_first && (w < 0 || w - (int64_t)flight_of(o) >= (int64_t)omss)) {
			ol->react_armed = true;
			ol->react_from = ts;
		}
		if (c->lc && c->lc->phase == 1 && (int)!side == (int)c->client &&
		    sge(o->snd_una, c->lc->req_end_seq))
			c->lc->req_acked = true;
	}
	if (ev->sample) {
		ol->rtt_sum_us += ev->sample_us;
		if (ev->single && o->rtt_n > 1) {
			uint32_t min = o->rtt_min_us, lim = min / 2 > DELACK_MIN_US ? min / 2 : DELACK_MIN_US;
			if (ev->sample_us >= min + lim) {
				ol->delack_n++;
				ol->delack_added_us += ev->sample_us - min;
			}
		}
	}
	/* zero-window stalls of the other side's data */
	if (!(p->flags & (ND_TH_SYN | ND_TH_RST)) && (p->flags & ND_TH_ACK)) {
		if (!p->window) {
			if (!ol->zw_start)
				ol->zw_start = ts;
		} else if (ol->zw_start) {
			if (ts - ol->zw_start >= ZW_STALL_MIN_NS)
				stall_add(c, !side, ND_STALL_ZERO_WINDOW, ol->zw_start, ts, 0);
			ol->zw_start = 0;
		}
	}
	/* SYN (SYN/ACK) answered after retransmissions */
	if ((p->flags & ND_TH_ACK) && !(p->flags & ND_TH_RST) && c->dir[!side].syn_seen &&
	    c->dir[!side].syn_sent > 1 && !c->dir[!side].syn_stall_done && p->ack == c->dir[!side].isn + 1u) {
		c->dir[!side].syn_stall_done = true;
		stall_add(c, !side, (int)!side == (int)c->client ? ND_STALL_SYN : ND_STALL_SYNACK,
			  c->dir[!side].syn_ts, ts, c->dir[!side].syn_sent - 1);
	}

	/* 4. the states from now on */
	for (int k = 0; k < 2; k++) {
		struct nd_lim *x = &c->dir[k].inf.lim;
		if (!x->t_first)
			continue;
		x->flight = flight_of(&c->dir[k].inf);
		/* the sender has more out than the estimate: it is larger (in
		 * recovery the flight still counts lost segments: not then) */
		if (x->cwnd_init && !x->in_recovery && x->flight > x->cwnd)
			x->cwnd = x->flight;
		if (x->flight > x->flight_max)
			x->flight_max = x->flight;
		if (x->cwnd > x->cwnd_max)
			x->cwnd_max = x->cwnd;
		x->label = classify(c, k);
	}
}

void nd_lim_finish(struct nd_conn *c)
{
	struct nd_lim_conn *lc = c->lc;

	for (int k = 0; k < 2; k++) {
		struct nd_dir *d = &c->dir[k];
		if (d->syn_seen && d->syn_sent > 1 && !d->syn_stall_done) {
			d->syn_stall_done = true;       /* never answered */
			stall_add(c, k, k == c->client ? ND_STALL_SYN : ND_STALL_SYNACK, d->syn_ts,
				  d->inf.last_tx_ts, d->syn_sent - 1);
		}
		struct nd_lim *l = &d->inf.lim;
		if (l->tl && l->t_first) {
			tl_close(l, &d->inf, l->t_last, true);
		}
	}
	lc = c->lc;
	if (lc && lc->phase == 2)
		txn_done(lc);
}

void nd_lim_result(const struct nd_conn *c, int side, struct nd_lim_result *r)
{
	const struct nd_infer_dir *d = &c->dir[side].inf;
	const struct nd_lim *l = &d->lim;
	uint64_t tot = l->ns[0] + l->ns[1] + l->ns[2];

	memset(r, 0, sizeof(*r));
	r->data = l->t_first != 0 && tot > 0;
	r->vid = ND_V_IDLE;
	if (r->data) {
		int best = 0;
		r->transfer_s = (double)tot / 1e9;
		for (int i = 0; i < 3; i++) {
			r->frac[i] = (double)l->ns[i] / (double)tot;
			if (r->frac[i] > r->frac[best])
				best = i;
		}
		r->vid = r->frac[best] >= VERDICT_SHARE ? (enum nd_verdict)best : ND_V_MIXED;
	}
	r->verdict = verdict_names[r->vid];
	if (l->busy_ns > 0) {
		r->flight_mean = l->flight_int / l->busy_ns;
		r->cwnd_mean = l->cwnd_int / l->busy_ns;
	}
	r->flight_max = l->flight_max;
	r->cwnd_max = l->cwnd_max;
	r->cwnd_final = l->cwnd;
	r->delack_n = l->delack_n;
	r->delack_added_us = l->delack_added_us;
	r->delack_share = l->rtt_sum_us ? (double)l->delack_added_us / (double)l->rtt_sum_us : 0;
	r->react_n = l->react_n;
	r->react_max_us = l->react_max_us;
	if (l->react_n) {
		r->react_mean_us = (double)l->react_sum_us / l->react_n;
		if (l->react_n > 4 && d->ext)   /* the first 4 are not in the histogram */
			r->react_p50_us = nd_rh_quantile(&d->ext->react, 0.5, 0, l->react_max_us);
	}
	r->small_segs = l->small_segs;
	r->idle_gaps = l->idle_gaps;
	r->idle_s = (double)l->idle_gap_ns / 1e9;
}

void nd_lim_release(struct nd_conn *c)
{
	for (int k = 0; k < 2; k++) {
		struct nd_lim *l = &c->dir[k].inf.lim;
		if (l->tl) {
			free(l->tl->run);
			free(l->tl);
			l->tl = NULL;
		}
	}
	if (c->lc) {
		free(c->lc->stall);
		free(c->lc->hist);
		free(c->lc);
		c->lc = NULL;
	}
}
