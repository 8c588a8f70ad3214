#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 900
#
# Large and sparse files and a full filesystem: a sparse 4 GiB file (data
# at the start, past 1 GiB and in its last block; holes read as zeroes and
# take no space), a dense 64 MiB file through single and double indirect
# blocks, both read back after a remount; then fill to ENOSPC, delete
# everything, and the free-block count is exactly back to the baseline.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

dinofs_load
mkfs.dinofs -q "$DEV1" 131072          # 512 MiB
mkdir -p /mnt/d
mount -t dinofs "$DEV1" /mnt/d
free0=$(stat -f -c %f /mnt/d)

# Sparse 4 GiB.
f=/mnt/d/sparse
echo start | dd of=$f bs=4096 conv=notrunc status=none
echo middle | dd of=$f bs=4096 seek=$((262144 + 7)) conv=notrunc status=none
echo end | dd of=$f bs=4096 seek=$((1048576 - 1)) conv=notrunc status=none
assert_eq "$(stat -c %s $f)" $((4 * 1024 * 1024 * 1024 - 4096 + 4)) "sparse size"
used=$(( $(stat -c %b $f) * 512 / 4096 ))
[ "$used" -le 12 ] || fail "sparse file uses $used blocks"
echo "ok: sparse file uses $used blocks"

# Dense 64 MiB (single + double indirect).
dinofs-workload create /mnt/d/dense 1 $((64 << 20))
umount /mnt/d
mount -t dinofs "$DEV1" /mnt/d
assert_eq "$(dd if=$f bs=4096 count=1 status=none | head -c 5)" start "sparse block 0"
assert_eq "$(dd if=$f bs=4096 skip=$((262144 + 7)) count=1 status=none | head -c 6)" middle "sparse block past 1 GiB"
assert_eq "$(dd if=$f bs=4096 skip=$((1048576 - 1)) count=1 status=none | head -c 3)" end "sparse last block"
assert_eq "$(dd if=$f bs=1M skip=2048 count=1 status=none | tr -d '\0' | wc -c)" 0 "a hole reads as zeroes"
out=$(dinofs-workload verify /mnt/d/dense 1 $((64 << 20)))
assert_eq "$out" "verified=1 bad=0" "dense file contents"
rm -r /mnt/d/sparse /mnt/d/dense
sync
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "free blocks after big files"

# Fill to ENOSPC, then delete everything.
out=$(dinofs-workload fill /mnt/d/fill)
log "$out"
case $out in *enospc=1*) ;; *) fail "no ENOSPC: $out" ;; esac
[ "$(stat -f -c %f /mnt/d)" -lt 64 ] || fail "filesystem not full: $(stat -f -c %f /mnt/d) free"
umount /mnt/d
fsck.dinofs -n "$DEV1" || fail "fsck of the full filesystem"
mount -t dinofs "$DEV1" /mnt/d
rm -r /mnt/d/fill
sync
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "free blocks after fill and delete"
df_free=$(df -B4096 --output=avail /mnt/d | tail -1 | tr -d ' ')
assert_eq "$df_free" "$free0" "df agrees"
finish_fs
