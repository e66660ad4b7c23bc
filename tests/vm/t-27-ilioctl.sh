#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-27-ilioctl: ilioctl's admin commands against the real module (issue
# #10): activate, message, list, --readonly.
#  - "activate DEV" on a store never activated refuses without --size; with
#    --size it creates the device, whose data (dedup- and
#    compression-friendly) is read back byte for byte after "ilioctl
#    remove" and "ilioctl activate DEV" with no --size and no --name: the
#    size comes from the store's anchor, the name is ilio-<uuid prefix>;
#    another --size is then refused (dry run), and so is a create over the
#    store while it is in use; a remove while a process holds the device
#    open is refused, saying so;
#  - "list" shows the device with its logical size, persistent mode and
#    the backing device's fill; --bytes prints the exact size;
#  - "message": check answers the kernel's "ok", checkpoint and gc answer,
#    checkpoint on a diskless device is refused clearly, and gc there
#    answers the compactor's "compacted 0 segments" with its reason;
#  - diskless "status" leaves out the persistent-only rows that its JSON
#    keeps (at 0), and "list --json" leads each object with schema_version;
#  - boot-like: the unit that tools/systemd/ilio-generator writes for an
#    iliotab line has an ExecStart= that activates the store with the
#    line's options (data intact) and an ExecStop= that removes it;
#  - the admin guide's persistent device end to end, with every persistent
#    option of create for real (coalesce, flush interval, max dirty, a
#    journal: they reach the TABLE line, an fsync goes to the journal),
#    then create --readonly --journal (data intact, writes fail) and
#    "dmsetup create --uuid" (dmsetup info -o name,uuid shows it);
#  - "--readonly": the block device is read-only and a write fails (EPERM:
#    the disk of a read-only table is read-only, so the block layer refuses
#    it before the target sees it; "blockdev --setrw" cannot clear that),
#    the data reads back, gc is refused as read-only while check answers
#    "ok", and list shows "persistent,ro";
#  - "hints apply --dry-run" on an ext4 mounted on a diskless device gives
#    the sectors FIEMAP reports (they hold the file's bytes), also for the
#    pagefile inside a raw NTFS image stored there; a real apply puts the
#    library in a pin range and the pagefile in nocache ranges of the
#    module's class map, "hints show" renders it, bad hint messages are
#    refused with nothing changed, and "hint clear" empties it; 70 ranges
#    go in two messages of up to 64, and the map then equals --dry-run's
#    ranges sector for sector;
#  - on a persistent device the class map is saved: it comes back after
#    remove and create (read-only as well, where a new hint holds in RAM
#    only), and after a table reload; a hint message of 3 ranges applies
#    them in order, one of 64 is taken, and one of 65 or with a range past
#    the end changes nothing;
#  - per-class statistics on a persistent device with a pin and a nocache
#    range: after an fsync'ed write every <class>_dirty_bytes file is 0;
#    after clear_stats, two direct passes over the 256 pinned blocks give
#    exactly 512 pin hits and no pin miss and nothing in normal or temp;
#    two passes over the 512 nocache blocks count 1024 nocache reads and
#    nocache_cache_bytes stays 0; the class sums are cache_hits,
#    cache_misses and cache_bytes; "status --json" has the 16 keys with the
#    sysfs values (null on a diskless device), and "hints show" prints
#    the per-class table;
#  - late write-back of temp data (issue 12): with a temp range and the
#    default 1 s flush interval, a normal 64 KiB write is written back
#    within 2 s, while four versions of 64 KiB in the temp range stay dirty
#    (nothing reaches the LUN); an fsync writes the last version only (the
#    3 older ones are counted in elided_bytes) and it reads back.
#
# vm-args: --mem 1024 --timeout 300 --disk t27:128
# vm-time: 103

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup blockdev cmp dd python3 mkfs.ext4 mount umount mkntfs ntfscp
ILIOCTL="$REPO/tools/ilioctl"
BLKPAT="$REPO/tests/vm/blkpat.py"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load

BACK=$(vm_disk t27) || fatal "no t27 disk (vm-args --disk t27:128)"
SIZE=$((256 * 1048576))		# 256 MiB logical over 128 MiB
DATA_BLOCKS=2048		# 8 MiB of golden data

# out_is DESC WANT: the last command's output is exactly WANT.
out_is() {
	assert_eq "$(last_output)" "$2" "$1"
}

assert_cmd "format $BACK" -- "$ILIOCTL" format "$BACK"
assert_fails "activate: never activated, no --size" -- "$ILIOCTL" activate "$BACK"
last_output | grep -q "records no logical size yet: give --size once" &&
	pass "activate says why" || fail "activate: no reason given: $(last_output)"
assert_cmd "activate --size 256M --ram 64M --name t27" -- \
	"$ILIOCTL" activate "$BACK" --size 256M --ram 64M --name t27
out_is "activate prints the device" /dev/mapper/t27
assert_eq "$(blockdev --getsize64 /dev/mapper/t27)" $SIZE "logical size"

assert_cmd "golden data" -- python3 "$BLKPAT" gen "$T_TMP/gold" $DATA_BLOCKS \
	--seed 27 --tag t27 --dup 30 --comp 60
assert_cmd "write it" -- dd if="$T_TMP/gold" of=/dev/mapper/t27 bs=64k \
	oflag=direct conv=fsync status=none

assert_cmd "message check" -- "$ILIOCTL" message t27 check
out_is "check answers the kernel's ok" ok
assert_cmd "message checkpoint" -- "$ILIOCTL" message t27 checkpoint
out_is "checkpoint answers" "checkpoint written"
assert_cmd "message gc" -- "$ILIOCTL" message t27 gc
[[ "$(last_output)" =~ ^cleaned\ [0-9]+\ segments$ ]] &&
	pass "gc answers: $(last_output)" || fail "gc answer: $(last_output)"

assert_cmd "message compact" -- "$ILIOCTL" message t27 compact
[[ "$(last_output)" =~ ^(cleaned|compacted)\ [0-9]+\ segments ]] &&
	pass "compact answers: $(last_output)" || fail "compact answer: $(last_output)"
assert_cmd "iostat: one live sample" -- "$ILIOCTL" iostat t27 --interval 1 --count 1
grep -q "^t27 " "$_T_LAST_OUT" && pass "iostat shows t27" || fail "iostat: $(last_output)"
assert_cmd "status --bytes" -- "$ILIOCTL" status t27 --bytes
grep -q "$SIZE" "$_T_LAST_OUT" && pass "status --bytes: the size in bytes" ||
	fail "status --bytes: $(last_output)"
assert_ge "$(sysfs_val t27 front_write_ios)" 1 "front writes counted"
assert_cmd "message clear_stats" -- "$ILIOCTL" message t27 clear_stats
assert_eq "$(sysfs_val t27 front_write_ios)" 0 "clear_stats zeroes the front counters"
dd if=/dev/mapper/t27 of=/dev/null bs=4k count=1 iflag=direct status=none
assert_cmd "clear-stats" -- "$ILIOCTL" clear-stats t27
assert_eq "$(sysfs_val t27 front_read_ios)" 0 "clear-stats zeroes them too"

assert_cmd "list" -- "$ILIOCTL" list --noheadings
line=$(grep '^t27 ' "$_T_LAST_OUT")
log "list: $line"
read -r n mode size _ <<<"$line"
assert_eq "$n $mode $size" "t27 persistent 256.00" "list: name, mode, size"
[[ "$line" =~ [0-9.]+%$ ]] && pass "list: backend fill ${line##* }" ||
	fail "list: no backend fill: $line"
assert_cmd "list --bytes" -- "$ILIOCTL" list --bytes --noheadings
assert_eq "$(awk '$1 == "t27" { print $3 }' "$_T_LAST_OUT")" $SIZE "list --bytes: size"
assert_cmd "list --si" -- "$ILIOCTL" list --si --noheadings
assert_eq "$(awk '$1 == "t27" { print $3 }' "$_T_LAST_OUT")" 268.44 "list --si: size (MB)"

assert_cmd "list --json" -- "$ILIOCTL" list --json
assert_cmd "list --json: the device, its size and fill" -- python3 -c '
import json, sys
d = [x for x in json.load(open(sys.argv[1]))["devices"] if x["name"] == "t27"]
assert len(d) == 1, d
d = d[0]
assert d["mode"] == "persistent" and d["disksize"] == int(sys.argv[2]), d
assert isinstance(d["fill"], float) and 0 < d["fill"] < 100, d
assert 0 < d["data"] <= int(sys.argv[3]) and 0 < d["stored"] < d["data"], d
' "$_T_LAST_OUT" $SIZE $((DATA_BLOCKS * 4096))

assert_fails "create over the store in use (dry run)" -- \
	"$ILIOCTL" create t27b --backing "$BACK" --size 256M --ram 64M --dry-run
grep -q "$BACK is in use (held by dm-" "$_T_LAST_OUT" &&
	pass "in use: says who holds it" || fail "in use: $(last_output)"

exec 3</dev/mapper/t27
assert_fails "remove while open" -- "$ILIOCTL" remove t27
grep -q "device 't27' is busy (open count 1: open by a process: see fuser -vm /dev/mapper/t27)" \
	"$_T_LAST_OUT" && pass "busy remove says who holds it" || fail "busy remove: $(last_output)"
exec 3<&-
assert_cmd "ilioctl remove t27" -- "$ILIOCTL" remove t27
uuid=$("$ILIOCTL" info "$BACK" | sed -n 's/^ *uuid  *//p')
NAME=ilio-${uuid:0:8}
assert_fails "activate: another --size is refused" -- \
	"$ILIOCTL" activate "$BACK" --size 512M --dry-run
grep -q "records a logical size of 256.00 MiB (268435456 bytes), not 512.00 MiB" \
	"$_T_LAST_OUT" && pass "another size: says why" ||
	fail "another size: $(last_output)"
assert_cmd "activate DEV (no --size, no --name)" -- "$ILIOCTL" activate "$BACK"
out_is "default name ilio-<uuid prefix>" "/dev/mapper/$NAME"
assert_eq "$(blockdev --getsize64 "/dev/mapper/$NAME")" $SIZE "size from the store"
assert_cmd "data read back byte for byte" -- cmp_dev "/dev/mapper/$NAME" 0 \
	$((DATA_BLOCKS * 4096)) "$T_TMP/gold"
assert_cmd "remove" -- "$ILIOCTL" remove "$NAME"

assert_cmd "activate --readonly" -- "$ILIOCTL" activate "$BACK" --readonly --name t27ro
assert_eq "$(blockdev --getro /dev/mapper/t27ro)" 1 "the block device is read-only"
assert_cmd "read-only: data reads back" -- cmp_dev /dev/mapper/t27ro 0 \
	$((DATA_BLOCKS * 4096)) "$T_TMP/gold"
assert_fails "read-only: a write fails" -- dd if=/dev/zero of=/dev/mapper/t27ro \
	bs=4k count=1 oflag=direct status=none
last_output | grep -qE "Operation not permitted|Read-only file system|Input/output error" &&
	pass "read-only write refused: $(last_output)" || fail "read-only write: $(last_output)"
assert_fails "read-only: gc refused" -- "$ILIOCTL" message t27ro gc
grep -q "'gc' refused: the device is read-only" "$_T_LAST_OUT" &&
	pass "gc refusal says read-only" || fail "gc refusal: $(last_output)"
assert_cmd "read-only: check" -- "$ILIOCTL" message t27ro check
out_is "read-only: check ok" ok
assert_cmd "list (read-only)" -- "$ILIOCTL" list --noheadings
assert_eq "$(awk '$1 == "t27ro" { print $2 }' "$_T_LAST_OUT")" persistent,ro \
	"list: mode persistent,ro"
assert_cmd "remove the read-only device" -- "$ILIOCTL" remove t27ro

# Boot-like: the generator's unit for an iliotab line, its ExecStart= and
# ExecStop= run as systemd would run them (read-write again after the
# read-only activation: the data is intact).
printf '# test\nt27gen  %s  ram=64M,coalesce=always,nofail\n' "$BACK" >"$T_TMP/iliotab"
mkdir -p "$T_TMP/gen"
assert_cmd "ilio-generator on an iliotab" -- env ILIOTAB="$T_TMP/iliotab" ILIOCTL="$ILIOCTL" \
	sh "$REPO/tools/systemd/ilio-generator" "$T_TMP/gen"
unit=$T_TMP/gen/ilio-t27gen.service
start=$(sed -n 's/^ExecStart=//p' "$unit")
stop=$(sed -n 's/^ExecStop=//p' "$unit")
assert_eq "$start" "$ILIOCTL activate $BACK --name t27gen --ram=64M --coalesce=always" \
	"the unit's ExecStart="
# shellcheck disable=SC2086
assert_cmd "ExecStart= activates" -- $start
assert_cmd "the generated device: data intact" -- cmp_dev /dev/mapper/t27gen 0 \
	$((DATA_BLOCKS * 4096)) "$T_TMP/gold"
assert_eq "$(dmsetup table t27gen | grep -o 'coalesce [a-z]*')" "coalesce always" \
	"the iliotab options reach the table"
# shellcheck disable=SC2086
assert_cmd "ExecStop= removes" -- $stop
assert_fails "gone after ExecStop=" -- dmsetup info t27gen

# The admin guide's "A persistent device, end to end", for real and with
# every persistent option create has (--dry-run aside, nothing else loads
# them): over brd, with a journal; then --readonly --journal; then a dm
# UUID given to dmsetup create --uuid.
brd_setup 64 2
L=/dev/ram0
J=/dev/ram1
jmm=$(($(stat -Lc '0x%t' $J))):$(($(stat -Lc '0x%T' $J)))
assert_cmd "format $L --journal $J" -- "$ILIOCTL" format $L --journal $J
assert_cmd "create --backing --journal --coalesce always --flush-interval-ms --max-dirty" -- \
	"$ILIOCTL" create t27p --backing $L --journal $J --size 128M --ram 32M \
	--coalesce always --flush-interval-ms 250 --max-dirty 8M
assert_eq "$(dmsetup table t27p | cut -d' ' -f6-)" \
	"14 dedup on compress lz4 block_size 4096 coalesce always flush_interval_ms 250 max_dirty_mb 8 journal $jmm" \
	"the options reach the table"
assert_cmd "status t27p" -- "$ILIOCTL" status t27p
assert_cmd "write the golden data, fsync'ed" -- \
	dd if="$T_TMP/gold" of=/dev/mapper/t27p bs=64k oflag=direct conv=fsync status=none
assert_cmd "16 synchronous 4 KiB writes (O_DSYNC) past it" -- dd if=/dev/urandom \
	of=/dev/mapper/t27p bs=4k seek=$((64 * 256)) count=16 oflag=direct,dsync status=none
assert_ge "$(sysfs_val t27p journal_writes)" 8 "the synchronous writes went to the journal (most of the 16)"
# The class map is saved on the backing device: it comes back after remove
# and create (read-only too), and after a table reload.
assert_cmd "persistent: hint pin" -- dmsetup message t27p 0 hint pin 8 4096
assert_cmd "persistent: hint nocache" -- dmsetup message t27p 0 hint nocache 65536 2048
assert_cmd "persistent: hint temp, then a hole cleared" -- sh -c \
	"dmsetup message t27p 0 hint temp 100000 800 && dmsetup message t27p 0 hint clear 100200 8"
assert_cmd "persistent: hints" -- dmsetup message t27p 0 hints
p_hints=$(cat "$_T_LAST_OUT")
[ "$(sed -n 1p "$_T_LAST_OUT" | cut -d' ' -f1-2)" = "ranges 4" ] &&
	pass "persistent: 4 ranges in the map" || fail "persistent: map: $p_hints"
assert_cmd "remove t27p" -- "$ILIOCTL" remove t27p
assert_cmd "info $L" -- "$ILIOCTL" info $L
last_output | grep -Eq 'class map slot [01] +4 ranges, generation [0-9]+' &&
	pass "info: the saved class map (4 ranges)" || fail "info: $(last_output | grep 'class map')"
last_output | grep -q 'journal *bound, generation 1' &&
	pass "info: journal bound" || fail "info: $(last_output | grep journal)"
assert_cmd "create --readonly --journal" -- \
	"$ILIOCTL" create t27pr --backing $L --journal $J --size 128M --ram 32M --readonly
assert_eq "$(status_field t27pr 1)" read-only "create --readonly: mode read-only"
assert_cmd "create --readonly: data reads back" -- cmp_dev /dev/mapper/t27pr 0 \
	$((DATA_BLOCKS * 4096)) "$T_TMP/gold"
assert_fails "create --readonly: a write fails" -- dd if=/dev/zero of=/dev/mapper/t27pr \
	bs=4k count=1 oflag=direct status=none
assert_cmd "create --readonly: hints" -- dmsetup message t27pr 0 hints
[ "$(cat "$_T_LAST_OUT")" = "$p_hints" ] &&
	pass "the saved class map came back (read-only)" || fail "read-only map: $(last_output)"
assert_cmd "create --readonly: a hint holds in RAM" -- dmsetup message t27pr 0 hint pin 200000 8
assert_cmd "remove t27pr" -- "$ILIOCTL" remove t27pr
# The pipe form of the admin guide and dm-ilio(4), with a feature.
assert_cmd "echo TABLE | dmsetup create --uuid" -- sh -c \
	"echo '0 $((128 * 2048)) ilio $L 32 4 coalesce always journal $J' | dmsetup create t27u --uuid ILIO-TEST-t27u"
assert_eq "$(dmsetup info -c --noheadings -o name,uuid t27u)" "t27u:ILIO-TEST-t27u" \
	"dmsetup info -c -o name,uuid shows it"
assert_cmd "dmsetup create --uuid: data reads back" -- cmp_dev /dev/mapper/t27u 0 \
	$((DATA_BLOCKS * 4096)) "$T_TMP/gold"
assert_cmd "dmsetup create: hints" -- dmsetup message t27u 0 hints
[ "$(cat "$_T_LAST_OUT")" = "$p_hints" ] &&
	pass "the class map came back after remove and create (the read-only hint was not saved)" ||
	fail "re-created map: $(last_output)"
assert_cmd "reload the same table" -- sh -c \
	"dmsetup table t27u | dmsetup reload t27u && dmsetup suspend t27u && dmsetup resume t27u"
assert_cmd "after the reload: hints" -- dmsetup message t27u 0 hints
[ "$(cat "$_T_LAST_OUT")" = "$p_hints" ] &&
	pass "the class map survives a table reload" || fail "reloaded map: $(last_output)"
# Several ranges in one hint message (up to 64), applied in order as one
# change: a refused message, at whichever range, changes nothing.
assert_cmd "hint message with 3 ranges" -- \
	dmsetup message t27u 0 hint pin 200000 8 temp 200004 8 clear 200002 1
assert_cmd "hints after it" -- dmsetup message t27u 0 hints
b_hints=$(cat "$_T_LAST_OUT")
[ "$(sed -n 1p <<<"$b_hints" | cut -d' ' -f1-2)" = "ranges 7" ] &&
	grep -qx 'pin 200000 2' <<<"$b_hints" && grep -qx 'pin 200003 1' <<<"$b_hints" &&
	grep -qx 'temp 200004 8' <<<"$b_hints" &&
	pass "the 3 ranges applied in order (the later wins): pin 2, pin 1, temp 8" ||
	fail "3-range message: $b_hints"
assert_fails "a message whose second range is past the end" -- \
	dmsetup message t27u 0 hint pin 210000 8 nocache 262140 8
h65=()
for i in $(seq 0 64); do h65+=(pin $((220000 + 2 * i)) 1); done
assert_fails "a message of 65 ranges" -- dmsetup message t27u 0 hint "${h65[@]}"
assert_cmd "hints after the refusals" -- dmsetup message t27u 0 hints
[ "$(cat "$_T_LAST_OUT")" = "$b_hints" ] &&
	pass "refused multi-range messages changed nothing" || fail "map changed: $(last_output)"
assert_cmd "a message of 64 ranges" -- dmsetup message t27u 0 hint "${h65[@]:0:192}"
assert_cmd "hints after 64" -- dmsetup message t27u 0 hints
[ "$(sed -n 1p "$_T_LAST_OUT" | cut -d' ' -f1-2)" = "ranges 71" ] &&
	pass "64 ranges in one message: 7 + 64 in the map" || fail "64-range message: $(last_output)"
assert_cmd "clear them" -- dmsetup message t27u 0 hint clear 220000 128
assert_cmd "hints after the clear" -- dmsetup message t27u 0 hints
[ "$(cat "$_T_LAST_OUT")" = "$b_hints" ] &&
	pass "hint clear took the 64 out again" || fail "after clear: $(last_output)"
ck0=$(sysfs_val t27u checkpoints)
assert_cmd "dmsetup message t27u 0 checkpoint (dm-ilio(4))" -- dmsetup message t27u 0 checkpoint
assert_eq "$(sysfs_val t27u checkpoints)" $((ck0 + 1)) "the message wrote a checkpoint"
assert_ge "$(status_field t27u 13)" 1 "the reads went to the backend"
assert_cmd "dmsetup message t27u 0 clear_stats (dm-ilio(4))" -- dmsetup message t27u 0 clear_stats
assert_eq "$(status_field t27u 13)" 0 "clear_stats: backend reads at 0"
assert_cmd "dmsetup remove t27u" -- dmsetup remove t27u
brd_teardown

assert_cmd "diskless device" -- "$ILIOCTL" create t27d --diskless --size 64M --ram 16M
assert_fails "diskless: checkpoint refused" -- "$ILIOCTL" message t27d checkpoint
grep -q "'checkpoint' needs a persistent device (t27d is diskless)" "$_T_LAST_OUT" &&
	pass "checkpoint refusal is clear" || fail "checkpoint refusal: $(last_output)"
assert_cmd "diskless: check" -- "$ILIOCTL" message t27d check
out_is "diskless: check ok" ok
assert_cmd "diskless: gc" -- "$ILIOCTL" message t27d gc
out_is "diskless: gc is the compactor, and says why it did nothing" \
	"compacted 0 segments: no sealed RAM segment is at most 3/4 live"
assert_cmd "diskless: status" -- "$ILIOCTL" status t27d
rows=$(grep -cE '^  (dirty|cache hits / misses|flushes|GC moved|GC freed segments|backend fill) ' "$_T_LAST_OUT")
assert_eq "$rows" 0 "diskless status: no persistent-only rows"
assert_eq "$(grep -c '^  dedup hits ' "$_T_LAST_OUT")" 1 "diskless status: the other rows are there"
assert_cmd "diskless: status --json" -- "$ILIOCTL" status --json t27d
assert_cmd "diskless JSON keeps the persistent-only keys, at 0" -- python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))[0]
assert d["diskless"] is True
for k in ("dirty_bytes", "cache_hits", "flushes", "gc_freed_segments", "backend_bytes"):
    assert d[k] == 0, (k, d[k])
for c in ("normal", "pin", "nocache", "temp"):
    for k in ("cache_hits", "cache_misses", "cache_bytes", "dirty_bytes"):
        assert d[c + "_" + k] is None, (c, k, d[c + "_" + k])
' "$_T_LAST_OUT"
assert_cmd "list --json with a device" -- "$ILIOCTL" list --json
assert_cmd "list --json: schema_version leads the object" -- python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["devices"]
assert [x["name"] for x in d] == ["t27d"] and list(d[0])[0] == "schema_version", d
assert d[0]["schema_version"] == 1 and d[0]["fill"] is None, d
' "$_T_LAST_OUT"
# hints (issue 12, userspace side) on a mounted ext4: FIEMAP gives the
# file's sectors on the ilio device (read back from there byte for byte),
# and the module's class map takes what apply sends.
assert_cmd "hints: mkfs.ext4 on t27d" -- mkfs.ext4 -q -F /dev/mapper/t27d
mkdir -p "$T_TMP/mnt"
assert_cmd "hints: mount" -- mount /dev/mapper/t27d "$T_TMP/mnt"
mkdir -p "$T_TMP/mnt/usr/lib" "$T_TMP/mnt/home"
head -c 65536 /dev/urandom >"$T_TMP/mnt/usr/lib/libt27.so"
head -c 8192 /dev/urandom >"$T_TMP/mnt/home/notes"
# A raw NTFS disk image stored on it (the NFS datastore case): the runs of
# its pagefile come through the image file's FIEMAP extents.
head -c 262144 /dev/urandom >"$T_TMP/pf"
truncate -s 16M "$T_TMP/w.img"
assert_cmd "hints: mkntfs an image" -- mkntfs -F -Q -q "$T_TMP/w.img"
assert_cmd "hints: ntfscp its pagefile" -- ntfscp -q "$T_TMP/w.img" "$T_TMP/pf" /pagefile.sys
mkdir -p "$T_TMP/mnt/vm"
cp "$T_TMP/w.img" "$T_TMP/mnt/vm/w.img"
assert_cmd "hints apply --dry-run on the mounted filesystem" -- \
	"$ILIOCTL" hints apply t27d --dry-run
run_line=$(grep -P '^run\tpin\t[0-9]+\t[0-9]+\t/usr/lib/libt27.so$' "$_T_LAST_OUT")
grep -qP '^fs\text4\t0\t131072\tmounted on ' "$_T_LAST_OUT" &&
	pass "hints: the mounted filesystem is walked" || fail "hints: fs line: $(last_output)"
grep -q /home/notes "$_T_LAST_OUT" && fail "hints: an unmatched file is listed" ||
	pass "hints: only matched files"
start=$(cut -f3 <<<"$run_line")
nr=$(cut -f4 <<<"$run_line")
if [ -n "$start" ] && [ "$nr" = 128 ] &&
	cmp <(dd if=/dev/mapper/t27d bs=512 skip="$start" count="$nr" status=none) \
		"$T_TMP/mnt/usr/lib/libt27.so"; then
	pass "hints: the FIEMAP sectors hold the file's bytes"
else
	fail "hints: run '$run_line' is not the file's data"
fi
pf_runs=$(grep -P '^run\tnocache\t[0-9]+\t[0-9]+\t/vm/w.img::/pagefile.sys$' "$_T_LAST_OUT")
: >"$T_TMP/pf.got"
while IFS=$'\t' read -r _ _ start nr _; do
	dd if=/dev/mapper/t27d bs=512 skip="$start" count="$nr" status=none >>"$T_TMP/pf.got"
done <<<"$pf_runs"
if [ -n "$pf_runs" ] && cmp "$T_TMP/pf.got" "$T_TMP/pf"; then
	pass "hints: the image's pagefile runs, composed with FIEMAP, hold its bytes"
else
	fail "hints: image runs '$pf_runs' are not the pagefile's data"
fi
# The region classes in the module: apply sends them, "hints" lists them,
# and a bad message is refused with nothing changed.
assert_cmd "hints apply" -- "$ILIOCTL" hints apply t27d
grep -qP '^t27d: [0-9]+ ranges of [0-9]+ files sent' "$_T_LAST_OUT" &&
	pass "hints apply says what it sent" || fail "hints apply: $(last_output)"
assert_cmd "dmsetup message hints" -- dmsetup message t27d 0 hints
hints_before=$(cat "$_T_LAST_OUT")
head -n 1 "$_T_LAST_OUT" | grep -qP '^ranges [1-9][0-9]* 4096 [0-9]+$' &&
	pass "hints: the map's header line" || fail "hints: header: $(last_output)"
lib_start=$(cut -f3 <<<"$run_line")
lib_end=$((lib_start + $(cut -f4 <<<"$run_line")))
python3 - "$_T_LAST_OUT" "$lib_start" "$lib_end" "$pf_runs" <<'PY' &&
import sys
lines = open(sys.argv[1]).read().split("\n")[1:]
ranges = [(c, int(s), int(s) + int(n)) for c, s, n in (l.split() for l in lines if l.strip())]
def covered(cls, a, b):
    return any(c == cls and s <= a and b <= e for c, s, e in ranges)
assert covered("pin", int(sys.argv[2]), int(sys.argv[3])), ranges
for l in sys.argv[4].splitlines():
    f = l.split("\t")
    assert covered("nocache", int(f[2]), int(f[2]) + int(f[3])), (l, ranges)
assert all(ranges[i][2] <= ranges[i + 1][1] for i in range(len(ranges) - 1)), ranges
PY
	pass "hints: the library is pin and the image's pagefile nocache in the map" ||
	fail "hints: map: $hints_before"
assert_fails "hint with an unknown class" -- dmsetup message t27d 0 hint hot 0 8
assert_fails "hint of 0 sectors" -- dmsetup message t27d 0 hint pin 0 0
assert_fails "hint past the end" -- dmsetup message t27d 0 hint pin 131000 100
assert_fails "hints with an argument" -- dmsetup message t27d 0 hints all
assert_cmd "dmsetup message hints after the refusals" -- dmsetup message t27d 0 hints
[ "$(cat "$_T_LAST_OUT")" = "$hints_before" ] &&
	pass "refused hints changed nothing" || fail "hints changed: $(last_output)"
assert_cmd "hints apply DEV (/dev/mapper/t27d)" -- "$ILIOCTL" hints apply /dev/mapper/t27d
assert_cmd "hints show" -- "$ILIOCTL" hints show t27d
grep -qP '^t27d: [0-9]+ ranges \(at most 4096\)' "$_T_LAST_OUT" && grep -q '^pin ' "$_T_LAST_OUT" &&
	pass "hints show renders the map" || fail "hints show: $(last_output)"
# apply sends 64 ranges a message: 70 files that the rules pin, each one
# between two that they do not, give 70 ranges (71 with the clear), two
# messages; the module's map is then exactly what --dry-run printed.
mkdir -p "$T_TMP/mnt/batch"
# (Delayed allocation places them at the sync in the order they were
# written, so one sync is enough to interleave them.)
for i in $(seq -w 0 69); do
	head -c 4096 /dev/urandom >"$T_TMP/mnt/batch/a$i.so"
	head -c 4096 /dev/urandom >"$T_TMP/mnt/batch/a$i.txt"
done
sync
echo 'pin /batch/*.so' >"$T_TMP/batch.rules"
assert_cmd "hints apply --dry-run, 70 pinned files" -- \
	"$ILIOCTL" hints apply t27d --rules "$T_TMP/batch.rules" --dry-run
cp "$_T_LAST_OUT" "$T_TMP/batch.dry"
assert_ge "$(grep -cP '^hint\tpin\t' "$T_TMP/batch.dry")" 64 \
	"the files give at least 64 ranges, so two messages with the clear"
t0=$(date +%s%N)
assert_cmd "hints apply, 70 pinned files" -- \
	"$ILIOCTL" hints apply t27d --rules "$T_TMP/batch.rules"
log "hints apply of $(grep -cP '^hint\tpin\t' "$T_TMP/batch.dry") ranges took $((($(date +%s%N) - t0) / 1000000)) ms"
assert_cmd "the map after a two-message apply" -- dmsetup message t27d 0 hints
python3 - "$T_TMP/batch.dry" "$_T_LAST_OUT" <<'PY' &&
import sys
want = [0] * 131072
names = {"normal": 0, "clear": 0, "pin": 1, "nocache": 2, "temp": 3}
for l in open(sys.argv[1]):
    f = l.rstrip("\n").split("\t")
    if f[0] == "hint":
        for x in range(int(f[2]), int(f[2]) + int(f[3])):
            want[x] = names[f[1]]
got = [0] * 131072
for l in open(sys.argv[2]).read().split("\n")[1:]:
    if l.strip():
        c, s, n = l.split()
        for x in range(int(s), int(s) + int(n)):
            got[x] = names[c]
assert want == got, [i for i in range(131072) if want[i] != got[i]][:8]
PY
	pass "the map holds, sector by sector, what --dry-run printed" ||
	fail "the map differs from --dry-run: $(head -c 300 "$_T_LAST_OUT")"
batch_map=$(cat "$_T_LAST_OUT")
assert_cmd "diskless: reload the same table" -- sh -c \
	"dmsetup table t27d | dmsetup reload t27d && dmsetup suspend t27d && dmsetup resume t27d"
assert_cmd "diskless: hints after the reload" -- dmsetup message t27d 0 hints
[ "$(cat "$_T_LAST_OUT")" = "$batch_map" ] &&
	pass "diskless: the class map survives a table reload" || fail "reloaded: $(last_output)"
assert_cmd "hint clear over the device" -- dmsetup message t27d 0 hint clear 0 131072
assert_cmd "dmsetup message hints, cleared" -- dmsetup message t27d 0 hints
grep -qP '^ranges 0 4096 0$' "$_T_LAST_OUT" &&
	pass "hint clear empties the map" || fail "after clear: $(last_output)"
assert_cmd "hints: umount" -- umount "$T_TMP/mnt"
assert_cmd "remove t27d" -- "$ILIOCTL" remove t27d

# Per-class statistics (issue 12) on a persistent device: 256 pinned
# blocks (1 MiB at 0) and 512 nocache blocks (2 MiB at 4 MiB), random data.
brd_setup 64 1
assert_cmd "classes: format /dev/ram0" -- "$ILIOCTL" format /dev/ram0
assert_cmd "classes: create t27c" -- "$ILIOCTL" create t27c --backing /dev/ram0 \
	--size 32M --ram 16M
udevadm settle 2>/dev/null
# One dm node lookup for the many reads below (sysfs_val runs dmsetup each time).
t27c_node=$(dm_node t27c)
t27c_val() { cat "/sys/block/$t27c_node/ilio/$1"; }
assert_cmd "classes: hint pin" -- dmsetup message t27c 0 hint pin 0 2048
assert_cmd "classes: hint nocache" -- dmsetup message t27c 0 hint nocache 8192 4096
assert_cmd "classes: write the pinned blocks" -- dd if=/dev/urandom of=/dev/mapper/t27c \
	bs=64k count=16 oflag=direct conv=fsync status=none
assert_cmd "classes: write the nocache blocks" -- dd if=/dev/urandom of=/dev/mapper/t27c \
	bs=64k seek=64 count=32 oflag=direct conv=fsync status=none
for c in normal pin nocache temp; do
	assert_eq "$(t27c_val ${c}_dirty_bytes)" 0 "classes: ${c}_dirty_bytes after fsync"
done
# Warm once, zero the counters, then count exactly.
dd if=/dev/mapper/t27c of=/dev/null bs=4k count=256 iflag=direct status=none
udevadm settle 2>/dev/null
assert_cmd "classes: clear_stats" -- dmsetup message t27c 0 clear_stats
for _ in 1 2; do
	dd if=/dev/mapper/t27c of=/dev/null bs=4k count=256 iflag=direct status=none
done
assert_eq "$(t27c_val pin_cache_hits)" 512 "classes: 2 x 256 pinned reads, all pin hits"
assert_eq "$(t27c_val pin_cache_misses)" 0 "classes: no pin miss"
assert_eq "$(t27c_val normal_cache_hits) $(t27c_val normal_cache_misses)" "0 0" \
	"classes: nothing counted under normal"
assert_eq "$(t27c_val temp_cache_hits) $(t27c_val temp_cache_misses)" "0 0" \
	"classes: nothing counted under temp"
for _ in 1 2; do
	dd if=/dev/mapper/t27c of=/dev/null bs=4k skip=1024 count=512 iflag=direct status=none
done
assert_eq "$(($(t27c_val nocache_cache_hits) + $(t27c_val nocache_cache_misses)))" \
	1024 "classes: 2 x 512 nocache reads counted under nocache"
assert_eq "$(t27c_val nocache_cache_bytes)" 0 "classes: nocache takes no cache"
assert_ge "$(t27c_val pin_cache_bytes)" 1 "classes: pin data is cached"
cls_sum() {
	local t=0 c
	for c in normal pin nocache temp; do
		t=$((t + $(t27c_val "${c}_$1")))
	done
	echo $t
}
assert_eq "$(cls_sum cache_hits) $(cls_sum cache_misses) $(cls_sum cache_bytes)" \
	"$(t27c_val cache_hits) $(t27c_val cache_misses) $(t27c_val cache_bytes)" \
	"classes: the class sums are cache_hits, cache_misses, cache_bytes"
assert_cmd "classes: status --json" -- "$ILIOCTL" status --json t27c
assert_cmd "classes: the 16 JSON keys hold the sysfs values" -- python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))[0]
for c in ("normal", "pin", "nocache", "temp"):
    for k in ("cache_hits", "cache_misses", "cache_bytes", "dirty_bytes"):
        n = c + "_" + k
        v = int(open("/sys/block/%s/ilio/%s" % (sys.argv[2], n)).read())
        assert d[n] == v, (n, d[n], v)
assert d["pin_cache_hits"] == 512 and d["nocache_cache_bytes"] == 0, d
' "$_T_LAST_OUT" "$(dm_node t27c)"
assert_cmd "classes: hints show" -- "$ILIOCTL" hints show t27c
grep -qP '^CLASS +HITS +MISSES +HIT% +CACHED +DIRTY$' "$_T_LAST_OUT" &&
	grep -qP '^pin +512 +0 +100\.0% ' "$_T_LAST_OUT" &&
	grep -qP '^nocache +[0-9]+ +[0-9]+ +[0-9.]+% +0 B +0 B$' "$_T_LAST_OUT" &&
	pass "classes: hints show prints the per-class table" ||
	fail "classes: hints show: $(last_output)"
assert_cmd "classes: status" -- "$ILIOCTL" status t27c
grep -qP '^CLASS +HITS +MISSES +HIT% +CACHED +DIRTY$' "$_T_LAST_OUT" &&
	grep -qP '^pin +512 +0 +100\.0% ' "$_T_LAST_OUT" &&
	pass "classes: status prints the per-class table too" ||
	fail "classes: status: $(last_output)"
# Late write-back of temp data (issue 12), with coalesce auto and the
# default 1 s flush interval over a fast brd: a normal unit leaves within
# ~100 ms; a temp-only unit is held 8 s, and its overwritten records are
# dropped when it closes (elided_bytes), never written to the LUN.
assert_cmd "temp: hint temp (2 MiB at 16 MiB)" -- dmsetup message t27c 0 hint temp 32768 4096
assert_cmd "temp: control, a normal write" -- dd if=/dev/urandom of=/dev/mapper/t27c \
	bs=64k seek=384 count=1 oflag=direct status=none
sleep 2
assert_eq "$(t27c_val normal_dirty_bytes)" 0 "temp: the normal unit was written back within 2 s"
elided0=$(t27c_val elided_bytes)
wb0=$(t27c_val backend_write_bytes)
for v in 1 2 3 4; do
	head -c 65536 /dev/urandom >"$T_TMP/temp.$v"
	dd if="$T_TMP/temp.$v" of=/dev/mapper/t27c bs=64k seek=256 count=1 oflag=direct \
		status=none
done
sleep 2
assert_ge "$(t27c_val temp_dirty_bytes)" $((4 * 65536)) \
	"temp: 4 x 64 KiB of temp data still dirty 2 s later (the unit is held)"
assert_eq "$(t27c_val backend_write_bytes)" "$wb0" "temp: nothing reached the LUN while held"
assert_cmd "temp: fsync the device (a flush closes the held unit)" -- \
	python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDWR); os.fsync(fd)' \
	/dev/mapper/t27c
assert_eq "$(t27c_val temp_dirty_bytes)" 0 "temp: nothing dirty after the flush"
assert_ge "$(($(t27c_val elided_bytes) - elided0))" $((3 * 65536)) \
	"temp: the 3 overwritten versions were elided, not written"
assert_cmd "temp: the last version reads back" -- cmp_dev /dev/mapper/t27c $((256 * 65536)) \
	65536 "$T_TMP/temp.4"
assert_cmd "classes: remove t27c" -- "$ILIOCTL" remove t27c
brd_teardown
assert_cmd "list --json, no devices" -- "$ILIOCTL" list --json
assert_eq "$(tr -d ' \n' <"$_T_LAST_OUT")" '{"devices":[]}' "list --json, no devices: an empty array"

finish
