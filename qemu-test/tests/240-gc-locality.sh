#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# Locality: with unlinkers pinned to CPUs 0-3, every CPU's queue gets work
# and that CPU's worker runs it (per-CPU runs > 0 on at least 3 CPUs), and
# no worker ever runs off its (active) CPU.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

[ "$(nproc)" -ge 4 ] || skip "needs 4 online CPUs"
fresh_fs 65536
for c in 0 1 2 3; do dinofs-workload create /mnt/d/c$c 300 4096 >/dev/null; done
sync
for c in 0 1 2 3; do taskset -c $c rm -rf /mnt/d/c$c & done
wait
sync
gc_stats /mnt/d
busy=0
for c in 0 1 2 3; do
	r=$(gc_stat /mnt/d "cpu$c runs")
	[ "$r" -gt 0 ] && busy=$((busy + 1))
done
[ $busy -ge 3 ] || fail "workers ran on only $busy CPUs"
echo "ok: workers ran on $busy CPUs"
assert_eq "$(gc_stat /mnt/d off_cpu_runs)" 0 "worker runs off their CPU"
assert_eq "$(gc_stat /mnt/d queued_now)" 0 "drained"
finish_fs
