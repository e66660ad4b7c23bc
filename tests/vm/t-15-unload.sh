#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-15-unload: dm-ilio can be unloaded and gives back what it took: rmmod is
# refused while a device exists, "dmsetup remove" is refused while the device
# is open, the module refcount follows the devices, and three cycles of
# load / create two devices / write 128 MiB / remove / rmmod leave
# MemAvailable, unreclaimable slab and vmalloc use where they were (a leaked
# RAM store would show as ~128 MiB per cycle).
#
# vm-args: --mem 3072 --timeout 900
# vm-time: 63

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup dd
MB=1048576

# Load everything except ilio once, so its memory is in the baseline.
ilio_load
assert_cmd "rmmod dm_ilio (first)" -- ilio_unload

snapshot() {
	drop_caches
	sleep 1
	echo "$(mem_kb MemAvailable) $(mem_kb SUnreclaim) $(mem_kb VmallocUsed)"
}

read -r avail0 slab0 vmalloc0 < <(snapshot)
log "baseline: MemAvailable=${avail0}kB SUnreclaim=${slab0}kB VmallocUsed=${vmalloc0}kB"

for cycle in 1 2 3; do
	ilio_load
	assert_eq "$(cat /sys/module/dm_ilio/refcnt)" 0 "cycle $cycle: refcnt 0 with no device"
	dmsetup create t15a --table "0 $((512 * 2048)) ilio - 256" ||
		fatal "cycle $cycle: create t15a"
	dmsetup create t15b --table "0 $((512 * 2048)) ilio - 256 6 dedup off compress none block_size 512" ||
		fatal "cycle $cycle: create t15b"
	assert_ge "$(cat /sys/module/dm_ilio/refcnt)" 1 "cycle $cycle: refcnt > 0 with devices"
	assert_fails "cycle $cycle: rmmod refused while devices exist" -- /sbin/rmmod dm_ilio
	dd if=/dev/urandom of=/dev/mapper/t15a bs=1M count=64 oflag=direct status=none
	dd if=/dev/urandom of=/dev/mapper/t15b bs=1M count=64 oflag=direct status=none
	dd if=/dev/zero of=/dev/mapper/t15a bs=1M seek=100 count=8 oflag=direct status=none
	dd if=/dev/mapper/t15a of=/dev/null bs=1M count=64 iflag=direct status=none
	dd if=/dev/mapper/t15b of=/dev/null bs=1M count=64 iflag=direct status=none
	assert_ge "$(status_field t15a 3)" $((60 * MB)) "cycle $cycle: t15a holds data"

	# Open device: remove must fail (EBUSY) and leave it working.
	exec 7</dev/mapper/t15a
	assert_fails "cycle $cycle: remove refused while the device is open" -- dmsetup remove t15a
	exec 7<&-
	assert_cmd "cycle $cycle: remove t15a" -- dmsetup remove t15a
	assert_cmd "cycle $cycle: remove t15b" -- dmsetup remove t15b
	assert_eq "$(cat /sys/module/dm_ilio/refcnt)" 0 "cycle $cycle: refcnt back to 0"
	assert_cmd "cycle $cycle: rmmod dm_ilio" -- ilio_unload
	if [ -d /sys/module/dm_ilio ]; then
		fatal "cycle $cycle: dm_ilio still loaded"
	fi
done

read -r avail1 slab1 vmalloc1 < <(snapshot)
log "after: MemAvailable=${avail1}kB SUnreclaim=${slab1}kB VmallocUsed=${vmalloc1}kB"
# Tolerances: noise from the page cache and other slabs is a few MiB; one
# leaked RAM store would be 64-128 MiB.
assert_ge "$avail1" $((avail0 - 16 * 1024)) "MemAvailable within 16 MiB of the baseline"
assert_le "$slab1" $((slab0 + 4 * 1024)) "SUnreclaim within 4 MiB of the baseline"
assert_le "$vmalloc1" $((vmalloc0 + 4 * 1024)) "VmallocUsed within 4 MiB of the baseline"
assert_eq "$(dmsetup targets | grep -c '^ilio ' || true)" 0 "target ilio unregistered"
finish
