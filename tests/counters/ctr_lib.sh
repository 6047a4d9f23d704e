# shellcheck shell=bash
# ctr_lib.sh — sourced by the scenario tests of `netdx counters`, after
# tests/scenarios/ns2_lib.sh and its ns2_init.
#
#   ctr_init                     replaces ns2_lib's trap with ctr_cleanup (which
#                                also restores a host sysctl changed here and
#                                deletes CTR_NS, the extra namespaces), sets CTR_Q
#   ctr_q ARGS...                python3 ctr_json.py ARGS... (see that file)
#   ctr_nstat NS NAME            an absolute counter (nstat name, e.g.
#                                TcpRetransSegs) in namespace NS
#   ctr_delta_bg OUT SECS ARGS...  netdx counters delta --interval SECS --json
#                                ARGS... in the background (pid in CTR_PID,
#                                stderr in OUT.err); returns once its first
#                                reading is done (its meta line is out)
#   ctr_started OUT              wait (up to 20 s) for the meta line in OUT
#   ctr_serve_bg ERR ARGS...     netdx counters serve --listen 127.0.0.1:0 ARGS... in
#                                the background (pid in SPID, added to PIDS, stderr
#                                in ERR); PORT is the port it took, empty if it
#                                did not start within 5 s
#   ctr_wait                     wait for CTR_PID; a non-zero exit is remembered
#   ctr_runs_ok                  the last test point: every ctr_wait saw exit 0 and
#                                no stderr file in TMP holds a sanitizer report
#   ctr_eq DESC GOT WANT         ok when GOT == WANT (integers), else notok with both
#   ctr_ct_max_set N             lower the host's nf_conntrack_max (global; read-only
#                                inside a namespace) under flock /tmp/netdx-sysctl.lock,
#                                saving the old value for ctr_ct_max_restore / cleanup
#   ctr_ct_max_restore           put it back and release the lock

CTR_NS=()
CTR_CT_SAVED=""

ctr_ct_max_restore() {
	if [[ -n $CTR_CT_SAVED ]]; then
		sysctl -qw net.netfilter.nf_conntrack_max="$CTR_CT_SAVED"
		CTR_CT_SAVED=""
		flock -u 9 2>/dev/null
		exec 9>&-
	fi
	return 0
}

ctr_cleanup() {
	local ns
	ctr_ct_max_restore
	for ns in "${CTR_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	ns2_cleanup
}

ctr_init() {
	CTR_Q="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ctr_json.py"
	trap ctr_cleanup EXIT
}

ctr_q() { python3 "$CTR_Q" "$@"; }

ctr_nstat() {
	ip netns exec "$1" nstat -asz "$2" 2>/dev/null | awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'
}

ctr_delta_bg() {
	local out=$1 secs=$2
	shift 2
	"$NETDX" counters delta --interval "$secs" --json "$@" >"$out" 2>"$out.err" &
	CTR_PID=$!
	PIDS+=("$CTR_PID")
	ctr_started "$out"
}

ctr_started() {
	for _ in $(seq 200); do
		[[ -s $1 ]] && return 0
		sleep 0.1
	done
	echo "# no meta line in $1 after 20 s"
}

ctr_serve_bg() {
	local err=$1
	shift
	"$NETDX" counters serve --listen 127.0.0.1:0 "$@" 2>"$err" &
	SPID=$!
	PIDS+=("$SPID")
	PORT=""
	for _ in $(seq 50); do
		PORT=$(grep -o 'port [0-9]*' "$err" | cut -d' ' -f2)
		[[ -n $PORT ]] && break
		sleep 0.1
	done
}

CTR_BAD=""
ctr_wait() {
	wait "$CTR_PID"
	local rc=$?
	[[ $rc -eq 0 ]] || CTR_BAD+=" pid $CTR_PID exit $rc;"
	return $rc
}

ctr_runs_ok() {
	local f reports=""
	for f in "$TMP"/*.err; do
		[[ -f $f ]] && grep -qE 'Sanitizer|runtime error:' "$f" && reports+=" $(basename "$f")"
	done
	if [[ -z $CTR_BAD && -z $reports ]]; then
		ok "every netdx run exited 0, no sanitizer report"
	else
		notok "netdx runs:$CTR_BAD sanitizer reports in:$reports"
	fi
}

ctr_eq() {
	if [[ -n "$2" && "$2" == "$3" ]]; then ok "$1 ($2)"; else notok "$1: got '${2}', want '${3}'"; fi
}

ctr_ct_max_set() {
	exec 9>/tmp/netdx-sysctl.lock
	if ! flock -w 120 9; then
		echo "# could not take /tmp/netdx-sysctl.lock in 120 s"
		return 1
	fi
	CTR_CT_SAVED=$(sysctl -n net.netfilter.nf_conntrack_max)
	sysctl -qw net.netfilter.nf_conntrack_max="$1"
}
