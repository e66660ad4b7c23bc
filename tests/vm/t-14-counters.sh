#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-14-counters: the status INFO fields and sysfs files report exactly what a
# known workload did: 25 fields in the documented order (which is
# dm-ilio/ilio-fields.h's; sysfs holds exactly that header's files), sysfs
# equal to status, clear_stats zeroing the I/O counters but not the space gauges,
# 8192 dedup hits for 32 MiB of random data written a second time,
# logical = 2 x unique, 4096 zero_blocks for 16 MiB of zeros with no new
# unique data, front read/write byte counts, no backend I/O when diskless,
# unique space freed when the last reference goes, dedup off storing both
# copies, and lz4 shrinking compressible data that compress none keeps raw.
# Diskless: the persistent-only sysfs files (scope PERSISTENT in
# ilio-fields.h) are absent and their status fields 0; "gc" runs the
# compactor and answers why it did nothing, or what it moved and freed.
#
# vm-args: --mem 3072 --timeout 900
# vm-time: 95

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup dd python3 cmp fio
ilio_load

MB=1048576
NAME=t14
DEV=/dev/mapper/$NAME
FIELDS=(mode logical_bytes unique_bytes stored_bytes ram_used_bytes ram_limit_bytes
	dedup_hits zero_blocks front_read_ios front_read_bytes front_write_ios
	front_write_bytes backend_read_ios backend_read_bytes backend_write_ios
	backend_write_bytes nospc_errors dirty_bytes cache_hits cache_misses
	flushes gc_moved_bytes gc_freed_segments backend_bytes backend_free_bytes)

f() { status_field $NAME "$1"; }

# The one definition of the fields (dm-ilio/ilio-fields.h), and the files
# of scope PERSISTENT in it, which a diskless device does not show.
hdr=$(bash "$REPO/tests/unit/ilio-fields-list.sh" "$REPO")
PERSISTENT=" $(awk '$1 == "persistent" { print $3 }' <<<"$hdr" | paste -sd' ') "
persistent_only() { [[ "$PERSISTENT" == *" $1 "* ]]; }

# field index by name (1-based)
field_idx() {
	local i
	for i in "${!FIELDS[@]}"; do
		[ "${FIELDS[$i]}" = "$1" ] && echo $((i + 1)) && return
	done
}
st() { f "$(field_idx "$1")"; }

# Diskless: a persistent-only field has no sysfs file, and its status
# field is 0; every other field's file equals its status field.
check_sysfs_matches_status() {
	local i name sv fv bad=0 sa
	# One status line for all 25 fields, and sysfs read by a builtin.
	status_fields $NAME sa
	for i in "${!FIELDS[@]}"; do
		name=${FIELDS[$i]}
		fv=${sa[$((i + 1))]}
		if persistent_only "$name"; then
			sv=absent
			[ -e "/sys/block/$node/ilio/$name" ] && sv=present
			[ "$fv" = 0 ] || sv="$sv, status '$fv'"
			[ "$sv" = absent ] || { bad=$((bad + 1)); log "persistent-only $name: $sv"; }
			continue
		fi
		sv=
		read -r sv 2>/dev/null <"/sys/block/$node/ilio/$name"
		if [ "$sv" != "$fv" ]; then
			bad=$((bad + 1))
			log "sysfs $name='$sv' status='$fv'"
		fi
	done
	assert_eq "$bad" 0 "sysfs equals status for all 25 fields, persistent-only ones absent and 0 ($1)"
}

assert_cmd "create 1 GiB diskless device, ram 512" -- \
	dmsetup create $NAME --table "0 $((1024 * 2048)) ilio - 512"
log "status: $(dmsetup status $NAME)"
assert_eq "$(dmsetup status $NAME | awk '{ print NF }')" 28 "status has 3 + 25 fields"
node=$(dm_node $NAME)
missing=
for n in "${FIELDS[@]}" unique_chunks; do
	persistent_only "$n" && continue
	[ -r "/sys/block/$node/ilio/$n" ] || missing="$missing $n"
done
assert_eq "$missing" "" "sysfs has every field but the persistent-only ones, plus unique_chunks"
shown=
for n in $PERSISTENT; do
	[ -e "/sys/block/$node/ilio/$n" ] && shown="$shown $n"
done
assert_eq "$shown" "" "diskless: no persistent-only file (dirty_bytes, checkpoints, backend_write_size_hist, ...)"
assert_ge "$(wc -w <<<"$PERSISTENT")" 18 "ilio-fields.h names the persistent-only files"
assert_eq "$(stat -c %a "/sys/block/$node/ilio/"* | sort -u | paste -sd' ')" 444 \
	"every sysfs file is world-readable and read-only (0444, as Documentation/ABI says)"
# The one definition (dm-ilio/ilio-fields.h) agrees with the documented
# order above, and the module's sysfs files are exactly its rows.
assert_eq "mode $(awk '$1 ~ /^status_/ { print $3 }' <<<"$hdr" | paste -sd' ')" "${FIELDS[*]}" \
	"status fields are ilio-fields.h's, in its order"
assert_eq "$(ls "/sys/block/$node/ilio/" | sort | paste -sd' ')" \
	"$(awk '$1 == "persistent" { p[$3] = 1; next } $1 != "mode" && !($3 in p) { print $3 }' \
		<(grep '^persistent ' <<<"$hdr"; grep -v '^persistent ' <<<"$hdr") | sort | paste -sd' ')" \
	"diskless: sysfs holds exactly the files of ilio-fields.h of scope ANY"
assert_eq "$(dmsetup message $NAME 0 gc)" \
	"compacted 0 segments: no sealed RAM segment is at most 3/4 live" \
	"gc on a fresh diskless device: nothing to compact, and why"
assert_eq "$(st mode)" write "mode"
assert_eq "$(st ram_limit_bytes)" $((512 * MB)) "ram_limit_bytes"
assert_eq "$(st backend_bytes) $(st backend_free_bytes)" "0 0" "diskless: no backing device, no fill"
assert_fails "an unknown message is refused" -- dmsetup message $NAME 0 frobnicate
check_sysfs_matches_status "fresh"

REF="$T_TMP/ref"
head -c $((32 * MB)) /dev/urandom >"$REF"
assert_cmd "write 32 MiB random at 0" -- dd if="$REF" of="$DEV" bs=1M oflag=direct status=none

gauges_before=$(for n in logical_bytes unique_bytes stored_bytes ram_used_bytes ram_limit_bytes; do st $n; done | tr '\n' ' ')
assert_cmd "clear_stats" -- dmsetup message $NAME 0 clear_stats
gauges_after=$(for n in logical_bytes unique_bytes stored_bytes ram_used_bytes ram_limit_bytes; do st $n; done | tr '\n' ' ')
assert_eq "$gauges_after" "$gauges_before" "clear_stats keeps the space gauges"
nonzero=
status_fields $NAME sa
for ((i = 7; i <= 23; i++)); do
	[ "${sa[$i]}" = 0 ] || nonzero="$nonzero ${FIELDS[$((i - 1))]}=${sa[$i]}"
done
assert_eq "$nonzero" "" "clear_stats zeroes fields 7-17 and 19-23 (diskless: 18 is 0)"

assert_cmd "write the same 32 MiB at 32 MiB" -- \
	dd if="$REF" of="$DEV" bs=1M seek=32 oflag=direct status=none
log "status: $(dmsetup status $NAME)"
assert_eq "$(st dedup_hits)" 8192 "dedup_hits = 8192 (32 MiB / 4 KiB)"
assert_eq "$(st front_write_bytes)" $((32 * MB)) "front_write_bytes = 32 MiB"
assert_ge "$(st front_write_ios)" 32 "front_write_ios >= 32 (1 MiB writes, maybe split)"
assert_eq "$(st front_read_ios)" 0 "front_read_ios = 0"
assert_eq "$(st zero_blocks)" 0 "zero_blocks = 0"
logical=$(st logical_bytes)
unique=$(st unique_bytes)
stored=$(st stored_bytes)
assert_eq "$logical" $((64 * MB)) "logical_bytes = 64 MiB"
assert_near "$unique" $((32 * MB)) $((MB / 2)) "unique_bytes ~ 32 MiB"
assert_near $((2 * unique)) "$logical" $((MB)) "logical_bytes ~ 2 x unique_bytes"
assert_le "$stored" $((unique * 102 / 100)) "random data stored raw: stored <= unique + 2%"
assert_ge "$stored" $((unique * 95 / 100)) "random data does not compress: stored >= 95% unique"
assert_eq $(($(sysfs_val $NAME unique_chunks) * 4096)) "$unique" "unique_chunks x 4096 = unique_bytes"
assert_ge "$(st ram_used_bytes)" "$stored" "ram_used_bytes >= stored_bytes"
assert_le "$(st ram_used_bytes)" "$(st ram_limit_bytes)" "ram_used_bytes <= ram_limit_bytes"
for n in backend_read_ios backend_read_bytes backend_write_ios backend_write_bytes nospc_errors; do
	assert_eq "$(st $n)" 0 "diskless: $n = 0"
done
check_sysfs_matches_status "after the dedup workload"
# ilioctl status --prometheus reports the kernel's values: each sample
# equals its sysfs file (the device is idle, so they cannot move).
prom=$("$REPO/tools/ilioctl" status --prometheus $NAME)
bad=0
declare -A PROM
while read -r key val _; do
	PROM[$key]=$val
done <<<"$prom"
status_fields $NAME sa
for i in "${!FIELDS[@]}"; do
	n=${FIELDS[$i]}
	[ "$n" = mode ] && continue
	pv=${PROM["ilio_$n{device=\"$NAME\"}"]-}${PROM["ilio_${n}_total{device=\"$NAME\"}"]-}
	# A persistent-only field has no file here: its status field (0).
	if persistent_only "$n"; then
		sv=${sa[$((i + 1))]}
	else
		read -r sv <"/sys/block/$node/ilio/$n"
	fi
	if [ "$pv" != "$sv" ]; then
		bad=$((bad + 1))
		log "prometheus $n='$pv' sysfs/status='$sv'"
	fi
done
assert_eq "$bad" 0 "ilioctl status --prometheus: every field equals sysfs"
assert_eq "$(grep -c "^ilio_mode{device=\"$NAME\",mode=\"write\"} 1$" <<<"$prom")" 1 \
	"ilioctl status --prometheus: the mode"
assert_cmd "both copies read back" -- cmp_dev "$DEV" $((32 * MB)) $((32 * MB)) "$REF"

# Reads.
dmsetup message $NAME 0 clear_stats
assert_cmd "read 32 MiB" -- dd if="$DEV" of=/dev/null bs=1M count=32 iflag=direct status=none
assert_eq "$(st front_read_bytes)" $((32 * MB)) "front_read_bytes = 32 MiB"
assert_ge "$(st front_read_ios)" 32 "front_read_ios >= 32"
assert_eq "$(st front_write_ios)" 0 "front_write_ios = 0 after reads only"

# Zeros.
dmsetup message $NAME 0 clear_stats
u0=$(st unique_bytes)
assert_cmd "write 16 MiB of zeros at 256 MiB" -- \
	dd if=/dev/zero of="$DEV" bs=1M seek=256 count=16 oflag=direct status=none
assert_eq "$(st zero_blocks)" 4096 "zero_blocks = 4096"
assert_eq "$(st unique_bytes)" "$u0" "zeros add no unique_bytes"
log "dedup_hits after zeros: $(st dedup_hits)"
assert_cmd "zeros read back" -- cmp_dev "$DEV" $((256 * MB)) $((16 * MB)) /dev/zero

# Overwrite 0..32M with new data: the old chunks live on through 32..64M.
REF2="$T_TMP/ref2"
head -c $((32 * MB)) /dev/urandom >"$REF2"
assert_cmd "overwrite 0..32 MiB with new random data" -- \
	dd if="$REF2" of="$DEV" bs=1M oflag=direct status=none
assert_near "$(st unique_bytes)" $((64 * MB)) $((MB)) "unique_bytes ~ 64 MiB (both generations referenced)"
assert_cmd "blkdiscard 32..64 MiB (last reference to the first generation)" -- \
	blkdiscard -o $((32 * MB)) -l $((32 * MB)) "$DEV"
assert_near "$(st unique_bytes)" $((32 * MB)) $((MB)) "unique_bytes back to ~32 MiB"
assert_cmd "new generation intact" -- cmp_dev "$DEV" 0 $((32 * MB)) "$REF2"
check_sysfs_matches_status "after overwrite and discard"
# gc on a diskless device is the compactor: overwrite random 4k blocks of
# 0..32 MiB, so that the segments written there are partly dead, then gc
# empties those at most 3/4 live and says what it moved and freed.
assert_cmd "overwrite 8192 random 4k blocks of 0..32 MiB" -- \
	fio --name=holes --filename="$DEV" --rw=randwrite --bs=4k --size=32M \
	--number_ios=8192 --ioengine=psync --direct=1 --randseed=14 --norandommap
c0=$(sysfs_val $NAME compactions)
m0=$(sysfs_val $NAME compact_moved_bytes)
ans=$(dmsetup message $NAME 0 gc)
log "gc: $ans"
re='^compacted ([0-9]+) segments: moved ([0-9]+) bytes, RAM used ([0-9]+) -> ([0-9]+) bytes$'
if [[ "$ans" =~ $re ]]; then
	pass "gc on a diskless device answers what the compactor did: $ans"
	assert_ge "${BASH_REMATCH[1]}" 1 "gc compacted segments"
	assert_eq "$(($(sysfs_val $NAME compactions) - c0))" "${BASH_REMATCH[1]}" \
		"the answer's segments = the growth of compactions"
	assert_eq "$(($(sysfs_val $NAME compact_moved_bytes) - m0))" "${BASH_REMATCH[2]}" \
		"the answer's bytes moved = the growth of compact_moved_bytes"
	assert_le "${BASH_REMATCH[4]}" "${BASH_REMATCH[3]}" "compaction did not grow RAM use"
	assert_eq "${BASH_REMATCH[4]}" "$(st ram_used_bytes)" "the answer's RAM used = ram_used_bytes"
else
	fail "gc on a diskless device: unexpected answer '$ans'"
fi
assert_cmd "remove" -- dmsetup remove $NAME

# dedup off keeps both copies.
assert_cmd "create dedup off device" -- \
	dmsetup create $NAME --table "0 $((1024 * 2048)) ilio - 512 2 dedup off"
dd if="$REF" of="$DEV" bs=1M oflag=direct status=none
dd if="$REF" of="$DEV" bs=1M seek=32 oflag=direct status=none
assert_eq "$(st dedup_hits)" 0 "dedup off: no dedup hits"
assert_near "$(st unique_bytes)" $((64 * MB)) $((MB)) "dedup off: unique_bytes ~ 64 MiB"
assert_cmd "dedup off: data intact" -- cmp_dev "$DEV" $((32 * MB)) $((32 * MB)) "$REF"
assert_cmd "remove" -- dmsetup remove $NAME

# Compressible, all-distinct blocks: an 8-byte block number then text.
python3 - "$T_TMP/text" <<'EOF'
import sys
line = b"The quick brown fox jumps over the lazy dog. dm-ilio test data. "
body = (line * (4096 // len(line) + 1))[:4088]
with open(sys.argv[1], "wb") as f:
    for i in range(32 * 256):
        f.write(i.to_bytes(8, "little") + body)
EOF
for comp in lz4 none; do
	assert_cmd "create compress $comp device" -- \
		dmsetup create $NAME --table "0 $((1024 * 2048)) ilio - 512 2 compress $comp"
	dd if="$T_TMP/text" of="$DEV" bs=1M oflag=direct status=none
	unique=$(st unique_bytes)
	stored=$(st stored_bytes)
	log "compress $comp: unique=$unique stored=$stored"
	assert_near "$unique" $((32 * MB)) $((MB / 4)) "compress $comp: unique_bytes ~ 32 MiB (blocks distinct)"
	if [ $comp = lz4 ]; then
		assert_le "$stored" $((unique / 4)) "lz4: text stored in <= 1/4 of its size"
	else
		assert_ge "$stored" "$unique" "compress none: stored_bytes >= unique_bytes"
	fi
	assert_cmd "compress $comp: data intact" -- cmp_dev "$DEV" 0 $((32 * MB)) "$T_TMP/text"
	assert_cmd "remove" -- dmsetup remove $NAME
done

assert_cmd "rmmod dm_ilio" -- ilio_unload
finish
