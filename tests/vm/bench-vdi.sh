#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-vdi.sh - the persistent-mode half of "make bench" (issue 3): boots
# one VM (tests/vm/run.sh) that runs bench-vdi-guest.sh, the VDI workload
# over a slow backend (dm-delay over brd) on the raw backend, dm-writecache
# and ilio (coalesce always, auto); then prints the tables
# (bench-vdi-summary.sh) to build/vm/results/NAME/vdi-summary.txt beside the
# raw data (snaps.txt, fio-*.json, meta.txt, output.log, and for the plots
# ts-CONFIG.txt and bsz-CONFIG.hist). NAME is bench-vdi
# by default, and then the tables are also copied to
# build/vm/results/bench/vdi-summary.txt, next to the diskless summary.
#
# Usage: bench-vdi.sh [--mem MB] [--timeout S] [--name NAME] [GUEST ARGS...]
#   GUEST ARGS go to bench-vdi-guest.sh: --configs "raw wc always auto",
#   --ws MB, --ram-mb MB, --ios N, --delay MS, --sweep "1 4 16 64 256 0",
#   --sweep-s S, --sweep-configs "wc always auto", --budget S,
#   --ilio-back-mb MB.
#   --mem and --timeout default to the guest script's "# vm-args:" line.
#
# Targets are reported, never enforced: the exit code is run.sh's (non-zero
# only when the VM crashed or timed out, a device refused to come up, a
# fio run failed, or a flush check in the guest failed).

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GUEST="$REPO/tests/vm/bench-vdi-guest.sh"
read -ra VMARGS <<<"$(sed -n 's/^# vm-args://p' "$GUEST" | head -n 1)"
MEM=
TIMEOUT=
NAME=bench-vdi

while [ $# -gt 0 ]; do
	case "$1" in
	--mem) MEM=${2:?}; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--name) NAME=${2:?}; shift 2 ;;
	-h|--help) sed -n '4,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
	*) break ;;
	esac
done
[ -n "$MEM" ] && VMARGS+=(--mem "$MEM")
[ -n "$TIMEOUT" ] && VMARGS+=(--timeout "$TIMEOUT")

[ -x "$REPO/tools/ilioctl" ] || {
	echo "bench-vdi.sh: tools/ilioctl is not built (make tools)" >&2
	exit 2
}

RES="$REPO/build/vm/results/$NAME"
OUT="$REPO/build/vm/results/bench"
start=$(date +%s)
bash "$REPO/tests/vm/run.sh" "${VMARGS[@]}" --name "$NAME" "$GUEST" "$@"
rc=$?
elapsed=$(($(date +%s) - start))

if [ -s "$RES/snaps.txt" ]; then
	bash "$REPO/tests/vm/bench-vdi-summary.sh" "$RES" "$elapsed" >"$RES/vdi-summary.txt"
	echo
	cat "$RES/vdi-summary.txt"
	if [ "$NAME" = bench-vdi ]; then
		mkdir -p "$OUT"
		cp "$RES/vdi-summary.txt" "$OUT/vdi-summary.txt"
		echo "bench-vdi.sh: tables in $OUT/vdi-summary.txt; raw data in $RES/"
	else
		echo "bench-vdi.sh: tables and raw data in $RES/"
	fi
else
	echo "bench-vdi.sh: no snaps.txt in $RES" >&2
fi
if [ "$rc" != 0 ]; then
	echo "bench-vdi.sh: the VM run failed (rc=$rc); guest output:" >&2
	grep -E '^(FAIL|not ok)' "$RES/output.log" >&2 2>/dev/null
	tail -n 20 "$RES/output.log" >&2 2>/dev/null
fi
echo "bench-vdi.sh: VM run took ${elapsed}s"
exit "$rc"
