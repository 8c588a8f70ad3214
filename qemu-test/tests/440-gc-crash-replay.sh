#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 900
#
# Crash at any point (reliability item 4). dinofs runs on a dm-log-writes
# target that records every write, in the order the writes were made
# durable, on $DEV2: mkfs, then dinofs-crash's workload (tools/src/crash.rs)
# — an unlink storm, open-unlinked files, a fragmented 6 MiB teardown, fsync
# rewrites, a freeze, unsynced churn — with a mark in the log after each
# phase's syncfs, fsync or freeze. dinofs-crash then replays the log onto
# $DEV1 and stops at every flush, FUA write and mark, at
# DINOFS_CRASH_BETWEEN (2 here, 25 in make soak) points drawn between each
# two, and at every entry of the teardown phase (after mark g3-sync, where
# a crash can cut the orphan list: without the mount's relink such an image
# failed to mount with EUCLEAN): each image must mount (orphan recovery runs), hold everything synced
# before the last mark (names, sizes, contents) and lack every name whose
# removal was synced, read back whole, and be fsck -n clean at every point,
# by the mount's journal replay and orphan recovery alone (before every
# metadata block was journaled, points between marks were allowed a fsck
# repair; a crash test that needs repair now fails). Prints how many points were
# replayed.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

BLOCKS=8192
SECTORS=$((BLOCKS * 8))
BETWEEN=${DINOFS_CRASH_BETWEEN:-2}
SEED=${DINOFS_CRASH_SEED:-1}

dinofs_load
mkdir -p /mnt/d
dmsetup create dinofs-log --table "0 $SECTORS log-writes $DEV1 $DEV2"
LOGGED=$(dm_dev dinofs-log)
mkfs.dinofs -q "$LOGGED" "$BLOCKS"
dmsetup message dinofs-log 0 mark mkfs
mount -t dinofs "$LOGGED" /mnt/d
dinofs-crash run /mnt/d dinofs-log
umount /mnt/d
dmsetup remove dinofs-log
fsck.dinofs -n "$DEV1" || fail "the logged filesystem itself is not clean"

log "replay: seed $SEED, $BETWEEN points between each two sync points"
out=$(dinofs-crash replay --between "$BETWEEN" --seed "$SEED" --every-after g3-sync \
	"$DEV2" "$DEV1" /mnt/d $((BLOCKS * 4096))) || { echo "$out"; fail "replay"; }
echo "$out"
relinked=$(klog | grep -c "orphan list cut short" || true)
echo "orphan list relinked at $relinked point(s)"
points=$(echo "$out" | sed -n 's/^points=\([0-9]*\).*/\1/p')
quiet=$(echo "$out" | sed -n 's/.* quiet=\([0-9]*\).*/\1/p')
recovered=$(echo "$out" | sed -n 's/.* recovered_orphans=\([0-9]*\).*/\1/p')
# mkfs, g0-g4 sync, g6 frozen, the end: the quiet marks; the held files are orphans
# at the g2 and g3 marks at least.
[ "$quiet" -ge 8 ] || fail "$quiet quiet points replayed, expected 8"
[ "$points" -ge $((quiet + 10)) ] || fail "only $points points replayed"
[ "$recovered" -ge $((2 * 16)) ] || fail "only $recovered orphans recovered over all points"
echo "ok: $points points replayed, $quiet of them quiet marks, $recovered orphans recovered"
fsck.dinofs -n "$DEV1"
dinofs_unload
