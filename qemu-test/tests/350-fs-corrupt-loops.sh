#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 300
#
# Disk contents never make the kernel loop or panic (engine-correctness
# item 10). Each image is damaged in one field and its checksum resealed, so
# the kernel's structure checks, not the checksum, meet the bad value:
#
# 1. A directory slot with a wrong slot count: readdir ends with EUCLEAN
#    (it used to re-emit the entry before it forever), every entry before
#    it is returned once.
# 2. A healthy directory read from every position, including the middle of
#    multi-slot entries (fstests t_readdir_3): no error and no "corrupt"
#    message.
# 3. A superblock whose cluster and free-inode counters are 0 although
#    clusters are in use
#    (clean state, so it is trusted): freeing a cluster fails with EUCLEAN
#    and a message (it was an arithmetic-overflow panic).
# 4. An inode whose block count is the largest u32: appending fails with
#    EUCLEAN, not an overflow; with errors=continue the filesystem carries
#    on.
# 5. errors=remount-ro: the first corruption stops all writing (EIO after),
#    and nothing but the damage is left for fsck.
# 6. Corruption reports are rate-limited per filesystem: a flood of them
#    about one mount (twenty reads of a corrupt directory) leaves at most
#    the burst (10) of its own lines, and does not silence the first report
#    about another mount (CI saw part 4's report lost to part 3's flood
#    when both shared one global limit).
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

# Kernel log lines since the last "since" (the runner scans the whole log
# for splats afterwards, so it is never cleared here).
mark=0
since() { mark=$(klog | wc -l); }
newlog() { klog | tail -n +$((mark + 1)); }

dinofs_load
mkdir -p /mnt/d
# A 32000-block image: bitmap 1, cluster map 2, root cluster 3, root
# directory block 4 (Documentation/format.rst).
poke() { # poke BLOCK OFFSET BYTE...
	local block=$1 off=$2
	shift 2
	for b in "$@"; do
		printf "\\x$b" | dd of="$DEV1" bs=1 seek=$((block * 4096 + off)) conv=notrunc status=none
		off=$((off + 1))
	done
}

# corrupt_dir_image N: a fresh filesystem on $DEV1 whose root holds N
# files, the first file's slot count raised to 3 and the block resealed.
# Slots 0 and 1 are "." and ".."; slot 2 is file1 (one slot).
corrupt_dir_image() {
	local i
	mkfs.dinofs -q "$DEV1" 32000
	mount -t dinofs "$DEV1" /mnt/d
	for i in $(seq 1 "$1"); do echo "$i" >/mnt/d/file$i; done
	umount /mnt/d
	# The root directory's block: 1028 in a 32000-block image (journal
	# 1..1024, bitmaps 1025-1026, root cluster 1027).
	poke 1028 $((2 * 64 + 4)) 03
	dinofs-workload reseal "$DEV1" 1028 >/dev/null
}

log "1. a directory slot with a bad slot count"
corrupt_dir_image 5
since
mount -t dinofs "$DEV1" /mnt/d
rc=0
out=$(timeout 60 dinofs-workload list /mnt/d 2>&1) || rc=$?
[ "$rc" != 124 ] || fail "readdir of a corrupt directory did not end in 60 s"
case $out in *"Structure needs cleaning"*) echo "ok: readdir: $out" ;; *) fail "readdir of a corrupt directory: rc $rc '$out'" ;; esac
n=$(newlog | grep -c "corrupt directory entry" || true)
[ "$n" -le 10 ] || fail "corrupt directory entry logged $n times"
echo "ok: corrupt directory entry logged $n time(s)"
out=$(timeout 60 ls -a /mnt/d 2>&1) && fail "ls of a corrupt directory succeeded: $out"
echo "ok: ls: $(echo "$out" | tr '\n' ' ')"
umount /mnt/d

log "2. a healthy directory read from every position"
mkfs.dinofs -q "$DEV1" 32000
mount -t dinofs "$DEV1" /mnt/d
mkdir /mnt/d/dir
for i in $(seq 1 40); do
	: >"/mnt/d/dir/$(printf 'a-rather-long-name-that-takes-several-slots-%03d-%0100d' "$i" 0)"
done
since
out=$(dinofs-workload seekdir /mnt/d/dir)
echo "$out"
case $out in *" errors=0") ;; *) fail "seekdir: $out" ;; esac
n=$(newlog | grep -c "corrupt" || true)
assert_eq "$n" 0 "corruption messages for a healthy directory"
assert_eq "$(ls /mnt/d/dir | wc -l)" 40 "entries"
umount /mnt/d
fsck.dinofs -n "$DEV1" || fail "fsck after seekdir"

log "3. a superblock cluster counter of 0 with clusters in use"
mkfs.dinofs -q "$DEV1" 32000
mount -t dinofs "$DEV1" /mnt/d
mkdir /mnt/d/sub
for i in $(seq 1 40); do : >"/mnt/d/sub/f$i"; done # a second cluster
umount /mnt/d
poke 0 52 00 00 00 00 00 00 00 00 # clusters and free_inodes
dinofs-workload reseal "$DEV1" 0 >/dev/null
since
if mount -t dinofs "$DEV1" /mnt/d 2>/dev/null; then
	# Freeing the second cluster's last inode frees the cluster.
	rm -rf /mnt/d/sub 2>/dev/null || true
	sync 2>/dev/null || true
	newlog | grep "dinofs: ${DEV1#/dev/}: corrupt" >/dev/null || fail "no corruption message for the cluster counter"
	umount /mnt/d
else
	newlog | grep "dinofs: ${DEV1#/dev/}: corrupt" >/dev/null || fail "mount refused without a corruption message"
fi
echo "ok: $(newlog | grep -m1 "dinofs: ${DEV1#/dev/}: corrupt")"

log "4. an inode whose block count is the largest u32"
mkfs.dinofs -q "$DEV1" 32000
mount -t dinofs "$DEV1" /mnt/d
head -c 8192 /dev/zero >/mnt/d/f
ino=$(stat -c %i /mnt/d/f)
umount /mnt/d
# Inode field "blocks" (u32 at offset 16 of the 128-byte slot); the inode
# carries its own checksum, which fsck's poke helper cannot reseal, so use
# the image's inode writer instead.
if dinofs-workload set-inode-blocks "$DEV1" "$ino" 4294967295 >/dev/null 2>&1; then
	since
	if mount -t dinofs "$DEV1" /mnt/d 2>/dev/null; then
		out=$(sh -c 'head -c 65536 /dev/zero >>/mnt/d/f' 2>&1) && fail "append to an inode with blocks=u32::MAX succeeded"
		echo "ok: append: $out"
		# errors=continue (the default): the filesystem carries on.
		echo ok >/mnt/d/g || fail "a write after a corruption with errors=continue"
		umount /mnt/d
	fi
	newlog | grep "dinofs: ${DEV1#/dev/}: corrupt" >/dev/null || fail "no corruption message for the block count"
else
	fail "dinofs-workload set-inode-blocks failed"
fi

log "5. errors=remount-ro stops all writing at the first corruption"
corrupt_dir_image 3
since
mount -t dinofs -o errors=remount-ro "$DEV1" /mnt/d
assert_eq "$(findmnt -n -o OPTIONS /mnt/d | grep -o 'errors=remount-ro')" errors=remount-ro "option shown"
out=$(timeout 60 dinofs-workload list /mnt/d 2>&1) && fail "readdir of a corrupt directory succeeded: $out"
newlog | grep "errors=remount-ro: no further writes" >/dev/null || fail "no errors=remount-ro message"
out=$(sh -c 'echo x >/mnt/d/new' 2>&1) && fail "a write after errors=remount-ro succeeded"
case $out in *"Input/output error"*) echo "ok: write after the corruption: $out" ;; *) fail "write after errors=remount-ro: '$out'" ;; esac
umount /mnt/d
assert_eq "$(fsck.dinofs -n "$DEV1" >/dev/null 2>&1; echo $?)" 4 "fsck -n: the corruption is still there, nothing else was written"
fsck.dinofs -y "$DEV1" >/dev/null 2>&1 || true
fsck.dinofs -n "$DEV1" || fail "fsck -n after -y"

log "6. a flood of reports about one filesystem does not silence another"
corrupt_dir_image 3
mkfs.dinofs -q "$DEV2" 32000
mkdir -p /mnt/e
mount -t dinofs "$DEV2" /mnt/e
head -c 8192 /dev/zero >/mnt/e/f
ino=$(stat -c %i /mnt/e/f)
umount /mnt/e
dinofs-workload set-inode-blocks "$DEV2" "$ino" 4294967295 >/dev/null 2>&1 || fail "set-inode-blocks on $DEV2"
mount -t dinofs "$DEV1" /mnt/d
mount -t dinofs "$DEV2" /mnt/e
since
# A glob is a readdir done by the shell itself: twenty of them take well
# under the 5 s window, without a fork each.
for i in $(seq 1 20); do : /mnt/d/*; done
out=$(sh -c 'head -c 65536 /dev/zero >>/mnt/e/f' 2>&1) && fail "append to an inode with blocks=u32::MAX succeeded"
d1=${DEV1#/dev/} d2=${DEV2#/dev/}
n1=$(newlog | grep -c "dinofs: $d1: corrupt" || true)
n2=$(newlog | grep -c "dinofs: $d2: corrupt" || true)
echo "reports: $d1 $n1, $d2 $n2"
[ "$n1" -ge 1 ] && [ "$n1" -le 10 ] || fail "$d1: $n1 reports in one window (expected 1..10)"
[ "$n2" -ge 1 ] || fail "the report about $d2 was silenced by the flood about $d1"
echo "ok: $d2 reported after $d1's flood"
umount /mnt/d
umount /mnt/e
fsck.dinofs -y "$DEV1" >/dev/null 2>&1 || true
fsck.dinofs -n "$DEV1" || fail "fsck -n $DEV1 after -y"
fsck.dinofs -y "$DEV2" >/dev/null 2>&1 || true
fsck.dinofs -n "$DEV2" || fail "fsck -n $DEV2 after -y"

dinofs_unload
