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

struct nd_agg {
	struct nd_drop_row *drops;
	size_t ndrops;
	struct nd_sig_row *sigs;
	size_t nsigs;
	struct nd_place_row *places;
	size_t nplaces;
	struct prev_drop *pd;
	size_t npd;
	struct prev_sig *ps;
	size_t nps;
	struct nd_agg_totals tot;
	bool flows;
};

struct nd_agg *nd_agg_new(void)
{
	return calloc(1, sizeof(struct nd_agg));
}

void nd_agg_free(struct nd_agg *a)
{
	if (!a)
		return;
	free(a->drops);
	free(a->sigs);
	free(a->places);
	free(a->pd);
	free(a->ps);
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

static int cmp_place_qsort(const void *x, const void *y)
{
	return cmp_place_key(x, y);
}

static int cmp_place_row(const void *x, const void *y)
{
	const struct nd_place_row *a = x, *b = y;
	int c = cmp_u64_desc(a->delta, b->delta);

	if (!c)
		c = cmp_u64_desc(a->packets, b->packets);
	return c ? c : cmp_place_key(a, b);
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

int nd_agg_update(struct nd_agg *a, const struct nd_drop_key *dk, const struct nd_drop_val *dv,
		  size_t nd, const struct nd_sig_key *sk, const struct nd_sig_val *sv, size_t ns)
{
	struct nd_drop_row *drops = calloc(nd ? nd : 1, sizeof(*drops));
	struct nd_sig_row *sigs = calloc(ns ? ns : 1, sizeof(*sigs));
	struct nd_place_row *places = calloc(nd ? nd : 1, sizeof(*places));
	struct prev_drop *pd = calloc(nd ? nd : 1, sizeof(*pd));
	struct prev_sig *ps = calloc(ns ? ns : 1, sizeof(*ps));
	struct uflow_count *uf = NULL;
	struct nd_agg_totals tot = { 0 };
	size_t nuf = 0, np = 0;
	bool flows = false;

	if (!drops || !sigs || !places || !pd || !ps)
		goto nomem;

	for (size_t i = 0; i < ns; i++) {
		struct nd_sig_row *r = &sigs[i];
		uint64_t before = prev_value(a->ps, a->nps, sizeof(*a->ps), &sk[i], sizeof(sk[i]));

		r->key = sk[i];
		r->val = sv[i];
		r->delta = sv[i].count >= before ? sv[i].count - before : sv[i].count;
		if (r->key.type < ND_SIG_MAX) {
			tot.signals[r->key.type] += r->val.count;
			tot.signal_delta[r->key.type] += r->delta;
		}
		if (r->key.type == ND_SIG_RETRANS && r->key.state == 2 /* TCP_SYN_SENT */)
			tot.syn_sent_retrans += r->val.count;
		ps[i].key = sk[i];
		ps[i].count = sv[i].count;
	}
	uf = retrans_by_flow(sigs, ns, &nuf);
	if (!uf)
		goto nomem;

	for (size_t i = 0; i < nd; i++) {
		struct nd_drop_row *r = &drops[i];
		uint64_t before = prev_value(a->pd, a->npd, sizeof(*a->pd), &dk[i], sizeof(dk[i]));

		r->key = dk[i];
		r->val = dv[i];
		r->delta = dv[i].packets >= before ? dv[i].packets - before : dv[i].packets;
		r->has_flow = r->key.flow.family != 0;
		if (r->has_flow) {
			flows = true;
			r->retrans = lookup_retrans(uf, nuf, &r->key.flow);
		}
		tot.drops += r->val.packets;
		tot.drop_delta += r->delta;
		pd[i].key = dk[i];
		pd[i].packets = dv[i].packets;
	}

	/* Places: rows grouped without their flow. */
	for (size_t i = 0; i < nd; i++) {
		struct nd_place_row *p = &places[i];
		const struct nd_drop_row *r = &drops[i];

		p->location = r->key.location;
		p->reason = r->key.reason;
		p->ifindex = r->key.ifindex;
		p->netns = r->key.netns;
		p->ethertype = r->key.ethertype;
		p->l4proto = r->key.l4proto;
		p->packets = r->val.packets;
		p->bytes = r->val.bytes;
		p->delta = r->delta;
		p->first_ns = r->val.first_ns;
		p->last_ns = r->val.last_ns;
		p->flows = r->has_flow;
		p->retrans = r->retrans;
	}
	qsort(places, nd, sizeof(*places), cmp_place_qsort);
	for (size_t i = 0; i < nd; i++) {
		struct nd_place_row *w = np ? &places[np - 1] : NULL;

		if (w && !cmp_place_key(w, &places[i])) {
			w->packets += places[i].packets;
			w->bytes += places[i].bytes;
			w->delta += places[i].delta;
			w->flows += places[i].flows;
			w->retrans += places[i].retrans;
			if (places[i].first_ns < w->first_ns)
				w->first_ns = places[i].first_ns;
			if (places[i].last_ns > w->last_ns)
				w->last_ns = places[i].last_ns;
		} else {
			places[np++] = places[i];
		}
	}

	qsort(drops, nd, sizeof(*drops), cmp_drop_row);
	qsort(sigs, ns, sizeof(*sigs), cmp_sig_row);
	qsort(places, np, sizeof(*places), cmp_place_row);
	qsort(pd, nd, sizeof(*pd), cmp_prev_drop);
	qsort(ps, ns, sizeof(*ps), cmp_prev_sig);
	free(uf);

	free(a->drops);
	free(a->sigs);
	free(a->places);
	free(a->pd);
	free(a->ps);
	a->drops = drops;
	a->ndrops = nd;
	a->sigs = sigs;
	a->nsigs = ns;
	a->places = places;
	a->nplaces = np;
	a->pd = pd;
	a->npd = nd;
	a->ps = ps;
	a->nps = ns;
	a->tot = tot;
	a->flows = flows;
	return 0;
nomem:
	free(drops);
	free(sigs);
	free(places);
	free(pd);
	free(ps);
	free(uf);
	return -ENOMEM;
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

const struct nd_agg_totals *nd_agg_totals(const struct nd_agg *a)
{
	return &a->tot;
}

bool nd_agg_has_flows(const struct nd_agg *a)
{
	return a->flows;
}
