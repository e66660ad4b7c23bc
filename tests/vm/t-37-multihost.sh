#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-37-multihost: the multihost guard keeps a second host off a store that
# a live host holds (issue 11, "No split brain").  Two guests run at the
# same time over one disk image (run.sh --disk NAME:SIZE:shared: no image
# lock, share-rw=on), as two hosts over one LUN:
#  - the image is formatted with --multihost (the guard is opt-in);
#  - host A (hostname hostA) activates the store read-write, writes 16 MiB
#    and fsyncs; its LUN then stalls for 8 s (longer than the 5 s lease)
#    and a write + fsync made after the lease ran out waits for the next
#    heartbeat and succeeds, the device stays read-write; A stays up;
#  - host B (hostB) tries to activate it: refused with EBUSY within a few
#    heartbeats, and its kernel log names hostA; a read-only activation
#    goes through and warns that hostA holds the store;
#  - host B activates with the takeover feature: at once, the kernel log
#    says TAKEOVER, every byte A flushed is there, and B writes;
#  - host A, at its next heartbeat, finds the record taken: its device goes
#    to fail mode and a write fails; removing it writes nothing;
#  - host B removes its device: the record on the image is CLEAN.
# What it does not do: the stale takeover after a crash (t-30 boot 2 waits
# the 11 s and asserts it), a lease that a stalled LUN let run out while
# another host took over (the unit test test-mmp, on a virtual clock).
#
# vm-driver: host

MB=1048576
IMG_MB=256
LSECT=$((128 * 2048))	# 128 MiB logical
RAM=64

# --- host half ------------------------------------------------------------------
if [ $# = 0 ]; then
	REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	export REPO RESULTS=/tmp
	# shellcheck source=tests/vm/lib.sh
	. "$REPO/tests/vm/lib.sh"
	in_guest && fatal "t-37 without a phase runs on the host (it boots the VMs)"
	VM="$REPO/tests/vm"
	RESDIR="$REPO/build/vm/results"
	SELF="$VM/t-37-multihost.sh"
	IMG="$REPO/build/vm/disks/t37.img"
	RA="$RESDIR/t-37-multihost.a"
	RB="$RESDIR/t-37-multihost.b"


	mkdir -p "$REPO/build/vm/disks"
	rm -f "$IMG"
	truncate -s ${IMG_MB}M "$IMG" || fatal "cannot create $IMG"
	assert_cmd "format the shared image, guarded" -- "$REPO/tools/ilioctl" format --multihost "$IMG"

	log "host A: activate, write, fsync, keep beating"
	"$VM/run.sh" --name t-37-multihost.a --mem 768 --timeout 400 --quiet \
		--disk t37:$IMG_MB:shared "$SELF" holder &
	apid=$!
	# run.sh empties the results directory as it starts: wait for that.
	sleep 2
	wait_file "$RA/ready" 300 || fatal "host A never got ready (build/vm/logs/t-37-multihost.a.log)"
	pass "host A holds the store"

	log "host B: refused, read-only, then takeover"
	"$VM/run.sh" --name t-37-multihost.b --mem 768 --timeout 400 --quiet \
		--disk t37:$IMG_MB:shared "$SELF" standby "$(cat "$RA/sum")" &
	bpid=$!
	sleep 2
	if wait_file "$RB/taken" 300; then
		pass "host B took the store over"
	else
		fail "host B never took the store over (build/vm/logs/t-37-multihost.b.log)"
	fi
	: >"$RA/go-check"
	wait "$apid"
	assert_eq "$?" 0 "host A's guest ended without an oops"
	guest_closing "$RA/output.log" "host A"
	: >"$RB/go-finish"
	wait "$bpid"
	assert_eq "$?" 0 "host B's guest ended without an oops"
	guest_closing "$RB/output.log" "host B"
	state=$(python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read(5 * 4096)[4 * 4096:]
magic, state = struct.unpack_from("<I", b, 0)[0], struct.unpack_from("<I", b, 20)[0]
print("ILMP" if magic == 0x504d4c49 else "none", state)' "$IMG")
	assert_eq "$state" "ILMP 1" "after B's remove the multihost record on the image is CLEAN"
	rm -f "$IMG"
	finish
fi

# --- guest halves -----------------------------------------------------------------
# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"
in_guest || fatal "t-37 $1 is a guest half: run it through run.sh"
need_cmd dmsetup sha256sum
ilio_load
DISK=$(vm_disk t37) || fatal "no t37 disk"

case "$1" in
holder)
	echo hostA >/proc/sys/kernel/hostname
	# Host A reaches the disk through a dm-linear "path", so that the test
	# can stall the LUN (suspend the path) under a live guarded store.
	assert_cmd "host A: a path to the shared disk" -- \
		dmsetup create t37p --table "0 $(blockdev --getsz "$DISK") linear $DISK 0"
	assert_cmd "host A: create ilio over the shared disk" -- \
		dmsetup create t37 --table "0 $LSECT ilio /dev/mapper/t37p $RAM"
	head -c $((16 * MB)) /dev/urandom >"$T_TMP/data"
	assert_cmd "host A: write 16 MiB and fsync" -- \
		dd if="$T_TMP/data" of=/dev/mapper/t37 bs=1M oflag=direct conv=fsync status=none
	# The LUN stalls for 8 s, longer than the 5 s lease: the beats cannot
	# complete, and a flush that comes after the lease ran out must wait for
	# the next beat, not fail (before the fix: EIO and a read-only device).
	dmesg_mark
	assert_cmd "host A: the LUN stalls (path suspended)" -- dmsetup suspend t37p
	sleep 6
	dd if="$T_TMP/data" of=/dev/mapper/t37 bs=1M count=1 seek=20 oflag=direct conv=fsync \
		status=none 2>"$T_TMP/stall.err" &
	ddpid=$!
	sleep 2
	assert_cmd "host A: the LUN is back (path resumed)" -- dmsetup resume t37p
	wait "$ddpid"
	assert_eq "$?:$(cat "$T_TMP/stall.err")" "0:" "host A: a write + fsync during the stall succeeds"
	assert_eq "$(status_field t37 1)" write "host A: still in write mode after the stall"
	if dmesg_since | grep -q "multihost lease ran out (heartbeats late): writes wait"; then
		pass "host A: the kernel log says writes waited for the heartbeat"
	else
		fail "host A: no lease wait line: $(dmesg_since | grep ilio | tail -n 3)"
	fi
	assert_eq "$(dd if=/dev/mapper/t37 bs=1M count=1 skip=20 iflag=direct status=none | sha256sum)" \
		"$(head -c $MB "$T_TMP/data" | sha256sum)" "host A: the data written during the stall reads back"
	sha256sum <"$T_TMP/data" | cut -d' ' -f1 >"$RESULTS/sum.tmp"
	mv "$RESULTS/sum.tmp" "$RESULTS/sum"
	: >"$RESULTS/ready"
	wait_file "$RESULTS/go-check" 300 || fatal "host A: the host never said go"
	# B took over: A's next heartbeat (1 s) must find it.
	for _ in $(seq 1 50); do
		[ "$(status_field t37 1)" = fail ] && break
		sleep 0.2
	done
	assert_eq "$(status_field t37 1)" fail "host A: fail mode after B's takeover"
	if dmesg | grep -q "host hostB took the store over"; then
		pass "host A: the kernel log names hostB"
	else
		fail "host A: no takeover line: $(dmesg | grep ilio | tail -n 3)"
	fi
	assert_fails "host A: a write fails" -- \
		dd if="$T_TMP/data" of=/dev/mapper/t37 bs=4k count=1 oflag=direct conv=fsync status=none
	assert_cmd "host A: remove" -- dmsetup remove t37
	assert_cmd "host A: remove the path" -- dmsetup remove t37p
	assert_cmd "rmmod dm_ilio" -- ilio_unload
	finish
	;;
standby)
	want=$2
	echo hostB >/proc/sys/kernel/hostname
	dmesg_mark
	t0=$(date +%s%N)
	assert_fails "host B: activation refused while host A beats" -- \
		dmsetup create t37 --table "0 $LSECT ilio $DISK $RAM"
	t1=$(date +%s%N)
	dmsetup remove t37 >/dev/null 2>&1
	log "refused after $(((t1 - t0) / 1000000)) ms"
	assert_le $(((t1 - t0) / 1000000)) 5000 "host B: refused within a few heartbeats"
	if dmesg_since | grep -q "is in use by host hostA"; then
		pass "host B: the kernel log names hostA"
	else
		fail "host B: no in-use line: $(dmesg_since | grep ilio | tail -n 3)"
	fi
	dmesg_mark
	assert_cmd "host B: a read-only activation is allowed" -- \
		dmsetup create t37ro --readonly --table "0 $LSECT ilio $DISK $RAM"
	if dmesg_since | grep -q "read-only, but host hostA holds the store"; then
		pass "host B: read-only activation warns that hostA holds the store"
	else
		fail "host B: no read-only warning: $(dmesg_since | grep ilio | tail -n 3)"
	fi
	assert_cmd "host B: remove the read-only device" -- dmsetup remove t37ro
	dmesg_mark
	t0=$(date +%s%N)
	assert_cmd "host B: takeover" -- \
		dmsetup create t37 --table "0 $LSECT ilio $DISK $RAM 1 takeover"
	t1=$(date +%s%N)
	assert_le $(((t1 - t0) / 1000000)) 5000 "host B: takeover does not wait"
	if dmesg_since | grep -q "TAKEOVER: took the store on .* from host hostA"; then
		pass "host B: the kernel log says TAKEOVER from hostA"
	else
		fail "host B: no TAKEOVER line: $(dmesg_since | grep ilio | tail -n 3)"
	fi
	got=$(head -c $((16 * MB)) /dev/mapper/t37 | sha256sum | cut -d' ' -f1)
	assert_eq "$got" "$want" "host B: every byte host A flushed is there"
	assert_cmd "host B: writes and fsyncs" -- \
		dd if=/dev/urandom of=/dev/mapper/t37 bs=1M count=4 seek=32 oflag=direct conv=fsync status=none
	: >"$RESULTS/taken"
	wait_file "$RESULTS/go-finish" 300 || fail "host B: the host never said finish"
	assert_eq "$(status_field t37 1)" write "host B: still in write mode"
	assert_eq "$(dmsetup message t37 0 check 2>&1)" ok "host B: store consistent"
	assert_cmd "host B: remove (clean)" -- dmsetup remove t37
	assert_cmd "rmmod dm_ilio" -- ilio_unload
	finish
	;;
*)
	fatal "unknown phase '$1' (holder|standby; no argument = host driver)"
	;;
esac
