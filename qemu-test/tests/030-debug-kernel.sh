#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 120
#
# Every test relies on the debug kernel catching what it does wrong: check
# that lockdep, debugobjects and the hung-task and workqueue watchdogs are
# really active, and that lockdep registers the classes a dinofs mount uses.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

[ -e /proc/lockdep ] || fail "no /proc/lockdep: kernel built without lockdep"
grep -q 'debug_locks: *1' /proc/lockdep_stats || fail "lockdep is switched off (debug_locks=0)"
classes=$(awk '/ lock-classes:/ {print $2; exit}' /proc/lockdep_stats)
[ "${classes:-0}" -gt 100 ] || fail "lockdep knows only ${classes:-0} lock classes"
echo "ok: lockdep on, $classes lock classes"

[ -e /sys/kernel/debug/debug_objects/stats ] || fail "no debugobjects"
[ "$(cat /proc/sys/kernel/hung_task_timeout_secs)" -gt 0 ] || fail "hung-task detector off"
[ -e /sys/devices/virtual/workqueue/watchdog_thresh ] ||
	[ -e /sys/module/workqueue/parameters/watchdog_thresh ] || fail "no workqueue watchdog"
echo "ok: debugobjects, hung-task and workqueue watchdogs present"

# Lock classes are registered on first use: a (failing) mount attempt takes
# the superblock locks whose lockdep keys live in dinofs's file_system_type.
before=$(grep -c . /proc/lockdep)
dinofs_load
mount -t dinofs "$DEV2" /mnt 2>/dev/null && fail "mounting an empty device succeeded"
after=$(grep -c . /proc/lockdep)
dinofs_unload
[ "$after" -gt "$before" ] || fail "lockdep registered no new lock class ($before -> $after)"
echo "ok: lockdep classes $before -> $after across a dinofs mount attempt"
