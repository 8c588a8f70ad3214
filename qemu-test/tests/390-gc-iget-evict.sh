#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# iget racing eviction (engine-correctness item 4). Appended-to files hold
# preallocation past EOF, so every eviction queues a trim; a reclaim storm
# (drop_caches in a loop) evicts them while other tasks look them up and
# append to them. A lookup that read the disk inode under a queued trim
# would keep blocks the worker then frees: later appends write into blocks
# another file may own. At the end every file verifies, fsck finds no block
# owned twice, and the space is back after rm. The iget_delay_us race
# widener holds every iget 50 ms between the inode hash and the gc index.
# Before the storm, one round with the worker held (take_hold) makes the
# lookups meet queued trims for certain (cancelled > 0); the storm alone
# ran with no trim at all until it synced before each drop_caches (dirty
# inodes are not evicted).
# DINOFS_STORM_SECS sets the length.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

SECS=${DINOFS_STORM_SECS:-30}
fresh_fs 65536
free0=$(stat -f -c %f /mnt/d)
mkdir /mnt/d/f
dinofs-workload create /mnt/d/f 16 65536 >/dev/null
# First, the race made certain: the worker is held (take_hold gate) while
# reclaim evicts the 16 files (each queues a trim of its preallocation)
# and lookups read them back: every lookup must cancel its file's queued
# trim rather than read the disk inode under it.
sync -f /mnt/d
c0=$(gc_stat /mnt/d cancelled)
t0=$(gc_stat /mnt/d takes_held)
gc_knob /mnt/d take_hold 1
FAIL_DUMP='gc_knob /mnt/d take_hold 0; gc_stats /mnt/d'
echo 3 >/proc/sys/vm/drop_caches
wait_for 30 "a worker held with trims queued" '[ "$(gc_stat /mnt/d takes_held)" -gt "$t0" ]'
stat /mnt/d/f/* >/dev/null
gc_knob /mnt/d take_hold 0
FAIL_DUMP=
cancelled=$(( $(gc_stat /mnt/d cancelled) - c0 ))
[ "$cancelled" -gt 0 ] || fail "no lookup cancelled a queued trim"
echo "ok: $cancelled lookup(s) cancelled a queued trim"
# Race widener: iget sleeps 50 ms between the inode hash and the gc index.
gc_knob /mnt/d iget_delay_us 50000
end=$(( $(date +%s) + SECS ))
# syncfs first: an inode with dirty pages is not evicted, and the appends
# keep every file dirty (without it a run could end with no trim at all).
( while [ "$(date +%s)" -lt $end ]; do sync -f /mnt/d; echo 3 >/proc/sys/vm/drop_caches; done ) &
dc=$!
( while [ "$(date +%s)" -lt $end ]; do stat /mnt/d/f/* >/dev/null; done ) &
st=$!
rounds=0
while [ "$(date +%s)" -lt $end ]; do
	for f in /mnt/d/f/*; do head -c 4096 /dev/zero >>"$f"; done
	rounds=$((rounds + 1))
done
wait $dc $st
sync
gc_stats /mnt/d | grep -E '^(trims|cancelled|iget_waits) '
log "$rounds append rounds"
# The storm evicted files with preallocation (trims ran) while they were
# looked up and appended to.
[ "$(gc_stat /mnt/d trims)" -gt 0 ] || fail "no eviction queued a trim"
size=$(( 65536 + rounds * 4096 ))
for f in /mnt/d/f/*; do
	assert_eq "$(stat -c %s "$f")" "$size" "size of $f"
	nz=$(tail -c $((rounds * 4096)) "$f" | tr -d '\0' | wc -c)
	assert_eq "$nz" 0 "non-zero bytes in the appended range of $f"
done
umount /mnt/d
fsck.dinofs -n "$DEV1" || fail "fsck after the storm"
mount -t dinofs "$DEV1" /mnt/d
rm -rf /mnt/d/f
sync
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "space back"
finish_fs
