/* SPDX-License-Identifier: MIT */
#include "emu/sched.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define NS_PER_S UINT64_C(1000000000)
#define UNITS_PER_BYTE (8 * NS_PER_S)   /* token units: bit-nanoseconds */
#define MS UINT64_C(1000000)

enum { LIST_NONE = 0, LIST_NEW, LIST_OLD };

struct nd_emu_pkt {
	uint64_t t_enq;         /* arrival */
	uint64_t t_dep;         /* departure, once in the delay line */
	uint64_t seq;           /* arrival order while queued, send order after */
	uint32_t slot, len, hash;
	uint32_t next;          /* free list, FQ flow queue */
};

struct nd_emu_flow {
	uint32_t head, tail;    /* packets, NONE if empty */
	uint32_t link;          /* next flow on its list */
	uint32_t qlen;
	uint64_t backlog;
	int64_t deficit;
	uint8_t list;
	struct nd_emu_codel cv;
};

/* ---- helpers ---- */

static int fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* ---- PRNG: splitmix64 seeding xoshiro256** ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void rng_seed(uint64_t s[4], uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(uint64_t s[4])
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static double rng_unit(uint64_t s[4])   /* [0, 1) */
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

static uint64_t rng_below(uint64_t s[4], uint64_t n)   /* uniform in [0, n), n > 0 */
{
	uint64_t thr = (0 - n) % n, r;

	do
		r = rng_next(s);
	while (r < thr);
	return r % n;
}

/* ---- configuration ---- */

static bool prob_ok(double p)
{
	return p >= 0.0 && p <= 1.0;   /* false for NaN */
}

int nd_emu_cfg_resolve(const struct nd_emu_cfg *in, struct nd_emu_cfg *out, char *err, size_t errlen)
{
	struct nd_emu_cfg c = *in;

	if (c.rate_bps > ND_EMU_RATE_MAX)
		return fail(err, errlen, "rate above 1 Tbit/s");
	if (c.mtu == 0)
		c.mtu = 1514;
	if (c.mtu > ND_EMU_MTU_MAX)
		return fail(err, errlen, "mtu above 65536 bytes");
	if (c.overhead_bytes > ND_EMU_OVERHEAD_MAX)
		return fail(err, errlen, "per-packet overhead above 256 bytes");
	if (c.burst_bytes == 0)
		c.burst_bytes = max_u64(2 * ((uint64_t)c.mtu + c.overhead_bytes), c.rate_bps / 8000);
	if (c.burst_bytes < (uint64_t)c.mtu + c.overhead_bytes)
		return fail(err, errlen, "burst smaller than mtu + overhead: the largest packet could never leave");
	if (c.burst_bytes > ND_EMU_BURST_MAX)
		return fail(err, errlen, "burst above 1 GiB");
	if (c.delay_ns > ND_EMU_TIME_MAX || c.jitter_ns > ND_EMU_TIME_MAX)
		return fail(err, errlen, "delay or jitter above 1 hour");
	if (c.limit_bytes && c.limit_bytes < c.mtu)
		return fail(err, errlen, "buffer limit in bytes smaller than the mtu");
	if (!prob_ok(c.loss_random))
		return fail(err, errlen, "random loss must be a probability in 0..1");
	if (!prob_ok(c.ge_p) || !prob_ok(c.ge_r) || !prob_ok(c.ge_loss_good) || !prob_ok(c.ge_loss_bad))
		return fail(err, errlen, "Gilbert-Elliott parameters must be probabilities in 0..1");
	if (c.qdisc != ND_QD_FIFO && c.qdisc != ND_QD_CODEL && c.qdisc != ND_QD_PIE &&
	    c.qdisc != ND_QD_FQ_CODEL)
		return fail(err, errlen, "unknown queue discipline");
	if (c.target_ns == 0)
		c.target_ns = c.qdisc == ND_QD_PIE ? 15 * MS : 5 * MS;
	if (c.interval_ns == 0)
		c.interval_ns = 100 * MS;
	if (c.flows == 0)
		c.flows = 1024;
	if (c.quantum == 0)
		c.quantum = 1514;
	if (c.pie_tupdate_ns == 0)
		c.pie_tupdate_ns = 15 * MS;
	if (c.pie_max_burst_ns == 0)
		c.pie_max_burst_ns = 150 * MS;
	if (c.pie_alpha == 0.0)
		c.pie_alpha = 0.125;
	if (c.pie_beta == 0.0)
		c.pie_beta = 1.25;
	if (c.target_ns > ND_EMU_TIME_MAX || c.interval_ns > ND_EMU_TIME_MAX ||
	    c.pie_tupdate_ns > ND_EMU_TIME_MAX || c.pie_max_burst_ns > ND_EMU_TIME_MAX)
		return fail(err, errlen, "AQM times above 1 hour");
	if (c.flows > ND_EMU_FLOWS_MAX)
		return fail(err, errlen, "more than 65536 flow queues");
	if (c.quantum > (1u << 20))
		return fail(err, errlen, "quantum above 1 MiB");
	if (!(c.pie_alpha > 0.0 && c.pie_alpha <= 100.0) || !(c.pie_beta > 0.0 && c.pie_beta <= 100.0))
		return fail(err, errlen, "PIE alpha and beta must be in (0, 100]");
	*out = c;
	return 0;
}

uint64_t nd_emu_bdp_bytes(uint64_t rate_bps, uint64_t rtt_ns)
{
	long double b = (long double)rate_bps * (long double)rtt_ns / 8e9L;

	return b >= 18446744073709551615.0L ? UINT64_MAX : (uint64_t)b;
}

/* ---- descriptors, pending drops, delay line ---- */

static uint32_t pkt_alloc(struct nd_emu *e)
{
	uint32_t i = e->free_head;

	e->free_head = e->pkts[i].next;
	return i;
}

static void pkt_free(struct nd_emu *e, uint32_t i)
{
	e->pkts[i].next = e->free_head;
	e->free_head = i;
}

static uint64_t held(const struct nd_emu *e)
{
	return e->qd_pkts + (e->staged != NONE) + e->heap_len + e->drop_len;
}

/* Packet @i (out of the queue already) is dropped: its slot waits to be
 * handed back by poll, its descriptor is free. */
static void drop_pending(struct nd_emu *e, uint32_t i, uint64_t *counter)
{
	e->drops[(e->drop_head + e->drop_len) % e->max_pkts] = e->pkts[i].slot;
	e->drop_len++;
	(*counter)++;
	pkt_free(e, i);
}

static bool heap_less(const struct nd_emu *e, uint32_t a, uint32_t b)
{
	const struct nd_emu_pkt *x = &e->pkts[a], *y = &e->pkts[b];

	return x->t_dep < y->t_dep || (x->t_dep == y->t_dep && x->seq < y->seq);
}

static void heap_push(struct nd_emu *e, uint32_t pi)
{
	uint32_t k = e->heap_len++;

	while (k > 0) {
		uint32_t up = (k - 1) / 2;

		if (!heap_less(e, pi, e->heap[up]))
			break;
		e->heap[k] = e->heap[up];
		k = up;
	}
	e->heap[k] = pi;
}

static uint32_t heap_pop(struct nd_emu *e)
{
	uint32_t top = e->heap[0], last = e->heap[--e->heap_len], k = 0, n = e->heap_len;

	for (;;) {
		uint32_t c = 2 * k + 1;

		if (c >= n)
			break;
		if (c + 1 < n && heap_less(e, e->heap[c + 1], e->heap[c]))
			c++;
		if (!heap_less(e, e->heap[c], last))
			break;
		e->heap[k] = e->heap[c];
		k = c;
	}
	if (n)
		e->heap[k] = last;
	return top;
}

/* ---- queue storage: a ring (single queue) or per-flow lists ---- */

static void ring_push(struct nd_emu *e, uint32_t pi)
{
	e->ring[(e->ring_head + e->ring_len) % e->max_pkts] = pi;
	e->ring_len++;
	e->qd_pkts++;
	e->qd_bytes += e->pkts[pi].len;
}

static uint32_t ring_pop_head(struct nd_emu *e)
{
	uint32_t pi;

	if (!e->ring_len)
		return NONE;
	pi = e->ring[e->ring_head];
	e->ring_head = (e->ring_head + 1) % e->max_pkts;
	e->ring_len--;
	e->qd_pkts--;
	e->qd_bytes -= e->pkts[pi].len;
	return pi;
}

static uint32_t ring_pop_tail(struct nd_emu *e)
{
	uint32_t pi;

	if (!e->ring_len)
		return NONE;
	e->ring_len--;
	pi = e->ring[(e->ring_head + e->ring_len) % e->max_pkts];
	e->qd_pkts--;
	e->qd_bytes -= e->pkts[pi].len;
	return pi;
}

static void flow_push(struct nd_emu *e, struct nd_emu_flow *f, uint32_t pi)
{
	e->pkts[pi].next = NONE;
	if (f->tail == NONE)
		f->head = pi;
	else
		e->pkts[f->tail].next = pi;
	f->tail = pi;
	f->qlen++;
	f->backlog += e->pkts[pi].len;
	e->qd_pkts++;
	e->qd_bytes += e->pkts[pi].len;
}

static uint32_t flow_pop(struct nd_emu *e, struct nd_emu_flow *f)
{
	uint32_t pi = f->head;

	if (pi == NONE)
		return NONE;
	f->head = e->pkts[pi].next;
	if (f->head == NONE)
		f->tail = NONE;
	f->qlen--;
	f->backlog -= e->pkts[pi].len;
	e->qd_pkts--;
	e->qd_bytes -= e->pkts[pi].len;
	return pi;
}

/* Pop the head of flow @f, or of the single queue when @f is NULL. */
static uint32_t q_pop(struct nd_emu *e, struct nd_emu_flow *f)
{
	return f ? flow_pop(e, f) : ring_pop_head(e);
}

/* FQ lists: singly linked through flow.link, O(1) at both ends used. */
static void list_push_tail(struct nd_emu *e, uint8_t which, uint32_t fi)
{
	uint32_t *head = which == LIST_NEW ? &e->new_head : &e->old_head;
	uint32_t *tail = which == LIST_NEW ? &e->new_tail : &e->old_tail;

	e->flows[fi].link = NONE;
	e->flows[fi].list = which;
	if (*tail == NONE)
		*head = fi;
	else
		e->flows[*tail].link = fi;
	*tail = fi;
}

static uint32_t list_pop_head(struct nd_emu *e, uint8_t which)
{
	uint32_t *head = which == LIST_NEW ? &e->new_head : &e->old_head;
	uint32_t *tail = which == LIST_NEW ? &e->new_tail : &e->old_tail;
	uint32_t fi = *head;

	*head = e->flows[fi].link;
	if (*head == NONE)
		*tail = NONE;
	e->flows[fi].list = LIST_NONE;
	e->flows[fi].link = NONE;
	return fi;
}

static void fq_reset(struct nd_emu *e)
{
	for (uint32_t i = 0; i < e->flows_cap; i++) {
		memset(&e->flows[i], 0, sizeof(e->flows[i]));
		e->flows[i].head = e->flows[i].tail = e->flows[i].link = NONE;
	}
	e->new_head = e->new_tail = e->old_head = e->old_tail = NONE;
}

/*
 * The DRR selection of RFC 8290 up to the point where it hands a flow to
 * CoDel: flows out of credit get a quantum and go to the old list; empty
 * flows leave a new list for the old one (if that is not empty) or leave
 * the lists. None of it depends on time. Returns the flow whose head is
 * served next, or NONE.
 */
static uint32_t fq_select(struct nd_emu *e)
{
	for (;;) {
		uint8_t which = e->new_head != NONE ? LIST_NEW : LIST_OLD;
		uint32_t fi = which == LIST_NEW ? e->new_head : e->old_head;
		struct nd_emu_flow *f;

		if (fi == NONE)
			return NONE;
		f = &e->flows[fi];
		if (f->deficit <= 0) {
			f->deficit += e->cfg.quantum;
			list_pop_head(e, which);
			list_push_tail(e, LIST_OLD, fi);
			continue;
		}
		if (f->head == NONE) {
			f->cv.first_above = 0;   /* what CoDel does on an empty queue */
			f->cv.dropping = false;
			list_pop_head(e, which);
			if (which == LIST_NEW && e->old_head != NONE)
				list_push_tail(e, LIST_OLD, fi);
			continue;
		}
		return fi;
	}
}

static uint32_t fq_head_flow_const(const struct nd_emu *e)
{
	return e->new_head != NONE ? e->new_head : e->old_head;
}

static struct nd_emu_flow *fq_fattest(struct nd_emu *e)
{
	struct nd_emu_flow *best = NULL;

	for (uint32_t i = 0; i < e->cfg.flows; i++)
		if (e->flows[i].qlen && (!best || e->flows[i].backlog > best->backlog))
			best = &e->flows[i];
	return best;
}

/* ---- CoDel (RFC 8289) on a flow or on the single queue ---- */

static uint32_t codel_dodequeue(struct nd_emu *e, struct nd_emu_flow *f, struct nd_emu_codel *cv,
				uint64_t now, bool *ok_to_drop)
{
	uint32_t pi = q_pop(e, f);

	*ok_to_drop = false;
	if (pi == NONE) {
		cv->first_above = 0;
		return NONE;
	}
	if (now <= e->pkts[pi].t_enq || now - e->pkts[pi].t_enq < e->cfg.target_ns ||
	    e->qd_bytes <= e->cfg.mtu) {
		cv->first_above = 0;
	} else if (cv->first_above == 0) {
		cv->first_above = now + e->cfg.interval_ns;
	} else if (now >= cv->first_above) {
		*ok_to_drop = true;
	}
	return pi;
}

static uint64_t control_law(uint64_t t, uint64_t interval, uint32_t count)
{
	return t + (uint64_t)((double)interval / sqrt((double)count));
}

static uint32_t codel_dequeue(struct nd_emu *e, struct nd_emu_flow *f, struct nd_emu_codel *cv, uint64_t now)
{
	bool ok;
	uint32_t pi = codel_dodequeue(e, f, cv, now, &ok);

	if (pi == NONE) {
		cv->dropping = false;
		return NONE;
	}
	if (cv->dropping) {
		if (!ok)
			cv->dropping = false;
		while (cv->dropping && now >= cv->drop_next) {
			drop_pending(e, pi, &e->st.drop_aqm);
			cv->count++;
			pi = codel_dodequeue(e, f, cv, now, &ok);
			if (!ok)
				cv->dropping = false;
			else
				cv->drop_next = control_law(cv->drop_next, e->cfg.interval_ns, cv->count);
		}
	} else if (ok) {
		uint32_t delta;

		drop_pending(e, pi, &e->st.drop_aqm);
		pi = codel_dodequeue(e, f, cv, now, &ok);
		cv->dropping = true;
		delta = cv->count - cv->lastcount;
		cv->count = 1;
		if (delta > 1 && (int64_t)(now - cv->drop_next) < (int64_t)(16 * e->cfg.interval_ns))
			cv->count = delta;
		cv->drop_next = control_law(now, e->cfg.interval_ns, cv->count);
		cv->lastcount = cv->count;
	}
	return pi;
}

/* ---- PIE (RFC 8033) ---- */

static void pie_reset(struct nd_emu *e)
{
	memset(&e->pie, 0, sizeof(e->pie));
	e->pie.burst_left = e->cfg.pie_max_burst_ns;
}

static void pie_update(struct nd_emu *e)
{
	struct nd_emu_pie *s = &e->pie;
	const struct nd_emu_cfg *c = &e->cfg;
	double ref = (double)c->target_ns * 1e-9, cur = (double)s->qdelay * 1e-9;
	double old = (double)s->qdelay_old * 1e-9;
	double p = c->pie_alpha * (cur - ref) + c->pie_beta * (cur - old);
	uint64_t half = c->target_ns / 2;

	if (s->drop_prob < 0.000001)
		p /= 2048;
	else if (s->drop_prob < 0.00001)
		p /= 512;
	else if (s->drop_prob < 0.0001)
		p /= 128;
	else if (s->drop_prob < 0.001)
		p /= 32;
	else if (s->drop_prob < 0.01)
		p /= 8;
	else if (s->drop_prob < 0.1)
		p /= 2;
	if (s->drop_prob >= 0.1 && p > 0.02)
		p = 0.02;
	s->drop_prob += p;
	if (s->qdelay == 0 && s->qdelay_old == 0)
		s->drop_prob *= 0.98;
	if (s->drop_prob < 0.0)
		s->drop_prob = 0.0;
	if (s->drop_prob > 1.0)
		s->drop_prob = 1.0;
	s->burst_left = s->burst_left > c->pie_tupdate_ns ? s->burst_left - c->pie_tupdate_ns : 0;
	if (s->drop_prob == 0.0 && s->qdelay < half && s->qdelay_old < half)
		s->burst_left = c->pie_max_burst_ns;
	s->qdelay_old = s->qdelay;
}

/* Run every PIE update due at or before @upto. */
static void pie_run(struct nd_emu *e, uint64_t upto)
{
	struct nd_emu_pie *s = &e->pie;
	uint64_t tu = e->cfg.pie_tupdate_ns;

	if (!s->armed) {
		s->next_update = sat_add(upto, tu);
		s->armed = true;
		return;
	}
	while (s->next_update <= upto) {
		if (s->drop_prob == 0.0 && s->qdelay == 0 && s->qdelay_old == 0 &&
		    s->burst_left == e->cfg.pie_max_burst_ns) {
			/* Fixed point: updates change nothing until a dequeue. */
			s->next_update += ((upto - s->next_update) / tu + 1) * tu;
			break;
		}
		pie_update(e);
		s->next_update += tu;
	}
}

static bool pie_drop_early(struct nd_emu *e, uint64_t queue_bytes)
{
	struct nd_emu_pie *s = &e->pie;

	if (s->burst_left > 0)
		return false;
	if ((s->qdelay_old < e->cfg.target_ns / 2 && s->drop_prob < 0.2) ||
	    queue_bytes <= 2 * (uint64_t)e->cfg.mtu)
		return false;
	if (s->drop_prob == 0.0)
		s->accu_prob = 0.0;
	s->accu_prob += s->drop_prob;
	if (s->accu_prob < 0.85)
		return false;
	if (s->accu_prob >= 8.5) {
		s->accu_prob = 0.0;
		return true;
	}
	if (rng_unit(e->rng_aqm) < s->drop_prob) {
		s->accu_prob = 0.0;
		return true;
	}
	return false;
}

/* ---- queue discipline dispatch ---- */

static uint64_t queue_bytes(const struct nd_emu *e)
{
	return e->qd_bytes + (e->staged != NONE ? e->pkts[e->staged].len : 0);
}

static uint64_t queue_pkts(const struct nd_emu *e)
{
	return e->qd_pkts + (e->staged != NONE);
}

static bool over_limit(const struct nd_emu *e)
{
	return (e->cfg.limit_pkts && queue_pkts(e) > e->cfg.limit_pkts) ||
	       (e->cfg.limit_bytes && queue_bytes(e) > e->cfg.limit_bytes);
}

/* The packet the discipline will hand out next (FQ: after the DRR
 * rotation, which does not depend on time), or NONE. */
static uint32_t qd_peek(struct nd_emu *e)
{
	uint32_t fi;

	if (e->cfg.qdisc != ND_QD_FQ_CODEL)
		return e->ring_len ? e->ring[e->ring_head] : NONE;
	fi = fq_select(e);
	return fi == NONE ? NONE : e->flows[fi].head;
}

/* Same without the rotation: valid when the lists were left rotated,
 * which every public call does. */
static uint32_t qd_peek_const(const struct nd_emu *e)
{
	uint32_t fi;

	if (e->cfg.qdisc != ND_QD_FQ_CODEL)
		return e->ring_len ? e->ring[e->ring_head] : NONE;
	fi = fq_head_flow_const(e);
	return fi == NONE ? NONE : e->flows[fi].head;
}

/* Dequeue at @t: the packet to send (or NONE if AQM dropped them all). */
static uint32_t qd_dequeue(struct nd_emu *e, uint64_t t)
{
	uint32_t pi;

	switch (e->cfg.qdisc) {
	case ND_QD_CODEL:
		return codel_dequeue(e, NULL, &e->codel, t);
	case ND_QD_PIE:
		pi = ring_pop_head(e);
		if (pi != NONE)
			e->pie.qdelay = e->qd_pkts && t > e->pkts[pi].t_enq ? t - e->pkts[pi].t_enq : 0;
		return pi;
	case ND_QD_FQ_CODEL:
		for (;;) {
			uint32_t fi = fq_select(e);
			struct nd_emu_flow *f;

			if (fi == NONE)
				return NONE;
			f = &e->flows[fi];
			pi = codel_dequeue(e, f, &f->cv, t);
			if (pi != NONE) {
				f->deficit -= e->pkts[pi].len;
				return pi;
			}
			/* the flow is empty now: fq_select moves it on */
		}
	case ND_QD_FIFO:
	default:
		return ring_pop_head(e);
	}
}

/* Put a queued packet into the discipline's storage (no limit checks). */
static void qd_insert(struct nd_emu *e, uint32_t pi)
{
	if (e->cfg.qdisc == ND_QD_FQ_CODEL) {
		uint32_t fi = e->pkts[pi].hash % e->cfg.flows;
		struct nd_emu_flow *f = &e->flows[fi];

		flow_push(e, f, pi);
		if (f->list == LIST_NONE) {
			list_push_tail(e, LIST_NEW, fi);
			f->deficit = e->cfg.quantum;
		}
	} else {
		ring_push(e, pi);
	}
}

/* Drop one packet to get back under the buffer limit: FIFO/CoDel/PIE the
 * newest, FQ-CoDel the head of the fattest flow. Returns it or NONE. */
static uint32_t qd_shed(struct nd_emu *e)
{
	struct nd_emu_flow *f;

	if (e->cfg.qdisc != ND_QD_FQ_CODEL)
		return ring_pop_tail(e);
	f = fq_fattest(e);
	return f ? flow_pop(e, f) : NONE;
}

/* ---- shaper ---- */

static uint64_t depth_units(const struct nd_emu *e)
{
	return e->cfg.burst_bytes * UNITS_PER_BYTE;
}

static uint64_t cost_units(const struct nd_emu *e, uint32_t pi)
{
	uint64_t c = ((uint64_t)e->pkts[pi].len + e->cfg.overhead_bytes) * UNITS_PER_BYTE;
	uint64_t d = depth_units(e);

	return c < d ? c : d;   /* only after an mtu change: never wait forever */
}

/* Tokens at time @t >= tb_time (rate > 0). Exact: no overflow since the
 * refill is added only while it is below the space left. */
static uint64_t tokens_at(const struct nd_emu *e, uint64_t t)
{
	uint64_t space = depth_units(e) - e->tokens, dt = t - e->tb_time;

	if (dt > space / e->cfg.rate_bps)
		return depth_units(e);
	return e->tokens + dt * e->cfg.rate_bps;
}

/* The first instant packet @pi may leave the shaper. */
static uint64_t ready_time(const struct nd_emu *e, uint32_t pi)
{
	uint64_t t0 = max_u64(max_u64(e->t_free, e->tb_time), e->pkts[pi].t_enq), have, need;

	if (e->cfg.rate_bps == 0)
		return t0;
	have = tokens_at(e, t0);
	need = cost_units(e, pi);
	if (have >= need)
		return t0;
	return sat_add(t0, (need - have + e->cfg.rate_bps - 1) / e->cfg.rate_bps);
}

/* Packet @pi leaves the shaper at @t into the delay line. */
static void send_pkt(struct nd_emu *e, uint32_t pi, uint64_t t)
{
	struct nd_emu_pkt *p = &e->pkts[pi];
	uint64_t dep;

	if (e->cfg.rate_bps) {
		uint64_t bits = ((uint64_t)p->len + e->cfg.overhead_bytes) * 8;

		e->tokens = tokens_at(e, t) - cost_units(e, pi);
		e->tb_time = t;
		e->busy_rem += bits * NS_PER_S;
		e->st.busy_ns += e->busy_rem / e->cfg.rate_bps;
		e->busy_rem %= e->cfg.rate_bps;
	}
	e->t_free = t;
	nd_hist_record(&e->st.sojourn_ns, t - p->t_enq);
	dep = sat_add(t, e->cfg.delay_ns);
	if (e->cfg.jitter_ns) {
		uint64_t j = e->cfg.jitter_ns, r = rng_below(e->rng_jit, 2 * j + 1);

		dep = sat_add(dep, r);
		dep = dep < sat_add(t, j) ? t : dep - j;   /* never before the dequeue */
	}
	if (!e->cfg.reorder) {
		dep = max_u64(dep, e->last_dep);
		e->last_dep = dep;
	}
	p->t_dep = dep;
	p->seq = e->oseq++;
	heap_push(e, pi);
}

/*
 * Bring the engine up to @now: every dequeue decision and PIE update at
 * or before @now, in time order. A decision happens at the instant the
 * candidate's tokens are complete; if AQM then hands out a different,
 * larger packet, that one waits (staged) for its own tokens.
 */
static void advance(struct nd_emu *e, uint64_t now)
{
	if (now < e->now)
		now = e->now;
	e->now = now;
	for (;;) {
		uint32_t p = e->staged != NONE ? e->staged : qd_peek(e), q;
		uint64_t t, tq;

		if (p == NONE)
			break;
		t = ready_time(e, p);
		if (e->cfg.qdisc == ND_QD_PIE)
			pie_run(e, t < now ? t : now);
		if (t > now)
			break;
		if (e->staged != NONE) {
			e->staged = NONE;
			send_pkt(e, p, t);
			continue;
		}
		q = qd_dequeue(e, t);
		e->t_free = t;
		if (q == NONE)
			continue;
		tq = ready_time(e, q);
		if (tq > now) {
			e->staged = q;
			break;
		}
		send_pkt(e, q, tq);
	}
	if (e->cfg.qdisc == ND_QD_PIE)
		pie_run(e, now);
	if (e->cfg.qdisc == ND_QD_FQ_CODEL)
		fq_select(e);
}

/* ---- public ---- */

static void stat_queue_max(struct nd_emu *e)
{
	uint64_t b = queue_bytes(e), n = queue_pkts(e);

	if (b > e->st.queue_bytes_max)
		e->st.queue_bytes_max = b;
	if (n > e->st.queue_pkts_max)
		e->st.queue_pkts_max = n;
}

void nd_emu_free(struct nd_emu *e)
{
	free(e->pkts);
	free(e->ring);
	free(e->flows);
	free(e->heap);
	free(e->drops);
	free(e->scratch);
	memset(e, 0, sizeof(*e));
}

int nd_emu_init(struct nd_emu *e, const struct nd_emu_cfg *c, uint32_t max_pkts, char *err, size_t errlen)
{
	struct nd_emu_cfg rc;

	memset(e, 0, sizeof(*e));
	if (nd_emu_cfg_resolve(c, &rc, err, errlen) < 0)
		return -1;
	if (max_pkts == 0 || max_pkts > ND_EMU_PKTS_MAX)
		return fail(err, errlen, "engine capacity must be 1..16777216 packets");
	e->cfg = rc;
	e->max_pkts = max_pkts;
	e->pkts = calloc(max_pkts, sizeof(*e->pkts));
	e->ring = calloc(max_pkts, sizeof(*e->ring));
	e->heap = calloc(max_pkts, sizeof(*e->heap));
	e->drops = calloc(max_pkts, sizeof(*e->drops));
	e->scratch = calloc(max_pkts, sizeof(*e->scratch));
	if (rc.qdisc == ND_QD_FQ_CODEL) {
		e->flows = calloc(rc.flows, sizeof(*e->flows));
		e->flows_cap = e->flows ? rc.flows : 0;
	}
	if (!e->pkts || !e->ring || !e->heap || !e->drops || !e->scratch ||
	    (rc.qdisc == ND_QD_FQ_CODEL && !e->flows)) {
		nd_emu_free(e);
		return fail(err, errlen, "out of memory");
	}
	for (uint32_t i = 0; i < max_pkts; i++)
		e->pkts[i].next = i + 1 < max_pkts ? i + 1 : NONE;
	e->free_head = 0;
	e->staged = NONE;
	fq_reset(e);
	pie_reset(e);
	e->tokens = depth_units(e);
	rng_seed(e->rng_loss, rc.seed ^ UINT64_C(0x6c6f7373));          /* "loss" */
	rng_seed(e->rng_jit, rc.seed ^ UINT64_C(0x6a697474657200));     /* "jitter" */
	rng_seed(e->rng_aqm, rc.seed ^ UINT64_C(0x61716d));             /* "aqm" */
	nd_hist_init(&e->st.sojourn_ns);
	return 0;
}

static bool lost(struct nd_emu *e)
{
	const struct nd_emu_cfg *c = &e->cfg;
	bool l = false;

	if (c->loss_random > 0.0 && rng_unit(e->rng_loss) < c->loss_random)
		l = true;
	if (c->ge_p > 0.0) {
		if (rng_unit(e->rng_loss) < (e->ge_bad ? c->ge_loss_bad : c->ge_loss_good))
			l = true;
		if (e->ge_bad ? rng_unit(e->rng_loss) < c->ge_r : rng_unit(e->rng_loss) < c->ge_p)
			e->ge_bad = !e->ge_bad;
	}
	return l;
}

enum nd_emu_verdict nd_emu_enqueue(struct nd_emu *e, uint32_t slot, uint32_t len, uint32_t flow_hash,
				   uint64_t now)
{
	enum nd_emu_verdict v = ND_EMU_QUEUED;
	struct nd_emu_pkt *p;
	uint32_t pi;

	advance(e, now);
	now = e->now;
	e->st.in_pkts++;
	e->st.in_bytes += len;
	if (len > e->cfg.mtu) {
		e->st.drop_mtu++;
		return ND_EMU_DROP_MTU;
	}
	if (lost(e)) {
		e->st.drop_loss++;
		return ND_EMU_DROP_LOSS;
	}
	if (held(e) >= e->max_pkts) {
		e->st.drop_engine_full++;
		return ND_EMU_DROP_ENGINE_FULL;
	}
	if (e->cfg.qdisc != ND_QD_FQ_CODEL) {
		if ((e->cfg.limit_pkts && queue_pkts(e) + 1 > e->cfg.limit_pkts) ||
		    (e->cfg.limit_bytes && queue_bytes(e) + len > e->cfg.limit_bytes)) {
			e->st.drop_buffer++;
			return ND_EMU_DROP_BUFFER;
		}
		if (e->cfg.qdisc == ND_QD_PIE && pie_drop_early(e, queue_bytes(e))) {
			e->st.drop_aqm++;
			return ND_EMU_DROP_AQM;
		}
	}
	pi = pkt_alloc(e);
	p = &e->pkts[pi];
	p->t_enq = now;
	p->seq = e->seq++;
	p->slot = slot;
	p->len = len;
	p->hash = flow_hash;
	qd_insert(e, pi);
	/* FQ-CoDel: the buffer limit is enforced on the fattest flow. The
	 * limit is exceeded only inside this loop, never between calls. */
	while (over_limit(e) && e->qd_pkts) {
		uint32_t victim = qd_shed(e);

		if (victim == pi) {
			pkt_free(e, pi);
			e->st.drop_buffer++;
			v = ND_EMU_DROP_BUFFER;
		} else {
			drop_pending(e, victim, &e->st.drop_buffer);
		}
	}
	if (e->cfg.qdisc == ND_QD_FQ_CODEL)
		fq_select(e);
	stat_queue_max(e);
	return v;
}

uint32_t nd_emu_poll_due(struct nd_emu *e, uint64_t now, uint32_t *out, uint64_t *due, uint32_t max,
			 uint32_t *dropped, uint32_t max_dropped, uint32_t *ndropped)
{
	uint32_t n = 0, nd = 0;

	advance(e, now);
	now = e->now;
	if (dropped) {
		while (nd < max_dropped && e->drop_len) {
			dropped[nd++] = e->drops[e->drop_head];
			e->drop_head = (e->drop_head + 1) % e->max_pkts;
			e->drop_len--;
		}
	}
	if (ndropped)
		*ndropped = nd;
	while (n < max && e->heap_len && e->pkts[e->heap[0]].t_dep <= now) {
		uint32_t pi = heap_pop(e);

		out[n] = e->pkts[pi].slot;
		if (due)
			due[n] = e->pkts[pi].t_dep;
		n++;
		e->st.out_pkts++;
		e->st.out_bytes += e->pkts[pi].len;
		pkt_free(e, pi);
	}
	return n;
}

uint32_t nd_emu_poll(struct nd_emu *e, uint64_t now, uint32_t *out, uint32_t max, uint32_t *dropped,
		     uint32_t max_dropped, uint32_t *ndropped)
{
	return nd_emu_poll_due(e, now, out, NULL, max, dropped, max_dropped, ndropped);
}

uint64_t nd_emu_next_event(const struct nd_emu *e, uint64_t now)
{
	uint64_t t = UINT64_MAX;
	uint32_t p;

	if (e->drop_len)
		return now;
	if (e->heap_len)
		t = e->pkts[e->heap[0]].t_dep;
	p = e->staged != NONE ? e->staged : qd_peek_const(e);
	if (p != NONE) {
		uint64_t r = ready_time(e, p);

		t = r < t ? r : t;
	}
	return t;
}

/* Sort @n packet indices by arrival order (heapsort: no allocation). */
static void sift(const struct nd_emu *e, uint32_t *a, uint32_t k, uint32_t n)
{
	uint32_t v = a[k];

	for (;;) {
		uint32_t c = 2 * k + 1;

		if (c >= n)
			break;
		if (c + 1 < n && e->pkts[a[c + 1]].seq > e->pkts[a[c]].seq)
			c++;
		if (e->pkts[a[c]].seq <= e->pkts[v].seq)
			break;
		a[k] = a[c];
		k = c;
	}
	a[k] = v;
}

static void sort_by_seq(const struct nd_emu *e, uint32_t *a, uint32_t n)
{
	for (uint32_t k = n / 2; k-- > 0;)
		sift(e, a, k, n);
	for (uint32_t m = n; m > 1; m--) {
		uint32_t t = a[0];

		a[0] = a[m - 1];
		a[m - 1] = t;
		sift(e, a, 0, m - 1);
	}
}

int nd_emu_reconfigure(struct nd_emu *e, const struct nd_emu_cfg *c, uint64_t now, char *err, size_t errlen)
{
	struct nd_emu_cfg nc, old = e->cfg;
	struct nd_emu_flow *nf = NULL;
	bool rebuild;
	uint32_t n = 0;

	if (nd_emu_cfg_resolve(c, &nc, err, errlen) < 0)
		return -1;
	nc.seed = old.seed;
	if (nc.qdisc == ND_QD_FQ_CODEL && nc.flows > e->flows_cap) {
		nf = calloc(nc.flows, sizeof(*nf));
		if (!nf)
			return fail(err, errlen, "out of memory");
	}
	advance(e, now);
	now = e->now;

	/* Shaper: tokens earned until now at the old rate. */
	if (old.rate_bps) {
		e->tokens = tokens_at(e, now);
	}
	e->tb_time = now;
	e->cfg = nc;
	if (!old.rate_bps || e->tokens > depth_units(e))
		e->tokens = depth_units(e);

	rebuild = nc.qdisc != old.qdisc || (nc.qdisc == ND_QD_FQ_CODEL && nc.flows != old.flows);
	if (rebuild) {
		/* Take every queued packet out of the old discipline. */
		if (old.qdisc == ND_QD_FQ_CODEL) {
			for (uint32_t i = 0; i < old.flows; i++)
				for (uint32_t pi = e->flows[i].head; pi != NONE; pi = e->pkts[pi].next)
					e->scratch[n++] = pi;
		} else {
			for (uint32_t i = 0; i < e->ring_len; i++)
				e->scratch[n++] = e->ring[(e->ring_head + i) % e->max_pkts];
		}
		sort_by_seq(e, e->scratch, n);
		if (nf) {
			free(e->flows);
			e->flows = nf;
			e->flows_cap = nc.flows;
		}
		e->ring_head = e->ring_len = 0;
		e->qd_bytes = e->qd_pkts = 0;
		memset(&e->codel, 0, sizeof(e->codel));
		if (e->flows)
			fq_reset(e);
		pie_reset(e);
		for (uint32_t i = 0; i < n; i++)
			qd_insert(e, e->scratch[i]);
	} else {
		free(nf);   /* not needed: same flow count */
		if (e->pie.burst_left > nc.pie_max_burst_ns)
			e->pie.burst_left = nc.pie_max_burst_ns;
	}
	while (over_limit(e) && e->qd_pkts) {
		uint32_t victim = qd_shed(e);

		if (victim == NONE)
			break;
		drop_pending(e, victim, &e->st.drop_buffer);
	}
	if (nc.qdisc == ND_QD_FQ_CODEL)
		fq_select(e);
	if (nc.qdisc == ND_QD_PIE)
		pie_run(e, now);
	return 0;
}

void nd_emu_get_stats(const struct nd_emu *e, struct nd_emu_stats *s)
{
	*s = e->st;
	s->queue_bytes = queue_bytes(e);
	s->queue_pkts = queue_pkts(e);
	s->delay_line_pkts = e->heap_len;
	s->drop_pending = e->drop_len;
}
