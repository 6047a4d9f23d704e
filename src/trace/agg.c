/* SPDX-License-Identifier: MIT */
/* agg: snapshots of the kernel's maps into rows, places and joins. */
#include "trace/agg.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A flow in either direction: the lower endpoint first. */
struct uflow {
	uint8_t lo[16], hi[16];
	uint16_t lo_port, hi_port;
	uint8_t family, pad[3];
};

struct uflow_count {
	struct uflow f;
	uint64_t count;
};

/* Previous packet count of a key, for deltas (the count right after the
 * key: prev_value() relies on it). */
struct prev_drop {
	struct nd_drop_key key;
	uint64_t packets;
};

struct prev_sig {
	struct nd_sig_key key;
	uint64_t count;
};

_Static_assert(offsetof(struct prev_drop, packets) == sizeof(struct nd_drop_key), "count after key");
_Static_assert(offsetof(struct prev_sig, count) == sizeof(struct nd_sig_key), "count after key");
_Static_assert(sizeof(struct prev_drop) == sizeof(struct nd_drop_key) + 8, "no tail padding");
_Static_assert(sizeof(struct prev_sig) == sizeof(struct nd_sig_key) + 8, "no tail padding");
_Static_assert(offsetof(struct nd_drop_val, packets) == 0 && offsetof(struct nd_sig_val, count) == 0,
	       "the count first");

/*
 * One input of the grouping into places: a row, or an entry of a place map
 * (exact), under its key with the flow part zero. Drops and signals share
 * it (a signal's count in n, no bytes); keys are compared as bytes over
 * the whole union, zeroed first.
 */
union place_key {
	struct nd_drop_key d;
	struct nd_sig_key s;
};

struct group_in {
	union place_key key;
	uint64_t n, bytes, delta, first_ns, last_ns, retrans;
	bool exact;             /* from a place map */
	bool has_flow;          /* a row with a flow */
};

/* A place: its place-map entry, or its rows summed when it has none. */
struct group_out {
	union place_key key;
	uint64_t n, bytes, delta, first_ns, last_ns;
	uint64_t flows, retrans, unattributed;
};

struct nd_agg {
	struct nd_drop_row *drops;
	size_t ndrops;
	struct nd_sig_row *sigs;
	size_t nsigs;
	struct nd_place_row *places;
	size_t nplaces;
	struct nd_sig_place_row *sig_places;
	size_t nsig_places;
	/* previous counts by key, sorted: drop rows, signal rows, and the
	 * place maps' entries */
	struct prev_drop *pd, *ppd;
	size_t npd, nppd;
	struct prev_sig *ps, *pps;
	size_t nps, npps;
	struct nd_agg_totals tot;
	bool flows;
};

struct nd_agg *nd_agg_new(void)
{
	return calloc(1, sizeof(struct nd_agg));
}

static void agg_clear(struct nd_agg *a)
{
	free(a->drops);
	free(a->sigs);
	free(a->places);
	free(a->sig_places);
	free(a->pd);
	free(a->ppd);
	free(a->ps);
	free(a->pps);
}

void nd_agg_free(struct nd_agg *a)
{
	if (!a)
		return;
	agg_clear(a);
	free(a);
}

static int cmp_prev_drop(const void *x, const void *y)
{
	return memcmp(&((const struct prev_drop *)x)->key, &((const struct prev_drop *)y)->key,
		      sizeof(struct nd_drop_key));
}

static int cmp_prev_sig(const void *x, const void *y)
{
	return memcmp(&((const struct prev_sig *)x)->key, &((const struct prev_sig *)y)->key,
		      sizeof(struct nd_sig_key));
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return a > b ? -1 : a < b;
}

static int cmp_drop_row(const void *x, const void *y)
{
	const struct nd_drop_row *a = x, *b = y;
	int c = cmp_u64_desc(a->delta, b->delta);

	if (!c)
		c = cmp_u64_desc(a->val.packets, b->val.packets);
	return c ? c : memcmp(&a->key, &b->key, sizeof(a->key));
}

static int cmp_sig_row(const void *x, const void *y)
{
	const struct nd_sig_row *a = x, *b = y;
	int c = cmp_u64_desc(a->delta, b->delta);

	if (!c)
		c = cmp_u64_desc(a->val.count, b->val.count);
	return c ? c : memcmp(&a->key, &b->key, sizeof(a->key));
}

static int cmp_place_key(const struct nd_place_row *a, const struct nd_place_row *b)
{
	if (a->reason != b->reason)
		return a->reason < b->reason ? -1 : 1;
	if (a->location != b->location)
		return a->location < b->location ? -1 : 1;
	if (a->ifindex != b->ifindex)
		return a->ifindex < b->ifindex ? -1 : 1;
	if (a->netns != b->netns)
		return a->netns < b->netns ? -1 : 1;
	if (a->ethertype != b->ethertype)
		return a->ethertype < b->ethertype ? -1 : 1;
	return (a->l4proto > b->l4proto) - (a->l4proto < b->l4proto);
}

static int cmp_place_row(const void *x, const void *y)
{
	const struct nd_place_row *a = x, *b = y;
	int c = cmp_u64_desc(a->delta, b->delta);

	if (!c)
		c = cmp_u64_desc(a->packets, b->packets);
	return c ? c : cmp_place_key(a, b);
}

static int cmp_sig_place_row(const void *x, const void *y)
{
	const struct nd_sig_place_row *a = x, *b = y;
	int c = cmp_u64_desc(a->delta, b->delta);

	if (!c)
		c = cmp_u64_desc(a->count, b->count);
	if (!c)
		c = (a->type > b->type) - (a->type < b->type);
	if (!c)
		c = (a->state > b->state) - (a->state < b->state);
	return c ? c : (a->netns > b->netns) - (a->netns < b->netns);
}

static int cmp_group_in(const void *x, const void *y)
{
	return memcmp(&((const struct group_in *)x)->key, &((const struct group_in *)y)->key,
		      sizeof(union place_key));
}

static int cmp_uflow(const void *x, const void *y)
{
	return memcmp(&((const struct uflow_count *)x)->f, &((const struct uflow_count *)y)->f,
		      sizeof(struct uflow));
}

static void make_uflow(const struct nd_tuple *t, struct uflow *u)
{
	size_t n = t->family == 4 ? 4 : 16;
	int c = memcmp(t->saddr, t->daddr, n);
	bool swap = c > 0 || (c == 0 && t->sport > t->dport);

	memset(u, 0, sizeof(*u));
	u->family = t->family;
	memcpy(u->lo, swap ? t->daddr : t->saddr, n);
	memcpy(u->hi, swap ? t->saddr : t->daddr, n);
	u->lo_port = swap ? t->dport : t->sport;
	u->hi_port = swap ? t->sport : t->dport;
}

/*
 * The previous count of @key in @prev: @n entries of @esz bytes, sorted
 * by their key (the first @ksz bytes), the count (a uint64_t) right after
 * it. 0 when the key is new.
 */
static uint64_t prev_value(const void *prev, size_t n, size_t esz, const void *key, size_t ksz)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *e = (const char *)prev + mid * esz;
		int c = memcmp(e, key, ksz);

		if (!c) {
			uint64_t v;

			memcpy(&v, e + ksz, sizeof(v));
			return v;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Retransmission counts by undirected flow, sorted, duplicates summed. */
static struct uflow_count *retrans_by_flow(const struct nd_sig_row *s, size_t n, size_t *out_n)
{
	struct uflow_count *u = calloc(n ? n : 1, sizeof(*u));
	size_t m = 0, w = 0;

	if (!u)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if ((s[i].key.type != ND_SIG_RETRANS && s[i].key.type != ND_SIG_SYNACK_RETRANS) ||
		    !s[i].key.flow.family)
			continue;
		make_uflow(&s[i].key.flow, &u[m].f);
		u[m++].count = s[i].val.count;
	}
	qsort(u, m, sizeof(*u), cmp_uflow);
	for (size_t i = 0; i < m; i++) {
		if (w && !memcmp(&u[w - 1].f, &u[i].f, sizeof(u[i].f)))
			u[w - 1].count += u[i].count;
		else
			u[w++] = u[i];
	}
	*out_n = w;
	return u;
}

static uint64_t lookup_retrans(const struct uflow_count *u, size_t n, const struct nd_tuple *t)
{
	struct uflow_count k;
	const struct uflow_count *hit;

	make_uflow(t, &k.f);
	hit = bsearch(&k, u, n, sizeof(*u), cmp_uflow);
	return hit ? hit->count : 0;
}

/* The change of a count since @before (a count below it restarted: all new). */
static uint64_t delta_of(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : now;
}

/*
 * Keys with their counts, sorted by key (@cmp): the next snapshot's
 * "before", entries of a key and a uint64_t (struct prev_drop, prev_sig).
 * The count is the first field of each value (packets, count).
 */
static void *prev_counts(const void *keys, size_t ksz, const void *vals, size_t vsz, size_t n,
			 int (*cmp)(const void *, const void *))
{
	size_t esz = ksz + sizeof(uint64_t);
	char *p = calloc(n ? n : 1, esz);

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		memcpy(p + i * esz, (const char *)keys + i * ksz, ksz);
		memcpy(p + i * esz + ksz, (const char *)vals + i * vsz, sizeof(uint64_t));
	}
	qsort(p, n, esz, cmp);
	return p;
}

/* The place of a drop key: the key without its flow. */
static void drop_place_key(const struct nd_drop_key *k, union place_key *out)
{
	memset(out, 0, sizeof(*out));
	out->d.location = k->location;
	out->d.reason = k->reason;
	out->d.ifindex = k->ifindex;
	out->d.netns = k->netns;
	out->d.ethertype = k->ethertype;
	out->d.l4proto = k->l4proto;
}

static void sig_place_key(const struct nd_sig_key *k, union place_key *out)
{
	memset(out, 0, sizeof(*out));
	out->s.netns = k->netns;
	out->s.type = k->type;
	out->s.state = k->state;
}

struct group_sum {
	uint64_t n, bytes, delta, first_ns, last_ns;
	bool any;
};

static void group_add(struct group_sum *s, const struct group_in *g)
{
	s->n += g->n;
	s->bytes += g->bytes;
	s->delta += g->delta;
	if (!s->any || g->first_ns < s->first_ns)
		s->first_ns = g->first_ns;
	if (g->last_ns > s->last_ns)
		s->last_ns = g->last_ns;
	s->any = true;
}

/*
 * Sort @in and group it by place into @out (room for @n): a place's
 * counts are its place-map entries' when it has one, else its rows'
 * summed; its flows and retransmissions are its rows'; what its place
 * entry counts beyond its rows is unattributed. Returns the number of
 * places.
 */
static size_t group_places(struct group_in *in, size_t n, struct group_out *out)
{
	size_t m = 0, j;

	qsort(in, n, sizeof(*in), cmp_group_in);
	for (size_t i = 0; i < n; i = j) {
		struct group_sum exact = { 0 }, rows = { 0 };
		struct group_out *o = &out[m++];
		const struct group_sum *use;

		memset(o, 0, sizeof(*o));
		o->key = in[i].key;
		for (j = i; j < n && !memcmp(&in[j].key, &o->key, sizeof(o->key)); j++) {
			if (in[j].exact) {
				group_add(&exact, &in[j]);
				continue;
			}
			group_add(&rows, &in[j]);
			o->flows += in[j].has_flow;
			o->retrans += in[j].retrans;
		}
		use = exact.any ? &exact : &rows;
		o->n = use->n;
		o->bytes = use->bytes;
		o->delta = use->delta;
		o->first_ns = use->first_ns;
		o->last_ns = use->last_ns;
		o->unattributed = exact.any && exact.n > rows.n ? exact.n - rows.n : 0;
	}
	return m;
}

/* The drop rows (deltas against @a's, retransmissions from @uf) and their
 * place-grouping inputs in @g (one per row). */
static void build_drop_rows(const struct nd_agg *a, const struct nd_agg_snap *s,
			    const struct uflow_count *uf, size_t nuf, struct nd_drop_row *rows,
			    struct group_in *g, bool *flows)
{
	for (size_t i = 0; i < s->nd; i++) {
		struct nd_drop_row *r = &rows[i];
		uint64_t before = prev_value(a->pd, a->npd, sizeof(*a->pd), &s->dk[i], sizeof(s->dk[i]));

		r->key = s->dk[i];
		r->val = s->dv[i];
		r->delta = delta_of(r->val.packets, before);
		r->has_flow = r->key.flow.family != 0;
		if (r->has_flow) {
			*flows = true;
			r->retrans = lookup_retrans(uf, nuf, &r->key.flow);
		}
		drop_place_key(&r->key, &g[i].key);
		g[i].n = r->val.packets;
		g[i].bytes = r->val.bytes;
		g[i].delta = r->delta;
		g[i].first_ns = r->val.first_ns;
		g[i].last_ns = r->val.last_ns;
		g[i].retrans = r->retrans;
		g[i].has_flow = r->has_flow;
	}
	for (size_t i = 0; i < s->np; i++) {
		struct group_in *e = &g[s->nd + i];
		uint64_t before = prev_value(a->ppd, a->nppd, sizeof(*a->ppd), &s->pk[i],
					     sizeof(s->pk[i]));

		drop_place_key(&s->pk[i], &e->key);
		e->n = s->pv[i].packets;
		e->bytes = s->pv[i].bytes;
		e->delta = delta_of(e->n, before);
		e->first_ns = s->pv[i].first_ns;
		e->last_ns = s->pv[i].last_ns;
		e->exact = true;
	}
}

static void build_sig_rows(const struct nd_agg *a, const struct nd_agg_snap *s,
			   struct nd_sig_row *rows, struct group_in *g)
{
	for (size_t i = 0; i < s->ns; i++) {
		struct nd_sig_row *r = &rows[i];
		uint64_t before = prev_value(a->ps, a->nps, sizeof(*a->ps), &s->sk[i], sizeof(s->sk[i]));

		r->key = s->sk[i];
		r->val = s->sv[i];
		r->delta = delta_of(r->val.count, before);
		sig_place_key(&r->key, &g[i].key);
		g[i].n = r->val.count;
		g[i].delta = r->delta;
		g[i].last_ns = r->val.last_ns;
		g[i].has_flow = r->key.flow.family != 0;
	}
	for (size_t i = 0; i < s->nsp; i++) {
		struct group_in *e = &g[s->ns + i];
		uint64_t before = prev_value(a->pps, a->npps, sizeof(*a->pps), &s->spk[i],
					     sizeof(s->spk[i]));

		sig_place_key(&s->spk[i], &e->key);
		e->n = s->spv[i].count;
		e->delta = delta_of(e->n, before);
		e->last_ns = s->spv[i].last_ns;
		e->exact = true;
	}
}

static void fill_places(const struct group_out *o, size_t n, struct nd_place_row *p,
			struct nd_agg_totals *tot)
{
	for (size_t i = 0; i < n; i++) {
		const struct nd_drop_key *k = &o[i].key.d;

		p[i] = (struct nd_place_row){
			.location = k->location, .reason = k->reason, .ifindex = k->ifindex,
			.netns = k->netns, .ethertype = k->ethertype, .l4proto = k->l4proto,
			.packets = o[i].n, .bytes = o[i].bytes, .delta = o[i].delta,
			.first_ns = o[i].first_ns, .last_ns = o[i].last_ns, .flows = o[i].flows,
			.retrans = o[i].retrans, .unattributed = o[i].unattributed,
		};
		tot->drops += o[i].n;
		tot->drop_delta += o[i].delta;
		tot->unattributed += o[i].unattributed;
	}
	qsort(p, n, sizeof(*p), cmp_place_row);
}

static void fill_sig_places(const struct group_out *o, size_t n, struct nd_sig_place_row *p,
			    struct nd_agg_totals *tot)
{
	for (size_t i = 0; i < n; i++) {
		const struct nd_sig_key *k = &o[i].key.s;

		p[i] = (struct nd_sig_place_row){
			.netns = k->netns, .type = k->type, .state = k->state, .count = o[i].n,
			.delta = o[i].delta, .last_ns = o[i].last_ns, .flows = o[i].flows,
			.unattributed = o[i].unattributed,
		};
		if (k->type < ND_SIG_MAX) {
			tot->signals[k->type] += o[i].n;
			tot->signal_delta[k->type] += o[i].delta;
		}
		if (k->type == ND_SIG_RETRANS && k->state == 2 /* TCP_SYN_SENT */)
			tot->syn_sent_retrans += o[i].n;
		tot->sig_unattributed += o[i].unattributed;
	}
	qsort(p, n, sizeof(*p), cmp_sig_place_row);
}

int nd_agg_snapshot(struct nd_agg *a, const struct nd_agg_snap *s)
{
	size_t ngd = s->nd + (s->pk ? s->np : 0), ngs = s->ns + (s->spk ? s->nsp : 0);
	struct nd_agg_snap in = *s;
	struct nd_agg next = { 0 };
	struct group_in *gd = calloc(ngd ? ngd : 1, sizeof(*gd));
	struct group_in *gs = calloc(ngs ? ngs : 1, sizeof(*gs));
	struct group_out *go = calloc((ngd > ngs ? ngd : ngs) + 1, sizeof(*go));
	struct uflow_count *uf = NULL;
	size_t nuf = 0;
	int rc = -ENOMEM;

	if (!in.pk)
		in.np = 0;
	if (!in.spk)
		in.nsp = 0;
	next.drops = calloc(in.nd ? in.nd : 1, sizeof(*next.drops));
	next.sigs = calloc(in.ns ? in.ns : 1, sizeof(*next.sigs));
	next.places = calloc(ngd ? ngd : 1, sizeof(*next.places));
	next.sig_places = calloc(ngs ? ngs : 1, sizeof(*next.sig_places));
	next.pd = prev_counts(in.dk, sizeof(*in.dk), in.dv, sizeof(*in.dv), in.nd, cmp_prev_drop);
	next.ppd = prev_counts(in.pk, sizeof(*in.pk), in.pv, sizeof(*in.pv), in.np, cmp_prev_drop);
	next.ps = prev_counts(in.sk, sizeof(*in.sk), in.sv, sizeof(*in.sv), in.ns, cmp_prev_sig);
	next.pps = prev_counts(in.spk, sizeof(*in.spk), in.spv, sizeof(*in.spv), in.nsp,
			       cmp_prev_sig);
	if (!gd || !gs || !go || !next.drops || !next.sigs || !next.places || !next.sig_places ||
	    !next.pd || !next.ppd || !next.ps || !next.pps)
		goto out;
	next.npd = next.ndrops = in.nd;
	next.nppd = in.np;
	next.nps = next.nsigs = in.ns;
	next.npps = in.nsp;

	/* Signals first: the drop rows take their retransmissions. */
	build_sig_rows(a, &in, next.sigs, gs);
	uf = retrans_by_flow(next.sigs, in.ns, &nuf);
	if (!uf)
		goto out;
	build_drop_rows(a, &in, uf, nuf, next.drops, gd, &next.flows);

	next.nplaces = group_places(gd, ngd, go);
	fill_places(go, next.nplaces, next.places, &next.tot);
	next.nsig_places = group_places(gs, ngs, go);
	fill_sig_places(go, next.nsig_places, next.sig_places, &next.tot);

	qsort(next.drops, in.nd, sizeof(*next.drops), cmp_drop_row);
	qsort(next.sigs, in.ns, sizeof(*next.sigs), cmp_sig_row);
	agg_clear(a);
	*a = next;
	memset(&next, 0, sizeof(next));
	rc = 0;
out:
	agg_clear(&next);
	free(gd);
	free(gs);
	free(go);
	free(uf);
	return rc;
}

int nd_agg_update(struct nd_agg *a, const struct nd_drop_key *dk, const struct nd_drop_val *dv,
		  size_t nd, const struct nd_sig_key *sk, const struct nd_sig_val *sv, size_t ns)
{
	struct nd_agg_snap s = { .dk = dk, .dv = dv, .nd = nd, .sk = sk, .sv = sv, .ns = ns };

	return nd_agg_snapshot(a, &s);
}

const struct nd_drop_row *nd_agg_drops(const struct nd_agg *a, size_t *n)
{
	*n = a->ndrops;
	return a->drops;
}

const struct nd_sig_row *nd_agg_sigs(const struct nd_agg *a, size_t *n)
{
	*n = a->nsigs;
	return a->sigs;
}

const struct nd_place_row *nd_agg_places(const struct nd_agg *a, size_t *n)
{
	*n = a->nplaces;
	return a->places;
}

const struct nd_sig_place_row *nd_agg_sig_places(const struct nd_agg *a, size_t *n)
{
	*n = a->nsig_places;
	return a->sig_places;
}

const struct nd_agg_totals *nd_agg_totals(const struct nd_agg *a)
{
	return &a->tot;
}

bool nd_agg_has_flows(const struct nd_agg *a)
{
	return a->flows;
}
