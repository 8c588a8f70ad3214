#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# Speculative preallocation and its trimming by inodegc: appending writers
# get blocks past EOF (visible in st_blocks); when reclaim evicts the cached,
# still-linked inodes, they are queued and the worker trims the blocks past
# EOF (trims > 0, st_blocks back to the data). An iget racing with a queued
# trim (slow worker) cancels it or waits — never reads a disk inode a
# worker is about to rewrite — and fsck proves no block is owned twice.
# Preallocated blocks never expose stale data: truncate-up and a write past
# EOF that leaves a hole both read back zeroes.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

fresh_fs 131072
free0=$(stat -f -c %f /mnt/d)

dinofs-workload create /mnt/d/p 20 1048576 >/dev/null
b=$(stat -c %b /mnt/d/p/f000000)
[ "$b" -gt 2056 ] || fail "no preallocation past EOF: $b sectors"
echo "ok: preallocated: $b sectors for 1 MiB"
sync
echo 3 >/proc/sys/vm/drop_caches; echo 3 >/proc/sys/vm/drop_caches
sync
[ "$(gc_stat /mnt/d trims)" -ge 20 ] || fail "trims: $(gc_stat /mnt/d trims)"
assert_eq "$(stat -c %b /mnt/d/p/f000000)" 2056 "sectors after trim (data + indirect)"
assert_eq "$(dinofs-workload verify /mnt/d/p 20 1048576)" "verified=20 bad=0" "contents after trim"

# iget racing a queued trim.
dinofs-workload create /mnt/d/q 20 1048576 >/dev/null
sync
gc_knob /mnt/d slow_worker_us 100000
echo 3 >/proc/sys/vm/drop_caches; echo 3 >/proc/sys/vm/drop_caches
assert_eq "$(dinofs-workload verify /mnt/d/q 20 1048576)" "verified=20 bad=0" "contents read during queued trims"
gc_knob /mnt/d slow_worker_us 0
log "cancelled $(gc_stat /mnt/d cancelled), iget waits $(gc_stat /mnt/d iget_waits)"
[ $(( $(gc_stat /mnt/d cancelled) + $(gc_stat /mnt/d iget_waits) )) -gt 0 ] || fail "no iget met a queued inode"
sync
umount /mnt/d
fsck.dinofs -n "$DEV1" || fail "fsck after racing igets"
mount -t dinofs "$DEV1" /mnt/d

# No stale data from preallocated blocks.
dd if=/dev/urandom of=/tmp/junk bs=1M count=2 status=none
dinofs-workload create /mnt/d/junk 1 2097152 >/dev/null
rm -r /mnt/d/junk
sync                            # freed blocks now hold non-zero data
head -c 102400 /dev/zero | tr '\0' 'a' >/mnt/d/t1
truncate -s 1048576 /mnt/d/t1
assert_eq "$(tail -c +102401 /mnt/d/t1 | tr -d '\0' | wc -c)" 0 "zeroes after truncate up"
head -c 102400 /dev/zero | tr '\0' 'b' >/mnt/d/t2
printf x | dd of=/mnt/d/t2 bs=1 seek=2097152 conv=notrunc status=none
assert_eq "$(tail -c +102401 /mnt/d/t2 | head -c 1994752 | tr -d '\0' | wc -c)" 0 "zeroes in the hole"

rm -rf /mnt/d/p /mnt/d/q /mnt/d/t1 /mnt/d/t2
sync
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "space back"
finish_fs
