# SPDX-License-Identifier: GPL-2.0
#
# Shared settings for every dinofs host-side script: pinned toolchain,
# cache layout, and small helpers. Sourced, never executed.
#
# Everything that is built (bindgen, kernel, cargo target, VM images) lives in
# $DINOFS_CACHE, outside the repository, so a fresh clone reuses it.

# cargo (rustup) builds bindgen-cli and the tools; CI may not have it on PATH.
case :$PATH: in *:$HOME/.cargo/bin:*) ;; *) PATH=$PATH:$HOME/.cargo/bin ;; esac

DINOFS_TOP=${DINOFS_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DINOFS_CACHE=${DINOFS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dinofs}

# Pinned toolchain (see ../shared/TOOLCHAIN.md when reading this in the dev tree).
KERNEL_VERSION=6.12.117
KERNEL_SRC_PKG=linux-source-6.12
KERNEL_SRC_PKG_VERSION=6.12.117-1~deb12u1
KERNEL_TARBALL=/usr/src/linux-source-6.12.tar.xz
RUST_PKG_VERSION=1.85.0+dfsg3-1~deb12u3
LLVM_VERSION=19
BINDGEN_VERSION=0.69.5

# Debian packages the project needs, "name" or "name=version".
DINOFS_APT_PACKAGES=(
	"rustc-web=$RUST_PKG_VERSION" "rust-web-src=$RUST_PKG_VERSION"
	"libstd-rust-web-dev=$RUST_PKG_VERSION" "libstd-rust-web-1.85=$RUST_PKG_VERSION"
	# rustfmt and clippy of the kernel's own toolchain (make fmt, make lint):
	"rustfmt-web=$RUST_PKG_VERSION" "rust-web-clippy=$RUST_PKG_VERSION"
	"clang-$LLVM_VERSION" "lld-$LLVM_VERSION" "llvm-$LLVM_VERSION" "libclang-$LLVM_VERSION-dev"
	"$KERNEL_SRC_PKG=$KERNEL_SRC_PKG_VERSION"
	qemu-system-x86 build-essential flex bison bc libelf-dev libssl-dev
	cpio kmod rsync xz-utils busybox-static
	# Tools the guest borrows from the host root:
	e2fsprogs xfsprogs fio stress-ng util-linux procps dmsetup
	# make bench's plot:
	gnuplot-nox
)

# Toolchain binaries, passed explicitly on every kernel/module make: rustup's
# rustc is usually first on PATH and has no rust-src, which the kernel needs.
# "make KDIR=... LLVM=... RUSTC=... BINDGEN=..." on the command line override
# these through the DINOFS_* variables the Makefile exports.
RUSTC=${DINOFS_RUSTC:-/usr/bin/rustc}
HOSTRUSTC=${DINOFS_HOSTRUSTC:-$RUSTC}
RUSTDOC=${DINOFS_RUSTDOC:-/usr/bin/rustdoc}
BINDGEN=${DINOFS_BINDGEN:-$DINOFS_CACHE/bindgen-$BINDGEN_VERSION/bin/bindgen}
LLVM=${DINOFS_LLVM:--$LLVM_VERSION}
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-$LLVM_VERSION/lib}

# Userspace tools (mkfs.dinofs, fsck.dinofs, workload helpers) build here,
# one target directory per checkout: cargo keeps the final binaries at one
# path per target directory (target/release/NAME), and a build that finds
# its own units fresh does not copy them there again, so two checkouts
# sharing one directory could each publish the other's binaries.
# tools.sh publishes each build under $DINOFS_TOOLS_BIN/<hash>/.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$DINOFS_CACHE/target/$(printf %s "$DINOFS_TOP" | sha256sum | cut -c1-12)}
DINOFS_TOOLS_BIN=$DINOFS_CACHE/bin

KERNEL_SRC=$DINOFS_CACHE/src/linux-$KERNEL_VERSION

# Make arguments every kernel or module build gets.
kmake_args() {
	printf '%s\n' "LLVM=$LLVM" "RUSTC=$RUSTC" "HOSTRUSTC=$HOSTRUSTC" \
		"RUSTDOC=$RUSTDOC" "BINDGEN=$BINDGEN"
}

# Phase lines: "[dinofs  12.3s] building kernel".
DINOFS_T0=${DINOFS_T0:-$(date +%s.%N)}
export DINOFS_T0
phase() {
	local now
	now=$(date +%s.%N)
	printf '[dinofs %6.1fs] %s\n' "$(echo "$now - $DINOFS_T0" | bc)" "$*" >&2
}

die() {
	printf 'dinofs: error: %s\n' "$*" >&2
	exit 1
}

# dinofs_lock NAME: take the cache lock NAME ($DINOFS_CACHE/locks/NAME.lock,
# flock) and hold it until this process (and every child that inherited the
# descriptor) exits. Two make invocations may share the cache (two checkouts);
# what they would both write — the kernel source tree, the configuration
# staging directory and a kernel build, the toolchain, the tools' target
# directory — is written by one at a time, and the other waits, then finds
# the work done. Lock order: deps, kernel-src, kernel-FLAVOR, tools.
dinofs_lock() {
	local fd
	mkdir -p "$DINOFS_CACHE/locks"
	exec {fd}>>"$DINOFS_CACHE/locks/$1.lock"
	if ! flock -n "$fd"; then
		phase "waiting for the cache lock '$1' (another dinofs build holds it)"
		flock "$fd"
	fi
}

# The kernel flavour: "debug" (default) or "kasan" (debug + KASAN).
DINOFS_KERNEL_FLAVOR=${DINOFS_KERNEL_FLAVOR:-debug}
