#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-nfs-guest: what an NFS export does to coalescing (issue 11), in one
# VM boot.  XFS on a persistent ilio device, exported by the kernel NFS
# server (NFSv4.2) and mounted over 127.0.0.1, as in t-36 and the admin
# guide's recipe.  fio writes an 8 KiB random-write VM image file in two
# ways, on a store with a journal device and on one without:
#   sync   O_SYNC writes: stable NFS WRITEs, as ESXi issues them; each is
#          a flush (FUA) at ilio
#   async  buffered writes with an fsync every 64: unstable WRITEs and a
#          COMMIT per fsync
# Reported per case (build/vm/results/NAME/nfs-summary.txt): ilio's front
# write bios, flushes, backend writes (count and mean size), backend
# flushes and journal writes, and the block layer's own counts of writes
# and flushes at the LUN and the journal (/sys/block/*/stat).  fio verifies
# each file (crc32c), so a mismatch fails the run.  Reported, never
# enforced.
#
# Usage (guest): bench-nfs-guest.sh [--size MB]
# vm-args: --mem 1536 --timeout 900 --disk nfsa:384 --disk nfsj:32 --disk nfsb:384

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

SIZE_MB=16
if [ "${1:-}" = --size ]; then
	SIZE_MB=${2:?}
fi
need_cmd dmsetup fio mkfs.xfs exportfs rpc.nfsd rpc.mountd
ILIOCTL="$REPO/tools/ilioctl"
ilio_load
/usr/sbin/ip link set lo up || fatal "cannot bring up lo"
for m in nfsd nfsv4 nfs; do
	/sbin/modprobe $m || fatal "modprobe $m"
done
LUNA=$(vm_disk nfsa) || fatal "no nfsa disk"
LUNJ=$(vm_disk nfsj) || fatal "no nfsj disk"
LUNB=$(vm_disk nfsb) || fatal "no nfsb disk"

mount -t tmpfs tmpfs /var/lib/nfs
mkdir -p /var/lib/nfs/rpc_pipefs /run/rpc_pipefs /mnt/export /mnt/nfs
echo "/mnt/export 127.0.0.1(rw,sync,no_subtree_check,no_root_squash,fsid=0)" >"$T_TMP/exports"
mount --bind "$T_TMP/exports" /etc/exports
mount -t nfsd nfsd /proc/fs/nfsd || fatal "mount nfsd"
mount -t rpc_pipefs rpc_pipefs /run/rpc_pipefs 2>/dev/null
/usr/sbin/nfsdcld 2>/dev/null

# snap NAME LUN JDEV: ilio's counters, then the LUN's and the journal's
# writes and flushes (/sys/block/X/stat fields 5 and 16).
snap() {
	local f out=
	for f in front_write_ios flushes backend_write_ios backend_write_bytes \
		backend_flushes journal_writes; do
		out+="$(sysfs_val "$1" $f) "
	done
	for f in "$2" "$3"; do
		if [ -n "$f" ]; then
			out+="$(awk '{ print $5, $16 }' "/sys/block/${f##*/}/stat") "
		else
			out+="0 0 "
		fi
	done
	echo "$out"
}

CSV="$RESULTS/nfs.csv"
echo "case,front_writes,flushes,backend_writes,backend_write_bytes,backend_flushes,journal_writes,lun_writes,lun_flushes,jdev_writes,jdev_flushes" >"$CSV"
# one STORE-NAME LUN JDEV: format, export, both fio runs, tear down.
one() {
	local name=$1 lun=$2 jdev=$3 mode before after
	if [ -n "$jdev" ]; then
		"$ILIOCTL" format "$lun" --journal "$jdev" >/dev/null || fatal "format $name"
		"$ILIOCTL" activate "$lun" --journal "$jdev" --size 1G --ram 256M \
			--name "$name" >/dev/null || fatal "activate $name"
	else
		"$ILIOCTL" format "$lun" >/dev/null || fatal "format $name"
		"$ILIOCTL" activate "$lun" --size 1G --ram 256M --name "$name" >/dev/null ||
			fatal "activate $name"
	fi
	mkfs.xfs -q "/dev/mapper/$name" || fatal "mkfs.xfs"
	mount "/dev/mapper/$name" /mnt/export || fatal "mount"
	/usr/sbin/exportfs -ra || fatal "exportfs"
	/usr/sbin/rpc.mountd -N 2 -N 3 --no-udp || fatal "rpc.mountd"
	/usr/sbin/rpc.nfsd -N 3 --no-udp -G 10 -L 10 4 || fatal "rpc.nfsd"
	mount -t nfs4 -o vers=4.2 127.0.0.1:/ /mnt/nfs || fatal "NFS mount"
	for mode in sync async; do
		local extra=--sync=1
		[ $mode = async ] && extra=--fsync=64
		sync
		before=$(snap "$name" "$lun" "$jdev")
		fio --name="$mode" --filename="/mnt/nfs/$mode.img" --ioengine=psync \
			--bs=8k --rw=randwrite --size=${SIZE_MB}M --verify=crc32c \
			--verify_fatal=1 $extra >"$T_TMP/fio.$name.$mode" 2>&1 ||
			fatal "fio $name $mode: $(tail -n 5 "$T_TMP/fio.$name.$mode")"
		after=$(snap "$name" "$lun" "$jdev")
		python3 - "$name-$mode" "$before" "$after" >>"$CSV" <<'EOF'
import sys
b = [int(x) for x in sys.argv[2].split()]
a = [int(x) for x in sys.argv[3].split()]
print(sys.argv[1] + "," + ",".join(str(y - x) for x, y in zip(b, a)))
EOF
		pass "$name $mode: fio verified: $(tail -n 1 "$CSV")"
	done
	umount /mnt/nfs || fatal "umount nfs"
	/usr/sbin/rpc.nfsd 0
	/usr/sbin/exportfs -ua
	pkill rpc.mountd
	sleep 1
	umount /mnt/export || fatal "umount export"
	"$ILIOCTL" remove "$name" >/dev/null || fatal "remove $name"
}
one nfsj "$LUNA" "$LUNJ"
one nfsnoj "$LUNB" ""

python3 - "$CSV" "$SIZE_MB" >"$RESULTS/nfs-summary.txt" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"NFS export of XFS on ilio (NFSv4.2 over loopback), fio 8 KiB random "
      f"writes, {sys.argv[2]} MiB file, verified (crc32c)")
print()
hdr = ("case", "front wr", "flushes", "backend wr", "KiB/wr", "be flush",
       "jnl wr", "LUN wr", "LUN flush", "jdev wr", "jdev flush")
print("%-13s" % hdr[0] + "".join("%11s" % h for h in hdr[1:]))
for r in rows:
    bw = int(r["backend_writes"])
    kib = int(r["backend_write_bytes"]) / bw / 1024 if bw else 0
    print("%-13s" % r["case"] + "".join("%11s" % v for v in (
        r["front_writes"], r["flushes"], r["backend_writes"], "%.0f" % kib,
        r["backend_flushes"], r["journal_writes"], r["lun_writes"],
        r["lun_flushes"], r["jdev_writes"], r["jdev_flushes"])))
print()
print("front wr: write bios ilio received; flushes: flush/FUA requests it")
print("completed; backend wr/be flush: its writes and flushes to the LUN;")
print("jnl wr: journal records; LUN/jdev: the block layer's counts at the")
print("devices (/sys/block/*/stat); the stores are unguarded (no heartbeats)")
EOF
cat "$RESULTS/nfs-summary.txt"
finish
