/* SPDX-License-Identifier: MIT */
/* nd_tcp_seg.h: decoded TCP/IPv4 segments built by hand for the unit tests
 * of the flow table, the tracker and the inference engine. */
#ifndef ND_TCP_SEG_H
#define ND_TCP_SEG_H

#include <stdint.h>
#include <string.h>

#include "core/decode.h"

/* @ip as the IPv4-mapped IPv6 address the decoder stores. */
static inline void nd_test_v4(uint8_t a[16], uint32_t ip)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = (uint8_t)(ip >> 24);
	a[13] = (uint8_t)(ip >> 16);
	a[14] = (uint8_t)(ip >> 8);
	a[15] = (uint8_t)ip;
}

/* A TCP segment src:sp -> dst:dp; no options, window 0. */
static inline struct nd_pkt nd_test_seg(uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp,
					uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct nd_pkt p;

	memset(&p, 0, sizeof(p));
	p.ip_version = 4;
	p.l4 = 6;
	nd_test_v4(p.src, src);
	nd_test_v4(p.dst, dst);
	p.sport = sp;
	p.dport = dp;
	p.flags = flags;
	p.seq = seq;
	p.ack = ack;
	p.payload_len = len;
	return p;
}

#endif
