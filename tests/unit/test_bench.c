/* SPDX-License-Identifier: MIT */
/* Unit tests of the pure parts of netdx bench: the test description on the
 * wire, TCP_INFO lines, the bsp topology and a rank's step logic. */
#include <math.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/bsp.h"
#include "nd_test.h"

static void test_cfg_roundtrip(void)
{
	struct nd_bench_cfg a, b;
	char line[1024], err[128];

	memset(&a, 0, sizeof(a));
	a.mode = ND_BM_STREAM;
	a.flows = 2000;
	a.req = 100;
	a.resp = 2000;
	a.inflight = 4;
	a.rate = 123.5;
	a.down = true;
	strcpy(a.cc[0], "cubic");
	strcpy(a.cc[1], "bbr");
	a.ncc = 2;
	a.sndbuf = 1 << 20;
	a.rcvbuf = 1 << 19;
	a.write_size = 65536;
	a.backlog = 16;
	a.grid = true;
	a.compute_ns = 2000000;
	a.msg = 1024;
	a.duration_ns = 5000000000ull;
	a.interval_ns = 1000000000ull;
	ND_CHECK(nd_bench_cfg_format(&a, line, sizeof(line)) > 0);
	ND_CHECK_EQ(nd_bench_cfg_parse(line, &b, err, sizeof(err)), 0);
	ND_CHECK_EQ(b.mode, ND_BM_STREAM);
	ND_CHECK_EQ(b.flows, 2000);
	ND_CHECK_EQ(b.req, 100);
	ND_CHECK_EQ(b.resp, 2000);
	ND_CHECK_EQ(b.inflight, 4);
	ND_CHECK(fabs(b.rate - 123.5) < 1e-9);
	ND_CHECK(b.down && b.grid);
	ND_CHECK_EQ(b.ncc, 2);
	ND_CHECK_STR(b.cc[1], "bbr");
	ND_CHECK_EQ(b.sndbuf, 1 << 20);
	ND_CHECK_EQ(b.write_size, 65536);
	ND_CHECK_EQ(b.backlog, 16);
	ND_CHECK_EQ(b.compute_ns, 2000000);
	ND_CHECK_EQ(b.duration_ns, 5000000000ull);
	ND_CHECK_EQ(b.interval_ns, 1000000000ull);
	ND_CHECK(nd_bench_cfg_format(&a, line, 20) < 0);       /* too small a buffer */
}

static void test_cfg_rejects(void)
{
	struct nd_bench_cfg c;
	char err[128];

	ND_CHECK(nd_bench_cfg_parse("mode=rr flows=0 duration_ns=1", &c, err, sizeof(err)) < 0);
	ND_CHECK(strstr(err, "flows") != NULL);
	ND_CHECK(nd_bench_cfg_parse("mode=xx flows=1 duration_ns=1", &c, err, sizeof(err)) < 0);
	ND_CHECK(nd_bench_cfg_parse("mode=rr flows=1 duration_ns=1 bogus=3", &c, err, sizeof(err)) < 0);
	ND_CHECK(strstr(err, "bogus") != NULL);
	ND_CHECK(nd_bench_cfg_parse("mode=rr flows=1", &c, err, sizeof(err)) < 0);     /* no duration */
	ND_CHECK(nd_bench_cfg_parse("mode=rr flows=1x duration_ns=1", &c, err, sizeof(err)) < 0);
	ND_CHECK(nd_bench_cfg_parse("mode=rr flows=1 duration_ns=1 rate=-1", &c, err, sizeof(err)) < 0);
	ND_CHECK(nd_bench_cfg_parse("noequals", &c, err, sizeof(err)) < 0);
	ND_CHECK(nd_bench_cfg_parse("mode=rr flows=1 duration_ns=1 cc=a,b,c,d,e,f,g,h,i", &c, err,
				    sizeof(err)) < 0);                      /* more than ND_BENCH_MAX_CC */
	ND_CHECK_EQ(nd_bench_cfg_parse("mode=crr flows=3 duration_ns=7", &c, err, sizeof(err)), 0);
	ND_CHECK_EQ(c.mode, ND_BM_CRR);
}

static void test_tcpinfo_line_roundtrip(void)
{
	struct nd_tcpinfo a = { .valid = true, .state = 1, .ca_state = 4, .rtt_us = 123,
				.rttvar_us = 45, .snd_cwnd = 10, .snd_ssthresh = 2147483647u,
				.snd_mss = 1448, .total_retrans = 7,
				.delivery_rate_bps = 9876543210ull, .pacing_rate_bps = 1ull << 40,
				.busy_time_us = 5, .rwnd_limited_us = 6, .sndbuf_limited_us = 8,
				.bytes_acked = 1ull << 35, .bytes_received = 99 };
	struct nd_tcpinfo b;
	char line[512];

	ND_CHECK(nd_tcpinfo_format(&a, line, sizeof(line)) > 0);
	ND_CHECK_EQ(nd_tcpinfo_parse(line, &b), 0);
	ND_CHECK(b.valid);
	ND_CHECK_EQ(b.state, 1);
	ND_CHECK_EQ(b.ca_state, 4);
	ND_CHECK_EQ(b.rtt_us, 123);
	ND_CHECK_EQ(b.rttvar_us, 45);
	ND_CHECK_EQ(b.snd_cwnd, 10);
	ND_CHECK_EQ(b.snd_ssthresh, 2147483647u);
	ND_CHECK_EQ(b.snd_mss, 1448);
	ND_CHECK_EQ(b.total_retrans, 7);
	ND_CHECK(b.delivery_rate_bps == 9876543210ull && b.pacing_rate_bps == (1ull << 40));
	ND_CHECK(b.busy_time_us == 5 && b.rwnd_limited_us == 6 && b.sndbuf_limited_us == 8);
	ND_CHECK(b.bytes_acked == (1ull << 35) && b.bytes_received == 99);
	ND_CHECK(nd_tcpinfo_parse("1 2 3", &b) < 0);
}

/* Every edge joins a client rank and a server rank (so every exchange
 * crosses the network), and each rank has the right number of edges. */
static void check_topo(uint32_t ranks, bool grid, uint32_t want_edges)
{
	struct nd_bsp_topo t;
	uint32_t deg[64] = { 0 };

	ND_CHECK_EQ(nd_bsp_topo_make(ranks, grid, &t), 0);
	ND_CHECK_EQ(t.nedges, want_edges);
	for (uint32_t e = 0; e < t.nedges; e++) {
		uint32_t a = t.edges[e][0], b = t.edges[e][1];
		ND_CHECK(a < ranks && b < ranks && a != b);
		ND_CHECK(nd_bsp_on_client(&t, a) != nd_bsp_on_client(&t, b));
		deg[a]++;
		deg[b]++;
	}
	for (uint32_t r = 0; r < ranks; r++)
		ND_CHECK(deg[r] >= 1 && deg[r] <= ND_BSP_MAX_DEG);
	nd_bsp_topo_free(&t);
}

static void test_bsp_topologies(void)
{
	struct nd_bsp_topo t;

	check_topo(2, false, 1);
	check_topo(4, false, 4);
	check_topo(16, false, 16);
	check_topo(4, true, 4);         /* 2x2 open grid */
	check_topo(16, true, 24);       /* 4x4: 4*3 + 4*3 */
	check_topo(12, true, 17);       /* 3x4: 3*3 + 4*2 */
	ND_CHECK(nd_bsp_topo_make(3, false, &t) < 0);    /* odd: cannot alternate */
	ND_CHECK(nd_bsp_topo_make(0, false, &t) < 0);
	check_topo(14, true, 19);       /* 2x7: 2*6 + 7*1 */
	ND_CHECK(nd_bsp_topo_make(2, true, &t) < 0);     /* no 2-D grid of 2 ranks */
}

/* A rank steps only when every edge has sent its bytes and received this
 * step's; bytes from a neighbour that runs ahead count for later steps. */
static void test_bsp_rank_steps(void)
{
	struct nd_bsp_rank r;
	struct nd_bsp_edge e[2];
	int sv[2][2];
	char buf[4096] = { 0 };
	const uint32_t msg = 100;

	memset(e, 0, sizeof(e));
	nd_bsp_rank_init(&r, 0, 16);
	for (int i = 0; i < 2; i++) {
		ND_CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]), 0);
		e[i].fd = sv[i][0];
		e[i].rank = &r;
		r.edge[r.nedge++] = &e[i];
	}
	nd_bsp_begin_compute(&r, 1000, 500);
	ND_CHECK(!nd_bsp_compute_done(&r, 1200, msg));         /* still computing */
	ND_CHECK(nd_bsp_compute_done(&r, 1500, msg));
	ND_CHECK(r.exchanging);
	for (int i = 0; i < 2; i++) {
		ND_CHECK_EQ(nd_bsp_edge_send(&e[i], buf, msg), 100);
		ND_CHECK_EQ(e[i].tx_total, 100);
		ND_CHECK_EQ(read(sv[i][1], buf, sizeof(buf)), 100);
	}
	e[0].rx_total = 100;
	ND_CHECK(!nd_bsp_step_check(&r, 1700, msg, 500, false));       /* edge 1 has not delivered */
	e[1].rx_total = 250;                                             /* a step and a half ahead */
	ND_CHECK(nd_bsp_step_check(&r, 1800, msg, 500, false));
	ND_CHECK_EQ(r.step, 1);
	ND_CHECK_EQ(r.exch_us[0], 0);                                    /* 300 ns rounds to 0 us */
	ND_CHECK_EQ(r.compute_total_ns, 500);
	ND_CHECK_EQ(r.step_total_ns, 800);
	ND_CHECK(!r.exchanging && r.compute_end == 2300);
	ND_CHECK(nd_bsp_compute_done(&r, 2300, msg));
	for (int i = 0; i < 2; i++)
		nd_bsp_edge_send(&e[i], buf, msg);
	e[0].rx_total = 200;
	ND_CHECK(nd_bsp_step_check(&r, 2400, msg, 500, true));          /* 250 >= 200 on edge 1 */
	ND_CHECK_EQ(r.step, 2);
	ND_CHECK(!r.exchanging);                                         /* stopping: no new compute */
	for (int i = 0; i < 2; i++) {
		close(sv[i][0]);
		close(sv[i][1]);
	}
	nd_bsp_rank_free(&r);
}

int main(void)
{
	ND_RUN(test_cfg_roundtrip);
	ND_RUN(test_cfg_rejects);
	ND_RUN(test_tcpinfo_line_roundtrip);
	ND_RUN(test_bsp_topologies);
	ND_RUN(test_bsp_rank_steps);
	return nd_test_done();
}
