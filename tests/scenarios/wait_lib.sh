# shellcheck shell=bash
# wait_lib.sh — sourced by the scenario libraries (emu_lib, truth_lib, the
# doctor's lib.sh, drops_lib): waiting, bounded, for a background process
# to be ready.
#
#   wait_log PID FILE PATTERN [TRIES [PAUSE]]
#       0 once FILE has a line matching PATTERN (grep -E); 1 when PID has
#       ended first (PID may be "" to skip that test) or after TRIES (100)
#       checks PAUSE (0.1) seconds apart
#   wait_listen NS PORT [TRIES [PAUSE]]
#       0 once something listens on TCP PORT in namespace NS; 1 after TRIES
#       (100) checks PAUSE (0.05) seconds apart

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
