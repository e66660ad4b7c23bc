#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-17-dedupkey: trust #7 item 3 (the dedup hash is forgeable), from the
# outside.  Proves: /sys/block/dm-N/ilio/dedup_candidates_capped exists and
# reads 0 after a normal workload (64 MiB random written twice: 16384 dedup
# hits), on a diskless and on a persistent device, and ilioctl status shows
# the same value (row and JSON, diskless); ilioctl format keys the store ("keyed hash:
# yes"), and a persistent store dedups against its own data after remove and
# re-create (same key from the superblock).  Then the attack itself: 2048
# distinct blocks forged to share one xxh64 at seed 0 (tests/vm/xxh64forge.py
# "spread") do not collide in a keyed store (capped stays 0, 2048 unique
# chunks), while 2048 blocks forged the cheap way ("tail", which falls into
# a handful of hashes under any key) are stored exactly, each write past the
# bound counted as capped.  A store formatted before keyed hashing
# (incompat 0x1, no key) opens, dedups with seed 0 across a re-create and
# keeps its superblock.  Every byte is compared with cmp.
#
# vm-args: --mem 2048 --timeout 900 --disk t17:256
# vm-time: 102

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup dd cmp python3
ILIOCTL="$REPO/tools/ilioctl"
FORGE="$REPO/tests/vm/xxh64forge.py"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load

MB=1048576
NAME=t17
DEV=/dev/mapper/$NAME
BACK=$(vm_disk t17) || fatal "no t17 disk (vm-args --disk t17:256)"
NFORGE=2048

capped() { sysfs_val $NAME dedup_candidates_capped; }
sysv() { sysfs_val $NAME "$1"; }

# ilioctl's view of the counter: the human row and the JSON key.
check_ilioctl_capped() {
	local want=$1 row json
	"$ILIOCTL" status $NAME >"$T_TMP/st.out" 2>"$T_TMP/st.err" ||
		log "ilioctl status $NAME failed: $(cat "$T_TMP/st.err"); table: $(dmsetup table $NAME | od -c | head -n 4)"
	row=$(awk -F'  +' '$2 == "dedup capped" { print $3 }' "$T_TMP/st.out")
	assert_eq "$row" "$want" "ilioctl status: dedup capped row ($2)"
	json=$("$ILIOCTL" status $NAME --json |
		python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["dedup_candidates_capped"])')
	assert_eq "$json" "$want" "ilioctl status --json: dedup_candidates_capped ($2)"
}

REF="$T_TMP/ref"
head -c $((64 * MB)) /dev/urandom >"$REF"

# --- diskless: a normal workload ----------------------------------------------
assert_cmd "create 512 MiB diskless device, ram 256" -- \
	dmsetup create $NAME --table "0 $((512 * 2048)) ilio - 256"
node=$(dm_node $NAME)
if [ -r "/sys/block/$node/ilio/dedup_candidates_capped" ]; then
	pass "sysfs has dedup_candidates_capped"
else
	fail "no /sys/block/$node/ilio/dedup_candidates_capped"
fi
assert_eq "$(capped)" 0 "fresh device: capped 0"
assert_cmd "write 64 MiB random at 0" -- dd if="$REF" of="$DEV" bs=1M oflag=direct status=none
assert_cmd "write it again at 64 MiB" -- \
	dd if="$REF" of="$DEV" bs=1M seek=64 oflag=direct status=none
assert_eq "$(sysv dedup_hits)" 16384 "second copy: 16384 dedup hits"
assert_eq "$(capped)" 0 "normal workload: capped 0"
check_ilioctl_capped 0 "diskless, normal workload"
assert_cmd "both copies read back" -- cmp_dev "$DEV" $((64 * MB)) $((64 * MB)) "$REF"

# --- the attack, on the same (keyed) device ------------------------------------
log "forging $NFORGE + $NFORGE blocks (python, slow under TCG)"
assert_cmd "forge spread blocks (one xxh64 at seed 0)" -- \
	python3 "$FORGE" spread $NFORGE "$T_TMP/spread"
assert_cmd "forge tail blocks (few hashes under any seed)" -- \
	python3 "$FORGE" tail $NFORGE "$T_TMP/tail"
assert_cmd "clear_stats" -- dmsetup message $NAME 0 clear_stats
u0=$(sysv unique_chunks)
assert_cmd "write the spread forgery at 128 MiB" -- \
	dd if="$T_TMP/spread" of="$DEV" bs=1M seek=128 oflag=direct status=none
assert_eq "$(capped)" 0 "blocks colliding at seed 0 do not collide under the store's key"
assert_eq "$(($(sysv unique_chunks) - u0))" $NFORGE "spread forgery: $NFORGE new chunks"
assert_eq "$(sysv dedup_hits)" 0 "spread forgery: nothing shared"
t0=$(date +%s%N)
assert_cmd "write the tail forgery at 144 MiB" -- \
	dd if="$T_TMP/tail" of="$DEV" bs=1M seek=144 oflag=direct status=none
t1=$(date +%s%N)
c=$(capped)
log "tail forgery: capped $c of $NFORGE, $(((t1 - t0) / 1000000)) ms for 8 MiB"
# A handful of hash values, each holding at most ILIO_DEDUP_BUDGET (4)
# uncapped writes before its chain is longer than the bound.
assert_ge "$c" $((NFORGE - 16 * 5)) "tail forgery: writes past the bound counted as capped"
assert_le "$c" $NFORGE "tail forgery: capped at most once per block"
assert_eq "$(($(sysv unique_chunks) - u0))" $((2 * NFORGE)) "tail forgery: stored, $NFORGE new chunks"
assert_eq "$(sysv dedup_hits)" 0 "tail forgery: nothing shared"
check_ilioctl_capped "$c" "diskless, after the attack"
assert_cmd "spread forgery reads back" -- cmp_dev "$DEV" $((128 * MB)) $((NFORGE * 4096)) "$T_TMP/spread"
assert_cmd "tail forgery reads back" -- cmp_dev "$DEV" $((144 * MB)) $((NFORGE * 4096)) "$T_TMP/tail"
assert_cmd "random data still reads back" -- cmp_dev "$DEV" 0 $((64 * MB)) "$REF"
assert_cmd "remove diskless" -- dmsetup remove $NAME

# --- persistent: the key comes from the superblock ------------------------------
assert_cmd "ilioctl format" -- "$ILIOCTL" format "$BACK" --force
keyed=$("$ILIOCTL" info "$BACK" | awk -F'  +' '$2 == "keyed hash" { print $3 }')
assert_eq "$keyed" yes "ilioctl info: keyed hash"
TABLE="0 $((512 * 2048)) ilio $BACK 128"
assert_cmd "create persistent device" -- dmsetup create $NAME --table "$TABLE"
assert_cmd "write 64 MiB random at 0" -- dd if="$REF" of="$DEV" bs=1M oflag=direct status=none
assert_cmd "write it again at 64 MiB" -- \
	dd if="$REF" of="$DEV" bs=1M seek=64 oflag=direct status=none
assert_eq "$(sysv dedup_hits)" 16384 "persistent: 16384 dedup hits"
assert_eq "$(capped)" 0 "persistent, normal workload: capped 0"
check_ilioctl_capped 0 "persistent, normal workload"
assert_cmd "remove persistent" -- dmsetup remove $NAME
assert_cmd "re-create persistent" -- dmsetup create $NAME --table "$TABLE"
assert_cmd "write the same data a third time at 128 MiB" -- \
	dd if="$REF" of="$DEV" bs=1M seek=128 oflag=direct status=none
assert_eq "$(sysv dedup_hits)" 16384 "after re-create: every block dedups against the stored data (same key)"
assert_eq "$(capped)" 0 "after re-create: capped 0"
assert_eq "$(sysv unique_bytes)" $((64 * MB)) "after re-create: 64 MiB unique"
for off in 0 64 128; do
	assert_cmd "copy at $off MiB reads back" -- cmp_dev "$DEV" $((off * MB)) $((64 * MB)) "$REF"
done
assert_cmd "remove persistent again" -- dmsetup remove $NAME

# --- a store formatted before keyed hashing still opens (seed 0) ----------------
assert_cmd "ilioctl format again" -- "$ILIOCTL" format "$BACK" --force
# As the formatter wrote it before: incompat 0x1 (lz4 only), no key.
cat >"$T_TMP/downgrade.py" <<'EOF'
import struct, sys

def crc32c(data, crc=0xffffffff):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc

with open(sys.argv[1], "r+b") as f:
    for n in (0, 1):
        f.seek(n * 4096)
        b = bytearray(f.read(4096))
        struct.pack_into("<Q", b, 64, 1)
        struct.pack_into("<Q", b, 96, 0)
        struct.pack_into("<I", b, 4, crc32c(bytes(b[:4]) + b"\0" * 4 + bytes(b[8:])))
        f.seek(n * 4096)
        f.write(b)
EOF
assert_cmd "rewrite both superblocks as an old formatter did" -- python3 "$T_TMP/downgrade.py" "$BACK"
keyed=$("$ILIOCTL" info "$BACK" | awk -F'  +' '$2 == "keyed hash" { print $3 }')
assert_eq "$keyed" "no (seed 0: formatted before keyed hashing)" "ilioctl info: an old store"
assert_cmd "create over the old store" -- dmsetup create $NAME --table "$TABLE"
assert_cmd "old store: write 64 MiB random at 0" -- dd if="$REF" of="$DEV" bs=1M oflag=direct status=none
assert_cmd "old store: remove" -- dmsetup remove $NAME
assert_cmd "old store: re-create" -- dmsetup create $NAME --table "$TABLE"
assert_cmd "old store: the same data at 64 MiB" -- \
	dd if="$REF" of="$DEV" bs=1M seek=64 oflag=direct status=none
assert_eq "$(sysv dedup_hits)" 16384 "old store: dedups against what it stored (seed 0 kept)"
assert_eq "$(capped)" 0 "old store: capped 0"
for off in 0 64; do
	assert_cmd "old store: copy at $off MiB reads back" -- cmp_dev "$DEV" $((off * MB)) $((64 * MB)) "$REF"
done
keyed=$("$ILIOCTL" info "$BACK" | awk -F'  +' '$2 == "keyed hash" { print $3 }')
assert_eq "$keyed" "no (seed 0: formatted before keyed hashing)" "the open did not rewrite the superblock"
assert_cmd "old store: remove again" -- dmsetup remove $NAME

assert_cmd "rmmod dm_ilio" -- ilio_unload
finish
