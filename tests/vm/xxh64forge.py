#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""xxh64forge.py - write 4 KiB blocks forged to share one xxh64 value.

The guest-side twin of tests/unit/xxh64-forge.h (trust #7 item 3): it
solves the last 32-byte stripe of each block so that its four xxh64 lanes
end where a reference block's do, for a given seed, so every block has the
reference's hash.

  xxh64forge.py MODE COUNT OUT [SEED]

MODE spread: block i is random from its first byte (seeded by i), then
forged; these collide at SEED and nowhere else.  MODE tail: one random
base, i in the stripe before the forged one; these collide at SEED and,
because the last two rounds are nearly linear in the seed, fall into a
handful of hash values under any other seed too.  SEED defaults to 0 (an
unkeyed store).  Prints the xxh64 at SEED of block 0 (hex) on stdout.
"""
import random
import struct
import sys

M = (1 << 64) - 1
P1 = 0x9E3779B185EBCA87
P2 = 0xC2B2AE3D27D4EB4F
IP1 = pow(P1, -1, 1 << 64)
IP2 = pow(P2, -1, 1 << 64)


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def lanes(block, stripes, seed):
    v = [(seed + P1 + P2) & M, (seed + P2) & M, seed & M, (seed - P1) & M]
    words = struct.unpack_from("<%dQ" % (4 * stripes), block)
    for s in range(stripes):
        for i in range(4):
            v[i] = (rotl((v[i] + words[4 * s + i] * P2) & M, 31) * P1) & M
    return v


def forge(block, seed, target):
    v = lanes(block, 127, seed)
    for i in range(4):
        want = rotl((target[i] * IP1) & M, 64 - 31)
        struct.pack_into("<Q", block, 4064 + 8 * i, ((want - v[i]) * IP2) & M)


def main():
    mode, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    seed = int(sys.argv[4], 0) if len(sys.argv) > 4 else 0
    rnd = random.Random(20261201)
    base = bytearray(rnd.randbytes(4096))
    target = lanes(base, 128, seed)
    with open(out, "wb") as f:
        for i in range(count):
            b = bytearray(random.Random(i).randbytes(4096)) if mode == "spread" else bytearray(base)
            struct.pack_into("<Q", b, 4032, i)
            forge(b, seed, target)
            f.write(b)


if __name__ == "__main__":
    main()
