// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-check: a full consistency check of a core, the RAM-store fsck.
 *
 * It recounts every reference from the LBA map, re-walks every segment,
 * re-finds every chunk through the index and decodes every chunk to check
 * its hash.  The unit tests run it after every scenario; the dm glue runs
 * it on the "check" message.  It holds the core lock throughout: on a big
 * store it stalls I/O for as long as it takes.
 *
 * Locking: takes ic->lock.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/mutex.h>

#include "ilio-core.h"

#define ILIO_CHECK_FAIL(...) do {			\
	snprintf(why, len, __VA_ARGS__);		\
	ret = -EUCLEAN;					\
	goto out;					\
} while (0)

static int __ilio_check_chunk(struct ilio_core *ic, u32 cid, u8 *buf,
			      u32 *seg_live, char *why, size_t len)
{
	struct ilio_chunks *c = &ic->chunks;
	u64 loc = ilio_chunk_loc(c, cid);
	u32 segno = ilio_loc_seg(loc), off = ilio_loc_off(loc);
	u32 clen = ilio_loc_len(loc);
	const struct ilio_chunk_hdr *hdr;
	struct ilio_seg *seg;
	int ret = 0;
	u32 i;

	if (segno >= ic->segs.nr_segs)
		ILIO_CHECK_FAIL("chunk %u: segment %u out of range", cid, segno);
	seg = &ic->segs.segs[segno];
	if (seg->state != ILIO_SEG_OPEN && seg->state != ILIO_SEG_SEALED)
		ILIO_CHECK_FAIL("chunk %u: segment %u in state %u", cid, segno,
				seg->state);
	if (!clen || clen > ILIO_BLOCK_SIZE || off + ilio_rec_bytes(clen) > seg->used)
		ILIO_CHECK_FAIL("chunk %u: bad extent %u+%u", cid, off, clen);
	hdr = (const void *)(seg->data + off);
	if (le32_to_cpu(hdr->cid) != cid || le16_to_cpu(hdr->len) != clen ||
	    !!(le16_to_cpu(hdr->flags) & ILIO_CHUNK_LZ4) != ilio_loc_lz4(loc))
		ILIO_CHECK_FAIL("chunk %u: record header mismatch", cid);
	if (ilio_loc_lz4(loc)) {
		if (ilio_decompress_block(hdr + 1, clen, buf))
			ILIO_CHECK_FAIL("chunk %u: does not decompress", cid);
	} else {
		if (clen != ILIO_BLOCK_SIZE)
			ILIO_CHECK_FAIL("chunk %u: short raw chunk", cid);
		memcpy(buf, hdr + 1, ILIO_BLOCK_SIZE);
	}
	if (ilio_hash_block(buf) != ilio_chunk_hash(c, cid))
		ILIO_CHECK_FAIL("chunk %u: content does not match its hash", cid);
	if (ilio_block_is_zero(buf))
		ILIO_CHECK_FAIL("chunk %u: a zero block was stored", cid);
	for (i = __ilio_index_first(c, ilio_chunk_hash(c, cid)); i;
	     i = __ilio_index_next(c, i, ilio_chunk_hash(c, cid)))
		if (i == cid)
			break;
	if (!i)
		ILIO_CHECK_FAIL("chunk %u: not in the index", cid);
	seg_live[segno] += ilio_rec_bytes(clen);
out:
	return ret;
}

/**
 * ilio_core_check() - verify every invariant of a core
 * @ic: core
 * @why: where to describe the first inconsistency found
 * @len: size of @why
 *
 * Return: 0 when consistent; -EUCLEAN with @why filled in; -ENOMEM.
 */
int ilio_core_check(struct ilio_core *ic, char *why, size_t len)
{
	struct ilio_chunks *c = &ic->chunks;
	u32 *refs = NULL, *seg_live = NULL, cid, i, nr_free = 0;
	u64 lba, mapped = 0, stored = 0, nr_live = 0;
	u8 *buf = NULL;
	int ret = 0;

	why[0] = '\0';
	mutex_lock(&ic->lock);
	refs = kvcalloc(c->next_new, sizeof(u32), GFP_KERNEL);
	seg_live = kvcalloc(ic->segs.nr_segs, sizeof(u32), GFP_KERNEL);
	buf = kmalloc(ILIO_BLOCK_SIZE, GFP_KERNEL);
	if (!refs || !seg_live || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	for (lba = 0; lba < ic->map.nr_blocks; lba++) {
		cid = __ilio_lbamap_get(&ic->map, lba);
		if (!cid)
			continue;
		if (!ilio_chunk_valid(c, cid))
			ILIO_CHECK_FAIL("lba %llu: maps to dead chunk %u",
					(unsigned long long)lba, cid);
		refs[cid]++;
		mapped++;
	}
	if (mapped != ic->map.mapped)
		ILIO_CHECK_FAIL("mapped count %llu, map says %llu",
				(unsigned long long)mapped,
				(unsigned long long)ic->map.mapped);
	for (cid = 1; cid < c->next_new; cid++) {
		u32 ref = ilio_chunk_ref(c, cid);

		if (!ref)
			continue;
		if (ref != refs[cid])
			ILIO_CHECK_FAIL("chunk %u: refcount %u, %u references",
					cid, ref, refs[cid]);
		ret = __ilio_check_chunk(ic, cid, buf, seg_live, why, len);
		if (ret)
			goto out;
		nr_live++;
		stored += ilio_loc_len(ilio_chunk_loc(c, cid));
	}
	if (nr_live != c->nr_live)
		ILIO_CHECK_FAIL("%llu live chunks, table says %u",
				(unsigned long long)nr_live, c->nr_live);
	if (stored != ic->stored_bytes)
		ILIO_CHECK_FAIL("stored bytes %llu, counter says %llu",
				(unsigned long long)stored,
				(unsigned long long)ic->stored_bytes);
	for (cid = c->free_head; cid; cid = c->dir[cid >> ILIO_CHUNK_LEAF_SHIFT]->next[ILIO_CIDX(cid)]) {
		if (ilio_chunk_ref(c, cid) || ++nr_free > c->next_new)
			ILIO_CHECK_FAIL("free list corrupt at chunk %u", cid);
	}
	if (nr_free + nr_live != c->next_new - 1)
		ILIO_CHECK_FAIL("%u free + %llu live ids, %u handed out",
				nr_free, (unsigned long long)nr_live,
				c->next_new - 1);
	for (i = 0; i < ic->segs.nr_segs; i++) {
		struct ilio_seg *seg = &ic->segs.segs[i];

		if (seg->pins)
			ILIO_CHECK_FAIL("segment %u: pinned while idle", i);
		if (seg->live != seg_live[i])
			ILIO_CHECK_FAIL("segment %u: live %u, chunks hold %u",
					i, seg->live, seg_live[i]);
		if (seg->state == ILIO_SEG_SEALED && !seg->live)
			ILIO_CHECK_FAIL("segment %u: sealed and empty", i);
		if ((seg->state == ILIO_SEG_FREE) != !seg->data)
			ILIO_CHECK_FAIL("segment %u: state %u, data %p", i,
					seg->state, seg->data);
	}
	if (__ilio_ram_used(ic) > ic->ram_limit)
		ILIO_CHECK_FAIL("RAM used above the limit");
out:
	mutex_unlock(&ic->lock);
	kvfree(refs);
	kvfree(seg_live);
	kfree(buf);
	return ret;
}
