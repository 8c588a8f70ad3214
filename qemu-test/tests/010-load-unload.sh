#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 120
#
# Load and unload dinofs three times. Each load must register the filesystem
# type and log it; each unload must remove the module and the type. The
# runner fails the test on any splat these cycles log.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

! dinofs_loaded || fail "dinofs already loaded before the test"
for i in 1 2 3; do
	dinofs_load
	assert_eq "$(grep -cw dinofs /proc/filesystems)" 1 "cycle $i: dinofs in /proc/filesystems"
	assert_eq "$(cat /sys/module/dinofs/refcnt)" 0 "cycle $i: module refcount"
	dinofs_unload
	assert_eq "$(grep -cw dinofs /proc/filesystems || true)" 0 "cycle $i: dinofs gone from /proc/filesystems"
done
assert_eq "$(klog | grep -c 'dinofs: filesystem type registered')" 3 "registration messages"
assert_eq "$(klog | grep -c 'dinofs: unloading')" 3 "unload messages"
