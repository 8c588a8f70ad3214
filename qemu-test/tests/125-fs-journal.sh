#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 400
#
# The jbd2 journal's lifetime (issue 20: the format reserves the region,
# the mount loads it, the bitmaps and directory blocks go through it). A mount
# loads the journal (/proc/fs/jbd2/<dev>/ appears, kjournald2 runs), the
# unmount destroys it (both gone) and leaves the log empty (s_start 0) and
# the image clean; a read-only mount and unmount leave the device bit for
# bit intact; sync commits (the log is in use after it) and a remount
# read-only empties the log. A log marked as needing recovery is replayed at mount (an
# empty log: nothing to apply) and is empty after. An error a journal abort
# recorded is reported at the next mount and cleared on disk. Refused with
# a clear message, no oops, nothing written: a version-1 image (no
# journal), a zeroed journal superblock, one with a bad checksum, one whose
# region disagrees with the superblock; fsck.dinofs -y repairs the
# journal superblocks and the filesystem mounts again.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

BLOCKS=8192
jdev=${DEV1##*/}
jstate() { dinofs-workload jsb "$DEV1"; }
# The filesystem's blocks only (the scratch disk is 2 GiB; reading all of it
# under TCG takes tens of seconds).
fssum() { dd if="$DEV1" bs=4096 count=$BLOCKS status=none | md5sum; }
field() { jstate | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# refused WHAT MESSAGE: the mount fails, names MESSAGE, writes nothing.
refused() {
	local sum
	sum=$(fssum)
	dmesg -C
	assert_fails "mount with $1" mount -t dinofs "$DEV1" /mnt/d
	klog | grep -q "$2" || fail "$1: no '$2' in the kernel log: $(klog | tail -5)"
	assert_eq "$(fssum)" "$sum" "$1: device unchanged by the refused mount"
	[ ! -e "/proc/fs/jbd2/$jdev" ] || fail "$1: journal left behind"
}

fresh_fs $BLOCKS
[ -d "/proc/fs/jbd2/$jdev" ] || fail "no /proc/fs/jbd2/$jdev while mounted"
grep -q "transactions" "/proc/fs/jbd2/$jdev/info" || fail "no jbd2 info"
pgrep -f "jbd2/$jdev" >/dev/null || fail "no kjournald2 thread for $jdev"
dinofs-workload create /mnt/d/files 50 10000 >/dev/null
umount /mnt/d
[ ! -e "/proc/fs/jbd2/$jdev" ] || fail "/proc/fs/jbd2/$jdev still there after umount"
assert_eq "$(field start)" 0 "log start after a clean unmount"
assert_eq "$(field errno)" 0 "journal errno after a clean unmount"
fsck.dinofs -n "$DEV1" || fail "fsck after a mount cycle"

# A read-only mount loads and destroys the journal and writes nothing.
sum=$(fssum)
mount -t dinofs -o ro "$DEV1" /mnt/d
[ -d "/proc/fs/jbd2/$jdev" ] || fail "no journal on a read-only mount"
dinofs-workload verify /mnt/d/files 50 10000 >/dev/null
umount /mnt/d
assert_eq "$(fssum)" "$sum" "device unchanged by a ro mount"

# sync commits: the log is in use after it (s_start set, written by the
# first commit after the mount). A remount read-only empties the log, so the
# read-only image needs no replay.
mount -t dinofs "$DEV1" /mnt/d
mkdir /mnt/d/x
sync
[ "$(field start)" != 0 ] || fail "log empty after a change and sync: $(jstate)"
mount -o remount,ro /mnt/d
assert_eq "$(field start)" 0 "log start after remount,ro"
umount /mnt/d
mount -t dinofs "$DEV1" /mnt/d
rmdir /mnt/d/x
umount /mnt/d

# A log that needs recovery is replayed (here: an empty one).
seq=$(field sequence)
dinofs-workload jsb "$DEV1" start=first >/dev/null
dmesg -C
mount -t dinofs "$DEV1" /mnt/d
klog | grep -q "journal replayed" || fail "no 'journal replayed' message"
dinofs-workload verify /mnt/d/files 50 10000 >/dev/null
umount /mnt/d
assert_eq "$(field start)" 0 "log start after the replay and a clean unmount"
[ "$(field sequence)" -gt "$seq" ] || fail "sequence did not advance past $seq: $(jstate)"
fsck.dinofs -n "$DEV1" || fail "fsck after the replay"

# A real transaction, written by the tools' jbd2 log writer: the blocks a
# change made on a copy (DEV2) logged into DEV1's journal. fsck -n checks
# the image as replayed and writes nothing; the mount replays it (jbd2
# accepts the tools' descriptor, tag and commit checksums) and the file
# reads back changed. Then the same with the block revoked by a later
# transaction (the file keeps its old bytes), and uncommitted (dropped).
for case in plain revoke uncommitted; do
	dd if="$DEV1" of="$DEV2" bs=4096 count=$BLOCKS conv=notrunc status=none
	mount -t dinofs "$DEV2" /mnt/d
	old=$(head -c 8 /mnt/d/files/f000007 | od -An -tx1)
	printf 'CHANGED!' | dd of=/mnt/d/files/f000007 conv=notrunc status=none
	umount /mnt/d
	opt=
	[ $case = uncommitted ] && opt=uncommitted
	out=$(dinofs-workload jtx "$DEV1" "$DEV2" $opt)
	log "$case: $out"
	if [ $case = revoke ]; then
		# Log it again (the log is rewritten from its first block) with
		# a second transaction revoking the file's data block: the
		# highest block logged, above the inode cluster.
		last=$(echo "$out" | sed 's/.*blocks=//' | tr ',' '\n' | sort -n | tail -1)
		out=$(dinofs-workload jtx "$DEV1" "$DEV2" revoke="$last")
	fi
	before=$(fssum)
	out_n=$(fsck.dinofs -n "$DEV1") || fail "$case: fsck -n of the image as replayed: $out_n"
	echo "$out_n" | grep -q "journal needs recovery" || fail "$case: fsck -n does not see the log"
	assert_eq "$(fssum)" "$before" "$case: fsck -n wrote nothing"
	dmesg -C
	mount -t dinofs "$DEV1" /mnt/d
	klog | grep -q "journal replayed" || fail "$case: no replay"
	case $case in
	plain) assert_eq "$(head -c 8 /mnt/d/files/f000007)" "CHANGED!" "$case: the file after the replay" ;;
	*) assert_eq "$(head -c 8 /mnt/d/files/f000007 | od -An -tx1)" "$old" "$case: the file after the replay" ;;
	esac
	dinofs-workload verify /mnt/d/files 7 10000 >/dev/null
	umount /mnt/d
	assert_eq "$(field start)" 0 "$case: log start after the replay"
	fsck.dinofs -n "$DEV1" || fail "$case: fsck after the kernel's replay"
	# Put the file back for the next case.
	mount -t dinofs "$DEV1" /mnt/d
	rm -rf /mnt/d/files
	dinofs-workload create /mnt/d/files 50 10000 >/dev/null
	umount /mnt/d
done

# An error an aborted journal recorded: reported once, then cleared.
dinofs-workload jsb "$DEV1" errno=-5 >/dev/null
dmesg -C
mount -t dinofs "$DEV1" /mnt/d
klog | grep -q "journal records error -5" || fail "recorded error not reported"
assert_eq "$(field errno)" 0 "errno cleared on disk by a read-write mount"
umount /mnt/d
dmesg -C
mount -t dinofs "$DEV1" /mnt/d
klog | grep -q "records error" && fail "recorded error reported twice"
umount /mnt/d

# Refused: a version-1 image (version field at byte 8), with the reason.
cp_sb=/tmp/sb0
dd if="$DEV1" of=$cp_sb bs=4096 count=1 status=none
printf '\001' | dd of="$DEV1" bs=1 seek=8 conv=notrunc status=none
refused "format version 1" "has no journal"
dd if=$cp_sb of="$DEV1" bs=4096 count=1 conv=notrunc status=none

# Refused, then repaired by fsck: journal superblocks that jbd2 rejects.
dd if="$DEV1" of=/tmp/jsb bs=4096 skip=1 count=1 status=none
for case in zero csum; do
	case $case in
	zero) dd if=/dev/zero of="$DEV1" bs=4096 seek=1 count=1 conv=notrunc status=none
	      msg="invalid journal superblock" ;;
	csum) printf '\377' | dd of="$DEV1" bs=1 seek=$((4096 + 0x20)) conv=notrunc status=none
	      msg="journal superblock checksum mismatch" ;;
	esac
	refused "journal superblock: $case" "$msg"
	rc=0; fsck.dinofs -n "$DEV1" >/tmp/fsck.out || rc=$?
	assert_eq $rc 4 "fsck -n on a bad journal superblock ($case)"
	rc=0; fsck.dinofs -y "$DEV1" >/tmp/fsck.out || rc=$?
	assert_eq $rc 1 "fsck -y on a bad journal superblock ($case)"
	mount -t dinofs "$DEV1" /mnt/d
	dinofs-workload verify /mnt/d/files 50 10000 >/dev/null
	umount /mnt/d
	fsck.dinofs -n "$DEV1" || fail "fsck after the repair ($case)"
done

# Refused: the dinofs superblock records another region than the journal's
# (a journal superblock of a 2048-block journal over a 1024-block region).
mkfs.dinofs -q -J size=8 "$DEV2" $BLOCKS
dd if="$DEV2" of="$DEV1" bs=4096 skip=1 seek=1 count=1 conv=notrunc status=none
refused "journal of another region" "invalid journal superblock"
klog | grep -q "JBD2" || fail "jbd2 said nothing about the region"
fsck.dinofs -y "$DEV1" >/dev/null || true
fsck.dinofs -n "$DEV1" || fail "fsck after repairing the region"
dinofs_unload
