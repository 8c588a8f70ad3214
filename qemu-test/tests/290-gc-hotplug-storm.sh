#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# CPU hotplug during an unlink storm, with mount/unmount cycles (generic/650
# in spirit): CPUs 1-3 are toggled every ~0.5 s while files are created and
# removed on all CPUs; each cycle unmounts (draining the engine while CPUs
# come and go) and fsck must be clean; nothing is lost and the locality
# check never fires. DINOFS_STORM_SECS sets the length (soak: 600).
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

SECS=${DINOFS_STORM_SECS:-30}
[ "$(nproc --all)" -ge 4 ] || skip "needs 4 CPUs"
dinofs_load
mkfs.dinofs -q "$DEV1" 131072
mkdir -p /mnt/d
end=$(( $(date +%s) + SECS ))
( c=1; while [ "$(date +%s)" -lt $end ]; do
	echo 0 >/sys/devices/system/cpu/cpu$c/online
	sleep 0.5
	echo 1 >/sys/devices/system/cpu/cpu$c/online
	c=$(( c % 3 + 1 ))
done ) &
hp=$!
cycles=0 folds=0
while [ "$(date +%s)" -lt $end ]; do
	mount -t dinofs "$DEV1" /mnt/d
	free0=$(stat -f -c %f /mnt/d)
	for c in 0 1 2 3; do
		( taskset -c $c dinofs-workload create /mnt/d/c$c 150 8192 >/dev/null 2>&1 || \
		  dinofs-workload create /mnt/d/c$c 150 8192 >/dev/null
		  rm -rf /mnt/d/c$c ) &
	done
	wait $(jobs -p | grep -v "^$hp\$") 2>/dev/null || true
	sync
	assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "cycle $cycles: space back"
	assert_eq "$(gc_stat /mnt/d off_cpu_runs)" 0 "cycle $cycles: worker runs off their CPU"
	folds=$(( folds + $(gc_stat /mnt/d folds) ))
	umount /mnt/d
	fsck.dinofs -n "$DEV1" >/dev/null || fail "cycle $cycles: fsck"
	cycles=$((cycles + 1))
done
wait $hp
log "$cycles mount cycles, $folds folds"
[ $cycles -ge 2 ] || fail "only $cycles cycles"
dinofs_unload
