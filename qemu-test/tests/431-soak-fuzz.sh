#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: soak
# timeout: 10800
#
# "make soak": 430's fuzzed-image campaign with 10,000 images and a seed
# that changes every run (printed, for replay).
. "$DINOFS_TOP/qemu-test/guest/lib.sh"
export DINOFS_FUZZ_IMAGES=${DINOFS_FUZZ_IMAGES:-10000}
export DINOFS_FUZZ_SEED=${DINOFS_FUZZ_SEED:-$(date +%s)}
bash "$DINOFS_TOP/qemu-test/tests/430-fs-fuzz.sh"
