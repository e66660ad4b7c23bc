#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-34-journal: the NV journal device (table feature "journal").  Boot 1
# formats a host file (a virtio disk) with a second host file as its journal
# (ilioctl format --journal), proves that a table without the journal is
# refused, runs fio with --sync=1 (every write flushed before it completes)
# beside an unsynced writer, checks that the flushes went to the journal
# (journal_writes; few backend flushes; segments leave whole), saves fio's
# verify state and is SIGKILLed from the host (a power cut: guest RAM is
# lost, and with it every segment that only the journal held).  Boot 2
# proves that a foreign journal (another store's) and a missing one are
# refused without writing, recovers with the journal (the kernel's
# recovery line says unclean, with units from the journal), and verifies
# every write fio saw complete; then the journal device starts failing writes
# (dm-linear switched to "error"): flushes keep succeeding through the LUN,
# journal_failed becomes 1, the kernel log says so once, and the data
# survives a remove and a re-create.
#
# vm-driver: host
# vm-time: 126

MB=1048576
LUN_MB=256
J_MB=16
LOG_SECT=$((512 * 2048))	# logical 512 MiB
RAM_MB=64
TRIGGER_S=20
FIO_VERIFY=(--rw=randwrite --bs=4k --size=64M --numjobs=2
	--offset_increment=64M --ioengine=psync --direct=1 --verify=crc32c
	--rate_iops=60)
NOISE_OFF=$((256 * MB))
NOISE_LEN=$((64 * MB))
NEW_OFF=$((400 * MB))		# boot 2's own writes: outside fio's and the noise's
NEW_BLK=$((NEW_OFF / 4096))

# --- host half ------------------------------------------------------------------
if [ $# = 0 ]; then
	REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	export REPO RESULTS=/tmp
	# shellcheck source=tests/vm/lib.sh
	. "$REPO/tests/vm/lib.sh"
	in_guest && fatal "t-34 without a phase runs on the host (it boots the VMs)"
	VM="$REPO/tests/vm"
	RESDIR="$REPO/build/vm/results"
	SELF="$VM/t-34-journal.sh"

	log "boot 1: sync=1 writes through the journal, then power cut"
	"$VM/run.sh" --name t-34-journal.boot1 --mem 1536 --timeout 420 \
		--disk t34lun:$LUN_MB --disk t34j:$J_MB --powercut 3 "$SELF" boot1
	rc=$?
	B1="$RESDIR/t-34-journal.boot1"
	guest_counts "$B1/output.log"
	assert_eq "$rc" 0 "boot 1 ran to the power cut without a failure or oops"
	if [ -e "$B1/powercut-done" ]; then
		pass "QEMU was killed by the power cut (not shut down)"
	else
		fatal "boot 1 ended without a power cut (see build/vm/logs/t-34-journal.boot1.log)"
	fi
	n=$(find "$B1/state" -name '*verify.state' 2>/dev/null | wc -l)
	assert_eq "$n" 2 "fio saved 2 verify states"

	log "boot 2: refusals, recovery from the journal, journal failure"
	"$VM/run.sh" --name t-34-journal.boot2 --mem 1536 --timeout 600 \
		--disk t34lun:$LUN_MB:keep --disk t34j:$J_MB:keep "$SELF" boot2 "$B1/state"
	rc=$?
	guest_closing "$RESDIR/t-34-journal.boot2/output.log" "boot 2"
	assert_eq "$rc" 0 "boot 2 passed without an oops"
	rm -f "$REPO/build/vm/disks/t34lun.img" "$REPO/build/vm/disks/t34j.img"
	rm -rf "$T_TMP"
	finish
fi

# --- guest halves -----------------------------------------------------------------
# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"
in_guest || fatal "t-34 $1 is a guest half: run it through run.sh"
need_cmd fio dmsetup python3
ILIOCTL="$REPO/tools/ilioctl"
BLKPAT="$REPO/tests/vm/blkpat.py"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load
LUN=$(vm_disk t34lun) || fatal "no t34lun disk"
JD=$(vm_disk t34j) || fatal "no t34j disk"
J_SECT=$(dev_sectors "$JD")

case "$1" in
boot1)
	STATE="$RESULTS/state"
	mkdir -p "$STATE"
	assert_cmd "ilioctl format the LUN with the journal disk" -- \
		"$ILIOCTL" format "$LUN" --journal "$JD"
	assert_cmd "ilioctl info shows the binding" -- "$ILIOCTL" info "$LUN"
	last_output | grep -q 'journal *bound, generation 1' &&
		pass "info: journal bound, generation 1" || fail "info: $(last_output | grep journal)"
	dmesg_mark
	assert_fails "a table without the journal is refused" -- \
		dmsetup create t34 --table "0 $LOG_SECT ilio $LUN $RAM_MB"
	dmsetup remove t34 >/dev/null 2>&1
	if dmesg_since | grep -q 'the store has a journal device'; then
		pass "dmesg names the missing journal"
	else
		fail "no missing-journal message: $(dmesg_since | grep ilio | tail -n 2)"
	fi
	assert_fails "the journal disk as the backing device is refused" -- \
		dmsetup create t34 --table "0 $LOG_SECT ilio $LUN $RAM_MB 2 journal $LUN"
	dmsetup remove t34 >/dev/null 2>&1
	assert_cmd "create ilio t34 over $LUN, journal $JD" -- \
		dmsetup create t34 --table "0 $LOG_SECT ilio $LUN $RAM_MB 2 journal $JD"
	jmm=$(($(stat -Lc '0x%t' "$JD"))):$(($(stat -Lc '0x%T' "$JD")))
	tbl=$(dmsetup table t34)
	case "$tbl" in
	*" 14 dedup "*" journal $jmm") pass "TABLE line is canonical with the journal: $tbl" ;;
	*) fail "TABLE line: $tbl (journal $jmm)" ;;
	esac
	assert_eq "$(status_field t34 1)" write "t34 is in write mode"

	fio --name=noise --filename=/dev/mapper/t34 --rw=randwrite --bs=4k \
		--offset=$NOISE_OFF --size=$NOISE_LEN --ioengine=libaio --iodepth=4 \
		--direct=1 --verify=pattern --verify_pattern=%o --do_verify=0 \
		--verify_state_save=0 --time_based --runtime=900 --rate=2m \
		--norandommap >"$T_TMP/noise.out" 2>&1 &
	noise=$!
	log "fio with sync=1 on t34 for ${TRIGGER_S}s"
	assert_cmd "fio sync=1 writes on t34 until the trigger saves its verify state" -- \
		fio --name=pc --filename=/dev/mapper/t34 "${FIO_VERIFY[@]}" --sync=1 \
		--do_verify=0 --verify_state_save=1 --aux-path="$STATE" \
		--time_based --runtime=900 --trigger-timeout=$TRIGGER_S
	grep -E 'WRITE:' "$_T_LAST_OUT" | sed 's/^/# pc: /'
	if kill -0 "$noise" 2>/dev/null; then
		pass "noise writer still running"
	else
		fail "noise writer died: $(tail -n 5 "$T_TMP/noise.out")"
	fi
	fl=$(status_field t34 21)
	jw=$(sysfs_val t34 journal_writes)
	jb=$(sysfs_val t34 journal_bytes)
	bf=$(sysfs_val t34 backend_flushes)
	bw=$(status_field t34 15)
	bwb=$(status_field t34 16)
	fw=$(status_field t34 11)
	log "t34: flushes=$fl journal_writes=$jw journal_bytes=$jb backend_flushes=$bf backend_write_ios=$bw backend_write_bytes=$bwb front_write_ios=$fw"
	log "t34: backend_write_size_hist: $(sysfs_val t34 backend_write_size_hist)"
	# fio runs for a time, not a size: how many writes it gets done depends
	# on the host's load (1076 at a load of 4, 343 at 9 with a second VM
	# test beside it: 2152 and 686 flushes), so the flushes are counted
	# against fio's own count of its writes.
	nw=$(sed -n 's/.*issued rwts: total=[0-9]*,\([0-9]*\),.*/\1/p' "$_T_LAST_OUT" |
		awk '{ s += $1 } END { print s + 0 }')
	log "t34: fio issued $nw sync writes"
	assert_ge "$nw" 100 "fio issued at least 100 sync writes before the trigger"
	assert_ge "$fl" "$nw" "fio's sync writes were flushes (one or more each)"
	assert_ge "$jw" $((fl / 2)) "most flushes wrote a journal record"
	assert_le "$((bf * 4))" "$fl" "the LUN got few flushes (background, after whole segments)"
	assert_le "$((bw * 20))" "$fw" "the LUN got at least 20x fewer writes than the front"
	assert_ge "$((bwb / (bw + 1)))" 262144 "LUN writes average at least 256 KiB (segments leave whole)"
	assert_eq "$(sysfs_val t34 journal_failed)" 0 "journal healthy"
	# Until the cut, flushed writes keep coming, so that the journal holds
	# records no segment on the LUN has yet: without them, on a slow host
	# the seconds the checks above take let the writeback catch up, and
	# boot 2's replay would need nothing from the journal (a gate had "0
	# from the journal").  They go to the noise region with its pattern,
	# which boot 2 checks block by block.
	fio --name=tail --filename=/dev/mapper/t34 --rw=randwrite --bs=4k \
		--offset=$((NOISE_OFF + NOISE_LEN / 2)) --size=$((NOISE_LEN / 2)) \
		--ioengine=psync --direct=1 --sync=1 --verify=pattern --verify_pattern=%o \
		--do_verify=0 --verify_state_save=0 --time_based --runtime=900 \
		--rate_iops=20 --norandommap >"$T_TMP/tail.out" 2>&1 &
	sleep 1
	log "pulling the plug"
	powercut_arm
	sleep 120
	fail "still alive 120 s after asking for the power cut"
	finish
	;;
boot2)
	SRC=${2:?boot2 needs the state dir}
	STATE="$T_TMP/state"
	cp -r "$SRC" "$STATE" || fatal "cannot copy fio state from $SRC"
	# A verify pass saves its own state over the one it loaded: the second
	# pass (after the journal failure) loads a copy of the original.
	cp -r "$SRC" "$STATE.2" || fatal "cannot copy fio state from $SRC"
	# A second store with its own journal, on brd: its journal is foreign.
	brd_setup 64 2
	assert_cmd "format a second store (ram0) with its journal (ram1)" -- \
		"$ILIOCTL" format /dev/ram0 --journal /dev/ram1
	sl=$(dev_writes "$LUN")
	sj=$(dev_writes "$JD")
	dmesg_mark
	assert_fails "a foreign journal (another store's) is refused" -- \
		dmsetup create t34 --table "0 $LOG_SECT ilio $LUN $RAM_MB 2 journal /dev/ram1"
	dmsetup remove t34 >/dev/null 2>&1
	if dmesg_since | grep -q 'belongs to another store'; then
		pass "dmesg names the foreign journal"
	else
		fail "no foreign-journal message: $(dmesg_since | grep ilio | tail -n 2)"
	fi
	assert_fails "the other store with our journal is refused" -- \
		dmsetup create t34x --table "0 131072 ilio /dev/ram0 16 2 journal $JD"
	dmsetup remove t34x >/dev/null 2>&1
	assert_fails "after the crash, a table without the journal is refused" -- \
		dmsetup create t34 --table "0 $LOG_SECT ilio $LUN $RAM_MB"
	dmsetup remove t34 >/dev/null 2>&1
	assert_eq "$(dev_writes "$LUN"), $(dev_writes "$JD")" \
		"$sl, $sj" "the refused opens wrote nothing to the LUN or the journal"
	brd_teardown

	# The journal behind a dm-linear that can be switched to "error".
	assert_cmd "dm-linear t34jl over the journal disk" -- \
		dmsetup create t34jl --table "0 $J_SECT linear $JD 0"
	t0=$(date +%s%N)
	dmesg_mark
	assert_cmd "re-create t34 with its journal" -- \
		dmsetup create t34 --table "0 $LOG_SECT ilio $LUN $RAM_MB 2 journal /dev/mapper/t34jl"
	t1=$(date +%s%N)
	log "recovery (dmsetup create) took $(((t1 - t0) / 1000000)) ms"
	# The kernel's recovery line: a power cut is unclean, and replay took
	# the units only the journal held from it.
	rec=$(dmesg_since | grep -oE "$(dm_node t34): recovery: .*" | tail -n 1)
	re='^dm-[0-9]+: recovery: unclean shutdown, replayed ([0-9]+) log units? \(([0-9]+) checkpoint, ([0-9]+) data; ([0-9]+) from the journal\) in [0-9]+ ms$'
	if [[ "$rec" =~ $re ]]; then
		pass "recovery line: $rec"
		assert_ge "${BASH_REMATCH[4]}" 1 "recovery line: units replayed from the journal"
		assert_le "${BASH_REMATCH[4]}" "${BASH_REMATCH[1]}" \
			"recovery line: journal units are among the units replayed"
	else
		fail "recovery line '$rec' does not match '$re'"
	fi
	assert_eq "$(status_field t34 1)" write "recovered device is in write mode"
	assert_cmd "every write fio saw complete reads back (verify_state_load)" -- \
		fio --name=pc --filename=/dev/mapper/t34 "${FIO_VERIFY[@]}" \
		--verify_only=1 --verify_state_load=1 --verify_fatal=1 \
		--aux-path="$STATE"
	grep -E 'READ:|verify' "$_T_LAST_OUT" | head -n 3 | sed 's/^/# /'
	assert_cmd "unsynced region: each block is zero or the data written there" -- \
		python3 "$BLKPAT" check /dev/mapper/t34 --off $NOISE_OFF \
		--blocks $((NOISE_LEN / 4096)) --expect /dev/zero --opattern --allow LO
	assert_eq "$(dmsetup message t34 0 check 2>&1)" ok "store consistent after recovery"

	# The journal device fails: flushes fall back to the LUN.
	head -c $((8 * MB)) /dev/urandom >"$T_TMP/new"
	assert_cmd "8 MiB with fsync through the journal" -- \
		dd if="$T_TMP/new" of=/dev/mapper/t34 bs=4k seek=$NEW_BLK count=1024 oflag=direct,dsync status=none
	jw0=$(sysfs_val t34 journal_writes)
	assert_ge "$jw0" 1 "the journal took those flushes"
	dmsetup suspend t34jl && dmsetup load t34jl --table "0 $J_SECT error" &&
		dmsetup resume t34jl
	assert_eq "$?" 0 "the journal device now fails every I/O"
	dmesg_mark
	bf0=$(sysfs_val t34 backend_flushes)
	assert_cmd "writes with fsync still succeed" -- \
		dd if="$T_TMP/new" of=/dev/mapper/t34 bs=4k seek=$((NEW_BLK + 1024)) skip=1024 count=1024 \
		oflag=direct,dsync status=none
	assert_eq "$(sysfs_val t34 journal_failed)" 1 "journal_failed is 1"
	assert_eq "$(status_field t34 1)" write "the device stays in write mode"
	assert_ge "$(sysfs_val t34 backend_flushes)" $((bf0 + 1000)) "each flush went to the LUN"
	assert_eq "$(dmesg_since | grep -c 'journal write failed')" 1 "one kernel log line"
	assert_rc 0 "the data reads back" -- cmp_dev /dev/mapper/t34 $NEW_OFF $((8 * MB)) "$T_TMP/new"
	assert_cmd "remove t34 (writes everything back)" -- dmsetup remove t34
	assert_fails "a journal that cannot be read is refused" -- \
		dmsetup create t34 --table "0 $LOG_SECT ilio $LUN $RAM_MB 2 journal /dev/mapper/t34jl"
	dmsetup remove t34 >/dev/null 2>&1
	dmsetup suspend t34jl && dmsetup load t34jl --table "0 $J_SECT linear $JD 0" &&
		dmsetup resume t34jl
	assert_cmd "the journal is back: re-create t34" -- \
		dmsetup create t34 --table "0 $LOG_SECT ilio $LUN $RAM_MB 2 journal /dev/mapper/t34jl"
	assert_rc 0 "the data is intact" -- cmp_dev /dev/mapper/t34 $NEW_OFF $((8 * MB)) "$T_TMP/new"
	assert_cmd "every write fio saw complete still reads back" -- \
		fio --name=pc --filename=/dev/mapper/t34 "${FIO_VERIFY[@]}" \
		--verify_only=1 --verify_state_load=1 --verify_fatal=1 \
		--aux-path="$STATE.2"
	assert_cmd "remove t34" -- dmsetup remove t34
	assert_cmd "remove t34jl" -- dmsetup remove t34jl
	assert_cmd "rmmod dm_ilio" -- ilio_unload
	finish
	;;
*)
	fatal "unknown phase '$1' (boot1|boot2; no argument = host driver)"
	;;
esac
