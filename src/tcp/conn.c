/* SPDX-License-Identifier: MIT */
#include "tcp/conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct nd_tracker {
	struct nd_tracker_cfg cfg;
	struct nd_flow_table *ft;
	struct nd_tracker_stats st;
	uint64_t now;           /* latest timestamp seen */
	uint64_t next_id;
};

const char *nd_conn_state_name(enum nd_conn_state s)
{
	switch (s) {
	case ND_CS_OPEN: return "open";
	case ND_CS_HALF_CLOSED: return "half-closed";
	case ND_CS_CLOSED: return "closed";
	case ND_CS_RESET: return "reset";
	case ND_CS_TIMEOUT: return "timeout";
	}
	return "?";
}

const char *nd_conn_end_name(enum nd_conn_end e)
{
	switch (e) {
	case ND_END_FINISHED: return "finished";
	case ND_END_TIMEOUT: return "idle-timeout";
	case ND_END_EVICTED: return "evicted";
	case ND_END_REUSED: return "port-reused";
	case ND_END_INPUT_END: return "input-end";
	}
	return "?";
}

const char *nd_client_by_name(enum nd_client_by b)
{
	switch (b) {
	case ND_CLIENT_SYN: return "syn";
	case ND_CLIENT_SYNACK: return "synack";
	case ND_CLIENT_PORT: return "port";
	case ND_CLIENT_FIRST: return "first-packet";
	}
	return "?";
}

struct nd_tracker *nd_tracker_new(const struct nd_tracker_cfg *cfg)
{
	struct nd_tracker *t;

	if (!cfg || cfg->max_flows == 0 || !cfg->done) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cfg = *cfg;
	t->ft = nd_ft_new(cfg->max_flows, sizeof(struct nd_conn), cfg->seed);
	if (!t->ft) {
		free(t);
		return NULL;
	}
	t->st.cap = cfg->max_flows;
	return t;
}

void nd_tracker_free(struct nd_tracker *t)
{
	struct nd_conn *c;

	if (!t)
		return;
	for (int l = ND_FLOW_OPEN; l <= ND_FLOW_CLOSED; l++)
		for (c = nd_ft_oldest(t->ft, (enum nd_flow_list)l); c; c = nd_ft_next(t->ft, c))
			nd_infer_release(c);
	nd_ft_free(t->ft);
	free(t);
}

/* Report @c to the caller and remove it from the table. */
static void conn_end(struct nd_tracker *t, struct nd_conn *c, enum nd_conn_end why)
{
	c->end = why;
	switch (why) {
	case ND_END_FINISHED: t->st.finished++; break;
	case ND_END_TIMEOUT:
		t->st.timed_out++;
		if (c->state == ND_CS_OPEN || c->state == ND_CS_HALF_CLOSED)
			c->state = ND_CS_TIMEOUT;
		break;
	case ND_END_EVICTED:
		if (nd_ft_list_of(c) == ND_FLOW_CLOSED)
			t->st.evicted_closed++;
		else
			t->st.evicted_open++;
		break;
	case ND_END_REUSED: t->st.reused++; break;
	case ND_END_INPUT_END: t->st.input_end++; break;
	}
	nd_lim_finish(c);
	t->cfg.done(t->cfg.ctx, c);
	nd_infer_release(c);
	nd_ft_remove(t->ft, c);
}

/* End connections whose linger or idle time ran out at t->now. Both lists
 * are ordered oldest first, so only their heads need looking at. */
static void expire(struct nd_tracker *t)
{
	struct nd_conn *c;

	while ((c = nd_ft_oldest(t->ft, ND_FLOW_CLOSED)) && t->now - c->close_ts >= t->cfg.linger_ns)
		conn_end(t, c, ND_END_FINISHED);
	if (!t->cfg.idle_timeout_ns)
		return;
	while ((c = nd_ft_oldest(t->ft, ND_FLOW_OPEN)) && t->now > c->last_ts &&
	       t->now - c->last_ts >= t->cfg.idle_timeout_ns)
		conn_end(t, c, ND_END_TIMEOUT);
}

/* Make room for one entry: a closed connection if there is one (it is
 * complete, so reporting it early loses nothing), else the least recently
 * active open one. */
static void evict_one(struct nd_tracker *t)
{
	struct nd_conn *c = nd_ft_oldest(t->ft, ND_FLOW_CLOSED);

	if (!c)
		c = nd_ft_oldest(t->ft, ND_FLOW_OPEN);
	if (c)
		conn_end(t, c, ND_END_EVICTED);
}

static bool is_pure_syn(const struct nd_pkt *p)
{
	return (p->flags & (ND_TH_SYN | ND_TH_ACK)) == ND_TH_SYN;
}

/* Does a pure SYN from @side start a new connection on this 4-tuple? Yes
 * after FIN or RST, and when the side's earlier SYN had another ISN (the
 * old connection's end was not captured). A SYN with the same ISN is a
 * retransmission. */
static bool syn_starts_new(const struct nd_conn *c, int side, const struct nd_pkt *p)
{
	const struct nd_dir *d = &c->dir[side];

	if (d->syn_seen && d->isn == p->seq)
		return false;
	if (c->state != ND_CS_OPEN)
		return true;
	return d->syn_seen;
}

/* Pick the client of a connection first seen with packet @p from @side. */
static void guess_client(struct nd_conn *c, int side, const struct nd_pkt *p)
{
	uint16_t sp = p->sport, dp = p->dport;

	if (p->flags & ND_TH_SYN) {
		c->client = (uint8_t)(p->flags & ND_TH_ACK ? !side : side);
		c->client_by = p->flags & ND_TH_ACK ? ND_CLIENT_SYNACK : ND_CLIENT_SYN;
		return;
	}
	c->client_by = ND_CLIENT_PORT;
	if ((sp < 1024 && dp >= 1024) || (sp < 32768 && dp >= 32768))
		c->client = (uint8_t)!side;     /* sender holds the service port */
	else if ((dp < 1024 && sp >= 1024) || (dp < 32768 && sp >= 32768))
		c->client = (uint8_t)side;
	else {
		c->client = (uint8_t)side;
		c->client_by = ND_CLIENT_FIRST;
	}
}

static void close_conn(struct nd_tracker *t, struct nd_conn *c, uint64_t ts)
{
	if (nd_ft_list_of(c) != ND_FLOW_CLOSED) {
		c->close_ts = ts > t->now ? ts : t->now;
		nd_ft_set_list(t->ft, c, ND_FLOW_CLOSED);
	}
}

static void update(struct nd_tracker *t, struct nd_conn *c, int side, const struct nd_pkt *p,
		   uint64_t ts, uint32_t wirelen)
{
	struct nd_dir *d = &c->dir[side], *o = &c->dir[!side];
	uint8_t f = p->flags;

	d->pkts++;
	d->bytes += wirelen;
	if (ts < c->first_ts)
		c->first_ts = ts;
	if (ts > c->last_ts)
		c->last_ts = ts;
	if (p->anomaly) {
		/* A segment the receiver would drop: seen, but it changes nothing. */
		d->malformed++;
		if (nd_ft_list_of(c) == ND_FLOW_OPEN)
			nd_ft_touch(t->ft, c);
		return;
	}
	d->payload_bytes += p->payload_len;
	if (p->opt.has_ts)
		d->ts_pkts++;
	if (p->opt.nsack)
		d->sack_pkts++;
	if (p->opt.malformed)
		d->bad_opts++;

	if (f & ND_TH_SYN) {
		d->syn++;
		d->syn_sent++;
		if (!d->syn_seen) {
			d->syn_seen = true;
			d->isn = p->seq;
			d->syn_ts = ts;
			d->has_mss = p->opt.has_mss;
			d->mss = p->opt.mss;
			d->has_wscale = p->opt.has_wscale;
			d->wscale = p->opt.wscale;
			d->sack_perm = p->opt.sack_perm;
			d->ts_on_syn = p->opt.has_ts;
		}
		if (is_pure_syn(p) && c->client_by != ND_CLIENT_SYN) {
			c->client = (uint8_t)side;
			c->client_by = ND_CLIENT_SYN;
		} else if (!is_pure_syn(p) && c->client_by > ND_CLIENT_SYNACK) {
			c->client = (uint8_t)!side;
			c->client_by = ND_CLIENT_SYNACK;
		}
	}
	/* The first packet that acknowledges the other side's SYN closes that
	 * SYN's round trip, unless the SYN was sent more than once (Karn). */
	if ((f & ND_TH_ACK) && !(f & ND_TH_RST) && o->syn_seen && o->hs_rtt_ns == -1 &&
	    p->ack == o->isn + 1u) {
		o->hs_rtt_ns = o->syn_sent == 1 && ts >= o->syn_ts ? (int64_t)(ts - o->syn_ts) : -2;
	}
	if (f & ND_TH_FIN) {
		d->fin++;
		if (c->state == ND_CS_OPEN)
			c->state = ND_CS_HALF_CLOSED;
		if (o->fin && c->state != ND_CS_RESET) {
			c->state = ND_CS_CLOSED;
			close_conn(t, c, ts);
		}
	}
	if (f & ND_TH_RST) {
		d->rst++;
		c->reset = true;
		c->state = ND_CS_RESET;
		close_conn(t, c, ts);
	}
	nd_infer_packet(c, side, p, ts);
	if (nd_ft_list_of(c) == ND_FLOW_OPEN)
		nd_ft_touch(t->ft, c);
}

void nd_tracker_packet(struct nd_tracker *t, const struct nd_pkt *p, uint64_t ts,
		       uint32_t wirelen)
{
	struct nd_flow_key k;
	struct nd_conn *c;
	int side;

	if (p->l4 != 6)
		return;
	t->st.packets++;
	if (ts < t->now)
		t->st.backwards++;
	else
		t->now = ts;
	expire(t);

	side = nd_flow_key_from_pkt(p, &k);
	c = nd_ft_find(t->ft, &k);
	if (c && !p->anomaly && is_pure_syn(p) && syn_starts_new(c, side, p)) {
		conn_end(t, c, ND_END_REUSED);
		c = NULL;
	}
	if (!c) {
		c = nd_ft_insert(t->ft, &k);
		if (!c && errno == ENOSPC) {
			evict_one(t);
			c = nd_ft_insert(t->ft, &k);
		}
		if (!c) {
			t->st.nomem++;
			return;
		}
		c->key = k;
		c->id = ++t->next_id;
		c->first_ts = c->last_ts = ts;
		c->dir[0].hs_rtt_ns = c->dir[1].hs_rtt_ns = -1;
		c->timeline = t->cfg.timeline;
		guess_client(c, side, p);
		t->st.conns++;
	}
	update(t, c, side, p, ts, wirelen);
}

void nd_tracker_advance(struct nd_tracker *t, uint64_t now_ns)
{
	if (now_ns > t->now) {
		t->now = now_ns;
		expire(t);
	}
}

void nd_tracker_flush(struct nd_tracker *t)
{
	struct nd_conn *c;

	/* Closed ones first: they ended earlier. */
	while ((c = nd_ft_oldest(t->ft, ND_FLOW_CLOSED)))
		conn_end(t, c, ND_END_FINISHED);
	while ((c = nd_ft_oldest(t->ft, ND_FLOW_OPEN)))
		conn_end(t, c, ND_END_INPUT_END);
}

void nd_tracker_foreach(struct nd_tracker *t, void (*fn)(void *ctx, const struct nd_conn *c),
			void *ctx)
{
	for (int l = ND_FLOW_OPEN; l <= ND_FLOW_CLOSED; l++)
		for (struct nd_conn *c = nd_ft_oldest(t->ft, (enum nd_flow_list)l); c;
		     c = nd_ft_next(t->ft, c))
			fn(ctx, c);
}

void nd_tracker_get_stats(const struct nd_tracker *t, struct nd_tracker_stats *out)
{
	*out = t->st;
	out->active = nd_ft_count(t->ft);
	out->peak = nd_ft_peak(t->ft);
	out->cap = nd_ft_cap(t->ft);
}
