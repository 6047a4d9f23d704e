/* SPDX-License-Identifier: MIT */
/* Unit tests of the counter file parsers (src/counters/parse.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "counters/ctr.h"
#include "counters/parse.h"
#include "nd_test.h"

#define MAXV 64

struct got {
	char name[MAXV][64];
	uint64_t v[MAXV];
	bool gauge[MAXV];
	uint32_t cpu[MAXV];
	int n;
	int stop_at;            /* return 1 at this many values (0: never) */
};

static int collect(void *ctx, const char *name, uint64_t value, bool gauge, uint32_t cpu)
{
	struct got *g = ctx;

	if (g->n < MAXV) {
		snprintf(g->name[g->n], sizeof(g->name[0]), "%s", name);
		g->v[g->n] = value;
		g->gauge[g->n] = gauge;
		g->cpu[g->n] = cpu;
	}
	g->n++;
	return g->stop_at && g->n == g->stop_at ? 1 : 0;
}

static int find(const struct got *g, const char *name)
{
	for (int i = 0; i < g->n && i < MAXV; i++)
		if (!strcmp(g->name[i], name))
			return i;
	return -1;
}

static void test_snmp(void)
{
	static const char txt[] =
		"Ip: Forwarding DefaultTTL InReceives\n"
		"Ip: 2 64 20942464\n"
		"Tcp: RtoAlgorithm MaxConn CurrEstab RetransSegs\n"
		"Tcp: 1 -1 3 18446744073709551615\n";
	struct got g = { 0 };
	int i;

	ND_CHECK_EQ(nd_parse_snmp(txt, strlen(txt), collect, &g), 0);
	ND_CHECK_EQ(g.n, 7);
	i = find(&g, "Ip.InReceives");
	ND_CHECK(i >= 0 && g.v[i] == 20942464 && !g.gauge[i]);
	i = find(&g, "Ip.Forwarding");
	ND_CHECK(i >= 0 && g.gauge[i]);
	i = find(&g, "Tcp.MaxConn");
	ND_CHECK(i >= 0 && g.gauge[i] && (int64_t)g.v[i] == -1);
	i = find(&g, "Tcp.CurrEstab");
	ND_CHECK(i >= 0 && g.gauge[i] && g.v[i] == 3);
	i = find(&g, "Tcp.RetransSegs");
	ND_CHECK(i >= 0 && g.v[i] == UINT64_MAX && !g.gauge[i]);
}

static void test_netstat_no_trailing_newline(void)
{
	/* The buffer is not NUL-terminated and has no final newline. */
	static const char txt[] = "TcpExt: ListenOverflows ListenDrops\nTcpExt: 5 7XXXX";
	struct got g = { 0 };

	ND_CHECK_EQ(nd_parse_snmp(txt, strlen(txt) - 4, collect, &g), 0);
	ND_CHECK_EQ(g.n, 2);
	ND_CHECK_STR(g.name[0], "TcpExt.ListenOverflows");
	ND_CHECK_EQ(g.v[0], 5);
	ND_CHECK_STR(g.name[1], "TcpExt.ListenDrops");
	ND_CHECK_EQ(g.v[1], 7);
}

static void test_snmp_malformed(void)
{
	static const char *const bad[] = {
		"Ip: A B\nIp: 1\n",             /* fewer values than names */
		"Ip: A\nIp: 1 2\n",             /* more values */
		"Ip: A B\nTcp: 1 2\n",          /* prefixes differ */
		"Ip: A B\n",                    /* no value line */
		"Ip: A\nIp: x\n",               /* not a number */
		"Ip: A\nIp: 99999999999999999999\n",     /* overflow */
		"NoColon A\nNoColon 1\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct got g = { 0 };

		ND_CHECK_EQ(nd_parse_snmp(bad[i], strlen(bad[i]), collect, &g), -EPROTO);
	}
}

static void test_emit_stops(void)
{
	static const char txt[] = "Ip: A B C\nIp: 1 2 3\n";
	struct got g = { .stop_at = 2 };

	ND_CHECK_EQ(nd_parse_snmp(txt, strlen(txt), collect, &g), 1);
	ND_CHECK_EQ(g.n, 2);
}

static void test_snmp6(void)
{
	static const char txt[] = "Ip6InReceives                   \t2\nIp6InDiscards 0\n\nUdp6NoPorts 17\n";
	static const char bad[] = "Ip6InReceives 2 3\n";
	struct got g = { 0 };

	ND_CHECK_EQ(nd_parse_snmp6(txt, strlen(txt), collect, &g), 0);
	ND_CHECK_EQ(g.n, 3);
	ND_CHECK_STR(g.name[2], "Udp6NoPorts");
	ND_CHECK_EQ(g.v[2], 17);
	memset(&g, 0, sizeof(g));
	ND_CHECK_EQ(nd_parse_snmp6(bad, strlen(bad), collect, &g), -EPROTO);
}

static void test_softnet(void)
{
	/* 6.x: 15 columns, CPU in column 12 (CPU 1 offline: rows are 0 and 2). */
	static const char txt[] =
		"162a15b3 00000003 00000012 00000000 00000000 00000000 00000000 00000000 00000000 00000005 00000001 00000002 00000000 00000000 00000002\n"
		"1841bf4b 00000000 0000000e 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000002 00000000 00000000\n";
	/* An old kernel: 11 columns, CPU by row. */
	static const char old[] = "0000000a 00000001 00000002 0 0 0 0 0 00000003 00000004 00000005\n";
	struct got g = { 0 };
	int i;

	ND_CHECK_EQ(nd_parse_softnet(txt, strlen(txt), collect, &g), 0);
	ND_CHECK_EQ(g.n, 14);
	ND_CHECK_STR(g.name[1], "dropped");
	ND_CHECK_EQ(g.v[1], 3);
	ND_CHECK_EQ(g.cpu[1], 0);
	ND_CHECK_STR(g.name[2], "time_squeeze");
	ND_CHECK_EQ(g.v[2], 0x12);
	ND_CHECK_STR(g.name[6], "backlog_len");
	ND_CHECK(g.gauge[6]);
	ND_CHECK_EQ(g.v[6], 2);
	ND_CHECK_EQ(g.cpu[7], 2);           /* the second row is CPU 2 */
	ND_CHECK_EQ(g.v[9], 0xe);
	memset(&g, 0, sizeof(g));
	ND_CHECK_EQ(nd_parse_softnet(old, strlen(old), collect, &g), 0);
	ND_CHECK_EQ(g.n, 6);                /* no backlog_len column */
	i = find(&g, "flow_limit_count");
	ND_CHECK(i >= 0 && g.v[i] == 5 && g.cpu[i] == 0);
	memset(&g, 0, sizeof(g));
	ND_CHECK_EQ(nd_parse_softnet("0000000a zz\n", 12, collect, &g), -EPROTO);
}

static void test_ct_stat(void)
{
	static const char txt[] =
		"entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n"
		"00000014  00000000 00000001 00000000 00000002 00000000 00000000 00000000 00000000 00000003 00000010 00000001 00000000  00000000 00000000 00000000 00000000\n"
		"00000014  00000000 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000 0000000a 00000000 00000000  00000000 00000000 00000000 00000000\n";
	static const char ragged[] = "entries drop\n00000001 00000002 00000003\n";
	struct got g = { 0 };
	int i;

	ND_CHECK_EQ(nd_parse_ct_stat(txt, strlen(txt), collect, &g), 0);
	ND_CHECK_EQ(g.n, 16);               /* entries left out */
	ND_CHECK(find(&g, "entries") < 0);
	i = find(&g, "drop");
	ND_CHECK(i >= 0 && g.v[i] == 0x1a); /* summed over CPUs */
	i = find(&g, "insert_failed");
	ND_CHECK(i >= 0 && g.v[i] == 3);
	i = find(&g, "early_drop");
	ND_CHECK(i >= 0 && g.v[i] == 1);
	memset(&g, 0, sizeof(g));
	ND_CHECK_EQ(nd_parse_ct_stat(ragged, strlen(ragged), collect, &g), -EPROTO);
	ND_CHECK_EQ(nd_parse_ct_stat("entries drop\n", 13, collect, &g), -EPROTO);
}

static void test_u64_text(void)
{
	uint64_t v = 0;

	ND_CHECK_EQ(nd_parse_u64_text("262144\n", 7, &v), 0);
	ND_CHECK_EQ(v, 262144);
	ND_CHECK_EQ(nd_parse_u64_text("  5 ", 4, &v), 0);
	ND_CHECK_EQ(v, 5);
	ND_CHECK_EQ(nd_parse_u64_text("5 6", 3, &v), -EPROTO);
	ND_CHECK_EQ(nd_parse_u64_text("-5", 2, &v), -EPROTO);
	ND_CHECK_EQ(nd_parse_u64_text("", 0, &v), -EPROTO);
}

int main(void)
{
	ND_RUN(test_snmp);
	ND_RUN(test_netstat_no_trailing_newline);
	ND_RUN(test_snmp_malformed);
	ND_RUN(test_emit_stops);
	ND_RUN(test_snmp6);
	ND_RUN(test_softnet);
	ND_RUN(test_ct_stat);
	ND_RUN(test_u64_text);
	return nd_test_done();
}
