/* SPDX-License-Identifier: MIT */
/*
 * decode: one captured frame -> struct nd_pkt. See decode.h for the
 * contract.
 *
 * Every layer function reads through one cursor (cursor.h) over the whole
 * frame; c.off is the start of the layer being decoded, so offsets stored in
 * nd_pkt are frame offsets. Two different lengths are kept apart:
 *
 *   - the cursor's len is caplen: what may be read. Running out of it is a
 *     TRUNC_* skip (snaplen cut, or a frame shorter than its headers).
 *   - "wire_end" / "ip_end" are frame offsets of where the enclosing
 *     layer ends according to the headers (wirelen for the outermost
 *     frame, then each IP header's length, clamped to the enclosing end).
 *     A header that does not fit in them is a BAD_* skip (lengths that lie).
 *
 * Decisions where the brief left a choice (also in the report):
 *   - 802.3 length-field frames: LLC/SNAP with OUI 00-00-00 (RFC 1042) is
 *     followed to its ethertype; any other LLC frame is NOT_IP.
 *   - PPP (DLT 9/50) frames starting with 0x0f/0x8f are Cisco HDLC framing
 *     (as tcpdump does for DLT_PPP_SERIAL). PPP/PPPoE protocol 0x0281/0x0283
 *     is MPLS.
 *   - MPLS: after the bottom-of-stack label the version nibble picks
 *     IPv4/IPv6; anything else (pseudowires) is NOT_IP.
 *   - More than ND_MAX_VLAN tags: NOT_IP. A cut inside a VLAN tag, MPLS
 *     label, PPPoE or LLC header: TRUNC_LINK (also for a tunnel's inner
 *     Ethernet).
 *   - GRE version 1 (PPTP) is OTHER_L4 (normally compressed/encrypted PPP,
 *     not an error); other versions and the RFC 1701 routing bit are
 *     BAD_TUNNEL. GRE payloads other than 0x6558 go through the ethertype
 *     switch (IP, VLAN, MPLS, ...; unknown -> NOT_IP).
 *   - VXLAN/Geneve: a UDP payload (per the IP length) shorter than the
 *     8-byte base header, or VXLAN without the I flag, is plain UDP. Header
 *     cut by caplen: TRUNC_TUNNEL. Geneve version != 0 or options longer
 *     than the UDP payload: BAD_TUNNEL.
 *   - UDP: IP payload < 8 is BAD_UDP_LEN, as is a UDP length field < 8
 *     except 0 in an IPv6 jumbogram (RFC 2675). payload_len is the IP
 *     payload minus 8 (the UDP length field is not trusted over the IP one).
 *   - frame_truncated compares caplen with the innermost IP packet's end.
 *   - A first fragment (IPv4 MF / IPv6 M set, offset 0) is decoded like a
 *     whole packet (payload_len is this fragment's share); if the fragment
 *     is too short to hold the TCP/UDP header, that is FRAGMENT, not
 *     TRUNC_TCP/BAD_TCP_HLEN.
 *   - On a skip, the fields decoded up to that point are left filled in:
 *     ip_version, src, dst and l4 (the IP protocol / next header) are set
 *     for FRAGMENT and OTHER_L4 so callers can attribute them.
 */
#include "core/decode.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "core/cursor.h"

/* Ethertypes and protocol numbers. */
#define ET_IPV4 0x0800
#define ET_IPV6 0x86DD
#define ET_VLAN 0x8100
#define ET_QINQ 0x88A8
#define ET_QINQ_OLD 0x9100
#define ET_MPLS_UC 0x8847
#define ET_MPLS_MC 0x8848
#define ET_PPPOE_SES 0x8864
#define ET_TEB 0x6558 /* transparent Ethernet bridging */

#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057
#define PPP_MPLS_UC 0x0281
#define PPP_MPLS_MC 0x0283

#define IPP_HOPOPTS 0
#define IPP_IPIP 4
#define IPP_TCP 6
#define IPP_UDP 17
#define IPP_IPV6 41
#define IPP_ROUTING 43
#define IPP_FRAGMENT 44
#define IPP_GRE 47
#define IPP_AH 51
#define IPP_NONE 59
#define IPP_DSTOPTS 60
#define IPP_MOBILITY 135

#define UDP_VXLAN 4789
#define UDP_VXLAN_LINUX 8472
#define UDP_GENEVE 6081

struct dx {
	struct nd_cur c;   /* over the whole frame, len = caplen */
	struct nd_pkt *o;
	bool frag;         /* innermost IP packet is a first fragment (MF/M set) */
};

static enum nd_skip decode_ether(struct dx *x, uint32_t wire_end);
static enum nd_skip decode_ethertype(struct dx *x, uint16_t type, uint32_t wire_end);
static enum nd_skip decode_ip4(struct dx *x, uint32_t wire_end);
static enum nd_skip decode_ip6(struct dx *x, uint32_t wire_end);

/* end - off, or 0 when off is already past end. */
static inline uint32_t rem(uint32_t end, uint32_t off)
{
	return end > off ? end - off : 0;
}

static inline void map_v4(uint8_t dst[16], const struct nd_cur *c, uint32_t at)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memcpy(dst, prefix, sizeof(prefix));
	nd_cur_copy(c, at, dst + 12, 4);
}

/* Count one more tunnel; false when that would exceed ND_MAX_ENCAP. */
static inline bool enter_tunnel(struct nd_pkt *o, enum nd_tunnel t, uint32_t id)
{
	if (o->encap_depth >= ND_MAX_ENCAP)
		return false;
	if (o->encap_depth++ == 0) {
		o->tunnel = t;
		o->tunnel_id = id;
	}
	return true;
}

/* ---- TCP options ------------------------------------------------------ */

/*
 * Parse the option area. c holds the captured part of it (c->len <= area);
 * area is its length per the TCP data offset. An option that does not fit
 * in area is malformed; one that fits in area but not in the captured
 * bytes stops parsing with o->truncated. *o must be zeroed by the caller.
 * Every iteration advances i by at least 1 (NOP) or 2 (olen >= 2), so the
 * loop ends after at most area iterations.
 */
static void parse_tcp_opts(const struct nd_cur *c, uint32_t area, struct nd_tcp_opts *o)
{
	uint32_t cap = c->len;
	uint32_t i = 0;

	while (i < area) {
		uint8_t kind, olen;

		if (i >= cap) {
			o->truncated = true;
			return;
		}
		kind = nd_cur_u8(c, i);
		if (kind == 0) /* EOL */
			return;
		if (kind == 1) { /* NOP */
			i++;
			continue;
		}
		if (area - i < 2) {
			o->malformed = true;
			return;
		}
		if (cap - i < 2) {
			o->truncated = true;
			return;
		}
		olen = nd_cur_u8(c, i + 1);
		if (olen < 2 || olen > area - i) {
			o->malformed = true;
			return;
		}
		if (olen > cap - i) {
			o->truncated = true;
			return;
		}
		switch (kind) {
		case 2:
			if (olen == 4) {
				o->has_mss = true;
				o->mss = nd_cur_be16(c, i + 2);
				break;
			}
			goto unknown;
		case 3:
			if (olen == 3) {
				o->has_wscale = true;
				o->wscale = nd_cur_u8(c, i + 2);
				break;
			}
			goto unknown;
		case 4:
			if (olen == 2) {
				o->sack_perm = true;
				break;
			}
			goto unknown;
		case 5:
			if (olen >= 10 && (olen - 2) % 8 == 0) {
				uint32_t n = (uint32_t)(olen - 2) / 8, k;

				if (n > ND_MAX_SACK)
					n = ND_MAX_SACK;
				for (k = 0; k < n; k++) {
					o->sack[k][0] = nd_cur_be32(c, i + 2 + 8 * k);
					o->sack[k][1] = nd_cur_be32(c, i + 6 + 8 * k);
				}
				o->nsack = (uint8_t)n;
				break;
			}
			goto unknown;
		case 8:
			if (olen == 10) {
				o->has_ts = true;
				o->tsval = nd_cur_be32(c, i + 2);
				o->tsecr = nd_cur_be32(c, i + 6);
				break;
			}
			goto unknown;
		default:
		unknown:
			if (o->unknown < UINT8_MAX)
				o->unknown++;
			break;
		}
		i += olen;
	}
}

void nd_tcp_options(const uint8_t *p, size_t len, struct nd_tcp_opts *o)
{
	struct nd_cur c;
	uint32_t n = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;

	memset(o, 0, sizeof(*o));
	nd_cur_init(&c, p, n);
	parse_tcp_opts(&c, c.len, o);
}

/* ---- L4 ---------------------------------------------------------------- */

static enum nd_skip decode_tcp(struct dx *x, uint32_t ip_end)
{
	struct nd_cur *c = &x->c;
	struct nd_pkt *o = x->o;
	uint32_t hl, ip_pay;

	o->l4 = IPP_TCP;
	o->l4_off = c->off;
	ip_pay = rem(ip_end, c->off);
	/* A first fragment too short for the header is a fragment, not a
	 * lie: the rest of the header is in the next fragment. */
	if (x->frag && ip_pay < 20)
		return ND_SKIP_FRAGMENT;
	if (!nd_cur_has(c, 20))
		return ND_SKIP_TRUNC_TCP;
	if (ip_pay < 20)
		return ND_SKIP_BAD_TCP_HLEN;    /* the IP length leaves no room for a TCP header */
	hl = (uint32_t)(nd_cur_u8(c, 12) >> 4) * 4;
	if (hl < 20)
		return ND_SKIP_BAD_TCP_HLEN;
	if (hl > ip_pay) {
		if (x->frag)
			return ND_SKIP_FRAGMENT;
		/* The header lies about its length, but the fixed 20 bytes
		 * are there: attribute the segment, read nothing past them. */
		o->anomaly = ND_SKIP_BAD_TCP_HLEN;
		hl = ip_pay;
	}
	o->sport = nd_cur_be16(c, 0);
	o->dport = nd_cur_be16(c, 2);
	o->seq = nd_cur_be32(c, 4);
	o->ack = nd_cur_be32(c, 8);
	o->flags = nd_cur_u8(c, 13);
	o->window = nd_cur_be16(c, 14);
	o->payload_len = ip_pay - hl;
	o->frame_truncated = c->len < ip_end;
	if (o->anomaly)
		return ND_SKIP_NONE;
	if (hl == 32 && nd_cur_has(c, 32) && nd_cur_be32(c, 20) == 0x0101080a) {
		/* Fast path for the layout Linux and the BSDs put on nearly
		 * every segment after the handshake: NOP, NOP, timestamps. */
		o->opt.has_ts = true;
		o->opt.tsval = nd_cur_be32(c, 24);
		o->opt.tsecr = nd_cur_be32(c, 28);
	} else if (hl > 20) {
		struct nd_cur oc = nd_cur_sub(c, 20, hl - 20);

		parse_tcp_opts(&oc, hl - 20, &o->opt);
	}
	return ND_SKIP_NONE;
}

static enum nd_skip decode_udp(struct dx *x, uint32_t ip_end)
{
	struct nd_cur *c = &x->c;
	struct nd_pkt *o = x->o;
	uint32_t ip_pay, ulen;
	uint16_t dport;

	o->l4 = IPP_UDP;
	o->l4_off = c->off;
	ip_pay = rem(ip_end, c->off);
	if (x->frag && ip_pay < 8)
		return ND_SKIP_FRAGMENT;
	if (!nd_cur_has(c, 8))
		return ND_SKIP_TRUNC_UDP;
	ulen = nd_cur_be16(c, 4);
	if (ip_pay < 8 || (ulen < 8 && !(ulen == 0 && ip_pay > 0xffff)))
		return ND_SKIP_BAD_UDP_LEN;
	dport = nd_cur_be16(c, 2);

	if (dport == UDP_VXLAN || dport == UDP_VXLAN_LINUX) {
		if (ip_pay - 8 >= 8) {
			if (!nd_cur_has(c, 16))
				return ND_SKIP_TRUNC_TUNNEL;
			if (nd_cur_u8(c, 8) & 0x08) { /* I flag: VNI valid */
				if (!enter_tunnel(o, ND_TUN_VXLAN, nd_cur_be24(c, 12)))
					return ND_SKIP_TOO_DEEP;
				c->off += 16;
				return decode_ether(x, ip_end);
			}
		}
	} else if (dport == UDP_GENEVE) {
		if (ip_pay - 8 >= 8) {
			uint8_t b0;
			uint32_t ghl;
			uint16_t proto;

			if (!nd_cur_has(c, 16))
				return ND_SKIP_TRUNC_TUNNEL;
			b0 = nd_cur_u8(c, 8);
			if (b0 >> 6)
				return ND_SKIP_BAD_TUNNEL;
			ghl = 8 + (uint32_t)(b0 & 0x3f) * 4;
			if (ghl > ip_pay - 8)
				return ND_SKIP_BAD_TUNNEL;
			if (!nd_cur_has(c, 8 + ghl))
				return ND_SKIP_TRUNC_TUNNEL;
			proto = nd_cur_be16(c, 10);
			if (!enter_tunnel(o, ND_TUN_GENEVE, nd_cur_be24(c, 12)))
				return ND_SKIP_TOO_DEEP;
			c->off += 8 + ghl;
			if (proto == ET_TEB)
				return decode_ether(x, ip_end);
			return decode_ethertype(x, proto, ip_end);
		}
	}

	o->sport = nd_cur_be16(c, 0);
	o->dport = dport;
	o->payload_len = ip_pay - 8;
	o->frame_truncated = c->len < ip_end;
	o->flags = 0;
	o->window = 0;
	o->seq = 0;
	o->ack = 0;
	return ND_SKIP_NONE;
}

static enum nd_skip decode_gre(struct dx *x, uint32_t ip_end)
{
	struct nd_cur *c = &x->c;
	uint32_t pay = rem(ip_end, c->off);
	uint32_t hl = 4, key = 0;
	uint8_t f, ver;
	uint16_t proto;

	if (pay < 4)
		return ND_SKIP_BAD_TUNNEL;
	if (!nd_cur_has(c, 4))
		return ND_SKIP_TRUNC_TUNNEL;
	f = nd_cur_u8(c, 0);
	ver = nd_cur_u8(c, 1) & 0x07;
	if (ver == 1)
		return ND_SKIP_OTHER_L4; /* PPTP enhanced GRE */
	if (ver != 0 || (f & 0x40))
		return ND_SKIP_BAD_TUNNEL;
	if (f & 0x80) /* C: checksum + reserved1 */
		hl += 4;
	if (f & 0x20) /* K: key */
		hl += 4;
	if (f & 0x10) /* S: sequence number */
		hl += 4;
	if (hl > pay)
		return ND_SKIP_BAD_TUNNEL;
	if (!nd_cur_has(c, hl))
		return ND_SKIP_TRUNC_TUNNEL;
	proto = nd_cur_be16(c, 2);
	if (f & 0x20)
		key = nd_cur_be32(c, (f & 0x80) ? 8 : 4);
	if (!enter_tunnel(x->o, ND_TUN_GRE, key))
		return ND_SKIP_TOO_DEEP;
	c->off += hl;
	if (proto == ET_TEB)
		return decode_ether(x, ip_end);
	return decode_ethertype(x, proto, ip_end);
}

static inline enum nd_skip decode_l4(struct dx *x, uint8_t proto, uint32_t ip_end)
{
	switch (proto) {
	case IPP_TCP:
		return decode_tcp(x, ip_end);
	case IPP_UDP:
		return decode_udp(x, ip_end);
	case IPP_IPIP:
	case IPP_IPV6:
		if (!enter_tunnel(x->o, ND_TUN_IPIP, 0))
			return ND_SKIP_TOO_DEEP;
		return proto == IPP_IPIP ? decode_ip4(x, ip_end) : decode_ip6(x, ip_end);
	case IPP_GRE:
		return decode_gre(x, ip_end);
	default:
		return ND_SKIP_OTHER_L4;
	}
}

/* ---- IP ---------------------------------------------------------------- */

static enum nd_skip decode_ip4(struct dx *x, uint32_t wire_end)
{
	struct nd_cur *c = &x->c;
	struct nd_pkt *o = x->o;
	uint32_t hl, tot, wire_rem, ip_end;
	uint16_t frag;
	uint8_t vhl, proto;

	if (!nd_cur_has(c, 1))
		return ND_SKIP_TRUNC_IP;
	vhl = nd_cur_u8(c, 0);
	if ((vhl >> 4) != 4)
		return ND_SKIP_BAD_IP_VERSION;
	if (!nd_cur_has(c, 20))
		return ND_SKIP_TRUNC_IP;
	hl = (uint32_t)(vhl & 0x0f) * 4;
	if (hl < 20)
		return ND_SKIP_BAD_IP_HLEN;
	if (!nd_cur_has(c, hl))
		return ND_SKIP_TRUNC_IP;

	wire_rem = rem(wire_end, c->off);
	tot = nd_cur_be16(c, 2);
	if (tot == 0) /* TSO/GSO: length not filled in yet */
		tot = wire_rem;
	else if (tot < hl)
		return ND_SKIP_BAD_IP_LEN;
	if (tot > wire_rem)
		tot = wire_rem;
	if (tot < hl) /* only possible inside a tunnel whose end is before us */
		return ND_SKIP_BAD_IP_LEN;

	ip_end = c->off + tot;
	proto = nd_cur_u8(c, 9);
	o->ip_version = 4;
	o->l4 = proto;
	map_v4(o->src, c, 12);
	map_v4(o->dst, c, 16);
	frag = nd_cur_be16(c, 6);
	if (frag & 0x1fff)
		return ND_SKIP_FRAGMENT;
	x->frag = (frag & 0x2000) != 0;
	c->off += hl;
	return decode_l4(x, proto, ip_end);
}

/*
 * Look for a Jumbo Payload option (RFC 2675) in a hop-by-hop header's
 * option area (c covers the area, captured). Returns true and *len if
 * found.
 */
static bool find_jumbo(const struct nd_cur *c, uint32_t *len)
{
	uint32_t i = 0, n = c->len;

	while (i < n) {
		uint8_t type = nd_cur_u8(c, i), olen;

		if (type == 0) { /* Pad1 */
			i++;
			continue;
		}
		if (n - i < 2)
			return false;
		olen = nd_cur_u8(c, i + 1);
		if (type == 0xC2 && olen == 4 && n - i >= 6) {
			*len = nd_cur_be32(c, i + 2);
			return true;
		}
		i += 2 + (uint32_t)olen;
	}
	return false;
}

static enum nd_skip decode_ip6(struct dx *x, uint32_t wire_end)
{
	struct nd_cur *c = &x->c;
	struct nd_pkt *o = x->o;
	uint32_t wire_rem, plen, ip_off, ip_end, n;
	uint16_t plen_field;
	uint8_t nh;

	if (!nd_cur_has(c, 1))
		return ND_SKIP_TRUNC_IP;
	if ((nd_cur_u8(c, 0) >> 4) != 6)
		return ND_SKIP_BAD_IP_VERSION;
	if (!nd_cur_has(c, 40))
		return ND_SKIP_TRUNC_IP;
	wire_rem = rem(wire_end, c->off);
	if (wire_rem < 40)
		return ND_SKIP_BAD_IP_LEN;

	plen_field = nd_cur_be16(c, 4);
	plen = plen_field;
	nh = nd_cur_u8(c, 6);
	o->ip_version = 6;
	o->l4 = nh;
	nd_cur_copy(c, 8, o->src, 16);
	nd_cur_copy(c, 24, o->dst, 16);
	ip_off = c->off;
	if (plen == 0 || plen > wire_rem - 40) /* 0: jumbo or GSO; see below */
		plen = wire_rem - 40;
	ip_end = ip_off + 40 + plen;
	c->off += 40;
	x->frag = false;

	for (n = 0;; n++) {
		uint32_t elen;

		switch (nh) {
		case IPP_HOPOPTS:
		case IPP_ROUTING:
		case IPP_FRAGMENT:
		case IPP_AH:
		case IPP_DSTOPTS:
		case IPP_MOBILITY:
			break;
		case IPP_NONE:
			return ND_SKIP_OTHER_L4;
		default:
			return decode_l4(x, nh, ip_end);
		}
		if (n == ND_MAX_IP6_EXT)
			return ND_SKIP_BAD_IP_LEN;
		if (!nd_cur_has(c, 2))
			return ND_SKIP_TRUNC_IP;
		if (nh == IPP_AH)
			elen = ((uint32_t)nd_cur_u8(c, 1) + 2) * 4;
		else if (nh == IPP_FRAGMENT)
			elen = 8;
		else
			elen = ((uint32_t)nd_cur_u8(c, 1) + 1) * 8;
		if (elen > rem(ip_end, c->off))
			return ND_SKIP_BAD_IP_LEN;
		if (!nd_cur_has(c, elen))
			return ND_SKIP_TRUNC_IP;

		if (nh == IPP_HOPOPTS && n == 0 && plen_field == 0) {
			/* Payload length 0: a Jumbo Payload option, if any,
			 * gives the length of everything after the fixed
			 * header (BIG TCP). Without one, wirelen stands. */
			struct nd_cur hc = nd_cur_sub(c, 2, elen - 2);
			uint32_t jlen;

			if (find_jumbo(&hc, &jlen)) {
				if (jlen > wire_rem - 40)
					jlen = wire_rem - 40;
				ip_end = ip_off + 40 + jlen;
				if (elen > rem(ip_end, c->off))
					return ND_SKIP_BAD_IP_LEN;
			}
		}
		if (nh == IPP_FRAGMENT) {
			uint16_t fo = nd_cur_be16(c, 2);

			if (fo & 0xfff8) {
				o->l4 = nd_cur_u8(c, 0);
				return ND_SKIP_FRAGMENT;
			}
			x->frag = (fo & 0x0001) != 0;
		}
		nh = nd_cur_u8(c, 0);
		o->l4 = nh;
		c->off += elen;
	}
}

/* ---- link and below-IP layers ------------------------------------------ */

/* The version nibble picks the IP decoder (raw IP, MPLS bottom of stack). */
static enum nd_skip decode_ip_any(struct dx *x, uint32_t wire_end, enum nd_skip other)
{
	uint8_t v;

	if (!nd_cur_has(&x->c, 1))
		return ND_SKIP_TRUNC_IP;
	v = nd_cur_u8(&x->c, 0) >> 4;
	if (v == 4)
		return decode_ip4(x, wire_end);
	if (v == 6)
		return decode_ip6(x, wire_end);
	return other;
}

static enum nd_skip decode_mpls(struct dx *x, uint32_t wire_end)
{
	struct nd_cur *c = &x->c;

	for (;;) {
		uint8_t bos;

		if (!nd_cur_has(c, 4))
			return ND_SKIP_TRUNC_LINK;
		bos = nd_cur_u8(c, 2) & 0x01;
		c->off += 4;
		if (bos)
			break;
	}
	return decode_ip_any(x, wire_end, ND_SKIP_NOT_IP);
}

static enum nd_skip decode_ppp_proto(struct dx *x, uint16_t proto, uint32_t wire_end)
{
	switch (proto) {
	case PPP_IPV4:
		return decode_ip4(x, wire_end);
	case PPP_IPV6:
		return decode_ip6(x, wire_end);
	case PPP_MPLS_UC:
	case PPP_MPLS_MC:
		return decode_mpls(x, wire_end);
	default:
		return ND_SKIP_NOT_IP;
	}
}

static enum nd_skip decode_ethertype(struct dx *x, uint16_t type, uint32_t wire_end)
{
	struct nd_cur *c = &x->c;
	struct nd_pkt *o = x->o;
	unsigned tags = 0;

	for (;;) {
		switch (type) {
		case ET_IPV4:
			return decode_ip4(x, wire_end);
		case ET_IPV6:
			return decode_ip6(x, wire_end);
		case ET_VLAN:
		case ET_QINQ:
		case ET_QINQ_OLD:
			if (tags == ND_MAX_VLAN)
				return ND_SKIP_NOT_IP;
			if (!nd_cur_has(c, 4))
				return ND_SKIP_TRUNC_LINK;
			if (o->encap_depth == 0) {
				if (tags == 0)
					o->vlan_id = nd_cur_be16(c, 0) & 0x0fff;
				o->vlan_depth++;
			}
			tags++;
			type = nd_cur_be16(c, 2);
			c->off += 4;
			continue;
		case ET_MPLS_UC:
		case ET_MPLS_MC:
			return decode_mpls(x, wire_end);
		case ET_PPPOE_SES:
			if (!nd_cur_has(c, 8))
				return ND_SKIP_TRUNC_LINK;
			type = nd_cur_be16(c, 6);
			c->off += 8;
			return decode_ppp_proto(x, type, wire_end);
		default:
			return ND_SKIP_NOT_IP;
		}
	}
}

static enum nd_skip decode_ether(struct dx *x, uint32_t wire_end)
{
	struct nd_cur *c = &x->c;
	uint16_t type;

	if (!nd_cur_has(c, 14))
		return ND_SKIP_TRUNC_LINK;
	type = nd_cur_be16(c, 12);
	c->off += 14;
	if (type <= 1500) { /* 802.3 length field: LLC follows */
		if (!nd_cur_has(c, 3))
			return ND_SKIP_TRUNC_LINK;
		if (nd_cur_u8(c, 0) != 0xAA || nd_cur_u8(c, 1) != 0xAA || nd_cur_u8(c, 2) != 0x03)
			return ND_SKIP_NOT_IP;
		if (!nd_cur_has(c, 8))
			return ND_SKIP_TRUNC_LINK;
		if (nd_cur_be24(c, 3) != 0) /* not RFC 1042 encapsulated ethertype */
			return ND_SKIP_NOT_IP;
		type = nd_cur_be16(c, 6);
		c->off += 8;
	}
	return decode_ethertype(x, type, wire_end);
}

static enum nd_skip decode_chdlc(struct dx *x, uint32_t wire_end)
{
	uint16_t type;

	if (!nd_cur_has(&x->c, 4))
		return ND_SKIP_TRUNC_LINK;
	type = nd_cur_be16(&x->c, 2);
	x->c.off += 4;
	return decode_ethertype(x, type, wire_end);
}

static enum nd_skip decode_ppp(struct dx *x, uint32_t wire_end)
{
	struct nd_cur *c = &x->c;
	uint8_t b0;
	uint16_t proto;

	if (!nd_cur_has(c, 1))
		return ND_SKIP_TRUNC_LINK;
	b0 = nd_cur_u8(c, 0);
	if (b0 == 0x0f || b0 == 0x8f) /* Cisco HDLC framing on a PPP link */
		return decode_chdlc(x, wire_end);
	if (b0 == 0xff) { /* address/control */
		if (!nd_cur_has(c, 2))
			return ND_SKIP_TRUNC_LINK;
		if (nd_cur_u8(c, 1) == 0x03)
			c->off += 2;
	}
	if (!nd_cur_has(c, 1))
		return ND_SKIP_TRUNC_LINK;
	if (nd_cur_u8(c, 0) & 0x01) { /* protocol field compressed to 1 byte */
		proto = nd_cur_u8(c, 0);
		c->off += 1;
	} else {
		if (!nd_cur_has(c, 2))
			return ND_SKIP_TRUNC_LINK;
		proto = nd_cur_be16(c, 0);
		c->off += 2;
	}
	return decode_ppp_proto(x, proto, wire_end);
}

static inline enum nd_skip decode_af(struct dx *x, uint32_t af, uint32_t wire_end)
{
	switch (af) {
	case 2:
		return decode_ip4(x, wire_end);
	case 24:
	case 28:
	case 30:
		return decode_ip6(x, wire_end);
	default:
		return ND_SKIP_NOT_IP;
	}
}

static enum nd_skip decode_null(struct dx *x, uint32_t wire_end)
{
	uint32_t af;

	if (!nd_cur_has(&x->c, 4))
		return ND_SKIP_TRUNC_LINK;
	/* Host order of the capturing machine: whichever half is zero
	 * tells the order (AF values are < 65536). */
	af = nd_cur_be32(&x->c, 0);
	if (af > 0xffff)
		af = nd_cur_le32(&x->c, 0);
	x->c.off += 4;
	return decode_af(x, af, wire_end);
}

/* ---- entry points ------------------------------------------------------ */

enum nd_skip nd_decode(enum nd_link link, const uint8_t *data, uint32_t caplen,
		       uint32_t wirelen, struct nd_pkt *out)
{
	struct dx x;
	uint32_t af;
	uint16_t type;

	nd_cur_init(&x.c, data, caplen);
	x.o = out;
	x.frag = false;
	if (wirelen < x.c.len)
		wirelen = x.c.len;

	out->ip_version = 0;
	out->l4 = 0;
	out->vlan_depth = 0;
	out->encap_depth = 0;
	out->tunnel = ND_TUN_NONE;
	out->tunnel_id = 0;
	out->vlan_id = 0;
	out->frame_truncated = false;
	out->anomaly = ND_SKIP_NONE;
	memset(&out->opt, 0, sizeof(out->opt));

	switch (link) {
	case ND_LINK_ETHERNET:
		return decode_ether(&x, wirelen);
	case ND_LINK_SLL:
		if (!nd_cur_has(&x.c, 16))
			return ND_SKIP_TRUNC_LINK;
		type = nd_cur_be16(&x.c, 14);
		x.c.off = 16;
		return decode_ethertype(&x, type, wirelen);
	case ND_LINK_SLL2:
		if (!nd_cur_has(&x.c, 20))
			return ND_SKIP_TRUNC_LINK;
		type = nd_cur_be16(&x.c, 0);
		x.c.off = 20;
		return decode_ethertype(&x, type, wirelen);
	case ND_LINK_RAW:
		return decode_ip_any(&x, wirelen, ND_SKIP_BAD_IP_VERSION);
	case ND_LINK_IPV4:
		return decode_ip4(&x, wirelen);
	case ND_LINK_IPV6:
		return decode_ip6(&x, wirelen);
	case ND_LINK_NULL:
		return decode_null(&x, wirelen);
	case ND_LINK_LOOP:
		if (!nd_cur_has(&x.c, 4))
			return ND_SKIP_TRUNC_LINK;
		af = nd_cur_be32(&x.c, 0);
		x.c.off = 4;
		return decode_af(&x, af, wirelen);
	case ND_LINK_PPP:
		return decode_ppp(&x, wirelen);
	case ND_LINK_CHDLC:
		return decode_chdlc(&x, wirelen);
	case ND_LINK_UNSUPPORTED:
	default:
		return ND_SKIP_UNSUPPORTED_LINK;
	}
}

enum nd_link nd_link_from_dlt(int dlt)
{
	switch (dlt) {
	case 1:
		return ND_LINK_ETHERNET;
	case 113:
		return ND_LINK_SLL;
	case 276:
		return ND_LINK_SLL2;
	case 12:
	case 14:
	case 101:
		return ND_LINK_RAW;
	case 228:
		return ND_LINK_IPV4;
	case 229:
		return ND_LINK_IPV6;
	case 0:
		return ND_LINK_NULL;
	case 108:
		return ND_LINK_LOOP;
	case 9:
	case 50:
		return ND_LINK_PPP;
	case 104:
		return ND_LINK_CHDLC;
	default:
		return ND_LINK_UNSUPPORTED;
	}
}

const char *nd_link_name(enum nd_link link)
{
	switch (link) {
	case ND_LINK_ETHERNET: return "ethernet";
	case ND_LINK_SLL: return "linux-sll";
	case ND_LINK_SLL2: return "linux-sll2";
	case ND_LINK_RAW: return "raw";
	case ND_LINK_IPV4: return "ipv4";
	case ND_LINK_IPV6: return "ipv6";
	case ND_LINK_NULL: return "null";
	case ND_LINK_LOOP: return "loop";
	case ND_LINK_PPP: return "ppp";
	case ND_LINK_CHDLC: return "chdlc";
	case ND_LINK_UNSUPPORTED:
	default: return "unsupported";
	}
}

const char *nd_skip_name(enum nd_skip reason)
{
	switch (reason) {
	case ND_SKIP_NONE: return "none";
	case ND_SKIP_UNSUPPORTED_LINK: return "unsupported_link";
	case ND_SKIP_TRUNC_LINK: return "trunc_link";
	case ND_SKIP_NOT_IP: return "not_ip";
	case ND_SKIP_TRUNC_IP: return "trunc_ip";
	case ND_SKIP_BAD_IP_VERSION: return "bad_ip_version";
	case ND_SKIP_BAD_IP_HLEN: return "bad_ip_hlen";
	case ND_SKIP_BAD_IP_LEN: return "bad_ip_len";
	case ND_SKIP_FRAGMENT: return "fragment";
	case ND_SKIP_OTHER_L4: return "other_l4";
	case ND_SKIP_TRUNC_TCP: return "trunc_tcp";
	case ND_SKIP_BAD_TCP_HLEN: return "bad_tcp_hlen";
	case ND_SKIP_TRUNC_UDP: return "trunc_udp";
	case ND_SKIP_BAD_UDP_LEN: return "bad_udp_len";
	case ND_SKIP_TRUNC_TUNNEL: return "trunc_tunnel";
	case ND_SKIP_BAD_TUNNEL: return "bad_tunnel";
	case ND_SKIP_TOO_DEEP: return "too_deep";
	case ND_SKIP__COUNT:
	default: return "unknown";
	}
}

bool nd_skip_is_error(enum nd_skip reason)
{
	switch (reason) {
	case ND_SKIP_NONE:
	case ND_SKIP_NOT_IP:
	case ND_SKIP_FRAGMENT:
	case ND_SKIP_OTHER_L4:
		return false;
	default:
		return true;
	}
}

const char *nd_tunnel_name(enum nd_tunnel t)
{
	switch (t) {
	case ND_TUN_NONE: return "none";
	case ND_TUN_VXLAN: return "vxlan";
	case ND_TUN_GENEVE: return "geneve";
	case ND_TUN_GRE: return "gre";
	case ND_TUN_IPIP: return "ipip";
	default: return "unknown";
	}
}

char *nd_addr_str(const uint8_t addr[16], uint8_t ip_version, char *buf, size_t len)
{
	if (!buf || len == 0)
		return buf;
	buf[0] = '\0';
	if (len > (size_t)INT32_MAX)
		len = (size_t)INT32_MAX;
	if (!inet_ntop(ip_version == 4 ? AF_INET : AF_INET6,
		       ip_version == 4 ? addr + 12 : addr, buf, (socklen_t)len))
		buf[0] = '\0';
	return buf;
}
