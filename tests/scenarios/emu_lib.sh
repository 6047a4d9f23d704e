# shellcheck shell=bash
# emu_lib.sh — sourced by the scripts that drive `netdx emu` (tests, bench,
# the experiment). Needs NETDX, NAME (the topology), TMP and PIDS set by the
# caller; DUR (seconds of workload) is optional. Messages go through
# emu_say TEXT [FILE], which a caller may redefine (tests print TAP
# diagnostics); the default writes to stderr.
#
#   emu_trap                 install emu_cleanup on EXIT, INT, TERM
#   emu_cleanup              kill PIDS, `netdx emu topo down NAME`, remove any
#                            namespace of NAME left over, remove TMP
#   emu_start OUT ARGS...    `netdx emu run NAME --json ARGS` in the background
#                            (stdout OUT, stderr OUT.err), waits until it
#                            forwards; EMU_PID
#   emu_stop                 SIGINT, wait (bounded) for its summary
#   server_start [PORT]      `netdx bench server --once` in NAME-rcv, waits
#                            until it listens; SRV_PID, log TMP/server.PORT.out
#   server_wait              wait (bounded) for the server to end

# shellcheck source=tests/scenarios/wait_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/wait_lib.sh"

EMU_PID=""
SRV_PID=""

emu_say() {
	echo "$1" >&2
	[[ -n ${2:-} ]] && head -c 500 "$2" >&2
	return 0
}

emu_cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	timeout 20 "$NETDX" emu topo down "$NAME" >/dev/null 2>&1 || true
	ns_purge "$NAME-snd" "$NAME-mid" "$NAME-rcv"   # in case topo down is what failed
	rm -rf "$TMP"
}

emu_trap() {
	trap emu_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

emu_start() {
	local out=$1; shift
	"$NETDX" emu run "$NAME" --json "$@" >"$out" 2>"$out.err" &
	EMU_PID=$!
	PIDS+=("$EMU_PID")
	wait_log "$EMU_PID" "$out.err" forwarding && return 0
	emu_say "emu run $* did not start:" "$out.err"
	return 1
}

emu_stop() {
	[[ -n $EMU_PID ]] || return 0
	kill -INT "$EMU_PID" 2>/dev/null
	timeout 15 tail --pid="$EMU_PID" -f /dev/null 2>/dev/null
	kill -9 "$EMU_PID" 2>/dev/null && emu_say "emu run did not stop on SIGINT within 15 s"
	wait "$EMU_PID" 2>/dev/null
	EMU_PID=""
}

server_start() {
	local port=${1:-7250}
	ip netns exec "$NAME-rcv" timeout $((${DUR:-0} + 120)) "$NETDX" bench server --once --port "$port" \
		>"$TMP/server.$port.out" 2>&1 &
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	wait_listen "$NAME-rcv" "$port" && return 0
	emu_say "bench server on port $port did not listen" "$TMP/server.$port.out"
	return 1
}

server_wait() {
	timeout 20 tail --pid="$SRV_PID" -f /dev/null 2>/dev/null
	kill -9 "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
}
