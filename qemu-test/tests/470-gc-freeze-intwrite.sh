#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 300
#
# Why the engine stops at SB_FREEZE_PAGEFAULT (issue 20, item 6; the seed's
# "we don't want kernel threads to block on transaction allocation"). Every
# inactivation runs in a jbd2 handle taken after freeze protection
# (sb_start_intwrite, rust/fs/trans.rs), which blocks on a filesystem
# frozen at SB_FREEZE_FS. With the stop switched off (debug knob
# freeze_no_stop), an unlinked file closed while frozen queues, its worker
# runs and blocks in sb_start_intwrite (a kworker whose stack holds
# percpu_rwsem_wait under dinofs code, the inode not inactivated) until the
# thaw lets it finish. With the stop (the default) the inode just waits in
# the queue while frozen (queued_now 1, no worker blocked, nothing
# inactivated) and is inactivated after the thaw. Both end with the free
# space back to baseline and a clean fsck.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

fresh_fs 16384
cd /tmp
free0=$(stat -f -c %f /mnt/d)
trap 'fsfreeze -u /mnt/d 2>/dev/null || true' EXIT
FAIL_DUMP='gc_stats /mnt/d'
# blocked_workers: kernel threads waiting for freeze protection in dinofs code.
blocked_workers() {
	local n=0 s
	for s in /proc/[0-9]*/stack; do
		grep -q percpu_rwsem_wait "$s" 2>/dev/null && grep -q dinofs "$s" 2>/dev/null &&
			n=$((n + 1))
	done
	echo $n
}

for mode in no-stop stop; do
	gc_knob /mnt/d freeze_no_stop $([ $mode = no-stop ] && echo 1 || echo 0)
	hold_unlinked /mnt/d 1 262144
	i0=$(gc_stat /mnt/d inactivated)
	fsfreeze -f /mnt/d
	hold_release
	if [ $mode = no-stop ]; then
		wait_for 30 "a worker blocked in sb_start_intwrite on the frozen filesystem" \
			'[ "$(blocked_workers)" -ge 1 ]'
		sleep 2
		assert_eq "$(gc_stat /mnt/d inactivated)" "$i0" "$mode: inactivated while frozen"
		assert_eq "$(blocked_workers)" 1 "$mode: worker still blocked after 2 s"
		echo "ok: $mode: the worker blocks in sb_start_intwrite while frozen"
	else
		sleep 3
		assert_eq "$(blocked_workers)" 0 "$mode: workers blocked while frozen"
		assert_eq "$(gc_stat /mnt/d queued_now)" 1 "$mode: queued while frozen"
		assert_eq "$(gc_stat /mnt/d inactivated)" "$i0" "$mode: inactivated while frozen"
		echo "ok: $mode: the inode waits in its queue while frozen, no worker blocked"
	fi
	fsfreeze -u /mnt/d
	wait_for 30 "inactivation after the thaw ($mode)" \
		'[ "$(gc_stat /mnt/d inactivated)" -gt "$i0" ]'
	assert_eq "$(blocked_workers)" 0 "$mode: workers blocked after the thaw"
	sync
	assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "$mode: free blocks back to baseline"
done
trap - EXIT
cd /
finish_fs
