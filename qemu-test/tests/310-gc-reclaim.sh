#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# Reclaim and the inodegc shrinker: with the worker held before it takes
# its list (the take_hold gate), the queue stays long during an rm -rf;
# slab reclaim (drop_caches) finds the queued inodes through the shrinker's
# count, its scan kicks the workers and marks the queues, and the producer
# then throttles: shrinker scans > 0 and throttles > 0; no OOM, nothing
# lost, space back. (A slow worker, 200 ms per inode, did this until CI on
# a loaded host caught the worker taking the whole pile into its next batch
# just before drop_caches: the count, which covers queued inodes only, was
# then 0 and reclaim never scanned; then a take_delay_us of 4 s, 8 s, 24 s
# on KASAN, each too short somewhere. The gate holds until the throttle has
# been seen.)
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

fresh_fs 65536
free0=$(stat -f -c %f /mnt/d)
dinofs-workload create /mnt/d/r 150 8192 >/dev/null
echo x >/mnt/d/extra
sync
# The worker's first run holds before it takes its list: the rm piles up
# on the list meanwhile (below the 256 backlog, so no throttle yet).
t0=$(gc_stat /mnt/d takes_held)
gc_knob /mnt/d take_hold 1
FAIL_DUMP='gc_knob /mnt/d take_hold 0; gc_stats /mnt/d'
taskset -c 1 rm -rf /mnt/d/r &
pid=$!
wait_for 30 "the worker held at take_hold" '[ "$(gc_stat /mnt/d takes_held)" -gt "$t0" ]'
wait_for 30 "64 inodes queued" '[ "$(gc_stat /mnt/d queued_now)" -ge 64 ]'
waiting=$(gc_stat /mnt/d queued_now)
th0=$(gc_stat /mnt/d throttles)
echo 2 >/proc/sys/vm/drop_caches
scans=$(gc_stat /mnt/d shrinker_scans)
[ "$scans" -gt 0 ] || fail "the shrinker never scanned"
# The next producer on the hit CPU throttles (it waits for CPU 1's work,
# which is held): this rm, or the rm -rf's next unlink.
taskset -c 1 rm /mnt/d/extra &
rmx=$!
wait_for 30 "a throttle after the shrinker hit the queue" \
	'[ "$(gc_stat /mnt/d throttles)" -gt "$th0" ]'
log "$waiting inodes waiting; after drop_caches: shrinker counts $(gc_stat /mnt/d shrinker_counts) scans $scans"
gc_knob /mnt/d take_hold 0
wait $rmx || fail "rm extra"
wait $pid || fail "rm -rf"
sync
gc_stats /mnt/d
echo "ok: shrinker scans $scans, throttles $th0 -> $(gc_stat /mnt/d throttles)"
[ "$(gc_stat /mnt/d throttles)" -gt "$th0" ] || fail "no throttle after the shrinker hit the queue"
klog | grep -qi "out of memory" && fail "OOM"
assert_eq "$(gc_stat /mnt/d inactivated)" "$(gc_stat /mnt/d queued)" "inactivated = queued"
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "space back"
finish_fs
