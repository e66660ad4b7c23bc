/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-meta: the codec of every on-disk type, and its validators.
 *
 * Pure functions over buffers, shared by the module, tools/ilioctl (its
 * format command) and the userspace tests and fuzzer.  Every on-disk
 * structure of ilio-format.h (little-endian, packed) has an in-core twin
 * in CPU order, and a pack/unpack pair converts between the two; nothing
 * else in dm-ilio/ touches an __le field.  The pairs:
 *
 *   on disk                   in core                   codec
 *   struct ilio_sb            struct ilio_geom          ilio_sb_build/_unpack
 *   struct ilio_anchor        struct ilio_anchor_info   ilio_anchor_build/_unpack
 *   struct ilio_unit_hdr      struct ilio_unit_info     ilio_unit_hdr_pack/_unpack
 *   struct ilio_chunk_hdr     struct ilio_rec_info      ilio_rec_pack/_unpack
 *   struct ilio_sum_ent       struct ilio_sum_info      ilio_sum_pack/_unpack
 *   struct ilio_ckpt_desc     struct ilio_desc_info     ilio_ckpt_desc_pack/_unpack
 *   LBA-map leaf (__le32[])   u32[]                     ilio_ckpt_map_pack/_unpack
 *   struct ilio_ckpt_chunk    u64 loc, u64 hash         ilio_ckpt_chunk_pack/_unpack
 *   struct ilio_jsb           struct ilio_jsb_info      ilio_jsb_build/_unpack
 *   struct ilio_jrec          struct ilio_jrec_info     ilio_jrec_pack/_unpack
 *   struct ilio_jext          u64 pos, u32 len          ilio_jext_pack/_unpack
 *   struct ilio_cmap_hdr/_ent struct ilio_crange[]      ilio_cmap_build/_check
 *   struct ilio_mmp_rec        struct ilio_mmp_info      ilio_mmp_build/_unpack
 *
 * Unpack decodes whatever it is given and never fails; the validator beside
 * it decides whether the decoded value may be used.  Every validator treats
 * its input as hostile: it checks magic, checksum, its own location,
 * version and every field against the geometry before anything else uses
 * the block, and says why it refused in a static string.  The location
 * codec itself (the bit layout) is in ilio-format.h; ilio_loc_check() here
 * validates a decoded location against the geometry.
 */
#ifndef ILIO_META_H
#define ILIO_META_H

#include <linux/types.h>

#include "ilio-format.h"
#include "ilio-class.h"

/**
 * struct ilio_geom - the geometry a superblock describes
 * @seq: superblock generation: 1 at format, one more at each grow of the
 *	backing device
 * @dev_blocks: device size in 4 KiB blocks
 * @seg_bytes: segment size in bytes
 * @nr_segs: number of segments
 * @seg_start: block of segment 0
 * @uuid: store identity
 * @keyed_hash: the store's content hashes are keyed with @hash_seed
 *	(ILIO_FEAT_INCOMPAT_KEYED_HASH); false for stores formatted before
 * @hash_seed: the content hash key, 0 when not @keyed_hash
 * @journal_gen: binding generation of the store's journal device, 0 when
 *	the store has none (ILIO_FEAT_INCOMPAT_JOURNAL)
 * @multihost: the store is guarded by the multihost record
 *	(ILIO_FEAT_RO_COMPAT_MULTIHOST)
 */
struct ilio_geom {
	u64 seq;
	u64 dev_blocks;
	u32 seg_bytes;
	u32 nr_segs;
	u64 seg_start;
	u8 uuid[16];
	bool keyed_hash;
	u64 hash_seed;
	u64 journal_gen;
	bool multihost;
};

/**
 * struct ilio_jsb_info - a journal superblock, in CPU order
 * @seq: slot generation
 * @uuid: the store's uuid
 * @bind_gen: binding generation
 * @ring_blocks: blocks in the ring
 * @tail_pos: ring block of the oldest record that may be needed
 * @tail_seq: its record sequence number
 */
struct ilio_jsb_info {
	u64 seq;
	u8 uuid[16];
	u64 bind_gen;
	u64 ring_blocks;
	u64 tail_pos;
	u64 tail_seq;
};

/**
 * struct ilio_jrec_info - a journal record header, in CPU order
 * @blocknr: ring block of the header
 * @seq: record sequence number
 * @uuid: the store's uuid
 * @bind_gen: binding generation
 * @blocks: record length in blocks, header included
 * @nr_ext: extents in the header
 * @last_useq: newest log unit in the record
 */
struct ilio_jrec_info {
	u64 blocknr;
	u64 seq;
	u8 uuid[16];
	u64 bind_gen;
	u64 blocks;
	u32 nr_ext;
	u64 last_useq;
};

/**
 * struct ilio_anchor_info - a validated anchor, in CPU order
 * @seq: anchor generation
 * @epoch: chain epoch
 * @log_seq: first unit's sequence number
 * @log_seg: first unit's segment
 * @log_off: first unit's byte offset in the segment
 * @nr_blocks: logical size in blocks (0: never activated)
 * @ckpt_end: last unit of the checkpoint that starts at @log_seq
 */
struct ilio_anchor_info {
	u64 seq;
	u64 epoch;
	u64 log_seq;
	u32 log_seg;
	u32 log_off;
	u64 nr_blocks;
	u64 ckpt_end;
};

/**
 * struct ilio_unit_info - a log unit header, in CPU order
 * @blocknr: absolute 4 KiB block of the header
 * @type: ILIO_UNIT_DATA or ILIO_UNIT_CKPT
 * @epoch: the chain's epoch
 * @seq: position in the chain
 * @len: unit length in bytes, header block included
 * @next_seg: the segment the chain continues in
 * @rec_bytes: DATA: bytes of records after the header block
 * @nr_ents: DATA: summary entries; CKPT: leaf descriptors
 *
 * The header's magic, flags, padding and checksum have no in-core field:
 * ilio_unit_hdr_pack() writes the magic and zeroes the rest, and
 * ilio_unit_seal() sets the checksum.
 */
struct ilio_unit_info {
	u64 blocknr;
	u32 type;
	u64 epoch;
	u64 seq;
	u32 len;
	u32 next_seg;
	u32 rec_bytes;
	u32 nr_ents;
};

/**
 * struct ilio_rec_info - a chunk record header, in CPU order
 * @cid: chunk id that owned the record when it was written (0: end)
 * @len: payload length in bytes
 * @flags: ILIO_CHUNK_* flags
 */
struct ilio_rec_info {
	u32 cid;
	u32 len;
	u32 flags;
};

/**
 * struct ilio_sum_info - a summary entry, in CPU order
 * @kind: ILIO_SUM_MAP, ILIO_SUM_UNMAP or ILIO_SUM_CHUNK (any 4-bit value
 *	when decoded from the device)
 * @arg: the key's argument (below 1 << ILIO_SUM_KIND_SHIFT)
 * @val: the second argument
 */
struct ilio_sum_info {
	u32 kind;
	u64 arg;
	u64 val;
};

/**
 * struct ilio_desc_info - a checkpoint leaf descriptor, in CPU order
 * @kind: ILIO_CKPT_LBAMAP or ILIO_CKPT_CHUNKS
 * @index: leaf number
 */
struct ilio_desc_info {
	u32 kind;
	u32 index;
};

/* Defaults of a holder: beat every second, fence after five. */
#define ILIO_MMP_INTERVAL_MS	1000U
#define ILIO_MMP_FENCE_MS	5000U
/* Bounds of a multihost record's timing that a reader accepts. */
#define ILIO_MMP_INTERVAL_MIN_MS	100U
#define ILIO_MMP_INTERVAL_MAX_MS	10000U
#define ILIO_MMP_FENCE_MAX_MS		60000U

/**
 * struct ilio_mmp_info - a multihost record, in CPU order
 * @state: ILIO_MMP_CLEAN or ILIO_MMP_ACTIVE
 * @seq: write generation
 * @owner: the writing activation's random id
 * @time: wall-clock seconds of the write (for the admin)
 * @interval_ms: the writer's beat interval
 * @fence_ms: the writer's self-fencing limit
 * @node: the writer's host name, NUL-terminated
 */
struct ilio_mmp_info {
	u32 state;
	u64 seq;
	u64 owner;
	s64 time;
	u32 interval_ms;
	u32 fence_ms;
	char node[ILIO_MMP_NODE_LEN];
};

u32 ilio_crc32c(u32 crc, const void *p, size_t len);
int ilio_geom_compute(struct ilio_geom *g, u64 dev_bytes, u32 seg_bytes,
		      const char **why);

/* Superblock and anchors: build is the pack half, and seals the block. */
void ilio_sb_build(void *blk, const struct ilio_geom *g, u64 blocknr);
void ilio_sb_unpack(const void *blk, struct ilio_geom *g);
void ilio_sb_rewrite(void *blk, u64 blocknr, u64 seq, u64 dev_blocks,
		     u32 nr_segs);
void ilio_sb_set_multihost(void *blk, u64 seq, bool on);
int ilio_sb_check(const void *blk, u64 blocknr, u64 dev_bytes,
		  struct ilio_geom *g, const char **why);
void ilio_anchor_build(void *blk, const struct ilio_geom *g, u64 blocknr,
		       const struct ilio_anchor_info *a);
void ilio_anchor_unpack(const void *blk, struct ilio_anchor_info *a);
int ilio_anchor_check(const void *blk, u64 blocknr, const struct ilio_geom *g,
		      struct ilio_anchor_info *a, const char **why);

/* Log units. */
void ilio_unit_hdr_pack(void *blk, const struct ilio_unit_info *u);
bool ilio_unit_hdr_unpack(const void *blk, struct ilio_unit_info *u);
void ilio_unit_seal(void *unit, u32 len);
int ilio_unit_check_hdr(const void *blk, const struct ilio_geom *g, u32 seg,
			u32 off, u64 epoch, u64 seq, const char **why);
int ilio_unit_check_body(const void *unit, const struct ilio_geom *g,
			 const char **why);

/* Chunk records. */
void ilio_rec_pack(struct ilio_chunk_hdr *h, const struct ilio_rec_info *r);
void ilio_rec_unpack(const struct ilio_chunk_hdr *h, struct ilio_rec_info *r);
bool ilio_rec_fits(const struct ilio_rec_info *r, u32 off, u32 end);
int ilio_rec_check(const struct ilio_rec_info *r, u32 off, u32 end,
		   u32 cid_limit, const char **why);
bool ilio_rec_matches(const struct ilio_rec_info *r, u32 cid, u64 loc);
u64 ilio_rec_make_loc(u32 seg, u32 off, const struct ilio_rec_info *r);

/* Summary entries. */
void ilio_sum_pack(struct ilio_sum_ent *e, const struct ilio_sum_info *s);
void ilio_sum_unpack(const struct ilio_sum_ent *e, struct ilio_sum_info *s);
int ilio_sum_check(const struct ilio_sum_info *s, u64 nr_blocks,
		   u32 cid_limit, u32 rstart, u32 rend, const char **why);

/* Checkpoint leaves. */
void ilio_ckpt_desc_pack(struct ilio_ckpt_desc *d,
			 const struct ilio_desc_info *di);
void ilio_ckpt_desc_unpack(const struct ilio_ckpt_desc *d,
			   struct ilio_desc_info *di);
void ilio_ckpt_map_pack(void *dst, const u32 *leaf);
void ilio_ckpt_map_unpack(const void *src, u32 *leaf);
int ilio_ckpt_map_check(const void *src, u32 index, u64 nr_blocks,
			u32 cid_limit, const char **why);
void ilio_ckpt_chunk_pack(struct ilio_ckpt_chunk *o, u64 loc, u64 hash);
void ilio_ckpt_chunk_unpack(const struct ilio_ckpt_chunk *in, u64 *loc,
			    u64 *hash);

/* The journal device. */
void ilio_jsb_build(void *blk, u64 blocknr, const struct ilio_jsb_info *j);
void ilio_jsb_unpack(const void *blk, struct ilio_jsb_info *j);
int ilio_jsb_check(const void *blk, u64 blocknr, u64 dev_bytes,
		   struct ilio_jsb_info *j, const char **why);
void ilio_jrec_pack(void *blk, const struct ilio_jrec_info *r);
void ilio_jrec_unpack(const void *blk, struct ilio_jrec_info *r);
void ilio_jrec_seal(void *rec, u32 len);
void ilio_jext_pack(void *blk, u32 i, u64 pos, u32 len);
void ilio_jext_unpack(const void *blk, u32 i, u64 *pos, u32 *len);
int ilio_jrec_check_hdr(const void *blk, const struct ilio_jsb_info *j,
			const struct ilio_geom *g, u64 blocknr, u64 seq,
			const char **why);
int ilio_jrec_check_body(const void *rec, const char **why);

/* Class map slots (the hints; see "class map slots" in ilio-format.h). */
u32 ilio_cmap_slot_blocks(const struct ilio_geom *g);
u64 ilio_cmap_slot_block(const struct ilio_geom *g, unsigned int slot);
u32 ilio_cmap_capacity(const struct ilio_geom *g);
u32 ilio_cmap_limit(const struct ilio_geom *g);
u32 ilio_cmap_len(u32 nr);
void ilio_cmap_build(void *buf, const struct ilio_geom *g, unsigned int slot,
		     u64 seq, u64 nr_sectors, const struct ilio_crange *r,
		     u32 nr);
int ilio_cmap_check_hdr(const void *blk, const struct ilio_geom *g,
			unsigned int slot, u64 *seq, u32 *nr, const char **why);
int ilio_cmap_check(const void *buf, u32 nr, u64 nr_sectors,
		    struct ilio_crange *out, const char **why);

/* The multihost record (see "multihost record" in ilio-format.h). */
void ilio_mmp_build(void *blk, const u8 *uuid, const struct ilio_mmp_info *m);
void ilio_mmp_unpack(const void *blk, struct ilio_mmp_info *m);
int ilio_mmp_check(const void *blk, const u8 *uuid, struct ilio_mmp_info *m,
		   const char **why);

/* Locations (the bit layout is in ilio-format.h). */
int ilio_loc_check(u64 loc, u32 nr_segs, u32 seg_bytes, const char **why);

static inline u64 ilio_seg_block(const struct ilio_geom *g, u32 seg)
{
	return g->seg_start + (u64)seg * (g->seg_bytes / ILIO_BLOCK_SIZE);
}

#endif /* ILIO_META_H */
