/* SPDX-License-Identifier: MIT */
/* drops_report: text and NDJSON views of `netdx drops`. */
#include "trace/drops_report.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "report/json.h"
#include "trace/ksyms.h"
#include "trace/names.h"
#include "trace/reasons.h"

#define ND_DROPS_SCHEMA 1

void nd_dw_init(struct nd_drops_writer *w, FILE *f, bool json)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->json = json;
	nd_json_init(&w->j, f);
}

/* ---- names ---------------------------------------------------------------- */

const char *nd_dw_signal_name(unsigned type)
{
	switch (type) {
	case ND_SIG_RETRANS: return "retransmit";
	case ND_SIG_SYNACK_RETRANS: return "synack_retransmit";
	case ND_SIG_SEND_RESET: return "reset_sent";
	case ND_SIG_RECV_RESET: return "reset_received";
	case ND_SIG_RCVQ_FULL: return "rcvqueue_full";
	default: return "unknown";
	}
}

/* include/net/tcp_states.h: part of the kernel's ABI with its tracepoints. */
const char *nd_dw_tcp_state(unsigned state)
{
	static const char *const names[] = {
		"-", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
		"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV",
	};
	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

static const char *l4_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case 0: return "hopopt";        /* IPv6 extension headers are not walked */
	case 1: return "icmp";
	case 4: return "ipip";
	case 6: return "tcp";
	case 17: return "udp";
	case 41: return "ipv6";
	case 44: return "ipv6-frag";
	case 47: return "gre";
	case 50: return "esp";
	case 58: return "icmpv6";
	case 132: return "sctp";
	default:
		snprintf(buf, len, "ip%u", p);
		return buf;
	}
}

static const char *proto_str(uint16_t ethertype, uint8_t l4, char *buf, size_t len)
{
	char b[16];

	switch (ethertype) {
	case 0x0800:
		snprintf(buf, len, "ipv4/%s", l4_name(l4, b, sizeof(b)));
		break;
	case 0x86DD:
		snprintf(buf, len, "ipv6/%s", l4_name(l4, b, sizeof(b)));
		break;
	case 0x0806:
		snprintf(buf, len, "arp");
		break;
	case 0:
		snprintf(buf, len, "-");
		break;
	default:
		snprintf(buf, len, "0x%04x", ethertype);
	}
	return buf;
}

static const char *endpoint(const struct nd_tuple *t, const uint8_t *addr, uint16_t port, char *buf,
			    size_t len)
{
	char a[INET6_ADDRSTRLEN];
	bool ports = t->l4proto == 6 || t->l4proto == 17;

	inet_ntop(t->family == 4 ? AF_INET : AF_INET6, addr, a, sizeof(a));
	if (!ports)
		snprintf(buf, len, "%s", a);
	else if (t->family == 6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
	return buf;
}

static const char *tun_name(uint8_t t)
{
	return t == ND_TUN_VXLAN ? "vxlan" : t == ND_TUN_GENEVE ? "geneve" : NULL;
}

static const char *flow_str(const struct nd_tuple *t, uint8_t tun, uint32_t vni, char *buf,
			    size_t len)
{
	char s[64], d[64];

	if (!t->family) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (tun)
		snprintf(buf, len, "%s > %s (%s %u)", endpoint(t, t->saddr, t->sport, s, sizeof(s)),
			 endpoint(t, t->daddr, t->dport, d, sizeof(d)), tun_name(tun), vni);
	else
		snprintf(buf, len, "%s > %s", endpoint(t, t->saddr, t->sport, s, sizeof(s)),
			 endpoint(t, t->daddr, t->dport, d, sizeof(d)));
	return buf;
}

static const char *dev_str(struct nd_drops_writer *w, uint32_t netns, uint32_t ifindex, char *buf,
			   size_t len)
{
	const char *n = nd_names_dev(w->names, netns, ifindex);

	if (n)
		snprintf(buf, len, "%s", n);
	else if (ifindex)
		snprintf(buf, len, "if%u", ifindex);
	else
		snprintf(buf, len, "-");
	return buf;
}

static const char *netns_str(struct nd_drops_writer *w, uint32_t inode, char *buf, size_t len)
{
	const char *n = nd_names_netns(w->names, inode);

	if (n)
		snprintf(buf, len, "%s", n);
	else if (inode)
		snprintf(buf, len, "%u", inode);
	else
		snprintf(buf, len, "-");
	return buf;
}

static double wall_s(const struct nd_drops_writer *w, uint64_t ns)
{
	return ns ? (double)((int64_t)ns + w->mono_to_real_ns) / 1e9 : 0;
}

/* ---- JSON pieces ------------------------------------------------------------ */

/* @key: @v when @set, else null (a count that has no meaning here). */
static void json_u64_if(struct nd_json *j, const char *key, bool set, uint64_t v)
{
	if (set)
		nd_json_u64(j, key, v);
	else
		nd_json_null(j, key);
}

static void json_flow(struct nd_drops_writer *w, const struct nd_tuple *t, uint8_t tun, uint32_t vni)
{
	char s[64], d[64], b[16];
	struct nd_json *j = &w->j;

	if (!t->family) {
		nd_json_null(j, "flow");
		return;
	}
	nd_json_obj_open(j, "flow");
	nd_json_str(j, "src", endpoint(t, t->saddr, t->sport, s, sizeof(s)));
	nd_json_str(j, "dst", endpoint(t, t->daddr, t->dport, d, sizeof(d)));
	nd_json_str(j, "proto", l4_name(t->l4proto, b, sizeof(b)));
	nd_json_str(j, "tunnel", tun_name(tun));
	json_u64_if(j, "vni", tun, vni);
	nd_json_obj_close(j);
}

static void json_place(struct nd_drops_writer *w, uint32_t reason, uint64_t location,
		       uint32_t ifindex, uint32_t netns, uint16_t ethertype, uint8_t l4proto)
{
	char buf[256];
	struct nd_json *j = &w->j;

	nd_json_str(j, "reason", nd_reasons_name(w->reasons, reason, buf, sizeof(buf)));
	nd_json_u64(j, "reason_code", reason);
	nd_json_str(j, "subsys", nd_reasons_subsys(w->reasons, reason));
	nd_json_str(j, "location", nd_ksyms_format(w->ksyms, location, buf, sizeof(buf)));
	snprintf(buf, sizeof(buf), "0x%" PRIx64, location);
	nd_json_str(j, "location_addr", buf);
	nd_json_u64(j, "ifindex", ifindex);
	nd_json_str(j, "dev", nd_names_dev(w->names, netns, ifindex));
	nd_json_u64(j, "netns", netns);
	nd_json_str(j, "netns_name", nd_names_netns(w->names, netns));
	nd_json_str(j, "proto", proto_str(ethertype, l4proto, buf, sizeof(buf)));
	nd_json_bool(j, "qdisc", nd_reasons_is_qdisc(w->reasons, reason));
}

/* Opens a row line: its type and, for a live refresh, the refresh's number. */
static struct nd_json *row_open(struct nd_drops_writer *w, const char *type, uint64_t seq)
{
	struct nd_json *j = &w->j;

	nd_json_obj_open(j, NULL);
	nd_json_str(j, "type", type);
	if (seq)
		nd_json_u64(j, "seq", seq);
	return j;
}

/* Closes it and ends the line. */
static void row_close(struct nd_json *j)
{
	nd_json_obj_close(j);
	nd_json_endline(j);
}

static void json_drop_row(struct nd_drops_writer *w, const char *type, const struct nd_drop_row *r,
			  uint64_t seq)
{
	struct nd_json *j = row_open(w, type, seq);

	json_place(w, r->key.reason, r->key.location, r->key.ifindex, r->key.netns,
		   r->key.ethertype, r->key.l4proto);
	json_flow(w, &r->key.flow, r->key.tun_type, r->key.vni);
	nd_json_u64(j, "packets", r->val.packets);
	nd_json_u64(j, "bytes", r->val.bytes);
	if (seq)
		nd_json_u64(j, "delta", r->delta);
	json_u64_if(j, "retrans", r->has_flow && r->key.flow.l4proto == 6, r->retrans);
	nd_json_double(j, "first_ts", wall_s(w, r->val.first_ns), 6);
	nd_json_double(j, "last_ts", wall_s(w, r->val.last_ns), 6);
	row_close(j);
}

static void json_sig_row(struct nd_drops_writer *w, const char *type, const struct nd_sig_row *r,
			 uint64_t seq)
{
	struct nd_json *j = row_open(w, type, seq);

	nd_json_str(j, "signal", nd_dw_signal_name(r->key.type));
	nd_json_str(j, "state", nd_dw_tcp_state(r->key.state));
	nd_json_u64(j, "netns", r->key.netns);
	nd_json_str(j, "netns_name", nd_names_netns(w->names, r->key.netns));
	json_flow(w, &r->key.flow, 0, 0);
	nd_json_u64(j, "count", r->val.count);
	if (seq)
		nd_json_u64(j, "delta", r->delta);
	nd_json_double(j, "last_ts", wall_s(w, r->val.last_ns), 6);
	row_close(j);
}

/* ---- meta --------------------------------------------------------------------- */

void nd_dw_meta(struct nd_drops_writer *w, const char *version, const struct nd_bpf_info *info,
		const struct nd_drops_filters *flt, uint32_t max_keys, uint32_t max_flows,
		bool events)
{
	struct nd_json *j = &w->j;

	if (!w->json) {
		fprintf(w->f, "netdx drops: attached via %s%s%s%s; flows %s, events %s; Ctrl-C ends "
			"with a summary\n", info->mode, info->fallback[0] ? " (tp_btf not used: " : "",
			info->fallback, info->fallback[0] ? ")" : "", w->flows ? "on" : "off",
			events ? "on" : "off");
		if (info->signals_missing[0])
			fprintf(w->f, "netdx drops: signals not attached: %s\n", info->signals_missing);
		fflush(w->f);
		return;
	}
	row_open(w, "meta", 0);
	nd_json_u64(j, "schema", ND_DROPS_SCHEMA);
	nd_json_str(j, "tool", "netdx");
	nd_json_str(j, "version", version);
	nd_json_str(j, "command", "drops");
	nd_json_str(j, "attach", info->mode);
	nd_json_str(j, "fallback", info->fallback[0] ? info->fallback : NULL);
	nd_json_bool(j, "mounted_tracefs", info->mounted_tracefs);
	nd_json_str(j, "signals_missing", info->signals_missing[0] ? info->signals_missing : NULL);
	nd_json_bool(j, "flows", w->flows);
	nd_json_bool(j, "events", events);
	nd_json_u64(j, "max_keys", max_keys);
	json_u64_if(j, "max_flows", w->flows, max_flows);
	nd_json_u64(j, "ncpus", info->ncpus);
	nd_json_obj_open(j, "filters");
	nd_json_str(j, "netns", flt->netns);
	nd_json_str(j, "dev", flt->dev);
	nd_json_str(j, "reason", flt->reason);
	nd_json_str(j, "host", flt->host);
	json_u64_if(j, "port", flt->port, flt->port);
	nd_json_str(j, "proto", flt->proto);
	nd_json_obj_close(j);
	row_close(j);
	fflush(w->f);
}

/* ---- text tables -------------------------------------------------------------- */

static size_t shown(const struct nd_drops_writer *w, size_t n)
{
	return w->top && w->top < n ? w->top : n;
}

static void text_places(struct nd_drops_writer *w, const struct nd_agg *a, bool live,
			double interval)
{
	char reason[64], loc[96], dev[32], ns[64], proto[24];
	size_t n, m;
	const struct nd_place_row *p = nd_agg_places(a, &n);

	m = shown(w, n);
	fprintf(w->f, "%s (%zu of %zu):\n", live ? "drops by place, most recent first" :
		"drops by place and reason", m, n);
	if (!n)
		return;
	if (live)
		fprintf(w->f, "%9s %8s ", "RATE/S", "DELTA");
	fprintf(w->f, "%10s %12s  %-24s %-32s %-16s %-18s %-10s", "DROPS", "BYTES", "REASON",
		"LOCATION", "DEVICE", "NETNS", "PROTO");
	if (w->flows)
		fprintf(w->f, " %6s %8s %8s", "FLOWS", "RETX", "NOFLOW");
	fputc('\n', w->f);
	for (size_t i = 0; i < m; i++) {
		if (live)
			fprintf(w->f, "%9.1f %8" PRIu64 " ", interval > 0 ? (double)p[i].delta / interval : 0,
				p[i].delta);
		fprintf(w->f, "%10" PRIu64 " %12" PRIu64 "  %-24s %-32s %-16s %-18s %-10s", p[i].packets,
			p[i].bytes, nd_reasons_name(w->reasons, p[i].reason, reason, sizeof(reason)),
			nd_ksyms_format(w->ksyms, p[i].location, loc, sizeof(loc)),
			dev_str(w, p[i].netns, p[i].ifindex, dev, sizeof(dev)),
			netns_str(w, p[i].netns, ns, sizeof(ns)),
			proto_str(p[i].ethertype, p[i].l4proto, proto, sizeof(proto)));
		if (w->flows)
			fprintf(w->f, " %6" PRIu64 " %8" PRIu64 " %8" PRIu64, p[i].flows, p[i].retrans,
				p[i].unattributed);
		fputc('\n', w->f);
	}
}

static void text_flows(struct nd_drops_writer *w, const struct nd_agg *a, bool live)
{
	char reason[64], flow[160], dev[32], ns[64];
	size_t n, m;
	const struct nd_drop_row *r = nd_agg_drops(a, &n);

	m = shown(w, n);
	fprintf(w->f, "drops by flow (%zu of %zu):\n", m, n);
	if (!n)
		return;
	fprintf(w->f, "%10s %8s  %-24s %-60s %-16s %-18s %s\n", "DROPS", live ? "DELTA" : "RETX",
		"REASON", "FLOW", "DEVICE", "NETNS", live ? "RETX" : "");
	for (size_t i = 0; i < m; i++) {
		fprintf(w->f, "%10" PRIu64 " %8" PRIu64 "  %-24s %-60s %-16s %-18s",
			(uint64_t)r[i].val.packets, live ? r[i].delta : r[i].retrans,
			nd_reasons_name(w->reasons, r[i].key.reason, reason, sizeof(reason)),
			flow_str(&r[i].key.flow, r[i].key.tun_type, r[i].key.vni, flow, sizeof(flow)),
			dev_str(w, r[i].key.netns, r[i].key.ifindex, dev, sizeof(dev)),
			netns_str(w, r[i].key.netns, ns, sizeof(ns)));
		if (live)
			fprintf(w->f, " %" PRIu64, r[i].retrans);
		fputc('\n', w->f);
	}
}

static void text_signals(struct nd_drops_writer *w, const struct nd_agg *a, bool live)
{
	char ns[64], flow[160];
	size_t n, m;
	const struct nd_sig_row *s = nd_agg_sigs(a, &n);

	m = shown(w, n);
	fprintf(w->f, "TCP and socket loss signals (%zu of %zu):\n", m, n);
	if (!n)
		return;
	fprintf(w->f, "%10s %8s  %-18s %-12s %-18s %s\n", "COUNT", "DELTA", "SIGNAL", "STATE",
		"NETNS", w->flows ? "FLOW (local > remote)" : "");
	for (size_t i = 0; i < m; i++) {
		fprintf(w->f, "%10" PRIu64 " %8" PRIu64 "  %-18s %-12s %-18s %s\n",
			(uint64_t)s[i].val.count, s[i].delta, nd_dw_signal_name(s[i].key.type), nd_dw_tcp_state(s[i].key.state),
			netns_str(w, s[i].key.netns, ns, sizeof(ns)),
			w->flows ? flow_str(&s[i].key.flow, 0, 0, flow, sizeof(flow)) : "");
	}
	(void)live;
}

void nd_dw_interval(struct nd_drops_writer *w, const struct nd_agg *a, uint64_t seq,
		    double elapsed, double interval, const uint64_t st[ND_ST_MAX])
{
	const struct nd_agg_totals *t = nd_agg_totals(a);
	struct nd_json *j = &w->j;
	size_t n;

	if (w->json) {
		const struct nd_drop_row *r = nd_agg_drops(a, &n);
		const struct nd_sig_row *s;

		row_open(w, "interval", seq);
		nd_json_double(j, "elapsed", elapsed, 3);
		nd_json_u64(j, "drops", t->drops);
		nd_json_u64(j, "delta", t->drop_delta);
		nd_json_u64(j, "drops_map_full", st[ND_ST_DROP_MAP_FULL]);
		nd_json_u64(j, "flows_map_full", st[ND_ST_DROP_FLOW_MAP_FULL]);
		nd_json_u64(j, "events_suppressed", st[ND_ST_EV_SUPPRESSED]);
		row_close(j);
		for (size_t i = 0; i < n && r[i].delta; i++)
			json_drop_row(w, "drop_interval", &r[i], seq);
		s = nd_agg_sigs(a, &n);
		for (size_t i = 0; i < n && s[i].delta; i++)
			json_sig_row(w, "signal_interval", &s[i], seq);
		fflush(w->f);
		return;
	}
	if (w->tty)
		fputs("\033[H\033[2J", w->f);
	else
		fputc('\n', w->f);
	fprintf(w->f, "netdx drops  %.1f s  interval %" PRIu64 ": %" PRIu64 " drops (%.1f/s), %" PRIu64
		" in all; %" PRIu64 " retransmissions (+%" PRIu64 ")", elapsed, seq, t->drop_delta,
		interval > 0 ? (double)t->drop_delta / interval : 0, t->drops, t->signals[ND_SIG_RETRANS],
		t->signal_delta[ND_SIG_RETRANS]);
	if (st[ND_ST_DROP_MAP_FULL])
		fprintf(w->f, "; %" PRIu64 " drops not in the table (map full)", st[ND_ST_DROP_MAP_FULL]);
	if (st[ND_ST_DROP_FLOW_MAP_FULL])
		fprintf(w->f, "; %" PRIu64 " drops counted at their place without their flow (flow "
			"table full)", st[ND_ST_DROP_FLOW_MAP_FULL]);
	fputc('\n', w->f);
	text_places(w, a, true, interval);
	if (w->flows)
		text_flows(w, a, true);
	text_signals(w, a, true);
	fflush(w->f);
}

/* ---- events --------------------------------------------------------------------- */

void nd_dw_event(struct nd_drops_writer *w, const struct nd_event *e)
{
	char reason[64], loc[96], dev[32], ns[64], flow[160], proto[24], tbuf[32];
	double ts = wall_s(w, e->ts_ns);
	struct nd_json *j = &w->j;

	w->events_written++;
	if (w->json) {
		row_open(w, "event", 0);
		nd_json_str(j, "kind", e->kind == ND_EV_DROP ? "drop" : "signal");
		nd_json_double(j, "ts", ts, 6);
		nd_json_u64(j, "cpu", e->cpu);
		if (e->kind == ND_EV_DROP) {
			json_place(w, e->reason, e->location, e->ifindex, e->netns, e->ethertype,
				   e->flow.l4proto);
			nd_json_u64(j, "len", e->len);
			json_flow(w, &e->flow, e->tun_type, e->vni);
		} else {
			nd_json_str(j, "signal", nd_dw_signal_name(e->reason));
			nd_json_str(j, "state", nd_dw_tcp_state(e->state));
			nd_json_u64(j, "netns", e->netns);
			nd_json_str(j, "netns_name", nd_names_netns(w->names, e->netns));
			json_flow(w, &e->flow, 0, 0);
		}
		row_close(j);
		return;
	}
	time_t sec = (time_t)ts;
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	if (e->kind == ND_EV_DROP)
		fprintf(w->f, "%s.%06u drop %s at %s dev %s netns %s %s %s len %u\n", tbuf,
			(unsigned)((ts - (double)sec) * 1e6),
			nd_reasons_name(w->reasons, e->reason, reason, sizeof(reason)),
			nd_ksyms_format(w->ksyms, e->location, loc, sizeof(loc)),
			dev_str(w, e->netns, e->ifindex, dev, sizeof(dev)),
			netns_str(w, e->netns, ns, sizeof(ns)),
			proto_str(e->ethertype, e->flow.l4proto, proto, sizeof(proto)),
			flow_str(&e->flow, e->tun_type, e->vni, flow, sizeof(flow)), e->len);
	else
		fprintf(w->f, "%s.%06u %s state %s netns %s %s\n", tbuf,
			(unsigned)((ts - (double)sec) * 1e6), nd_dw_signal_name(e->reason),
			nd_dw_tcp_state(e->state), netns_str(w, e->netns, ns, sizeof(ns)),
			flow_str(&e->flow, 0, 0, flow, sizeof(flow)));
}

/* ---- summary -------------------------------------------------------------------- */

static void text_side_by_side(struct nd_drops_writer *w, const struct nd_agg *a)
{
	char reason[64], loc[96], dev[32], ns[64];
	const struct nd_agg_totals *t = nd_agg_totals(a);
	size_t n, m;
	const struct nd_place_row *p = nd_agg_places(a, &n);
	uint64_t qdisc = 0;

	m = n < 5 ? n : 5;
	if (m)
		fprintf(w->f, "\nwhere, why, and what it cost TCP:\n");
	for (size_t i = 0; i < m; i++) {
		fprintf(w->f, "  %" PRIu64 " drops %s at %s on %s (netns %s)", p[i].packets,
			nd_reasons_name(w->reasons, p[i].reason, reason, sizeof(reason)),
			nd_ksyms_format(w->ksyms, p[i].location, loc, sizeof(loc)),
			dev_str(w, p[i].netns, p[i].ifindex, dev, sizeof(dev)),
			netns_str(w, p[i].netns, ns, sizeof(ns)));
		if (w->flows && p[i].l4proto == 6)
			fprintf(w->f, "; %" PRIu64 " retransmissions on the %" PRIu64
				" flow(s) behind them", p[i].retrans, p[i].flows);
		if (w->flows && p[i].unattributed)
			fprintf(w->f, "; %" PRIu64 " of these drops have no flow key (flow table full)",
				p[i].unattributed);
		fputc('\n', w->f);
	}
	fprintf(w->f, "  TCP: %" PRIu64 " retransmissions (%" PRIu64 " in SYN_SENT), %" PRIu64
		" SYN-ACK retransmissions, %" PRIu64 " resets sent, %" PRIu64
		" resets received; %" PRIu64 " receive queues full%s\n",
		t->signals[ND_SIG_RETRANS], t->syn_sent_retrans, t->signals[ND_SIG_SYNACK_RETRANS],
		t->signals[ND_SIG_SEND_RESET], t->signals[ND_SIG_RECV_RESET],
		t->signals[ND_SIG_RCVQ_FULL],
		w->flows ? "" : " (--flows ties them to the drops' flows)");
	for (size_t i = 0; i < n; i++) {
		if (!nd_reasons_is_qdisc(w->reasons, p[i].reason))
			continue;
		if (!qdisc++)
			fprintf(w->f, "  qdisc drops:");
		fprintf(w->f, " %" PRIu64 " %s on %s (netns %s);", p[i].packets,
			nd_reasons_name(w->reasons, p[i].reason, reason, sizeof(reason)),
			dev_str(w, p[i].netns, p[i].ifindex, dev, sizeof(dev)),
			netns_str(w, p[i].netns, ns, sizeof(ns)));
	}
	if (qdisc)
		fputc('\n', w->f);
}

/* A place's "flows" (distinct flows behind it) and "unattributed" (what
 * none of its flow rows holds: the flow table was full); null without
 * flows. */
static void json_flows_behind(struct nd_drops_writer *w, uint64_t flows, uint64_t unattributed)
{
	json_u64_if(&w->j, "flows", w->flows, flows);
	json_u64_if(&w->j, "unattributed", w->flows, unattributed);
}

static void json_summary(struct nd_drops_writer *w, const struct nd_agg *a,
			 const struct nd_drops_summary *s)
{
	const struct nd_agg_totals *t = nd_agg_totals(a);
	struct nd_json *j = &w->j;
	size_t n;
	const struct nd_drop_row *r = nd_agg_drops(a, &n);
	const struct nd_place_row *p;
	const struct nd_sig_row *g;
	const struct nd_sig_place_row *sp;

	for (size_t i = 0; i < n; i++)
		json_drop_row(w, "drop", &r[i], 0);
	p = nd_agg_places(a, &n);
	for (size_t i = 0; i < n; i++) {
		row_open(w, "place", 0);
		json_place(w, p[i].reason, p[i].location, p[i].ifindex, p[i].netns, p[i].ethertype,
			   p[i].l4proto);
		nd_json_u64(j, "packets", p[i].packets);
		nd_json_u64(j, "bytes", p[i].bytes);
		json_flows_behind(w, p[i].flows, p[i].unattributed);
		json_u64_if(j, "retrans_on_flows", w->flows, p[i].retrans);
		nd_json_double(j, "first_ts", wall_s(w, p[i].first_ns), 6);
		nd_json_double(j, "last_ts", wall_s(w, p[i].last_ns), 6);
		row_close(j);
	}
	g = nd_agg_sigs(a, &n);
	for (size_t i = 0; i < n; i++)
		json_sig_row(w, "signal", &g[i], 0);
	sp = nd_agg_sig_places(a, &n);
	for (size_t i = 0; i < n; i++) {
		row_open(w, "signal_place", 0);
		nd_json_str(j, "signal", nd_dw_signal_name(sp[i].type));
		nd_json_str(j, "state", nd_dw_tcp_state(sp[i].state));
		nd_json_u64(j, "netns", sp[i].netns);
		nd_json_str(j, "netns_name", nd_names_netns(w->names, sp[i].netns));
		nd_json_u64(j, "count", sp[i].count);
		json_flows_behind(w, sp[i].flows, sp[i].unattributed);
		nd_json_double(j, "last_ts", wall_s(w, sp[i].last_ns), 6);
		row_close(j);
	}

	row_open(w, "summary", 0);
	nd_json_double(j, "seconds", s->seconds, 3);
	nd_json_str(j, "ended_by", s->ended_by);
	nd_json_str(j, "attach", s->info ? s->info->mode : NULL);
	nd_json_u64(j, "drops", t->drops);
	nd_json_u64(j, "drops_seen", s->st[ND_ST_DROP_SEEN]);
	nd_json_u64(j, "drops_counted", s->st[ND_ST_DROP_COUNTED]);
	nd_json_u64(j, "drops_filtered", s->st[ND_ST_DROP_FILTERED]);
	nd_json_u64(j, "not_drops", s->st[ND_ST_DROP_NOT_DROP]);
	nd_json_u64(j, "drops_map_full", s->st[ND_ST_DROP_MAP_FULL]);
	nd_json_u64(j, "drops_unparsed", s->st[ND_ST_DROP_UNPARSED]);
	nd_json_u64(j, "flows_counted", s->st[ND_ST_DROP_FLOW_COUNTED]);
	nd_json_u64(j, "flows_map_full", s->st[ND_ST_DROP_FLOW_MAP_FULL]);
	nd_json_u64(j, "unattributed", t->unattributed);
	nd_json_u64(j, "signals_seen", s->st[ND_ST_SIG_SEEN]);
	nd_json_u64(j, "signals_counted", s->st[ND_ST_SIG_COUNTED]);
	nd_json_u64(j, "signals_filtered", s->st[ND_ST_SIG_FILTERED]);
	nd_json_u64(j, "signals_map_full", s->st[ND_ST_SIG_MAP_FULL]);
	nd_json_u64(j, "signals_flows_counted", s->st[ND_ST_SIG_FLOW_COUNTED]);
	nd_json_u64(j, "signals_flows_map_full", s->st[ND_ST_SIG_FLOW_MAP_FULL]);
	nd_json_u64(j, "signals_unattributed", t->sig_unattributed);
	nd_json_u64(j, "retrans", t->signals[ND_SIG_RETRANS]);
	nd_json_u64(j, "syn_sent_retrans", t->syn_sent_retrans);
	nd_json_u64(j, "synack_retrans", t->signals[ND_SIG_SYNACK_RETRANS]);
	nd_json_u64(j, "resets_sent", t->signals[ND_SIG_SEND_RESET]);
	nd_json_u64(j, "resets_received", t->signals[ND_SIG_RECV_RESET]);
	nd_json_u64(j, "rcvqueue_full", t->signals[ND_SIG_RCVQ_FULL]);
	nd_json_bool(j, "events", s->events);
	nd_json_u64(j, "events_sent", s->st[ND_ST_EV_SENT]);
	nd_json_u64(j, "events_suppressed", s->st[ND_ST_EV_SUPPRESSED]);
	nd_json_u64(j, "events_ring_full", s->st[ND_ST_EV_RING_FULL]);
	nd_json_u64(j, "events_skipped", s->st[ND_ST_EV_SKIPPED]);
	nd_json_u64(j, "events_written", w->events_written);
	nd_json_u64(j, "missed_runs", s->missed);
	nd_json_u64(j, "drop_keys", s->drop_keys);
	nd_json_u64(j, "signal_keys", s->sig_keys);
	nd_json_u64(j, "max_keys", s->max_keys);
	nd_json_u64(j, "place_keys", s->place_keys);
	nd_json_u64(j, "signal_place_keys", s->sig_place_keys);
	json_u64_if(j, "max_flows", w->flows, s->max_flows);
	nd_json_u64(j, "ksyms_overflow", s->ksyms_overflow);
	nd_json_u64(j, "names_overflow", s->names_overflow);
	nd_json_bool(j, "kallsyms_hidden", s->kallsyms_hidden);
	row_close(j);
}

void nd_dw_summary(struct nd_drops_writer *w, const struct nd_agg *a,
		   const struct nd_drops_summary *s)
{
	const uint64_t *st = s->st;

	if (w->json) {
		json_summary(w, a, s);
		fflush(w->f);
		return;
	}
	fprintf(w->f, "\nnetdx drops: %.1f s via %s, ended by %s: %" PRIu64 " drops counted, %" PRIu64
		" filtered out\n\n", s->seconds, s->info ? s->info->mode : "-", s->ended_by,
		st[ND_ST_DROP_COUNTED] + st[ND_ST_DROP_MAP_FULL], st[ND_ST_DROP_FILTERED]);
	text_places(w, a, false, 0);
	if (w->flows) {
		fputc('\n', w->f);
		text_flows(w, a, false);
	}
	fputc('\n', w->f);
	text_signals(w, a, false);
	text_side_by_side(w, a);
	fprintf(w->f, "\nkernel counters: drops: %" PRIu64 " seen, %" PRIu64 " in the table, %" PRIu64
		" filtered out, %" PRIu64 " not in the table (map full, cap %u keys), %" PRIu64
		" without an IP header, %" PRIu64 " normal frees skipped; signals: %" PRIu64
		" seen, %" PRIu64 " counted, %" PRIu64 " filtered out, %" PRIu64 " map full",
		st[ND_ST_DROP_SEEN], st[ND_ST_DROP_COUNTED], st[ND_ST_DROP_FILTERED],
		st[ND_ST_DROP_MAP_FULL], s->max_keys, st[ND_ST_DROP_UNPARSED],
		st[ND_ST_DROP_NOT_DROP], st[ND_ST_SIG_SEEN], st[ND_ST_SIG_COUNTED],
		st[ND_ST_SIG_FILTERED], st[ND_ST_SIG_MAP_FULL]);
	if (w->flows)
		fprintf(w->f, "; flow tables (cap %u keys each): %" PRIu64 " drops and %" PRIu64
			" signals by flow, %" PRIu64 " drops and %" PRIu64 " signals without their flow "
			"(table full)", s->max_flows, st[ND_ST_DROP_FLOW_COUNTED],
			st[ND_ST_SIG_FLOW_COUNTED], st[ND_ST_DROP_FLOW_MAP_FULL],
			st[ND_ST_SIG_FLOW_MAP_FULL]);
	if (s->events)
		fprintf(w->f, "; events: %" PRIu64 " sent, %" PRIu64 " suppressed by the rate limit, %" PRIu64
			" lost (ring buffer full), %" PRIu64 " skipped (--event-skip)", st[ND_ST_EV_SENT],
			st[ND_ST_EV_SUPPRESSED], st[ND_ST_EV_RING_FULL], st[ND_ST_EV_SKIPPED]);
	fprintf(w->f, "; %" PRIu64 " program runs skipped by the kernel\n", s->missed);
	if (w->flows && (st[ND_ST_DROP_FLOW_MAP_FULL] || st[ND_ST_SIG_FLOW_MAP_FULL]))
		fprintf(w->f, "note: the flow table was full: %" PRIu64 " drops and %" PRIu64
			" signals have no flow row; their places' totals count them (NOFLOW); "
			"--max-flows raises the cap (%u)\n", st[ND_ST_DROP_FLOW_MAP_FULL],
			st[ND_ST_SIG_FLOW_MAP_FULL], s->max_flows);
	if (s->kallsyms_hidden)
		fprintf(w->f, "note: /proc/kallsyms hides addresses (kptr_restrict): locations are "
			"shown as numbers; CAP_SYSLOG shows them\n");
	if (s->ksyms_overflow || s->names_overflow)
		fprintf(w->f, "note: %" PRIu64 " locations and %" PRIu64 " names not cached (caps reached)\n",
			s->ksyms_overflow, s->names_overflow);
	if (s->info && s->info->signals_missing[0])
		fprintf(w->f, "note: signals not attached: %s\n", s->info->signals_missing);
	fflush(w->f);
}
