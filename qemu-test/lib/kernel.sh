#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the dinofs test kernel and print its build directory.
#
#   qemu-test/lib/kernel.sh            # debug kernel (lockdep, debugobjects, ...)
#   DINOFS_KERNEL_FLAVOR=kasan ...     # the same plus KASAN
#
# The kernel source is Debian's linux-source-6.12 tarball, extracted once into
# $DINOFS_CACHE/src. The configuration is tinyconfig + kvm_guest.config +
# qemu-test/config/dinofs.config (+ kasan.config); after olddefconfig every
# symbol the fragments ask for is checked, and a symbol that did not survive
# fails the build. The build directory is keyed by kernel version, toolchain
# package versions and the merged .config, so a second run reuses it.
#
# Progress goes to stderr; the only line on stdout is the build directory.
set -euo pipefail
. "$(dirname "$0")/common.sh"
unset MAKEFLAGS MFLAGS MAKELEVEL

"$DINOFS_TOP/qemu-test/lib/deps.sh"

if [ ! -e "$KERNEL_SRC/.dinofs-extracted" ]; then
	# Look again under the lock: another run may have just extracted it.
	dinofs_lock kernel-src
	if [ ! -e "$KERNEL_SRC/.dinofs-extracted" ]; then
		phase "extracting $KERNEL_TARBALL into $KERNEL_SRC"
		rm -rf "$KERNEL_SRC" "$KERNEL_SRC.tmp"
		mkdir -p "$KERNEL_SRC.tmp"
		tar -C "$KERNEL_SRC.tmp" -xf "$KERNEL_TARBALL"
		mv "$KERNEL_SRC.tmp"/linux-source-* "$KERNEL_SRC"
		rmdir "$KERNEL_SRC.tmp"
		touch "$KERNEL_SRC/.dinofs-extracted"
	fi
fi

mapfile -t KARGS < <(kmake_args)
fragments=("$DINOFS_TOP/qemu-test/config/dinofs.config")
case $DINOFS_KERNEL_FLAVOR in
debug) ;;
kasan) fragments+=("$DINOFS_TOP/qemu-test/config/kasan.config") ;;
*) die "unknown DINOFS_KERNEL_FLAVOR '$DINOFS_KERNEL_FLAVOR' (debug or kasan)" ;;
esac

# Steps 1-4 (the flavour's staging directory, its key and its build) are one
# critical section: a second run waits here, then finds the build done.
dinofs_lock "kernel-$DINOFS_KERNEL_FLAVOR"

# 1. Merge the configuration in a staging directory.
stage=$DINOFS_CACHE/kconfig/$DINOFS_KERNEL_FLAVOR
mkdir -p "$stage"
phase "configuring ($DINOFS_KERNEL_FLAVOR): tinyconfig + kvm_guest.config + ${fragments[*]##*/}"
make -s -C "$KERNEL_SRC" O="$stage" "${KARGS[@]}" tinyconfig >"$stage/config.log" 2>&1 ||
	{ cat "$stage/config.log" >&2; die "make tinyconfig failed"; }
(cd "$stage" && "$KERNEL_SRC/scripts/kconfig/merge_config.sh" -m -O "$stage" .config \
	"$KERNEL_SRC/kernel/configs/kvm_guest.config" "${fragments[@]}") >>"$stage/config.log" 2>&1 ||
	{ cat "$stage/config.log" >&2; die "merge_config.sh failed"; }
make -s -C "$KERNEL_SRC" O="$stage" "${KARGS[@]}" olddefconfig >>"$stage/config.log" 2>&1 ||
	{ cat "$stage/config.log" >&2; die "make olddefconfig failed"; }

# 2. Every symbol a fragment asks for must have survived olddefconfig.
bad=0
for f in "${fragments[@]}"; do
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" "$stage/.config" || {
				got=$(grep -E "^(# )?${line%%=*}[= ]" "$stage/.config" || echo "absent")
				echo "dinofs: config: wanted '$line', got '$got' (${f##*/})" >&2
				bad=1
			}
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			! grep -q "^$sym=" "$stage/.config" || {
				echo "dinofs: config: wanted $sym unset, got '$(grep "^$sym=" "$stage/.config")'" >&2
				bad=1
			}
			;;
		esac
	done <"$f"
done
[ $bad = 0 ] || die "kernel configuration check failed (missing dependency or unavailable toolchain; see $stage/config.log)"

# 3. Key the build directory on what determines the result.
key=$( {
	echo "$KERNEL_VERSION $KERNEL_SRC_PKG_VERSION $DINOFS_KERNEL_FLAVOR"
	"$RUSTC" --version
	"clang$LLVM" --version | head -1
	"$BINDGEN" --version
	cat "$stage/.config"
} | sha256sum | cut -c1-16)
build=$DINOFS_CACHE/kernel/$KERNEL_VERSION-$DINOFS_KERNEL_FLAVOR-$key
mkdir -p "$DINOFS_CACHE/kernel"
ln -sfn "$build" "$DINOFS_CACHE/kernel/current-$DINOFS_KERNEL_FLAVOR"

if [ -e "$build/.dinofs-built" ]; then
	phase "kernel: reusing $build"
	echo "$build"
	exit 0
fi

# 4. Build, with a progress line every 30 seconds.
mkdir -p "$build"
cp "$stage/.config" "$build/.config"
jobs=$(nproc)
phase "kernel: building $KERNEL_VERSION ($DINOFS_KERNEL_FLAVOR) in $build with -j$jobs (log: $build/build.log); ~10-17 min on 2 cores"
start=$(date +%s)
make -C "$KERNEL_SRC" O="$build" "${KARGS[@]}" -j"$jobs" bzImage modules >"$build/build.log" 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null; do
	for _ in $(seq 30); do kill -0 $pid 2>/dev/null && sleep 1; done
	kill -0 $pid 2>/dev/null || break
	n=$(grep -cE '^\s+(CC|AS|RUSTC|LD|AR)\b' "$build/build.log" || true)
	phase "kernel: $n objects built ($(( $(date +%s) - start ))s)"
done
if ! wait $pid; then
	grep -E 'error|Error' "$build/build.log" | head -30 >&2
	die "kernel build failed; see $build/build.log"
fi
make -s -C "$KERNEL_SRC" O="$build" "${KARGS[@]}" INSTALL_MOD_PATH="$build/modroot" \
	modules_install >>"$build/build.log" 2>&1 || die "modules_install failed"
touch "$build/.dinofs-built"
phase "kernel: built in $(( $(date +%s) - start ))s: $build/arch/x86/boot/bzImage"
echo "$build"
