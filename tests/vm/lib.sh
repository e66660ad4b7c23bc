# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib.sh - helpers for guest test scripts (tests/vm/t-*.sh), sourced inside
# the VM that tests/vm/run.sh boots.
#
# Assertions count passes and failures; finish prints the closing line
# "N passed, N failed" and exits non-zero if anything failed. A script that
# exits without calling finish (an error, a missing tool, set -e) is reported
# as failed by an EXIT trap: a test that cannot run never passes.
#
# Environment (set by guest-init.sh): REPO, RESULTS, DM_DISABLE_UDEV=1.

: "${REPO:?REPO is not set: run guest tests through tests/vm/run.sh}"
: "${RESULTS:=/tmp}"
export DM_DISABLE_UDEV=1

ILIO_KO="$REPO/dm-ilio/dm-ilio.ko"
_T_PASS=0
_T_FAIL=0
_T_FINISHED=0
_T_NAME=$(basename "${0:-test}" .sh)
# Scratch dir for this test (tmpfs in the guest).
T_TMP=$(mktemp -d "/tmp/${_T_NAME}.XXXXXX")

_t_exit_trap() {
	local rc=$?
	if [ "$_T_FINISHED" = 0 ]; then
		_T_FAIL=$((_T_FAIL + 1))
		echo "FAIL: $_T_NAME exited (rc=$rc) without calling finish"
		echo "$_T_PASS passed, $_T_FAIL failed"
		[ "$rc" = 0 ] && exit 1
	fi
}
trap _t_exit_trap EXIT

log() {
	printf '# [%ss] %s\n' "$SECONDS" "$*"
}

# ok/FAIL lines carry the seconds since the test started.
pass() {
	_T_PASS=$((_T_PASS + 1))
	printf 'ok [%ss]: %s\n' "$SECONDS" "$*"
}

fail() {
	_T_FAIL=$((_T_FAIL + 1))
	printf 'FAIL [%ss]: %s\n' "$SECONDS" "$*"
}

# fatal MSG: count a failure and stop the test here (cleanup is the caller's).
fatal() {
	fail "$* (fatal, test stopped)"
	finish
}

# guest_closing FILE WHAT: a host-driven test (vm-driver: host) adds the
# closing "N passed, N failed" line of a guest run it booted to its own
# counts; no closing line is one failure, named WHAT.
guest_closing() {
	local line p f
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" 2>/dev/null | tail -n 1)
	if [ -z "$line" ]; then
		fail "$2: no closing line in $1"
		return
	fi
	p=${line%% passed*}
	f=${line#*, }
	f=${f%% failed}
	_T_PASS=$((_T_PASS + p))
	_T_FAIL=$((_T_FAIL + f))
}

# in_guest: true inside a guest booted by run.sh (its kernel command line
# names the repository), false on the host.  Tests with a host half and
# guest halves (vm-driver: host) use it to refuse the wrong side.
in_guest() {
	grep -q 'ilio_repo=' /proc/cmdline 2>/dev/null
}

# wait_file FILE SECONDS: wait until FILE exists.
wait_file() {
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.2
	done
	return 1
}

# guest_counts FILE: the same for a guest run that was cut (run.sh
# --powercut: no closing line): its ok and FAIL lines.
guest_counts() {
	local p f
	p=$(grep -c '^ok ' "$1" 2>/dev/null)
	f=$(grep -c '^FAIL' "$1" 2>/dev/null)
	_T_PASS=$((_T_PASS + ${p:-0}))
	_T_FAIL=$((_T_FAIL + ${f:-0}))
}

# free_port: (host side) print a TCP port on 127.0.0.1 that nothing uses
# now, for run.sh --nic: the kernel picks it, so two tests side by side
# (or two helpers' runs) do not collide.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# port_listening PORT: (host side) something listens on 127.0.0.1:PORT
# (or on any address), seen in /proc/net/tcp without connecting.
port_listening() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
		END { exit !f }' /proc/net/tcp
}

# finish: print "N passed, N failed"; exit 1 if any failure or no assertion.
finish() {
	_T_FINISHED=1
	if [ $((_T_PASS + _T_FAIL)) = 0 ]; then
		_T_FAIL=1
		echo "FAIL: $_T_NAME made no assertion"
	fi
	echo "$_T_PASS passed, $_T_FAIL failed"
	[ "$_T_FAIL" = 0 ] || exit 1
	exit 0
}

# need_cmd CMD...: each must exist, else the test fails (never skips).
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || fatal "required command '$c' not found"
	done
}

_is_int() {
	case "$1" in
	'' | - | *[!0-9-]* | ?*-*) return 1 ;;
	esac
	return 0
}

# assert_eq A B MSG: A and B equal (as strings).
assert_eq() {
	if [ "$1" = "$2" ]; then
		pass "$3 ($1)"
	else
		fail "$3: got '$1', expected '$2'"
	fi
}

# assert_ge A B MSG: integer A >= B.
assert_ge() {
	if _is_int "$1" && _is_int "$2" && [ "$1" -ge "$2" ]; then
		pass "$3 ($1 >= $2)"
	else
		fail "$3: expected '$1' >= '$2'"
	fi
}

# assert_le A B MSG: integer A <= B.
assert_le() {
	if _is_int "$1" && _is_int "$2" && [ "$1" -le "$2" ]; then
		pass "$3 ($1 <= $2)"
	else
		fail "$3: expected '$1' <= '$2'"
	fi
}

# assert_near A B TOL MSG: |A - B| <= TOL (integers).
assert_near() {
	local d
	if _is_int "$1" && _is_int "$2" && _is_int "$3"; then
		d=$(($1 - $2))
		[ "$d" -lt 0 ] && d=$((-d))
		if [ "$d" -le "$3" ]; then
			pass "$4 ($1 ~ $2 +-$3)"
			return
		fi
	fi
	fail "$4: expected '$1' within $3 of '$2'"
}

# _run_logged CMD...: run CMD, output to a file; prints the file name.
_T_CMDN=0
_run_logged() {
	_T_CMDN=$((_T_CMDN + 1))
	_T_LAST_OUT="$T_TMP/cmd.$_T_CMDN.out"
	"$@" >"$_T_LAST_OUT" 2>&1
}

_show_out() {
	echo "  \$ $*"
	tail -n 25 "$_T_LAST_OUT" | sed 's/^/  | /'
}

# assert_cmd MSG -- CMD...: CMD exits 0. Its output is shown on failure only.
assert_cmd() {
	local msg=$1 rc
	shift
	[ "${1:-}" = "--" ] && shift
	_run_logged "$@"
	rc=$?
	if [ "$rc" = 0 ]; then
		pass "$msg"
		return 0
	fi
	fail "$msg: command exited $rc"
	_show_out "$@"
	return 1
}

# assert_fails MSG -- CMD...: CMD exits non-zero (and was found: 126/127,
# "command not found", do not count as the expected failure).
assert_fails() {
	local msg=$1 rc
	shift
	[ "${1:-}" = "--" ] && shift
	_run_logged "$@"
	rc=$?
	if [ "$rc" != 0 ] && [ "$rc" != 126 ] && [ "$rc" != 127 ]; then
		pass "$msg (exit $rc)"
		return 0
	fi
	fail "$msg: expected failure, command exited $rc"
	_show_out "$@"
	return 1
}

# assert_rc RC MSG -- CMD...: CMD exits with exactly RC (e.g. cmp's 1 for
# "differ", as opposed to 2 for "trouble").
assert_rc() {
	local want=$1 msg=$2 rc
	shift 2
	[ "${1:-}" = "--" ] && shift
	_run_logged "$@"
	rc=$?
	if [ "$rc" = "$want" ]; then
		pass "$msg (exit $rc)"
		return 0
	fi
	fail "$msg: expected exit $want, got $rc"
	_show_out "$@"
	return 1
}

# read_dev DEV OFFSET LEN OUT: O_DIRECT read of LEN bytes at OFFSET (both
# multiples of the logical block size) into the file OUT.
read_dev() {
	dd if="$1" of="$4" bs=1M skip="$2" count="$3" \
		iflag=direct,skip_bytes,count_bytes status=none
}

# cmp_dev DEV OFFSET LEN REF [REF_OFFSET]: the device range (read O_DIRECT)
# equals LEN bytes of the file REF at REF_OFFSET (REF may be /dev/zero).
# Returns cmp's status (1 = differ); prints cmp's message.
cmp_dev() {
	local tmp="$T_TMP/.cmp_dev.$$" rc
	read_dev "$1" "$2" "$3" "$tmp" || {
		echo "cmp_dev: read of $1 at $2 len $3 failed"
		rm -f "$tmp"
		return 2
	}
	cmp -n "$3" -i "${5:-0}:0" "$4" "$tmp"
	rc=$?
	rm -f "$tmp"
	return "$rc"
}

# last_output: print the output of the last assert_cmd/assert_fails command.
last_output() {
	cat "$_T_LAST_OUT"
}

# --- kernel modules --------------------------------------------------------

# ilio_load: load dm-ilio and everything it needs. Fatal if it cannot.
ilio_load() {
	local m
	[ -f "$ILIO_KO" ] || fatal "ilio_load: $ILIO_KO not built (make module)"
	/sbin/modprobe dm_mod || fatal "ilio_load: modprobe dm_mod failed"
	for m in lz4_compress lz4_decompress; do
		/sbin/modprobe "$m" || fatal "ilio_load: modprobe $m failed"
	done
	# Whatever else the module declares it depends on.
	for m in $(/sbin/modinfo -F depends "$ILIO_KO" 2>/dev/null | tr ',' ' '); do
		/sbin/modprobe "$m" || fatal "ilio_load: modprobe $m (dependency) failed"
	done
	if [ -d /sys/module/dm_ilio ]; then
		log "dm_ilio already loaded"
		return 0
	fi
	/sbin/insmod "$ILIO_KO" || fatal "ilio_load: insmod $ILIO_KO failed: $(dmesg | tail -n 5)"
	[ -d /sys/module/dm_ilio ] || fatal "ilio_load: /sys/module/dm_ilio missing after insmod"
	dmsetup targets | grep -q '^ilio ' || fatal "ilio_load: target ilio not registered"
}

# ilio_unload: rmmod dm_ilio; returns 0 only if it is really gone.
ilio_unload() {
	[ -d /sys/module/dm_ilio ] || return 0
	/sbin/rmmod dm_ilio || return 1
	[ ! -d /sys/module/dm_ilio ]
}

# brd_setup SIZE_MB COUNT: (re)load brd with COUNT ramdisks of SIZE_MB each,
# /dev/ram0 .. /dev/ram<COUNT-1>.
brd_setup() {
	local size_mb=$1 count=${2:-1} i
	if [ -d /sys/module/brd ]; then
		/sbin/rmmod brd || fatal "brd_setup: rmmod brd failed (ramdisk busy?)"
	fi
	/sbin/modprobe brd rd_nr="$count" rd_size=$((size_mb * 1024)) max_part=0 ||
		fatal "brd_setup: modprobe brd failed"
	for ((i = 0; i < count; i++)); do
		[ -b "/dev/ram$i" ] || fatal "brd_setup: /dev/ram$i missing"
	done
}

# brd_teardown: unload brd (frees its RAM).
brd_teardown() {
	[ -d /sys/module/brd ] && /sbin/rmmod brd
	return 0
}

# --- device-mapper helpers ----------------------------------------------------

# dm_node NAME: print the kernel name (dm-N) of /dev/mapper/NAME.
#
# These three helpers run in every test's loops, so they start no program
# but dmsetup: under TCG an exec costs 80-150 ms in the guest (cat 85,
# dmsetup 146, echo | awk 133), a bash builtin about 1 ms.
dm_node() {
	local f n
	for f in /sys/block/dm-*/dm/name; do
		[ -r "$f" ] || continue
		read -r n <"$f" || continue
		[ "$n" = "$1" ] || continue
		f=${f%/dm/name}
		echo "${f##*/}"
		return 0
	done
	return 1
}

# sysfs_val NAME FIELD: cat /sys/block/dm-N/ilio/FIELD.
sysfs_val() {
	local node lines
	node=$(dm_node "$1") || return 1
	mapfile -t lines <"/sys/block/$node/ilio/$2" || return 1
	printf '%s\n' "${lines[@]}"
}

# status_field NAME N: the Nth INFO field of "dmsetup status NAME" after the
# target name (N=1 is the mode). Single-target tables only.
status_field() {
	local a
	status_fields "$1" a || return 1
	printf '%s\n' "${a[$2]}"
}

# status_fields NAME VAR: NAME's status line into the array VAR, field N
# (the admin guide's numbering) at index N: one dmsetup for every field.
status_fields() {
	case $2 in _sf | _sf_line) fatal "status_fields: VAR may not be named $2" ;; esac
	local -n _sf=$2
	local _sf_line
	_sf_line=$(dmsetup status "$1") || return 1
	read -ra _sf <<<"$_sf_line"
	_sf=("${_sf[@]:2}")
}

# lio_scsi_disk: the name (sda, ...) of the SCSI disk whose vendor is
# LIO's (an iSCSI session's or tcm_loop's LUN), once its node exists;
# waits up to 20 s, then fails.
lio_scsi_disk() {
	local f sd i
	for ((i = 0; i < 100; i++)); do
		sd=
		for f in /sys/block/sd*/device/vendor; do
			[ -r "$f" ] && grep -q "LIO-ORG" "$f" && { f=${f%/device/vendor}; sd=${f##*/}; }
		done
		[ -n "$sd" ] && [ -b "/dev/$sd" ] && { echo "$sd"; return 0; }
		sleep 0.2
	done
	return 1
}

# dev_writes DEV: "writes W sectors S discards D" that the block device
# DEV (/dev/vdX, /dev/ramN, /dev/mapper/NAME) has completed since boot,
# from its sysfs stat.  "A refused open wrote nothing" is then an equal
# snapshot before and after: stronger than equal checksums (it sees an
# identical rewrite too) and free, where a sha256 of 256 MiB takes 9 s
# under TCG.  Flushes are not counted: they change no data.  (These
# counters found that a refused read-write open of a guarded store wrote
# its multihost claim and put it back; now a table of another size is
# refused before the claim, ilio_core_precheck().)
dev_writes() {
	local node st
	case "$1" in
	/dev/mapper/*) node=$(dm_node "${1#/dev/mapper/}") || return 1 ;;
	*) node=${1##*/} ;;
	esac
	read -ra st <"/sys/class/block/$node/stat" || return 1
	printf 'writes %s sectors %s discards %s\n' "${st[4]}" "${st[6]}" "${st[11]:-0}"
}

# dev_sectors DEV: size of a block device in 512-byte sectors.
dev_sectors() {
	blockdev --getsz "$1"
}

# dm_remove_all_matching PREFIX: remove every dm device whose name starts with
# PREFIX (cleanup after a failed test; errors ignored).
dm_remove_prefix() {
	local n
	for n in $(dmsetup ls 2>/dev/null | awk -v p="$1" 'index($1, p) == 1 { print $1 }'); do
		dmsetup remove --retry "$n" >/dev/null 2>&1
	done
}

# vm_disk NAME: /dev path of the --disk NAME attached by run.sh (by serial).
vm_disk() {
	local f
	for f in /sys/block/vd*/serial; do
		[ -r "$f" ] || continue
		if [ "$(cat "$f")" = "$1" ]; then
			f=${f%/serial}
			echo "/dev/${f##*/}"
			return 0
		fi
	done
	return 1
}

# writable_install MODULE... -- DIR...: make the guest's read-only / (the
# host's, over 9p) writable where "make install" and an admin write, in
# tmpfs: an overlay on each DIR, and /usr/lib/modules a tmpfs copy that
# holds the kernel's module lists and MODULE... with their dependencies
# (depmod reads every module of the tree, which takes 90 s through 9p
# under TCG; a module missing from the copy is a clear modprobe error).
# The upper layers live in /run/ilio-writable, not in /tmp: a systemd boot
# (run.sh --init systemd) empties /tmp (tmpfiles.d's "D /tmp").
writable_install() {
	local kver m f d o base=/run/ilio-writable mods=/run/ilio-writable/modules
	kver=$(uname -r)
	/sbin/modprobe overlay || fatal "modprobe overlay"
	mkdir -p "$mods/$kver"
	cp /lib/modules/"$kver"/modules.order /lib/modules/"$kver"/modules.builtin* \
		"$mods/$kver/" || fatal "copy the module lists"
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		m=$1
		shift
		modprobe --show-depends "$m" >/dev/null || fatal "writable_install: no module $m"
		for f in $(modprobe --show-depends "$m" | awk '$1 == "insmod" { print $2 }'); do
			mkdir -p "$mods/$(dirname "${f#/lib/modules/}")"
			cp "$f" "$mods/${f#/lib/modules/}" || fatal "copy $f"
		done
	done
	[ "${1:-}" = -- ] && shift
	mount --bind "$mods" /usr/lib/modules || fatal "bind $mods on /usr/lib/modules"
	for d in "$@"; do
		o=$base/ovl/${d//\//_}
		mkdir -p "$o/u" "$o/w"
		mount -t overlay overlay -o "lowerdir=$d,upperdir=$o/u,workdir=$o/w" "$d" ||
			fatal "overlay on $d"
	done
}

# dmesg_mark: remember where the kernel log is; dmesg_since prints what came
# after the last mark.
_T_DMESG_LINES=0
dmesg_mark() {
	_T_DMESG_LINES=$(dmesg | wc -l)
}
dmesg_since() {
	dmesg | tail -n +$((_T_DMESG_LINES + 1))
}

# mem_kb FIELD: a /proc/meminfo field in kB (e.g. MemAvailable, VmallocUsed).
mem_kb() {
	awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo
}

# drop_caches: write back and drop the page cache (for memory measurements).
drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# powercut_arm: ask run.sh (--powercut S) to SIGKILL QEMU S seconds from now,
# a power cut. The caller keeps its workload running and must not finish.
powercut_arm() {
	: >"$RESULTS/powercut"
}
