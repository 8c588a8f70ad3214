#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 400
#
# Mounting: data persists across unmount and module reload; ro/rw remount
# (writes refused while ro, allowed again after rw, the clean flag written
# at ro); options are validated (unknown option and bad value rejected with
# a message naming them, inodegc=sync shown in /proc/mounts, options that
# cannot change on remount refused); the module refuses to unload while
# mounted; a read-only mount of a clean image leaves it bit-for-bit intact.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

fresh_fs 32768
echo persistent >/mnt/d/p
mkdir /mnt/d/dir
umount /mnt/d
dinofs_unload
dinofs_load
mount -t dinofs "$DEV1" /mnt/d
assert_eq "$(cat /mnt/d/p)" persistent "data after module reload"

# Remount read-only and back.
mount -o remount,ro /mnt/d
grep -q " /mnt/d dinofs ro" /proc/mounts || fail "not ro after remount"
assert_fails "write while ro" sh -c 'echo x >/mnt/d/q'
assert_eq "$(fsck.dinofs -n "$DEV1" >/dev/null 2>&1; echo $?)" 0 "fsck of the ro-remounted (clean) image"
mount -o remount,rw /mnt/d
echo rw-again >/mnt/d/q
assert_eq "$(cat /mnt/d/q)" rw-again "write after rw remount"
assert_fails "remount changing inodegc" mount -o remount,inodegc=sync /mnt/d
klog | grep -q "cannot be changed by remount" || fail "no message for the refused remount"
assert_fails "rmmod while mounted" rmmod dinofs
umount /mnt/d

# Options.
assert_fails "unknown option" mount -t dinofs -o nosuchopt "$DEV1" /mnt/d
klog | grep -q "dinofs: Unknown parameter 'nosuchopt'" || fail "unknown option not named"
assert_fails "bad value" mount -t dinofs -o inodegc=maybe "$DEV1" /mnt/d
klog | grep -q "inodegc" || fail "bad value not named"
mount -t dinofs -o inodegc=sync "$DEV1" /mnt/d
grep -q " /mnt/d dinofs rw,relatime,inodegc=sync" /proc/mounts || fail "options not shown: $(grep /mnt/d /proc/mounts)"
umount /mnt/d

# A read-only mount writes nothing.
# The filesystem's 32768 blocks, not the whole 2 GiB disk (tens of
# seconds under TCG).
fssum() { dd if="$DEV1" bs=4096 count=32768 status=none | md5sum; }
sum=$(fssum)
mount -t dinofs -o ro "$DEV1" /mnt/d
cat /mnt/d/p /mnt/d/q >/dev/null
ls -la /mnt/d/dir >/dev/null
umount /mnt/d
assert_eq "$(fssum)" "$sum" "device unchanged by a ro mount"
fsck.dinofs -n "$DEV1" || fail "fsck"
dinofs_unload
