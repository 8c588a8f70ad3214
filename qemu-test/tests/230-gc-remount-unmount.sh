#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# Queued inactivation across remount read-only and unmount: an rm -rf is
# followed at once by remount,ro (gc stops: drained, enabled 0) and later
# by a plain unmount; nothing queued is lost (inactivated = queued), space
# is exactly back, and fsck is clean in between and at the end. Also: a
# read-only mount never queues (mode is read-only, eviction just frees).
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

fresh_fs 65536
free0=$(stat -f -c %f /mnt/d)
dinofs-workload create /mnt/d/a 1500 8192 >/dev/null
sync
rm -rf /mnt/d/a
mount -o remount,ro /mnt/d
assert_eq "$(gc_stat /mnt/d enabled)" 0 "gc stopped by remount ro"
assert_eq "$(gc_stat /mnt/d queued_now)" 0 "drained by remount ro"
assert_eq "$(gc_stat /mnt/d inactivated)" "$(gc_stat /mnt/d queued)" "inactivated = queued"
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "space back at remount ro"
fsck.dinofs -n "$DEV1" || fail "fsck while ro"
q_ro=$(gc_stat /mnt/d queued)
ls -la /mnt/d >/dev/null
echo 2 >/proc/sys/vm/drop_caches
assert_eq "$(gc_stat /mnt/d queued)" "$q_ro" "nothing queued while read-only"
mount -o remount,rw /mnt/d
assert_eq "$(gc_stat /mnt/d enabled)" 1 "gc started by remount rw"
dinofs-workload create /mnt/d/b 1500 8192 >/dev/null
sync
rm -rf /mnt/d/b
umount /mnt/d                   # put_super drains the engine
fsck.dinofs -n "$DEV1" || fail "fsck after unmount with queued work"
mount -t dinofs "$DEV1" /mnt/d
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "space back after unmount"
umount /mnt/d
dinofs_unload
