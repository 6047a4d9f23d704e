#!/usr/bin/env bash
# exit_paths.sh NETDX - TAP scenario: every way netdx drops ends leaves no
# eBPF program and no link attached (bpftool prog/link lists), and every
# missing precondition is a one-line message naming what is needed, with
# the documented exit code.
#
#   exits checked while attached: --duration, SIGINT, SIGTERM, SIGKILL, an
#   output error (the reader of stdout goes away), the classic tracepoints (tracefs
#   unmounted in a private mount namespace: netdx mounts it there)
#   refusals: no CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN (setpriv), no BTF (tmpfs
#   over /sys/kernel/btf in a private mount namespace), tracefs unmounted
#   without CAP_SYS_ADMIN to mount it, bad options, no such namespace/device
#
# The while-running cases are told by their process (the program ids it
# holds); the classic-tracepoint and refusal checks by name (ndd_*): no other
# netdx drops may run meanwhile for those.
set -u
# shellcheck source=tests/drops/drops_lib.sh
source "$(dirname "$0")/drops_lib.sh"
dl_init "${1:-}" dex bpftool setpriv unshare
tmp=$TMP
echo "1..17"

if [[ $(our_progs) != 0 ]]; then
	echo "# another netdx drops is running; its programs would be counted as ours"
	bpftool prog show | grep ' name ndd_' | sed 's/^/# /'
fi

# run_case KEY NAME HOW WANT: start netdx drops, wait until its programs
# and links are all there, end it HOW, check the exit code WANT and that
# nothing is left attached.
run_case() {
	local name=$2 how=$3 want=$4 ids="" rc=0 out=$tmp/$1.out nids=0 nlinks=0 i
	case $how in
	# the reader goes away after the first byte: the next refresh fails
	# (EPIPE, SIGPIPE ignored) after the programs were attached
	pipe) "$NETDX" drops --interval 0.3 --duration 20 2>"$out.err" > >(head -c 1 >/dev/null) & ;;
	duration) "$NETDX" drops --json --duration 1.5 >"$out" 2>"$out.err" & ;;
	*) "$NETDX" drops --json --duration 30 >"$out" 2>"$out.err" & ;;
	esac
	local pid=$!
	PIDS+=("$pid")
	for ((i = 0; i < 200; i++)); do
		ids=$(pid_prog_ids "$pid")
		nids=$(grep -c . <<<"$ids")
		# shellcheck disable=SC2086
		nlinks=$(our_links $ids)
		[[ $nids -ge 6 && $nlinks -ge 6 ]] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	case $how in
	INT | TERM | KILL) sleep 0.2; kill -"$how" "$pid" ;;
	esac
	wait "$pid" 2>/dev/null || rc=$?
	# shellcheck disable=SC2086
	if [[ $nids -ge 6 && $nlinks -ge 6 && $rc == "$want" ]] && wait_detached $ids; then
		ok "$name: $nids programs, $nlinks links while running; exit $rc; none left"
	else
		notok "$name: $nids programs, $nlinks links while running; exit $rc (want $want); left: $(our_progs) programs"
		diag "$out.err"
	fi
}

run_case duration "--duration" duration 0
check "--duration ends with a summary saying so" test "$(ndq "$tmp/duration.out" field ended_by type=summary)" = duration
run_case int "SIGINT" INT 0
run_case term "SIGTERM" TERM 0
check "SIGTERM ends with the summary" test "$(ndq "$tmp/term.out" field ended_by type=summary)" = SIGTERM
run_case kill "SIGKILL" KILL 137
run_case pipe "output error (the reader of stdout went away)" pipe 1
check "the output error is one clear line ($(cat "$tmp/pipe.out.err"))" \
	test "$(grep -c "netdx drops: error writing" "$tmp/pipe.out.err")" = 1

# Classic tracepoints with tracefs unmounted (in a private mount namespace):
# netdx mounts it, says so, works, detaches.
# shellcheck disable=SC2016  # expanded by the inner sh
unshare -m --propagation private sh -c 'umount /sys/kernel/tracing 2>/dev/null; "$0" drops --attach tp --duration 1 --json >"$1" 2>"$1.err"; rc=$?; grep -c tracefs /proc/self/mounts >"$1.mnt"; exit $rc' \
	"$NETDX" "$tmp/tp.out"
rc=$?
check "--attach tp with tracefs unmounted: mounts it, says so, exit 0 ($rc)" \
	test "$rc" = 0 -a "$(ndq "$tmp/tp.out" field mounted_tracefs type=meta)" = true -a "$(cat "$tmp/tp.out.mnt")" -ge 1
check "nothing left attached after the classic tracepoints" wait_detached

# Refusals.
setpriv --bounding-set -bpf,-perfmon,-sys_admin "$NETDX" drops -d 1 >/dev/null 2>"$tmp/cap.err"
rc=$?
check "no CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN: exit 4 naming them ($(head -c 90 "$tmp/cap.err"))" \
	test "$rc" = 4 -a "$(grep -c 'CAP_BPF.*CAP_PERFMON.*CAP_SYS_ADMIN' "$tmp/cap.err")" = 1
# shellcheck disable=SC2016  # expanded by the inner sh
unshare -m --propagation private sh -c 'mount -t tmpfs none /sys/kernel/btf && exec "$0" drops -d 1' "$NETDX" \
	>/dev/null 2>"$tmp/btf.err"
rc=$?
check "no kernel BTF: exit 1 naming /sys/kernel/btf/vmlinux and CONFIG_DEBUG_INFO_BTF" \
	test "$rc" = 1 -a "$(grep -c '/sys/kernel/btf/vmlinux.*CONFIG_DEBUG_INFO_BTF' "$tmp/btf.err")" = 1
# shellcheck disable=SC2016  # expanded by the inner sh
unshare -m --propagation private sh -c 'umount /sys/kernel/tracing 2>/dev/null; exec setpriv --bounding-set -sys_admin "$0" drops --attach tp -d 1' \
	"$NETDX" >/dev/null 2>"$tmp/tfs.err"
rc=$?
check "tracefs unmounted and no CAP_SYS_ADMIN to mount it: exit 4, names the mount command" \
	test "$rc" = 4 -a "$(grep -c 'tracefs.*CAP_SYS_ADMIN.*mount -t tracefs' "$tmp/tfs.err")" = 1
check "nothing left attached after the refusals" wait_detached

bad=0
for args in "--interval abc" "--port 70000" "--proto xyz" "--host not-an-address" "--bogus" \
	"--reason NO_SUCH_REASON" "--attach kprobe" "--ring-size 5000 --events" "extra-arg" \
	"--event-rate 5" "--max-flows 64" "--flows --max-flows 8" "--event-skip benign" \
	"--events --event-skip NO_SUCH_REASON"; do
	# shellcheck disable=SC2086
	"$NETDX" drops $args -d 1 >/dev/null 2>"$tmp/u.err"
	rc=$?
	if [[ $rc != 2 || $(wc -l <"$tmp/u.err") != 1 ]]; then
		bad=$((bad + 1))
		echo "# '$args': exit $rc: $(cat "$tmp/u.err")"
	fi
done
check "bad options: exit 2, one line each" test "$bad" = 0
"$NETDX" drops --netns ndx-no-such-ns -d 1 >/dev/null 2>"$tmp/ns.err"
rc=$?
"$NETDX" drops --dev ndxnosuch0 -d 1 >/dev/null 2>"$tmp/dev.err"
rc2=$?
named() { test "$rc" = 1 -a "$rc2" = 1 && grep -q -- '--netns ndx-no-such-ns' "$tmp/ns.err" && grep -q -- '--dev ndxnosuch0' "$tmp/dev.err"; }
check "no such namespace / device: exit 1, naming the option" named
"$NETDX" drops --help >"$tmp/help.out"
help_ok() {
	grep -q -- '--event-rate' "$tmp/help.out" && grep -q -- '--max-flows' "$tmp/help.out" &&
		grep -q -- '--event-skip' "$tmp/help.out" &&
		grep -q '^examples:' "$tmp/help.out"
}
check "--help: exit 0, every option and examples" help_ok
