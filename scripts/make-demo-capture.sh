#!/usr/bin/env bash
# make-demo-capture.sh [OUT] - build data/demo.pcap, the capture embedded in
# netdx for `netdx tcp --demo`.
#
# Real Linux TCP between two network namespaces joined by a veth pair,
# captured with tcpdump (snaplen 128, immediate mode) on the client's veth.
# Offloads (TSO/GSO/GRO) are off on both ends, so every frame is MTU-sized
# as it would be on a real wire.
#
#   +--------------------------+           +--------------------------+
#   | ndx-demo-$$-c  (client)  |           | ndx-demo-$$-s  (server)  |
#   |                          |           |                          |
#   |  ndxc$$ 10.77.0.1/24  ===|== veth ===|=  ndxs$$ 10.77.0.2/24     |
#   |     ^ tcpdump -s 128     |           |  iptables: drop every    |
#   |                          |           |  13th packet to :5002    |
#   +--------------------------+           +--------------------------+
#
# What the capture contains (client 10.77.0.1 -> server 10.77.0.2):
#   1. :8080  three short request/response connections: 40-byte request,
#             ~3 KB response, server closes (FIN), client closes.
#   2. :5001  bulk upload of 160 KB into a receiver with an 8 KB receive
#             buffer that reads 2 KB every 10 ms: small and zero windows,
#             receiver-limited.
#   3. :5002  bulk upload of 128 KB through a lossy path: iptables in the
#             server namespace drops every 13th client->server packet, so
#             fast and/or timeout retransmissions appear.
#   4. :5003  request, partial response, then the server aborts with
#             SO_LINGER {1, 0}: the connection is closed by an RST.
#   5. :5009  connection attempt to a closed port: SYN answered by RST/ACK.
#   6. :8080  one more short request/response at the end.
# Sizes vary a little run to run (timing), not the structure. The file stays
# well under 150 KB (checked at the end).
#
# Needs root, iproute2, ethtool, iptables, tcpdump, python3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../data/demo.pcap"}

if [[ $EUID -ne 0 ]]; then echo "make-demo-capture: needs root" >&2; exit 1; fi
for t in ip ethtool iptables tcpdump python3 timeout; do
	command -v "$t" >/dev/null || { echo "make-demo-capture: $t not found" >&2; exit 1; }
done

nsc="ndx-demo-$$-c"
nss="ndx-demo-$$-s"
vc="ndxc$$"
vs="ndxs$$"
tmp=$(mktemp -d /tmp/ndx-demo.XXXXXX)
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	# Deleting a namespace removes its veth end (and so the pair) and its
	# iptables rules.
	ip netns del "$nsc" 2>/dev/null || true
	ip netns del "$nss" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$nsc"
ip netns add "$nss"
ip link add "$vc" netns "$nsc" type veth peer name "$vs" netns "$nss"
for pair in "$nsc:$vc:10.77.0.1" "$nss:$vs:10.77.0.2"; do
	IFS=: read -r ns dev addr <<<"$pair"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" addr add "$addr/24" dev "$dev"
	ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null 2>&1 || true
	ip -n "$ns" link set "$dev" up
done
# Loss on one port, inside the server namespace only.
ip netns exec "$nss" iptables -A INPUT -p tcp --dport 5002 \
	-m statistic --mode nth --every 13 --packet 6 -j DROP

cat >"$tmp/server.py" <<'EOF'
import socket, sys, threading, time
ADDR = "10.77.0.2"
def listener(port, rcvbuf=None):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((ADDR, port)); s.listen(16); s.settimeout(30)
    return s
def rr(s, n):                    # request/response, server closes first
    for _ in range(n):
        c, _ = s.accept(); c.settimeout(10)
        c.recv(1024); c.sendall(b"R" * 3000); c.shutdown(socket.SHUT_WR)
        while c.recv(4096): pass
        c.close()
def slow_sink(s):                # small buffer, slow reader
    c, _ = s.accept(); c.settimeout(10)
    while True:
        d = c.recv(2048)
        if not d: break
        time.sleep(0.01)
    c.close()
def sink(s):
    c, _ = s.accept(); c.settimeout(20)
    while c.recv(65536): pass
    c.close()
def abort(s):                    # partial answer, then RST
    c, _ = s.accept(); c.settimeout(10)
    c.recv(1024); c.sendall(b"P" * 500); time.sleep(0.05)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()
ts = [threading.Thread(target=rr, args=(listener(8080), 4)),
      threading.Thread(target=slow_sink, args=(listener(5001, 8192),)),
      threading.Thread(target=sink, args=(listener(5002),)),
      threading.Thread(target=abort, args=(listener(5003),))]
for t in ts: t.daemon = True; t.start()
print("ready", flush=True)
for t in ts: t.join(40)
EOF

cat >"$tmp/client.py" <<'EOF'
import socket, time
S = "10.77.0.2"
def conn(port, sndbuf=None):
    c = socket.socket()
    if sndbuf: c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    c.settimeout(10); c.connect((S, port)); return c
def rr():
    c = conn(8080); c.sendall(b"GET /index.html HTTP/1.0\r\nHost: demo\r\n\r\n")
    while c.recv(4096): pass
    c.close()
def upload(port, n):
    c = conn(port); c.sendall(b"x" * n); c.shutdown(socket.SHUT_WR)
    while c.recv(4096): pass
    c.close()
for _ in range(3): rr(); time.sleep(0.05)
upload(5001, 160 * 1024); time.sleep(0.05)
upload(5002, 128 * 1024); time.sleep(0.05)
c = conn(5003); c.sendall(b"GET /abort HTTP/1.0\r\n\r\n")
try:
    while c.recv(4096): pass
except ConnectionResetError:
    pass
c.close(); time.sleep(0.05)
try:
    conn(5009)
except ConnectionRefusedError:
    pass
time.sleep(0.05)
rr()
EOF

ip netns exec "$nss" python3 "$tmp/server.py" >"$tmp/server.out" 2>&1 &
pids+=($!)
ip netns exec "$nsc" tcpdump -i "$vc" -s 128 --immediate-mode -nn -w "$tmp/demo.pcap" tcp \
	2>"$tmp/tcpdump.err" &
pids+=($!)
for _ in $(seq 100); do   # <= 10 s for both to be ready
	grep -q ready "$tmp/server.out" 2>/dev/null && grep -q listening "$tmp/tcpdump.err" 2>/dev/null && break
	sleep 0.1
done
grep -q ready "$tmp/server.out" || { echo "server did not start" >&2; cat "$tmp/server.out" >&2; exit 1; }
grep -q listening "$tmp/tcpdump.err" || { echo "tcpdump did not start" >&2; cat "$tmp/tcpdump.err" >&2; exit 1; }
sleep 0.3

timeout 60 ip netns exec "$nsc" python3 "$tmp/client.py"
sleep 0.5
kill -INT "${pids[1]}"
timeout 10 tail --pid="${pids[1]}" -f /dev/null || true
cat "$tmp/tcpdump.err" >&2

mkdir -p "$(dirname "$out")"
size=$(stat -c %s "$tmp/demo.pcap")
if (( size >= 150 * 1024 )); then
	echo "make-demo-capture: capture is $size bytes (>= 150 KB), not written" >&2
	exit 1
fi
cp "$tmp/demo.pcap" "$out"
echo "wrote $out ($size bytes, $(tcpdump -nn -r "$out" 2>/dev/null | wc -l) packets)"
