#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test-fields.sh - proves that the statistics interface is defined once,
# in dm-ilio/ilio-fields.h, and that its users derive from it:
#   * the header itself: status positions run 2, 3, ... without a gap, the
#     17-field line is the V1 list plus the mode word, and no name is used
#     twice;
#   * ilioctl's parser and JSON: a line with one distinct value per field
#     comes out under the header's names, in the header's order, for the
#     current line and for the 17-field line of older modules (whose newer
#     keys are null); lines one field longer than the V1 list or one
#     field short of the current one are refused;
#   * the module and ilioctl do not spell a field name out again: no
#     ilio-target.c, ilio-sysfs.c or tools/*.c string literal is a field
#     name; and when the module is built, ilio-sysfs.o holds every sysfs
#     name;
#   * the admin guide's status table numbers the same fields in the same
#     order, and its sysfs section names every sysfs-only value;
#   * scope PERSISTENT (the files a diskless device does not show) is
#     exactly the rows documented "persistent:" plus the histogram, and
#     the ABI document marks exactly those "Persistent only:".
#
# Usage: bash tests/unit/test-fields.sh  (builds tools/ilioctl if needed;
#        ILIOCTL=path skips the build)
# Prints one line per failure, then "test-fields: N passed, N failed".
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
eq() { if [ "$2" = "$3" ]; then ok; else ko "$1: got '$2', want '$3'"; fi; }

cd "$root" || exit 1
if [ -z "${ILIOCTL:-}" ]; then
	ILIOCTL=$root/tools/ilioctl
	make -s -C "$root/tools" >/dev/null || ko "cannot build tools/ilioctl"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rows=$(bash "$root/tests/unit/ilio-fields-list.sh" "$root") || ko "cannot expand ilio-fields.h"
v1=$(awk '$1 == "status_v1" { print $3 }' <<<"$rows")
v2=$(awk '$1 == "status_v2" { print $3 }' <<<"$rows")
status=$(awk '$1 ~ /^status_/ { print $3 }' <<<"$rows")
sysfs_only=$(awk '$1 == "sysfs" { print $3 }' <<<"$rows")
special=$(awk '$1 == "special" { print $3 }' <<<"$rows")
modes=$(awk '$1 == "mode" { print $3 }' <<<"$rows")
persistent=$(awk '$1 == "persistent" { print $3 }' <<<"$rows")
n_v1=$(wc -l <<<"$v1")
n_st=$(wc -l <<<"$status")

# --- the header ---------------------------------------------------------------
eq "positions run 2.. without a gap" \
	"$(awk '$1 ~ /^status_/ { print $2 }' <<<"$rows" | paste -sd' ')" "$(seq 2 $((n_st + 1)) | paste -sd' ')"
eq "the old line has 17 fields" "$((n_v1 + 1))" 17
n_v2=$((n_v1 + $(wc -l <<<"$v2")))
eq "the line before the fill fields has 23 fields" "$((n_v2 + 1))" 23
eq "the current line has 25 fields" "$((n_st + 1))" 25
eq "sysfs-only values are not on the line" "$(awk '$1 == "sysfs" && $2 != 0' <<<"$rows")" ""
eq "no name twice" "$(printf '%s\n' "$status" "$sysfs_only" "$special" | sort | uniq -d)" ""
eq "three mode words" "$(paste -sd' ' <<<"$modes")" "write read-only fail"
# Scope PERSISTENT (the files a diskless device does not show) is exactly
# the rows whose doc says "persistent:", fields 18..25 among them, and
# the histogram; mode and the fields 2..17 are on every device.
docs=$( {
	echo '#include "ilio-fields.h"'
	echo 'ILIO_FIELDS_DOC_BEGIN'
	echo '#define D(ID, name, pos, src, scope, member, doc) @name scope doc'
	echo 'ILIO_ALL_FIELDS(D)'
} | cpp -P -I "$root/dm-ilio" - | sed -n '/^ILIO_FIELDS_DOC_BEGIN/,$p' | tail -n +2 | tr '@' '\n')
eq "scope PERSISTENT is the rows documented \"persistent:\"" \
	"$(awk '$2 != ($3 ~ /^"persistent:/ ? "PERSISTENT" : "ANY") { print $1 }' <<<"$docs")" ""
eq "no ANY/PERSISTENT typo" "$(awk 'NF && $2 != "ANY" && $2 != "PERSISTENT" { print $1 }' <<<"$docs")" ""
eq "persistent only: fields 18..25, the sysfs-only ones of the backing device, the histogram" \
	"$(paste -sd' ' <<<"$persistent")" \
	"$(awk '$1 ~ /^status_/ && $2 >= 18 { print $3 }' <<<"$rows" | paste -sd' ') cache_bytes backend_flushes checkpoints free_segments nr_segments chunks_damaged journal_writes journal_bytes journal_failed elided_bytes $(for c in normal pin nocache temp; do for s in cache_hits cache_misses cache_bytes dirty_bytes; do printf '%s_%s ' $c $s; done; done)backend_write_size_hist"

# --- ilioctl's parser and JSON keys -------------------------------------------
# line N: "d 0 8 ilio write" and the first N fields, field at pos p = 1000 + p.
line() { echo "d 0 8 ilio write $(seq 1002 $((1000 + $1 + 1)) | paste -sd' ')"; }
check_json() {	# DESC NR-FIELDS
	"$ILIOCTL" status --json --parse-status "$(line "$2")" >"$tmp/j" 2>"$tmp/e" ||
		{ ko "$1: ilioctl failed: $(cat "$tmp/e")"; return; }
	if python3 - "$tmp/j" "$2" "$status" <<'PY' 2>"$tmp/e"; then ok; else ko "$1: $(tail -n 2 "$tmp/e")"; fi
import json, sys
d = json.load(open(sys.argv[1]))[0]
nr, names = int(sys.argv[2]), sys.argv[3].split()
assert d["status_fields"] == nr + 1, d["status_fields"]
for i, n in enumerate(names):
    want = 1002 + i if i < nr else None
    assert d[n] == want, (n, d[n], want)
keys = [k for k in d if k in names]
assert keys == names, keys
PY
}
check_json "current line: every field under the header's name, in order" "$n_st"
check_json "17-field line: the V1 names, newer ones null" "$n_v1"
check_json "23-field line: the V1 and V2 names, newer ones null" "$n_v2"
for n in $((n_v1 + 1)) $((n_v2 - 1)) $((n_v2 + 1)) $((n_st - 1)) $((n_v1 - 1)); do
	"$ILIOCTL" status --parse-status "$(line "$n")" >/dev/null 2>&1
	eq "a line of $((n + 1)) fields is refused" "$?" 1
done
"$ILIOCTL" status --parse-status "$(line "$((n_st + 1))")" >/dev/null 2>&1
eq "an appended field is ignored" "$?" 0

# --- no second spelling of a name ---------------------------------------------
# (ilioctl's human row labels are prose for people: "flushes" is one.)
nr_src=0
for f in dm-ilio/ilio-target.c dm-ilio/ilio-sysfs.c tools/*.c; do
	[ -f "$f" ] || { ko "$f: no such source"; continue; }
	nr_src=$((nr_src + 1))
	hits=
	for n in $status $sysfs_only $special; do
		grep -F "\"$n\"" "$root/$f" | grep -qv 'ilio_row(' && hits="$hits $n"
	done
	eq "$f spells no field name" "$hits" ""
done
[ "$nr_src" -ge 10 ] && ok || ko "only $nr_src sources checked for spelled names"
if [ -f "$root/dm-ilio/ilio-sysfs.o" ]; then
	missing=
	for n in $status $sysfs_only $special; do
		strings -a "$root/dm-ilio/ilio-sysfs.o" | grep -qxF "$n" || missing="$missing $n"
	done
	eq "ilio-sysfs.o holds every sysfs name" "$missing" ""
else
	echo "note: module not built, ilio-sysfs.o check skipped"
fi

# --- the admin guide ------------------------------------------------------------
rst=$root/Documentation/admin-guide/device-mapper/ilio.rst
table=$(sed -n '/^Status$/,/^sysfs$/p' "$rst" | grep -E '^ ?[0-9]+  +[a-z_]+ ' | awk '{ print $1, $2 }')
eq "admin guide status table" "$(paste -sd' ' <<<"$table")" \
	"1 mode $(awk '$1 ~ /^status_/ { print $2, $3 }' <<<"$rows" | paste -sd' ')"
sysfs_doc=$(sed -n '/^sysfs$/,/^Messages$/p' "$rst")
missing=
for n in $sysfs_only $special; do
	grep -qF "\`\`$n\`\`" <<<"$sysfs_doc" || missing="$missing $n"
done
eq "admin guide sysfs section names every sysfs-only file" "$missing" ""
row1=$(sed -n '/^Status$/,/^sysfs$/p' "$rst" | sed -n '/^ 1  /,/^ 2  /p')
for m in $modes; do
	grep -qF "\`\`$m\`\`" <<<"$row1" && ok || ko "admin guide status field 1 lacks mode word $m"
done

# --- the sysfs ABI document -----------------------------------------------------
abi=$root/Documentation/ABI/testing/sysfs-block-dm-ilio
eq "ABI: one What: per sysfs file, in the header's order, after the directory" \
	"$(sed -n 's|^What:\t\t/sys/block/dm-<N>/ilio/||p' "$abi" | paste -sd' ')" \
	" mode backend_write_size_hist $(printf '%s\n' $status $sysfs_only | paste -sd' ')"
# Each entry names its status field (or says "sysfs only"), as the header does.
bad=
while read -r list pos name; do
	case $list in status_*) want="status field $pos." ;; sysfs) want="sysfs only." ;; *) continue ;; esac
	entry=$(awk -v w="What:\t\t/sys/block/dm-<N>/ilio/$name" '$0 == w { p = 1; next } /^What:/ { p = 0 } p' "$abi" | tr -s ' \t\n' ' ')
	[[ "$entry" == *"$want"* ]] || bad="$bad $name"
done <<<"$rows"
eq "ABI: every entry names its status field" "$bad" ""
# "Persistent only:" marks exactly the files a diskless device lacks.
bad=
for name in $status $sysfs_only $special; do
	entry=$(awk -v w="What:\t\t/sys/block/dm-<N>/ilio/$name" '$0 == w { p = 1; next } /^What:/ { p = 0 } p' "$abi" | tr -s ' \t\n' ' ')
	if grep -qxF "$name" <<<"$persistent"; then
		[[ "$entry" == *"Description: Persistent only: "* ]] || bad="$bad +$name"
	else
		[[ "$entry" != *"Persistent only"* ]] || bad="$bad -$name"
	fi
done
eq "ABI: \"Persistent only:\" on exactly the persistent-only files" "$bad" ""

echo "test-fields: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
