#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-13-badtables: the constructor rejects every malformed table line (missing
# arguments, ram 0 or not a number, unknown feature, odd or wrong feature
# count, bad dedup/compress value, repeated key, block_size 1024, nonexistent
# or non-block backing device, persistent-only features without a backing
# device, an unformatted backing device - which is left untouched):
# "dmsetup create" fails, the kernel log has an
# ilio error for it, and no device is left behind. Valid lines are accepted
# and "dmsetup table" prints a canonical line that can be fed back.
# Huge lengths (issue #7 item 6: 512 TiB with a small ram_mb, 1 PiB with the
# largest ram_mb, 2^54 - 8 sectors - the most dm passes on -, diskless and
# persistent) are refused
# with the exact error before anything is allocated for them, and with no
# kernel WARNING (the harness fails a run whose log has one).
#
# vm-args: --mem 1024 --timeout 600
# vm-time: 79

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup
ilio_load

LEN=$((64 * 2048))

# bad DESC ARGS: "0 LEN ilio ARGS" must be refused with an ilio error logged.
bad() {
	local desc=$1 args=$2
	dmesg_mark
	assert_fails "rejects $desc: '$args'" -- dmsetup create t13bad --table "0 $LEN ilio $args"
	if dmesg_since | grep -qi 'ilio'; then
		pass "dmesg has an ilio error for $desc: $(dmesg_since | grep -i ilio | tail -n 1)"
	else
		fail "no ilio error in dmesg for $desc"
	fi
	if dmsetup info t13bad >/dev/null 2>&1; then
		fail "device t13bad left behind after $desc"
		dmsetup remove t13bad >/dev/null 2>&1
	fi
}

bad "no arguments" ""
bad "missing ram_mb" "-"
bad "ram 0" "- 0"
bad "non-numeric ram" "- abc"
bad "ram with trailing garbage" "- 12abc"
bad "negative ram" "- -5"
bad "ram below the minimum" "- 1"
bad "unknown feature" "- 64 2 frobnicate on"
bad "odd feature arg count" "- 64 1 dedup"
bad "odd feature arg count (3)" "- 64 3 dedup on compress"
bad "feature count larger than given" "- 64 4 dedup on"
bad "feature count not a number" "- 64 x dedup on"
bad "extra argument after features" "- 64 2 dedup on extra"
bad "bad dedup value" "- 64 2 dedup maybe"
bad "bad compress value" "- 64 2 compress zstd"
bad "block_size 1024" "- 64 2 block_size 1024"
bad "block_size 0" "- 64 2 block_size 0"
bad "repeated key" "- 64 4 dedup on dedup off"
bad "nonexistent backing device" "/dev/does-not-exist 64"
bad "backing device is not a block device" "/etc/passwd 64"
bad "coalesce without a backing device" "- 64 2 coalesce always"
bad "max_dirty_mb without a backing device" "- 64 2 max_dirty_mb 8"
bad "bad coalesce value" "/dev/ram0 64 2 coalesce sometimes"
bad "flush_interval_ms too large" "/dev/ram0 64 2 flush_interval_ms 3600001"
bad "max_dirty_mb above ram_mb" "/dev/ram0 64 2 max_dirty_mb 65"
bad "journal without a backing device" "- 64 2 journal /dev/ram0"
bad "journal '-'" "/dev/ram0 64 2 journal -"
bad "nonexistent journal device" "/dev/ram0 64 2 journal /dev/does-not-exist"
# A real block device that carries no ilio store: refused, and untouched.
modprobe brd rd_nr=1 rd_size=65536 || fatal "modprobe brd"
head -c 1048576 /dev/urandom >"$T_TMP/pattern"
dd if="$T_TMP/pattern" of=/dev/ram0 bs=1M count=1 oflag=direct status=none
bad "unformatted backing device" "/dev/ram0 64"
if dmesg | grep -i ilio | tail -n 3 | grep -q "no ilio superblock"; then
	pass "refusal names the missing superblock"
else
	fail "refusal does not name the missing superblock: $(dmesg | grep -i ilio | tail -n 1)"
fi
assert_rc 0 "refused device was not written" -- cmp -n 1048576 "$T_TMP/pattern" /dev/ram0

# bad_len DESC LEN ARGS MSG: "0 LEN ilio ARGS" refused with MSG in the log.
bad_len() {
	local desc=$1 len=$2 args=$3 msg=$4
	dmesg_mark
	assert_fails "rejects $desc: '0 $len ilio $args'" -- \
		dmsetup create t13bad --table "0 $len ilio $args"
	if dmesg_since | grep -qF "$msg"; then
		pass "$desc: the log says '$msg'"
	else
		fail "$desc: no '$msg' in the log: $(dmesg_since | grep -i ilio | tail -n 2)"
	fi
	if dmesg_since | grep -qE 'WARNING|Call Trace|vmalloc error|page allocation failure'; then
		fail "$desc: the kernel warned: $(dmesg_since | grep -E 'WARNING|vmalloc|allocation' | head -n 2)"
	else
		pass "$desc: no kernel warning"
	fi
	if dmsetup info t13bad >/dev/null 2>&1; then
		fail "device t13bad left behind after $desc"
		dmsetup remove t13bad >/dev/null 2>&1
	fi
}

bad_len "512 TiB with ram_mb 64" $((1 << 40)) "- 64" \
	"ram_mb too small for this device size"
bad_len "1 PiB with the largest ram_mb" $((1 << 41)) "- 16777216" \
	"Target length too large (at most 512 TiB)"
# dm itself takes lengths up to LLONG_MAX >> 9 sectors: the largest that
# reaches the constructor, then one near 2^64 that dm refuses first.
bad_len "2^54 - 8 sectors" $(((1 << 54) - 8)) "- 16777216" \
	"Target length too large (at most 512 TiB)"
bad_len "2^64 - 8 sectors (dm refuses it)" 18446744073709551608 "- 16777216" \
	"too large device"
bad_len "persistent, 512 TiB with ram_mb 64" $((1 << 40)) "/dev/ram0 64" \
	"ram_mb is too small for the LBA map of this length"
bad_len "persistent, 2^54 - 8 sectors" $(((1 << 54) - 8)) "/dev/ram0 16777216" \
	"Target length too large (at most 512 TiB)"
assert_rc 0 "refused huge tables did not write the backing device" -- \
	cmp -n 1048576 "$T_TMP/pattern" /dev/ram0

# A 512-byte-aligned length that is not a multiple of a 4096 block.
dmesg_mark
if dmsetup create t13bad --table "0 $((LEN + 1)) ilio - 64" >/dev/null 2>&1; then
	log "length not a multiple of 4096 accepted (dm core may allow it)"
	dmsetup remove t13bad
else
	log "length not a multiple of 4096 refused: $(dmesg_since | grep -i ilio | tail -n 1)"
fi

# good DESC ARGS: accepted; the TABLE line, fed back, gives the same line.
good() {
	local desc=$1 args=$2 t1 t2
	if ! assert_cmd "accepts $desc: '$args'" -- \
		dmsetup create t13ok --table "0 $LEN ilio $args"; then
		return
	fi
	t1=$(dmsetup table t13ok)
	log "table: $t1"
	case "$t1" in
	"0 $LEN ilio "*) pass "table line starts with the target ($desc)" ;;
	*) fail "table line '$t1' ($desc)" ;;
	esac
	assert_cmd "remove" -- dmsetup remove t13ok
	if assert_cmd "re-create from the printed table ($desc)" -- \
		dmsetup create t13ok --table "$t1"; then
		t2=$(dmsetup table t13ok)
		assert_eq "$t2" "$t1" "printed table is canonical ($desc)"
		assert_cmd "remove" -- dmsetup remove t13ok
	fi
}

good "defaults" "- 64"
good "dedup off" "- 64 2 dedup off"
good "compress none" "- 64 2 compress none"
good "block_size 512" "- 64 2 block_size 512"
good "block_size 4096" "- 64 2 block_size 4096"
good "all features" "- 64 6 dedup off compress none block_size 512"
good "all features, other order" "- 64 6 block_size 4096 compress lz4 dedup on"
good "zero feature count" "- 64 0"

# Settings show up in the canonical table.
dmsetup create t13ok --table "0 $LEN ilio - 64 6 dedup off compress none block_size 512" &&
	{
		t=$(dmsetup table t13ok)
		for kv in "dedup off" "compress none" "block_size 512"; do
			case "$t" in
			*"$kv"*) pass "table shows '$kv'" ;;
			*) fail "table '$t' does not show '$kv'" ;;
			esac
		done
		dmsetup remove t13ok
	}

left=$(dmsetup ls | grep -c '^t13' || true)
assert_eq "$left" 0 "no t13 devices left"
assert_cmd "rmmod dm_ilio" -- ilio_unload
finish
