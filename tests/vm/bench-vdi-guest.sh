#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-vdi-guest: the persistent-mode VDI benchmark of issue 3, in one VM
# boot. Over one slow backend (dm-delay over brd), it runs the same fio
# workload on four configurations, one after the other:
#   raw     the delayed backing device itself
#   wc      dm-writecache ("s" mode) over it, cache device = brd of the same
#           size as ilio's RAM
#   always  ilio, coalesce always, over the freshly formatted backend
#   auto    ilio, coalesce auto, likewise
# and counts what reaches the backend in the delayed device's
# /sys/block/dm-N/stat. It proves nothing about data (the t-* tests do); it
# asserts only what the numbers need to mean something: every device came
# up, every fio run ran, the backend and the front advertise a write-back
# cache (else fsync would never reach them), ilio's flushes counter grew by
# at least the number of fsyncs fio issued, in the flush probe every fsync
# reached the backend as a data write and a flush, and a drain left
# nothing dirty.
# The targets are judged by bench-vdi-summary.sh, never asserted here.
#
# Backend stack (one per configuration, brd reloaded in between):
#   vdi-slow   delay /dev/ram0 0 D  /dev/ram0 0 D  /dev/mapper/vdi-fsink 0 D
#   vdi-fsink  linear over /dev/nullb0 (null_blk, cache_size=1: a write cache)
# brd has no write cache, so the block layer would strip every flush above
# it and flushes would be invisible. dm-delay sends REQ_PREFLUSH bios to its
# third ("flush") device instead: vdi-fsink gives the stack a write cache and
# counts each flush bio as one zero-sector write in its stat. On vdi-slow
# (bio-based) the same flush bio also counts as one zero-sector write, so
#   backend data writes = slow write I/Os - fsink write I/Os
#   backend flushes     = fsink write I/Os
# (the flush fields 16-17 of a 6.1 stat file count only request-based
# REQ_OP_FLUSH; they stay 0 on dm devices).
#
# Steps per configuration (fio libaio direct=1, data 50% compressible and
# 30% duplicate, the same random seed for every configuration):
#   fill   sequential 1 MiB writes of the whole working set, then a drain
#          (the desktops exist before the day starts; not measured)
#   run    IOS random 8 KiB I/Os, rw=randrw rwmixwrite=80, iodepth 8
#   warm   the same again with another seed (read offload is taken here).
#          randrepeat=0 is what makes randseed choose the offsets: with
#          fio 3.33's default randrepeat=1 the offset sequence ignores
#          randseed, and "warm" would replay the offsets of "run".
#   drain  fsync the front; wc: "flush" message (write back everything);
#          ilio: the fsync must leave dirty_bytes 0
#   fprobe PROBE_IOS random 8 KiB writes at iodepth 1, fsync after each:
#          the backend must see a data write and a flush per fsync
#   sN     fsync sweep (--sweep-configs): the run workload, time-based
#          SWEEP_S seconds, fsync=N (0 = none), then a drain
# Counters are snapshotted before and after each step into snaps.txt;
# bench-vdi-summary.sh computes every figure from them and the fio json.
#
# Usage (guest): bench-vdi-guest.sh [--configs "raw wc always auto"]
#       [--ws MB] [--ram-mb MB] [--ios N] [--delay MS] [--sweep "1 4 16 64 256 0"]
#       [--sweep-s S (6)] [--sweep-configs "wc always auto"] [--budget S]
#       [--ilio-back-mb MB]
#   --ws       working set (front device size), MiB (1024)
#   --ram-mb   ilio ram_mb and the writecache cache size, MiB (512)
#   --ios      random I/Os in each of run and warm (32768: a quarter of the
#              set's 8 KiB blocks; the raw backend does ~800 IOPS under TCG)
#   --delay    dm-delay read, write and flush delay, ms (3)
#   --budget   seconds; sweep steps that would overrun it are skipped
#   --ilio-back-mb  backend size for the ilio configurations, MiB (default
#              the same as the others: 5/4 of the working set). Smaller
#              makes ilio's GC work (ilio stores the set compressed).
#
# Output in $RESULTS: meta.txt, snaps.txt, fio-CONFIG-STEP.json, and the
# dmesg of a failed step in fail-CONFIG.dmesg. For the plots
# (bench-plots.sh), from "run" to the drain after "warm":
#   ts-CONFIG.txt    the slow, sink and front stat lines twice a second
#   bsz-CONFIG.hist  the backend's writes by size: the kernel's hist
#                    trigger on block:block_bio_queue, keyed by nr_sector,
#                    filtered to the slow device's data writes. Aggregated
#                    in the kernel (no trace buffer to overflow, no tool
#                    beside tracefs); "missing REASON" when tracing failed,
#                    which never fails the bench.
#
# vm-args: --mem 3584 --timeout 1200

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

CONFIGS="raw wc always auto"
WS_MB=1024
RAM_MB=512
IOS=32768
DELAY=3
SWEEP="1 4 16 64 256 0"
SWEEP_S=6
SWEEP_CONFIGS="wc always auto"
BUDGET=840
ILIO_BACK_MB=
IODEPTH=8
PROBE_IOS=200

while [ $# -gt 0 ]; do
	case "$1" in
	--configs) CONFIGS=$2; shift 2 ;;
	--ws) WS_MB=$2; shift 2 ;;
	--ram-mb) RAM_MB=$2; shift 2 ;;
	--ios) IOS=$2; shift 2 ;;
	--delay) DELAY=$2; shift 2 ;;
	--sweep) SWEEP=$2; shift 2 ;;
	--sweep-s) SWEEP_S=$2; shift 2 ;;
	--sweep-configs) SWEEP_CONFIGS=$2; shift 2 ;;
	--budget) BUDGET=$2; shift 2 ;;
	--ilio-back-mb) ILIO_BACK_MB=$2; shift 2 ;;
	*) fatal "unknown argument $1" ;;
	esac
done

need_cmd fio dmsetup blockdev awk timeout sync python3
/sbin/modprobe dm_mod || fatal "modprobe dm_mod failed"
for m in dm_delay dm_writecache; do
	/sbin/modprobe "$m" || fatal "modprobe $m failed"
done
case " $CONFIGS " in
*" always "* | *" auto "*) ilio_load ;;
esac

# The backend is larger than the front: room for ilio's log and GC.
BACK_MB=$((WS_MB * 5 / 4))
: "${ILIO_BACK_MB:=$BACK_MB}"
[ "$ILIO_BACK_MB" -le "$BACK_MB" ] || BACK_MB=$ILIO_BACK_MB
BACK_SECT=$((BACK_MB * 2048))
WS_SECT=$((WS_MB * 2048))
RAM_SECT=$((RAM_MB * 2048))
SLOW=vdi-slow
SINK=vdi-fsink
WCC=vdi-wccache
SNAPS="$RESULTS/snaps.txt"
ILIOCTL="$REPO/tools/ilioctl"
: >"$SNAPS"
start=$(date +%s)

# null_blk: only the flush sink. memory_backed is needed for cache_size to
# count; nothing but empty flushes is ever written to it.
/sbin/modprobe null_blk nr_devices=1 gb=$(((BACK_MB + 1023) / 1024)) \
	memory_backed=1 cache_size=1 irqmode=0 ||
	fatal "modprobe null_blk failed"
[ -b /dev/nullb0 ] || fatal "no /dev/nullb0"
dmsetup create "$SINK" --table "0 $BACK_SECT linear /dev/nullb0 0" ||
	fatal "cannot create $SINK"
SINK_NODE=$(dm_node "$SINK") || fatal "no dm node for $SINK"

{
	echo "date $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel $(uname -r)"
	echo "cpus $(nproc)"
	echo "mem_mib $(($(mem_kb MemTotal) / 1024))"
	echo "fio $(fio --version)"
	echo "hz $(grep -m1 '^CONFIG_HZ=' "/boot/config-$(uname -r)" 2>/dev/null | cut -d= -f2)"
	echo "ws_mb $WS_MB"
	echo "back_mb $BACK_MB"
	echo "ilio_back_mb $ILIO_BACK_MB"
	echo "ram_mb $RAM_MB"
	echo "ios $IOS"
	echo "delay_ms $DELAY"
	echo "iodepth $IODEPTH"
	echo "sweep $SWEEP"
	echo "sweep_s $SWEEP_S"
	echo "configs $CONFIGS"
	echo "sweep_configs $SWEEP_CONFIGS"
	dmsetup targets | awk '$1 == "delay" || $1 == "writecache" || $1 == "ilio" {
		print "target " $1 " " $2 }'
	if [ -d /sys/module/dm_ilio ]; then
		echo "ilio_ko $(date -u -r "$ILIO_KO" '+%Y-%m-%d %H:%M:%S UTC') sha1 $(sha1sum <"$ILIO_KO" | cut -c1-12)"
	fi
	echo "git $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)"
} >"$RESULTS/meta.txt"
log "$(tr '\n' ';' <"$RESULTS/meta.txt")"

# --- per-configuration state --------------------------------------------------

CFG=
FRONT=
FRONT_NAME=
FRONT_NODE=
SLOW_NODE=

front_table() {
	case "$1" in
	wc) echo "0 $WS_SECT writecache s /dev/mapper/$SLOW /dev/mapper/$WCC 4096 0" ;;
	always | auto) echo "0 $WS_SECT ilio /dev/mapper/$SLOW $RAM_MB 2 coalesce $1" ;;
	esac
}

# cfg_up CONFIG: fresh brd, the delayed backend over it, and the front.
# Returns 1 (after a FAIL line and the dmesg tail) if any layer refuses.
cfg_up() {
	local c=$1 wcache sect=$BACK_SECT
	CFG=$c
	case "$c" in
	always | auto) sect=$((ILIO_BACK_MB * 2048)) ;;
	esac
	brd_setup "$BACK_MB" 2
	dmsetup create "$SLOW" --table \
		"0 $sect delay /dev/ram0 0 $DELAY /dev/ram0 0 $DELAY /dev/mapper/$SINK 0 $DELAY" ||
		{ fail "$c: cannot create $SLOW"; return 1; }
	SLOW_NODE=$(dm_node "$SLOW")
	wcache=$(cat "/sys/block/$SLOW_NODE/queue/write_cache")
	assert_eq "$wcache" "write back" "$c: the delayed backend advertises a write cache (flushes reach it)"
	case "$c" in
	raw)
		FRONT_NAME=$SLOW
		;;
	wc)
		dmsetup create "$WCC" --table "0 $RAM_SECT linear /dev/ram1 0" ||
			{ fail "$c: cannot create $WCC"; return 1; }
		FRONT_NAME=vdi-wc
		;;
	always | auto)
		dmesg_mark
		if ! "$ILIOCTL" format "/dev/mapper/$SLOW" --force >"$T_TMP/format.out" 2>&1; then
			fail "$c: ilioctl format /dev/mapper/$SLOW --force failed: $(tail -n 3 "$T_TMP/format.out")"
			return 1
		fi
		FRONT_NAME=vdi-$c
		;;
	*)
		fail "unknown configuration $c"
		return 1
		;;
	esac
	if [ "$FRONT_NAME" != "$SLOW" ]; then
		dmesg_mark
		if ! dmsetup create "$FRONT_NAME" --table "$(front_table "$c")" >"$T_TMP/create.out" 2>&1; then
			fail "$c: dmsetup create $FRONT_NAME '$(front_table "$c")' failed: $(tail -n 2 "$T_TMP/create.out")"
			dmesg_since | tail -n 20 | tee "$RESULTS/fail-$c.dmesg"
			return 1
		fi
	fi
	FRONT=/dev/mapper/$FRONT_NAME
	FRONT_NODE=$(dm_node "$FRONT_NAME")
	wcache=$(cat "/sys/block/$FRONT_NODE/queue/write_cache")
	assert_eq "$wcache" "write back" "$c: the front advertises a write cache (fsync reaches it)"
	pass "$c: up: $(dmsetup table "$FRONT_NAME" | head -n 1)"
	log "$c: MemAvailable $(($(mem_kb MemAvailable) / 1024)) MiB"
	return 0
}

cfg_down() {
	local n
	bsz_stop
	sampler_stop
	for n in "$FRONT_NAME" "$WCC" "$SLOW"; do
		[ -n "$n" ] || continue
		dmsetup info "$n" >/dev/null 2>&1 || continue
		timeout 300 dmsetup remove "$n" || fail "$CFG: cannot remove $n"
	done
	brd_teardown
	FRONT_NAME='' FRONT='' FRONT_NODE='' SLOW_NODE=''
}

# snap STEP POINT: one line of raw counters in snaps.txt.
snap() {
	local line
	line="$CFG $1 $2 $(date +%s.%N)"
	line+=" | slow $(cat "/sys/block/$SLOW_NODE/stat")"
	line+=" | sink $(cat "/sys/block/$SINK_NODE/stat")"
	line+=" | front $(cat "/sys/block/$FRONT_NODE/stat")"
	line+=" | status $(dmsetup status "$FRONT_NAME" | head -n 1)"
	if [ -r "/sys/block/$FRONT_NODE/ilio/backend_write_size_hist" ]; then
		line+=" | hist $(cat "/sys/block/$FRONT_NODE/ilio/backend_write_size_hist")"
	fi
	echo "$line" >>"$SNAPS"
}

# --- plot data: per-second stats and the backend write-size trace -----------

TRACEFS=/sys/kernel/tracing
SAMPLER=
BSZ_TRIGGER=

# sampler_start: the three stat lines twice a second into ts-$CFG.txt
# (bash builtins only, but for sleep).
sampler_start() {
	local s k f
	(
		while :; do
			read -r s <"/sys/block/$SLOW_NODE/stat" || s=
			read -r k <"/sys/block/$SINK_NODE/stat" || k=
			read -r f <"/sys/block/$FRONT_NODE/stat" || f=
			echo "$EPOCHREALTIME | slow $s | sink $k | front $f"
			sleep 0.5
		done
	) >>"$RESULTS/ts-$CFG.txt" 2>/dev/null &
	SAMPLER=$!
}

sampler_stop() {
	[ -n "$SAMPLER" ] || return 0
	kill "$SAMPLER" 2>/dev/null
	wait "$SAMPLER" 2>/dev/null
	SAMPLER=
}

# bsz_start: count the slow device's data writes by size in the kernel.
# Any failure writes "missing REASON" to bsz-$CFG.hist and returns 0.
bsz_start() {
	local out="$RESULTS/bsz-$CFG.hist" trig mm dev
	trig=$TRACEFS/events/block/block_bio_queue/trigger
	BSZ_TRIGGER=
	if [ ! -e "$trig" ]; then
		mount -t tracefs nodev "$TRACEFS" 2>/dev/null
	fi
	if [ ! -w "$trig" ]; then
		echo "missing no tracefs block:block_bio_queue trigger" >"$out"
		log "$CFG: no $trig: no backend write-size trace"
		return 0
	fi
	read -r mm <"/sys/block/$SLOW_NODE/dev"
	# The tracepoint's dev is the kernel's dev_t: major << 20 | minor.
	dev=$(((${mm%%:*} << 20) | ${mm##*:}))
	BSZ_TRIGGER="hist:keys=nr_sector:sort=nr_sector:size=8192 if dev == $dev && nr_sector > 0 && rwbs ~ \"*W*\""
	if ! echo "$BSZ_TRIGGER" >"$trig" 2>/dev/null; then
		echo "missing the kernel refused the hist trigger" >"$out"
		log "$CFG: hist trigger refused: no backend write-size trace"
		BSZ_TRIGGER=
	fi
	return 0
}

# bsz_stop: save the histogram and remove the trigger.
bsz_stop() {
	local out="$RESULTS/bsz-$CFG.hist" ev=$TRACEFS/events/block/block_bio_queue
	[ -n "$BSZ_TRIGGER" ] || return 0
	if ! cat "$ev/hist" >"$out" 2>/dev/null || ! grep -q hitcount "$out"; then
		echo "missing no hist output" >"$out"
	fi
	echo "!$BSZ_TRIGGER" >>"$ev/trigger" 2>/dev/null ||
		log "$CFG: cannot remove the hist trigger"
	BSZ_TRIGGER=
}

# drain STEP: make everything written so far reach the backend, and snap.
drain() {
	local step=$1 i dirty
	if ! timeout 300 sync "$FRONT"; then
		fail "$CFG $step: fsync of $FRONT failed"
	fi
	case "$CFG" in
	wc)
		timeout 600 dmsetup message "$FRONT_NAME" 0 flush ||
			fail "$CFG $step: writecache flush message failed"
		for ((i = 0; i < 600; i++)); do
			# INFO field 4: blocks under writeback
			[ "$(dmsetup status "$FRONT_NAME" | awk '{ print $7 }')" = 0 ] && break
			sleep 0.1
		done
		;;
	always | auto)
		for ((i = 0; i < 600; i++)); do
			dirty=$(status_field "$FRONT_NAME" 18)
			[ "$dirty" = 0 ] && break
			sleep 0.1
		done
		assert_eq "$dirty" 0 "$CFG $step: no dirty bytes after an fsync (waited $i x 0.1 s)"
		;;
	esac
	snap "$step" drained
}

# fio_job STEP SEED KIND [FSYNC]: a job file. KIND fill|rand|sweep.
fio_job() {
	local step=$1 seed=$2 kind=$3 fs=${4:-0}
	cat <<EOF
[global]
filename=$FRONT
ioengine=libaio
direct=1
size=${WS_MB}M
randseed=$seed
randrepeat=0
refill_buffers=1
buffer_compress_percentage=50
buffer_compress_chunk=4k
dedupe_percentage=30
dedupe_mode=repeat
group_reporting=1
EOF
	case "$kind" in
	fill) printf 'rw=write\nbs=1M\niodepth=4\n' ;;
	probe) printf 'rw=randwrite\nbs=8k\niodepth=1\nfsync=1\nnumber_ios=%s\n' "$PROBE_IOS" ;;
	rand | sweep)
		printf 'rw=randrw\nrwmixwrite=80\nbs=8k\niodepth=%s\nnorandommap=1\n' "$IODEPTH"
		;;
	esac
	case "$kind" in
	rand) printf 'io_size=%sk\n' $((IOS * 8)) ;;
	sweep)
		printf 'time_based=1\nruntime=%ss\n' "$SWEEP_S"
		[ "$fs" != 0 ] && printf 'fsync=%s\n' "$fs"
		;;
	esac
	printf '[%s.%s]\n' "$CFG" "$step"
}

# run_fio STEP SEED KIND [FSYNC]: run one step between two snapshots.
run_fio() {
	local step=$1 jf="$T_TMP/$1.fio" out="$RESULTS/fio-$CFG-$1.json" t0
	fio_job "$@" >"$jf"
	snap "$step" pre
	t0=$SECONDS
	dmesg_mark
	if ! timeout 900 fio --output-format=json --output="$out" "$jf" >"$T_TMP/fio.err" 2>&1; then
		fail "$CFG $step: fio failed: $(tail -n 3 "$T_TMP/fio.err")"
		dmesg_since | tail -n 20 | tee "$RESULTS/fail-$CFG-$step.dmesg"
		snap "$step" post
		return 1
	fi
	snap "$step" post
	log "$CFG $step: fio $((SECONDS - t0))s: $(json_get "$out" summary)"
	return 0
}

# json_get FILE WHAT: read,write,sync I/O counts of a fio json file.
json_get() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
t = open(sys.argv[1]).read()
j = json.loads(t[t.index('{'):])['jobs'][0]
r, w, s = j['read'], j['write'], j.get('sync', {})
if sys.argv[2] == 'sync':
    print(s.get('total_ios', 0))
else:
    print('read %d ios %.0f iops, write %d ios %.0f iops, %d fsyncs' % (
        r['total_ios'], r['iops'], w['total_ios'], w['iops'], s.get('total_ios', 0)))
EOF
}

# flush_check STEP: ilio's flushes counter grew by at least fio's fsyncs.
flush_check() {
	local step=$1 syncs f0 f1
	syncs=$(json_get "$RESULTS/fio-$CFG-$step.json" sync)
	f0=$(awk -v c="$CFG" -v s="$step" '$1 == c && $2 == s && $3 == "pre"' "$SNAPS" |
		sed 's/.*| status //' | awk '{ print $(3 + 21) }')
	f1=$(awk -v c="$CFG" -v s="$step" '$1 == c && $2 == s && $3 == "post"' "$SNAPS" |
		sed 's/.*| status //' | awk '{ print $(3 + 21) }')
	if [ -z "$f0" ] || [ -z "$f1" ]; then
		fail "$CFG $step: no flushes counter (status field 21) in the snapshots"
		return
	fi
	assert_ge $((f1 - f0)) "$syncs" "$CFG $step: ilio flushes counter >= fsyncs fio issued"
}

# flush_probe_check: fprobe wrote PROBE_IOS blocks one at a time with an
# fsync after each (the last one has none): every fsync follows exactly one
# acknowledged write, so each must cost the backend a data write (the block
# or the log record that maps it) and a flush, if the front honours it.
flush_probe_check() {
	local j="$RESULTS/fio-$CFG-fprobe.json" syncs a b
	syncs=$(json_get "$j" sync)
	a=$(grep "^$CFG fprobe pre " "$SNAPS" | sed 's/.*| slow \([^|]*\)| sink \([^|]*\)|.*/\1 \2/')
	b=$(grep "^$CFG fprobe post " "$SNAPS" | sed 's/.*| slow \([^|]*\)| sink \([^|]*\)|.*/\1 \2/')
	read -ra a <<<"$a"
	read -ra b <<<"$b"
	# slow field 5 = index 4; sink's write I/Os at index 17 + 4
	assert_ge $((b[21] - a[21])) "$syncs" \
		"$CFG fprobe: backend flushes >= fsyncs, one write each"
	assert_ge $(((b[4] - a[4]) - (b[21] - a[21]))) "$syncs" \
		"$CFG fprobe: backend data writes >= fsyncs, one write each"
}

# one_config CONFIG: every step of one configuration.
one_config() {
	local c=$1 n step
	if ! cfg_up "$c"; then
		cfg_down
		return
	fi
	run_fio fill 1001 fill && drain fill
	sampler_start
	bsz_start
	run_fio run 2002 rand
	run_fio warm 3003 rand
	drain drain
	bsz_stop
	sampler_stop
	if run_fio fprobe 5005 probe; then
		drain fprobe
		# writecache makes a flush durable on its cache device, not on
		# the backend: its row is reported, not checked.
		case "$c" in
		always | auto) flush_probe_check ;;
		esac
	fi
	case " $SWEEP_CONFIGS " in
	*" $c "*)
		for n in $SWEEP; do
			step=s$n
			[ "$n" = 0 ] && step=snone
			if [ $(($(date +%s) - start + SWEEP_S + 20)) -gt "$BUDGET" ]; then
				log "$c: skipping sweep step $step (budget ${BUDGET}s)"
				echo "$c $step skipped budget" >>"$SNAPS"
				continue
			fi
			run_fio "$step" $((4000 + n)) sweep "$n" || continue
			drain "$step"
			case "$c:$n" in
			always:0 | auto:0) ;;
			always:* | auto:*) flush_check "$step" ;;
			esac
		done
		;;
	esac
	pass "$c: all steps ran ($(($(date +%s) - start))s so far)"
	cfg_down
}

for c in $CONFIGS; do
	one_config "$c"
done
dmsetup remove "$SINK" || fail "cannot remove $SINK"
/sbin/rmmod null_blk
log "all configurations took $(($(date +%s) - start))s"
finish
