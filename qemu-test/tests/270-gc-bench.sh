#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 1200
#
# Benchmark (a measurement, not a pass/fail threshold): the same workload
# on dinofs with deferred inactivation, dinofs with inodegc=sync (the seed's
# "before"), ext4, xfs and tmpfs, side by side in one VM run: create N
# files of 16 KiB, sync, then time "rm -rf" alone and "rm -rf + sync"
# (until the space is really free). Prints a table of times and ratios to
# deferred dinofs. Fails only if a run fails or dinofs's fsck does.
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
	t0=$(date +%s%N)
	rm -rf /mnt/b/d
	rm_ms[$name]=$(ms "$t0")
	sync
	total_ms[$name]=$(ms "$t0")
	umount /mnt/b
}
run dinofs-deferred mkfs.dinofs -q "$DEV1" 131072 -- mount -t dinofs "$DEV1"
fsck.dinofs -n "$DEV1" >/dev/null || fail "fsck (deferred)"
run dinofs-sync mkfs.dinofs -q "$DEV1" 131072 -- mount -t dinofs -o inodegc=sync "$DEV1"
fsck.dinofs -n "$DEV1" >/dev/null || fail "fsck (sync)"
run ext4 mkfs.ext4 -q -F "$DEV1" 512M -- mount -t ext4 "$DEV1"
run xfs mkfs.xfs -q -f "$DEV1" -- mount -t xfs "$DEV1"
run tmpfs true -- mount -t tmpfs -o size=512m tmpfs

base_rm=${rm_ms[dinofs-deferred]}
base_total=${total_ms[dinofs-deferred]}
printf '\n%-16s %10s %8s %14s %8s\n' filesystem "rm -rf ms" ratio "rm+sync ms" ratio
for fs in dinofs-deferred dinofs-sync ext4 xfs tmpfs; do
	printf '%-16s %10d %8s %14d %8s\n' "$fs" "${rm_ms[$fs]}" \
		"$(echo "scale=2; ${rm_ms[$fs]} / ($base_rm + 1)" | bc)" \
		"${total_ms[$fs]}" "$(echo "scale=2; ${total_ms[$fs]} / ($base_total + 1)" | bc)"
done
echo "($N files of 16 KiB; ratios are relative to dinofs-deferred; TCG guest)"
dinofs_unload
