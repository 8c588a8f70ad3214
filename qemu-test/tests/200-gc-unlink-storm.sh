#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 600
#
# Unlink storm through the deferred-inactivation engine: thousands of
# multi-block files removed by rm -rf. Every destroyed inode is queued and
# inactivated (queued = inactivated = files), the queues drain to 0, and
# after sync free blocks and inodes equal the pre-create baseline exactly.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

N=${DINOFS_STORM_FILES:-3000}
fresh_fs 131072
assert_eq "$(gc_stat /mnt/d mode)" deferred "default inodegc mode"
assert_eq "$(gc_stat /mnt/d enabled)" 1 "gc enabled"
free0=$(stat -f -c %f /mnt/d)
used0=$(inodes_in_use /mnt/d)

log "$(dinofs-workload create /mnt/d/storm $N 12000)"
[ "$(stat -f -c %f /mnt/d)" -lt $((free0 - 3 * N)) ] || fail "files did not take space"
q0=$(gc_stat /mnt/d queued)
t0=$(date +%s%N)
rm -rf /mnt/d/storm
t1=$(date +%s%N)
log "rm -rf of $N files: $(( (t1 - t0) / 1000000 )) ms; queued now $(gc_stat /mnt/d queued_now)"
sync
gc_stats /mnt/d
assert_eq "$(( $(gc_stat /mnt/d queued) - q0 ))" $((N + 1)) "inodes queued (files + directory)"
assert_eq "$(gc_stat /mnt/d inactivated)" "$(gc_stat /mnt/d queued)" "every queued inode inactivated"
assert_eq "$(gc_stat /mnt/d queued_now)" 0 "queues drained"
assert_eq "$(gc_stat /mnt/d errors)" 0 "inactivation errors"
assert_eq "$(gc_stat /mnt/d off_cpu_runs)" 0 "workers off their CPU"
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "free blocks back to baseline"
assert_eq "$(inodes_in_use /mnt/d)" "$used0" "inodes back to baseline"
finish_fs
