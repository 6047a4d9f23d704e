/* SPDX-License-Identifier: MIT */
/*
 * netdx emu: a bottleneck link between network namespaces.
 *
 *   netdx emu topo up NAME [--mtu N] [--subnet 10.X.Y.0]
 *   netdx emu topo down NAME
 *   netdx emu run NAME [--fwd SPEC] [--rev SPEC] [--duration S] [--interval S] [--json]
 *   netdx emu set NAME [--fwd SPEC] [--rev SPEC]
 *   netdx emu stats NAME [--json]
 *
 * `run` forwards frames between NAME-mid's m0 (sender side) and m1
 * (receiver side) in user space; `set` and `stats` talk to a running
 * `run` over its control socket, /run/netdx/emu-NAME.sock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "core/hist.h"
#include "emu/forward.h"
#include "emu/spec.h"
#include "emu/topo.h"
#include "report/json.h"

#define CTL_DIR "/run/netdx"

struct emu_opts {
	const char *fwd, *rev, *subnet;
	double duration, interval;
	uint64_t mtu, max_pkts, threads;
	bool json;
};

#define OFF(f) offsetof(struct emu_opts, f)

static const struct nd_opt run_opts[] = {
	{ "fwd", 0, ND_OPT_STRING, OFF(fwd), "SPEC", "sender -> receiver settings, e.g. 'rate=100M delay=20ms buffer=1bdp qdisc=codel'", 0, 0 },
	{ "rev", 0, ND_OPT_STRING, OFF(rev), "SPEC", "receiver -> sender settings (default: none, a plain wire)", 0, 0 },
	{ "duration", 'd', ND_OPT_SECONDS, OFF(duration), "S", "run: stop after S seconds (default: until SIGINT)", 0.01, 31536000 },
	{ "interval", 0, ND_OPT_SECONDS, OFF(interval), "S", "run: a statistics line every S seconds (default 1 on a terminal)", 0.05, 3600 },
	{ "max-pkts", 0, ND_OPT_U64, OFF(max_pkts), "N", "run: frames held per direction (queue + delay line; default 65536)", 64, 1 << 22 },
	{ "threads", 0, ND_OPT_U64, OFF(threads), "N", "run: 1 = one thread for both directions (default: exact timing, a core left to the endpoints), 2 = one each (more frames/s)", 1, 2 },
	{ "json", 0, ND_OPT_FLAG, OFF(json), NULL, "JSON (NDJSON for run: interval lines, then a summary)", 0, 0 },
	ND_OPT_END
};

static const struct nd_opt topo_opts[] = {
	{ "mtu", 0, ND_OPT_U64, OFF(mtu), "N", "MTU of the four interfaces (default 1500)", 68, 65535 },
	{ "subnet", 0, ND_OPT_STRING, OFF(subnet), "10.X.Y.0", "the /24 of the two ends (default: derived from NAME)", 0, 0 },
	{ "json", 0, ND_OPT_FLAG, OFF(json), NULL, "describe the topology as JSON", 0, 0 },
	ND_OPT_END
};

void cmd_emu_usage(FILE *f)
{
	fprintf(f, "usage: netdx emu topo up|down|show NAME [--mtu N] [--subnet 10.X.Y.0]\n"
		   "       netdx emu run NAME [--fwd SPEC] [--rev SPEC] [--duration S] [--interval S] [--json]\n"
		   "       netdx emu set NAME [--fwd SPEC] [--rev SPEC]\n"
		   "       netdx emu stats NAME [--json]\n\n"
		   "A bottleneck link in user space between three network namespaces:\n"
		   "NAME-snd (s0, 10.X.Y.1) -- NAME-mid (m0 | m1) -- NAME-rcv (r0, 10.X.Y.2).\n"
		   "`run` forwards frames between m0 and m1 through a rate limiter, a buffer,\n"
		   "a queue discipline, loss and delay, each direction with its own settings;\n"
		   "`set` changes them while it runs; `stats` reads its counters.\n\n"
		   "SPEC: space-separated key=value:\n"
		   "  rate=100M        bit/s (k, M, G)         burst=30000    bytes in the bucket\n"
		   "  delay=20ms       one way (ns, us, ms, s) jitter=1ms     uniform +/-\n"
		   "  reorder=on       jitter may reorder      overhead=24    bytes per frame for the rate\n"
		   "  buffer=0.5bdp    or 64k (bytes), 100p (packets); BDP = rate x (fwd + rev delay)\n"
		   "  loss=0.01        random loss             ge=p,r,lg,lb   Gilbert-Elliott loss\n"
		   "  qdisc=fifo|codel|pie|fq_codel            target=5ms interval=100ms flows=1024 quantum=1514\n\n"
		   "options:\n");
	nd_opt_help(f, run_opts);
	nd_opt_help(f, topo_opts);
	fprintf(f, "\nexit codes: 0 ok; 1 failure (message says why: no such topology, no\n"
		   "permission: needs CAP_NET_ADMIN, CAP_NET_RAW and CAP_SYS_ADMIN); 2 usage.\n");
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	stop_flag = sig;
}

static void ctl_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, CTL_DIR "/emu-%s.sock", name);
}

/* ---- topo ---------------------------------------------------------------- */

static int cmd_topo(int argc, char **argv)
{
	struct emu_opts eo = { 0 };
	struct nd_emu_topo_cfg tc = { 0 };
	struct nd_emu_topo t;
	char err[512];
	int first, rc;
	const char *verb, *name;

	rc = nd_opt_parse("emu topo", topo_opts, &eo, argc, argv, &first);
	if (rc)
		return rc > 0 ? (cmd_emu_usage(stdout), ND_EXIT_OK) : ND_EXIT_USAGE;
	if (argc - first != 2) {
		fprintf(stderr, "netdx emu topo: give up, down or show, and a NAME\n");
		return ND_EXIT_USAGE;
	}
	verb = argv[first];
	name = argv[first + 1];
	if (!strcmp(verb, "down")) {
		char path[128];
		if (nd_emu_topo_down(name, err, sizeof(err)) < 0) {
			fprintf(stderr, "netdx emu topo down: %s\n", err);
			return ND_EXIT_INPUT;
		}
		ctl_path(name, path, sizeof(path));
		unlink(path);
		return ND_EXIT_OK;
	}
	if (!strcmp(verb, "up")) {
		tc.mtu = (unsigned)eo.mtu;
		if (eo.subnet && inet_pton(AF_INET, eo.subnet, &tc.subnet) != 1) {
			fprintf(stderr, "netdx emu topo up: --subnet wants 10.X.Y.0, not '%s'\n", eo.subnet);
			return ND_EXIT_USAGE;
		}
		if (nd_emu_topo_up(name, &tc, &t, err, sizeof(err)) < 0) {
			fprintf(stderr, "netdx emu topo up: %s\n", err);
			return ND_EXIT_INPUT;
		}
	} else if (!strcmp(verb, "show") || !strcmp(verb, "get")) {
		if (nd_emu_topo_get(name, &t, err, sizeof(err)) < 0) {
			fprintf(stderr, "netdx emu topo show: %s\n", err);
			return ND_EXIT_INPUT;
		}
	} else {
		fprintf(stderr, "netdx emu topo: no verb '%s' (up, down, show)\n", verb);
		return ND_EXIT_USAGE;
	}
	{
		char s0[INET_ADDRSTRLEN], r0[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &t.ifs[ND_EMU_IF_S0].addr, s0, sizeof(s0));
		inet_ntop(AF_INET, &t.ifs[ND_EMU_IF_R0].addr, r0, sizeof(r0));
		if (eo.json)
			printf("{\"type\":\"emu_topo\",\"name\":\"%s\",\"snd_ns\":\"%s\",\"mid_ns\":\"%s\","
			       "\"rcv_ns\":\"%s\",\"snd_addr\":\"%s\",\"rcv_addr\":\"%s\",\"mtu\":%u}\n",
			       t.name, t.ns[ND_EMU_NS_SND], t.ns[ND_EMU_NS_MID], t.ns[ND_EMU_NS_RCV], s0, r0, t.mtu);
		else
			printf("%s: %s (s0 %s) -- %s (m0 | m1) -- %s (r0 %s), mtu %u\n", t.name,
			       t.ns[ND_EMU_NS_SND], s0, t.ns[ND_EMU_NS_MID], t.ns[ND_EMU_NS_RCV], r0, t.mtu);
	}
	return ND_EXIT_OK;
}

/* ---- statistics rendering -------------------------------------------------- */

static void json_dir(struct nd_json *j, const char *key, const struct nd_fwd_stats *s, const struct nd_emu_cfg *c)
{
	const struct nd_emu_stats *e = &s->emu;
	double el = (double)s->elapsed_ns / 1e9;

	nd_json_obj_open(j, key);
	nd_json_u64(j, "in_pkts", e->in_pkts);
	nd_json_u64(j, "in_bytes", e->in_bytes);
	nd_json_u64(j, "out_pkts", e->out_pkts);
	nd_json_u64(j, "out_bytes", e->out_bytes);
	nd_json_double(j, "throughput_bps", el > 0 ? (double)e->out_bytes * 8 / el : 0, 0);
	nd_json_double(j, "utilisation", c->rate_bps && el > 0 ? (double)e->busy_ns / (double)s->elapsed_ns : 0, 4);
	nd_json_obj_open(j, "drops");
	nd_json_u64(j, "buffer", e->drop_buffer);
	nd_json_u64(j, "aqm", e->drop_aqm);
	nd_json_u64(j, "loss", e->drop_loss);
	nd_json_u64(j, "engine_full", e->drop_engine_full + s->rx_pool_full);
	nd_json_u64(j, "mtu", e->drop_mtu + s->rx_oversize);
	nd_json_u64(j, "tx_error", s->tx_errors);
	nd_json_u64(j, "capture_kernel", s->kernel_drops);
	nd_json_obj_close(j);
	nd_json_obj_open(j, "queue");
	nd_json_u64(j, "bytes", e->queue_bytes);
	nd_json_u64(j, "pkts", e->queue_pkts);
	nd_json_u64(j, "bytes_max", e->queue_bytes_max);
	nd_json_u64(j, "pkts_max", e->queue_pkts_max);
	nd_json_u64(j, "limit_bytes", c->limit_bytes);
	nd_json_u64(j, "limit_pkts", c->limit_pkts);
	nd_json_u64(j, "delay_line_pkts", e->delay_line_pkts);
	nd_json_obj_close(j);
	nd_json_obj_open(j, "sojourn_us");
	nd_json_u64(j, "count", nd_hist_count(&e->sojourn_ns));
	nd_json_double(j, "p50", (double)nd_hist_percentile(&e->sojourn_ns, 50) / 1e3, 1);
	nd_json_double(j, "p90", (double)nd_hist_percentile(&e->sojourn_ns, 90) / 1e3, 1);
	nd_json_double(j, "p99", (double)nd_hist_percentile(&e->sojourn_ns, 99) / 1e3, 1);
	nd_json_double(j, "max", (double)nd_hist_max(&e->sojourn_ns) / 1e3, 1);
	nd_json_obj_close(j);
	nd_json_obj_open(j, "tx_late_us");
	nd_json_u64(j, "count", nd_hist_count(&s->tx_late_ns));
	nd_json_double(j, "p50", (double)nd_hist_percentile(&s->tx_late_ns, 50) / 1e3, 1);
	nd_json_double(j, "p99", (double)nd_hist_percentile(&s->tx_late_ns, 99) / 1e3, 1);
	nd_json_double(j, "p99.9", (double)nd_hist_percentile(&s->tx_late_ns, 99.9) / 1e3, 1);
	nd_json_double(j, "max", (double)nd_hist_max(&s->tx_late_ns) / 1e3, 1);
	nd_json_obj_close(j);
	nd_json_obj_close(j);
}

static void json_settings(struct nd_json *j, const char *key, const struct nd_emu_cfg *c)
{
	nd_json_obj_open(j, key);
	nd_json_u64(j, "rate_bps", c->rate_bps);
	nd_json_u64(j, "burst_bytes", c->burst_bytes);
	nd_json_double(j, "delay_ms", (double)c->delay_ns / 1e6, 3);
	nd_json_double(j, "jitter_ms", (double)c->jitter_ns / 1e6, 3);
	nd_json_bool(j, "reorder", c->reorder);
	nd_json_u64(j, "limit_bytes", c->limit_bytes);
	nd_json_u64(j, "limit_pkts", c->limit_pkts);
	nd_json_double(j, "loss", c->loss_random, 6);
	nd_json_str(j, "qdisc", nd_emu_qdisc_name(c->qdisc));
	nd_json_obj_close(j);
}

static void write_stats(FILE *out, struct nd_fwd *f, const char *type, double t, bool final)
{
	struct nd_fwd_stats s[2];
	struct nd_emu_cfg c[2];
	struct nd_json j;

	for (int i = 0; i < 2; i++) {
		nd_fwd_stats(f, i, &s[i]);
		nd_fwd_get_cfg(f, i, &c[i]);
	}
	nd_json_init(&j, out);
	nd_json_obj_open(&j, NULL);
	nd_json_str(&j, "type", type);
	nd_json_double(&j, "t", t, 3);
	if (final) {
		json_settings(&j, "fwd_settings", &c[0]);
		json_settings(&j, "rev_settings", &c[1]);
	}
	json_dir(&j, "fwd", &s[0], &c[0]);
	json_dir(&j, "rev", &s[1], &c[1]);
	nd_json_obj_close(&j);
	nd_json_endline(&j);
	fflush(out);
}

static void text_line(struct nd_fwd *f, double t)
{
	struct nd_fwd_stats s;
	struct nd_emu_cfg c;

	nd_fwd_stats(f, 0, &s);
	nd_fwd_get_cfg(f, 0, &c);
	fprintf(stderr, "[%7.1fs] fwd: %" PRIu64 " pkts out, %.1f Mbit/s, queue %" PRIu64 " B (max %" PRIu64
		" B), drops buffer %" PRIu64 " aqm %" PRIu64 " loss %" PRIu64 ", sojourn p50 %.2f ms\n", t,
		s.emu.out_pkts, s.elapsed_ns ? (double)s.emu.out_bytes * 8 / ((double)s.elapsed_ns / 1e9) / 1e6 : 0,
		s.emu.queue_bytes, s.emu.queue_bytes_max, s.emu.drop_buffer, s.emu.drop_aqm, s.emu.drop_loss,
		(double)nd_hist_percentile(&s.emu.sojourn_ns, 50) / 1e6);
}

/* ---- run ------------------------------------------------------------------ */

static int build_specs(const char *fwd, const char *rev, struct nd_emu_spec sp[2], char *err, size_t errlen)
{
	if ((fwd && nd_emu_spec_apply(&sp[0], fwd, err, errlen) < 0) ||
	    (rev && nd_emu_spec_apply(&sp[1], rev, err, errlen) < 0))
		return -1;
	for (int i = 0; i < 2; i++)
		if (nd_emu_spec_resolve(&sp[i], sp[0].cfg.delay_ns + sp[1].cfg.delay_ns, err, errlen) < 0)
			return -1;
	return 0;
}

/* One control request: "set fwd|rev SPEC", "stats", "get". */
static void serve_ctl(int cfd, struct nd_fwd *f, struct nd_emu_spec sp[2], double t)
{
	char line[2048], err[256];
	ssize_t n = recv(cfd, line, sizeof(line) - 1, 0);
	FILE *out;

	if (n <= 0)
		return;
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	out = fdopen(dup(cfd), "w");
	if (!out)
		return;
	if (!strncmp(line, "set ", 4)) {
		struct nd_emu_spec nsp[2] = { sp[0], sp[1] };
		int dir = !strncmp(line + 4, "rev ", 4) ? 1 : !strncmp(line + 4, "fwd ", 4) ? 0 : -1;

		if (dir < 0) {
			fprintf(out, "ERR say set fwd SPEC or set rev SPEC\n");
		} else if (nd_emu_spec_apply(&nsp[dir], line + 8, err, sizeof(err)) < 0 ||
			   nd_emu_spec_resolve(&nsp[0], nsp[0].cfg.delay_ns + nsp[1].cfg.delay_ns, err, sizeof(err)) < 0 ||
			   nd_emu_spec_resolve(&nsp[1], nsp[0].cfg.delay_ns + nsp[1].cfg.delay_ns, err, sizeof(err)) < 0) {
			fprintf(out, "ERR %s\n", err);
		} else {
			int rc = 0;
			/* A delay change moves a BDP-sized buffer in both directions. */
			for (int i = 0; i < 2 && rc == 0; i++)
				if (i == dir || nsp[i].buffer_bdp > 0)
					rc = nd_fwd_reconfigure(f, i, &nsp[i].cfg, err, sizeof(err));
			if (rc < 0) {
				fprintf(out, "ERR %s\n", err);
			} else {
				sp[0] = nsp[0];
				sp[1] = nsp[1];
				fprintf(out, "OK\n");
			}
		}
	} else if (!strcmp(line, "stats")) {
		write_stats(out, f, "stats", t, true);
	} else if (!strcmp(line, "get")) {
		char a[1024], b[1024];
		nd_emu_spec_format(&sp[0], a, sizeof(a));
		nd_emu_spec_format(&sp[1], b, sizeof(b));
		fprintf(out, "fwd %s\nrev %s\n", a, b);
	} else {
		fprintf(out, "ERR unknown request '%s' (set, stats, get)\n", line);
	}
	fclose(out);
}

static int enter_netns(const char *ns, char *err, size_t errlen)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "no namespace %s (%s): create the topology with 'netdx emu topo up NAME'",
			 ns, strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		snprintf(err, errlen, "cannot enter namespace %s: %s%s", ns, strerror(errno),
			 errno == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct emu_opts eo = { .max_pkts = 65536, .threads = 1 };
	struct nd_emu_spec sp[2];
	struct nd_fwd *f = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction act;
	char err[512], mid[32], path[128];
	int first, rc, lfd = -1, ret = ND_EXIT_OK;
	const char *name;
	uint64_t t0, next;
	double interval;
	bool tty = isatty(STDERR_FILENO);

	rc = nd_opt_parse("emu run", run_opts, &eo, argc, argv, &first);
	if (rc)
		return rc > 0 ? (cmd_emu_usage(stdout), ND_EXIT_OK) : ND_EXIT_USAGE;
	if (argc - first != 1) {
		fprintf(stderr, "netdx emu run: give the topology NAME\n");
		return ND_EXIT_USAGE;
	}
	name = argv[first];
	memset(sp, 0, sizeof(sp));
	if (build_specs(eo.fwd, eo.rev, sp, err, sizeof(err)) < 0) {
		fprintf(stderr, "netdx emu run: %s\n", err);
		return ND_EXIT_USAGE;
	}
	snprintf(mid, sizeof(mid), "%s-mid", name);
	if (strlen(name) > 8 || enter_netns(mid, err, sizeof(err)) < 0) {
		fprintf(stderr, "netdx emu run: %s\n", strlen(name) > 8 ? "NAME is at most 8 characters" : err);
		return ND_EXIT_INPUT;
	}
	if (nd_fwd_start(&f, "m0", "m1", &sp[0].cfg, &sp[1].cfg, (uint32_t)eo.max_pkts, (int)eo.threads,
			 err, sizeof(err)) < 0) {
		fprintf(stderr, "netdx emu run: %s\n", err);
		return ND_EXIT_INPUT;
	}
	mkdir(CTL_DIR, 0755);
	ctl_path(name, path, sizeof(path));
	unlink(path);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "netdx emu run: control socket path too long\n");
		nd_fwd_stop(f);
		return ND_EXIT_INPUT;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 8) < 0) {
		fprintf(stderr, "netdx emu run: control socket %s: %s (settings cannot change at run time)\n",
			path, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		lfd = -1;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_signal;
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "netdx emu: forwarding %s-snd <-> %s-rcv through %s (m0 <-> m1); control %s\n",
		name, name, mid, lfd >= 0 ? path : "none");

	interval = eo.interval > 0 ? eo.interval : (tty && !eo.json ? 1 : 0);
	t0 = (uint64_t)0;
	{
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t0 = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	}
	next = interval > 0 ? t0 + (uint64_t)(interval * 1e9) : UINT64_MAX;
	while (!stop_flag) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		struct timespec ts;
		uint64_t now, until;
		int ms;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		if (eo.duration > 0 && now >= t0 + (uint64_t)(eo.duration * 1e9))
			break;
		if (now >= next) {
			if (eo.json)
				write_stats(stdout, f, "interval", (double)(now - t0) / 1e9, false);
			else
				text_line(f, (double)(now - t0) / 1e9);
			next += (uint64_t)(interval * 1e9);
		}
		until = next;
		if (eo.duration > 0 && t0 + (uint64_t)(eo.duration * 1e9) < until)
			until = t0 + (uint64_t)(eo.duration * 1e9);
		ms = until == UINT64_MAX ? 1000 : until <= now ? 0 : (int)((until - now) / 1000000u) + 1;
		if (ms > 1000)
			ms = 1000;
		if (poll(&p, lfd >= 0 ? 1 : 0, ms) > 0) {
			int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (cfd >= 0) {
				struct timeval tv = { 2, 0 };
				setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
				serve_ctl(cfd, f, sp, (double)(now - t0) / 1e9);
				close(cfd);
			}
		}
	}
	{
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (eo.json) {
			write_stats(stdout, f, "summary",
				    (double)((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec - t0) / 1e9, true);
		} else {
			text_line(f, (double)((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec - t0) / 1e9);
			write_stats(stdout, f, "summary",
				    (double)((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec - t0) / 1e9, true);
		}
	}
	if (lfd >= 0) {
		close(lfd);
		unlink(path);
	}
	nd_fwd_stop(f);
	return ret;
}

/* ---- set / stats: clients of the control socket ------------------------------ */

static int ctl_request(const char *name, const char *req, FILE *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[128], buf[65536];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), bad = 0;
	ssize_t n;
	size_t len = 0;

	ctl_path(name, path, sizeof(path));
	if (strlen(path) >= sizeof(sa.sun_path)) {
		if (fd >= 0)
			close(fd);
		return ND_EXIT_USAGE;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "netdx emu: no emulator running for %s (%s: %s); start it with 'netdx emu run %s'\n",
			name, path, strerror(errno), name);
		if (fd >= 0)
			close(fd);
		return ND_EXIT_INPUT;
	}
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 || shutdown(fd, SHUT_WR) < 0) {
		close(fd);
		return ND_EXIT_INPUT;
	}
	while ((n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	if (!strncmp(buf, "ERR ", 4)) {
		fprintf(stderr, "netdx emu: %s", buf + 4);
		bad = 1;
	} else {
		fputs(buf, out);
	}
	return bad ? ND_EXIT_USAGE : ND_EXIT_OK;
}

static int cmd_set(int argc, char **argv)
{
	struct emu_opts eo = { 0 };
	char req[2048];
	int first, rc;

	rc = nd_opt_parse("emu set", run_opts, &eo, argc, argv, &first);
	if (rc)
		return rc > 0 ? (cmd_emu_usage(stdout), ND_EXIT_OK) : ND_EXIT_USAGE;
	if (argc - first != 1 || (!eo.fwd && !eo.rev)) {
		fprintf(stderr, "netdx emu set: give the NAME and --fwd SPEC and/or --rev SPEC\n");
		return ND_EXIT_USAGE;
	}
	if (eo.fwd) {
		snprintf(req, sizeof(req), "set fwd %s\n", eo.fwd);
		rc = ctl_request(argv[first], req, stdout);
		if (rc)
			return rc;
	}
	if (eo.rev) {
		snprintf(req, sizeof(req), "set rev %s\n", eo.rev);
		rc = ctl_request(argv[first], req, stdout);
	}
	return rc;
}

static int cmd_stats(int argc, char **argv)
{
	struct emu_opts eo = { 0 };
	int first, rc;

	rc = nd_opt_parse("emu stats", run_opts, &eo, argc, argv, &first);
	if (rc)
		return rc > 0 ? (cmd_emu_usage(stdout), ND_EXIT_OK) : ND_EXIT_USAGE;
	if (argc - first != 1) {
		fprintf(stderr, "netdx emu stats: give the NAME\n");
		return ND_EXIT_USAGE;
	}
	return ctl_request(argv[first], "stats\n", stdout);
}

int cmd_emu_main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cmd_emu_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? ND_EXIT_USAGE : ND_EXIT_OK;
	}
	if (!strcmp(argv[1], "topo"))
		return cmd_topo(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "set"))
		return cmd_set(argc - 1, argv + 1);
	if (!strcmp(argv[1], "stats"))
		return cmd_stats(argc - 1, argv + 1);
	fprintf(stderr, "netdx emu: no subcommand '%s' (topo, run, set, stats)\n", argv[1]);
	return ND_EXIT_USAGE;
}
