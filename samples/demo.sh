#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The dinofs demo, run inside the test VM by "make demo".
#
# Today it shows the module loading, registering the "dinofs" filesystem
# type, and unloading cleanly. The inactivation-engine work turns this into
# the deferred-inactivation story: files created and removed, per-CPU queues
# filling and draining, statfs before and after sync, a freeze holding work,
# and an offlined CPU's queue folded onto a live one.
set -euo pipefail

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

ko=$DINOFS_TOP/dinofs.ko
step "dinofs.ko, built against $(uname -r)"
run modinfo -F description "$ko"
run modinfo -F alias "$ko"

step "load it and find the filesystem type"
run insmod "$ko"
run grep -w dinofs /proc/filesystems
run grep '^dinofs ' /proc/modules
dmesg | grep 'dinofs:' | tail -n 3

step "the VM this runs in: $(nproc) CPUs, a debug kernel"
run cat /sys/devices/system/cpu/online
run grep -E 'debug_locks|lock-classes' /proc/lockdep_stats

step "unload"
run rmmod dinofs
if grep -qw dinofs /proc/filesystems; then
	echo "dinofs still registered after rmmod" >&2
	exit 1
fi
dmesg | grep 'dinofs:' | tail -n 1
echo
echo "demo: dinofs registered and unregistered cleanly"
