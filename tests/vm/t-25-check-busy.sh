#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-25-check-busy: the "check" message is exact on a busy device (issue #7
# item 11).  fio readers (4 jobs, iodepth 16) and a writer of duplicate and
# compressible blocks hammer a diskless device, and then a persistent one,
# while "check" runs in a loop: every answer must be "ok" - no "pinned
# while idle", "sealed and empty" or refcount report for readers that are
# merely in flight - and the data the readers read stays byte for byte
# what was written.  (That a real inconsistency is still reported is
# proven in tests/unit/test-check.c, which can plant one.)
#
# vm-args: --mem 2048 --timeout 900 --disk t25:256 --smp 2
# vm-time: 78

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup fio python3 cmp
ILIOCTL="$REPO/tools/ilioctl"
BLKPAT="$REPO/tests/vm/blkpat.py"
DMMSG="$REPO/tests/vm/dmmsg.py"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load

MB=1048576
BACK=$(vm_disk t25) || fatal "no t25 disk"
LSECT=$((256 * 2048))

# hammer NAME DEV DATA_MB CHECKS: load DEV, run CHECKS checks, count answers.
hammer() {
	local name=$1 dev=$2 data_mb=$3 n=$4 r bad=0 first= pid answers
	assert_cmd "$name: golden data ($data_mb MiB, dup and compressible)" -- \
		python3 "$BLKPAT" gen "$T_TMP/gold" $((data_mb * 256)) --seed 25 --tag t25 \
		--dup 30 --comp 60
	assert_cmd "$name: write it" -- \
		dd if="$T_TMP/gold" of="$dev" bs=64k oflag=direct conv=fsync status=none
	fio --name=rd --filename="$dev" --ioengine=libaio --direct=1 --rw=randread \
		--bs=4k --iodepth=16 --numjobs=4 --offset=0 --size=${data_mb}M \
		--time_based --runtime=600 --group_reporting \
		--name=wr --filename="$dev" --ioengine=libaio --direct=1 --rw=randwrite \
		--bs=4k --iodepth=4 --numjobs=1 --offset=128M --size=16M \
		--dedupe_percentage=60 --buffer_compress_percentage=50 --refill_buffers \
		--time_based --runtime=600 >"$T_TMP/fio.$name.log" 2>&1 &
	pid=$!
	sleep 3
	# All the checks from one process (dmmsg.py): a dmsetup per check is
	# an exec that took a second each on this busy guest.
	mapfile -t answers < <(python3 "$DMMSG" "$name" "$n" check)
	assert_eq "${#answers[@]}" "$n" "$name: $n answers to $n checks"
	for r in "${answers[@]}"; do
		if [ "$r" != ok ]; then
			bad=$((bad + 1))
			[ -n "$first" ] || first=$r
			echo "$r" >>"$T_TMP/reports.$name"
		fi
	done
	kill -0 $pid 2>/dev/null && pass "$name: fio still running after the checks" ||
		fail "$name: fio ended early: $(tail -n 5 "$T_TMP/fio.$name.log")"
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	log "$name: $n checks under load, $bad not ok${first:+, first: $first}"
	[ -s "$T_TMP/reports.$name" ] &&
		log "$name: reports by kind: $(sed -E 's/^(chunk|segment) [0-9]+: //; s/[0-9]+/N/g' \
			"$T_TMP/reports.$name" | sort | uniq -c | tr -s ' \n' ' ')"
	assert_eq "$bad" 0 "$name: $n checks under load, every one ok${first:+ (first: $first)}"
	assert_rc 0 "$name: golden data intact (cmp)" -- cmp_dev "$dev" 0 $((data_mb * MB)) "$T_TMP/gold"
	assert_eq "$(dmsetup message "$name" 0 check 2>&1)" ok "$name: idle check ok"
}

assert_cmd "create diskless t25d (256 MiB, 96 MiB RAM)" -- \
	dmsetup create t25d --table "0 $LSECT ilio - 96"
# dmmsg.py answers what dmsetup answers, refusals included.
assert_eq "$(python3 "$DMMSG" t25d 2 check | paste -sd' ')" "ok ok" \
	"dmmsg.py: two checks of an idle device, ok"
assert_eq "$(python3 "$DMMSG" t25d 1 frobnicate)" "ERROR EINVAL" \
	"dmmsg.py: an unknown message is refused (EINVAL, as dmsetup says)"
assert_eq "$(python3 "$DMMSG" t25d 1 gc)" "$(dmsetup message t25d 0 gc)" \
	"dmmsg.py: gc answers what dmsetup message prints"
hammer t25d /dev/mapper/t25d 16 400
assert_cmd "remove t25d" -- dmsetup remove t25d

assert_cmd "ilioctl format $BACK" -- "$ILIOCTL" format "$BACK"
assert_cmd "create persistent t25p (16 MiB RAM, most reads from the disk)" -- \
	dmsetup create t25p --table "0 $LSECT ilio $BACK 16"
hammer t25p /dev/mapper/t25p 16 150
assert_cmd "remove t25p" -- dmsetup remove t25p
assert_cmd "rmmod dm_ilio" -- ilio_unload
finish
