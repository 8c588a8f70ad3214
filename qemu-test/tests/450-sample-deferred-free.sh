#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 300
#
# The sample module (samples/deferred_free, the bare pattern on
# rust/kernel_ext/): loading it starts a producer on every CPU; CPUs 1-3 go
# offline and online again twice each while objects are produced and
# freed in batches on their own CPU; unloading stops the producers,
# flushes, and prints the counts: every object produced was freed, none is
# left, a CPU that died with objects waiting had them folded (folds > 0),
# and the kernel log has no splat (the harness checks).
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

KO=$DINOFS_TOP/samples/deferred_free/deferred_free.ko
[ "$(nproc --all)" -ge 4 ] || skip "needs 4 CPUs"
[ -e "$KO" ] || fail "$KO not built"
trap 'for c in 1 2 3; do echo 1 >/sys/devices/system/cpu/cpu$c/online 2>/dev/null; done' EXIT
insmod "$KO"
klog | grep "deferred_free: producing" >/dev/null || fail "no start message"
for round in 1 2; do
	for c in 3 2 1; do
		sleep 0.5
		echo 0 >/sys/devices/system/cpu/cpu$c/online
		sleep 0.3
		echo 1 >/sys/devices/system/cpu/cpu$c/online
	done
	log "round $round: CPUs 3, 2, 1 went offline and came back"
done
sleep 0.5
rmmod deferred_free
grep -q '^deferred_free ' /proc/modules && fail "still loaded"
line=$(klog | grep "deferred_free: produced" | tail -1)
echo "$line"
num() { echo "$line" | sed -n "s/.* $1 \([-0-9]*\).*/\1/p"; }
produced=$(num produced) freed=$(num freed) folds=$(num folds) live=$(num live)
[ "$produced" -gt 1000 ] || fail "only $produced objects produced"
assert_eq "$freed" "$produced" "freed = produced"
assert_eq "$live" 0 "objects left"
[ "$folds" -gt 0 ] || fail "no CPU died with objects waiting (folds = 0)"
echo "ok: $folds fold(s)"
