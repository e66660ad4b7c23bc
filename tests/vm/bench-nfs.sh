#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-nfs.sh - issue 11's NFS figures (part of "make bench"): boots one
# VM that runs bench-nfs-guest.sh (sync and async NFS writes, with and
# without a journal device) and prints its table,
# build/vm/results/NAME/nfs-summary.txt (raw data in nfs.csv beside it;
# NAME is bench-nfs unless --name says).
#
# Usage: bench-nfs.sh [--name NAME] [--size MB]
#
# Reported, never enforced: the exit code is non-zero only when the VM
# run failed (a crash, a timeout, a device that did not come up, data that
# read back wrong).

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GUEST="$REPO/tests/vm/bench-nfs-guest.sh"
read -ra VMARGS <<<"$(sed -n 's/^# vm-args://p' "$GUEST" | head -n 1)"
NAME=bench-nfs
if [ "${1:-}" = --name ]; then
	NAME=${2:?}
	shift 2
fi
start=$(date +%s)
bash "$REPO/tests/vm/run.sh" "${VMARGS[@]}" --name "$NAME" "$GUEST" "$@"
rc=$?
RES="$REPO/build/vm/results/$NAME"
if [ -s "$RES/nfs-summary.txt" ]; then
	echo
	cat "$RES/nfs-summary.txt"
	mkdir -p "$REPO/build/vm/results/bench"
	cp "$RES/nfs-summary.txt" "$REPO/build/vm/results/bench/nfs-summary.txt"
else
	echo "bench-nfs.sh: no nfs-summary.txt in $RES" >&2
	tail -n 20 "$RES/output.log" >&2 2>/dev/null
fi
echo "bench-nfs.sh: VM run took $(($(date +%s) - start))s"
exit "$rc"
