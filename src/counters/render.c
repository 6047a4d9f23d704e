/* SPDX-License-Identifier: MIT */
/*
 * render: text and NDJSON views of `netdx counters` (see render.h).
 *
 * A snapshot of a host with many namespaces is tens of thousands of
 * lines, so each JSON line is built in one buffer and written with one
 * call (strings escaped per RFC 8259, as report/json.c does on a stream,
 * which costs a library call per character).
 */
#include "counters/render.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- one JSON line ------------------------------------------------------------ */

/* Large enough for the longest line made here (a correlation: two
 * counters' names and a text, each character escaped at most 6-fold). */
#define JL_SIZE 16384

struct jl {
	char b[JL_SIZE];
	size_t n;
	bool comma;             /* a value came before: the next key needs ',' */
};

static void jl_raw(struct jl *l, const char *s, size_t n)
{
	if (n > sizeof(l->b) - 1 - l->n)
		n = sizeof(l->b) - 1 - l->n;    /* cannot happen with the bounds above */
	memcpy(l->b + l->n, s, n);
	l->n += n;
}

static void jl_put_str(struct jl *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	jl_raw(l, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char e[6] = { '\\', 0, '0', '0', 0, 0 };
		size_t run = 0;

		while (p[run] >= 0x20 && p[run] != '"' && p[run] != '\\')
			run++;
		if (run) {      /* the common case: nothing to escape */
			jl_raw(l, (const char *)p, run);
			p += run - 1;
			continue;
		}
		switch (*p) {
		case '"': e[1] = '"'; jl_raw(l, e, 2); break;
		case '\\': e[1] = '\\'; jl_raw(l, e, 2); break;
		case '\n': e[1] = 'n'; jl_raw(l, e, 2); break;
		case '\r': e[1] = 'r'; jl_raw(l, e, 2); break;
		case '\t': e[1] = 't'; jl_raw(l, e, 2); break;
		default:
			e[1] = 'u';
			e[4] = hex[*p >> 4];
			e[5] = hex[*p & 15];
			jl_raw(l, e, 6);
		}
	}
	jl_raw(l, "\"", 1);
}

static void jl_key(struct jl *l, const char *k)
{
	if (l->comma)
		jl_raw(l, ",", 1);
	jl_put_str(l, k);
	jl_raw(l, ":", 1);
	l->comma = true;
}

static void jl_fmt(struct jl *l, const char *k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void jl_fmt(struct jl *l, const char *k, const char *fmt, ...)
{
	char v[64];
	va_list ap;
	int n;

	jl_key(l, k);
	va_start(ap, fmt);
	n = vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	jl_raw(l, v, n < 0 ? 0 : (size_t)n < sizeof(v) ? (size_t)n : sizeof(v) - 1);
}

static void jl_str(struct jl *l, const char *k, const char *v)
{
	jl_key(l, k);
	if (v)
		jl_put_str(l, v);
	else
		jl_raw(l, "null", 4);
}

static void jl_u64(struct jl *l, const char *k, uint64_t v)
{
	jl_fmt(l, k, "%" PRIu64, v);
}

static void jl_i64(struct jl *l, const char *k, int64_t v)
{
	jl_fmt(l, k, "%" PRId64, v);
}

static void jl_bool(struct jl *l, const char *k, bool v)
{
	jl_fmt(l, k, "%s", v ? "true" : "false");
}

static void jl_dbl(struct jl *l, const char *k, double v, int decimals)
{
	if (isfinite(v))
		jl_fmt(l, k, "%.*f", decimals, v);
	else
		jl_fmt(l, k, "null");
}

static void jl_obj(struct jl *l, const char *k)
{
	jl_key(l, k);
	jl_raw(l, "{", 1);
	l->comma = false;
}

static void jl_end(struct jl *l)
{
	jl_raw(l, "}", 1);
	l->comma = true;
}

/* A new line: {"type":TYPE */
static void jl_start(struct jl *l, const char *type)
{
	l->n = 0;
	l->comma = false;
	jl_raw(l, "{", 1);
	jl_str(l, "type", type);
}

static void jl_write(struct jl *l, FILE *f)
{
	jl_raw(l, "}\n", 2);
	fwrite(l->b, 1, l->n, f);
}

void nd_view_init(struct nd_view *v, FILE *f, bool json)
{
	v->f = f;
	v->json = json;
}

void nd_view_meta(struct nd_view *v, const char *version, const char *command, const char *const *kv)
{
	struct jl l;

	if (!v->json)
		return;
	jl_start(&l, "meta");
	jl_u64(&l, "schema", ND_COUNTERS_SCHEMA);
	jl_str(&l, "tool", "netdx");
	jl_str(&l, "version", version);
	jl_str(&l, "command", command);
	if (kv) {
		jl_obj(&l, "config");
		for (; kv[0]; kv += 2)
			jl_str(&l, kv[0], kv[1]);
		jl_end(&l);
	}
	jl_write(&l, v->f);
}

static const char *ns_name(const struct nd_snap *s, const struct nd_ctr *c)
{
	return c->ns < s->nns ? s->ns[c->ns].name : "?";
}

void nd_describe(const struct nd_snap *s, const struct nd_ctr *c, char *buf, size_t len)
{
	char h[16];

	switch (c->src) {
	case ND_CSRC_LINK:
		snprintf(buf, len, "%s on dev %s in ns %s", c->name, c->dev, ns_name(s, c));
		break;
	case ND_CSRC_ETHTOOL:
		snprintf(buf, len, "ethtool %s on dev %s in ns %s", c->name, c->dev, ns_name(s, c));
		break;
	case ND_CSRC_QDISC:
		snprintf(buf, len, "qdisc %s %s %s on dev %s in ns %s", c->kind,
			 nd_qdisc_handle_fmt(c->handle, false, h, sizeof(h)), c->name, c->dev, ns_name(s, c));
		break;
	case ND_CSRC_SOFTNET:
		snprintf(buf, len, "softnet %s on cpu %u", c->name, c->handle);
		break;
	case ND_CSRC_CONNTRACK:
		snprintf(buf, len, "conntrack %s in ns %s", c->name, ns_name(s, c));
		break;
	default:
		snprintf(buf, len, "%s in ns %s", c->name, ns_name(s, c));
		break;
	}
}

/* The fields naming a counter. */
static void jl_ctr(struct jl *l, const struct nd_snap *s, const struct nd_ctr *c)
{
	char h[16];

	jl_str(l, "netns", ns_name(s, c));
	jl_str(l, "source", nd_ctr_src_name((enum nd_ctr_src)c->src));
	if (c->dev[0])
		jl_str(l, "device", c->dev);
	if (c->src == ND_CSRC_QDISC) {
		jl_str(l, "qdisc", c->kind);
		jl_str(l, "handle", nd_qdisc_handle_fmt(c->handle, false, h, sizeof(h)));
		jl_str(l, "parent", nd_qdisc_handle_fmt(c->parent, true, h, sizeof(h)));
	}
	if (c->src == ND_CSRC_SOFTNET)
		jl_u64(l, "cpu", c->handle);
	jl_str(l, "name", c->name);
	if (c->gauge)
		jl_bool(l, "gauge", true);
}

static void jl_value(struct jl *l, const char *key, const struct nd_ctr *c)
{
	if (c->gauge)
		jl_i64(l, key, (int64_t)c->value);
	else
		jl_u64(l, key, c->value);
}

/* The counter column of the text table: the name, and a qdisc's identity. */
static void text_name(const struct nd_ctr *c, char *buf, size_t len)
{
	char h[16], p[16];

	if (c->src == ND_CSRC_QDISC)
		snprintf(buf, len, "%s [%s %s parent %s]", c->name, c->kind,
			 nd_qdisc_handle_fmt(c->handle, false, h, sizeof(h)),
			 nd_qdisc_handle_fmt(c->parent, true, p, sizeof(p)));
	else if (c->src == ND_CSRC_SOFTNET)
		snprintf(buf, len, "%s [cpu %u]", c->name, c->handle);
	else
		snprintf(buf, len, "%s", c->name);
}

static void text_row_head(FILE *f, const struct nd_snap *s, const struct nd_ctr *c)
{
	char name[ND_CTR_NAME_LEN + 48];

	text_name(c, name, sizeof(name));
	fprintf(f, "%-20s %-9s %-15s %-34s", ns_name(s, c), nd_ctr_src_name((enum nd_ctr_src)c->src),
		c->dev[0] ? c->dev : "-", name);
}

void nd_view_snapshot(struct nd_view *v, const struct nd_snap *s, bool nonzero)
{
	struct jl l;

	if (v->json) {
		for (uint32_t i = 0; i < s->nns; i++) {
			jl_start(&l, "netns");
			jl_str(&l, "name", s->ns[i].name);
			jl_u64(&l, "inode", s->ns[i].ino);
			jl_i64(&l, "pid", s->ns[i].pid);
			jl_bool(&l, "named", s->ns[i].named);
			jl_write(&l, v->f);
		}
		for (size_t i = 0; i < s->n; i++) {
			const struct nd_ctr *c = &s->c[i];

			if (nonzero && !c->value)
				continue;
			jl_start(&l, "counter");
			jl_ctr(&l, s, c);
			jl_value(&l, "value", c);
			jl_write(&l, v->f);
		}
		return;
	}
	fprintf(v->f, "%-20s %-9s %-15s %-34s %20s\n", "NETNS", "SOURCE", "DEVICE", "COUNTER", "VALUE");
	for (size_t i = 0; i < s->n; i++) {
		const struct nd_ctr *c = &s->c[i];

		if (nonzero && !c->value)
			continue;
		text_row_head(v->f, s, c);
		if (c->gauge)
			fprintf(v->f, " %20" PRId64 "\n", (int64_t)c->value);
		else
			fprintf(v->f, " %20" PRIu64 "\n", c->value);
	}
}

struct order {
	const struct nd_snap *s;
	const struct nd_diff *d;
};

/* Drops and errors first (what watch is for), then the largest changes. */
static int cmp_delta(const void *a, const void *b, void *arg)
{
	const struct order *o = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	bool pi = nd_ctr_is_problem(&o->s->c[o->d->rows[i].cur]), pj = nd_ctr_is_problem(&o->s->c[o->d->rows[j].cur]);
	int64_t x = llabs(o->d->rows[i].delta), y = llabs(o->d->rows[j].delta);

	if (pi != pj)
		return pi ? -1 : 1;
	if (x != y)
		return x > y ? -1 : 1;
	return i < j ? -1 : i > j;
}

void nd_view_interval(struct nd_view *v, uint64_t seq, double t, const struct nd_snap *s,
		      const struct nd_diff *d, bool all, size_t top, bool clear)
{
	size_t *idx = malloc((d->n ? d->n : 1) * sizeof(*idx)), k = 0;
	struct jl l;

	if (!idx)
		return;
	for (size_t i = 0; i < d->n; i++)
		if (all || d->rows[i].delta != 0)
			idx[k++] = i;
	if (top) {
		struct order o = { s, d };

		qsort_r(idx, k, sizeof(*idx), cmp_delta, &o);
	}
	if (v->json) {
		jl_start(&l, "interval");
		jl_u64(&l, "seq", seq);
		jl_dbl(&l, "t", t, 3);
		jl_dbl(&l, "dt", d->dt, 3);
		jl_u64(&l, "namespaces", s->nns);
		jl_u64(&l, "counters", s->n);
		jl_u64(&l, "moving", k);
		jl_u64(&l, "vanished", d->vanished);
		jl_write(&l, v->f);
	} else {
		if (clear)
			fputs("\033[H\033[2J", v->f);
		fprintf(v->f, "interval %" PRIu64 " at %.1f s: %.2f s, %u namespaces, %zu counters, %zu %s\n",
			seq, t, d->dt, s->nns, s->n, k, all ? "shown" : "moving");
		if (k)
			fprintf(v->f, "%-20s %-9s %-15s %-34s %12s %12s\n", "NETNS", "SOURCE", "DEVICE",
				"COUNTER", "DELTA", "RATE/s");
	}
	for (size_t r = 0; r < k && (!top || r < top); r++) {
		const struct nd_diff_row *dr = &d->rows[idx[r]];
		const struct nd_ctr *c = &s->c[dr->cur];
		double rate = d->dt > 0 ? (double)dr->delta / d->dt : 0;

		if (v->json) {
			jl_start(&l, "delta");
			jl_u64(&l, "seq", seq);
			jl_ctr(&l, s, c);
			jl_i64(&l, "delta", dr->delta);
			jl_dbl(&l, "rate", rate, 3);
			jl_value(&l, "value", c);
			if (dr->reset)
				jl_bool(&l, "reset", true);
			if (dr->is_new)
				jl_bool(&l, "new", true);
			jl_write(&l, v->f);
		} else {
			text_row_head(v->f, s, c);
			fprintf(v->f, " %12" PRId64 " %12.1f%s\n", dr->delta, rate, dr->reset ? " (reset)" : "");
		}
	}
	if (!v->json && top && k > top)
		fprintf(v->f, "... and %zu more moving\n", k - top);
	free(idx);
}

void nd_view_anomaly(struct nd_view *v, uint64_t seq, double t, const struct nd_snap *s,
		     const struct nd_diff_row *dr, const struct nd_anom_result *r)
{
	const struct nd_ctr *c = &s->c[dr->cur];
	char what[256], ev[320];
	bool raised = r->event == ND_ANOM_EV_RAISED;
	struct jl l;

	nd_describe(s, c, what, sizeof(what));
	if (!raised)
		snprintf(ev, sizeof(ev), "%s: quiet again after %u intervals, +%" PRIu64 " in all", what,
			 r->alarm_intervals, r->alarm_delta);
	else if (r->rule == ND_ANOM_RULE_ZERO_START && r->was_zero)
		snprintf(ev, sizeof(ev), "%s: +%" PRId64 " (%.1f/s); it was 0 before", what, dr->delta,
			 r->rate);
	else if (r->rule == ND_ANOM_RULE_ZERO_START)
		snprintf(ev, sizeof(ev), "%s: +%" PRId64 " (%.1f/s); it had not moved for %u intervals",
			 what, dr->delta, r->rate, r->still);
	else
		snprintf(ev, sizeof(ev), "%s: %.1f/s (+%" PRId64 ") vs baseline %.1f/s +- %.1f (band %.1f/s)",
			 what, r->rate, dr->delta, r->baseline, r->deviation, r->band);
	if (!v->json) {
		if (raised)
			fprintf(v->f, "ANOMALY %s: %s\n", nd_anom_rule_name(r->rule), ev);
		else
			fprintf(v->f, "cleared: %s\n", ev);
		return;
	}
	jl_start(&l, "anomaly");
	jl_u64(&l, "seq", seq);
	jl_dbl(&l, "t", t, 3);
	jl_str(&l, "event", raised ? "raised" : "cleared");
	jl_str(&l, "rule", raised ? nd_anom_rule_name(r->rule) : NULL);
	jl_ctr(&l, s, c);
	jl_i64(&l, "delta", dr->delta);
	jl_dbl(&l, "rate", r->rate, 3);
	jl_u64(&l, "prev_value", dr->prev_value);
	jl_dbl(&l, "baseline", r->baseline, 3);
	jl_dbl(&l, "deviation", r->deviation, 3);
	jl_dbl(&l, "band", r->band, 3);
	jl_u64(&l, "samples", r->samples);
	jl_u64(&l, "still_intervals", r->still);
	jl_u64(&l, "alarm_delta", r->alarm_delta);
	jl_u64(&l, "alarm_intervals", r->alarm_intervals);
	jl_str(&l, "evidence", ev);
	jl_write(&l, v->f);
}

/* The counter with @key in @s, or NULL. */
static const struct nd_ctr *by_key(const struct nd_snap *s, const struct nd_key_index *ix, uint64_t key)
{
	long r = nd_key_index_find(ix, key);

	return r < 0 ? NULL : &s->c[r];
}

/* One side of a pair: the counter's fields, its increase and intervals. */
static void jl_side(struct jl *l, const char *key, const struct nd_snap *s, const struct nd_ctr *c,
		    uint64_t total, uint32_t intervals)
{
	jl_obj(l, key);
	if (c)
		jl_ctr(l, s, c);
	jl_u64(l, "delta", total);
	jl_u64(l, "intervals", intervals);
	jl_end(l);
}

void nd_view_correlation(struct nd_view *v, uint64_t seq, double t, const struct nd_snap *s,
			 const struct nd_key_index *ix, const struct nd_corr_match *m, size_t n,
			 double window_s)
{
	if (!v->json && n)
		fprintf(v->f, "moved together (window %.1f s):\n", window_s);
	for (size_t i = 0; i < n; i++) {
		const struct nd_ctr *dc = by_key(s, ix, m[i].drop_key), *sc = by_key(s, ix, m[i].sym_key);
		char dd[256], sd[256], text[600];
		struct jl l;

		if (dc)
			nd_describe(s, dc, dd, sizeof(dd));
		else
			snprintf(dd, sizeof(dd), "a counter no longer there");
		if (sc)
			nd_describe(s, sc, sd, sizeof(sd));
		else
			snprintf(sd, sizeof(sd), "a counter no longer there");
		snprintf(text, sizeof(text), "%s: %" PRIu64 "; %s: %" PRIu64, dd, m[i].drop_total, sd,
			 m[i].sym_total);
		if (!v->json) {
			fprintf(v->f, "  %s (together in %u of %u intervals, score %.2f)\n", text, m[i].together,
				m[i].intervals, m[i].score);
			continue;
		}
		jl_start(&l, "correlation");
		jl_u64(&l, "seq", seq);
		jl_dbl(&l, "t", t, 3);
		jl_dbl(&l, "window_s", window_s, 3);
		jl_side(&l, "drop", s, dc, m[i].drop_total, m[i].drop_intervals);
		jl_side(&l, "symptom", s, sc, m[i].sym_total, m[i].sym_intervals);
		jl_u64(&l, "together", m[i].together);
		jl_u64(&l, "intervals", m[i].intervals);
		jl_dbl(&l, "score", m[i].score, 3);
		jl_str(&l, "text", text);
		jl_write(&l, v->f);
	}
}

void nd_view_summary(struct nd_view *v, const struct nd_snap *s, const struct nd_anom_stats *as,
		     const struct nd_corr_stats *cs, uint64_t intervals)
{
	const struct nd_snap_stats *st = &s->st;
	struct jl l;

	if (!v->json) {
		fprintf(v->f, "summary: %u namespaces read of %u found (%u filtered out, %u vanished, "
			"%u denied, %u over the cap, %u unusable; %u processes unreadable), %zu counters "
			"(%" PRIu64 " skipped at the cap), read in %.1f ms",
			st->netns_collected, st->netns_found, st->netns_filtered, st->netns_vanished,
			st->netns_denied, st->netns_over_cap, st->netns_unusable, st->pids_unreadable,
			s->n, st->counters_skipped, (double)st->elapsed_ns / 1e6);
		for (int i = 0; i < ND_CSRC_N; i++)
			if (st->src_errors[i])
				fprintf(v->f, "; %s failed %u times (%s)", nd_ctr_src_name((enum nd_ctr_src)i),
					st->src_errors[i], strerror(-st->src_errno[i]));
		if (as)
			fprintf(v->f, "; %" PRIu64 " alarms raised, %zu active, %" PRIu64
				" observations beyond the series cap", as->raised, as->active, as->skipped);
		fputc('\n', v->f);
		return;
	}
	jl_start(&l, "summary");
	jl_u64(&l, "intervals", intervals);
	jl_obj(&l, "netns");
	jl_u64(&l, "found", st->netns_found);
	jl_u64(&l, "collected", st->netns_collected);
	jl_u64(&l, "filtered", st->netns_filtered);
	jl_u64(&l, "vanished", st->netns_vanished);
	jl_u64(&l, "denied", st->netns_denied);
	jl_u64(&l, "over_cap", st->netns_over_cap);
	jl_u64(&l, "unusable", st->netns_unusable);
	jl_end(&l);
	jl_u64(&l, "pids_unreadable", st->pids_unreadable);
	jl_u64(&l, "counters", s->n);
	jl_u64(&l, "counters_skipped", st->counters_skipped);
	jl_obj(&l, "source_errors");
	for (int i = 0; i < ND_CSRC_N; i++)
		jl_u64(&l, nd_ctr_src_name((enum nd_ctr_src)i), st->src_errors[i]);
	jl_end(&l);
	jl_dbl(&l, "elapsed_ms", (double)st->elapsed_ns / 1e6, 3);
	if (as) {
		jl_obj(&l, "anomaly");
		jl_u64(&l, "series", as->series);
		jl_u64(&l, "raised", as->raised);
		jl_u64(&l, "cleared", as->cleared);
		jl_u64(&l, "active", as->active);
		jl_u64(&l, "skipped", as->skipped);
		jl_end(&l);
	}
	if (cs) {
		jl_obj(&l, "correlation");
		jl_u64(&l, "items_skipped", cs->items_skipped);
		jl_u64(&l, "matches_dropped", cs->matches_dropped);
		jl_end(&l);
	}
	jl_write(&l, v->f);
}
