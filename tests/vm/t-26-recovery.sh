#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-26-recovery: after a crash, activation never opens an older state and
# a refused activation writes nothing (issue #7 item 1, the outside
# review's reproduction).  A freshly formatted store gets its first
# activation and 16 MiB written and fsynced - so the format anchor is
# still in one slot - then the disk stops taking writes (dm-flakey
# drop_writes: a crash from the store's point of view) and ilio is removed.
# Then, over the crashed disk:
#  - a table of twice the length is refused (read-write and read-only);
#  - an open whose backing device fails every read is refused;
#  - a damaged newest anchor slot: refused, or every flushed block exact;
#  - the backing disk is byte-identical after each refusal;
#  - the right table recovers every fsynced byte, and check says ok;
#  - the kernel's recovery line says: first activation of a new store at
#    the first open; "unclean shutdown" with data units replayed after the
#    crash; "clean shutdown" with only checkpoint units after a remove.
# Before the fix the twice-length table was accepted (through the format
# anchor) and the right one then showed an empty store.
# The crash leaves the multihost record ACTIVE: the activations after it
# name the takeover feature (the refused ones must put the record back:
# the disk stays byte-identical), and the kernel log says so; the one
# after a clean remove needs no takeover and does not wait.
#
# vm-args: --mem 1536 --timeout 600 --disk t26:256
# vm-time: 32

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup dd cmp python3
ILIOCTL="$REPO/tools/ilioctl"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load
/sbin/modprobe dm_flakey || fatal "modprobe dm_flakey failed"

MB=1048576
BACK=$(vm_disk t26) || fatal "no t26 disk"
BSECT=$(dev_sectors "$BACK")
LSECT=$((512 * 2048))	# 512 MiB logical
RAM=64
FLK=t26flk

head -c $((16 * MB)) /dev/urandom >"$T_TMP/data" || fatal "no random data"

# A refused open may not complete a single write on the disk (lib.sh
# dev_writes), not even the claim of the multihost record of this guarded
# store: a table of another size is refused before the claim.
wr() { dev_writes "$BACK"; }

assert_cmd "format, guarded" -- "$ILIOCTL" format --multihost "$BACK"
assert_cmd "linear over the disk (to cut it later)" -- \
	dmsetup create $FLK --table "0 $BSECT linear $BACK 0"
# recovery_line DESC ERE: the activation just done logged its recovery
# line (ilio_log_recovery(): "dm-N: recovery: ..."), in REC_LINE, and it
# matches ERE.
recovery_line() {
	local node line
	node=$(dm_node t26) || { fail "$1: no dm node for t26"; return; }
	REC_LINE=$(dmesg_since | grep -oE "$node: recovery: .*" | tail -n 1)
	if [[ "$REC_LINE" =~ $2 ]]; then
		pass "$1: $REC_LINE"
	else
		fail "$1: recovery line '$REC_LINE' does not match '$2'"
	fi
}
RECOVERED='^dm-[0-9]+: recovery: (clean|unclean) shutdown, replayed ([0-9]+) log units? \(([0-9]+) checkpoint, ([0-9]+) data\) in [0-9]+ ms$'

dmesg_mark
assert_cmd "first activation" -- \
	dmsetup create t26 --table "0 $LSECT ilio /dev/mapper/$FLK $RAM"
recovery_line "first activation" \
	'^dm-[0-9]+: recovery: first activation of a new store, nothing to replay$'
assert_cmd "write 16 MiB and fsync" -- \
	dd if="$T_TMP/data" of=/dev/mapper/t26 bs=1M oflag=direct conv=fsync status=none
assert_eq "$(sysfs_val t26 checkpoints)" 1 "only the activation's checkpoint so far"
assert_cmd "the disk stops taking writes (crash)" -- sh -c \
	"dmsetup reload $FLK --table '0 $BSECT flakey $BACK 0 0 3600 1 drop_writes' && dmsetup resume $FLK"
assert_cmd "remove ilio (its last writes vanish)" -- dmsetup remove t26
assert_cmd "remove flakey" -- dmsetup remove $FLK
S0=$(wr)

dmesg_mark
assert_fails "twice the length is refused" -- \
	dmsetup create t26 --table "0 $((2 * LSECT)) ilio $BACK $RAM 1 takeover"
dmsetup remove t26 >/dev/null 2>&1
if dmesg_since | grep -q 'another size than the table'; then
	pass "dmesg names the size mismatch"
else
	fail "no size-mismatch message: $(dmesg_since | grep ilio | tail -n 2)"
fi
assert_eq "$(wr)" "$S0" "the refused open wrote nothing (no write completed on the disk)"
assert_fails "twice the length, read-only, is refused" -- \
	dmsetup create t26 --readonly --table "0 $((2 * LSECT)) ilio $BACK $RAM"
dmsetup remove t26 >/dev/null 2>&1
assert_fails "half the length is refused" -- \
	dmsetup create t26 --table "0 $((LSECT / 2)) ilio $BACK $RAM 1 takeover"
dmsetup remove t26 >/dev/null 2>&1
assert_eq "$(wr)" "$S0" "the refused opens wrote nothing (no write completed on the disk)"

assert_cmd "flakey failing every I/O" -- \
	dmsetup create $FLK --table "0 $BSECT flakey $BACK 0 0 3600"
assert_fails "an open whose reads fail is refused" -- \
	dmsetup create t26 --table "0 $LSECT ilio /dev/mapper/$FLK $RAM"
dmsetup remove t26 >/dev/null 2>&1
assert_cmd "remove flakey" -- dmsetup remove $FLK
assert_eq "$(wr)" "$S0" "the failed open wrote nothing (no write completed on the disk)"

# The newest anchor slot damaged: refused, or recovered exactly.
slot=$("$ILIOCTL" info "$BACK" 2>/dev/null | sed -n 's/^ *current anchor *\([01]\) .*/\1/p')
if [ "$slot" = 0 ] || [ "$slot" = 1 ]; then
	pass "newest anchor is slot $slot"
	read_dev "$BACK" 0 65536 "$T_TMP/head0" || fatal "cannot read the anchors"
	python3 - "$BACK" $(((2 + slot) * 4096 + 40)) <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
b = os.pread(fd, 1, int(sys.argv[2]))
os.pwrite(fd, bytes([b[0] ^ 0x40]), int(sys.argv[2]))
os.fsync(fd)
os.close(fd)
EOF
	S1=$(wr)
	if dmsetup create t26 --readonly --table "0 $LSECT ilio $BACK $RAM" 2>/dev/null; then
		assert_rc 0 "damaged newest anchor: opened, every fsynced byte exact" -- \
			cmp_dev /dev/mapper/t26 0 $((16 * MB)) "$T_TMP/data"
		dmsetup remove t26
	else
		pass "damaged newest anchor: refused"
	fi
	assert_eq "$(wr)" "$S1" "the read-only open wrote nothing (no write completed on the disk)"
	python3 - "$BACK" $(((2 + slot) * 4096 + 40)) <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
b = os.pread(fd, 1, int(sys.argv[2]))
os.pwrite(fd, bytes([b[0] ^ 0x40]), int(sys.argv[2]))
os.fsync(fd)
os.close(fd)
EOF
	assert_rc 0 "anchor restored: the first 64 KiB as they were" -- \
		cmp_dev "$BACK" 0 65536 "$T_TMP/head0"
else
	fail "ilioctl info names no current anchor: $("$ILIOCTL" info "$BACK" 2>&1 | tail -n 3)"
fi

dmesg_mark
assert_cmd "the right table recovers" -- \
	dmsetup create t26 --table "0 $LSECT ilio $BACK $RAM 1 takeover"
recovery_line "after the crash" "$RECOVERED"
# The crash left the multihost record ACTIVE; the table's takeover took it.
if dmesg_since | grep -qE "$(dm_node t26): TAKEOVER: took the store on .* from host "; then
	pass "after the crash: the takeover is in the kernel log"
else
	fail "no TAKEOVER line: $(dmesg_since | grep ilio | tail -n 3)"
fi
if [[ "$REC_LINE" =~ $RECOVERED ]]; then
	assert_eq "${BASH_REMATCH[1]}" unclean "after the crash: the log says unclean"
	assert_ge "${BASH_REMATCH[4]}" 1 "after the crash: data units replayed (the fsynced 16 MiB)"
	assert_eq "$((BASH_REMATCH[3] + BASH_REMATCH[4]))" "${BASH_REMATCH[2]}" \
		"after the crash: checkpoint + data units = units replayed"
fi
assert_rc 0 "every fsynced byte is there" -- \
	cmp_dev /dev/mapper/t26 0 $((16 * MB)) "$T_TMP/data"
assert_eq "$(dmsetup message t26 0 check 2>&1)" ok "store consistent"
assert_cmd "remove" -- dmsetup remove t26
# The open wrote its anchor to both slots: both are the new epoch now.
"$ILIOCTL" info "$BACK" >"$T_TMP/info" 2>&1
n=$(grep -cE '^ *anchor [01] +valid:' "$T_TMP/info")
assert_eq "$n" 2 "both anchor slots valid after the recovery"
# That remove was a clean close: the next open replays its checkpoint only.
dmesg_mark
t0=$(date +%s%N)
assert_cmd "activate again after the clean remove" -- \
	dmsetup create t26 --table "0 $LSECT ilio $BACK $RAM"
t1=$(date +%s%N)
recovery_line "after a clean close" "$RECOVERED"
# The remove marked the multihost record CLEAN: no wait, no takeover.
if dmesg_since | grep -q 'took the store'; then
	fail "after a clean close: the activation took the store over"
else
	pass "after a clean close: no takeover"
fi
assert_le $(((t1 - t0) / 1000000)) 5000 "after a clean close: no multihost wait (11 s)"
if [[ "$REC_LINE" =~ $RECOVERED ]]; then
	assert_eq "${BASH_REMATCH[1]} ${BASH_REMATCH[4]}" "clean 0" \
		"after a clean close: clean, no data unit replayed"
	assert_ge "${BASH_REMATCH[3]}" 1 "after a clean close: the checkpoint's units replayed"
fi
assert_rc 0 "after a clean close: every fsynced byte is there" -- \
	cmp_dev /dev/mapper/t26 0 $((16 * MB)) "$T_TMP/data"
assert_cmd "remove" -- dmsetup remove t26
assert_cmd "rmmod dm_ilio" -- ilio_unload
finish
