#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 900
#
# Field-aware fuzzed images against the kernel (reliability items 1-2).
# dinofs-fuzz (tools/src/fuzz.rs) changes one to three metadata fields of a
# base image that holds one of everything — superblock counters and
# geometry, inode fields, directory slot fields, indirect pointers, bitmap
# bits, orphan links — to boundary and cross-reference values, and reseals
# the checksums, so the kernel's structure checks are what meet them (as
# XFS's xfs_db-fuzz tests, xfs/350-400, do). In one process, for each of
# DINOFS_FUZZ_IMAGES images (300 here, 10,000 in make soak): write it to
# the scratch device, mount(2) it or be refused, walk the tree reading
# every file and link, create, write, truncate, rename, link, unlink,
# statfs, syncfs, umount(2). Errors are expected; a splat, an oops, a hang
# (the watchdog names the image) or a failed unmount is not. Replay an image
# with "dinofs-fuzz image --seed S --index I BASE OUT". fsck's side (-n
# never crashes, -y converges) runs on the host: tools/tests/fuzz.rs.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

IMAGES=${DINOFS_FUZZ_IMAGES:-300}
SEED=${DINOFS_FUZZ_SEED:-1}
# Images that found a bug, replayed first every run (seed:index: what).
REGRESSIONS=(
	"2:2031" # the root with nlink 0: mkdir in it, "WARNING ... inc_nlink"
	"2:3072" # the root with nlink 1: rmdir takes it to 0
)
dinofs_load
mkdir -p /mnt/d
dinofs-fuzz base /tmp/fuzz-base.img
for r in "${REGRESSIONS[@]}"; do
	out=$(dinofs-fuzz mount --seed "${r%%:*}" --start "${r#*:}" --count 1 --timeout 60 \
		/tmp/fuzz-base.img "$DEV1" /mnt/d 2>&1) || fail "replay $r: $out"
	echo "replay $r: $out"
done
log "seed $SEED, $IMAGES images"
out=$(dinofs-fuzz mount --seed "$SEED" --count "$IMAGES" --timeout 60 /tmp/fuzz-base.img "$DEV1" /mnt/d 2>/tmp/fuzz.err) ||
	{ cat /tmp/fuzz.err; fail "dinofs-fuzz mount: $out"; }
cat /tmp/fuzz.err
echo "$out"
grep HANG /tmp/fuzz.err >/dev/null && fail "an image hung"
assert_eq "$(echo "$out" | grep -o 'images=[0-9]*')" "images=$IMAGES" "images"
mounted=$(echo "$out" | sed -n 's/.*mounted=\([0-9]*\).*/\1/p')
[ "$mounted" -gt $((IMAGES / 4)) ] || fail "only $mounted of $IMAGES images mounted"
[ "$mounted" -lt "$IMAGES" ] || fail "every image mounted: the mutations miss the mount checks"
echo "ok: $mounted mounted, $((IMAGES - mounted)) refused"
# The kernel and the device are still fine.
mkfs.dinofs -q "$DEV1" 32000
mount -t dinofs "$DEV1" /mnt/d
dinofs-workload create /mnt/d/after 20 16384 >/dev/null
umount /mnt/d
fsck.dinofs -n "$DEV1" || fail "fsck of a fresh filesystem after the campaign"
dinofs_unload
