#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# Nothing is written while frozen (engine-correctness item 6). Each cycle
# freezes the filesystem, closes open-unlinked files (their final iputs
# queue), runs statfs in a loop (which pushes the queues) and reclaim
# (drop_caches calls the engine's shrinker), and compares a checksum of
# the whole filesystem taken through the block device's page cache right
# after the freeze with one taken at the end of the cycle: no block may
# change, in memory or on disk, between freeze and thaw. A worker armed
# late (by statfs or the shrinker after they sampled "enabled") must leave
# its list alone: worker_runs_while_stopped stays 0, and what queued while
# frozen is inactivated after the thaw. DINOFS_STORM_SECS sets the length.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

SECS=${DINOFS_STORM_SECS:-30}
BLOCKS=16384
fresh_fs $BLOCKS
free0=$(stat -f -c %f /mnt/d)
# The filesystem as the block device's page cache shows it: what is on
# disk plus every metadata buffer in memory, dirty or not. Clean pages are
# dropped first: file data is written through the files' own page cache,
# so a block-device page cached earlier may hold a stale copy of a block
# reused for file data since (dirty pages cannot be dropped, so a buffer
# changed in memory while frozen still shows).
sum() {
	echo 3 >/proc/sys/vm/drop_caches
	head -c $((BLOCKS * 4096)) "$DEV1" | md5sum | cut -d' ' -f1
}
end=$(( $(date +%s) + SECS ))
( while [ "$(date +%s)" -lt $end ]; do dinofs-workload statfs /mnt/d 1 >/dev/null; done ) &
sp=$!
cycles=0 queued_frozen=0
while [ "$(date +%s)" -lt $end ]; do
	hold_unlinked /mnt/d 20 8192
	fsfreeze -f /mnt/d
	s0=$(sum)
	q0=$(gc_stat /mnt/d queued_now)
	hold_release
	echo 3 >/proc/sys/vm/drop_caches
	dinofs-workload statfs /mnt/d 1 >/dev/null
	echo 3 >/proc/sys/vm/drop_caches
	q1=$(gc_stat /mnt/d queued_now)
	s1=$(sum)
	fsfreeze -u /mnt/d
	[ "$s1" = "$s0" ] || fail "cycle $cycles: the device changed while frozen"
	queued_frozen=$((queued_frozen + q1 - q0))
	cycles=$((cycles + 1))
done
wait $sp
sync
gc_stats /mnt/d
log "$cycles freeze cycles, $queued_frozen inodes queued while frozen"
[ "$cycles" -ge 3 ] || fail "only $cycles cycles"
[ "$queued_frozen" -ge $((cycles * 20)) ] || fail "only $queued_frozen inodes queued while frozen"
assert_eq "$(gc_stat /mnt/d worker_runs_while_stopped)" 0 "worker runs while stopped"
assert_eq "$(gc_stat /mnt/d queued_now)" 0 "queues drained after the thaws"
assert_eq "$(gc_stat /mnt/d inactivated)" "$(gc_stat /mnt/d queued)" "inactivated = queued"
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "space back"
finish_fs
