#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-39-drbd: a persistent ilio store on a DRBD device survives the death of
# its host (issue 11, "DRBD"): every byte that ilio acknowledged as flushed
# on the primary is on the secondary, which takes the store over.  Two
# guests run at the same time, each with its own disk, joined by a QEMU
# socket network (run.sh --nic: A listens, B connects), with Debian's
# drbd-utils and the kernel's drbd module (8.4), protocol C.  It runs the
# commands of the admin guide's recipe "Replication with DRBD":
#  - both: eth0 up, /etc/drbd.d/ilio.res naming hostA and hostB (the
#    hostnames set here), drbdadm create-md and up; both Connected;
#  - A: skips the initial sync (both disks are new and zeroed, so they are
#    identical: new-current-uuid --clear-bitmap), becomes primary; both
#    UpToDate;
#  - A: ilioctl format /dev/drbd0, ilioctl create, writes 24 MiB (16 MiB
#    random, then 8 MiB repeating the first 8: dedup) with O_DIRECT and
#    fsync; still Connected with nothing out of sync, and DRBD sent at
#    least the store's writes to B;
#  - the host SIGKILLs A's QEMU (run.sh --powercut: no shutdown, no flush);
#  - B: DRBD sees the peer gone; drbdadm primary; ilioctl create
#    --takeover (A is known dead; the multihost record would make a plain
#    create wait); every flushed byte compared with the golden file; the
#    store is consistent and takes writes.
# Measured: from A's kill (host clock) to B's first read of the device,
# split into DRBD's detection of the dead peer, the promote, the ilio
# activation and the read; the host prints them as "failover:".
#
# vm-driver: host
# vm-time: 82

MB=1048576
DISK_MB=256
LSIZE=128M
RAM=64M
NAME=drbdilio
GOLD_MB=24
RES_NAME=ilio	# the DRBD resource
IP_A=10.39.0.1
IP_B=10.39.0.2

# --- host half ------------------------------------------------------------------
if [ $# = 0 ]; then
	REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	export REPO RESULTS=/tmp
	# shellcheck source=tests/vm/lib.sh
	. "$REPO/tests/vm/lib.sh"
	in_guest && fatal "t-39 without a phase runs on the host (it boots the VMs)"
	VM="$REPO/tests/vm"
	RESDIR="$REPO/build/vm/results"
	SELF="$VM/t-39-drbd.sh"
	RA="$RESDIR/t-39-drbd.a"
	RB="$RESDIR/t-39-drbd.b"
	GOLD="$REPO/build/vm/disks/t39-golden.bin"
	common=(--mem 512 --smp 1 --timeout 300 --quiet)

	# The data set, read by both guests through the host root: A writes it,
	# B compares against it.
	mkdir -p "$REPO/build/vm/disks"
	head -c $((16 * MB)) /dev/urandom >"$GOLD.tmp" || fatal "cannot write $GOLD.tmp"
	{ cat "$GOLD.tmp"; head -c $((8 * MB)) "$GOLD.tmp"; } >"$GOLD" || fatal "cannot write $GOLD"
	rm -f "$GOLD.tmp"

	port=$(free_port) || fatal "no free port"
	log "node A: DRBD primary, ilio, write and fsync (socket network on 127.0.0.1:$port)"
	"$VM/run.sh" --name t-39-drbd.a "${common[@]}" --disk t39a:$DISK_MB \
		--nic "listen:$port" --powercut 0 "$SELF" nodeA "$GOLD" &
	apid=$!
	for _ in $(seq 1 150); do
		port_listening "$port" && break
		sleep 0.2
	done
	port_listening "$port" || fatal "node A's QEMU does not listen on $port"
	log "node B: DRBD secondary, takes over when A dies"
	"$VM/run.sh" --name t-39-drbd.b "${common[@]}" --disk t39b:$DISK_MB \
		--nic "connect:$port" "$SELF" nodeB "$GOLD" &
	bpid=$!
	# run.sh empties the results directories as it starts.
	sleep 2
	# Until A has flushed and B stands by, or either guest ended (failed).
	for _ in $(seq 1 1200); do
		[ -e "$RA/flushed" ] && [ -e "$RB/standby" ] && break
		{ kill -0 "$apid" && kill -0 "$bpid"; } 2>/dev/null || break
		sleep 0.2
	done
	if [ -e "$RA/flushed" ] && [ -e "$RB/standby" ]; then
		pass "A flushed its data set, B is the UpToDate secondary"
	else
		fail "A never flushed, or B never stood by (build/vm/logs/t-39-drbd.{a,b}.log)"
		: >"$RB/give-up"
	fi
	# Pull A's plug: run.sh SIGKILLs its QEMU and writes powercut-done.
	: >"$RA/powercut"
	wait "$apid"
	assert_eq "$?" 0 "node A ran to its kill without a failure or oops"
	guest_counts "$RA/output.log"
	if [ -e "$RA/powercut-done" ]; then
		pass "node A's QEMU was killed, not shut down"
	else
		fail "node A was not killed (build/vm/logs/t-39-drbd.a.log)"
	fi
	wait "$bpid"
	assert_eq "$?" 0 "node B's guest ended without an oops"
	guest_closing "$RB/output.log" "node B"
	if [ -e "$RA/powercut-done" ] && [ -e "$RB/readable" ] && [ -s "$RB/times" ]; then
		# Both files were written through 9p: their mtimes are the host's
		# clock.  B's split is on its own clock (durations only).
		kill_ns=$(stat -c %.9Y "$RA/powercut-done" | tr -d .)
		read_ns=$(stat -c %.9Y "$RB/readable" | tr -d .)
		total=$(((read_ns - kill_ns) / 1000000))
		read -r promote create first <"$RB/times"
		log "failover: ${total} ms from A's kill to B's device readable:" \
			"detection $((total - promote - create - first)) ms (DRBD notices the" \
			"dead peer), promote $promote ms, ilio create --takeover $create ms," \
			"first read $first ms"
		assert_ge "$total" 1 "failover time measured"
	else
		fail "no failover time (A killed, B readable, B's times)"
	fi
	rm -f "$GOLD" "$REPO/build/vm/disks/t39a.img" "$REPO/build/vm/disks/t39b.img"
	finish
fi

# --- guest halves -----------------------------------------------------------------
# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"
in_guest || fatal "t-39 $1 is a guest half: run it through run.sh"
need_cmd dmsetup drbdadm drbdsetup drbdmeta
ILIOCTL="$REPO/tools/ilioctl"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
GOLD=$2
[ -r "$GOLD" ] || fatal "no golden file $GOLD"
ilio_load

# drbd_field KEY: a field of resource 0's line in /proc/drbd ("cs", "ro",
# "ds", "ns", "oos"; read with builtins: a fork costs ~0.15 s here).
drbd_field() {
	local line w
	while read -r line; do
		for w in $line; do
			case "$w" in
			"$1":*) echo "${w#*:}"; return 0 ;;
			esac
		done
	done </proc/drbd
	return 1
}

# drbd_wait KEY VALUE SECONDS: wait until drbd_field KEY is VALUE.
drbd_wait() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(drbd_field "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# now_ms: the guest's monotonic-enough clock in ms (bash builtin).
now_ms() {
	local t=$EPOCHREALTIME
	echo $(((${t%.*} * 1000000 + 10#${t#*.}) / 1000))
}

case "$1" in
nodeA) ME=hostA IP=$IP_A PEER=$IP_B DISKNAME=t39a ;;
nodeB) ME=hostB IP=$IP_B PEER=$IP_A DISKNAME=t39b ;;
*) fatal "unknown phase '$1' (nodeA|nodeB; no argument = host driver)" ;;
esac
DISK=$(vm_disk $DISKNAME) || fatal "no $DISKNAME disk"

# The network: busybox's applets shadow PATH in this shell, call full paths.
echo $ME >/proc/sys/kernel/hostname
# No udev here: nothing loads the NIC's driver on its own.
/sbin/modprobe virtio_net || fatal "modprobe virtio_net failed"
[ -d /sys/class/net/eth0 ] || fatal "no eth0 (run.sh --nic)"
assert_cmd "$ME: eth0 $IP/24 up" -- sh -c \
	"/sbin/ip link set lo up && /sbin/ip addr add $IP/24 dev eth0 && /sbin/ip link set eth0 up"
for _ in $(seq 1 100); do
	/bin/busybox ping -c 1 -W 1 "$PEER" >/dev/null 2>&1 && break
	sleep 0.3
done
assert_cmd "$ME: the peer $PEER answers a ping" -- /bin/busybox ping -c 1 -W 2 "$PEER"

# DRBD, as the recipe: the host root is read-only here, so /etc/drbd.d is
# a tmpfs holding Debian's global_common.conf and the resource.
cp /etc/drbd.d/global_common.conf "$T_TMP/" || fatal "no /etc/drbd.d/global_common.conf"
mount -t tmpfs -o size=1m drbdconf /etc/drbd.d || fatal "cannot mount a tmpfs on /etc/drbd.d"
cp "$T_TMP/global_common.conf" /etc/drbd.d/ || fatal "cannot copy global_common.conf"
mkdir -p /run/lock	# /var/lock -> /run/lock: drbdmeta locks there
cat >/etc/drbd.d/$RES_NAME.res <<EOF
resource $RES_NAME {
	protocol C;
	net {
		ping-int 2;
		ping-timeout 10;
		connect-int 2;
	}
	on hostA {
		device /dev/drbd0;
		disk $DISK;
		meta-disk internal;
		address $IP_A:7789;
	}
	on hostB {
		device /dev/drbd0;
		disk $DISK;
		meta-disk internal;
		address $IP_B:7789;
	}
}
EOF
assert_cmd "$ME: modprobe drbd" -- /sbin/modprobe drbd
assert_cmd "$ME: drbdadm create-md $RES_NAME" -- drbdadm create-md $RES_NAME
assert_cmd "$ME: drbdadm up $RES_NAME" -- drbdadm up $RES_NAME
drbd_wait cs Connected 120
assert_eq "$(drbd_field cs)" Connected "$ME: connected to the peer"

case "$1" in
nodeA)
	assert_eq "$(drbd_field ds)" Inconsistent/Inconsistent "A: both disks new"
	assert_cmd "A: skip the initial sync (both disks zeroed)" -- \
		drbdadm new-current-uuid --clear-bitmap $RES_NAME
	assert_cmd "A: drbdadm primary" -- drbdadm primary $RES_NAME
	drbd_wait ds UpToDate/UpToDate 30
	assert_eq "$(drbd_field ro)/$(drbd_field ds)" Primary/Secondary/UpToDate/UpToDate \
		"A: primary, both disks UpToDate"
	assert_cmd "A: ilioctl format /dev/drbd0" -- "$ILIOCTL" format /dev/drbd0
	assert_cmd "A: ilioctl create $NAME" -- \
		"$ILIOCTL" create $NAME --backing /dev/drbd0 --size $LSIZE --ram $RAM
	ns0=$(drbd_field ns)
	assert_cmd "A: write ${GOLD_MB} MiB (O_DIRECT) and fsync" -- dd if="$GOLD" \
		of=/dev/mapper/$NAME bs=1M oflag=direct conv=fsync status=none
	# What the fsync covered: the bytes, and DRBD's view as it returned.
	ns1=$(drbd_field ns)
	cs=$(drbd_field cs) oos=$(drbd_field oos)
	bw=$(sysfs_val $NAME backend_write_bytes 2>/dev/null || echo '?')
	log "A flushed $GOLD_MB MiB; DRBD sent $((ns1 - ns0)) KiB to B meanwhile; backend $bw bytes"
	assert_eq "$cs/$oos" Connected/0 "A: still connected, nothing out of sync after the fsync"
	assert_ge $((ns1 - ns0)) $((GOLD_MB * 1024 / 2)) \
		"A: DRBD sent B at least the unique half of the data set (KiB)"
	: >"$RESULTS/flushed"
	# The host kills QEMU now (run.sh --powercut): wait for it.
	sleep 600
	fail "A: still alive 600 s after flushing"
	finish
	;;
nodeB)
	drbd_wait ro Secondary/Primary 240
	drbd_wait ds UpToDate/UpToDate 30
	assert_eq "$(drbd_field ro)/$(drbd_field ds)" Secondary/Primary/UpToDate/UpToDate \
		"B: secondary of primary A, both disks UpToDate"
	assert_fails "B: the secondary refuses a read" -- \
		dd if=/dev/drbd0 of=/dev/null bs=4k count=1 iflag=direct status=none
	: >"$RESULTS/standby"
	# A dies: DRBD notices (ping-int 2 s, ping-timeout 1 s).
	for ((i = 0; i < 3000; i++)); do
		[ "$(drbd_field cs)" = Connected ] || break
		[ -e "$RESULTS/give-up" ] && break
		sleep 0.1
	done
	t0=$(now_ms)
	[ "$(drbd_field cs)" != Connected ] || fatal "B: the peer never went away"
	pass "B: DRBD sees the peer gone (cs:$(drbd_field cs))"
	dmesg_mark
	assert_cmd "B: drbdadm primary" -- drbdadm primary $RES_NAME
	t1=$(now_ms)
	assert_cmd "B: ilioctl create $NAME --takeover" -- "$ILIOCTL" create $NAME \
		--backing /dev/drbd0 --size $LSIZE --ram $RAM --takeover
	t2=$(now_ms)
	assert_cmd "B: the device reads" -- dd if=/dev/mapper/$NAME of=/dev/null bs=4k count=1 \
		iflag=direct status=none
	t3=$(now_ms)
	: >"$RESULTS/readable"
	echo "$((t1 - t0)) $((t2 - t1)) $((t3 - t2))" >"$RESULTS/times"
	log "B: promote $((t1 - t0)) ms, create $((t2 - t1)) ms, first read $((t3 - t2)) ms"
	dmesg_since | grep -E 'ilio|drbd' | tail -n 6
	assert_cmd "B: every byte A flushed is there ($GOLD_MB MiB, cmp)" -- \
		cmp_dev /dev/mapper/$NAME 0 $((GOLD_MB * MB)) "$GOLD"
	assert_cmd "B: the rest of the device reads zeroes (8 MiB after it)" -- \
		cmp_dev /dev/mapper/$NAME $((GOLD_MB * MB)) $((8 * MB)) /dev/zero
	assert_eq "$(dmsetup message $NAME 0 check 2>&1)" ok "B: store consistent"
	assert_cmd "B: writes and fsyncs" -- dd if="$GOLD" of=/dev/mapper/$NAME bs=1M count=4 \
		seek=64 oflag=direct conv=fsync status=none
	assert_cmd "B: the new write reads back" -- \
		cmp_dev /dev/mapper/$NAME $((64 * MB)) $((4 * MB)) "$GOLD"
	assert_cmd "B: ilioctl remove $NAME" -- "$ILIOCTL" remove $NAME
	assert_cmd "B: drbdadm down" -- drbdadm down $RES_NAME
	assert_cmd "rmmod dm_ilio" -- ilio_unload
	finish
	;;
esac
