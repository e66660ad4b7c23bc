#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-23-gc: garbage collection reclaims space under a long overwrite
# workload and never loses or mixes up data.  A 64 MiB backing disk with
# 256 KiB segments carries a 24 MiB working set of incompressible data (37%
# of the disk) overwritten 8 times (3x the disk) with an fdatasync every
# 4 MiB; fio verifies each pass with its write sequence numbers (a stale
# older copy fails).  Proves: no ENOSPC, gc_freed_segments and
# gc_moved_bytes grow, more bytes reach the backend than it holds (space is
# reused), the data survives remove + re-create exactly; then unique data
# written until the disk is full fails with ENOSPC (not EIO, mode stays
# write, nospc_errors grows) with everything written before intact, and
# after blkdiscard of the working set writes succeed again.
#
# vm-args: --mem 2048 --timeout 1200 --disk t23:64
# vm-time: 126

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd fio dmsetup dd blkdiscard cmp
ILIOCTL="$REPO/tools/ilioctl"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load

MB=1048576
BACK=$(vm_disk t23) || fatal "no t23 disk"
LSECT=$((256 * 2048))	# 256 MiB logical over 64 MiB
TABLE="0 $LSECT ilio $BACK 32"
NAME=t23
DEV=/dev/mapper/$NAME
WS=24	# working set, MiB
# Fixed bs: fio checks each block's write sequence number in the verify
# pass after every loop, so an older generation of a block is caught.
FIO_GC=(--name=gc "--filename=$DEV" --rw=randwrite --bs=8k "--size=${WS}M" --loops=8
	--fdatasync=512 --ioengine=libaio --iodepth=8 --direct=1 --verify=crc32c
	--verify_fatal=1 --verify_state_save=0 --randrepeat=0)

f() { status_field $NAME "$1"; }

assert_cmd "ilioctl format --segment-kb 256 (64 MiB)" -- "$ILIOCTL" format "$BACK" --segment-kb 256
assert_cmd "create 256 MiB over 64 MiB" -- dmsetup create $NAME --table "$TABLE"

t0=$SECONDS
assert_cmd "overwrite ${WS} MiB 8 times, fdatasync every 4 MiB, verify each pass" -- fio "${FIO_GC[@]}"
log "fio took $((SECONDS - t0)) s"
grep -E 'WRITE:|READ:' "$_T_LAST_OUT" | sed 's/^/# /'
log "gc_moved_bytes=$(f 22) gc_freed_segments=$(f 23) backend_write_bytes=$(f 16) nospc=$(f 17) mode=$(f 1)"
assert_eq "$(f 17)" 0 "no ENOSPC while live data is 37% of the disk"
assert_eq "$(f 1)" write "mode write"
assert_ge "$(f 23)" 1 "gc_freed_segments grew"
assert_ge "$(f 22)" 1 "gc_moved_bytes grew"
assert_ge "$(f 16)" $((96 * MB)) "the backend took more bytes than it holds (space reused)"
assert_eq "$(dmsetup message $NAME 0 check 2>&1)" ok "check: store consistent"

# What fio just verified (sequence numbers included) is the truth.
assert_cmd "snapshot the working set" -- read_dev $DEV 0 $((WS * MB)) "$T_TMP/ws"
assert_cmd "remove" -- dmsetup remove $NAME
assert_cmd "re-create" -- dmsetup create $NAME --table "$TABLE"
assert_rc 0 "working set identical after re-create" -- cmp_dev $DEV 0 $((WS * MB)) "$T_TMP/ws"

# --- fill to ENOSPC ------------------------------------------------------------------
dm_events() { dmsetup info -c --noheadings -o events "$1" | tr -d ' '; }
# wait_log REGEX: the kernel log shows it within 5 s (the 100 ms tick logs).
wait_log() {
	local i
	for ((i = 0; i < 25; i++)); do
		dmesg_since | grep -qE "$1" && return 0
		sleep 0.2
	done
	return 1
}
head -c $((64 * MB)) /dev/urandom >"$T_TMP/fill"
n0=$(f 17)
ev0=$(dm_events $NAME)
dmesg_mark
dd if="$T_TMP/fill" of=$DEV bs=1M seek=128 oflag=direct conv=fsync status=none 2>"$T_TMP/dd.err"
rc=$?
log "fill: $(head -n 2 "$T_TMP/dd.err")"
assert_ge "$rc" 1 "writing 64 MiB of unique data on top fails"
if grep -q 'No space left on device' "$T_TMP/dd.err"; then
	pass "the failure is ENOSPC"
else
	fail "the failure is not ENOSPC: $(cat "$T_TMP/dd.err")"
fi
assert_ge "$(f 17)" $((n0 + 1)) "nospc_errors grew"
assert_rc 0 "the kernel log says the backing device is full, not an errno" -- \
	sh -c "dmesg | grep -qE 'ilio: dm-[0-9]+: write at sector [0-9]+: backing device full: [0-9]+ MiB live in a [0-9]+ MiB log'"
assert_rc 0 "the kernel log says the backing device is nearly full" -- \
	wait_log "ilio: $(dm_node $NAME): backing device nearly full: [0-9]+ MiB live in a [0-9]+ MiB log"
dmesg_since | grep -E 'nearly full' | sed 's/^/# dmesg: /'
assert_ge "$(dm_events $NAME)" $((ev0 + 1)) "running out of space raised a dm event"
log "backend fill: $(f 24) bytes, $(f 25) free; stored $(f 4)"
assert_eq "$(f 1)" write "mode stays write on ENOSPC"
assert_rc 0 "working set intact after ENOSPC" -- cmp_dev $DEV 0 $((WS * MB)) "$T_TMP/ws"
good=0
for ((m = 0; m < 64; m++)); do
	cmp_dev $DEV $(((128 + m) * MB)) $MB "$T_TMP/fill" $((m * MB)) >/dev/null 2>&1 || break
	good=$((m + 1))
done
log "$good MiB of the fill were taken"
assert_ge "$good" 8 "the free space was usable before ENOSPC"

# --- discard frees space -----------------------------------------------------------
BLKPAT="$REPO/tests/vm/blkpat.py"
disc=0
wrote=0
ev1=$(dm_events $NAME)
assert_cmd "blkdiscard 1 MiB on the full device" -- blkdiscard -o 0 -l $MB $DEV
assert_cmd "blkdiscard the working set" -- blkdiscard -o 0 -l $((WS * MB)) $DEV && disc=1
assert_rc 0 "discarded range reads zeros" -- cmp_dev $DEV 0 $((WS * MB)) /dev/zero
assert_rc 0 "after the discard the kernel log says it is no longer nearly full" -- \
	wait_log "ilio: $(dm_node $NAME): backing device no longer nearly full"
assert_ge "$(dm_events $NAME)" $((ev1 + 1)) "and that raised a dm event too"
head -c $((8 * MB)) /dev/urandom >"$T_TMP/new"
assert_cmd "after the discard an 8 MiB write (fsync) succeeds" -- \
	dd if="$T_TMP/new" of=$DEV bs=1M seek=64 oflag=direct conv=fsync status=none && wrote=1
assert_rc 0 "and reads back" -- cmp_dev $DEV $((64 * MB)) $((8 * MB)) "$T_TMP/new"
assert_rc 0 "the fill data taken before ENOSPC is intact" -- \
	cmp_dev $DEV $((128 * MB)) $((good * MB)) "$T_TMP/fill"
log "nospc_errors=$(f 17) mode=$(f 1) dirty=$(f 18)"
assert_cmd "remove" -- dmsetup remove $NAME
assert_cmd "re-create" -- dmsetup create $NAME --table "$TABLE"
# Whatever failed above, acknowledged data must be there and nothing else.
assert_rc 0 "after re-create: fill data taken before ENOSPC intact" -- \
	cmp_dev $DEV $((128 * MB)) $((good * MB)) "$T_TMP/fill"
allow=L
[ "$disc" = 1 ] || allow=LO
assert_cmd "after re-create: working set discarded (or, where the discard failed, intact)" -- \
	python3 "$BLKPAT" check $DEV --off 0 --blocks $((WS * 256)) --expect /dev/zero \
	--also "$T_TMP/ws" --allow $allow
last_output | head -n 1 | sed 's/^/# /'
allow=L
[ "$wrote" = 1 ] || allow=LZ
assert_cmd "after re-create: the 8 MiB written after the discard" -- \
	python3 "$BLKPAT" check $DEV --off $((64 * MB)) --blocks 2048 --expect "$T_TMP/new" \
	--allow $allow
last_output | head -n 1 | sed 's/^/# /'
assert_eq "$(dmsetup message $NAME 0 check 2>&1)" ok "check: store consistent"
assert_cmd "remove" -- dmsetup remove $NAME
assert_cmd "rmmod dm_ilio" -- ilio_unload
finish
