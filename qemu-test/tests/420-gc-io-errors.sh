#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# Real I/O errors while gc runs (reliability item 3; upstream d4d12c02bf5f).
# dinofs sits on a device-mapper device whose table is switched to the
# "error" target while the worker tears down 40 open-unlinked files, and
# back afterwards:
#
# 1. Write errors: the teardown runs in the buffer cache and its writes
#    fail (the journal's, which jbd2 answers by aborting the journal, or
#    the buffer layer's, which drops a buffer whose write failed, so the
#    disk no longer matches memory): syncfs fails with EIO and the
#    filesystem shuts down (whatever errors= says: nothing more is written, EIO after),
#    and the next mount on the healed device recounts and recovers all 40
#    from the orphan list: free space back, fsck clean. Before, syncfs
#    failed but the filesystem went on, and the unmount wrote memory's
#    orphan list (empty) into block 0 over the lost writes: the next mount
#    recovered nothing (40 unlinked inodes and their blocks leaked).
# 2. Read errors: with the metadata checkpointed (a freeze) and dropped
#    from the cache the worker's
#    reads fail: the error reaches syncfs, the unmount logs the failed
#    inactivations, and the next mount recovers them.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

BLOCKS=65536
SECTORS=$((BLOCKS * 8))
N=40
to_error() { dm_table dinofs-io "0 $SECTORS error"; }
to_linear() { dm_table dinofs-io "0 $SECTORS linear $DEV1 0"; }
since() { mark=$(klog | wc -l); }
newlog() { klog | tail -n +$((mark + 1)); }

# write_errors_in_teardown DIR: hold N unlinked files, make them durable
# on the orphan list, switch to the error table, close them (the worker
# tears them down in the cache) and syncfs, which must fail.
write_errors_in_teardown() {
	mkdir -p "$1"
	hold_unlinked "$1" "$N" 65536
	sync
	to_error
	since
	hold_release
	rc=0
	out=$(sync -f /mnt/d 2>&1) || rc=$?
	[ "$rc" != 0 ] || fail "syncfs succeeded over failed metadata writes"
	echo "ok: syncfs: $out"
	to_linear
	# The journal's write or a checkpoint's: either shuts down.
	newlog | grep -E "metadata write error|journal aborted" >/dev/null ||
		fail "no message about the metadata write error"
	echo "ok: $(newlog | grep -m1 -E "metadata write error|journal aborted")"
}

# recovers_all OPTS: unmount, mount again (OPTS), the orphans are recovered,
# the space is back and fsck is clean.
recovers_all() {
	since
	umount /mnt/d
	echo "unmount: $(newlog | grep dinofs | tr '\n' ' ')"
	since
	mount -t dinofs ${1:+-o "$1"} "$DM" /mnt/d
	newlog | grep -E "recovered [0-9]+ orphan inode" >/dev/null ||
		fail "the next mount recovered nothing: $(newlog | grep dinofs | tr '\n' ' ')"
	echo "ok: $(newlog | grep -m1 "recovered")"
	assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "free blocks after recovery"
	umount /mnt/d
	fsck.dinofs -n "$DM" || fail "fsck"
}

dinofs_load
dmsetup create dinofs-io --table "0 $SECTORS linear $DEV1 0"
DM=$(dm_dev dinofs-io)
[ -b "$DM" ] || fail "no block device $DM"
mkfs.dinofs -q "$DM" "$BLOCKS"
mkdir -p /mnt/d
mount -t dinofs "$DM" /mnt/d
mkdir /mnt/d/w /mnt/d/r
free0=$(stat -f -c %f /mnt/d)
cd /tmp

log "1. write errors under the worker's teardown"
write_errors_in_teardown /mnt/d/w
out=$(sh -c 'echo x >/mnt/d/after' 2>&1) && fail "a write after the metadata write error succeeded"
echo "ok: write after it: $out"
recovers_all

log "2. read errors in the worker"
mount -t dinofs "$DM" /mnt/d
hold_unlinked /mnt/d/r "$N" 65536
# A freeze checkpoints the journal: the metadata then sits only at home,
# no longer pinned by jbd2, so drop_caches can drop it and the worker's
# reads go to the failing device.
fsfreeze -f /mnt/d
fsfreeze -u /mnt/d
echo 3 >/proc/sys/vm/drop_caches
to_error
# The holder's own I/O on the failing device may fail with EIO: fine.
exec 8>&-
wait "$HOLD_PID" || true
rc=0
out=$(sync -f /mnt/d 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "syncfs succeeded over failed inactivations"
echo "ok: syncfs: $out"
[ "$(gc_stat /mnt/d errors)" -gt 0 ] || fail "no worker error counted"
echo "ok: worker errors: $(gc_stat /mnt/d errors)"
to_linear
recovers_all

dmsetup remove dinofs-io
dinofs_unload
