#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-11-blocksize512: a "block_size 512" device advertises 512-byte logical
# blocks and serves I/O that is not 4 KiB aligned by read-modify-write
# without corrupting neighbours: 250 random odd-sized, odd-offset dd writes
# match a reference file byte for byte, odd reads return the right bytes, a
# partial write into an unwritten chunk leaves the rest zero, and fio
# (bs=512 and bs=1536 at offset 512, bsrange 512-16k, iodepth=16: concurrent
# read-modify-writes of one chunk) verifies with crc32c. A default device
# refuses 512-byte O_DIRECT I/O.
#
# vm-args: --mem 3072 --timeout 900

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd fio dmsetup blockdev cmp dd
ilio_load

NAME=t11
DEV=/dev/mapper/$NAME
SECTORS=$((256 * 2048))	# 256 MiB
MB=1048576

assert_cmd "create block_size 512 device" -- \
	dmsetup create $NAME --table "0 $SECTORS ilio - 256 2 block_size 512"
[ -b "$DEV" ] || fatal "$DEV missing"
NODE=$(dm_node $NAME)
assert_eq "$(cat "/sys/block/$NODE/queue/logical_block_size")" 512 "logical_block_size is 512"
assert_eq "$(blockdev --getss "$DEV")" 512 "BLKSSZGET is 512"

# Reference: 64 MiB of random data, written aligned first.
REF="$T_TMP/ref"
head -c $((64 * MB)) /dev/urandom >"$REF"
assert_cmd "write 64 MiB reference aligned" -- \
	dd if="$REF" of="$DEV" bs=1M oflag=direct status=none
assert_cmd "device matches reference after the aligned write" -- \
	cmp_dev "$DEV" 0 $((64 * MB)) "$REF"

# Random odd-sized writes at odd sector offsets, mirrored into REF. The data
# comes from SRC (a fresh slice per write), so each write is 2 dd runs.
N_WR=250
SRC="$T_TMP/src"
head -c $((N_WR * 33 * 512)) /dev/urandom >"$SRC"
RANDOM=4242
bad=0
for ((i = 0; i < N_WR; i++)); do
	off=$(((RANDOM * 32768 + RANDOM) % (64 * 2048 - 40)))
	cnt=$((RANDOM % 33 + 1))
	if ! dd if="$SRC" of="$DEV" bs=512 skip=$((i * 33)) seek="$off" count="$cnt" \
		oflag=direct status=none 2>"$T_TMP/dd.err"; then
		bad=$((bad + 1))
		[ "$bad" -le 3 ] && log "dd write at sector $off x$cnt failed: $(cat "$T_TMP/dd.err")"
	fi
	dd if="$SRC" of="$REF" bs=512 skip=$((i * 33)) seek="$off" count="$cnt" \
		conv=notrunc status=none
done
assert_eq "$bad" 0 "$N_WR unaligned O_DIRECT writes succeeded"
assert_cmd "device matches reference after $N_WR unaligned writes" -- \
	cmp_dev "$DEV" 0 $((64 * MB)) "$REF"

# Odd reads.
CHUNK="$T_TMP/chunk"
badr=0
for ((i = 0; i < 100; i++)); do
	off=$(((RANDOM * 32768 + RANDOM) % (64 * 2048 - 40)))
	cnt=$((RANDOM % 17 + 1))
	if ! dd if="$DEV" of="$CHUNK" bs=512 skip="$off" count="$cnt" \
		iflag=direct status=none ||
		! cmp -s -n $((cnt * 512)) -i $((off * 512)):0 "$REF" "$CHUNK"; then
		badr=$((badr + 1))
		[ "$badr" -le 3 ] && log "odd read at sector $off x$cnt wrong"
	fi
done
assert_eq "$badr" 0 "100 unaligned O_DIRECT reads return the reference bytes"

# A 512-byte write into a never-written chunk: the rest of it reads as zero.
head -c 512 /dev/urandom >"$CHUNK"
assert_cmd "512-byte write into an unwritten chunk" -- \
	dd if="$CHUNK" of="$DEV" bs=512 seek=$((200 * 2048 + 3)) count=1 oflag=direct status=none
read_dev "$DEV" $((200 * MB)) 4096 "$T_TMP/blk"
assert_cmd "sectors 0-2 of that chunk are zero" -- cmp -n 1536 /dev/zero "$T_TMP/blk"
assert_cmd "sector 3 holds the data" -- cmp -n 512 -i 0:1536 "$CHUNK" "$T_TMP/blk"
assert_cmd "sectors 4-7 are zero" -- cmp -n 2048 -i 0:2048 /dev/zero "$T_TMP/blk"

fio_512() {
	local desc=$1
	shift
	assert_cmd "fio $desc" -- fio --name=t11 --filename="$DEV" --direct=1 \
		--ioengine=libaio --verify=crc32c --verify_fatal=1 --verify_dump=0 \
		--randrepeat=0 "$@"
}
fio_512 "randwrite bs=512 iodepth=16" --rw=randwrite --bs=512 --iodepth=16 \
	--offset=64M --size=8M
fio_512 "seq write bs=1536 offset 512 iodepth=16" --rw=write --bs=1536 --iodepth=16 \
	--offset=$((80 * MB + 512)) --size=12M
fio_512 "randwrite bs=1536 offset 512 iodepth=16" --rw=randwrite --bs=1536 \
	--iodepth=16 --offset=$((96 * MB + 512)) --size=12M
fio_512 "randwrite bsrange=512-16k blockalign=512 iodepth=16" --rw=randwrite \
	--bsrange=512-16k --blockalign=512 --iodepth=16 --offset=112M --size=16M
fio_512 "randrw bs=512 iodepth=16 (reads racing read-modify-writes)" --rw=randrw \
	--bs=512 --iodepth=16 --offset=128M --size=4M
# The reference region survived the neighbours' traffic.
assert_cmd "reference region intact after the fio jobs" -- \
	cmp_dev "$DEV" 0 $((64 * MB)) "$REF"

assert_cmd "remove" -- dmsetup remove $NAME

# A default (4096) device refuses 512-byte O_DIRECT I/O.
assert_cmd "create default device" -- \
	dmsetup create $NAME --table "0 $SECTORS ilio - 64"
assert_eq "$(blockdev --getss "$DEV")" 4096 "default device BLKSSZGET is 4096"
assert_fails "512-byte O_DIRECT write to a 4096 device is refused" -- \
	dd if="$CHUNK" of="$DEV" bs=512 seek=1 count=1 oflag=direct status=none
assert_cmd "remove" -- dmsetup remove $NAME

assert_cmd "rmmod dm_ilio" -- ilio_unload
finish
