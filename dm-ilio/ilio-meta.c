// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-meta: the on-disk codec: pack, unpack and validate superblocks,
 * anchors, log unit headers, chunk record headers, summary entries,
 * checkpoint leaves and locations (the table is in ilio-meta.h).
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
	g->journal_gen = 0;
	g->multihost = false;
	g->seq = 1;
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
	sb->seq = cpu_to_le64(g->seq ? g->seq : 1);
	memcpy(sb->uuid, g->uuid, sizeof(sb->uuid));
	sb->incompat = cpu_to_le64(ILIO_FEAT_INCOMPAT_LZ4 |
				   (g->keyed_hash ? ILIO_FEAT_INCOMPAT_KEYED_HASH : 0));
	sb->hash_seed = cpu_to_le64(g->keyed_hash ? g->hash_seed : 0);
	sb->dev_blocks = cpu_to_le64(g->dev_blocks);
	sb->seg_bytes = cpu_to_le32(g->seg_bytes);
	sb->nr_segs = cpu_to_le32(g->nr_segs);
	sb->seg_start = cpu_to_le64(g->seg_start);
	if (g->journal_gen) {
		sb->incompat |= cpu_to_le64(ILIO_FEAT_INCOMPAT_JOURNAL);
		sb->journal_gen = cpu_to_le64(g->journal_gen);
	}
	if (g->multihost)
		sb->ro_compat = cpu_to_le64(ILIO_FEAT_RO_COMPAT_MULTIHOST);
	sb->csum = cpu_to_le32(ilio_csum(blk, ILIO_BLOCK_SIZE));
}

/**
 * ilio_sb_rewrite() - change a valid superblock block's geometry in place
 * @blk: ILIO_BLOCK_SIZE bytes holding a superblock that ilio_sb_check()
 *	accepted
 * @blocknr: the block it will be written to (ILIO_SB_BLOCK or + 1)
 * @seq: its new generation
 * @dev_blocks: the new device size in blocks
 * @nr_segs: the new number of segments
 *
 * Everything else in the block stays as it is (features this module does
 * not know, fields a later version added); the checksum is recomputed.
 */
void ilio_sb_rewrite(void *blk, u64 blocknr, u64 seq, u64 dev_blocks,
		     u32 nr_segs)
{
	struct ilio_sb *sb = blk;

	sb->blocknr = cpu_to_le64(blocknr);
	sb->seq = cpu_to_le64(seq);
	sb->dev_blocks = cpu_to_le64(dev_blocks);
	sb->nr_segs = cpu_to_le32(nr_segs);
	sb->csum = cpu_to_le32(ilio_csum(blk, ILIO_BLOCK_SIZE));
}

/**
 * ilio_sb_unpack() - decode a superblock block's geometry, unchecked
 * @blk: ILIO_BLOCK_SIZE bytes
 * @g: filled in from the block as it is (see ilio_sb_check())
 */
void ilio_sb_unpack(const void *blk, struct ilio_geom *g)
{
	const struct ilio_sb *sb = blk;

	g->seq = le64_to_cpu(sb->seq);
	g->dev_blocks = le64_to_cpu(sb->dev_blocks);
	g->seg_bytes = le32_to_cpu(sb->seg_bytes);
	g->nr_segs = le32_to_cpu(sb->nr_segs);
	g->seg_start = le64_to_cpu(sb->seg_start);
	memcpy(g->uuid, sb->uuid, sizeof(g->uuid));
	g->keyed_hash = le64_to_cpu(sb->incompat) & ILIO_FEAT_INCOMPAT_KEYED_HASH;
	g->hash_seed = le64_to_cpu(sb->hash_seed);
	g->journal_gen = le64_to_cpu(sb->incompat) & ILIO_FEAT_INCOMPAT_JOURNAL ?
			 le64_to_cpu(sb->journal_gen) : 0;
	g->multihost = le64_to_cpu(sb->ro_compat) & ILIO_FEAT_RO_COMPAT_MULTIHOST;
}

/**
 * ilio_sb_set_multihost() - switch the multihost guard of a valid
 *	superblock block in place
 * @blk: ILIO_BLOCK_SIZE bytes holding a superblock that ilio_sb_check()
 *	accepted
 * @seq: its new generation
 * @on: guarded (ILIO_FEAT_RO_COMPAT_MULTIHOST) or not
 *
 * Everything else stays as it is; the checksum is recomputed.
 */
void ilio_sb_set_multihost(void *blk, u64 seq, bool on)
{
	struct ilio_sb *sb = blk;
	u64 ro = le64_to_cpu(sb->ro_compat) & ~ILIO_FEAT_RO_COMPAT_MULTIHOST;

	sb->ro_compat = cpu_to_le64(ro | (on ? ILIO_FEAT_RO_COMPAT_MULTIHOST : 0));
	sb->seq = cpu_to_le64(seq);
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
	ilio_sb_unpack(blk, g);
	if (!g->keyed_hash && g->hash_seed) {
		*why = "superblock has a hash key but not the keyed-hash feature";
		return -EINVAL;
	}
	if ((le64_to_cpu(sb->incompat) & ILIO_FEAT_INCOMPAT_JOURNAL) ?
	    !g->journal_gen : !!sb->journal_gen) {
		*why = "superblock journal binding is inconsistent";
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
 * ilio_anchor_unpack() - decode an anchor block, unchecked
 * @blk: ILIO_BLOCK_SIZE bytes
 * @a: filled in from the block as it is (see ilio_anchor_check())
 */
void ilio_anchor_unpack(const void *blk, struct ilio_anchor_info *a)
{
	const struct ilio_anchor *an = blk;

	a->seq = le64_to_cpu(an->seq);
	a->epoch = le64_to_cpu(an->epoch);
	a->log_seq = le64_to_cpu(an->log_seq);
	a->log_seg = le32_to_cpu(an->log_seg);
	a->log_off = le32_to_cpu(an->log_off);
	a->nr_blocks = le64_to_cpu(an->nr_blocks);
	a->ckpt_end = le64_to_cpu(an->ckpt_end);
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
	ilio_anchor_unpack(blk, a);
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
 * ilio_unit_hdr_pack() - write a unit header
 * @blk: the unit's header block; only the &struct ilio_unit_hdr at its
 *	start is written (checkpoint descriptors after it stay)
 * @u: content
 *
 * Writes the magic and zero flags, padding and checksum: the unit is
 * sealed with ilio_unit_seal() once its body is complete.
 */
void ilio_unit_hdr_pack(void *blk, const struct ilio_unit_info *u)
{
	struct ilio_unit_hdr *h = blk;

	h->magic = cpu_to_le32(ILIO_UNIT_MAGIC);
	h->csum = 0;
	h->blocknr = cpu_to_le64(u->blocknr);
	h->type = cpu_to_le16(u->type);
	h->flags = 0;
	h->pad = 0;
	h->epoch = cpu_to_le64(u->epoch);
	h->seq = cpu_to_le64(u->seq);
	h->len = cpu_to_le32(u->len);
	h->next_seg = cpu_to_le32(u->next_seg);
	h->rec_bytes = cpu_to_le32(u->rec_bytes);
	h->nr_ents = cpu_to_le32(u->nr_ents);
}

/**
 * ilio_unit_hdr_unpack() - decode a unit header, unchecked
 * @blk: at least sizeof(struct ilio_unit_hdr) bytes
 * @u: filled in from the header as it is, whatever the return value
 *
 * Return: true when the block carries the unit magic.  Only
 * ilio_unit_check_hdr() and ilio_unit_check_body() make it a valid unit.
 */
bool ilio_unit_hdr_unpack(const void *blk, struct ilio_unit_info *u)
{
	const struct ilio_unit_hdr *h = blk;

	u->blocknr = le64_to_cpu(h->blocknr);
	u->type = le16_to_cpu(h->type);
	u->epoch = le64_to_cpu(h->epoch);
	u->seq = le64_to_cpu(h->seq);
	u->len = le32_to_cpu(h->len);
	u->next_seg = le32_to_cpu(h->next_seg);
	u->rec_bytes = le32_to_cpu(h->rec_bytes);
	u->nr_ents = le32_to_cpu(h->nr_ents);
	return le32_to_cpu(h->magic) == ILIO_UNIT_MAGIC;
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
	struct ilio_unit_info u;
	u64 rec, nents;
	u32 len;

	if (!ilio_unit_hdr_unpack(blk, &u) ||
	    u.epoch != epoch || u.seq != seq ||
	    u.blocknr != ilio_seg_block(g, seg) + off / ILIO_BLOCK_SIZE) {
		*why = "end of log";
		return -ENOENT;
	}
	len = u.len;
	rec = u.rec_bytes;
	nents = u.nr_ents;
	if (len < ILIO_BLOCK_SIZE || len % ILIO_BLOCK_SIZE ||
	    len > g->seg_bytes - off || h->flags || h->pad ||
	    u.next_seg >= g->nr_segs) {
		*why = "unit header has an impossible length or successor";
		return -EINVAL;
	}
	switch (u.type) {
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

/**
 * ilio_rec_pack() - write a chunk record header
 * @h: the record's header
 * @r: content
 */
void ilio_rec_pack(struct ilio_chunk_hdr *h, const struct ilio_rec_info *r)
{
	h->cid = cpu_to_le32(r->cid);
	h->len = cpu_to_le16(r->len);
	h->flags = cpu_to_le16(r->flags);
}

/**
 * ilio_rec_unpack() - decode a chunk record header, unchecked
 * @h: the record's header
 * @r: filled in from it as it is
 */
void ilio_rec_unpack(const struct ilio_chunk_hdr *h, struct ilio_rec_info *r)
{
	r->cid = le32_to_cpu(h->cid);
	r->len = le16_to_cpu(h->len);
	r->flags = le16_to_cpu(h->flags);
}

/**
 * ilio_rec_fits() - can this header start a record in [@off, @end)?
 * @r: decoded header of a record at byte @off
 * @off: where the record starts
 * @end: where the records it is among end
 *
 * The walk over a segment's records needs no more than this to step to
 * the next record without leaving the buffer; ilio_rec_check() is the
 * strict test for a record that replay will point the chunk table at.
 *
 * Return: true when its length is 1..ILIO_BLOCK_SIZE and the record with
 * its padding ends by @end.
 */
bool ilio_rec_fits(const struct ilio_rec_info *r, u32 off, u32 end)
{
	return r->len && r->len <= ILIO_BLOCK_SIZE &&
	       (u64)off + ilio_rec_bytes(r->len) <= end;
}

/**
 * ilio_rec_check() - validate a record header that a summary entry names
 * @r: decoded header of the record at byte @off
 * @off: where the record starts (in its segment)
 * @end: where the unit's records end (in the same segment)
 * @cid_limit: the highest chunk id the store can hold
 * @why: the reason on failure
 *
 * Return: 0, or -EINVAL.
 */
int ilio_rec_check(const struct ilio_rec_info *r, u32 off, u32 end,
		   u32 cid_limit, const char **why)
{
	if (!r->cid || !ilio_rec_fits(r, off, end) ||
	    r->flags & ~ILIO_CHUNK_LZ4) {
		*why = "log record header is invalid";
		return -EINVAL;
	}
	if (r->cid > cid_limit) {
		*why = "log record has a chunk id beyond what the device can hold";
		return -EINVAL;
	}
	return 0;
}

/**
 * ilio_rec_matches() - is this the record that chunk @cid at @loc names?
 * @r: decoded header of the record read at @loc
 * @cid: the chunk
 * @loc: its location
 *
 * Return: true when the header names @cid, @loc's length and lz4 flag.
 */
bool ilio_rec_matches(const struct ilio_rec_info *r, u32 cid, u64 loc)
{
	return r->cid == cid && r->len == ilio_loc_raw_len(loc) &&
	       !!(r->flags & ILIO_CHUNK_LZ4) == ilio_loc_raw_lz4(loc);
}

/**
 * ilio_rec_make_loc() - the location of a record
 * @seg: its segment
 * @off: its byte offset there
 * @r: its decoded header (ilio_rec_fits() was true)
 *
 * Return: the packed location.
 */
u64 ilio_rec_make_loc(u32 seg, u32 off, const struct ilio_rec_info *r)
{
	return ilio_loc_raw_make(seg, off, r->len, r->flags & ILIO_CHUNK_LZ4);
}

/**
 * ilio_sum_pack() - write a summary entry
 * @e: the entry
 * @s: content; @s->arg must be below 1 << ILIO_SUM_KIND_SHIFT
 */
void ilio_sum_pack(struct ilio_sum_ent *e, const struct ilio_sum_info *s)
{
	e->key = cpu_to_le64((u64)s->kind << ILIO_SUM_KIND_SHIFT |
			     (s->arg & ILIO_SUM_ARG_MASK));
	e->val = cpu_to_le64(s->val);
}

/**
 * ilio_sum_unpack() - decode a summary entry, unchecked
 * @e: the entry
 * @s: filled in from it as it is
 */
void ilio_sum_unpack(const struct ilio_sum_ent *e, struct ilio_sum_info *s)
{
	u64 key = le64_to_cpu(e->key);

	s->kind = key >> ILIO_SUM_KIND_SHIFT;
	s->arg = key & ILIO_SUM_ARG_MASK;
	s->val = le64_to_cpu(e->val);
}

/**
 * ilio_sum_check() - validate a decoded summary entry
 * @s: the entry
 * @nr_blocks: the device's logical size in blocks
 * @cid_limit: the highest chunk id the store can hold
 * @rstart: byte offset in the segment of the unit's first record
 * @rend: byte offset in the segment where the unit's records end
 * @why: the reason on failure
 *
 * For ILIO_SUM_CHUNK this checks only that the record header lies inside
 * the unit's records: the header itself is ilio_rec_check()'s.
 *
 * Return: 0, or -EINVAL.
 */
int ilio_sum_check(const struct ilio_sum_info *s, u64 nr_blocks,
		   u32 cid_limit, u32 rstart, u32 rend, const char **why)
{
	switch (s->kind) {
	case ILIO_SUM_MAP:
		if (s->arg >= nr_blocks || !s->val || s->val > cid_limit) {
			*why = "log entry maps an LBA outside the device or to no chunk";
			return -EINVAL;
		}
		return 0;
	case ILIO_SUM_UNMAP:
		if (s->arg >= nr_blocks || s->val > nr_blocks - s->arg) {
			*why = "log entry unmaps LBAs outside the device";
			return -EINVAL;
		}
		return 0;
	case ILIO_SUM_CHUNK:
		if (s->arg % ILIO_CHUNK_ALIGN || s->arg < rstart ||
		    s->arg + sizeof(struct ilio_chunk_hdr) > rend) {
			*why = "log entry names a record outside its unit";
			return -EINVAL;
		}
		return 0;
	default:
		*why = "log entry of unknown kind";
		return -EINVAL;
	}
}

/**
 * ilio_ckpt_desc_pack() - write a checkpoint leaf descriptor
 * @d: the descriptor
 * @di: content
 */
void ilio_ckpt_desc_pack(struct ilio_ckpt_desc *d,
			 const struct ilio_desc_info *di)
{
	d->kind = cpu_to_le32(di->kind);
	d->index = cpu_to_le32(di->index);
}

/**
 * ilio_ckpt_desc_unpack() - decode a checkpoint leaf descriptor, unchecked
 * @d: the descriptor
 * @di: filled in from it as it is
 */
void ilio_ckpt_desc_unpack(const struct ilio_ckpt_desc *d,
			   struct ilio_desc_info *di)
{
	di->kind = le32_to_cpu(d->kind);
	di->index = le32_to_cpu(d->index);
}

/**
 * ilio_ckpt_map_pack() - write an LBA-map leaf into a checkpoint
 * @dst: ILIO_CKPT_MAP_BYTES bytes
 * @leaf: ILIO_CKPT_MAP_ENTRIES chunk ids
 */
void ilio_ckpt_map_pack(void *dst, const u32 *leaf)
{
	__le32 *out = dst;
	u32 i;

	for (i = 0; i < ILIO_CKPT_MAP_ENTRIES; i++)
		out[i] = cpu_to_le32(leaf[i]);
}

/**
 * ilio_ckpt_map_unpack() - decode an LBA-map leaf, unchecked
 * @src: ILIO_CKPT_MAP_BYTES bytes
 * @leaf: ILIO_CKPT_MAP_ENTRIES chunk ids, filled in
 */
void ilio_ckpt_map_unpack(const void *src, u32 *leaf)
{
	const __le32 *in = src;
	u32 i;

	for (i = 0; i < ILIO_CKPT_MAP_ENTRIES; i++)
		leaf[i] = le32_to_cpu(in[i]);
}

/**
 * ilio_ckpt_map_check() - validate an LBA-map leaf of a checkpoint
 * @src: ILIO_CKPT_MAP_BYTES bytes
 * @index: the leaf number its descriptor gives (below the device's leaves)
 * @nr_blocks: the device's logical size in blocks
 * @cid_limit: the highest chunk id the store can hold
 * @why: the reason on failure
 *
 * Return: 0 when every id is at most @cid_limit and only LBAs below
 * @nr_blocks are mapped; -EINVAL otherwise.
 */
int ilio_ckpt_map_check(const void *src, u32 index, u64 nr_blocks,
			u32 cid_limit, const char **why)
{
	const __le32 *in = src;
	u64 first = (u64)index * ILIO_CKPT_MAP_ENTRIES;
	u32 k;

	for (k = 0; k < ILIO_CKPT_MAP_ENTRIES; k++) {
		u32 cid = le32_to_cpu(in[k]);

		if (cid > cid_limit || (cid && first + k >= nr_blocks)) {
			*why = "checkpoint maps an invalid chunk id";
			return -EINVAL;
		}
	}
	return 0;
}

/**
 * ilio_ckpt_chunk_pack() - write one chunk-table entry of a checkpoint leaf
 * @o: the entry
 * @loc: packed location (0: the id is free)
 * @hash: content hash (0 for a free id)
 */
void ilio_ckpt_chunk_pack(struct ilio_ckpt_chunk *o, u64 loc, u64 hash)
{
	o->loc = cpu_to_le64(loc);
	o->hash = cpu_to_le64(hash);
}

/**
 * ilio_ckpt_chunk_unpack() - decode one chunk-table entry, unchecked
 * @in: the entry
 * @loc: its location (validated later, by ilio_loc_check())
 * @hash: its content hash
 */
void ilio_ckpt_chunk_unpack(const struct ilio_ckpt_chunk *in, u64 *loc,
			    u64 *hash)
{
	*loc = le64_to_cpu(in->loc);
	*hash = le64_to_cpu(in->hash);
}

/**
 * ilio_jsb_build() - fill a 4 KiB journal superblock block
 * @blk: ILIO_BLOCK_SIZE bytes
 * @blocknr: ILIO_JSB_BLOCK or ILIO_JSB_BLOCK + 1
 * @j: content
 */
void ilio_jsb_build(void *blk, u64 blocknr, const struct ilio_jsb_info *j)
{
	struct ilio_jsb *sb = blk;

	memset(blk, 0, ILIO_BLOCK_SIZE);
	sb->magic = cpu_to_le32(ILIO_JSB_MAGIC);
	sb->blocknr = cpu_to_le64(blocknr);
	sb->version = cpu_to_le32(ILIO_FORMAT_VERSION);
	sb->seq = cpu_to_le64(j->seq);
	memcpy(sb->uuid, j->uuid, sizeof(sb->uuid));
	sb->bind_gen = cpu_to_le64(j->bind_gen);
	sb->ring_blocks = cpu_to_le64(j->ring_blocks);
	sb->tail_pos = cpu_to_le64(j->tail_pos);
	sb->tail_seq = cpu_to_le64(j->tail_seq);
	sb->csum = cpu_to_le32(ilio_csum(blk, ILIO_BLOCK_SIZE));
}

/**
 * ilio_jsb_unpack() - decode a journal superblock, unchecked
 * @blk: ILIO_BLOCK_SIZE bytes
 * @j: filled in from the block as it is (see ilio_jsb_check())
 */
void ilio_jsb_unpack(const void *blk, struct ilio_jsb_info *j)
{
	const struct ilio_jsb *sb = blk;

	j->seq = le64_to_cpu(sb->seq);
	memcpy(j->uuid, sb->uuid, sizeof(j->uuid));
	j->bind_gen = le64_to_cpu(sb->bind_gen);
	j->ring_blocks = le64_to_cpu(sb->ring_blocks);
	j->tail_pos = le64_to_cpu(sb->tail_pos);
	j->tail_seq = le64_to_cpu(sb->tail_seq);
}

/**
 * ilio_jsb_check() - validate a journal superblock block
 * @blk: ILIO_BLOCK_SIZE bytes read from journal block @blocknr
 * @blocknr: where it was read from
 * @dev_bytes: the journal device's size now
 * @j: filled in on success
 * @why: the reason on failure
 *
 * The binding (uuid and generation against the store's superblock) is
 * the caller's to check: this validates the block by itself.
 *
 * Return: 0; -ENOENT when the block is no journal superblock (no magic);
 * -EINVAL when it is one but damaged or inconsistent.
 */
int ilio_jsb_check(const void *blk, u64 blocknr, u64 dev_bytes,
		   struct ilio_jsb_info *j, const char **why)
{
	const struct ilio_jsb *sb = blk;

	if (le32_to_cpu(sb->magic) != ILIO_JSB_MAGIC) {
		*why = "no ilio journal superblock (ilioctl format --journal)";
		return -ENOENT;
	}
	if (le32_to_cpu(sb->csum) != ilio_csum(blk, ILIO_BLOCK_SIZE) ||
	    le64_to_cpu(sb->blocknr) != blocknr ||
	    le32_to_cpu(sb->version) != ILIO_FORMAT_VERSION || sb->flags) {
		*why = "journal superblock damaged (checksum, location or version)";
		return -EINVAL;
	}
	ilio_jsb_unpack(blk, j);
	if (!j->seq || !j->bind_gen || j->ring_blocks < ILIO_JRING_MIN_BLOCKS ||
	    j->ring_blocks > (1ULL << 40) || j->tail_pos >= j->ring_blocks ||
	    !j->tail_seq) {
		*why = "journal superblock geometry is invalid";
		return -EINVAL;
	}
	if (ILIO_JRING_START + j->ring_blocks > dev_bytes / ILIO_BLOCK_SIZE) {
		*why = "journal device is smaller than its superblock says";
		return -EINVAL;
	}
	return 0;
}

/**
 * ilio_jrec_pack() - write a journal record header
 * @blk: the record's header block; only the &struct ilio_jrec at its
 *	start is written (the extents after it stay)
 * @r: content
 *
 * The checksum is set by ilio_jrec_seal() once the record is complete.
 */
void ilio_jrec_pack(void *blk, const struct ilio_jrec_info *r)
{
	struct ilio_jrec *h = blk;

	h->magic = cpu_to_le32(ILIO_JREC_MAGIC);
	h->csum = 0;
	h->blocknr = cpu_to_le64(r->blocknr);
	h->version = cpu_to_le32(ILIO_FORMAT_VERSION);
	h->nr_ext = cpu_to_le32(r->nr_ext);
	h->seq = cpu_to_le64(r->seq);
	memcpy(h->uuid, r->uuid, sizeof(h->uuid));
	h->bind_gen = cpu_to_le64(r->bind_gen);
	h->blocks = cpu_to_le64(r->blocks);
	h->last_useq = cpu_to_le64(r->last_useq);
}

/**
 * ilio_jrec_unpack() - decode a journal record header, unchecked
 * @blk: at least sizeof(struct ilio_jrec) bytes
 * @r: filled in from the header as it is
 */
void ilio_jrec_unpack(const void *blk, struct ilio_jrec_info *r)
{
	const struct ilio_jrec *h = blk;

	r->blocknr = le64_to_cpu(h->blocknr);
	r->seq = le64_to_cpu(h->seq);
	memcpy(r->uuid, h->uuid, sizeof(r->uuid));
	r->bind_gen = le64_to_cpu(h->bind_gen);
	r->blocks = le64_to_cpu(h->blocks);
	r->nr_ext = le32_to_cpu(h->nr_ext);
	r->last_useq = le64_to_cpu(h->last_useq);
}

/**
 * ilio_jrec_seal() - set the checksum of a complete journal record
 * @rec: the record, header block first
 * @len: its bytes
 */
void ilio_jrec_seal(void *rec, u32 len)
{
	struct ilio_jrec *h = rec;

	h->csum = cpu_to_le32(ilio_csum(rec, len));
}

/**
 * ilio_jext_pack() - write extent @i of a journal record header block
 * @blk: the header block
 * @i: extent index, below ILIO_JREC_MAX_EXT
 * @pos: byte position on the backing device
 * @len: bytes
 */
void ilio_jext_pack(void *blk, u32 i, u64 pos, u32 len)
{
	struct ilio_jext *e = (struct ilio_jext *)((u8 *)blk +
						    sizeof(struct ilio_jrec)) + i;

	e->pos = cpu_to_le64(pos);
	e->len = cpu_to_le32(len);
	e->pad = 0;
}

/**
 * ilio_jext_unpack() - decode extent @i of a journal record header block
 * @blk: the header block
 * @i: extent index, below ILIO_JREC_MAX_EXT
 * @pos: its byte position on the backing device
 * @len: its bytes
 */
void ilio_jext_unpack(const void *blk, u32 i, u64 *pos, u32 *len)
{
	const struct ilio_jext *e =
		(const struct ilio_jext *)((const u8 *)blk +
					   sizeof(struct ilio_jrec)) + i;

	*pos = le64_to_cpu(e->pos);
	*len = le32_to_cpu(e->len);
}

/**
 * ilio_jrec_check_hdr() - is this block the expected journal record?
 * @blk: ILIO_BLOCK_SIZE bytes read at ring block @blocknr
 * @j: the journal superblock (identity and ring size)
 * @g: the store's geometry (where extents may point)
 * @blocknr: ring block it was read from
 * @seq: the record sequence number expected there
 * @why: the reason on failure
 *
 * Checks everything but the checksum, which covers the whole record.
 *
 * Return: 0; -ENOENT when it is not the expected record (the end of the
 * journal); -EINVAL for a record of this journal with impossible fields.
 */
int ilio_jrec_check_hdr(const void *blk, const struct ilio_jsb_info *j,
			const struct ilio_geom *g, u64 blocknr, u64 seq,
			const char **why)
{
	const struct ilio_jrec *h = blk;
	struct ilio_jrec_info r;
	u64 seg_lo = g->seg_start * ILIO_BLOCK_SIZE, seg_hi, data = 0, pos;
	u32 i, len;

	ilio_jrec_unpack(blk, &r);
	if (le32_to_cpu(h->magic) != ILIO_JREC_MAGIC || r.seq != seq ||
	    r.blocknr != blocknr || memcmp(r.uuid, j->uuid, sizeof(r.uuid)) ||
	    r.bind_gen != j->bind_gen ||
	    le32_to_cpu(h->version) != ILIO_FORMAT_VERSION) {
		*why = "end of journal";
		return -ENOENT;
	}
	seg_hi = seg_lo + (u64)g->nr_segs * g->seg_bytes;
	if (!r.nr_ext || r.nr_ext > ILIO_JREC_MAX_EXT || r.blocks < 2 ||
	    r.blocks > j->ring_blocks - blocknr ||
	    r.blocks > ILIO_JREC_MAX_BLOCKS) {
		*why = "journal record has an impossible length";
		return -EINVAL;
	}
	for (i = 0; i < r.nr_ext; i++) {
		ilio_jext_unpack(blk, i, &pos, &len);
		if (!len || len % ILIO_BLOCK_SIZE || pos % ILIO_BLOCK_SIZE ||
		    pos < seg_lo || pos + len > seg_hi ||
		    (pos - seg_lo) / g->seg_bytes !=
		    (pos - seg_lo + len - 1) / g->seg_bytes) {
			*why = "journal record extent outside the store's segments";
			return -EINVAL;
		}
		data += len;
	}
	if (data != (r.blocks - 1) * ILIO_BLOCK_SIZE) {
		*why = "journal record extents do not add up to its length";
		return -EINVAL;
	}
	return 0;
}

/**
 * ilio_jrec_check_body() - verify a whole journal record's checksum
 * @rec: the record (its header passed ilio_jrec_check_hdr())
 * @why: the reason on failure
 *
 * Return: 0, or -ENOENT: a torn record ends the journal.
 */
int ilio_jrec_check_body(const void *rec, const char **why)
{
	const struct ilio_jrec *h = rec;
	u64 blocks = le64_to_cpu(h->blocks);

	if (le32_to_cpu(h->csum) != ilio_csum(rec, blocks * ILIO_BLOCK_SIZE)) {
		*why = "journal record checksum mismatch (torn write)";
		return -ENOENT;
	}
	return 0;
}

/**
 * ilio_loc_check() - can a live chunk be at this location?
 * @loc: the location, as a checkpoint or replay restored it
 * @nr_segs: segments in the store
 * @seg_bytes: segment size
 * @why: the reason on failure
 *
 * 0 and ILIO_LOC_RAW_DAMAGED fail here: a caller that accepts the sentinel
 * tests for it first.
 *
 * Return: 0 when @loc names a record inside a segment of the store whose
 * length is 1..ILIO_BLOCK_SIZE, and exactly ILIO_BLOCK_SIZE unless lz4;
 * -EINVAL otherwise.
 */
int ilio_loc_check(u64 loc, u32 nr_segs, u32 seg_bytes, const char **why)
{
	u32 len = ilio_loc_raw_len(loc);

	if (ilio_loc_raw_seg(loc) >= nr_segs || !len || len > ILIO_BLOCK_SIZE ||
	    ilio_loc_raw_off(loc) + ilio_rec_bytes(len) > seg_bytes ||
	    (!ilio_loc_raw_lz4(loc) && len != ILIO_BLOCK_SIZE)) {
		*why = "a chunk location is outside the device";
		return -EINVAL;
	}
	return 0;
}

/*
 * Class map slots.  The blocks between the anchors and segment 0 are cut
 * in two equal slots; a slot never needs more blocks than the largest map
 * takes (ILIO_CLASS_RANGES_MAX entries).
 */
#define ILIO_CMAP_HDR	sizeof(struct ilio_cmap_hdr)
#define ILIO_CMAP_ENT	sizeof(struct ilio_cmap_ent)

/**
 * ilio_cmap_len() - bytes a slot of @nr entries takes on the device
 * @nr: entries, at most ILIO_CLASS_RANGES_MAX
 *
 * Return: header and entries, rounded up to whole blocks.
 */
u32 ilio_cmap_len(u32 nr)
{
	u32 len = ILIO_CMAP_HDR + nr * ILIO_CMAP_ENT;

	return (len + ILIO_BLOCK_SIZE - 1) & ~(ILIO_BLOCK_SIZE - 1);
}

/**
 * ilio_cmap_slot_blocks() - the blocks of one class map slot
 * @g: validated geometry
 *
 * Return: half the blocks from ILIO_CMAP_BLOCK to segment 0, at most what
 * ILIO_CLASS_RANGES_MAX entries take; 0 when there is no room.
 */
u32 ilio_cmap_slot_blocks(const struct ilio_geom *g)
{
	u64 room = g->seg_start > ILIO_CMAP_BLOCK ?
		(g->seg_start - ILIO_CMAP_BLOCK) / 2 : 0;

	return min_t(u64, room, ilio_cmap_len(ILIO_CLASS_RANGES_MAX) / ILIO_BLOCK_SIZE);
}

/**
 * ilio_cmap_slot_block() - the first block of class map slot @slot
 * @g: validated geometry
 * @slot: 0 or 1
 *
 * Return: its block number.
 */
u64 ilio_cmap_slot_block(const struct ilio_geom *g, unsigned int slot)
{
	return ILIO_CMAP_BLOCK + (u64)(slot & 1) * ilio_cmap_slot_blocks(g);
}

/**
 * ilio_cmap_capacity() - the entries one slot holds
 * @g: validated geometry
 *
 * Return: at most ILIO_CLASS_RANGES_MAX; 0 when the store has no room
 * for a class map (segment 0 at block 8 or before, which format never
 * makes).
 */
u32 ilio_cmap_capacity(const struct ilio_geom *g)
{
	u32 blocks = ilio_cmap_slot_blocks(g);

	if (!blocks)
		return 0;
	return min_t(u32, (blocks * ILIO_BLOCK_SIZE - ILIO_CMAP_HDR) / ILIO_CMAP_ENT,
		     ILIO_CLASS_RANGES_MAX);
}

/**
 * ilio_cmap_limit() - the ranges a saved class map may hold
 * @g: validated geometry
 *
 * Return: what a slot holds, at most ILIO_CLASS_RANGES_DEFAULT: the
 * module's limit for the map of this store, and what a slot it loads may
 * hold (ilioctl info applies the same).
 */
u32 ilio_cmap_limit(const struct ilio_geom *g)
{
	return min_t(u32, ilio_cmap_capacity(g), ILIO_CLASS_RANGES_DEFAULT);
}

/**
 * ilio_cmap_build() - fill a class map slot
 * @buf: ilio_cmap_len(@nr) bytes
 * @g: geometry (uuid, slot position)
 * @slot: 0 or 1
 * @seq: save generation
 * @nr_sectors: the device's logical size in sectors
 * @r: @nr ranges, sorted, not overlapping, none of class normal
 * @nr: at most ilio_cmap_capacity()
 */
void ilio_cmap_build(void *buf, const struct ilio_geom *g, unsigned int slot,
		     u64 seq, u64 nr_sectors, const struct ilio_crange *r,
		     u32 nr)
{
	struct ilio_cmap_hdr *h = buf;
	struct ilio_cmap_ent *e = (struct ilio_cmap_ent *)(h + 1);
	u32 i;

	memset(buf, 0, ilio_cmap_len(nr));
	h->magic = cpu_to_le32(ILIO_CMAP_MAGIC);
	h->blocknr = cpu_to_le64(ilio_cmap_slot_block(g, slot));
	h->version = cpu_to_le32(ILIO_FORMAT_VERSION);
	h->seq = cpu_to_le64(seq);
	memcpy(h->uuid, g->uuid, sizeof(h->uuid));
	h->nr = cpu_to_le32(nr);
	h->nr_sectors = cpu_to_le64(nr_sectors);
	for (i = 0; i < nr; i++) {
		e[i].start = cpu_to_le64(r[i].start);
		e[i].len_cls = cpu_to_le64((r[i].end - r[i].start) |
					   ((u64)r[i].cls << ILIO_CMAP_LEN_BITS));
	}
	h->csum = cpu_to_le32(ilio_csum(buf, ILIO_CMAP_HDR + nr * ILIO_CMAP_ENT));
}

/**
 * ilio_cmap_check_hdr() - validate the header of a class map slot
 * @blk: the slot's first block (ILIO_BLOCK_SIZE bytes)
 * @g: the validated superblock's geometry
 * @slot: which slot it was read from
 * @seq: set to its generation on success
 * @nr: set to its entries on success: at most ilio_cmap_capacity(), so
 *	the caller reads and allocates a bounded ilio_cmap_len(@nr)
 * @why: the reason on failure
 *
 * The checksum covers the entries too: ilio_cmap_check() verifies it.
 *
 * Return: 0; -ENOENT when the block holds no class map at all (no magic:
 * a store formatted before class maps, or never hinted); -EINVAL.
 */
int ilio_cmap_check_hdr(const void *blk, const struct ilio_geom *g,
			unsigned int slot, u64 *seq, u32 *nr, const char **why)
{
	const struct ilio_cmap_hdr *h = blk;

	if (le32_to_cpu(h->magic) != ILIO_CMAP_MAGIC) {
		*why = "no class map";
		return -ENOENT;
	}
	if (le64_to_cpu(h->blocknr) != ilio_cmap_slot_block(g, slot) ||
	    le32_to_cpu(h->version) != ILIO_FORMAT_VERSION || h->flags ||
	    h->pad || memcmp(h->uuid, g->uuid, sizeof(h->uuid))) {
		*why = "class map belongs elsewhere (location, version or uuid)";
		return -EINVAL;
	}
	*seq = le64_to_cpu(h->seq);
	*nr = le32_to_cpu(h->nr);
	if (!*seq || *nr > ilio_cmap_capacity(g)) {
		*why = "class map larger than its slot";
		return -EINVAL;
	}
	return 0;
}

/**
 * ilio_cmap_check() - validate a whole class map slot and decode it
 * @buf: ilio_cmap_len(@nr) bytes; its header passed ilio_cmap_check_hdr()
 * @nr: the header's entry count
 * @nr_sectors: the device's logical size: no range may end past it
 * @out: room for @nr ranges, filled in (also on failure: do not use it)
 * @why: the reason on failure
 *
 * Return: 0, or -EINVAL (checksum, a bad class, an empty, unsorted or
 * overlapping range, or one past the end).
 */
int ilio_cmap_check(const void *buf, u32 nr, u64 nr_sectors,
		    struct ilio_crange *out, const char **why)
{
	const struct ilio_cmap_hdr *h = buf;
	const struct ilio_cmap_ent *e = (const struct ilio_cmap_ent *)(h + 1);
	u64 prev_end = 0;
	u32 i;

	/* No range ends past the size it was saved at, nor past today's. */
	nr_sectors = min_t(u64, nr_sectors, le64_to_cpu(h->nr_sectors));
	if (le32_to_cpu(h->csum) != ilio_csum(buf, ILIO_CMAP_HDR + nr * ILIO_CMAP_ENT)) {
		*why = "class map checksum mismatch";
		return -EINVAL;
	}
	for (i = 0; i < nr; i++) {
		u64 start = le64_to_cpu(e[i].start);
		u64 lc = le64_to_cpu(e[i].len_cls);
		u64 len = lc & ((1ULL << ILIO_CMAP_LEN_BITS) - 1);
		u32 cls = lc >> ILIO_CMAP_LEN_BITS;

		if (!cls || cls > ILIO_CMAP_CLS_MAX || !len ||
		    start < prev_end || start > nr_sectors ||
		    len > nr_sectors - start) {
			*why = "class map range out of order, of no class or past the end";
			return -EINVAL;
		}
		out[i].start = start;
		out[i].end = start + len;
		out[i].cls = cls;
		prev_end = start + len;
	}
	return 0;
}

/**
 * ilio_mmp_build() - fill and seal a multihost record block
 * @blk: ILIO_BLOCK_SIZE bytes, overwritten
 * @uuid: the store's uuid (16 bytes)
 * @m: content; @m->node is cut to ILIO_MMP_NODE_LEN - 1 bytes
 */
void ilio_mmp_build(void *blk, const u8 *uuid, const struct ilio_mmp_info *m)
{
	struct ilio_mmp_rec *r = blk;

	memset(blk, 0, ILIO_BLOCK_SIZE);
	r->magic = cpu_to_le32(ILIO_MMP_MAGIC);
	r->blocknr = cpu_to_le64(ILIO_MMP_BLOCK);
	r->version = cpu_to_le32(ILIO_FORMAT_VERSION);
	r->state = cpu_to_le32(m->state);
	r->seq = cpu_to_le64(m->seq);
	memcpy(r->uuid, uuid, sizeof(r->uuid));
	r->owner = cpu_to_le64(m->owner);
	r->time = cpu_to_le64((u64)m->time);
	r->interval_ms = cpu_to_le32(m->interval_ms);
	r->fence_ms = cpu_to_le32(m->fence_ms);
	strscpy(r->node, m->node, sizeof(r->node));
	r->csum = cpu_to_le32(ilio_csum(blk, ILIO_BLOCK_SIZE));
}

/**
 * ilio_mmp_unpack() - decode a multihost record, unchecked
 * @blk: ILIO_BLOCK_SIZE bytes
 * @m: filled in from the block as it is; @m->node is always terminated
 */
void ilio_mmp_unpack(const void *blk, struct ilio_mmp_info *m)
{
	const struct ilio_mmp_rec *r = blk;

	m->state = le32_to_cpu(r->state);
	m->seq = le64_to_cpu(r->seq);
	m->owner = le64_to_cpu(r->owner);
	m->time = (s64)le64_to_cpu(r->time);
	m->interval_ms = le32_to_cpu(r->interval_ms);
	m->fence_ms = le32_to_cpu(r->fence_ms);
	memcpy(m->node, r->node, sizeof(m->node));
	m->node[sizeof(m->node) - 1] = 0;
}

/**
 * ilio_mmp_check() - validate a multihost record block
 * @blk: ILIO_BLOCK_SIZE bytes read from block ILIO_MMP_BLOCK
 * @uuid: the store's uuid (from its validated superblock)
 * @m: filled in on success
 * @why: the reason on failure
 *
 * Return: 0; -ENOENT when the block holds no record (no magic: a store
 * formatted before the record); -EINVAL when it is damaged, belongs to
 * another store, or names a state or timing out of bounds.
 */
int ilio_mmp_check(const void *blk, const u8 *uuid, struct ilio_mmp_info *m,
		   const char **why)
{
	const struct ilio_mmp_rec *r = blk;

	if (le32_to_cpu(r->magic) != ILIO_MMP_MAGIC) {
		*why = "no multihost record";
		return -ENOENT;
	}
	if (le32_to_cpu(r->csum) != ilio_csum(blk, ILIO_BLOCK_SIZE) ||
	    le64_to_cpu(r->blocknr) != ILIO_MMP_BLOCK ||
	    le32_to_cpu(r->version) != ILIO_FORMAT_VERSION ||
	    memcmp(r->uuid, uuid, sizeof(r->uuid))) {
		*why = "multihost record damaged, misplaced or of another store";
		return -EINVAL;
	}
	ilio_mmp_unpack(blk, m);
	if ((m->state != ILIO_MMP_CLEAN && m->state != ILIO_MMP_ACTIVE) ||
	    m->interval_ms < ILIO_MMP_INTERVAL_MIN_MS ||
	    m->interval_ms > ILIO_MMP_INTERVAL_MAX_MS ||
	    m->fence_ms < m->interval_ms || m->fence_ms > ILIO_MMP_FENCE_MAX_MS) {
		*why = "multihost record state or timing out of bounds";
		return -EINVAL;
	}
	return 0;
}
