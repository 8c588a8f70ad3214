#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 300
#
# An armed delayed-work timer never outlives the engine (engine-correctness
# items 5 and 8). The arm_delay_ms knob makes a trickle arm the work with a
# 10 s delay instead of one jiffy, so a timer stays armed long enough to meet
# the paths that must deal with it:
#
# 1. The CPU-dead fold: one unlink on CPU 3 arms CPU 3's timer; CPU 3 goes
#    offline; the fold moves the inode to a live CPU, runs it there, and
#    cancels the dead CPU's timer (armed 1 before, 0 after).
# 2. Unmount with a timer armed over an empty list: the worker for CPU 3 is
#    held before it takes its list (the take_hold gate); an unlink queued
#    meanwhile re-arms the timer and is then taken with the list. Teardown
#    must cancel that timer before it frees the workqueue and the per-CPU
#    queues; a second mount then reuses the memory while the old timer
#    would fire. ba5d7b6 (with its one-jiffy delay patched to 10 s) oopsed
#    here: "BUG: unable to handle page fault" in detach_timer from
#    run_timer_softirq; the runner's splat scan reports that.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

[ "$(nproc --all)" -ge 4 ] || skip "needs 4 CPUs"
CPU3=/sys/devices/system/cpu/cpu3/online
trap 'echo 1 >$CPU3 2>/dev/null' EXIT
dinofs_load
mkdir -p /mnt/d
mkfs.dinofs -q "$DEV1" 32000

log "1. the fold cancels the dead CPU's armed timer"
mount -t dinofs "$DEV1" /mnt/d
base=$(stat -f -c %f /mnt/d)
gc_knob /mnt/d arm_delay_ms 10000
head -c 65536 /dev/zero >/mnt/d/f
sync
taskset -c 3 rm /mnt/d/f
assert_eq "$(gc_stat /mnt/d "cpu3 queued")" 1 "queued on CPU 3"
assert_eq "$(gc_stat /mnt/d "cpu3 armed")" 1 "CPU 3's timer armed"
echo 0 >$CPU3
assert_eq "$(gc_stat /mnt/d folds)" 1 "folds"
assert_eq "$(gc_stat /mnt/d "cpu3 armed")" 0 "CPU 3's timer armed after the fold"
sync
assert_eq "$(gc_stat /mnt/d queued_now)" 0 "queued after the fold and sync"
assert_eq "$(stat -f -c %f /mnt/d)" "$base" "free blocks after the fold"
echo 1 >$CPU3
umount /mnt/d

log "2. unmount with a timer armed over an empty list"
mount -t dinofs "$DEV1" /mnt/d
gc_knob /mnt/d arm_delay_ms $((10000 * DINOFS_SLOW))
for i in 1 2; do head -c 65536 /dev/zero >/mnt/d/f$i; done
sync
taskset -c 3 rm /mnt/d/f1
# The sync runs CPU 3's worker now; it holds before taking its list, while
# f2's unlink re-arms the timer.
t0=$(gc_stat /mnt/d takes_held)
gc_knob /mnt/d take_hold 1
FAIL_DUMP='gc_knob /mnt/d take_hold 0; gc_stats /mnt/d'
sync &
syncer=$!
wait_for 30 "CPU 3's worker held at take_hold" '[ "$(gc_stat /mnt/d takes_held)" -gt "$t0" ]'
taskset -c 3 rm /mnt/d/f2
gc_knob /mnt/d take_hold 0
FAIL_DUMP=
wait $syncer || fail "sync"
sync
assert_eq "$(gc_stat /mnt/d queued_now)" 0 "queued after sync"
assert_eq "$(gc_stat /mnt/d "cpu3 armed")" 1 "CPU 3's timer armed over an empty list"
assert_eq "$(stat -f -c %f /mnt/d)" "$base" "free blocks before unmount"
start=$(date +%s)
umount /mnt/d
echo "ok: unmounted with CPU 3's timer armed"
# Reuse the freed memory (a new engine) while the old timer would fire.
mount -t dinofs "$DEV1" /mnt/d
for i in $(seq 1 50); do echo "$i" >"/mnt/d/g$i"; done
rm -f /mnt/d/g*
left=$((10 * DINOFS_SLOW + 2 - ($(date +%s) - start)))
[ "$left" -le 0 ] || sleep "$left"
sync
assert_eq "$(stat -f -c %f /mnt/d)" "$base" "free blocks after the second mount"
umount /mnt/d
fsck.dinofs -n "$DEV1" || fail "fsck"
dinofs_unload
