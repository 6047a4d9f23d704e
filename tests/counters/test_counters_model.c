/* SPDX-License-Identifier: MIT */
/* Unit tests of the counter model: caps, identity, differences, filters,
 * classes (src/counters/model.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "counters/ctr.h"
#include "nd_test.h"

static void add(struct nd_snap *s, uint32_t ns, enum nd_ctr_src src, const char *dev,
		const char *name, uint64_t v, bool gauge)
{
	struct nd_ctr c;

	nd_ctr_set(&c, ns, src, dev, name, v, gauge);
	ND_CHECK_EQ(nd_snap_add(s, &c), 0);
}

static void test_caps(void)
{
	struct nd_snap s;
	struct nd_ctr c;

	nd_snap_init(&s, 3, 2);
	ND_CHECK_EQ(nd_snap_add_ns(&s, "host", 1, 2, false), 0);
	ND_CHECK_EQ(nd_snap_add_ns(&s, "a", 2, 0, true), 1);
	ND_CHECK_EQ(nd_snap_add_ns(&s, "b", 3, 0, true), -ENOSPC);
	ND_CHECK_EQ(s.st.netns_over_cap, 1);
	nd_ctr_set(&c, 0, ND_CSRC_SNMP, NULL, "Tcp.InSegs", 1, false);
	for (int i = 0; i < 3; i++)
		ND_CHECK_EQ(nd_snap_add(&s, &c), 0);
	ND_CHECK_EQ(nd_snap_add(&s, &c), -ENOSPC);
	ND_CHECK_EQ(nd_snap_add(&s, &c), -ENOSPC);
	ND_CHECK_EQ(s.st.counters_skipped, 2);
	ND_CHECK_EQ(s.n, 3);
	nd_snap_clear(&s);
	ND_CHECK_EQ(s.n, 0);
	ND_CHECK_EQ(s.st.counters_skipped, 0);
	ND_CHECK_EQ(nd_snap_add(&s, &c), 0);
	nd_snap_free(&s);
}

static void test_set_truncates(void)
{
	struct nd_ctr c;
	char longname[200];

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	nd_ctr_set(&c, 0, ND_CSRC_ETHTOOL, "averyveryverylongdevicename", longname, 1, false);
	ND_CHECK_EQ(strlen(c.dev), ND_CTR_DEV_LEN - 1);
	ND_CHECK_EQ(strlen(c.name), ND_CTR_NAME_LEN - 1);
	ND_CHECK_EQ(c.handle, 0);
	ND_CHECK_STR(c.kind, "");
}

/* Keys follow the namespace inode, not its index or name. */
static void test_key_identity(void)
{
	struct nd_snap a, b;
	struct nd_ctr c1, c2, c3;

	nd_snap_init(&a, 100, 10);
	nd_snap_init(&b, 100, 10);
	nd_snap_add_ns(&a, "host", 100, 1, false);
	nd_snap_add_ns(&a, "x", 200, 0, true);
	nd_snap_add_ns(&b, "x", 200, 0, true);          /* other index */
	nd_ctr_set(&c1, 1, ND_CSRC_LINK, "eth0", "rx_dropped", 0, false);
	nd_ctr_set(&c2, 0, ND_CSRC_LINK, "eth0", "rx_dropped", 0, false);
	ND_CHECK(nd_ctr_key(&a, &c1) == nd_ctr_key(&b, &c2));
	ND_CHECK(nd_ctr_key(&a, &c2) != nd_ctr_key(&a, &c1));
	c3 = c1;
	c3.src = ND_CSRC_ETHTOOL;
	ND_CHECK(nd_ctr_key(&a, &c3) != nd_ctr_key(&a, &c1));
	c3 = c1;
	c3.handle = 0x80010000;
	ND_CHECK(nd_ctr_key(&a, &c3) != nd_ctr_key(&a, &c1));
	nd_snap_free(&a);
	nd_snap_free(&b);
}

static void test_diff(void)
{
	struct nd_snap a, b;
	struct nd_diff d;

	nd_snap_init(&a, 100, 10);
	nd_snap_init(&b, 100, 10);
	nd_snap_add_ns(&a, "host", 1, 1, false);
	nd_snap_add_ns(&b, "host", 1, 1, false);
	a.t_ns = 1000000000;
	b.t_ns = 3000000000;
	add(&a, 0, ND_CSRC_LINK, "va", "rx_dropped", 10, false);
	add(&a, 0, ND_CSRC_QDISC, "va", "drops", 500, false);
	add(&a, 0, ND_CSRC_QDISC, "va", "backlog_bytes", 3000, true);
	add(&a, 0, ND_CSRC_SNMP, NULL, "Tcp.InSegs", 7, false);     /* vanishes */
	add(&b, 0, ND_CSRC_QDISC, "va", "drops", 20, false);        /* reset */
	add(&b, 0, ND_CSRC_LINK, "va", "rx_dropped", 162, false);
	add(&b, 0, ND_CSRC_QDISC, "va", "backlog_bytes", 1000, true);
	add(&b, 0, ND_CSRC_LINK, "vb", "rx_dropped", 5, false);     /* new */
	ND_CHECK_EQ(nd_snap_diff(&a, &b, &d), 0);
	ND_CHECK_EQ(d.n, 4);
	ND_CHECK(d.dt > 1.999 && d.dt < 2.001);
	ND_CHECK(d.rows[0].reset);
	ND_CHECK_EQ(d.rows[0].delta, 20);
	ND_CHECK_EQ(d.rows[0].prev_value, 500);
	ND_CHECK(!d.rows[1].reset && !d.rows[1].is_new);
	ND_CHECK_EQ(d.rows[1].delta, 152);
	ND_CHECK_EQ(d.rows[2].delta, -2000);        /* a gauge goes down */
	ND_CHECK(!d.rows[2].reset);
	ND_CHECK(d.rows[3].is_new);
	ND_CHECK_EQ(d.rows[3].delta, 0);
	ND_CHECK_EQ(d.vanished, 1);
	nd_diff_free(&d);
	nd_snap_free(&a);
	nd_snap_free(&b);
}

static void test_key_index(void)
{
	struct nd_snap a;
	struct nd_key_index ix;
	char name[32];

	nd_snap_init(&a, 10000, 10);
	nd_snap_add_ns(&a, "host", 1, 1, false);
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		add(&a, 0, ND_CSRC_NETSTAT, NULL, name, (uint64_t)i, false);
	}
	ND_CHECK_EQ(nd_key_index_build(&ix, &a), 0);
	ND_CHECK_EQ(nd_key_index_find(&ix, nd_ctr_key(&a, &a.c[4321])), 4321);
	ND_CHECK_EQ(nd_key_index_find(&ix, 12345), -1);
	nd_key_index_free(&ix);
	nd_snap_free(&a);
}

static void test_globs(void)
{
	ND_CHECK(nd_glob_list_match(NULL, "x", false));
	ND_CHECK(nd_glob_list_match("", "x", false));
	ND_CHECK(nd_glob_list_match("a,ci-*", "ci-7", false));
	ND_CHECK(!nd_glob_list_match("a,ci-*", "c", false));
	ND_CHECK(nd_glob_list_match("pid:*", "pid:42", false));
	ND_CHECK(!nd_glob_list_match("*drop*", "ListenDrops", false));
	ND_CHECK(nd_glob_list_match("*drop*", "ListenDrops", true));
	ND_CHECK_EQ(nd_glob_list_check("a,b*"), 0);
	ND_CHECK_EQ(nd_glob_list_check(NULL), 0);
	ND_CHECK_EQ(nd_glob_list_check(""), -EINVAL);
	ND_CHECK_EQ(nd_glob_list_check("a,,b"), -EINVAL);
	ND_CHECK_EQ(nd_glob_list_check("a,"), -EINVAL);
}

static void test_filter(void)
{
	struct nd_filter f = { "ci-*", "va,vb", "*drop*,qdisc:backlog*" };
	struct nd_ctr c;

	ND_CHECK(nd_filter_netns(&f, "ci-1"));
	ND_CHECK(!nd_filter_netns(&f, "host"));
	nd_ctr_set(&c, 0, ND_CSRC_LINK, "va", "rx_dropped", 0, false);
	ND_CHECK(nd_filter_ctr(&f, &c));
	nd_ctr_set(&c, 0, ND_CSRC_LINK, "eth0", "rx_dropped", 0, false);
	ND_CHECK(!nd_filter_ctr(&f, &c));           /* device */
	nd_ctr_set(&c, 0, ND_CSRC_LINK, "va", "rx_packets", 0, false);
	ND_CHECK(!nd_filter_ctr(&f, &c));           /* name */
	nd_ctr_set(&c, 0, ND_CSRC_QDISC, "va", "backlog_bytes", 0, true);
	ND_CHECK(nd_filter_ctr(&f, &c));            /* SOURCE:NAME */
	nd_ctr_set(&c, 0, ND_CSRC_NETSTAT, NULL, "TcpExt.ListenDrops", 0, false);
	ND_CHECK(nd_filter_ctr(&f, &c));            /* no device: the device filter does not apply */
	ND_CHECK(nd_filter_ctr(NULL, &c));
}

static void test_classes(void)
{
	static const struct { enum nd_ctr_src src; const char *name; bool gauge, problem, symptom; } t[] = {
		{ ND_CSRC_LINK, "rx_dropped", false, true, false },
		{ ND_CSRC_LINK, "rx_packets", false, false, false },
		{ ND_CSRC_LINK, "rx_missed_errors", false, true, false },
		{ ND_CSRC_QDISC, "drops", false, true, false },
		{ ND_CSRC_QDISC, "overlimits", false, false, false },
		{ ND_CSRC_QDISC, "backlog_bytes", true, false, false },
		{ ND_CSRC_SNMP, "Tcp.RetransSegs", false, true, true },
		{ ND_CSRC_SNMP, "Tcp.InSegs", false, false, false },
		{ ND_CSRC_SNMP, "Udp.RcvbufErrors", false, true, false },
		{ ND_CSRC_NETSTAT, "TcpExt.TCPTimeouts", false, true, true },
		{ ND_CSRC_NETSTAT, "TcpExt.TCPSynRetrans", false, true, true },
		{ ND_CSRC_NETSTAT, "TcpExt.TCPLossProbes", false, true, true },
		{ ND_CSRC_NETSTAT, "TcpExt.ListenOverflows", false, true, false },
		{ ND_CSRC_NETSTAT, "TcpExt.TCPBacklogDrop", false, true, false },
		{ ND_CSRC_NETSTAT, "TcpExt.DelayedACKs", false, false, false },
		{ ND_CSRC_NETSTAT, "MPTcpExt.MPTCPRetrans", false, true, false },
		{ ND_CSRC_SOFTNET, "time_squeeze", false, true, false },
		{ ND_CSRC_CONNTRACK, "early_drop", false, true, false },
		{ ND_CSRC_CONNTRACK, "insert_failed", false, true, false },
		{ ND_CSRC_CONNTRACK, "entries", true, false, false },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nd_ctr c;

		nd_ctr_set(&c, 0, t[i].src, NULL, t[i].name, 0, t[i].gauge);
		if (nd_ctr_is_problem(&c) != t[i].problem || nd_ctr_is_symptom(&c) != t[i].symptom) {
			printf("# %s: problem %d symptom %d\n", t[i].name, nd_ctr_is_problem(&c),
			       nd_ctr_is_symptom(&c));
			ND_CHECK(0);
		}
	}
}

static void test_names(void)
{
	char b[16];

	ND_CHECK_STR(nd_qdisc_handle_fmt(0x80010000u, false, b, sizeof(b)), "8001:");
	ND_CHECK_STR(nd_qdisc_handle_fmt(0x00010010u, false, b, sizeof(b)), "1:10");
	ND_CHECK_STR(nd_qdisc_handle_fmt(0xFFFFFFFFu, true, b, sizeof(b)), "root");
	ND_CHECK_STR(nd_qdisc_handle_fmt(0xFFFFFFF1u, true, b, sizeof(b)), "ingress");
	ND_CHECK_STR(nd_qdisc_handle_fmt(0, false, b, sizeof(b)), "0:");
	ND_CHECK_STR(nd_ctr_src_name(ND_CSRC_CONNTRACK), "conntrack");
	ND_CHECK_EQ(nd_ctr_src_parse("qdisc"), ND_CSRC_QDISC);
	ND_CHECK_EQ(nd_ctr_src_parse("nope"), -1);
}

int main(void)
{
	ND_RUN(test_caps);
	ND_RUN(test_set_truncates);
	ND_RUN(test_key_identity);
	ND_RUN(test_diff);
	ND_RUN(test_key_index);
	ND_RUN(test_globs);
	ND_RUN(test_filter);
	ND_RUN(test_classes);
	ND_RUN(test_names);
	return nd_test_done();
}
