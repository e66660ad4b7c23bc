#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-guest: measures a diskless ilio device against its peers, zram (lz4),
# brd, and dm-linear over brd (the cost of device-mapper alone), in the same
# VM boot: fio write then read throughput and the RAM
# each one uses for the same amount of data, on unique (incompressible), 50%
# compressible and 80% duplicate data, bs 4k and 64k, one job and then two
# jobs. It proves nothing about correctness (t-10-fio does); it only checks
# that every fio run ran and that the duplicate data set really holds
# duplicates (ilio dedup_hits > 0). The targets are judged by
# bench-summary.sh, never asserted: a slow result is a result, not a failure.
#
# Run it through tests/vm/bench.sh. Under TCG, absolute MiB/s mean nothing,
# and the host's other load makes them drift: only ratios between devices
# measured side by side count. So the four devices live at the same time,
# and one fio process runs them in turns (stonewall): the write phase is
# ROUNDS rounds, each writing the next 1/ROUNDS of every device, and the
# read phase is ROUNDS rounds of READ_MS time-based reading of each device.
# The device order rotates from round to round. Per round ratios give the
# spread that bench-summary.sh prints beside each ratio.
#
# Usage (guest): bench-guest.sh [--size MB] [--jobs "1 2"] [--bs "4k 64k"]
#                               [--data "unique comp50 dup80"] [--rounds N]
#                               [--read-ms MS] [--budget S]
#   --size     data written once to each device, MiB (the device size)
#   --rounds   rounds per phase (the size must divide by rounds * jobs)
#   --read-ms  time-based reading of each device per round
#   --budget   seconds of fio; a pass that would overrun it is skipped
#
# Output in $RESULTS:
#   fio.csv  data,bs,jobs,phase,dev,round,kib,bw_kibs,runtime_ms (fio terse)
#   ram.csv  data,bs,jobs,dev,ram_bytes,logical_bytes,stored_bytes,
#            unique_bytes,dedup_hits,vmalloc_delta_bytes
#            ram_bytes: ilio ram_used_bytes, zram mm_stat mem_used_total,
#            brd and dmlin the data size; vmalloc_delta: VmallocUsed growth over the
#            write phase (ilio's segments are vmalloc'ed, zram's and brd's
#            pages are not: a cross-check of ilio's own accounting)
#   ram-ts.csv  data,bs,jobs,time_s,ilio_logical,ilio_ram,zram_orig,zram_mem
#            twice a second over the write phase: ilio logical_bytes and
#            ram_used_bytes (sysfs), zram mm_stat orig_data_size and
#            mem_used_total (for bench-plots.sh)
#
# The dmlin peer is "0 <sectors> linear /dev/ram1 0": brd plus the dm core's
# bio cloning, with the remap done in map() (no worker hand-off); ilio/dmlin
# is ilio's own cost over a dm target that does nothing.

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

SIZE_MB=96
JOBS="1 2"
BSS="4k 64k"
DATASETS="unique comp50 dup80"
ROUNDS=3
READ_MS=1500
BUDGET=780
IODEPTH=8

while [ $# -gt 0 ]; do
	case "$1" in
	--size) SIZE_MB=$2; shift 2 ;;
	--jobs) JOBS=$2; shift 2 ;;
	--bs) BSS=$2; shift 2 ;;
	--data) DATASETS=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--read-ms) READ_MS=$2; shift 2 ;;
	--budget) BUDGET=$2; shift 2 ;;
	*) fatal "unknown argument $1" ;;
	esac
done

need_cmd fio dmsetup blockdev awk timeout
ilio_load
/sbin/modprobe zram num_devices=1 || fatal "modprobe zram failed"
[ -d /sys/block/zram0 ] || fatal "no /sys/block/zram0"
grep -qw lz4 /sys/block/zram0/comp_algorithm ||
	fatal "zram has no lz4: $(cat /sys/block/zram0/comp_algorithm)"

SECTORS=$((SIZE_MB * 2048))
# Room for the data stored raw (4104-byte records), metadata, spare segment.
ILIO_RAM_MB=$((SIZE_MB * 5 / 4 + 64))
ILIO_NAME=bench-ilio
LIN_NAME=bench-lin
DEVS="ilio zram brd dmlin"
NDEVS=4
FIO_CSV="$RESULTS/fio.csv"
RAM_CSV="$RESULTS/ram.csv"
echo "data,bs,jobs,phase,dev,round,kib,bw_kibs,runtime_ms" >"$FIO_CSV"
echo "data,bs,jobs,dev,ram_bytes,logical_bytes,stored_bytes,unique_bytes,dedup_hits,vmalloc_delta_bytes" >"$RAM_CSV"
RAMTS_CSV="$RESULTS/ram-ts.csv"
echo "data,bs,jobs,time_s,ilio_logical,ilio_ram,zram_orig,zram_mem" >"$RAMTS_CSV"

log "kernel $(uname -r), $(nproc) CPUs, $(($(mem_kb MemTotal) / 1024)) MiB RAM, $(fio --version)"
log "size ${SIZE_MB} MiB per device, fio libaio direct=1 iodepth=$IODEPTH, jobs '$JOBS', bs '$BSS'," \
	"data '$DATASETS', $ROUNDS rounds, reads ${READ_MS} ms per round, budget ${BUDGET}s"
log "ilio: 0 $SECTORS ilio - $ILIO_RAM_MB (dedup on, compress lz4, 4k); zram0: lz4," \
	"disksize ${SIZE_MB}M; brd: rd_size ${SIZE_MB} MiB (ram0); dmlin: linear over ram1"

dev_path() {
	case "$1" in
	ilio) echo "/dev/mapper/$ILIO_NAME" ;;
	zram) echo /dev/zram0 ;;
	brd) echo /dev/ram0 ;;
	dmlin) echo "/dev/mapper/$LIN_NAME" ;;
	esac
}

# devs_up: fresh, empty ilio, zram0, ram0 and dm-linear over ram1.
devs_up() {
	dmsetup create "$ILIO_NAME" --table "0 $SECTORS ilio - $ILIO_RAM_MB" ||
		fatal "cannot create the ilio device"
	echo 1 >/sys/block/zram0/reset || fatal "zram reset failed"
	echo lz4 >/sys/block/zram0/comp_algorithm || fatal "zram: cannot select lz4"
	echo "${SIZE_MB}M" >/sys/block/zram0/disksize || fatal "zram: cannot set disksize"
	brd_setup "$SIZE_MB" 2
	dmsetup create "$LIN_NAME" --table "0 $SECTORS linear /dev/ram1 0" ||
		fatal "cannot create the dm-linear device"
	for k in $DEVS; do
		[ -b "$(dev_path "$k")" ] || fatal "$k: $(dev_path "$k") is not a block device"
	done
}

devs_down() {
	dmsetup remove "$ILIO_NAME" || fatal "cannot remove the ilio device"
	dmsetup remove "$LIN_NAME" || fatal "cannot remove the dm-linear device"
	echo 1 >/sys/block/zram0/reset
	brd_teardown
}

# data_opts DATA: fio buffer options (job file lines) for a data set.
data_opts() {
	case "$1" in
	unique) printf 'refill_buffers=1\n' ;;
	comp50) printf 'refill_buffers=1\nbuffer_compress_percentage=50\nbuffer_compress_chunk=4k\n' ;;
	# dedupe_mode=repeat (the default): a duplicate repeats an earlier
	# unique buffer of the same job.
	dup80) printf 'refill_buffers=1\ndedupe_percentage=80\ndedupe_mode=repeat\n' ;;
	*) fatal "unknown data set $1" ;;
	esac
}

# order R: device order in round R (1-based): DEVS rotated, so that no
# device always runs first or last.
order() {
	local -a d
	local i n=$((($1 + ORDER_BASE) % NDEVS))
	read -ra d <<<"$DEVS"
	for ((i = 0; i < NDEVS; i++)); do
		printf '%s ' "${d[$(((i + n) % NDEVS))]}"
	done
}

# jobfile PHASE DATA BS JOBS: a fio job file for one phase on all devices.
jobfile() {
	local phase=$1 data=$2 bs=$3 jobs=$4 r k slice per
	slice=$((SIZE_MB / ROUNDS))
	echo "[global]"
	echo "direct=1"
	echo "ioengine=libaio"
	echo "iodepth=$IODEPTH"
	echo "bs=$bs"
	echo "numjobs=$jobs"
	echo "group_reporting=1"
	echo "stonewall"
	echo "randseed=4242"
	if [ "$phase" = w ]; then
		data_opts "$data"
	else
		echo "time_based=1"
		echo "runtime=${READ_MS}ms"
	fi
	for ((r = 1; r <= ROUNDS; r++)); do
		for k in $(order "$r"); do
			echo "[$phase.$k.$r]"
			echo "filename=$(dev_path "$k")"
			if [ "$phase" = w ]; then
				per=$((slice / jobs))
				echo "rw=write"
				echo "offset=$(((r - 1) * slice))M"
			else
				per=$((SIZE_MB / jobs))
				echo "rw=read"
				echo "offset=0"
			fi
			echo "size=${per}M"
			echo "offset_increment=${per}M"
		done
	done
}

# run_phase PHASE DATA BS JOBS: run a job file; append its groups to fio.csv.
run_phase() {
	local phase=$1 data=$2 bs=$3 jobs=$4 jf="$T_TMP/$1.fio" out="$T_TMP/$1.terse"
	jobfile "$@" >"$jf"
	if ! timeout 900 fio --output-format=terse --terse-version=3 --output="$out" "$jf"; then
		fail "$data bs=$bs jobs=$jobs: fio $phase phase failed"
		tail -n 5 "$out" 2>/dev/null
		return 1
	fi
	# terse v3: 3 jobname, 6/7/9 read KiB, KiB/s, ms; 47/48/50 the same for write.
	awk -F';' -v d="$data" -v b="$bs" -v j="$jobs" -v p="$phase" '
	{
		split($3, n, ".")
		if (p == "w")
			printf "%s,%s,%s,write,%s,%s,%s,%s,%s\n", d, b, j, n[2], n[3], $47, $48, $50
		else
			printf "%s,%s,%s,read,%s,%s,%s,%s,%s\n", d, b, j, n[2], n[3], $6, $7, $9
	}' "$out" >"$T_TMP/$phase.csv"
	if [ "$(awk -F, '$8 > 0' "$T_TMP/$phase.csv" | wc -l)" != $((ROUNDS * NDEVS)) ]; then
		fail "$data bs=$bs jobs=$jobs: fio $phase phase: expected $((ROUNDS * NDEVS)) groups with bandwidth"
		cat "$out"
		return 1
	fi
	cat "$T_TMP/$phase.csv" >>"$FIO_CSV"
	return 0
}

# ram_sampler DATA BS JOBS: ilio's and zram's logical and RAM bytes twice a
# second into ram-ts.csv, until killed (bash builtins, but for sleep).
ram_sampler() {
	local dir il ir zs t0=${EPOCHREALTIME/./} t node
	node=$(dm_node "$ILIO_NAME") || return 0
	dir=/sys/block/$node/ilio
	while :; do
		read -r il <"$dir/logical_bytes" || il=
		read -r ir <"$dir/ram_used_bytes" || ir=
		read -ra zs </sys/block/zram0/mm_stat || zs=()
		t=$(((${EPOCHREALTIME/./} - t0) / 10000))
		printf '%s,%s,%s,%d.%02d,%s,%s,%s,%s\n' "$1" "$2" "$3" \
			$((t / 100)) $((t % 100)) "$il" "$ir" "${zs[0]-}" "${zs[2]-}"
		sleep 0.5
	done >>"$RAMTS_CSV" 2>/dev/null
}

# bw_of DEV: MiB/s of DEV in the last phase (all rounds: total KiB / total ms).
bw_of() {
	awk -F, -v k="$1" '$5 == k { kib += $7; ms += $9 }
		END { if (ms) printf "%.1f", kib / ms * 1000 / 1024; else print 0 }' "$2"
}

# one_config DATA BS JOBS: all three devices, fresh; write rounds, then
# (after the RAM readings) read rounds.
one_config() {
	local data=$1 bs=$2 jobs=$3 vm0 vm1 ram logical stored uniq hits line k
	local ram_ilio=0 ram_zram=0 hits_ilio=0 sampler

	devs_up
	vm0=$(mem_kb VmallocUsed)
	ram_sampler "$data" "$bs" "$jobs" &
	sampler=$!
	if ! run_phase w "$data" "$bs" "$jobs"; then
		kill "$sampler" 2>/dev/null
		wait "$sampler" 2>/dev/null
		devs_down
		return
	fi
	kill "$sampler" 2>/dev/null
	wait "$sampler" 2>/dev/null
	vm1=$(mem_kb VmallocUsed)
	for k in $DEVS; do
		hits=0 uniq=0
		case "$k" in
		ilio)
			logical=$(status_field "$ILIO_NAME" 2)
			uniq=$(status_field "$ILIO_NAME" 3)
			stored=$(status_field "$ILIO_NAME" 4)
			ram=$(status_field "$ILIO_NAME" 5)
			hits=$(status_field "$ILIO_NAME" 7)
			;;
		zram)
			# mm_stat: orig_data_size compr_data_size mem_used_total ...
			read -r logical stored ram _ </sys/block/zram0/mm_stat
			;;
		brd | dmlin)
			ram=$((SIZE_MB * 1048576))
			logical=$ram
			stored=$ram
			;;
		esac
		echo "$data,$bs,$jobs,$k,$ram,$logical,$stored,$uniq,$hits,$(((vm1 - vm0) * 1024))" >>"$RAM_CSV"
		case "$k" in
		ilio) ram_ilio=$ram hits_ilio=$hits ;;
		zram) ram_zram=$ram ;;
		esac
	done
	line="# $data $bs jobs=$jobs: write MiB/s"
	for k in $DEVS; do
		line+=" $k $(bw_of "$k" "$T_TMP/w.csv")"
	done
	if run_phase r "$data" "$bs" "$jobs"; then
		line+="; read MiB/s"
		for k in $DEVS; do
			line+=" $k $(bw_of "$k" "$T_TMP/r.csv")"
		done
	fi
	echo "$line; RAM MiB ilio $((ram_ilio / 1048576)) zram $((ram_zram / 1048576));" \
		"ilio dedup_hits $hits_ilio"
	devs_down
	pass "$data bs=$bs jobs=$jobs: all devices measured"
	if [ "$data" = dup80 ]; then
		assert_ge "$hits_ilio" 1 "dup80 data really holds duplicates (ilio dedup_hits, bs=$bs jobs=$jobs)"
	fi
}

start=$(date +%s)
pass_no=0
ORDER_BASE=0
for jobs in $JOBS; do
	pass_no=$((pass_no + 1))
	now=$(date +%s)
	if [ "$pass_no" -gt 1 ] && [ $((now - start + pass_time)) -gt "$BUDGET" ]; then
		log "skipping the jobs=$jobs pass: the last pass took ${pass_time}s," \
			"budget ${BUDGET}s, $((now - start))s used"
		echo "# skipped the numjobs=$jobs pass (time budget)" >>"$FIO_CSV"
		continue
	fi
	if [ $((SIZE_MB % (ROUNDS * jobs))) != 0 ]; then
		fail "size $SIZE_MB MiB does not divide by rounds*jobs = $((ROUNDS * jobs))"
		continue
	fi
	pstart=$now
	for data in $DATASETS; do
		for bs in $BSS; do
			one_config "$data" "$bs" "$jobs"
			ORDER_BASE=$((ORDER_BASE + 1))
		done
	done
	pass_time=$(($(date +%s) - pstart))
	log "pass numjobs=$jobs took ${pass_time}s"
done
log "fio phase took $(($(date +%s) - start))s"
finish
