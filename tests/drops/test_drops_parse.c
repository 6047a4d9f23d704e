/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the flow parser the eBPF program uses (src/bpf/parse.h),
 * compiled here with a bounds-checked memory reader in place of
 * bpf_probe_read_kernel: IPv4/IPv6, TCP/UDP ports, fragments, VXLAN and
 * Geneve (with options, Ethernet or IP payload), truncation.
 */
#include <stdint.h>
#include <string.h>

#include "bpf/drops.h"

struct pkt {
	const uint8_t *p;
	size_t len;
};

static int pkt_load(void *dst, size_t n, const void *base, uint32_t off)
{
	const struct pkt *b = base;

	if ((size_t)off + n > b->len)
		return -1;
	memcpy(dst, b->p + off, n);
	return 0;
}

#define ND_LOAD(dst, size, base, off) pkt_load((dst), (size), (base), (off))
#include "bpf/parse.h"
#include "nd_test.h"

static uint8_t buf[512];
static size_t blen;

static void put(const void *p, size_t n)
{
	memcpy(buf + blen, p, n);
	blen += n;
}

static void put16(uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(b, 2);
}

static void ipv4(uint8_t proto, const char *src, const char *dst, uint16_t frag)
{
	uint8_t h[20] = { 0x45, 0, 0, 60, 0, 1, (uint8_t)(frag >> 8), (uint8_t)frag, 64, proto };

	memcpy(h + 12, src, 4);
	memcpy(h + 16, dst, 4);
	put(h, sizeof(h));
}

static void ipv6(uint8_t next, uint8_t last_src, uint8_t last_dst)
{
	uint8_t h[40] = { 0x60, 0, 0, 0, 0, 20, next, 64 };

	h[8] = 0x20;
	h[9] = 0x01;
	h[23] = last_src;
	h[24] = 0x20;
	h[25] = 0x01;
	h[39] = last_dst;
	put(h, sizeof(h));
}

static void ports(uint16_t s, uint16_t d)
{
	put16(s);
	put16(d);
	put16(8);
	put16(0);
}

static void eth(uint16_t type)
{
	uint8_t macs[12] = { 0 };

	put(macs, sizeof(macs));
	put16(type);
}

static void parse(uint16_t ethertype, size_t limit, int tunnels, struct nd_parsed *p)
{
	struct pkt b = { buf, blen };

	nd_parse_pkt(&b, 0, (uint32_t)limit, ethertype, tunnels, p);
}

static void test_ipv4_udp(void)
{
	struct nd_parsed p;

	blen = 0;
	ipv4(17, "\x0a\x00\x00\x01", "\x0a\x00\x00\x02", 0);
	ports(40000, 53);
	parse(ND_ETH_P_IP, blen, 1, &p);
	ND_CHECK(p.ok);
	ND_CHECK_EQ(p.outer.family, 4);
	ND_CHECK_EQ(p.outer.l4proto, 17);
	ND_CHECK(!memcmp(p.outer.saddr, "\x0a\x00\x00\x01", 4));
	ND_CHECK(!memcmp(p.outer.daddr, "\x0a\x00\x00\x02", 4));
	ND_CHECK_EQ(p.outer.sport, 40000);
	ND_CHECK_EQ(p.outer.dport, 53);
	ND_CHECK_EQ(p.tun_type, ND_TUN_NONE);
	ND_CHECK(nd_parsed_flow(&p) == &p.outer);
}

static void test_ipv4_fragment_has_no_ports(void)
{
	struct nd_parsed p;

	blen = 0;
	ipv4(6, "\x0a\x00\x00\x01", "\x0a\x00\x00\x02", 0x00b9);  /* offset 185*8 */
	ports(1234, 80);
	parse(ND_ETH_P_IP, blen, 1, &p);
	ND_CHECK(p.ok);
	ND_CHECK_EQ(p.outer.l4proto, 6);
	ND_CHECK_EQ(p.outer.sport, 0);
	ND_CHECK_EQ(p.outer.dport, 0);
}

static void test_ipv4_options(void)
{
	static const uint8_t opt[4] = { 1, 1, 1, 0 };   /* NOPs, EOL */
	struct nd_parsed p;

	blen = 0;
	ipv4(6, "\x0a\x00\x00\x01", "\x0a\x00\x00\x02", 0);
	buf[0] = 0x46;                                  /* IHL 6: 4 bytes of options */
	put(opt, sizeof(opt));
	ports(5000, 6000);
	parse(ND_ETH_P_IP, blen, 1, &p);
	ND_CHECK(p.ok);
	ND_CHECK_EQ(p.outer.sport, 5000);
	ND_CHECK_EQ(p.outer.dport, 6000);
}

static void test_ipv6_tcp(void)
{
	struct nd_parsed p;

	blen = 0;
	ipv6(6, 1, 2);
	ports(443, 50000);
	parse(ND_ETH_P_IPV6, blen, 1, &p);
	ND_CHECK(p.ok);
	ND_CHECK_EQ(p.outer.family, 6);
	ND_CHECK_EQ(p.outer.l4proto, 6);
	ND_CHECK_EQ(p.outer.saddr[15], 1);
	ND_CHECK_EQ(p.outer.daddr[15], 2);
	ND_CHECK_EQ(p.outer.saddr[0], 0x20);
	ND_CHECK_EQ(p.outer.sport, 443);
	ND_CHECK_EQ(p.outer.dport, 50000);
}

static void test_not_ip(void)
{
	struct nd_parsed p;

	blen = 0;
	ipv4(17, "\x0a\x00\x00\x01", "\x0a\x00\x00\x02", 0);
	parse(0x0806, blen, 1, &p);     /* ARP */
	ND_CHECK(!p.ok);
	ND_CHECK_EQ(p.outer.family, 0);
	buf[0] = 0x65;                  /* IPv4 ethertype, version 6 */
	parse(ND_ETH_P_IP, blen, 1, &p);
	ND_CHECK(!p.ok);
	buf[0] = 0x44;                  /* IHL 4 < 5 */
	parse(ND_ETH_P_IP, blen, 1, &p);
	ND_CHECK(!p.ok);
}

static void test_truncated(void)
{
	struct nd_parsed p;

	blen = 0;
	ipv4(17, "\x0a\x00\x00\x01", "\x0a\x00\x00\x02", 0);
	ports(1, 2);
	parse(ND_ETH_P_IP, 19, 1, &p);  /* not even the IP header */
	ND_CHECK(!p.ok);
	parse(ND_ETH_P_IP, 22, 1, &p);  /* IP header, half the ports */
	ND_CHECK(p.ok);
	ND_CHECK_EQ(p.outer.l4proto, 17);
	ND_CHECK_EQ(p.outer.sport, 0);
}

static void test_vxlan(void)
{
	static const uint8_t vx[8] = { 0x08, 0, 0, 0, 0x01, 0x02, 0x03, 0 };
	struct nd_parsed p;
	const struct nd_tuple *f;

	blen = 0;
	ipv4(17, "\xc0\xa8\x00\x01", "\xc0\xa8\x00\x02", 0);
	ports(51000, ND_PORT_VXLAN);
	put(vx, sizeof(vx));
	eth(ND_ETH_P_IP);
	ipv4(6, "\x0a\x01\x00\x01", "\x0a\x01\x00\x02", 0);
	ports(33000, 8080);
	parse(ND_ETH_P_IP, blen, 1, &p);
	ND_CHECK(p.ok);
	ND_CHECK_EQ(p.tun_type, ND_TUN_VXLAN);
	ND_CHECK_EQ(p.vni, 0x010203);
	f = nd_parsed_flow(&p);
	ND_CHECK(f == &p.inner);
	ND_CHECK_EQ(f->l4proto, 6);
	ND_CHECK(!memcmp(f->saddr, "\x0a\x01\x00\x01", 4));
	ND_CHECK_EQ(f->sport, 33000);
	ND_CHECK_EQ(f->dport, 8080);
	ND_CHECK_EQ(p.outer.dport, ND_PORT_VXLAN);
	/* Without tunnel parsing the outer flow stands. */
	parse(ND_ETH_P_IP, blen, 0, &p);
	ND_CHECK_EQ(p.tun_type, ND_TUN_NONE);
	ND_CHECK(nd_parsed_flow(&p) == &p.outer);
	/* VXLAN without the I flag is not taken as VXLAN. */
	buf[28] = 0;
	parse(ND_ETH_P_IP, blen, 1, &p);
	ND_CHECK_EQ(p.tun_type, ND_TUN_NONE);
}

static void test_geneve_options_ipv6(void)
{
	/* 8 bytes of options (opt len 2), Ethernet payload. */
	static const uint8_t gh[16] = { 0x02, 0, 0x65, 0x58, 0, 0, 42, 0,
					0x01, 0x02, 0x80, 0x01, 0, 0, 0, 0 };
	struct nd_parsed p;
	const struct nd_tuple *f;

	blen = 0;
	ipv4(17, "\xc0\xa8\x00\x01", "\xc0\xa8\x00\x02", 0);
	ports(51001, ND_PORT_GENEVE);
	put(gh, sizeof(gh));
	eth(ND_ETH_P_IPV6);
	ipv6(17, 7, 9);
	ports(5353, 5354);
	parse(ND_ETH_P_IP, blen, 1, &p);
	ND_CHECK_EQ(p.tun_type, ND_TUN_GENEVE);
	ND_CHECK_EQ(p.vni, 42);
	f = nd_parsed_flow(&p);
	ND_CHECK_EQ(f->family, 6);
	ND_CHECK_EQ(f->saddr[15], 7);
	ND_CHECK_EQ(f->sport, 5353);
	ND_CHECK_EQ(f->dport, 5354);
}

static void test_geneve_ip_payload_and_cut(void)
{
	static const uint8_t gh[8] = { 0x00, 0, 0x08, 0x00, 0, 0, 7, 0 };
	struct nd_parsed p;
	size_t inner_at;

	blen = 0;
	ipv4(17, "\xc0\xa8\x00\x01", "\xc0\xa8\x00\x02", 0);
	ports(51002, ND_PORT_GENEVE);
	put(gh, sizeof(gh));
	inner_at = blen;
	ipv4(17, "\x0a\x02\x00\x01", "\x0a\x02\x00\x02", 0);
	ports(1111, 2222);
	parse(ND_ETH_P_IP, blen, 1, &p);
	ND_CHECK_EQ(p.tun_type, ND_TUN_GENEVE);
	ND_CHECK_EQ(nd_parsed_flow(&p)->dport, 2222);
	/* The inner header cut off: the tunnel is known, the flow is the outer one. */
	parse(ND_ETH_P_IP, inner_at + 10, 1, &p);
	ND_CHECK_EQ(p.tun_type, ND_TUN_GENEVE);
	ND_CHECK(nd_parsed_flow(&p) == &p.outer);
	ND_CHECK_EQ(nd_parsed_flow(&p)->dport, ND_PORT_GENEVE);
}

int main(void)
{
	ND_RUN(test_ipv4_udp);
	ND_RUN(test_ipv4_fragment_has_no_ports);
	ND_RUN(test_ipv4_options);
	ND_RUN(test_ipv6_tcp);
	ND_RUN(test_not_ip);
	ND_RUN(test_truncated);
	ND_RUN(test_vxlan);
	ND_RUN(test_geneve_options_ipv6);
	ND_RUN(test_geneve_ip_payload_and_cut);
	return nd_test_done();
}
