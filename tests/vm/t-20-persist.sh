#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-20-persist: a persistent ilio device keeps every byte across
# dmsetup remove, module unload/reload and re-create over the same backing
# disk: fio crc32c data (random 4k/8k/64k, including a full overwrite whose
# write sequence numbers fio checks, then compared byte for byte with what
# was served before, so an older generation cannot pass) and a
# dedup/compression-friendly golden image compared with cmp.  Also proves:
# the constructor refuses an unformatted and an ext4 device with a clear
# kernel message and leaves them untouched (and ilioctl format refuses ext4
# without --force); the queue advertises a write-back cache with FUA; status
# has 25 fields; after dmsetup suspend dirty_bytes is 0 and a copy of the
# backing disk taken while suspended holds everything (opened read-only);
# a read-only table serves reads, refuses writes and writes nothing to its
# backing device; reload with another coalesce policy keeps the data and
# "coalesce off" writes through; a table with another length is refused;
# with "coalesce always" 4k random writes reach the backend in >= 10x fewer
# I/Os; backend_write_size_hist sums to backend_write_ios; an 8 KiB read
# miss costs one backend read; random hint messages during verified fio
# runs change no data, and the class map comes back after re-create.
#
# vm-args: --mem 3072 --timeout 1200 --disk t20:384
# vm-time: 185

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd fio dmsetup blockdev cmp dd python3 mkfs.ext4 blkid sha256sum
ILIOCTL="$REPO/tools/ilioctl"
BLKPAT="$REPO/tests/vm/blkpat.py"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load

MB=1048576
NAME=t20
DEV=/dev/mapper/$NAME
BACK=$(vm_disk t20) || fatal "no t20 disk (vm-args --disk t20:384)"
LSECT=$((1024 * 2048))	# 1 GiB logical over 384 MiB of backing
RAM=128

# table [FEATURES [LEN [BACKING]]]: a persistent ilio table line.
table() {
	local feat=${1:-} len=${2:-$LSECT} back=${3:-$BACK} n
	if [ -n "$feat" ]; then
		n=$(wc -w <<<"$feat")
		echo "0 $len ilio $back $RAM $n $feat"
	else
		echo "0 $len ilio $back $RAM"
	fi
}

# refused DESC TABLE GREP: dmsetup create fails, the kernel says GREP
# (extended regex, case-insensitive) in an ilio line, nothing is left behind.
refused() {
	local desc=$1 tbl=$2 re=$3
	dmesg_mark
	assert_fails "refuses $desc" -- dmsetup create t20bad --table "$tbl"
	if dmesg_since | grep -i 'ilio' | grep -qiE "$re"; then
		pass "kernel log explains ($desc): $(dmesg_since | grep -i ilio | tail -n 1)"
	else
		fail "no ilio message matching '$re' for $desc; dmesg: $(dmesg_since | tail -n 3)"
	fi
	if dmsetup info t20bad >/dev/null 2>&1; then
		fail "device t20bad left behind after $desc"
		dmsetup remove t20bad >/dev/null 2>&1
	fi
}

# Region A1 (0..36M): written, then overwritten completely (FIO_A1B).
# Region A2 (40M..76M): written once.  Both crc32c, random bs mix.  Each
# pass writes more than max_dirty_mb (RAM / 4 = 32 MiB).
FIO_COMMON=(--ioengine=libaio --iodepth=8 --direct=1
	--verify=crc32c --verify_fatal=1 --verify_state_save=0 --rw=randwrite)
FIO_A1A=(--name=a1a "${FIO_COMMON[@]}" --offset=0 --size=36M
	--bssplit=4k/50:8k/30:64k/20 --randseed=11)
FIO_A1B=(--name=a1b "${FIO_COMMON[@]}" --offset=0 --size=36M --bs=8k --randseed=12)
FIO_A2=(--name=a2 "${FIO_COMMON[@]}" --offset=40M --size=36M
	--bssplit=4k/40:8k/40:64k/20 --randseed=13)
B_OFF=$((256 * MB))	# golden image region
B_BLOCKS=6144		# 24 MiB
GOLD="$T_TMP/golden"

# verify_all DEV DESC: every region holds its last content.  fio's
# verify_only checks each block's header and checksum, which an older
# generation of the block also passes; the snapshot of A taken while live
# (after fio's own verify, which checks write sequence numbers for the
# fixed-bs overwrite) makes the check exact.
verify_all() {
	local d=$1 desc=$2
	assert_cmd "$desc: fio verify_only A1 (overwritten generation)" -- \
		fio "${FIO_A1B[@]}" --filename="$d" --verify_only=1
	assert_cmd "$desc: fio verify_only A2" -- \
		fio "${FIO_A2[@]}" --filename="$d" --verify_only=1
	assert_rc 0 "$desc: A1 and A2 byte for byte as served before (no older generation)" -- \
		cmp_dev "$d" 0 $((76 * MB)) "$T_TMP/imgA"
	assert_rc 0 "$desc: golden image (cmp)" -- cmp_dev "$d" $B_OFF $((B_BLOCKS * 4096)) "$GOLD"
	assert_rc 0 "$desc: never-written space reads as zeros" -- \
		cmp_dev "$d" $((200 * MB)) $((16 * MB)) /dev/zero
}

# --- refusals: unformatted, ext4 ------------------------------------------------
refused "an unformatted (zeroed) device" "$(table)" "superblock|format"
assert_rc 0 "the refused device is untouched (still zeros)" -- \
	cmp -n $((4 * MB)) /dev/zero "$BACK"

brd_setup 384 1
assert_cmd "mkfs.ext4 on ram0" -- mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=1 /dev/ram0
sum0=$(head -c $((16 * MB)) /dev/ram0 | sha256sum)
refused "an ext4 device" "$(table "" "" /dev/ram0)" "superblock|format"
assert_eq "$(head -c $((16 * MB)) /dev/ram0 | sha256sum)" "$sum0" "the ext4 device is untouched (first 16 MiB)"
assert_fails "ilioctl format refuses an ext4 device without --force" -- \
	"$ILIOCTL" format /dev/ram0
assert_eq "$(blkid -o value -s TYPE /dev/ram0)" ext4 "ext4 still there after the refused format"

# --- format, create ---------------------------------------------------------------
assert_cmd "ilioctl format $BACK" -- "$ILIOCTL" format "$BACK"
assert_cmd "create persistent $NAME (1 GiB over 384 MiB, ram $RAM)" -- \
	dmsetup create $NAME --table "$(table)"
log "table: $(dmsetup table $NAME)"
NODE=$(dm_node $NAME)
assert_eq "$(dmsetup status $NAME | awk '{ print NF - 3 }')" 25 "status has 25 INFO fields"
# Fields 24 and 25: the log area and its free part, as sysfs counts segments.
assert_eq "$(status_field $NAME 24)" $(($(sysfs_val $NAME nr_segments) * MB)) \
	"backend_bytes = nr_segments x 1 MiB"
assert_eq "$(status_field $NAME 25)" $(($(sysfs_val $NAME free_segments) * MB)) \
	"backend_free_bytes = free_segments x 1 MiB"
assert_ge "$(status_field $NAME 24)" $((300 * MB)) "the log area is most of the 384 MiB LUN"
assert_eq "$(status_field $NAME 1)" write "mode is write"
assert_eq "$(cat "/sys/block/$NODE/queue/write_cache")" "write back" "queue: write back cache"
assert_eq "$(cat "/sys/block/$NODE/queue/fua")" 1 "queue: fua 1"
assert_eq "$(dev_sectors $DEV)" $LSECT "logical size"
assert_rc 0 "fresh store reads zeros" -- cmp_dev $DEV 0 $((8 * MB)) /dev/zero

# --- data -----------------------------------------------------------------------
bw0=$(status_field $NAME 15)
# Hints are advisory: random hint messages (every class, random ranges,
# a clear of the whole device every 16th) run beside the first two fio
# jobs, whose data fio verifies, and later everything is verified again
# after remove and re-create.  Each hint is saved on the backing device.
hint_loop() {
	local i=0 ok=0 bad=0 start nr cls
	local classes=(pin nocache temp normal clear)
	while [ ! -e "$T_TMP/hints.stop" ]; do
		start=$(( (RANDOM * 32768 + RANDOM) % LSECT ))
		nr=$(( 1 + (RANDOM * 32768 + RANDOM) % 65536 ))
		[ $((start + nr)) -le $LSECT ] || nr=$((LSECT - start))
		cls=${classes[$((RANDOM % 5))]}
		[ $((i % 16)) = 15 ] && cls=clear start=0 nr=$LSECT
		if dmsetup message $NAME 0 hint $cls $start $nr 2>>"$T_TMP/hints.err"; then
			ok=$((ok + 1))
		else
			bad=$((bad + 1))
		fi
		i=$((i + 1))
	done
	echo "$ok $bad" >"$T_TMP/hints.count"
}
rm -f "$T_TMP/hints.stop" "$T_TMP/hints.count"
hint_loop &
hint_pid=$!
assert_cmd "fio A1 first generation (random 4k/8k/64k, verify), random hints beside it" -- \
	fio "${FIO_A1A[@]}" --filename=$DEV
assert_cmd "fio A1 overwritten completely, bs 8k (verify incl. write sequence numbers)" -- \
	fio "${FIO_A1B[@]}" --filename=$DEV
touch "$T_TMP/hints.stop"
wait $hint_pid
read -r hints_ok hints_bad <"$T_TMP/hints.count"
assert_ge "$hints_ok" 20 "random hints were applied during the verified fio runs ($hints_ok)"
assert_eq "$hints_bad" 0 "no random hint was refused ($(head -c 300 "$T_TMP/hints.err"))"
assert_cmd "one more hint, so that the map is not empty" -- dmsetup message $NAME 0 hint pin 4096 808
assert_cmd "the class map after the random hints" -- dmsetup message $NAME 0 hints
t20_hints=$(cat "$_T_LAST_OUT")
assert_cmd "fio A2 (verify)" -- fio "${FIO_A2[@]}" --filename=$DEV
assert_ge $(($(status_field $NAME 24) - $(status_field $NAME 25))) $((16 * MB)) \
	"the data fills segments of the log area (backend_bytes - backend_free_bytes)"
assert_cmd "golden image: blkpat gen (40% dup, 50% compressible, 10% zero)" -- \
	python3 "$BLKPAT" gen "$GOLD" $B_BLOCKS --seed 20 --tag t20 --dup 40 --comp 50 --zero 10
dh0=$(status_field $NAME 7)
assert_cmd "write the golden image (dd 64k direct)" -- \
	dd if="$GOLD" of=$DEV bs=64k seek=$((B_OFF / 65536)) oflag=direct conv=fsync status=none
assert_ge $(($(status_field $NAME 7) - dh0)) 1000 "golden image found duplicates (dedup_hits)"
assert_rc 0 "golden image reads back (cmp)" -- cmp_dev $DEV $B_OFF $((B_BLOCKS * 4096)) "$GOLD"
assert_cmd "snapshot A1+A2 as served now" -- read_dev $DEV 0 $((76 * MB)) "$T_TMP/imgA"

# --- suspend: everything reaches the backend -----------------------------------------
assert_cmd "dmsetup suspend" -- dmsetup suspend $NAME
assert_eq "$(status_field $NAME 18)" 0 "suspended: dirty_bytes is 0"
assert_ge "$(status_field $NAME 15)" $((bw0 + 1)) "backend_write_ios grew"
bwio=$(status_field $NAME 15)
hist=$(sysfs_val $NAME backend_write_size_hist)
assert_eq "$(wc -w <<<"$hist")" 10 "backend_write_size_hist has 10 buckets"
assert_eq "$(($(tr ' ' '+' <<<"$hist")))" "$bwio" "backend_write_size_hist sums to backend_write_ios"
assert_eq "$(sysfs_val $NAME backend_write_ios)" "$bwio" "sysfs backend_write_ios = status"
# The copy taken now is what a crash at this moment would leave.
assert_cmd "copy the backing disk while suspended" -- \
	dd if="$BACK" of=/dev/ram0 bs=1M iflag=direct oflag=direct status=none
assert_cmd "dmsetup resume" -- dmsetup resume $NAME

# --- reload with another policy ------------------------------------------------------
assert_cmd "reload with coalesce off" -- dmsetup reload $NAME --table "$(table "coalesce off")"
assert_cmd "resume" -- dmsetup resume $NAME
log "table: $(dmsetup table $NAME)"
assert_rc 0 "golden image intact after reload" -- cmp_dev $DEV $B_OFF $((B_BLOCKS * 4096)) "$GOLD"
head -c $MB /dev/urandom >"$T_TMP/thru"
b0=$(status_field $NAME 15)
assert_cmd "coalesce off: 256 sequential 4k writes" -- \
	dd if="$T_TMP/thru" of=$DEV bs=4k seek=$((300 * 256)) oflag=direct status=none
b1=$(status_field $NAME 15)
log "coalesce off: backend_write_ios +$((b1 - b0)) for 256 front writes"
assert_ge $((b1 - b0)) 128 "coalesce off writes through (a backend write per block or so)"

# --- write offload with coalesce always ------------------------------------------------
assert_cmd "reload with coalesce always" -- dmsetup reload $NAME --table "$(table "coalesce always")"
assert_cmd "resume" -- dmsetup resume $NAME
assert_cmd "clear_stats" -- dmsetup message $NAME 0 clear_stats
assert_cmd "fio 4k random writes, 32 MiB, iodepth 8" -- \
	fio --name=off --filename=$DEV --ioengine=libaio --iodepth=8 --direct=1 \
	--rw=randwrite --bs=4k --offset=512M --size=32M --randseed=5
assert_cmd "suspend (write back)" -- dmsetup suspend $NAME
fw=$(status_field $NAME 11)
bw=$(status_field $NAME 15)
bb=$(status_field $NAME 16)
hist=$(sysfs_val $NAME backend_write_size_hist)
log "front_write_ios=$fw backend_write_ios=$bw backend_write_bytes=$bb hist: $hist"
assert_ge "$fw" 8192 "front_write_ios counts the 8192 writes"
assert_ge "$bw" 1 "backend writes happened"
if [ "${bw:-0}" -gt 0 ] 2>/dev/null; then
	log "write offload $((fw / bw))x, average backend write $((bb / bw / 1024)) KiB"
	assert_ge "$fw" $((10 * bw)) "coalesce always: front writes >= 10x backend writes"
fi
assert_eq "$(($(tr ' ' '+' <<<"$hist")))" "$bw" "after clear_stats: hist still sums to backend_write_ios"
assert_cmd "resume" -- dmsetup resume $NAME

# --- remove, unload, reload the module ---------------------------------------------------
assert_cmd "dmsetup remove" -- dmsetup remove $NAME
assert_cmd "rmmod dm_ilio" -- ilio_unload
ilio_load

# The copy taken while suspended, opened read-only.
# The copy through a dm-linear, whose I/O counters (/sys/block/dm-N/stat)
# show every write and discard that reaches it: cheaper than hashing the
# 384 MiB before and after (30 s under TCG), and it also sees a write of
# the same bytes.
assert_cmd "dm-linear t20cp over the copy" -- \
	dmsetup create t20cp --table "0 $(dev_sectors /dev/ram0) linear /dev/ram0 0"
CPSTAT=/sys/block/$(dm_node t20cp)/stat
assert_cmd "create --readonly over the suspended-time copy" -- \
	dmsetup create --readonly t20ro --table "$(table "" "" /dev/mapper/t20cp)"
assert_eq "$(status_field t20ro 1)" read-only "read-only table: mode read-only"
verify_all /dev/mapper/t20ro "copy taken while suspended"
assert_fails "read-only device refuses a write" -- \
	dd if="$T_TMP/thru" of=/dev/mapper/t20ro bs=4k count=1 oflag=direct status=none
assert_eq "$(status_field t20ro 15)" 0 "read-only device wrote nothing to its backend"
assert_cmd "remove t20ro" -- dmsetup remove t20ro
assert_ge "$(awk '{ print $3 }' "$CPSTAT")" 1 "the read-only activation read the copy (sectors read)"
assert_eq "$(awk '{ print $5, $7, $12, $14 }' "$CPSTAT")" "0 0 0 0" \
	"read-only activation left the backing copy untouched (writes, sectors written, discards, sectors discarded)"
assert_cmd "remove t20cp" -- dmsetup remove t20cp
brd_teardown

# --- re-create over the same disk --------------------------------------------------------
refused "a table of another length over the same store" "$(table "" $((LSECT * 2)))" "size|length|blocks"
t0=$(date +%s%N)
assert_cmd "re-create $NAME over the same disk" -- dmsetup create $NAME --table "$(table)"
log "re-create took $((($(date +%s%N) - t0) / 1000000)) ms"
assert_eq "$(status_field $NAME 1)" write "mode write after re-create"
assert_cmd "hints after re-create" -- dmsetup message $NAME 0 hints
[ "$(cat "$_T_LAST_OUT")" = "$t20_hints" ] && grep -q '^pin ' "$_T_LAST_OUT" &&
	pass "the class map came back after remove, rmmod and re-create" ||
	fail "class map after re-create: $(head -c 300 "$_T_LAST_OUT") (was $(head -c 300 <<<"$t20_hints"))"
# Nothing is cached yet: an 8 KiB read of two neighbouring records (the
# coalesce-off region, written in order) is one backend read, not two.
r0=$(status_field $NAME 13)
assert_rc 0 "8 KiB read miss (direct)" -- \
	cmp <(dd if=$DEV bs=8k skip=$((300 * MB / 8192 + 3)) count=1 iflag=direct status=none) \
	<(dd if="$T_TMP/thru" bs=8k skip=3 count=1 status=none)
r1=$(status_field $NAME 13)
assert_eq $((r1 - r0)) 1 "an 8 KiB read miss costs one backend read"
verify_all $DEV "after remove + rmmod + re-create"
assert_rc 0 "coalesce-off data intact" -- cmp_dev $DEV $((300 * MB)) $MB "$T_TMP/thru"
assert_eq "$(dmsetup message $NAME 0 check 2>&1)" ok "check: store consistent"
assert_cmd "final remove" -- dmsetup remove $NAME

# --- the budget is what the kernel spends -----------------------------------------------
# ram_used_bytes must be the memory the store really takes: after 96 MiB
# were written back, the clean cache holds them all (its entries, headers
# included, at least the stored payload bytes), and the kernel's
# unreclaimable slab plus vmalloc pages grew by at most 10% (+ 4 MiB) more
# than ram_used_bytes says.  A cache entry of a raw 4 KiB block used to
# be a kmalloc of 4 KiB + its header: the 8 KiB size class, twice what
# was charged (and about as much for a 2 KiB compressed one).
kern_kb() {
	echo $(($(mem_kb SUnreclaim) + $(mem_kb VmallocUsed)))
}
budget_check() {
	local what=$1 used k0 k1 i
	shift
	brd_setup 160 1
	assert_cmd "budget, $what: format a 160 MiB RAM disk" -- "$ILIOCTL" format /dev/ram0
	k0=$(kern_kb)
	assert_cmd "budget, $what: create" -- \
		dmsetup create t20b --table "0 $((128 * 2048)) ilio /dev/ram0 320"
	assert_cmd "budget, $what: write 96 MiB, fsync" -- fio --name=b --filename=/dev/mapper/t20b \
		--rw=write --bs=1M --size=96M --direct=1 --ioengine=psync --end_fsync=1 "$@"
	for ((i = 0; i < 100; i++)); do
		[ "$(sysfs_val t20b dirty_bytes)" = 0 ] && break
		sleep 0.2
	done
	assert_eq "$(sysfs_val t20b dirty_bytes)" 0 "budget, $what: everything written back in 20 s"
	used=$(sysfs_val t20b ram_used_bytes)
	k1=$(kern_kb)
	log "budget, $what: cache_bytes $(sysfs_val t20b cache_bytes), ram_used_bytes $used," \
		"kernel memory (SUnreclaim + VmallocUsed) grew $((k1 - k0)) kB"
	assert_ge "$(sysfs_val t20b cache_bytes)" "$(sysfs_val t20b stored_bytes)" \
		"budget, $what: the clean cache holds all 96 MiB (cache_bytes >= stored_bytes)"
	assert_le $((k1 - k0)) $((used / 1024 * 11 / 10 + 4096)) \
		"budget, $what: kernel memory grew at most ram_used_bytes + 10% + 4 MiB (kB)"
	# And the charge is not inflated: the cache really holds what it says.
	assert_ge $((k1 - k0)) $(($(sysfs_val t20b cache_bytes) / 1024 * 9 / 10)) \
		"budget, $what: kernel memory grew at least 90% of cache_bytes (kB)"
	assert_cmd "budget, $what: remove" -- dmsetup remove t20b
	brd_teardown
}
budget_check "incompressible" --refill_buffers
budget_check "50% compressible" --refill_buffers --buffer_compress_percentage=50 \
	--buffer_compress_chunk=4k
assert_cmd "rmmod dm_ilio" -- ilio_unload
finish
