#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - the whole test suite, as "make check" runs it (after make deps):
# unit tests of the core, a fuzz smoke run, the crash checker's self-test,
# the build, packaging (tests/pkg), lint, then the module in a booted VM.
# Every stage runs even if an earlier one failed (except that pkg and the VM
# stage need the build).  Each stage ends in "N passed, N failed"; the last
# line is the grand total, and the exit status is non-zero on any failure.
#
# The build comes first, alone: the unit tests (test-ilioctl.sh), packaging
# and the VM suite use what it built.  Then three things run side by side:
#
#   * packaging (tests/pkg), then the VM suite (tests/vm/run-all.sh: two
#     tests at a time, one vCPU each, so its lanes take both cores), at the
#     normal priority; packaging goes first because it installs the module
#     with DKMS into this host's /lib/modules, which is the guests' root
#     file system, and removes it again;
#   * the unit tests, in the foreground (output live), at nice 10;
#   * the fuzz smoke run (time based, so at the normal priority: it gets
#     the CPU it had before, for about two minutes beside the lanes), then
#     the crash checker's self-test and lint at nice 10, their output
#     shown when they are done.
#
# The host stages used to run before the VM suite, on both cores for about
# five minutes, while the guests leave about an eighth of the two cores
# idle (sleeps, waits for timers and heartbeats, the lanes' uneven ends):
# at nice 10 the deterministic ones take mostly that idle time, and a
# guest that wants its core gets ten times their share of it.  nice 10 rather than 19, because a
# few host checks measure wall time (test-bounds: a replay in under 3 s).
# The VM suite's output is shown when it ends.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 1
mkdir -p build
total_p=0 total_f=0
check_start=$(date +%s)

# stage NAME CMD...: run CMD with its output in build/check-NAME.log (and on
# stdout unless QUIET=1), and record its exit status and its last "N passed,
# N failed" in build/check-NAME.result for count NAME.
stage() {
	local name=$1 log="build/check-$1.log" rc line p f t0
	shift
	t0=$(date +%s)
	if [ "${QUIET:-0}" = 1 ]; then
		"$@" >"$log" 2>&1
		rc=$?
	else
		echo "=== $name"
		"$@" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
	fi
	line=$(grep -E '([0-9]+) passed, ([0-9]+) failed' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
		f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
	else
		p=0 f=0
	fi
	# A failing stage counts at least one failure, whatever it printed.
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
	fi
	echo "$rc $p $f $(($(date +%s) - t0))" >"build/check-$name.result"
	return "$rc"
}

# count NAME [show]: add stage NAME's result to the totals and print its
# closing line; with "show", print its log first (a background stage).
count() {
	local name=$1 rc p f dt
	if [ "${2:-}" = show ]; then
		echo "=== $name"
		cat "build/check-$name.log"
	fi
	if ! read -r rc p f dt <"build/check-$name.result" 2>/dev/null; then
		rc=none p=0 f=1 dt=-
	fi
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	echo "=== $name: exit $rc ($p passed, $f failed, ${dt}s)"
	[ "$rc" = 0 ]
}

rm -f build/check-*.result
# -j2: the module and the tools build side by side.
stage build make -j2 all
count build
build_ok=$?

vm_pid=
if [ "$build_ok" = 0 ]; then
	(
		QUIET=1
		# Packaging on the host: version, make install, udev rule, man
		# pages, DKMS.
		stage pkg bash tests/pkg/test-pkg.sh
		stage vm bash tests/vm/run-all.sh
	) &
	vm_pid=$!
fi
(
	QUIET=1
	# The fuzz smoke run is time based (45 s): at the normal priority,
	# so that it does as many executions as before.
	stage fuzz bash tests/fuzz/smoke.sh
	# The crash-consistency checker's own self-test (no kernel: a file is
	# the device).
	stage crashcheck nice -n 10 make -C tests/crash check
	stage lint nice -n 10 bash scripts/lint.sh
) &
lane_pid=$!
stage unit nice -n 10 make -C tests/unit -j2 check
count unit
wait "$lane_pid"
count fuzz show
count crashcheck show
count lint show
if [ "$build_ok" = 0 ]; then
	wait "$vm_pid"
	count pkg show
	count vm show
else
	echo "=== pkg, vm: not run, the build failed"
	total_f=$((total_f + 1))
fi
echo "=== check took $(($(date +%s) - check_start))s"
echo "check: $total_p passed, $total_f failed"
[ "$total_f" = 0 ]
