#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench-lat-summary: same-round ratios from bench-lat-guest.sh's lat.csv.

Every ratio is taken within one round (the devices ran one after the other
in that round, in a rotated order), then summarised over the rounds as
median [min..max].  Latency ratios are ilio / peer (lower is better),
IOPS ratios ilio / peer (higher is better).  Each line names issue 9's
target and says whether the median meets it; nothing here fails.
"""
import collections
import statistics
import sys

rows = collections.defaultdict(dict)  # (tier,test,data,jobs,metric) -> {(dev,round): v}
for line in open(sys.argv[1]):
    if line.startswith("tier,"):
        continue
    tier, test, data, jobs, dev, rnd, metric, value = line.strip().split(",")
    rows[(tier, test, data, jobs, metric)][(dev, int(rnd))] = float(value)


def ratios(key, dev, peer):
    d = rows.get(key, {})
    out = []
    for (dv, r), v in d.items():
        if dv == dev and (peer, r) in d and d[(peer, r)] > 0:
            out.append(v / d[(peer, r)])
    return sorted(out)


def fmt(rs):
    if not rs:
        return "n/a"
    return "%.2fx [%.2f..%.2f] n=%d" % (statistics.median(rs), rs[0], rs[-1], len(rs))


def line(label, key, dev, peer, target=None, higher=True):
    rs = ratios(key, dev, peer)
    verdict = ""
    if rs and target is not None:
        m = statistics.median(rs)
        ok = m >= target if higher else m <= target
        verdict = "  target %s%.2f: %s" % (">=" if higher else "<=", target,
                                         "met" if ok else "MISSED")
    print("  %-52s %s%s" % (label, fmt(rs), verdict))


def absval(key, dev):
    vs = [v for (dv, r), v in rows.get(key, {}).items() if dv == dev]
    return statistics.median(vs) if vs else None


print("dm-ilio latency/IOPS, same-boot interleaved ratios (median [min..max] over rounds)")
print()
print("RAM tier, 4 KiB, vs zram (lz4) and dm-linear over brd")
for peer in ("zram", "dmlin"):
    line("QD1 write, mean total latency, ilio/%s" % peer,
         ("ram", "w_qd1", "comp50", "1", "write_lat_mean_us"), "ilio", peer,
         1.3 if peer == "zram" else None, higher=False)
    line("QD1 write, p99 total latency, ilio/%s" % peer,
         ("ram", "w_qd1", "comp50", "1", "write_lat_p99_us"), "ilio", peer,
         None, higher=False)
    line("QD1 read, mean total latency, ilio/%s" % peer,
         ("ram", "r_qd1", "comp50", "1", "read_lat_mean_us"), "ilio", peer,
         None, higher=False)
for data in ("unique", "comp50", "dup30"):
    for jobs in ("1", "2"):
        line("QD16 write IOPS, %s, %s job(s), ilio/zram" % (data, jobs),
             ("ram", "w_qd16", data, jobs, "write_iops"), "ilio", "zram", 1.0)
line("QD16 read IOPS, 2 jobs, ilio/zram",
     ("ram", "r_qd16", "comp50", "2", "read_iops"), "ilio", "zram", 1.0)
for dev in ("ilio", "zram"):
    one = absval(("ram", "w_qd16", "unique", "1", "write_iops"), dev)
    two = absval(("ram", "w_qd16", "unique", "2", "write_iops"), dev)
    if one and two:
        print("  %-52s %.2fx" % ("scaling 1 -> 2 jobs, unique writes, %s" % dev, two / one))
iw = absval(("ram", "info", "-", "-", "inline_writes"), "ilio")
fw = absval(("ram", "info", "-", "-", "front_write_ios"), "ilio")
if iw is not None and fw:
    print("  %-52s %d of %d (%.1f%%)" % ("ilio write bios served inline", iw, fw, 100 * iw / fw))

print()
print("Persistent tier over dm-delay, vs dm-writecache (ssd mode, brd cache)")
print("(ilioraw: ilio with dedup off and compress none, the cost of the CPU work)")
for dev in ("ilio", "ilioraw"):
    line("QD1 8 KiB write, mean total latency, %s/writecache" % dev,
         ("pers", "w8k_qd1", "comp50", "1", "write_lat_mean_us"), dev, "wc", 1.5, higher=False)
    line("80/20 mix, 2 jobs QD16, read IOPS, %s/writecache" % dev,
         ("pers", "mix8020", "comp50", "2", "read_iops"), dev, "wc", 1.0)
    line("80/20 mix, 2 jobs QD16, write IOPS, %s/writecache" % dev,
         ("pers", "mix8020", "comp50", "2", "write_iops"), dev, "wc", 1.0)
for n in ("1", "4", "16", "64"):
    key = ("pers", "fsync" + n, "comp50", "1")
    # The runtime is fixed: time per write is runtime / writes, so the
    # ratio is the inverse of the write counts' ratio.
    for dev in ("ilio", "ilioraw"):
        rs = [1 / x for x in ratios(key + ("write_ios",), dev, "wc") if x > 0]
        print("  %-52s %s" % ("fsync every %s: time per write, %s/writecache" % (n, dev),
                              fmt(sorted(rs))))
    for dev in ("ilio", "ilioraw", "wc"):
        w = absval(key + ("write_ios",), dev)
        lw = absval(key + ("lun_writes",), dev)
        lk = absval(key + ("lun_write_kib",), dev)
        sl = absval(key + ("sync_lat_mean_us",), dev)
        tail = ", fsync %.0f us" % sl if sl else ""
        if w and lw:
            print("  %-52s front/LUN writes %.1fx, LUN write avg %.0f KiB%s" %
                  ("fsync every %s, %s" % (n, dev), w / lw, lk / lw, tail))
        elif w:
            print("  %-52s no LUN writes during the run%s" % ("fsync every %s, %s" % (n, dev), tail))
jr = absval(("pers", "jraw_fua", "comp50", "1", "write_lat_mean_us"), "jdev")
if jr:
    print("  %-52s %.0f us" % ("raw O_SYNC 4 KiB write on a journal-like disk", jr))
    for dev in ("ilio", "ilioraw"):
        sl = absval(("pers", "fsync1", "comp50", "1", "sync_lat_mean_us"), dev)
        if sl:
            print("  %-52s %.2fx  target <=1.50" %
                  ("fsync every 1: %s fsync latency / raw FUA write" % dev, sl / jr))
