#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 1200
#
# 20,000 files in one directory: created, listed (every name exactly once),
# read back, survive a remount, removed; inodes and blocks back to the
# baseline, and the directory's inode clusters all returned to free space.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

N=${DINOFS_MANYFILES:-20000}
fresh_fs 131072
free0=$(stat -f -c %f /mnt/d)
ffree0=$(stat -f -c %d /mnt/d)
# Inodes in use: f_files - f_ffree (both also count 32 per free block).
inuse() { echo $(( $(stat -f -c %c /mnt/d) - $(stat -f -c %d /mnt/d) )); }
inuse0=$(inuse)
mkdir /mnt/d/many

log "$(dinofs-workload create /mnt/d/many $N 100)"
assert_eq "$(dinofs-workload list /mnt/d/many)" "entries=$N duplicates=0" "listing"
umount /mnt/d
mount -t dinofs "$DEV1" /mnt/d
assert_eq "$(dinofs-workload verify /mnt/d/many $N 100)" "verified=$N bad=0" "contents after remount"
assert_eq "$(( $(inuse) - inuse0 ))" $((N + 1)) "inodes in use"
log "$(dinofs-workload unlink /mnt/d/many $N)"
assert_eq "$(dinofs-workload list /mnt/d/many)" "entries=0 duplicates=0" "empty listing"
rmdir /mnt/d/many
sync
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "free blocks back to baseline"
assert_eq "$(stat -f -c %d /mnt/d)" "$ffree0" "free inodes back to baseline"
finish_fs
