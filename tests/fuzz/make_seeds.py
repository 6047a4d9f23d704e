#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the hand-made seed inputs of the decode fuzzer.

    python3 tests/fuzz/make_seeds.py [OUT_DIR]   (default: tests/fuzz/corpus/decode)

One file per layer, named seed-*, in the input layout of
tests/fuzz/fuzz_decode.c: byte 0 = link index ((b & 0x0f) % 10 in enum
nd_link order starting at ETHERNET) plus a wirelen mode in the high nibble
(0: wirelen = caplen; 0x80: caplen + last byte * 64; 0xc0: wirelen 0), then
the frame. Deterministic: the same files every run. Files the fuzzer added
to the corpus (hash names) are left alone.
"""
import os
import struct
import sys

LINK = {name: i for i, name in enumerate(
    ["ethernet", "sll", "sll2", "raw", "ipv4", "ipv6", "null", "loop", "ppp", "chdlc"])}
WIRE_EQ, WIRE_MORE, WIRE_ZERO = 0x00, 0x80, 0xC0

MACS = bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2])

# MSS 1460, SACK-perm, TS, NOP, wscale 7, NOP, NOP, SACK x2 (40 bytes)
ALL_OPTS = (bytes([2, 4, 0x05, 0xB4, 4, 2, 8, 10]) + struct.pack(">II", 0x11223344, 0x55667788)
            + bytes([1, 3, 3, 7, 1, 1, 5, 18]) + struct.pack(">IIII", 0x1000, 0x2000, 0xFFFFFFF0, 0xFFFFFFFF))
TS_OPTS = bytes([1, 1, 8, 10]) + struct.pack(">II", 5, 6)


def a4(s):
    return bytes(int(x) for x in s.split("."))


def a6(last):
    return bytes.fromhex("20010db8") + bytes(8) + struct.pack(">I", last)


def eth(etype):
    return MACS + struct.pack(">H", etype)


def vlan(tci, etype):
    return struct.pack(">HH", tci, etype)


def ip4(proto, payload, src="10.0.0.1", dst="10.0.0.2", opts=b"", frag=0x4000, total=None):
    hl = 20 + len(opts)
    if total is None:
        total = hl + len(payload)
    return (struct.pack(">BBHHHBBH", 0x40 | (hl // 4), 0, total, 0x1234, frag, 64, proto, 0)
            + a4(src) + a4(dst) + opts + payload)


def ip6(nh, payload, s=1, d=2, plen=None):
    if plen is None:
        plen = len(payload)
    return struct.pack(">IHBB", 0x60012345, plen, nh, 64) + a6(s) + a6(d) + payload


def tcp(payload=b"", opts=b"", sport=1000, dport=80, flags=0x18, seq=0x01020304, ack=0x0A0B0C0D, win=512):
    assert len(opts) % 4 == 0
    return struct.pack(">HHIIBBHHH", sport, dport, seq, ack, (5 + len(opts) // 4) << 4, flags, win, 0, 0) + opts + payload


def udp(payload=b"", sport=5353, dport=53):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def ext(nh, len8=0):
    """IPv6 extension header (hop-by-hop / routing / dest-opts shape), PadN filled."""
    body = bytes([1, 4 + len8 * 8]) + bytes(4 + len8 * 8)
    return bytes([nh, len8]) + body


def vxlan(inner, vni=0x123456, dport=4789, flags=0x08):
    return udp(struct.pack(">BBHI", flags, 0, 0, vni << 8) + inner, sport=12345, dport=dport)


def geneve(inner, proto=0x6558, vni=0xABCDEF, opts=b""):
    assert len(opts) % 4 == 0
    hdr = struct.pack(">BBHI", len(opts) // 4, 0, proto, vni << 8) + opts
    return udp(hdr + inner, sport=22155, dport=6081)


def gre(inner, proto, key=None, csum=False, seq=None):
    flags = (0x8000 if csum else 0) | (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    h = struct.pack(">HH", flags, proto)
    if csum:
        h += struct.pack(">I", 0xCCCC0000)
    if key is not None:
        h += struct.pack(">I", key)
    if seq is not None:
        h += struct.pack(">I", seq)
    return h + inner


V4TCP = ip4(6, tcp(b"hello", ALL_OPTS))
V6TCP = ip6(6, tcp(b"world", TS_OPTS))


def seeds():
    s = {}
    e = LINK["ethernet"]
    s["eth-ipv4-tcp-allopts"] = (e, eth(0x0800) + V4TCP)
    s["eth-ipv6-tcp"] = (e, eth(0x86DD) + V6TCP)
    s["eth-ipv4-udp"] = (e, eth(0x0800) + ip4(17, udp(b"dnsq" * 4)))
    s["eth-arp"] = (e, eth(0x0806) + bytes(28))
    s["eth-icmp"] = (e, eth(0x0800) + ip4(1, bytes([8, 0, 0, 0]) + bytes(12)))
    s["vlan"] = (e, eth(0x8100) + vlan(0x2064, 0x0800) + V4TCP)
    s["qinq"] = (e, eth(0x88A8) + vlan(200, 0x8100) + vlan(100, 0x86DD) + V6TCP)
    s["qinq-9100"] = (e, eth(0x9100) + vlan(300, 0x8100) + vlan(30, 0x0800) + V4TCP)
    s["mpls"] = (e, eth(0x8847) + struct.pack(">II", (16000 << 12) | 0x40, (17 << 12) | 0x140) + V4TCP)
    s["mpls-ipv6"] = (e, eth(0x8848) + struct.pack(">I", (5 << 12) | 0x140) + V6TCP)
    s["pppoe"] = (e, eth(0x8864) + struct.pack(">BBHH", 0x11, 0, 0x1234, 2 + len(V4TCP)) + b"\x00\x21" + V4TCP)
    s["pppoe-ipv6"] = (e, eth(0x8864) + struct.pack(">BBHH", 0x11, 0, 0x1234, 2 + len(V6TCP)) + b"\x00\x57" + V6TCP)
    snap = bytes([0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00]) + V4TCP
    s["llc-snap"] = (e, MACS + struct.pack(">H", len(snap)) + snap)
    rr = bytes([7, 11, 4, 1, 2, 3, 4, 5, 6, 7, 8, 0])
    s["ipv4-options"] = (e, eth(0x0800) + ip4(6, tcp(b"opt"), opts=rr))
    s["ipv4-frag-first"] = (e, eth(0x0800) + ip4(6, tcp(bytes(64)), frag=0x2000))
    s["ipv4-frag-nonfirst"] = (e, eth(0x0800) + ip4(6, bytes(64), frag=185))
    s["ipv4-frag-tiny"] = (e, eth(0x0800) + ip4(6, bytes(8), frag=0x2000))
    s["ipv4-tso-len0"] = (WIRE_MORE | e, eth(0x0800) + ip4(6, tcp(bytes(40), TS_OPTS), total=0) + b"\x20")
    # 96-byte snaplen; the last byte (22) makes wirelen 96 + 22 * 64
    s["ipv4-snaplen"] = (WIRE_MORE | e, (eth(0x0800) + ip4(6, tcp(bytes(1448), TS_OPTS)))[:95] + b"\x16")
    s["ipv4-wirelen0"] = (WIRE_ZERO | e, eth(0x0800) + V4TCP)
    routing = bytes([60, 2, 0, 0]) + bytes(4) + a6(9)
    frag = struct.pack(">BBHI", 6, 0, 0x0001, 0xABCDEF)
    chain = ext(43) + routing + ext(44, 1) + frag + tcp(b"ext")
    s["ipv6-ext"] = (e, eth(0x86DD) + ip6(0, chain))
    s["ipv6-frag-nonfirst"] = (e, eth(0x86DD) + ip6(44, struct.pack(">BBHI", 6, 0, 100 << 3, 1) + bytes(32)))
    ah = struct.pack(">BBHII", 17, 4, 0, 0x100, 1) + bytes(12)
    s["ipv6-ah"] = (e, eth(0x86DD) + ip6(51, ah + udp(b"x" * 10, 500, 4500)))
    s["ipv6-nonext"] = (e, eth(0x86DD) + ip6(60, ext(59)))
    jumbo_tcp = tcp(b"", TS_OPTS, sport=41851, dport=43913)
    hbh = bytes([6, 0, 0xC2, 4]) + struct.pack(">I", 8 + len(jumbo_tcp) + 80000)
    s["ipv6-jumbo"] = (WIRE_MORE | e, eth(0x86DD) + ip6(0, hbh + jumbo_tcp, plen=0) + b"\xff")
    inner_eth = eth(0x0800) + V4TCP
    s["vxlan"] = (e, eth(0x8100) + vlan(10, 0x0800) + ip4(17, vxlan(inner_eth), "172.16.0.1", "172.16.0.2"))
    s["vxlan-8472-v6"] = (e, eth(0x0800) + ip4(17, vxlan(eth(0x86DD) + V6TCP, dport=8472)))
    s["vxlan-noI"] = (e, eth(0x0800) + ip4(17, vxlan(inner_eth, flags=0)))
    gopts = struct.pack(">HBBI", 0x0102, 0x03, 1, 0xDEADBEEF)
    s["geneve"] = (e, eth(0x86DD) + ip6(17, geneve(eth(0x0800) + ip4(17, udp(b"q" * 21, 33000, 53)), opts=gopts)))
    s["geneve-ip"] = (e, eth(0x0800) + ip4(17, geneve(V4TCP, proto=0x0800, vni=1)))
    s["gre-key-teb"] = (e, eth(0x0800) + ip4(47, gre(inner_eth, 0x6558, key=0xDEADBEEF), "1.1.1.1", "2.2.2.2"))
    s["gre-csum-seq"] = (e, eth(0x0800) + ip4(47, gre(V6TCP, 0x86DD, csum=True, seq=7)))
    s["gre-all-flags"] = (e, eth(0x0800) + ip4(47, gre(V4TCP, 0x0800, key=42, csum=True, seq=7)))
    s["gre-vlan"] = (e, eth(0x0800) + ip4(47, gre(vlan(99, 0x0800) + V4TCP, 0x8100)))
    s["gre-pptp"] = (e, eth(0x0800) + ip4(47, struct.pack(">HHHH", 0x3081, 0x880B, 4, 1) + b"\xff\x03\x00\x21"))
    s["ipip"] = (e, eth(0x0800) + ip4(4, V4TCP, "1.1.1.1", "2.2.2.2"))
    s["ip6in4"] = (e, eth(0x0800) + ip4(41, V6TCP, "1.1.1.1", "2.2.2.2"))
    s["ip4in6"] = (e, eth(0x86DD) + ip6(4, ip4(17, udp(b"", 7, 9))))
    deep = V4TCP
    for _ in range(4):
        deep = ip4(4, deep)
    s["ipip-depth4"] = (e, eth(0x0800) + deep)
    s["ipip-depth5"] = (e, eth(0x0800) + ip4(4, deep))
    mixed = ip4(47, gre(ip4(41, ip6(17, geneve(V4TCP, proto=0x0800, vni=3333))), 0x0800, key=2222))
    s["nested-mixed"] = (e, eth(0x0800) + ip4(17, vxlan(eth(0x0800) + mixed, vni=1111)))
    s["sll"] = (LINK["sll"], struct.pack(">HHH", 0, 1, 6) + bytes(8) + b"\x08\x00" + V4TCP)
    s["sll2"] = (LINK["sll2"], struct.pack(">HHIHBB", 0x86DD, 0, 3, 1, 4, 6) + bytes(8) + V6TCP)
    s["raw-ipv4"] = (LINK["raw"], V4TCP)
    s["raw-ipv6"] = (LINK["raw"], V6TCP)
    s["dlt-ipv4"] = (LINK["ipv4"], V4TCP)
    s["dlt-ipv6"] = (LINK["ipv6"], V6TCP)
    s["null-le-ipv4"] = (LINK["null"], struct.pack("<I", 2) + V4TCP)
    s["null-be-ipv6"] = (LINK["null"], struct.pack(">I", 30) + V6TCP)
    s["null-le-ipv6-24"] = (LINK["null"], struct.pack("<I", 24) + V6TCP)
    s["loop-ipv4"] = (LINK["loop"], struct.pack(">I", 2) + V4TCP)
    s["loop-ipv6"] = (LINK["loop"], struct.pack(">I", 28) + V6TCP)
    s["ppp-ipv4"] = (LINK["ppp"], b"\xff\x03\x00\x21" + V4TCP)
    s["ppp-ipv6-noac"] = (LINK["ppp"], b"\x00\x57" + V6TCP)
    s["ppp-pfc"] = (LINK["ppp"], b"\x21" + V4TCP)
    s["ppp-chdlc"] = (LINK["ppp"], b"\x0f\x00\x08\x00" + V4TCP)
    s["ppp-mpls"] = (LINK["ppp"], b"\xff\x03\x02\x81" + struct.pack(">I", 0x140) + V4TCP)
    s["chdlc-ipv4"] = (LINK["chdlc"], b"\x0f\x00\x08\x00" + V4TCP)
    s["chdlc-ipv6"] = (LINK["chdlc"], b"\x8f\x00\x86\xdd" + V6TCP)
    # a bare option area (the target also feeds the input to nd_tcp_options)
    s["tcpopts-all"] = (e, ALL_OPTS)
    s["tcpopts-hostile"] = (e, bytes([1, 1, 5, 11]) + bytes(9) + bytes([30, 4, 0, 0, 2, 0]))
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "decode")
    os.makedirs(out, exist_ok=True)
    for name, (b0, frame) in sorted(seeds().items()):
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(bytes([b0]) + frame)
    print("wrote %d seeds to %s" % (len(seeds()), out))


if __name__ == "__main__":
    main()
