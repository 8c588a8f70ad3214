# SPDX-License-Identifier: GPL-2.0
#
# Helpers for in-guest tests; every test starts with
#
#     . "$DINOFS_TOP/qemu-test/guest/lib.sh"
#
# A test passes by exiting 0, skips with skip "reason" (exit 77) and fails
# with fail "reason" or any failing command (set -e). Assert on numbers.

set -euo pipefail

DINOFS_KO=$DINOFS_TOP/dinofs.ko
# Two scratch disks, backed by sparse files on the host.
DEV1=/dev/vda
DEV2=/dev/vdb

# Race windows that tests hold open with sleeps and the engine's delay
# knobs are stretched on a slower kernel: DINOFS_SLOW is 1 on the debug
# kernel and 4 on the KASAN one (about three times slower under TCG; a
# window sized for the debug kernel closed before the step it waits for).
DINOFS_SLOW=1
[ "${DINOFS_KERNEL_FLAVOR:-debug}" = kasan ] && DINOFS_SLOW=4

log() { echo "# $*"; }
# fail WHAT: the test fails; FAIL_DUMP, if a test sets it, is a command run
# first to log the state the failure leaves (e.g. "gc_stats /mnt/d").
fail() {
	echo "FAIL: $*"
	if [ -n "${FAIL_DUMP:-}" ]; then eval "$FAIL_DUMP" || true; fi
	exit 1
}
skip() { echo "SKIP: $*"; exit 77; }

# wait_for SECS WHAT CONDITION: evaluate CONDITION (a shell expression)
# every 0.1 s until it holds; fail after SECS (times DINOFS_SLOW) seconds.
# Tests wait for a state they can observe rather than sleep for a time.
wait_for() {
	local end=$(( $(date +%s) + $1 * DINOFS_SLOW ))
	until eval "$3"; do
		[ "$(date +%s)" -lt $end ] || fail "timed out after $(( $1 * DINOFS_SLOW )) s waiting for $2"
		sleep 0.1
	done
}

# assert_eq ACTUAL EXPECTED WHAT
assert_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
	echo "ok: $3 = $1"
}

# assert_fails WHAT COMMAND...: COMMAND must exit nonzero.
assert_fails() {
	local what=$1
	shift
	if "$@"; then fail "$what: '$*' succeeded"; fi
	echo "ok: $what (refused)"
}

# Extra insmod arguments: the harness self-test switch DINOFS_BREAK=splat
# loads the module with selftest_splat=1, which WARNs on load.
dinofs_insmod_args() {
	[ "${DINOFS_BREAK:-}" = splat ] && echo "selftest_splat=1"
	return 0
}

dinofs_load() {
	# dinofs.ko needs jbd2: built in on the test kernel; a kernel with
	# CONFIG_JBD2=m needs it loaded first, as "modprobe dinofs" would.
	grep -q '^jbd2 ' /proc/modules 2>/dev/null || modprobe -q jbd2 2>/dev/null || true
	# shellcheck disable=SC2046
	insmod "$DINOFS_KO" $(dinofs_insmod_args) "$@"
	dinofs_loaded || fail "insmod returned but dinofs is not in /proc/modules"
}

dinofs_loaded() { grep -q '^dinofs ' /proc/modules; }

dinofs_unload() {
	rmmod dinofs
	! dinofs_loaded || fail "rmmod returned but dinofs is still loaded"
}

# Kernel log lines since the test started (the runner clears it per test).
klog() { dmesg; }

# gc_stat MOUNTPOINT NAME: one value from the engine's debugfs statistics
# (/sys/kernel/debug/dinofs/<dev>/inodegc), e.g. gc_stat /mnt/d inactivated,
# gc_stat /mnt/d "cpu2 queued".
gc_stat() {
	local dev
	dev=$(basename "$(findmnt -n -o SOURCE "$1")")
	# "name value" lines, and "cpuN queued Q runs R nonempty B armed A" lines.
	awk -v k="$2" 'BEGIN { n = split(k, w, " ") }
		n == 1 && $1 == w[1] { print $2; exit }
		n == 2 && $1 == w[1] { for (i = 2; i < NF; i++) if ($i == w[2]) { print $(i + 1); exit } }' \
		"/sys/kernel/debug/dinofs/$dev/inodegc"
}

gc_knob() { # gc_knob MOUNTPOINT NAME VALUE
	local dev
	dev=$(basename "$(findmnt -n -o SOURCE "$1")")
	echo "$3" >"/sys/kernel/debug/dinofs/$dev/$2"
}

gc_stats() {
	local dev
	dev=$(basename "$(findmnt -n -o SOURCE "$1")")
	cat "/sys/kernel/debug/dinofs/$dev/inodegc"
}

# Inodes in use: f_files - f_ffree (both also count 32 per free block).
inodes_in_use() { echo $(( $(stat -f -c %c "$1") - $(stat -f -c %d "$1") )); }

# hold_unlinked DIR N BYTES: start "dinofs-workload hold", which creates N
# files of BYTES bytes in DIR, unlinks them and keeps them open until
# hold_release closes its stdin (fd 8 of this shell). Fails unless all N are
# held. The caller's cwd must be writable (the fifo and hold.out live there).
# HOLD_RUN, if set, is a command prefix for the holder (e.g. "taskset -c 2",
# so that the final iputs queue on CPU 2).
hold_unlinked() {
	rm -f hold.in hold.out
	mkfifo hold.in
	# shellcheck disable=SC2086 # HOLD_RUN is a word list
	${HOLD_RUN:-} dinofs-workload hold "$1" "$2" "$3" <hold.in >hold.out &
	HOLD_PID=$!
	exec 8>hold.in
	for _ in $(seq 100); do grep -q holding hold.out && break; sleep 0.2; done
	assert_eq "$(head -1 hold.out)" "holding=$2" "files open and unlinked"
}

# hold_release: close the held files (their final iput queues them for gc).
hold_release() {
	exec 8>&-
	wait "$HOLD_PID" || fail "dinofs-workload hold failed"
}

# Device-mapper helpers. devtmpfs makes /dev/dm-N; /dev/mapper/ links need
# udev, which the guest does not run, so devices are named by minor number.
# dm_dev NAME: the block device of dm device NAME.
dm_dev() { echo "/dev/dm-$(dmsetup info -c --noheadings -o minor "$1" | tr -d ' ')"; }

# dm_table NAME TABLE: switch NAME to TABLE (suspend without a filesystem
# freeze, load, resume), as a device that starts or stops failing would.
dm_table() {
	dmsetup suspend --nolockfs "$1"
	dmsetup load "$1" --table "$2"
	dmsetup resume "$1"
}

# fresh_fs BLOCKS: load dinofs, make a BLOCKS-block filesystem on $DEV1 and
# mount it on /mnt/d.
fresh_fs() {
	dinofs_load
	mkfs.dinofs -q "$DEV1" "$1"
	mkdir -p /mnt/d
	mount -t dinofs "$DEV1" /mnt/d
}

# finish_fs: unmount /mnt/d, require a clean fsck.dinofs -n, unload.
finish_fs() {
	umount /mnt/d
	fsck.dinofs -n "$DEV1" || fail "fsck.dinofs -n at the end"
	dinofs_unload
}
