#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 120
#
# What the module declares: the fs-dinofs alias (so "mount -t dinofs" can
# autoload it), license and parameters, and the filesystem type's flags
# (/proc/filesystems lists block-device filesystems without "nodev").
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

assert_eq "$(modinfo -F alias "$DINOFS_KO")" fs-dinofs "module alias"
assert_eq "$(modinfo -F license "$DINOFS_KO")" GPL "module license"
assert_eq "$(modinfo -F name "$DINOFS_KO")" dinofs "module name"
modinfo -F parm "$DINOFS_KO" | grep -q '^selftest_splat:' || fail "selftest_splat parameter not declared"

dinofs_load
line=$(grep -w dinofs /proc/filesystems)
assert_eq "$(echo "$line" | awk '{print NF}')" 1 "fields in '$line' (no nodev: needs a block device)"
assert_eq "$(cat /sys/module/dinofs/parameters/selftest_splat)" N "selftest_splat default"
dinofs_unload

# A wrong parameter value is refused and loads nothing.
assert_fails "insmod with selftest_splat=maybe" insmod "$DINOFS_KO" selftest_splat=maybe
! dinofs_loaded || fail "module loaded despite a bad parameter"
