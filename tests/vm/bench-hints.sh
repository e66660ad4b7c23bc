#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-hints.sh - issue 12's desktop mix with and without region class
# hints (part of "make bench"): boots one VM that runs bench-hints-guest.sh
# and prints its table, build/vm/results/NAME/hints-summary.txt (raw data
# in hints.csv beside it; NAME is bench-hints unless --name says).
#
# Usage: bench-hints.sh [--name NAME] [GUEST ARGS...]
#   GUEST ARGS go to bench-hints-guest.sh: --ram-mb MB, --bin-mb MB,
#   --temp-mb MB, --rounds N, --runs N.
#
# Reported, never enforced: the exit code is non-zero only when the VM
# run failed (a crash, a timeout, a device that did not come up, data that
# read back wrong).

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GUEST="$REPO/tests/vm/bench-hints-guest.sh"
read -ra VMARGS <<<"$(sed -n 's/^# vm-args://p' "$GUEST" | head -n 1)"
NAME=bench-hints
if [ "${1:-}" = --name ]; then
	NAME=${2:?}
	shift 2
fi
start=$(date +%s)
bash "$REPO/tests/vm/run.sh" "${VMARGS[@]}" --name "$NAME" "$GUEST" "$@"
rc=$?
RES="$REPO/build/vm/results/$NAME"
if [ -s "$RES/hints-summary.txt" ]; then
	echo
	cat "$RES/hints-summary.txt"
	mkdir -p "$REPO/build/vm/results/bench"
	cp "$RES/hints-summary.txt" "$REPO/build/vm/results/bench/hints-summary.txt"
else
	echo "bench-hints.sh: no hints-summary.txt in $RES" >&2
	tail -n 20 "$RES/output.log" >&2 2>/dev/null
fi
echo "bench-hints.sh: VM run took $(($(date +%s) - start))s"
exit "$rc"
