#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-bench-plots.sh - tests/vm/bench-plots.sh on made-up results, so
# that "make bench" cannot end in a broken or silently empty plot:
#   * with a full set of files, it writes the three SVGs, each well-formed
#     XML, and the figures in them are the input's: front and backend
#     IOPS from the stat deltas (1000 and 10 per second), the traced
#     write counts per size, ilio's own counters cross-checked;
#   * a missing or failed trace, or a missing time series, is drawn as
#     "no data" with the reason, or for ilio from its own
#     backend_write_size_hist, and the run still succeeds;
#   * no results at all, an unknown argument or a missing gnuplot is a
#     clear error (exit 2).
#
# Usage: bash tests/unit/test-bench-plots.sh
# Prints one line per failure, then "test-bench-plots: N passed, N failed".
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
plots=$root/tests/vm/bench-plots.sh
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
has() { if grep -qF -- "$2" "$3"; then ok; else ko "$1: no '$2' in ${3##*/}"; fi; }
hasnt() { if grep -qF -- "$2" "$3"; then ko "$1: '$2' in ${3##*/}"; else ok; fi; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v gnuplot >/dev/null; then
	ko "gnuplot is missing (make deps installs gnuplot-nox)"
	echo "test-bench-plots: $pass passed, $fail failed"
	exit 1
fi

# stat NWRITES: a 17-field /sys/block/X/stat line with NWRITES write I/Os.
stat() { echo "0 0 0 0 $1 0 0 0 0 0 0 0 0 0 0 0 0"; }

# A VDI result: raw and always over 4 s of samples, 1000 front and
# 10 backend write IOPS for always.
vdi=$tmp/vdi
mkdir -p "$vdi"
printf 'exec %s --configs raw\\ wc\\ always --ios 512\n' "$root/tests/vm/bench-vdi-guest.sh" >"$vdi/cmd"
printf 'date 2026-12-01 20:00 UTC\nws_mb 64\nram_mb 32\nios 512\ndelay_ms 3\nconfigs raw wc always\ngit abc1234\n' >"$vdi/meta.txt"
for c in raw wc always; do
	h=
	[ "$c" = always ] && h=" | hist 0 0 0 0 0 0 0 0 0 0"
	echo "$c run pre 1000.0 | slow $(stat 0) | sink $(stat 0) | front $(stat 0) | status x$h"
	echo "$c warm pre 1002.0 | slow $(stat 0) | sink $(stat 0) | front $(stat 0) | status x$h"
	echo "$c warm post 1004.0 | slow $(stat 0) | sink $(stat 0) | front $(stat 0) | status x$h"
	[ "$c" = always ] && h=" | hist 2 0 0 0 0 0 0 1 37 0"
	echo "$c drain drained 1004.5 | slow $(stat 0) | sink $(stat 0) | front $(stat 0) | status x$h"
done >"$vdi/snaps.txt"
for i in 0 1 2 3 4; do
	# backend data writes = slow - sink: the sink's flushes are taken off
	echo "100$i.0 | slow $(stat $((i * 13))) | sink $(stat $((i * 3))) | front $(stat $((i * 1000)))"
done >"$vdi/ts-always.txt"
for i in 0 1 2 3 4; do
	echo "100$i.0 | slow $(stat $((i * 700))) | sink $(stat 0) | front $(stat $((i * 700)))"
done >"$vdi/ts-raw.txt"
cat >"$vdi/bsz-raw.hist" <<'EOF'
# event histogram
#
{ nr_sector:         16 } hitcount:       3279
{ nr_sector:         24 } hitcount:         11

Totals:
    Hits: 3290
    Entries: 2
    Dropped: 0
EOF
echo "missing the kernel refused the hist trigger" >"$vdi/bsz-wc.hist"
cat >"$vdi/bsz-always.hist" <<'EOF'
{ nr_sector:          8 } hitcount:          2
{ nr_sector:       1008 } hitcount:          1
{ nr_sector:       2048 } hitcount:         37
Totals:
    Dropped: 0
EOF

# A diskless result: ram.csv and ram-ts.csv for two data sets.
bench=$tmp/bench
mkdir -p "$bench"
printf 'exec %s --jobs 1 --bs 4k\n' "$root/tests/vm/bench-guest.sh" >"$bench/cmd"
{
	echo "data,bs,jobs,dev,ram_bytes,logical_bytes,stored_bytes,unique_bytes,dedup_hits,vmalloc_delta_bytes"
	echo "unique,4k,1,ilio,105906176,100663296,0,0,0,0"
	echo "unique,4k,1,zram,102760448,100663296,0,0,0,0"
	echo "unique,4k,1,brd,100663296,100663296,0,0,0,0"
	echo "dup80,4k,1,ilio,15728640,100663296,0,0,0,0"
	echo "dup80,4k,1,zram,90177536,100663296,0,0,0,0"
	echo "dup80,4k,1,brd,100663296,100663296,0,0,0,0"
} >"$bench/ram.csv"
{
	echo "data,bs,jobs,time_s,ilio_logical,ilio_ram,zram_orig,zram_mem"
	for d in unique dup80; do
		for i in 0 1 2 3; do
			echo "$d,4k,1,$i.00,$((i * 33554432)),$((i * 5242880)),$((i * 33554432)),$((i * 30000000))"
		done
	done
} >"$bench/ram-ts.csv"

out=$tmp/out
if bash "$plots" --vdi "$vdi" --bench "$bench" --out "$out" >"$tmp/log" 2>&1; then ok; else
	ko "full results: exit $?: $(tail -n 3 "$tmp/log")"
fi
for f in vdi-write-iops vdi-write-sizes ram-vs-zram; do
	if python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' \
		"$out/$f.svg" 2>"$tmp/xml.err"; then ok; else
		ko "$f.svg is not well-formed SVG: $(head -c 200 "$tmp/xml.err")"
	fi
done
i=$out/vdi-write-iops.svg
has "iops: always's rates from the stat deltas" "mean front 1000, backend 10 write IOPS" "$i"
has "iops: raw is one line" "mean front 700, backend 700 write IOPS (front = backend)" "$i"
has "iops: missing series" "dm-writecache: no data (no ts-wc.txt in the results)" "$i"
has "iops: the run's arguments" "bench-vdi.sh --configs 'raw wc always' --ios 512" "$i"
s=$out/vdi-write-sizes.svg
has "sizes: raw counted from the trace" "raw backend: 3290 writes (trace)" "$s"
has "sizes: 8 KiB bucket" ">3279<" "$s"
has "sizes: 12 KiB rounds up to 16 KiB" ">11<" "$s"
has "sizes: failed trace" "dm-writecache: no data, no trace" "$s"
has "sizes: why" "no trace for wc: the kernel refused the hist trigger" "$s"
has "sizes: always" "ilio (coalesce always): 40 writes (trace)" "$s"
has "sizes: 1 MiB bucket" ">37<" "$s"
if grep -q 'always: traced 40 backend writes, ilio counted 40$' "$tmp/log"; then ok; else
	ko "trace and ilio's counters agree: $(grep always: "$tmp/log")"
fi
r=$out/ram-vs-zram.svg
has "ram: bars" "unique/4k" "$r"
has "ram: curves" "ilio dup80/4k" "$r"
has "ram: the run's arguments" "bench.sh --jobs 1 --bs 4k" "$r"

# Without the trace, ilio's own histogram stands in, and says so.
rm "$vdi/bsz-always.hist" "$bench/ram-ts.csv"
if bash "$plots" --vdi "$vdi" --bench "$bench" --out "$out" >"$tmp/log" 2>&1; then ok; else
	ko "no trace: exit $?: $(tail -n 3 "$tmp/log")"
fi
has "sizes: ilio's own counters" \
	"ilio (coalesce always): 40 writes (ilio's own backend_write_size_hist, no trace)" "$s"
has "sizes: why, for ilio" "no trace for always: no bsz-always.hist" "$s"
hasnt "ram: no curves without ram-ts.csv" "ilio dup80/4k" "$r"
has "ram: bars without ram-ts.csv" "dup80/4k" "$r"
if grep -q "no $bench/ram-ts.csv: RAM bars only" "$tmp/log"; then ok; else ko "no ram-ts.csv is not said"; fi

# Errors.
bash "$plots" --vdi "$tmp/none" --bench "$tmp/none" --out "$out" >"$tmp/log" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q 'no results' "$tmp/log"; then ok; else ko "no results: exit $rc: $(cat "$tmp/log")"; fi
bash "$plots" --bogus >"$tmp/log" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q "unknown argument '--bogus'" "$tmp/log"; then ok; else ko "bad argument: exit $rc: $(cat "$tmp/log")"; fi
mkdir -p "$tmp/bin"
for t in dirname sed mkdir mktemp rm python3; do
	ln -s "$(command -v "$t")" "$tmp/bin/$t"
done
PATH=$tmp/bin /bin/bash "$plots" --vdi "$vdi" >"$tmp/log" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q 'gnuplot is missing' "$tmp/log"; then ok; else ko "no gnuplot: exit $rc: $(cat "$tmp/log")"; fi

echo "test-bench-plots: $pass passed, $fail failed"
[ "$fail" = 0 ]
