#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-one.sh - boot one VM for a guest benchmark script and print its
# summary: bench-hints.sh and bench-nfs.sh are this with their KIND.
#
# Usage: bench-one.sh KIND [--name NAME] [GUEST ARGS...]
#   runs tests/vm/bench-KIND-guest.sh (its "# vm-args:" line gives the VM's
#   options) and prints build/vm/results/NAME/KIND-summary.txt, also copied
#   to build/vm/results/bench/; NAME defaults to bench-KIND.
#
# Reported, never enforced: the exit code is non-zero only when the VM
# run failed (a crash, a timeout, a device that did not come up, data that
# read back wrong).

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KIND=${1:?usage: bench-one.sh KIND [--name NAME] [GUEST ARGS...]}
shift
GUEST="$REPO/tests/vm/bench-$KIND-guest.sh"
[ -f "$GUEST" ] || { echo "bench-one.sh: no $GUEST" >&2; exit 2; }
read -ra VMARGS <<<"$(sed -n 's/^# vm-args://p' "$GUEST" | head -n 1)"
NAME=bench-$KIND
if [ "${1:-}" = --name ]; then
	NAME=${2:?}
	shift 2
fi
SUM=$KIND-summary.txt
start=$(date +%s)
bash "$REPO/tests/vm/run.sh" "${VMARGS[@]}" --name "$NAME" "$GUEST" "$@"
rc=$?
RES="$REPO/build/vm/results/$NAME"
if [ -s "$RES/$SUM" ]; then
	echo
	cat "$RES/$SUM"
	mkdir -p "$REPO/build/vm/results/bench"
	cp "$RES/$SUM" "$REPO/build/vm/results/bench/$SUM"
else
	echo "bench-$KIND.sh: no $SUM in $RES" >&2
	tail -n 20 "$RES/output.log" >&2 2>/dev/null
fi
echo "bench-$KIND.sh: VM run took $(($(date +%s) - start))s"
exit "$rc"
