#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - "make demo": show what dm-ilio does for VDI, on this machine's own
# operating system files, in a VM running Debian's stock 6.1 kernel.
#
# Usage: demo.sh [--keep]
#   --keep    keep build/demo/stage (the copied OS tree) after the run
#
# On the host (no root needed, a few seconds):
#   1. Copy a sample of this machine's OS tree (programs from /usr/bin and
#      /usr/sbin, shared libraries, /usr/share data: ~470 MiB, capped so the
#      demo takes the same few minutes on any machine) into build/demo/stage.
#   2. Make it the "golden image" every desktop is cloned from: a 2 GiB ext4
#      disk image, build/vm/disks/demo-golden.img (mke2fs -d, no mount).
#   3. Record the MD5 of every sampled file, read from the original files in
#      /usr, in build/demo/manifest.md5.
# Then boot the VM (tests/vm/run.sh) with the golden image as a virtio disk,
# and run tests/vm/demo-guest.sh in it, which provisions four desktops on
# one diskless ilio device, prints the savings table, and proves every file
# reads back intact after the page cache is dropped. The guest's output is
# streamed live.
#
# Exit code: 0 if every step and every check passed, else non-zero (run.sh's
# code: the guest script's, or 124 timeout, 125 no exit code, 126 kernel
# oops/WARNING).

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEMO="$REPO/build/demo"
STAGE="$DEMO/stage"
MANIFEST="$DEMO/manifest.md5"
# run.sh attaches build/vm/disks/NAME.img for "--disk NAME:SIZE:keep".
GOLDEN_NAME=demo-golden
GOLDEN="$REPO/build/vm/disks/$GOLDEN_NAME.img"
DESKTOP_MB=2048

# What goes into the golden image: "DIR MiB FILES", DIR relative to /, at most
# MiB mebibytes and FILES files from it. Inside DIR, each subdirectory (or
# file) gives at most SUBDIR_CAP_MB and no file is bigger than FILE_CAP_MB, so
# the sample is a mix (many programs, many libraries, many packages' data)
# rather than the first few big files. Only world-readable regular files are
# taken: nothing private (keys, shadow) leaves /etc, which is not sampled.
SOURCES=(
	"usr/bin 150 100000"
	"usr/sbin 15 100000"
	"usr/lib/x86_64-linux-gnu 250 100000"
	"usr/share 150 6000"
)
SUBDIR_CAP_MB=12
FILE_CAP_MB=24

KEEP=0
case "${1:-}" in
--keep) KEEP=1 ;;
'') ;;
*) sed -n '4,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

die() {
	echo "demo: $*" >&2
	exit 1
}

[ -f "$REPO/dm-ilio/dm-ilio.ko" ] || die "dm-ilio/dm-ilio.ko not built (make module)"
[ -x "$REPO/tools/ilioctl" ] || die "tools/ilioctl not built (make tools)"
for c in mke2fs md5sum tar find qemu-system-x86_64; do
	command -v "$c" >/dev/null || die "$c missing (make deps)"
done

start=$(date +%s)
echo "=== dm-ilio demo: four virtual desktops in RAM ==="
echo "Building the golden desktop image from this machine's OS files..."

# select_files DIR MIB FILES: print the sampled paths under /DIR, relative
# to /, one a line, in path order.
select_files() {
	(cd / && find "$1" -type f -perm -004 -printf '%s\t%p\n' 2>/dev/null) |
		LC_ALL=C sort -t "$(printf '\t')" -k 2 |
		awk -F '\t' -v top="$1" -v budget=$(($2 << 20)) -v maxfiles="$3" \
			-v subcap=$((SUBDIR_CAP_MB << 20)) -v filecap=$((FILE_CAP_MB << 20)) '
		{
			size = $1
			path = substr($0, index($0, "\t") + 1)
			if (size > filecap || n >= maxfiles || total + size > budget)
				next
			sub_dir = substr(path, length(top) + 2)
			sub(/\/.*/, "", sub_dir)
			if (used[sub_dir] + size > subcap)
				next
			used[sub_dir] += size
			total += size
			n++
			print path
		}'
}

rm -rf "$STAGE"
mkdir -p "$STAGE" "$(dirname "$GOLDEN")"
: >"$DEMO/files"
for src in "${SOURCES[@]}"; do
	read -r dir mib nfiles <<<"$src"
	[ -d "/$dir" ] || continue
	select_files "$dir" "$mib" "$nfiles" >>"$DEMO/files"
done
[ -s "$DEMO/files" ] || die "found no OS files to sample under /usr"
# --mode: no setuid/setgid copies of system programs in the build tree.
tar -C / --no-recursion --verbatim-files-from -T "$DEMO/files" --mode=ug-s -cf - |
	tar -C "$STAGE" -xpf -
# A few files every desktop image has, so that it looks like a root tree.
mkdir -p "$STAGE/etc" "$STAGE/home" "$STAGE/tmp" "$STAGE/var/log"
echo golden >"$STAGE/etc/hostname"
[ -r /usr/lib/os-release ] && cp /usr/lib/os-release "$STAGE/etc/os-release"

# MD5 of the original files (not of the copies), paths relative to /: the
# guest checks each desktop against what is in this machine's /usr.
(cd / && tr '\n' '\0' <"$DEMO/files" | xargs -0 md5sum) >"$MANIFEST"

# The golden image, exactly as a desktop disk (DESKTOP_MB). Inode tables and
# journal are written now (no lazy init): a desktop mounted in the guest then
# has no background zeroing thread writing to it while we measure.
rm -f "$GOLDEN"
mke2fs -q -F -t ext4 -L golden -d "$STAGE" \
	-E lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0 \
	"$GOLDEN" "${DESKTOP_MB}M" >/dev/null || die "mke2fs of the golden image failed"

nfiles=$(wc -l <"$MANIFEST")
used_kb=$(du -sk "$STAGE" | cut -f 1)
echo "Golden image: $nfiles files, $((used_kb / 1024)) MiB, in a ${DESKTOP_MB} MiB ext4" \
	"image ($(($(date +%s) - start)) s)."
[ "$KEEP" = 1 ] || rm -rf "$STAGE"

echo "Booting the VM (QEMU TCG, Debian 6.1 kernel); this takes about 3 minutes..."
rc=0
bash "$REPO/tests/vm/run.sh" --mem 3072 --timeout 900 --name demo \
	--disk "$GOLDEN_NAME:$DESKTOP_MB:keep" \
	"$REPO/tests/vm/demo-guest.sh" "$MANIFEST" "$DESKTOP_MB" || rc=$?

elapsed=$(($(date +%s) - start))
if [ "$rc" = 0 ]; then
	echo "=== demo passed in $((elapsed / 60)) min $((elapsed % 60)) s ==="
else
	echo "=== demo FAILED (rc=$rc) after $((elapsed / 60)) min $((elapsed % 60)) s;" \
		"guest output: build/vm/results/demo/output.log ==="
fi
exit "$rc"
