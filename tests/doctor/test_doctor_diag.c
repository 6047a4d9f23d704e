/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of src/doctor/diag.c: hand-built inputs for each mechanism
 * (the numbers are those the namespace scenarios produce), the two-source
 * rule for severities, rules consuming what they explain, the namespace
 * filter, amounts that do not agree, ranking and the cap on findings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor/diag.h"
#include "doctor/load.h"
#include "nd_test.h"

/* ---- building inputs with the loader's own line parsers ---- */

static struct nd_dx_input *input(bool tcp, bool drops, bool counters)
{
	struct nd_dx_input *in = nd_dx_input_new();

	if (tcp)
		nd_dx_tcp_line(in, 0, "{\"type\":\"summary\",\"packets\":1000}");
	if (drops)
		nd_dx_drops_line(in, "{\"type\":\"summary\",\"attach\":\"tp_btf\",\"drops\":1}");
	if (counters)
		nd_dx_counters_line(in, "{\"type\":\"summary\"}");
	return in;
}

static void ctr(struct nd_dx_input *in, const char *ns, const char *src, const char *name, long delta)
{
	char l[512];

	snprintf(l, sizeof(l), "{\"type\":\"delta\",\"seq\":1,\"netns\":\"%s\",\"source\":\"%s\",\"name\":"
		 "\"%s\",\"delta\":%ld,\"value\":%ld}", ns, src, name, delta, delta);
	ND_CHECK_EQ(nd_dx_counters_line(in, l), 0);
}

static void ctr_dev(struct nd_dx_input *in, const char *ns, const char *src, const char *dev,
		    const char *name, long delta)
{
	char l[512];

	snprintf(l, sizeof(l), "{\"type\":\"delta\",\"seq\":1,\"netns\":\"%s\",\"source\":\"%s\",\"device\":"
		 "\"%s\",\"qdisc\":\"tbf\",\"handle\":\"8001:\",\"name\":\"%s\",\"delta\":%ld,\"value\":%ld}",
		 ns, src, dev, name, delta, delta);
	ND_CHECK_EQ(nd_dx_counters_line(in, l), 0);
}

static void place(struct nd_dx_input *in, const char *reason, const char *loc, const char *dev,
		  const char *ns, bool qdisc, long packets)
{
	char l[512];

	snprintf(l, sizeof(l), "{\"type\":\"place\",\"reason\":\"%s\",\"location\":\"%s\",\"dev\":%s%s%s,"
		 "\"netns\":1,\"netns_name\":\"%s\",\"proto\":\"ipv4/tcp\",\"qdisc\":%s,\"packets\":%ld}",
		 reason, loc, dev ? "\"" : "", dev ? dev : "null", dev ? "\"" : "", ns,
		 qdisc ? "true" : "false", packets);
	ND_CHECK_EQ(nd_dx_drops_line(in, l), 0);
}

static void sig(struct nd_dx_input *in, const char *s, const char *state, const char *ns, long n)
{
	char l[256];

	snprintf(l, sizeof(l), "{\"type\":\"signal\",\"signal\":\"%s\",\"state\":\"%s\",\"netns\":1,"
		 "\"netns_name\":\"%s\",\"count\":%ld}", s, state, ns, n);
	ND_CHECK_EQ(nd_dx_drops_line(in, l), 0);
}

/* A connection: payload, verdict and limits of c2s; @stalls is the JSON
 * list's contents. */
static void conn(struct nd_dx_input *in, const char *client, const char *server, long payload,
		 const char *verdict, double snd, double rcv, double net, int retrans,
		 const char *stalls)
{
	static char l[65536];

	snprintf(l, sizeof(l),
		 "{\"type\":\"conn\",\"client\":\"%s\",\"server\":\"%s\",\"c2s\":{\"payload_bytes\":%ld,"
		 "\"retrans_pkts\":%d,\"fast_retrans\":%d,\"verdict\":\"%s\",\"transfer_s\":4.0,\"limits\":"
		 "{\"sender\":%g,\"receiver\":%g,\"network\":%g},\"rtt_us\":{\"p50\":10000}},\"s2c\":"
		 "{\"payload_bytes\":100,\"verdict\":\"sender-limited\",\"window\":{\"max\":81920},"
		 "\"limits\":{\"sender\":1,\"receiver\":0,\"network\":0},\"transfer_s\":0.01},"
		 "\"stalls\":[%s],\"txn\":null}",
		 client, server, payload, retrans, retrans, verdict, snd, rcv, net, stalls);
	ND_CHECK_EQ(nd_dx_tcp_line(in, 0, l), 0);
}

/* @n stalls of @cause lasting @dur s, each with @retries, as one list. */
static const char *stall_list(char *buf, size_t len, const char *cause, const char *dir, int n,
			      double dur, int retries)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s{\"dir\":\"%s\",\"cause\":\"%s\",\"start\":%d,"
				      "\"duration_s\":%g,\"retries\":%d}", i ? "," : "", dir, cause, i,
				      dur, retries);
	return buf;
}

static struct nd_dx_diag *diagnose(const struct nd_dx_input *in)
{
	struct nd_dx_diag *d = calloc(1, sizeof(*d));

	ND_CHECK_EQ(nd_dx_diagnose(in, d), 0);
	return d;
}

static double num(const struct nd_dx_finding *f, enum nd_dx_src src, const char *key)
{
	for (unsigned i = 0; i < f->nev; i++) {
		if (f->ev[i].src != src)
			continue;
		if (!strcmp(f->ev[i].key, key))
			return f->ev[i].value;
		if (!strcmp(f->ev[i].key2, key))
			return f->ev[i].value2;
	}
	return -1;
}

/* ---- the mechanisms ---- */

/* rr-drops-rto: 36 NETFILTER_DROP at the router's device, 33 timeout
 * stalls (36 retransmissions) on two flows, RetransSegs and loss probes
 * in the client's namespace. */
static struct nd_dx_input *rto_input(bool drops)
{
	struct nd_dx_input *in = input(true, drops, true);
	char s[8192];

	conn(in, "10.81.1.1:40000", "10.81.2.2:7250", 400000, "sender-limited", 0.9, 0, 0.1, 18,
	     stall_list(s, sizeof(s), "rto", "c2s", 15, 0.21, 1));
	conn(in, "10.81.1.1:40001", "10.81.2.2:7250", 400000, "sender-limited", 0.9, 0, 0.1, 18,
	     stall_list(s, sizeof(s), "rto", "c2s", 18, 0.22, 1));
	ctr(in, "c", "snmp", "Tcp.RetransSegs", 36);
	ctr(in, "c", "netstat", "TcpExt.TCPLossProbes", 36);
	if (drops) {
		place(in, "NETFILTER_DROP", "nft_do_chain+0x3e8", "rc0", "r", false, 36);
		place(in, "TCP_OLD_DATA", "tcp_rcv_established", NULL, "c", false, 30);  /* benign */
		sig(in, "retransmit", "ESTABLISHED", "c", 36);
	}
	return in;
}

static void test_rto_at_device(void)
{
	struct nd_dx_input *in = rto_input(true);
	struct nd_dx_diag *d = diagnose(in);
	const struct nd_dx_finding *f = &d->f[0];

	ND_CHECK(d->n >= 1);
	ND_CHECK_EQ(f->mech, ND_DX_M_RTO_STALLS);
	ND_CHECK_EQ(f->sev, ND_DX_CRITICAL);
	ND_CHECK_EQ(f->place.kind, ND_DX_P_DEVICE);
	ND_CHECK_STR(f->place.netns, "r");
	ND_CHECK_STR(f->place.dev, "rc0");
	ND_CHECK_STR(f->place.reason, "NETFILTER_DROP");
	ND_CHECK_EQ(nd_dx_agree_count(f), 3);
	ND_CHECK_EQ(num(f, ND_DX_SRC_DROPS, "drops"), 36);
	ND_CHECK_EQ(num(f, ND_DX_SRC_TCP, "stalls"), 33);
	ND_CHECK_EQ(num(f, ND_DX_SRC_TCP, "retries"), 33);
	ND_CHECK_EQ(num(f, ND_DX_SRC_COUNTERS, "retrans_segs"), 36);
	ND_CHECK(strstr(f->next, "iptables") != NULL);
	/* the duplicate data it caused is not a second finding */
	for (size_t i = 1; i < d->n; i++)
		ND_CHECK(d->f[i].sev == ND_DX_INFO);
	free(d);
	nd_dx_input_free(in);
}

/* Without drops (no BPF): the same stalls, tcp and counters agree, the
 * place is not known, and a note says why. */
static void test_rto_without_drops(void)
{
	struct nd_dx_input *in = rto_input(false);
	struct nd_dx_diag *d;
	bool noted = false;

	snprintf(in->missing[ND_DX_SRC_DROPS], ND_DX_TEXT, "exit 4: needs CAP_BPF and CAP_PERFMON");
	d = diagnose(in);
	ND_CHECK_EQ(d->f[0].mech, ND_DX_M_RTO_STALLS);
	ND_CHECK_EQ(d->f[0].place.kind, ND_DX_P_PATH);
	ND_CHECK_EQ(d->f[0].sev, ND_DX_CRITICAL);
	ND_CHECK_EQ(d->f[0].agree, (1u << ND_DX_SRC_TCP) | (1u << ND_DX_SRC_COUNTERS));
	ND_CHECK_STR(d->f[0].place.endpoint, "10.81.2.2:7250");
	for (size_t i = 0; i < d->nnote; i++)
		noted = noted || (strstr(d->note[i], "drops: not available") &&
				  strstr(d->note[i], "CAP_BPF"));
	ND_CHECK(noted);
	free(d);
	nd_dx_input_free(in);
}

/* crr-conntrack-full: the router's conntrack drop counter, its
 * NETFILTER_DROP drops and the SYN stalls. The NETFILTER_DROP place must
 * not come back as a second (rto) finding. */
static void test_conntrack_full(void)
{
	struct nd_dx_input *in = input(true, true, true);
	struct nd_dx_diag *d;
	char s[8192];

	for (int i = 0; i < 16; i++) {
		char cl[32];

		snprintf(cl, sizeof(cl), "10.81.1.1:%d", 50000 + i);
		conn(in, cl, "10.81.2.2:7250", 1, "sender-limited", 1, 0, 0, 0,
		     stall_list(s, sizeof(s), "syn-retrans", "c2s", 1, 3.0, 3));
	}
	ctr(in, "r", "conntrack", "drop", 48);
	ctr(in, "r", "conntrack", "entries", 32);
	ctr(in, "r", "conntrack", "entries_limit", 32);
	ctr(in, "c", "netstat", "TcpExt.TCPSynRetrans", 48);
	place(in, "NETFILTER_DROP", "nf_hook_slow+0x7d", "rc0", "r", false, 48);
	sig(in, "retransmit", "SYN_SENT", "c", 48);
	d = diagnose(in);
	ND_CHECK_EQ(d->f[0].mech, ND_DX_M_CONNTRACK_FULL);
	ND_CHECK_EQ(d->f[0].sev, ND_DX_CRITICAL);
	ND_CHECK_EQ(d->f[0].place.kind, ND_DX_P_CONNTRACK);
	ND_CHECK_STR(d->f[0].place.netns, "r");
	ND_CHECK_EQ(nd_dx_agree_count(&d->f[0]), 3);
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_COUNTERS, "ct_drops"), 48);
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_DROPS, "drops"), 48);
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_TCP, "stalls"), 16);
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_TCP, "retries"), 48);
	ND_CHECK(strstr(d->f[0].place.text, "full") != NULL);
	ND_CHECK(strstr(d->f[0].ev[2].text, "~3 s: 16") != NULL);
	ND_CHECK_EQ(d->n, 1);
	free(d);
	nd_dx_input_free(in);
}

/* crr-listen-overflow: ListenOverflows in the server's namespace, listen
 * and SYN-cookie drops, SYN stalls to one port and the timeouts of the
 * connections whose handshake it did not take. */
static void test_listen_overflow(void)
{
	struct nd_dx_input *in = input(true, true, true);
	struct nd_dx_diag *d;
	char s[8192];

	conn(in, "10.81.1.1:1000", "10.81.2.2:7250", 1, "sender-limited", 1, 0, 0, 0,
	     stall_list(s, sizeof(s), "syn-retrans", "c2s", 1, 1.0, 1));
	conn(in, "10.81.1.1:1001", "10.81.2.2:7250", 1, "sender-limited", 1, 0, 0, 0,
	     stall_list(s, sizeof(s), "syn-retrans", "c2s", 1, 2.0, 2));
	conn(in, "10.81.1.1:1002", "10.81.2.2:7250", 1, "sender-limited", 1, 0, 0, 3,
	     stall_list(s, sizeof(s), "rto", "c2s", 1, 1.7, 3));
	conn(in, "10.81.1.1:1003", "10.9.9.9:80", 1, "sender-limited", 1, 0, 0, 0, "");
	ctr(in, "s", "netstat", "TcpExt.ListenOverflows", 490);
	ctr(in, "s", "netstat", "TcpExt.ListenDrops", 490);
	ctr(in, "c", "netstat", "TcpExt.TCPSynRetrans", 159);
	place(in, "TCP_LISTEN_OVERFLOW", "tcp_v4_rcv+0x91", "s0", "s", false, 23);
	place(in, "NO_SOCKET", "cookie_v4_check+0x4e5", "lo", "s", false, 308);
	d = diagnose(in);
	ND_CHECK_EQ(d->f[0].mech, ND_DX_M_LISTEN_OVERFLOW);
	ND_CHECK_EQ(d->f[0].sev, ND_DX_CRITICAL);
	ND_CHECK_STR(d->f[0].place.endpoint, "10.81.2.2:7250");
	ND_CHECK_STR(d->f[0].place.netns, "s");
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_COUNTERS, "listen_overflows"), 490);
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_DROPS, "drops"), 331);
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_TCP, "stalls"), 2);
	/* the timeouts on that port were explained too: no rto finding left */
	for (size_t i = 0; i < d->n; i++)
		ND_CHECK(d->f[i].mech != ND_DX_M_RTO_STALLS);
	free(d);
	nd_dx_input_free(in);
}

/* stream-bottleneck: tbf drops (counters), QDISC_DROP (drops), a
 * network-limited flow with the same number of retransmissions (tcp). */
static void test_qdisc_bottleneck(void)
{
	struct nd_dx_input *in = input(true, true, true);
	struct nd_dx_diag *d;

	conn(in, "10.81.1.1:5000", "10.81.2.2:7250", 24000000, "network-limited", 0.02, 0, 0.98, 106, "");
	ctr_dev(in, "r", "qdisc", "rs0", "drops", 106);
	ctr_dev(in, "r", "qdisc", "rs0", "overlimits", 49793);
	ctr(in, "c", "snmp", "Tcp.RetransSegs", 106);
	place(in, "QDISC_DROP", "__dev_queue_xmit+0xd01", "rs0", "r", true, 106);
	d = diagnose(in);
	ND_CHECK_EQ(d->f[0].mech, ND_DX_M_NETWORK_BOTTLENECK);
	ND_CHECK_EQ(d->f[0].sev, ND_DX_WARNING);
	ND_CHECK_EQ(d->f[0].place.kind, ND_DX_P_QDISC);
	ND_CHECK_STR(d->f[0].place.dev, "rs0");
	ND_CHECK_STR(d->f[0].place.qdisc, "tbf 8001:");
	ND_CHECK_EQ(nd_dx_agree_count(&d->f[0]), 3);
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_TCP, "retrans"), 106);
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_DROPS, "drops"), 106);
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_COUNTERS, "qdisc_drops"), 106);
	ND_CHECK_EQ(d->n, 1);   /* the flow is explained: no second network finding */
	free(d);
	nd_dx_input_free(in);
}

/* stream-rwnd: receiver-limited in the capture; with the sender's
 * TCP_INFO (bench) it is a warning, alone it is info. */
static void test_receiver_window(void)
{
	const char *bench =
		"{\"type\":\"bench\",\"mode\":\"stream\",\"totals\":{\"duration_s\":4,\"flows\":1},"
		"\"flows\":[{\"local\":\"10.1.1.1:6000\",\"remote\":\"10.1.1.2:7250\",\"client\":{\"tcp_info\":"
		"{\"busy_time_us\":4000000,\"rwnd_limited_us\":1600000}},\"server\":{}}]}";
	struct nd_dx_input *in = input(true, false, false);
	struct nd_dx_diag *d;

	conn(in, "10.1.1.1:6000", "10.1.1.2:7250", 32000000, "receiver-limited", 0.1, 0.8, 0.1, 0, "");
	d = diagnose(in);
	ND_CHECK_EQ(d->f[0].mech, ND_DX_M_RECEIVER_WINDOW);
	ND_CHECK_EQ(d->f[0].sev, ND_DX_INFO);   /* one source */
	free(d);
	ND_CHECK_EQ(nd_dx_bench_doc(in, bench), 0);
	d = diagnose(in);
	ND_CHECK_EQ(d->f[0].mech, ND_DX_M_RECEIVER_WINDOW);
	ND_CHECK_EQ(d->f[0].sev, ND_DX_WARNING);
	ND_CHECK_EQ(d->f[0].place.kind, ND_DX_P_SOCKBUF);
	ND_CHECK_STR(d->f[0].place.endpoint, "10.1.1.2:7250");
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_TCP, "window_max"), 81920);
	ND_CHECK(num(&d->f[0], ND_DX_SRC_BENCH, "rwnd_limited_share") > 0.39);
	free(d);
	nd_dx_input_free(in);
}

/* app-limited: never above info, even when three sources agree. */
static void test_sender_limited_is_info(void)
{
	const char *bench =
		"{\"type\":\"bench\",\"mode\":\"rr\",\"totals\":{\"duration_s\":4,\"flows\":1},"
		"\"flows\":[{\"local\":\"10.1.1.1:6000\",\"remote\":\"10.1.1.2:7250\",\"client\":{\"tcp_info\":"
		"{\"busy_time_us\":100000}},\"server\":{}}]}";
	struct nd_dx_input *in = input(true, false, true);
	struct nd_dx_diag *d;

	conn(in, "10.1.1.1:6000", "10.1.1.2:7250", 21000000, "sender-limited", 0.99, 0, 0.01, 0, "");
	nd_dx_bench_doc(in, bench);
	d = diagnose(in);
	ND_CHECK_EQ(d->n, 1);
	ND_CHECK_EQ(d->f[0].mech, ND_DX_M_SENDER_LIMITED);
	ND_CHECK_EQ(d->f[0].sev, ND_DX_INFO);
	ND_CHECK_EQ(nd_dx_agree_count(&d->f[0]), 3);
	ND_CHECK_STR(d->f[0].place.endpoint, "10.1.1.1:6000");
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_TCP, "bytes"), 21000000);
	free(d);
	nd_dx_input_free(in);
}

/* ---- the rules around them ---- */

/* A healthy run: teardown and duplicate drops, a lone unexplained drop, a
 * small rr flow: nothing above info. */
static void test_healthy(void)
{
	struct nd_dx_input *in = input(true, true, true);
	struct nd_dx_diag *d;

	conn(in, "10.1.1.1:6000", "10.1.1.2:7250", 3000000, "sender-limited", 1, 0, 0, 0, "");
	place(in, "QUEUE_PURGE", "sk_stream_kill_queues+0x57", NULL, "s", false, 60000);
	place(in, "TCP_OLD_DATA", "tcp_rcv_established", NULL, "c", false, 3);
	place(in, "NOT_SPECIFIED", "tcp_v4_rcv+0x91", "s0", "s", false, 1);
	d = diagnose(in);
	ND_CHECK_EQ(nd_dx_worst(d), ND_DX_INFO);
	for (size_t i = 0; i < d->n; i++)
		ND_CHECK(d->f[i].mech == ND_DX_M_SENDER_LIMITED);
	free(d);
	nd_dx_input_free(in);
}

/* Drops in a namespace the user did not name are not looked at. */
static void test_netns_filter(void)
{
	struct nd_dx_input *in = input(false, true, true);
	struct nd_dx_diag *d;

	nd_dx_add_netns(in, "mine", 0);
	place(in, "NETFILTER_DROP", "nf_hook_slow", "v0", "someone-else", false, 500);
	ctr_dev(in, "someone-else", "qdisc", "v1", "drops", 300);
	d = diagnose(in);
	ND_CHECK_EQ(d->n, 0);
	free(d);
	place(in, "NETFILTER_DROP", "nf_hook_slow", "v0", "mine", false, 50);
	d = diagnose(in);
	ND_CHECK_EQ(d->n, 1);
	ND_CHECK_EQ(d->f[0].mech, ND_DX_M_PACKET_DROPS);
	ND_CHECK_EQ(d->f[0].sev, ND_DX_INFO);   /* drops alone: one source */
	ND_CHECK_STR(d->f[0].place.netns, "mine");
	free(d);
	nd_dx_input_free(in);
}

/* 9 drops cannot explain 45 timeouts: the place stays apart from them. */
static void test_amounts_must_agree(void)
{
	struct nd_dx_input *in = input(true, true, true);
	struct nd_dx_diag *d;
	char s[16384];
	bool rto_path = false, dev_tied = false;

	conn(in, "10.1.1.1:6000", "10.1.1.2:7250", 300000, "sender-limited", 1, 0, 0, 45,
	     stall_list(s, sizeof(s), "rto", "c2s", 45, 0.2, 1));
	ctr(in, "c", "snmp", "Tcp.RetransSegs", 45);
	ctr(in, "c", "netstat", "TcpExt.TCPTimeouts", 45);
	place(in, "NOT_SPECIFIED", "tcp_v4_rcv+0x91", "s0", "s", false, 9);
	d = diagnose(in);
	for (size_t i = 0; i < d->n; i++) {
		if (d->f[i].mech == ND_DX_M_RTO_STALLS && d->f[i].place.kind == ND_DX_P_PATH)
			rto_path = true;
		if (d->f[i].mech == ND_DX_M_RTO_STALLS && d->f[i].place.kind == ND_DX_P_DEVICE)
			dev_tied = true;
	}
	ND_CHECK(rto_path);
	ND_CHECK(!dev_tied);
	free(d);
	nd_dx_input_free(in);
}

/* A device's own drop counter (the macvtap case) and the eBPF drops on it
 * agree with each other and with the stalls. */
static void test_link_counter_and_drops(void)
{
	struct nd_dx_input *in = input(true, true, true);
	struct nd_dx_diag *d;
	static char s[32768];
	char l[512];

	conn(in, "10.1.1.1:6000", "10.1.1.2:7250", 300000, "sender-limited", 1, 0, 0, 150,
	     stall_list(s, sizeof(s), "rto", "s2c", 150, 0.2, 1));
	snprintf(l, sizeof(l), "{\"type\":\"delta\",\"seq\":1,\"netns\":\"host\",\"source\":\"link\",\"device\":"
		 "\"macvtap2\",\"name\":\"rx_dropped\",\"delta\":152,\"value\":152}");
	nd_dx_counters_line(in, l);
	place(in, "FULL_RING", "tap_handle_frame+0x1f", "macvtap2", "host", false, 152);
	d = diagnose(in);
	ND_CHECK_EQ(d->f[0].mech, ND_DX_M_RTO_STALLS);
	ND_CHECK_STR(d->f[0].place.dev, "macvtap2");
	ND_CHECK_EQ(nd_dx_agree_count(&d->f[0]), 3);
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_COUNTERS, "dev_drops"), 152);
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_DROPS, "drops"), 152);
	ND_CHECK(strstr(d->f[0].symptom, "150 stalls") != NULL);
	free(d);
	nd_dx_input_free(in);
}

/* Ranking: critical, then warning, then info; at the cap the least
 * ranked are left out and counted. */
static void test_ranking_and_cap(void)
{
	struct nd_dx_input *in = input(false, true, true);
	struct nd_dx_diag *d;
	char dev[16];

	for (int i = 0; i < ND_DX_FIND_MAX + 4; i++) {
		snprintf(dev, sizeof(dev), "v%d", i);
		place(in, "NETFILTER_DROP", "nf_hook_slow", dev, "n", false, 100 + i);
		if (i == 3)
			ctr_dev(in, "n", "link", dev, "rx_dropped", 103);       /* two sources: warning */
	}
	d = diagnose(in);
	ND_CHECK_EQ(d->n, ND_DX_FIND_MAX);
	ND_CHECK_EQ(d->over, 4);
	ND_CHECK_EQ(d->f[0].sev, ND_DX_WARNING);
	ND_CHECK_STR(d->f[0].place.dev, "v3");
	for (size_t i = 1; i < d->n; i++) {
		ND_CHECK(d->f[i].sev == ND_DX_INFO);
		if (i > 1)
			ND_CHECK(d->f[i].impact <= d->f[i - 1].impact);
	}
	free(d);
	nd_dx_input_free(in);
}

/* Two warnings: the one that cost more time first, even when fewer
 * sources agree on it (a window-limited transfer and one stray timeout). */
static void test_rank_by_impact(void)
{
	const char *bench =
		"{\"type\":\"bench\",\"mode\":\"stream\",\"totals\":{\"duration_s\":4,\"flows\":1},"
		"\"flows\":[{\"local\":\"10.1.1.1:6000\",\"remote\":\"10.1.1.2:7250\",\"client\":{\"tcp_info\":"
		"{\"busy_time_us\":4000000,\"rwnd_limited_us\":1600000}},\"server\":{}}]}";
	struct nd_dx_input *in = input(true, true, true);
	struct nd_dx_diag *d;
	char s[512];

	conn(in, "10.1.1.1:6000", "10.1.1.2:7250", 32000000, "receiver-limited", 0.1, 0.8, 0.1, 1,
	     stall_list(s, sizeof(s), "rto", "c2s", 1, 0.21, 1));
	nd_dx_bench_doc(in, bench);
	ctr(in, "c", "snmp", "Tcp.RetransSegs", 5);
	ctr(in, "c", "netstat", "TcpExt.TCPTimeouts", 1);
	sig(in, "retransmit", "ESTABLISHED", "c", 5);
	d = diagnose(in);
	ND_CHECK_EQ(d->n, 2);
	ND_CHECK_EQ(d->f[0].mech, ND_DX_M_RECEIVER_WINDOW);
	ND_CHECK_EQ(d->f[0].sev, ND_DX_WARNING);
	ND_CHECK_EQ(d->f[1].mech, ND_DX_M_RTO_STALLS);
	ND_CHECK_EQ(d->f[1].sev, ND_DX_WARNING);        /* one stall: not critical */
	ND_CHECK(nd_dx_agree_count(&d->f[1]) > nd_dx_agree_count(&d->f[0]));
	free(d);
	nd_dx_input_free(in);
}

/* ---- the flow join (drops --flows) ---- */

/* A "drop" row of drops --flows: @packets of flow @src > @dst at a place. */
static void fdrop(struct nd_dx_input *in, const char *reason, const char *dev, const char *ns,
		  const char *src, const char *dst, long packets)
{
	char l[640];

	snprintf(l, sizeof(l), "{\"type\":\"drop\",\"reason\":\"%s\",\"location\":\"x+0x1\",\"dev\":\"%s\","
		 "\"netns\":1,\"netns_name\":\"%s\",\"proto\":\"ipv4/tcp\",\"qdisc\":false,\"flow\":"
		 "{\"src\":\"%s\",\"dst\":\"%s\",\"proto\":\"tcp\",\"tunnel\":null,\"vni\":null},"
		 "\"packets\":%ld}", reason, dev, ns, src, dst, packets);
	ND_CHECK_EQ(nd_dx_drops_line(in, l), 0);
}

/* Two places with drops and 12 timeout stalls on three connections. By
 * place and amount the larger place would take them (and did, before the
 * join); by flow they belong to the place whose drops were on the stalled
 * connections' own flows (in either direction), and the other place,
 * whose drops hit flows that never stalled, is only packet drops. */
static void test_flow_join_picks_the_place(void)
{
	struct nd_dx_input *in = input(true, false, true);
	char s[4096];

	nd_dx_drops_line(in, "{\"type\":\"meta\",\"flows\":true}");
	for (int i = 0; i < 3; i++) {
		char cl[32];

		snprintf(cl, sizeof(cl), "10.81.1.1:%d", 41000 + i);
		conn(in, cl, "10.81.2.2:7250", 400000, "sender-limited", 0.9, 0, 0.1, 4,
		     stall_list(s, sizeof(s), "rto", "c2s", 4, 0.21, 1));
		/* the data one way, its ACKs the other way: both are this flow */
		fdrop(in, "TC_INGRESS", "rs0", "r", cl, "10.81.2.2:7250", 3);
		fdrop(in, "TC_INGRESS", "rs0", "r", "10.81.2.2:7250", cl, 1);
	}
	fdrop(in, "NETFILTER_DROP", "rc0", "r", "10.81.1.9:5000", "10.81.2.2:9", 20);
	place(in, "TC_INGRESS", "tcf_classify", "rs0", "r", false, 12);
	place(in, "NETFILTER_DROP", "nft_do_chain", "rc0", "r", false, 20);
	ctr(in, "c", "snmp", "Tcp.RetransSegs", 12);
	ctr(in, "c", "netstat", "TcpExt.TCPTimeouts", 12);
	nd_dx_drops_line(in, "{\"type\":\"summary\",\"attach\":\"tp_btf\",\"drops\":32}");

	struct nd_dx_diag *d = diagnose(in);
	const struct nd_dx_finding *f = &d->f[0];
	bool other = false;

	ND_CHECK_EQ(f->mech, ND_DX_M_RTO_STALLS);
	ND_CHECK_STR(f->place.dev, "rs0");
	ND_CHECK_STR(f->place.reason, "TC_INGRESS");
	ND_CHECK_EQ(num(f, ND_DX_SRC_TCP, "stalls"), 12);
	ND_CHECK_EQ(num(f, ND_DX_SRC_DROPS, "on_stalled_flows"), 12);
	ND_CHECK(strstr(f->ev[0].text, "12 of them on the flows of the 3 connections") != NULL);
	for (size_t i = 1; i < d->n; i++)
		if (d->f[i].mech == ND_DX_M_PACKET_DROPS && !strcmp(d->f[i].place.dev, "rc0"))
			other = true;
	ND_CHECK(other);
	free(d);
	nd_dx_input_free(in);
}

/* Flows recorded completely, and no drop on a stalled connection's flow:
 * the amounts agree, but the drops are not these stalls' cause; the
 * stalls stay unexplained (the path). With some drops not kept by flow
 * (a full table), the amounts decide again, and the evidence says so. */
static void test_flow_join_rules_out(void)
{
	for (int lost = 0; lost < 2; lost++) {
		struct nd_dx_input *in = input(true, false, true);
		char s[4096], sum[160];

		nd_dx_drops_line(in, "{\"type\":\"meta\",\"flows\":true}");
		conn(in, "10.81.1.1:41000", "10.81.2.2:7250", 400000, "sender-limited", 0.9, 0, 0.1,
		     10, stall_list(s, sizeof(s), "rto", "c2s", 10, 0.21, 1));
		fdrop(in, "NETFILTER_DROP", "rc0", "r", "10.81.1.9:5000", "10.81.2.2:9", 10);
		place(in, "NETFILTER_DROP", "nft_do_chain", "rc0", "r", false, 10);
		ctr(in, "c", "snmp", "Tcp.RetransSegs", 10);
		ctr(in, "c", "netstat", "TcpExt.TCPTimeouts", 10);
		snprintf(sum, sizeof(sum), "{\"type\":\"summary\",\"attach\":\"tp_btf\",\"drops\":10,"
			 "\"flows_map_full\":%d}", lost ? 5 : 0);
		nd_dx_drops_line(in, sum);

		struct nd_dx_diag *d = diagnose(in);
		bool noted = false;

		for (size_t i = 0; i < d->nnote; i++)
			noted = noted || strstr(d->note[i], "5 drops had no room in the kernel's flow table");
		ND_CHECK_EQ(noted, lost);
		ND_CHECK_EQ(d->f[0].mech, ND_DX_M_RTO_STALLS);
		if (!lost) {
			ND_CHECK_EQ(d->f[0].place.kind, ND_DX_P_PATH);
		} else {
			ND_CHECK_EQ(d->f[0].place.kind, ND_DX_P_DEVICE);
			ND_CHECK_STR(d->f[0].place.dev, "rc0");
			ND_CHECK(strstr(d->f[0].ev[0].text, "tied by place and amount") != NULL);
			ND_CHECK(strstr(d->f[0].ev[0].text, "not kept by flow") != NULL);
		}
		free(d);
		nd_dx_input_free(in);
	}
}

/* Conntrack by flow: the SYN stalls of connections whose SYNs the table
 * dropped are its; a connection that waited for SYN retries with no drop
 * there is left for another finding. */
static void test_flow_join_conntrack(void)
{
	struct nd_dx_input *in = input(true, false, true);
	char s[4096];

	nd_dx_drops_line(in, "{\"type\":\"meta\",\"flows\":true}");
	for (int i = 0; i < 5; i++) {
		char cl[32];

		snprintf(cl, sizeof(cl), "10.81.1.1:%d", 50000 + i);
		conn(in, cl, "10.81.2.2:7250", 1, "sender-limited", 1, 0, 0, 0,
		     stall_list(s, sizeof(s), "syn-retrans", "c2s", 1, 1.0, 1));
		if (i < 4)
			fdrop(in, "NETFILTER_DROP", "rc0", "r", cl, "10.81.2.2:7250", 1);
	}
	place(in, "NETFILTER_DROP", "nf_hook_slow", "rc0", "r", false, 4);
	ctr(in, "r", "conntrack", "drop", 4);
	ctr(in, "c", "netstat", "TcpExt.TCPSynRetrans", 5);
	nd_dx_drops_line(in, "{\"type\":\"summary\",\"attach\":\"tp_btf\",\"drops\":4}");

	struct nd_dx_diag *d = diagnose(in);
	bool path = false;

	ND_CHECK_EQ(d->f[0].mech, ND_DX_M_CONNTRACK_FULL);
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_TCP, "stalls"), 4);
	ND_CHECK_EQ(num(&d->f[0], ND_DX_SRC_DROPS, "on_stalled_flows"), 4);
	for (size_t i = 1; i < d->n; i++)
		if (d->f[i].mech == ND_DX_M_SYN_RETRIES && d->f[i].place.kind == ND_DX_P_PATH)
			path = num(&d->f[i], ND_DX_SRC_TCP, "stalls") == 1;
	ND_CHECK(path);
	free(d);
	nd_dx_input_free(in);
}

/* The qdisc by flow: two bulk transfers network-limited with losses; the
 * qdisc's drops were on transfer A only, so the bottleneck finding counts A
 * (and says its drops were on it); B lost its packets elsewhere and is left
 * for the rule of network-limited flows without a drop place. With the
 * drops on neither, the qdisc is only packet drops. */
static void test_flow_join_qdisc(void)
{
	for (int neither = 0; neither < 2; neither++) {
		struct nd_dx_input *in = input(true, false, true);
		char l[640];

		nd_dx_drops_line(in, "{\"type\":\"meta\",\"flows\":true}");
		conn(in, "10.81.1.1:5000", "10.81.2.2:7250", 24000000, "network-limited", 0.02, 0, 0.98,
		     60, "");
		conn(in, "10.81.1.1:5001", "10.81.2.2:7250", 24000000, "network-limited", 0.02, 0, 0.98,
		     40, "");
		ctr_dev(in, "r", "qdisc", "rs0", "drops", 60);
		ctr(in, "c", "snmp", "Tcp.RetransSegs", 100);
		place(in, "QDISC_DROP", "__dev_queue_xmit+0xd01", "rs0", "r", true, 60);
		snprintf(l, sizeof(l), "{\"type\":\"drop\",\"reason\":\"QDISC_DROP\",\"dev\":\"rs0\","
			 "\"netns\":1,\"netns_name\":\"r\",\"qdisc\":true,\"flow\":{\"src\":\"%s\","
			 "\"dst\":\"10.81.2.2:7250\"},\"packets\":60}",
			 neither ? "10.81.1.9:6000" : "10.81.1.1:5000");
		ND_CHECK_EQ(nd_dx_drops_line(in, l), 0);
		nd_dx_drops_line(in, "{\"type\":\"summary\",\"attach\":\"tp_btf\",\"drops\":60}");

		struct nd_dx_diag *d = diagnose(in);
		const struct nd_dx_finding *q = NULL;

		for (size_t i = 0; i < d->n; i++)
			if (d->f[i].place.kind == ND_DX_P_QDISC)
				q = &d->f[i];
		ND_CHECK(q != NULL);
		if (q && !neither) {
			ND_CHECK_EQ(q->mech, ND_DX_M_NETWORK_BOTTLENECK);
			ND_CHECK_EQ(num(q, ND_DX_SRC_TCP, "flows"), 1);
			ND_CHECK_EQ(num(q, ND_DX_SRC_TCP, "retrans"), 60);
			ND_CHECK_EQ(num(q, ND_DX_SRC_DROPS, "on_limited_flows"), 60);
		} else if (q) {
			ND_CHECK_EQ(q->mech, ND_DX_M_PACKET_DROPS);
		}
		free(d);
		nd_dx_input_free(in);
	}
}

/* The timing join (drops --events): a stall counts when a drop of its own
 * connection at the place happened while it lasted. Connection A's stalls
 * start at 0, 1, 2, 3 s and last 0.21 s; drops at 0.05, 1.10 and 3.20 s fall
 * in three of them, one at 2.50 s in none. Connection B lost packets there
 * too (by flow) but only 0.5 s after each stall began and ended. */
static void test_timing_join(void)
{
	struct nd_dx_input *in = input(true, false, true);
	static const double at_a[] = { 0.05, 1.10, 2.50, 3.20 };
	static const double at_b[] = { 0.50, 1.50 };
	char s[4096], l[640];

	nd_dx_drops_line(in, "{\"type\":\"meta\",\"flows\":true,\"events\":true}");
	conn(in, "10.81.1.1:41000", "10.81.2.2:7250", 400000, "sender-limited", 0.9, 0, 0.1, 4,
	     stall_list(s, sizeof(s), "rto", "c2s", 4, 0.21, 1));
	conn(in, "10.81.1.1:41001", "10.81.2.2:7250", 400000, "sender-limited", 0.9, 0, 0.1, 2,
	     stall_list(s, sizeof(s), "rto", "c2s", 2, 0.21, 1));
	for (size_t i = 0; i < 6; i++) {
		bool a = i < 4;

		snprintf(l, sizeof(l), "{\"type\":\"event\",\"kind\":\"drop\",\"ts\":%.2f,\"reason\":"
			 "\"NETFILTER_DROP\",\"dev\":\"rc0\",\"netns\":1,\"netns_name\":\"r\",\"qdisc\":false,"
			 "\"flow\":{\"src\":\"%s\",\"dst\":\"10.81.2.2:7250\"}}",
			 a ? at_a[i] : at_b[i - 4], a ? "10.81.1.1:41000" : "10.81.1.1:41001");
		ND_CHECK_EQ(nd_dx_drops_line(in, l), 0);
	}
	/* a signal event is not a drop */
	nd_dx_drops_line(in, "{\"type\":\"event\",\"kind\":\"signal\",\"ts\":0.06,\"signal\":"
			 "\"retransmit\",\"flow\":{\"src\":\"10.81.1.1:41000\",\"dst\":\"10.81.2.2:7250\"}}");
	fdrop(in, "NETFILTER_DROP", "rc0", "r", "10.81.1.1:41000", "10.81.2.2:7250", 4);
	fdrop(in, "NETFILTER_DROP", "rc0", "r", "10.81.1.1:41001", "10.81.2.2:7250", 2);
	place(in, "NETFILTER_DROP", "nft_do_chain", "rc0", "r", false, 6);
	ctr(in, "c", "snmp", "Tcp.RetransSegs", 6);
	nd_dx_drops_line(in, "{\"type\":\"summary\",\"attach\":\"tp_btf\",\"drops\":6,"
			 "\"events_suppressed\":2}");
	ND_CHECK_EQ(in->ndropev, 6);
	ND_CHECK_EQ(in->nstall, 6);

	struct nd_dx_diag *d = diagnose(in);
	const struct nd_dx_finding *f = &d->f[0];
	bool said = false;

	ND_CHECK_EQ(f->mech, ND_DX_M_RTO_STALLS);
	ND_CHECK_EQ(num(f, ND_DX_SRC_TCP, "stalls"), 6);
	ND_CHECK_EQ(num(f, ND_DX_SRC_DROPS, "on_stalled_flows"), 6);
	ND_CHECK_EQ(num(f, ND_DX_SRC_DROPS, "stalls_timed"), 3);
	for (unsigned i = 0; i < f->nev; i++)
		said = said || (strstr(f->ev[i].text, "3 of those 6 stalls") &&
				strstr(f->ev[i].text, "at least"));
	ND_CHECK(said);
	free(d);
	nd_dx_input_free(in);
}

static void test_names(void)
{
	ND_CHECK_STR(nd_dx_mech_name(ND_DX_M_CONNTRACK_FULL), "conntrack-full");
	ND_CHECK_STR(nd_dx_mech_name(ND_DX_M_NETWORK_BOTTLENECK), "network-bottleneck");
	ND_CHECK_STR(nd_dx_sev_name(ND_DX_CRITICAL), "critical");
	ND_CHECK_STR(nd_dx_place_name(ND_DX_P_SOCKBUF), "socket-buffer");
	ND_CHECK_STR(nd_dx_cause_name(ND_DX_C_SYNACK), "synack-retrans");
	ND_CHECK_STR(nd_dx_mech_name(ND_DX_NMECH), "?");
}

int main(void)
{
	ND_RUN(test_rto_at_device);
	ND_RUN(test_rto_without_drops);
	ND_RUN(test_conntrack_full);
	ND_RUN(test_listen_overflow);
	ND_RUN(test_qdisc_bottleneck);
	ND_RUN(test_receiver_window);
	ND_RUN(test_sender_limited_is_info);
	ND_RUN(test_healthy);
	ND_RUN(test_netns_filter);
	ND_RUN(test_amounts_must_agree);
	ND_RUN(test_link_counter_and_drops);
	ND_RUN(test_ranking_and_cap);
	ND_RUN(test_rank_by_impact);
	ND_RUN(test_flow_join_picks_the_place);
	ND_RUN(test_flow_join_rules_out);
	ND_RUN(test_flow_join_conntrack);
	ND_RUN(test_flow_join_qdisc);
	ND_RUN(test_timing_join);
	ND_RUN(test_names);
	return nd_test_done();
}
