#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-all.sh - run the VM test suite: every tests/vm/t-*.sh in its own VM boot
# (a crash in one test cannot take the others down; a boot costs ~10 s).
#
# Usage: run-all.sh [--no-selftest] [PATTERN...]
#   PATTERN   run only tests whose file name contains one of the patterns
#   --no-selftest  skip the harness negative controls (see below)
#
# A test may ask for VM options with a comment line "# vm-args: ..." (e.g.
# --mem 3072 --timeout 600 --disk scratch:256), passed to run.sh as is.
# A test with the line "# vm-driver: host" runs on the host instead (it boots
# its VMs itself through run.sh, e.g. twice around a power cut); its output
# goes to build/vm/results/NAME/output.log and ends in the same closing line.
#
# Negative controls: before the tests, three boots prove that run.sh fails a
# run whose kernel crashes, whose script hangs, and whose kernel log has a
# WARNING (t-00-harness.sh crash|hang|warn). Each counts as one assertion.
# The hang boot runs beside the other two (it idles until its timeout).
#
# Output: per-test result lines, then exactly "N passed, N failed" totalled
# over all assertions. A run that fails without a failed assertion (panic,
# timeout, oops, no closing line) adds one failure. Exit 1 on any failure.

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM="$REPO/tests/vm"
SELFTEST=1
PATTERNS=()

while [ $# -gt 0 ]; do
	case "$1" in
	--no-selftest) SELFTEST=0; shift ;;
	-h|--help) sed -n '4,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
	*) PATTERNS+=("$1"); shift ;;
	esac
done

TOTAL_PASS=0
TOTAL_FAIL=0
SUMMARY=()
suite_start=$(date +%s)

# Negative control: NAME ARG EXPECTED_RC [run.sh options...]
selftest() {
	local name=$1 arg=$2 want=$3 rc
	shift 3
	"$VM/run.sh" --quiet --name "$name" "$@" "$VM/t-00-harness.sh" "$arg" >/dev/null 2>&1
	rc=$?
	selftest_result "$name" "$want" "$rc"
}

selftest_result() {
	local name=$1 want=$2 rc=$3
	if [ "$rc" = "$want" ]; then
		TOTAL_PASS=$((TOTAL_PASS + 1))
		SUMMARY+=("PASS $name (run.sh failed the run with rc=$rc as it must)")
	else
		TOTAL_FAIL=$((TOTAL_FAIL + 1))
		SUMMARY+=("FAIL $name (run.sh gave rc=$rc, expected $want; log build/vm/logs/$name.log)")
	fi
	echo "${SUMMARY[-1]}"
}

if [ "$SELFTEST" = 1 ] && [ "${#PATTERNS[@]}" = 0 ]; then
	echo "=== harness negative controls"
	# The hang control idles in the guest until its 25 s timeout: it runs
	# beside the other two (a hang stays a hang however slow the boot).
	"$VM/run.sh" --quiet --name selftest-hang --mem 512 --timeout 25 \
		"$VM/t-00-harness.sh" hang >/dev/null 2>&1 &
	hang_pid=$!
	selftest selftest-crash crash 125 --mem 512 --timeout 120
	selftest selftest-warn warn 126 --mem 512 --timeout 120
	wait "$hang_pid"
	selftest_result selftest-hang 124 $?
fi

for t in "$VM"/t-*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	if [ "${#PATTERNS[@]}" -gt 0 ]; then
		match=0
		for p in "${PATTERNS[@]}"; do
			case "$name" in *"$p"*) match=1 ;; esac
		done
		[ "$match" = 1 ] || continue
	fi
	# shellcheck disable=SC2207
	args=($(sed -n 's/^# vm-args://p' "$t" | head -n 1))
	echo "=== $name ${args[*]}"
	t0=$(date +%s)
	if grep -q '^# vm-driver: host$' "$t"; then
		mkdir -p "$REPO/build/vm/results/$name"
		bash "$t" 2>&1 | tee "$REPO/build/vm/results/$name/output.log"
		rc=${PIPESTATUS[0]}
	else
		"$VM/run.sh" "${args[@]}" "$t"
		rc=$?
	fi
	dt=$(($(date +%s) - t0))
	out="$REPO/build/vm/results/$name/output.log"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" 2>/dev/null | tail -n 1)
	p=0
	f=0
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*, }
		f=${f%% failed}
	fi
	# The run failed but no assertion says so: count the run itself.
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
	fi
	if [ "$rc" = 0 ] && [ -z "$line" ]; then
		f=$((f + 1))
		echo "run-all: $name printed no closing 'N passed, N failed' line" >&2
	fi
	TOTAL_PASS=$((TOTAL_PASS + p))
	TOTAL_FAIL=$((TOTAL_FAIL + f))
	if [ "$f" = 0 ]; then
		SUMMARY+=("PASS $name: $p passed (${dt}s)")
	else
		SUMMARY+=("FAIL $name: $p passed, $f failed, rc=$rc (${dt}s; log build/vm/logs/$name.log)")
	fi
done

echo
echo "=== VM suite summary ($(($(date +%s) - suite_start))s)"
printf '%s\n' "${SUMMARY[@]+"${SUMMARY[@]}"}"
if [ $((TOTAL_PASS + TOTAL_FAIL)) = 0 ]; then
	echo "run-all: no test ran" >&2
	TOTAL_FAIL=1
fi
echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_FAIL" = 0 ]
