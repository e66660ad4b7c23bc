#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-18-hugediscard: a discard of a whole huge, sparse device costs what was
# written, not the device size (issue #7 item 5).  On a 16 TiB device
# (2^32 blocks; diskless, then persistent over a 64 MiB brd) with four
# blocks written - the first, one at 1 GiB, one at 8 TiB, the last -
# blkdiscard of everything but the first and last block completes within
# 60 s under TCG (a block-by-block walk of 2^32 blocks takes hours), the
# first and last block keep their data, the two inside read back as zeros,
# logical_bytes is 8 KiB, and the persistent store recovers the same after
# a remove and a re-create.
#
# vm-args: --mem 1024 --timeout 900
# vm-time: 24

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup blkdiscard dd cmp timeout
ILIOCTL="$REPO/tools/ilioctl"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load

NAME=t18
DEV=/dev/mapper/$NAME
LEN=$((1 << 35))		# sectors: 16 TiB
NBLK=$((LEN / 8))
BLKS="0 $((1 << 18)) $((1 << 31)) $((NBLK - 1))"	# 0, 1 GiB, 8 TiB, last

# blk_is FILE BLOCK: block BLOCK of the device equals FILE.
blk_is() {
	dd if="$DEV" of="$T_TMP/got" bs=4096 skip="$2" count=1 iflag=direct status=none &&
		cmp -s "$1" "$T_TMP/got"
}

head -c 4096 /dev/zero >"$T_TMP/zero"
for b in $BLKS; do
	head -c 4096 /dev/urandom >"$T_TMP/p$b"
done

# check MODE: the first and last block hold their data, the others zeros.
check() {
	local mode=$1 b want
	for b in $BLKS; do
		want="$T_TMP/zero"
		if [ "$b" = 0 ] || [ "$b" = $((NBLK - 1)) ]; then
			want="$T_TMP/p$b"
		fi
		if blk_is "$want" "$b"; then
			pass "$mode: block $b reads back $( [ "$want" = "$T_TMP/zero" ] && echo zeros || echo its data)"
		else
			fail "$mode: block $b holds the wrong data"
		fi
	done
	assert_eq "$(status_field $NAME 2)" 8192 "$mode: logical_bytes is the two blocks left"
}

# run MODE TABLE_ARGS
run() {
	local mode=$1 args=$2 t0 t1 b
	assert_cmd "$mode: create a 16 TiB device" -- \
		dmsetup create $NAME --table "0 $LEN ilio $args"
	for b in $BLKS; do
		assert_cmd "$mode: write block $b" -- \
			dd if="$T_TMP/p$b" of="$DEV" bs=4096 seek="$b" count=1 oflag=direct status=none
	done
	t0=$(date +%s)
	assert_cmd "$mode: blkdiscard all but the first and last block" -- \
		timeout 300 blkdiscard -o 4096 -l $(((NBLK - 2) * 4096)) "$DEV"
	t1=$(date +%s)
	log "$mode: blkdiscard of 16 TiB took $((t1 - t0)) s"
	assert_le $((t1 - t0)) 60 "$mode: the discard took at most 60 s"
	check "$mode"
}

run diskless "- 128"
assert_cmd "diskless: remove" -- dmsetup remove $NAME

brd_setup 64
assert_cmd "format a 64 MiB brd" -- "$ILIOCTL" format /dev/ram0 --force
run persistent "/dev/ram0 128"
assert_cmd "persistent: remove" -- dmsetup remove $NAME
assert_cmd "persistent: re-create" -- dmsetup create $NAME --table "0 $LEN ilio /dev/ram0 128"
check "persistent, after re-create"
assert_cmd "persistent: remove again" -- dmsetup remove $NAME
brd_teardown
assert_cmd "rmmod dm_ilio" -- ilio_unload
finish
