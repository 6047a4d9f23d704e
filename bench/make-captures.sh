#!/usr/bin/env bash
# make-captures.sh [--force] - make the benchmark captures in bench/data/.
#
#   bulk.pcap  >= 1.5 million packets of bulk TCP: iperf3 -P 8, rate-capped so
#              tcpdump keeps up, offloads off (MTU-sized frames), snaplen 96.
#   crr.pcap   >= 40,000 short connections (connect, 64-byte request,
#              256-byte response, close), from 4 parallel python3 clients
#              each with its own source address, snaplen 96.
#
#   +--------------------------------+           +--------------------------+
#   | ndx-bc-$$-c (client)           |           | ndx-bc-$$-s (server)     |
#   |  ndxbc$$ 10.79.0.1/24          |           |  ndxbs$$ 10.79.0.2/24    |
#   |          10.79.0.11-14/24  ====|== veth ===|==                        |
#   |   ^ tcpdump -s 96 -w           |           |  iperf3 -s / crr server  |
#   |   iperf3 -c / crr clients      |           |                          |
#   +--------------------------------+           +--------------------------+
#
# An existing file is kept unless --force is given. Needs root, iproute2,
# ethtool, tcpdump, iperf3, python3. Takes a minute or two.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
data="$here/data"
force=0
[[ ${1:-} == --force ]] && force=1
[[ $EUID -eq 0 ]] || { echo "make-captures: needs root" >&2; exit 1; }
for t in ip ethtool tcpdump iperf3 python3 timeout; do
	command -v "$t" >/dev/null || { echo "make-captures: $t not found" >&2; exit 1; }
done
mkdir -p "$data"

want_bulk=1500000
want_crr=40000

nsc="ndx-bc-$$-c"
nss="ndx-bc-$$-s"
vc="ndxbc$$"
vs="ndxbs$$"
tmp=$(mktemp -d /tmp/ndx-bench.XXXXXX)
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$nsc" 2>/dev/null || true
	ip netns del "$nss" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# pcap packet count and number of SYN-only packets, straight from the file.
cat >"$tmp/count.py" <<'EOF'
import struct, sys
f = open(sys.argv[1], "rb"); h = f.read(24)
e = "<" if h[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
n = syn = 0
while True:
    ph = f.read(16)
    if len(ph) < 16: break
    incl = struct.unpack(e + "I", ph[8:12])[0]
    p = f.read(incl)
    n += 1
    if len(p) >= 34 and p[12:14] == b"\x08\x00" and p[23] == 6:
        t = 14 + (p[14] & 15) * 4
        if len(p) > t + 13 and p[t + 13] & 0x12 == 0x02: syn += 1
print(n, syn)
EOF

ip netns add "$nsc"
ip netns add "$nss"
ip link add "$vc" netns "$nsc" type veth peer name "$vs" netns "$nss"
for pair in "$nsc:$vc:10.79.0.1" "$nss:$vs:10.79.0.2"; do
	IFS=: read -r ns dev addr <<<"$pair"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
	ip -n "$ns" addr add "$addr/24" dev "$dev"
	ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null 2>&1 || true
	ip -n "$ns" link set "$dev" up
done
for a in 11 12 13 14; do ip -n "$nsc" addr add "10.79.0.$a/24" dev "$vc"; done

wait_for() {  # wait_for FILE PATTERN TENTHS
	local i
	for ((i = 0; i < $3; i++)); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
start_tcpdump() {  # start_tcpdump OUT FILTER
	ip netns exec "$nsc" tcpdump -i "$vc" -nn -s 96 --immediate-mode -B 65536 -w "$1" "$2" \
		2>"$tmp/tcpdump.err" &
	tdpid=$!; pids+=("$tdpid")
	wait_for "$tmp/tcpdump.err" listening 100 || { cat "$tmp/tcpdump.err" >&2; exit 1; }
	sleep 0.3
}
stop_tcpdump() {
	sleep 0.5
	kill -INT "$tdpid" 2>/dev/null || true
	timeout 20 tail --pid="$tdpid" -f /dev/null || kill -KILL "$tdpid" 2>/dev/null || true
	wait "$tdpid" 2>/dev/null || true
	grep -E 'captured|dropped' "$tmp/tcpdump.err" | sed 's/^/  tcpdump: /'
}

# ---- bulk.pcap ----------------------------------------------------------------
if [[ -s "$data/bulk.pcap" && $force -eq 0 ]]; then
	echo "bulk.pcap exists (use --force to remake)"
else
	ip netns exec "$nss" iperf3 -s -B 10.79.0.2 -p 5201 >"$tmp/iperf3-s.log" 2>&1 &
	ipspid=$!; pids+=("$ipspid")
	sleep 0.5
	secs=16
	for attempt in 1 2 3; do   # at most 3 tries, each a little longer
		start_tcpdump "$tmp/bulk.pcap" "tcp port 5201"
		# 8 streams x 100 Mbit/s: ~70k data + ~35k ack packets per second,
		# within what tcpdump can write to disk without drops on 2 cores.
		timeout $((secs + 30)) ip netns exec "$nsc" iperf3 -c 10.79.0.2 -p 5201 -P 8 \
			-b 100M -t "$secs" -l 64K >"$tmp/iperf3-c.log" 2>&1 ||
			{ tail -5 "$tmp/iperf3-c.log" >&2; }
		stop_tcpdump
		read -r got _ < <(python3 "$tmp/count.py" "$tmp/bulk.pcap")
		echo "bulk.pcap attempt $attempt: $got packets in ${secs}s"
		((got >= want_bulk)) && break
		secs=$((secs * want_bulk / (got + 1) + 5))
		((secs > 120)) && secs=120
	done
	((got >= want_bulk)) || { echo "make-captures: bulk.pcap has only $got packets" >&2; exit 1; }
	mv "$tmp/bulk.pcap" "$data/bulk.pcap"
	kill "$ipspid" 2>/dev/null || true
fi

# ---- crr.pcap -------------------------------------------------------------------
cat >"$tmp/crr_server.py" <<'EOF'
# Forks 2 workers sharing the port (SO_REUSEPORT); each answers one
# connection at a time: read the request, send 256 bytes, wait for the
# client's FIN, close. Exits after 300 s at most.
import os, socket, signal, sys, time
signal.signal(signal.SIGALRM, lambda *a: os._exit(0)); signal.alarm(300)
def worker():
    signal.alarm(300)
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("10.79.0.2", 7100)); s.listen(1024)
    resp = b"r" * 256
    while True:
        c, _ = s.accept()
        try:
            c.settimeout(5)
            if c.recv(4096):
                c.sendall(resp)
                while c.recv(4096): pass
        except OSError:
            pass
        c.close()
kids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        worker(); os._exit(0)
    kids.append(pid)
def stop(*a):
    for k in kids: os.kill(k, signal.SIGKILL)
    os._exit(0)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
for k in kids: os.waitpid(k, 0)
EOF
cat >"$tmp/crr_client.py" <<'EOF'
# crr_client.py SRCADDR N: N times connect, send 64 bytes, read 256, close.
import socket, sys, time
src, n = sys.argv[1], int(sys.argv[2])
req = b"q" * 64
deadline = time.time() + 240
done = 0
for _ in range(n):
    if time.time() > deadline: break
    c = socket.socket()
    c.setsockopt(socket.SOL_IP, 24, 1)       # IP_BIND_ADDRESS_NO_PORT
    c.settimeout(5)
    try:
        c.bind((src, 0)); c.connect(("10.79.0.2", 7100)); c.sendall(req)
        got = 0
        while got < 256:
            d = c.recv(4096)
            if not d: break
            got += len(d)
        done += 1
    except OSError as e:
        print("client %s: %s" % (src, e), file=sys.stderr)
    c.close()
print(done)
EOF

if [[ -s "$data/crr.pcap" && $force -eq 0 ]]; then
	echo "crr.pcap exists (use --force to remake)"
else
	ip netns exec "$nss" python3 "$tmp/crr_server.py" >"$tmp/crr-s.log" 2>&1 &
	spid=$!; pids+=("$spid")
	wait_for "$tmp/crr-s.log" ready 100 || { cat "$tmp/crr-s.log" >&2; exit 1; }
	start_tcpdump "$tmp/crr.pcap" "tcp port 7100"
	per=$(((want_crr + 1000) / 4 + 1))
	cpids=()
	for a in 11 12 13 14; do
		timeout 280 ip netns exec "$nsc" python3 "$tmp/crr_client.py" "10.79.0.$a" "$per" \
			>"$tmp/crr-c$a.out" 2>"$tmp/crr-c$a.err" &
		cpids+=($!); pids+=($!)
	done
	for p in "${cpids[@]}"; do wait "$p" || true; done
	stop_tcpdump
	cat "$tmp"/crr-c*.err | sort | uniq -c | head -5 >&2
	read -r got syns < <(python3 "$tmp/count.py" "$tmp/crr.pcap")
	echo "crr.pcap: $got packets, $syns SYNs, clients completed: $(awk '{s += $1} END {print s}' "$tmp"/crr-c*.out)"
	((syns >= want_crr)) || { echo "make-captures: crr.pcap has only $syns connections" >&2; exit 1; }
	mv "$tmp/crr.pcap" "$data/crr.pcap"
	kill "$spid" 2>/dev/null || true
fi

ls -l "$data"/*.pcap
