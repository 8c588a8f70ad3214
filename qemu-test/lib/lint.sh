#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Formatting and lints, with the kernel's own toolchain and style.
#
#   qemu-test/lib/lint.sh fmt        rustfmt the module (the kernel's
#                                    .rustfmt.toml) and cargo fmt the tools
#   qemu-test/lib/lint.sh fmt-check  the same, changing nothing; fails on a
#                                    diff (a host step of make check)
#   qemu-test/lib/lint.sh lint       fmt-check, then the module built with
#                                    CLIPPY=1 (clippy-driver of the kernel's
#                                    Rust, with the kernel's clippy lints)
#                                    and cargo clippy -D warnings on the tools,
#                                    then the layering check (host/layers.py);
#                                    fails on any warning
#
# The module's rustfmt and clippy-driver are Debian's rustfmt-web and
# rust-web-clippy of the same version as the rustc that built the kernel
# (clippy must read the kernel crate's metadata); the tools use cargo's.
set -euo pipefail
. "$(dirname "$0")/common.sh"
unset MAKEFLAGS MFLAGS MAKELEVEL

mode=${1:-lint}
RUSTFMT=${DINOFS_RUSTFMT:-/usr/bin/rustfmt}
CLIPPY_DRIVER=${DINOFS_CLIPPY_DRIVER:-/usr/bin/clippy-driver}
[ -x "$RUSTFMT" ] || die "$RUSTFMT not found: run 'make deps' (rustfmt-web)"
# The crate roots: rustfmt follows their `mod` items.
roots=("$DINOFS_TOP/rust/dinofs_main.rs")
for f in "$DINOFS_TOP"/samples/*/*_main.rs "$DINOFS_TOP"/samples/*.rs; do
	[ -e "$f" ] && roots+=("$f")
done
style=$KERNEL_SRC/.rustfmt.toml
[ -e "$style" ] || "$DINOFS_TOP/qemu-test/lib/kernel.sh" >/dev/null
fmt_args=(--config-path "$style" --edition 2021)

case $mode in
fmt)
	"$RUSTFMT" "${fmt_args[@]}" "${roots[@]}"
	cargo fmt --manifest-path "$DINOFS_TOP/tools/Cargo.toml"
	phase "fmt: done"
	;;
fmt-check | lint)
	bad=0
	"$RUSTFMT" "${fmt_args[@]}" --check "${roots[@]}" || bad=1
	cargo fmt --manifest-path "$DINOFS_TOP/tools/Cargo.toml" --check || bad=1
	[ $bad = 0 ] || die "formatting differs (above); 'make fmt' fixes it"
	phase "fmt-check: module and tools formatted"
	[ "$mode" = lint ] || exit 0
	[ -x "$CLIPPY_DRIVER" ] || die "$CLIPPY_DRIVER not found: run 'make deps' (rust-web-clippy)"
	kdir=${DINOFS_KDIR:-$("$DINOFS_TOP/qemu-test/lib/kernel.sh")}
	mapfile -t KARGS < <(kmake_args)
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	# The crate is one object: touching its root compiles it again, through
	# clippy-driver.
	touch "${roots[@]}"
	make -C "$kdir" M="$DINOFS_TOP" "${KARGS[@]}" CLIPPY=1 CLIPPY_DRIVER="$CLIPPY_DRIVER" \
		modules >"$log" 2>&1 || { cat "$log" >&2; die "CLIPPY=1 module build failed"; }
	if grep -qE '^(warning|error)' "$log"; then
		grep -vE '^(make|  [A-Z]+ )' "$log" >&2
		die "clippy: the module has warnings"
	fi
	phase "clippy: module clean"
	cargo clippy -q --manifest-path "$DINOFS_TOP/tools/Cargo.toml" --all-targets -- -D warnings ||
		die "clippy: the tools have warnings"
	phase "clippy: tools clean"
	python3 "$DINOFS_TOP/qemu-test/host/layers.py" >/dev/null ||
		die "layering: qemu-test/host/layers.py reports an upward arrow or misplaced unsafe"
	phase "layers: arrows point down, unsafe only in the abstraction layers"
	;;
*) die "unknown mode '$mode' (fmt, fmt-check, lint)" ;;
esac
