#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-00-harness: proves the VM harness works and can fail, without dm-ilio:
# brd + dm-linear take fio crc32c-verified writes, /sys/block/dm-N/stat counts
# them, fio verify catches a corrupted byte, an extra --disk is reachable by
# name, and lib.sh reports failed assertions, missing tools, scripts that die
# early and scripts that assert nothing as failures.
#
# With an argument it is the guest half of run-all.sh's negative controls:
#   crash  panic the kernel (run.sh must report no exit code)
#   hang   never return (run.sh must time out)
#   warn   log a fake "WARNING:" line (run.sh must flag the kernel log)
#
# vm-args: --mem 1024 --timeout 300 --disk harness:64
# vm-time: 33

case "${1:-}" in
crash)
	echo "t-00: crashing the kernel on purpose"
	sync
	echo c >/proc/sysrq-trigger
	sleep 60
	exit 0
	;;
hang)
	echo "t-00: hanging on purpose"
	sleep 100000
	exit 0
	;;
warn)
	echo "t-00: logging a fake WARNING"
	echo "<4>WARNING: CPU: 0 PID: 1 at t-00-harness.sh: harness self-test" >/dev/kmsg
	exit 0
	;;
esac

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd fio dmsetup blockdev cmp dd

LIB="$REPO/tests/vm/lib.sh"

# --- lib.sh can fail ---------------------------------------------------------
# Each snippet runs in a child bash with the lib; all must exit non-zero and
# the closing line must count the failure.
child() {
	REPO="$REPO" RESULTS="$T_TMP" bash -c ". '$LIB'; $1" >"$T_TMP/child.out" 2>&1
}

child 'assert_eq 1 2 "one is two"; finish'
rc=$?
assert_ge "$rc" 1 "a failing assert_eq makes finish exit non-zero"
assert_eq "$(tail -n 1 "$T_TMP/child.out")" "0 passed, 1 failed" "closing line counts the failure"

child 'pass a; assert_ge 3 4 "3>=4"; assert_le 5 4 "5<=4"; assert_ge x 1 "x>=1"; finish'
assert_eq "$(tail -n 1 "$T_TMP/child.out")" "1 passed, 3 failed" "assert_ge/assert_le reject wrong and non-numeric values"

child 'assert_cmd "false passes" -- false; finish'
assert_ge $? 1 "assert_cmd on a failing command fails"

child 'assert_fails "true fails" -- true; assert_fails "missing cmd fails" -- /nonexistent/cmd; finish'
assert_eq "$(tail -n 1 "$T_TMP/child.out")" "0 passed, 2 failed" "assert_fails rejects success and a missing command"

child 'need_cmd no-such-tool-ilio; pass "not reached"; finish'
rc=$?
assert_ge "$rc" 1 "a missing tool fails the test"
if grep -q 'not reached' "$T_TMP/child.out"; then
	fail "need_cmd did not stop the test"
else
	pass "need_cmd stops the test"
fi

child 'pass a; exit 0'
assert_ge $? 1 "a script that exits without finish fails"

child 'pass a; false_command_that_does_not_exist; set -e; false; finish'
assert_ge $? 1 "a script that dies under set -e fails"

child 'finish'
assert_ge $? 1 "a script with no assertion fails"

child 'pass a; assert_eq x x same; assert_near 100 103 5 near; finish'
assert_eq $? 0 "a script whose assertions all hold passes"

assert_eq "$(cat <(echo procsub))" procsub "bash process substitution works (/dev/fd)"

# --- brd + dm-linear + fio ----------------------------------------------------
brd_setup 256 1
SZ=$(dev_sectors /dev/ram0)
assert_eq "$SZ" 524288 "brd ram0 is 256 MiB"
assert_cmd "create dm-linear over ram0" -- \
	dmsetup create t00-lin --table "0 $SZ linear /dev/ram0 0"
NODE=$(dm_node t00-lin)
case "$NODE" in
dm-[0-9]*) pass "dm_node t00-lin = $NODE" ;;
*) fatal "dm_node t00-lin gave '$NODE'" ;;
esac
DEV=/dev/mapper/t00-lin

# /sys/block/dm-N/stat: field 5 = write I/Os, field 7 = sectors written.
read -r _ _ _ _ w_ios0 _ w_sec0 _ <"/sys/block/$NODE/stat"
assert_cmd "fio randwrite bs=4k iodepth=8 verify=crc32c" -- \
	fio --name=h --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=8 \
	--rw=randwrite --bs=4k --size=32M --verify=crc32c --verify_fatal=1 \
	--randrepeat=0 --do_verify=1
read -r _ _ _ _ w_ios1 _ w_sec1 _ <"/sys/block/$NODE/stat"
assert_ge $((w_sec1 - w_sec0)) 65536 "dm stat counts the 32 MiB written (sectors)"
assert_ge $((w_ios1 - w_ios0)) 8192 "dm stat counts the 4k write I/Os"

assert_cmd "fio seq write bs=1m iodepth=4 verify=crc32c" -- \
	fio --name=h2 --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=4 \
	--rw=write --bs=1m --size=64M --offset=64M --verify=crc32c --verify_fatal=1

# fio verify must catch a corrupted byte: write, flip a byte below dm, verify.
assert_cmd "fio write pattern region" -- \
	fio --name=h3 --filename="$DEV" --direct=1 --ioengine=psync --rw=write \
	--bs=64k --size=4M --offset=128M --verify=crc32c --do_verify=0 \
	--verify_state_save=0
printf '\x5a' | dd of=/dev/ram0 bs=1 seek=$((128 * 1048576 + 70000)) conv=notrunc,fsync status=none
printf '\xa5' | dd of=/dev/ram0 bs=1 seek=$((128 * 1048576 + 70001)) conv=notrunc,fsync status=none
assert_rc 1 "fio verify detects the corrupted byte" -- \
	fio --name=h3 --filename="$DEV" --direct=1 --ioengine=psync --rw=write \
	--bs=64k --size=4M --offset=128M --verify=crc32c --verify_only=1 \
	--verify_fatal=1 --verify_state_load=0

# cmp sees a difference too (a golden-file check).
head -c 1048576 /dev/urandom >"$T_TMP/golden"
assert_cmd "dd golden file to the device" -- \
	dd if="$T_TMP/golden" of="$DEV" bs=64k seek=3000 oflag=direct status=none
assert_cmd "cmp_dev reads it back" -- cmp_dev "$DEV" $((3000 * 65536)) 1048576 "$T_TMP/golden"
printf 'X' | dd of=/dev/ram0 bs=1 seek=$((3000 * 65536 + 5)) conv=notrunc,fsync status=none
assert_rc 1 "cmp_dev sees a corrupted byte" -- cmp_dev "$DEV" $((3000 * 65536)) 1048576 "$T_TMP/golden"
assert_cmd "cmp_dev with a reference offset" -- \
	cmp_dev "$DEV" $((3000 * 65536 + 65536)) 65536 "$T_TMP/golden" 65536
child 'assert_rc 1 "cmp trouble is not a difference" -- cmp /nonexistent /dev/null; finish'
assert_ge $? 1 "assert_rc rejects the wrong exit code"

assert_eq "$(dmsetup status t00-lin | awk '{ print $3 }')" linear "dmsetup status names the target"
assert_cmd "remove dm-linear" -- dmsetup remove t00-lin
assert_cmd "rmmod brd" -- /sbin/rmmod brd

# --- extra disk from run.sh --disk harness:64 -------------------------------
VD=$(vm_disk harness)
if [ -n "$VD" ] && [ -b "$VD" ]; then
	pass "vm_disk harness = $VD"
	assert_eq "$(dev_sectors "$VD")" 131072 "the extra disk is 64 MiB"
	assert_cmd "extra disk reads as zeros (fresh)" -- \
		cmp -n 4194304 /dev/zero "$VD"
	assert_cmd "fio verify on the extra disk" -- \
		fio --name=vd --filename="$VD" --direct=1 --ioengine=libaio --iodepth=4 \
		--rw=randwrite --bs=16k --size=16M --verify=crc32c --verify_fatal=1
else
	fail "vm_disk harness found no disk (run.sh --disk harness:64)"
fi

finish
