/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for src/core/decode.c.
 *
 * Input layout: byte 0 picks the link type ((byte0 & 0x0f) % 10 ->
 * ND_LINK_ETHERNET .. ND_LINK_CHDLC, in enum order) and, in its high
 * nibble, the wire length: 0-7 wirelen == caplen; 8-11 wirelen = caplen +
 * last byte * 64 (a snaplen-cut capture); 12-15 wirelen = 0 (smaller than
 * caplen, which the decoder must treat as caplen). The rest is the frame,
 * decoded with caplen = size - 1; it ends exactly at the end of the
 * fuzzer's buffer, so ASan sees any read past caplen. The same bytes also
 * go through nd_tcp_options as an option area.
 *
 * Invariants of a decoded frame are checked with __builtin_trap() so the
 * fuzzer reports logic errors, not just memory errors. Prints nothing.
 * tests/fuzz/make_seeds.py writes seeds in this layout.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			__builtin_trap();                                      \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nd_tcp_opts o;
	struct nd_pkt p;
	enum nd_link link;
	enum nd_skip r;
	uint32_t caplen, wirelen;
	char buf[64];

	if (size < 1 || size - 1 > UINT32_MAX / 2)
		return 0;
	link = (enum nd_link)(ND_LINK_ETHERNET + (data[0] & 0x0f) % 10);
	caplen = (uint32_t)(size - 1);
	if (data[0] < 0x80)
		wirelen = caplen;
	else if (data[0] < 0xc0)
		wirelen = caplen + (uint32_t)data[size - 1] * 64;
	else
		wirelen = 0;

	r = nd_decode(link, data + 1, caplen, wirelen, &p);
	CHECK(r < ND_SKIP__COUNT);
	CHECK(nd_skip_name(r) != NULL);
	CHECK(p.encap_depth <= ND_MAX_ENCAP);
	CHECK(p.vlan_depth <= ND_MAX_VLAN);
	CHECK(p.opt.nsack <= ND_MAX_SACK);
	if (p.encap_depth == 0)
		CHECK(p.tunnel == ND_TUN_NONE && p.tunnel_id == 0);
	if (r == ND_SKIP_NONE) {
		uint32_t wl = wirelen < caplen ? caplen : wirelen;

		CHECK(p.l4 == 6 || p.l4 == 17);
		CHECK(p.ip_version == 4 || p.ip_version == 6);
		CHECK(p.l4_off <= caplen && caplen - p.l4_off >= (p.l4 == 6 ? 20u : 8u));
		CHECK(p.payload_len <= wl - p.l4_off);
		CHECK(p.tunnel != ND_TUN_NONE || p.encap_depth == 0);
		if (p.ip_version == 4)
			CHECK(p.src[10] == 0xff && p.src[11] == 0xff && p.dst[10] == 0xff);
		if (!p.frame_truncated)
			CHECK(p.l4_off + (p.l4 == 6 ? 20u : 8u) + p.payload_len <= caplen);
		if (p.l4 == 17)
			CHECK(p.flags == 0 && p.seq == 0 && !p.opt.has_ts);
		CHECK(!(p.opt.malformed && p.opt.truncated));
		nd_addr_str(p.src, p.ip_version, buf, sizeof(buf));
		nd_addr_str(p.dst, p.ip_version, buf, 8);
	}
	CHECK(nd_skip_is_error(r) ==
	      !(r == ND_SKIP_NONE || r == ND_SKIP_NOT_IP || r == ND_SKIP_FRAGMENT ||
		r == ND_SKIP_OTHER_L4));

	nd_tcp_options(data + 1, size - 1, &o);
	CHECK(o.nsack <= ND_MAX_SACK);
	CHECK(!o.truncated);
	if (size <= 1)
		CHECK(!o.malformed && !o.has_mss && o.unknown == 0);
	return 0;
}
