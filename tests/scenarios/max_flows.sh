#!/usr/bin/env bash
# max_flows.sh NETDX - TAP scenario: the connection table cap (--max-flows).
#
# Writes a synthetic pcap (python3, struct module; Ethernet/IPv4/TCP with
# valid checksums) holding $conns connections that are all open at once:
#   phase 1: every connection does SYN, SYN/ACK, ACK;
#   phase 2: then, one after the other, each sends a request (c2s data), gets
#            a response (s2c data), and closes with FIN/ACK in both directions.
# Client i is 10.1.(i/256).(i%256):(20000 + i) -> server 10.2.0.1:80.
#
# Then `netdx tcp --max-flows 500 --json` must evict (summary.evicted > 0)
# without losing anything: every 4-tuple appears in at least one conn object
# and the conn objects' c2s.pkts + s2c.pkts add up to every packet written.
# Its peak RSS must be lower than with --max-flows 100000 (no evictions).
# Needs no root. Runs in a few seconds.
set -u

netdx=${1:-}
conns=${NDX_MAXFLOWS_CONNS:-20000}
cap=500
if [[ -z "$netdx" || ! -x "$netdx" ]]; then
	echo "1..0 # SKIP netdx binary not given or not executable: '${netdx}'"
	exit 0
fi
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 not installed"; exit 0; }
timebin=/usr/bin/time
# Under AddressSanitizer freed memory sits in a quarantine and is not reused,
# so the RSS comparison would measure the quarantine: turn it off (the
# variable is ignored by a plain build).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
[[ -x $timebin ]] || { echo "1..0 # SKIP $timebin not installed (apt-get install time)"; exit 0; }

tmp=$(mktemp -d /tmp/ndx-maxflows.XXXXXX)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
diag() { sed 's/^/# /' "$@"; }

echo "1..9"

cat >"$tmp/gen.py" <<'EOF'
import struct, sys
out, N = sys.argv[1], int(sys.argv[2])
SRV = bytes((10, 2, 0, 1)); SPORT = 80
CMAC, SMAC = b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02"
def csum(b):
    if len(b) & 1: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16
SYNOPT = struct.pack("!BBHBBBBBB", 2, 4, 1460, 1, 3, 3, 7, 4, 2) + b"\0\0"  # MSS, NOP, WS 7, SACKOK, pad
ipid = [0]
def pkt(src, dst, sp, dp, seq, ack, flags, payload=b"", opts=b""):
    thl = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xffffffff, ack & 0xffffffff,
                      (thl // 4) << 4, flags, 502 if not flags & SYN else 64240, 0, 0) + opts + payload
    ph = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    c = csum(ph + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ipid[0] = (ipid[0] + 1) & 0xffff
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ipid[0], 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    mac = (SMAC + CMAC) if src == SRV else (CMAC + SMAC)
    return mac + b"\x08\x00" + ip + tcp
f = open(out, "wb")
f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
t = [1700000000 * 1000000]
count = [0]
def w(p):
    t[0] += 7
    f.write(struct.pack("<IIII", t[0] // 1000000, t[0] % 1000000, len(p), len(p)) + p)
    count[0] += 1
def cli(i): return bytes((10, 1, (i >> 8) & 255, i & 255)), 20000 + i
for i in range(N):                       # phase 1: all handshakes
    c, cp = cli(i); cs, ss = 1000 + i, 5000000 + i
    w(pkt(c, SRV, cp, SPORT, cs, 0, SYN, opts=SYNOPT))
    w(pkt(SRV, c, SPORT, cp, ss, cs + 1, SYN | ACK, opts=SYNOPT))
    w(pkt(c, SRV, cp, SPORT, cs + 1, ss + 1, ACK))
req, resp = b"G" * 200, b"R" * 1200
for i in range(N):                       # phase 2: data and close
    c, cp = cli(i); cs, ss = 1001 + i, 5000001 + i
    w(pkt(c, SRV, cp, SPORT, cs, ss, PSH | ACK, req)); cs += len(req)
    w(pkt(SRV, c, SPORT, cp, ss, cs, PSH | ACK, resp)); ss += len(resp)
    w(pkt(c, SRV, cp, SPORT, cs, ss, ACK))
    w(pkt(c, SRV, cp, SPORT, cs, ss, FIN | ACK)); cs += 1
    w(pkt(SRV, c, SPORT, cp, ss, cs, FIN | ACK)); ss += 1
    w(pkt(c, SRV, cp, SPORT, cs, ss, ACK))
f.close()
print(count[0])
EOF

cat >"$tmp/check.py" <<'EOF'
import json, sys
path, N = sys.argv[1], int(sys.argv[2])
want = set("10.1.%d.%d:%d 10.2.0.1:80" % ((i >> 8) & 255, i & 255, 20000 + i) for i in range(N))
seen, pkts, nconn, summary, meta, bad = set(), 0, 0, None, False, 0
lines = open(path).read().splitlines()
for i, l in enumerate(lines):
    try: o = json.loads(l)
    except ValueError: bad += 1; continue
    ty = o.get("type")
    if ty == "meta" and i == 0: meta = True
    elif ty == "summary": summary = o
    elif ty == "conn":
        nconn += 1
        seen.add(o["client"] + " " + o["server"])
        pkts += o["c2s"]["pkts"] + o["s2c"]["pkts"]
last_is_summary = bool(lines) and lines[-1].startswith("{") and json.loads(lines[-1]).get("type") == "summary"
s = summary or {}
json.dump({"meta": meta, "summary_last": last_is_summary, "bad": bad, "conn_objects": nconn,
           "missing": len(want - seen), "missing_eg": sorted(want - seen)[:3],
           "extra": len(seen - want), "conn_pkts": pkts,
           "evicted": s.get("evicted"), "packets": s.get("packets"),
           "connections": s.get("connections"), "skipped": s.get("skipped")}, sys.stdout)
EOF

# 1: the capture
npkts=$(timeout 60 python3 "$tmp/gen.py" "$tmp/many.pcap" "$conns" 2>"$tmp/gen.err")
check "synthetic pcap with $conns concurrent connections written ($npkts packets)" \
	test -s "$tmp/many.pcap" -a "${npkts:-0}" -eq $((conns * 9))
[[ -s "$tmp/gen.err" ]] && diag "$tmp/gen.err"

rss_of() { sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$1"; }

# 2-7: --max-flows $cap
timeout 60 "$timebin" -v -o "$tmp/time.small" "$netdx" tcp --max-flows "$cap" --json "$tmp/many.pcap" \
	>"$tmp/small.json" 2>"$tmp/small.err"
rc=$?
check "netdx tcp --max-flows $cap exits 0 (got $rc)" test "$rc" -eq 0
[[ $rc -eq 0 ]] || diag "$tmp/small.err"
python3 "$tmp/check.py" "$tmp/small.json" "$conns" >"$tmp/small.res" 2>"$tmp/chk.err" || diag "$tmp/chk.err"
diag "$tmp/small.res"; echo
r() { python3 -c "import json,sys; r=json.load(open('$1')); sys.exit(not ($2))" 2>/dev/null; }
check "output starts with meta, ends with summary, all lines JSON" \
	r "$tmp/small.res" 'r["meta"] and r["summary_last"] and r["bad"] == 0'
check "summary reports evictions (evicted > 0)" \
	r "$tmp/small.res" 'isinstance(r["evicted"], int) and r["evicted"] > 0'
check "every one of the $conns 4-tuples appears in a conn object" \
	r "$tmp/small.res" 'r["missing"] == 0 and r["extra"] == 0'
check "no packet lost: conn objects' pkts add up to the $npkts packets written" \
	r "$tmp/small.res" "r['conn_pkts'] == ${npkts:-0}"
check "summary.packets == $npkts" r "$tmp/small.res" "r['packets'] == ${npkts:-0}"

# 8-9: --max-flows 100000 (no eviction) for the RSS comparison
timeout 60 "$timebin" -v -o "$tmp/time.big" "$netdx" tcp --max-flows 100000 --json "$tmp/many.pcap" \
	>"$tmp/big.json" 2>"$tmp/big.err"
rc=$?
python3 "$tmp/check.py" "$tmp/big.json" "$conns" >"$tmp/big.res" 2>"$tmp/chk.err" || diag "$tmp/chk.err"
diag "$tmp/big.res"; echo
check "netdx tcp --max-flows 100000 exits 0 with no evictions, all 4-tuples" \
	r "$tmp/big.res" "$rc == 0 and not r['evicted'] and r['missing'] == 0"
rs=$(rss_of "$tmp/time.small"); rb=$(rss_of "$tmp/time.big")
echo "# peak RSS: --max-flows $cap: ${rs:-?} KiB; --max-flows 100000: ${rb:-?} KiB"
check "peak RSS with --max-flows $cap (${rs:-?} KiB) < with 100000 (${rb:-?} KiB)" \
	test "${rs:-0}" -gt 0 -a "${rs:-0}" -lt "${rb:-0}"
exit 0
