#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build dinofs.ko with Kbuild and print the kernel build directory used.
#
# KDIR defaults to the cached test kernel (built on first use by kernel.sh);
# "make KDIR=/path/to/your/kernel/build" uses yours, exactly like the
# Rust-for-Linux out-of-tree module template (nothing is installed then).
set -euo pipefail
. "$(dirname "$0")/common.sh"
unset MAKEFLAGS MFLAGS MAKELEVEL

kdir=${DINOFS_KDIR:-}
if [ -z "$kdir" ]; then
	kdir=$("$DINOFS_TOP/qemu-test/lib/kernel.sh")
elif [ ! -x "$BINDGEN" ]; then
	BINDGEN=$(command -v bindgen) || die "no bindgen: pass BINDGEN=/path or run 'make deps'"
fi
[ -e "$kdir/Makefile" ] || die "KDIR=$kdir is not a kernel build directory"
grep -q '^CONFIG_RUST=y' "$kdir/.config" || die "KDIR=$kdir: kernel built without CONFIG_RUST"

mapfile -t KARGS < <(kmake_args)
phase "module: building dinofs.ko against $kdir"
make -C "$kdir" M="$DINOFS_TOP" "${KARGS[@]}" BINDGEN="$BINDGEN" modules >&2
echo "$kdir"
