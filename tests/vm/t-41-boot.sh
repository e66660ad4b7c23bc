#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-41-boot: a store activated at boot by systemd from /etc/iliotab, and
# removed cleanly at shutdown, for real: systemd is PID 1 (run.sh --init
# systemd), with the host's own systemd, udev and the units "make install"
# put in place.
#
# Boot 1, before systemd (ILIO_BOOT_PHASE=pre): the guest's / is made
# writable where an admin writes (overlays on /etc, /var, /usr/local and
# /usr/lib/{systemd,udev}), "make install" runs, and two stores are
# formatted: "desk" gets ext4 (activated with --size once, then removed),
# "vdi" is left never activated.  /etc/iliotab names desk by UUID= (the
# link the installed udev rule makes) with no size, and has a bad line;
# /etc/fstab mounts /dev/mapper/desk on /mnt/desk.
#
# Boot 1 under systemd (ILIO_BOOT_PHASE=booted), once sysinit.target and
# local-fs.target are up:
#   * ilio-desk.service is active, /dev/mapper/desk has the store's size and
#     dm UUID, and fstab's mount is on it: the chain iliotab -> generator ->
#     udev's by-uuid link -> .device unit -> service -> fstab mount works;
#   * the bad iliotab line got no unit, and the generator's complaint about
#     it is in the kernel log as "journalctl -b" shows it (the admin guide);
#     the kernel's activation line is in "journalctl -k";
#   * iliotab(5)'s example: a line for vdi is added, then "systemctl
#     daemon-reload" and "systemctl start ilio-vdi.service" bring it up;
#   * the admin guide's ilio-metrics.service and .timer, written from the
#     guide's text, enabled with "systemctl enable --now", write ilio.prom
#     with both devices;
#   * the guide's NFS recipe: /mnt/desk in /etc/exports, "exportfs -ra",
#     "systemctl start nfs-server";
#   * 32 MiB of random data is written to /mnt/desk and not synced: only
#     an orderly shutdown (unmount first, then "ilioctl remove") keeps it.
# Then systemd powers off.  The console log must show nfs-server.service
# stopped and /mnt/desk unmounted before ilio-desk.service stopped, ilio-vdi.service stopped, and
# systemd-shutdown's power-off; a shutdown that hangs is run.sh's timeout.
#
# Boot 2, without systemd: both stores open with "recovery: clean
# shutdown", desk's ext4 is clean (no journal to recover: it was unmounted
# before the device went), and the data file reads back with its sha256.
#
# This file is both halves: run on the host (no argument; "vm-driver:
# host") it boots the two VMs; "boot1" and "boot2" are the guest halves.
#
# vm-driver: host
# vm-time: 147

DESK_MB=256
VDI_MB=128

# --- host half ------------------------------------------------------------------
if [ $# = 0 ]; then
	REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	export REPO RESULTS=/tmp
	# shellcheck source=tests/vm/lib.sh
	. "$REPO/tests/vm/lib.sh"
	in_guest && fatal "t-41 without a phase runs on the host (it boots the VMs)"
	VM="$REPO/tests/vm"
	RESDIR="$REPO/build/vm/results"
	SELF="$VM/t-41-boot.sh"
	B1=$RESDIR/t-41-boot.boot1
	CON=$REPO/build/vm/logs/t-41-boot.boot1.log

	log "boot 1: systemd activates desk from /etc/iliotab, then powers off"
	"$VM/run.sh" --name t-41-boot.boot1 --init systemd --mem 1024 --timeout 420 \
		--disk t41:$DESK_MB --disk t41b:$VDI_MB "$SELF" boot1
	rc=$?
	guest_counts "$B1/output.log"
	assert_eq "$rc" 0 "boot 1: both halves passed, systemd powered off, no oops"
	assert_eq "$(grep -cE '^[0-9]+ passed, [0-9]+ failed$' "$B1/output.log"),$(grep -c 'without calling finish' "$B1/output.log")" 2,0 \
		"boot 1: the pre and the booted half both ran to their end"

	# The shutdown, in the order the console shows it (systemd's status
	# lines, colours taken out; the kernel's info lines do not reach the
	# console at loglevel=5: boot 2 checks what they would say).
	sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$CON" |
		sed -n '/ilio-guest-init: booted half exited/,$p' >"$T_TMP/console"
	if [ -s "$T_TMP/console" ]; then
		pass "the console log has the shutdown, after the booted half ended"
	else
		fail "no 'booted half exited' line in $CON"
	fi
	line() { grep -n -m 1 -F "$1" "$T_TMP/console" | cut -d: -f1; }
	umnt=$(line "Unmounted mnt-desk.mount")
	stopped=$(line "Stopped ilio-desk.service")
	if [ -n "$umnt" ] && [ -n "$stopped" ] && [ "$umnt" -lt "$stopped" ]; then
		pass "shutdown: /mnt/desk unmounted (console line $umnt) before ilio-desk.service stopped (line $stopped)"
	else
		fail "shutdown order in $CON: /mnt/desk unmounted at line '$umnt', ilio-desk.service stopped at '$stopped'"
	fi
	nfs=$(line "Stopped nfs-server.service")
	if [ -n "$nfs" ] && [ -n "$stopped" ] && [ "$nfs" -lt "$stopped" ]; then
		pass "shutdown: nfs-server.service stopped (line $nfs) before ilio-desk.service"
	else
		fail "shutdown order in $CON: nfs-server.service stopped at line '$nfs', ilio-desk.service at '$stopped'"
	fi
	for n in desk vdi; do
		if grep -q "t-41: ilio-$n.service stopped: success" "$T_TMP/console"; then
			pass "shutdown: ilio-$n.service's ExecStop= (ilioctl remove) succeeded"
		else
			fail "shutdown: ilio-$n.service: $(grep "t-41: ilio-$n.service" "$T_TMP/console" || echo "no stop result") (see $CON)"
		fi
	done
	# systemd's own power-off, not guest-init's fallback (sysrq).
	if grep -q "Reached target poweroff.target" "$T_TMP/console" &&
		grep -q "reboot: Power down" "$T_TMP/console" &&
		! grep -q "sysrq: Power Off" "$T_TMP/console"; then
		pass "systemd shut down and powered the VM off"
	else
		fail "no systemd power-off in $CON"
	fi
	sha=$(cat "$B1/desk.sha256" 2>/dev/null)

	log "boot 2: the stores after systemd's shutdown"
	"$VM/run.sh" --name t-41-boot.boot2 --mem 1024 --timeout 300 \
		--disk t41:$DESK_MB:keep --disk t41b:$VDI_MB:keep "$SELF" boot2 "$sha"
	rc=$?
	guest_closing "$RESDIR/t-41-boot.boot2/output.log" "boot 2"
	assert_eq "$rc" 0 "boot 2 passed without an oops"
	rm -f "$REPO/build/vm/disks/t41.img" "$REPO/build/vm/disks/t41b.img"
	rm -rf "$T_TMP"
	finish
fi

# --- guest halves ---------------------------------------------------------------
# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"
D=$(vm_disk t41) || fatal "no disk t41"
DV=$(vm_disk t41b) || fatal "no disk t41b"
cd "$REPO" || fatal "cd $REPO"

# --- boot 1, before systemd --------------------------------------------------
if [ "$1" = boot1 ] && [ "${ILIO_BOOT_PHASE:-}" = pre ]; then
	need_cmd make systemctl journalctl mkfs.ext4 exportfs rpc.nfsd
	# /var: the textfile collector's directory, systemd's and nfsd's
	# state.  The modules: what the test, nfs-server.service and systemd's
	# own modprobe@ units load.
	writable_install dm-mod libcrc32c lz4_compress ext4 nfsd loop configfs fuse -- \
		/etc /var /usr/lib/udev /usr/lib/systemd /usr/local
	assert_cmd "make install" -- make install
	assert_cmd "modprobe dm-ilio" -- modprobe dm-ilio
	assert_cmd "ilioctl format desk's disk" -- ilioctl format "$D"
	assert_cmd "ilioctl format vdi's disk" -- ilioctl format "$DV"
	uuid=$(ilioctl probe "$D" | sed -n 's/^ID_FS_UUID=//p')
	[ -n "$uuid" ] || fatal "ilioctl probe $D: no ID_FS_UUID"
	assert_cmd "activate desk once, with its size" -- \
		ilioctl activate "$D" --size 1G --ram 64M --name desk
	assert_cmd "mkfs.ext4 on desk" -- mkfs.ext4 -q /dev/mapper/desk
	assert_cmd "remove desk" -- ilioctl remove desk

	# The host's systemd, minus what a VM test has no use for.
	echo 4f1d1b3cf4d14a8fa6b2f3d8c5e4a901 >/etc/machine-id	# no first boot
	rm -f /etc/systemd/system/sysinit.target.wants/*
	mkdir -p /etc/systemd/journald.conf.d
	printf '[Journal]\nStorage=volatile\n' >/etc/systemd/journald.conf.d/t-41.conf
	for u in systemd-networkd.service systemd-networkd.socket systemd-binfmt.service \
		proc-sys-fs-binfmt_misc.automount systemd-timesyncd.service; do
		ln -sf /dev/null "/etc/systemd/system/$u"
	done
	printf '%s\n' "# name  device  options" \
		"desk  UUID=$uuid  ram=64M" \
		"bad  /dev/vdz  ram=1G,frobnicate" >/etc/iliotab
	printf '%s\n' "/dev/mapper/desk /mnt/desk ext4 defaults 0 0" >/etc/fstab
	# Wants=, not Requires=: a failed local-fs.target must still run the
	# booted half, which then says so (emergency mode is guest-init's).
	mkdir -p /run/systemd/system/ilio-test.service.d
	printf '%s\n' "[Unit]" "Wants=sysinit.target local-fs.target" \
		"After=sysinit.target local-fs.target" \
		>/run/systemd/system/ilio-test.service.d/t-41.conf
	# make install put ilioctl in /usr/local/sbin, here an overlay mount
	# that systemd would unmount before the stores' units stop (they stop
	# after the local filesystems, as they must), so their ExecStop= found
	# no ilioctl, and systemd-shutdown's final DM detach closed the stores
	# instead.  On a real host /usr/local is part of / or /usr, which stay
	# mounted to the end: so here too (see the admin guide).
	mkdir -p /run/systemd/system/usr-local.mount.d
	printf '%s\n' "[Unit]" "DefaultDependencies=no" \
		>/run/systemd/system/usr-local.mount.d/t-41.conf
	# How each store's unit stopped ("Stopped" is printed for a failed stop
	# too): its result, on the console (kernel log level 4 reaches it).
	for n in desk vdi; do
		mkdir -p "/run/systemd/system/ilio-$n.service.d"
		printf '%s\n' "[Service]" \
			"ExecStopPost=/bin/sh -c 'echo \"<4>t-41: ilio-$n.service stopped: \$SERVICE_RESULT \$EXIT_CODE \$EXIT_STATUS\" >/dev/kmsg'" \
			"StandardOutput=kmsg" "StandardError=kmsg" \
			>"/run/systemd/system/ilio-$n.service.d/t-41.conf"
	done
	echo "$uuid" >"$RESULTS/desk.uuid"
	finish
fi

# --- boot 1, under systemd ---------------------------------------------------
if [ "$1" = boot1 ]; then
	# Not the harness's udev-less dmsetup: udevd runs, as on a real host.
	unset DM_DISABLE_UDEV
	uuid=$(cat "$RESULTS/desk.uuid")
	assert_eq "$(cat /proc/1/comm)" systemd "PID 1 is systemd"
	assert_eq "$(systemctl is-active local-fs.target)" active "local-fs.target is up"
	assert_eq "$(systemctl is-active ilio-desk.service)" active \
		"ilio-desk.service is active"
	assert_eq "$(findmnt -n -o SOURCE,FSTYPE /mnt/desk)" "/dev/mapper/desk ext4" \
		"fstab's /mnt/desk is mounted from /dev/mapper/desk"
	assert_eq "$(blockdev --getsize64 /dev/mapper/desk)" $((1 << 30)) \
		"desk has the size its store recorded (iliotab gave none)"
	assert_eq "$(dmsetup info -c --noheadings -o uuid desk)" "ILIO-$uuid" \
		"desk's dm UUID"
	assert_eq "$(readlink -f "/dev/disk/by-uuid/$uuid")" "$D" \
		"udev's /dev/disk/by-uuid link names the store's disk"
	assert_eq "$(systemctl list-units --all --plain --no-legend 'ilio-*.service' |
		awk '$1 != "ilio-test.service" { print $1 }' | paste -sd' ')" "ilio-desk.service" \
		"the bad iliotab line got no unit"
	if journalctl -b --no-pager | grep -q "ilio-generator: /etc/iliotab:3: unknown option 'frobnicate'"; then
		pass "journalctl -b: the generator's complaint about line 3"
	else
		fail "journalctl -b has no ilio-generator line about line 3: $(journalctl -b --no-pager | grep -i ilio | head -n 5)"
	fi
	# The kernel names a device by its node (dm-0), as the admin guide says.
	node=$(dm_node desk)
	# Two: the first half's own activation (mkfs) and systemd's.
	n=$(journalctl -k -b --no-pager | grep -c "ilio: $node: store on .* opened")
	if [ "$n" -ge 2 ]; then
		pass "journalctl -k: the kernel's activation line, at boot too ($n in all)"
	else
		fail "journalctl -k has no activation line for desk ($node)"
	fi

	# iliotab(5): add a line, then daemon-reload and start its unit.
	echo "vdi  /dev/disk/by-id/virtio-t41b  ram=32M,size=256M" >>/etc/iliotab
	assert_cmd "iliotab(5): systemctl daemon-reload" -- systemctl daemon-reload
	assert_cmd "iliotab(5): systemctl start ilio-vdi.service" -- \
		systemctl start ilio-vdi.service
	assert_eq "$(blockdev --getsize64 /dev/mapper/vdi)" $((256 << 20)) \
		"vdi is up with the size= of its iliotab line"

	# The admin guide's metrics service and timer, from its text.
	mkdir -p /var/lib/prometheus/node-exporter
	guide=Documentation/admin-guide/device-mapper/ilio.rst
	for u in ilio-metrics.service ilio-metrics.timer; do
		awk -v h="# /etc/systemd/system/$u" '
			$1 " " $2 == h { on = 1; next }
			on && /^ *$/ { exit }
			on { sub(/^ +/, ""); print }' "$guide" >"/etc/systemd/system/$u"
	done
	# (enable reloads systemd itself: no daemon-reload needed)
	assert_cmd "the guide: systemctl enable --now ilio-metrics.timer" -- \
		systemctl enable --now ilio-metrics.timer
	prom=/var/lib/prometheus/node-exporter/ilio.prom
	if wait_file "$prom" 40; then
		pass "the timer ran ilio-metrics.service: $prom"
	else
		fail "no $prom 40 s after the timer started: $(systemctl status --no-pager ilio-metrics.service 2>&1 | tail -n 5)"
	fi
	for n in desk vdi; do
		if grep -qx "ilio_mode{device=\"$n\",mode=\"write\"} 1" "$prom" 2>/dev/null; then
			pass "ilio.prom has $n in mode write"
		else
			fail "ilio.prom lacks $n: $(grep ilio_mode "$prom" 2>&1)"
		fi
	done

	# The guide's NFS recipe on desk's filesystem, with systemd's
	# nfs-server.service: at shutdown it must stop before the store goes.
	echo "/mnt/desk 127.0.0.1(rw,sync,no_subtree_check,no_root_squash,fsid=0)" >>/etc/exports
	assert_cmd "the guide: exportfs -ra" -- exportfs -ra
	assert_cmd "the guide: systemctl start nfs-server" -- systemctl start nfs-server
	assert_ge "$(cat /proc/fs/nfsd/threads 2>/dev/null || echo 0)" 1 "nfsd threads run"
	if exportfs -v | grep -q '^/mnt/desk'; then
		pass "/mnt/desk is exported"
	else
		fail "exportfs -v: $(exportfs -v 2>&1 | head -n 3)"
	fi

	# Data that only an orderly shutdown keeps: not synced.
	head -c 32M /dev/urandom >/mnt/desk/data || fail "write /mnt/desk/data"
	sha256sum </mnt/desk/data | cut -d' ' -f1 >"$RESULTS/desk.sha256"
	finish
fi

# --- boot 2 ---------------------------------------------------------------------
if [ "$1" = boot2 ]; then
	want=${2:-}
	[ -n "$want" ] || fatal "boot 2 without boot 1's sha256"
	ilio_load
	ilioctl() { "$REPO/tools/ilioctl" "$@"; }
	dmesg_mark
	assert_cmd "activate desk" -- ilioctl activate "$D" --ram 64M --name desk
	assert_cmd "activate vdi" -- ilioctl activate "$DV" --ram 32M --name vdi
	for n in desk vdi; do
		node=$(dm_node $n)
		r=$(dmesg_since | grep -o "ilio: $node: recovery: .*")
		if [[ "$r" == *": recovery: clean shutdown"* ]]; then
			pass "$n: ${r#*: }"
		else
			fail "$n ($node): not a clean shutdown: '$r'"
		fi
	done
	st=$(dumpe2fs -h /dev/mapper/desk 2>/dev/null)
	assert_eq "$(sed -n 's/^Filesystem state: *//p' <<<"$st")" clean "desk's ext4 has no error recorded"
	if grep -q needs_recovery <<<"$st"; then
		fail "desk's ext4 needs journal recovery: it was not unmounted before the device went"
	else
		pass "desk's ext4 has no journal to recover"
	fi
	mkdir -p /mnt/desk
	assert_cmd "mount desk" -- mount -o ro /dev/mapper/desk /mnt/desk
	assert_eq "$(sha256sum </mnt/desk/data | cut -d' ' -f1)" "$want" \
		"the unsynced data written before the shutdown reads back"
	umount /mnt/desk
	assert_cmd "ilioctl message desk check" -- ilioctl message desk check
	ilioctl remove desk >/dev/null
	ilioctl remove vdi >/dev/null
	finish
fi
fatal "unknown phase: $*"
