#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the userspace tools (release) and print a directory holding them
# under their real names: mkfs.dinofs, fsck.dinofs, dinofs-workload,
# dinofs-fuzz and dinofs-crash. Cargo
# cannot name a binary with a dot, so the crate builds mkfs_dinofs and
# fsck_dinofs.
#
# Each checkout has its own cargo target directory (common.sh); the build
# and the copy out of it still happen under the "tools" cache lock, and
# the copy goes to $DINOFS_CACHE/bin/<hash of the binaries>/: a run keeps
# using exactly the tools it built even while another checkout builds
# different ones. $DINOFS_CACHE/bin/{mkfs.dinofs,...} point to the latest
# build, for use from a shell. Directories unused for 14 days are removed.
set -euo pipefail
. "$(dirname "$0")/common.sh"

dinofs_lock tools
phase "tools: cargo build --release (tools/)"
cargo build -q --release --manifest-path "$DINOFS_TOP/tools/Cargo.toml" >&2 ||
	die "tools build failed"
rel=$CARGO_TARGET_DIR/release
# cargo's name -> the name on PATH
declare -A names=([mkfs_dinofs]=mkfs.dinofs [fsck_dinofs]=fsck.dinofs
	[dinofs-workload]=dinofs-workload [dinofs-fuzz]=dinofs-fuzz [dinofs-crash]=dinofs-crash)
built=("${!names[@]}")
mapfile -t built < <(printf '%s\n' "${built[@]}" | sort)
key=$(cd "$rel" && cat "${built[@]}" | sha256sum | cut -c1-16)
dir=$DINOFS_TOOLS_BIN/$key
if [ ! -d "$dir" ]; then
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	for b in "${built[@]}"; do cp "$rel/$b" "$dir.tmp/${names[$b]}"; done
	mv -T "$dir.tmp" "$dir"
fi
touch "$dir"
for t in "${names[@]}"; do
	ln -sfn "$key/$t" "$DINOFS_TOOLS_BIN/.$t.new"
	mv -T "$DINOFS_TOOLS_BIN/.$t.new" "$DINOFS_TOOLS_BIN/$t"
done
find "$DINOFS_TOOLS_BIN" -mindepth 1 -maxdepth 1 -type d -mtime +14 -exec rm -rf {} + 2>/dev/null || true
echo "$dir"
