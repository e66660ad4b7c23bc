#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-vdi-summary: turns what bench-vdi-guest.sh wrote (meta.txt,
# snaps.txt, fio-CONFIG-STEP.json) into plain tables: write offload at the
# backend, average backend write size, backend bytes, read offload once
# warm, fio throughput and latency as ratios to the raw backend measured in
# the same boot, the fsync sweep, and the verdict on the issue 3 targets for
# ilio (>= 20x fewer backend than front write I/Os, average backend write
# >= 256 KiB, >= 90% of reads served from RAM once warm, every flush
# honoured). Reports only: exits 0 whatever the numbers are (2 when the
# input is missing).
#
# Every backend figure comes from the delayed device's stat file, never
# from ilio's own counters (those are shown beside, as a cross-check):
#   backend data writes = vdi-slow write I/Os - vdi-fsink write I/Os
#   backend flushes     = vdi-fsink write I/Os
#   read offload        = 1 - backend read I/Os / front read I/Os (fio)
#
# Usage: bench-vdi-summary.sh RESULTS_DIR [ELAPSED_S]     (tables to stdout)

set -uo pipefail

DIR=${1:?usage: bench-vdi-summary.sh RESULTS_DIR [ELAPSED_S]}
for f in meta.txt snaps.txt; do
	[ -r "$DIR/$f" ] || { echo "bench-vdi-summary: cannot read $DIR/$f" >&2; exit 2; }
done

exec python3 - "$DIR" "${2:-}" <<'EOF'
import json, os, sys

d, elapsed = sys.argv[1], sys.argv[2]
meta = {}
for line in open(os.path.join(d, 'meta.txt')):
    k, _, v = line.strip().partition(' ')
    meta.setdefault(k, v)

snaps, skipped = {}, []
for line in open(os.path.join(d, 'snaps.txt')):
    parts = [p.strip() for p in line.split('|')]
    head = parts[0].split()
    if len(head) == 3 and head[2] == 'budget':
        skipped.append((head[0], head[1]))
        continue
    s = {}
    for p in parts[1:]:
        k, _, v = p.partition(' ')
        s[k] = v.split()
    snaps[(head[0], head[1], head[2])] = s

def ints(v):
    return [int(x) for x in v]

def status_info(s):
    # "0 <len> <target> <info...>": INFO field n (1-based) is st[2 + n]
    return s.get('status', [])

def sfield(s, n):
    st = status_info(s)
    try:
        return int(st[2 + n])
    except (IndexError, ValueError):
        return None

def fio(cfg, step):
    p = os.path.join(d, 'fio-%s-%s.json' % (cfg, step))
    try:
        t = open(p).read()
        j = json.loads(t[t.index('{'):])['jobs'][0]
    except (OSError, ValueError, KeyError, IndexError):
        return None
    def side(x):
        return {'ios': x['total_ios'], 'bytes': x['io_bytes'], 'iops': x['iops'],
                'lat': x['lat_ns']['mean'] if x['total_ios'] else None,
                'p99': x['clat_ns'].get('percentile', {}).get('99.000000')
                       if x['total_ios'] else None}
    return {'r': side(j['read']), 'w': side(j['write']),
            'sync': j.get('sync', {}).get('total_ios', 0),
            'runtime_ms': j['job_runtime']}

ILIO_CTRS = {'b_rios': 13, 'b_rbytes': 14, 'b_wios': 15, 'b_wbytes': 16,
             'hits': 19, 'misses': 20, 'flushes': 21, 'gc_moved': 22, 'gc_freed': 23}
WC_CTRS = {'reads': 5, 'read_hits': 6, 'writes': 7, 'flushes': 13}

def window(cfg, a, b):
    """Counter deltas between two snapshots (keys (cfg, step, point))."""
    sa, sb = snaps.get((cfg,) + a), snaps.get((cfg,) + b)
    if not sa or not sb:
        return None
    slow = [y - x for x, y in zip(ints(sa['slow']), ints(sb['slow']))]
    sink = [y - x for x, y in zip(ints(sa['sink']), ints(sb['sink']))]
    w = {'back_w': slow[4] - sink[4], 'back_wbytes': slow[6] * 512,
         'back_r': slow[0], 'back_rbytes': slow[2] * 512, 'back_flush': sink[4],
         'back_discard': slow[11], 'secs': float(sb['ts'][0]) - float(sa['ts'][0])
         if 'ts' in sa else None}
    ctrs = ILIO_CTRS if cfg in ('always', 'auto') else WC_CTRS if cfg == 'wc' else {}
    for k, n in ctrs.items():
        x, y = sfield(sa, n), sfield(sb, n)
        w['x_' + k] = y - x if x is not None and y is not None else None
    if 'hist' in sa and 'hist' in sb:
        w['hist'] = [y - x for x, y in zip(ints(sa['hist']), ints(sb['hist']))]
    return w

# the snapshot's time stamp is the 4th word of the head: keep it
for line in open(os.path.join(d, 'snaps.txt')):
    head = line.split('|')[0].split()
    if len(head) == 4 and (head[0], head[1], head[2]) in snaps:
        snaps[(head[0], head[1], head[2])]['ts'] = [head[3]]

def add(ws):
    ws = [w for w in ws if w]
    if not ws:
        return None
    out = {}
    for k in ws[0]:
        vals = [w.get(k) for w in ws]
        if k == 'hist':
            out[k] = [sum(v) for v in zip(*vals)] if all(vals) else None
        else:
            out[k] = sum(vals) if all(v is not None for v in vals) else None
    return out

cfgs = [c for c in ('raw', 'wc', 'always', 'auto')
        if any(k[0] == c for k in snaps)]
NAMES = {'raw': 'raw', 'wc': 'writecache', 'always': 'ilio always', 'auto': 'ilio auto'}

def pct(x):
    return '%5.1f%%' % (100.0 * x) if x is not None else '    - '

def num(x, fmt='%d'):
    return fmt % x if x is not None else '-'

def ratio(a, b, fmt='%.2fx'):
    return fmt % (a / b) if a is not None and b else '-'

def kib(x):
    return '%.1f' % (x / 1024.0) if x is not None else '-'

def mib(x):
    return '%.1f' % (x / 1048576.0) if x is not None else '-'

out = []
p = out.append
p('dm-ilio VDI benchmark (persistent mode, issue 3): one VM boot, %s, kernel %s,' % (
    meta.get('date', '?'), meta.get('kernel', '?')))
p('%s vCPUs, %s MiB, %s (QEMU TCG). Backend: dm-delay over brd, %s ms read/write/flush'
  % (meta.get('cpus', '?'), meta.get('mem_mib', '?'), meta.get('fio', 'fio'),
     meta.get('delay_ms', '?')))
p('(HZ=%s: dm-delay rounds up to whole jiffies). Front: working set %s MiB; ilio ram_mb and'
  % (meta.get('hz', '?'), meta.get('ws_mb', '?')))
p('the writecache cache device: %s MiB each. fio 8 KiB randrw rwmixwrite=80, iodepth %s,'
  % (meta.get('ram_mb', '?'), meta.get('iodepth', '?')))
p('libaio direct=1, 50%% compressible, 30%% duplicate; %s I/Os per phase (run, then warm),'
  % meta.get('ios', '?'))
if meta.get('ilio_back_mb') and meta.get('ilio_back_mb') != meta.get('back_mb'):
    p('Backend size: %s MiB for raw and writecache, %s MiB for ilio (GC pressure).' % (
        meta.get('back_mb'), meta.get('ilio_back_mb')))
p('after a sequential fill of the whole set and a drain. Backend counts: the delayed')
p('device\'s /sys/block/dm-N/stat (flushes go to a counting flush sink, see the guest script).')
if meta.get('ilio_ko'):
    p('Module: dm-ilio.ko built %s; tree at commit %s.' % (meta['ilio_ko'], meta.get('git', '?')))
p('')

main, reads, warmf, fills = {}, {}, {}, {}
for c in cfgs:
    main[c] = add([window(c, ('run', 'pre'), ('run', 'post')),
                   window(c, ('warm', 'pre'), ('warm', 'post')),
                   window(c, ('warm', 'post'), ('drain', 'drained'))])
    reads[c] = (window(c, ('run', 'pre'), ('run', 'post')),
                window(c, ('warm', 'pre'), ('warm', 'post')))
    warmf[c] = (fio(c, 'run'), fio(c, 'warm'))
    fills[c] = (fio(c, 'fill'), window(c, ('fill', 'pre'), ('fill', 'drained')))

def front_w(c):
    fr = [f for f in warmf[c] if f]
    if len(fr) != 2:
        return None, None
    return sum(f['w']['ios'] for f in fr), sum(f['w']['bytes'] for f in fr)

p('WRITES: run + warm phases and the final drain (everything those writes cost the backend)')
p('%-12s | %9s %9s %8s | %10s %10s %9s | %9s %9s' % (
    'config', 'front W', 'back W', 'front/', 'avg back', 'back MiB', 'back/front',
    'back', 'at drain'))
p('%-12s | %9s %9s %8s | %10s %10s %9s | %9s %9s' % (
    '', 'I/Os', 'I/Os', 'back', 'W KiB', 'written', 'bytes', 'flushes', 'MiB'))
res = {}
for c in cfgs:
    m = main[c]
    fw, fwb = front_w(c)
    if not m or fw is None:
        p('%-12s | incomplete run' % NAMES[c])
        continue
    dr = window(c, ('warm', 'post'), ('drain', 'drained'))
    r = fw / m['back_w'] if m['back_w'] else None
    avg = m['back_wbytes'] / m['back_w'] if m['back_w'] else None
    res[(c, 'ratio')], res[(c, 'avg')] = r, avg
    p('%-12s | %9d %9d %8s | %10s %10s %9s | %9d %9s' % (
        NAMES[c], fw, m['back_w'], ratio(fw, m['back_w'], '%.1fx'), kib(avg),
        mib(m['back_wbytes']), pct(m['back_wbytes'] / fwb if fwb else None),
        m['back_flush'], mib(dr['back_wbytes']) if dr else '-'))
for c in ('always', 'auto'):
    m = main.get(c)
    if m and m.get('hist'):
        h = m['hist']
        labels = ['<=4K', '<=8K', '<=16K', '<=32K', '<=64K', '<=128K', '<=256K',
                  '<=512K', '<=1M', '>1M']
        p('  %s backend_write_size_hist (ilio sysfs, same window): %s' % (
            NAMES[c], ' '.join('%s:%d' % (l, n) for l, n in zip(labels, h) if n) or 'empty'))
    if m and m.get('x_b_wios') is not None:
        p('  %s own counters: backend_write_ios %d (stat: %d), gc_moved %s MiB, '
          'gc_freed_segments %s' % (NAMES[c], m['x_b_wios'], m['back_w'],
                                    mib(m['x_gc_moved']), num(m['x_gc_freed'])))

p('')
p('READS: share of front reads that did not reach the backend (1 - back R I/Os / front R I/Os;')
p('back R includes ilio\'s GC reads, and an 8 KiB front read that misses costs ilio up to two')
p('backend reads, one per 4 KiB chunk: ilio\'s own chunk hit rate is shown beside)')
p('%-12s | %8s %8s %8s | %8s %8s %8s | %s' % (
    'config', 'run R', 'back R', 'offload', 'warm R', 'back R', 'offload', 'own hit rate (warm)'))
for c in cfgs:
    w1, w2 = reads[c]
    f1, f2 = warmf[c]
    if not (w1 and w2 and f1 and f2):
        p('%-12s | incomplete run' % NAMES[c])
        continue
    def off(f, w):
        n = f['r']['ios']
        return max(0.0, 1.0 - w['back_r'] / n) if n else None
    own = ''
    if c in ('always', 'auto') and w2.get('x_hits') is not None:
        t = w2['x_hits'] + w2['x_misses']
        own = 'ilio cache_hits %s of %d chunk lookups' % (pct(w2['x_hits'] / t if t else None).strip(), t)
    elif c == 'wc' and w2.get('x_reads') is not None:
        own = 'writecache read_hits %s of %d' % (
            pct(w2['x_read_hits'] / w2['x_reads'] if w2['x_reads'] else None).strip(), w2['x_reads'])
    elif c == 'raw':
        own = '(front = backend)'
    o2 = off(f2, w2)
    res[(c, 'roff')] = o2
    p('%-12s | %8d %8d %8s | %8d %8d %8s | %s' % (
        NAMES[c], f1['r']['ios'], w1['back_r'], pct(off(f1, w1)),
        f2['r']['ios'], w2['back_r'], pct(o2), own))

p('')
p('FIO, warm phase, as ratios to the raw backend in the same boot (IOPS: higher is better;')
p('latency: mean total latency, submission to completion, and 99th percentile of completion latency)')
p('%-12s | %9s | %9s %9s | %9s %9s' % ('config', 'IOPS', 'W lat', 'R lat', 'W p99', 'R p99'))
base = warmf.get('raw', (None, None))[1]
for c in cfgs:
    f = warmf[c][1]
    if not f or not base:
        p('%-12s | %s' % (NAMES[c], 'no raw baseline' if f else 'incomplete run'))
        continue
    iops = f['r']['iops'] + f['w']['iops']
    biops = base['r']['iops'] + base['w']['iops']
    p('%-12s | %9s | %9s %9s | %9s %9s' % (
        NAMES[c], ratio(iops, biops), ratio(f['w']['lat'], base['w']['lat']),
        ratio(f['r']['lat'], base['r']['lat']), ratio(f['w']['p99'], base['w']['p99']),
        ratio(f['r']['p99'], base['r']['p99'])))
if base and base['w']['lat'] and base['r']['lat']:
    p('  (the raw backend itself, to show how slow it is: mean write %.1f ms, read %.1f ms'
      % (base['w']['lat'] / 1e6, base['r']['lat'] / 1e6))
    p('  per 8 KiB I/O at iodepth 8; dm-delay waits whole jiffies, and TCG adds to it)')
if 'wc' in cfgs:
    fwc = warmf['wc'][1]
    for c in ('always', 'auto'):
        f = warmf.get(c, (None, None))[1]
        if f and fwc:
            p('  %s / writecache: IOPS %s, W lat %s, R lat %s' % (
                NAMES[c], ratio(f['r']['iops'] + f['w']['iops'], fwc['r']['iops'] + fwc['w']['iops']),
                ratio(f['w']['lat'], fwc['w']['lat']), ratio(f['r']['lat'], fwc['r']['lat'])))

p('')
p('FILL (sequential 1 MiB writes of the whole set, then a drain; not part of the ratios)')
for c in cfgs:
    f, w = fills[c]
    if f and w:
        p('  %-12s front %s MiB -> backend %s MiB in %d write I/Os (avg %s KiB), %s s' % (
            NAMES[c], mib(f['w']['bytes']), mib(w['back_wbytes']), w['back_w'],
            kib(w['back_wbytes'] / w['back_w'] if w['back_w'] else None),
            num(w['secs'], '%.0f')))

probe = [(c, fio(c, 'fprobe'), window(c, ('fprobe', 'pre'), ('fprobe', 'post'))) for c in cfgs]
probe = [x for x in probe if x[1] and x[2]]
if probe:
    p('')
    p('FLUSH PROBE: random 8 KiB writes at iodepth 1, fsync after each (fio window only):')
    p('every fsync follows one acknowledged write, so an honoured flush costs the backend one')
    p('data write and one flush (writecache makes it durable on its cache device instead)')
    p('%-12s | %7s %7s | %9s %9s %9s | %s' % (
        'config', 'writes', 'fsyncs', 'back W', 'back', 'own', 'every fsync reached'))
    p('%-12s | %7s %7s | %9s %9s %9s | %s' % ('', '', '', 'I/Os', 'flushes', 'flushes', 'the backend'))
    for c, f, w in probe:
        own = w.get('x_flushes')
        ok = w['back_w'] >= f['sync'] and w['back_flush'] >= f['sync']
        if c in ('always', 'auto'):
            res[(c, 'probe')] = ok
        p('%-12s | %7d %7d | %9d %9d %9s | %s' % (
            NAMES[c], f['w']['ios'], f['sync'], w['back_w'], w['back_flush'], num(own),
            ('yes' if ok else 'NO') if c != 'wc' else '(cache device)'))

sweep = sorted({k[1] for k in snaps if k[1].startswith('s')},
               key=lambda s: (s == 'snone', int(s[1:]) if s[1:].isdigit() else 0))
sres = {}
if sweep:
    p('')
    p('FSYNC SWEEP: the run workload for %s s with fsync=N (fio counts reads and writes' % meta.get('sweep_s', '?'))
    p('toward N), then a drain. "W/fsync" = front writes per fsync; flushes = backend flush bios;')
    p('"ilio flushes" = ilio\'s own counter over the fio run, which must be >= fio\'s fsyncs.')
    p('%-6s %-12s | %8s %7s %8s | %8s %8s %9s | %8s %11s | %s' % (
        'fsync', 'config', 'front W', 'fsyncs', 'W/fsync', 'back W', 'front/',
        'avg back', 'back', 'ilio', 'IOPS vs'))
    p('%-6s %-12s | %8s %7s %8s | %8s %8s %9s | %8s %11s | %s' % (
        'N', '', '', '', '', 'I/Os', 'back', 'W KiB', 'flushes', 'flushes', 'writecache'))
    for s in sweep:
        for c in cfgs:
            f = fio(c, s)
            w = window(c, (s, 'pre'), (s, 'drained'))
            if not f or not w:
                continue
            fw = window(c, (s, 'pre'), (s, 'post'))
            fl = ''
            if c in ('always', 'auto') and fw and fw.get('x_flushes') is not None:
                ok = fw['x_flushes'] >= f['sync']
                fl = '%d %s' % (fw['x_flushes'], 'ok' if ok else 'LOW')
                if f['sync']:
                    sres[(c, s)] = ok
            elif c == 'wc' and fw and fw.get('x_flushes') is not None:
                fl = '%d' % fw['x_flushes']
            fwc = fio('wc', s)
            iops = f['r']['iops'] + f['w']['iops']
            vs = ratio(iops, fwc['r']['iops'] + fwc['w']['iops']) if fwc and c != 'wc' else ''
            p('%-6s %-12s | %8d %7d %8s | %8d %8s %9s | %8d %11s | %s' % (
                s[1:], NAMES[c], f['w']['ios'], f['sync'],
                ratio(f['w']['ios'], f['sync'], '%.1f') if f['sync'] else '-',
                w['back_w'], ratio(f['w']['ios'], w['back_w'], '%.1fx'),
                kib(w['back_wbytes'] / w['back_w'] if w['back_w'] else None),
                w['back_flush'], fl, vs))
    for c, s in skipped:
        p('  skipped: %s %s (time budget)' % (NAMES.get(c, c), s))

p('')
p('TARGETS (ilio; writecache shown for reference)')
for c in [x for x in ('always', 'auto', 'wc') if x in cfgs]:
    r, a, o = res.get((c, 'ratio')), res.get((c, 'avg')), res.get((c, 'roff'))
    def v(ok):
        return '-' if ok is None else ('MET' if ok else 'MISS')
    p('  %-12s front/back write I/Os >= 20x: %-7s %-4s  avg backend write >= 256 KiB: %-8s %-4s'
      '  reads from RAM once warm >= 90%%: %-6s %s' % (
          NAMES[c], ratio(1, 1.0 / r, '%.1fx') if r else '-', v(r >= 20 if r else None),
          kib(a), v(a >= 256 * 1024 if a else None), pct(o).strip(), v(o >= 0.9 if o is not None else None)))
    if c in ('always', 'auto'):
        checks = [ok for (cc, s), ok in sres.items() if cc == c]
        if checks:
            p('  %-12s every fsync counted by ilio (flushes >= fsyncs, %d sweep steps): %s' % (
                '', len(checks), 'MET' if all(checks) else 'MISS'))
        if (c, 'probe') in res:
            p('  %-12s every fsync after a write reached the backend as a write + flush (probe): %s' % (
                '', 'MET' if res[(c, 'probe')] else 'MISS'))
p('')
p('bench-vdi: %s%s' % (', '.join(NAMES[c] for c in cfgs) or 'nothing measured',
                       (', VM run %ss' % elapsed) if elapsed else ''))
print('\n'.join(out))
EOF
