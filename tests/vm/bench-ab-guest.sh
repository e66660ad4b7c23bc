#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-ab-guest: two builds of dm-ilio.ko (A and B) and zram, in one VM
# boot, interleaved: in each round, A is loaded, measured and unloaded,
# then zram, then B (the order rotates). The question it answers is "did
# this change make ilio faster or slower", with the host's drift cancelled
# by same-round ratios. Run it through tests/vm/bench-ab.sh.
#
# Workloads (4 KiB, 50%-compressible data, time-based): QD1 random write,
# QD1 random read, QD16 random read with two jobs, QD16 random write with
# two jobs. Output: $RESULTS/ab.csv: test,dev,round,metric,value.
#
# Usage (guest): bench-ab-guest.sh KO_A KO_B [--rounds N] [--runtime S] [--size MB]

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

KO_A=${1:?KO_A}
KO_B=${2:?KO_B}
shift 2
ROUNDS=4
RUNTIME=2
SIZE_MB=32
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) ROUNDS=$2; shift 2 ;;
	--runtime) RUNTIME=$2; shift 2 ;;
	--size) SIZE_MB=$2; shift 2 ;;
	*) fatal "unknown argument $1" ;;
	esac
done
need_cmd fio dmsetup python3
/sbin/modprobe dm_mod && /sbin/modprobe lz4_compress && /sbin/modprobe lz4_decompress &&
	/sbin/modprobe zram || fatal "modprobe failed"
for m in $(/sbin/modinfo -F depends "$KO_B" | tr ',' ' '); do /sbin/modprobe "$m"; done
CSV="$RESULTS/ab.csv"
echo "test,dev,round,metric,value" >"$CSV"
SECTORS=$((SIZE_MB * 2048))

fio_one() {
	local test=$1 dev=$2 round=$3 path=$4 out="$T_TMP/$1.$2.$3.json"
	shift 4
	fio --name=b --filename="$path" --direct=1 --ioengine=libaio --time_based=1 \
		--runtime="$RUNTIME" --group_reporting=1 --randseed=$((7 + round)) \
		--refill_buffers=1 --buffer_compress_percentage=50 --buffer_compress_chunk=4k \
		--output-format=json --output="$out" "$@" >/dev/null 2>&1 ||
		{ fail "$test $dev round $round: fio failed"; return 1; }
	python3 - "$out" "$test,$dev,$round" >>"$CSV" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
for op in ("read", "write"):
    s = j[op]
    if s["total_ios"]:
        print("%s,%s_iops,%.1f" % (sys.argv[2], op, s["iops"]))
        print("%s,%s_lat_mean_us,%.2f" % (sys.argv[2], op, s["lat_ns"]["mean"] / 1000.0))
EOF
}

# one DEV ROUND PATH: fill, then the four workloads.
one() {
	fio --name=fill --filename="$3" --direct=1 --ioengine=libaio --bs=1M --iodepth=4 \
		--rw=write --size="${SIZE_MB}M" --refill_buffers=1 --buffer_compress_percentage=50 \
		--buffer_compress_chunk=4k --output=/dev/null || fail "fill $1"
	fio_one w_qd1 "$1" "$2" "$3" --rw=randwrite --bs=4k --iodepth=1
	fio_one r_qd1 "$1" "$2" "$3" --rw=randread --bs=4k --iodepth=1
	fio_one r_qd16x2 "$1" "$2" "$3" --rw=randread --bs=4k --iodepth=16 --numjobs=2
	fio_one w_qd16x2 "$1" "$2" "$3" --rw=randwrite --bs=4k --iodepth=16 --numjobs=2
}

ilio_run() {
	/sbin/insmod "$2" || fatal "insmod $2 failed"
	dmsetup create ab-ilio --table "0 $SECTORS ilio - $((SIZE_MB * 2 + 64))" ||
		fatal "create ilio ($1) failed"
	one "$1" "$3" /dev/mapper/ab-ilio
	dmsetup remove ab-ilio || fatal "remove ilio ($1)"
	/sbin/rmmod dm_ilio || fatal "rmmod ($1)"
}

zram_run() {
	echo 1 >/sys/block/zram0/reset
	echo lz4 >/sys/block/zram0/comp_algorithm
	echo "${SIZE_MB}M" >/sys/block/zram0/disksize || fatal "zram disksize"
	one zram "$1" /dev/zram0
	echo 1 >/sys/block/zram0/reset
}

for ((r = 1; r <= ROUNDS; r++)); do
	case $((r % 3)) in
	0) ilio_run A "$KO_A" "$r"; zram_run "$r"; ilio_run B "$KO_B" "$r" ;;
	1) zram_run "$r"; ilio_run B "$KO_B" "$r"; ilio_run A "$KO_A" "$r" ;;
	2) ilio_run B "$KO_B" "$r"; ilio_run A "$KO_A" "$r"; zram_run "$r" ;;
	esac
	log "round $r done"
done
assert_ge "$(($(wc -l <"$CSV") - 1))" 10 "ab.csv rows"
finish
