#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""dmmsg.py NAME COUNT MESSAGE...: send a target message COUNT times.

What "dmsetup message NAME 0 MESSAGE" does, COUNT times from one process:
the DM_TARGET_MSG ioctl on /dev/mapper/control (linux/dm-ioctl.h,
interface 4).  Prints each answer on a line of its own ("ERROR errno" for
a failed ioctl) and exits 0, or 2 on bad usage.  For the tests that send
a message in a loop on a busy guest: each dmsetup is an exec that costs
about 150 ms of CPU under TCG, more than the message itself.
"""

import errno
import fcntl
import os
import struct
import sys

DM_TARGET_MSG = 0xC138FD0E  # _IOWR(0xfd, 14, struct dm_ioctl): 312 bytes
HDR = struct.Struct("=3I I I I i I I I Q 128s 129s 7s")  # struct dm_ioctl
DM_DATA_OUT_FLAG = 1 << 16
DM_BUFFER_FULL_FLAG = 1 << 8
BUF = 16384


def message(fd, name, text):
    msg = struct.pack("=Q", 0) + text.encode() + b"\0"  # dm_target_msg
    buf = bytearray(BUF)
    HDR.pack_into(buf, 0, 4, 0, 0, BUF, HDR.size, 0, 0, 0, 0, 0, 0,
                  name.encode(), b"", b"")
    buf[HDR.size:HDR.size + len(msg)] = msg
    try:
        fcntl.ioctl(fd, DM_TARGET_MSG, buf, True)
    except OSError as e:
        return "ERROR %s" % errno.errorcode.get(e.errno, e.errno)
    f = HDR.unpack_from(buf, 0)
    flags, start = f[7], f[4]
    if flags & DM_BUFFER_FULL_FLAG:
        return "ERROR buffer full"
    if not flags & DM_DATA_OUT_FLAG:
        return ""
    out = bytes(buf[start:])
    return out[:out.index(b"\0")].decode(errors="replace").rstrip("\n")


def main():
    if len(sys.argv) < 4 or not sys.argv[2].isdigit():
        sys.stderr.write(__doc__)
        return 2
    name, count, text = sys.argv[1], int(sys.argv[2]), " ".join(sys.argv[3:])
    if len(name.encode()) >= 128:
        sys.stderr.write("dmmsg.py: device name too long\n")
        return 2
    fd = os.open("/dev/mapper/control", os.O_RDWR)
    for _ in range(count):
        print(message(fd, name, text), flush=True)
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
