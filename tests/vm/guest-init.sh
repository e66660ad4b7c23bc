#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-init.sh - PID 1 of the test VM after switch_root into the host's /.
#
# The initramfs (tests/vm/mkinitramfs.sh) has mounted the host root read-only
# over 9p with /dev, /proc and /sys moved in. This script makes the writable
# scratch mounts, mounts the writable 9p share "results", runs the command the
# host left in results/cmd, and records:
#   results/output.log  the guest script's stdout+stderr
#   results/rc          its exit code (written last: missing = the run failed)
#   results/dmesg       the kernel log after the script ended
# then powers the VM off. It must never exit: PID 1 exiting panics the kernel.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C LC_ALL=C TERM=dumb
RESULTS=/run/ilio-results

say() {
	echo "ilio-guest-init: $*" >/dev/console
}

poweroff_now() {
	sync
	umount "$RESULTS" 2>/dev/null
	echo o >/proc/sysrq-trigger
	sleep 10
	# sysrq did not power off: -no-reboot turns a reboot into QEMU exiting.
	echo b >/proc/sysrq-trigger
	sleep 3600
}

# Writable scratch space over the read-only host root. /var/lock is a symlink
# to /run/lock on Debian: mount only real directories.
for d in /tmp /run /var/tmp /var/lock /mnt /root; do
	if [ ! -d "$d" ] || [ -L "$d" ]; then
		continue
	fi
	mount -t tmpfs -o mode=1777 tmpfs "$d" || say "cannot mount tmpfs on $d"
done
chmod 700 /root 2>/dev/null
mkdir -p /run/lock /dev/pts /dev/shm /dev/mapper
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /dev/shm 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t configfs configfs /sys/kernel/config 2>/dev/null

mkdir -p "$RESULTS"
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none \
	results "$RESULTS"; then
	say "FATAL: cannot mount the results share"
	poweroff_now
fi

# Extra disks (--disk) are virtio-blk; load the driver whether or not any is
# attached, so tests see the same module set every boot.
modprobe -q virtio_blk 2>/dev/null

REPO=$(sed -n 's/.*\bilio_repo=\([^ ]*\).*/\1/p' /proc/cmdline)
export REPO RESULTS DM_DISABLE_UDEV=1
cd "$REPO" 2>/dev/null || cd /

if [ ! -r "$RESULTS/cmd" ]; then
	say "FATAL: no $RESULTS/cmd"
	poweroff_now
fi

say "running $(head -c 300 "$RESULTS/cmd")"
# cmd is a bash-quoted command line written by run.sh. The script's output
# goes to the share only, so the console log carries kernel messages alone.
bash -c ". \"\$RESULTS/cmd\"" </dev/null >"$RESULTS/output.log" 2>&1
rc=$?
say "guest script exited with $rc"

dmesg >"$RESULTS/dmesg" 2>&1
echo "$rc" >"$RESULTS/rc.tmp" && mv "$RESULTS/rc.tmp" "$RESULTS/rc"
poweroff_now
