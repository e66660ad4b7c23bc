#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-38-migrate: path change, LUN migration and takeover after a crash
# during GC and during a checkpoint (issue 11, "Path change and migration",
# "Standby takeover"), with the commands of the admin guide's "Path change
# and LUN migration" section.  One guest, brd disks as LUNs:
#  - path change: a guarded store on ram0, reached through two dm-linear
#    maps of it (p1, p2: two paths to one LUN).  Under a writer,
#    "ilioctl path" (a reload) to p2 keeps every byte, the kernel says
#    "switched", the TABLE names
#    p2, p1 can be removed (the store let go of it) and the heartbeats go
#    on through p2;
#  - refusals, each a clear error with the device still live on its path
#    and its data intact: a zeroed LUN, a smaller LUN, a LUN that holds
#    another ilio store, and a copy that went stale because writes came
#    after it (refused at the resume, by the suspend's checkpoint, and
#    ilioctl path gives the device its old table back); ilioctl path
#    also refuses the other store by its uuid before the kernel sees it;
#  - migration: suspend, dd to a larger LUN (ram1), ilioctl path: the
#    log area grows, the heartbeats move to ram1 and ram0 is quiet; after
#    remove, the store activates on ram1 alone with every byte, and
#    "check" finds nothing wrong;
#  - crash during GC and during a checkpoint: host A's path to ram3 goes
#    through a dm-delay (every write and flush 3 s late) and is cut
#    below it (dm-error: the writes in flight and all later ones never
#    land, as when a host dies) while the message runs; the
#    standby's device over ram3 takes over and sees every flushed byte,
#    "check" is clean.
#
# vm-args: --mem 1536 --timeout 420
# vm-time: 110

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup blockdev cmp dd python3 md5sum
ILIOCTL="$REPO/tools/ilioctl"
BLKPAT="$REPO/tests/vm/blkpat.py"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load

MIB=1048576
LUN_MB=192			# p1, p2: the first 192 MiB of ram0
LSECT=$((256 * 2048))		# 256 MiB logical
RAM=48
brd_setup 320 4
trap 'dm_remove_prefix t38; brd_teardown' EXIT

mm() { printf '%d:%d' "$((0x$(stat -L -c %t "$1")))" "$((0x$(stat -L -c %T "$1")))"; }
# beat DEV: md5 of block 4 (the multihost record), read O_DIRECT.
beat() { dd if="$1" bs=4096 skip=4 count=1 iflag=direct status=none | md5sum | cut -c1-32; }
# table NAME BACKING: the live table of NAME with its backing device replaced.
table() { dmsetup table "$1" | awk -v b="$(mm "$2")" '{ $4 = b; print }'; }
# verify MSG: the golden data reads back from t38.
verify() {
	assert_rc 0 "$1: first 32 MiB" -- cmp_dev /dev/mapper/t38 0 $((32 * MIB)) "$T_TMP/g1"
	assert_rc 0 "$1: the writer's 8 MiB" -- \
		cmp_dev /dev/mapper/t38 $((64 * MIB)) $((8 * MIB)) "$T_TMP/g2"
}

for s in p1 p2; do
	dmsetup create t38$s --table "0 $((LUN_MB * 2048)) linear /dev/ram0 0" ||
		fatal "cannot create path $s"
done
P1=/dev/mapper/t38p1
P2=/dev/mapper/t38p2
assert_cmd "format through path 1, guarded" -- "$ILIOCTL" format --multihost "$P1"
assert_cmd "create over path 1" -- \
	dmsetup create t38 --table "0 $LSECT ilio $P1 $RAM"
python3 "$BLKPAT" gen "$T_TMP/g1" 8192 --seed 38 --tag t38a --dup 30 --comp 60 ||
	fatal "blkpat gen"
python3 "$BLKPAT" gen "$T_TMP/g2" 2048 --seed 39 --tag t38b --dup 0 --comp 50 ||
	fatal "blkpat gen"
assert_cmd "write 32 MiB and fsync" -- \
	dd if="$T_TMP/g1" of=/dev/mapper/t38 bs=256k oflag=direct conv=fsync status=none

# --- path change under a writer --------------------------------------------------
log "path change p1 -> p2 under a writer"
(for i in 1 2 3 4 5 6; do
	dd if="$T_TMP/g2" of=/dev/mapper/t38 bs=64k seek=$((64 * 16)) oflag=direct \
		conv=fsync status=none || exit 1
done) &
wpid=$!
sleep 1
dmesg_mark
assert_cmd "ilioctl path --dry-run" -- "$ILIOCTL" path t38 $P2 --dry-run
grep -q "^would switch t38 from $(mm $P1) to $P2" "$_T_LAST_OUT" &&
	pass "the dry run says what it would do" || fail "dry run: $(last_output)"
assert_cmd "ilioctl path t38 path 2" -- "$ILIOCTL" path t38 $P2
grep -q "^t38: backing device $(mm $P1) -> $(mm $P2)" "$_T_LAST_OUT" &&
	pass "ilioctl path says what it did" || fail "ilioctl path: $(last_output)"
wait "$wpid"
assert_eq "$?" 0 "the writer saw no error across the path change"
if dmesg_since | grep -q "backing device switched from $(mm $P1) to $(mm $P2)"; then
	pass "kernel: backing device switched"
else
	fail "no switch line: $(dmesg_since | grep ilio | tail -n 3)"
fi
assert_eq "$(dmsetup table t38 | awk '{ print $4 }')" "$(mm $P2)" "the TABLE names path 2"
# The guide's way without ilioctl, under no writer: back to path 1 with
# the TABLE's field 4 replaced, then to path 2 again with ilioctl.
assert_cmd "by hand (the guide): dmsetup reload t38 --table \"\$(dmsetup table t38 | awk ...)\"" -- \
	sh -c "dmsetup reload t38 --table \"\$(dmsetup table t38 | awk '{ \$4 = \"$(mm $P1)\"; print }')\""
assert_cmd "by hand: dmsetup resume t38" -- dmsetup resume t38
assert_eq "$(dmsetup table t38 | awk '{ print $4 }')" "$(mm $P1)" "by hand: the TABLE names path 1"
assert_eq "$(status_field t38 1)" write "by hand: read-write on path 1"
assert_cmd "ilioctl path t38 path 2, again" -- "$ILIOCTL" path t38 $P2
assert_cmd "path 1 can go: the store let go of it" -- dmsetup remove t38p1
b0=$(beat $P2)
sleep 3
b1=$(beat $P2)
[ "$b0" != "$b1" ] && pass "heartbeats go on through path 2" ||
	fail "the multihost record did not change in 3 s"
verify "after the path change"
assert_eq "$(status_field t38 1)" write "read-write after the path change"

# --- refusals --------------------------------------------------------------------
refused() {	# MSG WHY BACKING: the reload is refused and t38 is untouched
	dmesg_mark
	assert_fails "$1: refused" -- dmsetup reload t38 --table "$(table t38 "$3")"
	if dmesg_since | grep -q "refused: $2"; then
		pass "$1: the kernel says why ($2)"
	else
		fail "$1: kernel line: $(dmesg_since | grep ilio | tail -n 2)"
	fi
	assert_eq "$(dmsetup table t38 | awk '{ print $4 }')" "$(mm $P2)" "$1: still on path 2"
	dmsetup clear t38 >/dev/null 2>&1
}
dd if=/dev/zero of=/dev/ram1 bs=1M count=8 oflag=direct status=none
refused "a zeroed LUN" "its first blocks differ" /dev/ram1
dmsetup create t38small --table "0 $(((LUN_MB - 64) * 2048)) linear /dev/ram0 0"
refused "a smaller path" "it is smaller" /dev/mapper/t38small
dmsetup remove t38small
assert_cmd "another store on ram2" -- "$ILIOCTL" format /dev/ram2
assert_cmd "activate it" -- dmsetup create t38o --table "0 $LSECT ilio /dev/ram2 $RAM"
refused "a LUN with another store" "it holds the store of another" /dev/ram2
assert_fails "ilioctl path refuses a LUN with another store" -- "$ILIOCTL" path t38 /dev/ram2
grep -q "holds the store .*, not t38's" "$_T_LAST_OUT" &&
	pass "ilioctl path names the other store" || fail "ilioctl path: $(last_output)"
assert_cmd "remove the other store" -- dmsetup remove t38o

# A live copy: equal first blocks (no checkpoint since), then writes.
assert_cmd "checkpoint" -- dmsetup message t38 0 checkpoint
assert_cmd "live copy to ram1" -- \
	dd if=$P2 of=/dev/ram1 bs=1M iflag=direct oflag=direct status=none
assert_cmd "write after the copy" -- dd if="$T_TMP/g2" of=/dev/mapper/t38 bs=64k \
	seek=$((64 * 16)) oflag=direct conv=fsync status=none
dmesg_mark
assert_fails "a stale copy: ilioctl path refuses it" -- "$ILIOCTL" path t38 /dev/ram1
if dmesg_since | grep -q "$(mm /dev/ram1).*its first blocks differ"; then
	pass "a stale copy: the kernel says why"
else
	fail "a stale copy: kernel line: $(dmesg_since | grep ilio | tail -n 2)"
fi
grep -q "t38 is back on $(mm $P2)" "$_T_LAST_OUT" || grep -q "refused /dev/ram1" "$_T_LAST_OUT" &&
	pass "a stale copy: ilioctl says the device stayed" || fail "stale: $(last_output)"
assert_eq "$(dmsetup table t38 | awk '{ print $4 }')" "$(mm $P2)" "a stale copy: still on path 2"
verify "after the refusals"
assert_eq "$(status_field t38 1)" write "read-write after the refusals"

# --- migration to a larger LUN ----------------------------------------------------
log "migration: suspend, dd, reload, resume"
back0=$(status_field t38 24)
assert_cmd "suspend (write-back, checkpoint)" -- dmsetup suspend t38
assert_cmd "copy the LUN to ram1" -- \
	dd if=$P2 of=/dev/ram1 bs=1M iflag=direct oflag=direct status=none
dmesg_mark
assert_cmd "ilioctl path to the new LUN (reload, resume)" -- "$ILIOCTL" path t38 /dev/ram1
dmesg_since | grep -q "switched from $(mm $P2) to $(mm /dev/ram1)" &&
	pass "kernel: switched to the new LUN" || fail "no switch line"
back1=$(status_field t38 24)
assert_ge "$back1" $((back0 + 48 * MIB)) "the log area grew with the larger LUN (was $back0)"
verify "after the migration"
old0=$(beat $P2)
b0=$(beat /dev/ram1)
sleep 3
[ "$b0" != "$(beat /dev/ram1)" ] && pass "heartbeats on the new LUN" ||
	fail "no heartbeat on the new LUN"
assert_eq "$(beat $P2)" "$old0" "the old LUN is quiet"
assert_cmd "remove" -- dmsetup remove t38
assert_cmd "remove the old paths" -- dmsetup remove t38p2
dd if=/dev/zero of=/dev/ram0 bs=1M count=8 oflag=direct status=none
assert_cmd "create on the new LUN alone" -- \
	dmsetup create t38 --table "0 $LSECT ilio /dev/ram1 $RAM"
verify "on the new LUN"
assert_cmd "check on the new LUN" -- dmsetup message t38 0 check
assert_cmd "remove" -- dmsetup remove t38

# --- takeover after a crash during GC and during a checkpoint ---------------------
# Host A reaches ram3 through t38d (delay: writes and flushes 3 s late
# while the message runs) over t38a (linear); the crash is t38a switched to dm-error while
# A's message runs: the writes that t38d still holds and every later one
# fail, so nothing more of A reaches ram3, as when a host dies.  The
# standby (t38B) takes the store over on ram3 itself.
R3SECT=$(dev_sectors /dev/ram3)
python3 "$BLKPAT" gen "$T_TMP/g3" 4096 --seed 40 --tag t38c --dup 0 --comp 50 ||
	fatal "blkpat gen"
assert_cmd "format ram3, guarded" -- "$ILIOCTL" format --multihost /dev/ram3
T38A=/dev/mapper/t38a
crash_during() {	# VERB: cut host A's path while "message VERB" runs
	local v=$1 mpid mrc running=0
	log "crash during $v"
	dmsetup create t38a --table "0 $R3SECT linear /dev/ram3 0" || fatal "t38a"
	dmsetup create t38d --table "0 $R3SECT delay $T38A 0 0 $T38A 0 0 $T38A 0 0" ||
		fatal "dm-delay"
	assert_cmd "$v: host A activates" -- \
		dmsetup create t38A --table "0 $LSECT ilio /dev/mapper/t38d $RAM"
	assert_cmd "$v: A writes 32 MiB" -- dd if="$T_TMP/g1" of=/dev/mapper/t38A bs=1M \
		oflag=direct conv=fsync status=none
	# Overwrite half of it: GC has segments to clean.
	assert_cmd "$v: A overwrites 16 MiB and fsyncs" -- dd if="$T_TMP/g3" \
		of=/dev/mapper/t38A bs=1M oflag=direct conv=fsync status=none
	# From now on every write and flush of A's takes 3 s to land.
	dmsetup reload t38d --table "0 $R3SECT delay $T38A 0 0 $T38A 0 3000 $T38A 0 3000" &&
		dmsetup resume t38d || fatal "cannot slow host A's path"
	dmsetup reload t38a --table "0 $R3SECT error" || fatal "error table"
	dmsetup message t38A 0 "$v" >/dev/null 2>&1 &
	mpid=$!
	sleep 1
	kill -0 "$mpid" 2>/dev/null && running=1
	assert_eq "$running" 1 "$v: the message still runs when the cut starts"
	dmsetup resume t38a || fatal "cannot cut host A's path"
	wait "$mpid"
	mrc=$?
	[ "$mrc" != 0 ] && pass "$v: A's message failed at the cut (exit $mrc)" ||
		fail "$v: A's message finished before the cut"
	[ "$(status_field t38A 1)" != write ] && pass "$v: A left write mode" ||
		fail "$v: A still in write mode"
	dmesg_mark
	assert_cmd "$v: the standby takes over" -- \
		dmsetup create t38B --table "0 $LSECT ilio /dev/ram3 $RAM 1 takeover"
	dmesg_since | grep -q "TAKEOVER" && pass "$v: the kernel says TAKEOVER" ||
		fail "$v: no TAKEOVER line"
	assert_rc 0 "$v: the standby sees A's last fsync" -- \
		cmp_dev /dev/mapper/t38B 0 $((16 * MIB)) "$T_TMP/g3"
	assert_rc 0 "$v: and the data under it" -- \
		cmp_dev /dev/mapper/t38B $((16 * MIB)) $((16 * MIB)) "$T_TMP/g1" $((16 * MIB))
	assert_cmd "$v: check on the standby" -- dmsetup message t38B 0 check
	dmsetup remove t38A || fail "$v: cannot remove host A"
	assert_cmd "$v: the standby removes cleanly" -- dmsetup remove t38B
	dmsetup remove t38d t38a || fatal "cannot remove A's path"
}
crash_during gc
crash_during checkpoint

finish
