#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 1200
#
# Benchmark (a measurement, not a pass/fail threshold): the same workload
# on dinofs with deferred inactivation (batched, and one inode at a time),
# dinofs with inodegc=sync (the seed's "before"), ext4, xfs and tmpfs, side
# by side in one VM run: create N files of 16 KiB, sync, then time "rm -rf"
# alone and "rm -rf + sync" (until the space is really free). Prints a
# table of times and ratios to deferred dinofs, and for the dinofs modes
# the engine's profile of the
# rm + sync (debugfs knob "profile": time per phase, per inode or per
# worker run). Fails only if a run fails or dinofs's fsck does.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

N=${DINOFS_BENCH_FILES:-2000}
dinofs_load
mkdir -p /mnt/b
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
declare -A rm_ms total_ms
run() { # run NAME MKFS... -- MOUNT...
	local name=$1; shift
	local mk=() mt=()
	while [ "$1" != -- ]; do mk+=("$1"); shift; done; shift
	mt=("$@")
	"${mk[@]}" >/dev/null 2>&1 || fail "$name: mkfs"
	"${mt[@]}" /mnt/b || fail "$name: mount"
	dinofs-workload create /mnt/b/d "$N" 16384 >/dev/null
	sync
	local t0 t1
	case $name in dinofs-*) gc_knob /mnt/b profile 1 ;; esac
	[ "$name" != dinofs-unbatched ] || gc_knob /mnt/b batch 0
	t0=$(date +%s%N)
	rm -rf /mnt/b/d
	rm_ms[$name]=$(ms "$t0")
	sync
	total_ms[$name]=$(ms "$t0")
	case $name in dinofs-*) gc_stats /mnt/b | grep '^profile ' >"/tmp/profile.$name" ;; esac
	umount /mnt/b
}
# Warm-up, not recorded: the emulator translates the kernel's code on its
# first use, which would cost whichever filesystem runs first.
n=$N
N=$((n / 4))
run warmup mkfs.dinofs -q "$DEV1" 131072 -- mount -t dinofs "$DEV1"
N=$n
run dinofs-deferred mkfs.dinofs -q "$DEV1" 131072 -- mount -t dinofs "$DEV1"
fsck.dinofs -n "$DEV1" >/dev/null || fail "fsck (deferred)"
run dinofs-unbatched mkfs.dinofs -q "$DEV1" 131072 -- mount -t dinofs "$DEV1"
fsck.dinofs -n "$DEV1" >/dev/null || fail "fsck (unbatched)"
run dinofs-sync mkfs.dinofs -q "$DEV1" 131072 -- mount -t dinofs -o inodegc=sync "$DEV1"
fsck.dinofs -n "$DEV1" >/dev/null || fail "fsck (sync)"
run ext4 mkfs.ext4 -q -F "$DEV1" 512M -- mount -t ext4 "$DEV1"
run xfs mkfs.xfs -q -f "$DEV1" -- mount -t xfs "$DEV1"
run tmpfs true -- mount -t tmpfs -o size=512m tmpfs

base_rm=${rm_ms[dinofs-deferred]}
base_total=${total_ms[dinofs-deferred]}
printf '\n%-16s %10s %8s %14s %8s\n' filesystem "rm -rf ms" ratio "rm+sync ms" ratio
for fs in dinofs-deferred dinofs-unbatched dinofs-sync ext4 xfs tmpfs; do
	printf '%-16s %10d %8s %14d %8s\n' "$fs" "${rm_ms[$fs]}" \
		"$(echo "scale=2; ${rm_ms[$fs]} / ($base_rm + 1)" | bc)" \
		"${total_ms[$fs]}" "$(echo "scale=2; ${total_ms[$fs]} / ($base_total + 1)" | bc)"
done
echo "($N files of 16 KiB; ratios are relative to dinofs-deferred; TCG guest)"
# The profile: "profile PHASE COUNT TOTAL_NS MEAN_NS" per mode, in the
# order the engine prints the phases.
printf '\n%-11s %21s %21s %21s\n' phase "deferred: n x us" "unbatched: n x us" "sync: n x us"
paste /tmp/profile.dinofs-deferred /tmp/profile.dinofs-unbatched /tmp/profile.dinofs-sync |
	awk '{ printf "%-11s %10d x %8.1f %10d x %8.1f %10d x %8.1f\n", $2, $3, $5 / 1000, $8, $10 / 1000, $13, $15 / 1000 }'
echo "(evict, destroy, unlink: per inode, in the syscall; wake, worker: per worker run;"
echo " inactivate, free, blocks, orphan, slot: per inode; seal: per bitmap reseal;"
echo " orphan_add, alloc_wait: per unlink, parts of unlink;"
echo " unbatched: deferred with the debugfs knob batch=0, one inode at a time)"
dinofs_unload
