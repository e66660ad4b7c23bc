// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-meta: build and validate superblocks, anchors and log unit headers.
 *
 * No locks: pure functions over caller-owned buffers.
 *
 * Checksums are crc32c (raw update, seed ~0) over the whole block or unit
 * with the checksum field itself taken as zero.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/crc32c.h>
#include <asm/byteorder.h>

#include "ilio-meta.h"

/**
 * ilio_crc32c() - crc32c update
 * @crc: running value
 * @p: data
 * @len: bytes
 *
 * Return: the updated value.
 */
u32 ilio_crc32c(u32 crc, const void *p, size_t len)
{
	return crc32c(crc, p, len);
}

/* Checksum of @len bytes at @p whose bytes 4..7 are the checksum field. */
static u32 ilio_csum(const void *p, size_t len)
{
	static const u8 zero[4];
	u32 crc = ilio_crc32c(~0U, p, 4);

	crc = ilio_crc32c(crc, zero, 4);
	return ilio_crc32c(crc, (const u8 *)p + 8, len - 8);
}

/**
 * ilio_geom_compute() - lay out a device of @dev_bytes
 * @g: filled in, unkeyed (uuid untouched; a formatter that keys the
 *	store sets @keyed_hash and @hash_seed afterwards)
 * @dev_bytes: device size in bytes
 * @seg_bytes: segment size: a power of two, 64 KiB .. 32 MiB
 * @why: the reason on failure
 *
 * Return: 0, or -EINVAL with @why set.
 */
int ilio_geom_compute(struct ilio_geom *g, u64 dev_bytes, u32 seg_bytes,
		      const char **why)
{
	u64 seg_blocks, nr;

	if (seg_bytes < ILIO_SEG_BYTES_MIN || seg_bytes > ILIO_FMT_SEG_BYTES_MAX ||
	    (seg_bytes & (seg_bytes - 1))) {
		*why = "segment size must be a power of two from 64 KiB to 32 MiB";
		return -EINVAL;
	}
	seg_blocks = seg_bytes / ILIO_BLOCK_SIZE;
	g->keyed_hash = false;
	g->hash_seed = 0;
	g->dev_blocks = dev_bytes / ILIO_BLOCK_SIZE;
	g->seg_bytes = seg_bytes;
	/* Segment 0 starts at the first segment-aligned block after the metadata. */
	g->seg_start = seg_blocks;
	nr = g->dev_blocks > g->seg_start ?
		(g->dev_blocks - g->seg_start) / seg_blocks : 0;
	if (nr < ILIO_MIN_SEGS) {
		*why = "device too small: it must hold at least 8 segments plus one for metadata";
		return -EINVAL;
	}
	if (nr > 0x0fffffffULL)
		nr = 0x0fffffffULL;	/* what a location can address */
	g->nr_segs = nr;
	return 0;
}

/**
 * ilio_sb_build() - fill a 4 KiB superblock block
 * @blk: ILIO_BLOCK_SIZE bytes
 * @g: geometry
 * @blocknr: ILIO_SB_BLOCK or ILIO_SB_BLOCK + 1
 */
void ilio_sb_build(void *blk, const struct ilio_geom *g, u64 blocknr)
{
	struct ilio_sb *sb = blk;

	memset(blk, 0, ILIO_BLOCK_SIZE);
	sb->magic = cpu_to_le32(ILIO_SB_MAGIC);
	sb->blocknr = cpu_to_le64(blocknr);
	sb->version = cpu_to_le32(ILIO_FORMAT_VERSION);
	sb->seq = cpu_to_le64(1);
	memcpy(sb->uuid, g->uuid, sizeof(sb->uuid));
	sb->incompat = cpu_to_le64(ILIO_FEAT_INCOMPAT_LZ4 |
				   (g->keyed_hash ? ILIO_FEAT_INCOMPAT_KEYED_HASH : 0));
	sb->hash_seed = cpu_to_le64(g->keyed_hash ? g->hash_seed : 0);
	sb->dev_blocks = cpu_to_le64(g->dev_blocks);
	sb->seg_bytes = cpu_to_le32(g->seg_bytes);
	sb->nr_segs = cpu_to_le32(g->nr_segs);
	sb->seg_start = cpu_to_le64(g->seg_start);
	sb->csum = cpu_to_le32(ilio_csum(blk, ILIO_BLOCK_SIZE));
}

/**
 * ilio_sb_check() - validate a superblock block
 * @blk: ILIO_BLOCK_SIZE bytes read from block @blocknr
 * @blocknr: where it was read from
 * @dev_bytes: the device's size now
 * @g: filled in on success
 * @why: the reason on failure
 *
 * Return: 0; -ENOENT when the block is no ilio superblock at all (no
 * magic); -EINVAL when it is one but damaged or inconsistent.
 */
int ilio_sb_check(const void *blk, u64 blocknr, u64 dev_bytes,
		  struct ilio_geom *g, const char **why)
{
	const struct ilio_sb *sb = blk;
	u64 seg_blocks, end;

	if (le32_to_cpu(sb->magic) != ILIO_SB_MAGIC) {
		*why = "no ilio superblock (format the device with ilioctl format)";
		return -ENOENT;
	}
	if (le32_to_cpu(sb->csum) != ilio_csum(blk, ILIO_BLOCK_SIZE)) {
		*why = "superblock checksum mismatch";
		return -EINVAL;
	}
	if (le64_to_cpu(sb->blocknr) != blocknr) {
		*why = "superblock found at the wrong location";
		return -EINVAL;
	}
	if (le32_to_cpu(sb->version) != ILIO_FORMAT_VERSION || sb->flags) {
		*why = "unsupported superblock version";
		return -EINVAL;
	}
	if (le64_to_cpu(sb->incompat) & ~ILIO_FEAT_INCOMPAT_SUPP) {
		*why = "superblock has unknown incompatible features";
		return -EINVAL;
	}
	if (le64_to_cpu(sb->ro_compat) & ~ILIO_FEAT_RO_COMPAT_SUPP) {
		*why = "superblock has unknown read-only-compatible features";
		return -EINVAL;
	}
	g->dev_blocks = le64_to_cpu(sb->dev_blocks);
	g->seg_bytes = le32_to_cpu(sb->seg_bytes);
	g->nr_segs = le32_to_cpu(sb->nr_segs);
	g->seg_start = le64_to_cpu(sb->seg_start);
	memcpy(g->uuid, sb->uuid, sizeof(g->uuid));
	g->keyed_hash = le64_to_cpu(sb->incompat) & ILIO_FEAT_INCOMPAT_KEYED_HASH;
	g->hash_seed = le64_to_cpu(sb->hash_seed);
	if (!g->keyed_hash && g->hash_seed) {
		*why = "superblock has a hash key but not the keyed-hash feature";
		return -EINVAL;
	}
	if (g->seg_bytes < ILIO_SEG_BYTES_MIN ||
	    g->seg_bytes > ILIO_FMT_SEG_BYTES_MAX ||
	    (g->seg_bytes & (g->seg_bytes - 1)) ||
	    g->nr_segs < ILIO_MIN_SEGS || g->nr_segs > 0x0fffffffU ||
	    g->seg_start < ILIO_META_BLOCKS || g->seg_start > (1ULL << 40)) {
		*why = "superblock geometry is invalid";
		return -EINVAL;
	}
	seg_blocks = g->seg_bytes / ILIO_BLOCK_SIZE;
	end = g->seg_start + (u64)g->nr_segs * seg_blocks;
	if (end > g->dev_blocks) {
		*why = "superblock geometry is invalid";
		return -EINVAL;
	}
	if (end > dev_bytes / ILIO_BLOCK_SIZE) {
		*why = "backing device is smaller than its superblock says (truncated?)";
		return -EINVAL;
	}
	return 0;
}

/**
 * ilio_anchor_build() - fill a 4 KiB anchor block
 * @blk: ILIO_BLOCK_SIZE bytes
 * @g: geometry (for the uuid)
 * @blocknr: ILIO_ANCHOR_BLOCK or ILIO_ANCHOR_BLOCK + 1
 * @a: content
 */
void ilio_anchor_build(void *blk, const struct ilio_geom *g, u64 blocknr,
		       const struct ilio_anchor_info *a)
{
	struct ilio_anchor *an = blk;

	memset(blk, 0, ILIO_BLOCK_SIZE);
	an->magic = cpu_to_le32(ILIO_ANCHOR_MAGIC);
	an->blocknr = cpu_to_le64(blocknr);
	an->version = cpu_to_le32(ILIO_FORMAT_VERSION);
	an->seq = cpu_to_le64(a->seq);
	memcpy(an->uuid, g->uuid, sizeof(an->uuid));
	an->epoch = cpu_to_le64(a->epoch);
	an->log_seq = cpu_to_le64(a->log_seq);
	an->log_seg = cpu_to_le32(a->log_seg);
	an->log_off = cpu_to_le32(a->log_off);
	an->nr_blocks = cpu_to_le64(a->nr_blocks);
	an->ckpt_end = cpu_to_le64(a->ckpt_end);
	an->csum = cpu_to_le32(ilio_csum(blk, ILIO_BLOCK_SIZE));
}

/**
 * ilio_anchor_check() - validate an anchor block
 * @blk: ILIO_BLOCK_SIZE bytes read from block @blocknr
 * @blocknr: where it was read from
 * @g: the validated superblock's geometry
 * @a: filled in on success
 * @why: the reason on failure
 *
 * Return: 0, or -EINVAL.
 */
int ilio_anchor_check(const void *blk, u64 blocknr, const struct ilio_geom *g,
		      struct ilio_anchor_info *a, const char **why)
{
	const struct ilio_anchor *an = blk;

	if (le32_to_cpu(an->magic) != ILIO_ANCHOR_MAGIC ||
	    le32_to_cpu(an->csum) != ilio_csum(blk, ILIO_BLOCK_SIZE)) {
		*why = "anchor magic or checksum mismatch";
		return -EINVAL;
	}
	if (le64_to_cpu(an->blocknr) != blocknr ||
	    le32_to_cpu(an->version) != ILIO_FORMAT_VERSION || an->flags ||
	    memcmp(an->uuid, g->uuid, sizeof(an->uuid))) {
		*why = "anchor belongs elsewhere (location, version or uuid)";
		return -EINVAL;
	}
	a->seq = le64_to_cpu(an->seq);
	a->epoch = le64_to_cpu(an->epoch);
	a->log_seq = le64_to_cpu(an->log_seq);
	a->log_seg = le32_to_cpu(an->log_seg);
	a->log_off = le32_to_cpu(an->log_off);
	a->nr_blocks = le64_to_cpu(an->nr_blocks);
	a->ckpt_end = le64_to_cpu(an->ckpt_end);
	if (a->log_seg >= g->nr_segs || a->log_off % ILIO_BLOCK_SIZE ||
	    a->log_off >= g->seg_bytes || !a->seq ||
	    a->nr_blocks > (1ULL << 40) ||
	    (a->ckpt_end && (a->ckpt_end < a->log_seq ||
			     a->ckpt_end - a->log_seq > (1ULL << 32)))) {
		*why = "anchor points outside the device";
		return -EINVAL;
	}
	return 0;
}

/**
 * ilio_unit_seal() - set the checksum of a complete unit
 * @unit: the unit, header first
 * @len: its length in bytes (the header's @len)
 */
void ilio_unit_seal(void *unit, u32 len)
{
	struct ilio_unit_hdr *h = unit;

	h->csum = cpu_to_le32(ilio_csum(unit, len));
}

/**
 * ilio_unit_check_hdr() - is this block the expected next unit's header?
 * @blk: ILIO_BLOCK_SIZE bytes read at segment @seg, offset @off
 * @g: geometry
 * @seg: segment it was read from
 * @off: byte offset it was read from
 * @epoch: the chain's epoch
 * @seq: the sequence number expected
 * @why: the reason on failure
 *
 * Checks everything but the checksum, which covers the whole unit (see
 * ilio_unit_check_body()).  A mismatch of magic, epoch or sequence is the
 * normal end of the log, not damage.
 *
 * Return: 0; -ENOENT at the end of the log; -EINVAL for a header whose
 * fields are impossible.
 */
int ilio_unit_check_hdr(const void *blk, const struct ilio_geom *g, u32 seg,
			u32 off, u64 epoch, u64 seq, const char **why)
{
	const struct ilio_unit_hdr *h = blk;
	u32 len = le32_to_cpu(h->len), type = le16_to_cpu(h->type);
	u64 rec, nents;

	if (le32_to_cpu(h->magic) != ILIO_UNIT_MAGIC ||
	    le64_to_cpu(h->epoch) != epoch || le64_to_cpu(h->seq) != seq ||
	    le64_to_cpu(h->blocknr) !=
	    ilio_seg_block(g, seg) + off / ILIO_BLOCK_SIZE) {
		*why = "end of log";
		return -ENOENT;
	}
	rec = le32_to_cpu(h->rec_bytes);
	nents = le32_to_cpu(h->nr_ents);
	if (len < ILIO_BLOCK_SIZE || len % ILIO_BLOCK_SIZE ||
	    len > g->seg_bytes - off || h->flags || h->pad ||
	    le32_to_cpu(h->next_seg) >= g->nr_segs) {
		*why = "unit header has an impossible length or successor";
		return -EINVAL;
	}
	switch (type) {
	case ILIO_UNIT_DATA:
		if (rec % ILIO_CHUNK_ALIGN ||
		    ILIO_BLOCK_SIZE + rec + nents * sizeof(struct ilio_sum_ent) > len) {
			*why = "data unit header: records and summary overflow the unit";
			return -EINVAL;
		}
		break;
	case ILIO_UNIT_CKPT:
		if (rec || nents > ILIO_CKPT_MAX_DESC) {
			*why = "checkpoint unit header: too many leaves";
			return -EINVAL;
		}
		break;
	default:
		*why = "unit header has an unknown type";
		return -EINVAL;
	}
	return 0;
}

/**
 * ilio_unit_check_body() - verify a whole unit's checksum
 * @unit: the unit (its header passed ilio_unit_check_hdr())
 * @g: geometry
 * @why: the reason on failure
 *
 * Return: 0, or -ENOENT: a torn or damaged unit ends the log.
 */
int ilio_unit_check_body(const void *unit, const struct ilio_geom *g,
			 const char **why)
{
	const struct ilio_unit_hdr *h = unit;
	u32 len = le32_to_cpu(h->len);

	if (le32_to_cpu(h->csum) != ilio_csum(unit, len)) {
		*why = "unit checksum mismatch (torn write)";
		return -ENOENT;
	}
	return 0;
}
