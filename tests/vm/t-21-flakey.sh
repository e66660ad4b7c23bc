#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-21-flakey: backend faults reach the caller, change the mode as
# documented, and never turn into wrong data.  ilio runs over dm-flakey over
# the backing disk, and flakey's table is swapped under it:
#  (a) error_writes: the fsync after new writes fails with EIO, the mode
#      becomes read-only, further writes fail, data covered by an earlier
#      completed flush and the unflushed data still in RAM both read back;
#      remove does not hang, and a re-created device over the healthy disk
#      shows exactly the state of the last completed flush.
#  (b) all I/O erroring (no feature, down): on a cold cache reads fail with
#      EIO and never return wrong data, the mode does not change for read
#      errors alone, and reads work again when the disk is back.
#  (c) drop_writes (acknowledged but lost, a lying disk): after re-create
#      every block holds a value that was written there - the flushed one
#      or the lost one - never zero where a flush had completed, never
#      anything else.
# The harness fails the run on any oops/WARNING.
#
# vm-args: --mem 2048 --timeout 900 --disk t21:256
# vm-time: 77

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup dd python3 timeout
ILIOCTL="$REPO/tools/ilioctl"
BLKPAT="$REPO/tests/vm/blkpat.py"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load
/sbin/modprobe dm_flakey || fatal "modprobe dm_flakey failed"

MB=1048576
BACK=$(vm_disk t21) || fatal "no t21 disk"
BSECT=$(dev_sectors "$BACK")
LSECT=$((512 * 2048))
# Small RAM so that most of D1 cannot stay cached (part b needs a cold
# cache); a long flush interval so that nothing is written back behind the
# test's back, only on fsync, a full segment or remove.
RAM=16
# The store is not guarded (formatted without --multihost, the default):
# no activation after the failing disk waits, and block 4 stays zero.
FEAT="4 coalesce always flush_interval_ms 600000"
NAME=t21
DEV=/dev/mapper/$NAME
FLK=t21flk

D1_OFF=0
D1_BLOCKS=4096		# 16 MiB, flushed before any fault
D2_OFF=$((32 * MB))
D2_BLOCKS=128		# 512 KiB, written when writes start failing
C_OFF=$((64 * MB))
C_BLOCKS=1024		# 4 MiB, written only into dropped writes
for g in d1:1:4096 d2:2:128 g2:3:4096 c2:4:1024; do
	IFS=: read -r tag seed n <<<"$g"
	python3 "$BLKPAT" gen "$T_TMP/$tag" "$n" --seed "$seed" --tag "$tag" \
		--dup 20 --comp 50 || fatal "blkpat gen $tag"
done

# flakey MODE: swap the table under ilio (reload + resume).
flakey() {
	local tbl
	case "$1" in
	healthy) tbl="0 $BSECT linear $BACK 0" ;;
	error_writes) tbl="0 $BSECT flakey $BACK 0 0 3600 1 error_writes" ;;
	error_all) tbl="0 $BSECT flakey $BACK 0 0 3600" ;;
	drop_writes) tbl="0 $BSECT flakey $BACK 0 0 3600 1 drop_writes" ;;
	esac
	assert_cmd "backing disk: $1" -- sh -c "dmsetup reload $FLK --table '$tbl' && dmsetup resume $FLK"
}

# check REGION_OFF BLOCKS EXPECT ALLOW DESC [--also FILE]...
check() {
	local off=$1 n=$2 exp=$3 allow=$4 desc=$5
	shift 5
	assert_cmd "$desc" -- python3 "$BLKPAT" check $DEV --off "$off" --blocks "$n" \
		--expect "$exp" --allow "$allow" "$@"
	last_output | head -n 1 | sed 's/^/# /'
}

mk_ilio() {
	assert_cmd "$1" -- dmsetup create $NAME --table "0 $LSECT ilio /dev/mapper/$FLK $RAM $FEAT"
}

fsync_dev() {
	python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_WRONLY); os.fsync(fd)' "$1"
}

assert_cmd "ilioctl format $BACK" -- "$ILIOCTL" format "$BACK"
assert_cmd "backing disk behind a swappable table ($FLK)" -- \
	dmsetup create $FLK --table "0 $BSECT linear $BACK 0"
mk_ilio "create ilio over $FLK (ram $RAM, coalesce always)"
dm_events() { dmsetup info -c --noheadings -o events "$1" | tr -d ' '; }
assert_cmd "the activation is in the kernel log" -- \
	sh -c "dmesg | grep -E 'ilio: $(dm_node $NAME): store on .* opened in [0-9]+ ms: 512 MiB logical'"

# --- (a) error_writes ------------------------------------------------------------
assert_cmd "write D1 (16 MiB) and fsync" -- \
	dd if="$T_TMP/d1" of=$DEV bs=64k seek=$((D1_OFF / 65536)) oflag=direct conv=fsync status=none
check $D1_OFF $D1_BLOCKS "$T_TMP/d1" L "D1 reads back"
flakey error_writes
assert_cmd "write D2 (512 KiB): acknowledged from RAM" -- \
	dd if="$T_TMP/d2" of=$DEV bs=64k seek=$((D2_OFF / 65536)) oflag=direct status=none
ev0=$(dm_events $NAME)
dmesg_mark
fsync_dev $DEV 2>"$T_TMP/fsync.err"
rc=$?
assert_ge "$rc" 1 "fsync over a failing backend fails"
if grep -q 'Input/output error' "$T_TMP/fsync.err"; then
	pass "the fsync error is EIO"
else
	fail "fsync error is not EIO: $(cat "$T_TMP/fsync.err")"
fi
dmesg_since | grep -iE 'ilio' | tail -n 3 | sed 's/^/# dmesg: /'
assert_eq "$(status_field $NAME 1)" read-only "mode is read-only after the failed write-back"
# dmsetup wait / dmeventd: the mode change raised a dm event (from a work
# item: give it a moment).
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(dm_events $NAME)" -gt "$ev0" ] && break
	sleep 0.2
done
assert_eq "$(($(dm_events $NAME) - ev0))" 1 "going read-only raised one dm event"
assert_cmd "dmsetup wait returns for it" -- timeout 10 dmsetup wait $NAME "$ev0"
assert_fails "a further write fails" -- \
	dd if="$T_TMP/d2" of=$DEV bs=4k count=1 seek=$((C_OFF / 4096)) oflag=direct status=none
fsync_dev $DEV 2>/dev/null
assert_ge $? 1 "a second fsync fails too (sticky error)"
check $D1_OFF $D1_BLOCKS "$T_TMP/d1" L "read-only: flushed D1 reads back"
check $D2_OFF $D2_BLOCKS "$T_TMP/d2" L "read-only: unflushed D2 still served from RAM"
assert_cmd "remove does not hang on the failing backend" -- timeout 120 dmsetup remove $NAME
flakey healthy
mk_ilio "re-create over the healthy disk"
assert_eq "$(status_field $NAME 1)" write "mode write after re-create"
check $D1_OFF $D1_BLOCKS "$T_TMP/d1" L "after re-create: D1 (flushed) intact"
check $D2_OFF $D2_BLOCKS /dev/zero L "after re-create: D2 (never durable) is not there"

# --- (b) erroring reads on a cold cache ---------------------------------------------------
assert_cmd "remove" -- dmsetup remove $NAME
mk_ilio "re-create (cold cache)"
bw0=$(status_field $NAME 15)
flakey error_all
check $D1_OFF $D1_BLOCKS "$T_TMP/d1" LE "backend reads failing: each D1 block is right or EIO"
e=$(last_output | sed -n 's/.* E=\([0-9]*\) .*/\1/p' | head -n 1)
assert_ge "${e:-0}" 1 "cold-cache reads surface EIO"
log "cache_hits=$(status_field $NAME 19) cache_misses=$(status_field $NAME 20)"
mode=$(status_field $NAME 1)
if [ "$mode" = write ]; then
	pass "read errors alone leave the mode at write"
elif [ "$(status_field $NAME 15)" != "$bw0" ]; then
	pass "mode $mode: a backend write was attempted while the disk was down"
else
	fail "mode changed to '$mode' on read errors alone"
fi
flakey healthy
check $D1_OFF $D1_BLOCKS "$T_TMP/d1" L "disk back: D1 reads correctly again"

# --- (c) drop_writes ----------------------------------------------------------------------
flakey drop_writes
assert_cmd "overwrite D1 with G2 and fsync (dropped)" -- \
	dd if="$T_TMP/g2" of=$DEV bs=64k seek=$((D1_OFF / 65536)) oflag=direct conv=fsync status=none
assert_cmd "write C (4 MiB) and fsync (dropped)" -- \
	dd if="$T_TMP/c2" of=$DEV bs=64k seek=$((C_OFF / 65536)) oflag=direct conv=fsync status=none
assert_eq "$(status_field $NAME 1)" write "dropped writes are not noticed (mode write)"
assert_cmd "remove" -- timeout 120 dmsetup remove $NAME
flakey healthy
mk_ilio "re-create after the lost writes"
check $D1_OFF $D1_BLOCKS "$T_TMP/g2" LO \
	"D1 region: the flushed D1 or the lost G2, never zero or garbage" --also "$T_TMP/d1"
check $C_OFF $C_BLOCKS "$T_TMP/c2" LZ "C region: the lost C or zero, never garbage"
check $D2_OFF $D2_BLOCKS /dev/zero L "D2 region still empty"
assert_eq "$(dmsetup message $NAME 0 check 2>&1)" ok "check: store consistent"
assert_cmd "remove" -- dmsetup remove $NAME
assert_cmd "remove $FLK" -- dmsetup remove $FLK
assert_eq "$(dd if="$BACK" bs=4096 skip=4 count=1 status=none | tr -d '\0' | wc -c)" 0 \
	"an unguarded store: the multihost record block was never written"
assert_cmd "rmmod dm_ilio" -- ilio_unload
finish
