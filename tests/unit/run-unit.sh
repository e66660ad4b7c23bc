#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs every userspace unit test binary (and the ilioctl CLI tests), adds
# up their "N passed, N failed" lines and prints the total.  Any failing
# or crashing binary fails the run.
set -u
out=$1
here=$(cd "$(dirname "$0")" && pwd)
total_p=0 total_f=0 rc=0
run() {
	local name=$1; shift
	local log="$out/$name.log"
	"$@" >"$log" 2>&1
	local st=$?
	cat "$log"
	local line
	line=$(grep -E '^[A-Za-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "$name: no result line (exit $st)"
		total_f=$((total_f + 1)); rc=1; return
	fi
	local p f
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\1/')
	f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\2/')
	total_p=$((total_p + p)); total_f=$((total_f + f))
	if [ "$st" -ne 0 ] || [ "$f" -ne 0 ]; then
		[ "$f" -eq 0 ] && total_f=$((total_f + 1))
		rc=1
	fi
}
run test-args "$out/test-args"
run test-core "$out/test-core"
run test-plog "$out/test-plog"
run test-journal "$out/test-journal"
run test-check "$out/test-check"
run test-bounds "$out/test-bounds"
run test-class "$out/test-class"
run test-codec "$out/test-codec"
run test-mmp "$out/test-mmp"
# 8-bit hash: every scenario that writes varied content (the memory budget
# one is left out: 256 Ki chunks in 256 chains is quadratic, and proves
# nothing more about sharing).
run test-core-weakhash "$out/test-core-weakhash" hash_and_zero lz4_roundtrip \
	basic_rw dedup_refcount zero_blocks policy collisions forged_unkeyed \
	forged_any_key forged_leaked_key random_model \
	enospc alloc_failures concurrency ram_limit
# valgrind: the scenarios that exercise allocation and error paths.
if command -v valgrind >/dev/null; then
	run test-core-valgrind valgrind -q --error-exitcode=3 --leak-check=full \
		--errors-for-leak-kinds=definite "$out/test-core-valgrind" \
		hash_and_zero lz4_roundtrip basic_rw dedup_refcount zero_blocks \
		policy bad_params enospc alloc_failures ram_limit
else
	echo "valgrind missing: counted as a failure"; total_f=$((total_f + 1)); rc=1
fi
if [ -f "$here/test-ilioctl.sh" ]; then
	run test-ilioctl bash "$here/test-ilioctl.sh"
fi
run test-hints bash "$here/test-hints.sh"
run test-fields bash "$here/test-fields.sh"
run test-generator bash "$here/test-generator.sh"
run test-bench-plots bash "$here/test-bench-plots.sh"
run doc-commands python3 "$here/doc-commands.py"
echo "unit: $total_p passed, $total_f failed"
exit $rc
