#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 180
#
# The module must refuse to unload while a dinofs filesystem is mounted, and
# unload once it is unmounted.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

command -v mkfs.dinofs >/dev/null || skip "mkfs.dinofs not built yet (filesystem-core issue)"
dinofs_load
mkfs.dinofs -q "$DEV1"
mkdir -p /mnt/d
mount -t dinofs "$DEV1" /mnt/d || skip "mount not implemented yet (filesystem-core issue)"
assert_fails "rmmod while mounted" rmmod dinofs
dinofs_loaded || fail "module vanished while mounted"
umount /mnt/d
dinofs_unload
