#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - the VM half of "make bench": boots one VM (tests/vm/run.sh) that
# runs bench-guest.sh, which measures a diskless ilio device against zram
# (lz4) and brd with fio in that same boot; then prints the comparison
# (bench-summary.sh) and writes it to build/vm/results/bench/summary.txt,
# next to the raw fio.csv, ram.csv and ram-ts.csv and the guest's
# output.log.
#
# Usage: bench.sh [--mem MB] [--timeout S] [--name NAME] [GUEST ARGS...]
#   GUEST ARGS go to bench-guest.sh: --size MB, --jobs "1 2", --bs "4k 64k",
#   --data "unique comp50 dup80", --rounds N, --read-ms MS, --budget S.
#
# Performance targets are reported, never enforced: the exit code is
# run.sh's (non-zero only when the VM crashed, timed out, or a fio run or
# a sanity check in the guest failed).

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MEM=4096
TIMEOUT=1080
NAME=bench

while [ $# -gt 0 ]; do
	case "$1" in
	--mem) MEM=${2:?}; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--name) NAME=${2:?}; shift 2 ;;
	-h|--help) sed -n '4,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
	*) break ;;
	esac
done

[ -f "$REPO/dm-ilio/dm-ilio.ko" ] || {
	echo "bench.sh: dm-ilio/dm-ilio.ko is not built (make module)" >&2
	exit 2
}

RES="$REPO/build/vm/results/$NAME"
start=$(date +%s)
bash "$REPO/tests/vm/run.sh" --mem "$MEM" --timeout "$TIMEOUT" --name "$NAME" \
	"$REPO/tests/vm/bench-guest.sh" "$@"
rc=$?
elapsed=$(($(date +%s) - start))

if [ -s "$RES/fio.csv" ] && [ -s "$RES/ram.csv" ]; then
	bash "$REPO/tests/vm/bench-summary.sh" "$RES" "$elapsed" >"$RES/summary.txt"
	echo
	cat "$RES/summary.txt"
	echo "bench.sh: results in $RES/ (summary.txt, fio.csv, ram.csv, output.log)"
else
	echo "bench.sh: no fio.csv/ram.csv in $RES" >&2
fi
if [ "$rc" != 0 ]; then
	echo "bench.sh: the VM run failed (rc=$rc); guest output:" >&2
	tail -n 30 "$RES/output.log" >&2 2>/dev/null
fi
echo "bench.sh: VM run took ${elapsed}s"
exit "$rc"
