#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-summary: turns what bench-guest.sh wrote (fio.csv, ram.csv) into the
# comparison tables (ilio against zram, brd and dm-linear, measured side by
# side in one boot) and the verdict on the targets: ilio >= 0.8x zram on unique data,
# >= 1.0x zram on 80%-duplicate data. Reports only: exits 0 whatever the
# numbers are (2 when the input is missing).
#
# Usage: bench-summary.sh RESULTS_DIR [ELAPSED_S]     (tables to stdout)

set -uo pipefail

DIR=${1:?usage: bench-summary.sh RESULTS_DIR [ELAPSED_S]}
for f in fio.csv ram.csv; do
	[ -r "$DIR/$f" ] || { echo "bench-summary: cannot read $DIR/$f" >&2; exit 2; }
done

exec python3 - "$DIR" "${2:-}" <<'EOF'
import csv, sys
from collections import defaultdict

d, elapsed = sys.argv[1], sys.argv[2]
notes = []

def load(name):
    with open('%s/%s' % (d, name)) as f:
        lines = [l for l in f if l.strip()]
    notes.extend(l[1:].strip() for l in lines if l.startswith('#'))
    return list(csv.DictReader(l for l in lines if not l.startswith('#')))

fio, ram = load('fio.csv'), load('ram.csv')
DATA_ORDER = ['unique', 'comp50', 'dup80']
DEVS = ('ilio', 'zram', 'brd', 'dmlin')

def ckey(j, dset, bs):
    return (int(j), DATA_ORDER.index(dset) if dset in DATA_ORDER else 9,
            int(bs.rstrip('kK')), dset, bs)

# (jobs, data, bs) -> phase -> dev -> round -> (kib, ms)
runs = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
for r in fio:
    runs[(r['jobs'], r['data'], r['bs'])][r['phase']][r['dev']][r['round']] = \
        (float(r['kib']), float(r['runtime_ms']))
rams = {(r['jobs'], r['data'], r['bs'], r['dev']): r for r in ram}
configs = sorted(runs, key=lambda k: ckey(*k))

def bw(rounds):
    kib = sum(v[0] for v in rounds.values())
    ms = sum(v[1] for v in rounds.values())
    return kib / ms * 1000 / 1024 if ms else None

def round_ratios(a, b):
    out = []
    for r in a:
        if r in b and a[r][1] and b[r][1] and b[r][0]:
            out.append((a[r][0] / a[r][1]) / (b[r][0] / b[r][1]))
    return out

def f(x, w=6):
    return '%*.1f' % (w, x) if x is not None else '%*s' % (w, '-')

def fr(x):
    return '%5.2fx' % x if x is not None else '    - '

def spread(rs):
    return '[%.2f-%.2f]' % (min(rs), max(rs)) if rs else '[ - ]'

res = {}
out = []
p = out.append
p('dm-ilio VM benchmark: ilio vs zram (lz4), brd and dm-linear over brd (dmlin),')
p('one VM boot, fio libaio direct=1 iodepth=8 per job, sequential, fresh devices.')
p('MiB/s over all rounds; [min-max] is the spread of the per-round ilio/zram')
p('ratio (host noise). Under TCG only ratios between columns count.')
for phase in ('write', 'read'):
    p('')
    p('%s MiB/s' % phase.upper())
    p('%-7s %-4s %-4s | %6s %6s %6s %6s | %-19s %-8s %-8s' % (
        'data', 'bs', 'jobs', 'ilio', 'zram', 'brd', 'dmlin',
        'ilio/zram [spread]', 'ilio/brd', 'ilio/dmlin'))
    for c in configs:
        ph = runs[c][phase]
        b = [bw(ph[k]) if ph.get(k) else None for k in DEVS]
        rz = b[0] / b[1] if b[0] and b[1] else None
        rr = round_ratios(ph.get('ilio', {}), ph.get('zram', {}))
        res[(c, phase)] = (rz, rr)
        p('%-7s %-4s %-4s | %s | %s %-12s %-8s %-8s' % (
            c[1], c[2], c[0], ' '.join(f(x) for x in b), fr(rz), spread(rr),
            fr(b[0] / b[2] if b[0] and b[2] else None),
            fr(b[0] / b[3] if b[0] and b[3] else None)))

p('')
p('RAM for the same data (MiB): ilio ram_used_bytes (segments + metadata),')
p('zram mm_stat mem_used_total, brd the data size (it keeps every page written;')
p('dmlin is brd underneath). "st/uq" ilio stored/unique bytes, "cmp/or" zram')
p('compr_data_size/orig_data_size; vmalloc delta cross-checks ilio\'s own figure.')
p('%-7s %-4s %-4s | %-20s | %-9s | %-26s | %-10s | %-10s | %s' % (
    'data', 'bs', 'jobs', 'RAM  ilio zram brd', 'ilio/zram', 'ilio dedup_hits (of blocks)',
    'ilio st/uq', 'zram cmp/or', 'ilio vmalloc delta'))
for c in configs:
    rr = [rams.get(c + (k,)) for k in DEVS[:3]]
    mib = [float(r['ram_bytes']) / 1048576 if r else None for r in rr]
    il, zr = rr[0], rr[1]
    hits = st = zc = vm = ''
    if il:
        logical = float(il['logical_bytes'])
        hits = '%s (%.1f%%)' % (il['dedup_hits'],
                                100.0 * float(il['dedup_hits']) * 4096 / logical
                                if logical else 0)
        uq = float(il['unique_bytes'])
        st = '%.1f%%' % (100.0 * float(il['stored_bytes']) / uq) if uq else '-'
        vm = '%.1f MiB' % (float(il['vmalloc_delta_bytes']) / 1048576)
    if zr and float(zr['logical_bytes']):
        zc = '%.1f%%' % (100.0 * float(zr['stored_bytes']) / float(zr['logical_bytes']))
    p('%-7s %-4s %-4s | %s | %-9s | %-26s | %-10s | %-10s | %s' % (
        c[1], c[2], c[0], ' '.join(f(x) for x in mib),
        fr(mib[0] / mib[1] if mib[0] and mib[1] else None), hits, st, zc, vm))
for n in notes:
    p('note: ' + n)

p('')
p('TARGETS (write and read, each bs and numjobs): ilio/zram')
met = total = 0
for c in configs:
    target = {'unique': 0.8, 'dup80': 1.0}.get(c[1])
    if target is None:
        continue
    for phase in ('write', 'read'):
        rz, rr = res.get((c, phase), (None, []))
        if rz is None:
            continue
        total += 1
        ok = rz >= target
        met += ok
        p('  %-6s %-4s numjobs=%s %-5s %5.2fx %-12s >= %.1fx: %s' % (
            c[1], c[2], c[0], phase, rz, spread(rr), target, 'MEET' if ok else 'MISS'))
p('')
p('bench: %d of %d throughput targets met (ilio >= 0.8x zram on unique data, '
  '>= 1.0x on 80%%-duplicate data)%s' %
  (met, total, (', VM run %ss' % elapsed) if elapsed else ''))
print('\n'.join(out))
EOF
