/* SPDX-License-Identifier: MIT */
/* Unit tests of the emulator's settings text (src/emu/spec.c). */
#include <math.h>
#include <string.h>

#include "emu/spec.h"
#include "nd_test.h"

static void test_parse_all_keys(void)
{
	struct nd_emu_spec s;
	char err[256];

	memset(&s, 0, sizeof(s));
	ND_CHECK_EQ(nd_emu_spec_apply(&s, "rate=100M burst=30k overhead=24 mtu=9000 delay=20ms "
				      "jitter=500us reorder=on buffer=64k loss=1% ge=0.01,0.25,0,0.5 "
				      "qdisc=fq_codel target=2ms interval=50ms flows=256 quantum=300 seed=7",
				      err, sizeof(err)), 0);
	ND_CHECK_EQ(s.cfg.rate_bps, 100000000);
	ND_CHECK_EQ(s.cfg.burst_bytes, 30000);
	ND_CHECK_EQ(s.cfg.overhead_bytes, 24);
	ND_CHECK_EQ(s.cfg.mtu, 9000);
	ND_CHECK_EQ(s.cfg.delay_ns, 20000000);
	ND_CHECK_EQ(s.cfg.jitter_ns, 500000);
	ND_CHECK(s.cfg.reorder);
	ND_CHECK_EQ(s.cfg.limit_bytes, 65536);
	ND_CHECK(fabs(s.cfg.loss_random - 0.01) < 1e-12);
	ND_CHECK(fabs(s.cfg.ge_p - 0.01) < 1e-12 && fabs(s.cfg.ge_r - 0.25) < 1e-12);
	ND_CHECK(fabs(s.cfg.ge_loss_bad - 0.5) < 1e-12 && s.cfg.ge_loss_good == 0);
	ND_CHECK_EQ(s.cfg.qdisc, ND_QD_FQ_CODEL);
	ND_CHECK_EQ(s.cfg.target_ns, 2000000);
	ND_CHECK_EQ(s.cfg.interval_ns, 50000000);
	ND_CHECK_EQ(s.cfg.flows, 256);
	ND_CHECK_EQ(s.cfg.quantum, 300);
	ND_CHECK_EQ(s.cfg.seed, 7);
}

/* A spec changes only what it names: run-time `set` relies on it. */
static void test_partial_update(void)
{
	struct nd_emu_spec s;
	char err[256];

	memset(&s, 0, sizeof(s));
	ND_CHECK_EQ(nd_emu_spec_apply(&s, "rate=1G delay=1ms qdisc=codel", err, sizeof(err)), 0);
	ND_CHECK_EQ(nd_emu_spec_apply(&s, "rate=20Mbit", err, sizeof(err)), 0);
	ND_CHECK_EQ(s.cfg.rate_bps, 20000000);
	ND_CHECK_EQ(s.cfg.delay_ns, 1000000);
	ND_CHECK_EQ(s.cfg.qdisc, ND_QD_CODEL);
	ND_CHECK_EQ(nd_emu_spec_apply(&s, "buffer=100p", err, sizeof(err)), 0);
	ND_CHECK(s.cfg.limit_pkts == 100 && s.cfg.limit_bytes == 0);
}

static void test_bdp_buffer(void)
{
	struct nd_emu_spec s;
	char err[256];

	memset(&s, 0, sizeof(s));
	ND_CHECK_EQ(nd_emu_spec_apply(&s, "rate=100M buffer=0.5bdp", err, sizeof(err)), 0);
	/* 100 Mbit/s x 20 ms = 250,000 bytes; half of it */
	ND_CHECK_EQ(nd_emu_spec_resolve(&s, 20000000, err, sizeof(err)), 0);
	ND_CHECK_EQ(s.cfg.limit_bytes, 125000);
	/* a BDP buffer without a delay cannot be sized */
	ND_CHECK(nd_emu_spec_resolve(&s, 0, err, sizeof(err)) < 0);
	ND_CHECK(strstr(err, "bdp") != NULL);
	/* tiny BDPs still hold two full frames */
	ND_CHECK_EQ(nd_emu_spec_apply(&s, "rate=1M buffer=0.1bdp", err, sizeof(err)), 0);
	ND_CHECK_EQ(nd_emu_spec_resolve(&s, 1000000, err, sizeof(err)), 0);
	ND_CHECK_EQ(s.cfg.limit_bytes, 2 * 1514);
}

static void test_rejects(void)
{
	static const char *bad[] = {
		"rate=fast", "rate=-1M", "delay=5parsecs", "loss=1.5", "loss=-0.1", "buffer=xbdp",
		"buffer=0bdp", "qdisc=red", "ge=0.1,0.2", "ge=0.1,0,0,0", "reorder=maybe", "nokey",
		"colour=blue", "flows=0", "delay=2h",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nd_emu_spec s;
		char err[256] = "";

		memset(&s, 0, sizeof(s));
		if (nd_emu_spec_apply(&s, bad[i], err, sizeof(err)) == 0)
			printf("# accepted: %s\n", bad[i]);
		ND_CHECK(err[0] != '\0');
	}
}

static void test_format_roundtrip(void)
{
	struct nd_emu_spec a, b;
	char buf[1024], err[256];

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ND_CHECK_EQ(nd_emu_spec_apply(&a, "rate=50M delay=7ms jitter=1ms buffer=2bdp loss=0.02 qdisc=pie",
				      err, sizeof(err)), 0);
	ND_CHECK(nd_emu_spec_format(&a, buf, sizeof(buf)) > 0);
	ND_CHECK_EQ(nd_emu_spec_apply(&b, buf, err, sizeof(err)), 0);
	ND_CHECK_EQ(b.cfg.rate_bps, a.cfg.rate_bps);
	ND_CHECK_EQ(b.cfg.delay_ns, a.cfg.delay_ns);
	ND_CHECK_EQ(b.cfg.jitter_ns, a.cfg.jitter_ns);
	ND_CHECK(fabs(b.buffer_bdp - 2) < 1e-12);
	ND_CHECK(fabs(b.cfg.loss_random - 0.02) < 1e-12);
	ND_CHECK_EQ(b.cfg.qdisc, ND_QD_PIE);
}

int main(void)
{
	ND_RUN(test_parse_all_keys);
	ND_RUN(test_partial_update);
	ND_RUN(test_bdp_buffer);
	ND_RUN(test_rejects);
	ND_RUN(test_format_roundtrip);
	return nd_test_done();
}
