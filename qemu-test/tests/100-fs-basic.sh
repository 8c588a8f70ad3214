#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 300
#
# The basic life of a dinofs filesystem: mkfs, mount, create, write, read,
# mkdir, rename, link, symlink, unlink, rmdir; the data and names survive an
# unmount and remount; statfs counts come back exactly after deletes; and
# fsck.dinofs finds the image clean afterwards.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

fresh_fs 65536
grep -q "^$DEV1 /mnt/d dinofs rw" /proc/mounts || fail "not mounted rw: $(grep /mnt/d /proc/mounts)"

free0=$(stat -f -c %f /mnt/d)
files0=$(stat -f -c %d /mnt/d)
log "baseline: $free0 free blocks, $files0 free inodes"

echo hello >/mnt/d/a
assert_eq "$(cat /mnt/d/a)" hello "read back a"
mkdir /mnt/d/sub
head -c 300000 /dev/urandom >/mnt/d/sub/big
sum=$(md5sum </mnt/d/sub/big)
mv /mnt/d/a /mnt/d/sub/b
ln /mnt/d/sub/b /mnt/d/hard
ln -s sub/b /mnt/d/sym
assert_eq "$(cat /mnt/d/sym)" hello "read through symlink"
assert_eq "$(readlink /mnt/d/sym)" sub/b "readlink"
assert_eq "$(stat -c %h /mnt/d/hard)" 2 "hard link count"
assert_eq "$(stat -c %h /mnt/d/sub)" 2 "subdir link count"
assert_eq "$(stat -c %h /mnt/d)" 3 "root link count"
assert_eq "$(ls /mnt/d | tr '\n' ' ')" "hard sub sym " "root listing"

umount /mnt/d
fsck.dinofs -n "$DEV1" || fail "fsck after first unmount"
mount -t dinofs "$DEV1" /mnt/d
assert_eq "$(md5sum </mnt/d/sub/big)" "$sum" "big file after remount"
assert_eq "$(cat /mnt/d/hard)" hello "hard link after remount"
assert_eq "$(ls /mnt/d/sub | tr '\n' ' ')" "b big " "subdir listing after remount"

rm -r /mnt/d/sub /mnt/d/hard /mnt/d/sym
sync
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "free blocks back to baseline"
assert_eq "$(stat -f -c %d /mnt/d)" "$files0" "free inodes back to baseline"
assert_eq "$(ls -A /mnt/d | wc -l)" 0 "root empty"
finish_fs
