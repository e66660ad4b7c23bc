// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-space: the shared state of a core and its store - its life cycle,
 * the RAM budget, and the operations on records that both sides need.
 *
 * Locking: sp->lock protects everything; functions named __ilio_* expect
 * it held.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/rwsem.h>
#include <linux/lockdep.h>
#include <linux/vmalloc.h>
#include <linux/sched/mm.h>

#include "ilio-space.h"
#include "ilio-compress.h"
#include "ilio-args.h"

/**
 * ilio_space_init() - empty maps, no segments yet
 * @sp: space (its memory is overwritten)
 * @nr_blocks: logical size in 4 KiB blocks
 * @ram_limit: RAM budget in bytes
 * @seg_bytes: segment size (the map's directory must fit the budget with
 *	two segments to spare)
 *
 * The store adds the segments.  On failure @sp may be passed to
 * ilio_space_exit() all the same.
 *
 * Return: 0; -ENOMEM; -E2BIG when the LBA map's directory does not fit
 * the RAM budget; -EFBIG above ILIO_LBAMAP_MAX_BLOCKS.
 */
int ilio_space_init(struct ilio_space *sp, u64 nr_blocks, u64 ram_limit,
		    u32 seg_bytes)
{
	int ret, i;

	memset(sp, 0, sizeof(*sp));
	init_rwsem(&sp->lock);
	for (i = 0; i < ILIO_NR_CLASSES; i++)
		atomic64_set(&sp->shared_hits[i], 0);
	sp->ram_limit = ram_limit;
	ret = ilio_lbamap_init(&sp->map, nr_blocks,
			       ilio_budget_map_bytes(ram_limit, seg_bytes),
			       &sp->lock);
	if (!ret)
		ret = ilio_chunks_init(&sp->chunks, &sp->lock);
	/* The write path's reserve of leaves (its segment buffer: ilio-seg.c). */
	if (!ret) {
		sp->map.spare = ilio_lbamap_alloc_leaf(GFP_KERNEL);
		sp->chunks.spare = kvmalloc(sizeof(*sp->chunks.spare), GFP_KERNEL);
		if (!sp->map.spare || !sp->chunks.spare)
			ret = -ENOMEM;
	}
	return ret;
}

/**
 * ilio_space_exit() - free the leaves (the store freed its own part)
 * @sp: space, initialised (successfully or not)
 */
void ilio_space_exit(struct ilio_space *sp)
{
	if (sp->cached)
		ilio_cache_exit(&sp->cache);
	sp->cached = false;
	ilio_segs_exit(&sp->segs);
	ilio_chunks_exit(&sp->chunks);
	ilio_lbamap_exit(&sp->map);
}

/**
 * __ilio_meta_bytes() - metadata charged to the budget
 * @sp: space, locked
 *
 * Return: bytes of the maps, the segment table, its index and reserve,
 * the store's own state, the core's class map and the cache's entries.
 */
u64 __ilio_meta_bytes(struct ilio_space *sp)
{
	u64 b = ilio_lbamap_mem_bytes(&sp->map) +
		ilio_chunks_mem_bytes(&sp->chunks) +
		(u64)sp->segs.nr_segs * sizeof(struct ilio_seg) +
		ilio_segs_reserve_bytes(&sp->segs) +
		ilio_segs_index_bytes(&sp->segs) + sp->store_bytes +
		sp->class_bytes;

	if (sp->cached)
		b += ilio_cache_meta_bytes(&sp->cache);
	return b;
}

/**
 * __ilio_ram_used() - RAM charged to the budget: segments plus metadata
 * @sp: space, locked
 *
 * Return: bytes.
 */
u64 __ilio_ram_used(struct ilio_space *sp)
{
	lockdep_assert_held_write(&sp->lock);
	return __ilio_meta_bytes(sp) +
	       (sp->cached ? ilio_cache_bytes(&sp->cache) : 0) +
	       (u64)sp->segs.nr_resident * sp->segs.seg_bytes;
}

/**
 * __ilio_ram_trim() - give recycled segment buffers back until @bytes fit
 * @sp: space, locked
 * @bytes: the charge to get down to
 *
 * Recycled buffers (ILIO_SEG_POOL) are idle RAM: whatever needs the
 * budget gets their room before the cache or the log gives anything up.
 */
void __ilio_ram_trim(struct ilio_space *sp, u64 bytes)
{
	while (__ilio_ram_used(sp) > bytes && __ilio_seg_pool_trim(&sp->segs))
		;
}

/**
 * __ilio_ram_allows() - would @extra more bytes fit in the RAM budget?
 * @sp: space, locked
 * @extra: bytes
 *
 * Recycled segment buffers are given back first if that makes them fit.
 *
 * Return: true when they would.
 */
bool __ilio_ram_allows(struct ilio_space *sp, u64 extra)
{
	if (extra <= sp->ram_limit)
		__ilio_ram_trim(sp, sp->ram_limit - extra);
	return __ilio_ram_used(sp) + extra <= sp->ram_limit;
}

/**
 * __ilio_chunk_drop() - drop one reference; release the space on the last
 * @sp: space, locked
 * @cid: chunk id, or 0 (nothing to do)
 */
void __ilio_chunk_drop(struct ilio_space *sp, ilio_cid_t cid)
{
	ilio_loc_t loc;

	if (!cid)
		return;
	loc = ilio_chunk_loc(&sp->chunks, cid);
	if (__ilio_chunk_put(&sp->chunks, cid))
		return;
	if (sp->cached)
		__ilio_cache_remove(&sp->cache, cid);
	if (!loc)
		return;		/* never stored: a failed write */
	if (ilio_loc_damaged(loc)) {
		sp->nr_damaged--;
		return;		/* its record was released when found damaged */
	}
	sp->stored_bytes -= ilio_loc_len(loc);
	__ilio_seg_release_bytes(&sp->segs, loc);
}

/**
 * ilio_load_payload() - decode a stored payload
 * @p: the payload
 * @loc: the location it was stored with (length, lz4 flag)
 * @block: ILIO_BLOCK_SIZE bytes of output
 *
 * Return: 0, or -EIO when it does not decode.
 */
int ilio_load_payload(const u8 *p, ilio_loc_t loc, void *block)
{
	if (ilio_loc_lz4(loc))
		return ilio_decompress_block(p, ilio_loc_len(loc), block);
	if (ilio_loc_len(loc) != ILIO_BLOCK_SIZE)
		return -EIO;
	memcpy(block, p, ILIO_BLOCK_SIZE);
	return 0;
}

/**
 * __ilio_hist_write() - count a backend write in the size histogram
 * @st: counters
 * @len: bytes written
 */
void __ilio_hist_write(struct ilio_stats *st, u32 len)
{
	unsigned int b = 0;

	while (b < ILIO_WHIST_BUCKETS - 1 && len > (ILIO_BLOCK_SIZE << b))
		b++;
	st->backend_write_hist[b]++;
}

/*
 * How do compaction and GC move a record?
 *
 *   The same way: a record found in a victim segment is moved only when
 *   its chunk still points at it (a dead record is skipped, a record that
 *   was moved already too).  The store puts the payload somewhere else
 *   (@store: the RAM store appends to another RAM segment, the persistent
 *   store verifies what it read from the device and appends it to the
 *   log), then the chunk is repointed - one table entry, whatever the
 *   number of LBAs that share it - and the old record's bytes are
 *   released, which frees the victim after its last live record.
 */

/**
 * __ilio_move_record() - move a live record out of its segment
 * @sp: space, locked
 * @cid: the chunk the record's header names
 * @old: the record's location
 * @payload: its payload (in the victim's buffer, or a copy read from the
 *	device)
 * @store: puts the payload elsewhere; returns 0 with the new location,
 *	1 when it dealt with the record itself (nothing to repoint), or a
 *	negative errno
 * @priv: for @store
 * @moved_bytes: the record bytes moved are added to it
 *
 * Return: 0 (moved, or nothing to move), or what @store returned when it
 * failed.
 */
int __ilio_move_record(struct ilio_space *sp, ilio_cid_t cid, ilio_loc_t old,
		       const void *payload, ilio_move_fn store, void *priv,
		       u64 *moved_bytes)
{
	ilio_loc_t nloc;
	int ret;

	lockdep_assert_held_write(&sp->lock);
	if (!ilio_chunk_valid(&sp->chunks, cid) ||
	    ilio_chunk_loc(&sp->chunks, cid) != old)
		return 0;
	ret = store(priv, cid, payload, ilio_loc_len(old), ilio_loc_lz4(old),
		    &nloc);
	if (ret)
		return ret < 0 ? ret : 0;
	ilio_chunk_set_loc(&sp->chunks, cid, nloc);
	__ilio_seg_release_bytes(&sp->segs, old);
	*moved_bytes += ilio_rec_bytes(ilio_loc_len(old));
	return 0;
}

/*
 * Refill the write path's reserves (segment buffer, map leaf, chunk leaf,
 * a chunk directory with a free slot) with the lock dropped, so that the
 * allocator may reclaim and retry.  A piece goes in only when the budget
 * has room for it.  Return: how many pieces went in.
 */
static int ilio_space_refill(struct ilio_space *sp)
{
	struct ilio_chunk_leaf *cleaf = NULL, **dir = NULL;
	bool want_seg, want_map, want_chunk;
	ilio_cid_t *mleaf = NULL;
	u32 cap;
	u8 *seg = NULL;
	int n = 0;

	down_write(&sp->lock);
	want_seg = __ilio_seg_reserve_short(&sp->segs);
	want_map = !sp->map.spare;
	want_chunk = !sp->chunks.spare;
	cap = __ilio_chunk_dir_want(&sp->chunks);
	up_write(&sp->lock);

	if (want_map)
		mleaf = ilio_lbamap_alloc_leaf(ILIO_GFP_WAIT);
	if (want_chunk)
		cleaf = kvmalloc(sizeof(*cleaf), ILIO_GFP_WAIT);
	if (cap)
		dir = kvcalloc(cap, sizeof(*dir), ILIO_GFP_WAIT);
	if (want_seg)
		seg = ilio_seg_alloc_wait(&sp->segs);

	down_write(&sp->lock);
	if (dir && cap > sp->chunks.dir_cap &&
	    __ilio_ram_allows(sp, (u64)(cap - sp->chunks.dir_cap) * sizeof(*dir)) &&
	    __ilio_chunk_set_dir(&sp->chunks, dir, cap)) {
		dir = NULL;
		n++;
	}
	if (mleaf && __ilio_ram_allows(sp, ILIO_LBAMAP_LEAF_ENTRIES * sizeof(u32)) &&
	    __ilio_lbamap_add_spare(&sp->map, mleaf)) {
		mleaf = NULL;
		n++;
	}
	if (cleaf && __ilio_ram_allows(sp, sizeof(*cleaf)) &&
	    __ilio_chunk_add_spare(&sp->chunks, cleaf)) {
		cleaf = NULL;
		n++;
	}
	if (seg && __ilio_ram_allows(sp, sp->segs.seg_bytes) &&
	    __ilio_seg_reserve_short(&sp->segs)) {
		__ilio_seg_put_buf(&sp->segs, seg);
		seg = NULL;
		n++;
	}
	up_write(&sp->lock);
	kvfree(dir);
	kvfree(mleaf);
	kvfree(cleaf);
	vfree(seg);
	return n;
}

/**
 * ilio_space_relieve() - a writer met memory pressure: refill, or wait
 * @sp: space, unlocked
 *
 * Refills the write path's reserves with the lock dropped, and waits a
 * little (memalloc_retry_wait()) when that brought nothing.  It sleeps:
 * for workers only, never for the dm map function.  The store has
 * written back first, when it has anything to write back.
 */
void ilio_space_relieve(struct ilio_space *sp)
{
	if (!ilio_space_refill(sp))
		memalloc_retry_wait(ILIO_GFP_WAIT);
}
