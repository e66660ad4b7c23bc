#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh - the style and static-analysis gate:
#   1. the portable core includes only headers that tests/shim provides;
#   2. checkpatch.pl --strict (from linux-source-6.1) is clean on our C
#      (the module and tools/);
#   3. the module builds with W=1 and sparse (C=2) without a warning;
#   4. layering: includes point down, and the diskless core links alone.
# Prints "lint: N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 1
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

# 1. Include allow-list for the core: every file but the dm glue.
for f in dm-ilio/ilio-*.c dm-ilio/ilio-*.h; do
	case $f in dm-ilio/ilio-target.[ch]|dm-ilio/ilio-sysfs.c) continue ;; esac
	off=$(grep -E '^#include <' "$f" | sed -E 's/#include <([^>]+)>.*/\1/' |
		while read -r h; do [ -f "tests/shim/$h" ] || echo "$h"; done)
	if [ -n "$off" ]; then bad "$f includes non-portable: $off"; else ok "$f: portable includes"; fi
done
grep -q '__KERNEL__' dm-ilio/ilio-*.[ch] && bad "core uses #ifdef __KERNEL__" || ok "no __KERNEL__ conditionals"
# The on-disk format header includes only <linux/types.h>.
inc=$(grep -E '^#include' dm-ilio/ilio-format.h | grep -v '<linux/types.h>')
[ -z "$inc" ] && ok "ilio-format.h includes only linux/types.h" || bad "ilio-format.h: $inc"
# Only the codec (dm-ilio/ilio-meta.c) converts byte order: everything else
# packs and unpacks on-disk types through it.  tools/ is not held to this
# yet: ilioctl's "info" prints superblock fields (version, sequence,
# feature masks) that struct ilio_geom does not carry, with le*toh() from
# <endian.h>; once ilio_sb_unpack() decodes them, tools/ joins this rule.
bo=$(grep -lE '\b(le(16|32|64)_to_cpu[ps]?|cpu_to_le(16|32|64)[ps]?|(get|put)_unaligned_le(16|32|64))\b' \
	dm-ilio/*.[ch] | grep -vx dm-ilio/ilio-meta.c)
[ -z "$bo" ] && ok "byte order only in the codec (ilio-meta.c)" || bad "byte-order conversion outside ilio-meta.c: ${bo//$'\n'/ }"

# The reStructuredText docs parse without a warning: a malformed table or
# list renders as garbage for the reader, so it is a defect.
for f in Documentation/*.rst Documentation/admin-guide/device-mapper/*.rst; do
	msg=$(python3 - "$f" 2>&1 <<'PY'
import io, sys
import docutils.core
err = io.StringIO()
docutils.core.publish_doctree(open(sys.argv[1]).read(), source_path=sys.argv[1],
                              settings_overrides={"warning_stream": err, "report_level": 2})
sys.stdout.write(err.getvalue())
PY
)
	[ -z "$msg" ] && ok "$f: parses cleanly" || bad "$f: ${msg%%$'\n'*}"
done

# The man pages (Documentation/man/*.[1-9]) render without a warning:
# groff's own checks (-ww), and man-db's as the reader's man(1) sees them.
for f in Documentation/man/*.[1-9]; do
	[ -f "$f" ] || continue
	if ! command -v groff >/dev/null; then
		bad "$f: groff missing (run make deps)"
		continue
	fi
	msg=$(groff -man -ww -z "$f" 2>&1)
	if [ -z "$msg" ] && command -v man >/dev/null; then
		msg=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
	fi
	[ -z "$msg" ] && ok "$f: renders cleanly" || bad "$f: ${msg%%$'\n'*}"
done

# The __bitwise types (dm-ilio/ilio-types.h) are seen by sparse: a file that
# crosses types only through the helpers is clean, and each line marked
# "ILIO_MIX" in tests/lint/bitwise.c warns when it is compiled in.
if command -v sparse >/dev/null; then
	sp() { sparse "$@" -isystem tests/shim -Idm-ilio tests/lint/bitwise.c 2>&1 |
		sed -n 's/^tests\/lint\/bitwise\.c:\([0-9]*\):.*warning:.*/\1/p' | sort -un; }
	clean=$(sp)
	want=$(grep -n 'ILIO_MIX [0-9]' tests/lint/bitwise.c | cut -d: -f1 | sort -un)
	got=$(sp -DILIO_MIX)
	if [ -z "$clean" ] && [ -n "$want" ] && [ "$got" = "$want" ]; then
		ok "sparse checks the __bitwise types"
	else
		bad "sparse and __bitwise: clean run warned on [${clean//$'\n'/ }], mixed run on [${got//$'\n'/ }], want [${want//$'\n'/ }]"
	fi
fi

# 2. checkpatch
CP=build/checkpatch/scripts/checkpatch.pl
if [ -x "$CP" ]; then
	for f in dm-ilio/ilio-*.[ch] tools/*.[ch]; do
		[ -f "$f" ] || continue
		# The format header may include only <linux/types.h>, so it
		# asserts sizes with C11 _Static_assert, which checkpatch
		# mistakes for CamelCase.
		extra=
		[ "$f" = dm-ilio/ilio-format.h ] && extra=,CAMELCASE
		# It calls the kernel's lz4 API (LZ4_loadDict()), which
		# checkpatch would find in include/linux/lz4.h with a tree.
		[ "$f" = dm-ilio/ilio-compress.c ] && extra=,CAMELCASE
		# The field lists of ilio-fields.h are X-macros: a bare
		# sequence of X() calls, which checkpatch takes for a complex
		# value that reuses its argument.  Their generators (in the
		# header and in its users) are checked in full.
		[ "$f" = dm-ilio/ilio-fields.h ] && extra=,COMPLEX_MACRO,MACRO_ARG_REUSE
		out=$(perl "$CP" --no-tree --strict --quiet --show-types \
			--ignore "SPDX_LICENSE_TAG,FILE_PATH_CHANGES$extra" -f "$f" 2>&1)
		if [ -z "$out" ]; then ok "checkpatch $f"; else bad "checkpatch $f"; echo "$out" | head -40; fi
	done
else
	bad "checkpatch.pl missing (run make deps)"
fi

# 4. Layering: edges point down only (dm glue -> core -> store seam ->
#    stores -> space -> leaves -> format).  Each layer may include only the
#    headers of the layers below it, and the diskless core - the unit tests'
#    DISKLESS objects - links without any persistent-store object.
layer_of() {
	case $(basename "$1") in
	ilio-target.[ch]|ilio-sysfs.c) echo 6 ;;
	ilio-core.[ch]|ilio-check.c) echo 5 ;;
	ilio-store.h) echo 4 ;;
	ilio-ram.c|ilio-log.c|ilio-ckpt.c|ilio-gc.c|ilio-recover.c|ilio-plog.h|ilio-journal.[ch]) echo 3 ;;
	ilio-space.[ch]) echo 2 ;;
	*) echo 1 ;;
	esac
}
for f in dm-ilio/ilio-*.[ch]; do
	me=$(layer_of "$f") up=
	for h in $(sed -n 's/^#include "\(ilio-[^"]*\)".*/\1/p' "$f"); do
		[ "$h" = "$(basename "${f%.c}").h" ] && continue	# its own header
		hl=$(layer_of "$h")
		# A store may include the seam (layer 4): that is its contract.
		[ "$hl" -eq 4 ] && [ "$me" -eq 3 ] && continue
		[ "$hl" -gt "$me" ] || [ "$h" = ilio-plog.h -a "$me" -ne 3 ] && up="$up $h"
	done
	if [ -n "$up" ]; then bad "$f (layer $me) includes upwards:$up"; else ok "$f: includes point down"; fi
done
diskless=$(sed -n 's/^DISKLESS *:= *//p' tests/unit/Makefile)
persist=$(sed -n 's/^PERSIST *:= *//p' tests/unit/Makefile)
mkdir -p build/lint-layer
if [ -z "$diskless" ] || [ -z "$persist" ]; then
	bad "tests/unit/Makefile lists no DISKLESS/PERSIST objects"
elif gcc -std=gnu11 -O0 -w -isystem tests/shim -Idm-ilio -Itests/unit \
	-o build/lint-layer/test-core-diskless tests/unit/test-core.c tests/unit/ut.c \
	$(for o in $diskless; do echo dm-ilio/$o.c; done) tests/shim/shim.c \
	-llz4 -lxxhash -lpthread 2>build/lint-layer/link.log &&
	build/lint-layer/test-core-diskless basic_rw >/dev/null 2>&1; then
	ok "the diskless core links and runs without:$(for o in $persist; do printf ' %s' "$o"; done)"
else
	bad "the diskless core needs persistent objects:"; head -20 build/lint-layer/link.log
fi

# 3. W=1 + sparse on every module file
KDIR=${KDIR:-$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1)}
if ! command -v sparse >/dev/null; then
	bad "sparse missing (run make deps)"
elif [ -z "$KDIR" ]; then
	bad "no kernel headers (run make deps)"
else
	# Build a copy, so that the module other steps use is not touched.
	log=$(mktemp)
	lint_dir="$REPO/build/lint"
	rm -rf "$lint_dir" && mkdir -p "$lint_dir/dm-ilio"
	cp Kbuild VERSION "$lint_dir/" && cp dm-ilio/*.[ch] dm-ilio/Kbuild "$lint_dir/dm-ilio/"
	if make -C "$KDIR" M="$lint_dir" W=1 C=2 modules >"$log" 2>&1; then
		warn=$(grep -E 'warning:|error:' "$log" | grep -v 'linux-headers' || true)
		if [ -z "$warn" ]; then ok "W=1 + sparse build clean"; else bad "W=1/sparse warnings"; echo "$warn" | head -40; fi
	else
		bad "module build failed under W=1 C=2"; tail -40 "$log"
	fi
	rm -f "$log"
fi
echo "lint: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
