/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-ilio on-media format.
 *
 * This header includes only <linux/types.h>: it is shared by the kernel
 * module, the userspace tests, the fuzzer and tools/ilioctl.  Every
 * structure here is little-endian and packed, and its size is asserted.
 *
 * DOC: segment layout
 *
 * Data lives in fixed-size segments (1 MiB by default).  In RAM (diskless
 * mode) a segment is a sequence of records, each an 8-byte
 * &struct ilio_chunk_hdr followed by the chunk payload, padded to
 * ILIO_CHUNK_ALIGN bytes.  On disk (persistent mode) a segment holds log
 * units (below); each data unit carries a run of the same records.
 *
 * A chunk is live in a segment when the chunk table says that chunk @cid
 * is at exactly this segment and offset; every other record is garbage
 * left behind by an overwrite, a discard or a move.
 *
 * DOC: persistent layout
 *
 * The backing device is cut in 4 KiB blocks::
 *
 *   block 0, 1      superblock, two identical copies (format; rewritten,
 *                   copy 0 first, when the backing device grows)
 *   block 2, 3      anchor slots 0 and 1 (alternating; the valid one with
 *                   the highest sequence number wins)
 *   block 4         multihost record (below: who holds the store)
 *   block 5 .. 7    reserved (not written yet)
 *   block 8 ...     two class map slots (below), up to the first
 *                   segment (segment-aligned)
 *   seg_start ...   nr_segs segments of seg_bytes each
 *
 * The log is a chain of units written into segments.  A unit is a 4 KiB
 * &struct ilio_unit_hdr block followed by its body; its crc32c covers the
 * whole unit, so a torn unit is detected as a whole.  Unit n+1 follows
 * unit n either directly after it in the same segment or at offset 0 of
 * the segment that unit n names in @next_seg.  A unit belongs to the chain
 * only if its @epoch is the chain's and its @seq is exactly one more than
 * its predecessor's: stale units from earlier lives of a segment, or from
 * a chain abandoned by a crash, never match.
 *
 * Data units (ILIO_UNIT_DATA): records, then @nr_ents 16-byte summary
 * entries (&struct ilio_sum_ent) that say how the maps changed, in order.
 * Checkpoint units (ILIO_UNIT_CKPT): the header lists @nr_ents leaf
 * descriptors (&struct ilio_ckpt_desc); the body holds the leaves, each an
 * absolute snapshot of one LBA-map leaf (1024 x __le32 chunk id) or one
 * chunk-table leaf (512 x &struct ilio_ckpt_chunk).
 *
 * An anchor names where a checkpoint starts in the log.  Recovery loads
 * nothing and replays the chain from the anchor's position: checkpoint
 * leaves overwrite what replay built so far, later summaries apply on top,
 * so a checkpoint may be written while writes go on (see
 * Documentation/ilio-design.rst for the argument).
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
 * DOC: location encoding
 *
 * A location names one record: the segment it is in, its byte offset
 * there, its payload length and whether the payload is lz4.  It packs into
 * 64 bits, most significant first::
 *
 *   63        36 35          14 13         1   0
 *   +-----------+--------------+------------+---+
 *   |  segment  |  offset / 8  |   length   |lz4|
 *   |  28 bits  |   22 bits    |  13 bits   | 1 |
 *   +-----------+--------------+------------+---+
 *
 * The offset is the record's (its &struct ilio_chunk_hdr's), a multiple of
 * ILIO_CHUNK_ALIGN, so segments up to ILIO_SEG_BYTES_MAX are addressable;
 * the length is the payload's, 1..ILIO_BLOCK_SIZE.  Location 0 is
 * "nowhere": segment 0, offset 0, length 0 never holds a chunk, because a
 * record's length is at least 1.
 *
 * This layout is part of the on-disk format: checkpoint chunk leaves store
 * the in-core value as it is (&struct ilio_ckpt_chunk @loc, little-endian),
 * including the ILIO_LOC_RAW_DAMAGED sentinel.  Summary entries carry no
 * location: replay rebuilds it from the unit's segment, the record offset
 * in the ILIO_SUM_CHUNK entry and the record's header.
 *
 * The helpers here work on the raw u64, for the codec (ilio-meta.c) and
 * tools/.  The core holds locations as ilio_loc_t and uses the typed
 * twins in ilio-types.h, ilio_loc_make() and friends, so that sparse
 * tells a location from an LBA or a chunk id.
 */
#define ILIO_LOC_SEG_SHIFT	36
#define ILIO_LOC_OFF_SHIFT	14
#define ILIO_LOC_LEN_SHIFT	1
#define ILIO_LOC_SEG_BITS	28
#define ILIO_LOC_OFF_BITS	22
#define ILIO_LOC_LEN_BITS	13
#define ILIO_LOC_LZ4		1ULL
/** ILIO_SEG_MAX - the highest segment number a location can hold. */
#define ILIO_SEG_MAX		((1U << ILIO_LOC_SEG_BITS) - 1)
/** ILIO_SEG_BYTES_MAX - the largest segment a location can address. */
#define ILIO_SEG_BYTES_MAX	((1U << ILIO_LOC_OFF_BITS) * 8U)

/*
 * ILIO_LOC_RAW_DAMAGED: the location of a live chunk whose record was found
 * damaged on the device (persistent mode; see __ilio_gc_move()).  It names
 * no segment (ILIO_SEG_MAX is never a segment number) and no length, so
 * nothing can read it: the chunk's LBAs read as EIO until rewritten.
 * Checkpoints carry it like any location.
 */
#define ILIO_LOC_RAW_DAMAGED	((u64)ILIO_SEG_MAX << ILIO_LOC_SEG_SHIFT)

/**
 * ilio_loc_raw_make() - pack a location
 * @seg: segment number, at most ILIO_SEG_MAX
 * @off: byte offset of the record, a multiple of ILIO_CHUNK_ALIGN below
 *	ILIO_SEG_BYTES_MAX
 * @len: payload length, below 1 << ILIO_LOC_LEN_BITS
 * @lz4: the payload is an lz4 block
 *
 * Return: the packed location.
 */
static inline u64 ilio_loc_raw_make(u32 seg, u32 off, u32 len, bool lz4)
{
	return ((u64)seg << ILIO_LOC_SEG_SHIFT) |
	       ((u64)(off >> 3) << ILIO_LOC_OFF_SHIFT) |
	       ((u64)len << ILIO_LOC_LEN_SHIFT) | (lz4 ? ILIO_LOC_LZ4 : 0);
}

/* ilio_loc_raw_seg() - the segment number of location @loc */
static inline u32 ilio_loc_raw_seg(u64 loc)
{
	return loc >> ILIO_LOC_SEG_SHIFT;
}

/* ilio_loc_raw_off() - the byte offset of the record at location @loc */
static inline u32 ilio_loc_raw_off(u64 loc)
{
	return ((loc >> ILIO_LOC_OFF_SHIFT) &
		((1U << ILIO_LOC_OFF_BITS) - 1)) << 3;
}

/* ilio_loc_raw_len() - the payload length of the record at location @loc */
static inline u32 ilio_loc_raw_len(u64 loc)
{
	return (loc >> ILIO_LOC_LEN_SHIFT) & ((1U << ILIO_LOC_LEN_BITS) - 1);
}

/* ilio_loc_raw_lz4() - is the payload at location @loc an lz4 block? */
static inline bool ilio_loc_raw_lz4(u64 loc)
{
	return loc & ILIO_LOC_LZ4;
}

/* ilio_loc_raw_damaged() - is @loc the ILIO_LOC_RAW_DAMAGED sentinel? */
static inline bool ilio_loc_raw_damaged(u64 loc)
{
	return loc == ILIO_LOC_RAW_DAMAGED;
}

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

/**
 * ilio_rec_bytes() - bytes a record takes in a segment
 * @len: its payload length
 *
 * Return: the header plus the payload, padded to ILIO_CHUNK_ALIGN.
 */
static inline u32 ilio_rec_bytes(u32 len)
{
	return sizeof(struct ilio_chunk_hdr) +
	       ((len + ILIO_CHUNK_ALIGN - 1) & ~(ILIO_CHUNK_ALIGN - 1));
}

/* Magic numbers: "ILSB", "ILAN", "ILUN" read as little-endian u32. */
#define ILIO_SB_MAGIC		0x42534c49U
#define ILIO_ANCHOR_MAGIC	0x4e414c49U
#define ILIO_UNIT_MAGIC		0x4e554c49U

#define ILIO_FORMAT_VERSION	1

/* Fixed block numbers of the metadata at the start of the device. */
#define ILIO_SB_BLOCK		0	/* copies at 0 and 1 */
#define ILIO_ANCHOR_BLOCK	2	/* slots at 2 and 3 */
#define ILIO_META_BLOCKS	4
/*
 * Block 4 holds the multihost record (ILIO_MMP_BLOCK); blocks 5 .. 7 are
 * reserved; the class map slots start at block 8.
 */
#define ILIO_RESERVED_BLOCK	4
#define ILIO_MMP_BLOCK		4
#define ILIO_CMAP_BLOCK		8

/* Segment sizes that format accepts: 64 KiB .. 32 MiB, powers of two. */
#define ILIO_SEG_BYTES_MIN	0x10000U
#define ILIO_FMT_SEG_BYTES_MAX	0x2000000U
#define ILIO_MIN_SEGS		8

/* Feature masks.  A reader refuses unknown incompat bits. */
#define ILIO_FEAT_COMPAT_SUPP	0ULL
/*
 * The store is guarded by the multihost record (block ILIO_MMP_BLOCK,
 * "multihost record" below): an activation for writing claims it and
 * beats.  Chosen at format (ilioctl format --multihost) and switched by
 * "ilioctl multihost".  Read-only compatible: a module that does not know
 * the guard would write without beating, so it may open the store only
 * read-only.
 */
#define ILIO_FEAT_RO_COMPAT_MULTIHOST 0x1ULL
#define ILIO_FEAT_RO_COMPAT_SUPP ILIO_FEAT_RO_COMPAT_MULTIHOST
#define ILIO_FEAT_INCOMPAT_LZ4	0x1ULL	/* records may be lz4 blocks */
/* Content hashes are xxh64 seeded with the superblock's @hash_seed. */
#define ILIO_FEAT_INCOMPAT_KEYED_HASH 0x2ULL
/*
 * A journal device is bound to the store (@journal_gen of the superblock):
 * flushed writes may live only there until the log on this device covers
 * them, so a module that does not know journals must not open the store.
 */
#define ILIO_FEAT_INCOMPAT_JOURNAL 0x4ULL
#define ILIO_FEAT_INCOMPAT_SUPP	(ILIO_FEAT_INCOMPAT_LZ4 | \
				 ILIO_FEAT_INCOMPAT_KEYED_HASH | \
				 ILIO_FEAT_INCOMPAT_JOURNAL)

/**
 * struct ilio_sb - superblock (blocks 0 and 1, written by format and by an
 *	online grow of the backing device)
 * @magic: ILIO_SB_MAGIC
 * @csum: crc32c of the 4 KiB block with @csum zero
 * @blocknr: the block this copy lives in (0 or 1)
 * @version: ILIO_FORMAT_VERSION
 * @flags: none defined, must be 0
 * @seq: generation: 1 for a fresh format, one more at each online grow of
 *	the backing device
 * @uuid: random, identifies the store; anchors carry it too
 * @compat: compatible features
 * @ro_compat: features that a reader may ignore only when read-only
 * @incompat: features that a reader must know
 * @dev_blocks: device size in 4 KiB blocks at format time
 * @seg_bytes: segment size in bytes (power of two)
 * @nr_segs: number of segments
 * @seg_start: block of the first segment
 * @hash_seed: with ILIO_FEAT_INCOMPAT_KEYED_HASH, the xxh64 seed of every
 *	content hash in the store (random at format, secret: never printed);
 *	without it 0, and the hashes are unkeyed (seed 0)
 * @journal_gen: with ILIO_FEAT_INCOMPAT_JOURNAL, the binding generation
 *	of the journal device that belongs to the store (its
 *	&struct ilio_jsb @bind_gen must be equal); without it 0
 */
struct ilio_sb {
	__le32 magic;
	__le32 csum;
	__le64 blocknr;
	__le32 version;
	__le32 flags;
	__le64 seq;
	__u8 uuid[16];
	__le64 compat;
	__le64 ro_compat;
	__le64 incompat;
	__le64 dev_blocks;
	__le32 seg_bytes;
	__le32 nr_segs;
	__le64 seg_start;
	__le64 hash_seed;
	__le64 journal_gen;
} __packed;

_Static_assert(sizeof(struct ilio_sb) == 112, "superblock size");

/**
 * struct ilio_anchor - where the newest checkpoint starts (blocks 2, 3)
 * @magic: ILIO_ANCHOR_MAGIC
 * @csum: crc32c of the 4 KiB block with @csum zero
 * @blocknr: the block this slot lives in (2 or 3)
 * @version: ILIO_FORMAT_VERSION
 * @flags: none defined, must be 0
 * @seq: anchor generation; the valid slot with the higher one wins
 * @uuid: the superblock's
 * @epoch: epoch of the chain that starts here (random per activation)
 * @log_seq: sequence number of the chain's first unit
 * @log_seg: segment of the chain's first unit
 * @log_off: byte offset of the chain's first unit (4 KiB aligned)
 * @nr_blocks: logical size in 4 KiB blocks; 0 until first activation
 * @ckpt_end: sequence number of the checkpoint's last unit; recovery
 *	refuses this anchor if the log ends before it (0: no checkpoint, a
 *	freshly formatted store)
 */
struct ilio_anchor {
	__le32 magic;
	__le32 csum;
	__le64 blocknr;
	__le32 version;
	__le32 flags;
	__le64 seq;
	__u8 uuid[16];
	__le64 epoch;
	__le64 log_seq;
	__le32 log_seg;
	__le32 log_off;
	__le64 nr_blocks;
	__le64 ckpt_end;
} __packed;

_Static_assert(sizeof(struct ilio_anchor) == 88, "anchor size");

/* Unit types. */
#define ILIO_UNIT_DATA		1
#define ILIO_UNIT_CKPT		2

/**
 * struct ilio_unit_hdr - first block of a log unit
 * @magic: ILIO_UNIT_MAGIC
 * @csum: crc32c of the whole unit (@len bytes) with @csum zero
 * @blocknr: absolute 4 KiB block number of this header on the device
 * @type: ILIO_UNIT_DATA or ILIO_UNIT_CKPT
 * @flags: none defined, must be 0
 * @epoch: the chain's epoch
 * @seq: position in the chain
 * @len: unit length in bytes, header block included, 4 KiB multiple
 * @next_seg: the segment the chain continues in once this one is full
 * @rec_bytes: DATA: bytes of records right after the header block
 * @nr_ents: DATA: summary entries after the records (8-byte aligned);
 *	CKPT: leaf descriptors right after this header, in the same block
 */
struct ilio_unit_hdr {
	__le32 magic;
	__le32 csum;
	__le64 blocknr;
	__le16 type;
	__le16 flags;
	__le32 pad;
	__le64 epoch;
	__le64 seq;
	__le32 len;
	__le32 next_seg;
	__le32 rec_bytes;
	__le32 nr_ents;
} __packed;

_Static_assert(sizeof(struct ilio_unit_hdr) == 56, "unit header size");

/* Summary entry kinds, in the top 4 bits of @key. */
#define ILIO_SUM_MAP		1ULL	/* key: lba; val: chunk id (0: unmap) */
#define ILIO_SUM_UNMAP		2ULL	/* key: first lba; val: block count */
#define ILIO_SUM_CHUNK		3ULL	/* key: record offset; val: hash */
#define ILIO_SUM_KIND_SHIFT	60
#define ILIO_SUM_ARG_MASK	((1ULL << ILIO_SUM_KIND_SHIFT) - 1)

/**
 * struct ilio_sum_ent - one map change carried by a data unit
 * @key: kind << ILIO_SUM_KIND_SHIFT | argument
 * @val: second argument
 *
 * ILIO_SUM_CHUNK: the record at byte offset @key (in this segment, inside
 * this unit's records) now holds the chunk its header names; @val is the
 * content hash.  ILIO_SUM_MAP: LBA @key now maps to chunk @val.
 * ILIO_SUM_UNMAP: @val LBAs from @key are unmapped.
 */
struct ilio_sum_ent {
	__le64 key;
	__le64 val;
} __packed;

_Static_assert(sizeof(struct ilio_sum_ent) == 16, "summary entry size");

/* Checkpoint leaf kinds. */
#define ILIO_CKPT_LBAMAP	1	/* 1024 x __le32 chunk ids, 4 KiB */
#define ILIO_CKPT_CHUNKS	2	/* 512 x struct ilio_ckpt_chunk, 8 KiB */

/**
 * struct ilio_ckpt_desc - one leaf in a checkpoint unit
 * @kind: ILIO_CKPT_LBAMAP or ILIO_CKPT_CHUNKS
 * @index: leaf number
 */
struct ilio_ckpt_desc {
	__le32 kind;
	__le32 index;
} __packed;

_Static_assert(sizeof(struct ilio_ckpt_desc) == 8, "checkpoint descriptor");

/**
 * struct ilio_ckpt_chunk - one chunk-table entry in a checkpoint leaf
 * @loc: packed location (see "location encoding" above), 0 when the id
 *	is free
 * @hash: content hash
 */
struct ilio_ckpt_chunk {
	__le64 loc;
	__le64 hash;
} __packed;

_Static_assert(sizeof(struct ilio_ckpt_chunk) == 16, "checkpoint chunk");

/* Entries of a checkpoint leaf of each kind, and its bytes. */
#define ILIO_CKPT_MAP_ENTRIES	1024U
#define ILIO_CKPT_MAP_BYTES	(ILIO_CKPT_MAP_ENTRIES * sizeof(__le32))
#define ILIO_CKPT_CHUNK_ENTRIES	512U
#define ILIO_CKPT_CHUNK_BYTES	(ILIO_CKPT_CHUNK_ENTRIES * \
				 sizeof(struct ilio_ckpt_chunk))

_Static_assert(ILIO_CKPT_MAP_BYTES == 4096, "LBA-map leaf size");
_Static_assert(ILIO_CKPT_CHUNK_BYTES == 8192, "chunk leaf size");

#define ILIO_CKPT_MAX_DESC \
	((ILIO_BLOCK_SIZE - sizeof(struct ilio_unit_hdr)) / \
	 sizeof(struct ilio_ckpt_desc))

/**
 * DOC: journal layout
 *
 * An optional journal device (table feature "journal", ilioctl format
 * --journal) takes the flushes: on REQ_PREFLUSH/FUA the closed log units
 * that the backing device does not durably hold yet are appended to the
 * journal as one record, written with FUA, and the flush completes.  The
 * units still go to the backing device whole, in the background.  The
 * journal device is cut in 4 KiB blocks::
 *
 *   block 0, 1      journal superblock slots (&struct ilio_jsb; the valid
 *                   one with the higher @seq wins)
 *   block 2 ...     the ring: @ring_blocks blocks of records
 *
 * A record is a 4 KiB &struct ilio_jrec header block followed by the
 * exact image of @nr_ext byte ranges of the backing device (each a run
 * of whole log units, as they are or will be written there); its crc32c
 * covers header and data.  Records follow each other in the ring with
 * consecutive @seq; one that does not fit before the ring's end starts
 * at ring block 0.  Recovery walks them from the superblock's @tail_pos
 * (with @tail_seq), and uses a unit from the journal only where the log
 * on the backing device lacks the unit that its chain expects next (same
 * epoch, sequence number and location): a stale record can never match.
 */
#define ILIO_JSB_MAGIC		0x534a4c49U	/* "ILJS" */
#define ILIO_JREC_MAGIC		0x524a4c49U	/* "ILJR" */

#define ILIO_JSB_BLOCK		0	/* slots at 0 and 1 */
#define ILIO_JRING_START	2	/* first ring block */
/* A journal holds at least this many ring blocks (4 MiB). */
#define ILIO_JRING_MIN_BLOCKS	1024U

/**
 * struct ilio_jsb - journal superblock (journal blocks 0 and 1)
 * @magic: ILIO_JSB_MAGIC
 * @csum: crc32c of the 4 KiB block with @csum zero
 * @blocknr: the block this slot lives in (0 or 1)
 * @version: ILIO_FORMAT_VERSION
 * @flags: none defined, must be 0
 * @seq: generation of this slot's content; the higher valid one wins
 * @uuid: the uuid of the store the journal belongs to
 * @bind_gen: binding generation; equal to the store's @journal_gen
 * @ring_blocks: blocks in the ring (from block ILIO_JRING_START)
 * @tail_pos: ring block where the oldest record that may be needed starts
 * @tail_seq: its record sequence number
 */
struct ilio_jsb {
	__le32 magic;
	__le32 csum;
	__le64 blocknr;
	__le32 version;
	__le32 flags;
	__le64 seq;
	__u8 uuid[16];
	__le64 bind_gen;
	__le64 ring_blocks;
	__le64 tail_pos;
	__le64 tail_seq;
} __packed;

_Static_assert(sizeof(struct ilio_jsb) == 80, "journal superblock size");

/**
 * struct ilio_jext - one range of the backing device in a journal record
 * @pos: its byte position on the backing device (4 KiB aligned, inside
 *	one segment)
 * @len: its bytes (4 KiB multiple)
 * @pad: zero
 */
struct ilio_jext {
	__le64 pos;
	__le32 len;
	__le32 pad;
} __packed;

_Static_assert(sizeof(struct ilio_jext) == 16, "journal extent size");

/**
 * struct ilio_jrec - header block of a journal record
 * @magic: ILIO_JREC_MAGIC
 * @csum: crc32c of the whole record (@blocks blocks) with @csum zero
 * @blocknr: ring block of this header
 * @version: ILIO_FORMAT_VERSION
 * @nr_ext: number of &struct ilio_jext after this header
 * @seq: record sequence number (consecutive along the ring)
 * @uuid: the store's uuid
 * @bind_gen: the binding generation
 * @blocks: record length in blocks, header included
 * @last_useq: sequence number of the newest log unit in the record
 */
struct ilio_jrec {
	__le32 magic;
	__le32 csum;
	__le64 blocknr;
	__le32 version;
	__le32 nr_ext;
	__le64 seq;
	__u8 uuid[16];
	__le64 bind_gen;
	__le64 blocks;
	__le64 last_useq;
} __packed;

_Static_assert(sizeof(struct ilio_jrec) == 72, "journal record header size");

/* A record is at most its header and 4 MiB of units. */
#define ILIO_JREC_MAX_BLOCKS	1025U

/* Extents one record header block holds. */
#define ILIO_JREC_MAX_EXT \
	((ILIO_BLOCK_SIZE - sizeof(struct ilio_jrec)) / sizeof(struct ilio_jext))

/**
 * DOC: class map slots
 *
 * The region class map (the hints: which sector ranges hold system
 * binaries, pagefiles or temp files) lives in the blocks from
 * ILIO_CMAP_BLOCK to the first segment, which the log never uses.  They
 * are cut in two slots of ilio_cmap_slot_blocks() blocks each, slot 0
 * first.  A
 * slot is a &struct ilio_cmap_hdr followed by @nr &struct ilio_cmap_ent,
 * sorted by @start and not overlapping, all under one crc32c; the rest of
 * its last block is zero.  Each save writes the slot the older generation
 * is in and flushes, so a torn save leaves the other slot whole.  The
 * valid slot with the higher @seq wins; a slot that is not valid (or a
 * store formatted before class maps, whose padding blocks hold zeroes or
 * garbage) is no map.  No feature bit: a reader that does not know the
 * slots never reads them, and the map is advisory (it changes caching,
 * never data).
 */
#define ILIO_CMAP_MAGIC		0x4d434c49U	/* "ILCM" */
/* Class values on disk: enum ilio_class of ilio-class.h, never normal. */
#define ILIO_CMAP_CLS_MAX	3
#define ILIO_CMAP_LEN_BITS	56

/**
 * struct ilio_cmap_hdr - first bytes of a class map slot
 * @magic: ILIO_CMAP_MAGIC
 * @csum: crc32c of the header and its entries (64 + 16 x @nr bytes) with
 *	@csum zero
 * @blocknr: the first block of this slot
 * @version: ILIO_FORMAT_VERSION
 * @flags: none defined, must be 0
 * @seq: save generation; the valid slot with the higher one wins
 * @uuid: the superblock's
 * @nr: entries after the header
 * @pad: zero
 * @nr_sectors: logical size in 512-byte sectors when saved; no entry
 *	ends past it
 * @pad2: zero
 */
struct ilio_cmap_hdr {
	__le32 magic;
	__le32 csum;
	__le64 blocknr;
	__le32 version;
	__le32 flags;
	__le64 seq;
	__u8 uuid[16];
	__le32 nr;
	__le32 pad;
	__le64 nr_sectors;
} __packed;

_Static_assert(sizeof(struct ilio_cmap_hdr) == 64, "class map header size");

/**
 * struct ilio_cmap_ent - one range of a class
 * @start: first sector
 * @len_cls: bits 0..55 the length in sectors (at least 1), bits 56..63
 *	the class (1 pin, 2 nocache, 3 temp)
 */
struct ilio_cmap_ent {
	__le64 start;
	__le64 len_cls;
} __packed;

_Static_assert(sizeof(struct ilio_cmap_ent) == 16, "class map entry size");

/**
 * DOC: multihost record
 *
 * Block ILIO_MMP_BLOCK says which activation holds the store for
 * writing, as ZFS's multihost protection (MMP) does: a
 * &struct ilio_mmp_rec, rewritten (and flushed) by the holder every
 * @interval_ms with @seq one higher, and left in state ILIO_MMP_CLEAN
 * by a clean close.  Another host that finds it ACTIVE watches it for
 * 2 x @fence_ms + @interval_ms and activates only if it did not change
 * (the argument is in Documentation/ilio-design.rst).
 *
 * Only a store whose superblock has ILIO_FEAT_RO_COMPAT_MULTIHOST is
 * guarded: format --multihost writes a CLEAN record with the bit; without
 * it the block is zero and no activation reads or writes it.  In a
 * guarded store a block without the magic is no record (nobody holds the
 * store); a damaged one is watched like an ACTIVE record.
 */
#define ILIO_MMP_MAGIC		0x504d4c49U	/* "ILMP" */
#define ILIO_MMP_CLEAN		1	/* nobody holds the store */
#define ILIO_MMP_ACTIVE		2	/* @owner holds it, beats */
#define ILIO_MMP_NODE_LEN	64	/* @node, NUL-terminated */

/**
 * struct ilio_mmp_rec - the multihost record (block ILIO_MMP_BLOCK)
 * @magic: ILIO_MMP_MAGIC
 * @csum: crc32c of the 4 KiB block with @csum zero
 * @blocknr: ILIO_MMP_BLOCK
 * @version: ILIO_FORMAT_VERSION
 * @state: ILIO_MMP_CLEAN or ILIO_MMP_ACTIVE
 * @seq: one more at every write of the record (each beat)
 * @uuid: the superblock's
 * @owner: random id of the activation that wrote it (new at each
 *	activation; 0 in a CLEAN record written by format)
 * @time: wall-clock time of the write, seconds since the epoch (for the
 *	admin only: no decision compares two hosts' clocks)
 * @interval_ms: the writer's beat interval
 * @fence_ms: the writer stops writing when its newest completed beat
 *	is older than this (self-fencing)
 * @node: the writer's host name (utsname nodename), NUL-terminated
 */
struct ilio_mmp_rec {
	__le32 magic;
	__le32 csum;
	__le64 blocknr;
	__le32 version;
	__le32 state;
	__le64 seq;
	__u8 uuid[16];
	__le64 owner;
	__le64 time;
	__le32 interval_ms;
	__le32 fence_ms;
	char node[ILIO_MMP_NODE_LEN];
} __packed;

_Static_assert(sizeof(struct ilio_mmp_rec) == 136, "multihost record size");

#endif /* ILIO_FORMAT_H */
