#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-plots.sh - the plots of "make bench" (issue 10), SVG with gnuplot
# (Debian: gnuplot-nox), from results already on disk, so it can be re-run:
#   vdi-write-iops.svg   front vs backend write IOPS over time in the VDI
#                        workload (run, warm, drain), one panel per
#                        configuration (raw, dm-writecache, ilio);
#                        from ts-CONFIG.txt and snaps.txt
#   vdi-write-sizes.svg  the backend's writes by size (4 KiB ... 1 MiB,
#                        larger) in the same window, per configuration;
#                        from bsz-CONFIG.hist (tracefs hist trigger), or
#                        for ilio from its own backend_write_size_hist
#                        when the trace is missing (the legend says so)
#   ram-vs-zram.svg      RAM used by diskless ilio and by zram (mm_stat
#                        mem_used_total) for the same data, per data set
#                        and block size (ram.csv), and, where ram-ts.csv
#                        is there, RAM as the logical data written grows
# Each plot names the arguments of the run it comes from (meta.txt, cmd).
# A configuration or file that is missing is said so in the plot; only a
# missing gnuplot or no input at all is an error.
#
# Usage: bench-plots.sh [--vdi DIR] [--bench DIR] [--out DIR]
#   --vdi    bench-vdi results (build/vm/results/bench-vdi)
#   --bench  bench.sh results (build/vm/results/bench)
#   --out    where the SVGs go (build/vm/results/plots); the figures
#            committed in Documentation/bench/ come from --out
#            Documentation/bench

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VDI=$REPO/build/vm/results/bench-vdi
BENCH=$REPO/build/vm/results/bench
OUT=$REPO/build/vm/results/plots

usage() {
	sed -n '4,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--vdi) VDI=${2:?--vdi needs a directory}; shift 2 ;;
	--bench) BENCH=${2:?--bench needs a directory}; shift 2 ;;
	--out) OUT=${2:?--out needs a directory}; shift 2 ;;
	-h | --help) usage ;;
	*) echo "bench-plots.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

command -v gnuplot >/dev/null || {
	echo "bench-plots.sh: gnuplot is missing (make deps installs gnuplot-nox)" >&2
	exit 2
}
if [ ! -r "$VDI/snaps.txt" ] && [ ! -r "$BENCH/ram.csv" ]; then
	echo "bench-plots.sh: no results: neither $VDI/snaps.txt nor $BENCH/ram.csv" >&2
	exit 2
fi
mkdir -p "$OUT" || exit 2
WORK=$(mktemp -d) || exit 2
trap 'rm -rf "$WORK"' EXIT

python3 - "$VDI" "$BENCH" "$OUT" "$WORK" <<'EOF'
import os, re, shlex, subprocess, sys

vdi, bench, out, work = sys.argv[1:5]
sys.stdout.reconfigure(line_buffering=True)
NAMES = {'raw': 'raw backend', 'wc': 'dm-writecache',
         'always': 'ilio (coalesce always)', 'auto': 'ilio (coalesce auto)'}
BUCKETS = ['4K', '8K', '16K', '32K', '64K', '128K', '256K', '512K', '1M', '>1M']
HEAD = ('set terminal svg size %d,%d dynamic noenhanced font "sans,11" '
        'background rgb "white"\nset output "%s"\nset grid\n')
rc = 0


def q(s):
    """A gnuplot string literal."""
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n') + '"'


def gnuplot(name, script):
    global rc
    path = os.path.join(work, name + '.gp')
    with open(path, 'w') as f:
        f.write(script)
    r = subprocess.run(['gnuplot', path], capture_output=True, text=True)
    # gnuplot warns on stderr for harmless things (empty ranges); show them.
    if r.stderr.strip():
        sys.stderr.write('bench-plots: gnuplot %s: %s\n' % (name, r.stderr.strip()))
    if r.returncode != 0:
        rc = 1
        return
    print('bench-plots: wrote %s' % os.path.join(out, name + '.svg'))


def read_meta(d):
    meta = {}
    try:
        for line in open(os.path.join(d, 'meta.txt')):
            k, _, v = line.strip().partition(' ')
            meta.setdefault(k, v)
    except OSError:
        pass
    return meta


def guest_args(d):
    """The guest script's arguments, from the cmd file run.sh left."""
    try:
        words = shlex.split(open(os.path.join(d, 'cmd')).read())
    except (OSError, ValueError):
        return None
    for i, w in enumerate(words):
        if w.endswith('.sh'):
            return ' '.join(shlex.quote(a) for a in words[i + 1:]) or '(defaults)'
    return None


# --- VDI: snaps.txt, ts-CONFIG.txt, bsz-CONFIG.hist ---------------------------

def parse_stat_line(line):
    parts = [p.strip() for p in line.split('|')]
    s = {}
    for p in parts[1:]:
        k, _, v = p.partition(' ')
        s[k] = v.split()
    return parts[0].split(), s


def wr(s, k):
    v = s.get(k, [])
    return int(v[4]) if len(v) > 4 else None


def vdi_plots():
    meta = read_meta(vdi)
    snaps = {}
    for line in open(os.path.join(vdi, 'snaps.txt')):
        head, s = parse_stat_line(line)
        if len(head) == 4:
            snaps[tuple(head[:3])] = (float(head[3]), s)
    configs = meta.get('configs', 'raw wc always auto').split()
    src = 'bench-vdi.sh %s\nworking set %s MiB, RAM %s MiB, %s+%s random 8 KiB I/Os, delay %s ms; %s, git %s' % (
        guest_args(vdi) or '(arguments unknown)', meta.get('ws_mb', '?'),
        meta.get('ram_mb', '?'), meta.get('ios', '?'), meta.get('ios', '?'),
        meta.get('delay_ms', '?'), meta.get('date', '?'), meta.get('git', '?'))

    # 1. front vs backend write IOPS over time
    panels = []
    for c in configs:
        t0 = snaps.get((c, 'run', 'pre'), (None,))[0]
        path = os.path.join(vdi, 'ts-%s.txt' % c)
        rows = []
        if t0 is not None and os.path.exists(path):
            prev = None
            for line in open(path):
                head, s = parse_stat_line(line)
                try:
                    t = float(head[0])
                except (IndexError, ValueError):
                    continue
                slow, sink, front = wr(s, 'slow'), wr(s, 'sink'), wr(s, 'front')
                if None in (slow, sink, front):
                    continue
                cur = (t, slow - sink, front)
                if prev and cur[0] > prev[0]:
                    # one flat segment per interval: its start and end
                    dt = cur[0] - prev[0]
                    fr, br = (cur[2] - prev[2]) / dt, (cur[1] - prev[1]) / dt
                    rows.append((prev[0] - t0, fr, br))
                    rows.append((cur[0] - t0, fr, br))
                prev = cur
        marks = []
        for step, point, label in (('run', 'pre', 'run'), ('warm', 'pre', 'warm'),
                                   ('warm', 'post', 'drain')):
            v = snaps.get((c, step, point))
            if t0 is not None and v:
                marks.append((v[0] - t0, label))
        dat = os.path.join(work, 'iops-%s.dat' % c)
        with open(dat, 'w') as f:
            f.write('# t_s front_write_iops backend_write_iops\n')
            for r in rows:
                f.write('%.2f %.1f %.1f\n' % r)
        panels.append((c, dat, rows, marks))
    if panels:
        h = 260 * len(panels) + 80
        g = HEAD % (900, h, os.path.join(out, 'vdi-write-iops.svg'))
        g += 'set multiplot layout %d,1 title %s\n' % (
            len(panels), q('Front vs backend write IOPS, VDI workload (run, warm, drain)\n' + src))
        g += 'set logscale y\nset yrange [0.5:*]\nset xlabel "seconds since the run step began (a gap: 0 IOPS, which a log scale cannot draw)"\n'
        g += 'set ylabel "write IOPS (log)"\nset key outside right top\nset style data lines\nset xrange [0:*]\n'
        for c, dat, rows, marks in panels:
            g += 'unset label\nunset arrow\n'
            if not rows:
                g += 'set title %s\nunset logscale y\nset yrange [0:1]\nset xrange [0:1]\n' % q(
                    '%s: no data (no ts-%s.txt in the results)' % (NAMES.get(c, c), c))
                g += 'set label "no data" at 0.5, 0.5 center\nplot 2 notitle\n'
                g += 'set logscale y\nset yrange [0.5:*]\nset xrange [0:*]\n'
                continue
            for x, label in marks:
                g += 'set arrow from %.2f, graph 0 to %.2f, graph 1 nohead dt 2 lc rgb "gray40"\n' % (x, x)
                g += 'set label %s at %.2f, graph 0.95 offset 0.3,0 tc rgb "gray30"\n' % (q(label), x)
            # time-weighted means over the sampled window
            span = rows[-1][0] - rows[0][0]
            fw = sum(rows[i][1] * (rows[i + 1][0] - rows[i][0]) for i in range(0, len(rows), 2)) / span
            bw = sum(rows[i][2] * (rows[i + 1][0] - rows[i][0]) for i in range(0, len(rows), 2)) / span
            g += 'set title %s\n' % q('%s: mean front %.0f, backend %.0f write IOPS%s' % (
                NAMES.get(c, c), fw, bw, ' (front = backend)' if c == 'raw' else ''))
            if c == 'raw':
                g += 'plot %s using 1:3 title "backend = front" lw 2 lc rgb "#d62728"\n' % q(dat)
            else:
                g += ('plot %s using 1:2 title "front" lw 2 lc rgb "#1f77b4", '
                      '"" using 1:3 title "backend (data writes)" lw 2 lc rgb "#d62728"\n') % q(dat)
        g += 'unset multiplot\n'
        g += '# IOPS of 0 are not drawn on the log scale.\n'
        gnuplot('vdi-write-iops', g)

    # 2. backend writes by size
    def bucket(nbytes):
        for i in range(9):
            if nbytes <= 4096 << i:
                return i
        return 9

    series, reasons = [], {}
    for c in configs:
        counts, how = [0] * 10, None
        path = os.path.join(vdi, 'bsz-%s.hist' % c)
        missing = 'no bsz-%s.hist' % c
        if os.path.exists(path):
            text = open(path).read()
            if text.startswith('missing'):
                missing = text.strip()[len('missing '):]
            else:
                for m in re.finditer(r'nr_sector:\s*(\d+)\s*}\s*hitcount:\s*(\d+)', text):
                    counts[bucket(int(m.group(1)) * 512)] += int(m.group(2))
                how = 'trace'
                dropped = re.search(r'Dropped:\s*(\d+)', text)
                if dropped and int(dropped.group(1)):
                    how = 'trace, %s dropped' % dropped.group(1)
        a = snaps.get((c, 'run', 'pre'), (0, {}))[1].get('hist')
        b = snaps.get((c, 'drain', 'drained'), (0, {}))[1].get('hist')
        own = [int(y) - int(x) for x, y in zip(a, b)] if a and b else None
        if how is None:
            reasons.setdefault(missing, []).append(c)
        if how is None and own:
            counts, how = own, "ilio's own backend_write_size_hist, no trace"
        if own and how.startswith('trace'):
            print('bench-plots: %s: traced %d backend writes, ilio counted %d%s' % (
                c, sum(counts), sum(own), '' if counts == own else
                ' (by size: trace %s, ilio %s)' % (counts, own)))
        series.append((c, counts, how or 'no data, no trace'))
    dat = os.path.join(work, 'sizes.dat')
    with open(dat, 'w') as f:
        f.write('# size ' + ' '.join(c for c, _, _ in series) + '\n')
        for i, b in enumerate(BUCKETS):
            f.write(b + ' ' + ' '.join(str(cnt[i]) if cnt[i] else '0.5' for _, cnt, _ in series) + '\n')
    if series:
        g = HEAD % (900, 600, os.path.join(out, 'vdi-write-sizes.svg'))
        why = ''.join('\nno trace for %s: %s' % (', '.join(cs), r) for r, cs in reasons.items())
        g += 'set title %s\n' % q('Backend writes by size (up to 4 KiB, 8 KiB, ... 1 MiB, larger), '
                                  'VDI workload (run, warm, drain)\n' + src + why)
        g += ('set style data histograms\nset style histogram clustered gap 1\n'
              'set style fill solid 0.85 border -1\nset boxwidth 0.9\nset logscale y\n'
              'set yrange [0.8:*]\nset offsets 0, 0, graph 0.08, 0\nset ylabel "backend writes (log)"\n'
              'unset xlabel\nset key below vertical maxcols 1 Left reverse\n')
        plots = []
        colors = {'raw': '#d62728', 'wc': '#ff7f0e', 'always': '#1f77b4', 'auto': '#2ca02c'}
        for i, (c, cnt, how) in enumerate(series):
            title = '%s: %d writes (%s)' % (NAMES.get(c, c), sum(cnt), how)
            if how.startswith('no data'):  # the reason is in the title
                title = '%s: %s' % (NAMES.get(c, c), how)
            plots.append('%s using %d:xtic(1) title %s lc rgb "%s"' % (
                q(dat) if not plots else '""', i + 2, q(title), colors.get(c, 'black')))
        # the count above each bar (cluster i, series k of n, gap 1)
        n = len(series)
        for k in range(n):
            plots.append('"" using ($0 + %.4f):(column(%d) >= 1 ? column(%d) : NaN):'
                         '(sprintf("%%d", column(%d))) with labels rotate by 90 left offset 0,0.4 font ",8" notitle' % (
                             (k - (n - 1) / 2) / (n + 1), k + 2, k + 2, k + 2))
        g += 'plot ' + ', '.join(plots) + '\n'
        gnuplot('vdi-write-sizes', g)


# --- diskless: ram.csv, ram-ts.csv ---------------------------------------------

def ram_plots():
    import csv
    rows = [r for r in csv.DictReader(l for l in open(os.path.join(bench, 'ram.csv'))
                                      if not l.startswith('#'))]
    args = guest_args(bench) or '(arguments unknown)'
    import time
    when = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(os.path.getmtime(os.path.join(bench, 'ram.csv'))))
    jobs = sorted({r['jobs'] for r in rows})
    j = jobs[0] if jobs else '1'
    groups = []
    for r in rows:
        if r['jobs'] == j and (r['data'], r['bs']) not in groups:
            groups.append((r['data'], r['bs']))

    def ram(d, bs, dev):
        for r in rows:
            if (r['data'], r['bs'], r['jobs'], r['dev']) == (d, bs, j, dev):
                return int(r['ram_bytes']), int(r['logical_bytes'])
        return None

    dat = os.path.join(work, 'ram.dat')
    with open(dat, 'w') as f:
        f.write('# set ilio zram data\n')
        for d, bs in groups:
            i, z, b = ram(d, bs, 'ilio'), ram(d, bs, 'zram'), ram(d, bs, 'brd')
            f.write('%s/%s %s %s %s\n' % (d, bs, *('%.2f' % (v[0] / 1048576) if v else 'NaN'
                                                  for v in (i, z, b))))
    ts = os.path.join(bench, 'ram-ts.csv')
    have_ts = os.path.exists(ts)
    tsrows = []
    if have_ts:
        tsrows = [r for r in csv.DictReader(open(ts)) if r['jobs'] == j and r['ilio_ram']]
    h = 900 if tsrows else 480
    g = HEAD % (900, h, os.path.join(out, 'ram-vs-zram.svg'))
    g += 'set multiplot layout %d,1 title %s\n' % (2 if tsrows else 1, q(
        'RAM used for the same data: diskless ilio vs zram (lz4), numjobs=%s\n'
        'bench.sh %s; ram.csv of %s' % (j, args, when)))
    g += ('set title "RAM after the write phase (ilio ram_used_bytes, zram mem_used_total)"\n'
          'set style data histograms\nset style histogram clustered gap 1\n'
          'set style fill solid 0.85 border -1\nset boxwidth 0.9\nset yrange [0:*]\n'
          'set ylabel "MiB"\nset xlabel "data set / block size"\nset key top center horizontal\nset offsets 0, 0, graph 0.12, 0\n')
    g += ('plot %s using 2:xtic(1) title "ilio" lc rgb "#1f77b4", "" using 3 title "zram" '
          'lc rgb "#ff7f0e", "" using 4 title "data written (brd)" lc rgb "gray70"') % q(dat)
    for k in range(3):
        g += (', "" using ($0 + %.4f):(column(%d)):(sprintf("%%.1f", column(%d))) '
              'with labels offset 0,0.6 font ",8" notitle') % ((k - 1) / 4, k + 2, k + 2)
    g += '\n'
    if tsrows:
        g += ('set style data lines\nset autoscale\nset offsets 0, 0, 0, 0\nset xlabel "logical data written, MiB"\n'
              'set ylabel "RAM used, MiB"\nset key top left\n'
              'set title %s\n') % q('RAM as the data grows, bs=%s (sampled twice a second; solid ilio, dashed zram)' % (
                  groups[0][1] if groups else '?'))
        colors = ['#1f77b4', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2']
        plots = []
        # one block size (the first), else the curves crowd each other
        bs0 = groups[0][1] if groups else None
        for n, (d, bs) in enumerate(g2 for g2 in groups if g2[1] == bs0):
            path = os.path.join(work, 'ramts-%d.dat' % n)
            with open(path, 'w') as f:
                for r in tsrows:
                    if (r['data'], r['bs']) == (d, bs):
                        f.write('%.3f %.3f %s %s\n' % (
                            int(r['ilio_logical'] or 0) / 1048576, int(r['ilio_ram'] or 0) / 1048576,
                            '%.3f' % (int(r['zram_orig']) / 1048576) if r['zram_orig'] else 'NaN',
                            '%.3f' % (int(r['zram_mem']) / 1048576) if r['zram_mem'] else 'NaN'))
            col = colors[n % len(colors)]
            plots.append('%s using 1:2 title %s lw 2 lc rgb "%s"' % (q(path), q('ilio %s/%s' % (d, bs)), col))
            plots.append('%s using 3:4 title %s lw 2 dt 2 lc rgb "%s"' % (q(path), q('zram %s/%s' % (d, bs)), col))
        g += 'plot ' + ', '.join(plots) + '\n'
    g += 'unset multiplot\n'
    if not have_ts:
        print('bench-plots: no %s: RAM bars only' % ts)
    gnuplot('ram-vs-zram', g)


if os.path.exists(os.path.join(vdi, 'snaps.txt')):
    vdi_plots()
else:
    print('bench-plots: no %s/snaps.txt: no VDI plots' % vdi)
if os.path.exists(os.path.join(bench, 'ram.csv')):
    ram_plots()
else:
    print('bench-plots: no %s/ram.csv: no RAM plot' % bench)
sys.exit(rc)
EOF
rc=$?
exit "$rc"
