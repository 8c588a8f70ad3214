#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# Freeze races (xfs/517, generic/390, generic/068 in spirit): the
# filesystem is frozen and thawed every ~0.3 s while one task creates and
# unlinks files and another opens, unlinks and closes files (evictions
# while frozen must only queue). No hang (timeouts), no worker runs while
# stopped, nothing lost: queued = inactivated, queues empty, space back.
# DINOFS_STORM_SECS sets the length (soak: 600).
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

SECS=${DINOFS_STORM_SECS:-30}
fresh_fs 131072
free0=$(stat -f -c %f /mnt/d)
end=$(( $(date +%s) + SECS ))

( while [ "$(date +%s)" -lt $end ]; do
	dinofs-workload create /mnt/d/s 200 8192 >/dev/null
	dinofs-workload unlink /mnt/d/s 200 >/dev/null
done ) &
p1=$!
( i=0; while [ "$(date +%s)" -lt $end ]; do
	echo | dinofs-workload hold /mnt/d/h$((i % 3)) 20 4096 >/dev/null
	i=$((i + 1))
done ) &
p2=$!
freezes=0
while [ "$(date +%s)" -lt $end ]; do
	timeout 60 fsfreeze -f /mnt/d || fail "freeze hung or failed"
	sleep 0.3
	timeout 60 fsfreeze -u /mnt/d || fail "thaw hung or failed"
	freezes=$((freezes + 1))
	sleep 0.3
done
wait $p1 $p2
log "$freezes freeze/thaw cycles"
rm -rf /mnt/d/s /mnt/d/h0 /mnt/d/h1 /mnt/d/h2
sync
gc_stats /mnt/d
[ "$freezes" -ge 5 ] || fail "only $freezes freezes"
assert_eq "$(gc_stat /mnt/d stops)" "$freezes" "gc stops (one per freeze)"
assert_eq "$(gc_stat /mnt/d worker_runs_while_stopped)" 0 "worker runs while stopped"
assert_eq "$(gc_stat /mnt/d queued_now)" 0 "queues drained"
assert_eq "$(gc_stat /mnt/d inactivated)" "$(gc_stat /mnt/d queued)" "inactivated = queued"
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "space back"
finish_fs
