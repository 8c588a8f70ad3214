#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# The CPU-dead fold against sync and unmount (engine-correctness items 8
# and 5). Each round closes open-unlinked files on CPU 3 with a slow
# worker (1 s per inode, the slow_worker_us knob): the worker is busy with
# the first close while the other five wait on CPU 3's list. CPU 3 is then
# taken offline while a sync (or an unmount) is already waiting for the
# busy worker, so the CPU-dead fold moves the waiting inodes to another CPU
# in the middle of it; the fold_delay_us race widener keeps the batch off all
# lists for 10 ms. Sync must not return before the folded inodes are
# inactivated (nothing queued, space back when it returns), and unmount
# must drain them while the filesystem is whole (teardown finds nothing;
# ba5d7b6 missed them and panicked inactivating them after s_fs_info was
# gone). Every round folds, fsck is clean. DINOFS_FOLD_ROUNDS sets the
# number of rounds.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

ROUNDS=${DINOFS_FOLD_ROUNDS:-3}
[ "$(nproc --all)" -ge 4 ] || skip "needs 4 CPUs"
CPU3=/sys/devices/system/cpu/cpu3/online
dinofs_load
mkfs.dinofs -q "$DEV1" 65536
mkdir -p /mnt/d
trap 'echo 1 >$CPU3 2>/dev/null' EXIT

# close_on_cpu3_then CMD: from CPU 3, close one open-unlinked file (the
# worker takes it and is busy for 1 s), then 5 more (they wait on CPU
# 3's list); start CMD (sync or umount) and take CPU 3 offline while CMD
# waits for the worker.
close_on_cpu3_then() {
	rm -f rest.in rest.out
	mkfifo rest.in
	taskset -c 3 dinofs-workload hold /mnt/d/rest 5 8192 <rest.in >rest.out &
	local rest=$!
	exec 9>rest.in
	for _ in $(seq 100); do grep -q holding rest.out && break; sleep 0.2; done
	assert_eq "$(head -1 rest.out)" holding=5 "files open and unlinked"
	HOLD_RUN="taskset -c 3" hold_unlinked /mnt/d/first 1 8192
	hold_release
	sleep 0.05
	exec 9>&-
	wait $rest || fail "dinofs-workload hold failed"
	# CMD first: it is waiting for the busy worker when CPU 3 dies and
	# the fold moves the five.
	"$@" &
	local cmd=$!
	sleep 0.3
	echo 0 >$CPU3
	wait $cmd || fail "$* failed"
	echo 1 >$CPU3
}

folds=0
for r in $(seq 1 "$ROUNDS"); do
	mount -t dinofs "$DEV1" /mnt/d
	mkdir -p /mnt/d/first /mnt/d/rest
	gc_knob /mnt/d slow_worker_us $((1000000 * DINOFS_SLOW))
	gc_knob /mnt/d fold_delay_us 10000
	free0=$(stat -f -c %f /mnt/d)

	close_on_cpu3_then sync
	assert_eq "$(gc_stat /mnt/d queued_now)" 0 "round $r: nothing queued when sync returned"
	assert_eq "$(gc_stat /mnt/d inactivated)" "$(gc_stat /mnt/d queued)" "round $r: inactivated = queued"
	assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "round $r: space back after sync"
	f=$(gc_stat /mnt/d folds)
	[ "$f" -ge 1 ] || fail "round $r: CPU 3 went offline with nothing to fold"
	folds=$((folds + f))

	mark=$(klog | wc -l)
	close_on_cpu3_then umount /mnt/d
	klog | tail -n +$((mark + 1)) | grep "still queued at teardown" >/dev/null && fail "round $r: inodes left for teardown"
	fsck.dinofs -n "$DEV1" >/dev/null || fail "round $r: fsck"
done
log "$ROUNDS rounds, $folds folds during sync"
mount -t dinofs "$DEV1" /mnt/d
assert_eq "$(inodes_in_use /mnt/d)" 3 "inodes in use after the last unmount (root, first, rest)"
finish_fs
