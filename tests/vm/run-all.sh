#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-all.sh - run the VM test suite: every tests/vm/t-*.sh in its own VM boot
# (a crash in one test cannot take the others down; a boot costs ~10 s).
#
# Usage: run-all.sh [--no-selftest] [--jobs N] [--smp N] [PATTERN...]
#   PATTERN   run only tests whose file name contains one of the patterns
#   --no-selftest  skip the harness negative controls (see below)
#   --jobs N  run N tests at a time (default: 2 on a host with 2 or more
#             CPUs, else 1; ILIO_VM_JOBS= sets the default)
#   --smp N   guest CPUs for tests that do not ask for their own (default 1,
#             see Lanes; ILIO_VM_SMP= sets the default)
#
# A test may ask for VM options with a comment line "# vm-args: ..." (e.g.
# --mem 3072 --timeout 600 --disk scratch:256), passed to run.sh as is.
# A test with the line "# vm-driver: host" runs on the host instead (it boots
# its VMs itself through run.sh, e.g. twice around a power cut); its output
# goes to build/vm/results/NAME/output.log and ends in the same closing line.
# The line "# vm-time: S" is the test's run time in seconds in one lane on
# the two-core host (an estimate; it only orders the queue, see Lanes).
#
# Lanes: on a two-core host two tests run side by side, each in its own boot
# with its own disks, results and logs (run.sh keeps them apart by test
# name; the initramfs is built once before the lanes start).  The longest
# tests start first (by vm-time; a test without one counts as long), so
# that the lanes end together.  With more than one lane each test's output is printed when it
# ends, in one block; with --jobs 1 it streams live, as before.  The tests'
# timing assertions hold with a lane beside them: they compare against a
# peer in the same boot (t-32: against dm-delay's delay; t-34: flushes
# against fio's own count of writes in its 20 s) or leave wide margins
# (t-18: 60 s for what takes ~2 s), and every vm-args --timeout is at least
# twice the test's vm-time.
#
# Guest CPUs: one per guest by default, so that two lanes are two busy
# vCPU threads on two cores.  With two vCPUs per guest (QEMU's multi-threaded
# TCG) two lanes put four vCPU threads on two cores, and a guest whose other
# vCPU is descheduled waits for it (TLB shootdowns, IPIs, locks held by the
# stalled vCPU): t-14, t-20 and t-22 took 1.6-2.1x as long as with one vCPU
# each.  Tests that are about concurrency in the kernel (t-10's readers
# beside writers, t-25's check beside four fio jobs) ask for --smp 2 in
# their vm-args; host-driven tests pass run.sh what they need and get
# ILIO_VM_SMP otherwise.
#
# Negative controls: before the tests, three boots prove that run.sh fails a
# run whose kernel crashes, whose script hangs, and whose kernel log has a
# WARNING (t-00-harness.sh crash|hang|warn). Each counts as one assertion.
# The hang boot runs beside the others without taking a lane (it idles
# until its timeout).
#
# Output: per-test result lines, then exactly "N passed, N failed" totalled
# over all assertions. A run that fails without a failed assertion (panic,
# timeout, oops, no closing line) adds one failure. Exit 1 on any failure.

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM="$REPO/tests/vm"
VMDIR="$REPO/build/vm"
SELFTEST=1
PATTERNS=()
if [ -n "${ILIO_VM_JOBS:-}" ]; then
	JOBS=$ILIO_VM_JOBS
elif [ "$(nproc 2>/dev/null || echo 1)" -ge 2 ]; then
	JOBS=2
else
	JOBS=1
fi

while [ $# -gt 0 ]; do
	case "$1" in
	--no-selftest) SELFTEST=0; shift ;;
	--jobs) JOBS=${2:?}; shift 2 ;;
	--smp) ILIO_VM_SMP=${2:?}; shift 2 ;;
	-h|--help) sed -n '4,53p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
	*) PATTERNS+=("$1"); shift ;;
	esac
done
case "$JOBS" in
''|*[!0-9]*|0) echo "run-all: --jobs wants a positive number, not '$JOBS'" >&2; exit 2 ;;
esac
export ILIO_VM_SMP=${ILIO_VM_SMP:-1}
case "$ILIO_VM_SMP" in
''|*[!0-9]*|0) echo "run-all: --smp wants a positive number, not '$ILIO_VM_SMP'" >&2; exit 2 ;;
esac

TOTAL_PASS=0
TOTAL_FAIL=0
SUMMARY=()
suite_start=$(date +%s)
mkdir -p "$VMDIR/logs" "$VMDIR/results"
# Built once here: two run.sh starting together would both build it (each
# into its own temporary file, so safe, but twice).
"$VM/mkinitramfs.sh" >/dev/null || exit 1

# --- the tests: which, in what order --------------------------------------------

# vm_time FILE: the test's "# vm-time:" estimate, or 100000 when it has none
# (an unknown test is queued first rather than left to finish alone).
vm_time() {
	local s
	s=$(sed -n 's/^# vm-time: *\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
	echo "${s:-100000}"
}

TESTS=()
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
	TESTS+=("$name")
done
# Longest first (ties by name); with one lane the order does not matter, so
# keep the file order there.
QUEUE=()
if [ "$JOBS" -gt 1 ]; then
	while read -r _ name; do
		QUEUE+=("$name")
	done < <(for name in "${TESTS[@]+"${TESTS[@]}"}"; do
		echo "$(vm_time "$VM/$name.sh") $name"
	done | sort -k1,1nr -k2,2)
else
	QUEUE=("${TESTS[@]+"${TESTS[@]}"}")
fi

# --- running one job --------------------------------------------------------------

# Each job runs in a subshell and leaves "RC SECONDS" in $VMDIR/logs/NAME.res;
# with more than one lane its output goes to $VMDIR/logs/NAME.out, printed
# by the main loop when the job is done.
LIVE=0
[ "$JOBS" = 1 ] && LIVE=1

# run_selftest NAME ARG: boot a negative control (output is not shown).
run_selftest() {
	local name=$1 arg=$2 t0=$SECONDS rc
	"$VM/run.sh" --quiet --name "$name" --mem 512 --timeout 120 \
		"$VM/t-00-harness.sh" "$arg" >/dev/null 2>&1
	rc=$?
	echo "$rc $((SECONDS - t0))" >"$VMDIR/logs/$name.res"
}

# run_test NAME: one t-*.sh, in a VM (run.sh) or on the host (vm-driver).
run_test() {
	local name=$1 t="$VM/$1.sh" t0=$SECONDS rc quiet=()
	local -a args
	# shellcheck disable=SC2207
	args=($(sed -n 's/^# vm-args://p' "$t" | head -n 1))
	[ "$LIVE" = 1 ] && echo "=== $name ${args[*]}"
	if grep -q '^# vm-driver: host$' "$t"; then
		mkdir -p "$VMDIR/results/$name"
		if [ "$LIVE" = 1 ]; then
			bash "$t" 2>&1 | tee "$VMDIR/results/$name/output.log"
			rc=${PIPESTATUS[0]}
		else
			bash "$t" >"$VMDIR/results/$name/output.log" 2>&1
			rc=$?
			cat "$VMDIR/results/$name/output.log"
		fi
	else
		[ "$LIVE" = 1 ] || quiet=(--quiet)
		# run.sh takes its default --smp from ILIO_VM_SMP; the test's
		# own vm-args --smp wins.
		"$VM/run.sh" "${quiet[@]+"${quiet[@]}"}" "${args[@]}" "$t"
		rc=$?
	fi
	echo "$rc $((SECONDS - t0))" >"$VMDIR/logs/$name.res"
}

# --- the results ----------------------------------------------------------------

selftest_result() {
	local name=$1 want=$2 rc dt
	read -r rc dt <"$VMDIR/logs/$name.res" 2>/dev/null || rc=none
	if [ "$rc" = "$want" ]; then
		TOTAL_PASS=$((TOTAL_PASS + 1))
		SUMMARY+=("PASS $name (run.sh failed the run with rc=$rc as it must)")
	else
		TOTAL_FAIL=$((TOTAL_FAIL + 1))
		SUMMARY+=("FAIL $name (run.sh gave rc=$rc, expected $want; log build/vm/logs/$name.log)")
	fi
	echo "${SUMMARY[-1]}"
}

# test_result NAME: count the test's closing line and exit status.
test_result() {
	local name=$1 rc dt line p=0 f=0 out="$VMDIR/results/$1/output.log"
	local -a args
	read -r rc dt <"$VMDIR/logs/$name.res" 2>/dev/null || { rc=none; dt=-; }
	if [ "$LIVE" = 0 ]; then
		# shellcheck disable=SC2207
		args=($(sed -n 's/^# vm-args://p' "$VM/$name.sh" | head -n 1))
		echo "=== $name ${args[*]}"
		cat "$VMDIR/logs/$name.out" 2>/dev/null
	fi
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" 2>/dev/null | tail -n 1)
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
		RESULT[$name]="PASS $name: $p passed (${dt}s)"
	else
		RESULT[$name]="FAIL $name: $p passed, $f failed, rc=$rc (${dt}s; log build/vm/logs/$name.log)"
	fi
}

# --- the lanes ------------------------------------------------------------------

declare -A RESULT=() JOB_OF=()
running=0

# start KIND NAME [ARG]: start a job in the background (one lane).
start() {
	local kind=$1 name=$2
	rm -f "$VMDIR/logs/$name.res" "$VMDIR/logs/$name.out"
	if [ "$LIVE" = 1 ]; then
		"run_$kind" "$name" "${3:-}" &
	else
		"run_$kind" "$name" "${3:-}" >"$VMDIR/logs/$name.out" 2>&1 &
	fi
	JOB_OF[$!]="$kind $name ${3:-}"
	running=$((running + 1))
}

# reap: wait for a job to end and report it (the hang control too, which
# is not one of the lanes).
reap() {
	local pid rc kind name arg
	wait -n -p pid
	rc=$?
	[ -n "${pid:-}" ] || return 1
	if [ "$pid" = "$hang_pid" ]; then
		echo "$rc -" >"$VMDIR/logs/selftest-hang.res"
		hang_pid=
		selftest_result selftest-hang 124
		return 0
	fi
	read -r kind name arg <<<"${JOB_OF[$pid]}"
	unset "JOB_OF[$pid]"
	running=$((running - 1))
	case "$kind" in
	selftest)
		case "$arg" in
		crash) selftest_result "$name" 125 ;;
		warn) selftest_result "$name" 126 ;;
		esac
		;;
	test) test_result "$name" ;;
	esac
}

hang_pid=
if [ "$SELFTEST" = 1 ] && [ "${#PATTERNS[@]}" = 0 ]; then
	echo "=== harness negative controls"
	# The hang control idles in the guest until its 25 s timeout: it runs
	# beside the others and takes no lane (a hang stays a hang however slow
	# the boot).
	rm -f "$VMDIR/logs/selftest-hang.res"
	"$VM/run.sh" --quiet --name selftest-hang --mem 512 --timeout 25 \
		"$VM/t-00-harness.sh" hang >/dev/null 2>&1 &
	hang_pid=$!
	start selftest selftest-crash crash
	while [ "$running" -ge "$JOBS" ]; do
		reap || break
	done
	start selftest selftest-warn warn
fi

for name in "${QUEUE[@]+"${QUEUE[@]}"}"; do
	while [ "$running" -ge "$JOBS" ]; do
		reap || break
	done
	start test "$name"
done
while [ "$running" -gt 0 ] || [ -n "$hang_pid" ]; do
	reap || break
done

echo
echo "=== VM suite summary ($(($(date +%s) - suite_start))s, $JOBS lane(s))"
for name in "${TESTS[@]+"${TESTS[@]}"}"; do
	SUMMARY+=("${RESULT[$name]:-FAIL $name: not run}")
	[ -n "${RESULT[$name]:-}" ] || TOTAL_FAIL=$((TOTAL_FAIL + 1))
done
printf '%s\n' "${SUMMARY[@]+"${SUMMARY[@]}"}"
if [ $((TOTAL_PASS + TOTAL_FAIL)) = 0 ]; then
	echo "run-all: no test ran" >&2
	TOTAL_FAIL=1
fi
echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_FAIL" = 0 ]
