#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-16-reload: a diskless store belongs to the mapped device, not to the
# table.  Proves that dmsetup reload + resume keeps every byte, that the new
# table's dedup/compress take effect, that ram_mb grows on reload and that a
# budget below the RAM in use fails the resume (device stays suspended) and
# a good table then resumes it with the data intact; that a shrink is
# refused; that suspend/resume keeps data and sysfs stays in place; and that
# the TABLE line is canonical.
#
# vm-args: --mem 2048 --timeout 600
# vm-time: 38

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup dd cmp
ilio_load

NAME=t16
DEV=/dev/mapper/$NAME
SECT=$((256 * 2048))	# 256 MiB
dd if=/dev/urandom of="$T_TMP/data" bs=1M count=32 status=none

assert_cmd "create 256 MiB, 64 MiB RAM" -- dmsetup create $NAME --table "0 $SECT ilio - 64"
assert_eq "$(dmsetup table $NAME)" "0 $SECT ilio - 64 6 dedup on compress lz4 block_size 4096" \
	"canonical TABLE line"
node=$(dm_node $NAME)
assert_cmd "write 32 MiB" -- dd if="$T_TMP/data" of=$DEV bs=1M oflag=direct status=none

# suspend/resume: data and sysfs stay
assert_cmd "suspend" -- dmsetup suspend $NAME
assert_cmd "resume" -- dmsetup resume $NAME
assert_rc 0 "data after suspend/resume" -- cmp_dev $DEV 0 $((32 << 20)) "$T_TMP/data"

# reload with dedup off, compress none, a bigger budget
assert_cmd "reload: dedup off, compress none, 128 MiB" -- \
	dmsetup reload $NAME --table "0 $SECT ilio - 128 6 dedup off compress none block_size 4096"
assert_cmd "resume after reload" -- dmsetup resume $NAME
assert_rc 0 "data survives the reload" -- cmp_dev $DEV 0 $((32 << 20)) "$T_TMP/data"
assert_eq "$(cat /sys/block/"$node"/ilio/ram_limit_bytes)" $((128 << 20)) "ram_mb grew to 128 MiB"
assert_eq "$(dmsetup table $NAME)" "0 $SECT ilio - 128 6 dedup off compress none block_size 4096" \
	"TABLE shows the new parameters"
dmsetup message $NAME 0 clear_stats
u0=$(sysfs_val $NAME unique_bytes)
assert_cmd "write the same 32 MiB again at 64 MiB" -- \
	dd if="$T_TMP/data" of=$DEV bs=1M seek=64 oflag=direct status=none
assert_eq "$(sysfs_val $NAME dedup_hits)" 0 "dedup off: no dedup hits"
assert_eq "$(sysfs_val $NAME unique_bytes)" $((u0 + (32 << 20))) "dedup off: the copy is stored"

# back on: duplicates of data written while it was off are found
assert_cmd "reload: dedup on" -- dmsetup reload $NAME --table "0 $SECT ilio - 128"
assert_cmd "resume" -- dmsetup resume $NAME
dmsetup message $NAME 0 clear_stats
assert_cmd "write the data a third time" -- \
	dd if="$T_TMP/data" of=$DEV bs=1M seek=128 oflag=direct status=none
assert_eq "$(sysfs_val $NAME dedup_hits)" 8192 "dedup on again: 8192 hits"

# a budget below what is in use: the resume fails, the device stays suspended
used=$(sysfs_val $NAME ram_used_bytes)
log "ram_used_bytes=$used"
assert_cmd "reload with ram_mb 4" -- dmsetup reload $NAME --table "0 $SECT ilio - 4"
dmesg_mark
assert_fails "resume with a budget below RAM in use" -- dmsetup resume $NAME
if dmesg_since | grep -q "cannot set ram_mb to 4"; then
	pass "kernel log says why"
else
	fail "no 'cannot set ram_mb' in dmesg"
fi
if dmsetup info $NAME | grep -q SUSPENDED; then
	pass "device stays suspended"
else
	fail "device not suspended"
fi
assert_cmd "reload a workable table" -- dmsetup reload $NAME --table "0 $SECT ilio - 128"
assert_cmd "resume" -- dmsetup resume $NAME
assert_rc 0 "data intact after the refused resume" -- cmp_dev $DEV 0 $((32 << 20)) "$T_TMP/data"
assert_rc 0 "copy at 128 MiB intact" -- cmp_dev $DEV $((128 << 20)) $((32 << 20)) "$T_TMP/data"

# a shrink is refused at load time (growing: t-28)
dmesg_mark
assert_fails "reload with a smaller size" -- dmsetup reload $NAME --table "0 $((SECT / 2)) ilio - 128"
if dmesg_since | grep -q "Cannot shrink an ilio device"; then
	pass "shrink refusal explained"
else
	fail "no shrink message"
fi
assert_rc 0 "data still intact" -- cmp_dev $DEV 0 $((32 << 20)) "$T_TMP/data"
assert_eq "$(dmsetup message $NAME 0 check)" ok "store consistent"

assert_cmd "remove" -- dmsetup remove $NAME
if [ -e "/sys/block/$node/ilio" ]; then
	fail "sysfs dir outlives the device"
else
	pass "sysfs dir gone"
fi
assert_cmd "unload" -- ilio_unload
finish
