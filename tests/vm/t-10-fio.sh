#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-10-fio: a diskless ilio device returns exactly what was written, under
# fio with iodepth > 1, sequential and random, bs 4k/8k/64k/1m (crc32c
# verify, including overwrites); with dedupable data (dedupe_percentage=80)
# and compressible data (buffer_compress_percentage=50) it matches a golden
# file byte for byte, finds the duplicates (dedup_hits, unique_bytes against
# a count of distinct blocks) and stores compressible data in less space.
#
# vm-args: --mem 3072 --timeout 1200 --smp 2
# vm-time: 156

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd fio dmsetup blockdev cmp python3
ilio_load

DEV_NAME=t10
DEV=/dev/mapper/$DEV_NAME
SECTORS=$((1024 * 1024 * 2))	# 1 GiB
RAM_MB=512

# mkdev [FEATURE ARGS...]: a fresh diskless device (removed first if there).
mkdev() {
	local feat=""
	[ $# -gt 0 ] && feat=" $# $*"
	[ -e "$DEV" ] && dmsetup remove "$DEV_NAME"
	dmsetup create "$DEV_NAME" --table "0 $SECTORS ilio - $RAM_MB$feat" ||
		fatal "cannot create $DEV_NAME ($feat)"
}

# fio_verify DESC FIO_ARGS...: write and crc32c-verify on a fresh device.
fio_verify() {
	local desc=$1
	shift
	mkdev
	assert_cmd "fio $desc" -- fio --name=t10 --filename="$DEV" --direct=1 \
		--ioengine=libaio --verify=crc32c --verify_fatal=1 \
		--verify_dump=0 --randrepeat=0 "$@"
}

mkdev
assert_eq "$(status_field $DEV_NAME 1)" write "fresh device is in write mode"
assert_eq "$(dev_sectors $DEV)" "$SECTORS" "device size"
assert_eq "$(status_field $DEV_NAME 2)" 0 "fresh device has logical_bytes 0"
assert_eq "$(cat "/sys/block/$(dm_node $DEV_NAME)/queue/logical_block_size")" 4096 \
	"default logical_block_size is 4096"
assert_eq "$(status_field $DEV_NAME 6)" $((RAM_MB * 1048576)) "ram_limit_bytes = ram_mb"

# A never-written device reads as zeros.
assert_cmd "unwritten device reads as zeros" -- cmp_dev "$DEV" 0 $((64 * 1048576)) /dev/zero

# Each job makes 64 (bs=1m) to 8192 (bs=4k) I/Os at its depth: what is
# proven (every block reads back as written) does not grow with the size,
# the run time does.
fio_verify "seq write bs=4k iodepth=16" --rw=write --bs=4k --iodepth=16 --size=32M
fio_verify "rand write bs=4k iodepth=16" --rw=randwrite --bs=4k --iodepth=16 --size=32M
fio_verify "rand write bs=8k iodepth=8" --rw=randwrite --bs=8k --iodepth=8 --size=32M --offset=256M
fio_verify "seq write bs=64k iodepth=8" --rw=write --bs=64k --iodepth=8 --size=32M
fio_verify "rand write bs=64k iodepth=8" --rw=randwrite --bs=64k --iodepth=8 --size=32M --offset=512M
fio_verify "seq write bs=1m iodepth=4" --rw=write --bs=1m --iodepth=4 --size=64M
fio_verify "rand write bs=1m iodepth=4" --rw=randwrite --bs=1m --iodepth=4 --size=64M --offset=768M
fio_verify "mixed bs 4k-256k rand write iodepth=8" --rw=randwrite --bsrange=4k-256k \
	--iodepth=8 --size=32M

# Overwrites: fill a region, then overwrite it all with other data and verify
# the second generation (the first must not show through).
mkdev
assert_cmd "fio first generation (no verify)" -- fio --name=gen1 --filename="$DEV" \
	--direct=1 --ioengine=libaio --iodepth=8 --rw=randwrite --bs=4k --size=32M \
	--randseed=1 --do_verify=0
assert_cmd "fio overwrite generation, verify" -- fio --name=gen2 --filename="$DEV" \
	--direct=1 --ioengine=libaio --iodepth=8 --rw=randwrite --bs=16k --size=32M \
	--randseed=2 --verify=crc32c --verify_fatal=1 --verify_dump=0
assert_cmd "fio concurrent readers and writers (randrw 4k iodepth=16, verify)" -- \
	fio --name=rw --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randrw --bs=4k --size=32M --offset=64M --verify=crc32c --verify_fatal=1 \
	--verify_dump=0 --numjobs=1

# Golden-file workloads: fio with a fixed seed writes the same bytes to a
# tmpfs file and to the device (libaio iodepth=8 is deterministic, buffered
# or direct), then cmp compares. No verify headers, so dedup and compression
# see the data fio was asked to make.
golden() {
	local out=$1 direct=$2
	shift 2
	fio --name=gold --filename="$out" --direct="$direct" --ioengine=libaio \
		--iodepth=8 --rw=write --size=64M --randseed=4242 --do_verify=0 \
		--refill_buffers "$@"
}

# distinct_blocks FILE: "<nonzero distinct 4k blocks> <nonzero blocks> <zero blocks>"
distinct_blocks() {
	python3 - "$1" <<'EOF'
import sys
seen = set()
nz = zero = 0
z = bytes(4096)
with open(sys.argv[1], 'rb') as f:
    while True:
        b = f.read(4096)
        if not b:
            break
        if b == z:
            zero += 1
        else:
            nz += 1
            seen.add(b)
print(len(seen), nz, zero)
EOF
}

# Dedup: 80% of blocks repeat earlier ones.
mkdev
golden "$T_TMP/dedup.gold" 0 --bs=4k --dedupe_percentage=80 >/dev/null ||
	fail "golden dedup file"
read -r uniq nz zero < <(distinct_blocks "$T_TMP/dedup.gold")
log "dedup golden: $nz nonzero blocks, $uniq distinct, $zero zero"
assert_le "$uniq" $((nz * 30 / 100)) "golden file has >= 70% duplicate blocks"
dmsetup message $DEV_NAME 0 clear_stats
assert_cmd "fio dedupe_percentage=80 bs=4k iodepth=8 to the device" -- \
	golden "$DEV" 1 --bs=4k --dedupe_percentage=80
assert_cmd "device matches the dedup golden file" -- \
	cmp_dev "$DEV" 0 $((64 * 1048576)) "$T_TMP/dedup.gold"
# Two equal blocks in flight at once may both be stored: allow 1%.
assert_near "$(status_field $DEV_NAME 7)" $((nz - uniq)) $((nz / 100)) \
	"dedup_hits = nonzero blocks - distinct blocks"
assert_near "$(status_field $DEV_NAME 3)" $((uniq * 4096)) $((nz * 4096 / 100)) \
	"unique_bytes = distinct blocks * 4096"
assert_eq "$(status_field $DEV_NAME 2)" $(((nz + zero) * 4096)) "logical_bytes = 64 MiB"
# The same data again at another offset: every block is a hit.
unique0=$(status_field $DEV_NAME 3)
dmsetup message $DEV_NAME 0 clear_stats
assert_cmd "fio dedupe_percentage=80 again at offset 128M" -- \
	golden "$DEV" 1 --bs=4k --dedupe_percentage=80 --offset=128M
assert_cmd "offset 128M matches the dedup golden file" -- \
	cmp_dev "$DEV" $((128 * 1048576)) $((64 * 1048576)) "$T_TMP/dedup.gold"
assert_eq "$(status_field $DEV_NAME 7)" "$nz" "rewriting the same data elsewhere: every block is a dedup hit"
assert_eq "$(status_field $DEV_NAME 3)" "$unique0" "unique_bytes unchanged"
rm -f "$T_TMP/dedup.gold"

# Compression: half of each buffer compressible, fresh random per I/O.
for bs in 4k 64k; do
	mkdev
	golden "$T_TMP/comp.gold" 0 --bs=$bs --buffer_compress_percentage=50 >/dev/null ||
		fail "golden compress file"
	assert_cmd "fio buffer_compress_percentage=50 bs=$bs iodepth=8 to the device" -- \
		golden "$DEV" 1 --bs=$bs --buffer_compress_percentage=50
	assert_cmd "device matches the compressible golden file (bs=$bs)" -- \
		cmp_dev "$DEV" 0 $((64 * 1048576)) "$T_TMP/comp.gold"
	unique=$(status_field $DEV_NAME 3)
	stored=$(status_field $DEV_NAME 4)
	log "bs=$bs unique_bytes=$unique stored_bytes=$stored"
	assert_ge "$unique" $((60 * 1048576)) "unique_bytes ~ 64 MiB of distinct blocks (bs=$bs)"
	assert_le "$stored" $((unique * 70 / 100)) "lz4 stores 50%-compressible data in <= 70% (bs=$bs)"
	rm -f "$T_TMP/comp.gold"
done

# Same data with compress none: stored == unique (raw).
mkdev compress none
golden "$DEV" 1 --bs=64k --buffer_compress_percentage=50 >/dev/null ||
	fail "fio compressible data to a compress none device"
unique=$(status_field $DEV_NAME 3)
stored=$(status_field $DEV_NAME 4)
assert_ge "$stored" "$unique" "compress none: stored_bytes >= unique_bytes"
assert_le "$stored" $((unique * 105 / 100)) "compress none: stored_bytes ~ unique_bytes"

# Every block is its own lz4 block, though each lane's lz4 stream keeps
# its hash table from block to block (ilio_compress_block()): with dedup
# off, blocks that repeat the one before them (the same, shifted by 7
# bytes, one byte changed), written in that order by one writer, must
# each decode alone.  Were an earlier block still the stream's
# dictionary, these would be encoded against it and read back wrong.
mkdev dedup off
python3 - "$T_TMP/rep.gold" <<'PY'
import os, sys
out = bytearray()
for i in range(256):
    a = os.urandom(2048) + bytes(2048)
    out += a + a + a[7:] + b"Z" * 7 + a[:2048] + bytes([a[2048] ^ 0xff]) + a[2049:]
open(sys.argv[1], "wb").write(out)
PY
assert_cmd "dedup off: write 1024 blocks repeating their neighbours" -- \
	dd if="$T_TMP/rep.gold" of="$DEV" bs=4k oflag=direct status=none
assert_le "$(status_field $DEV_NAME 4)" $((1024 * 4096 * 3 / 4)) \
	"dedup off: the blocks were compressed (stored_bytes)"
assert_rc 0 "dedup off: each reads back alone (cmp, direct)" -- \
	cmp <(dd if="$DEV" bs=4k count=1024 iflag=direct status=none) "$T_TMP/rep.gold"

dmsetup remove $DEV_NAME
assert_cmd "rmmod dm_ilio" -- ilio_unload
finish
