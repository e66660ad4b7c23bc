#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench-ab-summary: B/A and each/zram ratios per round from ab.csv
(bench-ab-guest.sh), as median [min..max]."""
import collections
import statistics
import sys

v = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    if line.startswith("test,"):
        continue
    test, dev, rnd, metric, value = line.strip().split(",")
    v[(test, metric)][(dev, int(rnd))] = float(value)


def ratio(key, a, b):
    d = v[key]
    rs = sorted(d[(a, r)] / d[(b, r)] for (dv, r) in d if dv == a and (b, r) in d and d[(b, r)])
    if not rs:
        return "n/a"
    return "%.2fx [%.2f..%.2f] n=%d" % (statistics.median(rs), rs[0], rs[-1], len(rs))


for key in sorted(v):
    print("%-10s %-18s B/A %-28s A/zram %-28s B/zram %s" %
          (key[0], key[1], ratio(key, "B", "A"), ratio(key, "A", "zram"), ratio(key, "B", "zram")))
