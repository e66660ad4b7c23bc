#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - build, seed and run the dm-ilio fuzz targets for SECONDS in all.
#
# Usage: tests/fuzz/run.sh [SECONDS]     (default: $FUZZ_SECONDS or 300)
#
# Steps, each one assertion ("ok:"/"FAIL:" lines, then "fuzz: N passed,
# N failed"; exit 1 on any failure - a crash, leak, timeout or OOM of a
# target fails the run):
#   1. build fuzz-meta, fuzz-codec, fuzz-open and their seed builders
#      (tests/fuzz/Makefile)
#   2. mkseeds-meta: valid superblocks/anchors/units from ilio-meta's builders
#      must pass ilio-meta's validators; mkseeds-codec: the same for records,
#      summary entries, checkpoint leaves and locations
#   3. mkseeds-open: images written by the core (crash and clean close, with
#      checkpoints, overwrites, discards, GC) must recover exactly to their
#      last flush when opened read-only - then they are the seed corpus
#   4. replay every seed through the targets once
#   5. fuzz fuzz-meta for 1/4 of SECONDS, fuzz-codec for 1/10 and fuzz-open
#      for the rest
#   6. fuzz-args (table lines and messages, seeded by mkseeds-args.sh from
#      the lines in the docs and tests): FUZZ_ARGS_RUNS executions
#      (default 1200000; the step fails if fewer ran), outside SECONDS
# Corpora grow in build/fuzz/corpus-* across runs (FUZZ_FRESH=1 starts from
# the seeds alone, as smoke.sh does); crashes are saved in
# build/fuzz/artifacts/ and the line to reproduce one is printed.

set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT="$REPO/build/fuzz"
SECS=${1:-${FUZZ_SECONDS:-300}}
case "$SECS" in
'' | *[!0-9]*) echo "run.sh: not a number of seconds: $SECS" >&2; exit 2 ;;
esac
P=0
F=0
ok() { P=$((P + 1)); echo "ok: $*"; }
bad() { F=$((F + 1)); echo "FAIL: $*"; }
done_() {
	echo "fuzz: $P passed, $F failed"
	[ "$F" = 0 ]
	exit
}

# step NAME CMD...: run CMD, log to build/fuzz/NAME.log, count it.
step() {
	local name=$1 log="$OUT/$1.log" rc
	shift
	"$@" >"$log" 2>&1
	rc=$?
	if [ "$rc" = 0 ]; then
		ok "$name"
		return 0
	fi
	bad "$name (exit $rc): tail of $log:"
	tail -n 30 "$log" | sed 's/^/  | /'
	return 1
}

command -v clang >/dev/null || { bad "clang not installed"; done_; }
[ "${FUZZ_FRESH:-0}" = 1 ] && rm -rf "$OUT/corpus-meta" "$OUT/corpus-codec" "$OUT/corpus-open" \
	"$OUT/corpus-args"
mkdir -p "$OUT/artifacts" "$OUT/corpus-meta" "$OUT/corpus-codec" "$OUT/corpus-open" \
	"$OUT/corpus-args"
step build-meta make -C "$REPO/tests/fuzz" meta || done_
codec_ok=1
step build-codec make -C "$REPO/tests/fuzz" codec || codec_ok=0
open_ok=1
step build-open make -C "$REPO/tests/fuzz" open || open_ok=0
args_ok=1
step build-args make -C "$REPO/tests/fuzz" args || args_ok=0

rm -rf "$OUT/seeds-meta" "$OUT/seeds-codec" "$OUT/seeds-open" "$OUT/seeds-args"
mkdir -p "$OUT/seeds-meta" "$OUT/seeds-codec" "$OUT/seeds-open" "$OUT/seeds-args"
step seeds-meta "$OUT/mkseeds-meta" "$OUT/seeds-meta"
[ "$codec_ok" = 1 ] && step seeds-codec "$OUT/mkseeds-codec" "$OUT/seeds-codec"
if [ "$open_ok" = 1 ]; then
	step seeds-open "$OUT/mkseeds-open" "$OUT/seeds-open" &&
		grep -h 'mkseeds-open:' "$OUT/seeds-open.log" | sed 's/^/  /'
fi
if [ "$args_ok" = 1 ]; then
	step seeds-args bash "$REPO/tests/fuzz/mkseeds-args.sh" "$OUT/seeds-args" &&
		grep -h 'mkseeds-args:' "$OUT/seeds-args.log" | sed 's/^/  /'
fi

# fuzz TARGET SECONDS MAX_LEN: one libFuzzer run over corpus + seeds.
fuzz() {
	local t=$1 secs=$2 maxlen=$3 log="$OUT/$1.log" art
	if [ "$secs" -lt 1 ]; then
		secs=1
	fi
	"$OUT/$t" -max_total_time="$secs" -max_len="$maxlen" -timeout=20 \
		-rss_limit_mb=2560 -print_final_stats=1 \
		-artifact_prefix="$OUT/artifacts/$t-" \
		"$OUT/corpus-${t#fuzz-}" "$OUT/seeds-${t#fuzz-}" >"$log" 2>&1
	local rc=$?
	local stats
	stats=$(grep -E '^#[0-9]+.*DONE' "$log" | tail -n 1)
	if [ "$rc" = 0 ]; then
		ok "$t: ${secs}s, ${stats:-no stats}"
		return
	fi
	bad "$t: libFuzzer exit $rc after a finding; tail of $log:"
	grep -E 'ERROR|SUMMARY|fuzz-open:|fuzz-meta:|fuzz-codec:|membe:|runtime error|Test unit written' "$log" |
		head -n 15 | sed 's/^/  | /'
	art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	[ -n "$art" ] && echo "  reproduce: $OUT/$t $art"
}

# Replay: every seed once, no mutation.
step replay-meta "$OUT/fuzz-meta" -runs=0 -max_len=20000 \
	-artifact_prefix="$OUT/artifacts/replay-meta-" "$OUT/seeds-meta"
[ "$codec_ok" = 1 ] && step replay-codec "$OUT/fuzz-codec" -runs=0 -max_len=8192 \
	-artifact_prefix="$OUT/artifacts/replay-codec-" "$OUT/seeds-codec"
[ "$open_ok" = 1 ] && step replay-open "$OUT/fuzz-open" -runs=0 -max_len=2400000 \
	-artifact_prefix="$OUT/artifacts/replay-open-" "$OUT/seeds-open"

[ "$args_ok" = 1 ] && step replay-args "$OUT/fuzz-args" -runs=0 -max_len=600 \
	-artifact_prefix="$OUT/artifacts/replay-args-" "$OUT/seeds-args"

fuzz fuzz-meta $((SECS / 4)) 20000
if [ "$codec_ok" = 1 ]; then
	fuzz fuzz-codec $((SECS / 10)) 8192
fi
if [ "$open_ok" = 1 ]; then
	fuzz fuzz-open $((SECS - SECS / 4 - SECS / 10)) 2400000
fi

# fuzz-args by execution count: the parsers are fast, the count is the
# promise (at least 1M in make fuzz).
fuzz_runs() {
	local t=$1 runs=$2 maxlen=$3 log="$OUT/$1.log" rc n art
	"$OUT/$t" -runs="$runs" -max_len="$maxlen" -timeout=20 \
		-rss_limit_mb=2560 -print_final_stats=1 \
		-artifact_prefix="$OUT/artifacts/$t-" \
		"$OUT/corpus-${t#fuzz-}" "$OUT/seeds-${t#fuzz-}" >"$log" 2>&1
	rc=$?
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ "$rc" = 0 ] && [ "${n:-0}" -ge "$runs" ]; then
		ok "$t: $n executions, $(grep -E '^#[0-9]+.*DONE' "$log" | tail -n 1)"
		return
	fi
	bad "$t: libFuzzer exit $rc after ${n:-?} of $runs executions; tail of $log:"
	grep -E 'ERROR|SUMMARY|fuzz-args:|runtime error|Test unit written' "$log" |
		head -n 15 | sed 's/^/  | /'
	art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	[ -n "$art" ] && echo "  reproduce: $OUT/$t $art"
}
if [ "$args_ok" = 1 ]; then
	fuzz_runs fuzz-args "${FUZZ_ARGS_RUNS:-1200000}" 600
fi
done_
