#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 900
#
# Crash images taken in the middle of a big teardown recover
# (engine-correctness item 7). dinofs sits on a device-mapper
# snapshot-origin over a dm-delay device; a fragmented 256 MiB file is
# removed with cold caches and reads delayed 100 ms (a slow disk: the
# teardown reads every indirect block), and while the worker tears it down
# (writeback every 0.1 s, so its metadata reaches the disk in pieces and in
# writeback's order) point-in-time snapshots of the disk are taken: each is
# exactly what a crash at that moment leaves. Every
# snapshot must mount (it used to fail: "freeing a free block", EUCLEAN),
# its orphan recovery must complete, and afterwards fsck.dinofs -n is clean
# or, where the image had blocks the bitmap still marks whose pointers were
# already cleared on disk (a leak; dinofs has no journal), fsck.dinofs -y
# repairs it and -n is clean; free space is then exactly what the origin
# has after the teardown. Prints how many snapshots needed the repair.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

BLOCKS=131072
SECTORS=$((BLOCKS * 8))
SNAPS=${DINOFS_CRASH_SNAPS:-8}
COW=$((128 * 2048)) # 128 MiB of copy-on-write space per snapshot, on $DEV2

dinofs_load
dmsetup create dinofs-slow --table "0 $SECTORS delay $DEV1 0 0"
SLOW=$(dm_dev dinofs-slow)
dmsetup create dinofs-o --table "0 $SECTORS linear $SLOW 0"
ORIGIN=$(dm_dev dinofs-o)
mkfs.dinofs -q "$ORIGIN" "$BLOCKS"
mkdir -p /mnt/d /mnt/s
mount -t dinofs "$ORIGIN" /mnt/d
dinofs-workload frag /mnt/d/big /mnt/d/small $((256 << 20)) >/dev/null
sync
# From here on writes to the origin copy the old data into each snapshot.
dm_table dinofs-o "0 $SECTORS snapshot-origin $SLOW"
delay() { # delay READ_MS
	dm_table dinofs-slow "0 $SECTORS delay $DEV1 0 $1 $DEV1 0 0"
}
wb0=$(cat /proc/sys/vm/dirty_writeback_centisecs) ex0=$(cat /proc/sys/vm/dirty_expire_centisecs)
echo 10 >/proc/sys/vm/dirty_writeback_centisecs
echo 10 >/proc/sys/vm/dirty_expire_centisecs
echo 3 >/proc/sys/vm/drop_caches
delay 100

i0=$(gc_stat /mnt/d inactivated)
rm /mnt/d/big
taken=0
for k in $(seq 1 "$SNAPS"); do
	dmsetup create "dinofs-cow$k" --table "0 $COW linear $DEV2 $(( (k - 1) * COW ))"
	# A snapshot is created with its origin suspended: in-flight writes
	# finish first, so it is one instant of the disk.
	dmsetup suspend --nolockfs dinofs-o
	dmsetup create "dinofs-s$k" --table "0 $SECTORS snapshot $SLOW $(dm_dev "dinofs-cow$k") N 8"
	dmsetup resume dinofs-o
	taken=$((taken + 1))
	[ "$(gc_stat /mnt/d inactivated)" = "$i0" ] || break
done
delay 0
sync
during=$(( $(gc_stat /mnt/d inactivated) - i0 ))
log "$taken snapshots taken; teardown done after: $([ "$during" = 1 ] && echo "snapshot $taken" || echo "all of them")"
echo "$wb0" >/proc/sys/vm/dirty_writeback_centisecs
echo "$ex0" >/proc/sys/vm/dirty_expire_centisecs
free_after=$(stat -f -c %f /mnt/d)
umount /mnt/d

repaired=0 recovered=0 partial=0
for k in $(seq 1 "$taken"); do
	snap=$(dm_dev "dinofs-s$k")
	mark=$(klog | wc -l)
	mount -t dinofs "$snap" /mnt/s || fail "snapshot $k does not mount: $(klog | tail -n +$((mark + 1)) | grep dinofs | tail -3)"
	line=$(klog | tail -n +$((mark + 1)) | grep 'recovered [0-9]* orphan' || true)
	n=$(echo "$line" | grep -o 'recovered [0-9]* orphan' | awk '{ print $2 }' || true)
	again=$(echo "$line" | grep -o '([0-9]* block' | tr -d '(' | awk '{ print $1 }' || true)
	echo "# snapshot $k: ${line:-no orphan left to recover}"
	recovered=$((recovered + ${n:-0}))
	[ "${again:-0}" = 0 ] || partial=$((partial + 1))
	[ -e /mnt/s/big ] && fail "snapshot $k: the removed file is back"
	umount /mnt/s
	if ! fsck.dinofs -n "$snap" >"snap$k.fsck" 2>&1; then
		repaired=$((repaired + 1))
		echo "# snapshot $k needs repair: $(grep -v '^dinofs:' "snap$k.fsck" | head -3 | tr '\n' ' ')"
		fsck.dinofs -y "$snap" >/dev/null 2>&1 || true
		fsck.dinofs -n "$snap" || fail "snapshot $k: fsck -n after -y"
	fi
	mount -t dinofs "$snap" /mnt/s
	assert_eq "$(stat -f -c %f /mnt/s)" "$free_after" "snapshot $k: free blocks after recovery"
	umount /mnt/s
done
log "$taken crash images: all mounted, $recovered orphan recoveries ($partial of a half-done teardown), $repaired needed fsck -y"
for k in $(seq "$taken" -1 1); do dmsetup remove "dinofs-s$k"; dmsetup remove "dinofs-cow$k"; done
dmsetup remove dinofs-o
dmsetup remove dinofs-slow
fsck.dinofs -n "$DEV1" || fail "fsck of the origin"
dinofs_unload
