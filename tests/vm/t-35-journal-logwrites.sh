#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# t-35-journal-logwrites: persistent ilio with an NV journal device is
# crash-consistent at every flush of a logged run.  Two dm-log-writes
# devices log, each in the order its disk got them, the writes and flushes
# of the backing LUN (8 MiB of brd) and of the journal
# device (8 MiB of brd), with 256 KiB segments.  ilio-crashcheck (tests/crash) writes unique,
# duplicate, zero and discarded blocks through ilio, calls fdatasync() every
# K ops and marks both logs after each flush.  Then, for every flush mark
# f<k>, two crash states are rebuilt and recovered (read-write, on copies:
# recovery writes the journal's units to the LUN):
#  (a) the LUN as of its last FLUSH before the mark - everything it had
#      only in its volatile cache is lost - and the journal up to the mark
#      (its writes are FUA);
#  (b) the LUN with every write logged up to the mark, and the same journal;
# each must show, for every LBA, what flush k covered or a value written
# later, never stale or foreign data.  Also proved: the LUN log has far
# fewer FLUSH entries than there were front flushes (they went to the
# journal, whose log has FUA writes); and, as negative controls, that state
# (a) with the journal's ring wiped loses flushed data at some mark (the
# journal carried it), and that a state checked against a later flush
# fails.
#
# vm-args: --mem 2048 --timeout 900
# vm-time: 129

# shellcheck source=tests/vm/lib.sh
. "$REPO/tests/vm/lib.sh"

need_cmd dmsetup blockdev awk dd
CC=$REPO/build/crash/ilio-crashcheck
ILIOCTL=$REPO/tools/ilioctl
[ -x "$CC" ] || fatal "$CC not built (make -C tests/crash, on the host)"
[ "$CC" -nt "$REPO/tests/crash/ilio-crashcheck.c" ] ||
	fatal "$CC is older than its source (make -C tests/crash, on the host)"
[ -x "$ILIOCTL" ] || fatal "$ILIOCTL not built (make tools)"
ilio_load
/sbin/modprobe dm_log_writes || fatal "modprobe dm_log_writes failed"

BLOCKS=2048			# the workload's LBAs: 8 MiB
SECT=$((BLOCKS * 8))
OPS=160
EVERY=4
SEED=35
RAM_MB=4
BACK_MB=8
J_MB=8
S8=$((8 * 2048))		# 8 MiB in sectors
REC=$T_TMP/record

# ram0: LUN, ram1: LUN log, ram2: journal, ram3: journal log,
# ram4: replay targets and the copies that recovery may write.
brd_setup 64 5
# shellcheck disable=SC2317
lin() { dmsetup create "$1" --table "0 $S8 linear $2 $3"; }
assert_cmd "LUN: the first $BACK_MB MiB of ram0" -- lin back35 /dev/ram0 0 || fatal "no LUN"
assert_cmd "journal: the first $J_MB MiB of ram2" -- lin jback35 /dev/ram2 0 || fatal "no journal"
assert_cmd "replay target of state (a)'s LUN" -- lin rla35 /dev/ram4 0
assert_cmd "replay target of state (b)'s LUN" -- lin rlb35 /dev/ram4 $S8
assert_cmd "replay target of the journal" -- lin rj35 /dev/ram4 $((2 * S8))
assert_cmd "copy of a LUN state" -- lin cl35 /dev/ram4 $((3 * S8))
assert_cmd "copy of a journal state" -- lin cj35 /dev/ram4 $((4 * S8))

# --- the logged run ----------------------------------------------------------
assert_cmd "log-writes over the LUN, log on ram1" -- \
	dmsetup create lw35 --table "0 $S8 log-writes /dev/mapper/back35 /dev/ram1" ||
	fatal "no log-writes device"
assert_cmd "log-writes over the journal, log on ram3" -- \
	dmsetup create lwj35 --table "0 $S8 log-writes /dev/mapper/jback35 /dev/ram3" ||
	fatal "no log-writes device"
assert_cmd "ilioctl format the LUN (256 KiB segments) with the journal" -- \
	"$ILIOCTL" format /dev/mapper/lw35 --multihost --segment-kb 256 --journal /dev/mapper/lwj35 ||
	fatal "format failed"
dmsetup message lw35 0 mark formatted
dmsetup message lwj35 0 mark formatted
cat >"$T_TMP/mark.sh" <<'EOF'
#!/bin/sh
dmsetup message lwj35 0 mark "$1" && dmsetup message lw35 0 mark "$1"
EOF
chmod +x "$T_TMP/mark.sh"
assert_cmd "create ilio35 with the journal" -- \
	dmsetup create ilio35 --table "0 $SECT ilio /dev/mapper/lw35 $RAM_MB 2 journal /dev/mapper/lwj35" ||
	fatal "no ilio device: $(dmesg | tail -n 5)"
assert_cmd "workload: $OPS ops, fdatasync every $EVERY, both logs marked" -- \
	"$CC" workload /dev/mapper/ilio35 --blocks $BLOCKS --ops $OPS --seed $SEED \
	--flush-every $EVERY --record "$REC" --mark-cmd "$T_TMP/mark.sh %s" ||
	fatal "workload failed: $(dmesg | tail -n 5)"
log "ilio35 status: $(dmsetup status ilio35)"
jw=$(sysfs_val ilio35 journal_writes)
log "journal_writes=$jw journal_bytes=$(sysfs_val ilio35 journal_bytes) backend_flushes=$(sysfs_val ilio35 backend_flushes)"
assert_eq "$(sysfs_val ilio35 journal_failed)" 0 "journal healthy"
assert_cmd "remove ilio35" -- dmsetup remove ilio35
for d in lw35 lwj35; do
	case "$(dmsetup status $d)" in
	*logging_disabled*) fatal "dm-log-writes $d stopped logging (log device full?)" ;;
	esac
	assert_cmd "remove $d" -- dmsetup remove $d
done
F=$(grep -c '^f ' "$REC")
assert_ge "$jw" $((F / 2)) "most of the $F flushes wrote a journal record"

# --- the logs ------------------------------------------------------------------
"$CC" list /dev/ram1 >"$T_TMP/lun.list" || fatal "cannot list the LUN log"
"$CC" list /dev/ram3 >"$T_TMP/j.list" || fatal "cannot list the journal log"
log "LUN log: $(tail -n 1 "$T_TMP/lun.list")"
log "journal log: $(tail -n 1 "$T_TMP/j.list")"
lunflush=$(awk '$1 !~ /^#/ && $5 ~ /FLUSH/ && $1 > s { n++ }
	$5 == "MARK" && $6 == "formatted" { s = $1 } END { print n + 0 }' "$T_TMP/lun.list")
jfua=$(awk '$1 !~ /^#/ && $5 ~ /FUA/ { n++ } END { print n + 0 }' "$T_TMP/j.list")
log "$F front flushes: $lunflush LUN FLUSH entries, $jfua FUA writes to the journal"
assert_le "$((lunflush * 3))" "$F" "the LUN got far fewer flushes than the front"
assert_ge "$jfua" $((F / 2)) "the journal got FUA writes"
# Per mark f<k>: the LUN entry count at the mark, after its last FLUSH
# before the mark, and the journal entry count at the mark.
awk '$1 !~ /^#/ { if ($5 ~ /FLUSH/) lf = $1 + 1
	if ($5 == "MARK" && $6 ~ /^f[0-9]+$/) print substr($6, 2), $1 + 1, lf + 0 }' \
	"$T_TMP/lun.list" >"$T_TMP/lmarks"
awk '$1 !~ /^#/ && $5 == "MARK" && $6 ~ /^f[0-9]+$/ { print substr($6, 2), $1 + 1 }' \
	"$T_TMP/j.list" >"$T_TMP/jmarks"
awk 'NR == FNR { j[$1] = $2; next } ($1 in j) { print $1, $2, $3, j[$1] }' \
	"$T_TMP/jmarks" "$T_TMP/lmarks" >"$T_TMP/points"
assert_eq "$(wc -l <"$T_TMP/points")" "$F" "both logs have every flush mark"

# --- replay and check ------------------------------------------------------------
# takeover: every replayed point holds the multihost record ACTIVE.
TABLE="0 $SECT ilio /dev/mapper/cl35 $RAM_MB 3 journal /dev/mapper/cj35 takeover"
fa=0 fb=0 fj=0 npts=0 nbad=0 carried=0 tried=0 neg_done=0
# check K WHAT LUNSRC JSRC [WIPE]: copy the states, recover, verify flush K.
check() {
	local k=$1 what=$2 rc
	dd if="$3" of=/dev/mapper/cl35 bs=1M status=none
	dd if="$4" of=/dev/mapper/cj35 bs=1M status=none
	[ "${5:-}" = wipe ] && dd if=/dev/zero of=/dev/mapper/cj35 bs=4k seek=2 \
		count=$((J_MB * 256 - 2)) status=none
	if ! dmsetup create chk35 --table "$TABLE" >"$T_TMP/c" 2>&1; then
		echo "f$k $what: recovery refused: $(dmesg | grep ilio | tail -n 1)"
		return 2
	fi
	"$CC" verify /dev/mapper/chk35 --record "$REC" --flush "$k" >"$T_TMP/v" 2>&1
	rc=$?
	if [ "$rc" = 0 ] && [ "$neg_done" = 0 ] && [ "$k" -lt $((F - 2)) ] &&
	   [ "$what" = b ]; then
		assert_rc 1 "negative control: the state at f$k fails at flush $((k + 2))" -- \
			"$CC" verify /dev/mapper/chk35 --record "$REC" --flush $((k + 2))
		neg_done=1
	fi
	dmsetup remove --retry chk35 >/dev/null 2>&1 || fatal "cannot remove chk35"
	return $rc
}
t0=$SECONDS
while read -r k ln lf jn; do
	if [ "$lf" -gt "$fa" ]; then
		"$CC" replay /dev/ram1 /dev/mapper/rla35 --from-entry "$fa" --to-entry "$lf" \
			>/dev/null 2>&1 || fatal "replay LUN (a) to $lf failed"
		fa=$lf
	fi
	"$CC" replay /dev/ram1 /dev/mapper/rlb35 --from-entry "$fb" --to-entry "$ln" >/dev/null 2>&1 ||
		fatal "replay LUN (b) to $ln failed"
	fb=$ln
	"$CC" replay /dev/ram3 /dev/mapper/rj35 --from-entry "$fj" --to-entry "$jn" >/dev/null 2>&1 ||
		fatal "replay journal to $jn failed"
	fj=$jn
	for what in a b; do
		[ $what = b ] && [ $((k % 4)) != 0 ] && continue
		check "$k" $what /dev/mapper/rl${what}35 /dev/mapper/rj35
		rc=$?
		npts=$((npts + 1))
		if [ "$rc" != 0 ]; then
			nbad=$((nbad + 1))
			echo "point f$k ($what, LUN to entry $lf/$ln, journal to $jn): rc $rc"
			sed 's/^/  | /' "$T_TMP/v" | tail -n 5
		fi
	done
	# Control: state (a) without the journal's records (while none failed yet).
	if [ "$carried" = 0 ] && [ $((k % 3)) = 2 ]; then
		tried=$((tried + 1))
		check "$k" a-wiped /dev/mapper/rla35 /dev/mapper/rj35 wipe
		[ $? = 1 ] && carried=$k
	fi
done <"$T_TMP/points"
log "checked $npts points in $((SECONDS - t0)) s"
assert_eq "$nbad" 0 "every crash state recovers and verifies"
assert_ge "$npts" $((F + F / 4 - 1)) "points checked"
assert_eq "$neg_done" 1 "the later-flush negative control ran"
if [ "$carried" != 0 ]; then
	pass "negative control: without the journal's ring, state (a) at f$carried loses flushed data ($tried tried)"
else
	fail "negative control: the journal never carried data the LUN lacked ($tried tried)"
fi
for d in cj35 cl35 rj35 rlb35 rla35 jback35 back35; do
	dmsetup remove --retry $d >/dev/null 2>&1
done
finish
