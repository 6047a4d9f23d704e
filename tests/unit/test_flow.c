/* SPDX-License-Identifier: MIT */
/* Unit tests of the bounded connection table (src/core/flow.c). */
#include <errno.h>
#include <string.h>

#include "core/decode.h"
#include "core/flow.h"
#include "nd_tcp_seg.h"
#include "nd_test.h"

struct val {
	int n;
};

static struct nd_pkt pkt(uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp)
{
	return nd_test_seg(src, sp, dst, dp, 0, 0, 0, 0);
}

static void test_key_both_directions_equal(void)
{
	struct nd_pkt a = pkt(0x0a000001, 40000, 0x0a000002, 80);
	struct nd_pkt b = pkt(0x0a000002, 80, 0x0a000001, 40000);
	struct nd_flow_key ka, kb;
	int sa = nd_flow_key_from_pkt(&a, &ka), sb = nd_flow_key_from_pkt(&b, &kb);

	ND_CHECK(memcmp(&ka, &kb, sizeof(ka)) == 0);
	ND_CHECK_EQ(sa, 0);     /* 10.0.0.1 is the lower address: side A */
	ND_CHECK_EQ(sb, 1);
	ND_CHECK_EQ(ka.pa, 40000);
	ND_CHECK_EQ(ka.pb, 80);
}

static void test_key_same_addr_orders_by_port(void)
{
	struct nd_pkt a = pkt(0x7f000001, 5000, 0x7f000001, 4000);
	struct nd_flow_key k;

	ND_CHECK_EQ(nd_flow_key_from_pkt(&a, &k), 1);
	ND_CHECK_EQ(k.pa, 4000);
}

static void test_key_tunnel_id_separates(void)
{
	struct nd_pkt a = pkt(1, 1, 2, 2), b = pkt(1, 1, 2, 2);
	struct nd_flow_key ka, kb;

	a.tunnel = b.tunnel = ND_TUN_VXLAN;
	a.tunnel_id = 100;
	b.tunnel_id = 200;
	nd_flow_key_from_pkt(&a, &ka);
	nd_flow_key_from_pkt(&b, &kb);
	ND_CHECK(memcmp(&ka, &kb, sizeof(ka)) != 0);
}

static void test_insert_find_remove(void)
{
	struct nd_flow_table *t = nd_ft_new(10, sizeof(struct val), 42);
	struct nd_pkt p = pkt(1, 2, 3, 4);
	struct nd_flow_key k;
	struct val *v;

	nd_flow_key_from_pkt(&p, &k);
	ND_CHECK(nd_ft_find(t, &k) == NULL);
	v = nd_ft_insert(t, &k);
	ND_CHECK(v != NULL);
	ND_CHECK_EQ(v->n, 0);           /* zeroed */
	v->n = 7;
	ND_CHECK(nd_ft_find(t, &k) == v);
	ND_CHECK(memcmp(nd_ft_key(v), &k, sizeof(k)) == 0);
	ND_CHECK_EQ(nd_ft_count(t), 1);
	nd_ft_remove(t, v);
	ND_CHECK(nd_ft_find(t, &k) == NULL);
	ND_CHECK_EQ(nd_ft_count(t), 0);
	ND_CHECK_EQ(nd_ft_peak(t), 1);
	nd_ft_free(t);
}

static void test_cap_enforced(void)
{
	struct nd_flow_table *t = nd_ft_new(3, sizeof(struct val), 1);
	struct nd_flow_key k;

	for (uint16_t i = 0; i < 3; i++) {
		struct nd_pkt p = pkt(1, i, 2, 80);
		nd_flow_key_from_pkt(&p, &k);
		ND_CHECK(nd_ft_insert(t, &k) != NULL);
	}
	{
		struct nd_pkt p = pkt(1, 99, 2, 80);
		nd_flow_key_from_pkt(&p, &k);
		errno = 0;
		ND_CHECK(nd_ft_insert(t, &k) == NULL);
		ND_CHECK_EQ(errno, ENOSPC);
	}
	ND_CHECK_EQ(nd_ft_count(t), 3);
	nd_ft_free(t);
}

static void test_zero_cap_rejected(void)
{
	errno = 0;
	ND_CHECK(nd_ft_new(0, 8, 1) == NULL);
	ND_CHECK_EQ(errno, EINVAL);
}

static void test_lru_order_and_lists(void)
{
	struct nd_flow_table *t = nd_ft_new(10, sizeof(struct val), 3);
	struct val *v[3];
	struct nd_flow_key k;

	for (int i = 0; i < 3; i++) {
		struct nd_pkt p = pkt(1, (uint16_t)(1000 + i), 2, 80);
		nd_flow_key_from_pkt(&p, &k);
		v[i] = nd_ft_insert(t, &k);
		v[i]->n = i;
	}
	ND_CHECK(nd_ft_oldest(t, ND_FLOW_OPEN) == v[0]);
	nd_ft_touch(t, v[0]);
	ND_CHECK(nd_ft_oldest(t, ND_FLOW_OPEN) == v[1]);
	ND_CHECK(nd_ft_next(t, v[2]) == v[0]);
	nd_ft_set_list(t, v[2], ND_FLOW_CLOSED);
	ND_CHECK_EQ(nd_ft_list_of(v[2]), ND_FLOW_CLOSED);
	ND_CHECK(nd_ft_oldest(t, ND_FLOW_CLOSED) == v[2]);
	ND_CHECK_EQ(nd_ft_count_list(t, ND_FLOW_OPEN), 2);
	ND_CHECK_EQ(nd_ft_count_list(t, ND_FLOW_CLOSED), 1);
	nd_ft_touch(t, v[2]);   /* closed entries keep their order: no-op */
	ND_CHECK(nd_ft_oldest(t, ND_FLOW_CLOSED) == v[2]);
	nd_ft_remove(t, v[1]);
	ND_CHECK(nd_ft_oldest(t, ND_FLOW_OPEN) == v[0]);
	ND_CHECK(nd_ft_next(t, v[0]) == NULL);
	nd_ft_free(t);
}

/* Many entries: the bucket array grows, every key is found again, and
 * chains stay short. */
static void test_growth_many_keys(void)
{
	enum { N = 50000 };
	struct nd_flow_table *t = nd_ft_new(N, sizeof(struct val), 0x1234);
	struct nd_flow_key k;
	int found = 0;

	for (uint32_t i = 0; i < N; i++) {
		struct nd_pkt p = pkt(0x0a000000 + (i >> 8), (uint16_t)(i & 0xff) + 1000, 0x0b000001, 443);
		nd_flow_key_from_pkt(&p, &k);
		struct val *v = nd_ft_insert(t, &k);
		if (v)
			v->n = (int)i;
	}
	for (uint32_t i = 0; i < N; i++) {
		struct nd_pkt p = pkt(0x0b000001, 443, 0x0a000000 + (i >> 8), (uint16_t)(i & 0xff) + 1000);
		nd_flow_key_from_pkt(&p, &k);
		struct val *v = nd_ft_find(t, &k);
		if (v && v->n == (int)i)
			found++;
	}
	ND_CHECK_EQ(found, N);
	ND_CHECK(nd_ft_max_chain(t) < 16);
	nd_ft_free(t);
}

int main(void)
{
	ND_RUN(test_key_both_directions_equal);
	ND_RUN(test_key_same_addr_orders_by_port);
	ND_RUN(test_key_tunnel_id_separates);
	ND_RUN(test_insert_find_remove);
	ND_RUN(test_cap_enforced);
	ND_RUN(test_zero_cap_rejected);
	ND_RUN(test_lru_order_and_lists);
	ND_RUN(test_growth_many_keys);
	return nd_test_done();
}
