// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-core: store, find and load 4 KiB blocks.
 *
 * Locking: ic->sp.lock (a read-write semaphore) protects the map, the
 * chunk table, the index, the segments and the statistics; see
 * ilio-core.h.  Functions named __ilio_* expect it held for writing,
 * except the few lookups that a reader holding it shared may call.
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
 *   By the store: see ilio-ram.c (compaction) and ilio-gc.c (GC).
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/bits.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/string.h>
#include <linux/mutex.h>
#include <linux/lockdep.h>
#include <linux/sched.h>
#include <linux/bug.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/atomic.h>
#include <linux/printk.h>

#include "ilio-core.h"
#include "ilio-args.h"

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
			ilio_cid_t cid)
{
	lockdep_assert_held_write(&ic->sp.lock);
	h->seg = seg;
	h->cid = cid;
	__ilio_seg_pin(&ic->sp.segs, seg);
	if (cid)
		__ilio_chunk_get(&ic->sp.chunks, cid);
	list_add(&h->node, &ic->holds);
}

/* The lock is back: the pin goes, a chunk reference stays the caller's. */
static void __ilio_unhold(struct ilio_core *ic, struct ilio_hold *h)
{
	lockdep_assert_held_write(&ic->sp.lock);
	list_del(&h->node);
	__ilio_seg_unpin(&ic->sp.segs, h->seg);
}

/*
 * DOC: modes
 *
 * The device's mode is the core's: one field, ic->mode, changed by one
 * setter, ilio_core_set_mode(), which only ever moves it down (write,
 * read-only, fail) and logs the change once, naming the device.  A store
 * reports trouble through its sticky error (struct ilio_store_ops
 * @error); every core entry point that called into the store looks at
 * it afterwards (ilio_core_sync_mode()), and every entry point refuses
 * what its mode no longer allows before it does anything
 * (ilio_core_refuse()).  A store opened read-only starts in read-only
 * mode without a log line: that is what the table asked for.
 */
/**
 * ilio_core_mode() - the device's mode
 * @ic: core
 *
 * Return: enum ilio_mode; lockless.
 */
int ilio_core_mode(struct ilio_core *ic)
{
	return READ_ONCE(ic->mode);
}

/**
 * ilio_core_set_mode() - degrade the device (sticky)
 * @ic: core
 * @mode: enum ilio_mode; a mode no worse than the current one is ignored
 * @why: what happened, for the log line
 * @err: the error behind it
 *
 * The only place that changes ic->mode.  Safe in any context that may
 * print; takes no lock.
 *
 * Return: true when this call changed the mode (and logged it).
 */
bool ilio_core_set_mode(struct ilio_core *ic, int mode, const char *why,
			int err)
{
	int old = READ_ONCE(ic->mode), prev;

	for (;;) {
		if (mode <= old)
			return false;
		prev = cmpxchg(&ic->mode, old, mode);
		if (prev == old)
			break;
		old = prev;
	}
	pr_err("device-mapper: ilio: %s: %s (%d): %s mode\n", ic->name, why,
	       err, ilio_mode_word(mode));
	if (ic->event)
		ic->event(ic->event_priv);
	return true;
}

/* After a call into the store: its sticky error degrades the device. */
static void ilio_core_sync_mode(struct ilio_core *ic)
{
	int err = ic->store->ops->error ? ic->store->ops->error(ic->store) : 0;

	if (err == -EUCLEAN)
		ilio_core_set_mode(ic, ILIO_MODE_FAIL,
				   "the store found its own state corrupt", err);
	else if (err)
		ilio_core_set_mode(ic, ILIO_MODE_READ_ONLY,
				   "backing device write failed", err);
}

/*
 * What the mode refuses before anything is done: in fail mode every call
 * (-EIO); with @writes, in read-only mode, every change (-EROFS when
 * opened read-only, -EIO after an error).  Return: 0 or that errno.
 */
static int ilio_core_refuse(struct ilio_core *ic, bool writes)
{
	int mode = READ_ONCE(ic->mode);

	if (mode == ILIO_MODE_FAIL)
		return -EIO;
	if (writes && mode == ILIO_MODE_READ_ONLY)
		return ilio_core_error(ic) ? -EIO : -EROFS;
	return 0;
}

/* A reader or comparer unpinned @seg: the store may drop its buffer. */
static void __ilio_release(struct ilio_core *ic, u32 seg)
{
	if (ic->store->ops->release)
		ic->store->ops->release(ic->store, seg);
}

/* Make @bytes of metadata allocation fit in the RAM budget. */
static int __ilio_make_room(struct ilio_core *ic, u64 bytes)
{
	return ic->store->ops->make_room(ic->store, bytes);
}

/* The store was opened read-only (it serves reads only). */
static bool ilio_core_read_only(struct ilio_core *ic)
{
	return ic->store->ops->read_only && ic->store->ops->read_only(ic->store);
}

static const u8 *__ilio_loc_payload(struct ilio_core *ic, ilio_loc_t loc)
{
	return ic->sp.segs.segs[ilio_loc_seg(loc)].data + ilio_loc_off(loc) +
	       sizeof(struct ilio_chunk_hdr);
}

/*
 * A live chunk whose content equals @block, returned in *@out with a
 * reference taken for the caller; or 0 there.  *@capped is set when the
 * lookup stopped at the candidate bound with candidates left unexamined.
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
 *
 * Return: 0; -EAGAIN with @nowait when a candidate could only be read
 * from the device (nothing is held then: the caller's writer must wait
 * for I/O, so it goes to a worker).
 */
static int __ilio_find_dup(struct ilio_core *ic, u64 hash, const void *block,
			   struct ilio_ctx *ctx, bool nowait, bool *capped,
			   ilio_cid_t *out)
{
	struct ilio_chunks *c = &ic->sp.chunks;
	unsigned int budget = ILIO_DEDUP_BUDGET, cost;
	struct ilio_hold h;
	ilio_cid_t cid, next;
	u32 seg;
	const u8 *p;
	bool equal, on_disk;
	ilio_loc_t loc;

	lockdep_assert_held_write(&ic->sp.lock);
	*out = 0;
	for (cid = __ilio_index_first(c, hash); cid; cid = next) {
		loc = ilio_chunk_loc(c, cid);
		if (!loc || ilio_loc_damaged(loc) ||
		    ilio_chunk_ref(c, cid) >= ILIO_REF_MAX) {
			next = __ilio_index_next(c, cid, hash);
			continue;
		}
		seg = ilio_loc_seg(loc);
		/* Persistent: a chunk only the device holds may be cached. */
		on_disk = !ic->sp.segs.segs[seg].data;
		if (on_disk && WARN_ON_ONCE(!ic->store->ops->load)) {
			next = __ilio_index_next(c, cid, hash);
			continue;	/* no buffer, and no device to read */
		}
		if (on_disk)
			p = ic->store->ops->peek(ic->store, cid);
		else
			p = __ilio_loc_payload(ic, loc);
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
		if (!p && nowait)
			return -EAGAIN;
		budget -= cost;
		ic->sp.st.dedup_candidates++;
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
			up_write(&ic->sp.lock);
			if (on_disk)
				equal = !ic->store->ops->load(ic->store, loc, cid,
							      hash, ctx->dbuf);
			else
				equal = !ilio_decompress_block(p, ilio_loc_len(loc),
							       ctx->dbuf);
			equal = equal && !memcmp(ctx->dbuf, block, ILIO_BLOCK_SIZE);
			down_write(&ic->sp.lock);
			__ilio_unhold(ic, &h);
			__ilio_release(ic, seg);
			if (equal) {
				*out = cid;
				return 0;
			}
			next = __ilio_index_next(c, cid, hash);
			__ilio_chunk_drop(&ic->sp, cid);
			continue;
		}
		if (equal) {
			__ilio_chunk_get(c, cid);
			*out = cid;
			return 0;
		}
		next = __ilio_index_next(c, cid, hash);
	}
	return 0;
}

/* A block's region class: that of its first sector. */
static int __ilio_block_class(struct ilio_core *ic, ilio_lba_t lba)
{
	return ilio_classmap_get(&ic->classes,
				 ilio_from_lba(lba) << (ILIO_BLOCK_SHIFT - 9));
}

/*
 * The class a read of chunk @cid counts under (ilio_stats.class_hits,
 * .class_misses): its class now, NORMAL for a value a damaged table might
 * hold.  Needs the space lock, shared or not.
 */
static int ilio_read_class(struct ilio_core *ic, ilio_cid_t cid)
{
	int cls = ilio_chunk_class(&ic->sp.chunks, cid);

	return cls < ILIO_NR_CLASSES ? cls : ILIO_CLASS_NORMAL;
}

/*
 * A block of class @cls shares chunk @cid: the chunk keeps the class that
 * caches it best among its blocks (pin > normal > temp > nocache), so a
 * DLL's block that a pagefile happens to repeat stays pinned.
 */
static void __ilio_class_share(struct ilio_core *ic, ilio_cid_t cid, int cls)
{
	static const u8 prio[ILIO_NR_CLASSES] = {
		[ILIO_CLASS_NORMAL] = 2, [ILIO_CLASS_PIN] = 3,
		[ILIO_CLASS_NOCACHE] = 0, [ILIO_CLASS_TEMP] = 1,
	};
	int old = ilio_chunk_class(&ic->sp.chunks, cid);

	if (prio[cls] > prio[old])
		ilio_chunk_set_class(&ic->sp.chunks, cid, cls);
}

/*
 * Point @lba at @cid (whose reference the caller hands over).  The store
 * logs the change; the caller made room (__ilio_reserve()).
 */
static void __ilio_remap(struct ilio_core *ic, ilio_lba_t lba, ilio_cid_t cid)
{
	if (ic->store->ops->log_map)
		ic->store->ops->log_map(ic->store, lba, cid);
	__ilio_chunk_drop(&ic->sp, __ilio_lbamap_set(&ic->sp.map, lba, cid));
}

/*
 * Room for a record of @len payload bytes (0: none) and @nents map
 * changes: after success the append and the remaps cannot fail.
 */
static int __ilio_reserve(struct ilio_core *ic, u32 len, u32 nents, int level)
{
	return ic->store->ops->reserve(ic->store, len, nents, level);
}

/*
 * Share an existing chunk for @lba, if dedup finds one.  Return: 1 when
 * shared, 0 when not, or a negative errno (nothing changed; -EAGAIN with
 * @nowait: see __ilio_find_dup()).  *@capped: see __ilio_find_dup().
 */
static int __ilio_try_dedup(struct ilio_core *ic, ilio_lba_t lba, u64 hash,
			    const void *block, struct ilio_ctx *ctx, bool nowait,
			    bool *capped)
{
	ilio_cid_t cid;
	int ret;

	if (!ic->dedup)
		return 0;
	ret = __ilio_find_dup(ic, hash, block, ctx, nowait, capped, &cid);
	if (ret || !cid)
		return ret;
	ret = __ilio_reserve(ic, 0, 1, ILIO_LEVEL_USER);
	if (ret) {
		__ilio_chunk_drop(&ic->sp, cid);
		return ret;
	}
	/* Before the remap: the store logs it under the class it ends with. */
	__ilio_class_share(ic, cid, __ilio_block_class(ic, lba));
	__ilio_remap(ic, lba, cid);
	ic->sp.st.dedup_hits++;
	return 1;
}

/* Metadata that the next store of a new chunk for @lba may allocate. */
static int __ilio_prepare_meta(struct ilio_core *ic, ilio_lba_t lba)
{
	int ret;

	ret = __ilio_make_room(ic, __ilio_lbamap_prepare_bytes(&ic->sp.map, lba) +
			       __ilio_chunk_reserve_bytes(&ic->sp.chunks));
	if (!ret)
		ret = __ilio_lbamap_prepare(&ic->sp.map, lba);
	if (!ret)
		ret = __ilio_chunk_reserve(&ic->sp.chunks);
	return ret;
}

/*
 * After an update that returned @ret: a persistent store writes back now
 * or starts it in the background.  With @nowait a write-back owed is the
 * caller's (ILIO_OWES_WRITEBACK) instead.  Return: what the update returns.
 */
static int ilio_core_after_update(struct ilio_core *ic, int ret, bool nowait,
				  bool sync, bool kick)
{
	if (!ret && nowait && sync)
		ret = ILIO_OWES_WRITEBACK;
	else if (!ret && sync)
		ilio_core_writeback(ic);
	else if (!ret && kick)
		ic->store->ops->kick(ic->store);
	ilio_core_sync_mode(ic);
	return ret;
}

/* Fold one duplicate lookup's outcome into @hit_avg (lock held). */
static void __ilio_note_hit(struct ilio_core *ic, bool hit)
{
	u32 avg = ic->hit_avg;

	WRITE_ONCE(ic->hit_avg, avg - (avg >> 5) + (hit ? 65536U >> 5 : 0));
}

/*
 * Store one block.  Hashing and compression run outside the lock.  Two
 * orders: when duplicates are common (@hit_avg), look one up first and
 * compress only a new chunk, with the lock dropped in between (a second
 * round trip; the lookup is redone if another writer stored a chunk
 * meanwhile); when they are rare, or dedup is off, compress first and
 * store with one round trip (a duplicate found then wastes the
 * compression).  Either order stores the same thing.
 */
static int ilio_core_write_once(struct ilio_core *ic, ilio_lba_t lba,
				const void *block, struct ilio_ctx *ctx,
				bool nowait, bool *sync, bool *kick)
{
	const void *payload = block;
	u32 len = ILIO_BLOCK_SIZE;
	ilio_cid_t cid;
	bool lz4 = false, capped = false, early;
	u64 hash, gen;
	ilio_loc_t loc;
	int ret;

	if (ilio_block_is_zero(block)) {
		down_write(&ic->sp.lock);
		ret = __ilio_reserve(ic, 0, 1, ILIO_LEVEL_USER);
		if (!ret) {
			__ilio_remap(ic, lba, 0);
			ic->sp.st.zero_blocks++;
		}
		goto out;
	}

	hash = ilio_hash_block(block, ic->sp.hash_seed);
	early = READ_ONCE(ic->compress) &&
		(!READ_ONCE(ic->dedup) || READ_ONCE(ic->hit_avg) < ILIO_HIT_AVG_EARLY);
	if (early)
		len = ilio_compress_block(ctx, block, &payload, &lz4);
	down_write(&ic->sp.lock);
	/* A dedup hit needs only the map leaf; a new chunk needs more later. */
	ret = __ilio_make_room(ic, __ilio_lbamap_prepare_bytes(&ic->sp.map, lba));
	if (!ret)
		ret = __ilio_lbamap_prepare(&ic->sp.map, lba);
	if (!ret)
		ret = __ilio_try_dedup(ic, lba, hash, block, ctx, nowait,
				       &capped);
	if (ret >= 0 && ic->dedup)
		__ilio_note_hit(ic, ret > 0);
	if (ret)
		goto out;
	if (!early) {
		gen = ic->stored_gen;
		up_write(&ic->sp.lock);

		if (READ_ONCE(ic->compress))
			len = ilio_compress_block(ctx, block, &payload, &lz4);

		down_write(&ic->sp.lock);
		/* Another writer may have stored the same content meanwhile. */
		if (ic->stored_gen != gen) {
			ret = __ilio_try_dedup(ic, lba, hash, block, ctx, nowait,
					       &capped);
			if (ret)
				goto out;
		}
	}
	ret = __ilio_prepare_meta(ic, lba);
	if (!ret)
		ret = __ilio_reserve(ic, len, 2, ILIO_LEVEL_USER);
	if (ret)
		goto out;
	cid = __ilio_chunk_alloc(&ic->sp.chunks, hash, 0);
	ilio_chunk_set_class(&ic->sp.chunks, cid, __ilio_block_class(ic, lba));
	loc = ic->store->ops->append(ic->store, cid, payload, len, lz4);
	ilio_chunk_set_loc(&ic->sp.chunks, cid, loc);
	ic->sp.stored_bytes += len;
	ic->stored_gen++;
	if (__ilio_ram_allows(&ic->sp, (u64)ic->sp.chunks.nr_buckets * 2 * sizeof(u32)))
		__ilio_index_maybe_grow(&ic->sp.chunks);
	__ilio_remap(ic, lba, cid);
	if (capped)
		ic->sp.st.dedup_candidates_capped++;
out:
	if (ret > 0)
		ret = 0;
	if (!ret && ic->store->ops->after_write)
		ic->store->ops->after_write(ic->store, sync, kick);
	up_write(&ic->sp.lock);
	return ret;
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

	if (ic->store->ops->writeback) {
		ret = ilio_core_writeback(ic);
		if (ret)
			return ret;
		if (err == -EAGAIN)
			return 0;
	}
	ilio_space_relieve(&ic->sp);
	return 0;
}

/*
 * ilio_core_write() and ilio_core_write_nowait().  With @nowait, whatever
 * would wait for I/O (write-back to relieve pressure, a device read of a
 * dedup candidate, GC to reclaim space) is not done: the call returns
 * -EAGAIN having changed nothing, or ILIO_OWES_WRITEBACK having stored
 * the block when the writer must write back before it completes.
 */
static int ilio_core_do_write(struct ilio_core *ic, u64 lba, const void *block,
			      struct ilio_ctx *ctx, bool nowait)
{
	bool sync = false, kick = false, reclaimed = false;
	int ret;

	if (lba >= ic->sp.map.nr_blocks)
		return -EINVAL;
	ret = ilio_core_refuse(ic, true);
	if (ret)
		return ret;
	for (;;) {
		ret = ilio_core_write_once(ic, ilio_to_lba(lba), block, ctx,
					   nowait, &sync, &kick);
		if (ret == -EAGAIN || ret == -ENOMEM) {
			if (nowait) {
				ret = -EAGAIN;
				break;
			}
			/* Pressure, not a full store: it passes. */
			ret = ilio_core_relieve(ic, ret);
			if (ret)
				break;
			continue;
		}
		if (ret == -ENOSPC && ic->store->ops->reclaim && !reclaimed) {
			if (nowait) {
				ret = -EAGAIN;
				break;
			}
			reclaimed = true;
			if (!ic->store->ops->reclaim(ic->store))
				continue;
		}
		break;
	}
	if (ret == -ENOSPC) {
		down_write(&ic->sp.lock);
		ic->sp.st.nospc_errors++;
		up_write(&ic->sp.lock);
	}
	return ilio_core_after_update(ic, ret, nowait, sync, kick);
}

/**
 * ilio_core_write() - store one block at @lba
 * @ic: core
 * @lba: logical block, below the core's nr_blocks
 * @block: ILIO_BLOCK_SIZE bytes
 * @ctx: the caller's context, used by it alone during the call
 *
 * The old content of @lba stays intact when the write fails.  Memory
 * pressure never fails it: when an allocation fails and its reserve is
 * used up, or (persistent) RAM is full of unwritten data, the writer
 * writes back, refills the reserves or waits, and tries again
 * (ilio_core_relieve()).  When the device has no free segment it runs GC
 * once before giving up.  It may wait for backend I/O: not for the dm map
 * function (ilio_core_write_nowait()).
 *
 * Return: 0; -ENOSPC when the store (RAM budget or device) is full of
 * live data; -EINVAL for an LBA out of range; -EIO (persistent, after a
 * backend write error) or -EROFS (opened read-only).
 */
int ilio_core_write(struct ilio_core *ic, u64 lba, const void *block,
		    struct ilio_ctx *ctx)
{
	return ilio_core_do_write(ic, lba, block, ctx, false);
}

/**
 * ilio_core_write_nowait() - store one block without waiting for I/O
 * @ic: core
 * @lba: logical block, below the core's nr_blocks
 * @block: ILIO_BLOCK_SIZE bytes
 * @ctx: the caller's context, used by it alone during the call
 *
 * For the dm map function, which may sleep (on the space lock, in an
 * allocation) but must never wait for I/O issued on the device's behalf:
 * it is only dispatched after map returns.  Hashing, dedup against what
 * RAM holds, compression and the append all happen here; background
 * write-back is started (kick) as ilio_core_write() would.
 *
 * Return: 0; ILIO_OWES_WRITEBACK: stored, and the caller must call
 * ilio_core_writeback() before it completes the write (no coalescing, or
 * more dirty data than max_dirty: the writer pays); -EAGAIN: nothing
 * changed, and ilio_core_write() from a context that may wait will do the
 * write (memory or write-back pressure, a dedup candidate only the device
 * holds, a full device that GC may clean); or what ilio_core_write()
 * returns otherwise.
 */
int ilio_core_write_nowait(struct ilio_core *ic, u64 lba, const void *block,
			   struct ilio_ctx *ctx)
{
	return ilio_core_do_write(ic, lba, block, ctx, true);
}

/* The chunk @lba maps to (in *@cid) and its location; 0 when unmapped. */
static ilio_loc_t __ilio_lba_loc(struct ilio_core *ic, ilio_lba_t lba,
				 ilio_cid_t *cid)
{
	*cid = __ilio_lbamap_get(&ic->sp.map, lba);
	return *cid ? ilio_chunk_loc(&ic->sp.chunks, *cid) : 0;
}

/*
 * The shared half of a read: with the space lock held for reading, look
 * the block up and serve it if its chunk is in a RAM segment and the
 * payload is raw, or compressed with a context to copy it into.  Several
 * readers run this at once; it changes nothing but a counter (atomic).
 * Writers, the compactor and every other change hold the lock for
 * writing, so what it reads is consistent and the segment cannot go.
 *
 * A persistent store's clean cache is served here too: its @peek only
 * marks the entry.
 *
 * Return: as ilio_core_read(), or 1 when the block needs the lock for
 * writing (the device, a pin) and nothing was done.
 */
static int ilio_core_read_shared(struct ilio_core *ic, ilio_lba_t lba,
				 void *block, struct ilio_ctx *ctx)
{
	const u8 *p;
	ilio_cid_t cid;
	ilio_loc_t loc;
	int ret;

	down_read(&ic->sp.lock);
	loc = __ilio_lba_loc(ic, lba, &cid);
	if (!loc || ilio_loc_damaged(loc)) {
		up_read(&ic->sp.lock);
		memset(block, 0, ILIO_BLOCK_SIZE);
		return loc ? -EIO : 0;
	}
	if (ilio_loc_lz4(loc) && !ctx) {
		up_read(&ic->sp.lock);
		return 1;
	}
	if (ic->sp.segs.segs[ilio_loc_seg(loc)].data)
		p = __ilio_loc_payload(ic, loc);
	else
		p = ic->store->ops->peek ? ic->store->ops->peek(ic->store, cid) : NULL;
	if (!p) {
		up_read(&ic->sp.lock);
		return 1;
	}
	if (ic->persistent)
		atomic64_inc(&ic->sp.shared_hits[ilio_read_class(ic, cid)]);
	if (!ilio_loc_lz4(loc)) {
		ret = ilio_load_payload(p, loc, block);
		up_read(&ic->sp.lock);
		return ret;
	}
	memcpy(ctx->cbuf, p, ilio_loc_len(loc));
	up_read(&ic->sp.lock);
	return ilio_load_payload(ctx->cbuf, loc, block);
}

/*
 * ilio_core_read() and ilio_core_read_nowait().  Nothing is decoded under
 * the lock.  ilio_core_read_shared() serves what it can with the lock
 * held for reading; the rest takes it for writing and looks up again.
 * With a context, a compressed payload (in a RAM segment or the clean
 * cache) is copied out under the lock into the context's scratch,
 * at most a block and usually half of one, and decoded from the copy: one
 * lock round trip per block.  Without one, a chunk in a RAM segment is
 * decoded from the pinned segment (two round trips).
 */
static int ilio_core_do_read(struct ilio_core *ic, u64 lba, void *block,
			     struct ilio_ctx *ctx, bool nowait)
{
	struct ilio_hold h;
	const u8 *p;
	ilio_cid_t cid;
	ilio_loc_t loc;
	u32 seg;
	u64 hash;
	int ret;

	if (lba >= ic->sp.map.nr_blocks)
		return -EINVAL;
	ret = ilio_core_refuse(ic, false);
	if (ret)
		return ret;
	ret = ilio_core_read_shared(ic, ilio_to_lba(lba), block, ctx);
	if (ret != 1)
		return ret;
	down_write(&ic->sp.lock);
	loc = __ilio_lba_loc(ic, ilio_to_lba(lba), &cid);
	if (!loc || ilio_loc_damaged(loc)) {
		up_write(&ic->sp.lock);
		memset(block, 0, ILIO_BLOCK_SIZE);
		return loc ? -EIO : 0;
	}
	seg = ilio_loc_seg(loc);
	if (!ic->sp.segs.segs[seg].data) {
		/* Persistent, on the device: the store's RAM first. */
		if (WARN_ON_ONCE(!ic->store->ops->load)) {
			up_write(&ic->sp.lock);
			return -EIO;
		}
		p = ic->store->ops->peek(ic->store, cid);
		if (p) {
			ic->sp.st.class_hits[ilio_read_class(ic, cid)]++;
			if (!ctx || !ilio_loc_lz4(loc)) {
				ret = ilio_load_payload(p, loc, block);
				up_write(&ic->sp.lock);
				return ret;
			}
			memcpy(ctx->cbuf, p, ilio_loc_len(loc));
			up_write(&ic->sp.lock);
			return ilio_load_payload(ctx->cbuf, loc, block);
		}
		if (nowait) {
			up_write(&ic->sp.lock);
			return -EAGAIN;
		}
		ic->sp.st.class_misses[ilio_read_class(ic, cid)]++;
		hash = ilio_chunk_hash(&ic->sp.chunks, cid);
		__ilio_hold(ic, &h, seg, 0);
		up_write(&ic->sp.lock);
		ret = ic->store->ops->load(ic->store, loc, cid, hash, block);
		down_write(&ic->sp.lock);
		__ilio_unhold(ic, &h);
		up_write(&ic->sp.lock);
		return ret;
	}
	p = __ilio_loc_payload(ic, loc);
	if (ic->persistent)
		ic->sp.st.class_hits[ilio_read_class(ic, cid)]++;
	if (!ilio_loc_lz4(loc)) {
		/* A copy costs what a pin and a second lock round trip would. */
		ret = ilio_load_payload(p, loc, block);
		up_write(&ic->sp.lock);
		return ret;
	}
	if (ctx) {
		/* One lock round trip: copy the payload out, decode the copy. */
		memcpy(ctx->cbuf, p, ilio_loc_len(loc));
		up_write(&ic->sp.lock);
		return ilio_load_payload(ctx->cbuf, loc, block);
	}
	__ilio_hold(ic, &h, seg, 0);
	up_write(&ic->sp.lock);

	ret = ilio_load_payload(p, loc, block);

	down_write(&ic->sp.lock);
	__ilio_unhold(ic, &h);
	__ilio_release(ic, seg);
	up_write(&ic->sp.lock);
	return ret;
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
	return ilio_core_do_read(ic, lba, block, NULL, false);
}

/**
 * ilio_core_read_ctx() - ilio_core_read(), decoding in the caller's context
 * @ic: core
 * @lba: logical block, below the core's nr_blocks
 * @block: ILIO_BLOCK_SIZE bytes of output
 * @ctx: the caller's context: a compressed chunk in RAM is copied into
 *	its scratch and decoded outside the lock
 *
 * For a worker: one lookup whether the chunk is in RAM or only on the
 * device (which it reads, and may sleep for).
 *
 * Return: as ilio_core_read().
 */
int ilio_core_read_ctx(struct ilio_core *ic, u64 lba, void *block,
		       struct ilio_ctx *ctx)
{
	return ilio_core_do_read(ic, lba, block, ctx, false);
}

/**
 * ilio_core_read_nowait() - load the block at @lba without waiting for I/O
 * @ic: core
 * @lba: logical block, below the core's nr_blocks
 * @block: ILIO_BLOCK_SIZE bytes of output
 * @ctx: the caller's context (its scratch holds a cached chunk's copy so
 *	that it decodes outside the lock), or NULL
 *
 * For the dm map function: it may sleep on the space lock, and never
 * waits for I/O.  A chunk that only the backing device holds is not
 * served here.
 *
 * Return: 0; -EAGAIN when the chunk must be read from the device (nothing
 * was counted: ilio_core_read() will); -EIO when the stored chunk does
 * not decode; -EINVAL for an LBA out of range.
 */
int ilio_core_read_nowait(struct ilio_core *ic, u64 lba, void *block,
			  struct ilio_ctx *ctx)
{
	return ilio_core_do_read(ic, lba, block, ctx, true);
}

/**
 * ilio_core_prefetch() - read the chunks of several blocks at once
 * @ic: core
 * @lba: first block
 * @nr: blocks
 *
 * For a worker about to read [@lba, @lba + @nr): the chunks of those
 * blocks that only the backing device holds, from the first one's segment
 * on (up to the first block in another segment), are read with one device
 * read and cached (&ilio_store_ops.prefetch), so that the per-block reads
 * that follow hit RAM.  An 8 KiB read miss then costs one backend read,
 * not two.  Nothing else changes; any block it does not bring in is read
 * as usual.  It may sleep and read the device: not for the map function.
 *
 * Return: 0, also when there was nothing to read; -EIO when the read failed
 * (the per-block reads then report their own errors).
 */
int ilio_core_prefetch(struct ilio_core *ic, u64 lba, unsigned int nr)
{
	struct ilio_fetch f[ILIO_FETCH_MAX];
	struct ilio_hold h;
	unsigned int i, j, n = 0;
	ilio_cid_t cid;
	ilio_loc_t loc;
	u32 seg = 0;
	int ret;

	if (!ic->store->ops->prefetch || lba >= ic->sp.map.nr_blocks ||
	    ilio_core_refuse(ic, false))
		return 0;
	nr = min_t(u64, min_t(u32, nr, ILIO_FETCH_MAX), ic->sp.map.nr_blocks - lba);
	down_write(&ic->sp.lock);
	for (i = 0; i < nr; i++) {
		loc = __ilio_lba_loc(ic, ilio_to_lba(lba + i), &cid);
		if (!loc || ilio_loc_damaged(loc) ||
		    ic->sp.segs.segs[ilio_loc_seg(loc)].data ||
		    ic->store->ops->peek(ic->store, cid))
			continue;	/* nothing to read for this block */
		if (n && ilio_loc_seg(loc) != seg)
			break;
		for (j = 0; j < n && f[j].cid != cid; j++)
			;
		if (j < n)
			continue;	/* a duplicate of an earlier block */
		seg = ilio_loc_seg(loc);
		f[n].loc = loc;
		f[n].cid = cid;
		f[n].hash = ilio_chunk_hash(&ic->sp.chunks, cid);
		n++;
	}
	if (n < 2) {
		up_write(&ic->sp.lock);
		return 0;
	}
	__ilio_hold(ic, &h, seg, 0);
	up_write(&ic->sp.lock);
	ret = ic->store->ops->prefetch(ic->store, f, n);
	down_write(&ic->sp.lock);
	__ilio_unhold(ic, &h);
	up_write(&ic->sp.lock);
	return ret < 0 ? ret : 0;
}

/* ilio_core_discard() and ilio_core_discard_nowait(). */
static int ilio_core_do_discard(struct ilio_core *ic, u64 lba, bool nowait)
{
	bool sync = false, kick = false;
	int ret, tries;

	if (lba >= ic->sp.map.nr_blocks)
		return -EINVAL;
	ret = ilio_core_refuse(ic, true);
	if (ret)
		return ret;
	/* A discard frees space: it may use the GC part of the reserve. */
	for (tries = 0; ; ) {
		down_write(&ic->sp.lock);
		ret = __ilio_reserve(ic, 0, 1, ILIO_LEVEL_GC);
		if (!ret) {
			__ilio_remap(ic, ilio_to_lba(lba), 0);
			if (ic->store->ops->after_write)
				ic->store->ops->after_write(ic->store, &sync, &kick);
		}
		up_write(&ic->sp.lock);
		if (nowait && (ret == -EAGAIN || ret == -ENOMEM ||
			       (ret == -ENOSPC && ic->store->ops->reclaim)))
			ret = -EAGAIN;	/* the worker waits */
		else if (ret == -EAGAIN || ret == -ENOMEM)
			ret = ilio_core_relieve(ic, ret);	/* pressure: it passes */
		else if (ret == -ENOSPC && ic->store->ops->reclaim && tries++ < 2)
			ret = ic->store->ops->reclaim(ic->store);
		else
			break;
		if (ret)
			break;
	}
	return ilio_core_after_update(ic, ret, nowait, sync, kick);
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
	return ilio_core_do_discard(ic, lba, false);
}

/**
 * ilio_core_discard_nowait() - unmap @lba without waiting for I/O
 * @ic: core
 * @lba: logical block, below the core's nr_blocks
 *
 * Return: as ilio_core_write_nowait().
 */
int ilio_core_discard_nowait(struct ilio_core *ic, u64 lba)
{
	return ilio_core_do_discard(ic, lba, true);
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

	if (lba >= ic->sp.map.nr_blocks)
		return 0;
	down_write(&ic->sp.lock);
	if (!ilio_core_read_only(ic) && !ilio_core_error(ic)) {
		next = __ilio_lbamap_next_leaf(&ic->sp.map, lba >> ILIO_LBAMAP_LEAF_SHIFT);
		next = next >= ic->sp.map.nr_leaves ? ic->sp.map.nr_blocks :
		       next << ILIO_LBAMAP_LEAF_SHIFT;
		run = next > lba ? next - lba : 0;
	}
	up_write(&ic->sp.lock);
	return min(run, max);
}

/**
 * ilio_core_compact() - reclaim mostly dead segments now
 * @ic: core
 * @max_segs: most segments to empty
 *
 * RAM store: empties sealed segments that are at most 3/4 live, emptiest
 * first.  Persistent: nothing (see ilio_core_gc()).
 *
 * Return: the number of segments emptied.
 */
int ilio_core_compact(struct ilio_core *ic, unsigned int max_segs)
{
	int n;

	if (!ic->store->ops->compact || ilio_core_refuse(ic, true))
		return 0;
	n = ic->store->ops->compact(ic->store, max_segs);
	ilio_core_sync_mode(ic);
	return n;
}

/* Blocks whose chunks one hint re-classes at most (4 GiB of them). */
#define ILIO_HINT_WALK_MAX	BIT_ULL(20)

/*
 * The chunks of the mapped blocks in sectors [@start, @start + @nr) take
 * their blocks' class, up to ILIO_HINT_WALK_MAX blocks, and their cached
 * copies move to the place of that class (a chunk pinned after it was
 * cached is pinned now, a nocache one leaves the cache).  A chunk that
 * several blocks share is only raised (as __ilio_class_share() does at a
 * write): it keeps the best class any of its blocks was given, so that a
 * DLL block that a pagefile repeats stays pinned whatever the order of
 * the hints, and the walk at open gives the same classes as before.
 */
static void __ilio_core_reclass(struct ilio_core *ic, u64 start, u64 nr)
{
	u64 first, last, lba, walked = 0;
	int cls;

	lockdep_assert_held_write(&ic->sp.lock);
	if (!ic->sp.map.nr_blocks)
		return;
	first = start >> (ILIO_BLOCK_SHIFT - 9);
	last = min((start + nr - 1) >> (ILIO_BLOCK_SHIFT - 9), ic->sp.map.nr_blocks - 1);
	for (lba = first; lba <= last && walked < ILIO_HINT_WALK_MAX; lba++, walked++) {
		ilio_cid_t cid;

		if (!(lba & (ILIO_LBAMAP_LEAF_ENTRIES - 1))) {
			u64 leaf = lba >> ILIO_LBAMAP_LEAF_SHIFT;
			u64 next = __ilio_lbamap_next_leaf(&ic->sp.map, leaf);

			if (next > leaf) {	/* unmapped leaves: skip them */
				lba = (next << ILIO_LBAMAP_LEAF_SHIFT) - 1;
				continue;
			}
		}
		cid = __ilio_lbamap_get(&ic->sp.map, ilio_to_lba(lba));
		if (!cid)
			continue;
		cls = __ilio_block_class(ic, ilio_to_lba(lba));
		if (ilio_chunk_ref(&ic->sp.chunks, cid) > 1)
			__ilio_class_share(ic, cid, cls);
		else
			ilio_chunk_set_class(&ic->sp.chunks, cid, cls);
		if (ic->sp.cached)
			__ilio_cache_reclass(&ic->sp.cache, cid);
		if (!(walked & 4095))
			cond_resched();	/* a rwsem: the walk may sleep */
	}
}

/**
 * ilio_core_hints_set() - set the region classes of sector ranges
 * @ic: core
 * @h: @n ranges, applied in order (a later one wins where they overlap);
 *     each @nr at least 1, the caller checks the device's end
 * @n: ranges, at least 1
 *
 * Advisory: what is stored and read never changes, only how clean data
 * is cached.  The chunks of the mapped blocks in each range take the
 * blocks' new class exactly (up to ILIO_HINT_WALK_MAX blocks a range;
 * past that, blocks take it at their next write).  A shared chunk is only
 * raised, to the best class its blocks have after all of @h: a class that
 * a later range overrides is not given to it, as it would be with one
 * range a call.
 *
 * All of @h is one change: the new map is built apart from the live one,
 * under the class mutex only, and swapped in whole, so an error leaves
 * the map as it was.  The space lock is then taken once per range to
 * re-class its blocks (the first time also for the swap, the last time
 * to pack the map), so that I/O waits for one range's walk at most, as
 * with one range per call.  Between two of those walks a write already
 * takes its class from the new map.
 *
 * A persistent store saves the whole map once, before this returns (it
 * is durable then), unless it was opened read-only or is in a degraded
 * mode: the map then holds in RAM only, until the device is removed.
 *
 * Return: 0; -EINVAL (bad class or range), -ENOSPC (the map would pass
 * its limit), -ENOMEM: nothing changed.  -EIO: the map changed but could
 * not be saved (the saved map is the one before; the next change that is
 * saved saves this one too).
 */
int ilio_core_hints_set(struct ilio_core *ic, const struct ilio_hint *h, u32 n)
{
	const struct ilio_store_ops *ops = ic->store->ops;
	bool save = ops->save_classes && !ilio_core_read_only(ic) &&
		    READ_ONCE(ic->mode) == ILIO_MODE_WRITE;
	struct ilio_classmap map;
	u32 i;
	int ret;

	if (!n)
		return -EINVAL;
	mutex_lock(&ic->class_mutex);
	ret = ilio_classmap_copy(&map, &ic->classes);
	for (i = 0; !ret && i < n; i++)
		ret = ilio_classmap_set(&map, h[i].start, h[i].nr, h[i].cls);
	if (ret)
		goto out;
	for (i = 0; i < n; i++) {
		down_write(&ic->sp.lock);
		if (!i) {
			swap(ic->classes, map);
			ic->sp.class_bytes = ilio_classmap_bytes(&ic->classes);
		}
		__ilio_core_reclass(ic, h[i].start, h[i].nr);
		if (i == n - 1 && save)
			ops->pack_classes(ic->store, &ic->classes);
		up_write(&ic->sp.lock);
	}
	if (save)
		ret = ops->save_classes(ic->store);
out:
	ilio_classmap_exit(&map);	/* the old map, or the refused copy */
	mutex_unlock(&ic->class_mutex);
	return ret;
}

/**
 * ilio_core_hint() - set the region class of one sector range
 * @ic: core
 * @start: first sector
 * @nr: sectors, at least 1; the caller checks the device's end
 * @cls: enum ilio_class; ILIO_CLASS_NORMAL clears
 *
 * Return: as ilio_core_hints_set().
 */
int ilio_core_hint(struct ilio_core *ic, u64 start, u64 nr, int cls)
{
	struct ilio_hint h = { .start = start, .nr = nr, .cls = cls };

	return ilio_core_hints_set(ic, &h, 1);
}

/*
 * At open: load the saved class map and give the mapped blocks' chunks
 * their classes.  A map that is not valid is an empty one (hints are
 * advisory): the open goes on, with a warning.
 */
static int ilio_core_load_classes(struct ilio_core *ic)
{
	const struct ilio_store_ops *ops = ic->store->ops;
	const char *why;
	u32 i;
	int ret;

	if (!ops->load_classes)
		return 0;
	ret = ops->load_classes(ic->store, &ic->classes, &why);
	if (ret)
		return ret;
	if (why)
		pr_warn("device-mapper: ilio: %s: saved class map not used: %s\n",
			ic->name, why);
	down_write(&ic->sp.lock);
	ic->sp.class_bytes = ilio_classmap_bytes(&ic->classes);
	for (i = 0; i < ic->classes.nr; i++)
		__ilio_core_reclass(ic, ic->classes.r[i].start,
				    ic->classes.r[i].end - ic->classes.r[i].start);
	up_write(&ic->sp.lock);
	return 0;
}

/**
 * ilio_core_hints() - copy the class map
 * @ic: core
 * @out: room for @max ranges
 * @max: ranges @out holds
 * @limit: set to the most ranges the map may hold
 * @bytes: set to the memory the map takes
 *
 * Return: the ranges the map holds (those past @max are not copied).
 */
u32 ilio_core_hints(struct ilio_core *ic, struct ilio_crange *out, u32 max,
		    u32 *limit, u64 *bytes)
{
	u32 n;

	down_read(&ic->sp.lock);
	n = ic->classes.nr;
	if (out && max && n)
		memcpy(out, ic->classes.r, min(n, max) * sizeof(*out));
	*limit = ic->classes.limit;
	*bytes = ilio_classmap_bytes(&ic->classes);
	up_read(&ic->sp.lock);
	return n;
}

/**
 * ilio_core_get_stats() - snapshot the statistics
 * @ic: core
 * @out: filled in
 */
void ilio_core_get_stats(struct ilio_core *ic, struct ilio_stats *out)
{
	int i;

	down_write(&ic->sp.lock);
	*out = ic->sp.st;
	/* Hits and misses are counted by class only; the totals are sums. */
	out->cache_hits = 0;
	out->cache_misses = 0;
	for (i = 0; i < ILIO_NR_CLASSES; i++) {
		out->class_hits[i] += atomic64_read(&ic->sp.shared_hits[i]);
		out->cache_hits += out->class_hits[i];
		out->cache_misses += out->class_misses[i];
	}
	out->logical_bytes = ic->sp.map.mapped << ILIO_BLOCK_SHIFT;
	out->unique_chunks = ic->sp.chunks.nr_live;
	out->unique_bytes = (u64)ic->sp.chunks.nr_live << ILIO_BLOCK_SHIFT;
	out->stored_bytes = ic->sp.stored_bytes;
	out->meta_bytes = __ilio_meta_bytes(&ic->sp);
	out->ram_used_bytes = __ilio_ram_used(&ic->sp);
	out->ram_limit_bytes = ic->sp.ram_limit;
	if (ic->store->ops->stats)
		ic->store->ops->stats(ic->store, out);
	up_write(&ic->sp.lock);
}

/**
 * ilio_core_clear_stats() - zero the event counters (not the gauges)
 * @ic: core
 */
void ilio_core_clear_stats(struct ilio_core *ic)
{
	int i;

	down_write(&ic->sp.lock);
	memset(&ic->sp.st, 0, sizeof(ic->sp.st));
	for (i = 0; i < ILIO_NR_CLASSES; i++)
		atomic64_set(&ic->sp.shared_hits[i], 0);
	up_write(&ic->sp.lock);
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
	down_write(&ic->sp.lock);
	ic->dedup = dedup;
	WRITE_ONCE(ic->compress, compress);
	up_write(&ic->sp.lock);
}

/**
 * ilio_core_set_ram_limit() - change the RAM budget
 * @ic: core
 * @bytes: new budget
 *
 * RAM store: growing always works (given memory for a larger segment
 * table); shrinking works down to what is in use now.  Persistent: the
 * cache shrinks to fit; the metadata and one more segment must fit.
 *
 * Return: 0; -ENOSPC when @bytes is below the RAM in use; -ENOMEM;
 * -EINVAL when @bytes needs more segments than locations can address.
 */
int ilio_core_set_ram_limit(struct ilio_core *ic, u64 bytes)
{
	int ret;

	down_write(&ic->sp.lock);
	ret = ic->store->ops->set_ram_limit(ic->store, bytes);
	up_write(&ic->sp.lock);
	return ret;
}

/**
 * __ilio_store_grow_map() - make the LBA map cover @nr_blocks
 * @st: store; its space is locked
 * @nr_blocks: the new logical size, not below the current one
 * @why: set on failure
 *
 * The directory's growth is metadata: the store makes room for it first
 * (cache eviction, compaction), and the budget check of the table parser
 * must still pass at the new size.
 *
 * Return: 0; -EFBIG above ILIO_LBAMAP_MAX_BLOCKS; -E2BIG when the RAM
 * budget cannot hold the larger map; -ENOMEM.
 */
int __ilio_store_grow_map(struct ilio_store *st, u64 nr_blocks,
			  const char **why)
{
	struct ilio_space *sp = st->sp;
	u64 extra;
	int ret;

	lockdep_assert_held_write(&sp->lock);
	if (nr_blocks <= sp->map.nr_blocks)
		return 0;
	ret = ilio_check_budget(nr_blocks, sp->ram_limit, sp->segs.seg_bytes,
				why);
	if (ret)
		return ret;
	extra = ilio_lbamap_dir_bytes(nr_blocks) -
		ilio_lbamap_dir_bytes(sp->map.nr_blocks);
	/*
	 * As the open requires (replay charges leave two segments): else a
	 * store that grew does not open again with the same table.
	 */
	if (st->ops->make_room(st, extra) || !__ilio_ram_allows(sp, extra) ||
	    __ilio_meta_bytes(sp) + extra + 2ULL * sp->segs.seg_bytes >
	    sp->ram_limit) {
		*why = "ram_mb is too small for the LBA map of the new size";
		return -E2BIG;
	}
	ret = __ilio_lbamap_grow(&sp->map, nr_blocks);
	if (ret)
		*why = "out of memory";
	return ret;
}

/**
 * ilio_core_grow() - grow the logical size, and the store over a larger
 *	backing device
 * @ic: core; no I/O may be in flight (the device is suspended)
 * @nr_blocks: the new logical size in blocks, not below the current one
 * @dev_bytes: persistent: the backing device's size now (whole new
 *	segments beyond the store's join it); ignored by a RAM store
 * @why: set on failure, a static string for the admin
 *
 * Shrinking is refused: blocks beyond a smaller size may hold data.  A
 * persistent store makes the new geometry durable before it uses it (see
 * "Online grow" in Documentation/ilio-design.rst).
 *
 * A refusal changes nothing.  A backing device whose new space cannot
 * join now (RAM budget, memory) fails only a grow of the logical size;
 * otherwise the call returns 0 with *@why saying why the space waits.
 *
 * Return: 0; -EINVAL (shrink); -EROFS (read-only); -EIO (failed store, or
 * the metadata write failed: the store is then read-only); -EFBIG, -E2BIG,
 * -ENOMEM as __ilio_store_grow_map().
 */
int ilio_core_grow(struct ilio_core *ic, u64 nr_blocks, u64 dev_bytes,
		   const char **why)
{
	struct ilio_store *st = ic->store;
	int ret;

	*why = "";
	ilio_core_sync_mode(ic);	/* a store error since the last call */
	if (nr_blocks < ic->sp.map.nr_blocks) {
		*why = "shrinking is not supported (blocks beyond the new end may hold data)";
		return -EINVAL;
	}
	ret = ilio_core_refuse(ic, true);
	if (ret) {
		/* A larger backing device waits for a writable open. */
		if (nr_blocks == ic->sp.map.nr_blocks)
			return 0;
		*why = ret == -EROFS ? "the store is read-only" : "the store has failed";
		return ret;
	}
	/* The table parser's check at the new size, before any change. */
	ret = ilio_check_budget(nr_blocks, ic->sp.ram_limit, ic->sp.segs.seg_bytes,
				why);
	if (ret)
		return ret;
	if (st->ops->grow) {
		ret = st->ops->grow(st, nr_blocks, dev_bytes, why);
		ilio_core_sync_mode(ic);
		return ret;
	}
	down_write(&ic->sp.lock);
	ret = __ilio_store_grow_map(st, nr_blocks, why);
	up_write(&ic->sp.lock);
	return ret;
}

/*
 * A core over a store of @type.  On failure *@err, and *@why when the
 * store gives a reason.
 */
static struct ilio_core *ilio_core_new(const struct ilio_core_params *p,
				       const struct ilio_store_type *type,
				       int *err, const char **why)
{
	struct ilio_core *ic = kzalloc(sizeof(*ic), GFP_KERNEL);
	int ret;

	*why = "out of memory";
	if (!ic) {
		*err = -ENOMEM;
		return NULL;
	}
	INIT_LIST_HEAD(&ic->holds);
	mutex_init(&ic->class_mutex);
	ilio_classmap_init(&ic->classes, ILIO_CLASS_RANGES_DEFAULT);
	strscpy(ic->name, p->name ? p->name : "ilio", sizeof(ic->name));
	ic->event = p->event;
	ic->event_priv = p->event_priv;
	ic->dedup = p->dedup;
	ic->compress = p->compress;
	/* The parser's budget check, which ilioctl runs as well. */
	ret = ilio_check_budget(p->nr_blocks, p->ram_limit, p->seg_bytes, why);
	if (!ret)
		ret = ilio_space_init(&ic->sp, p->nr_blocks, p->ram_limit,
				      p->seg_bytes);
	if (ret)
		goto fail;
	ic->store = type->open(&ic->sp, p, &ret, why);
	if (!ic->store)
		goto fail;
	ic->persistent = ic->store->persistent;
	ret = ilio_core_load_classes(ic);
	if (ret) {
		*why = "out of memory";
		ic->store->ops->destroy(ic->store);
		goto fail;
	}
	/* Asked for, not an error: no log line. */
	if (ilio_core_read_only(ic))
		ic->mode = ILIO_MODE_READ_ONLY;
	return ic;
fail:
	ilio_space_exit(&ic->sp);
	ilio_classmap_exit(&ic->classes);
	mutex_destroy(&ic->class_mutex);
	kfree(ic);
	*err = ret;
	return NULL;
}

/**
 * ilio_core_create() - create an empty RAM store (diskless mode)
 * @p: parameters (@p->store is ignored)
 * @err: set to -EINVAL (bad parameters), -E2BIG (the RAM budget cannot
 *       hold the metadata of this size plus two segments), -EFBIG (more
 *       than ILIO_LBAMAP_MAX_BLOCKS blocks) or -ENOMEM
 *
 * Return: the core, or NULL with @err set.
 */
struct ilio_core *ilio_core_create(const struct ilio_core_params *p, int *err)
{
	const char *why;

	if (!p->nr_blocks || !p->seg_bytes || p->seg_bytes % ILIO_BLOCK_SIZE ||
	    p->seg_bytes > ILIO_SEG_BYTES_MAX) {
		*err = -EINVAL;
		return NULL;
	}
	if (p->ram_limit / p->seg_bytes < 2) {
		*err = -E2BIG;
		return NULL;
	}
	return ilio_core_new(p, &ilio_ram_store, err, &why);
}

/**
 * ilio_core_open() - open (recover) a persistent store
 * @p: parameters, with @p->store (the persistent store, ilio_log_store)
 *	and @p->bops set
 * @err: set on failure: -ENOENT (not an ilio device), -EINVAL (damaged,
 *	or another size than @p), -EIO, -ENOMEM, -E2BIG (RAM budget too
 *	small)
 * @why: set on failure: a static string for the admin
 *
 * The recovery rules are the store's: see ilio_log_open() in
 * ilio-recover.c.
 *
 * Return: the core, or NULL.
 */
struct ilio_core *ilio_core_open(const struct ilio_core_params *p, int *err,
				 const char **why)
{
	if (!p->store) {
		*err = -EINVAL;
		*why = "internal: no store type";
		return NULL;
	}
	return ilio_core_new(p, p->store, err, why);
}

/**
 * ilio_core_precheck() - what an open would refuse before it reads much
 * @p: the parameters ilio_core_open() will get
 * @err: set on refusal: -EINVAL (another size than @p), -ENOMEM
 * @why: set on refusal: a static string for the admin
 *
 * Reads the superblock and the anchors, writes nothing, and judges only
 * what needs no recovery (the size), so that an activation can refuse a
 * wrong table before it claims the store (ilio-target.c).
 *
 * Return: true when the open may go ahead.
 */
bool ilio_core_precheck(const struct ilio_core_params *p, int *err,
			const char **why)
{
	int ret;

	if (!p->store || !p->store->precheck)
		return true;
	ret = p->store->precheck(p, why);
	if (ret)
		*err = ret;
	return !ret;
}

/**
 * ilio_core_destroy() - free a store and everything in it (no I/O)
 * @ic: core, or NULL; no call may be in progress
 */
void ilio_core_destroy(struct ilio_core *ic)
{
	if (!ic)
		return;
	ic->store->ops->destroy(ic->store);
	ilio_space_exit(&ic->sp);
	ilio_classmap_exit(&ic->classes);
	mutex_destroy(&ic->class_mutex);
	kfree(ic);
}

/**
 * ilio_core_close() - write everything back, checkpoint, and free
 * @ic: core, or NULL; no other call may be in progress
 *
 * Return: 0, or the error that kept data from reaching the device (the
 * core is freed either way).
 */
int ilio_core_close(struct ilio_core *ic)
{
	int ret = ic ? ilio_core_quiesce(ic) : 0;

	ilio_core_destroy(ic);
	return ret;
}

/**
 * ilio_core_writeback() - write every closed unit to the backing device
 * @ic: core
 *
 * Segments go in log order, each as one write of its closed, unwritten
 * bytes.  A failed write is retried once; a second failure makes the
 * device read-only (sticky), and the data stays in RAM.  RAM store:
 * nothing to do.
 *
 * Return: 0, or the sticky error.
 */
int ilio_core_writeback(struct ilio_core *ic)
{
	int ret = ilio_core_refuse(ic, false);

	if (ret || !ic->store->ops->writeback)
		return ret;
	ret = ic->store->ops->writeback(ic->store);
	ilio_core_sync_mode(ic);
	return ret;
}

/**
 * ilio_core_flush() - make every write completed so far durable
 * @ic: core
 *
 * Closes the open unit (a partial segment), writes everything back and
 * flushes the backing device.  Concurrent flushes share the device flush
 * when one covers the other.  Diskless: nothing to do.
 *
 * Return: 0, or -EIO when the device cannot keep the promise.
 */
int ilio_core_flush(struct ilio_core *ic)
{
	int ret = ilio_core_refuse(ic, false);

	if (!ret && ic->store->ops->flush)
		ret = ic->store->ops->flush(ic->store);
	ilio_core_sync_mode(ic);
	return ret;
}

/**
 * ilio_core_checkpoint() - write a checkpoint and free what it releases
 * @ic: core
 *
 * Return: 0 (also when diskless); -EIO (or the sticky error) when the
 * device fails; -ENOSPC when not even the reserve holds the checkpoint;
 * -EROFS read-only.
 */
int ilio_core_checkpoint(struct ilio_core *ic)
{
	int ret = ilio_core_refuse(ic, false);

	if (ret || !ic->store->ops->checkpoint)
		return ret;
	ret = ic->store->ops->checkpoint(ic->store);
	ilio_core_sync_mode(ic);
	return ret;
}

/**
 * ilio_core_gc() - move live chunks out of mostly dead segments
 * @ic: core
 * @max_segs: most segments to clean
 *
 * Greedy: the written segment with the fewest live bytes (at most 3/4
 * live) first.  The segments cleaned become free after the checkpoint
 * this function ends with.
 *
 * Return: segments cleaned (0 when diskless), or a negative errno
 * (-EROFS read-only).
 */
int ilio_core_gc(struct ilio_core *ic, unsigned int max_segs)
{
	int ret = ilio_core_refuse(ic, false);

	if (ret || !ic->store->ops->gc)
		return ret;
	ret = ic->store->ops->gc(ic->store, max_segs);
	ilio_core_sync_mode(ic);
	return ret;
}

/**
 * ilio_core_tick() - background work, called every 100 ms or so
 * @ic: core
 *
 * Persistent: write-back of aging data, GC when free segments run low,
 * checkpoints when the log got long (see ilio-gc.c).
 */
void ilio_core_tick(struct ilio_core *ic)
{
	if (ilio_core_refuse(ic, false) || !ic->store->ops->tick)
		return;
	ic->store->ops->tick(ic->store);
	ilio_core_sync_mode(ic);
}

/**
 * ilio_core_quiesce() - write everything back and checkpoint if needed
 * @ic: core
 *
 * For suspend and close: afterwards the backing device holds every write
 * and a checkpoint that makes the next recovery short.  The checkpoint is
 * skipped when nothing changed since the last one.
 *
 * Return: 0, or the error that kept data from reaching the device.
 */
int ilio_core_quiesce(struct ilio_core *ic)
{
	int ret = ilio_core_refuse(ic, false);

	if (ret || !ic->store->ops->quiesce)
		return ret;
	ret = ic->store->ops->quiesce(ic->store);
	ilio_core_sync_mode(ic);
	return ret;
}

/**
 * ilio_core_error() - the sticky backend error of a persistent core
 * @ic: core
 *
 * Return: 0 while healthy.
 */
int ilio_core_error(struct ilio_core *ic)
{
	return ic->store->ops->error ? ic->store->ops->error(ic->store) : 0;
}

/**
 * ilio_core_persistent() - does this core have a backing device?
 * @ic: core
 *
 * Return: true in persistent mode.
 */
bool ilio_core_persistent(struct ilio_core *ic)
{
	return ic->persistent;
}

/**
 * ilio_core_used_fallback() - did recovery use the older anchor?
 * @ic: core
 *
 * Return: true when the newest anchor's chain was damaged and the older
 * anchor's chain, which provably covers it, was replayed instead.
 */
bool ilio_core_used_fallback(struct ilio_core *ic)
{
	return ic->store->ops->used_fallback &&
	       ic->store->ops->used_fallback(ic->store);
}

/**
 * ilio_core_set_coalesce() - change the coalescing policy (table reload)
 * @ic: core
 * @coalesce: enum ilio_coalesce
 * @flush_interval_ms: coalesce auto: oldest unwritten data
 * @max_dirty: unwritten bytes before writers write back themselves
 */
void ilio_core_set_coalesce(struct ilio_core *ic, int coalesce,
			    u32 flush_interval_ms, u64 max_dirty)
{
	if (!ic->store->ops->set_coalesce)
		return;
	down_write(&ic->sp.lock);
	ic->store->ops->set_coalesce(ic->store, coalesce, flush_interval_ms,
				     max_dirty);
	up_write(&ic->sp.lock);
}
