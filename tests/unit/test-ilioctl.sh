#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test-ilioctl.sh - proves, without a kernel, that ilioctl (tools/ilioctl.c):
#   * rejects every kind of bad usage with exit status 2 and an "ilioctl: "
#     message on stderr, and prints nothing on stdout then;
#   * builds the exact table line dm-ilio expects (checked with --dry-run),
#     including size suffixes, feature flags, the persistent-mode features
#     (coalesce, flush_interval_ms, max_dirty_mb) and argument order;
#   * checks each line with the kernel's own table parser: a line the
#     constructor refuses (given whole with --table-params) is bad usage
#     with the constructor's reason, a good one passes;
#   * parses the 23-field INFO status line and the 17-field one of older
#     modules (ignoring appended fields, refusing short, 18..22-field or
#     malformed lines with exit 1) and renders it: human sizes, ratios,
#     savings, RAM use, I/O offload, fields 18..23 by name, and for a
#     persistent device the write offload, read offload, RAM-served reads
#     and average backend I/O sizes, with "-" for zero denominators (checked
#     with --parse-status/--parse-table); a diskless device's table leaves
#     out the persistent-only rows (dirty, cache, flushes, GC, fill) that
#     its JSON keeps;
#   * prints valid JSON (python3 -m json.tool) holding every raw field and
#     the computed ratios, with strings escaped;
#   * fails a live command with exit 1 and an "ilioctl: " message when there
#     is no such device (or no device-mapper at all);
#   * "format" lays out a sparse image file exactly as ilio-format.h says
#     (checked byte by byte by an independent Python reader, crc32c
#     included), zeroes what it must and touches nothing else; refuses a
#     too-small device, an ext4 filesystem, a partition table, swap and an
#     existing ilio store unless --force (and --force wipes the foreign
#     signature: blkid sees nothing after); --dry-run writes nothing;
#     --segment-kb is validated;
#   * "info" reports each superblock copy and anchor slot as valid, or
#     invalid with the validator's reason, after single-byte corruptions,
#     and an all-zero anchor slot (format's slot 1) as blank, never invalid;
#   * "probe" prints udev's ID_FS_TYPE=ilio and the store's UUID for a
#     store (also with superblock copy 0 damaged), nothing and exit 1 for a
#     blank, short or ext4 image, and an error for a damaged store;
#   * --version prints the top-level VERSION.
#   * create and activate --dry-run make the kernel's checks: the RAM
#     budget (16T over 4M refused, naming the least --ram that fits; a size
#     of 2^64-4096 and one past 512 TiB refused), and for a backing device:
#     missing, a regular file, a directory, blank, ext4, journal missing,
#     foreign or overwritten are each refused with a clear reason, a
#     symbolic link is followed; the overcommit warning appears past the
#     factor (default 10, --overcommit-warn N, 0 never) and not at it;
#     activate takes the name ilio-<uuid prefix> and --ram 256M (more for a
#     huge size) by default, needs --size on a store never activated, and
#     builds the line from create's options; a repeated option is refused;
#   * message, list and the units: usage errors; list's columns (human,
#     --bytes, --si, --json with schema_version first, --noheadings) from
#     --parse-status lines;
#     status --bytes and --si.
#
# Usage: bash tests/unit/test-ilioctl.sh
#        ILIOCTL=/path/to/ilioctl bash tests/unit/test-ilioctl.sh  (no build)
# Prints one line per failure, then "test-ilioctl: N passed, N failed" for
# tests/unit/run-unit.sh, and ends with exactly "N passed, N failed".

set -u

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -z "${ILIOCTL:-}" ]; then
	if ! make -s -C "$root/tools" >/dev/null; then
		echo "cannot build tools/ilioctl" >&2
		echo "test-ilioctl: 0 passed, 1 failed"
		echo "0 passed, 1 failed"
		exit 1
	fi
	ILIOCTL=$root/tools/ilioctl
fi

tmp=$(mktemp -d)
loopdev=
# Loop devices of the dry-run checks (lb: a formatted store, lj: its
# journal, lsj: a store bound to it, lz: blank), when this host can make
# them.
lb= lj= lz= lsj=
cleanup() {
	local l
	for l in "$loopdev" $lb $lj $lz $lsj; do [ -z "$l" ] || losetup -d "$l"; done
	rm -rf "$tmp"
}
trap cleanup EXIT

pass=0
fail=0
out=
err=
rc=

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

# run ARGS...: run ilioctl, set $out, $err and $rc.
run() {
	"$ILIOCTL" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

# usage DESC EXPECTED-STDERR-SUBSTRING ARGS...: bad usage, exit 2.
usage() {
	local desc=$1 want=$2

	shift 2
	run "$@"
	if [ "$rc" -ne 2 ]; then
		ko "$desc: exit $rc, want 2 (stderr: $err)"
	elif [[ "$err" != "ilioctl: "* ]]; then
		ko "$desc: stderr does not start with 'ilioctl: ': $err"
	elif [[ "$err" != *"$want"* ]]; then
		ko "$desc: stderr lacks '$want': $err"
	elif [ -n "$out" ]; then
		ko "$desc: unexpected stdout: $out"
	else
		ok
	fi
}

# dry DESC EXPECTED-TABLE-LINE ARGS...: "create ... --dry-run" output.
dry() {
	local desc=$1 want=$2

	shift 2
	run create "$@" --dry-run
	if [ "$rc" -ne 0 ]; then
		ko "$desc: exit $rc (stderr: $err)"
	elif [ "$out" != "$want" ]; then
		ko "$desc: got '$out', want '$want'"
	elif [ -n "$err" ]; then
		ko "$desc: unexpected stderr: $err"
	else
		ok
	fi
}

# eq DESC GOT WANT
eq() {
	if [ "$2" == "$3" ]; then
		ok
	else
		ko "$1: got '$2', want '$3'"
	fi
}

# row LABEL: the value of row LABEL in the human output in $out (first
# device only).
row() {
	printf '%s\n' "$out" | awk -v l="$1" '
		substr($0, 1, 2 + length(l)) == "  " l &&
		substr($0, 3 + length(l), 1) == " " {
			v = substr($0, 3 + length(l))
			sub(/^ +/, "", v)
			print v
			exit
		}'
}

# status_line NAME START LEN MODE FIELD2..FIELD17 [EXTRA...]
status_line() {
	local name=$1 start=$2 len=$3

	shift 3
	echo "$name $start $len ilio $*"
}

KiB=1024
MiB=$((1024 * KiB))
GiB=$((1024 * MiB))

# --- help and version -------------------------------------------------------

for h in --help -h help; do
	run $h
	if [ "$rc" -eq 0 ] && [[ "$out" == *"Usage: ilioctl"* ]] &&
	   [[ "$out" == *"--parse-status LINE  (testing)"* ]] && [ -z "$err" ]; then
		ok
	else
		ko "ilioctl $h: rc=$rc out=$out err=$err"
	fi
done
for c in create remove status clear-stats format info probe activate message list iostat grow path hints; do
	run $c --help
	if [ "$rc" -eq 0 ] && [[ "$out" == *"Usage: ilioctl"* ]]; then
		ok
	else
		ko "ilioctl $c --help: rc=$rc err=$err"
	fi
done
# The version is the project's one version, the top-level VERSION file
# (tests/pkg/test-pkg.sh checks that the built module carries the same).
version=$(cat "$root/VERSION")
for v in --version -V; do
	run $v
	if [ "$rc" -eq 0 ] && [[ "$out" == "ilioctl $version (libdevmapper "* ]] && [ -z "$err" ]; then
		ok
	else
		ko "$v: rc=$rc out=$out, want 'ilioctl $version (libdevmapper ...)'"
	fi
done

# --- bad usage: exit 2 ------------------------------------------------------

long=$(printf 'n%.0s' $(seq 128))
ok127=$(printf 'n%.0s' $(seq 127))
D=(--diskless --size 8G --ram 1G)

usage "no command" "missing COMMAND"
usage "unknown command" "unknown command 'frob'" frob
usage "unknown global option" "unknown option '-x'" -x
usage "unknown long global option" "unknown option '--frob'" --frob
usage "create: unknown option" "unknown option '--bogus'" create d "${D[@]}" --bogus
usage "create: unknown option with value" "unknown option '--bogus'" create d "${D[@]}" --bogus=1
usage "create: unknown short option" "unknown option '-q'" create d "${D[@]}" -q
usage "create: no abbreviations" "unknown option '--dry'" create d "${D[@]}" --dry
usage "status: unknown option" "unknown option '--bogus'" status --bogus
usage "remove: unknown option" "unknown option '--json'" remove d --json
usage "create: missing NAME" "missing device NAME" create "${D[@]}"
usage "remove: missing NAME" "missing device NAME" remove
usage "clear-stats: missing NAME" "missing device NAME" clear-stats
usage "create: two names" "unexpected argument 'e'" create d e "${D[@]}"
usage "remove: two names" "unexpected argument 'b'" remove a b
usage "status: two names" "unexpected argument 'b'" status a b
usage "clear-stats: two names" "unexpected argument 'b'" clear-stats a b
usage "bad size 12X" "invalid size '12X' for --size" create d --diskless --size 12X --ram 1G
usage "bad size empty" "invalid size '' for --size" create d --diskless --size '' --ram 1G
usage "bad size negative" "invalid size '-1' for --size" create d --diskless --size=-1 --ram 1G
usage "bad size fraction" "invalid size '1.5G' for --size" create d --diskless --size 1.5G --ram 1G
usage "bad size space" "invalid size '8 G' for --size" create d --diskless --size '8 G' --ram 1G
usage "bad size suffix i without B" "invalid size '8Gi' for --size" create d --diskless --size 8Gi --ram 1G
usage "bad size iB without unit" "invalid size '4096iB' for --size" create d --diskless --size 4096iB --ram 1G
usage "bad size double suffix" "invalid size '8GG' for --size" create d --diskless --size 8GG --ram 1G
usage "size overflow" "too large" create d --diskless --size 99999999999999999999 --ram 1G
usage "size overflow with suffix" "too large" create d --diskless --size 16777216T --ram 1G
usage "bad ram 12X" "invalid size '12X' for --ram" create d --diskless --size 8G --ram 12X
usage "size not 4K multiple" "--size must be a multiple of 4 KiB" create d --diskless --size 4097 --ram 1G
usage "size 1K" "--size must be a multiple of 4 KiB" create d --diskless --size 1K --ram 1G
usage "size 6K" "--size must be a multiple of 4 KiB" create d --diskless --size 6K --ram 1G
usage "size 0" "--size must be greater than 0" create d --diskless --size 0 --ram 1G
usage "ram 0" "--ram must be between 4 MiB and 16 TiB" create d --diskless --size 8G --ram 0
usage "ram 0M" "--ram must be between 4 MiB and 16 TiB" create d --diskless --size 8G --ram 0M
usage "ram 3M (kernel minimum is 4)" "--ram must be between 4 MiB and 16 TiB" create d --diskless --size 8G --ram 3M
usage "ram above 16 TiB" "--ram must be between 4 MiB and 16 TiB" create d --diskless --size 8G --ram 17T
usage "ram 512K" "--ram must be a whole number of MiB" create d --diskless --size 8G --ram 512K
usage "ram 1536K" "--ram must be a whole number of MiB" create d --diskless --size 8G --ram 1536K
usage "diskless and backing" "--diskless and --backing are mutually exclusive" \
	create d --diskless --backing /dev/sdb --size 8G --ram 1G
usage "neither diskless nor backing" "one of --diskless or --backing DEV is required" \
	create d --size 8G --ram 1G
usage "backing '-'" "use --diskless" create d --backing - --size 8G --ram 1G
usage "backing empty" "--backing needs a device path" create d --backing '' --size 8G --ram 1G
usage "backing with space" "invalid backing device" create d --backing '/dev/a b' --size 8G --ram 1G
usage "missing --size" "--size is required" create d --diskless --ram 1G
usage "missing --ram" "--ram is required" create d --diskless --size 8G
usage "block size 1024" "invalid --block-size '1024' (must be 4096 or 512)" create d "${D[@]}" --block-size 1024
usage "block size 0" "invalid --block-size '0'" create d "${D[@]}" --block-size 0
usage "block size abc" "invalid --block-size 'abc'" create d "${D[@]}" --block-size abc
usage "option needs argument" "option '--size' requires an argument" create d --diskless --ram 1G --size
usage "option takes no argument" "option '--json' does not take an argument" status --json=yes
usage "flag takes no argument" "option '--diskless' does not take an argument" create d --diskless=1 --size 8G --ram 1G
usage "create: NAME too long" "device name too long" create "$long" "${D[@]}"
usage "remove: NAME too long" "device name too long" remove "$long"
usage "status: NAME too long" "device name too long" status "$long"
usage "clear-stats: NAME too long" "device name too long" clear-stats "$long"
usage "create: NAME with /" "must not contain '/'" create a/b "${D[@]}"
usage "remove: NAME with /" "must not contain '/'" remove /dev/mapper/x
usage "status: NAME with /" "must not contain '/'" status a/b
usage "clear-stats: NAME with /" "must not contain '/'" clear-stats a/b
usage "empty NAME" "device name must not be empty" remove ''
usage "NAME '..'" "invalid device name '..'" remove ..
usage "NAME with a space" "invalid device name 'a b': must not contain blanks or control characters" \
	create "a b" "${D[@]}"
usage "NAME with a tab" "must not contain blanks or control characters" remove "$(printf 'a\tb')"
usage "NAME with a newline" "must not contain blanks or control characters" status "$(printf 'a\nb')"
usage "status: NAME and --parse-status" "cannot be combined" status d --parse-status "d 0 8 ilio write"
usage "status: --parse-table alone" "--parse-table needs --parse-status" status --parse-table "d 0 8 ilio - 1"
usage "bad usage wins over dry-run" "--size must be a multiple" create d --diskless --size 4097 --ram 1G --dry-run

# --- table lines (--dry-run) ------------------------------------------------

dry "diskless 8G/2G" "0 16777216 ilio - 2048 6 dedup on compress lz4 block_size 4096" \
	d --diskless --size 8G --ram 2G
dry "no dedup, no compress, 512" "0 1048576 ilio - 64 6 dedup off compress none block_size 512" \
	d --diskless --size 512M --ram 64M --no-dedup --no-compress --block-size 512
dry "plain bytes" "0 8 ilio - 4 6 dedup on compress lz4 block_size 4096" \
	d --diskless --size 4096 --ram 4194304
dry "lowercase k, trailing B" "0 24 ilio - 4 6 dedup on compress lz4 block_size 4096" \
	d --diskless --size 12k --ram 4MB
dry "bare B suffix" "0 16 ilio - 5 6 dedup on compress lz4 block_size 4096" \
	d --diskless --size 8192b --ram 5242880B
dry "KiB and TiB" "0 8 ilio - 1048576 6 dedup on compress lz4 block_size 4096" \
	d --diskless --size 4KiB --ram 1TiB
dry "options before NAME" "0 2097152 ilio - 4 6 dedup on compress lz4 block_size 4096" \
	--diskless --size 1G --ram 4M d
dry "block size with suffix, no compress" "0 8388608 ilio - 128 6 dedup on compress none block_size 4096" \
	d --diskless --size 4G --ram 128M --block-size 4K --no-compress
dry "127-character NAME" "0 8 ilio - 4 6 dedup on compress lz4 block_size 4096" \
	"$ok127" --diskless --size 4K --ram 4M
run create --diskless --size 4K --ram 4M --dry-run -- -d
eq "NAME after --" "$rc:$out" "0:0 8 ilio - 4 6 dedup on compress lz4 block_size 4096"
run create d --diskless --size 4K --ram 4M -- --dry-run
eq "nothing is an option after --" "$rc" 2
usage "a repeated option is refused" "option '--size' given twice" \
	create d --diskless --size 4K --size 8K --ram 4M
usage "format: a repeated option" "option '--segment-kb' given twice" \
	format "$tmp/x.img" --segment-kb 64 --segment-kb 128
usage "status: a repeated --json" "option '--json' given twice" status --json -j
usage "list: a repeated --bytes" "option '--bytes' given twice" list -b --bytes
run status --parse-status "$(status_line a 0 8 write 0 0 0 0 4194304 0 0 0 0 0 0 0 0 0 0 0)" \
	--parse-status "$(status_line b 0 8 write 0 0 0 0 4194304 0 0 0 0 0 0 0 0 0 0 0)"
eq "--parse-status may repeat" "$rc:$(grep -c '^[ab]$' <<<"$out")" "0:2"
run create d --diskless --size 4K --ram 4M -n -v -v
eq "--verbose may repeat" "$rc" 0
usage "a repeated flag is refused" "option '--no-dedup' given twice" \
	create d --diskless --size 4K --ram 4M --no-dedup --no-dedup
run create d --diskless --size 8G --ram 2G -n -v
eq "-n -v prints the table once" "$out" "0 16777216 ilio - 2048 6 dedup on compress lz4 block_size 4096"
run create d --diskless --size 8G --ram 2G -nv
eq "-nv: bundled short options" "$rc:$out" "0:0 16777216 ilio - 2048 6 dedup on compress lz4 block_size 4096"
run create -vn d --diskless --size 8G --ram 2G
eq "-vn before NAME" "$rc:$out" "0:0 16777216 ilio - 2048 6 dedup on compress lz4 block_size 4096"
usage "a bundle with an unknown letter" "unknown option '-x' in '-nx'" create d --diskless --size 8G --ram 2G -nx
usage "a bundle repeating a letter" "option '--dry-run' given twice" create d --diskless --size 8G --ram 2G -nn

# Persistent-mode features: appended after the three that are always there,
# in a fixed order, only when given.  create checks the backing device
# before it prints the line (a formatted store on a loop device here: see
# "dry-run validation" below for what it refuses); without root or loop
# devices these lines cannot be built and are skipped, and said so.
P=(d --backing /dev/vdb --size 1G --ram 256M)
if [ "$(id -u)" = 0 ] && rm -f "$tmp/lb.img" && truncate -s 1G "$tmp/lb.img" &&
   "$ILIOCTL" format "$tmp/lb.img" >/dev/null 2>&1 &&
   lb=$(losetup -f --show "$tmp/lb.img" 2>/dev/null) && [ -b "$lb" ]; then
	PL=(d --backing "$lb" --size 1G --ram 256M)
	dry "backing passed through" "0 2147483648 ilio $lb 1024 6 dedup on compress lz4 block_size 4096" \
		d --backing "$lb" --size=1TiB --ram=1gib --overcommit-warn 0
	dry "coalesce always" "0 2097152 ilio $lb 256 8 dedup on compress lz4 block_size 4096 coalesce always" \
		"${PL[@]}" --coalesce always
	dry "all persistent features" \
		"0 2097152 ilio $lb 256 12 dedup on compress lz4 block_size 4096 coalesce off flush_interval_ms 0 max_dirty_mb 64" \
		"${PL[@]}" --max-dirty 64M --flush-interval-ms 0 --coalesce=off
	dry "flush interval max, max-dirty = ram" \
		"0 2097152 ilio $lb 256 10 dedup on compress lz4 block_size 4096 flush_interval_ms 3600000 max_dirty_mb 256" \
		"${PL[@]}" --flush-interval-ms 3600000 --max-dirty 256M
	dry "coalesce auto spelled out when given" \
		"0 2097152 ilio $lb 256 8 dedup off compress lz4 block_size 4096 coalesce auto" \
		"${PL[@]}" --coalesce auto --no-dedup
	dry "max-dirty in GiB" "0 2097152 ilio $lb 4096 8 dedup on compress lz4 block_size 4096 max_dirty_mb 1024" \
		d --backing "$lb" --size 1G --ram 4G --max-dirty 1G
	dry "--readonly: the same line" "0 2097152 ilio $lb 256 6 dedup on compress lz4 block_size 4096" \
		"${PL[@]}" --readonly
	dry "--takeover: the flag, no value" "0 2097152 ilio $lb 256 7 dedup on compress lz4 block_size 4096 takeover" \
		"${PL[@]}" --takeover
else
	echo "SKIP: persistent table lines and dry-run device checks (need root and loop devices)"
fi
usage "bad coalesce" "invalid --coalesce 'sometimes' (must be auto, always or off)" create "${P[@]}" --coalesce sometimes
usage "coalesce is case sensitive" "invalid --coalesce 'AUTO'" create "${P[@]}" --coalesce AUTO
usage "flush interval too big" "invalid --flush-interval-ms '3600001' (must be 0..3600000)" \
	create "${P[@]}" --flush-interval-ms 3600001
usage "flush interval negative" "invalid --flush-interval-ms '-1'" create "${P[@]}" --flush-interval-ms=-1
usage "flush interval with unit" "invalid --flush-interval-ms '5s'" create "${P[@]}" --flush-interval-ms 5s
usage "flush interval empty" "invalid --flush-interval-ms ''" create "${P[@]}" --flush-interval-ms ''
usage "max-dirty 0" "--max-dirty must be at least 1 MiB" create "${P[@]}" --max-dirty 0
usage "max-dirty not whole MiB" "--max-dirty must be a whole number of MiB" create "${P[@]}" --max-dirty 1536K
usage "max-dirty above ram" "--max-dirty (257 MiB) must not exceed --ram (256 MiB)" create "${P[@]}" --max-dirty 257M
usage "max-dirty bad size" "invalid size 'lots' for --max-dirty" create "${P[@]}" --max-dirty lots
usage "coalesce with diskless" "--coalesce is for persistent mode (--backing DEV), not --diskless" \
	create "${D[@]}" d --coalesce always
usage "flush interval with diskless" "--flush-interval-ms is for persistent mode" \
	create "${D[@]}" d --flush-interval-ms 10
usage "max-dirty with diskless" "--max-dirty is for persistent mode" create "${D[@]}" d --max-dirty 4M
usage "first persistent option named" "--max-dirty is for persistent mode" \
	create "${D[@]}" d --max-dirty 4M --coalesce off

# --- the kernel's table parser (dm-ilio/ilio-args.c, linked in) -------------
# create checks every line with the module's own parser before it prints or
# loads it.  --table-params (testing) hands it a line ilioctl's option
# checks would never build: each one the constructor refuses is bad usage
# here too, with the constructor's own reason.
kern() {	# DESC KERNEL-REASON PARAMS
	usage "kernel parser: $1" "the kernel's table parser refuses '$3': $2" \
		create d --size 8K --table-params "$3" --dry-run
}
kern "ram 0" "Invalid ram_mb: must be between 4 and 16777216" "- 0"
kern "ram above the bound" "Invalid ram_mb: must be between 4 and 16777216" "- 16777217"
kern "no ram" "Not enough arguments: <backing_dev|-> <ram_mb> [<#features> ...]" "-"
kern "odd feature args" "Feature arguments must be key/value pairs" "- 64 1 dedup"
kern "count mismatch" "Feature argument count does not match the arguments" "- 64 1 dedup on"
kern "count too big" "Invalid feature argument count" "- 64 4 dedup on"
kern "bad dedup value" "Invalid dedup: expected on or off" "- 64 2 dedup maybe"
kern "unknown feature" "Unknown feature argument" "- 64 2 colour blue"
kern "repeated key" "Feature argument given twice" "- 64 4 dedup on dedup off"
kern "block size 1024" "Invalid block_size: expected 4096 or 512" "- 64 2 block_size 1024"
kern "persistent feature, diskless" "coalesce, flush_interval_ms, max_dirty_mb, journal, takeover need a backing device" \
	"- 64 2 coalesce auto"
kern "flush interval bound" "Invalid flush_interval_ms: expected 0..3600000" \
	"/dev/x 64 2 flush_interval_ms 3600001"
kern "max dirty above ram" "Invalid max_dirty_mb: more than ram_mb" "/dev/x 64 2 max_dirty_mb 65"
dry "kernel parser: a good line passes" "0 16 ilio /dev/x 64 4 coalesce off max_dirty_mb 64" \
	d --size 8K --table-params "/dev/x 64 4 coalesce off max_dirty_mb 64"
dry "kernel parser: the bounds pass" "0 16 ilio - 16777216 2 dedup off" \
	d --size 8K --table-params "- 16777216 2 dedup off"
usage "--table-params with --ram" "--table-params replaces" \
	create d --size 8K --ram 4M --table-params "- 64"
usage "--table-params with --no-dedup" "--table-params replaces" \
	create d --size 8K --no-dedup --table-params "- 64"
usage "--table-params needs --size" "--size is required" create d --table-params "- 64"

# --- status rendering (--parse-status) --------------------------------------

# 8 GiB device: 4 GiB written, 1 GiB unique, 512 MiB stored, 600 MiB of a
# 2 GiB budget; 1000 reads of 4 MiB, 2000 writes of 3 GiB, no backend I/O.
L1=$(status_line d1 0 16777216 write $((4 * GiB)) $GiB $((512 * MiB)) $((600 * MiB)) $((2 * GiB)) \
	12345 77 1000 $((4 * MiB)) 2000 $((3 * GiB)) 0 0 0 0 0)
T1="d1 0 16777216 ilio - 2048 6 dedup on compress lz4 block_size 4096"

run status --parse-status "$L1"
eq "human: exit" "$rc" 0
eq "human: first line is the name" "$(printf '%s\n' "$out" | head -n 1)" d1
eq "human: mode" "$(row mode)" write
eq "human: logical size" "$(row 'logical size')" "8.00 GiB"
eq "human: logical data stored" "$(row 'logical data stored')" "4.00 GiB"
eq "human: unique" "$(row unique)" "1.00 GiB"
eq "human: stored" "$(row 'stored (compressed)')" "512.00 MiB"
eq "human: dedup ratio" "$(row 'dedup ratio')" "4.00x"
eq "human: compression ratio" "$(row 'compression ratio')" "2.00x"
eq "human: total savings" "$(row 'total savings')" "87.5%"
eq "human: RAM" "$(row 'RAM used / limit')" "600.00 MiB / 2.00 GiB (29.3%)"
eq "human: dedup hits" "$(row 'dedup hits')" 12345
eq "human: zero blocks" "$(row 'zero blocks')" 77
eq "human: front reads" "$(row 'front reads')" "1000 I/Os, 4.00 MiB"
eq "human: front writes" "$(row 'front writes')" "2000 I/Os, 3.00 GiB"
eq "human: backend reads" "$(row 'backend reads')" "0 I/Os, 0 B"
eq "human: backend writes" "$(row 'backend writes')" "0 I/Os, 0 B"
eq "human: offload" "$(row 'I/O offload')" "100.0%"
eq "human: ENOSPC" "$(row 'ENOSPC errors')" 0
eq "human: no backing row without a table" "$(row backing)" ""
eq "human: nothing on stderr" "$err" ""

run status --parse-status "$L1" --parse-table "$T1"
eq "table: exit" "$rc" 0
eq "table: backing row" "$(row backing)" "none (diskless)"
eq "table: features row" "$(row features)" "dedup on compress lz4 block_size 4096"

# Backed device with backend traffic: 3000 front I/Os, 600 backend I/Os.
L2=$(status_line d2: 0 2097152 read-only $GiB $GiB $GiB $MiB $MiB 0 0 \
	1000 $((1000 * 4096)) 2000 $((2000 * 4096)) 300 $((300 * 4096)) 300 $((300 * 4096)) 7)
T2="d2: 0 2097152 ilio 8:16 1 6 dedup off compress none block_size 512"
run status --parse-status "$L2" --parse-table "$T2"
eq "backed: exit" "$rc" 0
eq "backed: name without colon" "$(printf '%s\n' "$out" | head -n 1)" d2
eq "backed: mode" "$(row mode)" read-only
eq "backed: backing" "$(row backing)" "8:16"
eq "backed: dedup 1.00x" "$(row 'dedup ratio')" "1.00x"
eq "backed: compression 1.00x" "$(row 'compression ratio')" "1.00x"
eq "backed: savings 0" "$(row 'total savings')" "0.0%"
eq "backed: RAM full" "$(row 'RAM used / limit')" "1.00 MiB / 1.00 MiB (100.0%)"
eq "backed: offload 80%" "$(row 'I/O offload')" "80.0%"
eq "backed: backend reads" "$(row 'backend reads')" "300 I/Os, 1.17 MiB"
eq "backed: ENOSPC" "$(row 'ENOSPC errors')" 7

# Empty device: every ratio has a zero denominator.
L0=$(status_line d0 0 8 write 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)
run status --parse-status "$L0"
eq "empty: exit" "$rc" 0
eq "empty: logical size" "$(row 'logical size')" "4.00 KiB"
eq "empty: logical data" "$(row 'logical data stored')" "0 B"
eq "empty: dedup" "$(row 'dedup ratio')" "-"
eq "empty: compression" "$(row 'compression ratio')" "-"
eq "empty: savings" "$(row 'total savings')" "-"
eq "empty: RAM" "$(row 'RAM used / limit')" "0 B / 0 B (-)"
eq "empty: offload unknown without table" "$(row 'I/O offload')" "-"
run status --parse-status "$L0" --parse-table "d0 0 8 ilio - 1 6 dedup on compress lz4 block_size 4096"
eq "empty diskless: offload" "$(row 'I/O offload')" "100.0%"
run status --parse-status "$L0" --parse-table "d0 0 8 ilio /dev/sdb 1"
eq "empty backed: offload" "$(row 'I/O offload')" "-"
eq "table without features" "$(row features)" "-"

# Size formatting edges, negative savings, appended fields, fail mode.
L3=$(status_line d3 0 8 fail 1048575 512 1000 $((1536 * MiB)) $((3 * GiB / 2)) 0 0 0 0 0 0 0 0 0 0 0 \
	0 0 0 0 0 0 99 100 extra)
run status --parse-status "$L3"
eq "edges: exit with appended fields" "$rc" 0
eq "edges: mode fail" "$(row mode)" fail
eq "edges: 1048575 B rounds to 1.00 MiB" "$(row 'logical data stored')" "1.00 MiB"
eq "edges: 512 B" "$(row unique)" "512 B"
eq "edges: 1000 B" "$(row 'stored (compressed)')" "1000 B"
eq "edges: compression below 1" "$(row 'compression ratio')" "0.51x"
eq "edges: RAM 1.50 GiB" "$(row 'RAM used / limit')" "1.50 GiB / 1.50 GiB (100.0%)"
L4=$(status_line d4 0 8 write 1000 1000 2000 0 1 0 0 0 0 0 0 0 0 0 0 0)
run status --parse-status "$L4"
eq "negative savings" "$(row 'total savings')" "-100.0%"

# Two devices: both printed, a blank line between them.
run status --parse-status "$L1" --parse-status "$L2"
eq "two devices: exit" "$rc" 0
eq "two devices: names" "$(printf '%s\n' "$out" | grep -v '^ ' | tr '\n' ,)" "d1,,d2,"

# Malformed lines: exit 1, "unexpected status format".
bad_status() {
	run status --parse-status "$2"
	if [ "$rc" -eq 1 ] && [[ "$err" == "ilioctl: "*"unexpected status format"* ]]; then
		ok
	else
		ko "$1: rc=$rc err=$err"
	fi
}
bad_status "16 fields" "d 0 8 ilio write 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15"
bad_status "mode only" "d 0 8 ilio write"
bad_status "non-numeric field" "d 0 8 ilio write 1 2 3 4 5 6 7 8 9 10 11 12 13 x 15 16"
bad_status "negative field" "d 0 8 ilio write 1 2 3 4 5 6 7 8 9 10 11 12 13 -14 15 16"
bad_status "overflowing field" "d 0 8 ilio write 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"
bad_status "other target" "d 0 8 linear write 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"
bad_status "no target" "d 0 8"
bad_status "empty line" ""
bad_status "18 fields" "d 0 8 ilio write 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17"
bad_status "22 fields" "d 0 8 ilio write 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21"
bad_status "non-numeric field 20" "d 0 8 ilio write 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 x 20 21 22"
run status --parse-status "$L1" --parse-table "other 0 8 ilio - 1"
if [ "$rc" -eq 1 ] && [[ "$err" == *"no --parse-status line for device 'other'"* ]]; then
	ok
else
	ko "unmatched --parse-table: rc=$rc err=$err"
fi
run status --parse-status "$L1" --parse-table "d1 0 8 ilio - lots"
if [ "$rc" -eq 1 ] && [[ "$err" == *"unexpected table format"* ]]; then
	ok
else
	ko "bad --parse-table: rc=$rc err=$err"
fi
run status --parse-status "18446744073709551615 0 8 ilio write 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0"
eq "u64 max parses" "$rc" 0

# Fields 18..23 and the persistent-mode rows.  A persistent device: 1000
# front reads of which 100 went to the backend, 900 cache hits and 100
# misses, 2000 front writes in 80 backend writes of 256 KiB, 100 backend
# reads of 8 KiB.
L5=$(status_line p5 0 2097152 write $GiB $GiB $GiB $MiB $((256 * MiB)) 0 0 \
	1000 $((1000 * 8 * KiB)) 2000 $((2000 * 8 * KiB)) 100 $((100 * 8 * KiB)) 80 $((80 * 256 * KiB)) 0 \
	$((3 * MiB)) 900 100 42 $((5 * MiB)) 3)
T5="p5 0 2097152 ilio /dev/vdb 256 8 dedup on compress lz4 block_size 4096 coalesce always"
run status --parse-status "$L5" --parse-table "$T5"
eq "persistent: exit" "$rc" 0
eq "persistent: backing" "$(row backing)" /dev/vdb
eq "persistent: dirty" "$(row dirty)" "3.00 MiB"
eq "persistent: write offload" "$(row 'write offload')" "25.0x"
eq "persistent: read offload" "$(row 'read offload')" "90.0%"
eq "persistent: RAM-served reads" "$(row 'RAM-served reads')" "90.0%"
eq "persistent: avg backend write" "$(row 'avg backend write')" "256.00 KiB"
eq "persistent: avg backend read" "$(row 'avg backend read')" "8.00 KiB"
eq "persistent: cache hits / misses" "$(row 'cache hits / misses')" "900 / 100"
eq "persistent: flushes" "$(row flushes)" 42
eq "persistent: GC moved" "$(row 'GC moved')" "5.00 MiB"
eq "persistent: GC freed segments" "$(row 'GC freed segments')" 3
eq "persistent: I/O offload" "$(row 'I/O offload')" "94.0%"
eq "persistent: no dedup capped row without sysfs" "$(row 'dedup capped')" ""
eq "persistent: ENOSPC still last" "$(printf '%s\n' "$out" | tail -n 1)" "  ENOSPC errors        0"

eq "23 fields: no backend fill row" "$(row 'backend fill')" ""

# Fields 24 and 25: the backing device's log area and its free part.
run status --parse-status "$L5 $GiB $((256 * MiB))" --parse-table "$T5"
eq "25 fields: exit" "$rc" 0
eq "25 fields: backend fill" "$(row 'backend fill')" "768.00 MiB of 1.00 GiB (75.0%)"
eq "25 fields: ENOSPC still last" "$(printf '%s\n' "$out" | tail -n 1)" "  ENOSPC errors        0"
run status --parse-status "$L5 $GiB 0" --parse-table "$T5"
eq "25 fields, full" "$(row 'backend fill')" "1.00 GiB of 1.00 GiB (100.0%)"
run status --parse-status "$L5 0 0" --parse-table "p5 0 2097152 ilio - 256"
eq "25 fields, diskless: no backend fill row" "$(row 'backend fill')" ""
run status --parse-status "$L5 $GiB"
eq "24 fields: refused" "$rc" 1

# Uneven numbers: 7 front writes in 2 backend writes of 3 and 4 KiB + 1 B.
L6=$(status_line p6 0 8 write 0 0 0 0 0 0 0 3 0 7 0 3 0 2 $((7 * KiB + 1)) 0 0 1 2 0 0 0)
run status --parse-status "$L6" --parse-table "p6 0 8 ilio 8:16 4"
eq "uneven: write offload rounds" "$(row 'write offload')" "3.5x"
eq "uneven: read offload" "$(row 'read offload')" "33.3%"
eq "uneven: no RAM-served reads" "$(row 'RAM-served reads')" "0.0%"
eq "uneven: avg backend write" "$(row 'avg backend write')" "3.50 KiB"
eq "uneven: avg backend read of 0 bytes" "$(row 'avg backend read')" "0 B"

# Nothing happened yet: every derived row is "-".
L7=$(status_line p7 0 8 write 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)
run status --parse-status "$L7" --parse-table "p7 0 8 ilio /dev/vdb 4"
for r in 'write offload' 'read offload' 'RAM-served reads' 'avg backend write' 'avg backend read'; do
	eq "idle persistent: $r" "$(row "$r")" "-"
done

# A persistent device on an older module (17 fields): derived rows, but no
# fields 18..23 and no cache-based read offload.
L8=$(status_line p8 0 8 write 0 0 0 0 0 0 0 10 0 10 0 5 0 1 $MiB 0)
run status --parse-status "$L8" --parse-table "p8 0 8 ilio /dev/vdb 4"
eq "17 fields: exit" "$rc" 0
eq "17 fields: write offload" "$(row 'write offload')" "10.0x"
eq "17 fields: read offload unknown" "$(row 'read offload')" "-"
eq "17 fields: RAM-served reads" "$(row 'RAM-served reads')" "50.0%"
eq "17 fields: no dirty row" "$(row dirty)" ""
eq "17 fields: no flushes row" "$(row flushes)" ""

# Diskless: fields 18..25 are persistent-only (ilio-fields.h's scope),
# always 0 there: no dirty, cache, flushes or GC rows (nor the persistent
# derived rows); JSON keeps every key.  L5's values are not 0, so a row
# that stayed would show.
run status --parse-status "$L5" --parse-table "p5 0 2097152 ilio - 256"
for r in dirty 'cache hits / misses' flushes 'GC moved' 'GC freed segments' \
	'write offload' 'avg backend write' 'backend fill'; do
	eq "diskless 23: no '$r' row" "$(row "$r")" ""
done
eq "diskless 23: the rows every device has stay" "$(row 'dedup hits'):$(row 'backend writes')" \
	"0:80 I/Os, 20.00 MiB"
run status --parse-status "$L5 $GiB $((256 * MiB))" --parse-table "p5 0 2097152 ilio - 256"
eq "diskless 25: no 'backend fill' row" "$(row 'backend fill')" ""
eq "diskless 25: ENOSPC still last" "$(printf '%s\n' "$out" | tail -n 1)" "  ENOSPC errors        0"
run status --json --parse-status "$L5" --parse-table "p5 0 2097152 ilio - 256"
python3 -c '
import json, sys
d = json.loads(sys.argv[1])[0]
want = dict(dirty_bytes=3 << 20, cache_hits=900, cache_misses=100, flushes=42,
            gc_moved_bytes=5 << 20, gc_freed_segments=3)
assert d["diskless"] is True
for k, v in want.items():
    assert d[k] == v, (k, d[k], v)
' "$out" && ok || ko "diskless JSON keeps every persistent-only key: $out"
# Persistent: the same rows are there (the table names a backing device).
run status --parse-status "$L5" --parse-table "$T5"
eq "persistent 23: the persistent-only rows stay" \
	"$(row dirty):$(row flushes):$(row 'GC freed segments')" "3.00 MiB:42:3"
# No table: it is not known to be persistent.
run status --parse-status "$L5"
eq "no table: no write offload" "$(row 'write offload')" ""
eq "no table: fields 18..23 shown" "$(row 'GC freed segments')" 3

# --- JSON ---------------------------------------------------------------------

json_check() {	# DESC PYTHON-ASSERTIONS (on list "a") ARGS...
	local desc=$1 code=$2

	shift 2
	run status --json "$@"
	if [ "$rc" -ne 0 ]; then
		ko "$desc: exit $rc (stderr: $err)"
		return
	fi
	if ! python3 -m json.tool "$tmp/out" >/dev/null 2>"$tmp/jerr"; then
		ko "$desc: invalid JSON: $(cat "$tmp/jerr")"
		return
	fi
	if python3 - "$tmp/out" 2>"$tmp/jerr" <<EOF
import json, sys
a = json.load(open(sys.argv[1]))
$code
EOF
	then
		ok
	else
		ko "$desc: $(tail -n 3 "$tmp/jerr")"
	fi
}

json_check "json: one diskless device" '
assert isinstance(a, list) and len(a) == 1
d = a[0]
assert d["name"] == "d1" and d["mode"] == "write"
assert d["start_sector"] == 0 and d["length_sectors"] == 16777216
assert d["size_bytes"] == 8 << 30
assert d["backing"] == "-" and d["diskless"] is True and d["ram_mb"] == 2048
assert d["features"] == "dedup on compress lz4 block_size 4096"
want = dict(logical_bytes=4 << 30, unique_bytes=1 << 30, stored_bytes=512 << 20,
            ram_used_bytes=600 << 20, ram_limit_bytes=2 << 30, dedup_hits=12345,
            zero_blocks=77, front_read_ios=1000, front_read_bytes=4 << 20,
            front_write_ios=2000, front_write_bytes=3 << 30, backend_read_ios=0,
            backend_read_bytes=0, backend_write_ios=0, backend_write_bytes=0,
            nospc_errors=0)
for k, v in want.items():
    assert d[k] == v, (k, d[k], v)
assert d["dedup_ratio"] == 4.0, d["dedup_ratio"]
assert d["compression_ratio"] == 2.0, d["compression_ratio"]
assert d["savings_percent"] == 87.5, d["savings_percent"]
assert abs(d["ram_used_percent"] - 29.296875) < 1e-3, d["ram_used_percent"]
assert d["io_offload_percent"] == 100.0
# Only sysfs has it, and a parsed line has no sysfs.
assert "dedup_candidates_capped" in d and d["dedup_candidates_capped"] is None
' --parse-status "$L1" --parse-table "$T1"

json_check "json: no table, zero denominators" '
d = a[0]
for k in ("backing", "diskless", "ram_mb", "features", "dedup_ratio",
          "compression_ratio", "savings_percent", "ram_used_percent",
          "io_offload_percent"):
    assert d[k] is None, (k, d[k])
assert d["logical_bytes"] == 0
' --parse-status "$L0"

json_check "json: backed device, two devices in order" '
assert [d["name"] for d in a] == ["d1", "d2"]
d = a[1]
assert d["diskless"] is False and d["backing"] == "8:16" and d["mode"] == "read-only"
assert d["io_offload_percent"] == 80.0, d["io_offload_percent"]
assert d["savings_percent"] == 0.0 and d["nospc_errors"] == 7
assert a[0]["backing"] is None
' --parse-status "$L1" --parse-status "$L2" --parse-table "$T2"

json_check "json: appended fields ignored, u64 max kept" '
d = a[0]
assert d["mode"] == "fail" and d["logical_bytes"] == 1048575
assert "extra" not in json.dumps(d)
assert a[1]["logical_bytes"] == 18446744073709551615
' --parse-status "$L3" \
  --parse-status "big 0 8 ilio write 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0"

json_check "json: escaping" '
assert a[0]["name"] == "q\"b\\\\s", a[0]["name"]
assert a[1]["name"] == "t\x01x", repr(a[1]["name"])
assert a[2]["name"] == "caf\u00e9", repr(a[2]["name"])
assert a[3]["name"] == "\u00ff", repr(a[3]["name"])
' --parse-status "q\"b\\\\s 0 8 ilio write 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0" \
  --parse-status "$(printf 't\001x') 0 8 ilio write 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0" \
  --parse-status "$(printf 'caf\303\251') 0 8 ilio write 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0" \
  --parse-status "$(printf '\377') 0 8 ilio write 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"

json_check "json: persistent fields and derived values" '
d = a[0]
assert d["status_fields"] == 23, d["status_fields"]
assert d["schema_version"] == 1 and list(d)[0] == "schema_version", list(d)[:2]
want = dict(dirty_bytes=3 << 20, cache_hits=900, cache_misses=100, flushes=42,
            gc_moved_bytes=5 << 20, gc_freed_segments=3)
for k, v in want.items():
    assert d[k] == v, (k, d[k], v)
assert d["write_offload_ratio"] == 25.0, d["write_offload_ratio"]
assert d["read_offload_percent"] == 90.0, d["read_offload_percent"]
assert d["ram_served_reads_percent"] == 90.0, d["ram_served_reads_percent"]
assert d["avg_backend_write_bytes"] == 256 * 1024, d["avg_backend_write_bytes"]
assert d["avg_backend_read_bytes"] == 8192, d["avg_backend_read_bytes"]
assert d["diskless"] is False and d["backing"] == "/dev/vdb"
' --parse-status "$L5" --parse-table "$T5"

json_check "json: 17 fields: new counters null, same keys" '
d = a[0]
assert d["status_fields"] == 17, d["status_fields"]
for k in ("dirty_bytes", "cache_hits", "cache_misses", "flushes",
          "gc_moved_bytes", "gc_freed_segments", "read_offload_percent"):
    assert k in d and d[k] is None, (k, d.get(k))
assert d["write_offload_ratio"] == 10.0 and d["ram_served_reads_percent"] == 50.0
assert d["avg_backend_write_bytes"] == 1 << 20
assert d["avg_backend_read_bytes"] == 0.0
' --parse-status "$L8" --parse-table "p8 0 8 ilio /dev/vdb 4"

json_check "json: idle: derived values null" '
d = a[0]
for k in ("write_offload_ratio", "read_offload_percent", "ram_served_reads_percent",
          "avg_backend_write_bytes", "avg_backend_read_bytes"):
    assert d[k] is None, (k, d[k])
assert d["flushes"] == 0
' --parse-status "$L7" --parse-table "p7 0 8 ilio /dev/vdb 4"

# --- format and info (on image files) ---------------------------------------

# An independent reader of the layout in dm-ilio/ilio-format.h, crc32c
# included: "layout IMAGE UUID SEG_BYTES NR_SEGS" checks what format wrote.
cat >"$tmp/layout.py" <<'PY'
import struct, sys

def crc32c(data, crc=0xffffffff):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc

def csum_ok(blk):
    want = struct.unpack_from("<I", blk, 4)[0]
    return crc32c(blk[:4] + b"\0" * 4 + blk[8:]) == want

img, uuid, seg_bytes, nr_segs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
f = open(img, "rb")
data = f.read(4 * 4096)
size = f.seek(0, 2)
blocks = [data[i * 4096:(i + 1) * 4096] for i in range(4)]
u = bytes.fromhex(uuid.replace("-", ""))
assert u[6] >> 4 == 4 and u[8] >> 6 == 2, "not an RFC 4122 v4 uuid"
for n in (0, 1):
    b = blocks[n]
    (magic, csum, blocknr, version, flags, seq) = struct.unpack_from("<IIQIIQ", b, 0)
    assert b[0:4] == b"ILSB", ("sb magic", n, b[0:4])
    assert csum_ok(b), ("sb checksum", n)
    assert blocknr == n and version == 1 and flags == 0 and seq == 1, ("sb header", n)
    assert b[32:48] == u, ("sb uuid", n)
    compat, ro, incompat, dev_blocks, sb_seg, sb_nr, seg_start = \
        struct.unpack_from("<QQQQIIQ", b, 48)
    # incompat: lz4 records (1) and a keyed content hash (2).
    assert (compat, ro, incompat) == (0, 0, 3), ("features", n)
    assert dev_blocks == size // 4096, ("dev_blocks", n, dev_blocks)
    assert (sb_seg, sb_nr, seg_start) == (seg_bytes, nr_segs, seg_bytes // 4096), \
        ("geometry", n, sb_seg, sb_nr, seg_start)
    (hash_seed,) = struct.unpack_from("<Q", b, 96)
    assert hash_seed != 0, ("no hash key", n)
    assert b[104:] == bytes(4096 - 104), ("sb tail not zero", n)
assert blocks[0][16:] == blocks[1][16:], "copies differ beyond csum and blocknr"
a = blocks[2]
assert a[0:4] == b"ILAN", "anchor magic"
assert csum_ok(a), "anchor checksum"
(blocknr, version, flags, seq) = struct.unpack_from("<QIIQ", a, 8)
assert (blocknr, version, flags, seq) == (2, 1, 0, 1), ("anchor header", blocknr, version, flags, seq)
assert a[32:48] == u, "anchor uuid"
epoch, log_seq, log_seg, log_off, nr_blocks = struct.unpack_from("<QQIIQ", a, 48)
assert epoch != 0 and (log_seq, log_seg, log_off, nr_blocks) == (1, 0, 0, 0), "anchor body"
assert a[80:] == bytes(4096 - 80), "anchor tail not zero"
assert blocks[3] == bytes(4096), "anchor slot 1 not zeroed"
f.seek(seg_bytes)
assert f.read(4096) == bytes(4096), "segment 0 head not zeroed"
print("%016x" % epoch)
PY

# sbkey FILE: the hash key in superblock copy 0, as ilio-format.h places it.
sbkey() {
	python3 -c 'import struct, sys; print("%016x" % struct.unpack_from("<Q", open(sys.argv[1], "rb").read(104), 96))' "$1"
}
# poke FILE OFFSET BYTE...: write bytes (decimal) at OFFSET.
poke() {
	python3 - "$@" <<'PY'
import sys
f = open(sys.argv[1], "r+b")
f.seek(int(sys.argv[2]))
f.write(bytes(int(x) for x in sys.argv[3:]))
PY
}
# flip FILE OFFSET: invert one byte.
flip() {
	python3 - "$1" "$2" <<'PY'
import sys
f = open(sys.argv[1], "r+b")
f.seek(int(sys.argv[2]))
b = f.read(1)[0]
f.seek(int(sys.argv[2]))
f.write(bytes([b ^ 0xff]))
PY
}
sum() { sha256sum "$1" | cut -d' ' -f1; }
img() { rm -f "$1" && truncate -s "$2" "$1"; }	# FILE SIZE: sparse, zeros

# failure DESC EXPECTED-STDERR-SUBSTRING ARGS...: runtime error, exit 1.
failure() {
	local desc=$1 want=$2

	shift 2
	run "$@"
	if [ "$rc" -ne 1 ]; then
		ko "$desc: exit $rc, want 1 (stderr: $err)"
	elif [[ "$err" != "ilioctl: "* ]]; then
		ko "$desc: stderr does not start with 'ilioctl: ': $err"
	elif [[ "$err" != *"$want"* ]]; then
		ko "$desc: stderr lacks '$want': $err"
	else
		ok
	fi
}

uuid_re='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
I=$tmp/store.img

# Usage errors.
usage "format: missing DEV" "format: missing device DEV" format
usage "format: missing DEV with options" "format: missing device DEV" format --force --segment-kb 64
usage "format: two DEVs" "unexpected argument 'b'" format a b
usage "format: unknown option" "unknown option '--size'" format "$I" --size 1G
usage "info: missing DEV" "info: missing device DEV" info
usage "info: two DEVs" "unexpected argument 'b'" info a b
usage "info: unknown option" "unknown option '--force'" info "$I" --force
for kb in 0 32 63 96 1000 65536 -1 abc '' 1M 1024K ' 64' 64.0; do
	usage "--segment-kb '$kb'" "invalid --segment-kb '$kb' (a power of two, 64..32768)" \
		format "$I" --segment-kb "$kb"
done
usage "--segment-kb needs a value" "option '--segment-kb' requires an argument" format "$I" --segment-kb
usage "usage checked before the device" "invalid --segment-kb" format /nonexistent --segment-kb 3

# Bad devices: runtime errors.
failure "format: no such file" "cannot open $tmp/nope: No such file or directory" format "$tmp/nope"
failure "info: no such file" "cannot open $tmp/nope" info "$tmp/nope"
failure "format: a directory" "$tmp is neither a block device nor a regular file" format "$tmp"
failure "format: a character device" "/dev/null is neither a block device nor a regular file" format /dev/null
if [ "$(id -u)" != 0 ]; then
	img "$tmp/ro.img" 64M && chmod 444 "$tmp/ro.img"
	failure "format: read-only file" "cannot open $tmp/ro.img for writing: Permission denied" \
		format "$tmp/ro.img"
fi

# Too small: 1 MiB segments need 9 MiB (8 segments, and one's worth of
# metadata in front); 64 KiB segments need 576 KiB.
img "$I" 8M
s0=$(sum "$I")
failure "too small" "cannot format $I: device too small: it must hold at least 8 segments" format "$I"
if [[ "$err" == *"(it has 8.00 MiB; 1024 KiB segments need at least 9.00 MiB)"* ]]; then
	ok
else
	ko "too small: sizes not in message: $err"
fi
eq "too small: nothing written" "$(sum "$I")" "$s0"
img "$I" $((9 * MiB - 4096))
failure "9 MiB - 4 KiB is too small" "device too small" format "$I"
img "$I" $((9 * MiB))
run format "$I"
eq "9 MiB is enough: exit" "$rc:$err" "0:"
eq "9 MiB: 8 segments" "$(row segments)" 8
img "$I" $((576 * KiB - 4096))
failure "64 KiB segments: 572 KiB too small" "576.00 KiB" format "$I" --segment-kb 64
img "$I" $((576 * KiB))
run format "$I" --segment-kb 64
eq "64 KiB segments: 576 KiB is enough" "$rc:$(row segments)" "0:8"
img "$I" $((288 * MiB))
run format "$I" --segment-kb 32768 --dry-run
eq "32 MiB segments: dry run" "$rc:$(row 'segment size'):$(row segments):$(row 'usable capacity')" \
	"0:32.00 MiB:8:256.00 MiB"

# --journal: the journal ring is laid out and bound; the store says so; a
# journal is refused as a store or as another store's journal without
# --force; a journal below 4 MiB + 8 KiB is refused.
J=$tmp/j.img
img "$I" 64M
img "$J" $((4 * MiB + 8 * KiB - 4096))
failure "journal too small" "is too small for a journal" format "$I" --journal "$J"
img "$J" $((4 * MiB + 8 * KiB))
run format "$I" --journal "$J"
eq "format --journal: exit" "$rc:$err" "0:"
eq "format --journal: journal row" "$(row journal)" "$J"
eq "format --journal: ring" "$(row 'journal ring')" "4.00 MiB (4194304 bytes)"
run info "$I"
eq "info: journal bound" "$rc:$(row journal)" "0:bound, generation 1"
eq "info: no class map saved on a fresh store" "$(row 'class map slot 0')|$(row 'class map slot 1')|$(row 'class map in use')" \
	"none|none|none saved"
# A slot with the magic and nothing else (block 8, the first class map
# block): refused with the reason, and nothing else changes.
printf 'ILCM' | dd of="$I" bs=1 seek=$((8 * 4096)) conv=notrunc status=none
run info "$I"
eq "info: a forged class map slot is invalid, with the reason" "$rc:$(row 'class map slot 0')|$(row 'class map in use')" \
	"0:invalid: class map belongs elsewhere (location, version or uuid)|none saved"
# The multihost guard is opt-in: a store formatted without --multihost
# is not guarded, its block 4 stays zero.
eq "info: a store formatted without --multihost is not guarded" \
	"$(row multihost)|$(row features)" \
	'off (not guarded; "ilioctl multihost DEV on" guards it)|compat 0x0, ro_compat 0x0, incompat 0x7'
eq "format without --multihost: block 4 is zero" \
	"$(dd if="$I" bs=4096 skip=4 count=1 status=none | tr -d '\0' | wc -c)" 0
usage "multihost needs on or off" "multihost: missing on or off" multihost "$I"
usage "multihost: a bad word" "multihost: 'yes' is not on or off" multihost "$I" yes
usage "multihost: one word only" "multihost: unexpected argument 'x'" multihost "$I" on x
usage "multihost needs a device" "multihost: missing device DEV" multihost
s0=$(sum "$I")
run multihost "$I" on --dry-run
eq "multihost on --dry-run writes nothing" "$rc:$(sum "$I")" "0:$s0"
run multihost "$I" on
eq "multihost on: exit" "$rc:$err" "0:"
run info "$I"
eq "multihost on: the feature, a CLEAN record, both superblocks at generation 2" \
	"$(row features)|$(row multihost | cut -d' ' -f1-5)|$(row sequence)|$(row 'superblock 0')|$(row 'superblock 1')" \
	"compat 0x0, ro_compat 0x1, incompat 0x7|clean (last written by host|2|valid|valid"
run multihost "$I" on
eq "multihost on twice: already on" "$rc:$out" "0:$I: multihost is already on"
# A record that says another host holds the store: "off" refuses it
# without --force, and writes nothing.  The record's state becomes ACTIVE
# (2) with owner 42 and host "hostX", resealed with its crc32c.
python3 - "$I" <<'PY'
import struct, sys
def crc32c(crc, data):
	for b in data:
		crc ^= b
		for _ in range(8):
			crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
	return crc
f = open(sys.argv[1], 'r+b')
f.seek(4 * 4096)
blk = bytearray(f.read(4096))
struct.pack_into('<I', blk, 20, 2)		# state ACTIVE
struct.pack_into('<Q', blk, 48, 42)		# owner
blk[72:72 + 64] = b'hostX'.ljust(64, b'\0')	# node
blk[4:8] = b'\0' * 4
struct.pack_into('<I', blk, 4, crc32c(0xffffffff, bytes(blk)))
f.seek(4 * 4096)
f.write(blk)
PY
run info "$I"
eq "info: a forged ACTIVE record is held by hostX" "$rc:$(row multihost | cut -d' ' -f1-4)" \
	"0:held by host hostX"
s0=$(sum "$I")
failure "multihost off refuses a store another host holds" \
	"the multihost record says host hostX holds the store; if that host is down, add --force" \
	multihost "$I" off
eq "the refused off wrote nothing" "$(sum "$I")" "$s0"
run multihost "$I" off --force
eq "multihost off --force: exit" "$rc:$err" "0:"
run info "$I"
eq "multihost off: no feature, generation 3, block 4 zero" \
	"$(row features)|$(row sequence)|$(row multihost | cut -d' ' -f1)|$(dd if="$I" bs=4096 skip=4 count=1 status=none | tr -d '\0' | wc -c)" \
	"compat 0x0, ro_compat 0x0, incompat 0x7|3|off|0"
failure "multihost on a device that holds no store" "no valid ilio superblock" \
	multihost "$J" on
run format "$I" --journal "$J" --force --multihost
eq "format --multihost: the multihost row" "$rc:$(row multihost)" "0:on (guarded: one host at a time)"
run info "$I"
eq "info: the multihost record of a fresh guarded store is clean" \
	"$(row multihost | cut -d' ' -f1-5)|$(row features)" \
	"clean (last written by host|compat 0x0, ro_compat 0x1, incompat 0x7"
# A damaged multihost record: shown as invalid, and info still succeeds.
printf 'X' | dd of="$I" bs=1 seek=$((4 * 4096 + 40)) conv=notrunc status=none
run info "$I"
eq "info: a damaged multihost record" "$rc:$(row multihost)" \
	"0:invalid: multihost record damaged, misplaced or of another store"
# A re-format clears it (the slots of an earlier store are zeroed).
run format "$I" --journal "$J" --force
run info "$I"
eq "info: re-format clears the class map slots" "$rc:$(row 'class map slot 0')" "0:none"
failure "a journal is not formatted over" "is the journal of the ilio store" format "$J" --segment-kb 64
I2=$tmp/store2.img
img "$I2" 64M
failure "nor bound to a second store" "is the journal of the ilio store" format "$I2" --journal "$J"
usage "--journal needs a value" "option '--journal' requires an argument" format "$I" --journal
run format "$I2" --journal "$J" --force
eq "--force rebinds the journal to a new store" "$rc:$err" "0:"

# Dry run on an empty image: reports, writes nothing.
img "$I" 64M
s0=$(sum "$I")
run format "$I" --dry-run
eq "dry run: exit" "$rc:$err" "0:"
eq "dry run: first line" "$(printf '%s\n' "$out" | head -n 1)" "would format $I (dry run: nothing written)"
eq "dry run: segments" "$(row segments)" 63
eq "dry run: nothing written" "$(sum "$I")" "$s0"
run format "$I" -n --force --segment-kb 64
eq "dry run -n --force: nothing written" "$rc:$(sum "$I")" "0:$s0"

# Format a 64 MiB image whose metadata blocks hold garbage (0xff), with a
# marker in segment 1 that format must leave alone.
img "$I" 64M
poke "$I" $((3 * 4096)) 255 255 255 255
poke "$I" $((MiB + 100)) 255
poke "$I" $((2 * MiB)) 1 2 3 4
run format "$I"
eq "format: exit" "$rc:$err" "0:"
eq "format: first line" "$(printf '%s\n' "$out" | head -n 1)" "formatted $I"
eq "format: device size" "$(row 'device size')" "64.00 MiB (67108864 bytes)"
eq "format: segment size" "$(row 'segment size')" "1.00 MiB"
eq "format: segments" "$(row segments)" 63
eq "format: usable capacity" "$(row 'usable capacity')" "63.00 MiB"
eq "format: nothing replaced" "$(row replaced)" ""
eq "format: keyed hash" "$(row 'keyed hash')" yes
format_out=$out
u1=$(row uuid)
if [[ "$u1" =~ $uuid_re ]]; then
	ok
else
	ko "format: uuid '$u1' is not a v4 uuid"
fi
if epoch1=$(python3 "$tmp/layout.py" "$I" "$u1" $MiB 63 2>"$tmp/perr"); then
	ok
else
	ko "format: layout: $(tail -n 1 "$tmp/perr")"
fi
eq "format: segment 1 untouched" "$(od -An -tu1 -j $((2 * MiB)) -N4 "$I" | tr -s ' ')" " 1 2 3 4"
eq "format: file stays sparse-sized" "$(stat -c %s "$I")" $((64 * MiB))

run info "$I"
eq "info: exit" "$rc:$err" "0:"
eq "info: first line" "$(printf '%s\n' "$out" | head -n 1)" "$I"
eq "info: superblock 0" "$(row 'superblock 0')" valid
eq "info: superblock 1" "$(row 'superblock 1')" valid
eq "info: uuid" "$(row uuid)" "$u1"
eq "info: version" "$(row version)" 1
eq "info: features" "$(row features)" "compat 0x0, ro_compat 0x0, incompat 0x3"
eq "info: keyed hash" "$(row 'keyed hash')" yes
# The key itself is a secret: neither format nor info prints it.
key1=$(sbkey "$I")
key1_dec=$(python3 -c 'import sys; print(int(sys.argv[1], 16))' "$key1")
all_out=$(printf '%s\n%s' "$out" "$format_out" | tr 'A-F' 'a-f')
if [[ "$all_out" == *"${key1#"${key1%%[!0]*}"}"* ]] || [[ "$all_out" == *"$key1_dec"* ]]; then
	ko "the hash key $key1 is printed"
else
	ok
fi
eq "info: size at format" "$(row 'size at format')" "64.00 MiB (67108864 bytes)"
eq "info: first segment" "$(row 'first segment')" "block 256"
eq "info: segments" "$(row segments)" 63
eq "info: anchor 0" "$(row 'anchor 0')" \
	"valid: seq 1, epoch 0x$epoch1, log_seq 1, log_seg 0, log_off 0, nr_blocks 0"
eq "info: anchor 1 is blank, not invalid" "$(row 'anchor 1')" "blank (unused, as format leaves it; the first activation writes it)"
eq "info: current anchor" "$(row 'current anchor')" "0 (seq 1)"
eq "info: logical size" "$(row 'logical size')" "not set (never activated)"

# Two formats pick different uuids and epochs.
cp "$I" "$tmp/other.img"
run format "$tmp/other.img" --force
u2=$(row uuid)
epoch2=$(python3 "$tmp/layout.py" "$tmp/other.img" "$u2" $MiB 63 2>/dev/null)
if [ "$u2" != "$u1" ] && [ -n "$epoch2" ] && [ "$epoch2" != "$epoch1" ]; then
	ok
else
	ko "second format: uuid $u2 / epoch $epoch2 not new"
fi
key2=$(sbkey "$tmp/other.img")
if [ -n "$key1" ] && [ "$key2" != "$key1" ] && [ "$key2" != 0000000000000000 ]; then
	ok
else
	ko "second format: hash key $key2 not new (first $key1)"
fi

# A store formatted before keyed hashing (incompat 0x1, no key): info
# says so, and a key without the feature bit is damage.
cp "$tmp/other.img" "$tmp/old.img"
python3 - "$tmp/old.img" "$tmp/layout.py" <<'PY'
import struct, sys
exec(open(sys.argv[2]).read().split("img, uuid")[0])   # crc32c()
f = open(sys.argv[1], "r+b")
for n in (0, 1):
    f.seek(n * 4096)
    b = bytearray(f.read(4096))
    struct.pack_into("<Q", b, 64, 1)       # incompat: lz4 only
    struct.pack_into("<Q", b, 96, 0)       # no key
    struct.pack_into("<I", b, 4, crc32c(bytes(b[:4]) + b"\0" * 4 + bytes(b[8:])))
    f.seek(n * 4096)
    f.write(b)
PY
run info "$tmp/old.img"
eq "old store: exit" "$rc:$err" "0:"
eq "old store: superblock 0" "$(row 'superblock 0')" valid
eq "old store: features" "$(row features)" "compat 0x0, ro_compat 0x0, incompat 0x1"
eq "old store: keyed hash" "$(row 'keyed hash')" "no (seed 0: formatted before keyed hashing)"
cp "$tmp/other.img" "$tmp/nobit.img"
python3 - "$tmp/nobit.img" "$tmp/layout.py" <<'PY'
import struct, sys
exec(open(sys.argv[2]).read().split("img, uuid")[0])   # crc32c()
f = open(sys.argv[1], "r+b")
for n in (0, 1):
    f.seek(n * 4096)
    b = bytearray(f.read(4096))
    struct.pack_into("<Q", b, 64, 1)       # the key stays, the bit goes
    struct.pack_into("<I", b, 4, crc32c(bytes(b[:4]) + b"\0" * 4 + bytes(b[8:])))
    f.seek(n * 4096)
    f.write(b)
PY
run info "$tmp/nobit.img"
eq "key without the bit: superblock 0" "$(row 'superblock 0')" \
	"invalid: superblock has a hash key but not the keyed-hash feature"

# A second format without --force is refused, and writes nothing.
s0=$(sum "$I")
failure "format twice" "$I is already an ilio store (uuid $u1); use --force to overwrite" format "$I"
eq "format twice: nothing written" "$(sum "$I")" "$s0"
failure "format twice, dry run" "already an ilio store (uuid $u1)" format "$I" --dry-run
run format "$I" --force
eq "format --force over a store: exit" "$rc" 0
eq "format --force: replaced" "$(row replaced)" "an ilio store (uuid $u1)"
u3=$(row uuid)
if [ "$u3" != "$u1" ]; then
	ok
else
	ko "format --force kept the uuid"
fi
if epoch3=$(python3 "$tmp/layout.py" "$I" "$u3" $MiB 63 2>"$tmp/perr"); then
	ok
else
	ko "format --force: layout: $(tail -n 1 "$tmp/perr")"
fi

# Corruption, one byte at a time, on copies of the formatted image.
corrupt() {	# DESC OFFSET
	cp "$I" "$tmp/bad.img"
	flip "$tmp/bad.img" "$2"
	run info "$tmp/bad.img"
}
corrupt "sb0" 100
eq "sb0 flipped: exit" "$rc" 0
eq "sb0 flipped: superblock 0" "$(row 'superblock 0')" "invalid: superblock checksum mismatch"
eq "sb0 flipped: superblock 1" "$(row 'superblock 1')" valid
eq "sb0 flipped: uuid from copy 1" "$(row uuid)" "$u3"
eq "sb0 flipped: anchor still valid" "$(row 'current anchor')" "0 (seq 1)"
corrupt "sb1" $((4096 + 4095))
eq "sb1 flipped: exit" "$rc" 0
eq "sb1 flipped: superblock 0" "$(row 'superblock 0')" valid
eq "sb1 flipped: superblock 1" "$(row 'superblock 1')" "invalid: superblock checksum mismatch"
corrupt "sb0 magic" 0
eq "sb0 magic: superblock 0" "$(row 'superblock 0')" \
	"invalid: no ilio superblock (format the device with ilioctl format)"
eq "sb0 magic: exit" "$rc" 0
corrupt "sb0 nr_segs" 84
eq "sb0 field: checksum catches it" "$(row 'superblock 0')" "invalid: superblock checksum mismatch"
cp "$I" "$tmp/bad.img"
flip "$tmp/bad.img" 100
flip "$tmp/bad.img" $((4096 + 100))
run info "$tmp/bad.img"
eq "both sbs flipped: exit" "$rc" 1
eq "both sbs flipped: superblock 1" "$(row 'superblock 1')" "invalid: superblock checksum mismatch"
if [[ "$err" == "ilioctl: $tmp/bad.img: no valid ilio superblock"* ]]; then
	ok
else
	ko "both sbs flipped: stderr: $err"
fi
eq "both sbs flipped: no anchor rows" "$(row 'anchor 0')" ""
failure "damaged store: format refuses" \
	"$tmp/bad.img holds a damaged ilio superblock (superblock checksum mismatch); use --force to overwrite" \
	format "$tmp/bad.img"
corrupt "anchor 0" $((2 * 4096 + 100))
eq "anchor flipped: exit" "$rc" 1
eq "anchor flipped: anchor 0" "$(row 'anchor 0')" "invalid: anchor magic or checksum mismatch"
eq "anchor flipped: current anchor" "$(row 'current anchor')" none
eq "anchor flipped: the blank slot 1 is still blank, not invalid" "$(row 'anchor 1')" "blank (unused, as format leaves it)"
if [[ "$err" == *"no valid anchor"* ]]; then
	ok
else
	ko "anchor flipped: stderr: $err"
fi
corrupt "anchor 1" $((3 * 4096 + 7))
eq "anchor 1 garbage: anchor 1" "$(row 'anchor 1')" "invalid: anchor magic or checksum mismatch"
eq "anchor 1 garbage: exit" "$rc" 0
# A valid anchor copied into the other slot names the wrong block.
cp "$I" "$tmp/bad.img"
dd if="$I" of="$tmp/bad.img" bs=4096 skip=2 seek=3 count=1 conv=notrunc status=none
run info "$tmp/bad.img"
eq "anchor in the wrong slot" "$(row 'anchor 1')" \
	"invalid: anchor belongs elsewhere (location, version or uuid)"
# A newer anchor in slot 1 (what an activation writes: slot 0's content
# with the next sequence number and the logical size): the higher valid
# sequence number wins, and a damaged newer slot falls back to the older.
cp "$I" "$tmp/two-anchors.img"
python3 - "$tmp/two-anchors.img" "$tmp/layout.py" <<'PY'
import struct, sys
exec(open(sys.argv[2]).read().split("img, uuid")[0])	# crc32c() only
f = open(sys.argv[1], "r+b")
f.seek(2 * 4096)
a = bytearray(f.read(4096))
struct.pack_into("<Q", a, 8, 3)		# blocknr
struct.pack_into("<Q", a, 24, 2)	# seq
struct.pack_into("<Q", a, 72, 16384)	# nr_blocks
struct.pack_into("<I", a, 4, crc32c(bytes(a[:4]) + b"\0" * 4 + bytes(a[8:])))
f.seek(3 * 4096)
f.write(a)
PY
run info "$tmp/two-anchors.img"
eq "two anchors: exit" "$rc" 0
eq "two anchors: anchor 1" "$(row 'anchor 1')" \
	"valid: seq 2, epoch 0x$epoch3, log_seq 1, log_seg 0, log_off 0, nr_blocks 16384"
eq "two anchors: the newer wins" "$(row 'current anchor')" "1 (seq 2)"
eq "two anchors: logical size" "$(row 'logical size')" "64.00 MiB"
flip "$tmp/two-anchors.img" $((3 * 4096 + 50))
run info "$tmp/two-anchors.img"
eq "newer anchor damaged: falls back" "$rc:$(row 'current anchor')" "0:0 (seq 1)"

# A device shorter than its superblock says.
cp "$I" "$tmp/bad.img"
truncate -s 32M "$tmp/bad.img"
run info "$tmp/bad.img"
eq "truncated: superblock 0" "$(row 'superblock 0')" \
	"invalid: backing device is smaller than its superblock says (truncated?)"
eq "truncated: exit" "$rc" 1

# Foreign signatures: refused without --force, wiped with it.
E=$tmp/ext4.img
img "$E" 64M
if mkfs.ext4 -q -F "$E" >/dev/null 2>&1; then
	s0=$(sum "$E")
	failure "ext4: refused" "$E contains an ext4 filesystem; use --force to overwrite" format "$E"
	eq "ext4: nothing written" "$(sum "$E")" "$s0"
	failure "ext4: dry run refused too" "contains an ext4 filesystem" format "$E" -n
	failure "ext4: info says what it is" "$E is not an ilio store (it contains an ext4 filesystem)" info "$E"
	run format "$E" --force --dry-run
	eq "ext4: --force --dry-run" "$rc:$(row 'would replace')" "0:an ext4 filesystem"
	eq "ext4: --force --dry-run writes nothing" "$(sum "$E")" "$s0"
	run format "$E" --force
	eq "ext4: --force: exit" "$rc:$err" "0:"
	eq "ext4: --force: replaced" "$(row replaced)" "an ext4 filesystem"
	if python3 "$tmp/layout.py" "$E" "$(row uuid)" $MiB 63 >/dev/null 2>"$tmp/perr"; then
		ok
	else
		ko "ext4 --force: layout: $(tail -n 1 "$tmp/perr")"
	fi
	if command -v blkid >/dev/null; then
		blkid -p "$E" >"$tmp/blkid" 2>&1
		eq "ext4 --force: blkid finds nothing" "$?:$(cat "$tmp/blkid")" "2:"
	fi
	run info "$E"
	eq "ext4 --force: info" "$rc:$(row 'current anchor')" "0:0 (seq 1)"
else
	ko "mkfs.ext4 failed (e2fsprogs missing?)"
fi

# A DOS partition table (an MBR with one partition), and a swap signature.
img "$tmp/mbr.img" 64M
python3 - "$tmp/mbr.img" <<'PY'
import struct, sys
mbr = bytearray(512)
mbr[440:444] = b"\x12\x34\x56\x78"
mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", 2048, 20480)
mbr[510:512] = b"\x55\xaa"
open(sys.argv[1], "r+b").write(mbr)
PY
failure "partition table: refused" "contains a dos partition table; use --force to overwrite" \
	format "$tmp/mbr.img"
run format "$tmp/mbr.img" -f
eq "partition table: --force" "$rc:$(row replaced)" "0:a dos partition table"
img "$tmp/swap.img" 64M
if mkswap "$tmp/swap.img" >/dev/null 2>&1; then
	failure "swap: refused" "contains a swap signature; use --force to overwrite" format "$tmp/swap.img"
fi
# Two filesystems at once: libblkid finds them ambivalent; both are named.
img "$tmp/two.img" 64M
if mkfs.ext4 -q -F "$tmp/two.img" >/dev/null 2>&1; then
	poke "$tmp/two.img" 32768 1 67 68 48 48 49 1	# "\1CD001\1": iso9660
	failure "two signatures" \
		"contains more than one signature (an ext4 filesystem, an iso9660 filesystem)" \
		format "$tmp/two.img"
	run format "$tmp/two.img" --force
	eq "two signatures: --force" "$rc" 0
	if command -v blkid >/dev/null; then
		blkid -p "$tmp/two.img" >"$tmp/blkid" 2>&1
		eq "two signatures --force: blkid finds nothing" "$?:$(cat "$tmp/blkid")" "2:"
	fi
fi

# A block device, where the host allows loop devices (root): the size comes
# from BLKGETSIZE64, and a device that something holds exclusively (as a
# mount, swapon or device-mapper does) is refused, dry run included.
if [ "$(id -u)" = 0 ] && img "$tmp/loop.img" 64M &&
   loopdev=$(losetup -f --show "$tmp/loop.img" 2>/dev/null) && [ -b "$loopdev" ]; then
	run format "$loopdev"
	eq "loop: format" "$rc:$(row 'device size'):$(row segments)" "0:64.00 MiB (67108864 bytes):63"
	run info "$loopdev"
	eq "loop: info" "$rc:$(row 'current anchor')" "0:0 (seq 1)"
	python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL)
open(sys.argv[2], "w").close()
time.sleep(60)' "$loopdev" "$tmp/held" &
	holder=$!
	for _ in $(seq 100); do [ -e "$tmp/held" ] && break; sleep 0.1; done
	failure "loop: held exclusively" "$loopdev is in use (" format "$loopdev" --force
	failure "loop: held exclusively, dry run" "$loopdev is in use (" format "$loopdev" -n
	run info "$loopdev"
	eq "loop: info reads a held device" "$rc" 0
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	losetup -d "$loopdev" && loopdev=
fi

# info on something that was never formatted.
img "$tmp/zero.img" 64M
failure "info: blank image" "$tmp/zero.img is not an ilio store (no ilio superblock)" info "$tmp/zero.img"
eq "info: blank image: superblock 0" "$(row 'superblock 0')" \
	"invalid: no ilio superblock (format the device with ilioctl format)"

# --- probe: udev's view of a store (tools/udev/69-ilio.rules) ---------------

P=$tmp/probe.img
img "$P" 64M
run format "$P"
puuid=$(row uuid)
run probe "$P"
eq "probe: a store, udev export lines" "$rc:$out:$err" "0:ID_FS_TYPE=ilio
ID_FS_USAGE=other
ID_FS_VERSION=1
ID_FS_UUID=$puuid
ID_FS_UUID_ENC=$puuid:"
run info "$P"
eq "probe: the uuid info shows" "$(row uuid)" "$puuid"
# Copy 0 damaged: the probe reads copy 1, as the module does.
printf 'X' | dd of="$P" bs=1 seek=100 conv=notrunc status=none
run probe "$P"
eq "probe: superblock copy 0 damaged" "$rc:$(grep -c "^ID_FS_UUID=$puuid\$" <<<"$out")" "0:1"
printf 'X' | dd of="$P" bs=1 seek=$((4096 + 100)) conv=notrunc status=none
failure "probe: both copies damaged" "$P holds a damaged ilio superblock: " probe "$P"
eq "probe: both copies damaged, nothing on stdout" "$out" ""
# Not a store: exit 1 and silence (udev runs it on every blank device).
img "$P" 64M
run probe "$P"
eq "probe: blank image" "$rc:$out:$err" "1::"
img "$P" 4K
run probe "$P"
eq "probe: shorter than the superblocks" "$rc:$out:$err" "1::"
if mkfs.ext4 -q -F "$P" 64M >/dev/null 2>&1; then
	run probe "$P"
	eq "probe: ext4" "$rc:$out:$err" "1::"
else
	ko "mkfs.ext4 failed"
fi
failure "probe: no such file" "cannot read $tmp/none: No such file or directory" probe "$tmp/none"
failure "probe: a character device" "cannot read /dev/null" probe /dev/null
usage "probe: missing DEV" "probe: missing DEV" probe
usage "probe: two DEVs" "probe: unexpected argument 'b'" probe a b
usage "probe: unknown option" "unknown option '--json'" probe a --json
# --- dry-run validation (create and activate) ------------------------------
# --dry-run runs every check the kernel's constructor would make before it
# prints the line: the table parser, the RAM budget (ilio_check_budget(),
# linked in), and for a backing device: it exists, is a block device, holds
# an ilio store (superblock and anchor), its journal.  Each of the issue's
# four examples fails, with a clear reason.
usage "dry run: 16T over 4M of RAM" \
	"--ram 4.00 MiB is too small for --size 16.00 TiB: the kernel refuses it (ram_mb is too small for the LBA map of this length); it needs at least 35 MiB" \
	create d --diskless --size 16T --ram 4M --dry-run
run create d --diskless --size 16T --ram 35M --dry-run
eq "dry run: 16T over the minimum it named" "$rc:$out" \
	"0:0 34359738368 ilio - 35 6 dedup on compress lz4 block_size 4096"
usage "dry run: 34M is one too few" "it needs at least 35 MiB" \
	create d --diskless --size 16T --ram 34M --dry-run
usage "dry run: size 2^64-4096" \
	"--size 16.00 EiB is too large: the kernel refuses it (Target length too large (at most 512 TiB))" \
	create d --diskless --size 18446744073709547520 --ram 4M --dry-run
usage "dry run: 512 TiB + 4 KiB" "Target length too large (at most 512 TiB)" \
	create d --diskless --size 562949953425408 --ram 16T --dry-run
failure "dry run: a missing backing device" "backing device $tmp/nonexistent does not exist" \
	create d --backing "$tmp/nonexistent" --size 1G --ram 64M --dry-run
[ -z "$out" ] && ok || ko "dry run: missing backing device: stdout '$out'"
img "$tmp/plain.img" 64M
"$ILIOCTL" format "$tmp/plain.img" >/dev/null 2>&1
failure "dry run: a regular file (even a formatted one)" \
	"backing device $tmp/plain.img is a regular file, not a block device (attach it first: losetup --find --show $tmp/plain.img)" \
	create d --backing "$tmp/plain.img" --size 1G --ram 64M --dry-run
failure "dry run: a directory" "backing device $tmp is not a block device" \
	create d --backing "$tmp" --size 1G --ram 64M --dry-run
failure "activate: a missing device" "backing device $tmp/nonexistent does not exist" \
	activate "$tmp/nonexistent" --dry-run
usage "--readonly with --diskless" "--readonly is for persistent mode (--backing DEV), not --diskless" \
	create d --diskless --size 1G --ram 64M --readonly
usage "--journal with --diskless" "--journal is for persistent mode" \
	create d --diskless --size 1G --ram 64M --journal /dev/x
usage "--takeover with --diskless" "--takeover is for persistent mode" \
	create d --diskless --size 1G --ram 64M --takeover
usage "--takeover with --readonly" "--takeover is for a read-write activation, not --readonly" \
	create d --backing /dev/x --size 1G --ram 64M --takeover --readonly
usage "bad --overcommit-warn" "invalid --overcommit-warn '1.5' (a whole factor; 0: never warn)" \
	create d --diskless --size 1G --ram 64M --overcommit-warn 1.5
usage "activate: missing DEV" "activate: missing backing device DEV" activate --ram 64M
usage "activate: DEV '-'" "invalid backing device '-'" activate -
usage "activate: DEV with a blank" "invalid backing device 'a b' (whitespace)" activate "a b"
usage "--journal '-'" "invalid journal device '-'" activate /dev/x --journal -
usage "--journal ''" "--journal needs a device path" activate /dev/x --journal ''
usage "activate: --diskless is create's" "activate: '--diskless' is an option of 'create'" \
	activate /dev/x --diskless
usage "create: --name is activate's" "create: '--name' is an option of 'activate'" \
	create d --diskless --size 4K --ram 4M --name x
usage "activate: a bad --name" "invalid device name 'a/b'" activate /dev/x --name a/b
usage "activate: --ram below the bound" "--ram must be between 4 MiB and 16 TiB" activate /dev/x --ram 2M
usage "activate: a repeated option" "option '--ram' given twice" \
	activate /dev/x --ram 64M --ram 128M

if [ -n "$lb" ] && img "$tmp/lz.img" 64M && img "$tmp/lj.img" 16M &&
   img "$tmp/ls.img" 64M && "$ILIOCTL" format "$tmp/ls.img" --journal "$tmp/lj.img" >/dev/null &&
   lz=$(losetup -f --show "$tmp/lz.img") && lj=$(losetup -f --show "$tmp/lj.img") &&
   lsj=$(losetup -f --show "$tmp/ls.img"); then
	failure "dry run: a blank block device" \
		"$lz is not an ilio store (format it with: ilioctl format $lz)" \
		create d --backing "$lz" --size 1G --ram 64M --dry-run
	mkfs.ext4 -q -F "$lz" 2>/dev/null
	failure "dry run: an ext4 filesystem" "$lz is not an ilio store (it contains an ext4 filesystem)" \
		create d --backing "$lz" --size 1G --ram 64M --dry-run
	failure "activate: an ext4 filesystem" "is not an ilio store (it contains an ext4 filesystem)" \
		activate "$lz" --size 1G --dry-run
	ln -s "$lb" "$tmp/by-uuid-link"
	dry "dry run: a symbolic link to the store" \
		"0 2097152 ilio $tmp/by-uuid-link 64 6 dedup on compress lz4 block_size 4096" \
		d --backing "$tmp/by-uuid-link" --size 1G --ram 64M

	# The overcommit warning (1 GiB store, 1023 MiB of segments).
	run create d --backing "$lb" --size 20G --ram 64M --dry-run
	eq "overcommit: 20x warns, rc and line" "$rc:$out" \
		"0:0 41943040 ilio $lb 64 6 dedup on compress lz4 block_size 4096"
	eq "overcommit: the warning" "$err" \
		"ilioctl: warning: the logical size 20.00 GiB is 20.0x the capacity of $lb (1023.00 MiB): writes fail once the store is full, unless dedup and compression keep up (--overcommit-warn 0 silences this)"
	run create d --backing "$lb" --size 10G --ram 64M --dry-run
	eq "overcommit: 10.01x is past the default factor 10" "$rc:${err:0:16}" "0:ilioctl: warning"
	run create d --backing "$lb" --size 10230M --ram 64M --dry-run
	eq "overcommit: exactly 10x does not warn" "$rc:$err" "0:"
	run create d --backing "$lb" --size 20G --ram 64M --dry-run --overcommit-warn 0
	eq "overcommit: 0 never warns" "$rc:$err" "0:"
	run create d --backing "$lb" --size 20G --ram 64M --dry-run --overcommit-warn 25
	eq "overcommit: a larger factor" "$rc:$err" "0:"
	run create d --backing "$lb" --size 20G --ram 64M --dry-run --overcommit-warn 2
	eq "overcommit: a smaller factor" "$rc:${err:0:16}" "0:ilioctl: warning"

	# activate: the size a store records is set at its first activation.
	failure "activate: a store never activated needs --size" \
		"$lb was never activated, so it records no logical size yet: give --size once" \
		activate "$lb" --dry-run
	sbuuid=$("$ILIOCTL" info "$lb" | sed -n 's/^ *uuid *//p')
	run activate "$lb" --size 1G --dry-run
	eq "activate: default --ram 256M and name ilio-<uuid>" "$rc:$out" \
		"0:0 2097152 ilio $lb 256 6 dedup on compress lz4 block_size 4096
would create /dev/mapper/ilio-${sbuuid:0:8}"
	run activate "$lb" --size 1G --name vdi --ram 1G --readonly --no-compress --coalesce off -n
	eq "activate: options" "$rc:$out" \
		"0:0 2097152 ilio $lb 1024 8 dedup on compress none block_size 4096 coalesce off
would create /dev/mapper/vdi (read-only)"
	run activate "$lb" --size 256T --dry-run --overcommit-warn 0
	eq "activate: --ram grows with the LBA map (256 TiB: a 520 MiB map, the store's tables, + 64 MiB)" "$rc:${out%%$'\n'*}" \
		"0:0 549755813888 ilio $lb 589 6 dedup on compress lz4 block_size 4096"
	# The constructor's second budget check: the store's segment table.
	usage "dry run: --ram too small for the store's segment table" \
		"--ram 4.00 MiB is too small for the store on $lb: the kernel refuses it (ram_mb is too small for the segment table of this device); it needs at least 5 MiB" \
		create d --backing "$lb" --size 1G --ram 4M --dry-run
	run create d --backing "$lb" --size 1G --ram 5M --dry-run
	eq "dry run: the least --ram named suffices" "$rc" 0
	usage "activate: --max-dirty above the default --ram" "--max-dirty (512 MiB) must not exceed --ram (256 MiB)" \
		activate "$lb" --size 1G --max-dirty 512M -n

	# The journal: a store formatted with one needs it, and only its own.
	failure "journal: store bound to one, none given" "$lsj is bound to a journal device: give --journal JDEV" \
		activate "$lsj" --size 1G --dry-run
	run activate "$lsj" --size 1G --journal "$lj" --name j -n --overcommit-warn 0
	eq "journal: its own journal" "$rc:$out" \
		"0:0 2097152 ilio $lsj 256 8 dedup on compress lz4 block_size 4096 journal $lj
would create /dev/mapper/j"
	failure "journal: a store without one" "$lb was formatted without a journal" \
		create d --backing "$lb" --size 1G --ram 64M --journal "$lj" -n
	failure "journal: not a journal" "journal device $lb holds no ilio journal" \
		activate "$lsj" --size 1G --journal "$lb" -n
	"$ILIOCTL" format "$tmp/lj.img" --force >/dev/null 2>&1	# now a store, not a journal
	failure "journal: overwritten" "journal device $lj holds no ilio journal" \
		activate "$lsj" --size 1G --journal "$lj" -n
else
	echo "SKIP: dry-run checks of block devices (need root and loop devices)"
fi

# --- message, list, units (no kernel: usage, and --parse-status) ----------
usage "message: no NAME" "message: missing device NAME" message
usage "message: no MESSAGE" "message: missing MESSAGE (gc, compact, checkpoint, check or clear_stats)" message d
usage "message: unknown" "message: unknown message 'defrag' (gc, compact, checkpoint, check or clear_stats)" \
	message d defrag
usage "message: an argument" "message: unexpected argument 'now' (messages take no arguments)" \
	message d gc now
usage "message: a bad NAME" "invalid device name 'a/b'" message a/b gc
# grow: usage errors before any kernel access (t-28 grows for real)
usage "grow: no NAME" "grow: missing device NAME" grow
usage "grow: two NAMEs" "grow: unexpected argument 'e'" grow d e
usage "grow: a bad NAME" "invalid device name 'a/b'" grow a/b --size 8G
usage "grow: bad --size" "invalid size 'big' for --size (examples: 512M, 8G, 2T)" \
	grow d --size big
usage "grow: --size not 4 KiB" "grow: --size must be a non-zero multiple of 4 KiB" \
	grow d --size 6000
usage "grow: --size 0" "grow: --size must be a non-zero multiple of 4 KiB" grow d --size 0
usage "grow: --ram too small" "grow: --ram must be from 1 MiB to 16777216 MiB" \
	grow d --ram 4096
usage "grow: --size twice" "option '--size' given twice" grow d --size 8G --size 4G
# path: usage errors before any kernel access (t-38 switches for real)
usage "path: no NAME" "path: missing device NAME" path
usage "path: no DEV" "path: missing the new backing device DEV" path d
usage "path: three arguments" "path: unexpected argument 'f'" path d e f
usage "path: a bad NAME" "invalid device name 'a/b'" path a/b /dev/null
usage "path: --dry-run twice" "option '--dry-run' given twice" path d e -n --dry-run
usage "list: a NAME" "list: unexpected argument 'd' (ilioctl status NAME shows one device)" list d
usage "list: --bytes and --si" "list: --bytes and --si are mutually exclusive" list --bytes --si
usage "status: --bytes and --si" "status: --bytes and --si are mutually exclusive" status --si --bytes

LD=$(status_line vdi: 0 16777216 write $((6 * GiB)) $((2 * GiB)) $((1 * GiB)) $((1536 * MiB)) $((2 * GiB)) \
	0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)
TD="vdi: 0 16777216 ilio - 2048 6 dedup on compress lz4 block_size 4096"
LP=$(status_line lun: 0 2097152 read-only 0 0 0 $((4 * MiB)) $((256 * MiB)) \
	0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)
TP="lun: 0 2097152 ilio 8:16 256 6 dedup on compress lz4 block_size 4096"
run list --parse-status "$LD" --parse-table "$TD" --parse-status "$LP" --parse-table "$TP"
eq "list: one line per device" "$rc:$out" "0:NAME MODE          DISKSIZE     DATA   STORED RATIO SAVINGS RAM-USED  RAM-LIMIT FILL
vdi  diskless      8.00 GiB 6.00 GiB 1.00 GiB 6.00x   83.3% 1.50 GiB   2.00 GiB    -
lun  persistent,ro 1.00 GiB      0 B      0 B     -       - 4.00 MiB 256.00 MiB    -"
run list --bytes --noheadings --parse-status "$LD" --parse-table "$TD"
eq "list --bytes" "$rc:$out" "0:vdi  diskless 8589934592 6442450944 1073741824 6.00x   83.3% 1610612736 2147483648    -"
run list --si --noheadings --parse-status "$LD"
eq "list --si, no table: mode unknown" "$rc:$out" "0:vdi  -     8.59 GB 6.44 GB 1.07 GB 6.00x   83.3%  1.61 GB   2.15 GB    -"
run list --json --parse-status "$LD" --parse-table "$TD" --parse-status "$LP" --parse-table "$TP"
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
d = json.loads(sys.argv[1])["devices"]
assert [x["name"] for x in d] == ["vdi", "lun"]
v, l = d
assert v == {"schema_version": 1, "name": "vdi", "mode": "diskless", "disksize": 8589934592,
             "data": 6442450944, "stored": 1073741824, "ratio": 6.0,
             "savings": 83.3, "ram-used": 1610612736, "ram-limit": 2147483648,
             "fill": None}, v
assert l["mode"] == "persistent,ro" and l["ratio"] is None and l["savings"] is None
# schema_version leads each object, as in status --json.
assert list(v)[0] == "schema_version" and list(l)[0] == "schema_version", (list(v), list(l))
assert l["schema_version"] == 1
' "$out"; then ok; else ko "list --json: rc=$rc out=$out"; fi
run list --json --parse-status "$(status_line 'a"b\' 0 8 write 0 0 0 0 4194304 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)"
python3 -c 'import json, sys; assert json.loads(sys.argv[1])["devices"][0]["name"] == "a\"b\\"' "$out" &&
	ok || ko "list --json escapes names: $out"
run status --bytes --parse-status "$LD" --parse-table "$TD"
eq "status --bytes: logical size" "$(row 'logical size')" 8589934592
eq "status --bytes: RAM" "$(row 'RAM used / limit')" "1610612736 / 2147483648 (75.0%)"
run status --si --parse-status "$LD" --parse-table "$TD"
eq "status --si: logical size" "$(row 'logical size')" "8.59 GB"

# --- live commands without such a device: exit 1 ----------------------------

# Whatever this host has (no device-mapper, no permission, or no such
# device), a missing device is a runtime error: exit 1, "ilioctl: ...".
ghost=ilioctl-test-no-such-device-$$
for c in "remove $ghost" "clear-stats $ghost" "status $ghost" "status $ghost --json" \
	"message $ghost check" "message $ghost gc" "grow $ghost" "grow $ghost --size 8G" \
	"path $ghost /dev/null"; do
	# shellcheck disable=SC2086
	run $c
	if [ "$rc" -eq 1 ] && [[ "$err" == "ilioctl: "* ]] && [ -z "$out" ]; then
		ok
	else
		ko "ilioctl $c: rc=$rc out=$out err=$err"
	fi
done

# --- Prometheus ----------------------------------------------------------------
# Two devices: a current (25-field) line and an older module's 17-field one
# whose name needs escaping.  The exposition format is checked line by line.
P25="vdi 0 2097152 ilio write $(seq 2 25 | paste -sd' ')"
P17='old"x 0 8 ilio read-only '"$(seq 102 117 | paste -sd' ')"
run status --prometheus --parse-status "$P25" --parse-status "$P17"
eq "prometheus: exit" "$rc" 0
printf '%s\n' "$out" >"$tmp/prom"
if python3 - "$tmp/prom" "$root/tests/unit/ilio-fields-list.sh" "$root" <<'PY' 2>"$tmp/perr"; then ok; else ko "prometheus format: $(tail -n 3 "$tmp/perr")"; fi
import re, subprocess, sys
lines = open(sys.argv[1]).read().splitlines()
rows = subprocess.run(["bash", sys.argv[2], sys.argv[3]], capture_output=True, text=True, check=True).stdout.split()
fields = [rows[i + 2] for i in range(0, len(rows), 3) if rows[i].startswith("status_")]
assert len(fields) == 24, len(fields)
gauges = {"logical_bytes", "unique_bytes", "stored_bytes", "ram_used_bytes", "ram_limit_bytes",
          "dirty_bytes", "backend_bytes", "backend_free_bytes"}
sample = re.compile(r'^([a-z_]+)\{device="((?:[^"\\]|\\.)*)"(?:,mode="([a-z-]+)")?\} ([0-9]+)$')
families, order, cur, vals = {}, [], None, {}
for l in lines:
    if l.startswith("# HELP "):
        cur = l.split()[2]; assert cur not in families, cur; families[cur] = None; order.append(cur)
    elif l.startswith("# TYPE "):
        n, t = l.split()[2:4]; assert n == cur, (n, cur); families[n] = t
    else:
        m = sample.match(l); assert m, l
        assert m.group(1) == cur, (l, cur)
        vals[(cur, m.group(2), m.group(3))] = int(m.group(4))
want = ["ilio_" + f + ("" if f in gauges else "_total") for f in fields] + ["ilio_mode", "ilio_size_bytes"]
assert order == want, order
for f in fields:
    n = "ilio_" + f + ("" if f in gauges else "_total")
    assert families[n] == ("gauge" if f in gauges else "counter"), (n, families[n])
# field at position p is p on the 25-field line, 100 + p on the 17-field one
for i, f in enumerate(fields):
    n = "ilio_" + f + ("" if f in gauges else "_total")
    assert vals[(n, "vdi", None)] == i + 2, (n, vals.get((n, "vdi", None)))
    if i + 2 <= 17:
        assert vals[(n, 'old\\"x', None)] == 100 + i + 2, n
    else:
        assert (n, 'old\\"x', None) not in vals, n
assert vals[("ilio_mode", "vdi", "write")] == 1
assert vals[("ilio_mode", 'old\\"x', "read-only")] == 1
assert vals[("ilio_size_bytes", "vdi", None)] == 2097152 * 512
assert vals[("ilio_size_bytes", 'old\\"x', None)] == 8 * 512
PY
run status --prometheus --json --parse-status "$P25"
eq "--prometheus with --json: usage error" "$rc" 2
run status --prometheus --parse-status "vdi 0 8 ilio write 1 2 3"
eq "--prometheus on a malformed line: refused" "$rc" 1

# --- iostat ----------------------------------------------------------------------
# Readings from --parse-status lines: a reading ends before a device it has.
IL() {	# NAME DEDUP ZERO RIOS RBYTES WIOS WBYTES BE_RIOS BE_WIOS BE_WBYTES RAM_USED DIRTY
	local log=0	# backend_bytes: vdi is persistent, the others diskless
	[ "$1" = vdi ] && log=$GiB
	echo "$1 0 2097152 ilio write 0 0 0 ${11} 536870912 $2 $3 $4 $5 $6 $7 $8 0 $9 ${10} 0 ${12} 0 0 0 0 0 $log 0"
}
run iostat --interval 2 \
	--parse-status "$(IL vdi 0 0 0 0 0 0 0 0 0 0 0)" \
	--parse-status "$(IL vdi 100 50 200 819200 400 3276800 10 4 2097152 268435456 1048576)" \
	--parse-status "$(IL new 0 0 0 0 0 0 0 0 0 0 0)" \
	--parse-status "$(IL vdi 10 5 20 81920 40 327680 0 0 0 0 0)" \
	--parse-status "$(IL new 0 0 8 32768 0 0 0 0 0 0 0)"
eq "iostat: exit" "$rc" 0
eq "iostat: header, then a line per device that has an older reading" "$(printf '%s\n' "$out" | awk '{ print $1 }' | paste -sd' ')" "device vdi vdi new"
eq "iostat: rates over the interval" "$(printf '%s\n' "$out" | sed -n 2p | tr -s ' ')" \
	"vdi 100.0 200.0 0.39 1.56 5.0 2.0 1.00 18.8 95.0 1.0 50.0"
eq "iostat: a counter that went down (clear_stats) counts from zero" \
	"$(printf '%s\n' "$out" | sed -n 3p | tr -s ' ')" "vdi 10.0 20.0 0.04 0.16 0.0 0.0 0.00 18.8 100.0 0.0 0.0"
eq "iostat: no writes: dedup% is -; diskless: ram_r% is -" "$(printf '%s\n' "$out" | sed -n 4p | awk '{ print $2, $9, $10 }')" "4.0 - -"
run iostat --interval 0 --parse-status "$(IL vdi 0 0 0 0 0 0 0 0 0 0 0)"
eq "iostat: --interval 0 refused" "$rc" 2
run iostat --interval 3601 --parse-status "$(IL vdi 0 0 0 0 0 0 0 0 0 0 0)"
eq "iostat: --interval 3601 refused" "$rc" 2
run iostat --count x --parse-status "$(IL vdi 0 0 0 0 0 0 0 0 0 0 0)"
eq "iostat: --count x refused" "$rc" 2
run iostat --count 1 --parse-status "$(IL vdi 0 0 0 0 0 0 0 0 0 0 0)" \
	--parse-status "$(IL vdi 2 0 2 8192 2 8192 0 0 0 0 0)" --parse-status "$(IL vdi 4 0 4 8192 4 8192 0 0 0 0 0)"
eq "iostat: --count 1 prints one report" "$(printf '%s\n' "$out" | wc -l)" 2
run iostat vdi --parse-status "$(IL vdi 0 0 0 0 0 0 0 0 0 0 0)"
eq "iostat: NAME with --parse-status: usage error" "$rc" 2
run iostat --parse-status "vdi 0 8 ilio write 1 2"
eq "iostat: a malformed line is refused" "$rc" 1

# tests/unit/run-unit.sh collects "<name>: N passed, N failed"; the closing
# line is the bare count.
echo "test-ilioctl: $pass passed, $fail failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
