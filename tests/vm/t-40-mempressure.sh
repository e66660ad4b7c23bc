#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-40-mempressure: memory pressure never fails an I/O (trust #7 items 12
# and 13).  Proves, while stress-ng --vm holds the guest at its memory
# limit:
#  - a persistent device whose RAM budget ends up filled by metadata plus
#    the open segment (ram_mb chosen from a dry run of the same fio job, so
#    that at the end metadata + 1 segment fits but + 2 do not) takes fio's
#    4k random writes over 4 GiB and a blkdiscard, and fio's crc32c verify
#    passes: write-back drains the budget instead of failing with ENOMEM or
#    EAGAIN;
#  - at the same time a diskless device takes fio random writes (4k-64k)
#    with crc32c verify;
#  - then a persistent ilio device is the guest's only swap, and stress-ng
#    --vm --verify maps more than the guest's RAM: pages go out to ilio
#    (swap used is asserted) and come back checked; swapoff reads it all
#    back.
# Asserted throughout: no I/O error in the kernel log, every device stays
# in mode write with ram_used_bytes <= ram_limit_bytes, no ENOSPC, no hung
# task (hung_task_timeout_secs lowered to 20 s, dmesg has no "blocked for
# more than"), and (run.sh) no oops or WARNING.
#
# vm-args: --mem 768 --timeout 600 --disk t40p:256 --disk t40s:512
# vm-time: 232

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd fio dmsetup blkdiscard stress-ng mkswap swapon swapoff awk pgrep
ILIOCTL="$REPO/tools/ilioctl"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load

MB=1048576
SEG=$MB
PBACK=$(vm_disk t40p) || fatal "no t40p disk (vm-args --disk t40p:256)"
SBACK=$(vm_disk t40s) || fatal "no t40s disk (vm-args --disk t40s:512)"
P=t40p
D=t40d
S=t40s
PSECT=$((4096 * 2048))	# 4 GiB logical: 4k writes spread over it grow the map
DSECT=$((128 * 2048))

# The persistent job: 3072 random 4k writes over 4 GiB, the same LBAs every
# time (fixed seed), so the dry run predicts the metadata exactly.
FIO_P=(--name=p "--filename=/dev/mapper/$P" --rw=randwrite --bs=4k --size=4G
	--io_size=12M --ioengine=libaio --iodepth=8 --direct=1 --randrepeat=1
	--randseed=4040)

if [ -w /proc/sys/kernel/hung_task_timeout_secs ]; then
	echo 20 >/proc/sys/kernel/hung_task_timeout_secs
	pass "hung task detection at 20 s"
else
	fail "no /proc/sys/kernel/hung_task_timeout_secs: hung tasks go unseen"
fi
# Our own tools must survive the OOM killer; stress-ng is its target.
echo -1000 >/proc/self/oom_score_adj
# stress_ng ARGS...: stress-ng as the OOM killer's first choice.
stress_ng() {
	(cd "$T_TMP" && echo 1000 >/proc/self/oom_score_adj &&
		exec stress-ng --temp-path "$T_TMP" "$@")
}
spid=

dmesg_mark
cleanup() {
	swapoff "/dev/mapper/$S" 2>/dev/null
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
	dm_remove_prefix t40
}

f() { status_field "$1" "$2"; }

# --- persistent: find the budget that metadata + open segment fill --------
assert_cmd "format $PBACK" -- "$ILIOCTL" format "$PBACK"
assert_cmd "dry run: create $P, ram_mb 64" -- dmsetup create $P --table "0 $PSECT ilio $PBACK 64"
m0=$(sysfs_val $P metadata_bytes)
assert_cmd "dry run of the persistent job" -- fio "${FIO_P[@]}"
m1=$(sysfs_val $P metadata_bytes)
growth=$((m1 - m0))
log "metadata: $m0 empty, $m1 after the job: the job grows it by $growth bytes"
assert_ge "$growth" $((2 * MB)) "the job grows the metadata by more than two segments"
dmsetup remove $P
assert_cmd "re-format $PBACK" -- "$ILIOCTL" format --force "$PBACK"
# The smallest ram_mb that holds the final metadata plus one segment: at
# the end, metadata + open segment + the next one do not fit.
ram=
# m1 is the metadata at ram_mb 64 after the job: no smaller budget holds it.
for r in $(seq $((m1 / MB > 4 ? m1 / MB : 4)) 64); do
	if ! dmsetup create $P --table "0 $PSECT ilio $PBACK $r" 2>/dev/null; then
		dmsetup remove $P 2>/dev/null	# a failed resume leaves it behind
		continue
	fi
	m=$(sysfs_val $P metadata_bytes)
	if [ $((m + growth + SEG)) -le $((r * MB)) ]; then
		ram=$r
		break
	fi
	dmsetup remove $P
done
[ -n "$ram" ] || { cleanup; fatal "no ram_mb up to 64 holds the metadata of $P"; }
log "$P: ram_mb $ram, metadata $m + $growth, segment $SEG"
assert_le $((ram * MB - m - growth)) $((2 * SEG - 1)) \
	"budget left after the job's metadata is below two segments"

assert_cmd "create diskless $D, ram_mb 64" -- dmsetup create $D --table "0 $DSECT ilio - 64"

# --- both under stress-ng --vm --------------------------------------------
# One subshell that becomes stress-ng, so that $! is stress-ng itself.
(cd "$T_TMP" && echo 1000 >/proc/self/oom_score_adj &&
	exec stress-ng --temp-path "$T_TMP" --vm 1 --vm-bytes 90% --vm-keep \
		--timeout 300s) >"$T_TMP/stress1.log" 2>&1 &
spid=$!
# Until stress-ng holds the memory (about 5 s; at most 30 s).
for _ in $(seq 60); do
	avail=$(mem_kb MemAvailable)
	[ "$avail" -le $(($(mem_kb MemTotal) / 4)) ] && break
	kill -0 "$spid" 2>/dev/null || break
	sleep 0.5
done
log "MemAvailable under stress-ng: $avail kB of $(mem_kb MemTotal) kB"
if kill -0 "$spid" 2>/dev/null; then
	pass "stress-ng --vm is running"
else
	fail "stress-ng --vm is not running: $(tail -n 3 "$T_TMP/stress1.log")"
fi
assert_le "$avail" $(($(mem_kb MemTotal) / 4)) "stress-ng holds the guest near its memory limit (kB available)"
fio --name=d "--filename=/dev/mapper/$D" --rw=randwrite --bsrange=4k-64k --size=48M \
	--ioengine=libaio --iodepth=8 --direct=1 --verify=crc32c --verify_fatal=1 \
	--verify_dump=0 --randrepeat=0 >"$T_TMP/fio-d.log" 2>&1 &
dpid=$!
assert_cmd "persistent: fio 4k random writes over 4 GiB in a full budget" -- fio "${FIO_P[@]}"
assert_cmd "persistent: blkdiscard 64 MiB in the full budget" -- \
	blkdiscard -o $((64 * MB)) -l $((64 * MB)) "/dev/mapper/$P"
assert_cmd "persistent: the same job again, crc32c verify" -- fio "${FIO_P[@]}" \
	--verify=crc32c --verify_fatal=1 --verify_dump=0
wait "$dpid"
drc=$?
if [ "$drc" = 0 ]; then
	pass "diskless: fio random writes 4k-64k with crc32c verify under pressure"
else
	fail "diskless: fio exited $drc"
	tail -n 15 "$T_TMP/fio-d.log" | sed 's/^/  | /'
fi
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
spid=
for _ in 1 2 3 4 5 6 7 8 9 10; do
	pgrep -x stress-ng >/dev/null || break
	sleep 0.5
done
if pgrep -x stress-ng >/dev/null; then
	fail "stress-ng still running after it was stopped"
else
	pass "stress-ng stopped before the swap phase"
fi
for n in $P $D; do
	assert_eq "$(f $n 1)" write "$n: mode write"
	assert_eq "$(f $n 17)" 0 "$n: no ENOSPC"
	assert_le "$(f $n 5)" "$(f $n 6)" "$n: ram_used_bytes within the budget"
done
assert_ge "$(f $P 16)" $((12 * MB)) "$P: the data went to the backing device"
assert_eq "$(dmsetup message $P 0 check 2>&1)" ok "$P: check: store consistent"
assert_eq "$(dmsetup message $D 0 check 2>&1)" ok "$D: check: store consistent"
dmsetup remove $P
dmsetup remove $D

# --- swap on ilio under stress-ng --vm larger than RAM ---------------------
assert_cmd "format $SBACK" -- "$ILIOCTL" format "$SBACK"
assert_cmd "create $S: 1 GiB over 512 MiB, ram_mb 16" -- \
	dmsetup create $S --table "0 $((1024 * 2048)) ilio $SBACK 16"
assert_cmd "mkswap on $S" -- mkswap "/dev/mapper/$S"
assert_cmd "swapon $S" -- swapon "/dev/mapper/$S"
assert_eq "$(awk 'NR > 1 { n++ } END { print n + 0 }' /proc/swaps)" 1 "$S is the only swap"
total_kb=$(mem_kb MemTotal)
# One worker maps it all: stress-ng 0.15's second --vm worker exits at once
# when the first has taken the RAM (measured: 2 x 527M mapped only 527M in
# all, and nothing went to swap), so two workers did not exceed RAM.
want=$(((total_kb + 384 * 1024) / 1024))
log "stress-ng --vm 1 --vm-bytes ${want}M with ${total_kb} kB of RAM"
(
	while sleep 2; do
		echo $(($(mem_kb SwapTotal) - $(mem_kb SwapFree)))
	done >"$T_TMP/swapused"
) &
wpid=$!
# A second round is allowed if the first did not swap; one must.
for round in 1 2; do
	assert_cmd "stress-ng --vm --verify maps more than RAM, swaps onto ilio, checks every page (round $round)" -- \
		stress_ng --vm 1 --vm-bytes "${want}M" --vm-keep --vm-populate --verify --timeout 30s --metrics-brief
	grep -E 'fail|error' "$_T_LAST_OUT" | head -n 5 | sed 's/^/# /'
	peak=$(sort -n "$T_TMP/swapused" | tail -n 1)
	log "round $round: peak swap used on $S so far: ${peak:-0} kB"
	[ "${peak:-0}" -ge $((96 * 1024)) ] && break
done
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
peak=$(sort -n "$T_TMP/swapused" | tail -n 1)
log "peak swap used on $S: ${peak:-0} kB"
assert_ge "${peak:-0}" $((96 * 1024)) "at least 96 MiB went out to swap on ilio"
# stress-ng's worker may still be exiting (freeing its swapped pages);
# a swapoff before that has to fit them in RAM (the gate of stop 25 saw
# swapoff OOM-killed after a round that filled all 512 MiB of swap).
for _ in $(seq 60); do
	pgrep -x stress-ng >/dev/null || break
	sleep 0.5
done
log "before swapoff: swap used $(($(mem_kb SwapTotal) - $(mem_kb SwapFree))) kB, MemAvailable $(mem_kb MemAvailable) kB"
assert_cmd "swapoff $S (reads every swapped page back)" -- swapoff "/dev/mapper/$S"
assert_eq "$(f $S 1)" write "$S: mode write"
assert_eq "$(f $S 17)" 0 "$S: no ENOSPC"
assert_le "$(f $S 5)" "$(f $S 6)" "$S: ram_used_bytes within the budget"
assert_eq "$(dmsetup message $S 0 check 2>&1)" ok "$S: check: store consistent"
dmsetup remove $S

# --- the kernel's view ------------------------------------------------------
if dmesg_since | grep -E 'at sector [0-9]+ failed|I/O error|Buffer I/O|Write-error on swap|Read-error on swap|read-only mode' >"$T_TMP/ioerr"; then
	fail "I/O errors in the kernel log: $(head -n 3 "$T_TMP/ioerr")"
else
	pass "no I/O error in the kernel log"
fi
if dmesg_since | grep -q 'blocked for more than'; then
	fail "hung task: $(dmesg_since | grep -m 1 'blocked for more than')"
else
	pass "no hung task"
fi
log "OOM kills during the run: $(dmesg_since | grep -c 'Out of memory')"
cleanup
finish
