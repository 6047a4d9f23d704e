/* SPDX-License-Identifier: MIT */
/*
 * load: the collectors' NDJSON read into the doctor's model with json-c.
 * The line parsers are pure; nd_dx_load_file() is the only I/O.
 */
#include "doctor/load.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the model's small helpers ---- */

static const char *const src_names[ND_DX_NSRC] = { "tcp", "drops", "counters", "bench" };
static const char *const cause_names[ND_DX_NCAUSE] = {
	"rto", "syn-retrans", "synack-retrans", "zero-window", "idle",
};

const char *nd_dx_src_name(enum nd_dx_src s)
{
	return (unsigned)s < ND_DX_NSRC ? src_names[s] : "?";
}

const char *nd_dx_cause_name(enum nd_dx_cause c)
{
	return (unsigned)c < ND_DX_NCAUSE ? cause_names[c] : "?";
}

void nd_dx_copy(char *dst, size_t len, const char *src)
{
	if (!len)
		return;
	if (!src)
		src = "";
	snprintf(dst, len, "%s", src);
}

struct nd_dx_input *nd_dx_input_new(void)
{
	return calloc(1, sizeof(struct nd_dx_input));
}

void nd_dx_input_free(struct nd_dx_input *in)
{
	if (!in)
		return;
	free(in->ctr);
	free(in->drop);
	free(in->fdrop);
	free(in->evplace);
	free(in->dropev);
	free(in->stall);
	free(in->sig);
	free(in->conn);
	free(in->server);
	free(in->bench.flow);
	free(in);
}

void *nd_dx_push(void **arr, size_t *n, size_t *alloc, size_t size, size_t cap, uint64_t *over)
{
	char *p;

	if (*n >= cap) {
		(*over)++;
		return NULL;
	}
	if (*n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 16;

		if (na > cap)
			na = cap;
		p = realloc(*arr, na * size);
		if (!p) {
			errno = ENOMEM;
			return NULL;
		}
		*arr = p;
		*alloc = na;
	}
	p = (char *)*arr + *n * size;
	memset(p, 0, size);
	(*n)++;
	return p;
}

#define PUSH(in, field, cap) \
	nd_dx_push((void **)&(in)->field, &(in)->n##field, &(in)->a##field, sizeof(*(in)->field), \
		   (cap), &(in)->field##_over)

int nd_dx_add_netns(struct nd_dx_input *in, const char *name, uint64_t ino)
{
	for (size_t i = 0; i < in->nnetns; i++) {
		if (!strcmp(in->netns[i], name)) {
			if (ino)
				in->netns_ino[i] = ino;
			return 0;
		}
	}
	if (in->nnetns >= ND_DX_NETNS_MAX)
		return -ENOSPC;
	nd_dx_copy(in->netns[in->nnetns], ND_DX_NAME, name);
	in->netns_ino[in->nnetns++] = ino;
	return 0;
}

int nd_dx_add_capture(struct nd_dx_input *in, const char *iface, const char *netns)
{
	if (in->ncap >= ND_DX_CAP_MAX)
		return -ENOSPC;
	nd_dx_copy(in->cap[in->ncap].iface, ND_DX_NAME, iface);
	nd_dx_copy(in->cap[in->ncap].netns, ND_DX_NAME, netns);
	return (int)in->ncap++;
}

/* ---- json-c getters: a missing key or a null is 0 / NULL ---- */

static struct json_object *jget(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, k, &v))
		return NULL;
	return v;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v = jget(o, k);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t ji64(struct json_object *o, const char *k)
{
	struct json_object *v = jget(o, k);

	return v ? json_object_get_int64(v) : 0;
}

static uint64_t ju64(struct json_object *o, const char *k)
{
	int64_t v = ji64(o, k);

	return v > 0 ? (uint64_t)v : 0;
}

static double jdbl(struct json_object *o, const char *k)
{
	struct json_object *v = jget(o, k);

	return v ? json_object_get_double(v) : 0.0;
}

static bool jbool(struct json_object *o, const char *k)
{
	struct json_object *v = jget(o, k);

	return v && json_object_get_boolean(v);
}

/* Parse @line as an object with a string "type"; NULL (and a bad line
 * counted against @src) otherwise. */
static struct json_object *parse_obj(struct nd_dx_input *in, enum nd_dx_src src, const char *line,
				     const char **type)
{
	struct json_object *o = json_tokener_parse(line);

	*type = jstr(o, "type");
	if (!o || !*type) {
		if (o)
			json_object_put(o);
		in->bad_lines[src]++;
		return NULL;
	}
	return o;
}

/* ---- counters ---- */

static const char *const tcp_ctrs[] = {
	"Tcp.RetransSegs", "Tcp.OutSegs", "Tcp.AttemptFails", "Tcp.ActiveOpens",
	"Tcp.PassiveOpens", "Tcp.InErrs",
	"TcpExt.TCPTimeouts", "TcpExt.TCPLossProbes", "TcpExt.TCPSynRetrans",
	"TcpExt.ListenOverflows", "TcpExt.ListenDrops", "TcpExt.TCPFastRetrans",
	"TcpExt.TCPSlowStartRetrans", "TcpExt.TCPLostRetransmit", "TcpExt.TCPBacklogDrop",
	"TcpExt.TCPRcvQDrop", "TcpExt.TCPZeroWindowDrop", "TcpExt.TCPToZeroWindowAdv",
	"TcpExt.TCPWantZeroWindowAdv", "TcpExt.TCPFromZeroWindowAdv", "TcpExt.PruneCalled",
	"TcpExt.RcvPruned", "TcpExt.TCPRcvCollapsed", "TcpExt.TCPOFODrop",
	"TcpExt.SyncookiesSent", "TcpExt.SyncookiesFailed", "TcpExt.TCPReqQFullDrop",
	"TcpExt.TCPReqQFullDoCookies", "TcpExt.TCPAbortOnTimeout", "TcpExt.TCPSpuriousRTOs",
	"TcpExt.TCPMemoryPressures", "TcpExt.TCPAbortOnMemory",
	NULL
};

static const char *const link_ctrs[] = {
	"rx_dropped", "tx_dropped", "rx_missed_errors", "rx_fifo_errors", "rx_over_errors",
	"rx_errors", "tx_errors", "tx_fifo_errors", "tx_aborted_errors", "tx_carrier_errors",
	"rx_nohandler", NULL
};

static const char *const qdisc_ctrs[] = { "drops", "overlimits", "requeues", NULL };
static const char *const ct_ctrs[] = { "drop", "early_drop", "insert_failed", "invalid", NULL };
static const char *const softnet_ctrs[] = { "dropped", "time_squeeze", NULL };

static bool in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (!strcmp(*l, s))
			return true;
	return false;
}

/* Whether the engine reads counter @name of @source; gauges of conntrack
 * are kept even when they did not move. */
static bool ctr_wanted(const char *source, const char *name, int64_t delta)
{
	if (!strcmp(source, "conntrack") &&
	    (!strcmp(name, "entries") || !strcmp(name, "entries_limit")))
		return true;
	if (delta == 0)
		return false;
	if (!strcmp(source, "snmp") || !strcmp(source, "netstat"))
		return in_list(tcp_ctrs, name);
	if (!strcmp(source, "link"))
		return in_list(link_ctrs, name);
	if (!strcmp(source, "qdisc"))
		return in_list(qdisc_ctrs, name);
	if (!strcmp(source, "conntrack"))
		return in_list(ct_ctrs, name);
	if (!strcmp(source, "softnet"))
		return in_list(softnet_ctrs, name);
	if (!strcmp(source, "ethtool"))
		return strstr(name, "drop") || strstr(name, "discard") || strstr(name, "miss") ||
		       strstr(name, "fifo") || strstr(name, "full");
	return false;
}

static struct nd_dx_ctr *ctr_find(struct nd_dx_input *in, const char *netns, const char *source,
				  const char *dev, const char *handle, const char *name)
{
	for (size_t i = 0; i < in->nctr; i++) {
		struct nd_dx_ctr *c = &in->ctr[i];

		if (!strcmp(c->name, name) && !strcmp(c->source, source) && !strcmp(c->netns, netns) &&
		    !strcmp(c->dev, dev) && !strcmp(c->handle, handle))
			return c;
	}
	return NULL;
}

int nd_dx_counters_line(struct nd_dx_input *in, const char *line)
{
	const char *type, *netns, *source, *name, *dev, *handle;
	struct json_object *o = parse_obj(in, ND_DX_SRC_COUNTERS, line, &type);
	struct nd_dx_ctr *c = NULL;
	int64_t delta;
	int rc = 0;

	if (!o)
		return -EINVAL;
	if (!strcmp(type, "summary")) {
		in->have[ND_DX_SRC_COUNTERS] = true;
		goto out;
	}
	if (strcmp(type, "delta") != 0)
		goto out;
	netns = jstr(o, "netns");
	source = jstr(o, "source");
	name = jstr(o, "name");
	if (!netns || !source || !name) {
		in->bad_lines[ND_DX_SRC_COUNTERS]++;
		rc = -EINVAL;
		goto out;
	}
	delta = ji64(o, "delta");
	if (!ctr_wanted(source, name, delta))
		goto out;
	dev = jstr(o, "device");
	handle = jstr(o, "handle");
	if (!strcmp(source, "softnet"))
		dev = "";       /* one row per CPU: summed */
	if (ji64(o, "seq") > 1 || !strcmp(source, "softnet"))
		c = ctr_find(in, netns, source, dev ? dev : "", handle ? handle : "", name);
	if (!c) {
		c = PUSH(in, ctr, ND_DX_CTR_MAX);
		if (!c) {
			rc = in->nctr < ND_DX_CTR_MAX ? -ENOMEM : 0;
			goto out;
		}
		nd_dx_copy(c->netns, sizeof(c->netns), netns);
		nd_dx_copy(c->source, sizeof(c->source), source);
		nd_dx_copy(c->name, sizeof(c->name), name);
		nd_dx_copy(c->dev, sizeof(c->dev), dev);
		nd_dx_copy(c->qdisc, sizeof(c->qdisc), jstr(o, "qdisc"));
		nd_dx_copy(c->handle, sizeof(c->handle), handle);
		c->gauge = jbool(o, "gauge");
	}
	if (c->gauge)
		c->delta = delta;
	else
		c->delta += delta;
	c->value = ji64(o, "value");
out:
	json_object_put(o);
	return rc;
}

/* ---- drops ---- */

/* The namespace of a drops row by name: its /run/netns name, "host" for
 * the initial one (drops says "init"), else a namespace the user named
 * with the same inode. */
static void drops_netns(const struct nd_dx_input *in, struct json_object *o, char *out, uint64_t *ino)
{
	const char *n = jstr(o, "netns_name");

	*ino = ju64(o, "netns");
	if (n && !strcmp(n, "init"))
		n = "host";
	if (!n || !*n) {
		for (size_t i = 0; i < in->nnetns; i++)
			if (*ino && in->netns_ino[i] == *ino)
				n = in->netns[i];
	}
	nd_dx_copy(out, ND_DX_NAME, n);
}

static int drops_place(struct nd_dx_input *in, struct json_object *o)
{
	struct nd_dx_drop *d = PUSH(in, drop, ND_DX_DROP_MAX);

	if (!d)
		return in->ndrop < ND_DX_DROP_MAX ? -ENOMEM : 0;
	nd_dx_copy(d->reason, sizeof(d->reason), jstr(o, "reason"));
	nd_dx_copy(d->location, sizeof(d->location), jstr(o, "location"));
	nd_dx_copy(d->dev, sizeof(d->dev), jstr(o, "dev"));
	nd_dx_copy(d->proto, sizeof(d->proto), jstr(o, "proto"));
	drops_netns(in, o, d->netns, &d->netns_ino);
	d->packets = ju64(o, "packets");
	d->bytes = ju64(o, "bytes");
	d->first_ts = jdbl(o, "first_ts");
	d->last_ts = jdbl(o, "last_ts");
	d->qdisc = jbool(o, "qdisc");
	return 0;
}

void nd_dx_fkey_set(struct nd_dx_fkey *k, const char *a, const char *b)
{
	if (strcmp(a, b) > 0) {
		const char *t = a;

		a = b;
		b = t;
	}
	nd_dx_copy(k->lo, sizeof(k->lo), a);
	nd_dx_copy(k->hi, sizeof(k->hi), b);
}

/* An "event" row of drops --events of kind drop with a flow: kept with its
 * time for the timing join, its place interned. */
static int drops_event(struct nd_dx_input *in, struct json_object *o)
{
	struct json_object *fl = jget(o, "flow");
	const char *a = jstr(fl, "src"), *b = jstr(fl, "dst"), *kind = jstr(o, "kind");
	const char *reason = jstr(o, "reason"), *dev = jstr(o, "dev");
	char netns[ND_DX_NAME];
	struct nd_dx_evplace *pl = NULL;
	struct nd_dx_dropev *e;
	uint64_t ino;
	size_t k;

	if (!kind || strcmp(kind, "drop") || !a || !b)
		return 0;
	drops_netns(in, o, netns, &ino);
	for (k = 0; k < in->nevplace && !pl; k++)
		if (!strcmp(in->evplace[k].reason, reason ? reason : "") &&
		    !strcmp(in->evplace[k].dev, dev ? dev : "") && !strcmp(in->evplace[k].netns, netns))
			pl = &in->evplace[k];
	if (!pl) {
		pl = PUSH(in, evplace, ND_DX_EVPLACE_MAX);
		if (!pl) {
			in->dropev_over++;      /* an event not kept */
			return in->nevplace < ND_DX_EVPLACE_MAX ? -ENOMEM : 0;
		}
		nd_dx_copy(pl->reason, sizeof(pl->reason), reason);
		nd_dx_copy(pl->dev, sizeof(pl->dev), dev);
		nd_dx_copy(pl->netns, sizeof(pl->netns), netns);
		pl->qdisc = jbool(o, "qdisc");
	}
	e = PUSH(in, dropev, ND_DX_DROPEV_MAX);
	if (!e)
		return in->ndropev < ND_DX_DROPEV_MAX ? -ENOMEM : 0;
	e->ts = jdbl(o, "ts");
	e->place = (uint32_t)(pl - in->evplace);
	nd_dx_fkey_set(&e->key, a, b);
	return 0;
}

/* A "drop" row of drops --flows: one flow at one place. Rows without a
 * flow (flows off, or a packet that was not IP) are the places again. */
static int drops_flow(struct nd_dx_input *in, struct json_object *o)
{
	struct json_object *fl = jget(o, "flow");
	const char *a = jstr(fl, "src"), *b = jstr(fl, "dst");
	struct nd_dx_fdrop *d;
	uint64_t ino;

	if (!a || !b)
		return 0;
	d = PUSH(in, fdrop, ND_DX_FDROP_MAX);
	if (!d)
		return in->nfdrop < ND_DX_FDROP_MAX ? -ENOMEM : 0;
	nd_dx_fkey_set(&d->key, a, b);
	nd_dx_copy(d->reason, sizeof(d->reason), jstr(o, "reason"));
	nd_dx_copy(d->dev, sizeof(d->dev), jstr(o, "dev"));
	drops_netns(in, o, d->netns, &ino);
	d->packets = ju64(o, "packets");
	d->qdisc = jbool(o, "qdisc");
	return 0;
}

static int drops_signal(struct nd_dx_input *in, struct json_object *o)
{
	const char *sig = jstr(o, "signal"), *state = jstr(o, "state");
	char netns[ND_DX_NAME];
	struct nd_dx_sig *s = NULL;
	uint64_t ino;

	if (!sig)
		return -EINVAL;
	if (!state)
		state = "";
	drops_netns(in, o, netns, &ino);
	for (size_t i = 0; i < in->nsig && !s; i++)
		if (!strcmp(in->sig[i].signal, sig) && !strcmp(in->sig[i].state, state) &&
		    !strcmp(in->sig[i].netns, netns) && in->sig[i].netns_ino == ino)
			s = &in->sig[i];
	if (!s) {
		s = PUSH(in, sig, ND_DX_SIG_MAX);
		if (!s)
			return in->nsig < ND_DX_SIG_MAX ? -ENOMEM : 0;
		nd_dx_copy(s->signal, sizeof(s->signal), sig);
		nd_dx_copy(s->state, sizeof(s->state), state);
		nd_dx_copy(s->netns, sizeof(s->netns), netns);
		s->netns_ino = ino;
	}
	s->count += ju64(o, "count");
	return 0;
}

int nd_dx_drops_line(struct nd_dx_input *in, const char *line)
{
	const char *type;
	struct json_object *o = parse_obj(in, ND_DX_SRC_DROPS, line, &type);
	struct nd_dx_drops_sum *s = &in->dsum;
	int rc = 0;

	if (!o)
		return -EINVAL;
	if (!strcmp(type, "meta")) {
		s->flows = jbool(o, "flows");
		s->events = jbool(o, "events");
		nd_dx_copy(s->attach, sizeof(s->attach), jstr(o, "attach"));
	} else if (!strcmp(type, "place")) {
		rc = drops_place(in, o);
	} else if (!strcmp(type, "drop")) {
		rc = drops_flow(in, o);
	} else if (!strcmp(type, "event")) {
		rc = drops_event(in, o);
	} else if (!strcmp(type, "signal_place") || (!strcmp(type, "signal") && !s->sig_places)) {
		/* signal_place rows (exact totals per signal, state and
		 * namespace, after the signal rows) replace the sums of the
		 * signal rows, which are per flow with --flows and may miss
		 * what did not fit the flow table */
		if (!strcmp(type, "signal_place") && !s->sig_places) {
			s->sig_places = true;
			in->nsig = 0;
			in->sig_over = 0;
		}
		rc = drops_signal(in, o);
		if (rc == -EINVAL)
			in->bad_lines[ND_DX_SRC_DROPS]++;
	} else if (!strcmp(type, "summary")) {
		s->seconds = jdbl(o, "seconds");
		s->drops = ju64(o, "drops");
		s->map_full = ju64(o, "drops_map_full");
		s->flows_map_full = ju64(o, "flows_map_full");
		s->ev_lost = ju64(o, "events_suppressed") + ju64(o, "events_ring_full");
		s->retrans = ju64(o, "retrans");
		s->syn_sent_retrans = ju64(o, "syn_sent_retrans");
		s->synack_retrans = ju64(o, "synack_retrans");
		s->rcvqueue_full = ju64(o, "rcvqueue_full");
		if (jstr(o, "attach"))
			nd_dx_copy(s->attach, sizeof(s->attach), jstr(o, "attach"));
		in->have[ND_DX_SRC_DROPS] = true;
	}
	json_object_put(o);
	return rc;
}

/* ---- tcp ---- */

static uint8_t verdict_of(const char *v)
{
	if (!v)
		return ND_DX_V_IDLE;
	if (!strcmp(v, "sender-limited"))
		return ND_DX_V_SENDER;
	if (!strcmp(v, "receiver-limited"))
		return ND_DX_V_RECEIVER;
	if (!strcmp(v, "network-limited"))
		return ND_DX_V_NETWORK;
	if (!strcmp(v, "mixed"))
		return ND_DX_V_MIXED;
	return ND_DX_V_IDLE;
}

static int cause_of(const char *c)
{
	for (int i = 0; c && i < ND_DX_NCAUSE; i++)
		if (!strcmp(c, cause_names[i]))
			return i;
	return -1;
}

static void tcp_dir(struct json_object *o, struct nd_dx_dir *d)
{
	struct json_object *lim = jget(o, "limits"), *rtt = jget(o, "rtt_us"), *win = jget(o, "window");

	d->payload = ju64(o, "payload_bytes");
	d->retrans = (uint32_t)ju64(o, "retrans_pkts");
	d->fast = (uint32_t)ju64(o, "fast_retrans");
	d->rto = (uint32_t)ju64(o, "rto_retrans");
	d->syn_retrans = (uint32_t)ju64(o, "syn_retrans");
	d->zero_window = (uint32_t)ju64(o, "zero_window");
	d->win_max = (uint32_t)ju64(win, "max");
	d->rtt_p50_us = (uint32_t)ju64(rtt, "p50");
	d->verdict = verdict_of(jstr(o, "verdict"));
	d->transfer_s = jdbl(o, "transfer_s");
	if (lim && json_object_is_type(lim, json_type_object)) {
		d->has_lim = true;
		d->lim[0] = jdbl(lim, "sender");
		d->lim[1] = jdbl(lim, "receiver");
		d->lim[2] = jdbl(lim, "network");
	}
}

static void stall_record(struct nd_dx_stalls *s, double dur, uint64_t retries)
{
	long ds = (long)(dur * 10.0 + 0.5);

	if (ds < 0)
		ds = 0;
	if (ds > ND_DX_DS_MAX)
		ds = ND_DX_DS_MAX;
	s->n++;
	s->retries += retries;
	s->sum_s += dur;
	if (dur > s->max_s)
		s->max_s = dur;
	s->ds[ds]++;
}

static bool conn_notable(const struct nd_dx_conn *c)
{
	for (int k = 0; k < 2; k++) {
		const struct nd_dx_dir *d = &c->d[k];

		if (d->retrans || d->syn_retrans || d->zero_window || d->payload >= ND_DX_BIG_BYTES)
			return true;
		for (int i = 0; i < ND_DX_NCAUSE; i++)
			if (c->nstall[i][k])
				return true;
	}
	return false;
}

static int server_count(struct nd_dx_input *in, const char *server, bool stalled, uint64_t txn)
{
	struct nd_dx_server *s = NULL;

	for (size_t i = in->nserver; i > 0 && !s; i--)
		if (!strcmp(in->server[i - 1].server, server))
			s = &in->server[i - 1];
	if (!s) {
		s = PUSH(in, server, ND_DX_SERVER_MAX);
		if (!s)
			return in->nserver < ND_DX_SERVER_MAX ? -ENOMEM : 0;
		nd_dx_copy(s->server, sizeof(s->server), server);
	}
	s->conns++;
	s->stalled += stalled;
	s->txn += txn;
	return 0;
}

static int tcp_conn(struct nd_dx_input *in, unsigned cap, struct json_object *o)
{
	struct json_object *stalls = jget(o, "stalls"), *txn = jget(o, "txn");
	const char *client = jstr(o, "client"), *server = jstr(o, "server");
	struct nd_dx_conn c, *p;
	struct nd_dx_stall st[32];      /* their times, kept when the connection is */
	size_t nst = 0;
	bool stalled = false;
	int rc;

	if (!client || !server)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	nd_dx_copy(c.client, sizeof(c.client), client);
	nd_dx_copy(c.server, sizeof(c.server), server);
	c.cap = (uint16_t)cap;
	c.first_ts = jdbl(o, "first_ts");
	c.last_ts = jdbl(o, "last_ts");
	tcp_dir(jget(o, "c2s"), &c.d[0]);
	tcp_dir(jget(o, "s2c"), &c.d[1]);
	if (stalls && json_object_is_type(stalls, json_type_array)) {
		size_t n = json_object_array_length(stalls);

		for (size_t i = 0; i < n; i++) {
			struct json_object *s = json_object_array_get_idx(stalls, i);
			const char *dir = jstr(s, "dir");
			int cause = cause_of(jstr(s, "cause"));
			double dur = jdbl(s, "duration_s");
			uint64_t retries = ju64(s, "retries");
			int k = dir && !strcmp(dir, "s2c");

			if (cause < 0)
				continue;
			stall_record(&in->tsum.st[cause], dur, retries);
			c.nstall[cause][k]++;
			c.retries[cause][k] += (uint32_t)retries;
			c.stall_s[cause][k] += (float)dur;
			if (dur > c.stall_max_s[cause][k])
				c.stall_max_s[cause][k] = (float)dur;
			if (cause != ND_DX_C_IDLE)
				stalled = true;
			if (nst < sizeof(st) / sizeof(st[0]))
				st[nst++] = (struct nd_dx_stall){ .cause = (uint8_t)cause,
								  .start = jdbl(s, "start"), .dur = dur };
			else
				in->stall_over++;
		}
	}
	if (txn && json_object_is_type(txn, json_type_object)) {
		struct json_object *lat = jget(txn, "latency_us");

		c.txn_n = ju64(txn, "count");
		c.txn_p50_us = ju64(lat, "p50");
		c.txn_p99_us = ju64(lat, "p99");
		c.txn_max_us = ju64(lat, "max");
	}
	in->tsum.conns++;
	in->tsum.stalled += stalled;
	rc = server_count(in, server, stalled, c.txn_n);
	if (rc < 0)
		return rc;
	if (!conn_notable(&c))
		return 0;
	p = PUSH(in, conn, ND_DX_CONN_MAX);
	if (!p)
		return in->nconn < ND_DX_CONN_MAX ? -ENOMEM : 0;
	*p = c;
	for (size_t i = 0; i < nst; i++) {
		struct nd_dx_stall *t = PUSH(in, stall, ND_DX_STALL_MAX);

		if (!t)
			return in->nstall < ND_DX_STALL_MAX ? -ENOMEM : 0;
		*t = st[i];
		t->conn = (uint32_t)(in->nconn - 1);
	}
	return 0;
}

int nd_dx_tcp_line(struct nd_dx_input *in, unsigned cap, const char *line)
{
	const char *type;
	struct json_object *o = parse_obj(in, ND_DX_SRC_TCP, line, &type);
	int rc = 0;

	if (!o)
		return -EINVAL;
	if (!strcmp(type, "conn")) {
		if (jbool(o, "snapshot")) {
			in->tsum.snapshots++;   /* an interval's view of an open connection */
		} else {
			rc = tcp_conn(in, cap, o);
			if (rc == -EINVAL)
				in->bad_lines[ND_DX_SRC_TCP]++;
		}
	} else if (!strcmp(type, "summary")) {
		struct json_object *capst = jget(o, "capture");

		in->tsum.packets += ju64(o, "packets");
		in->tsum.capture_drops += ju64(capst, "drop") + ju64(capst, "ifdrop");
		in->have[ND_DX_SRC_TCP] = true;
	}
	json_object_put(o);
	return rc;
}

/* ---- bench ---- */

static void bench_tcpinfo(struct json_object *side, struct nd_dx_tcpinfo *t)
{
	struct json_object *ti = jget(side, "tcp_info");

	if (!ti || !json_object_is_type(ti, json_type_object))
		return;
	t->valid = true;
	t->busy_us = ju64(ti, "busy_time_us");
	t->rwnd_limited_us = ju64(ti, "rwnd_limited_us");
	t->sndbuf_limited_us = ju64(ti, "sndbuf_limited_us");
	t->total_retrans = ju64(ti, "total_retrans");
	t->rtt_us = (uint32_t)ju64(ti, "rtt_us");
}

int nd_dx_bench_doc(struct nd_dx_input *in, const char *doc)
{
	const char *type;
	struct json_object *o = parse_obj(in, ND_DX_SRC_BENCH, doc, &type), *tot, *lat, *flows;
	struct nd_dx_bench *b = &in->bench;
	int rc = 0;

	if (!o)
		return -EINVAL;
	if (strcmp(type, "bench") != 0) {
		in->bad_lines[ND_DX_SRC_BENCH]++;
		json_object_put(o);
		return -EINVAL;
	}
	nd_dx_copy(b->mode, sizeof(b->mode), jstr(o, "mode"));
	nd_dx_copy(b->dir, sizeof(b->dir), jstr(jget(jget(o, "meta"), "options"), "dir"));
	tot = jget(o, "totals");
	b->duration_s = jdbl(tot, "duration_s");
	b->tps = jdbl(tot, "tps");
	b->goodput_bps = jdbl(tot, "goodput_bps");
	b->flows = ju64(tot, "flows");
	b->stalled_flows = ju64(tot, "stalled_flows");
	b->txn = ju64(jget(tot, "client"), "transactions");
	lat = jget(o, "latency_us");
	if (lat && json_object_is_type(lat, json_type_object) && ju64(lat, "count")) {
		b->has_lat = true;
		b->lat_count = ju64(lat, "count");
		b->lat_p50_us = jdbl(lat, "p50");
		b->lat_p99_us = jdbl(lat, "p99");
		b->lat_p999_us = jdbl(lat, "p99.9");
		b->lat_max_us = jdbl(lat, "max");
	}
	flows = jget(o, "flows");
	if (flows && json_object_is_type(flows, json_type_array)) {
		size_t n = json_object_array_length(flows);

		for (size_t i = 0; i < n; i++) {
			struct json_object *f = json_object_array_get_idx(flows, i);
			struct json_object *cl = jget(f, "client"), *sv = jget(f, "server");
			struct nd_dx_bflow *bf = nd_dx_push((void **)&b->flow, &b->nflow, &b->aflow,
							    sizeof(*bf), ND_DX_BFLOW_MAX, &b->flow_over);

			if (!bf) {
				if (b->nflow < ND_DX_BFLOW_MAX)
					rc = -ENOMEM;
				break;
			}
			nd_dx_copy(bf->local, sizeof(bf->local), jstr(f, "local"));
			nd_dx_copy(bf->remote, sizeof(bf->remote), jstr(f, "remote"));
			bf->stalled = jbool(f, "stalled");
			bf->client_tx = ju64(cl, "tx_bytes");
			bf->server_tx = ju64(sv, "tx_bytes");
			bf->connect_failures = ju64(cl, "connect_failures");
			bf->timeouts = ju64(cl, "timeouts");
			bench_tcpinfo(cl, &bf->client);
			bench_tcpinfo(sv, &bf->server);
		}
	}
	in->have[ND_DX_SRC_BENCH] = rc == 0;
	json_object_put(o);
	return rc;
}

/* ---- doctor's own run description ---- */

int nd_dx_meta_doc(struct nd_dx_input *in, const char *doc, char (*files)[256], size_t flen)
{
	const char *type;
	struct json_object *o = json_tokener_parse(doc), *a;
	int rc = 0;

	type = jstr(o, "type");
	if (!o || !type || strcmp(type, "doctor-run") != 0) {
		if (o)
			json_object_put(o);
		return -EINVAL;
	}
	in->duration_s = jdbl(o, "duration_s");
	a = jget(o, "netns");
	for (size_t i = 0; a && json_object_is_type(a, json_type_array) &&
			   i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);

		if (jstr(e, "name"))
			nd_dx_add_netns(in, jstr(e, "name"), ju64(e, "inode"));
	}
	a = jget(o, "captures");
	for (size_t i = 0; a && json_object_is_type(a, json_type_array) &&
			   i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		int k = nd_dx_add_capture(in, jstr(e, "iface"), jstr(e, "netns"));

		if (k < 0) {
			rc = k;
			break;
		}
		if (files && (size_t)k < flen)
			nd_dx_copy(files[k], 256, jstr(e, "file"));
	}
	a = jget(o, "missing");
	for (int s = 0; a && s < ND_DX_NSRC; s++)
		if (jstr(a, src_names[s]))
			nd_dx_copy(in->missing[s], ND_DX_TEXT, jstr(a, src_names[s]));
	json_object_put(o);
	return rc;
}

/* ---- files ---- */

#define ND_DX_FILE_MAX (256u << 20)     /* a bench document larger than this is refused */

static int read_whole(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, alloc = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t n;

		if (alloc - len < 65536) {
			char *nb;

			if (alloc >= ND_DX_FILE_MAX) {
				free(buf);
				fclose(f);
				return -EFBIG;
			}
			nb = realloc(buf, alloc + 65536 + 1);
			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
			alloc += 65536;
		}
		n = fread(buf + len, 1, alloc - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno ? errno : EIO;

		free(buf);
		fclose(f);
		return -e;
	}
	fclose(f);
	buf[len] = '\0';
	*out = buf;
	return 0;
}

int nd_dx_load_file(struct nd_dx_input *in, enum nd_dx_src src, unsigned cap, const char *path)
{
	char *line = NULL;
	size_t alloc = 0;
	ssize_t n;
	FILE *f;
	int rc = 0;

	if (src == ND_DX_SRC_BENCH) {
		char *doc = NULL;

		rc = read_whole(path, &doc);
		if (rc < 0)
			return rc;
		rc = nd_dx_bench_doc(in, doc);
		free(doc);
		return rc == -EINVAL ? 0 : rc;  /* not a bench document: counted, not fatal */
	}
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while ((n = getline(&line, &alloc, f)) > 0) {
		if (n == 1 && line[0] == '\n')
			continue;
		switch (src) {
		case ND_DX_SRC_COUNTERS: rc = nd_dx_counters_line(in, line); break;
		case ND_DX_SRC_DROPS: rc = nd_dx_drops_line(in, line); break;
		case ND_DX_SRC_TCP: rc = nd_dx_tcp_line(in, cap, line); break;
		default: rc = 0; break;
		}
		if (rc == -ENOMEM)
			break;
		rc = 0;                 /* a bad line is counted, the rest still read */
	}
	if (rc == 0 && ferror(f))
		rc = -EIO;
	free(line);
	fclose(f);
	return rc;
}
