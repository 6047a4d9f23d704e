/* SPDX-License-Identifier: MIT */
/*
 * netdx tcp: per-connection TCP report from capture files, stdin, the
 * embedded demo capture or a live interface.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "capture/source.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "core/decode.h"
#include "netdx_version.h"
#include "report/conn_report.h"
#include "tcp/conn.h"

extern const unsigned char nd_demo_pcap[];
extern const size_t nd_demo_pcap_len;

struct tcp_cfg {
	const char *iface;
	const char *filter;
	double duration;
	uint64_t count;
	double interval;
	uint64_t buffer_size;
	uint64_t snaplen;
	bool promisc;
	bool json, csv, timeline;
	uint64_t max_flows;
	double idle_timeout;
	double linger;
	bool demo;
	bool print_config;
};

#define OFF(f) offsetof(struct tcp_cfg, f)

static const struct nd_opt tcp_opts[] = {
	{ "interface", 'i', ND_OPT_STRING, OFF(iface), "IFACE", "capture live on IFACE (needs CAP_NET_RAW)", 0, 0 },
	{ "filter", 'f', ND_OPT_STRING, OFF(filter), "EXPR", "tcpdump-syntax filter, e.g. 'tcp port 443'", 0, 0 },
	{ "duration", 0, ND_OPT_SECONDS, OFF(duration), "S", "live: stop after S seconds (default: until SIGINT)", 0.001, 31536000 },
	{ "count", 'c', ND_OPT_U64, OFF(count), "N", "stop after N packets", 1, 1e15 },
	{ "interval", 0, ND_OPT_SECONDS, OFF(interval), "S", "live: report active connections every S seconds", 0.1, 86400 },
	{ "buffer-size", 'B', ND_OPT_BYTES, OFF(buffer_size), "BYTES", "live: kernel capture buffer (e.g. 64M)", 65536, 2147483647 },
	{ "snaplen", 's', ND_OPT_U64, OFF(snaplen), "N", "live: bytes captured per packet (default 262144)", 64, 262144 },
	{ "promisc", 0, ND_OPT_FLAG, OFF(promisc), NULL, "live: promiscuous mode (also needs CAP_NET_ADMIN)", 0, 0 },
	{ "json", 0, ND_OPT_FLAG, OFF(json), NULL, "NDJSON output (meta line, one conn per line, summary)", 0, 0 },
	{ "csv", 0, ND_OPT_FLAG, OFF(csv), NULL, "CSV output, one row per connection (summary on stderr)", 0, 0 },
	{ "timeline", 0, ND_OPT_FLAG, OFF(timeline), NULL, "JSON: each direction's limit over time, intervals of about one RTT labelled sender, receiver, network or idle", 0, 0 },
	{ "max-flows", 0, ND_OPT_U64, OFF(max_flows), "N", "connection table cap (default 262144); beyond it the oldest closed, then least recently active, connections are reported early and counted as evicted", 1, 1e8 },
	{ "idle-timeout", 0, ND_OPT_SECONDS, OFF(idle_timeout), "S", "end connections idle for S seconds of capture time (default 300; 0 = never)", 0, 1e7 },
	{ "linger", 0, ND_OPT_SECONDS, OFF(linger), "S", "keep closed connections S seconds for late ACKs and FINs (default 1: a FIN resent after a lost ACK comes 0.2 s, then 0.4 s later)", 0, 3600 },
	{ "demo", 0, ND_OPT_FLAG, OFF(demo), NULL, "read the capture built into netdx (made between two network namespaces)", 0, 0 },
	{ "print-config", 0, ND_OPT_FLAG, OFF(print_config), NULL, "print the effective options to stderr before running", 0, 0 },
	ND_OPT_END
};

void cmd_tcp_usage(FILE *f)
{
	fprintf(f,
		"usage: netdx tcp [options] FILE...      read pcap/pcapng files in order ('-' = stdin)\n"
		"       netdx tcp [options] -i IFACE     capture live until SIGINT or --duration/--count\n"
		"       netdx tcp [options] --demo       read the built-in demo capture\n\n"
		"Reports every TCP connection once, when it ends: client and server (the SYN's\n"
		"sender; without a handshake the side with the ephemeral port), first and last\n"
		"timestamp, state (open, half-closed, closed, reset, timeout), and per direction\n"
		"packets, bytes, payload bytes, SYN/FIN/RST, MSS, window scale, SACK and timestamp\n"
		"options and the handshake round trip. A summary follows: packets read, decoded,\n"
		"skipped by reason, connections, evictions and, live, the kernel's capture drops.\n"
		"Tunnels (VXLAN, Geneve, GRE, IP-in-IP) are looked through; the tunnel id is part\n"
		"of the connection key.\n\n"
		"Inference, per direction: RTT (data to ACK, Karn; TCP timestamps), retransmissions\n"
		"(fast, timeout, spurious), dupacks, reordering, capture loss, zero windows, the\n"
		"window scale when the handshake was missed, an estimated congestion window,\n"
		"delayed ACKs, the sender's reaction time and idle gaps, and what limited the\n"
		"transfer over time: sender, receiver or network (the verdict; --timeline for the\n"
		"intervals). Per connection: stalls (RTO, SYN retries, zero window, a slow\n"
		"responder) and request/response transactions with latency percentiles, the\n"
		"slowest tied to the stall that delayed them. The text view of files starts\n"
		"with FINDINGS: the worst connections and why. Rules: src/tcp/infer.h, limits.h.\n\n"
		"examples:\n"
		"  netdx tcp capture.pcap                     findings, then one line per connection\n"
		"  netdx tcp --json --timeline capture.pcap   everything, NDJSON\n"
		"  netdx tcp -i eth0 -f 'tcp port 443' --duration 30\n\noptions:\n");
	nd_opt_help(f, tcp_opts);
	fprintf(f, "\nexit codes: 0 ok; 1 missing/unreadable file, not a capture, unsupported link\n"
		   "type or no such interface; 2 bad option or filter; 3 truncated or corrupt\n"
		   "capture (the report covers what was read; the message gives the byte offset);\n"
		   "4 no permission for live capture (needs CAP_NET_RAW); 130 interrupted while\n"
		   "reading files.\n");
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct run {
	const struct tcp_cfg *cfg;
	struct nd_tracker *trk;
	struct nd_conn_writer w;
	struct nd_tcp_summary sum;
	struct nd_source *src;      /* the source being read */
	bool count_reached;
};

static void on_conn_done(void *ctx, const struct nd_conn *c)
{
	struct run *r = ctx;

	nd_cw_conn(&r->w, c, false);
}

static void on_frame(void *ctx, const struct nd_frame *f)
{
	struct run *r = ctx;
	struct nd_tcp_summary *s = &r->sum;
	struct nd_pkt p;
	enum nd_skip sk;

	s->frames++;
	if (!s->first_ts || f->ts_ns < s->first_ts)
		s->first_ts = f->ts_ns;
	if (f->ts_ns > s->last_ts)
		s->last_ts = f->ts_ns;
	sk = nd_decode(f->link, f->data, f->caplen, f->wirelen, &p);
	if (sk != ND_SKIP_NONE) {
		s->skipped[sk]++;
	} else {
		if (p.frame_truncated)
			s->snap_cut++;
		if (p.anomaly)
			s->malformed[p.anomaly]++;
		if (p.l4 == 6) {
			s->tcp++;
			nd_tracker_packet(r->trk, &p, f->ts_ns, f->wirelen);
		} else {
			s->udp++;
		}
	}
	if (r->cfg->count && s->frames >= r->cfg->count && !r->count_reached) {
		r->count_reached = true;
		nd_source_break(r->src);
	}
}

static void on_snapshot(void *ctx, const struct nd_conn *c)
{
	struct run *r = ctx;

	nd_cw_conn(&r->w, c, true);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int exit_for(int src_rc)
{
	switch (src_rc) {
	case ND_SRC_EFILTER: return ND_EXIT_USAGE;
	case ND_SRC_EPERM: return ND_EXIT_PERM;
	case ND_SRC_ETRUNC: return ND_EXIT_PARTIAL;
	default: return ND_EXIT_INPUT;
	}
}

/* Read one offline source to its end. Returns 0 or an exit code. */
static int read_offline(struct run *r, struct nd_input_report *in, char *err)
{
	int n;

	while (!stop_signal && !r->count_reached) {
		n = nd_source_dispatch(r->src, 4096, on_frame, r, err);
		if (n < 0) {
			in->error = strdup(err);
			fprintf(stderr, "netdx tcp: %s\n", err);
			return exit_for(n);
		}
		if (n == 0 && !r->count_reached)
			break;
	}
	return 0;
}

static int read_live(struct run *r, char *err)
{
	const struct tcp_cfg *cfg = r->cfg;
	uint64_t start = mono_ns(), deadline = 0, next_report = 0, seq = 0;

	if (cfg->duration > 0)
		deadline = start + (uint64_t)(cfg->duration * 1e9);
	if (cfg->interval > 0)
		next_report = start + (uint64_t)(cfg->interval * 1e9);
	while (!stop_signal && !r->count_reached) {
		uint64_t now = mono_ns(), until = now + 1000000000u;
		int n;

		if (deadline && deadline < until)
			until = deadline;
		if (next_report && next_report < until)
			until = next_report;
		if (nd_source_wait(r->src, (int)((until - now + 999999) / 1000000)) < 0) {
			snprintf(err, ND_SRC_ERRLEN, "%s: poll failed: %s", nd_source_name(r->src),
				 strerror(errno));
			fprintf(stderr, "netdx tcp: %s\n", err);
			return ND_EXIT_INPUT;
		}
		n = nd_source_dispatch(r->src, -1, on_frame, r, err);
		if (n < 0) {
			fprintf(stderr, "netdx tcp: %s\n", err);
			return exit_for(n);
		}
		nd_tracker_advance(r->trk, real_ns());
		now = mono_ns();
		if (next_report && now >= next_report) {
			nd_tracker_get_stats(r->trk, &r->sum.trk);
			nd_source_stats(r->src, &r->sum.cap);
			nd_cw_interval(&r->w, ++seq, &r->sum);
			nd_tracker_foreach(r->trk, on_snapshot, r);
			fflush(r->w.f);
			while (next_report <= now)
				next_report += (uint64_t)(cfg->interval * 1e9);
		}
		if (deadline && now >= deadline)
			break;
	}
	return 0;
}

int cmd_tcp_main(int argc, char **argv)
{
	struct tcp_cfg cfg = {
		.max_flows = 262144,
		.idle_timeout = 300,
		.linger = 1,
	};
	struct nd_tracker_cfg tc = { 0 };
	struct nd_input_report *inputs = NULL;
	struct sigaction sa;
	char err[ND_SRC_ERRLEN];
	struct run r;
	int first, rc, ret = ND_EXIT_OK, ninputs;

	rc = nd_opt_parse("tcp", tcp_opts, &cfg, argc, argv, &first);
	if (rc > 0) {
		cmd_tcp_usage(stdout);
		return ND_EXIT_OK;
	}
	if (rc < 0)
		return ND_EXIT_USAGE;
	ninputs = argc - first;
	if (cfg.json && cfg.csv) {
		fprintf(stderr, "netdx tcp: --json and --csv exclude each other\n");
		return ND_EXIT_USAGE;
	}
	if ((cfg.iface != NULL) + (ninputs > 0) + cfg.demo > 1) {
		fprintf(stderr, "netdx tcp: give one kind of input: files, -i IFACE or --demo\n");
		return ND_EXIT_USAGE;
	}
	if (!cfg.iface && ninputs == 0 && !cfg.demo) {
		fprintf(stderr, "netdx tcp: no input: give capture files ('-' for stdin), -i IFACE, "
				"or --demo (see 'netdx help tcp')\n");
		return ND_EXIT_USAGE;
	}
	if (!cfg.iface && (cfg.duration > 0 || cfg.interval > 0 || cfg.buffer_size || cfg.snaplen ||
			   cfg.promisc)) {
		fprintf(stderr, "netdx tcp: --duration, --interval, --buffer-size, --snaplen and "
				"--promisc apply to live capture (-i IFACE) only\n");
		return ND_EXIT_USAGE;
	}
	/* Fail fast on files that cannot be opened, before any output. */
	for (int i = first; i < argc; i++) {
		if (strcmp(argv[i], "-") != 0 && access(argv[i], R_OK) != 0) {
			fprintf(stderr, "netdx tcp: %s: cannot open: %s\n", argv[i], strerror(errno));
			return ND_EXIT_INPUT;
		}
	}
	if (cfg.timeline && !cfg.json) {
		fprintf(stderr, "netdx tcp: --timeline needs --json (the timeline is a list per direction)\n");
		return ND_EXIT_USAGE;
	}
	if (cfg.print_config)
		nd_opt_print(stderr, tcp_opts, &cfg);

	memset(&r, 0, sizeof(r));
	r.cfg = &cfg;
	nd_cw_init(&r.w, cfg.json ? ND_FMT_JSON : cfg.csv ? ND_FMT_CSV : ND_FMT_TEXT, stdout);
	tc.max_flows = cfg.max_flows;
	tc.idle_timeout_ns = (uint64_t)(cfg.idle_timeout * 1e9);
	tc.linger_ns = (uint64_t)(cfg.linger * 1e9);
	tc.timeline = cfg.timeline;
	if (!cfg.iface)
		nd_cw_defer_table(&r.w);        /* findings first */
	if (getrandom(&tc.seed, sizeof(tc.seed), 0) != sizeof(tc.seed))
		tc.seed = (uint64_t)real_ns() ^ ((uint64_t)getpid() << 32);
	tc.done = on_conn_done;
	tc.ctx = &r;
	r.trk = nd_tracker_new(&tc);
	inputs = calloc((size_t)(ninputs > 0 ? ninputs : 1), sizeof(*inputs));
	if (!r.trk || !inputs) {
		fprintf(stderr, "netdx tcp: out of memory\n");
		nd_tracker_free(r.trk);
		free(inputs);
		return ND_EXIT_INPUT;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	nd_cw_meta(&r.w, NETDX_VERSION, "tcp");
	r.sum.inputs = inputs;

	if (cfg.iface) {
		struct nd_live_cfg lc = {
			.iface = cfg.iface,
			.snaplen = (uint32_t)cfg.snaplen,
			.buffer_size = cfg.buffer_size,
			.promisc = cfg.promisc,
		};
		r.sum.ninputs = 1;
		inputs[0].name = cfg.iface;
		rc = nd_source_open_live(&r.src, &lc, err);
		if (rc == 0)
			rc = nd_source_set_filter(r.src, cfg.filter, err);
		if (rc < 0) {
			fprintf(stderr, "netdx tcp: %s\n", err);
			ret = exit_for(rc);
			nd_source_close(r.src);
			goto out;
		}
		inputs[0].link = nd_link_name(nd_source_link(r.src));
		fprintf(stderr, "netdx tcp: capturing on %s (%s)%s\n", cfg.iface, inputs[0].link,
			cfg.duration > 0 ? "" : "; Ctrl-C to stop and report");
		ret = read_live(&r, err);
		nd_source_stats(r.src, &r.sum.cap);
		inputs[0].frames = nd_source_frames(r.src);
		nd_source_close(r.src);
		r.src = NULL;
	} else {
		int n = cfg.demo ? 1 : ninputs;

		for (int i = 0; i < n && !stop_signal && !r.count_reached; i++) {
			struct nd_input_report *in = &inputs[i];

			r.sum.ninputs = (size_t)i + 1;
			if (cfg.demo) {
				in->name = "demo.pcap (built in)";
				rc = nd_source_open_mem(&r.src, in->name, nd_demo_pcap, nd_demo_pcap_len, err);
			} else {
				in->name = strcmp(argv[first + i], "-") ? argv[first + i] : "<stdin>";
				rc = nd_source_open_file(&r.src, argv[first + i], err);
			}
			if (rc == 0)
				rc = nd_source_set_filter(r.src, cfg.filter, err);
			if (rc < 0) {
				fprintf(stderr, "netdx tcp: %s\n", err);
				in->error = strdup(err);
				ret = exit_for(rc);
				nd_source_close(r.src);
				r.src = NULL;
				if (r.sum.frames == 0)
					goto out;       /* nothing read: the message is the whole answer */
				break;                  /* report what the earlier files held */
			}
			in->link = nd_link_name(nd_source_link(r.src));
			rc = read_offline(&r, in, err);
			in->frames = nd_source_frames(r.src);
			nd_source_close(r.src);
			r.src = NULL;
			if (rc) {
				ret = rc;
				break;  /* the report covers what was read */
			}
		}
		if (stop_signal && ret == ND_EXIT_OK)
			ret = ND_EXIT_INTERRUPTED;
	}

	nd_tracker_flush(r.trk);
	nd_tracker_get_stats(r.trk, &r.sum.trk);
	r.sum.interrupted = stop_signal != 0;
	nd_cw_summary(&r.w, &r.sum);
out:
	fflush(stdout);
	if (ferror(stdout) && ret == ND_EXIT_OK) {
		fprintf(stderr, "netdx tcp: error writing output\n");
		ret = ND_EXIT_INPUT;
	}
	for (size_t i = 0; i < r.sum.ninputs; i++)
		free((char *)inputs[i].error);
	free(inputs);
	nd_tracker_free(r.trk);
	return ret;
}
