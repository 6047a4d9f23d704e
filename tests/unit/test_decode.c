/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/core/decode.c: hand-built frames, one layer at a time,
 * with exact field values; then hostile frames (every truncation point,
 * lying lengths, option loops). Every decode runs on a heap copy of
 * exactly caplen bytes so ASan catches any read at or past caplen, and
 * the output struct is poisoned first so fields the decoder must define
 * are checked for real.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/decode.h"
#include "nd_test.h"

/* ---- frame builder ----------------------------------------------------- */

enum { FX_IP4, FX_IP6, FX_UDP };

struct fb {
	uint8_t b[4096];
	uint32_t n;
	struct {
		int kind;
		uint32_t at;
	} fx[32];
	int nfx;
};

static void fb_init(struct fb *f)
{
	memset(f, 0, sizeof(*f));
}

static void p8(struct fb *f, unsigned v)
{
	if (f->n < sizeof(f->b))
		f->b[f->n++] = (uint8_t)v;
}

static void p16(struct fb *f, unsigned v)
{
	p8(f, (v >> 8) & 0xff);
	p8(f, v & 0xff);
}

static void p32(struct fb *f, uint32_t v)
{
	p16(f, v >> 16);
	p16(f, v & 0xffff);
}

static void pn(struct fb *f, const uint8_t *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		p8(f, s[i]);
}

static void pz(struct fb *f, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		p8(f, (uint8_t)(i * 7 + 1));
}

static void set16(struct fb *f, uint32_t at, unsigned v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

static void fixup(struct fb *f, int kind, uint32_t at)
{
	f->fx[f->nfx].kind = kind;
	f->fx[f->nfx].at = at;
	f->nfx++;
}

/* Fill in every IPv4 total length, IPv6 payload length and UDP length
 * registered so far, from the current end of the frame. */
static void fb_fin(struct fb *f)
{
	for (int i = 0; i < f->nfx; i++) {
		uint32_t at = f->fx[i].at;

		switch (f->fx[i].kind) {
		case FX_IP4: set16(f, at + 2, f->n - at); break;
		case FX_IP6: set16(f, at + 4, f->n - at - 40); break;
		case FX_UDP: set16(f, at + 4, f->n - at); break;
		}
	}
}

static void eth(struct fb *f, unsigned type)
{
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02 };

	pn(f, macs, 12);
	p16(f, type);
}

static void vlan(struct fb *f, unsigned tci, unsigned type)
{
	p16(f, tci);
	p16(f, type);
}

static uint32_t ip4o(struct fb *f, unsigned proto, uint32_t src, uint32_t dst,
		     const uint8_t *opt, uint32_t optlen)
{
	uint32_t at = f->n;

	p8(f, 0x40 | (5 + optlen / 4));
	p8(f, 0);
	p16(f, 0);      /* total length: fixup */
	p16(f, 0x1234); /* id */
	p16(f, 0x4000); /* DF */
	p8(f, 64);
	p8(f, proto);
	p16(f, 0);
	p32(f, src);
	p32(f, dst);
	pn(f, opt, optlen);
	fixup(f, FX_IP4, at);
	return at;
}

static uint32_t ip4(struct fb *f, unsigned proto, uint32_t src, uint32_t dst)
{
	return ip4o(f, proto, src, dst, NULL, 0);
}

/* IPv6 with addresses 2001:db8::s and 2001:db8::d */
static uint32_t ip6(struct fb *f, unsigned nh, unsigned s, unsigned d)
{
	uint32_t at = f->n;

	p32(f, 0x60012345);
	p16(f, 0); /* payload length: fixup */
	p8(f, nh);
	p8(f, 64);
	p32(f, 0x20010db8); p32(f, 0); p32(f, 0); p32(f, s);
	p32(f, 0x20010db8); p32(f, 0); p32(f, 0); p32(f, d);
	fixup(f, FX_IP6, at);
	return at;
}

static uint32_t tcp(struct fb *f, unsigned sp, unsigned dp, uint32_t seq, uint32_t ack,
		    unsigned flags, unsigned win, const uint8_t *opt, uint32_t optlen)
{
	uint32_t at = f->n;

	p16(f, sp);
	p16(f, dp);
	p32(f, seq);
	p32(f, ack);
	p8(f, (5 + optlen / 4) << 4);
	p8(f, flags);
	p16(f, win);
	p16(f, 0); /* checksum */
	p16(f, 0); /* urgent */
	pn(f, opt, optlen);
	return at;
}

static uint32_t udp(struct fb *f, unsigned sp, unsigned dp)
{
	uint32_t at = f->n;

	p16(f, sp);
	p16(f, dp);
	p16(f, 0); /* length: fixup */
	p16(f, 0);
	fixup(f, FX_UDP, at);
	return at;
}

/* A plain TCP segment 1000 -> 80 with n payload bytes. */
static void tcp_seg(struct fb *f, uint32_t npay)
{
	tcp(f, 1000, 80, 0x01020304, 0x0a0b0c0d, ND_TH_ACK | ND_TH_PSH, 512, NULL, 0);
	pz(f, npay);
}

#define A4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

/* ---- decode helpers ---------------------------------------------------- */

static enum nd_skip dec_cw(enum nd_link l, const struct fb *f, uint32_t caplen, uint32_t wirelen,
			   struct nd_pkt *p)
{
	uint8_t *buf = malloc(caplen ? caplen : 1);
	enum nd_skip r;

	if (!buf)
		abort();
	memcpy(buf, f->b, caplen);
	memset(p, 0xA5, sizeof(*p)); /* poison: the decoder must define what it sets */
	r = nd_decode(l, buf, caplen, wirelen, p);
	free(buf);
	return r;
}

static enum nd_skip dec(enum nd_link l, const struct fb *f, struct nd_pkt *p)
{
	return dec_cw(l, f, f->n, f->n, p);
}

static bool v4eq(const uint8_t a[16], uint32_t v)
{
	uint8_t e[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
			  (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	return memcmp(a, e, 16) == 0;
}

static bool v6eq(const uint8_t a[16], unsigned last)
{
	uint8_t e[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
			  (uint8_t)(last >> 24), (uint8_t)(last >> 16), (uint8_t)(last >> 8), (uint8_t)last };

	return memcmp(a, e, 16) == 0;
}

/* The outer-frame fields of an untunnelled, untagged packet. */
static void check_plain(const struct nd_pkt *p)
{
	ND_CHECK_EQ(p->vlan_depth, 0);
	ND_CHECK_EQ(p->vlan_id, 0);
	ND_CHECK_EQ(p->encap_depth, 0);
	ND_CHECK_EQ(p->tunnel, ND_TUN_NONE);
	ND_CHECK_EQ(p->tunnel_id, 0);
}

/* Eth/IPv4 10.0.0.1 -> 10.0.0.2 / TCP 1000 -> 80, npay bytes */
static void build_v4tcp(struct fb *f, uint32_t npay)
{
	fb_init(f);
	eth(f, 0x0800);
	ip4(f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp_seg(f, npay);
	fb_fin(f);
}

/* Checks for build_v4tcp-style inner packets. */
static void check_v4tcp(const struct nd_pkt *p, uint32_t l4_off, uint32_t npay)
{
	ND_CHECK_EQ(p->ip_version, 4);
	ND_CHECK_EQ(p->l4, 6);
	ND_CHECK(v4eq(p->src, A4(10, 0, 0, 1)));
	ND_CHECK(v4eq(p->dst, A4(10, 0, 0, 2)));
	ND_CHECK_EQ(p->sport, 1000);
	ND_CHECK_EQ(p->dport, 80);
	ND_CHECK_EQ(p->seq, 0x01020304);
	ND_CHECK_EQ(p->ack, 0x0a0b0c0d);
	ND_CHECK_EQ(p->flags, ND_TH_ACK | ND_TH_PSH);
	ND_CHECK_EQ(p->window, 512);
	ND_CHECK_EQ(p->l4_off, l4_off);
	ND_CHECK_EQ(p->payload_len, npay);
	ND_CHECK(!p->frame_truncated);
	ND_CHECK(!p->opt.has_mss && !p->opt.has_ts && !p->opt.malformed && !p->opt.truncated);
}

/* 40 bytes: MSS 1460, SACK-perm, TS, NOP, wscale 7, NOP, NOP, SACK x2 */
static const uint8_t all_opts[40] = {
	2, 4, 0x05, 0xb4,
	4, 2,
	8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	1,
	3, 3, 7,
	1, 1,
	5, 18, 0, 0, 0x10, 0, 0, 0, 0x20, 0, 0xff, 0xff, 0xff, 0xf0, 0xff, 0xff, 0xff, 0xff,
};

static void check_all_opts(const struct nd_tcp_opts *o)
{
	ND_CHECK(o->has_mss);
	ND_CHECK_EQ(o->mss, 1460);
	ND_CHECK(o->sack_perm);
	ND_CHECK(o->has_ts);
	ND_CHECK_EQ(o->tsval, 0x11223344u);
	ND_CHECK_EQ(o->tsecr, 0x55667788u);
	ND_CHECK(o->has_wscale);
	ND_CHECK_EQ(o->wscale, 7);
	ND_CHECK_EQ(o->nsack, 2);
	ND_CHECK_EQ(o->sack[0][0], 0x1000);
	ND_CHECK_EQ(o->sack[0][1], 0x2000);
	ND_CHECK_EQ(o->sack[1][0], 0xfffffff0u);
	ND_CHECK_EQ(o->sack[1][1], 0xffffffffu);
	ND_CHECK_EQ(o->unknown, 0);
	ND_CHECK(!o->malformed);
	ND_CHECK(!o->truncated);
}

/* ---- names and mappings ------------------------------------------------ */

static void test_link_from_dlt(void)
{
	ND_CHECK_EQ(nd_link_from_dlt(1), ND_LINK_ETHERNET);
	ND_CHECK_EQ(nd_link_from_dlt(113), ND_LINK_SLL);
	ND_CHECK_EQ(nd_link_from_dlt(276), ND_LINK_SLL2);
	ND_CHECK_EQ(nd_link_from_dlt(12), ND_LINK_RAW);
	ND_CHECK_EQ(nd_link_from_dlt(14), ND_LINK_RAW);
	ND_CHECK_EQ(nd_link_from_dlt(101), ND_LINK_RAW);
	ND_CHECK_EQ(nd_link_from_dlt(228), ND_LINK_IPV4);
	ND_CHECK_EQ(nd_link_from_dlt(229), ND_LINK_IPV6);
	ND_CHECK_EQ(nd_link_from_dlt(0), ND_LINK_NULL);
	ND_CHECK_EQ(nd_link_from_dlt(108), ND_LINK_LOOP);
	ND_CHECK_EQ(nd_link_from_dlt(9), ND_LINK_PPP);
	ND_CHECK_EQ(nd_link_from_dlt(50), ND_LINK_PPP);
	ND_CHECK_EQ(nd_link_from_dlt(104), ND_LINK_CHDLC);
	ND_CHECK_EQ(nd_link_from_dlt(7), ND_LINK_UNSUPPORTED);   /* ARCNET */
	ND_CHECK_EQ(nd_link_from_dlt(-1), ND_LINK_UNSUPPORTED);
	ND_CHECK_EQ(nd_link_from_dlt(147), ND_LINK_UNSUPPORTED);
}

static void test_names(void)
{
	static const char *const want[ND_SKIP__COUNT] = {
		"none", "unsupported_link", "trunc_link", "not_ip", "trunc_ip",
		"bad_ip_version", "bad_ip_hlen", "bad_ip_len", "fragment", "other_l4",
		"trunc_tcp", "bad_tcp_hlen", "trunc_udp", "bad_udp_len", "trunc_tunnel",
		"bad_tunnel", "too_deep",
	};

	for (int i = 0; i < ND_SKIP__COUNT; i++) {
		enum nd_skip s = (enum nd_skip)i;
		bool benign = s == ND_SKIP_NONE || s == ND_SKIP_NOT_IP || s == ND_SKIP_FRAGMENT ||
			      s == ND_SKIP_OTHER_L4;

		ND_CHECK_STR(nd_skip_name(s), want[i]);
		ND_CHECK_EQ(nd_skip_is_error(s), !benign);
	}
	ND_CHECK(nd_skip_name(ND_SKIP__COUNT) != NULL);
	ND_CHECK_STR(nd_link_name(ND_LINK_ETHERNET), "ethernet");
	ND_CHECK_STR(nd_link_name(ND_LINK_SLL), "linux-sll");
	ND_CHECK_STR(nd_link_name(ND_LINK_SLL2), "linux-sll2");
	ND_CHECK_STR(nd_link_name(ND_LINK_RAW), "raw");
	ND_CHECK_STR(nd_link_name(ND_LINK_IPV4), "ipv4");
	ND_CHECK_STR(nd_link_name(ND_LINK_IPV6), "ipv6");
	ND_CHECK_STR(nd_link_name(ND_LINK_NULL), "null");
	ND_CHECK_STR(nd_link_name(ND_LINK_LOOP), "loop");
	ND_CHECK_STR(nd_link_name(ND_LINK_PPP), "ppp");
	ND_CHECK_STR(nd_link_name(ND_LINK_CHDLC), "chdlc");
	ND_CHECK(nd_link_name(ND_LINK_UNSUPPORTED) != NULL);
	ND_CHECK_STR(nd_tunnel_name(ND_TUN_NONE), "none");
	ND_CHECK_STR(nd_tunnel_name(ND_TUN_VXLAN), "vxlan");
	ND_CHECK_STR(nd_tunnel_name(ND_TUN_GENEVE), "geneve");
	ND_CHECK_STR(nd_tunnel_name(ND_TUN_GRE), "gre");
	ND_CHECK_STR(nd_tunnel_name(ND_TUN_IPIP), "ipip");
}

static void test_addr_str(void)
{
	struct nd_pkt p;
	struct fb f;
	char buf[64];

	build_v4tcp(&f, 0);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_STR(nd_addr_str(p.src, 4, buf, sizeof(buf)), "10.0.0.1");
	ND_CHECK_STR(nd_addr_str(p.dst, 4, buf, sizeof(buf)), "10.0.0.2");

	fb_init(&f);
	eth(&f, 0x86dd);
	ip6(&f, 6, 1, 0x10000);
	tcp_seg(&f, 0);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_STR(nd_addr_str(p.src, 6, buf, sizeof(buf)), "2001:db8::1");
	ND_CHECK_STR(nd_addr_str(p.dst, 6, buf, sizeof(buf)), "2001:db8::1:0");
	/* too small a buffer: empty string, no overflow */
	ND_CHECK_STR(nd_addr_str(p.src, 6, buf, 4), "");
}

/* ---- link layers ------------------------------------------------------- */

static void test_eth_ipv4_tcp(void)
{
	struct nd_pkt p;
	struct fb f;

	build_v4tcp(&f, 100);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	check_v4tcp(&p, 34, 100);
	check_plain(&p);
}

static void test_eth_ipv6_tcp(void)
{
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0x86dd);
	ip6(&f, 6, 1, 2);
	tcp(&f, 443, 50000, 7, 8, ND_TH_SYN | ND_TH_ACK, 65535, NULL, 0);
	pz(&f, 3);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.ip_version, 6);
	ND_CHECK(v6eq(p.src, 1));
	ND_CHECK(v6eq(p.dst, 2));
	ND_CHECK_EQ(p.sport, 443);
	ND_CHECK_EQ(p.dport, 50000);
	ND_CHECK_EQ(p.seq, 7);
	ND_CHECK_EQ(p.ack, 8);
	ND_CHECK_EQ(p.flags, ND_TH_SYN | ND_TH_ACK);
	ND_CHECK_EQ(p.window, 65535);
	ND_CHECK_EQ(p.l4_off, 54);
	ND_CHECK_EQ(p.payload_len, 3);
	check_plain(&p);
}

static void test_eth_ipv4_udp(void)
{
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0x0800);
	ip4(&f, 17, A4(192, 168, 1, 1), A4(8, 8, 8, 8));
	udp(&f, 5353, 53);
	pz(&f, 30);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.l4, 17);
	ND_CHECK(v4eq(p.src, A4(192, 168, 1, 1)));
	ND_CHECK(v4eq(p.dst, A4(8, 8, 8, 8)));
	ND_CHECK_EQ(p.sport, 5353);
	ND_CHECK_EQ(p.dport, 53);
	ND_CHECK_EQ(p.payload_len, 30);
	ND_CHECK_EQ(p.l4_off, 34);
	ND_CHECK_EQ(p.flags, 0);
	ND_CHECK_EQ(p.seq, 0);
	ND_CHECK_EQ(p.ack, 0);
	ND_CHECK_EQ(p.window, 0);
	ND_CHECK(!p.opt.has_mss && !p.opt.has_ts && p.opt.nsack == 0);
	ND_CHECK(!p.frame_truncated);
	check_plain(&p);
}

static void test_not_ip(void)
{
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0x0806); /* ARP */
	pz(&f, 28);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NOT_IP);
	fb_init(&f);
	eth(&f, 0x88cc); /* LLDP */
	pz(&f, 40);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NOT_IP);
	/* ethertype says IPv4, version nibble says 6 */
	fb_init(&f);
	eth(&f, 0x0800);
	ip6(&f, 6, 1, 2);
	tcp_seg(&f, 0);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_IP_VERSION);
	/* ICMP */
	fb_init(&f);
	eth(&f, 0x0800);
	ip4(&f, 1, A4(1, 1, 1, 1), A4(2, 2, 2, 2));
	pz(&f, 16);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_OTHER_L4);
	ND_CHECK_EQ(p.l4, 1);
	ND_CHECK(v4eq(p.src, A4(1, 1, 1, 1)));
}

static void test_llc_snap(void)
{
	static const uint8_t snap[8] = { 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00 };
	static const uint8_t stp[3] = { 0x42, 0x42, 0x03 };
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0);
	pn(&f, snap, 8);
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp_seg(&f, 4);
	fb_fin(&f);
	set16(&f, 12, f.n - 14);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	check_v4tcp(&p, 42, 4);

	fb_init(&f);
	eth(&f, 38);
	pn(&f, stp, 3);
	pz(&f, 35);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NOT_IP);
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, 15, 52, &p), ND_SKIP_TRUNC_LINK);
}

static void test_vlan(void)
{
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0x8100);
	vlan(&f, 0x2064, 0x0800); /* prio 1, vid 100 */
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp_seg(&f, 1);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.vlan_depth, 1);
	ND_CHECK_EQ(p.vlan_id, 100);
	check_v4tcp(&p, 38, 1);

	fb_init(&f);
	eth(&f, 0x8100);
	vlan(&f, 7, 0x0806);
	pz(&f, 28);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NOT_IP);
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, 16, 16, &p), ND_SKIP_TRUNC_LINK);
}

static void test_qinq(void)
{
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0x88a8);
	vlan(&f, 200, 0x8100);
	vlan(&f, 0xf00 | 100, 0x86dd);
	ip6(&f, 6, 1, 2);
	tcp_seg(&f, 0);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.vlan_depth, 2);
	ND_CHECK_EQ(p.vlan_id, 200);
	ND_CHECK_EQ(p.l4_off, 14 + 8 + 40);

	/* old 0x9100 outer tag */
	f.b[12] = 0x91;
	f.b[13] = 0x00;
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.vlan_depth, 2);
}

static void test_vlan_limit(void)
{
	struct nd_pkt p;
	struct fb f;

	for (unsigned ntags = ND_MAX_VLAN; ntags <= ND_MAX_VLAN + 1; ntags++) {
		fb_init(&f);
		eth(&f, 0x8100);
		for (unsigned i = 0; i < ntags; i++)
			vlan(&f, i + 1, i + 1 < ntags ? 0x8100 : 0x0800);
		ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
		tcp_seg(&f, 0);
		fb_fin(&f);
		if (ntags == ND_MAX_VLAN) {
			ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
			ND_CHECK_EQ(p.vlan_depth, ND_MAX_VLAN);
			ND_CHECK_EQ(p.vlan_id, 1);
		} else {
			ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NOT_IP);
		}
	}
}

static void test_mpls(void)
{
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0x8847);
	p32(&f, (16000u << 12) | 0x40); /* label 16000, not bottom */
	p32(&f, (17u << 12) | 0x100 | 0x40); /* bottom of stack */
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp_seg(&f, 9);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	check_v4tcp(&p, 42, 9);
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, 20, f.n, &p), ND_SKIP_TRUNC_LINK);
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, 22, f.n, &p), ND_SKIP_TRUNC_IP);

	fb_init(&f);
	eth(&f, 0x8848);
	p32(&f, (5u << 12) | 0x100 | 0x40);
	ip6(&f, 17, 1, 2);
	udp(&f, 1, 2);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.ip_version, 6);
	ND_CHECK_EQ(p.l4, 17);
	ND_CHECK_EQ(p.payload_len, 0);

	/* pseudowire control word after the stack: not IP */
	fb_init(&f);
	eth(&f, 0x8847);
	p32(&f, (5u << 12) | 0x100 | 0x40);
	p32(&f, 0);
	pz(&f, 40);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NOT_IP);
}

static void test_pppoe(void)
{
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0x8864);
	p8(&f, 0x11);
	p8(&f, 0);
	p16(&f, 0x1234);
	p16(&f, 0); /* length, not used */
	p16(&f, 0x0021);
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp_seg(&f, 2);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	check_v4tcp(&p, 42, 2);
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, 21, f.n, &p), ND_SKIP_TRUNC_LINK);

	set16(&f, 20, 0x0057); /* claims IPv6, carries IPv4 */
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_IP_VERSION);
	set16(&f, 20, 0xc021); /* LCP */
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NOT_IP);
}

static void test_sll(void)
{
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	p16(&f, 0);      /* packet type: to us */
	p16(&f, 1);      /* ARPHRD_ETHER */
	p16(&f, 6);      /* address length */
	pz(&f, 8);
	p16(&f, 0x0800);
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp_seg(&f, 5);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_SLL, &f, &p), ND_SKIP_NONE);
	check_v4tcp(&p, 36, 5);
	check_plain(&p);
	ND_CHECK_EQ(dec_cw(ND_LINK_SLL, &f, 15, f.n, &p), ND_SKIP_TRUNC_LINK);
	ND_CHECK_EQ(dec_cw(ND_LINK_SLL, &f, 16, f.n, &p), ND_SKIP_TRUNC_IP);
	set16(&f, 14, 0x0806);
	ND_CHECK_EQ(dec(ND_LINK_SLL, &f, &p), ND_SKIP_NOT_IP);
}

static void test_sll2(void)
{
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	p16(&f, 0x86dd); /* protocol */
	p16(&f, 0);      /* reserved */
	p32(&f, 3);      /* ifindex */
	p16(&f, 1);      /* ARPHRD_ETHER */
	p8(&f, 4);       /* outgoing */
	p8(&f, 6);
	pz(&f, 8);
	ip6(&f, 6, 1, 2);
	tcp_seg(&f, 5);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_SLL2, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.ip_version, 6);
	ND_CHECK_EQ(p.l4_off, 60);
	ND_CHECK_EQ(p.payload_len, 5);
	ND_CHECK_EQ(p.sport, 1000);
	ND_CHECK_EQ(dec_cw(ND_LINK_SLL2, &f, 19, f.n, &p), ND_SKIP_TRUNC_LINK);
}

static void test_raw(void)
{
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp_seg(&f, 7);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_RAW, &f, &p), ND_SKIP_NONE);
	check_v4tcp(&p, 20, 7);
	ND_CHECK_EQ(dec(ND_LINK_IPV4, &f, &p), ND_SKIP_NONE);
	check_v4tcp(&p, 20, 7);
	ND_CHECK_EQ(dec(ND_LINK_IPV6, &f, &p), ND_SKIP_BAD_IP_VERSION);
	f.b[0] = 0x55;
	ND_CHECK_EQ(dec(ND_LINK_RAW, &f, &p), ND_SKIP_BAD_IP_VERSION);

	fb_init(&f);
	ip6(&f, 6, 1, 2);
	tcp_seg(&f, 7);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_RAW, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.ip_version, 6);
	ND_CHECK_EQ(p.payload_len, 7);
	ND_CHECK_EQ(dec(ND_LINK_IPV6, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.l4_off, 40);
	ND_CHECK_EQ(dec(ND_LINK_IPV4, &f, &p), ND_SKIP_BAD_IP_VERSION);
}

static void test_null_loop(void)
{
	/* AF values: BSD null in either byte order; loop in network order */
	static const struct {
		enum nd_link link;
		uint8_t af[4];
		int ver; /* 0: not IP */
	} cases[] = {
		{ ND_LINK_NULL, { 2, 0, 0, 0 }, 4 },
		{ ND_LINK_NULL, { 0, 0, 0, 2 }, 4 },
		{ ND_LINK_NULL, { 24, 0, 0, 0 }, 6 },
		{ ND_LINK_NULL, { 0, 0, 0, 28 }, 6 },
		{ ND_LINK_NULL, { 30, 0, 0, 0 }, 6 },
		{ ND_LINK_NULL, { 0, 0, 0, 30 }, 6 },
		{ ND_LINK_NULL, { 7, 0, 0, 0 }, 0 },
		{ ND_LINK_NULL, { 2, 0, 0, 2 }, 0 },
		{ ND_LINK_LOOP, { 0, 0, 0, 2 }, 4 },
		{ ND_LINK_LOOP, { 0, 0, 0, 24 }, 6 },
		{ ND_LINK_LOOP, { 2, 0, 0, 0 }, 0 },
	};
	struct nd_pkt p;
	struct fb f;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fb_init(&f);
		pn(&f, cases[i].af, 4);
		if (cases[i].ver == 6)
			ip6(&f, 6, 1, 2);
		else
			ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
		tcp_seg(&f, 3);
		fb_fin(&f);
		if (cases[i].ver) {
			ND_CHECK_EQ(dec(cases[i].link, &f, &p), ND_SKIP_NONE);
			ND_CHECK_EQ(p.ip_version, cases[i].ver);
			ND_CHECK_EQ(p.payload_len, 3);
			ND_CHECK_EQ(p.l4_off, cases[i].ver == 6 ? 44 : 24);
		} else {
			ND_CHECK_EQ(dec(cases[i].link, &f, &p), ND_SKIP_NOT_IP);
		}
		ND_CHECK_EQ(dec_cw(cases[i].link, &f, 3, f.n, &p), ND_SKIP_TRUNC_LINK);
	}
}

static void test_ppp(void)
{
	static const struct {
		uint8_t hdr[4];
		uint32_t hlen;
		int ver; /* 0: not IP */
	} cases[] = {
		{ { 0xff, 0x03, 0x00, 0x21 }, 4, 4 },
		{ { 0xff, 0x03, 0x00, 0x57 }, 4, 6 },
		{ { 0x00, 0x21 }, 2, 4 },          /* no address/control */
		{ { 0x21 }, 1, 4 },                /* protocol field compressed */
		{ { 0xff, 0x03, 0x57 }, 3, 6 },
		{ { 0x0f, 0x00, 0x08, 0x00 }, 4, 4 }, /* Cisco HDLC framing */
		{ { 0xff, 0x03, 0xc0, 0x21 }, 4, 0 }, /* LCP */
	};
	struct nd_pkt p;
	struct fb f;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fb_init(&f);
		pn(&f, cases[i].hdr, cases[i].hlen);
		if (cases[i].ver == 6)
			ip6(&f, 6, 1, 2);
		else
			ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
		tcp_seg(&f, 3);
		fb_fin(&f);
		if (cases[i].ver) {
			ND_CHECK_EQ(dec(ND_LINK_PPP, &f, &p), ND_SKIP_NONE);
			ND_CHECK_EQ(p.ip_version, cases[i].ver);
			ND_CHECK_EQ(p.l4_off, cases[i].hlen + (cases[i].ver == 6 ? 40u : 20u));
			ND_CHECK_EQ(p.payload_len, 3);
		} else {
			ND_CHECK_EQ(dec(ND_LINK_PPP, &f, &p), ND_SKIP_NOT_IP);
		}
	}
	fb_init(&f);
	p8(&f, 0xff);
	ND_CHECK_EQ(dec(ND_LINK_PPP, &f, &p), ND_SKIP_TRUNC_LINK);
	p8(&f, 0x03);
	ND_CHECK_EQ(dec(ND_LINK_PPP, &f, &p), ND_SKIP_TRUNC_LINK);
	p8(&f, 0x00);
	ND_CHECK_EQ(dec(ND_LINK_PPP, &f, &p), ND_SKIP_TRUNC_LINK);
	p8(&f, 0x21);
	ND_CHECK_EQ(dec(ND_LINK_PPP, &f, &p), ND_SKIP_TRUNC_IP);
}

static void test_chdlc(void)
{
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	p8(&f, 0x8f);
	p8(&f, 0);
	p16(&f, 0x86dd);
	ip6(&f, 6, 1, 2);
	tcp_seg(&f, 11);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_CHDLC, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.ip_version, 6);
	ND_CHECK_EQ(p.l4_off, 44);
	ND_CHECK_EQ(p.payload_len, 11);
	set16(&f, 2, 0x0800);
	ND_CHECK_EQ(dec(ND_LINK_CHDLC, &f, &p), ND_SKIP_BAD_IP_VERSION);
	set16(&f, 2, 0x8035); /* SLARP */
	ND_CHECK_EQ(dec(ND_LINK_CHDLC, &f, &p), ND_SKIP_NOT_IP);
	ND_CHECK_EQ(dec_cw(ND_LINK_CHDLC, &f, 3, f.n, &p), ND_SKIP_TRUNC_LINK);
}

static void test_caplen_zero(void)
{
	static const struct {
		enum nd_link link;
		enum nd_skip want;
	} cases[] = {
		{ ND_LINK_UNSUPPORTED, ND_SKIP_UNSUPPORTED_LINK },
		{ ND_LINK_ETHERNET, ND_SKIP_TRUNC_LINK },
		{ ND_LINK_SLL, ND_SKIP_TRUNC_LINK },
		{ ND_LINK_SLL2, ND_SKIP_TRUNC_LINK },
		{ ND_LINK_RAW, ND_SKIP_TRUNC_IP },
		{ ND_LINK_IPV4, ND_SKIP_TRUNC_IP },
		{ ND_LINK_IPV6, ND_SKIP_TRUNC_IP },
		{ ND_LINK_NULL, ND_SKIP_TRUNC_LINK },
		{ ND_LINK_LOOP, ND_SKIP_TRUNC_LINK },
		{ ND_LINK_PPP, ND_SKIP_TRUNC_LINK },
		{ ND_LINK_CHDLC, ND_SKIP_TRUNC_LINK },
		{ (enum nd_link)99, ND_SKIP_UNSUPPORTED_LINK },
	};
	struct nd_pkt p;
	struct fb f;

	build_v4tcp(&f, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ND_CHECK_EQ(dec_cw(cases[i].link, &f, 0, 1500, &p), cases[i].want);
		ND_CHECK_EQ(nd_decode(cases[i].link, NULL, 0, 0, &p), cases[i].want);
		ND_CHECK_EQ(p.vlan_depth, 0);
		ND_CHECK_EQ(p.encap_depth, 0);
		ND_CHECK_EQ(p.tunnel, ND_TUN_NONE);
	}
}

/* ---- IPv4 -------------------------------------------------------------- */

static void test_ipv4_options(void)
{
	/* Record Route (7, len 11, ptr 4, two addresses) + EOL */
	static const uint8_t rr[12] = { 7, 11, 4, 1, 2, 3, 4, 5, 6, 7, 8, 0 };
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0x0800);
	ip4o(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2), rr, sizeof(rr));
	tcp_seg(&f, 20);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	check_v4tcp(&p, 14 + 32, 20);
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, 14 + 31, f.n, &p), ND_SKIP_TRUNC_IP);
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, 14 + 32, f.n, &p), ND_SKIP_TRUNC_TCP);
}

static void test_ipv4_fragments(void)
{
	struct nd_pkt p;
	struct fb f;

	/* first fragment: MF, offset 0 -> decoded, payload = this fragment's */
	build_v4tcp(&f, 200);
	set16(&f, 14 + 6, 0x2000);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	check_v4tcp(&p, 34, 200);

	/* non-first fragment (offset 185*8), MF clear -> FRAGMENT, addresses filled */
	set16(&f, 14 + 6, 185);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_FRAGMENT);
	ND_CHECK_EQ(p.ip_version, 4);
	ND_CHECK_EQ(p.l4, 6);
	ND_CHECK(v4eq(p.src, A4(10, 0, 0, 1)));
	ND_CHECK(v4eq(p.dst, A4(10, 0, 0, 2)));
	ND_CHECK(!nd_skip_is_error(ND_SKIP_FRAGMENT));

	/* middle fragment: MF and offset */
	set16(&f, 14 + 6, 0x2000 | 1);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_FRAGMENT);

	/* tiny first fragment holding 8 bytes of TCP header: FRAGMENT, not
	 * TRUNC_TCP / BAD_TCP_HLEN */
	fb_init(&f);
	eth(&f, 0x0800);
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	pz(&f, 8);
	fb_fin(&f);
	set16(&f, 14 + 6, 0x2000);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_FRAGMENT);
	/* same packet without MF: the TCP header is cut by caplen */
	set16(&f, 14 + 6, 0);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_TRUNC_TCP);
}

static void test_ipv4_tso(void)
{
	struct nd_pkt p;
	struct fb f;

	/* total length 0 (TSO capture): payload from wirelen */
	build_v4tcp(&f, 3000);
	set16(&f, 14 + 2, 0);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 3000);
	ND_CHECK(!p.frame_truncated);
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, 100, f.n, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 3000);
	ND_CHECK(p.frame_truncated);
	/* wirelen smaller than caplen is treated as caplen */
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, f.n, 0, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 3000);
	ND_CHECK(!p.frame_truncated);
}

static void test_ipv4_lies(void)
{
	struct nd_pkt p;
	struct fb f;

	/* total length > frame: min(total, wirelen - offset) */
	build_v4tcp(&f, 10);
	set16(&f, 14 + 2, 1500);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 10);
	ND_CHECK(!p.frame_truncated);
	/* ... but with a bigger wirelen (snaplen) it is believed */
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, f.n, 1514, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 1500 - 40);
	ND_CHECK(p.frame_truncated);

	/* total length < header length */
	set16(&f, 14 + 2, 19);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_IP_LEN);
	ND_CHECK(nd_skip_is_error(ND_SKIP_BAD_IP_LEN));
	/* total length < IP + TCP header: no room for the fixed TCP header */
	set16(&f, 14 + 2, 30);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_TCP_HLEN);

	/* IHL < 5 */
	build_v4tcp(&f, 10);
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		f.b[14] = (uint8_t)(0x40 | ihl);
		ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_IP_HLEN);
	}
	/* IHL 15 past the end of the frame */
	f.b[14] = 0x4f;
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, 14 + 40, f.n, &p), ND_SKIP_TRUNC_IP);
}

/* Ethernet padding: a 40-byte IPv4 packet in a 60-byte frame. */
static void test_ethernet_padding(void)
{
	struct nd_pkt p;
	struct fb f;

	build_v4tcp(&f, 0);
	pz(&f, 6); /* padding after fb_fin: not counted by the IP length */
	ND_CHECK_EQ(f.n, 60);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	check_v4tcp(&p, 34, 0);
}

/* ---- IPv6 -------------------------------------------------------------- */

static void ext(struct fb *f, unsigned nh, unsigned len8)
{
	p8(f, nh);
	p8(f, len8);
	p8(f, 1); /* PadN covering the rest */
	p8(f, 4 + len8 * 8);
	pz(f, 4 + len8 * 8);
}

static void test_ipv6_ext_headers(void)
{
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0x86dd);
	ip6(&f, 0, 1, 2);
	ext(&f, 43, 0);   /* hop-by-hop, 8 bytes */
	p8(&f, 60);       /* routing, 24 bytes: type 0, one address */
	p8(&f, 2);
	p8(&f, 0);
	p8(&f, 0);
	p32(&f, 0);
	pz(&f, 16);
	ext(&f, 44, 1);   /* destination options, 16 bytes */
	p8(&f, 6);        /* fragment: offset 0, M set (first fragment) */
	p8(&f, 0);
	p16(&f, 0x0001);
	p32(&f, 0xabcdef);
	tcp_seg(&f, 33);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.ip_version, 6);
	ND_CHECK_EQ(p.l4, 6);
	ND_CHECK_EQ(p.l4_off, 14 + 40 + 8 + 24 + 16 + 8);
	ND_CHECK_EQ(p.payload_len, 33);
	ND_CHECK_EQ(p.sport, 1000);
	ND_CHECK(v6eq(p.src, 1));

	/* every cut inside the extension headers is TRUNC_IP */
	for (uint32_t cl = 14; cl < 14 + 40 + 56; cl++)
		ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, cl, f.n, &p), ND_SKIP_TRUNC_IP);
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, 14 + 40 + 56, f.n, &p), ND_SKIP_TRUNC_TCP);

	/* non-first fragment: offset 100*8 */
	set16(&f, 14 + 40 + 8 + 24 + 16 + 2, 100 << 3);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_FRAGMENT);
	ND_CHECK_EQ(p.l4, 6);
	ND_CHECK(v6eq(p.dst, 2));
}

static void test_ipv6_ah_and_others(void)
{
	struct nd_pkt p;
	struct fb f;

	/* AH: payload length 4 -> (4 + 2) * 4 = 24 bytes */
	fb_init(&f);
	eth(&f, 0x86dd);
	ip6(&f, 51, 1, 2);
	p8(&f, 17);
	p8(&f, 4);
	p16(&f, 0);
	p32(&f, 0x100); /* SPI */
	p32(&f, 1);     /* sequence */
	pz(&f, 12);     /* ICV */
	udp(&f, 500, 4500);
	pz(&f, 10);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.l4, 17);
	ND_CHECK_EQ(p.l4_off, 14 + 40 + 24);
	ND_CHECK_EQ(p.payload_len, 10);
	ND_CHECK_EQ(p.dport, 4500);

	/* no next header */
	fb_init(&f);
	eth(&f, 0x86dd);
	ip6(&f, 60, 1, 2);
	ext(&f, 59, 0);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_OTHER_L4);

	/* ESP, ICMPv6 */
	fb_init(&f);
	eth(&f, 0x86dd);
	ip6(&f, 50, 1, 2);
	pz(&f, 32);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_OTHER_L4);
	ND_CHECK_EQ(p.l4, 50);
	f.b[14 + 6] = 58;
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_OTHER_L4);
	ND_CHECK_EQ(p.l4, 58);

	/* mobility header (135) is walked */
	fb_init(&f);
	eth(&f, 0x86dd);
	ip6(&f, 135, 1, 2);
	ext(&f, 6, 0);
	tcp_seg(&f, 1);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 1);
}

static void test_ipv6_ext_limits(void)
{
	struct nd_pkt p;
	struct fb f;

	for (unsigned n = ND_MAX_IP6_EXT; n <= ND_MAX_IP6_EXT + 1; n++) {
		fb_init(&f);
		eth(&f, 0x86dd);
		ip6(&f, 60, 1, 2);
		for (unsigned i = 0; i < n; i++)
			ext(&f, i + 1 < n ? 60 : 6, 0);
		tcp_seg(&f, 0);
		fb_fin(&f);
		ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p),
			    n == ND_MAX_IP6_EXT ? ND_SKIP_NONE : ND_SKIP_BAD_IP_LEN);
	}

	/* extension header longer than the payload length */
	fb_init(&f);
	eth(&f, 0x86dd);
	ip6(&f, 60, 1, 2);
	ext(&f, 6, 10); /* 88 bytes */
	tcp_seg(&f, 0);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	set16(&f, 14 + 4, 20);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_IP_LEN);
	/* payload length bigger than the frame: clamped to wirelen */
	set16(&f, 14 + 4, 60000);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 0);
}

static void test_ipv6_jumbo(void)
{
	struct nd_pkt p;
	struct fb f;
	const uint32_t npay = 80000, hdrs = 14 + 40 + 8 + 32;

	/* BIG TCP: payload length 0 + hop-by-hop Jumbo Payload */
	fb_init(&f);
	eth(&f, 0x86dd);
	ip6(&f, 0, 1, 2);
	p8(&f, 6);
	p8(&f, 0);
	p8(&f, 0xc2);
	p8(&f, 4);
	p32(&f, 8 + 32 + npay);
	tcp(&f, 41851, 43913, 592820498, 2512896041u, ND_TH_ACK | ND_TH_PSH, 2128,
	    (const uint8_t[]){ 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 }, 12);
	set16(&f, 14 + 4, 0);
	ND_CHECK_EQ(f.n, hdrs);
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, f.n, hdrs + npay, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, npay);
	ND_CHECK(p.frame_truncated);
	ND_CHECK_EQ(p.l4_off, 14 + 48);
	ND_CHECK(p.opt.has_ts);
	ND_CHECK_EQ(p.opt.tsecr, 2);
	/* wire longer than the jumbo length (trailer): jumbo length wins */
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, f.n, hdrs + npay + 100, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, npay);
	/* jumbo length larger than the wire: clamped */
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, f.n, hdrs + 5, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 5);
	/* jumbo length too small for the hop-by-hop header itself */
	f.b[14 + 40 + 4] = 0; f.b[14 + 40 + 5] = 0; f.b[14 + 40 + 6] = 0; f.b[14 + 40 + 7] = 4;
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, f.n, hdrs + npay, &p), ND_SKIP_BAD_IP_LEN);

	/* payload length 0, hop-by-hop without a jumbo option: wirelen */
	f.b[14 + 40 + 2] = 1; /* PadN instead */
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, f.n, hdrs + 1234, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 1234);
	/* payload length 0 and no hop-by-hop at all: wirelen */
	fb_init(&f);
	eth(&f, 0x86dd);
	ip6(&f, 6, 1, 2);
	tcp_seg(&f, 0);
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, f.n, f.n + 4321, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 4321);
	ND_CHECK(p.frame_truncated);
}

/* ---- TCP --------------------------------------------------------------- */

static void test_tcp_all_options(void)
{
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0x0800);
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp(&f, 1000, 80, 1, 2, ND_TH_SYN, 29200, all_opts, sizeof(all_opts));
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 0);
	ND_CHECK_EQ(p.flags, ND_TH_SYN);
	check_all_opts(&p.opt);

	/* the same area through the public parser */
	struct nd_tcp_opts o;
	memset(&o, 0xA5, sizeof(o));
	nd_tcp_options(all_opts, sizeof(all_opts), &o);
	check_all_opts(&o);
}

static void test_tcp_flags(void)
{
	struct nd_pkt p;
	struct fb f;

	build_v4tcp(&f, 0);
	for (unsigned fl = 0; fl < 256; fl += 17) {
		f.b[34 + 13] = (uint8_t)fl;
		ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
		ND_CHECK_EQ(p.flags, fl);
	}
	f.b[34 + 13] = 0xff;
	f.b[34 + 12] |= 0x01; /* AE/NS bit in the data-offset byte: not a flag here */
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.flags, 0xff);
}

static void test_tcp_bad_hlen(void)
{
	struct nd_pkt p;
	struct fb f;

	build_v4tcp(&f, 40);
	for (unsigned doff = 0; doff < 5; doff++) {
		f.b[34 + 12] = (uint8_t)(doff << 4);
		ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_TCP_HLEN);
	}
	/* doff 15 (60 bytes): fits in the 60 bytes of IP payload, payload 0 */
	f.b[34 + 12] = 0xf0;
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 0);
	ND_CHECK_EQ(p.anomaly, ND_SKIP_NONE);
	/* ... but not in 59: the segment is still attributed (ports, flags,
	 * seq) with the anomaly set, no options and no payload, as tshark
	 * counts it in its stream */
	set16(&f, 14 + 2, 20 + 59);
	f.b[34 + 13] = 0x18;
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.anomaly, ND_SKIP_BAD_TCP_HLEN);
	ND_CHECK_EQ(p.payload_len, 0);
	ND_CHECK_EQ(p.flags, 0x18);
	ND_CHECK(!p.opt.has_ts && !p.opt.has_mss && p.opt.nsack == 0);
	ND_CHECK(nd_skip_is_error(ND_SKIP_BAD_TCP_HLEN));
}

static void test_tcp_options_hostile(void)
{
	struct nd_tcp_opts o;
	uint8_t nops[40];

	memset(nops, 1, sizeof(nops));
	nd_tcp_options(nops, sizeof(nops), &o);
	ND_CHECK(!o.malformed && !o.has_mss && !o.has_ts && o.unknown == 0 && o.nsack == 0);

	/* zero-length option */
	nd_tcp_options((const uint8_t[]){ 1, 0x22, 0, 2, 4, 5, 0xb4 }, 7, &o);
	ND_CHECK(o.malformed);
	ND_CHECK(!o.has_mss);
	/* length 1 */
	nd_tcp_options((const uint8_t[]){ 0x22, 1, 2, 4, 5, 0xb4 }, 6, &o);
	ND_CHECK(o.malformed);
	ND_CHECK(!o.has_mss);
	/* length 255, past the end */
	nd_tcp_options((const uint8_t[]){ 2, 4, 5, 0xb4, 8, 255, 0, 0 }, 8, &o);
	ND_CHECK(o.malformed);
	ND_CHECK(o.has_mss);
	ND_CHECK(!o.has_ts);
	/* a kind byte with no room for its length */
	nd_tcp_options((const uint8_t[]){ 1, 1, 1, 3 }, 4, &o);
	ND_CHECK(o.malformed);
	ND_CHECK(!o.has_wscale);
	/* EOL stops parsing (what follows is padding) */
	nd_tcp_options((const uint8_t[]){ 1, 0, 2, 4, 5, 0xb4 }, 6, &o);
	ND_CHECK(!o.malformed && !o.has_mss);
	/* SACK with odd length: skipped, counted, parsing goes on */
	nd_tcp_options((const uint8_t[]){ 5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 9, 3, 3, 14 }, 14, &o);
	ND_CHECK(!o.malformed);
	ND_CHECK_EQ(o.nsack, 0);
	ND_CHECK_EQ(o.unknown, 1);
	ND_CHECK(o.has_wscale);
	ND_CHECK_EQ(o.wscale, 14);
	/* SACK length 2 (no blocks) */
	nd_tcp_options((const uint8_t[]){ 5, 2, 4, 2 }, 4, &o);
	ND_CHECK_EQ(o.unknown, 1);
	ND_CHECK_EQ(o.nsack, 0);
	ND_CHECK(o.sack_perm);
	/* known kinds with the wrong length: skipped by length, counted */
	nd_tcp_options((const uint8_t[]){ 2, 3, 0, 3, 4, 0, 0, 4, 3, 0, 8, 2, 1, 1, 1 }, 15, &o);
	ND_CHECK(!o.malformed);
	ND_CHECK_EQ(o.unknown, 4);
	ND_CHECK(!o.has_mss && !o.has_wscale && !o.sack_perm && !o.has_ts);
	/* unknown kinds: MPTCP (30), TFO cookie (34), experimental (254) */
	nd_tcp_options((const uint8_t[]){ 30, 4, 0, 0, 34, 2, 254, 4, 0xf9, 0x89, 2, 4, 1, 0 }, 14, &o);
	ND_CHECK(!o.malformed);
	ND_CHECK_EQ(o.unknown, 3);
	ND_CHECK(o.has_mss);
	ND_CHECK_EQ(o.mss, 256);
	/* more SACK blocks than ND_MAX_SACK (only possible via the public call) */
	{
		uint8_t s[2 + 8 * 5];

		s[0] = 5;
		s[1] = sizeof(s);
		for (unsigned i = 0; i < 40; i++)
			s[2 + i] = (uint8_t)i;
		nd_tcp_options(s, sizeof(s), &o);
		ND_CHECK(!o.malformed);
		ND_CHECK_EQ(o.nsack, ND_MAX_SACK);
		ND_CHECK_EQ(o.sack[0][0], 0x00010203);
		ND_CHECK_EQ(o.sack[3][1], 0x1c1d1e1f);
	}
	/* empty / NULL */
	memset(&o, 0xA5, sizeof(o));
	nd_tcp_options(NULL, 0, &o);
	ND_CHECK(!o.malformed && !o.has_mss && o.unknown == 0 && o.nsack == 0 && !o.truncated);
	/* every single-byte and two-byte area: terminates, no crash */
	for (unsigned a = 0; a < 256; a++) {
		uint8_t b1[1] = { (uint8_t)a };

		nd_tcp_options(b1, 1, &o);
		ND_CHECK(o.malformed == (a > 1));
		for (unsigned l = 0; l < 256; l++) {
			uint8_t b2[2] = { (uint8_t)a, (uint8_t)l };

			nd_tcp_options(b2, 2, &o);
		}
	}
	/* unknown counter saturates */
	{
		uint8_t many[1000];

		for (unsigned i = 0; i < sizeof(many); i += 2) {
			many[i] = 99;
			many[i + 1] = 2;
		}
		nd_tcp_options(many, sizeof(many), &o);
		ND_CHECK_EQ(o.unknown, 255);
		ND_CHECK(!o.malformed);
	}
}

/* Options in a real frame: malformed options do not fail the decode. */
static void test_tcp_malformed_in_frame(void)
{
	static const uint8_t bad[8] = { 2, 4, 5, 0xb4, 8, 0, 1, 1 };
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0x0800);
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp(&f, 1, 2, 3, 4, ND_TH_SYN, 5, bad, sizeof(bad));
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK(p.opt.malformed);
	ND_CHECK(!p.opt.truncated);
	ND_CHECK(p.opt.has_mss);
	ND_CHECK_EQ(p.opt.mss, 1460);
}

/* ---- UDP --------------------------------------------------------------- */

static void test_udp_lies(void)
{
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0x0800);
	ip4(&f, 17, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	udp(&f, 1, 2);
	pz(&f, 4);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 4);
	for (unsigned ul = 0; ul < 8; ul++) {
		set16(&f, 34 + 4, ul);
		ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_UDP_LEN);
	}
	/* UDP length field larger than the IP payload: IP wins */
	set16(&f, 34 + 4, 1000);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 4);
	/* IP payload shorter than a UDP header */
	set16(&f, 34 + 4, 12);
	set16(&f, 14 + 2, 20 + 7);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_UDP_LEN);
	set16(&f, 14 + 2, 20 + 12);
	for (uint32_t cl = 34; cl < 42; cl++)
		ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, cl, f.n, &p), ND_SKIP_TRUNC_UDP);
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, 42, f.n, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 4);
	ND_CHECK(p.frame_truncated);
}

/* ---- tunnels ----------------------------------------------------------- */

/* Outer Eth (VLAN 10) / IPv4 / UDP sport 12345 -> dport, VXLAN header. */
static void vxlan_outer(struct fb *f, unsigned dport, uint8_t flags, uint32_t vni)
{
	fb_init(f);
	eth(f, 0x8100);
	vlan(f, 10, 0x0800);
	ip4(f, 17, A4(172, 16, 0, 1), A4(172, 16, 0, 2));
	udp(f, 12345, dport);
	p8(f, flags);
	p8(f, 0);
	p16(f, 0);
	p32(f, vni << 8);
}

static void test_vxlan(void)
{
	const uint32_t inner = 14 + 4 + 20 + 8 + 8;
	struct nd_pkt p;
	struct fb f;

	vxlan_outer(&f, 4789, 0x08, 0x123456);
	eth(&f, 0x8100);           /* inner VLAN: not recorded */
	vlan(&f, 20, 0x0800);
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp_seg(&f, 5);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	check_v4tcp(&p, inner + 18 + 20, 5);
	ND_CHECK_EQ(p.tunnel, ND_TUN_VXLAN);
	ND_CHECK_EQ(p.tunnel_id, 0x123456);
	ND_CHECK_EQ(p.encap_depth, 1);
	ND_CHECK_EQ(p.vlan_depth, 1);
	ND_CHECK_EQ(p.vlan_id, 10);

	/* Linux's old port */
	vxlan_outer(&f, 8472, 0x08, 0xffffff);
	eth(&f, 0x86dd);
	ip6(&f, 6, 1, 2);
	tcp_seg(&f, 0);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.tunnel_id, 0xffffff);
	ND_CHECK_EQ(p.ip_version, 6);
	ND_CHECK_EQ(p.l4_off, inner + 14 + 40);

	/* cut inside the VXLAN header */
	for (uint32_t cl = inner - 8; cl < inner; cl++)
		ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, cl, f.n, &p), ND_SKIP_TRUNC_TUNNEL);
	/* cut inside the inner Ethernet header */
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, inner + 13, f.n, &p), ND_SKIP_TRUNC_LINK);
	/* cut inside the inner IP header: the inner reason, not the outer UDP */
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, inner + 30, f.n, &p), ND_SKIP_TRUNC_IP);
}

static void test_vxlan_plain_udp(void)
{
	struct nd_pkt p;
	struct fb f;

	/* I flag clear: plain UDP to port 4789 */
	vxlan_outer(&f, 4789, 0x00, 7);
	eth(&f, 0x0800);
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp_seg(&f, 0);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.l4, 17);
	ND_CHECK_EQ(p.dport, 4789);
	ND_CHECK_EQ(p.sport, 12345);
	ND_CHECK_EQ(p.tunnel, ND_TUN_NONE);
	ND_CHECK_EQ(p.encap_depth, 0);
	ND_CHECK_EQ(p.payload_len, 8 + 14 + 20 + 20);
	ND_CHECK(v4eq(p.src, A4(172, 16, 0, 1)));

	/* UDP payload too short for a VXLAN header: plain UDP */
	fb_init(&f);
	eth(&f, 0x0800);
	ip4(&f, 17, A4(172, 16, 0, 1), A4(172, 16, 0, 2));
	udp(&f, 1, 4789);
	pz(&f, 4);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 4);
	ND_CHECK_EQ(p.tunnel, ND_TUN_NONE);

	/* VXLAN inner frame is ARP: the inner reason */
	vxlan_outer(&f, 4789, 0x08, 7);
	eth(&f, 0x0806);
	pz(&f, 28);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NOT_IP);
}

static void geneve_hdr(struct fb *f, unsigned ver, unsigned optwords, unsigned proto, uint32_t vni)
{
	p8(f, (ver << 6) | optwords);
	p8(f, 0);
	p16(f, proto);
	p32(f, vni << 8);
	for (unsigned i = 0; i < optwords; i++)
		p32(f, 0x01020300 | i);
}

static void test_geneve(void)
{
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0x86dd);
	ip6(&f, 17, 0xa, 0xb);
	udp(&f, 22155, 6081);
	geneve_hdr(&f, 0, 2, 0x6558, 0xabcdef);
	eth(&f, 0x0800);
	ip4(&f, 17, A4(192, 168, 1, 2), A4(192, 168, 1, 1));
	udp(&f, 33000, 53);
	pz(&f, 21);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.tunnel, ND_TUN_GENEVE);
	ND_CHECK_EQ(p.tunnel_id, 0xabcdef);
	ND_CHECK_EQ(p.encap_depth, 1);
	ND_CHECK_EQ(p.ip_version, 4);
	ND_CHECK_EQ(p.l4, 17);
	ND_CHECK(v4eq(p.src, A4(192, 168, 1, 2)));
	ND_CHECK_EQ(p.sport, 33000);
	ND_CHECK_EQ(p.dport, 53);
	ND_CHECK_EQ(p.payload_len, 21);
	ND_CHECK_EQ(p.l4_off, 14 + 40 + 8 + 16 + 14 + 20);
	/* cut inside the Geneve options */
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, 14 + 40 + 8 + 12, f.n, &p), ND_SKIP_TRUNC_TUNNEL);
	/* version 1 */
	f.b[14 + 40 + 8] = 0x42;
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_TUNNEL);
	/* options longer than the UDP payload */
	f.b[14 + 40 + 8] = 0x3f;
	set16(&f, 14 + 4, 8 + 8 + 20);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_TUNNEL);

	/* IP directly (protocol 0x0800), no options */
	fb_init(&f);
	eth(&f, 0x0800);
	ip4(&f, 17, A4(1, 1, 1, 1), A4(2, 2, 2, 2));
	udp(&f, 1, 6081);
	geneve_hdr(&f, 0, 0, 0x0800, 1);
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp_seg(&f, 6);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	check_v4tcp(&p, 14 + 20 + 8 + 8 + 20, 6);
	ND_CHECK_EQ(p.tunnel, ND_TUN_GENEVE);
	ND_CHECK_EQ(p.tunnel_id, 1);
}

static void test_gre(void)
{
	struct nd_pkt p;
	struct fb f;

	/* key, transparent Ethernet bridging */
	fb_init(&f);
	eth(&f, 0x0800);
	ip4(&f, 47, A4(1, 1, 1, 1), A4(2, 2, 2, 2));
	p16(&f, 0x2000);
	p16(&f, 0x6558);
	p32(&f, 0xdeadbeef);
	eth(&f, 0x0800);
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp_seg(&f, 8);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	check_v4tcp(&p, 14 + 20 + 8 + 14 + 20, 8);
	ND_CHECK_EQ(p.tunnel, ND_TUN_GRE);
	ND_CHECK_EQ(p.tunnel_id, 0xdeadbeef);
	ND_CHECK_EQ(p.encap_depth, 1);
	for (uint32_t cl = 34; cl < 42; cl++)
		ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, cl, f.n, &p), ND_SKIP_TRUNC_TUNNEL);

	/* checksum + sequence, IPv6 payload; C+K+S: key after the checksum */
	for (int withkey = 0; withkey < 2; withkey++) {
		fb_init(&f);
		eth(&f, 0x0800);
		ip4(&f, 47, A4(1, 1, 1, 1), A4(2, 2, 2, 2));
		p16(&f, withkey ? 0xb000 : 0x9000);
		p16(&f, 0x86dd);
		p32(&f, 0xcccc0000); /* checksum + reserved */
		if (withkey)
			p32(&f, 42);
		p32(&f, 7); /* sequence */
		ip6(&f, 6, 1, 2);
		tcp_seg(&f, 2);
		fb_fin(&f);
		ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
		ND_CHECK_EQ(p.tunnel, ND_TUN_GRE);
		ND_CHECK_EQ(p.tunnel_id, withkey ? 42 : 0);
		ND_CHECK_EQ(p.ip_version, 6);
		ND_CHECK_EQ(p.l4_off, 14 + 20 + (withkey ? 16u : 12u) + 40);
		ND_CHECK_EQ(p.payload_len, 2);
	}

	/* GRE carrying a VLAN-tagged frame type: walked, not recorded */
	fb_init(&f);
	eth(&f, 0x0800);
	ip4(&f, 47, A4(1, 1, 1, 1), A4(2, 2, 2, 2));
	p16(&f, 0);
	p16(&f, 0x8100);
	vlan(&f, 99, 0x0800);
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp_seg(&f, 0);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.vlan_depth, 0);
	ND_CHECK_EQ(p.tunnel_id, 0);

	/* version 1 (PPTP): OTHER_L4; routing bit / version 2: BAD_TUNNEL */
	f.b[35] = 0x01;
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_OTHER_L4);
	f.b[35] = 0x02;
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_TUNNEL);
	f.b[35] = 0;
	f.b[34] = 0x40;
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_TUNNEL);
	/* flags claim a header longer than the IP payload */
	f.b[34] = 0xb0;
	set16(&f, 14 + 2, 20 + 8);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_TUNNEL);
}

static void test_ipip(void)
{
	struct nd_pkt p;
	struct fb f;

	/* IPv4 in IPv4 */
	fb_init(&f);
	eth(&f, 0x0800);
	ip4(&f, 4, A4(1, 1, 1, 1), A4(2, 2, 2, 2));
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp_seg(&f, 52);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	check_v4tcp(&p, 54, 52);
	ND_CHECK_EQ(p.tunnel, ND_TUN_IPIP);
	ND_CHECK_EQ(p.tunnel_id, 0);
	ND_CHECK_EQ(p.encap_depth, 1);
	/* protocol 4 but the inner header is IPv6 */
	f.b[14 + 9] = 41;
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_IP_VERSION);

	/* IPv6 in IPv4 */
	fb_init(&f);
	eth(&f, 0x0800);
	ip4(&f, 41, A4(1, 1, 1, 1), A4(2, 2, 2, 2));
	ip6(&f, 6, 3, 4);
	tcp_seg(&f, 12);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.ip_version, 6);
	ND_CHECK(v6eq(p.src, 3));
	ND_CHECK(v6eq(p.dst, 4));
	ND_CHECK_EQ(p.payload_len, 12);
	ND_CHECK_EQ(p.tunnel, ND_TUN_IPIP);

	/* IPv4 in IPv6 */
	fb_init(&f);
	eth(&f, 0x86dd);
	ip6(&f, 4, 1, 2);
	ip4(&f, 17, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	udp(&f, 7, 9);
	fb_fin(&f);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.ip_version, 4);
	ND_CHECK_EQ(p.l4, 17);
	ND_CHECK_EQ(p.dport, 9);
	ND_CHECK_EQ(p.tunnel, ND_TUN_IPIP);

	/* inner IPv4 claims more than the outer packet holds: clamped */
	fb_init(&f);
	eth(&f, 0x0800);
	ip4(&f, 4, A4(1, 1, 1, 1), A4(2, 2, 2, 2));
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp_seg(&f, 10);
	fb_fin(&f);
	set16(&f, 34 + 2, 1400);
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, f.n, 2000, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 10);
	/* outer total length ends before the inner header does */
	set16(&f, 14 + 2, 20 + 10);
	ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_BAD_IP_LEN);
}

static void test_nesting_limit(void)
{
	struct nd_pkt p;
	struct fb f;

	/* n IPv4-in-IPv4 layers around a TCP segment */
	for (unsigned n = 1; n <= ND_MAX_ENCAP + 2; n++) {
		fb_init(&f);
		eth(&f, 0x0800);
		for (unsigned i = 0; i < n; i++)
			ip4(&f, 4, A4(1, 1, 1, i), A4(2, 2, 2, i));
		ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
		tcp_seg(&f, 1);
		fb_fin(&f);
		if (n <= ND_MAX_ENCAP) {
			ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
			ND_CHECK_EQ(p.encap_depth, n);
			check_v4tcp(&p, 14 + 20 * (n + 1), 1);
		} else {
			ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_TOO_DEEP);
		}
	}

	/* VXLAN > GRE > IPv6-in-IPv4 > Geneve: four different tunnels, the
	 * outermost one's id is kept; one more IPIP is too deep */
	for (int extra = 0; extra < 2; extra++) {
		vxlan_outer(&f, 4789, 0x08, 1111);
		eth(&f, 0x0800);
		ip4(&f, 47, A4(3, 3, 3, 3), A4(4, 4, 4, 4));
		p16(&f, 0x2000);
		p16(&f, 0x0800);
		p32(&f, 2222);
		ip4(&f, 41, A4(5, 5, 5, 5), A4(6, 6, 6, 6));
		ip6(&f, 17, 7, 8);
		udp(&f, 9, 6081);
		geneve_hdr(&f, 0, 1, 0x0800, 3333);
		if (extra)
			ip4(&f, 4, A4(7, 7, 7, 7), A4(8, 8, 8, 8));
		ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
		tcp_seg(&f, 3);
		fb_fin(&f);
		if (!extra) {
			ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_NONE);
			ND_CHECK_EQ(p.encap_depth, 4);
			ND_CHECK_EQ(p.tunnel, ND_TUN_VXLAN);
			ND_CHECK_EQ(p.tunnel_id, 1111);
			ND_CHECK_EQ(p.vlan_id, 10);
			check_v4tcp(&p, f.n - 23, 3);
		} else {
			ND_CHECK_EQ(dec(ND_LINK_ETHERNET, &f, &p), ND_SKIP_TOO_DEEP);
			ND_CHECK(nd_skip_is_error(ND_SKIP_TOO_DEEP));
		}
	}
}

/* ---- truncation and snaplen -------------------------------------------- */

/* Every caplen from 0 to the full Eth/IPv4(+4 bytes options)/TCP(+40 bytes
 * options)/10-byte payload frame, with the full wirelen. */
static void test_truncation_every_point(void)
{
	static const uint8_t ipopt[4] = { 1, 1, 1, 0 };
	const uint32_t l4 = 14 + 24, optend = l4 + 60;
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0x0800);
	ip4o(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2), ipopt, 4);
	tcp(&f, 1000, 80, 0x01020304, 0x0a0b0c0d, ND_TH_ACK, 77, all_opts, sizeof(all_opts));
	pz(&f, 10);
	fb_fin(&f);
	ND_CHECK_EQ(f.n, optend + 10);

	for (uint32_t cl = 0; cl <= f.n; cl++) {
		enum nd_skip want = cl < 14 ? ND_SKIP_TRUNC_LINK
				    : cl < l4 ? ND_SKIP_TRUNC_IP
				    : cl < l4 + 20 ? ND_SKIP_TRUNC_TCP
						   : ND_SKIP_NONE;
		enum nd_skip got = dec_cw(ND_LINK_ETHERNET, &f, cl, f.n, &p);

		ND_CHECK_EQ(got, want);
		if (got != ND_SKIP_NONE)
			continue;
		uint32_t oc = cl - (l4 + 20); /* option bytes captured */
		ND_CHECK_EQ(p.payload_len, 10);
		ND_CHECK_EQ(p.l4_off, l4);
		ND_CHECK_EQ(p.seq, 0x01020304);
		ND_CHECK_EQ(p.window, 77);
		ND_CHECK_EQ(p.frame_truncated, cl < f.n);
		ND_CHECK_EQ(p.opt.truncated, cl < optend);
		ND_CHECK(!p.opt.malformed);
		ND_CHECK_EQ(p.opt.has_mss, oc >= 4);
		ND_CHECK_EQ(p.opt.sack_perm, oc >= 6);
		ND_CHECK_EQ(p.opt.has_ts, oc >= 16);
		ND_CHECK_EQ(p.opt.has_wscale, oc >= 20);
		ND_CHECK_EQ(p.opt.nsack, oc >= 40 ? 2 : 0);
		if (cl >= optend)
			check_all_opts(&p.opt);
	}
}

/* A 96-byte snaplen capture of a 1514-byte segment. */
static void test_snaplen_cut(void)
{
	static const uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6 };
	struct nd_pkt p;
	struct fb f;

	fb_init(&f);
	eth(&f, 0x0800);
	ip4(&f, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
	tcp(&f, 1000, 80, 1, 2, ND_TH_ACK, 3, ts, sizeof(ts));
	pz(&f, 1448);
	fb_fin(&f);
	ND_CHECK_EQ(f.n, 1514);
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, 96, 1514, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 1448);
	ND_CHECK(p.frame_truncated);
	ND_CHECK(p.opt.has_ts);
	ND_CHECK_EQ(p.opt.tsval, 5);
	ND_CHECK(!p.opt.truncated);
	ND_CHECK(!nd_skip_is_error(ND_SKIP_NONE));
	/* the same over IPv6 */
	fb_init(&f);
	eth(&f, 0x86dd);
	ip6(&f, 6, 1, 2);
	tcp(&f, 1000, 80, 1, 2, ND_TH_ACK, 3, ts, sizeof(ts));
	pz(&f, 1428);
	fb_fin(&f);
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, 96, f.n, &p), ND_SKIP_NONE);
	ND_CHECK_EQ(p.payload_len, 1428);
	ND_CHECK(p.frame_truncated);
	ND_CHECK(p.opt.has_ts);
	/* snaplen 64: options cut */
	ND_CHECK_EQ(dec_cw(ND_LINK_ETHERNET, &f, 80, f.n, &p), ND_SKIP_NONE);
	ND_CHECK(p.opt.truncated);
	ND_CHECK(!p.opt.has_ts);
	ND_CHECK(!p.opt.malformed);
}

/* Pseudo-random frames: never crash, and a decoded frame is consistent. */
static void test_random_frames(void)
{
	uint32_t s = 12345;
	struct nd_pkt p;
	struct fb f;

	build_v4tcp(&f, 64);
	for (int it = 0; it < 20000; it++) {
		struct fb g = f;
		enum nd_link l = (enum nd_link)(1 + it % 10);

		for (int k = 0; k < 4; k++) {
			s = s * 1103515245u + 12345u;
			g.b[(s >> 8) % g.n] = (uint8_t)(s >> 16);
		}
		s = s * 1103515245u + 12345u;
		uint32_t cl = (s >> 8) % (g.n + 1);
		enum nd_skip r = dec_cw(l, &g, cl, g.n, &p);

		ND_CHECK(r < ND_SKIP__COUNT);
		if (r == ND_SKIP_NONE) {
			ND_CHECK(p.l4 == 6 || p.l4 == 17);
			ND_CHECK(p.ip_version == 4 || p.ip_version == 6);
			ND_CHECK(p.l4_off + (p.l4 == 6 ? 20u : 8u) <= cl);
			ND_CHECK(p.opt.nsack <= ND_MAX_SACK);
		}
	}
}

int main(void)
{
	ND_RUN(test_link_from_dlt);
	ND_RUN(test_names);
	ND_RUN(test_addr_str);
	ND_RUN(test_eth_ipv4_tcp);
	ND_RUN(test_eth_ipv6_tcp);
	ND_RUN(test_eth_ipv4_udp);
	ND_RUN(test_not_ip);
	ND_RUN(test_llc_snap);
	ND_RUN(test_vlan);
	ND_RUN(test_qinq);
	ND_RUN(test_vlan_limit);
	ND_RUN(test_mpls);
	ND_RUN(test_pppoe);
	ND_RUN(test_sll);
	ND_RUN(test_sll2);
	ND_RUN(test_raw);
	ND_RUN(test_null_loop);
	ND_RUN(test_ppp);
	ND_RUN(test_chdlc);
	ND_RUN(test_caplen_zero);
	ND_RUN(test_ipv4_options);
	ND_RUN(test_ipv4_fragments);
	ND_RUN(test_ipv4_tso);
	ND_RUN(test_ipv4_lies);
	ND_RUN(test_ethernet_padding);
	ND_RUN(test_ipv6_ext_headers);
	ND_RUN(test_ipv6_ah_and_others);
	ND_RUN(test_ipv6_ext_limits);
	ND_RUN(test_ipv6_jumbo);
	ND_RUN(test_tcp_all_options);
	ND_RUN(test_tcp_flags);
	ND_RUN(test_tcp_bad_hlen);
	ND_RUN(test_tcp_options_hostile);
	ND_RUN(test_tcp_malformed_in_frame);
	ND_RUN(test_udp_lies);
	ND_RUN(test_vxlan);
	ND_RUN(test_vxlan_plain_udp);
	ND_RUN(test_geneve);
	ND_RUN(test_gre);
	ND_RUN(test_ipip);
	ND_RUN(test_nesting_limit);
	ND_RUN(test_truncation_every_point);
	ND_RUN(test_snaplen_cut);
	ND_RUN(test_random_frames);
	return nd_test_done();
}
