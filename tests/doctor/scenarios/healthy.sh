#!/usr/bin/env bash
# healthy.sh NETDX [--tap|--demo|--json]
# demo: the same rr workload with no fault: nothing above info
#
# The control for rr-drops-rto: the same topology and two rr flows, and no
# rule, no shaping, no small buffer. doctor must not find anything worse
# than "info" (a request/response flow is sender-limited by nature; that is
# information, not a fault).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/doctor/scenarios/lib.sh
source "$here/lib.sh"
dx_init "${1:-}" "${2:---demo}" ok
dx_topo
dx_server

dx_say "fault: none"
dx_say "workload: netdx bench rr, 2 flows, 64-byte requests and responses, 4 s; doctor for 6 s"
dx_doctor 6 -i "$DX_C/$DX_VC" --netns "$DX_C,$DX_R,$DX_S" -- \
	ip netns exec "$DX_C" "$NETDX" bench rr "$DX_SIP" --port "$DX_PORT" --flows 2 --duration 4 \
	--req 64 --resp 64 --json
dx_truth "nothing"
dx_checks

dx_plan 5
dx_runs_ok
dx_is "nothing above info" "$(dx_q 'findings_above[info]')" 0
dx_cmp "the capture saw the workload's connections" "$(dx_q source[tcp].conns)" -ge 2
dx_is "every source ran" \
	"$(dx_q source[tcp].available) $(dx_q source[drops].available) $(dx_q source[counters].available) $(dx_q source[bench].available)" \
	"true true true true"
dx_cmp "the workload ran (bench transactions)" "$(dx_q source[bench].transactions)" -gt 1000
dx_done
