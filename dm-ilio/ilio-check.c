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
 * It is exact on a busy store: readers and duplicate comparisons that
 * work with the lock dropped keep a segment pin (and a chunk reference)
 * and list themselves in ic->holds (ilio-core.c).  Pins and references
 * are checked against that list, one for one - an in-flight reader is not
 * an error, a pin or reference that no reader holds is.
 *
 * Locking: takes ic->sp.lock.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/mutex.h>
#include <linux/stdarg.h>
#include <linux/compiler.h>
#include <linux/sched.h>
#include <linux/list.h>

#include "ilio-core.h"
#include "ilio-meta.h"

/* Describe an inconsistency in @why; returns -EUCLEAN. */
static __printf(3, 4) int ilio_bad(char *why, size_t len, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(why, len, fmt, args);
	va_end(args);
	return -EUCLEAN;
}

static int __ilio_check_chunk(struct ilio_core *ic, ilio_cid_t cid, u8 *buf,
			      u32 *seg_live, char *why, size_t len)
{
	struct ilio_chunks *c = &ic->sp.chunks;
	ilio_loc_t loc = ilio_chunk_loc(c, cid);
	u32 segno = ilio_loc_seg(loc), off = ilio_loc_off(loc);
	u32 clen = ilio_loc_len(loc);
	const struct ilio_chunk_hdr *hdr;
	struct ilio_rec_info ri;
	struct ilio_seg *seg;
	int ret = 0;
	ilio_cid_t i;

	if (ilio_loc_damaged(loc)) {
		ret = ilio_bad(why, len, "chunk %u: damaged on the device (its LBAs read as EIO)",
			       cid);
		goto out;
	}
	if (segno >= ic->sp.segs.nr_segs) {
		ret = ilio_bad(why, len, "chunk %u: segment %u out of range", cid, segno);
		goto out;
	}
	seg = &ic->sp.segs.segs[segno];
	if (seg->state != ILIO_SEG_OPEN && seg->state != ILIO_SEG_SEALED) {
		ret = ilio_bad(why, len, "chunk %u: segment %u in state %u", cid, segno,
			       seg->state);
		goto out;
	}
	if (!clen || clen > ILIO_BLOCK_SIZE || off + ilio_rec_bytes(clen) > seg->used) {
		ret = ilio_bad(why, len, "chunk %u: bad extent %u+%u", cid, off, clen);
		goto out;
	}
	if (!seg->data) {
		/* Persistent, on the device only: cache or a read (under the lock). */
		ret = ic->store->ops->load_locked(ic->store, loc, cid, buf);
		if (ret) {
			ret = ilio_bad(why, len, "chunk %u: cannot be loaded: %d", cid, ret);
			goto out;
		}
		goto loaded;
	}
	hdr = (const void *)(seg->data + off);
	ilio_rec_unpack(hdr, &ri);
	if (!ilio_rec_matches(&ri, ilio_from_cid(cid), ilio_from_loc(loc))) {
		ret = ilio_bad(why, len, "chunk %u: record header mismatch", cid);
		goto out;
	}
	if (ilio_loc_lz4(loc)) {
		if (ilio_decompress_block(hdr + 1, clen, buf)) {
			ret = ilio_bad(why, len, "chunk %u: does not decompress", cid);
			goto out;
		}
	} else {
		if (clen != ILIO_BLOCK_SIZE) {
			ret = ilio_bad(why, len, "chunk %u: short raw chunk", cid);
			goto out;
		}
		memcpy(buf, hdr + 1, ILIO_BLOCK_SIZE);
	}
loaded:
	if (ilio_hash_block(buf, ic->sp.hash_seed) != ilio_chunk_hash(c, cid)) {
		ret = ilio_bad(why, len, "chunk %u: content does not match its hash", cid);
		goto out;
	}
	if (ilio_block_is_zero(buf)) {
		ret = ilio_bad(why, len, "chunk %u: a zero block was stored", cid);
		goto out;
	}
	for (i = __ilio_index_first(c, ilio_chunk_hash(c, cid)); i;
	     i = __ilio_index_next(c, i, ilio_chunk_hash(c, cid)))
		if (i == cid)
			break;
	if (!i) {
		ret = ilio_bad(why, len, "chunk %u: not in the index", cid);
		goto out;
	}
	seg_live[segno] += ilio_rec_bytes(clen);
out:
	return ret;
}

/* Readers in flight on segment @seg (ic->holds). */
static u32 __ilio_check_held(struct ilio_core *ic, u32 seg)
{
	struct ilio_hold *h;
	u32 n = 0;

	list_for_each_entry(h, &ic->holds, node)
		n += h->seg == seg;
	return n;
}

/**
 * ilio_core_check() - verify every invariant of a core
 * @ic: core
 * @why: where to describe the first inconsistency found; when there is
 *	none, it says how many readers in flight the check accounted for
 * @len: size of @why
 *
 * Return: 0 when consistent; -EUCLEAN with @why filled in; -ENOMEM.
 */
int ilio_core_check(struct ilio_core *ic, char *why, size_t len)
{
	struct ilio_chunks *c = &ic->sp.chunks;
	u32 *refs = NULL, *seg_live = NULL, id, i, nr_free = 0;
	ilio_cid_t cid;
	u64 lba, mapped = 0, stored = 0, nr_live = 0;
	struct ilio_hold *h;
	u8 *buf = NULL;
	int ret = 0;

	why[0] = '\0';
	down_write(&ic->sp.lock);
	refs = kvcalloc(c->next_new, sizeof(u32), GFP_KERNEL | __GFP_NOWARN);
	seg_live = kvcalloc(ic->sp.segs.nr_segs, sizeof(u32), GFP_KERNEL);
	buf = kmalloc(ILIO_BLOCK_SIZE, GFP_KERNEL);
	if (!refs || !seg_live || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	for (lba = 0; lba < ic->sp.map.nr_blocks; lba++) {
		if (!(lba & 0xffff))
			cond_resched();
		if (!ic->sp.map.dir[lba >> ILIO_LBAMAP_LEAF_SHIFT]) {
			lba |= ILIO_LBAMAP_LEAF_ENTRIES - 1;	/* an absent leaf maps nothing */
			continue;
		}
		cid = __ilio_lbamap_get(&ic->sp.map, ilio_to_lba(lba));
		if (!cid)
			continue;
		if (!ilio_chunk_valid(c, cid)) {
			ret = ilio_bad(why, len, "lba %llu: maps to dead chunk %u",
				       (unsigned long long)lba, cid);
			goto out;
		}
		refs[ilio_from_cid(cid)]++;
		mapped++;
	}
	/* References that readers in flight hold. */
	list_for_each_entry(h, &ic->holds, node) {
		if (h->seg >= ic->sp.segs.nr_segs ||
		    (h->cid && !ilio_chunk_valid(c, h->cid))) {
			ret = ilio_bad(why, len, "reader holds segment %u, chunk %u: bad",
				       h->seg, h->cid);
			goto out;
		}
		if (h->cid)
			refs[ilio_from_cid(h->cid)]++;
	}
	if (mapped != ic->sp.map.mapped) {
		ret = ilio_bad(why, len, "mapped count %llu, map says %llu",
			       (unsigned long long)mapped,
			      (unsigned long long)ic->sp.map.mapped);
		goto out;
	}
	for (id = 1; id < c->next_new; id++) {
		u32 ref;

		cid = ilio_to_cid(id);
		ref = ilio_chunk_ref(c, cid);
		if (!(id & 0xfff))
			cond_resched();
		if (!ref)
			continue;
		if (ref != refs[id]) {
			ret = ilio_bad(why, len, "chunk %u: refcount %u, %u references",
				       id, ref, refs[id]);
			goto out;
		}
		ret = __ilio_check_chunk(ic, cid, buf, seg_live, why, len);
		if (ret)
			goto out;
		nr_live++;
		stored += ilio_loc_len(ilio_chunk_loc(c, cid));
	}
	if (nr_live != c->nr_live) {
		ret = ilio_bad(why, len, "%llu live chunks, table says %u",
			       (unsigned long long)nr_live, c->nr_live);
		goto out;
	}
	if (stored != ic->sp.stored_bytes) {
		ret = ilio_bad(why, len, "stored bytes %llu, counter says %llu",
			       (unsigned long long)stored,
			      (unsigned long long)ic->sp.stored_bytes);
		goto out;
	}
	for (cid = c->free_head; cid;
	     cid = ilio_chunk_leaf(c, cid)->next[ILIO_CIDX(cid)]) {
		if (ilio_chunk_ref(c, cid) || ++nr_free > c->next_new) {
			ret = ilio_bad(why, len, "free list corrupt at chunk %u", cid);
			goto out;
		}
	}
	if (nr_free + nr_live != c->next_new - 1) {
		ret = ilio_bad(why, len, "%u free + %llu live ids, %u handed out",
			       nr_free, (unsigned long long)nr_live,
			      c->next_new - 1);
		goto out;
	}
	for (i = 0; i < ic->sp.segs.nr_segs; i++) {
		struct ilio_seg *seg = &ic->sp.segs.segs[i];
		bool is_free = seg->state == ILIO_SEG_FREE;

		if (ic->persistent) {
			if (seg->live != seg_live[i]) {
				ret = ilio_bad(why, len, "segment %u: live %u, chunks hold %u",
					       i, seg->live, seg_live[i]);
				goto out;
			}
			continue;
		}
		if (seg->pins != __ilio_check_held(ic, i)) {
			ret = ilio_bad(why, len, "segment %u: %u pins, %u readers hold it",
				       i, seg->pins, __ilio_check_held(ic, i));
			goto out;
		}
		if (seg->live != seg_live[i]) {
			ret = ilio_bad(why, len, "segment %u: live %u, chunks hold %u",
				       i, seg->live, seg_live[i]);
			goto out;
		}
		/* Emptied under a reader's pin: released at the last unpin. */
		if (seg->release_pending && !seg->pins) {
			ret = ilio_bad(why, len, "segment %u: release pending, not pinned", i);
			goto out;
		}
		if (seg->state == ILIO_SEG_SEALED && !seg->live &&
		    !seg->release_pending) {
			ret = ilio_bad(why, len, "segment %u: sealed and empty", i);
			goto out;
		}
		if (!seg->data != is_free) {
			ret = ilio_bad(why, len, "segment %u: state %u, data %p", i,
				       seg->state, seg->data);
			goto out;
		}
	}
	if (ic->persistent) {
		const char *bad = __ilio_segs_check_index(&ic->sp.segs, &i);

		if (bad) {
			ret = ilio_bad(why, len, "segment %u: %s", i, bad);
			goto out;
		}
	}
	if (__ilio_ram_used(&ic->sp) > ic->sp.ram_limit) {
		ret = ilio_bad(why, len, "RAM used above the limit");
		goto out;
	}
	i = 0;
	list_for_each_entry(h, &ic->holds, node)
		i++;
	snprintf(why, len, "%u in flight", i);
out:
	up_write(&ic->sp.lock);
	kvfree(refs);
	kvfree(seg_live);
	kfree(buf);
	return ret;
}
