#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""iliodisk.py - read an ilio backing image the way recovery would find it,
for tests that corrupt chosen metadata (t-22).  Follows
dm-ilio/ilio-format.h; checks magic, location, epoch and sequence numbers
but no checksums (the tests damage pristine images only).

  iliodisk.py info IMG [--phase-div N --phase-max M]
      Print shell assignments (for eval):
        SEG_BYTES SEG_START NR_SEGS           geometry (bytes, blocks, count)
        CUR_SLOT OLD_SLOT                     anchor slots, newest first
                                              (OLD_SLOT empty if invalid)
        CHAIN_UNITS                           units replayed from the newest anchor
        FIRST_BLK FIRST_TYPE                  the newest anchor's first unit
        DATA_BLK DATA_SUM DATA_PHASE DATA_SEG a data unit in the middle of that
                                              chain: header block, byte offset of
                                              its summary, lowest phase it maps,
                                              its segment ('' if there is none)
        SEG_PHASE                             lowest phase mapped by any chained
                                              unit in DATA_SEG (at or after DATA)
        SEG_HAS_FIRST                         1 if DATA_SEG holds FIRST_BLK
        STALE_BLK                             a data unit of the same epoch before
                                              the newest anchor ('' if none)
      A unit's phase is lba // N for the LBAs its summary maps, counting only
      phases 1..M (other LBAs are ignored).
  iliodisk.py chain IMG
      Print the replayed chain, one unit a line.
"""
import argparse
import struct
import sys

BS = 4096
SB_FMT = "<IIQIIQ16sQQQQIIQ"
AN_FMT = "<IIQIIQ16sQQIIQ"
UH_FMT = "<IIQHHIQQIIII"
SB_MAGIC, AN_MAGIC, UN_MAGIC = 0x42534C49, 0x4E414C49, 0x4E554C49
UNIT_DATA, UNIT_CKPT = 1, 2
SUM_MAP = 1


class Img:
    def __init__(self, path):
        self.f = open(path, "rb")
        sb = struct.unpack_from(SB_FMT, self.blk(0))
        if sb[0] != SB_MAGIC:
            sb = struct.unpack_from(SB_FMT, self.blk(1))
        if sb[0] != SB_MAGIC:
            sys.exit("iliodisk: no superblock")
        self.uuid = sb[6]
        self.seg_bytes, self.nr_segs, self.seg_start = sb[11], sb[12], sb[13]

    def read(self, off, n):
        self.f.seek(off)
        return self.f.read(n)

    def blk(self, b):
        return self.read(b * BS, BS)

    def seg_blk(self, seg, off=0):
        return self.seg_start + seg * (self.seg_bytes // BS) + off // BS

    def anchors(self):
        out = []
        for slot in (0, 1):
            a = struct.unpack_from(AN_FMT, self.blk(2 + slot))
            if a[0] == AN_MAGIC and a[2] == 2 + slot and a[6] == self.uuid:
                out.append(dict(slot=slot, seq=a[5], epoch=a[7], log_seq=a[8],
                                log_seg=a[9], log_off=a[10]))
        return sorted(out, key=lambda a: -a["seq"])

    def unit(self, seg, off, epoch, seq):
        if seg >= self.nr_segs or off >= self.seg_bytes:
            return None
        b = self.seg_blk(seg, off)
        h = struct.unpack_from(UH_FMT, self.blk(b))
        if h[0] != UN_MAGIC or h[2] != b or h[6] != epoch or h[7] != seq:
            return None
        return dict(blk=b, seg=seg, off=off, type=h[3], epoch=h[6], seq=h[7],
                    len=h[8], next_seg=h[9], rec=h[10], nents=h[11])

    def chain(self, a, limit=1 << 20):
        units = []
        seg, off, seq = a["log_seg"], a["log_off"], a["log_seq"]
        u = self.unit(seg, off, a["epoch"], seq)
        while u and len(units) < limit:
            units.append(u)
            seq += 1
            nxt = self.unit(u["seg"], u["off"] + u["len"], a["epoch"], seq)
            if not nxt:
                nxt = self.unit(u["next_seg"], 0, a["epoch"], seq)
            u = nxt
        return units

    def lbas(self, u):
        if u["type"] != UNIT_DATA:
            return []
        base = self.seg_blk(u["seg"], u["off"]) * BS + BS + u["rec"]
        raw = self.read(base, 16 * u["nents"])
        out = []
        for i in range(len(raw) // 16):
            key, _ = struct.unpack_from("<QQ", raw, 16 * i)
            if key >> 60 == SUM_MAP:
                out.append(key & ((1 << 60) - 1))
        return out

    def stale_units(self, epoch, below_seq):
        """Data units of @epoch with seq < below_seq anywhere in the segments."""
        out = []
        for seg in range(self.nr_segs):
            for off in range(0, self.seg_bytes, BS):
                b = self.seg_blk(seg, off)
                h = self.blk(b)
                if struct.unpack_from("<I", h)[0] != UN_MAGIC:
                    continue
                h = struct.unpack_from(UH_FMT, h)
                if h[2] == b and h[6] == epoch and h[7] < below_seq and h[3] == UNIT_DATA:
                    out.append(dict(blk=b, seg=seg, off=off, type=h[3], seq=h[7],
                                    len=h[8], rec=h[10], nents=h[11]))
        return sorted(out, key=lambda u: u["seq"])


def phase_of(img, u, div, pmax):
    ph = [lba // div for lba in img.lbas(u) if 1 <= lba // div <= pmax]
    return min(ph) if ph else None


def cmd_info(args):
    img = Img(args.img)
    an = img.anchors()
    v = dict(SEG_BYTES=img.seg_bytes, SEG_START=img.seg_start, NR_SEGS=img.nr_segs,
             CUR_SLOT="", OLD_SLOT="", CHAIN_UNITS=0, FIRST_BLK="", FIRST_TYPE="",
             DATA_BLK="", DATA_SUM="", DATA_PHASE="", DATA_SEG="", SEG_PHASE="",
             SEG_HAS_FIRST=0, STALE_BLK="")
    if an:
        cur = an[0]
        v["CUR_SLOT"] = cur["slot"]
        if len(an) > 1:
            v["OLD_SLOT"] = an[1]["slot"]
        ch = img.chain(cur)
        v["CHAIN_UNITS"] = len(ch)
        if ch:
            v["FIRST_BLK"], v["FIRST_TYPE"] = ch[0]["blk"], ch[0]["type"]
        data = [(i, u) for i, u in enumerate(ch)
                if u["type"] == UNIT_DATA and phase_of(img, u, args.phase_div, args.phase_max)]
        if data:
            i, u = data[len(data) // 2]
            v["DATA_BLK"] = u["blk"]
            v["DATA_SUM"] = img.seg_blk(u["seg"], u["off"]) * BS + BS + u["rec"]
            v["DATA_PHASE"] = phase_of(img, u, args.phase_div, args.phase_max)
            v["DATA_SEG"] = u["seg"]
            ph = [phase_of(img, w, args.phase_div, args.phase_max)
                  for w in ch[i:] if w["seg"] == u["seg"]]
            # Units of this segment that come before DATA in the chain are lost
            # too when the whole segment is garbage.
            ph += [phase_of(img, w, args.phase_div, args.phase_max)
                   for w in ch[:i] if w["seg"] == u["seg"]]
            ph = [p for p in ph if p]
            v["SEG_PHASE"] = min(ph)
            v["SEG_HAS_FIRST"] = int(ch[0]["seg"] == u["seg"])
        stale = [u for u in img.stale_units(cur["epoch"], cur["log_seq"])
                 if phase_of(img, u, args.phase_div, args.phase_max)]
        if stale:
            v["STALE_BLK"] = stale[0]["blk"]
    for k, val in v.items():
        print(f"{k}={val}")
    return 0


def cmd_chain(args):
    img = Img(args.img)
    for a in img.anchors():
        print(f"anchor slot {a['slot']}: seq {a['seq']} epoch {a['epoch']:#x} "
              f"log seq {a['log_seq']} at seg {a['log_seg']} off {a['log_off']}")
    an = img.anchors()
    if not an:
        return 1
    for u in img.chain(an[0]):
        lb = img.lbas(u)
        rng = f" lbas {min(lb)}..{max(lb)} ({len(lb)})" if lb else ""
        print(f"  seq {u['seq']} {'DATA' if u['type'] == UNIT_DATA else 'CKPT'} "
              f"seg {u['seg']} off {u['off']} len {u['len']} rec {u['rec']} "
              f"ents {u['nents']} next {u['next_seg']}{rng}")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("info")
    i.add_argument("img")
    i.add_argument("--phase-div", type=int, default=256)
    i.add_argument("--phase-max", type=int, default=8)
    c = sub.add_parser("chain")
    c.add_argument("img")
    args = p.parse_args()
    return cmd_info(args) if args.cmd == "info" else cmd_chain(args)


if __name__ == "__main__":
    sys.exit(main())
