#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-11-blocksize512: a "block_size 512" device advertises 512-byte logical
# blocks and serves I/O that is not 4 KiB aligned by read-modify-write
# without corrupting neighbours: 1000 random odd-sized, odd-offset writes
# match a reference file byte for byte, 500 odd reads return the right bytes, a
# partial write into an unwritten chunk leaves the rest zero, and fio
# (bs=512 and bs=1536 at offset 512, bsrange 512-16k, iodepth=16: concurrent
# read-modify-writes of one chunk) verifies with crc32c. A default device
# refuses 512-byte O_DIRECT I/O.
#
# vm-args: --mem 3072 --timeout 900
# vm-time: 68

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

# Random odd-sized writes at odd sector offsets, mirrored into REF, then odd
# reads checked against REF. One python3 process does all of it with
# O_DIRECT pread/pwrite (forking a dd per I/O costs ~0.2 s under TCG).
# unaligned_io DEV REF NWRITES NREADS SEED: prints a summary, exit 0 if every
# I/O succeeded and every read matched.
# shellcheck disable=SC2317 # called through assert_cmd
unaligned_io() {
	python3 - "$@" <<'PYEOF'
import mmap, os, random, sys
dev, ref, nwr, nrd, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
SECT = 512
span = os.path.getsize(ref) // SECT
rng = random.Random(seed)
fd = os.open(dev, os.O_RDWR | os.O_DIRECT)
buf = mmap.mmap(-1, 64 * SECT)	# page aligned, as O_DIRECT wants
bad = 0
with open(ref, "r+b") as rf:
    for i in range(nwr):
        cnt = rng.randint(1, 33)
        off = rng.randrange(0, span - cnt)
        data = rng.randbytes(cnt * SECT)
        buf[:len(data)] = data
        try:
            n = os.pwritev(fd, [memoryview(buf)[:len(data)]], off * SECT)
            if n != len(data):
                raise OSError("short write %d" % n)
        except OSError as e:
            bad += 1
            if bad <= 3:
                print("write %d at sector %d x%d: %s" % (i, off, cnt, e))
        rf.seek(off * SECT)
        rf.write(data)
    rf.flush()
    for i in range(nrd):
        cnt = rng.randint(1, 17)
        off = rng.randrange(0, span - cnt)
        try:
            n = os.preadv(fd, [memoryview(buf)[:cnt * SECT]], off * SECT)
            if n != cnt * SECT:
                raise OSError("short read %d" % n)
            rf.seek(off * SECT)
            if buf[:cnt * SECT] != rf.read(cnt * SECT):
                raise OSError("data differs from the reference")
        except OSError as e:
            bad += 1
            if bad <= 6:
                print("read %d at sector %d x%d: %s" % (i, off, cnt, e))
os.close(fd)
print("%d writes, %d reads, %d bad" % (nwr, nrd, bad))
sys.exit(1 if bad else 0)
PYEOF
}

assert_cmd "1000 unaligned O_DIRECT writes (1-33 sectors) then 500 unaligned reads match" -- \
	unaligned_io "$DEV" "$REF" 1000 500 4242
log "$(last_output | tail -n 1)"
assert_cmd "device matches reference after the unaligned writes" -- \
	cmp_dev "$DEV" 0 $((64 * MB)) "$REF"

CHUNK="$T_TMP/chunk"
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
