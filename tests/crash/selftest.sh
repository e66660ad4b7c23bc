#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftest.sh - host self-test of ilio-crashcheck (no kernel, no root): a
# sparse file stands in for the device, and the --mark-cmd copies it at every
# flush, so each copy is exactly the state flush k promised. Proves that
# verify accepts every such copy at its own flush (exact op bound) and at
# earlier flushes (later ops allowed), and rejects a copy checked against a
# later flush (stale data), an injected lost write (and names its LBA), a
# block of random bytes and a misplaced block; and that bad usage exits 2.
#
# Usage: selftest.sh [PATH_TO_ilio-crashcheck]

set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CC=${1:-$HERE/../../build/crash/ilio-crashcheck}
[ -x "$CC" ] || { echo "selftest: $CC not built (make -C tests/crash)" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
# check MSG -- CMD...: CMD succeeds (a condition, output hidden).
check() {
	local msg=$1
	shift 2
	if "$@" >/dev/null 2>&1; then
		ok "$msg"
	else
		bad "$msg"
	fi
}
# expect RC MSG -- CMD...
expect() {
	local want=$1 msg=$2 rc
	shift 3
	"$@" >"$T/out" 2>&1
	rc=$?
	if [ "$rc" = "$want" ]; then
		ok "$msg (exit $rc)"
	else
		bad "$msg: exit $rc, expected $want"
		tail -n 5 "$T/out" | sed 's/^/  | /'
	fi
}

N=2048
OPS=1200
EVERY=40
truncate -s $((N * 4096)) "$T/dev"
expect 0 "workload on a file, a copy at every flush" -- \
	"$CC" workload "$T/dev" --blocks $N --ops $OPS --seed 11 --flush-every $EVERY \
	--record "$T/rec" --mark-cmd "cp --sparse=always $T/dev $T/snap.%s" \
	--durable-at 500:true
F=$(grep -c '^f ' "$T/rec")
check "record has $((OPS / EVERY)) flushes and the durable hook ($F)" -- [ "$F" = $((OPS / EVERY + 1)) ]
check "hook recorded" -- grep -q '^h 500 true$' "$T/rec"

good=0
for ((k = 1; k <= F; k++)); do
	nops=$(awk -v k=$k '$1 == "f" && $2 == k { print $3 }' "$T/rec")
	"$CC" verify "$T/snap.f$k" --record "$T/rec" --flush $k --upto-op "$nops" \
		>"$T/out" 2>&1 && good=$((good + 1))
done
check "every copy verifies at its flush ($good of $F)" -- [ "$good" = "$F" ]
expect 0 "copy f10 verifies at flush 8 (later ops allowed)" -- \
	"$CC" verify "$T/snap.f10" --record "$T/rec" --flush 8
expect 0 "flush 0: anything written or zeroes" -- "$CC" verify "$T/snap.f5" --record "$T/rec" --flush 0
expect 1 "copy f10 fails at flush 12 (stale)" -- \
	"$CC" verify "$T/snap.f10" --record "$T/rec" --flush 12
check "stale mismatch explained" -- grep -q 'stale\|zeroes\|never written' "$T/out"
nops=$(awk -v k=10 '$1 == "f" && $2 == k { print $3 }' "$T/rec")
expect 1 "copy f11 fails at flush 10 when later ops are excluded (--upto-op)" -- \
	"$CC" verify "$T/snap.f11" --record "$T/rec" --flush 10 --upto-op "$nops"

cp "$T/dev" "$T/inj"
lba=$("$CC" inject "$T/inj" --record "$T/rec" --flush "$F" 2>/dev/null)
expect 1 "injected lost write detected" -- "$CC" verify "$T/inj" --record "$T/rec" --flush "$F"
check "it names lba $lba" -- grep -q "^MISMATCH lba $lba: found op [0-9]* (stale" "$T/out"

cp "$T/dev" "$T/garbage"
head -c 4096 /dev/urandom | dd of="$T/garbage" bs=4096 seek=7 conv=notrunc status=none
expect 1 "random bytes detected" -- "$CC" verify "$T/garbage" --record "$T/rec" --flush "$F"
check "lba 7 reported" -- grep -q '^MISMATCH lba 7: found bytes this tool never writes' "$T/out"

# A block written by op X at lba A, copied to lba B: never written there.
src=$(awk '$1 == "o" && $4 == "U" { print $3 }' "$T/rec" | tail -n 1)
dst=$(((src + 1) % N))
cp "$T/dev" "$T/moved"
dd if="$T/dev" of="$T/moved" bs=4096 skip="$src" seek="$dst" count=1 conv=notrunc status=none
expect 1 "misplaced block detected" -- "$CC" verify "$T/moved" --record "$T/rec" --flush "$F"
check "lba $dst reported as misplaced" -- \
	grep -q "^MISMATCH lba $dst: found the block op [0-9]* wrote to lba $src" "$T/out"

expect 2 "no arguments" -- "$CC"
expect 2 "unknown subcommand" -- "$CC" frobnicate
expect 2 "verify without --flush" -- "$CC" verify "$T/dev" --record "$T/rec"
expect 2 "verify --flush beyond the record" -- "$CC" verify "$T/dev" --record "$T/rec" --flush 999
expect 1 "list of something that is not a log" -- "$CC" list "$T/rec"

echo "crashcheck selftest: $pass passed, $fail failed"
[ "$fail" = 0 ]
