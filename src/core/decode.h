/* SPDX-License-Identifier: MIT */
/*
 * decode: turn one captured frame into the fields netdx analyses.
 *
 * Pure functions: no I/O, no allocation, no globals. Every read goes through
 * the bounds-checked cursor in cursor.h and never touches a byte at or past
 * caplen. A frame that cannot be decoded yields a skip reason (enum
 * nd_skip), never a crash.
 *
 * Layers handled: link types Ethernet, Linux cooked v1/v2, raw IPv4/IPv6,
 * BSD null/loopback, PPP, Cisco HDLC; 802.1Q/802.1ad (QinQ, any depth up to
 * ND_MAX_VLAN counted), MPLS label stacks, PPPoE session; IPv4 with options
 * and fragments; IPv6 with extension headers (hop-by-hop incl. jumbo
 * payload, routing, destination options, fragment, AH); TCP with all
 * options; UDP; and the overlays VXLAN (UDP 4789, 8472), Geneve (UDP 6081),
 * GRE (with key, sequence, checksum; IP and transparent Ethernet payloads)
 * and IP-in-IP / IPv6-in-IPv4 / IP-in-IPv6. For tunnels the innermost
 * TCP/UDP header is analysed and the outermost tunnel's id (VNI, GRE key)
 * is kept.
 */
#ifndef NETDX_CORE_DECODE_H
#define NETDX_CORE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Link types netdx decodes. Values are netdx's own; nd_link_from_dlt()
 * maps libpcap's DLT_ numbers onto them. */
enum nd_link {
	ND_LINK_UNSUPPORTED = 0,
	ND_LINK_ETHERNET,   /* DLT_EN10MB (1) */
	ND_LINK_SLL,        /* DLT_LINUX_SLL (113) */
	ND_LINK_SLL2,       /* DLT_LINUX_SLL2 (276) */
	ND_LINK_RAW,        /* DLT_RAW (12 on Linux, 14 on OpenBSD), LINKTYPE_RAW (101): IPv4 or IPv6 by version nibble */
	ND_LINK_IPV4,       /* DLT_IPV4 (228) */
	ND_LINK_IPV6,       /* DLT_IPV6 (229) */
	ND_LINK_NULL,       /* DLT_NULL (0): 4-byte AF in host byte order of the capturing machine (either order accepted) */
	ND_LINK_LOOP,       /* DLT_LOOP (108): 4-byte AF in network byte order */
	ND_LINK_PPP,        /* DLT_PPP (9), DLT_PPP_SERIAL (50) */
	ND_LINK_CHDLC,      /* DLT_C_HDLC (104) */
};

/* Map a libpcap DLT_ value to enum nd_link; ND_LINK_UNSUPPORTED if unknown. */
enum nd_link nd_link_from_dlt(int dlt);

/* Short lower-case name of a link type ("ethernet", "linux-sll", ...). */
const char *nd_link_name(enum nd_link link);

/* Why a frame was not analysed as TCP/UDP. ND_SKIP_NONE means decoded. */
enum nd_skip {
	ND_SKIP_NONE = 0,
	ND_SKIP_UNSUPPORTED_LINK,   /* link type the decoder does not know */
	ND_SKIP_TRUNC_LINK,         /* frame shorter than its link header */
	ND_SKIP_NOT_IP,             /* ARP, LLDP, IPX, ... (not an error) */
	ND_SKIP_TRUNC_IP,           /* caplen ends inside an IPv4/IPv6 header or its extension headers */
	ND_SKIP_BAD_IP_VERSION,     /* version nibble does not match the ethertype / link */
	ND_SKIP_BAD_IP_HLEN,        /* IPv4 IHL < 5 */
	ND_SKIP_BAD_IP_LEN,         /* IPv4 total length < header length; IPv6 extension header past payload */
	ND_SKIP_FRAGMENT,           /* non-first IP fragment (counted, not parsed) */
	ND_SKIP_OTHER_L4,           /* ICMP, SCTP, ESP, ... (not an error) */
	ND_SKIP_TRUNC_TCP,          /* caplen ends inside the 20-byte TCP header */
	ND_SKIP_BAD_TCP_HLEN,       /* TCP data offset < 5, or beyond the IP payload */
	ND_SKIP_TRUNC_UDP,          /* caplen ends inside the 8-byte UDP header */
	ND_SKIP_BAD_UDP_LEN,        /* UDP length < 8 */
	ND_SKIP_TRUNC_TUNNEL,       /* caplen ends inside a VXLAN/Geneve/GRE header */
	ND_SKIP_BAD_TUNNEL,         /* tunnel header with unsupported version / flags */
	ND_SKIP_TOO_DEEP,           /* more than ND_MAX_ENCAP nested encapsulations */
	ND_SKIP__COUNT
};

/* Stable snake_case name of a skip reason, for reports ("trunc_ip", ...). */
const char *nd_skip_name(enum nd_skip reason);

/* Was this skip caused by a malformed or truncated frame (as opposed to
 * traffic netdx does not analyse, such as ARP or ICMP)? */
bool nd_skip_is_error(enum nd_skip reason);

enum nd_tunnel {
	ND_TUN_NONE = 0,
	ND_TUN_VXLAN,
	ND_TUN_GENEVE,
	ND_TUN_GRE,
	ND_TUN_IPIP,      /* IPv4/IPv6 inside IPv4/IPv6 (protocols 4 and 41) */
};

const char *nd_tunnel_name(enum nd_tunnel t);

#define ND_MAX_ENCAP 4     /* nested tunnels decoded before ND_SKIP_TOO_DEEP */
#define ND_MAX_VLAN 8      /* VLAN tags walked before the frame is skipped as TRUNC/NOT_IP */
#define ND_MAX_IP6_EXT 16  /* IPv6 extension headers walked before ND_SKIP_BAD_IP_LEN */
#define ND_MAX_SACK 4

/* TCP options, as found on one segment. */
struct nd_tcp_opts {
	bool has_mss, has_wscale, sack_perm, has_ts;
	bool malformed;        /* an option's length ran past the header or was < 2; parsing stopped there */
	bool truncated;        /* nd_decode only: caplen ended inside the option area (snaplen); the
	                        * options wholly captured before the cut are filled in, parsing stopped
	                        * at the first one not captured, malformed stays false. Absent options
	                        * are then "not seen", not "not sent". */
	uint8_t wscale;        /* shift as sent (not clamped; RFC 7323 says >14 is treated as 14) */
	uint8_t nsack;         /* SACK blocks stored in sack[] (at most ND_MAX_SACK) */
	uint16_t mss;
	uint32_t tsval, tsecr;
	uint32_t sack[ND_MAX_SACK][2]; /* [i][0] = left edge, [i][1] = right edge */
	uint8_t unknown;       /* options skipped by their length (kinds netdx does not interpret) */
};

#define ND_TH_FIN 0x01
#define ND_TH_SYN 0x02
#define ND_TH_RST 0x04
#define ND_TH_PSH 0x08
#define ND_TH_ACK 0x10
#define ND_TH_URG 0x20
#define ND_TH_ECE 0x40
#define ND_TH_CWR 0x80

/* A decoded frame. Addresses are the innermost IP header's; IPv4
 * addresses are stored as IPv4-mapped IPv6 (::ffff:a.b.c.d) so one 16-byte
 * comparison serves both families. */
struct nd_pkt {
	uint8_t ip_version;        /* 4 or 6: innermost IP header */
	uint8_t l4;                /* 6 (TCP) or 17 (UDP) when decoded */
	uint8_t vlan_depth;        /* VLAN tags on the outermost frame */
	uint8_t encap_depth;       /* tunnels looked through */
	enum nd_tunnel tunnel;     /* outermost tunnel type, ND_TUN_NONE if none */
	uint32_t tunnel_id;        /* VNI for VXLAN/Geneve, key for GRE (0 if none) */
	uint16_t vlan_id;          /* outermost VLAN id (0 if none) */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;

	/* Length of the L4 payload according to the IP header (not caplen):
	 * right for captures cut with a small snaplen. IPv4 total length 0
	 * (TSO/GSO seen before segmentation) and the IPv6 jumbo option fall
	 * back to the frame's wire length. */
	uint32_t payload_len;
	uint32_t l4_off;           /* offset of the TCP/UDP header in the frame */
	bool frame_truncated;      /* caplen < the length the headers claim (snaplen); not an error */
	/* A malformation that did not stop the packet from being attributed
	 * to its connection (enum nd_skip, ND_SKIP_NONE if none). Today only
	 * ND_SKIP_BAD_TCP_HLEN: a TCP data offset beyond the IP payload. The
	 * ports, flags, sequence numbers and window are read; options and
	 * payload are not (payload_len 0). tshark counts such segments in
	 * their stream; a Linux receiver would drop them. */
	uint8_t anomaly;

	/* TCP only */
	uint8_t flags;             /* ND_TH_* */
	uint16_t window;           /* raw (unscaled) window field */
	uint32_t seq, ack;
	struct nd_tcp_opts opt;
};

/*
 * nd_decode - decode one frame.
 * @link:    link type of the frame
 * @data:    captured bytes
 * @caplen:  number of captured bytes in @data
 * @wirelen: original length of the frame on the wire (>= caplen normally;
 *           a smaller value is treated as caplen)
 * @out:     filled on success; contents unspecified on a skip, except that
 *           vlan_*, encap_depth, tunnel*, frame_truncated and opt are
 *           always defined (zeroed on entry); ip_version and l4 are 0
 *           until an IP header has been read, after which ip_version, src,
 *           dst and l4 (its protocol / next header) are set, so FRAGMENT
 *           and OTHER_L4 skips can still be attributed to hosts.
 *
 * Returns ND_SKIP_NONE when @out holds a TCP or UDP packet (see out->l4),
 * otherwise the reason the frame was not analysed. Never reads data[caplen]
 * or beyond.
 */
enum nd_skip nd_decode(enum nd_link link, const uint8_t *data, uint32_t caplen,
		       uint32_t wirelen, struct nd_pkt *out);

/*
 * nd_tcp_options - parse a TCP option area of @len bytes into @o (zeroed
 * first). Unknown kinds are skipped by their length; NOP and EOL are
 * honoured; a length byte < 2 or past the end sets o->malformed and stops.
 * A known kind with the wrong length (MSS not 4, SACK not 2 + 8n with
 * n >= 1, ...) is skipped by its length and counted in o->unknown. Every
 * step advances at least one byte, so hostile input cannot loop.
 */
void nd_tcp_options(const uint8_t *p, size_t len, struct nd_tcp_opts *o);

/* Format an address of @p (per its ip_version) into @buf (>= 46 bytes).
 * Returns @buf. */
char *nd_addr_str(const uint8_t addr[16], uint8_t ip_version, char *buf, size_t len);

#endif
