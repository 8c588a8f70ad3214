#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: selftest
# timeout: 60
#
# Harness self-test, run only with DINOFS_BREAK=exit: a test that exits
# nonzero must make "make check" fail and be named in its summary.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"
fail "deliberate failure (DINOFS_BREAK=exit)"
