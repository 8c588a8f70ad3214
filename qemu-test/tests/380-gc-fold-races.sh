#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# The CPU-dead fold against sync and unmount (engine-correctness item 8).
# CPU 3 is taken offline and back as fast as the guest allows while the
# last unlinks of each round are issued on CPUs 2-3 (final iputs pinned
# there; pinning to CPU 3 alone fails while it is offline), then sync and unmount run at once: after sync nothing is queued
# and the space is back (a batch the fold held on no list was missed by
# sync before), unmount finds nothing left for teardown, fsck is clean,
# and the folds happened. DINOFS_STORM_SECS sets the length.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

SECS=${DINOFS_STORM_SECS:-30}
[ "$(nproc --all)" -ge 4 ] || skip "needs 4 CPUs"
dinofs_load
mkfs.dinofs -q "$DEV1" 65536
mkdir -p /mnt/d
end=$(( $(date +%s) + SECS ))
( while [ "$(date +%s)" -lt $end ]; do
	echo 0 >/sys/devices/system/cpu/cpu3/online 2>/dev/null
	echo 1 >/sys/devices/system/cpu/cpu3/online 2>/dev/null
done ) &
hp=$!
rounds=0 folds=0
while [ "$(date +%s)" -lt $end ]; do
	mount -t dinofs "$DEV1" /mnt/d
	free0=$(stat -f -c %f /mnt/d)
	HOLD_RUN="taskset -c 2,3" hold_unlinked /mnt/d 60 8192
	hold_release
	sync
	assert_eq "$(gc_stat /mnt/d queued_now)" 0 "round $rounds: nothing queued after sync"
	assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "round $rounds: space back after sync"
	folds=$(( folds + $(gc_stat /mnt/d folds) ))
	HOLD_RUN="taskset -c 2,3" hold_unlinked /mnt/d 60 8192
	hold_release
	umount /mnt/d
	fsck.dinofs -n "$DEV1" >/dev/null || fail "round $rounds: fsck"
	rounds=$((rounds + 1))
done
wait $hp
echo 1 >/sys/devices/system/cpu/cpu3/online 2>/dev/null || true
klog | grep "still queued at teardown" >/dev/null && fail "inodes left for teardown"
log "$rounds rounds, $folds folds"
[ "$rounds" -ge 2 ] || fail "only $rounds rounds"
mount -t dinofs "$DEV1" /mnt/d
assert_eq "$(inodes_in_use /mnt/d)" 1 "inodes in use after the last unmount (root)"
finish_fs
