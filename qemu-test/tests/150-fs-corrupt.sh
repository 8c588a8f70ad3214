#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 400
#
# Corrupt images are refused at mount or fail with EUCLEAN ("Structure needs
# cleaning", or EIO through the page cache) at use, with a message, never a splat: bad magic, version,
# superblock checksum, a size larger than the device, a corrupt root inode,
# a corrupt directory block, a corrupt bitmap block. fsck.dinofs -n agrees
# (exit 4) wherever the image is damaged, and -y repairs what it can.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

dinofs_load
mkdir -p /mnt/d
# A 32000-block image (a 1,024-block journal at 1, one bitmap block): bitmap
# 1025, cluster map 1026, root cluster 1027, root directory block 1028 (see
# Documentation/format.rst).
BITMAP=1025 ROOT_CLUSTER=1027 ROOT_DIR=1028
fresh() {
	mkfs.dinofs -q "$DEV1" 32000
	mount -t dinofs "$DEV1" /mnt/d
	mkdir /mnt/d/sub
	echo hi >/mnt/d/sub/f
	umount /mnt/d
}
poke() { # poke BLOCK OFFSET BYTE
	printf "\\x$3" | dd of="$DEV1" bs=1 seek=$(($1 * 4096 + $2)) conv=notrunc status=none
}
refused() { # refused WHAT MESSAGE
	assert_fails "$1" mount -t dinofs "$DEV1" /mnt/d
	klog | grep -q "$2" || fail "$1: no '$2' message"
}

fresh; poke 0 0 00
refused "bad magic" "not a dinofs filesystem"
fresh; poke 0 8 07
refused "bad version" "unsupported on-disk format version"
fresh; poke 0 100 ff
refused "superblock checksum" "corrupt superblock"
fsck.dinofs -n "$DEV1" && fail "fsck passed a bad superblock" || true
fresh; poke $ROOT_CLUSTER 30 55
refused "corrupt root inode" "corrupt inode"
assert_eq "$(fsck.dinofs -n "$DEV1" >/dev/null 2>&1; echo $?)" 4 "fsck on a corrupt root inode"

fresh; poke $ROOT_DIR 2000 01
mount -t dinofs "$DEV1" /mnt/d
out=$(ls /mnt/d 2>&1 || true)
case $out in *"Structure needs cleaning"*) echo "ok: ls: $out" ;; *) fail "ls of a corrupt directory: '$out'" ;; esac
klog | grep -q "corrupt directory block" || fail "no message for the corrupt directory block"
umount /mnt/d
assert_eq "$(fsck.dinofs -n "$DEV1" >/dev/null 2>&1; echo $?)" 4 "fsck -n on a corrupt directory block"
assert_eq "$(fsck.dinofs -y "$DEV1" >/dev/null 2>&1; echo $?)" 1 "fsck -y repairs it"
fsck.dinofs -n "$DEV1" || fail "fsck -n after repair"
mount -t dinofs "$DEV1" /mnt/d
ls /mnt/d >/dev/null || fail "ls after repair"
umount /mnt/d

fresh; poke $BITMAP 0 00
mount -t dinofs "$DEV1" /mnt/d
out=$(sh -c 'echo data >/mnt/d/newfile' 2>&1 || true)
case $out in *"Structure needs cleaning"* | *"I/O error"*) echo "ok: write: $out" ;; *) fail "write with a corrupt bitmap: '$out'" ;; esac
umount /mnt/d
assert_eq "$(fsck.dinofs -n "$DEV1" >/dev/null 2>&1; echo $?)" 4 "fsck -n on a corrupt bitmap"
dinofs_unload
