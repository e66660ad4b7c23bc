#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-42-demo: the README's "make demo", run as the README says (issue 10:
# every command in the README is run by a test).  make demo installs what
# it needs (a no-op once make check has), builds (a no-op: check.sh built
# first, so nothing a running VM test uses is rewritten), copies a sample
# of this machine's OS files into a golden ext4 image, and boots a VM that
# provisions four desktops on one diskless ilio device and verifies every
# file (tests/vm/demo.sh, tests/vm/demo-guest.sh).  Asserted here: make
# exits 0, the guest's 19 checks all passed, the savings table was
# printed with ilio's RAM at most a quarter of the thick disks', the
# demo's closing
# line, and that the build step rebuilt nothing (the module and ilioctl
# kept their modification times).
#
# vm-driver: host
# vm-time: 150

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export REPO RESULTS=/tmp
# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"
in_guest && fatal "t-42 runs on the host (make demo boots its own VM)"

KO="$REPO/dm-ilio/dm-ilio.ko"
CTL="$REPO/tools/ilioctl"
[ -f "$KO" ] && [ -x "$CTL" ] || fatal "build first (make all): t-42 must not build"
m0="$(stat -c %Y "$KO" "$CTL")"
OUT="$T_TMP/demo.out"
log "make demo (the README's command)"
make -C "$REPO" demo >"$OUT" 2>&1
rc=$?
sed 's/^/# demo: /' "$OUT" | tail -n 40
assert_eq "$rc" 0 "make demo exits 0"
assert_eq "$(stat -c %Y "$KO" "$CTL")" "$m0" \
	"make demo's build step rebuilt nothing (module and ilioctl untouched)"
guest_closing "$OUT" "the demo guest"	# its checks count in this test's
closing=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$OUT" | tail -n 1)
assert_eq "$closing" "19 passed, 0 failed" "the demo guest's checks all passed"
if grep -q '^=== demo passed in ' "$OUT"; then
	pass "the demo's closing line: $(grep '^=== demo passed in ' "$OUT")"
else
	fail "no '=== demo passed in' line"
fi
# The savings table: "ilio: RAM used, data and metadata  N MiB" against
# "thick: a 2048 MiB RAM disk per desktop  N GiB".
ram=$(sed -n 's/^  ilio: RAM used, data and metadata *//p' "$OUT")
thick=$(sed -n 's/^  thick: a 2048 MiB RAM disk per desktop *//p' "$OUT")
# bytes "N MiB|GiB": the demo's sizes in bytes.
bytes() {
	awk '{ m = $2 == "GiB" ? 1073741824 : $2 == "MiB" ? 1048576 : $2 == "KiB" ? 1024 : 1
		printf "%.0f\n", $1 * m }' <<<"$1"
}
if [ -n "$ram" ] && [ -n "$thick" ]; then
	assert_le "$(bytes "$ram")" $(($(bytes "$thick") / 4)) \
		"the savings table: ilio RAM used ($ram) at most a quarter of the thick disks ($thick)"
else
	fail "the savings table is missing (ilio RAM '$ram', thick '$thick')"
fi
finish
