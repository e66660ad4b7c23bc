#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-36-exports: dm-ilio under the exports admins use (issue 11), in one
# guest, over loopback, with the commands of the admin guide's recipes
# (Documentation/admin-guide/device-mapper/ilio.rst, "Exporting").
#  - NFS: XFS on a persistent ilio device (with a journal device), exported
#    by the kernel NFS server (NFSv4.2 only) and mounted over 127.0.0.1.
#    fio writes VM image files with sync writes (O_SYNC: stable NFS
#    WRITEs, as ESXi issues them) and with buffered writes and an fsync
#    every 64 (COMMITs), then verifies them (crc32c); the front and backend
#    write I/O, flushes and journal writes of each phase are printed (the
#    figures of the admin guide) and the offload is checked: fewer backend
#    writes than front writes in both phases.  After umount, the files'
#    checksums match when the store is re-activated.
#  - iSCSI: LIO (configfs, iblock backstore) exports a second ilio device;
#    iblock passes on the device's write cache, so the initiator's disk is
#    write-back and its flushes reach ilio; iscsistart logs in, and
#    fio verifies over it; an ilio suspend/resume and a table reload under
#    the live login lose nothing.
#  - dm-thin on ilio: a golden image, 20 thin snapshots of it, each patched
#    identically: the pool allocates for every snapshot, ilio stores the
#    patch once; a discard of the snapshots' patched range passes down to
#    ilio (its mapped data shrinks).
#
# vm-args: --mem 1536 --timeout 420 --disk nfs:256 --disk nfsj:16 --disk isc:128 --disk thin:256
# vm-time: 151

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup blockdev fio mkfs.xfs exportfs rpc.nfsd rpc.mountd iscsistart
ILIOCTL="$REPO/tools/ilioctl"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load
MIB=1048576

# No teardown: the guest is powered off after the script, and the devices
# are held (LIO's backstore, thin's pool) in an order that dmsetup remove
# --retry would take half a minute to walk.

# ival DEV FILE: one sysfs counter of ilio device DEV.
ival() { sysfs_val "$1" "$2"; }

# snap DEV: the counters this test reports, as "name=value ...".
snap() {
	local f out=
	for f in front_write_ios backend_write_ios backend_write_bytes flushes \
		backend_flushes journal_writes; do
		out+="$f=$(ival "$1" $f) "
	done
	echo "$out"
}

# delta BEFORE AFTER NAME: AFTER's NAME minus BEFORE's.
delta() {
	local b a
	b=$(tr ' ' '\n' <<<"$1" | sed -n "s/^$3=//p")
	a=$(tr ' ' '\n' <<<"$2" | sed -n "s/^$3=//p")
	echo $((a - b))
}

# report PHASE BEFORE AFTER: the phase's figures, one line.
report() {
	local fw bw bb
	fw=$(delta "$2" "$3" front_write_ios)
	bw=$(delta "$2" "$3" backend_write_ios)
	bb=$(delta "$2" "$3" backend_write_bytes)
	log "FIGURES $1: front writes $fw, backend writes $bw" \
	    "($((bw ? bb / bw / 1024 : 0)) KiB each), flushes $(delta "$2" "$3" flushes)," \
	    "backend flushes $(delta "$2" "$3" backend_flushes)," \
	    "journal writes $(delta "$2" "$3" journal_writes)"
	assert_ge "$fw" 1000 "$1: the client's writes reached ilio"
	assert_le "$bw" $((fw / 10)) "$1: at least 10x fewer backend writes than front writes"
}

# Both sides talk over loopback: bring it up (nothing else configures it).
/usr/sbin/ip link set lo up || fatal "cannot bring up lo"

# --- NFS --------------------------------------------------------------------
NFSB=$(vm_disk nfs) || fatal "no nfs disk"
NFSJ=$(vm_disk nfsj) || fatal "no nfsj disk"
for m in nfsd nfsv4 nfs; do
	/sbin/modprobe $m || fatal "modprobe $m"
done
assert_cmd "format with a journal" -- "$ILIOCTL" format "$NFSB" --journal "$NFSJ"
assert_cmd "activate" -- "$ILIOCTL" activate "$NFSB" --journal "$NFSJ" --size 1G \
	--ram 256M --name t36nfs
assert_cmd "mkfs.xfs" -- mkfs.xfs -q /dev/mapper/t36nfs
mkdir -p /mnt/export /mnt/nfs
assert_cmd "mount the filesystem" -- mount /dev/mapper/t36nfs /mnt/export
# The server's state lives on tmpfs (the guest's root is read-only).
mount -t tmpfs tmpfs /var/lib/nfs
mkdir -p /var/lib/nfs/rpc_pipefs /run/rpc_pipefs
echo "/mnt/export 127.0.0.1(rw,sync,no_subtree_check,no_root_squash,fsid=0)" >"$T_TMP/exports"
mount --bind "$T_TMP/exports" /etc/exports
assert_cmd "mount nfsd" -- mount -t nfsd nfsd /proc/fs/nfsd
mount -t rpc_pipefs rpc_pipefs /run/rpc_pipefs 2>/dev/null
/usr/sbin/nfsdcld 2>/dev/null	# the client tracker: no 90 s grace period
assert_cmd "exportfs -ra" -- /usr/sbin/exportfs -ra
assert_cmd "rpc.mountd" -- /usr/sbin/rpc.mountd -N 2 -N 3 --no-udp
assert_cmd "rpc.nfsd" -- /usr/sbin/rpc.nfsd -N 3 --no-udp -G 10 -L 10 4
assert_cmd "mount over NFS 4.2" -- mount -t nfs4 -o vers=4.2 127.0.0.1:/ /mnt/nfs

FIO_VM=(--ioengine=psync --bs=8k --rw=randwrite --size=8M --verify=crc32c
	--verify_fatal=1)
before=$(snap t36nfs)
assert_cmd "fio: sync writes (stable NFS WRITEs)" -- fio --name=syncvm \
	--filename=/mnt/nfs/vm1.img --sync=1 "${FIO_VM[@]}"
after=$(snap t36nfs)
report "NFS sync, journal" "$before" "$after"
assert_ge "$(delta "$before" "$after" flushes)" 1000 \
	"NFS sync: every write became a flush"
assert_ge "$(delta "$before" "$after" journal_writes)" 1 \
	"NFS sync: flushes went to the journal"
before=$after
assert_cmd "fio: buffered writes, fsync every 64 (COMMIT)" -- fio --name=asyncvm \
	--filename=/mnt/nfs/vm2.img --fsync=64 "${FIO_VM[@]}"
after=$(snap t36nfs)
report "NFS async, journal" "$before" "$after"
sum1=$(cksum </mnt/nfs/vm1.img)
sum2=$(cksum </mnt/nfs/vm2.img)
assert_cmd "umount the client" -- umount /mnt/nfs
/usr/sbin/rpc.nfsd 0
/usr/sbin/exportfs -ua
assert_cmd "umount the export" -- umount /mnt/export
assert_cmd "remove" -- "$ILIOCTL" remove t36nfs
assert_cmd "activate again" -- "$ILIOCTL" activate "$NFSB" --journal "$NFSJ" --ram 256M \
	--name t36nfs
assert_cmd "mount again" -- mount -o ro /dev/mapper/t36nfs /mnt/export
assert_eq "$(cksum </mnt/export/vm1.img)" "$sum1" "vm1.img after re-activation"
assert_eq "$(cksum </mnt/export/vm2.img)" "$sum2" "vm2.img after re-activation"
umount /mnt/export

# --- iSCSI (LIO over 127.0.0.1) ----------------------------------------------
ISCB=$(vm_disk isc) || fatal "no isc disk"
for m in crc32c_generic configfs target_core_mod target_core_iblock iscsi_target_mod \
	scsi_mod sd_mod iscsi_tcp; do
	/sbin/modprobe $m || fatal "modprobe $m"
done
assert_cmd "format" -- "$ILIOCTL" format "$ISCB"
assert_cmd "activate" -- "$ILIOCTL" activate "$ISCB" --size 512M --ram 128M --name t36isc
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
TIQN=iqn.2026-12.org.dm-ilio:t36
IIQN=iqn.2026-12.org.dm-ilio:initiator
lio_setup() {
	local c=/sys/kernel/config/target b t
	b=$c/core/iblock_0/t36isc
	mkdir -p $b || return 1
	echo "udev_path=/dev/mapper/t36isc" >$b/control || return 1
	echo 1 >$b/enable || return 1
	t=$c/iscsi/$TIQN/tpgt_1
	mkdir -p $t/lun/lun_0 $t/np/127.0.0.1:3260 $t/acls/$IIQN || return 1
	ln -s $b $t/lun/lun_0/ || return 1
	# The initiator's ACL sees LUN 0 as its LUN 0.
	mkdir $t/acls/$IIQN/lun_0 || return 1
	ln -s $t/lun/lun_0 $t/acls/$IIQN/lun_0/ || return 1
	echo 0 >$t/attrib/authentication || return 1
	echo 1 >$t/enable
}
assert_cmd "LIO: iblock backstore, iSCSI target, ACL" -- lio_setup
assert_cmd "iscsistart: login" -- timeout 60 iscsistart -i $IIQN -t $TIQN -g 1 \
	-a 127.0.0.1 -p 3260
# iscsistart logs in but, without iscsid and udev, nothing scans the
# session's host: ask for its LUNs.
for h in /sys/class/iscsi_host/host*; do
	[ -e "$h" ] && echo "- - -" >"/sys/class/scsi_host/${h##*/}/scan"
done
# The session's disk: the SCSI disk whose vendor is LIO's.
if SD=/dev/$(lio_scsi_disk); then
	pass "iSCSI disk $SD"
else
	ls /sys/block /sys/class/iscsi_session /sys/class/scsi_device 2>&1
	cat /sys/class/scsi_device/*/device/{vendor,model} 2>&1
	fatal "no iSCSI disk appeared"
fi
assert_eq "$(cat /sys/block/${SD##*/}/queue/write_cache)" "write back" \
	"the initiator's disk is write-back (its flushes reach ilio)"
before=$(snap t36isc)
assert_cmd "fio over iSCSI: write, fsync every 16, verify" -- fio --name=isc \
	--filename="$SD" --direct=1 --ioengine=psync --bs=8k --rw=randwrite \
	--size=12M --fsync=16 --verify=crc32c --verify_fatal=1
after=$(snap t36isc)
assert_ge "$(delta "$before" "$after" flushes)" 90 "initiator flushes reached ilio (one per 16 writes)"
assert_cmd "dmsetup suspend under the live login" -- dmsetup suspend t36isc
assert_cmd "dmsetup resume" -- dmsetup resume t36isc
table=$(dmsetup table t36isc | cut -d' ' -f4-)
assert_cmd "table reload under the live login" -- \
	dmsetup reload t36isc --table "0 $((512 * 2048)) ilio $table"
assert_cmd "resume with the reloaded table" -- dmsetup resume t36isc
assert_cmd "fio over iSCSI: verify what was written" -- fio --name=isc \
	--filename="$SD" --direct=1 --ioengine=psync --bs=8k --rw=randwrite \
	--size=12M --verify=crc32c --verify_fatal=1 --verify_only=1
echo 1 >/sys/block/${SD##*/}/device/delete

# --- dm-thin on ilio ---------------------------------------------------------
THINB=$(vm_disk thin) || fatal "no thin disk"
/sbin/modprobe dm_thin_pool || fatal "modprobe dm_thin_pool"
assert_cmd "format" -- "$ILIOCTL" format "$THINB"
assert_cmd "activate" -- "$ILIOCTL" activate "$THINB" --size 2G --ram 256M --name t36thin
ILIO=/dev/mapper/t36thin
META_S=$((16 * 2048))
DATA_S=$(($(dev_sectors $ILIO) - META_S))
dmsetup create t36meta --table "0 $META_S linear $ILIO 0"
dmsetup create t36data --table "0 $DATA_S linear $ILIO $META_S"
dd if=/dev/zero of=/dev/mapper/t36meta bs=4k count=1 oflag=direct status=none
assert_cmd "thin pool on ilio (64 KiB blocks, discards passed down)" -- \
	dmsetup create t36pool --table \
	"0 $DATA_S thin-pool /dev/mapper/t36meta /dev/mapper/t36data 128 0"
assert_cmd "golden volume" -- dmsetup message t36pool 0 "create_thin 0"
GOLD_S=$((128 * 2048))
dmsetup create t36gold --table "0 $GOLD_S thin /dev/mapper/t36pool 0"
assert_cmd "golden image: 32 MiB" -- python3 "$REPO/tests/vm/blkpat.py" gen \
	"$T_TMP/golden" 8192 --seed 36 --tag t36 --comp 50
assert_cmd "write the golden image" -- dd if="$T_TMP/golden" of=/dev/mapper/t36gold \
	bs=1M oflag=direct conv=fsync status=none
dmsetup remove t36gold
head -c $MIB /dev/urandom >"$T_TMP/patch"
stored0=$(ival t36thin stored_bytes)
used0=$(dmsetup status t36pool | awk '{ split($6, a, "/"); print a[1] }')
snap_patch() {
	local i
	for i in $(seq 1 20); do
		dmsetup message t36pool 0 "create_snap $i 0" || return 1
		dmsetup create t36s$i --table "0 $GOLD_S thin /dev/mapper/t36pool $i" || return 1
		# The same patch in every desktop, at the same place.
		dd if="$T_TMP/patch" of=/dev/mapper/t36s$i bs=1M seek=8 oflag=direct \
			conv=fsync status=none || return 1
	done
}
assert_cmd "20 snapshots, each patched with the same 1 MiB" -- snap_patch
stored1=$(ival t36thin stored_bytes)
used1=$(dmsetup status t36pool | awk '{ split($6, a, "/"); print a[1] }')
log "FIGURES thin: pool data blocks $used0 -> $used1 (64 KiB each);" \
    "ilio stored $((stored0 / 1024)) -> $((stored1 / 1024)) KiB"
assert_ge $((used1 - used0)) $((20 * 16)) "the pool allocated the patch for every snapshot"
assert_le $((stored1 - stored0)) $((3 * MIB)) "ilio stored the patch about once (20 copies)"
cmp_dev /dev/mapper/t36s7 $((8 * MIB)) $MIB "$T_TMP/patch" && pass "snapshot 7 has the patch" ||
	fail "snapshot 7 lacks the patch"
cmp_dev /dev/mapper/t36s7 0 $((8 * MIB)) "$T_TMP/golden" && pass "snapshot 7 keeps the image" ||
	fail "snapshot 7 lost the golden image"
logical1=$(ival t36thin logical_bytes)
discard_all() {
	local i
	for i in $(seq 1 20); do
		blkdiscard -o $((8 * MIB)) -l $MIB /dev/mapper/t36s$i || return 1
	done
}
assert_cmd "discard the patched range in every snapshot" -- discard_all
logical2=$(ival t36thin logical_bytes)
log "FIGURES thin discard: ilio logical $((logical1 / 1024)) -> $((logical2 / 1024)) KiB"
assert_le "$logical2" $((logical1 - 16 * MIB)) "discards passed down through thin to ilio"
cmp_dev /dev/mapper/t36s3 0 $((8 * MIB)) "$T_TMP/golden" && pass "snapshot 3 keeps the image" ||
	fail "snapshot 3 lost the golden image"
assert_cmd "check" -- "$ILIOCTL" message t36thin check
finish
