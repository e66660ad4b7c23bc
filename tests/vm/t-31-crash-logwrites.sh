#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-31-crash-logwrites: persistent ilio is crash-consistent at every point of
# a logged run. dm-log-writes sits under ilio's backing device (8 MiB of brd)
# and logs each write, flush and discard in the order the disk got them.
# Through ilio (64 KiB segments, 4 MiB RAM, coalesce always: the cache evicts,
# and GC must run on so small a device), ilio-crashcheck (tests/crash) writes
# unique, duplicate, zero and discarded 4 KiB blocks, calls fdatasync() every
# K ops and marks the log after each flush. Along the way it sends a
# checkpoint, a suspend/resume and a gc, and at the end a remove. The log is
# then replayed step by step onto a zeroed brd. At every flush mark, and at
# every E-th entry in between (>= 100 points in all), a read-only ilio
# recovered from that image must show, for every LBA, the value the last
# completed flush covered or a value written later. It must never show stale
# data or data that was never written to that LBA (GC's discards are
# replayed as zeroes). Also proved: every front flush reached the backing
# device as a flush before its mark; everything written before the suspend
# is durable after it; GC freed segments; the final image, recovered
# read-write, holds the final state. Negative controls: the image at flush k
# checked against flush k+2 fails, and a lost write injected into the
# recovered device is reported at its LBA.
#
# vm-args: --mem 2048 --timeout 900
# vm-time: 138

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup blockdev awk dd cp
CC=$REPO/build/crash/ilio-crashcheck
ILIOCTL=$REPO/tools/ilioctl
[ -x "$CC" ] || fatal "$CC not built (make -C tests/crash, on the host)"
[ "$CC" -nt "$REPO/tests/crash/ilio-crashcheck.c" ] ||
	fatal "$CC is older than its source (make -C tests/crash, on the host)"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load
/sbin/modprobe dm_log_writes || fatal "modprobe dm_log_writes failed"

BLOCKS=4096			# the workload's LBAs: 16 MiB
SECT=$((BLOCKS * 8))		# ilio's logical size in sectors
OPS=4000
EVERY=30			# fdatasync every 30 ops
FLUSHES=$(((OPS + EVERY - 1) / EVERY + 1))	# and one for the suspend
SEED=31
RAM_MB=4			# the minimum: the cache evicts, verify reads miss
BACK_MB=8			# 128 segments: background GC has to run
CKPT_AT=1000			# the op before which each hook runs
SUSPEND_AT=2000
GC_AT=2500
POINTS_MIN=100
EXTRA_POINTS=50			# about this many replay points between marks
REC=$T_TMP/record
LOGDEV=/dev/ram1

# ram0: the real backing store (its first 8 MiB), ram1: the log, ram2: the
# replay target (its first 8 MiB too).
brd_setup 64 3
assert_cmd "backing store: the first $BACK_MB MiB of ram0" -- \
	dmsetup create back31 --table "0 $((BACK_MB * 2048)) linear /dev/ram0 0" ||
	fatal "no backing device"
assert_cmd "replay target: the first $BACK_MB MiB of ram2" -- \
	dmsetup create rep31 --table "0 $((BACK_MB * 2048)) linear /dev/ram2 0" ||
	fatal "no replay target"
RDEV=/dev/mapper/rep31

# --- the logged run ----------------------------------------------------------
assert_cmd "log-writes over the backing store, log on ram1" -- \
	dmsetup create lw31 --table "0 $((BACK_MB * 2048)) log-writes /dev/mapper/back31 $LOGDEV" ||
	fatal "no log-writes device"
assert_cmd "ilioctl format the log-writes device (64 KiB segments)" -- \
	"$ILIOCTL" format /dev/mapper/lw31 --segment-kb 64 --multihost || fatal "format failed"
dmsetup message lw31 0 mark formatted
assert_cmd "create ilio31: $RAM_MB MiB RAM, coalesce always" -- \
	dmsetup create ilio31 --table "0 $SECT ilio /dev/mapper/lw31 $RAM_MB 2 coalesce always" ||
	fatal "no ilio device: $(dmesg | tail -n 5)"
node=$(dm_node ilio31)
assert_eq "$(cat "/sys/block/$node/queue/write_cache")" "write back" \
	"ilio advertises a write cache (fdatasync sends REQ_PREFLUSH)"

log "workload: $OPS ops on $BLOCKS blocks, fdatasync every $EVERY"
t0=$SECONDS
assert_cmd "workload: a mark after every flush; a checkpoint, a suspend, a gc" -- \
	"$CC" workload /dev/mapper/ilio31 --blocks $BLOCKS --ops $OPS --seed $SEED \
	--flush-every $EVERY --record "$REC" --mark-dm lw31 \
	--at "$CKPT_AT:dmsetup message ilio31 0 checkpoint && dmsetup message lw31 0 mark checkpoint" \
	--durable-at "$SUSPEND_AT:dmsetup suspend ilio31 && dmsetup resume ilio31" \
	--at "$GC_AT:dmsetup message ilio31 0 gc && dmsetup message lw31 0 mark gc" ||
	fatal "workload failed: $(dmesg | tail -n 5)"
log "$(last_output | tail -n 1) ($((SECONDS - t0)) s)"
log "ilio31 status: $(dmsetup status ilio31)"
assert_ge "$(status_field ilio31 21)" $((FLUSHES - 1)) "ilio counted the flushes"
assert_ge "$(status_field ilio31 23)" 1 "GC freed segments during the run (gc_freed_segments)"
assert_cmd "remove ilio31" -- dmsetup remove ilio31
dmsetup message lw31 0 mark removed
lwstat=$(dmsetup status lw31)
log "log-writes status: $lwstat"
case "$lwstat" in
*logging_disabled*) fatal "dm-log-writes stopped logging (log device full?)" ;;
esac
assert_cmd "remove lw31" -- dmsetup remove lw31

F=$(grep -c '^f ' "$REC")
log "flush $(awk -v n=$SUSPEND_AT '$1 == "f" && $3 == n { k = $2 } END { print k }' "$REC") is the suspend"
assert_eq "$F" $FLUSHES "record: $((FLUSHES - 1)) flushes and the suspend"

# --- the log -----------------------------------------------------------------
"$CC" list $LOGDEV >"$T_TMP/list" || fatal "cannot list the log"
log "$(tail -n 1 "$T_TMP/list")"
# Between two flush marks (or "formatted" and f1) there must be a FLUSH
# entry: fdatasync() returned only after ilio flushed the backing device.
noflush=$(awk '$1 ~ /^#/ { next }
	$5 == "MARK" && $6 == "formatted" { seen = 0 }
	$5 ~ /FLUSH/ { seen = 1 }
	$5 == "MARK" && $6 ~ /^f[0-9]+$/ { if (!seen) bad = bad " " $6; seen = 0 }
	END { print bad }' "$T_TMP/list")
assert_eq "${noflush:-none}" none "every flush mark follows a backend FLUSH"
nent=$(awk '$1 !~ /^#/' "$T_TMP/list" | wc -l)
every=$((nent / EXTRA_POINTS))
[ "$every" -ge 1 ] || every=1
"$CC" plan $LOGDEV --record "$REC" --every $every --start-mark formatted >"$T_TMP/plan" \
	2>"$T_TMP/plan.err" || fatal "plan: $(cat "$T_TMP/plan.err")"
log "$(cat "$T_TMP/plan.err") (every $every entries)"
cp "$REC" "$RESULTS/record" 2>/dev/null
cp "$T_TMP/list" "$RESULTS/log-list" 2>/dev/null
cp "$T_TMP/plan" "$RESULTS/plan" 2>/dev/null

# --- replay and check every point ---------------------------------------------
# Each point is one "step" (tests/crash): replay the entries since the last
# point onto $RDEV, create the read-only ilio "chk" over it (by ioctl, as
# dmsetup does), verify, remove. One process instead of four: every exec
# costs 0.1-0.3 s under TCG.
NEG_K=$((F / 2))
TABLE="0 $SECT ilio $RDEV $RAM_MB"
from=0
off=
npts=0
nflushpts=0
nbad=0
neg_done=0
t0=$SECONDS
# Keep the evidence of the first failing point: image, log, output.
first_failure() {
	local n=$1 label=$2 vargs=$3 end
	[ "$nbad" = 1 ] || return 0
	echo "FIRST FAILING POINT: $n entries ($label, $vargs)"
	sed 's/^/  | /' "$T_TMP/v"
	dmesg | grep -v 'log-writes' | tail -n 20 | sed 's/^/  dmesg| /'
	cp --sparse=always $RDEV "$RESULTS/fail-image.img" 2>/dev/null
	end=$(awk '/log ends at/ { print $NF }' "$T_TMP/list")
	dd if=$LOGDEV of="$RESULTS/log.img" bs=1M count=$(((end >> 20) + 1)) status=none
	echo "  evidence: build/vm/results/$_T_NAME/{fail-image.img,log.img,record,plan}"
	echo "  reproduce in a VM: brd 64 MiB as IMG, then"
	echo "  $CC step log.img IMG --from-entry 0 --to-entry $n --record record $vargs \\"
	echo "      --name chk --readonly --table '0 $SECT ilio IMG $RAM_MB'"
}
while read -r n noff k upto label; do
	args=(--from-entry "$from")
	[ -n "$off" ] && args+=(--from-offset "$off")
	[ "$label" = "f$NEG_K" ] && args+=(--keep)
	vargs="--flush $k --upto-op $upto"
	# shellcheck disable=SC2086
	"$CC" step $LOGDEV $RDEV "${args[@]}" --to-entry "$n" --record "$REC" $vargs \
		--name chk --readonly --table "$TABLE" >"$T_TMP/v" 2>"$T_TMP/r"
	rc=$?
	from=$n
	off=$noff
	npts=$((npts + 1))
	case "$label" in
	f[0-9]*) nflushpts=$((nflushpts + 1)) ;;
	esac
	# (bash builtins only: an exec per point costs 0.1 s)
	mapfile -t out <"$T_TMP/v"
	[[ "${out[-1]}" == "step: "*activate* ]] && echo "${out[-1]}" >>"$T_TMP/steps"
	case "$rc" in
	0) ;;
	1 | 3)
		nbad=$((nbad + 1))
		echo "point $n ($label, $vargs): $(grep -E '^(verify|step: entry)' "$T_TMP/v")"
		first_failure "$n" "$label" "$vargs"
		;;
	*) fatal "step to entry $n failed (rc $rc): $(cat "$T_TMP/r" "$T_TMP/v")" ;;
	esac
	[ "$label" = "f$NEG_K" ] || continue
	# Negative control: this image checked against a flush two later.
	assert_rc 1 "negative control: the image at f$NEG_K fails at flush $((NEG_K + 2))" -- \
		"$CC" verify /dev/mapper/chk --record "$REC" --flush $((NEG_K + 2))
	log "$(last_output | tail -n 1)"
	neg_done=1
	dmsetup remove --retry chk >/dev/null 2>&1 || fatal "cannot remove chk"
done <"$T_TMP/plan"
cp "$T_TMP/steps" "$RESULTS/steps" 2>/dev/null
log "checked $npts points ($nflushpts flush marks) in $((SECONDS - t0)) s"
assert_eq "$nbad" 0 "every replay point recovers and verifies"
assert_ge "$npts" $POINTS_MIN "replay points checked"
assert_eq "$nflushpts" "$F" "every flush mark was a replay point"
assert_eq "$neg_done" 1 "the stale-image negative control ran"
# Recovery time of the read-only ilio (create + resume) over the points.
log "activation (recovery) time per point: $(awk '{ v = $(NF - 4); s += v; if (v > m) m = v }
	END { if (NR) printf "avg %.2f s, max %.2f s over %d points", s / NR, m, NR }' "$T_TMP/steps")"

# --- the final image, read-write ----------------------------------------------
assert_cmd "ilio recovers the final image read-write" -- \
	dmsetup create chkrw --table "0 $SECT ilio $RDEV $RAM_MB 1 takeover" || fatal "no chkrw"
assert_cmd "the final image holds the final state (flush $F, every op)" -- \
	"$CC" verify /dev/mapper/chkrw --record "$REC" --flush "$F" --upto-op $OPS
lba=$("$CC" inject /dev/mapper/chkrw --record "$REC" --flush "$F" 2>"$T_TMP/inj")
log "$(cat "$T_TMP/inj")"
assert_rc 1 "negative control: an injected lost write fails verify" -- \
	"$CC" verify /dev/mapper/chkrw --record "$REC" --flush "$F"
if last_output | grep -q "^MISMATCH lba $lba: found op [0-9]* (stale"; then
	pass "verify names the injected lba $lba as stale"
else
	fail "verify did not report lba $lba: $(last_output | head -n 2)"
fi
assert_cmd "remove chkrw" -- dmsetup remove chkrw
finish
