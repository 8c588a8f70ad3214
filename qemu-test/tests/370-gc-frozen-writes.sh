#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# Nothing is written while frozen (engine-correctness item 6). Each cycle
# freezes the filesystem, closes open-unlinked files (their final iputs
# queue), runs statfs (which pushes the queues) and reclaim (drop_caches
# calls the engine's shrinker), and compares a checksum of the whole
# filesystem taken through the block device's page cache right after the
# freeze with one taken at the end of the cycle: no block may change, in
# memory or on disk, between freeze and thaw.
#
# The late arm is forced every cycle, without a timing window: with the
# push_hold gate set, the next statfs push samples "enabled" and waits
# (pushes_held counts it; the freeze starts only after it has), the freeze
# and the closes happen, then the gate is opened and the push arms the
# queues while frozen. The armed worker must find gc stopped and
# leave its list (worker_skips_while_stopped counts it, every cycle;
# ba5d7b6 inactivated, writing to the frozen filesystem),
# worker_runs_while_stopped stays 0, and what queued while frozen is
# inactivated after the thaw. DINOFS_STORM_SECS sets the length. (A fixed
# 3 s push delay did this before; on a loaded CI machine the freeze took
# longer than the delay and no cycle met the race.)
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
trap 'gc_knob /mnt/d push_hold 0; kill $sp 2>/dev/null; fsfreeze -u /mnt/d 2>/dev/null' EXIT
cycles=0 queued_frozen=0
FAIL_DUMP='gc_stats /mnt/d; echo "in cycle $cycles"'
# At least 3 cycles, however slow the kernel (the statfs loop ends on time).
while [ "$cycles" -lt 3 ] || [ "$(date +%s)" -lt $end ]; do
	hold_unlinked /mnt/d 20 8192
	k0=$(gc_stat /mnt/d worker_skips_while_stopped)
	h0=$(gc_stat /mnt/d pushes_held)
	gc_knob /mnt/d push_hold 1
	# This statfs or the loop's takes the gate. Not with the holder's fifo
	# (fd 8) open: the holder would not see EOF at hold_release while the
	# gate holds this statfs.
	stat -f /mnt/d >/dev/null 8>&- &
	late=$!
	wait_for 30 "a push waiting on push_hold" \
		'[ "$(gc_stat /mnt/d pushes_held)" -gt "$h0" ]'
	fsfreeze -f /mnt/d
	q0=$(gc_stat /mnt/d queued_now)
	hold_release # the final iputs only queue
	s0=$(sum)
	gc_knob /mnt/d push_hold 0
	wait $late # armed the queues while frozen
	wait_for 30 "a late-armed worker meeting the frozen gc" \
		'[ "$(gc_stat /mnt/d worker_skips_while_stopped)" -gt "$k0" ]'
	q1=$(gc_stat /mnt/d queued_now)
	s1=$(sum)
	fsfreeze -u /mnt/d
	[ "$s1" = "$s0" ] || fail "cycle $cycles: the device changed while frozen"
	queued_frozen=$((queued_frozen + q1 - q0))
	cycles=$((cycles + 1))
done
wait $sp
trap - EXIT
sync
gc_stats /mnt/d
log "$cycles freeze cycles, $queued_frozen inodes queued while frozen"
[ "$cycles" -ge 3 ] || fail "only $cycles cycles"
[ "$queued_frozen" -ge $((cycles * 20)) ] || fail "only $queued_frozen inodes queued while frozen"
skips=$(gc_stat /mnt/d worker_skips_while_stopped)
# Every cycle's late push armed a queue while frozen (checked per cycle).
[ "$skips" -ge "$cycles" ] || fail "only $skips late-armed workers met a stopped gc in $cycles cycles"
echo "ok: $skips late-armed workers left their list while frozen"
assert_eq "$(gc_stat /mnt/d worker_runs_while_stopped)" 0 "worker runs while stopped"
assert_eq "$(gc_stat /mnt/d queued_now)" 0 "queues drained after the thaws"
assert_eq "$(gc_stat /mnt/d inactivated)" "$(gc_stat /mnt/d queued)" "inactivated = queued"
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "space back"
finish_fs
