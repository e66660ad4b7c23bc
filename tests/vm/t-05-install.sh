#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-05-install: the README's install and load steps work as written, on
# Debian's kernel: "make install" (overlays make the guest's read-only /
# writable where it installs) puts the module where "modprobe dm-ilio"
# finds it and loads dm-mod, libcrc32c and lz4_compress with it; modinfo,
# "dmsetup targets" and "ilioctl --version" give the one version of
# VERSION; the README's usage lines run; "make uninstall" takes it away; a
# bare insmod without the dependencies fails (the old README step), and
# the README's insmod line from the tree works; the admin guide's
# "Examples" run as written (ext4 on a diskless device, dedup_hits found
# through dmsetup's blkdevname, create with --no-compress --block-size 512).  Identity: ilioctl sets
# the dm UUID ILIO-DISKLESS-<uuid> on a diskless device and ILIO-<store
# uuid> on a persistent one ("dmsetup info -o uuid"; with udevd started
# for a while, the installed 69-ilio.rules and ilioctl probe give the store
# FSTYPE ilio and its UUID in lsblk -f and /dev/disk/by-uuid, and udev's dm
# rules /dev/disk/by-id/dm-uuid-ILIO-<store uuid>), refuses a second
# device over the same store by its UUID, and "ilioctl format" refuses a
# store in use, naming its holder, while "ilioctl probe" still reads it;
# "ilioctl activate /dev/disk/by-uuid/<uuid>" finds the store by that link
# with its recorded size; the admin guide's ilio-metrics.service
# ExecStart= (run by hand) writes ilio.prom atomically;
# blkid -p and wipefs see nothing on a store, mkfs.ext4 refuses it while
# it is active and overwrites it once it is not (the admin guide's
# "Keeping mkfs off a store").
#
# vm-args: --mem 1024 --timeout 300 --disk t05:64
# vm-time: 47

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd make dmsetup depmod modinfo
KVER=$(uname -r)
version=$(cat "$REPO/VERSION")
if [ ! -f "$REPO/dm-ilio/dm-ilio.ko" ] || [ ! -x "$REPO/tools/ilioctl" ]; then
	fatal "dm-ilio.ko and tools/ilioctl must be built on the host first"
fi

# The guest's / is the host's, read-only (9p): make install may write only
# through overlays in tmpfs (lib.sh: writable_install), with a copy of the
# modules this test loads.
writable_install dm-mod libcrc32c lz4_compress ext4 -- /usr/lib/udev /usr/lib/systemd /usr/local
cd "$REPO" || fatal "cd $REPO"

# check MSG FAILMSG CMD...: pass MSG if CMD succeeds, else fail FAILMSG.
check() {
	local msg=$1 bad=$2
	shift 2
	if "$@"; then pass "$msg"; else fail "$bad"; fi
}

# --- README: make install, modprobe dm-ilio --------------------------------
assert_cmd "make install" -- make install
check "make install ran depmod -a $KVER" "make install did not run depmod: $(tail -n 3 "$_T_LAST_OUT")" \
	grep -q "depmod -a $KVER" "$_T_LAST_OUT"
assert_eq "$(modinfo -F filename dm-ilio)" "/lib/modules/$KVER/extra/dm-ilio.ko" \
	"modinfo finds the installed module"
assert_eq "$(command -v ilioctl)" /usr/local/sbin/ilioctl "ilioctl in PATH"
assert_cmd "modprobe dm-ilio" -- modprobe dm-ilio
for m in dm_ilio dm_mod libcrc32c lz4_compress; do
	check "$m loaded" "$m not loaded by modprobe dm-ilio" [ -d "/sys/module/$m" ]
done
assert_eq "$(modinfo -F version dm-ilio)" "$version" "modinfo -F version dm-ilio"
assert_eq "$(cat /sys/module/dm_ilio/version)" "$version" "/sys/module/dm_ilio/version"
assert_eq "$(dmsetup targets | awk '$1 == "ilio" { print $2 }')" "v$version" \
	"dmsetup targets: the target's version"
assert_eq "$(ilioctl --version | cut -d' ' -f1,2)" "ilioctl $version" "ilioctl --version"

# --- README: "Using it" -------------------------------------------------------
assert_cmd "README: echo TABLE | dmsetup create vdi" -- \
	sh -c 'echo "0 16777216 ilio - 2048" | dmsetup create vdi'
assert_cmd "README: ilioctl status vdi" -- ilioctl status vdi
# The admin guide's ilio-metrics.service, its ExecStart= run by hand (t-41
# systemd in the guest; the unit is a oneshot), with the textfile
# collector's directory in tmpfs.
prom=$T_TMP/node-exporter
mkdir -p "$prom"
exec_start=$(sed -n 's/^ *ExecStart=\(.*--prometheus.*\)/\1/p' \
	Documentation/admin-guide/device-mapper/ilio.rst)
exec_start=${exec_start//\/var\/lib\/prometheus\/node-exporter/$prom}
assert_cmd "admin guide: ilio-metrics.service ExecStart=" -- sh -c "$exec_start"
check "it wrote ilio.prom and no temporary file" "textfile dir: $(ls "$prom")" \
	[ "$(ls "$prom")" = ilio.prom ]
check "ilio.prom: vdi in mode write" "ilio.prom: $(grep ilio_mode "$prom/ilio.prom")" \
	grep -qx 'ilio_mode{device="vdi",mode="write"} 1' "$prom/ilio.prom"
check "ilio.prom: vdi's size" "ilio.prom: $(grep ilio_size_bytes "$prom/ilio.prom")" \
	grep -qx 'ilio_size_bytes{device="vdi"} 8589934592' "$prom/ilio.prom"
assert_eq "$(dm_node vdi)" dm-0 "vdi is dm-0, as the README says"
assert_eq "$(cat /sys/block/dm-0/ilio/dedup_hits)" 0 "README: /sys/block/dm-0/ilio/dedup_hits"
assert_eq "$(dmsetup info -c --noheadings -o uuid vdi)" "" "dmsetup create: no UUID"
assert_cmd "remove vdi" -- dmsetup remove vdi
assert_cmd "README: ilioctl create vdi --diskless" -- \
	ilioctl create vdi --diskless --size 8G --ram 2G
u=$(dmsetup info -c --noheadings -o uuid vdi)
if [[ "$u" =~ ^ILIO-DISKLESS-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]; then
	pass "diskless dm UUID $u"
else
	fail "diskless dm UUID: '$u'"
fi
assert_cmd "ilioctl remove vdi" -- ilioctl remove vdi

# --- the admin guide's "Examples" ---------------------------------------------
assert_cmd "guide: echo TABLE | dmsetup create vdi" -- \
	sh -c 'echo "0 16777216 ilio - 2048" | dmsetup create vdi'
/sbin/modprobe ext4 || fatal "modprobe ext4"
assert_cmd "guide: mkfs.ext4 /dev/mapper/vdi && mount /dev/mapper/vdi /mnt" -- \
	sh -c 'mkfs.ext4 /dev/mapper/vdi && mount /dev/mapper/vdi /mnt'
head -c 1048576 /dev/urandom >/mnt/a && cp /mnt/a /mnt/b && sync
# (Not $(basename $(readlink -f /dev/mapper/vdi)): /dev/mapper/vdi is a
# link to ../dm-N only where udev made it.)
assert_cmd "guide: cat /sys/block/\$(dmsetup info -c --noheadings -o blkdevname vdi)/ilio/dedup_hits" -- \
	sh -c 'cat /sys/block/$(dmsetup info -c --noheadings -o blkdevname vdi)/ilio/dedup_hits'
assert_ge "$(last_output)" 256 "dedup_hits: the copy of a 1 MiB file is stored once"
assert_cmd "umount /mnt" -- umount /mnt
assert_cmd "guide: tools/ilioctl status vdi" -- tools/ilioctl status vdi
assert_cmd "dmsetup remove vdi" -- dmsetup remove vdi
assert_cmd "guide: tools/ilioctl create vdi --diskless --size 8G --ram 2G --no-compress --block-size 512" -- \
	tools/ilioctl create vdi --diskless --size 8G --ram 2G --no-compress --block-size 512
assert_eq "$(dmsetup table vdi | cut -d' ' -f6-)" "6 dedup on compress none block_size 512" \
	"the options reach the table"
assert_cmd "guide: tools/ilioctl status vdi --json" -- tools/ilioctl status vdi --json
check "status --json names vdi" "status --json: $(head -c 300 "$_T_LAST_OUT")" \
	grep -qE '"name": *"vdi"' "$_T_LAST_OUT"
assert_cmd "guide: tools/ilioctl remove vdi" -- tools/ilioctl remove vdi

# --- identity of a persistent store -------------------------------------------
D=$(vm_disk t05) || fatal "no disk t05"
assert_cmd "ilioctl format $D" -- ilioctl format "$D"
fmt_uuid=$(awk '$1 == "uuid" { print $2 }' "$_T_LAST_OUT")
assert_cmd "ilioctl probe $D" -- ilioctl probe "$D"
assert_eq "$(sed -n 's/^ID_FS_UUID=//p' "$_T_LAST_OUT")" "$fmt_uuid" "probe: the store's uuid"
# What the admin guide says libblkid sees: nothing.
assert_rc 2 "blkid -p finds nothing on the store" -- blkid -p "$D"
assert_eq "$(wipefs "$D")" "" "wipefs lists nothing on the store"

# udev with the installed rule (and ilioctl): the store shows in lsblk -f
# and /dev/disk/by-uuid, the device in /dev/disk/by-id/dm-uuid-ILIO-*.
# udevd runs for this part only; libdevmapper waits for it meanwhile.
need_cmd udevadm lsblk
if /lib/systemd/systemd-udevd --daemon >"$T_TMP/udevd.log" 2>&1; then
	pass "systemd-udevd started"
	assert_cmd "udevadm trigger $D (the admin guide)" -- udevadm trigger "$D"
	assert_cmd "udevadm settle" -- udevadm settle -t 30
	assert_eq "$(readlink "/dev/disk/by-uuid/$fmt_uuid")" ../../"${D#/dev/}" \
		"/dev/disk/by-uuid/<store uuid>"
	assert_eq "$(lsblk -dno FSTYPE,UUID "$D" | tr -s ' ')" "ilio $fmt_uuid" "lsblk -f: FSTYPE ilio, UUID"
	assert_cmd "lsblk -f $D (the admin guide's form)" -- lsblk -f "$D"
	check "lsblk -f: FSTYPE ilio and the UUID" "lsblk -f: $(last_output)" \
		grep -qE "^${D#/dev/} +ilio .*$fmt_uuid" "$_T_LAST_OUT"
	assert_eq "$(udevadm info --query=property "$D" | grep -c '^ID_FS_TYPE=ilio$')" 1 \
		"udevadm info: ID_FS_TYPE=ilio"
	assert_cmd "ilioctl create lun, with udev" -- \
		env -u DM_DISABLE_UDEV ilioctl create lun --backing "$D" --size 32M --ram 16M
	udevadm settle -t 30
	assert_eq "$(readlink "/dev/disk/by-id/dm-uuid-ILIO-$fmt_uuid")" "../../$(dm_node lun)" \
		"/dev/disk/by-id/dm-uuid-ILIO-<store uuid>"
	assert_cmd "ilioctl remove lun, with udev" -- env -u DM_DISABLE_UDEV ilioctl remove lun
	udevadm settle -t 30
	check "by-id link gone with the device" "by-id link left" \
		[ ! -e "/dev/disk/by-id/dm-uuid-ILIO-$fmt_uuid" ]
	# The admin guide's "later: no --size", through the by-uuid link.
	assert_cmd "ilioctl activate /dev/disk/by-uuid/<store uuid> --ram 16M --name lun" -- \
		env -u DM_DISABLE_UDEV ilioctl activate "/dev/disk/by-uuid/$fmt_uuid" --ram 16M --name lun
	assert_eq "$(blockdev --getsize64 /dev/mapper/lun) $(dmsetup table lun | cut -d' ' -f4)" \
		"$((32 * 1048576)) $(( 0x$(stat -c %t "$D") )):$(( 0x$(stat -c %T "$D") ))" \
		"by-uuid: the recorded size, over $D"
	assert_cmd "ilioctl remove lun (by-uuid)" -- env -u DM_DISABLE_UDEV ilioctl remove lun
	udevadm settle -t 30
	udevadm control --exit
else
	fail "systemd-udevd: $(cat "$T_TMP/udevd.log")"
fi

assert_cmd "ilioctl create lun --backing $D" -- \
	ilioctl create lun --backing "$D" --size 32M --ram 16M
assert_eq "$(dmsetup info -c --noheadings -o uuid lun)" "ILIO-$fmt_uuid" "persistent dm UUID"
assert_fails "a second device over the same store" -- \
	ilioctl create lun2 --backing "$D" --size 32M --ram 16M
# create's own checks find the store held first (by lun's dm-N node);
# the dm UUID check behind them names the device too.
check "it names the device that has the store" "second create: $(cat "$_T_LAST_OUT")" \
	grep -qE "already active as device 'lun' \(dm uuid ILIO-$fmt_uuid\)|$D is in use \(held by $(dm_node lun)\)" "$_T_LAST_OUT"
node=$(dm_node lun)
assert_fails "format refuses the store in use" -- ilioctl format "$D" --force
check "format names the holder ($node)" "format in use: $(cat "$_T_LAST_OUT")" \
	grep -q "$D is in use (held by $node)" "$_T_LAST_OUT"
assert_cmd "probe reads the store in use" -- ilioctl probe "$D"
assert_fails "mkfs.ext4 refuses the store in use" -- mkfs.ext4 -q "$D"
check "mkfs says it is in use" "mkfs.ext4 on the store in use: $(cat "$_T_LAST_OUT")" \
	grep -q "is apparently in use by the system" "$_T_LAST_OUT"
assert_cmd "ilioctl remove lun" -- ilioctl remove lun
mm=$(( 0x$(stat -c %t "$D") )):$(( 0x$(stat -c %T "$D") ))
assert_cmd "ilioctl create lun --backing $mm (major:minor)" -- \
	ilioctl create lun --backing "$mm" --size 32M --ram 16M
assert_eq "$(dmsetup info -c --noheadings -o uuid lun)" "ILIO-$fmt_uuid" "dm UUID over major:minor"
assert_cmd "ilioctl remove lun (major:minor)" -- ilioctl remove lun
# The README's persistent lines: a table piped to dmsetup, then status.
assert_cmd "README: echo TABLE | dmsetup create lun (persistent)" -- \
	sh -c "echo \"0 65536 ilio $D 16\" | dmsetup create lun"
assert_cmd "README: ilioctl status lun" -- ilioctl status lun
check "status lun: write offload, read offload, backend I/O size" "status lun: $(cat "$_T_LAST_OUT")" \
	sh -c 'grep -q "write offload" "$1" && grep -q "read offload" "$1" && grep -q "backend writes" "$1"' sh "$_T_LAST_OUT"
assert_cmd "dmsetup remove lun" -- dmsetup remove lun
# ... and, as the admin guide warns, overwrites it once it is inactive.
assert_cmd "mkfs.ext4 on the inactive store (no prompt)" -- mkfs.ext4 -q "$D"
assert_rc 1 "ilioctl probe: no store any more" -- ilioctl probe "$D"

# --- unload, uninstall ------------------------------------------------------------
assert_cmd "modprobe -r dm-ilio" -- modprobe -r dm-ilio
check "dm_ilio unloaded" "dm_ilio still loaded" [ ! -d /sys/module/dm_ilio ]
assert_cmd "make uninstall" -- make uninstall
assert_fails "modprobe dm-ilio after make uninstall" -- modprobe -n dm-ilio
check "ilioctl removed" "ilioctl left in /usr/local/sbin" [ ! -e /usr/local/sbin/ilioctl ]

# --- README: from the tree ------------------------------------------------------
for m in dm_mod libcrc32c lz4_compress; do
	[ -d "/sys/module/$m" ] && modprobe -r "$m"
done
if [ -d /sys/module/dm_mod ]; then
	fail "dm_mod still loaded: cannot show the bare insmod failing"
else
	dmesg_mark
	assert_fails "bare insmod without dm-mod (the old README step)" -- \
		insmod dm-ilio/dm-ilio.ko
	check "the kernel says: Unknown symbol" "no 'Unknown symbol' in the log" \
		grep -q "dm_ilio: Unknown symbol" <(dmesg_since)
fi
assert_cmd "README: modprobe -a dm-mod libcrc32c lz4_compress && insmod dm-ilio/dm-ilio.ko" -- \
	bash -c "modprobe -a dm-mod libcrc32c lz4_compress && insmod dm-ilio/dm-ilio.ko"
assert_eq "$(dmsetup targets | awk '$1 == "ilio" { print $2 }')" "v$version" "target registered from the tree"
assert_cmd "rmmod dm_ilio" -- rmmod dm_ilio
finish
