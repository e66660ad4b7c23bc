// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-ckpt: the persistent store's checkpoints - snapshots of the maps
 * written into the log, the two anchor slots that name them, and the free
 * pass that a durable checkpoint allows; and the two slots of the class
 * map, which live beside the anchors.
 *
 * Locking: see ilio-plog.h.  Checkpoints run under pl->ckpt_mutex.
 *
 * Why can a checkpoint be written while writes go on?
 *
 *   A checkpoint is a run of checkpoint units in the log, each holding
 *   absolute snapshots of some map leaves, taken under sp->lock at the
 *   moment the unit is built.  Replay applies units in log order: a leaf
 *   snapshot replaces whatever replay built for that leaf (it includes
 *   every earlier change), and later data units apply on top.  Replay
 *   starts with empty maps at the checkpoint's first unit, and every leaf
 *   that exists is snapshotted by the checkpoint, so by its last unit the
 *   state is exact.  Reference counts, the free list, the index and
 *   segment usage are not stored: they are derived after replay.
 *
 * When may a segment be written again?
 *
 *   Only when no live chunk is in it and replay from the durable anchor
 *   does not read it: its newest unit precedes the durable checkpoint.
 *   Emptied segments are therefore freed after the next checkpoint
 *   (ilio_plog_free_pass()), and discarded on the device then.
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
#include <linux/sched.h>
#include <linux/ktime.h>
#include <linux/random.h>

#include "ilio-plog.h"

/* Cursor over the leaves a checkpoint snapshots. */
struct ilio_ckpt_cursor {
	u64 map_leaf;
	u32 chunk_leaf;
};

/* Next leaf to snapshot, or false at the end.  @kind/@index set. */
static bool __ilio_ckpt_next(struct ilio_plog *pl, struct ilio_ckpt_cursor *cur,
			     u32 *kind, u64 *index)
{
	struct ilio_space *sp = pl->base.sp;

	cur->map_leaf = __ilio_lbamap_next_leaf(&sp->map, cur->map_leaf);
	if (cur->map_leaf < sp->map.nr_leaves) {
		*kind = ILIO_CKPT_LBAMAP;
		*index = cur->map_leaf;
		return true;
	}
	if (cur->chunk_leaf < sp->chunks.nr_leaves) {
		*kind = ILIO_CKPT_CHUNKS;
		*index = cur->chunk_leaf;
		return true;
	}
	return false;
}

static void __ilio_ckpt_copy(struct ilio_plog *pl, u32 kind, u64 index, u8 *dst)
{
	struct ilio_space *sp = pl->base.sp;
	u32 i;

	if (kind == ILIO_CKPT_LBAMAP) {
		/* To the codec, a leaf of chunk ids is a u32 array. */
		ilio_ckpt_map_pack(dst, (__force const u32 *)sp->map.dir[index]);
		return;
	}
	for (i = 0; i < ILIO_CHUNK_LEAF_ENTRIES; i++) {
		struct ilio_ckpt_chunk *o = (struct ilio_ckpt_chunk *)dst + i;
		u32 id = (u32)index * ILIO_CHUNK_LEAF_ENTRIES + i;
		ilio_cid_t cid = ilio_to_cid(id);
		bool live = cid && ilio_chunk_valid(&sp->chunks, cid);
		ilio_loc_t loc = live ? ilio_chunk_loc(&sp->chunks, cid) : 0;

		ilio_ckpt_chunk_pack(o, ilio_from_loc(loc),
				     live ? ilio_chunk_hash(&sp->chunks, cid) : 0);
	}
}

/*
 * Build one checkpoint unit from the cursor on.  Return: 0, -ENOSPC, or
 * 1 when every leaf is done.  @start_seg/@start_off/@start_seq are set for
 * the first unit (when *@start_seq is 0).
 */
static int __ilio_ckpt_unit(struct ilio_plog *pl, struct ilio_ckpt_cursor *cur,
			    u32 *start_seg, u32 *start_off, u64 *start_seq,
			    u64 *end_seq)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_segs *s = &sp->segs;
	struct ilio_unit_hdr *h;
	struct ilio_ckpt_desc *d;
	struct ilio_desc_info di;
	struct ilio_seg *seg;
	u32 off, pos, n = 0, kind;
	u64 index;
	int ret;

	__ilio_plog_close_unit(pl);
	if (s->open == ILIO_SEG_NONE ||
	    s->segs[s->open].used + ILIO_BLOCK_SIZE + ILIO_CKPT_CHUNK_BYTES >
	    s->seg_bytes) {
		ret = __ilio_plog_open_seg(pl, ILIO_LEVEL_CKPT);
		if (ret)
			return ret;
	}
	seg = &s->segs[s->open];
	off = seg->used;
	pos = off + ILIO_BLOCK_SIZE;
	h = (struct ilio_unit_hdr *)(seg->data + off);
	memset(h, 0, ILIO_BLOCK_SIZE);
	d = (struct ilio_ckpt_desc *)(h + 1);
	while (n < ILIO_CKPT_MAX_DESC && __ilio_ckpt_next(pl, cur, &kind, &index)) {
		u32 bytes = kind == ILIO_CKPT_LBAMAP ? ILIO_CKPT_MAP_BYTES :
						       ILIO_CKPT_CHUNK_BYTES;

		if (pos + bytes > s->seg_bytes ||
		    pos - off - ILIO_BLOCK_SIZE + bytes > ILIO_CKPT_UNIT_MAX)
			break;
		__ilio_ckpt_copy(pl, kind, index, seg->data + pos);
		di.kind = kind;
		di.index = (u32)index;
		ilio_ckpt_desc_pack(&d[n], &di);
		n++;
		pos += bytes;
		if (kind == ILIO_CKPT_LBAMAP)
			cur->map_leaf++;
		else
			cur->chunk_leaf++;
	}
	if (!*start_seq) {
		*start_seq = pl->next_seq;
		*start_seg = s->open;
		*start_off = off;
	}
	*end_seq = __ilio_plog_finish_unit(pl, off, pos, ILIO_UNIT_CKPT, 0, n);
	return __ilio_ckpt_next(pl, cur, &kind, &index) ? 0 : 1;
}

/*
 * Free the emptied segments that replay from neither anchor reads (the
 * durable one and the fallback it replaced), and discard them on the
 * device.  Called after an anchor became durable.  It visits only the
 * segments that wait for a checkpoint (the segment index's waiting set),
 * not the segment table: O(segments emptied), whatever the device size.
 */
static void ilio_plog_free_pass(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_segs *s = &sp->segs;
	u32 i, n = 0, trim = ILIO_SEG_NONE, idx;

	down_write(&sp->lock);
	for (i = 0; i < s->nr_wait; ) {
		struct ilio_seg *seg;

		idx = __ilio_seg_waiting(s, i);
		seg = &s->segs[idx];
		if (seg->pins || seg->last_seq >= pl->prev_ckpt_start) {
			i++;
			continue;
		}
		/* The last waiting segment moves to position i. */
		__ilio_seg_untrack_waiting(s, idx);
		if (pl->ops->discard) {
			__ilio_seg_set_trim(s, idx, trim);	/* the discard list */
			trim = idx;
		} else {
			__ilio_seg_set_free(s, idx);
		}
		n++;
		if ((n & 1023) == 0)
			cond_resched();
	}
	sp->st.gc_freed_segments += n;
	up_write(&sp->lock);
	/* TRIM segments are ours alone: nobody else changes them. */
	for (idx = trim; idx != ILIO_SEG_NONE; idx = trim) {
		trim = ilio_seg_trim_next(s, idx);
		pl->ops->discard(pl->priv, ilio_seg_pos(pl, idx), s->seg_bytes);
		down_write(&sp->lock);
		__ilio_seg_trimmed(s, idx);
		up_write(&sp->lock);
		cond_resched();
	}
}

/* A 4 KiB metadata block (anchor, superblock) was written and flushed. */
void __ilio_plog_count_meta_write(struct ilio_space *sp)
{
	lockdep_assert_held_write(&sp->lock);
	sp->st.backend_write_ios++;
	sp->st.backend_write_bytes += ILIO_BLOCK_SIZE;
	__ilio_hist_write(&sp->st, ILIO_BLOCK_SIZE);
	sp->st.backend_flushes++;
}

/*
 * Write anchor slot 1 - current naming a checkpoint from @seq (at
 * @seg/@off) to @end.  The anchor it replaces stays the fallback.  With
 * @again the checkpoint is the one the current anchor already names (the
 * open's second anchor write): it is not counted as another checkpoint.
 */
static int ilio_plog_write_anchor(struct ilio_plog *pl, u32 seg, u32 off,
				  u64 seq, u64 end, bool again)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_anchor_info a = {
		.seq = pl->anchor_seq + 1,
		.epoch = pl->epoch,
		.log_seq = seq,
		.log_seg = seg,
		.log_off = off,
		.nr_blocks = pl->nr_blocks,
		.ckpt_end = end,
	};
	unsigned int slot = pl->anchor_seq ? 1 - pl->anchor_slot : 0;
	int ret;

	ilio_anchor_build(pl->blk, &pl->g, ILIO_ANCHOR_BLOCK + slot, &a);
	ret = pl->ops->write(pl->priv, (u64)(ILIO_ANCHOR_BLOCK + slot) *
			     ILIO_BLOCK_SIZE, pl->blk, ILIO_BLOCK_SIZE);
	if (!ret)
		ret = pl->ops->flush(pl->priv);
	down_write(&sp->lock);
	if (ret) {
		pl->error = ret;
	} else {
		pl->anchor_seq = a.seq;
		pl->anchor_slot = slot;
		pl->anchor = a;
		/* The anchor in the other slot stays a fallback: keep its log. */
		pl->prev_ckpt_start = pl->ckpt_start_seq;
		pl->ckpt_start_seq = seq;
		__ilio_plog_count_meta_write(sp);
		if (!again)
			sp->st.checkpoints++;
	}
	up_write(&sp->lock);
	return ret;
}

/*
 * After the open's checkpoint: name it in the other anchor slot too, so
 * that no anchor of the chain before this open survives as a fallback
 * (see the recovery rules at ilio_core_open()), then free what that
 * releases.
 */
int ilio_plog_anchor_both(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_anchor_info a;
	int ret;

	mutex_lock(&pl->ckpt_mutex);
	down_write(&sp->lock);
	a = pl->anchor;
	up_write(&sp->lock);
	ret = ilio_plog_write_anchor(pl, a.log_seg, a.log_off, a.log_seq,
				     a.ckpt_end, true);
	mutex_unlock(&pl->ckpt_mutex);
	if (!ret)
		ilio_plog_free_pass(pl);
	return ret;
}

int ilio_plog_checkpoint_locked(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_ckpt_cursor cur = { 0, 0 };
	u32 seg = 0, off = 0;
	u64 seq = 0, log_before = 0, front = 0, end = 0;
	bool retried = false;
	int ret = 0;

	for (;;) {
		down_write(&sp->lock);
		if (pl->error) {
			ret = pl->error;
		} else {
			if (!seq) {
				log_before = pl->log_bytes;
				front = pl->front_ops;
			}
			ret = __ilio_ckpt_unit(pl, &cur, &seg, &off, &seq, &end);
		}
		up_write(&sp->lock);
		if (ret == -EAGAIN || ret == -ENOMEM) {
			/* Memory pressure: write back, refill or wait; go on. */
			ret = ilio_log_relieve(pl, ret);
			if (ret)
				break;
			continue;
		}
		if (ret == -ENOSPC && !retried) {
			/* Write back what is closed, then try again once. */
			retried = true;
			ret = ilio_log_writeback(pl);
			if (ret)
				break;
			continue;
		}
		if (ret < 0 || ret == 1)
			break;
		retried = false;
		cond_resched();
	}
	if (ret < 0)
		return ret;
	ret = ilio_log_writeback(pl);
	if (!ret) {
		down_write(&sp->lock);
		seq = seq ? seq : pl->next_seq;
		up_write(&sp->lock);
		ret = ilio_plog_flush_dev(pl, pl->closed_seq);
	}
	if (!ret)
		ret = ilio_plog_write_anchor(pl, seg, off, seq, end, false);
	if (ret)
		return ret;
	down_write(&sp->lock);
	pl->log_bytes -= min(pl->log_bytes, log_before);
	pl->ckpt_front = front;
	up_write(&sp->lock);
	ilio_plog_free_pass(pl);
	return 0;
}

/**
 * ilio_log_checkpoint() - write a checkpoint and free what it releases
 * @pl: core
 *
 * Return: 0; -EIO (or the sticky error) when the device fails; -ENOSPC
 * when not even the reserve holds the checkpoint; -EROFS read-only.
 */
int ilio_log_checkpoint(struct ilio_plog *pl)
{
	int ret;

	if (!pl)
		return 0;
	if (pl->read_only)
		return -EROFS;
	mutex_lock(&pl->ckpt_mutex);
	ret = ilio_plog_checkpoint_locked(pl);
	mutex_unlock(&pl->ckpt_mutex);
	return ret;
}

/**
 * ilio_log_quiesce() - write everything back and checkpoint if needed
 * @pl: core
 *
 * For suspend and close: afterwards the backing device holds every write
 * and a checkpoint that makes the next recovery short.  The checkpoint is
 * skipped when nothing changed since the last one and the log ends with
 * it: then the log holds nothing after the durable checkpoint, which is
 * how the next open tells a clean shutdown (see ilio_replay()).  GC's
 * moves are no front-end operation, but they are units after it.
 *
 * Return: 0, or the error that kept data from reaching the device.
 */
int ilio_log_quiesce(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	bool changed;
	int ret;

	if (!pl || pl->read_only)
		return 0;
	ret = ilio_log_flush_lun(pl);
	if (ret)
		return ret;
	down_write(&sp->lock);
	changed = pl->front_ops != pl->ckpt_front ||
		  pl->closed_seq > pl->anchor.ckpt_end;
	up_write(&sp->lock);
	return changed ? ilio_log_checkpoint(pl) : 0;
}

/*
 * The class map slots (see "class map slots" in ilio-format.h).  They are
 * not part of the log: a save writes the slot that holds the older
 * generation and flushes, so a torn save leaves the newer slot whole, and
 * recovery never depends on them.  Saves are serialised by the core's
 * class mutex; @cmap_buf, @cmap_len, @cmap_seq and @cmap_slot are under
 * it, and written by ilio_plog_load_classes() before the store is shared.
 */

/*
 * Read class map slot @slot into @pl->cmap_buf, only its header block
 * with @hdr_only.  Return: 0 with *@seq and *@nr, -ENOENT (no map there),
 * -EINVAL (not valid), -E2BIG (valid, with *@seq, but more ranges than
 * @cap) or the read's errno, with *@why.
 */
static int ilio_plog_read_cmap(struct ilio_plog *pl, unsigned int slot,
			       u32 cap, bool hdr_only, u64 *seq, u32 *nr,
			       const char **why)
{
	u64 pos = ilio_cmap_slot_block(&pl->g, slot) * ILIO_BLOCK_SIZE;
	int ret;

	ret = pl->ops->read(pl->priv, pos, pl->cmap_buf, ILIO_BLOCK_SIZE);
	if (ret) {
		*why = "class map slot unreadable";
		return ret;
	}
	ret = ilio_cmap_check_hdr(pl->cmap_buf, &pl->g, slot, seq, nr, why);
	if (ret)
		return ret;
	if (*nr > cap) {
		*why = "class map holds more ranges than this module's limit";
		return -E2BIG;
	}
	if (hdr_only || ilio_cmap_len(*nr) <= ILIO_BLOCK_SIZE)
		return 0;
	ret = pl->ops->read(pl->priv, pos + ILIO_BLOCK_SIZE,
			    pl->cmap_buf + ILIO_BLOCK_SIZE,
			    ilio_cmap_len(*nr) - ILIO_BLOCK_SIZE);
	if (ret)
		*why = "class map slot unreadable";
	return ret;
}

/**
 * ilio_plog_load_classes() - read the saved class map at open
 * @pl: store, open, not yet shared
 * @m: the core's map, empty; its limit drops to what a slot holds
 * @why: set to what was wrong with a slot that was not used (NULL if
 *	nothing was)
 *
 * The valid slot with the newer generation wins, and the other one is
 * where the next save goes.  A slot that is not valid is no map (hints
 * are advisory); a whole slot with more ranges than this module allows is
 * not used, and neither is an older one (the map would go back in time).
 * One that cannot be read makes later saves fail with -EIO: its
 * generation is unknown, and a save could go to the newer slot.
 *
 * Return: 0, or -ENOMEM.
 */
int ilio_plog_load_classes(struct ilio_plog *pl, struct ilio_classmap *m,
			   const char **why)
{
	u64 nr_sectors = pl->nr_blocks << (ILIO_BLOCK_SHIFT - 9);
	u32 cap = min(ilio_cmap_limit(&pl->g), m->limit);
	u64 seq[2] = { 0, 0 }, big_seq = 0;
	unsigned int s, best, big_slot = 0;
	bool newer_failed = false;
	struct ilio_crange *r;
	u32 nr[2] = { 0, 0 };
	const char *w;
	int ret;

	*why = NULL;
	m->limit = cap;
	if (!cap)
		return 0;
	pl->cmap_buf = kvmalloc(ilio_cmap_len(cap), GFP_KERNEL | __GFP_ZERO);
	if (!pl->cmap_buf)
		return -ENOMEM;
	pl->cmap_cap = cap;
	down_write(&pl->base.sp->lock);
	pl->base.sp->store_bytes = ilio_plog_mem_bytes(pl);
	up_write(&pl->base.sp->lock);
	/*
	 * Headers first: which slot is newer.  A slot that is whole but
	 * holds more ranges than this module allows (-E2BIG: written with a
	 * larger limit) is not loaded, and no older map may stand in for it.
	 */
	for (s = 0; s < 2; s++) {
		ret = ilio_plog_read_cmap(pl, s, cap, true, &seq[s], &nr[s], &w);
		if (ret && ret != -ENOENT)
			*why = w;
		if (ret && ret != -ENOENT && ret != -EINVAL && ret != -E2BIG)
			pl->cmap_broken = true;
		if (ret == -E2BIG && seq[s] > big_seq) {
			big_seq = seq[s];
			big_slot = s;
		}
		if (ret)
			seq[s] = 0;
	}
	if (seq[0] <= big_seq)
		seq[0] = 0;
	if (seq[1] <= big_seq)
		seq[1] = 0;
	/* The next save goes past (and beside) a newer refused slot. */
	pl->cmap_seq = big_seq;
	pl->cmap_slot = big_slot;
	while (seq[0] || seq[1]) {
		best = seq[1] > seq[0];
		ret = ilio_plog_read_cmap(pl, best, cap, false, &seq[best],
					  &nr[best], &w);
		r = ret ? NULL : kvcalloc(max(nr[best], 1U), sizeof(*r),
					   GFP_KERNEL);
		if (!ret && !r)
			return -ENOMEM;
		if (!ret)
			ret = ilio_cmap_check(pl->cmap_buf, nr[best], nr_sectors, r, &w);
		if (ret) {
			kvfree(r);
			if (ret != -EINVAL)
				pl->cmap_broken = true;
			*why = w;
			seq[best] = 0;
			newer_failed = true;
			continue;
		}
		pl->cmap_seq = seq[best];
		pl->cmap_slot = best;
		kvfree(m->r);
		m->r = r;
		m->nr = nr[best];
		if (newer_failed)
			*why = "the newest class map slot is damaged; the previous one is used";
		return 0;
	}
	return 0;
}

/**
 * __ilio_plog_pack_classes() - encode the class map for the next save
 * @pl: store
 * @m: the map (sp->lock held for writing: it does not change meanwhile)
 */
void __ilio_plog_pack_classes(struct ilio_plog *pl, const struct ilio_classmap *m)
{
	lockdep_assert_held_write(&pl->base.sp->lock);
	if (!pl->cmap_buf || m->nr > m->limit) {
		pl->cmap_len = 0;
		return;
	}
	ilio_cmap_build(pl->cmap_buf, &pl->g, pl->cmap_seq ? 1 - pl->cmap_slot : 0,
			pl->cmap_seq + 1, pl->nr_blocks << (ILIO_BLOCK_SHIFT - 9),
			m->r, m->nr);
	pl->cmap_len = ilio_cmap_len(m->nr);
}

/**
 * ilio_plog_save_classes() - write what __ilio_plog_pack_classes() encoded
 * @pl: store; no lock held (it writes and flushes the backing device)
 *
 * Return: 0; -EROFS for a store opened read-only; -EIO when a slot could
 * not be read at open, or the write or flush failed (the saved map is
 * then the one before).
 */
int ilio_plog_save_classes(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	unsigned int slot = pl->cmap_seq ? 1 - pl->cmap_slot : 0;
	int ret;

	if (pl->read_only)
		return -EROFS;
	if (pl->cmap_broken || !pl->cmap_len)
		return -EIO;
	ret = pl->ops->write(pl->priv, ilio_cmap_slot_block(&pl->g, slot) *
			     ILIO_BLOCK_SIZE, pl->cmap_buf, pl->cmap_len);
	if (!ret)
		ret = pl->ops->flush(pl->priv);
	if (ret)
		return -EIO;
	pl->cmap_seq++;
	pl->cmap_slot = slot;
	down_write(&sp->lock);
	sp->st.backend_write_ios++;
	sp->st.backend_write_bytes += pl->cmap_len;
	__ilio_hist_write(&sp->st, pl->cmap_len);
	sp->st.backend_flushes++;
	up_write(&sp->lock);
	return 0;
}
