#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# Freeze holds inactivation, and a dead CPU's queue is folded, both
# deterministically: N files are opened and unlinked, the filesystem is
# frozen, a task pinned to CPU 2 closes them (they queue on CPU 2; gc is
# stopped, so no worker runs), CPU 2 goes offline (fold count 1, folded
# items N, CPU 2's queue empty), thaw runs them (all N inactivated), and
# space comes back exactly.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

N=40
[ "$(nproc --all)" -ge 4 ] || skip "needs 4 CPUs"
fresh_fs 65536
free0=$(stat -f -c %f /mnt/d)
sync

HOLD_RUN="taskset -c 2" hold_unlinked /mnt/d/h $N 20000
runs0=$(gc_stat /mnt/d worker_runs)
inact0=$(gc_stat /mnt/d inactivated)

fsfreeze -f /mnt/d
assert_eq "$(gc_stat /mnt/d enabled)" 0 "gc stopped by freeze"
hold_release                   # the pinned task closes the files now
assert_eq "$(tail -1 hold.out)" "closed=$N readable=$N" "unlinked files readable until close"
assert_eq "$(gc_stat /mnt/d 'cpu2 queued')" $N "queued on CPU 2 while frozen"
assert_eq "$(gc_stat /mnt/d worker_runs)" "$runs0" "no worker ran while frozen"

echo 0 >/sys/devices/system/cpu/cpu2/online
assert_eq "$(gc_stat /mnt/d folds)" 1 "CPU-dead folds"
assert_eq "$(gc_stat /mnt/d folded_items)" $N "folded items"
assert_eq "$(gc_stat /mnt/d 'cpu2 queued')" 0 "dead CPU's queue emptied"
assert_eq "$(gc_stat /mnt/d queued_now)" $N "still queued (elsewhere) while frozen"
assert_eq "$(gc_stat /mnt/d inactivated)" "$inact0" "nothing inactivated while frozen"

fsfreeze -u /mnt/d
sync
assert_eq "$(gc_stat /mnt/d enabled)" 1 "gc restarted by thaw"
assert_eq "$(( $(gc_stat /mnt/d inactivated) - inact0 ))" $N "inactivated after thaw"
assert_eq "$(gc_stat /mnt/d queued_now)" 0 "queues drained"
assert_eq "$(gc_stat /mnt/d worker_runs_while_stopped)" 0 "worker runs while stopped"
echo 1 >/sys/devices/system/cpu/cpu2/online
rmdir /mnt/d/h
sync
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "space back"

# A freeze that fails leaves gc running.
dev=$(basename "$DEV1")
echo 1 >/sys/kernel/debug/dinofs/$dev/fail_next_freeze
assert_fails "freeze with fail_next_freeze" fsfreeze -f /mnt/d
assert_eq "$(gc_stat /mnt/d enabled)" 1 "gc running after a failed freeze"
echo data >/mnt/d/after-failed-freeze
finish_fs
