/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-ilio on-media format.
 *
 * This header includes only <linux/types.h>: it is shared by the kernel
 * module, the userspace tests and tools/ilioctl.  Every structure here is
 * little-endian and packed, and its size is asserted.
 *
 * DOC: segment layout
 *
 * Data lives in fixed-size segments (1 MiB by default).  A segment is a
 * sequence of records, each an 8-byte &struct ilio_chunk_hdr followed by
 * the chunk payload, padded to ILIO_CHUNK_ALIGN bytes.  A record whose
 * header has cid == 0 ends the segment (the rest is unused).  The same
 * layout is used for RAM segments in diskless mode and for the data part
 * of on-disk segments in persistent mode, so the compactor and the
 * recovery scan walk segments with the same code.
 *
 * A chunk is live in a segment when the chunk table says that chunk @cid
 * is at exactly this segment and offset; every other record is garbage
 * left behind by an overwrite, a discard or a move.
 */
#ifndef ILIO_FORMAT_H
#define ILIO_FORMAT_H

#include <linux/types.h>

/** ILIO_BLOCK_SHIFT - log2 of the logical block (and chunk content) size. */
#define ILIO_BLOCK_SHIFT	12
#define ILIO_BLOCK_SIZE		4096U	/* 1 << ILIO_BLOCK_SHIFT */
#define ILIO_SECTORS_PER_BLOCK	(ILIO_BLOCK_SIZE >> 9)

/** ILIO_CHUNK_ALIGN - alignment of records inside a segment. */
#define ILIO_CHUNK_ALIGN	8

/* Chunk record flags. */
#define ILIO_CHUNK_LZ4		0x0001	/* payload is an lz4 block */

/**
 * struct ilio_chunk_hdr - header of one chunk record inside a segment
 * @cid: chunk id that owned this record when it was written (0: end)
 * @len: payload length in bytes (1..ILIO_BLOCK_SIZE)
 * @flags: ILIO_CHUNK_* flags
 */
struct ilio_chunk_hdr {
	__le32 cid;
	__le16 len;
	__le16 flags;
} __packed;

_Static_assert(sizeof(struct ilio_chunk_hdr) == 8, "chunk header size");

#endif /* ILIO_FORMAT_H */
