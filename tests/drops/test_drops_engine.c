/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the user-space engine of `netdx drops`: kernel symbol
 * resolution (src/trace/ksyms.c) from crafted kallsyms text, the drop
 * reason table (src/trace/reasons.c) from a synthetic BTF with a core and
 * a subsystem enum, and the aggregation (src/trace/agg.c): deltas,
 * places, and retransmissions joined to drops by flow in either
 * direction and across namespaces; places and signal places taken exact
 * from the kernel's place maps while the flow rows miss some (a full flow
 * map), what no flow row holds, and place deltas that flows coming and
 * going do not move.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "nd_test.h"
#include "trace/agg.h"
#include "trace/ksyms.h"
#include "trace/reasons.h"

/* ---- ksyms ------------------------------------------------------------------ */

static const char kallsyms[] =
	"ffffffff81000000 T _text\n"
	"ffffffff81000100 t helper_a\n"
	"ffffffff81000200 D some_data\n"            /* not text: never a location */
	"ffffffff81000300 T nf_hook_slow\n"
	"ffffffff81000400 T ip_rcv_core\n"
	"ffffffffc0001000 t ovs_vport_receive\t[openvswitch]\n"
	"ffffffffc0002000 t ovs_other\t[openvswitch]\n";

static int resolve_text(struct nd_ksyms *k, const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc;

	if (!f)
		return -errno;
	rc = nd_ksyms_resolve(k, f);
	fclose(f);
	return rc;
}

static void test_ksyms_resolve(void)
{
	struct nd_ksyms *k = nd_ksyms_new(8);
	char b[128];

	ND_CHECK(k != NULL);
	if (!k)
		return;
	ND_CHECK_EQ(nd_ksyms_want(k, 0xffffffff81000350), 0);
	ND_CHECK_EQ(nd_ksyms_want(k, 0xffffffff81000230), 0);    /* after data: helper_a */
	ND_CHECK_EQ(nd_ksyms_want(k, 0xffffffff81000400), 0);    /* exactly a symbol */
	ND_CHECK_EQ(nd_ksyms_want(k, 0xffffffffc0001010), 0);
	ND_CHECK_EQ(nd_ksyms_want(k, 0xffffffff80000000), 0);    /* below every symbol */
	ND_CHECK_EQ(nd_ksyms_want(k, 0xffffffff81000350), 0);    /* again: no new entry */
	ND_CHECK_EQ(nd_ksyms_pending(k), 5);
	ND_CHECK_EQ(resolve_text(k, kallsyms), 4);
	ND_CHECK_EQ(nd_ksyms_pending(k), 0);
	ND_CHECK_STR(nd_ksyms_format(k, 0xffffffff81000350, b, sizeof(b)), "nf_hook_slow+0x50");
	ND_CHECK_STR(nd_ksyms_format(k, 0xffffffff81000230, b, sizeof(b)), "helper_a+0x130");
	ND_CHECK_STR(nd_ksyms_format(k, 0xffffffff81000400, b, sizeof(b)), "ip_rcv_core");
	ND_CHECK_STR(nd_ksyms_format(k, 0xffffffffc0001010, b, sizeof(b)),
		     "ovs_vport_receive+0x10 [openvswitch]");
	ND_CHECK_STR(nd_ksyms_format(k, 0xffffffff80000000, b, sizeof(b)), "0xffffffff80000000");
	ND_CHECK_STR(nd_ksyms_format(k, 0x1234, b, sizeof(b)), "0x1234");      /* never wanted */
	/* A later address resolves in a later pass, the earlier ones stay. */
	ND_CHECK_EQ(nd_ksyms_want(k, 0xffffffff81000310), 0);
	ND_CHECK_EQ(resolve_text(k, kallsyms), 1);
	ND_CHECK_STR(nd_ksyms_format(k, 0xffffffff81000310, b, sizeof(b)), "nf_hook_slow+0x10");
	ND_CHECK_STR(nd_ksyms_format(k, 0xffffffff81000350, b, sizeof(b)), "nf_hook_slow+0x50");
	nd_ksyms_free(k);
}

static void test_ksyms_cap_and_hidden(void)
{
	static const char hidden[] = "0000000000000000 T _text\n0000000000000000 T nf_hook_slow\n";
	struct nd_ksyms *k = nd_ksyms_new(2);
	char b[64];

	ND_CHECK(k != NULL);
	if (!k)
		return;
	ND_CHECK_EQ(nd_ksyms_want(k, 0x10), 0);
	ND_CHECK_EQ(nd_ksyms_want(k, 0x20), 0);
	ND_CHECK_EQ(nd_ksyms_want(k, 0x30), -ENOSPC);
	ND_CHECK_EQ(nd_ksyms_overflow(k), 1);
	ND_CHECK_EQ(resolve_text(k, hidden), -EPERM);
	ND_CHECK_EQ(nd_ksyms_pending(k), 0);            /* not retried */
	ND_CHECK_STR(nd_ksyms_format(k, 0x10, b, sizeof(b)), "0x10");
	nd_ksyms_free(k);
}

/* ---- reasons -------------------------------------------------------------------- */

/* A kernel's core enum; @mask: with SKB_DROP_REASON_SUBSYS_MASK (6.4+). */
static struct btf *reason_btf(bool mask)
{
	struct btf *b = btf__new_empty();

	if (!b)
		return NULL;
	btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	btf__add_enum(b, "skb_drop_reason", 4);
	btf__add_enum_value(b, "SKB_NOT_DROPPED_YET", 0);
	btf__add_enum_value(b, "SKB_CONSUMED", 1);
	btf__add_enum_value(b, "SKB_DROP_REASON_NOT_SPECIFIED", 2);
	btf__add_enum_value(b, "SKB_DROP_REASON_NO_SOCKET", 3);
	btf__add_enum_value(b, "SKB_DROP_REASON_NETFILTER_DROP", 7);    /* numbers differ by kernel */
	btf__add_enum_value(b, "SKB_DROP_REASON_QDISC_DROP", 9);
	btf__add_enum_value(b, "SKB_DROP_REASON_FQ_FLOW_LIMIT", 10);
	btf__add_enum_value(b, "SKB_DROP_REASON_MAX", 11);
	if (mask)
		btf__add_enum_value(b, "SKB_DROP_REASON_SUBSYS_MASK", (int64_t)0xffff0000u);
	btf__add_enum(b, "skb_drop_reason_subsys", 4);
	btf__add_enum_value(b, "SKB_DROP_REASON_SUBSYS_CORE", 0);
	btf__add_enum_value(b, "SKB_DROP_REASON_SUBSYS_MAC80211_UNUSABLE", 1);
	btf__add_enum_value(b, "SKB_DROP_REASON_SUBSYS_OPENVSWITCH", 2);
	btf__add_enum_value(b, "SKB_DROP_REASON_SUBSYS_NUM", 3);
	return b;
}

static struct btf *ovs_btf(void)
{
	struct btf *b = btf__new_empty();

	if (!b)
		return NULL;
	btf__add_enum(b, "ovs_drop_reason", 4);
	btf__add_enum_value(b, "__OVS_DROP_REASON", 2 << 16);
	btf__add_enum_value(b, "OVS_DROP_LAST_ACTION", (2 << 16) + 1);
	btf__add_enum_value(b, "OVS_DROP_ACTION_ERROR", (2 << 16) + 2);
	btf__add_enum_value(b, "OVS_DROP_MAX", (2 << 16) + 3);
	btf__add_enum(b, "some_other_enum", 4);
	btf__add_enum_value(b, "NOT_A_REASON", (2 << 16) + 5);
	return b;
}

static void test_reasons_names(void)
{
	struct btf *core = reason_btf(false), *ovs = ovs_btf();
	struct btf *b[2];
	struct nd_reasons *r = NULL;
	char buf[64];
	uint32_t v = 0;

	ND_CHECK(core && ovs);
	if (!core || !ovs)
		return;
	b[0] = core;
	b[1] = ovs;
	ND_CHECK_EQ(nd_reasons_from_btf(&r, b, 2), 0);
	if (!r)
		return;
	ND_CHECK_STR(nd_reasons_name(r, 7, buf, sizeof(buf)), "NETFILTER_DROP");
	ND_CHECK_STR(nd_reasons_name(r, 1, buf, sizeof(buf)), "CONSUMED");
	ND_CHECK_STR(nd_reasons_name(r, 8, buf, sizeof(buf)), "REASON_8");
	ND_CHECK_STR(nd_reasons_subsys(r, 7), "CORE");
	ND_CHECK_EQ(nd_reasons_lookup(r, "netfilter_drop", &v), 0);
	ND_CHECK_EQ(v, 7);
	ND_CHECK_EQ(nd_reasons_lookup(r, "SKB_DROP_REASON_NO_SOCKET", &v), 0);
	ND_CHECK_EQ(v, 3);
	ND_CHECK_EQ(nd_reasons_lookup(r, "42", &v), 0);
	ND_CHECK_EQ(v, 42);
	ND_CHECK_EQ(nd_reasons_lookup(r, "MAX", &v), -ENOENT);          /* a bound, not a reason */
	ND_CHECK_EQ(nd_reasons_lookup(r, "NO_SUCH_THING", &v), -ENOENT);
	ND_CHECK(nd_reasons_is_qdisc(r, 9));
	ND_CHECK(nd_reasons_is_qdisc(r, 10));
	ND_CHECK(!nd_reasons_is_qdisc(r, 7));
	/* Without SKB_DROP_REASON_SUBSYS_MASK there are no subsystem reasons. */
	ND_CHECK_EQ(nd_reasons_lookup(r, "OVS_DROP_LAST_ACTION", &v), -ENOENT);
	nd_reasons_free(r);

	/* With the mask, the subsystem's own enum names its reasons. */
	btf__free(core);
	core = reason_btf(true);
	r = NULL;
	b[0] = core;
	ND_CHECK_EQ(nd_reasons_from_btf(&r, b, 2), 0);
	btf__free(core);
	btf__free(ovs);
	if (!r)
		return;
	ND_CHECK_STR(nd_reasons_name(r, (2u << 16) + 1, buf, sizeof(buf)), "OVS_DROP_LAST_ACTION");
	ND_CHECK_STR(nd_reasons_subsys(r, (2u << 16) + 1), "OPENVSWITCH");
	ND_CHECK_STR(nd_reasons_name(r, (2u << 16) + 9, buf, sizeof(buf)), "OPENVSWITCH_9");
	ND_CHECK_STR(nd_reasons_name(r, (2u << 16) + 5, buf, sizeof(buf)), "OPENVSWITCH_5");
	ND_CHECK_EQ(nd_reasons_lookup(r, "ovs_drop_action_error", &v), 0);
	ND_CHECK_EQ(v, (2u << 16) + 2);
	ND_CHECK_EQ(nd_reasons_lookup(r, "OVS_DROP_MAX", &v), -ENOENT);
	nd_reasons_free(r);
}

static void test_reasons_need_core_enum(void)
{
	struct btf *ovs = ovs_btf();
	struct nd_reasons *r = NULL;

	ND_CHECK(ovs != NULL);
	if (!ovs)
		return;
	ND_CHECK_EQ(nd_reasons_from_btf(&r, &ovs, 1), -ENOMSG);
	ND_CHECK(r == NULL);
	btf__free(ovs);
}

/* ---- aggregation ------------------------------------------------------------------ */

static struct nd_tuple tuple(uint8_t a, uint16_t sp, uint8_t b, uint16_t dp)
{
	struct nd_tuple t;

	memset(&t, 0, sizeof(t));
	t.family = 4;
	t.l4proto = 6;
	t.saddr[0] = 10;
	t.saddr[3] = a;
	t.daddr[0] = 10;
	t.daddr[3] = b;
	t.sport = sp;
	t.dport = dp;
	return t;
}

static struct nd_drop_key dkey(uint32_t reason, uint32_t netns, const struct nd_tuple *t)
{
	struct nd_drop_key k;

	memset(&k, 0, sizeof(k));
	k.reason = reason;
	k.location = 0xffffffff81000350;
	k.ifindex = 2;
	k.netns = netns;
	k.ethertype = 0x0800;
	k.l4proto = 6;
	if (t)
		k.flow = *t;
	return k;
}

static struct nd_sig_key skey(uint8_t type, uint8_t state, uint32_t netns, const struct nd_tuple *t)
{
	struct nd_sig_key k;

	memset(&k, 0, sizeof(k));
	k.type = type;
	k.state = state;
	k.netns = netns;
	if (t)
		k.flow = *t;
	return k;
}

static void test_agg_deltas_and_order(void)
{
	struct nd_agg *a = nd_agg_new();
	struct nd_drop_key k[2] = { dkey(3, 100, NULL), dkey(12, 100, NULL) };
	struct nd_drop_val v[2] = { { .packets = 10 }, { .packets = 5 } };
	const struct nd_drop_row *r;
	size_t n;

	ND_CHECK(a != NULL);
	if (!a)
		return;
	ND_CHECK_EQ(nd_agg_update(a, k, v, 2, NULL, NULL, 0), 0);
	r = nd_agg_drops(a, &n);
	ND_CHECK_EQ(n, 2);
	ND_CHECK_EQ(r[0].key.reason, 3);        /* bigger change first */
	ND_CHECK_EQ(r[0].delta, 10);
	ND_CHECK_EQ(nd_agg_totals(a)->drops, 15);
	ND_CHECK(!nd_agg_has_flows(a));
	/* Second snapshot, in another order: deltas by key. */
	v[0].packets = 11;
	v[1].packets = 25;
	{
		struct nd_drop_key k2[2] = { k[1], k[0] };
		struct nd_drop_val v2[2] = { v[1], v[0] };

		ND_CHECK_EQ(nd_agg_update(a, k2, v2, 2, NULL, NULL, 0), 0);
	}
	r = nd_agg_drops(a, &n);
	ND_CHECK_EQ(r[0].key.reason, 12);
	ND_CHECK_EQ(r[0].delta, 20);
	ND_CHECK_EQ(r[1].delta, 1);
	ND_CHECK_EQ(nd_agg_totals(a)->drop_delta, 21);
	ND_CHECK_EQ(nd_agg_totals(a)->drops, 36);
	/* Unchanged: zero deltas, order by totals. */
	ND_CHECK_EQ(nd_agg_update(a, k, v, 2, NULL, NULL, 0), 0);
	r = nd_agg_drops(a, &n);
	ND_CHECK_EQ(r[0].delta + r[1].delta, 0);
	ND_CHECK_EQ(r[0].val.packets, 25);
	nd_agg_free(a);
}

static void test_agg_flows_places_retrans(void)
{
	/* Drops seen in the receiver's namespace (200) on two flows into
	 * 10.0.0.2:80; the sender (namespace 100) retransmits on one of them:
	 * its key is local > remote, the reverse of the drop's direction. */
	struct nd_tuple f1 = tuple(1, 40000, 2, 80), f2 = tuple(1, 40001, 2, 80);
	struct nd_tuple r1 = tuple(2, 80, 1, 40000);
	struct nd_tuple s1 = tuple(1, 40000, 2, 80), s3 = tuple(3, 5, 4, 6);
	struct nd_drop_key dk[3] = { dkey(12, 200, &f1), dkey(12, 200, &f2), dkey(3, 200, &r1) };
	struct nd_drop_val dv[3] = { { .packets = 4, .bytes = 400, .first_ns = 5, .last_ns = 9 },
				     { .packets = 2, .bytes = 200, .first_ns = 3, .last_ns = 7 },
				     { .packets = 1, .bytes = 60 } };
	struct nd_sig_key sk[4] = { skey(ND_SIG_RETRANS, 1, 100, &s1), skey(ND_SIG_RETRANS, 4, 100, &s1),
				    skey(ND_SIG_RETRANS, 2, 100, &s3), skey(ND_SIG_SEND_RESET, 1, 100, &s1) };
	struct nd_sig_val sv[4] = { { .count = 3 }, { .count = 1 }, { .count = 2 }, { .count = 9 } };
	struct nd_agg *a = nd_agg_new();
	const struct nd_drop_row *r;
	const struct nd_place_row *p;
	const struct nd_agg_totals *t;
	size_t n;

	ND_CHECK(a != NULL);
	if (!a)
		return;
	ND_CHECK_EQ(nd_agg_update(a, dk, dv, 3, sk, sv, 4), 0);
	ND_CHECK(nd_agg_has_flows(a));
	r = nd_agg_drops(a, &n);
	ND_CHECK_EQ(n, 3);
	for (size_t i = 0; i < n; i++) {
		if (r[i].key.flow.sport == 40000)       /* f1: 3 + 1 retransmissions, resets not */
			ND_CHECK_EQ(r[i].retrans, 4);
		else if (r[i].key.flow.sport == 40001)
			ND_CHECK_EQ(r[i].retrans, 0);
		else                                    /* r1: f1 the other way round */
			ND_CHECK_EQ(r[i].retrans, 4);
	}
	p = nd_agg_places(a, &n);
	ND_CHECK_EQ(n, 2);
	ND_CHECK_EQ(p[0].reason, 12);
	ND_CHECK_EQ(p[0].packets, 6);
	ND_CHECK_EQ(p[0].bytes, 600);
	ND_CHECK_EQ(p[0].flows, 2);
	ND_CHECK_EQ(p[0].retrans, 4);
	ND_CHECK_EQ(p[0].first_ns, 3);
	ND_CHECK_EQ(p[0].last_ns, 9);
	ND_CHECK_EQ(p[1].reason, 3);
	t = nd_agg_totals(a);
	ND_CHECK_EQ(t->signals[ND_SIG_RETRANS], 6);
	ND_CHECK_EQ(t->syn_sent_retrans, 2);
	ND_CHECK_EQ(t->signals[ND_SIG_SEND_RESET], 9);
	nd_agg_free(a);
}

/* Find the place of @reason in @a (NULL when none). */
static const struct nd_place_row *place_of(const struct nd_agg *a, uint32_t reason)
{
	size_t n;
	const struct nd_place_row *p = nd_agg_places(a, &n);

	for (size_t i = 0; i < n; i++)
		if (p[i].reason == reason)
			return &p[i];
	return NULL;
}

static void test_agg_places_exact_without_flow_rows(void)
{
	/* The kernel's place map: NO_SOCKET (3) 200 drops, and NETFILTER_DROP
	 * (12) 40 drops that came after the flow map had filled: no flow row
	 * at all. The flow map holds three NO_SOCKET flows, 16 drops. */
	struct nd_tuple f1 = tuple(1, 40000, 2, 9), f2 = tuple(1, 40001, 2, 9), f3 = tuple(1, 40002, 2, 9);
	struct nd_drop_key pk[2] = { dkey(3, 200, NULL), dkey(12, 200, NULL) };
	struct nd_drop_val pv[2] = { { .packets = 200, .bytes = 12800, .first_ns = 1, .last_ns = 90 },
				     { .packets = 40, .bytes = 2560, .first_ns = 50, .last_ns = 80 } };
	struct nd_drop_key fk[3] = { dkey(3, 200, &f1), dkey(3, 200, &f2), dkey(3, 200, &f3) };
	struct nd_drop_val fv[3] = { { .packets = 10, .bytes = 640, .first_ns = 1, .last_ns = 20 },
				     { .packets = 5, .bytes = 320, .first_ns = 2, .last_ns = 21 },
				     { .packets = 1, .bytes = 64, .first_ns = 3, .last_ns = 22 } };
	struct nd_agg_snap s = { .dk = fk, .dv = fv, .nd = 3, .pk = pk, .pv = pv, .np = 2 };
	struct nd_agg *a = nd_agg_new();
	const struct nd_place_row *p;
	size_t n;

	ND_CHECK(a != NULL);
	if (!a)
		return;
	ND_CHECK_EQ(nd_agg_snapshot(a, &s), 0);
	nd_agg_places(a, &n);
	ND_CHECK_EQ(n, 2);
	nd_agg_drops(a, &n);
	ND_CHECK_EQ(n, 3);                      /* the rows are the flows */
	ND_CHECK(nd_agg_has_flows(a));
	p = place_of(a, 3);
	ND_CHECK(p != NULL);
	if (p) {
		ND_CHECK_EQ(p->packets, 200);   /* the place map's, not 16 */
		ND_CHECK_EQ(p->bytes, 12800);
		ND_CHECK_EQ(p->first_ns, 1);
		ND_CHECK_EQ(p->last_ns, 90);
		ND_CHECK_EQ(p->flows, 3);
		ND_CHECK_EQ(p->unattributed, 184);
		ND_CHECK_EQ(p->delta, 200);
	}
	p = place_of(a, 12);
	ND_CHECK(p != NULL);
	if (p) {
		ND_CHECK_EQ(p->packets, 40);    /* a place no flow row names */
		ND_CHECK_EQ(p->flows, 0);
		ND_CHECK_EQ(p->unattributed, 40);
		ND_CHECK_EQ(p->first_ns, 50);
	}
	ND_CHECK_EQ(nd_agg_totals(a)->drops, 240);
	ND_CHECK_EQ(nd_agg_totals(a)->drop_delta, 240);
	ND_CHECK_EQ(nd_agg_totals(a)->unattributed, 224);
	nd_agg_free(a);
}

static void test_agg_place_deltas_when_flows_change(void)
{
	struct nd_tuple f1 = tuple(1, 40000, 2, 9), f2 = tuple(1, 40001, 2, 9), f3 = tuple(1, 40002, 2, 9);
	struct nd_drop_key pk[2] = { dkey(3, 200, NULL), dkey(12, 200, NULL) };
	struct nd_drop_val pv[2] = { { .packets = 100 }, { .packets = 7 } };
	struct nd_drop_key fk[2] = { dkey(3, 200, &f1), dkey(3, 200, &f2) };
	struct nd_drop_val fv[2] = { { .packets = 10 }, { .packets = 5 } };
	struct nd_agg_snap s = { .dk = fk, .dv = fv, .nd = 2, .pk = pk, .pv = pv, .np = 1 };
	struct nd_agg *a = nd_agg_new();
	const struct nd_place_row *p;
	const struct nd_drop_row *r;
	size_t n;

	ND_CHECK(a != NULL);
	if (!a)
		return;
	ND_CHECK_EQ(nd_agg_snapshot(a, &s), 0);
	ND_CHECK_EQ(place_of(a, 3) ? place_of(a, 3)->unattributed : 0, 85);
	/* Next: 30 more at the place; f1 +2, f2 gone from the rows, f3 new
	 * with 3; a second place appears. The place's delta is its own (30),
	 * not its rows' (2 + 3); the new place counts from zero. */
	pv[0].packets = 130;
	fk[1] = dkey(3, 200, &f3);
	fv[0].packets = 12;
	fv[1].packets = 3;
	s.np = 2;
	ND_CHECK_EQ(nd_agg_snapshot(a, &s), 0);
	p = place_of(a, 3);
	ND_CHECK(p != NULL);
	if (p) {
		ND_CHECK_EQ(p->delta, 30);
		ND_CHECK_EQ(p->packets, 130);
		ND_CHECK_EQ(p->flows, 2);
		ND_CHECK_EQ(p->unattributed, 115);
	}
	p = place_of(a, 12);
	ND_CHECK(p != NULL);
	if (p)
		ND_CHECK_EQ(p->delta, 7);
	ND_CHECK_EQ(nd_agg_totals(a)->drop_delta, 37);
	p = nd_agg_places(a, &n);
	ND_CHECK_EQ(n, 2);
	ND_CHECK_EQ(p[0].reason, 3);            /* the bigger change first */
	r = nd_agg_drops(a, &n);
	ND_CHECK_EQ(n, 2);
	ND_CHECK_EQ(r[0].key.flow.sport, 40002);        /* f3: +3 */
	ND_CHECK_EQ(r[0].delta, 3);
	ND_CHECK_EQ(r[1].delta, 2);
	/* Unchanged: nothing moves. */
	ND_CHECK_EQ(nd_agg_snapshot(a, &s), 0);
	ND_CHECK_EQ(nd_agg_totals(a)->drop_delta, 0);
	ND_CHECK_EQ(place_of(a, 3) ? place_of(a, 3)->delta : 1, 0);
	nd_agg_free(a);
}

static void test_agg_sig_places_exact(void)
{
	/* The signal place map: 40 SYN_SENT retransmissions in namespace 100
	 * and 6 resets sent; the signal flow map kept 2 flows, 10 of them. */
	struct nd_tuple s1 = tuple(1, 40000, 2, 80), s2 = tuple(1, 40001, 2, 80);
	struct nd_sig_key spk[2] = { skey(ND_SIG_RETRANS, 2, 100, NULL),
				     skey(ND_SIG_SEND_RESET, 7, 100, NULL) };
	struct nd_sig_val spv[2] = { { .count = 40, .last_ns = 9 }, { .count = 6 } };
	struct nd_sig_key sk[2] = { skey(ND_SIG_RETRANS, 2, 100, &s1), skey(ND_SIG_RETRANS, 2, 100, &s2) };
	struct nd_sig_val sv[2] = { { .count = 7 }, { .count = 3 } };
	struct nd_drop_key dk[1] = { dkey(12, 200, &s1) };
	struct nd_drop_val dv[1] = { { .packets = 8 } };
	struct nd_drop_key pk[1] = { dkey(12, 200, NULL) };
	struct nd_drop_val pv[1] = { { .packets = 8 } };
	struct nd_agg_snap s = { .dk = dk, .dv = dv, .nd = 1, .pk = pk, .pv = pv, .np = 1,
				 .sk = sk, .sv = sv, .ns = 2, .spk = spk, .spv = spv, .nsp = 2 };
	struct nd_agg *a = nd_agg_new();
	const struct nd_sig_place_row *sp;
	const struct nd_agg_totals *t;
	size_t n;

	ND_CHECK(a != NULL);
	if (!a)
		return;
	ND_CHECK_EQ(nd_agg_snapshot(a, &s), 0);
	t = nd_agg_totals(a);
	ND_CHECK_EQ(t->signals[ND_SIG_RETRANS], 40);
	ND_CHECK_EQ(t->syn_sent_retrans, 40);
	ND_CHECK_EQ(t->signals[ND_SIG_SEND_RESET], 6);
	ND_CHECK_EQ(t->sig_unattributed, 30 + 6);
	ND_CHECK_EQ(t->unattributed, 0);        /* every drop has its flow row */
	sp = nd_agg_sig_places(a, &n);
	ND_CHECK_EQ(n, 2);
	ND_CHECK_EQ(sp[0].type, ND_SIG_RETRANS);
	ND_CHECK_EQ(sp[0].count, 40);
	ND_CHECK_EQ(sp[0].flows, 2);
	ND_CHECK_EQ(sp[0].unattributed, 30);
	ND_CHECK_EQ(sp[0].last_ns, 9);
	ND_CHECK_EQ(sp[1].flows, 0);
	nd_agg_sigs(a, &n);
	ND_CHECK_EQ(n, 2);
	/* The drop's flow still takes the retransmissions of its flow rows. */
	ND_CHECK_EQ(place_of(a, 12) ? place_of(a, 12)->retrans : 0, 7);
	nd_agg_free(a);
}

static void test_agg_odd_snapshots(void)
{
	/* Read between two counts: a flow row whose place is not (yet) in
	 * the place snapshot makes its own place; rows holding more than
	 * their place give no unattributed count, and the place's own total
	 * stands. */
	struct nd_tuple f1 = tuple(1, 40000, 2, 9), f2 = tuple(1, 40001, 2, 9);
	struct nd_drop_key pk[1] = { dkey(3, 200, NULL) };
	struct nd_drop_val pv[1] = { { .packets = 4 } };
	struct nd_drop_key fk[2] = { dkey(3, 200, &f1), dkey(12, 200, &f2) };
	struct nd_drop_val fv[2] = { { .packets = 6 }, { .packets = 2 } };
	struct nd_agg_snap s = { .dk = fk, .dv = fv, .nd = 2, .pk = pk, .pv = pv, .np = 1 };
	struct nd_agg_snap empty = { 0 };
	struct nd_agg *a = nd_agg_new();
	size_t n;

	ND_CHECK(a != NULL);
	if (!a)
		return;
	ND_CHECK_EQ(nd_agg_snapshot(a, &s), 0);
	ND_CHECK_EQ(place_of(a, 3) ? place_of(a, 3)->packets : 0, 4);
	ND_CHECK_EQ(place_of(a, 3) ? place_of(a, 3)->unattributed : 1, 0);
	ND_CHECK_EQ(place_of(a, 12) ? place_of(a, 12)->packets : 0, 2);
	ND_CHECK_EQ(nd_agg_totals(a)->drops, 6);
	/* Nothing at all, and a place map of zero entries given as such. */
	ND_CHECK_EQ(nd_agg_snapshot(a, &empty), 0);
	nd_agg_places(a, &n);
	ND_CHECK_EQ(n, 0);
	nd_agg_sig_places(a, &n);
	ND_CHECK_EQ(n, 0);
	s.np = 0;
	ND_CHECK_EQ(nd_agg_snapshot(a, &s), 0);
	nd_agg_places(a, &n);
	ND_CHECK_EQ(n, 2);
	nd_agg_free(a);
}

int main(void)
{
	ND_RUN(test_ksyms_resolve);
	ND_RUN(test_ksyms_cap_and_hidden);
	ND_RUN(test_reasons_names);
	ND_RUN(test_reasons_need_core_enum);
	ND_RUN(test_agg_deltas_and_order);
	ND_RUN(test_agg_flows_places_retrans);
	ND_RUN(test_agg_places_exact_without_flow_rows);
	ND_RUN(test_agg_place_deltas_when_flows_change);
	ND_RUN(test_agg_sig_places_exact);
	ND_RUN(test_agg_odd_snapshots);
	return nd_test_done();
}
