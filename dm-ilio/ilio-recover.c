// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-recover: opening the persistent store - read the superblock and
 * the anchors, replay the log into the space, rebuild what is derived,
 * and apply the recovery rules (ilio_log_open()); and the store's ops,
 * the one table through which the core reaches everything persistent.
 *
 * Locking: recovery runs before the store is shared; it takes sp->lock
 * where the leaves assert it.
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
#include <linux/wait.h>

#include "ilio-plog.h"
#include "ilio-args.h"

/*
 * Untrusted metadata: bounds.  Every id and index that replay reads from
 * the device is checked against what the geometry can hold before it
 * sizes an allocation, and what replay allocates is charged to the RAM
 * budget as it goes (see "Untrusted metadata: bounds" in
 * Documentation/ilio-design.rst).
 *
 * The highest chunk id a store of geometry @g can have handed out: a new
 * id is taken only when every lower one is live (the free list is empty),
 * and each live chunk has its own record - at least ilio_rec_bytes(1)
 * bytes after the header block of a unit - in one of the segments.
 */
static u32 ilio_plog_cid_limit(const struct ilio_geom *g)
{
	u64 n = (u64)g->nr_segs *
		((g->seg_bytes - ILIO_BLOCK_SIZE) / ilio_rec_bytes(1));

	return (u32)min_t(u64, n, ILIO_CID_MAX);
}

/*
 * Before anything is allocated for the geometry that the superblock gives:
 * the per-segment tables (segment table, segment index, write-back queue),
 * the summary buffer and the scratch segment must fit the budget with the
 * LBA map and two segments to spare (ilio_check_store_budget(), which
 * ilioctl makes too).
 */
static int ilio_plog_geom_fits(struct ilio_plog *pl, const char **why)
{
	struct ilio_space *sp = pl->base.sp;

	return ilio_check_store_budget(ilio_lbamap_mem_bytes(&sp->map),
				       sp->ram_limit, pl->g.nr_segs,
				       pl->g.seg_bytes, why);
}

/* Charge @bytes that replay is about to allocate to the RAM budget. */
static int __ilio_replay_charge(struct ilio_plog *pl, u64 bytes,
				const char **why)
{
	struct ilio_space *sp = pl->base.sp;

	if (!bytes || __ilio_ram_allows(sp, bytes + 2ULL * sp->segs.seg_bytes))
		return 0;
	*why = "ram_mb is too small for the metadata of this store";
	return -E2BIG;
}

/* Restore one chunk from the log or a checkpoint, within the budget. */
static int __ilio_replay_chunk(struct ilio_plog *pl, ilio_cid_t cid,
			       ilio_loc_t loc, u64 hash, const char **why)
{
	struct ilio_space *sp = pl->base.sp;
	u32 limit = ilio_plog_cid_limit(&pl->g);
	int ret;

	if (ilio_from_cid(cid) > limit) {
		if (!loc)
			return 0;	/* a free id in a checkpoint's last leaf */
		*why = "chunk id beyond what the device can hold";
		return -EINVAL;
	}
	ret = __ilio_replay_charge(pl, __ilio_chunk_restore_bytes(&sp->chunks, cid),
				   why);
	if (ret)
		return ret;
	return __ilio_chunk_restore(&sp->chunks, cid, loc, hash, limit);
}

/* Allocate the map leaf of @lba during replay, within the budget. */
static int __ilio_replay_leaf(struct ilio_plog *pl, ilio_lba_t lba,
			      const char **why)
{
	struct ilio_space *sp = pl->base.sp;
	int ret;

	ret = __ilio_replay_charge(pl, __ilio_lbamap_prepare_bytes(&sp->map, lba),
				   why);
	return ret ? ret : __ilio_lbamap_prepare(&sp->map, lba);
}

/* Apply one data unit's summary.  Return: 0 or -EINVAL (corrupt). */
static int __ilio_replay_data(struct ilio_plog *pl, const u8 *u,
			      const struct ilio_unit_info *hu, u32 seg,
			      u32 off, const char **why)
{
	struct ilio_space *sp = pl->base.sp;
	u32 rec = hu->rec_bytes, n = hu->nr_ents, i;
	const struct ilio_sum_ent *e = (const void *)(u + ILIO_BLOCK_SIZE + rec);
	u32 rstart = off + ILIO_BLOCK_SIZE, rend = rstart + rec;
	u64 nr_blocks = sp->map.nr_blocks;
	u32 cid_limit = ilio_plog_cid_limit(&pl->g);
	int ret;

	for (i = 0; i < n; i++) {
		struct ilio_sum_info se;
		struct ilio_rec_info ri;
		ilio_loc_t loc;

		ilio_sum_unpack(&e[i], &se);
		ret = ilio_sum_check(&se, nr_blocks, cid_limit, rstart, rend, why);
		if (ret)
			return ret;
		switch (se.kind) {	/* ilio_sum_check() refused any other */
		case ILIO_SUM_MAP:
			ret = __ilio_replay_leaf(pl, ilio_to_lba(se.arg), why);
			if (ret)
				return ret;
			__ilio_lbamap_set(&sp->map, ilio_to_lba(se.arg),
					  ilio_to_cid((u32)se.val));
			break;
		case ILIO_SUM_UNMAP:
			/* One entry may cover the whole device: per leaf. */
			__ilio_lbamap_unmap_range(&sp->map, ilio_to_lba(se.arg),
						  se.val);
			break;
		case ILIO_SUM_CHUNK:
			ilio_rec_unpack((const void *)(u + (se.arg - off)), &ri);
			ret = ilio_rec_check(&ri, (u32)se.arg, rend, cid_limit, why);
			if (ret)
				return ret;
			loc = ilio_to_loc(ilio_rec_make_loc(seg, (u32)se.arg,
							    &ri));
			ret = __ilio_replay_chunk(pl, ilio_to_cid(ri.cid), loc,
						  se.val, why);
			if (ret)
				return ret;
			break;
		}
		if ((i & 1023) == 1023)
			cond_resched();
	}
	return 0;
}

/* Apply one checkpoint unit's leaves.  Return: 0 or -EINVAL (corrupt). */
static int __ilio_replay_ckpt(struct ilio_plog *pl, const u8 *u,
			      const struct ilio_unit_info *hu, const char **why)
{
	struct ilio_space *sp = pl->base.sp;
	const struct ilio_ckpt_desc *d = (const void *)(u + sizeof(struct ilio_unit_hdr));
	u32 len = hu->len, n = hu->nr_ents, i, k, pos = ILIO_BLOCK_SIZE;
	u32 cid_limit = ilio_plog_cid_limit(&pl->g);
	int ret;

	for (i = 0; i < n; i++) {
		struct ilio_desc_info di;

		ilio_ckpt_desc_unpack(&d[i], &di);
		if (di.kind == ILIO_CKPT_LBAMAP) {
			if (di.index >= sp->map.nr_leaves ||
			    pos + ILIO_CKPT_MAP_BYTES > len) {
				*why = "checkpoint has an LBA-map leaf outside the device";
				return -EINVAL;
			}
			ret = __ilio_replay_leaf(pl, ilio_to_lba((u64)di.index <<
							     ILIO_LBAMAP_LEAF_SHIFT),
						 why);
			if (ret)
				return ret;
			/* The whole leaf is checked before any of it is used. */
			ret = ilio_ckpt_map_check(u + pos, di.index, sp->map.nr_blocks,
						  cid_limit, why);
			if (ret)
				return ret;
			/* To the codec, a leaf of chunk ids is a u32 array. */
			ilio_ckpt_map_unpack(u + pos,
					     (__force u32 *)sp->map.dir[di.index]);
			pos += ILIO_CKPT_MAP_BYTES;
		} else if (di.kind == ILIO_CKPT_CHUNKS) {
			const struct ilio_ckpt_chunk *in = (const void *)(u + pos);

			if (di.index > cid_limit >> ILIO_CHUNK_LEAF_SHIFT ||
			    pos + ILIO_CKPT_CHUNK_BYTES > len) {
				*why = "checkpoint chunk leaf is beyond what the device can hold";
				return -EINVAL;
			}
			for (k = 0; k < ILIO_CHUNK_LEAF_ENTRIES; k++) {
				u32 cid = di.index * ILIO_CHUNK_LEAF_ENTRIES + k;
				u64 loc, hash;

				if (!cid)
					continue;
				ilio_ckpt_chunk_unpack(&in[k], &loc, &hash);
				ret = __ilio_replay_chunk(pl, ilio_to_cid(cid),
							  ilio_to_loc(loc), hash,
							  why);
				if (ret)
					return ret;
			}
			pos += ILIO_CKPT_CHUNK_BYTES;
		} else {
			*why = "checkpoint leaf of unknown kind";
			return -EINVAL;
		}
		cond_resched();
	}
	return 0;
}

/*
 * Read the unit expected at @seg/@off from the LUN into pl->buf, its
 * header decoded into *@hu.  -ENOENT: log end.
 */
static int ilio_replay_read_lun(struct ilio_plog *pl, u32 seg, u32 off,
				u64 seq, struct ilio_unit_info *hu,
				const char **why)
{
	u32 len;
	int ret;

	if (off + ILIO_BLOCK_SIZE > pl->g.seg_bytes)
		return -ENOENT;
	ret = pl->ops->read(pl->priv, ilio_seg_pos(pl, seg) + off, pl->buf,
			    ILIO_BLOCK_SIZE);
	if (ret) {
		*why = "cannot read the log";
		return -EIO;
	}
	ret = ilio_unit_check_hdr(pl->buf, &pl->g, seg, off, pl->epoch, seq, why);
	if (ret)
		return ret;
	ilio_unit_hdr_unpack(pl->buf, hu);
	len = hu->len;
	if (len > ILIO_BLOCK_SIZE &&
	    pl->ops->read(pl->priv, ilio_seg_pos(pl, seg) + off + ILIO_BLOCK_SIZE,
			  pl->buf + ILIO_BLOCK_SIZE, len - ILIO_BLOCK_SIZE)) {
		*why = "cannot read the log";
		return -EIO;
	}
	return ilio_unit_check_body(pl->buf, &pl->g, why);
}

/*
 * The unit expected at @seg/@off: from the LUN, or - where the LUN lacks
 * it - from the journal, which then writes it to the LUN
 * (ilio_journal_find()).  -ENOENT: log end.
 */
static int ilio_replay_read(struct ilio_plog *pl, u32 seg, u32 off, u64 seq,
			    struct ilio_unit_info *hu, const char **why)
{
	int ret = ilio_replay_read_lun(pl, seg, off, seq, hu, why);

	if (ret != -ENOENT || !pl->jn)
		return ret;
	ret = ilio_journal_find(pl, seg, off, seq, why);
	if (!ret) {
		ilio_unit_hdr_unpack(pl->buf, hu);
		pl->recovery.journal_units++;
	} else if (ret == -ENOENT) {
		*why = "end of log";
	}
	return ret;
}

/*
 * Replay the chain from the anchor.  Return: 0, or -EINVAL/-EIO/-ENOMEM
 * with @why set.  Sets pl->next_seq, the last unit's position and
 * pl->recovery.
 *
 * How was the store left?  A close (and a suspend) writes everything back
 * and ends with a checkpoint unless the log already ends at one
 * (ilio_log_quiesce()), and nothing is written after it.  So the log of a
 * cleanly closed store holds exactly the checkpoint its anchor names:
 * units @a->log_seq to @a->ckpt_end, all of them checkpoint units.  Any
 * unit after @a->ckpt_end, or a data unit among the checkpoint's own
 * (written while it ran), means the store was stopped while it was in
 * use: an unclean shutdown.  The format anchor names no checkpoint
 * (@a->ckpt_end 0): the first activation of a new store.
 */
static int ilio_replay(struct ilio_plog *pl, const struct ilio_anchor_info *a,
		       const char **why)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_unit_info hu;
	u32 seg = a->log_seg, off = a->log_off, len;
	u64 seq = a->log_seq, units = 0;
	u32 next = 0;
	const char *end;
	u64 t0 = ktime_get_ns();
	int ret;

	for (;;) {
		ret = ilio_replay_read(pl, seg, off, seq, &hu, &end);
		if (ret == -ENOENT && units) {
			/* Not directly after the last unit: in its successor? */
			ret = ilio_replay_read(pl, next, 0, seq, &hu, &end);
			if (!ret) {
				seg = next;
				off = 0;
			}
		}
		if (ret == -ENOENT)
			break;
		if (ret) {
			*why = end;
			return ret;
		}
		len = hu.len;
		next = hu.next_seg;
		down_write(&sp->lock);
		if (hu.type == ILIO_UNIT_DATA)
			ret = __ilio_replay_data(pl, pl->buf, &hu, seg, off, why);
		else
			ret = __ilio_replay_ckpt(pl, pl->buf, &hu, why);
		sp->segs.segs[seg].last_seq = seq;
		up_write(&sp->lock);
		if (ret)
			return ret;
		units++;
		if (hu.type == ILIO_UNIT_DATA)
			pl->recovery.data_units++;
		seq++;
		off += len;
		cond_resched();
	}
	pl->next_seq = seq;
	if (a->ckpt_end && seq <= a->ckpt_end) {
		*why = "the checkpoint that the anchor names is damaged or missing";
		return -EINVAL;
	}
	pl->recovery.units = units;
	pl->recovery.replay_ns = ktime_get_ns() - t0;
	if (!a->ckpt_end && !units)
		pl->recovery.shutdown = ILIO_SHUTDOWN_NEW;
	else if (a->ckpt_end && seq == a->ckpt_end + 1 &&
		 !pl->recovery.data_units)
		pl->recovery.shutdown = ILIO_SHUTDOWN_CLEAN;
	else
		pl->recovery.shutdown = ILIO_SHUTDOWN_UNCLEAN;
	return 0;
}

/*
 * Derive references, the free list, the index and segment usage from the
 * replayed maps, checking every cross reference.
 */
static int __ilio_rebuild(struct ilio_plog *pl, u64 log_seq, const char **why)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_segs *s = &sp->segs;
	struct ilio_lbamap *m = &sp->map;
	u64 i;
	ilio_cid_t cid;
	u32 k, id;

	m->mapped = 0;
	sp->nr_damaged = 0;
	for (i = 0; i < m->nr_leaves; i++) {
		ilio_cid_t *leaf = m->dir[i];

		if ((i & 4095) == 4095)
			cond_resched();
		if (!leaf)
			continue;
		for (k = 0; k < ILIO_LBAMAP_LEAF_ENTRIES; k++) {
			cid = leaf[k];
			if (!cid)
				continue;
			if (ilio_from_cid(cid) >= sp->chunks.next_new ||
			    !ilio_chunk_loc(&sp->chunks, cid)) {
				*why = "an LBA maps to a chunk that has no location";
				return -EINVAL;
			}
			if (__ilio_chunk_count_ref(&sp->chunks, cid)) {
				*why = "a chunk has too many references";
				return -EINVAL;
			}
			m->mapped++;
		}
		cond_resched();
	}
	__ilio_chunks_rebuild(&sp->chunks);
	sp->stored_bytes = 0;
	for (id = 1; id < sp->chunks.next_new; id++) {
		ilio_loc_t loc;
		int ret;

		cid = ilio_to_cid(id);
		if ((id & 4095) == 0)
			cond_resched();
		if (!ilio_chunk_ref(&sp->chunks, cid))
			continue;
		loc = ilio_chunk_loc(&sp->chunks, cid);
		if (ilio_loc_damaged(loc)) {
			sp->nr_damaged++;
			continue;
		}
		ret = ilio_loc_check(ilio_from_loc(loc), s->nr_segs,
				     s->seg_bytes, why);
		if (ret)
			return ret;
		s->segs[ilio_loc_seg(loc)].live += ilio_rec_bytes(ilio_loc_len(loc));
		sp->stored_bytes += ilio_loc_len(loc);
	}
	sp->segs.nr_free = 0;
	__ilio_segs_untrack_all(s);
	for (k = 0; k < s->nr_segs; k++) {
		struct ilio_seg *seg = &s->segs[k];

		if (seg->live || seg->last_seq >= log_seq)
			__ilio_seg_recovered(s, k);
		else
			__ilio_seg_set_free(s, k);
		if ((k & 4095) == 4095)
			cond_resched();
	}
	return 0;
}

/* What a read of the two anchor slots found. */
#define ILIO_SLOT_BLANK		0	/* all zeroes: never written (format) */
#define ILIO_SLOT_VALID		1
#define ILIO_SLOT_DAMAGED	2	/* written once, now fails validation */

/**
 * struct ilio_anchors - both anchor slots as recovery found them
 * @a: the content of each valid slot
 * @state: ILIO_SLOT_* per slot
 * @why: the validator's reason for each damaged slot
 * @newest: the valid slot with the highest sequence number, or -1
 * @chain_damaged: set by ilio_log_recover() when replay or rebuild found
 *	the chain invalid (the only failure that may allow a fallback)
 */
struct ilio_anchors {
	struct ilio_anchor_info a[2];
	int state[2];
	const char *why[2];
	int newest;
	bool chain_damaged;
};

/*
 * Read and validate the superblock (either copy) into @g and both anchor
 * slots into @an, through @ops with the block buffer @blk.
 */
static int __ilio_read_meta(const struct ilio_backend_ops *ops, void *priv,
			    void *blk, struct ilio_geom *g, u64 dev_bytes,
			    struct ilio_anchors *an, const char **why)
{
	const char *why0 = NULL, *why1;
	int ret, r0 = -EINVAL, i;

	for (i = 0; i < 2; i++) {
		ret = ops->read(priv, (u64)(ILIO_SB_BLOCK + i) * ILIO_BLOCK_SIZE,
				blk, ILIO_BLOCK_SIZE);
		if (ret) {
			*why = "cannot read the superblock";
			return -EIO;
		}
		ret = ilio_sb_check(blk, ILIO_SB_BLOCK + i, dev_bytes, g,
				    i ? &why1 : &why0);
		if (!ret)
			break;
		if (!i)
			r0 = ret;
	}
	if (ret) {
		*why = why0;
		return r0 == -ENOENT ? -ENOENT : -EINVAL;
	}
	an->newest = -1;
	for (i = 0; i < 2; i++) {
		ret = ops->read(priv, (u64)(ILIO_ANCHOR_BLOCK + i) * ILIO_BLOCK_SIZE,
				blk, ILIO_BLOCK_SIZE);
		if (ret) {
			*why = "cannot read the anchors";
			return -EIO;
		}
		an->why[i] = NULL;
		if (!ilio_anchor_check(blk, ILIO_ANCHOR_BLOCK + i, g, &an->a[i],
				       &an->why[i]))
			an->state[i] = ILIO_SLOT_VALID;
		else if (!memchr_inv(blk, 0, ILIO_BLOCK_SIZE))
			an->state[i] = ILIO_SLOT_BLANK;
		else
			an->state[i] = ILIO_SLOT_DAMAGED;
		if (an->state[i] == ILIO_SLOT_VALID &&
		    (an->newest < 0 || an->a[i].seq > an->a[an->newest].seq))
			an->newest = i;
	}
	if (an->newest < 0) {
		*why = an->why[1] ? an->why[1] : an->why[0] ? an->why[0] :
		       "no anchor slot was ever written";
		return -EINVAL;
	}
	return 0;
}

static int ilio_plog_read_meta(struct ilio_plog *pl, u64 dev_bytes,
			       struct ilio_anchors *an, const char **why)
{
	return __ilio_read_meta(pl->ops, pl->priv, pl->blk, &pl->g, dev_bytes,
				an, why);
}

/*
 * A size mismatch is a refusal, never a reason to try another anchor.
 * The newest anchor gives the size; the other may give a smaller one (an
 * online grow that stopped between its two anchor writes), never a
 * larger one: a store never shrinks.
 */
static int ilio_anchors_size_check(const struct ilio_anchors *an,
				   u64 nr_blocks, const char **why)
{
	int i;

	for (i = 0; i < 2; i++) {
		u64 nb = an->a[i].nr_blocks;

		if (an->state[i] == ILIO_SLOT_VALID && nb &&
		    (i == an->newest ? nb != nr_blocks : nb > nr_blocks)) {
			*why = "the store on this device has another size than the table";
			return -EINVAL;
		}
	}
	return 0;
}

/**
 * ilio_log_precheck() - refuse a table of another size before any write
 * @p: the open's parameters
 * @why: set on refusal
 *
 * The open refuses it too, but a read-write activation of a guarded
 * store claims the multihost record first (after waiting out a stale
 * heartbeat): a typo in the table length would write that claim, and put
 * it back, for nothing.  Only the size is judged here, from the same
 * reads and by the same rule as the open; anything else (an unreadable
 * superblock or anchor) is left to the open, after the claim, which
 * reports it as before.
 *
 * Return: 0, or -EINVAL (another size), -ENOMEM.
 */
static int ilio_log_precheck(const struct ilio_core_params *p,
			     const char **why)
{
	struct ilio_anchors *an = kzalloc(sizeof(*an), GFP_KERNEL);
	struct ilio_geom *g = kzalloc(sizeof(*g), GFP_KERNEL);
	void *blk = kmalloc(ILIO_BLOCK_SIZE, GFP_KERNEL);
	const char *ignored;
	int ret = -ENOMEM;

	if (an && g && blk) {
		ret = 0;
		if (!__ilio_read_meta(p->bops, p->bpriv, blk, g, p->dev_bytes, an,
				      &ignored))
			ret = ilio_anchors_size_check(an, p->nr_blocks, why);
	}
	if (ret == -ENOMEM)
		*why = "out of memory";
	kfree(blk);
	kfree(g);
	kfree(an);
	return ret;
}

/**
 * ilio_plog_free() - free the persistent state (no I/O)
 * @pl: state, or NULL
 */
void ilio_plog_free(struct ilio_plog *pl)
{
	if (!pl)
		return;
	/* Write-back returns only once its writes completed. */
	WARN_ON(pl->wb_nr);
	kvfree(pl->sum);
	kvfree(pl->wbq);
	vfree(pl->buf);
	kfree(pl->blk);
	kfree(pl->vbuf);
	kfree(pl->rbuf);
	kvfree(pl->cmap_buf);
	ilio_journal_free(pl->jn);
	mutex_destroy(&pl->wb_mutex);
	mutex_destroy(&pl->ckpt_mutex);
	mutex_destroy(&pl->rbuf_mutex);
	kfree(pl);
}

/*
 * The store's ops (struct ilio_store_ops): what the core asks of the
 * persistent store.  Contracts in ilio-store.h.
 */

static int ilio_log_op_reserve(struct ilio_store *st, u32 len, u32 nents,
			       int level)
{
	return __ilio_plog_prepare(ilio_plog_of(st), len, nents, level);
}

static ilio_loc_t ilio_log_op_append(struct ilio_store *st, ilio_cid_t cid,
				     const void *payload, u32 len, bool lz4)
{
	return __ilio_plog_append(ilio_plog_of(st), cid, payload, len, lz4);
}

static void ilio_log_op_log_map(struct ilio_store *st, ilio_lba_t lba,
				ilio_cid_t cid)
{
	__ilio_plog_log_map(ilio_plog_of(st), lba, cid);
}

static void ilio_log_op_after_write(struct ilio_store *st, bool *sync,
				    bool *kick)
{
	struct ilio_plog *pl = ilio_plog_of(st);

	__ilio_plog_after_write(pl, sync, kick);
	/* Without a backend kick, the writer writes back itself. */
	if (*kick && !pl->ops->kick) {
		*kick = false;
		*sync = true;
	}
}

/*
 * Clean cached chunks give way to metadata, and so do segment buffers
 * once written back (__ilio_plog_drain()).
 */
static int ilio_log_op_make_room(struct ilio_store *st, u64 bytes)
{
	struct ilio_space *sp = st->sp;

	while (!__ilio_ram_allows(sp, bytes) &&
	       __ilio_cache_evict_one(&sp->cache))
		;
	return __ilio_ram_allows(sp, bytes) ? 0 :
	       __ilio_plog_drain(ilio_plog_of(st));
}

static void ilio_log_op_release(struct ilio_store *st, u32 seg)
{
	__ilio_plog_finalize(ilio_plog_of(st), seg);
}

/*
 * The cache shrinks to fit; metadata cannot.  The metadata (with the
 * reserve buffer) and one more segment must fit, as at open.  Segment
 * buffers are not counted: writes drain them (__ilio_plog_drain()).
 */
static int ilio_log_op_set_ram_limit(struct ilio_store *st, u64 bytes)
{
	struct ilio_space *sp = st->sp;

	__ilio_ram_trim(sp, 0);		/* recycled buffers are not metadata */
	if (__ilio_meta_bytes(sp) + sp->segs.seg_bytes > bytes)
		return -ENOSPC;
	sp->ram_limit = bytes;
	__ilio_plog_fit_ram(ilio_plog_of(st));
	return 0;
}

static void ilio_log_op_stats(struct ilio_store *st, struct ilio_stats *out)
{
	struct ilio_plog *pl = ilio_plog_of(st);
	struct ilio_space *sp = st->sp;

	out->dirty_bytes = pl->dirty;
	out->cache_bytes = ilio_cache_bytes(&sp->cache);
	memcpy(out->class_dirty_bytes, pl->dirty_cls, sizeof(out->class_dirty_bytes));
	memcpy(out->class_cache_bytes, sp->cache.cls_bytes, sizeof(out->class_cache_bytes));
	out->free_segments = sp->segs.nr_free;
	out->nr_segments = sp->segs.nr_segs;
	out->backend_bytes = (u64)sp->segs.nr_segs * sp->segs.seg_bytes;
	out->backend_free_bytes = (u64)sp->segs.nr_free * sp->segs.seg_bytes;
	out->chunks_damaged = sp->nr_damaged;
	out->journal_failed = pl->jn && pl->jn->failed;
	out->recovery = pl->recovery;
}

static const u8 *ilio_log_op_peek(struct ilio_store *st, ilio_cid_t cid)
{
	struct ilio_centry *e = __ilio_cache_find(&st->sp->cache, cid);

	return e ? e->data : NULL;
}

static int ilio_log_op_load(struct ilio_store *st, ilio_loc_t loc,
			    ilio_cid_t cid, u64 hash, void *block)
{
	return ilio_plog_read_record(ilio_plog_of(st), loc, cid, hash, block);
}

static int ilio_log_op_prefetch(struct ilio_store *st,
				const struct ilio_fetch *f, unsigned int n)
{
	return ilio_plog_prefetch(ilio_plog_of(st), f, n);
}

static int ilio_log_op_load_locked(struct ilio_store *st, ilio_loc_t loc,
				   ilio_cid_t cid, void *block)
{
	return __ilio_plog_load_locked(ilio_plog_of(st), loc, cid, block);
}

static int ilio_log_op_writeback(struct ilio_store *st)
{
	struct ilio_plog *pl = ilio_plog_of(st);
	int ret = ilio_log_writeback(pl);

	if (!ret)
		ilio_journal_settle(pl);	/* lets the journal free records */
	return ret;
}

static void ilio_log_op_kick(struct ilio_store *st)
{
	struct ilio_plog *pl = ilio_plog_of(st);

	pl->ops->kick(pl->priv);
}

static int ilio_log_op_flush(struct ilio_store *st)
{
	return ilio_log_flush(ilio_plog_of(st));
}

static int ilio_log_op_reclaim(struct ilio_store *st)
{
	return ilio_log_reclaim(ilio_plog_of(st));
}

static int ilio_log_op_gc(struct ilio_store *st, unsigned int max)
{
	return ilio_log_gc(ilio_plog_of(st), max);
}

static int ilio_log_op_checkpoint(struct ilio_store *st)
{
	return ilio_log_checkpoint(ilio_plog_of(st));
}

static void ilio_log_op_tick(struct ilio_store *st)
{
	ilio_log_tick(ilio_plog_of(st));
}

static int ilio_log_op_quiesce(struct ilio_store *st)
{
	return ilio_log_quiesce(ilio_plog_of(st));
}

static int ilio_log_op_error(struct ilio_store *st)
{
	return READ_ONCE(ilio_plog_of(st)->error);
}

static bool ilio_log_op_read_only(struct ilio_store *st)
{
	return ilio_plog_of(st)->read_only;
}

static bool ilio_log_op_used_fallback(struct ilio_store *st)
{
	return ilio_plog_of(st)->fallback;
}

static int ilio_log_op_load_classes(struct ilio_store *st,
				    struct ilio_classmap *m, const char **why)
{
	return ilio_plog_load_classes(ilio_plog_of(st), m, why);
}

static void ilio_log_op_pack_classes(struct ilio_store *st,
				     const struct ilio_classmap *m)
{
	__ilio_plog_pack_classes(ilio_plog_of(st), m);
}

static int ilio_log_op_save_classes(struct ilio_store *st)
{
	return ilio_plog_save_classes(ilio_plog_of(st));
}

static void ilio_log_op_set_coalesce(struct ilio_store *st, int coalesce,
				     u32 flush_interval_ms, u64 max_dirty)
{
	struct ilio_plog *pl = ilio_plog_of(st);

	pl->coalesce = coalesce;
	pl->flush_interval_ms = flush_interval_ms;
	pl->max_dirty = max_t(u64, max_dirty, 2ULL * pl->g.seg_bytes);
}

static void ilio_log_op_destroy(struct ilio_store *st)
{
	ilio_plog_free(ilio_plog_of(st));
}

/*
 * Read the superblock copy that the open used - the first valid one - into
 * @blk.  Return: 0 with *@which set, or -EIO / -EINVAL.
 */
static int ilio_plog_read_sb(struct ilio_plog *pl, void *blk, u64 dev_bytes,
			     int *which)
{
	struct ilio_geom g;
	const char *why;
	int i, ret;

	for (i = 0; i < 2; i++) {
		ret = pl->ops->read(pl->priv, (u64)(ILIO_SB_BLOCK + i) *
				    ILIO_BLOCK_SIZE, blk, ILIO_BLOCK_SIZE);
		if (ret)
			return -EIO;
		if (!ilio_sb_check(blk, ILIO_SB_BLOCK + i, dev_bytes, &g, &why)) {
			*which = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Write superblock block @blk to copy @i and flush; counted like an anchor. */
static int ilio_plog_put_sb(struct ilio_plog *pl, const void *blk, int i)
{
	struct ilio_space *sp = pl->base.sp;
	int ret;

	ret = pl->ops->write(pl->priv, (u64)(ILIO_SB_BLOCK + i) * ILIO_BLOCK_SIZE,
			     blk, ILIO_BLOCK_SIZE);
	if (!ret)
		ret = pl->ops->flush(pl->priv);
	down_write(&sp->lock);
	if (ret)
		pl->error = ret;
	else
		__ilio_plog_count_meta_write(sp);
	up_write(&sp->lock);
	return ret;
}

/*
 * Rewrite both superblock copies for geometry @g (generation, device size
 * and segment count; every other byte of the block in use is kept, features
 * this module does not know included), each made durable before the next:
 * copy 0 first, because every reader (this module, ilioctl) takes the
 * first valid copy.  Until copy 0 is durable the old geometry holds; from
 * then on the new one.  Nothing uses the new segments before this returns.
 */
static int ilio_plog_write_sb(struct ilio_plog *pl, const struct ilio_geom *g)
{
	int ret, i, which;

	mutex_lock(&pl->ckpt_mutex);	/* pl->blk is the anchor writer's too */
	ret = ilio_plog_read_sb(pl, pl->blk, g->dev_blocks * ILIO_BLOCK_SIZE,
				&which);
	for (i = 0; i < 2 && !ret; i++) {
		ilio_sb_rewrite(pl->blk, ILIO_SB_BLOCK + i, g->seq, g->dev_blocks,
				g->nr_segs);
		ret = ilio_plog_put_sb(pl, pl->blk, i);
	}
	mutex_unlock(&pl->ckpt_mutex);
	return ret;
}

/**
 * ilio_plog_sync_sb() - make both superblock copies say the same
 * @pl: a store opened for writing
 * @dev_bytes: the backing device's size
 *
 * After a power cut between the two writes of a grow, copy 1 still names
 * the old geometry (copy 0 is the one in use).  It would be wrong the day
 * copy 0 is damaged: rewrite the other copy from the one in use.  Also
 * repairs a damaged copy.
 *
 * Return: 0 or a write error (sticky).
 */
int ilio_plog_sync_sb(struct ilio_plog *pl, u64 dev_bytes)
{
	int ret, which;
	u8 *other = pl->vbuf;

	mutex_lock(&pl->ckpt_mutex);
	ret = ilio_plog_read_sb(pl, pl->blk, dev_bytes, &which);
	if (!ret)
		ret = pl->ops->read(pl->priv, (u64)(ILIO_SB_BLOCK + 1 - which) *
				    ILIO_BLOCK_SIZE, other, ILIO_BLOCK_SIZE);
	if (!ret) {
		struct ilio_geom g;

		/* Equal but for its block number (and so its checksum)? */
		memcpy(other + 4, pl->blk + 4, 4);
		memcpy(other + 8, pl->blk + 8, 8);
		if (memcmp(other, pl->blk, ILIO_BLOCK_SIZE)) {
			ilio_sb_unpack(pl->blk, &g);
			ilio_sb_rewrite(pl->blk, ILIO_SB_BLOCK + 1 - which, g.seq,
					g.dev_blocks, g.nr_segs);
			ret = ilio_plog_put_sb(pl, pl->blk, 1 - which);
		}
	}
	mutex_unlock(&pl->ckpt_mutex);
	return ret == -EINVAL ? 0 : ret;
}

/*
 * Online grow (the device is suspended): every check first, with what both
 * growths take together, so that a refusal changes nothing; then the
 * backing device (superblock durable before the segment table takes the
 * new segments), then the logical size, whose anchor must name it in both
 * slots before the grown table serves I/O.  A larger backing device whose
 * new space cannot join (RAM budget, memory) does not fail a resume that
 * keeps the logical size: the store goes on as it was, and *@why says why
 * the space waits.  See "Online grow" in ilio-design.rst.
 */
static int ilio_log_op_grow(struct ilio_store *st, u64 nr_blocks,
			    u64 dev_bytes, const char **why)
{
	struct ilio_plog *pl = ilio_plog_of(st);
	struct ilio_space *sp = st->sp;
	u64 dev_blocks = dev_bytes / ILIO_BLOCK_SIZE, nr = 0, map_extra = 0;
	u64 seg_blocks = pl->g.seg_bytes / ILIO_BLOCK_SIZE, seg_extra = 0;
	u64 old_blocks = pl->nr_blocks;
	bool grow_map = nr_blocks > pl->nr_blocks, join;
	struct ilio_segs_growth sg = { 0 };
	struct ilio_geom g = pl->g;
	u32 *wbq = NULL, i;
	int ret = 0;

	if (dev_blocks > pl->g.seg_start)
		nr = min_t(u64, (dev_blocks - pl->g.seg_start) / seg_blocks,
			   ILIO_SEG_MAX);
	join = nr > pl->g.nr_segs;
	if (!join && !grow_map)
		return 0;
	if (grow_map)
		map_extra = ilio_lbamap_dir_bytes(nr_blocks) -
			    ilio_lbamap_dir_bytes(pl->nr_blocks);
	if (join)
		seg_extra = ilio_budget_store_bytes((u32)nr, g.seg_bytes) -
			    ilio_budget_store_bytes(g.nr_segs, g.seg_bytes);

	/* 1. The checks of the open, for both growths together. */
	down_write(&sp->lock);
	if (join)
		ret = ilio_check_store_budget(ilio_lbamap_mem_bytes(&sp->map) +
					      map_extra, sp->ram_limit, (u32)nr,
					      g.seg_bytes, why);
	if (!ret && (ilio_log_op_make_room(st, map_extra + seg_extra) ||
		     !__ilio_ram_allows(sp, map_extra + seg_extra) ||
		     __ilio_meta_bytes(sp) + map_extra + seg_extra +
		     2ULL * g.seg_bytes > sp->ram_limit)) {
		*why = join ? "ram_mb is too small for the segment table of the grown device" :
		       "ram_mb is too small for the LBA map of the new size";
		ret = -E2BIG;
	}
	up_write(&sp->lock);
	/* 2. Everything the join needs, before anything is written. */
	if (!ret && join) {
		wbq = kvcalloc(nr, sizeof(u32), ILIO_GFP_WAIT);
		if (!wbq || ilio_segs_grow_alloc(&sp->segs, (u32)nr, &sg,
						 ILIO_GFP_WAIT)) {
			kvfree(wbq);
			wbq = NULL;
			*why = "out of memory";
			ret = -ENOMEM;
		}
	}
	if (ret) {
		if (grow_map)
			return ret;
		return 0;	/* the new space waits; *why says why */
	}

	/* 3. The join: superblock first, then the tables. */
	if (join) {
		g.seq++;
		g.dev_blocks = dev_blocks;
		g.nr_segs = (u32)nr;
		ret = ilio_plog_write_sb(pl, &g);
		if (ret) {
			kvfree(wbq);
			ilio_segs_grow_free(&sg);
			*why = "writing the superblock failed";
			return ret;
		}
		down_write(&sp->lock);
		__ilio_segs_grow_commit(&sp->segs, &sg);
		/* The ring, in log order from its head, at the new size. */
		for (i = 0; i < pl->wbq_len; i++)
			wbq[i] = pl->wbq[(pl->wbq_head + i) % pl->g.nr_segs];
		kvfree(pl->wbq);
		pl->wbq = wbq;
		pl->wbq_head = 0;
		pl->g = g;
		sp->store_bytes = ilio_plog_mem_bytes(pl);
		up_write(&sp->lock);
		*why = "";
	}
	if (!grow_map)
		return 0;

	/* 4. The logical size: the map, then both anchors. */
	down_write(&sp->lock);
	ret = __ilio_lbamap_grow(&sp->map, nr_blocks);
	if (!ret)
		pl->nr_blocks = nr_blocks;
	up_write(&sp->lock);
	if (ret) {
		*why = "out of memory";
		return ret;
	}
	ret = ilio_plog_anchor_both(pl);
	if (ret) {
		/* No anchor of the new size is durable: the old one holds. */
		down_write(&sp->lock);
		__ilio_lbamap_ungrow(&sp->map, old_blocks);
		pl->nr_blocks = old_blocks;
		up_write(&sp->lock);
	} else {
		ret = ilio_plog_anchor_both(pl);
	}
	if (ret)
		*why = "writing the anchor failed";
	return ret;
}

static const struct ilio_store_ops ilio_log_ops = {
	.reserve = ilio_log_op_reserve,
	.append = ilio_log_op_append,
	.log_map = ilio_log_op_log_map,
	.after_write = ilio_log_op_after_write,
	.make_room = ilio_log_op_make_room,
	.release = ilio_log_op_release,
	.set_ram_limit = ilio_log_op_set_ram_limit,
	.grow = ilio_log_op_grow,
	.stats = ilio_log_op_stats,
	.peek = ilio_log_op_peek,
	.load = ilio_log_op_load,
	.load_locked = ilio_log_op_load_locked,
	.prefetch = ilio_log_op_prefetch,
	.writeback = ilio_log_op_writeback,
	.kick = ilio_log_op_kick,
	.flush = ilio_log_op_flush,
	.reclaim = ilio_log_op_reclaim,
	.gc = ilio_log_op_gc,
	.checkpoint = ilio_log_op_checkpoint,
	.tick = ilio_log_op_tick,
	.quiesce = ilio_log_op_quiesce,
	.error = ilio_log_op_error,
	.read_only = ilio_log_op_read_only,
	.used_fallback = ilio_log_op_used_fallback,
	.set_coalesce = ilio_log_op_set_coalesce,
	.load_classes = ilio_log_op_load_classes,
	.pack_classes = ilio_log_op_pack_classes,
	.save_classes = ilio_log_op_save_classes,
	.destroy = ilio_log_op_destroy,
};

/* Allocate the persistent state over @sp; the geometry is read later. */
static struct ilio_plog *ilio_plog_alloc(struct ilio_space *sp,
					 const struct ilio_core_params *p)
{
	struct ilio_plog *pl = kzalloc(sizeof(*pl), GFP_KERNEL);

	if (!pl)
		return NULL;
	pl->base.ops = &ilio_log_ops;
	pl->base.sp = sp;
	pl->base.persistent = true;
	mutex_init(&pl->wb_mutex);
	init_waitqueue_head(&pl->wb_wait);
	mutex_init(&pl->ckpt_mutex);
	mutex_init(&pl->rbuf_mutex);
	pl->ops = p->bops;
	pl->priv = p->bpriv;
	pl->read_only = p->read_only;
	pl->coalesce = p->coalesce;
	pl->flush_interval_ms = p->flush_interval_ms;
	pl->nr_blocks = p->nr_blocks;
	pl->next_seg = ILIO_SEG_NONE;
	pl->blk = kmalloc(ILIO_BLOCK_SIZE, GFP_KERNEL);
	pl->vbuf = kmalloc(ILIO_BLOCK_SIZE, GFP_KERNEL);
	pl->rbuf = kmalloc(ILIO_RBUF_BYTES, GFP_KERNEL);
	if (!pl->blk || !pl->vbuf || !pl->rbuf) {
		ilio_plog_free(pl);
		return NULL;
	}
	sp->store_bytes = ilio_plog_mem_bytes(pl);
	return pl;
}

/*
 * Recover the maps into @sp (set up, empty) from anchor slot @slot (-1:
 * the newest): replay its chain and rebuild everything derived.  Writes
 * nothing.  On success pl->next_seq is one past the chain's last unit.
 * On failure @sp may hold part of the state: the caller resets it.
 */
static struct ilio_plog *ilio_log_recover(struct ilio_space *sp,
					  const struct ilio_core_params *p,
					  struct ilio_anchors *an, int slot,
					  int *err, const char **why)
{
	struct ilio_anchor_info a;
	struct ilio_plog *pl;
	int ret;

	*why = "out of memory";
	pl = ilio_plog_alloc(sp, p);
	ret = pl ? ilio_cache_init(&sp->cache, p->ram_limit, &sp->lock) : -ENOMEM;
	if (ret)
		goto fail;
	sp->cache.chunks = &sp->chunks;	/* classes place new entries */
	sp->cached = true;

	ret = ilio_plog_read_meta(pl, p->dev_bytes, an, why);
	if (ret)
		goto fail;
	/* The superblock's key (0 for a store formatted before keyed hashing). */
	sp->hash_seed = pl->g.hash_seed;
	ret = ilio_anchors_size_check(an, p->nr_blocks, why);
	if (ret)
		goto fail;
	if (slot < 0)
		slot = an->newest;
	if (an->state[slot] != ILIO_SLOT_VALID) {
		*why = "internal: recovery from an invalid anchor";
		ret = -EINVAL;
		goto fail;
	}
	a = an->a[slot];
	/* The next anchor goes to the other slot, with a higher seq than both. */
	pl->anchor_slot = slot;
	pl->anchor_seq = a.seq;
	if (an->state[1 - slot] == ILIO_SLOT_VALID)
		pl->anchor_seq = max(a.seq, an->a[1 - slot].seq);
	pl->anchor = a;
	ret = ilio_plog_geom_fits(pl, why);
	if (!ret)
		ret = ilio_segs_init_disk(&sp->segs, pl->g.nr_segs, pl->g.seg_bytes,
					  &sp->lock);
	if (ret)
		goto fail;
	pl->sum_cap = pl->g.seg_bytes / sizeof(struct ilio_sum_ent);
	pl->sum = kvcalloc(pl->sum_cap, sizeof(*pl->sum), GFP_KERNEL);
	pl->wbq = kvcalloc(pl->g.nr_segs, sizeof(u32), GFP_KERNEL);
	pl->buf = vmalloc(pl->g.seg_bytes);
	if (!pl->sum || !pl->wbq || !pl->buf) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = ilio_journal_open(pl, p, why);
	if (ret)
		goto fail;
	sp->store_bytes = ilio_plog_mem_bytes(pl);
	pl->max_dirty = max_t(u64, p->max_dirty, 2ULL * pl->g.seg_bytes);
	pl->epoch = a.epoch;

	ret = ilio_replay(pl, &a, why);
	if (!ret) {
		down_write(&sp->lock);
		ret = __ilio_rebuild(pl, a.log_seq, why);
		/* Metadata with the reserve buffer, and one more segment. */
		if (!ret && __ilio_ram_used(sp) + pl->g.seg_bytes >
		    sp->ram_limit) {
			*why = "ram_mb is too small for the metadata of this store";
			ret = -E2BIG;
		}
		up_write(&sp->lock);
	}
	an->chain_damaged = ret == -EINVAL;
	if (ret)
		goto fail;
	pl->ckpt_start_seq = a.log_seq;
	pl->prev_ckpt_start = a.log_seq;
	pl->written_seq = pl->next_seq - 1;
	pl->durable_seq = pl->written_seq;
	pl->closed_seq = pl->written_seq;
	return pl;
fail:
	*err = ret;
	ilio_plog_free(pl);
	return NULL;
}

/*
 * May recovery use the older anchor @o because the newest one, @n, failed?
 * Only when the older chain provably covers everything the newer anchor
 * made durable: it is the same chain (same epoch, so the newer checkpoint
 * and everything after it are units of the older anchor's chain too) and
 * its replay went past the newer checkpoint's last unit, so that from
 * there on both replays read the very same units.  Replay from @o then
 * ends where replay from @n would have ended.
 */
static bool ilio_fallback_covers(const struct ilio_anchor_info *n,
				 const struct ilio_anchor_info *o, u64 next_seq)
{
	return o->epoch == n->epoch && o->seq < n->seq && n->ckpt_end &&
	       next_seq > n->ckpt_end;
}

/**
 * ilio_log_open() - open (recover) the persistent store on a space
 * @sp: the core's space, set up and empty
 * @p: parameters, with @bops set
 * @err: set on failure: -ENOENT (not an ilio device), -EINVAL (damaged,
 *	or another size than @p), -EIO, -ENOMEM, -E2BIG (RAM budget too
 *	small)
 * @why: set on failure: a static string for the admin
 *
 * DOC: recovery rules
 *
 * - A size mismatch is always a refusal, never a reason to try another
 *   anchor.  The size is the newest valid anchor's; the other anchor may
 *   record a smaller one (an online grow that stopped between its two
 *   anchor writes), never a larger one.
 * - An I/O error while reading the metadata or the log fails the open; it
 *   never opens an older state.
 * - The newest valid anchor is replayed.  If its chain is damaged, the
 *   other anchor is used only when its chain provably covers everything
 *   the newest one made durable (ilio_fallback_covers()); otherwise the
 *   open is refused and nothing is written.
 * - A slot that fails validation but is not blank (all zeroes, as format
 *   leaves it) is damaged.  The remaining valid anchor is used only if it
 *   is not the format anchor: every completed open writes the new epoch's
 *   anchor into both slots, so the other valid anchor of a completed open
 *   is of the same chain as the damaged one, and its replay covers it.
 * - Nothing is written (no new epoch, no checkpoint) until the recovered
 *   state has passed replay and rebuild.  Unless @p->read_only, the open
 *   then starts a new chain (a fresh epoch) with a checkpoint, and names
 *   it in both anchor slots, so that units of the old chain that were
 *   never acknowledged can never be mistaken for new ones and no anchor
 *   of an older chain survives as a fallback.
 *
 * Return: the store, or NULL (@sp is then still set up: the caller exits
 * it).
 */
static struct ilio_store *ilio_log_open(struct ilio_space *sp,
					const struct ilio_core_params *p,
					int *err, const char **why)
{
	struct ilio_anchors an;
	struct ilio_plog *pl;
	const char *why2;
	int n, o, err2, ret;

	an.newest = -1;
	an.chain_damaged = false;
	pl = ilio_log_recover(sp, p, &an, -1, err, why);
	if (!pl && (!an.chain_damaged || an.newest < 0))
		return NULL;	/* I/O error, size, memory, no anchor: final */
	n = an.newest;
	o = 1 - n;
	if (an.state[o] == ILIO_SLOT_DAMAGED && !an.a[n].ckpt_end &&
	    !an.a[n].nr_blocks) {
		/* Only the format anchor is valid: never open an empty store. */
		ilio_plog_free(pl);
		*err = -EINVAL;
		*why = "an anchor is damaged, the other is the format one (reformat if never used)";
		return NULL;
	}
	if (!pl) {
		struct ilio_anchors an2;

		if (an.state[o] != ILIO_SLOT_VALID)
			return NULL;
		/* Start again from empty maps, with the older anchor. */
		ilio_space_exit(sp);
		if (ilio_space_init(sp, p->nr_blocks, p->ram_limit, p->seg_bytes))
			return NULL;	/* report the newest anchor's problem */
		pl = ilio_log_recover(sp, p, &an2, o, &err2, &why2);
		if (!pl)
			return NULL;
		if (!ilio_fallback_covers(&an.a[n], &an.a[o], pl->next_seq)) {
			ilio_plog_free(pl);
			return NULL;
		}
		pl->fallback = true;
	}
	if (p->read_only)
		return &pl->base;
	/*
	 * A grow cut between its superblock writes left copy 1 stale.  Its
	 * reads come before the open's first write: a read error still
	 * fails the open without writing.
	 */
	ret = ilio_plog_sync_sb(pl, p->dev_bytes);
	pl->epoch = get_random_u64();
	if (!ret)
		ret = ilio_log_checkpoint(pl);
	if (!ret)
		ret = ilio_plog_anchor_both(pl);
	/* What replay took from the journal is now durable on the LUN. */
	if (!ret)
		ret = ilio_journal_reset(pl);
	if (ret) {
		*err = ret;
		*why = ret == -ENOSPC ?
			"no free space on the backing device for a checkpoint" :
			"cannot write to the backing device";
		ilio_plog_free(pl);
		return NULL;
	}
	return &pl->base;
}

/* The store of persistent mode. */
const struct ilio_store_type ilio_log_store = {
	.name = "log",
	.open = ilio_log_open,
	.precheck = ilio_log_precheck,
};
