#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-init.sh - PID 1 of the test VM after switch_root into the host's /.
#
# The initramfs (tests/vm/mkinitramfs.sh) has mounted the host root read-only
# over 9p, tmpfs over /tmp /run /var/tmp /mnt /root, /dev /proc /sys, and the
# writable 9p share "results" at /run/ilio-results. This script runs the
# command the host left in results/cmd and records:
#   results/output.log  the guest script's stdout+stderr
#   results/rc          its exit code (written last: missing = the run failed)
#   results/dmesg       the kernel log after the script ended
# then powers the VM off. It must never exit: PID 1 exiting panics the kernel.
# Bash builtins are used where they do: each host binary started in the guest
# costs ~0.15 s under TCG.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C LC_ALL=C TERM=dumb
RESULTS=/run/ilio-results

say() {
	echo "ilio-guest-init: $*" >/dev/console
}

poweroff_now() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 10
	# sysrq did not power off: -no-reboot turns a reboot into QEMU exiting.
	echo b >/proc/sysrq-trigger
	sleep 3600
}

REPO= INIT=
read -r -a cmdline </proc/cmdline
for arg in "${cmdline[@]}"; do
	case "$arg" in
	ilio_repo=*) REPO=${arg#ilio_repo=} ;;
	ilio_init=*) INIT=${arg#ilio_init=} ;;
	esac
done
export REPO RESULTS

# "guest-init.sh --booted" is the booted half under systemd (below): run by
# ilio-test.service once ilio-test.target's other units are up, it runs the
# command again with ILIO_BOOT_PHASE=booted, records rc and dmesg, and asks
# systemd for an orderly poweroff, whose shutdown is part of the test.
if [ "${1:-}" = --booted ]; then
	cd "$REPO" 2>/dev/null || cd /
	ILIO_BOOT_PHASE=booted bash -c ". \"\$RESULTS/cmd\"" </dev/null >>"$RESULTS/output.log" 2>&1
	rc=$?
	dmesg >"$RESULTS/dmesg" 2>&1
	echo "$rc" >"$RESULTS/rc"
	# The console marks where the shutdown starts: a test that checks it
	# reads the console log from here on.
	say "booted half exited with $rc; systemctl poweroff"
	systemctl --no-block poweroff
	exit 0
fi
# "guest-init.sh --failed": systemd's emergency or rescue mode (the boot
# failed, e.g. local-fs.target), which would wait for a login on the
# console forever: say so, keep the journal's tail, fail, power off.
if [ "${1:-}" = --failed ]; then
	say "FATAL: systemd boot failed, it entered ${2:-emergency} mode"
	{
		echo "FAIL: systemd entered ${2:-emergency} mode; failed units:"
		systemctl --failed --no-pager --plain
		journalctl -b --no-pager -n 40
	} >>"$RESULTS/output.log" 2>&1
	dmesg >"$RESULTS/dmesg" 2>&1
	[ -s "$RESULTS/rc" ] || echo 1 >"$RESULTS/rc"
	poweroff_now
fi

export DM_DISABLE_UDEV=1
cd "$REPO" 2>/dev/null || cd /

if [ ! -r "$RESULTS/cmd" ]; then
	say "FATAL: no $RESULTS/cmd (results share not mounted?)"
	poweroff_now
fi

read -r cmd <"$RESULTS/cmd"
say "running ${cmd:0:300}"
if [ "$INIT" = systemd ]; then
	# run.sh --init systemd: the command runs twice.  First here, with
	# ILIO_BOOT_PHASE=pre, to prepare what systemd will find (overlays,
	# /etc/iliotab, units); then this PID 1 becomes systemd, which boots
	# to ilio-test.target: ilio-test.service, which runs the command with
	# ILIO_BOOT_PHASE=booted (guest-init.sh --booted, above) and powers
	# off through systemd, and whatever the first half wrote for it (its
	# own units, drop-ins in /run/systemd/system/ilio-test.service.d/ that
	# order it after them).  A shutdown that hangs ends in run.sh's
	# timeout.
	ILIO_BOOT_PHASE=pre bash -c ". \"\$RESULTS/cmd\"" </dev/null >"$RESULTS/output.log" 2>&1
	rc=$?
	say "guest script (pre) exited with $rc"
	if [ "$rc" = 0 ]; then
		mkdir -p /run/systemd/system
		cat >/run/systemd/system/ilio-test.service <<EOF
[Unit]
Description=dm-ilio VM test, booted half

[Service]
Type=oneshot
Environment="PATH=$PATH" HOME=/root LANG=C LC_ALL=C TERM=dumb
ExecStart=/bin/bash $REPO/tests/vm/guest-init.sh --booted
EOF
		for m in emergency rescue; do
			cat >/run/systemd/system/$m.service <<EOF
[Unit]
Description=dm-ilio VM test: the boot failed ($m mode)
DefaultDependencies=no

[Service]
Type=oneshot
ExecStart=/bin/bash $REPO/tests/vm/guest-init.sh --failed $m
EOF
		done
		cat >/run/systemd/system/ilio-test.target <<EOF
[Unit]
Description=dm-ilio VM test
Requires=ilio-test.service
EOF
		unset DM_DISABLE_UDEV
		# The host root has /.dockerenv when the host is a container:
		# an empty $container tells systemd, as PID 1, that it is not.
		export container=
		exec /lib/systemd/systemd --unit=ilio-test.target
	fi
	dmesg >"$RESULTS/dmesg" 2>&1
	echo "$rc" >"$RESULTS/rc"
	poweroff_now
fi
# cmd is a bash-quoted command line written by run.sh. The script's output
# goes to the share only, so the console log carries kernel messages alone.
bash -c ". \"\$RESULTS/cmd\"" </dev/null >"$RESULTS/output.log" 2>&1
rc=$?
say "guest script exited with $rc"

dmesg >"$RESULTS/dmesg" 2>&1
# The host reads rc only after QEMU has exited: no need for a rename.
echo "$rc" >"$RESULTS/rc"
poweroff_now
