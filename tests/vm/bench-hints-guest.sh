#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-hints-guest: issue 12's desktop mix, with and without region class
# hints, in one VM boot.  A persistent ilio device over brd whose clean
# cache holds about half of the working set runs, per configuration:
#   install  the "binaries" (BIN_MB) are written and flushed
#   rounds   ROUNDS + 1 times: the binaries are read; part r of the
#            "pagefile" (PF_MB in all, twice the RAM budget, in ROUNDS
#            parts; each byte written once and read once) is written and
#            flushed, and part r - 1 read back; "temp files" (TEMP_MB) are
#            written, flushed and deleted (discarded); the binaries are read
#            again - the measured step
# Configurations (the order alternates between rounds of the whole run):
#   nohints  no hints: every block is normal
#   hints    hint pin over the binaries, nocache over the pagefile, temp
#            over the temp files, sent before the install
# Reported per configuration (build/vm/results/NAME/hints.csv and
# hints-summary.txt): the binaries' hit rate in the measured steps
# (cache_hits / (cache_hits + cache_misses) while only they are read), the
# clean cache's bytes after the last pagefile read and at the end, backend
# reads, and the backend write bytes.  Data is verified: every read of the
# binaries and the pagefile is compared with what was written (a mismatch
# fails the run).  Nothing here is a pass/fail target: the numbers are
# reported, where we lose too.
#
# Usage (guest): bench-hints-guest.sh [--ram-mb MB] [--bin-mb MB]
#                [--temp-mb MB] [--rounds N] [--runs N] [--pf-reads N]
#   --pf-reads N  read each pagefile part N times, not once (N = 2: pages
#                 that are paged in twice, which a segmented LRU promotes)
# vm-args: --mem 2048 --timeout 1500

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

RAM_MB=64
BIN_MB=24
TEMP_MB=16
ROUNDS=4
RUNS=1
PF_READS=1
while [ $# -gt 0 ]; do
	case "$1" in
	--ram-mb) RAM_MB=$2; shift 2 ;;
	--bin-mb) BIN_MB=$2; shift 2 ;;
	--temp-mb) TEMP_MB=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--pf-reads) PF_READS=$2; shift 2 ;;
	*) fatal "unknown argument $1" ;;
	esac
done
PF_MB=$((2 * RAM_MB))
[ $((PF_MB % ROUNDS)) = 0 ] || fatal "--rounds must divide the pagefile's $PF_MB MiB"
need_cmd dmsetup dd cmp blkdiscard python3
ILIOCTL="$REPO/tools/ilioctl"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built"
ilio_load
NAME=bh
DEV=/dev/mapper/$NAME
MB=1048576
LOG_MB=512
BIN_OFF=0				# MiB offsets on the device
PF_OFF=64
TEMP_OFF=$((PF_OFF + PF_MB + 16))
[ $((TEMP_OFF + TEMP_MB)) -le $LOG_MB ] || fatal "the layout does not fit $LOG_MB MiB"
CSV="$RESULTS/hints.csv"
echo "run,config,metric,value" >"$CSV"

# The data: random (incompressible), made once, the same for every run.
dd if=/dev/urandom of="$T_TMP/bin" bs=1M count="$BIN_MB" status=none
dd if=/dev/urandom of="$T_TMP/pf" bs=1M count="$PF_MB" status=none
dd if=/dev/urandom of="$T_TMP/temp" bs=1M count="$TEMP_MB" status=none

v() { sysfs_val $NAME "$1"; }

# read_bin: read the binaries back through the device and compare.
read_bin() {
	cmp_dev $DEV $((BIN_OFF * MB)) $((BIN_MB * MB)) "$T_TMP/bin" ||
		fatal "binaries read back wrong"
}

# one RUN CONFIG
one() {
	local run=$1 cfg=$2 r k part h0 m0 hits=0 misses=0 c_pf=0 br0 bw0 off
	brd_setup $((LOG_MB + 64)) 1
	"$ILIOCTL" format /dev/ram0 >/dev/null || fatal "format failed"
	"$ILIOCTL" create $NAME --backing /dev/ram0 --size ${LOG_MB}M --ram ${RAM_MB}M \
		>/dev/null || fatal "create failed"
	if [ "$cfg" = hints ]; then
		dmsetup message $NAME 0 hint pin $((BIN_OFF * 2048)) $((BIN_MB * 2048)) &&
		dmsetup message $NAME 0 hint nocache $((PF_OFF * 2048)) $((PF_MB * 2048)) &&
		dmsetup message $NAME 0 hint temp $((TEMP_OFF * 2048)) $((TEMP_MB * 2048)) ||
			fatal "hint messages failed"
	fi
	br0=$(v backend_read_ios)
	bw0=$(v backend_write_bytes)
	dd if="$T_TMP/bin" of=$DEV bs=1M seek=$BIN_OFF oflag=direct conv=fsync status=none ||
		fatal "install failed"
	part=$((PF_MB / ROUNDS))
	for ((r = 0; r <= ROUNDS; r++)); do
		read_bin
		# Part r of the pagefile is written, part r - 1 is read back (a
		# page is read back later than it was written, not at once).
		if [ $r -lt $ROUNDS ]; then
			dd if="$T_TMP/pf" of=$DEV bs=1M skip=$((r * part)) \
				seek=$((PF_OFF + r * part)) count=$part oflag=direct \
				conv=fsync status=none || fatal "pagefile write failed"
		fi
		off=$(((r - 1) * part))
		for ((k = 0; r > 0 && k < PF_READS; k++)); do
			cmp_dev $DEV $(((PF_OFF + off) * MB)) $((part * MB)) "$T_TMP/pf" \
				$((off * MB)) || fatal "pagefile read back wrong"
		done
		c_pf=$(v cache_bytes)
		dd if="$T_TMP/temp" of=$DEV bs=1M seek=$TEMP_OFF oflag=direct conv=fsync \
			status=none || fatal "temp write failed"
		blkdiscard -o $((TEMP_OFF * MB)) -l $((TEMP_MB * MB)) $DEV ||
			fatal "temp discard failed"
		h0=$(v cache_hits)
		m0=$(v cache_misses)
		read_bin
		hits=$((hits + $(v cache_hits) - h0))
		misses=$((misses + $(v cache_misses) - m0))
	done
	{
		echo "$run,$cfg,bin_hits,$hits"
		echo "$run,$cfg,bin_misses,$misses"
		echo "$run,$cfg,cache_bytes_after_pagefile,$c_pf"
		echo "$run,$cfg,cache_bytes_end,$(v cache_bytes)"
		echo "$run,$cfg,backend_read_ios,$(($(v backend_read_ios) - br0))"
		echo "$run,$cfg,backend_write_bytes,$(($(v backend_write_bytes) - bw0))"
		echo "$run,$cfg,ram_limit_bytes,$(v ram_limit_bytes)"
	} >>"$CSV"
	dmsetup remove $NAME || fatal "remove failed"
	brd_teardown
	pass "run $run $cfg: data verified"
}

for ((run = 0; run < RUNS; run++)); do
	if [ $((run % 2)) = 0 ]; then
		one "$run" nohints
		one "$run" hints
	else
		one "$run" hints
		one "$run" nohints
	fi
done

python3 - "$CSV" "$BIN_MB" "$PF_MB" "$RAM_MB" "$TEMP_MB" "$ROUNDS" "$PF_READS" >"$RESULTS/hints-summary.txt" <<'EOF'
import csv, sys
from collections import defaultdict
rows = list(csv.DictReader(open(sys.argv[1])))
binmb, pfmb, rammb, tempmb, rounds, pfreads = sys.argv[2:8]
d = defaultdict(lambda: defaultdict(list))
for r in rows:
    d[r["config"]][r["metric"]].append(int(r["value"]))
def med(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]
print("Desktop mix (issue 12): binaries %s MiB re-read, pagefile %s MiB (2x RAM %s MiB)"
      " written once and read %s time(s), temp %s MiB written and deleted, %s rounds;"
      " median of %d run(s)"
      % (binmb, pfmb, rammb, pfreads, tempmb, rounds, len(d["hints"]["bin_hits"])))
print()
print("%-9s %16s %20s %20s %14s %16s" % ("config", "binaries hit rate", "cache after pagefile",
      "cache at end", "backend reads", "backend writes"))
for cfg in ("nohints", "hints"):
    m = d[cfg]
    if not m:
        continue
    h, mi = med(m["bin_hits"]), med(m["bin_misses"])
    rate = 100.0 * h / (h + mi) if h + mi else 0.0
    print("%-9s %15.1f%% %17.1f MiB %17.1f MiB %14d %12.1f MiB" % (
        cfg, rate, med(m["cache_bytes_after_pagefile"]) / 1048576.0,
        med(m["cache_bytes_end"]) / 1048576.0, med(m["backend_read_ios"]),
        med(m["backend_write_bytes"]) / 1048576.0))
print()
print("binaries hit rate: cache_hits / (cache_hits + cache_misses) while the binaries are re-read")
print("after each pagefile write+read and temp write+delete (targets: >= 99% with hints;")
print("the RAM pagefile data takes near zero: 'cache after pagefile' is then the binaries alone).")
EOF
cat "$RESULTS/hints-summary.txt"
finish
