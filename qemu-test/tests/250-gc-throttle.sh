#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# The producer throttle against a deliberately slow worker (debugfs
# slow_worker_us: 3 ms per inode): one producer pinned to CPU 1 unlinks
# files faster than CPU 1's worker inactivates them; past 256 queued it
# waits for its CPU's work (throttles > 0), under a 30 s hung-task
# watchdog that must stay quiet, and everything is inactivated in the end.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

old=$(cat /proc/sys/kernel/hung_task_timeout_secs)
echo 30 >/proc/sys/kernel/hung_task_timeout_secs
trap 'echo $old >/proc/sys/kernel/hung_task_timeout_secs' EXIT
fresh_fs 131072
free0=$(stat -f -c %f /mnt/d)
dinofs-workload create /mnt/d/t 1200 16384 >/dev/null
sync
gc_knob /mnt/d slow_worker_us 3000
taskset -c 1 dinofs-workload unlink /mnt/d/t 1200
gc_knob /mnt/d slow_worker_us 0
sync
gc_stats /mnt/d
th=$(gc_stat /mnt/d throttles)
[ "$th" -gt 0 ] || fail "the producer never throttled"
echo "ok: throttled $th times"
assert_eq "$(gc_stat /mnt/d inactivated)" "$(gc_stat /mnt/d queued)" "inactivated = queued"
rmdir /mnt/d/t
sync
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "space back"
finish_fs
