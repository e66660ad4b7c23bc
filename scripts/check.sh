#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - the whole test suite, as "make check" runs it (after make deps):
# unit tests of the core, a fuzz smoke run, the build, packaging
# (tests/pkg), lint, then the module in a booted VM.
# Every stage runs even if an earlier one failed (except that the VM stage
# needs the build).  Each stage ends in "N passed, N failed"; the last line
# is the grand total, and the exit status is non-zero on any failure.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 1
mkdir -p build
total_p=0 total_f=0

# stage NAME CMD...: run, show output, add its last "N passed, N failed".
stage() {
	local name=$1 log="build/check-$1.log" rc line p f
	shift
	echo "=== $name"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
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
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	echo "=== $name: exit $rc ($p passed, $f failed)"
	return "$rc"
}

# 45 s of libFuzzer on the metadata validators and on recovery from damaged
# images.  It is time-based and takes one core, so it runs beside the unit
# tests and the crash checker (the other core), and is reported after them.
bash tests/fuzz/smoke.sh >build/check-fuzz-run.log 2>&1 &
fuzz_pid=$!
stage unit make -C tests/unit check
# The crash-consistency checker's own self-test (no kernel: a file is the device).
stage crashcheck make -C tests/crash check
wait "$fuzz_pid"
fuzz_rc=$?
stage fuzz sh -c 'cat build/check-fuzz-run.log; exit "$1"' sh "$fuzz_rc"
if stage build make all; then
	# Packaging on the host: version, make install, udev rule, man pages, DKMS.
	stage pkg bash tests/pkg/test-pkg.sh
	stage lint bash scripts/lint.sh
	stage vm bash tests/vm/run-all.sh
else
	stage lint bash scripts/lint.sh
	echo "=== vm: not run, the build failed"
	total_f=$((total_f + 1))
fi
echo "check: $total_p passed, $total_f failed"
[ "$total_f" = 0 ]
