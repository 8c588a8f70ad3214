#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# Reclaim and the inodegc shrinker: with the worker held for 4 s before it
# takes its list (take_delay_us), the queue stays long during an rm -rf;
# slab reclaim (drop_caches) finds the queued inodes through the shrinker's
# count, its scan kicks the workers and marks the queues, and the producer
# then throttles: shrinker scans > 0 and throttles > 0; no OOM, nothing
# lost, space back. (A slow worker, 200 ms per inode, did this until CI on
# a loaded host caught the worker taking the whole pile into its next batch
# just before drop_caches: the count, which covers queued inodes only, was
# then 0 and reclaim never scanned.)
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

fresh_fs 65536
free0=$(stat -f -c %f /mnt/d)
dinofs-workload create /mnt/d/r 150 8192 >/dev/null
echo x >/mnt/d/extra
sync
# The worker's first run waits 8 s before it takes its list: the rm piles
# up on the list meanwhile (below the 256 backlog, so no throttle yet).
# The window is the rm -rf, the polls, drop_caches and the last rm: 4 s was
# too short now and then on the debug kernel ("no throttle after the
# shrinker hit the queue": the worker took its list first); 24 s on KASAN
# stays under the workqueue watchdog's 30 s.
gc_knob /mnt/d take_delay_us $((DINOFS_SLOW > 1 ? 24000000 : 8000000))
taskset -c 1 rm -rf /mnt/d/r &
pid=$!
for _ in $(seq $((100 * DINOFS_SLOW))); do
	[ "$(gc_stat /mnt/d queued_now)" -ge 64 ] && break
	sleep 0.1
done
waiting=$(gc_stat /mnt/d queued_now)
[ "$waiting" -ge 64 ] || fail "only $waiting inodes waiting; cannot exercise the shrinker"
th0=$(gc_stat /mnt/d throttles)
echo 2 >/proc/sys/vm/drop_caches
scans=$(gc_stat /mnt/d shrinker_scans)
# The next producer on the hit CPU throttles (it waits for CPU 1's work).
# It must come before CPU 1's worker takes its list, which resets the hits:
# the worker is still in its 4 s wait.
taskset -c 1 rm /mnt/d/extra
log "$waiting inodes waiting; after drop_caches: shrinker counts $(gc_stat /mnt/d shrinker_counts) scans $scans"
gc_knob /mnt/d take_delay_us 0
wait $pid
sync
gc_stats /mnt/d
[ "$scans" -gt 0 ] || fail "the shrinker never scanned"
echo "ok: shrinker scans $scans, throttles $th0 -> $(gc_stat /mnt/d throttles)"
[ "$(gc_stat /mnt/d throttles)" -gt "$th0" ] || fail "no throttle after the shrinker hit the queue"
klog | grep -qi "out of memory" && fail "OOM"
assert_eq "$(gc_stat /mnt/d inactivated)" "$(gc_stat /mnt/d queued)" "inactivated = queued"
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "space back"
finish_fs
