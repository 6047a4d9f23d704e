/* SPDX-License-Identifier: MIT */
/*
 * anomaly: EWMA baseline, deviation band, "a still counter starts moving"
 * and hysteresis, per series (see anomaly.h).
 */
#include "counters/anomaly.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct series {
	uint64_t key;
	double mean, var;
	uint32_t n;             /* intervals seen */
	uint32_t still;         /* intervals in a row without movement */
	uint32_t last_seen;     /* interval number of the last observation */
	uint32_t hot, cool;     /* anomalous / normal intervals in a row */
	uint32_t alarm_intervals;
	uint64_t alarm_delta;
	uint32_t episode;       /* intervals of the current zero-start episode */
	bool used, active;
};

struct nd_anom {
	struct nd_anom_cfg cfg;
	struct series *tab;
	size_t size, used;      /* slots (a power of two), series */
	uint32_t interval;
	struct nd_anom_stats st;
};

void nd_anom_cfg_default(struct nd_anom_cfg *cfg)
{
	cfg->alpha = 2.0 / (10 + 1);
	cfg->sigma = 4;
	cfg->min_rate = 1;
	cfg->min_delta = 1;
	cfg->warmup = 3;
	cfg->raise_after = 1;
	cfg->clear_after = 3;
	cfg->max_series = 1u << 20;
}

int nd_anom_cfg_check(const struct nd_anom_cfg *cfg)
{
	if (!(cfg->alpha > 0 && cfg->alpha <= 1) || !(cfg->sigma >= 0) || !(cfg->min_rate >= 0) ||
	    cfg->raise_after < 1 || cfg->clear_after < 1 || cfg->max_series < 1)
		return -EINVAL;
	return 0;
}

int nd_anom_new(const struct nd_anom_cfg *cfg, struct nd_anom **out)
{
	struct nd_anom *a;

	if (nd_anom_cfg_check(cfg) < 0)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	a->size = 1024;
	a->tab = calloc(a->size, sizeof(*a->tab));
	if (!a->tab) {
		free(a);
		return -ENOMEM;
	}
	*out = a;
	return 0;
}

void nd_anom_free(struct nd_anom *a)
{
	if (!a)
		return;
	free(a->tab);
	free(a);
}

static size_t slot_idx(const struct series *tab, size_t size, uint64_t key)
{
	size_t j = (size_t)(key ^ (key >> 29)) & (size - 1);

	while (tab[j].used && tab[j].key != key)
		j = (j + 1) & (size - 1);
	return j;
}

static struct series *slot(struct series *tab, size_t size, uint64_t key)
{
	return &tab[slot_idx(tab, size, key)];
}

/* Move every series into a table of @size slots, leaving out those not
 * observed for @forget_after intervals (0: keep all). */
static int rehash(struct nd_anom *a, size_t size, uint32_t forget_after)
{
	struct series *tab = calloc(size, sizeof(*tab));
	size_t used = 0;

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < a->size; i++) {
		struct series *s = &a->tab[i];

		if (!s->used)
			continue;
		if (forget_after && a->interval - s->last_seen > forget_after) {
			if (s->active)
				a->st.active--;
			continue;
		}
		*slot(tab, size, s->key) = *s;
		used++;
	}
	free(a->tab);
	a->tab = tab;
	a->size = size;
	a->used = used;
	return 0;
}

static struct series *find_or_add(struct nd_anom *a, uint64_t key, int *rc)
{
	struct series *s = slot(a->tab, a->size, key);

	*rc = 0;
	if (s->used)
		return s;
	if (a->used >= a->cfg.max_series) {
		a->st.skipped++;
		*rc = -ENOSPC;
		return NULL;
	}
	if ((a->used + 1) * 2 > a->size) {
		if (rehash(a, a->size * 2, 0) < 0) {
			a->st.skipped++;
			*rc = -ENOMEM;
			return NULL;
		}
		s = slot(a->tab, a->size, key);
	}
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->key = key;
	a->used++;
	return s;
}

int nd_anom_observe(struct nd_anom *a, const struct nd_anom_obs *o, struct nd_anom_result *res)
{
	const struct nd_anom_cfg *cfg = &a->cfg;
	struct series *s;
	double rate;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!(o->dt > 0))
		return -EINVAL;
	s = find_or_add(a, o->key, &rc);
	if (!s)
		return rc;
	s->last_seen = a->interval;
	rate = (double)o->delta / o->dt;
	res->rate = rate;
	res->baseline = s->mean;
	/* Counts of independent events vary at least like a Poisson count:
	 * the deviation of the rate is at least sqrt(mean / dt), which keeps
	 * a band learnt from a few quiet intervals from being too narrow. */
	res->deviation = fmax(sqrt(s->var), sqrt(fmax(s->mean, 0) / o->dt));
	res->band = s->mean + cfg->sigma * res->deviation;
	res->samples = s->n;
	res->still = s->still;

	/* A still counter that moves starts an episode, judged by this rule
	 * for at most @warmup intervals while it keeps moving; the band
	 * judges it after that. */
	if (o->delta > 0 && o->delta >= cfg->min_delta &&
	    (o->prev_value == 0 || (s->episode && s->episode < cfg->warmup) ||
	     (s->n > 0 && s->still >= cfg->warmup))) {
		res->rule = ND_ANOM_RULE_ZERO_START;
		res->was_zero = o->prev_value == 0;
		s->episode++;
	} else if (s->n >= cfg->warmup && rate > res->band && rate - s->mean >= cfg->min_rate) {
		res->rule = ND_ANOM_RULE_DEVIATION;
	}
	if (o->delta == 0 || res->rule != ND_ANOM_RULE_ZERO_START)
		s->episode = 0;

	/* The baseline learns from a normal interval with the full weight; an
	 * anomalous one moves its mean with a quarter of it and leaves the
	 * deviation alone, so a burst neither shifts nor widens the band much,
	 * while a lasting new level is taken in after a few spans. A series
	 * first seen moving from zero starts from a still baseline. */
	if (s->n == 0) {
		s->mean = res->rule == ND_ANOM_RULE_NONE ? rate : 0;
		s->var = 0;
	} else if (res->rule == ND_ANOM_RULE_NONE) {
		double d = rate - s->mean;

		s->mean += cfg->alpha * d;
		s->var = (1 - cfg->alpha) * (s->var + cfg->alpha * d * d);
	} else {
		s->mean += cfg->alpha / 4 * (rate - s->mean);
	}
	if (s->n < UINT32_MAX)
		s->n++;
	s->still = o->delta == 0 ? (s->still < UINT32_MAX ? s->still + 1 : s->still) : 0;

	if (res->rule != ND_ANOM_RULE_NONE) {
		s->hot++;
		s->cool = 0;
		if (!s->active && s->hot >= cfg->raise_after) {
			s->active = true;
			s->alarm_delta = 0;
			s->alarm_intervals = 0;
			res->event = ND_ANOM_EV_RAISED;
			a->st.raised++;
			a->st.active++;
		}
	} else {
		s->cool++;
		s->hot = 0;
		if (s->active && s->cool >= cfg->clear_after) {
			s->active = false;
			res->event = ND_ANOM_EV_CLEARED;
			a->st.cleared++;
			a->st.active--;
		}
	}
	if (s->active || res->event == ND_ANOM_EV_CLEARED) {
		s->alarm_delta += o->delta;
		s->alarm_intervals++;
	}
	res->active = s->active;
	res->alarm_delta = s->alarm_delta;
	res->alarm_intervals = s->alarm_intervals;
	return 0;
}

void nd_anom_end_interval(struct nd_anom *a, uint32_t forget_after)
{
	bool stale = false;

	if (forget_after) {
		for (size_t i = 0; i < a->size && !stale; i++)
			stale = a->tab[i].used && a->interval - a->tab[i].last_seen > forget_after;
		if (stale)
			(void)rehash(a, a->size, forget_after);   /* on ENOMEM: kept, tried again later */
	}
	a->interval++;
}

bool nd_anom_is_active(const struct nd_anom *a, uint64_t key)
{
	const struct series *s = &a->tab[slot_idx(a->tab, a->size, key)];

	return s->used && s->active;
}

void nd_anom_get_stats(const struct nd_anom *a, struct nd_anom_stats *st)
{
	*st = a->st;
	st->series = a->used;
}

const char *nd_anom_rule_name(enum nd_anom_rule r)
{
	switch (r) {
	case ND_ANOM_RULE_ZERO_START: return "zero-start";
	case ND_ANOM_RULE_DEVIATION: return "deviation";
	default: return "none";
	}
}
