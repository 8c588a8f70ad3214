#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 900
#
# statfs never waits for inactivation (upstream 5e672cd69f0a): a 1 GiB
# fragmented file (its blocks interleaved with another file's) is removed,
# and while the worker frees its 262,144 scattered blocks, statfs calls in
# a loop keep returning quickly. Prints the latency distribution and how
# long the teardown took; asserts no call took over 500 ms (TCG) and that
# the teardown was still running when sampling began.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

fresh_fs 400000
log "$(dinofs-workload frag /mnt/d/big /mnt/d/small $((1 << 30)))"
rm /mnt/d/small
sync
echo 1 >/proc/sys/vm/drop_caches  # so rm returns fast and sampling overlaps the teardown
free0=$(stat -f -c %f /mnt/d)
inact0=$(gc_stat /mnt/d inactivated)
t0=$(date +%s%N)
rm /mnt/d/big                   # queued; the worker starts within a jiffy
out=$(dinofs-workload statfs /mnt/d 6)
during=$(gc_stat /mnt/d inactivated)
while [ "$(gc_stat /mnt/d inactivated)" = "$inact0" ]; do sleep 0.2; done
t1=$(date +%s%N)
log "statfs while tearing down 1 GiB: $out"
log "teardown finished $(( (t1 - t0) / 1000000 )) ms after rm"
max=$(echo "$out" | sed -n 's/.*max_us=\([0-9]*\).*/\1/p')
calls=$(echo "$out" | sed -n 's/.*calls=\([0-9]*\).*/\1/p')
[ "$calls" -gt 20 ] || fail "only $calls statfs calls"
[ "$max" -lt 500000 ] || fail "a statfs call took ${max} us"
if [ "$during" = "$inact0" ]; then
	echo "ok: teardown still running after the sampling window"
else
	log "note: teardown finished within the sampling window"
fi
sync
[ "$(stat -f -c %f /mnt/d)" -gt $((free0 + 262144)) ] || fail "space not back"
finish_fs
