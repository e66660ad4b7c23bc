#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-32-wbdepth: persistent write-back keeps several segment writes in flight
# (issue 9).  ilio runs over dm-delay over brd, writes held 2 s, with
# 64 KiB segments (so that segments close faster than the disk writes
# them, even under TCG), coalesce always and a long flush interval.  4 MiB
# of unique data is written (O_DIRECT) and fsync'ed.  The delayed device's
# counters (/sys/block/dm-N/stat) give the writes in flight on average
# while it was busy (write ticks / io ticks): at least 4 (write-back used
# to send one segment at a time, which gives 1), so at some point at least
# 4 were in flight at once; and the run takes less than one write after
# another would.  Then the durable point must have covered everything: a
# copy of the backing disk taken right after the fsync (a power cut there)
# recovers every byte, and the store checks clean.
# The harness fails the run on any oops/WARNING.
#
# vm-args: --mem 1536 --timeout 600
# vm-time: 56

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup dd cmp head sort
ILIOCTL="$REPO/tools/ilioctl"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load
/sbin/modprobe dm_delay || fatal "modprobe dm_delay failed"

MB=1048576
DATA_MB=4
DELAY_MS=2000
NAME=t32
DEV=/dev/mapper/$NAME
SLOW=t32slow
LSECT=$((64 * 2048))		# 64 MiB logical
# RAM for all of the data unwritten; a flush interval that never fires.
TBL="0 $LSECT ilio /dev/mapper/$SLOW 128 4 coalesce always flush_interval_ms 600000"

brd_setup 96 2
BSECT=$(dev_sectors /dev/ram0)
assert_cmd "ilioctl format /dev/ram0 (64 KiB segments)" -- \
	"$ILIOCTL" format /dev/ram0 --segment-kb 64
assert_cmd "dm-delay over ram0: writes held $DELAY_MS ms" -- \
	dmsetup create $SLOW --table "0 $BSECT delay /dev/ram0 0 0 /dev/ram0 0 $DELAY_MS"
snode=$(dm_node $SLOW) || fatal "no dm node for $SLOW"
assert_cmd "create ilio over $SLOW" -- dmsetup create $NAME --table "$TBL"
head -c $((DATA_MB * MB)) /dev/urandom >"$T_TMP/data" || fatal "no test data"

# /sys/block/dm-N/stat: field 5 writes completed, 8 ms spent by writes
# (summed over the writes), 10 ms the device was busy.
read -r -a s0 <"/sys/block/$snode/stat"
t0=$(date +%s%N)
assert_cmd "write $DATA_MB MiB of unique data and fsync" -- \
	dd if="$T_TMP/data" of=$DEV bs=1M oflag=direct conv=fsync status=none
t1=$(date +%s%N)
read -r -a s1 <"/sys/block/$snode/stat"
ms=$(((t1 - t0) / 1000000))
writes=$((s1[4] - s0[4]))
wticks=$((s1[7] - s0[7]))
busy=$((s1[9] - s0[9]))
log "write + fsync: $ms ms; backend: $writes writes, $wticks ms of write time over $busy ms busy"
assert_ge "$writes" $((DATA_MB * 16)) "the data reached the backend ($writes writes)"
assert_ge "$((wticks / (busy ? busy : 1)))" 4 \
	"writes in flight on average while the backend was busy ($wticks / $busy ms)"
assert_le "$ms" $(((writes - 1) * DELAY_MS)) \
	"faster than one write after another ($writes x $DELAY_MS ms)"
assert_eq "$(status_field $NAME 1)" write "mode is still write"

assert_cmd "power cut after the fsync: copy the backing disk to ram1" -- \
	dd if=/dev/ram0 of=/dev/ram1 bs=1M iflag=direct oflag=direct status=none
assert_cmd "remove" -- dmsetup remove $NAME
assert_cmd "remove $SLOW" -- dmsetup remove $SLOW
CUT="0 $LSECT ilio /dev/ram1 128 4 coalesce always flush_interval_ms 600000"
assert_cmd "create ilio over the copy (recovery)" -- dmsetup create $NAME --table "$CUT"
assert_cmd "every fsync'ed byte reads back from the copy" -- \
	cmp_dev $DEV 0 $((DATA_MB * MB)) "$T_TMP/data"
assert_eq "$(dmsetup message $NAME 0 check 2>&1)" ok "check: store consistent"
assert_cmd "remove" -- dmsetup remove $NAME
assert_cmd "rmmod dm_ilio" -- ilio_unload
finish
