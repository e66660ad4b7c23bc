#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install-deps.sh - install what dm-ilio needs to build and test (Debian).
#
# Idempotent and fast when everything is there: it asks dpkg which packages
# are missing and runs apt-get (update + install --no-install-recommends)
# only for those. Then it extracts checkpatch.pl and its data files from the
# linux-source tarball into build/checkpatch/ if they are not there yet.
#
# Needs root (or sudo) only when something is missing.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

PACKAGES=(
	# build
	build-essential gcc make bc kmod
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	libdevmapper-dev liblz4-dev libxxhash-dev libblkid-dev
	# ilioctl: tables (as zramctl) and JSON output
	libsmartcols-dev libjson-c-dev pkg-config
	# ilioctl hints: the MFT of NTFS (libfsntfs), files in ext4 images
	# (libext2fs); partition tables come through libblkid
	libfsntfs-dev libbfio-dev libext2fs-dev
	# lint (sparse; docutils parses the .rst docs)
	sparse python3-docutils
	# packaging (tests/pkg): DKMS builds the module for every kernel;
	# udevadm test runs the udev rule; man and groff check the man pages
	# (lint too: groff -ww, man --warnings)
	dkms udev man-db groff-base openssl
	# tests
	qemu-system-x86 busybox-static cpio fio dmsetup e2fsprogs xz-utils
	util-linux valgrind python3 gzip coreutils
	# hints tests: NTFS images built unmounted (ntfs-3g's mkntfs, ntfscp,
	# ntfsinfo, ntfscluster; wimtools' wimapply writes a directory tree
	# into an unmounted NTFS volume through libntfs-3g) and partition
	# tables (sfdisk)
	ntfs-3g wimtools fdisk
	# exports (t-36-exports): the kernel NFS server and client tools, LIO's
	# initiator side, XFS
	nfs-kernel-server open-iscsi xfsprogs
	# replication (t-39-drbd): drbdadm and its 8.4 tools for the kernel's
	# drbd module
	drbd-utils
	# memory-pressure test (t-24-mempressure)
	stress-ng
	# fuzzing (libFuzzer comes with the clang runtime)
	clang libclang-rt-14-dev
	# benchmark plots (make bench: tests/vm/bench-plots.sh, SVG); the
	# no-X11 build is enough for "set terminal svg"
	gnuplot-nox
)

# One dpkg-query for all; "ok installed" means really installed, not merely
# known to dpkg. Virtual or unknown names print nothing and count as missing.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null |
	awk '/ ok installed$/ { print $1 }' || true)
missing=()
for p in "${PACKAGES[@]}"; do
	grep -qxF "$p" <<<"$installed" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
	echo "install-deps: installing: ${missing[*]}"
	SUDO=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || {
			echo "install-deps: need root to install: ${missing[*]}" >&2
			exit 1
		}
		SUDO=sudo
	fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# checkpatch.pl with spelling.txt and const_structs.checkpatch next to it.
CP_DIR="$REPO/build/checkpatch"
CP_FILES=(scripts/checkpatch.pl scripts/spelling.txt scripts/const_structs.checkpatch)
need_cp=0
for f in "${CP_FILES[@]}"; do
	[ -s "$CP_DIR/$f" ] || need_cp=1
done
if [ "$need_cp" = 1 ]; then
	tarball=
	for t in /usr/src/linux-source-6.1.tar.xz /usr/src/linux-source-6.1.tar.bz2; do
		[ -r "$t" ] && tarball=$t && break
	done
	if [ -z "$tarball" ]; then
		echo "install-deps: /usr/src/linux-source-6.1.tar.* missing" >&2
		exit 1
	fi
	# The tarball's top dir is linux-source-6.1/; strip it.
	top=$(tar -tf "$tarball" 2>/dev/null | head -n 1 | cut -d/ -f1 || true)
	mkdir -p "$CP_DIR"
	echo "install-deps: extracting checkpatch from $tarball"
	tar -xf "$tarball" -C "$CP_DIR" --strip-components=1 \
		"${CP_FILES[@]/#/$top/}"
	chmod +x "$CP_DIR/scripts/checkpatch.pl"
fi
