#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - boot the test VM and run one guest script in it.
#
# Usage: run.sh [--mem MB] [--smp N] [--timeout S] [--name NAME] [--quiet]
#               [--disk NAME:SIZE_MB[:keep|:shared]]... [--powercut S]
#               [--nic listen:PORT|connect:PORT] [--init systemd]
#               GUEST_SCRIPT [ARGS...]
#
# Boots the newest installed Debian amd64 kernel under QEMU (TCG, -no-reboot)
# with a busybox initramfs (mkinitramfs.sh) that switch_roots into the host's
# / (read-only 9p). GUEST_SCRIPT is a host path; it runs inside the guest at
# the same absolute path with REPO=<repo>, RESULTS=<writable share>,
# DM_DISABLE_UDEV=1.
#
#   --mem MB      guest RAM (default 3072)
#   --smp N       guest CPUs (default $ILIO_VM_SMP, else 2; run-all.sh sets
#                 ILIO_VM_SMP=1, see there)
#   --timeout S   kill QEMU after S seconds (default 600)
#   --name NAME   run name (default: script basename without .sh); the console
#                 log is build/vm/logs/NAME.log, results build/vm/results/NAME/
#   --disk NAME:SIZE_MB[:keep|:shared]
#                 attach build/vm/disks/NAME.img (sparse raw) as a virtio-blk
#                 disk with serial NAME, in order vda, vdb, ... By default the
#                 file is created anew, zeroed; ":keep" reuses the existing file
#                 as is (for a second boot after a crash); ":shared" reuses it
#                 with no image lock and share-rw=on, so that two guests run
#                 over one disk at the same time (two hosts on one LUN). In
#                 the guest, vm_disk NAME (lib.sh) prints its /dev path.
#   --nic listen:PORT|connect:PORT
#                 attach a virtio-net NIC (eth0 in the guest, link up, no
#                 address: the guest script configures it) on a QEMU socket
#                 network: "listen" waits for a peer on 127.0.0.1:PORT,
#                 "connect" joins the guest that listens there (start it
#                 first: QEMU exits if nothing listens yet; wait for the
#                 port in /proc/net/tcp, a test connection would take the
#                 peer's place).  The two ends get different MAC addresses
#                 (52:54:00:12:34:01 listens, :02 connects).  Pick a free
#                 port (tests/vm/lib.sh: free_port) so that runs side by
#                 side do not collide.  Without --nic the guest has no NIC.
#   --init systemd
#                 boot systemd as PID 1 after GUEST_SCRIPT's first half:
#                 it runs with ILIO_BOOT_PHASE=pre before systemd, then
#                 with ILIO_BOOT_PHASE=booted from a unit once systemd is
#                 up, and systemd powers the VM off (guest-init.sh).
#   --quiet       do not stream the guest script's output live
#   --powercut S  power-cut mode: once the guest creates $RESULTS/powercut
#                 (lib.sh: powercut_arm), wait S seconds and SIGKILL QEMU.
#                 Guest RAM is lost; what QEMU already wrote to the --disk
#                 files stays (host page cache), as after a power cut. The
#                 run then exits 0, or 1 if the guest printed a FAIL line
#                 before the cut (126 on an oops); results/powercut-done
#                 says the cut happened. If the guest never asks, or ends
#                 first, the run is judged as usual (see below).
#
# Exit code: the guest script's, or
#   124  timeout (QEMU killed)
#   125  the guest never reported an exit code (panic, oops=panic, init failure)
#   126  the script passed but the kernel log has an oops/BUG/WARNING/Call Trace
# On failure the console log's tail (and any oops excerpt) is printed.
#
# Kernel command line: "oops=panic panic=1" with -no-reboot, so an oops ends
# the VM at once (the test fails fast instead of hanging on a dead device);
# WARNINGs do not panic, they are caught by scanning the log afterwards.

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VMDIR="$REPO/build/vm"

MEM=3072
SMP=${ILIO_VM_SMP:-2}
TIMEOUT=600
NAME=
QUIET=0
DISKS=()
POWERCUT=
NIC=
INIT=

usage() {
	sed -n '4,55p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

die() {
	echo "run.sh: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--mem) MEM=${2:?}; shift 2 ;;
	--smp) SMP=${2:?}; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--name) NAME=${2:?}; shift 2 ;;
	--disk) DISKS+=("${2:?}"); shift 2 ;;
	--quiet) QUIET=1; shift ;;
	--powercut) POWERCUT=${2:?}; shift 2 ;;
	--nic) NIC=${2:?}; shift 2 ;;
	--init)
		[ "${2:-}" = systemd ] || die "--init takes only systemd"
		INIT=systemd; shift 2 ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage

SCRIPT=$1
shift
case "$SCRIPT" in
/*) ;;
*) SCRIPT="$(pwd)/$SCRIPT" ;;
esac
[ -f "$SCRIPT" ] || die "no such guest script: $SCRIPT"
# The guest executes it: without its run bit it would fail there, and look
# like a failed boot (rc 126) rather than the mode bit it is.
[ -x "$SCRIPT" ] || die "guest script is not executable: $SCRIPT (chmod +x it)"
[ -n "$NAME" ] || NAME=$(basename "$SCRIPT" .sh)
case "$REPO$SCRIPT" in
*[[:space:]]*) die "paths with spaces are not supported: $REPO" ;;
esac
for v in "$MEM" "$SMP" "$TIMEOUT" ${POWERCUT:+"$POWERCUT"}; do
	case "$v" in
	''|*[!0-9]*) die "not a number: $v" ;;
	esac
done

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (scripts/install-deps.sh)"
KVER=$("$REPO/tests/vm/mkinitramfs.sh" --print-kver) || exit 2
INITRD=$("$REPO/tests/vm/mkinitramfs.sh") || exit 2
KERNEL="/boot/vmlinuz-$KVER"
[ -r "$KERNEL" ] || die "cannot read $KERNEL"

LOG="$VMDIR/logs/$NAME.log"
RES="$VMDIR/results/$NAME"
mkdir -p "$VMDIR/logs" "$VMDIR/disks" "$RES"
# Two runs of the same name would share the log, results and disks: take
# turns (the lock goes with this process).
exec 9>"$VMDIR/results/$NAME.lock"
if ! flock -n 9; then
	echo "run.sh: $NAME: another run of that name is going on; waiting" >&2
	flock 9
fi
rm -rf "${RES:?}"/* "$LOG"

# The command the guest init sources, bash-quoted.
{
	printf 'exec'
	printf ' %q' "$SCRIPT" "$@"
	printf '\n'
} >"$RES/cmd"

DRIVE_ARGS=()
for spec in "${DISKS[@]+"${DISKS[@]}"}"; do
	IFS=: read -r dname dsize dmode <<<"$spec"
	case "$dname" in
	''|*[!A-Za-z0-9_-]*) die "bad disk name in --disk $spec" ;;
	esac
	case "$dsize" in
	''|*[!0-9]*) die "bad disk size in --disk $spec" ;;
	esac
	img="$VMDIR/disks/$dname.img"
	opts=cache=writeback dopts=
	case "${dmode:-}" in
	keep)
		[ -f "$img" ] || die "--disk $spec: $img does not exist"
		;;
	shared)
		# Another QEMU may have it open at the same time (two hosts on
		# one LUN): no image lock, and the device allows shared writers.
		# Both run on this host, so the host's page cache keeps them
		# coherent; FUA and flushes still reach the file.
		[ -f "$img" ] || die "--disk $spec: $img does not exist"
		opts=cache=writeback,file.locking=off dopts=,share-rw=on
		;;
	'')
		rm -f "$img"
		truncate -s "${dsize}M" "$img" || die "cannot create $img"
		;;
	*) die "bad disk mode in --disk $spec (only :keep or :shared)" ;;
	esac
	DRIVE_ARGS+=(-drive "file=$img,if=none,id=d-$dname,format=raw,$opts,discard=unmap"
		-device "virtio-blk-pci,drive=d-$dname,serial=$dname$dopts")
done

NIC_ARGS=(-nic none)
if [ -n "$NIC" ]; then
	nmode=${NIC%%:*} nport=${NIC#*:}
	case "$nport" in
	''|*[!0-9]*) die "bad port in --nic $NIC" ;;
	esac
	if [ "$nport" -lt 1 ] || [ "$nport" -gt 65535 ]; then
		die "bad port in --nic $NIC"
	fi
	case "$nmode" in
	listen) nmac=52:54:00:12:34:01 ;;
	connect) nmac=52:54:00:12:34:02 ;;
	*) die "bad mode in --nic $NIC (listen:PORT or connect:PORT)" ;;
	esac
	NIC_ARGS=(-netdev "socket,id=n0,$nmode=127.0.0.1:$nport"
		-device "virtio-net-pci,netdev=n0,mac=$nmac")
fi

# Power-cut mode needs QEMU's own pid (timeout is its parent).
PC_ARGS=()
[ -n "$POWERCUT" ] && PC_ARGS=(-pidfile "$RES/qemu.pid")

APPEND="console=ttyS0 loglevel=5 log_buf_len=8M panic=1 oops=panic"
APPEND+=" mitigations=off nokaslr random.trust_cpu=on rdinit=/init"
APPEND+=" ilio_repo=$REPO${INIT:+ ilio_init=$INIT}"

start=$(date +%s)
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
	-accel tcg,thread=multi -cpu max -smp "$SMP" -m "$MEM" \
	-nographic -no-reboot -monitor none -serial "file:$LOG" \
	-kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND" \
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
	-virtfs "local,path=$RES,mount_tag=results,security_model=none,multidevs=remap" \
	-virtfs "local,path=$REPO,mount_tag=repo,security_model=none,readonly=on,multidevs=remap" \
	"${DRIVE_ARGS[@]+"${DRIVE_ARGS[@]}"}" \
	"${PC_ARGS[@]+"${PC_ARGS[@]}"}" \
	"${NIC_ARGS[@]}" </dev/null >"$VMDIR/logs/$NAME.qemu" 2>&1 &
qpid=$!

tailpid=
if [ "$QUIET" = 0 ]; then
	# Stream the guest script's output as it is written to the share.
	touch "$RES/output.log"
	tail -n +1 -F --pid="$qpid" "$RES/output.log" 2>/dev/null &
	tailpid=$!
fi
cutpid=
if [ -n "$POWERCUT" ]; then
	# Wait for the guest's request, then pull the plug: SIGKILL, so QEMU
	# neither flushes nor shuts the guest down.
	(
		while kill -0 "$qpid" 2>/dev/null; do
			if [ -e "$RES/powercut" ]; then
				sleep "$POWERCUT"
				qemu=$(cat "$RES/qemu.pid" 2>/dev/null)
				if [ -n "$qemu" ] && grep -q qemu "/proc/$qemu/comm" 2>/dev/null &&
					kill -KILL "$qemu" 2>/dev/null; then
					echo "$POWERCUT" >"$RES/powercut-done"
				fi
				exit 0
			fi
			sleep 0.2
		done
	) &
	cutpid=$!
fi
if [ -n "$POWERCUT" ]; then
	# timeout re-raises QEMU's SIGKILL: keep bash's "Killed" job notice quiet.
	wait "$qpid" 2>/dev/null
else
	wait "$qpid"
fi
qrc=$?
if [ -n "$cutpid" ]; then
	kill "$cutpid" 2>/dev/null
	wait "$cutpid" 2>/dev/null
fi
if [ -n "$tailpid" ]; then
	sleep 0.3
	kill "$tailpid" 2>/dev/null
	wait "$tailpid" 2>/dev/null
fi
elapsed=$(($(date +%s) - start))
if [ "$QUIET" = 1 ] && [ -s "$RES/output.log" ]; then
	cat "$RES/output.log"
fi

# Kernel trouble: scan the guest's dmesg (kernel lines only) and the console
# log (which also shows what was printed after dmesg was saved, or a panic).
OOPS_RE='Oops|BUG:|kernel BUG at|WARNING:|Call Trace|Kernel panic|general protection fault|'
OOPS_RE+='UBSAN:|KASAN:|kmemleak|INFO: task .* blocked for more than|rcu_.*detected stall|'
OOPS_RE+='list_add corruption|list_del corruption|refcount_t:'
oops=$(cat "$LOG" "$RES/dmesg" 2>/dev/null | grep -E -n -m 40 "$OOPS_RE")

rc=
if [ -e "$RES/powercut-done" ]; then
	rc=0
	echo "run.sh: $NAME: power cut: QEMU killed ${POWERCUT}s after the guest asked" >&2
	if grep -q '^FAIL' "$RES/output.log" 2>/dev/null; then
		rc=1
		echo "run.sh: $NAME: the guest reported failures before the cut" >&2
	fi
elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	rc=124
	echo "run.sh: $NAME: TIMEOUT after ${TIMEOUT}s, QEMU killed" >&2
elif [ -s "$RES/rc" ]; then
	rc=$(cat "$RES/rc")
	case "$rc" in
	''|*[!0-9]*) rc=125 ;;
	esac
else
	rc=125
	echo "run.sh: $NAME: the guest did not report an exit code (QEMU exit $qrc)" >&2
	[ -s "$VMDIR/logs/$NAME.qemu" ] && sed 's/^/qemu: /' "$VMDIR/logs/$NAME.qemu" >&2
fi
if [ -n "$oops" ]; then
	echo "run.sh: $NAME: kernel oops/BUG/WARNING in the log:" >&2
	# Show context around the first hit.
	first=$(grep -E -n -m 1 "$OOPS_RE" "$LOG" | cut -d: -f1)
	if [ -n "$first" ]; then
		sed -n "$((first > 5 ? first - 5 : 1)),$((first + 60))p" "$LOG" >&2
	else
		echo "$oops" >&2
	fi
	[ "$rc" = 0 ] && rc=126
fi
if [ "$rc" != 0 ]; then
	echo "run.sh: $NAME: FAILED (rc=$rc) after ${elapsed}s; console log $LOG, tail:" >&2
	# From the start of the guest script on if it got that far (the boot
	# messages before it are the same every time), else the whole tail.
	start_line=$(grep -n -m 1 'ilio-guest-init: running' "$LOG" 2>/dev/null | cut -d: -f1)
	tail -n +"${start_line:-1}" "$LOG" | tail -n 40 | sed 's/^/console: /' >&2
else
	echo "run.sh: $NAME: ok after ${elapsed}s" >&2
fi
exit "$rc"
