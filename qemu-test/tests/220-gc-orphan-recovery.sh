#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# Crash recovery of unlinked-but-open files. N files are opened and
# unlinked (so they sit on the on-disk orphan list), the filesystem is
# synced, and the disk is copied while still mounted with the files open:
# the copy is exactly what a hard reset after that sync leaves behind. The
# copy is then mounted: orphan recovery inactivates all N (kernel log says
# so), space comes back to the baseline, and fsck finds the image clean.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

N=25
dinofs_load
mkfs.dinofs -q "$DEV1" 65536
mkdir -p /mnt/d /mnt/crash
mount -t dinofs "$DEV1" /mnt/d
mkdir /mnt/d/h
sync
free0=$(stat -f -c %f /mnt/d)

hold_unlinked /mnt/d/h $N 50000
sync
# The "crash": the device as it is now, mounted, orphans on disk.
dd if="$DEV1" of="$DEV2" bs=1M count=256 status=none
hold_release
umount /mnt/d

out=$(fsck.dinofs -n "$DEV2" 2>&1) || fail "fsck of the crash image: $out"
echo "$out" | grep -q "not cleanly unmounted\|DIRTY\|dirty" || log "fsck said: $out"
mount -t dinofs "$DEV2" /mnt/crash
klog | grep -q "recovered $N orphan inode(s)" || fail "no orphan recovery message for $N inodes"
assert_eq "$(gc_stat /mnt/crash inactivated)" $N "orphans inactivated at mount"
assert_eq "$(stat -f -c %f /mnt/crash)" "$free0" "space back after recovery"
assert_eq "$(ls -A /mnt/crash/h | wc -l)" 0 "no names left"
umount /mnt/crash
fsck.dinofs -n "$DEV2" || fail "fsck after recovery"
fsck.dinofs -n "$DEV1" || fail "fsck of the original"
dinofs_unload
