#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The dinofs test driver behind "make check", "make soak", "make demo" and
# "make shell".
#
#   qemu-test/check.sh [--mode check|soak|bench|demo|shell] [TEST...]
#
# check  userspace cargo tests, then one VM boot running every in-guest test
#        of tier "check" (qemu-test/tests/*.sh); the default suite.
# soak   the same plus the tier "soak" tests (long storms).
# bench  one VM boot running the tier "bench" tests (600-bench: the
#        measurements of "make bench"); writes bench.csv, and bench.png
#        when gnuplot is installed, into the results directory.
# demo   boots the VM and runs samples/demo.sh.
# shell  an interactive VM with dinofs.ko loaded; leave with "exit".
# xfstests  runs the fstests checkout in $XFSTESTS_DIR (built by you) against
#        dinofs: the curated qemu-test/xfstests/dinofs.list, or
#        $XFSTESTS_TESTS; see qemu-test/xfstests/run-guest.sh.
# TEST   names (e.g. 010-load-unload or just load-unload) run only those tests,
#        whatever their tier.
#
# Environment: DINOFS_BREAK=splat|exit (harness self-test, see
# Documentation/testing.rst), DINOFS_VM_TIMEOUT, DINOFS_VM_CPUS, DINOFS_VM_MEM,
# DINOFS_RESULTS (default qemu-test/results), DINOFS_KERNEL_FLAVOR=kasan;
# for xfstests: XFSTESTS_DIR, XFSTESTS_TESTS, XFSTESTS_MOUNT_OPTIONS,
# XFSTESTS_TIMEOUT (seconds for the whole ./check run, default 10800),
# XFSTESTS_EXCLUDE_GROUPS (./check -x, default recoveryloop).
#
# The last line printed is "N passed, N failed, N skipped"; the exit status
# is 0 only when nothing failed.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$DINOFS_TOP/qemu-test/lib/vm.sh"

mode=check
tests=()
while [ $# -gt 0 ]; do
	case $1 in
	--mode) mode=$2; shift 2 ;;
	--mode=*) mode=${1#--mode=}; shift ;;
	-h | --help) sed -n '3,/^set /p' "$0" | sed 's/^# \{0,1\}//;/^set /d'; exit 0 ;;
	*) tests+=("$1"); shift ;;
	esac
done
case $mode in
check | soak | bench | demo | shell) ;;
xfstests)
	if [ -z "${XFSTESTS_DIR:-}" ] || ! [ -x "${XFSTESTS_DIR:-}/check" ]; then
		cat >&2 <<'EOF'
make xfstests needs XFSTESTS_DIR, a built fstests checkout, e.g.:

    git clone https://git.kernel.org/pub/scm/fs/xfs/xfstests-dev.git ~/src/xfstests
    sudo apt-get install acl attr automake bc dbench fio gawk libacl1-dev \
        libaio-dev libcap-dev libgdbm-dev libtool liburing-dev uuid-dev \
        xfslibs-dev xfsprogs
    make -C ~/src/xfstests -j2
    make xfstests XFSTESTS_DIR=~/src/xfstests [TESTS="generic/001 ..."]

See Documentation/testing.rst, "Running xfstests".
EOF
		[ -n "${XFSTESTS_DIR:-}" ] && echo "error: $XFSTESTS_DIR/check not found or not executable" >&2
		exit 2
	fi
	XFSTESTS_DIR=$(cd "$XFSTESTS_DIR" && pwd -P)
	[ -x "$XFSTESTS_DIR/ltp/fsstress" ] || die "$XFSTESTS_DIR is not built (no ltp/fsstress): run make there first"
	;;
*) die "unknown mode '$mode' (check, soak, bench, demo, shell, xfstests)" ;;
esac

results=${DINOFS_RESULTS:-$DINOFS_TOP/qemu-test/results}
rm -rf "$results"
mkdir -p "$results"
if [ "$mode" = xfstests ]; then
	# The guest runs a tmpfs copy of the checkout (fstests writes into its
	# own tree). One tar stream over 9p takes seconds; copying the ~5000
	# files one by one over 9p under TCG took minutes.
	tar -C "$XFSTESTS_DIR" --exclude=./.git -cf "$results/fstests.tar" . ||
		die "cannot archive $XFSTESTS_DIR"
	XFSTESTS_VERSION=$(git -C "$XFSTESTS_DIR" describe --always --dirty 2>/dev/null) ||
		XFSTESTS_VERSION="(not a git checkout)"
fi
host_passed=0 host_failed=0

# 1. Userspace tests: the tools crate and the shared on-disk format.
if [ "$mode" = check ] || [ "$mode" = soak ] && [ ${#tests[@]} = 0 ]; then
	phase "host: cargo test (tools/)"
	cargo test --workspace --manifest-path "$DINOFS_TOP/tools/Cargo.toml" >"$results/cargo-test.log" 2>&1
	cargo_rc=$?
	grep -E '^test result:|FAILED|panicked' "$results/cargo-test.log"
	if [ "$cargo_rc" = 0 ]; then
		echo "PASS host/cargo-test" >>"$results/host-results"
		host_passed=1
	else
		echo "FAIL host/cargo-test" >>"$results/host-results"
		host_failed=1
		phase "host: cargo test FAILED (see $results/cargo-test.log)"
	fi
fi

# The cache shared by concurrent runs (two checkouts): three kernel.sh and two
# tools.sh at once agree on one build and build at most one kernel.
if [ "$mode" = check ] && [ ${#tests[@]} = 0 ]; then
	phase "host: concurrent use of the cache (qemu-test/host/cache-concurrency.sh)"
	if "$DINOFS_TOP/qemu-test/host/cache-concurrency.sh" >"$results/cache-concurrency.log" 2>&1; then
		echo "PASS host/cache-concurrency" >>"$results/host-results"
		host_passed=$((host_passed + 1))
	else
		echo "FAIL host/cache-concurrency" >>"$results/host-results"
		host_failed=$((host_failed + 1))
		grep FAIL "$results/cache-concurrency.log" >&2
	fi
fi

# 2. Kernel (cached), module, tools.
"$DINOFS_TOP/qemu-test/lib/deps.sh" || die "toolchain bootstrap failed"
kdir=$("$DINOFS_TOP/qemu-test/lib/module.sh") || die "module build failed"
tools_bin=$("$DINOFS_TOP/qemu-test/lib/tools.sh") || die "tools build failed"

# Formatting is part of the suite: a diff fails the run (make fmt fixes it).
if [ "$mode" = check ] && [ ${#tests[@]} = 0 ]; then
	phase "host: formatting (qemu-test/lib/lint.sh fmt-check)"
	if "$DINOFS_TOP/qemu-test/lib/lint.sh" fmt-check >"$results/fmt-check.log" 2>&1; then
		echo "PASS host/fmt-check" >>"$results/host-results"
		host_passed=$((host_passed + 1))
	else
		echo "FAIL host/fmt-check" >>"$results/host-results"
		host_failed=$((host_failed + 1))
		cat "$results/fmt-check.log" >&2
	fi
fi

# The layering of the module (qemu-test/host/layers.py): arrows only point
# down, and unsafe code only in the abstraction layers.
if [ "$mode" = check ] && [ ${#tests[@]} = 0 ]; then
	phase "host: module layering (qemu-test/host/layers.py)"
	if python3 "$DINOFS_TOP/qemu-test/host/layers.py" >"$results/layers.log" 2>&1; then
		echo "PASS host/layers" >>"$results/host-results"
		host_passed=$((host_passed + 1))
	else
		echo "FAIL host/layers" >>"$results/host-results"
		host_failed=$((host_failed + 1))
		cat "$results/layers.log" >&2
	fi
fi

# 3. One VM boot.
# The KASAN kernel is about three times slower under TCG: its make check
# takes about 65 minutes in the guest, past the debug kernel's 45.
case $mode in
check) timeout=${DINOFS_VM_TIMEOUT:-$([ "${DINOFS_KERNEL_FLAVOR:-debug}" = kasan ] && echo 8100 || echo 2700)} ;;
soak | bench) timeout=${DINOFS_VM_TIMEOUT:-10800} ;;
xfstests) timeout=${DINOFS_VM_TIMEOUT:-$((${XFSTESTS_TIMEOUT:-10800} + 900))} ;;
*) timeout=${DINOFS_VM_TIMEOUT:-1800} ;;
esac
{
	printf 'DINOFS_MODE=%q\n' "$mode"
	printf 'DINOFS_TOP=%q\n' "$DINOFS_TOP"
	printf 'DINOFS_KDIR=%q\n' "$kdir"
	printf 'DINOFS_TOOLS_BIN=%q\n' "$tools_bin"
	printf 'DINOFS_TESTS=%q\n' "${tests[*]:-}"
	printf 'DINOFS_BREAK=%q\n' "${DINOFS_BREAK:-}"
	printf 'DINOFS_KERNEL_FLAVOR=%q\n' "$DINOFS_KERNEL_FLAVOR"
	printf 'DINOFS_BENCH_SCALE=%q\n' "${DINOFS_BENCH_SCALE:-1}"
	printf 'DINOFS_BENCH_REPS=%q\n' "${DINOFS_BENCH_REPS:-3}"
	printf 'DINOFS_BENCH_PIN=%q\n' "${DINOFS_BENCH_PIN:-}"
	if [ "$mode" = xfstests ]; then
		printf 'DINOFS_HOST_PATHS=%q\n' "$XFSTESTS_DIR"
		printf 'XFSTESTS_DIR=%q\n' "$XFSTESTS_DIR"
		printf 'XFSTESTS_TESTS=%q\n' "${XFSTESTS_TESTS:-}"
		printf 'XFSTESTS_MOUNT_OPTIONS=%q\n' "${XFSTESTS_MOUNT_OPTIONS:-}"
		printf 'XFSTESTS_TIMEOUT=%q\n' "${XFSTESTS_TIMEOUT:-10800}"
		printf 'XFSTESTS_EXCLUDE_GROUPS=%q\n' "${XFSTESTS_EXCLUDE_GROUPS-recoveryloop}"
		printf 'XFSTESTS_VERSION=%q\n' "$XFSTESTS_VERSION"
	fi
} >"$results/guest.env"
vm_boot "$kdir" "$results" "$mode" "$timeout"
vm_rc=$?

[ "$mode" = shell ] && exit 0
if [ "$mode" = demo ]; then
	grep -q '^DEMO-OK' "$results/demo-status" 2>/dev/null && { phase "demo: done"; exit 0; }
	phase "demo: FAILED (vm exit $vm_rc; console: $results/console.log)"
	exit 1
fi

# 4. Tally. The guest writes a plan, then one line per finished test, then
# DONE; anything planned but unreported means the VM died under that test.
passed=$host_passed failed=$host_failed skipped=0
guest=$results/results
touch "$guest"
passed=$((passed + $(grep -c '^PASS ' "$guest")))
failed=$((failed + $(grep -c '^FAIL ' "$guest")))
skipped=$((skipped + $(grep -c '^SKIP ' "$guest")))
if ! grep -q '^DONE' "$guest"; then
	splat=$(grep -m3 -E -f "$DINOFS_TOP/qemu-test/guest/splat-patterns" "$results/console.log" 2>/dev/null)
	running=$(grep -a '^dinofs-test: RUN ' "$results/console.log" 2>/dev/null | tail -1 | awk '{print $3}')
	while read -r t; do
		grep -q " $t\( \|$\)" "$guest" && continue
		if [ "$t" = "$running" ]; then
			echo "FAIL $t vm died or timed out while running (vm exit $vm_rc)${splat:+: $splat}" | tee -a "$guest"
		else
			echo "FAIL $t not run: vm died earlier" | tee -a "$guest"
		fi
		failed=$((failed + 1))
	done <"$results/plan" 2>/dev/null
	[ -s "$results/plan" ] || { echo "FAIL vm/boot: no test plan from the guest (vm exit $vm_rc)"; failed=$((failed + 1)); }
fi

# The bench's numbers: its "csv,..." lines, and a plot if gnuplot is here.
if [ "$mode" = bench ] && [ -f "$results/600-bench.log" ]; then
	echo "section,workload,fs,metric,median,values..." >"$results/bench.csv"
	sed -n 's/^csv,//p' "$results/600-bench.log" >>"$results/bench.csv"
	sed -n '/^rm -rf (ms)/,$p' "$results/600-bench.log"
	if command -v gnuplot >/dev/null; then
		"$DINOFS_TOP/qemu-test/lib/bench-plot.sh" "$results/bench.csv" "$results/bench.png" &&
			phase "bench: $results/bench.csv, $results/bench.png"
	else
		phase "bench: $results/bench.csv (no gnuplot on this host: no plot)"
	fi
fi

echo
echo "== dinofs $mode summary (logs: $results) =="
cat "$results/host-results" "$guest" 2>/dev/null | grep -E '^(PASS|FAIL|SKIP) '
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
