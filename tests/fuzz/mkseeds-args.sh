#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkseeds-args.sh OUTDIR - seed corpus for fuzz-args: every ilio table line
# the docs, the VM tests, the tools and the unit tests write down (valid and
# refused ones; lines with shell variables left out), each as a 't' input,
# and every message verb (plus case and argument variants) as an 'm' input.
# Prints "mkseeds-args: N table lines, N messages"; fails if either is 0.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:?usage: mkseeds-args.sh OUTDIR}
mkdir -p "$OUT" || exit 1
cd "$REPO" || exit 1

tables() {
	# "... ilio <args>" in prose, tables and scripts.
	grep -ohE 'ilio (-|/dev/[^ ]+|[0-9]+:[0-9]+) [0-9]+[^"`|]*' \
		Documentation/admin-guide/device-mapper/ilio.rst Documentation/*.rst \
		README tests/vm/*.sh tools/*.c 2>/dev/null | sed 's/^ilio //'
	# t-13's refused lines: bad "desc" "args".
	sed -nE 's/^bad "[^"]*" "([^"]*)".*/\1/p' tests/vm/t-13-badtables.sh
	# test-args.c: parse("...") and { "line", "message" }.
	grep -ohE '(parse\(|\{ )"[^"]*"' tests/unit/test-args.c |
		sed -E 's/^(parse\(|\{ )"//; s/"$//'
}

nt=0
while IFS= read -r l; do
	case "$l" in *'$'*) continue ;; esac
	nt=$((nt + 1))
	printf 't%s' "$l" >"$OUT/table-$nt"
done < <(tables | sed 's/[[:space:]]*$//' | sort -u)

nm=0
for m in clear_stats compact gc checkpoint check CHECK Gc "check now" \
	"gc 1" frobnicate "" " checkpoint " 'clear\_stats' hints "hint pin 0 8" \
	"hint clear 0 2097152 pin 2048 16 nocache 4096 8 temp 8192 1" \
	"hint pin 0 8 temp 16"; do
	nm=$((nm + 1))
	printf 'm%s' "$m" >"$OUT/msg-$nm"
done
echo "mkseeds-args: $nt table lines, $nm messages"
[ "$nt" -gt 0 ] && [ "$nm" -gt 0 ]
