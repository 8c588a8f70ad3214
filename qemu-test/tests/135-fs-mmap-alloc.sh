#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 300
#
# A shared mapping's first store to a hole allocates the page's block then,
# in page_mkwrite, inside a jbd2 handle (issue 20: allocation never runs
# under a folio lock without one), rather than leaving it to writeback:
#
# 1. 64 stores into a sparse file's holes: msync succeeds, and after a
#    remount each page reads back its byte.
# 2. On a full filesystem the store that finds no block gets SIGBUS; the
#    stores before it are on the disk after a remount (generic_file_vm_ops
#    let every store succeed and writeback fail with ENOSPC: msync's error,
#    the data lost).
# Then every block comes back, and fsck.dinofs -n passes.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

free_blocks() { stat -f -c %f /mnt/d; }
# pages_with_byte FILE: how many of FILE's pages start with 0xa5.
pages_with_byte() { od -An -v -tx1 -w4096 "$1" | awk '$1 == "a5"' | wc -l; }
remount() { umount /mnt/d && mount -t dinofs "$DEV1" /mnt/d; }

fresh_fs 4096
free0=$(free_blocks)

log "1. stores into holes"
assert_eq "$(dinofs-workload mmap-fill /mnt/d/m 64)" "stored=64 sigbus=0 msync=0" "64 stores"
remount
assert_eq "$(pages_with_byte /mnt/d/m)" 64 "pages read back after a remount"
rm /mnt/d/m

log "2. stores on a full filesystem"
touch /mnt/d/m
dinofs-workload fill /mnt/d/fill >/dev/null
# Trim the fill files' preallocation (reclaim queues their trims), then
# take what that gave back, so no space comes free during the stores.
sync
echo 3 >/proc/sys/vm/drop_caches; echo 3 >/proc/sys/vm/drop_caches
sync
dinofs-workload fill /mnt/d/fill2 >/dev/null
# Then ten blocks back: some stores find one.
truncate -s -40960 /mnt/d/fill/f000000
sync
free=$(free_blocks)
[ "$free" -ge 10 ] && [ "$free" -lt 26 ] || fail "not ten blocks from full: $free blocks free"
rc=0
out=$(dinofs-workload mmap-fill /mnt/d/m 64) || rc=$?
log "$free blocks free: $out (exit $rc)"
assert_eq "$rc:$(echo "$out" | sed -n 's/.*sigbus=\([01]\).*/\1/p')" "7:1" "SIGBUS at the store that found no block"
stored=$(echo "$out" | sed -n 's/^stored=\([0-9]*\).*/\1/p')
[ "${stored:-0}" -gt 0 ] && [ "$stored" -le "$free" ] || fail "stored $stored pages with $free blocks free"
sync
remount
assert_eq "$(pages_with_byte /mnt/d/m)" "$stored" "pages stored before the SIGBUS, after a remount"

rm -rf /mnt/d/m /mnt/d/fill /mnt/d/fill2
sync
assert_eq "$(free_blocks)" "$free0" "free blocks back"
finish_fs
