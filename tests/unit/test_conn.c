/* SPDX-License-Identifier: MIT */
/* Unit tests of TCP connection tracking (src/tcp/conn.c), with packets
 * built by hand (no decoder involved). */
#include <string.h>

#include "nd_tcp_seg.h"
#include "nd_test.h"
#include "tcp/conn.h"

#define MS 1000000ull
#define CLI 0x0a000001u
#define SRV 0x0a000002u

/* Everything the done callback saw. */
struct seen {
	int n;
	struct nd_conn c[64];
};

static void on_done(void *ctx, const struct nd_conn *c)
{
	struct seen *s = ctx;

	if (s->n < 64)
		s->c[s->n] = *c;
	s->n++;
}

static struct nd_tracker *mk(struct seen *s, size_t cap, uint64_t idle, uint64_t linger)
{
	struct nd_tracker_cfg cfg = {
		.max_flows = cap, .idle_timeout_ns = idle, .linger_ns = linger,
		.seed = 99, .done = on_done, .ctx = s,
	};
	memset(s, 0, sizeof(*s));
	return nd_tracker_new(&cfg);
}

/* client -> server and back on 10.0.0.1:40000 <-> 10.0.0.2:80 */
static void c2s(struct nd_tracker *t, uint64_t ts, uint8_t fl, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct nd_pkt p = nd_test_seg(CLI, 40000, SRV, 80, fl, seq, ack, len);
	nd_tracker_packet(t, &p, ts, 54 + len);
}

static void s2c(struct nd_tracker *t, uint64_t ts, uint8_t fl, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct nd_pkt p = nd_test_seg(SRV, 80, CLI, 40000, fl, seq, ack, len);
	nd_tracker_packet(t, &p, ts, 54 + len);
}

static void syn_opts(struct nd_tracker *t, uint64_t ts, uint32_t isn)
{
	struct nd_pkt p = nd_test_seg(CLI, 40000, SRV, 80, ND_TH_SYN, isn, 0, 0);

	p.opt.has_mss = true;
	p.opt.mss = 1460;
	p.opt.has_wscale = true;
	p.opt.wscale = 7;
	p.opt.sack_perm = true;
	p.opt.has_ts = true;
	nd_tracker_packet(t, &p, ts, 74);
}

static void full_conn(struct nd_tracker *t, uint64_t t0, uint32_t cisn)
{
	syn_opts(t, t0, cisn);
	s2c(t, t0 + 1 * MS, ND_TH_SYN | ND_TH_ACK, 5000, cisn + 1, 0);
	c2s(t, t0 + 1 * MS + MS / 2, ND_TH_ACK, cisn + 1, 5001, 0);
	c2s(t, t0 + 2 * MS, ND_TH_ACK | ND_TH_PSH, cisn + 1, 5001, 100);
	s2c(t, t0 + 3 * MS, ND_TH_ACK | ND_TH_PSH, 5001, cisn + 101, 1000);
	c2s(t, t0 + 4 * MS, ND_TH_ACK | ND_TH_FIN, cisn + 101, 6001, 0);
	s2c(t, t0 + 5 * MS, ND_TH_ACK | ND_TH_FIN, 6001, cisn + 102, 0);
	c2s(t, t0 + 6 * MS, ND_TH_ACK, cisn + 102, 6002, 0);
}

static void test_full_connection(void)
{
	struct seen s;
	struct nd_tracker *t = mk(&s, 100, 0, 2000 * MS);
	struct nd_tracker_stats st;

	full_conn(t, 1000 * MS, 100);
	ND_CHECK_EQ(s.n, 0);            /* lingering */
	nd_tracker_flush(t);
	ND_CHECK_EQ(s.n, 1);
	{
		const struct nd_conn *c = &s.c[0];
		const struct nd_dir *cd = &c->dir[c->client], *sd = &c->dir[!c->client];

		ND_CHECK_EQ(c->client, 0);      /* 10.0.0.1 is side A and sent the SYN */
		ND_CHECK_EQ(c->client_by, ND_CLIENT_SYN);
		ND_CHECK_EQ(c->state, ND_CS_CLOSED);
		ND_CHECK_EQ(c->end, ND_END_FINISHED);
		ND_CHECK_EQ(cd->pkts, 5);
		ND_CHECK_EQ(sd->pkts, 3);
		ND_CHECK_EQ(cd->payload_bytes, 100);
		ND_CHECK_EQ(sd->payload_bytes, 1000);
		ND_CHECK_EQ(cd->bytes, 74 + 54 + 154 + 54 + 54);
		ND_CHECK_EQ(cd->syn, 1);
		ND_CHECK_EQ(sd->syn, 1);
		ND_CHECK_EQ(cd->fin, 1);
		ND_CHECK_EQ(sd->fin, 1);
		ND_CHECK(cd->has_mss && cd->mss == 1460);
		ND_CHECK(cd->has_wscale && cd->wscale == 7);
		ND_CHECK(cd->sack_perm && cd->ts_on_syn);
		ND_CHECK(!sd->has_mss && !sd->has_wscale);
		ND_CHECK_EQ(cd->hs_rtt_ns, 1 * MS);       /* SYN -> SYN/ACK */
		ND_CHECK_EQ(sd->hs_rtt_ns, MS / 2);       /* SYN/ACK -> ACK */
		ND_CHECK_EQ(c->first_ts, 1000 * MS);
		ND_CHECK_EQ(c->last_ts, 1006 * MS);
	}
	nd_tracker_get_stats(t, &st);
	ND_CHECK_EQ(st.conns, 1);
	ND_CHECK_EQ(st.finished, 1);
	ND_CHECK_EQ(st.active, 0);
	nd_tracker_free(t);
}

/* A closed connection stays for the linger time (late ACKs land on it),
 * then ends without waiting for the end of the input. */
static void test_linger_then_report(void)
{
	struct seen s;
	struct nd_tracker *t = mk(&s, 100, 0, 2000 * MS);

	full_conn(t, 0, 100);
	c2s(t, 500 * MS, ND_TH_ACK, 102, 6002, 0);     /* late duplicate ACK */
	ND_CHECK_EQ(s.n, 0);
	{
		struct nd_pkt p = nd_test_seg(0x0a000009, 1234, SRV, 22, ND_TH_SYN, 1, 0, 0);
		nd_tracker_packet(t, &p, 2100 * MS, 60);
	}
	ND_CHECK_EQ(s.n, 1);
	ND_CHECK_EQ(s.c[0].dir[0].pkts, 6);
	ND_CHECK_EQ(s.c[0].end, ND_END_FINISHED);
	nd_tracker_flush(t);
	ND_CHECK_EQ(s.n, 2);
	ND_CHECK_EQ(s.c[1].end, ND_END_INPUT_END);
	ND_CHECK_EQ(s.c[1].state, ND_CS_OPEN);
	nd_tracker_free(t);
}

/* A new SYN with another ISN after RST starts a new connection. */
static void test_port_reuse_after_rst(void)
{
	struct seen s;
	struct nd_tracker *t = mk(&s, 100, 0, 10000 * MS);
	struct nd_tracker_stats st;

	c2s(t, 0, ND_TH_SYN, 100, 0, 0);
	s2c(t, 1 * MS, ND_TH_RST | ND_TH_ACK, 0, 101, 0);
	c2s(t, 1000 * MS, ND_TH_SYN, 900, 0, 0);
	s2c(t, 1001 * MS, ND_TH_SYN | ND_TH_ACK, 7000, 901, 0);
	nd_tracker_flush(t);
	ND_CHECK_EQ(s.n, 2);
	ND_CHECK_EQ(s.c[0].state, ND_CS_RESET);
	ND_CHECK_EQ(s.c[0].end, ND_END_REUSED);
	ND_CHECK_EQ(s.c[0].dir[0].pkts + s.c[0].dir[1].pkts, 2);
	ND_CHECK_EQ(s.c[1].dir[0].pkts + s.c[1].dir[1].pkts, 2);
	ND_CHECK_EQ(s.c[1].dir[s.c[1].client].isn, 900);
	ND_CHECK(s.c[0].id != s.c[1].id);
	nd_tracker_get_stats(t, &st);
	ND_CHECK_EQ(st.reused, 1);
	nd_tracker_free(t);
}

/* A retransmitted SYN (same ISN) stays on the connection, and its
 * handshake RTT is ambiguous (Karn). */
static void test_syn_retransmission_same_conn(void)
{
	struct seen s;
	struct nd_tracker *t = mk(&s, 100, 0, 2000 * MS);

	c2s(t, 0, ND_TH_SYN, 100, 0, 0);
	c2s(t, 1000 * MS, ND_TH_SYN, 100, 0, 0);
	c2s(t, 3000 * MS, ND_TH_SYN, 100, 0, 0);
	s2c(t, 3001 * MS, ND_TH_SYN | ND_TH_ACK, 5000, 101, 0);
	c2s(t, 3002 * MS, ND_TH_ACK, 101, 5001, 0);
	nd_tracker_flush(t);
	ND_CHECK_EQ(s.n, 1);
	ND_CHECK_EQ(s.c[0].dir[0].syn, 3);
	ND_CHECK_EQ(s.c[0].dir[0].hs_rtt_ns, -2);
	ND_CHECK_EQ(s.c[0].dir[1].hs_rtt_ns, 1 * MS);
	nd_tracker_free(t);
}

/* Table full: closed connections go first, then the least recently
 * active open one; every eviction is reported and counted. */
static void test_eviction_order(void)
{
	struct seen s;
	struct nd_tracker *t = mk(&s, 3, 0, 1000000 * MS);
	struct nd_tracker_stats st;
	struct nd_pkt p;

	for (uint16_t i = 0; i < 3; i++) {
		p = nd_test_seg(CLI, (uint16_t)(1000 + i), SRV, 80, ND_TH_SYN, i, 0, 0);
		nd_tracker_packet(t, &p, i * MS, 60);
	}
	/* port 1000 becomes the most recently active; 1002 is reset (closed) */
	p = nd_test_seg(CLI, 1000, SRV, 80, ND_TH_ACK, 1, 1, 10);
	nd_tracker_packet(t, &p, 10 * MS, 70);
	p = nd_test_seg(SRV, 80, CLI, 1002, ND_TH_RST, 0, 0, 0);
	nd_tracker_packet(t, &p, 11 * MS, 60);

	p = nd_test_seg(CLI, 2000, SRV, 80, ND_TH_SYN, 9, 0, 0);
	nd_tracker_packet(t, &p, 12 * MS, 60);
	ND_CHECK_EQ(s.n, 1);
	ND_CHECK_EQ(s.c[0].key.pa, 1002);               /* the closed one first */
	ND_CHECK_EQ(s.c[0].end, ND_END_EVICTED);

	p = nd_test_seg(CLI, 2001, SRV, 80, ND_TH_SYN, 9, 0, 0);
	nd_tracker_packet(t, &p, 13 * MS, 60);
	ND_CHECK_EQ(s.n, 2);
	ND_CHECK_EQ(s.c[1].key.pa, 1001);               /* least recently active open */
	ND_CHECK_EQ(s.c[1].end, ND_END_EVICTED);

	nd_tracker_get_stats(t, &st);
	ND_CHECK_EQ(st.evicted_closed, 1);
	ND_CHECK_EQ(st.evicted_open, 1);
	ND_CHECK_EQ(st.active, 3);
	ND_CHECK(st.peak <= 3);
	nd_tracker_free(t);
}

static void test_idle_timeout(void)
{
	struct seen s;
	struct nd_tracker *t = mk(&s, 100, 60000 * MS, 2000 * MS);

	c2s(t, 0, ND_TH_ACK, 1, 1, 10);
	nd_tracker_advance(t, 59000 * MS);
	ND_CHECK_EQ(s.n, 0);
	nd_tracker_advance(t, 61000 * MS);
	ND_CHECK_EQ(s.n, 1);
	ND_CHECK_EQ(s.c[0].state, ND_CS_TIMEOUT);
	ND_CHECK_EQ(s.c[0].end, ND_END_TIMEOUT);
	nd_tracker_free(t);
}

/* Without a handshake: the side with the well-known or non-ephemeral port
 * is the server; with both ports ephemeral, the first sender is client. */
static void test_client_heuristics(void)
{
	struct seen s;
	struct nd_tracker *t = mk(&s, 100, 0, 0);
	struct nd_pkt p;

	p = nd_test_seg(SRV, 443, CLI, 50000, ND_TH_ACK, 1, 1, 100);   /* server speaks first */
	nd_tracker_packet(t, &p, 1, 154);
	p = nd_test_seg(CLI, 40001, SRV, 50001, ND_TH_ACK, 1, 1, 100);
	nd_tracker_packet(t, &p, 2, 154);
	p = nd_test_seg(SRV, 50002, CLI, 5201, ND_TH_ACK, 1, 1, 100);
	nd_tracker_packet(t, &p, 3, 154);
	p = nd_test_seg(CLI, 7000, SRV, 9000, ND_TH_SYN | ND_TH_ACK, 1, 1, 0);  /* SYN/ACK sender is server */
	nd_tracker_packet(t, &p, 4, 60);
	nd_tracker_flush(t);
	ND_CHECK_EQ(s.n, 4);
	for (int i = 0; i < s.n; i++) {
		const struct nd_conn *c = &s.c[i];
		uint16_t cport = c->client ? c->key.pb : c->key.pa;

		if (c->key.pa == 443 || c->key.pb == 443) {
			ND_CHECK_EQ(cport, 50000);
			ND_CHECK_EQ(c->client_by, ND_CLIENT_PORT);
		} else if (c->key.pa == 40001 || c->key.pb == 40001) {
			ND_CHECK_EQ(cport, 40001);
			ND_CHECK_EQ(c->client_by, ND_CLIENT_FIRST);
		} else if (c->key.pa == 5201 || c->key.pb == 5201) {
			ND_CHECK_EQ(cport, 50002);
			ND_CHECK_EQ(c->client_by, ND_CLIENT_PORT);
		} else {
			ND_CHECK_EQ(cport, 9000);
			ND_CHECK_EQ(c->client_by, ND_CLIENT_SYNACK);
		}
	}
	nd_tracker_free(t);
}

static void test_udp_ignored(void)
{
	struct seen s;
	struct nd_tracker *t = mk(&s, 100, 0, 0);
	struct nd_pkt p = nd_test_seg(CLI, 53, SRV, 53, 0, 0, 0, 10);
	struct nd_tracker_stats st;

	p.l4 = 17;
	nd_tracker_packet(t, &p, 1, 60);
	nd_tracker_get_stats(t, &st);
	ND_CHECK_EQ(st.packets, 0);
	ND_CHECK_EQ(st.conns, 0);
	nd_tracker_free(t);
}

/* Every connection created is handed to `done` exactly once, and the end
 * counters add up, whatever mix of events happened. */
static void test_accounting_invariant(void)
{
	struct seen s;
	struct nd_tracker *t = mk(&s, 8, 50 * MS, 5 * MS);
	struct nd_tracker_stats st;
	uint32_t x = 12345;

	for (int i = 0; i < 20000; i++) {
		x = x * 1103515245u + 12345u;
		uint8_t fl = (uint8_t)(x >> 24);
		struct nd_pkt p = (x & 0x100)
			? nd_test_seg(CLI, (uint16_t)(1000 + ((x >> 9) & 31)), SRV, 80, fl, (x >> 14) & 3, 0, 0)
			: nd_test_seg(SRV, 80, CLI, (uint16_t)(1000 + ((x >> 9) & 31)), fl, (x >> 14) & 3, 0, 0);
		nd_tracker_packet(t, &p, (uint64_t)i * MS / 4 - ((x & 0x800) ? MS : 0) * (i > 4), 60);
	}
	nd_tracker_flush(t);
	nd_tracker_get_stats(t, &st);
	ND_CHECK_EQ(st.conns, (uint64_t)s.n);
	ND_CHECK_EQ(st.conns, st.finished + st.timed_out + st.evicted_open + st.evicted_closed +
				st.reused + st.input_end);
	ND_CHECK(st.peak <= 8);
	ND_CHECK_EQ(st.active, 0);
	nd_tracker_free(t);
}

/* A segment with a decoder anomaly (TCP header longer than the IP
 * payload) is counted where it belongs but changes no state: a malformed
 * SYN after RST does not start a new connection, a malformed FIN does
 * not close one. */
static void test_anomaly_counted_not_interpreted(void)
{
	struct seen s;
	struct nd_tracker *t = mk(&s, 100, 0, 10000 * MS);
	struct nd_pkt p;

	c2s(t, 0, ND_TH_SYN, 100, 0, 0);
	s2c(t, 1 * MS, ND_TH_SYN | ND_TH_ACK, 5000, 101, 0);
	p = nd_test_seg(CLI, 40000, SRV, 80, ND_TH_FIN | ND_TH_ACK, 101, 5001, 0);
	p.anomaly = ND_SKIP_BAD_TCP_HLEN;
	nd_tracker_packet(t, &p, 2 * MS, 60);
	p = nd_test_seg(CLI, 40000, SRV, 80, ND_TH_SYN, 777, 0, 0);
	p.anomaly = ND_SKIP_BAD_TCP_HLEN;
	nd_tracker_packet(t, &p, 3 * MS, 60);
	nd_tracker_flush(t);
	ND_CHECK_EQ(s.n, 1);
	ND_CHECK_EQ(s.c[0].dir[0].pkts, 3);
	ND_CHECK_EQ(s.c[0].dir[0].malformed, 2);
	ND_CHECK_EQ(s.c[0].dir[0].fin, 0);
	ND_CHECK_EQ(s.c[0].dir[0].syn, 1);
	ND_CHECK_EQ(s.c[0].state, ND_CS_OPEN);
	ND_CHECK_EQ(s.c[0].last_ts, 3 * MS);
	nd_tracker_free(t);
}

int main(void)
{
	ND_RUN(test_full_connection);
	ND_RUN(test_linger_then_report);
	ND_RUN(test_port_reuse_after_rst);
	ND_RUN(test_syn_retransmission_same_conn);
	ND_RUN(test_eviction_order);
	ND_RUN(test_idle_timeout);
	ND_RUN(test_client_heuristics);
	ND_RUN(test_udp_ignored);
	ND_RUN(test_accounting_invariant);
	ND_RUN(test_anomaly_counted_not_interpreted);
	return nd_test_done();
}
