#!/usr/bin/env bash
# emu_topo.sh BIN - TAP scenario: the topology of `netdx emu`.
#
#   $name-snd                 $name-mid                      $name-rcv
#   s0 10.X.Y.1/24 ==veth== m0 (promisc)  m1 (promisc) ==veth== r0 10.X.Y.2/24
#
# BIN is anything that takes `BIN emu topo up|down|get NAME [--mtu N]
# [--subnet 10.X.Y.0]`: the netdx CLI, or tests/emu_topo_driver.c until the
# CLI has it. Checked with standard tools only (ip -n, ip netns, ethtool -k
# via ip netns exec): up makes the three namespaces, the four interfaces up
# with their addresses, MTU, offloads off and m0/m1 promiscuous; get agrees
# with the kernel; a second up fails cleanly and leaves the first intact;
# down removes everything, also after a killed run (a process left inside
# NAME-mid), after a partial removal and a stale namespace file; down with
# nothing there succeeds; bad names are refused with a message; an up that
# fails midway (fd limit) leaves nothing behind. No traffic is sent.
#
# Needs root and `ip netns`; otherwise the whole test is skipped. Everything
# it creates (namespaces, processes, temp files) is removed on exit,
# failure, SIGINT and SIGTERM.
set -u
# shellcheck source=tests/scenarios/wait_lib.sh
source "$(dirname "$0")/wait_lib.sh"

bin=${1:-}
if [[ -z "$bin" || ! -x "$bin" ]]; then
	echo "1..0 # SKIP binary not given or not executable: '${bin}'"
	exit 0
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
if [[ $EUID -ne 0 ]]; then echo "1..0 # SKIP needs root (network namespaces)"; exit 0; fi
for t in ip ethtool timeout; do
	if ! command -v "$t" >/dev/null; then echo "1..0 # SKIP $t not installed"; exit 0; fi
done
if ! ip netns list >/dev/null 2>&1; then echo "1..0 # SKIP ip netns not available"; exit 0; fi

# Unique per run and within the 8-character limit: "et" + the PID in hex.
name=$(printf 'et%x' $$)
nss=("$name-snd" "$name-mid" "$name-rcv")
for ns in "${nss[@]}"; do
	if [[ -e /run/netns/$ns ]]; then
		echo "1..0 # SKIP namespace $ns exists already (not ours)"
		exit 0
	fi
done
tmp=$(mktemp -d /tmp/ndx-emu-topo.XXXXXX)
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	timeout 20 "$bin" emu topo down "$name" >/dev/null 2>&1 || true
	# Belt and braces, in case the code under test is what failed.
	ns_purge "${nss[@]}"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
diag() { sed 's/^/# /' "$@"; }

topo() { timeout 60 "$bin" emu topo "$@"; }

# ns_of IFACE -> its namespace
ns_of() {
	case $1 in
	s0) echo "$name-snd" ;;
	m0 | m1) echo "$name-mid" ;;
	r0) echo "$name-rcv" ;;
	esac
}
# flags NS DEV -> the link's flags, e.g. BROADCAST,MULTICAST,UP,LOWER_UP
flags() { ip -n "$1" -o link show dev "$2" 2>/dev/null | sed -n 's/^[0-9]*: [^<]*<\([^>]*\)>.*/\1/p'; }
has_flag() { [[ ",$(flags "$1" "$2")," == *",$3,"* ]]; }
# inet NS DEV -> its IPv4 addresses (a.b.c.d/len), one a line
inet() { ip -n "$1" -o -4 addr show dev "$2" 2>/dev/null | awk '{print $4}'; }
mtu_of() { ip -n "$1" -o link show dev "$2" 2>/dev/null | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; }
ifindex_of() { ip -n "$1" -o link show dev "$2" 2>/dev/null | sed -n 's/^\([0-9]*\):.*/\1/p'; }
mac_of() { ip -n "$1" -o link show dev "$2" 2>/dev/null | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
ns_count() { ip netns list | awk '{print $1}' | grep -cxF -e "${nss[0]}" -e "${nss[1]}" -e "${nss[2]}"; }
gone() { [[ $(ns_count) == 0 ]] && ! ls /run/netns/"$name"-* >/dev/null 2>&1; }

all_up() {
	local d
	for d in s0 m0 m1 r0; do has_flag "$(ns_of $d)" "$d" UP || { echo "# $d not up: $(flags "$(ns_of $d)" $d)"; return 1; }; done
	for ns in "${nss[@]}"; do has_flag "$ns" lo UP || { echo "# lo not up in $ns"; return 1; }; done
}
addresses_ok() {
	local a s r
	a=$(inet "$name-snd" s0); r=$(inet "$name-rcv" r0)
	echo "# s0 $a, r0 $r"
	[[ $a =~ ^10\.([0-9]+)\.([0-9]+)\.1/24$ ]] || return 1
	s="10.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
	[[ $r == "$s.2/24" ]] || return 1
	[[ -z $(inet "$name-mid" m0) && -z $(inet "$name-mid" m1) ]]
}
offloads_off() {
	local d want
	# Frames on the wire are MTU-sized: no segmentation offload anywhere,
	# no GRO where the emulator reads (m0, m1). The ends receive like a
	# host: GRO on and NAPI in its own thread (so the emulator's send()
	# does not run the receiving stack).
	for d in s0 m0 m1 r0; do
		ip netns exec "$(ns_of $d)" ethtool -k "$d" >"$tmp/k.$d" 2>&1 || return 1
		want=off; [[ $d == [sr]0 ]] && want=on
		if [[ $(grep -cE '^(tcp-segmentation-offload|generic-segmentation-offload): off' "$tmp/k.$d") != 2 ]] ||
			! grep -q "^generic-receive-offload: $want" "$tmp/k.$d"; then
			echo "# $d (GRO should be $want):"; grep -E '^(tcp-seg|generic-)' "$tmp/k.$d" | diag
			return 1
		fi
	done
	for d in s0 r0; do
		[[ $(ip netns exec "$(ns_of $d)" cat "/sys/class/net/$d/threaded") == 1 ]] || { echo "# $d: NAPI not threaded"; return 1; }
	done
}
promisc_ok() {
	has_flag "$name-mid" m0 PROMISC && has_flag "$name-mid" m1 PROMISC &&
		! has_flag "$name-snd" s0 PROMISC && ! has_flag "$name-rcv" r0 PROMISC
}
mtus() { local d; for d in s0 m0 m1 r0; do printf '%s ' "$(mtu_of "$(ns_of $d)" $d)"; done; }
get_agrees() {
	topo get "$name" >"$tmp/get.out" 2>"$tmp/get.err" || { diag "$tmp/get.err"; return 1; }
	local d line
	for d in s0 m0 m1 r0; do
		line=$(grep "^if $d " "$tmp/get.out")
		[[ $line == *" ifindex $(ifindex_of "$(ns_of $d)" $d) "* && $line == *" mac $(mac_of "$(ns_of $d)" $d) "* ]] ||
			{ echo "# get: $line"; return 1; }
	done
}

echo "1..23"

# --- names and the empty case ----------------------------------------------
for bad in "Bad_Nm" "toolongnm" "-x" ""; do
	topo up "$bad" >/dev/null 2>"$tmp/bad.err"; rc=$?
	if [[ $rc != 0 ]] && grep -qi "name" "$tmp/bad.err" && ! ip netns list | grep -q "^$bad-"; then
		ok "up refuses bad name '$bad' with a message"
	else
		notok "up refuses bad name '$bad' with a message (rc $rc)"; diag "$tmp/bad.err"
	fi
done
topo down "$name" >"$tmp/down0.out" 2>&1; rc=$?
check "down with nothing there succeeds" test "$rc" = 0

# --- up ----------------------------------------------------------------------
topo up "$name" >"$tmp/up.out" 2>"$tmp/up.err"; rc=$?
check "up $name succeeds" test "$rc" = 0
[[ $rc == 0 ]] || diag "$tmp/up.err"
check "three namespaces in ip netns list" test "$(ns_count)" = 3
check "s0, m0, m1, r0 and lo up in their namespaces" all_up
check "s0 10.X.Y.1/24 and r0 10.X.Y.2/24 in one /24, m0 and m1 without address" addresses_ok
check "TSO, GSO off on all four, GRO off on m0/m1, GRO and threaded NAPI on s0/r0" offloads_off
check "m0 and m1 promiscuous, s0 and r0 not" promisc_ok
m=$(mtus); check "MTU 1500 on all four ($m)" test "$m" = "1500 1500 1500 1500 "
check "get agrees with ip (ifindex, MAC)" get_agrees

# --- up twice ----------------------------------------------------------------
before="$(ifindex_of "$name-snd" s0) $(mac_of "$name-snd" s0) $(ifindex_of "$name-rcv" r0)"
topo up "$name" >/dev/null 2>"$tmp/up2.err"; rc=$?
if [[ $rc != 0 ]] && grep -qF "netdx emu topo down $name" "$tmp/up2.err"; then
	ok "second up fails, suggesting 'netdx emu topo down $name'"
else
	notok "second up fails, suggesting 'netdx emu topo down $name' (rc $rc)"; diag "$tmp/up2.err"
fi
after="$(ifindex_of "$name-snd" s0) $(mac_of "$name-snd" s0) $(ifindex_of "$name-rcv" r0)"
check "second up leaves the first intact" test "$before" = "$after"

# --- down ----------------------------------------------------------------------
topo down "$name" >/dev/null 2>"$tmp/down.err"; rc=$?
check "down succeeds" test "$rc" = 0
check "down removes all three namespaces" gone

# --- MTU and subnet given ------------------------------------------------------
topo up "$name" --mtu 9000 --subnet 10.251.7.0 >/dev/null 2>"$tmp/up3.err"; rc=$?
m=$(mtus)
if [[ $rc == 0 && $m == "9000 9000 9000 9000 " && $(inet "$name-snd" s0) == 10.251.7.1/24 &&
	$(inet "$name-rcv" r0) == 10.251.7.2/24 ]]; then
	ok "up --mtu 9000 --subnet 10.251.7.0"
else
	notok "up --mtu 9000 --subnet 10.251.7.0 (rc $rc, mtus $m)"; diag "$tmp/up3.err"
fi

# --- down after a killed run: a process left inside NAME-mid -------------------
[[ $(ns_count) == 3 ]] || topo up "$name" >/dev/null 2>&1
ip netns exec "$name-mid" sleep 1000 &
sleeper=$!
pids+=("$sleeper")
for _ in $(seq 50); do [[ -n $(ip netns pids "$name-mid" 2>/dev/null) ]] && break; sleep 0.1; done
inside=$(ip netns pids "$name-mid" 2>/dev/null | tr '\n' ' ')
echo "# in $name-mid: $inside"
topo down "$name" >/dev/null 2>"$tmp/down2.err"; rc=$?
wait "$sleeper" 2>/dev/null
alive=0
for p in $inside; do kill -0 "$p" 2>/dev/null && alive=1; done
if [[ -n $inside && $rc == 0 && $alive == 0 ]]; then
	ok "down kills the process left in $name-mid"
else
	notok "down kills the process left in $name-mid (rc $rc, pids '$inside', alive $alive)"; diag "$tmp/down2.err"
fi
check "down after a killed run removes the namespaces" gone

# --- down after a partial removal and a stale namespace file -----------------
topo up "$name" >/dev/null 2>&1
ip netns del "$name-rcv"
touch "/run/netns/$name-rcv"   # as if killed between creating the file and mounting
topo down "$name" >/dev/null 2>"$tmp/down3.err"; rc=$?
if [[ $rc == 0 ]] && gone; then
	ok "down removes a partial topology with a stale namespace file"
else
	notok "down removes a partial topology with a stale namespace file (rc $rc)"; diag "$tmp/down3.err"
fi

# --- up failing midway leaves nothing --------------------------------------------
# Run out of file descriptors at every step in turn: each failed up must
# leave nothing behind.
midway=0 leftovers=0
for lim in $(seq 4 40); do
	(ulimit -n "$lim"; exec "$bin" emu topo up "$name") >/dev/null 2>"$tmp/lim.err"; rc=$?
	if [[ $rc == 0 ]]; then
		topo down "$name" >/dev/null 2>&1
		break
	fi
	grep -qE "$name-(mid|rcv)|veth|offloads|address|promisc|setting up" "$tmp/lim.err" && midway=$((midway + 1))
	gone || { leftovers=$((leftovers + 1)); echo "# ulimit -n $lim left: $(ip netns list | grep "$name")"; diag "$tmp/lim.err"; topo down "$name" >/dev/null 2>&1; }
done
echo "# $midway failures after the first namespace was made"
check "up failing midway removes what it made ($midway midway failures)" test "$leftovers" = 0 -a "$midway" -gt 0

topo down "$name" >/dev/null 2>&1; rc=$?
check "down again with nothing there succeeds" test "$rc" = 0
