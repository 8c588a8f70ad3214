#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: soak
# timeout: 10800
#
# "make soak": 440's crash-point replay with 25 points drawn between each
# two flushes or marks, and a seed that changes every run (printed).
. "$DINOFS_TOP/qemu-test/guest/lib.sh"
export DINOFS_CRASH_BETWEEN=${DINOFS_CRASH_BETWEEN:-25}
export DINOFS_CRASH_SEED=${DINOFS_CRASH_SEED:-$(date +%s)}
bash "$DINOFS_TOP/qemu-test/tests/440-gc-crash-replay.sh"
