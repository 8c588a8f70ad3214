#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 300
#
# Tracepoints: every dinofs event exists under
# /sys/kernel/tracing/events/dinofs/, and with them enabled an unlink of N
# files logs exactly N queue and N inactivating events, worker events, and
# the push/flush/stop/start events of statfs, sync and a freeze.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

N=50
T=/sys/kernel/tracing
dinofs_load
for e in dinofs_inodegc_queue dinofs_inodegc_worker dinofs_inodegc_flush \
	dinofs_inodegc_push dinofs_inodegc_stop dinofs_inodegc_start \
	dinofs_inodegc_throttle dinofs_inodegc_cpu_dead \
	dinofs_inodegc_shrinker_scan dinofs_inode_inactivating; do
	[ -d $T/events/dinofs/$e ] || fail "no tracepoint $e"
done
echo "ok: 10 tracepoints present"
mkfs.dinofs -q "$DEV1" 65536
mkdir -p /mnt/d
mount -t dinofs "$DEV1" /mnt/d
dinofs-workload create /mnt/d/t $N 4096 >/dev/null
sync
echo >$T/trace
echo 1 >$T/events/dinofs/enable
dinofs-workload unlink /mnt/d/t $N >/dev/null
sync
stat -f /mnt/d >/dev/null
fsfreeze -f /mnt/d
fsfreeze -u /mnt/d
echo 0 >$T/events/dinofs/enable
count() { grep -c " $1: " $T/trace || true; }
assert_eq "$(count dinofs_inodegc_queue)" $N "queue events"
assert_eq "$(count dinofs_inode_inactivating)" $N "inactivating events"
[ "$(count dinofs_inodegc_worker)" -gt 0 ] || fail "no worker events"
for e in dinofs_inodegc_flush dinofs_inodegc_push dinofs_inodegc_stop dinofs_inodegc_start; do
	[ "$(count $e)" -gt 0 ] || fail "no $e events"
done
grep -m3 "dinofs_inodegc_queue\|dinofs_inodegc_worker" $T/trace
finish_fs
