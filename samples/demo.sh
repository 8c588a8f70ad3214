#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The dinofs demo, run inside the test VM by "make demo": deferred inode
# inactivation, step by step.
#
#   1. make a filesystem, fill it with files
#   2. rm -rf: the inodes land on per-CPU queues (watch them fill and drain)
#   3. statfs pushes the queues but never waits; sync flushes them
#   4. a freeze holds inactivation; a CPU going offline folds its queue
#      onto a live CPU; thaw runs it
#   5. the tracepoints that recorded all of it
set -euo pipefail
. "$DINOFS_TOP/qemu-test/guest/lib.sh"
set +x

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
queues() {
	local q i
	i=$(gc_stat /mnt/demo inactivated)
	q=$(gc_stat /mnt/demo queued)
	printf '   waiting:'
	for c in 0 1 2 3; do printf ' cpu%s=%-4s' $c "$(gc_stat /mnt/demo "cpu$c queued")"; done
	printf ' in flight %-5s inactivated %-5s df free %s\n' $((q - i)) "$i" "$(free_blocks)"
}
free_blocks() { stat -f -c %f /mnt/demo; }

step "1. dinofs.ko on $(uname -r), $(nproc) CPUs, a debug kernel (lockdep on)"
modprobe -q jbd2 2>/dev/null || true # built in on the test kernel
run insmod "$DINOFS_KO"
run mkfs.dinofs "$DEV1" 131072
mkdir -p /mnt/demo
run mount -t dinofs "$DEV1" /mnt/demo
grep ' /mnt/demo ' /proc/mounts
dev=$(basename "$DEV1")
echo "engine statistics: /sys/kernel/debug/dinofs/$dev/inodegc"
run dinofs-workload create /mnt/demo/files 2000 16384
run sync
echo "free blocks: $(free_blocks)"

step "2. rm -rf: unlinked inodes queue on the CPU that dropped them; df does not wait"
echo "(the worker is slowed to 10 ms per inode so the backlog can be seen; past 256"
echo " queued on one CPU the producer throttles; each df pushes the queues)"
gc_knob /mnt/demo slow_worker_us 10000
echo 1 >/sys/kernel/tracing/events/dinofs/enable
rm -rf /mnt/demo/files &
for _ in 1 2 3 4 5 6 7 8; do sleep 0.5; queues; done
wait

step "3. sync flushes the queues: the space is back, exactly"
run sync
queues
gc_knob /mnt/demo slow_worker_us 0

step "4. a freeze holds inactivation; offlining CPU 2 folds its queue"
mkfifo /tmp/demo.hold
taskset -c 2 dinofs-workload hold /mnt/demo/held 40 8192 </tmp/demo.hold >/tmp/demo.out &
exec 8>/tmp/demo.hold
while ! grep -q holding /tmp/demo.out; do sleep 0.2; done
echo "40 files opened and unlinked by a task on CPU 2 (still open)"
run fsfreeze -f /mnt/demo
echo "gc enabled: $(gc_stat /mnt/demo enabled)   (sync_fs stopped it at SB_FREEZE_PAGEFAULT)"
exec 8>&-
wait
echo "the task closed them while frozen:"
queues
run sh -c 'echo 0 > /sys/devices/system/cpu/cpu2/online'
echo "folds: $(gc_stat /mnt/demo folds), folded items: $(gc_stat /mnt/demo folded_items)"
queues
run fsfreeze -u /mnt/demo
run sync
queues
run sh -c 'echo 1 > /sys/devices/system/cpu/cpu2/online'

step "5. what the tracepoints saw"
echo 0 >/sys/kernel/tracing/events/dinofs/enable
for e in queue worker push flush stop start cpu_dead; do
	printf '   dinofs_inodegc_%-9s %6s events\n' "$e" "$(grep -c "dinofs_inodegc_$e:" /sys/kernel/tracing/trace || true)"
done
grep -m2 'dinofs_inodegc_cpu_dead\|dinofs_inodegc_worker' /sys/kernel/tracing/trace || true

step "6. unmount and check"
rmdir /mnt/demo/held
run umount /mnt/demo
run fsck.dinofs -n "$DEV1"
run rmmod dinofs
echo
echo "demo: done (Documentation/inodegc.rst explains every step)"
