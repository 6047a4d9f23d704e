/* SPDX-License-Identifier: MIT */
/* Unit tests of the Prometheus text renderer and --listen parsing
 * (src/counters/prom.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "counters/prom.h"
#include "nd_test.h"

static void test_snake(void)
{
	static const char *const t[][2] = {
		{ "TCPSynRetrans", "tcp_syn_retrans" },
		{ "RetransSegs", "retrans_segs" },
		{ "Tcp", "tcp" },
		{ "TcpExt", "tcp_ext" },
		{ "InCsumErrors", "in_csum_errors" },
		{ "Ip6InReceives", "ip6_in_receives" },
		{ "Icmp6InType133", "icmp6_in_type133" },
		{ "TCPDSACKOldSent", "tcpdsack_old_sent" },
		{ "DelayedACKs", "delayed_acks" },
		{ "MPJoinAckHMacFailure", "mp_join_ack_hmac_failure" },
		{ "rx_queue_0_drops", "rx_queue_0_drops" },
		{ "Tcp.RetransSegs", "tcp_retrans_segs" },
		{ "rx drops (q0)", "rx_drops_q0" },
	};
	char out[128];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		nd_prom_snake(t[i][0], out, sizeof(out));
		ND_CHECK_STR(out, t[i][1]);
	}
	nd_prom_snake("VeryLongName", out, 6);
	ND_CHECK(strlen(out) < 6);
}

static void test_metric_names(void)
{
	static const struct { enum nd_ctr_src src; const char *name; bool gauge; const char *want; } t[] = {
		{ ND_CSRC_LINK, "rx_dropped", false, "netdx_link_rx_dropped_total" },
		{ ND_CSRC_LINK, "carrier", true, "netdx_link_carrier" },
		{ ND_CSRC_QDISC, "drops", false, "netdx_qdisc_drops_total" },
		{ ND_CSRC_QDISC, "backlog_bytes", true, "netdx_qdisc_backlog_bytes" },
		{ ND_CSRC_SNMP, "Tcp.RetransSegs", false, "netdx_snmp_tcp_retrans_segs_total" },
		{ ND_CSRC_SNMP, "Tcp.CurrEstab", true, "netdx_snmp_tcp_curr_estab" },
		{ ND_CSRC_NETSTAT, "TcpExt.ListenOverflows", false, "netdx_netstat_tcp_ext_listen_overflows_total" },
		{ ND_CSRC_SNMP6, "Ip6InDiscards", false, "netdx_snmp6_ip6_in_discards_total" },
		{ ND_CSRC_SOFTNET, "time_squeeze", false, "netdx_softnet_time_squeeze_total" },
		{ ND_CSRC_CONNTRACK, "entries_limit", true, "netdx_conntrack_entries_limit" },
		{ ND_CSRC_ETHTOOL, "rx_queue_0_drops", false, "netdx_ethtool_rx_queue_0_drops_total" },
	};
	char out[160];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nd_ctr c;

		nd_ctr_set(&c, 0, t[i].src, NULL, t[i].name, 0, t[i].gauge);
		ND_CHECK_EQ(nd_prom_metric_name(&c, out, sizeof(out)), 0);
		ND_CHECK_STR(out, t[i].want);
	}
}

static void add(struct nd_snap *s, uint32_t ns, enum nd_ctr_src src, const char *dev,
		const char *name, uint64_t v, bool gauge)
{
	struct nd_ctr c;

	nd_ctr_set(&c, ns, src, dev, name, v, gauge);
	if (src == ND_CSRC_QDISC) {
		snprintf(c.kind, sizeof(c.kind), "tbf");
		c.handle = 0x80010000u;
		c.parent = 0xFFFFFFFFu;
	}
	if (src == ND_CSRC_SOFTNET)
		c.handle = 1;
	ND_CHECK_EQ(nd_snap_add(s, &c), 0);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_render(void)
{
	struct nd_snap s;
	struct nd_buf b;
	struct nd_prom_stats st;

	nd_snap_init(&s, 100, 10);
	nd_snap_add_ns(&s, "host", 1, 1, false);
	nd_snap_add_ns(&s, "we\"ird\\ns\n", 2, 0, true);
	add(&s, 1, ND_CSRC_LINK, "eth0", "rx_dropped", 152, false);
	add(&s, 0, ND_CSRC_SNMP, NULL, "Tcp.MaxConn", (uint64_t)-1, true);
	add(&s, 0, ND_CSRC_LINK, "eth0", "rx_dropped", 3, false);  /* same family, apart in the table */
	add(&s, 1, ND_CSRC_QDISC, "va", "drops", 487, false);
	add(&s, 0, ND_CSRC_SOFTNET, NULL, "dropped", 9, false);
	add(&s, 0, ND_CSRC_ETHTOOL, "eth0", "rx-drops", 1, false);
	add(&s, 0, ND_CSRC_ETHTOOL, "eth0", "rx_drops", 2, false);  /* the same name once sanitised */
	s.st.netns_vanished = 2;
	nd_buf_init(&b, 1 << 20);
	ND_CHECK_EQ(nd_prom_render(&s, 0.0125, &b, &st), 0);
	ND_CHECK(b.p != NULL);
	if (!b.p)
		return;
	ND_CHECK_EQ(count(b.p, "# TYPE netdx_link_rx_dropped_total counter\n"), 1);
	ND_CHECK_EQ(count(b.p, "# HELP netdx_link_rx_dropped_total "), 1);
	/* host sorts before the other name; both samples under one family */
	ND_CHECK(strstr(b.p, "# TYPE netdx_link_rx_dropped_total counter\n"
			     "netdx_link_rx_dropped_total{netns=\"host\",device=\"eth0\"} 3\n"
			     "netdx_link_rx_dropped_total{netns=\"we\\\"ird\\\\ns\\n\",device=\"eth0\"} 152\n") != NULL);
	ND_CHECK(strstr(b.p, "# TYPE netdx_snmp_tcp_max_conn gauge\nnetdx_snmp_tcp_max_conn{netns=\"host\"} -1\n") != NULL);
	ND_CHECK(strstr(b.p, "netdx_qdisc_drops_total{netns=\"we\\\"ird\\\\ns\\n\",device=\"va\",kind=\"tbf\","
			     "handle=\"8001:\",parent=\"root\"} 487\n") != NULL);
	ND_CHECK(strstr(b.p, "netdx_softnet_dropped_total{netns=\"host\",cpu=\"1\"} 9\n") != NULL);
	ND_CHECK_EQ(count(b.p, "netdx_ethtool_rx_drops_total{"), 1);
	ND_CHECK_EQ(st.duplicates, 1);
	ND_CHECK_EQ(st.samples, 6);
	ND_CHECK(strstr(b.p, "netdx_scrape_duration_seconds 0.012500\n") != NULL);
	ND_CHECK(strstr(b.p, "netdx_scrape_netns{state=\"vanished\"} 2\n") != NULL);
	ND_CHECK(strstr(b.p, "netdx_scrape_series_duplicate 1\n") != NULL);
	ND_CHECK(b.p[b.len - 1] == '\n' && strlen(b.p) == b.len);
	nd_buf_free(&b);

	/* Under a tight cap: -E2BIG, what fit is kept and terminated. */
	nd_buf_init(&b, 256);
	ND_CHECK_EQ(nd_prom_render(&s, 0, &b, NULL), -E2BIG);
	ND_CHECK(b.full);
	ND_CHECK(b.p && strlen(b.p) == b.len && b.len < 256);
	nd_buf_free(&b);
	nd_snap_free(&s);
}

static void test_listen(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	static const char *const bad[] = {
		"", "9469", "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", "127.0.0.1:-1", "::1:9469",
		"[::1]9469", "[]:1", "host.example:80", "1.2.3.4:80x",
	};

	ND_CHECK_EQ(nd_listen_parse("127.0.0.1:9469", &ss, &len), 0);
	ND_CHECK_EQ(a4->sin_family, AF_INET);
	ND_CHECK_EQ(ntohs(a4->sin_port), 9469);
	ND_CHECK_EQ(ntohl(a4->sin_addr.s_addr), 0x7f000001);
	ND_CHECK_EQ(len, sizeof(*a4));
	ND_CHECK_EQ(nd_listen_parse(":9100", &ss, &len), 0);
	ND_CHECK_EQ(a4->sin_addr.s_addr, htonl(INADDR_ANY));
	ND_CHECK_EQ(nd_listen_parse("localhost:0", &ss, &len), 0);
	ND_CHECK_EQ(ntohl(a4->sin_addr.s_addr), 0x7f000001);
	ND_CHECK_EQ(nd_listen_parse("[::1]:9469", &ss, &len), 0);
	ND_CHECK_EQ(a6->sin6_family, AF_INET6);
	ND_CHECK_EQ(ntohs(a6->sin6_port), 9469);
	ND_CHECK(IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (nd_listen_parse(bad[i], &ss, &len) != -EINVAL) {
			printf("# accepted '%s'\n", bad[i]);
			ND_CHECK(0);
		}
}

int main(void)
{
	ND_RUN(test_snake);
	ND_RUN(test_metric_names);
	ND_RUN(test_render);
	ND_RUN(test_listen);
	return nd_test_done();
}
