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
# (a transaction, committed by jbd2's thread within its 5 s interval, then
# written home in pieces by writeback, every 0.1 s here) point-in-time
# snapshots of the disk are taken, SNAPS of them over about that many
# seconds: each is exactly what a crash at that moment leaves. Every snapshot must mount (it used to
# fail: "freeing a free block", EUCLEAN); the mount alone (journal replay,
# then orphan recovery) must leave an image fsck.dinofs -n passes (before
# the journal, some needed a repair run of fsck for leaked blocks: a crash
# test that needs repair now fails); the removed file is either gone, with free
# space exactly what the origin has after the teardown, or — the unlink
# not yet committed at that instant — back whole, with the free space
# before the unlink.
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
# Cold caches: the eviction drop_caches causes trims the preallocation
# past EOF (gc work, committed by the sync), and a freeze checkpoints the
# journal, so nothing is left pinned by jbd2 and the second drop_caches
# drops every metadata block: the teardown reads them all from the slow
# disk.
echo 3 >/proc/sys/vm/drop_caches
sync
fsfreeze -f /mnt/d
fsfreeze -u /mnt/d
echo 3 >/proc/sys/vm/drop_caches
delay 100

free_before=$(stat -f -c %f /mnt/d)
i0=$(gc_stat /mnt/d inactivated)
t0=$SECONDS
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
	# Not stopping when the teardown is done: its transaction commits
	# within jbd2's 5 s interval and is then checkpointed in pieces by
	# writeback (every 0.1 s here), and the images after those instants
	# are the ones replay must repair.
done
delay 0
sync
assert_eq "$(( $(gc_stat /mnt/d inactivated) - i0 ))" 1 "inactivated (the removed file)"
log "$taken snapshots taken over $((SECONDS - t0)) s after the unlink"
echo "$wb0" >/proc/sys/vm/dirty_writeback_centisecs
echo "$ex0" >/proc/sys/vm/dirty_expire_centisecs
free_after=$(stat -f -c %f /mnt/d)
umount /mnt/d

back=0 recovered=0 partial=0
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
	want=$free_after
	if [ -e /mnt/s/big ]; then
		# The unlink's transaction had not committed: the file is whole.
		back=$((back + 1))
		want=$free_before
		assert_eq "$(stat -c %s /mnt/s/big)" $((256 << 20)) "snapshot $k: size of the file that is back"
	fi
	assert_eq "$(stat -f -c %f /mnt/s)" "$want" "snapshot $k: free blocks after the mount"
	umount /mnt/s
	fsck.dinofs -n "$snap" >"snap$k.fsck" 2>&1 ||
		fail "snapshot $k: fsck.dinofs -n after replay and recovery: $(grep -v '^dinofs:' "snap$k.fsck" | head -3 | tr '\n' ' ')"
done
log "$taken crash images: all mounted and fsck -n clean, $recovered orphan recoveries ($partial of a half-done teardown), $back with the unlink not yet committed"
[ "$back" -lt "$taken" ] || fail "every image predates the unlink's commit: nothing after it was tested"
for k in $(seq "$taken" -1 1); do dmsetup remove "dinofs-s$k"; dmsetup remove "dinofs-cow$k"; done
dmsetup remove dinofs-o
dmsetup remove dinofs-slow
fsck.dinofs -n "$DEV1" || fail "fsck of the origin"
dinofs_unload
