#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-24-lifecycle: the life of a persistent device around its table, its
# backing LUN and its messages (issue #7 items 8, 9, 10).
#  (8) "dmsetup table" of a persistent device names the backing device it
#      really opened - the exact canonical line, with the device as
#      major:minor - even after many other table loads and ioctls reused
#      the memory of the loading ioctl; the printed line reloads to the same
#      device, and the reloaded table prints the same line.
#  (9) one backing LUN carries one store: a second ilio device over the same
#      LUN (by the same path, or by major:minor) is refused with "backing
#      device is already used by another ilio device", and the refused
#      create writes nothing to the LUN (its write counters, taken while the
#      first device is suspended, do not move); the first device's data is
#      intact, a reload of it still works, and after it is removed the LUN
#      can be used again.
# (10) gc, compact and checkpoint are refused with EBUSY while the device is
#      suspended and no write reaches the LUN (its counters); check and
#      clear_stats still work; after resume they all work.  In read-only
#      mode (a read-only table, and read-only after a backend write error
#      through dm-flakey error_writes) they are refused with EROFS and
#      check still answers "ok".
#
# vm-args: --mem 1536 --timeout 900 --disk t24a:128 --disk t24b:128
# vm-time: 129

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup dd cmp stat python3
ILIOCTL="$REPO/tools/ilioctl"
BLKPAT="$REPO/tests/vm/blkpat.py"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load
/sbin/modprobe dm_flakey || fatal "modprobe dm_flakey failed"

MB=1048576
A=$(vm_disk t24a) || fatal "no t24a disk"
B=$(vm_disk t24b) || fatal "no t24b disk"
LSECT=$((256 * 2048))	# 256 MiB logical over 128 MiB
RAM=32
NAME=t24
DEV=/dev/mapper/$NAME
FEAT="coalesce always flush_interval_ms 5000 max_dirty_mb 8"

# majmin DEV: "major:minor" of a block device node.
majmin() {
	printf '%d:%d\n' "0x$(stat -L -c %t "$1")" "0x$(stat -L -c %T "$1")"
}

# names_dev WORD DEV: WORD (a path or major:minor) names block device DEV.
names_dev() {
	local want got
	want=$(majmin "$2")
	case "$1" in
	*:*) got=$1 ;;
	/*) [ -b "$1" ] && got=$(majmin "$1") ;;
	esac
	[ "${got:-}" = "$want" ]
}

# canon BACKDEV: the canonical TABLE line of $NAME over BACKDEV.
canon() {
	echo "0 $LSECT ilio $(majmin "$1") $RAM 12 dedup on compress lz4 block_size 4096 $FEAT"
}

# churn: other table loads and ioctls whose buffers reuse freed memory.
churn() {
	local i long
	long=$(printf 'x%.0s' $(seq 1 3000))
	for i in $(seq 1 12); do
		dmsetup create "t24c$i" --table "0 8 ilio /dev/$long$i 64" >/dev/null 2>&1
		dmsetup create "t24c$i" --table "0 8 zero" >/dev/null 2>&1
		dmsetup message "t24c$i" 0 "$long" >/dev/null 2>&1
		dmsetup table "t24c$i" >/dev/null 2>&1
		dmsetup remove "t24c$i" >/dev/null 2>&1
	done
	dmsetup message $NAME 0 "nosuchmessage$long" >/dev/null 2>&1
	return 0
}

# table_ok DESC BACKDEV: dmsetup table of $NAME is exactly canonical.
table_ok() {
	local t word
	t=$(dmsetup table $NAME)
	word=$(awk '{ print $4 }' <<<"$t")
	if names_dev "$word" "$2"; then
		pass "$1: TABLE names the backing device ($word)"
	else
		fail "$1: TABLE names '$word' ($(printf '%s' "$word" | od -An -c | head -n 2 | tr -s ' ')), not $2 ($(majmin "$2"))"
	fi
	assert_eq "$t" "$(canon "$2")" "$1: exact canonical TABLE line"
}


# msg_refused MSG ERRNO_TEXT DESC: "dmsetup message" fails with that errno.
msg_refused() {
	local dev=$1 m=$2 want=$3 desc=$4
	if assert_fails "$desc: message $m refused" -- dmsetup message "$dev" 0 "$m"; then
		if last_output | grep -q "$want"; then
			pass "$desc: $m fails with '$want'"
		else
			fail "$desc: $m: expected '$want', got: $(last_output | tr '\n' ' ')"
		fi
	fi
}

# Golden data: 8 MiB with duplicates and compressible blocks.
python3 "$BLKPAT" gen "$T_TMP/gold" 2048 --seed 24 --tag t24 --dup 30 --comp 50 ||
	fatal "blkpat gen"

assert_cmd "ilioctl format $A" -- "$ILIOCTL" format "$A"
assert_cmd "ilioctl format $B" -- "$ILIOCTL" format "$B"

# --- (8) the TABLE line after the loading ioctl's memory is gone -----------------
assert_cmd "create $NAME over $A by path" -- \
	dmsetup create $NAME --table "0 $LSECT ilio $A $RAM 6 $FEAT"
table_ok "right after create" "$A"
churn
table_ok "after 36 other ioctls" "$A"
assert_cmd "write 8 MiB golden data" -- \
	dd if="$T_TMP/gold" of=$DEV bs=64k oflag=direct conv=fsync status=none
assert_cmd "reload with the printed TABLE line" -- \
	dmsetup reload $NAME --table "$(dmsetup table $NAME)"
assert_cmd "resume" -- dmsetup resume $NAME
churn
table_ok "after reload + 36 other ioctls" "$A"
assert_rc 0 "golden data after the reload" -- cmp_dev $DEV 0 $((8 * MB)) "$T_TMP/gold"

# --- (9) one store per LUN --------------------------------------------------------
assert_cmd "suspend $NAME (its LUN is now stable)" -- dmsetup suspend $NAME
s0=$(dev_writes "$A")
for bd in "$A" "$(majmin "$A")"; do
	dmesg_mark
	assert_fails "second ilio device over $A (named $bd) refused" -- \
		dmsetup create t24dup --table "0 $LSECT ilio $bd $RAM"
	if dmesg_since | grep -q "backing device is already used by another ilio device"; then
		pass "kernel says why: $(dmesg_since | grep -m1 'already used')"
	else
		fail "no 'already used' message; dmesg: $(dmesg_since | grep -i ilio | tail -n 2 | tr '\n' ' ')"
	fi
	if dmsetup info t24dup >/dev/null 2>&1; then
		fail "t24dup exists over the same LUN"
		dmsetup resume t24dup >/dev/null 2>&1
		dmsetup remove t24dup >/dev/null 2>&1
	fi
done
assert_eq "$(dev_writes "$A")" "$s0" "the refused creates wrote nothing to $A"
assert_cmd "resume $NAME" -- dmsetup resume $NAME
assert_rc 0 "first device's data intact" -- cmp_dev $DEV 0 $((8 * MB)) "$T_TMP/gold"
assert_eq "$(dmsetup message $NAME 0 check 2>&1)" ok "first device: check ok"
assert_cmd "reload of the first device over the same LUN" -- \
	dmsetup reload $NAME --table "0 $LSECT ilio $A $RAM 6 $FEAT"
assert_cmd "resume after reload" -- dmsetup resume $NAME
assert_rc 0 "data intact after the reload" -- cmp_dev $DEV 0 $((8 * MB)) "$T_TMP/gold"
table_ok "after reload by path" "$A"
assert_cmd "a device over the other LUN is fine" -- \
	dmsetup create t24other --table "0 $LSECT ilio $B $RAM"
assert_cmd "remove it" -- dmsetup remove t24other

# --- (10) messages while suspended --------------------------------------------------
assert_cmd "overwrite half the data (work for gc)" -- \
	dd if=/dev/urandom of=$DEV bs=64k count=64 oflag=direct conv=fsync status=none
assert_cmd "suspend" -- dmsetup suspend $NAME
s0=$(dev_writes "$A")
for m in gc compact checkpoint; do
	msg_refused $NAME $m "Device or resource busy" "suspended"
done
assert_eq "$(dmsetup message $NAME 0 check 2>&1)" ok "suspended: check still answers ok"
assert_cmd "suspended: clear_stats still works" -- dmsetup message $NAME 0 clear_stats
assert_eq "$(dev_writes "$A")" "$s0" "suspended: the LUN did not change"
assert_cmd "resume" -- dmsetup resume $NAME
for m in gc compact checkpoint check; do
	assert_cmd "resumed: message $m works" -- dmsetup message $NAME 0 $m
done
assert_cmd "remove $NAME" -- dmsetup remove $NAME
assert_cmd "re-create over $A after remove (the LUN is free again)" -- \
	dmsetup create $NAME --table "0 $LSECT ilio $A $RAM 6 $FEAT"
assert_rc 0 "golden data (second 4 MiB, not overwritten)" -- cmp_dev $DEV $((4 * MB)) $((4 * MB)) "$T_TMP/gold" $((4 * MB))
assert_cmd "remove $NAME" -- dmsetup remove $NAME

# --- (10) read-only modes -------------------------------------------------------------
assert_cmd "create --readonly over $A" -- \
	dmsetup create --readonly t24ro --table "0 $LSECT ilio $A $RAM"
assert_eq "$(status_field t24ro 1)" read-only "read-only table: mode read-only"
s0=$(dev_writes "$A")
for m in gc compact checkpoint; do
	msg_refused t24ro $m "Read-only file system" "read-only table"
done
assert_eq "$(dmsetup message t24ro 0 check 2>&1)" ok "read-only table: check ok"
assert_cmd "remove t24ro" -- dmsetup remove t24ro
assert_eq "$(dev_writes "$A")" "$s0" "read-only table: the LUN did not change"

BSECT=$(dev_sectors "$B")
assert_cmd "dm-linear over $B" -- dmsetup create t24flk --table "0 $BSECT linear $B 0"
assert_cmd "ilio over it" -- \
	dmsetup create t24f --table "0 $LSECT ilio /dev/mapper/t24flk $RAM 6 $FEAT"
assert_cmd "write 4 MiB and fsync" -- \
	dd if="$T_TMP/gold" of=/dev/mapper/t24f bs=64k count=64 oflag=direct conv=fsync status=none
assert_cmd "backing disk: error_writes" -- sh -c \
	"dmsetup reload t24flk --table '0 $BSECT flakey $B 0 0 3600 1 error_writes' && dmsetup resume t24flk"
assert_fails "a write + fsync now fails" -- \
	dd if=/dev/urandom of=/dev/mapper/t24f bs=64k count=16 seek=128 oflag=direct conv=fsync status=none
assert_eq "$(status_field t24f 1)" read-only "after the write error: mode read-only"
for m in gc compact checkpoint; do
	msg_refused t24f $m "Read-only file system" "read-only after an error"
done
assert_eq "$(dmsetup message t24f 0 check 2>&1)" ok "read-only after an error: check ok"
assert_cmd "read-only after an error: clear_stats works" -- dmsetup message t24f 0 clear_stats
assert_rc 0 "flushed data still reads back" -- \
	cmp_dev /dev/mapper/t24f 0 $((4 * MB)) "$T_TMP/gold"
assert_cmd "remove t24f" -- dmsetup remove t24f
assert_cmd "remove t24flk" -- dmsetup remove t24flk
assert_cmd "rmmod dm_ilio" -- ilio_unload
finish
