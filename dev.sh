#!/usr/bin/env bash
# dev.sh: set up, build and run netdx on a fresh Debian 12 machine (as root).
#
#   ./dev.sh run     install what is missing, build, run `netdx tcp --demo`
#   ./dev.sh test    install what is missing, build (plain and ASan+UBSan,
#                    warnings as errors), run the whole test suite in both
#   ./dev.sh build   just build (build/ and build-asan/)
#   ./dev.sh fuzz [SECONDS]  build the libFuzzer targets with clang and run
#                    each for SECONDS (default 60), growing tests/fuzz/corpus
#   ./dev.sh bench   make the benchmark captures and run bench/bench-tcp.sh
set -euo pipefail
cd "$(dirname "$0")"

PKGS=(build-essential meson ninja-build pkg-config python3
      libpcap-dev libxxhash-dev libmnl-dev
      tcpdump iperf3 iproute2 iptables ethtool time tcptrace procps
      clang llvm libbpf-dev bpftool          # netdx drops: eBPF skeletons (CO-RE)
      libmicrohttpd-dev prometheus conntrack # netdx counters: /metrics, promtool, tests
      libjson-c-dev                          # netdx doctor: reads the NDJSON of the others
)

deps() {
	local missing=() p
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	if ((${#missing[@]})); then
		echo "dev.sh: installing ${missing[*]}" >&2
		if [[ $(id -u) != 0 ]]; then
			echo "dev.sh: need root to apt-get install: ${missing[*]}" >&2
			exit 1
		fi
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

setup() { # DIR [meson args...]
	local dir=$1; shift
	if [[ ! -f $dir/build.ninja ]]; then
		meson setup "$dir" -Dwerror=true "$@" >/dev/null
	fi
	ninja -C "$dir" >/dev/null
}

build() {
	setup build
	setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all
}

# Run the meson suite in DIR and add its TAP results to the totals.
PASS=0 FAIL=0 SKIP=0
suite() { # DIR LABEL
	local dir=$1 label=$2 rc=0
	echo "== test suite: $label ($dir)"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C "$dir" --print-errorlogs --num-processes 2 || rc=$?
	read -r p f s < <(python3 scripts/tap_totals.py "$dir/meson-logs/testlog.json")
	PASS=$((PASS + p)) FAIL=$((FAIL + f)) SKIP=$((SKIP + s))
	if ((rc != 0 && f == 0)); then FAIL=$((FAIL + 1)); fi
}

cmd=${1:-run}
case $cmd in
run)
	deps
	build
	./build/netdx tcp --demo
	;;
build)
	deps
	build
	;;
test)
	deps
	build
	suite build "plain build"
	suite build-asan "ASan + UBSan build"
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
	# In CI every test must run: a skip there is a failure to fix.
	((FAIL == 0)) && { [[ ${CI:-} != true ]] || ((SKIP == 0)); }
	;;
fuzz)
	PKGS+=(clang libclang-rt-dev)
	deps
	secs=${2:-60}
	if [[ ! -f build-fuzz/build.ninja ]]; then
		CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
			-Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link >/dev/null
	fi
	ninja -C build-fuzz >/dev/null
	for t in decode conn; do
		mkdir -p "tests/fuzz/corpus/$t"
		./build-fuzz/tests/fuzz_$t -max_total_time="$secs" -max_len=2048 "tests/fuzz/corpus/$t"
	done
	;;
bench)
	deps
	build
	bench/make-captures.sh
	bench/bench-tcp.sh build/netdx
	;;
*)
	sed -n '2,12p' "$0" >&2
	exit 2
	;;
esac
