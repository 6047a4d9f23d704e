/* SPDX-License-Identifier: MIT */
/*
 * correl: pair drop counters with TCP retransmission/timeout counters that
 * moved in the same intervals of a sliding window (see correl.h).
 */
#include "counters/correl.h"

#include "counters/ctr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	struct nd_corr_item *items;
	size_t n, cap;
	double dt;
	int used;
};

struct nd_corr {
	struct nd_corr_cfg cfg;
	struct slot *slots;
	uint32_t next;          /* the slot the next interval goes to */
	struct nd_corr_stats st;
};

/* A series over the window. */
struct agg {
	uint64_t key, group, total, mask;
	uint8_t cls;
};

void nd_corr_cfg_default(struct nd_corr_cfg *cfg)
{
	cfg->window = 10;
	cfg->max_items = 65536;
	cfg->top = 3;
	cfg->min_score = 0.05;
}

int nd_corr_new(const struct nd_corr_cfg *cfg, struct nd_corr **out)
{
	struct nd_corr *c;

	if (cfg->window < 1 || cfg->window > 64 || cfg->max_items < 1 || cfg->top < 1 ||
	    !(cfg->min_score > 0 && cfg->min_score <= 1))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	c->slots = calloc(cfg->window, sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void nd_corr_free(struct nd_corr *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; i < c->cfg.window; i++)
		free(c->slots[i].items);
	free(c->slots);
	free(c);
}

int nd_corr_push(struct nd_corr *c, const struct nd_corr_item *items, size_t n, double dt)
{
	struct slot *s = &c->slots[c->next];

	s->n = 0;
	s->dt = dt;
	s->used = 1;
	c->next = (c->next + 1) % c->cfg.window;
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (!items[i].delta)
			continue;
		rc = nd_grow((void **)&s->items, &s->cap, s->n, c->cfg.max_items, sizeof(*s->items), 64);
		if (rc == -ENOSPC) {
			c->st.items_skipped++;
			continue;
		}
		if (rc < 0)
			return rc;
		s->items[s->n++] = items[i];
	}
	return 0;
}

double nd_corr_window_seconds(const struct nd_corr *c)
{
	double t = 0;

	for (uint32_t i = 0; i < c->cfg.window; i++)
		if (c->slots[i].used)
			t += c->slots[i].dt;
	return t;
}

static int cmp_agg(const void *a, const void *b)
{
	const struct agg *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static int cmp_match(const void *a, const void *b)
{
	const struct nd_corr_match *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->drop_total != y->drop_total)
		return x->drop_total > y->drop_total ? -1 : 1;
	if (x->sym_key != y->sym_key)
		return x->sym_key < y->sym_key ? -1 : 1;
	return x->drop_key < y->drop_key ? -1 : x->drop_key > y->drop_key;
}

static uint32_t popcount(uint64_t v)
{
	return (uint32_t)__builtin_popcountll(v);
}

/* Every moving series of the window, once, with its total and the
 * intervals it moved in (one bit per slot). */
static struct agg *aggregate(const struct nd_corr *c, size_t *nagg, uint32_t *intervals)
{
	size_t n = 0, k = 0;
	struct agg *a;

	*intervals = 0;
	for (uint32_t i = 0; i < c->cfg.window; i++) {
		n += c->slots[i].n;
		*intervals += (uint32_t)c->slots[i].used;
	}
	a = malloc((n ? n : 1) * sizeof(*a));
	if (!a)
		return NULL;
	for (uint32_t i = 0; i < c->cfg.window; i++)
		for (size_t j = 0; j < c->slots[i].n; j++) {
			const struct nd_corr_item *it = &c->slots[i].items[j];

			a[k++] = (struct agg){ it->key, it->group, it->delta, 1ULL << i, it->cls };
		}
	qsort(a, k, sizeof(*a), cmp_agg);
	n = 0;
	for (size_t i = 0; i < k; i++) {
		if (n && a[n - 1].key == a[i].key) {
			a[n - 1].total += a[i].total;
			a[n - 1].mask |= a[i].mask;
		} else {
			a[n++] = a[i];
		}
	}
	*nagg = n;
	return a;
}

long nd_corr_matches(struct nd_corr *c, struct nd_corr_match *out, size_t cap)
{
	struct nd_corr_match *best, *all;
	struct agg *a;
	size_t na, nsym = 0, nall = 0;
	uint32_t intervals;

	a = aggregate(c, &na, &intervals);
	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < na; i++)
		nsym += a[i].cls == ND_CORR_SYMPTOM;
	best = calloc(c->cfg.top, sizeof(*best));
	all = calloc(nsym ? nsym * c->cfg.top : 1, sizeof(*all));
	if (!best || !all) {
		free(best);
		free(all);
		free(a);
		return -ENOMEM;
	}
	for (size_t i = 0; i < na; i++) {
		uint32_t nbest = 0;

		if (a[i].cls != ND_CORR_SYMPTOM)
			continue;
		for (size_t j = 0; j < na; j++) {
			struct nd_corr_match m;
			uint64_t lo, hi;
			uint32_t both, either;

			if (a[j].cls != ND_CORR_DROP)
				continue;
			both = popcount(a[i].mask & a[j].mask);
			if (!both)
				continue;
			either = popcount(a[i].mask | a[j].mask);
			lo = a[i].total < a[j].total ? a[i].total : a[j].total;
			hi = a[i].total < a[j].total ? a[j].total : a[i].total;
			memset(&m, 0, sizeof(m));
			m.sym_key = a[i].key;
			m.sym_group = a[i].group;
			m.sym_total = a[i].total;
			m.drop_key = a[j].key;
			m.drop_group = a[j].group;
			m.drop_total = a[j].total;
			m.together = both;
			m.sym_intervals = popcount(a[i].mask);
			m.drop_intervals = popcount(a[j].mask);
			m.intervals = intervals;
			m.score = (double)both / either * ((double)lo / (double)hi) *
				  (a[i].group == a[j].group ? 1.0 : 0.5);
			if (m.score < c->cfg.min_score)
				continue;
			/* Keep the @top best for this symptom (insertion into a
			 * short sorted array). */
			if (nbest == c->cfg.top && cmp_match(&m, &best[nbest - 1]) >= 0)
				continue;
			uint32_t pos = nbest < c->cfg.top ? nbest++ : nbest - 1;
			while (pos > 0 && cmp_match(&m, &best[pos - 1]) < 0) {
				best[pos] = best[pos - 1];
				pos--;
			}
			best[pos] = m;
		}
		for (uint32_t b = 0; b < nbest; b++)
			all[nall++] = best[b];
	}
	qsort(all, nall, sizeof(*all), cmp_match);
	if (nall > cap) {
		c->st.matches_dropped += nall - cap;
		nall = cap;
	}
	if (nall)
		memcpy(out, all, nall * sizeof(*out));
	free(all);
	free(best);
	free(a);
	return (long)nall;
}

void nd_corr_get_stats(const struct nd_corr *c, struct nd_corr_stats *st)
{
	*st = c->st;
}
