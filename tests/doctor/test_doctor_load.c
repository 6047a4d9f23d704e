/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of src/doctor/load.c: the collectors' NDJSON lines (as
 * netdx counters, drops, tcp and bench write them) read into the model;
 * what is kept, summed, skipped, counted as bad, and capped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor/load.h"
#include "nd_test.h"

#define CTR(ns, src, name, delta) \
	"{\"type\":\"delta\",\"seq\":1,\"netns\":\"" ns "\",\"source\":\"" src "\",\"name\":\"" name \
	"\",\"delta\":" #delta ",\"rate\":1.0,\"value\":" #delta "}"

static void test_counters_kept_and_skipped(void)
{
	struct nd_dx_input *in = nd_dx_input_new();

	ND_CHECK_EQ(nd_dx_counters_line(in, "{\"type\":\"meta\",\"schema\":1}"), 0);
	ND_CHECK_EQ(nd_dx_counters_line(in, CTR("a", "snmp", "Tcp.RetransSegs", 150)), 0);
	ND_CHECK_EQ(nd_dx_counters_line(in, CTR("a", "snmp", "Tcp.InSegs", 9000)), 0);   /* not read */
	ND_CHECK_EQ(nd_dx_counters_line(in, CTR("a", "netstat", "TcpExt.TCPTimeouts", 0)), 0); /* still */
	ND_CHECK_EQ(nd_dx_counters_line(in,
		"{\"type\":\"delta\",\"seq\":1,\"netns\":\"r\",\"source\":\"qdisc\",\"device\":\"v1\","
		"\"qdisc\":\"tbf\",\"handle\":\"8001:\",\"parent\":\"root\",\"name\":\"drops\",\"delta\":106,"
		"\"rate\":21.2,\"value\":106}"), 0);
	ND_CHECK_EQ(nd_dx_counters_line(in,
		"{\"type\":\"delta\",\"seq\":1,\"netns\":\"r\",\"source\":\"conntrack\",\"name\":\"entries_limit\","
		"\"gauge\":true,\"delta\":0,\"rate\":0,\"value\":32}"), 0);
	ND_CHECK_EQ(in->nctr, 3);
	ND_CHECK_STR(in->ctr[0].name, "Tcp.RetransSegs");
	ND_CHECK_EQ(in->ctr[0].delta, 150);
	ND_CHECK_STR(in->ctr[1].dev, "v1");
	ND_CHECK_STR(in->ctr[1].qdisc, "tbf");
	ND_CHECK_STR(in->ctr[1].handle, "8001:");
	ND_CHECK(in->ctr[2].gauge);
	ND_CHECK_EQ(in->ctr[2].value, 32);
	ND_CHECK(!in->have[ND_DX_SRC_COUNTERS]);
	ND_CHECK_EQ(nd_dx_counters_line(in, "{\"type\":\"summary\",\"intervals\":1}"), 0);
	ND_CHECK(in->have[ND_DX_SRC_COUNTERS]);
	nd_dx_input_free(in);
}

static void test_counters_intervals_summed(void)
{
	struct nd_dx_input *in = nd_dx_input_new();

	nd_dx_counters_line(in, CTR("a", "snmp", "Tcp.RetransSegs", 10));
	nd_dx_counters_line(in, "{\"type\":\"delta\",\"seq\":2,\"netns\":\"a\",\"source\":\"snmp\","
				"\"name\":\"Tcp.RetransSegs\",\"delta\":5,\"value\":15}");
	nd_dx_counters_line(in, "{\"type\":\"delta\",\"seq\":2,\"netns\":\"b\",\"source\":\"snmp\","
				"\"name\":\"Tcp.RetransSegs\",\"delta\":7,\"value\":7}");
	/* softnet: one row per CPU, one sum */
	nd_dx_counters_line(in, "{\"type\":\"delta\",\"seq\":1,\"netns\":\"host\",\"source\":\"softnet\","
				"\"cpu\":0,\"name\":\"dropped\",\"delta\":3,\"value\":3}");
	nd_dx_counters_line(in, "{\"type\":\"delta\",\"seq\":1,\"netns\":\"host\",\"source\":\"softnet\","
				"\"cpu\":1,\"name\":\"dropped\",\"delta\":4,\"value\":4}");
	ND_CHECK_EQ(in->nctr, 3);
	ND_CHECK_EQ(in->ctr[0].delta, 15);
	ND_CHECK_EQ(in->ctr[1].delta, 7);
	ND_CHECK_EQ(in->ctr[2].delta, 7);
	nd_dx_input_free(in);
}

static void test_bad_lines_counted(void)
{
	struct nd_dx_input *in = nd_dx_input_new();

	ND_CHECK_EQ(nd_dx_counters_line(in, "not json"), -EINVAL);
	ND_CHECK_EQ(nd_dx_counters_line(in, "{\"no\":\"type\"}"), -EINVAL);
	ND_CHECK_EQ(nd_dx_counters_line(in, "[1,2]"), -EINVAL);
	ND_CHECK_EQ(nd_dx_counters_line(in, "{\"type\":\"delta\",\"delta\":3}"), -EINVAL);
	ND_CHECK_EQ(nd_dx_drops_line(in, "{\"type\":"), -EINVAL);
	ND_CHECK_EQ(nd_dx_tcp_line(in, 0, "{\"type\":\"conn\",\"id\":1}"), -EINVAL); /* no endpoints */
	ND_CHECK_EQ(in->bad_lines[ND_DX_SRC_COUNTERS], 4);
	ND_CHECK_EQ(in->bad_lines[ND_DX_SRC_DROPS], 1);
	ND_CHECK_EQ(in->bad_lines[ND_DX_SRC_TCP], 1);
	ND_CHECK_EQ(in->nctr + in->ndrop + in->nconn, 0);
	nd_dx_input_free(in);
}

static void test_drops_places_and_signals(void)
{
	struct nd_dx_input *in = nd_dx_input_new();

	nd_dx_add_netns(in, "blue", 4026532999ull);
	nd_dx_drops_line(in, "{\"type\":\"meta\",\"attach\":\"tp_btf\",\"flows\":false}");
	nd_dx_drops_line(in, "{\"type\":\"place\",\"reason\":\"NETFILTER_DROP\",\"location\":\"nf_hook_slow+0x7d\","
			     "\"dev\":\"v0\",\"netns\":4026532578,\"netns_name\":\"red\",\"proto\":\"ipv4/tcp\","
			     "\"qdisc\":false,\"packets\":24,\"bytes\":1440,\"first_ts\":1.5,\"last_ts\":2.5}");
	nd_dx_drops_line(in, "{\"type\":\"place\",\"reason\":\"QDISC_DROP\",\"location\":\"x\",\"dev\":\"v1\","
			     "\"netns\":4026532999,\"netns_name\":null,\"qdisc\":true,\"packets\":7}");
	nd_dx_drops_line(in, "{\"type\":\"place\",\"reason\":\"NO_SOCKET\",\"location\":\"y\",\"dev\":null,"
			     "\"netns\":4026531840,\"netns_name\":\"init\",\"packets\":2}");
	nd_dx_drops_line(in, "{\"type\":\"signal\",\"signal\":\"retransmit\",\"state\":\"SYN_SENT\","
			     "\"netns\":1,\"netns_name\":\"c\",\"count\":5}");
	nd_dx_drops_line(in, "{\"type\":\"signal\",\"signal\":\"retransmit\",\"state\":\"SYN_SENT\","
			     "\"netns\":1,\"netns_name\":\"c\",\"count\":6}");
	nd_dx_drops_line(in, "{\"type\":\"signal\",\"signal\":\"retransmit\",\"state\":\"ESTABLISHED\","
			     "\"netns\":1,\"netns_name\":\"c\",\"count\":2}");
	ND_CHECK(!in->have[ND_DX_SRC_DROPS]);
	nd_dx_drops_line(in, "{\"type\":\"summary\",\"seconds\":6.0,\"drops\":33,\"drops_map_full\":4,"
			     "\"retrans\":13,\"syn_sent_retrans\":11}");
	ND_CHECK(in->have[ND_DX_SRC_DROPS]);
	ND_CHECK_EQ(in->ndrop, 3);
	ND_CHECK_STR(in->drop[0].netns, "red");
	ND_CHECK_EQ(in->drop[0].packets, 24);
	ND_CHECK_STR(in->drop[1].netns, "blue");        /* named by its inode */
	ND_CHECK(in->drop[1].qdisc);
	ND_CHECK_STR(in->drop[2].netns, "host");        /* "init" is counters' "host" */
	ND_CHECK_STR(in->drop[2].dev, "");
	ND_CHECK_EQ(in->nsig, 2);
	ND_CHECK_EQ(in->sig[0].count, 11);
	ND_CHECK_EQ(in->dsum.map_full, 4);
	ND_CHECK_STR(in->dsum.attach, "tp_btf");
	nd_dx_input_free(in);
}

/* A conn line of netdx tcp --json with the fields the loader reads. */
static const char *conn_line(char *buf, size_t len, const char *client, int payload_c2s,
			     const char *verdict, const char *stalls)
{
	snprintf(buf, len,
		 "{\"type\":\"conn\",\"id\":1,\"client\":\"%s\",\"server\":\"10.0.0.2:80\",\"first_ts\":1.0,"
		 "\"last_ts\":5.0,\"c2s\":{\"payload_bytes\":%d,\"retrans_pkts\":2,\"fast_retrans\":0,"
		 "\"rto_retrans\":2,\"syn_retrans\":0,\"zero_window\":0,\"window\":{\"min\":0,\"max\":8192},"
		 "\"rtt_us\":{\"p50\":40},\"limits\":{\"sender\":0.1,\"receiver\":0.2,\"network\":0.7},"
		 "\"verdict\":\"%s\",\"transfer_s\":3.5},\"s2c\":{\"payload_bytes\":10,\"verdict\":\"sender-limited\","
		 "\"limits\":null},\"stalls\":[%s],\"txn\":{\"count\":9,\"latency_us\":{\"p50\":40,\"p99\":204800,"
		 "\"max\":210000}}}",
		 client, payload_c2s, verdict, stalls);
	return buf;
}

/* drops --flows "drop" rows: kept with the endpoints in canonical order
 * (so both directions of a connection meet), IPv6 too; rows without a
 * flow are the places again and are not kept; the flow table's overflow
 * from the summary. */
static void test_drops_flow_rows(void)
{
	struct nd_dx_input *in = nd_dx_input_new();

	nd_dx_drops_line(in, "{\"type\":\"meta\",\"flows\":true}");
	ND_CHECK(in->dsum.flows);
	nd_dx_drops_line(in, "{\"type\":\"drop\",\"reason\":\"NETFILTER_DROP\",\"dev\":\"rc0\","
			     "\"netns\":7,\"netns_name\":\"r\",\"qdisc\":false,\"flow\":{\"src\":"
			     "\"10.81.2.2:7250\",\"dst\":\"10.81.1.1:40000\",\"proto\":\"tcp\"},\"packets\":3}");
	nd_dx_drops_line(in, "{\"type\":\"drop\",\"reason\":\"QDISC_DROP\",\"dev\":\"lo\","
			     "\"netns\":8,\"netns_name\":\"s\",\"qdisc\":true,\"flow\":{\"src\":"
			     "\"[::1]:41000\",\"dst\":\"[::1]:7251\",\"proto\":\"tcp\"},\"packets\":2}");
	nd_dx_drops_line(in, "{\"type\":\"drop\",\"reason\":\"NO_SOCKET\",\"dev\":\"v0\","
			     "\"netns\":8,\"netns_name\":\"s\",\"flow\":null,\"packets\":9}");
	/* per-flow signal rows, then the exact totals that replace them */
	nd_dx_drops_line(in, "{\"type\":\"signal\",\"signal\":\"retransmit\",\"state\":\"ESTABLISHED\","
			     "\"netns\":1,\"netns_name\":\"c\",\"count\":4}");
	nd_dx_drops_line(in, "{\"type\":\"signal_place\",\"signal\":\"retransmit\",\"state\":"
			     "\"ESTABLISHED\",\"netns\":1,\"netns_name\":\"c\",\"count\":9}");
	nd_dx_drops_line(in, "{\"type\":\"signal\",\"signal\":\"retransmit\",\"state\":\"ESTABLISHED\","
			     "\"netns\":1,\"netns_name\":\"c\",\"count\":4}");
	nd_dx_drops_line(in, "{\"type\":\"summary\",\"drops\":14,\"flows_map_full\":5}");
	ND_CHECK_EQ(in->nsig, 1);
	ND_CHECK_EQ(in->sig[0].count, 9);
	ND_CHECK_EQ(in->nfdrop, 2);
	ND_CHECK_STR(in->fdrop[0].key.lo, "10.81.1.1:40000");
	ND_CHECK_STR(in->fdrop[0].key.hi, "10.81.2.2:7250");
	ND_CHECK_STR(in->fdrop[0].netns, "r");
	ND_CHECK_STR(in->fdrop[0].reason, "NETFILTER_DROP");
	ND_CHECK_EQ(in->fdrop[0].packets, 3);
	ND_CHECK_STR(in->fdrop[1].key.lo, "[::1]:41000");
	ND_CHECK_STR(in->fdrop[1].key.hi, "[::1]:7251");
	ND_CHECK(in->fdrop[1].qdisc);
	ND_CHECK_EQ(in->dsum.flows_map_full, 5);
	nd_dx_input_free(in);
}

static void test_tcp_conns(void)
{
	struct nd_dx_input *in = nd_dx_input_new();
	char buf[2048];
	const char *two = "{\"dir\":\"c2s\",\"cause\":\"rto\",\"start\":2.0,\"duration_s\":0.21,\"retries\":1},"
			  "{\"dir\":\"c2s\",\"cause\":\"syn-retrans\",\"start\":1.0,\"duration_s\":1.02,\"retries\":1},"
			  "{\"dir\":\"s2c\",\"cause\":\"bogus\",\"start\":1.0,\"duration_s\":1,\"retries\":1}";
	const struct nd_dx_conn *c;

	ND_CHECK_EQ(nd_dx_tcp_line(in, 3, conn_line(buf, sizeof(buf), "10.0.0.1:4000", 100,
						    "network-limited", two)), 0);
	/* a plain connection: counted, not kept */
	nd_dx_tcp_line(in, 3, "{\"type\":\"conn\",\"client\":\"10.0.0.1:4001\",\"server\":\"10.0.0.2:80\","
			      "\"c2s\":{\"payload_bytes\":5},\"s2c\":{\"payload_bytes\":5},\"stalls\":[],\"txn\":null}");
	/* an interval snapshot of an open connection is not a connection */
	nd_dx_tcp_line(in, 3, "{\"type\":\"conn\",\"client\":\"10.0.0.1:4002\",\"server\":\"10.0.0.2:80\","
			      "\"snapshot\":true,\"stalls\":[]}");
	nd_dx_tcp_line(in, 3, "{\"type\":\"summary\",\"packets\":500,\"capture\":{\"recv\":500,\"drop\":3,\"ifdrop\":1}}");
	ND_CHECK(in->have[ND_DX_SRC_TCP]);
	ND_CHECK_EQ(in->tsum.conns, 2);
	ND_CHECK_EQ(in->tsum.stalled, 1);
	ND_CHECK_EQ(in->tsum.snapshots, 1);
	ND_CHECK_EQ(in->tsum.packets, 500);
	ND_CHECK_EQ(in->tsum.capture_drops, 4);
	ND_CHECK_EQ(in->nconn, 1);
	c = &in->conn[0];
	ND_CHECK_EQ(c->cap, 3);
	ND_CHECK_STR(c->client, "10.0.0.1:4000");
	ND_CHECK_EQ(c->d[0].verdict, ND_DX_V_NETWORK);
	ND_CHECK(c->d[0].has_lim && !c->d[1].has_lim);
	ND_CHECK(c->d[0].lim[2] > 0.69 && c->d[0].lim[2] < 0.71);
	ND_CHECK_EQ(c->d[0].win_max, 8192);
	ND_CHECK_EQ(c->d[0].rto, 2);
	ND_CHECK_EQ(c->nstall[ND_DX_C_RTO][0], 1);
	ND_CHECK_EQ(c->nstall[ND_DX_C_SYN][0], 1);
	ND_CHECK_EQ(c->txn_p99_us, 204800);
	ND_CHECK_EQ(in->tsum.st[ND_DX_C_RTO].n, 1);
	ND_CHECK_EQ(in->tsum.st[ND_DX_C_RTO].ds[2], 1);         /* 0.21 s -> 0.2 */
	ND_CHECK_EQ(in->tsum.st[ND_DX_C_SYN].ds[10], 1);        /* 1.02 s -> 1.0 */
	ND_CHECK_EQ(in->nserver, 1);
	ND_CHECK_EQ(in->server[0].conns, 2);
	ND_CHECK_EQ(in->server[0].stalled, 1);
	nd_dx_input_free(in);
}

static void test_bench_doc(void)
{
	struct nd_dx_input *in = nd_dx_input_new();
	const char *doc =
		"{\"type\":\"bench\",\"schema\":1,\"mode\":\"stream\",\"meta\":{\"options\":{\"dir\":\"up\"}},"
		"\"totals\":{\"client\":{\"transactions\":0},\"duration_s\":4.0,\"tps\":0,\"goodput_bps\":6.2e7,"
		"\"flows\":1,\"stalled_flows\":0},\"latency_us\":null,\"flows\":[{\"local\":\"10.0.0.1:5\","
		"\"remote\":\"10.0.0.2:7250\",\"stalled\":false,\"client\":{\"tx_bytes\":100,\"tcp_info\":"
		"{\"busy_time_us\":4000000,\"rwnd_limited_us\":1600000,\"sndbuf_limited_us\":0,"
		"\"total_retrans\":0,\"rtt_us\":10000}},\"server\":{\"tx_bytes\":0}}]}";

	ND_CHECK_EQ(nd_dx_bench_doc(in, doc), 0);
	ND_CHECK(in->have[ND_DX_SRC_BENCH]);
	ND_CHECK_STR(in->bench.mode, "stream");
	ND_CHECK_STR(in->bench.dir, "up");
	ND_CHECK(!in->bench.has_lat);
	ND_CHECK_EQ(in->bench.nflow, 1);
	ND_CHECK(in->bench.flow[0].client.valid && !in->bench.flow[0].server.valid);
	ND_CHECK_EQ(in->bench.flow[0].client.rwnd_limited_us, 1600000);
	ND_CHECK_EQ(nd_dx_bench_doc(in, "{\"type\":\"conn\"}"), -EINVAL);
	nd_dx_input_free(in);
}

static void test_meta_doc(void)
{
	struct nd_dx_input *in = nd_dx_input_new();
	char files[ND_DX_CAP_MAX][256];

	memset(files, 0, sizeof(files));
	ND_CHECK_EQ(nd_dx_meta_doc(in, "{\"type\":\"doctor-run\",\"duration_s\":6,\"netns\":[{\"name\":\"a\","
				       "\"inode\":7},{\"name\":\"b\",\"inode\":8}],\"captures\":[{\"iface\":\"v0\","
				       "\"netns\":\"a\",\"file\":\"tcp-0.ndjson\"}],\"missing\":{\"drops\":\"exit 4: "
				       "needs CAP_BPF\"}}",
				   files, ND_DX_CAP_MAX), 0);
	ND_CHECK_EQ(in->nnetns, 2);
	ND_CHECK_EQ(in->netns_ino[1], 8);
	ND_CHECK_EQ(in->ncap, 1);
	ND_CHECK_STR(in->cap[0].netns, "a");
	ND_CHECK_STR(files[0], "tcp-0.ndjson");
	ND_CHECK_STR(in->missing[ND_DX_SRC_DROPS], "exit 4: needs CAP_BPF");
	ND_CHECK_EQ(nd_dx_meta_doc(in, "{\"type\":\"meta\"}", NULL, 0), -EINVAL);
	nd_dx_input_free(in);
}

static void test_caps_counted(void)
{
	struct nd_dx_input *in = nd_dx_input_new();
	char line[256];

	for (int i = 0; i < ND_DX_DROP_MAX + 5; i++) {
		snprintf(line, sizeof(line), "{\"type\":\"place\",\"reason\":\"R%d\",\"location\":\"l\","
			 "\"netns_name\":\"n\",\"packets\":1}", i);
		ND_CHECK_EQ(nd_dx_drops_line(in, line), 0);
	}
	ND_CHECK_EQ(in->ndrop, ND_DX_DROP_MAX);
	ND_CHECK_EQ(in->drop_over, 5);
	for (int i = 0; i < ND_DX_NETNS_MAX; i++) {
		snprintf(line, sizeof(line), "ns%d", i);
		ND_CHECK_EQ(nd_dx_add_netns(in, line, 0), 0);
	}
	ND_CHECK_EQ(nd_dx_add_netns(in, "ns0", 3), 0);  /* known: its inode learnt */
	ND_CHECK_EQ(in->netns_ino[0], 3);
	ND_CHECK_EQ(nd_dx_add_netns(in, "one-more", 0), -ENOSPC);
	nd_dx_input_free(in);
}

static void test_load_file(void)
{
	struct nd_dx_input *in = nd_dx_input_new();
	char path[] = "/tmp/netdx-test-load.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fprintf(f, "%s\n\n%s\nnonsense\n%s\n", "{\"type\":\"meta\"}", CTR("a", "snmp", "Tcp.RetransSegs", 2),
		"{\"type\":\"summary\"}");
	fclose(f);
	ND_CHECK_EQ(nd_dx_load_file(in, ND_DX_SRC_COUNTERS, 0, path), 0);
	ND_CHECK(in->have[ND_DX_SRC_COUNTERS]);
	ND_CHECK_EQ(in->nctr, 1);
	ND_CHECK_EQ(in->bad_lines[ND_DX_SRC_COUNTERS], 1);
	unlink(path);
	ND_CHECK_EQ(nd_dx_load_file(in, ND_DX_SRC_DROPS, 0, path), -ENOENT);
	nd_dx_input_free(in);
}

int main(void)
{
	ND_RUN(test_counters_kept_and_skipped);
	ND_RUN(test_counters_intervals_summed);
	ND_RUN(test_bad_lines_counted);
	ND_RUN(test_drops_places_and_signals);
	ND_RUN(test_drops_flow_rows);
	ND_RUN(test_tcp_conns);
	ND_RUN(test_bench_doc);
	ND_RUN(test_meta_doc);
	ND_RUN(test_caps_counted);
	ND_RUN(test_load_file);
	return nd_test_done();
}
