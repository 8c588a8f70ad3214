#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In-guest test runner. Picks the tests of this run from qemu-test/tests/,
# runs each under its own timeout with a clean kernel log, and classifies it:
#
#   PASS  exit 0, no splat in the kernel log it produced, lockdep still on
#   SKIP  exit 77 (the reason is the test's "SKIP:" line)
#   FAIL  anything else: nonzero exit, its timeout, a splat (WARNING:, BUG:,
#         lockdep, KASAN, hung task, RCU stall, refcount_t:, ...; see
#         splat-patterns), or lockdep having switched itself off
#
# Each test's output goes to <results>/<test>.log and its slice of the kernel
# log to <results>/<test>.dmesg. <results>/plan lists what will run, and
# <results>/results gets one line per finished test, then DONE.

R=/run/dinofs
T=$DINOFS_TOP/qemu-test/tests
PATTERNS=$DINOFS_TOP/qemu-test/guest/splat-patterns

header() { # header FILE KEY DEFAULT
	local v
	v=$(sed -n "s/^# $2: *//p" "$1" | head -1)
	echo "${v:-$3}"
}

# Select tests.
plan=()
if [ -n "$DINOFS_TESTS" ]; then
	for want in $DINOFS_TESTS; do
		want=${want%.sh}
		f=$(ls "$T/$want.sh" "$T"/[0-9][0-9][0-9]-"$want".sh "$T/$want"-*.sh 2>/dev/null | head -1)
		[ -n "$f" ] || { echo "dinofs-test: no test named '$want'"; echo "FAIL $want no such test" >>$R/results; continue; }
		plan+=("$f")
	done
else
	tiers=" check "
	[ "$DINOFS_MODE" = soak ] && tiers=" check soak "
	[ "$DINOFS_MODE" = bench ] && tiers=" bench "
	[ "$DINOFS_BREAK" = exit ] && tiers+="selftest "
	for f in "$T"/[0-9]*.sh; do
		case $tiers in *" $(header "$f" tier check) "*) plan+=("$f") ;; esac
	done
fi
for f in "${plan[@]}"; do basename "$f" .sh; done >$R/plan
echo "dinofs-test: ${#plan[@]} test(s): $(tr '\n' ' ' <$R/plan)"

lockdep_on() { grep -q 'debug_locks: *1' /proc/lockdep_stats 2>/dev/null; }

# Leave the VM as the next test expects it, whatever this one did: thaw and
# unmount dinofs filesystems, unload the module, bring every CPU online.
# Returns nonzero (and says what) if anything had to be cleaned up.
cleanup() {
	local dirty=0 m c
	for m in $(awk '$3 == "dinofs" { print $2 }' /proc/mounts); do
		echo "cleanup: $m still mounted"
		fsfreeze -u "$m" 2>/dev/null
		# Background workers of a failed test still use it.
		command -v fuser >/dev/null && fuser -k -m "$m" >/dev/null 2>&1 && sleep 1
		umount "$m" 2>/dev/null || umount -l "$m"
		dirty=1
	done
	# Device-mapper devices a test left behind hold the scratch disks.
	if command -v dmsetup >/dev/null && [ -n "$(dmsetup ls 2>/dev/null | grep -v 'No devices found')" ]; then
		echo "cleanup: removing device-mapper devices: $(dmsetup ls | awk '{ print $1 }' | tr '\n' ' ')"
		dmsetup remove_all --force >/dev/null 2>&1
		dirty=1
	fi
	if grep -q '^dinofs ' /proc/modules; then
		echo "cleanup: dinofs still loaded"
		rmmod dinofs || dirty=2
		dirty=1
	fi
	for c in /sys/devices/system/cpu/cpu[0-9]*/online; do
		[ "$(cat "$c")" = 1 ] || { echo 1 >"$c"; echo "cleanup: onlined ${c%/online}"; }
	done
	return $dirty
}

for f in "${plan[@]}"; do
	name=$(basename "$f" .sh)
	to=$(header "$f" timeout 300)
	echo "dinofs-test: RUN $name (timeout ${to}s)"
	dmesg -C
	echo "dinofs-test: start $name" >/dev/kmsg
	work=/tmp/work/$name
	mkdir -p "$work"
	t0=$(date +%s%N)
	(cd "$work" && exec timeout -k 15 "$to" bash "$f") >"$R/$name.log" 2>&1 </dev/null
	rc=$?
	cleanup >>"$R/$name.log" 2>&1 || { [ $rc = 0 ] && [ $rc != 77 ] && rc=99; }
	secs=$(( ($(date +%s%N) - t0) / 1000000 ))
	secs=$(printf '%d.%03d' $((secs / 1000)) $((secs % 1000)))
	sleep 0.2
	dmesg >"$R/$name.dmesg"
	splat=$(grep -m3 -E -f "$PATTERNS" "$R/$name.dmesg" | tr '\n' ' ')
	lockdep_on || splat+="lockdep has switched itself off (debug_locks=0)"
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		verdict="FAIL $name timeout after ${to}s"
	elif [ -n "$splat" ]; then
		verdict="FAIL $name kernel splat: $splat"
	elif [ $rc = 77 ]; then
		verdict="SKIP $name $(grep -m1 '^SKIP:' "$R/$name.log" | cut -c7-)"
	elif [ $rc = 99 ]; then
		verdict="FAIL $name left the VM dirty: $(grep -m1 '^cleanup:' "$R/$name.log")"
	elif [ $rc != 0 ]; then
		why=$(grep -m1 '^FAIL:' "$R/$name.log" | cut -c7-)
		[ -n "$why" ] || why=$(grep -v '^cleanup:' "$R/$name.log" | tail -1)
		verdict="FAIL $name exit $rc: $why"
	else
		verdict="PASS $name (${secs}s)"
	fi
	echo "$verdict" >>$R/results
	echo "dinofs-test: $verdict"
	if [ "${verdict%% *}" = FAIL ]; then
		echo "---- $name: last lines of $name.log"
		tail -n 15 "$R/$name.log"
		[ -n "$splat" ] && { echo "---- $name: kernel log"; grep -m40 -E -B2 -A20 -f "$PATTERNS" "$R/$name.dmesg"; }
		echo "----"
	fi
	rm -rf "$work"
done
echo DONE >>$R/results
