# shellcheck shell=bash
# shellcheck disable=SC2034  # NAME, TMP, CHECK, SND, RCV, LPORT ... are for the scripts that source this file
# truth_lib.sh — sourced by the ground-truth scenarios of the TCP inference
# engine (truth_*.sh): real Linux TCP through `netdx emu`, the capture that
# `netdx tcp` reads, and the kernel's own view of the same connection next to
# it (TCP_INFO from `netdx bench`, `ss -tin`, the tcp:tcp_probe tracepoint).
# truth_check.py compares the two and prints the TAP lines (every scenario
# also checks that netdx names client and server as the bench does).
#
#   NAME-snd (s0, client, sender)   NAME-mid                 NAME-rcv (r0, server)
#   netdx bench CLIENT ... ==veth== m0 | netdx emu run | m1 ==veth== netdx bench server --once
#   ss -tin sampler                 tcpdump -i m0 (capture point: frames as the sender sent them,
#                                   ACKs after the emulated return path)
#   tcp:tcp_probe: a tracefs instance of our own, filtered on the flow's ports
#
#   truth_init NETDX TAG TOOL...  root, tools, netdx (TAP skip with the reason
#                                 otherwise); NETDX (absolute), NAME, TMP, PIDS,
#                                 PORT (bench server), LPORT (--local-port-base),
#                                 CHECK (truth_check.py); installs the cleanup
#                                 trap (EXIT, INT, TERM)
#   truth_topo                    `netdx emu topo up NAME`; SND, RCV addresses
#   truth_emu ARGS...             `netdx emu run NAME --json ARGS` (TMP/emu.json)
#   truth_server NS [ARGS]        `netdx bench server --once --port PORT ARGS` in NS
#   truth_capture NS IFACE FILE   tcpdump -s 160 --immediate-mode in NS
#   truth_probe_start FILTER      tcp:tcp_probe into a tracefs instance (clock mono),
#                                 FILTER is the event filter ("sport == 20001");
#                                 PROBE_OK=1 when it runs, PROBE_WHY otherwise
#   truth_probe_stop FILE         stop it and write the records to FILE
#   truth_ss_start NS PORT FILE   sample `ss -tin` of local port PORT every 0.2 s
#   truth_clocks FILE             CLOCK_REALTIME - CLOCK_MONOTONIC now (the
#                                 capture's clock minus tcp_probe's)
#   truth_stop_bg PID [SIG]       SIGINT (or SIG) one background process, bounded
#                                 wait (background subshells ignore SIGINT: use TERM)
#   truth_netdx PCAP OUT          `netdx tcp --json PCAP` (with --timeline when
#                                 netdx knows it)
#   truth_run CAPNS CAPDEV CLIENTNS HOST MODE ARGS...   all of it around one
#                                 `netdx bench MODE` run, into OUT (default TMP):
#                                 bench.json, cap.pcap, netdx.json, probe.txt,
#                                 clocks, ss.txt (what truth_check.py reads);
#                                 TRUTH_DURING: a function run in the background
#                                 once the client started
#   truth_run_checked CHECKS ...  truth_run, then the scenario's premises
#                                 (kernel-side); once more if one failed
#                                 (CHECK_ARGS: the checker's options)
#
# Everything created is removed on exit, failure, SIGINT and SIGTERM: the
# processes in PIDS, the namespaces NAME-snd/mid/rcv/v6 (with their iptables
# rules and sysctls), the
# tracefs instance (and tracefs itself when this script mounted it), TMP
# (kept as TRUTH_KEEP=DIR when that is set, for a look at what failed).

TRUTH_MOUNTED_TRACEFS=0
TRUTH_TRACE_INST=""
EMU_PID=""
SRV_PID=""
SRV_NS=""
SRV_ARGS=()
CHECK_ARGS=()
PROBE_OK=0
PROBE_WHY="not started"
TRUTH_TRACEFS=/sys/kernel/tracing

# shellcheck source=tests/scenarios/wait_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/wait_lib.sh"

truth_diag() { sed 's/^/# /'; }

truth_cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	sleep 0.2
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [[ -n $TRUTH_TRACE_INST && -d $TRUTH_TRACE_INST ]]; then
		echo 0 >"$TRUTH_TRACE_INST/tracing_on" 2>/dev/null
		echo 0 >"$TRUTH_TRACE_INST/events/tcp/tcp_probe/enable" 2>/dev/null
		echo 0 >"$TRUTH_TRACE_INST/events/tcp/tcp_probe/filter" 2>/dev/null
		rmdir "$TRUTH_TRACE_INST" 2>/dev/null
	fi
	if ((TRUTH_MOUNTED_TRACEFS)); then
		umount "$TRUTH_TRACEFS" 2>/dev/null || true
	fi
	if [[ -n ${NAME:-} ]]; then
		timeout 20 "$NETDX" emu topo down "$NAME" >/dev/null 2>&1 || true
		ns_purge "$NAME-snd" "$NAME-mid" "$NAME-rcv" "$NAME-v6"
	fi
	if [[ -n ${TMP:-} && -d $TMP ]]; then
		if [[ -n ${TRUTH_KEEP:-} ]]; then
			rm -rf "$TRUTH_KEEP" && mv "$TMP" "$TRUTH_KEEP"
		else
			rm -rf "$TMP"
		fi
	fi
	return 0
}

truth_init() {
	local netdx=${1:-} tag=$2 t ns
	shift 2
	if [[ -z "$netdx" || ! -x "$netdx" ]]; then
		echo "1..0 # SKIP netdx binary not given or not executable: '${netdx}'"
		exit 0
	fi
	NETDX=$(cd "$(dirname "$netdx")" && pwd)/$(basename "$netdx")
	if [[ $EUID -ne 0 ]]; then echo "1..0 # SKIP needs root (network namespaces, tracefs)"; exit 0; fi
	for t in ip ss tcpdump python3 timeout "$@"; do
		if ! command -v "$t" >/dev/null; then echo "1..0 # SKIP $t not installed"; exit 0; fi
	done
	if ! ip netns list >/dev/null 2>&1; then echo "1..0 # SKIP ip netns not available"; exit 0; fi
	NAME=$(printf 't%s%x' "$tag" $$)
	NAME=${NAME:0:9}
	for ns in "$NAME-snd" "$NAME-mid" "$NAME-rcv" "$NAME-v6"; do
		if [[ -e /run/netns/$ns ]]; then
			echo "1..0 # SKIP namespace $ns exists already (not ours)"
			NAME=""
			exit 0
		fi
	done
	CHECK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/truth_check.py
	TMP=$(mktemp -d "/tmp/ndx-truth-$tag.XXXXXX")
	PIDS=()
	PORT=$((7300 + $$ % 600))                # bench server
	LPORT=$((20000 + ($$ % 1000) * 10))      # --local-port-base: below the ephemeral range
	trap truth_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

truth_topo() {
	if ! timeout 60 "$NETDX" emu topo up "$NAME" >"$TMP/up.out" 2>&1; then
		echo "# emu topo up $NAME failed:"
		truth_diag <"$TMP/up.out"
		return 1
	fi
	timeout 10 "$NETDX" emu topo show "$NAME" --json >"$TMP/topo.json" 2>&1
	read -r SND RCV <<<"$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["snd_addr"], d["rcv_addr"])' "$TMP/topo.json" 2>/dev/null)"
	[[ -n ${RCV:-} ]]
}

truth_emu() {
	"$NETDX" emu run "$NAME" --json --duration 120 "$@" >"$TMP/emu.json" 2>"$TMP/emu.err" &
	EMU_PID=$!
	PIDS+=("$EMU_PID")
	wait_log "$EMU_PID" "$TMP/emu.err" forwarding && return 0
	echo "# emu run $* did not start:"
	truth_diag <"$TMP/emu.err"
	return 1
}

truth_server() {
	local ns=$1
	shift
	SRV_NS=$ns
	SRV_ARGS=("$@")
	ip netns exec "$ns" timeout 120 "$NETDX" bench server --once --port "$PORT" "$@" \
		>"$TMP/server.out" 2>&1 &
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	wait_listen "$ns" "$PORT" && return 0
	echo "# bench server on port $PORT did not listen:"
	truth_diag <"$TMP/server.out"
	return 1
}

truth_capture() {
	local ns=$1 dev=$2 file=$3
	ip netns exec "$ns" tcpdump -i "$dev" -s 160 -B 32768 --immediate-mode -U -w "$file" \
		"tcp port $PORT" >"$file.err" 2>&1 &
	CAP_PID=$!
	PIDS+=("$CAP_PID")
	wait_log "$CAP_PID" "$file.err" listening 100 0.05 && return 0
	echo "# tcpdump on $ns $dev did not start:"
	truth_diag <"$file.err"
	return 1
}

truth_stop_bg() {
	local pid=$1 sig=${2:-INT}
	[[ -n $pid ]] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	timeout 15 tail --pid="$pid" -f /dev/null 2>/dev/null
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

truth_probe_start() {
	local filter=$1 inst
	PROBE_OK=0
	if [[ ! -d $TRUTH_TRACEFS/events ]]; then
		if mount -t tracefs nodev "$TRUTH_TRACEFS" 2>"$TMP/mount.err"; then
			TRUTH_MOUNTED_TRACEFS=1
		else
			PROBE_WHY="cannot mount tracefs: $(head -1 "$TMP/mount.err")"
			return 1
		fi
	fi
	if [[ ! -d $TRUTH_TRACEFS/events/tcp/tcp_probe ]]; then
		PROBE_WHY="no tcp:tcp_probe tracepoint in $TRUTH_TRACEFS"
		return 1
	fi
	inst=$TRUTH_TRACEFS/instances/ndx-truth-$$
	if ! mkdir "$inst" 2>"$TMP/mkdir.err"; then
		PROBE_WHY="cannot create a tracefs instance: $(head -1 "$TMP/mkdir.err")"
		return 1
	fi
	TRUTH_TRACE_INST=$inst
	# the instance is ours: its clock, buffer and filter change nothing else
	if ! { echo mono >"$inst/trace_clock" &&
		echo 16384 >"$inst/buffer_size_kb" &&
		echo "$filter" >"$inst/events/tcp/tcp_probe/filter" &&
		echo 1 >"$inst/events/tcp/tcp_probe/enable" &&
		echo 1 >"$inst/tracing_on"; } 2>"$TMP/probe.err"; then
		PROBE_WHY="cannot set up tcp_probe (filter '$filter'): $(head -1 "$TMP/probe.err")"
		return 1
	fi
	PROBE_OK=1
	PROBE_WHY=""
}

truth_probe_stop() {
	local file=$1
	: >"$file"
	((PROBE_OK)) || return 1
	echo 0 >"$TRUTH_TRACE_INST/tracing_on"
	echo 0 >"$TRUTH_TRACE_INST/events/tcp/tcp_probe/enable"
	cat "$TRUTH_TRACE_INST/trace" >"$file"
	# the ring overwrote records if this is not zero
	grep -h 'overrun' "$TRUTH_TRACE_INST/per_cpu"/cpu*/stats >"$file.overrun" 2>/dev/null
	echo 0 >"$TRUTH_TRACE_INST/events/tcp/tcp_probe/filter"
	rmdir "$TRUTH_TRACE_INST" 2>/dev/null && TRUTH_TRACE_INST=""
	PROBE_OK=0
	return 0
}

truth_ss_start() {
	local ns=$1 port=$2 file=$3
	(
		trap - EXIT INT TERM
		while :; do
			echo "@ $(date +%s.%N)"
			ip netns exec "$ns" ss -Htin state established "( sport = :$port )"
			sleep 0.2
		done
	) >"$file" 2>&1 &
	SS_PID=$!
	PIDS+=("$SS_PID")
}

truth_clocks() {
	python3 -c '
import time
a = time.clock_gettime(time.CLOCK_MONOTONIC)
r = time.clock_gettime(time.CLOCK_REALTIME)
b = time.clock_gettime(time.CLOCK_MONOTONIC)
print("%.6f" % (r - (a + b) / 2))' >"$1"
}

truth_netdx() {
	local pcap=$1 out=$2 tl=()
	"$NETDX" help tcp 2>&1 | grep -q -- '--timeline' && tl=(--timeline)
	"$NETDX" tcp --json "${tl[@]}" "$pcap" >"$out" 2>"$out.err"
}

# truth_run CAPNS CAPDEV CLIENTNS HOST MODE ARGS...: the workload with everything
# recorded in OUT (default TMP): tcp_probe (filtered on the flow's ports), the
# clock offset, the capture (from the start, or TRUTH_CAP_DELAY seconds after
# the client began: the handshake is then missed), `ss -tin` of the client
# socket, `netdx bench MODE HOST --local-port-base LPORT ARGS` in CLIENTNS
# (OUT/bench.json), then everything stopped and `netdx tcp --json` run on the
# capture (OUT/netdx.json). Needs the server started.
truth_run() {
	local capns=$1 capdev=$2 cns=$3 host=$4 mode=$5 cpid rc out=${OUT:-$TMP}
	shift 5
	mkdir -p "$out"
	truth_probe_start "sport == $LPORT || dport == $LPORT" || echo "# tcp_probe not available: $PROBE_WHY"
	truth_clocks "$out/clocks"
	if [[ -z ${TRUTH_CAP_DELAY:-} ]]; then
		truth_capture "$capns" "$capdev" "$out/cap.pcap" || return 1
	fi
	truth_ss_start "$cns" "$LPORT" "$out/ss.txt"
	ip netns exec "$cns" timeout 60 "$NETDX" bench "$mode" "$host" --port "$PORT" --json \
		--local-port-base "$LPORT" "$@" >"$out/bench.json" 2>"$out/bench.err" &
	cpid=$!
	PIDS+=("$cpid")
	if [[ -n ${TRUTH_DURING:-} ]]; then
		(
			trap - EXIT INT TERM
			"$TRUTH_DURING"
		) >"$out/during.out" 2>&1 &
		PIDS+=("$!")
	fi
	if [[ -n ${TRUTH_CAP_DELAY:-} ]]; then
		sleep "$TRUTH_CAP_DELAY"
		truth_capture "$capns" "$capdev" "$out/cap.pcap"
	fi
	wait "$cpid"
	rc=$?
	if [[ $rc -ne 0 ]]; then
		echo "# bench $mode $* exited $rc:"
		head -c 1000 "$out/bench.err" | truth_diag
	fi
	sleep 0.3       # tcpdump's last packets, the FIN's ACK
	truth_stop_bg "$SS_PID" TERM
	truth_stop_bg "$CAP_PID"
	truth_probe_stop "$out/probe.txt"
	if [[ -s $out/probe.txt.overrun ]] && grep -qv 'overrun: 0' "$out/probe.txt.overrun"; then
		echo "# tcp_probe ring overran: $(tr '\n' ' ' <"$out/probe.txt.overrun")"
	fi
	timeout 20 tail --pid="$SRV_PID" -f /dev/null 2>/dev/null
	if [[ -n $EMU_PID ]]; then
		timeout 10 "$NETDX" emu stats "$NAME" --json >"$out/emu_stats.json" 2>/dev/null
		echo "# emulator drops so far: $(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("; ".join(k + " " + json.dumps(d[k]["drops"]) for k in ("fwd", "rev")))' "$out/emu_stats.json" 2>&1)"
	fi
	truth_netdx "$out/cap.pcap" "$out/netdx.json" ||
		{ echo "# netdx tcp failed:"; head -c 1000 "$out/netdx.json.err" | truth_diag; }
	return $rc
}

# truth_run_checked CHECKS CAPNS CAPDEV CLIENTNS HOST MODE ARGS...: truth_run
# (the server started by truth_server), then the scenario's premises
# (truth_check.py CHECKS --premise: did the kernel see the workload the
# scenario needs, e.g. a verdict clear of the threshold? Kernel-side facts
# only, never netdx's output). If one failed (a host hiccup: the emulator or
# the ends starved of CPU, a loss nobody asked for), once more on a fresh
# connection: TRUTH_RETRY_HOOK (a function) first when set, local port
# LPORT + 1, the server again. The second run's result stands either way.
truth_run_checked() {
	local checks=$1 out=${OUT:-$TMP}
	shift
	truth_run "$@"
	python3 "$CHECK" "$out" "$checks" "${CHECK_ARGS[@]}" --premise && return 0
	echo "# the workload did not do what this scenario needs (above): once more, on a fresh connection"
	for f in bench.json netdx.json cap.pcap probe.txt ss.txt clocks; do
		[[ -e $out/$f ]] && mv "$out/$f" "$out/first.$f"
	done
	[[ -n ${TRUTH_RETRY_HOOK:-} ]] && "$TRUTH_RETRY_HOOK"
	LPORT=$((LPORT + 1))
	truth_server "$SRV_NS" "${SRV_ARGS[@]}" || return 1
	truth_run "$@"
	python3 "$CHECK" "$out" "$checks" "${CHECK_ARGS[@]}" --premise
	return 0
}
