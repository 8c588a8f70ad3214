#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 300
#
# Take CPUs 1-3 offline and back online twice with dinofs loaded. CPU 0 is
# the boot CPU and stays. The engine will hang per-CPU state off these
# transitions; today this proves hotplug itself works in the test VM.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

n=$(nproc --all)
[ "$n" -ge 4 ] || skip "needs 4 CPUs, VM has $n"
dinofs_load
for round in 1 2; do
	for c in 1 2 3; do echo 0 >/sys/devices/system/cpu/cpu$c/online; done
	assert_eq "$(cat /sys/devices/system/cpu/online)" 0 "round $round: online after offlining 1-3"
	for c in 1 2 3; do echo 1 >/sys/devices/system/cpu/cpu$c/online; done
	assert_eq "$(cat /sys/devices/system/cpu/online)" 0-3 "round $round: online after onlining 1-3"
done
dinofs_unload
