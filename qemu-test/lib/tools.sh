#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the userspace tools (release) and link them under their real names
# into $DINOFS_CACHE/bin: mkfs.dinofs, fsck.dinofs, dinofs-workload. Cargo
# cannot name a binary with a dot, so the crate builds mkfs_dinofs and
# fsck_dinofs. Prints the bin directory.
set -euo pipefail
. "$(dirname "$0")/common.sh"

phase "tools: cargo build --release (tools/)"
cargo build -q --release --manifest-path "$DINOFS_TOP/tools/Cargo.toml" >&2 ||
	die "tools build failed"
mkdir -p "$DINOFS_TOOLS_BIN"
ln -sfn "$CARGO_TARGET_DIR/release/mkfs_dinofs" "$DINOFS_TOOLS_BIN/mkfs.dinofs"
ln -sfn "$CARGO_TARGET_DIR/release/fsck_dinofs" "$DINOFS_TOOLS_BIN/fsck.dinofs"
ln -sfn "$CARGO_TARGET_DIR/release/dinofs-workload" "$DINOFS_TOOLS_BIN/dinofs-workload"
echo "$DINOFS_TOOLS_BIN"
