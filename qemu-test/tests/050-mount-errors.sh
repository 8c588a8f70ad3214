#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 180
#
# Bad mounts get a clear error and leave nothing behind: an unknown mount
# option, a regular file instead of a block device, a device without a
# dinofs filesystem. Afterwards the module is unreferenced and unloads.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

dinofs_load
mkdir -p /mnt/d
dd if=/dev/zero of="$DEV1" bs=1M count=4 status=none

assert_fails "unknown mount option" mount -t dinofs -o bogus_option "$DEV1" /mnt/d
klog | grep -q "dinofs: Unknown parameter 'bogus_option'" || fail "no message naming the unknown option"

truncate -s 16M /tmp/not-a-bdev
assert_fails "regular file as device" mount -t dinofs /tmp/not-a-bdev /mnt/d

assert_fails "device without dinofs" mount -t dinofs "$DEV1" /mnt/d
klog | grep -q 'dinofs.*vda' || fail "no message naming the device"

assert_eq "$(grep -c ' /mnt/d ' /proc/mounts || true)" 0 "mounts left behind"
assert_eq "$(cat /sys/module/dinofs/refcnt)" 0 "module refcount after failed mounts"
dinofs_unload
