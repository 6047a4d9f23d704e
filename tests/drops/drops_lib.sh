# shellcheck shell=bash
# shellcheck disable=SC2034  # DL_* results are read by the scripts that source this file
# drops_lib.sh — sourced by the `netdx drops` scenario tests (tests/drops/*.sh),
# on top of the two-namespace prologue of tests/scenarios/ns2_lib.sh:
#
#   +---------------------------+          +---------------------------+
#   | $NS_A                     |          | $NS_B                     |
#   |  $VETH_A  ADDR_A/24 ======|== veth ==|====== $VETH_B  ADDR_B/24  |
#   +---------------------------+          +---------------------------+
#   netdx drops runs in the initial namespace and sees both.
#
#   dl_init NETDX TAG TOOL...     ns2_init, plus python3 and the query helper
#   dl_start OUT [ARGS...]        netdx drops --json ARGS > OUT in the background;
#                                 returns once its programs are attached (the
#                                 meta line is out); DL_PID is its pid
#   dl_stop PID [SIG]             send SIG (default INT), wait; DL_RC = exit code
#   ndq OUT CMD ...               query the NDJSON (tests/drops/ndq.py)
#   ns_inode NS                   inode of namespace NS (what the JSON calls netns)
#   udp_send NS SRC SPORT DST DPORT COUNT [SIZE]   COUNT datagrams, paced a little
#   our_prog_ids                  ids of the loaded programs named ndd_* (ours)
#   our_progs                     how many there are
#   our_links IDS...              how many BPF links point at those programs
#   wait_detached [IDS...]        0 once those programs and their links are gone (no
#                                 IDS: once no ndd_* program is loaded at all)
#                                 (the kernel frees them shortly after close)
#   pid_prog_ids PID              ids of the eBPF programs process PID holds
#                                 (its fdinfo): ours, whatever else runs
#   progs_gone IDS...             0 once none of those programs is loaded
#
# Cleanup (namespaces with their iptables rules and qdiscs, processes, TMP)
# is ns2_lib's trap; scripts that change more chain their own cleanup first.

# shellcheck source=tests/scenarios/ns2_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scenarios/ns2_lib.sh"
# shellcheck source=tests/scenarios/wait_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scenarios/wait_lib.sh"
DL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

dl_init() {
	ns2_init "$@" python3
	if [[ ! -r /sys/kernel/btf/vmlinux ]]; then
		echo "1..0 # SKIP the kernel has no BTF (/sys/kernel/btf/vmlinux)"
		exit 0
	fi
}

ndq() { python3 "$DL_DIR/ndq.py" "$@"; }

ns_inode() { stat -L -c %i "/run/netns/$1"; }

dl_start() {
	local out=$1
	shift
	"$NETDX" drops --json --duration 120 "$@" >"$out" 2>"$out.err" &
	DL_PID=$!
	PIDS+=("$DL_PID")
	wait_log "$DL_PID" "$out" '"type":"meta"' 200 0.05 && return 0
	echo "# netdx drops did not start:"
	diag "$out.err"
	return 1
}

dl_stop() {
	local pid=$1 sig=${2:-INT}
	kill -"$sig" "$pid" 2>/dev/null
	DL_RC=0
	wait "$pid" || DL_RC=$?
}

udp_send() {
	ip netns exec "$1" python3 - "$2" "$3" "$4" "$5" "$6" "${7:-64}" <<'PY'
import socket, sys, time
src, sport, dst, dport, count, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, sport))
sent = 0
for i in range(count):
    try:
        s.sendto(b"x" * size, (dst, dport))
        sent += 1
    except OSError:
        pass            # ICMP errors from earlier datagrams surface here
    if i % 20 == 19:
        time.sleep(0.002)
print(sent)
PY
}

our_prog_ids() { bpftool prog show 2>/dev/null | sed -n 's/^\([0-9]*\): .* name ndd_.*/\1/p'; }
our_progs() { our_prog_ids | grep -c .; }
our_links() {
	local id n=0
	for id in "$@"; do
		n=$((n + $(bpftool link show 2>/dev/null | grep -cw "prog $id")))
	done
	echo "$n"
}
wait_detached() {
	local i
	if (($#)); then         # those programs: gone, and no link to them
		progs_gone "$@" && [[ $(our_links "$@") == 0 ]]
		return
	fi
	for ((i = 0; i < 60; i++)); do
		[[ $(our_progs) == 0 ]] && return 0
		sleep 0.05
	done
	return 1
}
pid_prog_ids() { grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u; }
progs_gone() {
	local i id left
	for ((i = 0; i < 60; i++)); do
		left=0
		for id in "$@"; do
			bpftool prog show id "$id" >/dev/null 2>&1 && left=1
		done
		[[ $left == 0 ]] && return 0
		sleep 0.05
	done
	return 1
}
