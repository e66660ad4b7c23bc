#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-12-discard-enospc: discard reads back as zeros, leaves its neighbours
# intact and lowers logical_bytes (and unique_bytes); a diskless device whose
# RAM budget is full fails writes with ENOSPC (not EIO, no corruption): the
# data written before is intact byte for byte, nospc_errors counts the
# failures, ram_used_bytes stays within ram_limit_bytes, and after a discard
# frees space writes work again.
#
# vm-args: --mem 3072 --timeout 900
# vm-time: 69

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup blockdev blkdiscard cmp dd
ilio_load

MB=1048576
NAME=t12
DEV=/dev/mapper/$NAME

# --- discard -------------------------------------------------------------------
assert_cmd "create 1 GiB diskless device, ram 512" -- \
	dmsetup create $NAME --table "0 $((1024 * 2048)) ilio - 512"
NODE=$(dm_node $NAME)
dmax=$(cat "/sys/block/$NODE/queue/discard_max_bytes")
assert_ge "$dmax" 4096 "device advertises discard (discard_max_bytes)"

REF="$T_TMP/ref"
head -c $((64 * MB)) /dev/urandom >"$REF"
assert_cmd "write 64 MiB random at 0" -- dd if="$REF" of="$DEV" bs=1M oflag=direct status=none
l0=$(status_field $NAME 2)
u0=$(status_field $NAME 3)
assert_eq "$l0" $((64 * MB)) "logical_bytes = 64 MiB"

assert_cmd "blkdiscard 32 MiB at 16 MiB" -- blkdiscard -o $((16 * MB)) -l $((32 * MB)) "$DEV"
assert_cmd "discarded range reads as zeros" -- cmp_dev "$DEV" $((16 * MB)) $((32 * MB)) /dev/zero
assert_cmd "data before the discard intact" -- cmp_dev "$DEV" 0 $((16 * MB)) "$REF"
assert_cmd "data after the discard intact" -- \
	cmp_dev "$DEV" $((48 * MB)) $((16 * MB)) "$REF" $((48 * MB))
assert_eq "$(status_field $NAME 2)" $((l0 - 32 * MB)) "logical_bytes dropped by 32 MiB"
assert_le "$(status_field $NAME 3)" $((u0 - 32 * MB + MB)) "unique_bytes dropped by ~32 MiB"

# Discard of a partial chunk range at 4k granularity, and of never-written
# space, must not fail.
assert_cmd "blkdiscard 4 KiB at 1 MiB + 4 KiB" -- blkdiscard -o $((MB + 4096)) -l 4096 "$DEV"
assert_cmd "that 4 KiB reads as zeros" -- cmp_dev "$DEV" $((MB + 4096)) 4096 /dev/zero
assert_cmd "its neighbours are intact" -- cmp_dev "$DEV" $MB 4096 "$REF" $MB
assert_cmd "its neighbours are intact (after)" -- \
	cmp_dev "$DEV" $((MB + 8192)) 4096 "$REF" $((MB + 8192))
assert_cmd "blkdiscard of never-written space" -- blkdiscard -o $((512 * MB)) -l $((256 * MB)) "$DEV"
assert_cmd "blkdiscard the whole device" -- blkdiscard "$DEV"
assert_eq "$(status_field $NAME 2)" 0 "logical_bytes 0 after discarding everything"
assert_eq "$(status_field $NAME 3)" 0 "unique_bytes 0 after discarding everything"
assert_cmd "whole first 64 MiB reads as zeros" -- cmp_dev "$DEV" 0 $((64 * MB)) /dev/zero
assert_cmd "remove" -- dmsetup remove $NAME

# --- ENOSPC --------------------------------------------------------------------
RAM=64
assert_cmd "create 1 GiB diskless device, ram $RAM" -- \
	dmsetup create $NAME --table "0 $((1024 * 2048)) ilio - $RAM"
assert_eq "$(status_field $NAME 6)" $((RAM * MB)) "ram_limit_bytes = $RAM MiB"

# Incompressible, unique data; more than the budget can hold.
head -c $((2 * RAM * MB)) /dev/urandom >"$REF"
dmesg_mark
dd if="$REF" of="$DEV" bs=1M oflag=direct status=noxfer 2>"$T_TMP/dd.err"
rc=$?
log "dd: $(head -n 2 "$T_TMP/dd.err")"
assert_ge "$rc" 1 "writing $((2 * RAM)) MiB into a $RAM MiB budget fails"
if grep -q 'No space left on device' "$T_TMP/dd.err"; then
	pass "the failure is ENOSPC"
else
	fail "the failure is not ENOSPC: $(cat "$T_TMP/dd.err")"
fi
dmesg_since | grep -m 1 'ilio' | sed 's/^/# dmesg: /'
assert_ge "$(dmesg_since | grep -cE "ilio: dm-[0-9]+: write at sector [0-9]+: RAM budget full: [0-9]+ of $RAM MiB used")" \
	1 "the kernel log says which space is full, not an errno"
assert_eq "$(dmesg_since | grep -cE 'ilio: .* failed: -28')" 0 "and no raw -28"
# How far did it get? Find the first MiB that does not match (dd's own count
# is not reliable for the failing record).
good=0
for ((m = 0; m < 2 * RAM; m++)); do
	cmp_dev "$DEV" $((m * MB)) $MB "$REF" $((m * MB)) >/dev/null 2>&1 || break
	good=$((m + 1))
done
log "$good MiB written before ENOSPC"
assert_ge "$good" $((RAM / 2)) "at least half the budget held data before ENOSPC"
assert_le "$good" "$RAM" "no more than the budget was accepted"
# Everything dd got acknowledged is intact: records written = good MiB.
recs=$(sed -n 's/^\([0-9]*\)+[0-9]* records out$/\1/p' "$T_TMP/dd.err")
if [ -n "$recs" ]; then
	assert_ge "$good" "$recs" "all $recs acknowledged MiB read back intact"
else
	fail "cannot parse dd's records out: $(cat "$T_TMP/dd.err")"
fi
assert_ge "$(status_field $NAME 17)" 1 "nospc_errors > 0"
assert_ge "$(sysfs_val $NAME nospc_errors)" 1 "sysfs nospc_errors > 0"
assert_le "$(status_field $NAME 5)" "$(status_field $NAME 6)" "ram_used_bytes <= ram_limit_bytes"
log "mode after ENOSPC: $(status_field $NAME 1)"

# A second write after ENOSPC fails the same way, and reads still work.
assert_fails "a further unique write fails" -- \
	dd if="$REF" of="$DEV" bs=1M skip=$((RAM + 10)) seek=$((RAM + 10)) count=1 \
	oflag=direct status=none
assert_cmd "data still intact after the failed write" -- cmp_dev "$DEV" 0 $((good * MB)) "$REF"

# Free space: discard the first half of what was written, then write again.
half=$((good / 2))
assert_cmd "blkdiscard the first $half MiB" -- blkdiscard -o 0 -l $((half * MB)) "$DEV"
head -c $((4 * MB)) /dev/urandom >"$T_TMP/new"
assert_cmd "after the discard a 4 MiB write succeeds" -- \
	dd if="$T_TMP/new" of="$DEV" bs=1M seek=512 oflag=direct status=none
assert_cmd "and reads back" -- cmp_dev "$DEV" $((512 * MB)) $((4 * MB)) "$T_TMP/new"
assert_cmd "the undiscarded data is still intact" -- \
	cmp_dev "$DEV" $((half * MB)) $(((good - half) * MB)) "$REF" $((half * MB))
assert_eq "$(status_field $NAME 1)" write "mode is write again after space was freed"
assert_cmd "remove" -- dmsetup remove $NAME

assert_cmd "rmmod dm_ilio" -- ilio_unload
finish
