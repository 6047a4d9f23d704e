/* SPDX-License-Identifier: MIT */
/*
 * parse.h: the flow parser of `netdx drops`, shared by the eBPF program
 * (which reads the dropped skb's bytes with bpf_probe_read_kernel) and a
 * user-space unit test (which reads a crafted buffer). The includer
 * defines
 *
 *   ND_LOAD(dst, size, base, off)  copy @size bytes at offset @off of the
 *                                  packet @base into @dst; 0 or < 0
 *
 * and includes drops.h first. Offsets are bounded by @limit (the end of
 * the packet's linear data), so a parse never reads past it.
 *
 * What it understands: IPv4 (not past a non-first fragment) and IPv6
 * (the fixed header; TCP/UDP/ICMPv6 directly behind it), TCP and UDP
 * ports, and one level of VXLAN (UDP 4789 and Linux's old default 8472)
 * or Geneve (UDP 6081) with an Ethernet or IP payload. The cheap cases
 * only: anything else leaves the outer tuple as far as it got.
 */
#ifndef NETDX_BPF_PARSE_H
#define NETDX_BPF_PARSE_H

#ifndef ND_PARSE_INLINE
#define ND_PARSE_INLINE static inline __attribute__((always_inline))
#endif

#define ND_ETH_P_IP 0x0800
#define ND_ETH_P_IPV6 0x86DD
#define ND_ETH_P_TEB 0x6558     /* transparent Ethernet bridging (Geneve) */
#define ND_IPPROTO_TCP 6
#define ND_IPPROTO_UDP 17
#define ND_PORT_VXLAN 4789
#define ND_PORT_VXLAN_LINUX 8472
#define ND_PORT_GENEVE 6081

/* What a parse found: the outer flow and, in a tunnel, the inner one. */
struct nd_parsed {
	struct nd_tuple outer;
	struct nd_tuple inner;
	__u32 vni;
	__u8 tun_type;          /* enum nd_tun */
	__u8 ok;                /* outer IP header read */
	__u8 pad[2];
};

/* The flow a drop is keyed by: the inner one when a tunnel's payload was
 * parsed, else the outer one. */
ND_PARSE_INLINE const struct nd_tuple *nd_parsed_flow(const struct nd_parsed *p)
{
	return p->tun_type && p->inner.family ? &p->inner : &p->outer;
}

/*
 * Parse an IP header of @ethertype at @off. Fills @t (family, protocol,
 * addresses, ports when TCP/UDP and readable); *l4off gets the transport
 * header's offset. 0 on success (an IP header was read), -1 otherwise.
 */
ND_PARSE_INLINE int nd_parse_ip(const void *base, __u32 off, __u32 limit, __u16 ethertype,
				struct nd_tuple *t, __u32 *l4off)
{
	__u8 b[44];             /* the fixed header and, usually, the ports */
	__u32 hlen, got;
	int frag = 0;

	if (ethertype == ND_ETH_P_IP) {
		hlen = 20;
	} else if (ethertype == ND_ETH_P_IPV6) {
		hlen = 40;
	} else {
		return -1;
	}
	/* One read for header and ports where the packet is long enough. */
	got = off + hlen + 4 <= limit ? hlen + 4 : hlen;
	if (off + hlen > limit || ND_LOAD(b, got, base, off) < 0)
		return -1;
	if (hlen == 20) {
		if ((b[0] >> 4) != 4 || (b[0] & 0xf) < 5)
			return -1;
		t->family = 4;
		t->l4proto = b[9];
		__builtin_memcpy(t->saddr, &b[12], 4);
		__builtin_memcpy(t->daddr, &b[16], 4);
		*l4off = off + (__u32)(b[0] & 0xf) * 4;
		frag = ((b[6] & 0x1f) | b[7]) != 0;     /* fragment offset != 0 */
	} else {
		if ((b[0] >> 4) != 6)
			return -1;
		t->family = 6;
		t->l4proto = b[6];
		__builtin_memcpy(t->saddr, &b[8], 16);
		__builtin_memcpy(t->daddr, &b[24], 16);
		*l4off = off + 40;
	}
	if (frag || (t->l4proto != ND_IPPROTO_TCP && t->l4proto != ND_IPPROTO_UDP))
		return 0;
	if (*l4off != off + hlen || got != hlen + 4) {
		/* IPv4 options, or the first read stopped short. */
		if (*l4off + 4 > limit || ND_LOAD(&b[hlen], 4, base, *l4off) < 0)
			return 0;
	}
	t->sport = (__u16)(b[hlen] << 8 | b[hlen + 1]);
	t->dport = (__u16)(b[hlen + 2] << 8 | b[hlen + 3]);
	return 0;
}

/*
 * Parse the packet whose network header is at @nh (of @ethertype, host
 * order) in @base, up to @limit. @tunnels: also look inside VXLAN and
 * Geneve. Always fills @p (zeroed first); p->ok says whether the outer IP
 * header was read.
 */
ND_PARSE_INLINE void nd_parse_pkt(const void *base, __u32 nh, __u32 limit, __u16 ethertype,
				  int tunnels, struct nd_parsed *p)
{
	__u8 h[16];
	__u32 l4 = 0, in_off = 0, l4in = 0;
	__u16 in_type = 0;

	__builtin_memset(p, 0, sizeof(*p));
	if (nd_parse_ip(base, nh, limit, ethertype, &p->outer, &l4) < 0)
		return;
	p->ok = 1;
	if (!tunnels || p->outer.l4proto != ND_IPPROTO_UDP)
		return;
	if (p->outer.dport == ND_PORT_VXLAN || p->outer.dport == ND_PORT_VXLAN_LINUX) {
		/* 8 bytes UDP, 8 bytes VXLAN (flags, VNI), then Ethernet. */
		if (l4 + 30 > limit || ND_LOAD(h, 8, base, l4 + 8) < 0 || !(h[0] & 0x08))
			return;
		p->vni = (__u32)h[4] << 16 | (__u32)h[5] << 8 | h[6];
		p->tun_type = ND_TUN_VXLAN;
		in_off = l4 + 16 + 14;
		if (ND_LOAD(h, 2, base, l4 + 16 + 12) < 0)
			return;
		in_type = (__u16)(h[0] << 8 | h[1]);
	} else if (p->outer.dport == ND_PORT_GENEVE) {
		__u32 opt;
		__u16 proto;

		if (l4 + 16 > limit || ND_LOAD(h, 8, base, l4 + 8) < 0 || (h[0] >> 6) != 0)
			return;
		opt = (__u32)(h[0] & 0x3f) * 4;
		proto = (__u16)(h[2] << 8 | h[3]);
		p->vni = (__u32)h[4] << 16 | (__u32)h[5] << 8 | h[6];
		p->tun_type = ND_TUN_GENEVE;
		in_off = l4 + 16 + opt;
		if (proto == ND_ETH_P_TEB) {
			if (in_off + 14 > limit || ND_LOAD(h, 2, base, in_off + 12) < 0)
				return;
			in_type = (__u16)(h[0] << 8 | h[1]);
			in_off += 14;
		} else {
			in_type = proto;
		}
	} else {
		return;
	}
	nd_parse_ip(base, in_off, limit, in_type, &p->inner, &l4in);
}

#endif
