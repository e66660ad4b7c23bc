#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test-ilioctl.sh - proves, without a kernel, that ilioctl (tools/ilioctl.c):
#   * rejects every kind of bad usage with exit status 2 and an "ilioctl: "
#     message on stderr, and prints nothing on stdout then;
#   * builds the exact table line dm-ilio expects (checked with --dry-run),
#     including size suffixes, feature flags and argument order;
#   * parses the 17-field INFO status line (ignoring appended fields, refusing
#     short or malformed lines with exit 1) and renders it: human sizes,
#     ratios, savings, RAM use and I/O offload, with "-" for zero
#     denominators (checked with --parse-status/--parse-table);
#   * prints valid JSON (python3 -m json.tool) holding every raw field and
#     the computed ratios, with strings escaped;
#   * fails a live command with exit 1 and an "ilioctl: " message when there
#     is no such device (or no device-mapper at all).
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
trap 'rm -rf "$tmp"' EXIT

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
for c in create remove status clear-stats; do
	run $c --help
	if [ "$rc" -eq 0 ] && [[ "$out" == *"Usage: ilioctl"* ]]; then
		ok
	else
		ko "ilioctl $c --help: rc=$rc err=$err"
	fi
done
run --version
if [ "$rc" -eq 0 ] && [[ "$out" == "ilioctl "* ]]; then ok; else ko "--version: rc=$rc out=$out"; fi

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
usage "status: NAME and --parse-status" "cannot be combined" status d --parse-status "d 0 8 ilio write"
usage "status: --parse-table alone" "--parse-table needs --parse-status" status --parse-table "d 0 8 ilio - 1"
usage "bad usage wins over dry-run" "--size must be a multiple" create d --diskless --size 4097 --ram 1G --dry-run

# --- table lines (--dry-run) ------------------------------------------------

dry "diskless 8G/2G" "0 16777216 ilio - 2048 6 dedup on compress lz4 block_size 4096" \
	d --diskless --size 8G --ram 2G
dry "no dedup, no compress, 512" "0 1048576 ilio - 64 6 dedup off compress none block_size 512" \
	d --diskless --size 512M --ram 64M --no-dedup --no-compress --block-size 512
dry "backing passed through" "0 2147483648 ilio /dev/sdb 1024 6 dedup on compress lz4 block_size 4096" \
	d --backing /dev/sdb --size=1TiB --ram=1gib
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
dry "last --size wins" "0 16 ilio - 4 6 dedup on compress lz4 block_size 4096" \
	d --diskless --size 4K --size 8K --ram 4M
run create d --diskless --size 8G --ram 2G -n -v
eq "-n -v prints the table once" "$out" "0 16777216 ilio - 2048 6 dedup on compress lz4 block_size 4096"

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
	99 100 extra)
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

# --- live commands without such a device: exit 1 ----------------------------

# Whatever this host has (no device-mapper, no permission, or no such
# device), a missing device is a runtime error: exit 1, "ilioctl: ...".
ghost=ilioctl-test-no-such-device-$$
for c in "remove $ghost" "clear-stats $ghost" "status $ghost" "status $ghost --json"; do
	# shellcheck disable=SC2086
	run $c
	if [ "$rc" -eq 1 ] && [[ "$err" == "ilioctl: "* ]] && [ -z "$out" ]; then
		ok
	else
		ko "ilioctl $c: rc=$rc out=$out err=$err"
	fi
done

# tests/unit/run-unit.sh collects "<name>: N passed, N failed"; the closing
# line is the bare count.
echo "test-ilioctl: $pass passed, $fail failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
