# shellcheck shell=bash
# wait_lib.sh — sourced by the scenario libraries (emu_lib, truth_lib,
# bench_lib, the doctor's lib.sh, drops_lib) and the emu scenarios: waiting,
# bounded, for a background process to be ready, and the cleanup every one
# of them needs.
#
#   wait_log PID FILE PATTERN [TRIES [PAUSE]]
#       0 once FILE has a line matching PATTERN (grep -E); 1 when PID has
#       ended first (PID may be "" to skip that test) or after TRIES (100)
#       checks PAUSE (0.1) seconds apart
#   wait_listen NS PORT [TRIES [PAUSE]]
#       0 once something listens on TCP PORT in namespace NS; 1 after TRIES
#       (100) checks PAUSE (0.05) seconds apart
#   stop_pids PID...
#       TERM them, wait (at most 3 s) until all have ended, KILL what is
#       left, reap
#   ns_purge NS...
#       for each namespace that exists: KILL whatever still runs inside it
#       (in a namespace of ours it was started by us), then delete it

wait_log() {
	local pid=$1 file=$2 pat=$3 tries=${4:-100} pause=${5:-0.1} i
	for ((i = 0; i < tries; i++)); do
		grep -qE "$pat" "$file" 2>/dev/null && return 0
		[[ -z $pid ]] || kill -0 "$pid" 2>/dev/null || return 1
		sleep "$pause"
	done
	return 1
}

wait_listen() {
	local ns=$1 port=$2 tries=${3:-100} pause=${4:-0.05} i
	for ((i = 0; i < tries; i++)); do
		ip netns exec "$ns" ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && return 0
		sleep "$pause"
	done
	return 1
}

stop_pids() {
	local p i alive
	for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
	for ((i = 0; i < 30; i++)); do
		alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	for p in "$@"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	return 0
}

ns_purge() {
	local ns p
	for ns in "$@"; do
		[[ -e /run/netns/$ns ]] || continue
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null || rm -f "/run/netns/$ns"
	done
	return 0
}
