#!/usr/bin/env bash
# live_capture.sh NETDX - TAP scenario: `netdx tcp -i` against real Linux TCP.
#
#   +-------------------------------+          +-------------------------------+
#   | $nsc (client)                 |          | $nss (server)                 |
#   |                               |          |                               |
#   |  $vc 10.78.0.1/24  ===========|== veth ==|=========== $vs 10.78.0.2/24   |
#   |    ^ netdx tcp -i $vc --json  |          |  python3 server :7001 :7002   |
#   |    ^ tcpdump -i $vc -w        |          |                               |
#   |  python3 client               |          |                               |
#   +-------------------------------+          +-------------------------------+
#
# netdx and tcpdump capture the same veth at the same time. Every TCP
# connection tcpdump saw must appear in netdx's NDJSON with the same packet
# count (c2s.pkts + s2c.pkts), counted from the pcap by an independent
# parser (python3 reading the pcap format directly). Also: SIGINT ends a live
# capture with exit 0 and a summary; a nonexistent interface is refused with
# a one-line message naming it.
#
# Needs root and `ip netns`; otherwise the whole test is skipped. Everything
# it creates (namespaces, veth, processes, temp files) is removed on exit,
# failure, SIGINT and SIGTERM.
set -u

# shellcheck source=tests/scenarios/ns2_lib.sh
source "$(dirname "$0")/ns2_lib.sh"
ns2_init "${1:-}" lc tcpdump python3 timeout
netdx=$NETDX nsc=$NS_A nss=$NS_B vc=$VETH_A tmp=$TMP
ns2_up 10.78.0.1 10.78.0.2

echo "1..14"

# --- traffic generators ------------------------------------------------------
cat >"$tmp/server.py" <<'EOF'
import socket, threading, sys
def rr(c):
    try:
        c.settimeout(10)
        while True:
            d = c.recv(65536)
            if not d: break
            if d.endswith(b"\n"): c.sendall(b"y" * 5000)
    finally:
        c.close()
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.78.0.2", port)); s.listen(64); s.settimeout(120)
    while True:
        try: c, _ = s.accept()
        except OSError: return
        threading.Thread(target=rr, args=(c,), daemon=True).start()
for p in (7001, 7002):
    threading.Thread(target=serve, args=(p,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait(120)
EOF
# client.py N: N connections of varied shape; some concurrent.
cat >"$tmp/client.py" <<'EOF'
import socket, sys, threading, time
N = int(sys.argv[1])
def one(i):
    c = socket.socket(); c.settimeout(10)
    c.connect(("10.78.0.2", 7001 + i % 2))
    for _ in range(1 + i % 3):              # 1-3 request/responses
        c.sendall(b"q" * (100 + 3000 * (i % 4)) + b"\n")
        got = 0
        while got < 5000:
            d = c.recv(65536)
            if not d: break
            got += len(d)
    if i % 5 == 4:
        c.sendall(b"z" * 200000)             # a bulk upload
    c.close()
ts = [threading.Thread(target=one, args=(i,)) for i in range(N)]
for k, t in enumerate(ts):
    t.start()
    if k % 3 == 2: time.sleep(0.05)
for t in ts: t.join(20)
EOF
# pcapcount.py FILE: packets per TCP connection, straight from the pcap bytes.
cat >"$tmp/pcapcount.py" <<'EOF'
import struct, sys, json
f = open(sys.argv[1], "rb"); hdr = f.read(24)
magic = struct.unpack("<I", hdr[:4])[0]
if magic in (0xa1b2c3d4, 0xa1b23c4d): e = "<"
elif magic in (0xd4c3b2a1, 0x4d3cb2a1): e = ">"
else: sys.exit("not a pcap file")
linktype = struct.unpack(e + "I", hdr[20:24])[0]
if linktype != 1: sys.exit("linktype %d, want Ethernet" % linktype)
counts = {}
while True:
    ph = f.read(16)
    if len(ph) < 16: break
    _, _, incl, _ = struct.unpack(e + "IIII", ph)
    p = f.read(incl)
    if len(p) < incl: break
    off, et = 14, struct.unpack("!H", p[12:14])[0]
    while et in (0x8100, 0x88a8) and len(p) >= off + 4:
        et = struct.unpack("!H", p[off + 2:off + 4])[0]; off += 4
    if et != 0x0800 or len(p) < off + 20: continue
    ihl = (p[off] & 15) * 4
    if p[off + 9] != 6: continue
    frag = struct.unpack("!H", p[off + 6:off + 8])[0]
    if frag & 0x1fff: continue
    src, dst = p[off + 12:off + 16], p[off + 16:off + 20]
    t = off + ihl
    if len(p) < t + 4: continue
    sp, dp = struct.unpack("!HH", p[t:t + 4])
    a = "%d.%d.%d.%d:%d" % (*src, sp); b = "%d.%d.%d.%d:%d" % (*dst, dp)
    k = " ".join(sorted((a, b)))
    counts[k] = counts.get(k, 0) + 1
json.dump(counts, sys.stdout)
EOF
# ndxcount.py FILE: packets per connection from netdx NDJSON, plus checks.
cat >"$tmp/ndxcount.py" <<'EOF'
import json, sys
counts, meta, summary, bad = {}, None, None, 0
lines = open(sys.argv[1]).read().splitlines()
for i, l in enumerate(lines):
    try: o = json.loads(l)
    except ValueError: bad += 1; continue
    if o.get("type") == "meta" and i == 0: meta = o
    elif o.get("type") == "summary": summary = o
    elif o.get("type") == "conn":
        k = " ".join(sorted((o["client"], o["server"])))
        counts[k] = counts.get(k, 0) + o["c2s"]["pkts"] + o["s2c"]["pkts"]
json.dump({"counts": counts, "meta": meta is not None,
           "summary_last": bool(lines) and summary is not None and json.loads(lines[-1]).get("type") == "summary",
           "summary": summary, "bad_lines": bad}, sys.stdout)
EOF

ip netns exec "$nss" python3 "$tmp/server.py" >"$tmp/server.out" 2>&1 &
PIDS+=($!)

wait_for() {  # wait_for FILE PATTERN TENTHS
	local i
	for ((i = 0; i < $3; i++)); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
wait_pid() {  # wait_pid PID SECONDS: reap PID within SECONDS; sets $rc
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		if ! kill -0 "$1" 2>/dev/null; then wait "$1"; rc=$?; return 0; fi
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; rc=137
	return 1
}
wait_for "$tmp/server.out" ready 100 || { diag "$tmp/server.out"; echo "Bail out! server did not start"; exit 1; }

# --- 1-6: netdx and tcpdump side by side -------------------------------------
ip netns exec "$nsc" tcpdump -i "$vc" -nn --immediate-mode -s 256 -w "$tmp/cap.pcap" 2>"$tmp/tcpdump.err" &
tdpid=$!; PIDS+=("$tdpid")
wait_for "$tmp/tcpdump.err" listening 100 || diag "$tmp/tcpdump.err"
ip netns exec "$nsc" "$netdx" tcp -i "$vc" --duration 7 --json >"$tmp/live.json" 2>"$tmp/live.err" &
ndpid=$!; PIDS+=("$ndpid")
wait_for "$tmp/live.err" "capturing on" 100 || diag "$tmp/live.err"   # netdx says so once the capture is active
timeout 30 ip netns exec "$nsc" python3 "$tmp/client.py" 12 2>"$tmp/client.err" || diag "$tmp/client.err"
wait_pid "$ndpid" 20; ndrc=$rc
sleep 0.5
kill -INT "$tdpid" 2>/dev/null; wait_pid "$tdpid" 10
diag "$tmp/tcpdump.err"

check "netdx tcp -i --duration exits 0 (got $ndrc)" test "$ndrc" -eq 0
[[ $ndrc -eq 0 ]] || diag "$tmp/live.err"
python3 "$tmp/pcapcount.py" "$tmp/cap.pcap" >"$tmp/want.json" 2>"$tmp/pc.err" || diag "$tmp/pc.err"
python3 "$tmp/ndxcount.py" "$tmp/live.json" >"$tmp/got.json" 2>"$tmp/nc.err" || diag "$tmp/nc.err"

pyq() { python3 -c "import json,sys; w=json.load(open('$tmp/want.json')); g=json.load(open('$tmp/got.json')); $1" 2>>"$tmp/pyq.err"; }
check "output starts with a meta line and ends with a summary line" \
	pyq 'sys.exit(not (g["meta"] and g["summary_last"] and g["bad_lines"] == 0))'
check "summary has capture.recv, capture.drop and capture.ifdrop" \
	pyq 'c=(g["summary"] or {}).get("capture") or {}; sys.exit(not all(isinstance(c.get(k), int) for k in ("recv","drop","ifdrop")))'
pyq 'c=((g["summary"] or {}).get("capture") or {}); print("# netdx capture counters:", c)'
check "tcpdump saw the 12 client connections" pyq 'sys.exit(len(w) < 12)'
check "netdx reports the same set of connections as tcpdump" \
	pyq 'sys.exit(set(w) != set(g["counts"]))'
pyq 'm=set(w)-set(g["counts"]); x=set(g["counts"])-set(w); print("# missing in netdx:", sorted(m)) if m else 0; print("# extra in netdx:", sorted(x)) if x else 0'
check "per connection, netdx c2s.pkts + s2c.pkts == tcpdump's packet count" \
	pyq 'sys.exit(not w or any(g["counts"].get(k) != v for k, v in w.items()))'
pyq '[print("# %s: tcpdump %d, netdx %s" % (k, v, g["counts"].get(k))) for k, v in sorted(w.items()) if g["counts"].get(k) != v]'
check "netdx counted every packet tcpdump saw (total)" \
	pyq 'sys.exit(sum(w.values()) != sum(g["counts"].values()) or not w)'
pyq 'print("# total packets: tcpdump %d, netdx %d, connections %d" % (sum(w.values()), sum(g["counts"].values()), len(w)))'

# --- 8-10: SIGINT ends a live capture cleanly -------------------------------
ip netns exec "$nsc" "$netdx" tcp -i "$vc" --json >"$tmp/int.json" 2>"$tmp/int.err" &
ipid=$!; PIDS+=("$ipid")
wait_for "$tmp/int.err" "capturing on" 100 || diag "$tmp/int.err"
timeout 30 ip netns exec "$nsc" python3 "$tmp/client.py" 3 2>"$tmp/client.err" || diag "$tmp/client.err"
sleep 0.5
kill -INT "$ipid" 2>/dev/null
if wait_pid "$ipid" 10; then ok "netdx exits within 10 s of SIGINT"; else notok "netdx exits within 10 s of SIGINT"; fi
check "after SIGINT, exit status 0 (got $rc)" test "$rc" -eq 0
[[ $rc -eq 0 ]] || diag "$tmp/int.err"
python3 "$tmp/ndxcount.py" "$tmp/int.json" >"$tmp/got.json" 2>"$tmp/nc.err" || diag "$tmp/nc.err"
check "after SIGINT, a summary line and the 3 connections are printed" \
	pyq 'sys.exit(not (g["summary_last"] and len(g["counts"]) >= 3))'

# --- 11-12: periodic reports and a filter, live -------------------------------
ip netns exec "$nsc" "$netdx" tcp -i "$vc" --interval 0.5 --duration 3 -f 'tcp port 7001' --json \
	>"$tmp/ivl.json" 2>"$tmp/ivl.err" &
vpid=$!; PIDS+=("$vpid")
wait_for "$tmp/ivl.err" "capturing on" 100 || diag "$tmp/ivl.err"
timeout 30 ip netns exec "$nsc" python3 "$tmp/client.py" 4 2>"$tmp/client.err" || diag "$tmp/client.err"
wait_pid "$vpid" 20
nivl=$(grep -c '"type":"interval"' "$tmp/ivl.json")
check "--interval 0.5 over 3 s gives at least 4 interval reports (got $nivl)" test "$nivl" -ge 4
python3 "$tmp/ndxcount.py" "$tmp/ivl.json" >"$tmp/got.json" 2>"$tmp/nc.err" || diag "$tmp/nc.err"
check "live filter 'tcp port 7001' keeps only port-7001 connections, and finds them" \
	pyq 'k=list(g["counts"]); sys.exit(not (k and all(":7001" in x for x in k)))'

# --- 13-14: a nonexistent interface ------------------------------------------
bogus="ndxno$$"
timeout 20 ip netns exec "$nsc" "$netdx" tcp -i "$bogus" --duration 1 --json >"$tmp/bogus.out" 2>"$tmp/bogus.err"
brc=$?
check "live capture on nonexistent interface exits non-zero (got $brc)" test "$brc" -ne 0 -a "$brc" -ne 124
lines=$(wc -l <"$tmp/bogus.err")
check "error is one line naming the interface" \
	bash -c "[[ $lines -eq 1 ]] && grep -q -- '$bogus' '$tmp/bogus.err'"
diag "$tmp/bogus.err"
[[ -s "$tmp/pyq.err" ]] && diag "$tmp/pyq.err"
exit 0
