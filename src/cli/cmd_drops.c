/* SPDX-License-Identifier: MIT */
/*
 * netdx drops: where and why the kernel drops packets, and what it cost
 * TCP. eBPF on skb:kfree_skb and the TCP/socket loss tracepoints,
 * aggregated in the kernel; a live table, a final summary, NDJSON and a
 * rate-limited event stream. This file is the edge: options, checks,
 * the main loop, signals and exit codes; the work is in src/trace/.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "netdx_version.h"
#include "trace/agg.h"
#include "trace/bpf_drops.h"
#include "trace/drops_report.h"
#include "trace/ksyms.h"
#include "trace/names.h"
#include "trace/benign.h"
#include "trace/reasons.h"

#define MAX_REASONS 64

struct drops_cfg {
	double interval;
	double duration;
	bool json;
	bool events;
	uint64_t event_rate;
	uint64_t ring_size;
	bool flows;
	bool no_tunnels;
	const char *netns;
	const char *dev;
	const char *reason;
	const char *event_skip;
	const char *host;
	uint64_t port;
	const char *proto;
	uint64_t max_keys;
	uint64_t max_flows;
	uint64_t top;
	const char *attach;
	bool list_reasons;
	bool print_config;
	bool verbose;
};

#define OFF(f) offsetof(struct drops_cfg, f)

static const struct nd_opt drops_opts[] = {
	{ "interval", 'i', ND_OPT_SECONDS, OFF(interval), "S", "live table every S seconds (default 2 on a terminal, else off; 0 = off)", 0, 86400 },
	{ "duration", 'd', ND_OPT_SECONDS, OFF(duration), "S", "stop after S seconds with the summary (default: until Ctrl-C / SIGTERM)", 0.01, 31536000 },
	{ "json", 0, ND_OPT_FLAG, OFF(json), NULL, "NDJSON: meta line, interval rows, events, final rows and a summary", 0, 0 },
	{ "events", 'e', ND_OPT_FLAG, OFF(events), NULL, "stream every drop and signal as it happens (rate-limited)", 0, 0 },
	{ "event-rate", 0, ND_OPT_U64, OFF(event_rate), "N", "events: at most about N per second (default 100; 0 = no limit); the rest are counted as suppressed", 0, 1e9 },
	{ "event-skip", 0, ND_OPT_STRING, OFF(event_skip), "LIST", "events: none for these reasons, comma-separated, or 'benign' (sockets closing, old duplicates, frames for another host, ...); they are still counted, and do not use up --event-rate", 0, 0 },
	{ "ring-size", 0, ND_OPT_BYTES, OFF(ring_size), "BYTES", "events: kernel ring buffer (power of two, default 256K); overflow is counted", 4096, 1 << 30 },
	{ "flows", 'f', ND_OPT_FLAG, OFF(flows), NULL, "also key drops and signals by 5-tuple (IPv4/IPv6, TCP/UDP, inside VXLAN/Geneve)", 0, 0 },
	{ "no-tunnels", 0, ND_OPT_FLAG, OFF(no_tunnels), NULL, "do not look inside VXLAN/Geneve for the flow", 0, 0 },
	{ "netns", 'n', ND_OPT_STRING, OFF(netns), "NS", "only drops in namespace NS: a /run/netns name, a path (/proc/PID/ns/net) or an inode", 0, 0 },
	{ "dev", 'D', ND_OPT_STRING, OFF(dev), "DEV", "only drops on device DEV (a name, looked up in --netns or netdx's namespace, or an ifindex)", 0, 0 },
	{ "reason", 'r', ND_OPT_STRING, OFF(reason), "LIST", "only these drop reasons, comma-separated (e.g. NETFILTER_DROP,NO_SOCKET)", 0, 0 },
	{ "host", 0, ND_OPT_STRING, OFF(host), "ADDR", "only packets from or to ADDR (IPv4 or IPv6; also the inner flow of a tunnel)", 0, 0 },
	{ "port", 'p', ND_OPT_U64, OFF(port), "PORT", "only packets from or to PORT (TCP/UDP)", 1, 65535 },
	{ "proto", 0, ND_OPT_STRING, OFF(proto), "P", "only IP protocol P: tcp, udp, icmp, icmpv6, sctp, gre or a number", 0, 0 },
	{ "max-keys", 0, ND_OPT_U64, OFF(max_keys), "N", "cap of the kernel's place tables, drops and signals (default 10240); drops at a new place beyond it are counted as 'map full'", 16, 1048576 },
	{ "max-flows", 0, ND_OPT_U64, OFF(max_flows), "N", "--flows: cap of the kernel's flow tables (default: --max-keys); a drop whose flow finds no room is still counted at its place, and as 'flows map full'", 16, 1048576 },
	{ "top", 0, ND_OPT_U64, OFF(top), "N", "rows per text table (default 20; 0 = all)", 0, 1e9 },
	{ "attach", 0, ND_OPT_STRING, OFF(attach), "MODE", "auto (default: tp_btf, else classic tracepoints), tp_btf or tp", 0, 0 },
	{ "list-reasons", 0, ND_OPT_FLAG, OFF(list_reasons), NULL, "print this kernel's drop reasons (from its BTF) and exit", 0, 0 },
	{ "print-config", 0, ND_OPT_FLAG, OFF(print_config), NULL, "print the effective options to stderr before running", 0, 0 },
	{ "verbose", 'v', ND_OPT_FLAG, OFF(verbose), NULL, "show libbpf's messages (load and verifier logs)", 0, 0 },
	ND_OPT_END
};

void cmd_drops_usage(FILE *f)
{
	fprintf(f,
		"usage: netdx drops [options]\n\n"
		"Where and why the kernel drops packets, and what it cost TCP. eBPF programs on\n"
		"skb:kfree_skb count every dropped packet in the kernel by drop reason (names\n"
		"from the kernel's BTF), kernel location (symbolised with /proc/kallsyms),\n"
		"device and network namespace (named as `ip netns` names them) and protocol;\n"
		"with --flows also by 5-tuple (in a table of its own: a full flow table never\n"
		"keeps a drop out of its place's total). Beside them, from tracepoints: TCP\n"
		"retransmissions (by socket state: SYN_SENT ones are connection attempts),\n"
		"SYN-ACK retransmissions, resets sent and received, full socket receive\n"
		"queues, and the qdisc drops among the drops. consume_skb (normal frees) is not\n"
		"a drop and is not counted. Filters run in the kernel. Programs are detached\n"
		"on every exit; SIGINT and SIGTERM end with the summary.\n\n"
		"Needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) and a kernel with BTF\n"
		"(/sys/kernel/btf/vmlinux). tp_btf programs are used where they load, else\n"
		"the classic tracepoints (which need tracefs: mounted if it is only unmounted).\n\n"
		"options:\n");
	nd_opt_help(f, drops_opts);
	fprintf(f,
		"\nexamples:\n"
		"  netdx drops                               live table until Ctrl-C, then the summary\n"
		"  netdx drops -d 10 --flows                 10 s, by flow, retransmissions per flow\n"
		"  netdx drops --netns blue --reason NETFILTER_DROP --json\n"
		"  netdx drops --dev eth0 --proto udp --port 53 -d 30\n"
		"  netdx drops --events --event-rate 50      every drop as it happens, at most ~50/s\n"
		"  netdx drops --list-reasons                the reasons this kernel knows\n"
		"\nNDJSON lines (each has \"type\"): meta (first), interval + drop_interval +\n"
		"signal_interval (each --interval), event (--events), and at the end drop (one\n"
		"per kernel key: per flow with --flows), place (exact totals by place, with\n"
		"--flows also the drops with no flow row: 'unattributed'), signal,\n"
		"signal_place (exact totals by signal, state and namespace), summary (the\n"
		"kernel's counters: filtered, map full, flows map full, events\n"
		"sent/suppressed/ring full).\n"
		"\nTables: --max-keys caps the place tables (drops, signals), --max-flows the\n"
		"flow tables (--flows). Each is allocated in full when the programs load\n"
		"(about 180 bytes a drop key, 140 a signal key); no key is evicted for\n"
		"another: a drop that finds no room is counted as map full (no place) or\n"
		"flows map full (no flow row; still in its place's total).\n"
		"\nexit codes: 0 ok (also after SIGINT/SIGTERM); 1 environment: no BTF, tracefs\n"
		"missing and not mountable, load or attach failed, no such namespace or device,\n"
		"output error; 2 bad option or value; 4 missing privilege (CAP_BPF and\n"
		"CAP_PERFMON, or CAP_SYS_ADMIN).\n");
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct run {
	const struct drops_cfg *cfg;
	struct nd_bpf *bpf;
	struct nd_agg *agg;
	struct nd_reasons *reasons;
	struct nd_ksyms *ksyms;
	struct nd_names *names;
	struct nd_drops_writer w;
	/* the place maps (room for max_keys), the flow maps (max_flows,
	 * flows on only) */
	struct nd_drop_key *dk, *fk;
	struct nd_drop_val *dv, *fv;
	struct nd_sig_key *sk, *sfk;
	struct nd_sig_val *sv, *sfv;
	size_t nd, ns, nf, nsf;
	bool kallsyms_hidden, kallsyms_failed;
};

/* Resolve the locations not seen before (one pass over kallsyms). */
static void resolve_ksyms(struct run *r)
{
	FILE *f;
	int rc;

	if (r->kallsyms_failed || !nd_ksyms_pending(r->ksyms))
		return;
	f = fopen("/proc/kallsyms", "re");
	if (!f) {
		r->kallsyms_failed = true;
		return;
	}
	rc = nd_ksyms_resolve(r->ksyms, f);
	fclose(f);
	if (rc == -EPERM)
		r->kallsyms_hidden = true;
	else if (rc < 0)
		r->kallsyms_failed = true;
}

static void on_event(void *ctx, const struct nd_event *e)
{
	struct run *r = ctx;

	if (e->kind == ND_EV_DROP) {
		nd_ksyms_want(r->ksyms, e->location);
		resolve_ksyms(r);
	}
	nd_dw_event(&r->w, e);
}

/*
 * Read the maps into the engine: with flows on the flow maps first, then
 * the place maps (a drop reaches its place before its flow: the places
 * then hold at least their flows). The rows are the flows with flows on,
 * else the places. 0 or -errno.
 */
static int snapshot(struct run *r)
{
	size_t cap = r->cfg->max_keys, fcap = r->cfg->max_flows;
	struct nd_agg_snap s;
	int rc = 0;

	r->nf = r->nsf = 0;
	if (r->cfg->flows) {
		rc = nd_bpf_read_drops(r->bpf, true, r->fk, r->fv, fcap, &r->nf);
		if (rc == 0)
			rc = nd_bpf_read_sigs(r->bpf, true, r->sfk, r->sfv, fcap, &r->nsf);
	}
	if (rc == 0)
		rc = nd_bpf_read_drops(r->bpf, false, r->dk, r->dv, cap, &r->nd);
	if (rc == 0)
		rc = nd_bpf_read_sigs(r->bpf, false, r->sk, r->sv, cap, &r->ns);
	if (rc)
		return rc;
	if (r->cfg->flows)
		s = (struct nd_agg_snap){ .dk = r->fk, .dv = r->fv, .nd = r->nf,
					  .pk = r->dk, .pv = r->dv, .np = r->nd,
					  .sk = r->sfk, .sv = r->sfv, .ns = r->nsf,
					  .spk = r->sk, .spv = r->sv, .nsp = r->ns };
	else
		s = (struct nd_agg_snap){ .dk = r->dk, .dv = r->dv, .nd = r->nd,
					  .sk = r->sk, .sv = r->sv, .ns = r->ns };
	rc = nd_agg_snapshot(r->agg, &s);
	if (rc)
		return rc;
	for (size_t i = 0; i < r->nd; i++)
		nd_ksyms_want(r->ksyms, r->dk[i].location);
	resolve_ksyms(r);
	nd_names_refresh(r->names);
	return 0;
}

static int parse_proto(const char *s, uint8_t *out)
{
	static const struct { const char *name; uint8_t p; } t[] = {
		{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "gre", 47 }, { "icmpv6", 58 },
		{ "sctp", 132 },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!strcasecmp(s, t[i].name)) {
			*out = t[i].p;
			return 0;
		}
	}
	if (nd_parse_u64(s, false, &v) < 0 || v < 1 || v > 255)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

/* The comma-separated list of option @opt (--reason, --event-skip) into
 * values. Exit code or 0. */
static int parse_reasons(const struct nd_reasons *rs, const char *opt, const char *list,
			 uint32_t *out, size_t *n)
{
	char *copy = strdup(list), *save = NULL;
	int ret = ND_EXIT_OK;

	*n = 0;
	if (!copy) {
		fprintf(stderr, "netdx drops: out of memory\n");
		return ND_EXIT_INPUT;
	}
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n >= MAX_REASONS) {
			fprintf(stderr, "netdx drops: %s takes at most %d reasons\n", opt, MAX_REASONS);
			ret = ND_EXIT_USAGE;
			break;
		}
		if (nd_reasons_lookup(rs, tok, &out[*n]) < 0) {
			fprintf(stderr, "netdx drops: %s %s: this kernel has no such drop reason "
				"(see 'netdx drops --list-reasons')\n", opt, tok);
			ret = ND_EXIT_USAGE;
			break;
		}
		(*n)++;
	}
	if (ret == ND_EXIT_OK && *n == 0) {
		fprintf(stderr, "netdx drops: %s wants a comma-separated list of reasons, "
			"e.g. NETFILTER_DROP,NO_SOCKET\n", opt);
		ret = ND_EXIT_USAGE;
	}
	free(copy);
	return ret;
}

/* --event-skip: a list, or "benign" (those of trace/benign.h this kernel
 * has). Exit code or 0. */
static int parse_ev_skip(const struct nd_reasons *rs, const char *list, uint32_t *out, size_t *n)
{
	if (strcmp(list, "benign") != 0)
		return parse_reasons(rs, "--event-skip", list, out, n);
	*n = 0;
	for (const char *const *b = nd_benign_reasons(); *b && *n < MAX_REASONS; b++)
		if (nd_reasons_lookup(rs, *b, &out[*n]) == 0)
			(*n)++;
	return ND_EXIT_OK;
}

static void list_reasons(const struct nd_reasons *rs)
{
	for (size_t i = 0; i < nd_reasons_count(rs); i++) {
		uint32_t v;
		const char *name;

		nd_reasons_at(rs, i, &v, &name);
		printf("%10u  %-12s %s\n", v, nd_reasons_subsys(rs, v), name);
	}
}

static int check_output(const char *what)
{
	fflush(stdout);
	if (ferror(stdout)) {
		fprintf(stderr, "netdx drops: error writing %s: %s\n", what, strerror(errno));
		return ND_EXIT_INPUT;
	}
	return ND_EXIT_OK;
}

/* The main loop: events, live refreshes, until a signal, the duration or
 * an output error. Returns an exit code; *ended_by says why it stopped. */
static int run_loop(struct run *r, uint64_t start, const char **ended_by)
{
	const struct drops_cfg *cfg = r->cfg;
	uint64_t interval_ns = (uint64_t)(cfg->interval * 1e9);
	uint64_t tick_ns = interval_ns ? interval_ns : 1000000000u;   /* names, map reads */
	uint64_t deadline = cfg->duration > 0 ? start + (uint64_t)(cfg->duration * 1e9) : 0;
	uint64_t next = start + tick_ns, seq = 0;
	uint64_t st[ND_ST_MAX];

	for (;;) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC), until = next;
		int rc;

		if (stop_signal) {
			*ended_by = stop_signal == SIGTERM ? "SIGTERM" : "SIGINT";
			return ND_EXIT_OK;
		}
		if (deadline && now >= deadline) {
			*ended_by = "duration";
			return ND_EXIT_OK;
		}
		if (deadline && deadline < until)
			until = deadline;
		if (until > now + 200000000u)
			until = now + 200000000u;
		rc = nd_bpf_poll(r->bpf, until > now ? (int)((until - now + 999999) / 1000000) : 0);
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "netdx drops: reading events failed: %s\n", strerror(-rc));
			*ended_by = "error";
			return ND_EXIT_INPUT;
		}
		now = clock_ns(CLOCK_MONOTONIC);
		if (now >= next) {
			rc = snapshot(r);
			if (rc == 0 && interval_ns)
				rc = nd_bpf_stats(r->bpf, st);
			if (rc < 0) {
				fprintf(stderr, "netdx drops: reading the kernel's tables failed: %s\n",
					strerror(-rc));
				*ended_by = "error";
				return ND_EXIT_INPUT;
			}
			if (interval_ns)
				nd_dw_interval(&r->w, r->agg, ++seq, (double)(now - start) / 1e9,
					       cfg->interval, st);
			while (next <= now)
				next += tick_ns;
		}
		if (check_output("the output") != ND_EXIT_OK) {
			*ended_by = "error";
			return ND_EXIT_INPUT;
		}
	}
}

/* Checks and conversions of the options into the kernel's config. */
static int configure(struct drops_cfg *cfg, struct run *r, struct nd_bpf_cfg *bc,
		     uint32_t *reasons)
{
	int rc;

	if (cfg->attach) {
		if (!strcmp(cfg->attach, "auto"))
			bc->mode = ND_ATTACH_AUTO;
		else if (!strcmp(cfg->attach, "tp_btf") || !strcmp(cfg->attach, "btf"))
			bc->mode = ND_ATTACH_BTF;
		else if (!strcmp(cfg->attach, "tp"))
			bc->mode = ND_ATTACH_TP;
		else {
			fprintf(stderr, "netdx drops: --attach wants auto, tp_btf or tp, not '%s'\n",
				cfg->attach);
			return ND_EXIT_USAGE;
		}
	}
	if ((cfg->ring_size & (cfg->ring_size - 1)) != 0) {
		fprintf(stderr, "netdx drops: --ring-size must be a power of two (e.g. 256K), not %llu\n",
			(unsigned long long)cfg->ring_size);
		return ND_EXIT_USAGE;
	}
	if ((cfg->event_rate != 100 || cfg->ring_size != 256 * 1024 || cfg->event_skip) &&
	    !cfg->events) {
		fprintf(stderr, "netdx drops: --event-rate, --event-skip and --ring-size apply to "
			"--events only\n");
		return ND_EXIT_USAGE;
	}
	if (cfg->max_flows && !cfg->flows) {
		fprintf(stderr, "netdx drops: --max-flows applies to --flows only\n");
		return ND_EXIT_USAGE;
	}
	if (!cfg->max_flows)
		cfg->max_flows = cfg->flows ? cfg->max_keys : 0;
	if (cfg->proto && parse_proto(cfg->proto, &bc->proto) < 0) {
		fprintf(stderr, "netdx drops: --proto wants tcp, udp, icmp, icmpv6, sctp, gre or a "
			"protocol number 1-255, not '%s'\n", cfg->proto);
		return ND_EXIT_USAGE;
	}
	if (cfg->host) {
		if (inet_pton(AF_INET, cfg->host, bc->host) == 1) {
			bc->host_family = 4;
		} else if (inet_pton(AF_INET6, cfg->host, bc->host) == 1) {
			bc->host_family = 6;
		} else {
			fprintf(stderr, "netdx drops: --host wants an IPv4 or IPv6 address, not '%s'\n",
				cfg->host);
			return ND_EXIT_USAGE;
		}
	}
	bc->port = (uint16_t)cfg->port;
	if (cfg->reason) {
		rc = parse_reasons(r->reasons, "--reason", cfg->reason, reasons, &bc->nreasons);
		if (rc)
			return rc;
		bc->reasons = reasons;
	}
	if (cfg->event_skip) {
		rc = parse_ev_skip(r->reasons, cfg->event_skip, reasons + MAX_REASONS, &bc->nev_skip);
		if (rc)
			return rc;
		bc->ev_skip = reasons + MAX_REASONS;
	}
	if (cfg->netns) {
		rc = nd_names_netns_arg(cfg->netns, &bc->netns);
		if (rc < 0) {
			fprintf(stderr, "netdx drops: --netns %s: %s (give a name from 'ip netns list', "
				"a path like /proc/PID/ns/net, or a namespace inode)\n", cfg->netns,
				rc == -EINVAL ? "not a network namespace" :
				rc == -ENOENT ? "no such namespace" : strerror(-rc));
			return rc == -EINVAL ? ND_EXIT_USAGE : ND_EXIT_INPUT;
		}
	}
	if (cfg->dev) {
		uint32_t ns = 0;

		rc = nd_names_dev_arg(cfg->netns, cfg->dev, &bc->ifindex, &ns);
		if (rc < 0) {
			fprintf(stderr, "netdx drops: --dev %s: %s in %s%s\n", cfg->dev,
				rc == -ENODEV ? "no such device" : strerror(-rc),
				cfg->netns ? "namespace " : "netdx's own namespace",
				cfg->netns ? cfg->netns : " (name its namespace with --netns, or "
				"give an ifindex)");
			return rc == -EINVAL ? ND_EXIT_USAGE : ND_EXIT_INPUT;
		}
		/* A name means that device in that namespace. */
		if (ns && !bc->netns)
			bc->netns = ns;
	}
	bc->flows = cfg->flows;
	bc->tunnels = !cfg->no_tunnels;
	bc->max_keys = (uint32_t)cfg->max_keys;
	bc->max_flows = (uint32_t)cfg->max_flows;
	bc->ev_rate = cfg->event_rate;
	bc->ring_bytes = (uint32_t)cfg->ring_size;
	bc->verbose = cfg->verbose;
	if (cfg->events) {
		bc->on_event = on_event;
		bc->event_ctx = r;
	}
	return ND_EXIT_OK;
}

static void run_free(struct run *r)
{
	nd_bpf_close(r->bpf);
	nd_agg_free(r->agg);
	nd_reasons_free(r->reasons);
	nd_ksyms_free(r->ksyms);
	nd_names_free(r->names);
	free(r->dk);
	free(r->dv);
	free(r->sk);
	free(r->sv);
	free(r->fk);
	free(r->fv);
	free(r->sfk);
	free(r->sfv);
}

int cmd_drops_main(int argc, char **argv)
{
	struct drops_cfg cfg = {
		.interval = -1,
		.event_rate = 100,
		.ring_size = 256 * 1024,
		.max_keys = 10240,
		.top = 20,
	};
	struct nd_bpf_cfg bc = { 0 };
	struct nd_drops_summary sum = { 0 };
	struct nd_drops_filters flt;
	uint32_t reasons[2 * MAX_REASONS];     /* --reason, then --event-skip */
	char err[ND_BPF_ERRLEN];
	struct sigaction sa;
	struct run r;
	const char *ended_by = "error";
	uint64_t start;
	int first, rc, ret;

	rc = nd_opt_parse("drops", drops_opts, &cfg, argc, argv, &first);
	if (rc > 0) {
		cmd_drops_usage(stdout);
		return ND_EXIT_OK;
	}
	if (rc < 0)
		return ND_EXIT_USAGE;
	if (first < argc) {
		fprintf(stderr, "netdx drops: unexpected argument '%s' (filters are options: see "
			"'netdx help drops')\n", argv[first]);
		return ND_EXIT_USAGE;
	}
	if (cfg.interval < 0)
		cfg.interval = !cfg.json && !cfg.events && isatty(STDOUT_FILENO) ? 2 : 0;
	else if (cfg.interval > 0 && cfg.interval < 0.1) {
		fprintf(stderr, "netdx drops: --interval %g is too short (at least 0.1 s, or 0 for none)\n",
			cfg.interval);
		return ND_EXIT_USAGE;
	}

	memset(&r, 0, sizeof(r));
	r.cfg = &cfg;
	rc = nd_reasons_load(&r.reasons);
	if (rc < 0) {
		fprintf(stderr, "netdx drops: cannot read the drop reasons from the kernel's BTF "
			"(/sys/kernel/btf/vmlinux): %s; netdx drops needs a kernel built with "
			"CONFIG_DEBUG_INFO_BTF=y\n", rc == -ENOMSG ? "no enum skb_drop_reason in it" :
			strerror(-rc));
		return ND_EXIT_INPUT;
	}
	if (cfg.list_reasons) {
		list_reasons(r.reasons);
		nd_reasons_free(r.reasons);
		return check_output("the list");
	}
	ret = configure(&cfg, &r, &bc, reasons);
	if (ret != ND_EXIT_OK)
		goto out;
	if (cfg.print_config)
		nd_opt_print(stderr, drops_opts, &cfg);

	r.agg = nd_agg_new();
	r.ksyms = nd_ksyms_new(4096);
	r.names = nd_names_new(4096);
	r.dk = calloc(cfg.max_keys, sizeof(*r.dk));
	r.dv = calloc(cfg.max_keys, sizeof(*r.dv));
	r.sk = calloc(cfg.max_keys, sizeof(*r.sk));
	r.sv = calloc(cfg.max_keys, sizeof(*r.sv));
	if (cfg.flows) {
		r.fk = calloc(cfg.max_flows, sizeof(*r.fk));
		r.fv = calloc(cfg.max_flows, sizeof(*r.fv));
		r.sfk = calloc(cfg.max_flows, sizeof(*r.sfk));
		r.sfv = calloc(cfg.max_flows, sizeof(*r.sfv));
	}
	if (!r.agg || !r.ksyms || !r.names || !r.dk || !r.dv || !r.sk || !r.sv ||
	    (cfg.flows && (!r.fk || !r.fv || !r.sfk || !r.sfv))) {
		fprintf(stderr, "netdx drops: out of memory\n");
		ret = ND_EXIT_INPUT;
		goto out;
	}
	nd_dw_init(&r.w, stdout, cfg.json);
	r.w.tty = isatty(STDOUT_FILENO);
	r.w.flows = cfg.flows;
	r.w.top = cfg.top;
	r.w.reasons = r.reasons;
	r.w.ksyms = r.ksyms;
	r.w.names = r.names;
	r.w.mono_to_real_ns = (int64_t)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;      /* no SA_RESTART: a signal ends the wait */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);       /* a closed output is a write error, not a kill */

	rc = nd_bpf_open(&r.bpf, &bc, err);
	if (rc < 0) {
		fprintf(stderr, "netdx drops: %s\n", err);
		ret = rc == -EPERM ? ND_EXIT_PERM : ND_EXIT_INPUT;
		goto out;
	}
	flt = (struct nd_drops_filters){ cfg.netns, cfg.dev, cfg.reason, cfg.host, cfg.proto,
					 cfg.port };
	nd_dw_meta(&r.w, NETDX_VERSION, nd_bpf_info(r.bpf), &flt, bc.max_keys, bc.max_flows,
		   cfg.events);
	if (nd_bpf_info(r.bpf)->mounted_tracefs)
		fprintf(stderr, "netdx drops: mounted tracefs on /sys/kernel/tracing (left mounted)\n");

	start = clock_ns(CLOCK_MONOTONIC);
	ret = check_output("the output");
	if (ret == ND_EXIT_OK)
		ret = run_loop(&r, start, &ended_by);

	/* The final report, also after an error in the loop: what was counted
	 * is still worth saying (unless the output itself failed). */
	sum.seconds = (double)(clock_ns(CLOCK_MONOTONIC) - start) / 1e9;
	sum.ended_by = ended_by;
	sum.info = nd_bpf_info(r.bpf);
	sum.max_keys = bc.max_keys;
	sum.max_flows = bc.max_flows;
	sum.events = cfg.events;
	if (cfg.events)
		nd_bpf_poll(r.bpf, 0);  /* what is still in the ring */
	rc = snapshot(&r);
	if (rc == 0)
		rc = nd_bpf_stats(r.bpf, sum.st);
	if (rc == 0)
		rc = nd_bpf_missed(r.bpf, &sum.missed);
	if (rc < 0) {
		fprintf(stderr, "netdx drops: reading the kernel's tables failed: %s\n", strerror(-rc));
		if (ret == ND_EXIT_OK)
			ret = ND_EXIT_INPUT;
		goto out;
	}
	sum.drop_keys = cfg.flows ? r.nf : r.nd;
	sum.sig_keys = cfg.flows ? r.nsf : r.ns;
	sum.place_keys = r.nd;
	sum.sig_place_keys = r.ns;
	sum.ksyms_overflow = nd_ksyms_overflow(r.ksyms);
	sum.names_overflow = nd_names_overflow(r.names);
	sum.kallsyms_hidden = r.kallsyms_hidden;
	if (!ferror(stdout)) {
		nd_dw_summary(&r.w, r.agg, &sum);
		rc = check_output("the summary");
		if (ret == ND_EXIT_OK)
			ret = rc;
	}
out:
	run_free(&r);       /* detaches the programs (skeleton destroy) */
	return ret;
}
