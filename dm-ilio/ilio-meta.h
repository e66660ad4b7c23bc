/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-meta: build and validate the on-disk metadata blocks.
 *
 * Pure functions over buffers, shared by the module, tools/ilioctl (its
 * format command) and the userspace tests and fuzzer.  Every validator
 * treats its input as hostile: it checks magic, checksum, its own
 * location, version and every field against the geometry before anything
 * else uses the block, and says why it refused in a static string.
 */
#ifndef ILIO_META_H
#define ILIO_META_H

#include <linux/types.h>

#include "ilio-format.h"

/**
 * struct ilio_geom - the geometry a superblock describes
 * @dev_blocks: device size in 4 KiB blocks
 * @seg_bytes: segment size in bytes
 * @nr_segs: number of segments
 * @seg_start: block of segment 0
 * @uuid: store identity
 * @keyed_hash: the store's content hashes are keyed with @hash_seed
 *	(ILIO_FEAT_INCOMPAT_KEYED_HASH); false for stores formatted before
 * @hash_seed: the content hash key, 0 when not @keyed_hash
 */
struct ilio_geom {
	u64 dev_blocks;
	u32 seg_bytes;
	u32 nr_segs;
	u64 seg_start;
	u8 uuid[16];
	bool keyed_hash;
	u64 hash_seed;
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

u32 ilio_crc32c(u32 crc, const void *p, size_t len);
int ilio_geom_compute(struct ilio_geom *g, u64 dev_bytes, u32 seg_bytes,
		      const char **why);
void ilio_sb_build(void *blk, const struct ilio_geom *g, u64 blocknr);
int ilio_sb_check(const void *blk, u64 blocknr, u64 dev_bytes,
		  struct ilio_geom *g, const char **why);
void ilio_anchor_build(void *blk, const struct ilio_geom *g, u64 blocknr,
		       const struct ilio_anchor_info *a);
int ilio_anchor_check(const void *blk, u64 blocknr, const struct ilio_geom *g,
		      struct ilio_anchor_info *a, const char **why);
void ilio_unit_seal(void *unit, u32 len);
int ilio_unit_check_hdr(const void *blk, const struct ilio_geom *g, u32 seg,
			u32 off, u64 epoch, u64 seq, const char **why);
int ilio_unit_check_body(const void *unit, const struct ilio_geom *g,
			 const char **why);

static inline u64 ilio_seg_block(const struct ilio_geom *g, u32 seg)
{
	return g->seg_start + (u64)seg * (g->seg_bytes / ILIO_BLOCK_SIZE);
}

#endif /* ILIO_META_H */
