#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-lat-guest: latency and IOPS of ilio against its peers, in one VM
# boot, interleaved round by round (the targets of issue 9). It proves
# nothing about correctness; a fio run that fails is a failure, a slow
# result is a result. Run it through tests/vm/bench-lat.sh.
#
# RAM tier (4 KiB): a diskless ilio device, zram (lz4) and dm-linear over
#   brd. QD1 random-write latency (fio's total latency, slat + clat: brd,
#   zram and dm-linear do their work inside the submit call), QD16 write
#   IOPS with one and two jobs on unique, 50%-compressible and
#   30%-duplicate data, QD16 read IOPS with two jobs, QD1 read latency.
# Persistent tier: a persistent ilio device, the same without dedup and
#   compression (ilioraw), and dm-writecache (ssd mode,
#   its cache device a brd RAM disk), each over its own dm-delay "LUN"
#   (brd plus DELAY_MS per I/O). Both have a quarter of the LUN as their
#   logical size, so writecache's cache (as large as the LUN) never passes
#   its write-back watermark: its best case. Each workload runs on both
#   devices in turn, after both LUNs were quiet for a second. QD1 8 KiB write latency; an 80/20
#   read/write mix with two jobs at QD16; 4 KiB writes with an fsync every
#   1, 4, 16 and 64 writes: the time per write and, from the LUN's own
#   /sys/block/*/stat, its write count and average size against the front.
#   With --journal, ilio also gets a journal on a brd RAM disk (the
#   "journal <dev>" feature), and the raw O_SYNC (FUA) write latency of a
#   disk like the journal's is measured in the same boot.
#
# Every run is time-based (RUNTIME seconds). In round r every device runs
# once, in an order rotated by r. Output: $RESULTS/lat.csv with
#   tier,test,data,jobs,dev,round,metric,value
# and the summary comes from bench-lat-summary.py on the host.
#
# Usage (guest): bench-lat-guest.sh [--rounds N] [--runtime S] [--size MB]
#                                   [--delay-ms MS] [--journal] [--only ram|pers]

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

ROUNDS=3
RUNTIME=3
SIZE_MB=128
DELAY_MS=2
JOURNAL=0
ONLY=""

while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) ROUNDS=$2; shift 2 ;;
	--runtime) RUNTIME=$2; shift 2 ;;
	--size) SIZE_MB=$2; shift 2 ;;
	--delay-ms) DELAY_MS=$2; shift 2 ;;
	--journal) JOURNAL=1; shift ;;
	--only) ONLY=$2; shift 2 ;;
	*) fatal "unknown argument $1" ;;
	esac
done

need_cmd fio dmsetup blockdev python3 timeout
ILIOCTL="$REPO/tools/ilioctl"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load
for m in zram dm_delay dm_writecache; do
	/sbin/modprobe "$m" || fatal "modprobe $m failed"
done

CSV="$RESULTS/lat.csv"
echo "tier,test,data,jobs,dev,round,metric,value" >"$CSV"
SECTORS=$((SIZE_MB * 2048))
log "kernel $(uname -r), $(nproc) CPUs, $(($(mem_kb MemTotal) / 1024)) MiB, $(fio --version)"
log "size ${SIZE_MB} MiB, ${RUNTIME}s per run, $ROUNDS rounds, LUN delay ${DELAY_MS} ms, journal $JOURNAL"

# data_opts DATA: fio buffer options for a data set.
data_opts() {
	case "$1" in
	unique) echo "--refill_buffers=1" ;;
	comp50) echo "--refill_buffers=1 --buffer_compress_percentage=50 --buffer_compress_chunk=4k" ;;
	dup30) echo "--refill_buffers=1 --dedupe_percentage=30" ;;
	*) fatal "unknown data set $1" ;;
	esac
}

# rot R WORDS...: WORDS rotated by R.
rot() {
	local r=$1 i n
	shift
	local -a w=("$@")
	n=${#w[@]}
	for ((i = 0; i < n; i++)); do
		printf '%s ' "${w[$(((i + r) % n))]}"
	done
}

# fio_one TIER TEST DATA JOBS DEV ROUND PATH FIOARGS...: one time-based fio
# run; appends its metrics to lat.csv.
fio_one() {
	local tier=$1 test=$2 data=$3 jobs=$4 dev=$5 round=$6 path=$7 out
	shift 7
	out="$T_TMP/$test.$dev.$round.json"
	# shellcheck disable=SC2046
	if ! timeout $((RUNTIME * 4 + 120)) fio --name=b --filename="$path" --direct=1 \
		--ioengine=libaio --time_based=1 --runtime="$RUNTIME" --ramp_time=0 \
		--numjobs="$jobs" --group_reporting=1 --lat_percentiles=1 \
		--randseed=$((4242 + round)) --output-format=json --output="$out" \
		$(data_opts "$data") "$@" >/dev/null 2>"$out.err"; then
		fail "$tier $test $data jobs=$jobs $dev round $round: fio failed: $(tail -n 3 "$out.err")"
		return 1
	fi
	python3 - "$out" "$tier,$test,$data,$jobs,$dev,$round" >>"$CSV" <<'EOF' ||
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
key = sys.argv[2]
for op in ("read", "write"):
    s = j[op]
    if not s["total_ios"]:
        continue
    lat = s["lat_ns"]
    print("%s,%s_iops,%.1f" % (key, op, s["iops"]))
    print("%s,%s_lat_mean_us,%.2f" % (key, op, lat["mean"] / 1000.0))
    pct = lat.get("percentile", {})
    if "99.000000" in pct:
        print("%s,%s_lat_p99_us,%.2f" % (key, op, pct["99.000000"] / 1000.0))
    print("%s,%s_ios,%d" % (key, op, s["total_ios"]))
s = j.get("sync", {})
if s.get("total_ios"):
    print("%s,sync_ios,%d" % (key, s["total_ios"]))
    print("%s,sync_lat_mean_us,%.2f" % (key, s["lat_ns"]["mean"] / 1000.0))
print("%s,runtime_ms,%d" % (key, j["job_runtime"]))
EOF
		fail "$tier $test $dev round $round: cannot parse fio output"
}

# stat_w DEV: "writes sectors" completed on block device DEV (a path).
stat_w() {
	local n
	case "$1" in
	/dev/mapper/*) n=$(dm_node "${1#/dev/mapper/}") || fatal "no dm node for $1" ;;
	*) n=$(basename "$1") ;;
	esac
	awk '{ print $5, $7 }' "/sys/block/$n/stat"
}

# csv_put TIER TEST DATA JOBS DEV ROUND METRIC VALUE
csv_put() {
	local IFS=,
	echo "$*" >>"$CSV"
}

# ---------------------------------------------------------------- RAM tier
ram_tier() {
	local r d data jobs
	local -A P=([ilio]=/dev/mapper/lat-ilio [zram]=/dev/zram0 [dmlin]=/dev/mapper/lat-lin)
	brd_setup "$SIZE_MB" 1
	dmsetup create lat-ilio --table "0 $SECTORS ilio - $((SIZE_MB * 2 + 64))" ||
		fatal "cannot create the ilio device"
	echo 1 >/sys/block/zram0/reset
	echo lz4 >/sys/block/zram0/comp_algorithm || fatal "zram: no lz4"
	echo "${SIZE_MB}M" >/sys/block/zram0/disksize || fatal "zram: disksize"
	dmsetup create lat-lin --table "0 $SECTORS linear /dev/ram0 0" ||
		fatal "cannot create dm-linear"
	# Fill every device once, so that reads find data and writes overwrite.
	for d in ilio zram dmlin; do
		fio --name=fill --filename="${P[$d]}" --direct=1 --ioengine=libaio --bs=1M \
			--iodepth=4 --rw=write --size="${SIZE_MB}M" --refill_buffers=1 \
			--buffer_compress_percentage=50 --buffer_compress_chunk=4k \
			--output=/dev/null || fatal "fill $d failed"
	done
	pass "RAM tier devices up and filled"
	for ((r = 1; r <= ROUNDS; r++)); do
		for d in $(rot "$r" ilio zram dmlin); do
			fio_one ram w_qd1 comp50 1 "$d" "$r" "${P[$d]}" --rw=randwrite --bs=4k --iodepth=1
			fio_one ram r_qd1 comp50 1 "$d" "$r" "${P[$d]}" --rw=randread --bs=4k --iodepth=1
			fio_one ram r_qd16 comp50 2 "$d" "$r" "${P[$d]}" --rw=randread --bs=4k --iodepth=16
		done
		for data in unique comp50 dup30; do
			for jobs in 1 2; do
				for d in $(rot "$r" ilio zram dmlin); do
					fio_one ram w_qd16 "$data" "$jobs" "$d" "$r" "${P[$d]}" \
						--rw=randwrite --bs=4k --iodepth=16
				done
			done
		done
		log "RAM tier round $r done"
	done
	log "ilio inline_writes $(sysfs_val lat-ilio inline_writes) of $(sysfs_val lat-ilio front_write_ios)," \
		"inline_reads $(sysfs_val lat-ilio inline_reads) of $(sysfs_val lat-ilio front_read_ios)"
	csv_put ram info - - ilio 0 inline_writes "$(sysfs_val lat-ilio inline_writes)"
	csv_put ram info - - ilio 0 front_write_ios "$(sysfs_val lat-ilio front_write_ios)"
	dmsetup remove lat-ilio
	dmsetup remove lat-lin
	echo 1 >/sys/block/zram0/reset
	brd_teardown
}

# ---------------------------------------------------------- persistent tier

# settle: wait (up to 20 s) until no LUN has written for a second.
settle() {
	local i l before after
	for ((i = 0; i < 20; i++)); do
		before=$(for l in $PLUNS; do stat_w "$l"; done)
		sleep 1
		after=$(for l in $PLUNS; do stat_w "$l"; done)
		[ "$before" = "$after" ] && return 0
	done
}

PDEVS="ilio ilioraw wc"
PLUNS="/dev/mapper/lat-lun1 /dev/mapper/lat-lun2 /dev/mapper/lat-lun3"

pers_tier() {
	local r d n w0 s0 w1 s1 feat jfeat
	local -A P=([ilio]=/dev/mapper/lat-pilio [ilioraw]=/dev/mapper/lat-praw [wc]=/dev/mapper/lat-wc)
	local -A LUN=([ilio]=/dev/mapper/lat-lun1 [ilioraw]=/dev/mapper/lat-lun3 [wc]=/dev/mapper/lat-lun2)
	local -A JDEV=([ilio]=/dev/ram3 [ilioraw]=/dev/ram6)
	local -A FEAT=([ilio]="" [ilioraw]="dedup off compress none")
	# ram0, ram1, ram5: the LUNs; ram2: writecache's cache; ram3, ram6: the
	# ilio devices' journals; ram4: a disk like a journal's, for its raw
	# FUA write latency. ilioraw is ilio without dedup and compression: the
	# part of ilio's cost that is its CPU work per block.
	brd_setup "$SIZE_MB" 7
	dmsetup create lat-lun1 --table "0 $SECTORS delay /dev/ram0 0 $DELAY_MS" ||
		fatal "cannot create dm-delay 1"
	dmsetup create lat-lun2 --table "0 $SECTORS delay /dev/ram1 0 $DELAY_MS" ||
		fatal "cannot create dm-delay 2"
	dmsetup create lat-lun3 --table "0 $SECTORS delay /dev/ram5 0 $DELAY_MS" ||
		fatal "cannot create dm-delay 3"
	for d in ilio ilioraw; do
		feat=${FEAT[$d]}
		jfeat=""
		if [ "$JOURNAL" = 1 ]; then
			"$ILIOCTL" format "${LUN[$d]}" --force --journal "${JDEV[$d]}" >/dev/null ||
				fatal "ilioctl format --journal failed ($d)"
			jfeat="journal ${JDEV[$d]}"
		else
			"$ILIOCTL" format "${LUN[$d]}" --force >/dev/null || fatal "ilioctl format failed ($d)"
		fi
		feat="$feat${feat:+ }$jfeat"
		# shellcheck disable=SC2086
		set -- $feat
		dmsetup create "${P[$d]#/dev/mapper/}" --table \
			"0 $((SECTORS / 4)) ilio ${LUN[$d]} $((SIZE_MB + 64))${feat:+ $# $feat}" ||
			fatal "cannot create persistent ilio ($d)"
		pass "$d: $(dmsetup table "${P[$d]#/dev/mapper/}")"
	done
	dmsetup create lat-wc --table "0 $((SECTORS / 4)) writecache s /dev/mapper/lat-lun2 /dev/ram2 4096 0" ||
		fatal "cannot create dm-writecache"
	for d in $PDEVS; do
		fio --name=fill --filename="${P[$d]}" --direct=1 --ioengine=libaio --bs=1M \
			--iodepth=4 --rw=write --size="$((SIZE_MB / 4))M" --refill_buffers=1 \
			--buffer_compress_percentage=50 --buffer_compress_chunk=4k \
			--output=/dev/null || fatal "fill $d failed"
	done
	sync
	for ((r = 1; r <= ROUNDS; r++)); do
		# Test by test, each device in turn, after all LUNs went quiet:
		# a device's background write-back must not bill the next one.
		for d in $(rot "$r" $PDEVS); do
			settle
			fio_one pers w8k_qd1 comp50 1 "$d" "$r" "${P[$d]}" --rw=randwrite --bs=8k --iodepth=1
		done
		for d in $(rot "$r" $PDEVS); do
			settle
			fio_one pers mix8020 comp50 2 "$d" "$r" "${P[$d]}" --rw=randrw --rwmixread=20 \
				--bs=8k --iodepth=16
		done
		for n in 1 4 16 64; do
			for d in $(rot "$r" $PDEVS); do
				settle
				read -r w0 s0 < <(stat_w "${LUN[$d]}")
				fio_one pers "fsync$n" comp50 1 "$d" "$r" "${P[$d]}" --rw=randwrite --bs=4k \
					--iodepth=1 --fsync="$n"
				read -r w1 s1 < <(stat_w "${LUN[$d]}")
				csv_put pers "fsync$n" comp50 1 "$d" "$r" lun_writes $((w1 - w0))
				csv_put pers "fsync$n" comp50 1 "$d" "$r" lun_write_kib $(((s1 - s0) / 2))
			done
		done
		if [ "$JOURNAL" = 1 ]; then
			fio_one pers jraw_fua comp50 1 jdev "$r" /dev/ram4 --rw=randwrite --bs=4k \
				--iodepth=1 --sync=1
		fi
		log "persistent tier round $r done"
	done
	for d in ilio ilioraw; do
		log "$d: inline_writes $(sysfs_val "${P[$d]#/dev/mapper/}" inline_writes) of" \
			"$(sysfs_val "${P[$d]#/dev/mapper/}" front_write_ios)"
		dmsetup remove "${P[$d]#/dev/mapper/}" || fail "cannot remove $d"
	done
	dmsetup remove lat-wc || fail "cannot remove writecache"
	dmsetup remove lat-lun1
	dmsetup remove lat-lun2
	dmsetup remove lat-lun3
	brd_teardown
}

[ "$ONLY" != pers ] && ram_tier
[ "$ONLY" != ram ] && pers_tier
rows=$(($(wc -l <"$CSV") - 1))
assert_ge "$rows" 10 "lat.csv rows"
finish
