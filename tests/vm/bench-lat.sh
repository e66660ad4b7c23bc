#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-lat.sh - latency and IOPS against zram, dm-linear over brd and
# dm-writecache (issue 9's targets), part of "make bench": boots one VM
# (tests/vm/run.sh) that runs bench-lat-guest.sh, then prints the same-round
# ratios (bench-lat-summary.py) and writes them to
# build/vm/results/NAME/summary.txt next to the raw lat.csv.
#
# Usage: bench-lat.sh [--mem MB] [--timeout S] [--name NAME] [GUEST ARGS...]
#   GUEST ARGS go to bench-lat-guest.sh: --rounds N, --runtime S, --size MB,
#   --delay-ms MS, --journal, --only ram|pers.
#
# Targets are reported, never enforced: the exit code is run.sh's.

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MEM=3072
TIMEOUT=2400
NAME=bench-lat

while [ $# -gt 0 ]; do
	case "$1" in
	--mem) MEM=${2:?}; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--name) NAME=${2:?}; shift 2 ;;
	-h|--help) sed -n '4,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
	*) break ;;
	esac
done

[ -f "$REPO/dm-ilio/dm-ilio.ko" ] || {
	echo "bench-lat.sh: dm-ilio/dm-ilio.ko is not built (make module)" >&2
	exit 2
}
RES="$REPO/build/vm/results/$NAME"
start=$(date +%s)
bash "$REPO/tests/vm/run.sh" --mem "$MEM" --timeout "$TIMEOUT" --name "$NAME" \
	"$REPO/tests/vm/bench-lat-guest.sh" "$@"
rc=$?
elapsed=$(($(date +%s) - start))
if [ -s "$RES/lat.csv" ]; then
	python3 "$REPO/tests/vm/bench-lat-summary.py" "$RES/lat.csv" >"$RES/summary.txt"
	cat "$RES/summary.txt"
	echo "bench-lat.sh: results in $RES/ (summary.txt, lat.csv, output.log)"
else
	echo "bench-lat.sh: no lat.csv in $RES" >&2
fi
[ "$rc" = 0 ] || { echo "bench-lat.sh: the VM run failed (rc=$rc)" >&2; tail -n 30 "$RES/output.log" >&2; }
echo "bench-lat.sh: VM run took ${elapsed}s"
exit "$rc"
