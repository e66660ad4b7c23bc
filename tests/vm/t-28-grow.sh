#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-28-grow: online grow (issue 10) against the real module, through
# "ilioctl grow" and dmsetup as an admin types them.
#  - persistent, over a LUN that is a dm-linear device (so that it can be
#    extended as a SAN LUN is): shrinking is refused by ilioctl and by the
#    kernel (a smaller reload); "ilioctl grow --size" doubles the logical
#    size with the device live, the kernel log says so, old data reads
#    back and the new range takes data;
#  - the LUN is extended, "ilioctl grow NAME" joins its new segments (log
#    area in dmsetup status, kernel line), and more unique data than the
#    old log area could hold is written and read back;
#  - after "ilioctl remove", "ilioctl activate" with no --size brings the
#    store back at the grown size with every byte, and "ilioctl info" shows
#    the grown geometry;
#  - a grow the kernel refuses (a read-only device) leaves the device live
#    at its old size with its data (ilioctl reloads the old table);
#  - diskless: grow keeps the data and the new range takes writes;
#  - a loop-device LUN extended with "losetup -c" grows the log area, and
#    so does a SCSI LUN (LIO's tcm_loop over a dm-linear that grows) after
#    the admin guide's SCSI rescan;
#  - ext4 (resize2fs) and XFS (xfs_growfs) grow online on a grown device,
#    and fstrim after a delete gives the file's blocks back.
# Power cuts during a grow are tested at every device write in
# tests/unit/test-plog.c (grow).
#
# vm-args: --mem 1024 --timeout 300 --disk t28:128
# vm-time: 68

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup blockdev cmp dd python3
ILIOCTL="$REPO/tools/ilioctl"
BLKPAT="$REPO/tests/vm/blkpat.py"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load

DISK=$(vm_disk t28) || fatal "no t28 disk (vm-args --disk t28:128)"
MIB=1048576
trap 'dm_remove_prefix t28' EXIT

# linear_lun NAME MIB: dm-linear NAME is the first MIB MiB of the disk
# (created, or reloaded and resumed: a LUN extended on the array).
linear_lun() {
	local t="0 $(($2 * 2048)) linear $DISK 0"
	if dmsetup info "$1" >/dev/null 2>&1; then
		dmsetup reload "$1" --table "$t" && dmsetup resume "$1"
	else
		dmsetup create "$1" --table "$t"
	fi
}
lun_size() { linear_lun t28lun "$1"; }

assert_cmd "LUN of 24 MiB" -- lun_size 24
LUN=/dev/mapper/t28lun
assert_cmd "format the LUN" -- "$ILIOCTL" format "$LUN"
assert_cmd "activate 64M" -- "$ILIOCTL" activate "$LUN" --size 64M --ram 64M --name t28
DEV=/dev/mapper/t28
back0=$(status_field t28 24)
assert_cmd "golden data" -- python3 "$BLKPAT" gen "$T_TMP/gold1" 1024 \
	--seed 28 --tag t28a --dup 30 --comp 60
assert_cmd "write it at 0" -- dd if="$T_TMP/gold1" of=$DEV bs=64k oflag=direct \
	conv=fsync status=none

# Shrinking: refused by ilioctl, and by the kernel for a hand-made table.
assert_fails "grow --size 32M (a shrink)" -- "$ILIOCTL" grow t28 --size 32M
last_output | grep -q "shrinking is not supported" &&
	pass "ilioctl says shrinking is not supported" ||
	fail "shrink refusal: $(last_output)"
table=$(dmsetup table t28 | cut -d' ' -f4-)
dmesg_mark
assert_fails "dmsetup reload with a smaller length" -- \
	dmsetup reload t28 --table "0 $((32 * 2048)) ilio $table"
dmesg_since | grep -q "Cannot shrink an ilio device" &&
	pass "the kernel says it cannot shrink" || fail "no kernel refusal line"
assert_eq "$(blockdev --getsize64 $DEV)" $((64 * MIB)) "size unchanged by the refusals"

# Grow the logical size online: a dry run first, which changes nothing.
assert_cmd "grow --size 128M --dry-run" -- "$ILIOCTL" grow t28 --size 128M --dry-run
last_output | grep -q "would grow t28 from 64.00 MiB to 128.00 MiB" &&
	pass "dry run says what it would do" || fail "dry run: $(last_output)"
assert_eq "$(blockdev --getsize64 $DEV)" $((64 * MIB)) "size unchanged by the dry run"
dmesg_mark
assert_cmd "grow --size 128M" -- "$ILIOCTL" grow t28 --size 128M
last_output | grep -q "t28: logical size 64.00 MiB -> 128.00 MiB" &&
	pass "grow reports the new size" || fail "grow output: $(last_output)"
assert_eq "$(blockdev --getsize64 $DEV)" $((128 * MIB)) "logical size after grow"
dmesg_since | grep -q "dm-[0-9]*: logical size grown from 64 MiB to 128 MiB" &&
	pass "kernel log: logical size grown" || fail "no kernel grow line"
cmp_dev $DEV 0 $((4 * MIB)) "$T_TMP/gold1" && pass "old data after grow" ||
	fail "old data differs after grow"
assert_cmd "golden data 2" -- python3 "$BLKPAT" gen "$T_TMP/gold2" 1024 \
	--seed 29 --tag t28b --dup 30 --comp 60
assert_cmd "write it at 100M (new range)" -- dd if="$T_TMP/gold2" of=$DEV bs=64k \
	seek=$((100 * 16)) oflag=direct conv=fsync status=none
cmp_dev $DEV $((100 * MIB)) $((4 * MIB)) "$T_TMP/gold2" &&
	pass "data in the new range" || fail "data in the new range differs"

# Extend the LUN; grow without --size joins its new segments.
assert_cmd "LUN extended to 96 MiB" -- lun_size 96
dmesg_mark
assert_cmd "grow (backing only)" -- "$ILIOCTL" grow t28
back1=$(status_field t28 24)
assert_ge "$back1" $((back0 + 64 * MIB)) "log area grew (was $back0)"
dmesg_since | grep -q "dm-[0-9]*: backing device grew: log area 23 -> 95 MiB" &&
	pass "kernel log: backing device grew" || fail "no kernel backing-grow line"
assert_eq "$(blockdev --getsize64 $DEV)" $((128 * MIB)) "logical size kept"
# More unique data than the old log area (about 23 MiB) could hold.
assert_cmd "36 MiB of random data" -- dd if=/dev/urandom of="$T_TMP/big" bs=1M \
	count=36 status=none
assert_cmd "write it at 40M" -- dd if="$T_TMP/big" of=$DEV bs=1M seek=40 \
	oflag=direct conv=fsync status=none
cmp_dev $DEV $((40 * MIB)) $((36 * MIB)) "$T_TMP/big" &&
	pass "36 MiB read back from the grown log" || fail "big data differs"
assert_cmd "check" -- "$ILIOCTL" message t28 check

# The same with dmsetup (reload a longer table, resume), then ilioctl with
# a new RAM budget in the same step.
table=$(dmsetup table t28 | cut -d' ' -f4-)
assert_cmd "dmsetup reload with a longer table" -- \
	dmsetup reload t28 --table "0 $((160 * 2048)) ilio $table"
assert_cmd "dmsetup resume" -- dmsetup resume t28
assert_eq "$(blockdev --getsize64 $DEV)" $((160 * MIB)) "grown by dmsetup"
assert_cmd "grow --size 192M --ram 96M" -- "$ILIOCTL" grow t28 --size 192M --ram 96M
assert_eq "$(blockdev --getsize64 $DEV)" $((192 * MIB)) "grown with a new budget"
assert_eq "$(dmsetup table t28 | cut -d' ' -f5)" 96 "the table has ram_mb 96"
cmp_dev $DEV $((100 * MIB)) $((4 * MIB)) "$T_TMP/gold2" &&
	pass "data after both grows" || fail "data differs after both grows"

# Deactivate, activate without --size: the grown store as it was.
assert_cmd "remove" -- "$ILIOCTL" remove t28
assert_cmd "info" -- "$ILIOCTL" info "$LUN"
last_output | grep -q "logical size *192.00 MiB" && pass "info shows the grown logical size" ||
	fail "info: $(last_output)"
assert_cmd "activate with no --size" -- "$ILIOCTL" activate "$LUN" --ram 64M --name t28
assert_eq "$(blockdev --getsize64 $DEV)" $((192 * MIB)) "size from the anchor"
assert_eq "$(status_field t28 24)" "$back1" "log area from the superblock"
cmp_dev $DEV 0 $((4 * MIB)) "$T_TMP/gold1" && pass "gold1 after reactivation" ||
	fail "gold1 differs after reactivation"
cmp_dev $DEV $((100 * MIB)) $((4 * MIB)) "$T_TMP/gold2" &&
	pass "gold2 after reactivation" || fail "gold2 differs after reactivation"
cmp_dev $DEV $((40 * MIB)) $((36 * MIB)) "$T_TMP/big" &&
	pass "big data after reactivation" || fail "big data differs after reactivation"

# A grow the kernel refuses: read-only.  The device stays live, as it was.
assert_cmd "remove" -- "$ILIOCTL" remove t28
assert_cmd "activate --readonly" -- "$ILIOCTL" activate "$LUN" --ram 64M --name t28 \
	--readonly
assert_fails "grow a read-only device" -- "$ILIOCTL" grow t28 --size 256M
last_output | grep -q "is back at 192.00 MiB" && pass "ilioctl restored the old table" ||
	fail "read-only grow: $(last_output)"
last_output | grep -q "read-only" && pass "the kernel's reason is shown" ||
	fail "no reason: $(last_output)"
assert_eq "$(dmsetup info -c --noheadings -o attr t28 | cut -c3)" "-" \
	"not left suspended"
assert_eq "$(blockdev --getsize64 $DEV)" $((192 * MIB)) "old size after the refusal"
cmp_dev $DEV 0 $((4 * MIB)) "$T_TMP/gold1" && pass "data after the refused grow" ||
	fail "data differs after the refused grow"
assert_cmd "remove" -- "$ILIOCTL" remove t28

# Diskless.
assert_cmd "diskless 32M" -- "$ILIOCTL" create t28d --diskless --size 32M --ram 64M
assert_cmd "write gold1" -- dd if="$T_TMP/gold1" of=/dev/mapper/t28d bs=64k \
	oflag=direct status=none
assert_cmd "grow diskless --size 64M" -- "$ILIOCTL" grow t28d --size 64M
assert_eq "$(blockdev --getsize64 /dev/mapper/t28d)" $((64 * MIB)) "diskless grown"
assert_cmd "write gold2 at 40M" -- dd if="$T_TMP/gold2" of=/dev/mapper/t28d bs=64k \
	seek=$((40 * 16)) oflag=direct status=none
cmp_dev /dev/mapper/t28d 0 $((4 * MIB)) "$T_TMP/gold1" && pass "diskless old data" ||
	fail "diskless old data differs"
cmp_dev /dev/mapper/t28d $((40 * MIB)) $((4 * MIB)) "$T_TMP/gold2" &&
	pass "diskless new range" || fail "diskless new range differs"
assert_cmd "remove diskless" -- "$ILIOCTL" remove t28d
assert_cmd "remove the LUN" -- dmsetup remove t28lun

# A LUN that is a loop device: the kernel sees the longer file after
# "losetup -c" (the admin guide's list of ways to make it see a LUN's new
# size), and grow joins the new segments.
/sbin/modprobe loop || fatal "modprobe loop"
truncate -s 24M "$T_TMP/lun.img"
LOOP=$(losetup -f --show "$T_TMP/lun.img") || fatal "losetup $T_TMP/lun.img"
assert_cmd "format the loop LUN" -- "$ILIOCTL" format "$LOOP"
assert_cmd "activate over it" -- "$ILIOCTL" activate "$LOOP" --size 64M --ram 64M --name t28l
lb0=$(status_field t28l 24)
truncate -s 56M "$T_TMP/lun.img"
assert_cmd "losetup -c $LOOP" -- losetup -c "$LOOP"
assert_eq "$(blockdev --getsize64 "$LOOP")" $((56 * MIB)) "the kernel sees the longer file"
assert_cmd "grow t28l (the backing LUN)" -- "$ILIOCTL" grow t28l
assert_ge "$(status_field t28l 24)" $((lb0 + 32 * MIB)) "log area grew by the new 32 MiB (was $lb0)"
assert_cmd "remove t28l" -- "$ILIOCTL" remove t28l
losetup -d "$LOOP"

# A SCSI LUN, as from an array: LIO's loopback fabric (tcm_loop) makes an
# iblock backstore over a dm-linear a local SCSI disk.  The dm-linear
# grows (the array extends the LUN), the admin guide's rescan (echo 1 >
# /sys/block/sdX/device/rescan) shows the disk's new size, and "ilioctl
# grow" joins the new segments.
for m in configfs target_core_mod target_core_iblock tcm_loop scsi_mod sd_mod; do
	/sbin/modprobe $m || fatal "modprobe $m"
done
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
scsi_lun() { linear_lun t28sb "$1"; }	# the array's LUN
CFS=/sys/kernel/config/target
BS=$CFS/core/iblock_0/t28sb
TPG=$CFS/loopback/naa.5001405000002801/tpgt_1
lio_loop() {
	mkdir -p $BS && echo "udev_path=/dev/mapper/t28sb" >$BS/control &&
		echo 1 >$BS/enable && mkdir -p $TPG/lun/lun_0 &&
		echo naa.5001405000002802 >$TPG/nexus && ln -s $BS $TPG/lun/lun_0/t28sb
}
lio_unloop() {
	rm -f $TPG/lun/lun_0/t28sb
	rmdir $TPG/lun/lun_0 2>/dev/null
	[ -e $TPG/nexus ] && echo NULL >$TPG/nexus 2>/dev/null
	rmdir $TPG ${TPG%/tpgt_1} $BS 2>/dev/null
}
trap 'lio_unloop; dm_remove_prefix t28' EXIT
assert_cmd "the array's LUN: 24 MiB" -- scsi_lun 24
assert_cmd "LIO loopback: the LUN as a local SCSI disk" -- lio_loop
SD=$(lio_scsi_disk) || fatal "no SCSI disk from tcm_loop: $(ls /sys/block)"
pass "SCSI disk /dev/$SD ($(cat /sys/block/$SD/device/model))"
# The disk still holds the first test's store (grown to 56 MiB: its
# superblock is refused as truncated here), so --force.
assert_cmd "format the SCSI LUN (--force: an old store is on it)" -- \
	"$ILIOCTL" format --force /dev/$SD
assert_cmd "activate over it" -- "$ILIOCTL" activate /dev/$SD --size 64M --ram 64M --name t28s
sb0=$(status_field t28s 24)
assert_cmd "data on it" -- dd if="$T_TMP/gold1" of=/dev/mapper/t28s bs=64k oflag=direct \
	conv=fsync status=none
assert_cmd "the array extends the LUN to 56 MiB" -- scsi_lun 56
assert_eq "$(blockdev --getsize64 /dev/$SD)" $((24 * MIB)) "before the rescan the disk is 24 MiB"
assert_cmd "rescan: echo 1 > /sys/block/$SD/device/rescan" -- \
	sh -c "echo 1 >/sys/block/$SD/device/rescan"
assert_eq "$(blockdev --getsize64 /dev/$SD)" $((56 * MIB)) "after it, 56 MiB"
assert_cmd "grow t28s (the backing LUN)" -- "$ILIOCTL" grow t28s
assert_ge "$(status_field t28s 24)" $((sb0 + 32 * MIB)) "log area grew by the new 32 MiB (was $sb0)"
cmp_dev /dev/mapper/t28s 0 $((4 * MIB)) "$T_TMP/gold1" && pass "data after the SCSI grow" ||
	fail "data after the SCSI grow differs"
assert_eq "$(dmsetup message t28s 0 check 2>&1)" ok "check after the SCSI grow"
assert_cmd "remove t28s" -- "$ILIOCTL" remove t28s
assert_cmd "LIO loopback: tear down" -- lio_unloop
assert_cmd "remove the array's LUN" -- dmsetup remove t28sb
trap 'dm_remove_prefix t28' EXIT

# Filesystems on top grow with their own tool, online, after the device:
# resize2fs (ext4) and xfs_growfs (XFS, which needs 300 MiB at mkfs).
/sbin/modprobe ext4 && /sbin/modprobe xfs || fatal "modprobe ext4/xfs"
mkdir -p "$T_TMP/mnt"
head -c $((4 * MIB)) /dev/urandom >"$T_TMP/file"
# fs_grow FS MKFS GROWCMD SIZE_MIB: on a diskless device of SIZE_MIB, a
# mounted FS with a file; the device doubles, GROWCMD grows the FS, and
# the FS has about twice the blocks with the file intact; the file is
# deleted and fstrim gives its blocks back to the device.
fs_grow() {
	local fs=$1 mkfs=$2 grow=$3 mib=$4 b0 b1 l0
	assert_cmd "$fs: diskless ${mib}M" -- "$ILIOCTL" create t28fs --diskless --size "${mib}M" --ram 64M
	assert_cmd "$fs: $mkfs" -- $mkfs /dev/mapper/t28fs
	assert_cmd "$fs: mount" -- mount /dev/mapper/t28fs "$T_TMP/mnt"
	cp "$T_TMP/file" "$T_TMP/mnt/file" && sync
	b0=$(stat -f -c %b "$T_TMP/mnt")
	assert_cmd "$fs: grow the device to $((2 * mib))M" -- \
		"$ILIOCTL" grow t28fs --size "$((2 * mib))M"
	assert_cmd "$fs: $grow (online)" -- $grow
	b1=$(stat -f -c %b "$T_TMP/mnt")
	assert_ge $((b1 * 10)) $((b0 * 19)) "$fs: the filesystem grew ($b0 -> $b1 blocks)"
	assert_cmd "$fs: the file is intact" -- cmp "$T_TMP/file" "$T_TMP/mnt/file"
	# The admin guide's way to give space back: fstrim on the filesystem.
	l0=$(status_field t28fs 2)
	rm "$T_TMP/mnt/file" && sync
	assert_cmd "$fs: fstrim" -- fstrim "$T_TMP/mnt"
	# (The delete itself writes some metadata blocks.)
	assert_le "$(status_field t28fs 2)" $((l0 - 3 * MIB)) \
		"$fs: fstrim discarded the deleted file's 4 MiB (logical_bytes, was $l0)"
	assert_cmd "$fs: umount" -- umount "$T_TMP/mnt"
	assert_cmd "$fs: remove" -- "$ILIOCTL" remove t28fs
}
fs_grow ext4 "mkfs.ext4 -q" "resize2fs /dev/mapper/t28fs" 64
fs_grow xfs "mkfs.xfs -q" "xfs_growfs $T_TMP/mnt" 320
finish
