#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# FS_IOC_SHUTDOWN (the XFS_IOC_GOINGDOWN number), in its three modes.
#
# 1. nologflush while frozen, with N open-unlinked files closed during the
#    freeze (so N inodes sit on the gc queues): the ioctl discards all N
#    (debugfs "discarded"), gc never starts again at thaw, every kind of
#    I/O fails with EIO, statfs still answers, a second shutdown is a
#    no-op, out-of-range flags are EINVAL, unmount writes nothing (state
#    stays dirty) and fsck -n is clean. The next mount recounts free space
#    and orphan recovery inactivates the N: space back to the baseline.
# 2. default: unsynced data and an unlink are written before the shutdown;
#    after remount the data is intact and fsck is clean.
# 3. logflush: the same guarantees (dinofs does not order data; it writes
#    all of it, as for default).
# 4. nologflush with unsynced changes: what was synced survives, and the
#    image is fsck -n clean without repair (journal replay: an operation
#    is there whole or not at all).
# 5. symlinks whose creates committed by themselves keep their targets
#    across a nologflush cut.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

N=20
fresh_fs 65536
mkdir /mnt/d/h
echo probe >/mnt/d/probe
sync
free0=$(stat -f -c %f /mnt/d)
inodes0=$(inodes_in_use /mnt/d)

assert_fails "shutdown with flags 7" dinofs-workload shutdown /mnt/d 7
dinofs-workload probe /mnt/d >probe.out || fail "probe of a live fs"
grep -q "^open=ok read=ok write=ok create=ok" probe.out || fail "live fs probe: $(cat probe.out)"
rm -rf /mnt/d/probe-new /mnt/d/probe-dir
echo probe >/mnt/d/probe
sync

# --- 1: nologflush, frozen, N inodes queued -------------------------------
hold_unlinked /mnt/d/h $N 40000
fsfreeze -f /mnt/d
hold_release
assert_eq "$(gc_stat /mnt/d queued_now)" $N "inodes queued while frozen"
dinofs-workload shutdown /mnt/d nologflush || fail "shutdown nologflush"
assert_eq "$(gc_stat /mnt/d discarded)" $N "queued inodes discarded by the shutdown"
assert_eq "$(gc_stat /mnt/d queued_now)" 0 "nothing left queued"
fsfreeze -u /mnt/d
assert_eq "$(gc_stat /mnt/d enabled)" 0 "gc stays stopped after the thaw"
assert_eq "$(gc_stat /mnt/d shut_down)" 1 "engine marked shut down"
dinofs-workload probe /mnt/d >probe.out 2>&1 || fail "probe: $(cat probe.out)"
assert_eq "$(cat probe.out)" \
	"open=EIO read=EIO write=EIO create=EIO mkdir=EIO readdir=EIO unlink=EIO fsync=EIO" \
	"every kind of I/O after shutdown"
stat -f /mnt/d >/dev/null || fail "statfs after shutdown"
dinofs-workload shutdown /mnt/d default || fail "a second shutdown is not a no-op"
assert_fails "remount rw after shutdown" mount -o remount,rw /mnt/d
klog | grep -q "filesystem shut down (NoLogFlush)" || fail "no shutdown message"
klog | grep -q "Aborting journal on device ${DEV1#/dev/}" || fail "the shutdown did not abort the journal"
umount /mnt/d || fail "umount after shutdown"
klog | grep -q "unmounted after shutdown" || fail "no unmount message"
[ -e "/sys/kernel/debug/dinofs/$(basename "$DEV1")" ] && fail "debugfs directory left behind"
out=$(fsck.dinofs -n "$DEV1" 2>&1) || fail "fsck -n after nologflush of a quiescent fs: $out"
echo "$out" | grep -q "not cleanly unmounted" || fail "state not left dirty: $out"
mount -t dinofs "$DEV1" /mnt/d
klog | grep -q "recovered $N orphan inode(s)" || fail "no orphan recovery of $N"
# ESHUTDOWN is recorded in the journal as no error.
klog | grep -q "journal records error" && fail "the shutdown's abort was reported as an error"
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "free blocks back to the baseline"
assert_eq "$(inodes_in_use /mnt/d)" "$inodes0" "inodes back to the baseline"
assert_eq "$(cat /mnt/d/probe)" probe "synced file intact"
finish_fs

# --- 2 and 3: default and logflush write everything first -----------------
for mode in default logflush; do
	fresh_fs 65536
	dinofs-workload create /mnt/d 50 20000 >/dev/null || fail "create"
	sync
	dinofs-workload unlink /mnt/d 10 >/dev/null || fail "unlink"
	mkdir /mnt/d/new
	dinofs-workload create /mnt/d/new 30 30000 >/dev/null || fail "create unsynced"
	dinofs-workload shutdown /mnt/d $mode || fail "shutdown $mode"
	assert_fails "write after $mode shutdown" sh -c 'echo x >/mnt/d/new/x'
	umount /mnt/d || fail "umount after $mode"
	fsck.dinofs -n "$DEV1" || fail "fsck -n after $mode shutdown"
	mount -t dinofs "$DEV1" /mnt/d
	assert_eq "$(ls /mnt/d | grep -c '^f')" 40 "$mode: unlink persisted"
	dinofs-workload verify /mnt/d/new 30 30000 >/dev/null || fail "$mode: unsynced data lost"
	finish_fs
done

# --- 4: nologflush with unsynced changes ----------------------------------
fresh_fs 65536
dinofs-workload create /mnt/d 40 20000 >/dev/null || fail "create"
sync
mkdir /mnt/d/new
dinofs-workload create /mnt/d/new 30 30000 >/dev/null || fail "create unsynced"
dinofs-workload unlink /mnt/d 10 >/dev/null || fail "unlink unsynced"
dinofs-workload shutdown /mnt/d nologflush || fail "shutdown nologflush"
umount /mnt/d || fail "umount"
# Every metadata change is journaled: the cut leaves the last committed
# transaction, which fsck -n replays (in memory) and finds whole.
fsck.dinofs -n "$DEV1" >fsck.out 2>&1 ||
	fail "fsck -n after a nologflush cut: $(grep -v '^dinofs:' fsck.out | head -3 | tr '\n' ';')"
mount -t dinofs "$DEV1" /mnt/d
names=$(ls /mnt/d | grep -c '^f')
[ "$names" -ge 30 ] && [ "$names" -le 40 ] || fail "synced files lost: $names names"
for i in $(seq 10 39); do
	[ "$(stat -c %s /mnt/d/f0000$i)" = 20000 ] || fail "synced file f0000$i damaged"
done
finish_fs

# --- 5: a committed symlink's target survives a nologflush cut ------------
# The create commits by itself (commit=1) while periodic writeback is off;
# then nologflush writes nothing more. The target is in the symlink's own
# block, written through the page cache: it must reach the disk before the
# transaction that creates the symlink commits (generic/051 found symlinks
# whose target read back as zeros after a shutdown and replay).
dinofs_load
mkfs.dinofs -q "$DEV1" 8192
mount -t dinofs -o commit=1 "$DEV1" /mnt/d
wb0=$(cat /proc/sys/vm/dirty_writeback_centisecs)
echo 0 >/proc/sys/vm/dirty_writeback_centisecs
target=$(printf 'target-%04d/' $(seq 1 20))
for i in 1 2 3 4; do ln -s "$target$i" "/mnt/d/l$i"; done
sleep 3 # past the commit interval: the creates are committed
dinofs-workload shutdown /mnt/d nologflush || fail "shutdown nologflush"
echo "$wb0" >/proc/sys/vm/dirty_writeback_centisecs
umount /mnt/d
fsck.dinofs -n "$DEV1" >fsck.out 2>&1 ||
	fail "fsck -n after a nologflush cut with committed symlinks: $(grep -v '^dinofs:' fsck.out | head -3 | tr '\n' ';')"
mount -t dinofs "$DEV1" /mnt/d
for i in 1 2 3 4; do
	assert_eq "$(readlink "/mnt/d/l$i")" "$target$i" "symlink l$i after the cut"
done
finish_fs
