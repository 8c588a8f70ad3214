#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In-guest half of "make xfstests" (the host half is qemu-test/check.sh
# --mode xfstests). Runs the user's fstests checkout ($XFSTESTS_DIR, built
# by them) against dinofs:
#
#   - checks that mkfs.dinofs, fsck.dinofs and xfs_io are in PATH and that
#     "fsck -t dinofs" really reaches fsck.dinofs (if it did not, util-linux
#     fsck would silently "pass" every consistency check);
#   - loads dinofs.ko, formats TEST (/dev/vda), writes a local.config of its
#     own, and runs a copy of the checkout in the guest's tmpfs (fstests
#     writes into its tree; the user's checkout is never modified);
#   - runs ./check -R xunit -x $XFSTESTS_EXCLUDE_GROUPS (default
#     recoveryloop; empty: none) -E dinofs.exclude with the
#     curated list (or $XFSTESTS_TESTS), results under the results share;
#   - writes one PASS/FAIL/SKIP line per test for the host's tally, then
#     scans the whole kernel log for splats and runs fsck.dinofs -n on both
#     TEST device as a last check of its own.
#
# fstests itself fails a test on a kernel splat (_check_dmesg) and runs
# fsck after every test that used a device (_check_test_fs/_check_scratch_fs).

R=/run/dinofs
X=$DINOFS_TOP/qemu-test/xfstests
OUT=$R/xfstests
TEST_DEV=/dev/vda SCRATCH_DEV=/dev/vdb
: >"$R/results"

say() { echo "dinofs-xfstests: $*"; }
abort() {
	say "$*"
	echo "FAIL xfstests/setup $*" >>"$R/results"
	echo DONE >>"$R/results"
	exit 1
}

# The test list: $XFSTESTS_TESTS, else the curated list.
if [ -n "${XFSTESTS_TESTS:-}" ]; then
	tests=$XFSTESTS_TESTS
else
	tests=$(sed 's/#.*//' "$X/dinofs.list" | awk 'NF { print $1 }')
fi
echo "$tests" | tr ' ' '\n' | awk 'NF' >"$R/plan"

# 1. What fstests will call.
for tool in mkfs.dinofs fsck.dinofs xfs_io; do
	command -v $tool >/dev/null || abort "$tool is not in PATH (xfs_io: apt-get install xfsprogs)"
done
fsck_cmd=$(fsck -N -t dinofs "$TEST_DEV" 2>&1)
case $fsck_cmd in
*fsck.dinofs*) ;;
*) abort "'fsck -t dinofs' does not run fsck.dinofs ($fsck_cmd)" ;;
esac
for f in check ltp/fsstress src/godown; do
	[ -x "$XFSTESTS_DIR/$f" ] || abort "$XFSTESTS_DIR/$f missing: is the fstests checkout built (make)?"
done

# 2. dinofs, the TEST filesystem, the configuration. The kernel log so far
# (boot) is saved and cleared: the splat scan at the end covers the run.
mkdir -p "$OUT"
dmesg >"$OUT/boot-dmesg.log"
dmesg -C
# jbd2 first, if it is a module on this kernel (the test kernel builds it in).
modprobe -q jbd2 2>/dev/null || true
insmod "$DINOFS_TOP/dinofs.ko" || abort "insmod dinofs.ko failed"
mkfs.dinofs -q "$TEST_DEV" || abort "mkfs.dinofs $TEST_DEV failed"
mkdir -p /mnt/test /mnt/scratch "$OUT"
cfg=/tmp/dinofs-xfstests.config
cat >"$cfg" <<EOF
# Written by qemu-test/xfstests/run-guest.sh for this run.
export FSTYP=dinofs
export TEST_DEV=$TEST_DEV
export TEST_DIR=/mnt/test
export SCRATCH_DEV=$SCRATCH_DEV
export SCRATCH_MNT=/mnt/scratch
export FSCK_OPTIONS="-n"
export MKFS_OPTIONS=""
export MOUNT_OPTIONS="${XFSTESTS_MOUNT_OPTIONS:-}"
export TEST_FS_MOUNT_OPTS="${XFSTESTS_MOUNT_OPTIONS:-}"
export RESULT_BASE=$OUT
EOF
cp "$cfg" "$OUT/local.config"
say "$(echo "$tests" | wc -w) test(s), fstests ${XFSTESTS_VERSION:-(unknown version)}"

# 3. Run. fstests writes into its own tree (_link_out_file links
# tests/*/NNN.out, for instance), and the host's checkout is read-only in
# the guest and must stay untouched: run a copy in the guest's tmpfs,
# unpacked from the archive the host half made of it (without .git).
run_dir=/tmp/fstests
mkdir -p "$run_dir"
tar -C "$run_dir" -xf "$R/fstests.tar" || abort "cannot unpack $R/fstests.tar into $run_dir"
rm -f "$R/fstests.tar"
start=$(date +%s)
(
	cd "$run_dir" || exit 1
	# shellcheck disable=SC2086 # one word per test
	HOST_OPTIONS=$cfg timeout --foreground -k 30 "${XFSTESTS_TIMEOUT:-10800}" \
		./check -R xunit ${XFSTESTS_EXCLUDE_GROUPS:+-x "$XFSTESTS_EXCLUDE_GROUPS"} \
		-E "$X/dinofs.exclude" $tests
) 2>&1 | tee "$OUT/check.log"
say "./check finished in $(($(date +%s) - start)) s"

# 4. One line per test, from the xunit report (checked against the plan:
# a test the report does not mention did not finish).
xml=$OUT/result.xml
for t in $tests; do
	if ! [ -f "$xml" ] || ! grep -q "name=\"$t\"" "$xml"; then
		if grep -q "^$t .*\[expunged\]" "$OUT/check.log" 2>/dev/null; then
			echo "SKIP $t excluded: $(grep "^$t" "$X/dinofs.exclude" | sed 's/[^#]*# *//')"
		else
			echo "FAIL $t no result (check timed out or died)"
		fi
		continue
	fi
	# The testcase element, up to its end.
	tc=$(awk -v t="$t" 'index($0, "name=\"" t "\"") { p = 1 } p { print } p && /<\/testcase>|\/>$/ { exit }' "$xml")
	if echo "$tc" | grep -q '<skipped'; then
		echo "SKIP $t $(echo "$tc" | sed -n 's/.*<skipped message="\([^"]*\)".*/\1/p' | head -1)"
	elif echo "$tc" | grep -q '<failure'; then
		echo "FAIL $t $(echo "$tc" | sed -n 's/.*<failure message="\([^"]*\)".*/\1/p' | head -1)"
	else
		echo "PASS $t $(echo "$tc" | sed -n 's/.* time="\([0-9]*\)".*/\1/p' | head -1)s"
	fi
done >>"$R/results"

# 5. Our own last checks: no splat anywhere in the run, TEST clean.
umount /mnt/test /mnt/scratch 2>/dev/null
if dmesg | grep -E -f "$DINOFS_TOP/qemu-test/guest/splat-patterns" >"$OUT/splats"; then
	echo "FAIL xfstests/dmesg $(head -1 "$OUT/splats")" >>"$R/results"
else
	echo "PASS xfstests/dmesg" >>"$R/results"
fi
# TEST persists across the whole run; SCRATCH is checked by fstests after
# each test that did not opt out (a _require_scratch_nocheck test may leave
# it cut by a shutdown on purpose).
if fsck.dinofs -n "$TEST_DEV" >"$OUT/fsck-test.log" 2>&1; then
	echo "PASS xfstests/fsck-test-dev" >>"$R/results"
else
	echo "FAIL xfstests/fsck-test-dev (see fsck-test.log)" >>"$R/results"
fi
dmesg >"$OUT/dmesg.log"
rmmod dinofs 2>/dev/null
echo DONE >>"$R/results"
