#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""blkpat.py - make block images whose every 4 KiB block says what it is, and
classify what a device returns against them.

Used by the persistent-mode VM tests (t-21, t-22, t-23, t-30) to check "every
block holds a value that was written there, never anything else".

  blkpat.py gen OUT NBLOCKS --seed S --tag T [--dup PCT] [--comp PCT] [--zero PCT]
      Write NBLOCKS blocks to OUT.  A block is zero (--zero percent), a copy
      of one of 64 pool blocks shared by many LBAs (--dup percent: dedup
      fodder), or unique: a header naming the tag, the seed and the block
      index, then pseudo-random bytes (--comp percent of the unique blocks
      are half zeros: lz4 fodder).  Same arguments, same bytes.

  blkpat.py check DEV --off BYTES --blocks N --expect FILE [--also FILE]...
                  [--opattern] [--allow CLASSES] [--quiet]
      Read N blocks of DEV from byte offset BYTES (O_DIRECT) and put each in
      a class:
        L  equals block i of --expect (the latest content written there)
        O  equals block i of one of the --also files (an older content), or
           with --opattern, fio's verify_pattern=%o for its device offset
        Z  all zeros
        E  the read failed (EIO)
        F  foreign: none of the above - content never written there
      Prints "blkpat: L=.. O=.. Z=.. E=.. F=.." and the first blocks outside
      --allow (default "L").  Exit 0 if every block is in an allowed class,
      1 if not, 2 on trouble.  F is never allowed.

  blkpat.py gens < LINES
      Several gen runs in one process: each line of stdin holds the
      arguments of one "gen" (OUT NBLOCKS --seed S --tag T ...).

  blkpat.py multi DEV SPECFILE
      The same for several regions in one run (python starts slowly under
      TCG).  Each SPECFILE line: NAME OFF BLOCKS ALLOW EXPECT [ALSO...]
      (ALSO may be "opattern").  Prints per region one line
      "region NAME: ok|FAIL: L=.. O=.. Z=.. E=.. F=.. (allowed: ..)" and the
      first bad blocks after a FAIL.  Exit 0 if every region is ok.
"""
import argparse
import shlex
import mmap
import os
import random
import struct
import sys

BS = 4096


def gen_block(seed, tag, i, rng, args):
    r = rng.random() * 100
    if r < args.zero:
        return bytes(BS)
    if r < args.zero + args.dup:
        k = rng.randrange(64)
        prng = random.Random(f"pool-{seed}-{k}")
        hdr = f"ILIOPOOL {tag} seed={seed} pool={k} ".encode()
        return (hdr + prng.randbytes(BS))[:BS]
    hdr = f"ILIOBLK {tag} seed={seed} blk={i} ".encode()
    prng = random.Random(f"{seed}-{tag}-{i}")
    if rng.random() * 100 < args.comp:
        body = prng.randbytes(BS // 2) + bytes(BS)
    else:
        body = prng.randbytes(BS)
    return (hdr + body)[:BS]


def cmd_gen(args):
    rng = random.Random(f"layout-{args.seed}-{args.tag}")
    with open(args.out, "wb") as f:
        for i in range(args.nblocks):
            f.write(gen_block(args.seed, args.tag, i, rng, args))
    return 0


def read_blocks(fd, off, n):
    """Yield (index, bytes or None on EIO) for n blocks from byte offset off."""
    step = 256  # blocks per read (1 MiB)
    buf = mmap.mmap(-1, step * BS)
    one = mmap.mmap(-1, BS)
    i = 0
    while i < n:
        cnt = min(step, n - i)
        try:
            os.lseek(fd, off + i * BS, os.SEEK_SET)
            view = memoryview(buf)[: cnt * BS]
            got = os.readv(fd, [view])
            if got != cnt * BS:
                raise OSError(5, "short read")
            for j in range(cnt):
                yield i + j, bytes(buf[j * BS:(j + 1) * BS])
        except OSError:
            # Find which blocks fail, one by one.
            for j in range(cnt):
                try:
                    os.lseek(fd, off + (i + j) * BS, os.SEEK_SET)
                    if os.readv(fd, [one]) != BS:
                        raise OSError(5, "short read")
                    yield i + j, bytes(one[:])
                except OSError:
                    yield i + j, None
        i += cnt


def classify(fd, off, blocks, expect, also, opattern, allow):
    """Return (counts, list of descriptions of bad blocks)."""
    files = [open(expect, "rb")] + [open(p, "rb") for p in also]
    zero = bytes(BS)
    counts = dict.fromkeys("LOZEF", 0)
    bad = []
    for i, data in read_blocks(fd, off, blocks):
        cands = []
        for f in files:
            f.seek(i * BS)
            cands.append(f.read(BS))
        if data is None:
            c = "E"
        elif data == cands[0]:
            c = "L"
        elif any(data == x for x in cands[1:]):
            c = "O"
        elif opattern and data == struct.pack("<Q", off + i * BS) * (BS // 8):
            c = "O"
        elif data == zero:
            c = "Z"
        else:
            c = "F"
        counts[c] += 1
        if (c not in allow or c == "F") and len(bad) < 10:
            what = "EIO" if data is None else repr(data[:48])
            bad.append(f"  block {i} (byte {off + i * BS}): {c}: {what}")
    for f in files:
        f.close()
    return counts, bad


def cmd_multi(args):
    try:
        fd = os.open(args.dev, os.O_RDONLY | os.O_DIRECT)
        lines = [ln.split() for ln in open(args.spec) if ln.strip()]
    except OSError as e:
        print(f"blkpat: {e}", file=sys.stderr)
        return 2
    rc = 0
    for w in lines:
        name, off, blocks, allow, expect, also = w[0], int(w[1]), int(w[2]), w[3], w[4], w[5:]
        opat = "opattern" in also
        also = [a for a in also if a != "opattern"]
        counts, bad = classify(fd, off, blocks, expect, also, opat, allow)
        line = " ".join(f"{k}={v}" for k, v in counts.items())
        print(f"region {name}: {'FAIL' if bad else 'ok'}: {line} (allowed: {allow})")
        for b in bad:
            print(b)
        rc |= 1 if bad else 0
    os.close(fd)
    return rc


def cmd_check(args):
    try:
        fd = os.open(args.dev, os.O_RDONLY | os.O_DIRECT)
        counts, bad = classify(fd, args.off, args.blocks, args.expect, args.also,
                               args.opattern, args.allow)
    except OSError as e:
        print(f"blkpat: {e}", file=sys.stderr)
        return 2
    os.close(fd)
    line = " ".join(f"{k}={v}" for k, v in counts.items())
    if not args.quiet or bad:
        print(f"blkpat: {args.dev} off={args.off} blocks={args.blocks}: {line}"
              f" (allowed: {args.allow})")
    for b in bad:
        print(b)
    return 1 if bad else 0


def parser():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("out")
    g.add_argument("nblocks", type=int)
    g.add_argument("--seed", type=int, required=True)
    g.add_argument("--tag", required=True)
    g.add_argument("--dup", type=float, default=0)
    g.add_argument("--comp", type=float, default=0)
    g.add_argument("--zero", type=float, default=0)
    c = sub.add_parser("check")
    c.add_argument("dev")
    c.add_argument("--off", type=int, required=True)
    c.add_argument("--blocks", type=int, required=True)
    c.add_argument("--expect", required=True)
    c.add_argument("--also", action="append", default=[])
    c.add_argument("--opattern", action="store_true")
    c.add_argument("--allow", default="L")
    c.add_argument("--quiet", action="store_true")
    m = sub.add_parser("multi")
    m.add_argument("dev")
    m.add_argument("spec")
    sub.add_parser("gens")
    return p


def cmd_gens(p):
    for line in sys.stdin:
        if line.strip():
            cmd_gen(p.parse_args(["gen"] + shlex.split(line)))
    return 0


def main():
    p = parser()
    args = p.parse_args()
    if args.cmd == "gen":
        return cmd_gen(args)
    if args.cmd == "gens":
        return cmd_gens(p)
    if args.cmd == "multi":
        return cmd_multi(args)
    if args.off % BS:
        print("blkpat: --off must be a multiple of 4096", file=sys.stderr)
        return 2
    return cmd_check(args)


if __name__ == "__main__":
    sys.exit(main())
