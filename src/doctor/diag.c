/* SPDX-License-Identifier: MIT */
/*
 * diag: the rules of diag.h over the model of dx.h. Pure: no I/O.
 */
#include "doctor/diag.h"
#include "trace/benign.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sev_names[] = { "info", "warning", "critical" };
static const char *const mech_names[ND_DX_NMECH] = {
	"rto-stalls", "syn-retries", "conntrack-full", "listen-overflow", "receiver-window",
	"network-bottleneck", "sender-limited", "packet-drops",
};
static const char *const place_names[ND_DX_NPLACE] = {
	"device", "qdisc", "conntrack", "listen", "socket-buffer", "application", "path",
};

const char *nd_dx_sev_name(enum nd_dx_sev s)
{
	return (unsigned)s <= ND_DX_CRITICAL ? sev_names[s] : "?";
}

const char *nd_dx_mech_name(enum nd_dx_mech m)
{
	return (unsigned)m < ND_DX_NMECH ? mech_names[m] : "?";
}

const char *nd_dx_place_name(enum nd_dx_place_kind k)
{
	return (unsigned)k < ND_DX_NPLACE ? place_names[k] : "?";
}

unsigned nd_dx_agree_count(const struct nd_dx_finding *f)
{
	return (unsigned)__builtin_popcount(f->agree);
}

enum nd_dx_sev nd_dx_worst(const struct nd_dx_diag *d)
{
	enum nd_dx_sev w = ND_DX_INFO;

	for (size_t i = 0; i < d->n; i++)
		if (d->f[i].sev > w)
			w = d->f[i].sev;
	return w;
}

/* ---- the working state ---- */

/* Bits of ctx.conn_used: a direction explained by a flow-level rule, and
 * each stall cause consumed by a rule. */
#define USED_DIR(k) (1u << (k))
#define USED_CAUSE(c) (1u << (2 + (c)))

struct ctx {
	const struct nd_dx_input *in;
	struct nd_dx_diag *out;
	uint8_t *drop_used;
	uint16_t *conn_used;
	const void **fsort;                     /* &in->fdrop[i] by flow (nd_dx_fkey) */
	size_t nfsort;
	const void **esort;                     /* &in->dropev[i] by flow, then time */
	size_t nesort;
	size_t *st_first;                       /* per connection: its first in->stall */
};

/* Stalls of one cause summed over connections. */
struct ssum {
	uint64_t n, retries, conns;
	uint64_t fdrops;                /* with a place: drops there on these connections' flows */
	uint32_t by_cap[ND_DX_CAP_MAX]; /* stalls per capture point */
	uint64_t timed;                 /* with a place and drop events: stalls during which
					   their connection lost a packet there */
	double s, max_s;
	uint32_t ds[ND_DX_DS_MAX + 1];  /* per connection: its mean stall, in 0.1 s */
	unsigned dirs;                  /* bit 0: c2s, bit 1: s2c */
};

static bool ns_ok(const struct nd_dx_input *in, const char *netns, uint64_t ino)
{
	if (!in->nnetns)
		return true;
	for (size_t i = 0; i < in->nnetns; i++) {
		if (netns && *netns && !strcmp(in->netns[i], netns))
			return true;
		if (ino && in->netns_ino[i] == ino)
			return true;
	}
	return false;
}

/* The sum of counter @name of @source over the relevant namespaces (or in
 * @netns only), on @dev when given. */
static int64_t ctr_sum(const struct nd_dx_input *in, const char *netns, const char *source,
		       const char *name, const char *dev)
{
	int64_t s = 0;

	for (size_t i = 0; i < in->nctr; i++) {
		const struct nd_dx_ctr *c = &in->ctr[i];

		if (strcmp(c->name, name) || strcmp(c->source, source))
			continue;
		if (netns ? strcmp(c->netns, netns) != 0 : !ns_ok(in, c->netns, 0))
			continue;
		if (dev && strcmp(c->dev, dev))
			continue;
		s += c->gauge ? c->value : c->delta;
	}
	return s;
}

/* The relevant namespace where counter @name moved most; NULL if nowhere. */
static const char *ctr_top(const struct nd_dx_input *in, const char *source, const char *name,
			   int64_t *v)
{
	const char *best = NULL;

	*v = 0;
	for (size_t i = 0; i < in->nctr; i++) {
		const struct nd_dx_ctr *c = &in->ctr[i];

		if (c->gauge || strcmp(c->name, name) || strcmp(c->source, source) ||
		    !ns_ok(in, c->netns, 0))
			continue;
		if (c->delta > *v) {
			*v = c->delta;
			best = c->netns;
		}
	}
	return best;
}

static uint64_t sig_sum(const struct nd_dx_input *in, const char *signal, const char *state,
			const char *netns)
{
	uint64_t s = 0;

	for (size_t i = 0; i < in->nsig; i++) {
		const struct nd_dx_sig *g = &in->sig[i];

		if (strcmp(g->signal, signal) || (state && strcmp(g->state, state)))
			continue;
		if (netns ? strcmp(g->netns, netns) != 0 : !ns_ok(in, g->netns, g->netns_ino))
			continue;
		s += g->count;
	}
	return s;
}

/* ---- the flow join: drops on a captured connection's own flow ---- */

/* A drop place to look for on a connection's flow: a namespace, device
 * and reason (NULL: any), or with @qdisc any qdisc reason. */
struct pfilt {
	const char *netns, *dev, *reason;
	bool qdisc;
};

static bool place_match(const struct pfilt *pf, const char *netns, const char *dev,
			const char *reason, bool qdisc)
{
	return !(pf->netns && strcmp(netns, pf->netns)) && !(pf->dev && strcmp(dev, pf->dev)) &&
	       !(pf->reason && strcmp(reason, pf->reason)) && !(pf->qdisc && !qdisc);
}

static int fkey_cmp(const struct nd_dx_fkey *k, const char *lo, const char *hi)
{
	int c = strcmp(k->lo, lo);

	return c ? c : strcmp(k->hi, hi);
}

static int fsort_cmp(const void *a, const void *b)
{
	const struct nd_dx_fkey *y = *(const void *const *)b;

	return fkey_cmp(*(const void *const *)a, y->lo, y->hi);
}

static int esort_cmp(const void *a, const void *b)
{
	const struct nd_dx_dropev *x = *(const void *const *)a;
	const struct nd_dx_dropev *y = *(const void *const *)b;
	int c = fkey_cmp(&x->key, y->key.lo, y->key.hi);

	return c ? c : (x->ts > y->ts) - (x->ts < y->ts);
}

/* The first of the @n sorted rows (pointers to structs that begin with
 * their nd_dx_fkey) whose flow is connection @c's, in either direction;
 * @n when none is. */
static size_t flow_first(const void *const *rows, size_t n, const struct nd_dx_conn *c)
{
	struct nd_dx_fkey k;
	size_t a = 0, b = n;

	nd_dx_fkey_set(&k, c->client, c->server);
	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (fkey_cmp(rows[m], k.lo, k.hi) < 0)
			a = m + 1;
		else
			b = m;
	}
	return a < n && !fkey_cmp(rows[a], k.lo, k.hi) ? a : n;
}

/* Row @i shares the flow of row @first (rows from flow_first()). */
static bool same_flow(const void *const *rows, size_t n, size_t i, size_t first)
{
	const struct nd_dx_fkey *k;

	if (i >= n)
		return false;
	k = rows[first];
	return !fkey_cmp(rows[i], k->lo, k->hi);
}

/* Packets dropped at @pf on the flow of @c, in either direction (binary
 * search of the sorted flow rows, then the rows of that flow). */
static uint64_t conn_drops(const struct ctx *x, const struct nd_dx_conn *c, const struct pfilt *pf)
{
	const void *const *rows = x->fsort;
	size_t first = flow_first(rows, x->nfsort, c);
	uint64_t n = 0;

	for (size_t a = first; same_flow(rows, x->nfsort, a, first); a++) {
		const struct nd_dx_fdrop *d = x->fsort[a];

		if (place_match(pf, d->netns, d->dev, d->reason, d->qdisc))
			n += d->packets;
	}
	return n;
}

/* Half a window of slack around a stall for the clocks of the capture and
 * of the drop events (both the host's, read at different points). */
#define ND_DX_TIME_SLACK 0.005

/* Stalls of @cause on connection @ci during which a drop event of its flow
 * happened at @pf (the timing join; drops --events). */
static uint32_t timed_stalls(const struct ctx *x, size_t ci, enum nd_dx_cause cause,
			     const struct pfilt *pf)
{
	const struct nd_dx_input *in = x->in;
	const void *const *rows = x->esort;
	size_t first;
	uint32_t n = 0;

	if (!x->nesort || !x->st_first)
		return 0;
	first = flow_first(rows, x->nesort, &in->conn[ci]);
	for (size_t k = x->st_first[ci]; k < x->st_first[ci + 1]; k++) {
		const struct nd_dx_stall *t = &in->stall[k];

		if (t->cause != cause)
			continue;
		for (size_t a = first; same_flow(rows, x->nesort, a, first); a++) {
			const struct nd_dx_dropev *e = x->esort[a];
			const struct nd_dx_evplace *pl = &in->evplace[e->place];

			if (e->ts < t->start - ND_DX_TIME_SLACK)
				continue;
			if (e->ts > t->start + t->dur + ND_DX_TIME_SLACK)
				break;
			if (place_match(pf, pl->netns, pl->dev, pl->reason, pl->qdisc)) {
				n++;
				break;
			}
		}
	}
	return n;
}

/* drops ran by flow, so a stall can be tied to a drop on its own
 * connection rather than by place and amount. */
static bool by_flow(const struct ctx *x)
{
	return x->in->have[ND_DX_SRC_DROPS] && x->in->dsum.flows;
}

/* Some drops have no flow row (a full kernel table or our cap): a stall
 * without a drop on its flow may still have lost its packet at the place. */
static bool flows_lost(const struct nd_dx_input *in)
{
	return in->dsum.flows_map_full || in->dsum.map_full || in->fdrop_over;
}

/* Stalls of @cause on the connections to @server (NULL: all) not yet
 * consumed, and with @pf only on connections that lost packets at that
 * place (their drops summed in fdrops); with @consume they are marked as
 * explained. */
static struct ssum stalls_at(struct ctx *x, enum nd_dx_cause cause, const char *server,
			     const struct pfilt *pf, bool consume)
{
	const struct nd_dx_input *in = x->in;
	struct ssum s;

	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < in->nconn; i++) {
		const struct nd_dx_conn *c = &in->conn[i];
		uint32_t n = c->nstall[cause][0] + c->nstall[cause][1];
		double t = (double)c->stall_s[cause][0] + c->stall_s[cause][1];
		uint64_t fd = 0;
		long ds;

		if (!n || (x->conn_used[i] & USED_CAUSE(cause)))
			continue;
		if (server && strcmp(c->server, server))
			continue;
		if (pf && !(fd = conn_drops(x, c, pf)))
			continue;
		s.fdrops += fd;
		if (pf)
			s.timed += timed_stalls(x, i, cause, pf);
		s.n += n;
		if (c->cap < ND_DX_CAP_MAX)
			s.by_cap[c->cap] += n;
		s.retries += c->retries[cause][0] + c->retries[cause][1];
		s.conns++;
		s.s += t;
		for (int k = 0; k < 2; k++) {
			if (c->nstall[cause][k])
				s.dirs |= 1u << k;
			if (c->stall_max_s[cause][k] > s.max_s)
				s.max_s = c->stall_max_s[cause][k];
		}
		ds = (long)(t / n * 10.0 + 0.5);
		s.ds[ds > ND_DX_DS_MAX ? ND_DX_DS_MAX : ds] += n;
		if (consume)
			x->conn_used[i] |= (uint16_t)USED_CAUSE(cause);
	}
	return s;
}

static struct ssum stalls(struct ctx *x, enum nd_dx_cause cause, const char *server, bool consume)
{
	return stalls_at(x, cause, server, NULL, consume);
}

/* The server endpoint with the most stalls of the causes in @mask, counted
 * in one pass over the first ND_DX_SERVER_MAX endpoints seen. */
static const char *top_server(struct ctx *x, unsigned mask)
{
	const struct nd_dx_input *in = x->in;
	const char *srv[ND_DX_SERVER_MAX];
	uint64_t cnt[ND_DX_SERVER_MAX], best_n = 0;
	const char *best = NULL;
	size_t ns = 0;

	for (size_t i = 0; i < in->nconn; i++) {
		const struct nd_dx_conn *c = &in->conn[i];
		uint64_t n = 0;
		size_t k;

		for (int cause = 0; cause < ND_DX_NCAUSE; cause++)
			if ((mask & (1u << cause)) && !(x->conn_used[i] & USED_CAUSE(cause)))
				n += c->nstall[cause][0] + c->nstall[cause][1];
		if (!n)
			continue;
		for (k = 0; k < ns && strcmp(srv[k], c->server); k++)
			;
		if (k == ns) {
			if (ns == ND_DX_SERVER_MAX)
				continue;
			srv[ns] = c->server;
			cnt[ns++] = 0;
		}
		cnt[k] += n;
		if (cnt[k] > best_n) {
			best_n = cnt[k];
			best = srv[k];
		}
	}
	return best;
}

static uint64_t server_conns(const struct nd_dx_input *in, const char *server)
{
	uint64_t n = 0;

	for (size_t i = 0; i < in->nserver; i++)
		if (!server || !strcmp(in->server[i].server, server))
			n += in->server[i].conns;
	return n;
}

/* ---- text helpers (the evidence is words and numbers) ---- */

static void cat(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t l = strlen(buf);
	va_list ap;

	if (l + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + l, len - l, fmt, ap);
	va_end(ap);
}

static void set(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* A quantity in the first unit of @u (largest first; the last, with
 * threshold 0, takes the rest) whose threshold it reaches. */
struct unit {
	double threshold, divisor;
	const char *name;
	int decimals;
};

static const struct unit bytes_units[] = {
	{ 1e9, 1e9, "GB", 1 }, { 1e6, 1e6, "MB", 1 }, { 1e3, 1e3, "KB", 1 }, { 0, 1, "B", 0 },
};
static const struct unit rate_units[] = {
	{ 1e9, 1e9, "Gbit/s", 2 }, { 1e6, 1e6, "Mbit/s", 1 }, { 0, 1e3, "kbit/s", 0 },
};
static const struct unit us_units[] = {
	{ 1e6, 1e6, "s", 2 }, { 1e3, 1e3, "ms", 1 }, { 0, 1, "us", 0 },
};

static const char *human(double v, const struct unit *u, char *buf, size_t len)
{
	while (u->threshold && v < u->threshold)
		u++;
	snprintf(buf, len, "%.*f %s", u->decimals, v / u->divisor, u->name);
	return buf;
}

/* @v per second of @secs (of 1 s when no time was measured). */
static double per_s(double v, double secs)
{
	return v / (secs > 0 ? secs : 1);
}

static const char *human_bytes(double b, char *buf, size_t len)
{
	return human(b, bytes_units, buf, len);
}

static const char *human_rate(double bps, char *buf, size_t len)
{
	return human(bps, rate_units, buf, len);
}

static const char *human_us(double us, char *buf, size_t len)
{
	return human(us, us_units, buf, len);
}

static const char *ns_label(const char *ns)
{
	return ns && *ns ? ns : "?";
}

/* "waited ~1 s: 32, ~2 s: 61" from a 0.1 s histogram, by whole seconds
 * (SYN retries) or by 0.1 s up to 1 s (timeouts). */
static void delays_text(const struct ssum *s, bool whole, char *buf, size_t len)
{
	uint64_t by[ND_DX_DS_MAX + 1];
	int shown = 0;

	memset(by, 0, sizeof(by));
	for (int i = 0; i <= ND_DX_DS_MAX; i++) {
		int k = whole ? (i + 5) / 10 * 10 : i;

		if (k > ND_DX_DS_MAX)
			k = ND_DX_DS_MAX;
		by[k] += s->ds[i];
	}
	buf[0] = '\0';
	for (int i = 0; i <= ND_DX_DS_MAX && shown < 5; i++) {
		if (!by[i])
			continue;
		cat(buf, len, "%s~%.*f s: %llu", shown ? ", " : "", whole ? 0 : 1, i / 10.0,
		    (unsigned long long)by[i]);
		shown++;
	}
}

/* ---- building findings ---- */

static struct nd_dx_finding *begin(struct nd_dx_finding *f, enum nd_dx_mech m,
				   enum nd_dx_place_kind k)
{
	memset(f, 0, sizeof(*f));
	f->mech = m;
	f->place.kind = k;
	return f;
}

static void ev(struct nd_dx_finding *f, enum nd_dx_src src, bool agrees, const char *key,
	       double value, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void ev(struct nd_dx_finding *f, enum nd_dx_src src, bool agrees, const char *key,
	       double value, const char *fmt, ...)
{
	struct nd_dx_ev *e;
	va_list ap;

	if (f->nev >= ND_DX_EV_MAX)
		return;
	e = &f->ev[f->nev++];
	e->src = src;
	e->agrees = agrees;
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->value = value;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	if (agrees)
		f->agree |= 1u << src;
}

/* A second number on the last evidence line. */
static void ev2(struct nd_dx_finding *f, const char *key, double value)
{
	if (!f->nev)
		return;
	snprintf(f->ev[f->nev - 1].key2, sizeof(f->ev[0].key2), "%s", key);
	f->ev[f->nev - 1].value2 = value;
}

/* The flow join on the last evidence line (the drops'): how many of its
 * drops were on the flows of the connections (@who: "that stalled") whose
 * stalls @s counts. */
static void flow_ev(const struct ctx *x, struct nd_dx_finding *f, const struct ssum *s,
		    const char *who)
{
	if (!by_flow(x) || !f->nev || !s->n)
		return;
	if (s->fdrops) {
		cat(f->ev[f->nev - 1].text, ND_DX_TEXT, "; %llu of them on the flows of the %llu "
		    "connection%s %s", (unsigned long long)s->fdrops, (unsigned long long)s->conns,
		    s->conns == 1 ? "" : "s", who);
		ev2(f, "on_stalled_flows", (double)s->fdrops);
		if (x->in->dsum.events) {
			ev(f, ND_DX_SRC_DROPS, s->timed > 0, "stalls_timed", (double)s->timed,
			   "%llu of those %llu stalls had a drop of their own connection here while "
			   "they lasted (drop events, by time%s)",
			   (unsigned long long)s->timed, (unsigned long long)s->n,
			   x->in->dsum.ev_lost || x->in->dropev_over ?
				   "; some events were held back by the rate limit: at least" : "");
			ev2(f, "stalls", (double)s->n);
		}
	} else {
		cat(f->ev[f->nev - 1].text, ND_DX_TEXT,
		    "; none on the flows of the %llu connection%s %s (tied by place and amount%s)",
		    (unsigned long long)s->conns, s->conns == 1 ? "" : "s", who,
		    flows_lost(x->in) ? "; some drops were not kept by flow" : "");
	}
}

static int rank_cmp(const struct nd_dx_finding *a, const struct nd_dx_finding *b)
{
	unsigned na = nd_dx_agree_count(a), nb = nd_dx_agree_count(b);

	if (a->sev != b->sev)
		return a->sev > b->sev ? -1 : 1;
	if (a->impact != b->impact)
		return a->impact > b->impact ? -1 : 1;
	if (na != nb)
		return na > nb ? -1 : 1;
	return 0;
}

static int rank_qsort(const void *a, const void *b)
{
	return rank_cmp(a, b);
}

/* Set the severity (@agreed when at least two sources agree, else info)
 * and keep the finding; at the cap the least ranked goes. */
static void emit(struct ctx *x, struct nd_dx_finding *f, enum nd_dx_sev agreed)
{
	struct nd_dx_diag *d = x->out;
	size_t worst = 0;

	f->sev = nd_dx_agree_count(f) >= 2 ? agreed : ND_DX_INFO;
	if (d->n < ND_DX_FIND_MAX) {
		d->f[d->n++] = *f;
		return;
	}
	for (size_t i = 1; i < d->n; i++)
		if (rank_cmp(&d->f[i], &d->f[worst]) > 0)
			worst = i;
	d->over++;
	if (rank_cmp(f, &d->f[worst]) < 0)
		d->f[worst] = *f;
}

static void note(struct nd_dx_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct nd_dx_diag *d, const char *fmt, ...)
{
	va_list ap;

	if (d->nnote >= ND_DX_NOTE_MAX) {
		d->notes_over++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(d->note[d->nnote++], ND_DX_TEXT, fmt, ap);
	va_end(ap);
}

/* Stalls are critical from 3 of them or a second of stalled time; fewer
 * are a warning even when the sources agree. */
static enum nd_dx_sev stall_sev(const struct ssum *s)
{
	return s->n >= 3 || s->s >= 1.0 ? ND_DX_CRITICAL : ND_DX_WARNING;
}

/* ---- drop reasons ---- */

/* Drops that are not a loss on the path: teardown, duplicates of data that
 * already arrived (the consequence of a retransmission), frames for
 * another host. */
static bool benign_reason(const char *r)
{
	return nd_reason_benign(r);
}

static bool rcvbuf_reason(const char *r)
{
	return !strcmp(r, "PROTO_MEM") || !strcmp(r, "TCP_ZEROWINDOW") ||
	       !strcmp(r, "SOCKET_RCVBUFF") || !strcmp(r, "TCP_OFO_QUEUE_PRUNE") ||
	       !strcmp(r, "TCP_OFOMERGE") || !strcmp(r, "SOCKET_BACKLOG");
}

/* What to look at when the kernel drops with reason @r. */
static const char *reason_advice(const char *r)
{
	if (!strcmp(r, "NETFILTER_DROP"))
		return "a firewall rule (iptables or nftables) drops these packets there: list the "
		       "rules with their counters in that namespace (iptables -nvxL; nft list "
		       "ruleset) and find the one that grows";
	if (!strcmp(r, "QDISC_DROP") || !strcmp(r, "TC_DROP"))
		return "the queue discipline drops at its limit (tc -s qdisc show dev DEV): size its "
		       "buffer for the rate and the round trip, or find why it is full";
	if (!strcmp(r, "NO_SOCKET"))
		return "no socket takes these packets: a closed port, or a listener that went away";
	if (!strcmp(r, "PROTO_MEM"))
		return "TCP ran out of memory (net.ipv4.tcp_mem) or a socket's buffer is full";
	if (!strcmp(r, "TCP_LISTEN_OVERFLOW"))
		return "a listener's accept queue is full: backlog and accept rate";
	if (!strcmp(r, "NOT_SPECIFIED"))
		return "the kernel gives no reason: look at the location in the kernel that freed "
		       "them (the function named above) on that device";
	return "look at the component named by the reason and the kernel location on that device";
}

/* ---- rule 1: a full connection-tracking table ---- */

static void rule_conntrack(struct ctx *x)
{
	const struct nd_dx_input *in = x->in;

	for (size_t i = 0; i < in->nctr; i++) {
		const struct nd_dx_ctr *c = &in->ctr[i];
		struct nd_dx_finding f;
		uint64_t nf = 0, synsig;
		int64_t ent, lim, synr, cdrop;
		const char *loc = "", *dev = "", *synns;
		struct ssum syn, synack;
		struct pfilt pf = { NULL, NULL, "NETFILTER_DROP", false };
		char d[160];

		if (strcmp(c->source, "conntrack") || strcmp(c->name, "drop") || c->delta <= 0 ||
		    !ns_ok(in, c->netns, 0))
			continue;
		cdrop = c->delta;
		begin(&f, ND_DX_M_CONNTRACK_FULL, ND_DX_P_CONNTRACK);
		nd_dx_copy(f.place.netns, sizeof(f.place.netns), c->netns);
		ent = ctr_sum(in, c->netns, "conntrack", "entries", NULL);
		lim = ctr_sum(in, c->netns, "conntrack", "entries_limit", NULL);
		set(f.place.text, sizeof(f.place.text), "conntrack table of netns %s", c->netns);
		if (lim > 0 && ent >= lim)
			cat(f.place.text, sizeof(f.place.text), " (full: %lld entries)", (long long)ent);

		synns = ctr_top(in, "netstat", "TcpExt.TCPSynRetrans", &synr);
		ev(&f, ND_DX_SRC_COUNTERS, true, "ct_drops", (double)cdrop,
		   "nf_conntrack drop +%lld in netns %s: new connections refused, the table was "
		   "full%s",
		   (long long)cdrop, c->netns, lim > 0 && ent >= lim ? " (and still is)" : "");
		if (lim > 0)
			cat(f.ev[f.nev - 1].text, ND_DX_TEXT, "; entries %lld of %lld at the end",
			    (long long)ent, (long long)lim);
		if (synns)
			cat(f.ev[f.nev - 1].text, ND_DX_TEXT, "; TcpExt.TCPSynRetrans +%lld in netns %s",
			    (long long)synr, synns);

		for (size_t j = 0; j < in->ndrop; j++) {
			const struct nd_dx_drop *p = &in->drop[j];

			if (x->drop_used[j] || strcmp(p->reason, "NETFILTER_DROP") ||
			    strcmp(p->netns, c->netns))
				continue;
			x->drop_used[j] = 1;
			if (p->packets > nf / 2) {
				loc = p->location;
				dev = p->dev;
			}
			nf += p->packets;
		}
		/* By flow: the connections whose SYNs this table dropped. */
		pf.netns = c->netns;
		syn = stalls_at(x, ND_DX_C_SYN, NULL, &pf, false);
		if (by_flow(x) && syn.n)
			syn = stalls_at(x, ND_DX_C_SYN, NULL, &pf, true);
		else if (by_flow(x) && nf && !flows_lost(in))
			memset(&syn, 0, sizeof(syn));  /* none of the stalled ones lost a SYN here */
		else
			syn = stalls(x, ND_DX_C_SYN, NULL, true);
		synack = stalls(x, ND_DX_C_SYNACK, NULL, true);

		synsig = sig_sum(in, "retransmit", "SYN_SENT", NULL);
		if (in->have[ND_DX_SRC_DROPS]) {
			ev(&f, ND_DX_SRC_DROPS, nf > 0, "drops", (double)nf,
			   "%llu packets dropped by netfilter in netns %s (NETFILTER_DROP at %s%s%s); "
			   "%llu SYN retransmissions",
			   (unsigned long long)nf, c->netns, *loc ? loc : "-", *dev ? " on " : "", dev,
			   (unsigned long long)synsig);
			flow_ev(x, &f, &syn, "that waited");
			nd_dx_copy(f.place.reason, sizeof(f.place.reason), nf ? "NETFILTER_DROP" : "");
			nd_dx_copy(f.place.location, sizeof(f.place.location), loc);
			nd_dx_copy(f.place.dev, sizeof(f.place.dev), dev);
		}
		if (in->have[ND_DX_SRC_TCP]) {
			delays_text(&syn, true, d, sizeof(d));
			ev(&f, ND_DX_SRC_TCP, syn.n > 0, "stalls", (double)syn.n,
			   "%llu connection attempts stalled on SYN retransmissions (%llu resent SYNs; "
			   "waited %s; max %.1f s)",
			   (unsigned long long)syn.n, (unsigned long long)syn.retries,
			   syn.n ? d : "-", syn.max_s);
			ev2(&f, "retries", (double)syn.retries);
		}
		if (syn.n)
			set(f.symptom, sizeof(f.symptom),
			    "slow connection set-up: %llu of %llu connections waited for SYN "
			    "retries, up to %.1f s",
			    (unsigned long long)syn.conns, (unsigned long long)server_conns(in, NULL),
			    syn.max_s);
		else
			set(f.symptom, sizeof(f.symptom), "new connections refused by a full table");
		f.impact = syn.s + synack.s;
		set(f.next, sizeof(f.next),
		    "the connection-tracking table of netns %s is full: raise "
		    "net.netfilter.nf_conntrack_max (host-wide; each namespace counts its own "
		    "entries against it), shorten the timeouts that keep closed connections in it "
		    "(net.netfilter.nf_conntrack_tcp_timeout_time_wait in netns %s), or exempt this "
		    "traffic from tracking (iptables -t raw ... -j CT --notrack)",
		    c->netns, c->netns);
		emit(x, &f, ND_DX_CRITICAL);
	}
}

/* ---- rule 2: a listen queue overflowing ---- */

static bool listen_drop(const struct nd_dx_drop *p)
{
	return !strcmp(p->reason, "TCP_LISTEN_OVERFLOW") || !strcmp(p->reason, "TCP_REQQFULLDROP") ||
	       (!strcmp(p->reason, "NO_SOCKET") && !strncmp(p->location, "cookie_", 7));
}

static void rule_listen(struct ctx *x)
{
	const struct nd_dx_input *in = x->in;

	for (size_t i = 0; i < in->nctr; i++) {
		const struct nd_dx_ctr *c = &in->ctr[i];
		int64_t lo, ld, cookies, synr;
		uint64_t ovf = 0, cookie = 0, synack_sig;
		const char *ep, *synns, *dev = "";
		struct ssum syn, synack, rto, joined;
		struct pfilt pf = { NULL, NULL, "TCP_LISTEN_OVERFLOW", false };
		struct nd_dx_finding f;
		bool seen = false;
		char d[160];

		if (strcmp(c->source, "netstat") || c->delta <= 0 || !ns_ok(in, c->netns, 0) ||
		    (strcmp(c->name, "TcpExt.ListenOverflows") && strcmp(c->name, "TcpExt.ListenDrops")))
			continue;
		for (size_t j = 0; j < i && !seen; j++)     /* one finding per namespace */
			seen = !strcmp(in->ctr[j].netns, c->netns) &&
			       !strcmp(in->ctr[j].source, "netstat") && in->ctr[j].delta > 0 &&
			       (!strcmp(in->ctr[j].name, "TcpExt.ListenOverflows") ||
				!strcmp(in->ctr[j].name, "TcpExt.ListenDrops"));
		if (seen)
			continue;
		lo = ctr_sum(in, c->netns, "netstat", "TcpExt.ListenOverflows", NULL);
		ld = ctr_sum(in, c->netns, "netstat", "TcpExt.ListenDrops", NULL);
		cookies = ctr_sum(in, c->netns, "netstat", "TcpExt.SyncookiesSent", NULL);
		synns = ctr_top(in, "netstat", "TcpExt.TCPSynRetrans", &synr);
		begin(&f, ND_DX_M_LISTEN_OVERFLOW, ND_DX_P_LISTEN);
		nd_dx_copy(f.place.netns, sizeof(f.place.netns), c->netns);

		ep = top_server(x, 1u << ND_DX_C_SYN | 1u << ND_DX_C_SYNACK);
		if (ep)
			nd_dx_copy(f.place.endpoint, sizeof(f.place.endpoint), ep);
		if (ep)
			set(f.place.text, sizeof(f.place.text), "listen socket %s in netns %s", ep,
			    c->netns);
		else
			set(f.place.text, sizeof(f.place.text), "a listen socket in netns %s", c->netns);

		ev(&f, ND_DX_SRC_COUNTERS, true, "listen_overflows", (double)(lo > ld ? lo : ld),
		   "TcpExt.ListenOverflows +%lld, ListenDrops +%lld in netns %s", (long long)lo,
		   (long long)ld, c->netns);
		if (cookies > 0)
			cat(f.ev[f.nev - 1].text, ND_DX_TEXT, "; SyncookiesSent +%lld", (long long)cookies);
		if (synns)
			cat(f.ev[f.nev - 1].text, ND_DX_TEXT, "; TcpExt.TCPSynRetrans +%lld in netns %s",
			    (long long)synr, synns);

		for (size_t j = 0; j < in->ndrop; j++) {
			const struct nd_dx_drop *p = &in->drop[j];

			if (x->drop_used[j] || strcmp(p->netns, c->netns) || !listen_drop(p))
				continue;
			x->drop_used[j] = 1;
			if (!strcmp(p->reason, "NO_SOCKET")) {
				cookie += p->packets;
			} else {
				ovf += p->packets;
				if (*p->dev)
					dev = p->dev;
			}
		}
		/* By flow, for the evidence: the connections to it that waited and
		 * lost handshake packets in its queue (counted before they are
		 * consumed below). */
		pf.netns = c->netns;
		joined = stalls_at(x, ND_DX_C_SYN, ep, &pf, false);
		synack = stalls_at(x, ND_DX_C_SYNACK, ep, &pf, false);
		joined.n += synack.n;
		joined.conns += synack.conns;
		joined.fdrops += synack.fdrops;
		synack_sig = sig_sum(in, "synack_retransmit", NULL, c->netns);
		if (in->have[ND_DX_SRC_DROPS]) {
			ev(&f, ND_DX_SRC_DROPS, ovf + cookie + synack_sig > 0, "drops",
			   (double)(ovf + cookie),
			   "%llu packets dropped with TCP_LISTEN_OVERFLOW%s%s, %llu handshakes "
			   "completed by SYN cookie refused (NO_SOCKET at cookie check), %llu SYN-ACK "
			   "retransmissions, in netns %s",
			   (unsigned long long)ovf, *dev ? " on " : "", dev, (unsigned long long)cookie,
			   (unsigned long long)synack_sig, c->netns);
			flow_ev(x, &f, &joined, "that waited");
			if (ovf)
				nd_dx_copy(f.place.reason, sizeof(f.place.reason), "TCP_LISTEN_OVERFLOW");
			nd_dx_copy(f.place.dev, sizeof(f.place.dev), dev);
		}

		syn = stalls(x, ND_DX_C_SYN, ep, true);
		synack = stalls(x, ND_DX_C_SYNACK, ep, true);
		/* The handshakes it did not take leave clients that believe they are
		 * connected: their first data times out and is resent. */
		rto = ep ? stalls(x, ND_DX_C_RTO, ep, true) : stalls(x, ND_DX_C_RTO, ep, false);
		if (in->have[ND_DX_SRC_TCP]) {
			delays_text(&syn, true, d, sizeof(d));
			ev(&f, ND_DX_SRC_TCP, syn.n + synack.n > 0, "stalls", (double)(syn.n + synack.n),
			   "%llu connections to %s stalled on SYN retransmissions (waited %s), %llu on "
			   "SYN-ACK retransmissions, %llu more timed out on their first data",
			   (unsigned long long)syn.n, ep ? ep : "the listener", syn.n ? d : "-",
			   (unsigned long long)synack.n, (unsigned long long)(ep ? rto.n : 0));
			ev2(&f, "retries", (double)(syn.retries + synack.retries));
		}
		set(f.symptom, sizeof(f.symptom),
		    "slow connection set-up: %llu of %llu connections%s%s waited for SYN or "
		    "SYN-ACK retries, up to %.1f s",
		    (unsigned long long)(syn.conns + synack.conns),
		    (unsigned long long)server_conns(in, ep), ep ? " to " : "", ep ? ep : "",
		    syn.max_s > synack.max_s ? syn.max_s : synack.max_s);
		f.impact = syn.s + synack.s + (ep ? rto.s : 0);
		set(f.next, sizeof(f.next),
		    "the accept queue of the listener%s%s in netns %s overflows: the application "
		    "accepts too slowly for the rate of new connections, or its backlog is too small; "
		    "raise the listen() backlog (netdx bench --backlog) and net.core.somaxconn, which "
		    "caps it (and net.ipv4.tcp_max_syn_backlog), and make it accept faster",
		    ep ? " on " : "", ep ? ep : "", c->netns);
		emit(x, &f, ND_DX_CRITICAL);
	}
}

/* ---- flows: what limited the captured directions ---- */

/* Directions network-limited (or mostly so) with retransmissions that no
 * rule explained yet; with @consume they are marked. */
struct dsum {
	uint64_t flows, payload, retrans, fast, rto;
	uint64_t fdrops;        /* with a place: drops there on these flows */
	double transfer_s, net_s;
	size_t top;             /* the flow that moved most */
	int top_dir;
};

/* Direction @k of @c is a transfer, not request/response traffic: few
 * transactions, or at least ND_DX_BIG_BYTES per transaction. A closed-loop
 * rr flow of small messages moves megabytes too, in many tiny turns; what
 * limits each turn (the other side's answer) is not a window or a queue. */
static bool bulk(const struct nd_dx_conn *c, int k)
{
	return c->txn_n < 10 || c->d[k].payload / c->txn_n >= ND_DX_BIG_BYTES;
}

/* ... and with @pf only the directions whose connection lost packets at
 * that place (the join per connection; their drops summed in fdrops). */
static struct dsum net_limited_at(struct ctx *x, bool with_loss, const struct pfilt *pf,
				  bool consume)
{
	const struct nd_dx_input *in = x->in;
	struct dsum s;
	uint64_t top_bytes = 0;

	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < in->nconn; i++) {
		uint64_t fd = pf ? conn_drops(x, &in->conn[i], pf) : 0;

		if (pf && !fd)
			continue;
		for (int k = 0; k < 2; k++) {
			const struct nd_dx_dir *d = &in->conn[i].d[k];

			if ((x->conn_used[i] & USED_DIR(k)) || d->payload < 16 * ND_DX_BIG_BYTES ||
			    !d->has_lim || !bulk(&in->conn[i], k) ||
			    (with_loss ? !d->retrans || d->lim[2] < 0.5 : d->verdict != ND_DX_V_NETWORK))
				continue;
			s.fdrops += fd;
			fd = 0;         /* a connection's drops once, whichever direction */
			s.flows++;
			s.payload += d->payload;
			s.retrans += d->retrans;
			s.fast += d->fast;
			s.rto += d->rto;
			s.transfer_s += d->transfer_s;
			s.net_s += d->transfer_s * d->lim[2];
			if (d->payload > top_bytes) {
				top_bytes = d->payload;
				s.top = i;
				s.top_dir = k;
			}
			if (consume)
				x->conn_used[i] |= (uint16_t)USED_DIR(k);
		}
	}
	return s;
}

static struct dsum net_limited(struct ctx *x, bool with_loss, bool consume)
{
	return net_limited_at(x, with_loss, NULL, consume);
}

static void flow_text(const struct nd_dx_conn *c, int k, char *buf, size_t len)
{
	snprintf(buf, len, "%s > %s", k ? c->server : c->client, k ? c->client : c->server);
}

/* Begin a finding about direction @k of @c: the flow, and as the place's
 * endpoint its receiver (@receiver) or its sender. */
static void begin_flow(struct nd_dx_finding *f, enum nd_dx_mech m, enum nd_dx_place_kind pk,
		       const struct nd_dx_conn *c, int k, bool receiver)
{
	begin(f, m, pk);
	flow_text(c, k, f->place.flow, sizeof(f->place.flow));
	nd_dx_copy(f->place.endpoint, sizeof(f->place.endpoint),
		   (k == 0) == receiver ? c->server : c->client);
}

/* ---- rule 3: drops at a qdisc ---- */

static bool amounts_agree(uint64_t a, uint64_t b)
{
	return a && b && a <= 4 * b && b <= 4 * a;
}

static void rule_qdisc(struct ctx *x)
{
	const struct nd_dx_input *in = x->in;

	for (size_t i = 0; i < in->nctr; i++) {
		const struct nd_dx_ctr *c = &in->ctr[i];
		int64_t over, rs;
		uint64_t qd = 0;
		const char *rsns, *loc = "";
		struct nd_dx_finding f;
		struct dsum nl;
		struct ssum rto;
		struct pfilt pf = { NULL, NULL, NULL, true };
		bool joined, nl_joined;
		char a[32], b[32], fl[2 * ND_DX_EP + 4];

		if (strcmp(c->source, "qdisc") || strcmp(c->name, "drops") || c->delta <= 0 ||
		    !ns_ok(in, c->netns, 0))
			continue;
		for (size_t j = 0; j < in->ndrop; j++) {
			const struct nd_dx_drop *p = &in->drop[j];

			if (x->drop_used[j] || !p->qdisc || strcmp(p->netns, c->netns) ||
			    strcmp(p->dev, c->dev))
				continue;
			x->drop_used[j] = 1;
			qd += p->packets;
			loc = p->location;
		}
		over = ctr_sum(in, c->netns, "qdisc", "overlimits", c->dev);
		rsns = ctr_top(in, "snmp", "Tcp.RetransSegs", &rs);
		/* by flow: the connections that lost packets in this qdisc; when
		 * the flows were all kept and none of its drops is on a transfer,
		 * the transfers' losses were elsewhere */
		pf.netns = c->netns;
		pf.dev = c->dev;
		nl = net_limited_at(x, true, &pf, false);
		nl_joined = nl.flows > 0;
		if (!nl_joined && !(by_flow(x) && qd && !flows_lost(in)))
			nl = net_limited(x, true, false);
		rto = stalls_at(x, ND_DX_C_RTO, NULL, &pf, false);
		joined = rto.n > 0;
		if (!joined)
			rto = stalls(x, ND_DX_C_RTO, NULL, false);
		if (nl.flows) {
			begin(&f, ND_DX_M_NETWORK_BOTTLENECK, ND_DX_P_QDISC);
			nl = net_limited_at(x, true, nl_joined ? &pf : NULL, true);
		} else if (joined || (!(by_flow(x) && qd && !flows_lost(in)) &&
				      amounts_agree(rto.retries ? rto.retries : rto.n, (uint64_t)c->delta))) {
			begin(&f, ND_DX_M_RTO_STALLS, ND_DX_P_QDISC);
			rto = stalls_at(x, ND_DX_C_RTO, NULL, joined ? &pf : NULL, true);
		} else {
			begin(&f, ND_DX_M_PACKET_DROPS, ND_DX_P_QDISC);
			memset(&rto, 0, sizeof(rto));
		}
		nd_dx_copy(f.place.netns, sizeof(f.place.netns), c->netns);
		nd_dx_copy(f.place.dev, sizeof(f.place.dev), c->dev);
		set(f.place.qdisc, sizeof(f.place.qdisc), "%s %s", c->qdisc, c->handle);
		set(f.place.text, sizeof(f.place.text), "qdisc %s %s on %s in netns %s", c->qdisc,
		    c->handle, c->dev, c->netns);
		ev(&f, ND_DX_SRC_COUNTERS, true, "qdisc_drops", (double)c->delta,
		   "qdisc %s %s on %s in netns %s: drops +%lld, overlimits +%lld", c->qdisc, c->handle,
		   c->dev, c->netns, (long long)c->delta, (long long)over);
		if (rsns)
			cat(f.ev[0].text, ND_DX_TEXT, "; Tcp.RetransSegs +%lld in netns %s", (long long)rs,
			    rsns);
		if (in->have[ND_DX_SRC_DROPS]) {
			ev(&f, ND_DX_SRC_DROPS, qd > 0, "drops", (double)qd,
			   "%llu packets dropped at the qdisc of %s in netns %s (QDISC_DROP at %s)",
			   (unsigned long long)qd, c->dev, c->netns, *loc ? loc : "-");
			if (f.mech == ND_DX_M_RTO_STALLS)
				flow_ev(x, &f, &rto, "that stalled");
			if (f.mech == ND_DX_M_NETWORK_BOTTLENECK && nl_joined) {
				cat(f.ev[f.nev - 1].text, ND_DX_TEXT, "; %llu of them on the %llu "
				    "network-limited transfer%s", (unsigned long long)nl.fdrops,
				    (unsigned long long)nl.flows, nl.flows == 1 ? "" : "s");
				ev2(&f, "on_limited_flows", (double)nl.fdrops);
			}
			nd_dx_copy(f.place.reason, sizeof(f.place.reason), qd ? "QDISC_DROP" : "");
			nd_dx_copy(f.place.location, sizeof(f.place.location), loc);
		}
		if (f.mech == ND_DX_M_NETWORK_BOTTLENECK) {
			const struct nd_dx_conn *t = &in->conn[nl.top];

			flow_text(t, nl.top_dir, fl, sizeof(fl));
			nd_dx_copy(f.place.flow, sizeof(f.place.flow), fl);
			ev(&f, ND_DX_SRC_TCP, true, "retrans", (double)nl.retrans,
			   "%llu flow%s network-limited %.0f%% of %.1f s of transfer (%s), %llu segments "
			   "resent (%llu fast, %llu after timeouts); largest %s",
			   (unsigned long long)nl.flows, nl.flows > 1 ? "s" : "",
			   per_s(100.0 * nl.net_s, nl.transfer_s), nl.transfer_s,
			   human_bytes((double)nl.payload, a, sizeof(a)), (unsigned long long)nl.retrans,
			   (unsigned long long)nl.fast, (unsigned long long)nl.rto, fl);
			ev2(&f, "flows", (double)nl.flows);
			set(f.symptom, sizeof(f.symptom),
			    "bulk transfer at %s, held back by the network %.0f%% of the time, with "
			    "%llu segments lost and resent",
			    human_rate(per_s(8.0 * (double)nl.payload, nl.transfer_s),
				       b, sizeof(b)),
			    per_s(100.0 * nl.net_s, nl.transfer_s),
			    (unsigned long long)nl.retrans);
			f.impact = nl.net_s;
			set(f.next, sizeof(f.next),
			    "this qdisc is the bottleneck and drops at its limit (tc -s qdisc show dev "
			    "%s in netns %s): the rate is what the path carries; a buffer below one "
			    "bandwidth-delay product (rate x RTT) loses packets at every burst: size "
			    "it in BDPs (limit or latency of the qdisc), use an AQM, or raise the rate "
			    "if the shaping is not intended",
			    c->dev, c->netns);
			emit(x, &f, ND_DX_WARNING);
		} else if (f.mech == ND_DX_M_PACKET_DROPS) {
			set(f.symptom, sizeof(f.symptom),
			    "%lld packets dropped at a queue, no TCP stall or retransmission tied to them",
			    (long long)c->delta);
			f.impact = 0.001 * (double)c->delta;
			set(f.next, sizeof(f.next),
			    "the qdisc on %s in netns %s drops at its limit (tc -s qdisc show dev %s): "
			    "what is sent through it exceeds its rate for longer than its buffer lasts",
			    c->dev, c->netns, c->dev);
			emit(x, &f, ND_DX_WARNING);
		} else {
			if (in->have[ND_DX_SRC_TCP])
				ev(&f, ND_DX_SRC_TCP, rto.n > 0, "stalls", (double)rto.n,
				   "%llu timeout stalls (%llu retransmissions), %.2f s in all, max %.2f s",
				   (unsigned long long)rto.n, (unsigned long long)rto.retries, rto.s,
				   rto.max_s);
			ev2(&f, "retries", (double)rto.retries);
			set(f.symptom, sizeof(f.symptom),
			    "%llu stalls of at least 200 ms (a retransmission timeout each)",
			    (unsigned long long)rto.n);
			f.impact = rto.s;
			set(f.next, sizeof(f.next),
			    "the qdisc on %s in netns %s drops at its limit and each lost segment "
			    "costs a retransmission timeout: give it a buffer for the bursts (tc "
			    "qdisc change ... limit), or find what fills it",
			    c->dev, c->netns);
			emit(x, &f, stall_sev(&rto));
		}
	}
}

/* ---- rule 4: drops at a device or elsewhere in the stack ---- */

struct cand {
	char netns[ND_DX_NAME], dev[ND_DX_NAME], reason[ND_DX_NAME], location[ND_DX_NAME];
	char ctr[ND_DX_NAME];           /* the link counter that saw them too */
	uint64_t packets, top_loc;
	int64_t ctr_delta;
};

#define ND_DX_CAND_MAX 64

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	uint64_t nx = x->packets > (uint64_t)x->ctr_delta ? x->packets : (uint64_t)x->ctr_delta;
	uint64_t ny = y->packets > (uint64_t)y->ctr_delta ? y->packets : (uint64_t)y->ctr_delta;

	return nx > ny ? -1 : nx < ny ? 1 : 0;
}

static bool link_drop_ctr(const struct nd_dx_ctr *c)
{
	if (!strcmp(c->source, "link"))
		return !strcmp(c->name, "rx_dropped") || !strcmp(c->name, "tx_dropped") ||
		       !strcmp(c->name, "rx_missed_errors") || !strcmp(c->name, "rx_fifo_errors") ||
		       !strcmp(c->name, "rx_over_errors") || !strcmp(c->name, "tx_fifo_errors");
	return !strcmp(c->source, "ethtool");
}

/* The candidate of (@netns, @dev, @reason), made if missing; with @reason
 * NULL, any one on that device. NULL when the table is full. */
static struct cand *cand_get(struct cand *cd, size_t *n, const char *netns, const char *dev,
			     const char *reason)
{
	struct cand *k;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp(cd[i].netns, netns) && !strcmp(cd[i].dev, dev) &&
		    (!reason || !strcmp(cd[i].reason, reason)))
			return &cd[i];
	if (*n >= ND_DX_CAND_MAX)
		return NULL;
	k = &cd[(*n)++];
	memset(k, 0, sizeof(*k));
	nd_dx_copy(k->netns, sizeof(k->netns), netns);
	nd_dx_copy(k->dev, sizeof(k->dev), dev);
	nd_dx_copy(k->reason, sizeof(k->reason), reason);
	return k;
}

static size_t gather_cands(struct ctx *x, struct cand *cd)
{
	const struct nd_dx_input *in = x->in;
	size_t n = 0;

	for (size_t j = 0; j < in->ndrop; j++) {
		const struct nd_dx_drop *p = &in->drop[j];
		struct cand *k = NULL;

		if (x->drop_used[j] || benign_reason(p->reason) || rcvbuf_reason(p->reason) ||
		    !ns_ok(in, p->netns, p->netns_ino))
			continue;
		x->drop_used[j] = 1;
		k = cand_get(cd, &n, p->netns, p->dev, p->reason);
		if (!k)
			continue;
		k->packets += p->packets;
		if (p->packets > k->top_loc) {
			k->top_loc = p->packets;
			nd_dx_copy(k->location, sizeof(k->location), p->location);
		}
	}
	for (size_t i = 0; i < in->nctr; i++) {
		const struct nd_dx_ctr *c = &in->ctr[i];
		struct cand *k = NULL;

		if (!link_drop_ctr(c) || c->delta <= 0 || !ns_ok(in, c->netns, 0))
			continue;
		k = cand_get(cd, &n, c->netns, c->dev, NULL);
		if (!k)
			continue;
		if (c->delta > k->ctr_delta) {
			k->ctr_delta = c->delta;
			set(k->ctr, sizeof(k->ctr), "%s%s%s", c->source, !strcmp(c->source, "link") ? " " : ":",
			    c->name);
		}
	}
	qsort(cd, n, sizeof(*cd), cand_cmp);
	return n;
}

/* The namespace of the capture point that saw most of @s's stalls ("" for
 * the host or a file); NULL when none. */
static const char *stall_netns(const struct nd_dx_input *in, const struct ssum *s)
{
	size_t best = 0;

	for (size_t i = 1; i < in->ncap && i < ND_DX_CAP_MAX; i++)
		if (s->by_cap[i] > s->by_cap[best])
			best = i;
	return in->ncap && s->by_cap[best] ? in->cap[best].netns : NULL;
}

/* The TCP counters of the namespace where the stalls were captured when
 * they moved there (the retransmitting end is usually the one captured),
 * else of the namespace where they moved most. */
static const char *ctr_at(const struct nd_dx_input *in, const char *hint, const char *source,
			  const char *name, int64_t *v)
{
	if (hint && *hint) {
		*v = ctr_sum(in, hint, source, name, NULL);
		if (*v > 0)
			return hint;
	}
	return ctr_top(in, source, name, v);
}

static void tcp_ctr_ev(const struct nd_dx_input *in, struct nd_dx_finding *f, const struct ssum *s,
		       bool syn)
{
	int64_t rs, to, lp, sr;
	const char *hint = stall_netns(in, s);
	const char *rsns = ctr_at(in, hint, "snmp", "Tcp.RetransSegs", &rs);

	to = ctr_sum(in, rsns, "netstat", "TcpExt.TCPTimeouts", NULL);
	lp = ctr_sum(in, rsns, "netstat", "TcpExt.TCPLossProbes", NULL);
	if (syn) {
		const char *srns = ctr_at(in, hint, "netstat", "TcpExt.TCPSynRetrans", &sr);

		ev(f, ND_DX_SRC_COUNTERS, sr > 0, "syn_retrans", (double)sr,
		   "TcpExt.TCPSynRetrans +%lld in netns %s", (long long)sr, ns_label(srns));
	} else {
		ev(f, ND_DX_SRC_COUNTERS, rs > 0 && to + lp > 0, "retrans_segs", (double)rs,
		   "Tcp.RetransSegs +%lld, TcpExt.TCPTimeouts +%lld, TCPLossProbes +%lld in netns %s",
		   (long long)rs, (long long)to, (long long)lp, ns_label(rsns));
	}
}

static void stall_ev(struct nd_dx_finding *f, const struct ssum *s, bool syn)
{
	char d[160];

	delays_text(s, syn, d, sizeof(d));
	if (syn)
		ev(f, ND_DX_SRC_TCP, s->n > 0, "stalls", (double)s->n,
		   "%llu connection attempts stalled on SYN retransmissions (%llu resent SYNs; waited "
		   "%s)",
		   (unsigned long long)s->n, (unsigned long long)s->retries, s->n ? d : "-");
	else
		ev(f, ND_DX_SRC_TCP, s->n > 0, "stalls", (double)s->n,
		   "%llu timeout stalls on %llu connection%s (%llu retransmissions after silence%s), "
		   "%.2f s in all, max %.2f s; durations %s",
		   (unsigned long long)s->n, (unsigned long long)s->conns, s->conns == 1 ? "" : "s",
		   (unsigned long long)s->retries,
		   s->dirs == 1 ? ", by the clients" : s->dirs == 2 ? ", by the servers" : "", s->s,
		   s->max_s, s->n ? d : "-");
	ev2(f, "retries", (double)s->retries);
}

static void stall_symptom(const struct nd_dx_input *in, struct nd_dx_finding *f,
			  const struct ssum *s, bool syn)
{
	const struct nd_dx_bench *b = &in->bench;
	char p50[32], p999[32], mx[32];

	if (syn) {
		set(f->symptom, sizeof(f->symptom),
		    "slow connection set-up: %llu connections waited for SYN retries, up to %.1f s",
		    (unsigned long long)s->conns, s->max_s);
		return;
	}
	set(f->symptom, sizeof(f->symptom), "%llu stalls of %.2f s on average (max %.2f s)",
	    (unsigned long long)s->n, s->n ? s->s / (double)s->n : 0.0, s->max_s);
	if (in->have[ND_DX_SRC_BENCH] && b->has_lat)
		cat(f->symptom, sizeof(f->symptom), ": transaction latency p50 %s, p99.9 %s, max %s",
		    human_us(b->lat_p50_us, p50, sizeof(p50)), human_us(b->lat_p999_us, p999, sizeof(p999)),
		    human_us(b->lat_max_us, mx, sizeof(mx)));
}

static void rule_drops(struct ctx *x)
{
	const struct nd_dx_input *in = x->in;
	struct cand cd[ND_DX_CAND_MAX];
	size_t n = gather_cands(x, cd);

	for (size_t i = 0; i < n; i++) {
		const struct cand *k = &cd[i];
		uint64_t amount = k->packets ? k->packets : (uint64_t)k->ctr_delta;
		struct pfilt pf = { k->netns, k->dev, k->reason, false };
		/* by flow: the stalled connections that lost packets here */
		struct ssum rto = stalls_at(x, ND_DX_C_RTO, NULL, &pf, false);
		struct ssum syn = stalls_at(x, ND_DX_C_SYN, NULL, &pf, false);
		bool joined = rto.n + syn.n > 0;
		bool use_syn, tied;
		struct ssum *s;
		uint64_t need;
		struct nd_dx_finding f;

		if (!joined) {  /* else by place and amount, unless the flows say otherwise */
			rto = stalls(x, ND_DX_C_RTO, NULL, false);
			syn = stalls(x, ND_DX_C_SYN, NULL, false);
		}
		use_syn = joined ? syn.n > rto.n : syn.n + syn.retries > rto.n;
		s = use_syn ? &syn : &rto;
		need = use_syn ? s->n + s->retries : (s->retries ? s->retries : s->n);
		tied = joined || (!(by_flow(x) && k->packets && !flows_lost(in)) &&
				  amounts_agree(amount, need));
		if (tied)
			*s = stalls_at(x, use_syn ? ND_DX_C_SYN : ND_DX_C_RTO, NULL, joined ? &pf : NULL,
				       true);
		else if (amount < 10)
			continue;       /* a handful of drops and no symptom: noise */
		begin(&f, tied ? (use_syn ? ND_DX_M_SYN_RETRIES : ND_DX_M_RTO_STALLS) : ND_DX_M_PACKET_DROPS,
		      ND_DX_P_DEVICE);
		nd_dx_copy(f.place.netns, sizeof(f.place.netns), k->netns);
		nd_dx_copy(f.place.dev, sizeof(f.place.dev), k->dev);
		nd_dx_copy(f.place.reason, sizeof(f.place.reason), k->reason);
		nd_dx_copy(f.place.location, sizeof(f.place.location), k->location);
		if (*k->dev)
			set(f.place.text, sizeof(f.place.text), "device %s in netns %s", k->dev,
			    ns_label(k->netns));
		else
			set(f.place.text, sizeof(f.place.text), "the stack of netns %s", ns_label(k->netns));
		if (*k->reason)
			cat(f.place.text, sizeof(f.place.text), " (%s at %s)", k->reason,
			    *k->location ? k->location : "-");
		else
			cat(f.place.text, sizeof(f.place.text), " (%s)", k->ctr);
		if (k->packets)
			ev(&f, ND_DX_SRC_DROPS, true, "drops", (double)k->packets,
			   "%llu packets dropped with %s at %s%s%s in netns %s",
			   (unsigned long long)k->packets, k->reason, k->location, *k->dev ? " on " : "",
			   k->dev, ns_label(k->netns));
		if (k->packets && tied)
			flow_ev(x, &f, s, "that stalled");
		if (k->ctr_delta > 0)
			ev(&f, ND_DX_SRC_COUNTERS, true, "dev_drops", (double)k->ctr_delta,
			   "%s +%lld on %s in netns %s", k->ctr, (long long)k->ctr_delta, k->dev,
			   ns_label(k->netns));
		if (tied) {
			if (k->ctr_delta <= 0)
				tcp_ctr_ev(in, &f, s, use_syn);
			stall_ev(&f, s, use_syn);
			stall_symptom(in, &f, s, use_syn);
			f.impact = s->s;
			set(f.next, sizeof(f.next), "%s; each lost %s costs a %s",
			    *k->reason ? reason_advice(k->reason) :
					 "the device drops what its queue cannot take: its ring "
					 "and queue sizes (ethtool -g / -S), and whoever reads the queue "
					 "(a VM's vhost or macvtap reader, RPS)",
			    use_syn ? "SYN" : "segment",
			    use_syn ? "SYN retransmission after 1 s, then another second per retry"
				    : "retransmission timeout of at least 200 ms (a tail loss probe "
				      "has the same floor); ip route ... rto_min lowers it only where "
				      "the loss cannot be fixed");
		} else {
			set(f.symptom, sizeof(f.symptom), "%llu packets lost with no TCP stall tied to them",
			    (unsigned long long)amount);
			f.impact = 0.001 * (double)amount;
			set(f.next, sizeof(f.next), "%s",
			    *k->reason ? reason_advice(k->reason) :
					 "the device's queues: ethtool -g / -S, and whoever reads them");
		}
		emit(x, &f, tied ? stall_sev(s) : ND_DX_WARNING);
	}
}

/* ---- rule 5: stalls nothing explained ---- */

static void rule_stalls_left(struct ctx *x)
{
	const struct nd_dx_input *in = x->in;

	for (int syn = 0; syn < 2; syn++) {
		enum nd_dx_cause cause = syn ? ND_DX_C_SYN : ND_DX_C_RTO;
		struct ssum s = stalls(x, cause, NULL, true);
		const char *srv = NULL;
		struct nd_dx_finding f;
		uint64_t sig;

		if (!s.n)
			continue;
		for (size_t i = 0; i < in->nconn && !srv; i++)
			if (in->conn[i].nstall[cause][0] + in->conn[i].nstall[cause][1])
				srv = in->conn[i].server;
		begin(&f, syn ? ND_DX_M_SYN_RETRIES : ND_DX_M_RTO_STALLS, ND_DX_P_PATH);
		nd_dx_copy(f.place.endpoint, sizeof(f.place.endpoint), srv);
		set(f.place.text, sizeof(f.place.text), "the path to %s (not located: %s)",
		    srv ? srv : "the server",
		    in->have[ND_DX_SRC_DROPS] ? "no drop of this host matches; outside it, or in a "
						"device that does not report its drops"
					      : "netdx drops did not run");
		stall_ev(&f, &s, syn);
		tcp_ctr_ev(in, &f, &s, syn);
		if (in->have[ND_DX_SRC_DROPS]) {
			sig = sig_sum(in, "retransmit", syn ? "SYN_SENT" : "ESTABLISHED", NULL);
			ev(&f, ND_DX_SRC_DROPS, sig > 0, "retrans", (double)sig,
			   "%llu retransmissions traced (state %s) and no drop of this host to match",
			   (unsigned long long)sig, syn ? "SYN_SENT" : "ESTABLISHED");
		}
		stall_symptom(in, &f, &s, syn);
		f.impact = s.s;
		set(f.next, sizeof(f.next),
		    "packets are lost between the capture point and the peer: run netdx drops (root) "
		    "on each host on the path, netdx counters for device and qdisc drops there, and "
		    "capture on both ends to see which side loses them");
		emit(x, &f, stall_sev(&s));
	}
}

/* ---- bench flows by their endpoints ---- */

static const struct nd_dx_bflow *bench_flow(const struct nd_dx_input *in, const struct nd_dx_conn *c)
{
	if (!in->have[ND_DX_SRC_BENCH])
		return NULL;
	for (size_t i = 0; i < in->bench.nflow; i++) {
		const struct nd_dx_bflow *b = &in->bench.flow[i];

		if ((!strcmp(b->local, c->client) && !strcmp(b->remote, c->server)) ||
		    (!strcmp(b->local, c->server) && !strcmp(b->remote, c->client)))
			return b;
	}
	return NULL;
}

/* The TCP_INFO of the side that sent direction @k of @c. */
static const struct nd_dx_tcpinfo *bench_sender(const struct nd_dx_bflow *b,
						const struct nd_dx_conn *c, int k)
{
	bool client_sends = !strcmp(b->local, c->client) ? k == 0 : k == 1;

	return client_sends ? &b->client : &b->server;
}

/* The direction of the stored connections with the largest @score among
 * those @pred accepts, and how many were accepted. */
static size_t pick_dir(struct ctx *x, bool (*pred)(const struct nd_dx_conn *c, int k),
		       double (*score)(const struct nd_dx_dir *d), int *dir, size_t *count)
{
	const struct nd_dx_input *in = x->in;
	size_t best = SIZE_MAX;
	double bs = -1;

	*count = 0;
	for (size_t i = 0; i < in->nconn; i++) {
		for (int k = 0; k < 2; k++) {
			const struct nd_dx_dir *d = &in->conn[i].d[k];

			if ((x->conn_used[i] & USED_DIR(k)) || !pred(&in->conn[i], k))
				continue;
			(*count)++;
			if (score(d) > bs) {
				bs = score(d);
				best = i;
				*dir = k;
			}
		}
	}
	return best;
}

static bool rcv_limited(const struct nd_dx_conn *c, int k)
{
	const struct nd_dx_dir *d = &c->d[k];

	return d->payload >= 16 * ND_DX_BIG_BYTES && d->has_lim && bulk(c, k) &&
	       (d->verdict == ND_DX_V_RECEIVER || d->lim[1] >= 0.5);
}

static double rcv_score(const struct nd_dx_dir *d)
{
	return d->transfer_s * d->lim[1];
}

/* ---- rule 6: the receiver's window ---- */

static void rule_receiver(struct ctx *x)
{
	const struct nd_dx_input *in = x->in;
	static const char *const zw[] = {
		"TcpExt.TCPToZeroWindowAdv", "TcpExt.TCPWantZeroWindowAdv",
		"TcpExt.TCPFromZeroWindowAdv", "TcpExt.TCPRcvQDrop", "TcpExt.PruneCalled",
		"TcpExt.TCPZeroWindowDrop", NULL
	};
	const struct nd_dx_bflow *bf;
	const struct nd_dx_conn *c;
	const struct nd_dx_dir *d;
	struct nd_dx_finding f;
	char a[32], r[32], w[32];
	const char *fl;
	size_t i, count;
	int64_t zc = 0;
	uint64_t rd = 0;
	int k = 0;

	i = pick_dir(x, rcv_limited, rcv_score, &k, &count);
	if (i == SIZE_MAX)
		return;
	c = &in->conn[i];
	d = &c->d[k];
	for (size_t j = 0; j < in->nconn; j++)
		for (int kk = 0; kk < 2; kk++)
			if (rcv_limited(&in->conn[j], kk))
				x->conn_used[j] |= (uint16_t)USED_DIR(kk);
	begin_flow(&f, ND_DX_M_RECEIVER_WINDOW, ND_DX_P_SOCKBUF, c, k, true);
	fl = f.place.flow;
	set(f.place.text, sizeof(f.place.text), "receive buffer of %s (flow %s)", f.place.endpoint, fl);
	ev(&f, ND_DX_SRC_TCP, true, "receiver_share", d->lim[1],
	   "%s: receiver-limited %.0f%% of %.2f s of transfer (%s at %s); the receiver's window "
	   "at most %s, %u zero windows%s",
	   fl, 100.0 * d->lim[1], d->transfer_s, human_bytes((double)d->payload, a, sizeof(a)),
	   human_rate(per_s(8.0 * (double)d->payload, d->transfer_s), r, sizeof(r)),
	   c->d[!k].win_max ? human_bytes(c->d[!k].win_max, w, sizeof(w)) : "?",
	   c->d[!k].zero_window, count > 1 ? "; more flows like it" : "");
	ev2(&f, "window_max", (double)c->d[!k].win_max);
	bf = bench_flow(in, c);
	if (bf) {
		const struct nd_dx_tcpinfo *t = bench_sender(bf, c, k);
		double share = t->busy_us ? (double)t->rwnd_limited_us / (double)t->busy_us : 0;

		ev(&f, ND_DX_SRC_BENCH, t->valid && share >= 0.2, "rwnd_limited_share", share,
		   "TCP_INFO of the sender: limited by the receive window %.0f%% of its busy time "
		   "(rwnd_limited %.0f ms of %.0f ms)",
		   100.0 * share, (double)t->rwnd_limited_us / 1e3, (double)t->busy_us / 1e3);
	}
	for (int z = 0; zw[z]; z++)
		zc += ctr_sum(in, NULL, "netstat", zw[z], NULL);
	if (in->have[ND_DX_SRC_COUNTERS])
		ev(&f, ND_DX_SRC_COUNTERS, zc > 0, "window_events", (double)zc,
		   "zero-window and receive-queue counters (TCPWantZeroWindowAdv, TCPToZeroWindowAdv, "
		   "TCPFromZeroWindowAdv, TCPRcvQDrop, PruneCalled) moved +%lld",
		   (long long)zc);
	for (size_t j = 0; j < in->ndrop; j++)
		if (!x->drop_used[j] && rcvbuf_reason(in->drop[j].reason) &&
		    ns_ok(in, in->drop[j].netns, in->drop[j].netns_ino)) {
			x->drop_used[j] = 1;
			rd += in->drop[j].packets;
		}
	rd += sig_sum(in, "rcvqueue_full", NULL, NULL);
	if (in->have[ND_DX_SRC_DROPS] && rd)
		ev(&f, ND_DX_SRC_DROPS, true, "drops", (double)rd,
		   "%llu packets dropped for a full receive buffer or memory (PROTO_MEM, "
		   "TCP_ZEROWINDOW, receive queue full)",
		   (unsigned long long)rd);
	set(f.symptom, sizeof(f.symptom), "a transfer at %s held back by the receiver's window %.0f%% "
	    "of the time", r, 100.0 * d->lim[1]);
	f.impact = d->transfer_s * d->lim[1];
	if (c->d[!k].win_max && d->rtt_p50_us)
		set(f.next, sizeof(f.next),
		    "the receiver %s advertises at most %s: at a round trip of %.1f ms that allows "
		    "%s at most; ", f.place.endpoint, w, d->rtt_p50_us / 1e3,
		    human_rate(8e6 * c->d[!k].win_max / d->rtt_p50_us, a, sizeof(a)));
	else
		set(f.next, sizeof(f.next), "the receiver %s keeps its window small; ",
		    f.place.endpoint);
	cat(f.next, sizeof(f.next),
	    "raise its receive buffer (SO_RCVBUF; netdx bench --rcvbuf; or the max of "
	    "net.ipv4.tcp_rmem, which a fixed SO_RCVBUF stops autotuning from using) and check "
	    "that the receiving application reads as fast as data arrives");
	emit(x, &f, ND_DX_WARNING);
}

/* ---- rule 7: network-limited flows no drop place explains ---- */

static void rule_network_left(struct ctx *x)
{
	const struct nd_dx_input *in = x->in;
	struct dsum nl = net_limited(x, false, true);
	const struct nd_dx_conn *c;
	struct nd_dx_finding f;
	char a[32], r[32], fl[2 * ND_DX_EP + 4];
	int64_t rs;
	const char *rsns;

	if (!nl.flows)
		return;
	c = &in->conn[nl.top];
	flow_text(c, nl.top_dir, fl, sizeof(fl));
	begin(&f, ND_DX_M_NETWORK_BOTTLENECK, ND_DX_P_PATH);
	nd_dx_copy(f.place.flow, sizeof(f.place.flow), fl);
	set(f.place.text, sizeof(f.place.text), "the path of %s (no queue drops found on this host)", fl);
	human_rate(per_s(8.0 * (double)nl.payload, nl.transfer_s), r, sizeof(r));
	ev(&f, ND_DX_SRC_TCP, true, "retrans", (double)nl.retrans,
	   "%llu flow%s network-limited %.0f%% of %.1f s of transfer (%s at %s), %llu segments resent",
	   (unsigned long long)nl.flows, nl.flows > 1 ? "s" : "",
	   per_s(100.0 * nl.net_s, nl.transfer_s), nl.transfer_s,
	   human_bytes((double)nl.payload, a, sizeof(a)), r, (unsigned long long)nl.retrans);
	rsns = ctr_top(in, "snmp", "Tcp.RetransSegs", &rs);
	if (nl.retrans) {
		ev(&f, ND_DX_SRC_COUNTERS, rs > 0, "retrans_segs", (double)rs,
		   "Tcp.RetransSegs +%lld in netns %s", (long long)rs, ns_label(rsns));
		if (in->have[ND_DX_SRC_DROPS]) {
			uint64_t sig = sig_sum(in, "retransmit", "ESTABLISHED", NULL);

			ev(&f, ND_DX_SRC_DROPS, sig > 0, "retrans", (double)sig,
			   "%llu retransmissions traced, no drop of this host to match",
			   (unsigned long long)sig);
		}
		set(f.symptom, sizeof(f.symptom), "bulk transfer at %s, held back by the network, with "
		    "%llu segments lost", r, (unsigned long long)nl.retrans);
		set(f.next, sizeof(f.next), "the loss is not on this host's queues: the path's "
		    "bottleneck is elsewhere (run netdx counters and netdx drops on the hosts along it)");
	} else {
		set(f.symptom, sizeof(f.symptom), "bulk transfer at %s, as fast as the path allowed; "
		    "nothing was lost", r);
		set(f.next, sizeof(f.next), "nothing to fix if %s is the capacity of the path; "
		    "otherwise look for a rate limit or a slow link along it", r);
	}
	f.impact = nl.net_s * (nl.retrans ? 1.0 : 0.01);
	emit(x, &f, nl.retrans ? ND_DX_WARNING : ND_DX_INFO);
}

/* ---- rule 8: the sender had nothing to send ---- */

static bool app_limited(const struct nd_dx_conn *c, int k)
{
	const struct nd_dx_dir *d = &c->d[k];

	return d->payload >= ND_DX_APP_BYTES && d->has_lim && d->verdict == ND_DX_V_SENDER &&
	       d->transfer_s >= 0.2 && bulk(c, k);
}

static double app_score(const struct nd_dx_dir *d)
{
	return (double)d->payload;
}

static void rule_sender(struct ctx *x)
{
	const struct nd_dx_input *in = x->in;
	const struct nd_dx_bflow *bf;
	const struct nd_dx_conn *c;
	const struct nd_dx_dir *d;
	struct nd_dx_finding f;
	char a[32], r[32];
	const char *fl;
	size_t i, count;
	int64_t rs;
	int k = 0;

	i = pick_dir(x, app_limited, app_score, &k, &count);
	if (i == SIZE_MAX)
		return;
	c = &in->conn[i];
	d = &c->d[k];
	begin_flow(&f, ND_DX_M_SENDER_LIMITED, ND_DX_P_APP, c, k, false);
	fl = f.place.flow;
	set(f.place.text, sizeof(f.place.text), "the application sending on %s (flow %s)",
	    f.place.endpoint, fl);
	human_rate(per_s(8.0 * (double)d->payload, d->transfer_s), r, sizeof(r));
	ev(&f, ND_DX_SRC_TCP, true, "sender_share", d->lim[0],
	   "%s: sender-limited %.0f%% of %.2f s (%s at %s): nothing more to send%s",
	   fl, 100.0 * d->lim[0], d->transfer_s, human_bytes((double)d->payload, a, sizeof(a)), r,
	   count > 1 ? "; more flows like it" : "");
	ev2(&f, "bytes", (double)d->payload);
	bf = bench_flow(in, c);
	if (bf && in->bench.duration_s > 0) {
		const struct nd_dx_tcpinfo *t = bench_sender(bf, c, k);
		double busy = (double)t->busy_us / 1e6 / in->bench.duration_s;

		ev(&f, ND_DX_SRC_BENCH, t->valid && busy <= 0.5, "busy_share", busy,
		   "TCP_INFO of the sender: busy sending %.1f%% of the %.1f s run (rwnd-limited "
		   "%.0f ms, sndbuf-limited %.0f ms)",
		   100.0 * busy, in->bench.duration_s, (double)t->rwnd_limited_us / 1e3,
		   (double)t->sndbuf_limited_us / 1e3);
	}
	if (in->have[ND_DX_SRC_COUNTERS]) {
		const char *ns = ctr_top(in, "snmp", "Tcp.RetransSegs", &rs);

		if (rs)
			ev(&f, ND_DX_SRC_COUNTERS, false, "retrans_segs", (double)rs,
			   "Tcp.RetransSegs +%lld in netns %s", (long long)rs, ns_label(ns));
		else
			ev(&f, ND_DX_SRC_COUNTERS, true, "retrans_segs", 0,
			   "no retransmissions in the namespaces (Tcp.RetransSegs +0)");
	}
	set(f.symptom, sizeof(f.symptom), "%s moved %s at %s; its sender had nothing to send %.0f%% "
	    "of the time", fl, a, r, 100.0 * d->lim[0]);
	f.impact = 0.01 * d->transfer_s * d->lim[0];
	set(f.next, sizeof(f.next),
	    "the application on %s writes less than the network could carry: it is not the "
	    "network; look at how often and how much it writes, its CPU time and what it waits for",
	    f.place.endpoint);
	emit(x, &f, ND_DX_INFO);        /* never above info: not a network fault */
}

/* ---- notes about the sources ---- */

static void source_notes(const struct nd_dx_input *in, struct nd_dx_diag *d)
{
	for (int s = 0; s < ND_DX_NSRC; s++) {
		if (in->have[s]) {
			if (in->bad_lines[s])
				note(d, "%s: %llu lines were not understood (left out)", nd_dx_src_name(s),
				     (unsigned long long)in->bad_lines[s]);
			continue;
		}
		if (s == ND_DX_SRC_BENCH && !*in->missing[s])
			continue;       /* optional: not a gap */
		note(d, "%s: not available%s%s; the findings use the other sources", nd_dx_src_name(s),
		     *in->missing[s] ? ": " : "", in->missing[s]);
	}
	if (in->dsum.map_full)
		note(d, "drops: %llu drops did not fit the kernel's table (map full): places may be "
		     "missing", (unsigned long long)in->dsum.map_full);
	if (in->dsum.flows_map_full || in->fdrop_over)
		note(d, "drops: %llu drops had no room in the kernel's flow table and %llu flow rows "
		     "were beyond doctor's cap of %d: the places are exact, but stalls are tied to "
		     "them by place and amount where their flows are missing",
		     (unsigned long long)in->dsum.flows_map_full, (unsigned long long)in->fdrop_over,
		     ND_DX_FDROP_MAX);
	if (in->tsum.capture_drops)
		note(d, "tcp: the capture lost %llu packets (kernel buffer): stalls and retransmissions "
		     "may be undercounted", (unsigned long long)in->tsum.capture_drops);
	if (in->conn_over)
		note(d, "tcp: %llu notable connections beyond the table's cap of %d were counted only",
		     (unsigned long long)in->conn_over, ND_DX_CONN_MAX);
	if (in->ctr_over || in->drop_over || in->sig_over || in->server_over)
		note(d, "tables at their caps: %llu counters, %llu drop places, %llu signals, %llu "
		     "servers left out",
		     (unsigned long long)in->ctr_over, (unsigned long long)in->drop_over,
		     (unsigned long long)in->sig_over, (unsigned long long)in->server_over);
	if ((in->dsum.ev_lost || in->dropev_over || in->stall_over) && in->nstall)
		note(d, "drops: %llu drop events held back (rate limit, ring) and %llu beyond doctor's "
		     "cap of %d, %llu stalls beyond the cap of %d: stalls tied to a drop in time are a "
		     "lower bound",
		     (unsigned long long)in->dsum.ev_lost, (unsigned long long)in->dropev_over,
		     ND_DX_DROPEV_MAX, (unsigned long long)in->stall_over, ND_DX_STALL_MAX);
}

/* Pointers to the @n elements of @size bytes at @arr, sorted by @cmp; NULL
 * when @n is 0 or memory ran out (*@err = -ENOMEM then). */
static const void **sorted_ptrs(const void *arr, size_t n, size_t size,
				int (*cmp)(const void *, const void *), int *err)
{
	const void **p;

	if (!n)
		return NULL;
	p = malloc(n * sizeof(*p));
	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		p[i] = (const char *)arr + i * size;
	qsort(p, n, sizeof(*p), cmp);
	return p;
}

int nd_dx_diagnose(const struct nd_dx_input *in, struct nd_dx_diag *out)
{
	struct ctx x = { .in = in, .out = out };
	int rc = 0;

	memset(out, 0, sizeof(*out));
	x.drop_used = calloc(in->ndrop + 1, 1);
	x.conn_used = calloc(in->nconn + 1, sizeof(*x.conn_used));
	if (!x.drop_used || !x.conn_used) {
		rc = -ENOMEM;
		goto out;
	}
	x.fsort = sorted_ptrs(in->fdrop, in->nfdrop, sizeof(*in->fdrop), fsort_cmp, &rc);
	x.nfsort = x.fsort ? in->nfdrop : 0;
	if (in->nconn) {
		x.esort = sorted_ptrs(in->dropev, in->ndropev, sizeof(*in->dropev), esort_cmp, &rc);
		x.nesort = x.esort ? in->ndropev : 0;
		x.st_first = calloc(in->nconn + 1, sizeof(*x.st_first));
		if (!x.st_first)
			rc = -ENOMEM;
	}
	if (rc < 0)
		goto out;
	/* stalls are kept in connection order: each connection's first */
	for (size_t k = 0, ci = 0; x.st_first && ci <= in->nconn; ci++) {
		while (k < in->nstall && in->stall[k].conn < ci)
			k++;
		x.st_first[ci] = k;
	}
	source_notes(in, out);
	rule_conntrack(&x);
	rule_listen(&x);
	rule_qdisc(&x);
	rule_drops(&x);
	rule_stalls_left(&x);
	rule_receiver(&x);
	rule_network_left(&x);
	rule_sender(&x);
	qsort(out->f, out->n, sizeof(out->f[0]), rank_qsort);
out:
	free(x.drop_used);
	free(x.conn_used);
	free(x.fsort);
	free(x.esort);
	free(x.st_first);
	return rc;
}
