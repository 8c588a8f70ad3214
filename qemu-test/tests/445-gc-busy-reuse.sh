#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# Busy space (issue 20, "gc-freed space reused, then crash"). A file is
# held open and unlinked (on the orphan list, synced), then closed: the
# worker tears it down in a transaction T that, with commit=3600, does not
# commit by itself. A new file is then written, bigger than the free space
# the teardown did not touch, and writeback (every 0.1 s here) puts its
# data in place. The held file's metadata was checkpointed and the log
# emptied before (a freeze), so a replay cannot restore it. Without busy space the new file gets the dead file's
# freed blocks, indirect blocks included, and a crash before T commits
# (a dm snapshot of the disk, taken then) brings the dead file back on the
# orphan list with another file's data in its map: recovery refused the
# image ("corrupt indirect block", EUCLEAN). With it the allocation finds
# only busy space, commits T and retries: the write succeeds (no ENOSPC
# after a large unlink), and the snapshot mounts, is fsck -n clean without
# repair, and has all of its space back once the new file is removed.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

BLOCKS=4096
SECTORS=$((BLOCKS * 8))
COW=$((64 * 2048)) # 64 MiB of copy-on-write space, on $DEV2
HELD=$((8 << 20))

dinofs_load
dmsetup create dinofs-o --table "0 $SECTORS linear $DEV1 0"
ORIGIN=$(dm_dev dinofs-o)
mkfs.dinofs -q "$ORIGIN" "$BLOCKS"
dm_table dinofs-o "0 $SECTORS snapshot-origin $DEV1"
mkdir -p /mnt/d /mnt/s
assert_fails "commit=3601 (above the limit)" mount -t dinofs -o commit=3601 "$ORIGIN" /mnt/d
mount -t dinofs -o commit=3600 "$ORIGIN" /mnt/d
assert_fails "commit= changed by remount" mount -o remount,commit=10 /mnt/d
assert_eq "$(findmnt -n -o OPTIONS /mnt/d | grep -o 'commit=[0-9]*')" commit=3600 "commit= shown"
free0=$(stat -f -c %f /mnt/d)
cd /tmp

hold_unlinked /mnt/d 1 "$HELD"
sync
# Checkpointed and the log emptied (a freeze): the held file's indirect
# blocks are then only in place, not in the log, so a replay cannot write
# them back over whatever their next owner put there.
fsfreeze -f /mnt/d
fsfreeze -u /mnt/d
free1=$(stat -f -c %f /mnt/d)
# The new file needs 512 blocks more than the space the held file left.
new_blocks=$((free1 + 512))
[ "$new_blocks" -lt $((free0 - 64)) ] || fail "filesystem too small for the test ($free0 free)"
log "free: $free0 empty, $free1 with the held file; the new file takes $new_blocks blocks"

wb0=$(cat /proc/sys/vm/dirty_writeback_centisecs) ex0=$(cat /proc/sys/vm/dirty_expire_centisecs)
echo 10 >/proc/sys/vm/dirty_writeback_centisecs
echo 10 >/proc/sys/vm/dirty_expire_centisecs
i0=$(gc_stat /mnt/d inactivated)
hold_release
wait_for 60 "the held file's teardown" '[ "$(gc_stat /mnt/d inactivated)" -gt "$i0" ]'
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "free blocks after the teardown (its transaction not committed)"
out=$(dinofs-workload create /mnt/d/new 1 $((new_blocks * 4096)) 2>&1) ||
	fail "writing the new file over the freed space: $out"
echo "ok: the new file of $new_blocks blocks written"
# Writeback puts its data in place (no commit: nothing fsyncs).
wait_for 60 "writeback of the new file" '[ "$(awk "/^(Dirty|Writeback):/ { n += \$2 } END { print n }" /proc/meminfo)" -lt 256 ]'
echo "$wb0" >/proc/sys/vm/dirty_writeback_centisecs
echo "$ex0" >/proc/sys/vm/dirty_expire_centisecs

# The crash image: the disk at this instant.
dmsetup create dinofs-cow --table "0 $COW linear $DEV2 0"
dmsetup suspend --nolockfs dinofs-o
dmsetup create dinofs-s --table "0 $SECTORS snapshot $DEV1 $(dm_dev dinofs-cow) N 8"
dmsetup resume dinofs-o
SNAP=$(dm_dev dinofs-s)

rm -rf /mnt/d/new
sync
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "free blocks back on the origin"
umount /mnt/d

mark=$(klog | wc -l)
mount -t dinofs "$SNAP" /mnt/s ||
	fail "the crash image does not mount: $(klog | tail -n +$((mark + 1)) | grep dinofs | tail -3 | tr '\n' ' ')"
klog | tail -n +$((mark + 1)) | grep -E "corrupt|failed" &&
	fail "the crash image's mount logged damage"
# The retry's commit took the teardown and the new file's start with it.
[ -e /mnt/s/new/f000000 ] || fail "crash image: the new file is not there (no commit before the reuse?)"
echo "ok: crash image: the new file is there ($(stat -c %s /mnt/s/new/f000000) bytes)"
rm -rf /mnt/s/new
sync -f /mnt/s
assert_eq "$(stat -f -c %f /mnt/s)" "$free0" "crash image: free blocks with the new file removed"
umount /mnt/s
fsck.dinofs -n "$SNAP" || fail "fsck.dinofs -n of the crash image"
dmsetup remove dinofs-s
dmsetup remove dinofs-cow
dmsetup remove dinofs-o
fsck.dinofs -n "$DEV1" || fail "fsck of the origin"
dinofs_unload
