/* SPDX-License-Identifier: MIT */
/*
 * netdx counters: every drop and error counter of the host and of each of
 * its network namespaces, with deltas, anomalies, correlation with TCP
 * retransmissions, and a Prometheus endpoint.
 *
 *   netdx counters snapshot [filters] [--json]
 *   netdx counters delta [--interval S] [--count N] [filters] [--json]
 *   netdx counters watch [--interval S] [--duration S] [--top N] [filters] [--json]
 *   netdx counters serve --listen ADDR:PORT [filters]
 *
 * The collector is src/counters/collect.c; the detector, the correlation
 * and the Prometheus renderer are pure engines beside it; this file parses
 * options, runs the loop and makes the text.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "counters/anomaly.h"
#include "counters/collect.h"
#include "counters/correl.h"
#include "counters/ctr.h"
#include "counters/http.h"
#include "counters/prom.h"
#include "counters/render.h"
#include "netdx_version.h"

enum verb { V_SNAPSHOT = 1, V_DELTA = 2, V_WATCH = 4, V_SERVE = 8 };

struct ctr_cfg {
	const char *netns, *device, *counter;
	const char *listen;
	const char *anomaly_counters, *sigma, *min_rate;
	double interval, duration, window;
	uint64_t count, top, max_netns, max_counters;
	uint64_t baseline, warmup, raise, clear, min_delta;
	bool json, all, nonzero, no_ethtool, no_proc_walk, no_anomaly, no_correlation;
	bool print_config;
};

#define OFF(f) offsetof(struct ctr_cfg, f)
#define ALL_V (V_SNAPSHOT | V_DELTA | V_WATCH | V_SERVE)
#define LOOP_V (V_DELTA | V_WATCH)

static const struct nd_opt ctr_opts[] = {
	{ "netns", 0, ND_OPT_STRING, OFF(netns), "GLOBS", "namespaces by name, comma-separated globs: host, a /run/netns name, pid:N (default: all)", 0, 0 },
	{ "device", 0, ND_OPT_STRING, OFF(device), "GLOBS", "interfaces (link, ethtool, qdisc rows); protocol counters stay", 0, 0 },
	{ "counter", 0, ND_OPT_STRING, OFF(counter), "GLOBS", "counter names, also as SOURCE:NAME ('*drop*', 'Tcp.Retrans*', 'qdisc:drops')", 0, 0 },
	{ "json", 0, ND_OPT_FLAG, OFF(json), NULL, "NDJSON: a meta line, then one object per line, each with \"type\"", 0, 0 },
	{ "nonzero", 0, ND_OPT_FLAG, OFF(nonzero), NULL, "snapshot: leave out counters that are 0", 0, 0 },
	{ "interval", 'i', ND_OPT_SECONDS, OFF(interval), "S", "delta, watch: seconds between readings (default 1)", 0.05, 3600 },
	{ "count", 'c', ND_OPT_U64, OFF(count), "N", "delta, watch: stop after N intervals (delta default 1)", 1, 1e9 },
	{ "duration", 'd', ND_OPT_SECONDS, OFF(duration), "S", "watch, serve: stop after S seconds (default: until SIGINT)", 0.05, 31536000 },
	{ "all", 0, ND_OPT_FLAG, OFF(all), NULL, "delta, watch: also counters that did not move", 0, 0 },
	{ "top", 0, ND_OPT_U64, OFF(top), "N", "watch: rows per interval, drops and errors first, then the largest changes (default 30)", 1, 1e6 },
	{ "listen", 'l', ND_OPT_STRING, OFF(listen), "ADDR:PORT", "serve: where to serve /metrics, e.g. 127.0.0.1:9469, [::1]:9469, :9469", 0, 0 },
	{ "no-ethtool", 0, ND_OPT_FLAG, OFF(no_ethtool), NULL, "skip ethtool driver statistics", 0, 0 },
	{ "no-proc-walk", 0, ND_OPT_FLAG, OFF(no_proc_walk), NULL, "only the host and /run/netns, not namespaces held by processes", 0, 0 },
	{ "max-netns", 0, ND_OPT_U64, OFF(max_netns), "N", "namespaces read at most (default 4096; the rest counted)", 1, 1e6 },
	{ "max-counters", 0, ND_OPT_U64, OFF(max_counters), "N", "counters kept at most (default 1M; the rest counted)", 1000, 1e8 },
	{ "no-anomaly", 0, ND_OPT_FLAG, OFF(no_anomaly), NULL, "delta, watch: no anomaly detection", 0, 0 },
	{ "anomaly-counters", 0, ND_OPT_STRING, OFF(anomaly_counters), "GLOBS", "counters the detector watches (default: drop, error, retransmission and timeout counters)", 0, 0 },
	{ "baseline", 0, ND_OPT_U64, OFF(baseline), "N", "EWMA span of the baseline in intervals: weight 2/(N+1) (default 10)", 1, 10000 },
	{ "sigma", 0, ND_OPT_STRING, OFF(sigma), "K", "deviation band: baseline + K standard deviations (default 4)", 0, 0 },
	{ "min-rate", 0, ND_OPT_STRING, OFF(min_rate), "R", "a deviation is also at least R per second above the baseline (default 1)", 0, 0 },
	{ "min-delta", 0, ND_OPT_U64, OFF(min_delta), "N", "a still counter must rise by N in an interval to be flagged (default 1)", 1, 1e18 },
	{ "warmup", 0, ND_OPT_U64, OFF(warmup), "N", "intervals before the band applies; still intervals before zero-start (default 3)", 1, 10000 },
	{ "raise", 0, ND_OPT_U64, OFF(raise), "N", "anomalous intervals in a row to raise an alarm (default 1)", 1, 1000 },
	{ "clear", 0, ND_OPT_U64, OFF(clear), "N", "normal intervals in a row to clear it (default 3)", 1, 1000 },
	{ "window", 0, ND_OPT_SECONDS, OFF(window), "S", "correlation window (default: watch 10 s, delta all its intervals; at most 64 intervals)", 0.05, 86400 },
	{ "no-correlation", 0, ND_OPT_FLAG, OFF(no_correlation), NULL, "delta, watch: no correlation", 0, 0 },
	{ "print-config", 0, ND_OPT_FLAG, OFF(print_config), NULL, "print the effective options to stderr first", 0, 0 },
	ND_OPT_END
};

/* Which verbs each option applies to, in the order of ctr_opts. */
static const unsigned opt_verbs[] = {
	ALL_V, ALL_V, ALL_V, V_SNAPSHOT | LOOP_V, V_SNAPSHOT,
	LOOP_V, LOOP_V, V_WATCH | V_SERVE, LOOP_V, V_WATCH, V_SERVE,
	ALL_V, ALL_V, ALL_V, ALL_V,
	LOOP_V, LOOP_V, LOOP_V, LOOP_V, LOOP_V, LOOP_V, LOOP_V, LOOP_V, LOOP_V, LOOP_V, LOOP_V,
	ALL_V,
};

void cmd_counters_usage(FILE *f)
{
	fprintf(f,
		"usage: netdx counters snapshot [filters] [--json] [--nonzero]\n"
		"       netdx counters delta [--interval S] [--count N] [filters] [--json] [--all]\n"
		"       netdx counters watch [--interval S] [--duration S] [--top N] [filters] [--json]\n"
		"       netdx counters serve --listen ADDR:PORT [filters] [--duration S]\n"
		"       (netdx counters --listen ADDR:PORT is serve)\n\n"
		"Every drop and error counter of the host and of each network namespace (the\n"
		"host's, those in /run/netns, and those only processes hold, named pid:N), read\n"
		"in one pass: interface statistics (rtnetlink IFLA_STATS64, carrier changes),\n"
		"ethtool driver statistics, qdisc statistics (drops, overlimits, requeues,\n"
		"backlog), /proc/net/snmp, netstat and snmp6 (all of them: RetransSegs,\n"
		"TCPTimeouts, TCPSynRetrans, ListenOverflows, ListenDrops, InErrors, ...),\n"
		"/proc/net/softnet_stat per CPU, and nf_conntrack count, max and its stat\n"
		"counters (drop, early_drop, insert_failed).\n\n"
		"  snapshot  every counter now\n"
		"  delta     what moved in --interval S (N times with --count N)\n"
		"  watch     a refreshing table of what is moving (zero counters hidden), drop\n"
		"            and error counters first, with the alarms that are up and what\n"
		"            moved together\n"
		"  serve     the same counters at http://ADDR:PORT/metrics in the Prometheus text\n"
		"            format, read afresh on each scrape (libmicrohttpd)\n\n"
		"Anomalies (delta, watch): each drop, error, retransmission and timeout counter's\n"
		"rate is held against its own EWMA baseline and deviation band; a still counter\n"
		"that starts moving is flagged at once (zero-start), one above its band after\n"
		"the warm-up (deviation). An alarm is raised once and cleared after --clear quiet\n"
		"intervals: no alarm storms. Correlation: within the window, the drop counters\n"
		"that moved in the same intervals as TCP retransmission and timeout counters, by\n"
		"namespace, e.g. 'qdisc tbf 8001: drops on dev va in ns a: 152; Tcp.RetransSegs\n"
		"in ns a: 150'.\n\n"
		"options:\n");
	nd_opt_help(f, ctr_opts);
	fprintf(f,
		"\nexamples:\n"
		"  netdx counters snapshot --nonzero                  everything that is not 0\n"
		"  netdx counters snapshot --netns 'ci-*' --counter '*drop*' --json\n"
		"  netdx counters delta --interval 5                  what moved in 5 s\n"
		"  netdx counters delta -i 1 -c 30 --json > d.ndjson  30 one-second deltas\n"
		"  netdx counters watch --device 'eth*,macvtap*'      live, with alarms\n"
		"  netdx counters watch --sigma 6 --clear 10 --counter 'Tcp*,*drop*'\n"
		"  netdx counters serve --listen 127.0.0.1:9469       then scrape /metrics\n"
		"\nexit codes: 0 ok (also when ended by SIGINT); 1 the counters could not be read,\n"
		"or --listen could not bind; 2 usage; 4 missing privilege: entering other\n"
		"namespaces needs CAP_SYS_ADMIN (setns), seeing other users' processes'\n"
		"namespaces CAP_SYS_PTRACE: what could be read is reported all the same.\n");
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	stop_flag = sig;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleep until @deadline (CLOCK_MONOTONIC ns) or a signal. */
static void sleep_until(uint64_t deadline)
{
	struct timespec ts = { (time_t)(deadline / 1000000000u), (long)(deadline % 1000000000u) };

	while (!stop_flag && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int parse_number(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	if (!s)
		return 0;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
		fprintf(stderr, "netdx counters: --%s wants a number from %g to %g, not '%s'\n", opt, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* Is option @o set in @cfg (every option is 0/NULL/false until given)? */
static bool given(const struct nd_opt *o, const struct ctr_cfg *cfg)
{
	const char *field = (const char *)cfg + o->offset;

	switch (o->type) {
	case ND_OPT_FLAG: return *(const bool *)field;
	case ND_OPT_STRING: return *(const char *const *)field != NULL;
	case ND_OPT_SECONDS: return *(const double *)field != 0;
	default: return *(const uint64_t *)field != 0;
	}
}

static const char *verb_name(enum verb v)
{
	switch (v) {
	case V_SNAPSHOT: return "snapshot";
	case V_DELTA: return "delta";
	case V_WATCH: return "watch";
	default: return "serve";
	}
}

/* Options that do not apply to @v, and bad lists: one message, -1. */
static int check_cfg(enum verb v, const struct ctr_cfg *cfg)
{
	static const struct { const char *name; size_t off; } lists[] = {
		{ "netns", OFF(netns) }, { "device", OFF(device) }, { "counter", OFF(counter) },
		{ "anomaly-counters", OFF(anomaly_counters) },
	};

	for (size_t i = 0; ctr_opts[i].name; i++) {
		if (!given(&ctr_opts[i], cfg) || (opt_verbs[i] & v))
			continue;
		fprintf(stderr, "netdx counters %s: --%s does not apply to %s (see 'netdx help counters')\n",
			verb_name(v), ctr_opts[i].name, verb_name(v));
		return -1;
	}
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		const char *l = *(const char *const *)((const char *)cfg + lists[i].off);

		if (nd_glob_list_check(l) < 0) {
			fprintf(stderr, "netdx counters: --%s wants a comma-separated list of names or globs "
					"(no empty element), not '%s'\n", lists[i].name, l);
			return -1;
		}
	}
	if (v == V_SERVE && !cfg->listen) {
		fprintf(stderr, "netdx counters serve: give --listen ADDR:PORT, e.g. --listen 127.0.0.1:9469\n");
		return -1;
	}
	if (cfg->json && v == V_WATCH && cfg->top) {
		fprintf(stderr, "netdx counters watch: --top is for the table; --json gives every moving counter\n");
		return -1;
	}
	return 0;
}

static void apply_defaults(enum verb v, struct ctr_cfg *cfg)
{
	if (!cfg->interval)
		cfg->interval = 1;
	if (!cfg->count && v == V_DELTA)
		cfg->count = 1;
	if (!cfg->top && v == V_WATCH && !cfg->json)
		cfg->top = 30;
	if (!cfg->max_netns)
		cfg->max_netns = 4096;
	if (!cfg->max_counters)
		cfg->max_counters = 1000000;
	if (!cfg->baseline)
		cfg->baseline = 10;
	if (!cfg->warmup)
		cfg->warmup = 3;
	if (!cfg->raise)
		cfg->raise = 1;
	if (!cfg->clear)
		cfg->clear = 3;
	if (!cfg->min_delta)
		cfg->min_delta = 1;
	/* Not given: 10 s for watch, every interval of delta; at most the 64
	 * intervals the correlation keeps either way. */
	if (!cfg->window) {
		double n = v == V_WATCH ? 10 / cfg->interval : (double)(cfg->count ? cfg->count : 1);

		cfg->window = cfg->interval * (n < 64 ? n : 64);
	}
}

/* Exit code and messages for what a reading could not see. */
static int privilege_check(const struct nd_snap_stats *st, bool *warned)
{
	int rc = ND_EXIT_OK;

	if (st->netns_denied) {
		if (!*warned)
			fprintf(stderr, "netdx counters: %u namespaces could not be entered: setns needs "
					"CAP_SYS_ADMIN (run as root); the report covers the rest\n", st->netns_denied);
		rc = ND_EXIT_PERM;
	}
	if (st->pids_unreadable && geteuid() != 0) {
		if (!*warned)
			fprintf(stderr, "netdx counters: the namespaces of %u processes were not seen: reading "
					"/proc/PID/ns/net of other users needs CAP_SYS_PTRACE\n", st->pids_unreadable);
		rc = ND_EXIT_PERM;
	}
	if (rc)
		*warned = true;
	return rc;
}

static int coll_error(int rc)
{
	if (rc == -ENOTRECOVERABLE)
		fprintf(stderr, "netdx counters: could not return to its own network namespace after "
				"reading another; stopping\n");
	else
		fprintf(stderr, "netdx counters: reading the counters failed: %s\n", strerror(-rc));
	return ND_EXIT_INPUT;
}

static int open_collector(const struct ctr_cfg *cfg, struct nd_coll **co)
{
	struct nd_coll_cfg cc = {
		.filter = { cfg->netns, cfg->device, cfg->counter },
		.no_ethtool = cfg->no_ethtool,
		.no_proc_walk = cfg->no_proc_walk,
	};
	int rc = nd_coll_new(&cc, co);

	if (rc < 0)
		fprintf(stderr, "netdx counters: cannot open its own network namespace: %s\n", strerror(-rc));
	return rc;
}

static void meta(struct nd_view *v, enum verb verb, const struct ctr_cfg *cfg)
{
	char cmd[32], iv[32], win[32];
	const char *kv[] = {
		"netns", cfg->netns ? cfg->netns : "*",
		"device", cfg->device ? cfg->device : "*",
		"counter", cfg->counter ? cfg->counter : "*",
		"interval_s", iv,
		"window_s", win,
		NULL,
	};

	snprintf(cmd, sizeof(cmd), "counters %s", verb_name(verb));
	snprintf(iv, sizeof(iv), "%g", verb == V_SNAPSHOT ? 0 : cfg->interval);
	snprintf(win, sizeof(win), "%g", verb == V_SNAPSHOT ? 0 : cfg->window);
	nd_view_meta(v, NETDX_VERSION, cmd, kv);
}

/* ---- snapshot ----------------------------------------------------------------- */

static int run_snapshot(const struct ctr_cfg *cfg)
{
	struct nd_coll *co;
	struct nd_snap s;
	struct nd_view v;
	bool warned = false;
	int rc, ret;

	if (open_collector(cfg, &co) < 0)
		return ND_EXIT_INPUT;
	nd_snap_init(&s, cfg->max_counters, (uint32_t)cfg->max_netns);
	rc = nd_coll_snapshot(co, &s);
	if (rc < 0) {
		ret = coll_error(rc);
		goto out;
	}
	nd_view_init(&v, stdout, cfg->json);
	meta(&v, V_SNAPSHOT, cfg);
	nd_view_snapshot(&v, &s, cfg->nonzero);
	nd_view_summary(&v, &s, NULL, NULL, 0);
	ret = privilege_check(&s.st, &warned);
out:
	nd_snap_free(&s);
	nd_coll_free(co);
	return ret;
}

/* ---- delta and watch ------------------------------------------------------------- */

struct loop {
	const struct ctr_cfg *cfg;
	enum verb verb;
	struct nd_coll *co;
	struct nd_snap snap[2];
	int cur;                        /* snap[cur] is the newest */
	struct nd_anom *anom;
	struct nd_corr *corr;
	struct nd_corr_item *items;
	size_t items_cap;
	struct nd_view v;
	bool tty, warned;
	int perm;
};

static bool watched(const struct loop *l, const struct nd_ctr *c)
{
	if (c->gauge)
		return false;
	if (l->cfg->anomaly_counters)
		return nd_ctr_name_match(l->cfg->anomaly_counters, c);
	return nd_ctr_is_problem(c);
}

static void anomalies(struct loop *l, uint64_t seq, double t, const struct nd_snap *s,
		      const struct nd_diff *d)
{
	size_t active = 0;

	for (size_t i = 0; i < d->n; i++) {
		const struct nd_diff_row *dr = &d->rows[i];
		const struct nd_ctr *c = &s->c[dr->cur];
		struct nd_anom_obs o;
		struct nd_anom_result r;

		if (dr->is_new || !watched(l, c))
			continue;
		o.key = nd_ctr_key(s, c);
		o.prev_value = dr->prev_value;
		o.delta = (uint64_t)dr->delta;
		o.dt = d->dt;
		if (nd_anom_observe(l->anom, &o, &r) < 0)
			continue;       /* beyond the series cap: counted */
		if (r.event != ND_ANOM_EV_NONE)
			nd_view_anomaly(&l->v, seq, t, s, dr, &r);
		active += r.active;
	}
	nd_anom_end_interval(l->anom, 10);
	if (l->verb != V_WATCH || l->v.json || !active)
		return;
	fprintf(l->v.f, "alarms up (%zu):\n", active);
	for (size_t i = 0; i < d->n; i++) {
		const struct nd_ctr *c = &s->c[d->rows[i].cur];
		char what[256];

		if (d->rows[i].is_new || !watched(l, c) || !nd_anom_is_active(l->anom, nd_ctr_key(s, c)))
			continue;
		nd_describe(s, c, what, sizeof(what));
		fprintf(l->v.f, "  %s: +%" PRId64 " this interval\n", what, d->rows[i].delta);
	}
}

static int correlate(struct loop *l, uint64_t seq, double t, const struct nd_snap *s,
		     const struct nd_diff *d)
{
	struct nd_corr_match m[32];
	struct nd_key_index ix = { 0 };
	size_t n = 0;
	long nm;
	int rc;

	if (l->items_cap < d->n) {
		struct nd_corr_item *p = realloc(l->items, d->n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		l->items = p;
		l->items_cap = d->n;
	}
	for (size_t i = 0; i < d->n; i++) {
		const struct nd_ctr *c = &s->c[d->rows[i].cur];

		if (d->rows[i].delta <= 0 || c->gauge || !nd_ctr_is_problem(c))
			continue;
		l->items[n++] = (struct nd_corr_item){
			.key = nd_ctr_key(s, c),
			.group = s->ns[c->ns].ino,
			.delta = (uint64_t)d->rows[i].delta,
			.cls = nd_ctr_is_symptom(c) ? ND_CORR_SYMPTOM : ND_CORR_DROP,
		};
	}
	rc = nd_corr_push(l->corr, l->items, n, d->dt);
	if (rc < 0)
		return rc;
	nm = nd_corr_matches(l->corr, m, l->v.json ? 32 : 8);
	if (nm < 0)
		return (int)nm;
	if (nm == 0)
		return 0;
	rc = nd_key_index_build(&ix, s);
	if (rc < 0)
		return rc;
	nd_view_correlation(&l->v, seq, t, s, &ix, m, (size_t)nm, nd_corr_window_seconds(l->corr));
	nd_key_index_free(&ix);
	return 0;
}

static int loop_init(struct loop *l)
{
	const struct ctr_cfg *cfg = l->cfg;
	struct nd_anom_cfg ac;
	struct nd_corr_cfg cc;
	double sigma = 4, min_rate = 1;
	int rc;

	nd_anom_cfg_default(&ac);
	if (parse_number("sigma", cfg->sigma, 0, 1000, &sigma) < 0 ||
	    parse_number("min-rate", cfg->min_rate, 0, 1e12, &min_rate) < 0)
		return ND_EXIT_USAGE;
	ac.alpha = 2.0 / ((double)cfg->baseline + 1);
	ac.sigma = sigma;
	ac.min_rate = min_rate;
	ac.min_delta = cfg->min_delta;
	ac.warmup = (uint32_t)cfg->warmup;
	ac.raise_after = (uint32_t)cfg->raise;
	ac.clear_after = (uint32_t)cfg->clear;
	nd_corr_cfg_default(&cc);
	cc.window = (uint32_t)ceil(cfg->window / cfg->interval - 1e-9);
	if (cc.window < 1)
		cc.window = 1;
	if (cc.window > 64) {
		fprintf(stderr, "netdx counters: --window %g is %u intervals of %g s; at most 64 are kept "
				"(raise --interval or lower --window)\n", cfg->window, cc.window, cfg->interval);
		return ND_EXIT_USAGE;
	}
	if (open_collector(cfg, &l->co) < 0)
		return ND_EXIT_INPUT;
	rc = nd_anom_new(&ac, &l->anom);
	if (rc == 0)
		rc = nd_corr_new(&cc, &l->corr);
	if (rc < 0) {
		fprintf(stderr, "netdx counters: %s\n", strerror(-rc));
		return ND_EXIT_INPUT;
	}
	nd_snap_init(&l->snap[0], cfg->max_counters, (uint32_t)cfg->max_netns);
	nd_snap_init(&l->snap[1], cfg->max_counters, (uint32_t)cfg->max_netns);
	return 0;
}

static void loop_free(struct loop *l)
{
	nd_snap_free(&l->snap[0]);
	nd_snap_free(&l->snap[1]);
	nd_anom_free(l->anom);
	nd_corr_free(l->corr);
	nd_coll_free(l->co);
	free(l->items);
}

/* Read into the older snapshot, making it the newest. */
static int reading(struct loop *l)
{
	int rc;

	l->cur ^= 1;
	rc = nd_coll_snapshot(l->co, &l->snap[l->cur]);
	if (rc == 0 && !l->perm)
		l->perm = privilege_check(&l->snap[l->cur].st, &l->warned);
	return rc;
}

static int run_loop(const struct ctr_cfg *cfg, enum verb verb)
{
	struct loop l = { .cfg = cfg, .verb = verb, .cur = 1 };
	uint64_t t0, next, seq = 0, end;
	int rc, ret;

	ret = loop_init(&l);
	if (ret)
		goto out;
	l.tty = isatty(STDOUT_FILENO) && !cfg->json && verb == V_WATCH;
	nd_view_init(&l.v, stdout, cfg->json);
	rc = reading(&l);
	if (rc < 0) {
		ret = coll_error(rc);
		goto out;
	}
	/* The meta line once the first reading is done, at once: whoever reads
	 * the stream knows the interval has begun. */
	meta(&l.v, verb, cfg);
	fflush(stdout);
	t0 = l.snap[l.cur].t_ns;
	next = mono_ns() + (uint64_t)(cfg->interval * 1e9);
	end = cfg->duration > 0 ? t0 + (uint64_t)(cfg->duration * 1e9) : UINT64_MAX;
	while (!stop_flag && (!cfg->count || seq < cfg->count)) {
		struct nd_snap *prev, *cur;
		struct nd_diff d;
		double t;

		sleep_until(next < end ? next : end);
		if (stop_flag && verb == V_WATCH)
			break;          /* delta reports the shortened interval */
		rc = reading(&l);
		if (rc < 0) {
			ret = coll_error(rc);
			goto out;
		}
		prev = &l.snap[l.cur ^ 1];
		cur = &l.snap[l.cur];
		if (nd_snap_diff(prev, cur, &d) < 0) {
			ret = coll_error(-ENOMEM);
			goto out;
		}
		seq++;
		t = (double)(cur->t_ns - t0) / 1e9;
		nd_view_interval(&l.v, seq, t, cur, &d, cfg->all, verb == V_WATCH ? cfg->top : 0, l.tty);
		if (!cfg->no_anomaly && d.dt > 0)
			anomalies(&l, seq, t, cur, &d);
		if (!cfg->no_correlation && correlate(&l, seq, t, cur, &d) < 0) {
			nd_diff_free(&d);
			ret = coll_error(-ENOMEM);
			goto out;
		}
		nd_diff_free(&d);
		if (!cfg->json)
			fputc('\n', stdout);
		fflush(stdout);
		if (mono_ns() >= end)
			break;
		next += (uint64_t)(cfg->interval * 1e9);
		if (next < mono_ns())   /* the reading took longer than the interval */
			next = mono_ns();
	}
	{
		struct nd_anom_stats as;
		struct nd_corr_stats cs;

		nd_anom_get_stats(l.anom, &as);
		nd_corr_get_stats(l.corr, &cs);
		nd_view_summary(&l.v, &l.snap[l.cur], cfg->no_anomaly ? NULL : &as,
				cfg->no_correlation ? NULL : &cs, seq);
	}
	ret = l.perm;
out:
	fflush(stdout);
	loop_free(&l);
	return ret;
}

/* ---- serve ------------------------------------------------------------------------ */

struct server {
	const struct ctr_cfg *cfg;
	struct nd_coll *co;
	struct nd_snap s;
	bool warned;
};

/* One scrape, in the HTTP daemon's thread. */
static int scrape(void *ctx, struct nd_buf *out)
{
	struct server *sv = ctx;
	uint64_t t0 = mono_ns();
	int rc = nd_coll_snapshot(sv->co, &sv->s);

	if (rc < 0) {
		fprintf(stderr, "netdx counters serve: reading the counters failed: %s\n", strerror(-rc));
		return rc;
	}
	(void)privilege_check(&sv->s.st, &sv->warned);
	rc = nd_prom_render(&sv->s, (double)(mono_ns() - t0) / 1e9, out, NULL);
	if (rc < 0)
		fprintf(stderr, "netdx counters serve: rendering /metrics failed: %s\n", strerror(-rc));
	return rc;
}

static int run_serve(const struct ctr_cfg *cfg)
{
	struct server sv = { .cfg = cfg };
	struct sockaddr_storage ss;
	socklen_t sl;
	struct nd_http *h = NULL;
	uint64_t end, scrapes = 0, failed = 0;
	int rc;

	if (nd_listen_parse(cfg->listen, &ss, &sl) < 0) {
		fprintf(stderr, "netdx counters serve: --listen wants ADDR:PORT with a numeric address "
				"(127.0.0.1:9469, [::1]:9469, :9469 for every address), not '%s'\n", cfg->listen);
		return ND_EXIT_USAGE;
	}
	if (open_collector(cfg, &sv.co) < 0)
		return ND_EXIT_INPUT;
	nd_snap_init(&sv.s, cfg->max_counters, (uint32_t)cfg->max_netns);
	rc = nd_http_start((struct sockaddr *)&ss, sl, scrape, &sv, &h);
	if (rc < 0) {
		fprintf(stderr, "netdx counters serve: cannot listen on %s: %s%s\n", cfg->listen, strerror(-rc),
			rc == -EACCES ? " (ports below 1024 need CAP_NET_BIND_SERVICE)" : "");
		nd_snap_free(&sv.s);
		nd_coll_free(sv.co);
		return ND_EXIT_INPUT;
	}
	fprintf(stderr, "netdx counters: serving /metrics on %s (port %d)%s\n", cfg->listen, nd_http_port(h),
		cfg->duration > 0 ? "" : "; Ctrl-C to stop");
	end = cfg->duration > 0 ? mono_ns() + (uint64_t)(cfg->duration * 1e9) : UINT64_MAX;
	while (!stop_flag && mono_ns() < end) {
		uint64_t next = mono_ns() + 200000000u;

		sleep_until(next < end ? next : end);
	}
	nd_http_counts(h, &scrapes, &failed);
	nd_http_stop(h);
	fprintf(stderr, "netdx counters: %" PRIu64 " scrapes served, %" PRIu64 " failed\n", scrapes, failed);
	nd_snap_free(&sv.s);
	nd_coll_free(sv.co);
	return ND_EXIT_OK;
}

/* Is --listen (or -l) among the arguments? */
static bool has_listen(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--listen", 8) || !strncmp(argv[i], "-l", 2))
			return true;
	return false;
}

/* ---- entry ---------------------------------------------------------------------------- */

int cmd_counters_main(int argc, char **argv)
{
	struct ctr_cfg cfg;
	struct sigaction sa;
	enum verb verb;
	int first, rc;

	_Static_assert(sizeof(opt_verbs) / sizeof(opt_verbs[0]) ==
		       sizeof(ctr_opts) / sizeof(ctr_opts[0]) - 1, "one verb mask per option");
	if (argc < 2) {
		cmd_counters_usage(stderr);
		return ND_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		cmd_counters_usage(stdout);
		return ND_EXIT_OK;
	}
	if (!strcmp(argv[1], "snapshot"))
		verb = V_SNAPSHOT;
	else if (!strcmp(argv[1], "delta"))
		verb = V_DELTA;
	else if (!strcmp(argv[1], "watch"))
		verb = V_WATCH;
	else if (!strcmp(argv[1], "serve"))
		verb = V_SERVE;
	else if (argv[1][0] == '-' && has_listen(argc, argv))
		verb = V_SERVE;         /* netdx counters --listen ADDR:PORT */
	else if (argv[1][0] == '-') {
		fprintf(stderr, "netdx counters: give a subcommand first: snapshot, delta, watch or serve "
				"(see 'netdx help counters')\n");
		return ND_EXIT_USAGE;
	} else {
		fprintf(stderr, "netdx counters: no subcommand '%s' (snapshot, delta, watch, serve)\n", argv[1]);
		return ND_EXIT_USAGE;
	}
	memset(&cfg, 0, sizeof(cfg));
	if (verb == V_SERVE && argv[1][0] == '-')
		rc = nd_opt_parse("counters", ctr_opts, &cfg, argc, argv, &first);
	else
		rc = nd_opt_parse("counters", ctr_opts, &cfg, argc - 1, argv + 1, &first);
	if (rc > 0) {
		cmd_counters_usage(stdout);
		return ND_EXIT_OK;
	}
	if (rc < 0)
		return ND_EXIT_USAGE;
	if (first < (verb == V_SERVE && argv[1][0] == '-' ? argc : argc - 1)) {
		fprintf(stderr, "netdx counters %s: unexpected argument '%s' (see 'netdx help counters')\n",
			verb_name(verb), argv[1][0] == '-' ? argv[first] : argv[first + 1]);
		return ND_EXIT_USAGE;
	}
	if (check_cfg(verb, &cfg) < 0)
		return ND_EXIT_USAGE;
	apply_defaults(verb, &cfg);
	if (cfg.print_config)
		nd_opt_print(stderr, ctr_opts, &cfg);

	/* A snapshot of many namespaces is megabytes: write it in large blocks. */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	switch (verb) {
	case V_SNAPSHOT: return run_snapshot(&cfg);
	case V_SERVE: return run_serve(&cfg);
	default: return run_loop(&cfg, verb);
	}
}
