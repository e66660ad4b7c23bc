#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo-guest.sh - the guest half of "make demo" (tests/vm/demo.sh); it shows
# VDI on dm-ilio and proves the data stays intact. In the VM:
#   1. One diskless ilio device, "desktops" (8 GiB, 1 GiB RAM budget), is the
#      datastore; four 2 GiB slices of it (dm-linear) are the desktops' disks.
#   2. Desktops 1-3 are full clones of the golden image (virtio disk
#      "demo-golden", built by demo.sh): a block copy, as VDI provisioning
#      does.
#   3. Desktop 4 is installed file by file onto a fresh ext4 (a different
#      layout and metadata): dedup works by content, not by clone lineage.
#   4. Each user then works: a hostname, documents, photos, a session log,
#      all unique to the desktop.
#   5. The savings table (ilioctl status), and the same data's cost without
#      dedup and compression.
#   6. After dropping the page cache, every desktop passes e2fsck -fn, every
#      sampled OS file matches its MD5 taken from the host's own /usr, and
#      every user file matches what was written.
#   7. Teardown: umount, dmsetup remove, ilioctl remove, rmmod.
#
# Usage (through tests/vm/run.sh, see demo.sh): demo-guest.sh MANIFEST DESKTOP_MB

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

MANIFEST=$(readlink -f "${1:?usage: demo-guest.sh MANIFEST DESKTOP_MB}")
DESKTOP_MB=${2:?usage: demo-guest.sh MANIFEST DESKTOP_MB}
NDESK=4
POOL=desktops
RAM_MB=1024
ILIOCTL="$REPO/tools/ilioctl"
MNT=/mnt/demo

need_cmd dmsetup mkfs.ext4 e2fsck md5sum dd mount umount cp awk df
[ -r "$MANIFEST" ] || fatal "no manifest $MANIFEST (run demo.sh on the host)"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
GOLDEN=$(vm_disk demo-golden) || fatal "the golden image disk is not attached"

# step TITLE: print a section header with the time since the start.
step() {
	echo
	echo "--- [${SECONDS}s] $* ---"
}

# human BYTES: 1.23 GiB, 456.7 MiB, ...
human() {
	awk -v b="$1" 'BEGIN {
		split("B KiB MiB GiB TiB", u, " ")
		i = 1
		while (b >= 1024 && i < 5) { b /= 1024; i++ }
		printf(i == 1 ? "%d %s" : "%.2f %s", b, u[i])
	}'
}

# stat_of NAME: one status counter of the pool, by its kernel name.
stat_of() {
	local n
	case "$1" in
	logical_bytes) n=2 ;;
	unique_bytes) n=3 ;;
	stored_bytes) n=4 ;;
	ram_used_bytes) n=5 ;;
	ram_limit_bytes) n=6 ;;
	dedup_hits) n=7 ;;
	zero_blocks) n=8 ;;
	*) return 1 ;;
	esac
	status_field "$POOL" "$n"
}

# run CMD...: show a command, then run it; its output is indented.
run() {
	echo "  \$ $*"
	"$@" 2>&1 | sed 's/^/    /'
	return "${PIPESTATUS[0]}"
}

desk_dev() { echo "/dev/mapper/desktop$1"; }

mount_desk() {
	mkdir -p "$MNT/desktop$1"
	mount -t ext4 -o "${2:-noatime}" "$(desk_dev "$1")" "$MNT/desktop$1"
}

echo "Kernel $(uname -r), $(nproc) CPUs, $(($(mem_kb MemTotal) / 1024)) MiB RAM (QEMU TCG)."
echo "Golden image: $GOLDEN, $(wc -l <"$MANIFEST") OS files sampled from the host's /usr."

# --- 1. the datastore ------------------------------------------------------
step "1. Create the datastore: one diskless ilio device in RAM"
ilio_load
mem_before=$(mem_kb MemAvailable)
size_mb=$((NDESK * DESKTOP_MB))
size=${size_mb}M
[ $((size_mb % 1024)) = 0 ] && size=$((size_mb / 1024))G
run "$ILIOCTL" create "$POOL" --diskless --size "$size" --ram "$((RAM_MB / 1024))G" --verbose ||
	fatal "ilioctl create failed"
pass "created /dev/mapper/$POOL ($size, RAM budget $((RAM_MB / 1024)) GiB)"

desk_sectors=$((DESKTOP_MB * 2048))
echo "Each desktop's virtual disk is a ${DESKTOP_MB} MiB slice of it (dm-linear), as the"
echo "desktops' disks of a VDI farm all live on one datastore:"
for ((i = 1; i <= NDESK; i++)); do
	dmsetup create "desktop$i" --table \
		"0 $desk_sectors linear /dev/mapper/$POOL $(((i - 1) * desk_sectors))" ||
		fatal "dmsetup create desktop$i failed"
	echo "  $(desk_dev "$i"): sectors $(((i - 1) * desk_sectors))-$((i * desk_sectors - 1)) of $POOL"
done

# --- 2. full clones ----------------------------------------------------------
step "2. Provision desktops 1-$((NDESK - 1)): full clones of the golden image"
echo "A block copy of the whole ${DESKTOP_MB} MiB image, skipping its all-zero MiBs"
echo "(free space); ilio hashes every 4 KiB block it is given, stores a block it has"
echo "not seen (lz4-compressed) and maps a block it has seen to the stored copy."
for ((i = 1; i < NDESK; i++)); do
	t=$SECONDS
	dd if="$GOLDEN" of="$(desk_dev "$i")" bs=1M iflag=direct oflag=direct \
		conv=sparse,fsync status=none || fatal "clone to desktop$i failed"
	echo "  desktop$i: cloned in $((SECONDS - t)) s; datastore now stores" \
		"$(human "$(stat_of stored_bytes)") for $(human "$(stat_of logical_bytes)") of data"
	if [ "$i" = 1 ]; then
		first_stored=$(stat_of stored_bytes)
		first_ram=$(stat_of ram_used_bytes)
	fi
done

# --- 3. an independent install -----------------------------------------------
step "3. Provision desktop$NDESK: a fresh ext4, the same OS files copied one by one"
echo "Its block layout and metadata differ from the golden image; only the file"
echo "contents are the same, in 4 KiB-aligned ext4 data blocks."
t=$SECONDS
# nodiscard: the slice was never written, so it already reads as zeros;
# no lazy init: inode tables are written now, not by a background thread.
run mkfs.ext4 -q -L "desktop$NDESK" -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 \
	"$(desk_dev "$NDESK")" || fatal "mkfs.ext4 on desktop$NDESK failed"
mkdir -p "$MNT/golden"
mount -t ext4 -o ro,noload "$GOLDEN" "$MNT/golden" || fatal "cannot mount the golden image"
mount_desk "$NDESK" || fatal "cannot mount desktop$NDESK"
cp -a "$MNT/golden/." "$MNT/desktop$NDESK/" || fatal "copy to desktop$NDESK failed"
umount "$MNT/desktop$NDESK" || fatal "umount desktop$NDESK failed"
umount "$MNT/golden"
echo "  desktop$NDESK: installed in $((SECONDS - t)) s; datastore now stores" \
	"$(human "$(stat_of stored_bytes)") for $(human "$(stat_of logical_bytes)") of data"

# --- 4. users at work ------------------------------------------------------
step "4. Users log in and work: each desktop gets its own, unique data"
# user_files I DIR: write user I's files into DIR (a hostname, ~4 MiB of
# documents, ~3 MiB of photos, a session log), different for every user.
user_files() {
	local i=$1 d=$2
	mkdir -p "$d/etc" "$d/home/user$i/Documents" "$d/home/user$i/Pictures" "$d/var/log"
	echo "desktop$i" >"$d/etc/hostname"
	awk -v u="$i" -v d="$d" 'BEGIN {
		srand(u)
		n = split("the quarterly report budget meeting notes customer invoice " \
			"project plan draft review travel expense contract schedule " \
			"minutes agenda proposal summary update deadline team", w, " ")
		for (doc = 1; doc <= 8; doc++) {
			f = sprintf("%s/home/user%d/Documents/doc%02d.txt", d, u, doc)
			for (l = 0; l < 7000; l++) {
				s = sprintf("user%d doc%d line %d:", u, doc, l)
				for (k = 0; k < 9; k++)
					s = s " " w[int(rand() * n) + 1]
				print s > f
			}
			close(f)
		}
	}'
	head -c $((3 << 20)) /dev/urandom >"$d/home/user$i/Pictures/holiday.jpg"
	awk -v u="$i" -v t="$(date +%s)" 'BEGIN {
		srand(u)
		for (l = 0; l < 20000; l++) {
			t += int(rand() * 30)
			printf("%d desktop%d: session %d of user%d: app %d pid %d\n",
				t, u, int(l / 100), u, int(rand() * 40), int(rand() * 32768))
		}
	}' >"$d/var/log/session.log"
}
for ((i = 1; i <= NDESK; i++)); do
	t=$SECONDS
	src="$T_TMP/user$i"
	user_files "$i" "$src"
	(cd "$src" && find . -type f -print0 | xargs -0 md5sum) >"$T_TMP/user$i.md5"
	mount_desk "$i" || fatal "cannot mount desktop$i"
	cp -a "$src/." "$MNT/desktop$i/" || fatal "writing user$i's files failed"
	used=$(df -B1 --output=used "$MNT/desktop$i" | tail -n 1)
	umount "$MNT/desktop$i" || fatal "umount desktop$i failed"
	echo "  desktop$i: user$i wrote $(human "$(du -sb "$src" | cut -f 1)")" \
		"($((SECONDS - t)) s); the filesystem now uses $(human "$used")"
	rm -rf "$src"
done

# --- 5. savings ------------------------------------------------------------
step "5. What the datastore holds"
sync
run "$ILIOCTL" status "$POOL" || fail "ilioctl status failed"

logical=$(stat_of logical_bytes)
unique=$(stat_of unique_bytes)
stored=$(stat_of stored_bytes)
ram=$(stat_of ram_used_bytes)
ram_limit=$(stat_of ram_limit_bytes)
thick=$((NDESK * DESKTOP_MB * 1048576))
echo
echo "The same four desktops, kept in RAM without ilio:"
printf '  %-52s %12s\n' \
	"thick: a $DESKTOP_MB MiB RAM disk per desktop" "$(human "$thick")" \
	"thin: only the blocks written (no zero blocks)" "$(human "$logical")" \
	"compression alone (no dedup, at the same lz4 ratio)" \
	"$(human "$(awk -v l="$logical" -v u="$unique" -v s="$stored" \
		'BEGIN { printf "%d", u ? l * s / u : 0 }')")" \
	"dedup alone (no compression)" "$(human "$unique")" \
	"ilio: dedup + lz4 (stored data)" "$(human "$stored")" \
	"ilio: RAM used, data and metadata" "$(human "$ram")"
echo "The first desktop cost $(human "$first_stored") of stored data" \
	"($(human "$first_ram") of RAM with metadata);"
echo "the other $((NDESK - 1)) desktops and all $NDESK users' own files added" \
	"$(human $((stored - first_stored))) of stored data."
awk -v l="$logical" -v r="$ram" -v lim="$ram_limit" -v t="$thick" 'BEGIN {
	printf("RAM used is %.1f%% of the data written (%.1fx less) and %.1f%% of the\n",
		100 * r / l, l / r, 100 * r / t)
	printf("thick disks (%.1fx less); %.1f%% of the %d MiB budget is in use.\n",
		t / r, 100 * r / lim, lim / 1048576)
}'
# Capacity: the first desktop carries the OS; count each further one at what
# desktops 2-4 cost here, including all the users' files (a high estimate).
awk -v f="$first_ram" -v r="$ram" -v lim="$ram_limit" -v n="$NDESK" -v l="$logical" 'BEGIN {
	per = (r - f) / (n - 1)
	if (per > 0 && lim > f)
		printf("At that rate the budget holds about %d such desktops, each further one\n" \
			"costing %.1f MiB; thin RAM disks of %.0f MiB each: %d.\n",
			1 + int((lim - f) / per), per / 1048576, l / n / 1048576, int(lim / (l / n)))
}'
assert_ge "$(stat_of dedup_hits)" 1 "deduplication found shared blocks"
assert_le "$ram" "$ram_limit" "RAM used stays within the budget"
assert_ge "$((logical / 2))" "$stored" "the data takes less than half its size in RAM"

# --- 6. verify -------------------------------------------------------------
step "6. Verify: drop the page cache, then read everything back from ilio"
drop_caches
for ((i = 1; i <= NDESK; i++)); do
	t=$SECONDS
	assert_cmd "desktop$i: e2fsck -fn finds a clean filesystem" -- \
		e2fsck -fn "$(desk_dev "$i")"
	mount_desk "$i" ro || fatal "cannot mount desktop$i read-only"
	assert_cmd "desktop$i: all $(wc -l <"$MANIFEST") OS files match the host's /usr (MD5)" -- \
		bash -c "cd '$MNT/desktop$i' && md5sum -c --quiet '$MANIFEST'"
	assert_cmd "desktop$i: user$i's files read back as written (MD5)" -- \
		bash -c "cd '$MNT/desktop$i' && md5sum -c --quiet '$T_TMP/user$i.md5'"
	umount "$MNT/desktop$i" || fail "umount desktop$i failed"
	echo "  (desktop$i verified in $((SECONDS - t)) s)"
done

# --- 7. teardown -----------------------------------------------------------
step "7. Tear down"
for ((i = 1; i <= NDESK; i++)); do
	dmsetup remove "desktop$i" || fail "dmsetup remove desktop$i failed"
done
assert_cmd "ilioctl remove $POOL" -- "$ILIOCTL" remove "$POOL"
assert_cmd "rmmod dm_ilio" -- ilio_unload
mem_after=$(mem_kb MemAvailable)
echo "  MemAvailable: $((mem_before / 1024)) MiB before the datastore," \
	"$((mem_after / 1024)) MiB after removing it."
# Errors and warnings that name ilio; loading an unsigned module is expected.
bad=$(dmesg --level=emerg,alert,crit,err,warn | grep -i 'ilio' |
	grep -v -E 'module verification failed|taints kernel' | head -n 5)
assert_eq "$bad" "" "no dm-ilio error or warning in the kernel log"

echo
echo "Demo done in ${SECONDS} s inside the VM."
finish
