#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: bench
# timeout: 7200
#
# "make bench": measurements, not pass/fail thresholds. Every workload runs
# on each filesystem freshly made on the same virtual disk, in this one VM
# boot, DINOFS_BENCH_REPS times (default 3); the table shows the median
# and the ratio to dinofs with deferred inactivation. Every number is also
# a "csv,..." line, which check.sh collects into bench.csv (and plots with
# gnuplot when the host has it).
#
#   rm        rm -rf of 2,000 x 16 KiB, 200 x 1 MiB and 20 x 16 MiB
#             fragmented files: rm alone, and rm + sync (space back)
#   file256   writing a 256 MiB file in 64 KiB pieces interleaved with a
#             small file's (fragmented; write + fsync), then rm + sync of it;
#             and rm + sync of a second such file with the caches dropped;
#             dinofs-unbatched is the debugfs knob batch=0: preallocation
#             and inactivation one block and one inode at a time, the code
#             as it was before batching
#   unlink1g  one unlink(2) of a 1 GiB fragmented file: the syscall alone,
#             its page cache dropped first (that part is the same everywhere)
#   statfs    statfs p50/p99 idle, and while that 1 GiB teardown runs
#   scaling   unlink throughput, 1, 2 and 4 threads, each to its own
#             CPU and unlinking in its own directory
#   dir       20,000 creates, then 20,000 cold lookups, in one directory
#
# DINOFS_BENCH_SCALE=N divides every size and count by N (a quick run).
# DINOFS_BENCH_PIN=CPU runs the single-threaded rm -rf and file256
# workloads on that CPU: the producer and its CPU's workers then stay on
# one CPU for every filesystem, and runs vary less.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

PIN=${DINOFS_BENCH_PIN:-}
ALL_CPUS=0-$(($(nproc --all) - 1))
pin() { # pin on|off: this shell (and what it starts) on CPU $PIN, or not
	[ -n "$PIN" ] || return 0
	case $1 in
	on) taskset -pc "$PIN" $$ >/dev/null ;;
	off) taskset -pc "$ALL_CPUS" $$ >/dev/null ;;
	esac || fail "taskset $1"
}
REPS=${DINOFS_BENCH_REPS:-3}
S=${DINOFS_BENCH_SCALE:-1}
DEV=$DEV1
MNT=/mnt/b
dinofs_load
mkdir -p $MNT

# mkfs_mount FS: a fresh filesystem FS on $DEV, mounted on $MNT.
mkfs_mount() {
	case $1 in
	dinofs-deferred) mkfs.dinofs -q "$DEV" && mount -t dinofs "$DEV" $MNT ;;
	dinofs-sync) mkfs.dinofs -q "$DEV" && mount -t dinofs -o inodegc=sync "$DEV" $MNT ;;
	dinofs-unbatched) mkfs.dinofs -q "$DEV" && mount -t dinofs "$DEV" $MNT &&
		gc_knob $MNT batch 0 ;;
	ext4) mkfs.ext4 -q -F "$DEV" >/dev/null && mount -t ext4 "$DEV" $MNT ;;
	xfs) mkfs.xfs -q -f "$DEV" >/dev/null && mount -t xfs "$DEV" $MNT ;;
	tmpfs) mount -t tmpfs -o size=1200m tmpfs $MNT ;;
	esac || fail "$1: mkfs/mount"
}

unmount() { # unmount FS: and check dinofs
	umount $MNT || fail "$1: umount"
	case $1 in dinofs-*) fsck.dinofs -n "$DEV" >/dev/null || fail "$1: fsck.dinofs -n" ;; esac
}

now_us() { echo $(($(date +%s%N) / 1000)); }
kv() { sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p"; } # kv KEY < "k=v ..."

# median V...: the middle value (the lower middle of an even count).
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# record SECTION WORKLOAD FS METRIC V...: one CSV line, median first.
declare -A MED
record() {
	local sec=$1 wl=$2 fs=$3 metric=$4
	shift 4
	local m
	m=$(median "$@")
	MED[$sec/$wl/$metric/$fs]=$m
	echo "csv,$sec,$wl,$fs,$metric,$m,$(
		IFS=,
		echo "$*"
	)"
}

# table SECTION WORKLOAD METRIC UNIT FS...: medians and ratios to the first.
table() {
	local sec=$1 wl=$2 metric=$3 unit=$4
	shift 4
	local base=${MED[$sec/$wl/$metric/$1]} fs v
	printf '  %-26s' "$wl $metric ($unit)"
	for fs in "$@"; do
		v=${MED[$sec/$wl/$metric/$fs]:-}
		if [ -z "$v" ]; then
			printf ' %20s' "-"
		else
			printf ' %12s %7s' "$v" "$(awk -v v="$v" -v b="$base" 'BEGIN { printf "%.2f", (b > 0 ? v / b : 0) }')"
		fi
	done
	echo
}

thead() {
	printf '\n%s (median of %s; ratio to %s)\n  %-26s' "$1" "$REPS" "$2" ""
	shift
	local fs
	for fs in "$@"; do printf ' %20s' "$fs"; done
	echo
}

FSES="dinofs-deferred dinofs-sync ext4 xfs tmpfs"

# --- rm -rf ------------------------------------------------------------------
populate() { # populate KIND DIR
	mkdir -p "$2"
	case $1 in
	small) dinofs-workload create "$2" $((2000 / S)) 16384 >/dev/null ;;
	medium) dinofs-workload create "$2" $((200 / S)) 1048576 >/dev/null ;;
	frag)
		local i
		for i in $(seq 1 $((20 / S))); do
			dinofs-workload frag "$2/big$i" "$2/small$i" 16777216 >/dev/null || return 1
		done
		;;
	esac
}
pin on
# Warm-up, not recorded: the emulator translates the kernel's code on its
# first use, which would cost whichever filesystem runs first.
for fs in dinofs-deferred dinofs-sync; do
	mkfs_mount $fs
	populate small $MNT/d || fail "$fs: populate (warm-up)"
	rm -rf $MNT/d
	unmount $fs
done
for kind in small medium frag; do
	for fs in $FSES; do
		rms=() totals=()
		for _ in $(seq "$REPS"); do
			mkfs_mount $fs
			populate $kind $MNT/d || fail "$fs: populate $kind"
			sync
			t0=$(now_us)
			rm -rf $MNT/d
			t1=$(now_us)
			sync
			t2=$(now_us)
			rms+=($(((t1 - t0) / 1000)))
			totals+=($(((t2 - t0) / 1000)))
			unmount $fs
		done
		record rm $kind $fs rm_ms "${rms[@]}"
		record rm $kind $fs rm_sync_ms "${totals[@]}"
	done
done

# --- a 256 MiB fragmented file: writing it, and its space back ---------------
F256=$((268435456 / S))
F256FS="dinofs-deferred dinofs-unbatched dinofs-sync ext4 xfs"
for fs in $F256FS; do
	ws=() rs=() cs=()
	for _ in $(seq "$REPS"); do
		mkfs_mount $fs
		r=$(dinofs-workload frag $MNT/big $MNT/small $F256) || fail "$fs: frag"
		ws+=($(kv secs <<<"$r" | awk '{ printf "%d", $1 * 1000 }'))
		sync
		t0=$(now_us)
		rm $MNT/big
		sync
		t1=$(now_us)
		rs+=($(((t1 - t0) / 1000)))
		# The same again with the file's pages and metadata out of
		# the cache: what is left is the filesystem's own work.
		dinofs-workload frag $MNT/big2 $MNT/small2 $F256 >/dev/null || fail "$fs: frag 2"
		sync
		echo 3 >/proc/sys/vm/drop_caches
		t0=$(now_us)
		rm $MNT/big2
		sync
		t1=$(now_us)
		cs+=($(((t1 - t0) / 1000)))
		unmount $fs
	done
	record file256 frag256 $fs write_ms "${ws[@]}"
	record file256 frag256 $fs rm_sync_ms "${rs[@]}"
	record file256 frag256 $fs cold_rm_sync_ms "${cs[@]}"
done

pin off

# --- one unlink of a 1 GiB fragmented file, statfs during its teardown -------
BIG=$((1073741824 / S))
for fs in dinofs-deferred dinofs-sync ext4 xfs; do
	us=() idle50=() idle99=() busy50=() busy99=()
	for _ in $(seq "$REPS"); do
		mkfs_mount $fs
		dinofs-workload frag $MNT/big $MNT/small $BIG >/dev/null || fail "$fs: frag"
		sync
		idle=$(dinofs-workload statfs $MNT 3)
		dinofs-workload statfs $MNT 8 >/tmp/statfs.busy &
		sp=$!
		sleep 1
		# Cold: the page cache's teardown (the same on every filesystem)
		# is not what this measures.
		echo 1 >/proc/sys/vm/drop_caches
		r=$(dinofs-workload unlink-time $MNT/big) || fail "$fs: unlink"
		sync
		wait $sp
		us+=($(kv unlink_us <<<"$r"))
		idle50+=($(kv p50_us <<<"$idle"))
		idle99+=($(kv p99_us <<<"$idle"))
		busy50+=($(kv p50_us </tmp/statfs.busy))
		busy99+=($(kv p99_us </tmp/statfs.busy))
		unmount $fs
	done
	record unlink1g frag1g $fs unlink_us "${us[@]}"
	record statfs idle $fs p50_us "${idle50[@]}"
	record statfs idle $fs p99_us "${idle99[@]}"
	record statfs teardown $fs p50_us "${busy50[@]}"
	record statfs teardown $fs p99_us "${busy99[@]}"
done

# --- unlink scaling: 1, 2, 4 threads to their own CPUs ----------------
PER=$((1000 / S))
for fs in dinofs-deferred dinofs-sync; do
	for t in 1 2 4; do
		[ "$t" -le "$(nproc)" ] || continue
		rates=()
		for _ in $(seq "$REPS"); do
			mkfs_mount $fs
			for i in $(seq 0 $((t - 1))); do
				mkdir -p $MNT/d/t$i
				dinofs-workload create $MNT/d/t$i $PER 4096 >/dev/null
			done
			sync
			r=$(dinofs-workload unlink-par $MNT/d "$t" $PER) || fail "$fs: unlink-par $t"
			rates+=($(kv per_sec <<<"$r"))
			sync
			unmount $fs
		done
		record scaling "threads$t" $fs unlinks_per_s "${rates[@]}"
	done
done

# --- 20,000 creates and cold lookups in one directory -------------------------
N=$((20000 / S))
for fs in dinofs-deferred ext4 xfs tmpfs; do
	cs=() ls=()
	for _ in $(seq "$REPS"); do
		mkfs_mount $fs
		mkdir $MNT/many
		r=$(dinofs-workload create $MNT/many $N 100) || fail "$fs: create"
		cs+=($(kv secs <<<"$r" | awk '{ printf "%d", $1 * 1000 }'))
		sync
		echo 3 >/proc/sys/vm/drop_caches
		r=$(dinofs-workload lookup $MNT/many $N) || fail "$fs: lookup"
		ls+=($(kv secs <<<"$r" | awk '{ printf "%d", $1 * 1000 }'))
		unmount $fs
	done
	record dir create$N $fs ms "${cs[@]}"
	record dir lookup$N $fs ms "${ls[@]}"
done

# --- the tables ---------------------------------------------------------------
thead "rm -rf (ms)" $FSES
for kind in small medium frag; do
	table rm $kind rm_ms ms $FSES
	table rm $kind rm_sync_ms ms $FSES
done
thead "a 256 MiB fragmented file (ms)" $F256FS
table file256 frag256 write_ms ms $F256FS
table file256 frag256 rm_sync_ms ms $F256FS
table file256 frag256 cold_rm_sync_ms ms $F256FS
thead "one unlink of a 1 GiB fragmented file (us)" dinofs-deferred dinofs-sync ext4 xfs
table unlink1g frag1g unlink_us us dinofs-deferred dinofs-sync ext4 xfs
thead "statfs latency (us)" dinofs-deferred dinofs-sync ext4 xfs
for w in idle teardown; do
	table statfs $w p50_us us dinofs-deferred dinofs-sync ext4 xfs
	table statfs $w p99_us us dinofs-deferred dinofs-sync ext4 xfs
done
thead "unlink scaling (unlinks/s)" dinofs-deferred dinofs-sync
for t in 1 2 4; do table scaling threads$t unlinks_per_s /s dinofs-deferred dinofs-sync; done
thead "one directory (ms)" dinofs-deferred ext4 xfs tmpfs
table dir create$N ms ms dinofs-deferred ext4 xfs tmpfs
table dir lookup$N ms ms dinofs-deferred ext4 xfs tmpfs
echo
echo "(sizes divided by DINOFS_BENCH_SCALE=$S; $REPS repetition(s); TCG guest, $(nproc) vCPUs;" \
	"rm -rf and file256 pinned to CPU: ${PIN:-no})"
dinofs_unload
