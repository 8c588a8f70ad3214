#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: soak
# timeout: 1800
#
# "make soak": the freeze storm and the hotplug storm for 10 minutes each.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"
export DINOFS_STORM_SECS=${DINOFS_STORM_SECS:-600}
bash "$DINOFS_TOP/qemu-test/tests/280-gc-freeze-storm.sh"
bash "$DINOFS_TOP/qemu-test/tests/290-gc-hotplug-storm.sh"
