#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# symdeps.sh - which portable-core object calls which: compiles each
# dm-ilio/ilio-*.c (but the dm glue) against tests/shim and prints one line
# per pair "caller -> callee (n symbols)" from nm, then the file sizes.
# Usage: scripts/symdeps.sh [REV]  (REV: a git revision; default: the tree)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
src=$REPO
if [ $# -gt 0 ]; then
	git -C "$REPO" archive "$1" dm-ilio tests/shim | tar -x -C "$out"
	src=$out
fi
mkdir -p "$out/o"
for f in "$src"/dm-ilio/ilio-*.c; do
	case $f in */ilio-target.c|*/ilio-sysfs.c) continue ;; esac
	b=$(basename "$f" .c)
	gcc -std=gnu11 -c -O0 -w -isystem "$src/tests/shim" -I"$src/dm-ilio" \
		-o "$out/o/$b.o" "$f"
done
for o in "$out"/o/*.o; do
	nm --defined-only "$o" | awk '$2 ~ /[TDRB]/ {print $3}' | sed "s|\$| $(basename "$o" .o)|"
done | sort >"$out/defs"
for o in "$out"/o/*.o; do
	me=$(basename "$o" .o)
	nm -u "$o" | awk '{print $2}' | sort | join - "$out/defs" |
		awk -v me="$me" '$2 != me {print me " -> " $2}'
done | sort | uniq -c | awk '{printf "%-16s %s %-16s (%d)\n", $2, $3, $4, $1}'
echo
(cd "$src" && wc -l dm-ilio/ilio-*.[ch] | sort -k2)
