#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test-pkg.sh - proves, on the host (root, no module loaded), that dm-ilio
# installs and identifies itself as the admin guide says:
#   * one version: "modinfo -F version" of the built dm-ilio.ko, the
#     top-level VERSION file and "ilioctl --version" agree;
#   * "make install DESTDIR=... " installs exactly the module (extra/),
#     ilioctl, the man pages, the udev rules (@SBINDIR@ replaced) and the
#     systemd files of tools/systemd, and "make uninstall" removes them all;
#   * modprobe resolves the installed module and its dependencies (dm-mod,
#     libcrc32c, lz4_compress) in a module tree made of the installed
#     kernel's modules plus what make install put there (depmod -b);
#   * the udev rule, run by "udevadm test" on a loop device over a formatted
#     image (in a private mount namespace, with the rule in a tmpfs
#     /etc/udev/rules.d), imports ID_FS_TYPE=ilio and the store's UUID and
#     links /dev/disk/by-uuid/<uuid>; on a blank image it adds nothing, and
#     it does not probe an image with a partition table or a filesystem;
#   * dkms.conf takes its version from VERSION; "make dkms-source", then
#     "dkms install" (which adds and builds first, as the admin guide
#     says) against the installed linux-headers-amd64
#     put a signed (DKMS's MOK key) dm-ilio.ko of that version and kernel
#     in /lib/modules/KVER/updates/dkms, where modprobe finds it; dkms
#     remove --all takes it away (the test leaves the host as it found it);
#   * the kernel's scripts/sign-file signs the module with a fresh key, as
#     the admin guide's Secure Boot steps do (Secure Boot itself, the MOK
#     enrollment and the kernel's check, cannot be tested here);
#   * the man pages render with man and groff without a warning.
#
# Needs the module and ilioctl built (make all).  Prints one line per
# failure, then "test-pkg: N passed, N failed" and "N passed, N failed".

set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 1
tmp=$(mktemp -d)
loopdev=
trap '[ -z "$loopdev" ] || losetup -d "$loopdev"; rm -rf "$tmp"' EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
eq() { if [ "$2" == "$3" ]; then ok; else ko "$1: got '$2', want '$3'"; fi; }
has() { if [[ "$2" == *"$3"* ]]; then ok; else ko "$1: '$3' not in: $2"; fi; }
done_() {
	echo "test-pkg: $pass passed, $fail failed"
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

KO=dm-ilio/dm-ilio.ko
if [ ! -f "$KO" ] || [ ! -x tools/ilioctl ]; then
	ko "$KO or tools/ilioctl not built (make all)"
	done_
fi
version=$(cat VERSION)
kver=$(modinfo -F vermagic "$KO" | cut -d' ' -f1)

# --- one version ------------------------------------------------------------
eq "VERSION is MAJOR.MINOR.PATCH" "$(grep -cxE '[0-9]+\.[0-9]+\.[0-9]+' VERSION)" 1
eq "modinfo -F version dm-ilio.ko" "$(modinfo -F version "$KO")" "$version"
eq "ilioctl --version" "$(tools/ilioctl --version | cut -d' ' -f1,2)" "ilioctl $version"
[ -d "/lib/modules/$kver/kernel" ] || ko "the module's kernel $kver has no /lib/modules/$kver/kernel"
# Versions that the documents quote (dm-ilio/1.1.0, dm-ilio-1.1.0, ilio
# v1.1.0) are VERSION: a bump must update them.
quoted=$(grep -ohE '(dm-ilio[/-]|ilio v)[0-9]+\.[0-9]+\.[0-9]+' README Documentation/admin-guide/device-mapper/ilio.rst \
	Documentation/man/*.[1-8] dkms.conf | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | sort -u)
eq "the documents quote VERSION" "$quoted" "$version"

# --- make install / uninstall ---------------------------------------------------
dest=$tmp/dest
if ! make -s install DESTDIR="$dest" >"$tmp/install.log" 2>&1; then
	ko "make install DESTDIR: $(cat "$tmp/install.log")"
fi
want=(
	"lib/modules/$kver/extra/dm-ilio.ko"
	usr/local/sbin/ilioctl
	usr/local/share/man/man4/dm-ilio.4
	lib/udev/rules.d/69-ilio.rules
)
# Whatever else the tree holds for installation goes too (the other
# man pages, tools/systemd's units and generators).
for m in Documentation/man/*.[1-8] tools/*.[1-8]; do
	[ -f "$m" ] || continue
	[ "$m" = Documentation/man/dm-ilio.4 ] && continue
	want+=("usr/local/share/man/man${m##*.}/${m##*/}")
done
for u in tools/systemd/*; do
	[ -f "$u" ] || continue
	case $u in
	*-generator) want+=("lib/systemd/system-generators/${u##*/}") ;;
	*.service|*.target|*.mount|*.socket|*.timer|*.path) want+=("lib/systemd/system/${u##*/}") ;;
	esac
done
got=$(cd "$dest" 2>/dev/null && find . -type f -o -type l | sed 's|^\./||' | sort)
eq "make install DESTDIR: the files" "$got" "$(printf '%s\n' "${want[@]}" | sort)"
has "make install DESTDIR: no depmod, says so" "$(cat "$tmp/install.log")" "not running depmod"
eq "installed module is the built one" "$(cmp "$KO" "$dest/lib/modules/$kver/extra/dm-ilio.ko" && echo same)" same
eq "installed ilioctl is executable" "$(stat -c %a "$dest/usr/local/sbin/ilioctl")" 755
rule=$dest/lib/udev/rules.d/69-ilio.rules
has "udev rule: ilioctl's installed path" "$(grep IMPORT "$rule")" '"/usr/local/sbin/ilioctl probe $devnode"'
eq "udev rule: no @...@ left" "$(grep -c '@[A-Z]*@' "$rule")" 0
gen=$dest/lib/systemd/system-generators/ilio-generator
eq "generator: installed, executable" "$(stat -c %a "$gen" 2>/dev/null)" 755
has "generator: its units call the installed ilioctl" "$(grep '^ILIOCTL=' "$gen")" '/usr/local/sbin/ilioctl}'
eq "generator: no @...@ left" "$(grep -c '@[A-Z]*@' "$gen")" 0
make -s install DESTDIR="$tmp/d2" PREFIX=/usr >/dev/null 2>&1
eq "PREFIX=/usr: ilioctl in /usr/sbin" "$(ls "$tmp/d2/usr/sbin")" ilioctl
has "PREFIX=/usr: the rule calls /usr/sbin/ilioctl" "$(grep IMPORT "$tmp/d2/lib/udev/rules.d/69-ilio.rules")" /usr/sbin/ilioctl
has "PREFIX=/usr: the generator calls /usr/sbin/ilioctl" \
	"$(grep '^ILIOCTL=' "$tmp/d2/lib/systemd/system-generators/ilio-generator")" '/usr/sbin/ilioctl}'
out=$(make -s install DESTDIR="$tmp/d3" KVER=0.0.0-none 2>&1)
eq "KVER other than the module's: refused" "$?:$(ls "$tmp/d3" 2>/dev/null)" "2:"
has "KVER other than the module's: says why" "$out" "was built for $kver, not KVER=0.0.0-none"

# modprobe finds it, with its dependencies: the installed kernel's modules
# (symlinked) plus what make install staged, indexed by depmod -b.
mt=$tmp/modtree
mkdir -p "$mt/lib/modules/$kver"
ln -s "/lib/modules/$kver/kernel" "$mt/lib/modules/$kver/kernel"
cp /lib/modules/"$kver"/modules.order /lib/modules/"$kver"/modules.builtin* "$mt/lib/modules/$kver/"
cp -a "$dest/lib/modules/$kver/extra" "$mt/lib/modules/$kver/"
if depmod -b "$mt" "$kver" 2>"$tmp/depmod.err"; then
	deps=$(modprobe -d "$mt" -S "$kver" --show-depends dm-ilio 2>&1)
	for m in extra/dm-ilio.ko kernel/drivers/md/dm-mod.ko kernel/lib/libcrc32c.ko kernel/lib/lz4/lz4_compress.ko; do
		has "modprobe --show-depends dm-ilio: $m" "$deps" "/lib/modules/$kver/$m"
	done
	eq "modprobe --show-depends: dm-ilio last" "$(tail -n 1 <<<"$deps" | grep -c 'extra/dm-ilio.ko')" 1
	# With a DKMS copy too, modprobe takes the DKMS one (the admin guide).
	mkdir -p "$mt/lib/modules/$kver/updates/dkms"
	cp "$KO" "$mt/lib/modules/$kver/updates/dkms/"
	depmod -b "$mt" "$kver" 2>/dev/null
	eq "modprobe prefers updates/dkms to extra" \
		"$(modprobe -d "$mt" -S "$kver" --show-depends dm-ilio 2>&1 | tail -n 1 | grep -o '[a-z]*/[a-z]*/dm-ilio.ko')" \
		updates/dkms/dm-ilio.ko
else
	ko "depmod -b: $(cat "$tmp/depmod.err")"
fi

# --- the udev rule, run by udevadm test -------------------------------------
# udevadm test runs the rules of /etc/udev/rules.d (and IMPORT{program}) on
# a device without udevd; a private mount namespace keeps the rule out of
# the host's /etc/udev/rules.d.
udev_test() {	# IMAGE: udevadm test on a loop device over IMAGE, into $tmp/udev.out
	loopdev=$(losetup -f --show "$1") || { ko "losetup $1"; return 1; }
	unshare -m sh -c 'mount -t tmpfs none /etc/udev/rules.d &&
		cp "$1" /etc/udev/rules.d/ && udevadm test "/sys/class/block/$2"' \
		sh "$rule" "${loopdev#/dev/}" >"$tmp/udev.out" 2>&1
	local r=$?
	losetup -d "$loopdev"
	loopdev=
	return $r
}
# The installed rule calls /usr/local/sbin/ilioctl: call this tree's.
sed -i "s|/usr/local/sbin/ilioctl|$root/tools/ilioctl|" "$rule"
for c in udevadm losetup unshare; do
	command -v $c >/dev/null || ko "$c missing (udev, util-linux)"
done
truncate -s 64M "$tmp/store.img"
uuid=$(tools/ilioctl format "$tmp/store.img" | awk '$1 == "uuid" { print $2 }')
if udev_test "$tmp/store.img"; then
	u=$(cat "$tmp/udev.out")
	has "udevadm test: the rule file is read" "$u" "Reading rules file: /etc/udev/rules.d/69-ilio.rules"
	eq "udevadm test: no complaint about the rule" \
		"$(grep '69-ilio.rules' "$tmp/udev.out" | grep -ciE 'invalid|error|unknown|fail')" 0
	for p in ID_FS_TYPE=ilio ID_FS_USAGE=other ID_FS_VERSION=1 "ID_FS_UUID=$uuid" "ID_FS_UUID_ENC=$uuid"; do
		eq "udevadm test: property $p" "$(grep -cx "$p" "$tmp/udev.out")" 1
	done
	has "udevadm test: /dev/disk/by-uuid link" "$u" "LINK 'disk/by-uuid/$uuid'"
else
	ko "udevadm test on the store: $(tail -n 5 "$tmp/udev.out")"
fi
truncate -s 0 "$tmp/blank.img" && truncate -s 64M "$tmp/blank.img"
if udev_test "$tmp/blank.img"; then
	has "udevadm test, blank: the probe ran" "$(cat "$tmp/udev.out")" "ilioctl probe /dev/"
	eq "udevadm test, blank: no ID_FS_TYPE" "$(grep -c '^ID_FS_TYPE=' "$tmp/udev.out")" 0
else
	ko "udevadm test on a blank image: $(tail -n 5 "$tmp/udev.out")"
fi
# blkid's finds (60-persistent-storage.rules) keep the probe away.
truncate -s 64M "$tmp/dos.img"
python3 - "$tmp/dos.img" <<'PY'
import struct, sys
mbr = bytearray(512)
mbr[440:444] = b"\x12\x34\x56\x78"
mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", 2048, 20480)
mbr[510:512] = b"\x55\xaa"
open(sys.argv[1], "r+b").write(mbr)
PY
truncate -s 64M "$tmp/ext4.img" && mkfs.ext4 -q -F "$tmp/ext4.img" >/dev/null 2>&1
for i in dos ext4; do
	if udev_test "$tmp/$i.img"; then
		eq "udevadm test, $i: blkid found it (ID_FS_TYPE or ID_PART_TABLE_TYPE)" \
			"$(grep -cE '^ID_(FS|PART_TABLE)_TYPE=(dos|ext4)$' "$tmp/udev.out")" 1
		eq "udevadm test, $i: no probe" "$(grep -c 'ilioctl probe' "$tmp/udev.out")" 0
	else
		ko "udevadm test on $i: $(tail -n 5 "$tmp/udev.out")"
	fi
done

make -s uninstall DESTDIR="$dest" >/dev/null 2>&1
eq "make uninstall DESTDIR: no file left" "$(find "$dest" -type f -o -type l)" ""

# --- man pages ---------------------------------------------------------------
for m in Documentation/man/*.[1-8] tools/*.[1-8]; do
	[ -f "$m" ] || continue
	w=$(MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
	eq "man --warnings -l $m: no warning" "$w" ""
	w=$(groff -ww -z -man "$m" 2>&1)
	eq "groff -ww -z -man $m: no warning" "$w" ""
	eq "$m renders" "$(MANWIDTH=80 man -l "$m" 2>/dev/null | grep -c '^NAME$')" 1
done
# dm-ilio.4 names the fields of dm-ilio/ilio-fields.h, in order.
M=Documentation/man/dm-ilio.4
fields=$(bash tests/unit/ilio-fields-list.sh)
eq "dm-ilio.4: every status field, as ilio-fields.h" \
	"$(awk '/^\.SH STATUS/ { s = 1; next } /^\.SH/ { s = 0 } s && /^\.B [0-9]+ / { print $2, $3 }' "$M")" \
	"$(echo "1 mode"; awk '$1 ~ /^status_v/ { print $2, $3 }' <<<"$fields")"
eq "dm-ilio.4: every sysfs-only file, in order" \
	"$(awk '/^\.SH SYSFS/ { s = 1; next } /^\.SH/ { s = 0 } s && /^\.B [a-z_]+$/ { print $2 }' "$M")" \
	"$(awk '$1 == "sysfs" { print $3 } $1 == "special" && $3 != "mode" { print $3 }' <<<"$fields")"
# section NAME: the lines of section NAME of $M; tagged NAME: the first
# line of each of its .TP entries.
section() { awk -v n="$1" '$0 == ".SH " n { s = 1; next } /^\.SH/ { s = 0 } s' "$M"; }
tagged() { section "$1" | awk 'p { print; p = 0 } /^\.TP$/ { p = 1 }'; }
modes=$(section STATUS | awk '/^\.B 1 mode$/ { s = 1; next } /^\.TP$/ { s = 0 } s')
for w in $(awk '$1 == "mode" { print $3 }' <<<"$fields"); do
	eq "dm-ilio.4: mode word $w under field 1" "$(grep -c "^\.BR\? ${w//-/\\\\-}\( \|,\|$\)" <<<"$modes")" 1
done
eq "dm-ilio.4: the messages" "$(tagged MESSAGES | tr '\n' ' ')" ".B clear_stats .B compact .B gc .B checkpoint .B check .BI \"hint \" \"class start_sector nr_sectors\" \" \\fR[\\fP\" \"class start_sector nr_sectors\" \" \\fR]...\\fP\" .B hints "

# --- signing by hand, as the admin guide says (not Secure Boot itself) ------
sf=/lib/modules/$kver/build/scripts/sign-file
if [ -x "$sf" ] && command -v openssl >/dev/null; then
	(cd "$tmp" && openssl req -new -x509 -newkey rsa:2048 -keyout MOK.priv -outform DER \
		-out MOK.der -nodes -days 36500 -subj "/CN=dm-ilio module signing/" >/dev/null 2>&1)
	cp "$KO" "$tmp/signed.ko"
	"$sf" sha256 "$tmp/MOK.priv" "$tmp/MOK.der" "$tmp/signed.ko" 2>"$tmp/sign.err" ||
		ko "sign-file: $(cat "$tmp/sign.err")"
	eq "sign-file: the module's signer" "$(modinfo -F signer "$tmp/signed.ko")" "dm-ilio module signing"
	eq "sign-file: still the same module" "$(modinfo -F version "$tmp/signed.ko")" "$version"
else
	ko "$sf or openssl missing (linux-headers-amd64, openssl)"
fi

# --- DKMS -------------------------------------------------------------------------
# dkms.conf reads its version from the VERSION file next to it.
mkdir -p "$tmp/dk" && cp dkms.conf "$tmp/dk/" && echo 9.8.7 >"$tmp/dk/VERSION"
eq "dkms.conf: PACKAGE_VERSION from VERSION" \
	"$(bash -c '. "$1"; echo "$PACKAGE_NAME $PACKAGE_VERSION"' sh "$tmp/dk/dkms.conf")" "dm-ilio 9.8.7"

# add, build, install and remove against the installed linux-headers-amd64,
# for real (root): the module lands in /lib/modules/KVER/updates/dkms.
hk=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null |
	sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')
src=/usr/src/dm-ilio-$version
mok=/var/lib/dkms/mok.key
dkms_cleanup() {
	dkms remove "dm-ilio/$version" --all >/dev/null 2>&1
	rm -rf "$src"
	# DKMS makes a MOK key pair for signing when there is none: drop the
	# one this test caused.
	[ "$mok_before" = 1 ] || rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
}
if ! command -v dkms >/dev/null; then
	ko "dkms missing (make deps installs it)"
elif [ "$(id -u)" != 0 ]; then
	ko "DKMS test needs root"
elif [ -z "$hk" ] || [ ! -d "/lib/modules/$hk/build" ]; then
	ko "no linux-headers-amd64 (make deps)"
elif [ -n "$(dkms status dm-ilio 2>/dev/null)" ] || [ -e "$src" ]; then
	ko "dm-ilio is in DKMS on this host already ($(dkms status dm-ilio)); not touching it"
else
	mok_before=0
	[ -e "$mok" ] && mok_before=1
	trap 'dkms_cleanup; [ -z "$loopdev" ] || losetup -d "$loopdev"; rm -rf "$tmp"' EXIT
	make -s dkms-source >/dev/null 2>&1 || ko "make dkms-source"
	mapfile -t srcs < <(git ls-files 'dm-ilio/*.[ch]')
	eq "make dkms-source: the files" "$(cd "$src" && find . -type f | sed 's|^\./||' | sort)" \
		"$(printf '%s\n' dkms.conf VERSION Kbuild dm-ilio/Kbuild "${srcs[@]}" | sort)"
	# The admin guide's one command: install adds and builds first.
	if dkms install "dm-ilio/$version" -k "$hk" >"$tmp/dkms.log" 2>&1; then
		ok
	else
		ko "dkms install dm-ilio/$version -k $hk: $(tail -n 15 "$tmp/dkms.log")"
	fi
	eq "dkms status" "$(dkms status dm-ilio)" "dm-ilio/$version, $hk, x86_64: installed"
	f=/lib/modules/$hk/updates/dkms/dm-ilio.ko
	eq "modinfo -k $hk finds the DKMS module" "$(modinfo -k "$hk" -F filename dm-ilio 2>&1)" "$f"
	eq "DKMS module: version" "$(modinfo -F version "$f" 2>&1)" "$version"
	eq "DKMS module: built for $hk" "$(modinfo -F vermagic "$f" 2>&1 | cut -d' ' -f1)" "$hk"
	has "DKMS module: signed with DKMS's MOK key" "$(modinfo -F signer "$f" 2>&1)" "DKMS module signing key"
	deps=$(modprobe -S "$hk" --show-depends dm-ilio 2>&1)
	has "modprobe -S $hk --show-depends: the DKMS module" "$deps" "insmod $f"
	has "modprobe -S $hk --show-depends: dm-mod" "$deps" "kernel/drivers/md/dm-mod.ko"
	if dkms remove "dm-ilio/$version" --all >"$tmp/dkms.log" 2>&1; then
		ok
	else
		ko "dkms remove --all: $(tail -n 5 "$tmp/dkms.log")"
	fi
	eq "after dkms remove: no module" "$(modinfo -k "$hk" -F filename dm-ilio 2>/dev/null)" ""
	dkms_cleanup
	trap '[ -z "$loopdev" ] || losetup -d "$loopdev"; rm -rf "$tmp"' EXIT
fi
done_
