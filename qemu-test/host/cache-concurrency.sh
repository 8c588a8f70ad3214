#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Two dinofs builds sharing one cache at once (two checkouts, one
# ~/.cache/dinofs): both must end with the same kernel build directory, at
# most one kernel build may start, and each gets a complete set of tools.
# Prints "N passed, N failed"; exits non-zero on a failure.
#
# The two "checkouts" here are two concurrent runs of the cache scripts from
# this one; that is what meets in the cache (the configuration staging, the
# kernel build directory, the tools' target directory). Run by check.sh
# (host step) and directly: qemu-test/host/cache-concurrency.sh
set -uo pipefail
. "$(dirname "$0")/../lib/common.sh"

passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }

out=$(mktemp -d "${TMPDIR:-/tmp}/dinofs-cachetest.XXXXXX")
trap 'rm -rf "$out"' EXIT
builds() { find "$DINOFS_CACHE/kernel" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort; }

# 1. The kernel: configuration, key and build (or reuse), three runs at
# once. The second starts 2 s and the third 5 s after the first began
# configuring, so they meet it at different steps (tinyconfig, merge,
# olddefconfig, the symbol check, the key): unlocked, a later run's
# tinyconfig rewrote the shared staging .config under an earlier one, which
# then failed its symbol check or keyed (and started) a new build.
builds >"$out/before"
"$DINOFS_TOP/qemu-test/lib/kernel.sh" >"$out/k1" 2>"$out/k1.err" &
pids=($!)
for _ in $(seq 300); do grep -q configuring "$out/k1.err" && break; sleep 0.1; done
sleep 2
"$DINOFS_TOP/qemu-test/lib/kernel.sh" >"$out/k2" 2>"$out/k2.err" &
pids+=($!)
sleep 3
"$DINOFS_TOP/qemu-test/lib/kernel.sh" >"$out/k3" 2>"$out/k3.err" &
pids+=($!)
rcs=()
for p in "${pids[@]}"; do wait "$p" && rcs+=(0) || rcs+=($?); done
builds >"$out/after"
k1=$(cat "$out/k1") k2=$(cat "$out/k2") k3=$(cat "$out/k3")
if [ "${rcs[*]}" = "0 0 0" ]; then
	ok "three kernel.sh runs succeeded"
else
	bad "kernel.sh exit codes ${rcs[*]}"
	grep -h "error\|config:" "$out"/k?.err | head -5
fi
if [ -n "$k1" ] && [ "$k1" = "$k2" ] && [ "$k1" = "$k3" ]; then
	ok "same build directory: $k1"
else
	bad "different build directories: '$k1', '$k2', '$k3'"
fi
new=$(comm -13 "$out/before" "$out/after")
if [ -z "$new" ] || [ "$new" = "$k1" ]; then
	ok "kernel builds started: $(echo -n "$new" | grep -c . || true)"
else
	bad "unexpected new build directories: $(echo "$new" | tr '\n' ' ')"
fi
for k in "$k1" "$k2" "$k3"; do
	[ -n "$k" ] && [ -e "$k/.dinofs-built" ] && [ -e "$k/arch/x86/boot/bzImage" ] ||
		bad "'$k' is not a complete build"
done

# 2. The tools, twice at once: each run gets a complete, working set.
"$DINOFS_TOP/qemu-test/lib/tools.sh" >"$out/t1" 2>"$out/t1.err" &
p1=$!
"$DINOFS_TOP/qemu-test/lib/tools.sh" >"$out/t2" 2>"$out/t2.err" &
p2=$!
wait $p1 && r1=0 || r1=$?
wait $p2 && r2=0 || r2=$?
if [ "$r1" = 0 ] && [ "$r2" = 0 ]; then
	ok "both tools.sh runs succeeded"
else
	bad "tools.sh exit codes $r1 and $r2"
	tail -5 "$out/t1.err" "$out/t2.err"
fi
for t in "$out/t1" "$out/t2"; do
	bin=$(cat "$t")
	img=$out/img
	rm -f "$img"
	truncate -s 64M "$img"
	if "$bin/mkfs.dinofs" -q "$img" >/dev/null 2>&1 && "$bin/fsck.dinofs" -n "$img" >/dev/null 2>&1 &&
		[ -x "$bin/dinofs-workload" ]; then
		ok "tools in $bin make and check an image"
	else
		bad "tools in $bin do not work"
	fi
done

# 3. Two checkouts whose tools differ, one after the other: each publishes
# its own binaries. With one shared cargo target directory the second found
# its units fresh and published the first one's (target/release/NAME holds
# whichever checkout built last).
co=$out/checkout2
mkdir -p "$co/rust"
cp -r "$DINOFS_TOP/tools" "$DINOFS_TOP/qemu-test" "$co/"
cp "$DINOFS_TOP/rust/format.rs" "$co/rust/"
sed -i 's/usage: dinofs-workload /usage (checkout2): dinofs-workload /' "$co/tools/src/bin/workload.rs"
if b2=$(env -u CARGO_TARGET_DIR DINOFS_TOP=$co "$co/qemu-test/lib/tools.sh" 2>"$out/t3.err") &&
	b1=$("$DINOFS_TOP/qemu-test/lib/tools.sh" 2>"$out/t4.err"); then
	u1=$("$b1/dinofs-workload" 2>&1)
	u2=$("$b2/dinofs-workload" 2>&1)
	case "$u1|$u2" in
	*"(checkout2)"*"|"*"(checkout2)"*) bad "the first checkout published the second one's tools ($b1)" ;;
	*"|"*"(checkout2)"*) ok "each checkout publishes its own tools ($b1, $b2)" ;;
	*) bad "the second checkout's tools are not its own ($b2)" ;;
	esac
else
	bad "tools.sh of two checkouts: $(tail -2 "$out/t3.err" "$out/t4.err")"
fi
rm -rf "${CARGO_TARGET_DIR%/*}/$(printf %s "$co" | sha256sum | cut -c1-12)"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
