#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what dinofs needs on a fresh Debian 12 machine, idempotently:
# the pinned Debian packages and bindgen-cli (built into $DINOFS_CACHE).
# Each step is skipped when already satisfied, so this is cheap to re-run.
set -euo pipefail
. "$(dirname "$0")/common.sh"
# apt/dpkg and cargo install must not run twice at once.
dinofs_lock deps

missing=()
for spec in "${DINOFS_APT_PACKAGES[@]}"; do
	name=${spec%%=*}
	want=${spec#*=}
	[ "$want" = "$spec" ] && want=
	have=$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$name" 2>/dev/null || true)
	case $have in
	ii*) [ -z "$want" ] || [ "${have#ii }" = "$want" ] || [ "${have:3}" = "$want" ] || missing+=("$spec") ;;
	*) missing+=("$spec") ;;
	esac
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "need root to install: ${missing[*]}"
	phase "apt: installing ${#missing[@]} package(s): ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends --allow-downgrades "${missing[@]}" >/dev/null
fi

if [ ! -x "$BINDGEN" ]; then
	phase "bindgen-cli $BINDGEN_VERSION: cargo install into ${BINDGEN%/bin/bindgen}"
	command -v cargo >/dev/null || die "cargo not found (needed to build bindgen-cli)"
	cargo install -q bindgen-cli --locked --version "$BINDGEN_VERSION" \
		--root "${BINDGEN%/bin/bindgen}"
fi
"$BINDGEN" --version >/dev/null || die "bindgen at $BINDGEN does not run"
