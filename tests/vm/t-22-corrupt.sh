#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-22-corrupt: damaged metadata gives a clean refusal or a correct
# recovery, never wrong data and never an oops.  Eight phases each write
# their own 1 MiB region plus a shared hot region and fsync (checkpoints
# after phases 2 and 4); a crash image of the backing disk is taken with the
# device live (the dm-linear under ilio is suspended for the copy).  Each
# case restores that image, damages one thing and re-creates ilio:
#   superblock copy 0 (flipped, zeroed), both copies, the newest anchor slot,
#   both slots, the checkpoint unit the anchor names, a data unit's header
#   (sequence field; padding covered only by the checksum), its summary,
#   its whole segment, a unit header before the anchor, and random garbage
#   over the whole metadata area; and one data record (not metadata), which
#   may cost that block an EIO but must not come back wrong.
# Outcome: either the create fails with an ilio message in dmesg and leaves
# no device, or it succeeds and every phase flushed before the damage point
# reads back exactly, later phases read their data or zeros (older content),
# the hot region holds a generation at least as new as the last intact
# phase's, and no block anywhere holds content never written there.  The
# undamaged image must recover with everything intact; both superblocks,
# both anchors and the metadata area in garbage must be refused.
#
# vm-args: --mem 2048 --timeout 900 --disk t22:64
# vm-time: 213

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup dd python3
ILIOCTL="$REPO/tools/ilioctl"
BLKPAT="$REPO/tests/vm/blkpat.py"
ILIODISK="$REPO/tests/vm/iliodisk.py"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load

MB=1048576
BACK=$(vm_disk t22) || fatal "no t22 disk"
BSECT=$(dev_sectors "$BACK")
LSECT=$((64 * 2048))
TABLE="0 $LSECT ilio $BACK 32"
DEV=/dev/mapper/t22
PHASES=8
H_OFF=$((16 * MB))	# hot region, 64 blocks, rewritten by every phase
H_BLOCKS=64
IMG="$T_TMP/crash.img"

# All phases' data from one python (each start costs about a second here).
for ((p = 1; p <= PHASES; p++)); do
	echo "$T_TMP/r$p 256 --seed $p --tag r$p --dup 20 --comp 50"
	echo "$T_TMP/h$p $H_BLOCKS --seed $((100 + p)) --tag h$p --comp 50"
done | python3 "$BLKPAT" gens || fatal "blkpat gens"

# --- build the crash image ----------------------------------------------------------
assert_cmd "ilioctl format --segment-kb 64" -- "$ILIOCTL" format "$BACK" --segment-kb 64
assert_cmd "dm-linear t22lin over $BACK" -- dmsetup create t22lin --table "0 $BSECT linear $BACK 0"
assert_cmd "create ilio over t22lin" -- \
	dmsetup create t22 --table "0 $LSECT ilio /dev/mapper/t22lin 32"
for ((p = 1; p <= PHASES; p++)); do
	if ! dd if="$T_TMP/r$p" of=$DEV bs=64k seek=$((p * 16)) oflag=direct status=none ||
		! dd if="$T_TMP/h$p" of=$DEV bs=64k seek=$((H_OFF / 65536)) oflag=direct conv=fsync status=none; then
		fail "phase $p write"
	fi
	if [ $p = 2 ] || [ $p = 4 ]; then
		dmsetup message t22 0 checkpoint || fail "checkpoint message after phase $p"
	fi
done
pass "$PHASES phases written and flushed"
assert_cmd "suspend t22lin (freeze the backing disk)" -- dmsetup suspend t22lin
assert_cmd "copy the crash image" -- dd if="$BACK" of="$IMG" bs=1M iflag=direct status=none
assert_cmd "resume t22lin" -- dmsetup resume t22lin
assert_cmd "remove t22" -- dmsetup remove t22
assert_cmd "remove t22lin" -- dmsetup remove t22lin

python3 "$ILIODISK" chain "$IMG" | head -n 40 | sed 's/^/# /'
python3 "$ILIODISK" info "$IMG" --phase-div 256 --phase-max $PHASES >"$T_TMP/info" ||
	fatal "iliodisk info failed"
sed 's/^/# /' "$T_TMP/info"
# shellcheck disable=SC1091
. "$T_TMP/info"
[ -n "$CUR_SLOT" ] || fatal "no valid anchor in the crash image"

restore() {
	dd if="$IMG" of="$BACK" bs=1M oflag=direct conv=fsync status=none || fatal "restore failed"
}

# poke BYTE_OFFSET LEN flip|zero|random: damage LEN bytes of the backing disk.
poke() {
	python3 - "$BACK" "$1" "$2" "$3" <<'EOF' || fatal "poke $*"
import os, sys
dev, off, n, how = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
fd = os.open(dev, os.O_RDWR)
os.lseek(fd, off, 0)
old = os.read(fd, n)
new = {"flip": bytes(b ^ 0xFF for b in old), "zero": bytes(n),
       "random": os.urandom(n)}[how]
os.lseek(fd, off, 0)
os.write(fd, new)
os.fsync(fd)
os.close(fd)
EOF
}

# verify DESC INTACT [EXTRA]: phases 1..INTACT must read back exactly;
# later ones their data or zeros; the hot region generation INTACT or newer.
# EXTRA adds allowed classes everywhere (E: a read error for damaged data).
# One blkpat run for all regions; one assertion per region.  Sets SAW_EIO=1
# if any block read failed.
verify() {
	local desc=$1 k=$2 x=${3:-} p allow also="" spec="$T_TMP/spec" name st rest
	: >"$spec"
	for ((p = 1; p <= PHASES; p++)); do
		allow=L$x
		[ "$p" -gt "$k" ] && allow=LZ$x
		echo "phase$p $((p * MB)) 256 $allow $T_TMP/r$p" >>"$spec"
	done
	for ((p = (k > 0 ? k : 1); p < PHASES; p++)); do
		also+=" $T_TMP/h$p"
	done
	allow=LO$x
	[ "$k" = 0 ] && allow=LOZ$x
	[ "$k" = "$PHASES" ] && allow=L$x
	echo "hot-gen$k+ $H_OFF $H_BLOCKS $allow $T_TMP/h$PHASES$also" >>"$spec"
	python3 "$BLKPAT" multi $DEV "$spec" >"$T_TMP/multi.out" 2>&1
	SAW_EIO=0
	if ! grep -q '^region ' "$T_TMP/multi.out"; then
		fail "$desc: blkpat multi failed: $(head -n 5 "$T_TMP/multi.out")"
		return
	fi
	while read -r _ name st rest; do
		name=${name%:}
		case "$rest" in *" E=0 "*) ;; *) SAW_EIO=1 ;; esac
		if [ "$st" = "ok:" ]; then
			pass "$desc: $name ($rest)"
		else
			fail "$desc: $name ($rest)"
			sed -n "/^region $name: /,/^region /p" "$T_TMP/multi.out" |
				grep '^  block' | head -n 3
		fi
	done < <(grep '^region ' "$T_TMP/multi.out")
	assert_rc 0 "$desc: rest of the device reads zeros" -- \
		cmp_dev $DEV $((32 * MB)) $((16 * MB)) /dev/zero
}

# attempt DESC refuse|any|create INTACT [EXTRA]: create over the damaged
# disk and judge the outcome (see verify).
attempt() {
	local desc=$1 mode=$2 k=$3 x=${4:-}
	dmesg_mark
	if dmsetup create t22 --table "$TABLE" >"$T_TMP/create.out" 2>&1; then
		if [ "$mode" = refuse ]; then
			fail "$desc: created, but it must be refused"
		else
			pass "$desc: created (mode $(status_field t22 1))"
		fi
		dmesg_since | grep 'ilio' | tail -n 2 | sed 's/^/# dmesg: /'
		verify "$desc" "$k" "$x"
		# The check message also loads every chunk: it must pass exactly
		# when every read did.
		chk=$(dmsetup message t22 0 check 2>&1)
		if [ "$SAW_EIO" = 0 ]; then
			assert_eq "$chk" ok "$desc: check: store consistent"
		elif [ "$chk" != ok ]; then
			pass "$desc: check reports the unreadable data: $chk"
		else
			fail "$desc: reads failed but check says ok"
		fi
		dmsetup remove t22 || fail "$desc: remove"
	else
		if [ "$mode" = create ]; then
			fail "$desc: refused: $(dmesg_since | grep ilio | tail -n 2)"
		else
			pass "$desc: refused"
		fi
		if dmesg_since | grep -q 'ilio'; then
			pass "$desc: dmesg says why: $(dmesg_since | grep ilio | tail -n 1)"
		else
			fail "$desc: refused without an ilio message in dmesg"
		fi
		if dmsetup info t22 >/dev/null 2>&1; then
			fail "$desc: device left behind"
			dmsetup remove t22 >/dev/null 2>&1
		fi
	fi
}

restore
attempt "undamaged crash image" create $PHASES

restore
poke 40 1 flip
attempt "superblock copy 0: flipped byte" any $PHASES
restore
poke 0 4096 zero
attempt "superblock copy 0: zeroed" any $PHASES
restore
poke 40 1 flip
poke $((4096 + 40)) 1 flip
attempt "both superblock copies flipped" refuse 0

restore
poke $(((2 + CUR_SLOT) * 4096 + 40)) 1 flip
attempt "newest anchor slot flipped" any 2
restore
poke $((2 * 4096 + 40)) 1 flip
poke $((3 * 4096 + 40)) 1 flip
attempt "both anchor slots flipped" refuse 0

if [ "$FIRST_TYPE" = 2 ]; then
	restore
	poke $((FIRST_BLK * 4096 + 4096 + 100)) 1 flip
	attempt "checkpoint unit the anchor names: a leaf byte" any 2
	restore
	poke $((FIRST_BLK * 4096 + 60)) 1 flip
	attempt "checkpoint unit: a leaf descriptor" any 2
else
	log "the newest anchor's first unit is not a checkpoint (type '$FIRST_TYPE'): checkpoint cases skipped"
fi

if [ -n "$DATA_BLK" ]; then
	k=$((DATA_PHASE - 1))
	restore
	poke $((DATA_BLK * 4096 + 24)) 1 flip
	attempt "data unit (phase $DATA_PHASE) header: sequence field" any $k
	restore
	poke $((DATA_BLK * 4096 + 200)) 1 flip
	attempt "data unit header: padding byte (checksum only)" any $k
	restore
	poke "$DATA_SUM" 1 flip
	attempt "data unit summary: first entry's LBA" any $k
	restore
	poke $((DATA_SUM + 8)) 1 flip
	attempt "data unit summary: first entry's value" any $k
	restore
	poke $(((SEG_START + DATA_SEG * (SEG_BYTES / 4096)) * 4096)) "$SEG_BYTES" random
	k=$((SEG_PHASE - 1))
	[ "$SEG_HAS_FIRST" = 1 ] && [ $k -gt 2 ] && k=2
	attempt "the data unit's whole segment in garbage" any $k
else
	fail "setup: no data unit after the newest anchor (chain of $CHAIN_UNITS units): unit cases not run"
fi

if [ -n "$STALE_BLK" ]; then
	restore
	poke $((STALE_BLK * 4096 + 24)) 1 flip
	attempt "header of a data unit before the anchor (already checkpointed)" any $PHASES
	# Data, not metadata: reads are checked against the chunk hash, so a
	# damaged record may cost that block (EIO) but never returns garbage.
	restore
	poke $((STALE_BLK * 4096 + 4096 + 24)) 1 flip
	attempt "a record byte of a checkpointed data unit" create $PHASES E
else
	log "no stale data unit before the newest anchor found"
fi

restore
poke 0 $((SEG_START * 4096)) random
attempt "random garbage over the whole metadata area" refuse 0

assert_cmd "rmmod dm_ilio" -- ilio_unload
finish
