/* SPDX-License-Identifier: MIT */
/*
 * netdx bench: rr, crr, stream and bsp workloads with exact accounting,
 * and the server they run against. See docs/bench.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench/bench.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "core/hist.h"
#include "core/stats.h"
#include "netdx_version.h"
#include "report/json.h"

struct bench_opts {
	uint64_t port, flows, ranks, threads, local_port_base;
	double duration, interval, start_at, stall;
	bool json;
	uint64_t req, resp, inflight, backlog;
	double rate;
	const char *dir, *cc;
	uint64_t sndbuf, rcvbuf, write_size, bottleneck;
	const char *topology;
	double compute;
	uint64_t msg;
	const char *bind;
	bool once, print_config;
};

#define OFF(f) offsetof(struct bench_opts, f)

static const struct nd_opt client_opts[] = {
	{ "port", 'p', ND_OPT_U64, OFF(port), "P", "server port (default 7250)", 1, 65535 },
	{ "flows", 'n', ND_OPT_U64, OFF(flows), "N", "flows (bsp: ranks; default 1, bsp 4)", 1, ND_BENCH_MAX_FLOWS },
	{ "threads", 'T', ND_OPT_U64, OFF(threads), "T", "worker threads (default: CPUs)", 1, 256 },
	{ "duration", 'd', ND_OPT_SECONDS, OFF(duration), "S", "test length (default 10)", 0.1, 86400 },
	{ "interval", 0, ND_OPT_SECONDS, OFF(interval), "S", "per-interval samples (default 1; 0 = none)", 0, 3600 },
	{ "start-at", 0, ND_OPT_SECONDS, OFF(start_at), "EPOCH_S", "start at this wall-clock time (seconds since the epoch)", 0, 1e11 },
	{ "local-port-base", 0, ND_OPT_U64, OFF(local_port_base), "P", "bind flow i to local port P+i (rr, stream, bsp)", 1024, 65535 },
	{ "stall", 0, ND_OPT_SECONDS, OFF(stall), "S", "no progress for S seconds = stalled (default max(1, 2 intervals, 3 periods))", 0.05, 3600 },
	{ "json", 0, ND_OPT_FLAG, OFF(json), NULL, "one JSON document on stdout", 0, 0 },
	{ "req", 0, ND_OPT_BYTES, OFF(req), "B", "rr/crr: request size (default 1)", 1, 16777216 },
	{ "resp", 0, ND_OPT_BYTES, OFF(resp), "B", "rr/crr: response size (default 1)", 1, 16777216 },
	{ "rate", 'r', ND_OPT_SECONDS, OFF(rate), "TPS", "rr/crr: transactions per second per flow, paced (default: closed loop)", 0.001, 1e7 },
	{ "inflight", 0, ND_OPT_U64, OFF(inflight), "K", "rr: requests outstanding per flow (default 1)", 1, 1024 },
	{ "backlog", 0, ND_OPT_U64, OFF(backlog), "N", "crr: the server's listen backlog (default somaxconn)", 1, 1000000 },
	{ "dir", 0, ND_OPT_STRING, OFF(dir), "up|down", "stream: who sends (default up: the client)", 0, 0 },
	{ "cc", 0, ND_OPT_STRING, OFF(cc), "LIST", "stream: congestion control per flow, round robin (e.g. cubic,bbr)", 0, 0 },
	{ "sndbuf", 0, ND_OPT_BYTES, OFF(sndbuf), "B", "SO_SNDBUF on both sides", 1024, 2147483647 },
	{ "rcvbuf", 0, ND_OPT_BYTES, OFF(rcvbuf), "B", "SO_RCVBUF on both sides", 1024, 2147483647 },
	{ "write-size", 0, ND_OPT_BYTES, OFF(write_size), "B", "stream: bytes per write (default 128K)", 1, 16777216 },
	{ "bottleneck", 0, ND_OPT_U64, OFF(bottleneck), "RATE", "stream: bottleneck rate in bit/s (k, M, G) for link utilisation", 1000, 1e13 },
	{ "ranks", 0, ND_OPT_U64, OFF(ranks), "N", "bsp: ranks, even, half on each host (default 4; same as --flows)", 2, 4096 },
	{ "topology", 0, ND_OPT_STRING, OFF(topology), "ring|grid", "bsp: neighbour topology (default ring)", 0, 0 },
	{ "compute", 0, ND_OPT_SECONDS, OFF(compute), "S", "bsp: compute interval per step (default 2ms)", 0, 10 },
	{ "msg", 0, ND_OPT_BYTES, OFF(msg), "B", "bsp: bytes to each neighbour per step (default 1024)", 1, 16777216 },
	{ "print-config", 0, ND_OPT_FLAG, OFF(print_config), NULL, "print the effective options to stderr", 0, 0 },
	ND_OPT_END
};

static const struct nd_opt server_opts[] = {
	{ "port", 'p', ND_OPT_U64, OFF(port), "P", "port for control and data (default 7250)", 1, 65535 },
	{ "bind", 'b', ND_OPT_STRING, OFF(bind), "ADDR", "address to listen on (default: all)", 0, 0 },
	{ "threads", 'T', ND_OPT_U64, OFF(threads), "T", "worker threads (default: CPUs)", 1, 256 },
	{ "once", 0, ND_OPT_FLAG, OFF(once), NULL, "exit after one test", 0, 0 },
	ND_OPT_END
};

void cmd_bench_usage(FILE *f)
{
	fprintf(f, "usage: netdx bench server [options]\n"
		   "       netdx bench rr|crr|stream|bsp HOST [options]\n\n"
		   "Workloads with exact accounting: every byte and transaction one side sent is\n"
		   "matched with what the other side received; flows that stop progressing are\n"
		   "reported as stalled, apart from the rates; latency histograms have a bounded\n"
		   "relative error (<1%%); paced rr/crr measure latency from the scheduled send\n"
		   "time (coordinated omission corrected) and from the actual one. TCP_INFO of\n"
		   "every flow, both sides, at the end and per interval. Details: docs/bench.md.\n\n"
		   "  rr      request/response on persistent connections\n"
		   "  crr     connect, request, response, close\n"
		   "  stream  bulk transfer (--dir up|down), Jain's fairness index over flows\n"
		   "  bsp     ranks alternating compute and neighbour exchange (ring or grid)\n\n"
		   "client options:\n");
	nd_opt_help(f, client_opts);
	fprintf(f, "\nserver options:\n");
	nd_opt_help(f, server_opts);
	fprintf(f, "\nexit codes: 0 ok; 1 cannot reach the server or the test failed; 2 usage;\n"
		   "3 the run finished but did not reconcile (bytes or transactions differ\n"
		   "between the sides on a flow that was not stalled).\n");
}

static volatile int stop_flag;

static void on_signal(int sig)
{
	stop_flag = sig;
}

static uint32_t ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (uint32_t)n : 1;
}

/* Each flow needs a descriptor on each side: raise the soft limit toward
 * @want (up to the hard limit). */
static void raise_nofile(uint64_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int run_server(int argc, char **argv)
{
	struct bench_opts bo = { .port = ND_BENCH_PORT };
	struct nd_bench_server_opts so;
	struct sigaction sa;
	char err[256];
	int first, rc;

	rc = nd_opt_parse("bench server", server_opts, &bo, argc, argv, &first);
	if (rc)
		return rc > 0 ? (cmd_bench_usage(stdout), ND_EXIT_OK) : ND_EXIT_USAGE;
	if (first < argc) {
		fprintf(stderr, "netdx bench server: unexpected argument '%s'\n", argv[first]);
		return ND_EXIT_USAGE;
	}
	raise_nofile(ND_BENCH_MAX_FLOWS * 2);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	so = (struct nd_bench_server_opts){
		.bind = bo.bind, .port = (uint16_t)bo.port,
		.threads = bo.threads ? (uint32_t)bo.threads : ncpus(),
		.once = bo.once, .stop = &stop_flag,
	};
	if (nd_bench_server_run(&so, err, sizeof(err)) < 0) {
		fprintf(stderr, "netdx bench server: %s\n", err);
		return ND_EXIT_INPUT;
	}
	return ND_EXIT_OK;
}

/* ---- the report -------------------------------------------------------- */

static void read_line_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	for (char *p = buf; *p; p++)
		if (*p == '\t')
			*p = ' ';
}

static void json_tcpinfo(struct nd_json *j, const char *key, const struct nd_tcpinfo *t);

/* One side's counters, with its TCP_INFO when @ti is given. */
static void json_counters(struct nd_json *j, const char *key, const struct nd_bench_counters *c,
			  const struct nd_tcpinfo *ti)
{
	nd_json_obj_open(j, key);
	nd_json_u64(j, "tx_bytes", c->tx_bytes);
	nd_json_u64(j, "rx_bytes", c->rx_bytes);
	nd_json_u64(j, "transactions", c->transactions);
	nd_json_u64(j, "connects", c->connects);
	nd_json_u64(j, "connect_failures", c->connect_failures);
	nd_json_u64(j, "resets", c->resets);
	nd_json_u64(j, "timeouts", c->timeouts);
	if (ti)
		json_tcpinfo(j, "tcp_info", ti);
	nd_json_obj_close(j);
}

static void json_tcpinfo(struct nd_json *j, const char *key, const struct nd_tcpinfo *t)
{
	if (!t->valid) {
		nd_json_null(j, key);
		return;
	}
	nd_json_obj_open(j, key);
	nd_json_u64(j, "rtt_us", t->rtt_us);
	nd_json_u64(j, "rttvar_us", t->rttvar_us);
	nd_json_u64(j, "snd_cwnd", t->snd_cwnd);
	nd_json_u64(j, "snd_ssthresh", t->snd_ssthresh);
	nd_json_u64(j, "snd_mss", t->snd_mss);
	nd_json_u64(j, "total_retrans", t->total_retrans);
	nd_json_u64(j, "delivery_rate_bps", t->delivery_rate_bps);
	nd_json_u64(j, "pacing_rate_bps", t->pacing_rate_bps);
	nd_json_u64(j, "busy_time_us", t->busy_time_us);
	nd_json_u64(j, "rwnd_limited_us", t->rwnd_limited_us);
	nd_json_u64(j, "sndbuf_limited_us", t->sndbuf_limited_us);
	nd_json_u64(j, "bytes_acked", t->bytes_acked);
	nd_json_u64(j, "bytes_received", t->bytes_received);
	nd_json_obj_close(j);
}

static void json_hist(struct nd_json *j, const char *key, const struct nd_hist *h)
{
	static const struct { const char *name; double p; } ps[] = {
		{ "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p99.9", 99.9 }, { "p99.99", 99.99 },
	};

	nd_json_obj_open(j, key);
	nd_json_u64(j, "count", nd_hist_count(h));
	nd_json_double(j, "min", (double)nd_hist_min(h) / 1e3, 3);
	nd_json_double(j, "mean", nd_hist_count(h) ? nd_hist_mean(h) / 1e3 : 0, 3);
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
		nd_json_double(j, ps[i].name, (double)nd_hist_percentile(h, ps[i].p) / 1e3, 3);
	nd_json_double(j, "max", (double)nd_hist_max(h) / 1e3, 3);
	nd_json_obj_close(j);
}

/* What a flow achieved: transactions/s and receiver-side goodput. */
static double flow_tps(const struct nd_bench_result *r, const struct nd_bench_flow_result *f)
{
	return (double)f->client.transactions / ((double)r->elapsed_ns / 1e9);
}

/* Bytes the receiver got within the run: the counters sampled at the stop
 * (the last interval sample), so what was still queued or in flight at
 * the stop and arrived while draining does not inflate the rate. Without
 * samples, the end totals. */
static double flow_goodput(const struct nd_bench_result *r, const struct nd_bench_flow_result *f)
{
	double s = (double)r->elapsed_ns / 1e9;
	const struct nd_bench_sample *last = f->nsamples ? &f->samples[f->nsamples - 1] : NULL;

	if (r->cfg.mode == ND_BM_STREAM) {
		if (r->cfg.down)
			return (double)(last ? last->c.rx_bytes : f->client.rx_bytes) * 8 / s;
		return (double)(last && last->server_valid ? last->s_rx_bytes : f->server.rx_bytes) * 8 / s;
	}
	if (last)
		return (double)(last->c.tx_bytes + last->c.rx_bytes) * 8 / s;
	return (double)(f->client.tx_bytes + f->client.rx_bytes) * 8 / s;
}

static bool flow_reconciled(const struct nd_bench_result *r, const struct nd_bench_flow_result *f)
{
	bool ok = f->client.tx_bytes == f->server.rx_bytes && f->server.tx_bytes == f->client.rx_bytes;

	if (r->cfg.mode == ND_BM_RR || r->cfg.mode == ND_BM_CRR)
		ok &= f->client.transactions == f->server.transactions;
	return ok;
}

struct totals {
	struct nd_bench_counters cl, sv;
	bool reconciled, reconciled_live;
	uint32_t stalled;
	double tps, goodput, jain;
	double *rates;
	size_t nrates;
};

static void add_c(struct nd_bench_counters *a, const struct nd_bench_counters *b)
{
	a->tx_bytes += b->tx_bytes;
	a->rx_bytes += b->rx_bytes;
	a->transactions += b->transactions;
	a->connects += b->connects;
	a->connect_failures += b->connect_failures;
	a->resets += b->resets;
	a->timeouts += b->timeouts;
}

static void compute_totals(const struct nd_bench_result *r, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	t->reconciled = t->reconciled_live = true;
	t->rates = calloc(r->nflows ? r->nflows : 1, sizeof(double));
	for (uint32_t i = 0; i < r->nflows; i++) {
		const struct nd_bench_flow_result *f = &r->flows[i];
		bool ok = flow_reconciled(r, f);

		add_c(&t->cl, &f->client);
		add_c(&t->sv, &f->server);
		t->reconciled &= ok;
		if (f->stalled) {
			t->stalled++;
			continue;
		}
		t->reconciled_live &= ok;
		t->tps += flow_tps(r, f);
		t->goodput += flow_goodput(r, f);
		if (t->rates)
			t->rates[t->nrates++] = r->cfg.mode == ND_BM_STREAM || r->cfg.mode == ND_BM_BSP
							? flow_goodput(r, f) : flow_tps(r, f);
	}
	t->jain = t->rates ? nd_stats_jain(t->rates, t->nrates) : NAN;
}

static void json_meta(struct nd_json *j, const struct nd_bench_result *r, const struct bench_opts *bo,
		      const char *host)
{
	struct utsname u;
	char buf[256];

	nd_json_obj_open(j, "meta");
	uname(&u);
	nd_json_str(j, "kernel", u.release);
	nd_json_str(j, "hostname", u.nodename);
	read_line_file("/sys/devices/system/clocksource/clocksource0/current_clocksource", buf, sizeof(buf));
	nd_json_str(j, "clocksource", buf);
	read_line_file("/proc/sys/net/core/somaxconn", buf, sizeof(buf));
	nd_json_u64(j, "somaxconn", strtoull(buf, NULL, 10));
	read_line_file("/proc/sys/net/ipv4/tcp_rmem", buf, sizeof(buf));
	nd_json_str(j, "tcp_rmem", buf);
	read_line_file("/proc/sys/net/ipv4/tcp_wmem", buf, sizeof(buf));
	nd_json_str(j, "tcp_wmem", buf);
	read_line_file("/proc/sys/net/ipv4/tcp_congestion_control", buf, sizeof(buf));
	nd_json_str(j, "default_cc", buf);
	nd_json_str(j, "netdx_version", NETDX_VERSION);
	nd_json_double(j, "start_wall", (double)r->start_wall_ns / 1e9, 6);
	nd_json_u64(j, "server_backlog", r->backlog_effective);
	nd_json_obj_open(j, "options");
	nd_json_str(j, "host", host);
	nd_json_u64(j, "port", bo->port);
	nd_json_u64(j, "flows", r->cfg.flows);
	nd_json_u64(j, "threads", bo->threads);
	nd_json_double(j, "duration_s", (double)r->cfg.duration_ns / 1e9, 3);
	nd_json_double(j, "interval_s", (double)r->cfg.interval_ns / 1e9, 3);
	nd_json_double(j, "stall_s", bo->stall, 3);
	nd_json_u64(j, "req", r->cfg.req);
	nd_json_u64(j, "resp", r->cfg.resp);
	nd_json_u64(j, "inflight", r->cfg.inflight);
	nd_json_double(j, "rate", r->cfg.rate, 3);
	nd_json_u64(j, "backlog", r->cfg.backlog);
	nd_json_str(j, "dir", r->cfg.down ? "down" : "up");
	nd_json_str(j, "cc", bo->cc);
	nd_json_u64(j, "sndbuf", r->cfg.sndbuf);
	nd_json_u64(j, "rcvbuf", r->cfg.rcvbuf);
	nd_json_u64(j, "write_size", r->cfg.write_size);
	nd_json_u64(j, "bottleneck_bps", bo->bottleneck);
	nd_json_str(j, "topology", r->cfg.grid ? "grid" : "ring");
	nd_json_double(j, "compute_s", (double)r->cfg.compute_ns / 1e9, 6);
	nd_json_u64(j, "msg", r->cfg.msg);
	nd_json_u64(j, "local_port_base", bo->local_port_base);
	nd_json_obj_close(j);
	nd_json_obj_close(j);
}

static void report_json(const struct nd_bench_result *r, const struct bench_opts *bo, const char *host,
			const struct totals *t)
{
	struct nd_json j;
	bool rrlike = r->cfg.mode == ND_BM_RR || r->cfg.mode == ND_BM_CRR;
	double secs = (double)r->elapsed_ns / 1e9;

	nd_json_init(&j, stdout);
	nd_json_obj_open(&j, NULL);
	nd_json_str(&j, "type", "bench");
	nd_json_u64(&j, "schema", 1);
	nd_json_str(&j, "mode", nd_bench_mode_name(r->cfg.mode));
	json_meta(&j, r, bo, host);

	nd_json_obj_open(&j, "totals");
	json_counters(&j, "client", &t->cl, NULL);
	json_counters(&j, "server", &t->sv, NULL);
	nd_json_bool(&j, "reconciled", t->reconciled);
	nd_json_bool(&j, "reconciled_excluding_stalled", t->reconciled_live);
	nd_json_double(&j, "duration_s", secs, 6);
	nd_json_double(&j, "tps", t->tps, 3);
	nd_json_double(&j, "goodput_bps", t->goodput, 0);
	nd_json_u64(&j, "flows", r->nflows);
	nd_json_u64(&j, "stalled_flows", t->stalled);
	nd_json_u64(&j, "abandoned_flows", r->abandoned);
	nd_json_u64(&j, "late_sends", r->late_sends);
	nd_json_u64(&j, "server_refused_connections", r->server_bad_hello);
	nd_json_obj_close(&j);

	if (rrlike) {
		json_hist(&j, "latency_us", &r->lat);
		if (r->cfg.rate > 0)
			json_hist(&j, "latency_uncorrected_us", &r->lat_uncorrected);
		else
			nd_json_null(&j, "latency_uncorrected_us");
	}
	nd_json_double(&j, "jain", t->jain, 6);
	if (bo->bottleneck && r->cfg.mode == ND_BM_STREAM)
		nd_json_double(&j, "utilisation", t->goodput / (double)bo->bottleneck, 4);
	else
		nd_json_null(&j, "utilisation");
	if (r->cfg.mode == ND_BM_BSP) {
		nd_json_obj_open(&j, "bsp");
		nd_json_u64(&j, "ranks", r->cfg.flows);
		nd_json_u64(&j, "steps", r->bsp_steps);
		nd_json_double(&j, "efficiency", r->bsp_total_s > 0 ? r->bsp_compute_s / r->bsp_total_s : 0, 4);
		json_hist(&j, "step_us", &r->bsp_step);
		json_hist(&j, "slowest_exchange_us", &r->bsp_slowest);
		nd_json_obj_close(&j);
	}

	nd_json_arr_open(&j, "intervals");
	for (uint32_t k = 0; k < r->nintervals; k++) {
		const struct nd_bench_interval *iv = &r->intervals[k];
		double l = (double)iv->len_ns / 1e9;

		nd_json_obj_open(&j, NULL);
		nd_json_double(&j, "t", (double)iv->t_ns / 1e9, 6);
		nd_json_double(&j, "len", l, 6);
		nd_json_double(&j, "tps", l > 0 ? (double)iv->transactions / l : 0, 3);
		nd_json_double(&j, "goodput_bps", l > 0 ? (double)iv->bytes * 8 / l : 0, 0);
		nd_json_u64(&j, "stalled", iv->stalled);
		nd_json_obj_close(&j);
	}
	nd_json_arr_close(&j);

	nd_json_arr_open(&j, "flows");
	for (uint32_t i = 0; i < r->nflows; i++) {
		const struct nd_bench_flow_result *f = &r->flows[i];

		nd_json_obj_open(&j, NULL);
		nd_json_u64(&j, "id", f->id);
		nd_json_str(&j, "local", f->local[0] ? f->local : NULL);
		nd_json_str(&j, "remote", f->remote[0] ? f->remote : NULL);
		nd_json_str(&j, "cc", f->cc[0] ? f->cc : NULL);
		nd_json_bool(&j, "stalled", f->stalled);
		if (f->stalled)
			nd_json_double(&j, "stalled_at_s", (double)f->stalled_at_ns / 1e9, 3);
		nd_json_bool(&j, "reconciled", flow_reconciled(r, f));
		nd_json_double(&j, "tps", flow_tps(r, f), 3);
		nd_json_double(&j, "goodput_bps", flow_goodput(r, f), 0);
		if (f->lat_count) {
			nd_json_obj_open(&j, "latency_us");
			nd_json_u64(&j, "count", f->lat_count);
			nd_json_double(&j, "min", (double)f->lat_min_ns / 1e3, 3);
			nd_json_double(&j, "mean", (double)f->lat_sum_ns / (double)f->lat_count / 1e3, 3);
			nd_json_double(&j, "max", (double)f->lat_max_ns / 1e3, 3);
			nd_json_obj_close(&j);
		}
		json_counters(&j, "client", &f->client, &f->client_ti);
		json_counters(&j, "server", &f->server, &f->server_ti);
		nd_json_arr_open(&j, "intervals");
		for (uint32_t k = 0; k < f->nsamples; k++) {
			const struct nd_bench_sample *s = &f->samples[k];
			nd_json_obj_open(&j, NULL);
			nd_json_double(&j, "t", (double)s->t_ns / 1e9, 6);
			nd_json_u64(&j, "tx_bytes", s->c.tx_bytes);
			nd_json_u64(&j, "rx_bytes", s->c.rx_bytes);
			nd_json_u64(&j, "transactions", s->c.transactions);
			json_tcpinfo(&j, "tcp_info", &s->ti);
			if (s->server_valid) {
				/* What the server had at the same offset from the
				 * start; the difference to the client's is what was
				 * in flight (or queued) at that instant. */
				nd_json_obj_open(&j, "server");
				nd_json_u64(&j, "tx_bytes", s->s_tx_bytes);
				nd_json_u64(&j, "rx_bytes", s->s_rx_bytes);
				nd_json_u64(&j, "transactions", s->s_transactions);
				json_tcpinfo(&j, "tcp_info", &s->s_ti);
				nd_json_obj_close(&j);
			} else {
				nd_json_null(&j, "server");
			}
			nd_json_obj_close(&j);
		}
		nd_json_arr_close(&j);
		nd_json_obj_close(&j);
	}
	nd_json_arr_close(&j);
	nd_json_obj_close(&j);
	nd_json_endline(&j);
}

static void text_hist(const char *what, const struct nd_hist *h)
{
	printf("%s (us): p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  p99.99 %.1f  max %.1f  (n=%" PRIu64 ")\n",
	       what, (double)nd_hist_percentile(h, 50) / 1e3, (double)nd_hist_percentile(h, 90) / 1e3,
	       (double)nd_hist_percentile(h, 99) / 1e3, (double)nd_hist_percentile(h, 99.9) / 1e3,
	       (double)nd_hist_percentile(h, 99.99) / 1e3, (double)nd_hist_max(h) / 1e3, nd_hist_count(h));
}

static void report_text(const struct nd_bench_result *r, const struct bench_opts *bo, const char *host,
			const struct totals *t)
{
	double secs = (double)r->elapsed_ns / 1e9;
	uint64_t retr_c = 0, retr_s = 0, rtt_sum = 0, rtt_n = 0;

	printf("netdx bench %s to %s: %u flows, %.2f s, %u threads\n", nd_bench_mode_name(r->cfg.mode), host,
	       r->nflows, secs, (unsigned)bo->threads);
	if (r->cfg.mode == ND_BM_RR || r->cfg.mode == ND_BM_CRR)
		printf("transactions: %" PRIu64 " (%.1f/s over live flows)\n", t->cl.transactions, t->tps);
	printf("goodput: %.3f Mbit/s over live flows", t->goodput / 1e6);
	if (bo->bottleneck && r->cfg.mode == ND_BM_STREAM)
		printf(", utilisation %.1f%% of %.3f Mbit/s", 100 * t->goodput / (double)bo->bottleneck,
		       (double)bo->bottleneck / 1e6);
	printf("\n");
	printf("accounting: client sent %" PRIu64 " B, server received %" PRIu64 " B; server sent %" PRIu64
	       " B, client received %" PRIu64 " B; %s\n", t->cl.tx_bytes, t->sv.rx_bytes, t->sv.tx_bytes,
	       t->cl.rx_bytes, t->reconciled ? "reconciled exactly" :
	       t->reconciled_live ? "reconciled except on stalled flows" : "DOES NOT RECONCILE");
	if (r->cfg.mode == ND_BM_RR || r->cfg.mode == ND_BM_CRR) {
		text_hist(r->cfg.rate > 0 ? "latency, from scheduled send" : "latency", &r->lat);
		if (r->cfg.rate > 0)
			text_hist("latency, from actual send  ", &r->lat_uncorrected);
	}
	if (r->cfg.mode == ND_BM_CRR)
		printf("connects %" PRIu64 ", failures %" PRIu64 ", resets %" PRIu64 ", time-outs %" PRIu64
		       "; server backlog %u\n", t->cl.connects, t->cl.connect_failures, t->cl.resets,
		       t->cl.timeouts, r->backlog_effective);
	if (r->cfg.mode == ND_BM_BSP) {
		printf("bsp: %u ranks (%s), %" PRIu64 " steps, parallel efficiency %.3f\n", r->cfg.flows,
		       r->cfg.grid ? "grid" : "ring", r->bsp_steps,
		       r->bsp_total_s > 0 ? r->bsp_compute_s / r->bsp_total_s : 0);
		text_hist("step time", &r->bsp_step);
		text_hist("slowest exchange per step", &r->bsp_slowest);
	}
	if (t->nrates > 1)
		printf("fairness: Jain's index %.4f over %zu live flows\n", t->jain, t->nrates);
	for (uint32_t i = 0; i < r->nflows; i++) {
		if (r->flows[i].client_ti.valid) {
			rtt_sum += r->flows[i].client_ti.rtt_us;
			rtt_n++;
		}
		retr_c += r->flows[i].client_ti.total_retrans;
		retr_s += r->flows[i].server_ti.total_retrans;
	}
	if (rtt_n)
		printf("kernel: mean srtt %.1f us; retransmissions client %" PRIu64 ", server %" PRIu64 "\n",
		       (double)rtt_sum / (double)rtt_n, retr_c, retr_s);
	if (t->stalled) {
		uint32_t shown = 0;

		printf("stalled flows (%u, left out of the rates):", t->stalled);
		for (uint32_t i = 0; i < r->nflows && shown < 16; i++)
			if (r->flows[i].stalled) {
				printf(" %u (at %.1fs)", r->flows[i].id, (double)r->flows[i].stalled_at_ns / 1e9);
				shown++;
			}
		printf("%s\n", t->stalled > shown ? " ... (all in --json)" : "");
	}
	if (r->abandoned)
		printf("%" PRIu64 " flows did not finish draining within 5 s and were closed\n", r->abandoned);
	if (r->late_sends)
		printf("%" PRIu64 " paced sends fell more than %d behind their schedule and were dropped\n",
		       r->late_sends, 4096);
}

static int parse_cc_list(const char *s, struct nd_bench_cfg *c)
{
	char tmp[256], *save, *tok;

	if (strlen(s) >= sizeof(tmp))
		return -1;
	strcpy(tmp, s);
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (c->ncc >= ND_BENCH_MAX_CC || strlen(tok) >= sizeof(c->cc[0]))
			return -1;
		strcpy(c->cc[c->ncc++], tok);
	}
	return c->ncc ? 0 : -1;
}

static int run_client(enum nd_bench_mode mode, int argc, char **argv)
{
	struct bench_opts bo = { .port = ND_BENCH_PORT, .duration = 10, .interval = 1, .req = 1, .resp = 1,
				 .inflight = 1, .compute = 0.002, .msg = 1024 };
	struct nd_bench_cfg cfg;
	struct nd_bench_client_opts co;
	struct nd_bench_result res;
	struct totals tot;
	char err[512], cmd[32];
	int first, rc;
	const char *host;

	snprintf(cmd, sizeof(cmd), "bench %s", nd_bench_mode_name(mode));
	rc = nd_opt_parse(cmd, client_opts, &bo, argc, argv, &first);
	if (rc)
		return rc > 0 ? (cmd_bench_usage(stdout), ND_EXIT_OK) : ND_EXIT_USAGE;
	if (first != argc - 1) {
		fprintf(stderr, "netdx %s: give exactly one HOST (the server's address)\n", cmd);
		return ND_EXIT_USAGE;
	}
	host = argv[first];
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = mode;
	if (bo.ranks && mode != ND_BM_BSP) {
		fprintf(stderr, "netdx %s: --ranks is for bsp; use --flows\n", cmd);
		return ND_EXIT_USAGE;
	}
	if (bo.ranks && bo.flows && bo.ranks != bo.flows) {
		fprintf(stderr, "netdx %s: --ranks and --flows disagree\n", cmd);
		return ND_EXIT_USAGE;
	}
	cfg.flows = (uint32_t)(bo.ranks ? bo.ranks : bo.flows ? bo.flows : mode == ND_BM_BSP ? 4 : 1);
	cfg.req = (uint32_t)bo.req;
	cfg.resp = (uint32_t)bo.resp;
	cfg.inflight = (uint32_t)bo.inflight;
	cfg.rate = bo.rate;
	cfg.sndbuf = bo.sndbuf;
	cfg.rcvbuf = bo.rcvbuf;
	cfg.write_size = (uint32_t)bo.write_size;
	cfg.backlog = (uint32_t)bo.backlog;
	cfg.compute_ns = (uint64_t)(bo.compute * 1e9);
	cfg.msg = (uint32_t)bo.msg;
	cfg.duration_ns = (uint64_t)(bo.duration * 1e9);
	cfg.interval_ns = (uint64_t)(bo.interval * 1e9);
	if (bo.dir) {
		if (strcmp(bo.dir, "down") && strcmp(bo.dir, "up")) {
			fprintf(stderr, "netdx %s: --dir is up or down, not '%s'\n", cmd, bo.dir);
			return ND_EXIT_USAGE;
		}
		cfg.down = strcmp(bo.dir, "down") == 0;
	}
	if (bo.cc && parse_cc_list(bo.cc, &cfg) < 0) {
		fprintf(stderr, "netdx %s: --cc wants a comma-separated list of up to %d names\n", cmd,
			ND_BENCH_MAX_CC);
		return ND_EXIT_USAGE;
	}
	if (bo.topology) {
		if (strcmp(bo.topology, "grid") && strcmp(bo.topology, "ring")) {
			fprintf(stderr, "netdx %s: --topology is ring or grid, not '%s'\n", cmd, bo.topology);
			return ND_EXIT_USAGE;
		}
		cfg.grid = strcmp(bo.topology, "grid") == 0;
	}
	if (mode == ND_BM_BSP && (cfg.flows % 2 || cfg.flows < 2)) {
		fprintf(stderr, "netdx %s: --ranks must be even and >= 2, so ranks alternate "
				"between the two hosts\n", cmd);
		return ND_EXIT_USAGE;
	}
	if (bo.local_port_base && bo.local_port_base + cfg.flows > 65536) {
		fprintf(stderr, "netdx %s: --local-port-base %" PRIu64 " + %u flows passes port 65535\n", cmd,
			bo.local_port_base, cfg.flows);
		return ND_EXIT_USAGE;
	}
	if (bo.interval > 0 && bo.interval < 0.01) {
		fprintf(stderr, "netdx %s: --interval below 10 ms is too fine\n", cmd);
		return ND_EXIT_USAGE;
	}
	if (!bo.threads)
		bo.threads = ncpus();
	if (!bo.stall) {
		bo.stall = 1;
		if (bo.interval * 2 > bo.stall)
			bo.stall = bo.interval * 2;
		if (bo.rate > 0 && 3 / bo.rate > bo.stall)
			bo.stall = 3 / bo.rate;
		if (mode == ND_BM_BSP && bo.compute * 3 > bo.stall)
			bo.stall = bo.compute * 3;
	}
	if (bo.print_config)
		nd_opt_print(stderr, client_opts, &bo);
	raise_nofile((uint64_t)cfg.flows * 2 + 64);
	signal(SIGPIPE, SIG_IGN);
	co = (struct nd_bench_client_opts){
		.host = host, .port = (uint16_t)bo.port, .threads = (uint32_t)bo.threads,
		.start_at = bo.start_at, .local_port_base = (uint16_t)bo.local_port_base,
		.stall_ns = (uint64_t)(bo.stall * 1e9), .progress = !bo.json && isatty(STDERR_FILENO),
	};
	if (nd_bench_client_run(&cfg, &co, &res, err, sizeof(err)) < 0) {
		fprintf(stderr, "netdx %s: %s\n", cmd, err);
		return ND_EXIT_INPUT;
	}
	compute_totals(&res, &tot);
	if (bo.json)
		report_json(&res, &bo, host, &tot);
	else
		report_text(&res, &bo, host, &tot);
	free(tot.rates);
	nd_bench_result_free(&res);
	return tot.reconciled_live ? ND_EXIT_OK : ND_EXIT_PARTIAL;
}

int cmd_bench_main(int argc, char **argv)
{
	enum nd_bench_mode mode;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cmd_bench_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? ND_EXIT_USAGE : ND_EXIT_OK;
	}
	if (!strcmp(argv[1], "server"))
		return run_server(argc - 1, argv + 1);
	if (nd_bench_mode_parse(argv[1], &mode) < 0) {
		fprintf(stderr, "netdx bench: no mode '%s' (server, rr, crr, stream, bsp)\n", argv[1]);
		return ND_EXIT_USAGE;
	}
	return run_client(mode, argc - 1, argv + 1);
}
