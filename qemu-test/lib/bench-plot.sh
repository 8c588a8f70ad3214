#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-plot.sh CSV PNG: the rm -rf medians of "make bench" (bench.csv) as
# clustered bars per workload, one bar per filesystem (gnuplot).
set -euo pipefail
csv=$1 png=$2
data=$(mktemp)
trap 'rm -f "$data"' EXIT
fses="dinofs-deferred dinofs-sync ext4 xfs tmpfs"
{
	echo "workload $fses"
	for wl in small medium frag; do
		for metric in rm_ms rm_sync_ms; do
			case $metric in rm_ms) label="$wl:rm" ;; *) label="$wl:rm+sync" ;; esac
			printf '%s' "$label"
			for fs in $fses; do
				v=$(awk -F, -v w="$wl" -v f="$fs" -v m="$metric" \
					'$1 == "rm" && $2 == w && $3 == f && $4 == m { print $5 }' "$csv")
				printf ' %s' "${v:-0}"
			done
			echo
		done
	done
} >"$data"
gnuplot <<GP
set terminal png size 1000,500 noenhanced
set output '$png'
set title 'dinofs make bench: rm -rf (median ms, lower is better)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key outside right
set ylabel 'ms'
set xtics rotate by -30
plot for [i=2:6] '$data' using i:xtic(1) title columnheader(i)
GP
