// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-codec: libFuzzer target for the decoders of the on-disk codec that
 * fuzz-meta does not reach (dm-ilio/ilio-meta.c and the location layout in
 * dm-ilio/ilio-format.h, the module's own code): unit headers, chunk record
 * headers, summary entries, checkpoint descriptors, LBA-map and chunk leaf
 * entries, and locations, each with its validator.  Proves for any input
 * that no decoder or validator reads outside what it was given (ASan) or
 * hits undefined behaviour (UBSan); that unpack then pack gives back every
 * byte (a field lost by either half is a finding); and that whatever a
 * validator accepts keeps the promise that its callers rely on.
 *
 * Input: a 32-byte parameter header (the geometry the validators see),
 * then a 4 KiB block that is decoded as a unit header, an LBA-map leaf and
 * the record area of a data unit, then any number of 16-byte items, each
 * decoded as a summary entry, a record header, a descriptor, a chunk leaf
 * entry and a location.  A summary entry that names a record sends the
 * record header it points at through ilio_rec_check(), as replay does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <linux/kernel.h>

#include "ilio-format.h"
#include "ilio-meta.h"
#include "ilio-types.h"

#define BS	ILIO_BLOCK_SIZE
#define HDR	32

struct params {
	u64 nr_blocks;	/* taken modulo 2^40 + 1 */
	u32 cid_limit;
	u32 nr_segs;	/* 1 .. ILIO_SEG_MAX */
	u32 seg_shift;	/* 16 + x % 10 */
	u32 rec_bytes;	/* records in the block: x % (BS - 8), 8-aligned */
	u32 index;	/* the LBA-map leaf's number */
	u32 seg;	/* the unit's segment */
} __packed;

_Static_assert(sizeof(struct params) == HDR, "params size");

static void fail(const char *what)
{
	fprintf(stderr, "fuzz-codec: %s\n", what);
	abort();
}

/* The block: unit header, map leaf, records of a data unit at offset 0. */
static void block(const struct params *p, const u8 *blk, u64 nr_blocks)
{
	u32 leaf[ILIO_CKPT_MAP_ENTRIES], k;
	struct ilio_unit_info u;
	const char *why = NULL;
	u8 out[BS];
	bool magic;

	magic = ilio_unit_hdr_unpack(blk, &u);
	if (magic != (le32_to_cpu(((const struct ilio_unit_hdr *)blk)->magic) ==
		      ILIO_UNIT_MAGIC))
		fail("ilio_unit_hdr_unpack misreports the magic");
	memcpy(out, blk, BS);
	ilio_unit_hdr_pack(out, &u);
	{
		const struct ilio_unit_hdr *w = (const void *)out;

		if (le32_to_cpu(w->magic) != ILIO_UNIT_MAGIC || w->csum ||
		    w->flags || w->pad)
			fail("ilio_unit_hdr_pack left magic, csum, flags or pad");
	}
	/* Pack rewrites magic, csum, flags and pad; the rest must be equal. */
	if (memcmp(out + 8, blk + 8, 8) || memcmp(out + 16, blk + 16, 2) ||
	    memcmp(out + 24, blk + 24, sizeof(struct ilio_unit_hdr) - 24) ||
	    memcmp(out + sizeof(struct ilio_unit_hdr), blk + sizeof(struct ilio_unit_hdr),
		   BS - sizeof(struct ilio_unit_hdr)))
		fail("unit header does not survive unpack and pack");

	ilio_ckpt_map_unpack(blk, leaf);
	ilio_ckpt_map_pack(out, leaf);
	if (memcmp(out, blk, BS))
		fail("LBA-map leaf does not survive unpack and pack");
	if (!ilio_ckpt_map_check(blk, p->index, nr_blocks, p->cid_limit, &why)) {
		for (k = 0; k < ILIO_CKPT_MAP_ENTRIES; k++)
			if (leaf[k] > p->cid_limit ||
			    (leaf[k] && (u64)p->index * ILIO_CKPT_MAP_ENTRIES + k >= nr_blocks))
				fail("ilio_ckpt_map_check accepted an invalid id");
	} else if (!why) {
		fail("ilio_ckpt_map_check refused without a reason");
	}
}

/* One record header at byte @off of the records [0, @end). */
static void record(const struct params *p, const u8 *blk, u32 off, u32 end)
{
	const struct ilio_chunk_hdr *h = (const void *)(blk + off);
	struct ilio_rec_info r;
	struct ilio_chunk_hdr h2;
	const char *why = NULL;
	u64 loc;

	ilio_rec_unpack(h, &r);
	ilio_rec_pack(&h2, &r);
	if (memcmp(h, &h2, sizeof(h2)))
		fail("record header does not survive unpack and pack");
	if (ilio_rec_fits(&r, off, end) &&
	    (!r.len || r.len > BS || off + ilio_rec_bytes(r.len) > end))
		fail("ilio_rec_fits accepted a record that leaves its unit");
	if (ilio_rec_check(&r, off, end, p->cid_limit, &why)) {
		if (!why)
			fail("ilio_rec_check refused without a reason");
		return;
	}
	if (!r.cid || r.cid > p->cid_limit || r.flags & ~ILIO_CHUNK_LZ4 ||
	    !ilio_rec_fits(&r, off, end))
		fail("ilio_rec_check accepted an invalid record");
	loc = ilio_rec_make_loc(p->seg % ILIO_SEG_MAX, off, &r);
	if (!ilio_rec_matches(&r, r.cid, loc) || ilio_loc_off(loc) != off ||
	    ilio_loc_len(loc) != r.len)
		fail("a valid record does not match its own location");
}

/* One 16-byte item, decoded as every small on-disk type. */
static void item(const struct params *p, const u8 *blk, const u8 *it,
		 u64 nr_blocks, u32 nr_segs, u32 seg_bytes, u32 rend)
{
	struct ilio_sum_info s;
	struct ilio_sum_ent e;
	struct ilio_desc_info di;
	struct ilio_ckpt_desc d;
	struct ilio_ckpt_chunk c;
	struct ilio_rec_info r;
	const char *why = NULL;
	u64 loc, hash, x;

	ilio_sum_unpack((const void *)it, &s);
	ilio_sum_pack(&e, &s);
	if (memcmp(&e, it, sizeof(e)))
		fail("summary entry does not survive unpack and pack");
	if (!ilio_sum_check(&s, nr_blocks, p->cid_limit, 0, rend, &why)) {
		switch (s.kind) {
		case ILIO_SUM_MAP:
			if (s.arg >= nr_blocks || !s.val || s.val > p->cid_limit)
				fail("ilio_sum_check accepted a bad map entry");
			break;
		case ILIO_SUM_UNMAP:
			if (s.arg >= nr_blocks || s.arg + s.val > nr_blocks)
				fail("ilio_sum_check accepted a bad unmap entry");
			break;
		case ILIO_SUM_CHUNK:
			if (s.arg % ILIO_CHUNK_ALIGN ||
			    s.arg + sizeof(struct ilio_chunk_hdr) > rend)
				fail("ilio_sum_check accepted a record outside the unit");
			/* As replay does: the header the entry names. */
			record(p, blk, (u32)s.arg, rend);
			break;
		default:
			fail("ilio_sum_check accepted an unknown kind");
		}
	} else if (!why) {
		fail("ilio_sum_check refused without a reason");
	}

	ilio_ckpt_desc_unpack((const void *)it, &di);
	ilio_ckpt_desc_pack(&d, &di);
	if (memcmp(&d, it, sizeof(d)))
		fail("descriptor does not survive unpack and pack");

	ilio_ckpt_chunk_unpack((const void *)it, &loc, &hash);
	ilio_ckpt_chunk_pack(&c, loc, hash);
	if (memcmp(&c, it, sizeof(c)))
		fail("chunk leaf entry does not survive unpack and pack");

	/* The location codec: every bit is in exactly one field. */
	x = ilio_loc_make(ilio_loc_seg(loc), ilio_loc_off(loc), ilio_loc_len(loc),
			  ilio_loc_lz4(loc));
	if (x != loc)
		fail("location does not survive decode and encode");
	why = NULL;
	if (!ilio_loc_check(loc, nr_segs, seg_bytes, &why)) {
		u32 len = ilio_loc_len(loc);

		if (ilio_loc_damaged(loc) || ilio_loc_seg(loc) >= nr_segs || !len ||
		    len > BS || (u64)ilio_loc_off(loc) + ilio_rec_bytes(len) > seg_bytes ||
		    (!ilio_loc_lz4(loc) && len != BS))
			fail("ilio_loc_check accepted a location outside the store");
		/* A record there, as the chunk table would find it. */
		r.cid = 1;
		r.len = len;
		r.flags = ilio_loc_lz4(loc) ? ILIO_CHUNK_LZ4 : 0;
		if (!ilio_rec_matches(&r, 1, loc) ||
		    ilio_rec_make_loc(ilio_loc_seg(loc), ilio_loc_off(loc), &r) != loc)
			fail("a valid location does not name its own record");
	} else if (!why) {
		fail("ilio_loc_check refused without a reason");
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static u8 blk[BS];
	struct params p;
	u64 nr_blocks;
	u32 nr_segs, seg_bytes, rend;
	u8 it[16];
	size_t n;

	if (size < HDR)
		return 0;
	memcpy(&p, data, HDR);
	data += HDR;
	size -= HDR;
	nr_blocks = p.nr_blocks % ((1ULL << 40) + 1);
	nr_segs = p.nr_segs % ILIO_SEG_MAX + 1;
	seg_bytes = 1U << (16 + p.seg_shift % 10);
	rend = (p.rec_bytes % (BS - 8)) & ~(ILIO_CHUNK_ALIGN - 1);

	memset(blk, 0, BS);
	n = size < BS ? size : BS;
	memcpy(blk, data, n);
	data += n;
	size -= n;
	block(&p, blk, nr_blocks);

	while (size) {
		n = size < sizeof(it) ? size : sizeof(it);
		memset(it, 0, sizeof(it));
		memcpy(it, data, n);
		data += n;
		size -= n;
		item(&p, blk, it, nr_blocks, nr_segs, seg_bytes, rend);
	}
	return 0;
}
