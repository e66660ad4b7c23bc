#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test-hints.sh - proves, without a kernel and without mounting anything,
# that "ilioctl hints apply --dry-run" (tools/cmd-hints.c, hints-map.c,
# hints-rules.c) maps files to exactly the device sectors that other tools
# report for them:
#   * NTFS on the whole image, in an MBR partition and in a GPT partition
#     (second partition, behind a non-NTFS one): every "run" line is what
#     ntfs-3g's ntfscluster says of that file (LCN * sectors per cluster +
#     the partition's start), and nothing else is listed; NTFS matching
#     ignores case (disk.SYS), a path with a blank matches (Program Files),
#     a directory rule covers what is under it (Users/*/AppData/Local/Temp),
#     the last matching rule wins (a "normal" override), a sparse file's
#     hole is left out and counted, a resident and an empty file are
#     counted and not listed;
#   * a raw NTFS image stored as a file in an ext4 image (mkfs.ext4 -d, a
#     sparse image file in several extents): the NTFS runs composed with
#     the image file's blocks as debugfs lists them, and an ext4 file's own
#     blocks (/usr/lib/...); ext4 matching is case-sensitive (/usr/LIB);
#   * the "hint" lines are the runs merged (adjacent runs of one class
#     join), led by "hint clear 0 <device sectors>", and the counts agree;
#   * adversarial input, each a clear "ilioctl: " error, a non-zero exit,
#     nothing on stdout and no sanitizer report (the ilioctl under test is
#     an ASan+UBSan build): a truncated NTFS image, an NTFS image whose MFT
#     is overwritten with random bytes, a rules file with bad lines (every
#     bad line reported with its line number; exit 2), a device that holds
#     no filesystem (zeros, random bytes), a missing file, a directory;
#   * without --dry-run an image file is refused (not an ilio device), and
#     "hints apply NAME" / "hints show NAME" of a device that does not
#     exist fail with exit 1 (the refusal of the hint messages by a module
#     without region classes is left to a VM test);
#   * "hints show" renders the protocol's reply (--parse-reply, testing):
#     ranges, then per class how many and how much; a reply that breaks
#     the protocol (count, class, numbers) fails with exit 1;
#   * the matcher ("hints match", testing): two stars and a slash as zero
#     or more directories, ? and * stopping at /, anchoring by a leading /,
#     braces, blanks, backslashes, the last rule winning, case on Linux
#     and not on NTFS;
#   * the default rules ("hints rules") parse and classify the issue's
#     paths.
#
# The images are built unmounted: mkntfs, wimapply (wimtools: libntfs-3g
# writes the directory tree into the unmounted volume), ntfscp,
# ntfsfallocate and ntfstruncate, sfdisk for the partition tables,
# mkfs.ext4 -d for ext4.
#
# Usage: bash tests/unit/test-hints.sh
#        ILIOCTL=/path/to/ilioctl bash tests/unit/test-hints.sh  (no build)
# Ends with "test-hints: N passed, N failed" and "N passed, N failed".

set -u

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
finish() {
	echo "test-hints: $pass passed, $fail failed"
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ] && exit 0
	exit 1
}

if [ -z "${ILIOCTL:-}" ]; then
	if ! make -s -C "$root/tools" B="$root/build/ilioctl-asan" \
		CFLAGS='-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all' \
		LDFLAGS='-fsanitize=address,undefined' >/dev/null; then
		ko "cannot build the ASan+UBSan ilioctl"
		finish
	fi
	ILIOCTL=$root/build/ilioctl-asan/ilioctl
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=98

for t in mkntfs wimcapture wimapply ntfscp ntfscluster ntfsinfo ntfsls ntfsfallocate \
	ntfstruncate sfdisk mkfs.ext4 debugfs python3; do
	if ! command -v "$t" >/dev/null; then
		# A missing tool is a failure, not a skip (scripts/install-deps.sh).
		ko "$t is missing (bash scripts/install-deps.sh)"
	fi
done
[ "$fail" -eq 0 ] || finish

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

run() {
	"$ILIOCTL" "$@" >out 2>err
	rc=$?
}

# --- the NTFS volume -------------------------------------------------------
# Files and the class each must get from rules.txt below.
cat >rules.txt <<'EOF'
# test rules
image   **.img
pin     Windows/System32/**.{dll,exe,sys}
pin     Program Files/**.exe
nocache pagefile.sys
temp    Users/*/AppData/Local/Temp
temp    Windows/Temp
normal  Windows/System32/keep.dll
pin     /usr/lib/**
EOF
mkdir -p tree/Windows/System32/drivers tree/Windows/Temp "tree/Program Files/App" \
	tree/Users/bob/AppData/Local/Temp tree/Data
rnd() { head -c "$2" /dev/urandom >"$1"; }
rnd tree/Windows/System32/kernel32.dll 300000
rnd tree/Windows/System32/drivers/disk.SYS 100000
rnd tree/Windows/System32/keep.dll 50000
rnd tree/Windows/System32/readme.txt 40000
rnd "tree/Program Files/App/app.exe" 70000
rnd "tree/Program Files/App/data.bin" 70000
rnd tree/Users/bob/AppData/Local/Temp/t1.tmp 60000
rnd tree/Windows/Temp/w.tmp 30000
echo tiny >tree/Windows/Temp/tiny.txt
rnd tree/Data/other.bin 90000

# mkntfs_img FILE SIZE: an NTFS volume with tree/ and the extra files.
mkntfs_img() {
	local img=$1 ino

	truncate -s "$2" "$img"
	mkntfs -F -Q -q -c 4096 "$img" >/dev/null 2>&1 || { ko "mkntfs $img"; return 1; }
	wimapply tree.wim 1 "$img" >/dev/null 2>&1 || { ko "wimapply $img"; return 1; }
	# wimlib leaves pagefile.sys out of a capture: ntfscp puts it in.
	rnd pf 2000000
	ntfscp -q "$img" pf /pagefile.sys >/dev/null 2>&1 || { ko "ntfscp pagefile $img"; return 1; }
	# A sparse, fragmented DLL: 8 KiB, another file, then 64 KiB at 1 MiB.
	rnd s8 8192
	ntfscp -q "$img" s8 /Windows/System32/sparse.dll >/dev/null 2>&1 &&
		ntfscp -q "$img" s8 /Data/between.bin >/dev/null 2>&1 &&
		ntfsfallocate -q -o 1M -l 64K "$img" /Windows/System32/sparse.dll \
			>/dev/null 2>&1 || { ko "sparse file $img"; return 1; }
	# An empty DLL: truncated to 0 (ntfstruncate takes the inode number).
	ntfscp -q "$img" s8 /Windows/System32/empty.dll >/dev/null 2>&1
	ino=$(ntfsls -i -p /Windows/System32 "$img" 2>/dev/null | awk '$2 == "empty.dll" { print $1 }')
	ntfstruncate -q "$img" "$ino" 0x80 "" 0 >/dev/null 2>&1 || { ko "ntfstruncate $img"; return 1; }
}
wimcapture tree tree.wim >/dev/null 2>&1 || ko "wimcapture"
mkntfs_img ntfs.img 64M || finish

# What each file must get (path, class); every other file: nothing.
cat >expect.txt <<'EOF'
pin	/Windows/System32/kernel32.dll
pin	/Windows/System32/drivers/disk.SYS
normal	/Windows/System32/keep.dll
pin	/Windows/System32/sparse.dll
pin	/Windows/System32/empty.dll
pin	/Program Files/App/app.exe
temp	/Users/bob/AppData/Local/Temp/t1.tmp
temp	/Windows/Temp/w.tmp
temp	/Windows/Temp/tiny.txt
nocache	/pagefile.sys
EOF

# ntfs_expect IMG START PREFIX: the run lines ntfscluster gives for the
# files of expect.txt, on a volume IMG whose first sector on the device is
# START, with PREFIX before the path ("p2:").  Adjacent runs of one file
# are one run, as ilioctl prints them.
ntfs_expect() {
	local img=$1 start=$2 prefix=$3 cls path spc

	spc=$(($(ntfsinfo -m "$img" 2>/dev/null | awk '/Cluster Size:/ { print $3 }') / 512))
	while IFS=$'\t' read -r cls path; do
		ntfscluster -F "$path" "$img" 2>/dev/null |
			awk -v cls="$cls" -v path="$prefix$path" -v spc="$spc" -v base="$start" '
			/0x80 - non-resident/ { data = 1; next }
			/0x[0-9a-f]+ - / { data = 0 }
			data && $1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ {
				s = base + $2 * spc; n = $3 * spc
				if (have && s == ps + pn) { pn += n; next }
				if (have) printf "run\t%s\t%d\t%d\t%s\n", cls, ps, pn, path
				ps = s; pn = n; have = 1
			}
			END { if (have) printf "run\t%s\t%d\t%d\t%s\n", cls, ps, pn, path }'
	done <expect.txt
}

# check_dry DESC WANT_RUNS_FILE DEVICE_SECTORS: out holds a dry run; its
# run lines are exactly WANT (in any order), its hint lines the runs
# merged, its counts right.
check_dry() {
	local desc=$1 want=$2 len=$3

	if [ "$rc" -ne 0 ]; then
		ko "$desc: exit $rc: $(cat err)"
		return
	fi
	if [ -s err ]; then
		ko "$desc: unexpected stderr: $(cat err)"
	fi
	if diff <(grep '^run' out | sort) <(sort "$want") >diff.txt; then
		ok
	else
		ko "$desc: run lines differ from ntfscluster/debugfs (< ilioctl, > expected): $(cat diff.txt)"
	fi
	if python3 - out "$len" <<'PY'; then ok; else ko "$desc: hint lines or counts wrong"; fi
import sys
lines = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if not l.startswith("#")]
runs = [l for l in lines if l[0] == "run"]
hints = [l for l in lines if l[0] == "hint"]
assert hints[0] == ["hint", "clear", "0", sys.argv[2]], hints[0]
# merge the runs: by start, adjacent or overlapping runs of one class join
rs = sorted((int(r[2]), int(r[3]), r[1]) for r in runs)
m = []
for s, n, c in rs:
    if m and m[-1][2] == c and s <= m[-1][0] + m[-1][1]:
        m[-1][1] = max(m[-1][0] + m[-1][1], s + n) - m[-1][0]
    else:
        m.append([s, n, c])
got = [[int(h[2]), int(h[3]), h[1]] for h in hints[1:]]
assert sorted(got) == m, (got, m)
count = {l[1]: int(l[2]) for l in lines if l[0] == "count"}
assert count["runs"] == len(runs) and count["hints"] == len(hints) - 1, count
cls = {l[1]: (int(l[2]), int(l[3])) for l in lines if l[0] == "class"}
for c in ("pin", "nocache", "temp", "normal"):
    mine = [x for x in m if x[2] == c]
    assert cls[c] == (len(mine), sum(x[1] for x in mine)), (c, cls[c])
PY
}

# skipped DESC REASON N: the "skipped REASON" count in out.
skipped() {
	local got

	got=$(awk -F'\t' -v r="$2" '$1 == "skipped" && $2 == r { print $3 }' out)
	if [ "$got" == "$3" ]; then ok; else ko "$1: skipped $2 is '$got', want $3"; fi
}

# --- layout 1: NTFS on the whole device ------------------------------------
ntfs_expect ntfs.img 0 "" >want.txt
nwant=$(wc -l <want.txt)
# kernel32, disk.SYS, keep, sparse, app.exe, t1.tmp, w.tmp, pagefile: runs
# (tiny.txt is resident, empty.dll empty).
if [ "$nwant" -ge 8 ]; then ok; else ko "ntfscluster gave $nwant runs, want 8 or more: $(cat want.txt)"; fi
run hints apply ./ntfs.img --rules rules.txt --dry-run
check_dry "whole NTFS" want.txt $((64 * 2048))
grep -q $'^fs\tntfs\t0\t131072\t-$' out && ok || ko "whole NTFS: fs line: $(grep ^fs out)"
skipped "whole NTFS" resident 1
skipped "whole NTFS" empty 1
skipped "whole NTFS" sparse 1
eq_count() {
	local got

	got=$(awk -F'\t' -v k="$2" '$1 == "count" && $2 == k { print $3 }' out)
	if [ "$got" == "$3" ]; then ok; else ko "$1: count $2 is '$got', want $3"; fi
}
eq_count "whole NTFS" files 10
# The sparse file is two runs on the volume with a hole between: the hole
# is not listed (ntfscluster lists it as LCN -1, which the awk skips).
if grep -q $'\t/Windows/System32/sparse.dll$' out; then ok; else ko "sparse.dll not listed"; fi
# Unmatched files are not listed; a class override wins.
if grep -qE 'readme.txt|data.bin|other.bin|between.bin' out; then
	ko "unmatched files listed: $(grep -E 'readme|data.bin|other|between' out)"
else
	ok
fi
if grep -q $'^run\tnormal\t.*keep.dll$' out; then ok; else ko "keep.dll: the last rule (normal) must win"; fi

# --- layout 1: NTFS in an MBR partition, and in a GPT partition ---------------
# disk: 1 MiB gap, then partition 1 (the NTFS volume) at sector 2048.
truncate -s 66M mbr.img
printf 'start=2048, size=%d, type=7\n' $((64 * 2048)) | sfdisk -q mbr.img >/dev/null 2>&1 ||
	ko "sfdisk mbr"
dd if=ntfs.img of=mbr.img bs=1M seek=1 conv=notrunc status=none
ntfs_expect ntfs.img 2048 "p1:" >want.txt
run hints apply ./mbr.img --rules rules.txt --dry-run
check_dry "MBR partition" want.txt $((66 * 2048))
grep -q $'^fs\tntfs\t2048\t131072\tp1:$' out && ok || ko "MBR: fs line: $(grep ^fs out)"

# GPT: partition 1 is 4 MiB of zeros (an ESP without a filesystem),
# partition 2 the NTFS volume at sector 10240.
truncate -s 72M gpt.img
printf 'label: gpt\nstart=2048, size=8192, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nstart=10240, size=%d, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n' \
	$((64 * 2048)) | sfdisk -q gpt.img >/dev/null 2>&1 || ko "sfdisk gpt"
dd if=ntfs.img of=gpt.img bs=512 seek=10240 conv=notrunc status=none
ntfs_expect ntfs.img 10240 "p2:" >want.txt
run hints apply ./gpt.img --rules rules.txt --dry-run
check_dry "GPT partition" want.txt $((72 * 2048))
grep -q $'^fs\tntfs\t10240\t131072\tp2:$' out && ok || ko "GPT: fs line: $(grep ^fs out)"
[ "$(grep -c '^fs' out)" -eq 1 ] && ok || ko "GPT: the ESP is not a filesystem: $(grep ^fs out)"

# --- layout 2: a raw NTFS disk image as a file in an ext4 filesystem --------
# The image file is the MBR disk, sparse (its 1 MiB gap is a hole), so
# that it lies in more than one extent.
mkdir -p ext/vm ext/usr/lib ext/usr/LIB
cp --sparse=always mbr.img ext/vm/win.img
rnd ext/usr/lib/libc.so.6 50000
rnd ext/usr/LIB/notmine.so 20000
truncate -s 200M ext4.img
mkfs.ext4 -q -F -b 4096 -d ext ext4.img >/dev/null 2>&1 || ko "mkfs.ext4 -d"
bs=4096
# The image's extents as debugfs prints them ("(logical-range):physical");
# the NTFS runs inside are composed with them.
debugfs -R "stat /vm/win.img" ext4.img 2>/dev/null | grep -A3 EXTENTS >img-ext.txt
nfrag=$(grep -o '[0-9]):[0-9]' img-ext.txt | wc -l)
if [ "$nfrag" -ge 2 ]; then ok; else ko "debugfs: want 2 or more extents for /vm/win.img: $(cat img-ext.txt)"; fi
python3 - img-ext.txt "$bs" <(ntfs_expect ntfs.img 2048 "/vm/win.img::p1:") \
	<(debugfs -R "blocks /usr/lib/libc.so.6" ext4.img 2>/dev/null) >want.txt <<'PY' ||
import re, sys
bs = int(sys.argv[2])
# "(0-255):1234-1489, (512-767):..." : logical block ranges -> physical
ext = []
for lo, hi, plo, phi in re.findall(r"\((\d+)(?:-(\d+))?\):(\d+)(?:-(\d+))?", open(sys.argv[1]).read()):
    lo = int(lo); hi = int(hi or lo); plo = int(plo)
    ext.append((lo, hi, plo))
def phys(blk):
    for lo, hi, p in ext:
        if lo <= blk <= hi:
            return p + blk - lo
    return None
spb = bs // 512
for l in open(sys.argv[3]):
    k, cls, s, n, path = l.rstrip("\n").split("\t")
    s, n = int(s), int(n)
    out = []
    for sec in range(s, s + n, spb):        # image sectors, a block at a time
        p = phys(sec // spb)
        if p is None:
            continue
        d = p * spb + sec % spb
        if out and out[-1][0] + out[-1][1] == d:
            out[-1][1] += spb
        else:
            out.append([d, spb])
    for d, m in out:
        print(f"run\t{cls}\t{d}\t{m}\t{path}")
# the ext4 file's own blocks (debugfs "blocks": one number a block)
blocks = [int(b) for b in open(sys.argv[4]).read().split()]
out = []
for b in blocks:
    if out and out[-1][0] + out[-1][1] == b * spb:
        out[-1][1] += spb
    else:
        out.append([b * spb, spb])
for d, m in out:
    print(f"run\tpin\t{d}\t{m}\t/usr/lib/libc.so.6")
PY
	ko "composing the expected runs"
run hints apply ./ext4.img --rules rules.txt --dry-run
check_dry "NTFS image in ext4" want.txt $((200 * 2048))
grep -q $'^fs\text4\t0\t409600\t-$' out && ok || ko "ext4: fs line: $(grep ^fs out)"
grep -q $'^fs\tntfs\t[0-9]*\t131072\t/vm/win.img::p1:$' out && ok ||
	ko "ext4: no fs line for the image's partition: $(grep ^fs out)"
if grep -q notmine out; then ko "ext4 matching must be case-sensitive (/usr/LIB)"; else ok; fi

# --- adversarial input ---------------------------------------------------
# fails DESC WANT_RC STDERR_SUBSTRING ARGS...
fails() {
	local desc=$1 want=$2 msg=$3

	shift 3
	run "$@"
	if [ "$rc" -ne "$want" ]; then
		ko "$desc: exit $rc, want $want (stderr: $(cat err))"
	elif ! head -n 1 err | grep -q '^ilioctl: '; then
		ko "$desc: stderr does not start with 'ilioctl: ': $(cat err)"
	elif ! grep -qF -- "$msg" err; then
		ko "$desc: stderr lacks '$msg': $(cat err)"
	elif [ -s out ]; then
		ko "$desc: unexpected stdout: $(cat out)"
	elif grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' err; then
		ko "$desc: sanitizer report: $(cat err)"
	else
		ok
	fi
}

head -c 3M ntfs.img >trunc.img
fails "truncated NTFS" 1 "./trunc.img: cannot read the NTFS volume" \
	hints apply ./trunc.img --rules rules.txt --dry-run
# The MFT overwritten with random bytes ($MFT's first run, 64 KiB).
cp ntfs.img corrupt.img
mft=$(ntfsinfo -m ntfs.img 2>/dev/null | awk '/LCN of Data Attribute for FILE_MFT:/ { print $NF }')
dd if=/dev/urandom of=corrupt.img bs=4096 seek="$mft" count=16 conv=notrunc status=none
fails "corrupt MFT" 1 "cannot read the NTFS" hints apply ./corrupt.img --rules rules.txt --dry-run
# Every record of the MFT but the first four garbled, one byte in 64: the
# volume opens; files are read, skipped as unreadable, or the walk fails,
# but nothing crashes.
cp ntfs.img garbled.img
python3 - garbled.img "$mft" <<'PY'
import random, sys
random.seed(12)
f = open(sys.argv[1], "r+b")
base = int(sys.argv[2]) * 4096
for rec in range(4, 128):
    for _ in range(16):
        f.seek(base + rec * 1024 + random.randrange(1024))
        f.write(bytes([random.randrange(256)]))
PY
run hints apply ./garbled.img --rules rules.txt --dry-run
if [ "$rc" -le 1 ] && ! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' err; then
	ok
else
	ko "garbled MFT records: exit $rc: $(head -c 2000 err)"
fi
truncate -s 16M zero.img
fails "zeros" 1 "no NTFS or ext2/3/4 filesystem found" hints apply ./zero.img --dry-run
head -c 8M /dev/urandom >random.img
fails "random bytes" 1 "no NTFS or ext2/3/4 filesystem found" hints apply ./random.img --dry-run
fails "missing file" 1 "cannot open ./nosuch.img" hints apply ./nosuch.img --dry-run
fails "a directory" 1 "not a block device nor an image file" hints apply ./tree --dry-run
fails "no --dry-run on an image file" 1 "is not an ilio device: give --dry-run" \
	hints apply ./ntfs.img --rules rules.txt

cat >bad.rules <<'EOF'
# line 1 is a comment
pin Windows/System32/**.dll
pinn Windows/foo
nocache
temp {a,b
   # indented comment
temp a/***/b
normal ok/path
EOF
fails "bad rules" 2 "bad.rules:3: unknown class 'pinn' (pin, nocache, temp, normal or image)" \
	hints apply ./ntfs.img --rules bad.rules --dry-run
for m in "bad.rules:4: 'nocache' needs a PATTERN" "bad.rules:5: '{' without '}'" \
	"bad.rules:7: '***'"; do
	grep -qF "$m" err && ok || ko "bad rules: missing '$m': $(cat err)"
done
[ "$(grep -c '^ilioctl: bad.rules:' err)" -eq 4 ] && ok ||
	ko "bad rules: want exactly 4 bad lines reported: $(cat err)"
printf '# nothing\n\n' >empty.rules
fails "a rules file without rules" 2 "has no rule" hints apply ./ntfs.img --rules empty.rules --dry-run
fails "a missing rules file" 1 "cannot read the rules file" \
	hints apply ./ntfs.img --rules ./nosuch.rules --dry-run
printf 'pin a\0b\n' >nul.rules
fails "a NUL in the rules" 2 "not text" hints apply ./ntfs.img --rules nul.rules --dry-run

# --- usage and live commands ----------------------------------------------------
fails "hints: no verb" 2 "hints: missing apply, show or rules" hints
fails "hints: bad verb" 2 "hints: unknown 'frob'" hints frob
fails "apply: no NAME" 2 "hints apply: missing device NAME or DEV" hints apply
fails "apply: two NAMEs" 2 "unexpected argument 'b'" hints apply a b
fails "apply: --rules twice" 2 "option '--rules' given twice" \
	hints apply ./ntfs.img --rules a --rules b
ghost=ilioctl-test-no-such-device-$$
run hints apply "$ghost" --rules rules.txt
[ "$rc" -eq 1 ] && grep -q '^ilioctl: ' err && ! [ -s out ] && ok ||
	ko "apply $ghost: rc=$rc err=$(cat err)"
run hints show "$ghost"
[ "$rc" -eq 1 ] && grep -q '^ilioctl: ' err && ! [ -s out ] && ok ||
	ko "show $ghost: rc=$rc err=$(cat err)"

# --- the matcher (hints match, testing) ---------------------------------------
cat >m.rules <<'EOF'
pin     a/**/b.dll
temp    ?x.tmp
nocache /root.sys
pin     Win\Sys/*.dll
normal  Win//Sys/keep.dll
temp    {x,y}dir/{1,2}
pin     Pro Files/**.exe
EOF
# match_is DESC FLAGS... -- PATH=CLASS...
match_is() {
	local desc=$1 flags=() paths=() got want p

	shift
	while [ "$1" != -- ]; do flags+=("$1"); shift; done
	shift
	for p in "$@"; do paths+=("${p%=*}"); done
	run hints match --rules m.rules "${flags[@]}" "${paths[@]}"
	got=$(cut -f1 out | paste -sd' ')
	want=$(for p in "$@"; do printf '%s\n' "${p##*=}"; done | paste -sd' ')
	if [ "$rc" -eq 0 ] && [ "$got" == "$want" ]; then ok; else ko "$desc: got '$got', want '$want' ($(cat err))"; fi
}
match_is "two stars and a / are zero or more directories" -- a/b.dll=pin a/c/d/b.dll=pin \
	xa/b.dll=- a/b.dllx=-
match_is "? is one character, not /" -- q/zx.tmp=temp q/zzx.tmp=- x.tmp=- q/x.tmp=-
match_is "a leading / anchors" -- root.sys=nocache /root.sys=nocache q/root.sys=-
match_is "* stops at /, a backslash is /, the last rule wins" -- Win/Sys/x.dll=pin \
	Win/Sys/y/x.dll=- Win/Sys/keep.dll=normal
match_is "braces" -- xdir/1=temp ydir/2/f=temp zdir/1=- xdir/3=-
match_is "a blank inside a pattern" -- "Pro Files/a/b.exe=pin" "Pro  Files/b.exe=-"
match_is "Linux: case counts" -- win/sys/X.DLL=- "PRO FILES/a.EXE=-"
match_is "NTFS: ASCII case does not" --ntfs -- win/sys/X.DLL=pin "PRO FILES/a.EXE=pin" \
	WIN/SYS/KEEP.DLL=normal
rm -f m.rules
# The default rules on the issue's paths.
while IFS='|' read -r flags path want; do
	# shellcheck disable=SC2086
	run hints match $flags "$path"
	if [ "$rc" -eq 0 ] && [ "$(cut -f1 out)" == "$want" ]; then
		ok
	else
		ko "default rules: $flags '$path': got '$(cut -f1 out)', want $want"
	fi
done <<'EOF'
--ntfs|/pagefile.sys|nocache
--ntfs|/hiberfil.sys|nocache
--ntfs|/swapfile.sys|nocache
--ntfs|/Windows/System32/KERNEL32.DLL|pin
--ntfs|/Windows/System32/drivers/ntfs.sys|pin
--ntfs|/windows/system32/cmd.exe|pin
--ntfs|/Windows/System32/config/SYSTEM|-
--ntfs|/Program Files/Mozilla Firefox/firefox.exe|pin
--ntfs|/Program Files (x86)/App/lib.dll|pin
--ntfs|/Program Files/App/readme.txt|-
--ntfs|/Windows/Temp/a.tmp|temp
--ntfs|/Users/alice/AppData/Local/Temp/x/y.dat|temp
--ntfs|/Users/alice/Documents/a.docx|-
|/usr/lib/x86_64-linux-gnu/libc.so.6|pin
|/usr/LIB/x|-
|/tmp/a|temp
|/home/u/tmp/a|-
|/var/tmp/a|temp
|/swapfile|nocache
|/srv/vm/win10.img|image
|/srv/vm/disk-flat.vmdk|image
|/home/u/notes.txt|-
EOF
fails "match: no PATH" 2 "hints match: missing PATH" hints match

# --- hints show: the kernel's reply (--parse-reply, testing) -------------------
run hints show d --parse-reply $'ranges 3 65536 1536\npin 2048 592\nnocache 17224 3912\npin 23488 5872\n'
want='d: 3 ranges (at most 65536), class map 1.50 KiB
CLASS           START      SECTORS         SIZE
pin              2048          592   296.00 KiB
nocache         17224         3912     1.91 MiB
pin             23488         5872     2.87 MiB
pin      2 ranges, 3.16 MiB
nocache  1 ranges, 1.91 MiB'
if [ "$rc" -eq 0 ] && [ "$(cat out)" == "$want" ] && ! [ -s err ]; then ok; else ko "show: rc=$rc $(cat out) $(cat err)"; fi
run hints show d --parse-reply $'ranges 0 65536 0\n'
[ "$rc" -eq 0 ] && [ "$(cat out)" == "d: 0 ranges (at most 65536), class map 0 B" ] && ok ||
	ko "show, empty map: rc=$rc $(cat out)"
fails "show: fewer ranges than announced" 1 "unexpected reply to 'hints'" \
	hints show d --parse-reply $'ranges 2 65536 0\npin 1 2\n'
fails "show: an unknown class" 1 "unexpected reply to 'hints'" \
	hints show d --parse-reply $'ranges 1 65536 0\nbogus 1 2\n'
fails "show: an image class" 1 "unexpected reply to 'hints'" \
	hints show d --parse-reply $'ranges 1 65536 0\nimage 1 2\n'
fails "show: zero sectors" 1 "unexpected reply to 'hints'" \
	hints show d --parse-reply $'ranges 1 65536 0\npin 1 0\n'
fails "show: no header" 1 "unexpected reply to 'hints'" hints show d --parse-reply 'pin 1 2'
fails "show: a negative start" 1 "unexpected reply to 'hints'" \
	hints show d --parse-reply $'ranges 1 65536 0\npin -1 2\n'
fails "show: no NAME" 2 "hints show: missing device NAME" hints show
# The per-class statistics table (--parse-stats, testing): the 16 values
# of ILIO_CLASS_FIELDS() in the header's order, four per class.
run hints show d --parse-reply $'ranges 0 65536 0\n' \
	--parse-stats '99 1 409600 8192 50 0 1048576 0 0 7 0 0 0 0 0 12288'
want='d: 0 ranges (at most 65536), class map 0 B
CLASS            HITS       MISSES    HIT%       CACHED        DIRTY
normal             99            1   99.0%   400.00 KiB     8.00 KiB
pin                50            0  100.0%     1.00 MiB          0 B
nocache             0            7    0.0%          0 B          0 B
temp                0            0       -          0 B    12.00 KiB'
if [ "$rc" -eq 0 ] && [ "$(cat out)" == "$want" ] && ! [ -s err ]; then ok; else ko "show, stats: rc=$rc $(cat out) $(cat err)"; fi
fails "show: 15 statistics" 1 "expected 16 numbers" \
	hints show d --parse-reply $'ranges 0 65536 0\n' --parse-stats "$(seq 1 15 | paste -sd' ')"
fails "show: 17 statistics" 1 "expected 16 numbers" \
	hints show d --parse-reply $'ranges 0 65536 0\n' --parse-stats "$(seq 1 17 | paste -sd' ')"
fails "show: --parse-stats alone" 2 "--parse-stats needs --parse-reply" \
	hints show d --parse-stats "$(seq 1 16 | paste -sd' ')"
fails "show: a bad NAME" 2 "invalid device name 'a/b'" hints show a/b

# --- the default rules -------------------------------------------------------
run hints rules
[ "$rc" -eq 0 ] && grep -q '^pin     Windows/System32/\*\*.{dll,exe,sys}$' out && ok ||
	ko "hints rules: rc=$rc $(head -3 out)"
cp out default.rules
# The defaults (no --rules) on the NTFS image: the issue's classes.
run hints apply ./ntfs.img --dry-run
if [ "$rc" -eq 0 ] &&
	grep -q $'^run\tpin\t[0-9]*\t[0-9]*\t/Windows/System32/kernel32.dll$' out &&
	grep -q $'^run\tpin\t[0-9]*\t[0-9]*\t/Windows/System32/keep.dll$' out &&
	grep -q $'^run\tpin\t[0-9]*\t[0-9]*\t/Program Files/App/app.exe$' out &&
	grep -q $'^run\tnocache\t[0-9]*\t[0-9]*\t/pagefile.sys$' out &&
	grep -q $'^run\ttemp\t[0-9]*\t[0-9]*\t/Users/bob/AppData/Local/Temp/t1.tmp$' out &&
	grep -q $'^run\ttemp\t[0-9]*\t[0-9]*\t/Windows/Temp/w.tmp$' out &&
	! grep -qE 'readme.txt|data.bin|other.bin' out; then
	ok
else
	ko "default rules on NTFS: rc=$rc $(grep -E '^run' out) $(cat err)"
fi
run hints apply ./ntfs.img --rules default.rules --dry-run
cp out o1
run hints apply ./ntfs.img --dry-run
cmp -s o1 out && ok || ko "hints rules prints the rules used without --rules"
# The defaults on ext4: /usr/lib is pinned, the image is walked.
run hints apply ./ext4.img --dry-run
if [ "$rc" -eq 0 ] && grep -q $'^run\tpin\t[0-9]*\t[0-9]*\t/usr/lib/libc.so.6$' out &&
	grep -q $'^run\tnocache\t[0-9]*\t[0-9]*\t/vm/win.img::p1:/pagefile.sys$' out; then
	ok
else
	ko "default rules on ext4: rc=$rc $(grep -E '^run' out) $(cat err)"
fi

finish
