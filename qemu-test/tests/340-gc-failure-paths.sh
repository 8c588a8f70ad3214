#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# The engine's failure paths (Documentation/inodegc.rst, "Ordering and
# invariants"). dinofs sits on a device-mapper device whose table the test
# switches to the "error" target and back, as a transient I/O error would:
#
# 1. A freeze on a failing device fails and shuts the filesystem down: the
#    metadata the sync before it committed is in the log but not yet at
#    home, so the freeze's checkpoint writes it, the write fails and jbd2
#    aborts the journal. Nothing is lost: the next mount (device healthy
#    again) replays the log, every file verifies, rm + sync returns every
#    block. (A freeze that fails without an I/O error leaves gc running:
#    test 210, fail_next_freeze.)
# 2. The same for a remount read-only on a failing device: it fails, the
#    filesystem is shut down (never marked clean over lost writes), the
#    next mount replays and loses nothing.
# 3. sync(2) on a frozen filesystem writes nothing (block-device write count
#    unchanged).
# 4. Errors of a stopping drain reach whoever asked: with one inactivation
#    made to fail (debugfs fail_inactivate), syncfs returns EIO, a
#    remount read-only fails, an unmount logs it and leaves the image
#    dirty, and the next mount recovers the inode from the orphan list.
# 5. A remount read-write of a read-only mount runs orphan recovery.
# 6. Unmount after all of the above is clean (it panicked when gc had been
#    left stopped with inodes queued), and fsck.dinofs -n passes.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

BLOCKS=65536
SECTORS=$((BLOCKS * 8))
to_error() { dm_table dinofs-fp "0 $SECTORS error"; }
to_linear() { dm_table dinofs-fp "0 $SECTORS linear $DEV1 0"; }
dm_writes() { awk '{ print $5 }' "/sys/block/$(basename "$DM")/stat"; }
free_blocks() { stat -f -c %f /mnt/d; }

dinofs_load
dmsetup create dinofs-fp --table "0 $SECTORS linear $DEV1 0"
DM=$(dm_dev dinofs-fp)
[ -b "$DM" ] || fail "no block device $DM"
mkfs.dinofs -q "$DM" "$BLOCKS"
mkdir -p /mnt/d
mount -t dinofs "$DM" /mnt/d
free0=$(free_blocks)

# fails_on_error WHAT CMD...: with the device failing, CMD fails and the
# filesystem shuts down; remounted on the healthy device, the log replays
# and nothing the sync before it made durable is lost.
fails_on_error() {
	what=$1
	shift
	dinofs-workload create /mnt/d/f 200 16384 >/dev/null
	sync
	mark=$(klog | wc -l)
	to_error
	assert_fails "$what on a failing device" "$@"
	to_linear
	assert_eq "$(gc_stat /mnt/d enabled)" 0 "gc stopped by the shutdown after the failed $what"
	klog | tail -n +$((mark + 1)) | grep -E "journal aborted|metadata write error|shut down" >/dev/null ||
		fail "no shutdown logged after the failed $what"
	umount /mnt/d
	mount -t dinofs "$DM" /mnt/d
	dinofs-workload verify /mnt/d/f 200 16384 >/dev/null ||
		fail "files lost after the failed $what and replay"
	echo "ok: 200 files verify after the failed $what and replay"
	rm -rf /mnt/d/f
	sync
	assert_eq "$(gc_stat /mnt/d queued_now)" 0 "nothing queued after rm + sync"
	assert_eq "$(free_blocks)" "$free0" "free blocks back after the failed $what"
}

log "1. a freeze on a failing device"
fails_on_error freeze fsfreeze -f /mnt/d

log "2. a remount read-only on a failing device"
fails_on_error "remount,ro" mount -o remount,ro /mnt/d

log "3. sync on a frozen filesystem writes nothing"
fsfreeze -f /mnt/d
w0=$(dm_writes)
sync
sync -f /mnt/d
w1=$(dm_writes)
fsfreeze -u /mnt/d
assert_eq "$w1" "$w0" "block-device writes during sync while frozen (before: $w0)"

log "4. errors of a drain reach the caller"
hold_unlinked /mnt/d 4 16384
gc_knob /mnt/d fail_inactivate 1
fsfreeze -f /mnt/d
hold_release # the final iputs queue while frozen
assert_eq "$(gc_stat /mnt/d queued_now)" 4 "queued while frozen"
fsfreeze -u /mnt/d
out=$(sync -f /mnt/d 2>&1) && fail "syncfs after a failed inactivation succeeded"
echo "ok: syncfs reports the worker's error: $out"
assert_eq "$(gc_stat /mnt/d errors)" 1 "inactivation errors"

hold_unlinked /mnt/d 1 16384
gc_knob /mnt/d fail_inactivate 1
hold_release
assert_fails "remount,ro whose drain fails" mount -o remount,ro /mnt/d
assert_eq "$(findmnt -n -o OPTIONS /mnt/d | cut -d, -f1)" rw "still read-write"
assert_eq "$(gc_stat /mnt/d enabled)" 1 "gc enabled after the failed remount"
assert_eq "$(gc_stat /mnt/d errors)" 2 "inactivation errors"

hold_unlinked /mnt/d 2 16384
gc_knob /mnt/d fail_inactivate 1
hold_release
umount /mnt/d
klog | grep "left on the orphan list" >/dev/null || fail "unmount did not log the failed inactivations"
mount -t dinofs "$DM" /mnt/d
recovered=$(klog | grep -o 'recovered [0-9]* orphan' | tail -1 | awk '{ print $2 }')
assert_eq "${recovered:-0}" 3 "orphans recovered at the next mount (one per failed inactivation)"
assert_eq "$(free_blocks)" "$free0" "free blocks back after recovery"

log "5. a read-write remount runs orphan recovery"
hold_unlinked /mnt/d 5 16384
dinofs-workload shutdown /mnt/d default >/dev/null
# Closing them after the shutdown discards them (they stay on the on-disk
# orphan list); the holder's own I/O then fails with EIO, as it should.
exec 8>&-
wait "$HOLD_PID" || true
umount /mnt/d
mount -t dinofs -o ro "$DM" /mnt/d
[ "$(free_blocks)" -lt "$free0" ] || fail "read-only mount recovered orphans"
mark=$(klog | wc -l)
mount -o remount,rw /mnt/d
assert_eq "$(klog | tail -n +$((mark + 1)) | grep -o 'recovered [0-9]* orphan' | awk '{ print $2 }')" 5 "orphans recovered by remount,rw"
assert_eq "$(free_blocks)" "$free0" "free blocks back after remount,rw"

log "6. a clean unmount and fsck"
umount /mnt/d
fsck.dinofs -n "$DM" || fail "fsck.dinofs -n at the end"
dmsetup remove dinofs-fp
dinofs_unload
