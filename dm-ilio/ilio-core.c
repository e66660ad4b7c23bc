// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-core: store, find and load 4 KiB blocks.
 *
 * Locking: ic->lock (a mutex) protects the map, the chunk table, the
 * index, the segments and the statistics; see ilio-core.h.  Functions
 * named __ilio_* expect it held.
 *
 * How does a write find its duplicate, and why is sharing never false?
 *
 *   The block is hashed (xxh64, seeded with the store's secret key)
 *   outside the lock.  Under the lock, the index yields the live chunks
 *   with an equal hash, newest first, and each candidate is compared with
 *   the new block byte for byte (decompressing it into the caller's
 *   scratch buffer first when it is compressed).  Only an identical
 *   candidate is shared.  The hash is a filter, not a proof: a build
 *   whose hash keeps only 8 bits stores exactly the same data, it just
 *   compares more candidates (tests/unit proves it).
 *
 * What stops a guest from making every write walk thousands of forged
 * collisions?
 *
 *   The key makes a generic forgery impossible without it, but xxh64 is
 *   not a PRF: some forgeries collide under any key.  What bounds the
 *   cost is the candidate budget (ILIO_DEDUP_BUDGET in ilio-core.h): a
 *   lookup stops after a few compares, two decodes or one device read,
 *   and the block is stored instead (dedup_candidates_capped).
 *
 * How is space reclaimed?
 *
 *   A chunk whose last reference goes releases its record bytes in its
 *   segment; a sealed segment with no live byte left is freed at once.
 *   When a store finds no room and the RAM budget allows no new segment,
 *   the compactor empties the sealed segment with the fewest live bytes:
 *   it walks the segment's records, re-appends each record that its chunk
 *   still points at, and repoints the chunk (one table entry, whatever
 *   the number of LBAs that share it).  The compactor may use the spare
 *   segment, so it never needs a fresh allocation to make room.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/string.h>
#include <linux/mutex.h>
#include <linux/lockdep.h>
#include <linux/bug.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <asm/byteorder.h>

#include "ilio-core.h"
#include "ilio-plog.h"

static u64 __ilio_meta_bytes(struct ilio_core *ic)
{
	u64 b = ilio_lbamap_mem_bytes(&ic->map) +
		ilio_chunks_mem_bytes(&ic->chunks) +
		(u64)ic->segs.nr_segs * sizeof(struct ilio_seg) +
		ilio_segs_reserve_bytes(&ic->segs) +
		ilio_segs_index_bytes(&ic->segs);

	if (ic->pl)
		b += ilio_plog_mem_bytes(ic->pl) + ilio_cache_meta_bytes(&ic->cache);
	return b;
}

/**
 * __ilio_ram_used() - RAM charged to the budget: segments plus metadata
 * @ic: core, locked
 *
 * Return: bytes.
 */
u64 __ilio_ram_used(struct ilio_core *ic)
{
	lockdep_assert_held(&ic->lock);
	return __ilio_meta_bytes(ic) + ilio_cache_bytes(&ic->cache) +
	       (u64)ic->segs.nr_resident * ic->segs.seg_bytes;
}

/**
 * __ilio_ram_allows() - would @extra more bytes fit in the RAM budget?
 * @ic: core, locked
 * @extra: bytes
 *
 * Return: true when they would.
 */
bool __ilio_ram_allows(struct ilio_core *ic, u64 extra)
{
	return __ilio_ram_used(ic) + extra <= ic->ram_limit;
}

/**
 * __ilio_chunk_drop() - drop one reference; release the space on the last
 * @ic: core, locked
 * @cid: chunk id, or 0 (nothing to do)
 */
void __ilio_chunk_drop(struct ilio_core *ic, u32 cid)
{
	u64 loc;

	if (!cid)
		return;
	loc = ilio_chunk_loc(&ic->chunks, cid);
	if (__ilio_chunk_put(&ic->chunks, cid))
		return;
	if (ic->pl)
		__ilio_cache_remove(&ic->cache, cid);
	if (!loc)
		return;		/* never stored: a failed write */
	if (ilio_loc_damaged(loc)) {
		ic->nr_damaged--;
		return;		/* its record was released when found damaged */
	}
	ic->stored_bytes -= ilio_loc_len(loc);
	__ilio_seg_release_bytes(&ic->segs, loc);
}

/*
 * How does the check stay exact while readers work unlocked?
 *
 *   A call that drops the lock while it keeps a segment pinned (and, to
 *   compare a duplicate candidate, a chunk reference) links a struct
 *   ilio_hold on its stack into ic->holds first, and unlinks it once it
 *   has the lock back.  ilio_core_check() holds the lock throughout, so
 *   the list is exactly what is in flight: a pin or a reference that the
 *   list does not explain is an inconsistency, and nothing that it
 *   explains is one.  Nobody waits for the check, and the check waits for
 *   nobody.
 */
static void __ilio_hold(struct ilio_core *ic, struct ilio_hold *h, u32 seg,
			u32 cid)
{
	lockdep_assert_held(&ic->lock);
	h->seg = seg;
	h->cid = cid;
	__ilio_seg_pin(&ic->segs, seg);
	if (cid)
		__ilio_chunk_get(&ic->chunks, cid);
	list_add(&h->node, &ic->holds);
}

/* The lock is back: the pin goes, a chunk reference stays the caller's. */
static void __ilio_unhold(struct ilio_core *ic, struct ilio_hold *h)
{
	lockdep_assert_held(&ic->lock);
	list_del(&h->node);
	__ilio_seg_unpin(&ic->segs, h->seg);
}

static const u8 *__ilio_loc_payload(struct ilio_core *ic, u64 loc)
{
	return ic->segs.segs[ilio_loc_seg(loc)].data + ilio_loc_off(loc) +
	       sizeof(struct ilio_chunk_hdr);
}

static int __ilio_store(struct ilio_core *ic, u32 cid, const void *payload,
			u32 len, bool lz4, bool gc, u64 *loc);

/*
 * Empty the sealed segment with the fewest live bytes, if it has at most
 * @max_live of them.  Return: 0, or -ENOSPC when there is no such victim
 * or the moved records found no room.
 */
static int __ilio_compact_one(struct ilio_core *ic, u32 max_live)
{
	struct ilio_segs *s = &ic->segs;
	struct ilio_seg *seg;
	u32 victim, off = 0;
	int ret = 0;

	lockdep_assert_held(&ic->lock);
	victim = __ilio_seg_pick_victim(s, max_live);
	if (victim == ILIO_SEG_NONE)
		return -ENOSPC;
	seg = &s->segs[victim];
	/* Pinned: the walk goes on after the last live record releases it. */
	__ilio_seg_pin(s, victim);
	while (off + sizeof(struct ilio_chunk_hdr) <= seg->used) {
		const struct ilio_chunk_hdr *hdr = (void *)(seg->data + off);
		u32 cid = le32_to_cpu(hdr->cid);
		u32 len = le16_to_cpu(hdr->len);
		bool lz4 = le16_to_cpu(hdr->flags) & ILIO_CHUNK_LZ4;
		u32 rec = ilio_rec_bytes(len);
		u64 old = ilio_loc_make(victim, off, len, lz4), nloc;

		if (!len || len > ILIO_BLOCK_SIZE || off + rec > seg->used) {
			WARN_ONCE(1, "ilio: corrupt record in segment %u\n",
				  victim);
			ret = -EIO;
			break;
		}
		if (ilio_chunk_valid(&ic->chunks, cid) &&
		    ilio_chunk_loc(&ic->chunks, cid) == old) {
			ret = __ilio_store(ic, cid, hdr + 1, len, lz4, true,
					   &nloc);
			if (ret)
				break;
			ilio_chunk_set_loc(&ic->chunks, cid, nloc);
			__ilio_seg_release_bytes(s, old);
			ic->st.compact_moved_bytes += rec;
		}
		off += rec;
	}
	__ilio_seg_unpin(s, victim);
	if (!ret)
		ic->st.compactions++;
	return ret;
}

/*
 * Make @bytes of metadata allocation fit in the RAM budget, compacting
 * segments if needed.  Return: 0 or -ENOSPC.
 */
static int __ilio_make_room(struct ilio_core *ic, u64 bytes)
{
	int tries;

	if (ic->pl) {
		/*
		 * Persistent: clean cached chunks give way to metadata, and
		 * so do segment buffers once written back (__ilio_plog_drain()).
		 */
		while (!__ilio_ram_allows(ic, bytes) &&
		       __ilio_cache_evict_one(&ic->cache))
			;
		return __ilio_ram_allows(ic, bytes) ? 0 : __ilio_plog_drain(ic);
	}
	for (tries = 0; tries < ILIO_COMPACT_TRIES; tries++) {
		if (__ilio_ram_allows(ic, bytes))
			return 0;
		if (__ilio_compact_one(ic, ic->segs.seg_bytes - 1))
			break;
	}
	return __ilio_ram_allows(ic, bytes) ? 0 : -ENOSPC;
}

/*
 * Append a record for @cid.  @gc: the caller is the compactor, which may
 * use the spare segment and must not recurse into compaction.
 */
static int __ilio_store(struct ilio_core *ic, u32 cid, const void *payload,
			u32 len, bool lz4, bool gc, u64 *loc)
{
	struct ilio_segs *s = &ic->segs;
	u32 need = ilio_rec_bytes(len);
	bool nomem = false;
	int tries = 0, ret;

	lockdep_assert_held(&ic->lock);
	if (ic->pl) {
		/* The caller ran __ilio_plog_prepare(): this cannot fail. */
		*loc = __ilio_plog_append(ic, cid, payload, len, lz4);
		return 0;
	}
	while (!__ilio_seg_fits(s, need)) {
		bool room = __ilio_ram_allows(ic, s->seg_bytes);

		/* A reserve buffer is already charged: it needs no room. */
		if (room || s->nr_reserve) {
			ret = __ilio_seg_open_fresh(s, room);
			if (!ret)
				continue;
			if (ret == -ENOMEM)
				nomem = true;	/* compaction may still help */
			else if (ret != -ENOSPC)
				return ret;
		}
		if (gc) {
			ret = __ilio_seg_open_spare(s);
			if (ret)
				return ret;
			continue;
		}
		/* Out of memory, not of budget: the caller waits, retries. */
		if (tries++ >= ILIO_COMPACT_TRIES)
			return nomem ? -ENOMEM : -ENOSPC;
		ret = __ilio_compact_one(ic, s->seg_bytes - need);
		if (ret)
			return nomem && ret == -ENOSPC ? -ENOMEM : ret;
	}
	*loc = __ilio_seg_append(s, cid, payload, len, lz4);
	return 0;
}

/*
 * A live chunk whose content equals @block, returned with a reference
 * taken for the caller; or 0.  *@capped is set when the lookup stopped at
 * the candidate bound with candidates left unexamined.
 *
 * Raw candidates are compared in place, under the lock (a memcmp).  A
 * compressed candidate is decoded with the lock dropped: a reference keeps
 * the chunk alive and a pin keeps its segment's memory, even if the
 * compactor moves the chunk meanwhile.  The chain is re-read under the
 * lock after each such comparison, from the candidate, which the
 * reference kept in the chain.
 *
 * Each candidate is charged for the work it takes (ILIO_DEDUP_COST_*)
 * against ILIO_DEDUP_BUDGET before that work is done, so one lookup costs
 * at most a few block compares whatever the chain holds: the hash key
 * makes collisions rare, the budget makes them cheap.
 */
static u32 __ilio_find_dup(struct ilio_core *ic, u64 hash, const void *block,
			   struct ilio_ctx *ctx, bool *capped)
{
	struct ilio_chunks *c = &ic->chunks;
	unsigned int budget = ILIO_DEDUP_BUDGET, cost;
	struct ilio_hold h;
	u32 cid, next, seg;
	const u8 *p;
	bool equal, on_disk;
	u64 loc;

	lockdep_assert_held(&ic->lock);
	for (cid = __ilio_index_first(c, hash); cid; cid = next) {
		loc = ilio_chunk_loc(c, cid);
		if (!loc || ilio_loc_damaged(loc) ||
		    ilio_chunk_ref(c, cid) >= ILIO_REF_MAX) {
			next = __ilio_index_next(c, cid, hash);
			continue;
		}
		seg = ilio_loc_seg(loc);
		/* Persistent: a chunk only the device holds may be cached. */
		on_disk = ic->pl && !ic->segs.segs[seg].data;
		p = NULL;
		if (on_disk) {
			struct ilio_centry *e = __ilio_cache_lookup(&ic->cache, cid);

			if (e)
				p = e->data;
		} else {
			p = __ilio_loc_payload(ic, loc);
		}
		if (!p)
			cost = ILIO_DEDUP_COST_READ;
		else if (ilio_loc_lz4(loc))
			cost = ILIO_DEDUP_COST_DECODE;
		else
			cost = ILIO_DEDUP_COST_CMP;
		if (cost > budget) {
			*capped = true;
			return 0;
		}
		budget -= cost;
		ic->st.dedup_candidates++;
		if (p && !ilio_loc_lz4(loc)) {
			/* Raw, in RAM: compare in place. */
			equal = ilio_loc_len(loc) == ILIO_BLOCK_SIZE &&
				!memcmp(p, block, ILIO_BLOCK_SIZE);
		} else if (on_disk && p) {
			equal = !ilio_load_payload(p, loc, ctx->dbuf) &&
				!memcmp(ctx->dbuf, block, ILIO_BLOCK_SIZE);
		} else {
			/* Decode, or read, without the lock. */
			__ilio_hold(ic, &h, seg, cid);
			mutex_unlock(&ic->lock);
			if (on_disk)
				equal = !ilio_plog_read_record(ic, loc, cid, hash,
							       ctx->dbuf);
			else
				equal = !ilio_decompress_block(p, ilio_loc_len(loc),
							       ctx->dbuf);
			equal = equal && !memcmp(ctx->dbuf, block, ILIO_BLOCK_SIZE);
			mutex_lock(&ic->lock);
			__ilio_unhold(ic, &h);
			if (ic->pl)
				__ilio_plog_finalize(ic, seg);
			if (equal)
				return cid;
			next = __ilio_index_next(c, cid, hash);
			__ilio_chunk_drop(ic, cid);
			continue;
		}
		if (equal) {
			__ilio_chunk_get(c, cid);
			return cid;
		}
		next = __ilio_index_next(c, cid, hash);
	}
	return 0;
}

/*
 * Point @lba at @cid (whose reference the caller hands over).  Persistent:
 * the change is logged; the caller made room (__ilio_plog_prepare()).
 */
static void __ilio_remap(struct ilio_core *ic, u64 lba, u32 cid)
{
	if (ic->pl)
		__ilio_plog_log_map(ic, lba, cid);
	__ilio_chunk_drop(ic, __ilio_lbamap_set(&ic->map, lba, cid));
}

/* Persistent: room to log @nents map changes; diskless: nothing to do. */
static int __ilio_log_room(struct ilio_core *ic, u32 len, u32 nents)
{
	return ic->pl ? __ilio_plog_prepare(ic, len, nents, ILIO_LEVEL_USER) : 0;
}

/*
 * Share an existing chunk for @lba, if dedup finds one.  Return: 1 when
 * shared, 0 when not, or a negative errno (nothing changed).  *@capped:
 * see __ilio_find_dup().
 */
static int __ilio_try_dedup(struct ilio_core *ic, u64 lba, u64 hash,
			    const void *block, struct ilio_ctx *ctx, bool *capped)
{
	u32 cid;
	int ret;

	if (!ic->dedup)
		return 0;
	cid = __ilio_find_dup(ic, hash, block, ctx, capped);
	if (!cid)
		return 0;
	ret = __ilio_log_room(ic, 0, 1);
	if (ret) {
		__ilio_chunk_drop(ic, cid);
		return ret;
	}
	__ilio_remap(ic, lba, cid);
	ic->st.dedup_hits++;
	return 1;
}

/* Metadata that the next store of a new chunk for @lba may allocate. */
static int __ilio_prepare_meta(struct ilio_core *ic, u64 lba)
{
	int ret;

	ret = __ilio_make_room(ic, __ilio_lbamap_prepare_bytes(&ic->map, lba) +
			       __ilio_chunk_reserve_bytes(&ic->chunks));
	if (!ret)
		ret = __ilio_lbamap_prepare(&ic->map, lba);
	if (!ret)
		ret = __ilio_chunk_reserve(&ic->chunks);
	return ret;
}

/* After a persistent update: write back now, or start it in the background. */
static void ilio_core_after_update(struct ilio_core *ic, bool sync, bool kick)
{
	if (sync || (kick && !ic->pl->ops->kick))
		ilio_core_writeback(ic);
	else if (kick)
		ic->pl->ops->kick(ic->pl->priv);
}

static int ilio_core_write_once(struct ilio_core *ic, u64 lba, const void *block,
				struct ilio_ctx *ctx, bool *sync, bool *kick)
{
	const void *payload = block;
	u32 len = ILIO_BLOCK_SIZE, cid;
	bool lz4 = false, capped = false;
	u64 hash, loc, gen;
	int ret;

	if (ilio_block_is_zero(block)) {
		mutex_lock(&ic->lock);
		ret = __ilio_log_room(ic, 0, 1);
		if (!ret) {
			__ilio_remap(ic, lba, 0);
			ic->st.zero_blocks++;
		}
		goto out;
	}

	hash = ilio_hash_block(block, ic->hash_seed);
	mutex_lock(&ic->lock);
	/* A dedup hit needs only the map leaf; a new chunk needs more later. */
	ret = __ilio_make_room(ic, __ilio_lbamap_prepare_bytes(&ic->map, lba));
	if (!ret)
		ret = __ilio_lbamap_prepare(&ic->map, lba);
	if (!ret)
		ret = __ilio_try_dedup(ic, lba, hash, block, ctx, &capped);
	if (ret)
		goto out;
	gen = ic->stored_gen;
	mutex_unlock(&ic->lock);

	if (READ_ONCE(ic->compress))
		len = ilio_compress_block(ctx, block, &payload, &lz4);

	mutex_lock(&ic->lock);
	/* Another writer may have stored the same content meanwhile. */
	if (ic->stored_gen != gen) {
		ret = __ilio_try_dedup(ic, lba, hash, block, ctx, &capped);
		if (ret)
			goto out;
	}
	ret = __ilio_prepare_meta(ic, lba);
	if (!ret)
		ret = __ilio_log_room(ic, len, 2);
	if (ret)
		goto out;
	cid = __ilio_chunk_alloc(&ic->chunks, hash, 0);
	ret = __ilio_store(ic, cid, payload, len, lz4, false, &loc);
	if (ret) {
		__ilio_chunk_drop(ic, cid);
		goto out;
	}
	ilio_chunk_set_loc(&ic->chunks, cid, loc);
	ic->stored_bytes += len;
	ic->stored_gen++;
	if (__ilio_ram_allows(ic, (u64)ic->chunks.nr_buckets * 2 * sizeof(u32)))
		__ilio_index_maybe_grow(&ic->chunks);
	__ilio_remap(ic, lba, cid);
	if (capped)
		ic->st.dedup_candidates_capped++;
out:
	if (ret > 0)
		ret = 0;
	if (!ret && ic->pl)
		__ilio_plog_after_write(ic, sync, kick);
	mutex_unlock(&ic->lock);
	return ret;
}

/*
 * Refill the write path's reserves (segment buffer, map leaf, chunk leaf,
 * a chunk directory with a free slot) with the lock dropped, so that the
 * allocator may reclaim and retry.  A piece goes in only when the budget
 * has room for it.  Return: how many pieces went in.
 */
static int ilio_core_refill(struct ilio_core *ic)
{
	struct ilio_chunk_leaf *cleaf = NULL, **dir = NULL;
	bool want_seg, want_map, want_chunk;
	u32 *mleaf = NULL, cap;
	u8 *seg = NULL;
	int n = 0;

	mutex_lock(&ic->lock);
	want_seg = __ilio_seg_reserve_short(&ic->segs);
	want_map = !ic->map.spare;
	want_chunk = !ic->chunks.spare;
	cap = __ilio_chunk_dir_want(&ic->chunks);
	mutex_unlock(&ic->lock);

	if (want_map)
		mleaf = ilio_lbamap_alloc_leaf(ILIO_GFP_WAIT);
	if (want_chunk)
		cleaf = kvmalloc(sizeof(*cleaf), ILIO_GFP_WAIT);
	if (cap)
		dir = kvcalloc(cap, sizeof(*dir), ILIO_GFP_WAIT);
	if (want_seg)
		seg = ilio_seg_alloc_wait(&ic->segs);

	mutex_lock(&ic->lock);
	if (dir && cap > ic->chunks.dir_cap &&
	    __ilio_ram_allows(ic, (u64)(cap - ic->chunks.dir_cap) * sizeof(*dir)) &&
	    __ilio_chunk_set_dir(&ic->chunks, dir, cap)) {
		dir = NULL;
		n++;
	}
	if (mleaf && __ilio_ram_allows(ic, ILIO_LBAMAP_LEAF_ENTRIES * sizeof(u32)) &&
	    __ilio_lbamap_add_spare(&ic->map, mleaf)) {
		mleaf = NULL;
		n++;
	}
	if (cleaf && __ilio_ram_allows(ic, sizeof(*cleaf)) &&
	    __ilio_chunk_add_spare(&ic->chunks, cleaf)) {
		cleaf = NULL;
		n++;
	}
	if (seg && __ilio_ram_allows(ic, ic->segs.seg_bytes) &&
	    __ilio_seg_reserve_short(&ic->segs)) {
		__ilio_seg_put_buf(&ic->segs, seg);
		seg = NULL;
		n++;
	}
	mutex_unlock(&ic->lock);
	kvfree(dir);
	kvfree(mleaf);
	kvfree(cleaf);
	vfree(seg);
	return n;
}

/**
 * ilio_core_relieve() - a writer met memory pressure: make progress
 * @ic: core, unlocked
 * @err: -EAGAIN (segment buffers wait for write-back) or -ENOMEM (the
 *	allocator failed and a reserve is used up)
 *
 * Persistent mode writes back first: that frees segment buffers, and a
 * freed buffer refills the reserve before it goes back to the system.
 * For -ENOMEM it then refills the reserves with the lock dropped, and
 * waits a little (memalloc_retry_wait()) when that brought nothing.  It
 * sleeps: for workers only, never for the dm map function.
 *
 * Return: 0 to try again, or the sticky backend error.
 */
int ilio_core_relieve(struct ilio_core *ic, int err)
{
	int ret;

	if (ic->pl) {
		ret = ilio_core_writeback(ic);
		if (ret)
			return ret;
		if (err == -EAGAIN)
			return 0;
	}
	if (!ilio_core_refill(ic))
		memalloc_retry_wait(ILIO_GFP_WAIT);
	return 0;
}

/**
 * ilio_core_write() - store one block at @lba
 * @ic: core
 * @lba: logical block, below the core's nr_blocks
 * @block: ILIO_BLOCK_SIZE bytes
 * @ctx: the calling worker's context
 *
 * The old content of @lba stays intact when the write fails.  Memory
 * pressure never fails it: when an allocation fails and its reserve is
 * used up, or (persistent) RAM is full of unwritten data, the writer
 * writes back, refills the reserves or waits, and tries again
 * (ilio_core_relieve()).  When the device has no free segment it runs GC
 * once before giving up.
 *
 * Return: 0; -ENOSPC when the store (RAM budget or device) is full of
 * live data; -EINVAL for an LBA out of range; -EIO (persistent, after a
 * backend write error) or -EROFS (opened read-only).
 */
int ilio_core_write(struct ilio_core *ic, u64 lba, const void *block,
		    struct ilio_ctx *ctx)
{
	bool sync = false, kick = false, reclaimed = false;
	int ret;

	if (lba >= ic->map.nr_blocks)
		return -EINVAL;
	for (;;) {
		ret = ilio_core_write_once(ic, lba, block, ctx, &sync, &kick);
		if (ret == -EAGAIN || ret == -ENOMEM) {
			/* Pressure, not a full store: it passes. */
			ret = ilio_core_relieve(ic, ret);
			if (ret)
				break;
			continue;
		}
		if (ret == -ENOSPC && ic->pl && !reclaimed) {
			reclaimed = true;
			if (!ilio_plog_reclaim(ic))
				continue;
		}
		break;
	}
	if (ret == -ENOSPC) {
		mutex_lock(&ic->lock);
		ic->st.nospc_errors++;
		mutex_unlock(&ic->lock);
	}
	if (!ret && ic->pl)
		ilio_core_after_update(ic, sync, kick);
	return ret;
}

/* The chunk @lba maps to (in *@cid) and its location; 0 when unmapped. */
static u64 __ilio_lba_loc(struct ilio_core *ic, u64 lba, u32 *cid)
{
	*cid = __ilio_lbamap_get(&ic->map, lba);
	return *cid ? ilio_chunk_loc(&ic->chunks, *cid) : 0;
}

/**
 * ilio_load_payload() - decode a stored payload
 * @p: the payload
 * @loc: the location it was stored with (length, lz4 flag)
 * @block: ILIO_BLOCK_SIZE bytes of output
 *
 * Return: 0, or -EIO when it does not decode.
 */
int ilio_load_payload(const u8 *p, u64 loc, void *block)
{
	if (ilio_loc_lz4(loc))
		return ilio_decompress_block(p, ilio_loc_len(loc), block);
	if (ilio_loc_len(loc) != ILIO_BLOCK_SIZE)
		return -EIO;
	memcpy(block, p, ILIO_BLOCK_SIZE);
	return 0;
}

/*
 * Persistent: serve @cid at @loc from the clean cache when it is there.
 * Return: 1 when served (0 or -EIO in *@ret), 0 when not cached.
 */
static int __ilio_read_cached(struct ilio_core *ic, u32 cid, u64 loc,
			      void *block, int *ret)
{
	struct ilio_centry *e = __ilio_cache_lookup(&ic->cache, cid);

	if (!e)
		return 0;
	*ret = ilio_load_payload(e->data, loc, block);
	ic->st.cache_hits++;
	return 1;
}

/**
 * ilio_core_read() - load the block at @lba
 * @ic: core
 * @lba: logical block, below the core's nr_blocks
 * @block: ILIO_BLOCK_SIZE bytes of output
 *
 * A chunk in a RAM segment is decompressed outside the lock, from the
 * pinned segment.  Persistent mode: a clean chunk comes from the cache, or
 * else from the device (only the blocks holding it), and is cached.
 *
 * Return: 0; -EIO when the stored chunk does not decode or the device
 * fails; -EINVAL for an LBA out of range; -ENOMEM.
 */
int ilio_core_read(struct ilio_core *ic, u64 lba, void *block)
{
	struct ilio_hold h;
	const u8 *p;
	u32 seg, cid;
	u64 loc, hash;
	int ret;

	if (lba >= ic->map.nr_blocks)
		return -EINVAL;
	mutex_lock(&ic->lock);
	loc = __ilio_lba_loc(ic, lba, &cid);
	if (!loc || ilio_loc_damaged(loc)) {
		mutex_unlock(&ic->lock);
		memset(block, 0, ILIO_BLOCK_SIZE);
		return loc ? -EIO : 0;
	}
	seg = ilio_loc_seg(loc);
	if (ic->pl && !ic->segs.segs[seg].data) {
		if (__ilio_read_cached(ic, cid, loc, block, &ret)) {
			mutex_unlock(&ic->lock);
			return ret;
		}
		ic->st.cache_misses++;
		hash = ilio_chunk_hash(&ic->chunks, cid);
		__ilio_hold(ic, &h, seg, 0);
		mutex_unlock(&ic->lock);
		ret = ilio_plog_read_record(ic, loc, cid, hash, block);
		mutex_lock(&ic->lock);
		__ilio_unhold(ic, &h);
		mutex_unlock(&ic->lock);
		return ret;
	}
	p = __ilio_loc_payload(ic, loc);
	__ilio_hold(ic, &h, seg, 0);
	if (ic->pl)
		ic->st.cache_hits++;
	mutex_unlock(&ic->lock);

	ret = ilio_load_payload(p, loc, block);

	mutex_lock(&ic->lock);
	__ilio_unhold(ic, &h);
	if (ic->pl)
		__ilio_plog_finalize(ic, seg);
	mutex_unlock(&ic->lock);
	return ret;
}

/**
 * ilio_core_read_nowait() - load the block at @lba if that needs no sleep
 * @ic: core
 * @lba: logical block, below the core's nr_blocks
 * @block: ILIO_BLOCK_SIZE bytes of output
 *
 * For callers that must not sleep (the dm map function): it only
 * try-locks, and decodes with the lock held (a few microseconds at most),
 * so it needs no pin.  A chunk that only the backing device holds is not
 * served here.
 *
 * Return: 0; -EAGAIN when the lock is busy or the chunk must be read from
 * the device; -EIO when the stored chunk does not decode; -EINVAL for an
 * LBA out of range.
 */
int ilio_core_read_nowait(struct ilio_core *ic, u64 lba, void *block)
{
	u32 cid;
	u64 loc;
	int ret;

	if (lba >= ic->map.nr_blocks)
		return -EINVAL;
	if (!mutex_trylock(&ic->lock))
		return -EAGAIN;
	loc = __ilio_lba_loc(ic, lba, &cid);
	if (!loc || ilio_loc_damaged(loc)) {
		mutex_unlock(&ic->lock);
		memset(block, 0, ILIO_BLOCK_SIZE);
		return loc ? -EIO : 0;
	}
	if (ic->pl && !ic->segs.segs[ilio_loc_seg(loc)].data) {
		if (!__ilio_read_cached(ic, cid, loc, block, &ret))
			ret = -EAGAIN;
		mutex_unlock(&ic->lock);
		return ret;
	}
	ret = ilio_load_payload(__ilio_loc_payload(ic, loc), loc, block);
	if (ic->pl)
		ic->st.cache_hits++;
	mutex_unlock(&ic->lock);
	return ret;
}

/**
 * ilio_core_discard() - unmap @lba; it reads back as zeroes
 * @ic: core
 * @lba: logical block, below the core's nr_blocks
 *
 * Like a write, it waits out memory pressure (ilio_core_relieve()).
 *
 * Return: 0, -EINVAL for an LBA out of range, or (persistent) what
 * ilio_core_write() may return.
 */
int ilio_core_discard(struct ilio_core *ic, u64 lba)
{
	bool sync = false, kick = false;
	int ret, tries;

	if (lba >= ic->map.nr_blocks)
		return -EINVAL;
	/* A discard frees space: it may use the GC part of the reserve. */
	for (tries = 0; ; ) {
		mutex_lock(&ic->lock);
		ret = ic->pl ? __ilio_plog_prepare(ic, 0, 1, ILIO_LEVEL_GC) : 0;
		if (!ret) {
			__ilio_remap(ic, lba, 0);
			if (ic->pl)
				__ilio_plog_after_write(ic, &sync, &kick);
		}
		mutex_unlock(&ic->lock);
		if (!ic->pl)
			break;
		if (ret == -EAGAIN || ret == -ENOMEM)
			ret = ilio_core_relieve(ic, ret);	/* pressure: it passes */
		else if (ret == -ENOSPC && tries++ < 2)
			ret = ilio_plog_reclaim(ic);
		else
			break;
		if (ret)
			break;
	}
	if (!ret && ic->pl)
		ilio_core_after_update(ic, sync, kick);
	return ret;
}

/**
 * ilio_core_unmapped_run() - blocks from @lba that certainly map nothing
 * @ic: core
 * @lba: first block
 * @max: most blocks to count
 *
 * Counts the blocks of whole absent LBA-map leaves from @lba on.  A leaf
 * that does not exist maps nothing, and no log unit that recovery could
 * replay maps anything in it (replay allocates the leaf of every entry it
 * applies, and leaves live as long as the map), so discarding or zeroing
 * such blocks changes nothing and needs no per-block work: a whole-device
 * discard of a sparse device costs one step per 64 leaves, not one per
 * block.  0 on a persistent store that cannot write (its discards fail).
 *
 * Return: the number of blocks, at most @max.
 */
u64 ilio_core_unmapped_run(struct ilio_core *ic, u64 lba, u64 max)
{
	u64 next, run = 0;

	if (lba >= ic->map.nr_blocks)
		return 0;
	mutex_lock(&ic->lock);
	if (!ic->pl || (!ic->pl->read_only && !ic->pl->error)) {
		next = __ilio_lbamap_next_leaf(&ic->map, lba >> ILIO_LBAMAP_LEAF_SHIFT);
		next = next >= ic->map.nr_leaves ? ic->map.nr_blocks :
		       next << ILIO_LBAMAP_LEAF_SHIFT;
		run = next > lba ? next - lba : 0;
	}
	mutex_unlock(&ic->lock);
	return min(run, max);
}

/**
 * ilio_core_compact() - reclaim mostly dead segments now
 * @ic: core
 * @max_segs: most segments to empty
 *
 * Empties sealed segments that are at most 3/4 live, emptiest first.
 *
 * Return: the number of segments emptied.
 */
int ilio_core_compact(struct ilio_core *ic, unsigned int max_segs)
{
	unsigned int n;

	if (ic->pl)
		return 0;	/* persistent: see ilio_core_gc() */
	mutex_lock(&ic->lock);
	for (n = 0; n < max_segs; n++)
		if (__ilio_compact_one(ic, ic->segs.seg_bytes / 4 * 3))
			break;
	mutex_unlock(&ic->lock);
	return n;
}

/**
 * ilio_core_get_stats() - snapshot the statistics
 * @ic: core
 * @out: filled in
 */
void ilio_core_get_stats(struct ilio_core *ic, struct ilio_stats *out)
{
	mutex_lock(&ic->lock);
	*out = ic->st;
	out->logical_bytes = ic->map.mapped << ILIO_BLOCK_SHIFT;
	out->unique_chunks = ic->chunks.nr_live;
	out->unique_bytes = (u64)ic->chunks.nr_live << ILIO_BLOCK_SHIFT;
	out->stored_bytes = ic->stored_bytes;
	out->meta_bytes = __ilio_meta_bytes(ic);
	out->ram_used_bytes = __ilio_ram_used(ic);
	out->ram_limit_bytes = ic->ram_limit;
	if (ic->pl) {
		out->dirty_bytes = ic->pl->dirty;
		out->cache_bytes = ilio_cache_bytes(&ic->cache);
		out->free_segments = ic->pl->nr_free;
		out->nr_segments = ic->segs.nr_segs;
		out->chunks_damaged = ic->nr_damaged;
	}
	mutex_unlock(&ic->lock);
}

/**
 * ilio_core_clear_stats() - zero the event counters (not the gauges)
 * @ic: core
 */
void ilio_core_clear_stats(struct ilio_core *ic)
{
	mutex_lock(&ic->lock);
	memset(&ic->st, 0, sizeof(ic->st));
	mutex_unlock(&ic->lock);
}

/**
 * ilio_core_set_policy() - change dedup and compression for new writes
 * @ic: core
 * @dedup: look up duplicates
 * @compress: compress new chunks
 *
 * Stored chunks are unaffected; every chunk is indexed either way, so
 * turning dedup back on finds duplicates of data written while it was off.
 */
void ilio_core_set_policy(struct ilio_core *ic, bool dedup, bool compress)
{
	mutex_lock(&ic->lock);
	ic->dedup = dedup;
	WRITE_ONCE(ic->compress, compress);
	mutex_unlock(&ic->lock);
}

/**
 * ilio_core_set_ram_limit() - change the RAM budget
 * @ic: core
 * @bytes: new budget
 *
 * Growing always works (given memory for a larger segment table);
 * shrinking works down to what is in use now.
 *
 * Return: 0; -ENOSPC when @bytes is below the RAM in use; -ENOMEM;
 * -EINVAL when @bytes needs more segments than locations can address.
 */
int ilio_core_set_ram_limit(struct ilio_core *ic, u64 bytes)
{
	u64 nr = bytes / ic->segs.seg_bytes;
	int ret = 0;

	mutex_lock(&ic->lock);
	if (ic->pl) {
		/*
		 * Persistent: the cache shrinks to fit; metadata cannot.  The
		 * metadata (with the reserve buffer) and one more segment must
		 * fit, as at open.  Segment buffers are not counted: writes
		 * drain them (__ilio_plog_drain()).
		 */
		if (__ilio_meta_bytes(ic) + ic->segs.seg_bytes > bytes) {
			ret = -ENOSPC;
		} else {
			ic->ram_limit = bytes;
			__ilio_plog_fit_ram(ic);
		}
		mutex_unlock(&ic->lock);
		return ret;
	}
	if (nr > ILIO_SEG_MAX)
		ret = -EINVAL;
	else if (bytes < __ilio_ram_used(ic))
		ret = -ENOSPC;
	else
		ret = __ilio_segs_grow(&ic->segs, nr);
	if (!ret)
		ic->ram_limit = bytes;
	mutex_unlock(&ic->lock);
	return ret;
}

/**
 * ilio_core_alloc() - a core with empty maps, no segments yet
 * @p: parameters (nr_blocks, ram_limit, dedup, compress)
 * @err: set on failure: -ENOMEM; -E2BIG when the LBA map's directory does
 *	not fit the RAM budget; -EFBIG above ILIO_LBAMAP_MAX_BLOCKS
 *
 * For ilio_core_create() and ilio_core_open(), which add the segments.
 *
 * Return: the core, or NULL.
 */
struct ilio_core *ilio_core_alloc(const struct ilio_core_params *p, int *err)
{
	struct ilio_core *ic = kzalloc(sizeof(*ic), GFP_KERNEL);
	u64 room;
	int ret;

	if (!ic) {
		*err = -ENOMEM;
		return NULL;
	}
	mutex_init(&ic->lock);
	INIT_LIST_HEAD(&ic->holds);
	ic->ram_limit = p->ram_limit;
	ic->dedup = p->dedup;
	ic->compress = p->compress;
	/* The map's directory must fit the budget with two segments to spare. */
	room = 2ULL * max_t(u32, p->seg_bytes, ILIO_SEG_BYTES_MIN);
	ret = ilio_lbamap_init(&ic->map, p->nr_blocks,
			       p->ram_limit > room ? p->ram_limit - room : 0,
			       &ic->lock);
	if (!ret)
		ret = ilio_chunks_init(&ic->chunks, &ic->lock);
	/* The write path's reserve of leaves (its segment buffer: ilio-seg.c). */
	if (!ret) {
		ic->map.spare = ilio_lbamap_alloc_leaf(GFP_KERNEL);
		ic->chunks.spare = kvmalloc(sizeof(*ic->chunks.spare), GFP_KERNEL);
		if (!ic->map.spare || !ic->chunks.spare)
			ret = -ENOMEM;
	}
	if (ret) {
		ilio_core_destroy(ic);
		*err = ret;
		return NULL;
	}
	return ic;
}

/**
 * ilio_core_create() - create an empty store
 * @p: parameters
 * @err: set to -EINVAL (bad parameters), -E2BIG (the RAM budget cannot
 *       hold the metadata of this size plus two segments), -EFBIG (more
 *       than ILIO_LBAMAP_MAX_BLOCKS blocks) or -ENOMEM
 *
 * Return: the core, or NULL with @err set.
 */
struct ilio_core *ilio_core_create(const struct ilio_core_params *p, int *err)
{
	struct ilio_core *ic;
	u64 nr_segs;
	int ret;

	if (!p->nr_blocks || !p->seg_bytes || p->seg_bytes % ILIO_BLOCK_SIZE ||
	    p->seg_bytes > ILIO_SEG_BYTES_MAX) {
		*err = -EINVAL;
		return NULL;
	}
	nr_segs = p->ram_limit / p->seg_bytes;
	if (nr_segs < 2) {
		*err = -E2BIG;
		return NULL;
	}
	if (nr_segs > ILIO_SEG_MAX)
		nr_segs = ILIO_SEG_MAX;

	ic = ilio_core_alloc(p, &ret);
	if (!ic) {
		*err = ret;
		return NULL;
	}
	/* Diskless: a key of its own for the life of the store. */
	ic->hash_seed = get_random_u64();
	ret = ilio_segs_init(&ic->segs, nr_segs, p->seg_bytes, &ic->lock);
	if (!ret) {
		/*
		 * Metadata, the compactor's spare and the reserve buffer,
		 * which is the one segment a write needs when no other fits.
		 */
		mutex_lock(&ic->lock);
		if (__ilio_ram_used(ic) > ic->ram_limit)
			ret = -E2BIG;
		mutex_unlock(&ic->lock);
	}
	if (ret) {
		ilio_core_destroy(ic);
		*err = ret;
		return NULL;
	}
	return ic;
}

/**
 * ilio_core_destroy() - free a store and everything in it
 * @ic: core, or NULL; no call may be in progress
 */
void ilio_core_destroy(struct ilio_core *ic)
{
	if (!ic)
		return;
	ilio_cache_exit(&ic->cache);
	ilio_plog_free(ic->pl);
	ilio_segs_exit(&ic->segs);
	ilio_chunks_exit(&ic->chunks);
	ilio_lbamap_exit(&ic->map);
	mutex_destroy(&ic->lock);
	kfree(ic);
}
