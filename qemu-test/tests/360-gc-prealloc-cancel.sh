#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 400
#
# Post-EOF blocks survive a cancelled trim without exposing stale data
# (engine-correctness item 2). Free space is first filled with a non-zero
# pattern and freed. Appended-to files get speculative preallocation; their
# trims are queued while frozen (drop_caches evicts them) and cancelled by
# lookups (stat) before the thaw, so the inodes are read back from disk with
# blocks mapped past EOF that were never written. Every way of bringing them
# inside EOF (truncate up, pwrite past EOF, a store through mmap after a
# truncate up) must read zeroes, through the page cache and from disk; the
# post-EOF blocks are trimmed at the next eviction, and fsck is clean.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

fresh_fs 32768
free0=$(stat -f -c %f /mnt/d)
dinofs-workload fill /mnt/d/fill >/dev/null
rm -rf /mnt/d/fill
sync
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "free space back after the fill"

mkdir /mnt/d/f
# 96 KiB in 64 KiB writes: the second write appends at EOF past the direct
# blocks, which preallocates.
dinofs-workload create /mnt/d/f 6 98304 >/dev/null
sync
names=$(ls /mnt/d/f)
blocks_before=$(stat -c %b /mnt/d/f/* | awk '{ s += $1 } END { print s }')
log "512-byte blocks of the 6 files with preallocation: $blocks_before"

c0=$(gc_stat /mnt/d cancelled)
fsfreeze -f /mnt/d
echo 3 >/proc/sys/vm/drop_caches # evicts: the trims queue, gc is stopped
for n in $names; do stat /mnt/d/f/$n >/dev/null; done # cancels them
fsfreeze -u /mnt/d
c1=$(gc_stat /mnt/d cancelled)
[ $((c1 - c0)) -ge 1 ] || fail "no trim was cancelled (cancelled $c0 -> $c1)"
echo "ok: $((c1 - c0)) trim(s) cancelled by lookups"

set -- $names
check() { # check FILE HOW BYTES
	local out
	out=$(dinofs-workload extend "/mnt/d/f/$1" "$2" "$3")
	case $out in *" nonzero=0") echo "ok: $2 $1: $out" ;; *) fail "stale data after $2 of $1: $out" ;; esac
}
check "$1" truncate 204800
check "$2" truncate 8192
check "$3" pwrite 307200
check "$4" pwrite 4096
check "$5" mmap 204800
check "$6" mmap 4096

echo 3 >/proc/sys/vm/drop_caches
for n in $names; do
	size=$(stat -c %s "/mnt/d/f/$n")
	nz=$(tail -c $((size - 98304)) "/mnt/d/f/$n" | tr -d '\0' | wc -c)
	assert_eq "$nz" 0 "non-zero bytes past the old EOF of $n, read from disk"
done
umount /mnt/d
fsck.dinofs -n "$DEV1" || fail "fsck after the extensions"
mount -t dinofs "$DEV1" /mnt/d
rm -rf /mnt/d/f
sync
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "free space back after rm"
finish_fs
